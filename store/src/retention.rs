//! Pruning by age: the event log, notifications, idempotency keys, login
//! throttle rows, finished webhook deliveries, the match outcome log and
//! finished spreadsheet import jobs, run by the `retention` background job
//! under its lease (`background.rs`).
//!
//! The event log is pruned from its oldest end, by id, never past the
//! newest event (so the log's head stays) nor past what the webhook
//! fan-out still has to read. The job's lease position is the highest
//! event id pruned: a stream resuming from below it may have missed
//! events and is told to reload (`reset`) instead of silently skipping.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::{
    idempotency_keys, import_jobs, login_throttle, notifications, stream_event_audience,
    stream_events, webhook_cursor, webhook_deliveries, webhooks, wechat_pushes,
};
use super::{DbConnection, StoreResult, leases};

/// How long each kind of row is kept, in days (idempotency keys: hours);
/// 0 keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub events_days: u32,
    pub notifications_days: u32,
    pub login_throttle_days: u32,
    pub webhook_deliveries_days: u32,
    /// The match outcome log the weights are tuned on.
    pub outcomes_days: u32,
    /// Finished spreadsheet import jobs (their per-row error report
    /// quotes the sheet's cells).
    pub import_jobs_days: u32,
    /// How long an `Idempotency-Key` replays its first answer.
    pub idempotency_hours: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            events_days: 30,
            notifications_days: 180,
            login_throttle_days: 7,
            webhook_deliveries_days: 30,
            outcomes_days: 730,
            import_jobs_days: 90,
            idempotency_hours: 24,
        }
    }
}

/// Rows removed by one sweep.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub events: usize,
    pub notifications: usize,
    pub idempotency_keys: usize,
    pub login_throttle: usize,
    pub webhook_deliveries: usize,
    pub outcomes: usize,
    pub wechat_pushes: usize,
    pub import_jobs: usize,
}

impl Pruned {
    pub fn total(&self) -> usize {
        self.events
            + self.notifications
            + self.idempotency_keys
            + self.login_throttle
            + self.webhook_deliveries
            + self.outcomes
            + self.wechat_pushes
            + self.import_jobs
    }
}

/// The name of the job (and of its `work_leases` row).
pub const JOB: &str = "retention";
/// Events removed per transaction.
const EVENT_BATCH: i64 = 1000;

fn cutoff(at: NaiveDateTime, days: u32) -> Option<NaiveDateTime> {
    (days > 0).then(|| at - TimeDelta::days(i64::from(days)))
}

/// The highest event id pruned so far (0: none): a stream resuming from
/// below it may have missed events.
pub fn pruned_through(c: &mut DbConnection) -> StoreResult<i64> {
    Ok(leases::state(c, JOB)?.map_or(0, |(p, _, _)| p))
}

/// One sweep, by a node holding the job's lease (`owner`): everything older
/// than its retention. Each table in its own short transactions.
pub fn sweep(
    c: &mut DbConnection,
    r: &Retention,
    owner: &str,
    position: i64,
    at: NaiveDateTime,
) -> StoreResult<Pruned> {
    let mut out = Pruned::default();
    if let Some(before) = cutoff(at, r.events_days) {
        out.events = prune_events(c, owner, position, before)?;
    }
    if let Some(before) = cutoff(at, r.notifications_days) {
        out.notifications =
            diesel::delete(notifications::table.filter(notifications::created_at.lt(before)))
                .execute(c)?;
        // WeChat alerts carry a notification's text: kept as long as it,
        // unless still owed.
        out.wechat_pushes = diesel::delete(
            wechat_pushes::table
                .filter(wechat_pushes::status.ne("pending"))
                .filter(wechat_pushes::created_at.lt(before)),
        )
        .execute(c)?;
    }
    // Answers are replayed for `idempotency_hours`; after that a key is
    // dead weight (`begin` also drops expired keys as it goes).
    if let Some(keep) = super::idempotency::keep(r.idempotency_hours) {
        out.idempotency_keys = diesel::delete(
            idempotency_keys::table.filter(idempotency_keys::created_at.lt(at - keep)),
        )
        .execute(c)?;
    }
    if let Some(before) = cutoff(at, r.login_throttle_days) {
        out.login_throttle = diesel::delete(
            login_throttle::table
                .filter(login_throttle::first_failure_at.lt(before))
                .filter(
                    login_throttle::locked_until
                        .is_null()
                        .or(login_throttle::locked_until.lt(at)),
                ),
        )
        .execute(c)?;
    }
    if let Some(before) = cutoff(at, r.webhook_deliveries_days) {
        // Pending deliveries stay, however old: they are still owed.
        out.webhook_deliveries = diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::status.ne("pending"))
                .filter(webhook_deliveries::created_at.lt(before)),
        )
        .execute(c)?;
    }
    if let Some(before) = cutoff(at, r.outcomes_days) {
        out.outcomes = super::outcomes::prune(c, before)?;
    }
    if let Some(before) = cutoff(at, r.import_jobs_days) {
        // A job still running (no end yet) stays, however old.
        out.import_jobs = diesel::delete(
            import_jobs::table
                .filter(import_jobs::finished_at.is_not_null())
                .filter(import_jobs::finished_at.lt(before)),
        )
        .execute(c)?;
    }
    Ok(out)
}

/// Removes events older than `before` from the oldest end of the log, in
/// id order, moving the job's position (the highest id pruned) with each
/// batch. Keeps the newest event and whatever the webhook fan-out has not
/// passed yet.
fn prune_events(
    c: &mut DbConnection,
    owner: &str,
    mut position: i64,
    before: NaiveDateTime,
) -> StoreResult<usize> {
    let head = super::stream::head(c)?;
    // Events at or below this the webhook fan-out has read (or concern
    // no subscription: those before the earliest one began).
    let cursor: i64 = webhook_cursor::table
        .find(1)
        .select(webhook_cursor::last_event_id)
        .first(c)?;
    let earliest: Option<i64> = webhooks::table
        .select(diesel::dsl::min(webhooks::from_event_id))
        .first(c)?;
    let fanned_out = earliest.map_or(i64::MAX, |from| cursor.max(from));
    let limit = (head - 1).min(fanned_out);
    let mut pruned = 0;
    loop {
        let batch: Vec<(i64, NaiveDateTime)> = stream_events::table
            .filter(stream_events::id.gt(position))
            .filter(stream_events::id.le(limit))
            .order(stream_events::id.asc())
            .limit(EVENT_BATCH)
            .select((stream_events::id, stream_events::created_at))
            .load(c)?;
        // Ids follow commit order, so the log is old up to its first young
        // event.
        let old: Vec<i64> = batch
            .iter()
            .take_while(|(_, at)| *at < before)
            .map(|(id, _)| *id)
            .collect();
        let Some(last) = old.last().copied() else {
            return Ok(pruned);
        };
        let moved = c.transaction(|c| {
            // The position first: it takes the lease row (and on SQLite the
            // write lock), and a node that lost the lease deletes nothing.
            if !leases::advance(c, JOB, owner, last)? {
                return Ok::<_, super::StoreError>(false);
            }
            diesel::delete(
                stream_event_audience::table
                    .filter(stream_event_audience::event_id.gt(position))
                    .filter(stream_event_audience::event_id.le(last)),
            )
            .execute(c)?;
            diesel::delete(
                stream_events::table
                    .filter(stream_events::id.gt(position))
                    .filter(stream_events::id.le(last)),
            )
            .execute(c)?;
            Ok(true)
        })?;
        if !moved {
            return Ok(pruned);
        }
        pruned += old.len();
        position = last;
        if old.len() < batch.len() || (batch.len() as i64) < EVENT_BATCH {
            return Ok(pruned);
        }
    }
}
