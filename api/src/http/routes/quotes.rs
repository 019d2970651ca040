//! Quotes (询价 / 报价) on requests that call for them; the rules live in
//! `service::quotes`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::quotes::{self, DeclineIn, QuoteIn, RevisionIn};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    /// `created`, `total_price`, `coverage`, `score`, `reputation`; `-` in
    /// front for descending.
    pub sort: Option<String>,
}

/// `POST /api/v1/listings/{id}/quotes`: an offering firm quotes.
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<QuoteIn>,
) -> Result<HttpResponse, ApiError> {
    let q = quotes::submit(
        &state.db,
        &state.weights,
        &caller,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(q))
}

/// `GET /api/v1/listings/{id}/quotes`: the quotes side by side.
pub async fn compare(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<CompareQuery>,
) -> Result<HttpResponse, ApiError> {
    let c = quotes::compare(&state.db, &caller, id.into_inner(), q.into_inner().sort).await?;
    Ok(HttpResponse::Ok().json(c))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(quotes::get(&state.db, &caller, id.into_inner()).await?))
}

/// `PATCH /api/v1/quotes/{id}`: the quoting firm revises its quote.
pub async fn revise(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<QuoteIn>,
) -> Result<HttpResponse, ApiError> {
    let q = quotes::revise(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(q))
}

pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(quotes::withdraw(&state.db, &caller, id.into_inner()).await?))
}

pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(quotes::accept(&state.db, &caller, id.into_inner()).await?))
}

pub async fn decline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<DeclineIn>,
) -> Result<HttpResponse, ApiError> {
    let q = quotes::decline(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(q))
}

/// `POST /api/v1/quotes/{id}/revision-request`: the requesting firm asks
/// the quoting firm to revise its quote.
pub async fn request_revision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<RevisionIn>,
) -> Result<HttpResponse, ApiError> {
    let q =
        quotes::request_revision(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(q))
}
