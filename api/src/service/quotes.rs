//! Quotes (询价 / 报价): a request posted as a call for quotes receives
//! quotes from offering firms that may see it; each firm may revise or
//! withdraw its quote until the request decides; the requesting firm
//! compares them side by side (total price for the quantity covered,
//! coverage of the need, match score, reputation), accepts one or several
//! and declines the rest with a reason. Quoting firms never see each
//! other's quotes. Accepting a quote proposes its terms as an agreement
//! (see `agreements`) for the quoting firm to confirm.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{ListingStatus, MatchStatus, Scored, Weights};

use crate::service::access::{Caller, visible_to};
use crate::service::agreements::{self, Proposal, in_write, tell};
use crate::service::deal_terms::{self, Terms, TermsIn};
use crate::service::error::{ApiError, Code, Status};
use crate::service::listing_form::{Amount, parse_instant};
use crate::service::matching::match_listing;
use crate::service::reputation::{Ledger, Reputation};
use crate::service::validate::Errors;
use crate::store::matches::Suggestion;
use crate::store::models::{Listing, Quote, QuoteStatus};
use crate::store::notifications::NewNotification;
use crate::store::stream::NewEvent;
use crate::store::{
    Db, DbConnection, accounts, agreements as agreement_rows, listings, matches, new_id, now,
    quotes,
};

/// A quote as the quoting firm sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    /// The quoting firm's own open offer the quote is made from.
    pub offer_id: Option<String>,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: Option<String>,
    /// Terms in words (payment, delivery, warranty …).
    pub terms: Option<String>,
    /// RFC 3339: the quote lapses after it.
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineIn {
    pub reason: Option<String>,
}

/// The requesting firm asks the quoting firm to revise its quote.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionIn {
    pub message: Option<String>,
}

/// A pending request to revise a quote.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionRequest {
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirmBrief {
    pub id: String,
    pub name: String,
}

/// A quote with what the requester compares.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    pub id: String,
    pub request_id: String,
    pub offer_id: String,
    pub match_id: String,
    pub firm: FirmBrief,
    pub quantity: Amount,
    pub price: Amount,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: String,
    pub terms: String,
    pub valid_until: Option<DateTime<Utc>>,
    pub status: &'static str,
    pub decline_reason: Option<String>,
    pub version: i32,
    /// The requester asked for a revision; null once the quote is revised
    /// or withdrawn.
    pub revision_request: Option<RevisionRequest>,
    /// Total price in yuan for the quantity quoted (unit-aware); null when
    /// the units do not allow it.
    pub total_price_yuan: Option<f64>,
    /// The share of the request's quantity the quote covers.
    pub coverage: Option<f64>,
    /// The match score of the (request, offer) pair.
    pub match_score: Option<f64>,
    pub reputation: Reputation,
    /// The agreement its acceptance proposed.
    pub agreement_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request's quantity with what confirmed agreements hold of it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSummary {
    pub id: String,
    pub title: String,
    pub status: String,
    pub call_for_quotes: bool,
    pub quotes_close_at: Option<DateTime<Utc>>,
    pub quantity: Option<Amount>,
    pub committed: Option<Amount>,
    pub remaining: Option<Amount>,
}

/// The quotes of a request side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub request: RequestSummary,
    pub sort: String,
    pub items: Vec<QuoteView>,
}

/// How the comparison may be sorted (`-` in front: descending).
pub const SORTS: &[&str] = &["created", "total_price", "coverage", "score", "reputation"];

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn summary(l: &Listing) -> RequestSummary {
    let amount = |a: f64| {
        l.quantity_unit
            .clone()
            .map(|unit| Amount { amount: a, unit })
    };
    RequestSummary {
        id: l.id.clone(),
        title: l.title.clone(),
        status: l.shown_status().to_string(),
        call_for_quotes: l.quotes_wanted,
        quotes_close_at: l.quotes_close_at.map(utc),
        quantity: l.quantity_amount.and_then(amount),
        committed: l.quantity_amount.and_then(|_| amount(l.committed_amount)),
        remaining: l.remaining_amount().and_then(amount),
    }
}

fn terms_of(q: &Quote) -> Terms {
    Terms {
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
    }
}

fn view(
    c: &mut DbConnection,
    q: &Quote,
    request: &Listing,
    ledger: &Ledger,
) -> Result<QuoteView, ApiError> {
    let firm = accounts::get_firm(c, &q.offer_firm_id)?;
    let score = matches::get(c, &q.match_id)?.map(|m| m.score);
    let agreement_id = agreement_rows::list(
        c,
        &agreement_rows::AgreementFilter {
            match_id: Some(q.match_id.clone()),
            limit: 1,
            ..Default::default()
        },
    )?
    .into_iter()
    .find(|a| a.quote_id.as_deref() == Some(q.id.as_str()))
    .map(|a| a.id);
    let t = terms_of(q);
    let coverage = request
        .quantity_amount
        .zip(request.quantity_unit.as_deref())
        .and_then(|(need, unit)| {
            deal_terms::convert(t.quantity.amount, &t.quantity.unit, unit)
                .filter(|_| need > 0.0)
                .map(|have| ((have / need) * 1000.0).round() / 1000.0)
        });
    let community = firm
        .as_ref()
        .map(|f| f.community_id.clone())
        .unwrap_or_default();
    Ok(QuoteView {
        id: q.id.clone(),
        request_id: q.request_id.clone(),
        offer_id: q.offer_id.clone(),
        match_id: q.match_id.clone(),
        firm: FirmBrief {
            id: q.offer_firm_id.clone(),
            name: firm.map(|f| f.name).unwrap_or_default(),
        },
        total_price_yuan: t.total_yuan().map(|x| (x * 100.0).round() / 100.0),
        quantity: t.quantity,
        price: t.price,
        available_from: q.available_from.clone(),
        available_until: q.available_until.clone(),
        place: q.place.clone(),
        terms: q.terms.clone(),
        valid_until: q.valid_until.map(utc),
        status: q.status().as_str(),
        decline_reason: q.decline_reason.clone(),
        version: q.version,
        revision_request: q.revision_requested_at.map(|t| RevisionRequest {
            requested_at: utc(t),
            requested_by: q.revision_requested_by.clone().unwrap_or_default(),
            message: q.revision_message.clone().unwrap_or_default(),
        }),
        coverage,
        match_score: score,
        reputation: ledger.reputation(&q.offer_firm_id, &community),
        agreement_id,
        created_at: utc(q.created_at),
        updated_at: utc(q.updated_at),
    })
}

/// Who sees which quotes of a request: its firm, its community's staff and
/// admins see all; another firm only its own.
enum Sees {
    All,
    Own(String),
}

fn sees(caller: &Caller, request: &Listing) -> Option<Sees> {
    if caller.is_member_of(&request.firm_id)
        || caller.can_administer_community(&request.community_id)
    {
        Some(Sees::All)
    } else {
        caller.firm_id().map(|f| Sees::Own(f.to_string()))
    }
}

fn closed(request: &Listing, at: NaiveDateTime) -> Option<ApiError> {
    if request.status != ListingStatus::Open || request.expires_at.is_some_and(|t| t <= at) {
        return Some(ApiError::conflict(
            Code::RequestClosed,
            "该需求已关闭或已过期，不再接受报价",
        ));
    }
    if request.quotes_close_at.is_some_and(|t| t <= at) {
        return Some(ApiError::conflict(
            Code::QuotesClosed,
            "该询价已截止，不再接受报价",
        ));
    }
    None
}

/// The quantity of `t` must fit in what the request still needs.
fn within_remaining(t: &Terms, request: &Listing) -> Result<(), ApiError> {
    let (Some(remaining), Some(unit)) =
        (request.remaining_amount(), request.quantity_unit.as_deref())
    else {
        return Ok(());
    };
    let have = deal_terms::convert(t.quantity.amount, &t.quantity.unit, unit)
        .ok_or_else(|| deal_terms::incomparable(&t.quantity.unit, unit))?;
    if have > remaining * (1.0 + 1e-9) {
        return Err(ApiError::field(
            "quantity.amount",
            "over_remaining_need",
            format!(
                "超出需求的剩余数量：剩余 {}{unit}",
                (remaining * 1000.0).round() / 1000.0
            ),
        ));
    }
    Ok(())
}

fn valid_until(raw: &Option<String>, at: NaiveDateTime, e: &mut Errors) -> Option<NaiveDateTime> {
    let s = raw.as_deref()?;
    match parse_instant(s) {
        Some(t) if t > at => Some(t),
        Some(_) => {
            e.push("valid_until", "out_of_range", "有效期须晚于当前时间");
            None
        }
        None => {
            e.push(
                "valid_until",
                "invalid_format",
                "须为 RFC 3339 时间，如 2026-12-31T00:00:00Z",
            );
            None
        }
    }
}

fn text(e: &mut Errors, raw: &Option<String>, base: &str) -> String {
    e.multiline("terms", raw.as_deref().unwrap_or(base), 0, 2000)
}

fn clear_revision_request(q: &mut Quote) {
    q.revision_requested_at = None;
    q.revision_requested_by = None;
    q.revision_message = None;
}

/// The reputations the quotes show, with the quoting firms' response times.
fn ledger_for(c: &mut DbConnection, qs: &[Quote]) -> crate::store::StoreResult<Ledger> {
    let mut firms: Vec<String> = qs.iter().map(|q| q.offer_firm_id.clone()).collect();
    firms.sort();
    firms.dedup();
    Ledger::load(c)?.with_responses(c, &firms)
}

fn to_api<T>(r: Result<T, ApiError>) -> crate::store::StoreResult<Result<T, ApiError>> {
    Ok(r)
}

/// An offering firm quotes on a request it may see.
pub async fn submit(
    db: &Db,
    weights: &Weights,
    caller: &Caller,
    request_id: String,
    input: QuoteIn,
) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    let weights = weights.clone();
    db.run(move |c| to_api(submit_in(c, &weights, &caller, &request_id, input)))
        .await?
}

pub fn submit_in(
    c: &mut DbConnection,
    weights: &Weights,
    caller: &Caller,
    request_id: &str,
    input: QuoteIn,
) -> Result<QuoteView, ApiError> {
    let Some(firm_id) = caller.firm_id().map(str::to_string) else {
        return Err(ApiError::forbidden("只有企业成员可以报价"));
    };
    let request_view = listings::get(c, request_id)?
        .filter(|v| visible_to(v, &caller.viewer()))
        .ok_or_else(|| ApiError::not_found("需求"))?;
    let at = now();
    let mut e = Errors::default();
    let offer_id = input.offer_id.clone().unwrap_or_default();
    if offer_id.trim().is_empty() {
        e.push("offer_id", "required", "须指明报价所依据的本企业供给信息");
    }
    let terms = deal_terms::check(
        &TermsIn {
            quantity: input.quantity.clone(),
            price: input.price.clone(),
            available_from: input.available_from.clone(),
            available_until: input.available_until.clone(),
            place: input.place.clone(),
        },
        None,
        &mut e,
    );
    let valid = valid_until(&input.valid_until, at, &mut e);
    let words = text(&mut e, &input.terms, "");
    e.into_result().map_err(ApiError::validation)?;
    let terms = terms.ok_or_else(|| ApiError::internal("terms checked"))?;
    let offer_view = listings::get(c, &offer_id)?
        .filter(|v| {
            v.listing.firm_id == firm_id
                && v.listing.side == "offer"
                && v.listing.status == ListingStatus::Open
        })
        .ok_or_else(|| {
            ApiError::field("offer_id", "invalid_offer", "须为本企业开放中的供给信息")
        })?;
    let view = in_write(c, |c| {
        let request = listings::lock(c, request_id)?.ok_or_else(|| ApiError::not_found("需求"))?;
        if request.side != "request" || !request.quotes_wanted {
            return Err(ApiError::conflict(
                Code::NotACallForQuotes,
                "该信息没有发起询价",
            ));
        }
        if request.firm_id == firm_id {
            return Err(ApiError::new(
                Status::FORBIDDEN,
                Code::OwnRequest,
                "不能给本企业的询价报价",
            ));
        }
        if let Some(err) = closed(&request, at) {
            return Err(err);
        }
        within_remaining(&terms, &request)?;
        if quotes::live_of_firm(c, request_id, &firm_id)?.is_some() {
            return Err(ApiError::conflict(
                Code::AlreadyQuoted,
                "本企业已对该询价报价，请修改原报价",
            ));
        }
        // The pair's match record: the one the matcher stored, or a new one
        // scored now (a firm may quote on what it found by search).
        let score = match (match_listing(&request_view), match_listing(&offer_view)) {
            (Some(r), Some(o)) => match zhiqilian_matcher::score(&r, &o, weights, at.and_utc()) {
                Scored::Match {
                    score,
                    partial,
                    factors,
                } => Some((score, partial, factors)),
                Scored::Disqualified { .. } => None,
            },
            _ => None,
        };
        let (score, partial, factors) = score.unwrap_or((0.0, false, Vec::new()));
        let (record, mut live) = matches::get_or_create_in(
            c,
            &Suggestion {
                request_id: request.id.clone(),
                offer_id: offer_view.listing.id.clone(),
                request_firm_id: request.firm_id.clone(),
                offer_firm_id: firm_id.clone(),
                request_community_id: request.community_id.clone(),
                offer_community_id: offer_view.listing.community_id.clone(),
                score,
                partial,
                factors: serde_json::to_string(&factors).unwrap_or_else(|_| "[]".into()),
                request_title: request.title.clone(),
                offer_title: offer_view.listing.title.clone(),
            },
        )?;
        if matches!(record.status, MatchStatus::Declined | MatchStatus::Expired) {
            return Err(ApiError::conflict(
                Code::MatchClosed,
                "该匹配已婉拒或失效，不能报价",
            ));
        }
        let q = Quote {
            id: new_id(),
            request_id: request.id.clone(),
            offer_id: offer_view.listing.id.clone(),
            match_id: record.id.clone(),
            request_firm_id: request.firm_id.clone(),
            offer_firm_id: firm_id.clone(),
            price_amount: terms.price.amount,
            price_unit: terms.price.unit.clone(),
            quantity_amount: terms.quantity.amount,
            quantity_unit: terms.quantity.unit.clone(),
            available_from: terms.available_from.clone(),
            available_until: terms.available_until.clone(),
            place: terms.place.clone(),
            terms: words,
            valid_until: valid,
            status: QuoteStatus::Submitted.as_str().into(),
            decline_reason: None,
            version: 1,
            created_by: caller.user_id.clone(),
            created_at: at,
            updated_at: at,
            decided_at: None,
            revision_requested_at: None,
            revision_requested_by: None,
            revision_message: None,
        };
        quotes::insert(c, &q)?;
        live.extend(tell(
            c,
            &request.firm_id,
            NewNotification {
                kind: "quote.created",
                title: "收到新的报价".into(),
                body: format!("您的询价「{}」收到一份新报价", request.title),
                subject_type: "quote",
                subject_id: q.id.clone(),
                thread_id: None,
                group_key: Some(format!("quotes:{}", request.id)),
            },
        )?);
        live.push(quotes::event("quote.created", &q, &request.community_id));
        let ledger = ledger_for(c, std::slice::from_ref(&q))?;
        Ok((view(c, &q, &request, &ledger)?, live))
    })?;
    Ok(view)
}

/// A quote the caller may see (its firm, the requesting firm, the
/// request's community staff, admins) with its request.
pub(crate) fn load(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<(Quote, Listing), ApiError> {
    let q = quotes::get(c, id)?.ok_or_else(|| ApiError::not_found("报价"))?;
    let request =
        listings::get_row(c, &q.request_id)?.ok_or_else(|| ApiError::not_found("报价"))?;
    match sees(caller, &request) {
        Some(Sees::All) => Ok((q, request)),
        Some(Sees::Own(f)) if f == q.offer_firm_id => Ok((q, request)),
        _ => Err(ApiError::not_found("报价")),
    }
}

pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api((|| {
            let (q, request) = load(c, &caller, &id)?;
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            view(c, &q, &request, &ledger)
        })())
    })
    .await?
}

/// The quotes of a request side by side, sorted by `sort` (see [`SORTS`]).
pub async fn compare(
    db: &Db,
    caller: &Caller,
    request_id: String,
    sort: Option<String>,
) -> Result<Comparison, ApiError> {
    let caller = caller.clone();
    db.run(move |c| to_api(compare_in(c, &caller, &request_id, sort)))
        .await?
}

pub fn compare_in(
    c: &mut DbConnection,
    caller: &Caller,
    request_id: &str,
    sort: Option<String>,
) -> Result<Comparison, ApiError> {
    let sort = sort.unwrap_or_else(|| "created".into());
    let (desc, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort.as_str()),
    };
    if !SORTS.contains(&key) {
        return Err(ApiError::field(
            "sort",
            "invalid_value",
            format!("取值无效，可选值：{}（前加 - 为降序）", SORTS.join(", ")),
        ));
    }
    let v = listings::get(c, request_id)?
        .filter(|v| visible_to(v, &caller.viewer()))
        .ok_or_else(|| ApiError::not_found("需求"))?;
    let request = v.listing;
    let rows = match sees(caller, &request) {
        Some(Sees::All) => quotes::of_request(c, request_id, None)?,
        Some(Sees::Own(f)) => quotes::of_request(c, request_id, Some(&f))?,
        None => Vec::new(),
    };
    let ledger = ledger_for(c, &rows)?;
    let mut items = rows
        .iter()
        .map(|q| view(c, q, &request, &ledger))
        .collect::<Result<Vec<_>, _>>()?;
    // Unknown values sort last either way.
    let value = |q: &QuoteView| -> Option<f64> {
        match key {
            "total_price" => q.total_price_yuan,
            "coverage" => q.coverage,
            "score" => q.match_score,
            "reputation" => Some(q.reputation.reliability),
            _ => None,
        }
    };
    if key != "created" {
        items.sort_by(|a, b| match (value(a), value(b)) {
            (Some(x), Some(y)) if desc => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    } else if desc {
        items.reverse();
    }
    Ok(Comparison {
        request: summary(&request),
        sort,
        items,
    })
}

/// What a quote action needs: the quote still `submitted`, the caller's role.
fn decide_prelude(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
    requester: bool,
) -> Result<(Quote, Listing), ApiError> {
    let (q, request) = load(c, caller, id)?;
    let firm = if requester {
        &q.request_firm_id
    } else {
        &q.offer_firm_id
    };
    if !caller.is_member_of(firm) {
        return Err(ApiError::forbidden(if requester {
            "只有询价企业的成员可以接受或婉拒报价"
        } else {
            "只有报价企业的成员可以修改或撤回报价"
        }));
    }
    if q.status() != QuoteStatus::Submitted {
        return Err(ApiError::conflict(
            Code::QuoteDecided,
            format!("该报价{}，不能再变更", q.status().label_zh()),
        ));
    }
    Ok((q, request))
}

fn changed(
    c: &mut DbConnection,
    q: &Quote,
    expected: &Quote,
    request: &Listing,
) -> Result<Vec<NewEvent>, ApiError> {
    if !quotes::replace(c, q, expected.version, QuoteStatus::Submitted)? {
        return Err(ApiError::conflict(
            Code::EditConflict,
            "该报价刚被他人更新，请刷新后重试",
        ));
    }
    Ok(vec![quotes::event(
        "quote.updated",
        q,
        &request.community_id,
    )])
}

/// The quoting firm revises its quote (until the request decides).
pub async fn revise(
    db: &Db,
    caller: &Caller,
    id: String,
    input: QuoteIn,
) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api(in_write(c, |c| {
            let (old, request) = decide_prelude(c, &caller, &id, false)?;
            let at = now();
            if let Some(err) = closed(&request, at) {
                return Err(err);
            }
            let mut e = Errors::default();
            if input.offer_id.as_ref().is_some_and(|o| *o != old.offer_id) {
                e.push(
                    "offer_id",
                    "immutable",
                    "报价所依据的供给信息不能更改，请撤回后重新报价",
                );
            }
            let terms = deal_terms::check(
                &TermsIn {
                    quantity: input.quantity.clone(),
                    price: input.price.clone(),
                    available_from: input.available_from.clone(),
                    available_until: input.available_until.clone(),
                    place: input.place.clone(),
                },
                Some(&terms_of(&old)),
                &mut e,
            );
            let valid = match &input.valid_until {
                None => old.valid_until,
                some => valid_until(some, at, &mut e),
            };
            let words = text(&mut e, &input.terms, &old.terms);
            e.into_result().map_err(ApiError::validation)?;
            let terms = terms.ok_or_else(|| ApiError::internal("terms checked"))?;
            within_remaining(&terms, &request)?;
            let mut q = old.clone();
            q.price_amount = terms.price.amount;
            q.price_unit = terms.price.unit;
            q.quantity_amount = terms.quantity.amount;
            q.quantity_unit = terms.quantity.unit;
            q.available_from = terms.available_from;
            q.available_until = terms.available_until;
            q.place = terms.place;
            q.terms = words;
            q.valid_until = valid;
            q.version += 1;
            q.updated_at = at;
            clear_revision_request(&mut q);
            let live = changed(c, &q, &old, &request)?;
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            Ok((view(c, &q, &request, &ledger)?, live))
        }))
    })
    .await?
}

/// The quoting firm withdraws its quote (until the request decides).
pub async fn withdraw(db: &Db, caller: &Caller, id: String) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api(in_write(c, |c| {
            let (old, request) = decide_prelude(c, &caller, &id, false)?;
            let at = now();
            let mut q = old.clone();
            clear_revision_request(&mut q);
            q.status = QuoteStatus::Withdrawn.as_str().into();
            q.version += 1;
            q.updated_at = at;
            q.decided_at = Some(at);
            let live = changed(c, &q, &old, &request)?;
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            Ok((view(c, &q, &request, &ledger)?, live))
        }))
    })
    .await?
}

/// The requesting firm declines a quote, with a reason the quoting firm sees.
pub async fn decline(
    db: &Db,
    caller: &Caller,
    id: String,
    input: DeclineIn,
) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api(in_write(c, |c| {
            let (old, request) = decide_prelude(c, &caller, &id, true)?;
            let mut e = Errors::default();
            let reason = e.multiline("reason", input.reason.as_deref().unwrap_or(""), 1, 500);
            e.into_result().map_err(ApiError::validation)?;
            let at = now();
            let mut q = old.clone();
            q.status = QuoteStatus::Declined.as_str().into();
            q.decline_reason = Some(reason);
            q.version += 1;
            q.updated_at = at;
            q.decided_at = Some(at);
            let mut live = changed(c, &q, &old, &request)?;
            live.extend(tell(
                c,
                &q.offer_firm_id,
                NewNotification {
                    kind: "quote.updated",
                    title: "报价未被采纳".into(),
                    body: format!("您对「{}」的报价未被采纳", request.title),
                    subject_type: "quote",
                    subject_id: q.id.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?);
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            Ok((view(c, &q, &request, &ledger)?, live))
        }))
    })
    .await?
}

/// The requesting firm accepts a quote: the quote's terms become an
/// agreement proposed by the requesting firm, for the quoting firm to
/// confirm. Several quotes may be accepted (partial cover); each must fit
/// in what the request still needs.
pub async fn accept(db: &Db, caller: &Caller, id: String) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api(in_write(c, |c| {
            let (old, request) = decide_prelude(c, &caller, &id, true)?;
            let at = now();
            if old.valid_until.is_some_and(|t| t <= at) {
                return Err(ApiError::conflict(Code::QuoteExpired, "该报价已过有效期"));
            }
            if request.status != ListingStatus::Open {
                return Err(ApiError::conflict(Code::RequestClosed, "该需求已关闭"));
            }
            let terms = terms_of(&old);
            // At acceptance the quote is no longer the quoter's input: what
            // no longer fits is a conflict with the other accepted quotes.
            within_remaining(&terms, &request).map_err(|e| match e.errors.first() {
                Some(f) if f.code == "over_remaining_need" => {
                    ApiError::conflict(Code::OverRemainingNeed, f.message.clone())
                }
                _ => e,
            })?;
            let mut q = old.clone();
            q.status = QuoteStatus::Accepted.as_str().into();
            q.version += 1;
            q.updated_at = at;
            q.decided_at = Some(at);
            let mut live = changed(c, &q, &old, &request)?;
            let (_, more) = agreements::propose_in(
                c,
                &caller,
                Proposal {
                    match_id: q.match_id.clone(),
                    quote_id: Some(q.id.clone()),
                    terms,
                },
                at,
            )?;
            live.extend(more);
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            Ok((view(c, &q, &request, &ledger)?, live))
        }))
    })
    .await?
}

/// The requesting firm asks the quoting firm to revise its quote, with a
/// message; the quoting firm is told, and the quote shows the pending
/// request until it is revised or withdrawn. Asking again replaces the
/// message.
pub async fn request_revision(
    db: &Db,
    caller: &Caller,
    id: String,
    input: RevisionIn,
) -> Result<QuoteView, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        to_api(in_write(c, |c| {
            let (old, request) = decide_prelude(c, &caller, &id, true)?;
            let mut e = Errors::default();
            let message = e.multiline("message", input.message.as_deref().unwrap_or(""), 1, 500);
            e.into_result().map_err(ApiError::validation)?;
            let at = now();
            if let Some(err) = closed(&request, at) {
                return Err(err);
            }
            let mut q = old.clone();
            q.revision_requested_at = Some(at);
            q.revision_requested_by = Some(caller.user_id.clone());
            q.revision_message = Some(message.clone());
            q.updated_at = at;
            let mut live = changed(c, &q, &old, &request)?;
            live.extend(tell(
                c,
                &q.offer_firm_id,
                NewNotification {
                    kind: "quote.revision_requested",
                    title: "询价方请您修改报价".into(),
                    body: format!("「{}」：{message}", request.title),
                    subject_type: "quote",
                    subject_id: q.id.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?);
            let ledger = ledger_for(c, std::slice::from_ref(&q))?;
            Ok((view(c, &q, &request, &ledger)?, live))
        }))
    })
    .await?
}
