//! Webhook subscriptions of an API client and their delivery log: the use
//! cases, for the client itself (its token with `webhooks:manage`) and for
//! the staff and platform admins who manage the client (the console), whose
//! every action is audited. (The sender is `worker::webhooks`.)

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::pagination::{self, Page};
use crate::service::ssrf::{TargetError, check_target};
use crate::service::validate::Errors;
use crate::service::views::utc;
use crate::store::clients::ApiClient;
use crate::store::scopes::{ClientAccess, Scopes};
use crate::store::webhooks::{self as store, Delivery, EVENT_TYPES, Webhook};
use crate::store::{Db, DbConnection, StoreResult, new_id, now, stream};
use diesel::Connection;

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
    /// For a resend: the delivery it sends again.
    pub resend_of: Option<String>,
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
        resend_of: d.resend_of,
    }
}

/// Whose subscriptions a use case acts on: the calling API client's own,
/// or those of a client that staff or a platform admin manage (audited).
pub struct Owner {
    client_id: String,
    /// What the client may be sent: its token's scopes, or, for staff, the
    /// client's grant.
    scopes: Scopes,
    /// Staff or admin acting for the client.
    staff: Option<(Caller, ApiClient)>,
}

impl Owner {
    /// The calling API client.
    pub fn client(caller: &Caller) -> Result<Owner, ApiError> {
        let g = caller
            .client
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("webhook 由 API 客户端以其令牌管理"))?;
        Ok(Owner {
            client_id: g.client_id.clone(),
            scopes: g.scopes.clone(),
            staff: None,
        })
    }

    /// Client `client_id`, for staff of its community or a platform admin
    /// (404 for anyone else).
    pub async fn managed_by(
        db: &Db,
        caller: &Caller,
        client_id: String,
    ) -> Result<Owner, ApiError> {
        let c = crate::service::clients::managed(db, caller, client_id).await?;
        Ok(Owner {
            client_id: c.id.clone(),
            scopes: Scopes::parse(&c.scopes).unwrap_or_default(),
            staff: Some((caller.clone(), c)),
        })
    }

    /// Inside the action's transaction: its audit entry, when staff act.
    fn audit(
        &self,
        c: &mut DbConnection,
        action: &str,
        hook: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        match &self.staff {
            Some((caller, client)) => crate::service::clients::audited(
                c,
                caller,
                client,
                action,
                ("webhook", hook),
                detail,
            ),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateWebhook {
    pub url: String,
    pub event_types: Vec<String>,
}

/// Subscribes the owner's client to events from now on; the signing secret
/// is answered this once. `allow_private`: targets on private addresses
/// are allowed (a test set-up), `max`: subscriptions per client.
pub async fn create(
    db: &Db,
    allow_private: bool,
    max: usize,
    owner: Owner,
    b: CreateWebhook,
) -> Result<WebhookWithSecret, ApiError> {
    if let Some((_, c)) = &owner.staff
        && c.revoked_at.is_some()
    {
        return Err(ApiError::conflict(
            Code::ClientRevoked,
            "该 API 客户端已吊销",
        ));
    }
    let client_id = owner.client_id.clone();
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
            && !owner.scopes.contains(scope)
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
            c.transaction(|c| {
                // The write lock first (SQLite): a read before it could not
                // be upgraded while another connection writes.
                crate::store::begin_write(c)?;
                row.from_event_id = stream::head(c)?;
                let outcome = store::insert_capped(c, &row, max)?;
                if let store::Capped::Inserted = outcome {
                    let detail =
                        serde_json::json!({ "url": row.url, "event_types": row.event_types });
                    owner.audit(c, "webhook.created", &row.id, detail)?;
                }
                Ok((row, outcome))
            })
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

/// The owner's subscriptions.
pub async fn list(db: &Db, owner: Owner) -> Result<WebhookList, ApiError> {
    let client_id = owner.client_id;
    let rows = db.run(move |c| store::of_client(c, &client_id)).await?;
    Ok(WebhookList {
        items: rows.into_iter().map(webhook_out).collect(),
    })
}

/// A subscription of the owner's client, or 404.
async fn own(db: &Db, owner: &Owner, id: String) -> Result<Webhook, ApiError> {
    let client_id = owner.client_id.clone();
    db.run(move |c| store::get(c, &id))
        .await?
        .filter(|h| h.client_id == client_id)
        .ok_or_else(|| ApiError::not_found("webhook"))
}

pub async fn get(db: &Db, owner: Owner, id: String) -> Result<WebhookOut, ApiError> {
    Ok(webhook_out(own(db, &owner, id).await?))
}

/// Deletes the subscription and its log.
pub async fn delete(db: &Db, owner: Owner, id: String) -> Result<(), ApiError> {
    let h = own(db, &owner, id).await?;
    db.run(move |c| {
        c.transaction(|c| {
            store::delete(c, &h.id)?;
            let detail = serde_json::json!({ "url": h.url });
            owner.audit(c, "webhook.deleted", &h.id, detail)
        })
    })
    .await?;
    Ok(())
}

/// Enables a subscription (after an automatic or a manual disabling); the
/// deliveries that gave up are tried again first.
pub async fn enable(db: &Db, owner: Owner, id: String) -> Result<WebhookOut, ApiError> {
    let h = own(db, &owner, id).await?;
    let h = db
        .run(move |c| {
            c.transaction(|c| {
                store::enable(c, &h.id, now())?;
                if h.status != "active" {
                    let detail = serde_json::json!({ "url": h.url });
                    owner.audit(c, "webhook.enabled", &h.id, detail)?;
                }
                store::get(c, &h.id)?.ok_or(crate::store::StoreError::NotFound)
            })
        })
        .await?;
    stream::committed();
    Ok(webhook_out(h))
}

/// Stops deliveries by hand (idempotent): events keep being queued and are
/// sent, in order, once it is enabled again.
pub async fn disable(db: &Db, owner: Owner, id: String) -> Result<WebhookOut, ApiError> {
    let h = own(db, &owner, id).await?;
    let reason = match &owner.staff {
        Some((caller, _)) if !caller.platform_admin => "disabled by community staff",
        Some(_) => "disabled by a platform admin",
        None => "disabled by the client",
    };
    let h = db
        .run(move |c| {
            c.transaction(|c| {
                if h.status == "active" {
                    store::disable(c, &h.id, reason, now())?;
                    let detail = serde_json::json!({ "url": h.url });
                    owner.audit(c, "webhook.disabled", &h.id, detail)?;
                }
                store::get(c, &h.id)?.ok_or(crate::store::StoreError::NotFound)
            })
        })
        .await?;
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
    owner: Owner,
    id: String,
    q: DeliveriesQuery,
) -> Result<Page<DeliveryOut>, ApiError> {
    let h = own(db, &owner, id).await?;
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode(q.cursor.as_deref())?;
    let rows = db
        .run(move |c| store::deliveries(c, &h.id, before.as_deref(), limit + 1))
        .await?;
    Ok(Page::from_rows(rows, limit, |d| &d.id, delivery_out))
}

/// Deliveries of a disabled subscription wait: a test or a resend on one
/// would never be sent.
fn require_active(h: &Webhook) -> Result<(), ApiError> {
    if h.status == "active" {
        Ok(())
    } else {
        Err(ApiError::conflict(
            Code::WebhookDisabled,
            "该 webhook 已停用，请先启用",
        ))
    }
}

/// A test delivery: an event of type `ping` (event id 0) queued on the
/// subscription's outbox ahead of its events, signed and sent by the
/// sender like any other, tried once; its result is in the delivery log.
pub async fn ping(db: &Db, owner: Owner, id: String) -> Result<DeliveryOut, ApiError> {
    let h = own(db, &owner, id).await?;
    require_active(&h)?;
    let at = now();
    let mut row = Delivery {
        id: new_id(),
        webhook_id: h.id.clone(),
        event_id: 0,
        event_type: store::PING.into(),
        body: String::new(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: at,
        last_status_code: None,
        last_error: None,
        created_at: at,
        delivered_at: None,
        resend_of: None,
    };
    row.body = serde_json::json!({
        "id": row.id,
        "type": store::PING,
        "webhook_id": h.id,
        "event_id": 0,
        "occurred_at": utc(at),
        "data": { "message": "智企连 webhook 测试推送", "client_id": h.client_id },
    })
    .to_string();
    let row = db
        .run(move |c| {
            c.transaction(|c| {
                store::enqueue(c, &row)?;
                let detail = serde_json::json!({ "url": h.url, "delivery_id": row.id });
                owner.audit(c, "webhook.test_sent", &h.id, detail)?;
                Ok(row)
            })
        })
        .await?;
    stream::committed();
    Ok(delivery_out(row))
}

/// Sends a delivery again: a new delivery of the same body (the event's
/// payload, its `id` unchanged so that receivers can tell a repeat) queued
/// on the outbox, with its own attempts and result. Not while the
/// delivery is still pending.
pub async fn resend(
    db: &Db,
    owner: Owner,
    id: String,
    delivery_id: String,
) -> Result<DeliveryOut, ApiError> {
    let h = own(db, &owner, id).await?;
    let hook_id = h.id.clone();
    let dl = db
        .run(move |c| store::get_delivery(c, &delivery_id))
        .await?
        .filter(|d| d.webhook_id == hook_id)
        .ok_or_else(|| ApiError::not_found("投递记录"))?;
    if dl.status == "pending" {
        return Err(ApiError::conflict(
            Code::DeliveryPending,
            "该投递尚在发送队列中，无需重发",
        ));
    }
    require_active(&h)?;
    let at = now();
    let row = Delivery {
        id: new_id(),
        webhook_id: h.id.clone(),
        event_id: dl.event_id,
        event_type: dl.event_type.clone(),
        body: dl.body.clone(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: at,
        last_status_code: None,
        last_error: None,
        created_at: at,
        delivered_at: None,
        resend_of: Some(dl.id.clone()),
    };
    let row = db
        .run(move |c| {
            c.transaction(|c| {
                store::enqueue(c, &row)?;
                let detail = serde_json::json!({
                    "url": h.url,
                    "delivery_id": row.id,
                    "resend_of": dl.id,
                    "event_type": dl.event_type,
                });
                owner.audit(c, "webhook.delivery_resent", &h.id, detail)?;
                Ok(row)
            })
        })
        .await?;
    stream::committed();
    Ok(delivery_out(row))
}
