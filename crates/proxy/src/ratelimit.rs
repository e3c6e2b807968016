//! Rate limits on `/api`: one token bucket per client address and one per session
//! user, refilled continuously (`per_minute` tokens a minute, bursts up to that many).
//!
//! Hand-rolled rather than `governor`: two keyed buckets behind a mutex are ~60 lines,
//! need no clock abstraction, and the refusal must be our own error envelope with a
//! `Retry-After` anyway. The maps are pruned of full (idle) buckets when they grow.
//! The client address is the TCP peer: behind a reverse proxy, limit there too (no
//! `X-Forwarded-For` is trusted, since any client could forge it).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Prune idle buckets when a map holds more keys than this.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
struct Buckets<K> {
    per_minute: f64,
    map: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long until one is there.
    fn take(&self, key: K) -> Result<(), Duration> {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            let cap = self.per_minute;
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < cap);
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: self.per_minute,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(self.per_minute);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate).max(Duration::from_secs(1)))
        }
    }
}

/// The proxy's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    ips: Arc<Buckets<IpAddr>>,
    users: Arc<Buckets<i64>>,
    metrics: Metrics,
}

impl Limits {
    /// Limits of `per_ip` and `per_user` requests a minute.
    pub fn new(per_ip: u32, per_user: u32, metrics: Metrics) -> Self {
        Self {
            ips: Arc::new(Buckets::new(per_ip)),
            users: Arc::new(Buckets::new(per_user)),
            metrics,
        }
    }

    /// One request from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.ips.take(client_key(ip)).map_err(|retry_after| {
            self.metrics.rate_limited("ip");
            ApiError::RateLimited { retry_after }
        })
    }

    /// One request of session user `user`.
    pub fn check_user(&self, user: i64) -> Result<(), ApiError> {
        self.users.take(user).map_err(|retry_after| {
            self.metrics.rate_limited("session");
            ApiError::RateLimited { retry_after }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let b = Buckets::new(3);
        assert!(b.take(1).is_ok());
        assert!(b.take(1).is_ok());
        assert!(b.take(1).is_ok());
        let wait = b.take(1).unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(b.take(2).is_ok(), "other keys are not affected");
    }
}

/// The rate-limit key of a client address: IPv4 as it is, IPv6 by its /64 prefix,
/// since one host usually holds a whole /64 and could rotate through it.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod client_key_tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_one_allowance_per_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_key(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), v4);
    }
}
