//! Plain status reads (`GET /api/v1/connections/{id}` without `wait`), coalesced:
//! a **short memory** and **single flight** per (user, connection).
//!
//! A status younger than the poll interval (from a read, a poll, an action's answer
//! or a webhook, all [published](Watchers::publish) to [`Watchers`]) answers a plain
//! read without asking Powens: a page reloaded in a loop costs one `GET` per
//! interval. Otherwise concurrent reads of one connection share one upstream `GET`
//! and its converted, already serialised answer. When Powens may not be asked (the
//! request budget is spent, or a 429 paused the client), the last known status is
//! answered, however old.
//!
//! Actions on a connection (fields, resume, sync, callback) [detach](Reads::action)
//! the flight in progress and make the memory stale when they start, and detach it
//! again when they end (however they end): a
//! read arriving after an action never joins a `GET` that began before the action
//! finished, so it never answers the pre-action state, and no such read is left
//! behind to be joined later.
//!
//! The list of a user's connections (`GET /api/v1/connections`) is coalesced the
//! same way, per user, in [`list`].
//!
//! The flight runs in its own task: a caller that goes away (a closed tab) does not
//! cancel it for the others. Its answer is also [published](Watchers::publish) to the
//! connection's long-polls, stamped with the time it started, as every fresh read is.

mod list;

use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

use crate::budget::Priority;
use crate::error::ApiError;
use crate::status::View;
use crate::upstream::{PowensClient, UpstreamError};
use crate::watch::Watchers;

type Key = (i64, i64);

/// A read's outcome: the status as JSON bytes (cheap to clone), or the error.
pub type ReadResult = Result<Bytes, ApiError>;

/// The single-flight registry (cheap to clone).
#[derive(Debug, Clone)]
pub struct Reads {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    flights: Mutex<HashMap<Key, Flight>>,
    /// List reads in progress, per user (see [`list`]).
    lists: Mutex<HashMap<i64, list::ListFlight>>,
    /// The ids of each user's last list, and when it was read.
    listed: Mutex<HashMap<i64, (Instant, Vec<i64>)>>,
    powens: PowensClient,
    watchers: Watchers,
    view: Arc<View>,
}

#[derive(Debug)]
struct Flight {
    /// Tells this flight from a later one of the same key.
    id: u64,
    rx: watch::Receiver<Option<ReadResult>>,
}

/// Detaches the connection's flight when made and when dropped (see [`Reads::action`]).
#[derive(Debug)]
pub struct ActionGuard {
    reads: Reads,
    key: Key,
}

impl Drop for ActionGuard {
    fn drop(&mut self) {
        self.reads.detach(self.key);
    }
}

impl Reads {
    /// A registry reading through `powens` and publishing to `watchers`.
    pub fn new(powens: PowensClient, watchers: Watchers, view: Arc<View>) -> Self {
        Self {
            inner: Arc::new(Inner {
                flights: Mutex::new(HashMap::new()),
                lists: Mutex::new(HashMap::new()),
                listed: Mutex::new(HashMap::new()),
                powens,
                watchers,
                view,
            }),
        }
    }

    /// The connection's status: a status younger than the poll interval if one is
    /// known, else the flight in progress or a new one. When Powens may not be asked
    /// (the budget is spent, or Powens asked us to wait), the last known status.
    pub async fn status(&self, user: i64, id: i64) -> ReadResult {
        let watchers = &self.inner.watchers;
        if watchers.is_gone(user, id) {
            return Err(ApiError::NotFound);
        }
        if let Some(status) = watchers.fresh(user, id) {
            return to_bytes(&status);
        }
        let mut rx = self.join(user, id);
        let result = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_else(|| Err(abandoned())),
            Err(_) => Err(abandoned()),
        };
        match result {
            Err(ApiError::Upstream(UpstreamError::HeldBack { .. })) => {
                match watchers.last_known(user, id) {
                    Some(status) => to_bytes(&status),
                    None => result,
                }
            }
            other => other,
        }
    }

    /// Marks an action on the connection: reads in flight now, or started before the
    /// guard is dropped, are joined by no read that arrives after the drop.
    pub fn action(&self, user: i64, id: i64) -> ActionGuard {
        self.detach((user, id));
        self.inner.watchers.invalidate(user, id);
        ActionGuard {
            reads: self.clone(),
            key: (user, id),
        }
    }

    /// Reads in flight now (for tests and benchmarks).
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
        self.inner.flights.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn detach(&self, key: Key) {
        self.lock().remove(&key);
        self.detach_list(key.0);
    }

    fn join(&self, user: i64, id: i64) -> watch::Receiver<Option<ReadResult>> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut flights = self.lock();
        if let Some(f) = flights.get(&(user, id)) {
            return f.rx.clone();
        }
        let flight_id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        flights.insert(
            (user, id),
            Flight {
                id: flight_id,
                rx: rx.clone(),
            },
        );
        drop(flights);
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let inner = &this.inner;
                let result = match inner
                    .powens
                    .connection(user, id, Priority::Background)
                    .await
                {
                    Ok(conn) => {
                        let status = inner.view.status_of(&conn);
                        inner.watchers.publish(user, id, started, &status);
                        to_bytes(&status)
                    }
                    Err(e) => Err(ApiError::from(e)),
                };
                // Leave the registry before answering: a read arriving from now on
                // starts a new flight rather than taking this finished one.
                {
                    let mut flights = this.lock();
                    if flights.get(&(user, id)).is_some_and(|f| f.id == flight_id) {
                        flights.remove(&(user, id));
                    }
                }
                tx.send_replace(Some(result));
            },
            span,
        ));
        rx
    }
}

fn to_bytes(status: &mend_model::api::ConnectionStatus) -> ReadResult {
    serde_json::to_vec(status)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn abandoned() -> ApiError {
    ApiError::Upstream(UpstreamError::Unreachable("read abandoned".into()))
}
