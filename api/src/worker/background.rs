//! Background work that runs once per item however many nodes run, each job
//! under a database lease (`store::leases`):
//!
//! - **matching**: new and changed listings, in change-log order, once this
//!   node's index has applied them; the job's position is the last change
//!   matched, so work survives crashes and restarts (a change is matched
//!   after a crash at most twice, harmlessly: records are unique per pair);
//!   when the change log is caught up, a requested rematch run
//!   (`zhiqilian rematch`, `store::rematch`) matches every open listing
//!   again, in id order, for a few seconds per wake-up;
//! - **expiry**: open listings whose `expires_at` passed get their open
//!   match records expired;
//! - **sla**: unresolved cases whose clocks ran past due are flagged once,
//!   announced live to their community's staff and notified;
//! - **ratings**: ratings whose 30-day window closed with only one firm
//!   having rated are published, with `rating.published` and
//!   notifications (`service::agreements::publish_closed_windows`);
//! - **retention**: rows past their configured age are pruned
//!   (`store::retention`): the event log, notifications, idempotency keys,
//!   login throttle rows, finished webhook deliveries and the match
//!   outcome log.
//!
//! Every node runs the loop; a node that does not hold a job's lease skips
//! it, and takes over when the holder's lease lapses (a crashed node) or is
//! released (a stopped one).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use zhiqilian_matcher::Weights;
use zhiqilian_search_index::ListingIndex;

use crate::service::sla::SlaConfig;
use crate::store::retention::{self, Retention};
use crate::store::{Db, StoreResult, cases, changes, leases, listings, now, rematch};

/// A lease lasts this long unless renewed; a crashed node's jobs move to
/// another node after at most this.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Changes matched per step (a step renews the lease).
const MATCH_BATCH: i64 = 100;
/// Listings rematched per batch (a batch renews the lease).
const REMATCH_BATCH: i64 = 100;
/// How long one wake-up spends on a rematch run before the loop looks at
/// new changes and the other jobs again.
const REMATCH_SLICE: Duration = Duration::from_secs(5);
/// Listings expired per step.
const EXPIRY_BATCH: i64 = 200;
const TICK: Duration = Duration::from_secs(1);

pub use crate::config::BACKGROUND_JOBS as JOBS;

/// Counters of this node's background work (for `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    pub listings_matched: AtomicU64,
    pub listings_rematched: AtomicU64,
    pub match_records_created: AtomicU64,
    pub listings_expired: AtomicU64,
    pub cases_flagged_overdue: AtomicU64,
    pub ratings_published: AtomicU64,
    pub rows_pruned: AtomicU64,
    pub failures: AtomicU64,
}

/// What the expiry, SLA and retention sweeps apply, and how often they run.
#[derive(Clone)]
pub struct Sweeps {
    pub sla: SlaConfig,
    pub retention: Retention,
    pub every: Duration,
    /// The attachment store the `attachments` sweep keeps free of orphans.
    pub attachments: Arc<crate::service::attachments::Attachments>,
}

/// The background loop of this node.
pub struct Background {
    pub node_id: String,
    pub counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    db: Db,
}

#[derive(Clone)]
struct Ctx {
    db: Db,
    index: Arc<ListingIndex>,
    weights: Arc<Weights>,
    sla: SlaConfig,
    retention: Retention,
    attachments: Arc<crate::service::attachments::Attachments>,
    /// How often the expiry, SLA and retention sweeps run.
    sweep: Duration,
    /// The jobs this node takes part in.
    jobs: Vec<String>,
    owner: String,
    counters: Arc<Counters>,
}

impl Background {
    /// Starts the loop; it wakes every second and whenever this node's index
    /// applies new changes.
    pub fn start(
        db: Db,
        index: Arc<ListingIndex>,
        applied: watch::Receiver<i64>,
        weights: Arc<Weights>,
        sweeps: Sweeps,
        jobs: Vec<String>,
    ) -> Background {
        let node_id = crate::store::new_id();
        let counters = Arc::new(Counters::default());
        let (stop, stop_rx) = watch::channel(false);
        let ctx = Ctx {
            db: db.clone(),
            index,
            weights,
            sla: sweeps.sla,
            retention: sweeps.retention,
            attachments: sweeps.attachments,
            sweep: sweeps.every,
            jobs,
            owner: node_id.clone(),
            counters: counters.clone(),
        };
        let task = tokio::spawn(run(ctx, applied, stop_rx));
        Background {
            node_id,
            counters,
            stop,
            task: std::sync::Mutex::new(Some(task)),
            db,
        }
    }

    /// Stops after the current step and releases this node's leases, so
    /// another node carries on at once.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = task {
            let _ = t.await;
        }
        let owner = self.node_id.clone();
        let released = self
            .db
            .run(move |c| {
                for job in JOBS {
                    leases::release(c, job, &owner)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release background leases; they lapse in 30 s");
        }
    }
}

async fn run(ctx: Ctx, mut applied: watch::Receiver<i64>, mut stop: watch::Receiver<bool>) {
    let mut last_expiry: Option<Instant> = None;
    let mut last_sla: Option<Instant> = None;
    let mut last_retention: Option<Instant> = None;
    let mut last_ratings: Option<Instant> = None;
    let mut last_attachments: Option<Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let on = |job: &str| ctx.jobs.iter().any(|j| j == job);
        if on("matching") {
            step(&ctx, "matching", match_step).await;
            step(&ctx, "matching", rematch_step).await;
        }
        if on("expiry") && last_expiry.is_none_or(|t| t.elapsed() >= ctx.sweep) {
            step(&ctx, "expiry", expiry_step).await;
            last_expiry = Some(Instant::now());
        }
        if on("sla") && last_sla.is_none_or(|t| t.elapsed() >= ctx.sweep) {
            step(&ctx, "sla", sla_step).await;
            last_sla = Some(Instant::now());
        }
        if on("ratings") && last_ratings.is_none_or(|t| t.elapsed() >= ctx.sweep) {
            step(&ctx, "ratings", ratings_step).await;
            last_ratings = Some(Instant::now());
        }
        if on(retention::JOB) && last_retention.is_none_or(|t| t.elapsed() >= ctx.sweep) {
            step(&ctx, retention::JOB, retention_step).await;
            last_retention = Some(Instant::now());
        }
        // Listing the object store costs more than a query: at most every
        // five minutes.
        let every = ctx.sweep.max(ATTACHMENT_SWEEP_MIN);
        if on(ATTACHMENTS_JOB) && last_attachments.is_none_or(|t| t.elapsed() >= every) {
            attachments_step(&ctx).await;
            last_attachments = Some(Instant::now());
        }
        tokio::select! {
            _ = stop.changed() => {}
            r = applied.changed() => {
                if r.is_err() {
                    // The indexer stopped: this node is shutting down.
                    return;
                }
            }
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

const ATTACHMENTS_JOB: &str = "attachments";
const ATTACHMENT_SWEEP_MIN: Duration = Duration::from_secs(300);

/// Removes attachments whose parent is gone and objects without a row
/// (`service::attachments::sweep`), under the job's lease.
async fn attachments_step(ctx: &Ctx) {
    let owner = ctx.owner.clone();
    let held = ctx
        .db
        .run(move |c| leases::acquire(c, ATTACHMENTS_JOB, &owner, LEASE))
        .await;
    let result = match held {
        Ok(None) => return,
        Ok(Some(_)) => {
            crate::service::attachments::sweep(
                &ctx.db,
                &ctx.attachments,
                crate::service::attachments::STRAY_OBJECT_GRACE,
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(s) if s.orphaned + s.stray > 0 => {
            tracing::info!(
                orphaned = s.orphaned,
                stray = s.stray,
                "removed orphaned attachments"
            );
        }
        Ok(_) => {}
        Err(e) => {
            ctx.counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(job = ATTACHMENTS_JOB, error = %e, "background step failed; retrying");
        }
    }
}

/// Runs one job's step on the blocking pool, logging failures.
async fn step(ctx: &Ctx, job: &'static str, f: fn(&Ctx) -> anyhow::Result<()>) {
    let c = ctx.clone();
    match tokio::task::spawn_blocking(move || f(&c)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            ctx.counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(job, error = %e, "background step failed; retrying");
        }
        Err(e) => {
            ctx.counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(job, error = %e, "background step panicked");
        }
    }
}

/// Matches the changes this node's index has applied beyond the job's
/// position, a batch at a time, while it holds the lease.
fn match_step(ctx: &Ctx) -> anyhow::Result<()> {
    loop {
        let mut conn = ctx.db.conn()?;
        let Some(position) = leases::acquire(&mut conn, "matching", &ctx.owner, LEASE)? else {
            return Ok(());
        };
        let applied = ctx.index.applied_seq();
        if applied <= position {
            return Ok(());
        }
        let batch: Vec<changes::Change> = changes::since(&mut conn, position, MATCH_BATCH)?
            .into_iter()
            .filter(|c| c.seq <= applied)
            .collect();
        let Some(last) = batch.last().map(|c| c.seq) else {
            return Ok(());
        };
        drop(conn);
        let mut ids: Vec<String> = batch.into_iter().map(|c| c.listing_id).collect();
        ids.sort();
        ids.dedup();
        let created =
            crate::service::matching::match_changed(&ctx.db, &ctx.index, &ctx.weights, &ids)?;
        ctx.counters
            .listings_matched
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        ctx.counters
            .match_records_created
            .fetch_add(created as u64, Ordering::Relaxed);
        let mut conn = ctx.db.conn()?;
        if !leases::advance(&mut conn, "matching", &ctx.owner, last)? {
            tracing::warn!("matching lease lost mid-batch; the new holder repeats it");
            return Ok(());
        }
        if last >= applied {
            return Ok(());
        }
    }
}

/// Works on the oldest unfinished rematch run, a batch at a time, while
/// this node holds the matching lease and the change log is caught up
/// (fresh posts never wait behind a rematch), for at most
/// [`REMATCH_SLICE`].
fn rematch_step(ctx: &Ctx) -> anyhow::Result<()> {
    let until = Instant::now() + REMATCH_SLICE;
    while Instant::now() < until {
        let mut conn = ctx.db.conn()?;
        let Some(position) = leases::acquire(&mut conn, "matching", &ctx.owner, LEASE)? else {
            return Ok(());
        };
        if ctx.index.applied_seq() > position {
            return Ok(());
        }
        let Some(run) = rematch::unfinished(&mut conn)? else {
            return Ok(());
        };
        let ids = rematch::next_ids(&mut conn, &run.last_listing_id, REMATCH_BATCH)?;
        let Some(last) = ids.last().cloned() else {
            rematch::advance(&mut conn, &run, None, 0)?;
            tracing::info!(run = %run.id, listings = run.done, "rematch finished");
            return Ok(());
        };
        drop(conn);
        let created =
            crate::service::matching::match_changed(&ctx.db, &ctx.index, &ctx.weights, &ids)?;
        ctx.counters
            .listings_rematched
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        ctx.counters
            .match_records_created
            .fetch_add(created as u64, Ordering::Relaxed);
        let mut conn = ctx.db.conn()?;
        // Recorded only by the holder: a node that lost the lease mid-batch
        // leaves the batch to the new holder (matched twice, harmlessly).
        if leases::acquire(&mut conn, "matching", &ctx.owner, LEASE)?.is_none() {
            return Ok(());
        }
        rematch::advance(&mut conn, &run, Some(&last), ids.len() as i64)?;
    }
    Ok(())
}

/// Expires the open match records of listings whose `expires_at` passed
/// since the last sweep. The position is the last whole second swept (Unix
/// seconds); a sweep covers only completed seconds and finishes every
/// second it starts, so no listing is skipped.
fn expiry_step(ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.db.conn()?;
    let Some(position) = leases::acquire(&mut conn, "expiry", &ctx.owner, LEASE)? else {
        return Ok(());
    };
    let second_start = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    };
    let end_of = |s: i64| second_start(s + 1) - chrono::Duration::microseconds(1);
    let done_until = now().and_utc().timestamp() - 1;
    let mut due = listings::expired_between(&mut conn, position, end_of(done_until), EXPIRY_BATCH)?;
    let Some(last) = due.last().map(|(_, at)| at.and_utc().timestamp()) else {
        return Ok(());
    };
    if due.len() as i64 == EXPIRY_BATCH {
        // Finish the last second, so the position can move past it.
        let seen: std::collections::HashSet<String> =
            due.iter().map(|(id, _)| id.clone()).collect();
        let rest = listings::expired_between(&mut conn, last - 1, end_of(last), i64::MAX)?;
        due.extend(rest.into_iter().filter(|(id, _)| !seen.contains(id)));
    }
    for (id, _) in &due {
        crate::service::matches::expire_for_listing(&mut conn, id)?;
    }
    ctx.counters
        .listings_expired
        .fetch_add(due.len() as u64, Ordering::Relaxed);
    leases::advance(&mut conn, "expiry", &ctx.owner, last)?;
    Ok(())
}

/// Flags unresolved cases newly past due.
fn sla_step(ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.db.conn()?;
    if leases::acquire(&mut conn, "sla", &ctx.owner, LEASE)?.is_none() {
        return Ok(());
    }
    let at = now();
    let sla = ctx.sla;
    let flagged: StoreResult<usize> = cases::flag_overdue(&mut conn, |k| {
        crate::service::sla::of_case(k, &sla, at).overdue
    });
    ctx.counters
        .cases_flagged_overdue
        .fetch_add(flagged? as u64, Ordering::Relaxed);
    Ok(())
}

/// Publishes the ratings whose window closed.
fn ratings_step(ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.db.conn()?;
    if leases::acquire(&mut conn, "ratings", &ctx.owner, LEASE)?.is_none() {
        return Ok(());
    }
    let published = crate::service::agreements::publish_closed_windows(&mut conn, now())
        .map_err(|e| anyhow::anyhow!("{}: {:?}", e.code.as_str(), e.detail))?;
    ctx.counters
        .ratings_published
        .fetch_add(published as u64, Ordering::Relaxed);
    Ok(())
}

/// Prunes what is past its retention.
fn retention_step(ctx: &Ctx) -> anyhow::Result<()> {
    let mut conn = ctx.db.conn()?;
    let Some(position) = leases::acquire(&mut conn, retention::JOB, &ctx.owner, LEASE)? else {
        return Ok(());
    };
    let pruned = retention::sweep(&mut conn, &ctx.retention, &ctx.owner, position, now())?;
    if pruned.total() > 0 {
        tracing::info!(
            events = pruned.events,
            notifications = pruned.notifications,
            idempotency_keys = pruned.idempotency_keys,
            login_throttle = pruned.login_throttle,
            webhook_deliveries = pruned.webhook_deliveries,
            outcomes = pruned.outcomes,
            wechat_pushes = pruned.wechat_pushes,
            import_jobs = pruned.import_jobs,
            "pruned rows past their retention"
        );
    }
    ctx.counters
        .rows_pruned
        .fetch_add(pruned.total() as u64, Ordering::Relaxed);
    Ok(())
}
