//! Fitting the factor weights to a park's own outcomes: a regularised
//! pairwise logistic fit, pulled toward the current weights, with the
//! strength of the pull chosen by cross-validation.
//!
//! An outcome is one ranking a user acted on: the candidate they chose
//! (contacted, agreed) and the candidates shown beside it that they passed
//! over. Each (chosen, passed) pair says "the chosen one should score
//! higher". With factor values `v` and weights `w`, the score is the
//! weighted mean `w·v / Σw` over the factors present; for the fit, a factor
//! missing from a candidate takes the value the weighted mean gives it
//! anyway (its weight is shared among the others), so the pair compares on
//! the factors both have. The fit minimises
//!
//! `Σ log(1 + exp(−β (s(chosen) − s(passed)))) + λ Σₖ (wₖ − w₀ₖ)² / w₀ₖ`
//!
//! over `w ≥ 0` by projected gradient descent, with `β` a fixed sharpness
//! and `λ` the pull toward the defaults `w₀` (relative, so a weight of 0.5
//! is not pulled as hard as one of 3). `λ` is chosen by k-fold
//! cross-validation on held-out pairs, and [`tune`] returns the new weights
//! only when they order more held-out pairs correctly than the current
//! ones: a small or noisy log never replaces weights that work.
//!
//! Pure: no I/O. The caller collects the outcomes (match records with their
//! factor breakdowns) and decides whether to write the result.

use std::collections::HashMap;

use crate::score::{Weights, factor_keys};

/// Factor values of one shown candidate, by key of [`factor_keys`]; a key
/// that is absent was not computable for it.
pub type FactorValues = HashMap<&'static str, f64>;

/// One ranking a user acted on.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The candidate the user chose.
    pub chosen: FactorValues,
    /// Candidates shown beside it that the user passed over.
    pub passed: Vec<FactorValues>,
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
}

impl Default for TuneOptions {
    fn default() -> Self {
        Self {
            lambdas: vec![0.001, 0.01, 0.1, 1.0],
            folds: 5,
            sharpness: 20.0,
            steps: 400,
            learning_rate: 0.5,
        }
    }
}

/// The result of [`tune`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The fitted weights (factor weights only; shape parameters are kept).
    pub weights: Weights,
    /// The chosen pull.
    pub lambda: f64,
    /// Share of held-out pairs the current weights order correctly.
    pub current_accuracy: f64,
    /// The same for the fitted weights (mean over the folds).
    pub tuned_accuracy: f64,
    /// Whether the fitted weights beat the current ones on held-out pairs;
    /// only then should a caller write them.
    pub better: bool,
}

/// The factor weights as a vector in the order of [`factor_keys::ALL`].
fn weight_vector(w: &Weights) -> Vec<f64> {
    factor_keys::ALL
        .iter()
        .map(|k| match *k {
            factor_keys::TEXT_RELEVANCE => w.text_relevance,
            factor_keys::KIND_FIT => w.kind_fit,
            factor_keys::SPEC_FIT => w.spec_fit,
            factor_keys::QUANTITY => w.quantity,
            factor_keys::PRICE => w.price,
            factor_keys::TIME => w.time,
            factor_keys::AVAILABLE_NOW => w.available_now,
            factor_keys::DISTANCE => w.distance,
            factor_keys::COMMUNITY => w.community,
            factor_keys::VERIFIED => w.verified,
            factor_keys::FRESHNESS => w.freshness,
            factor_keys::RELIABILITY => w.reliability,
            _ => 0.0,
        })
        .map(|x| if x.is_finite() && x > 0.0 { x } else { 0.0 })
        .collect()
}

fn with_vector(base: &Weights, v: &[f64]) -> Weights {
    let mut w = base.clone();
    for (k, x) in factor_keys::ALL.iter().zip(v) {
        let slot = match *k {
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
            _ => continue,
        };
        *slot = (x * 1000.0).round() / 1000.0;
    }
    w
}

/// A candidate as dense values and presence flags.
#[derive(Debug, Clone)]
struct Dense {
    value: Vec<f64>,
    present: Vec<bool>,
}

fn dense(f: &FactorValues) -> Dense {
    let mut value = Vec::with_capacity(factor_keys::ALL.len());
    let mut present = Vec::with_capacity(factor_keys::ALL.len());
    for k in factor_keys::ALL {
        match f.get(k).filter(|x| x.is_finite()) {
            Some(x) => {
                value.push(x.clamp(0.0, 1.0));
                present.push(true);
            }
            None => {
                value.push(0.0);
                present.push(false);
            }
        }
    }
    Dense { value, present }
}

/// The weighted mean over present factors, as the scorer computes it.
fn mean_score(w: &[f64], c: &Dense) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for ((wk, vk), present) in w.iter().zip(&c.value).zip(&c.present) {
        if *present {
            num += wk * vk;
            den += wk;
        }
    }
    if den > 0.0 { num / den } else { 0.0 }
}

/// Gradient of [`mean_score`] with respect to the weights.
fn mean_gradient(w: &[f64], c: &Dense, out: &mut [f64], scale: f64) {
    let den: f64 = (0..w.len()).filter(|k| c.present[*k]).map(|k| w[k]).sum();
    if den <= 0.0 {
        return;
    }
    let s = mean_score(w, c);
    for ((o, vk), present) in out.iter_mut().zip(&c.value).zip(&c.present) {
        if *present {
            *o += scale * (vk - s) / den;
        }
    }
}

type Pair = (Dense, Dense);

fn pairs_of(outcomes: &[Outcome]) -> Vec<Vec<Pair>> {
    outcomes
        .iter()
        .map(|o| {
            let chosen = dense(&o.chosen);
            o.passed
                .iter()
                .map(|p| (chosen.clone(), dense(p)))
                .collect()
        })
        .collect()
}

/// Share of pairs whose chosen candidate scores strictly higher (ties count half).
fn accuracy(w: &[f64], pairs: &[&Pair]) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    let right: f64 = pairs
        .iter()
        .map(|(a, b)| {
            let d = mean_score(w, a) - mean_score(w, b);
            if d > 1e-12 {
                1.0
            } else if d < -1e-12 {
                0.0
            } else {
                0.5
            }
        })
        .sum();
    right / pairs.len() as f64
}

fn fit(prior: &[f64], pairs: &[&Pair], lambda: f64, opts: &TuneOptions) -> Vec<f64> {
    let n = prior.len();
    let mut w = prior.to_vec();
    let m = pairs.len().max(1) as f64;
    for _ in 0..opts.steps {
        let mut grad = vec![0.0; n];
        for (a, b) in pairs {
            let d = mean_score(&w, a) - mean_score(&w, b);
            // d/dd of log(1 + exp(−β d)) = −β σ(−β d)
            let g = -opts.sharpness / (1.0 + (opts.sharpness * d).exp()) / m;
            mean_gradient(&w, a, &mut grad, g);
            mean_gradient(&w, b, &mut grad, -g);
        }
        for k in 0..n {
            if prior[k] > 0.0 {
                grad[k] += 2.0 * lambda * (w[k] - prior[k]) / prior[k];
            }
            w[k] = (w[k] - opts.learning_rate * grad[k]).max(0.0);
        }
    }
    // Only relative weights matter: keep the current total.
    let (total, prior_total): (f64, f64) = (w.iter().sum(), prior.iter().sum());
    if total > 0.0 {
        w.iter_mut().for_each(|x| *x *= prior_total / total);
    }
    w
}

/// Fits the factor weights to `outcomes`, starting from and pulled toward
/// `current`. Returns `None` with fewer outcomes than folds.
pub fn tune(current: &Weights, outcomes: &[Outcome], opts: &TuneOptions) -> Option<Tuned> {
    let folds = opts.folds.max(2);
    if outcomes.len() < folds {
        return None;
    }
    let prior = weight_vector(current);
    let grouped = pairs_of(outcomes);
    // Folds by outcome, so the pairs of one ranking stay together.
    let split = |f: usize| -> (Vec<&Pair>, Vec<&Pair>) {
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (i, g) in grouped.iter().enumerate() {
            let into = if i % folds == f {
                &mut test
            } else {
                &mut train
            };
            into.extend(g.iter());
        }
        (train, test)
    };
    let mut best: Option<(f64, f64)> = None;
    for &lambda in &opts.lambdas {
        let mean = (0..folds)
            .map(|f| {
                let (train, test) = split(f);
                accuracy(&fit(&prior, &train, lambda, opts), &test)
            })
            .sum::<f64>()
            / folds as f64;
        if best.is_none_or(|(_, a)| mean > a) {
            best = Some((lambda, mean));
        }
    }
    let (lambda, tuned_accuracy) = best?;
    let current_accuracy = (0..folds)
        .map(|f| accuracy(&prior, &split(f).1))
        .sum::<f64>()
        / folds as f64;
    let all: Vec<&Pair> = grouped.iter().flatten().collect();
    let fitted = fit(&prior, &all, lambda, opts);
    Some(Tuned {
        weights: with_vector(current, &fitted),
        lambda,
        current_accuracy,
        tuned_accuracy,
        better: tuned_accuracy > current_accuracy + 1e-9,
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
            folds: 3,
            steps: 150,
            ..TuneOptions::default()
        }
    }

    /// Users who care about distance far more, and about price far less,
    /// than the defaults say: each outcome shows five candidates with
    /// random factor values and the user picks by the hidden weights (with
    /// some noise).
    fn simulated_log(n: usize, seed: u64) -> Vec<Outcome> {
        let mut rng = Lcg(seed);
        let hidden = weight_vector(&Weights {
            distance: 6.0,
            price: 0.1,
            ..Weights::default()
        });
        let keys = [
            factor_keys::TEXT_RELEVANCE,
            factor_keys::SPEC_FIT,
            factor_keys::PRICE,
            factor_keys::DISTANCE,
            factor_keys::VERIFIED,
        ];
        (0..n)
            .map(|_| {
                let shown: Vec<FactorValues> = (0..5)
                    .map(|_| keys.iter().map(|k| (*k, rng.next())).collect())
                    .collect();
                let utility =
                    |f: &FactorValues| mean_score(&hidden, &dense(f)) + 0.02 * (rng.next() - 0.5);
                let scores: Vec<f64> = shown.iter().map(utility).collect();
                let best = (0..shown.len())
                    .max_by(|a, b| scores[*a].total_cmp(&scores[*b]))
                    .unwrap_or(0);
                Outcome {
                    chosen: shown[best].clone(),
                    passed: shown
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != best)
                        .map(|(_, f)| f.clone())
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn the_hidden_preferences_are_recovered() {
        let current = Weights::default();
        let t = tune(&current, &simulated_log(150, 42), &quick()).expect("fit");
        assert!(t.better, "{t:?}");
        assert!(t.tuned_accuracy > t.current_accuracy + 0.03, "{t:?}");
        // Distance gains on the others, price loses.
        let ratio = |w: &Weights, x: f64| x / (w.text_relevance + w.spec_fit);
        assert!(
            ratio(&t.weights, t.weights.distance) > 1.5 * ratio(&current, current.distance),
            "{:?}",
            t.weights
        );
        assert!(
            ratio(&t.weights, t.weights.price) < 0.7 * ratio(&current, current.price),
            "{:?}",
            t.weights
        );
        // Shape parameters are not touched.
        assert_eq!(t.weights.distance_scale_km, current.distance_scale_km);
    }

    #[test]
    fn weights_that_already_fit_are_kept() {
        // Users who pick by the current weights: nothing to gain.
        let current = Weights::default();
        let w = weight_vector(&current);
        let mut rng = Lcg(7);
        let outcomes: Vec<Outcome> = (0..60)
            .map(|_| {
                let shown: Vec<FactorValues> = (0..4)
                    .map(|_| {
                        [
                            factor_keys::TEXT_RELEVANCE,
                            factor_keys::DISTANCE,
                            factor_keys::PRICE,
                        ]
                        .iter()
                        .map(|k| (*k, rng.next()))
                        .collect()
                    })
                    .collect();
                let best = (0..4)
                    .max_by(|a, b| {
                        mean_score(&w, &dense(&shown[*a]))
                            .total_cmp(&mean_score(&w, &dense(&shown[*b])))
                    })
                    .unwrap_or(0);
                Outcome {
                    chosen: shown[best].clone(),
                    passed: shown
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != best)
                        .map(|(_, f)| f.clone())
                        .collect(),
                }
            })
            .collect();
        let t = tune(&current, &outcomes, &quick()).expect("fit");
        assert_eq!(t.current_accuracy, 1.0);
        assert!(!t.better, "{t:?}");
    }

    #[test]
    fn too_few_outcomes_fit_nothing() {
        assert_eq!(
            tune(&Weights::default(), &[], &TuneOptions::default()),
            None
        );
    }
}
