//! The caller's notification feed: new match suggestions, messages,
//! brokered contacts, verifications and (for staff) new cases. Each is also
//! delivered live on `GET /api/v1/events` as a `notification` event.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::pagination;
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::notifications::{NotificationOut, notification_out};
use crate::store::notifications as store;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub unread: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct FeedPage {
    pub items: Vec<NotificationOut>,
    pub next_cursor: Option<String>,
    pub unread_count: i64,
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
    let user = caller.user_id.clone();
    let (rows, unread_count) = state
        .db
        .run(move |c| {
            let rows = store::list(c, &user, unread_only, before.as_deref(), limit + 1)?;
            Ok((rows, store::unread_count(c, &user)?))
        })
        .await?;
    let page =
        pagination::Page::from_rows(rows, limit, |n| n.id.as_str(), |n| notification_out(&n));
    Ok(HttpResponse::Ok().json(FeedPage {
        items: page.items,
        next_cursor: page.next_cursor,
        unread_count,
    }))
}

#[derive(Debug, Serialize)]
pub struct ReadOut {
    pub marked: usize,
    pub unread_count: i64,
}

/// `POST /api/v1/notifications/{id}/read`.
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = caller.user_id.clone();
    let out = state
        .db
        .run(move |c| {
            if store::get(c, &user, &id)?.is_none() {
                return Ok(None);
            }
            let marked = store::mark_read(c, &user, Some(&id))?;
            Ok(Some(ReadOut {
                marked,
                unread_count: store::unread_count(c, &user)?,
            }))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("通知"))?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/notifications/read-all`.
pub async fn mark_all_read(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let user = caller.user_id.clone();
    let out = state
        .db
        .run(move |c| {
            let marked = store::mark_read(c, &user, None)?;
            Ok(ReadOut {
                marked,
                unread_count: store::unread_count(c, &user)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
