//! Text helpers: numbers, dates, unit spellings and the description builder.

use std::fmt::Write as _;

use zhiqilian_matcher::Urgency;

use crate::rng::Rng;

/// Day 0 of the data: listings are written as of 2026-11-20.
pub const BASE: (i32, u32, u32) = (2026, 11, 20);

/// An amount with a unit as written in a listing (`quantity` or `price`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    pub amount: f64,
    pub unit: &'static str,
}

impl Amount {
    pub fn new(amount: f64, unit: &'static str) -> Self {
        Self {
            amount: round2(amount),
            unit,
        }
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A number as people write it: no trailing zeros, at most two decimals.
pub fn num(x: f64) -> String {
    let x = round2(x);
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Small counts in Chinese numerals (两台, 三名), larger ones in digits.
pub fn cn(n: i64) -> String {
    const WORDS: [&str; 11] = [
        "零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十",
    ];
    match usize::try_from(n) {
        Ok(i) if (1..=10).contains(&i) => WORDS[i].to_string(),
        _ => n.to_string(),
    }
}

/// `n` in digits or (sometimes, when small) in Chinese numerals.
pub fn count(r: &mut Rng, n: i64) -> String {
    if (1..=10).contains(&n) && r.chance(0.35) {
        cn(n)
    } else {
        n.to_string()
    }
}

// ---- dates ---------------------------------------------------------------

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (y + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// The civil date `off` days after 2026-11-20.
pub fn ymd(off: i32) -> (i32, u32, u32) {
    civil_from_days(days_from_civil(BASE.0, BASE.1, BASE.2) + i64::from(off))
}

/// Appends `YYYY-MM-DD` for day `off`.
pub fn push_date(out: &mut Vec<u8>, off: i32) {
    let (y, m, d) = ymd(off);
    let _ = std::io::Write::write_fmt(out, format_args!("{y:04}-{m:02}-{d:02}"));
}

pub fn date_string(off: i32) -> String {
    let (y, m, d) = ymd(off);
    format!("{y:04}-{m:02}-{d:02}")
}

/// How a date is said in a post: 12月5号, 12月5日, 明天, 下周一 …
pub fn say_date(r: &mut Rng, off: i32) -> String {
    match off {
        0 if r.chance(0.7) => "今天".into(),
        1 if r.chance(0.7) => "明天".into(),
        2 if r.chance(0.5) => "后天".into(),
        _ => {
            let (y, m, d) = ymd(off);
            let day = if r.chance(0.5) { "号" } else { "日" };
            if y > BASE.0 && r.chance(0.3) {
                format!("明年{m}月{d}{day}")
            } else {
                format!("{m}月{d}{day}")
            }
        }
    }
}

/// A month said loosely (12月, 明年3月, 春节后).
pub fn say_month(off: i32) -> String {
    let (y, m, _) = ymd(off);
    if y > BASE.0 {
        format!("明年{m}月")
    } else {
        format!("{m}月")
    }
}

// ---- units ---------------------------------------------------------------

/// A mass in tonnes as a `quantity`: 吨, t, 公斤 or kg.
pub fn mass_qty(r: &mut Rng, t: f64) -> Amount {
    let u = r.below(100);
    if t <= 30.0 && u < 14 {
        Amount::new(t * 1000.0, "公斤")
    } else if t <= 30.0 && u < 22 {
        Amount::new(t * 1000.0, "kg")
    } else if u < 45 {
        Amount::new(t, "t")
    } else {
        Amount::new(t, "吨")
    }
}

/// A mass in tonnes as written in text: 20吨, 20t, 20 t, 20000公斤, 2万公斤.
pub fn mass_text(r: &mut Rng, t: f64) -> String {
    let u = r.below(100);
    if t <= 10.0 && u < 15 {
        format!("{}公斤", num(t * 1000.0))
    } else if t <= 5.0 && u < 22 {
        format!("{}kg", num(t * 1000.0))
    } else if u < 40 {
        format!("{}t", num(t))
    } else if u < 47 {
        format!("{} t", num(t))
    } else if u < 52 {
        format!("{}T", num(t))
    } else {
        format!("{}吨", num(t))
    }
}

const AREA_UNITS: &[(&str, u32)] = &[
    ("平方米", 40),
    ("平米", 22),
    ("m²", 14),
    ("㎡", 14),
    ("平方", 10),
];

pub fn area_qty(r: &mut Rng, m2: f64) -> Amount {
    Amount::new(m2, r.weighted(AREA_UNITS))
}

pub fn area_text(r: &mut Rng, m2: f64) -> String {
    let unit = r.pick(&["平", "平米", "平方", "㎡", "m²", "平方米", "平", "方"]);
    // 方 is a cubic metre in trade talk; never use it for area.
    let unit = if unit == "方" { "平" } else { unit };
    format!("{}{unit}", num(m2))
}

/// Monthly rent per square metre in one of its spellings, sometimes per day.
pub fn rent_price(r: &mut Rng, per_month: f64) -> Amount {
    match r.below(100) {
        0..=59 => Amount::new(per_month, "元/平方米/月"),
        60..=69 => Amount::new(per_month, "元/㎡/月"),
        70..=77 => Amount::new(per_month, "元/平米/月"),
        78..=84 => Amount::new(per_month, "元/m²/月"),
        _ => Amount::new(round2(per_month / 30.0), "元/平方米/天"),
    }
}

// ---- descriptions --------------------------------------------------------

/// Builds a description from clauses: `must` clauses always (while they fit),
/// optional ones when there is room, then punctuation, to 20–120 characters.
#[derive(Debug, Default)]
pub struct Desc {
    must: Vec<String>,
    opt: Vec<String>,
}

pub const DESC_MIN: usize = 20;
pub const DESC_MAX: usize = 120;

const FILLERS: &[&str] = &[
    "有需要的请联系",
    "欢迎来电咨询",
    "价格面议",
    "可开专票",
    "诚信合作",
    "详情电话沟通",
    "可以先来现场看",
    "长期有效",
    "同园区优先",
];

const URGENT: &[&str] = &["比较急", "越快越好", "尽快", "急用", "这周内就要"];
const URGENT_OFFER: &[&str] = &["先到先得", "急转", "尽快处理", "量有限，要的抓紧"];
const EMERGENCY_OFFER: &[&str] = &["随叫随到", "24小时待命", "今天就能到位"];
const EMERGENCY: &[&str] = &[
    "今天就要",
    "十万火急",
    "请速联系",
    "24小时内要到位",
    "越快越好",
];

impl Desc {
    pub fn new() -> Self {
        Self::default()
    }

    /// A clause that should appear.
    pub fn m(&mut self, s: impl Into<String>) -> &mut Self {
        self.must.push(s.into());
        self
    }

    /// A clause that may appear if there is room (and by chance).
    pub fn o(&mut self, s: impl Into<String>) -> &mut Self {
        self.opt.push(s.into());
        self
    }

    pub fn finish(self, r: &mut Rng, urgency: Urgency, offer: bool) -> String {
        let mut out = String::with_capacity(384);
        let mut n = 0usize;
        let room = DESC_MAX - 4;
        let push = |out: &mut String, n: &mut usize, part: &str, sep: char| {
            let pn = part.chars().count();
            if *n > 0 {
                if *n + 1 + pn > room {
                    return false;
                }
                out.push(sep);
                *n += 1;
            }
            out.push_str(part);
            *n += pn;
            true
        };
        for part in &self.must {
            if !push(&mut out, &mut n, part, '，') {
                break;
            }
        }
        let urgent_word = match (urgency, offer) {
            (Urgency::Normal, _) => None,
            (Urgency::Urgent, false) => Some(r.pick(URGENT)),
            (Urgency::Emergency, false) => Some(r.pick(EMERGENCY)),
            (Urgency::Urgent, true) => Some(r.pick(URGENT_OFFER)),
            (Urgency::Emergency, true) => Some(r.pick(EMERGENCY_OFFER)),
        };
        if let Some(w) = urgent_word
            && !out.contains('急')
        {
            push(&mut out, &mut n, w, '，');
        }
        for part in &self.opt {
            if r.chance(0.7) {
                let sep = if r.chance(0.12) { '；' } else { '，' };
                push(&mut out, &mut n, part, sep);
            }
        }
        while n < DESC_MIN {
            let f = r.pick(FILLERS);
            if !push(&mut out, &mut n, f, '，') {
                break;
            }
        }
        if n > DESC_MAX - 1 {
            // Only a single over-long clause gets here; cut it.
            out = out.chars().take(DESC_MAX - 1).collect();
        }
        let end = if urgency == Urgency::Emergency {
            '！'
        } else {
            '。'
        };
        let last = out.chars().last();
        if !matches!(last, Some('。' | '！' | '？' | '）' | ')')) {
            out.push(end);
        }
        out
    }
}

/// Appends `s` and a separator, for building titles piece by piece.
pub fn join(parts: &[&str]) -> String {
    let mut s = String::with_capacity(64);
    for (i, p) in parts.iter().filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(p);
    }
    s
}

/// `format!` into an existing string without the `Result` noise.
pub fn w(s: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = s.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_from_base() {
        assert_eq!(date_string(0), "2026-11-20");
        assert_eq!(date_string(11), "2026-12-01");
        assert_eq!(date_string(42), "2027-01-01");
        assert_eq!(date_string(-20), "2026-10-31");
        assert_eq!(date_string(101), "2027-03-01");
        assert_eq!(date_string(466), "2028-02-29");
    }

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(num(1500.0), "1500");
        assert_eq!(num(2.80), "2.8");
        assert_eq!(num(0.355), "0.36");
        assert_eq!(num(16.5), "16.5");
    }

    #[test]
    fn descriptions_stay_in_bounds() {
        let mut r = Rng::new(7);
        let mut d = Desc::new();
        d.m("短");
        let s = d.finish(&mut r, Urgency::Normal, true);
        let n = s.chars().count();
        assert!((DESC_MIN..=DESC_MAX).contains(&n), "{n}: {s}");
        let mut d = Desc::new();
        d.m("长".repeat(300));
        let s = d.finish(&mut r, Urgency::Emergency, false);
        let n = s.chars().count();
        assert!((DESC_MIN..=DESC_MAX).contains(&n), "{n}");
        assert!(s.ends_with('！'));
    }
}
