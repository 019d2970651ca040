//! Chat threads about a listing or a match record, their messages and the
//! per-user read markers.
//!
//! Every write that others should see live appends its stream events (see
//! `stream`) as the last statements of its transaction. A message's seq is
//! taken by `UPDATE threads SET last_seq = last_seq + 1 … RETURNING`, whose
//! row lock serialises writers of one thread on both backends, so seqs are
//! gapless per thread and commit in order.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::audit::Actor as Actor_;
use super::models::MatchRecord;
use super::notifications::{self, NewNotification};
use super::schema::{
    firms, messages, thread_reads, thread_responses, thread_staff, threads, users,
};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult, new_id, now, on_backend};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = threads)]
pub struct Thread {
    pub id: String,
    pub subject_type: String,
    pub listing_id: Option<String>,
    pub match_id: Option<String>,
    pub subject_key: String,
    pub firm_a_id: String,
    pub firm_b_id: String,
    pub community_a_id: String,
    pub community_b_id: String,
    pub status: String,
    pub last_seq: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

impl Thread {
    /// One of the two firms of the thread.
    pub fn has_firm(&self, firm_id: &str) -> bool {
        self.firm_a_id == firm_id || self.firm_b_id == firm_id
    }

    /// A community whose staff may join.
    pub fn in_community(&self, community_id: &str) -> bool {
        self.community_a_id == community_id || self.community_b_id == community_id
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    pub seq: i64,
    pub kind: String,
    pub author_user_id: Option<String>,
    pub author_firm_id: Option<String>,
    pub author_role: String,
    pub author_name: String,
    pub body: String,
    pub event: Option<String>,
    pub listing_ref: Option<String>,
    pub client_msg_id: Option<String>,
    pub created_at: NaiveDateTime,
}

impl Message {
    /// A system message (the base other messages are built from).
    fn system(thread_id: &str, seq: i64, event: &str, body: String, at: NaiveDateTime) -> Message {
        Message {
            id: new_id(),
            thread_id: thread_id.to_string(),
            seq,
            kind: "system".into(),
            author_user_id: None,
            author_firm_id: None,
            author_role: "system".into(),
            author_name: String::new(),
            body,
            event: Some(event.to_string()),
            listing_ref: None,
            client_msg_id: None,
            created_at: at,
        }
    }
}

/// Who writes: a member of a participant firm, or staff who joined.
#[derive(Debug, Clone)]
pub struct Author {
    pub user_id: String,
    pub name: String,
    /// Set for firm members; `None` for staff.
    pub firm_id: Option<String>,
}

/// A message as the event log carries it (`message.created`): the same
/// JSON the API answers with for a message, key for key.
pub fn message_payload(m: &Message) -> serde_json::Value {
    json!({
        "id": m.id,
        "thread_id": m.thread_id,
        "seq": m.seq,
        "kind": m.kind,
        "author": m.author_user_id.as_ref().map(|u| json!({
            "user_id": u,
            "name": m.author_name,
            "firm_id": m.author_firm_id,
            "role": m.author_role,
        })),
        "text": m.body,
        "event": m.event,
        "listing_ref": m.listing_ref,
        "client_msg_id": m.client_msg_id,
        "created_at": m.created_at.and_utc(),
    })
}

/// The payload of `thread.created` / `thread.updated`.
fn thread_payload(t: &Thread) -> serde_json::Value {
    json!({
        "thread_id": t.id,
        "status": t.status,
        "last_seq": t.last_seq,
        "updated_at": t.updated_at.and_utc(),
    })
}

pub fn message_event(m: &Message, audience: &[String]) -> NewEvent {
    NewEvent {
        event_type: "message.created",
        audience: audience.to_vec(),
        payload: message_payload(m),
    }
}

pub fn thread_event(event_type: &'static str, t: &Thread, audience: &[String]) -> NewEvent {
    NewEvent {
        event_type,
        audience: audience.to_vec(),
        payload: thread_payload(t),
    }
}

/// Who receives a thread's events: every member of both firms and the
/// staff who joined.
pub fn audience(conn: &mut DbConnection, t: &Thread) -> StoreResult<Vec<String>> {
    let staff: Vec<String> = thread_staff::table
        .filter(thread_staff::thread_id.eq(&t.id))
        .select(thread_staff::user_id)
        .load(conn)?;
    let mut a = vec![stream::firm(&t.firm_a_id), stream::firm(&t.firm_b_id)];
    a.extend(staff.iter().map(|u| stream::user(u)));
    Ok(a)
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Thread>> {
    Ok(threads::table
        .find(id)
        .select(Thread::as_select())
        .first(conn)
        .optional()?)
}

/// One message by id.
pub fn message(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Message>> {
    Ok(messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_subject_key(conn: &mut DbConnection, key: &str) -> StoreResult<Option<Thread>> {
    Ok(threads::table
        .filter(threads::subject_key.eq(key))
        .select(Thread::as_select())
        .first(conn)
        .optional()?)
}

/// Names of these firms, by id.
pub fn firm_names(conn: &mut DbConnection, ids: &[String]) -> StoreResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(firms::table
        .filter(firms::id.eq_any(ids))
        .select((firms::id, firms::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn by_match(conn: &mut DbConnection, match_id: &str) -> StoreResult<Option<Thread>> {
    Ok(threads::table
        .filter(threads::match_id.eq(match_id))
        .select(Thread::as_select())
        .first(conn)
        .optional()?)
}

pub fn is_staff_participant(
    conn: &mut DbConnection,
    thread_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let n: i64 = thread_staff::table
        .filter(thread_staff::thread_id.eq(thread_id))
        .filter(thread_staff::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A staff participant as shown with a thread.
#[derive(Debug, Clone)]
pub struct StaffParticipant {
    pub thread_id: String,
    pub user_id: String,
    pub name: String,
    pub community_id: String,
    pub joined_at: NaiveDateTime,
}

/// The staff who joined these threads, in joining order.
pub fn staff_of(
    conn: &mut DbConnection,
    thread_ids: &[String],
) -> StoreResult<Vec<StaffParticipant>> {
    if thread_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = thread_staff::table
        .inner_join(users::table.on(users::id.eq(thread_staff::user_id)))
        .filter(thread_staff::thread_id.eq_any(thread_ids))
        .order(thread_staff::joined_at.asc())
        .select((
            thread_staff::thread_id,
            thread_staff::user_id,
            users::display_name,
            thread_staff::community_id,
            thread_staff::joined_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(thread_id, user_id, name, community_id, joined_at)| StaffParticipant {
                thread_id,
                user_id,
                name,
                community_id,
                joined_at,
            },
        )
        .collect())
}

/// Creates a thread, or returns the one that already has its subject key
/// (one per listing and asking firm, one per match record). The bool says
/// whether it was created now.
pub fn create(conn: &mut DbConnection, row: &Thread) -> StoreResult<(Thread, bool)> {
    let out = conn.transaction::<_, StoreError, _>(|c| {
        let n = on_backend!(c, |c| diesel::insert_into(threads::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?);
        if n == 0 {
            let existing = threads::table
                .filter(threads::subject_key.eq(&row.subject_key))
                .select(Thread::as_select())
                .first(c)?;
            return Ok((existing, false));
        }
        let aud = audience(c, row)?;
        stream::append(c, &[thread_event("thread.created", row, &aud)])?;
        Ok((row.clone(), true))
    })?;
    if out.1 {
        stream::committed();
    }
    Ok(out)
}

/// The thread row about a match record: its request's firm first.
pub fn match_thread_row(r: &MatchRecord, created_by: &str, at: NaiveDateTime) -> Thread {
    Thread {
        id: new_id(),
        subject_type: "match".into(),
        listing_id: None,
        match_id: Some(r.id.clone()),
        subject_key: format!("match:{}", r.id),
        firm_a_id: r.request_firm_id.clone(),
        firm_b_id: r.offer_firm_id.clone(),
        community_a_id: r.request_community_id.clone(),
        community_b_id: r.offer_community_id.clone(),
        status: "open".into(),
        last_seq: 0,
        created_by: created_by.to_string(),
        created_at: at,
        updated_at: at,
        closed_at: None,
    }
}

/// Inside a transaction: the thread about a match record, created if there
/// is none (no events; see [`thread_event_for`]). The bool says whether it
/// was created now.
pub fn open_for_match_in(
    c: &mut DbConnection,
    r: &MatchRecord,
    created_by: &str,
    at: NaiveDateTime,
) -> StoreResult<(Thread, bool)> {
    let row = match_thread_row(r, created_by, at);
    let n = on_backend!(c, |c| diesel::insert_into(threads::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c)?);
    if n == 1 {
        return Ok((row, true));
    }
    let t = by_subject_key(c, &row.subject_key)?.ok_or(StoreError::NotFound)?;
    Ok((t, false))
}

/// A thread event addressed to the thread's audience.
pub fn thread_event_for(
    c: &mut DbConnection,
    event_type: &'static str,
    t: &Thread,
) -> StoreResult<NewEvent> {
    let aud = audience(c, t)?;
    Ok(thread_event(event_type, t, &aud))
}

/// Inside a transaction: adds a staff user to a thread (no message, no
/// events); true if they had not joined before.
pub fn join_staff_in(
    c: &mut DbConnection,
    thread_id: &str,
    user_id: &str,
    community_id: &str,
    at: NaiveDateTime,
) -> StoreResult<bool> {
    let n = on_backend!(c, |c| diesel::insert_into(thread_staff::table)
        .values((
            thread_staff::thread_id.eq(thread_id),
            thread_staff::user_id.eq(user_id),
            thread_staff::community_id.eq(community_id),
            thread_staff::joined_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(n == 1)
}

/// Inside a transaction: a text message by a staff member (allowed in a
/// closed thread: brokering reopens nothing but still speaks).
pub fn insert_staff_text(
    c: &mut DbConnection,
    thread_id: &str,
    actor: &Actor_,
    body: &str,
    at: NaiveDateTime,
) -> StoreResult<Message> {
    let seq = next_seq(c, thread_id, false, at)?.ok_or(StoreError::NotFound)?;
    let m = Message {
        kind: "text".into(),
        author_user_id: Some(actor.user_id.clone()),
        author_role: "staff".into(),
        author_name: actor.name.clone(),
        event: None,
        ..Message::system(thread_id, seq, "", body.to_string(), at)
    };
    diesel::insert_into(messages::table).values(&m).execute(c)?;
    advance_read(c, thread_id, &actor.user_id, seq, at)?;
    Ok(m)
}

/// Takes the next seq of a thread; `None` when there is no such thread or
/// (with `open_only`) it is closed.
fn next_seq(
    c: &mut DbConnection,
    id: &str,
    open_only: bool,
    at: NaiveDateTime,
) -> StoreResult<Option<i64>> {
    let set = (
        threads::last_seq.eq(threads::last_seq + 1),
        threads::updated_at.eq(at),
    );
    Ok(if open_only {
        on_backend!(c, |c| diesel::update(
            threads::table.find(id).filter(threads::status.eq("open"))
        )
        .set(set)
        .returning(threads::last_seq)
        .get_result::<i64>(c)
        .optional()?)
    } else {
        on_backend!(c, |c| diesel::update(threads::table.find(id))
            .set(set)
            .returning(threads::last_seq)
            .get_result::<i64>(c)
            .optional()?)
    })
}

/// Moves a user's read marker forward to `seq` (never back); true if it moved.
fn advance_read(
    c: &mut DbConnection,
    thread_id: &str,
    user_id: &str,
    seq: i64,
    at: NaiveDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        thread_reads::table
            .filter(thread_reads::thread_id.eq(thread_id))
            .filter(thread_reads::user_id.eq(user_id))
            .filter(thread_reads::last_read_seq.lt(seq)),
    )
    .set((
        thread_reads::last_read_seq.eq(seq),
        thread_reads::updated_at.eq(at),
    ))
    .execute(c)?;
    if n > 0 {
        return Ok(true);
    }
    let row = (
        thread_reads::thread_id.eq(thread_id),
        thread_reads::user_id.eq(user_id),
        thread_reads::last_read_seq.eq(seq),
        thread_reads::updated_at.eq(at),
    );
    let n = on_backend!(c, |c| diesel::insert_into(thread_reads::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(n > 0)
}

/// Inside a transaction: posts a system message and tells the thread's
/// audience about it and about the thread's new state (appended last, as
/// the event log requires). Returns the thread as it now is.
fn announce(
    c: &mut DbConnection,
    thread_id: &str,
    event: &str,
    body: String,
    at: NaiveDateTime,
) -> StoreResult<Thread> {
    let m = insert_system(c, thread_id, event, body, at)?;
    let t = get(c, thread_id)?.ok_or(StoreError::NotFound)?;
    let aud = audience(c, &t)?;
    stream::append(
        c,
        &[
            message_event(&m, &aud),
            thread_event("thread.updated", &t, &aud),
        ],
    )?;
    Ok(t)
}

/// Inserts a system message (allowed in closed threads too).
pub fn insert_system(
    c: &mut DbConnection,
    thread_id: &str,
    event: &str,
    body: String,
    at: NaiveDateTime,
) -> StoreResult<Message> {
    let seq = next_seq(c, thread_id, false, at)?.ok_or(StoreError::NotFound)?;
    let m = Message::system(thread_id, seq, event, body, at);
    diesel::insert_into(messages::table).values(&m).execute(c)?;
    Ok(m)
}

/// A new text message.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub author: Author,
    pub body: String,
    pub listing_ref: Option<String>,
    pub client_msg_id: String,
}

#[derive(Debug)]
pub enum Posted {
    Created(Message),
    /// The author already posted this `client_msg_id` here.
    Existing(Message),
    Closed,
}

fn by_client_id(
    conn: &mut DbConnection,
    thread_id: &str,
    user_id: &str,
    client_msg_id: &str,
) -> StoreResult<Option<Message>> {
    Ok(messages::table
        .filter(messages::thread_id.eq(thread_id))
        .filter(messages::author_user_id.eq(user_id))
        .filter(messages::client_msg_id.eq(client_msg_id))
        .select(Message::as_select())
        .first(conn)
        .optional()?)
}

/// Posts a message, once per (author, `client_msg_id`): a retry returns
/// the message stored the first time. Posting also marks the thread read
/// up to the new message for its author.
pub fn post(conn: &mut DbConnection, thread_id: &str, new: NewMessage) -> StoreResult<Posted> {
    let user_id = new.author.user_id.clone();
    if let Some(m) = by_client_id(conn, thread_id, &user_id, &new.client_msg_id)? {
        return Ok(Posted::Existing(m));
    }
    let r = conn.transaction::<_, StoreError, _>(|c| {
        let at = now();
        let Some(seq) = next_seq(c, thread_id, true, at)? else {
            return Ok(None);
        };
        let m = Message {
            id: new_id(),
            thread_id: thread_id.to_string(),
            seq,
            kind: "text".into(),
            author_user_id: Some(user_id.clone()),
            author_firm_id: new.author.firm_id.clone(),
            author_role: if new.author.firm_id.is_some() {
                "firm"
            } else {
                "staff"
            }
            .into(),
            author_name: new.author.name.clone(),
            body: new.body.clone(),
            event: None,
            listing_ref: new.listing_ref.clone(),
            client_msg_id: Some(new.client_msg_id.clone()),
            created_at: at,
        };
        diesel::insert_into(messages::table).values(&m).execute(c)?;
        advance_read(c, thread_id, &user_id, seq, at)?;
        let t = get(c, thread_id)?.ok_or(StoreError::NotFound)?;
        track_response(c, &t, &m)?;
        let aud = audience(c, &t)?;
        let mut live = vec![message_event(&m, &aud)];
        live.extend(notify_message(c, &t, &m)?);
        stream::append(c, &live)?;
        Ok(Some(m))
    });
    match r {
        Ok(Some(m)) => {
            stream::committed();
            Ok(Posted::Created(m))
        }
        Ok(None) => match get(conn, thread_id)? {
            Some(_) => Ok(Posted::Closed),
            None => Err(StoreError::NotFound),
        },
        // The same client id raced in on another connection: that one won.
        Err(StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => by_client_id(conn, thread_id, &user_id, &new.client_msg_id)?
            .map(Posted::Existing)
            .ok_or(StoreError::Conflict("message".into())),
        Err(e) => Err(e),
    }
}

/// Response times: the first message a firm of a two-firm thread writes
/// opens the thread's row for the other firm; that firm's first message
/// after it is its response.
fn track_response(c: &mut DbConnection, t: &Thread, m: &Message) -> StoreResult<()> {
    let Some(author) = m.author_firm_id.as_deref() else {
        return Ok(());
    };
    if t.firm_a_id == t.firm_b_id || !t.has_firm(author) {
        return Ok(());
    }
    let open: Option<String> = thread_responses::table
        .find(&t.id)
        .select(thread_responses::firm_id)
        .first(c)
        .optional()?;
    match open {
        None => {
            let other = if author == t.firm_a_id {
                &t.firm_b_id
            } else {
                &t.firm_a_id
            };
            diesel::insert_into(thread_responses::table)
                .values((
                    thread_responses::thread_id.eq(&t.id),
                    thread_responses::firm_id.eq(other),
                    thread_responses::opened_at.eq(m.created_at),
                ))
                .execute(c)?;
        }
        Some(f) if f == author => {
            diesel::update(
                thread_responses::table
                    .find(&t.id)
                    .filter(thread_responses::responded_at.is_null()),
            )
            .set(thread_responses::responded_at.eq(Some(m.created_at)))
            .execute(c)?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// (opened, answered) of every thread a firm answered.
pub fn response_times(
    c: &mut DbConnection,
    firm_id: &str,
) -> StoreResult<Vec<(NaiveDateTime, NaiveDateTime)>> {
    let rows: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = thread_responses::table
        .filter(thread_responses::firm_id.eq(firm_id))
        .filter(thread_responses::responded_at.is_not_null())
        .select((thread_responses::opened_at, thread_responses::responded_at))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(o, r)| r.map(|r| (o, r)))
        .collect())
}

/// Everyone in the thread but the author hears of a new message: one
/// unread notification per thread and user, counting the messages.
fn notify_message(c: &mut DbConnection, t: &Thread, m: &Message) -> StoreResult<Vec<NewEvent>> {
    let mut users = notifications::firm_members(c, &[t.firm_a_id.clone(), t.firm_b_id.clone()])?;
    users.extend(
        thread_staff::table
            .filter(thread_staff::thread_id.eq(&t.id))
            .select(thread_staff::user_id)
            .load::<String>(c)?,
    );
    users.retain(|u| Some(u) != m.author_user_id.as_ref());
    let preview: String = m.body.chars().take(60).collect();
    notifications::notify(
        c,
        &users,
        &NewNotification {
            kind: "message",
            title: "新消息".into(),
            body: format!("{}：{preview}", m.author_name),
            subject_type: "thread",
            subject_id: t.id.clone(),
            thread_id: Some(t.id.clone()),
            group_key: Some(format!("thread:{}", t.id)),
        },
    )
}

/// Closes (`open = false`) or reopens a thread, recording who did it.
/// `Ok(None)` when it already had that status.
pub fn set_open(
    conn: &mut DbConnection,
    thread_id: &str,
    open: bool,
    by_name: &str,
) -> StoreResult<Option<Thread>> {
    let (from, to) = if open {
        ("closed", "open")
    } else {
        ("open", "closed")
    };
    let r = conn.transaction::<_, StoreError, _>(|c| {
        let at = now();
        let n = diesel::update(
            threads::table
                .find(thread_id)
                .filter(threads::status.eq(from)),
        )
        .set((
            threads::status.eq(to),
            threads::closed_at.eq((!open).then_some(at)),
            threads::updated_at.eq(at),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        let (event, body) = if open {
            ("reopened", format!("{by_name} 重新打开了对话"))
        } else {
            ("closed", format!("{by_name} 关闭了对话"))
        };
        announce(c, thread_id, event, body, at).map(Some)
    })?;
    if r.is_some() {
        stream::committed();
    }
    Ok(r)
}

/// Adds a staff user to a thread with a system message; `Ok(None)` when
/// they had already joined.
pub fn join_staff(
    conn: &mut DbConnection,
    thread_id: &str,
    actor: &Actor_,
    community_id: &str,
) -> StoreResult<Option<Thread>> {
    let r = conn.transaction::<_, StoreError, _>(|c| {
        let at = now();
        if !join_staff_in(c, thread_id, &actor.user_id, community_id, at)? {
            return Ok(None);
        }
        super::audit::record(
            c,
            actor,
            community_id,
            "thread.joined",
            None,
            ("thread", thread_id),
            json!({}),
        )?;
        let body = format!("社区工作人员 {} 加入了对话", actor.name);
        announce(c, thread_id, "staff_joined", body, at).map(Some)
    })?;
    if r.is_some() {
        stream::committed();
    }
    Ok(r)
}

fn match_status_label(status: &str) -> &str {
    match status {
        "suggested" => "推荐",
        "contacted" => "已联系",
        "agreed" => "已达成",
        "declined" => "已婉拒",
        "expired" => "已失效",
        other => other,
    }
}

/// Inside a match record's status change: records it in the thread about
/// that match, if there is one. Returns the events to append last.
pub fn on_match_status(
    c: &mut DbConnection,
    match_id: &str,
    to: &str,
) -> StoreResult<Vec<NewEvent>> {
    let Some(t) = by_match(c, match_id)? else {
        return Ok(Vec::new());
    };
    let m = insert_system(
        c,
        &t.id,
        "match_status",
        format!("匹配状态变为：{}", match_status_label(to)),
        now(),
    )?;
    let aud = audience(c, &t)?;
    Ok(vec![message_event(&m, &aud)])
}

/// Moves a user's read marker to `seq` (clamped to the thread's last seq;
/// never backwards) and returns the marker. A move is announced to the
/// user's other devices.
pub fn mark_read(conn: &mut DbConnection, t: &Thread, user_id: &str, seq: i64) -> StoreResult<i64> {
    let seq = seq.min(t.last_seq).max(0);
    let moved = conn.transaction::<_, StoreError, _>(|c| {
        if !advance_read(c, &t.id, user_id, seq, now())? {
            return Ok(false);
        }
        stream::append(
            c,
            &[NewEvent {
                event_type: "thread.read",
                audience: vec![stream::user(user_id)],
                payload: json!({ "thread_id": t.id, "last_read_seq": seq }),
            }],
        )?;
        Ok(true)
    })?;
    if moved {
        stream::committed();
    }
    Ok(reads_of(conn, user_id, std::slice::from_ref(&t.id))?
        .get(&t.id)
        .copied()
        .unwrap_or(0))
}

/// Read markers of a user in these threads.
pub fn reads_of(
    conn: &mut DbConnection,
    user_id: &str,
    thread_ids: &[String],
) -> StoreResult<HashMap<String, i64>> {
    if thread_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(thread_reads::table
        .filter(thread_reads::user_id.eq(user_id))
        .filter(thread_reads::thread_id.eq_any(thread_ids))
        .select((thread_reads::thread_id, thread_reads::last_read_seq))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// The last message of each of these threads.
pub fn last_messages(
    conn: &mut DbConnection,
    thread_ids: &[String],
) -> StoreResult<HashMap<String, Message>> {
    if thread_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(messages::table
        .inner_join(
            threads::table.on(threads::id
                .eq(messages::thread_id)
                .and(threads::last_seq.eq(messages::seq))),
        )
        .filter(threads::id.eq_any(thread_ids))
        .select(Message::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| (m.thread_id.clone(), m))
        .collect())
}

/// Whose threads a list shows.
#[derive(Debug, Clone)]
pub enum ThreadScope {
    /// Threads of a firm (every member sees them).
    Firm(String),
    /// Threads a staff user joined.
    Joined(String),
    /// Every thread a community's staff may join.
    Community(String),
}

#[derive(Debug, Clone, Default)]
pub struct ThreadFilter {
    pub status: Option<String>,
    /// Continue after this (updated_at, id).
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Threads in scope, most recent activity first.
pub fn list(
    conn: &mut DbConnection,
    scope: &ThreadScope,
    f: &ThreadFilter,
) -> StoreResult<Vec<Thread>> {
    let mut q = threads::table.select(Thread::as_select()).into_boxed();
    match scope.clone() {
        ThreadScope::Firm(firm) => {
            q = q.filter(
                threads::firm_a_id
                    .eq(firm.clone())
                    .or(threads::firm_b_id.eq(firm)),
            )
        }
        ThreadScope::Joined(user) => {
            q = q.filter(
                threads::id.eq_any(
                    thread_staff::table
                        .filter(thread_staff::user_id.eq(user))
                        .select(thread_staff::thread_id),
                ),
            )
        }
        ThreadScope::Community(c) => {
            q = q.filter(
                threads::community_a_id
                    .eq(c.clone())
                    .or(threads::community_b_id.eq(c)),
            )
        }
    }
    if let Some(s) = &f.status {
        q = q.filter(threads::status.eq(s.clone()));
    }
    if let Some((t, id)) = &f.after {
        q = q.filter(
            threads::updated_at
                .lt(*t)
                .or(threads::updated_at.eq(*t).and(threads::id.lt(id.clone()))),
        );
    }
    Ok(q.order((threads::updated_at.desc(), threads::id.desc()))
        .limit(f.limit)
        .load(conn)?)
}

/// A page of messages in seq order: after `after_seq` (oldest first), or
/// before `before_seq` (the newest ones below it), or the newest ones.
/// The bool says whether more lie beyond the page in the direction read.
pub fn messages_page(
    conn: &mut DbConnection,
    thread_id: &str,
    after_seq: Option<i64>,
    before_seq: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Message>, bool)> {
    let mut q = messages::table
        .filter(messages::thread_id.eq(thread_id))
        .select(Message::as_select())
        .into_boxed();
    if let Some(a) = after_seq {
        q = q.filter(messages::seq.gt(a));
    }
    if let Some(b) = before_seq {
        q = q.filter(messages::seq.lt(b));
    }
    let forward = after_seq.is_some() && before_seq.is_none();
    let mut rows: Vec<Message> = if forward {
        q.order(messages::seq.asc()).limit(limit + 1).load(conn)?
    } else {
        q.order(messages::seq.desc()).limit(limit + 1).load(conn)?
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if !forward {
        rows.reverse();
    }
    Ok((rows, more))
}
