//! What the watchers remember of each connection besides the pollers: the latest
//! status (the short memory plain reads answer from, and the last known status when
//! Powens may not be asked), resumed approvals, deletions announced by webhook, and
//! forgetting it all when the in-process sandbox is rewritten. Each change made here
//! is also told to the other replicas ([`super::fanout`]); what they tell lands in
//! the same memory.

use mend_model::api::ConnectionStatus;
use std::time::Instant;

use super::{Gone, Key, Origin, Stamped, Watchers};
use crate::error::ApiError;
use crate::store::Event;

impl Watchers {
    /// Marks the connection as resumed in the background: until its approval ends,
    /// it is asked about at the poll interval (by whichever replica polls it).
    pub fn resumed(&self, user: i64, id: i64) {
        self.inner.resumed.insert((user, id), ());
        self.inner.store.broadcast(&Event::Resumed {
            user,
            connection: id,
        });
    }

    /// Whether the connection was resumed in the background not long ago.
    pub(super) fn was_resumed(&self, user: i64, id: i64) -> bool {
        self.inner.resumed.contains_key(&(user, id))
    }

    /// How long a status read from Powens counts as fresh: the poll interval.
    pub fn interval(&self) -> std::time::Duration {
        self.inner.interval
    }

    /// The connection's status if one younger than the poll interval is known: a
    /// plain read answers it without asking Powens.
    pub fn fresh(&self, user: i64, id: i64) -> Option<ConnectionStatus> {
        self.inner
            .recent
            .get(&(user, id))
            .filter(|s| s.at.elapsed() < self.inner.interval)
            .and_then(|s| s.result.as_ref().ok().cloned())
    }

    /// The last status known, however old (answered when Powens may not be asked).
    pub fn last_known(&self, user: i64, id: i64) -> Option<ConnectionStatus> {
        self.inner
            .recent
            .get(&(user, id))
            .and_then(|s| s.result.as_ref().ok().cloned())
    }

    /// Whether Powens announced (webhook) that the connection or its user was deleted.
    pub fn is_gone(&self, user: i64, id: i64) -> bool {
        let gone = &self.inner.gone;
        gone.contains_key(&Gone::Connection(id)) || gone.contains_key(&Gone::User(user))
    }

    /// Forgets what is known of the connection's status as fresh, here and on every
    /// replica: an action is changing it (what it answers is published again).
    pub fn invalidate(&self, user: i64, id: i64) {
        self.make_stale((user, id));
        self.inner.store.broadcast(&Event::Stale {
            user,
            connection: id,
        });
    }

    pub(super) fn make_stale(&self, key: Key) {
        let interval = self.inner.interval;
        self.inner.recent.entry(key).and_compute_with(|e| match e {
            Some(e) => {
                // Kept as the last known status, no longer fresh.
                let mut stale = Stamped::clone(e.value());
                stale.at = stale.at.checked_sub(interval).unwrap_or(stale.at);
                moka::ops::compute::Op::Put(std::sync::Arc::new(stale))
            }
            None => moka::ops::compute::Op::Nop,
        });
    }

    /// A status Powens announced (webhook): every waiter of every replica gets it at
    /// once, and the connection's next read is counted from now.
    pub fn announce(&self, user: i64, id: i64, status: &ConnectionStatus) {
        self.inner.gone.invalidate(&Gone::Connection(id));
        let stamped = Stamped {
            at: Instant::now(),
            result: Ok(status.clone()),
        };
        self.broadcast_result(user, id, &stamped, true);
        self.record(user, id, stamped, Origin::Private);
    }

    /// Powens deleted connection `id` (`user` when it is known) or, with `id` `None`,
    /// the whole `user`: status reads and waiters answer 404 from now on, on every
    /// replica.
    pub fn gone(&self, user: Option<i64>, id: Option<i64>) {
        self.inner.store.broadcast(&Event::Gone {
            user,
            connection: id,
        });
        self.mark_gone(user, id);
    }

    pub(super) fn mark_gone(&self, user: Option<i64>, id: Option<i64>) {
        let mark = match (user, id) {
            (_, Some(id)) => Gone::Connection(id),
            (Some(user), None) => Gone::User(user),
            (None, None) => return,
        };
        self.inner.gone.insert(mark, ());
        let keys: Vec<Key> = {
            let pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
            pollers
                .keys()
                .filter(|k| match mark {
                    Gone::Connection(id) => k.1 == id,
                    Gone::User(user) => k.0 == user,
                })
                .copied()
                .collect()
        };
        for (user, id) in keys {
            self.record(
                user,
                id,
                Stamped {
                    at: Instant::now(),
                    result: Err(ApiError::NotFound),
                },
                Origin::Private,
            );
        }
    }

    /// Forgets everything known of every connection: the next read of each asks
    /// Powens. For the in-process sandbox, whose control routes (reset, retry-now)
    /// change its data or skip its clock behind the proxy's back.
    pub fn forget_all(&self) {
        self.inner.recent.invalidate_all();
        self.inner.gone.invalidate_all();
        self.inner.resumed.invalidate_all();
        let pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
        for tx in pollers.values() {
            // No snapshot: the poller reads at once, waiters wait for that read.
            tx.send_replace(None);
        }
    }
}
