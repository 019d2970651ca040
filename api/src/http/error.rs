//! The error format on the wire: [`ApiError`] (the service's error) as
//! `application/problem+json` with its status, `Retry-After` and
//! `WWW-Authenticate`; actix's extractor failures (bad JSON, query, path,
//! oversized bodies) mapped into the same format.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use zhiqilian_matcher::FieldError;

pub use crate::service::error::{ApiError, Code, MAX_LISTED_ERRORS, Problem, Status};

/// actix's status for the service's.
pub fn status_code(s: Status) -> StatusCode {
    StatusCode::from_u16(s.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_code(self.status)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(status_code(self.status));
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after_secs {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if self.status == Status::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(self.problem())
    }
}

/// Maps actix's extractor failures (bad JSON, bad query string, bad path,
/// oversized body) into the problem format.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::new(
            Status::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "请求体过大",
        ),
        J::ContentType => ApiError::new(
            Status::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "请求体须为 application/json",
        ),
        J::Deserialize(e) => {
            let mut e2 = ApiError::bad_request(Code::InvalidJson, format!("JSON 无法解析：{e}"));
            if e.is_data() {
                e2.status = Status::UNPROCESSABLE_ENTITY;
                e2.code = Code::ValidationFailed;
                e2.errors = vec![FieldError::new(
                    data_error_field(&e.to_string()),
                    "invalid_type",
                    e.to_string(),
                )];
            }
            e2
        }
        _ => ApiError::bad_request(Code::InvalidBody, format!("请求体无法读取：{err}")),
    }
}

/// serde names the field in backquotes for missing, unknown and duplicate
/// fields ("missing field `title`"); surface it as the field path.
fn data_error_field(msg: &str) -> String {
    let named = ["missing field `", "unknown field `", "duplicate field `"];
    named
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .filter(|f| !f.is_empty())
        .unwrap_or("body")
        .to_string()
}

/// Form bodies (the OAuth token request).
pub fn form_error(err: actix_web::error::UrlencodedError) -> ApiError {
    use actix_web::error::UrlencodedError as U;
    match &err {
        U::Overflow { .. } | U::UnknownLength => ApiError::new(
            Status::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "请求体过大",
        ),
        U::ContentType => ApiError::new(
            Status::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "请求体须为 application/x-www-form-urlencoded",
        ),
        _ => ApiError::bad_request(Code::InvalidBody, format!("表单无法解析：{err}")),
    }
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::bad_request(Code::InvalidQuery, format!("查询参数有误：{err}"))
}

pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    ApiError::bad_request(Code::InvalidPath, format!("路径参数有误：{err}"))
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::*;
    use crate::store::StoreError;

    /// SQLite out of space (its page limit reached: the same
    /// `SQLITE_FULL` as a full disk) is a 503 `storage_full` with
    /// `Retry-After`, not a 500.
    #[test]
    fn a_full_database_answers_503_storage_full() {
        let mut c = SqliteConnection::establish(":memory:").expect("sqlite");
        c.batch_execute("CREATE TABLE t (v TEXT); PRAGMA max_page_count = 8;")
            .expect("set up");
        let mut failure = None;
        for _ in 0..1000 {
            if let Err(e) =
                diesel::sql_query("INSERT INTO t VALUES (hex(randomblob(500)))").execute(&mut c)
            {
                failure = Some(e);
                break;
            }
        }
        let e = StoreError::from(failure.expect("the database fills up"));
        assert!(matches!(e, StoreError::Full(_)), "{e:?}");
        let api = ApiError::from(e);
        assert_eq!(api.status, Status::SERVICE_UNAVAILABLE);
        assert_eq!(api.code, "storage_full");
        assert_eq!(api.retry_after_secs, Some(30));
        let resp = api.error_response();
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
    }
}
