//! `GET /api/v1/connections`: every connection of a user from **one** upstream
//! `GET /users/me/connections`, coalesced as plain reads are (see the parent module).
//!
//! Concurrent lists of one user share one flight, run in its own task. Each
//! connection's status it brings is [published](crate::watch::Watchers::publish) like
//! a plain read's, so a `GET …/{id}` or a long-poll right after costs nothing more.
//! The ids it listed are remembered for one poll interval: a list asked again within
//! it is answered from the per-connection memory when every connection there is
//! still fresh (an action on one makes it stale, so the list is read again). When
//! Powens may not be asked, the last known statuses of the remembered ids answer.

use mend_model::api::ConnectionStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::watch;

use super::Reads;
use crate::budget::Priority;
use crate::error::ApiError;
use crate::upstream::UpstreamError;

/// A list read's outcome, shared by everyone waiting on the flight.
pub(super) type ListResult = Result<Arc<Vec<ConnectionStatus>>, ApiError>;

/// Keep the listed ids of at most this many users.
const LISTED_MAX: usize = 4096;

/// A list read in progress for one user.
#[derive(Debug)]
pub(super) struct ListFlight {
    /// Tells this flight from a later one of the same user.
    id: u64,
    rx: watch::Receiver<Option<ListResult>>,
}

impl Reads {
    /// Every connection of `user`, as `GET …/{id}` shows each (deleted ones left out).
    pub async fn list(&self, user: i64) -> Result<Vec<ConnectionStatus>, ApiError> {
        if let Some(all) = self.remembered(user, true) {
            return Ok(all);
        }
        let mut rx = self.join_list(user);
        let result = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_else(|| Err(super::abandoned())),
            Err(_) => Err(super::abandoned()),
        };
        let watchers = &self.inner.watchers;
        match result {
            Ok(all) => Ok(all
                .iter()
                .filter(|s| !watchers.is_gone(user, s.id))
                .cloned()
                .collect()),
            Err(e @ ApiError::Upstream(UpstreamError::HeldBack { .. })) => {
                self.remembered(user, false).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The statuses of the ids last listed for `user`, from the per-connection
    /// memory: only if the list is younger than the poll interval and every status
    /// is fresh (`fresh`), or whatever is last known (`!fresh`).
    fn remembered(&self, user: i64, fresh: bool) -> Option<Vec<ConnectionStatus>> {
        let watchers = &self.inner.watchers;
        let ids = {
            let listed = self.listed_lock();
            let (at, ids) = listed.get(&user)?;
            if fresh && at.elapsed() >= watchers.interval() {
                return None;
            }
            ids.clone()
        };
        ids.into_iter()
            .filter(|&id| !watchers.is_gone(user, id))
            .map(|id| {
                if fresh {
                    watchers.fresh(user, id)
                } else {
                    watchers.last_known(user, id)
                }
            })
            .collect()
    }

    /// Forgets the user's list flight in progress (an action on one of the user's
    /// connections started or ended: a later list must not join a read begun before).
    pub(super) fn detach_list(&self, user: i64) {
        self.lists_lock().remove(&user);
    }

    fn lists_lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, ListFlight>> {
        self.inner.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn listed_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, (Instant, Vec<i64>)>> {
        self.inner.listed.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn join_list(&self, user: i64) -> watch::Receiver<Option<ListResult>> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut lists = self.lists_lock();
        if let Some(f) = lists.get(&user) {
            return f.rx.clone();
        }
        let flight_id = NEXT.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        lists.insert(
            user,
            ListFlight {
                id: flight_id,
                rx: rx.clone(),
            },
        );
        drop(lists);
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let result = this.read_list(user, started).await;
                // Leave the registry before answering, as a plain read does.
                {
                    let mut lists = this.lists_lock();
                    if lists.get(&user).is_some_and(|f| f.id == flight_id) {
                        lists.remove(&user);
                    }
                }
                tx.send_replace(Some(result));
            },
            span,
        ));
        rx
    }

    /// One upstream list; each status published, the ids remembered.
    async fn read_list(&self, user: i64, started: Instant) -> ListResult {
        let inner = &self.inner;
        let list = inner
            .powens
            .connections(user, Priority::Background)
            .await
            .map_err(ApiError::from)?;
        let all: Vec<ConnectionStatus> = list
            .connections
            .iter()
            .filter(|c| c.id > 0)
            .map(|c| {
                let status = inner.view.status_of(c);
                inner.watchers.publish(user, c.id, started, &status);
                status
            })
            .collect();
        let mut listed = self.listed_lock();
        if listed.len() >= LISTED_MAX && !listed.contains_key(&user) {
            // Forgetting costs one upstream list per user, nothing else.
            listed.clear();
        }
        listed.insert(user, (started, all.iter().map(|s| s.id).collect()));
        Ok(Arc::new(all))
    }
}
