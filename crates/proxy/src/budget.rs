//! The Powens request budget of the client id (`MEND_POWENS_BUDGET` requests a
//! minute) and the whole-client pause a 429 from Powens asks for.
//!
//! Every request to Powens spends one unit first ([`Budget::spend`]). Background
//! work (plain status reads, pollers) may use the budget only down to a reserve, a
//! fifth of it, that user actions (submissions, resumes, syncs, temporary codes,
//! callbacks) keep for themselves: however many tabs watch, a user who acts is
//! served first. When Powens answers 429, nothing is sent until its `Retry-After`
//! has passed ([`Budget::pause`]), whichever request it was.
//!
//! A sliding window of send times rather than a token bucket, and hand-written
//! rather than `governor`: "no more than N in any 60 s" is what Powens counts, and two
//! priority classes sharing one quota plus a pause are not what `governor` models.
//! The state sits behind this one type so that it can move to a shared store when
//! several replicas share the budget.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    inner: Arc<Mutex<State>>,
    per_minute: usize,
    reserve: usize,
}

#[derive(Debug, Default)]
struct State {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Budget {
    /// `per_minute` requests in any 60 s, a fifth of them (rounded down) kept for
    /// user actions.
    pub fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1) as usize;
        Self {
            inner: Arc::new(Mutex::new(State::default())),
            per_minute,
            reserve: per_minute / 5,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spends one request for `priority` now, or says how long to wait.
    pub fn spend(&self, priority: Priority) -> Result<(), Duration> {
        self.spend_at(priority, Instant::now())
    }

    fn spend_at(&self, priority: Priority, now: Instant) -> Result<(), Duration> {
        let mut st = self.lock();
        if let Some(until) = st.paused_until {
            if until > now {
                return Err(until - now);
            }
            st.paused_until = None;
        }
        while st
            .sent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= WINDOW)
        {
            st.sent.pop_front();
        }
        let limit = match priority {
            Priority::User => self.per_minute,
            Priority::Background => self.per_minute - self.reserve,
        };
        if st.sent.len() >= limit {
            // The slot frees when the request `len - limit` places from the oldest
            // leaves the window.
            let freeing = st.sent.get(st.sent.len() - limit).copied().unwrap_or(now);
            return Err((freeing + WINDOW)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)));
        }
        st.sent.push_back(now);
        Ok(())
    }

    /// Powens answered 429: nothing is sent for `retry_after` (or [`DEFAULT_PAUSE`]),
    /// at most [`MAX_PAUSE`]. A shorter pause never cuts a longer one.
    pub fn pause(&self, retry_after: Option<Duration>) {
        let d = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        let until = Instant::now() + d;
        let mut st = self.lock();
        if st.paused_until.is_none_or(|u| u < until) {
            st.paused_until = Some(until);
        }
        tracing::warn!(
            pause_secs = d.as_secs(),
            "Powens asked to slow down: every request waits"
        );
    }

    /// How long the whole client is still paused, if it is.
    pub fn paused_for(&self) -> Option<Duration> {
        let now = Instant::now();
        self.lock()
            .paused_until
            .filter(|&u| u > now)
            .map(|u| u - now)
    }

    /// Requests sent in the last minute.
    pub fn used(&self) -> usize {
        let now = Instant::now();
        let st = self.lock();
        st.sent
            .iter()
            .filter(|&&t| now.duration_since(t) < WINDOW)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_work_leaves_a_fifth_of_the_budget_to_users() {
        let b = Budget::new(10);
        let t = Instant::now();
        for _ in 0..8 {
            b.spend_at(Priority::Background, t).unwrap();
        }
        let wait = b.spend_at(Priority::Background, t).unwrap_err();
        assert_eq!(wait, WINDOW);
        b.spend_at(Priority::User, t).unwrap();
        b.spend_at(Priority::User, t).unwrap();
        assert!(b.spend_at(Priority::User, t).is_err(), "all 10 spent");
        // A minute later the window has moved on.
        b.spend_at(Priority::Background, t + WINDOW).unwrap();
    }

    #[test]
    fn a_pause_holds_back_users_too_and_ends_by_itself() {
        let b = Budget::new(600);
        b.pause(Some(Duration::from_secs(5)));
        let wait = b.spend(Priority::User).unwrap_err();
        assert!(wait <= Duration::from_secs(5) && wait > Duration::from_secs(4));
        b.pause(Some(Duration::from_secs(1)));
        assert!(
            b.paused_for().unwrap() > Duration::from_secs(4),
            "not shortened"
        );
        let later = Instant::now() + Duration::from_secs(6);
        b.spend_at(Priority::Background, later).unwrap();
        b.pause(Some(Duration::from_secs(100_000)));
        assert!(b.paused_for().unwrap() <= MAX_PAUSE);
    }
}
