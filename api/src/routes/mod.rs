//! The route table: one place that registers every endpoint and lists it
//! for the contract test that keeps `openapi.yaml` in step.

pub mod auth;
pub mod communities;
pub mod events;
pub mod firms;
pub mod health;
pub mod listings;
pub mod matches;
pub mod notifications;
pub mod pagination;
pub mod search;
pub mod staff;
pub mod threads;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Declares routes once: expands to `ROUTES` (method, path) and `configure`.
/// Every endpoint must be registered here, never with `cfg.route` elsewhere.
macro_rules! api_routes {
    ($( $path:literal => { $( $method:ident : $handler:path ),+ $(,)? } ),* $(,)?) => {
        /// Every (method, path) the service answers.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path), )+ )* ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $( .route(web::$method().to($handler)) )+
                        .default_service(web::to(method_not_allowed)),
                );
            )*
        }
    };
}

api_routes! {
    "/healthz" => { get: health::healthz },
    "/readyz" => { get: health::readyz },
    "/metrics" => { get: crate::metrics::scrape },
    "/api/v1/auth/login" => { post: auth::login },
    "/api/v1/auth/refresh" => { post: auth::refresh },
    "/api/v1/auth/logout" => { post: auth::logout },
    "/api/v1/me" => { get: auth::me },
    "/api/v1/communities" => { get: communities::list, post: communities::create },
    "/api/v1/communities/{id}" => { get: communities::get },
    "/api/v1/communities/{id}/staff" => { post: communities::create_staff },
    "/api/v1/firms/register" => { post: firms::register },
    "/api/v1/firms" => { get: firms::list },
    "/api/v1/firms/{id}" => { get: firms::get },
    "/api/v1/firms/{id}/verify" => { post: firms::verify },
    "/api/v1/firms/{id}/members" => { post: firms::add_member },
    "/api/v1/listings" => { get: listings::list, post: listings::create },
    "/api/v1/listings/search" => { get: search::search },
    "/api/v1/listings/{id}" => { get: listings::get, patch: listings::update },
    "/api/v1/listings/{id}/close" => { post: listings::close },
    "/api/v1/listings/{id}/matches" => { get: matches::for_listing },
    "/api/v1/matches" => { get: matches::list },
    "/api/v1/matches/{id}" => { get: matches::get, patch: matches::update },
    "/api/v1/threads" => { get: threads::list, post: threads::create },
    "/api/v1/threads/{id}" => { get: threads::get },
    "/api/v1/threads/{id}/close" => { post: threads::close },
    "/api/v1/threads/{id}/reopen" => { post: threads::reopen },
    "/api/v1/threads/{id}/join" => { post: threads::join },
    "/api/v1/threads/{id}/messages" => { get: threads::messages, post: threads::post_message },
    "/api/v1/threads/{id}/read" => { post: threads::mark_read },
    "/api/v1/events" => { get: events::stream },
    "/api/v1/events/ticket" => { post: events::ticket },
    "/api/v1/notifications" => { get: notifications::list },
    "/api/v1/notifications/read-all" => { post: notifications::mark_all_read },
    "/api/v1/notifications/{id}/read" => { post: notifications::mark_read },
    "/api/v1/staff/queue" => { get: staff::queue },
    "/api/v1/staff/cases/{id}" => { get: staff::get },
    "/api/v1/staff/cases/{id}/claim" => { post: staff::claim },
    "/api/v1/staff/cases/{id}/broker" => { post: staff::broker },
    "/api/v1/staff/cases/{id}/resolve" => { post: staff::resolve },
    "/api/v1/staff/cases/{id}/escalate" => { post: staff::escalate },
    "/api/v1/staff/audit" => { get: staff::audit_log },
    "/api/v1/staff/sla" => { get: staff::sla_summary },
    "/api/v1/staff/stats" => { get: staff::park_stats },
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} 不支持 {} 方法", req.path(), req.method()),
    ))
}

/// Fallback for paths that match no route.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "route_not_found",
        format!("没有这个接口：{} {}", req.method(), req.path()),
    ))
}
