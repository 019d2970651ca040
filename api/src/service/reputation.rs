//! A firm's reputation from its deals: completed deals, completion rate,
//! and its average rating shrunk toward its park's mean (a Bayesian prior
//! worth [`PRIOR_WEIGHT`] ratings), so one 5★ does not beat twenty 4.8★
//! and a firm without history is neither rewarded nor punished. The
//! matcher's `reliability` factor is read off it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use zhiqilian_matcher::Reliability;

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::store::models::{Agreement, AgreementStatus};
use crate::store::{Db, DbConnection, StoreResult, accounts, agreements, now, ratings};

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

#[derive(Default, Clone, Copy)]
struct Tally {
    completed: u32,
    confirmed: u32,
    /// Cancelled after a confirmation.
    failed: u32,
    ratings: u32,
    rating_sum: f64,
}

/// The inputs of every reputation, read once.
pub struct Ledger {
    by_firm: HashMap<String, Tally>,
    by_park: HashMap<String, Tally>,
}

impl Ledger {
    pub fn load(c: &mut DbConnection, now: NaiveDateTime) -> StoreResult<Ledger> {
        let deals = agreements::confirmed_of(c, None)?;
        let scores = ratings::visible_scores(c, now)?;
        Ok(Ledger::of(&deals, &scores))
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
        Ledger { by_firm, by_park }
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
        let ledger = Ledger::load(c, now())?;
        Ok(Ok(ledger.reputation(&f.id, &f.community_id)))
    })
    .await?
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
