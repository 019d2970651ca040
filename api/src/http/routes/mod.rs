//! The route table: one place that registers every endpoint and lists it
//! for the contract test that keeps `openapi.yaml` in step.

pub mod account;
pub mod agreements;
pub mod attachments;
pub mod auth;
pub mod clients;
pub mod communities;
pub mod districts;
pub mod events;
pub mod firms;
pub mod frontdesk;
pub mod health;
pub mod listings;
pub mod matches;
pub mod metrics;
pub mod moderation;
pub mod notifications;
pub mod quotes;
pub mod search;
pub mod sheets;
pub mod staff;
pub mod threads;
pub mod vocabulary;
pub mod webhooks;
pub mod wechat;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::service::error::{ApiError, Code};
use crate::store::scopes::{ClientAccess, Scope};

/// Declares routes once: expands to `ROUTES` (method, path), the access an
/// API client needs for each (`client_access`) and `configure`. Every
/// endpoint must be registered here, never with `cfg.route` elsewhere.
///
/// `[Open]`: any token or none; `[Users]`: no API client; any other name is
/// the scope (`auth::scopes::Scope`) a client's token must carry.
macro_rules! api_routes {
    ($( $path:literal => { $( $method:ident : $handler:path [ $access:ident ] ),+ $(,)? } ),* $(,)?) => {
        /// Every (method, path) the service answers.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path), )+ )* ];

        /// Every (method, path) with what an API client needs to call it.
        pub const ROUTE_ACCESS: &[(&str, &str, ClientAccess)] =
            &[ $( $( (stringify!($method), $path, access!($access)), )+ )* ];

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

macro_rules! access {
    (Open) => {
        ClientAccess::Open
    };
    (Users) => {
        ClientAccess::Users
    };
    ($scope:ident) => {
        ClientAccess::Needs(Scope::$scope)
    };
}

/// What an API client needs to call `method` on the route `pattern`.
pub fn client_access(method: &str, pattern: &str) -> Option<ClientAccess> {
    ROUTE_ACCESS
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == pattern)
        .map(|(_, _, a)| *a)
}

api_routes! {
    "/healthz" => { get: health::healthz [Open] },
    "/readyz" => { get: health::readyz [Open] },
    "/metrics" => { get: metrics::scrape [Open] },
    "/s/{code}" => { get: frontdesk::follow_short_link [Open] },
    "/api/v1/auth/login" => { post: auth::login [Open] },
    "/api/v1/auth/refresh" => { post: auth::refresh [Open] },
    "/api/v1/auth/logout" => { post: auth::logout [Open] },
    "/api/v1/auth/wechat" => { post: wechat::login [Users] },
    "/api/v1/oauth/token" => { post: clients::token [Open] },
    "/api/v1/me" => { get: auth::me [Open] },
    "/api/v1/me/password" => { post: account::change_password [Users] },
    "/api/v1/me/export" => { get: account::export [Users] },
    "/api/v1/me/delete" => { post: account::delete_account [Users] },
    "/api/v1/me/wechat-subscriptions" => { get: wechat::subscriptions [Users], post: wechat::answer [Users] },
    "/api/v1/me/wechat-subscriptions/{topic}" => { patch: wechat::switch [Users] },
    "/api/v1/auth/reset-password" => { post: account::reset_password [Open] },
    "/api/v1/clients" => { get: clients::list [Users], post: clients::create [Users] },
    "/api/v1/clients/{id}" => { get: clients::get [Users] },
    "/api/v1/clients/{id}/rotate" => { post: clients::rotate [Users] },
    "/api/v1/clients/{id}/revoke" => { post: clients::revoke [Users] },
    "/api/v1/clients/{id}/usage" => { get: clients::usage [Users] },
    "/api/v1/clients/{id}/webhooks" => { get: webhooks::staff::list [Users], post: webhooks::staff::create [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}" => { get: webhooks::staff::get [Users], delete: webhooks::staff::delete [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}/enable" => { post: webhooks::staff::enable [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}/disable" => { post: webhooks::staff::disable [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}/ping" => { post: webhooks::staff::ping [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}/deliveries" => { get: webhooks::staff::deliveries [Users] },
    "/api/v1/clients/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/resend" => { post: webhooks::staff::resend [Users] },
    "/api/v1/communities" => { get: communities::list [Open], post: communities::create [Users] },
    "/api/v1/communities/{id}" => { get: communities::get [Open] },
    "/api/v1/communities/{id}/staff" => { get: districts::list_staff [Users], post: communities::create_staff [Users] },
    "/api/v1/communities/{id}/staff/{user_id}/disable" => { post: districts::disable_staff [Users] },
    "/api/v1/communities/{id}/staff/{user_id}/enable" => { post: districts::enable_staff [Users] },
    "/api/v1/districts" => { get: districts::list [Users], post: districts::create [Users] },
    "/api/v1/districts/{id}" => { get: districts::get [Users] },
    "/api/v1/districts/{id}/communities/{community_id}" => { put: districts::add_community [Users], delete: districts::remove_community [Users] },
    "/api/v1/districts/{id}/admins" => { post: districts::add_admin [Users] },
    "/api/v1/districts/{id}/admins/{user_id}" => { delete: districts::remove_admin [Users] },
    "/api/v1/district/stats" => { get: districts::stats [Users] },
    "/api/v1/firms/register" => { post: firms::register [Open] },
    "/api/v1/firms" => { get: firms::list [FirmsRead] },
    "/api/v1/firms/join" => { post: account::join [Open] },
    "/api/v1/firms/{id}" => { get: firms::get [FirmsRead], patch: account::edit_profile [Users] },
    "/api/v1/firms/{id}/invites" => { post: account::invite [Users] },
    "/api/v1/firms/{id}/members/{user_id}" => { delete: account::remove_member [Users] },
    "/api/v1/firms/{id}/admin" => { post: account::hand_over [Users] },
    "/api/v1/firms/{id}/verify" => { post: firms::verify [Users] },
    "/api/v1/firms/{id}/members" => { post: firms::add_member [Users] },
    "/api/v1/firms/{id}/reputation" => { get: agreements::reputation [FirmsRead] },
    "/api/v1/listings" => { get: listings::list [ListingsRead], post: listings::create [ListingsWrite] },
    "/api/v1/listings/search" => { get: search::search [ListingsRead] },
    "/api/v1/listings/{id}" => { get: listings::get [ListingsRead], patch: listings::update [ListingsWrite] },
    "/api/v1/listings/{id}/close" => { post: listings::close [ListingsWrite] },
    "/api/v1/listings/{id}/take-over" => { post: frontdesk::take_over [Users] },
    "/api/v1/listings/{id}/ask-community" => { post: frontdesk::ask_community [Users] },
    "/api/v1/listings/{id}/matches" => { get: matches::for_listing [MatchesRead] },
    "/api/v1/listings/{id}/quotes" => { get: quotes::compare [QuotesRead], post: quotes::submit [QuotesWrite] },
    "/api/v1/quotes/{id}" => { get: quotes::get [QuotesRead], patch: quotes::revise [QuotesWrite] },
    "/api/v1/quotes/{id}/withdraw" => { post: quotes::withdraw [QuotesWrite] },
    "/api/v1/quotes/{id}/accept" => { post: quotes::accept [QuotesWrite] },
    "/api/v1/quotes/{id}/decline" => { post: quotes::decline [QuotesWrite] },
    "/api/v1/quotes/{id}/revision-request" => { post: quotes::request_revision [QuotesWrite] },
    "/api/v1/agreements" => { get: agreements::list [AgreementsRead], post: agreements::propose [AgreementsWrite] },
    "/api/v1/agreements/{id}" => { get: agreements::get [AgreementsRead] },
    "/api/v1/agreements/{id}/versions" => { post: agreements::revise [AgreementsWrite] },
    "/api/v1/agreements/{id}/confirm" => { post: agreements::confirm [AgreementsWrite] },
    "/api/v1/agreements/{id}/start" => { post: agreements::start [AgreementsWrite] },
    "/api/v1/agreements/{id}/complete" => { post: agreements::complete [AgreementsWrite] },
    "/api/v1/agreements/{id}/cancel" => { post: agreements::cancel [AgreementsWrite] },
    "/api/v1/agreements/{id}/ratings" => { post: agreements::rate [AgreementsWrite] },
    "/api/v1/agreements/{id}/ratings/{rating_id}/hide" => { post: agreements::hide_rating_comment [Users] },
    "/api/v1/attachments" => { get: attachments::list [AttachmentsRead], post: attachments::upload [AttachmentsWrite] },
    "/api/v1/attachments/{id}" => { get: attachments::get [AttachmentsRead], delete: attachments::delete [AttachmentsWrite] },
    "/api/v1/attachments/{id}/content" => { get: attachments::content [AttachmentsRead] },
    "/api/v1/attachments/{id}/thumbnail" => { get: attachments::thumbnail [AttachmentsRead] },
    "/api/v1/matches" => { get: matches::list [MatchesRead] },
    "/api/v1/matches/{id}" => { get: matches::get [MatchesRead], patch: matches::update [MatchesWrite] },
    "/api/v1/threads" => { get: threads::list [ThreadsRead], post: threads::create [ThreadsWrite] },
    "/api/v1/threads/{id}" => { get: threads::get [ThreadsRead] },
    "/api/v1/threads/{id}/close" => { post: threads::close [ThreadsWrite] },
    "/api/v1/threads/{id}/reopen" => { post: threads::reopen [ThreadsWrite] },
    "/api/v1/threads/{id}/join" => { post: threads::join [ThreadsWrite] },
    "/api/v1/threads/{id}/messages" => { get: threads::messages [ThreadsRead], post: threads::post_message [ThreadsWrite] },
    "/api/v1/threads/{id}/read" => { post: threads::mark_read [ThreadsWrite] },
    "/api/v1/events" => { get: events::stream [EventsRead] },
    "/api/v1/events/ticket" => { post: events::ticket [EventsRead] },
    "/api/v1/webhooks" => { get: webhooks::list [WebhooksManage], post: webhooks::create [WebhooksManage] },
    "/api/v1/webhooks/{id}" => { get: webhooks::get [WebhooksManage], delete: webhooks::delete [WebhooksManage] },
    "/api/v1/webhooks/{id}/enable" => { post: webhooks::enable [WebhooksManage] },
    "/api/v1/webhooks/{id}/disable" => { post: webhooks::disable [WebhooksManage] },
    "/api/v1/webhooks/{id}/ping" => { post: webhooks::ping [WebhooksManage] },
    "/api/v1/webhooks/{id}/deliveries" => { get: webhooks::deliveries [WebhooksManage] },
    "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend" => { post: webhooks::resend [WebhooksManage] },
    "/api/v1/reports" => { post: moderation::report [Users] },
    "/api/v1/notifications" => { get: notifications::list [Users] },
    "/api/v1/notifications/read-all" => { post: notifications::mark_all_read [Users] },
    "/api/v1/notifications/{id}/read" => { post: notifications::mark_read [Users] },
    "/api/v1/staff/queue" => { get: staff::queue [Users] },
    "/api/v1/staff/cases" => { post: frontdesk::open_case [Users] },
    "/api/v1/staff/cases/{id}" => { get: staff::get [Users] },
    "/api/v1/staff/cases/{id}/notes" => { get: frontdesk::notes [Users], post: frontdesk::add_note [Users] },
    "/api/v1/staff/cases/{id}/claim" => { post: staff::claim [Users] },
    "/api/v1/staff/cases/{id}/broker" => { post: staff::broker [Users] },
    "/api/v1/staff/cases/{id}/resolve" => { post: staff::resolve [Users] },
    "/api/v1/staff/cases/{id}/escalate" => { post: staff::escalate [Users] },
    "/api/v1/staff/cases/{id}/agreements" => { post: agreements::propose_for_requester [Users] },
    "/api/v1/staff/moderation" => { get: moderation::queue [Users] },
    "/api/v1/staff/moderation/actions" => { post: moderation::act [Users] },
    "/api/v1/staff/audit" => { get: staff::audit_log [Users] },
    "/api/v1/staff/password-resets" => { post: account::issue_reset [Users] },
    "/api/v1/staff/sla" => { get: staff::sla_summary [Users] },
    "/api/v1/staff/stats" => { get: staff::park_stats [Users] },
    "/api/v1/staff/digest" => { get: frontdesk::digest [Users] },
    "/api/v1/staff/imports/{kind}/dry-run" => { post: sheets::dry_run [Users] },
    "/api/v1/staff/imports/{kind}" => { post: sheets::start [Users] },
    "/api/v1/staff/imports/{kind}/template" => { get: sheets::template [Users] },
    "/api/v1/staff/import-jobs/{id}" => { get: sheets::job [Users] },
    "/api/v1/staff/exports/{what}" => { get: sheets::export [Users] },
    "/api/v1/staff/vocabulary" => { get: vocabulary::list [Users], post: vocabulary::add [Users] },
    "/api/v1/staff/vocabulary/undo" => { post: vocabulary::undo [Users] },
    "/api/v1/staff/vocabulary/reindex" => { get: vocabulary::reindex [Users] },
    "/api/v1/staff/vocabulary/suggestions" => { get: vocabulary::suggestions [Users] },
    "/api/v1/staff/vocabulary/{id}" => { delete: vocabulary::remove [Users] },
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        crate::service::error::Status::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        format!("{} 不支持 {} 方法", req.path(), req.method()),
    ))
}

/// Fallback for paths that match no route.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        crate::service::error::Status::NOT_FOUND,
        Code::RouteNotFound,
        format!("没有这个接口：{} {}", req.method(), req.path()),
    ))
}
