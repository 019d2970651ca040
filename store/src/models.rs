//! Rows as stored: plain structs mapped to the tables in `schema`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use zhiqilian_matcher::MatchStatus;

use super::schema::*;
use super::{new_id, now};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = communities)]
pub struct Community {
    pub id: String,
    pub name: String,
    pub district: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub is_platform_admin: bool,
    pub created_at: NaiveDateTime,
    /// Carried by every token of the user (`sv`); bumped to end them all.
    pub session_version: i64,
    /// When the user deleted their account (personal data erased).
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = firms)]
pub struct Firm {
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
    pub verified_at: Option<NaiveDateTime>,
    pub verified_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when another claim of the same USCC was verified.
    pub claim_refused_at: Option<NaiveDateTime>,
    /// Set while staff have suspended the firm.
    pub suspended_at: Option<NaiveDateTime>,
    pub suspended_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub user_id: String,
    pub firm_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = community_staff)]
pub struct Staff {
    pub user_id: String,
    pub community_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_throttle)]
pub struct LoginThrottle {
    pub login: String,
    pub failures: i32,
    pub first_failure_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = listings)]
#[diesel(treat_none_as_null = true)]
pub struct Listing {
    pub id: String,
    pub ext_key: Option<String>,
    pub firm_id: String,
    pub community_id: String,
    pub created_by: Option<String>,
    pub side: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub quantity_amount: Option<f64>,
    pub quantity_unit: Option<String>,
    pub price_amount: Option<f64>,
    pub price_unit: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub urgency: String,
    pub visibility: String,
    pub status: String,
    pub expires_at: Option<NaiveDateTime>,
    pub attributes: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    /// The community staff member who posted the listing for its firm;
    /// `None` once one of the firm's admins took it over (or when the firm
    /// posted it itself).
    pub posted_by_staff: Option<String>,
    /// Why community staff hid the listing (it is closed too), and when.
    pub hidden_reason: Option<String>,
    pub hidden_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = match_records)]
pub struct MatchRecord {
    pub id: String,
    pub request_id: String,
    pub offer_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub score: f64,
    pub partial: bool,
    pub factors: String,
    pub status: MatchStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the record reached `agreed`: when the second firm agreed.
    pub agreed_at: Option<NaiveDateTime>,
    /// Each firm's consent (when, and which user gave it).
    pub request_agreed_at: Option<NaiveDateTime>,
    pub request_agreed_by: Option<String>,
    pub offer_agreed_at: Option<NaiveDateTime>,
    pub offer_agreed_by: Option<String>,
}

impl MatchRecord {
    /// A new `suggested` record of a pair.
    pub fn suggested(s: &Suggestion) -> MatchRecord {
        let t = now();
        MatchRecord {
            id: new_id(),
            request_id: s.request_id.clone(),
            offer_id: s.offer_id.clone(),
            request_firm_id: s.request_firm_id.clone(),
            offer_firm_id: s.offer_firm_id.clone(),
            request_community_id: s.request_community_id.clone(),
            offer_community_id: s.offer_community_id.clone(),
            score: s.score,
            partial: s.partial,
            factors: s.factors.clone(),
            status: MatchStatus::Suggested,
            created_at: t,
            updated_at: t,
            agreed_at: None,
            request_agreed_at: None,
            request_agreed_by: None,
            offer_agreed_at: None,
            offer_agreed_by: None,
        }
    }
}

/// A pair the matcher proposes.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub request_id: String,
    pub offer_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub score: f64,
    pub partial: bool,
    pub factors: String,
    /// Titles, for the notifications of a new pair.
    pub request_title: String,
    pub offer_title: String,
}
