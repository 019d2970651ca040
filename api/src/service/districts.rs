//! Districts (区域) and their administrators: a platform admin creates a
//! district, assigns communities and administrators; a district
//! administrator reads the queues, cases and statistics of the district's
//! communities (never beyond them), compares them side by side, and
//! manages their staff accounts — invite, disable (every session of the
//! account ends at once), enable. Platform admins do the same for any
//! community.
//!
//! A district administrator's rights are looked up on every request (one
//! indexed query), not carried in the token: removing an administrator or
//! a community from a district takes effect at once.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::lifecycle::{code_hash, readable_code};
use crate::service::password;
use crate::service::sla::{SlaConfig, UrgencySummary};
use crate::service::staff::{self, WindowQuery};
use crate::service::validate::{Errors, Login};
use crate::service::views::NamedRef;
use crate::store::audit;
use crate::store::districts::{self as store, District};
use crate::store::lifecycle::{self as lifecycle_store, PasswordReset};
use crate::store::models::{Staff, User};
use crate::store::{Db, DbConnection, StoreError, StoreResult, accounts, new_id, now, stream};

/// How long an invitation (a one-time code to set the password) works.
pub const INVITE_TTL_DAYS: i64 = 7;

// ------------------------------------------------------------------ scope

/// The ids of the communities the caller administers as a district
/// administrator (see [`crate::service::access::district_communities`]).
pub use crate::service::access::district_communities as community_ids;

/// Whether the caller manages the staff of a community: platform admins
/// every community's, district administrators their districts'.
async fn manages_community(db: &Db, caller: &Caller, community_id: &str) -> Result<(), ApiError> {
    if caller.platform_admin {
        let id = community_id.to_string();
        return db
            .run(move |c| accounts::get_community(c, &id))
            .await?
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found("社区"));
    }
    let mine = community_ids(db, caller).await?;
    if mine.is_empty() {
        return Err(ApiError::forbidden("需要平台管理员或区域管理员权限"));
    }
    if mine.iter().any(|c| c == community_id) {
        Ok(())
    } else {
        Err(ApiError::not_found("社区"))
    }
}

// ----------------------------------------------------------------- output

#[derive(Debug, Serialize)]
pub struct PersonOut {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct DistrictOut {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub communities: Vec<NamedRef>,
    pub admins: Vec<PersonOut>,
}

#[derive(Debug, Serialize)]
pub struct DistrictList {
    pub items: Vec<DistrictOut>,
}

fn district_out(c: &mut DbConnection, d: District) -> StoreResult<DistrictOut> {
    let communities = store::communities_of(c, &d.id)?
        .into_iter()
        .map(|c| NamedRef {
            id: c.id,
            name: c.name,
        })
        .collect();
    let admins = store::admins_of(c, &d.id)?
        .into_iter()
        .map(|u| PersonOut {
            id: u.id,
            display_name: u.display_name,
        })
        .collect();
    Ok(DistrictOut {
        id: d.id,
        name: d.name,
        created_at: d.created_at.and_utc(),
        communities,
        admins,
    })
}

/// An invitation: the code the new account sets its password with
/// (`POST /api/v1/auth/reset-password`), shown once.
#[derive(Debug, Clone, Serialize)]
pub struct InviteOut {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

// ------------------------------------------------------------- management

/// Every district (platform admins) or the caller's own (district
/// administrators); refused to everyone else.
pub async fn list(db: &Db, caller: &Caller) -> Result<DistrictList, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("需要平台管理员或区域管理员权限"));
    }
    let admin = caller.platform_admin;
    let uid = caller.user_id.clone();
    let items = db
        .run(move |c| {
            let ds = if admin {
                store::list(c)?
            } else {
                store::administered_by(c, &uid)?
            };
            ds.into_iter().map(|d| district_out(c, d)).collect()
        })
        .await?;
    if !admin && Vec::is_empty(&items) {
        return Err(ApiError::forbidden("需要平台管理员或区域管理员权限"));
    }
    Ok(DistrictList { items })
}

/// One district, for platform admins and its own administrators.
pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<DistrictOut, ApiError> {
    let admin = caller.platform_admin;
    let uid = caller.user_id.clone();
    let client = caller.client.is_some();
    db.run(move |c| {
        let Some(d) = store::get(c, &id)? else {
            return Ok(None);
        };
        let out = district_out(c, d)?;
        let mine = !client && out.admins.iter().any(|a| a.id == uid);
        Ok((admin || mine).then_some(out))
    })
    .await?
    .ok_or_else(|| ApiError::not_found("区域"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateDistrict {
    pub name: String,
}

/// A platform admin creates a district (409 `district_exists` for a name
/// in use).
pub async fn create(db: &Db, caller: &Caller, b: CreateDistrict) -> Result<DistrictOut, ApiError> {
    caller.require_admin()?;
    let mut e = Errors::default();
    let name = e.text("name", &b.name, 2, 64);
    e.into_result().map_err(ApiError::validation)?;
    db.run(move |c| {
        let d = store::create(c, &name)?;
        district_out(c, d)
    })
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::conflict(Code::DistrictExists, "同名区域已存在"),
        other => other.into(),
    })
}

/// The district by id for a platform admin's change (404 if none).
fn district_for_change(c: &mut DbConnection, id: &str) -> Result<District, ApiError> {
    store::get(c, id)?.ok_or_else(|| ApiError::not_found("区域"))
}

/// A platform admin adds a community to a district (idempotent). Audited
/// in the community's log.
pub async fn add_community(
    db: &Db,
    caller: &Caller,
    id: String,
    community_id: String,
) -> Result<DistrictOut, ApiError> {
    caller.require_admin()?;
    let admin = caller.user_id.clone();
    db.run(move |c| {
        Ok(c.transaction::<_, ApiError, _>(|c| {
            crate::store::begin_write(c)?;
            let d = district_for_change(c, &id)?;
            accounts::get_community(c, &community_id)?
                .ok_or_else(|| ApiError::not_found("社区"))?;
            if store::add_community(c, &d.id, &community_id)? {
                let actor = accounts::actor(c, &admin)?;
                audit::record(
                    c,
                    &actor,
                    &community_id,
                    "district.community_added",
                    None,
                    ("district", &d.id),
                    json!({ "district": d.name }),
                )?;
            }
            Ok(district_out(c, d)?)
        }))
    })
    .await?
}

/// A platform admin takes a community out of a district (404 if it was
/// not in it). Its administrators lose it at once.
pub async fn remove_community(
    db: &Db,
    caller: &Caller,
    id: String,
    community_id: String,
) -> Result<DistrictOut, ApiError> {
    caller.require_admin()?;
    let admin = caller.user_id.clone();
    db.run(move |c| {
        Ok(c.transaction::<_, ApiError, _>(|c| {
            crate::store::begin_write(c)?;
            let d = district_for_change(c, &id)?;
            if !store::remove_community(c, &d.id, &community_id)? {
                return Err(ApiError::not_found("区域中的社区"));
            }
            let actor = accounts::actor(c, &admin)?;
            audit::record(
                c,
                &actor,
                &community_id,
                "district.community_removed",
                None,
                ("district", &d.id),
                json!({ "district": d.name }),
            )?;
            Ok(district_out(c, d)?)
        }))
    })
    .await?
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AddAdmin {
    pub login: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AdminAdded {
    pub district: DistrictOut,
    pub user_id: String,
    /// Set when the account was created: the code to set its password.
    pub invite: Option<InviteOut>,
}

/// A new account without a usable password, and an invitation code to set
/// one (the password-reset code, valid [`INVITE_TTL_DAYS`]).
struct Invitation {
    user: accounts::NewUser,
    code: String,
    hash: String,
    expires_at: NaiveDateTime,
}

async fn invitation(login: &Login, display_name: String) -> Result<Invitation, ApiError> {
    // Nobody knows this password: the account signs in once its owner set
    // one with the code.
    let unusable = password::hash(readable_code(40)).await?;
    let code = readable_code(10);
    Ok(Invitation {
        user: accounts::NewUser {
            phone: login.phone(),
            email: login.email(),
            display_name,
            password_hash: unusable,
            is_platform_admin: false,
        },
        hash: code_hash(&code),
        code,
        expires_at: now() + Duration::days(INVITE_TTL_DAYS),
    })
}

fn issue_invite(
    c: &mut DbConnection,
    user_id: &str,
    by: &str,
    inv: &Invitation,
) -> StoreResult<InviteOut> {
    lifecycle_store::issue_reset(
        c,
        &PasswordReset {
            id: new_id(),
            user_id: user_id.to_string(),
            code_hash: inv.hash.clone(),
            issued_by: by.to_string(),
            created_at: now(),
            expires_at: inv.expires_at,
            used_at: None,
        },
    )?;
    Ok(InviteOut {
        code: inv.code.clone(),
        expires_at: inv.expires_at.and_utc(),
    })
}

fn login_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(Code::LoginTaken, "该手机号或邮箱已注册"),
        other => other.into(),
    }
}

/// A platform admin makes a user an administrator of a district: the
/// account with that login, or a new one (`display_name` required) with an
/// invitation code. Audited in each of the district's communities' logs.
pub async fn add_admin(
    db: &Db,
    caller: &Caller,
    id: String,
    b: AddAdmin,
) -> Result<AdminAdded, ApiError> {
    caller.require_admin()?;
    let login =
        Login::parse(&b.login).map_err(|m| ApiError::field("login", "invalid_format", m))?;
    let l = login.as_str().to_string();
    let existing = db
        .run(move |c| accounts::user_by_login(c, &l))
        .await?
        .filter(|u| u.deleted_at.is_none());
    let invitation = match (&existing, b.display_name.as_deref()) {
        (Some(_), _) => None,
        (None, None) => {
            return Err(ApiError::field(
                "display_name",
                "required",
                "新建账号须填写 display_name",
            ));
        }
        (None, Some(name)) => {
            let mut e = Errors::default();
            let name = e.text("display_name", name, 1, 64);
            e.into_result().map_err(ApiError::validation)?;
            Some(invitation(&login, name).await?)
        }
    };
    let admin = caller.user_id.clone();
    db.run(move |c| {
        Ok(c.transaction::<_, ApiError, _>(|c| {
            crate::store::begin_write(c)?;
            let d = district_for_change(c, &id)?;
            let (user, invite) = match (existing, invitation) {
                (Some(u), _) => (u, None),
                (None, Some(inv)) => {
                    let u = accounts::create_user(c, inv.user.clone()).map_err(login_taken)?;
                    let out = issue_invite(c, &u.id, &admin, &inv)?;
                    (u, Some(out))
                }
                (None, None) => return Err(ApiError::internal("no account to add")),
            };
            if store::add_admin(c, &d.id, &user.id)? {
                let actor = accounts::actor(c, &admin)?;
                for cm in store::communities_of(c, &d.id)? {
                    audit::record(
                        c,
                        &actor,
                        &cm.id,
                        "district.admin_added",
                        None,
                        ("user", &user.id),
                        json!({ "district_id": d.id, "district": d.name, "name": user.display_name }),
                    )?;
                }
            }
            Ok(AdminAdded {
                user_id: user.id,
                district: district_out(c, d)?,
                invite,
            })
        }))
    })
    .await?
}

/// A platform admin ends a user's administration of a district (404 if
/// they had none); it ends at once.
pub async fn remove_admin(
    db: &Db,
    caller: &Caller,
    id: String,
    user_id: String,
) -> Result<DistrictOut, ApiError> {
    caller.require_admin()?;
    let admin = caller.user_id.clone();
    db.run(move |c| {
        Ok(c.transaction::<_, ApiError, _>(|c| {
            crate::store::begin_write(c)?;
            let d = district_for_change(c, &id)?;
            if !store::remove_admin(c, &d.id, &user_id)? {
                return Err(ApiError::not_found("区域管理员"));
            }
            let actor = accounts::actor(c, &admin)?;
            for cm in store::communities_of(c, &d.id)? {
                audit::record(
                    c,
                    &actor,
                    &cm.id,
                    "district.admin_removed",
                    None,
                    ("user", &user_id),
                    json!({ "district_id": d.id, "district": d.name }),
                )?;
            }
            Ok(district_out(c, d)?)
        }))
    })
    .await?
}

// ------------------------------------------------------------- statistics

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictStatsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub district_id: Option<String>,
}

/// Cases opened in the window that reached a stage, and how many within
/// its target (all urgencies together).
#[derive(Debug, Default, Serialize)]
pub struct Attainment {
    pub done: usize,
    pub within_target: usize,
    pub rate: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct SlaAttainment {
    pub cases: usize,
    pub claim: Attainment,
    pub contact: Attainment,
    pub resolve: Attainment,
}

impl SlaAttainment {
    /// The per-urgency summary of `/staff/sla`, summed over urgencies.
    fn of(by_urgency: &[UrgencySummary]) -> SlaAttainment {
        let mut out = SlaAttainment::default();
        for u in by_urgency {
            out.cases += u.cases;
            for (a, s) in [
                (&mut out.claim, &u.claim),
                (&mut out.contact, &u.contact),
                (&mut out.resolve, &u.resolve),
            ] {
                a.done += s.done;
                a.within_target += s.within_target;
            }
        }
        for a in [&mut out.claim, &mut out.contact, &mut out.resolve] {
            a.rate = (a.done > 0).then(|| a.within_target as f64 / a.done as f64);
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct CommunityRow {
    pub community: NamedRef,
    /// Listings of verified firms created in the window.
    pub listings: usize,
    pub requests: usize,
    pub match_rate: Option<f64>,
    /// Agreed matches of the window's requests and the in-park ones.
    pub agreed_matches: usize,
    pub agreed_in_park: usize,
    /// 内循环率 by count, as `/staff/stats` computes it.
    pub in_park_rate: Option<f64>,
    /// Deals confirmed by both firms (the funnel's `agreed`) and their value.
    pub agreed_deals: usize,
    pub agreed_value_yuan: f64,
    pub agreed_value_in_park_yuan: f64,
    /// 内循环率 by value, as `/staff/stats` computes it.
    pub in_park_rate_by_value: Option<f64>,
    /// Cases of the queue not resolved now, and how many are overdue.
    pub open_cases: usize,
    pub overdue_cases: usize,
    /// SLA attainment of the cases opened in the window, as `/staff/sla`
    /// computes it, over all urgencies.
    pub sla: SlaAttainment,
}

#[derive(Debug, Serialize)]
pub struct DistrictStatsOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub district: Option<NamedRef>,
    pub items: Vec<CommunityRow>,
}

/// The district's communities side by side over a window: each row is what
/// `/staff/stats` and `/staff/sla` answer for that community. District
/// administrators see their communities (`district_id` narrows to one of
/// their districts); platform admins name a district.
pub async fn stats(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    q: DistrictStatsQuery,
) -> Result<DistrictStatsOut, ApiError> {
    let (from, to) = staff::window(&WindowQuery {
        from: q.from.clone(),
        to: q.to.clone(),
        community_id: None,
        format: None,
    })?;
    let admin = caller.platform_admin && caller.client.is_none();
    let uid = caller.user_id.clone();
    let client = caller.client.is_some();
    let asked = q.district_id.clone();
    let (district, communities) = db
        .run(move |c| {
            if client {
                return Ok(Err(ApiError::forbidden("需要平台管理员或区域管理员权限")));
            }
            let Some(id) = asked else {
                if admin {
                    return Ok(Err(ApiError::field(
                        "district_id",
                        "required",
                        "平台管理员须用 district_id 指定区域",
                    )));
                }
                let cs = store::communities_administered_by(c, &uid)?;
                if cs.is_empty() {
                    return Ok(Err(ApiError::forbidden("需要平台管理员或区域管理员权限")));
                }
                return Ok(Ok((None, cs)));
            };
            let mine = store::administered_by(c, &uid)?.iter().any(|d| d.id == id);
            if !admin && !mine {
                let any = !store::administered_by(c, &uid)?.is_empty();
                return Ok(Err(if any {
                    ApiError::not_found("区域")
                } else {
                    ApiError::forbidden("需要平台管理员或区域管理员权限")
                }));
            }
            let Some(d) = store::get(c, &id)? else {
                return Ok(Err(ApiError::not_found("区域")));
            };
            let cs = store::communities_of(c, &d.id)?;
            Ok(Ok((
                Some(NamedRef {
                    id: d.id,
                    name: d.name,
                }),
                cs,
            )))
        })
        .await??;
    let items = db
        .run(move |c| {
            let at = now();
            let mut rows = Vec::with_capacity(communities.len());
            for cm in communities {
                let s = staff::stats_of(c, Some(&cm.id), &sla_cfg, from, to)?;
                let sla = staff::sla_of(c, Some(&cm.id), &sla_cfg, from, to)?;
                let q = staff::active_counts(c, Some(cm.id.clone()), &sla_cfg, at)?;
                rows.push(CommunityRow {
                    community: NamedRef {
                        id: cm.id,
                        name: cm.name,
                    },
                    listings: s.listings.total,
                    requests: s.requests,
                    match_rate: s.match_rate,
                    agreed_matches: s.agreed_matches,
                    agreed_in_park: s.agreed_in_park,
                    in_park_rate: s.in_park_rate,
                    agreed_deals: s.funnel.agreed,
                    agreed_value_yuan: s.funnel.agreed_value_yuan,
                    agreed_value_in_park_yuan: s.funnel.agreed_value_in_park_yuan,
                    in_park_rate_by_value: s.funnel.in_park_rate_by_value,
                    open_cases: q.open + q.claimed + q.brokered,
                    overdue_cases: q.overdue,
                    sla: SlaAttainment::of(&sla),
                });
            }
            Ok(rows)
        })
        .await?;
    Ok(DistrictStatsOut {
        from: from.and_utc(),
        to: to.and_utc(),
        district,
        items,
    })
}

// ------------------------------------------------------------ staff roster

#[derive(Debug, Serialize)]
pub struct StaffMemberOut {
    pub user_id: String,
    pub community_id: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `active` or `disabled`.
    pub status: &'static str,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the account last signed in or refreshed its session.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// When it last did something the audit log records.
    pub last_action_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct StaffList {
    pub community: NamedRef,
    pub items: Vec<StaffMemberOut>,
}

fn members_out(c: &mut DbConnection, rows: Vec<(Staff, User)>) -> StoreResult<Vec<StaffMemberOut>> {
    let ids: Vec<String> = rows.iter().map(|(s, _)| s.user_id.clone()).collect();
    let signed_in = store::last_sign_in(c, &ids)?;
    let acted = store::last_action(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(s, u)| StaffMemberOut {
            last_sign_in_at: signed_in.get(&u.id).map(|t| t.and_utc()),
            last_action_at: acted.get(&u.id).map(|t| t.and_utc()),
            status: if s.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            },
            disabled_at: s.disabled_at.map(|t| t.and_utc()),
            created_at: s.created_at.and_utc(),
            user_id: u.id,
            community_id: s.community_id,
            display_name: u.display_name,
            phone: u.phone,
            email: u.email,
        })
        .collect())
}

/// A community's staff accounts with their state and last activity.
pub async fn list_staff(
    db: &Db,
    caller: &Caller,
    community_id: String,
) -> Result<StaffList, ApiError> {
    manages_community(db, caller, &community_id).await?;
    db.run(move |c| {
        let cm = accounts::get_community(c, &community_id)?.ok_or(StoreError::NotFound)?;
        let rows = store::staff_of(c, &community_id)?;
        Ok(StaffList {
            community: NamedRef {
                id: cm.id,
                name: cm.name,
            },
            items: members_out(c, rows)?,
        })
    })
    .await
    .map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("社区"),
        other => other.into(),
    })
}

/// The answer to creating a staff account.
#[derive(Debug, Serialize)]
pub struct StaffCreated {
    pub user_id: String,
    pub community_id: String,
    pub display_name: String,
    /// Set for an invitation (no password given): the code to set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite: Option<InviteOut>,
}

/// A platform admin, or an administrator of the community's district,
/// creates a staff account: with a password, or (none given) with an
/// invitation code the new staff member sets one with. Audited
/// `staff.invited`.
pub async fn create_staff(
    db: &Db,
    caller: &Caller,
    community_id: String,
    body: crate::service::communities::NewAccount,
) -> Result<StaffCreated, ApiError> {
    manages_community(db, caller, &community_id).await?;
    let (user, invitation) = if body.password.is_empty() {
        let mut e = Errors::default();
        let login = Login::parse(&body.login)
            .map_err(|m| e.push("login", "invalid_format", m))
            .ok();
        let name = e.text("display_name", &body.display_name, 1, 64);
        e.into_result().map_err(ApiError::validation)?;
        let login = login.ok_or_else(|| ApiError::internal("login parsed without error"))?;
        let inv = invitation(&login, name).await?;
        (inv.user.clone(), Some(inv))
    } else {
        (
            crate::service::communities::parse_account("", body, false).await?,
            None,
        )
    };
    let by = caller.user_id.clone();
    db.run(move |c| {
        Ok(c.transaction::<_, ApiError, _>(|c| {
            crate::store::begin_write(c)?;
            let (user, staff) =
                accounts::create_staff(c, &community_id, user).map_err(login_taken)?;
            let invite = match &invitation {
                Some(inv) => Some(issue_invite(c, &user.id, &by, inv)?),
                None => None,
            };
            let actor = accounts::actor(c, &by)?;
            audit::record(
                c,
                &actor,
                &community_id,
                "staff.invited",
                None,
                ("user", &user.id),
                json!({ "name": user.display_name, "invite": invite.is_some() }),
            )?;
            Ok(StaffCreated {
                user_id: user.id,
                community_id: staff.community_id,
                display_name: user.display_name,
                invite,
            })
        }))
    })
    .await?
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisableBody {
    pub reason: String,
}

/// Disables (`disable`) or enables a staff account of a community the
/// caller manages. Disabling ends every session of the account at once —
/// access and refresh tokens, stream tickets, open streams — and refuses
/// sign-in with 403 `account_disabled` until it is enabled again. 409
/// `already_disabled` / `not_disabled`. Audited.
pub async fn set_disabled(
    db: &Db,
    caller: &Caller,
    community_id: String,
    user_id: String,
    disable: bool,
    reason: String,
) -> Result<StaffMemberOut, ApiError> {
    manages_community(db, caller, &community_id).await?;
    let mut e = Errors::default();
    let reason = e.text("reason", &reason, 0, 500);
    e.into_result().map_err(ApiError::validation)?;
    if disable && user_id == caller.user_id {
        return Err(ApiError::forbidden("不能停用自己的账号"));
    }
    let by = caller.user_id.clone();
    db.run(move |c| {
        let mut refusal = None;
        let out = stream::write(c, |c| {
            crate::store::begin_write(c)?;
            let Some((staff, _)) = store::staff_member(c, &user_id)?
                .filter(|(s, u)| s.community_id == community_id && u.deleted_at.is_none())
            else {
                refusal = Some(ApiError::not_found("工作人员"));
                return Ok((None, Vec::new()));
            };
            let at = now();
            let mut live = Vec::new();
            match (disable, staff.disabled_at.is_some()) {
                (true, true) => {
                    refusal = Some(ApiError::conflict(Code::AlreadyDisabled, "该账号已停用"));
                    return Ok((None, live));
                }
                (false, false) => {
                    refusal = Some(ApiError::conflict(Code::NotDisabled, "该账号未停用"));
                    return Ok((None, live));
                }
                (true, false) => {
                    store::set_staff_disabled(c, &user_id, Some(at))?;
                    live.push(lifecycle_store::end_sessions(c, &user_id, at)?);
                }
                (false, true) => store::set_staff_disabled(c, &user_id, None)?,
            }
            let actor = accounts::actor(c, &by)?;
            audit::record(
                c,
                &actor,
                &community_id,
                if disable {
                    "staff.disabled"
                } else {
                    "staff.enabled"
                },
                None,
                ("user", &user_id),
                json!({ "reason": reason }),
            )?;
            let row = store::staff_member(c, &user_id)?.ok_or(StoreError::NotFound)?;
            Ok((members_out(c, vec![row])?.pop(), live))
        })?;
        Ok(match (out, refusal) {
            (Some(o), _) => Ok(o),
            (None, Some(e)) => Err(e),
            (None, None) => Err(ApiError::not_found("工作人员")),
        })
    })
    .await?
}
