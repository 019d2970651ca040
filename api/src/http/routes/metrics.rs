//! `GET /metrics` in the Prometheus text format: the request metrics of
//! [`crate::http::metrics`] plus, read when scraped, index lag, background
//! work, open event streams, webhook queue and database pool use.

use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::atomic::Ordering;

use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::ops::{self, NodeState};
use crate::store::now;

fn gauge(registry: &Registry, name: &str, help: &str, v: i64) -> prometheus::Result<()> {
    let g = IntGauge::new(name, help)?;
    g.set(v);
    registry.register(Box::new(g))
}

/// The node's state gauges, read now.
async fn node_registry(state: &AppState) -> Result<Registry, ApiError> {
    let applied = state.search.applied_seq();
    let NodeState {
        head,
        lag_secs,
        jobs,
        webhooks: (deliveries, disabled),
    } = ops::node_state(&state.db, applied).await?;
    let r = Registry::new();
    let fail = |e: prometheus::Error| ApiError::internal(e);
    gauge(
        &r,
        "zql_index_applied_seq",
        "Last listing change applied to this node's index",
        applied,
    )
    .map_err(fail)?;
    gauge(
        &r,
        "zql_change_log_head_seq",
        "Newest listing change in the database",
        head,
    )
    .map_err(fail)?;
    gauge(
        &r,
        "zql_index_lag_changes",
        "Listing changes written but not yet searchable on this node",
        (head - applied).max(0),
    )
    .map_err(fail)?;
    let lag = prometheus::Gauge::new(
        "zql_index_lag_seconds",
        "Age of the oldest change not yet applied to this node's index",
    )
    .map_err(fail)?;
    lag.set(lag_secs);
    r.register(Box::new(lag)).map_err(fail)?;
    gauge(
        &r,
        "zql_event_streams_open",
        "Event streams held open on this node",
        state.events.stream_count() as i64,
    )
    .map_err(fail)?;
    gauge(
        &r,
        "zql_event_log_dispatched_id",
        "Last event id fanned out to this node's streams",
        state.events.dispatched(),
    )
    .map_err(fail)?;
    gauge(
        &r,
        "zql_http_in_flight",
        "Requests being served (admission control counts these)",
        state.admission.in_flight(state.config.max_in_flight) as i64,
    )
    .map_err(fail)?;
    let queue = IntGaugeVec::new(
        Opts::new(
            "zql_webhook_deliveries",
            "Webhook deliveries by status (pending: the outbox queue; failed: given up)",
        ),
        &["status"],
    )
    .map_err(fail)?;
    for status in ["pending", "delivered", "failed"] {
        let n = deliveries
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        queue.with_label_values(&[status]).set(n);
    }
    r.register(Box::new(queue)).map_err(fail)?;
    gauge(
        &r,
        "zql_webhooks_disabled",
        "Webhook subscriptions disabled after repeated failure",
        disabled,
    )
    .map_err(fail)?;
    let (conns, idle) = state.db.pool_state();
    let pool = IntGaugeVec::new(
        Opts::new(
            "zql_db_pool_connections",
            "Database pool connections by state",
        ),
        &["state"],
    )
    .map_err(fail)?;
    pool.with_label_values(&["in_use"])
        .set(i64::from(conns.saturating_sub(idle)));
    pool.with_label_values(&["idle"]).set(i64::from(idle));
    r.register(Box::new(pool)).map_err(fail)?;
    gauge(
        &r,
        "zql_db_pool_max_connections",
        "Database pool size",
        i64::from(state.config.db_pool_size),
    )
    .map_err(fail)?;

    let bg = &state.background.counters;
    let counters = IntCounterVec::new(
        Opts::new(
            "zql_background_total",
            "Background work done by this node, by kind",
        ),
        &["kind"],
    )
    .map_err(fail)?;
    for (kind, v) in [
        ("listings_matched", &bg.listings_matched),
        ("match_records_created", &bg.match_records_created),
        ("listings_expired", &bg.listings_expired),
        ("cases_flagged_overdue", &bg.cases_flagged_overdue),
        ("rows_pruned", &bg.rows_pruned),
        ("failures", &bg.failures),
    ] {
        counters
            .with_label_values(&[kind])
            .inc_by(v.load(Ordering::Relaxed));
    }
    r.register(Box::new(counters)).map_err(fail)?;
    let held = IntGaugeVec::new(
        Opts::new(
            "zql_background_lease_held",
            "1 when this node holds the job's lease",
        ),
        &["job"],
    )
    .map_err(fail)?;
    let position = IntGaugeVec::new(
        Opts::new(
            "zql_background_position",
            "Where a job is (matching: the last change matched)",
        ),
        &["job"],
    )
    .map_err(fail)?;
    let at = now();
    for (job, (pos, owner, until)) in jobs {
        let mine = owner.as_deref() == Some(state.background.node_id.as_str())
            && until.is_some_and(|u| u > at);
        held.with_label_values(&[job]).set(i64::from(mine));
        position.with_label_values(&[job]).set(pos);
    }
    r.register(Box::new(held)).map_err(fail)?;
    r.register(Box::new(position)).map_err(fail)?;
    Ok(r)
}

/// A caller on this host. The address is decided as the rate limiter
/// decides it: behind a reverse proxy on the same host (a
/// `trusted_proxy_header` configured) every request arrives from loopback,
/// and the client is the one the proxy names.
fn loopback(state: &AppState, req: &HttpRequest) -> bool {
    crate::http::protect::client_address(req, &state.config).is_some_and(|ip| ip.is_loopback())
}

/// `GET /metrics`: with `metrics_token` configured, for callers presenting
/// it as a bearer token; otherwise for callers on this host only.
pub async fn scrape(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let allowed = match &state.config.metrics_token {
        Some(token) => req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes())),
        None => loopback(&state, &req),
    };
    if !allowed {
        return Err(ApiError::forbidden(
            "指标仅对本机或持有 metrics_token 的采集器开放",
        ));
    }
    let node = node_registry(&state).await?;
    let mut families = crate::http::metrics::gather();
    families.extend(node.gather());
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut out)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
