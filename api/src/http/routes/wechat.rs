//! WeChat mini-program sign-in (`POST /api/v1/auth/wechat`); the exchange
//! with WeChat and the binding rules are in `service::wechat`.

use actix_web::{HttpResponse, web};

use crate::http::auth::MaybeCaller;
use crate::http::routes::auth::sessions_of;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::wechat::{self, WechatLogin};

/// Tokens for the bound user; with a user's access token, binds the openid
/// to that user first.
pub async fn login(
    state: web::Data<AppState>,
    // Before the body: a client's token is refused whatever it sends (the
    // route table refuses API clients here).
    binder: MaybeCaller,
    body: web::Json<WechatLogin>,
) -> Result<HttpResponse, ApiError> {
    let binder = binder.0.map(|c| c.user_id);
    let pair = wechat::login(
        sessions_of(&state),
        &state.wechat,
        binder,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(pair))
}
