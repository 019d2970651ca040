//! The community staff API (`/api/v1/staff/…`): the queue of urgent and
//! emergency requests, claim / broker / resolve / escalate, the audit log,
//! SLA summaries and park statistics.
//!
//! Staff act on the cases their community holds and read the ones it
//! escalated or opened; platform admins act everywhere. Firms get 403.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::listings::{ListingOut, NamedRef, listing_out};
use super::matches::{FactorOut, stored_factors};
use super::pagination::{self, Page};
use super::threads::actor_of;
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::cases::{self, refusal};
use crate::service::error::ApiError;
use crate::service::sla::{self, CaseSla, SlaConfig};
use crate::service::stats;
use crate::store::audit::{self, AuditFilter, AuditOut};
use crate::store::cases::{self as store, Acting, Case, QueueFilter};
use crate::store::listings::{self as listing_store, ListingView};
use crate::store::matches::{self as match_store};
use crate::store::{DbConnection, StoreResult, accounts, now, threads as thread_store};

/// The communities whose cases the caller acts on: `Some(c)` for staff of
/// `c`, `None` (all) for platform admins; firms are refused.
fn staff_scope(caller: &Caller) -> Result<Option<String>, ApiError> {
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
fn read_scope(caller: &Caller, asked: Option<&String>) -> Result<Option<String>, ApiError> {
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
    pub status: String,
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
    pub status: String,
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
                urgency: k.urgency,
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
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let community = read_scope(&caller, q.community_id.as_ref())?;
    let limit = pagination::limit(q.limit)?;
    let after = pagination::decode(q.cursor.as_deref())?;
    let statuses: Vec<String> = match q.status.as_deref().unwrap_or("active") {
        "active" => store::ACTIVE.iter().map(|s| s.to_string()).collect(),
        s @ ("open" | "claimed" | "brokered" | "resolved") => vec![s.to_string()],
        _ => {
            return Err(ApiError::field(
                "status",
                "invalid_choice",
                "status 须为 active、open、claimed、brokered 或 resolved",
            ));
        }
    };
    if let Some(u) = &q.urgency
        && !matches!(u.as_str(), "urgent" | "emergency")
    {
        return Err(ApiError::field(
            "urgency",
            "invalid_choice",
            "urgency 须为 urgent 或 emergency",
        ));
    }
    let sla_cfg = state.config.sla;
    let overdue_only = q.overdue == Some(true);
    let filter = QueueFilter {
        community_id: community.clone(),
        statuses,
        urgency: q.urgency.clone(),
        claimed_by: (q.mine == Some(true)).then(|| caller.user_id.clone()),
        after_id: after,
        limit: if overdue_only { ACTIVE_CAP } else { limit + 1 },
    };
    let page = state
        .db
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
                    statuses: store::ACTIVE.iter().map(|s| s.to_string()).collect(),
                    limit: ACTIVE_CAP,
                    ..QueueFilter::default()
                },
            )?;
            let mut counts = QueueCounts::default();
            for k in &active {
                match k.status.as_str() {
                    "open" => counts.open += 1,
                    "claimed" => counts.claimed += 1,
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
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Loads a case the caller may read (404 otherwise).
async fn readable(state: &AppState, caller: &Caller, id: String) -> Result<Case, ApiError> {
    let scope = staff_scope(caller)?;
    state
        .db
        .run(move |c| store::get(c, &id))
        .await?
        .filter(|k| scope.as_deref().is_none_or(|s| k.readable_by(s)))
        .ok_or_else(|| ApiError::not_found("工单"))
}

async fn one_out(state: &AppState, k: Case) -> Result<CaseOut, ApiError> {
    let sla_cfg = state.config.sla;
    state
        .db
        .run(move |c| cases_out(c, vec![k], usize::MAX, &sla_cfg))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("工单"))
}

/// `GET /api/v1/staff/cases/{id}`: one case with every stored candidate.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let k = readable(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(one_out(&state, k).await?))
}

// ----------------------------------------------------------------- actions

/// The title of a case's request, for events and messages.
async fn title_of(state: &AppState, k: &Case) -> Result<String, ApiError> {
    let id = k.listing_id.clone();
    Ok(state
        .db
        .run(move |c| listing_store::get_row(c, &id))
        .await?
        .map(|l| l.title)
        .unwrap_or_default())
}

/// A case the caller's community holds (staff may read escalated ones but
/// not act on them).
async fn actionable(state: &AppState, caller: &Caller, id: String) -> Result<Case, ApiError> {
    let scope = staff_scope(caller)?;
    let k = readable(state, caller, id).await?;
    if scope.as_deref().is_some_and(|s| s != k.community_id) {
        return Err(ApiError::forbidden("工单已移交其他社区，只能查看"));
    }
    Ok(k)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimBody {
    pub take_over: bool,
}

/// The acting staff member and the case's request title, for a store action.
async fn acting(state: &AppState, caller: &Caller, k: &Case) -> Result<Acting, ApiError> {
    Ok(Acting {
        case_id: k.id.clone(),
        community: staff_scope(caller)?,
        actor: actor_of(state, caller).await?,
        title: title_of(state, k).await?,
    })
}

/// Runs a store action on a case and answers with the case as it now is.
async fn case_action(
    state: &AppState,
    caller: &Caller,
    k: Case,
    f: impl FnOnce(&mut DbConnection, &Acting) -> crate::store::cases::ActionResult<Case>
    + Send
    + 'static,
) -> Result<HttpResponse, ApiError> {
    let a = acting(state, caller, &k).await?;
    let k = state.db.run(move |c| f(c, &a)).await?.map_err(refusal)?;
    Ok(HttpResponse::Ok().json(one_out(state, k).await?))
}

/// `POST /api/v1/staff/cases/{id}/claim`.
pub async fn claim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // The body is optional, but one that is sent must be a valid one: a
    // `take_over` that is not a boolean is refused, never read as false.
    let take_over = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        let mut de = serde_json::Deserializer::from_slice(&body);
        let parsed = serde_path_to_error::deserialize::<_, ClaimBody>(&mut de);
        if parsed.is_ok()
            && let Err(e) = de.end()
        {
            return Err(ApiError::bad_request(
                "invalid_json",
                format!("JSON 无法解析：{e}"),
            ));
        }
        parsed
            .map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_data() {
                    let field = if field == "." { "body".into() } else { field };
                    ApiError::field(&field, "invalid_type", inner.to_string())
                } else {
                    ApiError::bad_request("invalid_json", format!("JSON 无法解析：{inner}"))
                }
            })?
            .take_over
    };
    let k = actionable(&state, &caller, id.into_inner()).await?;
    case_action(&state, &caller, k, move |c, a| {
        cases::claim(c, a, take_over)
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

/// `POST /api/v1/staff/cases/{id}/resolve`.
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if !store::OUTCOMES.contains(&body.outcome.as_str()) {
        return Err(ApiError::field(
            "outcome",
            "invalid_choice",
            "outcome 须为 solved（已解决）、partly（部分解决）或 not_solved（未解决）",
        ));
    }
    let note = note_checked("note", &body.note)?;
    let k = actionable(&state, &caller, id.into_inner()).await?;
    case_action(&state, &caller, k, move |c, a| {
        cases::resolve(c, a, &body.outcome, &note)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalateBody {
    pub community_id: String,
    pub note: String,
}

/// `POST /api/v1/staff/cases/{id}/escalate`.
pub async fn escalate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<EscalateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let note = note_checked("note", &body.note)?;
    let k = actionable(&state, &caller, id.into_inner()).await?;
    if body.community_id == k.community_id {
        return Err(ApiError::field(
            "community_id",
            "same_community",
            "不能移交给本社区",
        ));
    }
    let target = body.community_id.clone();
    let exists = state
        .db
        .run(move |c| accounts::get_community(c, &target))
        .await?
        .is_some();
    if !exists {
        return Err(ApiError::field(
            "community_id",
            "unknown_community",
            "没有这个社区",
        ));
    }
    case_action(&state, &caller, k, move |c, a| {
        cases::escalate(c, a, &body.community_id, &note)
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

/// `POST /api/v1/staff/cases/{id}/broker`: puts the requesting firm in
/// contact with the firms of the chosen offers.
pub async fn broker(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<BrokerBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let max_chars = state.config.message_max_chars;
    let (offer_ids, message) = cases::broker_ask(body.offer_ids, body.message, max_chars)?;
    let k = actionable(&state, &caller, id.into_inner()).await?;
    let a = acting(&state, &caller, &k).await?;
    let out = cases::broker_on(
        &state.db,
        a,
        k,
        caller.viewer(),
        offer_ids,
        message,
        state.weights.clone(),
    )
    .await?;
    let (k, brokered) = out;
    let contacts = brokered
        .into_iter()
        .map(|b| BrokeredOut {
            match_id: b.match_record.id,
            thread_id: b.thread.id,
            offer_id: b.match_record.offer_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(BrokerOut {
        case_out: one_out(&state, k).await?,
        contacts,
    }))
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

/// `GET /api/v1/staff/audit`: staff actions of the caller's community,
/// newest first.
pub async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let community = read_scope(&caller, q.community_id.as_ref())?;
    let limit = pagination::limit(q.limit)?;
    let filter = AuditFilter {
        community_id: community,
        case_id: q.case_id,
        action: q.action,
        actor_id: q.actor_id,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = state.db.run(move |c| audit::list(c, &filter)).await?;
    let page: Page<AuditOut> = Page::from_rows(rows, limit, |e| e.id.as_str(), audit::out);
    Ok(HttpResponse::Ok().json(page))
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

async fn community_ref(state: &AppState, id: Option<String>) -> Result<Option<NamedRef>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let name = state
        .db
        .run({
            let id = id.clone();
            move |c| accounts::get_community(c, &id)
        })
        .await?
        .map(|c| c.name)
        .ok_or_else(|| ApiError::not_found("社区"))?;
    Ok(Some(NamedRef { id, name }))
}

/// `GET /api/v1/staff/sla`: SLA summary of the cases opened in a window.
pub async fn sla_summary(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    if q.format.is_some() {
        return Err(ApiError::field(
            "format",
            "unsupported",
            "SLA 汇总只提供 JSON",
        ));
    }
    let community = read_scope(&caller, q.community_id.as_ref())?;
    let (from, to) = window(&q)?;
    let community_out = community_ref(&state, community.clone()).await?;
    let sla_cfg = state.config.sla;
    let by_urgency = state
        .db
        .run(move |c| {
            let rows = store::opened_between(c, community.as_deref(), from, to)?;
            Ok(sla::summary(&rows, &sla_cfg, now()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(SlaOut {
        from: from.and_utc(),
        to: to.and_utc(),
        community: community_out,
        by_urgency,
    }))
}

#[derive(Debug, Serialize)]
pub struct StatsOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub community: Option<NamedRef>,
    #[serde(flatten)]
    pub stats: stats::Stats,
}

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(_) => {
            return Err(ApiError::field(
                "format",
                "invalid_choice",
                "format 须为 json 或 csv",
            ));
        }
        None => {}
    }
    Ok(req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv")))
}

/// `GET /api/v1/staff/stats`: park statistics of a window, as JSON or CSV.
pub async fn park_stats(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let csv = wants_csv(&req, q.format.as_deref())?;
    let community = read_scope(&caller, q.community_id.as_ref())?;
    let (from, to) = window(&q)?;
    let community_out = community_ref(&state, community.clone()).await?;
    let sla_cfg = state.config.sla;
    let s = state
        .db
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
    let out = StatsOut {
        from: from.and_utc(),
        to: to.and_utc(),
        community: community_out,
        stats: s,
    };
    if csv {
        let name = out
            .community
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "全部社区".into());
        let body = stats::to_csv(
            &out.stats,
            &out.from.to_rfc3339(),
            &out.to.to_rfc3339(),
            &name,
        );
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"zhiqilian-stats.csv\"",
            ))
            .body(format!("\u{feff}{body}")));
    }
    Ok(HttpResponse::Ok().json(out))
}
