//! Webhook deliveries: one task per node fans the event log out into the
//! outbox (`store::webhooks`) and sends what is due — signed JSON, in event
//! order per subscription, retried with exponential backoff and jitter,
//! the subscription disabled when a delivery keeps failing. Targets that
//! resolve to anything but public addresses (`ssrf`) are refused unless
//! the operator allows them, also at send time (DNS may change).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;
use crate::store::webhooks::{self as store, Delivery, Outcome, Webhook};
use crate::store::{Db, now, stream};
use crate::worker::task::Task;

/// Header names of a delivery.
pub const SIGNATURE_HEADER: &str = "zhiqilian-signature";
pub const EVENT_HEADER: &str = "zhiqilian-event";
pub const DELIVERY_HEADER: &str = "zhiqilian-delivery";

/// Events fanned out per transaction.
const FAN_OUT_BATCH: i64 = 500;
/// How long one node holds a delivery it is sending.
const LEASE: TimeDelta = TimeDelta::seconds(60);

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Checks a signature header as a receiver would: some `v1` matches (in
/// constant time) and `t` is within `tolerance` seconds of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    (now - t).abs() <= tolerance
        && sigs
            .iter()
            .any(|s| mac(secret, t, body).verify_slice(s).is_ok())
}

/// Addresses a webhook may not reach unless the operator allows it.
pub use crate::service::ssrf::{TargetError, check_target, is_forbidden};

/// Resolves names for deliveries, keeping only allowed addresses (so a
/// name that changes to a private address after the check is refused).
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err("webhook target resolves only to forbidden addresses".into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Delay before attempt `attempts + 1`, after `attempts` failures:
/// exponential from `base`, capped, with "equal jitter" (half fixed, half
/// random) so that receivers coming back are not hit by every sender at
/// once.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let d = exp.min(max);
    let half = d / 2;
    half + half.mul_f64(rand::random::<f64>())
}

/// The JSON body of a delivery.
pub fn body(kind: &str, dl: &Delivery, e: &stream::StreamEvent, webhook_id: &str) -> String {
    let data: serde_json::Value =
        serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": dl.id,
        "type": kind,
        "webhook_id": webhook_id,
        "event_id": e.id,
        "occurred_at": chrono::DateTime::<Utc>::from_naive_utc_and_offset(e.created_at, Utc),
        "data": data,
    })
    .to_string()
}

/// The delivery settings of this node.
#[derive(Clone)]
struct Settings {
    allow_private: bool,
    base: Duration,
    max: Duration,
    max_attempts: i32,
}

/// Starts the node's delivery task.
pub fn start(db: Db, config: &Config) -> anyhow::Result<Task> {
    let settings = Settings {
        allow_private: config.webhook_allow_private_targets,
        base: Duration::from_millis(config.webhook_retry_base_ms),
        max: Duration::from_secs(config.webhook_retry_max_secs),
        max_attempts: config.webhook_max_attempts as i32,
    };
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(config.webhook_timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent("Zhiqilian-Webhooks/1");
    if !settings.allow_private {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    let http = builder.build()?;
    Ok(Task::rounds(
        "webhooks",
        Node { db, http, settings },
        node_round,
    ))
}

/// What the node's task holds.
struct Node {
    db: Db,
    http: reqwest::Client,
    settings: Settings,
}

async fn node_round(n: &Node) -> crate::store::StoreResult<Duration> {
    round(&n.db, &n.http, &n.settings).await
}

/// Fans out, sends what is due; returns how long to wait before the next
/// round (at most a second: other nodes' events are noticed by polling).
async fn round(
    db: &Db,
    http: &reqwest::Client,
    s: &Settings,
) -> crate::store::StoreResult<Duration> {
    loop {
        let moved = db
            .run(|c| store::fan_out(c, FAN_OUT_BATCH, now(), &body))
            .await?;
        if (moved as i64) < FAN_OUT_BATCH {
            break;
        }
    }
    let due = db.run(|c| store::due(c, now())).await?;
    let sends = due
        .into_iter()
        .map(|(dl, hook)| send(db, http, s, dl, hook));
    futures_util::future::join_all(sends).await;
    let next = db.run(store::next_due).await?;
    let wait = match next {
        Some(t) => (t - now()).to_std().unwrap_or(Duration::ZERO),
        None => Duration::from_secs(1),
    };
    Ok(wait.clamp(Duration::from_millis(20), Duration::from_secs(1)))
}

async fn send(db: &Db, http: &reqwest::Client, s: &Settings, dl: Delivery, hook: Webhook) {
    let claimed = {
        let dl = dl.clone();
        db.run(move |c| store::claim(c, &dl, now() + LEASE)).await
    };
    if !matches!(claimed, Ok(true)) {
        return;
    }
    let outcome = attempt(http, s, &dl, &hook).await;
    let outcome = match outcome {
        Ok(code) => Outcome::Delivered { status_code: code },
        Err((code, error)) => {
            let attempts = dl.attempts + 1;
            // A test ping is tried once: its result is the answer to the test.
            let retry_at = (attempts < s.max_attempts && dl.event_type != store::PING).then(|| {
                let d = backoff(s.base, s.max, attempts as u32);
                now() + TimeDelta::from_std(d).unwrap_or(TimeDelta::seconds(1))
            });
            Outcome::Failed {
                status_code: code,
                error,
                retry_at,
            }
        }
    };
    let recorded = db.run(move |c| store::record(c, &dl, outcome, now())).await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "cannot record a webhook attempt");
    }
}

/// One POST; `Ok(status)` on 2xx.
async fn attempt(
    http: &reqwest::Client,
    s: &Settings,
    dl: &Delivery,
    hook: &Webhook,
) -> Result<i32, (Option<i32>, String)> {
    let url = check_target(&hook.url, s.allow_private)
        .await
        .map_err(|e| (None, format!("target refused: {e:?}")))?;
    let t = Utc::now().timestamp();
    let resp = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sign(&hook.secret, t, dl.body.as_bytes()))
        .header(EVENT_HEADER, &dl.event_type)
        .header(DELIVERY_HEADER, &dl.id)
        .body(dl.body.clone())
        .send()
        .await
        .map_err(|e| (None, e.to_string()))?;
    let code = resp.status().as_u16() as i32;
    if resp.status().is_success() {
        Ok(code)
    } else {
        Err((Some(code), format!("HTTP {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let body = br#"{"type":"listing.created"}"#;
        let h = sign("whsec_k", 1_700_000_000, body);
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_k", &h, body, 1_700_000_010, 300));
        assert!(!verify(
            "whsec_k",
            &h,
            br#"{"type":"listing.closed"}"#,
            1_700_000_010,
            300
        ));
        assert!(!verify("other", &h, body, 1_700_000_010, 300));
        assert!(!verify("whsec_k", &h, body, 1_700_001_000, 300), "too old");
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let b = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for n in 1..10u32 {
            let full = b.saturating_mul(1 << (n - 1)).min(max);
            let d = backoff(b, max, n);
            assert!(d >= full / 2 && d <= full, "{n}: {d:?} vs {full:?}");
        }
    }
}
