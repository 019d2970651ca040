//! WeChat mini-program sign-in (`POST /api/v1/auth/wechat`) and the
//! user's subscribe-message consents (`/api/v1/me/wechat-subscriptions`);
//! the rules are in `service::wechat` and `service::wechat_subscribe`.

use actix_web::{HttpResponse, web};

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::routes::auth::sessions_of;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::wechat::{self, WechatLogin};
use crate::service::wechat_subscribe::{self as subscribe, Answers, Switch};

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

/// The topics this service can alert about, with the user's consent.
pub async fn subscriptions(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let out = subscribe::list(&state.db, &state.config, caller.user_id).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Records what `wx.requestSubscribeMessage` answered.
pub async fn answer(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Answers>,
) -> Result<HttpResponse, ApiError> {
    let out =
        subscribe::answer(&state.db, &state.config, caller.user_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The user turns a topic on or off.
pub async fn switch(
    state: web::Data<AppState>,
    caller: Caller,
    topic: web::Path<String>,
    body: web::Json<Switch>,
) -> Result<HttpResponse, ApiError> {
    let out = subscribe::switch(
        &state.db,
        &state.config,
        caller.user_id,
        topic.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}
