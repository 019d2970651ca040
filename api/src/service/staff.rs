//! The staff desk: the queue of urgent and emergency requests, reading a
//! case, claim / resolve / escalate / broker, the audit log, SLA summaries
//! and park statistics. Staff act on the cases their community holds and
//! read the ones it escalated or opened; platform admins act everywhere;
//! firms are refused.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{CaseStatus, MatchStatus};

use crate::service::access::Caller;
use crate::service::cases::{self, refusal};
use crate::service::error::ApiError;
use crate::service::pagination::{self, Page};
use crate::service::sla::{self, CaseSla, SlaConfig};
use crate::service::stats;
use crate::service::threads::actor_on;
use crate::service::views::FactorOut;
use crate::service::views::stored_factors;
use crate::service::views::{AuditOut, ListingOut, NamedRef, audit_out, listing_out};
use crate::store::audit::{self, AuditFilter};
use crate::store::cases::{self as store, Acting, Case, QueueFilter};
use crate::store::listings::{self as listing_store, ListingView};
use crate::store::matches::{self as match_store};
use crate::store::{Db, DbConnection, StoreResult, accounts, now, threads as thread_store};

/// The communities whose cases the caller acts on: `Some(c)` for staff of
/// `c`, `None` (all) for platform admins; firms are refused.
pub fn staff_scope(caller: &Caller) -> Result<Option<String>, ApiError> {
    if caller.platform_admin {
        Ok(None)
    } else if let Some(c) = &caller.staff_community {
        Ok(Some(c.clone()))
    } else {
        Err(ApiError::forbidden("仅限社区工作人员使用"))
    }
}

/// The community a read is about: staff their own; admins the one they
/// name, or all.
pub(crate) fn read_scope(
    caller: &Caller,
    asked: Option<&String>,
) -> Result<Option<String>, ApiError> {
    match staff_scope(caller)? {
        Some(own) => {
            if asked.is_some_and(|a| *a != own) {
                return Err(ApiError::forbidden("只能查看本社区的数据"));
            }
            Ok(Some(own))
        }
        None => Ok(asked.cloned()),
    }
}

// ------------------------------------------------------------------ output

#[derive(Debug, Serialize)]
pub struct CaseFirm {
    pub id: String,
    pub name: String,
    pub verified: bool,
    pub contact_name: String,
    pub contact_phone: String,
}

#[derive(Debug, Serialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct CandidateOut {
    pub match_id: String,
    pub score: f64,
    pub partial: bool,
    pub status: MatchStatus,
    pub listing: ListingOut,
    pub factors: Vec<FactorOut>,
}

#[derive(Debug, Serialize)]
pub struct OfferRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct ContactOut {
    pub match_id: String,
    pub thread_id: String,
    pub offer: OfferRef,
    pub firm: NamedRef,
    pub brokered_by: PersonRef,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct CaseOut {
    pub id: String,
    pub status: CaseStatus,
    pub urgency: String,
    pub community: NamedRef,
    pub origin_community: NamedRef,
    pub escalated_from: Option<NamedRef>,
    pub listing: Option<ListingOut>,
    pub firm: Option<CaseFirm>,
    pub claimed_by: Option<PersonRef>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub first_contact_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub outcome_note: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sla: CaseSla,
    pub candidates: Vec<CandidateOut>,
    pub contacts: Vec<ContactOut>,
}

/// Builds the output of cases with everything they refer to, in a few
/// batched reads. `candidates`: how many stored candidates per case.
fn cases_out(
    c: &mut DbConnection,
    rows: Vec<Case>,
    candidates: usize,
    sla: &SlaConfig,
) -> StoreResult<Vec<CaseOut>> {
    let at = now();
    let ids: Vec<String> = rows.iter().map(|k| k.id.clone()).collect();
    let request_ids: Vec<String> = rows.iter().map(|k| k.listing_id.clone()).collect();
    let contacts = store::contacts_of(c, &ids)?;
    let mut records: HashMap<String, Vec<match_store::MatchRecord>> = HashMap::new();
    if candidates > 0 {
        for r in match_store::of_requests(c, &request_ids)? {
            let v = records.entry(r.request_id.clone()).or_default();
            if v.len() < candidates {
                v.push(r);
            }
        }
    }
    let mut listing_ids = request_ids.clone();
    listing_ids.extend(records.values().flatten().map(|r| r.offer_id.clone()));
    listing_ids.extend(contacts.iter().map(|x| x.offer_id.clone()));
    let views: HashMap<String, ListingView> = listing_store::get_many(c, &listing_ids)?
        .into_iter()
        .map(|v| (v.listing.id.clone(), v))
        .collect();
    let mut firms = HashMap::new();
    for k in &rows {
        if !firms.contains_key(&k.firm_id)
            && let Some(f) = accounts::get_firm(c, &k.firm_id)?
        {
            firms.insert(k.firm_id.clone(), f);
        }
    }
    let firm_names = thread_store::firm_names(
        c,
        &contacts
            .iter()
            .map(|x| x.offer_firm_id.clone())
            .collect::<Vec<_>>(),
    )?;
    let mut people: Vec<String> = rows.iter().filter_map(|k| k.claimed_by.clone()).collect();
    people.extend(contacts.iter().map(|x| x.brokered_by.clone()));
    let people = store::user_names(c, &people)?;
    let mut cids: Vec<String> = Vec::new();
    for k in &rows {
        cids.push(k.community_id.clone());
        cids.push(k.origin_community_id.clone());
        cids.extend(k.escalated_from.clone());
    }
    let cnames = store::community_names(c, &cids)?;
    let named = |id: &str| NamedRef {
        id: id.to_string(),
        name: cnames.get(id).cloned().unwrap_or_default(),
    };
    let person = |id: &str| PersonRef {
        id: id.to_string(),
        name: people.get(id).cloned().unwrap_or_default(),
    };
    Ok(rows
        .into_iter()
        .map(|k| {
            let candidates = records
                .remove(&k.listing_id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| {
                    let v = views.get(&r.offer_id)?.clone();
                    Some(CandidateOut {
                        factors: stored_factors(&r.factors),
                        match_id: r.id,
                        score: r.score,
                        partial: r.partial,
                        status: r.status,
                        listing: listing_out(v),
                    })
                })
                .collect();
            let contacts = contacts
                .iter()
                .filter(|x| x.case_id == k.id)
                .map(|x| ContactOut {
                    match_id: x.match_id.clone(),
                    thread_id: x.thread_id.clone(),
                    offer: OfferRef {
                        id: x.offer_id.clone(),
                        title: views
                            .get(&x.offer_id)
                            .map(|v| v.listing.title.clone())
                            .unwrap_or_default(),
                    },
                    firm: NamedRef {
                        id: x.offer_firm_id.clone(),
                        name: firm_names
                            .get(&x.offer_firm_id)
                            .cloned()
                            .unwrap_or_default(),
                    },
                    brokered_by: person(&x.brokered_by),
                    at: x.created_at.and_utc(),
                })
                .collect();
            CaseOut {
                sla: sla::of_case(&k, sla, at),
                community: named(&k.community_id),
                origin_community: named(&k.origin_community_id),
                escalated_from: k.escalated_from.as_deref().map(named),
                listing: views.get(&k.listing_id).cloned().map(listing_out),
                firm: firms.get(&k.firm_id).map(|f| CaseFirm {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    verified: f.verified,
                    contact_name: f.contact_name.clone(),
                    contact_phone: f.contact_phone.clone(),
                }),
                claimed_by: k.claimed_by.as_deref().map(person),
                claimed_at: k.claimed_at.map(|t| t.and_utc()),
                first_contact_at: k.first_contact_at.map(|t| t.and_utc()),
                resolved_at: k.resolved_at.map(|t| t.and_utc()),
                opened_at: k.opened_at.and_utc(),
                updated_at: k.updated_at.and_utc(),
                id: k.id,
                status: k.status,
                urgency: k.urgency.as_str().to_string(),
                outcome: k.outcome,
                outcome_note: k.outcome_note,
                candidates,
                contacts,
            }
        })
        .collect())
}

// ------------------------------------------------------------------- queue

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub urgency: Option<String>,
    pub overdue: Option<bool>,
    pub mine: Option<bool>,
    pub community_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Default)]
pub struct QueueCounts {
    pub open: usize,
    pub claimed: usize,
    pub brokered: usize,
    pub overdue: usize,
}

#[derive(Debug, Serialize)]
pub struct QueuePage {
    pub items: Vec<CaseOut>,
    pub next_cursor: Option<String>,
    /// Active cases of the queue by status, and how many are overdue.
    pub counts: QueueCounts,
}

/// Candidates shown per case in the queue.
const QUEUE_CANDIDATES: usize = 3;
/// Active cases a queue considers when filtering by SLA state.
const ACTIVE_CAP: i64 = 5_000;

/// `GET /api/v1/staff/queue`: the cases of the caller's community, oldest
/// first, with their top candidates and SLA clocks.
pub async fn queue(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    q: QueueQuery,
) -> Result<QueuePage, ApiError> {
    let community = read_scope(caller, q.community_id.as_ref())?;
    let limit = pagination::limit(q.limit)?;
    let after = pagination::decode(q.cursor.as_deref())?;
    let statuses: Vec<CaseStatus> = match q.status.as_deref().unwrap_or("active") {
        "active" => store::ACTIVE.to_vec(),
        s @ ("open" | "claimed" | "brokered" | "resolved") => {
            vec![s.parse().map_err(|_| ApiError::internal("case status"))?]
        }
        _ => {
            return Err(ApiError::field(
                "status",
                "invalid_choice",
                "status 须为 active、open、claimed、brokered 或 resolved",
            ));
        }
    };
    if let Some(u) = &q.urgency
        && !matches!(u.as_str(), "normal" | "urgent" | "emergency")
    {
        return Err(ApiError::field(
            "urgency",
            "invalid_choice",
            "urgency 须为 normal、urgent 或 emergency",
        ));
    }
    let overdue_only = q.overdue == Some(true);
    let filter = QueueFilter {
        community_id: community.clone(),
        statuses,
        urgency: q.urgency.clone(),
        claimed_by: (q.mine == Some(true)).then(|| caller.user_id.clone()),
        after_id: after,
        limit: if overdue_only { ACTIVE_CAP } else { limit + 1 },
    };
    Ok(db
        .run(move |c| {
            let at = now();
            let mut rows = store::list(c, &filter)?;
            if overdue_only {
                rows.retain(|k| sla::of_case(k, &sla_cfg, at).overdue);
                rows.truncate(limit as usize + 1);
            }
            let active = store::list(
                c,
                &QueueFilter {
                    community_id: community,
                    statuses: store::ACTIVE.to_vec(),
                    limit: ACTIVE_CAP,
                    ..QueueFilter::default()
                },
            )?;
            let mut counts = QueueCounts::default();
            for k in &active {
                match k.status {
                    CaseStatus::Open => counts.open += 1,
                    CaseStatus::Claimed => counts.claimed += 1,
                    _ => counts.brokered += 1,
                }
                counts.overdue += usize::from(sla::of_case(k, &sla_cfg, at).overdue);
            }
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = more
                .then(|| rows.last().map(|k| pagination::encode(&k.id)))
                .flatten();
            Ok(QueuePage {
                items: cases_out(c, rows, QUEUE_CANDIDATES, &sla_cfg)?,
                next_cursor,
                counts,
            })
        })
        .await?)
}

/// Loads a case the caller may read (404 otherwise).
async fn readable(db: &Db, caller: &Caller, id: String) -> Result<Case, ApiError> {
    let scope = staff_scope(caller)?;
    db.run(move |c| store::get(c, &id))
        .await?
        .filter(|k| scope.as_deref().is_none_or(|s| k.readable_by(s)))
        .ok_or_else(|| ApiError::not_found("工单"))
}

async fn one_out(db: &Db, sla_cfg: SlaConfig, k: Case) -> Result<CaseOut, ApiError> {
    db.run(move |c| cases_out(c, vec![k], usize::MAX, &sla_cfg))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("工单"))
}

/// One case with every stored candidate (`GET /api/v1/staff/cases/{id}`).
pub async fn get(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    id: String,
) -> Result<CaseOut, ApiError> {
    let k = readable(db, caller, id).await?;
    one_out(db, sla_cfg, k).await
}

// ----------------------------------------------------------------- actions

/// The title of a case's request, for events and messages.
async fn title_of(db: &Db, k: &Case) -> Result<String, ApiError> {
    let id = k.listing_id.clone();
    Ok(db
        .run(move |c| listing_store::get_row(c, &id))
        .await?
        .map(|l| l.title)
        .unwrap_or_default())
}

/// A case the caller's community holds (staff may read escalated ones but
/// not act on them).
async fn actionable(db: &Db, caller: &Caller, id: String) -> Result<Case, ApiError> {
    let scope = staff_scope(caller)?;
    let k = readable(db, caller, id).await?;
    if scope.as_deref().is_some_and(|s| s != k.community_id) {
        return Err(ApiError::forbidden("工单已移交其他社区，只能查看"));
    }
    Ok(k)
}

/// The acting staff member and the case's request title, for a store action.
async fn acting(db: &Db, caller: &Caller, k: &Case) -> Result<Acting, ApiError> {
    Ok(Acting {
        case_id: k.id.clone(),
        community: staff_scope(caller)?,
        actor: actor_on(db, caller).await?,
        title: title_of(db, k).await?,
    })
}

/// Runs an action on a case the caller's community holds and answers with
/// the case as it now is.
async fn case_action(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    id: String,
    f: impl FnOnce(&mut DbConnection, &Acting, &Case) -> Result<Case, ApiError> + Send + 'static,
) -> Result<CaseOut, ApiError> {
    let k = actionable(db, caller, id).await?;
    let a = acting(db, caller, &k).await?;
    let k = db.run(move |c| Ok(f(c, &a, &k))).await??;
    one_out(db, sla_cfg, k).await
}

/// Claims a case (`take_over`: from another staff member).
pub async fn claim(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    id: String,
    take_over: bool,
) -> Result<CaseOut, ApiError> {
    case_action(db, sla_cfg, caller, id, move |c, a, _| {
        cases::claim(c, a, take_over)?.map_err(refusal)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResolveBody {
    pub outcome: String,
    pub note: String,
}

const NOTE_MAX: usize = 2000;

fn note_checked(field: &str, note: &str) -> Result<String, ApiError> {
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(ApiError::field(
            field,
            "too_long",
            format!("{field} 最多 {NOTE_MAX} 个字"),
        ));
    }
    Ok(note.to_string())
}

/// Resolves a case with an outcome and a note.
pub async fn resolve(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    id: String,
    body: ResolveBody,
) -> Result<CaseOut, ApiError> {
    if !store::OUTCOMES.contains(&body.outcome.as_str()) {
        return Err(ApiError::field(
            "outcome",
            "invalid_choice",
            "outcome 须为 solved（已解决）、partly（部分解决）或 not_solved（未解决）",
        ));
    }
    let note = note_checked("note", &body.note)?;
    case_action(db, sla_cfg, caller, id, move |c, a, _| {
        cases::resolve(c, a, &body.outcome, &note)?.map_err(refusal)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalateBody {
    pub community_id: String,
    pub note: String,
}

/// Hands a case to another community's queue.
pub async fn escalate(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    id: String,
    body: EscalateBody,
) -> Result<CaseOut, ApiError> {
    let note = note_checked("note", &body.note)?;
    case_action(db, sla_cfg, caller, id, move |c, a, k| {
        if body.community_id == k.community_id {
            return Err(ApiError::field(
                "community_id",
                "same_community",
                "不能移交给本社区",
            ));
        }
        if accounts::get_community(c, &body.community_id)?.is_none() {
            return Err(ApiError::field(
                "community_id",
                "unknown_community",
                "没有这个社区",
            ));
        }
        cases::escalate(c, a, &body.community_id, &note)?.map_err(refusal)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerBody {
    pub offer_ids: Vec<String>,
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BrokeredOut {
    pub match_id: String,
    pub thread_id: String,
    pub offer_id: String,
}

#[derive(Debug, Serialize)]
pub struct BrokerOut {
    #[serde(rename = "case")]
    pub case_out: CaseOut,
    pub contacts: Vec<BrokeredOut>,
}

/// Puts the requesting firm in contact with the firms of the chosen offers.
pub async fn broker(
    db: &Db,
    sla_cfg: SlaConfig,
    weights: std::sync::Arc<zhiqilian_matcher::Weights>,
    max_chars: usize,
    caller: &Caller,
    id: String,
    body: BrokerBody,
) -> Result<BrokerOut, ApiError> {
    let (offer_ids, message) = cases::broker_ask(body.offer_ids, body.message, max_chars)?;
    let k = actionable(db, caller, id).await?;
    let a = acting(db, caller, &k).await?;
    let (k, brokered) =
        cases::broker_on(db, a, k, caller.viewer(), offer_ids, message, weights).await?;
    let contacts = brokered
        .into_iter()
        .map(|b| BrokeredOut {
            match_id: b.match_record.id,
            thread_id: b.thread.id,
            offer_id: b.match_record.offer_id,
        })
        .collect();
    Ok(BrokerOut {
        case_out: one_out(db, sla_cfg, k).await?,
        contacts,
    })
}

// ------------------------------------------------------------------- audit

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub case_id: Option<String>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub community_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Staff actions of the caller's community, newest first.
pub async fn audit_log(
    db: &Db,
    caller: &Caller,
    q: AuditQuery,
) -> Result<Page<AuditOut>, ApiError> {
    let community = read_scope(caller, q.community_id.as_ref())?;
    let limit = pagination::limit(q.limit)?;
    let filter = AuditFilter {
        community_id: community,
        case_id: q.case_id,
        action: q.action,
        actor_id: q.actor_id,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = db.run(move |c| audit::list(c, &filter)).await?;
    Ok(Page::from_rows(rows, limit, |e| e.id.as_str(), audit_out))
}

// ------------------------------------------------------- SLA and statistics

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub community_id: Option<String>,
    pub format: Option<String>,
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// An RFC 3339 instant, or a date (a day in China Standard Time; as `to`,
/// the whole day is included).
fn instant(field: &str, raw: &str, end_of_day: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.naive_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        let local = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(local - chrono::Duration::seconds(i64::from(cst().local_minus_utc())));
    }
    Err(ApiError::field(
        field,
        "invalid_format",
        format!("{field} 须为 RFC 3339 时间或 YYYY-MM-DD 日期"),
    ))
}

/// The window `[from, to)`: default the last 30 days; at most 2 years.
fn window(q: &WindowQuery) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    let to = match &q.to {
        Some(t) => instant("to", t, true)?,
        None => now(),
    };
    let from = match &q.from {
        Some(f) => instant("from", f, false)?,
        None => to - chrono::Duration::days(30),
    };
    if from >= to {
        return Err(ApiError::field("from", "out_of_range", "from 须早于 to"));
    }
    if to - from > chrono::Duration::days(731) {
        return Err(ApiError::field("from", "out_of_range", "统计区间最长两年"));
    }
    Ok((from, to))
}

#[derive(Debug, Serialize)]
pub struct SlaOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub community: Option<NamedRef>,
    pub by_urgency: Vec<sla::UrgencySummary>,
}

async fn community_ref(db: &Db, id: Option<String>) -> Result<Option<NamedRef>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let name = db
        .run({
            let id = id.clone();
            move |c| accounts::get_community(c, &id)
        })
        .await?
        .map(|c| c.name)
        .ok_or_else(|| ApiError::not_found("社区"))?;
    Ok(Some(NamedRef { id, name }))
}

/// SLA summary of the cases opened in a window (JSON only).
pub async fn sla_summary(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    q: WindowQuery,
) -> Result<SlaOut, ApiError> {
    if q.format.is_some() {
        return Err(ApiError::field(
            "format",
            "unsupported",
            "SLA 汇总只提供 JSON",
        ));
    }
    let community = read_scope(caller, q.community_id.as_ref())?;
    let (from, to) = window(&q)?;
    let community_out = community_ref(db, community.clone()).await?;
    let by_urgency = db
        .run(move |c| {
            let rows = store::opened_between(c, community.as_deref(), from, to)?;
            Ok(sla::summary(&rows, &sla_cfg, now()))
        })
        .await?;
    Ok(SlaOut {
        from: from.and_utc(),
        to: to.and_utc(),
        community: community_out,
        by_urgency,
    })
}

#[derive(Debug, Serialize)]
pub struct StatsOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub community: Option<NamedRef>,
    #[serde(flatten)]
    pub stats: stats::Stats,
}

impl StatsOut {
    /// The statistics as a CSV file (with a byte-order mark for Excel).
    pub fn csv(&self) -> String {
        let name = self
            .community
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "全部社区".into());
        let body = stats::to_csv(
            &self.stats,
            &self.from.to_rfc3339(),
            &self.to.to_rfc3339(),
            &name,
        );
        format!("\u{feff}{body}")
    }
}

/// Park statistics of a window. (`format` is the HTTP layer's business.)
pub async fn park_stats(
    db: &Db,
    sla_cfg: SlaConfig,
    caller: &Caller,
    q: &WindowQuery,
) -> Result<StatsOut, ApiError> {
    let community = read_scope(caller, q.community_id.as_ref())?;
    let (from, to) = window(q)?;
    let community_out = community_ref(db, community.clone()).await?;
    let s = db
        .run(move |c| {
            let cm = community.as_deref();
            let listings: Vec<stats::ListingRow> = listing_store::created_between(c, cm, from, to)?
                .into_iter()
                .map(|(id, side, kind, created_at)| stats::ListingRow {
                    id,
                    side,
                    kind,
                    created_at,
                })
                .collect();
            let matches: Vec<stats::MatchRow> = match_store::for_stats(c, cm, from)?
                .into_iter()
                .map(
                    |(request_id, rc, oc, created_at, agreed_at)| stats::MatchRow {
                        request_id,
                        request_community_id: rc,
                        offer_community_id: oc,
                        created_at,
                        agreed_at,
                    },
                )
                .collect();
            let cases = store::opened_between(c, cm, from, to)?;
            let mut s = stats::compute(&listings, &matches, &cases, &sla_cfg);
            s.funnel = stats::deal_funnel(c, cm, from)?;
            Ok(s)
        })
        .await?;
    Ok(StatsOut {
        from: from.and_utc(),
        to: to.and_utc(),
        community: community_out,
        stats: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::{emergency_request, park};

    fn sla() -> SlaConfig {
        crate::config::Config::load_from(None, &|_| None)
            .expect("default config")
            .sla
    }

    fn queue_query(community_id: Option<String>) -> QueueQuery {
        QueueQuery {
            status: None,
            urgency: None,
            overdue: None,
            mine: None,
            community_id,
            cursor: None,
            limit: None,
        }
    }

    #[tokio::test]
    async fn the_desk_is_staffs_and_shows_their_own_community_only() {
        let p = park();
        let request = p.post(&p.buyer, emergency_request());
        let e = queue(&p.db, sla(), &p.buyer.caller(), queue_query(None))
            .await
            .expect_err("a firm");
        assert_eq!((e.status.as_u16(), e.code.as_str()), (403, "forbidden"));
        let e = queue(
            &p.db,
            sla(),
            &p.staff_caller(),
            queue_query(Some(p.other.id.clone())),
        )
        .await
        .expect_err("another community");
        assert_eq!(e.status.as_u16(), 403);

        let page = queue(&p.db, sla(), &p.staff_caller(), queue_query(None))
            .await
            .expect("own queue");
        assert_eq!(page.items.len(), 1);
        let k = &page.items[0];
        assert_eq!(k.status, CaseStatus::Open);
        assert_eq!(
            k.listing.as_ref().map(|l| l.id.as_str()),
            Some(request.id.as_str())
        );
        assert_eq!(
            k.firm.as_ref().map(|f| f.contact_name.as_str()),
            Some("张工")
        );
        assert_eq!((page.counts.open, page.counts.claimed), (1, 0));

        let mut bad = queue_query(None);
        bad.status = Some("closed".into());
        let e = queue(&p.db, sla(), &p.staff_caller(), bad)
            .await
            .expect_err("status");
        assert_eq!(e.errors[0].field, "status");
    }

    #[tokio::test]
    async fn a_refused_action_changes_nothing() {
        let p = park();
        p.post(&p.buyer, emergency_request());
        let staff = p.staff_caller();
        let id = queue(&p.db, sla(), &staff, queue_query(None))
            .await
            .expect("queue")
            .items[0]
            .id
            .clone();
        let before = get(&p.db, sla(), &staff, id.clone()).await.expect("case");

        let to_own = EscalateBody {
            community_id: p.dagang.id.clone(),
            note: String::new(),
        };
        let e = escalate(&p.db, sla(), &staff, id.clone(), to_own)
            .await
            .expect_err("own");
        assert_eq!(e.errors[0].code, "same_community");
        let nowhere = EscalateBody {
            community_id: "no-such-community".into(),
            note: String::new(),
        };
        let e = escalate(&p.db, sla(), &staff, id.clone(), nowhere)
            .await
            .expect_err("unknown");
        assert_eq!(e.errors[0].code, "unknown_community");
        let odd = ResolveBody {
            outcome: "maybe".into(),
            note: String::new(),
        };
        let e = resolve(&p.db, sla(), &staff, id.clone(), odd)
            .await
            .expect_err("outcome");
        assert_eq!(e.errors[0].field, "outcome");
        let e = claim(&p.db, sla(), &p.buyer.caller(), id.clone(), false)
            .await
            .expect_err("a firm claims");
        assert_eq!(e.status.as_u16(), 403);

        let after = get(&p.db, sla(), &staff, id.clone()).await.expect("case");
        assert_eq!(after.status, before.status);
        assert_eq!(after.updated_at, before.updated_at);
        assert_eq!(after.community.id, p.dagang.id);

        let claimed = claim(&p.db, sla(), &staff, id, false).await.expect("claim");
        assert_eq!(claimed.status, CaseStatus::Claimed);
        assert_eq!(claimed.claimed_by.map(|c| c.id), Some(p.staff.id.clone()));
    }
}
