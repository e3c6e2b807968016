//! The one seam for what replicas must agree on, with two backends: **in process**
//! (the default, one replica) and **Redis** (`MEND_REDIS_URL`, any number of
//! replicas behind a load balancer).
//!
//! | what | in process | Redis | while Redis is down |
//! |---|---|---|---|
//! | spent redirect `state` nonces, and the epoch they are valid in | a `moka` cache | `SET NX PX`, an epoch key | **refused** (fail closed: 503) |
//! | one action at a time per connection | a set | `SET NX PX`, compare-and-delete | **refused** (503) |
//! | rate-limit buckets (GCRA) | a `moka` cache | one Lua script per request | per replica |
//! | the Powens budget (sliding minute) and its 429 pause | a window | a sorted set, Lua | per replica, the budget divided by the replicas last seen |
//! | who polls a watched connection | this process | a lease per connection, valid while its owner's heartbeat is | every replica polls for its own waiters |
//! | statuses, deletions, resumes seen by one replica | — | pub/sub fan-out to every replica | each replica knows what it saw |
//! | Powens user tokens | — | sealed (XChaCha20-Poly1305, key from the session secret) | each replica renews its own |
//!
//! What each process remembers for itself (statuses, sessions, tokens: `moka` caches
//! with capacity and time-to-live) lives with the feature that uses it; this module
//! only decides what is shared. Every method is cheap on the in-process backend (no
//! allocation, no boxing, no await that can wait); the Redis backend marks the store
//! down at the first failure and fails fast until its heartbeat answers again, so a
//! Redis outage costs a log line and a `/readyz` answer, never a hung request.

mod events;
mod local;
mod redis;
mod scripts;
pub mod sealed;

pub use events::Event;

use secrecy::SecretString;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Metrics;

/// The shared store was not reachable (or answered an error): what must happen once
/// is refused rather than risked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared store is unavailable")]
pub struct StoreError;

/// A rate-limit bucket.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Bucket {
    /// A client address whose request carries a valid session (IPv6 by /64).
    Address(IpAddr),
    /// A client address whose request carries no valid session.
    Anonymous(IpAddr),
    /// A session user.
    User(i64),
}

impl Bucket {
    /// Its name in metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Address(_) => "ip",
            Self::Anonymous(_) => "anonymous",
            Self::User(_) => "session",
        }
    }
}

/// One token from `bucket`, which refills `per_minute` a minute (bursts up to that).
#[derive(Debug, Clone, Copy)]
pub struct Charge {
    /// Which bucket.
    pub bucket: Bucket,
    /// Its rate.
    pub per_minute: u32,
}

/// A refused charge: the bucket that was empty and when it has a token again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Which bucket.
    pub bucket: Bucket,
    /// When to come back.
    pub retry_after: Duration,
}

/// What a spent-state check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonce {
    /// Not spent (or, from [`Store::spend`]: spent now, by this call).
    Fresh,
    /// Spent before.
    Spent,
    /// Issued under another epoch: the store that remembered spent states was lost
    /// (a restart) since, so whether it was spent cannot be known.
    OtherEpoch,
}

/// Who polls a watched connection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// This replica: read Powens and publish.
    Granted,
    /// Another live replica does: wait for its statuses.
    Held,
    /// The store is down: poll for this replica's own waiters.
    Unavailable,
}

/// The Redis settings of [`Store::redis`].
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://` or `rediss://` URL (never logged: it may hold a password).
    pub url: SecretString,
    /// Key prefix (`mend:<client id>:`): the budget and tokens are per client id.
    pub prefix: String,
    /// `MEND_POLL_INTERVAL`: a dead replica's leases pass within one interval.
    pub poll_interval: Duration,
    /// The key Powens user tokens are sealed with (see [`sealed`]).
    pub token_key: sealed::TokenKey,
}

/// The store (cheap to clone: one pointer).
#[derive(Debug, Clone)]
pub enum Store {
    /// Everything in this process.
    Local(Arc<local::Local>),
    /// Shared through Redis, with in-process fallbacks where that is safe.
    Redis(Arc<redis::Redis>),
}

impl Store {
    /// The in-process store.
    pub fn local(metrics: Metrics) -> Self {
        Self::Local(Arc::new(local::Local::new(metrics)))
    }

    /// A Redis-backed store: starts its heartbeat, publisher and subscriber tasks.
    /// Never fails for an unreachable server (the store starts down and comes up
    /// when Redis answers); only a URL it cannot read is an error.
    pub fn redis(settings: RedisSettings, metrics: Metrics) -> Result<Self, String> {
        redis::Redis::start(settings, metrics).map(Self::Redis)
    }

    /// Whether state is shared with other replicas.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Redis(_))
    }

    /// This replica's id (random per start).
    pub fn replica(&self) -> u64 {
        match self {
            Self::Local(l) => l.replica(),
            Self::Redis(r) => r.replica(),
        }
    }

    /// Replicas alive as last seen (1 in process; at least 1).
    pub fn replicas(&self) -> u64 {
        match self {
            Self::Local(_) => 1,
            Self::Redis(r) => r.replicas(),
        }
    }

    /// Whether the store answers now (readiness): always in process; with Redis,
    /// a `PING` within a second.
    pub async fn check(&self) -> Result<(), StoreError> {
        match self {
            Self::Local(_) => Ok(()),
            Self::Redis(r) => r.check().await,
        }
    }

    /// The epoch redirect states are issued in now: spent states are remembered
    /// only within one epoch.
    pub async fn epoch(&self) -> Result<String, StoreError> {
        match self {
            Self::Local(l) => Ok(l.epoch().to_owned()),
            Self::Redis(r) => r.epoch().await,
        }
    }

    /// Whether the state with `nonce`, issued in `epoch`, was spent.
    pub async fn nonce(&self, epoch: &str, nonce: &str) -> Result<Nonce, StoreError> {
        match self {
            Self::Local(l) => Ok(l.nonce(epoch, nonce)),
            Self::Redis(r) => r.nonce(epoch, nonce).await,
        }
    }

    /// Spends the state with `nonce` (remembered for `ttl`): [`Nonce::Fresh`] when this
    /// call spent it, whatever any other replica does at the same time.
    pub async fn spend(
        &self,
        epoch: &str,
        nonce: &str,
        ttl: Duration,
    ) -> Result<Nonce, StoreError> {
        match self {
            Self::Local(l) => Ok(l.spend(epoch, nonce)),
            Self::Redis(r) => r.spend(epoch, nonce, ttl).await,
        }
    }

    /// Takes connection `(user, id)`'s action slot for at most `ttl`: `Some(token)`
    /// to give back to [`Store::release_slot`], `None` when another action holds it.
    pub async fn take_slot(
        &self,
        user: i64,
        id: i64,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        match self {
            Self::Local(l) => Ok(l.take_slot(user, id)),
            Self::Redis(r) => r.take_slot(user, id, ttl).await,
        }
    }

    /// Gives a slot back (only if `token` still holds it).
    pub fn release_slot(&self, user: i64, id: i64, token: u64) {
        match self {
            Self::Local(l) => l.release_slot(user, id, token),
            Self::Redis(r) => r.release_slot(user, id, token),
        }
    }

    /// Takes one token from each bucket in turn; the first empty one refuses (the
    /// ones before it stay charged).
    pub async fn charge(&self, charges: &[Charge]) -> Result<(), Refused> {
        match self {
            Self::Local(l) => l.charge(charges),
            Self::Redis(r) => r.charge(charges).await,
        }
    }

    /// [`Store::charge`] when it needs no wait: in process; `None` with Redis.
    pub fn charge_now(&self, charges: &[Charge]) -> Option<Result<(), Refused>> {
        match self {
            Self::Local(l) => Some(l.charge(charges)),
            Self::Redis(_) => None,
        }
    }

    /// Spends one Powens request of the client's budget: at most `limit` in any
    /// `window`; otherwise how long until one frees (or the pause ends).
    pub async fn spend_budget(&self, limit: usize, window: Duration) -> Result<(), Duration> {
        match self {
            Self::Local(l) => l.spend_budget(limit, window),
            Self::Redis(r) => r.spend_budget(limit, window).await,
        }
    }

    /// Pauses every request to Powens for `pause` (a shorter pause never cuts a longer).
    pub async fn pause_budget(&self, pause: Duration) {
        match self {
            Self::Local(l) => l.pause_budget(pause),
            Self::Redis(r) => r.pause_budget(pause).await,
        }
    }

    /// How long requests to Powens are still paused.
    pub async fn budget_paused_for(&self) -> Option<Duration> {
        match self {
            Self::Local(l) => l.budget_paused_for(),
            Self::Redis(r) => r.budget_paused_for().await,
        }
    }

    /// Requests to Powens in the last `window`.
    pub async fn budget_used(&self, window: Duration) -> usize {
        match self {
            Self::Local(l) => l.budget_used(window),
            Self::Redis(r) => r.budget_used(window).await,
        }
    }

    /// Whether this replica polls connection `(user, id)` now.
    pub async fn lease(&self, user: i64, id: i64) -> Lease {
        match self {
            Self::Local(_) => Lease::Granted,
            Self::Redis(r) => r.lease(user, id).await,
        }
    }

    /// This replica stops polling `(user, id)`: another may take it at once.
    pub fn release_lease(&self, user: i64, id: i64) {
        if let Self::Redis(r) = self {
            r.release_lease(user, id);
        }
    }

    /// Hands `event` to every other replica (fire and forget; dropped while down).
    pub fn broadcast(&self, event: &Event) {
        if let Self::Redis(r) = self {
            r.broadcast(event);
        }
    }

    /// Events from other replicas, and a tick after every gap in them (the store
    /// was unreachable: what was missed must be read again). `None` in process.
    pub fn events(
        &self,
    ) -> Option<(
        tokio::sync::broadcast::Receiver<Arc<Event>>,
        tokio::sync::watch::Receiver<u64>,
    )> {
        match self {
            Self::Local(_) => None,
            Self::Redis(r) => Some(r.events()),
        }
    }

    /// The user's Powens token as another replica obtained it, if shared.
    pub async fn shared_token(&self, user: i64) -> Option<SecretString> {
        match self {
            Self::Local(_) => None,
            Self::Redis(r) => r.shared_token(user).await,
        }
    }

    /// Shares a token this replica obtained (sealed).
    pub fn share_token(&self, user: i64, token: &SecretString) {
        if let Self::Redis(r) = self {
            r.share_token(user, token);
        }
    }

    /// Forgets the shared token of `user` if it is `token` (Powens refused it), or
    /// whatever it is when `token` is `None` (the user was deleted).
    pub fn unshare_token(&self, user: i64, token: Option<&SecretString>) {
        if let Self::Redis(r) = self {
            r.unshare_token(user, token);
        }
    }

    /// Leaves the cluster (graceful shutdown): this replica's leases pass at once.
    pub async fn leave(&self) {
        if let Self::Redis(r) = self {
            r.leave().await;
        }
    }
}

/// A random `u64` (replica ids, slot tokens, epochs).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        tracing::error!("the OS random generator failed");
    }
    u64::from_le_bytes(b)
}
