//! Staff cases: which requests reach the community's queue, and brokering
//! (putting a requester in contact with the firms that can help).

use chrono::{DateTime, Utc};
use serde_json::json;
use zhiqilian_matcher::{CaseStatus, ListingStatus, MatchStatus, Urgency};
use zhiqilian_matcher::{Scored, Weights, score};

use crate::service::access::{Viewer, visible_to};
use crate::service::error::{ApiError, Code, Status};
use crate::service::matching::match_listing;
use crate::store::audit;
use crate::store::cases::{self, Acting, ActionResult, Case, Contact, Refusal};
use crate::store::models::{Listing, MatchRecord, Suggestion};
use crate::store::notifications::{self, NewNotification};
use crate::store::stream::NewEvent;
use crate::store::threads::{self, Thread};
use crate::store::{Db, DbConnection, StoreError, StoreResult, accounts, listings, now};

/// Whether a listing belongs in the staff queue: an open urgent or
/// emergency request. (Its firm must also be verified: see [`open_for`].)
pub fn opens_case(l: &Listing) -> bool {
    l.side == "request"
        && l.status == ListingStatus::Open
        && matches!(l.urgency, Urgency::Urgent | Urgency::Emergency)
}

/// Inside the transaction that writes a listing: an open urgent or
/// emergency request of a verified firm gets a case (once); an open case
/// follows the request's urgency. Returns the live events to append last.
///
/// A firm that registered itself and is not verified yet cannot reach the
/// staff queue: its requests get their cases when staff verify it
/// ([`open_for_firm`]).
pub fn open_for(c: &mut DbConnection, l: &Listing) -> StoreResult<Vec<NewEvent>> {
    if !opens_case(l) {
        return Ok(Vec::new());
    }
    let verified = accounts::get_firm(c, &l.firm_id)?.is_some_and(|f| f.verified);
    if !verified {
        return Ok(Vec::new());
    }
    cases::upsert_for(c, l)
}

/// Inside the transaction that verifies a firm: the cases of its open
/// urgent and emergency requests, which waited for the verification.
pub fn open_for_firm(c: &mut DbConnection, firm_id: &str) -> StoreResult<Vec<NewEvent>> {
    let mut live = Vec::new();
    for l in listings::open_urgent_requests_of(c, firm_id)? {
        live.extend(open_for(c, &l)?);
    }
    Ok(live)
}

/// Claims a case for the actor (idempotent for the claimant).
pub fn claim(conn: &mut DbConnection, a: &Acting, take_over: bool) -> ActionResult<Case> {
    let actor = &a.actor;
    if let Ok(Some(k)) = cases::get(conn, &a.case_id)
        && k.claimed_by.as_deref() == Some(actor.user_id.as_str())
        && k.status != CaseStatus::Resolved
        && a.community.as_deref().is_none_or(|cm| cm == k.community_id)
    {
        return Ok(Ok(k));
    }
    let r = cases::act(conn, a, |c, k| {
        if let Some(by) = &k.claimed_by
            && !take_over
        {
            return Ok(Err(Refusal::ClaimedByOther { by: by.clone() }));
        }
        let mut after = k.clone();
        after.claimed_by = Some(actor.user_id.clone());
        after.claimed_at = k.claimed_at.or(Some(now()));
        if k.status == CaseStatus::Open {
            after.status = CaseStatus::Claimed;
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
    let r = cases::act(conn, a, |c, k| {
        let at = now();
        let mut after = k.clone();
        after.status = CaseStatus::Resolved;
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
    let r = cases::act(conn, a, |c, k| {
        let mut after = k.clone();
        after.escalated_from = Some(k.community_id.clone());
        after.community_id = to.to_string();
        after.claimed_by = None;
        if after.status == CaseStatus::Claimed {
            after.status = CaseStatus::Open;
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
        let live = cases::opened_events(c, &after, &a.title)?;
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
    cases::act(conn, a, |c, k| {
        let at = now();
        let mut live = Vec::new();
        let mut out = Vec::new();
        let mut thread_ids = Vec::new();
        for t in targets {
            let s = &t.suggestion;
            let (mut record, created) = crate::store::matches::get_or_create_in(c, s)?;
            live.extend(created);
            if record.status == MatchStatus::Suggested
                && let Some((r, events)) = super::matches::set_status_in(
                    c,
                    &record.id,
                    MatchStatus::Suggested,
                    MatchStatus::Contacted,
                )?
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
            cases::add_contact(
                c,
                &Contact {
                    case_id: k.id.clone(),
                    match_id: record.id.clone(),
                    thread_id: thread.id.clone(),
                    offer_id: s.offer_id.clone(),
                    offer_firm_id: s.offer_firm_id.clone(),
                    brokered_by: actor.user_id.clone(),
                    created_at: at,
                },
            )?;
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
        after.status = CaseStatus::Brokered;
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

/// How a case's refusal of a staff action reads to the caller.
pub fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::NotFound => ApiError::not_found("工单"),
        Refusal::Resolved => ApiError::new(Status::CONFLICT, Code::CaseResolved, "工单已办结"),
        Refusal::ClaimedByOther { .. } => ApiError::new(
            Status::CONFLICT,
            Code::AlreadyClaimed,
            "工单已由其他工作人员认领；如需接手请传 take_over: true",
        ),
        Refusal::Changed => ApiError::new(
            Status::CONFLICT,
            Code::CaseChanged,
            "工单刚被其他人更新，请刷新后重试",
        ),
    }
}

/// Offers per brokering.
pub const BROKER_MAX: usize = 5;

/// Checks what staff ask to broker: 1 to [`BROKER_MAX`] distinct offers
/// (sorted), and an optional message of at most `max_chars` (blank is
/// none).
pub fn broker_ask(
    mut offer_ids: Vec<String>,
    message: Option<String>,
    max_chars: usize,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    offer_ids.sort();
    offer_ids.dedup();
    if offer_ids.is_empty() || offer_ids.len() > BROKER_MAX {
        return Err(ApiError::field(
            "offer_ids",
            "out_of_range",
            format!("请选择 1 到 {BROKER_MAX} 条供给"),
        ));
    }
    let message = match message.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) if m.chars().count() > max_chars => {
            return Err(ApiError::field(
                "message",
                "too_long",
                format!("message 最多 {max_chars} 个字"),
            ));
        }
        Some(m) => Some(m.to_string()),
    };
    Ok((offer_ids, message))
}

/// [`broker_case`] on a pooled connection, now.
pub async fn broker_on(
    db: &Db,
    a: Acting,
    k: Case,
    staff: Viewer,
    offer_ids: Vec<String>,
    message: Option<String>,
    weights: std::sync::Arc<Weights>,
) -> Result<(Case, Vec<Brokered>), ApiError> {
    db.run(move |c| {
        Ok(broker_case(
            c,
            &a,
            &k,
            &staff,
            &offer_ids,
            message.as_deref(),
            &weights,
            Utc::now(),
        ))
    })
    .await?
}

fn unknown_offer(id: &str) -> ApiError {
    ApiError::field("offer_ids", "unknown_offer", format!("没有这条供给：{id}"))
}

/// Brokers case `k`'s request with the chosen offers. Each offer must be
/// open, an offer, of another firm, and visible both to the staff member
/// and to the requesting firm; the request must still be open. A pair the
/// matcher would refuse is still brokered (staff know better than a hard
/// rule), recorded with no score.
#[allow(clippy::too_many_arguments)]
pub fn broker_case(
    c: &mut DbConnection,
    a: &Acting,
    k: &Case,
    staff: &Viewer,
    offer_ids: &[String],
    message: Option<&str>,
    weights: &Weights,
    at: DateTime<Utc>,
) -> Result<(Case, Vec<Brokered>), ApiError> {
    let Some(request) = listings::get(c, &k.listing_id)? else {
        return Err(ApiError::not_found("供需信息"));
    };
    if request.listing.status != ListingStatus::Open {
        return Err(ApiError::new(
            Status::CONFLICT,
            Code::ListingClosed,
            "该需求已关闭，无法牵线；请直接办结工单",
        ));
    }
    let requester = Viewer::Member {
        firm_id: request.listing.firm_id.clone(),
        community_id: request.listing.community_id.clone(),
    };
    let Some(anchor) = match_listing(&request) else {
        return Err(ApiError::internal("request listing cannot be matched"));
    };
    let offers = listings::get_many(c, offer_ids)?;
    let mut targets = Vec::new();
    for oid in offer_ids {
        let Some(v) = offers.iter().find(|v| &v.listing.id == oid) else {
            return Err(unknown_offer(oid));
        };
        let l = &v.listing;
        if !visible_to(v, staff) || !visible_to(v, &requester) {
            return Err(unknown_offer(oid));
        }
        if l.side != "offer"
            || l.status != ListingStatus::Open
            || l.firm_id == request.listing.firm_id
        {
            return Err(ApiError::field(
                "offer_ids",
                "not_an_open_offer",
                format!("{oid} 不是其他企业的有效供给"),
            ));
        }
        let (score_v, partial, factors) =
            match match_listing(v).map(|o| score(&anchor, &o, weights, at)) {
                Some(Scored::Match {
                    score,
                    factors,
                    partial,
                }) => (
                    score,
                    partial,
                    serde_json::to_string(&factors).unwrap_or_default(),
                ),
                _ => (0.0, false, "[]".to_string()),
            };
        let offer_firm_name = threads::firm_names(c, std::slice::from_ref(&l.firm_id))?
            .remove(&l.firm_id)
            .unwrap_or_default();
        targets.push(BrokerTarget {
            suggestion: Suggestion {
                request_id: request.listing.id.clone(),
                offer_id: l.id.clone(),
                request_firm_id: request.listing.firm_id.clone(),
                offer_firm_id: l.firm_id.clone(),
                request_community_id: request.listing.community_id.clone(),
                offer_community_id: l.community_id.clone(),
                score: score_v,
                partial,
                factors,
                request_title: request.listing.title.clone(),
                offer_title: l.title.clone(),
            },
            offer_firm_name,
        });
    }
    broker(c, a, &request.firm_name, &targets, message)?.map_err(refusal)
}

#[cfg(test)]
mod tests {
    use zhiqilian_matcher::Weights;

    use super::*;
    use crate::service::testkit::{Park, emergency_request, park, testing_offer};
    use crate::store::accounts::NewUser;
    use crate::store::audit::Actor;

    fn acting(p: &Park, k: &Case, actor: Actor) -> Acting {
        Acting {
            case_id: k.id.clone(),
            community: Some(p.dagang.id.clone()),
            actor,
            title: "急需盐雾试验箱检测服务".into(),
        }
    }

    fn open_case(p: &Park) -> (Listing, Case) {
        let request = p.post(&p.buyer, emergency_request());
        let k = cases::by_listing(&mut p.conn(), &request.id)
            .expect("read")
            .expect("case");
        (request, k)
    }

    fn second_staff(p: &Park) -> Actor {
        let (u, _) = crate::store::accounts::create_staff(
            &mut p.conn(),
            &p.dagang.id,
            NewUser {
                phone: Some("13700000001".into()),
                email: None,
                display_name: "社区小李".into(),
                password_hash: String::new(),
                is_platform_admin: false,
            },
        )
        .expect("staff");
        Actor {
            user_id: u.id,
            name: u.display_name,
        }
    }

    #[test]
    fn a_claim_holds_until_taken_over() {
        let p = park();
        let (_, k) = open_case(&p);
        let wang = p.staff_actor();
        let li = second_staff(&p);
        let claimed = claim(&mut p.conn(), &acting(&p, &k, wang.clone()), false)
            .expect("store")
            .expect("claimed");
        assert_eq!(claimed.status, CaseStatus::Claimed);
        assert_eq!(claimed.claimed_by.as_deref(), Some(wang.user_id.as_str()));
        // Claiming again is idempotent for the claimant.
        let again = claim(&mut p.conn(), &acting(&p, &k, wang.clone()), false)
            .expect("store")
            .expect("still mine");
        assert_eq!(again.updated_at, claimed.updated_at);

        let refused = claim(&mut p.conn(), &acting(&p, &k, li.clone()), false).expect("store");
        assert!(
            matches!(&refused, Err(Refusal::ClaimedByOther { by }) if *by == wang.user_id),
            "{refused:?}"
        );
        let taken = claim(&mut p.conn(), &acting(&p, &k, li.clone()), true)
            .expect("store")
            .expect("taken over");
        assert_eq!(taken.claimed_by.as_deref(), Some(li.user_id.as_str()));

        let done = resolve(
            &mut p.conn(),
            &acting(&p, &k, li.clone()),
            "solved",
            "已解决",
        )
        .expect("store")
        .expect("resolved");
        assert_eq!(done.status, CaseStatus::Resolved);
        let late = claim(&mut p.conn(), &acting(&p, &k, wang), true).expect("store");
        assert!(matches!(late, Err(Refusal::Resolved)), "{late:?}");
    }

    #[test]
    fn brokering_puts_both_firms_in_one_thread_with_the_broker() {
        let p = park();
        let (_, k) = open_case(&p);
        let offer = p.post(&p.seller, testing_offer());
        let staff = crate::store::listings::Viewer::Staff {
            community_id: p.dagang.id.clone(),
        };
        let (k, brokered) = broker_case(
            &mut p.conn(),
            &acting(&p, &k, p.staff_actor()),
            &k,
            &staff,
            std::slice::from_ref(&offer.id),
            Some("请尽快联系"),
            &Weights::default(),
            Utc::now(),
        )
        .expect("brokered");
        assert_eq!(k.status, CaseStatus::Brokered);
        assert!(k.first_contact_at.is_some());
        let [b] = brokered.as_slice() else {
            panic!("one contact: {brokered:?}");
        };
        assert_eq!(b.match_record.status, MatchStatus::Contacted);
        assert_eq!(b.match_record.offer_id, offer.id);
        let mut c = p.conn();
        assert!(
            threads::staff_of(&mut c, std::slice::from_ref(&b.thread.id))
                .expect("staff")
                .iter()
                .any(|s| s.user_id == p.staff.id),
            "the broker joined the thread"
        );
        let (messages, _) =
            threads::messages_page(&mut c, &b.thread.id, None, None, 10).expect("read");
        let texts: Vec<_> = messages
            .iter()
            .map(|m| (m.kind.as_str(), m.body.as_str()))
            .collect();
        assert!(
            texts
                .iter()
                .any(|(k, b)| *k == "system" && b.contains("牵线")),
            "{texts:?}"
        );
        assert!(texts.contains(&("text", "请尽快联系")), "{texts:?}");
        assert_eq!(
            cases::contacts_of(&mut c, std::slice::from_ref(&k.id))
                .expect("contacts")
                .len(),
            1
        );
    }

    #[test]
    fn brokering_refuses_what_cannot_help() {
        let p = park();
        let (request, k) = open_case(&p);
        let staff = crate::store::listings::Viewer::Staff {
            community_id: p.dagang.id.clone(),
        };
        let own = p.post(&p.buyer, testing_offer());
        let mut hidden = testing_offer();
        hidden["visibility"] = serde_json::json!("community");
        let far = p.post(&p.far, hidden);
        let try_broker = |offer: &str| {
            broker_case(
                &mut p.conn(),
                &acting(&p, &k, p.staff_actor()),
                &k,
                &staff,
                &[offer.to_string()],
                None,
                &Weights::default(),
                Utc::now(),
            )
            .expect_err("refused")
        };
        let e = try_broker(&own.id);
        assert_eq!(
            (e.code, e.errors[0].code),
            (Code::ValidationFailed, "not_an_open_offer")
        );
        let e = try_broker(&far.id);
        assert_eq!(
            e.errors[0].code, "unknown_offer",
            "another community's own listing"
        );
        let e = try_broker("no-such-offer");
        assert_eq!(e.errors[0].code, "unknown_offer");

        crate::store::listings::close(&mut p.conn(), &request.id, crate::store::now())
            .expect("close");
        let offer = p.post(&p.seller, testing_offer());
        let e = try_broker(&offer.id);
        assert_eq!((e.status.as_u16(), e.code), (409, Code::ListingClosed));
        assert!(
            cases::contacts_of(&mut p.conn(), &[k.id])
                .expect("contacts")
                .is_empty()
        );
    }

    #[test]
    fn a_broker_ask_is_checked_before_anything_is_read() {
        let many: Vec<String> = (0..6).map(|i| format!("o{i}")).collect();
        assert_eq!(
            broker_ask(many, None, 10).expect_err("too many").errors[0].field,
            "offer_ids"
        );
        assert!(broker_ask(Vec::new(), None, 10).is_err());
        let (ids, m) = broker_ask(
            vec!["b".into(), "a".into(), "b".into()],
            Some("  ".into()),
            10,
        )
        .expect("ok");
        assert_eq!((ids, m), (vec!["a".to_string(), "b".into()], None));
        let e = broker_ask(vec!["a".into()], Some("长".repeat(11)), 10).expect_err("long");
        assert_eq!(e.errors[0].field, "message");
    }
}
