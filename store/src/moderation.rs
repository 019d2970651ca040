//! Moderation: reports of listings, messages and firms, and the actions
//! staff take on them (hide a listing, remove a message, warn, suspend a
//! firm, lift a suspension). Table work only; the rules and the
//! transactions are the service's (`service::moderation`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{firms, listings, memberships, messages, moderation_actions, reports};
use super::{DbConnection, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
pub struct Report {
    pub id: String,
    pub reporter_user_id: String,
    pub subject_type: String,
    pub subject_id: String,
    /// The firm the report is about (the listing's, the message author's,
    /// or the firm itself).
    pub firm_id: String,
    /// Whose staff moderate it: the firm's community.
    pub community_id: String,
    pub reason: String,
    pub text: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub handled_at: Option<NaiveDateTime>,
    pub handled_by: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = moderation_actions)]
pub struct Action {
    pub id: String,
    pub firm_id: String,
    pub community_id: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub reason: String,
    pub actor_user_id: String,
    pub report_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_report(c: &mut DbConnection, r: &Report) -> StoreResult<()> {
    diesel::insert_into(reports::table).values(r).execute(c)?;
    Ok(())
}

pub fn get_report(c: &mut DbConnection, id: &str) -> StoreResult<Option<Report>> {
    Ok(reports::table
        .find(id)
        .select(Report::as_select())
        .first(c)
        .optional()?)
}

/// Reports of a community (`None`: all), newest first.
pub fn list_reports(
    c: &mut DbConnection,
    community: Option<&str>,
    status: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Report>> {
    let mut q = reports::table.select(Report::as_select()).into_boxed();
    if let Some(v) = community {
        q = q.filter(reports::community_id.eq(v.to_string()));
    }
    if let Some(v) = status {
        q = q.filter(reports::status.eq(v.to_string()));
    }
    if let Some(v) = before_id {
        q = q.filter(reports::id.lt(v.to_string()));
    }
    Ok(q.order(reports::id.desc()).limit(limit).load(c)?)
}

/// Marks the open reports of a subject handled with `outcome`.
pub fn close_reports(
    c: &mut DbConnection,
    subject_type: &str,
    subject_id: &str,
    outcome: &str,
    by: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    Ok(diesel::update(
        reports::table
            .filter(reports::subject_type.eq(subject_type))
            .filter(reports::subject_id.eq(subject_id))
            .filter(reports::status.eq("open")),
    )
    .set((
        reports::status.eq(if outcome == "dismissed" {
            "dismissed"
        } else {
            "actioned"
        }),
        reports::handled_at.eq(Some(at)),
        reports::handled_by.eq(Some(by)),
        reports::outcome.eq(Some(outcome)),
    ))
    .execute(c)?)
}

/// Marks one open report handled with `outcome` (`dismissed`).
pub fn close_report(
    c: &mut DbConnection,
    id: &str,
    outcome: &str,
    by: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    Ok(
        diesel::update(reports::table.find(id).filter(reports::status.eq("open")))
            .set((
                reports::status.eq("dismissed"),
                reports::handled_at.eq(Some(at)),
                reports::handled_by.eq(Some(by)),
                reports::outcome.eq(Some(outcome)),
            ))
            .execute(c)?,
    )
}

pub fn insert_action(c: &mut DbConnection, a: &Action) -> StoreResult<()> {
    diesel::insert_into(moderation_actions::table)
        .values(a)
        .execute(c)?;
    Ok(())
}

/// Per firm: how many reports were filed about it and how many actions
/// were taken against it (repeat offenders stand out).
pub fn firm_history(
    c: &mut DbConnection,
    firm_ids: &[String],
) -> StoreResult<HashMap<String, (i64, i64)>> {
    let mut out: HashMap<String, (i64, i64)> = HashMap::new();
    if firm_ids.is_empty() {
        return Ok(out);
    }
    let r: Vec<(String, i64)> = reports::table
        .filter(reports::firm_id.eq_any(firm_ids))
        .group_by(reports::firm_id)
        .select((reports::firm_id, diesel::dsl::count_star()))
        .load(c)?;
    for (f, n) in r {
        out.entry(f).or_default().0 = n;
    }
    let a: Vec<(String, i64)> = moderation_actions::table
        .filter(moderation_actions::firm_id.eq_any(firm_ids))
        .group_by(moderation_actions::firm_id)
        .select((moderation_actions::firm_id, diesel::dsl::count_star()))
        .load(c)?;
    for (f, n) in a {
        out.entry(f).or_default().1 = n;
    }
    Ok(out)
}

/// Records why staff hid a listing (the service closes it too).
pub fn mark_hidden(
    c: &mut DbConnection,
    listing_id: &str,
    reason: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(listings::table.find(listing_id))
        .set((
            listings::hidden_reason.eq(Some(reason)),
            listings::hidden_at.eq(Some(at)),
        ))
        .execute(c)?;
    Ok(())
}

/// Replaces a message's text with a notice; `false` when there is no such
/// message.
pub fn replace_message(c: &mut DbConnection, message_id: &str, notice: &str) -> StoreResult<bool> {
    Ok(diesel::update(messages::table.find(message_id))
        .set(messages::body.eq(notice))
        .execute(c)?
        == 1)
}

/// A message's thread and author firm.
pub fn message_subject(
    c: &mut DbConnection,
    message_id: &str,
) -> StoreResult<Option<(String, Option<String>)>> {
    Ok(messages::table
        .find(message_id)
        .select((messages::thread_id, messages::author_firm_id))
        .first(c)
        .optional()?)
}

/// Suspends a firm (with a reason) or lifts its suspension (`None`).
pub fn set_suspended(
    c: &mut DbConnection,
    firm_id: &str,
    suspended: Option<(&str, NaiveDateTime)>,
) -> StoreResult<()> {
    diesel::update(firms::table.find(firm_id))
        .set((
            firms::suspended_at.eq(suspended.map(|(_, at)| at)),
            firms::suspended_reason.eq(suspended.map(|(r, _)| r)),
        ))
        .execute(c)?;
    Ok(())
}

/// Takes a firm's verification back: it is a claim again, waiting for
/// staff to verify it (its listings leave others' view meanwhile).
pub fn set_unverified(c: &mut DbConnection, firm_id: &str, at: NaiveDateTime) -> StoreResult<()> {
    diesel::update(firms::table.find(firm_id))
        .set((
            firms::verified.eq(false),
            firms::verified_at.eq(None::<NaiveDateTime>),
            firms::verified_by.eq(None::<String>),
            firms::updated_at.eq(at),
        ))
        .execute(c)?;
    Ok(())
}

/// Whether the firm is suspended now, and why.
pub fn suspension(c: &mut DbConnection, firm_id: &str) -> StoreResult<Option<String>> {
    Ok(firms::table
        .find(firm_id)
        .filter(firms::suspended_at.is_not_null())
        .select(firms::suspended_reason)
        .first::<Option<String>>(c)
        .optional()?
        .map(Option::unwrap_or_default))
}

/// The users of a firm.
pub fn member_ids(c: &mut DbConnection, firm_id: &str) -> StoreResult<Vec<String>> {
    Ok(memberships::table
        .filter(memberships::firm_id.eq(firm_id))
        .select(memberships::user_id)
        .order(memberships::user_id)
        .load(c)?)
}
