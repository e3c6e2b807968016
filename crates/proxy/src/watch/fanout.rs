//! The watchers' side of the cluster fan-out: what this replica records is sent to
//! the others as [`Event`]s, and what they send is recorded here exactly as if it
//! had been seen here (so it reaches this replica's waiters and the short memory of
//! its plain reads). After a gap in the events (Redis was unreachable, or this
//! replica fell behind), every poller takes a turn at once: whichever replica holds
//! a connection's lease reads it again, and everyone catches up.
//!
//! Stamps cross processes as wall-clock milliseconds; replicas' clocks are assumed
//! to agree within a few milliseconds (NTP), which only matters to decide which of
//! two statuses produced within that margin is the newer.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast::error::RecvError;

use super::{Origin, Stamped, Watchers};
use crate::error::ApiError;
use crate::store::Event;
use crate::upstream::UpstreamError;

fn wall_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An instant of this process as wall-clock milliseconds.
fn to_wall(at: Instant) -> u64 {
    wall_ms_now().saturating_sub(u64::try_from(at.elapsed().as_millis()).unwrap_or(0))
}

/// Wall-clock milliseconds as an instant of this process (never in the future).
fn from_wall(ms: u64) -> Instant {
    let ago = Duration::from_millis(wall_ms_now().saturating_sub(ms));
    let now = Instant::now();
    now.checked_sub(ago).unwrap_or(now)
}

/// The error another replica's read answered, by its code: the same code and the
/// same fixed message for the waiters here.
fn error_of(code: &str, retry_after: Option<Duration>) -> ApiError {
    match code {
        "not_found" => ApiError::NotFound,
        "upstream_timeout" => ApiError::Upstream(UpstreamError::Timeout),
        "upstream_error" => ApiError::Upstream(UpstreamError::Malformed(
            "reported by another replica".into(),
        )),
        _ => match retry_after {
            Some(retry_after) => ApiError::Upstream(UpstreamError::HeldBack { retry_after }),
            None => ApiError::Upstream(UpstreamError::Unreachable(
                "reported by another replica".into(),
            )),
        },
    }
}

impl Watchers {
    /// Tells the other replicas what was recorded here.
    pub(super) fn broadcast_result(&self, user: i64, id: i64, stamped: &Stamped, announced: bool) {
        let store = &self.inner.store;
        if !store.is_shared() {
            return;
        }
        let at_ms = to_wall(stamped.at);
        let event = match &stamped.result {
            Ok(status) => Event::Status {
                user,
                connection: id,
                at_ms,
                announced,
                status: Box::new(status.clone()),
            },
            Err(e) => Event::Failed {
                user,
                connection: id,
                at_ms,
                code: e.code().as_str().to_owned(),
                retry_after_ms: match e {
                    ApiError::Upstream(u) => u
                        .retry_after()
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    _ => None,
                },
            },
        };
        store.broadcast(&event);
    }

    /// Starts applying the other replicas' events (with a shared store).
    pub(super) fn listen(&self) {
        let Some((mut events, mut gaps)) = self.inner.store.events() else {
            return;
        };
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let gap = tokio::select! {
                    event = events.recv() => match event {
                        Ok(event) => {
                            let Some(inner) = weak.upgrade() else { return };
                            Watchers { inner }.apply(&event);
                            false
                        }
                        Err(RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "fell behind the cluster's events");
                            true
                        }
                        Err(RecvError::Closed) => return,
                    },
                    changed = gaps.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        true
                    }
                };
                if gap {
                    let Some(inner) = weak.upgrade() else { return };
                    inner.resync.send_modify(|n| *n += 1);
                }
            }
        });
    }

    /// Records another replica's event here.
    fn apply(&self, event: &Event) {
        match event {
            Event::Status {
                user,
                connection,
                at_ms,
                announced,
                status,
            } => {
                if *announced {
                    self.inner
                        .gone
                        .invalidate(&super::Gone::Connection(*connection));
                }
                self.record(
                    *user,
                    *connection,
                    Stamped {
                        at: from_wall(*at_ms),
                        result: Ok(mend_model::api::ConnectionStatus::clone(status)),
                    },
                    Origin::Elsewhere,
                );
            }
            Event::Failed {
                user,
                connection,
                at_ms,
                code,
                retry_after_ms,
            } => self.record(
                *user,
                *connection,
                Stamped {
                    at: from_wall(*at_ms),
                    result: Err(error_of(code, retry_after_ms.map(Duration::from_millis))),
                },
                Origin::Elsewhere,
            ),
            Event::Stale { user, connection } => self.make_stale((*user, *connection)),
            Event::Resumed { user, connection } => {
                self.inner.resumed.insert((*user, *connection), ());
            }
            Event::Gone { user, connection } => self.mark_gone(*user, *connection),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_survive_the_trip_through_wall_clock_time() {
        let at = Instant::now() - Duration::from_millis(1500);
        let back = from_wall(to_wall(at));
        let drift = if back > at { back - at } else { at - back };
        assert!(drift < Duration::from_millis(5), "{drift:?}");
        // A stamp from a clock slightly ahead is read as now, never the future.
        assert!(from_wall(wall_ms_now() + 10_000) <= Instant::now());
    }

    #[test]
    fn another_replicas_errors_answer_the_same_codes() {
        for code in [
            "not_found",
            "upstream_timeout",
            "upstream_error",
            "upstream_unavailable",
        ] {
            assert_eq!(error_of(code, None).code().as_str(), code);
        }
        let held = error_of("upstream_unavailable", Some(Duration::from_secs(3)));
        assert!(matches!(
            held,
            ApiError::Upstream(UpstreamError::HeldBack { retry_after }) if retry_after == Duration::from_secs(3)
        ));
    }
}
