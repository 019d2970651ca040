//! Chat threads about a listing or a match record, and their messages.
//!
//! Participants are the two firms of a thread (every member may read and
//! write) and the community staff who joined it. Staff of either firm's
//! community may see a thread and join it; anyone else gets 404 on every
//! thread route.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::pagination;
use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::{ApiError, Code};
use crate::service::validate::Errors;
use crate::store::audit::Actor;
use crate::store::listings::{self as listing_store, visible_to};
use crate::store::matches::{self as match_store, MatchRecord};
use crate::store::threads::{
    self as store, Author, Message, MessageOut, NewMessage, Posted, StaffParticipant, Thread,
    ThreadFilter, ThreadScope, message_out,
};
use crate::store::{DbConnection, StoreResult, accounts, new_id, now};

/// How the caller stands to a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// A member of one of the two firms.
    Firm,
    /// Staff of a community of the thread who joined it.
    Staff,
    /// Staff of a community of the thread who have not joined (may look
    /// and join, not read messages).
    Observer,
}

/// Loads a thread the caller may see; 404 for anything else.
async fn load(state: &AppState, caller: &Caller, id: String) -> Result<(Thread, Access), ApiError> {
    let firm = caller.firm_id().map(str::to_string);
    let staff = caller.staff_community.clone();
    let user = caller.user_id.clone();
    state
        .db
        .run(move |c| {
            let Some(t) = store::get(c, &id)? else {
                return Ok(None);
            };
            if firm.as_deref().is_some_and(|f| t.has_firm(f)) {
                return Ok(Some((t, Access::Firm)));
            }
            if let Some(s) = staff.as_deref() {
                // Staff who joined take part wherever the firms are (a case
                // escalated to a neighbouring park); others may look at the
                // threads of their community.
                if store::is_staff_participant(c, &t.id, &user)? {
                    return Ok(Some((t, Access::Staff)));
                }
                if t.in_community(s) {
                    return Ok(Some((t, Access::Observer)));
                }
            }
            Ok(None)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("对话"))
}

/// A thread the caller takes part in (403 for staff who have not joined).
async fn load_participant(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<(Thread, Access), ApiError> {
    let (t, access) = load(state, caller, id).await?;
    if access == Access::Observer {
        return Err(ApiError::new(
            crate::service::error::Status::FORBIDDEN,
            Code::NotAParticipant,
            "请先加入对话",
        ));
    }
    Ok((t, access))
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

/// What the output of a set of threads needs besides the rows.
struct Context {
    listings: HashMap<String, listing_store::ListingView>,
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
    // Observers may not read messages (the messages route says 403 until
    // they join), so no part of one reaches them here either.
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

async fn respond(
    state: &AppState,
    caller: &Caller,
    t: Thread,
    access: Access,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let rows = vec![t.clone()];
    let user = caller.user_id.clone();
    let ctx = state.db.run(move |c| context(c, &rows, &user)).await?;
    let mut b = HttpResponse::build(status);
    if status == actix_web::http::StatusCode::CREATED {
        b.insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/threads/{}", t.id),
        ));
    }
    Ok(b.json(thread_out(t, access, caller, &ctx)))
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

/// `POST /api/v1/threads`: the thread about a listing (between its firm and
/// the caller's) or about a match record (between its two firms), created
/// on first use; asking again returns the same thread (200, not 201).
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateThread>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (t, created) = match (body.listing_id, body.match_id) {
        (Some(l), None) => about_listing(&state, &caller, l).await?,
        (None, Some(m)) => about_match(&state, &caller, m).await?,
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
    // Staff who open a thread about a match take part in it.
    let access = if caller.firm_id().is_some_and(|f| t.has_firm(f)) {
        Access::Firm
    } else {
        let id = t.id.clone();
        let community = caller.staff_community.clone().unwrap_or_default();
        let actor = actor_of(&state, &caller).await?;
        state
            .db
            .run(move |c| store::join_staff(c, &id, &actor, &community))
            .await?;
        Access::Staff
    };
    let t = reload(&state, t.id).await?;
    let status = if created {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    respond(&state, &caller, t, access, status).await
}

async fn reload(state: &AppState, id: String) -> Result<Thread, ApiError> {
    state
        .db
        .run(move |c| store::get(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("对话"))
}

async fn about_listing(
    state: &AppState,
    caller: &Caller,
    listing_id: String,
) -> Result<(Thread, bool), ApiError> {
    let Some(my) = caller.firm.clone() else {
        return Err(ApiError::forbidden("只有企业成员可以就供需信息发起对话"));
    };
    let viewer = caller.viewer();
    let lid = listing_id.clone();
    let v = state
        .db
        .run(move |c| listing_store::get(c, &lid))
        .await?
        .filter(|v| visible_to(v, &viewer))
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
    let open = v.listing.status == "open";
    state
        .db
        .run(move |c| {
            if let Some(t) = store::by_subject_key(c, &row.subject_key)? {
                return Ok(Ok((t, false)));
            }
            if !open {
                return Ok(Err(()));
            }
            store::create(c, &row).map(Ok)
        })
        .await?
        .map_err(|()| ApiError::conflict(Code::ListingClosed, "该供需信息已关闭，不能发起新对话"))
}

async fn about_match(
    state: &AppState,
    caller: &Caller,
    match_id: String,
) -> Result<(Thread, bool), ApiError> {
    let mid = match_id.clone();
    let r = state
        .db
        .run(move |c| match_store::get(c, &mid))
        .await?
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
    Ok(state.db.run(move |c| store::create(c, &row)).await?)
}

/// The caller as the audit log names them.
pub async fn actor_of(state: &AppState, caller: &Caller) -> Result<Actor, ApiError> {
    Ok(Actor {
        user_id: caller.user_id.clone(),
        name: display_name(state, caller).await?,
    })
}

async fn display_name(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    let user = caller.user_id.clone();
    Ok(state
        .db
        .run(move |c| accounts::get_user(c, &user))
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default())
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

/// `GET /api/v1/threads`: my threads, most recent activity first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListThreadsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let mut e = Errors::default();
    if let Some(s) = &q.status
        && s != "open"
        && s != "closed"
    {
        e.push("status", "invalid_value", "取值无效，可选值：open, closed");
    }
    let scope = match (q.scope.as_deref().unwrap_or("mine"), &caller) {
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
    };
    e.into_result().map_err(ApiError::validation)?;
    let limit = pagination::limit(q.limit)?;
    let after = decode_cursor(q.cursor.as_deref())?;
    let Some((scope, default_access)) = scope else {
        return Ok(HttpResponse::Ok().json(ThreadPage {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    let filter = ThreadFilter {
        status: q.status,
        after,
        limit: limit + 1,
    };
    let user = caller.user_id.clone();
    let (mut rows, ctx) = state
        .db
        .run(move |c| {
            let rows = store::list(c, &scope, &filter)?;
            let ctx = context(c, &rows, &user)?;
            Ok((rows, ctx))
        })
        .await?;
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
            let access = if default_access == Access::Observer
                && ctx
                    .staff
                    .iter()
                    .any(|s| s.thread_id == t.id && s.user_id == caller.user_id)
            {
                Access::Staff
            } else {
                default_access
            };
            thread_out(t, access, &caller, &ctx)
        })
        .collect();
    Ok(HttpResponse::Ok().json(ThreadPage { items, next_cursor }))
}

/// `GET /api/v1/threads/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, access) = load(&state, &caller, id.into_inner()).await?;
    respond(&state, &caller, t, access, actix_web::http::StatusCode::OK).await
}

// ---------------------------------------------------------- close, reopen

async fn set_open(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    open: bool,
) -> Result<HttpResponse, ApiError> {
    let (t, access) = load_participant(&state, &caller, id.into_inner()).await?;
    let name = display_name(&state, &caller).await?;
    let tid = t.id.clone();
    let changed = state
        .db
        .run(move |c| store::set_open(c, &tid, open, &name))
        .await?;
    let t = changed.unwrap_or(t);
    respond(&state, &caller, t, access, actix_web::http::StatusCode::OK).await
}

/// `POST /api/v1/threads/{id}/close`: no new messages until reopened.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_open(state, caller, id, false).await
}

/// `POST /api/v1/threads/{id}/reopen`.
pub async fn reopen(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_open(state, caller, id, true).await
}

/// `POST /api/v1/threads/{id}/join`: community staff join a thread of
/// their community (shown to everyone as staff).
pub async fn join(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (t, access) = load(&state, &caller, id.into_inner()).await?;
    if access == Access::Firm {
        return Err(ApiError::forbidden("企业成员本就参与对话，无需加入"));
    }
    if access == Access::Observer {
        let tid = t.id.clone();
        let community = caller.staff_community.clone().unwrap_or_default();
        let actor = actor_of(&state, &caller).await?;
        state
            .db
            .run(move |c| store::join_staff(c, &tid, &actor, &community))
            .await?;
    }
    let t = reload(&state, t.id).await?;
    respond(
        &state,
        &caller,
        t,
        Access::Staff,
        actix_web::http::StatusCode::OK,
    )
    .await
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

/// `POST /api/v1/threads/{id}/messages`: 201 with the new message, or 200
/// with the stored one when this `client_msg_id` was already posted.
pub async fn post_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let (t, access) = load_participant(&state, &caller, id.into_inner()).await?;
    let body = body.into_inner();
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
    let text = e.multiline("text", &body.text, 1, state.config.message_max_chars);
    if let Some(l) = &body.listing_ref {
        let (lid, viewer) = (l.clone(), caller.viewer());
        let seen = state
            .db
            .run(move |c| listing_store::get(c, &lid))
            .await?
            .is_some_and(|v| visible_to(&v, &viewer));
        if !seen {
            e.push("listing_ref", "not_found", "引用的供需信息不存在或无权查看");
        }
    }
    e.into_result().map_err(ApiError::validation)?;
    let author = Author {
        user_id: caller.user_id.clone(),
        name: display_name(&state, &caller).await?,
        firm_id: (access == Access::Firm)
            .then(|| caller.firm_id().map(str::to_string))
            .flatten(),
    };
    // Staff write for their community, firms' members for their firm.
    let sender = match &author.firm_id {
        Some(f) => f.clone(),
        None => format!("staff:{}", caller.staff_community.as_deref().unwrap_or("")),
    };
    state.quotas.message(&sender, &caller.user_id)?;
    let new = NewMessage {
        author,
        body: text,
        listing_ref: body.listing_ref,
        client_msg_id: body.client_msg_id,
    };
    let tid = t.id.clone();
    match state.db.run(move |c| store::post(c, &tid, new)).await? {
        Posted::Created(m) => Ok(HttpResponse::Created().json(message_out(&m))),
        Posted::Existing(m) => Ok(HttpResponse::Ok().json(message_out(&m))),
        Posted::Closed => Err(ApiError::conflict(
            Code::ThreadClosed,
            "对话已关闭，重新打开后才能发送消息",
        )),
    }
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

/// `GET /api/v1/threads/{id}/messages`: by per-thread seq, always in seq
/// order: after `after_seq`, before `before_seq`, or the newest.
pub async fn messages(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (t, _) = load_participant(&state, &caller, id.into_inner()).await?;
    let q = q.into_inner();
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
    let (tid, user) = (t.id.clone(), caller.user_id.clone());
    let (rows, more, read) = state
        .db
        .run(move |c| {
            let (rows, more) = store::messages_page(c, &tid, q.after_seq, q.before_seq, limit)?;
            let read = store::reads_of(c, &user, std::slice::from_ref(&tid))?;
            Ok((rows, more, read.get(&tid).copied().unwrap_or(0)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(MessagePage {
        items: rows.iter().map(message_out).collect(),
        has_more: more,
        last_seq: t.last_seq.max(rows.last().map_or(0, |m| m.seq)),
        last_read_seq: read,
    }))
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

/// `POST /api/v1/threads/{id}/read`: I have read up to `seq` (markers only
/// move forward).
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let (t, _) = load_participant(&state, &caller, id.into_inner()).await?;
    let seq = body.into_inner().seq;
    if seq < 0 {
        return Err(ApiError::field("seq", "out_of_range", "不能为负数"));
    }
    let user = caller.user_id.clone();
    let (t, read) = state
        .db
        .run(move |c| {
            let t = store::get(c, &t.id)?.unwrap_or(t);
            let read = store::mark_read(c, &t, &user, seq)?;
            Ok((t, read))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReadOut {
        thread_id: t.id,
        last_read_seq: read,
        unread: (t.last_seq - read).max(0),
    }))
}
