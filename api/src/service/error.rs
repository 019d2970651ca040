//! The one error format: every 4xx/5xx is `application/problem+json`
//! (RFC 9457) with a stable machine `code` and, for validation, field errors.
//!
//! Policy: use cases and handlers return `Result<_, ApiError>`. Expected failures are built
//! with the constructors below and carry a stable code; store errors convert
//! through `From<StoreError>`; anything unexpected becomes `internal` (500),
//! is logged with its cause, and never leaks details to the client.

use serde::Serialize;
use zhiqilian_matcher::FieldError;

use crate::store::{StoreError, is_full_message};

/// The most field errors one answer lists; `error_count` tells how many
/// there were, so a huge body cannot make a huge answer.
pub const MAX_LISTED_ERRORS: usize = 50;

/// An HTTP status as the use cases name it; the HTTP layer turns it into
/// actix's type. Only the statuses the service answers with are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(u16);

impl Status {
    pub const BAD_REQUEST: Status = Status(400);
    pub const UNAUTHORIZED: Status = Status(401);
    pub const FORBIDDEN: Status = Status(403);
    pub const NOT_FOUND: Status = Status(404);
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    pub const CONFLICT: Status = Status(409);
    pub const PAYLOAD_TOO_LARGE: Status = Status(413);
    pub const UNSUPPORTED_MEDIA_TYPE: Status = Status(415);
    pub const UNPROCESSABLE_ENTITY: Status = Status(422);
    pub const TOO_MANY_REQUESTS: Status = Status(429);
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    pub const BAD_GATEWAY: Status = Status(502);
    pub const SERVICE_UNAVAILABLE: Status = Status(503);

    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The reason phrase of RFC 9110, the problem's `title`.
    pub fn reason(self) -> &'static str {
        match self.0 {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            413 => "Payload Too Large",
            415 => "Unsupported Media Type",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Error",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}

/// Every stable problem `code` the API answers with: the one place they are
/// spelled. A client branches on these; the `detail` is for people.
/// (Field errors carry their own codes, see `FieldError`.)
macro_rules! codes {
    ($($variant:ident => $wire:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The wire form (`snake_case`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $wire,)*
                }
            }
        }
    };
}

codes! {
    AgreementExists => "agreement_exists",
    AgreementRequired => "agreement_required",
    AlreadyClaimed => "already_claimed",
    AlreadyHidden => "already_hidden",
    AlreadySuspended => "already_suspended",
    CannotRemoveSelf => "cannot_remove_self",
    AlreadyQuoted => "already_quoted",
    AlreadyRated => "already_rated",
    AttachmentLimitReached => "attachment_limit_reached",
    AwaitingOtherFirm => "awaiting_other_firm",
    CaseChanged => "case_changed",
    CaseResolved => "case_resolved",
    ClaimRefused => "claim_refused",
    ClientRevoked => "client_revoked",
    CommunityExists => "community_exists",
    Conflict => "conflict",
    CorsOriginNotAllowed => "cors_origin_not_allowed",
    CorsPreflightInvalid => "cors_preflight_invalid",
    CorsRequestNotAllowed => "cors_request_not_allowed",
    DatabaseUnavailable => "database_unavailable",
    DealNotCompleted => "deal_not_completed",
    EditConflict => "edit_conflict",
    FileTooLarge => "file_too_large",
    FirmConsentRequired => "firm_consent_required",
    FirmSuspended => "firm_suspended",
    FirmUnverified => "firm_unverified",
    Forbidden => "forbidden",
    HandOverFirst => "hand_over_first",
    IdempotencyInProgress => "idempotency_in_progress",
    IdempotencyKeyReused => "idempotency_key_reused",
    InsufficientScope => "insufficient_scope",
    Internal => "internal",
    ImportHasErrors => "import_has_errors",
    InvalidBody => "invalid_body",
    InvalidClient => "invalid_client",
    InvalidCredentials => "invalid_credentials",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    InvalidInvite => "invalid_invite",
    InvalidJson => "invalid_json",
    InvalidMultipart => "invalid_multipart",
    InvalidPath => "invalid_path",
    InvalidQuery => "invalid_query",
    InvalidRefreshToken => "invalid_refresh_token",
    InvalidResetCode => "invalid_reset_code",
    InvalidScope => "invalid_scope",
    InvalidSearch => "invalid_search",
    InvalidTicket => "invalid_ticket",
    InvalidToken => "invalid_token",
    InvalidTransition => "invalid_transition",
    ListingClosed => "listing_closed",
    LoginTaken => "login_taken",
    MatchClosed => "match_closed",
    MethodNotAllowed => "method_not_allowed",
    NotACallForQuotes => "not_a_call_for_quotes",
    NotAParticipant => "not_a_participant",
    NotFound => "not_found",
    NotSuspended => "not_suspended",
    NotVerified => "not_verified",
    OverCommitment => "over_commitment",
    OverRemainingNeed => "over_remaining_need",
    Overloaded => "overloaded",
    OwnRequest => "own_request",
    PayloadTooLarge => "payload_too_large",
    QuoteDecided => "quote_decided",
    QuoteExpired => "quote_expired",
    QuoteNotAccepted => "quote_not_accepted",
    QuotesClosed => "quotes_closed",
    RatingWindowClosed => "rating_window_closed",
    RefreshTokenReused => "refresh_token_reused",
    RequestClosed => "request_closed",
    RouteNotFound => "route_not_found",
    SessionEnded => "session_ended",
    SheetInvalid => "sheet_invalid",
    SheetUnreadable => "sheet_unreadable",
    StaleVersion => "stale_version",
    StorageFull => "storage_full",
    ThreadClosed => "thread_closed",
    TicketExpired => "ticket_expired",
    TokenExpired => "token_expired",
    TooManyRequests => "too_many_requests",
    Unauthenticated => "unauthenticated",
    Unavailable => "unavailable",
    UnsupportedFileType => "unsupported_file_type",
    UnsupportedGrantType => "unsupported_grant_type",
    UnsupportedMediaType => "unsupported_media_type",
    UsccTaken => "uscc_taken",
    ValidationFailed => "validation_failed",
    WebhookExists => "webhook_exists",
    WebhookLimitReached => "webhook_limit_reached",
    WechatAlreadyBound => "wechat_already_bound",
    WechatBindingRequired => "wechat_binding_required",
    WechatCodeInvalid => "wechat_code_invalid",
    WechatCodeUsed => "wechat_code_used",
    WechatError => "wechat_error",
    WechatNotConfigured => "wechat_not_configured",
    WechatRateLimited => "wechat_rate_limited",
    WechatUnavailable => "wechat_unavailable",
    WechatUserBlocked => "wechat_user_blocked",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

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
    pub status: Status,
    pub code: Code,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: Status, code: Code, detail: impl Into<String>) -> ApiError {
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
            status: Status::UNPROCESSABLE_ENTITY,
            code: Code::ValidationFailed,
            detail: Some("请求内容未通过校验".into()),
            errors,
            retry_after_secs: None,
        }
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError::new(Status::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError::new(Status::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(Status::FORBIDDEN, Code::Forbidden, detail)
    }

    /// 404 for what does not exist or what the caller may not see.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            Status::NOT_FOUND,
            Code::NotFound,
            format!("{what}不存在或无权查看"),
        )
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError::new(Status::CONFLICT, code, detail)
    }

    pub fn too_many(retry_after_secs: u64, detail: impl Into<String>) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..ApiError::new(Status::TOO_MANY_REQUESTS, Code::TooManyRequests, detail)
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(Status::SERVICE_UNAVAILABLE, Code::Unavailable, detail)
        }
    }

    /// 503 `database_unavailable`: no connection within `db_timeout_secs`,
    /// a lost connection, or (SQLite) the write lock held elsewhere.
    pub fn database_unavailable() -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(
                Status::SERVICE_UNAVAILABLE,
                Code::DatabaseUnavailable,
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
                Status::SERVICE_UNAVAILABLE,
                Code::StorageFull,
                "存储空间已满，暂时无法写入，请稍后重试",
            )
        }
    }

    /// 500: the cause is logged, the client sees only the code.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            Status::INTERNAL_SERVER_ERROR,
            Code::Internal,
            "服务器内部错误，请稍后重试",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:zhiqilian:problem:{}", self.code),
            title: self.status.reason().to_string(),
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("对象"),
            StoreError::Conflict(what) => {
                ApiError::conflict(Code::Conflict, format!("与已有数据冲突：{what}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
        }
    }

    #[test]
    fn the_problem_spells_the_code() {
        let p = ApiError::conflict(Code::EditConflict, "x").problem();
        assert_eq!(p.code, "edit_conflict");
        assert_eq!(p.type_uri, "urn:zhiqilian:problem:edit_conflict");
    }
}
