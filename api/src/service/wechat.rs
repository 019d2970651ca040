//! WeChat mini-program sign-in: the mini-program's `wx.login()` code is
//! exchanged at WeChat (`code2session`) for the user's openid; a bound
//! openid signs its user in. An unbound one is reported; the user then
//! signs in once with a password and sends a fresh code with that access
//! token, which binds the openid to them.

use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::service::error::Status;
use crate::service::error::{ApiError, Code};
use crate::service::sessions::{Sessions, TokenPair, sign_in};
use crate::store::{StoreError, accounts, wechat};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatLogin {
    pub code: String,
}

/// What `code2session` answers (errors carry `errcode`/`errmsg`).
#[derive(Debug, Deserialize)]
struct Session {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// The shared client for WeChat's API.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// WeChat's error codes, mapped to ours.
fn wechat_error(errcode: i64, errmsg: &str) -> ApiError {
    tracing::info!(errcode, errmsg, "code2session refused");
    match errcode {
        40029 => ApiError::unauthorized(Code::WechatCodeInvalid, "微信登录凭证无效，请重新登录"),
        40163 => ApiError::unauthorized(Code::WechatCodeUsed, "微信登录凭证已被使用，请重新登录"),
        45011 => ApiError {
            code: Code::WechatRateLimited,
            ..ApiError::too_many(1, "微信登录过于频繁，请稍后再试")
        },
        40226 => ApiError::new(
            Status::FORBIDDEN,
            Code::WechatUserBlocked,
            "该微信用户被微信判定为高风险，暂不能登录",
        ),
        -1 => ApiError {
            code: Code::WechatUnavailable,
            ..ApiError::unavailable("微信服务繁忙，请稍后再试")
        },
        _ => ApiError::new(
            Status::BAD_GATEWAY,
            Code::WechatError,
            format!("微信登录失败（{errcode}）"),
        ),
    }
}

async fn code2session(
    client: &reqwest::Client,
    cfg: &Config,
    code: &str,
) -> Result<(String, Option<String>), ApiError> {
    let (Some(app_id), Some(secret)) = (&cfg.wechat_app_id, &cfg.wechat_app_secret) else {
        return Err(ApiError::new(
            Status::NOT_FOUND,
            Code::WechatNotConfigured,
            "本服务未配置微信小程序登录",
        ));
    };
    let url = format!(
        "{}/sns/jscode2session",
        cfg.wechat_api_base.trim_end_matches('/')
    );
    let resp = client
        .get(url)
        .query(&[
            ("appid", app_id.as_str()),
            ("secret", secret.as_str()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .map_err(|e| {
            // The URL carries the app secret and the user's code.
            let e = e.without_url();
            tracing::warn!(error = %e, "code2session unreachable");
            ApiError {
                code: Code::WechatUnavailable,
                ..ApiError::unavailable("暂时无法连接微信，请稍后再试")
            }
        })?;
    // WeChat answers JSON, sometimes labelled text/plain.
    let bytes = read_capped(resp, MAX_ANSWER_BYTES)
        .await
        .ok_or_else(|| wechat_error(-2, "answer unreadable or too large"))?;
    let s: Session = serde_json::from_slice(&bytes).map_err(|_| wechat_error(-2, "not JSON"))?;
    if s.errcode != 0 {
        return Err(wechat_error(s.errcode, &truncated(&s.errmsg)));
    }
    let openid = s
        .openid
        .filter(|o| is_wechat_id(o))
        .ok_or_else(|| wechat_error(-3, "no valid openid"))?;
    let unionid = match s.unionid {
        Some(u) if !is_wechat_id(&u) => return Err(wechat_error(-3, "invalid unionid")),
        other => other,
    };
    Ok((openid, unionid))
}

/// A `code2session` answer is a few hundred bytes; more is not WeChat.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The body, or `None` when it cannot be read or exceeds `limit` (read no
/// further than that).
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Option<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return None;
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.ok()? {
        if body.len() + chunk.len() > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

/// WeChat's openids and unionids are 28 URL-safe characters today; what is
/// stored and compared is held to that alphabet and a sane length.
pub fn is_wechat_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// WeChat's `errmsg`, shortened for the log.
fn truncated(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Signs in with a `wx.login` code: tokens for the bound user; with a
/// signed-in user (`binder`), binds the openid to that user first.
pub async fn login(
    sessions: Sessions<'_>,
    client: &reqwest::Client,
    binder: Option<String>,
    body: WechatLogin,
) -> Result<TokenPair, ApiError> {
    let code = body.code;
    if code.trim().is_empty() || code.len() > 256 {
        return Err(ApiError::field(
            "code",
            "invalid_format",
            "须为 wx.login 返回的 code",
        ));
    }
    let (openid, unionid) = code2session(client, sessions.config, code.trim()).await?;
    let binder_id = binder;
    let user = sessions
        .db
        .run(move |c| {
            if let Some(uid) = &binder_id {
                wechat::bind(c, &openid, unionid.as_deref(), uid)?;
                return accounts::get_user(c, uid);
            }
            wechat::user_of(c, &openid)
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                Code::WechatAlreadyBound,
                "该微信或该账号已绑定其他账号或微信",
            ),
            other => other.into(),
        })?;
    let Some(user) = user else {
        return Err(ApiError::new(
            Status::FORBIDDEN,
            Code::WechatBindingRequired,
            "该微信尚未绑定账号：请先用账号密码登录一次，再带上访问令牌用新的 code 绑定",
        ));
    };
    sign_in(sessions, user).await
}
