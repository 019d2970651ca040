//! Agreements (成交), their fulfilment and ratings, and firms' reputation;
//! the rules live in `service::agreements` and `service::reputation`.

use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::agreements::{
    self, CancelIn, ConfirmIn, HideIn, ListQuery, ProposeIn, RatingIn,
};
use crate::service::deal_terms::TermsIn;
use crate::service::error::ApiError;

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = agreements::list(&state.db, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/agreements`: propose terms on a match or an accepted quote.
pub async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ProposeIn>,
) -> Result<HttpResponse, ApiError> {
    let a = agreements::propose(&state.db, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(a))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(agreements::get(&state.db, &caller, id.into_inner()).await?))
}

/// `POST /api/v1/agreements/{id}/versions`: propose changed terms.
pub async fn revise(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<TermsIn>,
) -> Result<HttpResponse, ApiError> {
    let a = agreements::revise(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `POST /api/v1/agreements/{id}/confirm`: the other firm confirms a version.
pub async fn confirm(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ConfirmIn>,
) -> Result<HttpResponse, ApiError> {
    let a = agreements::confirm(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    // Listings it fulfilled leave search at once.
    state.search.poke();
    Ok(HttpResponse::Ok().json(a))
}

pub async fn start(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(agreements::start(&state.db, &caller, id.into_inner()).await?))
}

pub async fn complete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(agreements::complete(&state.db, &caller, id.into_inner()).await?))
}

pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<CancelIn>,
) -> Result<HttpResponse, ApiError> {
    let a = agreements::cancel(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    state.search.poke();
    Ok(HttpResponse::Ok().json(a))
}

/// `POST /api/v1/agreements/{id}/ratings`: rate the other firm.
pub async fn rate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<RatingIn>,
) -> Result<HttpResponse, ApiError> {
    let a = agreements::rate(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(a))
}

/// `GET /api/v1/firms/{id}/reputation`.
pub async fn reputation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = crate::service::reputation::of_firm(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// `POST /api/v1/agreements/{id}/ratings/{rating_id}/hide`: staff hide an
/// abusive rating comment.
pub async fn hide_rating_comment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<HideIn>,
) -> Result<HttpResponse, ApiError> {
    let (id, rating_id) = path.into_inner();
    let a = agreements::hide_comment(&state.db, &caller, id, rating_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `POST /api/v1/staff/cases/{id}/agreements`: staff brokering the case
/// propose an agreement for the requesting firm.
pub async fn propose_for_requester(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ProposeIn>,
) -> Result<HttpResponse, ApiError> {
    let a =
        agreements::propose_for_requester(&state.db, &caller, id.into_inner(), body.into_inner())
            .await?;
    Ok(HttpResponse::Created().json(a))
}
