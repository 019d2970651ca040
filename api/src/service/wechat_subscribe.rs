//! WeChat subscribe messages (订阅消息): which alerts exist (topics), the
//! operator's templates for them, and what each user agreed to.
//!
//! A topic is sent only when its template is configured
//! (`wechat_template_<topic>`), the user signed in through the
//! mini-program (a bound openid), said "allow" in
//! `wx.requestSubscribeMessage` (one consent per message, WeChat's rule)
//! and has not switched the topic off in the app. Sending is the
//! `worker::wechat_push` task's job, never a request's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::service::error::ApiError;
use crate::service::wechat_templates::TOPICS;
use crate::store::Db;
use crate::store::wechat_push::{self as store, Answer, Subscription};

/// One topic as a user sees it.
#[derive(Debug, Serialize)]
pub struct SubscriptionOut {
    pub topic: &'static str,
    pub label: &'static str,
    /// What to pass to `wx.requestSubscribeMessage` (`tmplIds`).
    pub template_id: String,
    /// Messages WeChat still lets the service send (one per "allow").
    pub remaining: i32,
    /// The user's own switch.
    pub enabled: bool,
}

/// The configured topics with the user's consent.
#[derive(Debug, Serialize)]
pub struct SubscriptionsOut {
    /// Whether this user can receive any (signed in through WeChat).
    pub wechat_bound: bool,
    pub data: Vec<SubscriptionOut>,
}

fn outline(cfg: &Config, rows: &[Subscription], bound: bool) -> SubscriptionsOut {
    let data = TOPICS
        .iter()
        .filter_map(|(topic, _, label)| {
            let t = cfg.wechat_templates.get(topic)?;
            let row = rows.iter().find(|r| r.topic == *topic);
            Some(SubscriptionOut {
                topic,
                label,
                template_id: t.id.clone(),
                remaining: row.map_or(0, |r| r.remaining),
                enabled: row.is_none_or(|r| r.enabled),
            })
        })
        .collect();
    SubscriptionsOut {
        wechat_bound: bound,
        data,
    }
}

/// `GET /api/v1/me/wechat-subscriptions`.
pub async fn list(db: &Db, cfg: &Config, user_id: String) -> Result<SubscriptionsOut, ApiError> {
    let (rows, bound) = db
        .run(move |c| {
            Ok((
                store::of_user(c, &user_id)?,
                crate::store::lifecycle::has_wechat(c, &user_id)?,
            ))
        })
        .await?;
    Ok(outline(cfg, &rows, bound))
}

/// What `wx.requestSubscribeMessage` answered, by template id
/// (`accept`, `reject`, `ban`, `filter`; its `errMsg` may be sent along).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub results: BTreeMap<String, String>,
}

/// `POST /api/v1/me/wechat-subscriptions`: records the user's answers.
pub async fn answer(
    db: &Db,
    cfg: &Config,
    user_id: String,
    body: Answers,
) -> Result<SubscriptionsOut, ApiError> {
    let mut answers = Vec::new();
    for (template_id, result) in &body.results {
        if template_id == "errMsg" {
            continue;
        }
        let field = format!("results.{template_id}");
        let Some(topic) = cfg.wechat_templates.topic_of_template(template_id) else {
            return Err(ApiError::field(
                &field,
                "unknown_template",
                "不是本服务配置的订阅消息模板",
            ));
        };
        let a = match result.as_str() {
            "accept" => Answer::Accept,
            "reject" | "filter" => Answer::Reject,
            "ban" => Answer::Ban,
            _ => {
                return Err(ApiError::field(
                    &field,
                    "invalid_value",
                    "须为 accept、reject、ban 或 filter",
                ));
            }
        };
        answers.push((topic, a));
    }
    if answers.is_empty() {
        return Err(ApiError::field(
            "results",
            "required",
            "须含至少一个模板的结果",
        ));
    }
    let uid = user_id.clone();
    db.run(move |c| store::answer(c, &uid, &answers)).await?;
    list(db, cfg, user_id).await
}

/// `PATCH /api/v1/me/wechat-subscriptions/{topic}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub enabled: bool,
}

/// The user turns a topic on or off.
pub async fn switch(
    db: &Db,
    cfg: &Config,
    user_id: String,
    topic: String,
    body: Switch,
) -> Result<SubscriptionsOut, ApiError> {
    let Some(topic) = TOPICS
        .iter()
        .map(|(t, _, _)| *t)
        .find(|t| *t == topic && cfg.wechat_templates.get(t).is_some())
    else {
        return Err(ApiError::not_found("订阅消息主题"));
    };
    let uid = user_id.clone();
    db.run(move |c| store::set_enabled(c, &uid, topic, body.enabled))
        .await?;
    list(db, cfg, user_id).await
}
