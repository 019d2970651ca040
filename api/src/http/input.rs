//! Screens every request's text before any handler sees it: NUL and other
//! control characters are refused in the path (404), the query string and
//! JSON or form bodies (422), on both backends alike (PostgreSQL cannot
//! store NUL in text, SQLite can; neither should hold them).
//!
//! Line breaks and tabs (`\n`, `\r`, `\t`) pass here because descriptions
//! and messages may hold them; single-line fields refuse them in their own
//! validation (`validate::Errors::line`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use serde_json::Value;
use zhiqilian_matcher::FieldError;

use crate::http::state::AppState;
use crate::service::error::{ApiError, MAX_LISTED_ERRORS};
pub use crate::service::validate::{CONTROL_CHARACTER, forbidden_char, has_forbidden};

const MESSAGE: &str = "不能包含控制字符（如 NUL）";

/// Percent-decodes `raw` (with `+` as a space when `plus` is set), lossily
/// as UTF-8: only the characters matter here, not the exact bytes.
fn decode(raw: &str, plus: bool) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fields of an `a=b&c=d` string whose name or value holds a control
/// character.
fn bad_pairs(raw: &str) -> Vec<FieldError> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k, true), decode(v, true));
            (has_forbidden(&k) || has_forbidden(&v)).then(|| {
                let name: String = k.chars().filter(|c| !forbidden_char(*c)).collect();
                FieldError::new(name, CONTROL_CHARACTER, MESSAGE)
            })
        })
        .collect()
}

/// Walks a JSON value and collects the paths (`admin.name`, `items[2]`) of
/// strings and keys that hold a control character, up to `cap`.
fn bad_json(v: &Value, path: &mut String, out: &mut Vec<FieldError>, cap: usize) {
    if out.len() >= cap {
        return;
    }
    match v {
        Value::String(s) if has_forbidden(s) => {
            let field = if path.is_empty() { "body" } else { path };
            out.push(FieldError::new(field, CONTROL_CHARACTER, MESSAGE));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                bad_json(item, path, out, cap);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if has_forbidden(k) {
                    path.extend(k.chars().filter(|c| !forbidden_char(*c)));
                    out.push(FieldError::new(path.as_str(), CONTROL_CHARACTER, MESSAGE));
                } else {
                    path.push_str(k);
                    bad_json(item, path, out, cap);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

enum BodyKind {
    Json,
    Form,
}

fn body_kind(req: &ServiceRequest) -> Option<BodyKind> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = ct.split(';').next()?.trim().to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Some(BodyKind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else {
        None
    }
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn screen(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Path segments are ids and names: a control character in one names
    // nothing that exists.
    if has_forbidden(&decode(req.path(), false)) {
        return Ok(req.error_response(ApiError::not_found("对象")));
    }
    let bad = bad_pairs(req.query_string());
    if !bad.is_empty() {
        return Ok(req.error_response(ApiError::validation(bad)));
    }
    if let Some(kind) = body_kind(&req) {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(256 * 1024, |s| s.config.body_limit_bytes);
        let body = match crate::http::protect::read_body(&mut req, limit).await {
            Ok(b) => b,
            Err(e) => return Ok(req.error_response(e)),
        };
        let bad = match kind {
            BodyKind::Form => std::str::from_utf8(&body)
                .map(bad_pairs)
                .unwrap_or_default(),
            // What does not parse is left to the extractor, which says why.
            BodyKind::Json => match serde_json::from_slice::<Value>(&body) {
                Ok(v) => {
                    let mut out = Vec::new();
                    bad_json(&v, &mut String::new(), &mut out, MAX_LISTED_ERRORS);
                    out
                }
                Err(_) => Vec::new(),
            },
        };
        if !bad.is_empty() {
            return Ok(req.error_response(ApiError::validation(bad)));
        }
        req.set_payload(Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_finds_controls() {
        assert!(has_forbidden(&decode("/api/v1/communities/a%00b", false)));
        assert!(has_forbidden(&decode("/x/%7F", false)));
        assert!(has_forbidden(&decode("/x/%C2%85", false)));
        assert!(!has_forbidden(&decode("/x/%E5%A4%A7%E6%B8%AF", false)));
        assert!(!has_forbidden(&decode("/x/100%", false)));
        assert!(!has_forbidden(&decode("/x/%zz", false)));
        assert_eq!(decode("a+b%20c", true), "a b c");
    }

    #[test]
    fn query_pairs() {
        assert!(bad_pairs("q=%E5%8F%89%E8%BD%A6&limit=5").is_empty());
        let bad = bad_pairs("q=a%00b&limit=5&x%01=1");
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].field, "q");
        assert_eq!(bad[1].field, "x");
    }

    #[test]
    fn json_paths() {
        let v: Value = serde_json::from_str(
            r#"{"title":"a\u0000","description":"line\nnext\tcol","admin":{"name":"\u001b[31m"},"tags":["ok","\u0085"]}"#,
        )
        .expect("json");
        let mut out = Vec::new();
        bad_json(&v, &mut String::new(), &mut out, 50);
        let fields: Vec<&str> = out.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["admin.name", "tags[1]", "title"]);
    }
}
