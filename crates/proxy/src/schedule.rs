//! When a watched connection is next asked about, from what is known of it: the
//! fair-use rules of docs/api.md ("Fair use") in one pure function, so that the
//! pollers ([`crate::watch`]) only sleep and read.
//!
//! - `validating`, and a `decoupled` resumed in the background: every poll interval
//!   (the user is waiting for it).
//! - `rateLimiting`, `websiteUnavailable`, `bug`: Powens retries by itself, so no
//!   sooner than its `next_try`, and at most once a minute.
//! - States where the user must act (`SCARequired`, `wrongpass`, ...): every poll
//!   interval (they change when the user comes back from the bank).
//! - A fine connection, an unresumed `decoupled`, `notSupported` and unknown states:
//!   once a minute (nothing is expected to change by itself).
//! - With webhooks on, Powens announces each change: every state once a minute at
//!   most, as a fallback (and still no sooner than `next_try`).
//! - A failed read: again after the poll interval (the client's budget and retries
//!   bound what that costs).

use mend_model::ConnectionState as S;
use mend_model::api::ConnectionStatus;
use std::time::Duration;

/// The slowest pace: once a minute.
pub const FALLBACK: Duration = Duration::from_secs(60);

/// The pace of the pollers.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// `MEND_POLL_INTERVAL`.
    pub interval: Duration,
    /// Whether Powens' webhooks are on (`POWENS_WEBHOOK_SECRET`).
    pub webhooks: bool,
}

impl Schedule {
    /// How long after the read that produced `status` the connection is next read.
    /// `resumed`: a background resume of it is pending.
    pub fn delay(&self, status: Option<&ConnectionStatus>, resumed: bool) -> Duration {
        let Some(status) = status else {
            return self.interval;
        };
        let transient = matches!(
            status.state,
            Some(S::RateLimiting | S::WebsiteUnavailable | S::Bug)
        );
        let pace = match &status.state {
            _ if self.webhooks || transient => FALLBACK,
            Some(S::Validating) => self.interval,
            Some(S::Decoupled) if resumed => self.interval,
            None | Some(S::Decoupled | S::NotSupported | S::Unknown(_)) => FALLBACK,
            Some(_) => self.interval,
        };
        if transient {
            pace.max(until_next_try(status).unwrap_or_default())
        } else {
            pace
        }
    }
}

/// How far `next_try` is from when the status was produced (`server_time`).
fn until_next_try(status: &ConnectionStatus) -> Option<Duration> {
    let next: jiff::Timestamp = status.next_try.as_deref()?.parse().ok()?;
    let now: jiff::Timestamp = status.server_time.as_deref()?.parse().ok()?;
    let secs = next.as_second() - now.as_second();
    u64::try_from(secs).ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: Option<S>, next_try_in: Option<i64>) -> ConnectionStatus {
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        ConnectionStatus {
            id: 1,
            state,
            message: None,
            fields: vec![],
            last_update: None,
            next_try: next_try_in.map(|s| (now + jiff::SignedDuration::from_secs(s)).to_string()),
            expire: None,
            connector: None,
            sources: vec![],
            actions: vec![],
            server_time: Some(now.to_string()),
            access_expire: None,
            renew: false,
        }
    }

    const POLLING: Schedule = Schedule {
        interval: Duration::from_secs(2),
        webhooks: false,
    };
    const HOOKED: Schedule = Schedule {
        interval: Duration::from_secs(2),
        webhooks: true,
    };

    #[test]
    fn what_the_user_waits_for_is_polled_at_the_interval() {
        let two = Duration::from_secs(2);
        assert_eq!(
            POLLING.delay(Some(&status(Some(S::Validating), None)), false),
            two
        );
        assert_eq!(
            POLLING.delay(Some(&status(Some(S::Decoupled), None)), true),
            two
        );
        assert_eq!(
            POLLING.delay(Some(&status(Some(S::ScaRequired), None)), false),
            two
        );
        assert_eq!(POLLING.delay(None, false), two, "after a failed read");
        assert_eq!(
            POLLING.delay(Some(&status(Some(S::Decoupled), None)), false),
            FALLBACK
        );
        assert_eq!(
            POLLING.delay(Some(&status(None, Some(86_400))), false),
            FALLBACK
        );
    }

    #[test]
    fn powens_retries_are_awaited_and_never_polled_more_than_once_a_minute() {
        for s in [S::RateLimiting, S::WebsiteUnavailable, S::Bug] {
            let hour = Duration::from_secs(3600);
            assert_eq!(
                POLLING.delay(Some(&status(Some(s.clone()), Some(3600))), false),
                hour
            );
            assert_eq!(
                POLLING.delay(Some(&status(Some(s.clone()), Some(5))), false),
                FALLBACK
            );
            assert_eq!(
                POLLING.delay(Some(&status(Some(s.clone()), Some(-30))), false),
                FALLBACK
            );
            assert_eq!(
                POLLING.delay(Some(&status(Some(s.clone()), None)), false),
                FALLBACK
            );
            assert_eq!(
                HOOKED.delay(Some(&status(Some(s), Some(3600))), false),
                hour
            );
        }
    }

    #[test]
    fn with_webhooks_every_state_is_a_once_a_minute_fallback() {
        for s in [
            Some(S::Validating),
            Some(S::ScaRequired),
            None,
            Some(S::Decoupled),
        ] {
            assert_eq!(HOOKED.delay(Some(&status(s, None)), true), FALLBACK);
        }
    }
}
