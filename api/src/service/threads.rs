//! Chat threads about a listing or a match record, and their messages.
//!
//! Participants are the two firms of a thread (every member may read and
//! write) and the community staff who joined it. Staff of either firm's
//! community may see a thread and join it; anyone else finds no such
//! thread (404) on every thread use case.
//!
//! Each use case is a function on a connection (what the unit tests call)
//! and, with the suffix `_on`, the same on the pool (what the HTTP layer
//! calls).

use std::collections::HashMap;
use zhiqilian_matcher::ListingStatus;

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::service::access::{Caller, visible_to};
use crate::service::error::{ApiError, Code, Status};
use crate::service::pagination;
use crate::service::quota::Quotas;
use crate::service::validate::Errors;
use crate::store::audit::Actor;
use crate::store::listings::{self as listing_store, ListingView};
use crate::store::matches::{self as match_store, MatchRecord};
use crate::store::threads::{
    self as store, Author, Message, NewMessage, Posted, StaffParticipant, Thread, ThreadFilter,
    ThreadScope,
};
use crate::store::{Db, DbConnection, StoreResult, accounts, new_id, now};

/// Runs a use case on a pooled connection, off the async workers.
async fn on<T, F>(db: &Db, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    db.run(move |c| Ok(f(c))).await?
}

/// How the caller stands to a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A member of one of the two firms.
    Firm,
    /// Staff of a community of the thread who joined it.
    Staff,
    /// Staff of a community of the thread who have not joined (may look
    /// and join, not read messages).
    Observer,
}

/// A thread the caller may see, and how they stand to it; 404 for
/// anything else.
pub fn load(c: &mut DbConnection, caller: &Caller, id: &str) -> Result<(Thread, Access), ApiError> {
    let not_found = || ApiError::not_found("对话");
    let t = store::get(c, id)?.ok_or_else(not_found)?;
    if caller.firm_id().is_some_and(|f| t.has_firm(f)) {
        return Ok((t, Access::Firm));
    }
    if let Some(s) = caller.staff_community.as_deref() {
        // Staff who joined take part wherever the firms are (a case
        // escalated to a neighbouring park); others may look at the
        // threads of their community.
        if store::is_staff_participant(c, &t.id, &caller.user_id)? {
            return Ok((t, Access::Staff));
        }
        if t.in_community(s) {
            return Ok((t, Access::Observer));
        }
    }
    Err(not_found())
}

/// A thread the caller takes part in (403 for staff who have not joined).
pub fn load_participant(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<(Thread, Access), ApiError> {
    let (t, access) = load(c, caller, id)?;
    if access == Access::Observer {
        return Err(ApiError::new(
            Status::FORBIDDEN,
            Code::NotAParticipant,
            "请先加入对话",
        ));
    }
    Ok((t, access))
}

/// The caller as the audit log names them.
pub fn actor_of(c: &mut DbConnection, caller: &Caller) -> Result<Actor, ApiError> {
    Ok(Actor {
        user_id: caller.user_id.clone(),
        name: display_name(c, caller)?,
    })
}

/// [`actor_of`] on a pooled connection.
pub async fn actor_on(db: &Db, caller: &Caller) -> Result<Actor, ApiError> {
    let caller = caller.clone();
    on(db, move |c| actor_of(c, &caller)).await
}

fn display_name(c: &mut DbConnection, caller: &Caller) -> Result<String, ApiError> {
    Ok(accounts::get_user(c, &caller.user_id)?
        .map(|u| u.display_name)
        .unwrap_or_default())
}

// ----------------------------------------------------------------- output

#[derive(Debug, Serialize)]
pub struct ListingBrief {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub side: String,
}

#[derive(Debug, Serialize)]
pub struct MatchBrief {
    pub id: String,
    pub status: String,
    pub request: Option<ListingBrief>,
    pub offer: Option<ListingBrief>,
}

#[derive(Debug, Serialize)]
pub struct SubjectOut {
    /// `listing` or `match`.
    #[serde(rename = "type")]
    pub subject_type: String,
    pub listing: Option<ListingBrief>,
    #[serde(rename = "match")]
    pub match_record: Option<MatchBrief>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirmBrief {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct StaffOut {
    pub user_id: String,
    pub name: String,
    pub community_id: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct LastMessage {
    pub seq: i64,
    pub kind: String,
    pub author_name: Option<String>,
    /// The start of the text (at most 80 characters).
    pub preview: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct ThreadOut {
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// What a chat list shows: the subject listing's title (for a match,
    /// the counterpart's listing).
    pub title: String,
    pub subject: SubjectOut,
    /// The listing's firm (match: the request's) first.
    pub firms: [FirmBrief; 2],
    /// The firm on the other side from the caller's (null for staff).
    pub other_firm: Option<FirmBrief>,
    pub staff: Vec<StaffOut>,
    /// `firm`, `staff` or `observer` (staff who may join).
    pub my_role: &'static str,
    pub last_seq: i64,
    pub last_read_seq: i64,
    pub unread: i64,
    pub last_message: Option<LastMessage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

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

/// What the output of a set of threads needs besides the rows.
struct Context {
    listings: HashMap<String, ListingView>,
    matches: HashMap<String, MatchRecord>,
    firms: HashMap<String, String>,
    reads: HashMap<String, i64>,
    last: HashMap<String, Message>,
    staff: Vec<StaffParticipant>,
}

fn context(c: &mut DbConnection, rows: &[Thread], user_id: &str) -> StoreResult<Context> {
    let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
    let mut matches = HashMap::new();
    for t in rows {
        if let Some(m) = &t.match_id
            && let Some(r) = match_store::get(c, m)?
        {
            matches.insert(m.clone(), r);
        }
    }
    let mut listing_ids: Vec<String> = rows.iter().filter_map(|t| t.listing_id.clone()).collect();
    for r in matches.values() {
        listing_ids.push(r.request_id.clone());
        listing_ids.push(r.offer_id.clone());
    }
    let listings = listing_store::get_many(c, &listing_ids)?
        .into_iter()
        .map(|v| (v.listing.id.clone(), v))
        .collect();
    let firm_ids: Vec<String> = rows
        .iter()
        .flat_map(|t| [t.firm_a_id.clone(), t.firm_b_id.clone()])
        .collect();
    Ok(Context {
        listings,
        matches,
        firms: store::firm_names(c, &firm_ids)?,
        reads: store::reads_of(c, user_id, &ids)?,
        last: store::last_messages(c, &ids)?,
        staff: store::staff_of(c, &ids)?,
    })
}

fn preview(text: &str) -> String {
    const MAX: usize = 80;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX {
        flat
    } else {
        let mut s: String = flat.chars().take(MAX - 1).collect();
        s.push('…');
        s
    }
}

fn thread_out(t: Thread, access: Access, caller: &Caller, ctx: &Context) -> ThreadOut {
    let brief = |id: &str| {
        ctx.listings.get(id).map(|v| ListingBrief {
            id: v.listing.id.clone(),
            title: v.listing.title.clone(),
            kind: v.listing.kind.clone(),
            side: v.listing.side.clone(),
        })
    };
    let firm = |id: &str| FirmBrief {
        id: id.to_string(),
        name: ctx.firms.get(id).cloned().unwrap_or_default(),
    };
    let my_firm = caller.firm_id().filter(|f| t.has_firm(f));
    let (subject, title) = match (&t.listing_id, &t.match_id) {
        (Some(l), _) => {
            let listing = brief(l);
            let title = listing
                .as_ref()
                .map(|b| b.title.clone())
                .unwrap_or_default();
            (
                SubjectOut {
                    subject_type: t.subject_type.clone(),
                    listing,
                    match_record: None,
                },
                title,
            )
        }
        (None, Some(m)) => {
            let r = ctx.matches.get(m);
            let request = r.and_then(|r| brief(&r.request_id));
            let offer = r.and_then(|r| brief(&r.offer_id));
            // The request's firm looks at the offer, everyone else at the request.
            let shown = if my_firm == Some(t.firm_a_id.as_str()) {
                &offer
            } else {
                &request
            };
            let title = shown.as_ref().map(|b| b.title.clone()).unwrap_or_default();
            (
                SubjectOut {
                    subject_type: t.subject_type.clone(),
                    listing: None,
                    match_record: Some(MatchBrief {
                        id: m.clone(),
                        status: r.map(|r| r.status.as_str().to_string()).unwrap_or_default(),
                        request,
                        offer,
                    }),
                },
                title,
            )
        }
        (None, None) => (
            SubjectOut {
                subject_type: t.subject_type.clone(),
                listing: None,
                match_record: None,
            },
            String::new(),
        ),
    };
    let other_firm = my_firm.map(|f| {
        if f == t.firm_a_id {
            firm(&t.firm_b_id)
        } else {
            firm(&t.firm_a_id)
        }
    });
    let last_read_seq = ctx.reads.get(&t.id).copied().unwrap_or(0);
    // Observers may not read messages (the messages use case says 403
    // until they join), so no part of one reaches them here either.
    let last_message = ctx
        .last
        .get(&t.id)
        .filter(|_| access != Access::Observer)
        .map(|m| LastMessage {
            seq: m.seq,
            kind: m.kind.clone(),
            author_name: m.author_user_id.as_ref().map(|_| m.author_name.clone()),
            preview: preview(&m.body),
            created_at: m.created_at.and_utc(),
        });
    let staff = ctx
        .staff
        .iter()
        .filter(|s| s.thread_id == t.id)
        .map(|s| StaffOut {
            user_id: s.user_id.clone(),
            name: s.name.clone(),
            community_id: s.community_id.clone(),
            joined_at: s.joined_at.and_utc(),
        })
        .collect();
    ThreadOut {
        title,
        subject,
        firms: [firm(&t.firm_a_id), firm(&t.firm_b_id)],
        other_firm,
        staff,
        my_role: match access {
            Access::Firm => "firm",
            Access::Staff => "staff",
            Access::Observer => "observer",
        },
        last_seq: t.last_seq,
        last_read_seq,
        // Observers read nothing, so nothing is unread for them.
        unread: if access == Access::Observer {
            0
        } else {
            (t.last_seq - last_read_seq).max(0)
        },
        last_message,
        created_at: t.created_at.and_utc(),
        updated_at: t.updated_at.and_utc(),
        closed_at: t.closed_at.map(|x| x.and_utc()),
        status: t.status,
        id: t.id,
    }
}

/// One thread as `caller` sees it.
fn view(
    c: &mut DbConnection,
    caller: &Caller,
    t: Thread,
    access: Access,
) -> Result<ThreadOut, ApiError> {
    let ctx = context(c, std::slice::from_ref(&t), &caller.user_id)?;
    Ok(thread_out(t, access, caller, &ctx))
}

fn reload(c: &mut DbConnection, id: &str) -> Result<Thread, ApiError> {
    store::get(c, id)?.ok_or_else(|| ApiError::not_found("对话"))
}

// ----------------------------------------------------------------- create

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreateThread {
    pub listing_id: Option<String>,
    pub match_id: Option<String>,
}

fn blank_thread(caller: &Caller) -> Thread {
    let t = now();
    Thread {
        id: new_id(),
        subject_type: String::new(),
        listing_id: None,
        match_id: None,
        subject_key: String::new(),
        firm_a_id: String::new(),
        firm_b_id: String::new(),
        community_a_id: String::new(),
        community_b_id: String::new(),
        status: "open".into(),
        last_seq: 0,
        created_by: caller.user_id.clone(),
        created_at: t,
        updated_at: t,
        closed_at: None,
    }
}

/// The thread about a listing (between its firm and the caller's) or about
/// a match record (between its two firms), created on first use; asking
/// again returns the same thread. Staff who open a thread about a match
/// take part in it. The bool says whether it was created now.
pub fn open(
    c: &mut DbConnection,
    caller: &Caller,
    ask: CreateThread,
) -> Result<(ThreadOut, bool), ApiError> {
    let (t, created) = match (ask.listing_id, ask.match_id) {
        (Some(l), None) => about_listing(c, caller, &l)?,
        (None, Some(m)) => about_match(c, caller, &m)?,
        (None, None) => {
            let mut e = Errors::default();
            e.push(
                "listing_id",
                "required",
                "须提供 listing_id 或 match_id 之一",
            );
            e.push("match_id", "required", "须提供 listing_id 或 match_id 之一");
            return Err(ApiError::validation(e.0));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "match_id",
                "invalid_value",
                "listing_id 与 match_id 只能提供一个",
            ));
        }
    };
    let access = if caller.firm_id().is_some_and(|f| t.has_firm(f)) {
        Access::Firm
    } else {
        let community = caller.staff_community.clone().unwrap_or_default();
        let actor = actor_of(c, caller)?;
        store::join_staff(c, &t.id, &actor, &community)?;
        Access::Staff
    };
    let t = reload(c, &t.id)?;
    Ok((view(c, caller, t, access)?, created))
}

/// [`open`] on a pooled connection.
pub async fn open_on(
    db: &Db,
    caller: &Caller,
    ask: CreateThread,
) -> Result<(ThreadOut, bool), ApiError> {
    let caller = caller.clone();
    on(db, move |c| open(c, &caller, ask)).await
}

fn about_listing(
    c: &mut DbConnection,
    caller: &Caller,
    listing_id: &str,
) -> Result<(Thread, bool), ApiError> {
    let Some(my) = caller.firm.clone() else {
        return Err(ApiError::forbidden("只有企业成员可以就供需信息发起对话"));
    };
    let v = listing_store::get(c, listing_id)?
        .filter(|v| visible_to(v, &caller.viewer()))
        .ok_or_else(|| ApiError::not_found("供需信息"))?;
    if v.listing.firm_id == my.firm_id {
        return Err(ApiError::field(
            "listing_id",
            "own_listing",
            "不能就本企业发布的信息发起对话",
        ));
    }
    let mut row = blank_thread(caller);
    row.subject_type = "listing".into();
    row.subject_key = format!("listing:{}:{}", v.listing.id, my.firm_id);
    row.listing_id = Some(v.listing.id.clone());
    row.firm_a_id = v.listing.firm_id.clone();
    row.community_a_id = v.listing.community_id.clone();
    row.firm_b_id = my.firm_id.clone();
    row.community_b_id = my.community_id.clone();
    if let Some(t) = store::by_subject_key(c, &row.subject_key)? {
        return Ok((t, false));
    }
    if v.listing.status != ListingStatus::Open {
        return Err(ApiError::conflict(
            Code::ListingClosed,
            "该供需信息已关闭，不能发起新对话",
        ));
    }
    Ok(store::create(c, &row)?)
}

fn about_match(
    c: &mut DbConnection,
    caller: &Caller,
    match_id: &str,
) -> Result<(Thread, bool), ApiError> {
    let r = match_store::get(c, match_id)?
        .filter(|r| {
            caller
                .firm_id()
                .is_some_and(|f| r.request_firm_id == f || r.offer_firm_id == f)
                || caller
                    .staff_community
                    .as_deref()
                    .is_some_and(|s| r.request_community_id == s || r.offer_community_id == s)
        })
        .ok_or_else(|| ApiError::not_found("匹配记录"))?;
    let row = store::match_thread_row(&r, &caller.user_id, now());
    Ok(store::create(c, &row)?)
}

// ------------------------------------------------------------------- read

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListThreadsQuery {
    pub status: Option<String>,
    /// `mine` (default) or, for staff, `community`: every thread of my
    /// community, joined or not.
    pub scope: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn encode_cursor(t: &Thread) -> String {
    let raw = format!("{}:{}", t.updated_at.and_utc().timestamp_micros(), t.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(c: Option<&str>) -> Result<Option<(NaiveDateTime, String)>, ApiError> {
    let Some(c) = c else { return Ok(None) };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (micros, id) = s.split_once(':')?;
            let t = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
            uuid::Uuid::parse_str(id).ok()?;
            Some(Some((t, id.to_string())))
        })
        .ok_or_else(|| ApiError::field("cursor", "invalid_format", "cursor 无效"))
}

#[derive(Debug, Serialize)]
pub struct ThreadPage {
    pub items: Vec<ThreadOut>,
    pub next_cursor: Option<String>,
}

/// Whose threads a list shows for this caller, and how the caller stands
/// to them by default; `None` for a caller with no threads.
fn list_scope(
    caller: &Caller,
    scope: Option<&str>,
    e: &mut Errors,
) -> Option<(ThreadScope, Access)> {
    match (scope.unwrap_or("mine"), caller) {
        ("mine", c) if c.firm.is_some() => Some((
            ThreadScope::Firm(c.firm_id().unwrap_or_default().to_string()),
            Access::Firm,
        )),
        ("mine", c) if c.staff_community.is_some() => {
            Some((ThreadScope::Joined(c.user_id.clone()), Access::Staff))
        }
        ("mine", _) => None,
        ("community", c) => match &c.staff_community {
            Some(s) => Some((ThreadScope::Community(s.clone()), Access::Observer)),
            None => {
                e.push(
                    "scope",
                    "not_staff",
                    "只有社区工作人员可以查看本社区的全部对话",
                );
                None
            }
        },
        _ => {
            e.push(
                "scope",
                "invalid_value",
                "取值无效，可选值：mine, community",
            );
            None
        }
    }
}

/// The caller's threads (a firm's, the ones a staff member joined, or with
/// `scope=community` every thread of the staff member's community), most
/// recent activity first.
pub fn list(
    c: &mut DbConnection,
    caller: &Caller,
    q: ListThreadsQuery,
) -> Result<ThreadPage, ApiError> {
    let mut e = Errors::default();
    if let Some(s) = &q.status
        && s != "open"
        && s != "closed"
    {
        e.push("status", "invalid_value", "取值无效，可选值：open, closed");
    }
    let scope = list_scope(caller, q.scope.as_deref(), &mut e);
    e.into_result().map_err(ApiError::validation)?;
    let limit = pagination::limit(q.limit)?;
    let after = decode_cursor(q.cursor.as_deref())?;
    let Some((scope, default_access)) = scope else {
        return Ok(ThreadPage {
            items: Vec::new(),
            next_cursor: None,
        });
    };
    let filter = ThreadFilter {
        status: q.status,
        after,
        limit: limit + 1,
    };
    let mut rows = store::list(c, &scope, &filter)?;
    let ctx = context(c, &rows, &caller.user_id)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(encode_cursor)
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|t| {
            let joined = ctx
                .staff
                .iter()
                .any(|s| s.thread_id == t.id && s.user_id == caller.user_id);
            let access = if default_access == Access::Observer && joined {
                Access::Staff
            } else {
                default_access
            };
            thread_out(t, access, caller, &ctx)
        })
        .collect();
    Ok(ThreadPage { items, next_cursor })
}

/// [`list`] on a pooled connection.
pub async fn list_on(
    db: &Db,
    caller: &Caller,
    q: ListThreadsQuery,
) -> Result<ThreadPage, ApiError> {
    let caller = caller.clone();
    on(db, move |c| list(c, &caller, q)).await
}

/// One thread the caller may see.
pub fn get(c: &mut DbConnection, caller: &Caller, id: &str) -> Result<ThreadOut, ApiError> {
    let (t, access) = load(c, caller, id)?;
    view(c, caller, t, access)
}

/// [`get`] on a pooled connection.
pub async fn get_on(db: &Db, caller: &Caller, id: String) -> Result<ThreadOut, ApiError> {
    let caller = caller.clone();
    on(db, move |c| get(c, &caller, &id)).await
}

// ---------------------------------------------------------- close, reopen

/// A participant closes (`open = false`: no new messages until reopened)
/// or reopens a thread; the thread records who did it. Asking for the
/// status it has changes nothing.
pub fn set_open(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
    open: bool,
) -> Result<ThreadOut, ApiError> {
    let (t, access) = load_participant(c, caller, id)?;
    let name = display_name(c, caller)?;
    let t = store::set_open(c, &t.id, open, &name)?.unwrap_or(t);
    view(c, caller, t, access)
}

/// [`set_open`] on a pooled connection.
pub async fn set_open_on(
    db: &Db,
    caller: &Caller,
    id: String,
    open: bool,
) -> Result<ThreadOut, ApiError> {
    let caller = caller.clone();
    on(db, move |c| set_open(c, &caller, &id, open)).await
}

/// Community staff join a thread of their community (shown to everyone as
/// staff, with a system message and an audit entry); joining again
/// changes nothing. Firms' members take part already (403).
pub fn join(c: &mut DbConnection, caller: &Caller, id: &str) -> Result<ThreadOut, ApiError> {
    let (t, access) = load(c, caller, id)?;
    if access == Access::Firm {
        return Err(ApiError::forbidden("企业成员本就参与对话，无需加入"));
    }
    if access == Access::Observer {
        let community = caller.staff_community.clone().unwrap_or_default();
        let actor = actor_of(c, caller)?;
        store::join_staff(c, &t.id, &actor, &community)?;
    }
    let t = reload(c, &t.id)?;
    view(c, caller, t, Access::Staff)
}

/// [`join`] on a pooled connection.
pub async fn join_on(db: &Db, caller: &Caller, id: String) -> Result<ThreadOut, ApiError> {
    let caller = caller.clone();
    on(db, move |c| join(c, &caller, &id)).await
}

// --------------------------------------------------------------- messages

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostMessage {
    pub client_msg_id: String,
    pub text: String,
    pub listing_ref: Option<String>,
}

/// A client's id for a message: 1–64 of `A-Z a-z 0-9 - _ . :`.
fn valid_client_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// A checked message, ready to post.
#[derive(Debug)]
pub struct Draft {
    thread_id: String,
    /// Whose message allowance it spends: the author's firm, or
    /// `staff:<community>` for staff.
    sender: String,
    message: NewMessage,
}

/// Checks a participant's message: its client id, its text (1 to
/// `max_chars` characters), and that a referenced listing is one the
/// caller may see. Staff write for their community, firms' members for
/// their firm.
pub fn draft(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
    body: PostMessage,
    max_chars: usize,
) -> Result<Draft, ApiError> {
    let (t, access) = load_participant(c, caller, id)?;
    let mut e = Errors::default();
    if !valid_client_id(&body.client_msg_id) {
        e.push(
            "client_msg_id",
            if body.client_msg_id.is_empty() {
                "required"
            } else {
                "invalid_format"
            },
            "须为 1–64 个字符（字母、数字、- _ . :）",
        );
    }
    let text = e.multiline("text", &body.text, 1, max_chars);
    if let Some(l) = &body.listing_ref {
        let seen = listing_store::get(c, l)?.is_some_and(|v| visible_to(&v, &caller.viewer()));
        if !seen {
            e.push("listing_ref", "not_found", "引用的供需信息不存在或无权查看");
        }
    }
    e.into_result().map_err(ApiError::validation)?;
    let author = Author {
        user_id: caller.user_id.clone(),
        name: display_name(c, caller)?,
        firm_id: (access == Access::Firm)
            .then(|| caller.firm_id().map(str::to_string))
            .flatten(),
    };
    let sender = match &author.firm_id {
        Some(f) => f.clone(),
        None => format!("staff:{}", caller.staff_community.as_deref().unwrap_or("")),
    };
    Ok(Draft {
        thread_id: t.id,
        sender,
        message: NewMessage {
            author,
            body: text,
            listing_ref: body.listing_ref,
            client_msg_id: body.client_msg_id,
        },
    })
}

/// Posts a checked message, once per author and client id: the bool says
/// whether it is new (a retry gets the message stored the first time). A
/// closed thread takes no messages (409).
pub fn deliver(c: &mut DbConnection, d: Draft) -> Result<(MessageOut, bool), ApiError> {
    match store::post(c, &d.thread_id, d.message)? {
        Posted::Created(m) => Ok((message_out(&m), true)),
        Posted::Existing(m) => Ok((message_out(&m), false)),
        Posted::Closed => Err(ApiError::conflict(
            Code::ThreadClosed,
            "对话已关闭，重新打开后才能发送消息",
        )),
    }
}

/// A participant posts a message: [`draft`], the sender's message
/// allowance, [`deliver`].
pub fn post(
    c: &mut DbConnection,
    quotas: &Quotas,
    caller: &Caller,
    id: &str,
    body: PostMessage,
    max_chars: usize,
) -> Result<(MessageOut, bool), ApiError> {
    let d = draft(c, caller, id, body, max_chars)?;
    quotas.message(&d.sender, &caller.user_id)?;
    deliver(c, d)
}

/// [`post`] on pooled connections (the allowance is spent between the
/// check and the write, off the blocking pool).
pub async fn post_on(
    db: &Db,
    quotas: &Quotas,
    caller: &Caller,
    id: String,
    body: PostMessage,
    max_chars: usize,
) -> Result<(MessageOut, bool), ApiError> {
    let who = caller.clone();
    let d = on(db, move |c| draft(c, &who, &id, body, max_chars)).await?;
    quotas.message(&d.sender, &caller.user_id)?;
    on(db, move |c| deliver(c, d)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct MessagePage {
    pub items: Vec<MessageOut>,
    /// More messages lie beyond this page in the direction read (older
    /// ones, or with only `after_seq`, newer ones).
    pub has_more: bool,
    pub last_seq: i64,
    pub last_read_seq: i64,
}

pub const MESSAGES_DEFAULT_LIMIT: i64 = 50;
pub const MESSAGES_MAX_LIMIT: i64 = 200;

/// A participant reads messages by per-thread seq, always in seq order:
/// after `after_seq`, before `before_seq`, or the newest.
pub fn messages(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
    q: MessagesQuery,
) -> Result<MessagePage, ApiError> {
    let (t, _) = load_participant(c, caller, id)?;
    let mut e = Errors::default();
    let limit = q.limit.unwrap_or(MESSAGES_DEFAULT_LIMIT);
    if !(1..=MESSAGES_MAX_LIMIT).contains(&limit) {
        e.push("limit", "out_of_range", "limit 须在 1 到 200 之间");
    }
    for (field, v) in [("after_seq", q.after_seq), ("before_seq", q.before_seq)] {
        if v.is_some_and(|n| n < 0) {
            e.push(field, "out_of_range", "不能为负数");
        }
    }
    e.into_result().map_err(ApiError::validation)?;
    let (rows, more) = store::messages_page(c, &t.id, q.after_seq, q.before_seq, limit)?;
    let read = store::reads_of(c, &caller.user_id, std::slice::from_ref(&t.id))?;
    Ok(MessagePage {
        items: rows.iter().map(message_out).collect(),
        has_more: more,
        last_seq: t.last_seq.max(rows.last().map_or(0, |m| m.seq)),
        last_read_seq: read.get(&t.id).copied().unwrap_or(0),
    })
}

/// [`messages`] on a pooled connection.
pub async fn messages_on(
    db: &Db,
    caller: &Caller,
    id: String,
    q: MessagesQuery,
) -> Result<MessagePage, ApiError> {
    let caller = caller.clone();
    on(db, move |c| messages(c, &caller, &id, q)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub seq: i64,
}

#[derive(Debug, Serialize)]
pub struct ReadOut {
    pub thread_id: String,
    pub last_read_seq: i64,
    pub unread: i64,
}

/// A participant has read up to `seq` (clamped to the thread's last
/// message; markers only move forward).
pub fn mark_read(
    c: &mut DbConnection,
    caller: &Caller,
    id: &str,
    seq: i64,
) -> Result<ReadOut, ApiError> {
    let (t, _) = load_participant(c, caller, id)?;
    if seq < 0 {
        return Err(ApiError::field("seq", "out_of_range", "不能为负数"));
    }
    let t = store::get(c, &t.id)?.unwrap_or(t);
    let read = store::mark_read(c, &t, &caller.user_id, seq)?;
    Ok(ReadOut {
        thread_id: t.id,
        last_read_seq: read,
        unread: (t.last_seq - read).max(0),
    })
}

/// [`mark_read`] on a pooled connection.
pub async fn mark_read_on(
    db: &Db,
    caller: &Caller,
    id: String,
    seq: i64,
) -> Result<ReadOut, ApiError> {
    let caller = caller.clone();
    on(db, move |c| mark_read(c, &caller, &id, seq)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::service::testkit::{Park, park, testing_offer};
    use crate::store::accounts::{self, NewUser};
    use crate::store::threads::message_payload;

    fn code(e: ApiError) -> (u16, &'static str) {
        (e.status.as_u16(), e.code.as_str())
    }

    fn quotas() -> Quotas {
        Quotas::new(&Config::load_from(None, &|_| None).expect("default config"))
    }

    fn staff_caller(user_id: &str, community_id: &str) -> Caller {
        Caller {
            user_id: user_id.to_string(),
            platform_admin: false,
            firm: None,
            staff_community: Some(community_id.to_string()),
            expires_at: chrono::Utc::now().timestamp() + 900,
            client: None,
        }
    }

    /// Staff of the other community, where neither firm of the thread is.
    fn far_staff(p: &Park) -> Caller {
        let (u, _) = accounts::create_staff(
            &mut p.conn(),
            &p.other.id,
            NewUser {
                phone: Some("13988887777".into()),
                email: None,
                display_name: "小港社区小李".into(),
                password_hash: String::new(),
                is_platform_admin: false,
            },
        )
        .expect("staff");
        staff_caller(&u.id, &p.other.id)
    }

    /// The buyer asks about the seller's offer: a thread between the two.
    fn about_offer(p: &Park) -> ThreadOut {
        let offer = p.post(&p.seller, testing_offer());
        let ask = || CreateThread {
            listing_id: Some(offer.id.clone()),
            match_id: None,
        };
        let (t, created) = open(&mut p.conn(), &p.buyer.caller(), ask()).expect("open");
        assert!(created);
        assert_eq!(t.my_role, "firm");
        let (again, created) = open(&mut p.conn(), &p.buyer.caller(), ask()).expect("again");
        assert!(!created, "one thread per listing and asking firm");
        assert_eq!(again.id, t.id);
        // The offer's own firm cannot open one with itself.
        let e = open(&mut p.conn(), &p.seller.caller(), ask()).expect_err("own listing");
        assert_eq!(code(e), (422, "validation_failed"));
        t
    }

    fn say(
        p: &Park,
        who: &Caller,
        id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> (MessageOut, bool) {
        let body = PostMessage {
            client_msg_id: client_msg_id.into(),
            text: text.into(),
            listing_ref: None,
        };
        post(&mut p.conn(), &quotas(), who, id, body, 4000).expect("post")
    }

    fn newest(p: &Park, who: &Caller, id: &str) -> MessagePage {
        let q = MessagesQuery {
            after_seq: None,
            before_seq: None,
            limit: None,
        };
        messages(&mut p.conn(), who, id, q).expect("messages")
    }

    /// The two firms read and write; their community's staff may look but
    /// read and write only once they joined; anyone else finds no thread.
    #[test]
    fn who_may_read_and_post_in_a_thread() {
        let p = park();
        let t = about_offer(&p);
        let (buyer, seller) = (p.buyer.caller(), p.seller.caller());
        say(&p, &buyer, &t.id, "b-1", "请问今天下午能检测吗？");
        let (m, _) = say(&p, &seller, &t.id, "s-1", "可以，两点送样");
        assert_eq!(m.author.as_ref().map(|a| a.role.as_str()), Some("firm"));
        assert_eq!(newest(&p, &buyer, &t.id).items.len(), 2);

        // Another community's firm and staff: no such thread.
        for outsider in [p.far.caller(), far_staff(&p)] {
            let e = get(&mut p.conn(), &outsider, &t.id).expect_err("get");
            assert_eq!(code(e), (404, "not_found"));
            let q = MessagesQuery {
                after_seq: None,
                before_seq: None,
                limit: None,
            };
            let e = messages(&mut p.conn(), &outsider, &t.id, q).expect_err("read");
            assert_eq!(code(e), (404, "not_found"));
            let body = PostMessage {
                client_msg_id: "x-1".into(),
                text: "你好".into(),
                listing_ref: None,
            };
            let e = post(&mut p.conn(), &quotas(), &outsider, &t.id, body, 4000).expect_err("post");
            assert_eq!(code(e), (404, "not_found"));
            let e = join(&mut p.conn(), &outsider, &t.id).expect_err("join");
            assert_eq!(code(e), (404, "not_found"));
        }

        // The park's staff may look (without the messages) and join.
        let staff = p.staff_caller();
        let seen = get(&mut p.conn(), &staff, &t.id).expect("look");
        assert_eq!(seen.my_role, "observer");
        assert!(seen.last_message.is_none() && seen.unread == 0);
        let e = newest_err(&p, &staff, &t.id);
        assert_eq!(code(e), (403, "not_a_participant"));
        let joined = join(&mut p.conn(), &staff, &t.id).expect("join");
        assert_eq!(joined.my_role, "staff");
        assert_eq!(joined.staff.len(), 1);
        let (m, _) = say(&p, &staff, &t.id, "k-1", "我是社区小王，有需要可以找我");
        let author = m.author.expect("an author");
        assert_eq!((author.role.as_str(), author.firm_id), ("staff", None));
        // A firm's member takes part already.
        let e = join(&mut p.conn(), &buyer, &t.id).expect_err("firm joins");
        assert_eq!(code(e), (403, "forbidden"));
    }

    fn newest_err(p: &Park, who: &Caller, id: &str) -> ApiError {
        let q = MessagesQuery {
            after_seq: None,
            before_seq: None,
            limit: None,
        };
        messages(&mut p.conn(), who, id, q).expect_err("messages")
    }

    /// A retried post (same author, same `client_msg_id`) is the stored
    /// message, not a second one.
    #[test]
    fn posting_a_client_msg_id_twice_makes_one_message() {
        let p = park();
        let t = about_offer(&p);
        let buyer = p.buyer.caller();
        let (first, created) = say(&p, &buyer, &t.id, "b-42", "两点送样");
        assert!(created);
        let (again, created) = say(&p, &buyer, &t.id, "b-42", "两点送样");
        assert!(!created, "a retry is the stored message");
        assert_eq!(
            (again.id.as_str(), again.seq),
            (first.id.as_str(), first.seq)
        );
        let page = newest(&p, &buyer, &t.id);
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.last_seq, 1);
        // The same id from the other firm is its own message.
        let (theirs, created) = say(&p, &p.seller.caller(), &t.id, "b-42", "好的");
        assert!(created);
        assert_eq!(theirs.seq, 2);
        // A client id must be 1-64 of a few characters.
        let body = PostMessage {
            client_msg_id: "有空格 的id".into(),
            text: "x".into(),
            listing_ref: None,
        };
        let e = post(&mut p.conn(), &quotas(), &buyer, &t.id, body, 4000).expect_err("bad id");
        assert_eq!(code(e), (422, "validation_failed"));
        assert_eq!(e_field(&p, &buyer, &t.id), "client_msg_id");
    }

    fn e_field(p: &Park, who: &Caller, id: &str) -> String {
        let body = PostMessage {
            client_msg_id: String::new(),
            text: "x".into(),
            listing_ref: None,
        };
        let e = post(&mut p.conn(), &quotas(), who, id, body, 4000).expect_err("no id");
        e.errors[0].field.clone()
    }

    /// Posting marks one's own message read; the other side's unread count
    /// follows its read marker, which only moves forward and never past
    /// the last message.
    #[test]
    fn read_markers_and_unread_counts() {
        let p = park();
        let t = about_offer(&p);
        let (buyer, seller) = (p.buyer.caller(), p.seller.caller());
        say(&p, &buyer, &t.id, "b-1", "在吗？");
        say(&p, &buyer, &t.id, "b-2", "今天能检测吗？");
        let mine = get(&mut p.conn(), &buyer, &t.id).expect("buyer");
        assert_eq!((mine.last_seq, mine.last_read_seq, mine.unread), (2, 2, 0));
        let theirs = get(&mut p.conn(), &seller, &t.id).expect("seller");
        assert_eq!((theirs.last_read_seq, theirs.unread), (0, 2));
        assert_eq!(
            theirs.last_message.map(|m| (m.seq, m.preview)),
            Some((2, "今天能检测吗？".to_string()))
        );

        let r = mark_read(&mut p.conn(), &seller, &t.id, 1).expect("read 1");
        assert_eq!((r.last_read_seq, r.unread), (1, 1));
        let r = mark_read(&mut p.conn(), &seller, &t.id, 0).expect("back");
        assert_eq!(
            (r.last_read_seq, r.unread),
            (1, 1),
            "markers never move back"
        );
        let r = mark_read(&mut p.conn(), &seller, &t.id, 99).expect("past the end");
        assert_eq!(
            (r.last_read_seq, r.unread),
            (2, 0),
            "clamped to the last message"
        );
        let e = mark_read(&mut p.conn(), &seller, &t.id, -1).expect_err("negative");
        assert_eq!(code(e), (422, "validation_failed"));

        // The list shows the same counts.
        let q = ListThreadsQuery {
            status: None,
            scope: None,
            cursor: None,
            limit: None,
        };
        let page = list(&mut p.conn(), &seller, q).expect("list");
        assert_eq!(page.items.len(), 1);
        assert_eq!((page.items[0].last_read_seq, page.items[0].unread), (2, 0));
        // Observers have nothing unread.
        let q = ListThreadsQuery {
            status: None,
            scope: Some("community".into()),
            cursor: None,
            limit: None,
        };
        let page = list(&mut p.conn(), &p.staff_caller(), q).expect("community list");
        assert_eq!(
            page.items
                .iter()
                .map(|t| (t.my_role, t.unread))
                .collect::<Vec<_>>(),
            vec![("observer", 0)]
        );
    }

    /// Staff joining, closing and reopening are told in the thread as
    /// system messages (no author); a closed thread takes no messages.
    #[test]
    fn system_messages_tell_who_joined_and_who_closed() {
        let p = park();
        let t = about_offer(&p);
        let buyer = p.buyer.caller();
        let staff = p.staff_caller();
        join(&mut p.conn(), &staff, &t.id).expect("join");
        join(&mut p.conn(), &staff, &t.id).expect("joining again changes nothing");
        let closed = set_open(&mut p.conn(), &buyer, &t.id, false).expect("close");
        assert_eq!(closed.status, "closed");
        let body = PostMessage {
            client_msg_id: "b-1".into(),
            text: "还在吗".into(),
            listing_ref: None,
        };
        let e = post(&mut p.conn(), &quotas(), &buyer, &t.id, body, 4000).expect_err("closed");
        assert_eq!(code(e), (409, "thread_closed"));
        let again = set_open(&mut p.conn(), &buyer, &t.id, false).expect("close again");
        assert_eq!(
            again.last_seq, closed.last_seq,
            "closing twice says nothing new"
        );
        set_open(&mut p.conn(), &staff, &t.id, true).expect("staff reopen");

        let page = newest(&p, &buyer, &t.id);
        let told: Vec<_> = page
            .items
            .iter()
            .map(|m| (m.kind.as_str(), m.event.as_deref(), m.author.is_none()))
            .collect();
        assert_eq!(
            told,
            vec![
                ("system", Some("staff_joined"), true),
                ("system", Some("closed"), true),
                ("system", Some("reopened"), true),
            ]
        );
        assert!(
            page.items[0].text.contains(&p.staff.display_name),
            "{:?}",
            page.items[0]
        );
        // The join is in the audit log.
        let audit = crate::store::audit::list(
            &mut p.conn(),
            &crate::store::audit::AuditFilter {
                action: Some("thread.joined".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .expect("audit");
        assert_eq!(audit.len(), 1);
    }

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
