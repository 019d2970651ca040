//! Spreadsheets for community staff: import firms and listings from CSV or
//! .xlsx (a dry run, then an import job with its progress), the import
//! templates, and exports as .xlsx or CSV. The rules are in
//! `service::sheets`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::{ApiError, Code};
use crate::service::sheets::{
    self, ExportQuery, FileOut, TemplateQuery, Upload, UploadQuery, table::MAX_BYTES,
};

/// The uploaded file: the body (at most [`MAX_BYTES`], else 413) and its
/// media type.
async fn upload(req: &HttpRequest, mut payload: web::Payload) -> Result<Upload, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BYTES) {
        return Err(sheets::too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(Code::InvalidBody, e.to_string()))?;
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(sheets::too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok(Upload {
        content_type,
        bytes,
    })
}

/// RFC 5987 encoding of a file name for `Content-Disposition`.
fn encode_name(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn download(f: FileOut, ascii_name: &str) -> HttpResponse {
    let ext = f.file_name.rsplit('.').next().unwrap_or("bin").to_string();
    HttpResponse::Ok()
        .content_type(f.content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{}",
                encode_name(&f.file_name)
            ),
        ))
        .body(f.bytes)
}

/// `POST /api/v1/staff/imports/{kind}/dry-run`: each row's result and
/// every error; writes nothing.
pub async fn dry_run(
    state: web::Data<AppState>,
    caller: Caller,
    kind: web::Path<String>,
    q: web::Query<UploadQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let file = upload(&req, payload).await?;
    let out = sheets::dry_run(&state.db, &caller, kind.into_inner(), q.into_inner(), file).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// `POST /api/v1/staff/imports/{kind}`: starts the import job (202).
pub async fn start(
    state: web::Data<AppState>,
    caller: Caller,
    kind: web::Path<String>,
    q: web::Query<UploadQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let file = upload(&req, payload).await?;
    let job =
        sheets::start_import(&state.db, &caller, kind.into_inner(), q.into_inner(), file).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/staff/import-jobs/{}", job.id),
        ))
        .json(job))
}

/// `GET /api/v1/staff/import-jobs/{id}`: a job's progress and errors.
pub async fn job(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = sheets::job(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// `GET /api/v1/staff/imports/{kind}/template?format=xlsx|csv`
pub async fn template(
    caller: Caller,
    kind: web::Path<String>,
    q: web::Query<TemplateQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind.into_inner();
    let ascii = format!("zhiqilian-{kind}-template");
    let f = sheets::template(&caller, kind, q.into_inner())?;
    Ok(download(f, &ascii))
}

/// `GET /api/v1/staff/exports/{what}?format=xlsx|csv`
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    what: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let what = what.into_inner();
    let ascii = format!("zhiqilian-{what}");
    let sla = state.config.sla;
    let f = sheets::export(&state.db, sla, &caller, what, q.into_inner()).await?;
    Ok(download(f, &ascii))
}
