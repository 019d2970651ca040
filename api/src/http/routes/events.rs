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
use serde::Deserialize;
use tokio::sync::watch;

use crate::http::auth::{Caller, authenticate, check_client_access};
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::events::{self, Opened};
use crate::store::Db;
use crate::store::clients::CREDENTIALS_CHANGED;
use crate::store::lifecycle::SESSIONS_ENDED;
use crate::store::scopes::{Scopes, event_access, users_only_event};
use crate::store::stream::StreamEvent;
use crate::worker::events::{Subscription, audience_of, shutdown_signal};

/// Events read per query while a stream catches up.
const CATCH_UP_PAGE: i64 = 500;
/// Events written to the client at once.
const CHUNK_EVENTS: usize = 64;
/// What `EventSource` waits before reconnecting (ms).
const RETRY_MS: u32 = 3000;
/// The reconnect delay suggested to streams closed by a stopping node.
const SHUTDOWN_RETRY_MS: u32 = 1000;

/// `POST /api/v1/events/ticket`: a ticket for `GET /api/v1/events?ticket=`
/// valid for 60 s; the stream it opens ends when the access token it was
/// issued against expires.
pub async fn ticket(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(events::ticket(&state.db, &state.jwt, &caller).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    pub ticket: Option<String>,
    /// For clients that reconnect by hand: the same as `Last-Event-ID`.
    pub last_event_id: Option<String>,
}

/// Who opens a stream (a ticket's caller, or a bearer token's) and how
/// many seconds their credential has left. A ticket stands for a token: a
/// client's needs the same scope.
fn stream_caller(
    state: &AppState,
    req: &HttpRequest,
    q: &StreamQuery,
) -> Result<(Caller, i64, Option<Option<i64>>), ApiError> {
    let (caller, ticket_sv) = match &q.ticket {
        Some(t) => {
            let (caller, sv) = events::ticket_caller(&state.jwt, t)?;
            (caller, Some(sv))
        }
        None => (authenticate(req)?, None),
    };
    check_client_access(req, &caller)?;
    let left = events::time_left(&caller)?;
    Ok((caller, left, ticket_sv))
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
    let (caller, left, ticket_sv) = stream_caller(&state, &req, &q)?;
    let resume = resume_point(&req, &q)?;
    let audience = audience_of(&caller);
    let subscribe = || state.events.subscribe(audience.clone());
    let opened = events::open(
        &state.db,
        &state.quotas,
        &caller,
        resume,
        ticket_sv,
        subscribe,
    )
    .await?;
    let sse = Sse::new(&state, &caller, audience, opened, left);
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

/// The first frames of a stream: the reconnect delay, a `reset` when the
/// resume point was pruned, and `ready` with the id it starts after.
fn hello(start: &events::Start) -> Bytes {
    let at = start.after;
    let mut hello = String::new();
    let _ = writeln!(hello, "retry: {RETRY_MS}");
    if let Some((asked, pruned)) = start.reset {
        let _ = write!(
            hello,
            "id: {at}\nevent: reset\ndata: {{\"last_event_id\":{at},\"requested\":{asked},\"pruned_through\":{pruned}}}\n\n"
        );
    }
    let _ = write!(
        hello,
        "id: {at}\nevent: ready\ndata: {{\"last_event_id\":{at}}}\n\n"
    );
    Bytes::from(hello)
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
    /// A user's stream: the user and the session version it was opened
    /// with, checked again when the user's sessions end.
    user: Option<(String, i64)>,
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
    fn new(
        state: &AppState,
        caller: &Caller,
        audience: Vec<String>,
        o: Opened<Subscription>,
        left: i64,
    ) -> Sse {
        let heartbeat = Duration::from_secs(state.config.events_heartbeat_secs);
        let now = tokio::time::Instant::now();
        Sse {
            db: state.db.clone(),
            audience: Arc::new(audience),
            sub: o.sub,
            client: caller
                .client
                .as_ref()
                .map(|g| (g.client_id.clone(), g.secret_version)),
            user: o.session,
            scopes: caller.client.as_ref().map(|g| g.scopes.clone()),
            recheck: false,
            last: o.start.after,
            catch_up: o.start.catch_up,
            heartbeat: tokio::time::interval_at(now + heartbeat, heartbeat),
            until: now + Duration::from_secs(left as u64),
            shutdown: shutdown_signal(),
            hello: Some(hello(&o.start)),
            finished: false,
            _slot: o.slot,
        }
    }

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
                let page = events::after(&self.db, audience, after, CATCH_UP_PAGE).await;
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
        if let Some((id, version)) = &self.user {
            return match events::session_live(&self.db, id, *version).await {
                Ok(live) => live,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot check the user of an event stream; closing it");
                    false
                }
            };
        }
        let Some((id, version)) = self.client.clone() else {
            return true;
        };
        match events::client_live(&self.db, id, version).await {
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
            if e.event_type == SESSIONS_ENDED {
                if self.user.is_some() {
                    self.recheck = true;
                    self.catch_up = true;
                    break;
                }
                continue;
            }
            if e.event_type == CREDENTIALS_CHANGED {
                if self.client.is_some() {
                    self.recheck = true;
                    self.catch_up = true;
                    break;
                }
                continue;
            }
            if let Some(scopes) = &self.scopes
                && (!scopes.allow(event_access(&e.event_type))
                    || users_only_event(&e.event_type, &e.payload))
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
