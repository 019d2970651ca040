//! What runs beside the requests: the search indexer that keeps this node's
//! tantivy index in step with the database, the background sweeps under
//! database leases (matching, expiry, SLAs, retention), webhook deliveries,
//! WeChat subscribe messages and the hub that fans new events out to live streams. Workers call the
//! service layer and the store; they never name actix or the HTTP layer.

pub mod background;
pub mod events;
pub mod indexer;
pub mod task;
pub mod webhooks;
pub mod wechat_push;
