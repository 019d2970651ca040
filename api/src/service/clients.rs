//! API clients of third-party apps (created by community staff and
//! platform admins for a firm or a community) and the OAuth 2.0
//! client-credentials grant that turns a client's secret into a scoped
//! access token.

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::pagination::{self, Page};
use crate::service::tokens::{Claims, JwtKeys};
use crate::service::validate::Errors;
use crate::service::views::utc;
use crate::store::audit;
use crate::store::clients::{self as store, ApiClient, NewClient};
use crate::store::scopes::Scopes;
use crate::store::{Db, DbConnection, StoreResult, accounts, now, stream};

/// The prefix that makes a leaked secret recognisable to secret scanners.
const SECRET_PREFIX: &str = "zqs_";

#[derive(Debug, Serialize)]
pub struct ClientOut {
    pub id: String,
    pub name: String,
    pub firm_id: Option<String>,
    pub community_id: String,
    pub scopes: Vec<&'static str>,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A client with its secret: answered once, on creation and rotation.
#[derive(Debug, Serialize)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientOut,
    pub client_secret: String,
}

fn client_out(c: ApiClient) -> ClientOut {
    ClientOut {
        scopes: Scopes::parse(&c.scopes).unwrap_or_default().names(),
        status: if c.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        },
        id: c.id,
        name: c.name,
        firm_id: c.firm_id,
        community_id: c.community_id,
        created_at: utc(c.created_at),
        secret_rotated_at: c.secret_rotated_at.map(utc),
        revoked_at: c.revoked_at.map(utc),
    }
}

fn new_secret() -> (String, String) {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    let secret = format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    );
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// Secrets carry 256 random bits, so a plain SHA-256 is enough to store.
fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Inside the action's transaction: the staff member or admin who acts.
/// Inside the action's transaction: the audit entry of an action on a
/// client (its community's log).
pub(crate) fn audited(
    c: &mut DbConnection,
    caller: &Caller,
    client: &ApiClient,
    action: &str,
    subject: (&str, &str),
    detail: serde_json::Value,
) -> StoreResult<()> {
    let actor = accounts::actor(c, &caller.user_id)?;
    let mut detail = detail;
    if let Some(o) = detail.as_object_mut() {
        o.insert("client".into(), client.name.clone().into());
    }
    audit::record(
        c,
        &actor,
        &client.community_id,
        action,
        None,
        subject,
        detail,
    )?;
    Ok(())
}

fn require_manager(caller: &Caller) -> Result<(), ApiError> {
    if caller.platform_admin || caller.staff_community.is_some() {
        Ok(())
    } else {
        Err(ApiError::forbidden("需要社区工作人员或平台管理员权限"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateClient {
    pub name: String,
    pub firm_id: Option<String>,
    pub community_id: Option<String>,
    pub scopes: Vec<String>,
}

/// A client for one firm or one community.
pub async fn create(
    db: &Db,
    caller: &Caller,
    b: CreateClient,
) -> Result<ClientWithSecret, ApiError> {
    require_manager(caller)?;
    let mut e = Errors::default();
    let name = e.text("name", &b.name, 2, 64);
    let scopes = match Scopes::from_names(b.scopes.iter().map(String::as_str)) {
        Ok(s) if s.is_empty() => {
            e.push("scopes", "required", "至少授予一个权限范围");
            Scopes::default()
        }
        Ok(s) => s,
        Err(m) => {
            e.push("scopes", "invalid_value", m);
            Scopes::default()
        }
    };
    if b.firm_id.is_some() == b.community_id.is_some() {
        e.push(
            "firm_id",
            "invalid_value",
            "firm_id 与 community_id 须且只须给出一个",
        );
    }
    e.into_result().map_err(ApiError::validation)?;

    let (firm_id, community_id) = match (b.firm_id, b.community_id) {
        (Some(f), _) => {
            let fid = f.clone();
            let firm = db
                .run(move |c| accounts::get_firm(c, &fid))
                .await?
                .ok_or_else(|| ApiError::field("firm_id", "not_found", "企业不存在"))?;
            (Some(f), firm.community_id)
        }
        (None, Some(cid)) => {
            let id = cid.clone();
            db.run(move |c| accounts::get_community(c, &id))
                .await?
                .ok_or_else(|| ApiError::field("community_id", "not_found", "社区不存在"))?;
            (None, cid)
        }
        (None, None) => return Err(ApiError::internal("neither firm nor community")),
    };
    if !caller.can_administer_community(&community_id) {
        return Err(ApiError::forbidden(
            "只能为本社区的企业或本社区创建 API 客户端",
        ));
    }
    let (secret, secret_hash) = new_secret();
    let row = NewClient {
        name,
        firm_id,
        community_id,
        scopes: scopes.to_string(),
        secret_hash,
        created_by: caller.user_id.clone(),
    };
    let by = caller.clone();
    let client = db
        .run(move |c| {
            c.transaction(|c| {
                let client = store::create(c, row)?;
                let detail =
                    serde_json::json!({ "scopes": client.scopes, "firm_id": client.firm_id });
                audited(
                    c,
                    &by,
                    &client,
                    "client.created",
                    ("api_client", &client.id),
                    detail,
                )?;
                Ok(client)
            })
        })
        .await?;
    Ok(ClientWithSecret {
        client: client_out(client),
        client_secret: secret,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/clients`: staff see their community's, admins all.
pub async fn list(db: &Db, caller: &Caller, q: ListQuery) -> Result<Page<ClientOut>, ApiError> {
    require_manager(caller)?;
    let limit = pagination::limit(q.limit)?;
    let after = pagination::decode(q.cursor.as_deref())?;
    let community = if caller.platform_admin {
        None
    } else {
        caller.staff_community.clone()
    };
    let rows = db
        .run(move |c| store::list(c, community.as_deref(), after.as_deref(), limit + 1))
        .await?;
    Ok(Page::from_rows(rows, limit, |c| &c.id, client_out))
}

/// A client the caller manages (staff of its community, platform
/// admins), or 404.
pub(crate) async fn managed(db: &Db, caller: &Caller, id: String) -> Result<ApiClient, ApiError> {
    require_manager(caller)?;
    db.run(move |c| store::get(c, &id))
        .await?
        .filter(|c| caller.can_administer_community(&c.community_id))
        .ok_or_else(|| ApiError::not_found("API 客户端"))
}

pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<ClientOut, ApiError> {
    Ok(client_out(managed(db, caller, id).await?))
}

/// `POST /api/v1/clients/{id}/rotate`: a new secret; the old one, the
/// tokens and stream tickets issued for it and the streams they opened stop
/// working at once.
pub async fn rotate(db: &Db, caller: &Caller, id: String) -> Result<ClientWithSecret, ApiError> {
    let c = managed(db, caller, id).await?;
    let (secret, hash) = new_secret();
    let by = caller.clone();
    let updated = db
        .run(move |conn| {
            conn.transaction(|conn| {
                let updated = store::set_secret(conn, &c.id, &hash, now())?;
                if let Some(u) = &updated {
                    let detail = serde_json::json!({});
                    audited(
                        conn,
                        &by,
                        u,
                        "client.secret_rotated",
                        ("api_client", &u.id),
                        detail,
                    )?;
                }
                Ok(updated)
            })
        })
        .await?
        .ok_or_else(|| ApiError::conflict(Code::ClientRevoked, "该 API 客户端已吊销"))?;
    stream::committed();
    Ok(ClientWithSecret {
        client: client_out(updated),
        client_secret: secret,
    })
}

/// `POST /api/v1/clients/{id}/revoke`: for good (idempotent); its tokens,
/// stream tickets and open streams end at once.
pub async fn revoke(db: &Db, caller: &Caller, id: String) -> Result<ClientOut, ApiError> {
    let c = managed(db, caller, id).await?;
    let by = caller.clone();
    let was_live = c.revoked_at.is_none();
    let updated = db
        .run(move |conn| {
            conn.transaction(|conn| {
                let updated = store::revoke(conn, &c.id, now())?;
                if let Some(u) = updated.as_ref().filter(|_| was_live) {
                    let detail = serde_json::json!({});
                    audited(
                        conn,
                        &by,
                        u,
                        "client.revoked",
                        ("api_client", &u.id),
                        detail,
                    )?;
                }
                Ok(updated)
            })
        })
        .await?
        .ok_or_else(|| ApiError::not_found("API 客户端"))?;
    stream::committed();
    Ok(client_out(updated))
}

/// The token request (RFC 6749 §4.4), form-encoded.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenOut {
    /// Whose token (counted in the client's usage; not answered).
    #[serde(skip)]
    pub client_id: String,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

fn invalid_client() -> ApiError {
    ApiError::unauthorized(Code::InvalidClient, "API 客户端身份验证失败")
}

/// `POST /api/v1/oauth/token`: `grant_type=client_credentials` with the
/// client's id and secret (HTTP Basic or form fields); `scope` may narrow
/// what the client was granted.
///
/// `credentials`: the client id and secret as presented (HTTP Basic, else
/// the form's fields).
pub async fn token(
    db: &Db,
    jwt: &JwtKeys,
    credentials: Option<(String, String)>,
    form: TokenRequest,
) -> Result<TokenOut, ApiError> {
    if form.grant_type != "client_credentials" {
        return Err(ApiError::bad_request(
            Code::UnsupportedGrantType,
            "grant_type 须为 client_credentials",
        ));
    }
    let (id, secret) = credentials.ok_or_else(invalid_client)?;
    let presented = hash_secret(&secret);
    let client = if uuid::Uuid::parse_str(&id).is_ok() {
        db.run(move |c| store::get(c, &id)).await?
    } else {
        None
    };
    let Some(client) =
        client.filter(|c| same(&c.secret_hash, &presented) && c.revoked_at.is_none())
    else {
        return Err(invalid_client());
    };
    let granted = Scopes::parse(&client.scopes).unwrap_or_default();
    let scopes = match form.scope.as_deref().map(str::trim) {
        None | Some("") => granted,
        Some(asked) => Scopes::parse(asked)
            .ok()
            .filter(|s| !s.is_empty() && s.is_subset_of(&granted))
            .ok_or_else(|| {
                ApiError::bad_request(Code::InvalidScope, "所请求的权限范围超出了该客户端的授权")
            })?,
    };
    let firm_community = match &client.firm_id {
        Some(_) => Some(client.community_id.clone()),
        None => None,
    };
    let iat = Utc::now().timestamp();
    let claims = Claims {
        sub: client.user_id.clone(),
        iss: jwt.issuer.clone(),
        aud: jwt.audience.clone(),
        iat,
        exp: iat + jwt.ttl_secs,
        adm: false,
        frole: client.firm_id.as_ref().map(|_| "member".to_string()),
        firm: client.firm_id.clone(),
        fcmty: firm_community,
        staff: match &client.firm_id {
            Some(_) => None,
            None => Some(client.community_id.clone()),
        },
        cid: Some(client.id.clone()),
        scope: Some(scopes.to_string()),
        crot: store::secret_version(&client),
        sv: None,
    };
    let access = jwt.sign(&claims).map_err(ApiError::internal)?;
    Ok(TokenOut {
        client_id: client.id.clone(),
        access_token: access,
        token_type: "Bearer",
        expires_in: jwt.ttl_secs,
        scope: scopes.to_string(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// Days up to today (China Standard Time), 1–90; 30 by default.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct UsageDayOut {
    pub day: String,
    pub requests: i64,
    pub errors: i64,
    pub tokens: i64,
}

#[derive(Debug, Serialize)]
pub struct UsageTotals {
    pub requests: i64,
    pub errors: i64,
    pub tokens: i64,
}

#[derive(Debug, Serialize)]
pub struct UsageOut {
    pub client_id: String,
    pub from: String,
    pub to: String,
    /// The last request with one of its tokens (any day), if any.
    pub last_used_at: Option<DateTime<Utc>>,
    pub totals: UsageTotals,
    /// Every day of the window, oldest first (days without use are zeros).
    pub days: Vec<UsageDayOut>,
}

/// `GET /api/v1/clients/{id}/usage`: requests, errors and tokens per day.
/// This node's counts not yet written are written first; other nodes'
/// arrive within [`crate::service::usage::FLUSH_EVERY`].
pub async fn usage(
    db: &Db,
    meter: &crate::service::usage::Meter,
    caller: &Caller,
    id: String,
    q: UsageQuery,
) -> Result<UsageOut, ApiError> {
    let n = q.days.unwrap_or(30);
    if !(1..=90).contains(&n) {
        return Err(ApiError::field(
            "days",
            "out_of_range",
            "days 须在 1 到 90 之间",
        ));
    }
    let c = managed(db, caller, id).await?;
    if let Err(e) = meter.flush(db).await {
        tracing::warn!(error = %e, "cannot write API client usage");
    }
    let to = crate::service::usage::day_of(now());
    let from = to - chrono::Days::new(u64::from(n - 1));
    let (cid, f) = (c.id.clone(), from.to_string());
    let (rows, last) = db.run(move |conn| store::usage(conn, &cid, &f)).await?;
    let mut days = Vec::new();
    let mut totals = UsageTotals {
        requests: 0,
        errors: 0,
        tokens: 0,
    };
    for d in from.iter_days().take(n as usize) {
        let key = d.to_string();
        let (requests, errors, tokens) = rows
            .iter()
            .find(|r| r.day == key)
            .map_or((0, 0, 0), |r| (r.requests, r.errors, r.tokens));
        totals.requests += requests;
        totals.errors += errors;
        totals.tokens += tokens;
        days.push(UsageDayOut {
            day: key,
            requests,
            errors,
            tokens,
        });
    }
    Ok(UsageOut {
        client_id: c.id,
        from: from.to_string(),
        to: to.to_string(),
        last_used_at: last.map(utc),
        totals,
        days,
    })
}
