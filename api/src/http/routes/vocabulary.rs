//! The park's vocabulary over HTTP (staff console 词库). The rules are
//! `service::vocabulary`'s.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::vocabulary::{self, NewEntry, UndoIn};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkQuery {
    pub community_id: Option<String>,
}

/// `GET /api/v1/staff/vocabulary`
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ParkQuery>,
) -> Result<HttpResponse, ApiError> {
    let out = vocabulary::list(&state.db, &caller, q.community_id.as_deref()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/staff/vocabulary`
pub async fn add(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let out = vocabulary::add(&state.db, &caller, body.into_inner()).await?;
    state.search.poke();
    Ok(HttpResponse::Created().json(out))
}

/// `DELETE /api/v1/staff/vocabulary/{id}`
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ParkQuery>,
) -> Result<HttpResponse, ApiError> {
    let out = vocabulary::remove(&state.db, &caller, &id, q.community_id.as_deref()).await?;
    state.search.poke();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/staff/vocabulary/undo`
pub async fn undo(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UndoIn>,
) -> Result<HttpResponse, ApiError> {
    let out = vocabulary::undo(&state.db, &caller, body.into_inner()).await?;
    state.search.poke();
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/staff/vocabulary/reindex`
pub async fn reindex(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ParkQuery>,
) -> Result<HttpResponse, ApiError> {
    let out =
        vocabulary::reindex_status(&state.db, &state.search, &caller, q.community_id.as_deref())
            .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/staff/vocabulary/suggestions`
pub async fn suggestions(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ParkQuery>,
) -> Result<HttpResponse, ApiError> {
    let out = vocabulary::suggestions(&state.db, &state.search, &caller, q.community_id.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
