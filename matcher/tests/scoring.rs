//! Scoring through the public API: realistic decoys never outrank true matches, factor breakdowns are complete, and the score's invariants hold for arbitrary listings.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use zhiqilian_matcher::constraints::keys;
use zhiqilian_matcher::{
    Kind, MatchListing, Price, Quantity, Scored, Side, Urgency, Weights, factor_keys, rank, score,
    violations,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Beilun 大港 community.
const BEILUN: (f64, f64) = (29.9012, 121.8456);
/// Shaoxing 越城 马海, about 110 km away.
const SHAOXING: (f64, f64) = (30.0302, 120.5821);

fn listing(side: Side, kind: Kind, firm: &str, title: &str, attrs: Value) -> MatchListing {
    let mut l = MatchListing::new(
        format!("{firm}:{title}"),
        side,
        kind,
        firm,
        title,
        now() - Duration::days(2),
    );
    if let Value::Object(map) = attrs {
        l.attributes = map;
    }
    l.lat = Some(BEILUN.0);
    l.lon = Some(BEILUN.1);
    l.community_id = Some("大港".into());
    l.firm_verified = true;
    l
}

fn request(kind: Kind, title: &str, attrs: Value) -> MatchListing {
    listing(Side::Request, kind, "R", title, attrs)
}

fn offer(firm: &str, kind: Kind, title: &str, attrs: Value) -> MatchListing {
    listing(Side::Offer, kind, firm, title, attrs)
}

fn run(r: &MatchListing, o: &MatchListing) -> Scored {
    score(r, o, &Weights::default(), now())
}

fn value(s: &Scored) -> f64 {
    s.score().unwrap_or(-1.0)
}

/// Asserts the true offer is a match, the decoy is disqualified by `key`, and
/// the true offer ranks first.
fn assert_decoy(r: &MatchListing, good: &MatchListing, decoy: &MatchListing, key: &str) {
    let g = run(r, good);
    let d = run(r, decoy);
    assert!(g.is_match(), "true match disqualified: {g:?}");
    assert_eq!(d.disqualified_by(), Some(key), "decoy: {d:?}");
    if let Scored::Disqualified { reason_zh, .. } = &d {
        assert!(reason_zh.chars().any(|c| c > '\u{2E80}'), "{reason_zh}");
    }
    let ranked = rank(r, [decoy, good], &Weights::default(), now());
    assert_eq!(ranked[0].0.id, good.id);
}

#[test]
fn forklift_rental_never_outranks_forklift_repair() {
    let r = request(
        Kind::Service,
        "叉车维修",
        json!({"service_type": "叉车维修"}),
    );
    let good = offer(
        "A",
        Kind::Service,
        "专业叉车维修保养，上门服务",
        json!({"service_type": "叉车维修保养"}),
    );
    let decoy = offer(
        "B",
        Kind::Equipment,
        "3吨叉车出租",
        json!({"equipment_type": "叉车", "mode": "出租", "tonnage_t": 3}),
    );
    let g = run(&r, &good);
    let d = run(&r, &decoy);
    assert!(g.is_match() && value(&g) > value(&d), "{g:?}\n{d:?}");
    // Allowed at most as a stop-gap, flagged as such.
    if let Some(k) = d.factor(factor_keys::KIND_FIT) {
        assert!(k.value < 1.0 && k.reason_zh.contains("跨类"), "{k:?}");
    }

    // The other direction is no stop-gap at all: repair is not a forklift.
    let wants_forklift = request(
        Kind::Equipment,
        "求租叉车一台",
        json!({"equipment_type": "叉车", "mode": "出租"}),
    );
    let repair = offer(
        "A",
        Kind::Service,
        "叉车维修",
        json!({"service_type": "叉车维修"}),
    );
    assert_decoy(&wants_forklift, &decoy, &repair, keys::INCOMPATIBLE_KIND);

    // 口罩机 is a machine, not masks.
    let masks = request(
        Kind::Material,
        "急需口罩5万只",
        json!({"material_name": "口罩"}),
    );
    let stock = offer(
        "C",
        Kind::Material,
        "一次性防护口罩现货",
        json!({"material_name": "防护口罩"}),
    );
    let machine = offer(
        "D",
        Kind::Equipment,
        "平面口罩机转让",
        json!({"equipment_type": "口罩机"}),
    );
    assert_decoy(&masks, &stock, &machine, keys::INCOMPATIBLE_KIND);
}

#[test]
fn compressor_rental_is_a_stop_gap_for_an_emergency_repair() {
    let mut r = request(
        Kind::Service,
        "空压机故障停产，急需维修",
        json!({"service_type": "空压机维修"}),
    );
    r.urgency = Urgency::Emergency;
    let repair = offer(
        "A",
        Kind::Service,
        "空压机维修保养",
        json!({"service_type": "空压机维修"}),
    );
    let rental = offer(
        "B",
        Kind::Equipment,
        "螺杆空气压缩机出租",
        json!({"equipment_type": "空压机", "mode": "出租"}),
    );
    let (s_repair, s_rental) = (run(&r, &repair), run(&r, &rental));
    assert!(s_rental.is_match(), "{s_rental:?}");
    assert!(value(&s_repair) > value(&s_rental));
    let kind_fit = s_rental.factor(factor_keys::KIND_FIT).expect("kind fit");
    assert!((kind_fit.value - 0.5).abs() < 1e-9, "{kind_fit:?}");
}

#[test]
fn reversed_route_is_disqualified() {
    let r = request(
        Kind::Logistics,
        "求车：上海→北仑，20吨",
        json!({"origin": "上海", "destination": "北仑", "capacity_t": 20}),
    );
    let good = offer(
        "A",
        Kind::Logistics,
        "回程车 上海洋山港→宁波北仑",
        json!({"vehicle_type": "高栏车", "capacity_t": 30}),
    );
    let decoy = offer(
        "B",
        Kind::Logistics,
        "北仑→上海 每天发车",
        json!({"origin": "北仑", "destination": "上海", "capacity_t": 30}),
    );
    assert_decoy(&r, &good, &decoy, keys::REVERSED_ROUTE);
    let reason = run(&r, &good)
        .factor(factor_keys::SPEC_FIT)
        .map(|f| f.reason_zh.clone())
        .expect("spec fit");
    assert!(
        reason.contains("起点一致") && reason.contains("终点一致"),
        "{reason}"
    );
}

#[test]
fn undersized_machine_is_disqualified() {
    let r = request(Kind::Equipment, "求租250T注塑机，做汽车配件", json!({}));
    let good = offer(
        "A",
        Kind::Equipment,
        "海天MA2500啤机出租",
        json!({"equipment_type": "注塑机", "brand": "海天", "model": "MA2500"}),
    );
    let decoy = offer(
        "B",
        Kind::Equipment,
        "160T注塑机出租",
        json!({"equipment_type": "注塑机", "clamping_force_t": 160}),
    );
    assert_decoy(&r, &good, &decoy, keys::MACHINE_UNDERSIZED);
    // Rent vs buy is soft: a sale offer still matches, but below the rental.
    let sale = offer(
        "C",
        Kind::Equipment,
        "二手注塑机转让",
        json!({"equipment_type": "注塑机", "clamping_force_t": 250, "mode": "出售"}),
    );
    let s = run(&r, &sale);
    assert!(s.is_match() && value(&s) < value(&run(&r, &good)), "{s:?}");
}

#[test]
fn disjoint_dates_are_disqualified() {
    let mut r = request(
        Kind::Space,
        "求租仓库 12月用一个月",
        json!({"usage": "仓储"}),
    );
    r.available_from = date(2026, 12, 1);
    r.available_until = date(2026, 12, 31);
    let mut good = offer("A", Kind::Space, "仓库出租", json!({"usage": "仓储"}));
    good.available_from = date(2026, 11, 25);
    let mut decoy = offer("B", Kind::Space, "仓库出租", json!({"usage": "仓储"}));
    decoy.available_from = date(2027, 2, 1);
    decoy.available_until = date(2027, 6, 30);
    assert_decoy(&r, &good, &decoy, keys::NO_TIME_OVERLAP);
    let time = run(&r, &good);
    let time = time.factor(factor_keys::TIME).expect("time factor");
    assert_eq!(time.value, 1.0);
}

#[test]
fn weaker_fire_class_is_disqualified() {
    let r = request(
        Kind::Space,
        "求甲类危化品仓库 500平",
        json!({"usage": "仓储", "fire_class": "甲"}),
    );
    let good = offer(
        "A",
        Kind::Space,
        "甲类仓库出租",
        json!({"usage": "仓储", "fire_class": "甲", "area_m2": 800}),
    );
    let decoy = offer(
        "B",
        Kind::Space,
        "乙类仓库出租，可存危化品",
        json!({"usage": "仓储", "fire_class": "乙", "area_m2": 800}),
    );
    assert_decoy(&r, &good, &decoy, keys::FIRE_CLASS_TOO_WEAK);
    let bing = offer("C", Kind::Space, "丙二类标准仓库", json!({"usage": "仓储"}));
    assert_decoy(&r, &good, &bing, keys::FIRE_CLASS_TOO_WEAK);
}

#[test]
fn chill_room_is_disqualified_for_frozen_goods() {
    let r = request(
        Kind::Space,
        "求-18℃冷库存放冻品 300平",
        json!({"usage": "冷库"}),
    );
    let good = offer(
        "A",
        Kind::Space,
        "-25℃低温冷库出租",
        json!({"usage": "冷库", "area_m2": 400}),
    );
    let decoy = offer(
        "B",
        Kind::Space,
        "0～4℃冷藏库出租，适合果蔬",
        json!({"usage": "冷库", "area_m2": 400}),
    );
    assert_decoy(&r, &good, &decoy, keys::TOO_WARM);
}

#[test]
fn cold_chain_and_hazmat_mismatches_are_disqualified() {
    let r = request(
        Kind::Logistics,
        "冻品运输 北仑→杭州",
        json!({"origin": "北仑", "destination": "杭州", "cold_chain": true}),
    );
    let good = offer(
        "A",
        Kind::Logistics,
        "冷藏车 北仑→杭州",
        json!({"vehicle_type": "冷藏车", "cold_chain": true}),
    );
    let decoy = offer(
        "B",
        Kind::Logistics,
        "厢式货车 北仑→杭州",
        json!({"vehicle_type": "厢式货车", "cold_chain": false}),
    );
    assert_decoy(&r, &good, &decoy, keys::COLD_CHAIN_MISSING);

    let r = request(
        Kind::Logistics,
        "第3类易燃液体运输 北仑→上海",
        json!({"hazmat": true}),
    );
    let good = offer(
        "A",
        Kind::Logistics,
        "危险品运输 北仑→上海，3类、8类",
        json!({"hazmat": true}),
    );
    let no_licence = offer(
        "B",
        Kind::Logistics,
        "普货运输 北仑→上海",
        json!({"hazmat": false}),
    );
    let wrong_class = offer(
        "C",
        Kind::Logistics,
        "危险品运输 北仑→上海，仅限第8类腐蚀品",
        json!({"hazmat": true}),
    );
    assert_decoy(&r, &good, &no_licence, keys::HAZMAT_MISSING);
    assert_decoy(&r, &good, &wrong_class, keys::HAZMAT_CLASS_MISMATCH);
}

#[test]
fn distant_community_ranks_below_the_same_match_nearby() {
    let r = request(
        Kind::Equipment,
        "求租叉车",
        json!({"equipment_type": "叉车", "mode": "出租"}),
    );
    let near = offer(
        "A",
        Kind::Equipment,
        "叉车出租",
        json!({"equipment_type": "叉车", "mode": "出租"}),
    );
    let mut far = near.clone();
    far.id = "far".into();
    far.firm_id = "B".into();
    far.lat = Some(SHAOXING.0);
    far.lon = Some(SHAOXING.1);
    far.community_id = Some("马海".into());
    let (sn, sf) = (run(&r, &near), run(&r, &far));
    assert!(sf.is_match(), "distance is soft");
    assert!(value(&sn) > value(&sf));
    assert_eq!(
        sn.factor(factor_keys::COMMUNITY).map(|f| f.value),
        Some(1.0)
    );
    assert_eq!(
        sf.factor(factor_keys::COMMUNITY).map(|f| f.value),
        Some(0.0)
    );
}

#[test]
fn partial_quantity_is_flagged() {
    let mut r = request(
        Kind::Material,
        "求购PP拉丝料",
        json!({"material_name": "PP", "grade": "T30S"}),
    );
    r.quantity = Some(Quantity::new(10.0, "吨"));
    let mut part = offer(
        "A",
        Kind::Material,
        "T30S现货",
        json!({"material_name": "聚丙烯", "grade": "T30S"}),
    );
    part.quantity = Some(Quantity::new(3000.0, "公斤"));
    let mut full = part.clone();
    full.firm_id = "B".into();
    full.quantity = Some(Quantity::new(12.0, "t"));

    let s = run(&r, &part);
    let Scored::Match { partial, .. } = &s else {
        panic!("{s:?}")
    };
    assert!(*partial);
    let q = s.factor(factor_keys::QUANTITY).expect("quantity");
    assert!((q.value - 0.3).abs() < 1e-9, "{q:?}");
    assert!(q.reason_zh.contains("部分"), "{}", q.reason_zh);

    let s_full = run(&r, &full);
    assert!(matches!(s_full, Scored::Match { partial: false, .. }));
    assert!(value(&s_full) > value(&s));
}

#[test]
fn quantity_only_in_text_is_read() {
    let r = request(Kind::Space, "求租仓库2000平米", json!({"usage": "仓储"}));
    let o = offer(
        "A",
        Kind::Space,
        "仓库出租",
        json!({"usage": "仓储", "area_m2": 1500}),
    );
    let s = run(&r, &o);
    assert!(matches!(s, Scored::Match { partial: true, .. }), "{s:?}");
    assert_eq!(s.factor(factor_keys::QUANTITY).map(|f| f.value), Some(0.75));
}

#[test]
fn unit_spellings_compare_equal() {
    let mut r = request(Kind::Material, "求购铝锭", json!({"material_name": "铝锭"}));
    r.quantity = Some(Quantity::new(2.0, "吨"));
    let mut o = offer(
        "A",
        Kind::Material,
        "铝锭",
        json!({"material_name": "铝锭"}),
    );
    o.quantity = Some(Quantity::new(2000.0, "kg"));
    let s = run(&r, &o);
    assert!(matches!(s, Scored::Match { partial: false, .. }), "{s:?}");
    assert_eq!(s.factor(factor_keys::QUANTITY).map(|f| f.value), Some(1.0));

    // 1500㎡ vs 1500平米, and a monthly rent against a daily budget.
    let mut r = request(Kind::Space, "求租厂房", json!({"usage": "生产"}));
    r.quantity = Some(Quantity::new(1500.0, "平米"));
    r.price = Some(Price::new(0.9, "元/㎡/天"));
    let mut o = offer("A", Kind::Space, "厂房出租", json!({"usage": "生产"}));
    o.quantity = Some(Quantity::new(1500.0, "㎡"));
    o.price = Some(Price::new(25.0, "元/平方米/月"));
    let s = run(&r, &o);
    assert_eq!(s.factor(factor_keys::QUANTITY).map(|f| f.value), Some(1.0));
    assert_eq!(s.factor(factor_keys::PRICE).map(|f| f.value), Some(1.0));
    // 40 元/㎡/月 = 1.33 元/㎡/天 is over the 0.9 budget.
    o.price = Some(Price::new(40.0, "元/平方米/月"));
    let over = run(&r, &o);
    let p = over.factor(factor_keys::PRICE).expect("price");
    assert!(p.value < 0.5 && p.reason_zh.contains("超出预算"), "{p:?}");
    // Incomparable bases leave the factor out instead of guessing.
    o.price = Some(Price::new(9.0, "万元"));
    assert!(run(&r, &o).factor(factor_keys::PRICE).is_none());
}

#[test]
fn lump_sum_budget_compares_with_unit_price_times_need() {
    let mut r = request(Kind::Material, "求购铝锭", json!({"material_name": "铝锭"}));
    r.quantity = Some(Quantity::new(10.0, "吨"));
    r.price = Some(Price::new(9.0, "万元"));
    let mut o = offer(
        "A",
        Kind::Material,
        "铝锭",
        json!({"material_name": "铝锭"}),
    );
    o.price = Some(Price::new(8100.0, "元/吨"));
    let s = run(&r, &o);
    let p = s.factor(factor_keys::PRICE).expect("price");
    assert_eq!(p.value, 1.0, "{p:?}");
    assert!(p.reason_zh.contains("81000"), "{}", p.reason_zh);
}

/// A pair for which every factor can be computed.
fn full_pair() -> (MatchListing, MatchListing) {
    let mut r = request(
        Kind::Equipment,
        "急需租用注塑机",
        json!({"equipment_type": "注塑机", "clamping_force_t": 250, "mode": "出租"}),
    );
    r.urgency = Urgency::Urgent;
    r.quantity = Some(Quantity::new(2.0, "台"));
    r.price = Some(Price::new(600.0, "元/台/天"));
    r.available_from = date(2026, 11, 20);
    r.available_until = date(2026, 12, 20);
    let mut o = offer(
        "A",
        Kind::Equipment,
        "啤机出租",
        json!({"equipment_type": "啤机", "clamping_force_t": 280, "mode": "出租"}),
    );
    o.quantity = Some(Quantity::new(1.0, "台"));
    o.price = Some(Price::new(15000.0, "元/台/月"));
    o.available_from = date(2026, 11, 22);
    o.lat = Some(BEILUN.0 + 0.02);
    (r, o)
}

#[test]
fn every_factor_has_a_stable_key_and_a_chinese_reason() {
    let (r, mut o) = full_pair();
    // The offering firm has a record of deals (the one factor that needs
    // the caller's data beyond the two listings).
    o.reliability = Some(zhiqilian_matcher::Reliability {
        value: 0.8,
        completed: 3,
        rating: 4.4,
    });
    let s = run(&r, &o);
    let Scored::Match {
        score: total,
        factors,
        partial,
    } = &s
    else {
        panic!("{s:?}")
    };
    assert!(*partial);
    let keys: Vec<&str> = factors.iter().map(|f| f.key).collect();
    // The literal strings are the API; this list must only ever grow.
    assert_eq!(
        keys,
        [
            "text_relevance",
            "kind_fit",
            "spec_fit",
            "quantity",
            "price",
            "time",
            "available_now",
            "distance",
            "community",
            "verified",
            "freshness",
            "reliability",
        ]
    );
    assert_eq!(keys, factor_keys::ALL);
    for f in factors {
        assert!((0.0..=1.0).contains(&f.value), "{f:?}");
        assert!(f.weight > 0.0, "{f:?}");
        assert!(f.reason_zh.chars().any(|c| c > '\u{2E80}'), "{f:?}");
    }
    // The score is the weighted mean of exactly these factors.
    let w: f64 = factors.iter().map(|f| f.weight).sum();
    let mean = factors.iter().map(|f| f.weight * f.value).sum::<f64>() / w;
    assert!((mean - total).abs() < 1e-12);
    // Urgency doubles down on distance and availability.
    let d = s.factor(factor_keys::DISTANCE).expect("distance");
    assert_eq!(d.weight, Weights::default().distance * 1.5);
    assert!(d.reason_zh.contains("加急"), "{}", d.reason_zh);
    // And the result serialises for the API.
    let json = serde_json::to_value(&s).expect("serialise");
    assert_eq!(json["outcome"], "match");
    assert_eq!(json["factors"][0]["key"], "text_relevance");
}

#[test]
fn missing_factors_are_left_out_not_zeroed() {
    let (r, mut o) = full_pair();
    let with_price = run(&r, &o);
    o.price = None;
    let without = run(&r, &o);
    assert!(without.factor(factor_keys::PRICE).is_none());
    // The offer was within budget: dropping the price removes a perfect
    // factor, so the score drops a little but stays a weighted mean in [0, 1].
    assert!(value(&without) <= value(&with_price));
    o.lat = None;
    assert!(run(&r, &o).factor(factor_keys::DISTANCE).is_none());
}

#[test]
fn caller_text_relevance_replaces_the_fallback() {
    let (r, mut o) = full_pair();
    let fallback = run(&r, &o);
    let f = fallback
        .factor(factor_keys::TEXT_RELEVANCE)
        .expect("fallback relevance");
    assert!(f.reason_zh.contains("关键词"), "{f:?}");
    o.text_relevance = Some(0.25);
    let s = run(&r, &o);
    let f = s.factor(factor_keys::TEXT_RELEVANCE).expect("bm25");
    assert_eq!(f.value, 0.25);
    assert!(f.reason_zh.contains("BM25"));
}

#[test]
fn argument_order_does_not_matter() {
    let (r, o) = full_pair();
    assert_eq!(run(&r, &o), run(&o, &r));
    let ranked = rank(&o, [&r], &Weights::default(), now());
    assert!(ranked[0].1.is_match());
}

#[test]
fn every_hard_constraint_key_is_exercised() {
    let mut seen = std::collections::BTreeSet::new();
    let (r, o) = full_pair();
    let mut same_firm = o.clone();
    same_firm.firm_id = r.firm_id.clone();
    let mut other_offer = o.clone();
    other_offer.firm_id = "Z".into();
    for (a, b) in [(&r, &same_firm), (&o, &other_offer)] {
        seen.extend(violations(a, b).into_iter().map(|v| v.key));
    }
    let mut truck_req = request(Kind::Logistics, "运钢卷", json!({"capacity_t": 40}));
    truck_req.quantity = Some(Quantity::new(40.0, "吨"));
    let truck = offer("A", Kind::Logistics, "高栏车", json!({"capacity_t": 32}));
    seen.extend(violations(&truck_req, &truck).into_iter().map(|v| v.key));
    // The decoy tests above cover the remaining keys; list them to keep this honest.
    seen.extend([
        keys::INCOMPATIBLE_KIND,
        keys::NO_TIME_OVERLAP,
        keys::REVERSED_ROUTE,
        keys::COLD_CHAIN_MISSING,
        keys::HAZMAT_MISSING,
        keys::HAZMAT_CLASS_MISMATCH,
        keys::MACHINE_UNDERSIZED,
        keys::FIRE_CLASS_TOO_WEAK,
        keys::TOO_WARM,
    ]);
    assert!(seen.contains(keys::SAME_FIRM) && seen.contains(keys::WRONG_SIDE));
    assert!(seen.contains(keys::CAPACITY_BELOW_NEED));
    assert_eq!(seen.len(), keys::ALL.len());
}

// ------------------------------------------------------------------ properties

const TITLES: &[&str] = &[
    "叉车出租",
    "求租250T注塑机",
    "北仑→上海 冷链车",
    "-18℃冻品仓储",
    "0-4℃冷藏库出租",
    "甲类危化品仓库",
    "PP拉丝料T30S 现货10吨",
    "急招普工20人",
    "空压机维修",
    "标准厂房1500㎡出租",
    "",
    "危化品运输 第3类",
    "海天MA2500",
    "口罩机转让",
    "口罩 5万只",
    "CNC外协加工",
];
const QUANTITY_UNITS: &[&str] = &[
    "吨",
    "公斤",
    "kg",
    "平方米",
    "㎡",
    "台",
    "人",
    "车",
    "只",
    "万个",
    "斗",
];
const PRICE_UNITS: &[&str] = &[
    "元/吨",
    "元/平方米/月",
    "元/㎡/天",
    "元/台/天",
    "元/车",
    "元/小时",
    "万元",
    "元",
    "元/人/天",
    "坏单位",
];
const COMMUNITIES: &[&str] = &["大港", "灵峰", "马海"];

fn attribute_pool() -> Vec<Value> {
    vec![
        json!({}),
        json!({"equipment_type": "注塑机", "clamping_force_t": 160}),
        json!({"equipment_type": "啤机", "clamping_force_t": 250, "mode": "出租"}),
        json!({"origin": "北仑", "destination": "上海", "capacity_t": 30, "cold_chain": true}),
        json!({"origin": "上海", "destination": "北仑", "hazmat": true}),
        json!({"usage": "冷库", "fire_class": "丙", "area_m2": 800}),
        json!({"usage": "仓储", "fire_class": "甲"}),
        json!({"material_name": "铝锭", "grade": "ADC12"}),
        json!({"job_type": "普工", "headcount": 20, "skills": ["叉车证"]}),
        json!({"service_type": "空压机维修", "certification": "ISO9001"}),
        json!({"departure_date": "2026-11-25", "capacity_t": "12"}),
    ]
}

/// Every field of a listing except side, kind and firm, drawn at random.
#[derive(Debug, Clone)]
struct Fields {
    title: usize,
    description: usize,
    attrs: usize,
    quantity: Option<(f64, usize)>,
    price: Option<(f64, usize)>,
    location: Option<(f64, f64)>,
    community: Option<usize>,
    verified: bool,
    from: Option<i64>,
    length: Option<i64>,
    urgency: usize,
    age_hours: i64,
    relevance: Option<f32>,
}

fn fields() -> impl Strategy<Value = Fields> {
    let amount = prop_oneof![-5.0..1e6f64, Just(0.0), Just(f64::NAN)];
    let location = prop_oneof![
        Just(None),
        (29.5..31.5f64, 120.0..122.0f64).prop_map(Some),
        Just(Some((f64::NAN, 121.0))),
    ];
    let relevance = prop_oneof![
        Just(None),
        (-1.0..2.0f32).prop_map(Some),
        Just(Some(f32::NAN)),
    ];
    (
        (0..TITLES.len(), 0..TITLES.len(), 0..attribute_pool().len()),
        proptest::option::of((amount.clone(), 0..QUANTITY_UNITS.len())),
        proptest::option::of((amount, 0..PRICE_UNITS.len())),
        location,
        proptest::option::of(0..COMMUNITIES.len()),
        any::<bool>(),
        (
            proptest::option::of(-30..120i64),
            proptest::option::of(-10..90i64),
        ),
        (0..3usize, -48..5000i64, relevance),
    )
        .prop_map(
            |(
                (title, description, attrs),
                quantity,
                price,
                location,
                community,
                verified,
                (from, length),
                (urgency, age_hours, relevance),
            )| Fields {
                title,
                description,
                attrs,
                quantity,
                price,
                location,
                community,
                verified,
                from,
                length,
                urgency,
                age_hours,
                relevance,
            },
        )
}

fn build(side: Side, kind: Kind, firm: &str, f: &Fields) -> MatchListing {
    let mut l = MatchListing::new(
        format!("{firm}-{side}"),
        side,
        kind,
        firm,
        TITLES[f.title],
        now() - Duration::hours(f.age_hours),
    );
    l.description = TITLES[f.description].to_owned();
    if let Value::Object(map) = attribute_pool()[f.attrs].clone() {
        l.attributes = map;
    }
    l.quantity = f.quantity.map(|(a, u)| Quantity::new(a, QUANTITY_UNITS[u]));
    l.price = f.price.map(|(a, u)| Price::new(a, PRICE_UNITS[u]));
    l.lat = f.location.map(|p| p.0);
    l.lon = f.location.map(|p| p.1);
    l.community_id = f.community.map(|c| COMMUNITIES[c].to_owned());
    l.firm_verified = f.verified;
    let base = date(2026, 11, 1).expect("date");
    l.available_from = f.from.map(|d| base + Duration::days(d));
    l.available_until = f
        .length
        .map(|n| base + Duration::days(f.from.unwrap_or(0) + n));
    l.urgency = Urgency::ALL[f.urgency];
    l.text_relevance = f.relevance;
    l
}

fn kind() -> impl Strategy<Value = Kind> {
    proptest::sample::select(Kind::ALL)
}

fn side() -> impl Strategy<Value = Side> {
    proptest::sample::select(Side::ALL)
}

/// The score as a number for monotonicity: disqualified counts as 0.
fn numeric(s: &Scored) -> f64 {
    s.score().unwrap_or(0.0)
}

/// The hard constraints the property test injects.
#[derive(Debug, Clone, Copy)]
enum Breach {
    SameFirm,
    SameSide,
    WrongKind,
    DisjointDates,
    ReversedRoute,
    SmallMachine,
    WeakFireClass,
    ChillForFrozen,
    NoColdChain,
    NoHazmat,
}

const BREACHES: &[Breach] = &[
    Breach::SameFirm,
    Breach::SameSide,
    Breach::WrongKind,
    Breach::DisjointDates,
    Breach::ReversedRoute,
    Breach::SmallMachine,
    Breach::WeakFireClass,
    Breach::ChillForFrozen,
    Breach::NoColdChain,
    Breach::NoHazmat,
];

fn set(l: &mut MatchListing, key: &str, v: Value) {
    l.attributes.insert(key.to_owned(), v);
}

/// Makes the pair break `breach` (whatever else it says) and returns the key
/// that must be among its violations.
fn inject(breach: Breach, r: &mut MatchListing, o: &mut MatchListing) -> &'static str {
    match breach {
        Breach::SameFirm => {
            o.firm_id = r.firm_id.clone();
            keys::SAME_FIRM
        }
        Breach::SameSide => {
            r.side = Side::Offer;
            keys::WRONG_SIDE
        }
        Breach::WrongKind => {
            r.kind = Kind::Material;
            o.kind = Kind::Equipment;
            keys::INCOMPATIBLE_KIND
        }
        Breach::DisjointDates => {
            r.available_from = date(2026, 12, 1);
            r.available_until = date(2026, 12, 31);
            o.available_from = date(2027, 1, 10);
            o.available_until = None;
            keys::NO_TIME_OVERLAP
        }
        Breach::ReversedRoute => {
            r.kind = Kind::Logistics;
            o.kind = Kind::Logistics;
            set(r, "origin", json!("上海"));
            set(r, "destination", json!("北仑"));
            set(o, "origin", json!("宁波北仑港"));
            set(o, "destination", json!("上海洋山"));
            keys::REVERSED_ROUTE
        }
        Breach::SmallMachine => {
            r.kind = Kind::Equipment;
            o.kind = Kind::Equipment;
            set(r, "clamping_force_t", json!(250));
            set(o, "clamping_force_t", json!(160));
            keys::MACHINE_UNDERSIZED
        }
        Breach::WeakFireClass => {
            r.kind = Kind::Space;
            o.kind = Kind::Space;
            set(r, "fire_class", json!("甲"));
            set(o, "fire_class", json!("乙"));
            keys::FIRE_CLASS_TOO_WEAK
        }
        Breach::ChillForFrozen => {
            r.kind = Kind::Space;
            o.kind = Kind::Space;
            r.title = "求-18℃冷库".into();
            r.description = "存放冻品".into();
            o.title = "冷藏库出租".into();
            o.description = "库温0-4℃".into();
            keys::TOO_WARM
        }
        Breach::NoColdChain => {
            r.kind = Kind::Logistics;
            o.kind = Kind::Logistics;
            set(r, "cold_chain", json!(true));
            set(o, "cold_chain", json!(false));
            keys::COLD_CHAIN_MISSING
        }
        Breach::NoHazmat => {
            r.kind = Kind::Logistics;
            o.kind = Kind::Logistics;
            set(r, "hazmat", json!(true));
            set(o, "hazmat", json!(false));
            keys::HAZMAT_MISSING
        }
    }
}

/// A pair for the range checks: mostly a request and an offer of one kind
/// that agree on what they are about (the offer shares the request's title,
/// description, attributes and window, so the hard constraints hold unless
/// the random quantity, urgency or location says otherwise), sometimes two
/// listings drawn independently (mostly disqualified).
fn scorable_pair() -> impl Strategy<Value = (MatchListing, MatchListing)> {
    let agreeing = (side(), kind(), fields(), fields()).prop_map(|(s, k, fa, mut fb)| {
        fb.title = fa.title;
        fb.description = fa.description;
        fb.attrs = fa.attrs;
        fb.from = fa.from;
        fb.length = fa.length;
        (build(s, k, "A", &fa), build(s.opposite(), k, "B", &fb))
    });
    let independent = ((side(), kind(), fields()), (side(), kind(), fields())).prop_map(
        |((sa, ka, fa), (sb, kb, fb))| (build(sa, ka, "A", &fa), build(sb, kb, "B", &fb)),
    );
    prop_oneof![4 => agreeing, 1 => independent]
}

/// Every score and factor is a finite number in [0, 1] with a weight and a
/// reason; a disqualification names a known key. The pairs are built so
/// that most are scored (not disqualified), and the test counts them: range
/// checks that ran on a handful of cases would prove little.
#[test]
fn score_is_a_number_in_the_unit_interval() {
    use proptest::test_runner::{Config, TestRunner};
    use std::sync::atomic::{AtomicUsize, Ordering};
    const CASES: u32 = 512;
    let scored = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&scorable_pair(), |(a, b)| {
        total.fetch_add(1, Ordering::Relaxed);
        match score(&a, &b, &Weights::default(), now()) {
            Scored::Match { score, factors, .. } => {
                scored.fetch_add(1, Ordering::Relaxed);
                prop_assert!((0.0..=1.0).contains(&score), "{}", score);
                prop_assert!(!factors.is_empty());
                for f in &factors {
                    prop_assert!((0.0..=1.0).contains(&f.value), "{:?}", f);
                    prop_assert!(f.weight >= 0.0 && f.weight.is_finite(), "{:?}", f);
                    prop_assert!(factor_keys::ALL.contains(&f.key));
                    prop_assert!(!f.reason_zh.is_empty());
                }
            }
            Scored::Disqualified { key, reason_zh } => {
                prop_assert!(keys::ALL.contains(&key));
                prop_assert!(!reason_zh.is_empty());
            }
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (scored, total) = (scored.into_inner(), total.into_inner());
    assert_eq!(total, CASES as usize);
    // About 4 in 5 pairs agree and most of those pass the hard constraints
    // (about 80 % of all pairs are scored); at least two thirds must be.
    assert!(
        scored * 3 >= total * 2,
        "only {scored} of {total} generated pairs were scored; the rest were disqualified"
    );
    eprintln!("{scored} of {total} generated pairs scored");
}

proptest! {
    #[test]
    fn score_never_rises_with_distance(
        k in kind(),
        fr in fields(),
        fo in fields(),
        d in (0.0..3.0f64, 0.0..3.0f64),
    ) {
        let (near, far) = if d.0 <= d.1 { d } else { (d.1, d.0) };
        let mut r = build(Side::Request, k, "A", &fr);
        r.lat = Some(30.0);
        r.lon = Some(121.5);
        let mut o = build(Side::Offer, k, "B", &fo);
        o.lon = Some(121.5);
        o.lat = Some(30.0 + near);
        let s_near = score(&r, &o, &Weights::default(), now());
        o.lat = Some(30.0 + far);
        let s_far = score(&r, &o, &Weights::default(), now());
        prop_assert_eq!(s_near.is_match(), s_far.is_match());
        prop_assert!(numeric(&s_far) <= numeric(&s_near) + 1e-12,
            "near {:?} far {:?}", s_near, s_far);
    }

    #[test]
    fn score_never_rises_when_coverage_shrinks(
        k in kind(),
        fr in fields(),
        fo in fields(),
        need in 1.0..1000.0f64,
        unit in proptest::sample::select(&["吨", "平方米", "台", "人", "只", "车"][..]),
        shares in (0.001..3.0f64, 0.001..3.0f64),
    ) {
        let (small, large) = if shares.0 <= shares.1 { shares } else { (shares.1, shares.0) };
        let mut r = build(Side::Request, k, "A", &fr);
        r.quantity = Some(Quantity::new(need, unit));
        let mut o = build(Side::Offer, k, "B", &fo);
        o.quantity = Some(Quantity::new(need * large, unit));
        let s_large = score(&r, &o, &Weights::default(), now());
        o.quantity = Some(Quantity::new(need * small, unit));
        let s_small = score(&r, &o, &Weights::default(), now());
        prop_assert!(numeric(&s_small) <= numeric(&s_large) + 1e-12,
            "small {:?} large {:?}", s_small, s_large);
        if let Scored::Match { partial, .. } = &s_small {
            prop_assert_eq!(*partial, small < 1.0);
        }
    }

    #[test]
    fn hard_constraints_always_disqualify(
        k in kind(),
        fr in fields(),
        fo in fields(),
        breach in proptest::sample::select(BREACHES),
    ) {
        let mut r = build(Side::Request, k, "A", &fr);
        let mut o = build(Side::Offer, k, "B", &fo);
        let expected = inject(breach, &mut r, &mut o);
        let s = score(&r, &o, &Weights::default(), now());
        prop_assert!(!s.is_match(), "{:?} not disqualified: {:?}", breach, s);
        let found: Vec<_> = violations(&r, &o).into_iter().map(|v| v.key).collect();
        prop_assert!(found.contains(&expected), "{:?}: {:?}", breach, found);
    }
}

#[test]
fn reliability_counts_only_when_the_caller_knows_the_firms_record() {
    let (r, mut o) = full_pair();
    let unknown = run(&r, &o);
    assert!(unknown.factor(factor_keys::RELIABILITY).is_none());
    let with = |value: f64, completed: u32| zhiqilian_matcher::Reliability {
        value,
        completed,
        rating: 1.0 + 4.0 * value,
    };
    o.reliability = Some(with(0.9, 4));
    let good = run(&r, &o);
    let f = good.factor(factor_keys::RELIABILITY).expect("reliability");
    assert!(f.reason_zh.contains("已完成 4 单"), "{}", f.reason_zh);
    o.reliability = Some(with(0.3, 4));
    let poor = run(&r, &o);
    assert!(value(&poor) < value(&good));
    // A firm without history is told apart, with the park's prior.
    o.reliability = Some(with(0.75, 0));
    let new = run(&r, &o);
    let f = new.factor(factor_keys::RELIABILITY).expect("prior");
    assert!(f.reason_zh.contains("园区平均"), "{}", f.reason_zh);
}
