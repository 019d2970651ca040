//! Limits written in free text, read with their unit and their direction:
//! "整车30吨以内", "载重30吨", "限高4米", "不超过20吨", "最多15吨", "5吨以上",
//! "不少于10吨", "-18度以下", "8吨左右".
//!
//! A number in a listing is rarely a bare amount: posters bound it ("30吨以内"
//! is a ceiling, "5吨以上" a floor) and name what it bounds with a cue word
//! before it (载重 = the load a vehicle carries, 限高 = the height that
//! passes). Reading the bound matters wherever a spec is compared with a
//! need: an offer "25吨以内" carries up to 25 t, a request "不少于10吨"
//! wants at least 10 t. The words are ordinary Chinese comparison words, not
//! terms of any park, so the reader carries to any park.
//!
//! Values are in base units of [`crate::units`] (kilograms, metres, m², m³,
//! counts) and degrees Celsius for temperatures.

use std::ops::Range;

use crate::units::{BaseUnit, Dimension, NormalUnit, amounts_in_folded, fold};

/// Which way a written number bounds the real value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The value is at most the number (以内, 以下, 不超过, 最多, 限 …).
    AtMost,
    /// The value is at least the number (以上, 不少于, 至少, 起 …).
    AtLeast,
    /// About the number (左右, 上下, 约, 大概).
    About,
    /// A plain number without a bounding word.
    Exact,
}

/// What a cue word before the number says is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Load of a vehicle or lifting gear (载重, 核载, 限重, 吨位, 承载).
    Load,
    /// Height that passes or is available (限高, 层高, 净高, 高度, 檐高).
    Height,
    /// Length (车长, 长度, 限长).
    Length,
    /// Width (限宽, 宽度).
    Width,
    /// Volume (容积, 体积, 方量).
    Volume,
    /// Temperature (温度, 温控, 控温).
    Temperature,
}

/// What a limit measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// An amount with a unit of [`crate::units`]; the value is in its base unit.
    Amount(BaseUnit),
    /// Degrees Celsius (℃, °C, and 度 after a minus sign or 零下).
    Celsius,
}

/// One bounded number read from text.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// The number in the base unit of `measure`.
    pub value: f64,
    pub measure: Measure,
    pub bound: Bound,
    /// The cue word before it, if any.
    pub cue: Option<Cue>,
}

impl Limit {
    /// Whether a capacity or spec of `have` (same measure) satisfies this
    /// limit read as a need: at least the number for [`Bound::AtLeast`],
    /// [`Bound::Exact`] and [`Bound::About`] (within `about_slack`, a share),
    /// and always for [`Bound::AtMost`] (the need is no more than the number,
    /// so any `have` may do; only the soft factors judge it).
    pub fn met_by(&self, have: f64, about_slack: f64) -> bool {
        match self.bound {
            Bound::AtMost => true,
            Bound::AtLeast | Bound::Exact => have + 1e-9 >= self.value,
            Bound::About => have + 1e-9 >= self.value * (1.0 - about_slack),
        }
    }
}

/// Words after a number that make it a ceiling. Longest first where one is
/// the start of another.
const AT_MOST_AFTER: &[&str] = &[
    "及以下",
    "以内",
    "以下",
    "之内",
    "之下",
    "封顶",
    "为限",
    "内",
];
/// Words after a number that make it a floor.
const AT_LEAST_AFTER: &[&str] = &["及以上", "以上", "起步", "起", "打底"];
/// Words after a number that make it approximate.
const ABOUT_AFTER: &[&str] = &["左右", "上下", "出头"];

/// Words before a number that make it a ceiling (不超过30吨, 最多15吨, 限30吨).
const AT_MOST_BEFORE: &[&str] = &[
    "不超过",
    "不超",
    "不大于",
    "不高于",
    "不多于",
    "最多",
    "最大",
    "至多",
    "顶多",
    "小于",
    "低于",
    "少于",
    "限",
];
/// Words before a number that make it a floor (不少于10吨, 至少5米).
const AT_LEAST_BEFORE: &[&str] = &[
    "不少于",
    "不低于",
    "不小于",
    "不短于",
    "至少",
    "最少",
    "起码",
    "大于",
    "高于",
    "超过",
];
/// Words before a number that make it approximate.
const ABOUT_BEFORE: &[&str] = &["大约", "大概", "约", "差不多"];

/// Cue words before a number, with what they limit. A cue that starts with
/// 限 (限高, 限重) is also a ceiling: the limit of what passes or may load.
const CUES: &[(&str, Cue)] = &[
    ("载重", Cue::Load),
    ("载货", Cue::Load),
    ("核载", Cue::Load),
    ("限重", Cue::Load),
    ("限载", Cue::Load),
    ("吨位", Cue::Load),
    ("承载", Cue::Load),
    ("承重", Cue::Load),
    ("起重", Cue::Load),
    ("载", Cue::Load),
    ("限高", Cue::Height),
    ("层高", Cue::Height),
    ("净高", Cue::Height),
    ("檐高", Cue::Height),
    ("高度", Cue::Height),
    ("车长", Cue::Length),
    ("限长", Cue::Length),
    ("长度", Cue::Length),
    ("限宽", Cue::Width),
    ("宽度", Cue::Width),
    ("容积", Cue::Volume),
    ("体积", Cue::Volume),
    ("方量", Cue::Volume),
    ("温度", Cue::Temperature),
    ("温控", Cue::Temperature),
    ("控温", Cue::Temperature),
];

/// Characters looked back over for a bounding or cue word: a few, so a word
/// in another clause is not taken ("载重30吨，限高4米" reads each on its own).
const LOOK_BACK_CHARS: usize = 6;

/// The text right before byte `at`, at most [`LOOK_BACK_CHARS`] characters,
/// not crossing punctuation or another number.
fn before(folded: &str, at: usize) -> &str {
    let mut start = at;
    for (n, (i, c)) in folded[..at].char_indices().rev().enumerate() {
        if n >= LOOK_BACK_CHARS || !(crate::text::is_cjk(c) || c == ' ') {
            break;
        }
        start = i;
    }
    folded[start..at].trim()
}

/// The bound a number has from the words around it: after it first (30吨以内),
/// then before it (不超过30吨), else [`Bound::Exact`].
fn bound_of(before: &str, after: &str) -> Bound {
    let after = after.trim_start();
    // A one-character word (内, 起) counts only when no further CJK character
    // glues it into another word: "3吨内" is a ceiling, "3吨内燃叉车" is not;
    // "10吨起" is a floor, "5吨起重机" is not.
    let starts = |words: &[&str]| {
        words.iter().any(|w| {
            after.strip_prefix(w).is_some_and(|rest| {
                w.chars().count() > 1
                    || !rest
                        .chars()
                        .next()
                        .is_some_and(|c| crate::text::is_cjk(c) && c != '的')
            })
        })
    };
    if starts(AT_MOST_AFTER) {
        return Bound::AtMost;
    }
    if starts(AT_LEAST_AFTER) {
        return Bound::AtLeast;
    }
    if starts(ABOUT_AFTER) {
        return Bound::About;
    }
    // Before: strip a trailing cue word first (最大载重30吨, 限高4米).
    let mut head = before;
    if let Some((word, _)) = CUES.iter().find(|(w, _)| head.ends_with(w)) {
        if word.starts_with('限') {
            return Bound::AtMost;
        }
        head = &head[..head.len() - word.len()];
    }
    let head = head.trim_end_matches(['为', '是', ':', '：', ' ']);
    // The longest word wins, so 不超过 (a ceiling) is not read as 超过 (a
    // floor), nor 不高于 as 高于.
    [
        (AT_MOST_BEFORE, Bound::AtMost),
        (AT_LEAST_BEFORE, Bound::AtLeast),
        (ABOUT_BEFORE, Bound::About),
    ]
    .iter()
    .flat_map(|(words, bound)| {
        words
            .iter()
            .filter(|w| head.ends_with(**w))
            .map(move |w| (w.len(), *bound))
    })
    .max_by_key(|(len, _)| *len)
    .map_or(Bound::Exact, |(_, bound)| bound)
}

/// The cue word right before a number (载重30吨, 最大载重30吨, 限高4.5米).
fn cue_of(before: &str) -> Option<Cue> {
    let head = before.trim_end_matches(['为', '是', ':', '：', ' ']);
    // Bound words may stand between the cue and the number (载重不超过30吨).
    // The longest such word is stripped (不少于, not its tail 少于).
    let bound_word = [AT_MOST_BEFORE, AT_LEAST_BEFORE, ABOUT_BEFORE]
        .iter()
        .flat_map(|words| words.iter())
        .filter(|w| head.ends_with(**w))
        .max_by_key(|w| w.len());
    let head = bound_word.map_or(head, |w| &head[..head.len() - w.len()]);
    CUES.iter()
        .find(|(w, _)| head.ends_with(w))
        .map(|(_, c)| *c)
}

/// Every amount with a unit in `text` (see [`crate::units::find_amounts`]),
/// with its bound and cue.
pub fn limits(text: &str) -> Vec<Limit> {
    let folded = fold(text);
    let mut out: Vec<Limit> = amounts_in_folded(&folded)
        .into_iter()
        .map(|(value, unit, span): (f64, NormalUnit, Range<usize>)| {
            let pre = before(&folded, span.start);
            Limit {
                value,
                measure: Measure::Amount(unit.base),
                bound: bound_of(pre, &folded[span.end..]),
                cue: cue_of(pre),
            }
        })
        .collect();
    out.extend(temperature_limits(&folded));
    out
}

/// Temperatures with their bound: "-18度以下" and "-18℃以下" are ceilings
/// (as cold or colder), "零下18度" is exact, "0-4℃" gives both ends exactly.
fn temperature_limits(folded: &str) -> Vec<Limit> {
    let mut out = Vec::new();
    for (value, span) in crate::extract::temperature_spans(folded) {
        let pre = before(folded, span.start);
        out.push(Limit {
            value,
            measure: Measure::Celsius,
            bound: bound_of(pre, &folded[span.end..]),
            cue: Some(Cue::Temperature),
        });
    }
    out
}

/// The limits of `text` on `dimension`, optionally only those with cue `cue`.
pub fn limits_of(text: &str, dimension: Dimension, cue: Option<Cue>) -> Vec<Limit> {
    limits(text)
        .into_iter()
        .filter(|l| matches!(l.measure, Measure::Amount(b) if b.dimension() == dimension))
        .filter(|l| cue.is_none() || l.cue == cue)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (f64, Bound, Option<Cue>) {
        let found = limits(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        (found[0].value, found[0].bound, found[0].cue)
    }

    #[test]
    fn ceilings() {
        assert_eq!(one("整车30吨以内"), (30_000.0, Bound::AtMost, None));
        assert_eq!(one("货重25吨以下"), (25_000.0, Bound::AtMost, None));
        assert_eq!(one("不超过20吨"), (20_000.0, Bound::AtMost, None));
        assert_eq!(one("最多15吨"), (15_000.0, Bound::AtMost, None));
        assert_eq!(one("单件3吨内"), (3_000.0, Bound::AtMost, None));
        assert_eq!(one("限高4米"), (4.0, Bound::AtMost, Some(Cue::Height)));
        assert_eq!(one("限重49吨"), (49_000.0, Bound::AtMost, Some(Cue::Load)));
        assert_eq!(
            one("载重不超过30吨"),
            (30_000.0, Bound::AtMost, Some(Cue::Load))
        );
        assert_eq!(
            one("载重不少于30吨"),
            (30_000.0, Bound::AtLeast, Some(Cue::Load))
        );
    }

    #[test]
    fn floors() {
        assert_eq!(one("5吨以上"), (5_000.0, Bound::AtLeast, None));
        assert_eq!(one("不少于10吨"), (10_000.0, Bound::AtLeast, None));
        assert_eq!(one("至少200平"), (200.0, Bound::AtLeast, None));
        assert_eq!(one("层高8米以上"), (8.0, Bound::AtLeast, Some(Cue::Height)));
        assert_eq!(one("10吨起"), (10_000.0, Bound::AtLeast, None));
    }

    #[test]
    fn cues_plain_and_approximate() {
        assert_eq!(one("载重30吨"), (30_000.0, Bound::Exact, Some(Cue::Load)));
        // A vehicle's greatest load is the ceiling of what it carries.
        assert_eq!(
            one("最大载重32吨"),
            (32_000.0, Bound::AtMost, Some(Cue::Load))
        );
        assert_eq!(one("每车10吨左右"), (10_000.0, Bound::About, None));
        assert_eq!(one("约8吨"), (8_000.0, Bound::About, None));
        assert_eq!(one("容积55方"), (55.0, Bound::Exact, Some(Cue::Volume)));
        // One-character words glued into another word bound nothing.
        assert_eq!(one("3吨内燃叉车").1, Bound::Exact);
        assert_eq!(one("5吨起重机").1, Bound::Exact);
        // Kilograms are converted; the bound still applies.
        assert_eq!(one("500公斤以内"), (500.0, Bound::AtMost, None));
    }

    #[test]
    fn each_number_reads_its_own_words() {
        let found = limits("载重30吨，限高4米，200平以上");
        let got: Vec<_> = found.iter().map(|l| (l.value, l.bound, l.cue)).collect();
        assert_eq!(
            got,
            [
                (30_000.0, Bound::Exact, Some(Cue::Load)),
                (4.0, Bound::AtMost, Some(Cue::Height)),
                (200.0, Bound::AtLeast, None),
            ]
        );
        // 超过 inside 不超过 is no floor.
        assert_eq!(one("不超过5吨").1, Bound::AtMost);
        assert_eq!(one("超过5吨").1, Bound::AtLeast);
    }

    #[test]
    fn temperatures_with_bounds() {
        let t = |text: &str| -> Vec<(f64, Bound)> {
            limits(text)
                .into_iter()
                .filter(|l| l.measure == Measure::Celsius)
                .map(|l| (l.value, l.bound))
                .collect()
        };
        assert_eq!(t("需要-18度以下冷冻"), [(-18.0, Bound::AtMost)]);
        assert_eq!(t("-18℃以下"), [(-18.0, Bound::AtMost)]);
        assert_eq!(t("零下18度"), [(-18.0, Bound::Exact)]);
        assert_eq!(t("0-4℃冷藏"), [(0.0, Bound::Exact), (4.0, Bound::Exact)]);
        assert_eq!(t("温度不高于8℃"), [(8.0, Bound::AtMost)]);
    }

    #[test]
    fn filters_by_dimension_and_cue() {
        let text = "13米高栏，载重32吨，限高4.2米，货重30吨以内";
        let loads = limits_of(text, Dimension::Mass, Some(Cue::Load));
        assert_eq!(loads.len(), 1);
        assert_eq!(loads[0].value, 32_000.0);
        assert_eq!(limits_of(text, Dimension::Mass, None).len(), 2);
        let heights = limits_of(text, Dimension::Length, Some(Cue::Height));
        assert_eq!(heights[0].value, 4.2);
    }

    #[test]
    fn met_by_follows_the_bound() {
        let need = |text: &str| limits(text).remove(0);
        assert!(need("不少于10吨").met_by(10_000.0, 0.1));
        assert!(!need("不少于10吨").met_by(9_000.0, 0.1));
        assert!(need("10吨左右").met_by(9_500.0, 0.1));
        assert!(!need("10吨左右").met_by(8_000.0, 0.1));
        assert!(need("10吨以内").met_by(5_000.0, 0.1));
    }
}
