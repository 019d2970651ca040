//! The keyed request-rate limiters of a node: per client address, per API
//! client and for sign-in attempts; the protection middleware
//! (the `protect` middleware) consults them.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;

/// The keyed limiters of this node (limits are per node).
pub struct Limits {
    pub(crate) ip: DefaultKeyedRateLimiter<IpAddr>,
    pub(crate) client: DefaultKeyedRateLimiter<String>,
    pub(crate) auth: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub fn new(c: &Config) -> Limits {
        Limits {
            ip: RateLimiter::keyed(per_minute(c.rate_limit_ip_per_minute)),
            client: RateLimiter::keyed(per_minute(c.rate_limit_client_per_minute)),
            auth: RateLimiter::keyed(per_minute(c.rate_limit_auth_per_minute)),
        }
    }

    /// Forgets keys whose allowance is full again (bounded memory).
    pub fn prune(&self) {
        self.ip.retain_recent();
        self.client.retain_recent();
        self.auth.retain_recent();
    }
}
