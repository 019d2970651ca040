//! Service-level clocks of staff cases: time to claim, to first contact and
//! to resolution, each against a target per urgency. Pure functions over
//! the case's timestamps, so the queue, the case view and the summaries all
//! judge "overdue" the same way.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::store::cases::Case;

/// Targets of one urgency, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub claim_secs: i64,
    pub contact_secs: i64,
    pub resolve_secs: i64,
}

impl FromStr for Targets {
    type Err = String;

    /// `claim/contact/resolve` in minutes, e.g. `15/60/480`.
    fn from_str(s: &str) -> Result<Targets, String> {
        let parts: Vec<&str> = s.split('/').map(str::trim).collect();
        let [a, b, c] = parts.as_slice() else {
            return Err(format!(
                "{s:?}: expected claim/contact/resolve minutes, e.g. 15/60/480"
            ));
        };
        let mins = |v: &str| -> Result<i64, String> {
            match v.parse::<i64>() {
                Ok(n) if (1..=525_600).contains(&n) => Ok(n * 60),
                _ => Err(format!(
                    "{v:?} is not a whole number of minutes in 1..=525600"
                )),
            }
        };
        let t = Targets {
            claim_secs: mins(a)?,
            contact_secs: mins(b)?,
            resolve_secs: mins(c)?,
        };
        if t.claim_secs > t.contact_secs || t.contact_secs > t.resolve_secs {
            return Err(format!(
                "{s:?}: targets must not decrease (claim ≤ contact ≤ resolve)"
            ));
        }
        Ok(t)
    }
}

/// Targets per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaConfig {
    pub emergency: Targets,
    pub urgent: Targets,
    /// Cases of normal-urgency listings (a firm asked the community for
    /// help, or staff opened one).
    pub normal: Targets,
}

impl Default for SlaConfig {
    fn default() -> SlaConfig {
        SlaConfig {
            emergency: "15/60/480".parse().expect("valid default"),
            urgent: "60/240/1440".parse().expect("valid default"),
            normal: "480/1440/10080".parse().expect("valid default"),
        }
    }
}

impl SlaConfig {
    pub fn of(&self, urgency: &str) -> Targets {
        match urgency {
            "emergency" => self.emergency,
            "urgent" => self.urgent,
            _ => self.normal,
        }
    }
}

/// One clock of a case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Clock {
    pub target_secs: i64,
    /// From opening to `done_at`, or to now while running.
    pub elapsed_secs: i64,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// Past due: finished late, or still running past `due_at`.
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseSla {
    pub claim: Clock,
    pub contact: Clock,
    pub resolve: Clock,
    /// An unresolved case with a running clock past due.
    pub overdue: bool,
}

fn clock(
    opened: NaiveDateTime,
    done: Option<NaiveDateTime>,
    target: i64,
    now: NaiveDateTime,
) -> Clock {
    let end = done.unwrap_or(now);
    let elapsed = (end - opened).num_seconds().max(0);
    Clock {
        target_secs: target,
        elapsed_secs: elapsed,
        due_at: (opened + chrono::Duration::seconds(target)).and_utc(),
        done_at: done.map(|t| t.and_utc()),
        overdue: elapsed > target,
    }
}

/// The clocks of a case at `now`. A case resolved without brokering stops
/// its contact clock at resolution (there is nothing left to contact).
pub fn of_case(k: &Case, cfg: &SlaConfig, now: NaiveDateTime) -> CaseSla {
    let t = cfg.of(k.urgency.as_str());
    let contact_done = k.first_contact_at.or(k.resolved_at);
    let claim = clock(
        k.opened_at,
        k.claimed_at.or(k.resolved_at),
        t.claim_secs,
        now,
    );
    let contact = clock(k.opened_at, contact_done, t.contact_secs, now);
    let resolve = clock(k.opened_at, k.resolved_at, t.resolve_secs, now);
    let running_late = |c: &Clock| c.done_at.is_none() && c.overdue;
    let overdue = k.resolved_at.is_none()
        && (running_late(&claim) || running_late(&contact) || running_late(&resolve));
    CaseSla {
        claim,
        contact,
        resolve,
        overdue,
    }
}

/// Summary of one clock over many cases.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClockSummary {
    pub target_secs: i64,
    /// Cases whose clock has stopped.
    pub done: usize,
    pub within_target: usize,
    /// `within_target / done`; null when none is done.
    pub rate: Option<f64>,
    pub median_secs: Option<f64>,
    pub p90_secs: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UrgencySummary {
    pub urgency: &'static str,
    pub cases: usize,
    pub resolved: usize,
    pub overdue_now: usize,
    pub claim: ClockSummary,
    pub contact: ClockSummary,
    pub resolve: ClockSummary,
}

/// The value at quantile `q` (0..=1) of sorted values, by linear
/// interpolation between closest ranks.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

fn summarise(clocks: &[&Clock], target: i64) -> ClockSummary {
    let mut done: Vec<f64> = clocks
        .iter()
        .filter(|c| c.done_at.is_some())
        .map(|c| c.elapsed_secs as f64)
        .collect();
    done.sort_by(f64::total_cmp);
    let within = clocks
        .iter()
        .filter(|c| c.done_at.is_some() && !c.overdue)
        .count();
    ClockSummary {
        target_secs: target,
        done: done.len(),
        within_target: within,
        rate: (!done.is_empty()).then(|| within as f64 / done.len() as f64),
        median_secs: quantile(&done, 0.5),
        p90_secs: quantile(&done, 0.9),
    }
}

/// SLA summary per urgency (emergency, urgent, then normal) of the given cases at `now`.
pub fn summary(cases: &[Case], cfg: &SlaConfig, now: NaiveDateTime) -> Vec<UrgencySummary> {
    ["emergency", "urgent", "normal"]
        .into_iter()
        .map(|u| {
            let t = cfg.of(u);
            let slas: Vec<(&Case, CaseSla)> = cases
                .iter()
                .filter(|k| k.urgency.as_str() == u)
                .map(|k| (k, of_case(k, cfg, now)))
                .collect();
            let pick =
                |f: fn(&CaseSla) -> &Clock| slas.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
            UrgencySummary {
                urgency: u,
                cases: slas.len(),
                resolved: slas.iter().filter(|(k, _)| k.resolved_at.is_some()).count(),
                overdue_now: slas.iter().filter(|(_, s)| s.overdue).count(),
                claim: summarise(&pick(|s| &s.claim), t.claim_secs),
                contact: summarise(&pick(|s| &s.contact), t.contact_secs),
                resolve: summarise(&pick(|s| &s.resolve), t.resolve_secs),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn case(urgency: &str) -> Case {
        Case {
            id: "k".into(),
            listing_id: "l".into(),
            firm_id: "f".into(),
            community_id: "c".into(),
            origin_community_id: "c".into(),
            escalated_from: None,
            urgency: urgency.parse().expect("an urgency"),
            status: zhiqilian_matcher::CaseStatus::Open,
            claimed_by: None,
            claimed_at: None,
            first_contact_at: None,
            resolved_at: None,
            outcome: None,
            outcome_note: String::new(),
            opened_at: at(9, 0),
            updated_at: at(9, 0),
            overdue_at: None,
        }
    }

    #[test]
    fn targets_parse_minutes_and_reject_nonsense() {
        let t: Targets = "15/60/480".parse().unwrap();
        assert_eq!(
            (t.claim_secs, t.contact_secs, t.resolve_secs),
            (900, 3600, 28_800)
        );
        for bad in ["15/60", "a/60/480", "0/60/480", "60/15/480", "15/60/480/1"] {
            assert!(bad.parse::<Targets>().is_err(), "{bad}");
        }
    }

    #[test]
    fn clocks_run_until_done_and_mark_overdue() {
        let cfg = SlaConfig::default();
        let mut k = case("emergency");
        // 09:10, nothing done: claim running 600 s of 900.
        let s = of_case(&k, &cfg, at(9, 10));
        assert_eq!(s.claim.elapsed_secs, 600);
        assert!(!s.claim.overdue && !s.overdue);
        // 09:20: the claim clock is past due.
        let s = of_case(&k, &cfg, at(9, 20));
        assert!(s.claim.overdue && s.overdue);
        // Claimed at 09:20 (late), brokered 09:40, now 12:00: claim and
        // contact done, the resolve clock (480 min) still within target.
        k.claimed_at = Some(at(9, 20));
        k.first_contact_at = Some(at(9, 40));
        let s = of_case(&k, &cfg, at(12, 0));
        assert_eq!(s.claim.elapsed_secs, 1200);
        assert!(s.claim.overdue, "finished late stays late");
        assert_eq!(s.contact.elapsed_secs, 2400);
        assert!(!s.contact.overdue);
        assert!(!s.overdue, "no running clock is past due");
        // Still unresolved at 17:01: the resolve clock is past due.
        assert!(of_case(&k, &cfg, at(17, 1)).overdue);
        // Resolved: never overdue any more.
        k.resolved_at = Some(at(17, 30));
        let s = of_case(&k, &cfg, at(23, 0));
        assert!(s.resolve.overdue && !s.overdue);
        assert_eq!(s.resolve.elapsed_secs, 8 * 3600 + 30 * 60);
    }

    #[test]
    fn resolution_without_contact_stops_the_contact_clock() {
        let cfg = SlaConfig::default();
        let mut k = case("urgent");
        k.claimed_at = Some(at(9, 30));
        k.resolved_at = Some(at(10, 0));
        let s = of_case(&k, &cfg, at(20, 0));
        assert_eq!(s.contact.done_at, Some(at(10, 0).and_utc()));
        assert_eq!(s.contact.elapsed_secs, 3600);
    }

    #[test]
    fn summary_counts_medians_and_rates() {
        let cfg = SlaConfig::default();
        // Three emergencies claimed after 5, 10 and 30 minutes (target 15),
        // one urgent still unclaimed after 2 hours (target 60 min).
        let mut ks = Vec::new();
        for m in [5, 10, 30] {
            let mut k = case("emergency");
            k.claimed_at = Some(at(9, m));
            ks.push(k);
        }
        ks.push(case("urgent"));
        let s = summary(&ks, &cfg, at(11, 0));
        let e = &s[0];
        assert_eq!((e.urgency, e.cases, e.resolved), ("emergency", 3, 0));
        assert_eq!(e.claim.done, 3);
        assert_eq!(e.claim.within_target, 2);
        assert_eq!(e.claim.median_secs, Some(600.0));
        // p90 of 300, 600, 1800: 600 + 0.8 × 1200.
        assert_eq!(e.claim.p90_secs, Some(1560.0));
        assert!((e.claim.rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        // Contact (60 min) is past due for all three at 11:00.
        assert_eq!(e.overdue_now, 3);
        let u = &s[1];
        assert_eq!((u.cases, u.overdue_now, u.claim.done), (1, 1, 0));
        assert_eq!(u.claim.rate, None);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.9), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
    }
}
