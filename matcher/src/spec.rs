//! Category/spec fit: how well a same-kind offer's attributes agree with what the request asks for.
//!
//! Each kind compares a few attributes; every comparison that both listings
//! allow yields a value in `[0, 1]` and a weight, and the fit is their
//! weighted mean. The main type (equipment_type, material_name, usage,
//! vehicle_type/route, job_type, service_type) weighs double because a wrong
//! type is what makes an offer useless. Hard mismatches (undersized machine,
//! weak fire class) never reach this module; they disqualify in
//! [`crate::constraints`].

use crate::extract::{self, Cold, attr_num, attr_str};
use crate::listing::MatchListing;
use crate::model::Kind;
use crate::score::fmt_num;
use crate::text::{canonical, contains_canonical, similarity};

/// The spec fit of a pair with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpecFit {
    pub value: f64,
    pub reason_zh: String,
}

/// Weight of the main type comparison relative to the others.
const TYPE_WEIGHT: f64 = 2.0;
/// A machine more than this many times the needed size starts to lose fit
/// (a 800 t press for a 250 t mould wastes money and floor space).
const OVERSIZE_RATIO: f64 = 1.5;

#[derive(Default)]
struct Parts(Vec<(f64, f64, String)>);

impl Parts {
    fn add(&mut self, value: f64, weight: f64, reason: String) {
        if value.is_finite() {
            self.0.push((value.clamp(0.0, 1.0), weight, reason));
        }
    }

    fn finish(self) -> Option<SpecFit> {
        let total: f64 = self.0.iter().map(|(_, w, _)| w).sum();
        if self.0.is_empty() || total <= 0.0 {
            return None;
        }
        let value = self.0.iter().map(|(v, w, _)| v * w).sum::<f64>() / total;
        let reason_zh = self
            .0
            .into_iter()
            .map(|(_, _, r)| r)
            .collect::<Vec<_>>()
            .join("；");
        Some(SpecFit { value, reason_zh })
    }
}

/// The spec fit of a same-kind pair, or `None` when no attribute compares.
pub(crate) fn spec_fit(request: &MatchListing, offer: &MatchListing) -> Option<SpecFit> {
    let mut parts = Parts::default();
    match request.kind {
        Kind::Space => space(request, offer, &mut parts),
        Kind::Equipment => equipment(request, offer, &mut parts),
        Kind::Material => material(request, offer, &mut parts),
        Kind::Logistics => logistics(request, offer, &mut parts),
        Kind::Workforce => workforce(request, offer, &mut parts),
        Kind::Service => service(request, offer, &mut parts),
    }
    parts.finish()
}

/// Compares a free-text attribute; when only one side has it, looks for the
/// value in the other side's text instead (an offer titled 啤机出租 is an 注塑机
/// offer even without `equipment_type`).
fn text_attr(
    parts: &mut Parts,
    request: &MatchListing,
    offer: &MatchListing,
    key: &str,
    label: &str,
    weight: f64,
) {
    match (attr_str(request, key), attr_str(offer, key)) {
        (Some(r), Some(o)) => {
            let s = similarity(r, o);
            let reason = if s >= 1.0 {
                format!("{label}一致（{o}）")
            } else if s >= 0.7 {
                format!("{label}相近：需求“{r}”，供给“{o}”")
            } else {
                format!("{label}不同：需求“{r}”，供给“{o}”")
            };
            parts.add(s, weight, reason);
        }
        (Some(r), None) => {
            if contains_canonical(&canonical(&offer.text()), &canonical(r)) {
                parts.add(0.8, weight, format!("供给描述提及{label}“{r}”"));
            }
        }
        (None, Some(o)) => {
            if contains_canonical(&canonical(&request.text()), &canonical(o)) {
                parts.add(0.8, weight, format!("需求描述提及{label}“{o}”"));
            }
        }
        (None, None) => {}
    }
}

/// A spec the offer must reach (height, load, power, size). Below the need
/// the fit falls quadratically; above it stays 1 unless `oversize` applies.
fn at_least(
    parts: &mut Parts,
    need: Option<f64>,
    have: Option<f64>,
    label: &str,
    unit: &str,
    oversize: bool,
    weight: f64,
) {
    let (Some(need), Some(have)) = (need, have) else {
        return;
    };
    if !(need > 0.0 && have > 0.0) {
        return;
    }
    let (value, verdict) = if have + 1e-9 >= need {
        if oversize && have > OVERSIZE_RATIO * need {
            (OVERSIZE_RATIO * need / have, "偏大")
        } else {
            (1.0, "满足")
        }
    } else {
        ((have / need).powi(2), "不足")
    };
    parts.add(
        value,
        weight,
        format!(
            "{label} {}{unit}，需求 {}{unit}，{verdict}",
            fmt_num(have),
            fmt_num(need)
        ),
    );
}

/// How well a space of usage `have` serves a need for `need`.
fn usage_fit(need: &str, have: &str) -> f64 {
    match (need, have) {
        _ if need == have => 1.0,
        ("冷库", _) => 0.0,
        ("仓储", "冷库") | ("仓储", "生产") => 0.5,
        ("生产", "仓储") => 0.4,
        ("办公", _) | (_, "办公") => 0.2,
        _ => 0.3,
    }
}

fn space(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    if let (Some(need), Some(have)) = (extract::usage(request), extract::usage(offer)) {
        parts.add(
            usage_fit(need, have),
            TYPE_WEIGHT,
            if need == have {
                format!("用途一致（{have}）")
            } else {
                format!("用途不同：需求{need}，供给{have}")
            },
        );
    }
    // Height from the attribute, else from the text after a height word
    // (层高8米以上, 净高9米): the same spec, written where posters write it.
    let height = |l: &MatchListing| {
        attr_num(l, "ceiling_height_m").or_else(|| {
            crate::limits::limits_of(
                &l.text(),
                crate::units::Dimension::Length,
                Some(crate::limits::Cue::Height),
            )
            .first()
            .map(|h| h.value)
        })
    };
    at_least(
        parts,
        height(request),
        height(offer),
        "层高",
        "米",
        false,
        1.0,
    );
    for (key, label, unit) in [
        ("floor_load_t_per_m2", "承重", "吨/㎡"),
        ("power_kva", "电力", "kVA"),
        ("crane_t", "行车", "吨"),
    ] {
        at_least(
            parts,
            attr_num(request, key),
            attr_num(offer, key),
            label,
            unit,
            false,
            1.0,
        );
    }
    if let Some((_, need_class)) = extract::fire_class(request) {
        match extract::fire_class(offer) {
            Some((_, have_class)) => parts.add(
                1.0,
                1.0,
                format!("消防{have_class}类，满足{need_class}类要求"),
            ),
            None => parts.add(
                0.5,
                1.0,
                format!("需{need_class}类消防，供给未注明消防类别"),
            ),
        }
    }
    let need_cold = Cold::read(request);
    if need_cold.any() {
        let have_cold = Cold::read(offer);
        if need_cold.needs_frozen() && have_cold.frozen_capable() {
            parts.add(1.0, 1.0, "可冷冻存储".to_owned());
        } else if !need_cold.needs_frozen() && have_cold.any() {
            parts.add(1.0, 1.0, "具备冷藏条件".to_owned());
        }
    }
    if let (Some(need), Some(have)) = (attr_num(request, "floor"), attr_num(offer, "floor")) {
        let same = (need - have).abs() < 0.5;
        parts.add(
            if same { 1.0 } else { 0.6 },
            0.5,
            format!("楼层 {}（需求 {}）", fmt_num(have), fmt_num(need)),
        );
    }
}

/// How well an offer in mode `have` serves a request in mode `need`; renting
/// instead of buying is acceptable but second best.
fn mode_fit(need: &str, have: &str) -> f64 {
    let pair = |a: &str, b: &str| (need == a && have == b) || (need == b && have == a);
    if need == have {
        1.0
    } else if pair("出租", "共享机时") {
        0.8
    } else if pair("代加工", "共享机时") {
        0.7
    } else if pair("出租", "出售") {
        0.5
    } else {
        0.4
    }
}

/// Compares a model number or brand: folded equality or prefix (MA2500 vs MA2500II).
fn code_similarity(a: &str, b: &str) -> f64 {
    let norm = |s: &str| -> String {
        canonical(s)
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '#')
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    if a.is_empty() || b.is_empty() {
        0.0
    } else if a == b {
        1.0
    } else if a.starts_with(&b) || b.starts_with(&a) {
        0.8
    } else {
        0.3
    }
}

/// Brand, model or grade: compares attributes, or finds the request's value in the offer's text.
fn code_attr(
    parts: &mut Parts,
    request: &MatchListing,
    offer: &MatchListing,
    key: &str,
    label: &str,
    weight: f64,
) {
    let Some(need) = attr_str(request, key) else {
        return;
    };
    match attr_str(offer, key) {
        Some(have) => {
            let s = code_similarity(need, have).max(similarity(need, have));
            let verdict = if s >= 0.8 { "一致" } else { "不同" };
            parts.add(
                s,
                weight,
                format!("{label}{verdict}：需求“{need}”，供给“{have}”"),
            );
        }
        None => {
            let text = canonical(&format!(
                "{} {}",
                offer.text(),
                extract::attribute_text(offer)
            ));
            if contains_canonical(&text, &canonical(need)) {
                parts.add(0.9, weight, format!("供给描述提及{label}“{need}”"));
            }
        }
    }
}

fn equipment(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    text_attr(
        parts,
        request,
        offer,
        "equipment_type",
        "设备类型",
        TYPE_WEIGHT,
    );
    code_attr(parts, request, offer, "brand", "品牌", 0.5);
    code_attr(parts, request, offer, "model", "型号", 1.0);
    if let (Some(need), Some(have)) = (extract::mode(request), extract::mode(offer)) {
        parts.add(
            mode_fit(need, have),
            1.0,
            if need == have {
                format!("方式一致（{have}）")
            } else {
                format!("方式不同：需求{need}，供给{have}")
            },
        );
    }
    at_least(
        parts,
        extract::machine_tonnes(request),
        extract::machine_tonnes(offer),
        "吨位",
        "吨",
        true,
        1.5,
    );
    at_least(
        parts,
        attr_num(request, "travel_mm"),
        attr_num(offer, "travel_mm"),
        "行程",
        "mm",
        false,
        1.0,
    );
}

fn material(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    text_attr(parts, request, offer, "material_name", "物料", TYPE_WEIGHT);
    code_attr(parts, request, offer, "grade", "牌号", 1.5);
    if let (Some(need), Some(have)) = (attr_str(request, "packaging"), attr_str(offer, "packaging"))
    {
        let s = similarity(need, have);
        parts.add(
            if s >= 0.7 { 1.0 } else { 0.6 },
            0.5,
            format!("包装：需求“{need}”，供给“{have}”"),
        );
    }
}

fn logistics(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    let (need, mut have) = (extract::route(request), extract::route(offer));
    // A two-way line read against the request's direction.
    if extract::bidirectional(offer)
        && let (Some(n), Some(h)) = (&need.origin, &have.destination)
        && extract::same_place(n, h)
    {
        std::mem::swap(&mut have.origin, &mut have.destination);
    }
    // The request's own route length, when both ends are places we know.
    let route_km = match (&need.origin, &need.destination) {
        (Some(o), Some(d)) => crate::places::distance_km(o, d).filter(|km| *km > 0.0),
        _ => None,
    };
    for (n, h, label) in [
        (&need.origin, &have.origin, "起点"),
        (&need.destination, &have.destination, "终点"),
    ] {
        if let (Some(n), Some(h)) = (n, h) {
            let (value, reason) = route_end_fit(n, h, route_km, label);
            parts.add(value, TYPE_WEIGHT * 0.75, reason);
        }
    }
    // A reefer box carries its own cold, so a plain container tractor may
    // haul it; a cold-chain tractor (genset, plugs) still serves it better.
    if extract::cold_chain(request) == Some(true) && extract::reefer_container(request) {
        let cold = extract::cold_chain(offer) == Some(true);
        parts.add(
            if cold { 1.0 } else { 0.5 },
            1.0,
            if cold {
                "冷链车辆，可全程供电控温".to_owned()
            } else {
                "普通集卡拖冷柜，需自备供电".to_owned()
            },
        );
    }
    // A container rides only on a container chassis: a box truck or a
    // flatbed cannot take a 40HQ, whatever its route.
    if extract::ships_containers(request) {
        let fits = extract::container_tractor(offer);
        parts.add(
            if fits { 1.0 } else { 0.0 },
            TYPE_WEIGHT,
            if fits {
                "集装箱车辆，可运柜".to_owned()
            } else {
                "需求为集装箱运输，供给不是集卡".to_owned()
            },
        );
    }
    text_attr(parts, request, offer, "vehicle_type", "车型", 1.0);
    // A shorter truck cannot take the load; a much longer one costs more.
    at_least(
        parts,
        extract::vehicle_length(request),
        extract::vehicle_length(offer),
        "车长",
        "米",
        true,
        1.0,
    );
    at_least(
        parts,
        attr_num(request, "capacity_t"),
        extract::vehicle_capacity(offer),
        "载重",
        "吨",
        false,
        1.0,
    );
    at_least(
        parts,
        attr_num(request, "volume_m3"),
        attr_num(offer, "volume_m3"),
        "容积",
        "方",
        false,
        1.0,
    );
}

/// How well an offer's route end `have` serves the request's end `need`:
/// 1 for the same place (at any level, see [`extract::same_place`]);
/// otherwise, when both places and the request's route length are known,
/// `(1 − off / route)²` — the truck runs `off` km empty to or from the
/// request's end, which matters in proportion to the trip (20 km off is
/// little on a 200 km line and everything on a 20 km shuttle), and falls
/// quadratically like any other shortfall so that an end half a trip away
/// is worth a quarter; else 0.
fn route_end_fit(need: &str, have: &str, route_km: Option<f64>, label: &str) -> (f64, String) {
    if extract::same_place(need, have) {
        return (1.0, format!("{label}一致（{have}）"));
    }
    let off = crate::places::distance_km(need, have);
    match (off, route_km) {
        (Some(off), Some(route)) if off < route => (
            (1.0 - off / route).powi(2),
            format!(
                "{label}相近：需求{need}，供给{have}，相距约 {} 公里",
                fmt_num(off.round())
            ),
        ),
        _ => (0.0, format!("{label}不同：需求{need}，供给{have}")),
    }
}

fn workforce(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    text_attr(parts, request, offer, "job_type", "工种", TYPE_WEIGHT);
    let skills = |l: &MatchListing| -> Vec<String> {
        l.attributes
            .get("skills")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let need = skills(request);
    if !need.is_empty() {
        let have = skills(offer);
        let text = canonical(&offer.text());
        let met: Vec<&String> = need
            .iter()
            .filter(|n| {
                have.iter().any(|h| similarity(n, h) >= 0.7)
                    || contains_canonical(&text, &canonical(n))
            })
            .collect();
        parts.add(
            met.len() as f64 / need.len() as f64,
            1.5,
            format!("技能满足 {}/{}", met.len(), need.len()),
        );
    }
    at_least(
        parts,
        attr_num(request, "period_days"),
        attr_num(offer, "period_days"),
        "用工期",
        "天",
        false,
        0.5,
    );
}

fn service(request: &MatchListing, offer: &MatchListing, parts: &mut Parts) {
    text_attr(
        parts,
        request,
        offer,
        "service_type",
        "服务类型",
        TYPE_WEIGHT,
    );
    if let Some(need) = attr_str(request, "certification") {
        let has = attr_str(offer, "certification").is_some_and(|h| similarity(need, h) >= 0.7)
            || contains_canonical(&canonical(&offer.text()), &canonical(need));
        parts.add(
            if has { 1.0 } else { 0.3 },
            1.0,
            if has {
                format!("具备资质“{need}”")
            } else {
                format!("未见资质“{need}”")
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Side;
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};

    fn listing(side: Side, kind: Kind, title: &str, attrs: Value) -> MatchListing {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
            .single()
            .expect("valid time");
        let mut l = MatchListing::new(title, side, kind, "F", title, at);
        if let Value::Object(map) = attrs {
            l.attributes = map;
        }
        l
    }

    fn fit(r: &MatchListing, o: &MatchListing) -> f64 {
        spec_fit(r, o).map_or(-1.0, |f| f.value)
    }

    #[test]
    fn synonyms_and_sizes() {
        let r = listing(
            Side::Request,
            Kind::Equipment,
            "求租注塑机",
            json!({"equipment_type": "注塑机", "clamping_force_t": 250, "mode": "出租"}),
        );
        let exact = listing(
            Side::Offer,
            Kind::Equipment,
            "啤机出租",
            json!({"equipment_type": "啤机", "clamping_force_t": 280, "mode": "出租"}),
        );
        let huge = listing(
            Side::Offer,
            Kind::Equipment,
            "大型注塑机出租",
            json!({"equipment_type": "注塑机", "clamping_force_t": 1000, "mode": "出租"}),
        );
        let sale = listing(
            Side::Offer,
            Kind::Equipment,
            "注塑机转让",
            json!({"equipment_type": "注塑机", "clamping_force_t": 250, "mode": "出售"}),
        );
        assert_eq!(fit(&r, &exact), 1.0);
        assert!(fit(&r, &huge) < fit(&r, &exact));
        assert!(
            fit(&r, &sale) < 1.0 && fit(&r, &sale) > 0.5,
            "rent vs buy is soft"
        );
        let reason = spec_fit(&r, &exact).expect("fit").reason_zh;
        assert!(
            reason.contains("设备类型一致") && reason.contains("吨位"),
            "{reason}"
        );
    }

    #[test]
    fn type_found_in_text_when_attribute_missing() {
        let r = listing(
            Side::Request,
            Kind::Material,
            "求购铝锭",
            json!({"material_name": "铝锭", "grade": "ADC12"}),
        );
        let o = listing(Side::Offer, Kind::Material, "YL113铝锭现货", json!({}));
        let f = spec_fit(&r, &o).expect("fit");
        assert!(f.value > 0.8, "{f:?}");
        let wrong_grade = listing(
            Side::Offer,
            Kind::Material,
            "铝锭",
            json!({"material_name": "铝锭", "grade": "A380"}),
        );
        assert!(fit(&r, &wrong_grade) < f.value);
    }

    #[test]
    fn nothing_comparable_is_none() {
        let r = listing(Side::Request, Kind::Service, "求服务", json!({}));
        let o = listing(Side::Offer, Kind::Service, "提供服务", json!({}));
        assert_eq!(spec_fit(&r, &o), None);
    }

    #[test]
    fn route_ends_nearby_earn_part_of_the_fit() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "苏州→北仑",
            json!({"origin": "苏州", "destination": "北仑"}),
        );
        let exact = listing(
            Side::Offer,
            Kind::Logistics,
            "苏州→北仑",
            json!({"origin": "苏州", "destination": "北仑"}),
        );
        let near = listing(
            Side::Offer,
            Kind::Logistics,
            "上海→北仑",
            json!({"origin": "上海外高桥", "destination": "北仑"}),
        );
        let far = listing(
            Side::Offer,
            Kind::Logistics,
            "成都→北仑",
            json!({"origin": "成都", "destination": "北仑"}),
        );
        let (e, n, f) = (fit(&r, &exact), fit(&r, &near), fit(&r, &far));
        assert_eq!(e, 1.0);
        assert!(f < n && n < e, "{f} {n} {e}");
        assert_eq!(f, 0.5, "an end farther than the trip is no fit");
        let reason = spec_fit(&r, &near).expect("fit").reason_zh;
        assert!(reason.contains("起点相近"), "{reason}");
    }

    #[test]
    fn containers_need_a_container_truck() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "出口柜40HQ 2个",
            json!({"origin": "海盐", "destination": "北仑港"}),
        );
        let tractor = listing(
            Side::Offer,
            Kind::Logistics,
            "海盐→北仑港 集卡",
            json!({"origin": "海盐", "destination": "北仑港", "vehicle_type": "集卡"}),
        );
        let van = listing(
            Side::Offer,
            Kind::Logistics,
            "海盐→北仑 9.6米厢车",
            json!({"origin": "海盐", "destination": "北仑", "vehicle_type": "9.6米厢式货车"}),
        );
        assert!(
            fit(&r, &tractor) > fit(&r, &van) + 0.3,
            "{} {}",
            fit(&r, &tractor),
            fit(&r, &van)
        );
    }

    #[test]
    fn usage_table() {
        assert_eq!(usage_fit("仓储", "仓储"), 1.0);
        assert_eq!(usage_fit("冷库", "仓储"), 0.0);
        assert!(usage_fit("仓储", "冷库") > usage_fit("仓储", "办公"));
        assert_eq!(mode_fit("出租", "出售"), mode_fit("出售", "出租"));
    }
}
