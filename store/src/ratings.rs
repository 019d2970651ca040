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

/// Publishes the ratings of an agreement (both firms have rated).
pub fn publish(c: &mut DbConnection, agreement_id: &str, at: NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        ratings::table
            .filter(ratings::agreement_id.eq(agreement_id))
            .filter(ratings::published_at.is_null()),
    )
    .set(ratings::published_at.eq(Some(at)))
    .execute(c)?;
    Ok(())
}

/// The visible ratings (published, or past their window): ratee, its
/// community and the score — the input of reputations and park means.
pub fn visible_scores(
    c: &mut DbConnection,
    now: NaiveDateTime,
) -> StoreResult<Vec<(String, String, i32)>> {
    Ok(ratings::table
        .filter(
            ratings::published_at
                .is_not_null()
                .or(ratings::window_closes_at.le(now)),
        )
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
