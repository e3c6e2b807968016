//! The sandbox's clock (the system's, or stopped by a test or a demo) and random
//! tokens.

use mend_model::PowensDateTime;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The stopped clock's time (ms since the epoch), `i64::MIN` when the clock runs.
static STOPPED_AT_MS: AtomicI64 = AtomicI64::new(i64::MIN);

/// Milliseconds since the Unix epoch: the system clock, unless it is stopped
/// ([`stop_clock`]).
pub(crate) fn now_ms() -> i64 {
    match STOPPED_AT_MS.load(Ordering::Relaxed) {
        i64::MIN => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        stopped => stopped,
    }
}

/// Stops the sandbox clock at `at_ms` (`Some`), or lets it run again (`None`).
/// Process-wide: one clock for every sandbox of the process (see `crate::stop_clock`).
pub(crate) fn stop_clock(at_ms: Option<i64>) {
    STOPPED_AT_MS.store(at_ms.unwrap_or(i64::MIN), Ordering::Relaxed);
}

/// Where the clock is stopped, if it is.
pub(crate) fn stopped_at() -> Option<i64> {
    Some(STOPPED_AT_MS.load(Ordering::Relaxed)).filter(|&t| t != i64::MIN)
}

/// Now in RFC 3339 UTC, to the second (`2026-12-01T10:00:00Z`).
pub(crate) fn rfc3339_now() -> String {
    PowensDateTime::from_unix_utc(now_ms().div_euclid(1000)).to_rfc3339_utc()
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// A random, URL-safe token (128 bits, hex).
pub(crate) fn random_token() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}
