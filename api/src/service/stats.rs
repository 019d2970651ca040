//! Park statistics over a window: listings by kind and side, match rate,
//! time to first match and to agreement, the share of agreed matches inside
//! the park (内循环率) and emergencies solved within their SLA. Pure
//! functions over rows the store loads, so the figures can be checked by
//! hand.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::service::sla::{SlaConfig, quantile};
use crate::store::cases::Case;

/// A listing created in the window.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub id: String,
    pub side: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
}

/// A match record of a request.
#[derive(Debug, Clone)]
pub struct MatchRow {
    pub request_id: String,
    pub request_community_id: String,
    pub offer_community_id: String,
    pub created_at: NaiveDateTime,
    pub agreed_at: Option<NaiveDateTime>,
}

pub const KINDS: [&str; 6] = [
    "space",
    "equipment",
    "material",
    "logistics",
    "workforce",
    "service",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindCount {
    pub kind: &'static str,
    pub offer: usize,
    pub request: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ListingCounts {
    pub total: usize,
    pub by_kind: Vec<KindCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Day {
    /// China Standard Time (UTC+8), the parks' own calendar.
    pub date: NaiveDate,
    pub listings: usize,
    pub requests: usize,
    /// Requests of that day with at least one match.
    pub matched: usize,
    /// Requests of that day with an agreed match.
    pub agreed: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub listings: ListingCounts,
    pub requests: usize,
    pub requests_matched: usize,
    pub match_rate: Option<f64>,
    pub median_secs_to_first_match: Option<f64>,
    pub median_secs_to_agreement: Option<f64>,
    pub agreed_matches: usize,
    pub agreed_in_park: usize,
    pub in_park_rate: Option<f64>,
    pub emergencies: usize,
    pub emergencies_solved_within_sla: usize,
    pub emergency_sla_rate: Option<f64>,
    pub daily: Vec<Day>,
    /// The deal funnel of the window's match records (see [`deal_funnel`]).
    pub funnel: Funnel,
}

/// How far the window's match records got: suggested → contacted →
/// quoted → agreed (an agreement confirmed by both) → completed, and the
/// value of the confirmed agreements that were not cancelled.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Funnel {
    pub suggested: usize,
    pub contacted: usize,
    pub quoted: usize,
    pub agreed: usize,
    pub completed: usize,
    /// Total price in yuan of the agreed deals whose value is computable.
    pub agreed_value_yuan: f64,
    /// The part of it between firms of the same community (内循环).
    pub agreed_value_in_park_yuan: f64,
    /// 内循环率 by value.
    pub in_park_rate_by_value: Option<f64>,
}

/// A match record as the funnel reads it.
#[derive(Debug, Clone)]
pub struct FunnelRecord {
    pub id: String,
    pub status: String,
    pub in_park: bool,
}

/// The funnel of some match records, their quoted ones, and their
/// agreements.
pub fn funnel(
    records: &[FunnelRecord],
    quoted: &HashSet<String>,
    agreements: &[crate::store::models::Agreement],
) -> Funnel {
    use crate::store::models::AgreementStatus;
    let mut agreed: HashSet<&str> = HashSet::new();
    let mut completed: HashSet<&str> = HashSet::new();
    let park: HashMap<&str, bool> = records.iter().map(|r| (r.id.as_str(), r.in_park)).collect();
    let mut f = Funnel::default();
    for a in agreements {
        if a.first_confirmed_at.is_none() || !park.contains_key(a.match_id.as_str()) {
            continue;
        }
        agreed.insert(a.match_id.as_str());
        if a.status() == AgreementStatus::Completed {
            completed.insert(a.match_id.as_str());
        }
        if a.status() != AgreementStatus::Cancelled
            && let Some(v) = a.value_yuan
        {
            f.agreed_value_yuan += v;
            if park.get(a.match_id.as_str()).copied().unwrap_or(false) {
                f.agreed_value_in_park_yuan += v;
            }
        }
    }
    f.suggested = records.len();
    f.contacted = records
        .iter()
        .filter(|r| {
            matches!(r.status.as_str(), "contacted" | "agreed")
                || quoted.contains(&r.id)
                || agreed.contains(r.id.as_str())
        })
        .count();
    f.quoted = records.iter().filter(|r| quoted.contains(&r.id)).count();
    f.agreed = agreed.len();
    f.completed = completed.len();
    f.in_park_rate_by_value =
        (f.agreed_value_yuan > 0.0).then(|| f.agreed_value_in_park_yuan / f.agreed_value_yuan);
    f
}

/// The deal funnel of the match records of a community's requests (`None`:
/// all) created since `from`.
pub fn deal_funnel(
    c: &mut crate::store::DbConnection,
    community: Option<&str>,
    from: NaiveDateTime,
) -> crate::store::StoreResult<Funnel> {
    let records: Vec<FunnelRecord> = crate::store::matches::for_funnel(c, community, from)?
        .into_iter()
        .map(|(id, status, rc, oc)| FunnelRecord {
            id,
            status,
            in_park: rc == oc,
        })
        .collect();
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let quoted: HashSet<String> = crate::store::quotes::quoted_matches(c, &ids)?
        .into_iter()
        .collect();
    let agreements = crate::store::agreements::of_matches(c, &ids)?;
    Ok(funnel(&records, &quoted, &agreements))
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

fn china_date(t: NaiveDateTime) -> NaiveDate {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.and_utc().with_timezone(&cst).date_naive()
}

/// The statistics of listings created in a window, their match records,
/// and the cases opened in it.
pub fn compute(
    listings: &[ListingRow],
    matches: &[MatchRow],
    cases: &[Case],
    sla: &SlaConfig,
) -> Stats {
    let by_kind: Vec<KindCount> = KINDS
        .iter()
        .map(|&kind| {
            let n = |side: &str| {
                listings
                    .iter()
                    .filter(|l| l.kind == kind && l.side == side)
                    .count()
            };
            KindCount {
                kind,
                offer: n("offer"),
                request: n("request"),
            }
        })
        .collect();
    let requests: HashMap<&str, &ListingRow> = listings
        .iter()
        .filter(|l| l.side == "request")
        .map(|l| (l.id.as_str(), l))
        .collect();

    // Per request: its first match and its first agreement.
    let mut first_match: HashMap<&str, NaiveDateTime> = HashMap::new();
    let mut first_agreed: HashMap<&str, NaiveDateTime> = HashMap::new();
    let mut agreed_matches = 0;
    let mut agreed_in_park = 0;
    for m in matches {
        let Some(r) = requests.get(m.request_id.as_str()) else {
            continue;
        };
        let id = r.id.as_str();
        let e = first_match.entry(id).or_insert(m.created_at);
        *e = (*e).min(m.created_at);
        if let Some(a) = m.agreed_at {
            agreed_matches += 1;
            if m.request_community_id == m.offer_community_id {
                agreed_in_park += 1;
            }
            let e = first_agreed.entry(id).or_insert(a);
            *e = (*e).min(a);
        }
    }
    let secs = |map: &HashMap<&str, NaiveDateTime>| -> Vec<f64> {
        map.iter()
            .map(|(id, t)| (*t - requests[id].created_at).num_milliseconds() as f64 / 1000.0)
            .map(|s| s.max(0.0))
            .collect()
    };

    let emergencies: Vec<&Case> = cases
        .iter()
        .filter(|k| k.urgency == zhiqilian_matcher::Urgency::Emergency)
        .collect();
    let solved_in_time = emergencies
        .iter()
        .filter(|k| {
            k.outcome.as_deref() == Some("solved")
                && k.resolved_at
                    .is_some_and(|t| (t - k.opened_at).num_seconds() <= sla.emergency.resolve_secs)
        })
        .count();

    let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let matched: HashSet<&str> = first_match.keys().copied().collect();
    let agreed: HashSet<&str> = first_agreed.keys().copied().collect();
    for l in listings {
        let date = china_date(l.created_at);
        let d = days.entry(date).or_insert(Day {
            date,
            listings: 0,
            requests: 0,
            matched: 0,
            agreed: 0,
        });
        d.listings += 1;
        if l.side == "request" {
            d.requests += 1;
            d.matched += usize::from(matched.contains(l.id.as_str()));
            d.agreed += usize::from(agreed.contains(l.id.as_str()));
        }
    }

    Stats {
        listings: ListingCounts {
            total: listings.len(),
            by_kind,
        },
        requests: requests.len(),
        requests_matched: first_match.len(),
        match_rate: ratio(first_match.len(), requests.len()),
        median_secs_to_first_match: median(secs(&first_match)),
        median_secs_to_agreement: median(secs(&first_agreed)),
        agreed_matches,
        agreed_in_park,
        in_park_rate: ratio(agreed_in_park, agreed_matches),
        emergencies: emergencies.len(),
        emergencies_solved_within_sla: solved_in_time,
        emergency_sla_rate: ratio(solved_in_time, emergencies.len()),
        daily: days.into_values().collect(),
        funnel: Funnel::default(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_default()
}

/// The statistics as CSV (`metric,kind,side,value` rows, then the daily
/// series), for spreadsheets.
pub fn to_csv(s: &Stats, from: &str, to: &str, community: &str) -> String {
    let mut out = String::from("metric,kind,side,value\n");
    let mut row = |metric: &str, kind: &str, side: &str, value: String| {
        out.push_str(&format!("{metric},{kind},{side},{value}\n"));
    };
    row("from", "", "", from.to_string());
    row("to", "", "", to.to_string());
    row("community", "", "", csv_field(community));
    row("listings", "", "", s.listings.total.to_string());
    for k in &s.listings.by_kind {
        row("listings", k.kind, "offer", k.offer.to_string());
        row("listings", k.kind, "request", k.request.to_string());
    }
    row("requests", "", "", s.requests.to_string());
    row("requests_matched", "", "", s.requests_matched.to_string());
    row("match_rate", "", "", opt(s.match_rate));
    row(
        "median_secs_to_first_match",
        "",
        "",
        opt(s.median_secs_to_first_match),
    );
    row(
        "median_secs_to_agreement",
        "",
        "",
        opt(s.median_secs_to_agreement),
    );
    row("agreed_matches", "", "", s.agreed_matches.to_string());
    row("agreed_in_park", "", "", s.agreed_in_park.to_string());
    row("in_park_rate", "", "", opt(s.in_park_rate));
    row("emergencies", "", "", s.emergencies.to_string());
    row(
        "emergencies_solved_within_sla",
        "",
        "",
        s.emergencies_solved_within_sla.to_string(),
    );
    row("emergency_sla_rate", "", "", opt(s.emergency_sla_rate));
    let f = &s.funnel;
    for (stage, n) in [
        ("suggested", f.suggested),
        ("contacted", f.contacted),
        ("quoted", f.quoted),
        ("agreed", f.agreed),
        ("completed", f.completed),
    ] {
        row("funnel", stage, "", n.to_string());
    }
    row(
        "agreed_value_yuan",
        "",
        "",
        format!("{:.2}", f.agreed_value_yuan),
    );
    row(
        "agreed_value_in_park_yuan",
        "",
        "",
        format!("{:.2}", f.agreed_value_in_park_yuan),
    );
    row(
        "in_park_rate_by_value",
        "",
        "",
        opt(f.in_park_rate_by_value),
    );
    out.push_str("\ndate,listings,requests,matched,agreed\n");
    for d in &s.daily {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            d.date, d.listings, d.requests, d.matched, d.agreed
        ));
    }
    out
}

/// Quotes a CSV field when it needs it (and defuses spreadsheet formulas).
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn l(id: &str, side: &str, kind: &str, at: NaiveDateTime) -> ListingRow {
        ListingRow {
            id: id.into(),
            side: side.into(),
            kind: kind.into(),
            created_at: at,
        }
    }

    fn m(req: &str, oc: &str, at: NaiveDateTime, agreed: Option<NaiveDateTime>) -> MatchRow {
        MatchRow {
            request_id: req.into(),
            request_community_id: "A".into(),
            offer_community_id: oc.into(),
            created_at: at,
            agreed_at: agreed,
        }
    }

    fn emergency(opened: NaiveDateTime, resolved: Option<(NaiveDateTime, &str)>) -> Case {
        Case {
            id: "k".into(),
            listing_id: "l".into(),
            firm_id: "f".into(),
            community_id: "A".into(),
            origin_community_id: "A".into(),
            escalated_from: None,
            urgency: zhiqilian_matcher::Urgency::Emergency,
            status: if resolved.is_some() {
                zhiqilian_matcher::CaseStatus::Resolved
            } else {
                zhiqilian_matcher::CaseStatus::Open
            },
            claimed_by: None,
            claimed_at: None,
            first_contact_at: None,
            resolved_at: resolved.map(|r| r.0),
            outcome: resolved.map(|r| r.1.to_string()),
            outcome_note: String::new(),
            opened_at: opened,
            updated_at: opened,
            overdue_at: None,
        }
    }

    /// A fixture computed by hand:
    /// - listings: r1, r2, r3 (requests: equipment, equipment, material),
    ///   o1, o2 (offers: equipment, space); r1 and o1 on 1 Nov (UTC 20:00 =
    ///   2 Nov in China), the rest on 2 Nov;
    /// - r1 matched at +10 s and +30 s, agreed at +1 h (in park) and +2 h
    ///   (other park); r2 matched at +20 s, agreed at +3 h (in park); r3
    ///   unmatched; a match of a request outside the window is ignored;
    /// - emergencies: solved in 2 h (target 8 h), solved in 9 h (late),
    ///   `partly` in 1 h, unresolved.
    #[test]
    fn statistics_of_a_hand_computed_fixture() {
        let r1 = t(1, 20, 0);
        let r2 = t(2, 9, 0);
        let listings = vec![
            l("r1", "request", "equipment", r1),
            l("o1", "offer", "equipment", t(1, 20, 5)),
            l("r2", "request", "equipment", r2),
            l("r3", "request", "material", t(2, 10, 0)),
            l("o2", "offer", "space", t(2, 11, 0)),
        ];
        let s10 = chrono::Duration::seconds(10);
        let h = chrono::Duration::hours(1);
        let matches = vec![
            m("r1", "A", r1 + s10, Some(r1 + h)),
            m("r1", "B", r1 + s10 * 3, Some(r1 + h * 2)),
            m("r2", "A", r2 + s10 * 2, Some(r2 + h * 3)),
            m("elsewhere", "A", r2, Some(r2)),
        ];
        let cases = vec![
            emergency(t(2, 8, 0), Some((t(2, 10, 0), "solved"))),
            emergency(t(2, 8, 0), Some((t(2, 17, 0), "solved"))),
            emergency(t(2, 8, 0), Some((t(2, 9, 0), "partly"))),
            emergency(t(2, 8, 0), None),
        ];
        let s = compute(&listings, &matches, &cases, &SlaConfig::default());
        assert_eq!(s.listings.total, 5);
        let eq = &s.listings.by_kind[1];
        assert_eq!((eq.kind, eq.offer, eq.request), ("equipment", 1, 2));
        assert_eq!(s.listings.by_kind[0].offer, 1, "space offer");
        assert_eq!(s.requests, 3);
        assert_eq!(s.requests_matched, 2);
        assert!((s.match_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        // First matches after 10 s and 20 s: median 15 s.
        assert_eq!(s.median_secs_to_first_match, Some(15.0));
        // First agreements after 1 h and 3 h: median 2 h.
        assert_eq!(s.median_secs_to_agreement, Some(7200.0));
        assert_eq!((s.agreed_matches, s.agreed_in_park), (3, 2));
        assert!((s.in_park_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!((s.emergencies, s.emergencies_solved_within_sla), (4, 1));
        assert_eq!(s.emergency_sla_rate, Some(0.25));
        // Every listing falls on 2 Nov in China.
        assert_eq!(s.daily.len(), 1);
        let d = &s.daily[0];
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        assert_eq!((d.listings, d.requests, d.matched, d.agreed), (5, 3, 2, 2));
    }

    #[test]
    fn empty_window_has_no_rates() {
        let s = compute(&[], &[], &[], &SlaConfig::default());
        assert_eq!(s.match_rate, None);
        assert_eq!(s.in_park_rate, None);
        assert_eq!(s.median_secs_to_first_match, None);
        assert!(s.daily.is_empty());
        assert_eq!(s.listings.by_kind.len(), 6);
    }

    #[test]
    fn csv_has_every_metric_and_escapes_names() {
        let s = compute(&[], &[], &[], &SlaConfig::default());
        let csv = to_csv(&s, "2026-11-01", "2026-11-08", "=大港,\"社区\"");
        assert!(csv.starts_with("metric,kind,side,value\n"));
        assert!(
            csv.contains("community,,,\"'=大港,\"\"社区\"\"\"\n"),
            "{csv}"
        );
        assert!(csv.contains("listings,equipment,request,0\n"));
        assert!(csv.contains("match_rate,,,\n"));
        assert!(csv.contains("\ndate,listings,requests,matched,agreed\n"));
    }
}
