//! Webhook subscriptions and their delivery log: an API client's own
//! (`/api/v1/webhooks…`, its token with `webhooks:manage`) and a client's
//! for the staff and platform admins who manage it
//! (`/api/v1/clients/{id}/webhooks…`). The rules are in
//! `service::webhooks`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::webhooks::{self, CreateWebhook, DeliveriesQuery, Owner};

async fn create_for(
    state: &AppState,
    owner: Owner,
    body: CreateWebhook,
) -> Result<HttpResponse, ApiError> {
    let cfg = &state.config;
    let (private, max) = (
        cfg.webhook_allow_private_targets,
        cfg.webhook_max_per_client,
    );
    let out = webhooks::create(&state.db, private, max, owner, body).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// `POST /api/v1/webhooks`: events from now on; the signing secret is
/// answered this once.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    create_for(&state, Owner::client(&caller)?, body.into_inner()).await
}

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::list(&state.db, Owner::client(&caller)?).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = Owner::client(&caller)?;
    Ok(HttpResponse::Ok().json(webhooks::get(&state.db, owner, id.into_inner()).await?))
}

/// `DELETE /api/v1/webhooks/{id}`: the subscription and its log.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&state.db, Owner::client(&caller)?, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/webhooks/{id}/enable`: after a disabling; the deliveries
/// that gave up are tried again first.
pub async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = Owner::client(&caller)?;
    Ok(HttpResponse::Ok().json(webhooks::enable(&state.db, owner, id.into_inner()).await?))
}

/// `POST /api/v1/webhooks/{id}/disable`: stops deliveries until enabled.
pub async fn disable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = Owner::client(&caller)?;
    Ok(HttpResponse::Ok().json(webhooks::disable(&state.db, owner, id.into_inner()).await?))
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the log, newest first.
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), q.into_inner());
    let owner = Owner::client(&caller)?;
    Ok(HttpResponse::Ok().json(webhooks::deliveries(&state.db, owner, id, q).await?))
}

/// `POST /api/v1/webhooks/{id}/ping`: a signed test delivery.
pub async fn ping(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = Owner::client(&caller)?;
    let out = webhooks::ping(&state.db, owner, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(out))
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/resend`.
pub async fn resend(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let owner = Owner::client(&caller)?;
    let out = webhooks::resend(&state.db, owner, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(out))
}

/// A client's subscriptions, for the staff and admins who manage it.
pub mod staff {
    use super::*;

    async fn owner(state: &AppState, caller: &Caller, client: String) -> Result<Owner, ApiError> {
        Owner::managed_by(&state.db, caller, client).await
    }

    /// `POST /api/v1/clients/{id}/webhooks`: the signing secret is answered
    /// this once.
    pub async fn create(
        state: web::Data<AppState>,
        caller: Caller,
        client: web::Path<String>,
        body: web::Json<CreateWebhook>,
    ) -> Result<HttpResponse, ApiError> {
        let owner = owner(&state, &caller, client.into_inner()).await?;
        create_for(&state, owner, body.into_inner()).await
    }

    pub async fn list(
        state: web::Data<AppState>,
        caller: Caller,
        client: web::Path<String>,
    ) -> Result<HttpResponse, ApiError> {
        let owner = owner(&state, &caller, client.into_inner()).await?;
        Ok(HttpResponse::Ok().json(webhooks::list(&state.db, owner).await?))
    }

    pub async fn get(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        Ok(HttpResponse::Ok().json(webhooks::get(&state.db, owner, id).await?))
    }

    pub async fn delete(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        webhooks::delete(&state.db, owner, id).await?;
        Ok(HttpResponse::NoContent().finish())
    }

    pub async fn enable(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        Ok(HttpResponse::Ok().json(webhooks::enable(&state.db, owner, id).await?))
    }

    pub async fn disable(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        Ok(HttpResponse::Ok().json(webhooks::disable(&state.db, owner, id).await?))
    }

    pub async fn deliveries(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
        q: web::Query<DeliveriesQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        let q = q.into_inner();
        Ok(HttpResponse::Ok().json(webhooks::deliveries(&state.db, owner, id, q).await?))
    }

    pub async fn ping(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        Ok(HttpResponse::Accepted().json(webhooks::ping(&state.db, owner, id).await?))
    }

    pub async fn resend(
        state: web::Data<AppState>,
        caller: Caller,
        path: web::Path<(String, String, String)>,
    ) -> Result<HttpResponse, ApiError> {
        let (client, id, delivery) = path.into_inner();
        let owner = owner(&state, &caller, client).await?;
        let out = webhooks::resend(&state.db, owner, id, delivery).await?;
        Ok(HttpResponse::Accepted().json(out))
    }
}
