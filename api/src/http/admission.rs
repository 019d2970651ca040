//! Admission control: at most `max_in_flight` requests are worked on at
//! once; beyond that a request is answered at once with 503 `overloaded`
//! and `Retry-After`, instead of queueing until every client times out.
//! Under a burst the server keeps serving what it admitted at its normal
//! latency and sheds the excess in microseconds.
//!
//! Probes, metrics and event streams (long-lived by design) are not
//! counted.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use tokio::sync::Semaphore;

use crate::service::error::{ApiError, Code};

/// The in-flight limit of one server.
#[derive(Clone)]
pub struct Admission {
    permits: Arc<Semaphore>,
}

impl Admission {
    pub fn new(max_in_flight: usize) -> Admission {
        Admission {
            permits: Arc::new(Semaphore::new(max_in_flight)),
        }
    }

    /// Requests admitted and not yet answered.
    pub fn in_flight(&self, max: usize) -> usize {
        max.saturating_sub(self.permits.available_permits())
    }
}

fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/api/v1/events")
}

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if exempt(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let admission = req.app_data::<Admission>().cloned();
    let Some(admission) = admission else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Ok(_permit) = admission.permits.clone().try_acquire_owned() else {
        crate::http::metrics::shed();
        let e = ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(
                crate::service::error::Status::SERVICE_UNAVAILABLE,
                Code::Overloaded,
                "服务繁忙，请稍后重试",
            )
        };
        return Ok(req.into_response(e.error_response()));
    };
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
