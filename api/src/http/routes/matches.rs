//! Matches: of one listing, computed on request with their breakdown, and
//! the stored match records of a firm or community.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::matches::{self, ListMatchesQuery, PatchMatch};
use crate::service::matching;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchesQuery {
    pub limit: Option<i64>,
}

/// `GET /api/v1/listings/{id}/matches`.
pub async fn for_listing(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<MatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = matching::of_listing(
        &state.db,
        state.search.index.clone(),
        state.weights.clone(),
        &caller,
        id.into_inner(),
        q.limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/matches`.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListMatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = matches::list(&state.db, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/matches/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = matches::get(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `PATCH /api/v1/matches/{id}`.
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PatchMatch>,
) -> Result<HttpResponse, ApiError> {
    let out = matches::update(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}
