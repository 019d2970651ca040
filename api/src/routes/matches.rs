//! Matches of one listing, computed on request with their breakdown.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::listings::{ListingOut, listing_out};
use super::search::rule_for;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::matching::find_matches;
use crate::state::AppState;
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
