//! Database leases for background work that must run once however many
//! nodes run (matching new changes, expiring listings, SLA sweeps).
//!
//! Each job is a row of `work_leases`. A node takes the lease with one
//! guarded `UPDATE … WHERE owner = me OR until < now`, works, and moves the
//! job's position with an update guarded by still holding the lease (a
//! fencing condition): a node that stalled past its lease cannot move the
//! position back or forth under the new holder. The work itself is
//! idempotent (unique keys, guarded status changes), so the rare overlap
//! after a stall repeats effects harmlessly instead of losing them.
//!
//! Times are the nodes' clocks; leases last tens of seconds, far beyond
//! the skew of NTP-synchronised hosts.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::work_leases;
use super::{DbConnection, StoreResult, now};

/// Takes or renews the lease of `job` for `ttl`; the job's position when
/// this node holds it, `None` when another node does.
pub fn acquire(
    c: &mut DbConnection,
    job: &str,
    owner: &str,
    ttl: Duration,
) -> StoreResult<Option<i64>> {
    let at = now();
    let n = diesel::update(
        work_leases::table.filter(work_leases::name.eq(job)).filter(
            work_leases::owner
                .is_null()
                .or(work_leases::owner.eq(owner))
                .or(work_leases::until.lt(at)),
        ),
    )
    .set((
        work_leases::owner.eq(owner),
        work_leases::until.eq(at + ttl),
    ))
    .execute(c)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(
        work_leases::table
            .find(job)
            .select(work_leases::position)
            .first(c)?,
    ))
}

/// Moves the position of a job this node still holds; false when the lease
/// was lost meanwhile (nothing changes then).
pub fn advance(c: &mut DbConnection, job: &str, owner: &str, position: i64) -> StoreResult<bool> {
    let n = diesel::update(
        work_leases::table
            .filter(work_leases::name.eq(job))
            .filter(work_leases::owner.eq(owner)),
    )
    .set((
        work_leases::position.eq(position),
        work_leases::updated_at.eq(now()),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Gives up a lease (at shutdown), so another node takes over at once.
pub fn release(c: &mut DbConnection, job: &str, owner: &str) -> StoreResult<()> {
    diesel::update(
        work_leases::table
            .filter(work_leases::name.eq(job))
            .filter(work_leases::owner.eq(owner)),
    )
    .set((
        work_leases::owner.eq(None::<String>),
        work_leases::until.eq(None::<NaiveDateTime>),
    ))
    .execute(c)?;
    Ok(())
}

/// A job's position, holder and lease end.
pub type LeaseState = (i64, Option<String>, Option<NaiveDateTime>);

/// A job's row (metrics, tests).
pub fn state(c: &mut DbConnection, job: &str) -> StoreResult<Option<LeaseState>> {
    Ok(work_leases::table
        .find(job)
        .select((
            work_leases::position,
            work_leases::owner,
            work_leases::until,
        ))
        .first(c)
        .optional()?)
}
