//! How much each API client uses the service, counted cheaply: every node
//! counts requests (and those answered with an error) and issued tokens per
//! client and day in memory, and adds them to `api_client_usage` in one
//! batch every few seconds (and when it stops, and before a usage read on
//! this node). No request writes to the database on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};

use crate::store::clients::{self as store, UsageDay};
use crate::store::{Db, StoreResult, now};

/// How often a node adds its counts to the database.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    requests: i64,
    errors: i64,
    tokens: i64,
    last_used_at: Option<NaiveDateTime>,
}

/// This node's counts not yet written, per (client, day).
#[derive(Debug, Default)]
pub struct Meter {
    pending: Mutex<HashMap<(String, String), Counts>>,
}

/// The day of `t` in China Standard Time, the service's days.
pub fn day_of(t: NaiveDateTime) -> NaiveDate {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.and_utc().with_timezone(&cst).date_naive()
}

impl Meter {
    fn bump(&self, client_id: &str, f: impl FnOnce(&mut Counts)) {
        let key = (client_id.to_string(), day_of(now()).to_string());
        if let Ok(mut p) = self.pending.lock() {
            f(p.entry(key).or_default());
        }
    }

    /// A request with the client's token reached a route; `error`: it was
    /// answered with a 4xx or 5xx.
    pub fn request(&self, client_id: &str, error: bool) {
        let at = now();
        self.bump(client_id, |c| {
            c.requests += 1;
            c.errors += i64::from(error);
            c.last_used_at = Some(at);
        });
    }

    /// The client was issued an access token.
    pub fn token(&self, client_id: &str) {
        self.bump(client_id, |c| c.tokens += 1);
    }

    fn take(&self) -> Vec<UsageDay> {
        let Ok(mut p) = self.pending.lock() else {
            return Vec::new();
        };
        p.drain()
            .map(|((client_id, day), c)| UsageDay {
                client_id,
                day,
                requests: c.requests,
                errors: c.errors,
                tokens: c.tokens,
                last_used_at: c.last_used_at,
            })
            .collect()
    }

    fn put_back(&self, rows: Vec<UsageDay>) {
        let Ok(mut p) = self.pending.lock() else {
            return;
        };
        for r in rows {
            let c = p.entry((r.client_id, r.day)).or_default();
            c.requests += r.requests;
            c.errors += r.errors;
            c.tokens += r.tokens;
            c.last_used_at = c.last_used_at.max(r.last_used_at);
        }
    }

    /// Adds what this node counted to the database; on failure the counts
    /// are kept for the next try.
    pub async fn flush(&self, db: &Db) -> StoreResult<()> {
        let rows = self.take();
        if rows.is_empty() {
            return Ok(());
        }
        let keep = rows.clone();
        match db.run(move |c| store::add_usage(c, &rows)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.put_back(keep);
                Err(e)
            }
        }
    }
}
