//! Cases: the staff queue of urgent and emergency requests, and the staff
//! actions on them (claim, broker, resolve, escalate).
//!
//! A case opens in the transaction that writes its request, so no emergency
//! is acknowledged without entering the queue. Every action updates the case
//! guarded by the state it was decided on (a concurrent action makes it fail
//! with a conflict instead of overwriting), writes its audit entry, and
//! appends its live events last, as the event log requires.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::audit::{self, Actor};
use super::matches::{self, MatchRecord, Suggestion};
use super::models::Listing;
use super::notifications::{self, NewNotification};
use super::schema::{case_contacts, cases, communities, users};
use super::stream::{self, NewEvent};
use super::threads::{self, Thread};
use super::{DbConnection, StoreError, StoreResult, new_id, now, on_backend};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = cases)]
pub struct Case {
    pub id: String,
    pub listing_id: String,
    pub firm_id: String,
    pub community_id: String,
    pub origin_community_id: String,
    pub escalated_from: Option<String>,
    pub urgency: String,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<NaiveDateTime>,
    pub first_contact_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub outcome_note: String,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the SLA sweep first found the case overdue.
    pub overdue_at: Option<NaiveDateTime>,
}

impl Case {
    /// Staff of this community may read the case.
    pub fn readable_by(&self, community_id: &str) -> bool {
        self.community_id == community_id
            || self.origin_community_id == community_id
            || self.escalated_from.as_deref() == Some(community_id)
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_contacts)]
pub struct Contact {
    pub case_id: String,
    pub match_id: String,
    pub thread_id: String,
    pub offer_id: String,
    pub offer_firm_id: String,
    pub brokered_by: String,
    pub created_at: NaiveDateTime,
}

pub const ACTIVE: [&str; 3] = ["open", "claimed", "brokered"];
pub const OUTCOMES: [&str; 3] = ["solved", "partly", "not_solved"];

/// Why an action was refused.
#[derive(Debug)]
pub enum Refusal {
    NotFound,
    Resolved,
    ClaimedByOther { by: String },
    Changed,
}

pub type ActionResult<T> = Result<Result<T, Refusal>, StoreError>;

/// Who acts on which case: the community whose cases they hold (`None`:
/// any, platform admins), and the request's title for events and messages.
#[derive(Debug, Clone)]
pub struct Acting {
    pub case_id: String,
    pub community: Option<String>,
    pub actor: Actor,
    pub title: String,
}

fn case_event(event_type: &'static str, k: &Case, title: &str, audience: Vec<String>) -> NewEvent {
    NewEvent {
        event_type,
        audience,
        payload: json!({
            "id": k.id,
            "status": k.status,
            "urgency": k.urgency,
            "community_id": k.community_id,
            "listing_id": k.listing_id,
            "title": title,
        }),
    }
}

/// The staff of the case's community (and of the community it came from)
/// hear of a change.
pub fn updated_event(k: &Case, title: &str) -> NewEvent {
    let mut audience = vec![stream::community(&k.community_id)];
    if let Some(from) = &k.escalated_from {
        audience.push(stream::community(from));
    }
    case_event("case.updated", k, title, audience)
}

fn opened_events(c: &mut DbConnection, k: &Case, title: &str) -> StoreResult<Vec<NewEvent>> {
    let mut live = vec![case_event(
        "case.opened",
        k,
        title,
        vec![stream::community(&k.community_id)],
    )];
    let staff = notifications::community_staff(c, &k.community_id)?;
    let label = if k.urgency == "emergency" {
        "紧急求助"
    } else {
        "加急需求"
    };
    live.extend(notifications::notify(
        c,
        &staff,
        &NewNotification {
            kind: "case.opened",
            title: format!("新的{label}"),
            body: title.to_string(),
            subject_type: "case",
            subject_id: k.id.clone(),
            thread_id: None,
            group_key: None,
        },
    )?);
    Ok(live)
}

/// Inside the transaction that writes a listing: an open urgent or
/// emergency request of a verified firm gets a case (once); an open case
/// follows the request's urgency. Returns the live events to append last.
///
/// A firm that registered itself and is not verified yet cannot reach the
/// staff queue: its requests get their cases when staff verify it
/// ([`open_for_firm`]).
pub fn open_for(c: &mut DbConnection, l: &Listing) -> StoreResult<Vec<NewEvent>> {
    if l.side != "request"
        || l.status != "open"
        || !matches!(l.urgency.as_str(), "urgent" | "emergency")
    {
        return Ok(Vec::new());
    }
    let verified: bool = super::schema::firms::table
        .find(&l.firm_id)
        .select(super::schema::firms::verified)
        .first(c)
        .optional()?
        .unwrap_or(false);
    if !verified {
        return Ok(Vec::new());
    }
    let at = now();
    let row = Case {
        id: new_id(),
        listing_id: l.id.clone(),
        firm_id: l.firm_id.clone(),
        community_id: l.community_id.clone(),
        origin_community_id: l.community_id.clone(),
        escalated_from: None,
        urgency: l.urgency.clone(),
        status: "open".into(),
        claimed_by: None,
        claimed_at: None,
        first_contact_at: None,
        resolved_at: None,
        outcome: None,
        outcome_note: String::new(),
        opened_at: at,
        updated_at: at,
        overdue_at: None,
    };
    let n = on_backend!(c, |c| diesel::insert_into(cases::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c)?);
    if n == 1 {
        return opened_events(c, &row, &l.title);
    }
    let changed = diesel::update(
        cases::table
            .filter(cases::listing_id.eq(&l.id))
            .filter(cases::status.ne("resolved"))
            .filter(cases::urgency.ne(&l.urgency)),
    )
    .set((cases::urgency.eq(&l.urgency), cases::updated_at.eq(at)))
    .execute(c)?;
    if changed == 0 {
        return Ok(Vec::new());
    }
    let k = by_listing(c, &l.id)?.ok_or(StoreError::NotFound)?;
    Ok(vec![updated_event(&k, &l.title)])
}

/// Inside the transaction that verifies a firm: the cases of its open
/// urgent and emergency requests, which waited for the verification.
pub fn open_for_firm(c: &mut DbConnection, firm_id: &str) -> StoreResult<Vec<NewEvent>> {
    use super::schema::listings;
    let waiting: Vec<Listing> = listings::table
        .filter(listings::firm_id.eq(firm_id))
        .filter(listings::side.eq("request"))
        .filter(listings::status.eq("open"))
        .filter(listings::urgency.eq_any(["urgent", "emergency"]))
        .order(listings::id.asc())
        .select(Listing::as_select())
        .load(c)?;
    let mut live = Vec::new();
    for l in &waiting {
        live.extend(open_for(c, l)?);
    }
    Ok(live)
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Case>> {
    Ok(cases::table
        .find(id)
        .select(Case::as_select())
        .first(c)
        .optional()?)
}

pub fn by_listing(c: &mut DbConnection, listing_id: &str) -> StoreResult<Option<Case>> {
    Ok(cases::table
        .filter(cases::listing_id.eq(listing_id))
        .select(Case::as_select())
        .first(c)
        .optional()?)
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `None`: every community (platform admins).
    pub community_id: Option<String>,
    pub statuses: Vec<String>,
    pub urgency: Option<String>,
    pub claimed_by: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

/// Cases oldest first.
pub fn list(c: &mut DbConnection, f: &QueueFilter) -> StoreResult<Vec<Case>> {
    let mut q = cases::table.select(Case::as_select()).into_boxed();
    if let Some(v) = &f.community_id {
        q = q.filter(cases::community_id.eq(v.clone()));
    }
    if !f.statuses.is_empty() {
        q = q.filter(cases::status.eq_any(f.statuses.clone()));
    }
    if let Some(v) = &f.urgency {
        q = q.filter(cases::urgency.eq(v.clone()));
    }
    if let Some(v) = &f.claimed_by {
        q = q.filter(cases::claimed_by.eq(v.clone()));
    }
    if let Some(v) = &f.after_id {
        q = q.filter(cases::id.gt(v.clone()));
    }
    Ok(q.order(cases::id.asc()).limit(f.limit).load(c)?)
}

/// Cases opened in `[from, to)` in a community (`None`: all) — for
/// statistics and SLA summaries.
pub fn opened_between(
    c: &mut DbConnection,
    origin_community: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<Case>> {
    let mut q = cases::table
        .filter(cases::opened_at.ge(from))
        .filter(cases::opened_at.lt(to))
        .select(Case::as_select())
        .into_boxed();
    if let Some(v) = origin_community {
        q = q.filter(cases::origin_community_id.eq(v.to_string()));
    }
    Ok(q.order(cases::id.asc()).load(c)?)
}

pub fn contacts_of(c: &mut DbConnection, case_ids: &[String]) -> StoreResult<Vec<Contact>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case_contacts::table
        .filter(case_contacts::case_id.eq_any(case_ids))
        .order((case_contacts::case_id, case_contacts::created_at))
        .select(Contact::as_select())
        .load(c)?)
}

pub fn user_names(c: &mut DbConnection, ids: &[String]) -> StoreResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}

pub fn community_names(
    c: &mut DbConnection,
    ids: &[String],
) -> StoreResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(communities::table
        .filter(communities::id.eq_any(ids))
        .select((communities::id, communities::name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}

/// Loads a case the actor's community holds, unresolved.
fn held(
    c: &mut DbConnection,
    id: &str,
    community: Option<&str>,
) -> StoreResult<Result<Case, Refusal>> {
    let Some(k) = get(c, id)? else {
        return Ok(Err(Refusal::NotFound));
    };
    if community.is_some_and(|cm| cm != k.community_id) {
        return Ok(Err(Refusal::NotFound));
    }
    if k.status == "resolved" {
        return Ok(Err(Refusal::Resolved));
    }
    Ok(Ok(k))
}

/// Writes the case's new state if it is still as `before` (by `updated_at`).
fn save(c: &mut DbConnection, before: &Case, after: &Case) -> StoreResult<bool> {
    let n = diesel::update(
        cases::table
            .find(&before.id)
            .filter(cases::updated_at.eq(before.updated_at))
            .filter(cases::status.eq(&before.status)),
    )
    .set((
        cases::community_id.eq(&after.community_id),
        cases::escalated_from.eq(&after.escalated_from),
        cases::status.eq(&after.status),
        cases::claimed_by.eq(&after.claimed_by),
        cases::claimed_at.eq(after.claimed_at),
        cases::first_contact_at.eq(after.first_contact_at),
        cases::resolved_at.eq(after.resolved_at),
        cases::outcome.eq(&after.outcome),
        cases::outcome_note.eq(&after.outcome_note),
        cases::updated_at.eq(after.updated_at),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Runs one staff action in a transaction: `decide` gets the held case and
/// returns its new state plus audit entry and extra events, or a refusal.
fn act<T>(
    conn: &mut DbConnection,
    a: &Acting,
    decide: impl FnOnce(
        &mut DbConnection,
        Case,
    ) -> StoreResult<Result<(Case, Vec<NewEvent>, T), Refusal>>,
) -> ActionResult<(Case, T)> {
    let r = conn.transaction::<_, StoreError, _>(|c| {
        super::begin_write(c)?;
        let k = match held(c, &a.case_id, a.community.as_deref())? {
            Ok(k) => k,
            Err(r) => return Ok(Err(r)),
        };
        let before = k.clone();
        let (mut after, mut live, extra) = match decide(c, k)? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        // Strictly later than before, so the guard in `save` sees a change.
        after.updated_at = now().max(before.updated_at + chrono::Duration::microseconds(1));
        if !save(c, &before, &after)? {
            return Ok(Err(Refusal::Changed));
        }
        live.push(updated_event(&after, &a.title));
        stream::append(c, &live)?;
        Ok(Ok((after, extra)))
    })?;
    if r.is_ok() {
        stream::committed();
    }
    Ok(r)
}

/// Claims a case for the actor (idempotent for the claimant).
pub fn claim(conn: &mut DbConnection, a: &Acting, take_over: bool) -> ActionResult<Case> {
    let actor = &a.actor;
    if let Ok(Some(k)) = get(conn, &a.case_id)
        && k.claimed_by.as_deref() == Some(actor.user_id.as_str())
        && k.status != "resolved"
        && a.community.as_deref().is_none_or(|cm| cm == k.community_id)
    {
        return Ok(Ok(k));
    }
    let r = act(conn, a, |c, k| {
        if let Some(by) = &k.claimed_by
            && !take_over
        {
            return Ok(Err(Refusal::ClaimedByOther { by: by.clone() }));
        }
        let mut after = k.clone();
        after.claimed_by = Some(actor.user_id.clone());
        after.claimed_at = k.claimed_at.or(Some(now()));
        if k.status == "open" {
            after.status = "claimed".into();
        }
        audit::record(
            c,
            actor,
            &k.community_id,
            if k.claimed_by.is_some() {
                "case.taken_over"
            } else {
                "case.claimed"
            },
            Some(&k.id),
            ("listing", &k.listing_id),
            json!({ "previous_claimant": k.claimed_by }),
        )?;
        Ok(Ok((after, Vec::new(), ())))
    })?;
    Ok(r.map(|(k, ())| k))
}

/// Resolves a case with an outcome (claiming it for the actor if nobody had).
pub fn resolve(
    conn: &mut DbConnection,
    a: &Acting,
    outcome: &str,
    note: &str,
) -> ActionResult<Case> {
    let actor = &a.actor;
    let r = act(conn, a, |c, k| {
        let at = now();
        let mut after = k.clone();
        after.status = "resolved".into();
        after.outcome = Some(outcome.to_string());
        after.outcome_note = note.to_string();
        after.resolved_at = Some(at);
        if after.claimed_by.is_none() {
            after.claimed_by = Some(actor.user_id.clone());
            after.claimed_at = Some(at);
        }
        audit::record(
            c,
            actor,
            &k.community_id,
            "case.resolved",
            Some(&k.id),
            ("listing", &k.listing_id),
            json!({ "outcome": outcome, "note": note }),
        )?;
        Ok(Ok((after, Vec::new(), ())))
    })?;
    Ok(r.map(|(k, ())| k))
}

/// Hands an unresolved case to another community's queue; its claim is
/// cleared, its clocks kept.
pub fn escalate(conn: &mut DbConnection, a: &Acting, to: &str, note: &str) -> ActionResult<Case> {
    let actor = &a.actor;
    let r = act(conn, a, |c, k| {
        let mut after = k.clone();
        after.escalated_from = Some(k.community_id.clone());
        after.community_id = to.to_string();
        after.claimed_by = None;
        if after.status == "claimed" {
            after.status = "open".into();
        }
        audit::record(
            c,
            actor,
            &k.community_id,
            "case.escalated",
            Some(&k.id),
            ("listing", &k.listing_id),
            json!({ "from": k.community_id, "to": to, "note": note }),
        )?;
        let live = opened_events(c, &after, &a.title)?;
        Ok(Ok((after, live, ())))
    })?;
    Ok(r.map(|(k, ())| k))
}

/// One offer to broker: the pair as the matcher scored it, and the
/// offering firm's name for the messages.
#[derive(Debug, Clone)]
pub struct BrokerTarget {
    pub suggestion: Suggestion,
    pub offer_firm_name: String,
}

/// What brokering one offer produced.
#[derive(Debug, Clone)]
pub struct Brokered {
    pub match_record: MatchRecord,
    pub thread: Thread,
}

/// Puts the requesting firm in contact with each offer's firm: the match
/// record becomes `contacted`, a thread on it is opened (or reused) with the
/// actor joined, a system message names the broker, the optional message is
/// posted by the actor, both firms are notified; the case becomes
/// `brokered`.
pub fn broker(
    conn: &mut DbConnection,
    a: &Acting,
    request_firm_name: &str,
    targets: &[BrokerTarget],
    message: Option<&str>,
) -> ActionResult<(Case, Vec<Brokered>)> {
    let actor = &a.actor;
    act(conn, a, |c, k| {
        let at = now();
        let mut live = Vec::new();
        let mut out = Vec::new();
        let mut thread_ids = Vec::new();
        for t in targets {
            let s = &t.suggestion;
            let (mut record, created) = matches::get_or_create_in(c, s)?;
            live.extend(created);
            if record.status == "suggested"
                && let Some((r, events)) =
                    matches::set_status_in(c, &record.id, "suggested", "contacted")?
            {
                record = r;
                live.extend(events);
            }
            let (thread, thread_created) =
                threads::open_for_match_in(c, &record, &actor.user_id, at)?;
            if thread_created {
                live.push(threads::thread_event_for(c, "thread.created", &thread)?);
            }
            threads::join_staff_in(c, &thread.id, &actor.user_id, &k.community_id, at)?;
            let body = format!(
                "社区工作人员 {} 为双方牵线：{}的需求「{}」与{}的「{}」。请直接在此沟通。",
                actor.name, request_firm_name, s.request_title, t.offer_firm_name, s.offer_title
            );
            let mut posted = vec![threads::insert_system(c, &thread.id, "brokered", body, at)?];
            if let Some(text) = message {
                posted.push(threads::insert_staff_text(c, &thread.id, actor, text, at)?);
            }
            let thread = threads::get(c, &thread.id)?.ok_or(StoreError::NotFound)?;
            let aud = threads::audience(c, &thread)?;
            for m in &posted {
                live.push(threads::message_event(m, &aud));
            }
            live.push(threads::thread_event("thread.updated", &thread, &aud));
            on_backend!(c, |c| diesel::insert_into(case_contacts::table)
                .values(&Contact {
                    case_id: k.id.clone(),
                    match_id: record.id.clone(),
                    thread_id: thread.id.clone(),
                    offer_id: s.offer_id.clone(),
                    offer_firm_id: s.offer_firm_id.clone(),
                    brokered_by: actor.user_id.clone(),
                    created_at: at,
                })
                .on_conflict_do_nothing()
                .execute(c)?);
            for (firm, body) in [
                (
                    &s.offer_firm_id,
                    format!(
                        "社区工作人员 {} 请贵司协助{}：「{}」",
                        actor.name, request_firm_name, s.request_title
                    ),
                ),
                (
                    &s.request_firm_id,
                    format!(
                        "社区工作人员 {} 为您联系了{}：「{}」",
                        actor.name, t.offer_firm_name, s.offer_title
                    ),
                ),
            ] {
                let users = notifications::firm_members(c, std::slice::from_ref(firm))?;
                live.extend(notifications::notify(
                    c,
                    &users,
                    &NewNotification {
                        kind: "brokered",
                        title: "社区为您牵线".into(),
                        body,
                        subject_type: "thread",
                        subject_id: thread.id.clone(),
                        thread_id: Some(thread.id.clone()),
                        group_key: None,
                    },
                )?);
            }
            thread_ids.push(thread.id.clone());
            out.push(Brokered {
                match_record: record,
                thread,
            });
        }
        let mut after = k.clone();
        after.status = "brokered".into();
        after.first_contact_at = k.first_contact_at.or(Some(at));
        if after.claimed_by.is_none() {
            after.claimed_by = Some(actor.user_id.clone());
            after.claimed_at = k.claimed_at.or(Some(at));
        }
        audit::record(
            c,
            actor,
            &k.community_id,
            "case.brokered",
            Some(&k.id),
            ("listing", &k.listing_id),
            json!({
                "offer_ids": targets.iter().map(|t| &t.suggestion.offer_id).collect::<Vec<_>>(),
                "match_ids": out.iter().map(|b| &b.match_record.id).collect::<Vec<_>>(),
                "thread_ids": thread_ids,
                "message": message,
            }),
        )?;
        Ok(Ok((after, live, out)))
    })
}

/// Active cases not yet flagged overdue for which `overdue` holds get
/// `overdue_at` (once each: a guarded update), a live `case.updated` and a
/// notification to their community's staff. Returns how many were flagged.
pub fn flag_overdue(
    conn: &mut DbConnection,
    overdue: impl Fn(&Case) -> bool,
) -> StoreResult<usize> {
    let candidates: Vec<Case> = cases::table
        .filter(cases::status.eq_any(ACTIVE))
        .filter(cases::overdue_at.is_null())
        .order(cases::id.asc())
        .limit(5_000)
        .select(Case::as_select())
        .load(conn)?;
    let mut flagged = 0;
    for k in candidates.into_iter().filter(|k| overdue(k)) {
        let announced = conn.transaction::<_, StoreError, _>(|c| {
            let at = now();
            let n = diesel::update(cases::table.find(&k.id).filter(cases::overdue_at.is_null()))
                .set(cases::overdue_at.eq(at))
                .execute(c)?;
            if n == 0 {
                return Ok(false);
            }
            let title = super::listings::get_row(c, &k.listing_id)?
                .map(|l| l.title)
                .unwrap_or_default();
            let mut live = vec![updated_event(&k, &title)];
            let staff = notifications::community_staff(c, &k.community_id)?;
            live.extend(notifications::notify(
                c,
                &staff,
                &NewNotification {
                    kind: "case.overdue",
                    title: "工单超时".into(),
                    body: title.clone(),
                    subject_type: "case",
                    subject_id: k.id.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?);
            stream::append(c, &live)?;
            Ok(true)
        })?;
        if announced {
            stream::committed();
            flagged += 1;
        }
    }
    Ok(flagged)
}
