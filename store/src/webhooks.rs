//! Webhook subscriptions of API clients and their outbox: the event log is
//! fanned out into one delivery row per (subscription, event) in the same
//! transaction that moves a cursor, so nothing is lost across restarts and
//! nothing is enqueued twice; deliveries are then sent in event order per
//! subscription.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    api_clients, stream_event_audience, stream_events, webhook_cursor, webhook_deliveries as d,
    webhooks as w,
};
use super::stream::{self, StreamEvent};
use super::{DbConnection, StoreResult, new_id, on_backend};
use crate::scopes::{ClientAccess, Scopes, event_access, users_only_event};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = w)]
pub struct Webhook {
    pub id: String,
    pub client_id: String,
    pub url: String,
    pub event_types: String,
    pub secret: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub from_event_id: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: i64,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    /// For a resend: the delivery it sends again.
    pub resend_of: Option<String>,
}

/// The type of a test delivery (event id 0): sent first, tried once, and
/// its failure never disables the subscription.
pub const PING: &str = "ping";

/// The webhook event types, and how they are read off the event log.
pub const EVENT_TYPES: &[&str] = &[
    "listing.created",
    "listing.closed",
    "match.created",
    "match.status_changed",
    "message.created",
    "emergency.opened",
    "emergency.resolved",
    "quote.created",
    "quote.updated",
    "agreement.proposed",
    "agreement.confirmed",
    "agreement.completed",
    "agreement.cancelled",
    "rating.published",
    "attachment.added",
    "attachment.removed",
];

/// What a client needs to receive a webhook type: the scope of the log
/// events it is made of.
pub fn access_of(kind: &str) -> ClientAccess {
    match kind {
        "emergency.opened" | "emergency.resolved" => event_access("case.opened"),
        other => event_access(other),
    }
}

/// The webhook type an event of the log stands for, if any: emergencies
/// are the staff cases of emergency requests.
///
/// A firm's own attachments (its business licence) are for users only, as
/// their routes are: their events are no webhook.
pub fn webhook_type(e: &StreamEvent) -> Option<&'static str> {
    if let Some(t) = EVENT_TYPES
        .iter()
        .find(|t| **t == e.event_type && !t.starts_with("emergency."))
    {
        if users_only_event(t, &e.payload) {
            return None;
        }
        return Some(t);
    }
    if e.event_type != "case.opened" && e.event_type != "case.updated" {
        return None;
    }
    let p: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
    if p["urgency"] != "emergency" {
        return None;
    }
    match (e.event_type.as_str(), p["status"].as_str()) {
        ("case.opened", _) => Some("emergency.opened"),
        ("case.updated", Some("resolved")) => Some("emergency.resolved"),
        _ => None,
    }
}

pub fn insert(conn: &mut DbConnection, row: &Webhook) -> StoreResult<()> {
    diesel::insert_into(w::table).values(row).execute(conn)?;
    Ok(())
}

/// What [`insert_capped`] did.
pub enum Capped {
    Inserted,
    /// The client already has a subscription of this URL to these types.
    Duplicate(String),
    /// The client holds the most subscriptions it may.
    Full,
}

/// The event types of a subscription as a set (stored space-separated).
fn type_set(types: &str) -> std::collections::BTreeSet<&str> {
    types.split_whitespace().collect()
}

/// Inserts a subscription unless its client already has one of the same
/// URL and event types, or holds `max` already. Concurrent creations of
/// one client take turns: SQLite's write lock, PostgreSQL's lock on the
/// client's row.
pub fn insert_capped(conn: &mut DbConnection, row: &Webhook, max: usize) -> StoreResult<Capped> {
    conn.transaction(|conn| {
        super::begin_write(conn)?;
        if let DbConnection::Postgresql(c) = conn {
            diesel::sql_query("SELECT id FROM api_clients WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(&row.client_id)
                .execute(c)?;
        }
        let existing = of_client(conn, &row.client_id)?;
        if let Some(same) = existing
            .iter()
            .find(|w| w.url == row.url && type_set(&w.event_types) == type_set(&row.event_types))
        {
            return Ok(Capped::Duplicate(same.id.clone()));
        }
        if existing.len() >= max {
            return Ok(Capped::Full);
        }
        insert(conn, row)?;
        Ok(Capped::Inserted)
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Webhook>> {
    Ok(w::table
        .find(id)
        .select(Webhook::as_select())
        .first(conn)
        .optional()?)
}

pub fn of_client(conn: &mut DbConnection, client_id: &str) -> StoreResult<Vec<Webhook>> {
    Ok(w::table
        .filter(w::client_id.eq(client_id))
        .order(w::id.asc())
        .select(Webhook::as_select())
        .load(conn)?)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> StoreResult<()> {
    conn.transaction(|conn| {
        diesel::delete(d::table.filter(d::webhook_id.eq(id))).execute(conn)?;
        diesel::delete(w::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Re-enables a subscription; a delivery that had given up is tried again
/// first, so the order holds.
pub fn enable(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StoreResult<()> {
    conn.transaction(|conn| {
        diesel::update(w::table.find(id))
            .set((
                w::status.eq("active"),
                w::disabled_reason.eq(None::<String>),
                w::updated_at.eq(at),
            ))
            .execute(conn)?;
        // Failed deliveries of events not since delivered or queued again
        // by a resend; test pings are not tried again.
        let rows: Vec<(String, i64, String)> = d::table
            .filter(d::webhook_id.eq(id))
            .filter(d::event_type.ne(PING))
            .select((d::id, d::event_id, d::status))
            .load(conn)?;
        let settled: std::collections::HashSet<i64> = rows
            .iter()
            .filter(|(_, _, s)| s != "failed")
            .map(|(_, e, _)| *e)
            .collect();
        let mut again: Vec<&String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (dl, e, s) in &rows {
            if s == "failed" && !settled.contains(e) && seen.insert(*e) {
                again.push(dl);
            }
        }
        diesel::update(d::table.filter(d::id.eq_any(again)))
            .set((
                d::status.eq("pending"),
                d::attempts.eq(0),
                d::next_attempt_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Stops deliveries to a subscription by hand: events keep being queued
/// and are sent, in order, once it is enabled again.
pub fn disable(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(w::table.find(id))
        .set((
            w::status.eq("disabled"),
            w::disabled_reason.eq(Some(reason)),
            w::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_delivery(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Delivery>> {
    Ok(d::table
        .find(id)
        .select(Delivery::as_select())
        .first(conn)
        .optional()?)
}

/// Queues one delivery (a test ping or a resend) on the subscription's
/// outbox; the sender picks it up like any other.
pub fn enqueue(conn: &mut DbConnection, row: &Delivery) -> StoreResult<()> {
    diesel::insert_into(d::table).values(row).execute(conn)?;
    Ok(())
}

/// Deliveries of one subscription, newest first, before `before`.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: &str,
    before: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let mut q = d::table
        .filter(d::webhook_id.eq(webhook_id))
        .order(d::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(d::id.lt(b.to_string()));
    }
    Ok(q.load(conn)?)
}

/// A client's firm (if a firm's), community, service user and scopes.
type ClientSight = (Option<String>, String, String, String);

/// What a subscription's client may see of the event log.
fn audience_of(client: &ClientSight) -> Vec<String> {
    let (firm, community, user, _) = client;
    let mut a = vec![stream::user(user)];
    match firm {
        Some(f) => a.push(stream::firm(f)),
        None => a.push(stream::community(community)),
    }
    a
}

/// Moves the fan-out cursor over up to `batch` events, enqueueing a
/// delivery for every active subscription that asked for the event's type
/// and whose client may see it. Returns how many events it moved over.
pub fn fan_out(
    conn: &mut DbConnection,
    batch: i64,
    at: NaiveDateTime,
    body: &dyn Fn(&str, &Delivery, &StreamEvent, &str) -> String,
) -> StoreResult<usize> {
    // Reads first, outside a transaction: with nothing new for any
    // subscription, nothing is written (no write traffic per commit).
    let head = stream::head(conn)?;
    let cursor: i64 = webhook_cursor::table
        .find(1)
        .select(webhook_cursor::last_event_id)
        .first(conn)?;
    let earliest: Option<i64> = w::table
        .select(diesel::dsl::min(w::from_event_id))
        .first(conn)?;
    match earliest {
        Some(from) if head > cursor.max(from) => {}
        _ => return Ok(0),
    }
    conn.transaction(|conn| {
        // Takes the cursor's row (PostgreSQL) or the write lock (SQLite)
        // first, so concurrent fan-outs on several nodes run one at a time.
        diesel::update(webhook_cursor::table.find(1))
            .set(webhook_cursor::last_event_id.eq(webhook_cursor::last_event_id))
            .execute(conn)?;
        let cursor: i64 = webhook_cursor::table
            .find(1)
            .select(webhook_cursor::last_event_id)
            .first(conn)?;
        // Events before the earliest subscription began concern none.
        let earliest: i64 = w::table
            .select(diesel::dsl::min(w::from_event_id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(i64::MAX);
        let after = cursor.max(earliest.min(head));
        let events: Vec<StreamEvent> = stream_events::table
            .filter(stream_events::id.gt(after))
            .order(stream_events::id.asc())
            .limit(batch)
            .select(StreamEvent::as_select())
            .load(conn)?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(0);
        };
        let hooks: Vec<(Webhook, ClientSight)> = w::table
            .inner_join(api_clients::table.on(api_clients::id.eq(w::client_id)))
            .filter(w::from_event_id.lt(last))
            .filter(api_clients::revoked_at.is_null())
            .select((
                Webhook::as_select(),
                (
                    api_clients::firm_id,
                    api_clients::community_id,
                    api_clients::user_id,
                    api_clients::scopes,
                ),
            ))
            .load(conn)?;
        if !hooks.is_empty() {
            let pairs: Vec<(i64, String)> = stream_event_audience::table
                .filter(stream_event_audience::event_id.gt(after))
                .filter(stream_event_audience::event_id.le(last))
                .select((
                    stream_event_audience::event_id,
                    stream_event_audience::audience,
                ))
                .load(conn)?;
            let mut rows = Vec::new();
            for e in &events {
                let Some(kind) = webhook_type(e) else {
                    continue;
                };
                for (h, client) in &hooks {
                    if e.id <= h.from_event_id || !h.event_types.split(' ').any(|t| t == kind) {
                        continue;
                    }
                    let mine = audience_of(client);
                    let sees = pairs.iter().any(|(id, a)| *id == e.id && mine.contains(a));
                    // The data of an event needs the scope of the route that
                    // reads it (message text: `threads:read`).
                    let may_read = Scopes::parse(&client.3)
                        .unwrap_or_default()
                        .allow(event_access(&e.event_type));
                    if !sees || !may_read {
                        continue;
                    }
                    let mut row = Delivery {
                        id: new_id(),
                        webhook_id: h.id.clone(),
                        event_id: e.id,
                        event_type: kind.to_string(),
                        body: String::new(),
                        status: "pending".into(),
                        attempts: 0,
                        next_attempt_at: at,
                        last_status_code: None,
                        last_error: None,
                        created_at: at,
                        delivered_at: None,
                        resend_of: None,
                    };
                    row.body = body(kind, &row, e, &h.id);
                    rows.push(row);
                }
            }
            for chunk in rows.chunks(200) {
                on_backend!(conn, |c| diesel::insert_into(d::table)
                    .values(chunk)
                    .execute(c)?);
            }
        }
        diesel::update(webhook_cursor::table.find(1))
            .set(webhook_cursor::last_event_id.eq(last))
            .execute(conn)?;
        Ok(events.len())
    })
}

/// The head of each active subscription's queue (its oldest pending
/// delivery) that is due, with the subscription.
pub fn due(conn: &mut DbConnection, at: NaiveDateTime) -> StoreResult<Vec<(Delivery, Webhook)>> {
    let pending: Vec<(Delivery, Webhook)> = d::table
        .inner_join(w::table.on(w::id.eq(d::webhook_id)))
        .filter(d::status.eq("pending"))
        .filter(w::status.eq("active"))
        .order((d::webhook_id.asc(), d::event_id.asc()))
        .select((Delivery::as_select(), Webhook::as_select()))
        .load(conn)?;
    let mut heads: Vec<(Delivery, Webhook)> = Vec::new();
    for (dl, h) in pending {
        if heads.last().is_some_and(|(_, last)| last.id == h.id) {
            continue;
        }
        heads.push((dl, h));
    }
    heads.retain(|(dl, _)| dl.next_attempt_at <= at);
    Ok(heads)
}

/// When the next pending delivery of an active subscription is due.
pub fn next_due(conn: &mut DbConnection) -> StoreResult<Option<NaiveDateTime>> {
    Ok(d::table
        .inner_join(w::table.on(w::id.eq(d::webhook_id)))
        .filter(d::status.eq("pending"))
        .filter(w::status.eq("active"))
        .select(diesel::dsl::min(d::next_attempt_at))
        .first(conn)?)
}

/// Takes a delivery for one attempt (a lease until `lease_until`); false
/// when another node took it first.
pub fn claim(
    conn: &mut DbConnection,
    dl: &Delivery,
    lease_until: NaiveDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        d::table
            .filter(d::id.eq(&dl.id))
            .filter(d::status.eq("pending"))
            .filter(d::next_attempt_at.eq(dl.next_attempt_at)),
    )
    .set(d::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(n == 1)
}

/// The outcome of one attempt.
pub enum Outcome {
    Delivered {
        status_code: i32,
    },
    /// Failed; retry at `retry_at`, or give up (and disable the
    /// subscription) when `None`.
    Failed {
        status_code: Option<i32>,
        error: String,
        retry_at: Option<NaiveDateTime>,
    },
}

pub fn record(
    conn: &mut DbConnection,
    dl: &Delivery,
    outcome: Outcome,
    at: NaiveDateTime,
) -> StoreResult<()> {
    conn.transaction(|conn| {
        match outcome {
            Outcome::Delivered { status_code } => {
                diesel::update(d::table.find(&dl.id))
                    .set((
                        d::status.eq("delivered"),
                        d::attempts.eq(dl.attempts + 1),
                        d::last_status_code.eq(Some(status_code)),
                        d::last_error.eq(None::<String>),
                        d::delivered_at.eq(Some(at)),
                    ))
                    .execute(conn)?;
            }
            Outcome::Failed {
                status_code,
                error,
                retry_at,
            } => {
                let (status, next) = match retry_at {
                    Some(t) => ("pending", t),
                    None => ("failed", at),
                };
                diesel::update(d::table.find(&dl.id))
                    .set((
                        d::status.eq(status),
                        d::attempts.eq(dl.attempts + 1),
                        d::last_status_code.eq(status_code),
                        d::last_error.eq(Some(error)),
                        d::next_attempt_at.eq(next),
                    ))
                    .execute(conn)?;
                if retry_at.is_none() && dl.event_type != PING {
                    diesel::update(w::table.find(&dl.webhook_id))
                        .set((
                            w::status.eq("disabled"),
                            w::disabled_reason.eq(Some(format!(
                                "delivery {} failed {} times",
                                dl.id,
                                dl.attempts + 1
                            ))),
                            w::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok(())
    })
}

/// Deliveries by status (`pending`, `delivered`, `failed`) and disabled
/// subscriptions — for `/metrics`.
pub fn queue_state(conn: &mut DbConnection) -> StoreResult<(Vec<(String, i64)>, i64)> {
    let by_status: Vec<(String, i64)> = d::table
        .group_by(d::status)
        .select((d::status, diesel::dsl::count_star()))
        .load(conn)?;
    let disabled: i64 = w::table
        .filter(w::status.eq("disabled"))
        .count()
        .get_result(conn)?;
    Ok((by_status, disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: &str, payload: serde_json::Value) -> StreamEvent {
        StreamEvent {
            id: 1,
            event_type: t.into(),
            payload: payload.to_string(),
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn emergencies_are_the_cases_of_emergency_requests() {
        let e = serde_json::json!({ "urgency": "emergency", "status": "open" });
        assert_eq!(
            webhook_type(&event("case.opened", e)),
            Some("emergency.opened")
        );
        let e = serde_json::json!({ "urgency": "emergency", "status": "resolved" });
        assert_eq!(
            webhook_type(&event("case.updated", e)),
            Some("emergency.resolved")
        );
        let e = serde_json::json!({ "urgency": "emergency", "status": "claimed" });
        assert_eq!(webhook_type(&event("case.updated", e)), None);
        let e = serde_json::json!({ "urgency": "urgent", "status": "open" });
        assert_eq!(webhook_type(&event("case.opened", e)), None);
        let e = serde_json::json!({});
        assert_eq!(
            webhook_type(&event("match.created", e.clone())),
            Some("match.created")
        );
        assert_eq!(webhook_type(&event("thread.read", e.clone())), None);
        assert_eq!(webhook_type(&event("emergency.opened", e)), None);
    }

    #[test]
    fn attachment_events_are_webhooks_except_a_firms_licence() {
        let on = |parent: &str| serde_json::json!({ "parent_type": parent, "id": "x" });
        for t in ["attachment.added", "attachment.removed"] {
            assert_eq!(webhook_type(&event(t, on("listing"))), Some(t));
            assert_eq!(webhook_type(&event(t, on("agreement"))), Some(t));
            assert_eq!(webhook_type(&event(t, on("firm"))), None);
        }
        assert_eq!(
            access_of("attachment.added"),
            ClientAccess::Needs(crate::scopes::Scope::AttachmentsRead)
        );
    }
}
