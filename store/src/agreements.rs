//! Agreements (成交) with their versions and the contact reveals their
//! confirmation records. Quantity commitments against the listings are the
//! service's transaction (see `service::agreements`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{Agreement, AgreementStatus, AgreementVersion, ContactReveal};
use super::schema::{agreement_versions, agreements, contact_reveals};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreResult};

pub fn insert(c: &mut DbConnection, a: &Agreement) -> StoreResult<()> {
    diesel::insert_into(agreements::table)
        .values(a)
        .execute(c)?;
    Ok(())
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Agreement>> {
    Ok(agreements::table
        .find(id)
        .select(Agreement::as_select())
        .first(c)
        .optional()?)
}

/// Inside a write transaction: the agreement, locked against concurrent
/// writers until the commit (PostgreSQL: `SELECT … FOR UPDATE`; SQLite:
/// the write lock the transaction took first).
pub fn lock(c: &mut DbConnection, id: &str) -> StoreResult<Option<Agreement>> {
    if let DbConnection::Postgresql(pg) = c {
        return Ok(agreements::table
            .find(id)
            .select(Agreement::as_select())
            .for_update()
            .first(pg)
            .optional()?);
    }
    get(c, id)
}

/// Writes the whole row back (inside the transaction that locked it).
pub fn save(c: &mut DbConnection, a: &Agreement) -> StoreResult<()> {
    diesel::update(agreements::table.find(&a.id))
        .set(a)
        .execute(c)?;
    Ok(())
}

/// The running (proposed, confirmed or in progress) agreement of a match.
pub fn active_for_match(c: &mut DbConnection, match_id: &str) -> StoreResult<Option<Agreement>> {
    Ok(agreements::table
        .filter(agreements::match_id.eq(match_id))
        .filter(agreements::status.eq_any([
            AgreementStatus::Proposed.as_str(),
            AgreementStatus::Confirmed.as_str(),
            AgreementStatus::InProgress.as_str(),
        ]))
        .select(Agreement::as_select())
        .first(c)
        .optional()?)
}

pub fn insert_version(c: &mut DbConnection, v: &AgreementVersion) -> StoreResult<()> {
    diesel::insert_into(agreement_versions::table)
        .values(v)
        .execute(c)?;
    Ok(())
}

/// Marks a version confirmed.
pub fn confirm_version(
    c: &mut DbConnection,
    id: &str,
    version: i32,
    by: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(
        agreement_versions::table
            .filter(agreement_versions::agreement_id.eq(id))
            .filter(agreement_versions::version.eq(version)),
    )
    .set((
        agreement_versions::confirmed_by.eq(Some(by)),
        agreement_versions::confirmed_at.eq(Some(at)),
    ))
    .execute(c)?;
    Ok(())
}

/// Every version of an agreement, oldest first.
pub fn versions(c: &mut DbConnection, id: &str) -> StoreResult<Vec<AgreementVersion>> {
    Ok(agreement_versions::table
        .filter(agreement_versions::agreement_id.eq(id))
        .order(agreement_versions::version.asc())
        .select(AgreementVersion::as_select())
        .load(c)?)
}

/// What a list of agreements shows.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    /// Only agreements of this firm (either side); `None`: all.
    pub firm_id: Option<String>,
    /// Only agreements touching this community (either side).
    pub community_id: Option<String>,
    pub match_id: Option<String>,
    pub request_id: Option<String>,
    /// Only agreements this firm is a party to (either side), within what
    /// the other filters allow.
    pub party_firm_id: Option<String>,
    pub status: Option<AgreementStatus>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Agreements newest first, paged by id.
pub fn list(c: &mut DbConnection, f: &AgreementFilter) -> StoreResult<Vec<Agreement>> {
    let mut q = agreements::table
        .select(Agreement::as_select())
        .into_boxed();
    if let Some(firm) = &f.firm_id {
        q = q.filter(
            agreements::request_firm_id
                .eq(firm.clone())
                .or(agreements::offer_firm_id.eq(firm.clone())),
        );
    }
    if let Some(k) = &f.community_id {
        q = q.filter(
            agreements::request_community_id
                .eq(k.clone())
                .or(agreements::offer_community_id.eq(k.clone())),
        );
    }
    if let Some(m) = &f.match_id {
        q = q.filter(agreements::match_id.eq(m.clone()));
    }
    if let Some(r) = &f.request_id {
        q = q.filter(agreements::request_id.eq(r.clone()));
    }
    if let Some(firm) = &f.party_firm_id {
        q = q.filter(
            agreements::request_firm_id
                .eq(firm.clone())
                .or(agreements::offer_firm_id.eq(firm.clone())),
        );
    }
    if let Some(s) = f.status {
        q = q.filter(agreements::status.eq(s.as_str()));
    }
    if let Some(b) = &f.before_id {
        q = q.filter(agreements::id.lt(b.clone()));
    }
    Ok(q.order(agreements::id.desc()).limit(f.limit).load(c)?)
}

/// Every agreement that was ever confirmed, of some firms (`None`: of
/// everyone) — the input of reputations and statistics.
pub fn confirmed_of(
    c: &mut DbConnection,
    firm_ids: Option<&[String]>,
) -> StoreResult<Vec<Agreement>> {
    let mut q = agreements::table
        .filter(agreements::first_confirmed_at.is_not_null())
        .select(Agreement::as_select())
        .into_boxed();
    if let Some(ids) = firm_ids {
        q = q.filter(
            agreements::request_firm_id
                .eq_any(ids.to_vec())
                .or(agreements::offer_firm_id.eq_any(ids.to_vec())),
        );
    }
    Ok(q.load(c)?)
}

/// Agreements of some match records (statistics).
pub fn of_matches(c: &mut DbConnection, match_ids: &[String]) -> StoreResult<Vec<Agreement>> {
    let mut out = Vec::new();
    for chunk in match_ids.chunks(500) {
        out.extend(
            agreements::table
                .filter(agreements::match_id.eq_any(chunk))
                .select(Agreement::as_select())
                .load(c)?,
        );
    }
    Ok(out)
}

pub fn insert_reveal(c: &mut DbConnection, r: &ContactReveal) -> StoreResult<()> {
    diesel::insert_into(contact_reveals::table)
        .values(r)
        .execute(c)?;
    Ok(())
}

pub fn reveal_of(c: &mut DbConnection, agreement_id: &str) -> StoreResult<Option<ContactReveal>> {
    Ok(contact_reveals::table
        .filter(contact_reveals::agreement_id.eq(agreement_id))
        .select(ContactReveal::as_select())
        .first(c)
        .optional()?)
}

/// The reveals between two firms (either order), oldest first.
pub fn reveals_between(c: &mut DbConnection, a: &str, b: &str) -> StoreResult<Vec<ContactReveal>> {
    Ok(contact_reveals::table
        .filter(
            contact_reveals::firm_a_id
                .eq(a)
                .and(contact_reveals::firm_b_id.eq(b))
                .or(contact_reveals::firm_a_id
                    .eq(b)
                    .and(contact_reveals::firm_b_id.eq(a))),
        )
        .order(contact_reveals::revealed_at.asc())
        .select(ContactReveal::as_select())
        .load(c)?)
}

/// An `agreement.*` event for both firms and both communities' staff.
pub fn event(event_type: &'static str, a: &Agreement) -> NewEvent {
    NewEvent {
        event_type,
        audience: vec![
            stream::firm(&a.request_firm_id),
            stream::firm(&a.offer_firm_id),
            stream::community(&a.request_community_id),
            stream::community(&a.offer_community_id),
        ],
        payload: serde_json::json!({
            "agreement_id": a.id,
            "match_id": a.match_id,
            "quote_id": a.quote_id,
            "request_id": a.request_id,
            "offer_id": a.offer_id,
            "request_firm_id": a.request_firm_id,
            "offer_firm_id": a.offer_firm_id,
            "status": a.status,
            "version": a.version,
            "confirmed_version": a.confirmed_version,
        }),
    }
}
