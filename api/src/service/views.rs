//! How the API shows what several use cases answer with: a listing, a
//! reference to a firm or community, a match factor with its reason. A leaf
//! of the service layer: it reads rows and imports no other use case.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::service::listing_form::Amount;
use crate::store::audit::AuditEntry;
use crate::store::listings::ListingView;

/// The listing as the API shows it.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Serialize)]
pub struct LocationOut {
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct FirmRef {
    pub id: String,
    pub name: String,
    pub verified: bool,
}

#[derive(Debug, Serialize)]
pub struct ListingOut {
    pub id: String,
    pub key: Option<String>,
    pub side: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub location: Option<LocationOut>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub urgency: String,
    pub visibility: String,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub attributes: Map<String, Value>,
    pub firm: FirmRef,
    pub community: NamedRef,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The community staff member who posted it for the firm (null once
    /// the firm took it over, or when the firm posted it).
    pub posted_by_staff: Option<String>,
    /// Set when community staff hid the listing: why and when.
    pub hidden: Option<HiddenOut>,
    /// Present on a request that calls for quotes (询价).
    pub call_for_quotes: Option<CallForQuotesOut>,
    /// What confirmed agreements hold of the quantity, and what remains.
    pub committed: Option<Amount>,
    pub remaining: Option<Amount>,
}

#[derive(Debug, Serialize)]
pub struct HiddenOut {
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct CallForQuotesOut {
    pub closes_at: Option<DateTime<Utc>>,
}

pub fn listing_out(v: ListingView) -> ListingOut {
    let l = v.listing;
    let status = l.shown_status().to_string();
    let remaining = l.remaining_amount();
    let call_for_quotes = l.quotes_wanted.then(|| CallForQuotesOut {
        closes_at: l.quotes_close_at.map(utc),
    });
    let committed = l
        .quantity_amount
        .and(l.quantity_unit.clone())
        .map(|unit| Amount {
            amount: l.committed_amount,
            unit,
        });
    let amount =
        |a: Option<f64>, u: Option<String>| a.zip(u).map(|(amount, unit)| Amount { amount, unit });
    let location = if l.address.is_some() || l.lat.is_some() {
        Some(LocationOut {
            address: l.address,
            lat: l.lat,
            lon: l.lon,
        })
    } else {
        None
    };
    ListingOut {
        id: l.id,
        key: l.ext_key,
        side: l.side,
        kind: l.kind,
        title: l.title,
        description: l.description,
        quantity: amount(l.quantity_amount, l.quantity_unit),
        price: amount(l.price_amount, l.price_unit),
        location,
        available_from: l.available_from,
        available_until: l.available_until,
        urgency: l.urgency.as_str().to_string(),
        visibility: l.visibility.as_str().to_string(),
        status,
        expires_at: l.expires_at.map(utc),
        attributes: serde_json::from_str(&l.attributes).unwrap_or_default(),
        firm: FirmRef {
            id: l.firm_id,
            name: v.firm_name,
            verified: v.firm_verified,
        },
        community: NamedRef {
            id: l.community_id,
            name: v.community_name,
        },
        version: l.version,
        created_at: utc(l.created_at),
        updated_at: utc(l.updated_at),
        closed_at: l.closed_at.map(utc),
        posted_by_staff: l.posted_by_staff,
        hidden: l.hidden_at.map(|at| HiddenOut {
            reason: l.hidden_reason.unwrap_or_default(),
            at: utc(at),
        }),
        call_for_quotes,
        remaining: remaining
            .zip(committed.as_ref().map(|c| c.unit.clone()))
            .map(|(amount, unit)| Amount { amount, unit }),
        committed,
    }
}

// ------------------------------------------------------------------ factors

#[derive(Debug, Serialize)]
pub struct FactorOut {
    pub key: &'static str,
    pub value: f64,
    pub weight: f64,
    /// Why, in Chinese.
    pub reason: String,
}

#[derive(Debug, Deserialize)]
struct StoredFactor {
    key: String,
    value: f64,
    weight: f64,
    reason_zh: String,
}

/// Factor keys are a fixed set; stored ones map back to them.
fn known_key(k: &str) -> &'static str {
    zhiqilian_matcher::factor_keys::ALL
        .iter()
        .find(|x| **x == k)
        .copied()
        .unwrap_or("unknown")
}

/// The breakdown stored with a match record.
pub fn stored_factors(json: &str) -> Vec<FactorOut> {
    serde_json::from_str::<Vec<StoredFactor>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|f| FactorOut {
            key: known_key(&f.key),
            value: f.value,
            weight: f.weight,
            reason: f.reason_zh,
        })
        .collect()
}

// -------------------------------------------------------------------- audit

/// An audit log entry as the staff console and API clients see it.
#[derive(Debug, Serialize)]
pub struct ActorOut {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct SubjectOut {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub id: String,
}

#[derive(Debug, Serialize)]
pub struct AuditOut {
    pub id: String,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: ActorOut,
    pub community_id: String,
    pub case_id: Option<String>,
    pub subject: SubjectOut,
    pub detail: serde_json::Value,
}

pub fn audit_out(e: AuditEntry) -> AuditOut {
    AuditOut {
        id: e.id,
        at: e.at.and_utc(),
        action: e.action,
        actor: ActorOut {
            id: e.actor_user_id,
            name: e.actor_name,
        },
        community_id: e.community_id,
        case_id: e.case_id,
        subject: SubjectOut {
            subject_type: e.subject_type,
            id: e.subject_id,
        },
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
    }
}
