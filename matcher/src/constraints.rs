//! Hard constraints: the reasons an offer can never serve a request, each with a stable key and a Chinese reason.
//!
//! A hard constraint fires only on evidence from **both** listings (an
//! attribute or a narrowly read text pattern); missing information never
//! disqualifies, it merely leaves a soft factor out. Rent-vs-buy, a smaller
//! area than wanted, a slightly wrong vehicle type and distance are soft and
//! live in [`crate::score`].
//!
//! Keys (see [`keys`]) are part of the API: clients may branch on them and
//! they are never renamed. Reasons are for people and may be reworded.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::extract::{self, Cold, LoadNeed};
use crate::listing::MatchListing;
use crate::model::{Kind, Side, Urgency};
use crate::text::{canonical, contains_canonical};

/// Stable machine keys of the hard constraints.
pub mod keys {
    /// Both listings are offers, or both are requests.
    pub const WRONG_SIDE: &str = "wrong_side";
    /// Both listings were posted by the same firm.
    pub const SAME_FIRM: &str = "same_firm";
    /// Different kinds, and no rule of [`super::CROSS_KIND_RULES`] applies.
    pub const INCOMPATIBLE_KIND: &str = "incompatible_kind";
    /// Both give a time window and the windows are disjoint.
    pub const NO_TIME_OVERLAP: &str = "no_time_overlap";
    /// Logistics: the offer runs the request's route the other way round.
    pub const REVERSED_ROUTE: &str = "reversed_route";
    /// Logistics: the offered vehicles carry less than the request needs.
    pub const CAPACITY_BELOW_NEED: &str = "capacity_below_need";
    /// Logistics: the request needs cold-chain transport, the offer is not cold chain.
    pub const COLD_CHAIN_MISSING: &str = "cold_chain_missing";
    /// Logistics: the request carries dangerous goods, the offer is not hazmat-capable.
    pub const HAZMAT_MISSING: &str = "hazmat_missing";
    /// Logistics: both name dangerous-goods classes and the offer lacks one the request needs.
    pub const HAZMAT_CLASS_MISMATCH: &str = "hazmat_class_mismatch";
    /// Equipment: clamping force / tonnage below the requested size.
    pub const MACHINE_UNDERSIZED: &str = "machine_undersized";
    /// Space: the store's fire class is weaker than the goods need.
    pub const FIRE_CLASS_TOO_WEAK: &str = "fire_class_too_weak";
    /// Space or logistics: frozen (≤ −18 ℃) needed, only chilled offered, or
    /// the offer's coldest temperature is warmer than needed.
    pub const TOO_WARM: &str = "too_warm";

    /// Every key, in the order the checks run.
    pub const ALL: &[&str] = &[
        WRONG_SIDE,
        SAME_FIRM,
        INCOMPATIBLE_KIND,
        NO_TIME_OVERLAP,
        REVERSED_ROUTE,
        CAPACITY_BELOW_NEED,
        COLD_CHAIN_MISSING,
        HAZMAT_MISSING,
        HAZMAT_CLASS_MISMATCH,
        MACHINE_UNDERSIZED,
        FIRE_CLASS_TOO_WEAK,
        TOO_WARM,
    ];
}

/// Why a pair is disqualified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Stable key from [`keys`].
    pub key: &'static str,
    /// Short explanation in Chinese, with the values compared.
    pub reason_zh: String,
}

impl Violation {
    fn new(key: &'static str, reason_zh: impl Into<String>) -> Self {
        Self {
            key,
            reason_zh: reason_zh.into(),
        }
    }
}

/// A cross-kind pair a broker would still suggest, as a stop-gap or substitute.
#[derive(Debug)]
pub struct CrossKindRule {
    /// Stable key, reported in the `kind_fit` factor.
    pub key: &'static str,
    pub request: Kind,
    pub offer: Kind,
    /// Kind fit of such a pair in `[0, 1]` (1 = same kind).
    pub fit: f64,
    /// Extra fit when the request is urgent or an emergency (a stop-gap is
    /// worth more when a line is down), capped at 1.
    pub urgent_bonus: f64,
    pub reason_zh: &'static str,
    applies: fn(&MatchListing, &MatchListing) -> bool,
}

impl CrossKindRule {
    /// Whether this rule covers the pair (kinds and content).
    pub fn applies(&self, request: &MatchListing, offer: &MatchListing) -> bool {
        request.kind == self.request && offer.kind == self.offer && (self.applies)(request, offer)
    }

    /// The kind fit for this request's urgency.
    pub fn fit_for(&self, urgency: Urgency) -> f64 {
        let bonus = if urgency >= Urgency::Urgent {
            self.urgent_bonus
        } else {
            0.0
        };
        (self.fit + bonus).min(1.0)
    }
}

/// Words of a repair or maintenance request.
const REPAIR_WORDS: &[&str] = &[
    "维修", "修理", "抢修", "检修", "维保", "保养", "故障", "坏了",
];
/// Words of a request for contract processing.
const PROCESSING_WORDS: &[&str] = &["加工", "代工", "外协"];

/// A service request to repair a machine, and an offer of that same machine
/// type: renting it keeps the line running while the own one is repaired.
fn repair_stop_gap(request: &MatchListing, offer: &MatchListing) -> bool {
    let need = format!(
        "{} {}",
        request.text(),
        extract::attr_str(request, "service_type").unwrap_or("")
    );
    if !extract::mentions(&need, REPAIR_WORDS) {
        return false;
    }
    let need = canonical(&need);
    let machine = extract::attr_str(offer, "equipment_type")
        .map(canonical)
        .filter(|m| m.chars().count() >= 2);
    match machine {
        Some(machine) => contains_canonical(&need, &machine),
        // Without a type: a known machine word of the offer's title named by the request.
        None => crate::text::shares_head(&need, &canonical(&offer.title)),
    }
}

/// A request for contract processing, and a machine offered for 代加工 or
/// shared machine hours: the machine's owner can take the job.
fn processing_by_machine_owner(request: &MatchListing, offer: &MatchListing) -> bool {
    let need = format!(
        "{} {}",
        request.text(),
        extract::attr_str(request, "service_type").unwrap_or("")
    );
    extract::mentions(&need, PROCESSING_WORDS)
        && matches!(extract::mode(offer), Some("代加工" | "共享机时"))
}

/// The allowed cross-kind pairs. Kept small and general on purpose: every
/// other pair of different kinds is [`keys::INCOMPATIBLE_KIND`]. The table is
/// directional: a repair service never stands in for a machine the request
/// wants to rent, and a mask machine never for masks.
pub static CROSS_KIND_RULES: &[CrossKindRule] = &[
    CrossKindRule {
        key: "repair_stop_gap",
        request: Kind::Service,
        offer: Kind::Equipment,
        fit: 0.3,
        urgent_bonus: 0.2,
        reason_zh: "跨类替代：维修期间可租用同类设备临时顶替",
        applies: repair_stop_gap,
    },
    CrossKindRule {
        key: "processing_by_machine_owner",
        request: Kind::Service,
        offer: Kind::Equipment,
        fit: 0.6,
        urgent_bonus: 0.0,
        reason_zh: "跨类替代：设备方提供代加工/共享机时，可承接加工需求",
        applies: processing_by_machine_owner,
    },
];

/// How the kinds of a pair relate.
#[derive(Debug, Clone, Copy)]
pub enum KindRelation {
    Same,
    CrossKind(&'static CrossKindRule),
}

/// The relation of the pair's kinds, or `None` if they are incompatible.
/// Roles as given: `request` must be the request.
pub fn kind_relation(request: &MatchListing, offer: &MatchListing) -> Option<KindRelation> {
    if request.kind == offer.kind {
        return Some(KindRelation::Same);
    }
    CROSS_KIND_RULES
        .iter()
        .find(|r| r.applies(request, offer))
        .map(KindRelation::CrossKind)
}

/// Puts a pair in `(request, offer)` order by their `side`, so callers may
/// pass a pair either way round (ranking requests for an offer uses the same
/// function). Two listings of one side are [`keys::WRONG_SIDE`].
pub fn order_roles<'a>(
    a: &'a MatchListing,
    b: &'a MatchListing,
) -> Result<(&'a MatchListing, &'a MatchListing), Violation> {
    match (a.side, b.side) {
        (Side::Request, Side::Offer) => Ok((a, b)),
        (Side::Offer, Side::Request) => Ok((b, a)),
        (side, _) => Err(Violation::new(
            keys::WRONG_SIDE,
            format!("双方同为{}，无法匹配", side.label_zh()),
        )),
    }
}

/// Every hard constraint the pair breaks, in the order of [`keys::ALL`]
/// (empty = the pair may be scored). Arguments in either order, see
/// [`order_roles`].
pub fn violations(a: &MatchListing, b: &MatchListing) -> Vec<Violation> {
    let (request, offer) = match order_roles(a, b) {
        Ok(pair) => pair,
        Err(v) => return vec![v],
    };
    let mut out = Vec::new();
    if let (Some(r), Some(o)) = (request.firm(), offer.firm())
        && r == o
    {
        out.push(Violation::new(
            keys::SAME_FIRM,
            "同一企业发布的供需，不做匹配",
        ));
    }
    let relation = kind_relation(request, offer);
    if relation.is_none() {
        out.push(Violation::new(
            keys::INCOMPATIBLE_KIND,
            format!(
                "类别不符：需求为“{}”，供给为“{}”",
                request.kind.label_zh(),
                offer.kind.label_zh()
            ),
        ));
    }
    if let Some(v) = time_overlap(request, offer) {
        out.push(v);
    }
    // Spec checks compare like with like, so they run for same-kind pairs only.
    if matches!(relation, Some(KindRelation::Same)) {
        match request.kind {
            Kind::Logistics => logistics(request, offer, &mut out),
            Kind::Equipment => out.extend(machine_size(request, offer)),
            Kind::Space => {
                out.extend(fire_class(request, offer));
                out.extend(temperature(request, offer));
            }
            Kind::Material | Kind::Workforce | Kind::Service => {}
        }
    }
    out
}

/// The first hard constraint the pair breaks, if any.
pub fn first_violation(a: &MatchListing, b: &MatchListing) -> Option<Violation> {
    violations(a, b).into_iter().next()
}

fn fmt_window(w: (Option<NaiveDate>, Option<NaiveDate>)) -> String {
    match w {
        (Some(f), Some(u)) => format!("{f} 至 {u}"),
        (Some(f), None) => format!("{f} 起"),
        (None, Some(u)) => format!("{u} 前"),
        (None, None) => "不限".to_owned(),
    }
}

/// Disjoint windows, when both sides give one. An open end reaches forever,
/// so "from 12-01" and "until 11-25" are disjoint but "from 12-01" and "from
/// 2027-01-05" are not (the soft time factor then scores their overlap).
fn time_overlap(request: &MatchListing, offer: &MatchListing) -> Option<Violation> {
    let (rw, ow) = (request.window()?, offer.window()?);
    let disjoint = matches!((rw.1, ow.0), (Some(ru), Some(of)) if ru < of)
        || matches!((ow.1, rw.0), (Some(ou), Some(rf)) if ou < rf);
    disjoint.then(|| {
        Violation::new(
            keys::NO_TIME_OVERLAP,
            format!(
                "时间不重叠：需求 {}，供给 {}",
                fmt_window(rw),
                fmt_window(ow)
            ),
        )
    })
}

fn fmt_t(t: f64) -> String {
    crate::score::fmt_num(t)
}

fn logistics(request: &MatchListing, offer: &MatchListing, out: &mut Vec<Violation>) {
    let (rr, or) = (extract::route(request), extract::route(offer));
    if let (Some(ro), Some(rd), Some(oo), Some(od)) =
        (&rr.origin, &rr.destination, &or.origin, &or.destination)
    {
        let reversed = extract::same_place(ro, od) && extract::same_place(rd, oo);
        let forward = extract::same_place(ro, oo) && extract::same_place(rd, od);
        if reversed && !forward && !extract::bidirectional(offer) {
            out.push(Violation::new(
                keys::REVERSED_ROUTE,
                format!("线路方向相反：需求 {ro}→{rd}，供给 {oo}→{od}"),
            ));
        }
    }

    if let (Some(need), Some(capacity)) = (
        extract::load_need(request),
        extract::vehicle_capacity(offer),
    ) {
        let (need_t, have_t, what) = match need {
            LoadNeed::PerVehicle(t) => (t, capacity, "单车载重"),
            LoadNeed::Total(t) => {
                let vehicles = extract::vehicle_count(offer).unwrap_or(1.0);
                (t, capacity * vehicles, "可运总量")
            }
        };
        // An approximate load (10吨左右) still rules out a vehicle far below it.
        let suffices = need_t * extract::load_tolerance(request, need_t);
        if have_t + 1e-9 < suffices {
            out.push(Violation::new(
                keys::CAPACITY_BELOW_NEED,
                format!(
                    "运力不足：需求 {} 吨，{what} {} 吨",
                    fmt_t(need_t),
                    fmt_t(have_t)
                ),
            ));
        }
    }

    let request_cold = Cold::read(request);
    let needs_cold_chain = match extract::cold_chain(request) {
        Some(flag) => flag,
        None => request_cold.frozen_words || request_cold.min_temp.is_some_and(|t| t <= 8.0),
    };
    // A reefer container carries its own cold: a container tractor hauls it.
    let box_keeps_cold = extract::reefer_container(request) && extract::container_tractor(offer);
    if needs_cold_chain && extract::cold_chain(offer) != Some(true) && !box_keeps_cold {
        out.push(Violation::new(
            keys::COLD_CHAIN_MISSING,
            "需要冷链运输，供给不是冷链车辆",
        ));
    } else if needs_cold_chain {
        out.extend(temperature(request, offer));
    }

    if extract::hazmat(request) == Some(true) {
        if extract::hazmat(offer) != Some(true) {
            out.push(Violation::new(
                keys::HAZMAT_MISSING,
                "需要危险品运输资质，供给不具备",
            ));
        } else {
            let need = extract::hazmat_classes(&request.text());
            let have = extract::hazmat_classes(&offer.text());
            let missing: Vec<u8> = need.iter().copied().filter(|c| !have.contains(c)).collect();
            if !need.is_empty() && !have.is_empty() && !missing.is_empty() {
                let list = |cs: &[u8]| {
                    cs.iter().fold(String::new(), |mut s, c| {
                        if !s.is_empty() {
                            s.push('、');
                        }
                        let _ = write!(s, "第{c}类");
                        s
                    })
                };
                out.push(Violation::new(
                    keys::HAZMAT_CLASS_MISMATCH,
                    format!(
                        "危险品类别不符：需求 {}，供给仅 {}",
                        list(&need),
                        list(&have)
                    ),
                ));
            }
        }
    }
}

fn machine_size(request: &MatchListing, offer: &MatchListing) -> Option<Violation> {
    let need = extract::machine_tonnes(request)?;
    let have = extract::machine_tonnes(offer)?;
    (have + 1e-9 < need).then(|| {
        Violation::new(
            keys::MACHINE_UNDERSIZED,
            format!(
                "设备吨位不足：需要 {} 吨，供给 {} 吨",
                fmt_t(need),
                fmt_t(have)
            ),
        )
    })
}

fn fire_class(request: &MatchListing, offer: &MatchListing) -> Option<Violation> {
    let (need, need_class) = extract::fire_class(request)?;
    let (have, have_class) = extract::fire_class(offer)?;
    (have < need).then(|| {
        Violation::new(
            keys::FIRE_CLASS_TOO_WEAK,
            format!("消防类别不足：货物需{need_class}类仓储，供给为{have_class}类"),
        )
    })
}

/// Frozen needed but only chill offered, or the offer's coldest stated
/// temperature more than 3 ℃ warmer than a frozen need.
fn temperature(request: &MatchListing, offer: &MatchListing) -> Option<Violation> {
    let need = Cold::read(request);
    if !need.any() {
        return None;
    }
    let have = Cold::read(offer);
    let fmt_temp = |t: Option<f64>| t.map_or(String::new(), |t| format!("（{}℃）", fmt_t(t)));
    if need.needs_frozen() && have.chill_only() {
        let need_t = need.min_temp.unwrap_or(extract::FROZEN_MAX_C);
        return Some(Violation::new(
            keys::TOO_WARM,
            format!(
                "需要冷冻（{}℃ 以下），供给仅为冷藏{}",
                fmt_t(need_t),
                fmt_temp(have.min_temp)
            ),
        ));
    }
    match (need.min_temp, have.min_temp) {
        (Some(n), Some(h)) if n <= -10.0 && h > n + 3.0 => Some(Violation::new(
            keys::TOO_WARM,
            format!("温度达不到：需要 {}℃，供给最低 {}℃", fmt_t(n), fmt_t(h)),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};

    fn listing(side: Side, kind: Kind, firm: &str, title: &str, attrs: Value) -> MatchListing {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
            .single()
            .expect("valid time");
        let mut l = MatchListing::new(format!("{firm}-{title}"), side, kind, firm, title, at);
        if let Value::Object(map) = attrs {
            l.attributes = map;
        }
        l
    }

    fn keys_of(a: &MatchListing, b: &MatchListing) -> Vec<&'static str> {
        violations(a, b).into_iter().map(|v| v.key).collect()
    }

    #[test]
    fn keys_are_unique_and_snake_case() {
        let set: std::collections::HashSet<_> = keys::ALL.iter().collect();
        assert_eq!(set.len(), keys::ALL.len());
        for k in keys::ALL {
            assert!(
                k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{k}"
            );
        }
    }

    #[test]
    fn sides_firms_and_kinds() {
        let r = listing(Side::Request, Kind::Equipment, "A", "求租叉车", json!({}));
        let o = listing(Side::Offer, Kind::Equipment, "B", "叉车出租", json!({}));
        assert!(violations(&r, &o).is_empty());
        assert!(violations(&o, &r).is_empty(), "either order");
        assert_eq!(keys_of(&o, &o), [keys::WRONG_SIDE]);
        assert_eq!(keys_of(&r, &r), [keys::WRONG_SIDE]);
        let own = listing(Side::Offer, Kind::Equipment, "A", "叉车出租", json!({}));
        assert_eq!(keys_of(&r, &own), [keys::SAME_FIRM]);
        let repair = listing(Side::Offer, Kind::Service, "B", "叉车维修", json!({}));
        assert_eq!(keys_of(&r, &repair), [keys::INCOMPATIBLE_KIND]);
        let reason = first_violation(&r, &repair).expect("violation").reason_zh;
        assert!(
            reason.contains("设备") && reason.contains("服务"),
            "{reason}"
        );
    }

    #[test]
    fn cross_kind_table_is_directional() {
        let repair_req = listing(
            Side::Request,
            Kind::Service,
            "A",
            "空压机坏了急需维修",
            json!({"service_type": "设备维修"}),
        );
        let rent = listing(
            Side::Offer,
            Kind::Equipment,
            "B",
            "空气压缩机出租",
            json!({"equipment_type": "空压机", "mode": "出租"}),
        );
        match kind_relation(&repair_req, &rent) {
            Some(KindRelation::CrossKind(rule)) => assert_eq!(rule.key, "repair_stop_gap"),
            other => panic!("{other:?}"),
        }
        // Another machine is no stop-gap.
        let forklift = listing(
            Side::Offer,
            Kind::Equipment,
            "B",
            "叉车出租",
            json!({"equipment_type": "叉车"}),
        );
        assert!(kind_relation(&repair_req, &forklift).is_none());
        // And a repair service never stands in for a machine to rent.
        let rent_req = listing(Side::Request, Kind::Equipment, "A", "求租空压机", json!({}));
        let repair = listing(Side::Offer, Kind::Service, "B", "空压机维修", json!({}));
        assert!(kind_relation(&rent_req, &repair).is_none());
        // Contract machining by a machine owner.
        let cnc_req = listing(
            Side::Request,
            Kind::Service,
            "A",
            "铝件CNC外协加工",
            json!({}),
        );
        let cnc = listing(
            Side::Offer,
            Kind::Equipment,
            "B",
            "加工中心承接代加工",
            json!({"mode": "代加工"}),
        );
        assert!(matches!(
            kind_relation(&cnc_req, &cnc),
            Some(KindRelation::CrossKind(r)) if r.key == "processing_by_machine_owner"
        ));
        assert!(
            CROSS_KIND_RULES
                .iter()
                .all(|r| r.fit < 1.0 && r.fit_for(Urgency::Emergency) <= 1.0)
        );
    }

    #[test]
    fn time_windows() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day);
        let mut r = listing(Side::Request, Kind::Space, "A", "仓库", json!({}));
        let mut o = listing(Side::Offer, Kind::Space, "B", "仓库", json!({}));
        r.available_from = d(12, 1);
        r.available_until = d(12, 31);
        assert!(violations(&r, &o).is_empty(), "offer without window");
        o.available_from = d(12, 20);
        assert!(violations(&r, &o).is_empty());
        o.available_from = NaiveDate::from_ymd_opt(2027, 1, 5);
        assert_eq!(keys_of(&r, &o), [keys::NO_TIME_OVERLAP]);
        o.available_from = None;
        o.available_until = d(11, 30);
        assert_eq!(keys_of(&r, &o), [keys::NO_TIME_OVERLAP]);
        o.available_until = d(12, 1);
        assert!(violations(&r, &o).is_empty(), "one shared day is overlap");
    }

    #[test]
    fn reversed_route_uses_place_containment() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "求车",
            json!({"origin": "上海", "destination": "北仑"}),
        );
        let reversed = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "车源",
            json!({"origin": "宁波北仑港", "destination": "上海洋山港"}),
        );
        assert_eq!(keys_of(&r, &reversed), [keys::REVERSED_ROUTE]);
        let forward = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "回程车 上海→宁波北仑",
            json!({}),
        );
        assert!(violations(&r, &forward).is_empty());
    }

    #[test]
    fn a_two_way_line_serves_the_reverse_direction() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "成都→重庆 30吨",
            json!({"origin": "成都", "destination": "重庆"}),
        );
        let one_way = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "重庆→成都 13米高栏",
            json!({"origin": "重庆", "destination": "成都"}),
        );
        assert_eq!(keys_of(&r, &one_way), [keys::REVERSED_ROUTE]);
        let two_way = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "渝蓉 双向 9米6厢车",
            json!({"origin": "重庆", "destination": "成都"}),
        );
        assert!(violations(&r, &two_way).is_empty());
    }

    #[test]
    fn capacity_counts_vehicles_for_total_loads() {
        let mut r = listing(Side::Request, Kind::Logistics, "A", "运钢卷", json!({}));
        r.quantity = Some(crate::Quantity::new(60.0, "吨"));
        let mut o = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "高栏车",
            json!({"capacity_t": 32}),
        );
        assert_eq!(keys_of(&r, &o), [keys::CAPACITY_BELOW_NEED]);
        o.quantity = Some(crate::Quantity::new(2.0, "车"));
        assert!(violations(&r, &o).is_empty());
        // A per-vehicle requirement is not met by more vehicles.
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "需40吨车",
            json!({"capacity_t": 40}),
        );
        assert_eq!(keys_of(&r, &o), [keys::CAPACITY_BELOW_NEED]);
    }

    #[test]
    fn an_import_export_port_line_serves_both_directions() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "出口柜 40HQ",
            json!({"origin": "海盐", "destination": "北仑港"}),
        );
        let one_way = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "北仑港进口柜送货",
            json!({"origin": "北仑港", "destination": "海盐"}),
        );
        assert_eq!(keys_of(&r, &one_way), [keys::REVERSED_ROUTE]);
        let both = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "宁波港拖车 嘉兴方向进出口柜",
            json!({"origin": "北仑港", "destination": "海盐"}),
        );
        assert!(violations(&r, &both).is_empty());
    }

    #[test]
    fn a_reefer_box_keeps_its_own_cold() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "进口冷柜（冻肉）拖到冷库",
            json!({"cold_chain": true}),
        );
        let tractor = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "集卡拖头 港区短驳",
            json!({}),
        );
        assert!(violations(&r, &tractor).is_empty());
        // A plain box truck is still no cold chain.
        let van = listing(Side::Offer, Kind::Logistics, "B", "9.6米厢车", json!({}));
        assert_eq!(keys_of(&r, &van), [keys::COLD_CHAIN_MISSING]);
        // Nor is a tractor for goods that are not in a reefer box.
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "冻品发上海 -18℃",
            json!({"cold_chain": true}),
        );
        assert_eq!(keys_of(&r, &tractor), [keys::COLD_CHAIN_MISSING]);
    }

    #[test]
    fn an_approximate_load_is_no_firm_minimum() {
        let mut r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "钢材每周一车10吨左右",
            json!({"capacity_t": 10}),
        );
        let small = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "7.6米厢车",
            json!({"capacity_t": 8}),
        );
        assert!(violations(&r, &small).is_empty());
        // Far below an approximate load is still too small.
        let tiny = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "4.2米厢车",
            json!({"capacity_t": 2}),
        );
        assert_eq!(keys_of(&r, &tiny), [keys::CAPACITY_BELOW_NEED]);
        r.title = "钢材每周一车10吨".into();
        assert_eq!(keys_of(&r, &small), [keys::CAPACITY_BELOW_NEED]);
        // A capacity read from a ceiling in the offer's text.
        let capped = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "回程车，整车8吨以内",
            json!({}),
        );
        assert_eq!(keys_of(&r, &capped), [keys::CAPACITY_BELOW_NEED]);
    }

    #[test]
    fn hazmat_classes_must_cover_the_need() {
        let r = listing(
            Side::Request,
            Kind::Logistics,
            "A",
            "第3类易燃液体运输",
            json!({"hazmat": true}),
        );
        let o = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "危险品车，可运第8类腐蚀品",
            json!({"hazmat": true}),
        );
        assert_eq!(keys_of(&r, &o), [keys::HAZMAT_CLASS_MISMATCH]);
        let o = listing(
            Side::Offer,
            Kind::Logistics,
            "B",
            "危运车队，3类、8类均可",
            json!({}),
        );
        assert!(violations(&r, &o).is_empty());
    }

    #[test]
    fn unknown_specs_never_disqualify() {
        let r = listing(Side::Request, Kind::Space, "A", "求甲类仓库", json!({}));
        let o = listing(Side::Offer, Kind::Space, "B", "仓库出租", json!({}));
        assert!(violations(&r, &o).is_empty());
        let r = listing(
            Side::Request,
            Kind::Equipment,
            "A",
            "求租250T注塑机",
            json!({}),
        );
        let o = listing(Side::Offer, Kind::Equipment, "B", "注塑机出租", json!({}));
        assert!(violations(&r, &o).is_empty());
        let r = listing(Side::Request, Kind::Space, "A", "求-18℃冷库", json!({}));
        let o = listing(Side::Offer, Kind::Space, "B", "冷库出租", json!({}));
        assert!(violations(&r, &o).is_empty());
    }
}
