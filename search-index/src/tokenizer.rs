//! Chinese-aware tokenizers: jieba words ("zh") and single characters ("zh_char"), both keeping
//! Latin/number runs such as model numbers and grades whole.
//!
//! Text is first normalised (full-width ASCII to half-width, lower case, a few unit signs such
//! as ㎡ spelled out) with a byte map back to the original, so the offsets tantivy stores, and
//! the snippets cut from them, always fall on character boundaries of the text as written.
//! Punctuation, whitespace and symbols (emoji) never become tokens.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::vocab::Vocabulary;

/// Name under which [`ZhTokenizer`] is registered on every index.
pub const WORD_TOKENIZER: &str = "zh";
/// Name under which [`ZhCharTokenizer`] is registered on every index.
pub const CHAR_TOKENIZER: &str = "zh_char";

/// Longer Latin runs are hashes, URLs or garbage, not words anyone searches for; tantivy would
/// also reject a token past 65 530 bytes and abort the whole document.
const MAX_LATIN_TOKEN_BYTES: usize = 64;

/// Text after normalisation, with the original byte range of the character that produced each
/// normalised byte.
pub(crate) struct Normalized {
    pub text: String,
    source: Vec<(usize, usize)>,
}

impl Normalized {
    pub fn new(input: &str) -> Normalized {
        let mut text = String::with_capacity(input.len());
        let mut source = Vec::with_capacity(input.len());
        for (start, c) in input.char_indices() {
            push_normalized(&mut text, c);
            source.resize(text.len(), (start, start + c.len_utf8()));
        }
        Normalized { text, source }
    }

    /// Maps a byte range of the normalised text to the range of the original it came from.
    pub fn original_range(&self, range: &Range<usize>) -> Range<usize> {
        match (self.source.get(range.start), range.end.checked_sub(1)) {
            (Some(&(from, _)), Some(last)) if last >= range.start => {
                let to = self.source.get(last).map_or(from, |&(_, to)| to);
                from..to
            }
            (Some(&(from, _)), _) => from..from,
            (None, _) => {
                let end = self.source.last().map_or(0, |&(_, to)| to);
                end..end
            }
        }
    }
}

/// Normalises one character: full-width forms to ASCII, ASCII to lower case, and unit signs
/// that users type either way (㎡ / m2) to one spelling.
fn push_normalized(out: &mut String, c: char) {
    match c {
        '\u{FF01}'..='\u{FF5E}' => {
            let half = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            out.push(half.to_ascii_lowercase());
        }
        '\u{3000}' => out.push(' '),
        '㎡' => out.push_str("m2"),
        '㎥' => out.push_str("m3"),
        '㎏' => out.push_str("kg"),
        '㎞' => out.push_str("km"),
        '㎜' => out.push_str("mm"),
        '㎝' => out.push_str("cm"),
        '²' => out.push('2'),
        '³' => out.push('3'),
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c if c.is_uppercase() => out.extend(c.to_lowercase()),
        c => out.push(c),
    }
}

/// A normalised, whitespace-free form of a dictionary or synonym term.
pub fn normalize_term(term: &str) -> String {
    Normalized::new(term)
        .text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// CJK ideographs (all planes we are likely to meet) and the ideographic zero.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}'
        | '〇')
}

/// Characters that end a sentence: the char field leaves a position gap there so a phrase
/// does not match across two sentences.
fn is_sentence_break(c: char) -> bool {
    matches!(c, '\n' | '。' | ';' | '!' | '?' | '；' | '！' | '？')
}

/// A run of Latin letters/digits in the normalised text, with the suffix it may carry
/// (`12#`, `-25℃`).
struct LatinRun {
    text: String,
    range: Range<usize>,
    /// End of the alphanumeric core, before a `#`/`℃` suffix.
    core_end: usize,
    char_pos: usize,
}

enum Piece {
    Cjk {
        range: Range<usize>,
        char_pos: usize,
    },
    Latin(LatinRun),
    SentenceBreak,
}

/// Splits normalised text into CJK runs, Latin runs and sentence breaks; everything else is a
/// separator and disappears.
fn scan(text: &str) -> Vec<Piece> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let char_is = |k: usize, pred: fn(char) -> bool| chars.get(k).is_some_and(|&(_, c)| pred(c));
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < n {
        let c = chars[i].1;
        if is_cjk(c) {
            let start = i;
            while char_is(i, is_cjk) {
                i += 1;
            }
            pieces.push(Piece::Cjk {
                range: byte_at(start)..byte_at(i),
                char_pos: start,
            });
            continue;
        }
        let after_alnum = i > 0 && chars[i - 1].1.is_ascii_alphanumeric();
        // A minus sign belongs to a number only where it cannot be a hyphen: `-25℃`, not `MA-2500`.
        let negative = c == '-' && !after_alnum && char_is(i + 1, |d| d.is_ascii_digit());
        if c.is_ascii_alphanumeric() || negative {
            let start = i;
            i += 1;
            while i < n {
                let d = chars[i].1;
                let decimal_point = d == '.'
                    && chars[i - 1].1.is_ascii_digit()
                    && char_is(i + 1, |e| e.is_ascii_digit());
                if d.is_ascii_alphanumeric() || decimal_point {
                    i += 1;
                } else {
                    break;
                }
            }
            let core_end = i;
            let mut token = text[byte_at(start)..byte_at(core_end)].to_string();
            let ends_in_digit = chars[core_end - 1].1.is_ascii_digit();
            if char_is(i, |d| d == '#') {
                token.push('#');
                i += 1;
            } else if ends_in_digit && char_is(i, |d| d == '℃') {
                token.push('℃');
                i += 1;
            } else if ends_in_digit && char_is(i, |d| d == '°') && char_is(i + 1, |d| d == 'c') {
                token.push('℃');
                i += 2;
            }
            if token.len() <= MAX_LATIN_TOKEN_BYTES {
                pieces.push(Piece::Latin(LatinRun {
                    text: token,
                    range: byte_at(start)..byte_at(i),
                    core_end: byte_at(core_end),
                    char_pos: start,
                }));
            }
            continue;
        }
        if is_sentence_break(c) {
            pieces.push(Piece::SentenceBreak);
        }
        i += 1;
    }
    pieces
}

/// How much of a word to offer: every useful sub-word (indexing, query recall) or one
/// segmentation (what a term "is", for synonym alternatives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Search,
    Default,
}

/// A token over normalised text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WordToken {
    pub text: String,
    pub range: Range<usize>,
    pub position: usize,
    pub char_len: usize,
}

/// Word tokens of normalised text: jieba on CJK runs, Latin runs whole, plus the mixed
/// dictionary words (荧光定量pcr仪) that span both. Sorted by offset, without duplicates.
pub(crate) fn word_tokens(vocab: &Vocabulary, text: &str, mode: Mode) -> Vec<WordToken> {
    let mut tokens = Vec::new();
    for piece in scan(text) {
        match piece {
            Piece::Cjk { range, char_pos } => {
                let run = &text[range.clone()];
                // Without HMM unknown words fall apart into single characters the same way in
                // a document and in a query; HMM guesses depend on the surrounding text and
                // would make the two disagree.
                let words = match mode {
                    Mode::Search => vocab.jieba().cut_for_search(run, false),
                    Mode::Default => vocab.jieba().cut(run, false),
                };
                for w in words {
                    tokens.push(WordToken {
                        text: w.word.to_string(),
                        range: range.start + w.byte_start..range.start + w.byte_end,
                        position: char_pos + w.start,
                        char_len: w.end - w.start,
                    });
                }
            }
            Piece::Latin(run) => {
                if mode == Mode::Search {
                    latin_parts(text, &run, &mut tokens);
                }
                tokens.push(WordToken {
                    char_len: run.text.chars().count(),
                    text: run.text,
                    range: run.range,
                    position: run.char_pos,
                });
            }
            Piece::SentenceBreak => {}
        }
    }
    mixed_words(vocab, text, &mut tokens);
    tokens.sort_by(|a, b| {
        (a.range.start, a.range.end, &a.text).cmp(&(b.range.start, b.range.end, &b.text))
    });
    tokens.dedup_by(|a, b| a.range == b.range && a.text == b.text);
    tokens
}

/// Search-mode parts of a Latin run, so `MA-2500` in a query finds `MA2500` in a listing:
/// the run without its suffix (`12#` → `12`), and its letter and digit parts of 2+ characters.
fn latin_parts(text: &str, run: &LatinRun, out: &mut Vec<WordToken>) {
    let core = &text[run.range.start..run.core_end];
    if run.core_end < run.range.end && !core.is_empty() {
        out.push(WordToken {
            text: core.to_string(),
            range: run.range.start..run.core_end,
            position: run.char_pos,
            char_len: core.len(),
        });
    }
    // The core is ASCII, so byte offsets are character offsets here.
    let numeric = |b: u8| b.is_ascii_digit() || b == b'.' || b == b'-';
    let bytes = core.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..=bytes.len() {
        if i == bytes.len() || numeric(bytes[i]) != numeric(bytes[i - 1]) {
            parts.push(start..i);
            start = i;
        }
    }
    if parts.len() < 2 {
        return;
    }
    for part in parts {
        let piece = &core[part.clone()];
        if piece.len() >= 2 && piece.bytes().any(|b| b.is_ascii_alphanumeric()) {
            out.push(WordToken {
                text: piece.to_string(),
                range: run.range.start + part.start..run.range.start + part.end,
                position: run.char_pos + part.start,
                char_len: piece.len(),
            });
        }
    }
}

/// Adds occurrences of dictionary words that mix scripts; jieba only ever sees the CJK runs.
fn mixed_words(vocab: &Vocabulary, text: &str, out: &mut Vec<WordToken>) {
    for word in vocab.mixed_words() {
        for (at, _) in text.match_indices(word.as_str()) {
            let end = at + word.len();
            let glued_before = word.starts_with(|c: char| c.is_ascii_alphanumeric())
                && text[..at].ends_with(|c: char| c.is_ascii_alphanumeric());
            let glued_after = word.ends_with(|c: char| c.is_ascii_alphanumeric())
                && text[end..].starts_with(|c: char| c.is_ascii_alphanumeric());
            if glued_before || glued_after {
                // `pcr仪` inside `qpcr仪` is not the word `pcr仪`.
                continue;
            }
            out.push(WordToken {
                text: word.clone(),
                range: at..end,
                position: text[..at].chars().count(),
                char_len: word.chars().count(),
            });
        }
    }
}

/// Character tokens of normalised text: each CJK character, each Latin run whole. Positions
/// count tokens (separators do not take a position, sentence breaks take one), so a quoted
/// phrase matches regardless of spaces or commas between its characters.
pub(crate) fn char_tokens(text: &str) -> Vec<WordToken> {
    let mut tokens = Vec::new();
    let mut position = 0;
    for piece in scan(text) {
        match piece {
            Piece::Cjk { range, .. } => {
                for (offset, c) in text[range.clone()].char_indices() {
                    let start = range.start + offset;
                    tokens.push(WordToken {
                        text: c.to_string(),
                        range: start..start + c.len_utf8(),
                        position,
                        char_len: 1,
                    });
                    position += 1;
                }
            }
            Piece::Latin(run) => {
                tokens.push(WordToken {
                    char_len: run.text.chars().count(),
                    text: run.text,
                    range: run.range,
                    position,
                });
                position += 1;
            }
            Piece::SentenceBreak => position += 1,
        }
    }
    tokens
}

/// The tokens a synonym term stands for in a query: its own token when the tokenizer keeps it
/// whole (always, for terms the vocabulary added to jieba), else its default segmentation,
/// all of which a document must contain.
pub(crate) fn term_tokens(vocab: &Vocabulary, normalized_term: &str) -> Vec<String> {
    let whole = 0..normalized_term.len();
    let search = word_tokens(vocab, normalized_term, Mode::Search);
    if search.iter().any(|t| t.range == whole) {
        return vec![normalized_term.to_string()];
    }
    let mut seen = HashSet::new();
    word_tokens(vocab, normalized_term, Mode::Default)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// The "zh" tantivy tokenizer: jieba search-mode words over CJK, Latin runs whole and in parts.
/// Cloning is cheap: the dictionary is shared.
#[derive(Clone)]
pub struct ZhTokenizer {
    vocab: Arc<Vocabulary>,
}

impl ZhTokenizer {
    pub fn new(vocab: Arc<Vocabulary>) -> ZhTokenizer {
        ZhTokenizer { vocab }
    }

    /// Token texts of `text`, in order: handy for diagnostics and tests.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let normalized = Normalized::new(text);
        word_tokens(&self.vocab, &normalized.text, Mode::Search)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }
}

impl Tokenizer for ZhTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let normalized = Normalized::new(text);
        let mut tokens = word_tokens(&self.vocab, &normalized.text, Mode::Search);
        // Tantivy's snippet generator ends a fragment at the end of the last
        // token it saw; a sub-word (`350`) after its whole word (`un350a5`)
        // would cut the fragment short of the highlight and panic. Streaming
        // tokens by end offset keeps fragments covering every token; the
        // index uses each token's explicit position, not the stream order.
        tokens.sort_by(|a, b| {
            (a.range.end, a.range.start, &a.text).cmp(&(b.range.end, b.range.start, &b.text))
        });
        VecTokenStream::new(&normalized, tokens)
    }
}

/// Character tokens plus, at the position of each CJK character that has a CJK neighbour to
/// its right in the same run, the bigram of the two: what the "zh_char" field indexes. Recall
/// clauses then look up a bigram as one term instead of matching a two-character phrase, and
/// quoted phrases still match character by character.
pub(crate) fn char_and_bigram_tokens(text: &str) -> Vec<WordToken> {
    let chars = char_tokens(text);
    let mut tokens = Vec::with_capacity(chars.len() * 2);
    for (i, t) in chars.iter().enumerate() {
        tokens.push(t.clone());
        if let Some(next) = chars.get(i + 1)
            && is_cjk_bigram(t, next)
        {
            tokens.push(WordToken {
                text: format!("{}{}", t.text, next.text),
                range: t.range.start..next.range.end,
                position: t.position,
                char_len: 2,
            });
        }
    }
    tokens
}

/// Two character tokens that form an indexed bigram: both CJK and touching in the text.
pub(crate) fn is_cjk_bigram(a: &WordToken, b: &WordToken) -> bool {
    let cjk = |t: &WordToken| t.text.chars().next().is_some_and(is_cjk);
    a.range.end == b.range.start && cjk(a) && cjk(b)
}

/// The "zh_char" tantivy tokenizer: one token per CJK character, Latin runs whole, and the
/// bigram of every two adjacent CJK characters. It backs the recall field and quoted phrases,
/// which then match any substring regardless of how jieba happened to segment it.
#[derive(Clone, Default)]
pub struct ZhCharTokenizer;

impl ZhCharTokenizer {
    /// Token texts of `text`, in order.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        char_and_bigram_tokens(&Normalized::new(text).text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }
}

impl Tokenizer for ZhCharTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let normalized = Normalized::new(text);
        let tokens = char_and_bigram_tokens(&normalized.text);
        VecTokenStream::new(&normalized, tokens)
    }
}

/// A token stream over tokens computed up front (jieba needs the whole text anyway).
pub struct VecTokenStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl VecTokenStream {
    fn new(normalized: &Normalized, tokens: Vec<WordToken>) -> VecTokenStream {
        let tokens: Vec<Token> = tokens
            .into_iter()
            .map(|t| {
                let original = normalized.original_range(&t.range);
                Token {
                    offset_from: original.start,
                    offset_to: original.end,
                    position: t.position,
                    text: t.text,
                    position_length: t.char_len.max(1),
                }
            })
            .collect();
        VecTokenStream {
            tokens: tokens.into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Arc<Vocabulary> {
        Vocabulary::shared_builtin()
    }

    fn words(text: &str) -> Vec<String> {
        ZhTokenizer::new(vocab()).tokens(text)
    }

    fn stream(text: &str) -> Vec<Token> {
        let mut tokenizer = ZhTokenizer::new(vocab());
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().clone());
        }
        out
    }

    fn has(tokens: &[String], t: &str) -> bool {
        tokens.iter().any(|x| x == t)
    }

    #[test]
    fn brand_model_and_machine_are_separate_words() {
        let t = words("海天MA2500注塑机");
        for expected in ["海天", "ma2500", "ma", "2500", "注塑机"] {
            assert!(has(&t, expected), "{expected} missing from {t:?}");
        }
        assert!(!t.iter().any(|x| x.chars().any(|c| c.is_ascii_uppercase())));
    }

    #[test]
    fn alloy_grade_stays_whole() {
        let t = words("ADC12铝锭");
        assert!(has(&t, "adc12"), "{t:?}");
        assert!(has(&t, "铝锭"), "{t:?}");
        let t = words("日标12#压铸铝");
        assert!(has(&t, "日标12#"), "{t:?}");
        assert!(has(&t, "12#"), "{t:?}");
        assert!(has(&t, "12"), "{t:?}");
    }

    #[test]
    fn pcr_instrument_yields_whole_word_and_sub_words() {
        let t = words("荧光定量PCR仪");
        for expected in ["荧光定量pcr仪", "荧光", "定量", "pcr", "pcr仪"] {
            assert!(has(&t, expected), "{expected} missing from {t:?}");
        }
    }

    #[test]
    fn capacity_and_vehicle() {
        let t = words("3t叉车");
        assert!(has(&t, "3t"), "{t:?}");
        assert!(has(&t, "叉车"), "{t:?}");
        let t = words("出租3.5吨叉车");
        assert!(has(&t, "3.5"), "{t:?}");
        let t = words("T30S拉丝级均聚PP，VMC850立加");
        for expected in ["t30s", "拉丝级", "均聚pp", "pp", "vmc850", "立加"] {
            assert!(has(&t, expected), "{expected} missing from {t:?}");
        }
    }

    #[test]
    fn full_width_is_half_width() {
        assert_eq!(words("ＭＡ２５００"), words("MA2500"));
        assert!(has(&words("ＭＡ２５００"), "ma2500"));
    }

    #[test]
    fn negative_temperature_is_one_token() {
        let t = words("-25℃冷库");
        assert!(has(&t, "-25℃"), "{t:?}");
        assert!(has(&t, "-25"), "{t:?}");
        assert!(has(&t, "冷库"), "{t:?}");
        assert!(has(&words("零下-25°C冷冻"), "-25℃"));
        // a hyphen between letters and digits is not a minus sign
        let t = words("MA-2500");
        assert!(has(&t, "2500") && !has(&t, "-2500"), "{t:?}");
    }

    #[test]
    fn punctuation_whitespace_and_emoji_make_no_tokens() {
        assert!(words("，。！？、 ；：“”（）【】…… \t\n😀🚜").is_empty());
        assert!(ZhCharTokenizer.tokens("!!! ，。😀").is_empty());
        assert_eq!(words("叉车，出租！"), words("叉车 出租"));
    }

    #[test]
    fn unit_signs_are_spelled_out() {
        assert!(has(&words("1500㎡"), "1500m2"));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "急租：ＶＭＣ８５０立加，含税";
        for token in stream(text) {
            let slice = &text[token.offset_from..token.offset_to];
            assert_eq!(normalize_term(slice), token.text, "{token:?}");
        }
        let tokens = stream(text);
        assert!(
            tokens
                .windows(2)
                .all(|w| w[0].offset_from <= w[1].offset_from)
        );
    }

    #[test]
    fn char_tokenizer_splits_cjk_and_keeps_latin_runs() {
        assert_eq!(
            ZhCharTokenizer.tokens("3t叉车PCR仪"),
            vec!["3t", "叉", "叉车", "车", "pcr", "仪"]
        );
        // a space the user typed separates words: no bigram across it, nor across Latin
        assert_eq!(
            ZhCharTokenizer.tokens("叉车 出租"),
            vec!["叉", "叉车", "车", "出", "出租", "租"]
        );
        let bigrams: Vec<(String, usize)> = char_and_bigram_tokens("厂房a库")
            .into_iter()
            .filter(|t| t.char_len == 2)
            .map(|t| (t.text, t.position))
            .collect();
        assert_eq!(bigrams, vec![("厂房".to_string(), 0)]);
        let tokens = char_tokens(&Normalized::new("叉车， 出租。急").text);
        let positions: Vec<usize> = tokens.iter().map(|t| t.position).collect();
        // the comma takes no position, the full stop leaves a gap
        assert_eq!(positions, vec![0, 1, 2, 3, 5]);
    }

    #[test]
    fn long_latin_runs_are_dropped() {
        let garbage = "a".repeat(500);
        assert!(words(&garbage).is_empty());
        assert!(has(&words(&format!("{garbage} 叉车")), "叉车"));
    }
}
