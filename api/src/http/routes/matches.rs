//! Matches of one listing, computed on request with their breakdown.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::listings::{ListingOut, listing_out};
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::matching::{find_matches, rule_for};
use crate::store::listings::{self as store, visible_to};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchesQuery {
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct FactorOut {
    pub key: &'static str,
    pub value: f64,
    pub weight: f64,
    /// Why, in Chinese.
    pub reason: String,
}

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

/// `GET /api/v1/listings/{id}/matches`: for a request the offers that best
/// serve it, for an offer the requests it can serve — among what the caller
/// may see.
pub async fn for_listing(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<MatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = match q.limit {
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
    let id = id.into_inner();
    let index = state.search.index.clone();
    let weights = state.weights.clone();
    let found = state
        .db
        .run(move |c| {
            let Some(anchor) = store::get(c, &id)? else {
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
    Ok(HttpResponse::Ok().json(MatchesPage {
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
    }))
}

// ------------------------------------------------------------ match records

use super::pagination::{self, Page};
use crate::store::matches::{self as records, MatchFilter, MatchRecord, MatchScope};

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
    pub status: String,
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

#[derive(Debug, Deserialize)]
struct StoredFactor {
    key: String,
    value: f64,
    weight: f64,
    reason_zh: String,
}

/// Factor keys are a fixed set; stored ones map back to them.
fn known_key(k: &str) -> &'static str {
    zhiqilian_matcher::factor_keys::ALL
        .iter()
        .find(|x| **x == k)
        .copied()
        .unwrap_or("unknown")
}

/// The breakdown stored with a match record.
pub fn stored_factors(json: &str) -> Vec<FactorOut> {
    serde_json::from_str::<Vec<StoredFactor>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|f| FactorOut {
            key: known_key(&f.key),
            value: f.value,
            weight: f.weight,
            reason: f.reason_zh,
        })
        .collect()
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
    Ok(store::get_many(c, &ids)?
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

const STATUSES: &[&str] = &["suggested", "contacted", "agreed", "declined", "expired"];

/// `GET /api/v1/matches`: the match records of my firm (staff: of their
/// community), newest first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListMatchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "取值无效，可选值：suggested, contacted, agreed, declined, expired",
        ));
    }
    let limit = pagination::limit(q.limit)?;
    let filter = MatchFilter {
        status: q.status,
        listing_id: q.listing,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let scope = scope_of(&caller);
    let (rows, titles) = state
        .db
        .run(move |c| {
            let rows = records::list(c, &scope, &filter)?;
            let titles = titles_of(c, &rows)?;
            Ok((rows, titles))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        |r| record_out(r, &titles),
    )))
}

async fn load_record(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<MatchRecord, ApiError> {
    let scope = scope_of(caller);
    state
        .db
        .run(move |c| records::get(c, &id))
        .await?
        .filter(|r| records::visible(r, &scope))
        .ok_or_else(|| ApiError::not_found("匹配记录"))
}

async fn respond(state: &AppState, r: MatchRecord) -> Result<HttpResponse, ApiError> {
    let rows = vec![r.clone()];
    let titles = state.db.run(move |c| titles_of(c, &rows)).await?;
    Ok(HttpResponse::Ok().json(record_out(r, &titles)))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = load_record(&state, &caller, id.into_inner()).await?;
    respond(&state, r).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatchMatch {
    pub status: String,
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PatchMatch>,
) -> Result<HttpResponse, ApiError> {
    let r = load_record(&state, &caller, id.into_inner()).await?;
    let to = body.into_inner().status;
    let updated = crate::service::matches::move_to(&state.db, &caller, r, to).await?;
    respond(&state, updated).await
}
