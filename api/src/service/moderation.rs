//! Moderation: any signed-in user reports a listing, a message or a firm;
//! the staff of the firm's community work through the queue and act: hide
//! a listing (its firm sees why), remove a message (a notice takes its
//! place in the thread), warn a firm, suspend it (its listings leave
//! others' view, its users' sign-in is refused with `firm_suspended`, their
//! tokens and streams end at once), lift a suspension, or dismiss a report.
//! Every action is audited, recorded per firm and notified.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::service::access::{Caller, visible_to};
use crate::service::error::{ApiError, Code};
use crate::service::validate::Errors;
use crate::store::audit;
use crate::store::lifecycle;
use crate::store::models::Firm;
use crate::store::moderation::{self as store, Action, Report};
use crate::store::notifications::{self, NewNotification};
use crate::store::stream::NewEvent;
use crate::store::{
    Db, DbConnection, StoreError, StoreResult, accounts, listings, new_id, now, stream, threads,
};

/// Why a report is filed.
pub const REASONS: [&str; 6] = [
    "spam",
    "fraud",
    "offensive",
    "illegal",
    "wrong_info",
    "other",
];

/// What staff may do.
pub const ACTIONS: [&str; 7] = [
    "hide_listing",
    "remove_message",
    "warn_firm",
    "suspend_firm",
    "lift_suspension",
    "unverify_firm",
    "dismiss",
];

/// A reason code in words, for notifications.
pub fn reason_label(code: &str) -> &'static str {
    match code {
        "spam" => "垃圾信息",
        "fraud" => "虚假/欺诈",
        "offensive" => "不当言论",
        "illegal" => "违法违规",
        "wrong_info" => "信息有误",
        _ => "其他",
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub subject_type: String,
    pub subject_id: String,
    pub reason: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct ReportOut {
    pub id: String,
    pub subject_type: String,
    pub subject_id: String,
    pub firm_id: String,
    pub community_id: String,
    pub reason: String,
    pub text: String,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub handled_at: Option<DateTime<Utc>>,
}

fn report_out(r: Report) -> ReportOut {
    ReportOut {
        id: r.id,
        subject_type: r.subject_type,
        subject_id: r.subject_id,
        firm_id: r.firm_id,
        community_id: r.community_id,
        reason: r.reason,
        text: r.text,
        status: r.status,
        outcome: r.outcome,
        created_at: r.created_at.and_utc(),
        handled_at: r.handled_at.map(|t| t.and_utc()),
    }
}

/// The firm and community a report is about, if the caller may see its
/// subject (what one may not see cannot be reported: 404).
async fn subject_of(
    db: &Db,
    caller: &Caller,
    kind: &str,
    id: &str,
) -> Result<(String, String), ApiError> {
    let viewer = caller.viewer();
    let (kind, id, caller2) = (kind.to_string(), id.to_string(), caller.clone());
    let found = db
        .run(move |c| -> StoreResult<Option<(String, String)>> {
            match kind.as_str() {
                "listing" => Ok(listings::get(c, &id)?
                    .filter(|v| visible_to(v, &viewer))
                    .map(|v| (v.listing.firm_id, v.listing.community_id))),
                "message" => {
                    let Some((thread_id, author_firm)) = store::message_subject(c, &id)? else {
                        return Ok(None);
                    };
                    let Some(t) = threads::get(c, &thread_id)? else {
                        return Ok(None);
                    };
                    let party = caller2.firm_id().is_some_and(|f| t.has_firm(f))
                        || caller2
                            .staff_community
                            .as_deref()
                            .is_some_and(|cm| t.in_community(cm));
                    let Some(firm_id) = author_firm.filter(|_| party) else {
                        return Ok(None);
                    };
                    let community = accounts::get_firm(c, &firm_id)?.map(|f| f.community_id);
                    Ok(community.map(|cm| (firm_id, cm)))
                }
                "firm" => Ok(accounts::get_firm(c, &id)?
                    .filter(|f| {
                        f.verified
                            || caller2.is_member_of(&f.id)
                            || caller2.can_administer_community(&f.community_id)
                    })
                    .map(|f| (f.id, f.community_id))),
                _ => Ok(None),
            }
        })
        .await?;
    found.ok_or_else(|| ApiError::not_found("举报对象"))
}

/// Any signed-in user reports a listing, a message (of a thread they take
/// part in) or a firm, with a reason code and text. The staff of the
/// firm's community are notified.
pub async fn report(db: &Db, caller: &Caller, r: NewReport) -> Result<ReportOut, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("API 客户端不能举报"));
    }
    let mut e = Errors::default();
    if !["listing", "message", "firm"].contains(&r.subject_type.as_str()) {
        e.push(
            "subject_type",
            "invalid_value",
            "取值无效，可选值：listing, message, firm",
        );
    }
    if !REASONS.contains(&r.reason.as_str()) {
        e.push(
            "reason",
            "invalid_value",
            format!("取值无效，可选值：{}", REASONS.join(", ")),
        );
    }
    let text = if r.text.trim().is_empty() {
        String::new()
    } else {
        e.text("text", &r.text, 1, 1000)
    };
    e.into_result().map_err(ApiError::validation)?;
    let (firm_id, community_id) = subject_of(db, caller, &r.subject_type, &r.subject_id).await?;
    let row = Report {
        id: new_id(),
        reporter_user_id: caller.user_id.clone(),
        subject_type: r.subject_type,
        subject_id: r.subject_id,
        firm_id,
        community_id,
        reason: r.reason,
        text,
        status: "open".into(),
        created_at: now(),
        handled_at: None,
        handled_by: None,
        outcome: None,
    };
    let saved = row.clone();
    db.run(move |c| {
        stream::write(c, |c| {
            store::insert_report(c, &row)?;
            let staff = notifications::community_staff(c, &row.community_id)?;
            let live = notifications::notify(
                c,
                &staff,
                &NewNotification {
                    kind: "report.filed",
                    title: "新的举报".into(),
                    body: format!("{}：{}", reason_label(&row.reason), row.text),
                    subject_type: "report",
                    subject_id: row.id.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?;
            Ok(((), live))
        })
    })
    .await?;
    Ok(report_out(saved))
}

/// A firm's moderation history, shown next to each report.
#[derive(Debug, Serialize)]
pub struct FirmHistory {
    pub id: String,
    pub name: String,
    pub reports: i64,
    pub actions: i64,
    pub suspended: bool,
    /// Verified by staff (`unverify_firm` takes it back).
    pub verified: bool,
}

#[derive(Debug, Serialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub report: ReportOut,
    pub firm: FirmHistory,
}

fn staff_community(caller: &Caller) -> Result<Option<String>, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("需要社区工作人员权限"));
    }
    if caller.platform_admin {
        return Ok(None);
    }
    match &caller.staff_community {
        Some(c) => Ok(Some(c.clone())),
        None => Err(ApiError::forbidden("需要社区工作人员权限")),
    }
}

/// The moderation queue of the caller's community (platform admins: all),
/// newest first, with each firm's history of reports and actions.
pub async fn queue(
    db: &Db,
    caller: &Caller,
    status: Option<String>,
    before_id: Option<String>,
    limit: i64,
) -> Result<Vec<QueueItem>, ApiError> {
    let community = staff_community(caller)?;
    if let Some(s) = &status
        && !["open", "actioned", "dismissed"].contains(&s.as_str())
    {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "取值无效，可选值：open, actioned, dismissed",
        ));
    }
    let (rows, firms, history) = db
        .run(move |c| {
            let rows = store::list_reports(
                c,
                community.as_deref(),
                status.as_deref(),
                before_id.as_deref(),
                limit,
            )?;
            let mut ids: Vec<String> = rows.iter().map(|r| r.firm_id.clone()).collect();
            ids.sort();
            ids.dedup();
            let history = store::firm_history(c, &ids)?;
            let mut firms: HashMap<String, Firm> = HashMap::new();
            for id in &ids {
                if let Some(f) = accounts::get_firm(c, id)? {
                    firms.insert(id.clone(), f);
                }
            }
            Ok((rows, firms, history))
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (reports, actions) = history.get(&r.firm_id).copied().unwrap_or_default();
            let f = firms.get(&r.firm_id);
            let firm = FirmHistory {
                id: r.firm_id.clone(),
                name: f.map(|f| f.name.clone()).unwrap_or_default(),
                reports,
                actions,
                suspended: f.is_some_and(|f| f.suspended_at.is_some()),
                verified: f.is_some_and(|f| f.verified),
            };
            QueueItem {
                report: report_out(r),
                firm,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    pub action: String,
    /// The listing, message or firm acted on (defaults to the report's
    /// subject).
    #[serde(default)]
    pub target_id: Option<String>,
    #[serde(default)]
    pub report_id: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct ActionOut {
    pub id: String,
    pub action: String,
    pub firm_id: String,
    pub subject_type: String,
    pub subject_id: String,
    pub reason: String,
    pub reports_closed: usize,
    pub created_at: DateTime<Utc>,
}

/// Why an action cannot be taken.
enum Refused {
    NotFound,
    Conflict(Code, &'static str),
}

/// The notice that takes a removed message's place.
pub fn removed_notice(reason: &str) -> String {
    format!("【该消息已被社区工作人员移除】原因：{reason}")
}

/// Staff act on a listing, message or firm of their community (404 for
/// anything else), with a reason. The open reports of the subject are
/// closed as actioned (a dismissal closes the one report), the action is
/// audited and recorded for the firm's history, and the firm's admins are
/// told why.
pub async fn act(db: &Db, caller: &Caller, a: ActionIn) -> Result<ActionOut, ApiError> {
    let community = staff_community(caller)?;
    let mut e = Errors::default();
    if !ACTIONS.contains(&a.action.as_str()) {
        e.push(
            "action",
            "invalid_value",
            format!("取值无效，可选值：{}", ACTIONS.join(", ")),
        );
    }
    let reason = e.text("reason", &a.reason, 1, 500);
    e.into_result().map_err(ApiError::validation)?;
    let staff = caller.user_id.clone();
    let result = db
        .run(move |c| {
            let mut out: Option<Result<ActionOut, Refused>> = None;
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                let (r, live) = decide(c, community.as_deref(), &staff, &a, &reason)?;
                let ok = r.is_ok();
                out = Some(r);
                if !ok {
                    // Nothing written: roll the transaction back.
                    return Err(StoreError::Conflict("refused".into()));
                }
                Ok(((), live))
            })
            .or_else(|e| match (&e, &out) {
                (StoreError::Conflict(w), Some(Err(_))) if w == "refused" => Ok(()),
                _ => Err(e),
            })?;
            Ok(out)
        })
        .await?;
    match result {
        Some(Ok(out)) => Ok(out),
        Some(Err(Refused::Conflict(code, why))) => Err(ApiError::conflict(code, why)),
        Some(Err(Refused::NotFound)) | None => Err(ApiError::not_found("处理对象")),
    }
}

type Decision = (Result<ActionOut, Refused>, Vec<NewEvent>);

/// Inside the action's transaction: checks and applies one action.
fn decide(
    c: &mut DbConnection,
    community: Option<&str>,
    staff: &str,
    a: &ActionIn,
    reason: &str,
) -> StoreResult<Decision> {
    let mine = |cm: &str| community.is_none_or(|own| own == cm);
    let report = match &a.report_id {
        Some(id) => match store::get_report(c, id)?.filter(|r| mine(&r.community_id)) {
            Some(r) => Some(r),
            None => return Ok((Err(Refused::NotFound), Vec::new())),
        },
        None => None,
    };
    let target = a
        .target_id
        .clone()
        .or_else(|| report.as_ref().map(|r| r.subject_id.clone()));
    let Some(target) = target else {
        return Ok((Err(Refused::NotFound), Vec::new()));
    };
    let at = now();
    let actor = accounts::actor(c, staff)?;
    let mut live = Vec::new();
    // (firm, its community, subject type, what the firm is told)
    let (firm_id, firm_community, subject_type, told): (String, String, &str, String) = match a
        .action
        .as_str()
    {
        "hide_listing" => {
            let Some(l) = listings::get_row(c, &target)?.filter(|l| mine(&l.community_id)) else {
                return Ok((Err(Refused::NotFound), Vec::new()));
            };
            listings::close(c, &l.id, at)?;
            store::mark_hidden(c, &l.id, reason, at)?;
            let told = format!("您的供需信息「{}」已被社区隐藏，原因：{reason}", l.title);
            (l.firm_id, l.community_id, "listing", told)
        }
        "remove_message" => {
            let Some((thread_id, author_firm)) = store::message_subject(c, &target)? else {
                return Ok((Err(Refused::NotFound), Vec::new()));
            };
            let t = threads::get(c, &thread_id)?;
            let in_mine = t
                .as_ref()
                .is_some_and(|t| community.is_none_or(|own| t.in_community(own)));
            let (Some(t), true) = (t, in_mine) else {
                return Ok((Err(Refused::NotFound), Vec::new()));
            };
            store::replace_message(c, &target, &removed_notice(reason))?;
            let firm = author_firm.unwrap_or_else(|| t.firm_a_id.clone());
            let cm = accounts::get_firm(c, &firm)?
                .map(|f| f.community_id)
                .unwrap_or_else(|| t.community_a_id.clone());
            (
                firm,
                cm,
                "message",
                format!("您在会话中的一条消息已被社区移除，原因：{reason}"),
            )
        }
        "warn_firm" | "suspend_firm" | "lift_suspension" | "unverify_firm" | "dismiss" => {
            let firm_target = match (&a.action[..], &report) {
                ("dismiss", Some(r)) => r.firm_id.clone(),
                ("dismiss", None) => return Ok((Err(Refused::NotFound), Vec::new())),
                _ => target.clone(),
            };
            let Some(f) = accounts::get_firm(c, &firm_target)?.filter(|f| mine(&f.community_id))
            else {
                return Ok((Err(Refused::NotFound), Vec::new()));
            };
            let told = match a.action.as_str() {
                "warn_firm" => format!("社区对贵企业提出警告：{reason}"),
                "suspend_firm" => {
                    if f.suspended_at.is_some() {
                        return Ok((
                            Err(Refused::Conflict(Code::AlreadySuspended, "该企业已被暂停")),
                            Vec::new(),
                        ));
                    }
                    store::set_suspended(c, &f.id, Some((reason, at)))?;
                    for u in store::member_ids(c, &f.id)? {
                        live.push(lifecycle::end_sessions(c, &u, at)?);
                    }
                    format!("贵企业已被社区暂停使用，原因：{reason}")
                }
                "lift_suspension" => {
                    if f.suspended_at.is_none() {
                        return Ok((
                            Err(Refused::Conflict(Code::NotSuspended, "该企业未被暂停")),
                            Vec::new(),
                        ));
                    }
                    store::set_suspended(c, &f.id, None)?;
                    format!("社区已恢复贵企业的使用：{reason}")
                }
                "unverify_firm" => {
                    if !f.verified {
                        return Ok((
                            Err(Refused::Conflict(Code::NotVerified, "该企业尚未通过认证")),
                            Vec::new(),
                        ));
                    }
                    store::set_unverified(c, &f.id, at)?;
                    format!(
                        "贵企业的社区认证已被撤销，原因：{reason}。重新认证之前，贵企业的供需信息不向其他企业展示"
                    )
                }
                _ => String::new(),
            };
            (f.id, f.community_id, "firm", told)
        }
        _ => return Ok((Err(Refused::NotFound), Vec::new())),
    };
    let (subject_type, subject_id) = match (&a.action[..], &report) {
        ("dismiss", Some(r)) => (r.subject_type.clone(), r.subject_id.clone()),
        _ => (subject_type.to_string(), target.clone()),
    };
    let closed = if a.action == "dismiss" {
        let r = report.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        store::close_report(c, &r, "dismissed", staff, at)?
    } else {
        store::close_reports(c, &subject_type, &subject_id, &a.action, staff, at)?
    };
    let row = Action {
        id: new_id(),
        firm_id: firm_id.clone(),
        community_id: firm_community.clone(),
        action: a.action.clone(),
        subject_type: subject_type.clone(),
        subject_id: subject_id.clone(),
        reason: reason.to_string(),
        actor_user_id: staff.to_string(),
        report_id: report.as_ref().map(|r| r.id.clone()),
        created_at: at,
    };
    if a.action != "dismiss" {
        store::insert_action(c, &row)?;
    }
    audit::record(
        c,
        &actor,
        &firm_community,
        &format!("moderation.{}", a.action),
        None,
        (&subject_type, &subject_id),
        json!({ "firm_id": firm_id, "reason": reason, "report_id": row.report_id }),
    )?;
    if !told.is_empty() {
        let admins = notifications::firm_admins(c, &firm_id)?;
        live.extend(notifications::notify(
            c,
            &admins,
            &NewNotification {
                kind: "moderation",
                title: "社区处理通知".into(),
                body: told,
                subject_type: if subject_type == "listing" {
                    "listing"
                } else {
                    "firm"
                },
                subject_id: if subject_type == "listing" {
                    subject_id.clone()
                } else {
                    firm_id.clone()
                },
                thread_id: None,
                group_key: None,
            },
        )?);
    }
    if matches!(
        a.action.as_str(),
        "suspend_firm" | "lift_suspension" | "unverify_firm"
    ) {
        // Who may see its listings changed: reindex them (last).
        listings::touch_firm(c, &firm_id)?;
    }
    Ok((
        Ok(ActionOut {
            id: row.id,
            action: row.action,
            firm_id,
            subject_type,
            subject_id,
            reason: row.reason,
            reports_closed: closed,
            created_at: at.and_utc(),
        }),
        live,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::{block_on, park, testing_offer};

    /// A report names its firm; hiding the listing closes it, records the
    /// reason, closes the report and counts in the firm's history;
    /// suspending ends sessions and lifting is refused twice.
    #[test]
    fn reports_and_actions() {
        let p = park();
        let l = p.post(&p.seller, testing_offer());
        let r = block_on(report(
            &p.db,
            &p.buyer.caller(),
            NewReport {
                subject_type: "listing".into(),
                subject_id: l.id.clone(),
                reason: "fraud".into(),
                text: "价格明显不实".into(),
            },
        ))
        .expect("report");
        assert_eq!(r.firm_id, p.seller.firm.id);
        let bad = block_on(report(
            &p.db,
            &p.buyer.caller(),
            NewReport {
                subject_type: "listing".into(),
                subject_id: l.id.clone(),
                reason: "dislike".into(),
                text: String::new(),
            },
        ));
        assert_eq!(bad.expect_err("reason").status.as_u16(), 422);

        let s = p.staff_caller();
        let done = block_on(act(
            &p.db,
            &s,
            ActionIn {
                action: "hide_listing".into(),
                target_id: None,
                report_id: Some(r.id.clone()),
                reason: "虚假信息".into(),
            },
        ))
        .expect("hide");
        assert_eq!(done.reports_closed, 1);
        let row = listings::get_row(&mut p.conn(), &l.id)
            .expect("read")
            .expect("row");
        assert_eq!(row.status, zhiqilian_matcher::ListingStatus::Closed);
        assert_eq!(row.hidden_reason.as_deref(), Some("虚假信息"));
        let q = block_on(queue(&p.db, &s, None, None, 10)).expect("queue");
        assert_eq!((q[0].firm.reports, q[0].firm.actions), (1, 1));
        assert_eq!(q[0].report.status, "actioned");

        let suspend = |action: &str| {
            block_on(act(
                &p.db,
                &s,
                ActionIn {
                    action: action.into(),
                    target_id: Some(p.seller.firm.id.clone()),
                    report_id: None,
                    reason: "多次虚假发布".into(),
                },
            ))
        };
        suspend("suspend_firm").expect("suspend");
        let st = lifecycle::session_state(&mut p.conn(), &p.seller.user.id)
            .expect("read")
            .expect("user");
        assert!(st.firm_suspended);
        assert!(suspend("suspend_firm").is_err(), "already suspended");
        suspend("lift_suspension").expect("lift");
        assert!(suspend("lift_suspension").is_err(), "not suspended");
        // Another community's firm does not exist for these staff.
        let far = block_on(act(
            &p.db,
            &s,
            ActionIn {
                action: "warn_firm".into(),
                target_id: Some(p.far.firm.id.clone()),
                report_id: None,
                reason: "x".into(),
            },
        ));
        assert_eq!(far.expect_err("far").status.as_u16(), 404);
    }
}
