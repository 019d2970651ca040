//! The community staff API (`/api/v1/staff/…`): the queue of urgent and
//! emergency requests, claim / broker / resolve / escalate, the audit log,
//! SLA summaries and park statistics. The rules are in `service::staff`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::{ApiError, Code};
use crate::service::staff::{
    self, AuditQuery, BrokerBody, EscalateBody, QueueQuery, ResolveBody, WindowQuery,
};

/// `GET /api/v1/staff/queue`: the cases of the caller's community, oldest
/// first, with their top candidates and SLA clocks.
pub async fn queue(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = staff::queue(&state.db, state.config.sla, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/staff/cases/{id}`: one case with every stored candidate.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = staff::get(&state.db, state.config.sla, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimBody {
    pub take_over: bool,
}

/// The claim's optional body: none (or blank) is `take_over: false`; one
/// that is sent must be valid (a `take_over` that is not a boolean is
/// refused, never read as false).
fn claim_body(body: &[u8]) -> Result<ClaimBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ClaimBody::default());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize::<_, ClaimBody>(&mut de);
    if parsed.is_ok()
        && let Err(e) = de.end()
    {
        return Err(ApiError::bad_request(
            Code::InvalidJson,
            format!("JSON 无法解析：{e}"),
        ));
    }
    parsed.map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if field == "." { "body".into() } else { field };
            ApiError::field(&field, "invalid_type", inner.to_string())
        } else {
            ApiError::bad_request(Code::InvalidJson, format!("JSON 无法解析：{inner}"))
        }
    })
}

/// `POST /api/v1/staff/cases/{id}/claim`.
pub async fn claim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let take_over = claim_body(&body)?.take_over;
    let out = staff::claim(
        &state.db,
        state.config.sla,
        &caller,
        id.into_inner(),
        take_over,
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/staff/cases/{id}/resolve`.
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    let (db, sla) = (&state.db, state.config.sla);
    let out = staff::resolve(db, sla, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/staff/cases/{id}/escalate`.
pub async fn escalate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<EscalateBody>,
) -> Result<HttpResponse, ApiError> {
    let (db, sla) = (&state.db, state.config.sla);
    let out = staff::escalate(db, sla, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/staff/cases/{id}/broker`: puts the requesting firm in
/// contact with the firms of the chosen offers.
pub async fn broker(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<BrokerBody>,
) -> Result<HttpResponse, ApiError> {
    let out = staff::broker(
        &state.db,
        state.config.sla,
        state.weights.clone(),
        state.config.message_max_chars,
        &caller,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/staff/audit`: staff actions of the caller's community,
/// newest first.
pub async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = staff::audit_log(&state.db, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/staff/sla`: SLA summary of the cases opened in a window.
pub async fn sla_summary(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let out = staff::sla_summary(&state.db, state.config.sla, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(_) => {
            return Err(ApiError::field(
                "format",
                "invalid_choice",
                "format 须为 json 或 csv",
            ));
        }
        None => {}
    }
    Ok(req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv")))
}

/// `GET /api/v1/staff/stats`: park statistics of a window, as JSON or CSV.
pub async fn park_stats(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(&req, q.format.as_deref())?;
    let out = staff::park_stats(&state.db, state.config.sla, &caller, &q).await?;
    if !csv {
        return Ok(HttpResponse::Ok().json(out));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"zhiqilian-stats.csv\"",
        ))
        .body(out.csv()))
}
