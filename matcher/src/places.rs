//! Places from public data: every province, city and county of mainland China (GB/T 2260 codes with centre points, `data/divisions.tsv`) plus ports, airports and hubs (`data/hubs.tsv`), so routes and addresses are read the same way in any park.
//!
//! A place text resolves to the most specific divisions it names: 宁波北仑 →
//! 北仑区, 嘉兴平湖/海盐 → 平湖市 and 海盐县, 浙江省内 → 浙江省, 天津新港 → 滨海新区,
//! 京津 → 北京市 and 天津市. Two places are the same for routing when one
//! contains the other (a district lies in its city and province), which is
//! how posters name one place at different levels.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::text::is_cjk;
use crate::units::fold;

const DIVISIONS: &str = include_str!("../data/divisions.tsv");
const HUBS: &str = include_str!("../data/hubs.tsv");

/// One administrative division.
#[derive(Debug, Clone, PartialEq)]
pub struct Division {
    /// Six-digit GB/T 2260 code: province `PP0000`, city `PPCC00`, county `PPCCDD`.
    pub code: u32,
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
}

impl Division {
    /// Whether `self` is `other` or contains it (province ⊃ city ⊃ county).
    pub fn contains(&self, other: &Division) -> bool {
        contains_code(self.code, other.code)
    }
}

fn contains_code(outer: u32, inner: u32) -> bool {
    if outer == inner {
        true
    } else if outer.is_multiple_of(10_000) {
        outer / 10_000 == inner / 10_000
    } else if outer.is_multiple_of(100) {
        outer / 100 == inner / 100
    } else {
        false
    }
}

/// Official one-character abbreviations (简称) of the provincial-level
/// divisions, as on licence plates and in route names (京津冀, 川渝, 沪甬).
/// Read only when a place text consists of such characters alone, since most
/// of them are also ordinary characters (宁, 新, 青, 港).
const PROVINCE_ABBREVIATIONS: &[(char, u32)] = &[
    ('京', 110000),
    ('津', 120000),
    ('冀', 130000),
    ('晋', 140000),
    ('蒙', 150000),
    ('辽', 210000),
    ('吉', 220000),
    ('黑', 230000),
    ('沪', 310000),
    ('苏', 320000),
    ('浙', 330000),
    ('皖', 340000),
    ('闽', 350000),
    ('赣', 360000),
    ('鲁', 370000),
    ('豫', 410000),
    ('鄂', 420000),
    ('湘', 430000),
    ('粤', 440000),
    ('桂', 450000),
    ('琼', 460000),
    ('渝', 500000),
    ('川', 510000),
    ('蜀', 510000),
    ('贵', 520000),
    ('黔', 520000),
    ('云', 530000),
    ('滇', 530000),
    ('藏', 540000),
    ('陕', 610000),
    ('秦', 610000),
    ('甘', 620000),
    ('陇', 620000),
    ('青', 630000),
    ('宁', 640000),
    ('新', 650000),
];

/// One-character names of cities in common use in logistics (甬 Ningbo on
/// every 甬沪 line, 杭 Hangzhou, 穗 Guangzhou, 蓉 Chengdu, 榕 Fuzhou, 锡 Wuxi,
/// 邕 Nanning), read like the province abbreviations.
const CITY_ABBREVIATIONS: &[(char, u32)] = &[
    ('甬', 330200),
    ('杭', 330100),
    ('穗', 440100),
    ('蓉', 510100),
    ('榕', 350100),
    ('锡', 320200),
    ('邕', 450100),
];

/// Compass words that may follow an abbreviation (冀南, 浙北): the region, read as the whole.
const COMPASS: &[char] = &['东', '南', '西', '北', '中'];

/// Endings of division names, longest first; a name is also known without
/// its ending when at least two characters remain (宁波市 → 宁波).
const NAME_ENDINGS: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
];

/// Short forms that are ordinary words more often than places.
const NOT_PLACES: &[&str] = &[
    "城区", "郊区", "矿区", "新区", "市中", "市北", "市南", "开发",
];

/// Names longer than this (in characters) are not looked for.
const MAX_NAME_CHARS: usize = 10;

struct Gazetteer {
    divisions: HashMap<u32, Division>,
    /// Name (full or short, hub alias) → division codes.
    names: HashMap<String, Vec<u32>>,
}

fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| {
        let mut divisions = HashMap::new();
        let mut names: HashMap<String, Vec<u32>> = HashMap::new();
        let mut add = |name: String, code: u32| {
            let codes = names.entry(name).or_default();
            if !codes.contains(&code) {
                codes.push(code);
            }
        };
        for line in DIVISIONS.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&'static str> = line.split('\t').collect();
            let (Some(code), Some(name), Some(lat), Some(lon)) = (
                f.first().and_then(|c| c.parse::<u32>().ok()),
                f.get(1).copied(),
                f.get(2).and_then(|x| x.parse::<f64>().ok()),
                f.get(3).and_then(|x| x.parse::<f64>().ok()),
            ) else {
                continue;
            };
            divisions.insert(
                code,
                Division {
                    code,
                    name,
                    lat,
                    lon,
                },
            );
            add(name.to_owned(), code);
            if let Some(short) = short_name(name) {
                add(short, code);
            }
        }
        for line in HUBS.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split('\t');
            let (Some(aliases), Some(code)) = (f.next(), f.next().and_then(|c| c.parse().ok()))
            else {
                continue;
            };
            for alias in aliases.split('/') {
                add(fold(alias.trim()), code);
            }
        }
        Gazetteer { divisions, names }
    })
}

/// A division's name without its ending, when two or more characters remain
/// and the rest is not an ordinary word.
fn short_name(name: &str) -> Option<String> {
    let short = NAME_ENDINGS
        .iter()
        .find_map(|e| name.strip_suffix(e))
        .filter(|s| s.chars().count() >= 2)?;
    (!NOT_PLACES.contains(&short)).then(|| short.to_owned())
}

/// The division with GB/T 2260 code `code`.
pub fn division(code: u32) -> Option<&'static Division> {
    gazetteer().divisions.get(&code)
}

/// Place abbreviations only: 京津, 川渝, 冀, 甬, 冀南.
fn abbreviations(chars: &[char]) -> Option<Vec<u32>> {
    let lookup = |c: char| {
        PROVINCE_ABBREVIATIONS
            .iter()
            .chain(CITY_ABBREVIATIONS)
            .find(|(a, _)| *a == c)
            .map(|(_, code)| *code)
    };
    let body = match chars {
        [rest @ .., last] if rest.len() == 1 && COMPASS.contains(last) => rest,
        all => all,
    };
    if body.is_empty() || body.len() > 4 {
        return None;
    }
    body.iter().map(|c| lookup(*c)).collect()
}

/// The divisions a place text names, most specific first kept: an ancestor
/// of another named division is dropped (宁波北仑 → 北仑区 only). Empty when
/// nothing is recognised.
pub fn resolve(text: &str) -> Vec<&'static Division> {
    let g = gazetteer();
    let folded = fold(text);
    // Runs of place characters; slashes, commas and spaces separate places.
    let mut found: Vec<Vec<u32>> = Vec::new();
    for run in folded
        .split(|c: char| !(is_cjk(c) || c.is_ascii_alphanumeric()))
        .filter(|r| !r.is_empty())
    {
        let chars: Vec<char> = run.chars().collect();
        let mut i = 0;
        let mut matched_any = false;
        while i < chars.len() {
            let mut hit = None;
            for len in (2..=MAX_NAME_CHARS.min(chars.len() - i)).rev() {
                let s: String = chars[i..i + len].iter().collect();
                if let Some(codes) = g.names.get(&s) {
                    hit = Some((len, codes.clone()));
                    break;
                }
            }
            match hit {
                Some((len, codes)) => {
                    found.push(codes);
                    matched_any = true;
                    i += len;
                }
                None => i += 1,
            }
        }
        if !matched_any && let Some(codes) = abbreviations(&chars) {
            found.extend(codes.into_iter().map(|c| vec![c]));
        }
    }
    // An ambiguous name (朝阳, 鼓楼) keeps the candidates inside another
    // division the text names, if any.
    let all: HashSet<u32> = found.iter().flatten().copied().collect();
    let mut codes: Vec<u32> = Vec::new();
    for candidates in &found {
        let inside: Vec<u32> = if candidates.len() > 1 {
            candidates
                .iter()
                .copied()
                .filter(|c| all.iter().any(|o| o != c && contains_code(*o, *c)))
                .collect()
        } else {
            Vec::new()
        };
        let keep = if inside.is_empty() {
            candidates
        } else {
            &inside
        };
        for c in keep {
            if !codes.contains(c) {
                codes.push(*c);
            }
        }
    }
    let specific: Vec<u32> = codes
        .iter()
        .copied()
        .filter(|c| !codes.iter().any(|o| o != c && contains_code(*c, *o)))
        .collect();
    specific.iter().filter_map(|c| g.divisions.get(c)).collect()
}

/// How two place texts relate, when both are recognised.
pub fn related(a: &str, b: &str) -> Option<bool> {
    let (ra, rb) = (resolve(a), resolve(b));
    if ra.is_empty() || rb.is_empty() {
        return None;
    }
    Some(
        ra.iter()
            .any(|x| rb.iter().any(|y| x.contains(y) || y.contains(x))),
    )
}

/// The shortest distance in km between the centres of the divisions two
/// place texts name (0 when one contains the other), when both are
/// recognised. 苏州 and 上海 are about 85 km apart, 北仑 and 镇海 about 20.
pub fn distance_km(a: &str, b: &str) -> Option<f64> {
    let (ra, rb) = (resolve(a), resolve(b));
    ra.iter()
        .flat_map(|x| rb.iter().map(move |y| (*x, *y)))
        .map(|(x, y)| {
            if x.contains(y) || y.contains(x) {
                0.0
            } else {
                crate::score::haversine_km((x.lat, x.lon), (y.lat, y.lon))
            }
        })
        .reduce(f64::min)
}

/// The centre point of the most specific division an address names, when it
/// names exactly one place (for listings posted without coordinates).
pub fn point_of(address: &str) -> Option<(f64, f64)> {
    match resolve(address).as_slice() {
        [one] => Some((one.lat, one.lon)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&'static str> {
        resolve(text).iter().map(|d| d.name).collect()
    }

    #[test]
    fn the_data_covers_every_level_and_every_hub_names_a_division() {
        let g = gazetteer();
        assert!(g.divisions.len() > 3000, "{}", g.divisions.len());
        for code in [110000, 130000, 330200, 330206, 120116, 510100, 500112] {
            assert!(division(code).is_some(), "{code}");
        }
        for line in HUBS.lines().filter(|l| !l.starts_with('#')) {
            let code: u32 = line
                .split('\t')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .expect("code");
            assert!(division(code).is_some(), "hub line {line}");
        }
        for (_, code) in PROVINCE_ABBREVIATIONS.iter().chain(CITY_ABBREVIATIONS) {
            assert!(division(*code).is_some(), "{code}");
        }
    }

    #[test]
    fn places_resolve_at_any_level() {
        assert_eq!(names("宁波市北仑区"), ["北仑区"]);
        assert_eq!(names("宁波北仑"), ["北仑区"]);
        assert_eq!(names("北仑春晓"), ["北仑区"]);
        assert_eq!(names("浙江省内"), ["浙江省"]);
        assert_eq!(names("嘉兴平湖/海盐"), ["平湖市", "海盐县"]);
        assert_eq!(names("天津新港"), ["滨海新区"]);
        assert_eq!(names("上海洋山港"), ["浦东新区"]);
        assert_eq!(names("唐山丰南"), ["丰南区"]);
        assert_eq!(names("沧州黄骅"), ["黄骅市"]);
        assert!(names("叉车出租").is_empty());
    }

    #[test]
    fn abbreviations_name_provinces_and_cities() {
        assert_eq!(names("京津"), ["北京市", "天津市"]);
        assert_eq!(names("川渝"), ["四川省", "重庆市"]);
        assert_eq!(names("冀"), ["河北省"]);
        assert_eq!(names("冀南"), ["河北省"]);
        assert_eq!(names("甬"), ["宁波市"]);
        assert_eq!(names("沪"), ["上海市"]);
        // Not inside longer words: 新 of 新材料 is no Xinjiang.
        assert!(names("新材料").is_empty());
    }

    #[test]
    fn containment_makes_places_related() {
        assert_eq!(related("成都", "川渝"), Some(true));
        assert_eq!(related("平湖", "浙江省内"), Some(true));
        assert_eq!(related("北仑春晓", "宁波北仑"), Some(true));
        assert_eq!(related("天津港", "天津"), Some(true));
        assert_eq!(related("丰南", "唐山"), Some(true));
        assert_eq!(related("杭州", "上海"), Some(false));
        assert_eq!(related("黄骅", "天津临港"), Some(false));
        assert_eq!(related("某某", "天津"), None);
    }

    #[test]
    fn distances_between_named_places() {
        let d = distance_km("苏州", "上海").expect("both known");
        assert!((60.0..130.0).contains(&d), "{d}");
        assert_eq!(distance_km("平湖", "浙江省内"), Some(0.0));
        let near = distance_km("宁波北仑", "宁波镇海").expect("both known");
        assert!(near < 30.0, "{near}");
        // The nearest of several named places counts.
        let d = distance_km("平湖", "绍兴/杭州/宁波").expect("known");
        assert!(d < distance_km("平湖", "宁波").expect("known"), "{d}");
        assert_eq!(distance_km("某某", "上海"), None);
    }

    #[test]
    fn an_address_gets_its_district_centre() {
        let (lat, lon) = point_of("河北省沧州市黄骅市旧城镇工业区枣乡路8号").expect("point");
        assert!(
            (lat - 38.37).abs() < 0.1 && (lon - 117.33).abs() < 0.1,
            "{lat},{lon}"
        );
        assert_eq!(point_of("工业区8号"), None);
    }

    #[test]
    fn routes_in_abbreviations_and_at_other_levels_are_understood() {
        use crate::extract::same_place;
        use crate::{Kind, MatchListing, Side, Weights, score};
        assert!(same_place("北仑春晓", "宁波北仑"));
        assert!(same_place("冀", "沧州"));
        assert!(same_place("天津新港", "天津港"));
        assert!(!same_place("杭州", "上海"));

        let at = chrono::DateTime::from_timestamp(1_795_000_000, 0).expect("time");
        let route = |side, id: &str, from: &str, to: &str| {
            let mut l = MatchListing::new(id, side, Kind::Logistics, id, "整车运输", at);
            l.attributes.insert("origin".into(), from.into());
            l.attributes.insert("destination".into(), to.into());
            l
        };
        let request = route(Side::Request, "r", "唐山丰南", "天津港");
        let reverse = route(Side::Offer, "o1", "津", "冀");
        let forward = route(Side::Offer, "o2", "冀东", "天津新港");
        let w = Weights::default();
        assert_eq!(
            score(&request, &reverse, &w, at).disqualified_by(),
            Some(crate::constraints::keys::REVERSED_ROUTE)
        );
        let fit = score(&request, &forward, &w, at);
        assert!(fit.is_match(), "{fit:?}");
        let spec = fit.factor("spec_fit").expect("spec");
        assert!(spec.value > 0.99, "{spec:?}");
    }
}
