//! Match records (stored suggestions with a lifecycle) and the event log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::notifications::{self, NewNotification};
use super::schema::{events, match_records};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult, new_id, now, threads};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = match_records)]
pub struct MatchRecord {
    pub id: String,
    pub request_id: String,
    pub offer_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub score: f64,
    pub partial: bool,
    pub factors: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the record reached `agreed`: when the second firm agreed.
    pub agreed_at: Option<NaiveDateTime>,
    /// Each firm's consent (when, and which user gave it).
    pub request_agreed_at: Option<NaiveDateTime>,
    pub request_agreed_by: Option<String>,
    pub offer_agreed_at: Option<NaiveDateTime>,
    pub offer_agreed_by: Option<String>,
}

impl MatchRecord {
    /// A new `suggested` record of a pair.
    pub fn suggested(s: &Suggestion) -> MatchRecord {
        let t = now();
        MatchRecord {
            id: new_id(),
            request_id: s.request_id.clone(),
            offer_id: s.offer_id.clone(),
            request_firm_id: s.request_firm_id.clone(),
            offer_firm_id: s.offer_firm_id.clone(),
            request_community_id: s.request_community_id.clone(),
            offer_community_id: s.offer_community_id.clone(),
            score: s.score,
            partial: s.partial,
            factors: s.factors.clone(),
            status: "suggested".into(),
            created_at: t,
            updated_at: t,
            agreed_at: None,
            request_agreed_at: None,
            request_agreed_by: None,
            offer_agreed_at: None,
            offer_agreed_by: None,
        }
    }
}

/// A pair the matcher proposes.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub request_id: String,
    pub offer_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub score: f64,
    pub partial: bool,
    pub factors: String,
    /// Titles, for the notifications of a new pair.
    pub request_title: String,
    pub offer_title: String,
}

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

/// Stores suggestions: a new pair becomes a `suggested` record with a
/// `match.created` event; a pair still `suggested` gets its new score. The
/// unique (request, offer) pair makes this safe to run on several nodes: the
/// insert that loses the race changes nothing and emits nothing.
pub fn store_suggestions(
    conn: &mut DbConnection,
    suggestions: &[Suggestion],
) -> StoreResult<usize> {
    let mut created = 0;
    for s in suggestions {
        let row = MatchRecord::suggested(s);
        let inserted = conn.transaction(|c| -> StoreResult<bool> {
            if insert_ignoring_duplicate(c, &row)? == 1 {
                append_event(c, "match.created", &row.id, &event_payload(&row))?;
                let mut live = vec![stream_event("match.created", &row, event_payload(&row))];
                live.extend(notify_suggested(c, &row, s)?);
                // Staff looking at the request's case see its new candidate.
                if let Some(k) = super::cases::by_listing(c, &row.request_id)?
                    && k.status != "resolved"
                {
                    live.push(super::cases::updated_event(&k, &s.request_title));
                }
                stream::append(c, &live)?;
                return Ok(true);
            }
            diesel::update(
                match_records::table
                    .filter(match_records::request_id.eq(&s.request_id))
                    .filter(match_records::offer_id.eq(&s.offer_id))
                    .filter(match_records::status.eq("suggested")),
            )
            .set((
                match_records::score.eq(s.score),
                match_records::partial.eq(s.partial),
                match_records::factors.eq(&s.factors),
                match_records::updated_at.eq(row.updated_at),
            ))
            .execute(c)?;
            Ok(false)
        })?;
        if inserted {
            stream::committed();
        }
        created += usize::from(inserted);
    }
    Ok(created)
}

/// Expires the open records of a listing that closed.
pub fn expire_for_listing(conn: &mut DbConnection, listing_id: &str) -> StoreResult<usize> {
    let (n, announced) = conn.transaction::<_, StoreError, _>(|c| {
        super::begin_write(c)?;
        let open: Vec<MatchRecord> = match_records::table
            .filter(
                match_records::request_id
                    .eq(listing_id)
                    .or(match_records::offer_id.eq(listing_id)),
            )
            .filter(match_records::status.eq_any(["suggested", "contacted"]))
            .select(MatchRecord::as_select())
            .load(c)?;
        let mut live = Vec::new();
        for r in &open {
            let n = diesel::update(
                match_records::table
                    .find(&r.id)
                    .filter(match_records::status.eq(&r.status)),
            )
            .set((
                match_records::status.eq("expired"),
                match_records::updated_at.eq(now()),
            ))
            .execute(c)?;
            if n == 1 {
                let mut after = r.clone();
                after.status = "expired".into();
                let mut payload = event_payload(&after);
                payload["previous_status"] = serde_json::json!(r.status);
                append_event(c, "match.status_changed", &r.id, &payload)?;
                live.extend(threads::on_match_status(c, &r.id, "expired")?);
                live.push(stream_event("match.status_changed", &after, payload));
            }
        }
        stream::append(c, &live)?;
        Ok((open.len(), !live.is_empty()))
    })?;
    if announced {
        stream::committed();
    }
    Ok(n)
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
    pub status: Option<String>,
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
        q = q.filter(match_records::status.eq(s.clone()));
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

/// Moves a record from `from` to `to` if it is still in `from`; records a
/// `match.status_changed` event. `Ok(None)` when it had moved meanwhile.
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    from: &str,
    to: &str,
) -> StoreResult<Option<MatchRecord>> {
    let r = conn.transaction::<_, StoreError, _>(|c| {
        let Some((r, live)) = set_status_in(c, id, from, to)? else {
            return Ok(None);
        };
        stream::append(c, &live)?;
        Ok(Some(r))
    })?;
    if r.is_some() {
        stream::committed();
    }
    Ok(r)
}

/// Which firm of a match record acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Request,
    Offer,
}

/// Records one firm's agreement to a `contacted` match; the record becomes
/// `agreed` (with its events) when the other firm has agreed too. Returns
/// the record as it now is (unchanged when it was not `contacted`), or
/// None when there is none.
pub fn agree(
    conn: &mut DbConnection,
    id: &str,
    party: Party,
    user_id: &str,
) -> StoreResult<Option<MatchRecord>> {
    let at = now();
    let (r, moved) = conn.transaction::<_, StoreError, _>(|c| {
        super::begin_write(c)?;
        // The two firms' consents must see each other: the second to agree
        // waits for the first (PostgreSQL: row lock; SQLite: write lock).
        if let DbConnection::Postgresql(pg) = c {
            diesel::sql_query("SELECT id FROM match_records WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id)
                .execute(pg)?;
        }
        let Some(r) = get(c, id)? else {
            return Ok((None, false));
        };
        if r.status != "contacted" {
            return Ok((Some(r), false));
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
        let r = get(c, id)?.ok_or(StoreError::NotFound)?;
        if r.request_agreed_at.is_none() || r.offer_agreed_at.is_none() {
            return Ok((Some(r), false));
        }
        let Some((r, live)) = set_status_in(c, id, "contacted", "agreed")? else {
            return Err(StoreError::NotFound);
        };
        stream::append(c, &live)?;
        Ok((Some(r), true))
    })?;
    if moved {
        stream::committed();
    }
    Ok(r)
}

/// Inside a transaction: [`set_status`] without appending its live events,
/// which it returns for the caller to append last.
pub fn set_status_in(
    c: &mut DbConnection,
    id: &str,
    from: &str,
    to: &str,
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
    if to == "agreed" {
        diesel::update(
            match_records::table
                .find(id)
                .filter(match_records::agreed_at.is_null()),
        )
        .set(match_records::agreed_at.eq(at))
        .execute(c)?;
    }
    let r = get(c, id)?.ok_or(StoreError::NotFound)?;
    let mut payload = event_payload(&r);
    payload["previous_status"] = serde_json::json!(from);
    append_event(c, "match.status_changed", id, &payload)?;
    let mut live = threads::on_match_status(c, id, to)?;
    live.push(stream_event("match.status_changed", &r, payload));
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
