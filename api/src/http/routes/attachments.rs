//! Attachments (photos and PDFs) on listings, quotes, messages, agreements
//! and firms; the rules live in `service::attachments`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::http::upload::UploadBody;
use crate::service::attachments::{self, Download, ParentQuery};
use crate::service::error::ApiError;

/// `POST /api/v1/attachments?parent_type=…&parent_id=…`: one file as
/// `multipart/form-data` (field `file`), as `wx.uploadFile` sends it.
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ParentQuery>,
    body: UploadBody,
) -> Result<HttpResponse, ApiError> {
    let a = attachments::upload(
        &state.db,
        &state.attachments,
        &caller,
        q.into_inner(),
        body.0,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/attachments/{}", a.id)))
        .json(a))
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ParentQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(attachments::list(&state.db, &caller, q.into_inner()).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(attachments::get(&state.db, &caller, id.into_inner()).await?))
}

/// `GET /api/v1/attachments/{id}/content`: the stored file.
pub async fn content(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = attachments::download(
        &state.db,
        &state.attachments,
        &caller,
        id.into_inner(),
        false,
    )
    .await?;
    Ok(send(d))
}

/// `GET /api/v1/attachments/{id}/thumbnail`: an image's JPEG thumbnail.
pub async fn thumbnail(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = attachments::download(
        &state.db,
        &state.attachments,
        &caller,
        id.into_inner(),
        true,
    )
    .await?;
    Ok(send(d))
}

pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    attachments::delete(&state.db, &state.attachments, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The file with its type, its name (RFC 6266, UTF-8 with an ASCII
/// fallback) and headers that keep a browser from treating it as a page.
fn send(d: Download) -> HttpResponse {
    let ascii: String = d
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in d.filename.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let how = if d.inline { "inline" } else { "attachment" };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, d.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(d.bytes)
}
