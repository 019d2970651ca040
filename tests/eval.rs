//! `zhiqilian eval` and `eval-search`: figures fixed by the set's reference
//! date, and loud failures when judgments and listings disagree.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use zhiqilian_matcher::Weights;

const DEV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev");

/// A copy of the dev set whose judgments pass through `edit`.
fn dev_copy(edit: impl Fn(Vec<String>) -> Vec<String>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("set");
    std::fs::create_dir(&data).expect("mkdir");
    for f in ["listings.jsonl", "meta.json"] {
        std::fs::copy(Path::new(DEV).join(f), data.join(f)).expect("copy");
    }
    let judged: Vec<String> = std::fs::read_to_string(Path::new(DEV).join("judgments.jsonl"))
        .expect("judgments")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    std::fs::write(data.join("judgments.jsonl"), edit(judged).join("\n") + "\n").expect("write");
    (dir, data)
}

/// Runs the binary in an empty folder; (exit code, stderr).
fn zhiqilian(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zhiqilian"))
        .args(args)
        .current_dir(cwd)
        .env_remove("ZQL_CONFIG")
        .output()
        .expect("run zhiqilian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

#[test]
fn eval_and_eval_search_name_a_judged_listing_that_is_missing() {
    let (dir, data) = dev_copy(|mut j| {
        j.push(r#"{"request": "D-R-001", "offer": "D-O-999", "grade": 2}"#.into());
        j
    });
    let d = data.to_str().expect("utf-8 path");
    for cmd in ["eval", "eval-search"] {
        let (code, err) = zhiqilian(&[cmd, "--data", d], dir.path());
        assert_ne!(code, 0, "{cmd} must fail; stderr: {err}");
        assert!(err.contains("D-O-999"), "{cmd} must name the key: {err}");
    }
}

#[test]
fn eval_and_eval_search_name_a_request_without_a_judged_offer() {
    let (dir, data) = dev_copy(|j| {
        j.into_iter()
            .filter(|l| {
                !l.contains(r#""request": "D-R-001""#) && !l.contains(r#""request":"D-R-001""#)
            })
            .collect()
    });
    let d = data.to_str().expect("utf-8 path");
    for cmd in ["eval", "eval-search"] {
        let (code, err) = zhiqilian(&[cmd, "--data", d], dir.path());
        assert_ne!(code, 0, "{cmd} must fail; stderr: {err}");
        assert!(
            err.contains("D-R-001"),
            "{cmd} must name the request: {err}"
        );
    }
}

#[test]
fn eval_without_a_reference_date_says_so_and_as_of_overrides() {
    let (dir, data) = dev_copy(|j| j);
    std::fs::remove_file(data.join("meta.json")).expect("rm meta");
    let d = data.to_str().expect("utf-8 path");
    let (code, err) = zhiqilian(&["eval-search", "--data", d], dir.path());
    assert_ne!(code, 0);
    assert!(err.contains("meta.json"), "{err}");
    let (code, err) = zhiqilian(
        &["eval-search", "--data", d, "--as-of", "2026-11-20"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _) = zhiqilian(&["eval", "--data", d, "--as-of", "20.11.2026"], dir.path());
    assert_ne!(code, 0, "a malformed date is refused");
}

/// The figures are a function of the data, the code and `as_of`: the set's
/// own date and the same date given explicitly agree to the last digit, and
/// a later date (when offers have expired) gives other figures, so the date
/// really is what the ranking reads.
#[test]
fn the_same_as_of_gives_the_same_figures_and_another_date_does_not() {
    let data = Path::new(DEV);
    let w = Weights::default();
    let by_meta = zhiqilian::cli::eval::match_quality(data, &w).expect("evaluate");
    let explicit =
        zhiqilian::cli::eval::match_quality_at(data, &w, date("2026-11-20")).expect("evaluate");
    let json = |q: &zhiqilian::cli::eval::MatchQuality| serde_json::to_string(q).expect("json");
    assert_eq!(json(&by_meta), json(&explicit));
    let later =
        zhiqilian::cli::eval::match_quality_at(data, &w, date("2027-09-01")).expect("evaluate");
    assert_ne!(
        json(&by_meta),
        json(&later),
        "expired offers must change the figures"
    );
}

/// The import stamps the wall clock on every listing; the evaluation store
/// replaces it with the reference date, so freshness cannot drift with the
/// day the figures are computed.
#[test]
fn every_listing_counts_as_posted_on_the_reference_date() {
    let as_of = date("2026-11-20");
    let loaded = zhiqilian::cli::eval::load(Path::new(DEV), as_of).expect("load");
    let mut conn = loaded.db.conn().expect("conn");
    let all = zhiqilian::store::listings::scan(&mut conn, None, i64::MAX).expect("scan");
    assert_eq!(all.len(), 167);
    for v in all {
        assert_eq!(
            v.listing.created_at.date(),
            as_of,
            "{:?}",
            v.listing.ext_key
        );
    }
}

/// The held-out set (eval/heldout) as a regression guard: matching must not
/// fall on parks nobody tuned on. Its misses are never read to tune.
#[test]
fn heldout_set_matching_quality_holds() {
    let data = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/heldout"));
    let q = zhiqilian::cli::eval::match_quality(data, &Weights::default()).expect("evaluate");
    assert_eq!(q.forward.anchors, 45);
    assert_eq!(q.reverse.anchors, 60);
    assert!(q.forward.ndcg5 >= 0.93, "nDCG@5 {:.3}", q.forward.ndcg5);
    assert!(
        q.forward.p1_grade2 >= 0.85,
        "P@1 grade 2 {:.3}",
        q.forward.p1_grade2
    );
    assert!(
        q.reverse.ndcg5 >= 0.93,
        "reverse nDCG@5 {:.3}",
        q.reverse.ndcg5
    );
    let s = zhiqilian::cli::eval::search_quality(data).expect("evaluate search");
    assert_eq!(s.requests, 45);
    assert!(s.grade2_in_top5 >= 0.90, "search {:.3}", s.grade2_in_top5);
}

/// `eval --distractors N`: generated listings in communities at least
/// `DISTRACTOR_MIN_KM` from every listing of the set, none judged, compete
/// for every top 5. The labelled anchors and judgments are untouched; the
/// figures may only fall, by at most what was measured at this size (see
/// docs/BENCHMARKS.md, "Matching quality with distractors").
#[test]
fn distractors_far_away_cost_at_most_the_measured_drop() {
    let data = Path::new(DEV);
    let as_of = date("2026-11-20");
    let vocab = zhiqilian_search_index::Vocabulary::shared_builtin();
    let w = Weights::default();
    let base = zhiqilian::cli::eval::match_quality_full(data, &w, as_of, vocab.clone(), 0)
        .expect("evaluate");
    let with = zhiqilian::cli::eval::match_quality_full(data, &w, as_of, vocab.clone(), 2_000)
        .expect("evaluate with distractors");
    assert_eq!(with.distractors, 2_000);
    assert_eq!(with.forward.anchors, base.forward.anchors);
    assert_eq!(with.reverse.anchors, base.reverse.anchors);
    // Distractors do reach the rankings (the generator writes listings of
    // every kind): a run where none shows up would measure nothing.
    assert!(
        with.misses
            .iter()
            .any(|(_, top)| top.iter().any(|k| k.starts_with("G-"))),
        "{:?}",
        with.misses
    );
    for (name, b, d, bound) in [
        ("forward", &base.forward, &with.forward, 0.21),
        ("reverse", &base.reverse, &with.reverse, 0.20),
    ] {
        assert!(
            d.ndcg5 <= b.ndcg5 + 1e-9,
            "{name}: {:.3} > {:.3}",
            d.ndcg5,
            b.ndcg5
        );
        assert!(
            b.ndcg5 - d.ndcg5 <= bound,
            "{name} nDCG@5 fell from {:.3} to {:.3} with 2,000 distractors (bound {bound})",
            b.ndcg5,
            d.ndcg5
        );
    }

    // The same count always adds the same listings.
    let again =
        zhiqilian::cli::eval::load_with_distractors(data, as_of, vocab.clone(), 50).expect("load");
    let other = zhiqilian::cli::eval::load_with_distractors(data, as_of, vocab, 50).expect("load");
    let keys = |l: &zhiqilian::cli::eval::Loaded| {
        let mut k: Vec<String> = l.key_of.values().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&again), keys(&other));
    assert_eq!(keys(&again).len(), 167 + 50);
    assert_eq!(again.labelled.len(), 167);
}
