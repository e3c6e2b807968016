//! What one replica tells the others (Redis pub/sub, one channel, JSON): a status it
//! read or an action produced, a read that failed, a connection an action is
//! changing, a background resume, a deletion. Each replica applies them to its own
//! memory and hands them to its own waiters, exactly as if it had seen them itself.

use mend_model::api::ConnectionStatus;
use serde::{Deserialize, Serialize};

/// One fan-out event. Times are wall-clock milliseconds since the Unix epoch (an
/// `Instant` means nothing in another process).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The connection's status, read or produced by a request that started at `at_ms`.
    Status {
        /// Session user.
        user: i64,
        /// Connection.
        connection: i64,
        /// When the request that produced it started.
        at_ms: u64,
        /// Announced by a Powens webhook (it also clears a deletion).
        #[serde(default)]
        announced: bool,
        /// The status.
        status: Box<ConnectionStatus>,
    },
    /// Reading the connection failed with error `code` (`not_found`,
    /// `upstream_timeout`, ...): its waiters answer that error.
    Failed {
        /// Session user.
        user: i64,
        /// Connection.
        connection: i64,
        /// When the read started.
        at_ms: u64,
        /// The error code of docs/api.md.
        code: String,
        /// `Retry-After`, when the error has one.
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    /// An action started on the connection: what is remembered of it is no longer
    /// fresh enough to answer plain reads.
    Stale {
        /// Session user.
        user: i64,
        /// Connection.
        connection: i64,
    },
    /// The connection was resumed in the background: it is polled at the interval
    /// until its approval ends.
    Resumed {
        /// Session user.
        user: i64,
        /// Connection.
        connection: i64,
    },
    /// Powens deleted a connection (`connection`), or a whole user (`connection`
    /// `None`), as a webhook announced.
    Gone {
        /// The user, when known.
        user: Option<i64>,
        /// The connection, or `None` for all of the user's.
        connection: Option<i64>,
    },
}

impl Event {
    /// Its name in metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Status { .. } => "status",
            Self::Failed { .. } => "failed",
            Self::Stale { .. } => "stale",
            Self::Resumed { .. } => "resumed",
            Self::Gone { .. } => "gone",
        }
    }
}

/// An event on the wire, with the replica that sent it (so it skips its own).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Envelope<E> {
    /// The sending replica.
    pub from: u64,
    /// The event.
    pub event: E,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_as_they_were_written() {
        let status: ConnectionStatus = serde_json::from_value(serde_json::json!({
            "id": 104, "state": "validating", "message": null, "fields": [],
            "last_update": null, "next_try": null, "expire": null, "connector": "Banque",
            "sources": [], "actions": [], "server_time": "2026-12-01T10:00:00Z",
            "access_expire": null, "renew": false
        }))
        .unwrap();
        for event in [
            Event::Status {
                user: 1,
                connection: 104,
                at_ms: 1_800_000_000_000,
                announced: false,
                status: Box::new(status),
            },
            Event::Failed {
                user: 1,
                connection: 104,
                at_ms: 5,
                code: "upstream_timeout".into(),
                retry_after_ms: Some(2000),
            },
            Event::Stale {
                user: 1,
                connection: 104,
            },
            Event::Gone {
                user: Some(1),
                connection: None,
            },
        ] {
            let wire = serde_json::to_vec(&Envelope {
                from: 9,
                event: &event,
            })
            .unwrap();
            let back: Envelope<Event> = serde_json::from_slice(&wire).unwrap();
            assert_eq!(back.from, 9);
            assert_eq!(back.event, event);
        }
    }
}
