//! The caller's notification feed: new match suggestions, messages,
//! brokered contacts, verifications and (for staff) new cases.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::notifications::Notification;

#[derive(Debug, Clone, Serialize)]
pub struct SubjectRef {
    #[serde(rename = "type")]
    pub subject_type: String,
    pub id: String,
}

/// A notification as clients see it (the event log's `notification`
/// payload is `store::notifications::payload`, the same JSON).
#[derive(Debug, Clone, Serialize)]
pub struct NotificationOut {
    pub id: String,
    #[serde(rename = "type")]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    pub subject: SubjectRef,
    pub thread_id: Option<String>,
    /// How many events this notification stands for (messages of a thread).
    pub count: i32,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub fn notification_out(n: &Notification) -> NotificationOut {
    NotificationOut {
        id: n.id.clone(),
        notification_type: n.notification_type.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        subject: SubjectRef {
            subject_type: n.subject_type.clone(),
            id: n.subject_id.clone(),
        },
        thread_id: n.thread_id.clone(),
        count: n.count,
        read_at: n.read_at.map(|t| t.and_utc()),
        created_at: n.created_at.and_utc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::notifications::payload;

    /// The feed and the live event of a notification are one JSON.
    #[test]
    fn a_notification_reads_the_same_in_the_feed_and_on_the_stream() {
        let at = crate::store::now();
        let unread = Notification {
            id: crate::store::new_id(),
            user_id: "u1".into(),
            notification_type: "message".into(),
            title: "新消息".into(),
            body: "张工：明天上午可以送检".into(),
            subject_type: "thread".into(),
            subject_id: "t1".into(),
            thread_id: Some("t1".into()),
            group_key: Some("thread:t1".into()),
            count: 2,
            read_at: None,
            created_at: at,
        };
        let read = Notification {
            read_at: Some(at),
            thread_id: None,
            ..unread.clone()
        };
        for n in [unread, read] {
            // The event log stores the payload as a JSON value, as the
            // value of the answer's struct was stored before.
            assert_eq!(
                serde_json::to_value(notification_out(&n)).expect("json"),
                payload(&n)
            );
        }
    }
}
