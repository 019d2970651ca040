//! The user-visible event log that live streams (`GET /api/v1/events`)
//! carry: new messages, thread changes and match events, each with the
//! audience that may receive it.
//!
//! Ordering: ids are handed out in commit order. On PostgreSQL an identity
//! value is drawn before commit, so appends take a transaction-scoped
//! advisory lock (as the listing change log does) and must be the last
//! statements of their transaction; on SQLite writers are serialised
//! anyway. A reader that has seen id N and asks for ids above N therefore
//! never skips an event that commits later — which is what lets a stream
//! resume from `Last-Event-ID` with no gaps and no duplicates.
//!
//! Wake-ups: on PostgreSQL every append also sends `NOTIFY` carrying only
//! the id (delivered at commit, to every node); within one process the
//! writer calls [`committed`] after its commit.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use tokio::sync::watch;

use super::schema::{stream_event_audience, stream_events};
use super::{DbConnection, StoreResult, now, on_backend};

const STREAM_LOG_LOCK: i64 = 7_268_041_913;
/// The PostgreSQL channel that carries new event ids between nodes.
pub const PG_CHANNEL: &str = "zql_stream_events";

/// Audience of every member of a firm.
pub fn firm(id: &str) -> String {
    format!("f:{id}")
}

/// Audience of one user.
pub fn user(id: &str) -> String {
    format!("u:{id}")
}

/// Audience of a community's staff.
pub fn community(id: &str) -> String {
    format!("c:{id}")
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub audience: Vec<String>,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = stream_events)]
pub struct StreamEvent {
    pub id: i64,
    pub event_type: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
}

/// An event with who may receive it.
#[derive(Debug, Clone)]
pub struct Addressed {
    pub event: StreamEvent,
    pub audience: Vec<String>,
}

/// Appends events in order; call it last in a write transaction, and
/// [`committed`] once that transaction has committed.
pub fn append(conn: &mut DbConnection, events: &[NewEvent]) -> StoreResult<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(STREAM_LOG_LOCK)
            .execute(c)?;
    }
    let at = now();
    let mut ids = Vec::with_capacity(events.len());
    for e in events {
        let row = (
            stream_events::event_type.eq(e.event_type),
            stream_events::payload.eq(e.payload.to_string()),
            stream_events::created_at.eq(at),
        );
        let id: i64 = on_backend!(conn, |c| diesel::insert_into(stream_events::table)
            .values(row)
            .returning(stream_events::id)
            .get_result(c)?);
        let audience: BTreeSet<&String> = e.audience.iter().collect();
        let rows: Vec<_> = audience
            .into_iter()
            .map(|a| {
                (
                    stream_event_audience::audience.eq(a.as_str()),
                    stream_event_audience::event_id.eq(id),
                )
            })
            .collect();
        if !rows.is_empty() {
            on_backend!(conn, |c| diesel::insert_into(stream_event_audience::table)
                .values(&rows)
                .execute(c)?);
        }
        if let DbConnection::Postgresql(c) = conn {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(PG_CHANNEL)
                .bind::<Text, _>(id.to_string())
                .execute(c)?;
        }
        ids.push(id);
    }
    Ok(ids)
}

static COMMITS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Tells this process's live-stream hubs that events were committed.
pub fn committed() {
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes whenever [`committed`] is called in this process.
pub fn commits() -> watch::Receiver<u64> {
    COMMITS.subscribe()
}

/// Events after `after_id`, oldest first, with their audiences (a hub
/// fanning out new events).
pub fn after(conn: &mut DbConnection, after_id: i64, limit: i64) -> StoreResult<Vec<Addressed>> {
    let events: Vec<StreamEvent> = stream_events::table
        .filter(stream_events::id.gt(after_id))
        .order(stream_events::id.asc())
        .limit(limit)
        .select(StreamEvent::as_select())
        .load(conn)?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(Vec::new());
    };
    let pairs: Vec<(i64, String)> = stream_event_audience::table
        .filter(stream_event_audience::event_id.gt(after_id))
        .filter(stream_event_audience::event_id.le(last))
        .select((
            stream_event_audience::event_id,
            stream_event_audience::audience,
        ))
        .load(conn)?;
    let mut by_event: std::collections::HashMap<i64, Vec<String>> =
        std::collections::HashMap::new();
    for (id, a) in pairs {
        by_event.entry(id).or_default().push(a);
    }
    Ok(events
        .into_iter()
        .map(|event| Addressed {
            audience: by_event.remove(&event.id).unwrap_or_default(),
            event,
        })
        .collect())
}

/// Events after `after_id` addressed to any of `audience`, oldest first (a
/// stream catching up after a reconnect).
pub fn for_audience(
    conn: &mut DbConnection,
    audience: &[String],
    after_id: i64,
    limit: i64,
) -> StoreResult<Vec<StreamEvent>> {
    let ids: Vec<i64> = stream_event_audience::table
        .filter(stream_event_audience::audience.eq_any(audience))
        .filter(stream_event_audience::event_id.gt(after_id))
        .select(stream_event_audience::event_id)
        .distinct()
        .order(stream_event_audience::event_id.asc())
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(stream_events::table
        .filter(stream_events::id.eq_any(ids))
        .order(stream_events::id.asc())
        .select(StreamEvent::as_select())
        .load(conn)?)
}

/// The newest event id, 0 when the log is empty.
pub fn head(conn: &mut DbConnection) -> StoreResult<i64> {
    let max: Option<i64> = stream_events::table
        .select(diesel::dsl::max(stream_events::id))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Runs a write in one transaction whose live events are appended last and
/// announced to this node's streams after the commit.
pub fn write<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> StoreResult<(T, Vec<NewEvent>)>,
) -> StoreResult<T> {
    use diesel::Connection;
    let (out, announced) = conn.transaction::<_, crate::StoreError, _>(|conn| {
        let (out, live) = work(conn)?;
        append(conn, &live)?;
        Ok((out, !live.is_empty()))
    })?;
    if announced {
        committed();
    }
    Ok(out)
}
