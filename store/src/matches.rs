//! Match records (stored suggestions with a lifecycle) and the event log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use zhiqilian_matcher::MatchStatus;

use super::notifications::{self, NewNotification};
use super::schema::{events, match_records};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult, now};

pub use crate::models::{MatchRecord, Suggestion};

/// Appends an event for later consumers (notifications, webhooks, streams).
pub fn append_event(
    conn: &mut DbConnection,
    event_type: &str,
    subject_id: &str,
    payload: &serde_json::Value,
) -> StoreResult<()> {
    diesel::insert_into(events::table)
        .values((
            events::event_type.eq(event_type),
            events::subject_id.eq(subject_id),
            events::payload.eq(payload.to_string()),
            events::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

fn event_payload(r: &MatchRecord) -> serde_json::Value {
    serde_json::json!({
        "match_id": r.id,
        "request_id": r.request_id,
        "offer_id": r.offer_id,
        "request_firm_id": r.request_firm_id,
        "offer_firm_id": r.offer_firm_id,
        "status": r.status,
        "score": r.score,
    })
}

/// The live-stream event of a record: both firms and their communities'
/// staff receive it.
fn stream_event(event_type: &'static str, r: &MatchRecord, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        event_type,
        audience: vec![
            stream::firm(&r.request_firm_id),
            stream::firm(&r.offer_firm_id),
            stream::community(&r.request_community_id),
            stream::community(&r.offer_community_id),
        ],
        payload,
    }
}

/// `INSERT … ON CONFLICT DO NOTHING`: 1 if inserted, 0 if the pair exists.
fn insert_ignoring_duplicate(conn: &mut DbConnection, row: &MatchRecord) -> StoreResult<usize> {
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(match_records::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Postgresql(c) => diesel::insert_into(match_records::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    })
}

/// Inside a transaction: stores one suggestion. A new pair becomes a
/// `suggested` record with its `match.created` event and notifications
/// (returned with the live events, for the caller to append last); a pair
/// still `suggested` gets its new score and returns `None`. The unique
/// (request, offer) pair makes this safe on several nodes: the insert that
/// loses the race changes nothing and emits nothing.
pub fn save_suggestion(
    c: &mut DbConnection,
    s: &Suggestion,
) -> StoreResult<Option<(MatchRecord, Vec<NewEvent>)>> {
    let row = MatchRecord::suggested(s);
    if insert_ignoring_duplicate(c, &row)? == 1 {
        append_event(c, "match.created", &row.id, &event_payload(&row))?;
        let mut live = vec![stream_event("match.created", &row, event_payload(&row))];
        live.extend(notify_suggested(c, &row, s)?);
        return Ok(Some((row, live)));
    }
    diesel::update(
        match_records::table
            .filter(match_records::request_id.eq(&s.request_id))
            .filter(match_records::offer_id.eq(&s.offer_id))
            .filter(match_records::status.eq(MatchStatus::Suggested)),
    )
    .set((
        match_records::score.eq(s.score),
        match_records::partial.eq(s.partial),
        match_records::factors.eq(&s.factors),
        match_records::updated_at.eq(row.updated_at),
    ))
    .execute(c)?;
    Ok(None)
}

/// The open (`suggested` or `contacted`) records of a listing, on either
/// side.
pub fn open_for_listing(c: &mut DbConnection, listing_id: &str) -> StoreResult<Vec<MatchRecord>> {
    Ok(match_records::table
        .filter(
            match_records::request_id
                .eq(listing_id)
                .or(match_records::offer_id.eq(listing_id)),
        )
        .filter(match_records::status.eq_any([MatchStatus::Suggested, MatchStatus::Contacted]))
        .select(MatchRecord::as_select())
        .load(c)?)
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<MatchRecord>> {
    Ok(match_records::table
        .find(id)
        .select(MatchRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Who may see match records: both firms, their communities' staff, admins.
#[derive(Debug, Clone)]
pub enum MatchScope {
    All,
    Community(String),
    Firm(String),
    Nobody,
}

pub fn visible(r: &MatchRecord, scope: &MatchScope) -> bool {
    match scope {
        MatchScope::All => true,
        MatchScope::Community(c) => r.request_community_id == *c || r.offer_community_id == *c,
        MatchScope::Firm(f) => r.request_firm_id == *f || r.offer_firm_id == *f,
        MatchScope::Nobody => false,
    }
}

#[derive(Debug, Clone, Default)]
pub struct MatchFilter {
    pub status: Option<MatchStatus>,
    pub listing_id: Option<String>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Records in scope, newest first, paged by id.
pub fn list(
    conn: &mut DbConnection,
    scope: &MatchScope,
    f: &MatchFilter,
) -> StoreResult<Vec<MatchRecord>> {
    let mut q = match_records::table
        .select(MatchRecord::as_select())
        .into_boxed();
    match scope.clone() {
        MatchScope::All => {}
        MatchScope::Community(c) => {
            q = q.filter(
                match_records::request_community_id
                    .eq(c.clone())
                    .or(match_records::offer_community_id.eq(c)),
            )
        }
        MatchScope::Firm(firm) => {
            q = q.filter(
                match_records::request_firm_id
                    .eq(firm.clone())
                    .or(match_records::offer_firm_id.eq(firm)),
            )
        }
        MatchScope::Nobody => return Ok(Vec::new()),
    }
    if let Some(s) = &f.status {
        q = q.filter(match_records::status.eq(*s));
    }
    if let Some(l) = &f.listing_id {
        q = q.filter(
            match_records::request_id
                .eq(l.clone())
                .or(match_records::offer_id.eq(l.clone())),
        );
    }
    if let Some(b) = &f.before_id {
        q = q.filter(match_records::id.lt(b.clone()));
    }
    Ok(q.order(match_records::id.desc())
        .limit(f.limit)
        .load(conn)?)
}

/// Which firm of a match record acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Request,
    Offer,
}

/// Inside a write transaction: records one firm's consent to a `contacted`
/// match (once per side) and returns the record as it now is; `None` when
/// there is none. Locks the row first so the two firms' consents see each
/// other (PostgreSQL: row lock; SQLite: the write lock already taken).
pub fn record_consent(
    c: &mut DbConnection,
    id: &str,
    party: Party,
    user_id: &str,
) -> StoreResult<Option<MatchRecord>> {
    let at = now();
    if let DbConnection::Postgresql(pg) = c {
        diesel::sql_query("SELECT id FROM match_records WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(pg)?;
    }
    let Some(r) = get(c, id)? else {
        return Ok(None);
    };
    if r.status != MatchStatus::Contacted {
        return Ok(Some(r));
    }
    let target = match_records::table.find(id);
    match party {
        Party::Request if r.request_agreed_at.is_none() => {
            diesel::update(target)
                .set((
                    match_records::request_agreed_at.eq(Some(at)),
                    match_records::request_agreed_by.eq(Some(user_id)),
                    match_records::updated_at.eq(at),
                ))
                .execute(c)?;
        }
        Party::Offer if r.offer_agreed_at.is_none() => {
            diesel::update(target)
                .set((
                    match_records::offer_agreed_at.eq(Some(at)),
                    match_records::offer_agreed_by.eq(Some(user_id)),
                    match_records::updated_at.eq(at),
                ))
                .execute(c)?;
        }
        _ => {}
    }
    get(c, id)
}

/// Inside a transaction: moves a record from `from` to `to` if it is still
/// in `from` and records a `match.status_changed` event; returns the record
/// and its live event for the caller to append last. `Ok(None)` when it had
/// moved meanwhile.
pub fn set_status_in(
    c: &mut DbConnection,
    id: &str,
    from: MatchStatus,
    to: MatchStatus,
) -> StoreResult<Option<(MatchRecord, Vec<NewEvent>)>> {
    let at = now();
    let n = diesel::update(
        match_records::table
            .find(id)
            .filter(match_records::status.eq(from)),
    )
    .set((
        match_records::status.eq(to),
        match_records::updated_at.eq(at),
    ))
    .execute(c)?;
    if n == 0 {
        return Ok(None);
    }
    if to == MatchStatus::Agreed {
        diesel::update(
            match_records::table
                .find(id)
                .filter(match_records::agreed_at.is_null()),
        )
        .set(match_records::agreed_at.eq(at))
        .execute(c)?;
    } else if from == MatchStatus::Agreed {
        // The agreement was cancelled: the match no longer counts as agreed
        // in the statistics (a new agreement sets the time anew).
        diesel::update(match_records::table.find(id))
            .set(match_records::agreed_at.eq(None::<NaiveDateTime>))
            .execute(c)?;
    }
    let r = get(c, id)?.ok_or(StoreError::NotFound)?;
    let mut payload = event_payload(&r);
    payload["previous_status"] = serde_json::json!(from);
    append_event(c, "match.status_changed", id, &payload)?;
    let live = vec![stream_event("match.status_changed", &r, payload)];
    Ok(Some((r, live)))
}

/// Inside a transaction: the record of a pair, created as `suggested` with
/// `score` when there is none. Returns it and the live events of a creation.
pub fn get_or_create_in(
    c: &mut DbConnection,
    s: &Suggestion,
) -> StoreResult<(MatchRecord, Vec<NewEvent>)> {
    let row = MatchRecord::suggested(s);
    if insert_ignoring_duplicate(c, &row)? == 1 {
        append_event(c, "match.created", &row.id, &event_payload(&row))?;
        let live = vec![stream_event("match.created", &row, event_payload(&row))];
        return Ok((row, live));
    }
    let existing = match_records::table
        .filter(match_records::request_id.eq(&s.request_id))
        .filter(match_records::offer_id.eq(&s.offer_id))
        .select(MatchRecord::as_select())
        .first(c)?;
    Ok((existing, Vec::new()))
}

/// The members of both firms hear of a new suggestion.
fn notify_suggested(
    c: &mut DbConnection,
    r: &MatchRecord,
    s: &Suggestion,
) -> StoreResult<Vec<NewEvent>> {
    let mut live = Vec::new();
    for (firm, mine, theirs, what) in [
        (&r.request_firm_id, &s.request_title, &s.offer_title, "需求"),
        (&r.offer_firm_id, &s.offer_title, &s.request_title, "供给"),
    ] {
        let users = notifications::firm_members(c, std::slice::from_ref(firm))?;
        let n = NewNotification {
            kind: "match.suggested",
            title: "新的匹配推荐".into(),
            body: format!("您的{what}「{mine}」匹配到「{theirs}」"),
            subject_type: "match",
            subject_id: r.id.clone(),
            thread_id: None,
            group_key: None,
        };
        live.extend(notifications::notify(c, &users, &n)?);
    }
    Ok(live)
}

/// Stored records of some requests, best first per request.
pub fn of_requests(
    conn: &mut DbConnection,
    request_ids: &[String],
) -> StoreResult<Vec<MatchRecord>> {
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match_records::table
        .filter(match_records::request_id.eq_any(request_ids))
        .order((match_records::request_id, match_records::score.desc()))
        .select(MatchRecord::as_select())
        .load(conn)?)
}

/// Events of one type, oldest first (tests and consumers).
pub fn events_of(
    conn: &mut DbConnection,
    event_type: &str,
) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(events::table
        .filter(events::event_type.eq(event_type))
        .order(events::seq.asc())
        .select((events::seq, events::subject_id, events::payload))
        .load(conn)?)
}

/// Records of requests of a community (`None`: all) created since `from`:
/// request, both communities, creation and agreement times — for park
/// statistics.
#[allow(clippy::type_complexity)]
pub fn for_stats(
    conn: &mut DbConnection,
    community: Option<&str>,
    from: NaiveDateTime,
) -> StoreResult<Vec<(String, String, String, NaiveDateTime, Option<NaiveDateTime>)>> {
    let mut q = match_records::table
        .filter(match_records::created_at.ge(from))
        .select((
            match_records::request_id,
            match_records::request_community_id,
            match_records::offer_community_id,
            match_records::created_at,
            match_records::agreed_at,
        ))
        .into_boxed();
    if let Some(c) = community {
        q = q.filter(match_records::request_community_id.eq(c.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Records of requests of a community (`None`: all) created since `from`:
/// id, status and both communities — for the deal funnel.
#[allow(clippy::type_complexity)]
pub fn for_funnel(
    conn: &mut DbConnection,
    community: Option<&str>,
    from: NaiveDateTime,
) -> StoreResult<Vec<(String, String, String, String)>> {
    let mut q = match_records::table
        .filter(match_records::created_at.ge(from))
        .select((
            match_records::id,
            match_records::status,
            match_records::request_community_id,
            match_records::offer_community_id,
        ))
        .into_boxed();
    if let Some(c) = community {
        q = q.filter(match_records::request_community_id.eq(c.to_string()));
    }
    Ok(q.load(conn)?)
}
