//! The live event stream's use cases: the tickets that open a stream where
//! a client cannot send headers, where a new stream starts in the event
//! log, and the reads a running stream makes. The SSE wire format and the
//! stream itself are the HTTP layer's; the fan-out of new events is the
//! worker's hub, handed in as `subscribe`.

use serde::Serialize;

use crate::service::access::{Caller, ensure_client_live};
use crate::service::error::{ApiError, Code};
use crate::service::quota::{Quotas, StreamSlot};
use crate::service::tokens::{Claims, JwtKeys, TicketClaims, TokenError, ticket_audience};
use crate::store::stream::{self, StreamEvent};
use crate::store::{Db, StoreResult, clients, retention};

/// How long a stream ticket opens a stream.
pub const TICKET_TTL_SECS: i64 = 60;

#[derive(Debug, Serialize)]
pub struct TicketOut {
    pub ticket: String,
    pub expires_in: i64,
}

/// A ticket that opens the caller's stream for 60 s (never past the
/// caller's own credential); the stream it opens ends when that
/// credential expires.
pub fn ticket(jwt: &JwtKeys, caller: &Caller) -> Result<TicketOut, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let firm = caller.firm.as_ref();
    let claims = TicketClaims {
        claims: Claims {
            sub: caller.user_id.clone(),
            iss: jwt.issuer.clone(),
            aud: ticket_audience(&jwt.audience),
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
    let ticket = jwt.sign_ticket(&claims).map_err(ApiError::internal)?;
    Ok(TicketOut {
        ticket,
        expires_in: claims.claims.exp - now,
    })
}

/// The caller a stream ticket stands for (the access token it was issued
/// against).
pub fn ticket_caller(jwt: &JwtKeys, ticket: &str) -> Result<Caller, ApiError> {
    jwt.verify_ticket(ticket)
        .map(Caller::from_ticket)
        .map_err(|e| match e {
            TokenError::Expired => {
                ApiError::unauthorized(Code::TicketExpired, "事件流票据已过期，请重新获取")
            }
            TokenError::Invalid => ApiError::unauthorized(Code::InvalidTicket, "事件流票据无效"),
        })
}

/// The seconds the caller's credential has left: a stream runs that long.
/// An expired one opens no stream (401).
pub fn time_left(caller: &Caller) -> Result<i64, ApiError> {
    let left = caller.expires_at - chrono::Utc::now().timestamp();
    if left <= 0 {
        return Err(ApiError::unauthorized(
            Code::TokenExpired,
            "访问令牌已过期，请刷新",
        ));
    }
    Ok(left)
}

/// Where a new stream starts in the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// The id the stream starts after: nothing at or below it is sent.
    pub after: i64,
    /// Events between `after` and the log's head are read from the log
    /// before live ones.
    pub catch_up: bool,
    /// The asked resume point lies below what retention pruned:
    /// `(asked, pruned_through)`. The stream goes on from the head and
    /// tells the client to reload what it shows.
    pub reset: Option<(i64, i64)>,
}

/// Where a stream starts: after the asked id, but never above the head
/// (an id from before a restore of the database would hold back every
/// event until the log caught up with it); from the head when the asked
/// id lies below what was pruned (events may be missing, so the client
/// reloads rather than skipping them silently).
pub fn start_at(resume: Option<i64>, head: i64, pruned: i64) -> Start {
    let reset = resume.filter(|n| *n < pruned).map(|asked| (asked, pruned));
    let after = match reset {
        Some(_) => head,
        None => resume.map_or(head, |n| n.min(head)),
    };
    Start {
        after,
        catch_up: after < head,
        reset,
    }
}

/// A stream about to start.
pub struct Opened<S> {
    /// The live events addressed to the caller, from the subscription on.
    pub sub: S,
    /// Counts the stream against its user's open streams until dropped.
    pub slot: StreamSlot,
    pub start: Start,
}

/// Opens the caller's stream, resuming after `resume` if given: takes one
/// of the user's stream slots (429 when they hold the most), subscribes
/// (before reading the log, so nothing committed in between is missed;
/// what arrives twice is dropped by id), reads the log's head and pruning
/// point, and refuses an API client whose credential has been revoked or
/// rotated since (checked after subscribing: a later change reaches the
/// stream as an event).
pub async fn open<S>(
    db: &Db,
    quotas: &Quotas,
    caller: &Caller,
    resume: Option<i64>,
    subscribe: impl FnOnce() -> S,
) -> Result<Opened<S>, ApiError> {
    let slot = quotas.open_stream(&caller.user_id)?;
    let sub = subscribe();
    let (head, pruned) = db
        .run(|c| Ok((stream::head(c)?, retention::pruned_through(c)?)))
        .await?;
    if let Some(g) = &caller.client {
        ensure_client_live(db, &g.client_id, g.secret_version).await?;
    }
    Ok(Opened {
        sub,
        slot,
        start: start_at(resume, head, pruned),
    })
}

/// The next events of a running stream's audience after id `after`, at
/// most `limit` (a store error is the stream's to log: it closes, and the
/// client resumes).
pub async fn after(
    db: &Db,
    audience: std::sync::Arc<Vec<String>>,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<StreamEvent>> {
    db.run(move |c| stream::for_audience(c, &audience, after, limit))
        .await
}

/// Whether an API client still holds the credential (`version`) that
/// opened its stream.
pub async fn client_live(db: &Db, client_id: String, version: Option<i64>) -> StoreResult<bool> {
    db.run(move |c| clients::is_live(c, &client_id, version))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_starts_after_its_resume_point_but_never_above_the_head() {
        let none = start_at(None, 40, 0);
        assert_eq!((none.after, none.catch_up, none.reset), (40, false, None));
        let behind = start_at(Some(35), 40, 10);
        assert_eq!(
            (behind.after, behind.catch_up, behind.reset),
            (35, true, None)
        );
        // A restored database: the client's id lies above the head.
        let ahead = start_at(Some(90), 40, 0);
        assert_eq!((ahead.after, ahead.catch_up), (40, false));
        // What it asked for was pruned: from the head, with a reset.
        let pruned = start_at(Some(5), 40, 10);
        assert_eq!(
            (pruned.after, pruned.catch_up, pruned.reset),
            (40, false, Some((5, 10)))
        );
    }
}
