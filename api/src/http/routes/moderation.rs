//! Moderation over HTTP: reports by any signed-in user, the staff queue
//! and staff actions. The rules are `service::moderation`'s.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::moderation::{self, ActionIn, NewReport};
use crate::service::pagination;

/// `POST /api/v1/reports`
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let r = moderation::report(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/staff/moderation`
pub async fn queue(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode(q.cursor.as_deref())?;
    let rows = moderation::queue(&state.db, &caller, q.status, before, limit + 1).await?;
    Ok(HttpResponse::Ok().json(pagination::Page::from_rows(
        rows,
        limit,
        |r| &r.report.id,
        |r| r,
    )))
}

/// `POST /api/v1/staff/moderation/actions`
pub async fn act(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ActionIn>,
) -> Result<HttpResponse, ApiError> {
    let out = moderation::act(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}
