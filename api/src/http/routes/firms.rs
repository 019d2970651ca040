//! Firms: self-registration, verification by community staff, members.
//! The rules are in `service::firms`.

use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::firms::{self, AddMember, ListFirmsQuery, RegisterFirm};

pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterFirm>,
) -> Result<HttpResponse, ApiError> {
    let out = firms::register(&state.db, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(out))
}

/// Staff list their community's firms (e.g. those awaiting verification);
/// admins list any.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListFirmsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(firms::list(&state.db, &caller, q.into_inner()).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(firms::get(&state.db, &caller, id.into_inner()).await?))
}

pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = firms::verify(&state.db, &caller, id.into_inner()).await?;
    // Its listings' visibility changed: let the indexer pick that up now.
    state.search.poke();
    Ok(HttpResponse::Ok().json(out))
}

pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let out = firms::add_member(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}
