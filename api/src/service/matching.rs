//! Matching: candidate retrieval from the search index (opposite side,
//! compatible kinds, text built from the listing, visibility), then scoring
//! and ranking by the pure `zhiqilian-matcher`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use zhiqilian_matcher::{
    CROSS_KIND_RULES, Kind, ListingStatus, MatchListing, Price, Quantity, Scored, Side, Urgency,
    Weights, score,
};
use zhiqilian_search_index::{
    GeoFilter, ListingDoc, ListingIndex, SearchRequest, SortOrder, VisibilityRule,
};

use crate::service::reputation::Ledger;
use serde::Serialize;

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::service::views::FactorOut;
use crate::service::views::{ListingOut, listing_out};
use crate::store::listings::{self, ListingView, Viewer, visible_to};
use crate::store::matches::Suggestion;
use crate::store::{Db, DbConnection, StoreResult};

/// Suggestions stored per listing.
pub const SUGGESTIONS: usize = 5;

/// How wide matching casts its net for a listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Net {
    /// Suggestions stored.
    pub suggestions: usize,
    /// Radius of the nearby channel beyond the anchor's own community, used
    /// when the community alone yields fewer than `suggestions / 2`
    /// candidates; `None`: the community only.
    pub beyond_km: Option<f64>,
}

impl Net {
    /// Emergencies (a line stops today) look further: ten suggestions, and
    /// neighbouring communities within 150 km when the park has too few.
    pub fn of(anchor: &ListingView) -> Net {
        if anchor.listing.side == "request" && anchor.listing.urgency == Urgency::Emergency {
            Net {
                suggestions: 2 * SUGGESTIONS,
                beyond_km: Some(EMERGENCY_KM),
            }
        } else {
            Net {
                suggestions: SUGGESTIONS,
                beyond_km: None,
            }
        }
    }
}

const EMERGENCY_KM: f64 = 150.0;

/// The search-side form of the listing visibility rule.
pub fn rule_for(viewer: &Viewer) -> Option<VisibilityRule> {
    match viewer {
        Viewer::Admin => None,
        Viewer::Staff { community_id } => Some(VisibilityRule {
            full_communities: vec![community_id.clone()],
            ..VisibilityRule::default()
        }),
        Viewer::Member {
            firm_id,
            community_id,
        } => Some(VisibilityRule {
            allowed_communities: vec![community_id.clone()],
            own_firm: Some(firm_id.clone()),
            ..VisibilityRule::default()
        }),
        Viewer::Guest => Some(VisibilityRule::default()),
    }
}

/// Matches listings that just changed and stores their best suggestions as
/// match records; closed or expired listings expire their records. Returns
/// the number of records created. Blocking.
pub fn match_changed(
    db: &Db,
    index: &ListingIndex,
    weights: &Weights,
    ids: &[String],
) -> anyhow::Result<usize> {
    match_changed_at(db, index, weights, ids, Utc::now())
}

/// [`match_changed`] at the moment `at`: expiry, retrieval and scoring all
/// read this time, never the clock.
pub fn match_changed_at(
    db: &Db,
    index: &ListingIndex,
    weights: &Weights,
    ids: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut conn = db.conn()?;
    let mut created = 0;
    let now = at.naive_utc();
    for id in ids {
        let Some(anchor) = listings::get(&mut conn, id)? else {
            continue;
        };
        let l = &anchor.listing;
        if l.status != ListingStatus::Open || l.expires_at.is_some_and(|t| t <= now) {
            crate::service::matches::expire_for_listing(&mut conn, id)?;
            continue;
        }
        // Suggest only what the anchor's firm may see, and only to firms
        // that may see the anchor.
        let viewer = Viewer::Member {
            firm_id: l.firm_id.clone(),
            community_id: l.community_id.clone(),
        };
        let net = Net::of(&anchor);
        let found = find_matches_at(
            &mut conn,
            index,
            &anchor,
            rule_for(&viewer),
            weights,
            net.suggestions,
            at,
        )?;
        let suggestions: Vec<Suggestion> = found
            .into_iter()
            .filter(|c| {
                visible_to(
                    &anchor,
                    &Viewer::Member {
                        firm_id: c.view.listing.firm_id.clone(),
                        community_id: c.view.listing.community_id.clone(),
                    },
                )
            })
            .map(|c| {
                let (req, off) = if l.side == "request" {
                    (l, &c.view.listing)
                } else {
                    (&c.view.listing, l)
                };
                Suggestion {
                    request_id: req.id.clone(),
                    offer_id: off.id.clone(),
                    request_firm_id: req.firm_id.clone(),
                    offer_firm_id: off.firm_id.clone(),
                    request_community_id: req.community_id.clone(),
                    offer_community_id: off.community_id.clone(),
                    score: c.score,
                    partial: c.partial,
                    factors: serde_json::to_string(&c.factors).unwrap_or_else(|_| "[]".into()),
                    request_title: req.title.clone(),
                    offer_title: off.title.clone(),
                }
            })
            .collect();
        created += crate::service::matches::store_suggestions(&mut conn, &suggestions)?;
    }
    Ok(created)
}

/// Candidates fetched from the index by text before scoring.
const RETRIEVE: usize = 100;
/// Candidates fetched by place: the nearest of a compatible kind.
const NEARBY: usize = 50;
const NEARBY_KM: f64 = 50.0;

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

/// The centre of the one district a listing's address names, if any.
fn district_point(l: &crate::store::models::Listing) -> Option<(f64, f64)> {
    if l.lat.is_some() && l.lon.is_some() {
        return None;
    }
    l.address
        .as_deref()
        .and_then(zhiqilian_matcher::places::point_of)
}

/// The matcher's view of a stored listing; `None` if its enums are unknown.
pub fn match_listing(v: &ListingView) -> Option<MatchListing> {
    let l = &v.listing;
    let side: Side = l.side.parse().ok()?;
    let kind: Kind = l.kind.parse().ok()?;
    let urgency = l.urgency;
    Some(MatchListing {
        description: l.description.clone(),
        attributes: serde_json::from_str(&l.attributes).unwrap_or_default(),
        // What confirmed agreements have not yet taken.
        quantity: l
            .remaining_amount()
            .zip(l.quantity_unit.clone())
            .map(|(a, u)| Quantity::new(a, u)),
        price: l
            .price_amount
            .zip(l.price_unit.clone())
            .map(|(a, u)| Price::new(a, u)),
        // Posted without coordinates: the centre of the district its address names.
        lat: l.lat.or_else(|| district_point(l).map(|p| p.0)),
        lon: l.lon.or_else(|| district_point(l).map(|p| p.1)),
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

/// The hits of two text queries over the same index (so their BM25 scores
/// compare), each listing once with its best score, best first.
fn merge_hits(
    a: Vec<zhiqilian_search_index::Hit>,
    b: Vec<zhiqilian_search_index::Hit>,
) -> Vec<zhiqilian_search_index::Hit> {
    let mut best: HashMap<String, zhiqilian_search_index::Hit> = HashMap::new();
    for h in a.into_iter().chain(b) {
        match best.get(&h.id) {
            Some(seen) if seen.score >= h.score => {}
            _ => {
                best.insert(h.id.clone(), h);
            }
        }
    }
    let mut out: Vec<_> = best.into_values().collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| x.id.cmp(&y.id)));
    out
}

/// Ranks the listings on the other side that best serve `anchor`, as seen by
/// a caller with `visibility` (`None`: everything), now. Blocking.
pub fn find_matches(
    conn: &mut DbConnection,
    index: &ListingIndex,
    anchor: &ListingView,
    visibility: Option<VisibilityRule>,
    weights: &Weights,
    limit: usize,
) -> StoreResult<Vec<Candidate>> {
    find_matches_at(conn, index, anchor, visibility, weights, limit, Utc::now())
}

/// [`find_matches`] at the moment `now`: which listings are still active,
/// open windows, availability and freshness all read it, never the clock.
pub fn find_matches_at(
    conn: &mut DbConnection,
    index: &ListingIndex,
    anchor: &ListingView,
    visibility: Option<VisibilityRule>,
    weights: &Weights,
    limit: usize,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Candidate>> {
    let Some(a) = match_listing(anchor) else {
        return Ok(Vec::new());
    };
    let base = SearchRequest {
        side: Some(a.side.opposite().as_str().to_string()),
        kinds: compatible_kinds(&a),
        exclude_firm: Some(a.firm_id.clone()),
        visible_to: visibility,
        active_at: Some(now.timestamp()),
        limit: RETRIEVE,
        // Ranking needs neither totals, facets nor highlights.
        count: false,
        snippets: false,
        ..SearchRequest::default()
    };
    // Two channels: the words of the listing, and — whatever their wording —
    // the nearest listings of a compatible kind (in-park first, 内循环).
    let by_text = SearchRequest {
        text: query_text(anchor),
        ..base.clone()
    };
    let by_place = a.location().map(|(lat, lon)| SearchRequest {
        near: Some(GeoFilter {
            lat,
            lon,
            radius_km: Some(NEARBY_KM),
        }),
        sort: Some(SortOrder::Distance),
        limit: NEARBY,
        // In-park first (内循环): the nearest within the anchor's own community. Listings of
        // neighbouring communities come through the text channel. The community's postings
        // bound the work, where a radius alone would measure every listing of the kind.
        community: a.community_id.clone(),
        ..base
    });
    let search = |req: &SearchRequest| match index.search(req) {
        Ok(r) => r.hits,
        Err(e) => {
            tracing::warn!(error = %e, listing = %anchor.listing.id, "match retrieval failed");
            Vec::new()
        }
    };
    // The words again, among the listings near the anchor (or of its
    // community, without a place): in a district- or province-wide index the
    // best-worded listings of the whole index would otherwise crowd out every
    // fair candidate nearby, which the place channel alone finds with no
    // text relevance at all.
    let by_text_near = SearchRequest {
        near: a.location().map(|(lat, lon)| GeoFilter {
            lat,
            lon,
            radius_km: Some(NEARBY_KM),
        }),
        community: a
            .location()
            .is_none()
            .then(|| a.community_id.clone())
            .flatten(),
        ..by_text.clone()
    };
    let text_hits = merge_hits(search(&by_text), search(&by_text_near));
    let mut near_hits = by_place.as_ref().map(&search).unwrap_or_default();
    // An emergency whose park has too few candidates: the nearest of the
    // neighbouring communities too.
    let net = Net::of(anchor);
    if let (Some(km), Some(req)) = (net.beyond_km, &by_place)
        && near_hits.len() < net.suggestions / 2
    {
        let wide = SearchRequest {
            community: None,
            near: req.near.map(|g| GeoFilter {
                radius_km: Some(km),
                ..g
            }),
            ..req.clone()
        };
        near_hits.extend(search(&wide));
    }
    // BM25 is unbounded: relative to the best hit it becomes a [0, 1] factor;
    // a candidate found only by place matched no word worth ranking.
    let best = text_hits.iter().map(|h| h.score).fold(0f32, f32::max);
    let mut relevance: HashMap<String, f32> = text_hits
        .iter()
        .map(|h| (h.id.clone(), if best > 0.0 { h.score / best } else { 0.0 }))
        .collect();
    for h in &near_hits {
        relevance.entry(h.id.clone()).or_insert(0.0);
    }
    let ids: Vec<String> = relevance.keys().cloned().collect();
    let views = listings::get_many(conn, &ids)?;
    // Each firm's record of deals (none before a park's first deal, so the
    // factor stays out and nothing changes until then).
    let ledger = Ledger::load(conn)?;
    let mut a = a;
    a.reliability = ledger.reliability(&anchor.listing.firm_id, &anchor.listing.community_id);
    let mut out: Vec<Candidate> = views
        .into_iter()
        .filter(|v| v.listing.status == ListingStatus::Open)
        .filter_map(|v| {
            let mut c = match_listing(&v)?;
            c.text_relevance = relevance.get(&c.id).copied();
            c.reliability = ledger.reliability(&v.listing.firm_id, &v.listing.community_id);
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

// ------------------------------------------------ matches as the API shows

#[derive(Debug, Serialize)]
pub struct MatchOut {
    pub listing: ListingOut,
    pub score: f64,
    /// The offer covers only part of the needed quantity.
    pub partial: bool,
    pub factors: Vec<FactorOut>,
}

#[derive(Debug, Serialize)]
pub struct MatchesPage {
    pub listing_id: String,
    pub items: Vec<MatchOut>,
}

/// The matches of one listing (`GET /api/v1/listings/{id}/matches`): for a request the offers that best
/// serve it, for an offer the requests it can serve — among what the caller
/// may see.
pub async fn of_listing(
    db: &Db,
    index: Arc<ListingIndex>,
    weights: Arc<Weights>,
    caller: &Caller,
    id: String,
    limit: Option<i64>,
) -> Result<MatchesPage, ApiError> {
    let limit = match limit {
        None => 10,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                "limit 须在 1 到 50 之间",
            ));
        }
    };
    let viewer = caller.viewer();
    let found = db
        .run(move |c| {
            let Some(anchor) = listings::get(c, &id)? else {
                return Ok(None);
            };
            if !visible_to(&anchor, &viewer) {
                return Ok(None);
            }
            let found = find_matches(c, &index, &anchor, rule_for(&viewer), &weights, limit)?;
            Ok(Some((anchor.listing.id.clone(), found)))
        })
        .await?;
    let Some((listing_id, found)) = found else {
        return Err(ApiError::not_found("供需信息"));
    };
    Ok(MatchesPage {
        listing_id,
        items: found
            .into_iter()
            .map(|c| MatchOut {
                listing: listing_out(c.view),
                score: c.score,
                partial: c.partial,
                factors: c
                    .factors
                    .into_iter()
                    .map(|f| FactorOut {
                        key: f.key,
                        value: f.value,
                        weight: f.weight,
                        reason: f.reason_zh,
                    })
                    .collect(),
            })
            .collect(),
    })
}
