//! Agreements (成交): one firm of a match proposes terms (quantity, price,
//! dates, place), the other confirms that same version; a change after
//! confirmation is a new version both must stand behind again. The first
//! confirmation makes the match `agreed` (the only way it gets there) and
//! reveals both firms' contacts to each other, recorded. Confirmed
//! agreements commit their quantity against both listings in the
//! transaction that confirms them, under a write lock on both rows, so
//! concurrent confirmations never over-commit; a listing fully covered
//! closes as fulfilled. Then: confirmed → in_progress → completed |
//! cancelled (with a reason; a cancellation releases the quantity), and
//! after completion each firm rates the other.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{ListingStatus, MatchOutcome, MatchStatus};

use crate::service::access::Caller;
use crate::service::deal_terms::{self, Terms, TermsIn};
use crate::service::error::{ApiError, Code, Status};
use crate::service::listing_form::Amount;
use crate::service::matches as match_lifecycle;
use crate::service::outcomes;
use crate::service::pagination::{self, Page};
use crate::service::validate::Errors;
use crate::store::agreements::{self as rows, AgreementFilter};
use crate::store::models::{
    Agreement, AgreementStatus, AgreementVersion, ContactReveal, Listing, Rating,
};
use crate::store::notifications::{self, NewNotification};
use crate::store::reputation::{self as tallies, Delta};
use crate::store::stream::{self, NewEvent};
use crate::store::{
    Db, DbConnection, accounts, audit, begin_write, cases, listings, matches, new_id, now, quotes,
    ratings,
};

/// How long after completion each firm may rate the other.
pub const RATING_WINDOW_DAYS: i64 = 30;
/// The tags a rating may carry.
pub const RATING_TAGS: &[&str] = &["准时", "质量", "沟通", "价格", "专业", "配合"];

/// New terms proposed from a match or an accepted quote.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub match_id: String,
    pub quote_id: Option<String>,
    pub terms: Terms,
}

/// `POST /agreements`: from a match record, or from an accepted quote
/// (whose terms fill what is not given).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeIn {
    pub match_id: Option<String>,
    pub quote_id: Option<String>,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    /// The version confirmed: it must be the latest.
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingIn {
    pub score: Option<i32>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListingBrief {
    pub id: String,
    pub title: String,
    pub firm_id: String,
    pub status: String,
    pub quantity: Option<Amount>,
    pub remaining: Option<Amount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub version: i32,
    pub terms: Terms,
    pub proposed_by_firm: String,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub firm_id: String,
    pub firm_name: String,
    pub contact_name: String,
    pub contact_phone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contacts {
    pub request_firm: Contact,
    pub offer_firm: Contact,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevealView {
    pub revealed_at: DateTime<Utc>,
    /// The user whose confirmation revealed the contacts.
    pub revealed_by: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingView {
    pub id: String,
    pub rater_firm_id: String,
    pub ratee_firm_id: String,
    pub score: i32,
    pub tags: Vec<String>,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// Staff hid the comment as abusive: the firms see an empty comment and
    /// the reason; the score still counts.
    pub comment_hidden: bool,
    pub comment_hidden_reason: Option<String>,
    pub comment_hidden_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingsView {
    /// Until when the firms may rate (completion + 30 days).
    pub window_closes_at: Option<DateTime<Utc>>,
    /// Both have rated or the window closed: both ratings are shown.
    pub published: bool,
    /// Firms that have rated (the scores stay hidden until published).
    pub rated_firm_ids: Vec<String>,
    /// Published ratings, or before that only the caller's own.
    pub items: Vec<RatingView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Committed {
    pub request: Option<Amount>,
    pub offer: Option<Amount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementView {
    pub id: String,
    pub match_id: String,
    pub quote_id: Option<String>,
    pub request: ListingBrief,
    pub offer: ListingBrief,
    pub status: &'static str,
    /// The latest proposed version and the latest one both firms confirmed.
    pub version: i32,
    pub confirmed_version: Option<i32>,
    /// The firm that must confirm the latest version; null once confirmed.
    /// (Of a version staff proposed, the first of `awaiting_firm_ids`.)
    pub awaiting_firm_id: Option<String>,
    /// Every firm that must still confirm the latest version: the other
    /// firm, or both of a version staff proposed until one has confirmed.
    pub awaiting_firm_ids: Vec<String>,
    pub proposed_by_firm_id: String,
    /// The staff member who proposed the latest version for the requesting
    /// firm (on a brokered case), and the case.
    pub proposed_by_staff: Option<String>,
    pub case_id: Option<String>,
    /// The latest version's terms.
    pub terms: Terms,
    pub total_price_yuan: Option<f64>,
    /// What the confirmed version holds against each listing (its unit).
    pub committed: Committed,
    pub versions: Vec<VersionView>,
    /// Both firms' contacts, once an agreement between them is confirmed.
    pub contacts: Option<Contacts>,
    pub reveal: Option<RevealView>,
    pub ratings: RatingsView,
    pub first_confirmed_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn terms_of(a: &Agreement) -> Terms {
    Terms {
        quantity: Amount {
            amount: a.quantity_amount,
            unit: a.quantity_unit.clone(),
        },
        price: Amount {
            amount: a.price_amount,
            unit: a.price_unit.clone(),
        },
        available_from: a.available_from.clone(),
        available_until: a.available_until.clone(),
        place: a.place.clone(),
    }
}

fn set_terms(a: &mut Agreement, t: &Terms) {
    a.quantity_amount = t.quantity.amount;
    a.quantity_unit = t.quantity.unit.clone();
    a.price_amount = t.price.amount;
    a.price_unit = t.price.unit.clone();
    a.available_from = t.available_from.clone();
    a.available_until = t.available_until.clone();
    a.place = t.place.clone();
}

fn brief(l: Option<Listing>, id: &str) -> ListingBrief {
    match l {
        Some(l) => {
            let amount = |x: Option<f64>| {
                x.zip(l.quantity_unit.clone())
                    .map(|(amount, unit)| Amount { amount, unit })
            };
            ListingBrief {
                id: l.id.clone(),
                title: l.title.clone(),
                firm_id: l.firm_id.clone(),
                status: l.shown_status().to_string(),
                quantity: amount(l.quantity_amount),
                remaining: amount(l.remaining_amount()),
            }
        }
        None => ListingBrief {
            id: id.to_string(),
            title: String::new(),
            firm_id: String::new(),
            status: String::new(),
            quantity: None,
            remaining: None,
        },
    }
}

fn contact(c: &mut DbConnection, firm_id: &str) -> Result<Contact, ApiError> {
    let f = accounts::get_firm(c, firm_id)?.ok_or_else(|| ApiError::not_found("企业"))?;
    Ok(Contact {
        firm_id: f.id,
        firm_name: f.name,
        contact_name: f.contact_name,
        contact_phone: f.contact_phone,
    })
}

/// Whether the caller may see an agreement: its firms, their communities'
/// staff, admins.
pub(crate) fn may_see(caller: &Caller, a: &Agreement) -> bool {
    caller.firm_id().is_some_and(|f| a.is_party(f))
        || caller.can_administer_community(&a.request_community_id)
        || caller.can_administer_community(&a.offer_community_id)
}

fn ratings_view(
    caller: &Caller,
    a: &Agreement,
    all: Vec<Rating>,
    at: NaiveDateTime,
) -> RatingsView {
    let staff = caller.can_administer_community(&a.request_community_id)
        || caller.can_administer_community(&a.offer_community_id);
    let window = a
        .completed_at
        .map(|t| t + Duration::days(RATING_WINDOW_DAYS));
    let published = all.len() == 2 || window.is_some_and(|w| w <= at) && !all.is_empty();
    let rated_firm_ids = all.iter().map(|r| r.rater_firm_id.clone()).collect();
    let items = all
        .into_iter()
        .filter(|r| published || caller.is_member_of(&r.rater_firm_id))
        .map(|r| {
            let hidden = r.comment_hidden_at.is_some();
            RatingView {
                id: r.id,
                rater_firm_id: r.rater_firm_id,
                ratee_firm_id: r.ratee_firm_id,
                score: r.score,
                tags: serde_json::from_str(&r.tags).unwrap_or_default(),
                // Staff still read what they hid; the firms do not.
                comment: if hidden && !staff {
                    String::new()
                } else {
                    r.comment
                },
                created_at: utc(r.created_at),
                published_at: r.published_at.map(utc),
                comment_hidden: hidden,
                comment_hidden_reason: r.comment_hidden_reason,
                comment_hidden_at: r.comment_hidden_at.map(utc),
            }
        })
        .collect();
    RatingsView {
        window_closes_at: window.map(utc),
        published,
        rated_firm_ids,
        items,
    }
}

/// The whole view of an agreement for `caller`.
pub fn view(
    c: &mut DbConnection,
    caller: &Caller,
    a: &Agreement,
) -> Result<AgreementView, ApiError> {
    let at = now();
    let request = listings::get_row(c, &a.request_id)?;
    let offer = listings::get_row(c, &a.offer_id)?;
    let unit = |l: &Option<Listing>, x: f64| {
        l.as_ref()
            .and_then(|l| l.quantity_unit.clone())
            .map(|unit| Amount { amount: x, unit })
    };
    let committed = Committed {
        request: unit(&request, a.committed_request),
        offer: unit(&offer, a.committed_offer),
    };
    let versions = rows::versions(c, &a.id)?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            terms: serde_json::from_str(&v.terms).unwrap_or_else(|_| terms_of(a)),
            proposed_by_firm: v.proposed_by_firm,
            proposed_by: v.proposed_by,
            proposed_at: utc(v.proposed_at),
            confirmed_by: v.confirmed_by,
            confirmed_at: v.confirmed_at.map(utc),
        })
        .collect();
    let reveal = rows::reveal_of(c, &a.id)?;
    let contacts = match &reveal {
        Some(_) => Some(Contacts {
            request_firm: contact(c, &a.request_firm_id)?,
            offer_firm: contact(c, &a.offer_firm_id)?,
        }),
        None => None,
    };
    let all = ratings::of_agreement(c, &a.id)?;
    let terms = terms_of(a);
    let status = a.status();
    Ok(AgreementView {
        id: a.id.clone(),
        match_id: a.match_id.clone(),
        quote_id: a.quote_id.clone(),
        request: brief(request, &a.request_id),
        offer: brief(offer, &a.offer_id),
        status: status.as_str(),
        version: a.version,
        confirmed_version: a.confirmed_version,
        awaiting_firm_id: awaiting(a).first().cloned(),
        awaiting_firm_ids: awaiting(a),
        proposed_by_firm_id: a.proposed_by_firm.clone(),
        proposed_by_staff: a.proposed_by_staff.clone(),
        case_id: a.case_id.clone(),
        total_price_yuan: terms.total_yuan().map(|x| (x * 100.0).round() / 100.0),
        terms,
        committed,
        versions,
        contacts,
        reveal: reveal.map(|r| RevealView {
            revealed_at: utc(r.revealed_at),
            revealed_by: r.revealed_by,
            reason: r.reason,
        }),
        ratings: ratings_view(caller, a, all, at),
        first_confirmed_at: a.first_confirmed_at.map(utc),
        started_at: a.started_at.map(utc),
        completed_at: a.completed_at.map(utc),
        cancelled_at: a.cancelled_at.map(utc),
        cancel_reason: a.cancel_reason.clone(),
        created_at: utc(a.created_at),
        updated_at: utc(a.updated_at),
    })
}

/// The firms that must still confirm the latest version.
fn awaiting(a: &Agreement) -> Vec<String> {
    if !a.status().is_active() || a.confirmed_version == Some(a.version) {
        return Vec::new();
    }
    if a.proposed_by_staff.is_some() {
        return [&a.request_firm_id, &a.offer_firm_id]
            .into_iter()
            .filter(|f| a.confirmed_first_by_firm.as_ref() != Some(*f))
            .cloned()
            .collect();
    }
    vec![a.other_firm(&a.proposed_by_firm).to_string()]
}

fn version_row(a: &Agreement, by: &str, at: NaiveDateTime) -> AgreementVersion {
    AgreementVersion {
        agreement_id: a.id.clone(),
        version: a.version,
        terms: serde_json::to_string(&terms_of(a)).unwrap_or_default(),
        proposed_by_firm: a.proposed_by_firm.clone(),
        proposed_by: by.to_string(),
        proposed_at: at,
        confirmed_by: None,
        confirmed_at: None,
    }
}

fn notice(kind: &'static str, title: &str, body: String, a: &Agreement) -> NewNotification {
    NewNotification {
        kind,
        title: title.to_string(),
        body,
        subject_type: "agreement",
        subject_id: a.id.clone(),
        thread_id: None,
        group_key: None,
    }
}

/// The caller's firm, if it is a party of the match; 403 otherwise.
fn party_firm(caller: &Caller, request_firm: &str, offer_firm: &str) -> Result<String, ApiError> {
    match caller.firm_id() {
        Some(f) if f == request_firm || f == offer_firm => Ok(f.to_string()),
        _ => Err(ApiError::new(
            Status::FORBIDDEN,
            Code::FirmConsentRequired,
            "只有成交双方企业的成员可以提出或确认成交条款",
        )),
    }
}

/// Inside a write transaction: the caller's firm proposes terms on a
/// match (version 1 of a new agreement).
pub fn propose_in(
    c: &mut DbConnection,
    caller: &Caller,
    p: Proposal,
    at: NaiveDateTime,
) -> Result<(Agreement, Vec<NewEvent>), ApiError> {
    let m = matches::get(c, &p.match_id)?.ok_or_else(|| ApiError::not_found("匹配记录"))?;
    let firm = party_firm(caller, &m.request_firm_id, &m.offer_firm_id)?;
    propose_as(c, &firm, &caller.user_id, p, at)
}

/// [`propose_in`] for a firm of the match already checked: `firm` proposes,
/// `user_id` is recorded as the version's author.
fn propose_as(
    c: &mut DbConnection,
    firm: &str,
    user_id: &str,
    p: Proposal,
    at: NaiveDateTime,
) -> Result<(Agreement, Vec<NewEvent>), ApiError> {
    let firm = firm.to_string();
    let m = matches::get(c, &p.match_id)?.ok_or_else(|| ApiError::not_found("匹配记录"))?;
    if matches!(m.status, MatchStatus::Declined | MatchStatus::Expired) {
        return Err(ApiError::conflict(
            Code::MatchClosed,
            "该匹配已婉拒或失效，不能成交",
        ));
    }
    if rows::active_for_match(c, &m.id)?.is_some() {
        return Err(ApiError::conflict(
            Code::AgreementExists,
            "该匹配已有进行中的成交，请修改其条款",
        ));
    }
    let mut a = Agreement {
        id: new_id(),
        match_id: m.id.clone(),
        quote_id: p.quote_id,
        request_id: m.request_id.clone(),
        offer_id: m.offer_id.clone(),
        request_firm_id: m.request_firm_id.clone(),
        offer_firm_id: m.offer_firm_id.clone(),
        request_community_id: m.request_community_id.clone(),
        offer_community_id: m.offer_community_id.clone(),
        status: AgreementStatus::Proposed.as_str().into(),
        version: 1,
        confirmed_version: None,
        quantity_amount: 0.0,
        quantity_unit: String::new(),
        price_amount: 0.0,
        price_unit: String::new(),
        available_from: None,
        available_until: None,
        place: String::new(),
        proposed_by_firm: firm.clone(),
        committed_request: 0.0,
        committed_offer: 0.0,
        value_yuan: None,
        first_confirmed_at: None,
        started_at: None,
        completed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        created_at: at,
        updated_at: at,
        proposed_by_staff: None,
        case_id: None,
        confirmed_first_by_firm: None,
    };
    set_terms(&mut a, &p.terms);
    // Units that cannot be committed against either listing are refused now.
    commitments(c, &a)?;
    rows::insert(c, &a)?;
    rows::insert_version(c, &version_row(&a, user_id, at))?;
    let mut live = tell(
        c,
        a.other_firm(&firm),
        notice(
            "agreement.proposed",
            "对方提出了成交条款",
            format!("请确认成交条款（第 {} 版）", a.version),
            &a,
        ),
    )?;
    live.push(rows::event("agreement.proposed", &a));
    Ok((a, live))
}

/// Runs a use case in one write transaction (SQLite takes its write lock
/// first) whose live events are appended last; an `ApiError` rolls
/// everything back.
pub(crate) fn in_write<T>(
    c: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<(T, Vec<NewEvent>), ApiError>,
) -> Result<T, ApiError> {
    let mut failure: Option<ApiError> = None;
    let out = stream::write(c, |c| {
        begin_write(c)?;
        match work(c) {
            Ok((t, live)) => Ok((Some(t), live)),
            Err(e) => {
                failure = Some(e);
                Err(crate::store::StoreError::Conflict("rolled back".into()))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    out?.ok_or_else(|| ApiError::internal("a write returned nothing"))
}

/// The members of a firm hear of something.
pub(crate) fn tell(
    c: &mut DbConnection,
    firm_id: &str,
    n: NewNotification,
) -> crate::store::StoreResult<Vec<NewEvent>> {
    let users = notifications::firm_members(c, &[firm_id.to_string()])?;
    notifications::notify(c, &users, &n)
}

/// What an agreement's terms hold against each listing, in each listing's
/// unit (0 for a listing without a quantity); 422 when the units do not
/// compare.
fn commitments(c: &mut DbConnection, a: &Agreement) -> Result<(f64, f64), ApiError> {
    let one = |c: &mut DbConnection, id: &str| -> Result<f64, ApiError> {
        let l = listings::get_row(c, id)?.ok_or_else(|| ApiError::not_found("供需信息"))?;
        held(a, &l)
    };
    Ok((one(c, &a.request_id)?, one(c, &a.offer_id)?))
}

fn held(a: &Agreement, l: &Listing) -> Result<f64, ApiError> {
    match (l.quantity_amount, l.quantity_unit.as_deref()) {
        (Some(_), Some(unit)) => deal_terms::convert(a.quantity_amount, &a.quantity_unit, unit)
            .ok_or_else(|| deal_terms::incomparable(&a.quantity_unit, unit)),
        _ => Ok(0.0),
    }
}

fn terms_in(p: &ProposeIn) -> TermsIn {
    TermsIn {
        quantity: p.quantity.clone(),
        price: p.price.clone(),
        available_from: p.available_from.clone(),
        available_until: p.available_until.clone(),
        place: p.place.clone(),
    }
}

/// A firm of a match proposes an agreement, from the match or from an
/// accepted quote.
pub async fn propose(
    db: &Db,
    caller: &Caller,
    input: ProposeIn,
) -> Result<AgreementView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        Ok(in_write(c, |c| {
            let at = now();
            let (match_id, quote_id, base) = match (&input.match_id, &input.quote_id) {
                (Some(m), None) => (m.clone(), None, None),
                (None, Some(q)) => {
                    let q = quotes::get(c, q)?.ok_or_else(|| ApiError::not_found("报价"))?;
                    party_firm(&caller, &q.request_firm_id, &q.offer_firm_id)?;
                    if q.status != "accepted" {
                        return Err(ApiError::conflict(
                            Code::QuoteNotAccepted,
                            "只有已接受的报价可以成交",
                        ));
                    }
                    let base = Terms {
                        quantity: Amount {
                            amount: q.quantity_amount,
                            unit: q.quantity_unit.clone(),
                        },
                        price: Amount {
                            amount: q.price_amount,
                            unit: q.price_unit.clone(),
                        },
                        available_from: q.available_from.clone(),
                        available_until: q.available_until.clone(),
                        place: q.place.clone(),
                    };
                    (q.match_id.clone(), Some(q.id.clone()), Some(base))
                }
                _ => {
                    return Err(ApiError::field(
                        "match_id",
                        "required",
                        "须且只须给出 match_id 或 quote_id 之一",
                    ));
                }
            };
            let mut e = Errors::default();
            let terms = deal_terms::check(&terms_in(&input), base.as_ref(), &mut e);
            e.into_result().map_err(ApiError::validation)?;
            let terms = terms.ok_or_else(|| ApiError::internal("terms checked"))?;
            let (a, live) = propose_in(
                c,
                &caller,
                Proposal {
                    match_id,
                    quote_id,
                    terms,
                },
                at,
            )?;
            Ok((view(c, &caller, &a)?, live))
        }))
    })
    .await?
}

/// An agreement the caller may see; 404 otherwise.
fn load(c: &mut DbConnection, caller: &Caller, id: &str) -> Result<Agreement, ApiError> {
    rows::lock(c, id)?
        .filter(|a| may_see(caller, a))
        .ok_or_else(|| ApiError::not_found("成交"))
}

pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<AgreementView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        Ok((|| {
            let a = rows::get(c, &id)?
                .filter(|a| may_see(&caller, a))
                .ok_or_else(|| ApiError::not_found("成交"))?;
            view(c, &caller, &a)
        })())
    })
    .await?
}

/// Query of the agreement list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<String>,
    #[serde(rename = "match")]
    pub match_id: Option<String>,
    pub request: Option<String>,
    /// Only the agreements this firm is a party to (either side): a firm's
    /// deals and the ratings they carry, as staff review them.
    pub firm: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The agreements of the caller's firm (staff: of their community; admins:
/// all), newest first, a page at a time; `firm` narrows them to one party.
pub async fn list(db: &Db, caller: &Caller, q: ListQuery) -> Result<Page<AgreementView>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before_id = pagination::decode(q.cursor.as_deref())?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(AgreementStatus::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "invalid_value",
                "取值无效，可选值：proposed, confirmed, in_progress, completed, cancelled",
            )
        })?),
    };
    let mut f = AgreementFilter {
        match_id: q.match_id,
        request_id: q.request,
        party_firm_id: q.firm,
        status,
        before_id,
        limit: limit + 1,
        ..Default::default()
    };
    if !caller.platform_admin {
        if let Some(k) = &caller.staff_community {
            f.community_id = Some(k.clone());
        } else if let Some(firm) = caller.firm_id() {
            f.firm_id = Some(firm.to_string());
        } else {
            return Ok(Page::from_rows(
                Vec::new(),
                limit,
                |a: &AgreementView| &a.id,
                |a| a,
            ));
        }
    }
    let caller = caller.clone();
    let rows = db
        .run(move |c| {
            Ok((|| {
                let found = rows::list(c, &f)?;
                found
                    .iter()
                    .map(|a| view(c, &caller, a))
                    .collect::<Result<Vec<_>, ApiError>>()
            })())
        })
        .await??;
    Ok(Page::from_rows(rows, limit, |a| &a.id, |a| a))
}

/// Runs a change of an agreement the caller may see, in one write
/// transaction with the agreement row locked.
async fn change(
    db: &Db,
    caller: &Caller,
    id: String,
    work: impl FnOnce(
        &mut DbConnection,
        &Caller,
        Agreement,
        NaiveDateTime,
    ) -> Result<(Agreement, Vec<NewEvent>), ApiError>
    + Send
    + 'static,
) -> Result<AgreementView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        Ok(in_write(c, |c| {
            let a = load(c, &caller, &id)?;
            let (a, live) = work(c, &caller, a, now())?;
            Ok((view(c, &caller, &a)?, live))
        }))
    })
    .await?
}

/// A firm proposes changed terms: a new version the other firm confirms.
/// A confirmed agreement keeps its confirmed terms (and what they hold)
/// until the change is confirmed.
pub async fn revise(
    db: &Db,
    caller: &Caller,
    id: String,
    input: TermsIn,
) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, mut a, at| {
        let firm = party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
        if !matches!(
            a.status(),
            AgreementStatus::Proposed | AgreementStatus::Confirmed
        ) {
            return Err(ApiError::conflict(
                Code::InvalidTransition,
                format!("{}的成交不能再修改条款", a.status().label_zh()),
            ));
        }
        let mut e = Errors::default();
        let terms = deal_terms::check(&input, Some(&terms_of(&a)), &mut e);
        e.into_result().map_err(ApiError::validation)?;
        let terms = terms.ok_or_else(|| ApiError::internal("terms checked"))?;
        set_terms(&mut a, &terms);
        commitments(c, &a)?;
        a.version += 1;
        a.proposed_by_firm = firm.clone();
        a.proposed_by_staff = None;
        a.confirmed_first_by_firm = None;
        a.updated_at = at;
        rows::save(c, &a)?;
        rows::insert_version(c, &version_row(&a, &caller.user_id, at))?;
        let mut live = tell(
            c,
            a.other_firm(&firm),
            notice(
                "agreement.proposed",
                "对方修改了成交条款",
                format!("请确认成交条款（第 {} 版）", a.version),
                &a,
            ),
        )?;
        live.push(rows::event("agreement.proposed", &a));
        Ok((a, live))
    })
    .await
}

/// Locks both listings of an agreement (in id order, so two transactions
/// never wait on each other crosswise) and returns (request, offer).
fn lock_listings(c: &mut DbConnection, a: &Agreement) -> Result<(Listing, Listing), ApiError> {
    let mut ids = [a.request_id.as_str(), a.offer_id.as_str()];
    ids.sort();
    let mut locked = Vec::with_capacity(2);
    for id in ids {
        locked.push(listings::lock(c, id)?.ok_or_else(|| ApiError::not_found("供需信息"))?);
    }
    let take = |id: &str| {
        locked
            .iter()
            .find(|l| l.id == id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("供需信息"))
    };
    Ok((take(&a.request_id)?, take(&a.offer_id)?))
}

/// Holds `delta` more of a listing (may be negative: a release); 409
/// `over_commitment` when it would hold more than the listing has.
fn hold(
    c: &mut DbConnection,
    l: &Listing,
    delta: f64,
    at: NaiveDateTime,
) -> Result<Vec<NewEvent>, ApiError> {
    let Some(total) = l.quantity_amount else {
        return Ok(Vec::new());
    };
    if delta.abs() < 1e-12 {
        return Ok(Vec::new());
    }
    let committed = l.committed_amount + delta;
    if delta > 0.0 {
        let live = l.status == ListingStatus::Open && l.expires_at.is_none_or(|t| t > at);
        if !live {
            return Err(ApiError::conflict(
                Code::ListingClosed,
                format!("「{}」已关闭或已过期，不能再成交", l.title),
            ));
        }
        if committed > total * (1.0 + 1e-9) {
            let unit = l.quantity_unit.clone().unwrap_or_default();
            return Err(ApiError::conflict(
                Code::OverCommitment,
                format!(
                    "「{}」剩余数量不足：剩余 {}{unit}，本次需要 {}{unit}",
                    l.title,
                    round3(total - l.committed_amount),
                    round3(delta)
                ),
            ));
        }
    }
    let (_, live) = listings::set_committed(c, l, committed.clamp(0.0, total), at)?;
    Ok(live)
}

fn round3(x: f64) -> f64 {
    (x.max(0.0) * 1000.0).round() / 1000.0
}

/// The other firm confirms the latest version. Confirming an older version
/// is refused (409 `stale_version`): the terms changed meanwhile. The
/// check and the commitment of quantity happen in this one transaction,
/// under a write lock on the agreement and both listings.
pub async fn confirm(
    db: &Db,
    caller: &Caller,
    id: String,
    input: ConfirmIn,
) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, a, at| {
        confirm_in(c, caller, a, input, at)
    })
    .await
}

pub fn confirm_in(
    c: &mut DbConnection,
    caller: &Caller,
    mut a: Agreement,
    input: ConfirmIn,
    at: NaiveDateTime,
) -> Result<(Agreement, Vec<NewEvent>), ApiError> {
    let firm = party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
    let Some(version) = input.version else {
        return Err(ApiError::field(
            "version",
            "required",
            "须给出所确认的条款版本",
        ));
    };
    if !matches!(
        a.status(),
        AgreementStatus::Proposed | AgreementStatus::Confirmed
    ) {
        return Err(ApiError::conflict(
            Code::InvalidTransition,
            format!("{}的成交不能再确认", a.status().label_zh()),
        ));
    }
    if version != a.version {
        return Err(ApiError::conflict(
            Code::StaleVersion,
            format!("条款已更新为第 {} 版，请查看后再确认", a.version),
        ));
    }
    if a.confirmed_version == Some(version) {
        // Confirmed already: nothing changes.
        return Ok((a, Vec::new()));
    }
    if a.proposed_by_staff.is_some() {
        // Staff proposed this version: both firms confirm it.
        match a.confirmed_first_by_firm.as_deref() {
            Some(f) if f == firm => {
                return Err(ApiError::conflict(
                    Code::AwaitingOtherFirm,
                    "本企业已确认，等待对方企业确认",
                ));
            }
            Some(_) => {}
            None => {
                a.confirmed_first_by_firm = Some(firm.clone());
                a.updated_at = at;
                rows::save(c, &a)?;
                let live = tell(
                    c,
                    a.other_firm(&firm),
                    notice(
                        "agreement.proposed",
                        "对方已确认社区提出的成交条款",
                        format!("请确认成交条款（第 {} 版）", a.version),
                        &a,
                    ),
                )?;
                return Ok((a, live));
            }
        }
    } else if firm == a.proposed_by_firm {
        return Err(ApiError::conflict(
            Code::AwaitingOtherFirm,
            "条款须由对方企业确认",
        ));
    }
    let (request, offer) = lock_listings(c, &a)?;
    let new_request = held(&a, &request)?;
    let new_offer = held(&a, &offer)?;
    let mut live = hold(c, &request, new_request - a.committed_request, at)?;
    live.extend(hold(c, &offer, new_offer - a.committed_offer, at)?);
    let first = a.first_confirmed_at.is_none();
    a.committed_request = new_request;
    a.committed_offer = new_offer;
    a.confirmed_version = Some(version);
    if a.status() == AgreementStatus::Proposed {
        a.status = AgreementStatus::Confirmed.as_str().into();
    }
    a.first_confirmed_at.get_or_insert(at);
    a.value_yuan = terms_of(&a).total_yuan();
    a.updated_at = at;
    rows::save(c, &a)?;
    rows::confirm_version(c, &a.id, version, &caller.user_id, at)?;
    if first {
        for (f, k) in [
            (&a.request_firm_id, &a.request_community_id),
            (&a.offer_firm_id, &a.offer_community_id),
        ] {
            tallies::add(c, f, k, Delta::CONFIRMED)?;
        }
        // The match is agreed only now, through its confirmed agreement.
        if let Some(m) = matches::get(c, &a.match_id)?
            && m.status != MatchStatus::Agreed
            && let Some((_, events)) =
                match_lifecycle::set_status_in(c, &m.id, m.status, MatchStatus::Agreed)?
        {
            live.extend(events);
        }
        // Both firms now see each other's contact; the reveal is recorded.
        if rows::reveal_of(c, &a.id)?.is_none() {
            rows::insert_reveal(
                c,
                &ContactReveal {
                    id: new_id(),
                    agreement_id: a.id.clone(),
                    firm_a_id: a.request_firm_id.clone(),
                    firm_b_id: a.offer_firm_id.clone(),
                    revealed_by: caller.user_id.clone(),
                    reason: "agreement_confirmed".into(),
                    revealed_at: at,
                },
            )?;
        }
    }
    for f in [a.request_firm_id.clone(), a.offer_firm_id.clone()] {
        live.extend(tell(
            c,
            &f,
            notice(
                "agreement.confirmed",
                "成交已确认",
                format!("双方已确认成交条款（第 {version} 版），可查看对方联系方式"),
                &a,
            ),
        )?);
    }
    live.push(rows::event("agreement.confirmed", &a));
    Ok((a, live))
}

/// Fulfilment starts (confirmed → in_progress).
pub async fn start(db: &Db, caller: &Caller, id: String) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, mut a, at| {
        party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
        if a.status() != AgreementStatus::Confirmed {
            return Err(ApiError::conflict(
                Code::InvalidTransition,
                format!("不能从{}开始履约", a.status().label_zh()),
            ));
        }
        a.status = AgreementStatus::InProgress.as_str().into();
        a.started_at = Some(at);
        a.updated_at = at;
        rows::save(c, &a)?;
        Ok((a, Vec::new()))
    })
    .await
}

/// The deal was delivered (confirmed | in_progress → completed); the
/// rating window opens.
pub async fn complete(db: &Db, caller: &Caller, id: String) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, mut a, at| {
        party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
        if !matches!(
            a.status(),
            AgreementStatus::Confirmed | AgreementStatus::InProgress
        ) {
            return Err(ApiError::conflict(
                Code::InvalidTransition,
                format!("不能从{}变为已完成", a.status().label_zh()),
            ));
        }
        a.status = AgreementStatus::Completed.as_str().into();
        a.completed_at = Some(at);
        a.updated_at = at;
        rows::save(c, &a)?;
        // The match's outcome log hears that the deal was delivered.
        if let Some(m) = matches::get(c, &a.match_id)? {
            outcomes::record_in(c, &m, MatchOutcome::Completed)?;
        }
        for (f, k) in [
            (&a.request_firm_id, &a.request_community_id),
            (&a.offer_firm_id, &a.offer_community_id),
        ] {
            tallies::add(c, f, k, Delta::COMPLETED)?;
        }
        let mut live = Vec::new();
        for f in [a.request_firm_id.clone(), a.offer_firm_id.clone()] {
            live.extend(tell(
                c,
                &f,
                notice(
                    "agreement.completed",
                    "成交已完成",
                    format!("请在 {RATING_WINDOW_DAYS} 天内评价对方"),
                    &a,
                ),
            )?);
        }
        live.push(rows::event("agreement.completed", &a));
        Ok((a, live))
    })
    .await
}

/// Either firm cancels, with a reason; what the agreement held is
/// released (a fulfilled listing reopens), and a match the agreement had
/// made `agreed` goes back to `contacted` — the firms are in contact and
/// may agree anew — unless another agreement on it still stands, or to
/// `expired` when either listing is no longer open. Both firms are told.
pub async fn cancel(
    db: &Db,
    caller: &Caller,
    id: String,
    input: CancelIn,
) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, mut a, at| {
        party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
        let mut e = Errors::default();
        let reason = e.multiline("reason", input.reason.as_deref().unwrap_or(""), 1, 500);
        e.into_result().map_err(ApiError::validation)?;
        if !a.status().is_active() {
            return Err(ApiError::conflict(
                Code::InvalidTransition,
                format!("{}的成交不能取消", a.status().label_zh()),
            ));
        }
        let (request, offer) = lock_listings(c, &a)?;
        let mut live = hold(c, &request, -a.committed_request, at)?;
        live.extend(hold(c, &offer, -a.committed_offer, at)?);
        a.committed_request = 0.0;
        a.committed_offer = 0.0;
        a.status = AgreementStatus::Cancelled.as_str().into();
        a.cancelled_at = Some(at);
        a.cancel_reason = Some(reason.clone());
        a.updated_at = at;
        rows::save(c, &a)?;
        if a.first_confirmed_at.is_some() {
            for (f, k) in [
                (&a.request_firm_id, &a.request_community_id),
                (&a.offer_firm_id, &a.offer_community_id),
            ] {
                tallies::add(c, f, k, Delta::FAILED)?;
            }
        }
        live.extend(unagree_match(c, &a, at)?);
        for f in [a.request_firm_id.clone(), a.offer_firm_id.clone()] {
            live.extend(tell(
                c,
                &f,
                notice(
                    "agreement.cancelled",
                    "成交已取消",
                    format!("取消原因：{reason}"),
                    &a,
                ),
            )?);
        }
        live.push(rows::event("agreement.cancelled", &a));
        Ok((a, live))
    })
    .await
}

/// After a cancellation: the match the agreement made `agreed` goes back
/// to `contacted`, or to `expired` when either listing is no longer open;
/// it stays `agreed` while another agreement on it was confirmed and not
/// cancelled.
fn unagree_match(
    c: &mut DbConnection,
    a: &Agreement,
    at: NaiveDateTime,
) -> Result<Vec<NewEvent>, ApiError> {
    let Some(m) = matches::get(c, &a.match_id)? else {
        return Ok(Vec::new());
    };
    if m.status != MatchStatus::Agreed {
        return Ok(Vec::new());
    }
    let others = rows::list(
        c,
        &AgreementFilter {
            match_id: Some(m.id.clone()),
            limit: 1000,
            ..Default::default()
        },
    )?;
    let standing = others.iter().any(|o| {
        o.id != a.id && o.first_confirmed_at.is_some() && o.status() != AgreementStatus::Cancelled
    });
    if standing {
        return Ok(Vec::new());
    }
    let open = |l: Option<Listing>| {
        l.is_some_and(|l| l.status == ListingStatus::Open && l.expires_at.is_none_or(|t| t > at))
    };
    let to =
        if open(listings::get_row(c, &a.request_id)?) && open(listings::get_row(c, &a.offer_id)?) {
            MatchStatus::Contacted
        } else {
            MatchStatus::Expired
        };
    Ok(
        match_lifecycle::set_status_in(c, &m.id, MatchStatus::Agreed, to)?
            .map(|(_, live)| live)
            .unwrap_or_default(),
    )
}

/// A firm rates the other after completion, once, within the window; both
/// ratings are published together when both have rated.
pub async fn rate(
    db: &Db,
    caller: &Caller,
    id: String,
    input: RatingIn,
) -> Result<AgreementView, ApiError> {
    change(db, caller, id, move |c, caller, a, at| {
        let firm = party_firm(caller, &a.request_firm_id, &a.offer_firm_id)?;
        let mut e = Errors::default();
        let score = input.score.unwrap_or(0);
        if !(1..=5).contains(&score) {
            e.push("score", "out_of_range", "评分须为 1 到 5 的整数");
        }
        if input.tags.len() > RATING_TAGS.len() {
            e.push("tags", "too_many", "标签过多");
        }
        for (i, t) in input.tags.iter().enumerate() {
            if !RATING_TAGS.contains(&t.as_str()) {
                e.push(
                    format!("tags.{i}"),
                    "invalid_value",
                    format!("可选标签：{}", RATING_TAGS.join("、")),
                );
            }
        }
        let comment = e.multiline("comment", input.comment.as_deref().unwrap_or(""), 0, 500);
        e.into_result().map_err(ApiError::validation)?;
        let Some(done) = a
            .completed_at
            .filter(|_| a.status() == AgreementStatus::Completed)
        else {
            return Err(ApiError::conflict(
                Code::DealNotCompleted,
                "成交完成后才能评价",
            ));
        };
        let window = done + Duration::days(RATING_WINDOW_DAYS);
        if window <= at {
            return Err(ApiError::conflict(
                Code::RatingWindowClosed,
                format!("评价须在完成后 {RATING_WINDOW_DAYS} 天内进行"),
            ));
        }
        let ratee = a.other_firm(&firm).to_string();
        let ratee_community = if ratee == a.request_firm_id {
            a.request_community_id.clone()
        } else {
            a.offer_community_id.clone()
        };
        let mut tags = input.tags.clone();
        tags.dedup();
        ratings::insert(
            c,
            &Rating {
                id: new_id(),
                agreement_id: a.id.clone(),
                rater_firm_id: firm.clone(),
                ratee_firm_id: ratee,
                ratee_community_id: ratee_community,
                rated_by: caller.user_id.clone(),
                score,
                tags: serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
                comment,
                created_at: at,
                window_closes_at: window,
                published_at: None,
                comment_hidden_at: None,
                comment_hidden_by: None,
                comment_hidden_reason: None,
            },
        )
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                ApiError::conflict(Code::AlreadyRated, "本企业已评价过这笔成交")
            }
            other => other.into(),
        })?;
        let mut live = Vec::new();
        if ratings::of_agreement(c, &a.id)?.len() == 2 {
            live.extend(publish_in(c, &a, at, "双方均已评价，评价已公开")?);
        }
        Ok((a, live))
    })
    .await
}

/// Inside a write transaction: publishes an agreement's unpublished
/// ratings, counts them in the rated firms' reputations, tells both firms
/// and announces `rating.published` (nothing when none was left to
/// publish: each rating is published once).
fn publish_in(
    c: &mut DbConnection,
    a: &Agreement,
    at: NaiveDateTime,
    why: &str,
) -> Result<Vec<NewEvent>, ApiError> {
    let published = ratings::publish(c, &a.id, at)?;
    if published.is_empty() {
        return Ok(Vec::new());
    }
    for r in &published {
        tallies::add(
            c,
            &r.ratee_firm_id,
            &r.ratee_community_id,
            Delta::rating(r.score),
        )?;
    }
    let mut live = Vec::new();
    for f in [a.request_firm_id.clone(), a.offer_firm_id.clone()] {
        live.extend(tell(
            c,
            &f,
            notice("rating.published", "评价已公开", why.to_string(), a),
        )?);
    }
    live.push(ratings::published_event(
        &a.id,
        [&a.request_firm_id, &a.offer_firm_id],
    ));
    Ok(live)
}

/// Ratings published per sweep step.
pub const PUBLISH_BATCH: i64 = 200;

/// The rating-window sweep: publishes the ratings whose window closed by
/// `at` with only one firm having rated (both ratings are published the
/// moment the second firm rates), one transaction per agreement, each with
/// its `rating.published` event and notifications. Returns how many
/// agreements' ratings it published.
pub fn publish_closed_windows(c: &mut DbConnection, at: NaiveDateTime) -> Result<usize, ApiError> {
    let mut done = 0;
    for id in ratings::window_closed(c, at, PUBLISH_BATCH)? {
        done += in_write(c, |c| {
            let Some(a) = rows::get(c, &id)? else {
                return Ok((0, Vec::new()));
            };
            let live = publish_in(c, &a, at, "评价期已结束，评价已公开")?;
            Ok((usize::from(!live.is_empty()), live))
        })?;
    }
    Ok(done)
}

/// `POST /agreements/{id}/ratings/{rating_id}/hide`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HideIn {
    pub reason: Option<String>,
}

/// Staff of the rated firm's community (or of the rater's) hide an abusive
/// rating comment, with a reason: the firms see that staff hid it and why;
/// the score still counts. Audited.
pub async fn hide_comment(
    db: &Db,
    caller: &Caller,
    id: String,
    rating_id: String,
    input: HideIn,
) -> Result<AgreementView, ApiError> {
    let mut e = Errors::default();
    let reason = e.multiline("reason", input.reason.as_deref().unwrap_or(""), 1, 500);
    e.into_result().map_err(ApiError::validation)?;
    let actor = crate::service::threads::actor_on(db, caller).await?;
    change(db, caller, id, move |c, caller, a, at| {
        let r = ratings::get(c, &rating_id)?
            .filter(|r| r.agreement_id == a.id)
            .ok_or_else(|| ApiError::not_found("评价"))?;
        let community = [&a.request_community_id, &a.offer_community_id]
            .into_iter()
            .find(|k| caller.can_administer_community(k))
            .cloned()
            .ok_or_else(|| ApiError::forbidden("只有成交双方所在社区的工作人员可以隐藏评价"))?;
        if r.comment.trim().is_empty() {
            return Err(ApiError::conflict(
                Code::InvalidTransition,
                "该评价没有评语",
            ));
        }
        if !ratings::hide_comment(c, &r.id, &caller.user_id, &reason, at)? {
            return Err(ApiError::conflict(Code::AlreadyHidden, "该评语已被隐藏"));
        }
        audit::record(
            c,
            &actor,
            &community,
            "rating.comment_hidden",
            a.case_id.as_deref(),
            ("rating", &r.id),
            serde_json::json!({
                "agreement_id": a.id,
                "rater_firm_id": r.rater_firm_id,
                "ratee_firm_id": r.ratee_firm_id,
                "reason": reason,
                "comment": r.comment,
            }),
        )?;
        let mut live = Vec::new();
        for f in [r.rater_firm_id.clone(), r.ratee_firm_id.clone()] {
            live.extend(tell(
                c,
                &f,
                notice(
                    "rating.comment_hidden",
                    "评语已被社区隐藏",
                    format!("社区工作人员隐藏了一条评语：{reason}"),
                    &a,
                ),
            )?);
        }
        Ok((a, live))
    })
    .await
}

/// Staff brokering a case propose an agreement on one of its request's
/// matches for the requesting firm. Both firms then confirm the version.
/// Staff of the case's community only, on a case not resolved; the
/// proposal introduces the firms (their contacts are revealed, recorded as
/// a staff introduction) and is audited.
pub async fn propose_for_requester(
    db: &Db,
    caller: &Caller,
    case_id: String,
    input: ProposeIn,
) -> Result<AgreementView, ApiError> {
    let Some(community) = caller.staff_community.clone() else {
        return Err(ApiError::forbidden("只有社区工作人员可以代为提出成交条款"));
    };
    let actor = crate::service::threads::actor_on(db, caller).await?;
    let caller = caller.clone();
    db.run(move |c| {
        Ok(in_write(c, |c| {
            let at = now();
            let k = cases::get(c, &case_id)?
                .filter(|k| k.readable_by(&community))
                .ok_or_else(|| ApiError::not_found("工单"))?;
            if k.community_id != community {
                return Err(ApiError::forbidden(
                    "只有工单所在社区的工作人员可以代为提出成交条款",
                ));
            }
            if k.status == zhiqilian_matcher::CaseStatus::Resolved {
                return Err(ApiError::conflict(Code::CaseResolved, "工单已办结"));
            }
            let mut e = Errors::default();
            if input.quote_id.is_some() {
                e.push(
                    "quote_id",
                    "not_allowed",
                    "社区代为提出成交时请给出 match_id",
                );
            }
            let match_id = input.match_id.clone().unwrap_or_default();
            if match_id.trim().is_empty() {
                e.push("match_id", "required", "须给出工单需求的一条匹配记录");
            }
            let terms = deal_terms::check(&terms_in(&input), None, &mut e);
            e.into_result().map_err(ApiError::validation)?;
            let terms = terms.ok_or_else(|| ApiError::internal("terms checked"))?;
            let m = matches::get(c, &match_id)?
                .filter(|m| m.request_id == k.listing_id)
                .ok_or_else(|| {
                    ApiError::field("match_id", "not_of_case", "须为本工单需求的匹配记录")
                })?;
            // Proposed in the requesting firm's name; staff are recorded.
            let (mut a, mut live) = propose_as(
                c,
                &m.request_firm_id,
                &caller.user_id,
                Proposal {
                    match_id: m.id.clone(),
                    quote_id: None,
                    terms,
                },
                at,
            )?;
            a.proposed_by_staff = Some(caller.user_id.clone());
            a.case_id = Some(k.id.clone());
            rows::save(c, &a)?;
            // The proposal told the offering firm; the requester hears too.
            live.extend(tell(
                c,
                &a.request_firm_id,
                notice(
                    "agreement.proposed",
                    "社区代为提出了成交条款",
                    format!("社区工作人员 {} 代贵司提出了成交条款，请确认", actor.name),
                    &a,
                ),
            )?);
            if m.status == MatchStatus::Suggested
                && let Some((_, events)) = match_lifecycle::set_status_in(
                    c,
                    &m.id,
                    MatchStatus::Suggested,
                    MatchStatus::Contacted,
                )?
            {
                live.extend(events);
            }
            rows::insert_reveal(
                c,
                &ContactReveal {
                    id: new_id(),
                    agreement_id: a.id.clone(),
                    firm_a_id: a.request_firm_id.clone(),
                    firm_b_id: a.offer_firm_id.clone(),
                    revealed_by: caller.user_id.clone(),
                    reason: "staff_introduction".into(),
                    revealed_at: at,
                },
            )?;
            audit::record(
                c,
                &actor,
                &k.community_id,
                "agreement.proposed_for_requester",
                Some(&k.id),
                ("agreement", &a.id),
                serde_json::json!({
                    "match_id": a.match_id,
                    "request_firm_id": a.request_firm_id,
                    "offer_firm_id": a.offer_firm_id,
                    "terms": terms_of(&a),
                }),
            )?;
            Ok((view(c, &caller, &a)?, live))
        }))
    })
    .await?
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::service::quotes::{self, DeclineIn, QuoteIn};
    use crate::service::testkit::{Member, Park, park};
    use crate::store::models::Listing;

    fn code(e: ApiError) -> (u16, &'static str) {
        (e.status.as_u16(), e.code.as_str())
    }

    /// A call for quotes of 10 t of aluminium ingots by the buyer.
    fn call_for_quotes(p: &Park) -> Listing {
        p.post(
            &p.buyer,
            json!({
                "side": "request", "kind": "material", "title": "求购铝锭 10 吨",
                "quantity": {"amount": 10, "unit": "吨"},
                "call_for_quotes": {},
                "attributes": {"material_name": "铝锭"}
            }),
        )
    }

    fn ingots(p: &Park, m: &Member, tonnes: f64) -> Listing {
        p.post(
            m,
            json!({
                "side": "offer", "kind": "material", "title": "现货铝锭",
                "quantity": {"amount": tonnes, "unit": "吨"},
                "attributes": {"material_name": "铝锭"}
            }),
        )
    }

    fn quote(offer: &Listing, amount: f64, unit: &str, price: f64) -> QuoteIn {
        QuoteIn {
            offer_id: Some(offer.id.clone()),
            quantity: Some(Amount {
                amount,
                unit: unit.into(),
            }),
            price: Some(Amount {
                amount: price,
                unit: "元/吨".into(),
            }),
            place: Some("北仑".into()),
            terms: Some("款到发货".into()),
            ..Default::default()
        }
    }

    fn row(p: &Park, id: &str) -> Listing {
        listings::get_row(&mut p.conn(), id)
            .expect("read")
            .expect("listing")
    }

    #[test]
    fn an_emergency_or_an_offer_cannot_call_for_quotes() {
        let p = park();
        let input: crate::service::listing_form::ListingInput = serde_json::from_value(json!({
            "side": "request", "kind": "service", "title": "急需盐雾试验",
            "urgency": "emergency", "call_for_quotes": {}
        }))
        .expect("form");
        let e = crate::service::listing_form::validate(&input, &p.buyer.firm, now())
            .expect_err("emergency");
        assert_eq!(
            (e[0].field.as_str(), e[0].code),
            ("call_for_quotes", "not_for_emergency")
        );
        let input: crate::service::listing_form::ListingInput = serde_json::from_value(json!({
            "side": "offer", "kind": "service", "title": "提供盐雾试验",
            "call_for_quotes": {"closes_at": "2020-01-01T00:00:00Z"}
        }))
        .expect("form");
        let e = crate::service::listing_form::validate(&input, &p.buyer.firm, now())
            .expect_err("offer");
        let fields: Vec<_> = e.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert!(
            fields.contains(&("call_for_quotes", "requests_only")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("call_for_quotes.closes_at", "out_of_range")),
            "{fields:?}"
        );
    }

    #[tokio::test]
    async fn quotes_compare_accept_confirm_commit_reveal_and_rate() {
        let p = park();
        let w = zhiqilian_matcher::Weights::default();
        let request = call_for_quotes(&p);
        let (buyer, seller, far) = (p.buyer.caller(), p.seller.caller(), p.far.caller());
        let seller_offer = ingots(&p, &p.seller, 20.0);
        let far_offer = ingots(&p, &p.far, 20.0);

        // Over the need, or on one's own request: refused, nothing written.
        let e = quotes::submit(
            &p.db,
            &w,
            &seller,
            request.id.clone(),
            quote(&seller_offer, 11.0, "吨", 8000.0),
        )
        .await
        .expect_err("over the need");
        assert_eq!(
            (e.status.as_u16(), e.errors[0].code),
            (422, "over_remaining_need")
        );
        let e = quotes::submit(
            &p.db,
            &w,
            &seller,
            request.id.clone(),
            quote(&seller_offer, 2.0, "台", 8000.0),
        )
        .await
        .expect_err("a unit that does not compare");
        assert_eq!(e.errors[0].code, "incomparable_unit");
        let own = ingots(&p, &p.buyer, 1.0);
        let e = quotes::submit(
            &p.db,
            &w,
            &buyer,
            request.id.clone(),
            quote(&own, 1.0, "吨", 1.0),
        )
        .await
        .expect_err("own request");
        assert_eq!(code(e), (403, "own_request"));
        let compared = quotes::compare(&p.db, &buyer, request.id.clone(), None)
            .await
            .expect("compare");
        assert!(compared.items.is_empty());

        // Two quotes, in different units: 6000 公斤 is 6 吨.
        let q1 = quotes::submit(
            &p.db,
            &w,
            &seller,
            request.id.clone(),
            quote(&seller_offer, 6000.0, "公斤", 8000.0),
        )
        .await
        .expect("seller quotes");
        assert_eq!(
            (q1.total_price_yuan, q1.coverage),
            (Some(48_000.0), Some(0.6))
        );
        let q2 = quotes::submit(
            &p.db,
            &w,
            &far,
            request.id.clone(),
            quote(&far_offer, 5.0, "吨", 7900.0),
        )
        .await
        .expect("far quotes");
        let e = quotes::submit(
            &p.db,
            &w,
            &far,
            request.id.clone(),
            quote(&far_offer, 1.0, "吨", 1.0),
        )
        .await
        .expect_err("twice");
        assert_eq!(code(e), (409, "already_quoted"));

        // The requester sees both, sorted; each quoting firm only its own.
        let all = quotes::compare(
            &p.db,
            &buyer,
            request.id.clone(),
            Some("total_price".into()),
        )
        .await
        .expect("compare");
        let ids: Vec<_> = all.items.iter().map(|q| q.id.clone()).collect();
        assert_eq!(ids, [q2.id.clone(), q1.id.clone()], "39500 before 48000");
        let mine = quotes::compare(&p.db, &far, request.id.clone(), None)
            .await
            .expect("own");
        assert_eq!(mine.items.len(), 1);
        assert_eq!(mine.items[0].id, q2.id);
        let e = quotes::get(&p.db, &far, q1.id.clone())
            .await
            .expect_err("another's quote");
        assert_eq!(code(e), (404, "not_found"));
        let e = quotes::compare(&p.db, &buyer, request.id.clone(), Some("price".into()))
            .await
            .expect_err("unknown sort");
        assert_eq!(code(e), (422, "validation_failed"));

        // Accepting proposes the quote's terms; the quoting firm confirms.
        let accepted = quotes::accept(&p.db, &buyer, q1.id.clone())
            .await
            .expect("accept");
        assert_eq!(accepted.status, "accepted");
        let aid = accepted.agreement_id.clone().expect("an agreement");
        let a = get(&p.db, &seller, aid.clone()).await.expect("agreement");
        assert_eq!((a.status, a.version), ("proposed", 1));
        assert_eq!(
            a.awaiting_firm_id.as_deref(),
            Some(p.seller.firm.id.as_str())
        );
        assert!(
            a.contacts.is_none(),
            "contacts stay hidden until confirmation"
        );
        let e = confirm(&p.db, &buyer, aid.clone(), ConfirmIn { version: Some(1) })
            .await
            .expect_err("own proposal");
        assert_eq!(code(e), (409, "awaiting_other_firm"));
        let e = confirm(&p.db, &seller, aid.clone(), ConfirmIn { version: Some(0) })
            .await
            .expect_err("stale");
        assert_eq!(code(e), (409, "stale_version"));
        let a = confirm(&p.db, &seller, aid.clone(), ConfirmIn { version: Some(1) })
            .await
            .expect("confirm");
        assert_eq!((a.status, a.confirmed_version), ("confirmed", Some(1)));
        let contacts = a.contacts.expect("revealed");
        assert_eq!(
            contacts.request_firm.contact_phone,
            p.buyer.firm.contact_phone
        );
        let reveal = a.reveal.expect("recorded");
        assert_eq!(
            (reveal.revealed_by.as_str(), reveal.reason.as_str()),
            (p.seller.user.id.as_str(), "agreement_confirmed")
        );
        // Quantity is committed against both listings, unit-aware.
        let r = row(&p, &request.id);
        assert!((r.committed_amount - 6.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.remaining_amount(), Some(4.0));
        assert_eq!(r.status, ListingStatus::Open, "partly covered stays open");
        assert!((row(&p, &seller_offer.id).committed_amount - 6.0).abs() < 1e-9);
        let m = matches::get(&mut p.conn(), &a.match_id)
            .expect("read")
            .expect("record");
        assert_eq!(
            m.status,
            MatchStatus::Agreed,
            "agreed only through the confirmed agreement"
        );

        // The other quote no longer fits what remains.
        let e = quotes::accept(&p.db, &buyer, q2.id.clone())
            .await
            .expect_err("5 t > 4 t");
        assert_eq!(code(e), (409, "over_remaining_need"));
        let declined = quotes::decline(
            &p.db,
            &buyer,
            q2.id.clone(),
            DeclineIn {
                reason: Some("数量超出剩余需求".into()),
            },
        )
        .await
        .expect("decline");
        assert_eq!(declined.status, "declined");

        // A change after confirmation needs both again; committing 4 t
        // more fulfils the request, which then closes.
        let changed = revise(
            &p.db,
            &buyer,
            aid.clone(),
            TermsIn {
                quantity: Some(Amount {
                    amount: 10.0,
                    unit: "吨".into(),
                }),
                ..Default::default()
            },
        )
        .await
        .expect("revise");
        assert_eq!((changed.version, changed.confirmed_version), (2, Some(1)));
        assert_eq!(
            row(&p, &request.id).remaining_amount(),
            Some(4.0),
            "until confirmed"
        );
        let a = confirm(&p.db, &seller, aid.clone(), ConfirmIn { version: Some(2) })
            .await
            .expect("confirm v2");
        assert_eq!(a.versions.len(), 2);
        let r = row(&p, &request.id);
        assert_eq!(
            (r.shown_status(), r.remaining_amount()),
            ("fulfilled", Some(0.0))
        );

        // Fulfilment, then ratings: hidden until both have rated.
        let e = rate(
            &p.db,
            &buyer,
            aid.clone(),
            RatingIn {
                score: Some(5),
                ..Default::default()
            },
        )
        .await
        .expect_err("not completed");
        assert_eq!(code(e), (409, "deal_not_completed"));
        start(&p.db, &seller, aid.clone()).await.expect("start");
        let e = cancel(&p.db, &seller, aid.clone(), CancelIn::default())
            .await
            .expect_err("no reason");
        assert_eq!(code(e), (422, "validation_failed"));
        let done = complete(&p.db, &buyer, aid.clone())
            .await
            .expect("complete");
        assert_eq!(done.status, "completed");
        let one = rate(
            &p.db,
            &buyer,
            aid.clone(),
            RatingIn {
                score: Some(5),
                tags: vec!["准时".into(), "质量".into()],
                comment: Some("按时交货".into()),
            },
        )
        .await
        .expect("buyer rates");
        assert!(!one.ratings.published);
        let theirs = get(&p.db, &seller, aid.clone())
            .await
            .expect("seller looks");
        assert!(theirs.ratings.items.is_empty(), "not before both rated");
        let e = rate(
            &p.db,
            &buyer,
            aid.clone(),
            RatingIn {
                score: Some(4),
                ..Default::default()
            },
        )
        .await
        .expect_err("twice");
        assert_eq!(code(e), (409, "already_rated"));
        let before = crate::service::reputation::of_firm(&p.db, &buyer, p.seller.firm.id.clone())
            .await
            .expect("reputation");
        let both = rate(
            &p.db,
            &seller,
            aid.clone(),
            RatingIn {
                score: Some(4),
                ..Default::default()
            },
        )
        .await
        .expect("seller rates");
        assert!(both.ratings.published);
        assert_eq!(both.ratings.items.len(), 2);
        let after = crate::service::reputation::of_firm(&p.db, &buyer, p.seller.firm.id.clone())
            .await
            .expect("reputation");
        assert_eq!((after.completed_deals, after.ratings), (1, 1));
        assert!(
            after.reliability != before.reliability,
            "{before:?} → {after:?}"
        );
    }

    /// The sweep, driven by the clock it is given: nothing before the
    /// window closes, the lone rating published once after, announced and
    /// counted; the reputation tallies equal a recount throughout.
    #[tokio::test]
    async fn the_sweep_publishes_a_lone_rating_once_when_the_window_closes() {
        use crate::service::reputation::Ledger;
        let p = park();
        let w = zhiqilian_matcher::Weights::default();
        let request = call_for_quotes(&p);
        let (buyer, seller) = (p.buyer.caller(), p.seller.caller());
        let offer = ingots(&p, &p.seller, 20.0);
        let q = quotes::submit(
            &p.db,
            &w,
            &seller,
            request.id.clone(),
            quote(&offer, 10.0, "吨", 8000.0),
        )
        .await
        .expect("quote");
        let aid = quotes::accept(&p.db, &buyer, q.id.clone())
            .await
            .expect("accept")
            .agreement_id
            .expect("an agreement");
        confirm(&p.db, &seller, aid.clone(), ConfirmIn { version: Some(1) })
            .await
            .expect("confirm");
        complete(&p.db, &buyer, aid.clone())
            .await
            .expect("complete");
        rate(
            &p.db,
            &buyer,
            aid.clone(),
            RatingIn {
                score: Some(2),
                ..Default::default()
            },
        )
        .await
        .expect("rate");
        let mut c = p.conn();
        let same = |c: &mut DbConnection| {
            let kept = Ledger::load(c).expect("tallies");
            assert_eq!(kept, Ledger::recount(c).expect("recount"));
            kept
        };
        let at = now();
        let published = |c: &mut DbConnection| {
            crate::store::stream::after(c, 0, 100_000)
                .expect("events")
                .iter()
                .filter(|e| e.event.event_type == "rating.published")
                .count()
        };
        assert_eq!(
            publish_closed_windows(&mut c, at + Duration::days(29)).expect("sweep"),
            0
        );
        assert_eq!(published(&mut c), 0);
        let kept = same(&mut c);
        assert_eq!(
            kept.reputation(&p.seller.firm.id, &p.seller.firm.community_id)
                .ratings,
            0
        );
        assert_eq!(
            publish_closed_windows(&mut c, at + Duration::days(31)).expect("sweep"),
            1
        );
        assert_eq!(
            publish_closed_windows(&mut c, at + Duration::days(32)).expect("sweep"),
            0,
            "published once"
        );
        assert_eq!(published(&mut c), 1);
        let rows = ratings::of_agreement(&mut c, &aid).expect("ratings");
        assert!(rows[0].published_at.is_some());
        let kept = same(&mut c);
        let r = kept.reputation(&p.seller.firm.id, &p.seller.firm.community_id);
        assert_eq!((r.ratings, r.completed_deals, r.confirmed_deals), (1, 1, 1));
        let told = crate::store::notifications::list(&mut c, &p.seller.user.id, false, None, 100)
            .expect("notifications");
        assert!(
            told.iter()
                .any(|n| n.notification_type == "rating.published")
        );
    }
}
