//! The match lifecycle: suggested → contacted → agreed | declined, expiry
//! when a listing closes, and the thread messages and case events each move
//! brings with it.

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::store::matches::{self, MatchRecord, Suggestion};
use crate::store::stream::{self, NewEvent};
use crate::store::{Db, DbConnection, StoreResult, begin_write, cases, threads};

/// The statuses a firm may ask for (`expired` is the system's).
pub const STATUSES: [&str; 3] = ["contacted", "agreed", "declined"];

/// Allowed moves: suggested → contacted → agreed | declined (a suggestion
/// may also be declined outright; `agreed` comes only with a confirmed
/// agreement, see `service::agreements`).
/// Expiry is the system's.
pub fn allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("suggested", "contacted")
            | ("suggested", "declined")
            | ("contacted", "agreed")
            | ("contacted", "declined")
    )
}

/// Inside a transaction: moves a record from `from` to `to` if it is still
/// in `from`, with its `match.status_changed` event and the system message
/// in the record's thread; returns the record and the live events to append
/// last. `Ok(None)` when it had moved meanwhile.
pub fn set_status_in(
    c: &mut DbConnection,
    id: &str,
    from: &str,
    to: &str,
) -> StoreResult<Option<(MatchRecord, Vec<NewEvent>)>> {
    let Some((r, event)) = matches::set_status_in(c, id, from, to)? else {
        return Ok(None);
    };
    let mut live = threads::on_match_status(c, id, to)?;
    live.extend(event);
    Ok(Some((r, live)))
}

/// Moves a record from `from` to `to` (one transaction); `Ok(None)` when it
/// had moved meanwhile.
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    from: &str,
    to: &str,
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
    if !STATUSES.contains(&to) {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "取值无效，可选值：contacted, agreed, declined",
        ));
    }
    if to == r.status {
        return Ok(r);
    }
    if !allowed(&r.status, to) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("不能从 {} 变为 {}", r.status, to),
        ));
    }
    if to == "agreed" {
        return Err(ApiError::conflict(
            "agreement_required",
            "成交须由一方提出成交条款、另一方确认同一版本（POST /api/v1/agreements）",
        ));
    }
    set_status(c, &r.id, &r.status, to)?
        .ok_or_else(|| ApiError::conflict("edit_conflict", "该匹配记录刚被他人更新，请刷新后重试"))
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
            if let Some((_, events)) = set_status_in(c, &r.id, &r.status, "expired")? {
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
                && k.status != "resolved"
            {
                live.push(cases::updated_event(&k, &s.request_title));
            }
            Ok((true, live))
        })?;
        created += usize::from(inserted);
    }
    Ok(created)
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
        (e.status.as_u16(), e.code)
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
        assert_eq!(r.status, "contacted");

        let e = change_status(&mut p.conn(), &buyer, r.clone(), "agreed").expect_err("by asking");
        assert_eq!(code(e), (409, "agreement_required"));
        let e =
            change_status(&mut p.conn(), &seller, r.clone(), "agreed").expect_err("nor the other");
        assert_eq!(code(e), (409, "agreement_required"));
        let now = matches::get(&mut p.conn(), &r.id)
            .expect("read")
            .expect("record");
        assert_eq!(now.status, "contacted");

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
        assert_eq!(r.status, "expired");
        let d = matches::get(&mut p.conn(), &declined.id)
            .expect("read")
            .expect("record");
        assert_eq!(d.status, "declined", "a settled record keeps its status");
        assert_eq!(
            expire_for_listing(&mut p.conn(), &offer.id).expect("again"),
            0
        );
    }
}
