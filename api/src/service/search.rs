//! Full-text search over listings, with filters, distance and facets.

use std::collections::HashMap;

use std::sync::Arc;

use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{Kind, ListingStatus, Side, Urgency};
use zhiqilian_search_index::{GeoFilter, ListingIndex, SearchRequest, SortOrder};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::matching::rule_for;
use crate::service::pagination;
use crate::service::validate::Errors;
use crate::service::views::{ListingOut, listing_out};
use crate::store::listings::{self as store, Viewer, visible_to};
use crate::store::{Db, accounts, now};

/// Deepest result a client can page to.
const MAX_OFFSET: usize = 10_000;
/// Matches are counted exactly up to this many; beyond it `total` is this
/// cap and `total_is_exact` false (the deepest page is at `MAX_OFFSET`).
const TOTAL_CAP: u64 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub side: Option<String>,
    /// One kind or several, comma-separated.
    pub kind: Option<String>,
    pub community: Option<String>,
    /// `lat,lon`
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    /// `YYYY-MM-DD` that must fall in the listing's availability window.
    pub available_on: Option<String>,
    /// One urgency or several, comma-separated.
    pub urgency: Option<String>,
    pub firm: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    /// Facets to count over every match, comma-separated: `kind`, `community`.
    pub facets: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Highlights {
    pub title: String,
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct SearchHit {
    pub listing: ListingOut,
    pub score: f32,
    pub distance_km: Option<f64>,
    /// Title and description with matched words in `<em>…</em>`, HTML-escaped.
    pub highlights: Highlights,
}

#[derive(Debug, Serialize)]
pub struct FacetOut {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct FacetsOut {
    pub kind: Vec<FacetOut>,
    pub community: Vec<FacetOut>,
}

#[derive(Debug, Serialize)]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    /// Matches in all pages (before the last visibility re-check).
    pub total: u64,
    /// Whether `total` counts every match; false when there are more than
    /// it says (it is then a lower bound).
    pub total_is_exact: bool,
    /// Only the facets asked for (`facets=`) are filled.
    pub facets: FacetsOut,
    pub next_cursor: Option<String>,
}

/// Which facets a search asks for.
#[derive(Debug, Clone, Copy, Default)]
struct FacetChoice {
    kind: bool,
    community: bool,
}

fn facet_choice(e: &mut Errors, raw: &Option<String>) -> FacetChoice {
    let mut out = FacetChoice::default();
    let Some(raw) = raw else { return out };
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "kind" => out.kind = true,
            "community" => out.community = true,
            _ => e.push(
                "facets",
                "invalid_value",
                format!("取值无效：{part}；可选值：kind, community"),
            ),
        }
    }
    out
}

fn list<T: std::str::FromStr>(
    e: &mut Errors,
    field: &str,
    raw: &Option<String>,
    allowed: &str,
) -> Vec<String> {
    let Some(raw) = raw else { return Vec::new() };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.parse::<T>().is_ok() {
            out.push(part.to_lowercase());
        } else {
            e.push(
                field,
                "invalid_value",
                format!("取值无效：{part}；可选值：{allowed}"),
            );
        }
    }
    out
}

fn encode_offset(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_offset(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(c) = cursor else { return Ok(0) };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<usize>().ok()))
        .filter(|o| *o <= MAX_OFFSET)
        .ok_or_else(|| ApiError::field("cursor", "invalid_format", "cursor 无效"))
}

/// Parses and checks the query into an index request.
fn build_request(q: &SearchQuery, viewer: &Viewer) -> Result<SearchRequest, ApiError> {
    let mut e = Errors::default();
    let facets = facet_choice(&mut e, &q.facets);
    let text = q.q.clone().unwrap_or_default();
    if text.chars().count() > 1_000 {
        e.push("q", "too_long", "搜索词最多 1000 个字符");
    }
    let side = match &q.side {
        Some(s) if s.parse::<Side>().is_err() => {
            e.push("side", "invalid_value", "取值无效，可选值：offer, request");
            None
        }
        other => other.clone(),
    };
    let kinds = list::<Kind>(
        &mut e,
        "kind",
        &q.kind,
        "space, equipment, material, logistics, workforce, service",
    );
    let urgency = list::<Urgency>(&mut e, "urgency", &q.urgency, "normal, urgent, emergency");
    let near = match &q.near {
        None => None,
        Some(raw) => {
            let parsed = raw
                .split_once(',')
                .and_then(|(a, b)| {
                    Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                })
                .filter(|(la, lo)| {
                    la.is_finite() && lo.is_finite() && la.abs() <= 90.0 && lo.abs() <= 180.0
                });
            if parsed.is_none() {
                e.push(
                    "near",
                    "invalid_format",
                    "near 须为“纬度,经度”，如 29.93,121.87",
                );
            }
            parsed
        }
    };
    if let Some(r) = q.radius_km {
        if !(r.is_finite() && r > 0.0 && r <= 1_000.0) {
            e.push("radius_km", "out_of_range", "radius_km 须在 0 到 1000 之间");
        } else if q.near.is_none() {
            e.push(
                "radius_km",
                "requires_near",
                "使用 radius_km 时须同时提供 near",
            );
        }
    }
    let available_on = match &q.available_on {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
            Ok(d) => Some(
                d.and_hms_opt(12, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp()),
            ),
            Err(_) => {
                e.push("available_on", "invalid_format", "日期格式须为 YYYY-MM-DD");
                None
            }
        },
    };
    let sort = match q.sort.as_deref() {
        None => None,
        Some("relevance") => Some(SortOrder::Relevance),
        Some("newest") => Some(SortOrder::Newest),
        Some("distance") => {
            if q.near.is_none() {
                e.push("sort", "requires_near", "按距离排序须提供 near");
            }
            Some(SortOrder::Distance)
        }
        Some(_) => {
            e.push(
                "sort",
                "invalid_value",
                "取值无效，可选值：relevance, newest, distance",
            );
            None
        }
    };
    e.into_result().map_err(ApiError::validation)?;
    let limit = pagination::limit(q.limit)? as usize;
    let offset = decode_offset(q.cursor.as_deref())?;
    Ok(SearchRequest {
        text,
        side,
        kinds,
        status: Some("open".into()),
        community: q.community.clone().filter(|c| !c.trim().is_empty()),
        urgency,
        visibility: None,
        visible_to: rule_for(viewer),
        firm: q.firm.clone().filter(|f| !f.trim().is_empty()),
        exclude_firm: None,
        verified: None,
        near: near.map(|(lat, lon)| GeoFilter {
            lat,
            lon,
            radius_km: q.radius_km,
        }),
        available_on,
        active_at: Some(now().and_utc().timestamp()),
        sort,
        offset,
        limit,
        count: true,
        total_cap: Some(TOTAL_CAP),
        facets: facets.kind || facets.community,
        snippets: true,
    })
}

/// Searches the index, then hydrates the hits from the database (the
/// truth), re-checking status, expiry and visibility the index may not have
/// caught up with.
pub async fn search(
    db: &Db,
    index: Arc<ListingIndex>,
    caller: &Caller,
    q: SearchQuery,
) -> Result<SearchPage, ApiError> {
    let viewer = caller.viewer();
    let request = build_request(&q, &viewer)?;
    let wanted = facet_choice(&mut Errors::default(), &q.facets);
    let req2 = request.clone();
    let results = tokio::task::spawn_blocking(move || index.search(&req2))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            zhiqilian_search_index::IndexError::InvalidRequest(m) => {
                ApiError::bad_request(Code::InvalidSearch, m)
            }
            other => ApiError::internal(other),
        })?;

    // The database is the truth: hydrate hits and re-check what the index
    // may not have caught up with yet.
    let ids: Vec<String> = results.hits.iter().map(|h| h.id.clone()).collect();
    let community_ids: Vec<String> = if wanted.community {
        results
            .facets
            .community
            .iter()
            .map(|f| f.value.clone())
            .collect()
    } else {
        Vec::new()
    };
    let (views, names) = db
        .run(move |c| {
            let views = store::get_many(c, &ids)?;
            let names: HashMap<String, String> = if community_ids.is_empty() {
                HashMap::new()
            } else {
                accounts::list_communities(c)?
                    .into_iter()
                    .filter(|x| community_ids.contains(&x.id))
                    .map(|x| (x.id, x.name))
                    .collect()
            };
            Ok((views, names))
        })
        .await?;
    let at = now();
    let mut by_id: HashMap<String, _> = views
        .into_iter()
        .map(|v| (v.listing.id.clone(), v))
        .collect();
    let items: Vec<SearchHit> = results
        .hits
        .into_iter()
        .filter_map(|h| {
            let v = by_id.remove(&h.id)?;
            let live = v.listing.status == ListingStatus::Open
                && v.listing.expires_at.is_none_or(|t| t > at);
            (live && visible_to(&v, &viewer)).then(|| SearchHit {
                listing: listing_out(v),
                score: h.score,
                distance_km: h.distance_km,
                highlights: Highlights {
                    title: h.snippets.title,
                    description: h.snippets.description,
                },
            })
        })
        .collect();
    let next = request.offset + request.limit;
    let next_cursor = (request.limit > 0 && (next as u64) < results.total && next <= MAX_OFFSET)
        .then(|| encode_offset(next));
    Ok(SearchPage {
        items,
        total: results.total,
        total_is_exact: results.total_is_exact,
        facets: FacetsOut {
            kind: results
                .facets
                .kind
                .into_iter()
                .filter(|_| wanted.kind)
                .map(|f| FacetOut {
                    value: f.value,
                    name: None,
                    count: f.count,
                })
                .collect(),
            community: results
                .facets
                .community
                .into_iter()
                .filter(|_| wanted.community)
                .map(|f| FacetOut {
                    name: names.get(&f.value).cloned(),
                    value: f.value,
                    count: f.count,
                })
                .collect(),
        },
        next_cursor,
    })
}
