//! Webhook subscriptions of an API client (its token with
//! `webhooks:manage`) and their delivery log. The rules are in
//! `service::webhooks`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::webhooks::{self, CreateWebhook, DeliveriesQuery};

/// `POST /api/v1/webhooks`: events from now on; the signing secret is
/// answered this once.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let cfg = &state.config;
    let (private, max) = (
        cfg.webhook_allow_private_targets,
        cfg.webhook_max_per_client,
    );
    let out = webhooks::create(&state.db, private, max, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::list(&state.db, &caller).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::get(&state.db, &caller, id.into_inner()).await?))
}

/// `DELETE /api/v1/webhooks/{id}`: the subscription and its log.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/webhooks/{id}/enable`: after an automatic disabling; the
/// delivery that gave up is tried again first.
pub async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::enable(&state.db, &caller, id.into_inner()).await?))
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the log, newest first.
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), q.into_inner());
    Ok(HttpResponse::Ok().json(webhooks::deliveries(&state.db, &caller, id, q).await?))
}
