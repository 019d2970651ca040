//! Stored first answers for `Idempotency-Key` replays.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::idempotency_keys as k;
use super::{DbConnection, StoreError, StoreResult};

/// How long a key is remembered, from `retention_idempotency_hours`
/// (`None`: for ever).
pub fn keep(hours: u32) -> Option<TimeDelta> {
    (hours > 0).then(|| TimeDelta::hours(i64::from(hours)))
}
/// An unfinished first request older than this (its node died) no longer
/// holds its key.
pub const STALE: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub fingerprint: String,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub body: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug)]
pub enum Begin {
    /// This request is the first: answer it, then `finish` or `abandon`.
    First,
    /// Answered before: replay (status, content type, body).
    Replay(i32, String, String),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still being answered.
    InProgress,
}

/// Claims `key` for `principal`, or reports what it holds; keys older than
/// `keep` are forgotten first.
pub fn begin(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    fingerprint: &str,
    at: NaiveDateTime,
    keep: Option<TimeDelta>,
) -> StoreResult<Begin> {
    if let Some(keep) = keep {
        diesel::delete(k::table.filter(k::created_at.lt(at - keep))).execute(conn)?;
    }
    diesel::delete(
        k::table
            .filter(k::principal.eq(principal))
            .filter(k::idem_key.eq(key))
            .filter(k::status.is_null())
            .filter(k::created_at.lt(at - STALE)),
    )
    .execute(conn)?;
    let inserted = diesel::insert_into(k::table)
        .values((
            k::principal.eq(principal),
            k::idem_key.eq(key),
            k::fingerprint.eq(fingerprint),
            k::created_at.eq(at),
        ))
        .execute(conn)
        .map_err(|e| StoreError::unique_as_conflict(e, "idempotency key"));
    match inserted {
        Ok(_) => return Ok(Begin::First),
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    let row: Option<Stored> = k::table
        .filter(k::principal.eq(principal))
        .filter(k::idem_key.eq(key))
        .select((
            k::fingerprint,
            k::status,
            k::content_type,
            k::body,
            k::created_at,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        // Finished and removed in between: treat as in progress, retry.
        None => Begin::InProgress,
        Some(r) if r.fingerprint != fingerprint => Begin::Mismatch,
        Some(Stored {
            status: Some(s),
            content_type,
            body,
            ..
        }) => Begin::Replay(
            s,
            content_type.unwrap_or_default(),
            body.unwrap_or_default(),
        ),
        Some(_) => Begin::InProgress,
    })
}

/// Stores the first answer.
pub fn finish(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    status: i32,
    content_type: &str,
    body: &str,
) -> StoreResult<()> {
    diesel::update(
        k::table
            .filter(k::principal.eq(principal))
            .filter(k::idem_key.eq(key)),
    )
    .set((
        k::status.eq(Some(status)),
        k::content_type.eq(Some(content_type)),
        k::body.eq(Some(body)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Frees the key (the request failed and may be retried).
pub fn abandon(conn: &mut DbConnection, principal: &str, key: &str) -> StoreResult<()> {
    diesel::delete(
        k::table
            .filter(k::principal.eq(principal))
            .filter(k::idem_key.eq(key))
            .filter(k::status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}
