//! Communities (工业社区, the tenants) and their staff accounts.

use serde::{Deserialize, Serialize};

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::password;
use crate::service::validate::{Errors, Login};
use crate::store::accounts::{self, NewCommunity, NewUser};
use crate::store::models::Community;
use crate::store::{Db, StoreError};

#[derive(Debug, Serialize)]
pub struct CommunityOut {
    pub id: String,
    pub name: String,
    pub district: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

impl From<Community> for CommunityOut {
    fn from(c: Community) -> Self {
        CommunityOut {
            id: c.id,
            name: c.name,
            district: c.district,
            lat: c.lat,
            lon: c.lon,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CommunityList {
    pub items: Vec<CommunityOut>,
}

/// Every community (public: the registration form needs the list).
pub async fn list(db: &Db) -> Result<CommunityList, ApiError> {
    let items = db.run(accounts::list_communities).await?;
    Ok(CommunityList {
        items: items.into_iter().map(Into::into).collect(),
    })
}

pub async fn get(db: &Db, id: String) -> Result<CommunityOut, ApiError> {
    let c = db
        .run(move |c| accounts::get_community(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("社区"))?;
    Ok(CommunityOut::from(c))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateCommunity {
    pub name: String,
    #[serde(default)]
    pub district: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A platform admin creates a community.
pub async fn create(
    db: &Db,
    caller: &Caller,
    b: CreateCommunity,
) -> Result<CommunityOut, ApiError> {
    caller.require_admin()?;
    let mut e = Errors::default();
    let name = e.text("name", &b.name, 2, 64);
    let district = e.text("district", b.district.as_deref().unwrap_or(""), 0, 64);
    e.lat_lon("", b.lat, b.lon);
    e.into_result().map_err(ApiError::validation)?;
    let c = db
        .run(move |c| {
            accounts::create_community(
                c,
                NewCommunity {
                    name,
                    district,
                    lat: b.lat,
                    lon: b.lon,
                },
            )
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(Code::CommunityExists, "同名社区已存在"),
            other => other.into(),
        })?;
    Ok(CommunityOut::from(c))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewAccount {
    pub login: String,
    pub password: String,
    pub display_name: String,
}

/// Validates a new account's fields under `prefix` and hashes its password.
pub async fn parse_account(prefix: &str, a: NewAccount, admin: bool) -> Result<NewUser, ApiError> {
    let mut e = Errors::default();
    let login = Login::parse(&a.login)
        .map_err(|m| e.push(format!("{prefix}login"), "invalid_format", m))
        .ok();
    let display_name = e.text(&format!("{prefix}display_name"), &a.display_name, 1, 64);
    if let Err(m) = password::check_policy(&a.password, &[a.login.trim(), display_name.as_str()]) {
        e.push(format!("{prefix}password"), "weak_password", m);
    }
    e.into_result().map_err(ApiError::validation)?;
    let login = login.ok_or_else(|| ApiError::internal("login parsed without error"))?;
    let password_hash = password::hash(a.password).await?;
    Ok(NewUser {
        phone: login.phone(),
        email: login.email(),
        display_name,
        password_hash,
        is_platform_admin: admin,
    })
}
