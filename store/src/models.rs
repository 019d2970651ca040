//! Rows as stored: plain structs mapped to the tables in `schema`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use zhiqilian_matcher::{ListingStatus, MatchOutcome, MatchStatus, Urgency, Visibility};

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
    /// A platform or district admin disabled the account: it cannot sign
    /// in and its sessions ended.
    pub disabled_at: Option<NaiveDateTime>,
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
    pub urgency: Urgency,
    pub visibility: Visibility,
    pub status: ListingStatus,
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
    /// A request posted as a call for quotes (询价), and when it closes.
    pub quotes_wanted: bool,
    pub quotes_close_at: Option<NaiveDateTime>,
    /// Quantity held by confirmed agreements, in `quantity_unit`.
    pub committed_amount: f64,
    /// When confirmed agreements covered the whole quantity (the listing is
    /// then closed and shown as `fulfilled`).
    pub fulfilled_at: Option<NaiveDateTime>,
}

impl Listing {
    /// The quantity not yet held by confirmed agreements (never below 0).
    pub fn remaining_amount(&self) -> Option<f64> {
        self.quantity_amount
            .map(|q| (q - self.committed_amount).max(0.0))
    }

    /// The status as shown: `fulfilled` for a listing its agreements closed.
    pub fn shown_status(&self) -> &'static str {
        if self.status == ListingStatus::Closed && self.fulfilled_at.is_some() {
            "fulfilled"
        } else {
            self.status.as_str()
        }
    }
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

/// Generates `ALL`, `as_str`, `parse`, `label_zh` and `Display` for the
/// statuses of a deal's rows (the wire and database form is `as_str`).
macro_rules! statuses {
    ($(#[$meta:meta])* pub enum $name:ident { $($variant:ident => ($wire:literal, $zh:literal),)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }

            /// The status of a wire (or stored) name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s.trim())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

statuses! {
    /// Where a quote stands: the quoting firm may revise or withdraw it while
    /// `submitted`; the requesting firm accepts or declines it.
    pub enum QuoteStatus {
        Submitted => ("submitted", "已报价"),
        Accepted => ("accepted", "已接受"),
        Declined => ("declined", "已婉拒"),
        Withdrawn => ("withdrawn", "已撤回"),
    }
}

statuses! {
    /// An agreement's lifecycle: proposed → confirmed → in_progress →
    /// completed | cancelled.
    pub enum AgreementStatus {
        Proposed => ("proposed", "待确认"),
        Confirmed => ("confirmed", "已成交"),
        InProgress => ("in_progress", "履约中"),
        Completed => ("completed", "已完成"),
        Cancelled => ("cancelled", "已取消"),
    }
}

impl AgreementStatus {
    /// Still running: it holds (or may come to hold) quantity.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Proposed | Self::Confirmed | Self::InProgress)
    }
}

/// A quote (报价) of an offering firm on a request that calls for quotes.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = quotes)]
#[diesel(treat_none_as_null = true)]
pub struct Quote {
    pub id: String,
    pub request_id: String,
    /// The quoting firm's offer the quote is made from.
    pub offer_id: String,
    /// The match record of the (request, offer) pair.
    pub match_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub price_amount: f64,
    pub price_unit: String,
    pub quantity_amount: f64,
    pub quantity_unit: String,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: String,
    pub terms: String,
    pub valid_until: Option<NaiveDateTime>,
    pub status: String,
    pub decline_reason: Option<String>,
    pub version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    /// The requesting firm asked for a revision (pending until the quote is
    /// revised or withdrawn): when, by whom, with what message.
    pub revision_requested_at: Option<NaiveDateTime>,
    pub revision_requested_by: Option<String>,
    pub revision_message: Option<String>,
}

impl Quote {
    pub fn status(&self) -> QuoteStatus {
        QuoteStatus::parse(&self.status).unwrap_or(QuoteStatus::Withdrawn)
    }
}

/// An agreement (成交) between the two firms of a match; the row holds the
/// latest version of its terms, `agreement_versions` all of them.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agreements)]
#[diesel(treat_none_as_null = true)]
pub struct Agreement {
    pub id: String,
    pub match_id: String,
    pub quote_id: Option<String>,
    pub request_id: String,
    pub offer_id: String,
    pub request_firm_id: String,
    pub offer_firm_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub status: String,
    /// The latest proposed version.
    pub version: i32,
    /// The latest version both firms confirmed.
    pub confirmed_version: Option<i32>,
    pub quantity_amount: f64,
    pub quantity_unit: String,
    pub price_amount: f64,
    pub price_unit: String,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: String,
    /// The firm that proposed the latest version (the other one confirms it).
    pub proposed_by_firm: String,
    /// What the confirmed version holds against each listing, in its unit.
    pub committed_request: f64,
    pub committed_offer: f64,
    /// The confirmed version's total price in yuan, when computable.
    pub value_yuan: Option<f64>,
    pub first_confirmed_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The staff user who proposed the latest version for the requesting
    /// firm (a brokered case); both firms then confirm it.
    pub proposed_by_staff: Option<String>,
    /// The staff case the agreement was proposed on.
    pub case_id: Option<String>,
    /// Of a staff-proposed version: the firm that confirmed it first.
    pub confirmed_first_by_firm: Option<String>,
}

impl Agreement {
    pub fn status(&self) -> AgreementStatus {
        AgreementStatus::parse(&self.status).unwrap_or(AgreementStatus::Cancelled)
    }

    pub fn is_party(&self, firm_id: &str) -> bool {
        self.request_firm_id == firm_id || self.offer_firm_id == firm_id
    }

    /// The other firm of the agreement.
    pub fn other_firm(&self, firm_id: &str) -> &str {
        if self.request_firm_id == firm_id {
            &self.offer_firm_id
        } else {
            &self.request_firm_id
        }
    }
}

/// One version of an agreement's terms.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = agreement_versions)]
pub struct AgreementVersion {
    pub agreement_id: String,
    pub version: i32,
    /// The terms as JSON (quantity, price, dates, place).
    pub terms: String,
    pub proposed_by_firm: String,
    pub proposed_by: String,
    pub proposed_at: NaiveDateTime,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<NaiveDateTime>,
}

/// The record that two firms' contacts were revealed to each other.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_reveals)]
pub struct ContactReveal {
    pub id: String,
    pub agreement_id: String,
    pub firm_a_id: String,
    pub firm_b_id: String,
    /// The user whose confirmation revealed them.
    pub revealed_by: String,
    pub reason: String,
    pub revealed_at: NaiveDateTime,
}

/// One firm's rating of the other after a completed agreement.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ratings)]
pub struct Rating {
    pub id: String,
    pub agreement_id: String,
    pub rater_firm_id: String,
    pub ratee_firm_id: String,
    pub ratee_community_id: String,
    pub rated_by: String,
    pub score: i32,
    /// JSON array of tags (准时, 质量, 沟通 …).
    pub tags: String,
    pub comment: String,
    pub created_at: NaiveDateTime,
    /// Completion + 30 days: after it the rating is shown even alone.
    pub window_closes_at: NaiveDateTime,
    /// Set when both firms have rated, or by the sweep when the window closed.
    pub published_at: Option<NaiveDateTime>,
    /// Staff hid the comment as abusive (the score still counts).
    pub comment_hidden_at: Option<NaiveDateTime>,
    pub comment_hidden_by: Option<String>,
    pub comment_hidden_reason: Option<String>,
}

impl Rating {
    /// Shown to both firms (and counted): both rated, or the window closed.
    pub fn is_published(&self, now: NaiveDateTime) -> bool {
        self.published_at.is_some() || self.window_closes_at <= now
    }
}

/// One entry of the outcome log: what the firms did with a match and the
/// factor values it showed then (`factors`: a JSON object of factor key →
/// value). Names no person and no firm.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = match_outcomes)]
pub struct MatchOutcomeRow {
    pub id: String,
    pub match_id: String,
    pub request_id: String,
    pub offer_id: String,
    pub outcome: MatchOutcome,
    pub urgency: Urgency,
    pub score: f64,
    pub factors: String,
    pub recorded_at: NaiveDateTime,
}
