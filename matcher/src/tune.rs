//! Fitting the factor weights to a park's own outcomes: a regularised
//! pairwise logistic fit, pulled toward the current weights, with the
//! strength of the pull chosen by cross-validation, and a verdict that only
//! says "better" when the gain on held-out outcomes is clear.
//!
//! # From the outcome log to pairs
//!
//! The log (`match_outcomes`, see `docs/ARCHITECTURE.md`) holds, for every
//! match the firms contacted, declined, agreed on or completed, the factor
//! values the match showed at that moment. [`outcomes_from_log`] keeps the
//! latest outcome of each match (a contact later declined counts as
//! declined) and compares matches that share a listing: among the recorded
//! matches of one request (or of one offer), each match with a better
//! outcome (declined < contacted < agreed < completed) should score higher
//! than each with a worse one. The matches of one listing form a *group*.
//!
//! # The model
//!
//! With factor values `v`, weights `w` and the urgency multipliers `m` of
//! the request (on `distance` and `available_now`, as the scorer applies
//! them), the score is the weighted mean `Σ mₖwₖvₖ / Σ mₖwₖ` over the
//! factors present. The fit minimises
//!
//! `Σ log(1 + exp(−β (s(better) − s(worse)))) / n + λ Σₖ (wₖ − w₀ₖ)² / w₀ₖ`
//!
//! over `w ≥ 0` by projected gradient descent, with `β` a fixed sharpness
//! and `λ` the pull toward the current weights `w₀` (relative, so a weight
//! of 0.5 is not pulled as hard as one of 3; a weight set to 0 stays 0).
//! Only relative weights matter, so the result is rescaled to the current
//! total.
//!
//! # Cross-validation and the verdict
//!
//! Groups are split into k folds (all pairs of a group in one fold). For
//! every `λ` and fold, the weights fitted on the other folds are scored on
//! the held-out pairs: the share ordered correctly (ties count half). The
//! `λ` with the best mean is chosen; then the held-out accuracies of the
//! current and the fitted weights are measured again on a second,
//! shuffled split into folds (so the luck that picked `λ` is not counted
//! as gain), and the fitted weights are `better` only when their gain
//! there is at least `min_gain` *and* at least `z` standard errors
//! (clustered by group), so a small or noisy log never replaces weights
//! that work.
//!
//! Pure: no I/O. The caller reads the log and decides whether to write.

use std::collections::HashMap;
use std::fmt;

use crate::model::{MatchOutcome, Urgency};
use crate::score::{Weights, factor_keys};

/// Factor values of one match, by key of [`factor_keys`]; a key that is
/// absent was not computable for it.
pub type FactorValues = HashMap<&'static str, f64>;

/// A match as the firms saw it: its factor values and the urgency of its
/// request (which multiplies the weights of `distance` and `available_now`).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub values: FactorValues,
    pub urgency: Urgency,
}

impl Candidate {
    /// A candidate of a normal-urgency request.
    pub fn normal(values: FactorValues) -> Self {
        Self {
            values,
            urgency: Urgency::Normal,
        }
    }
}

/// One entry of the outcome log.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The match record.
    pub match_key: String,
    /// Its request and offer (the listings whose matches are compared).
    pub request: String,
    pub offer: String,
    pub outcome: MatchOutcome,
    pub candidate: Candidate,
}

/// One comparison set: a match the firms preferred and the matches of the
/// same listing they judged worse.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The listing the matches share; a group's pairs stay in one fold.
    pub group: usize,
    /// The preferred match.
    pub chosen: Candidate,
    /// Matches of the same listing with a worse outcome.
    pub passed: Vec<Candidate>,
}

/// The comparisons a log holds: the latest outcome of each match (entries
/// in the order they were recorded), compared within the matches of each
/// request and of each offer. Groups without two different outcomes give
/// nothing.
pub fn outcomes_from_log(log: &[Recorded]) -> Vec<Outcome> {
    let mut latest: HashMap<&str, &Recorded> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in log {
        if latest.insert(r.match_key.as_str(), r).is_none() {
            order.push(r.match_key.as_str());
        }
    }
    let mut groups: Vec<(String, Vec<&Recorded>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for key in &order {
        let r = latest[key];
        for listing in [format!("r:{}", r.request), format!("o:{}", r.offer)] {
            let i = *index.entry(listing.clone()).or_insert_with(|| {
                groups.push((listing, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(r);
        }
    }
    let mut out = Vec::new();
    let mut group = 0;
    for (_, members) in &groups {
        let mut any = false;
        for m in members {
            let passed: Vec<Candidate> = members
                .iter()
                .filter(|o| o.outcome < m.outcome)
                .map(|o| o.candidate.clone())
                .collect();
            if !passed.is_empty() {
                any = true;
                out.push(Outcome {
                    group,
                    chosen: m.candidate.clone(),
                    passed,
                });
            }
        }
        if any {
            group += 1;
        }
    }
    out
}

/// Settings of the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneOptions {
    /// Candidate strengths of the pull toward the current weights.
    pub lambdas: Vec<f64>,
    /// Folds of the cross-validation (at least 2).
    pub folds: usize,
    /// Sharpness of the logistic on score differences (scores are in [0, 1]).
    pub sharpness: f64,
    /// Gradient steps.
    pub steps: usize,
    /// Step size.
    pub learning_rate: f64,
    /// Fewest comparable pairs worth fitting.
    pub min_pairs: usize,
    /// Smallest held-out gain in pair accuracy that counts as better.
    pub min_gain: f64,
    /// Standard errors the held-out gain must also exceed.
    pub z: f64,
}

impl Default for TuneOptions {
    fn default() -> Self {
        Self {
            lambdas: vec![0.001, 0.01, 0.1, 1.0],
            folds: 5,
            sharpness: 20.0,
            steps: 400,
            learning_rate: 0.5,
            min_pairs: 30,
            min_gain: 0.01,
            z: 3.0,
        }
    }
}

/// Why nothing was fitted.
#[derive(Debug, Clone, PartialEq)]
pub enum TuneError {
    /// Too few comparable pairs (or listings with them) to fit and
    /// cross-validate.
    TooFew {
        pairs: usize,
        groups: usize,
        min_pairs: usize,
        min_groups: usize,
    },
}

impl fmt::Display for TuneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TuneError::TooFew {
                pairs,
                groups,
                min_pairs,
                min_groups,
            } => write!(
                f,
                "too few outcomes to fit: {pairs} comparable pairs in {groups} listings \
                 (need at least {min_pairs} pairs in {min_groups} listings: matches of one \
                 listing with different outcomes, e.g. one contacted and one declined)"
            ),
        }
    }
}

impl std::error::Error for TuneError {}

/// What [`tune`] reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The data: comparable pairs in groups.
    Data { pairs: usize, groups: usize },
    /// One pull strength cross-validated: mean held-out pair accuracy of
    /// the fitted weights.
    Lambda { lambda: f64, accuracy: f64 },
}

/// The result of [`tune`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The fitted weights (factor weights only; shape parameters and
    /// urgency multipliers are kept), fitted on every pair.
    pub weights: Weights,
    /// The chosen pull.
    pub lambda: f64,
    /// Comparable pairs and the groups they fall in.
    pub pairs: usize,
    pub groups: usize,
    /// Share of held-out pairs the current weights order correctly (on
    /// the second split).
    pub current_accuracy: f64,
    /// The same for the fitted weights (cross-validated with the chosen pull).
    pub tuned_accuracy: f64,
    /// `tuned_accuracy − current_accuracy` and its standard error
    /// (clustered by group).
    pub gain: f64,
    pub gain_se: f64,
    /// Whether the gain is at least `min_gain` and `z` standard errors;
    /// only then should a caller write the weights.
    pub better: bool,
}

/// The factor weights as a vector in the order of [`factor_keys::ALL`].
fn weight_vector(w: &Weights) -> Vec<f64> {
    let mut w = w.clone();
    factor_keys::ALL
        .iter()
        .map(|k| slot(&mut w, k).map_or(0.0, |x| *x))
        .map(|x| if x.is_finite() && x > 0.0 { x } else { 0.0 })
        .collect()
}

fn slot<'w>(w: &'w mut Weights, key: &str) -> Option<&'w mut f64> {
    Some(match key {
        factor_keys::TEXT_RELEVANCE => &mut w.text_relevance,
        factor_keys::KIND_FIT => &mut w.kind_fit,
        factor_keys::SPEC_FIT => &mut w.spec_fit,
        factor_keys::QUANTITY => &mut w.quantity,
        factor_keys::PRICE => &mut w.price,
        factor_keys::TIME => &mut w.time,
        factor_keys::AVAILABLE_NOW => &mut w.available_now,
        factor_keys::DISTANCE => &mut w.distance,
        factor_keys::COMMUNITY => &mut w.community,
        factor_keys::VERIFIED => &mut w.verified,
        factor_keys::FRESHNESS => &mut w.freshness,
        factor_keys::RELIABILITY => &mut w.reliability,
        _ => return None,
    })
}

fn with_vector(base: &Weights, v: &[f64]) -> Weights {
    let mut w = base.clone();
    for (k, x) in factor_keys::ALL.iter().zip(v) {
        if let Some(s) = slot(&mut w, k) {
            *s = (x * 1000.0).round() / 1000.0;
        }
    }
    w
}

/// A candidate as dense values, presence flags and weight multipliers.
#[derive(Debug, Clone)]
struct Dense {
    value: Vec<f64>,
    present: Vec<bool>,
    mult: Vec<f64>,
}

fn dense(c: &Candidate, current: &Weights) -> Dense {
    let boost = match c.urgency {
        Urgency::Normal => 1.0,
        Urgency::Urgent => current.urgent_multiplier,
        Urgency::Emergency => current.emergency_multiplier,
    };
    let boost = if boost.is_finite() && boost > 0.0 {
        boost
    } else {
        0.0
    };
    let n = factor_keys::ALL.len();
    let (mut value, mut present, mut mult) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for k in factor_keys::ALL {
        match c.values.get(k).filter(|x| x.is_finite()) {
            Some(x) => {
                value.push(x.clamp(0.0, 1.0));
                present.push(true);
            }
            None => {
                value.push(0.0);
                present.push(false);
            }
        }
        mult.push(
            if matches!(*k, factor_keys::DISTANCE | factor_keys::AVAILABLE_NOW) {
                boost
            } else {
                1.0
            },
        );
    }
    Dense {
        value,
        present,
        mult,
    }
}

/// The weighted mean over present factors, as the scorer computes it.
fn mean_score(w: &[f64], c: &Dense) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (k, wk) in w.iter().enumerate() {
        if c.present[k] {
            num += c.mult[k] * wk * c.value[k];
            den += c.mult[k] * wk;
        }
    }
    if den > 0.0 { num / den } else { 0.0 }
}

/// Adds `scale` times the gradient of [`mean_score`] to `out`.
fn mean_gradient(w: &[f64], c: &Dense, out: &mut [f64], scale: f64) {
    let den: f64 = (0..w.len())
        .filter(|k| c.present[*k])
        .map(|k| c.mult[k] * w[k])
        .sum();
    if den <= 0.0 {
        return;
    }
    let s = mean_score(w, c);
    for (k, o) in out.iter_mut().enumerate().take(w.len()) {
        if c.present[k] {
            *o += scale * c.mult[k] * (c.value[k] - s) / den;
        }
    }
}

/// (group, better, worse)
type Pair = (usize, Dense, Dense);

/// 1 when the better one scores strictly higher, 0 when lower, ½ on a tie.
fn correct(w: &[f64], p: &Pair) -> f64 {
    let d = mean_score(w, &p.1) - mean_score(w, &p.2);
    if d > 1e-12 {
        1.0
    } else if d < -1e-12 {
        0.0
    } else {
        0.5
    }
}

fn fit(prior: &[f64], pairs: &[&Pair], lambda: f64, opts: &TuneOptions) -> Vec<f64> {
    let n = prior.len();
    let mut w = prior.to_vec();
    let m = pairs.len().max(1) as f64;
    for _ in 0..opts.steps {
        let mut grad = vec![0.0; n];
        for (_, a, b) in pairs {
            let d = mean_score(&w, a) - mean_score(&w, b);
            // d/dd of log(1 + exp(−β d)) = −β σ(−β d)
            let g = -opts.sharpness / (1.0 + (opts.sharpness * d).exp()) / m;
            mean_gradient(&w, a, &mut grad, g);
            mean_gradient(&w, b, &mut grad, -g);
        }
        for k in 0..n {
            if prior[k] > 0.0 {
                grad[k] += 2.0 * lambda * (w[k] - prior[k]) / prior[k];
                w[k] = (w[k] - opts.learning_rate * grad[k]).max(0.0);
            }
        }
    }
    // Only relative weights matter: the factors the pairs show keep their
    // current total, so those they never show keep their weight exactly.
    let seen: Vec<bool> = (0..n)
        .map(|k| pairs.iter().any(|(_, a, b)| a.present[k] || b.present[k]))
        .collect();
    let sum = |v: &[f64]| -> f64 { (0..n).filter(|k| seen[*k]).map(|k| v[k]).sum() };
    let (total, prior_total) = (sum(&w), sum(prior));
    if total > 0.0 {
        for k in (0..n).filter(|k| seen[*k]) {
            w[k] *= prior_total / total;
        }
    }
    w
}

/// Per group: (pairs, correct under the current weights, correct under
/// the fitted ones).
type GroupScore = HashMap<usize, (f64, f64, f64)>;

/// Fits the factor weights to `outcomes`, starting from and pulled toward
/// `current`; `progress` hears of each step.
pub fn tune(
    current: &Weights,
    outcomes: &[Outcome],
    opts: &TuneOptions,
    mut progress: impl FnMut(Step),
) -> Result<Tuned, TuneError> {
    let folds = opts.folds.max(2);
    let pairs: Vec<Pair> = outcomes
        .iter()
        .flat_map(|o| {
            let chosen = dense(&o.chosen, current);
            o.passed
                .iter()
                .map(move |p| (o.group, chosen.clone(), dense(p, current)))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut group_ids: Vec<usize> = pairs.iter().map(|p| p.0).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let groups = group_ids.len();
    progress(Step::Data {
        pairs: pairs.len(),
        groups,
    });
    let min_pairs = opts.min_pairs.max(folds);
    if pairs.len() < min_pairs || groups < folds {
        return Err(TuneError::TooFew {
            pairs: pairs.len(),
            groups,
            min_pairs,
            min_groups: folds,
        });
    }
    // Groups are dealt to folds in turn (by rank, so every fold has some).
    // The pull is chosen on one such split; the verdict is measured on a
    // second, shuffled one, so the luck of the choice does not count twice.
    let deal = |order: &[usize]| -> HashMap<usize, usize> {
        order
            .iter()
            .enumerate()
            .map(|(i, g)| (*g, i % folds))
            .collect()
    };
    let choose = deal(&group_ids);
    let mut shuffled = group_ids.clone();
    shuffled.sort_by_key(|g| {
        (*g as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
    });
    let judge = deal(&shuffled);
    let prior = weight_vector(current);
    let held_out = |lambda: f64, fold_of: &HashMap<usize, usize>| -> GroupScore {
        let mut scores = GroupScore::new();
        for f in 0..folds {
            let (train, test): (Vec<&Pair>, Vec<&Pair>) =
                pairs.iter().partition(|p| fold_of[&p.0] != f);
            let w = fit(&prior, &train, lambda, opts);
            for p in test {
                let e = scores.entry(p.0).or_default();
                e.0 += 1.0;
                e.1 += correct(&prior, p);
                e.2 += correct(&w, p);
            }
        }
        scores
    };
    let mut best: Option<(f64, f64)> = None;
    for &lambda in &opts.lambdas {
        let scores = held_out(lambda, &choose);
        let n: f64 = scores.values().map(|s| s.0).sum();
        let accuracy = scores.values().map(|s| s.2).sum::<f64>() / n;
        progress(Step::Lambda { lambda, accuracy });
        if best.is_none_or(|(_, a)| accuracy > a) {
            best = Some((lambda, accuracy));
        }
    }
    let Some((lambda, _)) = best else {
        return Err(TuneError::TooFew {
            pairs: pairs.len(),
            groups,
            min_pairs,
            min_groups: folds,
        });
    };
    let scores = held_out(lambda, &judge);
    let n: f64 = scores.values().map(|s| s.0).sum();
    let current_accuracy = scores.values().map(|s| s.1).sum::<f64>() / n;
    let tuned_accuracy = scores.values().map(|s| s.2).sum::<f64>() / n;
    let gain = tuned_accuracy - current_accuracy;
    // Clustered standard error of the mean paired difference.
    let g = scores.len() as f64;
    let spread: f64 = scores
        .values()
        .map(|(k, c, t)| ((t - c) - gain * k).powi(2))
        .sum();
    let gain_se = if g > 1.0 {
        (spread * g / (g - 1.0)).sqrt() / n
    } else {
        f64::INFINITY
    };
    let all: Vec<&Pair> = pairs.iter().collect();
    let fitted = fit(&prior, &all, lambda, opts);
    Ok(Tuned {
        weights: with_vector(current, &fitted),
        lambda,
        pairs: pairs.len(),
        groups,
        current_accuracy,
        tuned_accuracy,
        gain,
        gain_se,
        better: gain >= opts.min_gain && gain > opts.z * gain_se,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic random stream in [0, 1).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Fewer folds and steps than the defaults: unit tests run unoptimised.
    fn quick() -> TuneOptions {
        TuneOptions {
            lambdas: vec![0.01, 0.1, 1.0],
            folds: 4,
            steps: 150,
            ..TuneOptions::default()
        }
    }

    const KEYS: [&str; 6] = [
        factor_keys::TEXT_RELEVANCE,
        factor_keys::SPEC_FIT,
        factor_keys::QUANTITY,
        factor_keys::PRICE,
        factor_keys::DISTANCE,
        factor_keys::VERIFIED,
    ];

    fn random_candidate(rng: &mut Lcg) -> Candidate {
        let urgency = if rng.next() < 0.2 {
            Urgency::Urgent
        } else {
            Urgency::Normal
        };
        Candidate {
            values: KEYS.iter().map(|k| (*k, rng.next())).collect(),
            urgency,
        }
    }

    /// An outcome log as the server records it: `requests` requests, each
    /// shown six matches; its firm contacts the two it likes best by
    /// `prefer` (plus a little noise), agrees on the best one now and then
    /// and completes some of those, and declines the two it likes least.
    /// With `prefer` `None` the firm acts at random.
    fn simulated_log(requests: usize, seed: u64, prefer: Option<&Weights>) -> Vec<Recorded> {
        let mut rng = Lcg(seed);
        let hidden = prefer.map(|w| (weight_vector(w), w.clone()));
        let mut log = Vec::new();
        for r in 0..requests {
            let shown: Vec<Candidate> = (0..6).map(|_| random_candidate(&mut rng)).collect();
            let utility: Vec<f64> = shown
                .iter()
                .map(|c| match &hidden {
                    Some((h, w)) => mean_score(h, &dense(c, w)) + 0.02 * (rng.next() - 0.5),
                    None => rng.next(),
                })
                .collect();
            let mut order: Vec<usize> = (0..shown.len()).collect();
            order.sort_by(|a, b| utility[*b].total_cmp(&utility[*a]));
            let mut record = |i: usize, outcome: MatchOutcome| {
                log.push(Recorded {
                    match_key: format!("m{r}-{i}"),
                    request: format!("r{r}"),
                    offer: format!("o{r}-{i}"),
                    outcome,
                    candidate: shown[i].clone(),
                })
            };
            record(order[0], MatchOutcome::Contacted);
            record(order[1], MatchOutcome::Contacted);
            record(order[5], MatchOutcome::Declined);
            record(order[4], MatchOutcome::Declined);
            if rng.next() < 0.5 {
                record(order[0], MatchOutcome::Agreed);
                if rng.next() < 0.5 {
                    record(order[0], MatchOutcome::Completed);
                }
            }
        }
        log
    }

    #[test]
    fn a_log_becomes_comparisons_within_each_listing() {
        let c = |x: f64| Candidate::normal([(factor_keys::DISTANCE, x)].into_iter().collect());
        let rec = |m: &str, r: &str, o: &str, outcome, x| Recorded {
            match_key: m.into(),
            request: r.into(),
            offer: o.into(),
            outcome,
            candidate: c(x),
        };
        let log = vec![
            rec("a", "r1", "o1", MatchOutcome::Contacted, 0.9),
            rec("b", "r1", "o2", MatchOutcome::Contacted, 0.5),
            // Contacted, then declined: the latest outcome counts.
            rec("b", "r1", "o2", MatchOutcome::Declined, 0.5),
            rec("a", "r1", "o1", MatchOutcome::Agreed, 0.9),
            // Another request of offer o1, declined by its firm.
            rec("c", "r2", "o1", MatchOutcome::Declined, 0.1),
            // A request whose matches all ended alike: nothing to compare.
            rec("d", "r3", "o3", MatchOutcome::Contacted, 0.3),
            rec("e", "r3", "o4", MatchOutcome::Contacted, 0.7),
        ];
        let out = outcomes_from_log(&log);
        assert_eq!(out.len(), 2, "{out:?}");
        // Request r1: the agreed match over the declined one.
        assert_eq!(out[0].chosen, c(0.9));
        assert_eq!(out[0].passed, vec![c(0.5)]);
        // Offer o1: its agreed request over its declined one, another group.
        assert_eq!(out[1].chosen, c(0.9));
        assert_eq!(out[1].passed, vec![c(0.1)]);
        assert_ne!(out[0].group, out[1].group);
    }

    /// The fitted weights of `log`, with what the fit reported.
    fn fitted(log: &[Recorded]) -> (Tuned, Vec<Step>) {
        let mut steps = Vec::new();
        let t = tune(
            &Weights::default(),
            &outcomes_from_log(log),
            &quick(),
            |s| steps.push(s),
        )
        .expect("fit");
        (t, steps)
    }

    #[test]
    fn a_preference_for_distance_twice_the_default_is_recovered() {
        let current = Weights::default();
        let hidden = Weights {
            distance: 2.0 * current.distance,
            ..Weights::default()
        };
        let (t, steps) = fitted(&simulated_log(300, 42, Some(&hidden)));
        assert!(t.better, "{t:?}");
        assert!(
            matches!(steps[0], Step::Data { groups: 300, .. }),
            "{steps:?}"
        );
        assert_eq!(steps.len(), 1 + quick().lambdas.len());
        // Distance gains on every other factor shown, and moves toward the
        // hidden ratio without overshooting it far.
        let ratio = |w: &Weights| w.distance / (w.text_relevance + w.spec_fit + w.quantity);
        let (was, goal, now) = (ratio(&current), ratio(&hidden), ratio(&t.weights));
        assert!(
            now > was + 0.4 * (goal - was) && now < goal + 0.5 * (goal - was),
            "distance ratio {was:.3} → {now:.3}, hidden {goal:.3}: {:?}",
            t.weights
        );
        assert!(t.weights.distance / t.weights.price > current.distance / current.price);
        // Factors the log never shows, shape parameters and multipliers
        // are not touched; the factors it shows keep their total.
        assert_eq!(
            (t.weights.kind_fit, t.weights.community, t.weights.time),
            (current.kind_fit, current.community, current.time)
        );
        assert_eq!(t.weights.distance_scale_km, current.distance_scale_km);
        assert_eq!(t.weights.urgent_multiplier, current.urgent_multiplier);
        let shown = |w: &Weights| {
            w.text_relevance + w.spec_fit + w.quantity + w.price + w.distance + w.verified
        };
        assert!((shown(&t.weights) - shown(&current)).abs() < 0.01);
    }

    #[test]
    fn a_strong_preference_reorders_the_weights() {
        // Distance far above everything, price barely counted.
        let current = Weights::default();
        let hidden = Weights {
            distance: 6.0,
            price: 0.1,
            ..Weights::default()
        };
        let (t, _) = fitted(&simulated_log(200, 7, Some(&hidden)));
        assert!(t.better, "{t:?}");
        assert!(t.weights.distance > t.weights.quantity, "{:?}", t.weights);
        let ratio = |w: &Weights, x: f64| x / (w.text_relevance + w.spec_fit);
        assert!(ratio(&t.weights, t.weights.distance) > 1.5 * ratio(&current, current.distance));
        assert!(ratio(&t.weights, t.weights.price) < 0.7 * ratio(&current, current.price));
    }

    #[test]
    fn a_log_of_pure_noise_is_never_better() {
        for seed in [1, 2, 3, 4, 5, 6] {
            let (t, _) = fitted(&simulated_log(200, seed, None));
            assert!(!t.better, "seed {seed}: {t:?}");
            assert!(t.gain < t.gain_se * quick().z || t.gain < quick().min_gain);
        }
    }

    #[test]
    fn weights_that_already_fit_are_kept() {
        // Firms that judge by the current weights: nothing to gain.
        let (t, _) = fitted(&simulated_log(150, 11, Some(&Weights::default())));
        assert!(t.current_accuracy > 0.95, "{t:?}");
        assert!(!t.better, "{t:?}");
    }

    #[test]
    fn urgency_multiplies_distance_as_the_scorer_does() {
        let w = Weights::default();
        let values: FactorValues = [
            (factor_keys::TEXT_RELEVANCE, 0.2),
            (factor_keys::DISTANCE, 1.0),
        ]
        .into_iter()
        .collect();
        let normal = mean_score(
            &weight_vector(&w),
            &dense(&Candidate::normal(values.clone()), &w),
        );
        let urgent = Candidate {
            values,
            urgency: Urgency::Emergency,
        };
        let urgent = mean_score(&weight_vector(&w), &dense(&urgent, &w));
        assert!((normal - (3.0 * 0.2 + 1.5) / 4.5).abs() < 1e-9);
        assert!((urgent - (3.0 * 0.2 + 3.0) / 6.0).abs() < 1e-9);
    }

    #[test]
    fn too_few_outcomes_fit_nothing() {
        let log = simulated_log(3, 5, Some(&Weights::default()));
        let e = tune(
            &Weights::default(),
            &outcomes_from_log(&log),
            &TuneOptions::default(),
            |_| {},
        )
        .expect_err("too few");
        let TuneError::TooFew { pairs, groups, .. } = e.clone();
        assert_eq!(groups, 3);
        assert!(pairs >= 12, "{e}");
        assert!(e.to_string().contains("too few outcomes"), "{e}");
        assert!(tune(&Weights::default(), &[], &TuneOptions::default(), |_| {}).is_err());
    }
}
