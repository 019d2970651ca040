//! Sign-in sessions: password sign-in with its throttle, token refresh
//! with rotation (a reused refresh token ends its whole family), sign-out,
//! and who-am-I.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::password;
use crate::service::tokens::{Claims, JwtKeys, hash_refresh_token, new_refresh_token};
use crate::service::validate::Login;
use crate::store::Db;
use crate::store::accounts::{self, Roles, Rotation};
use crate::store::models::{RefreshToken, User};
use crate::store::{new_id, now};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// What issuing sessions needs: the database, the signing keys, the
/// configuration (token lifetimes, the sign-in throttle) and the hash that
/// keeps a sign-in for an unknown account as slow as for a known one.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub db: &'a Db,
    pub jwt: &'a JwtKeys,
    pub config: &'a Config,
    pub dummy_hash: &'a str,
}

fn claims_for(
    state: &Sessions<'_>,
    user: &User,
    roles: &Roles,
    firm_community: Option<String>,
) -> Claims {
    let iat = chrono::Utc::now().timestamp();
    Claims {
        sub: user.id.clone(),
        iss: state.jwt.issuer.clone(),
        aud: state.jwt.audience.clone(),
        iat,
        exp: iat + state.jwt.ttl_secs,
        adm: roles.platform_admin,
        firm: roles.membership.as_ref().map(|m| m.firm_id.clone()),
        frole: roles.membership.as_ref().map(|m| m.role.clone()),
        fcmty: firm_community,
        staff: roles.staff.as_ref().map(|s| s.community_id.clone()),
        cid: None,
        scope: None,
        crot: None,
        sv: Some(user.session_version),
    }
}

/// Roles plus the community of the user's firm (carried in the token).
fn load_roles(
    conn: &mut crate::store::DbConnection,
    user: &User,
) -> crate::store::StoreResult<(Roles, Option<String>)> {
    let roles = accounts::roles_of(conn, user)?;
    let firm_community = match &roles.membership {
        Some(m) => accounts::get_firm(conn, &m.firm_id)?.map(|f| f.community_id),
        None => None,
    };
    Ok((roles, firm_community))
}

fn refresh_row(state: &Sessions<'_>, user_id: &str, family: &str, token: &str) -> RefreshToken {
    let t = now();
    RefreshToken {
        id: new_id(),
        user_id: user_id.to_string(),
        family_id: family.to_string(),
        token_hash: hash_refresh_token(token),
        created_at: t,
        expires_at: t + chrono::TimeDelta::days(state.config.refresh_token_ttl_days as i64),
        rotated_at: None,
        revoked_at: None,
    }
}

fn pair(state: &Sessions<'_>, access: String, refresh: String) -> TokenPair {
    TokenPair {
        access_token: access,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs,
        refresh_token: refresh,
        refresh_expires_in: state.config.refresh_token_ttl_days as i64 * 86_400,
    }
}

/// Password sign-in. The throttle's key is the login together with the
/// address it is tried from (`from`), so that failures from one place lock
/// that place only and an attacker elsewhere cannot lock the account's
/// owner out.
pub async fn login(
    state: Sessions<'_>,
    from: Option<std::net::IpAddr>,
    body: LoginRequest,
) -> Result<TokenPair, ApiError> {
    let login =
        Login::parse(&body.login).map_err(|m| ApiError::field("login", "invalid_format", m))?;
    if body.password.is_empty() || body.password.len() > 1024 {
        return Err(ApiError::field(
            "password",
            "invalid_format",
            "密码不能为空且不超过 1024 字节",
        ));
    }
    let ip = from.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let key = format!("{} {ip}", login.as_str());
    let login = login.as_str().to_string();
    let at = now();

    let (user, locked) = {
        let key = key.clone();
        state
            .db
            .run(move |c| {
                let locked = accounts::throttle_state(c, &key)?
                    .and_then(|t| t.locked_until)
                    .filter(|until| *until > at);
                let user = accounts::user_by_login(c, &login)?;
                Ok((user, locked))
            })
            .await?
    };
    if let Some(until) = locked {
        let secs = (until - at).num_seconds().max(1) as u64;
        return Err(ApiError::too_many(secs, "登录失败次数过多，请稍后再试"));
    }

    let ok = password::verify(
        body.password,
        user.as_ref().map(|u| u.password_hash.clone()),
        state.dummy_hash.to_string(),
    )
    .await;

    let window = chrono::TimeDelta::seconds(state.config.login_window_secs as i64);
    let max_failures = state.config.login_max_failures as i32;
    let lock = chrono::TimeDelta::seconds(state.config.login_lock_secs as i64);
    let Some(user) = user.filter(|_| ok) else {
        // The same work is done whether or not the account exists.
        state
            .db
            .run(move |c| accounts::record_login_failure(c, &key, at, window, max_failures, lock))
            .await?;
        return Err(ApiError::unauthorized(
            Code::InvalidCredentials,
            "账号或密码错误",
        ));
    };

    state
        .db
        .run(move |c| accounts::clear_login_failures(c, &key))
        .await?;
    sign_in(state, user).await
}

/// Trades a refresh token for a new pair (the old one is spent).
pub async fn refresh(state: Sessions<'_>, body: RefreshRequest) -> Result<TokenPair, ApiError> {
    let presented = hash_refresh_token(body.refresh_token.trim());
    let next = new_refresh_token();
    let next_row = refresh_row(&state, "", "", &next);
    let outcome = state
        .db
        .run(
            move |c| match accounts::rotate_refresh_token(c, &presented, next_row, now())? {
                Rotation::Rotated { user_id } => {
                    let user = accounts::get_user(c, &user_id)?
                        .ok_or(crate::store::StoreError::NotFound)?;
                    let (roles, fcmty) = load_roles(c, &user)?;
                    Ok(Ok((user, roles, fcmty)))
                }
                Rotation::Reused => Ok(Err(ApiError::unauthorized(
                    Code::RefreshTokenReused,
                    "刷新令牌已被使用过，该登录会话已全部注销，请重新登录",
                ))),
                Rotation::Invalid => Ok(Err(ApiError::unauthorized(
                    Code::InvalidRefreshToken,
                    "刷新令牌无效或已过期",
                ))),
            },
        )
        .await?;
    let (user, roles, fcmty) = outcome?;
    crate::service::lifecycle::ensure_may_sign_in(state.db, &user.id).await?;
    let access = access_token(&state, &user, &roles, fcmty)?;
    Ok(pair(&state, access, next))
}

/// A new sign-in session for `user` (as a password sign-in makes): a
/// refresh-token family and an access token with the user's roles.
pub async fn sign_in(state: Sessions<'_>, user: User) -> Result<TokenPair, ApiError> {
    crate::service::lifecycle::ensure_may_sign_in(state.db, &user.id).await?;
    let refresh = new_refresh_token();
    let row = refresh_row(&state, &user.id, &new_id(), &refresh);
    let (roles, fcmty, user) = state
        .db
        .run(move |c| {
            accounts::insert_refresh_token(c, &row)?;
            let (roles, fcmty) = load_roles(c, &user)?;
            Ok((roles, fcmty, user))
        })
        .await?;
    let access = access_token(&state, &user, &roles, fcmty)?;
    Ok(pair(&state, access, refresh))
}

/// A signed access token for the user with these roles.
fn access_token(
    state: &Sessions<'_>,
    user: &User,
    roles: &Roles,
    firm_community: Option<String>,
) -> Result<String, ApiError> {
    state
        .jwt
        .sign(&claims_for(state, user, roles, firm_community))
        .map_err(ApiError::internal)
}

/// Revokes the refresh-token family; succeeds whether or not the token
/// was known, so sign-out reveals nothing.
pub async fn logout(db: &Db, body: RefreshRequest) -> Result<(), ApiError> {
    let hash = hash_refresh_token(body.refresh_token.trim());
    db.run(move |c| {
        if let Some(t) = accounts::refresh_token_by_hash(c, &hash)? {
            accounts::revoke_family(c, &t.family_id, now())?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct MeUser {
    pub id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct MeFirm {
    pub id: String,
    pub name: String,
    pub verified: bool,
    pub community_id: String,
    pub role: String,
}

#[derive(Debug, Serialize)]
pub struct MeStaff {
    pub community_id: String,
    pub community_name: String,
}

#[derive(Debug, Serialize)]
pub struct Me {
    pub user: MeUser,
    pub firm: Option<MeFirm>,
    pub staff: Option<MeStaff>,
    /// The districts the user administers (empty for everyone else).
    pub districts: Vec<crate::service::views::NamedRef>,
    pub roles: Vec<&'static str>,
}

/// Who the caller is: the user, their firm and staff roles.
pub async fn me(db: &Db, caller: &Caller) -> Result<Me, ApiError> {
    let uid = caller.user_id.clone();
    let (user, roles, firm, community, districts) = db
        .run(move |c| {
            let user = accounts::get_user(c, &uid)?.ok_or(crate::store::StoreError::NotFound)?;
            let roles = accounts::roles_of(c, &user)?;
            let firm = match &roles.membership {
                Some(m) => accounts::get_firm(c, &m.firm_id)?,
                None => None,
            };
            let community = match &roles.staff {
                Some(s) => accounts::get_community(c, &s.community_id)?,
                None => None,
            };
            let districts = crate::store::districts::administered_by(c, &user.id)?;
            Ok((user, roles, firm, community, districts))
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::unauthorized(Code::InvalidToken, "令牌对应的用户不存在")
            }
            other => other.into(),
        })?;
    let mut role_names = Vec::new();
    if roles.platform_admin {
        role_names.push("platform_admin");
    }
    if let Some(m) = &roles.membership {
        role_names.push(if m.role == "admin" {
            "firm_admin"
        } else {
            "firm_member"
        });
    }
    if roles.staff.is_some() {
        role_names.push("community_staff");
    }
    // An API client acts for its firm or community, never as a district.
    let districts: Vec<crate::service::views::NamedRef> = if caller.client.is_some() {
        Vec::new()
    } else {
        districts
            .into_iter()
            .map(|d| crate::service::views::NamedRef {
                id: d.id,
                name: d.name,
            })
            .collect()
    };
    if !districts.is_empty() {
        role_names.push("district_admin");
    }
    Ok(Me {
        user: MeUser {
            id: user.id,
            phone: user.phone,
            email: user.email,
            display_name: user.display_name,
        },
        firm: firm.zip(roles.membership).map(|(f, m)| MeFirm {
            id: f.id,
            name: f.name,
            verified: f.verified,
            community_id: f.community_id,
            role: m.role,
        }),
        staff: community.map(|c| MeStaff {
            community_id: c.id,
            community_name: c.name,
        }),
        districts,
        roles: role_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::park;

    #[tokio::test]
    async fn sign_in_rotates_refresh_tokens_and_a_reused_one_ends_the_family() {
        let p = park();
        let config = Config::load_from(None, &|_| None).expect("default config");
        let jwt = JwtKeys::new(b"0123456789abcdef0123456789abcdef", "zql", "zql", 900);
        let dummy = password::hash("dummy-password-x".into())
            .await
            .expect("hash");
        let real = password::hash("纸飞机-Harbour-42".into())
            .await
            .expect("hash");
        let firm_id = p.buyer.firm.id.clone();
        let user = crate::store::accounts::NewUser {
            phone: Some("13912345678".into()),
            email: None,
            display_name: "采购小周".into(),
            password_hash: real,
            is_platform_admin: false,
        };
        p.db.run(move |c| accounts::add_member(c, &firm_id, "admin", user))
            .await
            .expect("a member with a password");
        let s = Sessions {
            db: &p.db,
            jwt: &jwt,
            config: &config,
            dummy_hash: &dummy,
        };
        let login = "13912345678".to_string();
        let ask = |password: &str| LoginRequest {
            login: login.clone(),
            password: password.into(),
        };
        let e = login_as(s, ask("wrong")).await.expect_err("wrong password");
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (401, "invalid_credentials")
        );
        let first = login_as(s, ask("纸飞机-Harbour-42"))
            .await
            .expect("signed in");
        assert_eq!(first.token_type, "Bearer");

        let again = |t: &str| RefreshRequest {
            refresh_token: t.to_string(),
        };
        let second = refresh(s, again(&first.refresh_token))
            .await
            .expect("rotated");
        assert_ne!(second.refresh_token, first.refresh_token);
        let e = refresh(s, again(&first.refresh_token))
            .await
            .expect_err("reused");
        assert_eq!(e.code.as_str(), "refresh_token_reused");
        let e = refresh(s, again(&second.refresh_token))
            .await
            .expect_err("family ended");
        assert_eq!(e.code.as_str(), "invalid_refresh_token");

        let me = me(&p.db, &p.buyer.caller()).await.expect("me");
        assert_eq!(me.roles, vec!["firm_admin"]);
    }

    async fn login_as(s: Sessions<'_>, body: LoginRequest) -> Result<TokenPair, ApiError> {
        login(s, Some("203.0.113.7".parse().expect("ip")), body).await
    }
}
