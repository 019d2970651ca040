//! The account lifecycle: sessions that end at once, changing and resetting
//! a password (a one-time code from the community's staff: no SMS gateway
//! is assumed), firm admins inviting and removing colleagues and handing
//! over the admin role, the firm profile (a new name or USCC needs a new
//! verification), and a user's own data under PIPL: export and deletion.

use chrono::{DateTime, Duration, Utc};
use diesel::Connection;
use serde::Serialize;
use serde_json::{Value, json};
use zhiqilian_matcher::Uscc;

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code, Status};
use crate::service::password;
use crate::service::tokens::hash_refresh_token as sha256_hex;
use crate::service::validate::{Errors, Login};
use crate::store::audit;
use crate::store::lifecycle::{self as store, Invite, PasswordReset};
use crate::store::models::{Firm, Membership, User};
use crate::store::notifications::{self, NewNotification};
use crate::store::stream::NewEvent;
use crate::store::{
    Db, DbConnection, StoreError, StoreResult, accounts, listings, new_id, now, stream,
};

/// How long a reset code works.
pub const RESET_TTL_MINUTES: i64 = 30;
/// How long an invitation works.
pub const INVITE_TTL_DAYS: i64 = 7;

fn session_ended() -> ApiError {
    ApiError::unauthorized(
        Code::SessionEnded,
        "登录已失效（账号已变更或被移出企业），请重新登录",
    )
}

/// 403 `firm_suspended`: the user's firm is suspended by its community.
pub fn firm_suspended() -> ApiError {
    ApiError::new(
        Status::FORBIDDEN,
        Code::FirmSuspended,
        "所属企业已被社区暂停使用，暂时无法登录；如有疑问请联系社区工作人员",
    )
}

/// 403 `account_disabled`: a platform or district admin disabled the
/// staff account.
pub fn account_disabled() -> ApiError {
    ApiError::new(
        Status::FORBIDDEN,
        Code::AccountDisabled,
        "该工作人员账号已被停用；如有疑问请联系区域或平台管理员",
    )
}

/// Sign-in (password, refresh, WeChat) is refused to members of a
/// suspended firm and to disabled staff accounts.
pub async fn ensure_may_sign_in(db: &Db, user_id: &str) -> Result<(), ApiError> {
    let id = user_id.to_string();
    match db.run(move |c| store::session_state(c, &id)).await? {
        Some(s) if s.firm_suspended => Err(firm_suspended()),
        Some(s) if s.staff_disabled => Err(account_disabled()),
        _ => Ok(()),
    }
}

/// A user's access token or stream ticket counts only while it carries the
/// user's current session version (one primary-key read). Tokens without a
/// version (from before versions existed) count as version 0; a user who
/// does not exist has no valid token.
pub async fn ensure_session_live(db: &Db, user_id: &str, sv: Option<i64>) -> Result<(), ApiError> {
    let id = user_id.to_string();
    match db.run(move |c| store::session_state(c, &id)).await? {
        None => Err(ApiError::unauthorized(Code::InvalidToken, "访问令牌无效")),
        Some(s) if s.firm_suspended => Err(firm_suspended()),
        Some(s) if s.deleted => Err(session_ended()),
        Some(s) if s.staff_disabled => Err(account_disabled()),
        Some(s) if s.version == sv.unwrap_or(0) => Ok(()),
        Some(_) => Err(session_ended()),
    }
}

/// The user's current session version (what a new stream ticket carries).
pub async fn session_version(db: &Db, user_id: &str) -> Result<i64, ApiError> {
    let id = user_id.to_string();
    db.run(move |c| store::session_state(c, &id))
        .await?
        .map(|s| s.version)
        .ok_or_else(|| ApiError::unauthorized(Code::InvalidToken, "访问令牌无效"))
}

/// A code people can read out over the phone: `n` characters of an
/// alphabet without look-alikes (no 0/O, 1/I/L), 5 bits each.
pub(crate) fn readable_code(n: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Codes are compared as typed without separators or case.
pub(crate) fn code_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(&norm)
}

fn check_new_password(field: &str, pw: &str, user: &User) -> Result<(), ApiError> {
    let login = user
        .phone
        .clone()
        .or_else(|| user.email.clone())
        .unwrap_or_default();
    password::check_policy(pw, &[login.as_str(), user.display_name.as_str()])
        .map_err(|m| ApiError::field(field, "weak_password", m))
}

async fn load_user(db: &Db, id: &str) -> Result<User, ApiError> {
    let id = id.to_string();
    db.run(move |c| accounts::get_user(c, &id))
        .await?
        .filter(|u| u.deleted_at.is_none())
        .ok_or_else(session_ended)
}

/// Sets a password and ends every session of the user, in one transaction.
fn replace_password(c: &mut DbConnection, user_id: &str, hash: &str) -> StoreResult<()> {
    stream::write(c, |c| {
        store::set_password(c, user_id, hash)?;
        Ok(((), vec![store::end_sessions(c, user_id, now())?]))
    })
}

/// A user changes their password: the current one is required, the new
/// one must pass the strength estimator; every session ends (sign in
/// again).
pub async fn change_password(
    db: &Db,
    caller: &Caller,
    current: String,
    new: String,
) -> Result<(), ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("API 客户端不能修改密码"));
    }
    let user = load_user(db, &caller.user_id).await?;
    if !password::verify(current, Some(user.password_hash.clone()), String::new()).await {
        return Err(ApiError::field(
            "current_password",
            "wrong_password",
            "当前密码不正确",
        ));
    }
    check_new_password("new_password", &new, &user)?;
    let hash = password::hash(new).await?;
    db.run(move |c| replace_password(c, &user.id, &hash))
        .await?;
    Ok(())
}

/// A one-time reset code as staff read it out (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    pub user_id: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Staff issue a one-time reset code for a member of a firm of their
/// community (expiring in [`RESET_TTL_MINUTES`]; the user's earlier codes
/// stop working). Audited. Anyone else's account does not exist for them.
pub async fn issue_reset_code(
    db: &Db,
    caller: &Caller,
    user_id: String,
) -> Result<IssuedCode, ApiError> {
    let Some(community) = caller
        .staff_community
        .clone()
        .filter(|_| caller.client.is_none())
    else {
        return Err(ApiError::forbidden("需要社区工作人员权限"));
    };
    let staff = caller.user_id.clone();
    let target = user_id.clone();
    let code = readable_code(10);
    let hash = code_hash(&code);
    let at = now();
    let expires = at + Duration::minutes(RESET_TTL_MINUTES);
    let issued = db
        .run(move |c| {
            c.transaction::<_, StoreError, _>(|c| {
                crate::store::begin_write(c)?;
                let Some(user) =
                    accounts::get_user(c, &user_id)?.filter(|u| u.deleted_at.is_none())
                else {
                    return Ok(false);
                };
                let Some(m) = store::membership(c, &user.id)? else {
                    return Ok(false);
                };
                let in_community =
                    accounts::get_firm(c, &m.firm_id)?.is_some_and(|f| f.community_id == community);
                if !in_community {
                    return Ok(false);
                }
                store::issue_reset(
                    c,
                    &PasswordReset {
                        id: new_id(),
                        user_id: user.id.clone(),
                        code_hash: hash,
                        issued_by: staff.clone(),
                        created_at: at,
                        expires_at: expires,
                        used_at: None,
                    },
                )?;
                let actor = accounts::actor(c, &staff)?;
                audit::record(
                    c,
                    &actor,
                    &community,
                    "account.reset_code_issued",
                    None,
                    ("user", &user.id),
                    json!({ "firm_id": m.firm_id, "expires_at": expires.and_utc() }),
                )?;
                Ok(true)
            })
        })
        .await?;
    if !issued {
        return Err(ApiError::not_found("用户"));
    }
    Ok(IssuedCode {
        user_id: target,
        code,
        expires_at: expires.and_utc(),
    })
}

fn invalid_code() -> ApiError {
    ApiError::bad_request(
        Code::InvalidResetCode,
        "重置码无效、已使用或已过期，请联系社区工作人员重新获取",
    )
}

/// Sets a new password with a reset code: the code must be the user's,
/// unused and unexpired, and is used up; every session of the user ends.
/// Every failure of login or code answers the same.
pub async fn reset_password(
    db: &Db,
    login: String,
    code: String,
    new: String,
) -> Result<(), ApiError> {
    let login = Login::parse(&login).map_err(|_| invalid_code())?;
    let l = login.as_str().to_string();
    let user = db
        .run(move |c| accounts::user_by_login(c, &l))
        .await?
        .ok_or_else(invalid_code)?;
    check_new_password("new_password", &new, &user)?;
    let hash = password::hash(new).await?;
    let ch = code_hash(&code);
    let ok = db
        .run(move |c| {
            stream::write(c, |c| {
                if !store::use_reset(c, &user.id, &ch, now())? {
                    return Ok((false, Vec::new()));
                }
                store::set_password(c, &user.id, &hash)?;
                Ok((true, vec![store::end_sessions(c, &user.id, now())?]))
            })
        })
        .await?;
    if ok { Ok(()) } else { Err(invalid_code()) }
}

/// The firm the caller administers; 403 for its other members, 404 for
/// everyone else.
async fn administered_firm(db: &Db, caller: &Caller, firm_id: String) -> Result<Firm, ApiError> {
    let f = db
        .run(move |c| accounts::get_firm(c, &firm_id))
        .await?
        .ok_or_else(|| ApiError::not_found("企业"))?;
    if caller.client.is_none() && caller.is_firm_admin_of(&f.id) {
        Ok(f)
    } else if caller.is_member_of(&f.id) || caller.can_administer_community(&f.community_id) {
        Err(ApiError::forbidden("只有企业管理员可以管理成员和企业资料"))
    } else {
        Err(ApiError::not_found("企业"))
    }
}

/// An invitation as its admin sees it (the code shown once).
#[derive(Debug, Clone, Serialize)]
pub struct InviteOut {
    pub id: String,
    pub firm_id: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A firm admin invites a colleague: an expiring, single-use code.
pub async fn invite(db: &Db, caller: &Caller, firm_id: String) -> Result<InviteOut, ApiError> {
    let f = administered_firm(db, caller, firm_id).await?;
    let code = readable_code(16);
    let at = now();
    let row = Invite {
        id: new_id(),
        firm_id: f.id.clone(),
        code_hash: code_hash(&code),
        created_by: caller.user_id.clone(),
        created_at: at,
        expires_at: at + Duration::days(INVITE_TTL_DAYS),
        used_at: None,
        used_by: None,
    };
    let out = InviteOut {
        id: row.id.clone(),
        firm_id: f.id,
        code,
        expires_at: row.expires_at.and_utc(),
    };
    db.run(move |c| store::insert_invite(c, &row)).await?;
    Ok(out)
}

/// A new account joins a firm with an invitation (as a member). A code
/// that is unknown, used or expired is refused (400 `invalid_invite`),
/// before anything is written.
pub async fn join(
    db: &Db,
    code: String,
    login: String,
    display_name: String,
    new_password: String,
) -> Result<Membership, ApiError> {
    let hash = code_hash(&code);
    let at = now();
    let h = hash.clone();
    let open = db.run(move |c| store::invite_is_open(c, &h, at)).await?;
    let invalid = || ApiError::bad_request(Code::InvalidInvite, "邀请码无效、已使用或已过期");
    if !open {
        return Err(invalid());
    }
    let mut e = Errors::default();
    let parsed = Login::parse(&login)
        .map_err(|m| e.push("login", "invalid_format", m))
        .ok();
    let name = e.text("display_name", &display_name, 1, 64);
    if let Err(m) = password::check_policy(&new_password, &[login.trim(), name.as_str()]) {
        e.push("password", "weak_password", m);
    }
    e.into_result().map_err(ApiError::validation)?;
    let parsed = parsed.ok_or_else(|| ApiError::internal("login parsed without error"))?;
    let password_hash = password::hash(new_password).await?;
    let new = accounts::NewUser {
        phone: parsed.phone(),
        email: parsed.email(),
        display_name: name,
        password_hash,
        is_platform_admin: false,
    };
    let joined = db
        .run(move |c| {
            c.transaction::<_, StoreError, _>(|c| {
                let user = accounts::create_user(c, new)?;
                let Some(firm_id) = store::use_invite(c, &hash, &user.id, now())? else {
                    return Err(StoreError::Conflict("invite".into()));
                };
                let m = Membership {
                    user_id: user.id.clone(),
                    firm_id,
                    role: "member".into(),
                    created_at: now(),
                };
                store::add_membership(c, &m)?;
                Ok(m)
            })
        })
        .await;
    match joined {
        Ok(m) => Ok(m),
        Err(StoreError::Conflict(what)) if what == "invite" => Err(invalid()),
        Err(StoreError::Conflict(_)) => {
            Err(ApiError::conflict(Code::LoginTaken, "该手机号或邮箱已注册"))
        }
        Err(other) => Err(other.into()),
    }
}

/// A firm admin removes a member: the membership goes and every session,
/// stream ticket and live stream of the member ends at once. Removing
/// oneself is refused (hand the admin role over, or delete the account).
pub async fn remove_member(
    db: &Db,
    caller: &Caller,
    firm_id: String,
    user_id: String,
) -> Result<(), ApiError> {
    let f = administered_firm(db, caller, firm_id).await?;
    if user_id == caller.user_id {
        return Err(ApiError::conflict(
            Code::CannotRemoveSelf,
            "不能移除自己；请先移交管理员身份",
        ));
    }
    let admin = caller.user_id.clone();
    let removed = db
        .run(move |c| {
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                let in_firm = store::membership(c, &user_id)?.is_some_and(|m| m.firm_id == f.id);
                if !in_firm {
                    return Ok((false, Vec::new()));
                }
                store::remove_membership(c, &user_id)?;
                let actor = accounts::actor(c, &admin)?;
                audit::record(
                    c,
                    &actor,
                    &f.community_id,
                    "firm.member_removed",
                    None,
                    ("user", &user_id),
                    json!({ "firm_id": f.id }),
                )?;
                Ok((true, vec![store::end_sessions(c, &user_id, now())?]))
            })
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(ApiError::not_found("成员"))
    }
}

/// A firm admin hands the admin role over to another member: the member
/// becomes admin, the caller a member, and the caller's sessions end (their
/// tokens say admin) so they sign in again with their new role.
pub async fn hand_over_admin(
    db: &Db,
    caller: &Caller,
    firm_id: String,
    to_user: String,
) -> Result<(), ApiError> {
    let f = administered_firm(db, caller, firm_id).await?;
    if to_user == caller.user_id {
        return Err(ApiError::field(
            "user_id",
            "invalid_value",
            "不能移交给自己",
        ));
    }
    let me = caller.user_id.clone();
    let done = db
        .run(move |c| {
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                let in_firm = store::membership(c, &to_user)?.is_some_and(|m| m.firm_id == f.id);
                if !in_firm {
                    return Ok((false, Vec::new()));
                }
                store::set_role(c, &to_user, "admin")?;
                store::set_role(c, &me, "member")?;
                let actor = accounts::actor(c, &me)?;
                audit::record(
                    c,
                    &actor,
                    &f.community_id,
                    "firm.admin_handed_over",
                    None,
                    ("user", &to_user),
                    json!({ "firm_id": f.id, "from": me }),
                )?;
                Ok((true, vec![store::end_sessions(c, &me, now())?]))
            })
        })
        .await?;
    if done {
        Ok(())
    } else {
        Err(ApiError::field(
            "user_id",
            "not_a_member",
            "只能移交给本企业的成员",
        ))
    }
}

/// The firm's profile as its admin edits it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileOut {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub community_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub contact_name: String,
    pub contact_phone: String,
    pub verified: bool,
    pub updated_at: DateTime<Utc>,
}

pub fn profile_out(f: Firm) -> ProfileOut {
    ProfileOut {
        id: f.id,
        name: f.name,
        uscc: f.uscc,
        community_id: f.community_id,
        address: f.address,
        lat: f.lat,
        lon: f.lon,
        contact_name: f.contact_name,
        contact_phone: f.contact_phone,
        verified: f.verified,
        updated_at: f.updated_at.and_utc(),
    }
}

/// Applies a profile patch to a firm, validated as registration is.
/// Returns the new profile and whether it needs a new verification (a new
/// name or USCC).
pub fn apply_profile(f: &Firm, p: ProfilePatch) -> Result<(Firm, bool), ApiError> {
    let mut e = Errors::default();
    let mut g = f.clone();
    if let Some(v) = &p.name {
        g.name = e.text("name", v, 2, 100);
    }
    if let Some(v) = &p.uscc {
        match Uscc::parse(v) {
            Ok(u) => g.uscc = u.as_str().to_string(),
            Err(err) => e.push(
                "uscc",
                "invalid_uscc",
                format!("统一社会信用代码无效：{err}"),
            ),
        }
    }
    if let Some(v) = &p.address {
        g.address = e.text("address", v, 2, 200);
    }
    if p.lat.is_some() || p.lon.is_some() {
        e.lat_lon("", p.lat, p.lon);
        g.lat = p.lat;
        g.lon = p.lon;
    }
    if let Some(v) = &p.contact_name {
        g.contact_name = e.text("contact_name", v, 1, 64);
    }
    if let Some(v) = &p.contact_phone {
        g.contact_phone = e.text("contact_phone", v, 5, 32);
        if !g
            .contact_phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
        {
            e.push(
                "contact_phone",
                "invalid_format",
                "联系电话只能包含数字和 +-() 空格",
            );
        }
    }
    e.into_result().map_err(ApiError::validation)?;
    let reverify = g.name != f.name || g.uscc != f.uscc;
    if reverify {
        g.verified = false;
        g.verified_at = None;
        g.verified_by = None;
        g.claim_refused_at = None;
    }
    Ok((g, reverify))
}

/// A firm admin edits the firm's profile. A new name or USCC sends the
/// firm back to verification: it is unverified (its listings leave others'
/// view until staff verify it again), its community's staff are told, and
/// the change is audited.
pub async fn edit_profile(
    db: &Db,
    caller: &Caller,
    firm_id: String,
    patch: ProfilePatch,
) -> Result<ProfileOut, ApiError> {
    let f = administered_firm(db, caller, firm_id).await?;
    let (mut g, reverify) = apply_profile(&f, patch)?;
    let same = |a: &Firm, b: &Firm| {
        (
            &a.name,
            &a.uscc,
            &a.address,
            a.lat,
            a.lon,
            &a.contact_name,
            &a.contact_phone,
        ) == (
            &b.name,
            &b.uscc,
            &b.address,
            b.lat,
            b.lon,
            &b.contact_name,
            &b.contact_phone,
        )
    };
    if same(&f, &g) {
        return Ok(profile_out(f));
    }
    g.updated_at = now();
    let admin = caller.user_id.clone();
    let saved = g.clone();
    db.run(move |c| {
        stream::write(c, |c| {
            store::save_profile(c, &g)?;
            let actor = accounts::actor(c, &admin)?;
            audit::record(
                c,
                &actor,
                &g.community_id,
                "firm.profile_changed",
                None,
                ("firm", &g.id),
                json!({ "reverify": reverify, "name": g.name, "uscc": g.uscc,
                        "previous": { "name": f.name, "uscc": f.uscc } }),
            )?;
            let mut live: Vec<NewEvent> = Vec::new();
            if reverify {
                let staff = notifications::community_staff(c, &g.community_id)?;
                live.extend(notifications::notify(
                    c,
                    &staff,
                    &NewNotification {
                        kind: "firm.reverify",
                        title: "企业名称或信用代码变更，需重新认证".into(),
                        body: g.name.clone(),
                        subject_type: "firm",
                        subject_id: g.id.clone(),
                        thread_id: None,
                        group_key: None,
                    },
                )?);
                // Who may see its listings changed: reindex them (last).
                listings::touch_firm(c, &g.id)?;
            }
            Ok(((), live))
        })
    })
    .await?;
    Ok(profile_out(saved))
}

/// Everything Zhiqilian holds about the caller, as JSON (PIPL art. 45).
pub async fn export(db: &Db, caller: &Caller) -> Result<Value, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("API 客户端不能导出个人信息"));
    }
    let id = caller.user_id.clone();
    let v = db
        .run(move |c| {
            let Some(u) = accounts::get_user(c, &id)? else {
                return Ok(None);
            };
            let roles = accounts::roles_of(c, &u)?;
            let created = store::listings_created_by(c, &u.id)?;
            let msgs = store::messages_by(c, &u.id)?;
            let notes = notifications::list(c, &u.id, false, None, 10_000)?;
            let wechat = store::has_wechat(c, &u.id)?;
            let alerts = crate::store::wechat_push::of_user(c, &u.id)?;
            Ok(Some(json!({
                "generated_at": Utc::now(),
                "user": {
                    "id": u.id, "phone": u.phone, "email": u.email,
                    "display_name": u.display_name, "created_at": u.created_at.and_utc(),
                    "platform_admin": u.is_platform_admin,
                },
                "firm_membership": roles.membership.map(|m| json!({
                    "firm_id": m.firm_id, "role": m.role, "since": m.created_at.and_utc() })),
                "staff_of_community": roles.staff.map(|s| s.community_id),
                "wechat_bound": wechat,
                "wechat_subscriptions": alerts.iter().map(|a| json!({
                    "topic": a.topic, "remaining": a.remaining, "enabled": a.enabled,
                    "updated_at": a.updated_at.and_utc() })).collect::<Vec<_>>(),
                "listings_posted": created.iter().map(|(id, title, at)| json!({
                    "id": id, "title": title, "created_at": at.and_utc() })).collect::<Vec<_>>(),
                "messages": msgs.iter().map(|(t, body, at)| json!({
                    "thread_id": t, "body": body, "created_at": at.and_utc() })).collect::<Vec<_>>(),
                "notifications": notes.iter().map(crate::service::notifications::notification_out).collect::<Vec<_>>(),
            })))
        })
        .await?;
    v.ok_or_else(session_ended)
}

/// The pseudonym a deleted account is shown under.
pub fn pseudonym(user_id: &str) -> String {
    format!("已注销用户-{}", &sha256_hex(user_id)[..8])
}

/// A user deletes their account (their password confirms it): personal
/// data is erased ([`store::erase_user`]), every session ends, the records
/// the park must keep stay under a pseudonym. A firm admin with colleagues
/// hands the admin role over first (409 `hand_over_first`).
pub async fn delete_account(db: &Db, caller: &Caller, password: String) -> Result<(), ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("API 客户端不能注销账号"));
    }
    let user = load_user(db, &caller.user_id).await?;
    if !password::verify(password, Some(user.password_hash.clone()), String::new()).await {
        return Err(ApiError::field("password", "wrong_password", "密码不正确"));
    }
    let refused = db
        .run(move |c| {
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                if let Some(m) = store::membership(c, &user.id)?
                    && m.role == "admin"
                    && store::firm_member_count(c, &m.firm_id)? > 1
                {
                    let admins = notifications::firm_admins(c, &m.firm_id)?;
                    if admins.len() < 2 {
                        return Ok((true, Vec::new()));
                    }
                }
                store::erase_user(c, &user, &pseudonym(&user.id), now())?;
                Ok((false, vec![store::end_sessions(c, &user.id, now())?]))
            })
        })
        .await?;
    if refused {
        return Err(ApiError::new(
            Status::CONFLICT,
            Code::HandOverFirst,
            "您是企业唯一的管理员：请先把管理员身份移交给同事再注销",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::park;

    #[test]
    fn codes_are_readable_and_compared_loosely() {
        let c = readable_code(10);
        assert_eq!(c.len(), 10);
        assert!(!c.contains(['0', 'O', '1', 'I', 'L']));
        let spaced = format!("{}-{} ", &c[..5], c[5..].to_lowercase());
        assert_eq!(code_hash(&spaced), code_hash(&c));
    }

    /// Ending sessions bumps the version, revokes refresh tokens and tells
    /// the user's streams.
    #[test]
    fn ending_sessions_bumps_the_version() {
        let p = park();
        let mut c = p.conn();
        let before = store::session_state(&mut c, &p.buyer.user.id)
            .expect("read")
            .expect("user");
        let ev = store::end_sessions(&mut c, &p.buyer.user.id, now()).expect("end");
        assert_eq!(ev.event_type, store::SESSIONS_ENDED);
        let after = store::session_state(&mut c, &p.buyer.user.id)
            .expect("read")
            .expect("user");
        assert_eq!(after.version, before.version + 1);
    }

    /// A reset code works once and not after it expires.
    #[test]
    fn reset_codes_are_single_use_and_expire() {
        let p = park();
        let mut c = p.conn();
        let at = now();
        let reset = |hash: &str, expires| PasswordReset {
            id: new_id(),
            user_id: p.buyer.user.id.clone(),
            code_hash: hash.into(),
            issued_by: p.staff.id.clone(),
            created_at: at,
            expires_at: expires,
            used_at: None,
        };
        store::issue_reset(&mut c, &reset("h1", at + Duration::minutes(30))).expect("issue");
        assert!(store::use_reset(&mut c, &p.buyer.user.id, "h1", at).expect("use"));
        assert!(!store::use_reset(&mut c, &p.buyer.user.id, "h1", at).expect("reuse"));
        store::issue_reset(&mut c, &reset("h2", at + Duration::minutes(30))).expect("issue");
        let late = at + Duration::minutes(31);
        assert!(!store::use_reset(&mut c, &p.buyer.user.id, "h2", late).expect("late"));
        // A newer code replaces an older unused one.
        store::issue_reset(&mut c, &reset("h3", at + Duration::minutes(30))).expect("issue");
        store::issue_reset(&mut c, &reset("h4", at + Duration::minutes(30))).expect("issue");
        assert!(!store::use_reset(&mut c, &p.buyer.user.id, "h3", at).expect("old"));
        assert!(store::use_reset(&mut c, &p.buyer.user.id, "h4", at).expect("new"));
    }

    /// A new name or USCC needs a new verification; a new address does not.
    #[test]
    fn a_new_name_or_uscc_sends_the_firm_back_to_verification() {
        let p = park();
        let f = &p.buyer.firm;
        let (g, again) = apply_profile(
            f,
            ProfilePatch {
                address: Some("宁波市北仑区新碶街道".into()),
                ..Default::default()
            },
        )
        .expect("valid");
        assert!(!again && g.verified);
        let (g, again) = apply_profile(
            f,
            ProfilePatch {
                name: Some("甬江精密机械".into()),
                ..Default::default()
            },
        )
        .expect("valid");
        assert!(again && !g.verified && g.verified_at.is_none());
        let e = apply_profile(
            f,
            ProfilePatch {
                uscc: Some("123".into()),
                ..Default::default()
            },
        )
        .expect_err("bad uscc");
        assert_eq!(e.status.as_u16(), 422);
    }

    /// Erasure removes the login and roles and renames the user.
    #[test]
    fn erasure_keeps_the_row_under_a_pseudonym() {
        let p = park();
        let mut c = p.conn();
        let name = pseudonym(&p.seller.user.id);
        store::erase_user(&mut c, &p.seller.user, &name, now()).expect("erase");
        let u = accounts::get_user(&mut c, &p.seller.user.id)
            .expect("read")
            .expect("row kept");
        assert_eq!(u.phone, None);
        assert!(u.email.expect("placeholder").ends_with("@deleted.invalid"));
        assert_eq!(u.display_name, name);
        assert!(u.deleted_at.is_some());
        assert!(store::membership(&mut c, &u.id).expect("read").is_none());
    }
}
