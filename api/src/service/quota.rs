//! Per-firm and per-user allowances on what fills other people's screens:
//! new listings, urgent/emergency requests (each opens a staff case) and
//! chat messages; and the number of event streams one user holds open.
//! In memory and per node, like the request rate limits (`protect.rs`);
//! over an allowance the answer is 429 with `Retry-After`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::service::error::ApiError;

/// One allowance kept per firm and per user.
struct Pair {
    firm: DefaultKeyedRateLimiter<String>,
    user: DefaultKeyedRateLimiter<String>,
}

impl Pair {
    fn new(per: Duration, firm: u32, user: u32) -> Pair {
        let quota = |n: u32| {
            let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
            // `n` at once, then one more every `per / n`.
            Quota::with_period(per / n.get())
                .unwrap_or_else(|| Quota::per_second(n))
                .allow_burst(n)
        };
        Pair {
            firm: RateLimiter::keyed(quota(firm)),
            user: RateLimiter::keyed(quota(user)),
        }
    }

    /// Takes one from the user's allowance, then one from the firm's (a
    /// user refused takes nothing from the firm).
    fn take(&self, firm: &str, user: &str, what: &str) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        let refusal = |n: governor::NotUntil<<DefaultClock as Clock>::Instant>, whose: &str| {
            let wait = n.wait_time_from(clock.now());
            ApiError::too_many(
                wait.as_secs() + 1,
                format!("{whose}{what}过于频繁，请稍后再试"),
            )
        };
        self.user
            .check_key(&user.to_string())
            .map_err(|n| refusal(n, "您"))?;
        self.firm
            .check_key(&firm.to_string())
            .map_err(|n| refusal(n, "本企业"))
    }

    fn prune(&self) {
        self.firm.retain_recent();
        self.user.retain_recent();
    }
}

/// The allowances of this node.
pub struct Quotas {
    listings: Pair,
    emergencies: Pair,
    messages: Pair,
    streams: Arc<Mutex<HashMap<String, usize>>>,
    max_streams: usize,
}

impl Quotas {
    pub fn new(c: &Config) -> Quotas {
        let hour = Duration::from_secs(3600);
        Quotas {
            listings: Pair::new(
                hour,
                c.listing_limit_per_firm_per_hour,
                c.listing_limit_per_user_per_hour,
            ),
            emergencies: Pair::new(
                hour * 24,
                c.emergency_limit_per_firm_per_day,
                c.emergency_limit_per_user_per_day,
            ),
            messages: Pair::new(
                Duration::from_secs(60),
                c.message_limit_per_firm_per_minute,
                c.message_limit_per_user_per_minute,
            ),
            streams: Arc::new(Mutex::new(HashMap::new())),
            max_streams: c.events_max_streams_per_user,
        }
    }

    /// A new listing by `user` of `firm`.
    pub fn listing(&self, firm: &str, user: &str) -> Result<(), ApiError> {
        self.listings.take(firm, user, "发布供需信息")
    }

    /// An urgent or emergency request (new, or raised to it): each opens a
    /// staff case.
    pub fn emergency(&self, firm: &str, user: &str) -> Result<(), ApiError> {
        self.emergencies.take(firm, user, "发布紧急需求")
    }

    /// A chat message.
    pub fn message(&self, firm: &str, user: &str) -> Result<(), ApiError> {
        self.messages.take(firm, user, "发送消息")
    }

    /// A slot for one more open event stream of `user`, held until the
    /// stream ends; 429 when the user holds the most already.
    pub fn open_stream(&self, user: &str) -> Result<StreamSlot, ApiError> {
        let mut open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user.to_string()).or_insert(0);
        if *n >= self.max_streams {
            return Err(ApiError::too_many(
                5,
                format!(
                    "同时打开的事件流已达上限（{} 个），请先关闭不用的连接",
                    self.max_streams
                ),
            ));
        }
        *n += 1;
        Ok(StreamSlot {
            user: user.to_string(),
            streams: self.streams.clone(),
        })
    }

    /// Forgets keys whose allowance is full again (bounded memory).
    pub fn prune(&self) {
        self.listings.prune();
        self.emergencies.prune();
        self.messages.prune();
    }
}

/// One open event stream counted against its user; freed when dropped.
pub struct StreamSlot {
    user: String,
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}
