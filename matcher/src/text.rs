//! Text helpers for scoring: folding, synonym canonicalisation, attribute similarity and token overlap.
//!
//! The search index owns the full synonym list used for retrieval. Scoring
//! only needs to recognise that two attribute values name the same thing
//! (啤机 = 注塑机), so this module keeps a short built-in table of the jargon
//! posters swap most often. Near-misses a broker must tell apart (口罩 vs
//! 口罩机, 叉车 vs 叉车维修) stay in different groups or in none.

use std::collections::HashSet;

use crate::units::fold;

/// Synonym groups in folded form (ASCII lower case). The first term of a
/// group is its canonical spelling; every other term is rewritten to it.
const SYNONYM_GROUPS: &[&[&str]] = &[
    // equipment
    &["叉车", "铲车", "堆高车", "叉式装卸车"],
    &["注塑机", "啤机", "注射成型机", "注塑成型机"],
    &[
        "加工中心",
        "立加",
        "立式加工中心",
        "数控加工中心",
        "cnc加工中心",
    ],
    &["空压机", "空气压缩机", "气泵"],
    &["汽车吊", "吊车", "汽车起重机"],
    &["冲床", "冲压机"],
    &["行车", "天车", "航吊", "桥式起重机"],
    &["口罩机", "口罩生产线"],
    &["核酸检测设备", "荧光定量pcr仪", "qpcr仪"],
    // material
    &["adc12", "yl113", "日标12#"],
    &["托盘", "栈板", "卡板"],
    &["t30s", "拉丝级均聚pp", "拉丝级pp", "拉丝级聚丙烯"],
    &["pp", "聚丙烯"],
    &["再生料", "回料", "回收料", "二次料"],
    &["二保焊丝", "气保焊丝"],
    // space
    &["厂房", "车间", "标准厂房", "生产车间"],
    &["仓库", "库房"],
    &["冷冻库", "低温库", "速冻库"],
    &["危化品仓库", "危险品仓库"],
    // logistics
    &["冷藏车", "冷链车", "冷藏货车"],
    &["集卡", "集装箱卡车", "拖头", "牵引车"],
    &["厢式货车", "厢车", "箱车", "厢式车"],
    &["危化品", "危险品", "危险化学品", "危货"],
    &["冻品", "冷冻品", "冻货"],
    // workforce
    &["普工", "操作工", "作业员", "生产工人"],
    &["叉车工", "叉车司机", "铲车司机"],
    &["焊工", "电焊工", "焊接工"],
    &[
        "二保焊",
        "co2气保焊",
        "气保焊",
        "co2保护焊",
        "二氧化碳气体保护焊",
    ],
    &["注塑工", "啤工"],
    &["质检员", "品检", "检验员", "qc"],
    &["装卸工", "搬运工"],
    // service
    &["代加工", "来料加工", "外协加工", "委外加工", "代工"],
    &["cnc加工", "数控加工", "机加工"],
    &["设备维修", "机修", "设备维护"],
    &["核酸检测", "核酸筛查"],
    &["消杀", "消毒"],
];

/// Bigrams that occur in almost every listing and say nothing about the item.
const STOP_BIGRAMS: &[&str] = &[
    "出租", "求租", "出售", "求购", "需要", "急需", "提供", "寻求", "长期", "公司", "有限", "我司",
    "本司", "欢迎", "联系", "面议", "可以", "现有", "一批", "若干",
];

/// CJK unified ideographs (basic block and extension A).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Folded text without any whitespace: "海天 MA2500" → "海天ma2500".
pub(crate) fn compact(s: &str) -> String {
    fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether `term` may be read at this spot: a Latin term must not be glued to
/// further Latin letters or digits, so "pp" is not found inside "ppr".
fn boundary_ok(term: &str, before: Option<char>, after: Option<char>) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let starts_latin = term
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ends_latin = term
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let glued = (starts_latin && alnum(before)) || (ends_latin && alnum(after));
    !glued
}

/// The longest synonym term at the start of `rest`: its byte length and the
/// index of its group.
fn longest_term(rest: &str, before: Option<char>) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for (g, group) in SYNONYM_GROUPS.iter().enumerate() {
        for term in group.iter() {
            if rest.starts_with(term)
                && boundary_ok(term, before, rest[term.len()..].chars().next())
                && best.is_none_or(|(len, _)| term.len() > len)
            {
                best = Some((term.len(), g));
            }
        }
    }
    best
}

/// Folds `s`, drops whitespace and rewrites every synonym to its group's
/// canonical term (啤机 → 注塑机, 栈板 → 托盘), longest term first.
pub(crate) fn canonical(s: &str) -> String {
    let text = compact(s);
    let mut out = String::with_capacity(text.len());
    let mut before = None;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if let Some((len, g)) = longest_term(&text[i..], before) {
            out.push_str(SYNONYM_GROUPS[g][0]);
            before = text[i..i + len].chars().next_back();
            i += len;
        } else {
            out.push(c);
            before = Some(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Indices of synonym groups whose canonical term occurs in `canon` (an
/// output of [`canonical`]).
fn group_heads(canon: &str) -> HashSet<usize> {
    SYNONYM_GROUPS
        .iter()
        .enumerate()
        .filter(|(_, g)| canon.contains(g[0]))
        .map(|(i, _)| i)
        .collect()
}

/// Whether two canonical texts name a common synonym head (叉车, 空压机 …).
pub(crate) fn shares_head(a: &str, b: &str) -> bool {
    !group_heads(a).is_disjoint(&group_heads(b))
}

/// Character bigrams of a compact text (a single character counts as one).
fn char_bigrams(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    match chars.len() {
        0 => HashSet::new(),
        1 => HashSet::from([(chars[0], chars[0])]),
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    }
}

/// Whether `needle` (canonical, at least two characters) occurs in `haystack` (canonical).
pub(crate) fn contains_canonical(haystack: &str, needle: &str) -> bool {
    needle.chars().count() >= 2 && haystack.contains(needle)
}

/// Words that end many compound names without saying what the thing is
/// (液压维修 and 电机维修 share 维修 but not a trade): a shared ending made
/// of one of these is no shared head noun.
const GENERIC_HEADS: &[&str] = &[
    "维修",
    "修理",
    "检修",
    "检测",
    "检验",
    "加工",
    "代工",
    "服务",
    "出租",
    "出售",
    "运输",
    "安装",
    "保养",
    "工程",
    "设备",
    "生产线",
    "专线",
    "司机",
];

/// The characters two canonical values end with in common (their head
/// noun: 液压板料折弯机 and 数控折弯机 end with 折弯机), when that is two or
/// more characters and not a [`GENERIC_HEADS`] word.
fn shared_head(a: &str, b: &str) -> Option<String> {
    let tail: Vec<char> = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    let head: String = tail.into_iter().rev().collect();
    (head.chars().count() >= 2 && !GENERIC_HEADS.contains(&head.as_str())).then_some(head)
}

/// Length of the longest common subsequence of characters: 电机 is kept
/// whole in 电动机, 高强瓦楞纸 in 高强瓦楞原纸 (modifiers inserted, not appended).
fn common_subsequence(a: &[char], b: &[char]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    for x in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How well two free-text attribute values agree, in `[0, 1]`, without
/// needing a dictionary entry for either:
///
/// - 1.0 — equal after folding and synonyms (啤机 vs 注塑机);
/// - 0.8 — one contains the other (叉车 vs 电动叉车, 圆钢 vs 45#圆钢);
/// - 0.7 — both contain the same canonical head term (电动叉车 vs 前移式叉车),
///   or end in the same head noun of two or more characters (液压板料折弯机 vs
///   数控折弯机);
/// - otherwise the best of 0.75 × (common subsequence ÷ shorter length)²
///   (电动机修理 vs 电机维修) and 0.6 × the Dice coefficient of character bigrams.
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    let (ca, cb) = (canonical(a), canonical(b));
    if ca.is_empty() || cb.is_empty() {
        return 0.0;
    }
    if ca == cb {
        return 1.0;
    }
    let (short, long) = if ca.chars().count() <= cb.chars().count() {
        (&ca, &cb)
    } else {
        (&cb, &ca)
    };
    if contains_canonical(long, short) {
        return 0.8;
    }
    if !group_heads(&ca).is_disjoint(&group_heads(&cb)) || shared_head(&ca, &cb).is_some() {
        return 0.7;
    }
    let (ba, bb) = (char_bigrams(&ca), char_bigrams(&cb));
    let common = ba.intersection(&bb).count() as f64;
    let dice = 0.6 * 2.0 * common / (ba.len() + bb.len()).max(1) as f64;
    let (xa, xb): (Vec<char>, Vec<char>) = (
        ca.chars().filter(|c| c.is_alphanumeric()).collect(),
        cb.chars().filter(|c| c.is_alphanumeric()).collect(),
    );
    let shorter = xa.len().min(xb.len());
    let sequence = if shorter >= 2 {
        let r = common_subsequence(&xa, &xb) as f64 / shorter as f64;
        0.75 * r * r
    } else {
        0.0
    };
    dice.max(sequence)
}

/// Tokens for the fallback text relevance: character bigrams of CJK runs
/// (a lone character counts as itself) and whole ASCII alphanumeric runs
/// (model numbers like ma2500), after synonym canonicalisation, minus
/// [`STOP_BIGRAMS`].
pub(crate) fn tokens(s: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    // Whitespace separates fields (title, attribute values): no bigram spans it.
    for chunk in s.split_whitespace() {
        chunk_tokens(&canonical(chunk), &mut out);
    }
    out.retain(|t| !STOP_BIGRAMS.contains(&t.as_str()));
    out
}

fn chunk_tokens(canon: &str, out: &mut HashSet<String>) {
    let mut cjk_run: Vec<char> = Vec::new();
    let mut latin_run = String::new();
    let flush_cjk = |run: &mut Vec<char>, out: &mut HashSet<String>| {
        if run.len() == 1 {
            out.insert(run[0].to_string());
        }
        for w in run.windows(2) {
            out.insert(w.iter().collect());
        }
        run.clear();
    };
    let flush_latin = |run: &mut String, out: &mut HashSet<String>| {
        if !run.is_empty() {
            out.insert(std::mem::take(run));
        }
    };
    for c in canon.chars() {
        if is_cjk(c) {
            flush_latin(&mut latin_run, out);
            cjk_run.push(c);
        } else if c.is_ascii_alphanumeric() || c == '#' {
            flush_cjk(&mut cjk_run, out);
            latin_run.push(c);
        } else {
            flush_cjk(&mut cjk_run, out);
            flush_latin(&mut latin_run, out);
        }
    }
    flush_cjk(&mut cjk_run, out);
    flush_latin(&mut latin_run, out);
}

/// Share of the need's tokens that also occur in the offer's text, or `None`
/// when the need has no tokens. Recall rather than Jaccard, because an offer
/// that says more than the request asked for is not a worse fit.
pub(crate) fn token_overlap(need: &str, have: &str) -> Option<f64> {
    let need = tokens(need);
    if need.is_empty() {
        return None;
    }
    let have = tokens(have);
    Some(need.intersection(&have).count() as f64 / need.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_fold_to_one_spelling() {
        assert_eq!(canonical("啤机"), "注塑机");
        assert_eq!(canonical("海天 啤机 MA2500"), "海天注塑机ma2500");
        assert_eq!(canonical("二手栈板"), "二手托盘");
        assert_eq!(canonical("YL113"), "adc12");
        assert_eq!(canonical("日标12#铝锭"), "adc12铝锭");
        // Longest term wins: 叉车司机 is a job, not a forklift.
        assert_eq!(canonical("叉车司机"), "叉车工");
        // Latin terms need word boundaries.
        assert_eq!(canonical("PPR管"), "ppr管");
        assert_eq!(canonical("PP粒子"), "pp粒子");
        // Near-misses stay apart.
        assert_ne!(canonical("口罩"), canonical("口罩机"));
    }

    #[test]
    fn similarity_grades() {
        assert_eq!(similarity("注塑机", "啤机"), 1.0);
        assert_eq!(similarity("叉车", "电动叉车"), 0.8);
        assert_eq!(similarity("电动叉车", "前移式叉车"), 0.7);
        assert_eq!(similarity("叉车", "铲车"), 1.0);
        assert!(similarity("注塑机", "空压机") < 0.5);
        assert_eq!(similarity("", "叉车"), 0.0);
        assert!(similarity("口罩", "口罩机") <= 0.8);
    }

    #[test]
    fn values_outside_the_dictionary_compare_by_head_noun_and_characters() {
        // Containment and shared head nouns, no synonym entry needed.
        assert_eq!(similarity("45#圆钢", "圆钢"), 0.8);
        assert_eq!(similarity("电动前移式叉车", "叉车"), 0.8);
        assert_eq!(similarity("液压板料折弯机", "数控折弯机"), 0.7);
        assert_eq!(similarity("全自动平压平模切机", "模切机"), 0.8);
        assert_eq!(similarity("空气能热泵烘干房", "果蔬烘干房"), 0.7);
        // Modifiers inserted inside a word.
        assert!(similarity("高强瓦楞原纸", "高强瓦楞纸") >= 0.7);
        assert!(similarity("电动机修理", "电机维修") >= 0.4);
        // A generic ending is no shared trade; a different head stays apart.
        assert!(
            similarity("液压维修", "电机维修") < 0.4,
            "{}",
            similarity("液压维修", "电机维修")
        );
        assert!(similarity("剪板机", "折弯机") < 0.4);
        assert!(similarity("食品检测", "无损检测") < 0.4);
        assert!(similarity("白卡纸", "瓦楞原纸") < 0.4);
        assert_eq!(
            shared_head("数控折弯机", "液压板料折弯机").as_deref(),
            Some("折弯机")
        );
        assert_eq!(shared_head("液压维修", "电机维修"), None);
    }

    #[test]
    fn token_overlap_is_recall_of_the_need() {
        let need = "叉车维修";
        assert_eq!(token_overlap(need, "专业叉车维修保养"), Some(1.0));
        let decoy = token_overlap(need, "3吨叉车出租").expect("tokens");
        assert!(decoy > 0.0 && decoy < 0.5, "{decoy}");
        assert_eq!(token_overlap("求租", "叉车"), None);
        assert!(tokens("海天MA2500").contains("ma2500"));
        // Fields separated by whitespace never form a bigram across the gap.
        assert_eq!(
            token_overlap("叉车维修 叉车维修", "叉车维修保养"),
            Some(1.0)
        );
    }
}
