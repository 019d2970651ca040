//! Webhook subscriptions of an API client (its token with
//! `webhooks:manage`) and their delivery log: the use cases. (The sender
//! is `worker::webhooks`.)

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::pagination::{self, Page};
use crate::service::ssrf::{TargetError, check_target};
use crate::service::validate::Errors;
use crate::service::views::utc;
use crate::store::scopes::ClientAccess;
use crate::store::webhooks::{self as store, Delivery, EVENT_TYPES, Webhook};
use crate::store::{Db, new_id, now, stream};

#[derive(Debug, Serialize)]
pub struct WebhookOut {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookOut,
    pub secret: String,
}

fn webhook_out(h: Webhook) -> WebhookOut {
    WebhookOut {
        id: h.id,
        url: h.url,
        event_types: h.event_types.split(' ').map(str::to_string).collect(),
        status: h.status,
        disabled_reason: h.disabled_reason,
        created_at: utc(h.created_at),
        updated_at: utc(h.updated_at),
    }
}

#[derive(Debug, Serialize)]
pub struct DeliveryOut {
    pub id: String,
    pub event_id: i64,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

fn delivery_out(d: Delivery) -> DeliveryOut {
    DeliveryOut {
        next_attempt_at: (d.status == "pending").then(|| utc(d.next_attempt_at)),
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        status: d.status,
        attempts: d.attempts,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        created_at: utc(d.created_at),
        delivered_at: d.delivered_at.map(utc),
    }
}

/// The calling API client's id: subscriptions belong to clients.
fn client_of(caller: &Caller) -> Result<String, ApiError> {
    caller
        .client
        .as_ref()
        .map(|g| g.client_id.clone())
        .ok_or_else(|| ApiError::forbidden("webhook 由 API 客户端以其令牌管理"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateWebhook {
    pub url: String,
    pub event_types: Vec<String>,
}

/// An API client subscribes to events from now on; the signing secret is
/// answered this once. `allow_private`: targets on private addresses are
/// allowed (a test set-up), `max`: subscriptions per client.
pub async fn create(
    db: &Db,
    allow_private: bool,
    max: usize,
    caller: &Caller,
    b: CreateWebhook,
) -> Result<WebhookWithSecret, ApiError> {
    let client_id = client_of(caller)?;
    let mut e = Errors::default();
    let mut types: Vec<String> = Vec::new();
    for t in &b.event_types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            e.push(
                "event_types",
                "invalid_value",
                format!("未知的事件类型：{t}"),
            );
        } else if let ClientAccess::Needs(scope) = store::access_of(t)
            && !caller
                .client
                .as_ref()
                .is_some_and(|g| g.scopes.contains(scope))
        {
            e.push(
                "event_types",
                "insufficient_scope",
                format!("订阅 {t} 需要权限范围 {scope}"),
            );
        } else if !types.contains(t) {
            types.push(t.clone());
        }
    }
    if b.event_types.is_empty() {
        e.push("event_types", "required", "至少订阅一种事件");
    }
    if b.url.len() > 2048 {
        e.push("url", "too_long", "地址过长");
    }
    e.into_result().map_err(ApiError::validation)?;
    let url = check_target(b.url.trim(), allow_private)
        .await
        .map_err(|e| match e {
            TargetError::Invalid(m) => ApiError::field("url", "invalid_format", m),
            TargetError::Unresolvable => {
                ApiError::field("url", "target_unresolvable", "无法解析该地址的主机名")
            }
            TargetError::Forbidden => ApiError::field(
                "url",
                "target_not_allowed",
                "不能指向本机、链路本地或内网地址",
            ),
        })?;
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    );
    let at = now();
    let mut row = Webhook {
        id: new_id(),
        client_id,
        url: url.to_string(),
        event_types: types.join(" "),
        secret: secret.clone(),
        status: "active".into(),
        disabled_reason: None,
        from_event_id: 0,
        created_at: at,
        updated_at: at,
    };
    let (row, outcome) = db
        .run(move |c| {
            row.from_event_id = stream::head(c)?;
            let outcome = store::insert_capped(c, &row, max)?;
            Ok((row, outcome))
        })
        .await?;
    match outcome {
        store::Capped::Inserted => {}
        store::Capped::Duplicate(id) => {
            return Err(ApiError::conflict(
                Code::WebhookExists,
                format!("已有相同地址和事件类型的订阅：{id}"),
            ));
        }
        store::Capped::Full => {
            return Err(ApiError::conflict(
                Code::WebhookLimitReached,
                format!("每个 API 客户端最多 {max} 个 webhook 订阅，请先删除不用的订阅"),
            ));
        }
    }
    Ok(WebhookWithSecret {
        webhook: webhook_out(row),
        secret,
    })
}

#[derive(Debug, Serialize)]
pub struct WebhookList {
    pub items: Vec<WebhookOut>,
}

/// The calling client's subscriptions.
pub async fn list(db: &Db, caller: &Caller) -> Result<WebhookList, ApiError> {
    let client_id = client_of(caller)?;
    let rows = db.run(move |c| store::of_client(c, &client_id)).await?;
    Ok(WebhookList {
        items: rows.into_iter().map(webhook_out).collect(),
    })
}

async fn own(db: &Db, caller: &Caller, id: String) -> Result<Webhook, ApiError> {
    let client_id = client_of(caller)?;
    db.run(move |c| store::get(c, &id))
        .await?
        .filter(|h| h.client_id == client_id)
        .ok_or_else(|| ApiError::not_found("webhook"))
}

pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<WebhookOut, ApiError> {
    Ok(webhook_out(own(db, caller, id).await?))
}

/// Deletes the subscription and its log.
pub async fn delete(db: &Db, caller: &Caller, id: String) -> Result<(), ApiError> {
    let h = own(db, caller, id).await?;
    db.run(move |c| store::delete(c, &h.id)).await?;
    Ok(())
}

/// Enables a subscription after an automatic disabling; the delivery that
/// gave up is tried again first.
pub async fn enable(db: &Db, caller: &Caller, id: String) -> Result<WebhookOut, ApiError> {
    let h = own(db, caller, id).await?;
    let h = db
        .run(move |c| {
            store::enable(c, &h.id, now())?;
            store::get(c, &h.id)?.ok_or(crate::store::StoreError::NotFound)
        })
        .await?;
    stream::committed();
    Ok(webhook_out(h))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// A subscription's delivery log, newest first.
pub async fn deliveries(
    db: &Db,
    caller: &Caller,
    id: String,
    q: DeliveriesQuery,
) -> Result<Page<DeliveryOut>, ApiError> {
    let h = own(db, caller, id).await?;
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode(q.cursor.as_deref())?;
    let rows = db
        .run(move |c| store::deliveries(c, &h.id, before.as_deref(), limit + 1))
        .await?;
    Ok(Page::from_rows(rows, limit, |d| &d.id, delivery_out))
}
