//! Shared application state handed to every handler.

use std::sync::Arc;

use crate::config::Config;
use crate::service::tokens::JwtKeys;
use crate::store::Db;
use crate::worker::indexer::SearchIndex;

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub jwt: JwtKeys,
    /// An argon2 hash of a random password, verified against when a login
    /// names no account so that failure takes the same time either way.
    pub dummy_hash: String,
    /// This node's search index and its indexer.
    pub search: SearchIndex,
    /// Scoring weights of the matcher.
    pub weights: Arc<zhiqilian_matcher::Weights>,
    /// Fan-out of new events to the live streams held on this node.
    pub events: crate::worker::events::Hub,
    /// Rate limiters of this node.
    pub limits: crate::http::limits::Limits,
    /// Per-firm and per-user allowances of this node.
    pub quotas: crate::service::quota::Quotas,
    /// Where attachments are stored.
    pub attachments: Arc<crate::service::attachments::Attachments>,
    /// Webhook deliveries from this node (run while the state lives).
    pub webhooks: crate::worker::task::Task,
    /// WeChat subscribe messages; `None` when none is configured.
    pub wechat_push: Option<crate::worker::task::Task>,
    /// HTTP client for WeChat's API.
    pub wechat: reqwest::Client,
    /// Matching, expiry and SLA sweeps under database leases.
    pub background: Arc<crate::worker::background::Background>,
    /// API clients' usage counted on this node, written in batches.
    pub usage: Arc<crate::service::usage::Meter>,
    /// This server's in-flight limit.
    pub admission: crate::http::admission::Admission,
}
