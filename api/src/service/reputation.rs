//! A firm's reputation from its deals: completed deals, completion rate,
//! the median time it takes to answer a first message, and its average
//! rating shrunk toward its park's mean (a Bayesian prior worth
//! [`PRIOR_WEIGHT`] ratings), so one 5★ does not beat twenty 4.8★ and a
//! firm without history is neither rewarded nor punished. The matcher's
//! `reliability` factor is read off it.
//!
//! The counts come from the running tallies (`store::reputation`) that the
//! transactions confirming, completing or cancelling an agreement and
//! publishing ratings keep up to date, so reading a reputation (in every
//! matching run, quote and firm profile) costs a few rows however many
//! deals a park has made. [`Ledger::recount`] computes the same from the
//! agreements and ratings themselves; tests hold the two together.

use std::collections::HashMap;

use serde::Serialize;
use zhiqilian_matcher::Reliability;

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::store::models::{Agreement, AgreementStatus};
use crate::store::reputation::{self as tallies, Tally as Row};
use crate::store::{Db, DbConnection, StoreResult, accounts, agreements, ratings, threads};

/// How many ratings (and finished deals) the park's mean counts for.
pub const PRIOR_WEIGHT: f64 = 3.0;
/// The mean rating assumed where a park has no ratings yet.
pub const DEFAULT_MEAN_RATING: f64 = 4.0;
/// The completion rate assumed where a park has no finished deals yet.
pub const DEFAULT_COMPLETION: f64 = 0.9;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reputation {
    pub firm_id: String,
    /// Agreements the firm completed.
    pub completed_deals: u32,
    /// Agreements that were ever confirmed (completed, running or cancelled after confirmation).
    pub confirmed_deals: u32,
    /// completed / confirmed; `None` before a first confirmed deal.
    pub completion_rate: Option<f64>,
    /// Visible ratings the firm received, and their plain mean.
    pub ratings: u32,
    pub average_rating: Option<f64>,
    /// The average shrunk toward the park's mean (what is shown and used).
    pub rating: f64,
    pub park_mean_rating: f64,
    /// In [0, 1]: 0.7 × the shrunk rating on a 0–1 scale + 0.3 × the
    /// completion rate shrunk toward the park's.
    pub reliability: f64,
    /// Whether the firm has any deal or rating yet.
    pub has_history: bool,
    /// The median time, in seconds, the firm took to answer the first
    /// message of a thread the other firm opened; `None` before it answered
    /// one.
    pub median_response_secs: Option<i64>,
    /// How many such threads it answered (what the median is over).
    pub responses: u32,
}

impl Reputation {
    /// The matcher's view of it.
    pub fn reliability(&self) -> Reliability {
        Reliability {
            value: self.reliability,
            completed: self.completed_deals,
            rating: self.rating,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tally {
    completed: u32,
    confirmed: u32,
    /// Cancelled after a confirmation.
    failed: u32,
    ratings: u32,
    rating_sum: f64,
}

/// The inputs of every reputation, read once.
#[derive(Debug, Default, PartialEq)]
pub struct Ledger {
    by_firm: HashMap<String, Tally>,
    by_park: HashMap<String, Tally>,
    /// Median response (seconds) and its sample size, of the firms loaded
    /// with [`Ledger::with_responses`].
    responses: HashMap<String, (Option<i64>, u32)>,
}

impl Ledger {
    /// Every firm's tallies (one row per firm and community with history).
    pub fn load(c: &mut DbConnection) -> StoreResult<Ledger> {
        Ok(Ledger::of_tallies(&tallies::all(c)?))
    }

    /// The same, recounted from the agreements and the published ratings
    /// themselves (what the tallies must always equal).
    pub fn recount(c: &mut DbConnection) -> StoreResult<Ledger> {
        let deals = agreements::confirmed_of(c, None)?;
        let scores = ratings::published_scores(c)?;
        Ok(Ledger::of(&deals, &scores))
    }

    pub fn of_tallies(rows: &[Row]) -> Ledger {
        let mut l = Ledger::default();
        for r in rows {
            let t = Tally {
                completed: r.completed.max(0) as u32,
                confirmed: r.confirmed.max(0) as u32,
                failed: r.failed.max(0) as u32,
                ratings: r.ratings.max(0) as u32,
                rating_sum: r.rating_sum as f64,
            };
            for (map, key) in [
                (&mut l.by_firm, &r.firm_id),
                (&mut l.by_park, &r.community_id),
            ] {
                let e = map.entry(key.clone()).or_default();
                e.completed += t.completed;
                e.confirmed += t.confirmed;
                e.failed += t.failed;
                e.ratings += t.ratings;
                e.rating_sum += t.rating_sum;
            }
        }
        l.by_firm.retain(|_, t| *t != Tally::default());
        l.by_park.retain(|_, t| *t != Tally::default());
        l
    }

    /// Adds the response times of `firm_ids` (read from the threads they
    /// answered).
    pub fn with_responses(
        mut self,
        c: &mut DbConnection,
        firm_ids: &[String],
    ) -> StoreResult<Ledger> {
        for f in firm_ids {
            if self.responses.contains_key(f) {
                continue;
            }
            let secs: Vec<i64> = threads::response_times(c, f)?
                .into_iter()
                .map(|(opened, answered)| (answered - opened).num_seconds().max(0))
                .collect();
            self.responses
                .insert(f.clone(), (median(secs.clone()), secs.len() as u32));
        }
        Ok(self)
    }

    /// A ledger of confirmed agreements and visible (ratee, community, score).
    pub fn of(deals: &[Agreement], scores: &[(String, String, i32)]) -> Ledger {
        let mut by_firm: HashMap<String, Tally> = HashMap::new();
        let mut by_park: HashMap<String, Tally> = HashMap::new();
        for a in deals {
            for (firm, park) in [
                (&a.request_firm_id, &a.request_community_id),
                (&a.offer_firm_id, &a.offer_community_id),
            ] {
                for t in [
                    by_firm.entry(firm.clone()).or_default(),
                    by_park.entry(park.clone()).or_default(),
                ] {
                    t.confirmed += 1;
                    match a.status() {
                        AgreementStatus::Completed => t.completed += 1,
                        AgreementStatus::Cancelled => t.failed += 1,
                        _ => {}
                    }
                }
            }
        }
        for (firm, park, score) in scores {
            for t in [
                by_firm.entry(firm.clone()).or_default(),
                by_park.entry(park.clone()).or_default(),
            ] {
                t.ratings += 1;
                t.rating_sum += f64::from(*score);
            }
        }
        by_firm.retain(|_, t| *t != Tally::default());
        by_park.retain(|_, t| *t != Tally::default());
        Ledger {
            by_firm,
            by_park,
            responses: HashMap::new(),
        }
    }

    /// Whether the park (community) has any deal or rating yet.
    pub fn park_has_history(&self, community_id: &str) -> bool {
        self.by_park
            .get(community_id)
            .is_some_and(|t| t.confirmed > 0 || t.ratings > 0)
    }

    /// The reputation of a firm of a park.
    pub fn reputation(&self, firm_id: &str, community_id: &str) -> Reputation {
        let park = self.by_park.get(community_id).copied().unwrap_or_default();
        let mine = self.by_firm.get(firm_id).copied().unwrap_or_default();
        let park_mean = if park.ratings > 0 {
            park.rating_sum / f64::from(park.ratings)
        } else {
            DEFAULT_MEAN_RATING
        };
        let park_finished = park.completed + park.failed;
        let park_completion = if park_finished > 0 {
            f64::from(park.completed) / f64::from(park_finished)
        } else {
            DEFAULT_COMPLETION
        };
        let rating =
            (PRIOR_WEIGHT * park_mean + mine.rating_sum) / (PRIOR_WEIGHT + f64::from(mine.ratings));
        let finished = f64::from(mine.completed + mine.failed);
        let completion = (f64::from(mine.completed) + PRIOR_WEIGHT * park_completion)
            / (finished + PRIOR_WEIGHT);
        let reliability = (0.7 * (rating - 1.0) / 4.0 + 0.3 * completion).clamp(0.0, 1.0);
        Reputation {
            firm_id: firm_id.to_string(),
            completed_deals: mine.completed,
            confirmed_deals: mine.confirmed,
            completion_rate: (mine.confirmed > 0)
                .then(|| f64::from(mine.completed) / f64::from(mine.confirmed)),
            ratings: mine.ratings,
            average_rating: (mine.ratings > 0).then(|| mine.rating_sum / f64::from(mine.ratings)),
            rating: round2(rating),
            park_mean_rating: round2(park_mean),
            reliability: round3(reliability),
            has_history: mine.confirmed > 0 || mine.ratings > 0,
            median_response_secs: self.responses.get(firm_id).and_then(|r| r.0),
            responses: self.responses.get(firm_id).map_or(0, |r| r.1),
        }
    }

    /// What the matcher reads for a firm: its record, or — once its park
    /// has any deal — the park's prior; `None` in a park without deals (the
    /// factor is then left out, so nothing changes before the first deal).
    pub fn reliability(&self, firm_id: &str, community_id: &str) -> Option<Reliability> {
        let r = self.reputation(firm_id, community_id);
        (r.has_history || self.park_has_history(community_id)).then(|| r.reliability())
    }
}

/// A firm's reputation, for whoever may see the firm (a verified firm: any
/// signed-in caller; otherwise its members and its community's staff).
pub async fn of_firm(db: &Db, caller: &Caller, firm_id: String) -> Result<Reputation, ApiError> {
    let caller = caller.clone();
    db.run(move |c| {
        let Some(f) = accounts::get_firm(c, &firm_id)? else {
            return Ok(Err(ApiError::not_found("企业")));
        };
        if !(f.verified
            || caller.is_member_of(&f.id)
            || caller.can_administer_community(&f.community_id))
        {
            return Ok(Err(ApiError::not_found("企业")));
        }
        let ledger = Ledger::load(c)?.with_responses(c, std::slice::from_ref(&f.id))?;
        Ok(Ok(ledger.reputation(&f.id, &f.community_id)))
    })
    .await?
}

/// The median of some durations (the mean of the middle two of an even
/// count), `None` of none.
pub fn median(mut xs: Vec<i64>) -> Option<i64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_response_times() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![300]), Some(300));
        assert_eq!(median(vec![900, 60, 300]), Some(300));
        assert_eq!(median(vec![3600, 60, 600, 7200]), Some(2100));
    }

    #[test]
    fn tallies_read_as_the_same_ledger_as_a_recount() {
        use crate::store::reputation::Tally as Row;
        let row = |firm: &str, park: &str, confirmed, completed, failed, ratings, sum| Row {
            firm_id: firm.into(),
            community_id: park.into(),
            confirmed,
            completed,
            failed,
            ratings,
            rating_sum: sum,
        };
        let kept = Ledger::of_tallies(&[
            row("a", "park", 0, 0, 0, 1, 5),
            row("b", "park", 0, 0, 0, 1, 3),
            row("c", "other", 0, 0, 0, 0, 0),
        ]);
        let scores = vec![
            ("a".to_string(), "park".to_string(), 5),
            ("b".to_string(), "park".to_string(), 3),
        ];
        assert_eq!(kept, Ledger::of(&[], &scores));
    }

    #[test]
    fn a_firm_without_history_has_the_parks_prior() {
        let ledger = Ledger::of(&[], &[]);
        let r = ledger.reputation("f", "park");
        assert_eq!(r.rating, DEFAULT_MEAN_RATING);
        assert!(!r.has_history);
        assert_eq!(
            ledger.reliability("f", "park"),
            None,
            "no deal in the park yet"
        );

        // Once the park has ratings, a newcomer gets the park's mean.
        let scores = vec![
            ("a".to_string(), "park".to_string(), 5),
            ("b".to_string(), "park".to_string(), 3),
        ];
        let ledger = Ledger::of(&[], &scores);
        let new = ledger.reputation("new", "park");
        assert_eq!(new.rating, 4.0);
        assert!(ledger.reliability("new", "park").is_some());
        // One 5★ moves a firm only part of the way from the mean.
        let a = ledger.reputation("a", "park");
        assert!(a.rating > 4.0 && a.rating < 5.0, "{a:?}");
        assert!(a.reliability > new.reliability);
        let b = ledger.reputation("b", "park");
        assert!(b.reliability < new.reliability);
    }
}
