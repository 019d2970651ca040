//! Vocabulary suggestions from a park's own listings, for people to review:
//! new words the tokenizer splits, and synonym pairs.
//!
//! A park writes its trade in its own words (瓦楞原纸, 辊道窑, 9米6厢车). The
//! search vocabulary only knows what someone entered, so this module reads
//! the live listings and proposes what is missing. Nothing here changes the
//! vocabulary: the output is a list a person accepts or rejects line by line.
//!
//! # New words
//!
//! The classic signals of word discovery in Chinese text without spaces,
//! over runs of CJK characters:
//!
//! - **frequency**: the character n-gram (2–6 characters) occurs in at least
//!   `min_listings` different listings;
//! - **cohesion**: its characters belong together — the smallest pointwise
//!   mutual information over every way of cutting it in two is high
//!   (`ln(P(w) / (P(a)·P(b)))`, probabilities per character position);
//! - **free boundaries**: it occurs after and before many different
//!   characters (entropy of its left and right neighbours; a run's edge counts
//!   as a new neighbour each time), so it is a unit of its own and not the
//!   fragment of a longer word;
//! - **the tokenizer breaks it**: the caller's tokenizer neither returns it
//!   as one token nor cuts it into words it knows; some piece is a lone
//!   character. Only these are worth adding: a collocation of known words
//!   (长期仓库) is found by search already.
//!
//! A candidate that is only a fragment of a longer candidate (it occurs almost
//! only inside it) is dropped in favour of the longer one.
//!
//! # Synonym pairs
//!
//! Two terms are proposed as synonyms when they are used in the same
//! contexts but rarely in the same listing — the distributional signature of
//! two names for one thing (啤机/注塑机 both follow 求租 and precede 出租,
//! both are `equipment_type` values of equipment listings with a clamping
//! force). A term's context is: the tokens right before and after each
//! occurrence (and two away), the listing's kind, the attribute keys whose
//! value contains the term, and the listing's other attribute values. Features
//! are weighted by positive PMI and compared with the cosine. Pairs that one
//! contains the other (叉车/电动叉车: a kind of, not another name), pairs the
//! vocabulary already groups, and pairs that mostly occur together are left
//! out.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::listing::MatchListing;
use crate::text::is_cjk;
use crate::units::fold;

/// One listing's text as the suggester reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// The listing's kind (space, equipment …); a context feature.
    pub kind: String,
    /// Title and description.
    pub text: String,
    /// String attribute values by key.
    pub attributes: Vec<(String, String)>,
}

impl Doc {
    /// The document of a listing: title, description and string attributes.
    pub fn of(l: &MatchListing) -> Doc {
        let mut attributes = Vec::new();
        for (k, v) in &l.attributes {
            match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => {
                    attributes.push((k.clone(), s.trim().to_owned()));
                }
                serde_json::Value::Array(items) => {
                    for s in items.iter().filter_map(|x| x.as_str()) {
                        attributes.push((k.clone(), s.trim().to_owned()));
                    }
                }
                serde_json::Value::Number(n) => attributes.push((k.clone(), n.to_string())),
                _ => {}
            }
        }
        Doc {
            kind: l.kind.as_str().to_owned(),
            text: format!("{} {}", l.title, l.description),
            attributes,
        }
    }

    fn all_text(&self) -> String {
        let mut s = self.text.clone();
        for (_, v) in &self.attributes {
            s.push(' ');
            s.push_str(v);
        }
        s
    }
}

/// Thresholds of the suggester; the defaults suit a park of a few hundred
/// listings.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A word or synonym term must occur in at least this many listings.
    pub min_listings: usize,
    /// Longest word looked for, in characters.
    pub max_word_chars: usize,
    /// Smallest cohesion (PMI of the weakest cut, natural log).
    pub min_cohesion: f64,
    /// Smallest entropy of the left and of the right neighbours (nats).
    pub min_boundary_entropy: f64,
    /// Smallest cosine of two terms' contexts.
    pub min_similarity: f64,
    /// Largest share of the rarer term's listings that also hold the other.
    pub max_cooccurrence: f64,
    /// At most this many suggestions of each sort.
    pub limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            min_listings: 3,
            max_word_chars: 6,
            min_cohesion: 1.0,
            min_boundary_entropy: 0.9,
            min_similarity: 0.5,
            max_cooccurrence: 0.34,
            limit: 50,
        }
    }
}

/// A proposed dictionary word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordSuggestion {
    pub word: String,
    /// Listings it occurs in.
    pub listings: usize,
    /// Occurrences.
    pub count: usize,
    /// PMI of its weakest cut.
    pub cohesion: f64,
    /// The smaller of its left and right neighbour entropies.
    pub boundary_entropy: f64,
    /// How the tokenizer cuts it today.
    pub split_as: Vec<String>,
}

/// A proposed synonym pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynonymSuggestion {
    pub a: String,
    pub b: String,
    /// Cosine of their context vectors.
    pub similarity: f64,
    /// Listings holding `a`, `b`, and both.
    pub listings: (usize, usize, usize),
    /// The strongest shared context features, for the reviewer.
    pub shared: Vec<String>,
}

/// Both lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Suggestions {
    pub words: Vec<WordSuggestion>,
    pub synonyms: Vec<SynonymSuggestion>,
}

/// Runs of CJK characters of a folded text, each with whether a digit
/// comes right before it (its first character is then a unit: 13米高栏).
fn cjk_runs(text: &str) -> Vec<(Vec<char>, bool)> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let (mut after_number, mut prev_digit) = (false, false);
    for c in fold(text).chars() {
        if is_cjk(c) {
            if run.is_empty() {
                after_number = prev_digit;
            }
            run.push(c);
        } else if !run.is_empty() {
            runs.push((std::mem::take(&mut run), after_number));
        }
        prev_digit = c.is_ascii_digit();
    }
    if !run.is_empty() {
        runs.push((run, after_number));
    }
    runs
}

#[derive(Default)]
struct Gram {
    count: usize,
    listings: usize,
    last_doc: Option<usize>,
    left: HashMap<char, usize>,
    right: HashMap<char, usize>,
    /// Occurrences at a run's edge: each counts as a distinct neighbour.
    left_edge: usize,
    right_edge: usize,
}

fn entropy(neighbours: &HashMap<char, usize>, edges: usize) -> f64 {
    let total = (neighbours.values().sum::<usize>() + edges) as f64;
    if total == 0.0 {
        return 0.0;
    }
    let h = |n: usize| {
        let p = n as f64 / total;
        -p * p.ln()
    };
    neighbours.values().map(|n| h(*n)).sum::<f64>() + edges as f64 * h(1)
}

/// Proposes new words: frequent, cohesive character n-grams with free
/// boundaries that `split` (the tokenizer: text → tokens) does not keep whole.
pub fn suggest_words(
    docs: &[Doc],
    split: impl Fn(&str) -> Vec<String>,
    opts: &Options,
) -> Vec<WordSuggestion> {
    let max_n = opts.max_word_chars.max(2);
    let mut grams: HashMap<String, Gram> = HashMap::new();
    let mut chars_total = 0usize;
    for (d, doc) in docs.iter().enumerate() {
        for (run, after_number) in cjk_runs(&doc.all_text()) {
            chars_total += run.len();
            for n in 1..=max_n {
                for start in 0..run.len().saturating_sub(n - 1) {
                    // The unit of a number is no part of the next word:
                    // 10吨左右 holds 左右, not 吨左右.
                    if start == 0 && after_number && n >= 2 {
                        continue;
                    }
                    let g: String = run[start..start + n].iter().collect();
                    let e = grams.entry(g).or_default();
                    e.count += 1;
                    if e.last_doc != Some(d) {
                        e.last_doc = Some(d);
                        e.listings += 1;
                    }
                    if n >= 2 {
                        match start.checked_sub(1).map(|i| run[i]) {
                            Some(c) => *e.left.entry(c).or_default() += 1,
                            None => e.left_edge += 1,
                        }
                        match run.get(start + n) {
                            Some(c) => *e.right.entry(*c).or_default() += 1,
                            None => e.right_edge += 1,
                        }
                    }
                }
            }
        }
    }
    if chars_total == 0 {
        return Vec::new();
    }
    let total = chars_total as f64;
    let count = |s: &str| grams.get(s).map_or(0, |g| g.count);
    let mut candidates: Vec<WordSuggestion> = Vec::new();
    for (word, g) in &grams {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 || g.listings < opts.min_listings.max(1) {
            continue;
        }
        let cohesion = (1..chars.len())
            .map(|cut| {
                let a: String = chars[..cut].iter().collect();
                let b: String = chars[cut..].iter().collect();
                let (ca, cb) = (count(&a) as f64, count(&b) as f64);
                (g.count as f64 * total / (ca * cb)).ln()
            })
            .fold(f64::INFINITY, f64::min);
        let boundary = entropy(&g.left, g.left_edge).min(entropy(&g.right, g.right_edge));
        if cohesion < opts.min_cohesion || boundary < opts.min_boundary_entropy {
            continue;
        }
        // Kept whole, or cut into words the tokenizer knows (长期 + 仓库): search
        // already finds it. Only a cut that leaves single characters loses
        // the word (辊 道 窑 would match 道路 and 窑炉).
        let split_as = split(word);
        if split_as.iter().any(|t| fold(t) == *word)
            || split_as.iter().all(|t| t.chars().count() >= 2)
        {
            continue;
        }
        candidates.push(WordSuggestion {
            word: word.clone(),
            listings: g.listings,
            count: g.count,
            cohesion,
            boundary_entropy: boundary,
            split_as,
        });
    }
    // A fragment that occurs (almost) only inside a longer candidate is that
    // candidate's part, not a word of its own.
    let whole: Vec<(String, usize)> = candidates
        .iter()
        .map(|c| (c.word.clone(), c.count))
        .collect();
    candidates.retain(|c| {
        !whole.iter().any(|(w, n)| {
            w.len() > c.word.len()
                && w.contains(c.word.as_str())
                && *n as f64 >= 0.8 * c.count as f64
        })
    });
    candidates.sort_by(|a, b| {
        b.listings
            .cmp(&a.listings)
            .then(b.cohesion.total_cmp(&a.cohesion))
            .then(a.word.cmp(&b.word))
    });
    candidates.truncate(opts.limit);
    candidates
}

/// Proposes synonym pairs among the terms `split` produces (and whole
/// attribute values), by shared contexts. `known(a, b)` says whether the
/// vocabulary already groups the two.
pub fn suggest_synonyms(
    docs: &[Doc],
    split: impl Fn(&str) -> Vec<String>,
    known: impl Fn(&str, &str) -> bool,
    opts: &Options,
) -> Vec<SynonymSuggestion> {
    let term_ok = |t: &str| t.chars().count() >= 2 && t.chars().all(is_cjk);
    // term → feature → count, and term → listings.
    let mut features: HashMap<String, HashMap<String, f64>> = HashMap::new();
    let mut holders: HashMap<String, HashSet<usize>> = HashMap::new();
    for (d, doc) in docs.iter().enumerate() {
        let mut doc_terms: Vec<String> = Vec::new();
        let add = |term: &str, feature: String, features: &mut HashMap<_, HashMap<_, f64>>| {
            *features
                .entry(term.to_owned())
                .or_default()
                .entry(feature)
                .or_default() += 1.0;
        };
        let mut sequences: Vec<Vec<String>> = doc
            .text
            .split(|c: char| !(is_cjk(c) || c.is_alphanumeric()))
            .filter(|s| !s.is_empty())
            .map(|s| {
                split(s)
                    .into_iter()
                    .map(|t| fold(&t))
                    // Numbers are values, not context.
                    .filter(|t| t.chars().any(|c| !(c.is_ascii_digit() || c == '.')))
                    .collect()
            })
            .collect();
        for (_, v) in &doc.attributes {
            let v = fold(v);
            if term_ok(&v) {
                // A whole attribute value is a term of its own.
                sequences.push(vec![v.clone()]);
            }
        }
        for seq in &sequences {
            for (i, t) in seq.iter().enumerate() {
                if !term_ok(t) {
                    continue;
                }
                doc_terms.push(t.clone());
                for (offset, tag) in [(-2i64, "L2"), (-1, "L1"), (1, "R1"), (2, "R2")] {
                    let j = i as i64 + offset;
                    if j >= 0
                        && let Some(n) = seq.get(j as usize)
                    {
                        add(t, format!("{tag}:{n}"), &mut features);
                    }
                }
            }
        }
        doc_terms.sort();
        doc_terms.dedup();
        for t in &doc_terms {
            holders.entry(t.clone()).or_default().insert(d);
            add(t, format!("kind:{}", doc.kind), &mut features);
            for (k, v) in &doc.attributes {
                let v = fold(v);
                if v.contains(t.as_str()) {
                    add(t, format!("key:{k}"), &mut features);
                } else {
                    add(t, format!("{k}={v}"), &mut features);
                }
            }
        }
    }
    let terms: Vec<&String> = holders
        .iter()
        .filter(|(_, ls)| ls.len() >= opts.min_listings.max(1))
        .map(|(t, _)| t)
        .collect();
    // Positive PMI weights over the kept terms.
    let mut feature_total: HashMap<&str, f64> = HashMap::new();
    let mut grand = 0.0;
    for t in &terms {
        for (f, n) in &features[*t] {
            *feature_total.entry(f.as_str()).or_default() += n;
            grand += n;
        }
    }
    let mut vectors: HashMap<&str, HashMap<&str, f64>> = HashMap::new();
    for t in &terms {
        let row = &features[*t];
        let row_total: f64 = row.values().sum();
        let mut v: HashMap<&str, f64> = HashMap::new();
        for (f, n) in row {
            let pmi = (n * grand / (row_total * feature_total[f.as_str()])).ln();
            if pmi > 0.0 {
                v.insert(f.as_str(), pmi);
            }
        }
        let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.values_mut().for_each(|x| *x /= norm);
            vectors.insert(t.as_str(), v);
        }
    }
    // Dot products through an inverted index of features.
    let mut postings: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for (t, v) in &vectors {
        for (f, w) in v {
            postings.entry(f).or_default().push((t, *w));
        }
    }
    let mut dots: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for list in postings.values() {
        for (i, (a, wa)) in list.iter().enumerate() {
            for (b, wb) in &list[i + 1..] {
                let key = if a < b { (*a, *b) } else { (*b, *a) };
                *dots.entry(key).or_default() += wa * wb;
            }
        }
    }
    let mut out = Vec::new();
    for ((a, b), sim) in dots {
        if sim < opts.min_similarity || a.contains(b) || b.contains(a) || known(a, b) {
            continue;
        }
        let (ha, hb) = (&holders[a], &holders[b]);
        let both = ha.intersection(hb).count();
        if both as f64 > opts.max_cooccurrence * ha.len().min(hb.len()) as f64 {
            continue;
        }
        let (va, vb) = (&vectors[a], &vectors[b]);
        let mut shared: Vec<(&str, f64)> = va
            .iter()
            .filter_map(|(f, x)| vb.get(f).map(|y| (*f, x * y)))
            .collect();
        shared.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(y.0)));
        out.push(SynonymSuggestion {
            a: a.to_owned(),
            b: b.to_owned(),
            similarity: sim,
            listings: (ha.len(), hb.len(), both),
            shared: shared
                .into_iter()
                .take(4)
                .map(|(f, _)| f.to_owned())
                .collect(),
        });
    }
    out.sort_by(|x, y| {
        y.similarity
            .total_cmp(&x.similarity)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    out.truncate(opts.limit);
    out
}

/// Both lists (see [`suggest_words`] and [`suggest_synonyms`]).
pub fn suggest(
    docs: &[Doc],
    split: impl Fn(&str) -> Vec<String>,
    known: impl Fn(&str, &str) -> bool,
    opts: &Options,
) -> Suggestions {
    Suggestions {
        words: suggest_words(docs, &split, opts),
        synonyms: suggest_synonyms(docs, &split, known, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tokenizer that knows a fixed word list (longest match), else cuts
    /// characters one by one — a stand-in for a dictionary tokenizer.
    fn dictionary_split(words: &'static [&'static str]) -> impl Fn(&str) -> Vec<String> {
        move |text: &str| {
            let chars: Vec<char> = fold(text).chars().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < chars.len() {
                let hit = (2..=6.min(chars.len() - i)).rev().find(|n| {
                    let s: String = chars[i..i + n].iter().collect();
                    words.contains(&s.as_str())
                });
                let n = hit.unwrap_or(1);
                out.push(chars[i..i + n].iter().collect());
                i += n;
            }
            out
        }
    }

    const KNOWN: &[&str] = &[
        "出租",
        "求租",
        "出售",
        "求购",
        "叉车",
        "厂房",
        "仓库",
        "现货",
        "急需",
        "长期",
        "车间",
        "设备",
        "注塑机",
        "吨位",
        "夜班",
        "空闲",
        "合作",
        "价格",
        "面议",
        "啤机",
        "层高",
        "月台",
        "电动",
        "钢板",
        "镀锌",
    ];

    /// A small synthetic park: filler listings in which every thing keeps its
    /// own company (厂房 is let with its 层高, 叉车 sold with its 电动 …), a
    /// planted new word (辊道窑, written in varied company) and a planted
    /// synonym pair (啤机/注塑机, used the same way but never in one listing).
    fn corpus() -> Vec<Doc> {
        let verbs = ["出租", "求租", "急需", "出售", "求购", "长期"];
        let extras = ["现货", "价格", "面议", "合作", "空闲", "设备"];
        let things = [
            ("space", "usage", "出租", "厂房", "层高"),
            ("space", "usage", "长期", "仓库", "月台"),
            ("equipment", "equipment_type", "出售", "叉车", "电动"),
            ("material", "material_name", "现货", "钢板", "镀锌"),
        ];
        let mut docs = Vec::new();
        for i in 0..40 {
            let (kind, key, verb, thing, mark) = things[i % things.len()];
            docs.push(Doc {
                kind: kind.into(),
                text: format!("{verb}{thing}，{mark}{}", i % 7 + 2),
                attributes: vec![(key.into(), thing.into())],
            });
        }
        for i in 0..6 {
            docs.push(Doc {
                kind: "equipment".into(),
                text: format!("{}辊道窑{}，{}", verbs[i], extras[i], extras[(i + 2) % 6]),
                attributes: vec![("equipment_type".into(), "辊道窑".into())],
            });
        }
        for (i, machine) in ["注塑机", "啤机", "注塑机", "啤机", "注塑机", "啤机"]
            .iter()
            .enumerate()
        {
            let tonnes = if i < 4 { "250" } else { "160" };
            docs.push(Doc {
                kind: "equipment".into(),
                text: format!("{}{machine}{tonnes}吨 夜班空闲", verbs[i % 2]),
                attributes: vec![
                    ("equipment_type".into(), (*machine).into()),
                    ("clamping_force_t".into(), tonnes.into()),
                ],
            });
        }
        docs
    }

    #[test]
    fn the_planted_word_is_found_and_known_words_are_not() {
        let opts = Options::default();
        let words = suggest_words(&corpus(), dictionary_split(KNOWN), &opts);
        let found: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(found.first(), Some(&"辊道窑"), "{words:#?}");
        let w = &words[0];
        assert_eq!(w.listings, 6);
        assert_eq!(w.split_as, ["辊", "道", "窑"]);
        // Its fragments are no words of their own, and known words are not proposed.
        for fragment in ["辊道", "道窑"] {
            assert!(!found.contains(&fragment), "{found:?}");
        }
        for known in KNOWN {
            assert!(!found.contains(known), "{known} in {found:?}");
        }
        // Once the tokenizer knows it, it is no longer proposed.
        const MORE: &[&str] = &["辊道窑"];
        let words = suggest_words(&corpus(), dictionary_split(MORE), &opts);
        assert!(words.iter().all(|w| w.word != "辊道窑"));
    }

    #[test]
    fn a_unit_after_a_number_starts_no_word() {
        let docs: Vec<Doc> = [
            "每车10吨左右，辊道窑",
            "约8吨左右 急需",
            "3吨左右 现货",
            "20吨左右 长期",
        ]
        .iter()
        .map(|t| Doc {
            kind: "logistics".into(),
            text: (*t).into(),
            attributes: Vec::new(),
        })
        .collect();
        let words = suggest_words(&docs, dictionary_split(KNOWN), &Options::default());
        assert!(
            words.iter().all(|w| !w.word.starts_with('吨')),
            "{words:#?}"
        );
    }

    #[test]
    fn the_planted_synonym_pair_is_found() {
        let opts = Options::default();
        let pairs = suggest_synonyms(&corpus(), dictionary_split(KNOWN), |_, _| false, &opts);
        let top = pairs.first().expect("a pair");
        assert_eq!(
            (top.a.as_str(), top.b.as_str()),
            ("啤机", "注塑机"),
            "{pairs:#?}"
        );
        assert_eq!(top.listings, (3, 3, 0));
        // The reviewer sees why: the words around them and the attribute they fill.
        assert!(
            top.shared
                .iter()
                .any(|f| f.starts_with("L1:") || f.starts_with("R1:") || f.starts_with("key:")),
            "{top:?}"
        );
        // Already grouped in the vocabulary: not proposed again.
        let pairs = suggest_synonyms(
            &corpus(),
            dictionary_split(KNOWN),
            |a, b| [a, b].contains(&"啤机") && [a, b].contains(&"注塑机"),
            &opts,
        );
        assert!(
            pairs.iter().all(|p| !(p.a == "啤机" && p.b == "注塑机")),
            "{pairs:#?}"
        );
    }

    #[test]
    fn an_empty_corpus_suggests_nothing() {
        let s = suggest(
            &[],
            dictionary_split(KNOWN),
            |_, _| false,
            &Options::default(),
        );
        assert_eq!(s, Suggestions::default());
    }
}
