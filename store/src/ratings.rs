//! Ratings after a completed agreement: each firm rates the other once;
//! both become visible together when both have rated or the window closes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::Rating;
use super::schema::ratings;
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult};

/// Inserts a rating; `StoreError::Conflict` when the firm rated already.
pub fn insert(c: &mut DbConnection, r: &Rating) -> StoreResult<()> {
    diesel::insert_into(ratings::table)
        .values(r)
        .execute(c)
        .map_err(|e| StoreError::unique_as_conflict(e, "rating"))?;
    Ok(())
}

pub fn of_agreement(c: &mut DbConnection, agreement_id: &str) -> StoreResult<Vec<Rating>> {
    Ok(ratings::table
        .filter(ratings::agreement_id.eq(agreement_id))
        .order(ratings::id.asc())
        .select(Rating::as_select())
        .load(c)?)
}

/// Publishes the not yet published ratings of an agreement (both firms
/// have rated, or the window closed) and returns them; a concurrent
/// publisher finds none left, so each rating is published (and counted)
/// once.
pub fn publish(
    c: &mut DbConnection,
    agreement_id: &str,
    at: NaiveDateTime,
) -> StoreResult<Vec<Rating>> {
    let pending: Vec<Rating> = ratings::table
        .filter(ratings::agreement_id.eq(agreement_id))
        .filter(ratings::published_at.is_null())
        .select(Rating::as_select())
        .load(c)?;
    let mut out = Vec::new();
    for mut r in pending {
        let n = diesel::update(
            ratings::table
                .find(&r.id)
                .filter(ratings::published_at.is_null()),
        )
        .set(ratings::published_at.eq(Some(at)))
        .execute(c)?;
        if n == 1 {
            r.published_at = Some(at);
            out.push(r);
        }
    }
    Ok(out)
}

/// Agreements with an unpublished rating whose window closed by `at`,
/// oldest window first.
pub fn window_closed(
    c: &mut DbConnection,
    at: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let mut ids: Vec<String> = ratings::table
        .filter(ratings::published_at.is_null())
        .filter(ratings::window_closes_at.le(at))
        .order(ratings::window_closes_at.asc())
        .select(ratings::agreement_id)
        .limit(limit)
        .load(c)?;
    ids.dedup();
    Ok(ids)
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Rating>> {
    Ok(ratings::table
        .find(id)
        .select(Rating::as_select())
        .first(c)
        .optional()?)
}

/// Hides a rating's comment (staff); false when it was hidden already.
pub fn hide_comment(
    c: &mut DbConnection,
    id: &str,
    by: &str,
    reason: &str,
    at: NaiveDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        ratings::table
            .find(id)
            .filter(ratings::comment_hidden_at.is_null()),
    )
    .set((
        ratings::comment_hidden_at.eq(Some(at)),
        ratings::comment_hidden_by.eq(Some(by)),
        ratings::comment_hidden_reason.eq(Some(reason)),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// The published ratings: ratee, its community and the score — what the
/// reputation tallies count.
pub fn published_scores(c: &mut DbConnection) -> StoreResult<Vec<(String, String, i32)>> {
    Ok(ratings::table
        .filter(ratings::published_at.is_not_null())
        .select((
            ratings::ratee_firm_id,
            ratings::ratee_community_id,
            ratings::score,
        ))
        .load(c)?)
}

/// `rating.published` for both firms of the agreement.
pub fn published_event(agreement_id: &str, firms: [&str; 2]) -> NewEvent {
    NewEvent {
        event_type: "rating.published",
        audience: firms.iter().map(|f| stream::firm(f)).collect(),
        payload: serde_json::json!({
            "agreement_id": agreement_id,
            "firm_ids": firms,
        }),
    }
}
