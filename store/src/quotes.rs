//! Quotes (报价) on requests that call for them: one table, written by the
//! quoting firm (submit, revise, withdraw) and the requesting firm (accept,
//! decline).

use diesel::prelude::*;

use super::models::{Quote, QuoteStatus};
use super::schema::quotes;
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreResult};

pub fn insert(c: &mut DbConnection, q: &Quote) -> StoreResult<()> {
    diesel::insert_into(quotes::table).values(q).execute(c)?;
    Ok(())
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Quote>> {
    Ok(quotes::table
        .find(id)
        .select(Quote::as_select())
        .first(c)
        .optional()?)
}

/// Replaces a quote if it still has `expected_version` and `expected_status`;
/// false when it changed meanwhile.
pub fn replace(
    c: &mut DbConnection,
    q: &Quote,
    expected_version: i32,
    expected_status: QuoteStatus,
) -> StoreResult<bool> {
    let n = diesel::update(
        quotes::table
            .find(&q.id)
            .filter(quotes::version.eq(expected_version))
            .filter(quotes::status.eq(expected_status.as_str())),
    )
    .set(q)
    .execute(c)?;
    Ok(n == 1)
}

/// The quotes on a request (`firm`: only that quoting firm's), oldest first.
pub fn of_request(
    c: &mut DbConnection,
    request_id: &str,
    firm: Option<&str>,
) -> StoreResult<Vec<Quote>> {
    let mut q = quotes::table
        .filter(quotes::request_id.eq(request_id))
        .select(Quote::as_select())
        .into_boxed();
    if let Some(f) = firm {
        q = q.filter(quotes::offer_firm_id.eq(f.to_string()));
    }
    Ok(q.order(quotes::id.asc()).load(c)?)
}

/// A firm's live (submitted or accepted) quote on a request, if any.
pub fn live_of_firm(
    c: &mut DbConnection,
    request_id: &str,
    firm_id: &str,
) -> StoreResult<Option<Quote>> {
    Ok(quotes::table
        .filter(quotes::request_id.eq(request_id))
        .filter(quotes::offer_firm_id.eq(firm_id))
        .filter(quotes::status.eq_any([
            QuoteStatus::Submitted.as_str(),
            QuoteStatus::Accepted.as_str(),
        ]))
        .select(Quote::as_select())
        .first(c)
        .optional()?)
}

/// The match records (of `match_ids`) that received a quote.
pub fn quoted_matches(c: &mut DbConnection, match_ids: &[String]) -> StoreResult<Vec<String>> {
    if match_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for chunk in match_ids.chunks(500) {
        out.extend(
            quotes::table
                .filter(quotes::match_id.eq_any(chunk))
                .select(quotes::match_id)
                .distinct()
                .load::<String>(c)?,
        );
    }
    Ok(out)
}

/// `quote.created` / `quote.updated`: the requesting firm, the quoting firm
/// and the request's community staff hear of it — never another quoting
/// firm.
pub fn event(event_type: &'static str, q: &Quote, request_community_id: &str) -> NewEvent {
    NewEvent {
        event_type,
        audience: vec![
            stream::firm(&q.request_firm_id),
            stream::firm(&q.offer_firm_id),
            stream::community(request_community_id),
        ],
        payload: serde_json::json!({
            "quote_id": q.id,
            "request_id": q.request_id,
            "offer_id": q.offer_id,
            "match_id": q.match_id,
            "request_firm_id": q.request_firm_id,
            "offer_firm_id": q.offer_firm_id,
            "status": q.status,
            "version": q.version,
        }),
    }
}
