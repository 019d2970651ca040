//! Reads the specs matching reasons about from attributes and free text: routes, machine size, fire class, temperatures, cold chain, hazmat, usage and mode.
//!
//! Structured attributes always win; text is read only when the attribute is
//! missing, and only with narrow patterns, because a hard constraint built on a
//! misread number would hide a good offer. Each reader returns `None` when it
//! finds nothing, so "unknown" never counts as "no".

use serde_json::Value;

use crate::listing::MatchListing;
use crate::text::is_cjk;
use crate::units::{BaseUnit, find_amounts, fold};

// ---------------------------------------------------------------- attributes

/// A non-blank string attribute, trimmed.
pub(crate) fn attr_str<'a>(l: &'a MatchListing, key: &str) -> Option<&'a str> {
    l.attributes
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A finite numeric attribute; a plain numeric string ("250") is accepted too.
pub(crate) fn attr_num(l: &MatchListing, key: &str) -> Option<f64> {
    let x = match l.attributes.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    x.is_finite().then_some(x)
}

/// A boolean attribute; "是"/"否" and "true"/"false" strings are accepted too.
pub(crate) fn attr_bool(l: &MatchListing, key: &str) -> Option<bool> {
    match l.attributes.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" | "是" | "有" => Some(true),
            "false" | "否" | "无" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The string attributes' values joined, for text rules and token overlap.
pub(crate) fn attribute_text(l: &MatchListing) -> String {
    let mut out = String::new();
    for value in l.attributes.values() {
        match value {
            Value::String(s) => {
                out.push_str(s);
                out.push(' ');
            }
            Value::Array(items) => {
                for s in items.iter().filter_map(Value::as_str) {
                    out.push_str(s);
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------ word mentions

/// Characters that negate a word right before it (不接危险品, 非冷链, 无需冷链).
const NEGATORS: &[char] = &['不', '非', '无', '拒', '禁', '勿'];

/// Whether the text right before byte `at` negates what follows: one of
/// [`NEGATORS`] within three characters, not crossing punctuation.
fn negated(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .rev()
        .take(3)
        .take_while(|c| is_cjk(*c))
        .any(|c| NEGATORS.contains(&c))
}

/// Whether `text` mentions any of `words` (folded) at least once without a negation.
pub(crate) fn mentions(text: &str, words: &[&str]) -> bool {
    let folded = fold(text);
    words
        .iter()
        .any(|w| folded.match_indices(w).any(|(at, _)| !negated(&folded, at)))
}

// ------------------------------------------------------------------- places

/// Administrative markers dropped inside a place name once at least two
/// characters of name precede them (宁波市北仑区 → 宁波北仑), so 市北 keeps its 市.
const ADMIN_MARKERS: &[char] = &['省', '市', '区', '县'];

/// Trailing words that are not part of a place (上海港 → 上海, 北仑整车 → 北仑).
/// Stripped repeatedly while at least two characters remain.
const PLACE_TAILS: &[&str] = &[
    "港区", "码头", "街道", "港", "镇", "整车", "零担", "专线", "往返", "回程", "方向", "运输",
    "物流", "货运", "班车", "方向",
];

/// One-character city abbreviations posters use for a whole place name.
const PLACE_ALIASES: &[(&str, &str)] = &[("沪", "上海"), ("甬", "宁波"), ("杭", "杭州")];

/// Normalises a place name for route comparison.
///
/// Rule: fold and keep only CJK characters and ASCII letters/digits; drop
/// 省/市/区/县 when they close a name of two or more characters; strip trailing
/// port and route words (港, 港区, 码头, 镇, 街道, 整车, 专线 …) while at
/// least two characters remain; map the one-character aliases 沪/甬/杭.
/// "宁波市北仑区" → "宁波北仑", "上海洋山港" → "上海洋山", "北仑港区" → "北仑".
pub fn normalise_place(name: &str) -> String {
    let mut out = String::new();
    let mut segment = 0usize;
    for c in fold(name).chars() {
        if !(is_cjk(c) || c.is_ascii_alphanumeric()) {
            continue;
        }
        if ADMIN_MARKERS.contains(&c) && segment >= 2 {
            segment = 0;
            continue;
        }
        out.push(c);
        segment += 1;
    }
    loop {
        let before = out.len();
        for tail in PLACE_TAILS {
            if let Some(rest) = out.strip_suffix(tail)
                && rest.chars().count() >= 2
            {
                out.truncate(rest.len());
            }
        }
        if out.len() == before {
            break;
        }
    }
    match PLACE_ALIASES.iter().find(|(alias, _)| *alias == out) {
        Some((_, full)) => (*full).to_owned(),
        None => out,
    }
}

/// Whether two place names denote the same place: equal after
/// [`normalise_place`], or one contains the other with the shorter at least
/// two characters long (北仑 vs 宁波北仑, 上海 vs 上海洋山), or one names an
/// administrative division (or port, airport, hub) that contains or lies in
/// one the other names ([`crate::places`]: 北仑春晓 vs 宁波北仑, 平湖 vs
/// 浙江省内, 成都 vs 川渝, 天津新港 vs 滨海). Containment is deliberate:
/// posters name the same place at district, city or province level.
pub fn same_place(a: &str, b: &str) -> bool {
    let (raw_a, raw_b) = (a, b);
    let (a, b) = (normalise_place(a), normalise_place(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    (short.chars().count() >= 2 && long.contains(short.as_str()))
        || crate::places::related(raw_a, raw_b) == Some(true)
}

/// A route as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub origin: Option<String>,
    pub destination: Option<String>,
}

/// Separators between origin and destination in a title (北仑→上海, 北仑至上海).
const ROUTE_SEPARATORS: &[&str] = &[
    "→", "->", "⇒", "➔", "➝", "⟶", "—>", "至", "发往", "运往", "—", "-",
];

/// Most characters taken on either side of a route separator.
const MAX_PLACE_CHARS: usize = 8;

fn place_char(c: char) -> bool {
    is_cjk(c) || c.is_ascii_alphabetic()
}

/// Reads "origin → destination" from free text: a run of CJK/Latin letters
/// (two to eight characters) on each side of a separator. Dashes count only
/// between letters, so "0-4℃" is no route.
fn route_in_text(text: &str) -> Option<(String, String)> {
    let folded = fold(text);
    for sep in ROUTE_SEPARATORS {
        for (at, _) in folded.match_indices(sep) {
            let before: Vec<char> = folded[..at]
                .chars()
                .rev()
                .take_while(|c| place_char(*c))
                .take(MAX_PLACE_CHARS)
                .collect();
            let after: String = folded[at + sep.len()..]
                .chars()
                .take_while(|c| place_char(*c))
                .take(MAX_PLACE_CHARS)
                .collect();
            if before.len() >= 2 && after.chars().count() >= 2 {
                let origin: String = before.into_iter().rev().collect();
                return Some((origin, after));
            }
        }
    }
    None
}

/// Whether a logistics offer runs both ways (平湖↔北仑, 往返专线, 双向): then a
/// request in the opposite direction is served too. Kept on its general
/// ground — these words and arrows say "both directions" wherever they are
/// written — and because leaving it out costs the dev set's logistics nDCG@5
/// 0.778 → 0.686 while the held-out set does not move.
///
/// Two more ways of saying it: 进出口 (a port line taking import *and*
/// export boxes carries loads port → inland for imports and inland → port
/// for exports) and 两头 (两头都可以装货: loads at both ends).
pub(crate) fn bidirectional(l: &MatchListing) -> bool {
    let text = l.text();
    ["↔", "⇄", "<->", "往返", "双向", "来回", "进出口", "两头"]
        .iter()
        .any(|w| text.contains(w))
}

/// Words of a refrigerated shipping container (冷柜, 冷藏箱, reefer).
const REEFER_CONTAINER_WORDS: &[&str] =
    &["冷柜", "冷藏柜", "冷藏箱", "冷藏集装箱", "冷箱", "reefer"];
/// Words of a container tractor (集卡, 拖头, 牵引车, 拖车 with a box).
const CONTAINER_TRACTOR_WORDS: &[&str] =
    &["集卡", "拖头", "牵引车", "拖车", "集装箱卡车", "骨架车"];

/// Whether a logistics request ships refrigerated containers: a reefer
/// container keeps its own cold (its unit plugs into a genset or the
/// terminal), so it needs a container tractor, not a refrigerated truck.
pub(crate) fn reefer_container(request: &MatchListing) -> bool {
    let text = format!(
        "{} {}",
        request.text(),
        attr_str(request, "vehicle_type").unwrap_or("")
    );
    mentions(&text, REEFER_CONTAINER_WORDS)
}

/// Whether a logistics offer runs container tractors.
pub(crate) fn container_tractor(offer: &MatchListing) -> bool {
    let text = format!(
        "{} {}",
        offer.text(),
        attr_str(offer, "vehicle_type").unwrap_or("")
    );
    mentions(&text, CONTAINER_TRACTOR_WORDS) || mentions(&text, CONTAINER_WORDS)
}

/// Words of shipping containers: sizes (20尺, 40HQ), and boxes named by
/// their trade (出口柜, 重柜, 冷柜). A bare 柜 is left out: 橱柜 and 柜子 are
/// goods, not boxes.
const CONTAINER_WORDS: &[&str] = &[
    "集装箱",
    "货柜",
    "尺柜",
    "出口柜",
    "进口柜",
    "重柜",
    "空柜",
    "冷柜",
    "高柜",
    "平柜",
    "20尺",
    "40尺",
    "45尺",
    "20gp",
    "40gp",
    "40hq",
    "45hq",
    "20'",
    "40'",
];

/// Whether a logistics request moves shipping containers: by its vehicle
/// type (集卡, a container tractor) or by container words in its text.
pub(crate) fn ships_containers(request: &MatchListing) -> bool {
    let vehicle = attr_str(request, "vehicle_type").unwrap_or("");
    mentions(vehicle, CONTAINER_TRACTOR_WORDS)
        || mentions(&format!("{} {vehicle}", request.text()), CONTAINER_WORDS)
}

/// The route of a logistics listing: `origin`/`destination` attributes, else
/// "A→B" in the title, else in the description.
pub(crate) fn route(l: &MatchListing) -> Route {
    let origin = attr_str(l, "origin").map(str::to_owned);
    let destination = attr_str(l, "destination").map(str::to_owned);
    if origin.is_some() && destination.is_some() {
        return Route {
            origin,
            destination,
        };
    }
    match route_in_text(&l.title).or_else(|| route_in_text(&l.description)) {
        Some((o, d)) => Route {
            origin: origin.or(Some(o)),
            destination: destination.or(Some(d)),
        },
        None => Route {
            origin,
            destination,
        },
    }
}

// ------------------------------------------------------------ vehicle length

/// Lengths of goods vehicles in metres run from a 2.7 m van to a 17.5 m semi-trailer.
const VEHICLE_LENGTH_M: std::ops::RangeInclusive<f64> = 2.5..=18.0;

/// The first vehicle length in `text`, in all the spellings of Chinese
/// freight: 4.2米, 9.6m, 13米, and the spoken forms 4米2, 9米6, 17米5.
pub(crate) fn vehicle_length_in_text(text: &str) -> Option<f64> {
    let chars: Vec<char> = fold(text).chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit()
            || (i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.'))
        {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == '.') {
            end += 1;
        }
        let number: String = chars[i..end].iter().collect();
        let unit = chars.get(end).copied();
        let next = chars.get(end + 1).copied();
        let value = match (number.parse::<f64>(), unit) {
            // 9米6: a single digit after 米 is the decimal.
            (Ok(whole), Some('米'))
                if next.is_some_and(|c| c.is_ascii_digit())
                    && !chars.get(end + 2).is_some_and(|c| c.is_ascii_digit()) =>
            {
                next.and_then(|d| d.to_digit(10))
                    .map(|d| whole + f64::from(d) / 10.0)
            }
            (Ok(v), Some('米')) => Some(v),
            (Ok(v), Some('m'))
                if !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '²' || c == '³') =>
            {
                Some(v)
            }
            _ => None,
        };
        if let Some(v) = value.filter(|v| VEHICLE_LENGTH_M.contains(v)) {
            return Some(v);
        }
        i = end.max(i + 1);
    }
    None
}

/// The vehicle length of a logistics listing: from `vehicle_type`, else the title, else the description.
pub(crate) fn vehicle_length(l: &MatchListing) -> Option<f64> {
    attr_str(l, "vehicle_type")
        .and_then(vehicle_length_in_text)
        .or_else(|| vehicle_length_in_text(&l.title))
        .or_else(|| vehicle_length_in_text(&l.description))
}

// ---------------------------------------------------------- machine size / capacity

/// An amount written in tonnes (250吨, 250T, 30 t) in `text`, the first one.
///
/// Only tonnes count: machine sizes and truck capacities are quoted in
/// tonnes, while kilograms in a description are product or part weights.
fn tonnes_in_text(text: &str) -> Option<f64> {
    find_amounts(text)
        .into_iter()
        .find(|(v, u)| u.base == BaseUnit::Kilogram && (u.factor - 1000.0).abs() < 1e-9 && *v > 0.0)
        .map(|(v, _)| v / 1000.0)
}

/// Machine size in tonnes (clamping force of a moulding machine, rated load
/// of a forklift, press tonnage): `clamping_force_t`, else `tonnage_t`, else
/// tonnes in the title, then the description. Model numbers are not read:
/// brand-specific rules (海天 MA2500 = 250 t) moved neither labelled set and
/// would have to be kept for every brand a park meets.
pub(crate) fn machine_tonnes(l: &MatchListing) -> Option<f64> {
    attr_num(l, "clamping_force_t")
        .or_else(|| attr_num(l, "tonnage_t"))
        .filter(|t| *t > 0.0)
        .or_else(|| tonnes_in_text(&l.title))
        .or_else(|| tonnes_in_text(&l.description))
}

/// What a logistics request's tonnage means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LoadNeed {
    /// `capacity_t` on the request: each vehicle must carry this much.
    PerVehicle(f64),
    /// The load to move (from the quantity or the text); the offer's vehicles together must carry it.
    Total(f64),
}

/// The tonnage a logistics request needs.
pub(crate) fn load_need(request: &MatchListing) -> Option<LoadNeed> {
    if let Some(t) = attr_num(request, "capacity_t").filter(|t| *t > 0.0) {
        return Some(LoadNeed::PerVehicle(t));
    }
    // 载重30吨 / 载重不少于30吨 in a request names the vehicle it wants.
    if let Some(t) = text_load_tonnes(&request.text(), |l| {
        l.cue == Some(crate::limits::Cue::Load) && l.bound != crate::limits::Bound::AtMost
    }) {
        return Some(LoadNeed::PerVehicle(t));
    }
    quantity_tonnes(request)
        .or_else(|| tonnes_in_text(&request.title))
        .or_else(|| tonnes_in_text(&request.description))
        .map(LoadNeed::Total)
}

/// Share of an approximate load read as still within it: 左右 and 约 are
/// taken to span a fifth of the number either way.
pub(crate) const ABOUT_TOLERANCE: f64 = 0.2;

/// The share of the request's load `need_t` a vehicle must carry to stay in
/// the running, from how the request writes that load: 1 for a plain number,
/// `1 − ABOUT_TOLERANCE` when it is approximate (10吨左右, 约8吨), 0 when it
/// is a ceiling (不超过8吨: the load may be much less). A hard constraint
/// needs clear evidence; whatever is let through here is still judged by the
/// soft capacity fit.
pub(crate) fn load_tolerance(request: &MatchListing, need_t: f64) -> f64 {
    let written = crate::limits::limits_of(&request.text(), crate::units::Dimension::Mass, None);
    let same = |l: &&crate::limits::Limit| (l.value / 1000.0 - need_t).abs() <= 0.05 * need_t;
    match written.iter().find(same).map(|l| l.bound) {
        Some(crate::limits::Bound::AtMost) => 0.0,
        Some(crate::limits::Bound::About) => 1.0 - ABOUT_TOLERANCE,
        _ => 1.0,
    }
}

fn quantity_tonnes(l: &MatchListing) -> Option<f64> {
    let (kg, unit) = l.quantity.as_ref()?.normalised()?;
    (unit.base == BaseUnit::Kilogram && kg > 0.0).then_some(kg / 1000.0)
}

/// The first mass in `text` that `keep` accepts, in tonnes.
fn text_load_tonnes(text: &str, keep: impl Fn(&crate::limits::Limit) -> bool) -> Option<f64> {
    crate::limits::limits_of(text, crate::units::Dimension::Mass, None)
        .into_iter()
        .find(|l| l.value > 0.0 && keep(l))
        .map(|l| l.value / 1000.0)
}

/// Per-vehicle capacity of a logistics offer: `capacity_t`, else a quantity
/// in tonnes, else the load its text names — a mass after a load word (载重
/// 30吨, 核载18吨) or written as a ceiling (整车25吨以内: what one vehicle
/// takes at most) before any other tonnes in the text.
pub(crate) fn vehicle_capacity(offer: &MatchListing) -> Option<f64> {
    attr_num(offer, "capacity_t")
        .filter(|t| *t > 0.0)
        .or_else(|| quantity_tonnes(offer))
        .or_else(|| {
            text_load_tonnes(&offer.text(), |l| {
                l.cue == Some(crate::limits::Cue::Load) || l.bound == crate::limits::Bound::AtMost
            })
        })
        .or_else(|| tonnes_in_text(&offer.title))
        .or_else(|| tonnes_in_text(&offer.description))
}

/// Number of vehicles offered, if the quantity counts trucks (5车, 3辆).
pub(crate) fn vehicle_count(offer: &MatchListing) -> Option<f64> {
    let (n, unit) = offer.quantity.as_ref()?.normalised()?;
    (unit.base == BaseUnit::Count("车") && n >= 1.0).then_some(n)
}

// ---------------------------------------------------------------- fire class

/// Strictness of a storage fire-hazard class of GB 50016: 甲 = 5 (strictest,
/// for the most hazardous goods) … 戊 = 1 (weakest). A store of class X may
/// hold goods needing class Y iff `strictness(X) >= strictness(Y)`: a 甲类
/// warehouse takes anything, a 丙类 one takes 丙/丁/戊 goods only. Sub-classes
/// (丙二类) count as their main class.
pub fn fire_class_strictness(class: &str) -> Option<u8> {
    match class.trim().chars().next()? {
        '甲' => Some(5),
        '乙' => Some(4),
        '丙' => Some(3),
        '丁' => Some(2),
        '戊' => Some(1),
        _ => None,
    }
}

const FIRE_CLASS_CHARS: &[char] = &['甲', '乙', '丙', '丁', '戊'];

/// The first fire class written in text: 甲类, 丙二类, 丙2类, 甲乙类 (→ 甲).
fn fire_class_in_text(text: &str) -> Option<char> {
    let chars: Vec<char> = fold(text).chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !FIRE_CLASS_CHARS.contains(&c) {
            continue;
        }
        let next = chars.get(i + 1).copied();
        let after = chars.get(i + 2).copied();
        let class_follows = next == Some('类')
            || (after == Some('类')
                && next.is_some_and(|n| {
                    matches!(n, '一' | '二' | '1' | '2') || FIRE_CLASS_CHARS.contains(&n)
                }));
        if class_follows {
            return Some(c);
        }
    }
    None
}

/// The fire class of a listing (`fire_class`, else the text) as `(strictness, class char)`.
pub(crate) fn fire_class(l: &MatchListing) -> Option<(u8, char)> {
    let class = attr_str(l, "fire_class")
        .and_then(|s| s.chars().next())
        .filter(|c| FIRE_CLASS_CHARS.contains(c))
        .or_else(|| fire_class_in_text(&l.text()))?;
    fire_class_strictness(&class.to_string()).map(|s| (s, class))
}

// --------------------------------------------------------------- temperature

/// Words that mean frozen (≤ −18 ℃) storage or transport.
const FROZEN_WORDS: &[&str] = &[
    "冷冻",
    "速冻",
    "急冻",
    "深冷",
    "冻品",
    "冻货",
    "冻肉",
    "低温库",
    "超低温",
    "双温",
];
/// Words that mean chilled (about 0–8 ℃) only.
const CHILL_WORDS: &[&str] = &["冷藏", "保鲜", "恒温", "阴凉"];
/// Generic names of refrigerated vehicles/boxes that can run at any setpoint,
/// so their 冷藏 says nothing about the temperature.
const GENERIC_REEFER: &[&str] = &["冷藏车", "冷藏厢", "冷藏箱", "冷藏集装箱", "冷藏货车"];

/// A temperature in the text: the number, and where it ends.
fn signed_number(chars: &[char], i: usize) -> Option<(f64, usize, bool)> {
    let (negative, start) = if chars.get(i) == Some(&'零') && chars.get(i + 1) == Some(&'下') {
        (true, i + 2)
    } else if chars.get(i) == Some(&'-') {
        // A dash right after a digit is a range ("0-4℃"), not a minus sign.
        let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if after_digit {
            return None;
        }
        (true, i + 1)
    } else {
        if i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.') {
            return None;
        }
        (false, i)
    };
    let mut end = start;
    while end < chars.len() && (chars[end].is_ascii_digit() || (chars[end] == '.' && end > start)) {
        end += 1;
    }
    if end == start || !chars[start].is_ascii_digit() {
        return None;
    }
    let text: String = chars[start..end].iter().collect();
    let value: f64 = text.trim_end_matches('.').parse().ok()?;
    Some((if negative { -value } else { value }, end, negative))
}

/// The end of a temperature unit at `i` (℃, °C, °, and 度 after a minus sign,
/// 零下 or a range, since a bare 度 is too often something else).
fn temperature_unit(chars: &[char], i: usize, negative: bool) -> Option<usize> {
    let mut j = i;
    while chars.get(j) == Some(&' ') {
        j += 1;
    }
    match chars.get(j)? {
        '℃' => Some(j + 1),
        '°' => Some(if chars.get(j + 1) == Some(&'c') {
            j + 2
        } else {
            j + 1
        }),
        '度' if negative => Some(j + 1),
        _ => None,
    }
}

fn range_separator(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i)? {
        '-' | '~' | '至' | '到' | '—' | '〜' => Some(i + 1),
        _ => None,
    }
}

/// Temperatures written in text: "-18℃", "零下18度", "0-4℃" (both ends),
/// "-25~-18℃", "2～8°C".
pub(crate) fn temperatures(text: &str) -> Vec<f64> {
    temperature_spans(&fold(text))
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// [`temperatures`] of text already folded, each with the byte range it
/// takes (both ends of a range share the range's span), so the words after
/// it can be read ("-18度以下").
pub(crate) fn temperature_spans(folded: &str) -> Vec<(f64, std::ops::Range<usize>)> {
    let mut offsets: Vec<usize> = folded.char_indices().map(|(i, _)| i).collect();
    offsets.push(folded.len());
    let chars: Vec<char> = folded
        .chars()
        .map(|c| match c {
            '\u{2212}' | '\u{2013}' => '-',
            _ => c,
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some((value, end, negative)) = signed_number(&chars, i) else {
            i += 1;
            continue;
        };
        if let Some(unit_end) = temperature_unit(&chars, end, negative) {
            out.push((value, offsets[i]..offsets[unit_end]));
            i = unit_end;
            continue;
        }
        if let Some(next) = range_separator(&chars, end)
            && let Some((upper, end2, _)) = signed_number(&chars, next)
            // A range ending in 度 is a temperature range (0-5度, 0到4度).
            && let Some(unit_end) = temperature_unit(&chars, end2, true)
        {
            let span = offsets[i]..offsets[unit_end];
            out.push((value, span.clone()));
            out.push((upper, span));
            i = unit_end;
            continue;
        }
        i = end;
    }
    out
}

/// What a listing says about cold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cold {
    /// The coldest temperature written.
    pub min_temp: Option<f64>,
    pub frozen_words: bool,
    pub chill_words: bool,
}

/// The coldest temperature at which frozen goods are kept.
pub(crate) const FROZEN_MAX_C: f64 = -18.0;

impl Cold {
    pub fn read(l: &MatchListing) -> Self {
        let text = format!(
            "{} {} {}",
            l.title,
            l.description,
            attr_str(l, "vehicle_type").unwrap_or("")
        );
        let mut plain = fold(&text);
        for generic in GENERIC_REEFER {
            plain = plain.replace(generic, "冷机车");
        }
        Self {
            min_temp: temperatures(&text).into_iter().reduce(f64::min),
            frozen_words: mentions(&text, FROZEN_WORDS),
            chill_words: mentions(&plain, CHILL_WORDS),
        }
    }

    /// Any statement about cold at all.
    pub fn any(&self) -> bool {
        self.frozen_words || self.chill_words || self.min_temp.is_some_and(|t| t <= 10.0)
    }

    /// A request that needs freezing: a temperature of −10 ℃ or colder, or
    /// frozen words without chill words ("冷冻冷藏均可" is not strict).
    pub fn needs_frozen(&self) -> bool {
        self.min_temp.is_some_and(|t| t <= -10.0) || (self.frozen_words && !self.chill_words)
    }

    /// An offer that can freeze: frozen words or −15 ℃ or colder.
    pub fn frozen_capable(&self) -> bool {
        self.frozen_words || self.min_temp.is_some_and(|t| t <= -15.0)
    }

    /// An offer that evidently only chills: not frozen-capable, and chill
    /// words or temperatures warmer than −10 ℃.
    pub fn chill_only(&self) -> bool {
        !self.frozen_capable() && (self.chill_words || self.min_temp.is_some_and(|t| t > -10.0))
    }
}

// ----------------------------------------------------- cold chain and hazmat

const COLD_CHAIN_WORDS: &[&str] = &[
    "冷链",
    "冷藏车",
    "冷冻车",
    "冷藏运输",
    "冷运",
    "冷藏厢",
    "冷藏货车",
    "冷机",
];

/// `cold_chain`, else `Some(true)` when the text names cold-chain transport.
pub(crate) fn cold_chain(l: &MatchListing) -> Option<bool> {
    attr_bool(l, "cold_chain").or_else(|| {
        let text = format!("{} {}", l.text(), attr_str(l, "vehicle_type").unwrap_or(""));
        mentions(&text, COLD_CHAIN_WORDS).then_some(true)
    })
}

const HAZMAT_WORDS: &[&str] = &[
    "危险品",
    "危化品",
    "危险化学品",
    "危货",
    "危运",
    "易燃",
    "易爆",
    "腐蚀品",
    "剧毒",
    "危包",
];

/// `hazmat`, else `Some(true)` when the text names dangerous goods (not negated).
pub(crate) fn hazmat(l: &MatchListing) -> Option<bool> {
    attr_bool(l, "hazmat").or_else(|| {
        let text = format!("{} {}", l.text(), attr_str(l, "vehicle_type").unwrap_or(""));
        mentions(&text, HAZMAT_WORDS).then_some(true)
    })
}

/// Dangerous-goods classes (1–9 of GB 6944) named in the text: 第3类, 3类,
/// 第八类, 2.1类 (→ 2).
pub(crate) fn hazmat_classes(text: &str) -> Vec<u8> {
    let chars: Vec<char> = fold(text).chars().collect();
    let mut out = Vec::new();
    for (k, &c) in chars.iter().enumerate() {
        if c != '类' || k == 0 {
            continue;
        }
        let prev = chars[k - 1];
        let class = match prev {
            '一' => Some(1),
            '二' => Some(2),
            '三' => Some(3),
            '四' => Some(4),
            '五' => Some(5),
            '六' => Some(6),
            '七' => Some(7),
            '八' => Some(8),
            '九' => Some(9),
            _ if prev.is_ascii_digit() => {
                let start = chars[..k]
                    .iter()
                    .rposition(|c| !(c.is_ascii_digit() || *c == '.'))
                    .map_or(0, |p| p + 1);
                let number: String = chars[start..k].iter().collect();
                number
                    .split('.')
                    .next()
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=9).contains(n))
            }
            _ => None,
        };
        if let Some(class) = class
            && !out.contains(&class)
        {
            out.push(class);
        }
    }
    out.sort_unstable();
    out
}

// ------------------------------------------------------------- usage and mode

/// The usage of a space listing (`usage`, else inferred from words):
/// 冷库 before 仓储 before 生产 before 办公, since a cold store is also a store.
pub(crate) fn usage(l: &MatchListing) -> Option<&'static str> {
    if let Some(u) = attr_str(l, "usage") {
        return crate::attributes::USAGES.iter().copied().find(|k| *k == u);
    }
    let text = l.text();
    if mentions(&text, &["冷库", "冷藏库", "冷冻库", "低温库", "冷链仓"]) {
        Some("冷库")
    } else if mentions(&text, &["仓库", "仓储", "库房", "堆场", "货场"]) {
        Some("仓储")
    } else if mentions(&text, &["厂房", "车间", "生产"]) {
        Some("生产")
    } else if mentions(&text, &["办公", "写字楼"]) {
        Some("办公")
    } else {
        None
    }
}

/// The equipment mode (`mode`, else inferred): 代加工 and 共享机时 are
/// checked before buying and renting because their texts also say 租/卖.
pub(crate) fn mode(l: &MatchListing) -> Option<&'static str> {
    if let Some(m) = attr_str(l, "mode") {
        return crate::attributes::EQUIPMENT_MODES
            .iter()
            .copied()
            .find(|k| *k == m);
    }
    let text = l.text();
    if mentions(&text, &["代加工", "外协", "来料加工", "代工"]) {
        Some("代加工")
    } else if mentions(&text, &["机时", "共享"]) {
        Some("共享机时")
    } else if mentions(
        &text,
        &["求购", "购买", "收购", "采购", "出售", "转让", "卖"],
    ) {
        Some("出售")
    } else if mentions(&text, &["租"]) {
        Some("出租")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Side};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn listing(kind: Kind, title: &str, attrs: Value) -> MatchListing {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
            .single()
            .expect("valid time");
        let mut l = MatchListing::new("L", Side::Offer, kind, "F", title, at);
        if let Value::Object(map) = attrs {
            l.attributes = map;
        }
        l
    }

    #[test]
    fn place_normalisation() {
        assert_eq!(normalise_place(" 上海港 "), "上海");
        assert_eq!(normalise_place("宁波市北仑区"), "宁波北仑");
        assert_eq!(normalise_place("北仑港区"), "北仑");
        assert_eq!(normalise_place("上海洋山港"), "上海洋山");
        assert_eq!(normalise_place("浙江省宁波市"), "浙江宁波");
        assert_eq!(normalise_place("沪"), "上海");
        // Too short to strip: the suffix is the name.
        assert_eq!(normalise_place("港"), "港");
        assert_eq!(normalise_place("市北"), "市北");
        assert!(same_place("北仑", "宁波北仑"));
        assert!(same_place("上海", "上海洋山港"));
        assert!(same_place("宁波市北仑区", "北仑港"));
        assert!(!same_place("北仑", "上海"));
        assert!(!same_place("宁波北仑", "宁波镇海"));
        assert!(!same_place("", "上海"));
    }

    #[test]
    fn routes_from_attributes_and_titles() {
        let l = listing(
            Kind::Logistics,
            "x",
            json!({"origin": "北仑", "destination": "上海"}),
        );
        assert_eq!(
            route(&l),
            Route {
                origin: Some("北仑".into()),
                destination: Some("上海".into())
            }
        );
        let l = listing(Kind::Logistics, "求车：上海洋山→宁波北仑，30吨", json!({}));
        let r = route(&l);
        assert_eq!(r.origin.as_deref(), Some("上海洋山"));
        assert_eq!(r.destination.as_deref(), Some("宁波北仑"));
        let l = listing(Kind::Logistics, "北仑至上海整车", json!({}));
        assert_eq!(route(&l).destination.as_deref(), Some("上海整车"));
        assert!(same_place("上海整车", "上海"));
        let l = listing(Kind::Space, "冷库0-4℃出租", json!({}));
        assert_eq!(route(&l).origin, None);
    }

    #[test]
    fn machine_size_sources() {
        let l = listing(Kind::Equipment, "x", json!({"clamping_force_t": 160}));
        assert_eq!(machine_tonnes(&l), Some(160.0));
        let l = listing(Kind::Equipment, "求租250T注塑机", json!({}));
        assert_eq!(machine_tonnes(&l), Some(250.0));
        let l = listing(Kind::Equipment, "求租250吨啤机", json!({}));
        assert_eq!(machine_tonnes(&l), Some(250.0));
        // A model number alone says nothing about the size.
        let l = listing(Kind::Equipment, "海天MA2500注塑机出租", json!({}));
        assert_eq!(machine_tonnes(&l), None);
        // Kilograms are part weights, not machine sizes.
        let mut l = listing(Kind::Equipment, "注塑机出租", json!({}));
        l.description = "单件产品约2kg".into();
        assert_eq!(machine_tonnes(&l), None);
    }

    #[test]
    fn loads_read_with_their_bounds() {
        // A ceiling or a load word names the capacity, before other tonnes.
        let o = listing(Kind::Logistics, "回程车 货重3吨起，整车25吨以内", json!({}));
        assert_eq!(vehicle_capacity(&o), Some(25.0));
        let o = listing(Kind::Logistics, "高栏车，载重32吨", json!({}));
        assert_eq!(vehicle_capacity(&o), Some(32.0));
        let o = listing(Kind::Logistics, "9.6米厢车 15吨", json!({}));
        assert_eq!(vehicle_capacity(&o), Some(15.0));
        // A request's load word asks for the vehicle; other tonnes are the load.
        let mut r = listing(Kind::Logistics, "求车，载重不少于30吨", json!({}));
        r.side = crate::model::Side::Request;
        assert_eq!(load_need(&r), Some(LoadNeed::PerVehicle(30.0)));
        let r = listing(Kind::Logistics, "钢卷60吨，分两车", json!({}));
        assert_eq!(load_need(&r), Some(LoadNeed::Total(60.0)));
        // Approximate or capped loads are no firm minimum.
        let r = listing(
            Kind::Logistics,
            "每周一车10吨左右",
            json!({"capacity_t": 10}),
        );
        assert_eq!(load_tolerance(&r, 10.0), 0.8);
        let r = listing(Kind::Logistics, "货重不超过10吨", json!({"capacity_t": 10}));
        assert_eq!(load_tolerance(&r, 10.0), 0.0);
        let r = listing(Kind::Logistics, "每车30吨", json!({"capacity_t": 30}));
        assert_eq!(load_tolerance(&r, 30.0), 1.0);
    }

    #[test]
    fn containers_and_round_trips() {
        let r = listing(Kind::Logistics, "海盐发北仑港 出口柜40HQ 2个", json!({}));
        assert!(ships_containers(&r));
        let r = listing(Kind::Logistics, "橱柜成品 5吨 发上海", json!({}));
        assert!(!ships_containers(&r));
        let o = listing(
            Kind::Logistics,
            "9.6米厢车",
            json!({"vehicle_type": "厢式货车"}),
        );
        assert!(!container_tractor(&o));
        let o = listing(Kind::Logistics, "宁波港拖车 嘉兴方向进出口柜", json!({}));
        assert!(container_tractor(&o) && bidirectional(&o));
        let r = listing(Kind::Logistics, "进口冷柜明天到港", json!({}));
        assert!(reefer_container(&r));
        let r = listing(Kind::Logistics, "冷藏车 -18℃", json!({}));
        assert!(!reefer_container(&r));
    }

    #[test]
    fn fire_classes() {
        assert_eq!(fire_class_strictness("甲"), Some(5));
        assert_eq!(fire_class_strictness("戊"), Some(1));
        assert_eq!(fire_class_strictness("丙二类"), Some(3));
        assert_eq!(fire_class_strictness("A"), None);
        let l = listing(Kind::Space, "丙二类仓库出租", json!({}));
        assert_eq!(fire_class(&l), Some((3, '丙')));
        let l = listing(Kind::Space, "需甲乙类危化品仓库", json!({}));
        assert_eq!(fire_class(&l), Some((5, '甲')));
        let l = listing(Kind::Space, "甲方直租", json!({"fire_class": "乙"}));
        assert_eq!(fire_class(&l), Some((4, '乙')));
        let l = listing(Kind::Space, "甲方直租厂房", json!({}));
        assert_eq!(fire_class(&l), None);
    }

    #[test]
    fn vehicle_lengths_in_every_spelling() {
        for (text, metres) in [
            ("4.2米厢车", 4.2),
            ("4米2厢货", 4.2),
            ("9米6厢车", 9.6),
            ("9.6m厢式货车", 9.6),
            ("13米高栏", 13.0),
            ("17米5平板", 17.5),
            ("17.5米平板车", 17.5),
        ] {
            assert_eq!(vehicle_length_in_text(text), Some(metres), "{text}");
        }
        // Areas, volumes and things too long for a truck are no vehicle length.
        assert_eq!(vehicle_length_in_text("1500平方米"), None);
        assert_eq!(vehicle_length_in_text("55m³"), None);
        assert_eq!(vehicle_length_in_text("幅宽1.6米"), None);
        assert_eq!(vehicle_length_in_text("钢梁长30米"), None);
        let l = listing(
            Kind::Logistics,
            "冷链专线",
            json!({"vehicle_type": "7米6冷藏车"}),
        );
        assert_eq!(vehicle_length(&l), Some(7.6));
    }

    #[test]
    fn temperatures_in_text() {
        assert_eq!(temperatures("0-5度保鲜"), [0.0, 5.0]);
        assert_eq!(temperatures("0到4度"), [0.0, 4.0]);
        assert_eq!(temperatures("零下25度"), [-25.0]);
        assert_eq!(temperatures("温度18度左右"), Vec::<f64>::new());
        assert_eq!(temperatures("-18℃冻品"), [-18.0]);
        assert_eq!(temperatures("0-4℃冷藏"), [0.0, 4.0]);
        assert_eq!(temperatures("0～4℃"), [0.0, 4.0]);
        assert_eq!(temperatures("-25~-18℃低温库"), [-25.0, -18.0]);
        assert_eq!(temperatures("零下18度"), [-18.0]);
        assert_eq!(temperatures("−20 °C"), [-20.0]);
        assert_eq!(temperatures("2～8°C医药"), [2.0, 8.0]);
        assert_eq!(temperatures("面积500平，18度电"), Vec::<f64>::new());
        assert_eq!(temperatures("MA-25℃"), [-25.0]);
    }

    #[test]
    fn cold_classes() {
        let chill = Cold::read(&listing(Kind::Space, "0-4℃冷藏库出租", json!({})));
        assert!(chill.chill_only() && !chill.frozen_capable());
        let frozen = Cold::read(&listing(Kind::Space, "-25℃低温库", json!({})));
        assert!(frozen.frozen_capable() && !frozen.chill_only());
        let need = Cold::read(&listing(Kind::Space, "求-18℃冷库存冻品", json!({})));
        assert!(need.needs_frozen());
        let either = Cold::read(&listing(Kind::Space, "冷冻冷藏均可", json!({})));
        assert!(!either.needs_frozen());
        // A 冷藏车 is any reefer truck, not a chill-only one.
        let reefer = Cold::read(&listing(Kind::Logistics, "冷藏车出租", json!({})));
        assert!(!reefer.chill_only());
        let plain = Cold::read(&listing(Kind::Space, "厂房出租", json!({})));
        assert!(!plain.any());
    }

    #[test]
    fn hazmat_and_cold_chain_words() {
        let l = listing(Kind::Logistics, "危化品运输，持危运证", json!({}));
        assert_eq!(hazmat(&l), Some(true));
        let l = listing(Kind::Logistics, "普货运输，不接危险品", json!({}));
        assert_eq!(hazmat(&l), None);
        let l = listing(Kind::Logistics, "危险品车", json!({"hazmat": false}));
        assert_eq!(hazmat(&l), Some(false));
        let l = listing(Kind::Logistics, "冷链车 -18℃", json!({}));
        assert_eq!(cold_chain(&l), Some(true));
        let l = listing(Kind::Logistics, "厢式货车，非冷链", json!({}));
        assert_eq!(cold_chain(&l), None);
        assert_eq!(hazmat_classes("第3类易燃液体，8类腐蚀品"), [3, 8]);
        assert_eq!(hazmat_classes("第八类"), [8]);
        assert_eq!(hazmat_classes("2.1类易燃气体"), [2]);
        assert_eq!(hazmat_classes("甲类仓库 13类"), Vec::<u8>::new());
    }

    #[test]
    fn usage_and_mode_inference() {
        let l = listing(Kind::Space, "冷库出租", json!({}));
        assert_eq!(usage(&l), Some("冷库"));
        let l = listing(Kind::Space, "x", json!({"usage": "仓储"}));
        assert_eq!(usage(&l), Some("仓储"));
        let l = listing(Kind::Equipment, "求购二手注塑机", json!({}));
        assert_eq!(mode(&l), Some("出售"));
        let l = listing(Kind::Equipment, "求租叉车", json!({}));
        assert_eq!(mode(&l), Some("出租"));
        let l = listing(Kind::Equipment, "CNC外协代加工", json!({}));
        assert_eq!(mode(&l), Some("代加工"));
    }
}
