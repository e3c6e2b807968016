//! Watching a connection (`GET …?wait=N&since=S`): one shared poller per connection.
//!
//! However many widgets wait on a connection, one task asks Powens about it, at the
//! pace [`Schedule`] sets from what is known of it (the poll interval while the user
//! waits for a validation, no sooner than `next_try` and at most once a minute while
//! Powens retries by itself, once a minute with webhooks on), and broadcasts the
//! latest status through a `tokio::sync::watch` channel. A status published by an
//! action or announced by a webhook moves the next read; a read the budget holds
//! back leaves waiters with the last known status. Deletions announced by webhook
//! answer 404 to reads and waiters ([`Watchers::gone`]). The poller exists only while someone waits: it stops
//! as soon as the last receiver is gone (checked under the registry lock, so a new
//! waiter either finds the running poller or starts a fresh one, never a dying one).
//!
//! Every fresh read and every mutation's answer (submit, resume, sync) is
//! [published](Watchers::publish) too, stamped with the time its request started (a
//! read) or its answer arrived (a mutation: a read begun while it ran may still show
//! the state before it); a stamp never replaces a newer one. So a waiter never sees a
//! state older than the one an action produced, and a poller (re)started right after
//! another read begins from that read and keeps the one-GET-per-interval pace.

mod memory;

use mend_model::ConnectionState;
use mend_model::api::ConnectionStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::budget::Priority;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::schedule::Schedule;
use crate::status::View;
use crate::upstream::{PowensClient, UpstreamError};

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

/// Keep at most this many recent results of unwatched connections.
const RECENT_MAX: usize = 4096;
/// How often an idle poller looks whether anybody still waits.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Most deletions remembered.
const GONE_MAX: usize = 10_000;
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

/// The registry of running pollers.
#[derive(Debug, Clone)]
pub struct Watchers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pollers: Mutex<HashMap<Key, watch::Sender<Snapshot>>>,
    /// The latest result per connection, kept for one interval.
    recent: Mutex<HashMap<Key, Stamped>>,
    /// Long-polls waiting now, per user.
    per_user: Mutex<HashMap<i64, usize>>,
    /// Connections and users Powens deleted (announced by webhook).
    gone: Mutex<std::collections::HashSet<Gone>>,
    /// Connections resumed in the background, and when (a resumed `decoupled` is
    /// polled at the interval, an unresumed one is not expected to change).
    resumed: Mutex<HashMap<Key, Instant>>,
    /// Most long-polls one user may hold at once.
    max_per_user: usize,
    powens: PowensClient,
    interval: Duration,
    view: Arc<View>,
    schedule: Schedule,
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

/// Removes a poller's channel from the registry when the poller ends.
struct Registered {
    watchers: Watchers,
    key: Key,
    tx: watch::Sender<Snapshot>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut pollers = self
            .watchers
            .inner
            .pollers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if pollers
            .get(&self.key)
            .is_some_and(|t| t.same_channel(&self.tx))
        {
            pollers.remove(&self.key);
        }
        self.watchers.inner.metrics.pollers(-1);
    }
}

fn newer(current: &Snapshot, at: Instant) -> bool {
    current.as_ref().is_none_or(|c| c.at <= at)
}

impl Watchers {
    /// A registry polling through `powens` at the pace of `schedule`, allowing each
    /// user `max_per_user` simultaneous long-polls, showing connections as `view`.
    pub fn new(
        powens: PowensClient,
        schedule: Schedule,
        max_per_user: usize,
        view: Arc<View>,
        metrics: Metrics,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pollers: Mutex::new(HashMap::new()),
                recent: Mutex::new(HashMap::new()),
                per_user: Mutex::new(HashMap::new()),
                resumed: Mutex::new(HashMap::new()),
                gone: Mutex::new(std::collections::HashSet::new()),
                max_per_user,
                powens,
                interval: schedule.interval,
                schedule,
                view,
                metrics,
            }),
        }
    }

    /// Records a status read or produced by a request that started at `at`, and
    /// hands it to the connection's waiters, unless something newer is known.
    pub fn publish(&self, user: i64, id: i64, at: Instant, status: &ConnectionStatus) {
        self.record(
            user,
            id,
            Stamped {
                at,
                result: Ok(status.clone()),
            },
        );
    }

    fn record(&self, user: i64, id: i64, stamped: Stamped) {
        if let Ok(status) = &stamped.result
            && !matches!(
                status.state,
                Some(ConnectionState::Decoupled | ConnectionState::Validating)
            )
        {
            let mut resumed = self.inner.resumed.lock().unwrap_or_else(|p| p.into_inner());
            resumed.remove(&(user, id));
        }
        {
            let mut recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() >= RECENT_MAX {
                let interval = self.inner.interval;
                recent.retain(|_, s| s.at.elapsed() < interval);
            }
            let entry = recent.entry((user, id));
            match entry {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    if o.get().at <= stamped.at {
                        o.insert(stamped.clone());
                    }
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(stamped.clone());
                }
            }
        }
        let pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = pollers.get(&(user, id)) {
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
        let seed = {
            let recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.get(&(user, id)).cloned()
        }
        .filter(|s| self.next_read(user, id, s) > Instant::now());
        let (tx, rx) = watch::channel(seed);
        pollers.insert((user, id), tx.clone());
        let this = self.clone();
        tokio::spawn(async move { this.poll(user, id, tx).await });
        rx
    }

    async fn poll(self, user: i64, id: i64, tx: watch::Sender<Snapshot>) {
        let inner = &self.inner;
        inner.metrics.pollers(1);
        // However this task ends (even by a panic), its channel leaves the registry, so
        // waiters are never left subscribed to a poller that is gone.
        let _registered = Registered {
            watchers: self.clone(),
            key: (user, id),
            tx: tx.clone(),
        };
        // The poller's own view of the channel: what others publish (an action's
        // answer, a webhook) moves the next read.
        let mut own = tx.subscribe();
        let mut not_before: Option<Instant> = None;
        tracing::debug!(user, connection = id, "poller started");
        loop {
            let next = {
                let latest = own.borrow_and_update();
                latest
                    .as_ref()
                    .map_or_else(Instant::now, |s| self.next_read(user, id, s))
            };
            let next = not_before.map_or(next, |n| n.max(next));
            // Wake at least every CHECK_EVERY to see whether anybody still waits.
            let wake = next.min(Instant::now() + CHECK_EVERY);
            tokio::select! {
                () = tokio::time::sleep_until(wake.into()) => {}
                changed = own.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    continue;
                }
            }
            {
                let mut pollers = inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
                if tx.receiver_count() <= 1 {
                    // Under the lock: a new waiter either subscribed before (and we go
                    // on) or will find no entry and start a fresh poller.
                    pollers.remove(&(user, id));
                    break;
                }
            }
            if Instant::now() < next {
                continue;
            }
            let started = Instant::now();
            let result = inner
                .powens
                .connection(user, id, Priority::Background)
                .await;
            if let Err(UpstreamError::HeldBack { retry_after }) = &result {
                // Not sent (budget, or Powens asked us to wait): waiters keep the last
                // known status, and the read waits for its turn. With nothing known
                // yet, they are told when to come back rather than left hanging.
                not_before = Some(Instant::now() + *retry_after);
                if tx.borrow().is_none() {
                    let held = result.map(|c| inner.view.status_of(&c));
                    self.record(
                        user,
                        id,
                        Stamped {
                            at: started,
                            result: held.map_err(ApiError::from),
                        },
                    );
                }
                continue;
            }
            not_before = None;
            let result = result
                .map(|c| inner.view.status_of(&c))
                .map_err(ApiError::from);
            self.record(
                user,
                id,
                Stamped {
                    at: started,
                    result,
                },
            );
        }
        tracing::debug!(user, connection = id, "poller stopped: nobody waits");
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
