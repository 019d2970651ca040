//! Industrial synonym groups (`vocab/synonyms.txt`) and their query-time expansion.
//!
//! tantivy has no synonym support, and expanding at index time would bake the list into every
//! segment; expanding queries keeps the list editable without a reindex.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::tokenizer::normalize_term;

/// How much a synonym counts relative to the word the user typed.
pub const SYNONYM_BOOST: f32 = 0.7;

/// Parses the synonym file: one group per line, terms separated by `/`, `,`, `，` or `、`.
/// `#` starts a comment at the beginning of a line or after whitespace; glued to a term it is
/// part of it (日标12#). Terms are normalised; groups of fewer than two terms are dropped.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let mut groups = Vec::new();
    for line in text.lines() {
        let content = strip_comment(line);
        let mut seen = HashSet::new();
        let terms: Vec<String> = content
            .split(['/', ',', '，', '、'])
            .map(normalize_term)
            .filter(|t| !t.is_empty() && seen.insert(t.clone()))
            .collect();
        if terms.len() >= 2 {
            groups.push(terms);
        }
    }
    groups
}

fn strip_comment(line: &str) -> &str {
    let mut previous = None;
    for (i, c) in line.char_indices() {
        if c == '#' && previous.is_none_or(char::is_whitespace) {
            return &line[..i];
        }
        previous = Some(c);
    }
    line
}

/// One term of a group with the tokens a query uses to find it (several tokens: all must
/// occur).
#[derive(Debug, Clone)]
pub(crate) struct SynonymTerm {
    pub norm: String,
    pub tokens: Vec<String>,
}

/// The loaded groups, indexed by normalised term.
#[derive(Debug, Default)]
pub struct SynonymTable {
    groups: Vec<Vec<SynonymTerm>>,
    by_term: HashMap<String, Vec<usize>>,
}

/// A synonym group found in a query: which of its terms the query contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupMatch {
    pub group: usize,
    pub matched_terms: BTreeSet<String>,
}

impl SynonymTable {
    pub(crate) fn build(
        groups: Vec<Vec<String>>,
        tokens_of: impl Fn(&str) -> Vec<String>,
    ) -> SynonymTable {
        let mut table = SynonymTable::default();
        for terms in groups {
            let index = table.groups.len();
            let mut group = Vec::with_capacity(terms.len());
            for norm in terms {
                let tokens = tokens_of(&norm);
                if tokens.is_empty() {
                    continue;
                }
                table.by_term.entry(norm.clone()).or_default().push(index);
                group.push(SynonymTerm { norm, tokens });
            }
            table.groups.push(group);
        }
        table
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Other terms of the groups a normalised term belongs to, in file order, deduplicated.
    pub fn synonyms_of(&self, norm: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        seen.insert(norm.to_string());
        self.by_term
            .get(norm)
            .into_iter()
            .flatten()
            .flat_map(|&g| self.groups[g].iter())
            .filter(|t| seen.insert(t.norm.clone()))
            .map(|t| t.norm.clone())
            .collect()
    }

    pub(crate) fn group(&self, group: usize) -> &[SynonymTerm] {
        self.groups.get(group).map_or(&[], Vec::as_slice)
    }

    /// Groups whose terms occur in normalised query text. An occurrence counts only where it
    /// starts and ends on token boundaries, so 立加 is not found inside 建立加工 (建立 / 加工),
    /// while multi-word terms still match across tokens (集装箱卡车 = 集装箱 + 卡车).
    pub(crate) fn find(
        &self,
        text: &str,
        starts: &HashSet<usize>,
        ends: &HashSet<usize>,
    ) -> Vec<GroupMatch> {
        let mut found: HashMap<usize, BTreeSet<String>> = HashMap::new();
        for (term, groups) in &self.by_term {
            let aligned = text
                .match_indices(term.as_str())
                .any(|(at, _)| starts.contains(&at) && ends.contains(&(at + term.len())));
            if aligned {
                for &g in groups {
                    found.entry(g).or_default().insert(term.clone());
                }
            }
        }
        let mut matches: Vec<GroupMatch> = found
            .into_iter()
            .map(|(group, matched_terms)| GroupMatch {
                group,
                matched_terms,
            })
            .collect();
        matches.sort_by_key(|m| m.group);
        matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_comments_and_separators() {
        let groups = parse(
            "# heading\n叉车/铲车, 堆高车 # trailing comment\nADC12/YL113/日标12#\n\n单独\n注塑机、啤机，注塑成型机\n",
        );
        assert_eq!(
            groups,
            vec![
                vec!["叉车", "铲车", "堆高车"],
                vec!["adc12", "yl113", "日标12#"],
                vec!["注塑机", "啤机", "注塑成型机"],
            ]
        );
    }

    #[test]
    fn full_width_terms_are_normalised() {
        assert_eq!(parse("ＣＮＣ/加工中心"), vec![vec!["cnc", "加工中心"]]);
    }

    #[test]
    fn a_term_in_two_groups_expands_to_both() {
        let table = SynonymTable::build(parse("冷库/冷藏库\n冷冻库/冷库\n"), |t| {
            vec![t.to_string()]
        });
        assert_eq!(table.synonyms_of("冷库"), vec!["冷藏库", "冷冻库"]);
        assert_eq!(table.synonyms_of("冷藏库"), vec!["冷库"]);
        assert!(table.synonyms_of("仓库").is_empty());
    }

    #[test]
    fn matches_need_token_boundaries() {
        let table = SynonymTable::build(parse("立加/加工中心\n"), |t| vec![t.to_string()]);
        let text = "建立加工";
        // tokens 建立 [0,6) and 加工 [6,12)
        let starts = HashSet::from([0, 6]);
        let ends = HashSet::from([6, 12]);
        assert!(table.find(text, &starts, &ends).is_empty());
        let text = "立加出租";
        let starts = HashSet::from([0, 6]);
        let ends = HashSet::from([6, 12]);
        let found = table.find(text, &starts, &ends);
        assert_eq!(found.len(), 1);
        assert!(found[0].matched_terms.contains("立加"));
    }
}
