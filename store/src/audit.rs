//! The audit log of staff actions: written inside the transaction of the
//! action it records, so an action and its entry commit together or not at
//! all.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConnection, StoreResult, new_id, now};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_user_id: String,
    pub actor_name: String,
    pub community_id: String,
    pub action: String,
    pub case_id: Option<String>,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: String,
}

/// Who acted, with the name shown in the log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub name: String,
}

/// Inside the action's transaction: records it.
#[allow(clippy::too_many_arguments)]
pub fn record(
    c: &mut DbConnection,
    actor: &Actor,
    community_id: &str,
    action: &str,
    case_id: Option<&str>,
    subject: (&str, &str),
    detail: serde_json::Value,
) -> StoreResult<AuditEntry> {
    let row = AuditEntry {
        id: new_id(),
        at: now(),
        actor_user_id: actor.user_id.clone(),
        actor_name: actor.name.clone(),
        community_id: community_id.to_string(),
        action: action.to_string(),
        case_id: case_id.map(str::to_string),
        subject_type: subject.0.to_string(),
        subject_id: subject.1.to_string(),
        detail: detail.to_string(),
    };
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(c)?;
    Ok(row)
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// `None`: every community (platform admins).
    pub community_id: Option<String>,
    pub case_id: Option<String>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Entries newest first.
pub fn list(c: &mut DbConnection, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(v) = &f.community_id {
        q = q.filter(audit_log::community_id.eq(v.clone()));
    }
    if let Some(v) = &f.case_id {
        q = q.filter(audit_log::case_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(audit_log::actor_user_id.eq(v.clone()));
    }
    if let Some(v) = &f.before_id {
        q = q.filter(audit_log::id.lt(v.clone()));
    }
    Ok(q.order(audit_log::id.desc()).limit(f.limit).load(c)?)
}
