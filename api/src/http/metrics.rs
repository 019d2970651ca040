//! Request metrics: latency and counts per route, recorded by a middleware
//! (`record`) under the route's pattern (`/api/v1/listings/{id}`, never the
//! raw path, so the label set stays bounded), and requests shed by
//! admission. `/metrics` (routes/metrics.rs) adds the node's state when
//! scraped.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

struct Http {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    shed: prometheus::IntCounter,
}

/// Request metrics are process-wide (one server per process in production;
/// test processes running several nodes share them).
static HTTP: LazyLock<Http> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new(
            "zql_http_requests_total",
            "HTTP requests by route and status class",
        ),
        &["method", "route", "status"],
    )
    .expect("valid metric");
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "zql_http_request_duration_seconds",
            "Time to the response head, by route",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["method", "route"],
    )
    .expect("valid metric");
    let shed = prometheus::IntCounter::new(
        "zql_requests_shed_total",
        "Requests answered 503 overloaded because max_in_flight were being served",
    )
    .expect("valid metric");
    registry
        .register(Box::new(shed.clone()))
        .expect("unique metric");
    registry
        .register(Box::new(requests.clone()))
        .expect("unique metric");
    registry
        .register(Box::new(latency.clone()))
        .expect("unique metric");
    Http {
        registry,
        requests,
        latency,
        shed,
    }
});

/// Counts a request shed by admission control.
pub fn shed() {
    HTTP.shed.inc();
}

/// Records one request (called by the middleware once the response head
/// is ready). Event streams count from open to the first bytes.
pub fn record(method: &str, route: &str, status: u16, elapsed: Duration) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    HTTP.requests
        .with_label_values(&[method, route, class])
        .inc();
    HTTP.latency
        .with_label_values(&[method, route])
        .observe(elapsed.as_secs_f64());
}

/// The process-wide request metrics, for the scrape.
pub fn gather() -> Vec<prometheus::proto::MetricFamily> {
    HTTP.registry.gather()
}
