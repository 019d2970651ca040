//! The match lifecycle: suggested → contacted → agreed | declined, expiry
//! when a listing closes, and the thread messages and case events each move
//! brings with it.

use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{CaseStatus, MatchOutcome, MatchStatus};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::outcomes;
use crate::service::pagination::{self, Page};
use crate::service::views::{FactorOut, stored_factors};
use crate::store::matches::{
    self, self as records, MatchFilter, MatchRecord, MatchScope, Suggestion,
};
use crate::store::stream::{self, NewEvent};
use crate::store::{Db, DbConnection, StoreResult, begin_write, cases, threads};

/// The statuses a firm may ask for (`expired` is the system's).
pub const STATUSES: [MatchStatus; 3] = [
    MatchStatus::Contacted,
    MatchStatus::Agreed,
    MatchStatus::Declined,
];

/// Allowed moves: suggested → contacted → agreed | declined (a suggestion
/// may also be declined outright; `agreed` comes only with a confirmed
/// agreement, see `service::agreements`).
/// Expiry is the system's.
pub fn allowed(from: MatchStatus, to: MatchStatus) -> bool {
    use MatchStatus::{Agreed, Contacted, Declined, Suggested};
    matches!(
        (from, to),
        (Suggested, Contacted)
            | (Suggested, Declined)
            | (Contacted, Agreed)
            | (Contacted, Declined)
    )
}

/// Inside a transaction: moves a record from `from` to `to` if it is still
/// in `from`, with its `match.status_changed` event, the system message
/// in the record's thread and (for contacted, agreed and declined) its
/// entry in the outcome log; returns the record and the live events to append
/// last. `Ok(None)` when it had moved meanwhile.
pub fn set_status_in(
    c: &mut DbConnection,
    id: &str,
    from: MatchStatus,
    to: MatchStatus,
) -> StoreResult<Option<(MatchRecord, Vec<NewEvent>)>> {
    let Some((r, event)) = matches::set_status_in(c, id, from, to)? else {
        return Ok(None);
    };
    // What the firms did, with the factor values they saw, for tuning.
    if let Some(outcome) = MatchOutcome::of_status(to) {
        outcomes::record_in(c, &r, outcome)?;
    }
    let mut live = threads::on_match_status(c, id, to.as_str())?;
    live.extend(event);
    Ok(Some((r, live)))
}

/// Moves a record from `from` to `to` (one transaction); `Ok(None)` when it
/// had moved meanwhile.
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    from: MatchStatus,
    to: MatchStatus,
) -> StoreResult<Option<MatchRecord>> {
    stream::write(conn, |c| {
        Ok(match set_status_in(c, id, from, to)? {
            Some((r, live)) => (Some(r), live),
            None => (None, Vec::new()),
        })
    })
}

/// A firm member (or its API client) asks to move a record it may see to
/// `to`. The rules: only the statuses of [`STATUSES`], only the moves of
/// [`allowed`]; `agreed` never by itself: a record becomes `agreed` only
/// when an agreement on it is confirmed by both firms (see `agreements`),
/// so asking for it answers 409 `agreement_required`; asking for the
/// status the record has changes nothing.
pub fn change_status(
    c: &mut DbConnection,
    _caller: &Caller,
    r: MatchRecord,
    to: &str,
) -> Result<MatchRecord, ApiError> {
    let Some(to) = to
        .parse::<MatchStatus>()
        .ok()
        .filter(|s| STATUSES.contains(s) && s.as_str() == to)
    else {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "取值无效，可选值：contacted, agreed, declined",
        ));
    };
    if to == r.status {
        return Ok(r);
    }
    if !allowed(r.status, to) {
        return Err(ApiError::conflict(
            Code::InvalidTransition,
            format!("不能从 {} 变为 {}", r.status, to),
        ));
    }
    if to == MatchStatus::Agreed {
        return Err(ApiError::conflict(
            Code::AgreementRequired,
            "成交须由一方提出成交条款、另一方确认同一版本（POST /api/v1/agreements）",
        ));
    }
    set_status(c, &r.id, r.status, to)?.ok_or_else(|| {
        ApiError::conflict(Code::EditConflict, "该匹配记录刚被他人更新，请刷新后重试")
    })
}

/// [`change_status`] on a pooled connection.
pub async fn move_to(
    db: &Db,
    caller: &Caller,
    r: MatchRecord,
    to: String,
) -> Result<MatchRecord, ApiError> {
    let caller = caller.clone();
    db.run(move |c| Ok(change_status(c, &caller, r, &to)))
        .await?
}

/// Expires the open records of a listing that closed (one transaction).
pub fn expire_for_listing(conn: &mut DbConnection, listing_id: &str) -> StoreResult<usize> {
    stream::write(conn, |c| {
        begin_write(c)?;
        let open = matches::open_for_listing(c, listing_id)?;
        let mut live = Vec::new();
        for r in &open {
            if let Some((_, events)) = set_status_in(c, &r.id, r.status, MatchStatus::Expired)? {
                live.extend(events);
            }
        }
        Ok((open.len(), live))
    })
}

/// Stores the matcher's suggestions, one transaction each: a new pair
/// becomes a `suggested` record (its events and notifications, and a
/// `case.updated` for staff watching the request's case); a pair still
/// `suggested` gets its new score. Returns how many records were created.
pub fn store_suggestions(
    conn: &mut DbConnection,
    suggestions: &[Suggestion],
) -> StoreResult<usize> {
    let mut created = 0;
    for s in suggestions {
        let inserted = stream::write(conn, |c| {
            let Some((row, mut live)) = matches::save_suggestion(c, s)? else {
                return Ok((false, Vec::new()));
            };
            // Staff looking at the request's case see its new candidate.
            if let Some(k) = cases::by_listing(c, &row.request_id)?
                && k.status != CaseStatus::Resolved
            {
                live.push(cases::updated_event(&k, &s.request_title));
            }
            Ok((true, live))
        })?;
        created += usize::from(inserted);
    }
    Ok(created)
}

// ----------------------------------------------------- records as the API shows

fn scope_of(caller: &Caller) -> MatchScope {
    if caller.platform_admin {
        MatchScope::All
    } else if let Some(c) = &caller.staff_community {
        MatchScope::Community(c.clone())
    } else if let Some(f) = caller.firm_id() {
        MatchScope::Firm(f.to_string())
    } else {
        MatchScope::Nobody
    }
}

#[derive(Debug, Serialize)]
pub struct ListingRef {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub firm_id: String,
}

#[derive(Debug, Serialize)]
pub struct MatchRecordOut {
    pub id: String,
    pub status: MatchStatus,
    pub score: f64,
    pub partial: bool,
    pub factors: Vec<FactorOut>,
    pub request: ListingRef,
    pub offer: ListingRef,
    /// Each firm's agreement; the record is `agreed` once both are set.
    pub agreement: Agreement,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize)]
pub struct Agreement {
    pub request_agreed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub offer_agreed_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn record_out(
    r: MatchRecord,
    titles: &std::collections::HashMap<String, (String, String)>,
) -> MatchRecordOut {
    let factors = stored_factors(&r.factors);
    let listing_ref = |id: &str, firm: &str| {
        let (title, kind) = titles.get(id).cloned().unwrap_or_default();
        ListingRef {
            id: id.to_string(),
            title,
            kind,
            firm_id: firm.to_string(),
        }
    };
    MatchRecordOut {
        request: listing_ref(&r.request_id, &r.request_firm_id),
        offer: listing_ref(&r.offer_id, &r.offer_firm_id),
        agreement: Agreement {
            request_agreed_at: r.request_agreed_at.map(|t| t.and_utc()),
            offer_agreed_at: r.offer_agreed_at.map(|t| t.and_utc()),
        },
        id: r.id,
        status: r.status,
        score: r.score,
        partial: r.partial,
        factors,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    }
}

fn titles_of(
    c: &mut crate::store::DbConnection,
    rows: &[MatchRecord],
) -> crate::store::StoreResult<std::collections::HashMap<String, (String, String)>> {
    let ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.request_id.clone(), r.offer_id.clone()])
        .collect();
    Ok(crate::store::listings::get_many(c, &ids)?
        .into_iter()
        .map(|v| (v.listing.id.clone(), (v.listing.title, v.listing.kind)))
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMatchesQuery {
    pub status: Option<String>,
    pub listing: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/matches`: the match records of my firm (staff: of their
/// community), newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    q: ListMatchesQuery,
) -> Result<Page<MatchRecordOut>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<MatchStatus>()
                .ok()
                .filter(|m| m.as_str() == s)
                .ok_or_else(|| {
                    ApiError::field(
                        "status",
                        "invalid_value",
                        "取值无效，可选值：suggested, contacted, agreed, declined, expired",
                    )
                })?,
        ),
    };
    let limit = pagination::limit(q.limit)?;
    let filter = MatchFilter {
        status,
        listing_id: q.listing,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let scope = scope_of(caller);
    let (rows, titles) = db
        .run(move |c| {
            let rows = records::list(c, &scope, &filter)?;
            let titles = titles_of(c, &rows)?;
            Ok((rows, titles))
        })
        .await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        |r| record_out(r, &titles),
    ))
}

async fn load_record(db: &Db, caller: &Caller, id: String) -> Result<MatchRecord, ApiError> {
    let scope = scope_of(caller);
    db.run(move |c| records::get(c, &id))
        .await?
        .filter(|r| records::visible(r, &scope))
        .ok_or_else(|| ApiError::not_found("匹配记录"))
}

async fn shown(db: &Db, r: MatchRecord) -> Result<MatchRecordOut, ApiError> {
    let rows = vec![r.clone()];
    let titles = db.run(move |c| titles_of(c, &rows)).await?;
    Ok(record_out(r, &titles))
}

/// A match record the caller may see (`GET /api/v1/matches/{id}`).
pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<MatchRecordOut, ApiError> {
    let r = load_record(db, caller, id).await?;
    shown(db, r).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatchMatch {
    pub status: String,
}

/// A firm moves its match record (`PATCH /api/v1/matches/{id}`).
pub async fn update(
    db: &Db,
    caller: &Caller,
    id: String,
    patch: PatchMatch,
) -> Result<MatchRecordOut, ApiError> {
    let r = load_record(db, caller, id).await?;
    let updated = move_to(db, caller, r, patch.status).await?;
    shown(db, updated).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::{Park, emergency_request, park, testing_offer};
    use crate::store::models::Listing;

    fn suggestion(request: &Listing, offer: &Listing) -> Suggestion {
        Suggestion {
            request_id: request.id.clone(),
            offer_id: offer.id.clone(),
            request_firm_id: request.firm_id.clone(),
            offer_firm_id: offer.firm_id.clone(),
            request_community_id: request.community_id.clone(),
            offer_community_id: offer.community_id.clone(),
            score: 0.8,
            partial: false,
            factors: "[]".into(),
            request_title: request.title.clone(),
            offer_title: offer.title.clone(),
        }
    }

    /// A stored `suggested` record between the buyer's request and the
    /// seller's offer.
    fn suggested(p: &Park) -> (Listing, Listing, MatchRecord) {
        let request = p.post(&p.buyer, emergency_request());
        let offer = p.post(&p.seller, testing_offer());
        let s = suggestion(&request, &offer);
        assert_eq!(
            store_suggestions(&mut p.conn(), std::slice::from_ref(&s)).expect("store"),
            1
        );
        // Stored again: the pair exists, its score is refreshed, nothing new.
        let mut again = s;
        again.score = 0.9;
        assert_eq!(
            store_suggestions(&mut p.conn(), &[again]).expect("store"),
            0
        );
        let r = matches::list(
            &mut p.conn(),
            &matches::MatchScope::All,
            &matches::MatchFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .expect("list")
        .pop()
        .expect("one record");
        assert_eq!((r.status.as_str(), r.score), ("suggested", 0.9));
        (request, offer, r)
    }

    fn code(e: ApiError) -> (u16, &'static str) {
        (e.status.as_u16(), e.code.as_str())
    }

    /// Changed on purpose with the deals: `agreed` is no longer a status a
    /// firm asks for; it comes only with a confirmed agreement
    /// (`agreements::tests`).
    #[test]
    fn a_match_is_never_agreed_by_asking() {
        let p = park();
        let (_, _, r) = suggested(&p);
        let buyer = p.buyer.caller();
        let seller = p.seller.caller();
        let r = change_status(&mut p.conn(), &buyer, r, "contacted").expect("contact");
        assert_eq!(r.status, MatchStatus::Contacted);

        let e = change_status(&mut p.conn(), &buyer, r.clone(), "agreed").expect_err("by asking");
        assert_eq!(code(e), (409, "agreement_required"));
        let e =
            change_status(&mut p.conn(), &seller, r.clone(), "agreed").expect_err("nor the other");
        assert_eq!(code(e), (409, "agreement_required"));
        let now = matches::get(&mut p.conn(), &r.id)
            .expect("read")
            .expect("record");
        assert_eq!(now.status, MatchStatus::Contacted);

        let e = change_status(&mut p.conn(), &seller, r.clone(), "expired").expect_err("system's");
        assert_eq!(code(e), (422, "validation_failed"));
        let r = change_status(&mut p.conn(), &seller, r, "declined").expect("decline");
        let e = change_status(&mut p.conn(), &seller, r, "contacted").expect_err("after");
        assert_eq!(code(e), (409, "invalid_transition"));
    }

    #[test]
    fn a_status_change_is_told_in_the_matchs_thread() {
        let p = park();
        let (_, _, r) = suggested(&p);
        let mut c = p.conn();
        let (thread, created) =
            threads::open_for_match_in(&mut c, &r, &p.buyer.user.id, crate::store::now())
                .expect("thread");
        assert!(created);
        change_status(&mut c, &p.seller.caller(), r, "declined").expect("decline");
        let (messages, _) =
            threads::messages_page(&mut c, &thread.id, None, None, 10).expect("read");
        assert!(
            messages
                .iter()
                .any(|m| m.kind == "system" && m.event.as_deref() == Some("match_status")),
            "{messages:?}"
        );
    }

    #[test]
    fn closing_a_listing_expires_its_open_records_only() {
        let p = park();
        let (request, offer, r) = suggested(&p);
        let other = p.post(&p.far, testing_offer());
        store_suggestions(&mut p.conn(), &[suggestion(&request, &other)]).expect("store");
        let declined = matches::list(
            &mut p.conn(),
            &matches::MatchScope::Firm(p.far.firm.id.clone()),
            &matches::MatchFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .expect("list")
        .pop()
        .expect("the far pair");
        change_status(&mut p.conn(), &p.far.caller(), declined.clone(), "declined")
            .expect("decline");

        assert_eq!(
            expire_for_listing(&mut p.conn(), &request.id).expect("expire"),
            1
        );
        let r = matches::get(&mut p.conn(), &r.id)
            .expect("read")
            .expect("record");
        assert_eq!(r.status, MatchStatus::Expired);
        let d = matches::get(&mut p.conn(), &declined.id)
            .expect("read")
            .expect("record");
        assert_eq!(
            d.status,
            MatchStatus::Declined,
            "a settled record keeps its status"
        );
        assert_eq!(
            expire_for_listing(&mut p.conn(), &offer.id).expect("again"),
            0
        );
    }
}
