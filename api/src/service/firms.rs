//! Firms: self-registration, who sees what of a firm, verification by
//! community staff, members.

use serde::{Deserialize, Serialize};
use zhiqilian_matcher::Uscc;

use crate::service::access::Caller;
use crate::service::communities::{NewAccount, parse_account};
use crate::service::error::{ApiError, Code};
use crate::service::pagination::{self, Page};
use crate::service::threads::actor_on;
use crate::service::validate::Errors;
use crate::store::accounts::{self, FirmFilter, NewFirm};
use crate::store::models::Firm;
use crate::store::{Db, StoreError};

#[derive(Debug, Serialize)]
pub struct FirmOut {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub community_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Present for the firm's members, its community's staff and admins,
    /// and for a firm it confirmed an agreement with (the contacts the
    /// agreement revealed, see DEALS.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    pub verified: bool,
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `pending` until staff verify the firm, `verified`, or `refused` when
    /// another firm's claim to the same USCC was verified.
    pub claim_status: &'static str,
    /// For the firm's community staff and admins: the other firms that
    /// claim the same USCC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competing_claims: Option<Vec<ClaimOut>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The firm's record of deals, on its profile (`GET /firms/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<crate::service::reputation::Reputation>,
}

/// Another firm claiming the same USCC, as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimOut {
    pub id: String,
    pub name: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub claim_status: &'static str,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn claim_status(f: &Firm) -> &'static str {
    if f.verified {
        "verified"
    } else if f.claim_refused_at.is_some() {
        "refused"
    } else {
        "pending"
    }
}

/// The competing claims of each firm in `firms`, by firm id.
fn competing(firms: &[&Firm], claims: &[Firm]) -> std::collections::HashMap<String, Vec<ClaimOut>> {
    firms
        .iter()
        .map(|f| {
            let others = claims
                .iter()
                .filter(|c| c.uscc == f.uscc && c.id != f.id)
                .map(|c| ClaimOut {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    contact_name: c.contact_name.clone(),
                    contact_phone: c.contact_phone.clone(),
                    claim_status: claim_status(c),
                    created_at: c.created_at.and_utc(),
                })
                .collect();
            (f.id.clone(), others)
        })
        .collect()
}

/// Staff of the firm's community and platform admins see competing claims.
fn sees_claims(caller: &Caller, f: &Firm) -> bool {
    caller.can_administer_community(&f.community_id)
}

async fn with_claims(
    db: &Db,
    caller: &Caller,
    f: Firm,
    with_contact: bool,
) -> Result<FirmOut, ApiError> {
    if !sees_claims(caller, &f) {
        return Ok(firm_out(f, with_contact));
    }
    let usccs = vec![f.uscc.clone()];
    let claims = db.run(move |c| accounts::claims_of(c, &usccs)).await?;
    let mut by_firm = competing(&[&f], &claims);
    let others = by_firm.remove(&f.id);
    let mut out = firm_out(f, with_contact);
    out.competing_claims = others;
    Ok(out)
}

fn firm_out(f: Firm, with_contact: bool) -> FirmOut {
    FirmOut {
        claim_status: claim_status(&f),
        competing_claims: None,
        id: f.id,
        name: f.name,
        uscc: f.uscc,
        community_id: f.community_id,
        address: f.address,
        lat: f.lat,
        lon: f.lon,
        contact_name: with_contact.then_some(f.contact_name),
        contact_phone: with_contact.then_some(f.contact_phone),
        verified: f.verified,
        verified_at: f.verified_at.map(|t| t.and_utc()),
        created_at: f.created_at.and_utc(),
        reputation: None,
    }
}

/// Members, their community's staff and admins manage a firm; others see a
/// verified firm's public profile and nothing of an unverified one.
fn access(caller: &Caller, f: &Firm) -> (bool, bool) {
    let manage = caller.is_member_of(&f.id) || caller.can_administer_community(&f.community_id);
    (manage || f.verified, manage)
}

/// 403 for a firm the caller may see but not act on, 404 for one they may
/// not see at all.
fn refuse(caller: &Caller, f: &Firm, why: &str) -> ApiError {
    if access(caller, f).0 {
        ApiError::forbidden(why)
    } else {
        ApiError::not_found("企业")
    }
}

/// Absent fields default to blank so that validation reports them all
/// together instead of serde stopping at the first one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterFirm {
    pub name: String,
    pub uscc: String,
    pub community_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub contact_name: String,
    pub contact_phone: String,
    pub admin: NewAccount,
}

/// The answer to a registration, the same whether or not the login was
/// free, so that registering cannot be used to find out which phone
/// numbers and email addresses have accounts (staff's among them).
#[derive(Debug, Serialize)]
pub struct Registered {
    pub status: &'static str,
    pub login: String,
    pub detail: &'static str,
}

/// A firm registers itself with its first admin account; it waits for
/// staff verification.
pub async fn register(db: &Db, b: RegisterFirm) -> Result<Registered, ApiError> {
    let mut e = Errors::default();
    let name = e.text("name", &b.name, 2, 100);
    let uscc = match Uscc::parse(&b.uscc) {
        Ok(u) => Some(u.as_str().to_string()),
        Err(err) => {
            e.push(
                "uscc",
                "invalid_uscc",
                format!("统一社会信用代码无效：{err}"),
            );
            None
        }
    };
    let address = e.text("address", &b.address, 2, 200);
    e.lat_lon("", b.lat, b.lon);
    let contact_name = e.text("contact_name", &b.contact_name, 1, 64);
    let contact_phone = e.text("contact_phone", &b.contact_phone, 5, 32);
    if !contact_phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        e.push(
            "contact_phone",
            "invalid_format",
            "联系电话只能包含数字和 +-() 空格",
        );
    }
    let community_id = b.community_id.trim().to_string();
    if community_id.is_empty() {
        e.push("community_id", "required", "不能为空");
    }
    let login = crate::service::validate::Login::parse(&b.admin.login)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    // Report account problems together with firm problems.
    let admin = match parse_account("admin.", b.admin, false).await {
        Ok(u) => Some(u),
        Err(err) => {
            e.extend(err.errors);
            None
        }
    };
    e.into_result().map_err(ApiError::validation)?;
    let (Some(uscc), Some(admin)) = (uscc, admin) else {
        return Err(ApiError::internal("validated registration lost a field"));
    };

    let cid = community_id.clone();
    let community = db.run(move |c| accounts::get_community(c, &cid)).await?;
    if community.is_none() {
        return Err(ApiError::field(
            "community_id",
            "unknown_community",
            "社区不存在",
        ));
    }
    let new = NewFirm {
        name,
        uscc: uscc.clone(),
        community_id,
        address,
        lat: b.lat,
        lon: b.lon,
        contact_name,
        contact_phone,
        verified: false,
    };
    // A USCC whose firm is verified is taken (verified firms are public);
    // one that is only claimed is claimed again, and staff decide.
    let outcome = db
        .run(move |c| {
            if accounts::firm_by_uscc(c, &uscc)?.is_some_and(|f| f.verified) {
                return Err(StoreError::Conflict("uscc".into()));
            }
            accounts::register_firm(c, new, admin)
        })
        .await;
    match outcome {
        Ok(_) => {}
        Err(StoreError::Conflict(what)) if what == "uscc" => {
            return Err(ApiError::conflict(
                Code::UsccTaken,
                "该统一社会信用代码已由通过认证的企业注册；如有异议请联系社区工作人员",
            ));
        }
        // The login has an account: nothing is stored, and the answer is
        // the one of a registration that went through.
        Err(StoreError::Conflict(_)) => {}
        Err(other) => return Err(other.into()),
    }
    Ok(Registered {
        status: "submitted",
        login,
        detail: "注册申请已提交，请用所填账号和密码登录，企业经社区工作人员认证后即可对外展示。\
                 如无法登录，说明该手机号或邮箱已有账号：请用原密码登录或联系社区工作人员。",
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFirmsQuery {
    pub community: Option<String>,
    pub verified: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Staff list their community's firms (e.g. those awaiting verification);
/// admins list any.
pub async fn list(db: &Db, caller: &Caller, q: ListFirmsQuery) -> Result<Page<FirmOut>, ApiError> {
    let community_id = if caller.platform_admin {
        q.community
    } else if let Some(own) = &caller.staff_community {
        if q.community.as_deref().is_some_and(|c| c != own) {
            return Err(ApiError::forbidden("只能查看本社区的企业"));
        }
        Some(own.clone())
    } else {
        return Err(ApiError::forbidden("需要社区工作人员或平台管理员权限"));
    };
    let limit = pagination::limit(q.limit)?;
    let filter = FirmFilter {
        community_id,
        verified: q.verified,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    // Only staff and admins list firms: every row shows its competing claims.
    let (rows, claims) = db
        .run(move |c| {
            let rows = accounts::list_firms(c, &filter)?;
            let usccs: Vec<String> = rows.iter().map(|f| f.uscc.clone()).collect();
            let claims = accounts::claims_of(c, &usccs)?;
            Ok((rows, claims))
        })
        .await?;
    let by_firm = competing(&rows.iter().collect::<Vec<_>>(), &claims);
    Ok(Page::from_rows(
        rows,
        limit,
        |f| &f.id,
        |f| {
            let others = by_firm.get(&f.id).cloned();
            let mut out = firm_out(f, true);
            out.competing_claims = others;
            out
        },
    ))
}

async fn load_firm(db: &Db, id: String) -> Result<Firm, ApiError> {
    db.run(move |c| accounts::get_firm(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("企业"))
}

/// A firm as the caller may see it.
pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<FirmOut, ApiError> {
    let f = load_firm(db, id).await?;
    let (see, manage) = access(caller, &f);
    if !see {
        return Err(ApiError::not_found("企业"));
    }
    // A confirmed agreement between the two firms revealed the contacts.
    let mine = caller.firm_id().map(str::to_string);
    let (other, community) = (f.id.clone(), f.community_id.clone());
    let (revealed, reputation) = db
        .run(move |c| {
            let revealed = match mine {
                Some(m) if m != other => {
                    !crate::store::agreements::reveals_between(c, &m, &other)?.is_empty()
                }
                _ => false,
            };
            let ledger = crate::service::reputation::Ledger::load(c)?
                .with_responses(c, std::slice::from_ref(&other))?;
            Ok((revealed, ledger.reputation(&other, &community)))
        })
        .await?;
    let mut out = with_claims(db, caller, f, manage || revealed).await?;
    out.reputation = Some(reputation);
    Ok(out)
}

/// Staff of the firm's community verify it (see `accounts::verify`).
pub async fn verify(db: &Db, caller: &Caller, id: String) -> Result<FirmOut, ApiError> {
    let f = load_firm(db, id).await?;
    if !caller.can_administer_community(&f.community_id) {
        return Err(refuse(caller, &f, "只有企业所在社区的工作人员可以认证企业"));
    }
    let actor = actor_on(db, caller).await?;
    let f = crate::service::accounts::verify(db, f.id, actor).await?;
    with_claims(db, caller, f, true).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AddMember {
    pub login: String,
    pub password: String,
    pub display_name: String,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MemberOut {
    pub user_id: String,
    pub firm_id: String,
    pub role: String,
    pub display_name: String,
}

/// A firm admin adds a member account.
pub async fn add_member(
    db: &Db,
    caller: &Caller,
    id: String,
    b: AddMember,
) -> Result<MemberOut, ApiError> {
    let f = load_firm(db, id).await?;
    if !caller.is_firm_admin_of(&f.id) {
        return Err(refuse(caller, &f, "只有企业管理员可以添加成员"));
    }
    let role = b.role.unwrap_or_else(|| "member".into());
    if role != "admin" && role != "member" {
        return Err(ApiError::field(
            "role",
            "invalid_value",
            "role 须为 admin 或 member",
        ));
    }
    let user = parse_account(
        "",
        NewAccount {
            login: b.login,
            password: b.password,
            display_name: b.display_name,
        },
        false,
    )
    .await?;
    let firm_id = f.id.clone();
    let r = role.clone();
    let (user, m) = db
        .run(move |c| accounts::add_member(c, &firm_id, &r, user))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(Code::LoginTaken, "该手机号或邮箱已注册"),
            other => other.into(),
        })?;
    Ok(MemberOut {
        user_id: user.id,
        firm_id: m.firm_id,
        role: m.role,
        display_name: user.display_name,
    })
}
