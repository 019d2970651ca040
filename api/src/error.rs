//! The one error format: every 4xx/5xx is `application/problem+json`
//! (RFC 9457) with a stable machine `code` and, for validation, field errors.
//!
//! Policy: handlers return `Result<_, ApiError>`. Expected failures are built
//! with the constructors below and carry a stable code; store errors convert
//! through `From<StoreError>`; anything unexpected becomes `internal` (500),
//! is logged with its cause, and never leaks details to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use zhiqilian_matcher::FieldError;

use crate::store::{StoreError, is_full_message};

/// The most field errors one answer lists; `error_count` tells how many
/// there were, so a huge body cannot make a huge answer.
pub const MAX_LISTED_ERRORS: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many field errors there were (`errors` lists at most
    /// [`MAX_LISTED_ERRORS`] of them); present with `errors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {detail:?}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// 422 with one or more field errors.
    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            detail: Some("请求内容未通过校验".into()),
            errors,
            retry_after_secs: None,
        }
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 for what does not exist or what the caller may not see.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what}不存在或无权查看"),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn too_many(retry_after_secs: u64, detail: impl Into<String>) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", detail)
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
        }
    }

    /// 503 `database_unavailable`: no connection within `db_timeout_secs`,
    /// a lost connection, or (SQLite) the write lock held elsewhere.
    pub fn database_unavailable() -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "数据库暂时不可用，请稍后重试",
            )
        }
    }

    /// 503 `storage_full`: the disk under the database or the search
    /// index is full; nothing was written. Reads go on, and writes work
    /// again once space is freed.
    pub fn storage_full() -> ApiError {
        ApiError {
            retry_after_secs: Some(30),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                "存储空间已满，暂时无法写入，请稍后重试",
            )
        }
    }

    /// 500: the cause is logged, the client sees only the code.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后重试",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:zhiqilian:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail.clone(),
            errors: self
                .errors
                .iter()
                .take(MAX_LISTED_ERRORS)
                .cloned()
                .collect(),
            error_count: (!self.errors.is_empty()).then_some(self.errors.len()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after_secs {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("对象"),
            StoreError::Conflict(what) => {
                ApiError::conflict("conflict", format!("与已有数据冲突：{what}"))
            }
            StoreError::Pool(e) if is_full_message(&e.to_string()) => {
                tracing::error!(error = %e, "storage full: no connection could be opened");
                ApiError::storage_full()
            }
            StoreError::Pool(e) => {
                tracing::warn!(error = %e, "database pool exhausted or unreachable");
                ApiError::database_unavailable()
            }
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::database_unavailable()
            }
            StoreError::Full(e) => {
                tracing::error!(error = %e, "storage full: writes fail until space is freed");
                ApiError::storage_full()
            }
            other => ApiError::internal(other),
        }
    }
}

/// Maps actix's extractor failures (bad JSON, bad query string, bad path,
/// oversized body) into the problem format.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "请求体过大",
        ),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请求体须为 application/json",
        ),
        J::Deserialize(e) => {
            let mut e2 = ApiError::bad_request("invalid_json", format!("JSON 无法解析：{e}"));
            if e.is_data() {
                e2.status = StatusCode::UNPROCESSABLE_ENTITY;
                e2.code = "validation_failed";
                e2.errors = vec![FieldError::new(
                    data_error_field(&e.to_string()),
                    "invalid_type",
                    e.to_string(),
                )];
            }
            e2
        }
        _ => ApiError::bad_request("invalid_body", format!("请求体无法读取：{err}")),
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
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "请求体过大",
        ),
        U::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请求体须为 application/x-www-form-urlencoded",
        ),
        _ => ApiError::bad_request("invalid_body", format!("表单无法解析：{err}")),
    }
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::bad_request("invalid_query", format!("查询参数有误：{err}"))
}

pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    ApiError::bad_request("invalid_path", format!("路径参数有误：{err}"))
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::*;

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
        assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
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
