//! WeChat subscribe messages (订阅消息): one task per node queues alerts
//! from the event log (`store::wechat_push`) and sends what is due through
//! WeChat's `subscribeMessage.send`, with the app's stable access token
//! cached and refreshed. Nothing here runs inside a request: a slow or
//! failing WeChat never delays the API.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::service::wechat_templates::{Template, Templates, topic_of};
use crate::store::wechat_push::{self as store, Outcome, Push};
use crate::store::{Db, now};
use crate::worker::task::Task;

/// Events read per fan-out transaction.
const FAN_OUT_BATCH: i64 = 500;
/// Pushes sent per round.
const SEND_BATCH: i64 = 50;
/// How long one node holds a push it is sending.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// At most one alert per thread (or subject) per user in this time.
pub const QUIET: TimeDelta = TimeDelta::minutes(15);
/// Attempts before a push is given up.
const MAX_ATTEMPTS: i32 = 5;

/// What a node needs to send.
#[derive(Clone)]
struct Settings {
    api_base: String,
    app_id: String,
    secret: String,
    templates: Templates,
    state: String,
}

/// The app's access token, shared by this node's sends.
#[derive(Default)]
struct TokenCache {
    token: Option<(String, Instant)>,
}

/// Starts the node's push task; `None` when WeChat or no template is
/// configured (nothing is queued then).
pub fn start(db: Db, config: &Config) -> anyhow::Result<Option<Task>> {
    let (Some(app_id), Some(secret)) = (&config.wechat_app_id, &config.wechat_app_secret) else {
        return Ok(None);
    };
    if config.wechat_templates.is_empty() {
        return Ok(None);
    }
    let settings = Settings {
        api_base: config.wechat_api_base.trim_end_matches('/').to_string(),
        app_id: app_id.clone(),
        secret: secret.clone(),
        templates: config.wechat_templates.clone(),
        state: config.wechat_miniprogram_state.clone(),
    };
    let http = crate::service::wechat::http_client()?;
    Ok(Some(Task::rounds(
        "wechat push",
        Node {
            db,
            http,
            settings,
            tokens: Mutex::new(TokenCache::default()),
        },
        node_round,
    )))
}

async fn node_round(n: &Node) -> crate::store::StoreResult<Duration> {
    round(&n.db, &n.http, &n.settings, &n.tokens).await
}

/// What the node's task holds.
struct Node {
    db: Db,
    http: reqwest::Client,
    settings: Settings,
    tokens: Mutex<TokenCache>,
}

async fn round(
    db: &Db,
    http: &reqwest::Client,
    s: &Settings,
    tokens: &Mutex<TokenCache>,
) -> crate::store::StoreResult<Duration> {
    let templates = s.templates.clone();
    loop {
        let t = templates.clone();
        let moved = db
            .run(move |c| {
                store::fan_out(c, FAN_OUT_BATCH, QUIET, &|kind| {
                    topic_of(kind).filter(|topic| t.get(topic).is_some())
                })
            })
            .await?;
        if (moved as i64) < FAN_OUT_BATCH {
            break;
        }
    }
    let due = db.run(|c| store::due(c, now(), SEND_BATCH)).await?;
    for (push, openid) in due {
        send(db, http, s, tokens, push, openid).await;
    }
    let next = db.run(store::next_due).await?;
    let wait = match next {
        Some(t) => (t - now()).to_std().unwrap_or(Duration::ZERO),
        None => Duration::from_secs(1),
    };
    Ok(wait.clamp(Duration::from_millis(20), Duration::from_secs(1)))
}

async fn send(
    db: &Db,
    http: &reqwest::Client,
    s: &Settings,
    tokens: &Mutex<TokenCache>,
    push: Push,
    openid: String,
) {
    let claimed = {
        let push = push.clone();
        db.run(move |c| store::claim(c, &push, now() + LEASE)).await
    };
    if !matches!(claimed, Ok(true)) {
        return;
    }
    let outcome = match s.templates.get(&push.topic) {
        Some(template) => attempt(http, s, tokens, template, &push, &openid).await,
        // The template was removed from the configuration since.
        None => Err(Failure::Permanent(None, "no template for the topic".into())),
    };
    let outcome = match outcome {
        Ok(()) => Outcome::Sent,
        Err(Failure::Refused(errcode, error)) => Outcome::Refused { errcode, error },
        Err(Failure::Permanent(errcode, error)) => Outcome::Failed {
            errcode,
            error,
            retry_at: None,
        },
        Err(Failure::Retry(errcode, error)) => {
            let attempts = push.attempts + 1;
            let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                let d = crate::worker::webhooks::backoff(
                    Duration::from_secs(2),
                    Duration::from_secs(600),
                    attempts as u32,
                );
                now() + TimeDelta::from_std(d).unwrap_or(TimeDelta::seconds(2))
            });
            Outcome::Failed {
                errcode,
                error,
                retry_at,
            }
        }
    };
    if outcome != Outcome::Sent {
        tracing::info!(push = %push.id, ?outcome, "wechat push not sent");
    }
    if let Err(e) = db.run(move |c| store::record(c, &push, &outcome)).await {
        tracing::warn!(error = %e, "cannot record a wechat push");
    }
}

/// Why an attempt did not send.
#[derive(Debug)]
enum Failure {
    /// The user gave no consent (43101).
    Refused(i64, String),
    /// Worth trying again later.
    Retry(Option<i64>, String),
    /// Will never succeed as it is.
    Permanent(Option<i64>, String),
}

/// WeChat's answer to `stable_token` and `subscribeMessage.send`.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// Codes that mean the access token is bad or expired.
fn token_error(errcode: i64) -> bool {
    matches!(errcode, 40001 | 40014 | 42001)
}

async fn attempt(
    http: &reqwest::Client,
    s: &Settings,
    tokens: &Mutex<TokenCache>,
    template: &Template,
    push: &Push,
    openid: &str,
) -> Result<(), Failure> {
    let body = serde_json::json!({
        "touser": openid,
        "template_id": template.id,
        "page": format!("pages/notifications/index?open={}", push.notification_id),
        "data": template.render(&push.title, &push.body, push.created_at),
        "miniprogram_state": s.state,
        "lang": "zh_CN",
    });
    let mut refreshed = false;
    loop {
        let token = token(http, s, tokens, refreshed).await?;
        let a = post(
            http,
            &format!("{}/cgi-bin/message/subscribe/send", s.api_base),
            Some(&token),
            &body,
        )
        .await?;
        return match a.errcode {
            0 => Ok(()),
            // A bad or expired token: refreshed once, then tried again.
            e if token_error(e) && !refreshed => {
                refreshed = true;
                continue;
            }
            43101 => Err(Failure::Refused(43101, a.errmsg)),
            // System busy, frequency limits.
            -1 | 45009 | 45047 => Err(Failure::Retry(Some(a.errcode), a.errmsg)),
            e if token_error(e) => Err(Failure::Retry(Some(e), a.errmsg)),
            // Bad template, data, page or openid: trying again changes nothing.
            e => Err(Failure::Permanent(Some(e), a.errmsg)),
        };
    }
}

/// The cached access token, fetched through `stable_token` when missing,
/// near expiry or `force` (after WeChat refused it).
async fn token(
    http: &reqwest::Client,
    s: &Settings,
    tokens: &Mutex<TokenCache>,
    force: bool,
) -> Result<String, Failure> {
    let mut cache = tokens.lock().await;
    if !force
        && let Some((t, until)) = &cache.token
        && Instant::now() < *until
    {
        return Ok(t.clone());
    }
    let body = serde_json::json!({
        "grant_type": "client_credential",
        "appid": s.app_id,
        "secret": s.secret,
        "force_refresh": force,
    });
    let a = post(
        http,
        &format!("{}/cgi-bin/stable_token", s.api_base),
        None,
        &body,
    )
    .await?;
    match (a.errcode, a.access_token) {
        (0, Some(t)) if !t.is_empty() => {
            // Refreshed five minutes early (WeChat gives 7,200 s).
            let secs = a.expires_in.unwrap_or(7200).saturating_sub(300).max(60);
            cache.token = Some((t.clone(), Instant::now() + Duration::from_secs(secs)));
            Ok(t)
        }
        (e, _) => {
            cache.token = None;
            Err(Failure::Retry(
                Some(e),
                format!("stable_token: {}", a.errmsg),
            ))
        }
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> Result<Answer, Failure> {
    let mut req = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.query(&[("access_token", t)]);
    }
    let resp = req
        .send()
        .await
        // The URL carries the access token.
        .map_err(|e| Failure::Retry(None, e.without_url().to_string()))?;
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Failure::Retry(None, e.without_url().to_string()))?;
    if bytes.len() > 16 * 1024 {
        return Err(Failure::Retry(None, "answer too large".into()));
    }
    serde_json::from_slice(&bytes).map_err(|_| Failure::Retry(None, "answer is not JSON".into()))
}
