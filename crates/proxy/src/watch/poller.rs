//! A connection's poller on this replica: it sleeps until the schedule's next read,
//! takes the turn if this replica holds the connection's lease (always, in
//! process), reads Powens and records the answer; otherwise it waits for the holder's
//! statuses, and takes the lease over when they stop coming (the holder died: its
//! heartbeat ends within one poll interval).
//!
//! A replica that does not hold the lease checks it only when a read is overdue by
//! half an interval, so a healthy cluster spends one lease check per read, not one
//! per replica.

use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::{CHECK_EVERY, Key, Origin, Snapshot, Stamped, Watchers};
use crate::budget::Priority;
use crate::error::ApiError;
use crate::store::Lease;
use crate::upstream::UpstreamError;

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

impl Watchers {
    pub(super) async fn poll(self, user: i64, id: i64, tx: watch::Sender<Snapshot>) {
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
        // answer, a webhook, another replica's poll) moves the next read.
        let mut own = tx.subscribe();
        let mut resync = inner.resync.subscribe();
        let mut not_before: Option<Instant> = None;
        // Whether another replica polled this connection at the last turn: then this
        // one gives it half an interval to publish before checking the lease.
        let mut elsewhere = false;
        let mut held = false;
        let mut now_please = false;
        let grace = inner.interval / 2;
        let retry = (inner.interval / 4).max(Duration::from_millis(50));
        tracing::debug!(user, connection = id, "poller started");
        loop {
            let next = {
                let latest = own.borrow_and_update();
                latest
                    .as_ref()
                    .map_or_else(Instant::now, |s| self.next_read(user, id, s))
            };
            let next = if elsewhere { next + grace } else { next };
            let next = not_before.map_or(next, |n| n.max(next));
            let next = if now_please { Instant::now() } else { next };
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
                _ = resync.changed() => {
                    // Statuses may have been missed: one turn now.
                    now_please = true;
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
            now_please = false;
            match inner.store.lease(user, id).await {
                Lease::Granted => {
                    held = true;
                    elsewhere = false;
                }
                // Store down: this replica's waiters still get their statuses.
                Lease::Unavailable => {
                    elsewhere = false;
                }
                Lease::Held => {
                    held = false;
                    elsewhere = true;
                    not_before = Some(Instant::now() + retry);
                    continue;
                }
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
                    let held_back = result.map(|c| inner.view.status_of(&c));
                    self.record(
                        user,
                        id,
                        Stamped {
                            at: started,
                            result: held_back.map_err(ApiError::from),
                        },
                        Origin::Private,
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
                Origin::Here,
            );
        }
        if held {
            inner.store.release_lease(user, id);
        }
        tracing::debug!(user, connection = id, "poller stopped: nobody waits");
    }
}
