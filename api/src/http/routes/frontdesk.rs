//! The community as the park's front desk: a firm admin takes over a
//! listing staff posted for the firm, a firm asks the community for help
//! on a listing, staff open a case from any listing and keep internal
//! notes on cases. (Staff post, edit and close for a firm through the
//! listing routes, naming the firm.)

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::listings::{WriteParams, after_write};
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::digest::{self, DigestQuery};
use crate::service::error::ApiError;
use crate::service::frontdesk;

/// `POST /api/v1/listings/{id}/take-over`
pub async fn take_over(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: web::Query<WriteParams>,
) -> Result<HttpResponse, ApiError> {
    let wait = params.wait()?;
    let (out, seq) = frontdesk::take_over_listing(&state.db, &caller, id.into_inner()).await?;
    let mut res = HttpResponse::Ok();
    if let Some(v) = after_write(&state, wait, seq).await {
        res.insert_header(("x-indexed", v));
    }
    Ok(res.json(out))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    #[serde(default)]
    pub note: Option<String>,
}

fn opened(k: frontdesk::CaseSummary) -> HttpResponse {
    if k.opened_now {
        HttpResponse::Created().json(k)
    } else {
        HttpResponse::Ok().json(k)
    }
}

/// `POST /api/v1/listings/{id}/ask-community`
pub async fn ask_community(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<AskBody>,
) -> Result<HttpResponse, ApiError> {
    let note = body.into_inner().note;
    let k = frontdesk::ask_community_about(&state.db, &caller, id.into_inner(), note).await?;
    Ok(opened(k))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseBody {
    pub listing_id: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/staff/cases`
pub async fn open_case(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<OpenCaseBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let k = frontdesk::open_case(&state.db, &caller, b.listing_id, b.note).await?;
    Ok(opened(k))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
}

/// `GET /api/v1/staff/cases/{id}/notes`
pub async fn notes(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let items = frontdesk::notes(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// `POST /api/v1/staff/cases/{id}/notes`
pub async fn add_note(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<NoteBody>,
) -> Result<HttpResponse, ApiError> {
    let n =
        frontdesk::add_note(&state.db, &caller, id.into_inner(), body.into_inner().body).await?;
    Ok(HttpResponse::Created().json(n))
}

/// `GET /api/v1/staff/digest`: the community's open needs, as text to
/// paste and as a list, with short links.
pub async fn digest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<DigestQuery>,
) -> Result<HttpResponse, ApiError> {
    let base = match &state.config.public_url {
        Some(u) => u.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let out = digest::digest(&state.db, &caller, q.into_inner(), &base).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /s/{code}`: a digest's short link, to the listing in the firm app.
pub async fn follow_short_link(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let to = digest::follow(&state.db, code.into_inner()).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
