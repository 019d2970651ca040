//! Protection at the edge, one middleware in front of every route: rate
//! limits (per API client, per IP, stricter on sign-in routes) with 429 and
//! `Retry-After`; `Idempotency-Key` replays on the POST routes that create
//! things; ETags and `If-None-Match` on listing and match reads.

use std::net::IpAddr;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use governor::clock::{Clock, DefaultClock};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::http::state::AppState;
use crate::service::error::Status;
use crate::service::error::{ApiError, Code};
use crate::store::idempotency::{self, Begin};
use crate::store::now;

/// Sign-in and registration routes: a stricter per-IP limit of their own.
pub const AUTH_ROUTES: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/wechat",
    "/api/v1/oauth/token",
    "/api/v1/firms/register",
    "/api/v1/auth/reset-password",
    "/api/v1/firms/join",
];

/// POST routes that create something: an `Idempotency-Key` replays the
/// first answer.
pub const CREATING_ROUTES: &[&str] = &[
    "/api/v1/communities",
    "/api/v1/communities/{id}/staff",
    "/api/v1/firms/register",
    "/api/v1/firms/{id}/members",
    "/api/v1/listings",
    "/api/v1/threads",
    "/api/v1/threads/{id}/messages",
    "/api/v1/clients",
    "/api/v1/webhooks",
    "/api/v1/webhooks/{id}/ping",
    "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
    "/api/v1/clients/{id}/webhooks",
    "/api/v1/clients/{id}/webhooks/{webhook_id}/ping",
    "/api/v1/clients/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/resend",
];

/// POST routes whose answers carry a secret or a token: `Cache-Control:
/// no-store` on every answer, replays included.
pub const SECRET_ROUTES: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/wechat",
    "/api/v1/oauth/token",
    "/api/v1/events/ticket",
    "/api/v1/clients",
    "/api/v1/clients/{id}/rotate",
    "/api/v1/webhooks",
    "/api/v1/clients/{id}/webhooks",
    "/api/v1/communities/{id}/staff",
    "/api/v1/districts/{id}/admins",
];

/// The secret shown once in the answer of a creating route: the stored
/// answer that `Idempotency-Key` replays has it null, so no secret sits in
/// the idempotency table (nor is answered twice).
const SHOWN_ONCE: &[(&str, &str)] = &[
    ("/api/v1/clients", "client_secret"),
    ("/api/v1/webhooks", "secret"),
    ("/api/v1/clients/{id}/webhooks", "secret"),
    ("/api/v1/communities/{id}/staff", "invite"),
];

/// Reads that answer an `ETag` and honour `If-None-Match`.
pub const ETAG_ROUTES: &[&str] = &[
    "/api/v1/listings",
    "/api/v1/listings/{id}",
    "/api/v1/listings/{id}/matches",
    "/api/v1/matches",
    "/api/v1/matches/{id}",
];

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

fn refused<C: Clock>(
    r: Result<(), governor::NotUntil<C::Instant>>,
    clock: &C,
) -> Result<(), ApiError>
where
    C::Instant: governor::clock::Reference,
{
    r.map_err(|n| {
        let wait = n.wait_time_from(clock.now());
        ApiError::too_many(wait.as_secs() + 1, "请求过于频繁，请稍后再试")
    })
}

/// The client's address: the configured trusted proxy header when set and
/// well-formed (its last entry, which that proxy wrote), else the peer.
pub fn client_ip(req: &ServiceRequest, config: &Config) -> Option<IpAddr> {
    client_address(req.request(), config)
}

/// [`client_ip`] of a request inside a handler.
pub fn client_address(req: &HttpRequest, config: &Config) -> Option<IpAddr> {
    if let Some(name) = &config.trusted_proxy_header {
        let from_header = req
            .headers()
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if from_header.is_some() {
            return from_header;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

fn bearer(req: &ServiceRequest) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn check_limits(
    state: &AppState,
    req: &ServiceRequest,
    pattern: Option<&str>,
    claims: Option<&crate::service::tokens::Claims>,
) -> Result<(), ApiError> {
    let clock = DefaultClock::default();
    let ip = client_ip(req, &state.config);
    if let (Some(ip), Some(p)) = (ip, pattern)
        && AUTH_ROUTES.contains(&p)
    {
        refused(state.limits.auth.check_key(&ip), &clock)?;
    }
    match claims.and_then(|c| c.cid.as_ref()) {
        Some(cid) => refused(state.limits.client.check_key(cid), &clock),
        None => match ip {
            Some(ip) => refused(state.limits.ip.check_key(&ip), &clock),
            None => Ok(()),
        },
    }
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let secret = req.method() == Method::POST
        && req
            .match_pattern()
            .is_some_and(|p| SECRET_ROUTES.contains(&p.as_str()));
    let mut res = protect(req, next).await?;
    if secret {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

async fn protect(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let pattern = req.match_pattern();
    let claims = bearer(&req).and_then(|t| state.jwt.verify(t).ok());
    if let Err(e) = check_limits(&state, &req, pattern.as_deref(), claims.as_ref()) {
        return Ok(req.error_response(e));
    }
    // A client's token dies with its client (revoked, or secret rotated).
    if let Some(c) = claims.as_ref()
        && let Some(cid) = &c.cid
        && let Err(e) = crate::service::access::ensure_client_live(&state.db, cid, c.crot).await
    {
        return Ok(req.error_response(e));
    }
    // A user's token dies with its session version (removed from the firm,
    // password changed or reset, account deleted): one primary-key read.
    if let Some(c) = claims.as_ref()
        && c.cid.is_none()
        && let Err(e) =
            crate::service::lifecycle::ensure_session_live(&state.db, &c.sub, c.sv).await
    {
        return Ok(req.error_response(e));
    }
    let Some(pattern) = pattern else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };

    if req.method() == Method::POST
        && CREATING_ROUTES.contains(&pattern.as_str())
        && let Some(key) = req.headers().get("idempotency-key")
    {
        let key = match key.to_str().map(str::trim) {
            Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => k.to_string(),
            _ => {
                return Ok(req.error_response(ApiError::bad_request(
                    Code::InvalidIdempotencyKey,
                    "Idempotency-Key 须为 1–255 个可见字符",
                )));
            }
        };
        // Keys are per caller: per user (or client), else per address.
        let principal = match &claims {
            Some(c) => format!("u:{}", c.sub),
            None => format!(
                "ip:{}",
                client_ip(&req, &state.config).map_or_else(String::new, |ip| ip.to_string())
            ),
        };
        return idempotent(state, req, next, &pattern, principal, key).await;
    }

    if req.method() == Method::GET && ETAG_ROUTES.contains(&pattern.as_str()) {
        let if_none_match = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let res = next.call(req).await?;
        return with_etag(res, if_none_match).await;
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The whole body of `req` (at most `limit` bytes), taken from its payload.
pub(crate) async fn read_body(
    req: &mut ServiceRequest,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    use futures_util::StreamExt;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(Code::InvalidBody, e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::new(
                Status::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                "请求体过大",
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

async fn idempotent(
    state: web::Data<AppState>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    pattern: &str,
    principal: String,
    key: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let body = match read_body(&mut req, state.config.body_limit_bytes).await {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update(b" ");
    h.update(req.path());
    h.update(b"\n");
    h.update(&body);
    let fingerprint = hex::encode(h.finalize());
    req.set_payload(Payload::from(body));

    let (p, k) = (principal.clone(), key.clone());
    let keep = idempotency::keep(state.config.retention.idempotency_hours);
    let begun = state
        .db
        .run(move |c| idempotency::begin(c, &p, &k, &fingerprint, now(), keep))
        .await;
    match begun {
        Err(e) => return Ok(req.error_response(ApiError::from(e))),
        Ok(Begin::Mismatch) => {
            return Ok(req.error_response(ApiError::new(
                Status::UNPROCESSABLE_ENTITY,
                Code::IdempotencyKeyReused,
                "该 Idempotency-Key 已用于另一个请求",
            )));
        }
        Ok(Begin::InProgress) => {
            return Ok(req.error_response(ApiError::conflict(
                Code::IdempotencyInProgress,
                "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
            )));
        }
        Ok(Begin::Replay(status, content_type, body)) => {
            let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
            let res = HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, content_type))
                .insert_header(("idempotent-replayed", "true"))
                .body(body);
            return Ok(req.into_response(res));
        }
        Ok(Begin::First) => {}
    }

    let res = next.call(req).await;
    let res = match res {
        Ok(r) if r.status().is_success() => r,
        other => {
            // Failed: free the key so that a retry is answered afresh.
            let db = state.db.clone();
            let _ = db
                .run(move |c| idempotency::abandon(c, &principal, &key))
                .await;
            return Ok(other?.map_into_boxed_body());
        }
    };
    let (http_req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            return Err(actix_web::error::ErrorInternalServerError("response body"));
        }
    };
    let status = res.status().as_u16() as i32;
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let text = stored_form(pattern, &String::from_utf8_lossy(&bytes));
    let stored = state
        .db
        .run(move |c| idempotency::finish(c, &principal, &key, status, &content_type, &text))
        .await;
    if let Err(e) = stored {
        tracing::warn!(error = %e, "cannot store the idempotent answer");
    }
    Ok(ServiceResponse::new(http_req, res.set_body(bytes)).map_into_boxed_body())
}

/// The answer as the idempotency table keeps it: without the secret that
/// is shown once (null in its place).
fn stored_form(pattern: &str, body: &str) -> String {
    let Some((_, field)) = SHOWN_ONCE.iter().find(|(p, _)| *p == pattern) else {
        return body.to_string();
    };
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert((*field).to_string(), serde_json::Value::Null);
            }
            v.to_string()
        }
        // Not the JSON these routes answer: keep nothing of it.
        Err(_) => "{}".to_string(),
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

async fn with_etag(
    res: ServiceResponse<impl MessageBody + 'static>,
    if_none_match: Option<String>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("response body"))?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let value = HeaderValue::from_str(&etag)
        .map_err(|_| actix_web::error::ErrorInternalServerError("etag"))?;
    if if_none_match.is_some_and(|v| matches_etag(&v, &etag)) {
        let not_modified = HttpResponse::NotModified()
            .insert_header((header::ETAG, value))
            .finish();
        return Ok(ServiceResponse::new(http_req, not_modified));
    }
    res.headers_mut().insert(header::ETAG, value);
    Ok(ServiceResponse::new(http_req, res.set_body(bytes)).map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_answers_keep_no_secret() {
        let body = r#"{"id":"c1","client_secret":"zqs_abc","scopes":["listings:read"]}"#;
        let kept = stored_form("/api/v1/clients", body);
        assert!(!kept.contains("zqs_abc"), "{kept}");
        let v: serde_json::Value = serde_json::from_str(&kept).expect("JSON");
        assert_eq!(v["id"], "c1");
        assert!(v["client_secret"].is_null());
        let hook = stored_form("/api/v1/webhooks", r#"{"id":"w1","secret":"whsec_x"}"#);
        assert!(!hook.contains("whsec_x"), "{hook}");
        assert_eq!(stored_form("/api/v1/clients", "not json"), "{}");
        // Other routes keep their answer as it was.
        let listing = r#"{"id":"l1","title":"t"}"#;
        assert_eq!(stored_form("/api/v1/listings", listing), listing);
        // Every creating route that answers a secret names it.
        for p in CREATING_ROUTES.iter().filter(|p| SECRET_ROUTES.contains(p)) {
            assert!(SHOWN_ONCE.iter().any(|(s, _)| s == p), "{p}");
        }
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        assert!(matches_etag("\"a\"", "\"a\""));
        assert!(matches_etag("\"x\", W/\"a\"", "\"a\""));
        assert!(matches_etag("*", "\"a\""));
        assert!(!matches_etag("\"b\"", "\"a\""));
    }
}
