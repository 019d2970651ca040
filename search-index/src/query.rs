//! Search: turns a [`SearchRequest`] into a tantivy query built from our own tokenizer output
//! (never tantivy's `QueryParser`), runs it, and shapes hits, snippets and facets.
//!
//! Text becomes a disjunction of term queries over the word fields (title ×3, attributes ×2,
//! description ×1, firm name ×0.5), synonym terms at [`SYNONYM_BOOST`], and character bigrams
//! (indexed as terms of the char field, ×0.3) for recall when jieba segments a document
//! differently than the query. Terms found in a large share of the index only add to the
//! score (see [`text_query`]). Only quoted input ("…") is required to appear as a phrase:
//! `QueryParser` would turn an unspaced query such as 北京大学公寓 into one phrase and find
//! nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Cardinality, Column, StrColumn};
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur,
    PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyDocument,
};

use crate::error::IndexError;
use crate::schema::{Fields, NO_POINT, enum_value, names, unit_vector, valid_coordinates};
use crate::synonyms::SYNONYM_BOOST;
use crate::tokenizer::{Mode, WordToken, char_tokens, is_cjk, is_cjk_bigram, word_tokens};
use crate::vocab::Vocabulary;

/// Most hits one request returns.
pub const MAX_LIMIT: usize = 100;
/// Deepest page: top-k collection keeps `offset + limit` documents in memory.
pub const MAX_OFFSET: usize = 10_000;
/// Query text past this many characters is ignored: nobody types more, and a listing used as
/// a query (matching) says what it is about well before.
pub const MAX_QUERY_CHARS: usize = 512;
/// Distinct word terms and char clauses kept from one query, to bound its cost.
const MAX_QUERY_TERMS: usize = 64;
const MAX_SYNONYM_ALTERNATIVES: usize = 64;
const MAX_CHAR_CLAUSES: usize = 128;

const WORD_FIELD_BOOSTS: [(WordField, f32); 4] = [
    (WordField::Title, 3.0),
    (WordField::Attributes, 2.0),
    (WordField::Description, 1.0),
    (WordField::FirmName, 0.5),
];
const CHAR_FIELD_BOOST: f32 = 0.3;
/// A word, synonym or bigram in more than this share of the index only adds to the score
/// (see [`text_query`]).
const COMMON_TERM_SHARE: f64 = 0.02;
/// ... but never one found in fewer documents than this: below it a union is cheap anyway,
/// and small parks keep plain "any word" matching.
const COMMON_TERM_MIN_DOCS: u64 = 2_000;
/// Filter value sets up to this size are unions of term queries (see [`raw_set_query`]).
const SMALL_TERM_SET: usize = 8;
/// Common units that add to the score, rarest first; the rest are left out.
const MAX_BOOSTERS: usize = 12;
/// Bytes of a description snippet (~80 CJK characters).
const DESCRIPTION_SNIPPET_BYTES: usize = 240;
/// Titles are short: show them whole.
const TITLE_SNIPPET_BYTES: usize = 1_000;
const FALLBACK_DESCRIPTION_CHARS: usize = 80;
const EARTH_RADIUS_KM: f64 = 6_371.0;

/// One clause of a boolean query.
type Clause = (Occur, Box<dyn Query>);

#[derive(Clone, Copy)]
enum WordField {
    Title,
    Attributes,
    Description,
    FirmName,
}

impl WordField {
    fn field(self, f: &Fields) -> Field {
        match self {
            WordField::Title => f.title,
            WordField::Attributes => f.attributes_text,
            WordField::Description => f.description,
            WordField::FirmName => f.firm_name,
        }
    }
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Relevance,
    Newest,
    /// Nearest to [`SearchRequest::near`] first; listings without coordinates last.
    Distance,
}

/// A point to measure distance from, optionally a radius to stay within.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoFilter {
    pub lat: f64,
    pub lon: f64,
    /// Keep only listings within this many kilometres (listings without coordinates drop out).
    pub radius_km: Option<f64>,
}

/// Which listings the caller may see: public listings of verified firms, community-only
/// listings of verified firms in `allowed_communities`, every listing of the communities in
/// `full_communities` (their staff), and every listing of `own_firm`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisibilityRule {
    pub allowed_communities: Vec<String>,
    pub full_communities: Vec<String>,
    pub own_firm: Option<String>,
}

/// A search. Empty strings and empty lists mean "no filter"; empty text means "everything
/// that passes the filters", newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// Free text; `"…"` marks a phrase that must appear as written.
    pub text: String,
    /// offer | request.
    pub side: Option<String>,
    /// Any of these kinds.
    pub kinds: Vec<String>,
    /// Defaults to `open`; `None` searches closed listings too.
    pub status: Option<String>,
    pub community: Option<String>,
    /// Any of these urgencies.
    pub urgency: Vec<String>,
    /// public | community, as a plain filter.
    pub visibility: Option<String>,
    /// What the caller may see; `None` applies no restriction (staff, internal matching).
    pub visible_to: Option<VisibilityRule>,
    pub firm: Option<String>,
    /// Leave out this firm's listings (a firm is never matched with itself).
    pub exclude_firm: Option<String>,
    pub verified: Option<bool>,
    pub near: Option<GeoFilter>,
    /// Unix seconds that must fall inside the listing's availability window (bounds inclusive,
    /// a missing bound is open-ended).
    pub available_on: Option<i64>,
    /// Unix seconds: leave out listings that expired at or before this instant.
    pub active_at: Option<i64>,
    /// `None`: relevance with text, newest without.
    pub sort: Option<SortOrder>,
    pub offset: usize,
    /// Capped at [`MAX_LIMIT`]; 0 returns only the total and facets.
    pub limit: usize,
    /// Count every match (default). Retrieval that only needs the top hits (matching) turns
    /// it off; `total` is then the number of hits returned.
    pub count: bool,
    /// Count matches exactly only up to this many: beyond it `total` is this cap and
    /// [`SearchResults::total_is_exact`] is false, and a ranked text search collects its top
    /// hits alone, with tantivy's pruning of listings that cannot reach them. `None`
    /// (default): always exact. Facets, when asked for, count everything anyway.
    pub total_cap: Option<u64>,
    /// Count matches per kind and per community (with [`Self::count`]; default). It costs a
    /// pass over every matching listing.
    pub facets: bool,
    /// Highlight snippets in hits (default). Without them hits are read from fast fields
    /// alone, never from the document store.
    pub snippets: bool,
}

impl Default for SearchRequest {
    fn default() -> SearchRequest {
        SearchRequest {
            text: String::new(),
            side: None,
            kinds: Vec::new(),
            status: Some("open".into()),
            community: None,
            urgency: Vec::new(),
            visibility: None,
            visible_to: None,
            firm: None,
            exclude_firm: None,
            verified: None,
            near: None,
            available_on: None,
            active_at: None,
            sort: None,
            offset: 0,
            limit: 20,
            count: true,
            total_cap: None,
            facets: true,
            snippets: true,
        }
    }
}

impl SearchRequest {
    /// Open listings matching `text`, default paging.
    pub fn text(text: impl Into<String>) -> SearchRequest {
        SearchRequest {
            text: text.into(),
            ..SearchRequest::default()
        }
    }
}

/// Title and description with matched words wrapped in `<em>…</em>`, HTML-escaped otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snippets {
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: String,
    /// Relevance (BM25 with boosts); 1.0 when there is no text.
    pub score: f32,
    /// From [`SearchRequest::near`], when both it and the listing have coordinates.
    pub distance_km: Option<f64>,
    pub snippets: Snippets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts over all matching listings (not just the page), largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub kind: Vec<FacetCount>,
    pub community: Vec<FacetCount>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// Number of matching listings; a lower bound unless `total_is_exact`.
    pub total: u64,
    /// Whether `total` counts every match (false past [`SearchRequest::total_cap`], or
    /// when counting was not asked for).
    pub total_is_exact: bool,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// A char-field clause: one token, or two adjacent characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CharClause {
    Term(String),
    Bigram(String, String),
}

/// What the text of a query asks for, in tokens.
#[derive(Debug, Default)]
pub(crate) struct QueryAnalysis {
    /// Word tokens as typed (stop words removed unless nothing else is left).
    pub terms: Vec<String>,
    /// Synonym alternatives; each is a list of tokens that must all occur.
    pub synonyms: Vec<Vec<String>>,
    pub char_clauses: Vec<CharClause>,
    /// Quoted phrases as char tokens with their relative positions.
    pub phrases: Vec<Vec<(usize, String)>>,
}

impl QueryAnalysis {
    fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.synonyms.is_empty()
            && self.char_clauses.is_empty()
            && self.phrases.is_empty()
    }
}

/// Splits query text into (piece, quoted) on straight or typographic double quotes. An
/// unmatched quote is just punctuation.
fn split_quotes(text: &str) -> Vec<(String, bool)> {
    let is_open = |c: char| matches!(c, '"' | '“' | '「' | '『');
    let is_close = |c: char| matches!(c, '"' | '”' | '」' | '』');
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(is_open) {
        let after_open = open + rest[open..].chars().next().map_or(1, char::len_utf8);
        let Some(close_rel) = rest[after_open..].find(is_close) else {
            break;
        };
        let close = after_open + close_rel;
        pieces.push((rest[..open].to_string(), false));
        pieces.push((rest[after_open..close].to_string(), true));
        rest = &rest[close + rest[close..].chars().next().map_or(1, char::len_utf8)..];
    }
    pieces.push((rest.to_string(), false));
    pieces.retain(|(p, _)| !p.trim().is_empty());
    pieces
}

pub(crate) fn analyze_query(vocab: &Vocabulary, raw: &str) -> QueryAnalysis {
    let raw: String = raw.chars().take(MAX_QUERY_CHARS).collect();
    let normalized = crate::tokenizer::Normalized::new(&raw).text;
    let mut analysis = QueryAnalysis::default();
    let mut seen_terms = HashSet::new();
    let mut group_matches = Vec::new();
    let mut seen_chars = HashSet::new();
    for (piece, quoted) in split_quotes(&normalized) {
        let tokens = word_tokens(vocab, &piece, Mode::Search);
        for t in &tokens {
            if seen_terms.insert(t.text.clone()) {
                analysis.terms.push(t.text.clone());
            }
        }
        let starts: HashSet<usize> = tokens.iter().map(|t| t.range.start).collect();
        let ends: HashSet<usize> = tokens.iter().map(|t| t.range.end).collect();
        group_matches.extend(vocab.synonym_table().find(&piece, &starts, &ends));

        let chars = char_tokens(&piece);
        for clause in char_clauses(&chars, vocab) {
            if seen_chars.insert(clause.clone()) {
                analysis.char_clauses.push(clause);
            }
        }
        if quoted && let Some(first) = chars.first() {
            let base = first.position;
            analysis.phrases.push(
                chars
                    .iter()
                    .map(|t| (t.position - base, t.text.clone()))
                    .collect(),
            );
        }
    }
    let content: Vec<String> = analysis
        .terms
        .iter()
        .filter(|t| !vocab.is_stopword(t))
        .cloned()
        .collect();
    if !content.is_empty() {
        analysis.terms = content;
    }
    analysis.terms.truncate(MAX_QUERY_TERMS);
    analysis.char_clauses.truncate(MAX_CHAR_CLAUSES);

    let typed: HashSet<&String> = analysis.terms.iter().collect();
    let mut seen_alternatives = HashSet::new();
    for m in &group_matches {
        for term in vocab.synonym_table().group(m.group) {
            let already_typed = m.matched_terms.contains(&term.norm)
                || matches!(term.tokens.as_slice(), [only] if typed.contains(only));
            if !already_typed && seen_alternatives.insert(term.tokens.clone()) {
                analysis.synonyms.push(term.tokens.clone());
            }
        }
    }
    analysis.synonyms.truncate(MAX_SYNONYM_ALTERNATIVES);
    analysis
}

/// Char clauses of one piece: adjacent CJK characters as bigrams, Latin runs and lone CJK
/// characters (a one-character query, or one between Latin runs) as terms.
fn char_clauses(chars: &[WordToken], vocab: &Vocabulary) -> Vec<CharClause> {
    let cjk = |t: &WordToken| t.text.chars().next().is_some_and(is_cjk);
    // Touching in the text, not just in positions: a space the user typed separates words.
    let adjacent = is_cjk_bigram;
    let mut clauses = Vec::new();
    for (i, t) in chars.iter().enumerate() {
        let next = chars.get(i + 1);
        let prev = i.checked_sub(1).and_then(|p| chars.get(p));
        if let Some(n) = next
            && adjacent(t, n)
        {
            clauses.push(CharClause::Bigram(t.text.clone(), n.text.clone()));
        }
        let paired = next.is_some_and(|n| adjacent(t, n)) || prev.is_some_and(|p| adjacent(p, t));
        if !cjk(t) || (!paired && !vocab.is_stopword(&t.text)) {
            clauses.push(CharClause::Term(t.text.clone()));
        }
    }
    clauses
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// A filter matches or not; it must not change the score.
fn filter(query: Box<dyn Query>) -> Clause {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

/// One thing the text asks for (a word, a synonym alternative, a character bigram) as a
/// query over every field it is looked up in, with how many documents contain it.
struct TextUnit {
    /// Should-clauses, one per field: units join one flat union (nested unions cost a second
    /// merge per document).
    clauses: Vec<Clause>,
    doc_freq: u64,
}

/// Documents containing `term` in a field (deleted documents included, as tantivy counts).
fn doc_freq(searcher: &Searcher, term: &Term) -> u64 {
    searcher.doc_freq(term).unwrap_or(u64::MAX)
}

/// A word (or a synonym alternative of several words that must all occur) in every word field.
fn word_unit(searcher: &Searcher, f: &Fields, tokens: &[String], boost: f32) -> TextUnit {
    let mut clauses: Vec<Clause> = Vec::new();
    let mut unit_freq = 0;
    for (field, field_boost) in WORD_FIELD_BOOSTS {
        let field = field.field(f);
        let query = match tokens {
            [single] => term_query(field, single),
            many => Box::new(BooleanQuery::intersection(
                many.iter().map(|t| term_query(field, t)).collect(),
            )),
        };
        // All tokens must occur: the rarest bounds how many documents can match. Fields
        // overlap (a title word is mostly in the description too), so the largest field
        // stands for the whole.
        let field_freq = tokens
            .iter()
            .map(|t| doc_freq(searcher, &Term::from_field_text(field, t)))
            .min()
            .unwrap_or(0);
        unit_freq = unit_freq.max(field_freq);
        clauses.push((Occur::Should, boosted(query, boost * field_boost)));
    }
    TextUnit {
        clauses,
        doc_freq: unit_freq,
    }
}

/// Documents a term must be in fewer of than this to narrow a search down: the larger of
/// [`COMMON_TERM_SHARE`] of the index and [`COMMON_TERM_MIN_DOCS`].
fn common_cutoff(searcher: &Searcher) -> u64 {
    let docs = searcher.num_docs();
    ((docs as f64 * COMMON_TERM_SHARE) as u64).max(COMMON_TERM_MIN_DOCS)
}

/// The text part of a search, after the "common terms" scheme of Lucene and Elasticsearch:
/// when a typed word is found in fewer documents than [`common_cutoff`], the words, synonyms
/// and bigrams that rare decide which documents match (any of them will do) and the common
/// ones (出租, 求购, 吨 in a large park) only add to the score of documents that matched
/// anyway, so a long title does not drag in half the index and need every one of those
/// documents scored, counted and faceted. A query of common words alone matches any of them,
/// as in a small park. Quoted phrases are always required.
fn text_query(searcher: &Searcher, f: &Fields, analysis: &QueryAnalysis) -> Option<Box<dyn Query>> {
    let typed: Vec<TextUnit> = analysis
        .terms
        .iter()
        .map(|term| word_unit(searcher, f, std::slice::from_ref(term), 1.0))
        .collect();
    let mut others: Vec<TextUnit> = Vec::new();
    for tokens in &analysis.synonyms {
        others.push(word_unit(searcher, f, tokens, SYNONYM_BOOST));
    }
    for clause in &analysis.char_clauses {
        let text = match clause {
            CharClause::Term(t) => t.clone(),
            CharClause::Bigram(a, b) => format!("{a}{b}"),
        };
        let term = Term::from_field_text(f.all_chars, &text);
        others.push(TextUnit {
            doc_freq: doc_freq(searcher, &term),
            clauses: vec![(
                Occur::Should,
                boosted(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    CHAR_FIELD_BOOST,
                ),
            )],
        });
    }
    let cutoff = common_cutoff(searcher);
    // Only a rare typed word narrows the search; synonyms and bigrams then narrow along with
    // it. A query of common words alone (厂房出租) keeps matching any of them.
    let narrows = typed.iter().any(|u| u.doc_freq < cutoff);
    let (rare, common): (Vec<TextUnit>, Vec<TextUnit>) = typed
        .into_iter()
        .chain(others)
        .partition(|u| narrows && u.doc_freq < cutoff);
    let mut clauses: Vec<Clause> = Vec::new();
    if rare.iter().all(|u| u.doc_freq == 0) {
        // Nothing rare is in the index after all: any word will do, as in a small park.
        clauses.extend(common.into_iter().flat_map(|u| u.clauses));
    } else {
        let deciding: Vec<Clause> = rare.into_iter().flat_map(|u| u.clauses).collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(deciding))));
        let mut boosters = common;
        boosters.sort_by_key(|u| u.doc_freq);
        boosters.truncate(MAX_BOOSTERS);
        clauses.extend(boosters.into_iter().flat_map(|u| u.clauses));
    }
    for phrase in &analysis.phrases {
        let query: Box<dyn Query> = match phrase.as_slice() {
            [] => continue,
            [(_, single)] => term_query(f.all_chars, single),
            many => Box::new(PhraseQuery::new_with_offset(
                many.iter()
                    .map(|(offset, t)| (*offset, Term::from_field_text(f.all_chars, t)))
                    .collect(),
            )),
        };
        clauses.push((Occur::Must, query));
    }
    if clauses.is_empty() {
        // The query has words, and none of them is in the index: nothing
        // matches (never "no text", which would match every listing).
        return Some(Box::new(EmptyQuery));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn raw_term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// Any of `values`. A handful become a union of term queries, which an intersection can skip
/// through; more become a term set, which reads every posting into a bit set first.
fn raw_set_query(field: Field, values: impl IntoIterator<Item = String>) -> Box<dyn Query> {
    let terms: Vec<Term> = values
        .into_iter()
        .map(|v| Term::from_field_text(field, &v))
        .collect();
    if terms.len() <= SMALL_TERM_SET {
        Box::new(BooleanQuery::union(
            terms
                .into_iter()
                .map(|t| Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>)
                .collect(),
        ))
    } else {
        Box::new(TermSetQuery::new(terms))
    }
}

/// Great-circle distance in kilometres.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

fn filter_clauses(f: &Fields, req: &SearchRequest) -> Result<Vec<Clause>, IndexError> {
    let mut clauses = Vec::new();
    for (field, value) in [
        (f.side, &req.side),
        (f.status, &req.status),
        (f.visibility, &req.visibility),
    ] {
        if let Some(v) = non_empty(value) {
            clauses.push(filter(raw_term_query(field, &enum_value(v))));
        }
    }
    for (field, value) in [(f.community, &req.community), (f.firm, &req.firm)] {
        if let Some(v) = non_empty(value) {
            clauses.push(filter(raw_term_query(field, v)));
        }
    }
    for (field, values) in [(f.kind, &req.kinds), (f.urgency, &req.urgency)] {
        let values: Vec<String> = values
            .iter()
            .map(|v| enum_value(v))
            .filter(|v| !v.is_empty())
            .collect();
        if !values.is_empty() {
            clauses.push(filter(raw_set_query(field, values)));
        }
    }
    if let Some(rule) = &req.visible_to {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        let communities = clean(&rule.allowed_communities);
        let public = raw_term_query(f.visibility, "public");
        let shown: Box<dyn Query> = if communities.is_empty() {
            public
        } else {
            let own_community = BooleanQuery::intersection(vec![
                raw_term_query(f.visibility, "community"),
                raw_set_query(f.community, communities),
            ]);
            Box::new(BooleanQuery::union(vec![public, Box::new(own_community)]))
        };
        let verified: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_bool(f.verified, true),
            IndexRecordOption::Basic,
        ));
        let mut any: Vec<Box<dyn Query>> =
            vec![Box::new(BooleanQuery::intersection(vec![verified, shown]))];
        let full = clean(&rule.full_communities);
        if !full.is_empty() {
            any.push(raw_set_query(f.community, full));
        }
        if let Some(firm) = non_empty(&rule.own_firm) {
            any.push(raw_term_query(f.firm, firm));
        }
        clauses.push(filter(Box::new(BooleanQuery::union(any))));
    }
    if let Some(firm) = non_empty(&req.exclude_firm) {
        clauses.push((Occur::MustNot, raw_term_query(f.firm, firm)));
    }
    if let Some(verified) = req.verified {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_bool(f.verified, verified),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(at) = req.active_at {
        clauses.push(filter(Box::new(RangeQuery::new(
            Bound::Excluded(Term::from_field_i64(f.expires_at, at)),
            Bound::Unbounded,
        ))));
    }
    if let Some(at) = req.available_on {
        // Missing bounds are stored as i64::MIN / i64::MAX, so two ranges cover open ends.
        clauses.push(filter(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_i64(f.available_from, at)),
        ))));
        clauses.push(filter(Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.available_until, at)),
            Bound::Unbounded,
        ))));
    }
    if let Some(near) = req.near {
        if !valid_coordinates(near.lat, near.lon) {
            return Err(IndexError::InvalidRequest(format!(
                "coordinates out of range: {}, {}",
                near.lat, near.lon
            )));
        }
        if let Some(radius) = near.radius_km {
            if !(radius.is_finite() && radius > 0.0) {
                return Err(IndexError::InvalidRequest(format!(
                    "radius must be a positive number of km, got {radius}"
                )));
            }
            clauses.extend(radius_filter(near.lat, near.lon, radius));
        }
    }
    Ok(clauses)
}

/// Documents within `radius_km` of a point, by chord length on the unit sphere (exact, see
/// [`crate::schema::unit_vector`]); documents without a location drop out.
fn radius_filter(lat: f64, lon: f64, radius_km: f64) -> Vec<Clause> {
    let within = Within::new(lat, lon, radius_km);
    let exact = FunctionPredicate::from(move |segment: &SegmentReader| {
        let points = PointColumns::open(segment)?;
        Ok(move |doc: DocId| {
            points
                .as_ref()
                .is_some_and(|p| p.chord2(doc, within.center) <= within.max_chord2)
        })
    });
    vec![filter(Box::new(DocPredicateQuery::from(exact)))]
}

/// "Within `radius_km` of a point" as a bound on the squared chord between unit vectors.
#[derive(Debug, Clone, Copy)]
struct Within {
    center: [f64; 3],
    max_chord2: f64,
}

impl Within {
    fn new(lat: f64, lon: f64, radius_km: f64) -> Within {
        let angle = (radius_km / EARTH_RADIUS_KM).min(std::f64::consts::PI);
        let chord = 2.0 * (angle / 2.0).sin();
        Within {
            center: unit_vector(lat, lon),
            max_chord2: chord * chord,
        }
    }
}

/// A document's first value in a fast-field column. Columns where every document has exactly
/// one value (kind, community, created_at, the unit-sphere point) are read directly; the
/// general path looks the document's rows up first and costs several times more per document.
fn first_value<T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static>(
    column: &Column<T>,
    doc: DocId,
) -> Option<T> {
    if column.get_cardinality() == Cardinality::Full {
        Some(column.values.get_val(doc))
    } else {
        column.first(doc)
    }
}

/// A segment's unit-sphere columns (every document has a value).
struct PointColumns {
    columns: [Column<f64>; 3],
}

impl PointColumns {
    fn open(segment: &SegmentReader) -> tantivy::Result<Option<PointColumns>> {
        let fast = segment.fast_fields();
        let x = fast.column_opt::<f64>(names::GEO_X)?;
        let y = fast.column_opt::<f64>(names::GEO_Y)?;
        let z = fast.column_opt::<f64>(names::GEO_Z)?;
        Ok(match (x, y, z) {
            (Some(x), Some(y), Some(z)) => Some(PointColumns { columns: [x, y, z] }),
            _ => None,
        })
    }

    /// Squared chord from `doc` to `p`; huge for documents without a location.
    fn chord2(&self, doc: DocId, p: [f64; 3]) -> f64 {
        let mut sum = 0.0;
        for (column, c) in self.columns.iter().zip(p) {
            let v = first_value(column, doc).unwrap_or(NO_POINT[0]);
            sum += (v - c) * (v - c);
        }
        sum
    }
}

/// The full query for a request, and whether it has any text to rank by.
pub(crate) fn build_query(
    searcher: &Searcher,
    f: &Fields,
    vocab: &Vocabulary,
    req: &SearchRequest,
) -> Result<(Box<dyn Query>, bool), IndexError> {
    let analysis = analyze_query(vocab, &req.text);
    let text = if analysis.is_empty() {
        None
    } else {
        text_query(searcher, f, &analysis)
    };
    let has_text = text.is_some();
    let mut clauses = Vec::new();
    if let Some(text) = text {
        clauses.push((Occur::Must, text));
    }
    clauses.extend(filter_clauses(f, req)?);
    if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
        // tantivy matches nothing for a query made only of exclusions.
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok((Box::new(BooleanQuery::new(clauses)), has_text))
}

pub(crate) fn execute(
    searcher: &Searcher,
    f: &Fields,
    vocab: &Vocabulary,
    req: &SearchRequest,
) -> Result<SearchResults, IndexError> {
    let (query, has_text) = build_query(searcher, f, vocab, req)?;
    let limit = req.limit.min(MAX_LIMIT);
    let offset = req.offset.min(MAX_OFFSET);
    let center = req.near.map(|n| (n.lat, n.lon));
    let sort = match (req.sort, has_text, center) {
        (Some(SortOrder::Distance), _, Some(_)) => SortOrder::Distance,
        (Some(SortOrder::Newest), _, _) | (_, false, _) => SortOrder::Newest,
        _ => SortOrder::Relevance,
    };
    let count = req.count || limit == 0;
    let facets = count && req.facets;
    // A cap applies when nothing else needs every match: a ranked text search then collects
    // its top hits alone (pruned) and counts at most the cap.
    let capped = req.total_cap.filter(|_| count && !facets);
    let pruned = limit == 0 || (has_text && sort == SortOrder::Relevance);
    let counting = count.then_some((Count, facets.then_some(FacetCollector)));
    let mut exact = count;
    let (counted, ranked) = if let (Some(cap), true) = (capped, pruned) {
        let ranked = if limit == 0 {
            Vec::new()
        } else {
            let top = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_score();
            searcher.search(&*query, &top)?
        };
        let (total, complete) = count_up_to(searcher, &*query, cap)?;
        exact = complete;
        (Some((total as usize, None)), ranked)
    } else if limit == 0 {
        let counted = searcher.search(&*query, &counting)?;
        (counted, Vec::new())
    } else if !has_text {
        let order = match (sort, center) {
            (SortOrder::Distance, Some((lat, lon))) => BrowseOrder::Nearest(unit_vector(lat, lon)),
            _ => BrowseOrder::Newest,
        };
        let collector = BrowseCollector {
            keep: offset + limit,
            order,
            facets,
        };
        let (total, counted_facets, top) = searcher.search(&*query, &collector)?;
        let ranked = top
            .into_iter()
            .skip(offset)
            .map(|(_, address)| (1.0, address))
            .collect();
        (
            req.count
                .then_some((total, facets.then_some(counted_facets))),
            ranked,
        )
    } else {
        let top = TopDocs::with_limit(limit).and_offset(offset);
        match sort {
            SortOrder::Relevance => searcher.search(&*query, &(counting, top.order_by_score()))?,
            SortOrder::Newest => {
                let collector = top.tweak_score(|segment: &SegmentReader| {
                    let created = segment
                        .fast_fields()
                        .column_opt::<i64>(names::CREATED_AT)
                        .ok()
                        .flatten();
                    move |doc: DocId, score: Score| {
                        let at = created.as_ref().and_then(|c| first_value(c, doc));
                        (at.unwrap_or(i64::MIN), score)
                    }
                });
                let (counted, top) = searcher.search(&*query, &(counting, collector))?;
                (counted, strip_key(top))
            }
            SortOrder::Distance => {
                let (lat, lon) = center.unwrap_or_default();
                let origin = unit_vector(lat, lon);
                let collector = top.tweak_score(move |segment: &SegmentReader| {
                    let points = PointColumns::open(segment).ok().flatten();
                    move |doc: DocId, score: Score| {
                        // Larger keys rank first: the negated chord puts the nearest on top,
                        // listings without a location last.
                        let key = points
                            .as_ref()
                            .map_or(f64::NEG_INFINITY, |p| -p.chord2(doc, origin));
                        (key, score)
                    }
                });
                let (counted, top) = searcher.search(&*query, &(counting, collector))?;
                (counted, strip_key(top))
            }
        }
    };
    let hits = if req.snippets {
        make_hits(searcher, f, &*query, has_text, center, ranked)?
    } else {
        plain_hits(searcher, center, ranked)?
    };
    let (total, facets) = match counted {
        Some((total, facets)) => (total as u64, facets.unwrap_or_default()),
        None => {
            exact = false;
            (hits.len() as u64, Facets::default())
        }
    };
    Ok(SearchResults {
        total,
        total_is_exact: exact,
        hits,
        facets,
    })
}

/// Matches of `query`, counted one by one up to `cap`: `(cap, false)` as soon as there are
/// more, else the exact number and `true`. Nothing is scored.
fn count_up_to(searcher: &Searcher, query: &dyn Query, cap: u64) -> tantivy::Result<(u64, bool)> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut n = 0u64;
    for reader in searcher.segment_readers() {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                if n == cap {
                    return Ok((cap, false));
                }
                n += 1;
            }
            doc = scorer.advance();
        }
    }
    Ok((n, true))
}

fn strip_key<K>(ranked: Vec<((K, Score), DocAddress)>) -> Vec<(Score, DocAddress)> {
    ranked
        .into_iter()
        .map(|((_, score), address)| (score, address))
        .collect()
}

fn make_hits(
    searcher: &Searcher,
    f: &Fields,
    query: &dyn Query,
    has_text: bool,
    center: Option<(f64, f64)>,
    ranked: Vec<(Score, DocAddress)>,
) -> Result<Vec<Hit>, IndexError> {
    let generators = if has_text && !ranked.is_empty() {
        let mut title = SnippetGenerator::create(searcher, query, f.title)?;
        title.set_max_num_chars(TITLE_SNIPPET_BYTES);
        let mut description = SnippetGenerator::create(searcher, query, f.description)?;
        description.set_max_num_chars(DESCRIPTION_SNIPPET_BYTES);
        Some((title, description))
    } else {
        None
    };
    let mut hits = Vec::with_capacity(ranked.len());
    for (score, address) in ranked {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text_of = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let number_of = |field: Field| doc.get_first(field).and_then(|v| v.as_f64());
        let (title, description) = (text_of(f.title), text_of(f.description));
        let snippets = Snippets {
            title: highlight(generators.as_ref().map(|g| &g.0), &title, usize::MAX),
            description: highlight(
                generators.as_ref().map(|g| &g.1),
                &description,
                FALLBACK_DESCRIPTION_CHARS,
            ),
        };
        let distance_km = center
            .zip(number_of(f.lat).zip(number_of(f.lon)))
            .map(|((clat, clon), (lat, lon))| haversine_km(clat, clon, lat, lon));
        hits.push(Hit {
            id: text_of(f.id),
            score,
            distance_km,
            snippets,
        });
    }
    Ok(hits)
}

/// Hits without snippets, from fast fields alone (no document-store reads).
fn plain_hits(
    searcher: &Searcher,
    center: Option<(f64, f64)>,
    ranked: Vec<(Score, DocAddress)>,
) -> Result<Vec<Hit>, IndexError> {
    type SegmentColumns = (Option<StrColumn>, Option<Column<f64>>, Option<Column<f64>>);
    // Columns are opened once per segment, not once per hit.
    let mut columns: HashMap<SegmentOrdinal, SegmentColumns> = HashMap::new();
    let mut hits = Vec::with_capacity(ranked.len());
    let mut id = String::new();
    for (score, address) in ranked {
        let (ids, lats, lons) = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                e.insert((
                    fast.str(names::ID)?,
                    fast.column_opt::<f64>(names::LAT)?,
                    fast.column_opt::<f64>(names::LON)?,
                ))
            }
        };
        id.clear();
        if let Some(column) = ids
            && let Some(ord) = column.term_ords(address.doc_id).next()
        {
            column
                .ord_to_str(ord, &mut id)
                .map_err(tantivy::TantivyError::from)?;
        }
        let first = |c: &Option<Column<f64>>| c.as_ref().and_then(|c| c.first(address.doc_id));
        let distance_km = center
            .zip(first(lats).zip(first(lons)))
            .map(|((clat, clon), (lat, lon))| haversine_km(clat, clon, lat, lon));
        hits.push(Hit {
            id: id.clone(),
            score,
            distance_km,
            snippets: Snippets::default(),
        });
    }
    Ok(hits)
}

/// The highlighted fragment, or the start of the plain text when nothing matched in it.
fn highlight(generator: Option<&SnippetGenerator>, text: &str, fallback_chars: usize) -> String {
    if let Some(generator) = generator {
        // A highlight is never worth a failed search: should tantivy's
        // fragment arithmetic ever trip on an odd token, fall back to plain text.
        let html = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut snippet = generator.snippet(text);
            (!snippet.is_empty()).then(|| {
                snippet.set_snippet_prefix_postfix("<em>", "</em>");
                snippet.to_html()
            })
        }));
        if let Ok(Some(html)) = html {
            return html;
        }
    }
    let mut cut: String = text.chars().take(fallback_chars).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    escape_html(&cut)
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Counts matching documents per kind and per community from the fast fields.
struct FacetCollector;

type FacetMaps = (HashMap<String, u64>, HashMap<String, u64>);

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        let open = |name: &str| -> tantivy::Result<Option<(StrColumn, Vec<u64>)>> {
            Ok(segment.fast_fields().str(name)?.map(|column| {
                let counts = vec![0; column.num_terms()];
                (column, counts)
            }))
        };
        Ok(FacetSegmentCollector {
            kind: open(names::KIND)?,
            community: open(names::COMMUNITY)?,
            buf: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetMaps>) -> tantivy::Result<Facets> {
        let mut kind = BTreeMap::new();
        let mut community = BTreeMap::new();
        for (k, c) in fruits {
            for (value, count) in k {
                *kind.entry(value).or_insert(0) += count;
            }
            for (value, count) in c {
                *community.entry(value).or_insert(0) += count;
            }
        }
        Ok(Facets {
            kind: ranked_counts(kind),
            community: ranked_counts(community),
        })
    }
}

fn ranked_counts(counts: BTreeMap<String, u64>) -> Vec<FacetCount> {
    let mut out: Vec<FacetCount> = counts
        .into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out
}

struct FacetSegmentCollector {
    kind: Option<(StrColumn, Vec<u64>)>,
    community: Option<(StrColumn, Vec<u64>)>,
    buf: Vec<u64>,
}

fn count_ords(slot: &mut Option<(StrColumn, Vec<u64>)>, doc: DocId) {
    if let Some((column, counts)) = slot {
        if column.ords().get_cardinality() == Cardinality::Full {
            let ord = column.ords().values.get_val(doc);
            if let Some(count) = counts.get_mut(ord as usize) {
                *count += 1;
            }
            return;
        }
        for ord in column.term_ords(doc) {
            if let Some(count) = counts.get_mut(ord as usize) {
                *count += 1;
            }
        }
    }
}

fn resolve_ords(slot: Option<(StrColumn, Vec<u64>)>) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    if let Some((column, counts)) = slot {
        let mut value = String::new();
        for (ord, count) in counts.into_iter().enumerate() {
            if count > 0 && matches!(column.ord_to_str(ord as u64, &mut value), Ok(true)) {
                out.insert(value.clone(), count);
            }
        }
    }
    out
}

/// Counts the values of a block of documents: one batched column read where every document
/// has exactly one value.
fn count_ords_block(slot: &mut Option<(StrColumn, Vec<u64>)>, docs: &[DocId], buf: &mut Vec<u64>) {
    let Some((column, counts)) = slot else {
        return;
    };
    if column.ords().get_cardinality() == Cardinality::Full {
        buf.resize(docs.len(), 0);
        column.ords().values.get_vals(docs, buf);
        for &ord in buf.iter() {
            if let Some(count) = counts.get_mut(ord as usize) {
                *count += 1;
            }
        }
    } else {
        for &doc in docs {
            count_ords(slot, doc);
        }
    }
}

impl FacetSegmentCollector {
    fn collect_docs(&mut self, docs: &[DocId]) {
        count_ords_block(&mut self.kind, docs, &mut self.buf);
        count_ords_block(&mut self.community, docs, &mut self.buf);
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetMaps;

    fn collect(&mut self, doc: DocId, _score: Score) {
        count_ords(&mut self.kind, doc);
        count_ords(&mut self.community, doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.collect_docs(docs);
    }

    fn harvest(self) -> FacetMaps {
        (resolve_ords(self.kind), resolve_ords(self.community))
    }
}

/// Order of a search without text.
#[derive(Debug, Clone, Copy)]
enum BrowseOrder {
    Newest,
    /// Nearest to this unit-sphere point.
    Nearest([f64; 3]),
}

/// A search without text in one pass: total, facets and the top `keep` documents by creation
/// time or distance. It needs no scores, so tantivy hands it blocks of matching documents and
/// the sort key is read a block at a time; listing pages of a large park ("everything open,
/// newest first") visit every open listing and are dominated by this per-document work.
struct BrowseCollector {
    keep: usize,
    order: BrowseOrder,
    /// Count kinds and communities too.
    facets: bool,
}

/// Sort key (larger first) and document.
type Keyed = (f64, DocAddress);

struct BrowseSegmentCollector {
    segment_ord: SegmentOrdinal,
    count: usize,
    facets: Option<FacetSegmentCollector>,
    keep: usize,
    order: BrowseOrder,
    created: Option<Column<i64>>,
    points: Option<PointColumns>,
    /// Min-heap of the best `keep` so far: (key, reversed doc) so that among equal keys the
    /// lower document wins, as in tantivy's top collectors.
    top: std::collections::BinaryHeap<std::cmp::Reverse<(OrdF64, std::cmp::Reverse<DocId>)>>,
    keys: Vec<i64>,
}

/// An `f64` with a total order (`f64::total_cmp`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl BrowseSegmentCollector {
    fn offer(&mut self, key: f64, doc: DocId) {
        if self.keep == 0 {
            return;
        }
        let entry = std::cmp::Reverse((OrdF64(key), std::cmp::Reverse(doc)));
        if self.top.len() < self.keep {
            self.top.push(entry);
        } else if let Some(worst) = self.top.peek()
            && entry < *worst
        {
            self.top.pop();
            self.top.push(entry);
        }
    }
}

impl Collector for BrowseCollector {
    type Fruit = (usize, Facets, Vec<Keyed>);
    type Child = BrowseSegmentCollector;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<BrowseSegmentCollector> {
        let (created, points) = match self.order {
            BrowseOrder::Newest => (
                segment.fast_fields().column_opt::<i64>(names::CREATED_AT)?,
                None,
            ),
            BrowseOrder::Nearest(_) => (None, PointColumns::open(segment)?),
        };
        Ok(BrowseSegmentCollector {
            segment_ord,
            count: 0,
            facets: if self.facets {
                Some(FacetCollector.for_segment(segment_ord, segment)?)
            } else {
                None
            },
            keep: self.keep,
            order: self.order,
            created,
            points,
            top: std::collections::BinaryHeap::new(),
            keys: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(usize, FacetMaps, Vec<Keyed>)>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut total = 0;
        let mut maps = Vec::with_capacity(fruits.len());
        let mut top: Vec<Keyed> = Vec::new();
        for (count, facets, hits) in fruits {
            total += count;
            maps.push(facets);
            top.extend(hits);
        }
        top.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        top.truncate(self.keep);
        Ok((total, FacetCollector.merge_fruits(maps)?, top))
    }
}

impl SegmentCollector for BrowseSegmentCollector {
    type Fruit = (usize, FacetMaps, Vec<Keyed>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.collect_block(&[doc]);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.count += docs.len();
        if let Some(f) = &mut self.facets {
            f.collect_docs(docs);
        }
        match self.order {
            BrowseOrder::Newest => {
                let mut keys = std::mem::take(&mut self.keys);
                keys.clear();
                match &self.created {
                    Some(c) if c.get_cardinality() == Cardinality::Full => {
                        keys.resize(docs.len(), 0);
                        c.values.get_vals(docs, &mut keys);
                    }
                    Some(c) => keys.extend(docs.iter().map(|&d| c.first(d).unwrap_or(i64::MIN))),
                    None => keys.resize(docs.len(), i64::MIN),
                }
                for (&doc, &key) in docs.iter().zip(&keys) {
                    self.offer(key as f64, doc);
                }
                self.keys = keys;
            }
            BrowseOrder::Nearest(origin) => {
                for &doc in docs {
                    let key = self
                        .points
                        .as_ref()
                        .map_or(f64::NEG_INFINITY, |p| -p.chord2(doc, origin));
                    self.offer(key, doc);
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let segment_ord = self.segment_ord;
        let top = self
            .top
            .into_iter()
            .map(|std::cmp::Reverse((key, std::cmp::Reverse(doc)))| {
                (key.0, DocAddress::new(segment_ord, doc))
            })
            .collect();
        let facets = self.facets.map(|f| f.harvest()).unwrap_or_default();
        (self.count, facets, top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> QueryAnalysis {
        analyze_query(&Vocabulary::shared_builtin(), text)
    }

    #[test]
    fn quotes_split_phrases() {
        assert_eq!(
            split_quotes("宁波 \"叉车出租\" 3t"),
            vec![
                ("宁波 ".to_string(), false),
                ("叉车出租".to_string(), true),
                (" 3t".to_string(), false)
            ]
        );
        assert_eq!(
            split_quotes("“标准厂房”出租"),
            vec![("标准厂房".to_string(), true), ("出租".to_string(), false)]
        );
        assert_eq!(
            split_quotes("未闭合\"引号"),
            vec![("未闭合\"引号".to_string(), false)]
        );
    }

    #[test]
    fn unquoted_chinese_makes_no_phrase() {
        let a = analysis("北京大学公寓");
        assert!(a.phrases.is_empty());
        assert!(a.terms.contains(&"公寓".to_string()), "{a:?}");
        let a = analysis("\"北京大学\"");
        assert_eq!(
            a.phrases,
            vec![vec![
                (0, "北".to_string()),
                (1, "京".to_string()),
                (2, "大".to_string()),
                (3, "学".to_string())
            ]]
        );
    }

    #[test]
    fn synonyms_expand_and_skip_what_was_typed() {
        let a = analysis("铲车出租");
        assert!(a.synonyms.contains(&vec!["叉车".to_string()]), "{a:?}");
        assert!(a.synonyms.contains(&vec!["堆高车".to_string()]), "{a:?}");
        assert!(!a.synonyms.contains(&vec!["铲车".to_string()]), "{a:?}");
        let a = analysis("ADC12");
        assert!(a.synonyms.contains(&vec!["yl113".to_string()]), "{a:?}");
        assert!(a.synonyms.contains(&vec!["日标12#".to_string()]), "{a:?}");
        // 立加 is not hiding in 建立加工
        let a = analysis("建立加工");
        assert!(!a.synonyms.contains(&vec!["加工中心".to_string()]), "{a:?}");
    }

    #[test]
    fn stop_words_drop_unless_alone() {
        assert!(!analysis("的叉车").terms.contains(&"的".to_string()));
        assert_eq!(analysis("的").terms, vec!["的".to_string()]);
    }

    #[test]
    fn char_clauses_are_bigrams_and_latin_terms() {
        let a = analysis("PCR仪 叉车");
        assert!(a.char_clauses.contains(&CharClause::Term("pcr".into())));
        assert!(a.char_clauses.contains(&CharClause::Term("仪".into())));
        assert!(
            a.char_clauses
                .contains(&CharClause::Bigram("叉".into(), "车".into()))
        );
        assert!(!a.char_clauses.contains(&CharClause::Term("叉".into())));
    }

    #[test]
    fn absurd_text_is_bounded() {
        let long = "叉车出租标准厂房注塑机".repeat(1_000);
        let a = analysis(&long);
        assert!(a.terms.len() <= MAX_QUERY_TERMS);
        assert!(a.char_clauses.len() <= MAX_CHAR_CLAUSES);
        assert!(analysis("，。！？😀🚜").is_empty());
    }

    #[test]
    fn chord_bound_agrees_with_haversine() {
        const KM_PER_DEGREE_LAT: f64 = 111.32;
        // A deterministic spread of points around centres across latitudes and radii.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let chord2 = |a: [f64; 3], b: [f64; 3]| -> f64 {
            a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
        };
        for (lat, lon) in [
            (18.3, 109.5),
            (29.87, 121.55),
            (45.8, 126.6),
            (78.2, 15.6),
            (-33.9, 151.2),
        ] {
            for radius in [0.5, 5.0, 20.0, 50.0, 300.0, 5_000.0, 30_000.0] {
                let within = Within::new(lat, lon, radius);
                for _ in 0..2_000 {
                    let spread = (radius * 1.3 / KM_PER_DEGREE_LAT).min(90.0);
                    let a = (lat + (next() * 2.0 - 1.0) * spread).clamp(-90.0, 90.0);
                    let b = (lon + (next() * 2.0 - 1.0) * spread * 2.0 + 540.0) % 360.0 - 180.0;
                    let d = haversine_km(lat, lon, a, b);
                    if (d - radius).abs() < 1e-6 {
                        continue; // rounding at the very edge
                    }
                    assert_eq!(
                        chord2(unit_vector(a, b), within.center) <= within.max_chord2,
                        d <= radius,
                        "({lat}, {lon}) r={radius} -> ({a}, {b}) d={d}"
                    );
                }
            }
        }
        // No location is farther than anything.
        assert!(chord2(NO_POINT, unit_vector(0.0, 0.0)) > 4.0);
    }

    #[test]
    fn haversine_is_sane() {
        assert!(haversine_km(29.87, 121.55, 29.87, 121.55).abs() < 1e-9);
        // one degree of latitude
        let d = haversine_km(30.0, 121.0, 31.0, 121.0);
        assert!((d - 111.2).abs() < 0.5, "{d}");
    }
}
