//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::state::AppState;
use crate::service::error::ApiError;

/// The process is up and answering.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and every migration is applied.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let ready = tokio::task::spawn_blocking(move || db.migrations_applied())
        .await
        .map_err(ApiError::internal)?;
    match ready {
        Ok(true) => Ok(HttpResponse::Ok().json(json!({
            "status": "ready",
            "database": state.db.backend().name(),
        }))),
        Ok(false) => Err(ApiError::unavailable("数据库迁移尚未完成")),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::unavailable("数据库不可达"))
        }
    }
}
