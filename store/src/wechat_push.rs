//! WeChat subscribe messages (订阅消息): which users agreed to be alerted
//! outside the app, and the outbox of alerts to send.
//!
//! A user's consent is one-time per alert in WeChat's model: every "allow"
//! in `wx.requestSubscribeMessage` lets one message of that template be
//! sent. `remaining` counts them; a push takes one when it is queued and
//! gives it back when WeChat never took it. The fan-out reads the event log
//! (the `notification` events, in the order they were committed) behind a
//! cursor, like the webhook outbox, so nothing is queued twice and nothing
//! is lost across restarts or nodes.

use std::collections::HashSet;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::{
    stream_event_audience, stream_events, wechat_bindings, wechat_push_cursor, wechat_pushes as p,
    wechat_subscriptions as s,
};
use super::stream::StreamEvent;
use super::{DbConnection, StoreResult, new_id, now};

/// The most consents one user may bank per topic (WeChat keeps its own
/// count; this only bounds ours).
pub const MAX_REMAINING: i32 = 100;

/// A user's consent for one topic.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = s)]
pub struct Subscription {
    pub user_id: String,
    pub topic: String,
    pub remaining: i32,
    pub enabled: bool,
    pub updated_at: NaiveDateTime,
}

/// What the user answered in `wx.requestSubscribeMessage` for a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// "允许": one more message may be sent.
    Accept,
    /// "取消": nothing changes.
    Reject,
    /// WeChat banned the template, or the user switched this template off
    /// for good in WeChat's settings: no message until a new "allow".
    Ban,
}

/// A user's subscriptions (only topics with a row).
pub fn of_user(c: &mut DbConnection, user_id: &str) -> StoreResult<Vec<Subscription>> {
    Ok(s::table
        .filter(s::user_id.eq(user_id))
        .order(s::topic)
        .select(Subscription::as_select())
        .load(c)?)
}

fn get(c: &mut DbConnection, user_id: &str, topic: &str) -> StoreResult<Option<Subscription>> {
    Ok(s::table
        .find((user_id, topic))
        .select(Subscription::as_select())
        .first(c)
        .optional()?)
}

fn save(c: &mut DbConnection, row: &Subscription) -> StoreResult<()> {
    let n = diesel::update(s::table.find((&row.user_id, &row.topic)))
        .set((
            s::remaining.eq(row.remaining),
            s::enabled.eq(row.enabled),
            s::updated_at.eq(row.updated_at),
        ))
        .execute(c)?;
    if n == 0 {
        diesel::insert_into(s::table).values(row).execute(c)?;
    }
    Ok(())
}

/// Records the user's answers (topic, answer) in one transaction.
pub fn answer(
    c: &mut DbConnection,
    user_id: &str,
    answers: &[(&str, Answer)],
) -> StoreResult<Vec<Subscription>> {
    c.transaction(|c| {
        super::begin_write(c)?;
        let at = now();
        for (topic, answer) in answers {
            let mut row = get(c, user_id, topic)?.unwrap_or(Subscription {
                user_id: user_id.to_string(),
                topic: topic.to_string(),
                remaining: 0,
                enabled: true,
                updated_at: at,
            });
            match answer {
                Answer::Accept => {
                    row.remaining = (row.remaining + 1).min(MAX_REMAINING);
                    row.enabled = true;
                }
                Answer::Reject => continue,
                Answer::Ban => row.remaining = 0,
            }
            row.updated_at = at;
            save(c, &row)?;
        }
        of_user(c, user_id)
    })
}

/// The user's own switch for a topic (kept consents stay banked).
pub fn set_enabled(
    c: &mut DbConnection,
    user_id: &str,
    topic: &str,
    enabled: bool,
) -> StoreResult<Subscription> {
    c.transaction(|c| {
        super::begin_write(c)?;
        let at = now();
        let mut row = get(c, user_id, topic)?.unwrap_or(Subscription {
            user_id: user_id.to_string(),
            topic: topic.to_string(),
            remaining: 0,
            enabled,
            updated_at: at,
        });
        row.enabled = enabled;
        row.updated_at = at;
        save(c, &row)?;
        Ok(row)
    })
}

/// One alert to send.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = p)]
pub struct Push {
    pub id: String,
    pub user_id: String,
    pub topic: String,
    pub group_key: String,
    pub event_id: i64,
    pub notification_id: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_errcode: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A notification event as the fan-out reads it.
#[derive(Debug, serde::Deserialize)]
struct NotificationPayload {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    body: String,
    subject: Subject,
    thread_id: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Subject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

/// Moves the cursor over up to `batch` events, queueing a push for each
/// notification whose type `topic_of` maps to a topic, for a user bound to
/// WeChat with the topic enabled and a consent left, unless the same user
/// had a push for the same thread (or subject) within `quiet`. Returns how
/// many events were read.
pub fn fan_out(
    conn: &mut DbConnection,
    batch: i64,
    quiet: TimeDelta,
    topic_of: &dyn Fn(&str) -> Option<&'static str>,
) -> StoreResult<usize> {
    // Reads first, outside a transaction: nothing new, nothing written.
    let head = super::stream::head(conn)?;
    let cursor: i64 = wechat_push_cursor::table
        .find(1)
        .select(wechat_push_cursor::last_event_id)
        .first(conn)?;
    if head <= cursor {
        return Ok(0);
    }
    conn.transaction(|c| {
        // Takes the cursor's row (PostgreSQL) or the write lock (SQLite)
        // first, so fan-outs on several nodes run one at a time.
        diesel::update(wechat_push_cursor::table.find(1))
            .set(wechat_push_cursor::last_event_id.eq(wechat_push_cursor::last_event_id))
            .execute(c)?;
        let cursor: i64 = wechat_push_cursor::table
            .find(1)
            .select(wechat_push_cursor::last_event_id)
            .first(c)?;
        let events: Vec<StreamEvent> = stream_events::table
            .filter(stream_events::id.gt(cursor))
            .order(stream_events::id.asc())
            .limit(batch)
            .select(StreamEvent::as_select())
            .load(c)?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(0);
        };
        let at = now();
        let pushable: Vec<(i64, NotificationPayload, &'static str)> = events
            .iter()
            .filter(|e| e.event_type == "notification")
            .filter_map(|e| {
                let n = serde_json::from_str::<NotificationPayload>(&e.payload).ok()?;
                let topic = topic_of(&n.kind)?;
                Some((e.id, n, topic))
            })
            .collect();
        if !pushable.is_empty() {
            // The batch's users with a consent left, in two reads: most
            // users have none, and nothing more is read for them.
            let ids: Vec<i64> = pushable.iter().map(|(id, _, _)| *id).collect();
            let audience: Vec<(i64, String)> = stream_event_audience::table
                .filter(stream_event_audience::event_id.eq_any(&ids))
                .filter(stream_event_audience::audience.like("u:%"))
                .select((
                    stream_event_audience::event_id,
                    stream_event_audience::audience,
                ))
                .load(c)?;
            let users: Vec<&str> = audience
                .iter()
                .filter_map(|(_, a)| a.strip_prefix("u:"))
                .collect();
            let willing: HashSet<(String, String)> = s::table
                .filter(s::user_id.eq_any(&users))
                .filter(s::enabled.eq(true))
                .filter(s::remaining.gt(0))
                .select((s::user_id, s::topic))
                .load(c)?
                .into_iter()
                .collect();
            for (event_id, n, topic) in &pushable {
                let group_key = match &n.thread_id {
                    Some(t) => format!("thread:{t}"),
                    None => format!("{}:{}", n.subject.kind, n.subject.id),
                };
                let to = audience
                    .iter()
                    .filter(|(id, _)| id == event_id)
                    .filter_map(|(_, a)| a.strip_prefix("u:"))
                    .filter(|u| willing.contains(&(u.to_string(), topic.to_string())));
                for user in to {
                    queue(c, user, topic, &group_key, *event_id, n, at, quiet)?;
                }
            }
        }
        diesel::update(wechat_push_cursor::table.find(1))
            .set(wechat_push_cursor::last_event_id.eq(last))
            .execute(c)?;
        Ok(events.len())
    })
}

#[allow(clippy::too_many_arguments)]
fn queue(
    c: &mut DbConnection,
    user: &str,
    topic: &'static str,
    group_key: &str,
    event_id: i64,
    n: &NotificationPayload,
    at: NaiveDateTime,
    quiet: TimeDelta,
) -> StoreResult<()> {
    let bound: i64 = wechat_bindings::table
        .filter(wechat_bindings::user_id.eq(user))
        .count()
        .get_result(c)?;
    if bound == 0 {
        return Ok(());
    }
    let recent: i64 = p::table
        .filter(p::user_id.eq(user))
        .filter(p::group_key.eq(group_key))
        .filter(p::created_at.gt(at - quiet))
        .filter(p::status.eq_any(["pending", "sent"]))
        .count()
        .get_result(c)?;
    if recent > 0 {
        return Ok(());
    }
    // Takes a consent if one is left (one statement: no two pushes take
    // the same one).
    let taken = diesel::update(
        s::table
            .find((user, topic))
            .filter(s::enabled.eq(true))
            .filter(s::remaining.gt(0)),
    )
    .set(s::remaining.eq(s::remaining - 1))
    .execute(c)?;
    if taken == 0 {
        return Ok(());
    }
    diesel::insert_into(p::table)
        .values(&Push {
            id: new_id(),
            user_id: user.to_string(),
            topic: topic.to_string(),
            group_key: group_key.to_string(),
            event_id,
            notification_id: n.id.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            last_errcode: None,
            last_error: None,
            created_at: at,
            sent_at: None,
        })
        .execute(c)?;
    Ok(())
}

fn give_back(c: &mut DbConnection, user: &str, topic: &str) -> StoreResult<()> {
    diesel::update(
        s::table
            .find((user, topic))
            .filter(s::remaining.lt(MAX_REMAINING)),
    )
    .set(s::remaining.eq(s::remaining + 1))
    .execute(c)?;
    Ok(())
}

/// Pushes due at `at`, oldest first, with the openid of their user.
pub fn due(
    c: &mut DbConnection,
    at: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<(Push, String)>> {
    Ok(p::table
        .inner_join(wechat_bindings::table.on(wechat_bindings::user_id.eq(p::user_id)))
        .filter(p::status.eq("pending"))
        .filter(p::next_attempt_at.le(at))
        .order(p::next_attempt_at.asc())
        .limit(limit)
        .select((Push::as_select(), wechat_bindings::openid))
        .load(c)?)
}

/// When the next pending push is due.
pub fn next_due(c: &mut DbConnection) -> StoreResult<Option<NaiveDateTime>> {
    Ok(p::table
        .filter(p::status.eq("pending"))
        .select(diesel::dsl::min(p::next_attempt_at))
        .first(c)?)
}

/// Takes a due push for `lease_until` (false: another node has it).
pub fn claim(c: &mut DbConnection, push: &Push, lease_until: NaiveDateTime) -> StoreResult<bool> {
    let n = diesel::update(
        p::table
            .filter(p::id.eq(&push.id))
            .filter(p::status.eq("pending"))
            .filter(p::next_attempt_at.eq(push.next_attempt_at)),
    )
    .set(p::next_attempt_at.eq(lease_until))
    .execute(c)?;
    Ok(n == 1)
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// WeChat says the user gave no consent (43101): the banked count was
    /// wrong; it is reset so nothing more is tried until a new "allow".
    Refused {
        errcode: i64,
        error: String,
    },
    /// Failed; tried again at `retry_at`, or given up for good (`None`,
    /// and the consent goes back).
    Failed {
        errcode: Option<i64>,
        error: String,
        retry_at: Option<NaiveDateTime>,
    },
}

pub fn record(c: &mut DbConnection, push: &Push, outcome: &Outcome) -> StoreResult<()> {
    c.transaction(|c| {
        let at = now();
        let row = p::table
            .filter(p::id.eq(&push.id))
            .filter(p::status.eq("pending"));
        match outcome {
            Outcome::Sent => {
                diesel::update(row)
                    .set((
                        p::status.eq("sent"),
                        p::attempts.eq(push.attempts + 1),
                        p::sent_at.eq(at),
                    ))
                    .execute(c)?;
            }
            Outcome::Refused { errcode, error } => {
                diesel::update(row)
                    .set((
                        p::status.eq("refused"),
                        p::attempts.eq(push.attempts + 1),
                        p::last_errcode.eq(errcode),
                        p::last_error.eq(error),
                    ))
                    .execute(c)?;
                diesel::update(s::table.find((&push.user_id, &push.topic)))
                    .set((s::remaining.eq(0), s::updated_at.eq(at)))
                    .execute(c)?;
            }
            Outcome::Failed {
                errcode,
                error,
                retry_at,
            } => {
                let status = if retry_at.is_some() {
                    "pending"
                } else {
                    "failed"
                };
                let n = diesel::update(row)
                    .set((
                        p::status.eq(status),
                        p::attempts.eq(push.attempts + 1),
                        p::last_errcode.eq(errcode),
                        p::last_error.eq(error),
                        p::next_attempt_at.eq(retry_at.unwrap_or(at)),
                    ))
                    .execute(c)?;
                if n == 1 && retry_at.is_none() {
                    give_back(c, &push.user_id, &push.topic)?;
                }
            }
        }
        Ok(())
    })
}
