//! Who is calling: the `Caller` extractor turns a bearer token into an
//! authenticated principal, so a handler that takes `Caller` cannot forget
//! authentication, and one that does not take it is public by construction.
//! The principal itself and its rights are the service's
//! ([`crate::service::access`]); this module reads them off the request.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::http::state::AppState;
pub use crate::service::access::{Caller, ClientGrant, FirmMembership, FirmRole};
use crate::service::error::{ApiError, Code};
use crate::service::tokens::TokenError;
use crate::store::scopes::ClientAccess;

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(Code::Unauthenticated, "需要登录：缺少 Authorization 头")
        })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized(Code::InvalidToken, "Authorization 头无法解析"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized(Code::InvalidToken, "Authorization 须为 Bearer 令牌")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            Code::InvalidToken,
            "Authorization 须为 Bearer 令牌",
        ));
    }
    Ok(token.trim())
}

/// An API client may call a route only with the scope the route table
/// names for it; users' tokens pass (their roles decide in the handler).
pub fn check_client_access(req: &HttpRequest, caller: &Caller) -> Result<(), ApiError> {
    let Some(grant) = &caller.client else {
        return Ok(());
    };
    let access = req
        .match_pattern()
        .and_then(|p| crate::http::routes::client_access(req.method().as_str(), &p))
        .unwrap_or(ClientAccess::Users);
    match access {
        ClientAccess::Open => Ok(()),
        ClientAccess::Users => Err(ApiError::new(
            crate::service::error::Status::FORBIDDEN,
            Code::InsufficientScope,
            "该接口不对 API 客户端开放",
        )),
        ClientAccess::Needs(s) if grant.scopes.contains(s) => Ok(()),
        ClientAccess::Needs(s) => Err(ApiError::new(
            crate::service::error::Status::FORBIDDEN,
            Code::InsufficientScope,
            format!("该 API 客户端缺少权限范围 {s}"),
        )),
    }
}

/// The caller of a request with a bearer token.
pub fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let caller = authenticate_token(req)?;
    check_client_access(req, &caller)?;
    Ok(caller)
}

fn authenticate_token(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(req)?;
    match state.jwt.verify(token) {
        Ok(claims) => {
            let caller = Caller::from_claims(claims);
            if let Some(g) = &caller.client {
                crate::http::usage::mark(req, &g.client_id);
            }
            Ok(caller)
        }
        Err(TokenError::Expired) => Err(ApiError::unauthorized(
            Code::TokenExpired,
            "访问令牌已过期，请刷新",
        )),
        Err(TokenError::Invalid) => Err(ApiError::unauthorized(Code::InvalidToken, "访问令牌无效")),
    }
}

/// The caller when the request carries a token (a bad one is refused),
/// `None` without one: for routes that are public but act differently for
/// a signed-in user.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Ready<Result<MaybeCaller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req
            .headers()
            .contains_key(actix_web::http::header::AUTHORIZATION)
        {
            ready(authenticate(req).map(|c| MaybeCaller(Some(c))))
        } else {
            ready(Ok(MaybeCaller(None)))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
