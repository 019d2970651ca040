//! Checks on generated listings: determinism, validity against the matcher's
//! own rules, and that the data has the variety a benchmark needs.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use serde_json::{Map, Value};
use zhiqilian_bench::{Config, generate, generate_vec};
use zhiqilian_matcher::{
    Kind, Side, Urgency, Uscc, parse_price_unit, parse_quantity_unit, validate_attributes,
};

const SEVEN: [&str; 7] = [
    "大港工业社区",
    "灵峰工业社区",
    "霞浦物流工业社区",
    "平湖经开智创工业社区",
    "马海工业社区",
    "春晓湖工业社区",
    "海盐智汇湾工业社区",
];

fn cfg(count: u64, seed: u64) -> Config {
    Config {
        count,
        seed,
        ..Config::default()
    }
}

fn lines(cfg: &Config) -> Vec<Value> {
    let bytes = generate_vec(cfg);
    let text = String::from_utf8(bytes).expect("output is UTF-8");
    assert!(text.ends_with('\n'), "every line ends with a newline");
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}\n{l}", i + 1))
        })
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {key} is not a string", v["key"]))
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// Month and day of a `YYYY-MM-DD` date, checked to be a real calendar day.
fn check_calendar(date: &str) {
    let y: i32 = date[..4].parse().expect("year");
    let m: u32 = date[5..7].parse().expect("month");
    let d: u32 = date[8..].parse().expect("day");
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    assert!((2026..=2030).contains(&y), "{date}: year near 2026-11-20");
    assert!((1..=12).contains(&m), "{date}");
    assert!(d >= 1 && d <= days[m as usize - 1], "{date}");
}

const ALLOWED_KEYS: &[&str] = &[
    "key",
    "side",
    "kind",
    "title",
    "description",
    "firm",
    "community",
    "location",
    "quantity",
    "price",
    "available_from",
    "available_until",
    "urgency",
    "attributes",
];

/// Checks one listing against the eval README and the matcher's rules.
fn check_listing(v: &Value, communities: &HashSet<&str>) {
    let key = s(v, "key");
    let obj = v.as_object().expect("object");
    for k in obj.keys() {
        assert!(
            ALLOWED_KEYS.contains(&k.as_str()),
            "{key}: unexpected field {k}"
        );
    }
    let side = Side::from_str(s(v, "side")).expect("side");
    let kind = Kind::from_str(s(v, "kind")).expect("kind");
    let prefix = match side {
        Side::Offer => "G-O-",
        Side::Request => "G-R-",
    };
    assert!(key.starts_with(prefix), "{key} vs side {side}");
    assert!(
        key[4..].len() >= 7 && key[4..].bytes().all(|b| b.is_ascii_digit()),
        "{key}"
    );

    let title = s(v, "title");
    let tn = title.chars().count();
    assert!((2..=100).contains(&tn), "{key}: title of {tn} chars");
    assert_eq!(title, title.trim(), "{key}: title is trimmed");
    let desc = s(v, "description");
    let dn = desc.chars().count();
    assert!(
        (20..=120).contains(&dn),
        "{key}: description of {dn} chars: {desc}"
    );

    let firm = &v["firm"];
    let fkey = s(firm, "key");
    assert!(fkey.starts_with("GF"), "{key}: firm key {fkey}");
    let name_len = s(firm, "name").chars().count();
    assert!((2..=100).contains(&name_len), "{key}: firm name");
    let uscc = s(firm, "uscc");
    let parsed = Uscc::parse(uscc).unwrap_or_else(|e| panic!("{key}: {uscc}: {e}"));
    assert_eq!(parsed.as_str(), uscc, "{key}: code is already normalised");

    assert!(communities.contains(s(v, "community")), "{key}: community");

    let loc = &v["location"];
    assert!(!s(loc, "address").is_empty());
    let lat = loc["lat"].as_f64().expect("lat");
    let lon = loc["lon"].as_f64().expect("lon");
    assert!((27.0..=32.5).contains(&lat), "{key}: lat {lat}");
    assert!((118.0..=123.0).contains(&lon), "{key}: lon {lon}");
    assert_eq!((lat * 1e4).round() / 1e4, lat, "{key}: 4 decimals");

    if let Some(q) = v.get("quantity") {
        let amount = q["amount"].as_f64().expect("amount");
        assert!(amount > 0.0 && amount <= 1e12, "{key}: quantity {amount}");
        let unit = s(q, "unit");
        assert!(parse_quantity_unit(unit).is_some(), "{key}: unit {unit}");
        assert!(
            (1..=16).contains(&unit.chars().count()),
            "{key}: unit {unit}"
        );
        assert_eq!(q.as_object().map(Map::len), Some(2));
    }
    if let Some(p) = v.get("price") {
        let amount = p["amount"].as_f64().expect("amount");
        assert!((0.0..=1e12).contains(&amount), "{key}: price {amount}");
        let unit = s(p, "unit");
        assert!(parse_price_unit(unit).is_some(), "{key}: price unit {unit}");
        assert!(
            (1..=16).contains(&unit.chars().count()),
            "{key}: unit {unit}"
        );
    }
    let from = v.get("available_from").map(|d| d.as_str().expect("date"));
    let until = v.get("available_until").map(|d| d.as_str().expect("date"));
    for d in from.iter().chain(until.iter()) {
        assert!(is_date(d), "{key}: date {d}");
        check_calendar(d);
    }
    if let (Some(f), Some(u)) = (from, until) {
        assert!(f <= u, "{key}: {f} after {u}");
    }
    Urgency::from_str(s(v, "urgency")).expect("urgency");

    if let Some(attrs) = v.get("attributes") {
        let attrs = attrs.as_object().expect("attributes object");
        assert!(!attrs.is_empty(), "{key}: empty attributes are left out");
        if let Err(errs) = validate_attributes(kind, attrs) {
            panic!("{key} ({kind}): {errs:?}\n{v}");
        }
        if let Some(d) = attrs.get("departure_date").and_then(Value::as_str) {
            check_calendar(d);
        }
    }
}

#[test]
fn same_seed_and_arguments_give_identical_bytes() {
    let a = generate_vec(&cfg(3000, 42));
    let b = generate_vec(&cfg(3000, 42));
    assert_eq!(a, b);
    let other = generate_vec(&cfg(3000, 43));
    assert_ne!(a, other, "another seed gives other data");

    // A shorter run is a prefix of a longer one with the same seed.
    let short = generate_vec(&cfg(1000, 42));
    assert!(a.starts_with(&short));

    // Also through a writer, as the binary does.
    let mut via_writer = Vec::new();
    let stats = generate(&cfg(3000, 42), &mut via_writer).expect("write");
    assert_eq!(via_writer, a);
    assert_eq!(stats.lines, 3000);
    assert_eq!(stats.offers + stats.requests, 3000);
    assert_eq!(stats.bytes, a.len() as u64);
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 3000);
}

#[test]
fn firm_table_depends_on_arguments() {
    let small = Config {
        count: 500,
        seed: 42,
        communities: 7,
        firms_per_community: 10,
    };
    let a = generate_vec(&small);
    assert_eq!(a, generate_vec(&small));
    assert_ne!(a, generate_vec(&cfg(500, 42)));
}

#[test]
fn every_line_is_valid_at_two_seeds() {
    let communities: HashSet<&str> = SEVEN.into_iter().collect();
    for seed in [1, 20261120] {
        let all = lines(&cfg(5000, seed));
        assert_eq!(all.len(), 5000);
        let mut keys = HashSet::new();
        let mut firms: HashMap<String, (String, String, String)> = HashMap::new();
        let mut codes: HashMap<String, String> = HashMap::new();
        for v in &all {
            check_listing(v, &communities);
            assert!(keys.insert(s(v, "key").to_string()), "duplicate key");
            // One firm key always carries the same name, code and community,
            // and one code belongs to one firm.
            let firm = &v["firm"];
            let this = (
                s(firm, "name").to_string(),
                s(firm, "uscc").to_string(),
                s(v, "community").to_string(),
            );
            let fkey = s(firm, "key").to_string();
            if let Some(seen) = firms.get(&fkey) {
                assert_eq!(seen, &this, "firm {fkey} changed");
            } else {
                firms.insert(fkey.clone(), this.clone());
            }
            let owner = codes.entry(this.1.clone()).or_insert(fkey.clone());
            assert_eq!(owner, &fkey, "USCC {} shared by two firms", this.1);
        }
        // Sequence numbers per side have no gaps.
        for (prefix, side) in [("G-O-", "offer"), ("G-R-", "request")] {
            let n = all.iter().filter(|v| s(v, "side") == side).count();
            for i in 1..=n {
                assert!(keys.contains(&format!("{prefix}{i:07}")), "{prefix}{i:07}");
            }
        }
    }
}

#[test]
fn kinds_sides_and_urgency_are_all_covered() {
    let all = lines(&cfg(20_000, 5));
    let mut by: HashMap<(String, String), usize> = HashMap::new();
    let mut urgency: HashMap<String, usize> = HashMap::new();
    for v in &all {
        *by.entry((s(v, "kind").into(), s(v, "side").into()))
            .or_default() += 1;
        *urgency.entry(s(v, "urgency").into()).or_default() += 1;
    }
    let n = all.len() as f64;
    for kind in Kind::ALL {
        let mut total = 0;
        for side in Side::ALL {
            let c = by
                .get(&(kind.as_str().into(), side.as_str().into()))
                .copied()
                .unwrap_or(0);
            assert!(c >= 200, "{kind}/{side}: only {c}");
            total += c;
        }
        let share = total as f64 / n;
        assert!((0.07..=0.3).contains(&share), "{kind}: share {share:.3}");
    }
    let offers: usize = by
        .iter()
        .filter(|((_, side), _)| side == "offer")
        .map(|(_, c)| c)
        .sum();
    let share = offers as f64 / n;
    assert!((0.57..=0.63).contains(&share), "offer share {share:.3}");
    let normal = urgency["normal"] as f64 / n;
    let urgent = urgency["urgent"] as f64 / n;
    let emergency = urgency["emergency"] as f64 / n;
    assert!(normal > 0.8, "mostly normal: {normal:.3}");
    assert!((0.04..0.16).contains(&urgent), "some urgent: {urgent:.3}");
    assert!(
        (0.002..0.03).contains(&emergency),
        "few emergency: {emergency:.3}"
    );
}

#[test]
fn firms_post_several_listings_on_both_sides() {
    let all = lines(&cfg(10_000, 11));
    let mut per_firm: HashMap<&str, (usize, HashSet<&str>, HashSet<&str>)> = HashMap::new();
    let mut communities = HashSet::new();
    for v in &all {
        let e = per_firm.entry(s(&v["firm"], "key")).or_default();
        e.0 += 1;
        e.1.insert(s(v, "side"));
        e.2.insert(s(v, "kind"));
        communities.insert(s(v, "community"));
    }
    assert_eq!(communities.len(), 7, "all seven communities appear");
    assert!(per_firm.len() > 400, "{} firms", per_firm.len());
    let several = per_firm.values().filter(|e| e.0 >= 5).count();
    assert!(several > 300, "{several} firms with 5+ listings");
    let both = per_firm.values().filter(|e| e.1.len() == 2).count();
    assert!(both > 300, "{both} firms on both sides");
    let kinds = per_firm.values().filter(|e| e.2.len() >= 3).count();
    assert!(kinds > 100, "{kinds} firms posting 3+ kinds");
}

#[test]
fn more_communities_get_generated_names() {
    let c = Config {
        count: 3000,
        seed: 3,
        communities: 12,
        firms_per_community: 20,
    };
    let all = lines(&c);
    let names: HashSet<&str> = all.iter().map(|v| s(v, "community")).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    for n in SEVEN {
        assert!(names.contains(n), "{n}");
    }
    assert!(names.iter().all(|n| n.ends_with("工业社区")));
    let extra: HashSet<&str> = names
        .difference(&SEVEN.into_iter().collect())
        .copied()
        .collect();
    assert_eq!(extra.len(), 5);
    let everything: HashSet<&str> = names.iter().copied().collect();
    for v in &all {
        check_listing(v, &everything);
    }
    let firms: HashSet<&str> = all.iter().map(|v| s(&v["firm"], "key")).collect();
    assert!(firms.len() > 200 && firms.len() <= 240, "{}", firms.len());
}

#[test]
fn text_has_jargon_synonyms_units_and_reverse_routes() {
    let all = lines(&cfg(20_000, 8));
    let text: String = all
        .iter()
        .map(|v| format!("{} {}\n", s(v, "title"), s(v, "description")))
        .collect();
    for word in [
        "叉车",
        "铲车",
        "堆高车",
        "啤机",
        "注塑机",
        "立加",
        "加工中心",
        "栈板",
        "托盘",
        "ADC12",
        "YL113",
        "日标12#",
        "T30S",
        "海天MA2500",
        "三一STC250",
        "VMC850",
        "二保焊",
        "CO2气保焊",
        "冷库",
        "甲类",
        "回程",
        "→",
    ] {
        assert!(text.contains(word), "no “{word}” in 20k listings");
    }
    let units: HashSet<&str> = all
        .iter()
        .filter_map(|v| v.get("quantity"))
        .map(|q| s(q, "unit"))
        .collect();
    for u in [
        "吨",
        "t",
        "公斤",
        "kg",
        "平方米",
        "m²",
        "平米",
        "㎡",
        "台",
        "套",
        "件",
        "人",
        "车",
    ] {
        assert!(units.contains(u), "quantity unit {u} never used");
    }
    let price_units: HashSet<&str> = all
        .iter()
        .filter_map(|v| v.get("price"))
        .map(|p| s(p, "unit"))
        .collect();
    for u in [
        "元/平方米/月",
        "元/吨",
        "元/台/天",
        "元/车",
        "元/小时",
        "万元",
    ] {
        assert!(price_units.contains(u), "price unit {u} never used");
    }

    // Some quantities are given only in the text.
    let text_only = all
        .iter()
        .filter(|v| v.get("quantity").is_none())
        .filter(|v| {
            let d = s(v, "description");
            ["吨", "台", "平", "人", "只", "片"]
                .iter()
                .any(|u| d.contains(u))
                && d.chars().any(|c| c.is_ascii_digit())
        })
        .count();
    assert!(
        text_only > 500,
        "{text_only} listings with quantity only in text"
    );

    // Logistics routes go both ways: some A→B has a B→A somewhere.
    let routes: HashSet<(&str, &str)> = all
        .iter()
        .filter(|v| s(v, "kind") == "logistics")
        .filter_map(|v| {
            let a = v.get("attributes")?;
            Some((a.get("origin")?.as_str()?, a.get("destination")?.as_str()?))
        })
        .collect();
    let reversed = routes
        .iter()
        .filter(|(a, b)| routes.contains(&(*b, *a)))
        .count();
    assert!(reversed > 20, "{reversed} routes also run in reverse");
    let departures = all
        .iter()
        .filter_map(|v| v.get("attributes")?.get("departure_date"))
        .count();
    assert!(departures > 100, "{departures} departure dates");
}

#[test]
fn attribute_values_are_sane() {
    let all = lines(&cfg(10_000, 99));
    let mut usage = HashSet::new();
    let mut fire = HashSet::new();
    let mut modes = HashSet::new();
    let mut cold = HashSet::new();
    let mut haz = HashSet::new();
    let mut skills = 0;
    for v in &all {
        let Some(a) = v.get("attributes").and_then(Value::as_object) else {
            continue;
        };
        if let Some(u) = a.get("usage") {
            usage.insert(u.as_str().expect("usage").to_string());
        }
        if let Some(f) = a.get("fire_class") {
            fire.insert(f.as_str().expect("fire_class").to_string());
        }
        if let Some(m) = a.get("mode") {
            modes.insert(m.as_str().expect("mode").to_string());
        }
        if let Some(c) = a.get("cold_chain") {
            cold.insert(c.as_bool().expect("bool"));
        }
        if let Some(h) = a.get("hazmat") {
            haz.insert(h.as_bool().expect("bool"));
        }
        if let Some(area) = a.get("area_m2") {
            let area = area.as_f64().expect("area");
            assert!((10.0..=1e6).contains(&area), "area {area}");
            if let Some(q) = v.get("quantity") {
                // When both are given in area units they agree.
                if ["平方米", "平米", "m²", "㎡", "平方"].contains(&s(q, "unit")) {
                    assert_eq!(q["amount"].as_f64(), Some(area), "{}", v["key"]);
                }
            }
        }
        if let Some(h) = a.get("headcount") {
            let h = h.as_i64().expect("integer headcount");
            assert!((1..=1000).contains(&h));
            assert_eq!(v["quantity"]["amount"].as_i64().unwrap_or(h), h);
        }
        if let Some(list) = a.get("skills").and_then(Value::as_array) {
            skills += 1;
            let set: HashSet<_> = list.iter().collect();
            assert_eq!(set.len(), list.len(), "skills are distinct");
        }
    }
    assert_eq!(usage.len(), 4, "{usage:?}");
    assert_eq!(fire.len(), 5, "{fire:?}");
    assert_eq!(modes.len(), 4, "{modes:?}");
    assert_eq!(cold.len(), 2);
    assert_eq!(haz.len(), 2);
    assert!(skills > 500);
}

const DEV_LISTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev/listings.jsonl");

/// Titles, descriptions, firm names and codes of the hand-made dev set
/// (part of the repository: a missing file fails the test).
fn dev_texts() -> HashSet<String> {
    let text = std::fs::read_to_string(DEV_LISTINGS)
        .unwrap_or_else(|e| panic!("cannot read the dev set {DEV_LISTINGS}: {e}"));
    let mut out = HashSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("dev line");
        for t in [
            s(&v, "title"),
            s(&v, "description"),
            s(&v["firm"], "name"),
            s(&v["firm"], "uscc"),
        ] {
            out.insert(t.to_string());
        }
    }
    out
}

fn assert_nothing_copied(dev: &HashSet<String>, all: &[Value]) {
    for v in all {
        for t in [
            s(v, "title"),
            s(v, "description"),
            s(&v["firm"], "name"),
            s(&v["firm"], "uscc"),
        ] {
            assert!(
                !dev.contains(t),
                "{}: “{t}” is copied from the dev set",
                v["key"]
            );
        }
    }
}

#[test]
fn nothing_is_copied_from_the_dev_set() {
    let dev = dev_texts();
    assert!(dev.len() > 400, "{} texts in the dev set", dev.len());
    for seed in [1, 2] {
        assert_nothing_copied(&dev, &lines(&cfg(50_000, seed)));
    }
}

/// Rare branches only show up at scale: `cargo test -p zhiqilian-bench --release -- --ignored`
/// (`.ci/run` runs it).
#[test]
#[ignore = "slow in a debug build: checks 4 × 250k lines; .ci/run runs it in release"]
fn large_samples_are_valid() {
    let communities: HashSet<&str> = SEVEN.into_iter().collect();
    let dev = dev_texts();
    for seed in [1, 2, 3, 4] {
        let all = lines(&cfg(250_000, seed));
        for v in &all {
            check_listing(v, &communities);
        }
        assert_nothing_copied(&dev, &all);
    }
    let c = Config {
        count: 100_000,
        seed: 5,
        communities: 40,
        firms_per_community: 30,
    };
    let all = lines(&c);
    let names: HashSet<&str> = all.iter().map(|v| s(v, "community")).collect();
    for v in &all {
        check_listing(v, &names);
    }
}
