//! Districts (区域), their administrators, the side-by-side statistics of
//! their communities, and community staff accounts; the rules are in
//! `service::districts`.

use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::districts::{self, AddAdmin, CreateDistrict, DisableBody, DistrictStatsQuery};
use crate::service::error::ApiError;

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(districts::list(&state.db, &caller).await?))
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateDistrict>,
) -> Result<HttpResponse, ApiError> {
    let out = districts::create(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(districts::get(&state.db, &caller, id.into_inner()).await?))
}

pub async fn add_community(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, community_id) = path.into_inner();
    Ok(HttpResponse::Ok()
        .json(districts::add_community(&state.db, &caller, id, community_id).await?))
}

pub async fn remove_community(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, community_id) = path.into_inner();
    Ok(HttpResponse::Ok()
        .json(districts::remove_community(&state.db, &caller, id, community_id).await?))
}

pub async fn add_admin(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<AddAdmin>,
) -> Result<HttpResponse, ApiError> {
    let out = districts::add_admin(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn remove_admin(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, user_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(districts::remove_admin(&state.db, &caller, id, user_id).await?))
}

/// `GET /api/v1/district/stats`: the communities side by side.
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<DistrictStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let out = districts::stats(&state.db, state.config.sla, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn list_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(districts::list_staff(&state.db, &caller, id.into_inner()).await?))
}

pub async fn disable_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<DisableBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, user_id) = path.into_inner();
    let reason = body.into_inner().reason;
    Ok(HttpResponse::Ok()
        .json(districts::set_disabled(&state.db, &caller, id, user_id, true, reason).await?))
}

pub async fn enable_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, user_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(
        districts::set_disabled(&state.db, &caller, id, user_id, false, String::new()).await?,
    ))
}
