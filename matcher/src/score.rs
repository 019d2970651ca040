//! The explainable score of an offer↔request pair: hard constraints first, then a weighted mean of soft factors.
//!
//! # Formula
//!
//! 1. The pair is put in (request, offer) order by `side`, so [`score`] also
//!    ranks requests for an offer.
//! 2. Any hard constraint ([`crate::constraints`]) ⇒ [`Scored::Disqualified`]
//!    with its stable key and Chinese reason.
//! 3. Otherwise each soft factor that **can be computed** yields a value `vᵢ`
//!    in `[0, 1]` and an effective weight `wᵢ`, and
//!    `score = Σ wᵢ·vᵢ / Σ wᵢ`. A factor that cannot be computed (no price on
//!    one side, units that do not compare, no coordinates, no dates …) is left
//!    out of both sums, which is the same as sharing its weight among the
//!    present factors in proportion to their weights. Missing data thus
//!    neither helps nor hurts; only evidence does.
//!
//! # Factors (stable keys in [`factor_keys`])
//!
//! | key | value | present when |
//! |---|---|---|
//! | `text_relevance` | normalised BM25 from the caller, else the share of the request's title/attribute tokens found in the offer (synonyms folded) | always, unless the request has no tokens |
//! | `kind_fit` | 1 for the same kind, the rule's fit for an allowed cross-kind pair | always |
//! | `spec_fit` | attribute agreement of [`crate::spec`] | same kind and something compares |
//! | `quantity` | offer amount ÷ needed amount, capped at 1 (units normalised) | both amounts known and comparable |
//! | `price` | 1 within budget, `(budget/price)²` above | budget and price on a comparable basis |
//! | `time` | share of the request's window the offer covers; for logistics a departure date inside the other's window is 1, `1/(1 + days outside)` else | both give a window, or one a window and the other a departure date, or both a departure date |
//! | `available_now` | 1 if the offer is available today, `1/(1+days/scale)` later, 0 if expired | request urgent/emergency and the offer gives dates |
//! | `distance` | `1/(1 + km/distance_scale_km)` | both have coordinates |
//! | `community` | 1 in the same industrial community (内循环), else 0 | both communities known |
//! | `verified` | 1 both firms verified, 0.5 one, 0 none | always |
//! | `freshness` | mean over both listings of `0.5^(age_days/half_life)` | always |
//! | `reliability` | the offering firm's record of deals (ratings and completion rate shrunk toward the park's mean) | the caller knows it (a park with deals; a new firm then has the prior) |
//!
//! Urgency: an urgent (emergency) request multiplies the weights of
//! `distance` and `available_now` by `urgent_multiplier`
//! (`emergency_multiplier`), because a stopped line needs help that is close
//! and free now more than it needs the best price.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::constraints::{self, KindRelation};
use crate::extract::{attr_num, attr_str, attribute_text};
use crate::listing::MatchListing;
use crate::model::{Kind, Urgency};
use crate::spec::spec_fit;
use crate::text::token_overlap;
use crate::units::{BaseUnit, Dimension, NormalUnit, Quantity, find_amounts};

/// Stable machine keys of the soft factors.
pub mod factor_keys {
    pub const TEXT_RELEVANCE: &str = "text_relevance";
    pub const KIND_FIT: &str = "kind_fit";
    pub const SPEC_FIT: &str = "spec_fit";
    pub const QUANTITY: &str = "quantity";
    pub const PRICE: &str = "price";
    pub const TIME: &str = "time";
    pub const AVAILABLE_NOW: &str = "available_now";
    pub const DISTANCE: &str = "distance";
    pub const COMMUNITY: &str = "community";
    pub const VERIFIED: &str = "verified";
    pub const FRESHNESS: &str = "freshness";
    pub const RELIABILITY: &str = "reliability";

    /// Every key, in the order factors appear in a breakdown.
    pub const ALL: &[&str] = &[
        TEXT_RELEVANCE,
        KIND_FIT,
        SPEC_FIT,
        QUANTITY,
        PRICE,
        TIME,
        AVAILABLE_NOW,
        DISTANCE,
        COMMUNITY,
        VERIFIED,
        FRESHNESS,
        RELIABILITY,
    ];
}

/// Factor weights and shape parameters of the scoring function.
///
/// Only relative factor weights matter (the score is a weighted mean).
/// Deserialises from any serde format (JSON, TOML …); every missing field
/// takes its default, unknown fields are an error so a typo in a config file
/// is not silently ignored. A negative or non-finite weight counts as 0; a
/// non-positive or non-finite scale parameter falls back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Text relevance (BM25 or token overlap). Default 3: the text is the
    /// richest evidence of what is offered, but synonyms and decoys fool it.
    pub text_relevance: f64,
    /// Kind fit. Default 2: makes an allowed cross-kind stop-gap rank below a
    /// comparable same-kind offer.
    pub kind_fit: f64,
    /// Category/spec fit of the attributes. Default 3: type, grade, size and
    /// route are what a broker checks first.
    pub spec_fit: f64,
    /// Quantity coverage. Default 2: a partial offer is useful but second best.
    pub quantity: f64,
    /// Price against budget. Default 1: budgets are soft and often missing.
    pub price: f64,
    /// Time-window overlap share. Default 1.5.
    pub time: f64,
    /// Availability today, for urgent requests only. Default 1 (before the urgency multiplier).
    pub available_now: f64,
    /// Distance decay. Default 1.5: parks are compact; transport cost and
    /// response time grow with distance.
    pub distance: f64,
    /// Same industrial community (内循环 first). Default 1.
    pub community: f64,
    /// Verified firms. Default 0.5: trust matters but should not bury a fit.
    pub verified: f64,
    /// Freshness of both posts. Default 0.5: old posts are often stale.
    pub freshness: f64,
    /// The offering firm's record of deals. Default 1: who delivers matters,
    /// but a park's few ratings should not outweigh the fit.
    pub reliability: f64,
    /// Weight multiplier of `distance` and `available_now` for urgent requests. Default 1.5.
    pub urgent_multiplier: f64,
    /// Same for emergency requests. Default 2.
    pub emergency_multiplier: f64,
    /// Distance at which the distance factor is 0.5, in km. Default 10
    /// (roughly the size of one development zone).
    pub distance_scale_km: f64,
    /// Age at which a post's freshness halves, in days. Default 30.
    pub freshness_half_life_days: f64,
    /// Length assumed for a request window with an open end, in days. Default 30.
    pub open_end_horizon_days: f64,
    /// Wait at which `available_now` is 0.5, in days. Default 3.
    pub available_now_scale_days: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            text_relevance: 3.0,
            kind_fit: 2.0,
            spec_fit: 3.0,
            quantity: 2.0,
            price: 1.0,
            time: 1.5,
            available_now: 1.0,
            distance: 1.5,
            community: 1.0,
            verified: 0.5,
            freshness: 0.5,
            reliability: 1.0,
            urgent_multiplier: 1.5,
            emergency_multiplier: 2.0,
            distance_scale_km: 10.0,
            freshness_half_life_days: 30.0,
            open_end_horizon_days: 30.0,
            available_now_scale_days: 3.0,
        }
    }
}

/// A weight as used: negative and non-finite count as 0.
fn weight(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// A scale parameter as used: falls back to `default` unless positive and finite.
fn scale(x: f64, default: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { default }
}

/// One line of the explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    /// Stable key from [`factor_keys`].
    pub key: &'static str,
    /// How well the pair does on this factor, in `[0, 1]`.
    pub value: f64,
    /// The effective weight used in the mean (after urgency multipliers).
    pub weight: f64,
    /// Short explanation in Chinese, with the values compared.
    pub reason_zh: String,
}

/// The outcome of scoring a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Scored {
    /// A hard constraint rules the pair out.
    Disqualified {
        /// Stable key from [`crate::constraints::keys`].
        key: &'static str,
        reason_zh: String,
    },
    /// A candidate with its score and per-factor breakdown.
    Match {
        /// Weighted mean of the present factors, in `[0, 1]`.
        score: f64,
        /// The present factors, in the order of [`factor_keys::ALL`].
        factors: Vec<Factor>,
        /// The offer covers only part of the needed quantity.
        partial: bool,
    },
}

impl Scored {
    /// The score of a match, `None` if disqualified.
    pub fn score(&self) -> Option<f64> {
        match self {
            Self::Match { score, .. } => Some(*score),
            Self::Disqualified { .. } => None,
        }
    }

    pub fn is_match(&self) -> bool {
        matches!(self, Self::Match { .. })
    }

    /// The factor with `key`, if present.
    pub fn factor(&self, key: &str) -> Option<&Factor> {
        match self {
            Self::Match { factors, .. } => factors.iter().find(|f| f.key == key),
            Self::Disqualified { .. } => None,
        }
    }

    /// The disqualifying constraint's key, if any.
    pub fn disqualified_by(&self) -> Option<&'static str> {
        match self {
            Self::Disqualified { key, .. } => Some(key),
            Self::Match { .. } => None,
        }
    }
}

/// Formats a number for explanations: integers without decimals, others
/// with at most two (250, 0.83, 1500).
pub(crate) fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "?".to_owned();
    }
    if (x - x.round()).abs() < 1e-9 {
        return format!("{}", x.round());
    }
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn pct(x: f64) -> String {
    format!("{}%", (x * 100.0).round())
}

/// Great-circle distance in km between two `(lat, lon)` points in degrees.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0088;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().clamp(0.0, 1.0).asin()
}

/// Scores a pair. Arguments may come in either order: roles are taken from
/// `side` (see [`constraints::order_roles`]). `now` is the reference time for
/// freshness, open windows and availability; pass the same `now` for every
/// candidate of one ranking.
pub fn score(
    request: &MatchListing,
    offer: &MatchListing,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Scored {
    let (request, offer) = match constraints::order_roles(request, offer) {
        Ok(pair) => pair,
        Err(v) => {
            return Scored::Disqualified {
                key: v.key,
                reason_zh: v.reason_zh,
            };
        }
    };
    if let Some(v) = constraints::first_violation(request, offer) {
        return Scored::Disqualified {
            key: v.key,
            reason_zh: v.reason_zh,
        };
    }
    let Some(relation) = constraints::kind_relation(request, offer) else {
        // Unreachable after the checks above; kept so a future change cannot panic.
        return Scored::Disqualified {
            key: constraints::keys::INCOMPATIBLE_KIND,
            reason_zh: "类别不符".to_owned(),
        };
    };

    let today = now.date_naive();
    let urgency_boost = match request.urgency {
        Urgency::Normal => 1.0,
        Urgency::Urgent => weight(weights.urgent_multiplier),
        Urgency::Emergency => weight(weights.emergency_multiplier),
    };
    let boost_note = if (urgency_boost - 1.0).abs() > 1e-12 {
        format!(
            "（{}需求，权重×{}）",
            request.urgency.label_zh(),
            fmt_num(urgency_boost)
        )
    } else {
        String::new()
    };

    let mut factors = Vec::new();
    let mut push = |key: &'static str, w: f64, value: f64, reason_zh: String| {
        if value.is_finite() {
            factors.push(Factor {
                key,
                value: value.clamp(0.0, 1.0),
                weight: weight(w),
                reason_zh,
            });
        }
    };

    if let Some((v, why)) = text_relevance(request, offer) {
        push(factor_keys::TEXT_RELEVANCE, weights.text_relevance, v, why);
    }
    match relation {
        KindRelation::Same => push(
            factor_keys::KIND_FIT,
            weights.kind_fit,
            1.0,
            format!("类别一致：{}", offer.kind.label_zh()),
        ),
        KindRelation::CrossKind(rule) => push(
            factor_keys::KIND_FIT,
            weights.kind_fit,
            rule.fit_for(request.urgency),
            rule.reason_zh.to_owned(),
        ),
    }
    if matches!(relation, KindRelation::Same)
        && let Some(fit) = spec_fit(request, offer)
    {
        push(
            factor_keys::SPEC_FIT,
            weights.spec_fit,
            fit.value,
            fit.reason_zh,
        );
    }
    let need = effective_quantity(request);
    let mut partial = false;
    if let (Some(need), Some(have)) = (&need, effective_quantity(offer))
        && let Some(coverage) = have
            .coverage_of(need)
            .filter(|c| c.is_finite() && *c >= 0.0)
    {
        partial = coverage < 1.0;
        let amounts = format!(
            "供给 {}{}，需求 {}{}",
            fmt_num(have.amount),
            have.unit,
            fmt_num(need.amount),
            need.unit
        );
        let why = if partial {
            format!("仅能满足部分数量（{}）：{amounts}", pct(coverage))
        } else {
            format!("数量可满足：{amounts}")
        };
        push(
            factor_keys::QUANTITY,
            weights.quantity,
            coverage.min(1.0),
            why,
        );
    }
    if let Some((v, why)) = price_fit(request, offer, need.as_ref()) {
        push(factor_keys::PRICE, weights.price, v, why);
    }
    let horizon = scale(weights.open_end_horizon_days, 30.0);
    if let Some((v, why)) = time_fit(request, offer, today, horizon) {
        push(factor_keys::TIME, weights.time, v, why);
    }
    if request.urgency >= Urgency::Urgent {
        let days = scale(weights.available_now_scale_days, 3.0);
        if let Some((v, why)) = available_now(offer, today, days) {
            push(
                factor_keys::AVAILABLE_NOW,
                weight(weights.available_now) * urgency_boost,
                v,
                format!("{why}{boost_note}"),
            );
        }
    }
    if let (Some(a), Some(b)) = (request.location(), offer.location()) {
        let km = haversine_km(a, b);
        let v = 1.0 / (1.0 + km / scale(weights.distance_scale_km, 10.0));
        push(
            factor_keys::DISTANCE,
            weight(weights.distance) * urgency_boost,
            v,
            format!("相距约 {} 公里{boost_note}", fmt_num(km)),
        );
    }
    if let (Some(a), Some(b)) = (request.community(), offer.community()) {
        let same = a == b;
        push(
            factor_keys::COMMUNITY,
            weights.community,
            if same { 1.0 } else { 0.0 },
            if same {
                "同一工业社区，内循环优先".to_owned()
            } else {
                "不同工业社区".to_owned()
            },
        );
    }
    let (v, why) = match (request.firm_verified, offer.firm_verified) {
        (true, true) => (1.0, "双方企业均已认证"),
        (false, true) => (0.5, "供给方企业已认证，需求方未认证"),
        (true, false) => (0.5, "需求方企业已认证，供给方未认证"),
        (false, false) => (0.0, "双方企业均未认证"),
    };
    push(factor_keys::VERIFIED, weights.verified, v, why.to_owned());
    let half_life = scale(weights.freshness_half_life_days, 30.0);
    let age = |l: &MatchListing| ((now - l.created_at).num_seconds() as f64 / 86_400.0).max(0.0);
    let (ra, oa) = (age(request), age(offer));
    let fresh = |days: f64| 0.5_f64.powf(days / half_life);
    push(
        factor_keys::FRESHNESS,
        weights.freshness,
        (fresh(ra) + fresh(oa)) / 2.0,
        format!(
            "发布时间：供给 {} 天前，需求 {} 天前",
            oa.floor(),
            ra.floor()
        ),
    );

    if let Some(r) = offer.reliability {
        let why = if r.completed == 0 {
            format!(
                "供给方暂无完成的成交，按园区平均信誉计（评分 {}）",
                fmt_num(r.rating)
            )
        } else {
            format!(
                "供给方履约信誉：已完成 {} 单，综合评分 {}",
                r.completed,
                fmt_num(r.rating)
            )
        };
        push(factor_keys::RELIABILITY, weights.reliability, r.value, why);
    }

    let total: f64 = factors.iter().map(|f| f.weight).sum();
    let score = if total > 0.0 {
        factors.iter().map(|f| f.weight * f.value).sum::<f64>() / total
    } else {
        0.0
    };
    Scored::Match {
        score: if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        },
        factors,
        partial,
    }
}

/// Scores `anchor` against every candidate and sorts best first: matches by
/// score (ties by id, for stable output), then the disqualified ones by id.
/// Works in both directions (offers for a request, requests for an offer).
pub fn rank<'a>(
    anchor: &MatchListing,
    candidates: impl IntoIterator<Item = &'a MatchListing>,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Vec<(&'a MatchListing, Scored)> {
    let mut out: Vec<_> = candidates
        .into_iter()
        .map(|c| (c, score(anchor, c, weights, now)))
        .collect();
    out.sort_by(|(a, sa), (b, sb)| {
        let key = |s: &Scored| s.score().unwrap_or(-1.0);
        key(sb).total_cmp(&key(sa)).then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Text relevance from the caller's BM25, else token overlap.
fn text_relevance(request: &MatchListing, offer: &MatchListing) -> Option<(f64, String)> {
    let engine = match (request.text_relevance(), offer.text_relevance()) {
        (Some(a), Some(b)) => Some((a + b) / 2.0),
        (a, b) => a.or(b),
    };
    if let Some(x) = engine {
        return Some((x, format!("检索相关度 {}（BM25 归一化）", fmt_num(x))));
    }
    let have = format!(
        "{} {} {}",
        offer.title,
        offer.description,
        attribute_text(offer)
    );
    let need = format!("{} {}", request.title, attribute_text(request));
    let overlap = token_overlap(&need, &have)
        .or_else(|| token_overlap(&format!("{need} {}", request.description), &have))?;
    Some((
        overlap,
        format!("需求标题/属性关键词在供给中出现 {}", pct(overlap)),
    ))
}

/// Whether a unit read from text can be the amount of a `kind` listing.
fn kind_accepts(kind: Kind, unit: &NormalUnit) -> bool {
    match kind {
        Kind::Space => unit.dimension() == Dimension::Area,
        Kind::Material => matches!(
            unit.dimension(),
            Dimension::Mass | Dimension::Volume | Dimension::Count
        ),
        Kind::Equipment => unit.base == BaseUnit::Count("台"),
        Kind::Logistics => {
            matches!(unit.dimension(), Dimension::Mass | Dimension::Volume)
                || unit.base == BaseUnit::Count("车")
        }
        Kind::Workforce => unit.base == BaseUnit::Count("人"),
        Kind::Service => unit.dimension() == Dimension::Count,
    }
}

/// The amount a listing offers or needs: `quantity`, else the kind's size
/// attribute (`area_m2`, `headcount`), else the first fitting amount in the
/// title, then the description ("Quantities sometimes appear only in the text").
fn effective_quantity(l: &MatchListing) -> Option<Quantity> {
    if let Some(q) = &l.quantity
        && q.amount > 0.0
        && q.normalised().is_some()
    {
        return Some(q.clone());
    }
    let from_attr = match l.kind {
        Kind::Space => attr_num(l, "area_m2").map(|a| Quantity::new(a, "平方米")),
        Kind::Workforce => attr_num(l, "headcount").map(|n| Quantity::new(n, "人")),
        _ => None,
    };
    if let Some(q) = from_attr.filter(|q| q.amount > 0.0) {
        return Some(q);
    }
    [&l.title, &l.description].into_iter().find_map(|text| {
        find_amounts(text)
            .into_iter()
            .find(|(v, u)| *v > 0.0 && kind_accepts(l.kind, u))
            .map(|(v, u)| Quantity::new(v, u.base.symbol()))
    })
}

/// Offer price against the request's budget. Prices compare on the common
/// basis of [`crate::units::NormalPrice`]; a lump-sum budget also compares
/// with a one-off unit price times the needed amount (9万元 vs 8100元/吨 × 10吨).
fn price_fit(
    request: &MatchListing,
    offer: &MatchListing,
    need: Option<&Quantity>,
) -> Option<(f64, String)> {
    let (budget_p, ask_p) = (request.price.as_ref()?, offer.price.as_ref()?);
    let (budget, ask) = (budget_p.normalised()?, ask_p.normalised()?);
    if !(budget.yuan > 0.0 && ask.yuan >= 0.0) {
        return None;
    }
    let written = |p: &crate::units::Price| format!("{}{}", fmt_num(p.amount), p.unit);
    let (ratio, basis) = if budget.is_comparable(&ask) {
        (
            ask.yuan / budget.yuan,
            format!("报价 {}，预算 {}", written(ask_p), written(budget_p)),
        )
    } else {
        let (need_base, need_unit) = need?.normalised()?;
        let lump_budget = budget.per.is_none() && !budget.per_day;
        let unit_ask = !ask.per_day && ask.per == Some(need_unit.base);
        if !(lump_budget && unit_ask) {
            return None;
        }
        let total = ask.yuan * need_base;
        (
            total / budget.yuan,
            format!(
                "按需求数量计总价约 {} 元，预算 {}",
                fmt_num(total),
                written(budget_p)
            ),
        )
    };
    if !ratio.is_finite() {
        return None;
    }
    if ratio <= 1.0 {
        Some((1.0, format!("{basis}，在预算以内")))
    } else {
        Some((
            (1.0 / ratio).powi(2),
            format!("{basis}，超出预算 {}", pct(ratio - 1.0)),
        ))
    }
}

fn departure_date(l: &MatchListing) -> Option<NaiveDate> {
    attr_str(l, "departure_date").and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// Share of the request's window that the offer's window covers. An open
/// request start means "from today", an open end means `horizon_days` after
/// the start; an open offer end reaches forever. Logistics listings without
/// windows compare departure dates instead: `1/(1 + days apart)`.
fn time_fit(
    request: &MatchListing,
    offer: &MatchListing,
    today: NaiveDate,
    horizon_days: f64,
) -> Option<(f64, String)> {
    if let (Some(rw), Some(ow)) = (request.window(), offer.window()) {
        let start = rw.0.unwrap_or_else(|| rw.1.map_or(today, |u| today.min(u)));
        let end =
            rw.1.unwrap_or_else(|| {
                start
                    .checked_add_days(Days::new(horizon_days.round() as u64))
                    .unwrap_or(start)
            })
            .max(start);
        let lo = ow.0.map_or(start, |f| f.max(start));
        let hi = ow.1.map_or(end, |u| u.min(end));
        let need_days = (end - start).num_days() + 1;
        let overlap = ((hi - lo).num_days() + 1).max(0);
        let share = overlap as f64 / need_days as f64;
        return Some((share, format!("供给时间覆盖需求期的 {}", pct(share))));
    }
    // A departure date against a window: a truck leaving on a day inside the
    // request's window serves it fully; a day outside it loses fit with
    // every day it misses by, as departure dates compare with each other.
    if request.kind == Kind::Logistics {
        let inside = |day: NaiveDate, w: (Option<NaiveDate>, Option<NaiveDate>)| {
            let early = w.0.map_or(0, |f| (f - day).num_days().max(0));
            let late = w.1.map_or(0, |u| (day - u).num_days().max(0));
            early.max(late)
        };
        let read = match (request.window(), departure_date(offer)) {
            (Some(rw), Some(d)) => Some((inside(d, rw), d)),
            _ => match (departure_date(request), offer.window()) {
                (Some(d), Some(ow)) => Some((inside(d, ow), d)),
                _ => None,
            },
        };
        if let Some((apart, day)) = read {
            let why = if apart == 0 {
                format!("发车日期 {day} 在需求时间内")
            } else {
                format!("发车日期 {day} 与需求时间相差 {apart} 天")
            };
            return Some((1.0 / (1.0 + apart as f64), why));
        }
    }
    if request.kind == Kind::Logistics
        && let (Some(a), Some(b)) = (departure_date(request), departure_date(offer))
    {
        let apart = (a - b).num_days().abs();
        let why = if apart == 0 {
            "发车日期一致".to_owned()
        } else {
            format!("发车日期相差 {apart} 天")
        };
        return Some((1.0 / (1.0 + apart as f64), why));
    }
    None
}

/// For urgent requests: is the offer available today?
fn available_now(offer: &MatchListing, today: NaiveDate, scale_days: f64) -> Option<(f64, String)> {
    let from = offer.available_from.or_else(|| departure_date(offer));
    let until = offer.available_until;
    if from.is_none() && until.is_none() {
        return None;
    }
    if until.is_some_and(|u| u < today) {
        return Some((0.0, "供给可用期已过".to_owned()));
    }
    match from {
        Some(f) if f > today => {
            let days = (f - today).num_days();
            Some((
                1.0 / (1.0 + days as f64 / scale_days),
                format!("供给 {days} 天后可用"),
            ))
        }
        _ => Some((1.0, "供给当前即可提供".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_for_people() {
        assert_eq!(fmt_num(250.0), "250");
        assert_eq!(fmt_num(0.8333), "0.83");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(f64::NAN), "?");
        assert_eq!(pct(0.6), "60%");
    }

    #[test]
    fn haversine_known_distance() {
        // Ningbo Beilun to Shanghai People's Square ≈ 150 km as the crow flies.
        let d = haversine_km((29.92, 121.85), (31.23, 121.47));
        assert!((140.0..160.0).contains(&d), "{d}");
        assert_eq!(haversine_km((30.0, 121.0), (30.0, 121.0)), 0.0);
    }

    #[test]
    fn weights_from_partial_json() {
        let w: Weights = serde_json::from_str(r#"{"distance": 3, "distance_scale_km": 5}"#)
            .expect("partial weights");
        assert_eq!(w.distance, 3.0);
        assert_eq!(w.distance_scale_km, 5.0);
        assert_eq!(w.spec_fit, Weights::default().spec_fit);
        assert!(serde_json::from_str::<Weights>(r#"{"distanse": 3}"#).is_err());
        let all: Weights = serde_json::from_str("{}").expect("empty");
        assert_eq!(all, Weights::default());
    }

    #[test]
    fn a_departure_date_inside_the_window_fits() {
        let at = DateTime::from_timestamp(1_795_000_000, 0).expect("time");
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day);
        let mut r = MatchListing::new("r", crate::Side::Request, Kind::Logistics, "A", "求车", at);
        r.available_from = d(12, 12);
        r.available_until = d(12, 18);
        let mut o = MatchListing::new("o", crate::Side::Offer, Kind::Logistics, "B", "回程车", at);
        o.attributes
            .insert("departure_date".into(), "2026-12-14".into());
        let today = at.date_naive();
        let (v, why) = time_fit(&r, &o, today, 30.0).expect("compared");
        assert_eq!(v, 1.0, "{why}");
        o.attributes
            .insert("departure_date".into(), "2026-12-20".into());
        let (v, _) = time_fit(&r, &o, today, 30.0).expect("compared");
        assert!((v - 1.0 / 3.0).abs() < 1e-9, "{v}");
        // And the other way round: a request's departure inside an offer's window.
        let mut r2 =
            MatchListing::new("r2", crate::Side::Request, Kind::Logistics, "A", "求车", at);
        r2.attributes
            .insert("departure_date".into(), "2026-12-15".into());
        let mut o2 = MatchListing::new("o2", crate::Side::Offer, Kind::Logistics, "B", "专线", at);
        o2.available_from = d(12, 1);
        o2.available_until = d(12, 31);
        assert_eq!(time_fit(&r2, &o2, today, 30.0).map(|t| t.0), Some(1.0));
    }

    #[test]
    fn bad_weights_are_neutralised() {
        assert_eq!(weight(-1.0), 0.0);
        assert_eq!(weight(f64::NAN), 0.0);
        assert_eq!(scale(0.0, 10.0), 10.0);
        assert_eq!(scale(f64::INFINITY, 10.0), 10.0);
    }
}
