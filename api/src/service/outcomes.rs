//! The outcome log the matcher's weights are tuned on: what the firms did
//! with a match (contacted, declined, agreed, completed) and the factor
//! values it showed at that moment, recorded inside the transaction of the
//! move itself (`matches::set_status_in`, `agreements::complete`), and read
//! back as the fitter's input (`zhiqilian tune`).
//!
//! An entry names no person and no firm (`docs/PRIVACY.md`): the match and
//! its two listings, the outcome, the request's urgency, the score and the
//! factor values.

use std::collections::BTreeMap;

use zhiqilian_matcher::tune::{Candidate, Recorded};
use zhiqilian_matcher::{MatchOutcome, Urgency, factor_keys};

use crate::service::views::stored_factors;
use crate::store::matches::MatchRecord;
use crate::store::outcomes::{self, MatchOutcomeRow};
use crate::store::{DbConnection, StoreResult, listings, new_id, now};

/// The factor values of a record's stored breakdown as a JSON object
/// (factor key → value), known keys only.
pub fn factor_values(breakdown: &str) -> String {
    let values: BTreeMap<&str, f64> = stored_factors(breakdown)
        .into_iter()
        .filter(|f| factor_keys::ALL.contains(&f.key) && f.value.is_finite())
        .map(|f| (f.key, f.value))
        .collect();
    serde_json::to_string(&values).unwrap_or_else(|_| "{}".into())
}

/// Inside the transaction of a move: records `outcome` for `r` with the
/// breakdown the record shows now (what the firms saw when they acted).
pub fn record_in(c: &mut DbConnection, r: &MatchRecord, outcome: MatchOutcome) -> StoreResult<()> {
    let urgency = listings::get_row(c, &r.request_id)?.map_or(Urgency::Normal, |l| l.urgency);
    outcomes::record(
        c,
        &MatchOutcomeRow {
            id: new_id(),
            match_id: r.id.clone(),
            request_id: r.request_id.clone(),
            offer_id: r.offer_id.clone(),
            outcome,
            urgency,
            score: r.score,
            factors: factor_values(&r.factors),
            recorded_at: now(),
        },
    )
}

/// A log entry as the fitter takes it; an entry whose factors do not read
/// back has no values (and compares on nothing).
pub fn recorded(row: MatchOutcomeRow) -> Recorded {
    let values = serde_json::from_str::<BTreeMap<String, f64>>(&row.factors)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| {
            factor_keys::ALL
                .iter()
                .find(|x| **x == k)
                .map(|key| (*key, v))
        })
        .collect();
    Recorded {
        match_key: row.match_id,
        request: row.request_id,
        offer: row.offer_id,
        outcome: row.outcome,
        candidate: Candidate {
            values,
            urgency: row.urgency,
        },
    }
}

/// The whole log, oldest first, read `batch` entries at a time;
/// `progress` hears the running count.
pub fn read_log(
    c: &mut DbConnection,
    batch: i64,
    mut progress: impl FnMut(usize),
) -> StoreResult<Vec<Recorded>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = outcomes::page(c, after.as_deref(), batch)?;
        let n = rows.len();
        after = rows.last().map(|r| r.id.clone());
        out.extend(rows.into_iter().map(recorded));
        progress(out.len());
        if (n as i64) < batch {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breakdown_becomes_values_and_reads_back() {
        let breakdown = r#"[{"key":"distance","value":0.5,"weight":1.5,"reason_zh":"3 km"},
            {"key":"text_relevance","value":0.9,"weight":3,"reason_zh":"…"},
            {"key":"bogus","value":1,"weight":1,"reason_zh":"?"}]"#;
        let values = factor_values(breakdown);
        assert_eq!(values, r#"{"distance":0.5,"text_relevance":0.9}"#);
        assert_eq!(factor_values("not json"), "{}");
        let r = recorded(MatchOutcomeRow {
            id: new_id(),
            match_id: "m".into(),
            request_id: "r".into(),
            offer_id: "o".into(),
            outcome: MatchOutcome::Declined,
            urgency: Urgency::Urgent,
            score: 0.7,
            factors: values,
            recorded_at: now(),
        });
        assert_eq!(r.candidate.values.len(), 2);
        assert_eq!(r.candidate.values[factor_keys::DISTANCE], 0.5);
        assert_eq!(r.candidate.urgency, Urgency::Urgent);
        assert_eq!((r.request.as_str(), r.offer.as_str()), ("r", "o"));
    }
}
