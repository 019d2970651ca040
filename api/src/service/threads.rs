//! Chat threads about a listing or a match record, and their messages.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::threads::Message;

#[derive(Debug, Clone, Serialize)]
pub struct AuthorOut {
    pub user_id: String,
    pub name: String,
    pub firm_id: Option<String>,
    /// `firm` or `staff`.
    pub role: String,
}

/// A message as clients see it, over REST and on the event stream alike
/// (the event log's `message.created` payload is
/// `store::threads::message_payload`, the same JSON).
#[derive(Debug, Clone, Serialize)]
pub struct MessageOut {
    pub id: String,
    pub thread_id: String,
    pub seq: i64,
    /// `text` or `system`.
    pub kind: String,
    /// Null for system messages.
    pub author: Option<AuthorOut>,
    pub text: String,
    /// What a system message records: `staff_joined`, `closed`,
    /// `reopened`, `match_status`.
    pub event: Option<String>,
    pub listing_ref: Option<String>,
    pub client_msg_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub fn message_out(m: &Message) -> MessageOut {
    MessageOut {
        id: m.id.clone(),
        thread_id: m.thread_id.clone(),
        seq: m.seq,
        kind: m.kind.clone(),
        author: m.author_user_id.as_ref().map(|u| AuthorOut {
            user_id: u.clone(),
            name: m.author_name.clone(),
            firm_id: m.author_firm_id.clone(),
            role: m.author_role.clone(),
        }),
        text: m.body.clone(),
        event: m.event.clone(),
        listing_ref: m.listing_ref.clone(),
        client_msg_id: m.client_msg_id.clone(),
        created_at: m.created_at.and_utc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::threads::message_payload;

    /// The REST answer and the live event of a message are one JSON.
    #[test]
    fn a_message_reads_the_same_over_rest_and_on_the_stream() {
        let at = crate::store::now();
        let text = Message {
            id: crate::store::new_id(),
            thread_id: crate::store::new_id(),
            seq: 3,
            kind: "text".into(),
            author_user_id: Some("u1".into()),
            author_firm_id: Some("f1".into()),
            author_role: "firm".into(),
            author_name: "张工".into(),
            body: "明天上午可以送检".into(),
            event: None,
            listing_ref: Some("l1".into()),
            client_msg_id: Some("c-1".into()),
            created_at: at,
        };
        let system = Message {
            kind: "system".into(),
            author_user_id: None,
            author_firm_id: None,
            author_role: "system".into(),
            author_name: String::new(),
            event: Some("closed".into()),
            listing_ref: None,
            client_msg_id: None,
            ..text.clone()
        };
        for m in [text, system] {
            // The event log stores the payload as a JSON value, as the
            // value of the answer's struct was stored before.
            assert_eq!(
                serde_json::to_value(message_out(&m)).expect("json"),
                message_payload(&m)
            );
        }
    }
}
