//! The community staff web console: the files of `web/`, embedded in the
//! binary so that the server alone serves a working console at `/console`.
//!
//! The files have no content hash in their names (there is no build step),
//! so every response is `no-cache` with a strong ETag: browsers revalidate
//! and get a 304 until the binary changes. The console is not part of the
//! API contract (`routes::ROUTES`), so it is registered here.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::Embed;

use crate::service::error::Status;
use crate::service::error::{ApiError, Code};

#[derive(Embed)]
#[folder = "../web/"]
struct Assets;

/// What the console's pages may load and talk to: this origin only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Registers `/console`, `/console/` and `/console/{path}` (GET and HEAD).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in ["/console", "/console/", "/console/{path:.*}"] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(serve))
                .route(web::head().to(serve))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().get("path").unwrap_or("");
    let name = if path.is_empty() { "index.html" } else { path };
    // Directory listings and dot files are never served.
    if name.ends_with('/') || name.split('/').any(|seg| seg.starts_with('.')) {
        return Err(not_found(&req));
    }
    let Some(file) = Assets::get(name) else {
        return Err(not_found(&req));
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let fresh = if_none_match(&req, &etag);
    let mut resp = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED)
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::CONTENT_TYPE, content_type(name)))
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if name.ends_with(".html") {
        resp.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    if fresh {
        return Ok(resp.finish());
    }
    // For HEAD, actix sends the headers (with the length) and no body.
    Ok(resp.body(file.data.into_owned()))
}

/// `If-None-Match` names this ETag (or `*`).
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// The content type of a served file, by its extension.
pub(crate) fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub(crate) fn not_found(req: &HttpRequest) -> ApiError {
    ApiError::new(
        Status::NOT_FOUND,
        Code::RouteNotFound,
        format!("没有这个文件：{}", req.path()),
    )
}

pub(crate) async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        Status::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        format!("{} 不支持 {} 方法", req.path(), req.method()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_a_known_content_type() {
        let names: Vec<String> = Assets::iter().map(|n| n.into_owned()).collect();
        assert!(names.iter().any(|n| n == "index.html"), "{names:?}");
        for n in &names {
            assert_ne!(
                content_type(n),
                "application/octet-stream",
                "{n} would be served without a content type"
            );
        }
    }

    #[test]
    fn index_loads_only_files_that_ship() {
        let index = Assets::get("index.html").expect("index.html");
        let text = std::str::from_utf8(&index.data).expect("utf-8");
        for attr in ["src=\"", "href=\""] {
            for part in text.split(attr).skip(1) {
                let url = part.split('"').next().unwrap_or_default();
                let rel = url
                    .strip_prefix("/console/")
                    .unwrap_or_else(|| panic!("{url} is not under /console/"));
                assert!(Assets::get(rel).is_some(), "{url} does not ship");
            }
        }
    }

    #[test]
    fn scripts_import_only_files_that_ship() {
        for name in Assets::iter().filter(|n| n.ends_with(".js")) {
            let file = Assets::get(&name).expect("listed file");
            let text = std::str::from_utf8(&file.data).expect("utf-8");
            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines().filter(|l| l.contains(" from '")) {
                let spec = line
                    .split(" from '")
                    .nth(1)
                    .and_then(|s| s.split('\'').next());
                let Some(spec) = spec else { continue };
                assert!(
                    spec.starts_with('.'),
                    "{name} imports {spec}: only relative imports of shipped files"
                );
                let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    Assets::get(&target).is_some(),
                    "{name} imports {spec} ({target}), which does not ship"
                );
            }
        }
    }
}
