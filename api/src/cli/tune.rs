//! `zhiqilian tune`: fits the matcher's factor weights on the outcome log
//! (`match_outcomes`) and writes a weights file only when the fit is
//! better on held-out outcomes *and* no figure of the labelled sets drops
//! beyond the tolerance. See "Tuning the weights on outcomes" in
//! `docs/ARCHITECTURE.md`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use zhiqilian_matcher::Weights;
use zhiqilian_matcher::tune::{self, Step, TuneOptions, Tuned};

use crate::cli::eval::{MatchQuality, RankQuality};
use crate::config::Config;

/// Exit status when the fit was made but nothing was written.
pub const KEPT: i32 = 3;

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Where to write the weights; default: the configured `matcher_weights`
    /// file (the one the server loads).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A labelled set (folder as for `zhiqilian eval`) whose figures the
    /// new weights must not lower; repeat for several. Default: eval/dev
    /// and eval/heldout.
    #[arg(long = "eval-data", value_name = "DIR")]
    pub eval_data: Vec<PathBuf>,
    /// The largest drop allowed in any figure of a labelled set (nDCG@5,
    /// P@1, grade-2 P@1, Recall@10, both directions).
    #[arg(long, default_value_t = 0.01, value_name = "X")]
    pub tolerance: f64,
    /// Folds of the cross-validation over listings.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub folds: usize,
    /// Fewest comparable pairs (matches of one listing with different
    /// outcomes) worth fitting.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub min_pairs: usize,
    /// Smallest gain in held-out pair accuracy that counts as better (it
    /// must also exceed three standard errors).
    #[arg(long, default_value_t = 0.01, value_name = "X")]
    pub min_gain: f64,
    /// Fit and check, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The weights in force: the configured file, or the built-in defaults
/// when none is configured or it does not exist yet.
fn current_weights(path: Option<&Path>) -> anyhow::Result<(Weights, String)> {
    match path {
        Some(p) if p.exists() => Ok((
            crate::http::app::load_weights(Some(p))?,
            format!("{}", p.display()),
        )),
        Some(p) => Ok((
            Weights::default(),
            format!("built-in defaults ({} does not exist yet)", p.display()),
        )),
        None => Ok((Weights::default(), "built-in defaults".into())),
    }
}

fn check_args(a: &TuneArgs) -> anyhow::Result<()> {
    if !(a.tolerance.is_finite() && (0.0..=1.0).contains(&a.tolerance)) {
        bail!("--tolerance: a number from 0 to 1");
    }
    if !(2..=20).contains(&a.folds) {
        bail!("--folds: 2 to 20");
    }
    if !(a.min_gain.is_finite() && (0.0..=1.0).contains(&a.min_gain)) {
        bail!("--min-gain: a number from 0 to 1");
    }
    Ok(())
}

/// The labelled sets to check, each with its figures file present.
fn eval_sets(a: &TuneArgs) -> anyhow::Result<Vec<PathBuf>> {
    let sets = if a.eval_data.is_empty() {
        vec![PathBuf::from("eval/dev"), PathBuf::from("eval/heldout")]
    } else {
        a.eval_data.clone()
    };
    for s in &sets {
        if !s.join("judgments.jsonl").is_file() || !s.join("listings.jsonl").is_file() {
            bail!(
                "labelled set {}: no listings.jsonl and judgments.jsonl there (run from the \
                 source folder, or name the sets with --eval-data DIR)",
                s.display()
            );
        }
    }
    Ok(sets)
}

pub async fn run(config: Config, a: TuneArgs) -> anyhow::Result<i32> {
    check_args(&a)?;
    let out = a
        .out
        .clone()
        .or_else(|| config.matcher_weights.clone())
        .context(
            "no file to write the weights to: set matcher_weights (ZQL_MATCHER_WEIGHTS) to \
             the file the server loads, or pass --out FILE",
        )?;
    let sets = eval_sets(&a)?;
    let (current, source) = current_weights(config.matcher_weights.as_deref())?;
    eprintln!("current weights: {source}");

    let db = super::open_db(&config).await?;
    let log = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut c = db.conn()?;
        Ok(crate::service::outcomes::read_log(&mut c, 5000, |n| {
            eprint!("\rreading the outcome log: {n} entries");
        })?)
    })
    .await??;
    eprintln!();
    let outcomes = tune::outcomes_from_log(&log);
    let opts = TuneOptions {
        folds: a.folds,
        min_pairs: a.min_pairs,
        min_gain: a.min_gain,
        ..TuneOptions::default()
    };
    let cur = current.clone();
    let fitted = tokio::task::spawn_blocking(move || {
        tune::tune(&cur, &outcomes, &opts, |s| match s {
            Step::Data { pairs, groups } => eprintln!(
                "{pairs} comparable pairs in {groups} listings; cross-validating over {} folds",
                opts.folds
            ),
            Step::Lambda { lambda, accuracy } => {
                eprintln!("  pull λ = {lambda}: held-out pair accuracy {accuracy:.3}")
            }
        })
    })
    .await?;
    let t = match fitted {
        Ok(t) => t,
        Err(e) => bail!("{e}; nothing written"),
    };
    println!(
        "held-out pair accuracy: current {:.3}, tuned {:.3} (gain {:+.3} ± {:.3}, λ = {})",
        t.current_accuracy, t.tuned_accuracy, t.gain, t.gain_se, t.lambda
    );
    print!("{}", weight_table(&current, &t.weights));
    if !t.better {
        println!(
            "not written: the tuned weights are not clearly better on held-out outcomes \
             (the gain must be at least {:.3} and three times its standard error, {:.3}); {} is unchanged",
            a.min_gain,
            3.0 * t.gain_se,
            out.display()
        );
        return Ok(KEPT);
    }
    if let Some(why) = eval_drop(&config, &sets, &current, &t.weights, a.tolerance).await? {
        println!("not written: {why}; {} is unchanged", out.display());
        return Ok(KEPT);
    }
    if a.dry_run {
        println!("dry run: would write {}", out.display());
        return Ok(0);
    }
    write_weights(&out, &t, log.len())?;
    println!(
        "written {} (restart the server, or point matcher_weights at it, to use it)",
        out.display()
    );
    Ok(0)
}

/// Every factor weight, current → tuned.
fn weight_table(current: &Weights, tuned: &Weights) -> String {
    let (a, b) = (
        serde_json::to_value(current).unwrap_or_default(),
        serde_json::to_value(tuned).unwrap_or_default(),
    );
    let mut s = String::new();
    for k in zhiqilian_matcher::factor_keys::ALL {
        let (x, y) = (a[*k].as_f64().unwrap_or(0.0), b[*k].as_f64().unwrap_or(0.0));
        let mark = if (x - y).abs() > 1e-9 { " *" } else { "" };
        s.push_str(&format!("  {k:<15} {x:>6.3} → {y:>6.3}{mark}\n"));
    }
    s
}

/// The headline figures of a labelled set, by name.
fn figures(q: &MatchQuality) -> Vec<(String, f64)> {
    let of = |dir: &str, r: &RankQuality| {
        [
            (format!("{dir} nDCG@5"), r.ndcg5),
            (format!("{dir} P@1"), r.p1),
            (format!("{dir} P@1(grade 2)"), r.p1_grade2),
            (format!("{dir} Recall@10"), r.recall10),
        ]
    };
    let mut v = of("request → offers", &q.forward).to_vec();
    v.extend(of("offer → requests", &q.reverse));
    v
}

/// Runs the labelled sets with both weights; the first figure that drops
/// by more than `tolerance`, said in words, or `None`.
async fn eval_drop(
    config: &Config,
    sets: &[PathBuf],
    current: &Weights,
    tuned: &Weights,
    tolerance: f64,
) -> anyhow::Result<Option<String>> {
    let vocab = super::eval_vocabulary(config).await?;
    let mut worst: Option<(f64, String)> = None;
    for set in sets {
        let mut runs = Vec::new();
        for (name, w) in [("current", current), ("tuned", tuned)] {
            eprintln!("{}: matching with the {name} weights…", set.display());
            let (data, w, vocab) = (set.clone(), w.clone(), vocab.clone());
            let q = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let as_of = crate::cli::eval::reference_date(&data, None)?;
                crate::cli::eval::match_quality_full(&data, &w, as_of, vocab, 0)
            })
            .await??;
            runs.push(figures(&q));
        }
        for ((name, before), (_, after)) in runs[0].iter().zip(&runs[1]) {
            let mark = if before - after > tolerance {
                "  ← drops"
            } else {
                ""
            };
            println!(
                "  {} {name:<28} {before:.3} → {after:.3}{mark}",
                set.display()
            );
            let drop = before - after;
            if drop > tolerance && worst.as_ref().is_none_or(|(d, _)| drop > *d) {
                worst = Some((
                    drop,
                    format!(
                        "the tuned weights lower {} {name} from {before:.3} to {after:.3} \
                         (tolerance {tolerance})",
                        set.display()
                    ),
                ));
            }
        }
    }
    Ok(worst.map(|(_, why)| why))
}

/// Writes the weights as TOML beside `out` and renames it into place,
/// keeping a file that was there as `<out>.previous`.
fn write_weights(out: &Path, t: &Tuned, entries: usize) -> anyhow::Result<()> {
    let body = toml::to_string(&t.weights).context("cannot write the weights as TOML")?;
    let text = format!(
        "# Matcher weights fitted by `zhiqilian tune` on {} ({} outcome log entries,\n\
         # {} comparable pairs in {} listings): held-out pair accuracy {:.3} against\n\
         # {:.3} for the weights it replaced (pull toward them λ = {}).\n{body}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        entries,
        t.pairs,
        t.groups,
        t.tuned_accuracy,
        t.current_accuracy,
        t.lambda,
    );
    // The file must read back as the weights it holds.
    let back: Weights = toml::from_str(&text).context("the weights do not read back")?;
    if back != t.weights {
        bail!("the weights do not read back as written");
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    if out.exists() {
        let mut previous = out.as_os_str().to_owned();
        previous.push(".previous");
        std::fs::copy(out, PathBuf::from(&previous))
            .with_context(|| format!("cannot keep the previous {}", out.display()))?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
