//! Matching: candidate retrieval from the search index (opposite side,
//! compatible kinds, text built from the listing, visibility), then scoring
//! and ranking by the pure `zhiqilian-matcher`.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use zhiqilian_matcher::{
    CROSS_KIND_RULES, Kind, MatchListing, Price, Quantity, Scored, Side, Urgency, Weights, score,
};
use zhiqilian_search_index::{ListingDoc, ListingIndex, SearchRequest, VisibilityRule};

use crate::store::listings::{self, ListingView};
use crate::store::{DbConnection, StoreResult};

/// Candidates fetched from the index before scoring.
const RETRIEVE: usize = 100;

/// A scored candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub view: ListingView,
    pub score: f64,
    pub partial: bool,
    pub factors: Vec<zhiqilian_matcher::Factor>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The matcher's view of a stored listing; `None` if its enums are unknown.
pub fn match_listing(v: &ListingView) -> Option<MatchListing> {
    let l = &v.listing;
    let side: Side = l.side.parse().ok()?;
    let kind: Kind = l.kind.parse().ok()?;
    let urgency: Urgency = l.urgency.parse().ok()?;
    Some(MatchListing {
        description: l.description.clone(),
        attributes: serde_json::from_str(&l.attributes).unwrap_or_default(),
        quantity: l
            .quantity_amount
            .zip(l.quantity_unit.clone())
            .map(|(a, u)| Quantity::new(a, u)),
        price: l
            .price_amount
            .zip(l.price_unit.clone())
            .map(|(a, u)| Price::new(a, u)),
        lat: l.lat,
        lon: l.lon,
        community_id: Some(l.community_id.clone()),
        firm_verified: v.firm_verified,
        available_from: date(&l.available_from),
        available_until: date(&l.available_until),
        urgency,
        ..MatchListing::new(
            l.id.clone(),
            side,
            kind,
            l.firm_id.clone(),
            l.title.clone(),
            l.created_at.and_utc(),
        )
    })
}

/// Kinds whose listings may serve (or be served by) `anchor`: its own and
/// those of the matcher's cross-kind stop-gap rules.
fn compatible_kinds(anchor: &MatchListing) -> Vec<String> {
    let mut kinds = vec![anchor.kind.as_str().to_string()];
    for r in CROSS_KIND_RULES {
        let other = match anchor.side {
            Side::Request if r.request == anchor.kind => r.offer,
            Side::Offer if r.offer == anchor.kind => r.request,
            _ => continue,
        };
        if !kinds.iter().any(|k| k == other.as_str()) {
            kinds.push(other.as_str().to_string());
        }
    }
    kinds
}

/// The query text for a listing: its title and attribute values (the
/// description adds more noise than recall to a ranking of candidates).
fn query_text(v: &ListingView) -> String {
    let attrs: serde_json::Value =
        serde_json::from_str(&v.listing.attributes).unwrap_or(serde_json::Value::Null);
    format!(
        "{} {}",
        v.listing.title,
        ListingDoc::attributes_text_from_json(&attrs).replace('\n', " ")
    )
}

/// Ranks the listings on the other side that best serve `anchor`, as seen by
/// a caller with `visibility` (`None`: everything). Blocking.
pub fn find_matches(
    conn: &mut DbConnection,
    index: &ListingIndex,
    anchor: &ListingView,
    visibility: Option<VisibilityRule>,
    weights: &Weights,
    limit: usize,
) -> StoreResult<Vec<Candidate>> {
    let Some(a) = match_listing(anchor) else {
        return Ok(Vec::new());
    };
    let request = SearchRequest {
        side: Some(a.side.opposite().as_str().to_string()),
        kinds: compatible_kinds(&a),
        exclude_firm: Some(a.firm_id.clone()),
        visible_to: visibility,
        active_at: Some(Utc::now().timestamp()),
        limit: RETRIEVE,
        ..SearchRequest::text(query_text(anchor))
    };
    let hits = match index.search(&request) {
        Ok(r) => r.hits,
        Err(e) => {
            tracing::warn!(error = %e, listing = %anchor.listing.id, "match retrieval failed");
            return Ok(Vec::new());
        }
    };
    // BM25 is unbounded: relative to the best hit it becomes a [0, 1] factor.
    let best = hits.iter().map(|h| h.score).fold(0f32, f32::max);
    let relevance: HashMap<String, f32> = hits
        .iter()
        .map(|h| (h.id.clone(), if best > 0.0 { h.score / best } else { 0.0 }))
        .collect();
    let ids: Vec<String> = hits.into_iter().map(|h| h.id).collect();
    let views = listings::get_many(conn, &ids)?;
    let now = Utc::now();
    let mut out: Vec<Candidate> = views
        .into_iter()
        .filter(|v| v.listing.status == "open")
        .filter_map(|v| {
            let mut c = match_listing(&v)?;
            c.text_relevance = relevance.get(&c.id).copied();
            match score(&a, &c, weights, now) {
                Scored::Match {
                    score,
                    factors,
                    partial,
                } => Some(Candidate {
                    view: v,
                    score,
                    partial,
                    factors,
                }),
                Scored::Disqualified { .. } => None,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.view.listing.id.cmp(&y.view.listing.id))
    });
    out.truncate(limit);
    Ok(out)
}
