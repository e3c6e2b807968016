//! Rate limits on `/api`, charged **after** the session check, so that requests
//! without a valid session cannot use up anyone else's allowance:
//!
//! - a request with a valid session takes one token from its client address's
//!   bucket (`MEND_RATE_LIMIT_PER_IP`) and one from its user's
//!   (`MEND_RATE_LIMIT_PER_SESSION`);
//! - a request without one takes a token from a separate, smaller bucket of its
//!   address (`MEND_RATE_LIMIT_UNAUTHENTICATED`), so fifty garbage requests a second
//!   lock out only their sender (and never a user behind the same address who has
//!   a session).
//!
//! The client address is [`crate::client_addr`]'s (the TCP peer, or the rightmost
//! `X-Forwarded-For` address a trusted proxy vouches for), IPv6 by its /64. The
//! buckets live in the [`Store`] (GCRA: shared by every replica with Redis, per
//! replica without or while it is down); a refusal answers 429 with `Retry-After`.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::store::{Bucket, Charge, Store};

/// The proxy's limits, requests a minute each.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Per client address, with a session.
    pub per_ip: u32,
    /// Per session user.
    pub per_session: u32,
    /// Per client address, without a valid session.
    pub per_anonymous: u32,
    store: Store,
    metrics: Metrics,
}

impl Limits {
    /// Limits of these rates, kept in `store`.
    pub fn new(
        per_ip: u32,
        per_session: u32,
        per_anonymous: u32,
        store: Store,
        metrics: Metrics,
    ) -> Self {
        Self {
            per_ip,
            per_session,
            per_anonymous,
            store,
            metrics,
        }
    }

    fn charges(&self, ip: IpAddr, user: Option<i64>) -> ([Charge; 2], usize) {
        let ip = client_key(ip);
        match user {
            Some(user) => (
                [
                    Charge {
                        bucket: Bucket::Address(ip),
                        per_minute: self.per_ip,
                    },
                    Charge {
                        bucket: Bucket::User(user),
                        per_minute: self.per_session,
                    },
                ],
                2,
            ),
            None => {
                let anon = Charge {
                    bucket: Bucket::Anonymous(ip),
                    per_minute: self.per_anonymous,
                };
                ([anon, anon], 1)
            }
        }
    }

    fn refused(&self, r: crate::store::Refused) -> ApiError {
        self.metrics.rate_limited(r.bucket.kind());
        ApiError::RateLimited {
            retry_after: r.retry_after,
        }
    }

    /// One request from `ip`, by session user `user` (`None`: no valid session).
    pub async fn check(&self, ip: IpAddr, user: Option<i64>) -> Result<(), ApiError> {
        let (charges, n) = self.charges(ip, user);
        self.store
            .charge(&charges[..n])
            .await
            .map_err(|r| self.refused(r))
    }

    /// [`Limits::check`] when the answer needs no wait (the in-process store);
    /// `None` when it must be asked of the shared store.
    pub fn check_now(&self, ip: IpAddr, user: Option<i64>) -> Option<Result<(), ApiError>> {
        let (charges, n) = self.charges(ip, user);
        self.store
            .charge_now(&charges[..n])
            .map(|r| r.map_err(|r| self.refused(r)))
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
mod tests {
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

    #[tokio::test]
    async fn garbage_without_a_session_never_spends_a_users_allowance() {
        let m = Metrics::default();
        let limits = Limits::new(100, 100, 3, Store::local(m.clone()), m.clone());
        let office: IpAddr = "203.0.113.5".parse().unwrap();
        for _ in 0..3 {
            limits.check(office, None).await.unwrap();
        }
        assert!(matches!(
            limits.check(office, None).await,
            Err(ApiError::RateLimited { .. })
        ));
        // Someone with a session behind the same address is not affected.
        limits.check(office, Some(7)).await.unwrap();
        assert_eq!(m.counter("mend_rate_limited_total", "key=\"anonymous\""), 1);
    }
}
