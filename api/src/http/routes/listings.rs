//! Listings: post, read, edit, close and browse offers and requests.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zhiqilian_matcher::{Kind, ListingStatus, Side};

use super::pagination::{self, Page};
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::listing_form::{Amount, ListingInput, ListingPatch};
use crate::service::listings;
use crate::store::listings::{self as store, ListFilter, ListingView};

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Serialize)]
pub struct LocationOut {
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct FirmRef {
    pub id: String,
    pub name: String,
    pub verified: bool,
}

#[derive(Debug, Serialize)]
pub struct ListingOut {
    pub id: String,
    pub key: Option<String>,
    pub side: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub location: Option<LocationOut>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub urgency: String,
    pub visibility: String,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub attributes: Map<String, Value>,
    pub firm: FirmRef,
    pub community: NamedRef,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Present on a request that calls for quotes (询价).
    pub call_for_quotes: Option<CallForQuotesOut>,
    /// What confirmed agreements hold of the quantity, and what remains.
    pub committed: Option<Amount>,
    pub remaining: Option<Amount>,
}

#[derive(Debug, Serialize)]
pub struct CallForQuotesOut {
    pub closes_at: Option<DateTime<Utc>>,
}

pub fn listing_out(v: ListingView) -> ListingOut {
    let l = v.listing;
    let status = l.shown_status().to_string();
    let remaining = l.remaining_amount();
    let call_for_quotes = l.quotes_wanted.then(|| CallForQuotesOut {
        closes_at: l.quotes_close_at.map(utc),
    });
    let committed = l
        .quantity_amount
        .and(l.quantity_unit.clone())
        .map(|unit| Amount {
            amount: l.committed_amount,
            unit,
        });
    let amount =
        |a: Option<f64>, u: Option<String>| a.zip(u).map(|(amount, unit)| Amount { amount, unit });
    let location = if l.address.is_some() || l.lat.is_some() {
        Some(LocationOut {
            address: l.address,
            lat: l.lat,
            lon: l.lon,
        })
    } else {
        None
    };
    ListingOut {
        id: l.id,
        key: l.ext_key,
        side: l.side,
        kind: l.kind,
        title: l.title,
        description: l.description,
        quantity: amount(l.quantity_amount, l.quantity_unit),
        price: amount(l.price_amount, l.price_unit),
        location,
        available_from: l.available_from,
        available_until: l.available_until,
        urgency: l.urgency,
        visibility: l.visibility,
        status,
        expires_at: l.expires_at.map(utc),
        attributes: serde_json::from_str(&l.attributes).unwrap_or_default(),
        firm: FirmRef {
            id: l.firm_id,
            name: v.firm_name,
            verified: v.firm_verified,
        },
        community: NamedRef {
            id: l.community_id,
            name: v.community_name,
        },
        version: l.version,
        created_at: utc(l.created_at),
        updated_at: utc(l.updated_at),
        closed_at: l.closed_at.map(utc),
        call_for_quotes,
        remaining: remaining
            .zip(committed.as_ref().map(|c| c.unit.clone()))
            .map(|(amount, unit)| Amount { amount, unit }),
        committed,
    }
}

/// `?wait=indexed`: answer only once the write is searchable on this node.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteParams {
    pub wait: Option<String>,
}

/// How long `?wait=indexed` waits before answering anyway.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Tells the indexer about a write and, when asked, waits for it. Returns
/// the `x-indexed` header value when the client asked to wait.
pub async fn after_write(
    state: &AppState,
    params: &WriteParams,
    seq: Option<i64>,
) -> Result<Option<&'static str>, ApiError> {
    let wait = match params.wait.as_deref() {
        None => false,
        Some("indexed") => true,
        Some(_) => {
            return Err(ApiError::field(
                "wait",
                "invalid_value",
                "wait 只能为 indexed",
            ));
        }
    };
    let Some(seq) = seq else {
        return Ok(wait.then_some("true"));
    };
    if !wait {
        state.search.poke();
        return Ok(None);
    }
    let done = state.search.wait_for(seq, INDEX_WAIT).await;
    Ok(Some(if done { "true" } else { "false" }))
}

fn with_indexed(
    mut b: actix_web::HttpResponseBuilder,
    indexed: Option<&'static str>,
) -> actix_web::HttpResponseBuilder {
    if let Some(v) = indexed {
        b.insert_header(("x-indexed", v));
    }
    b
}

async fn load_view(state: &AppState, id: String) -> Result<ListingView, ApiError> {
    state
        .db
        .run(move |c| store::get(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("供需信息"))
}

/// Loads a listing the caller may see; 404 for anything else.
async fn visible(state: &AppState, caller: &Caller, id: String) -> Result<ListingView, ApiError> {
    listings::visible(&state.db, caller, id).await
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<WriteParams>,
    body: web::Json<ListingInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, seq) = listings::post(&state.db, &state.quotas, &caller, body.into_inner()).await?;
    let indexed = after_write(&state, &params, Some(seq)).await?;
    let v = load_view(&state, id).await?;
    Ok(with_indexed(HttpResponse::Created(), indexed)
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/listings/{}", v.listing.id),
        ))
        .json(listing_out(v)))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = visible(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(listing_out(v)))
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<WriteParams>,
    body: web::Json<ListingPatch>,
) -> Result<HttpResponse, ApiError> {
    let v = visible(&state, &caller, id.into_inner()).await?;
    let edit = listings::edit(&state.db, &state.quotas, &caller, &v, body.into_inner()).await?;
    let indexed = after_write(&state, &params, edit).await?;
    let v = match edit {
        Some(_) => load_view(&state, v.listing.id).await?,
        None => v,
    };
    Ok(with_indexed(HttpResponse::Ok(), indexed).json(listing_out(v)))
}

/// The owning firm's members, the community's staff and admins may close.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<WriteParams>,
) -> Result<HttpResponse, ApiError> {
    let v = visible(&state, &caller, id.into_inner()).await?;
    let seq = listings::close(&state.db, &caller, &v).await?;
    let indexed = after_write(&state, &params, seq).await?;
    let v = load_view(&state, v.listing.id).await?;
    Ok(with_indexed(HttpResponse::Ok(), indexed).json(listing_out(v)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only my firm's listings (any status).
    #[serde(default)]
    pub mine: Option<bool>,
    pub side: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub community: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let mut e = crate::service::validate::Errors::default();
    let check = |e: &mut crate::service::validate::Errors,
                 field: &str,
                 v: &Option<String>,
                 ok: bool,
                 allowed: &str| {
        if v.is_some() && !ok {
            e.push(
                field,
                "invalid_value",
                format!("取值无效，可选值：{allowed}"),
            );
        }
    };
    check(
        &mut e,
        "side",
        &q.side,
        q.side.as_deref().is_none_or(|s| s.parse::<Side>().is_ok()),
        "offer, request",
    );
    check(
        &mut e,
        "kind",
        &q.kind,
        q.kind.as_deref().is_none_or(|s| s.parse::<Kind>().is_ok()),
        "space, equipment, material, logistics, workforce, service",
    );
    check(
        &mut e,
        "status",
        &q.status,
        q.status
            .as_deref()
            .is_none_or(|s| s.parse::<ListingStatus>().is_ok()),
        "open, closed",
    );
    let mine = q.mine.unwrap_or(false);
    let firm_id = if mine {
        match caller.firm_id() {
            Some(f) => Some(f.to_string()),
            None => {
                e.push("mine", "not_a_member", "只有企业成员可以查看本企业的发布");
                None
            }
        }
    } else {
        None
    };
    e.into_result().map_err(ApiError::validation)?;
    let limit = pagination::limit(q.limit)?;
    // Others' listings default to open ones; my own list shows every status.
    let status = q.status.or_else(|| (!mine).then(|| "open".to_string()));
    let filter = ListFilter {
        firm_id,
        side: q.side,
        kind: q.kind,
        status,
        community_id: q.community,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let viewer = caller.viewer();
    let rows = state
        .db
        .run(move |c| store::list(c, &viewer, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |v| &v.listing.id, listing_out)))
}
