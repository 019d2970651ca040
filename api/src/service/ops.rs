//! What operators read of a node: its place in the change log, its
//! background jobs' leases and the webhook queue.

use crate::config::BACKGROUND_JOBS;
use crate::service::error::ApiError;
use crate::store::{Db, changes, leases, now, webhooks};

/// The database's side of a node's state, read in one go.
pub struct NodeState {
    /// Newest listing change in the database.
    pub head: i64,
    /// Age in seconds of the oldest change this node has not applied yet.
    pub lag_secs: f64,
    /// Each background job's lease: (position, holder, held until).
    pub jobs: Vec<(&'static str, leases::LeaseState)>,
    /// The webhook outbox: deliveries by status, disabled subscriptions.
    pub webhooks: (Vec<(String, i64)>, i64),
}

/// Reads the node's state; `applied`: the last change this node's index
/// applied.
pub async fn node_state(db: &Db, applied: i64) -> Result<NodeState, ApiError> {
    Ok(db
        .run(move |c| {
            let head = changes::head(c)?;
            let oldest = changes::since(c, applied, 1)?
                .first()
                .map(|ch| (now() - ch.created_at).num_milliseconds() as f64 / 1000.0)
                .unwrap_or(0.0);
            let webhooks = webhooks::queue_state(c)?;
            let mut jobs = Vec::new();
            for job in BACKGROUND_JOBS {
                if let Some(s) = leases::state(c, job)? {
                    jobs.push((job, s));
                }
            }
            Ok(NodeState {
                head,
                lag_secs: oldest.max(0.0),
                jobs,
                webhooks,
            })
        })
        .await?)
}
