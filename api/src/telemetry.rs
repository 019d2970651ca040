//! Structured logging: human-readable text or one JSON object per line.
//! Request spans name the route and the query's parameter names, never
//! their values (stream tickets, tokens and search words stay out of logs).

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("ZQL_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The request span of `tracing-actix-web`'s default builder, with the
/// query's values redacted in `http.target`.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let route = req.match_pattern().unwrap_or_else(|| "default".into());
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let info = req.connection_info().clone();
        tracing::info_span!(
            "HTTP request",
            http.method = %req.method(),
            http.route = %route,
            http.flavor = ?req.version(),
            http.scheme = %info.scheme(),
            http.host = %info.host(),
            http.client_ip = %info.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %redacted_target(req.path(), req.query_string()),
            http.status_code = Empty,
            otel.name = %format!("{} {}", req.method(), route),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path with every query value replaced (`?ticket=…&last_event_id=…`).
pub fn redacted_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let names: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            // A name is the caller's text too: keep it short.
            Some((name, _)) => format!("{}=…", name.chars().take(40).collect::<String>()),
            // No name at all: the whole part may be a token.
            None => "…".to_string(),
        })
        .collect();
    format!("{path}?{}", names.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_never_reach_the_log() {
        assert_eq!(
            redacted_target(
                "/api/v1/events",
                "ticket=eyJhbGciOi.secret.sig&last_event_id=4"
            ),
            "/api/v1/events?ticket=…&last_event_id=…"
        );
        assert_eq!(redacted_target("/api/v1/me", ""), "/api/v1/me");
        assert_eq!(redacted_target("/x", "eyJtoken&&q=%E5%8E%82"), "/x?…&q=…");
    }
}
