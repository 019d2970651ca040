//! Rematch runs: every open listing matched again, in id order, by the
//! node that holds the matching lease. A run records how far it got, so a
//! crash or a restart carries on from the last listing matched; a second
//! request while one is unfinished returns that one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{listings, rematch_runs as r};
use super::{DbConnection, StoreResult, new_id, now};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = r)]
pub struct Run {
    pub id: String,
    pub reason: String,
    /// Open listings when the run was asked for (a progress estimate:
    /// listings opened since are matched too).
    pub total: i64,
    pub done: i64,
    /// The last listing matched ('' before the first).
    pub last_listing_id: String,
    pub requested_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

/// Asks for a run, or returns the unfinished one (`false`: not new).
pub fn request(c: &mut DbConnection, reason: &str) -> StoreResult<(Run, bool)> {
    c.transaction(|c| {
        super::begin_write(c)?;
        if let Some(run) = unfinished(c)? {
            return Ok((run, false));
        }
        let total: i64 = listings::table
            .filter(listings::status.eq("open"))
            .count()
            .get_result(c)?;
        let run = Run {
            id: new_id(),
            reason: reason.to_string(),
            total,
            done: 0,
            last_listing_id: String::new(),
            requested_at: now(),
            started_at: None,
            finished_at: None,
        };
        diesel::insert_into(r::table).values(&run).execute(c)?;
        Ok((run, true))
    })
}

/// The oldest unfinished run.
pub fn unfinished(c: &mut DbConnection) -> StoreResult<Option<Run>> {
    Ok(r::table
        .filter(r::finished_at.is_null())
        .order(r::requested_at.asc())
        .select(Run::as_select())
        .first(c)
        .optional()?)
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Run>> {
    Ok(r::table
        .find(id)
        .select(Run::as_select())
        .first(c)
        .optional()?)
}

/// The next open listings after `after`, in id order.
pub fn next_ids(c: &mut DbConnection, after: &str, limit: i64) -> StoreResult<Vec<String>> {
    Ok(listings::table
        .filter(listings::status.eq("open"))
        .filter(listings::id.gt(after))
        .order(listings::id.asc())
        .limit(limit)
        .select(listings::id)
        .load(c)?)
}

/// Records a batch matched (`last`: its last listing), or the end of the
/// run (`last: None`).
pub fn advance(c: &mut DbConnection, run: &Run, last: Option<&str>, n: i64) -> StoreResult<()> {
    let at = now();
    let row = r::table
        .filter(r::id.eq(&run.id))
        .filter(r::finished_at.is_null());
    match last {
        Some(last) => diesel::update(row)
            .set((
                r::last_listing_id.eq(last),
                r::done.eq(r::done + n),
                r::started_at.eq(run.started_at.unwrap_or(at)),
            ))
            .execute(c)?,
        None => diesel::update(row)
            .set((
                r::finished_at.eq(at),
                r::started_at.eq(run.started_at.unwrap_or(at)),
            ))
            .execute(c)?,
    };
    Ok(())
}
