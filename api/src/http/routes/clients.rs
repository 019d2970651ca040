//! API clients of third-party apps and the OAuth 2.0 client-credentials
//! grant. The rules are in `service::clients`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::clients::{self, CreateClient, ListQuery, TokenRequest, UsageQuery};
use crate::service::error::ApiError;

/// `POST /api/v1/clients`: a client for one firm or one community; the
/// secret is in this answer only.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let out = clients::create(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// `GET /api/v1/clients`: staff see their community's, admins all.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(clients::list(&state.db, &caller, q.into_inner()).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(clients::get(&state.db, &caller, id.into_inner()).await?))
}

/// `POST /api/v1/clients/{id}/rotate`: a new secret; the old one, the
/// tokens and stream tickets issued for it and the streams they opened stop
/// working at once.
pub async fn rotate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = clients::rotate(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// `POST /api/v1/clients/{id}/revoke`: for good (idempotent); its tokens,
/// stream tickets and open streams end at once.
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(clients::revoke(&state.db, &caller, id.into_inner()).await?))
}

/// `GET /api/v1/clients/{id}/usage`: requests, errors and tokens per day.
pub async fn usage(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), q.into_inner());
    let out = clients::usage(&state.db, &state.usage, &caller, id, q).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Client id and secret from HTTP Basic, else from the form.
fn credentials(req: &HttpRequest, form: &TokenRequest) -> Option<(String, String)> {
    if let Some(v) = req.headers().get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, rest) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_string(), secret.to_string()));
    }
    Some((form.client_id.clone()?, form.client_secret.clone()?))
}

/// `POST /api/v1/oauth/token`: `grant_type=client_credentials` with the
/// client's id and secret (HTTP Basic or form fields); `scope` may narrow
/// what the client was granted.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let presented = credentials(&req, &form);
    let out = clients::token(&state.db, &state.jwt, presented, form).await?;
    state.usage.token(&out.client_id);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}
