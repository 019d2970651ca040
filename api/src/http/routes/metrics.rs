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

/// A gauge with one label, one value per label value.
fn labelled(
    r: &Registry,
    name: &str,
    help: &str,
    label: &str,
    values: &[(&str, i64)],
) -> prometheus::Result<()> {
    let g = IntGaugeVec::new(Opts::new(name, help), &[label])?;
    for (v, n) in values {
        g.with_label_values(&[v]).set(*n);
    }
    r.register(Box::new(g))
}

/// The node's state gauges, read now.
async fn node_registry(state: &AppState) -> Result<Registry, ApiError> {
    let applied = state.search.applied_seq();
    let node = ops::node_state(&state.db, applied).await?;
    let r = Registry::new();
    node_gauges(&r, state, applied, &node).map_err(ApiError::internal)?;
    work_gauges(&r, state, &node).map_err(ApiError::internal)?;
    Ok(r)
}

/// The index, the event streams, admission and the database pool.
fn node_gauges(
    r: &Registry,
    state: &AppState,
    applied: i64,
    node: &NodeState,
) -> prometheus::Result<()> {
    let head = node.head;
    for (name, help, v) in [
        (
            "zql_index_applied_seq",
            "Last listing change applied to this node's index",
            applied,
        ),
        (
            "zql_change_log_head_seq",
            "Newest listing change in the database",
            head,
        ),
        (
            "zql_index_lag_changes",
            "Listing changes written but not yet searchable on this node",
            (head - applied).max(0),
        ),
        (
            "zql_event_streams_open",
            "Event streams held open on this node",
            state.events.stream_count() as i64,
        ),
        (
            "zql_event_log_dispatched_id",
            "Last event id fanned out to this node's streams",
            state.events.dispatched(),
        ),
        (
            "zql_http_in_flight",
            "Requests being served (admission control counts these)",
            state.admission.in_flight(state.config.max_in_flight) as i64,
        ),
        (
            "zql_webhooks_disabled",
            "Webhook subscriptions disabled after repeated failure",
            node.webhooks.1,
        ),
        (
            "zql_db_pool_max_connections",
            "Database pool size",
            i64::from(state.config.db_pool_size),
        ),
    ] {
        gauge(r, name, help, v)?;
    }
    let lag = prometheus::Gauge::new(
        "zql_index_lag_seconds",
        "Age of the oldest change not yet applied to this node's index",
    )?;
    lag.set(node.lag_secs);
    r.register(Box::new(lag))?;
    let (conns, idle) = state.db.pool_state();
    labelled(
        r,
        "zql_db_pool_connections",
        "Database pool connections by state",
        "state",
        &[
            ("in_use", i64::from(conns.saturating_sub(idle))),
            ("idle", i64::from(idle)),
        ],
    )
}

/// The webhook outbox and the background jobs.
fn work_gauges(r: &Registry, state: &AppState, node: &NodeState) -> prometheus::Result<()> {
    let by_status = |status: &str| {
        node.webhooks
            .0
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    labelled(
        r,
        "zql_webhook_deliveries",
        "Webhook deliveries by status (pending: the outbox queue; failed: given up)",
        "status",
        &[
            ("pending", by_status("pending")),
            ("delivered", by_status("delivered")),
            ("failed", by_status("failed")),
        ],
    )?;
    let bg = &state.background.counters;
    let counters = IntCounterVec::new(
        Opts::new(
            "zql_background_total",
            "Background work done by this node, by kind",
        ),
        &["kind"],
    )?;
    for (kind, v) in [
        ("listings_matched", &bg.listings_matched),
        ("listings_rematched", &bg.listings_rematched),
        ("match_records_created", &bg.match_records_created),
        ("listings_expired", &bg.listings_expired),
        ("cases_flagged_overdue", &bg.cases_flagged_overdue),
        ("ratings_published", &bg.ratings_published),
        ("rows_pruned", &bg.rows_pruned),
        ("failures", &bg.failures),
    ] {
        counters
            .with_label_values(&[kind])
            .inc_by(v.load(Ordering::Relaxed));
    }
    r.register(Box::new(counters))?;
    let at = now();
    let (mut held, mut position) = (Vec::new(), Vec::new());
    for (job, (pos, owner, until)) in &node.jobs {
        let mine = owner.as_deref() == Some(state.background.node_id.as_str())
            && until.is_some_and(|u| u > at);
        held.push((*job, i64::from(mine)));
        position.push((*job, *pos));
    }
    labelled(
        r,
        "zql_background_lease_held",
        "1 when this node holds the job's lease",
        "job",
        &held,
    )?;
    labelled(
        r,
        "zql_background_position",
        "Where a job is (matching: the last change matched)",
        "job",
        &position,
    )
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
