//! What the watchers remember of each connection besides the pollers: the latest
//! status (the short memory plain reads answer from, and the last known status when
//! Powens may not be asked), resumed approvals, deletions announced by webhook, and
//! forgetting it all when the in-process sandbox is rewritten.

use mend_model::api::ConnectionStatus;
use std::time::Instant;

use super::{GONE_MAX, Gone, Key, RECENT_MAX, RESUMED_FOR, Stamped, Watchers};
use crate::error::ApiError;

impl Watchers {
    /// Marks the connection as resumed in the background: until its approval ends,
    /// it is asked about at the poll interval.
    pub fn resumed(&self, user: i64, id: i64) {
        let mut resumed = self.inner.resumed.lock().unwrap_or_else(|p| p.into_inner());
        if resumed.len() >= RECENT_MAX {
            resumed.retain(|_, at| at.elapsed() < RESUMED_FOR);
        }
        resumed.insert((user, id), Instant::now());
    }

    /// Whether the connection was resumed in the background not long ago.
    pub(super) fn was_resumed(&self, user: i64, id: i64) -> bool {
        let resumed = self.inner.resumed.lock().unwrap_or_else(|p| p.into_inner());
        resumed
            .get(&(user, id))
            .is_some_and(|at| at.elapsed() < RESUMED_FOR)
    }

    /// How long a status read from Powens counts as fresh: the poll interval.
    pub fn interval(&self) -> std::time::Duration {
        self.inner.interval
    }

    /// The connection's status if one younger than the poll interval is known: a
    /// plain read answers it without asking Powens.
    pub fn fresh(&self, user: i64, id: i64) -> Option<ConnectionStatus> {
        let recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .get(&(user, id))
            .filter(|s| s.at.elapsed() < self.inner.interval)
            .and_then(|s| s.result.as_ref().ok().cloned())
    }

    /// The last status known, however old (answered when Powens may not be asked).
    pub fn last_known(&self, user: i64, id: i64) -> Option<ConnectionStatus> {
        let recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .get(&(user, id))
            .and_then(|s| s.result.as_ref().ok().cloned())
    }

    /// Whether Powens announced (webhook) that the connection or its user was deleted.
    pub fn is_gone(&self, user: i64, id: i64) -> bool {
        let gone = self.gone_lock();
        gone.contains(&Gone::Connection(id)) || gone.contains(&Gone::User(user))
    }

    /// Forgets what is known of the connection's status as fresh: an action is
    /// changing it (what it answers is published again).
    pub fn invalidate(&self, user: i64, id: i64) {
        let mut recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = recent.get_mut(&(user, id)) {
            // Kept as the last known status, no longer fresh.
            s.at = s.at.checked_sub(self.inner.interval).unwrap_or(s.at);
        }
    }

    /// A status Powens announced (webhook): every waiter gets it at once, and the
    /// connection's next read is counted from now.
    pub fn announce(&self, user: i64, id: i64, status: &ConnectionStatus) {
        self.gone_lock().remove(&Gone::Connection(id));
        self.publish(user, id, Instant::now(), status);
    }

    /// Powens deleted connection `id` (`user` when it is known) or, with `id` `None`,
    /// the whole `user`: status reads and waiters answer 404 from now on.
    pub fn gone(&self, user: Option<i64>, id: Option<i64>) {
        let mark = match (user, id) {
            (_, Some(id)) => Gone::Connection(id),
            (Some(user), None) => Gone::User(user),
            (None, None) => return,
        };
        {
            let mut gone = self.gone_lock();
            if gone.len() >= GONE_MAX {
                // Deleted ones are also 404 at Powens: forgetting them costs a read.
                gone.clear();
            }
            gone.insert(mark);
        }
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
            );
        }
    }

    /// Forgets everything known of every connection: the next read of each asks
    /// Powens. For the in-process sandbox, whose control routes (reset, retry-now)
    /// change its data or skip its clock behind the proxy's back.
    pub fn forget_all(&self) {
        self.inner
            .recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.gone_lock().clear();
        self.inner
            .resumed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let pollers = self.inner.pollers.lock().unwrap_or_else(|p| p.into_inner());
        for tx in pollers.values() {
            // No snapshot: the poller reads at once, waiters wait for that read.
            tx.send_replace(None);
        }
    }

    fn gone_lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<Gone>> {
        self.inner.gone.lock().unwrap_or_else(|p| p.into_inner())
    }
}
