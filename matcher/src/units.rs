//! Unit normalisation for quantities and prices, so 2吨, 2 t and 2000公斤 compare equal.
//!
//! Every unit spelling maps to a [`NormalUnit`]: a [`BaseUnit`] plus the number
//! of base units one written unit stands for (吨 → kg × 1000). Only amounts with
//! the same base unit are comparable; there is deliberately no conversion
//! between dimensions (no densities, no "one truck ≈ 30 t").
//!
//! Convention for the `(f64, NormalUnit)` pairs returned here: the number is
//! already expressed in `unit.base` (2吨 → `2000.0`), and `unit.factor` records
//! what one written unit was worth, for display and round trips.
//!
//! The parsers accept the sign and size of an amount as written; rejecting zero
//! or negative quantities and prices is the caller's (listing validation's) job,
//! so that its error can name the field.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of thing a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Mass,
    Area,
    Volume,
    Length,
    Duration,
    Money,
    /// Discrete items; only items with the same counting noun compare.
    Count,
}

/// The canonical unit of a dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseUnit {
    Kilogram,
    SquareMetre,
    CubicMetre,
    Metre,
    Day,
    Yuan,
    /// Items counted with a measure word. Synonymous measure words share one
    /// canonical noun (只/件/片 → 个, 套 → 台, 名 → 人, 辆 → 车) because posters
    /// use them interchangeably: 5000只 boxes answer a request for 2万个, 500片
    /// pallets one for 200个. Different nouns (人 vs 台) never compare.
    Count(&'static str),
}

impl BaseUnit {
    pub fn dimension(&self) -> Dimension {
        match self {
            Self::Kilogram => Dimension::Mass,
            Self::SquareMetre => Dimension::Area,
            Self::CubicMetre => Dimension::Volume,
            Self::Metre => Dimension::Length,
            Self::Day => Dimension::Duration,
            Self::Yuan => Dimension::Money,
            Self::Count(_) => Dimension::Count,
        }
    }

    /// Short symbol for explanations shown to users.
    pub fn symbol(&self) -> &'static str {
        match self {
            Self::Kilogram => "kg",
            Self::SquareMetre => "m²",
            Self::CubicMetre => "m³",
            Self::Metre => "m",
            Self::Day => "天",
            Self::Yuan => "元",
            Self::Count(noun) => noun,
        }
    }
}

impl fmt::Display for BaseUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A parsed unit: its base unit and how many base units one of it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalUnit {
    pub base: BaseUnit,
    /// Base units per written unit (吨 → 1000, 亩 → 666.67, 台 → 1).
    pub factor: f64,
}

impl NormalUnit {
    pub fn dimension(&self) -> Dimension {
        self.base.dimension()
    }

    /// `amount` written units expressed in the base unit.
    pub fn to_base(&self, amount: f64) -> f64 {
        amount * self.factor
    }

    /// Whether amounts in the two units can be compared or added.
    pub fn is_comparable(&self, other: &NormalUnit) -> bool {
        self.base == other.base
    }
}

/// The time a periodic price is quoted for (元/㎡/月, 元/台/天).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    /// Length in calendar days: a month is 30 days and a year 365, the usual
    /// convention of Chinese rental quotes (月租 = 30 × 日租).
    pub fn days(&self) -> f64 {
        match self {
            Self::Hour => 1.0 / 24.0,
            Self::Day => 1.0,
            Self::Week => 7.0,
            Self::Month => 30.0,
            Self::Year => 365.0,
        }
    }

    /// Multiply a price per this period by this to get a price per day.
    ///
    /// Hours count as calendar time (× 24), not as an 8-hour shift: the basis
    /// is a convention for ranking, not a quote, and a fixed rule keeps 元/小时
    /// and 元/天 comparable without guessing working hours.
    pub fn per_day_factor(&self) -> f64 {
        1.0 / self.days()
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Hour => "小时",
            Self::Day => "天",
            Self::Week => "周",
            Self::Month => "月",
            Self::Year => "年",
        }
    }
}

const PIECE: BaseUnit = BaseUnit::Count("个");
const MACHINE: BaseUnit = BaseUnit::Count("台");
const PERSON: BaseUnit = BaseUnit::Count("人");
const TRUCKLOAD: BaseUnit = BaseUnit::Count("车");

/// Unit spellings after [`fold`] (ASCII lower case, half-width). Duration
/// spellings live in [`PERIODS`] so prices and quantities share them.
const UNITS: &[(&str, BaseUnit, f64)] = &[
    // Mass: 斤 is the everyday 市斤 of half a kilogram.
    ("吨", BaseUnit::Kilogram, 1000.0),
    ("噸", BaseUnit::Kilogram, 1000.0),
    ("公吨", BaseUnit::Kilogram, 1000.0),
    ("t", BaseUnit::Kilogram, 1000.0),
    ("公斤", BaseUnit::Kilogram, 1.0),
    ("千克", BaseUnit::Kilogram, 1.0),
    ("kg", BaseUnit::Kilogram, 1.0),
    ("kgs", BaseUnit::Kilogram, 1.0),
    ("㎏", BaseUnit::Kilogram, 1.0),
    ("斤", BaseUnit::Kilogram, 0.5),
    ("市斤", BaseUnit::Kilogram, 0.5),
    ("克", BaseUnit::Kilogram, 0.001),
    ("g", BaseUnit::Kilogram, 0.001),
    // Area: 平/平方 are the colloquial short forms of 平方米; 1 亩 = 10000/15 m².
    ("平方米", BaseUnit::SquareMetre, 1.0),
    ("平方", BaseUnit::SquareMetre, 1.0),
    ("平米", BaseUnit::SquareMetre, 1.0),
    ("平", BaseUnit::SquareMetre, 1.0),
    ("㎡", BaseUnit::SquareMetre, 1.0),
    ("m²", BaseUnit::SquareMetre, 1.0),
    ("m2", BaseUnit::SquareMetre, 1.0),
    ("sqm", BaseUnit::SquareMetre, 1.0),
    ("亩", BaseUnit::SquareMetre, 10_000.0 / 15.0),
    ("公顷", BaseUnit::SquareMetre, 10_000.0),
    // Volume: 方 is the trade word for a cubic metre.
    ("立方米", BaseUnit::CubicMetre, 1.0),
    ("立方", BaseUnit::CubicMetre, 1.0),
    ("方", BaseUnit::CubicMetre, 1.0),
    ("㎥", BaseUnit::CubicMetre, 1.0),
    ("m³", BaseUnit::CubicMetre, 1.0),
    ("m3", BaseUnit::CubicMetre, 1.0),
    ("cbm", BaseUnit::CubicMetre, 1.0),
    ("升", BaseUnit::CubicMetre, 0.001),
    ("l", BaseUnit::CubicMetre, 0.001),
    // Length (truck beds, distances for 元/公里).
    ("米", BaseUnit::Metre, 1.0),
    ("m", BaseUnit::Metre, 1.0),
    ("公里", BaseUnit::Metre, 1000.0),
    ("千米", BaseUnit::Metre, 1000.0),
    ("km", BaseUnit::Metre, 1000.0),
    ("㎞", BaseUnit::Metre, 1000.0),
    ("厘米", BaseUnit::Metre, 0.01),
    ("cm", BaseUnit::Metre, 0.01),
    ("㎝", BaseUnit::Metre, 0.01),
    ("毫米", BaseUnit::Metre, 0.001),
    ("mm", BaseUnit::Metre, 0.001),
    ("㎜", BaseUnit::Metre, 0.001),
    // Money: 万元/千元 come from the multiplier rule, not from this table.
    ("元", BaseUnit::Yuan, 1.0),
    ("人民币", BaseUnit::Yuan, 1.0),
    ("rmb", BaseUnit::Yuan, 1.0),
    ("cny", BaseUnit::Yuan, 1.0),
    ("¥", BaseUnit::Yuan, 1.0),
    ("￥", BaseUnit::Yuan, 1.0),
    // Counts. 块 is a piece here, not colloquial money, since 3块钢板 is common in listings.
    ("个", PIECE, 1.0),
    ("只", PIECE, 1.0),
    ("件", PIECE, 1.0),
    ("片", PIECE, 1.0),
    ("枚", PIECE, 1.0),
    ("块", PIECE, 1.0),
    ("张", PIECE, 1.0),
    ("条", PIECE, 1.0),
    ("根", PIECE, 1.0),
    ("支", PIECE, 1.0),
    ("颗", PIECE, 1.0),
    ("pcs", PIECE, 1.0),
    ("pc", PIECE, 1.0),
    ("台", MACHINE, 1.0),
    ("套", MACHINE, 1.0),
    ("部", MACHINE, 1.0),
    ("人", PERSON, 1.0),
    ("名", PERSON, 1.0),
    ("位", PERSON, 1.0),
    ("人次", PERSON, 1.0),
    ("车", TRUCKLOAD, 1.0),
    ("辆", TRUCKLOAD, 1.0),
    ("趟", TRUCKLOAD, 1.0),
    ("车次", TRUCKLOAD, 1.0),
    ("箱", BaseUnit::Count("箱"), 1.0),
    ("托", BaseUnit::Count("托"), 1.0),
    ("托位", BaseUnit::Count("托"), 1.0),
    ("柜", BaseUnit::Count("柜"), 1.0),
    ("卷", BaseUnit::Count("卷"), 1.0),
    ("桶", BaseUnit::Count("桶"), 1.0),
    ("包", BaseUnit::Count("包"), 1.0),
    ("袋", BaseUnit::Count("包"), 1.0),
    ("样", BaseUnit::Count("样"), 1.0),
    ("样品", BaseUnit::Count("样"), 1.0),
    ("票", BaseUnit::Count("票"), 1.0),
    ("次", BaseUnit::Count("次"), 1.0),
    ("批", BaseUnit::Count("批"), 1.0),
];

/// Time spellings, used both as price periods and as duration quantities.
const PERIODS: &[(&str, Period)] = &[
    ("小时", Period::Hour),
    ("时", Period::Hour),
    ("钟头", Period::Hour),
    ("h", Period::Hour),
    ("hr", Period::Hour),
    ("天", Period::Day),
    ("日", Period::Day),
    ("d", Period::Day),
    ("day", Period::Day),
    ("周", Period::Week),
    ("星期", Period::Week),
    ("礼拜", Period::Week),
    ("week", Period::Week),
    ("个月", Period::Month),
    ("月", Period::Month),
    ("month", Period::Month),
    ("年", Period::Year),
    ("year", Period::Year),
];

/// Number words that may stand before a unit (2万只, 1.5万吨, 9万元).
const MULTIPLIERS: &[(char, f64)] = &[('万', 1e4), ('千', 1e3), ('亿', 1e8)];

/// Makes spellings comparable: full-width ASCII to half-width, ideographic
/// space to space, ASCII to lower case.
///
/// The full-width comma is kept: in Chinese text "，" is punctuation, and
/// treating it as a digit separator would glue "200，500吨" into 200500.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF0C}' => c,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn period_unit(period: Period) -> NormalUnit {
    NormalUnit {
        base: BaseUnit::Day,
        factor: period.days(),
    }
}

/// All spellings with their unit, durations included.
fn spellings() -> impl Iterator<Item = (&'static str, NormalUnit)> {
    UNITS
        .iter()
        .map(|&(s, base, factor)| (s, NormalUnit { base, factor }))
        .chain(PERIODS.iter().map(|&(s, p)| (s, period_unit(p))))
}

/// Exact lookup of a folded, trimmed spelling, with an optional 万/千/亿 prefix.
fn lookup(folded: &str) -> Option<NormalUnit> {
    if let Some((_, unit)) = spellings().find(|(s, _)| *s == folded) {
        return Some(unit);
    }
    let mut chars = folded.chars();
    let first = chars.next()?;
    let (_, mult) = MULTIPLIERS.iter().find(|(c, _)| *c == first)?;
    let rest = chars.as_str().trim_start();
    spellings()
        .find(|(s, _)| *s == rest)
        .map(|(_, u)| NormalUnit {
            base: u.base,
            factor: u.factor * mult,
        })
}

/// The longest unit spelling at the start of `text` (already folded), and the
/// bytes it used. A Latin spelling must not run into further letters, so the
/// "t" of "2 tons" or the "m" of "5 mins" is not taken for a unit.
fn lookup_prefix(text: &str) -> Option<(NormalUnit, usize)> {
    let longest = |text: &str| {
        spellings()
            .filter(|(s, _)| text.starts_with(s))
            .filter(|(s, _)| {
                let ends_latin = s.chars().last().is_some_and(|c| c.is_ascii_alphabetic());
                let next = text[s.len()..].chars().next();
                !(ends_latin && next.is_some_and(|c| c.is_ascii_alphabetic()))
            })
            .max_by_key(|(s, _)| s.len())
            .map(|(s, u)| (u, s.len()))
    };
    if let Some(found) = longest(text) {
        return Some(found);
    }
    let first = text.chars().next()?;
    let (_, mult) = MULTIPLIERS.iter().find(|(c, _)| *c == first)?;
    let after = &text[first.len_utf8()..];
    let rest = after.trim_start();
    let skipped = first.len_utf8() + (after.len() - rest.len());
    longest(rest).map(|(u, n)| {
        let unit = NormalUnit {
            base: u.base,
            factor: u.factor * mult,
        };
        (unit, skipped + n)
    })
}

/// Maps a quantity unit as written (吨, t, 公斤, ㎡, 平米, 亩, 方, 台, 人, 万元, 天 …)
/// to its normal form, or `None` if the spelling is unknown.
///
/// Surrounding whitespace, ASCII case and full-width letters are ignored, and a
/// leading 万/千/亿 multiplies (万只 → 个 × 10000).
pub fn parse_quantity_unit(unit: &str) -> Option<NormalUnit> {
    let folded = fold(unit);
    let trimmed = folded.trim();
    if trimmed.is_empty() {
        return None;
    }
    lookup(trimmed)
}

/// A parsed price unit such as 元/平方米/月: money per quantity per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceUnit {
    /// Yuan per written money unit (元 → 1, 万元 → 10000).
    pub money_factor: f64,
    /// The quantity the price is for (平方米 in 元/平方米/月), or `None` for a
    /// lump sum or a pure time rate (万元, 元/月).
    pub per: Option<NormalUnit>,
    /// The period of a recurring price (月 in 元/平方米/月).
    pub period: Option<Period>,
}

impl PriceUnit {
    /// Factor that turns this price into a per-day price, or `None` when the
    /// price is not periodic (元/吨, 万元). See [`Period::per_day_factor`].
    pub fn per_day_factor(&self) -> Option<f64> {
        self.period.map(|p| p.per_day_factor())
    }

    /// Converts `amount` of this unit to the common basis: yuan per one base
    /// unit (kg, m², 台 …), per day if the price is periodic.
    ///
    /// 25 元/平方米/月 → 0.833 元 per m² per day; 8100 元/吨 → 8.1 元 per kg;
    /// 9 万元 → 90000 元.
    pub fn to_basis(&self, amount: f64) -> NormalPrice {
        let per_quantity = self.per.map_or(1.0, |u| u.factor);
        let per_time = self.per_day_factor().unwrap_or(1.0);
        NormalPrice {
            yuan: amount * self.money_factor / per_quantity * per_time,
            per: self.per.map(|u| u.base),
            per_day: self.period.is_some(),
        }
    }
}

/// A price on the common basis produced by [`PriceUnit::to_basis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalPrice {
    /// Yuan per one `per` base unit (or in total), per day if `per_day`.
    pub yuan: f64,
    pub per: Option<BaseUnit>,
    pub per_day: bool,
}

impl NormalPrice {
    /// Whether the two prices are on the same basis, so their `yuan` compare.
    pub fn is_comparable(&self, other: &NormalPrice) -> bool {
        self.per == other.per && self.per_day == other.per_day
    }
}

/// Characters that separate the parts of a price unit: 元/吨/天, 元/㎡·月.
fn is_price_separator(c: char) -> bool {
    matches!(c, '/' | '·' | '・' | '•')
}

/// Parses a price unit such as 元/平方米/月, 元/㎡/天, 元/吨, 元/吨/天, 元/台/天,
/// 元/车, 元/小时, 元/人/天, 元/次, 万元 or 元/月.
///
/// The first part must be money (元, 万元, 千元 or a bare 万); then at most
/// one quantity unit and at most one period follow, in either order. Anything
/// else (a second quantity, money per money, an unknown word) gives `None`.
pub fn parse_price_unit(unit: &str) -> Option<PriceUnit> {
    let folded = fold(unit);
    let mut parts = folded.split(is_price_separator).map(str::trim);
    let money = parts.next()?;
    // A bare 万 is how budgets are often written (预算 5万).
    let money_factor = match money {
        "万" => 1e4,
        _ => lookup(money).filter(|u| u.base == BaseUnit::Yuan)?.factor,
    };
    let mut price = PriceUnit {
        money_factor,
        per: None,
        period: None,
    };
    for part in parts {
        if let Some(&(_, period)) = PERIODS.iter().find(|(s, _)| *s == part) {
            if price.period.replace(period).is_some() {
                return None;
            }
            continue;
        }
        let quantity = lookup(part)?;
        if matches!(quantity.dimension(), Dimension::Money | Dimension::Duration) {
            return None;
        }
        if price.per.replace(quantity).is_some() {
            return None;
        }
    }
    Some(price)
}

/// Splits a leading number off `text`: digits, optional thousands groups with
/// ASCII commas ("1,500"), optional decimals. Returns the value and its length
/// in bytes. `text` must already be folded.
fn split_number(text: &str) -> Option<(f64, usize)> {
    let b = text.as_bytes();
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = digits_from(0);
    if end == 0 {
        return None;
    }
    let mut number: String = text[..end].to_owned();
    // A group separator only if the lead group is short and exactly three digits follow.
    if end <= 3 {
        while b.get(end) == Some(&b',') && digits_from(end + 1) == 3 {
            number.push_str(&text[end + 1..end + 4]);
            end += 4;
        }
    }
    if b.get(end) == Some(&b'.') {
        let decimals = digits_from(end + 1);
        if decimals > 0 {
            number.push_str(&text[end..end + 1 + decimals]);
            end += 1 + decimals;
        }
    }
    let value: f64 = number.parse().ok()?;
    value.is_finite().then_some((value, end))
}

/// Reads a whole text that is an amount and a unit: "2吨", "2 t", "2000公斤",
/// "1500㎡", "1,500 m²", "２吨", "1.5万只", "-3 kg".
///
/// Returns the amount in base units and the unit (see the module docs), or
/// `None` if anything besides one number and one known unit is present. A
/// leading sign is kept; see the module docs on zero and negative amounts.
pub fn parse_amount_with_unit(text: &str) -> Option<(f64, NormalUnit)> {
    let folded = fold(text);
    let trimmed = folded.trim();
    let (sign, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (value, used) = split_number(unsigned)?;
    let unit = lookup(unsigned[used..].trim())?;
    Some((sign * unit.to_base(value), unit))
}

/// Finds amounts with units inside free text ("现货10t", "库存3万条，可拆零",
/// "剩余铝锭15000公斤"), in order of appearance.
///
/// Durations are left out because in listings they are dates and periods
/// (2026年11月, 3个月), not amounts of the thing offered. Numbers glued to
/// Latin letters are model numbers (MA3800, T30S) and are skipped, as are
/// Chinese numerals (两台), which this reader does not understand. A price in
/// the text yields its money part (8100元/吨 → 8100 元).
pub fn find_amounts(text: &str) -> Vec<(f64, NormalUnit)> {
    amounts_in_folded(&fold(text))
        .into_iter()
        .map(|(value, unit, _)| (value, unit))
        .collect()
}

/// [`find_amounts`] on text already [`fold`]ed, with the byte range each
/// amount (number and unit) takes in it, so callers can read the words
/// around it (载重30吨, 30吨以内).
pub(crate) fn amounts_in_folded(folded: &str) -> Vec<(f64, NormalUnit, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    let mut prev: Option<char> = None;
    let mut i = 0;
    while let Some(c) = folded[i..].chars().next() {
        let glued = prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == '.' || p == '_');
        if c.is_ascii_digit()
            && !glued
            && let Some((value, used)) = split_number(&folded[i..])
        {
            let after = &folded[i + used..];
            let rest = after.trim_start_matches([' ', '\t']);
            let mut end = i + used;
            if let Some((unit, n)) = lookup_prefix(rest) {
                end += after.len() - rest.len() + n;
                if unit.dimension() != Dimension::Duration {
                    found.push((unit.to_base(value), unit, i..end));
                }
            }
            // Jump past the whole number so "1800" is not read again as "800".
            prev = folded[..end].chars().next_back();
            i = end;
            continue;
        }
        prev = Some(c);
        i += c.len_utf8();
    }
    found
}

/// An amount with its unit as written in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub amount: f64,
    pub unit: String,
}

impl Quantity {
    pub fn new(amount: f64, unit: impl Into<String>) -> Self {
        Self {
            amount,
            unit: unit.into(),
        }
    }

    /// The amount in base units with the parsed unit, or `None` if the unit is
    /// unknown or the amount is not finite.
    pub fn normalised(&self) -> Option<(f64, NormalUnit)> {
        if !self.amount.is_finite() {
            return None;
        }
        let unit = parse_quantity_unit(&self.unit)?;
        Some((unit.to_base(self.amount), unit))
    }

    /// The share of `need` that this quantity covers (1.0 = exactly, above 1
    /// = more than enough), or `None` if the units do not compare or `need`
    /// is not positive.
    pub fn coverage_of(&self, need: &Quantity) -> Option<f64> {
        let (have, have_unit) = self.normalised()?;
        let (want, want_unit) = need.normalised()?;
        (have_unit.is_comparable(&want_unit) && want > 0.0).then(|| have / want)
    }
}

/// A price or budget as written in a listing: an amount and a price unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub amount: f64,
    pub unit: String,
}

impl Price {
    pub fn new(amount: f64, unit: impl Into<String>) -> Self {
        Self {
            amount,
            unit: unit.into(),
        }
    }

    pub fn price_unit(&self) -> Option<PriceUnit> {
        parse_price_unit(&self.unit)
    }

    /// The price on the common basis, or `None` if the unit is unknown or the
    /// amount is not finite.
    pub fn normalised(&self) -> Option<NormalPrice> {
        if !self.amount.is_finite() {
            return None;
        }
        self.price_unit().map(|u| u.to_basis(self.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEV_LISTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev/listings.jsonl");

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    fn base_amount(text: &str) -> (f64, BaseUnit) {
        let (v, u) =
            parse_amount_with_unit(text).unwrap_or_else(|| panic!("{text:?} did not parse"));
        (v, u.base)
    }

    #[test]
    fn mass_spellings_agree() {
        for unit in ["吨", "t", "T", "公吨", " 吨 ", "ｔ"] {
            let u = parse_quantity_unit(unit).unwrap_or_else(|| panic!("{unit:?}"));
            assert_eq!(
                u,
                NormalUnit {
                    base: BaseUnit::Kilogram,
                    factor: 1000.0
                },
                "{unit:?}"
            );
        }
        for unit in ["公斤", "kg", "KG", "Kg", "千克", "ｋｇ"] {
            assert_eq!(
                parse_quantity_unit(unit).map(|u| u.factor),
                Some(1.0),
                "{unit:?}"
            );
        }
        assert_eq!(parse_quantity_unit("克").map(|u| u.factor), Some(0.001));
        assert_eq!(parse_quantity_unit("g").map(|u| u.factor), Some(0.001));
    }

    #[test]
    fn area_and_volume_spellings_agree() {
        for unit in ["平方米", "m²", "M²", "m2", "平米", "㎡", "平方", "ｍ２"] {
            assert_eq!(
                parse_quantity_unit(unit),
                Some(NormalUnit {
                    base: BaseUnit::SquareMetre,
                    factor: 1.0
                }),
                "{unit:?}"
            );
        }
        let mu = parse_quantity_unit("亩").expect("亩");
        assert_eq!(mu.base, BaseUnit::SquareMetre);
        assert!((mu.factor - 666.67).abs() < 0.01, "{}", mu.factor);
        for unit in ["立方", "立方米", "m³", "m3", "方", "㎥"] {
            assert_eq!(
                parse_quantity_unit(unit).map(|u| u.base),
                Some(BaseUnit::CubicMetre),
                "{unit:?}"
            );
        }
    }

    #[test]
    fn count_units_keep_their_noun() {
        let noun = |u: &str| match parse_quantity_unit(u).map(|n| n.base) {
            Some(BaseUnit::Count(n)) => n,
            other => panic!("{u:?} → {other:?}"),
        };
        for u in [
            "台", "套", "件", "个", "只", "人", "名", "车", "辆", "箱", "托", "卷", "桶", "包",
            "片",
        ] {
            assert_eq!(parse_quantity_unit(u).map(|n| n.factor), Some(1.0), "{u}");
        }
        // Workers and machines never compare…
        assert_ne!(noun("人"), noun("台"));
        assert_ne!(noun("车"), noun("箱"));
        assert_ne!(noun("托"), noun("个"));
        // …but interchangeable measure words do (5000只 boxes vs 2万个).
        assert_eq!(noun("只"), noun("个"));
        assert_eq!(noun("片"), noun("个"));
        assert_eq!(noun("件"), noun("个"));
        assert_eq!(noun("名"), noun("人"));
        assert_eq!(noun("辆"), noun("车"));
        assert_eq!(noun("套"), noun("台"));
    }

    #[test]
    fn money_units() {
        assert_eq!(
            parse_quantity_unit("元"),
            Some(NormalUnit {
                base: BaseUnit::Yuan,
                factor: 1.0
            })
        );
        assert_eq!(
            parse_quantity_unit("万元"),
            Some(NormalUnit {
                base: BaseUnit::Yuan,
                factor: 1e4
            })
        );
        assert_eq!(parse_quantity_unit("万 元").map(|u| u.factor), Some(1e4));
        // 万 alone is a number, not a unit.
        assert_eq!(parse_quantity_unit("万"), None);
    }

    #[test]
    fn unknown_units_are_none() {
        for unit in [
            "",
            "  ",
            "斗",
            "tons",
            "吨吨",
            "kg/m",
            "℃",
            "美元",
            "万万元",
            "千瓦",
        ] {
            assert_eq!(parse_quantity_unit(unit), None, "{unit:?}");
        }
    }

    #[test]
    fn every_dev_quantity_and_price_unit_parses() {
        let text = std::fs::read_to_string(DEV_LISTINGS)
            .unwrap_or_else(|e| panic!("{DEV_LISTINGS}: {e} (the labelled set ships in eval/dev)"));
        #[derive(Deserialize)]
        struct Row {
            key: String,
            quantity: Option<Quantity>,
            price: Option<Price>,
        }
        let mut checked = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: Row = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            if let Some(q) = &row.quantity {
                assert!(
                    q.normalised().is_some(),
                    "{}: quantity unit {:?}",
                    row.key,
                    q.unit
                );
                checked += 1;
            }
            if let Some(p) = &row.price {
                assert!(
                    p.normalised().is_some(),
                    "{}: price unit {:?}",
                    row.key,
                    p.unit
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} units checked");
    }

    #[test]
    fn amounts_in_many_spellings() {
        for text in [
            "2吨",
            "2 t",
            "2T",
            "2000公斤",
            "2000 kg",
            "２吨",
            "２ｔ",
            "  2\u{3000}吨 ",
            "2,000 kg",
            "0.0002万吨",
        ] {
            let (v, base) = base_amount(text);
            assert_eq!(base, BaseUnit::Kilogram, "{text}");
            assert!(close(v, 2000.0), "{text} → {v}");
        }
        for text in [
            "1500㎡",
            "1,500 m²",
            "1500平米",
            "1500 平方米",
            "１５００㎡",
            "0.15万平方米",
        ] {
            let (v, base) = base_amount(text);
            assert_eq!(base, BaseUnit::SquareMetre, "{text}");
            assert!(close(v, 1500.0), "{text} → {v}");
        }
        assert_eq!(base_amount("1.5万只"), (15000.0, BaseUnit::Count("个")));
        assert_eq!(base_amount("9万元"), (90000.0, BaseUnit::Yuan));
        assert_eq!(base_amount("1,234,567.5 元"), (1_234_567.5, BaseUnit::Yuan));
        assert_eq!(base_amount("3个月"), (90.0, BaseUnit::Day));
    }

    #[test]
    fn amount_unit_factor_is_the_written_unit() {
        let (v, unit) = parse_amount_with_unit("3 吨").expect("3 吨");
        assert_eq!(v, 3000.0);
        assert_eq!(unit.factor, 1000.0);
    }

    #[test]
    fn amounts_keep_sign_and_zero_for_the_caller() {
        assert_eq!(base_amount("0吨"), (0.0, BaseUnit::Kilogram));
        assert_eq!(base_amount("-2 t"), (-2000.0, BaseUnit::Kilogram));
        assert_eq!(base_amount("+2 t"), (2000.0, BaseUnit::Kilogram));
    }

    #[test]
    fn malformed_amounts_are_none() {
        for text in [
            "",
            "吨",
            "2",
            "2 吨吨",
            "两吨",
            "2吨左右",
            "约2吨",
            "2 tons",
            "2..5吨",
            "1,50 m²",
            "1500,000㎡",
            "2 斗",
            "2-3吨",
            "--2吨",
            "2万",
            "２，０００吨",
        ] {
            assert_eq!(parse_amount_with_unit(text), None, "{text:?}");
        }
    }

    #[test]
    fn price_units_from_the_data() {
        let p = |s: &str| parse_price_unit(s).unwrap_or_else(|| panic!("{s:?}"));
        let rent = p("元/平方米/月");
        assert_eq!(rent.money_factor, 1.0);
        assert_eq!(rent.per.map(|u| u.base), Some(BaseUnit::SquareMetre));
        assert_eq!(rent.period, Some(Period::Month));
        assert_eq!(p("元/㎡/天").period, Some(Period::Day));
        assert_eq!(p("元/㎡·月"), rent);
        assert_eq!(p("元 / 平米 / 月"), rent);
        assert_eq!(p("元／m²／月"), rent);
        assert_eq!(p("元/月/平方米"), rent);

        let per_tonne = p("元/吨");
        assert_eq!(
            per_tonne.per,
            Some(NormalUnit {
                base: BaseUnit::Kilogram,
                factor: 1000.0
            })
        );
        assert_eq!(per_tonne.period, None);
        assert_eq!(p("元/吨/天").period, Some(Period::Day));
        assert_eq!(
            p("元/台/天").per.map(|u| u.base),
            Some(BaseUnit::Count("台"))
        );
        assert_eq!(p("元/车").per.map(|u| u.base), Some(BaseUnit::Count("车")));
        assert_eq!(
            p("元/人/天").per.map(|u| u.base),
            Some(BaseUnit::Count("人"))
        );
        assert_eq!(p("元/次").per.map(|u| u.base), Some(BaseUnit::Count("次")));
        assert_eq!(p("元/件").per.map(|u| u.base), Some(BaseUnit::Count("个")));
        assert_eq!(
            p("元/公里").per,
            Some(NormalUnit {
                base: BaseUnit::Metre,
                factor: 1000.0
            })
        );

        let hourly = p("元/小时");
        assert_eq!((hourly.per, hourly.period), (None, Some(Period::Hour)));
        assert_eq!(p("元/月").period, Some(Period::Month));
        assert_eq!(
            p("万元"),
            PriceUnit {
                money_factor: 1e4,
                per: None,
                period: None
            }
        );
        assert_eq!(p("万").money_factor, 1e4);
        assert_eq!(
            p("元"),
            PriceUnit {
                money_factor: 1.0,
                per: None,
                period: None
            }
        );
    }

    #[test]
    fn malformed_price_units_are_none() {
        for unit in [
            "",
            "/吨",
            "吨/元",
            "元/",
            "元//吨",
            "元/吨/台",
            "元/天/月",
            "元/元",
            "元/斗",
            "美元/吨",
            "元/吨/天/台",
            "平方米",
            "元/天/小时",
        ] {
            assert_eq!(parse_price_unit(unit), None, "{unit:?}");
        }
    }

    #[test]
    fn prices_convert_to_a_common_basis() {
        let basis = |amount: f64, unit: &str| {
            Price::new(amount, unit)
                .normalised()
                .unwrap_or_else(|| panic!("{unit}"))
        };
        // 25 元/㎡/月 and 0.8 元/㎡/天 are both per m² per day.
        let monthly = basis(25.0, "元/平方米/月");
        let daily = basis(0.8, "元/㎡/天");
        assert!(monthly.is_comparable(&daily));
        assert!(close(monthly.yuan, 25.0 / 30.0));
        assert!(monthly.yuan > daily.yuan);
        // 8100 元/吨 and 24 元/公斤 are both per kg.
        let per_tonne = basis(8100.0, "元/吨");
        let per_kg = basis(24.0, "元/公斤");
        assert!(per_tonne.is_comparable(&per_kg));
        assert!(close(per_tonne.yuan, 8.1));
        assert!(per_kg.yuan > per_tonne.yuan);
        // Storage by tonne-day is not a one-off per-tonne price.
        let storage = basis(2.8, "元/吨/天");
        assert!(!storage.is_comparable(&per_tonne));
        assert!(close(storage.yuan, 0.0028));
        // Monthly and daily machine rent compare; lump sums stand alone.
        assert!(close(basis(3000.0, "元/台/月").yuan, 100.0));
        assert!(basis(3000.0, "元/台/月").is_comparable(&basis(500.0, "元/台/天")));
        let lump = basis(9.0, "万元");
        assert_eq!(
            lump,
            NormalPrice {
                yuan: 90000.0,
                per: None,
                per_day: false
            }
        );
        assert!(!lump.is_comparable(&basis(80.0, "元/小时")));
        // Hours are calendar time.
        assert!(close(basis(80.0, "元/小时").yuan, 80.0 * 24.0));
        assert!(basis(80.0, "元/小时").is_comparable(&basis(1500.0, "元/天")));
    }

    #[test]
    fn per_day_factor_follows_the_period() {
        let f = |u: &str| parse_price_unit(u).and_then(|p| p.per_day_factor());
        assert_eq!(f("元/天"), Some(1.0));
        assert_eq!(f("元/周"), Some(1.0 / 7.0));
        assert_eq!(f("元/月"), Some(1.0 / 30.0));
        assert_eq!(f("元/年"), Some(1.0 / 365.0));
        assert_eq!(f("元/小时"), Some(24.0));
        assert_eq!(f("元/吨"), None);
        assert_eq!(f("万元"), None);
    }

    #[test]
    fn non_finite_amounts_do_not_normalise() {
        assert_eq!(Quantity::new(f64::NAN, "吨").normalised(), None);
        assert_eq!(Price::new(f64::INFINITY, "元").normalised(), None);
        assert_eq!(Quantity::new(2.0, "斗").normalised(), None);
    }

    #[test]
    fn coverage_compares_only_like_units() {
        let have = Quantity::new(3000.0, "公斤");
        assert_eq!(have.coverage_of(&Quantity::new(3.0, "吨")), Some(1.0));
        assert_eq!(
            Quantity::new(5000.0, "只").coverage_of(&Quantity::new(2.0, "万个")),
            Some(0.25)
        );
        assert_eq!(
            Quantity::new(2.0, "台").coverage_of(&Quantity::new(2.0, "人")),
            None
        );
        assert_eq!(have.coverage_of(&Quantity::new(0.0, "吨")), None);
        assert_eq!(have.coverage_of(&Quantity::new(3.0, "斗")), None);
    }

    #[test]
    fn quantity_and_price_serde_shape() {
        let q: Quantity =
            serde_json::from_str(r#"{"amount": 1500, "unit": "吨"}"#).expect("quantity");
        assert_eq!(q, Quantity::new(1500.0, "吨"));
        let p: Price =
            serde_json::from_str(r#"{"amount": 2.8, "unit": "元/吨/天"}"#).expect("price");
        assert_eq!(
            serde_json::to_value(&p).expect("ser"),
            serde_json::json!({"amount": 2.8, "unit": "元/吨/天"})
        );
    }

    #[test]
    fn finds_amounts_in_free_text() {
        let bases = |text: &str| -> Vec<(f64, BaseUnit)> {
            find_amounts(text)
                .into_iter()
                .map(|(v, u)| (v, u.base))
                .collect()
        };
        assert_eq!(
            bases("PP共聚K8003 注塑级 现货10t"),
            [(10_000.0, BaseUnit::Kilogram)]
        );
        assert_eq!(
            bases("PP拉丝编织袋 库存3万条，可拆零"),
            [(30_000.0, BaseUnit::Count("个"))]
        );
        assert_eq!(bases("有海天MA3800两台，月产能还有余量"), []);
        assert_eq!(
            bases("757白料水口 粉碎好的 3吨左右"),
            [(3000.0, BaseUnit::Kilogram)]
        );
        assert_eq!(
            bases("二手塑料托盘 1200×1000 川字 500片，单价45元"),
            [(500.0, BaseUnit::Count("个")), (45.0, BaseUnit::Yuan)]
        );
        assert_eq!(bases("-25℃低温库，2026年12月起租3个月，4小时出报告"), []);
        assert_eq!(
            bases("双桥拖头每天5车，2 tons"),
            [(5.0, BaseUnit::Count("车"))]
        );
        // A full-width comma is punctuation, so the amounts stay apart.
        assert_eq!(
            bases("库存200，500吨也行"),
            [(500_000.0, BaseUnit::Kilogram)]
        );
        assert_eq!(
            bases("厂房1,200 ㎡，层高9米"),
            [(1200.0, BaseUnit::SquareMetre), (9.0, BaseUnit::Metre)]
        );
        assert_eq!(bases("2-3吨"), [(3000.0, BaseUnit::Kilogram)]);
        assert_eq!(bases("v1.5吨"), []);
        assert_eq!(bases(""), []);
    }

    proptest! {
        #[test]
        fn tonnes_and_kilograms_agree(cents in 0u64..100_000_000) {
            let tonnes = cents as f64 / 100.0;
            let (a, ua) = parse_amount_with_unit(&format!("{tonnes}吨")).expect("tonnes");
            let (b, ub) = parse_amount_with_unit(&format!("{} kg", tonnes * 1000.0)).expect("kg");
            prop_assert!(ua.is_comparable(&ub));
            prop_assert!(close(a, b), "{} vs {}", a, b);
        }

        #[test]
        fn thousands_separators_do_not_change_the_value(n in 0u64..10_000_000_000) {
            let plain = n.to_string();
            let grouped = plain
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(",");
            let a = parse_amount_with_unit(&format!("{plain} m²")).map(|(v, _)| v);
            let b = parse_amount_with_unit(&format!("{grouped} m²")).map(|(v, _)| v);
            prop_assert_eq!(a, Some(n as f64));
            prop_assert_eq!(b, Some(n as f64));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,12}") {
            let _ = parse_amount_with_unit(&s);
            let _ = parse_quantity_unit(&s);
            let _ = parse_price_unit(&s);
            let _ = find_amounts(&s);
        }
    }
}
