//! `GET /api/v1/events`: one Server-Sent Events stream per client carrying
//! new messages, thread changes and match events of the caller's firm,
//! resumable with `Last-Event-ID`; and the stream tickets that open it
//! where a client cannot send headers.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::http::auth::{Caller, authenticate};
use crate::http::state::AppState;
use crate::service::error::{ApiError, Code};
use crate::service::tokens::{Claims, TicketClaims, TokenError, ticket_audience};
use crate::store::scopes::{Scopes, event_access};
use crate::store::stream::{self, StreamEvent};
use crate::store::{Db, clients, retention};
use crate::worker::events::{Subscription, audience_of, shutdown_signal};

/// How long a stream ticket opens a stream.
pub const TICKET_TTL_SECS: i64 = 60;
/// Events read per query while a stream catches up.
const CATCH_UP_PAGE: i64 = 500;
/// Events written to the client at once.
const CHUNK_EVENTS: usize = 64;
/// What `EventSource` waits before reconnecting (ms).
const RETRY_MS: u32 = 3000;
/// The reconnect delay suggested to streams closed by a stopping node.
const SHUTDOWN_RETRY_MS: u32 = 1000;

#[derive(Debug, Serialize)]
pub struct TicketOut {
    pub ticket: String,
    pub expires_in: i64,
}

/// `POST /api/v1/events/ticket`: a ticket for `GET /api/v1/events?ticket=`
/// valid for 60 s; the stream it opens ends when the access token it was
/// issued against expires.
pub async fn ticket(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let firm = caller.firm.as_ref();
    let claims = TicketClaims {
        claims: Claims {
            sub: caller.user_id.clone(),
            iss: state.jwt.issuer.clone(),
            aud: ticket_audience(&state.jwt.audience),
            iat: now,
            exp: (now + TICKET_TTL_SECS).min(caller.expires_at),
            adm: caller.platform_admin,
            firm: firm.map(|f| f.firm_id.clone()),
            frole: firm.map(|f| f.role.as_str().to_string()),
            fcmty: firm.map(|f| f.community_id.clone()),
            staff: caller.staff_community.clone(),
            cid: caller.client.as_ref().map(|g| g.client_id.clone()),
            scope: caller.client.as_ref().map(|g| g.scopes.to_string()),
            crot: caller.client.as_ref().and_then(|g| g.secret_version),
        },
        until: caller.expires_at,
    };
    let ticket = state.jwt.sign_ticket(&claims).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(TicketOut {
        ticket,
        expires_in: claims.claims.exp - now,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    pub ticket: Option<String>,
    /// For clients that reconnect by hand: the same as `Last-Event-ID`.
    pub last_event_id: Option<String>,
}

fn resume_point(req: &HttpRequest, q: &StreamQuery) -> Result<Option<i64>, ApiError> {
    let (field, raw) = match req.headers().get("last-event-id") {
        Some(v) => ("Last-Event-ID", v.to_str().unwrap_or("x").to_string()),
        None => match &q.last_event_id {
            Some(v) => ("last_event_id", v.clone()),
            None => return Ok(None),
        },
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| ApiError::field(field, "invalid_format", "须为此前收到的事件 id"))
}

/// `GET /api/v1/events`: the caller's live stream.
pub async fn stream(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let caller = match &q.ticket {
        Some(t) => state
            .jwt
            .verify_ticket(t)
            .map(Caller::from_ticket)
            .map_err(|e| match e {
                TokenError::Expired => {
                    ApiError::unauthorized(Code::TicketExpired, "事件流票据已过期，请重新获取")
                }
                TokenError::Invalid => {
                    ApiError::unauthorized(Code::InvalidTicket, "事件流票据无效")
                }
            })?,
        None => authenticate(&req)?,
    };
    // A ticket stands for a token: a client's needs the same scope.
    crate::http::auth::check_client_access(&req, &caller)?;
    let left = caller.expires_at - chrono::Utc::now().timestamp();
    if left <= 0 {
        return Err(ApiError::unauthorized(
            Code::TokenExpired,
            "访问令牌已过期，请刷新",
        ));
    }
    let resume = resume_point(&req, &q)?;
    let slot = state.quotas.open_stream(&caller.user_id)?;
    let audience = audience_of(&caller);
    // Register before reading the log, so nothing committed in between is
    // missed; what arrives twice is dropped by id.
    let sub = state.events.subscribe(audience.clone());
    let (head, pruned) = state
        .db
        .run(|c| Ok((stream::head(c)?, retention::pruned_through(c)?)))
        .await?;
    // A client's ticket or token ends with the client. Checked after
    // registering: a revoke or rotation committed later reaches this
    // stream as an event; one committed before is seen here.
    let client = caller
        .client
        .as_ref()
        .map(|g| (g.client_id.clone(), g.secret_version));
    if let Some((id, version)) = &client {
        crate::service::access::ensure_client_live(&state.db, id, *version).await?;
    }
    // An id above the head (from before a restore of the database) would
    // hold back every event until the log caught up with it.
    let mut start = resume.map_or(head, |n| n.min(head));
    let heartbeat = Duration::from_secs(state.config.events_heartbeat_secs);
    let mut hello = String::new();
    let _ = writeln!(hello, "retry: {RETRY_MS}");
    // Events up to `pruned` are gone from the log: a stream resuming from
    // below it may have missed some, so it is told to reload what it shows
    // and goes on from the head, rather than skipping them silently.
    if let Some(asked) = resume.filter(|n| *n < pruned) {
        start = head;
        let _ = write!(
            hello,
            "id: {start}\nevent: reset\ndata: {{\"last_event_id\":{start},\"requested\":{asked},\"pruned_through\":{pruned}}}\n\n"
        );
    }
    let _ = write!(
        hello,
        "id: {start}\nevent: ready\ndata: {{\"last_event_id\":{start}}}\n\n"
    );
    let sse = Sse {
        db: state.db.clone(),
        audience: Arc::new(audience),
        sub,
        client,
        scopes: caller.client.as_ref().map(|g| g.scopes.clone()),
        recheck: false,
        last: start,
        catch_up: start < head,
        heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat),
        until: tokio::time::Instant::now() + Duration::from_secs(left as u64),
        shutdown: shutdown_signal(),
        hello: Some(Bytes::from(hello)),
        finished: false,
        _slot: slot,
    };
    let body = futures_util::stream::unfold(sse, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), s))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// One client's stream: catch up from the log, then live events from the
/// hub, heartbeats in between. Dropped (and so unregistered) as soon as
/// the client goes away.
struct Sse {
    db: Db,
    audience: Arc<Vec<String>>,
    sub: Subscription,
    /// An API client's stream: the client and the secret its credential
    /// was issued for, checked again when the client's credentials change.
    client: Option<(String, Option<i64>)>,
    /// An API client's scopes: it gets only the events they let it read.
    scopes: Option<Scopes>,
    /// The client's credentials changed: check before sending more.
    recheck: bool,
    /// The last event id sent: nothing at or below it is sent again.
    last: i64,
    catch_up: bool,
    heartbeat: tokio::time::Interval,
    until: tokio::time::Instant,
    shutdown: watch::Receiver<bool>,
    hello: Option<Bytes>,
    finished: bool,
    /// Counts this stream against its user's open streams until dropped.
    _slot: crate::service::quota::StreamSlot,
}

impl Sse {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(h) = self.hello.take() {
            return Some(h);
        }
        if self.finished {
            return None;
        }
        if *self.shutdown.borrow() {
            return Some(self.goodbye());
        }
        loop {
            if self.recheck {
                self.recheck = false;
                if !self.client_still_live().await {
                    self.finished = true;
                    return Some(Bytes::from_static(b"event: revoked\ndata: {}\n\n"));
                }
            }
            if self.sub.lagged.swap(false, Ordering::SeqCst) {
                // Events were dropped for this stream: read them back.
                while self.sub.rx.try_recv().is_ok() {}
                self.catch_up = true;
            }
            if self.catch_up {
                let (audience, after) = (self.audience.clone(), self.last);
                let page = self
                    .db
                    .run(move |c| stream::for_audience(c, &audience, after, CATCH_UP_PAGE))
                    .await;
                match page {
                    Ok(events) => {
                        if (events.len() as i64) < CATCH_UP_PAGE {
                            self.catch_up = false;
                        }
                        if let Some(chunk) = self.frames(events.iter()) {
                            return Some(chunk);
                        }
                        continue;
                    }
                    Err(e) => {
                        // The client reconnects and resumes from its last id.
                        tracing::warn!(error = %e, "event stream could not catch up; closing it");
                        return None;
                    }
                }
            }
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => return Some(self.goodbye()),
                _ = tokio::time::sleep_until(self.until) => {
                    self.finished = true;
                    return Some(Bytes::from_static(b"event: expired\ndata: {}\n\n"));
                }
                ev = self.sub.rx.recv() => {
                    let first = ev?;
                    let mut batch = vec![first];
                    while batch.len() < CHUNK_EVENTS {
                        match self.sub.rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                    if let Some(chunk) = self.frames(batch.iter().map(|e| &**e)) {
                        return Some(chunk);
                    }
                }
                _ = self.heartbeat.tick() => return Some(Bytes::from_static(b": ping\n\n")),
            }
        }
    }

    /// The last frame when the node stops: reconnect (to any node) soon,
    /// resuming from the last id as usual.
    fn goodbye(&mut self) -> Bytes {
        self.finished = true;
        Bytes::from(format!(
            "retry: {SHUTDOWN_RETRY_MS}\nevent: shutdown\ndata: {{\"reconnect_after_ms\":{SHUTDOWN_RETRY_MS}}}\n\n"
        ))
    }

    /// Whether the API client of this stream still holds the credential
    /// that opened it (a failed read closes the stream too: the client
    /// reconnects and is checked afresh).
    async fn client_still_live(&self) -> bool {
        let Some((id, version)) = self.client.clone() else {
            return true;
        };
        match self
            .db
            .run(move |c| clients::is_live(c, &id, version))
            .await
        {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the API client of an event stream; closing it");
                false
            }
        }
    }

    /// SSE frames of the events above the last one sent that the caller
    /// may read. Stops at a change of an API client's credentials: what
    /// follows is read again once the client has been checked.
    fn frames<'a>(&mut self, events: impl Iterator<Item = &'a StreamEvent>) -> Option<Bytes> {
        let mut out = String::new();
        for e in events {
            if e.id <= self.last {
                continue;
            }
            self.last = e.id;
            if e.event_type == clients::CREDENTIALS_CHANGED {
                if self.client.is_some() {
                    self.recheck = true;
                    self.catch_up = true;
                    break;
                }
                continue;
            }
            if let Some(scopes) = &self.scopes
                && !scopes.allow(event_access(&e.event_type))
            {
                continue;
            }
            let _ = write!(
                out,
                "id: {}\nevent: {}\ndata: {}\n\n",
                e.id, e.event_type, e.payload
            );
        }
        (!out.is_empty()).then(|| Bytes::from(out))
    }
}
