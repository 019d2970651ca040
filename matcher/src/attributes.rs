//! Validation of a listing's `attributes` object against the per-kind vocabulary.
//!
//! Attribute values are free text where the domain is open (叉车, 电动叉车 and
//! 前移式叉车 are all fine) and checked only where the matcher relies on them:
//! numeric specs it compares, the few closed enumerations it reasons about
//! (fire class, usage, mode), dates and flags. Every key is optional, but a key
//! that is present must be valid: `null` is rejected (omit the key instead) so
//! stored attributes never need a "present but empty" case.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::errors::{FieldError, codes};
use crate::model::Kind;

/// Longest free-text attribute, in characters (not bytes: the text is Chinese).
pub const MAX_TEXT_CHARS: usize = 200;
/// Most skills a workforce listing may name.
pub const MAX_SKILLS: usize = 30;
/// Longest single skill, in characters.
pub const MAX_SKILL_CHARS: usize = 50;

/// Allowed values of `usage` (space).
pub const USAGES: &[&str] = &["生产", "仓储", "冷库", "办公"];
/// Allowed values of `fire_class` (space), the storage fire-hazard classes of GB 50016.
pub const FIRE_CLASSES: &[&str] = &["甲", "乙", "丙", "丁", "戊"];
/// Allowed values of `mode` (equipment).
pub const EQUIPMENT_MODES: &[&str] = &["出租", "出售", "共享机时", "代加工"];

const SPACE_KEYS: &[&str] = &[
    "area_m2",
    "ceiling_height_m",
    "floor_load_t_per_m2",
    "power_kva",
    "crane_t",
    "floor",
    "usage",
    "fire_class",
];
const EQUIPMENT_KEYS: &[&str] = &[
    "equipment_type",
    "brand",
    "model",
    "mode",
    "clamping_force_t",
    "travel_mm",
    "tonnage_t",
];
const MATERIAL_KEYS: &[&str] = &["material_name", "grade", "packaging"];
const LOGISTICS_KEYS: &[&str] = &[
    "origin",
    "destination",
    "vehicle_type",
    "capacity_t",
    "volume_m3",
    "departure_date",
    "cold_chain",
    "hazmat",
];
const WORKFORCE_KEYS: &[&str] = &["job_type", "headcount", "skills", "period_days"];
const SERVICE_KEYS: &[&str] = &["service_type", "certification"];

/// The attribute keys defined for `kind`, in the order of the data README.
pub fn attribute_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Space => SPACE_KEYS,
        Kind::Equipment => EQUIPMENT_KEYS,
        Kind::Material => MATERIAL_KEYS,
        Kind::Logistics => LOGISTICS_KEYS,
        Kind::Workforce => WORKFORCE_KEYS,
        Kind::Service => SERVICE_KEYS,
    }
}

/// What a single attribute value must look like.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A real number in `(0, max]`: physical sizes are never zero or negative.
    Positive {
        max: f64,
    },
    /// An integer in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// Non-blank free text.
    Text,
    /// One of a closed list of strings, matched exactly.
    OneOf(&'static [&'static str]),
    /// A calendar date written `YYYY-MM-DD`.
    Date,
    Bool,
    /// A list of short non-blank strings.
    Skills,
}

/// The rule for a key. Keys are unique across kinds, so one table serves all;
/// membership of a key in a kind is checked separately via [`attribute_keys`].
fn rule_for(key: &str) -> Option<Rule> {
    let rule = match key {
        "area_m2" => Rule::Positive { max: 1e7 },
        "ceiling_height_m" => Rule::Positive { max: 100.0 },
        "floor_load_t_per_m2" => Rule::Positive { max: 100.0 },
        "power_kva" => Rule::Positive { max: 1e6 },
        "crane_t" => Rule::Positive { max: 2000.0 },
        // Basements exist (-5); 200 floors is beyond any industrial building.
        "floor" => Rule::Integer { min: -5, max: 200 },
        "usage" => Rule::OneOf(USAGES),
        "fire_class" => Rule::OneOf(FIRE_CLASSES),
        "mode" => Rule::OneOf(EQUIPMENT_MODES),
        "clamping_force_t" => Rule::Positive { max: 20_000.0 },
        "travel_mm" => Rule::Positive { max: 1e6 },
        "tonnage_t" => Rule::Positive { max: 1e5 },
        "capacity_t" => Rule::Positive { max: 1e4 },
        "volume_m3" => Rule::Positive { max: 1e4 },
        "departure_date" => Rule::Date,
        "cold_chain" | "hazmat" => Rule::Bool,
        "headcount" => Rule::Integer {
            min: 1,
            max: 100_000,
        },
        "period_days" => Rule::Integer { min: 1, max: 3650 },
        "skills" => Rule::Skills,
        "equipment_type" | "brand" | "model" | "material_name" | "grade" | "packaging"
        | "origin" | "destination" | "vehicle_type" | "job_type" | "service_type"
        | "certification" => Rule::Text,
        _ => return None,
    };
    Some(rule)
}

/// Earliest and latest accepted `departure_date`; anything outside is a typo.
const DATE_RANGE: (NaiveDate, NaiveDate) = match (
    NaiveDate::from_ymd_opt(2000, 1, 1),
    NaiveDate::from_ymd_opt(2100, 12, 31),
) {
    (Some(lo), Some(hi)) => (lo, hi),
    _ => panic!("constant dates are valid"),
};

/// Checks every attribute of a `kind` listing and returns all problems found.
///
/// Field paths are `attributes.<key>` (and `attributes.skills[i]` for one skill).
/// Errors come out in key order (serde_json's map is sorted), which keeps
/// responses deterministic.
pub fn validate_attributes(kind: Kind, attrs: &Map<String, Value>) -> Result<(), Vec<FieldError>> {
    let allowed = attribute_keys(kind);
    let mut errors = Vec::new();
    for (key, value) in attrs {
        let field = format!("attributes.{key}");
        let rule = allowed
            .contains(&key.as_str())
            .then(|| rule_for(key))
            .flatten();
        match rule {
            Some(rule) => check_value(rule, &field, value, &mut errors),
            None => errors.push(FieldError::new(
                field,
                codes::UNKNOWN_KEY,
                format!(
                    "“{}”类信息没有属性“{key}”，可用属性：{}",
                    kind.label_zh(),
                    allowed.join("、")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_name_zh(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "布尔值",
        Value::Number(_) => "数字",
        Value::String(_) => "文本",
        Value::Array(_) => "列表",
        Value::Object(_) => "对象",
    }
}

fn wrong_type(field: &str, wanted: &str, value: &Value) -> FieldError {
    FieldError::new(
        field,
        codes::INVALID_TYPE,
        format!("应为{wanted}，实际为{}", type_name_zh(value)),
    )
}

fn check_value(rule: Rule, field: &str, value: &Value, errors: &mut Vec<FieldError>) {
    match rule {
        Rule::Positive { max } => match value.as_f64() {
            Some(x) if !x.is_finite() => {
                errors.push(FieldError::new(field, codes::INVALID_TYPE, "应为有限数字"));
            }
            Some(x) if x <= 0.0 || x > max => errors.push(FieldError::new(
                field,
                codes::OUT_OF_RANGE,
                format!("应大于 0 且不超过 {max}，实际为 {x}"),
            )),
            Some(_) => {}
            None => errors.push(wrong_type(field, "数字", value)),
        },
        // Whole-valued floats such as `3.0` count as integers, since some JSON
        // writers emit every number as a float; comparing as f64 also turns
        // huge values into a range error instead of an overflow.
        Rule::Integer { min, max } => match value.as_f64() {
            Some(x) if x.fract() != 0.0 => errors.push(FieldError::new(
                field,
                codes::INVALID_TYPE,
                format!("应为整数，实际为 {x}"),
            )),
            Some(x) if x < min as f64 || x > max as f64 => errors.push(FieldError::new(
                field,
                codes::OUT_OF_RANGE,
                format!("应在 {min} 到 {max} 之间，实际为 {x}"),
            )),
            Some(_) => {}
            None => errors.push(wrong_type(field, "整数", value)),
        },
        Rule::Text => match value.as_str() {
            Some(s) => check_text(field, s, MAX_TEXT_CHARS, errors),
            None => errors.push(wrong_type(field, "文本", value)),
        },
        Rule::OneOf(choices) => match value.as_str() {
            Some(s) if choices.contains(&s) => {}
            Some(s) => errors.push(FieldError::new(
                field,
                codes::INVALID_CHOICE,
                format!("“{s}”不是可选值，可选：{}", choices.join("/")),
            )),
            None => errors.push(wrong_type(field, "文本", value)),
        },
        Rule::Date => match value.as_str() {
            Some(s) => check_date(field, s, errors),
            None => errors.push(wrong_type(field, "日期文本（YYYY-MM-DD）", value)),
        },
        Rule::Bool => {
            if !value.is_boolean() {
                errors.push(wrong_type(field, "布尔值（true/false）", value));
            }
        }
        Rule::Skills => match value.as_array() {
            Some(items) if items.is_empty() => errors.push(FieldError::new(
                field,
                codes::REQUIRED,
                "技能列表至少填一项，不填请省略该属性",
            )),
            Some(items) => {
                if items.len() > MAX_SKILLS {
                    errors.push(FieldError::new(
                        field,
                        codes::TOO_LONG,
                        format!("最多 {MAX_SKILLS} 项，实际 {} 项", items.len()),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    let item_field = format!("{field}[{i}]");
                    match item.as_str() {
                        Some(s) => check_text(&item_field, s, MAX_SKILL_CHARS, errors),
                        None => errors.push(wrong_type(&item_field, "文本", item)),
                    }
                }
            }
            None => errors.push(wrong_type(field, "文本列表", value)),
        },
    }
}

fn check_text(field: &str, s: &str, max_chars: usize, errors: &mut Vec<FieldError>) {
    if s.trim().is_empty() {
        errors.push(FieldError::new(
            field,
            codes::REQUIRED,
            "不能为空，不填请省略该属性",
        ));
        return;
    }
    let n = s.chars().count();
    if n > max_chars {
        errors.push(FieldError::new(
            field,
            codes::TOO_LONG,
            format!("最多 {max_chars} 个字符，实际 {n} 个"),
        ));
    }
}

fn check_date(field: &str, s: &str, errors: &mut Vec<FieldError>) {
    // chrono alone would also accept "2026-1-5"; insist on the fixed width.
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let date = if shape_ok {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    } else {
        None
    };
    match date {
        None => errors.push(FieldError::new(
            field,
            codes::INVALID_FORMAT,
            format!("“{s}”不是有效日期，格式应为 YYYY-MM-DD"),
        )),
        Some(d) if d < DATE_RANGE.0 || d > DATE_RANGE.1 => errors.push(FieldError::new(
            field,
            codes::OUT_OF_RANGE,
            format!("日期 {s} 超出 2000-01-01 至 2100-12-31"),
        )),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const DEV_LISTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev/listings.jsonl");

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("test fixture is not an object: {other}"),
        }
    }

    fn errors(kind: Kind, v: Value) -> Vec<FieldError> {
        validate_attributes(kind, &obj(v)).expect_err("expected validation errors")
    }

    fn codes_of(errs: &[FieldError]) -> Vec<(&str, &str)> {
        errs.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn every_dev_listing_validates() {
        let text = std::fs::read_to_string(DEV_LISTINGS)
            .unwrap_or_else(|e| panic!("{DEV_LISTINGS}: {e} (the labelled set ships in eval/dev)"));
        let mut with_attributes = 0;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let listing: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            let kind: Kind = listing["kind"]
                .as_str()
                .and_then(|k| k.parse().ok())
                .unwrap_or_else(|| panic!("line {}: bad kind", n + 1));
            if let Some(attrs) = listing.get("attributes").and_then(Value::as_object) {
                if let Err(errs) = validate_attributes(kind, attrs) {
                    panic!("{}: {errs:?}", listing["key"]);
                }
                with_attributes += 1;
            }
        }
        assert!(
            with_attributes > 100,
            "only {with_attributes} listings had attributes"
        );
    }

    #[test]
    fn keys_per_kind_match_readme() {
        assert_eq!(
            attribute_keys(Kind::Material),
            ["material_name", "grade", "packaging"]
        );
        assert_eq!(
            attribute_keys(Kind::Service),
            ["service_type", "certification"]
        );
        assert_eq!(attribute_keys(Kind::Space).len(), 8);
        assert_eq!(attribute_keys(Kind::Equipment).len(), 7);
        assert_eq!(attribute_keys(Kind::Logistics).len(), 8);
        assert_eq!(attribute_keys(Kind::Workforce).len(), 4);
    }

    #[test]
    fn every_listed_key_has_a_rule_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &kind in Kind::ALL {
            for key in attribute_keys(kind) {
                assert!(rule_for(key).is_some(), "{key} has no rule");
                assert!(seen.insert(*key), "{key} appears under two kinds");
            }
        }
    }

    #[test]
    fn empty_attributes_are_valid() {
        for &kind in Kind::ALL {
            assert_eq!(validate_attributes(kind, &Map::new()), Ok(()));
        }
    }

    #[test]
    fn a_full_space_listing_is_valid() {
        let attrs = obj(json!({
            "area_m2": 1500, "ceiling_height_m": 9.5, "floor_load_t_per_m2": 3,
            "power_kva": 630, "crane_t": 10, "floor": -1, "usage": "仓储", "fire_class": "丙",
        }));
        assert_eq!(validate_attributes(Kind::Space, &attrs), Ok(()));
    }

    #[test]
    fn unknown_key_and_key_of_another_kind_are_rejected() {
        let errs = errors(
            Kind::Material,
            json!({"colour": "红", "area_m2": 10, "grade": "T30S"}),
        );
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.area_m2", "unknown_key"),
                ("attributes.colour", "unknown_key")
            ]
        );
        assert!(
            errs[0].message.contains("material_name"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn collects_all_errors_not_just_the_first() {
        let errs = errors(
            Kind::Space,
            json!({
                "area_m2": 0, "ceiling_height_m": "9米", "floor": 2.5,
                "usage": "车间", "fire_class": "甲", "power_kva": 1e6,
            }),
        );
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.area_m2", "out_of_range"),
                ("attributes.ceiling_height_m", "invalid_type"),
                ("attributes.floor", "invalid_type"),
                ("attributes.usage", "invalid_choice"),
            ]
        );
    }

    #[test]
    fn numeric_bounds_are_exclusive_at_zero_and_inclusive_at_max() {
        let ok = |v: Value| validate_attributes(Kind::Equipment, &obj(json!({"tonnage_t": v})));
        assert!(ok(json!(1e5)).is_ok());
        assert!(ok(json!(0.001)).is_ok());
        assert!(ok(json!(0)).is_err());
        assert!(ok(json!(-3)).is_err());
        assert!(ok(json!(100000.5)).is_err());
    }

    #[test]
    fn integers_accept_whole_floats_and_check_range() {
        let check = |v: Value| validate_attributes(Kind::Workforce, &obj(json!({"headcount": v})));
        assert!(check(json!(20)).is_ok());
        assert!(check(json!(20.0)).is_ok());
        assert_eq!(
            codes_of(&check(json!(0)).expect_err("zero")),
            [("attributes.headcount", "out_of_range")]
        );
        assert_eq!(
            codes_of(&check(json!(100_001)).expect_err("too many")),
            [("attributes.headcount", "out_of_range")]
        );
        assert_eq!(
            codes_of(&check(json!("20")).expect_err("string")),
            [("attributes.headcount", "invalid_type")]
        );
        assert_eq!(
            codes_of(&check(json!(1e300)).expect_err("huge")),
            [("attributes.headcount", "out_of_range")]
        );
        assert_eq!(
            codes_of(&check(json!(2.5)).expect_err("fraction")),
            [("attributes.headcount", "invalid_type")]
        );

        let floor = |v: Value| validate_attributes(Kind::Space, &obj(json!({"floor": v})));
        assert!(floor(json!(-5)).is_ok());
        assert!(floor(json!(-6)).is_err());
        assert!(floor(json!(200)).is_ok());
        assert!(floor(json!(201)).is_err());
    }

    #[test]
    fn null_is_rejected_rather_than_treated_as_missing() {
        let errs = errors(Kind::Logistics, json!({"origin": null, "hazmat": null}));
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.hazmat", "invalid_type"),
                ("attributes.origin", "invalid_type")
            ]
        );
    }

    #[test]
    fn text_must_be_non_blank_and_short() {
        let long = "叉".repeat(MAX_TEXT_CHARS + 1);
        let at_limit = "叉".repeat(MAX_TEXT_CHARS);
        let errs = errors(
            Kind::Equipment,
            json!({"brand": " \t", "model": long, "equipment_type": 3}),
        );
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.brand", "required"),
                ("attributes.equipment_type", "invalid_type"),
                ("attributes.model", "too_long"),
            ]
        );
        // The limit counts characters, so 200 Chinese characters (600 bytes) pass.
        assert!(validate_attributes(Kind::Equipment, &obj(json!({"model": at_limit}))).is_ok());
    }

    #[test]
    fn enumerations_match_exactly() {
        assert!(validate_attributes(Kind::Equipment, &obj(json!({"mode": "共享机时"}))).is_ok());
        let errs = errors(Kind::Equipment, json!({"mode": "出租 "}));
        assert_eq!(codes_of(&errs), [("attributes.mode", "invalid_choice")]);
        assert!(
            errs[0].message.contains("出租/出售/共享机时/代加工"),
            "{}",
            errs[0].message
        );
        let errs = errors(Kind::Space, json!({"fire_class": "甲类"}));
        assert_eq!(
            codes_of(&errs),
            [("attributes.fire_class", "invalid_choice")]
        );
    }

    #[test]
    fn departure_date_must_be_a_real_fixed_width_date() {
        let check =
            |v: Value| validate_attributes(Kind::Logistics, &obj(json!({"departure_date": v})));
        assert!(check(json!("2026-12-05")).is_ok());
        assert!(check(json!("2028-02-29")).is_ok());
        for bad in [
            "2026-2-5",
            "2026/12/05",
            "2026-02-30",
            "2027-02-29",
            "明天",
            "",
            "2026-12-05T08:00",
        ] {
            let errs = check(json!(bad)).expect_err(bad);
            assert_eq!(
                codes_of(&errs),
                [("attributes.departure_date", "invalid_format")],
                "{bad}"
            );
        }
        let errs = check(json!("1999-12-31")).expect_err("too early");
        assert_eq!(
            codes_of(&errs),
            [("attributes.departure_date", "out_of_range")]
        );
        let errs = check(json!(20261205)).expect_err("number");
        assert_eq!(
            codes_of(&errs),
            [("attributes.departure_date", "invalid_type")]
        );
    }

    #[test]
    fn flags_must_be_booleans() {
        assert!(
            validate_attributes(
                Kind::Logistics,
                &obj(json!({"cold_chain": true, "hazmat": false}))
            )
            .is_ok()
        );
        let errs = errors(Kind::Logistics, json!({"cold_chain": "是", "hazmat": 0}));
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.cold_chain", "invalid_type"),
                ("attributes.hazmat", "invalid_type")
            ]
        );
    }

    #[test]
    fn skills_are_a_short_list_of_short_strings() {
        assert!(
            validate_attributes(
                Kind::Workforce,
                &obj(json!({"skills": ["二保焊", "焊工证"]}))
            )
            .is_ok()
        );
        let errs = errors(Kind::Workforce, json!({"skills": []}));
        assert_eq!(codes_of(&errs), [("attributes.skills", "required")]);
        let errs = errors(Kind::Workforce, json!({"skills": "叉车证"}));
        assert_eq!(codes_of(&errs), [("attributes.skills", "invalid_type")]);
        let errs = errors(
            Kind::Workforce,
            json!({"skills": ["叉车证", "", 5, "x".repeat(51)]}),
        );
        assert_eq!(
            codes_of(&errs),
            [
                ("attributes.skills[1]", "required"),
                ("attributes.skills[2]", "invalid_type"),
                ("attributes.skills[3]", "too_long"),
            ]
        );
        let many: Vec<String> = (0..=MAX_SKILLS).map(|i| format!("技能{i}")).collect();
        let errs = errors(Kind::Workforce, json!({"skills": many}));
        assert_eq!(codes_of(&errs), [("attributes.skills", "too_long")]);
    }

    #[test]
    fn messages_are_chinese() {
        let errs = errors(Kind::Space, json!({"area_m2": -1, "usage": 1, "x": 1}));
        for e in errs {
            assert!(!e.message.is_ascii(), "{e}");
        }
    }

    proptest! {
        #[test]
        fn area_accepted_iff_in_range(area in -1e8f64..2e7) {
            let result = validate_attributes(Kind::Space, &obj(json!({"area_m2": area})));
            prop_assert_eq!(result.is_ok(), area > 0.0 && area <= 1e7);
        }

        #[test]
        fn period_days_accepted_iff_in_range(days in -100i64..5000) {
            let result = validate_attributes(Kind::Workforce, &obj(json!({"period_days": days})));
            prop_assert_eq!(result.is_ok(), (1..=3650).contains(&days));
        }
    }
}
