//! An audit log entry as the staff console and API clients see it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::audit::AuditEntry;

#[derive(Debug, Serialize)]
pub struct ActorOut {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct SubjectOut {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub id: String,
}

#[derive(Debug, Serialize)]
pub struct AuditOut {
    pub id: String,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: ActorOut,
    pub community_id: String,
    pub case_id: Option<String>,
    pub subject: SubjectOut,
    pub detail: serde_json::Value,
}

pub fn audit_out(e: AuditEntry) -> AuditOut {
    AuditOut {
        id: e.id,
        at: e.at.and_utc(),
        action: e.action,
        actor: ActorOut {
            id: e.actor_user_id,
            name: e.actor_name,
        },
        community_id: e.community_id,
        case_id: e.case_id,
        subject: SubjectOut {
            subject_type: e.subject_type,
            id: e.subject_id,
        },
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
    }
}
