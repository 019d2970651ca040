//! Quality figures on a labelled data set in the evaluation format
//! (`listings.jsonl` + `judgments.jsonl`). The data is loaded into a fresh
//! temporary store and index through the same import and indexing code the
//! service uses; judgments are read only to score, never to rank.
//!
//! Figures never depend on the day they are computed: every listing counts
//! as posted on the set's reference date (`as_of` in its `meta.json`, or the
//! caller's override) and matching runs at noon of that date, so the same
//! data and code give the same figures on any day. A judged key that is not
//! in the listings, or a request without a judged offer, is an error that
//! names the key — never a silent drop from the averages.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_search_index::{ListingIndex, SearchRequest};

use crate::cli::import::{ImportOptions, import_file};
use crate::store::{Db, listings};
use crate::worker::indexer;

/// Generated distractors are placed only in communities whose centre lies
/// at least this far from every labelled listing: none of them is a fair
/// match of a labelled listing (in-park first, 内循环), so every one that
/// reaches a top 5 costs the figures.
pub const DISTRACTOR_MIN_KM: f64 = 80.0;
/// The generated communities distractors are drawn from: every generated
/// place with every park name once (the seven of the dev set excluded).
const DISTRACTOR_POOL: usize = 7 + 22 * 10;
/// One seed, so the same N always adds the same listings.
const DISTRACTOR_SEED: u64 = 20_261_120;
/// Firms per distractor community (the generator's default mix).
const DISTRACTOR_FIRMS: usize = 80;

/// The set's `meta.json`: its reference date and what else describes it.
#[derive(Debug, Deserialize)]
pub struct Meta {
    /// The date the listings were written as of: 今天, 明天 and open
    /// windows refer to it.
    pub as_of: NaiveDate,
}

/// Reads `meta.json` of a labelled set.
pub fn meta(data: &Path) -> anyhow::Result<Meta> {
    let path = data.join("meta.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (it names the set's as_of date)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected {{\"as_of\": \"YYYY-MM-DD\", ...}}",
            path.display()
        )
    })
}

/// The reference date: `as_of` if given, else the set's own.
pub fn reference_date(data: &Path, as_of: Option<NaiveDate>) -> anyhow::Result<NaiveDate> {
    match as_of {
        Some(d) => Ok(d),
        None => Ok(meta(data)?.as_of),
    }
}

/// The moment matching runs at on `as_of`: noon (UTC) of that date.
pub fn moment(as_of: NaiveDate) -> DateTime<Utc> {
    as_of.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

#[derive(Debug, Deserialize)]
struct Judgment {
    request: String,
    offer: String,
    grade: u8,
}

#[derive(Debug, Serialize)]
pub struct SearchQuality {
    pub requests: usize,
    /// Generated listings loaded beside the set.
    pub distractors: u64,
    /// Share of requests with a grade-2 offer among the top 5 hits.
    pub grade2_in_top5: f64,
    /// Mean reciprocal rank of the first grade-2 offer (0 when none in the top 50).
    pub mrr_grade2: f64,
    pub per_kind: HashMap<String, f64>,
    /// Requests with no grade-2 offer in their top 5.
    pub misses: Vec<String>,
}

/// A temporary store and index holding one data set.
pub struct Loaded {
    pub db: Db,
    pub index: ListingIndex,
    /// listing key → id and back (distractors included).
    pub id_of: HashMap<String, String>,
    pub key_of: HashMap<String, String>,
    /// Keys of the labelled set's own listings, in file order.
    pub labelled: Vec<String>,
    /// Generated distractors loaded beside the set.
    pub distractors: u64,
    _dir: tempfile::TempDir,
}

/// A listing's key and, when it has one, its position.
type KeyedPoint = (String, Option<(f64, f64)>);

/// Key and position of every listing of a set's `listings.jsonl`.
fn labelled_listings(path: &Path) -> anyhow::Result<Vec<KeyedPoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let Some(key) = v.get("key").and_then(|k| k.as_str()) else {
            anyhow::bail!("{}:{}: no key", path.display(), i + 1);
        };
        let loc = v.get("location");
        let at = |f: &str| loc.and_then(|l| l.get(f)).and_then(|x| x.as_f64());
        out.push((key.to_string(), at("lat").zip(at("lon"))));
    }
    Ok(out)
}

/// Writes `n` generated listings by firms of communities at least
/// [`DISTRACTOR_MIN_KM`] from every point of `points` to `path`.
fn write_distractors(path: &Path, points: &[(f64, f64)], n: u64) -> anyhow::Result<()> {
    let places =
        zhiqilian_bench::places::communities_away_from(points, DISTRACTOR_MIN_KM, DISTRACTOR_POOL);
    if places.is_empty() {
        anyhow::bail!(
            "no generated community lies {DISTRACTOR_MIN_KM} km or more from every listing of the set"
        );
    }
    let cfg = zhiqilian_bench::Config {
        count: n,
        seed: DISTRACTOR_SEED,
        communities: places.len(),
        firms_per_community: DISTRACTOR_FIRMS,
    };
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    zhiqilian_bench::generate_in(&cfg, places, &mut w)?;
    Ok(())
}

/// Loads `data` with every listing posted at the start of `as_of` (the
/// import stamps the wall clock; that must not reach freshness).
pub fn load(data: &Path, as_of: NaiveDate) -> anyhow::Result<Loaded> {
    load_with(
        data,
        as_of,
        zhiqilian_search_index::Vocabulary::shared_builtin(),
    )
}

/// [`load`] with the index on `vocab` (a deployment's edited vocabulary, or
/// one with a group left out to measure what it brings).
pub fn load_with(
    data: &Path,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
) -> anyhow::Result<Loaded> {
    load_with_distractors(data, as_of, vocab, 0)
}

/// [`load_with`] plus `distractors` generated listings (a fixed seed: the
/// same count gives the same listings) in communities at least
/// [`DISTRACTOR_MIN_KM`] from every listing of the set, none of them judged.
pub fn load_with_distractors(
    data: &Path,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
    distractors: u64,
) -> anyhow::Result<Loaded> {
    let labelled = labelled_listings(&data.join("listings.jsonl"))?;
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let db = Db::connect(&format!("sqlite://{}/eval.db", dir.path().display()), 2)?;
    db.migrate()?;
    let report = import_file(
        &db,
        &data.join("listings.jsonl"),
        ImportOptions {
            verify_firms: true,
            progress: false,
        },
    )?;
    if let Some(e) = report.errors.first() {
        anyhow::bail!("listings.jsonl line {}: {}: {}", e.line, e.field, e.message);
    }
    if distractors > 0 {
        let points: Vec<(f64, f64)> = labelled.iter().filter_map(|(_, at)| *at).collect();
        let path = dir.path().join("distractors.jsonl");
        write_distractors(&path, &points, distractors)?;
        let report = import_file(
            &db,
            &path,
            ImportOptions {
                verify_firms: true,
                progress: false,
            },
        )?;
        if let Some(e) = report.errors.first() {
            anyhow::bail!(
                "generated distractor line {}: {}: {}",
                e.line,
                e.field,
                e.message
            );
        }
        let _ = std::fs::remove_file(&path);
    }
    restamp(&db, as_of)?;
    let index = ListingIndex::create_in_ram(vocab)?;
    indexer::rebuild(&db, &index, |_| {})?;
    let mut id_of = HashMap::new();
    let mut key_of = HashMap::new();
    let mut conn = db.conn()?;
    {
        use crate::store::schema::listings as l;
        use diesel::prelude::*;
        let keyed: Vec<(String, Option<String>)> = l::table
            .select((l::id, l::ext_key))
            .load(&mut *conn)
            .context("cannot read listing keys")?;
        for (id, key) in keyed {
            if let Some(k) = key {
                id_of.insert(k.clone(), id.clone());
                key_of.insert(id, k);
            }
        }
    }
    drop(conn);
    Ok(Loaded {
        db,
        index,
        id_of,
        key_of,
        labelled: labelled.into_iter().map(|(k, _)| k).collect(),
        distractors,
        _dir: dir,
    })
}

/// Sets the creation and update time of every listing to the start of `as_of`
/// (one statement: the index is rebuilt from the rows afterwards).
fn restamp(db: &Db, as_of: NaiveDate) -> anyhow::Result<()> {
    use crate::store::schema::listings as l;
    use diesel::prelude::*;
    let at = as_of.and_hms_opt(0, 0, 0).unwrap_or_default();
    let mut conn = db.conn()?;
    diesel::update(l::table)
        .set((l::created_at.eq(at), l::updated_at.eq(at)))
        .execute(&mut *conn)
        .context("cannot restamp the listings")?;
    Ok(())
}

/// The set's own listings by key (never the distractors).
fn labelled_rows(
    loaded: &Loaded,
) -> anyhow::Result<HashMap<String, crate::store::models::Listing>> {
    let mut conn = loaded.db.conn()?;
    let mut out = HashMap::new();
    for keys in loaded.labelled.chunks(500) {
        out.extend(listings::by_ext_keys(&mut conn, keys)?);
    }
    Ok(out)
}

/// Every judged key must name a listing of the right side, and every
/// request of the set must have a judged offer of at least `min_grade`;
/// otherwise an error naming the keys.
fn check_judgments(loaded: &Loaded, judged: &[Judgment], min_grade: u8) -> anyhow::Result<()> {
    let side_of: HashMap<String, String> = labelled_rows(loaded)?
        .into_iter()
        .map(|(k, l)| (k, l.side))
        .collect();
    let mut problems: BTreeSet<String> = BTreeSet::new();
    for j in judged {
        for (key, side) in [(&j.request, "request"), (&j.offer, "offer")] {
            match side_of.get(key) {
                None => {
                    problems.insert(format!("judged listing {key} is not in listings.jsonl"));
                }
                Some(s) if s != side => {
                    problems.insert(format!(
                        "judged listing {key} is an {s}, judged as an {side}"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let mut requests: Vec<&String> = side_of
        .iter()
        .filter(|(_, s)| *s == "request")
        .map(|(k, _)| k)
        .collect();
    requests.sort();
    for r in requests {
        if !judged
            .iter()
            .any(|j| &j.request == r && j.grade >= min_grade.max(1))
        {
            problems.insert(if min_grade >= 2 {
                format!("request {r} has no judged grade-2 offer")
            } else {
                format!("request {r} has no judged offer")
            });
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.into_iter().collect();
    anyhow::bail!("{}: {}", loaded_hint(list.len()), list.join("; "))
}

fn loaded_hint(n: usize) -> String {
    format!("judgments.jsonl and listings.jsonl disagree ({n} problem(s))")
}

fn judgments(data: &Path) -> anyhow::Result<Vec<Judgment>> {
    let path = data.join("judgments.jsonl");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1))
        })
        .collect()
}

/// For every request: search its title among offers of the same kind, as
/// of the set's reference date.
pub fn search_quality(data: &Path) -> anyhow::Result<SearchQuality> {
    search_quality_at(data, reference_date(data, None)?)
}

/// [`search_quality`] as of `as_of`.
pub fn search_quality_at(data: &Path, as_of: NaiveDate) -> anyhow::Result<SearchQuality> {
    search_quality_with(
        data,
        as_of,
        zhiqilian_search_index::Vocabulary::shared_builtin(),
    )
}

/// [`search_quality_at`] on the vocabulary `vocab`.
pub fn search_quality_with(
    data: &Path,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
) -> anyhow::Result<SearchQuality> {
    search_quality_full(data, as_of, vocab, 0)
}

/// [`search_quality_with`] with `distractors` generated listings loaded
/// beside the set (see [`load_with_distractors`]).
pub fn search_quality_full(
    data: &Path,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
    distractors: u64,
) -> anyhow::Result<SearchQuality> {
    let loaded = load_with_distractors(data, as_of, vocab, distractors)?;
    let judged = judgments(data)?;
    check_judgments(&loaded, &judged, 2)?;
    let mut grade2: HashMap<&str, HashSet<&str>> = HashMap::new();
    for j in &judged {
        if j.grade >= 2 {
            grade2
                .entry(j.request.as_str())
                .or_default()
                .insert(j.offer.as_str());
        }
    }
    let mut requests: Vec<_> = labelled_rows(&loaded)?
        .into_values()
        .filter(|l| l.side == "request")
        .collect();
    requests.sort_by(|a, b| a.ext_key.cmp(&b.ext_key));
    let (mut hits5, mut rr, mut n) = (0usize, 0f64, 0usize);
    let mut per_kind: HashMap<String, (usize, usize)> = HashMap::new();
    let mut misses = Vec::new();
    for r in &requests {
        let Some(key) = r.ext_key.as_deref() else {
            continue;
        };
        let Some(good) = grade2.get(key) else {
            anyhow::bail!("request {key} has no judged grade-2 offer");
        };
        n += 1;
        let res = loaded.index.search(&SearchRequest {
            side: Some("offer".into()),
            kinds: vec![r.kind.clone()],
            exclude_firm: Some(r.firm_id.clone()),
            active_at: Some(moment(as_of).timestamp()),
            limit: 50,
            ..SearchRequest::text(r.title.clone())
        })?;
        let rank = res.hits.iter().position(|h| {
            loaded
                .key_of
                .get(&h.id)
                .is_some_and(|k| good.contains(k.as_str()))
        });
        let e = per_kind.entry(r.kind.clone()).or_default();
        e.1 += 1;
        match rank {
            Some(p) if p < 5 => {
                hits5 += 1;
                e.0 += 1;
            }
            _ => misses.push(key.to_string()),
        }
        if let Some(p) = rank {
            rr += 1.0 / (p as f64 + 1.0);
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(SearchQuality {
        requests: n,
        distractors: loaded.distractors,
        grade2_in_top5: share(hits5, n),
        mrr_grade2: if n == 0 { 0.0 } else { rr / n as f64 },
        per_kind: per_kind
            .into_iter()
            .map(|(k, (a, b))| (k, share(a, b)))
            .collect(),
        misses,
    })
}

/// Ranking quality of one direction.
#[derive(Debug, Default, Serialize)]
pub struct RankQuality {
    /// Anchors with at least one judged pair.
    pub anchors: usize,
    /// nDCG@5 with gain 2^grade − 1.
    #[serde(rename = "ndcg@5")]
    pub ndcg5: f64,
    /// Share of anchors whose top candidate is judged relevant (grade ≥ 1).
    #[serde(rename = "p@1")]
    pub p1: f64,
    /// Share of anchors whose top candidate has grade 2.
    #[serde(rename = "p@1_grade2")]
    pub p1_grade2: f64,
    /// Mean share of judged relevant (grade ≥ 1) candidates in the top 10.
    #[serde(rename = "recall@10")]
    pub recall10: f64,
}

#[derive(Debug, Serialize)]
pub struct MatchQuality {
    /// Generated listings loaded beside the set.
    pub distractors: u64,
    #[serde(flatten)]
    pub forward: RankQuality,
    pub per_kind: std::collections::BTreeMap<String, RankQuality>,
    /// Offers ranked against requests: the same pairs with roles swapped.
    pub reverse: RankQuality,
    /// The reverse direction by the offers' kind.
    pub reverse_per_kind: std::collections::BTreeMap<String, RankQuality>,
    /// Requests whose top offer is not judged relevant, with their top 3.
    pub misses: Vec<(String, Vec<String>)>,
}

#[derive(Default)]
struct Acc {
    n: usize,
    ndcg: f64,
    p1: f64,
    p1g2: f64,
    recall: f64,
}

impl Acc {
    fn add(&mut self, ranked: &[String], grades: &HashMap<&str, u8>) {
        let gain = |g: u8| (2f64.powi(g as i32)) - 1.0;
        let dcg: f64 = ranked
            .iter()
            .take(5)
            .enumerate()
            .map(|(i, k)| gain(*grades.get(k.as_str()).unwrap_or(&0)) / ((i + 2) as f64).log2())
            .sum();
        let mut ideal: Vec<u8> = grades.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(5)
            .enumerate()
            .map(|(i, g)| gain(*g) / ((i + 2) as f64).log2())
            .sum();
        let top = ranked
            .first()
            .and_then(|k| grades.get(k.as_str()))
            .copied()
            .unwrap_or(0);
        let relevant = grades.values().filter(|g| **g >= 1).count();
        let found = ranked
            .iter()
            .take(10)
            .filter(|k| grades.get(k.as_str()).is_some_and(|g| *g >= 1))
            .count();
        self.n += 1;
        self.ndcg += if idcg > 0.0 { dcg / idcg } else { 0.0 };
        self.p1 += f64::from(u8::from(top >= 1));
        self.p1g2 += f64::from(u8::from(top >= 2));
        self.recall += if relevant > 0 {
            found as f64 / relevant as f64
        } else {
            0.0
        };
    }

    fn done(&self) -> RankQuality {
        let m = |x: f64| if self.n == 0 { 0.0 } else { x / self.n as f64 };
        RankQuality {
            anchors: self.n,
            ndcg5: m(self.ndcg),
            p1: m(self.p1),
            p1_grade2: m(self.p1g2),
            recall10: m(self.recall),
        }
    }
}

/// Runs the matcher for every judged request (and, reversed, every judged
/// offer) through the same retrieval and scoring path as the API, as of the
/// set's reference date.
pub fn match_quality(
    data: &Path,
    weights: &zhiqilian_matcher::Weights,
) -> anyhow::Result<MatchQuality> {
    match_quality_at(data, weights, reference_date(data, None)?)
}

/// [`match_quality`] as of `as_of`.
pub fn match_quality_at(
    data: &Path,
    weights: &zhiqilian_matcher::Weights,
    as_of: NaiveDate,
) -> anyhow::Result<MatchQuality> {
    match_quality_with(
        data,
        weights,
        as_of,
        zhiqilian_search_index::Vocabulary::shared_builtin(),
    )
}

/// [`match_quality_at`] on the vocabulary `vocab`.
pub fn match_quality_with(
    data: &Path,
    weights: &zhiqilian_matcher::Weights,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
) -> anyhow::Result<MatchQuality> {
    match_quality_full(data, weights, as_of, vocab, 0)
}

/// [`match_quality_with`] with `distractors` generated listings loaded
/// beside the set (see [`load_with_distractors`]): they compete for every
/// top 5 and none of them is judged relevant.
pub fn match_quality_full(
    data: &Path,
    weights: &zhiqilian_matcher::Weights,
    as_of: NaiveDate,
    vocab: std::sync::Arc<zhiqilian_search_index::Vocabulary>,
    distractors: u64,
) -> anyhow::Result<MatchQuality> {
    let loaded = load_with_distractors(data, as_of, vocab, distractors)?;
    let judged = judgments(data)?;
    check_judgments(&loaded, &judged, 1)?;
    let now = moment(as_of);
    let mut by_request: HashMap<&str, HashMap<&str, u8>> = HashMap::new();
    let mut by_offer: HashMap<&str, HashMap<&str, u8>> = HashMap::new();
    for j in &judged {
        by_request
            .entry(j.request.as_str())
            .or_default()
            .insert(j.offer.as_str(), j.grade);
        by_offer
            .entry(j.offer.as_str())
            .or_default()
            .insert(j.request.as_str(), j.grade);
    }
    let mut conn = loaded.db.conn()?;
    let rank = |conn: &mut crate::store::DbConnection,
                key: &str|
     -> anyhow::Result<(String, Vec<String>)> {
        let Some(id) = loaded.id_of.get(key) else {
            anyhow::bail!("judged listing {key} is not in listings.jsonl");
        };
        let Some(anchor) = listings::get(conn, id)? else {
            anyhow::bail!("judged listing {key} is not in the store");
        };
        let found = crate::service::matching::find_matches_at(
            conn,
            &loaded.index,
            &anchor,
            None,
            weights,
            50,
            now,
        )?;
        let keys = found
            .iter()
            .filter_map(|c| loaded.key_of.get(&c.view.listing.id).cloned())
            .collect();
        Ok((anchor.listing.kind.clone(), keys))
    };
    let mut forward = Acc::default();
    let mut kinds: std::collections::BTreeMap<String, Acc> = Default::default();
    let mut misses = Vec::new();
    let mut requests: Vec<&&str> = by_request.keys().collect();
    requests.sort();
    for r in requests {
        let (kind, ranked) = rank(&mut conn, r)?;
        if ranked
            .first()
            .and_then(|k| by_request[*r].get(k.as_str()))
            .is_none_or(|g| *g == 0)
        {
            misses.push((r.to_string(), ranked.iter().take(3).cloned().collect()));
        }
        forward.add(&ranked, &by_request[*r]);
        kinds.entry(kind).or_default().add(&ranked, &by_request[*r]);
    }
    let mut reverse = Acc::default();
    let mut reverse_kinds: std::collections::BTreeMap<String, Acc> = Default::default();
    let mut offers: Vec<&&str> = by_offer.keys().collect();
    offers.sort();
    for o in offers {
        let (kind, ranked) = rank(&mut conn, o)?;
        reverse.add(&ranked, &by_offer[*o]);
        reverse_kinds
            .entry(kind)
            .or_default()
            .add(&ranked, &by_offer[*o]);
    }
    Ok(MatchQuality {
        distractors: loaded.distractors,
        forward: forward.done(),
        per_kind: kinds.into_iter().map(|(k, a)| (k, a.done())).collect(),
        reverse: reverse.done(),
        reverse_per_kind: reverse_kinds
            .into_iter()
            .map(|(k, a)| (k, a.done()))
            .collect(),
        misses,
    })
}
