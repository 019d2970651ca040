//! Per-user notifications: new match suggestions, messages, brokered
//! contacts, verifications, new cases for staff. Each is stored for its user
//! and sent live as a `notification` event in the same transaction as what
//! caused it.
//!
//! Messages coalesce: a user has at most one unread notification per thread
//! (its `group_key`), replaced by a newer one that counts the messages.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{community_staff, memberships, notifications};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult, new_id, now};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub notification_type: String,
    pub title: String,
    pub body: String,
    pub subject_type: String,
    pub subject_id: String,
    pub thread_id: Option<String>,
    pub group_key: Option<String>,
    pub count: i32,
    pub read_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A notification to send to some users.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub subject_type: &'static str,
    pub subject_id: String,
    pub thread_id: Option<String>,
    /// Unread notifications of a user with the same key are replaced.
    pub group_key: Option<String>,
}

/// A notification as the event log carries it (`notification`): the same
/// JSON the API answers with for a notification, key for key.
pub fn payload(n: &Notification) -> serde_json::Value {
    serde_json::json!({
        "id": n.id,
        "type": n.notification_type,
        "title": n.title,
        "body": n.body,
        "subject": { "type": n.subject_type, "id": n.subject_id },
        "thread_id": n.thread_id,
        "count": n.count,
        "read_at": n.read_at.map(|t| t.and_utc()),
        "created_at": n.created_at.and_utc(),
    })
}

/// Users who are members of any of the firms.
pub fn firm_members(c: &mut DbConnection, firm_ids: &[String]) -> StoreResult<Vec<String>> {
    Ok(memberships::table
        .filter(memberships::firm_id.eq_any(firm_ids))
        .select(memberships::user_id)
        .order(memberships::user_id)
        .load(c)?)
}

/// The staff users of a community.
pub fn community_staff(c: &mut DbConnection, community_id: &str) -> StoreResult<Vec<String>> {
    Ok(community_staff::table
        .filter(community_staff::community_id.eq(community_id))
        .select(community_staff::user_id)
        .order(community_staff::user_id)
        .load(c)?)
}

/// Inside a transaction: stores `n` for each user and returns the live
/// events, to be appended last.
pub fn notify(
    c: &mut DbConnection,
    users: &[String],
    n: &NewNotification,
) -> StoreResult<Vec<NewEvent>> {
    let mut users: Vec<&String> = users.iter().collect();
    users.sort();
    users.dedup();
    let at = now();
    let mut live = Vec::with_capacity(users.len());
    for user in users {
        let mut count = 1;
        if let Some(key) = &n.group_key {
            let unread = notifications::table
                .filter(notifications::user_id.eq(user))
                .filter(notifications::group_key.eq(key))
                .filter(notifications::read_at.is_null());
            let before: Option<i32> = unread
                .select(diesel::dsl::max(notifications::count))
                .first(c)?;
            if let Some(k) = before {
                count += k;
                diesel::delete(unread).execute(c)?;
            }
        }
        let row = Notification {
            id: new_id(),
            user_id: user.clone(),
            notification_type: n.kind.to_string(),
            title: n.title.clone(),
            body: n.body.clone(),
            subject_type: n.subject_type.to_string(),
            subject_id: n.subject_id.clone(),
            thread_id: n.thread_id.clone(),
            group_key: n.group_key.clone(),
            count,
            read_at: None,
            created_at: at,
        };
        diesel::insert_into(notifications::table)
            .values(&row)
            .execute(c)?;
        live.push(NewEvent {
            event_type: "notification",
            audience: vec![stream::user(user)],
            payload: payload(&row),
        });
    }
    Ok(live)
}

/// A user's notifications, newest first, after the cursor id.
pub fn list(
    c: &mut DbConnection,
    user_id: &str,
    unread_only: bool,
    before_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    let mut q = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(Notification::as_select())
        .into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    if let Some(id) = before_id {
        q = q.filter(notifications::id.lt(id.to_string()));
    }
    Ok(q.order(notifications::id.desc()).limit(limit).load(c)?)
}

pub fn unread_count(c: &mut DbConnection, user_id: &str) -> StoreResult<i64> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(c)?)
}

/// Marks one of the user's notifications read (or all with `id: None`);
/// the user's other devices hear of it. Returns how many changed.
pub fn mark_read(c: &mut DbConnection, user_id: &str, id: Option<&str>) -> StoreResult<usize> {
    let n = c.transaction::<_, StoreError, _>(|c| {
        let at = now();
        let mut q = diesel::update(notifications::table)
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null())
            .into_boxed();
        if let Some(id) = id {
            q = q.filter(notifications::id.eq(id));
        }
        let n = q.set(notifications::read_at.eq(at)).execute(c)?;
        if n > 0 {
            stream::append(
                c,
                &[NewEvent {
                    event_type: "notification.read",
                    audience: vec![stream::user(user_id)],
                    payload: serde_json::json!({ "id": id, "all": id.is_none() }),
                }],
            )?;
        }
        Ok(n)
    })?;
    if n > 0 {
        stream::committed();
    }
    Ok(n)
}

pub fn get(c: &mut DbConnection, user_id: &str, id: &str) -> StoreResult<Option<Notification>> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::id.eq(id))
        .select(Notification::as_select())
        .first(c)
        .optional()?)
}
