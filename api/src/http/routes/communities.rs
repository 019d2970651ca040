//! Communities (工业社区, the tenants) and their staff; the rules are in
//! `service::communities`.

use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::communities::{self, CreateCommunity, NewAccount};
use crate::service::error::ApiError;

/// Public: the registration form needs the list of communities.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(communities::list(&state.db).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(communities::get(&state.db, id.into_inner()).await?))
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateCommunity>,
) -> Result<HttpResponse, ApiError> {
    let out = communities::create(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

pub async fn create_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    // Platform admins and the community's district administrators.
    let out = crate::service::districts::create_staff(
        &state.db,
        &caller,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(out))
}
