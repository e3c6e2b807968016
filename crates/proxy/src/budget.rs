//! The Powens request budget of the client id (`MEND_POWENS_BUDGET` requests a
//! minute, all replicas together when they share Redis) and the whole-client pause
//! a 429 from Powens asks for.
//!
//! Every request to Powens spends one unit first ([`Budget::spend`]). Background
//! work (plain status reads, pollers) may use the budget only down to a reserve, a
//! fifth of it, that user actions (submissions, resumes, syncs, temporary codes,
//! callbacks) keep for themselves: however many tabs watch, a user who acts is
//! served first. When Powens answers 429, nothing is sent until its `Retry-After`
//! has passed ([`Budget::pause`]), whichever request it was, on any replica.
//!
//! The window and the pause live in the [`Store`]: a sliding window of send times
//! ("no more than N in any 60 s" is what Powens counts) rather than a token bucket,
//! and two priority classes sharing one quota, which `governor` does not model. While
//! Redis is down each replica keeps its own window, with the budget divided by the
//! replicas it last saw alive.

use std::time::Duration;

use crate::store::Store;

/// The window the budget counts over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Longest pause honoured from a `Retry-After` (a bigger value is taken as this).
pub const MAX_PAUSE: Duration = Duration::from_secs(600);
/// The pause after a 429 that names no `Retry-After`.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(30);

/// Who a request to Powens is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A user acting now (submission, resume, sync, code, callback, redirect).
    User,
    /// Keeping a status fresh (plain reads, pollers): may be answered from the last
    /// known status instead.
    Background,
}

/// The budget (cheap to clone: shared).
#[derive(Debug, Clone)]
pub struct Budget {
    store: Store,
    per_minute: usize,
    reserve: usize,
}

impl Budget {
    /// `per_minute` requests in any 60 s, a fifth of them (rounded down) kept for
    /// user actions, counted in `store`.
    pub fn new(per_minute: u32, store: Store) -> Self {
        let per_minute = per_minute.max(1) as usize;
        Self {
            store,
            per_minute,
            reserve: per_minute / 5,
        }
    }

    /// Spends one request for `priority` now, or says how long to wait.
    pub async fn spend(&self, priority: Priority) -> Result<(), Duration> {
        let limit = match priority {
            Priority::User => self.per_minute,
            Priority::Background => self.per_minute - self.reserve,
        };
        self.store.spend_budget(limit, WINDOW).await
    }

    /// Powens answered 429: nothing is sent for `retry_after` (or [`DEFAULT_PAUSE`]),
    /// at most [`MAX_PAUSE`]. A shorter pause never cuts a longer one.
    pub async fn pause(&self, retry_after: Option<Duration>) {
        let d = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        self.store.pause_budget(d).await;
        tracing::warn!(
            pause_secs = d.as_secs(),
            "Powens asked to slow down: every request waits"
        );
    }

    /// How long the whole client is still paused, if it is.
    pub async fn paused_for(&self) -> Option<Duration> {
        self.store.budget_paused_for().await
    }

    /// Requests sent in the last minute.
    pub async fn used(&self) -> usize {
        self.store.budget_used(WINDOW).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_minute: u32) -> Budget {
        Budget::new(per_minute, Store::local(crate::metrics::Metrics::default()))
    }

    #[tokio::test]
    async fn background_work_leaves_a_fifth_of_the_budget_to_users() {
        let b = budget(10);
        for _ in 0..8 {
            b.spend(Priority::Background).await.unwrap();
        }
        let wait = b.spend(Priority::Background).await.unwrap_err();
        assert!(
            wait > WINDOW - Duration::from_secs(1) && wait <= WINDOW,
            "{wait:?}"
        );
        b.spend(Priority::User).await.unwrap();
        b.spend(Priority::User).await.unwrap();
        assert!(b.spend(Priority::User).await.is_err(), "all 10 spent");
        assert_eq!(b.used().await, 10);
    }

    #[tokio::test]
    async fn a_pause_holds_back_users_too_and_is_never_shortened() {
        let b = budget(600);
        b.pause(Some(Duration::from_secs(5))).await;
        let wait = b.spend(Priority::User).await.unwrap_err();
        assert!(wait <= Duration::from_secs(5) && wait > Duration::from_secs(4));
        b.pause(Some(Duration::from_secs(1))).await;
        assert!(
            b.paused_for().await.unwrap() > Duration::from_secs(4),
            "not shortened"
        );
        b.pause(Some(Duration::from_secs(100_000))).await;
        assert!(b.paused_for().await.unwrap() <= MAX_PAUSE);
    }
}
