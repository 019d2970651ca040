//! The body of an attachment upload: read up to the attachment limit plus
//! its multipart framing (not the JSON body limit), with 413 beyond it.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::StreamExt;

use crate::http::state::AppState;
use crate::service::attachments::{Upload, request_limit};
use crate::service::error::{ApiError, Code, Status};

/// A body past the limit is still read (and dropped) up to this many times
/// the limit, so that the client, still sending, reads the 413; beyond it
/// the connection is cut.
const DRAIN_FACTOR: usize = 4;

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
        let max = req
            .app_data::<web::Data<AppState>>()
            .map_or(10 * 1024 * 1024, |s| s.attachments.max_bytes);
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
            let mut buf = web::BytesMut::new();
            let mut seen = 0usize;
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request(Code::InvalidBody, e.to_string()))?;
                seen += chunk.len();
                if seen > limit * DRAIN_FACTOR {
                    return Err(too_large(limit));
                }
                if seen <= limit {
                    buf.extend_from_slice(&chunk);
                }
            }
            if seen > limit {
                return Err(too_large(limit));
            }
            Ok(UploadBody(Upload {
                content_type,
                body: buf.freeze(),
            }))
        })
    }
}
