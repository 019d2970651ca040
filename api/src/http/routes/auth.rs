//! Sign-in, token refresh with rotation, sign-out, and who-am-I. The rules
//! are in `service::sessions`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::sessions::{self, LoginRequest, RefreshRequest, Sessions};

/// The session issuer over this node's handles.
pub fn sessions_of(state: &AppState) -> Sessions<'_> {
    Sessions {
        db: &state.db,
        jwt: &state.jwt,
        config: &state.config,
        dummy_hash: &state.dummy_hash,
    }
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let from = crate::http::protect::client_address(&req, &state.config);
    let pair = sessions::login(sessions_of(&state), from, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(pair))
}

pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions::refresh(sessions_of(&state), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Revokes the refresh-token family; answers 204 whether or not the token
/// was known, so the endpoint reveals nothing.
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    sessions::logout(&state.db, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sessions::me(&state.db, &caller).await?))
}
