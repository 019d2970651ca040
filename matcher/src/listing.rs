//! The matcher's view of a listing: exactly the fields scoring and hard constraints read.
//!
//! The API layer builds one `MatchListing` per stored listing (and per search
//! hit), so this type carries no database ids of our own crates, only plain
//! strings, and stays free of I/O. Every optional field may be missing; the
//! scorer leaves out what it cannot compute instead of guessing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{Kind, Side, Urgency};
use crate::units::{Price, Quantity};

fn normal_urgency() -> Urgency {
    Urgency::Normal
}

/// A listing as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchListing {
    /// Stable listing id (any string; only used for tie-breaking and reports).
    pub id: String,
    pub side: Side,
    pub kind: Kind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The per-kind structured summary (see [`crate::attribute_keys`]); free
    /// text values, any key may be missing.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// The amount offered or needed, units as written (2吨, 1500㎡, 3台).
    #[serde(default)]
    pub quantity: Option<Quantity>,
    /// For offers the asking price; for requests the **budget**.
    #[serde(default)]
    pub price: Option<Price>,
    /// WGS-84 latitude in degrees.
    #[serde(default)]
    pub lat: Option<f64>,
    /// WGS-84 longitude in degrees.
    #[serde(default)]
    pub lon: Option<f64>,
    /// The industrial community (tenant) the posting firm belongs to.
    #[serde(default)]
    pub community_id: Option<String>,
    /// The posting firm; pairs from one firm are never matched.
    pub firm_id: String,
    /// Whether the posting firm's identity (USCC, licence) was verified by staff.
    #[serde(default)]
    pub firm_verified: bool,
    /// First day of availability (offer) or of the need (request), inclusive.
    #[serde(default)]
    pub available_from: Option<NaiveDate>,
    /// Last day of availability or of the need, inclusive.
    #[serde(default)]
    pub available_until: Option<NaiveDate>,
    #[serde(default = "normal_urgency")]
    pub urgency: Urgency,
    pub created_at: DateTime<Utc>,
    /// Text relevance of this listing to the other side of the pair, in `[0, 1]`.
    ///
    /// Filled by the caller on the **retrieved candidate** from the search
    /// engine's BM25 score, normalised per query (for example `score / max
    /// score of the result page`, or `s / (s + k)`), because raw BM25 values
    /// are not comparable across queries. Leave it `None` on the anchor
    /// listing and when no search was run: the scorer then falls back to its
    /// own token overlap of titles and attributes. If both listings of a pair
    /// carry a value, the mean is used. Values outside `[0, 1]` are clamped and
    /// NaN counts as missing.
    #[serde(default)]
    pub text_relevance: Option<f32>,
    /// The posting firm's track record of deals, filled by the caller from
    /// its reputation; `None` (the labelled sets, a park without any deal
    /// yet) leaves the `reliability` factor out.
    #[serde(default)]
    pub reliability: Option<Reliability>,
}

/// A firm's record of deals as the matcher reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    /// In `[0, 1]`: the firm's rating and completion rate, shrunk toward
    /// the park's mean (a firm without history has the park's prior).
    pub value: f64,
    /// Deals the firm completed.
    pub completed: u32,
    /// The shrunk average rating on the 1–5 scale.
    pub rating: f64,
}

impl MatchListing {
    /// A listing with the required fields set and every optional one empty;
    /// fill the rest with struct update syntax.
    pub fn new(
        id: impl Into<String>,
        side: Side,
        kind: Kind,
        firm_id: impl Into<String>,
        title: impl Into<String>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            side,
            kind,
            title: title.into(),
            description: String::new(),
            attributes: Map::new(),
            quantity: None,
            price: None,
            lat: None,
            lon: None,
            community_id: None,
            firm_id: firm_id.into(),
            firm_verified: false,
            available_from: None,
            available_until: None,
            urgency: Urgency::Normal,
            created_at,
            text_relevance: None,
            reliability: None,
        }
    }

    /// Title and description as one text, for the text-reading rules.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.title, self.description)
    }

    /// The position, if both coordinates are present and on the globe.
    pub fn location(&self) -> Option<(f64, f64)> {
        let (lat, lon) = (self.lat?, self.lon?);
        let valid = lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon);
        valid.then_some((lat, lon))
    }

    /// The availability window `(from, until)` if at least one end is given
    /// and the ends are in order; a reversed window is a data error and is
    /// treated as unknown rather than as "never available".
    pub fn window(&self) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
        match (self.available_from, self.available_until) {
            (None, None) => None,
            (Some(from), Some(until)) if from > until => None,
            (from, until) => Some((from, until)),
        }
    }

    /// [`Self::text_relevance`] clamped to `[0, 1]`, NaN as `None`.
    pub fn text_relevance(&self) -> Option<f64> {
        self.text_relevance
            .map(f64::from)
            .filter(|x| !x.is_nan())
            .map(|x| x.clamp(0.0, 1.0))
    }

    /// The posting firm, trimmed; `None` if blank.
    pub(crate) fn firm(&self) -> Option<&str> {
        Some(self.firm_id.trim()).filter(|f| !f.is_empty())
    }

    /// The community, trimmed; `None` if missing or blank.
    pub(crate) fn community(&self) -> Option<&str> {
        self.community_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn listing() -> MatchListing {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
            .single()
            .expect("valid time");
        MatchListing::new("L1", Side::Offer, Kind::Space, "F1", "标准厂房出租", at)
    }

    #[test]
    fn location_requires_valid_coordinates() {
        let mut l = listing();
        assert_eq!(l.location(), None);
        l.lat = Some(29.9);
        assert_eq!(l.location(), None);
        l.lon = Some(121.8);
        assert_eq!(l.location(), Some((29.9, 121.8)));
        l.lat = Some(f64::NAN);
        assert_eq!(l.location(), None);
        l.lat = Some(95.0);
        assert_eq!(l.location(), None);
    }

    #[test]
    fn reversed_window_is_unknown() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("date");
        let mut l = listing();
        assert_eq!(l.window(), None);
        l.available_from = Some(d(12, 1));
        assert_eq!(l.window(), Some((Some(d(12, 1)), None)));
        l.available_until = Some(d(11, 1));
        assert_eq!(l.window(), None);
    }

    #[test]
    fn text_relevance_is_clamped() {
        let mut l = listing();
        l.text_relevance = Some(1.7);
        assert_eq!(l.text_relevance(), Some(1.0));
        l.text_relevance = Some(-0.2);
        assert_eq!(l.text_relevance(), Some(0.0));
        l.text_relevance = Some(f32::NAN);
        assert_eq!(l.text_relevance(), None);
    }

    #[test]
    fn deserialises_with_defaults() {
        let l: MatchListing = serde_json::from_value(serde_json::json!({
            "id": "D-O-001", "side": "offer", "kind": "equipment", "title": "叉车出租",
            "firm_id": "DF01", "created_at": "2026-11-18T09:00:00Z"
        }))
        .expect("minimal listing");
        assert_eq!(l.urgency, Urgency::Normal);
        assert!(l.attributes.is_empty() && l.quantity.is_none() && !l.firm_verified);
    }
}
