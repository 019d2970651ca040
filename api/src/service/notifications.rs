//! The caller's notification feed: new match suggestions, messages,
//! brokered contacts, verifications and (for staff) new cases. Each is also
//! delivered live on the event stream as a `notification` event.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::service::pagination::Page;
use crate::store::notifications::{self as store, Notification};
use crate::store::{Db, DbConnection};

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

#[derive(Debug, Serialize)]
pub struct FeedPage {
    pub items: Vec<NotificationOut>,
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

/// The caller's notifications, newest first, after the cursor's id (all,
/// or with `unread_only` the unread ones), with how many are unread.
pub fn feed(
    c: &mut DbConnection,
    caller: &Caller,
    unread_only: bool,
    before: Option<&str>,
    limit: i64,
) -> Result<FeedPage, ApiError> {
    let user = &caller.user_id;
    let rows = store::list(c, user, unread_only, before, limit + 1)?;
    let unread_count = store::unread_count(c, user)?;
    let page = Page::from_rows(rows, limit, |n| n.id.as_str(), |n| notification_out(&n));
    Ok(FeedPage {
        items: page.items,
        next_cursor: page.next_cursor,
        unread_count,
    })
}

/// [`feed`] on a pooled connection.
pub async fn feed_on(
    db: &Db,
    caller: &Caller,
    unread_only: bool,
    before: Option<String>,
    limit: i64,
) -> Result<FeedPage, ApiError> {
    let caller = caller.clone();
    db.run(move |c| Ok(feed(c, &caller, unread_only, before.as_deref(), limit)))
        .await?
}

#[derive(Debug, Serialize)]
pub struct ReadOut {
    pub marked: usize,
    pub unread_count: i64,
}

/// Marks one of the caller's notifications read (`Some(id)`; 404 when it
/// is not theirs), or all of them (`None`); the caller's other devices
/// hear of it.
pub fn mark_read(
    c: &mut DbConnection,
    caller: &Caller,
    id: Option<&str>,
) -> Result<ReadOut, ApiError> {
    let user = &caller.user_id;
    if let Some(id) = id
        && store::get(c, user, id)?.is_none()
    {
        return Err(ApiError::not_found("通知"));
    }
    let marked = store::mark_read(c, user, id)?;
    Ok(ReadOut {
        marked,
        unread_count: store::unread_count(c, user)?,
    })
}

/// [`mark_read`] on a pooled connection.
pub async fn mark_read_on(
    db: &Db,
    caller: &Caller,
    id: Option<String>,
) -> Result<ReadOut, ApiError> {
    let caller = caller.clone();
    db.run(move |c| Ok(mark_read(c, &caller, id.as_deref())))
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::{park, testing_offer};
    use crate::service::threads::{self, CreateThread, PostMessage};
    use crate::store::notifications::payload;

    /// Messages of one thread are one line in the other firm's feed,
    /// counting them; a user marks only their own notifications read.
    #[test]
    fn a_busy_chat_is_one_line_in_the_feed() {
        let p = park();
        let offer = p.post(&p.seller, testing_offer());
        let (buyer, seller) = (p.buyer.caller(), p.seller.caller());
        let ask = CreateThread {
            listing_id: Some(offer.id.clone()),
            match_id: None,
        };
        let (t, _) = threads::open(&mut p.conn(), &buyer, ask).expect("thread");
        let quotas = crate::service::quota::Quotas::new(
            &crate::config::Config::load_from(None, &|_| None).expect("config"),
        );
        for (id, text) in [("b-1", "在吗？"), ("b-2", "今天能检测吗？")] {
            let body = PostMessage {
                client_msg_id: id.into(),
                text: text.into(),
                listing_ref: None,
            };
            threads::post(&mut p.conn(), &quotas, &buyer, &t.id, body, 4000).expect("post");
        }
        let feed_of = |who: &Caller| feed(&mut p.conn(), who, true, None, 20).expect("feed");
        assert_eq!(
            feed_of(&buyer).unread_count,
            0,
            "no news of one's own messages"
        );
        let f = feed_of(&seller);
        assert_eq!(f.unread_count, 1);
        let n = &f.items[0];
        assert_eq!(
            (
                n.notification_type.as_str(),
                n.count,
                n.thread_id.as_deref()
            ),
            ("message", 2, Some(t.id.as_str()))
        );

        let e = mark_read(&mut p.conn(), &buyer, Some(&n.id)).expect_err("not theirs");
        assert_eq!(
            (e.status.as_u16(), e.code),
            (404, crate::service::error::Code::NotFound)
        );
        let r = mark_read(&mut p.conn(), &seller, Some(&n.id)).expect("read");
        assert_eq!((r.marked, r.unread_count), (1, 0));
        let r = mark_read(&mut p.conn(), &seller, None).expect("read all");
        assert_eq!((r.marked, r.unread_count), (0, 0));
        assert!(feed_of(&seller).items.is_empty());
        assert_eq!(
            feed(&mut p.conn(), &seller, false, None, 20)
                .expect("all")
                .items
                .len(),
            1
        );
    }

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
