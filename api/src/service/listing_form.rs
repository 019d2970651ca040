//! Listing input: the shape clients (and the importer) send, parsed into a
//! validated `Draft`, with every field problem reported at once.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use zhiqilian_matcher::{
    FieldError, Kind, ListingStatus, Side, Urgency, Visibility, validate_attributes,
};

use crate::service::validate::Errors;
use crate::store::models::{Firm, Listing};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub amount: f64,
    pub unit: String,
}

/// A request posted as a call for quotes (询价): offering firms send quotes
/// until `closes_at` (RFC 3339, optional) or until the request decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallForQuotesIn {
    #[serde(default)]
    pub closes_at: Option<String>,
}

/// A checked call for quotes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallForQuotes {
    pub closes_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

/// A new listing as sent by a client. Required fields are `Option` so that
/// a missing one is reported with the others, not as the first parse error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    pub side: Option<String>,
    pub kind: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub location: Option<LocationIn>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub urgency: Option<String>,
    pub visibility: Option<String>,
    pub expires_at: Option<String>,
    pub attributes: Option<Map<String, Value>>,
    /// Staff posting for a firm of their community name it here; a firm's
    /// own members may leave it out (or name their own firm).
    #[serde(default)]
    pub firm_id: Option<String>,
    /// Requests only, not for emergencies (staff broker those).
    pub call_for_quotes: Option<CallForQuotesIn>,
}

/// `Some(None)` for an explicit null (clear the field), `None` when absent.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A partial update. `side` and `kind` cannot change (post a new listing).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingPatch {
    pub side: Option<Value>,
    pub kind: Option<Value>,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub quantity: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "nullable")]
    pub price: Option<Option<Amount>>,
    #[serde(default, deserialize_with = "nullable")]
    pub location: Option<Option<LocationIn>>,
    #[serde(default, deserialize_with = "nullable")]
    pub available_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub available_until: Option<Option<String>>,
    pub urgency: Option<String>,
    pub visibility: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub expires_at: Option<Option<String>>,
    pub attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "nullable")]
    pub call_for_quotes: Option<Option<CallForQuotesIn>>,
}

/// A listing whose every field has been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub side: Side,
    pub kind: Kind,
    pub title: String,
    pub description: String,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub available_from: Option<NaiveDate>,
    pub available_until: Option<NaiveDate>,
    pub urgency: Urgency,
    pub visibility: Visibility,
    pub expires_at: Option<NaiveDateTime>,
    pub attributes: Map<String, Value>,
    pub call_for_quotes: Option<CallForQuotes>,
}

fn enum_field<T: std::str::FromStr>(
    e: &mut Errors,
    field: &str,
    v: Option<&str>,
    default: Option<T>,
    allowed: &str,
) -> Option<T> {
    match v {
        None => {
            if default.is_none() {
                e.push(field, "required", format!("必填，可选值：{allowed}"));
            }
            default
        }
        Some(s) => match s.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                e.push(
                    field,
                    "invalid_value",
                    format!("取值无效，可选值：{allowed}"),
                );
                None
            }
        },
    }
}

fn amount(e: &mut Errors, field: &str, a: &Option<Amount>, allow_zero: bool) -> Option<Amount> {
    let a = a.as_ref()?;
    let ok = a.amount.is_finite()
        && a.amount <= 1e12
        && if allow_zero {
            a.amount >= 0.0
        } else {
            a.amount > 0.0
        };
    if !ok {
        let msg = if allow_zero {
            "须为 0 到 1e12 之间的数"
        } else {
            "须为大于 0 且不超过 1e12 的数"
        };
        e.push(format!("{field}.amount"), "out_of_range", msg);
    }
    let unit = e.text(&format!("{field}.unit"), &a.unit, 1, 16);
    Some(Amount {
        amount: a.amount,
        unit,
    })
}

fn date(e: &mut Errors, field: &str, v: &Option<String>) -> Option<NaiveDate> {
    let s = v.as_deref()?.trim();
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if s.len() == 10 => Some(d),
        _ => {
            e.push(field, "invalid_format", "日期格式须为 YYYY-MM-DD");
            None
        }
    }
}

/// Parses an RFC 3339 instant into naive UTC.
pub fn parse_instant(s: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.naive_utc())
}

/// Validates a new listing. The location defaults to the firm's.
pub fn validate(
    input: &ListingInput,
    firm: &Firm,
    now: NaiveDateTime,
) -> Result<Draft, Vec<FieldError>> {
    let mut e = Errors::default();
    let side = enum_field::<Side>(
        &mut e,
        "side",
        input.side.as_deref(),
        None,
        "offer, request",
    );
    let kind = enum_field::<Kind>(
        &mut e,
        "kind",
        input.kind.as_deref(),
        None,
        "space, equipment, material, logistics, workforce, service",
    );
    let title = e.text("title", input.title.as_deref().unwrap_or(""), 2, 100);
    let description = e.multiline(
        "description",
        input.description.as_deref().unwrap_or(""),
        0,
        2000,
    );
    let quantity = amount(&mut e, "quantity", &input.quantity, false);
    let price = amount(&mut e, "price", &input.price, true);
    let (address, lat, lon) = match &input.location {
        Some(l) => {
            e.lat_lon("location.", l.lat, l.lon);
            let address = l
                .address
                .as_deref()
                .map(|a| e.text("location.address", a, 0, 200))
                .filter(|a| !a.is_empty());
            (address, l.lat, l.lon)
        }
        None => (
            Some(firm.address.clone()).filter(|a| !a.is_empty()),
            firm.lat,
            firm.lon,
        ),
    };
    let available_from = date(&mut e, "available_from", &input.available_from);
    let available_until = date(&mut e, "available_until", &input.available_until);
    if let (Some(f), Some(u)) = (available_from, available_until)
        && u < f
    {
        e.push(
            "available_until",
            "out_of_range",
            "结束日期不能早于开始日期",
        );
    }
    let urgency = enum_field(
        &mut e,
        "urgency",
        input.urgency.as_deref(),
        Some(Urgency::Normal),
        "normal, urgent, emergency",
    );
    let visibility = enum_field(
        &mut e,
        "visibility",
        input.visibility.as_deref(),
        Some(Visibility::Public),
        "public, community",
    );
    let expires_at = match input.expires_at.as_deref() {
        None => None,
        Some(s) => match parse_instant(s) {
            Some(t) if t > now => Some(t),
            Some(_) => {
                e.push("expires_at", "out_of_range", "过期时间须晚于当前时间");
                None
            }
            None => {
                e.push(
                    "expires_at",
                    "invalid_format",
                    "须为 RFC 3339 时间，如 2026-12-31T00:00:00Z",
                );
                None
            }
        },
    };
    let call_for_quotes = match &input.call_for_quotes {
        None => None,
        Some(c) => {
            if side.is_some_and(|s| s != Side::Request) {
                e.push("call_for_quotes", "requests_only", "只有需求可以发起询价");
            }
            if urgency == Some(Urgency::Emergency) {
                e.push(
                    "call_for_quotes",
                    "not_for_emergency",
                    "紧急需求由社区工作人员直接撮合，不走询价",
                );
            }
            let closes_at = match c.closes_at.as_deref() {
                None => None,
                Some(s) => match parse_instant(s) {
                    Some(t) if t > now => Some(t),
                    Some(_) => {
                        e.push(
                            "call_for_quotes.closes_at",
                            "out_of_range",
                            "截止时间须晚于当前时间",
                        );
                        None
                    }
                    None => {
                        e.push(
                            "call_for_quotes.closes_at",
                            "invalid_format",
                            "须为 RFC 3339 时间，如 2026-12-31T00:00:00Z",
                        );
                        None
                    }
                },
            };
            Some(CallForQuotes { closes_at })
        }
    };
    let attributes = input.attributes.clone().unwrap_or_default();
    // Attribute text is single-line: the same rule as titles, for the
    // importer too (HTTP requests are screened before they get here).
    for (key, value) in &attributes {
        let texts: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if key.chars().any(char::is_control)
            || texts.iter().any(|t| t.chars().any(char::is_control))
        {
            e.push(
                format!("attributes.{}", key.replace(char::is_control, "")),
                crate::service::validate::CONTROL_CHARACTER,
                "不能包含换行、制表符或其他控制字符",
            );
        }
    }
    if let Some(k) = kind
        && let Err(errs) = validate_attributes(k, &attributes)
    {
        e.extend(errs);
    }
    e.into_result()?;
    match (side, kind, urgency, visibility) {
        (Some(side), Some(kind), Some(urgency), Some(visibility)) => Ok(Draft {
            side,
            kind,
            title,
            description,
            quantity,
            price,
            address,
            lat,
            lon,
            available_from,
            available_until,
            urgency,
            visibility,
            expires_at,
            attributes,
            call_for_quotes,
        }),
        _ => Err(vec![FieldError::new(
            "body",
            "invalid_value",
            "字段校验失败",
        )]),
    }
}

/// The input that would recreate `row`, so a patch can be validated as a
/// whole listing by the same rules as a new one.
pub fn input_of(row: &Listing) -> ListingInput {
    let pair = |a: Option<f64>, u: &Option<String>| match (a, u) {
        (Some(amount), Some(unit)) => Some(Amount {
            amount,
            unit: unit.clone(),
        }),
        _ => None,
    };
    ListingInput {
        side: Some(row.side.clone()),
        kind: Some(row.kind.clone()),
        title: Some(row.title.clone()),
        description: Some(row.description.clone()),
        quantity: pair(row.quantity_amount, &row.quantity_unit),
        price: pair(row.price_amount, &row.price_unit),
        location: Some(LocationIn {
            address: row.address.clone(),
            lat: row.lat,
            lon: row.lon,
        }),
        available_from: row.available_from.clone(),
        available_until: row.available_until.clone(),
        urgency: Some(row.urgency.as_str().to_string()),
        visibility: Some(row.visibility.as_str().to_string()),
        expires_at: None,
        attributes: serde_json::from_str(&row.attributes).ok(),
        firm_id: None,
        // The closing time is kept by the caller unless a patch sets it.
        call_for_quotes: row.quotes_wanted.then(CallForQuotesIn::default),
    }
}

/// Applies a patch to the input of an existing listing.
pub fn apply_patch(
    mut base: ListingInput,
    p: ListingPatch,
) -> Result<ListingInput, Vec<FieldError>> {
    let mut e = Errors::default();
    if p.side.is_some() {
        e.push("side", "immutable", "发布后不能修改供需方向，请重新发布");
    }
    if p.kind.is_some() {
        e.push("kind", "immutable", "发布后不能修改类别，请重新发布");
    }
    e.into_result()?;
    if let Some(v) = p.title {
        base.title = Some(v);
    }
    if let Some(v) = p.description {
        base.description = Some(v);
    }
    if let Some(v) = p.quantity {
        base.quantity = v;
    }
    if let Some(v) = p.price {
        base.price = v;
    }
    if let Some(v) = p.location {
        base.location = Some(v.unwrap_or(LocationIn {
            address: None,
            lat: None,
            lon: None,
        }));
    }
    if let Some(v) = p.available_from {
        base.available_from = v;
    }
    if let Some(v) = p.available_until {
        base.available_until = v;
    }
    if let Some(v) = p.urgency {
        base.urgency = Some(v);
    }
    if let Some(v) = p.visibility {
        base.visibility = Some(v);
    }
    if let Some(v) = p.expires_at {
        base.expires_at = v;
    }
    if let Some(v) = p.attributes {
        base.attributes = Some(v);
    }
    if let Some(v) = p.call_for_quotes {
        base.call_for_quotes = v;
    }
    Ok(base)
}

/// Writes a draft into a row (new or existing), leaving identity and
/// lifecycle fields to the caller.
pub fn fill_row(row: &mut Listing, d: Draft) {
    row.side = d.side.as_str().to_string();
    row.kind = d.kind.as_str().to_string();
    row.title = d.title;
    row.description = d.description;
    row.quantity_amount = d.quantity.as_ref().map(|q| q.amount);
    row.quantity_unit = d.quantity.map(|q| q.unit);
    row.price_amount = d.price.as_ref().map(|q| q.amount);
    row.price_unit = d.price.map(|q| q.unit);
    row.address = d.address;
    row.lat = d.lat;
    row.lon = d.lon;
    row.available_from = d.available_from.map(|d| d.to_string());
    row.available_until = d.available_until.map(|d| d.to_string());
    row.urgency = d.urgency;
    row.visibility = d.visibility;
    row.expires_at = d.expires_at;
    row.attributes = Value::Object(d.attributes).to_string();
    row.quotes_wanted = d.call_for_quotes.is_some();
    row.quotes_close_at = d.call_for_quotes.and_then(|c| c.closes_at);
}

/// A fresh open listing row for `firm`.
pub fn new_row(
    firm: &Firm,
    created_by: Option<String>,
    ext_key: Option<String>,
    d: Draft,
    now: NaiveDateTime,
) -> Listing {
    let mut row = Listing {
        id: crate::store::new_id(),
        ext_key,
        firm_id: firm.id.clone(),
        community_id: firm.community_id.clone(),
        created_by,
        side: String::new(),
        kind: String::new(),
        title: String::new(),
        description: String::new(),
        quantity_amount: None,
        quantity_unit: None,
        price_amount: None,
        price_unit: None,
        address: None,
        lat: None,
        lon: None,
        available_from: None,
        available_until: None,
        urgency: Urgency::Normal,
        visibility: Visibility::Public,
        status: ListingStatus::Open,
        expires_at: None,
        attributes: "{}".into(),
        version: 1,
        created_at: now,
        updated_at: now,
        closed_at: None,
        posted_by_staff: None,
        hidden_reason: None,
        hidden_at: None,
        quotes_wanted: false,
        quotes_close_at: None,
        committed_amount: 0.0,
        fulfilled_at: None,
    };
    fill_row(&mut row, d);
    row
}
