//! The Redis backend of [`super::Store`] (`MEND_REDIS_URL`, Redis ≥ 6 or Valkey).
//!
//! One multiplexed connection (redis-rs' `ConnectionManager`: it reconnects by
//! itself; every command times out after [`RESPONSE_TIMEOUT`]) carries the commands,
//! a second one the subscription. Three tasks run beside the requests:
//!
//! - the **heartbeat** writes this replica's expiry into a sorted set every third
//!   of [`heartbeat_life`] (a poller lease is valid while its owner's heartbeat is,
//!   so a dead replica's connections are taken over within one poll interval) and
//!   doubles as the probe that brings the store back up after a failure;
//! - the **publisher** sends queued fan-out events in pipelines;
//! - the **subscriber** hands other replicas' events to this one, and ticks
//!   [`Redis::events`]' gap counter each time it subscribes again after a loss.
//!
//! The first failed command marks the store down: until the heartbeat answers again,
//! commands fail at once (no request waits on a dead Redis), with the fallbacks the
//! table of [`super`] lists.

use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// A key of this deployment: the prefix, then the rest as `format!` writes it.
macro_rules! key {
    ($store:expr, $($rest:tt)*) => {
        format!("{}{}", $store.prefix, format_args!($($rest)*))
    };
}

mod ops;

use super::events::Envelope;
use super::local::{Buckets, Window};
use super::scripts::Scripts;
use super::sealed::TokenKey;
use super::{Event, RedisSettings, StoreError, random_u64};
use crate::metrics::Metrics;

/// Longest wait for one command.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the heartbeat probes a store that is down.
const PROBE_DOWN: Duration = Duration::from_millis(250);
/// How long a poller lease lasts without being renewed (the owner renews it at each
/// poll turn, at least once a minute; it ends sooner when its owner's heartbeat does).
const LEASE_LIFE: Duration = Duration::from_secs(120);
/// How long a shared Powens token is kept unused.
const TOKEN_LIFE: Duration = Duration::from_secs(7 * 86_400);
/// Queued events beyond this are dropped (counted): a backlog would only deliver
/// stale statuses.
const OUTBOX: usize = 10_000;

/// A replica's heartbeat lasts one poll interval (at least 250 ms).
pub fn heartbeat_life(poll_interval: Duration) -> Duration {
    poll_interval.max(Duration::from_millis(250))
}

/// The Redis store.
pub struct Redis {
    replica: u64,
    /// `replica` as written in leases.
    rid: String,
    prefix: String,
    conn: ConnectionManager,
    up: AtomicBool,
    replicas: AtomicU64,
    life: Duration,
    scripts: Scripts,
    token_key: TokenKey,
    metrics: Metrics,
    /// Fallbacks while Redis is down.
    buckets: Buckets,
    window: Mutex<Window>,
    outbox: mpsc::Sender<Vec<u8>>,
    inbox: broadcast::Sender<Arc<Event>>,
    gaps: watch::Sender<u64>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("replica", &self.replica)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Redis {
    /// Connects lazily and starts the background tasks (see the module docs).
    pub fn start(settings: RedisSettings, metrics: Metrics) -> Result<Arc<Self>, String> {
        let client = redis::Client::open(settings.url.expose_secret())
            .map_err(|e| format!("MEND_REDIS_URL is not a Redis URL ({:?})", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(0)
            .set_max_delay(RESPONSE_TIMEOUT);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("MEND_REDIS_URL: {:?}", e.kind()))?;
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX);
        let replica = random_u64();
        let store = Arc::new(Self {
            replica,
            rid: format!("{replica:016x}"),
            prefix: settings.prefix,
            conn,
            up: AtomicBool::new(true),
            replicas: AtomicU64::new(1),
            life: heartbeat_life(settings.poll_interval),
            scripts: Scripts::default(),
            token_key: settings.token_key,
            metrics,
            buckets: Buckets::new(),
            window: Mutex::default(),
            outbox,
            inbox: broadcast::channel(8192).0,
            gaps: watch::Sender::new(0),
        });
        tokio::spawn(Self::heartbeat(Arc::downgrade(&store)));
        tokio::spawn(Self::publisher(Arc::downgrade(&store), outbox_rx));
        tokio::spawn(Self::subscriber(Arc::downgrade(&store), client));
        tracing::info!(replica = %store.rid, "shared store: Redis (MEND_REDIS_URL)");
        Ok(store)
    }

    /// The connection, unless the store is down (then fail at once).
    pub(super) fn conn(&self) -> Result<ConnectionManager, StoreError> {
        if self.up.load(Ordering::Relaxed) {
            Ok(self.conn.clone())
        } else {
            Err(StoreError)
        }
    }

    /// Records a failed command: the store is down until the heartbeat answers.
    pub(super) fn failed(&self, op: &'static str, e: &redis::RedisError) -> StoreError {
        self.metrics.store_error(op);
        if self.up.swap(false, Ordering::Relaxed) {
            self.metrics.store_up(false);
            tracing::error!(op, error = %e, "shared store (Redis) unavailable: single-use checks and actions are refused, rate limits and the Powens budget are kept per replica, every replica polls for its own waiters");
        }
        StoreError
    }

    fn recovered(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            self.metrics.store_up(true);
            tracing::info!("shared store (Redis) answers again");
        }
    }

    pub(super) fn local_window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn replica(&self) -> u64 {
        self.replica
    }

    pub fn replicas(&self) -> u64 {
        self.replicas.load(Ordering::Relaxed).max(1)
    }

    async fn heartbeat(this: std::sync::Weak<Self>) {
        let mut checked_policy = false;
        loop {
            let Some(st) = this.upgrade() else { return };
            let mut conn = st.conn.clone();
            let beat: redis::RedisResult<u64> = st
                .scripts
                .heartbeat
                .key(key!(st, "replicas"))
                .arg(&st.rid)
                .arg(ms(st.life))
                .invoke_async(&mut conn)
                .await;
            let pause = match beat {
                Ok(n) => {
                    st.recovered();
                    st.replicas.store(n, Ordering::Relaxed);
                    st.metrics.replicas(n);
                    if !checked_policy {
                        checked_policy = true;
                        check_eviction_policy(&mut conn).await;
                    }
                    st.life / 3
                }
                Err(e) => {
                    st.failed("heartbeat", &e);
                    PROBE_DOWN
                }
            };
            drop(st);
            tokio::time::sleep(pause).await;
        }
    }

    async fn publisher(this: std::sync::Weak<Self>, mut rx: mpsc::Receiver<Vec<u8>>) {
        let mut batch = Vec::with_capacity(256);
        while rx.recv_many(&mut batch, 256).await > 0 {
            let Some(st) = this.upgrade() else { return };
            let channel = key!(st, "events");
            match st.conn() {
                Ok(mut conn) => {
                    let mut pipe = redis::pipe();
                    for payload in &batch {
                        pipe.cmd("PUBLISH").arg(&channel).arg(payload).ignore();
                    }
                    if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                        st.failed("publish", &e);
                    }
                }
                Err(StoreError) => {
                    for _ in &batch {
                        st.metrics.event("dropped", "any");
                    }
                }
            }
            batch.clear();
        }
    }

    async fn subscriber(this: std::sync::Weak<Self>, client: redis::Client) {
        let mut subscribed_before = false;
        loop {
            let Some(st) = this.upgrade() else { return };
            let channel = key!(st, "events");
            let me = st.replica;
            let inbox = st.inbox.clone();
            let metrics = st.metrics.clone();
            let gaps = st.gaps.clone();
            drop(st);
            let connected = tokio::time::timeout(RESPONSE_TIMEOUT * 2, async {
                let mut ps = client.get_async_pubsub().await?;
                ps.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(ps)
            })
            .await;
            if let Ok(Ok(ps)) = connected {
                if subscribed_before {
                    // Whatever was published meanwhile is lost: say so.
                    gaps.send_modify(|n| *n += 1);
                    tracing::info!("shared store: events subscribed again");
                }
                subscribed_before = true;
                let mut stream = ps.into_on_message();
                while let Some(msg) = stream.next().await {
                    match serde_json::from_slice::<Envelope<Event>>(msg.get_payload_bytes()) {
                        Ok(env) if env.from == me => {}
                        Ok(env) => {
                            metrics.event("received", env.event.kind());
                            let _ = inbox.send(Arc::new(env.event));
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable fan-out event"),
                    }
                }
                tracing::warn!("shared store: events subscription lost");
            }
            tokio::time::sleep(PROBE_DOWN).await;
        }
    }

    pub fn events(&self) -> (broadcast::Receiver<Arc<Event>>, watch::Receiver<u64>) {
        (self.inbox.subscribe(), self.gaps.subscribe())
    }

    pub fn broadcast(&self, event: &Event) {
        let Ok(payload) = serde_json::to_vec(&Envelope {
            from: self.replica,
            event,
        }) else {
            return;
        };
        if self.outbox.try_send(payload).is_ok() {
            self.metrics.event("sent", event.kind());
        } else {
            self.metrics.event("dropped", event.kind());
        }
    }

    pub async fn check(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        match redis::cmd("PING").query_async::<String>(&mut conn).await {
            Ok(_) => {
                self.recovered();
                Ok(())
            }
            Err(e) => Err(self.failed("ping", &e)),
        }
    }

    pub async fn leave(&self) {
        if let Ok(mut conn) = self.conn() {
            let _: Result<redis::RedisResult<()>, _> = tokio::time::timeout(
                RESPONSE_TIMEOUT,
                redis::cmd("ZREM")
                    .arg(key!(self, "replicas"))
                    .arg(&self.rid)
                    .query_async(&mut conn),
            )
            .await;
        }
    }
}

/// Warns when Redis may evict keys: an evicted nonce is a state accepted twice.
async fn check_eviction_policy(conn: &mut ConnectionManager) {
    let policy: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(conn)
        .await;
    match policy.as_deref() {
        Ok([_, p]) if p == "noeviction" => {}
        Ok([_, p]) => tracing::warn!(
            policy = %p,
            "Redis maxmemory-policy is not noeviction: under memory pressure it may evict spent redirect states, which would then be accepted again (docs/operations.md)"
        ),
        _ => tracing::warn!(
            "cannot read Redis' maxmemory-policy (CONFIG GET refused?): make sure it is noeviction (docs/operations.md)"
        ),
    }
}
