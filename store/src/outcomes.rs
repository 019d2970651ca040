//! The outcome log (`match_outcomes`): one row per move of a match the
//! firms made (contacted, declined, agreed, completed) with the factor
//! values the match showed at that moment; `zhiqilian tune` fits the
//! matcher's weights on it. Rows are written inside the transaction of the
//! move they record (by the service that makes it) and pruned by the
//! retention sweep.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::match_outcomes;
use super::{DbConnection, StoreResult};

pub use crate::models::MatchOutcomeRow;

/// Inside the transaction of the move: appends one entry.
pub fn record(c: &mut DbConnection, row: &MatchOutcomeRow) -> StoreResult<()> {
    diesel::insert_into(match_outcomes::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Entries after `after` (an id; `None`: from the oldest), oldest first,
/// at most `limit`: the log in the order it was written.
pub fn page(
    c: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<MatchOutcomeRow>> {
    let mut q = match_outcomes::table
        .select(MatchOutcomeRow::as_select())
        .order(match_outcomes::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(match_outcomes::id.gt(a.to_string()));
    }
    Ok(q.load(c)?)
}

/// The entries of one match record, oldest first.
pub fn of_match(c: &mut DbConnection, match_id: &str) -> StoreResult<Vec<MatchOutcomeRow>> {
    Ok(match_outcomes::table
        .filter(match_outcomes::match_id.eq(match_id))
        .order(match_outcomes::id.asc())
        .select(MatchOutcomeRow::as_select())
        .load(c)?)
}

/// Deletes the entries recorded before `before`; returns how many.
pub fn prune(c: &mut DbConnection, before: NaiveDateTime) -> StoreResult<usize> {
    Ok(
        diesel::delete(match_outcomes::table.filter(match_outcomes::recorded_at.lt(before)))
            .execute(c)?,
    )
}
