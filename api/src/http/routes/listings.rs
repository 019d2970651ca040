//! Listings: post, read, edit, close and browse offers and requests.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::listing_form::{ListingInput, ListingPatch};
use crate::service::listings::{self, ListQuery};

/// `?wait=indexed`: answer only once the write is searchable on this node.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteParams {
    pub wait: Option<String>,
}

impl WriteParams {
    /// Whether to wait for the index; checked before anything is written.
    pub fn wait(&self) -> Result<bool, ApiError> {
        match self.wait.as_deref() {
            None => Ok(false),
            Some("indexed") => Ok(true),
            Some(_) => Err(ApiError::field(
                "wait",
                "invalid_value",
                "wait 只能为 indexed",
            )),
        }
    }
}

/// How long `?wait=indexed` waits before answering anyway.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Tells the indexer about a write and, when asked, waits for it. Returns
/// the `x-indexed` header value when the client asked to wait.
pub async fn after_write(state: &AppState, wait: bool, seq: Option<i64>) -> Option<&'static str> {
    let Some(seq) = seq else {
        return wait.then_some("true");
    };
    if !wait {
        state.search.poke();
        return None;
    }
    let done = state.search.wait_for(seq, INDEX_WAIT).await;
    Some(if done { "true" } else { "false" })
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

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<WriteParams>,
    body: web::Json<ListingInput>,
) -> Result<HttpResponse, ApiError> {
    let wait = params.wait()?;
    let (out, seq) = listings::post(&state.db, &state.quotas, &caller, body.into_inner()).await?;
    let indexed = after_write(&state, wait, Some(seq)).await;
    Ok(with_indexed(HttpResponse::Created(), indexed)
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/listings/{}", out.id),
        ))
        .json(out))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = listings::get(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<WriteParams>,
    body: web::Json<ListingPatch>,
) -> Result<HttpResponse, ApiError> {
    let wait = params.wait()?;
    let (out, seq) = listings::edit(
        &state.db,
        &state.quotas,
        &caller,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    let indexed = after_write(&state, wait, seq).await;
    Ok(with_indexed(HttpResponse::Ok(), indexed).json(out))
}

/// The owning firm's members, the community's staff and admins may close.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<WriteParams>,
) -> Result<HttpResponse, ApiError> {
    let wait = params.wait()?;
    let (out, seq) = listings::close(&state.db, &caller, id.into_inner()).await?;
    let indexed = after_write(&state, wait, seq).await;
    Ok(with_indexed(HttpResponse::Ok(), indexed).json(out))
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = listings::browse(&state.db, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}
