//! The body of an attachment upload, received as it arrives
//! (`service::multipart`): the file part streams into a temporary file
//! under `<data_dir>/uploads`, refused (413, 415) as soon as it passes the
//! attachment limit or its first bytes are no accepted type; the body as
//! a whole may hold the file plus its multipart framing. Nothing of a
//! refused body is kept: its temporary file is removed at once.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::StreamExt;

use crate::http::state::AppState;
use crate::service::attachments::{Upload, request_limit};
use crate::service::error::{ApiError, Code, Status};
use crate::service::multipart::FileReceiver;

/// A body past the limit is still read (and dropped) up to this many times
/// the limit, so that the client, still sending, reads the 413; beyond it
/// the connection is cut.
const DRAIN_FACTOR: usize = 4;

/// Where uploads are received, under the data folder.
pub fn upload_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("uploads")
}

pub struct UploadBody(pub Upload);

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        Status::PAYLOAD_TOO_LARGE,
        Code::FileTooLarge,
        format!(
            "文件过大：上传请求最大 {:.1} MB",
            limit as f64 / (1024.0 * 1024.0)
        ),
    )
}

impl FromRequest for UploadBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<UploadBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>();
        let max = state.map_or(10 * 1024 * 1024, |s| s.attachments.max_bytes);
        let dir = state.map_or_else(std::env::temp_dir, |s| upload_dir(&s.config.data_dir));
        let limit = request_limit(max);
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit * DRAIN_FACTOR) {
                return Err(too_large(limit));
            }
            std::fs::create_dir_all(&dir)
                .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", dir.display())))?;
            let mut receiver = Some(FileReceiver::new(&content_type, max, &dir)?);
            // The first refusal; the rest of the body is then only counted.
            let mut refused: Option<ApiError> = None;
            let mut seen = 0usize;
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request(Code::InvalidBody, e.to_string()))?;
                seen += chunk.len();
                if seen > limit * DRAIN_FACTOR {
                    return Err(refused.unwrap_or_else(|| too_large(limit)));
                }
                if seen > limit && refused.is_none() {
                    refused = Some(too_large(limit));
                }
                if refused.is_some() {
                    // Dropping the receiver removes its temporary files.
                    receiver = None;
                    continue;
                }
                if let Some(r) = receiver.as_mut()
                    && let Err(e) = r.feed(&chunk)
                {
                    refused = Some(e);
                    receiver = None;
                }
            }
            if let Some(e) = refused {
                return Err(e);
            }
            let received = receiver.ok_or_else(|| too_large(limit))?.finish()?;
            Ok(UploadBody(received))
        })
    }
}
