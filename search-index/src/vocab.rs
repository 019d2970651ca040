//! The vocabulary: jieba with our industrial user dictionary, the synonym groups and the query
//! stop words, loaded once at start-up and shared behind an `Arc`.
//!
//! The shipped files live in `search-index/vocab/` and are compiled in ([`Vocabulary::builtin`]);
//! a deployment can point [`Vocabulary::load`] at a copy it edits, without rebuilding.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;

use crate::error::VocabError;
use crate::synonyms::{self, SynonymTable};
use crate::tokenizer::{self, is_cjk, normalize_term};

/// File names inside a vocabulary directory.
pub const USERDICT_FILE: &str = "userdict.txt";
pub const SYNONYMS_FILE: &str = "synonyms.txt";
pub const STOPWORDS_FILE: &str = "stopwords.txt";

const BUILTIN_USERDICT: &str = include_str!("../vocab/userdict.txt");
const BUILTIN_SYNONYMS: &str = include_str!("../vocab/synonyms.txt");
const BUILTIN_STOPWORDS: &str = include_str!("../vocab/stopwords.txt");

/// The texts a vocabulary is built from: the shipped files, or a deployment's
/// copy ([`VocabSources::load`]). Kept so that a vocabulary with a park's own
/// words and groups added can be built again at any time.
#[derive(Debug, Clone)]
pub struct VocabSources {
    pub userdict: String,
    pub synonyms: String,
    pub stopwords: String,
}

impl VocabSources {
    /// The shipped files.
    pub fn builtin() -> VocabSources {
        VocabSources {
            userdict: BUILTIN_USERDICT.to_string(),
            synonyms: BUILTIN_SYNONYMS.to_string(),
            stopwords: BUILTIN_STOPWORDS.to_string(),
        }
    }

    /// The files of `dir`, each falling back to the shipped one (see [`Vocabulary::load`]).
    pub fn load(dir: &Path) -> Result<VocabSources, VocabError> {
        if !dir.is_dir() {
            return Err(VocabError::MissingDirectory(dir.to_path_buf()));
        }
        let read = |name: &str, builtin: &str| -> Result<String, VocabError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(builtin.to_string()),
                Err(source) => Err(VocabError::Io { path, source }),
            }
        };
        Ok(VocabSources {
            userdict: read(USERDICT_FILE, BUILTIN_USERDICT)?,
            synonyms: read(SYNONYMS_FILE, BUILTIN_SYNONYMS)?,
            stopwords: read(STOPWORDS_FILE, BUILTIN_STOPWORDS)?,
        })
    }

    /// The vocabulary of these files.
    pub fn build(&self) -> Vocabulary {
        Vocabulary::from_sources(&self.userdict, &self.synonyms, &self.stopwords)
    }

    /// The vocabulary of these files plus `words` (dictionary words) and
    /// `groups` (synonym groups, two terms or more each), added after the
    /// files' own lines. Terms holding a separator character of the files'
    /// formats are the caller's to refuse.
    pub fn build_with(&self, words: &[String], groups: &[Vec<String>]) -> Vocabulary {
        if words.is_empty() && groups.is_empty() {
            return self.build();
        }
        let mut userdict = self.userdict.clone();
        userdict.push('\n');
        for w in words {
            userdict.push_str(w);
            userdict.push('\n');
        }
        let mut synonyms = self.synonyms.clone();
        synonyms.push('\n');
        for g in groups {
            synonyms.push_str(&g.join("/"));
            synonyms.push('\n');
        }
        Vocabulary::from_sources(&userdict, &synonyms, &self.stopwords)
    }
}

/// Everything the tokenizers and the query builder need to know about words.
pub struct Vocabulary {
    jieba: Jieba,
    /// Dictionary words mixing CJK and Latin (荧光定量pcr仪, co2气保焊), normalised; jieba only
    /// sees CJK runs, so these are found by the tokenizer itself.
    mixed_words: Vec<String>,
    synonyms: SynonymTable,
    stopwords: HashSet<String>,
    user_words: usize,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("user_words", &self.user_words)
            .field("mixed_words", &self.mixed_words.len())
            .field("synonym_groups", &self.synonyms.len())
            .field("stopwords", &self.stopwords.len())
            .finish_non_exhaustive()
    }
}

impl Vocabulary {
    /// The vocabulary shipped in `search-index/vocab/`, compiled into the binary.
    pub fn builtin() -> Vocabulary {
        Vocabulary::from_sources(BUILTIN_USERDICT, BUILTIN_SYNONYMS, BUILTIN_STOPWORDS)
    }

    /// One process-wide instance of [`Vocabulary::builtin`]: loading jieba costs ~100 ms and
    /// ~30 MB, so tests and defaults share it.
    pub fn shared_builtin() -> Arc<Vocabulary> {
        static SHARED: OnceLock<Arc<Vocabulary>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(Vocabulary::builtin()))
            .clone()
    }

    /// Loads `userdict.txt`, `synonyms.txt` and `stopwords.txt` from `dir`. A file that is
    /// present replaces the shipped one (so an operator can also remove a bad group); a file
    /// that is absent falls back to the shipped one.
    pub fn load(dir: &Path) -> Result<Vocabulary, VocabError> {
        Ok(VocabSources::load(dir)?.build())
    }

    /// Builds a vocabulary from file contents. Malformed lines are skipped rather than fatal:
    /// a typo in a hand-edited list must not keep the service from starting.
    pub fn from_sources(userdict: &str, synonyms_text: &str, stopwords: &str) -> Vocabulary {
        let mut jieba = Jieba::new();
        let mut mixed = BTreeSet::new();
        let mut user_words = 0;
        for (word, freq) in parse_userdict(userdict) {
            add_word(&mut jieba, &mut mixed, &word, freq);
            user_words += 1;
        }
        let groups = synonyms::parse(synonyms_text);
        // Synonym terms become dictionary words so that a term is one token in documents and
        // queries alike, which is what expansion looks for.
        for term in groups.iter().flatten() {
            add_word(&mut jieba, &mut mixed, term, None);
        }
        let stopwords = stopwords
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(normalize_term)
            .collect();
        let mut vocab = Vocabulary {
            jieba,
            mixed_words: mixed.into_iter().collect(),
            synonyms: SynonymTable::default(),
            stopwords,
            user_words,
        };
        // Needs the finished dictionary: a term's tokens are what the tokenizer will produce.
        let table = SynonymTable::build(groups, |term| tokenizer::term_tokens(&vocab, term));
        vocab.synonyms = table;
        // Warm up jieba's lazily built state so the first request does not pay for it.
        let _ = vocab.jieba.cut_for_search("标准厂房出租叉车", false);
        vocab
    }

    pub(crate) fn jieba(&self) -> &Jieba {
        &self.jieba
    }

    pub(crate) fn mixed_words(&self) -> &[String] {
        &self.mixed_words
    }

    pub(crate) fn synonym_table(&self) -> &SynonymTable {
        &self.synonyms
    }

    /// Whether `token` (already normalised) is a query stop word.
    pub fn is_stopword(&self, token: &str) -> bool {
        self.stopwords.contains(token)
    }

    /// The other terms of every synonym group `term` belongs to (normalised: lower case,
    /// half-width), e.g. 铲车 → 叉车, 堆高车, ….
    pub fn synonyms_of(&self, term: &str) -> Vec<String> {
        self.synonyms.synonyms_of(&normalize_term(term))
    }

    /// Number of synonym groups loaded.
    pub fn synonym_group_count(&self) -> usize {
        self.synonyms.len()
    }

    /// Number of user-dictionary entries loaded (synonym terms not counted).
    pub fn user_word_count(&self) -> usize {
        self.user_words
    }
}

/// Parses jieba's user-dictionary format: `word [freq] [tag]`, `#` comment lines.
fn parse_userdict(text: &str) -> impl Iterator<Item = (String, Option<usize>)> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let word = normalize_term(parts.next()?);
            // jieba takes the log of the frequency: zero would make the word impossible.
            let freq = parts
                .next()
                .and_then(|f| f.parse::<usize>().ok())
                .filter(|&f| f > 0);
            (!word.is_empty()).then_some((word, freq))
        })
}

/// Teaches jieba a normalised word. Pure-Latin words need nothing (the tokenizer keeps Latin
/// runs whole); mixed words are remembered for the tokenizer, and their CJK parts taught to
/// jieba so the rest of the segmentation lines up with them.
fn add_word(jieba: &mut Jieba, mixed: &mut BTreeSet<String>, word: &str, freq: Option<usize>) {
    let has_cjk = word.chars().any(is_cjk);
    let has_latin = word.chars().any(|c| c.is_ascii_alphanumeric());
    if !has_cjk {
        return;
    }
    if !has_latin {
        jieba.add_word(word, freq, None);
        return;
    }
    mixed.insert(word.to_string());
    let mut run = String::new();
    for c in word.chars().chain(std::iter::once(' ')) {
        if is_cjk(c) {
            run.push(c);
        } else {
            if run.chars().count() >= 2 {
                jieba.add_word(&run, None, None);
            }
            run.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_vocabulary_is_large_enough() {
        let v = Vocabulary::shared_builtin();
        assert!(v.user_word_count() >= 150, "{v:?}");
        assert!(v.synonym_group_count() >= 60, "{v:?}");
        assert!(v.is_stopword("的"));
        assert!(!v.is_stopword("出租"));
    }

    #[test]
    fn user_words_are_whole_tokens() {
        let v = Vocabulary::shared_builtin();
        for word in [
            "注塑机",
            "啤机",
            "加工中心",
            "立加",
            "堆高车",
            "集卡",
            "拖头",
            "冷库",
            "二保焊",
        ] {
            let cut: Vec<&str> = v.jieba().cut(word, false).iter().map(|t| t.word).collect();
            assert_eq!(cut, vec![word], "{word}");
        }
    }

    #[test]
    fn load_reads_a_directory_and_falls_back_per_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(SYNONYMS_FILE), "# test\n甲醛车/乙醛车\n")
            .expect("write synonyms");
        let v = Vocabulary::load(dir.path()).expect("load");
        assert_eq!(v.synonym_group_count(), 1);
        assert_eq!(v.synonyms_of("甲醛车"), vec!["乙醛车".to_string()]);
        // userdict and stopwords were absent: the shipped ones apply
        assert!(v.user_word_count() >= 150);
        assert!(v.is_stopword("的"));
        assert!(matches!(
            Vocabulary::load(&dir.path().join("nope")),
            Err(VocabError::MissingDirectory(_))
        ));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let v = Vocabulary::from_sources("叉车 abc\n\n 堆高车 0 n\n", "单独一个词\n/,/\n", "");
        assert_eq!(v.user_word_count(), 2);
        assert_eq!(v.synonym_group_count(), 0);
    }
}
