//! The in-process backend of [`super::Store`]: everything one replica needs to agree
//! with itself on. Also the fallbacks the Redis backend uses while Redis is down
//! ([`Buckets`] and [`Window`] per replica).

use moka::Expiry;
use moka::ops::compute::Op;
use moka::sync::Cache;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Bucket, Charge, Nonce, Refused, random_u64};
use crate::metrics::Metrics;

/// Most rate-limit buckets kept at once. One forgotten early is a fresh (full)
/// bucket for that key: rate limits fail open, never closed, under memory pressure.
const MAX_BUCKETS: u64 = 100_000;

/// The in-process store.
#[derive(Debug)]
pub struct Local {
    replica: u64,
    epoch: String,
    /// Spent nonces, each kept as long as a state lives. Not capped (a capped set
    /// could forget a spent state before it expires, and accept it again): every
    /// state costs at least one Powens request to issue, so the budget bounds it to
    /// `MEND_POWENS_BUDGET` × 15 minutes of states.
    nonces: Cache<Box<str>, ()>,
    slots: Mutex<HashMap<(i64, i64), u64>>,
    buckets: Buckets,
    budget: Mutex<Window>,
}

impl Local {
    /// An empty store; its epoch is random per start (so a state issued before a
    /// restart, whose spending nobody remembers, is refused).
    pub fn new(metrics: Metrics) -> Self {
        metrics.store_up(true);
        metrics.replicas(1);
        Self {
            replica: random_u64(),
            epoch: format!("{:016x}", random_u64()),
            nonces: Cache::builder()
                .time_to_live(crate::redirect_state::STATE_TTL)
                .build(),
            slots: Mutex::default(),
            buckets: Buckets::new(),
            budget: Mutex::default(),
        }
    }

    pub fn replica(&self) -> u64 {
        self.replica
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    pub fn nonce(&self, epoch: &str, nonce: &str) -> Nonce {
        if epoch != self.epoch {
            Nonce::OtherEpoch
        } else if self.nonces.contains_key(nonce) {
            Nonce::Spent
        } else {
            Nonce::Fresh
        }
    }

    pub fn spend(&self, epoch: &str, nonce: &str) -> Nonce {
        if epoch != self.epoch {
            return Nonce::OtherEpoch;
        }
        if self.nonces.entry(nonce.into()).or_insert(()).is_fresh() {
            Nonce::Fresh
        } else {
            Nonce::Spent
        }
    }

    pub fn take_slot(&self, user: i64, id: i64) -> Option<u64> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        match slots.entry((user, id)) {
            std::collections::hash_map::Entry::Occupied(_) => None,
            std::collections::hash_map::Entry::Vacant(v) => {
                let token = random_u64();
                v.insert(token);
                Some(token)
            }
        }
    }

    pub fn release_slot(&self, user: i64, id: i64, token: u64) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.get(&(user, id)) == Some(&token) {
            slots.remove(&(user, id));
        }
    }

    pub fn charge(&self, charges: &[Charge]) -> Result<(), Refused> {
        self.buckets.charge(charges)
    }

    pub fn spend_budget(&self, limit: usize, window: Duration) -> Result<(), Duration> {
        self.window().spend(limit, window, Instant::now())
    }

    pub fn pause_budget(&self, pause: Duration) {
        self.window().pause(Instant::now() + pause);
    }

    pub fn budget_paused_for(&self) -> Option<Duration> {
        self.window().paused_for(Instant::now())
    }

    pub fn budget_used(&self, window: Duration) -> usize {
        self.window().used(window, Instant::now())
    }

    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Rate-limit buckets, GCRA: each bucket is one instant, its "theoretical arrival
/// time" (TAT). A request at `now` is allowed when `TAT - now` is within the burst
/// tolerance; it moves the TAT on by one emission interval. A TAT in the past is a
/// full bucket, so an entry expires at its TAT and forgetting it loses nothing.
#[derive(Debug)]
pub struct Buckets {
    tats: Cache<Bucket, Instant>,
}

/// Entries live until their TAT: then the bucket is full again.
struct UntilFull;

impl Expiry<Bucket, Instant> for UntilFull {
    fn expire_after_create(&self, _: &Bucket, tat: &Instant, at: Instant) -> Option<Duration> {
        Some(tat.saturating_duration_since(at))
    }

    fn expire_after_update(
        &self,
        _: &Bucket,
        tat: &Instant,
        at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(tat.saturating_duration_since(at))
    }
}

/// The emission interval and burst tolerance of `per_minute` a minute, bursts up to
/// `per_minute`.
pub fn gcra(per_minute: u32) -> (Duration, Duration) {
    let per_minute = per_minute.max(1);
    let t = Duration::from_secs(60) / per_minute;
    (t, t * (per_minute - 1))
}

impl Buckets {
    /// No buckets yet.
    pub fn new() -> Self {
        Self {
            tats: Cache::builder()
                .max_capacity(MAX_BUCKETS)
                .expire_after(UntilFull)
                .build(),
        }
    }

    /// See [`super::Store::charge`].
    pub fn charge(&self, charges: &[Charge]) -> Result<(), Refused> {
        for c in charges {
            let (t, tau) = gcra(c.per_minute);
            let now = Instant::now();
            let mut refused = None;
            self.tats.entry(c.bucket).and_compute_with(|e| {
                let tat = e.map_or(now, |e| *e.value()).max(now);
                let ahead = tat - now;
                if ahead > tau {
                    refused = Some(ahead - tau);
                    Op::Nop
                } else {
                    Op::Put(tat + t)
                }
            });
            if let Some(retry_after) = refused {
                return Err(Refused {
                    bucket: c.bucket,
                    retry_after,
                });
            }
        }
        Ok(())
    }
}

/// A sliding window of send times ("no more than N in any 60 s" is what Powens
/// counts) and the whole-client pause after a 429.
#[derive(Debug, Default)]
pub struct Window {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Window {
    /// Spends one request at `now`, or says how long to wait.
    pub fn spend(&mut self, limit: usize, window: Duration, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.paused_until {
            if until > now {
                return Err(until - now);
            }
            self.paused_until = None;
        }
        while self
            .sent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= window)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= limit.max(1) {
            // The slot frees when the request `len - limit` places from the oldest
            // leaves the window.
            let limit = limit.max(1);
            let freeing = self
                .sent
                .get(self.sent.len() - limit)
                .copied()
                .unwrap_or(now);
            return Err((freeing + window)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)));
        }
        self.sent.push_back(now);
        Ok(())
    }

    /// Nothing is sent before `until` (a shorter pause never cuts a longer one).
    pub fn pause(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|u| u < until) {
            self.paused_until = Some(until);
        }
    }

    /// How long the pause still lasts.
    pub fn paused_for(&self, now: Instant) -> Option<Duration> {
        self.paused_until.filter(|&u| u > now).map(|u| u - now)
    }

    /// Requests sent in the last `window`.
    pub fn used(&self, window: Duration, now: Instant) -> usize {
        self.sent
            .iter()
            .filter(|&&t| now.duration_since(t) < window)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(b: &Buckets, bucket: Bucket, per_minute: u32) -> Result<(), Refused> {
        b.charge(&[Charge { bucket, per_minute }])
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let b = Buckets::new();
        let ip = Bucket::Anonymous("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            charge(&b, ip, 3).unwrap();
        }
        let refused = charge(&b, ip, 3).unwrap_err();
        assert_eq!(refused.bucket, ip);
        assert!(
            refused.retry_after > Duration::from_secs(15)
                && refused.retry_after <= Duration::from_secs(20),
            "{refused:?}"
        );
        let other = Bucket::Anonymous("192.0.2.2".parse().unwrap());
        assert!(charge(&b, other, 3).is_ok(), "other keys are not affected");
        // The same address with a session is another bucket.
        assert!(charge(&b, Bucket::Address("192.0.2.1".parse().unwrap()), 3).is_ok());
    }

    #[test]
    fn charges_stop_at_the_first_empty_bucket() {
        let b = Buckets::new();
        let ip = Bucket::Address("192.0.2.1".parse().unwrap());
        let user = Bucket::User(7);
        let both = [
            Charge {
                bucket: ip,
                per_minute: 100,
            },
            Charge {
                bucket: user,
                per_minute: 1,
            },
        ];
        b.charge(&both).unwrap();
        assert_eq!(b.charge(&both).unwrap_err().bucket, user);
    }

    #[test]
    fn the_window_counts_a_minute_and_a_pause_holds_everything() {
        let mut w = Window::default();
        let t = Instant::now();
        let minute = Duration::from_secs(60);
        for _ in 0..8 {
            w.spend(8, minute, t).unwrap();
        }
        assert_eq!(w.spend(8, minute, t).unwrap_err(), minute);
        assert_eq!(w.used(minute, t), 8);
        w.spend(8, minute, t + minute).unwrap();
        w.pause(t + minute + Duration::from_secs(5));
        w.pause(t + minute + Duration::from_secs(1));
        assert_eq!(
            w.spend(100, minute, t + minute).unwrap_err(),
            Duration::from_secs(5),
            "a shorter pause does not cut a longer one"
        );
    }

    #[test]
    fn a_nonce_is_spent_once_and_only_in_its_epoch() {
        let l = Local::new(Metrics::default());
        let epoch = l.epoch().to_owned();
        assert_eq!(l.nonce(&epoch, "n1"), Nonce::Fresh);
        assert_eq!(l.spend(&epoch, "n1"), Nonce::Fresh);
        assert_eq!(l.spend(&epoch, "n1"), Nonce::Spent);
        assert_eq!(l.nonce(&epoch, "n1"), Nonce::Spent);
        assert_eq!(l.spend("another", "n2"), Nonce::OtherEpoch);
        assert_ne!(Local::new(Metrics::default()).epoch(), epoch);
    }

    #[test]
    fn a_slot_is_held_until_its_holder_gives_it_back() {
        let l = Local::new(Metrics::default());
        let token = l.take_slot(1, 104).unwrap();
        assert_eq!(l.take_slot(1, 104), None);
        assert!(l.take_slot(1, 105).is_some());
        l.release_slot(1, 104, token ^ 1);
        assert_eq!(l.take_slot(1, 104), None, "only its holder releases it");
        l.release_slot(1, 104, token);
        assert!(l.take_slot(1, 104).is_some());
    }
}
