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
use zhiqilian_matcher::{CaseStatus, Urgency};

use super::audit::Actor;
use super::models::Listing;
use super::notifications::{self, NewNotification};
use super::schema::{case_contacts, case_notes, cases, communities, users};
use super::stream::{self, NewEvent};
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
    pub urgency: Urgency,
    pub status: CaseStatus,
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

pub const ACTIVE: [CaseStatus; 3] = [CaseStatus::Open, CaseStatus::Claimed, CaseStatus::Brokered];
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

pub fn opened_events(c: &mut DbConnection, k: &Case, title: &str) -> StoreResult<Vec<NewEvent>> {
    let mut live = vec![case_event(
        "case.opened",
        k,
        title,
        vec![stream::community(&k.community_id)],
    )];
    let staff = notifications::community_staff(c, &k.community_id)?;
    let label = match k.urgency {
        Urgency::Emergency => "紧急求助",
        Urgency::Urgent => "加急需求",
        _ => "企业求助",
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

/// Inside a transaction: opens the staff case of a request listing, or
/// brings an active case's urgency in line with the listing's. Which
/// listings have cases is the service's rule (`service::cases`).
pub fn upsert_for(c: &mut DbConnection, l: &Listing) -> StoreResult<Vec<NewEvent>> {
    let at = now();
    let row = Case {
        id: new_id(),
        listing_id: l.id.clone(),
        firm_id: l.firm_id.clone(),
        community_id: l.community_id.clone(),
        origin_community_id: l.community_id.clone(),
        escalated_from: None,
        urgency: l.urgency,
        status: CaseStatus::Open,
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
            .filter(cases::status.ne(CaseStatus::Resolved))
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
    pub statuses: Vec<CaseStatus>,
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
    if k.status == CaseStatus::Resolved {
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
pub fn act<T>(
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
        live.extend(progress_notice(c, &before, &after, &a.title)?);
        stream::append(c, &live)?;
        Ok(Ok((after, extra)))
    })?;
    if r.is_ok() {
        stream::committed();
    }
    Ok(r)
}

/// The requesting firm hears when staff take its case up or close it
/// (being put in contact is its own `brokered` notice).
fn progress_notice(
    c: &mut DbConnection,
    before: &Case,
    after: &Case,
    title: &str,
) -> StoreResult<Vec<NewEvent>> {
    let body = match after.status {
        s if s == before.status => return Ok(Vec::new()),
        CaseStatus::Claimed => format!("社区已受理：{title}"),
        CaseStatus::Resolved => format!("社区已办结：{title}"),
        CaseStatus::Open | CaseStatus::Brokered => return Ok(Vec::new()),
    };
    let users = notifications::firm_members(c, std::slice::from_ref(&after.firm_id))?;
    notifications::notify(
        c,
        &users,
        &NewNotification {
            kind: "case.progress",
            title: "求助进展".into(),
            body,
            subject_type: "listing",
            subject_id: after.listing_id.clone(),
            thread_id: None,
            group_key: None,
        },
    )
}

/// Inside a transaction: records that staff put a case's requester in
/// contact with an offer (once per match).
pub fn add_contact(c: &mut DbConnection, contact: &Contact) -> StoreResult<()> {
    on_backend!(c, |c| diesel::insert_into(case_contacts::table)
        .values(contact)
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(())
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
            let title: String = super::schema::listings::table
                .find(&k.listing_id)
                .select(super::schema::listings::title)
                .first(c)
                .optional()?
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

/// Inside a transaction: opens a case for a listing on request (a firm asks
/// the community for help, or staff open one), whatever its urgency. An
/// existing case is returned as it is. Returns the case, whether it was
/// opened now, and the live events to append last.
pub fn open_on_request(
    c: &mut DbConnection,
    l: &Listing,
) -> StoreResult<(Case, bool, Vec<NewEvent>)> {
    if let Some(k) = by_listing(c, &l.id)? {
        return Ok((k, false, Vec::new()));
    }
    let live = upsert_for(c, l)?;
    let k = by_listing(c, &l.id)?.ok_or(StoreError::NotFound)?;
    Ok((k, true, live))
}

/// A staff-only note on a case: never shown to the firms.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_notes)]
pub struct Note {
    pub id: String,
    pub case_id: String,
    pub author_user_id: String,
    pub author_name: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn add_note(c: &mut DbConnection, note: &Note) -> StoreResult<()> {
    diesel::insert_into(case_notes::table)
        .values(note)
        .execute(c)?;
    Ok(())
}

/// A case's notes, oldest first.
pub fn notes_of(c: &mut DbConnection, case_id: &str) -> StoreResult<Vec<Note>> {
    Ok(case_notes::table
        .filter(case_notes::case_id.eq(case_id))
        .order(case_notes::id.asc())
        .select(Note::as_select())
        .load(c)?)
}
