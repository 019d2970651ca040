//! The caller's notification feed: new match suggestions, messages,
//! brokered contacts, verifications and (for staff) new cases. Each is also
//! delivered live on `GET /api/v1/events` as a `notification` event.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::notifications;
use crate::service::pagination;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub unread: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/notifications`: newest first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode(q.cursor.as_deref())?;
    let unread_only = q.unread == Some(true);
    let page = notifications::feed_on(&state.db, &caller, unread_only, before, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/notifications/{id}/read`.
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = notifications::mark_read_on(&state.db, &caller, Some(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/notifications/read-all`.
pub async fn mark_all_read(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let out = notifications::mark_read_on(&state.db, &caller, None).await?;
    Ok(HttpResponse::Ok().json(out))
}
