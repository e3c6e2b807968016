//! Watching a connection (`GET …?wait=N&since=S`): one shared poller per connection,
//! in the whole cluster.
//!
//! However many widgets wait on a connection, one task per replica watches it
//! ([`poller`]), and only the one holding the connection's lease in the [`Store`]
//! asks Powens, at the pace [`Schedule`] sets from what is known of it (the poll
//! interval while the user waits for a validation, no sooner than `next_try` and at
//! most once a minute while Powens retries by itself, once a minute with webhooks
//! on). The latest status is broadcast to local waiters through a
//! `tokio::sync::watch` channel, and to the other replicas through the store
//! ([`fanout`]): a status seen anywhere (a poll, an action's answer, a webhook)
//! reaches every waiter of every replica. In process, the lease is always this
//! replica's and nothing is sent anywhere.
//!
//! A poller exists only while someone waits on its replica: it stops (and gives its
//! lease back) as soon as the last receiver is gone (checked under the registry
//! lock, so a new waiter either finds the running poller or starts a fresh one,
//! never a dying one).
//!
//! Every fresh read and every mutation's answer (submit, resume, sync) is
//! [published](Watchers::publish) too, stamped with the time its request started (a
//! read) or its answer arrived (a mutation: a read begun while it ran may still show
//! the state before it); a stamp never replaces a newer one. So a waiter never sees a
//! state older than the one an action produced, and a poller (re)started right after
//! another read begins from that read and keeps the one-GET-per-interval pace.
//! [`memory`] holds what is remembered besides (the short memory of plain reads,
//! resumed approvals, deletions).

mod fanout;
mod memory;
mod poller;

use mend_model::ConnectionState;
use mend_model::api::ConnectionStatus;
use moka::sync::Cache;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::schedule::Schedule;
use crate::status::View;
use crate::store::Store;
use crate::upstream::PowensClient;

/// A status (or the error reading it) and when the request that produced it started.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// Start of the upstream request.
    pub at: Instant,
    /// What it answered.
    pub result: Result<ConnectionStatus, ApiError>,
}

/// The latest known status of a connection (`None` before the first read).
pub type Snapshot = Option<Stamped>;

type Key = (i64, i64);

/// Statuses remembered (the last known of each connection, however old, for when
/// Powens may not be asked); beyond, the least used are forgotten.
const RECENT_MAX: u64 = 16_384;
/// How long a status is remembered at most.
const RECENT_FOR: Duration = Duration::from_secs(3600);
/// How often an idle poller looks whether anybody still waits.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Most deletions remembered (forgetting one costs a read that Powens answers 404).
const GONE_MAX: u64 = 10_000;
/// How long a deletion is remembered.
const GONE_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a background resume counts as pending (the widget's approval wait is
/// bounded by the connection's `expire`; Powens' sandbox gives two hours, banks
/// usually minutes).
const RESUMED_FOR: Duration = Duration::from_secs(15 * 60);

/// What a deletion webhook removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Gone {
    /// A connection (ids are unique within a Powens domain, whoever owns them).
    Connection(i64),
    User(i64),
}

/// Where a recorded status comes from, and so whether it is broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Seen here: also handed to the other replicas.
    Here,
    /// Seen here, for this replica only (a read the budget held back).
    Private,
    /// Broadcast by another replica.
    Elsewhere,
}

/// The registry of running pollers.
#[derive(Debug, Clone)]
pub struct Watchers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The running pollers of this replica (tasks, not a cache).
    pollers: Mutex<HashMap<Key, watch::Sender<Snapshot>>>,
    /// The latest result per connection.
    recent: Cache<Key, Arc<Stamped>>,
    /// Long-polls waiting now on this replica, per user (a limit, not a cache).
    per_user: Mutex<HashMap<i64, usize>>,
    /// Connections and users Powens deleted (announced by webhook).
    gone: Cache<Gone, ()>,
    /// Connections resumed in the background (a resumed `decoupled` is polled at
    /// the interval, an unresumed one is not expected to change).
    resumed: Cache<Key, ()>,
    /// Ticks when every poller should take a turn now (after a gap in the fan-out).
    resync: watch::Sender<u64>,
    /// Most long-polls one user may hold at once.
    max_per_user: usize,
    powens: PowensClient,
    interval: Duration,
    view: Arc<View>,
    schedule: Schedule,
    store: Store,
    metrics: Metrics,
}

/// Counts a long-poll (gauge and per-user count) until it ends, however it ends.
struct WaiterGuard {
    watchers: Watchers,
    user: i64,
}

impl Drop for WaiterGuard {
    fn drop(&mut self) {
        self.watchers.inner.metrics.waiters(-1);
        let mut per_user = self
            .watchers
            .inner
            .per_user
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                per_user.remove(&self.user);
            }
        }
    }
}

fn newer(current: &Snapshot, at: Instant) -> bool {
    current.as_ref().is_none_or(|c| c.at <= at)
}

impl Watchers {
    /// A registry polling through `powens` at the pace of `schedule`, allowing each
    /// user `max_per_user` simultaneous long-polls, showing connections as `view`,
    /// sharing what it sees through `store`.
    pub fn new(
        powens: PowensClient,
        schedule: Schedule,
        max_per_user: usize,
        view: Arc<View>,
        store: Store,
        metrics: Metrics,
    ) -> Self {
        let this = Self {
            inner: Arc::new(Inner {
                pollers: Mutex::new(HashMap::new()),
                recent: Cache::builder()
                    .max_capacity(RECENT_MAX)
                    .time_to_live(RECENT_FOR)
                    .build(),
                per_user: Mutex::new(HashMap::new()),
                gone: Cache::builder()
                    .max_capacity(GONE_MAX)
                    .time_to_live(GONE_FOR)
                    .build(),
                resumed: Cache::builder()
                    .max_capacity(RECENT_MAX)
                    .time_to_live(RESUMED_FOR)
                    .build(),
                resync: watch::Sender::new(0),
                max_per_user,
                powens,
                interval: schedule.interval,
                schedule,
                view,
                store,
                metrics,
            }),
        };
        this.listen();
        this
    }

    /// Records a status read or produced by a request that started at `at`, and
    /// hands it to the connection's waiters (here and on every replica), unless
    /// something newer is known.
    pub fn publish(&self, user: i64, id: i64, at: Instant, status: &ConnectionStatus) {
        self.record(
            user,
            id,
            Stamped {
                at,
                result: Ok(status.clone()),
            },
            Origin::Here,
        );
    }

    fn record(&self, user: i64, id: i64, stamped: Stamped, origin: Origin) {
        if origin == Origin::Here {
            self.broadcast_result(user, id, &stamped, false);
        }
        if let Ok(status) = &stamped.result
            && !matches!(
                status.state,
                Some(ConnectionState::Decoupled | ConnectionState::Validating)
            )
        {
            self.inner.resumed.invalidate(&(user, id));
        }
        let key = (user, id);
        let recorded = Arc::new(stamped.clone());
        self.inner.recent.entry(key).and_compute_with(|e| match e {
            Some(e) if e.value().at > recorded.at => moka::ops::compute::Op::Nop,
            _ => moka::ops::compute::Op::Put(recorded),
        });
        let pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = pollers.get(&key) {
            tx.send_if_modified(|cur| {
                let fresher = newer(cur, stamped.at);
                if fresher {
                    *cur = Some(stamped);
                }
                fresher
            });
        }
    }

    /// When the connection is next asked about after `latest` (see [`Schedule`]).
    fn next_read(&self, user: i64, id: i64, latest: &Stamped) -> Instant {
        let resumed = self.was_resumed(user, id);
        latest.at
            + self
                .inner
                .schedule
                .delay(latest.result.as_ref().ok(), resumed)
    }

    fn subscribe(&self, user: i64, id: i64) -> watch::Receiver<Snapshot> {
        let mut pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = pollers.get(&(user, id)) {
            return tx.subscribe();
        }
        // Start from the latest result if the schedule would not read the connection
        // yet: the first upstream read then waits for its turn.
        let seed = self
            .inner
            .recent
            .get(&(user, id))
            .map(|s| Stamped::clone(&s))
            .filter(|s| self.next_read(user, id, s) > Instant::now());
        let (tx, rx) = watch::channel(seed);
        pollers.insert((user, id), tx.clone());
        let this = self.clone();
        tokio::spawn(async move { this.poll(user, id, tx).await });
        rx
    }

    /// Waits up to `wait` for the connection's state to differ from `since` (the
    /// `data-state` vocabulary: `ok` for `null`), then answers the latest status.
    /// `shutdown` ends the wait early (graceful shutdown).
    pub async fn wait(
        &self,
        user: i64,
        id: i64,
        since: Option<&str>,
        wait: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<ConnectionStatus, ApiError> {
        if self.is_gone(user, id) {
            return Err(ApiError::NotFound);
        }
        {
            let mut per_user = self
                .inner
                .per_user
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let n = per_user.entry(user).or_default();
            if *n >= self.inner.max_per_user {
                // One user holding thousands of open requests is an attack, not a widget.
                self.inner.metrics.rate_limited("waits");
                return Err(ApiError::RateLimited {
                    retry_after: Duration::from_secs(1),
                });
            }
            *n += 1;
        }
        self.inner.metrics.waiters(1);
        let _guard = WaiterGuard {
            watchers: self.clone(),
            user,
        };
        let deadline = tokio::time::Instant::now() + wait;
        let mut rx = self.subscribe(user, id);
        let mut since = since.map(str::to_owned);
        let mut stopping = *shutdown.borrow();
        loop {
            // In a block: nothing of the status is kept in the future across the wait
            // below (one is held per waiting request), and it is copied only to answer.
            {
                let latest = rx.borrow_and_update();
                if let Some(latest) = latest.as_ref() {
                    let status = match &latest.result {
                        Ok(status) => status,
                        Err(e) => return Err(e.clone()),
                    };
                    let now = ConnectionState::data_state(status.state.as_ref());
                    let changed = match &since {
                        Some(s) => s != now,
                        // No `since`: wait for a change from the first state seen.
                        None => {
                            since = Some(now.to_owned());
                            false
                        }
                    };
                    if changed || stopping || tokio::time::Instant::now() >= deadline {
                        return Ok(status.clone());
                    }
                }
            }
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        // The poller never drops its sender while a receiver lives;
                        // should it die anyway, resubscribe (starts a fresh one).
                        rx = self.subscribe(user, id);
                    }
                }
                // Past the deadline with nothing polled yet (Powens slower than the
                // wait): the loop keeps waiting for the first answer, which the
                // upstream timeout bounds.
                () = tokio::time::sleep_until(deadline), if tokio::time::Instant::now() < deadline => {}
                _ = shutdown.changed(), if !stopping => stopping = true,
            }
        }
    }
}
