//! Scenario knobs: the answers of the real Powens that a well-behaved simulator
//! would never give, on request, per connection. The demo data set gives some
//! connections a scenario (117–126); `PUT /_sandbox/connections/{id}/scenario`
//! sets one on any connection (docs/sandbox.md, "Scenarios").
//!
//! Applied by the `/2.0` API ([`crate::api`]) around what the connection's script
//! does: a refusal instead of the action, a delay before it, another shape of the
//! error body or of the connection's JSON, a read that lags behind a repair.

use mend_model::ConnectionState;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a connection does beyond its script. Every key may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// A sync (`PUT`, or `POST` with an empty body) answers `409` "Can't force
    /// synchronization of connection N" and changes nothing.
    pub refuse_sync: bool,
    /// A submission, resume or sync answers `400` with this refusal.
    pub refuse: Option<Refusal>,
    /// A submission, resume or sync waits this long (milliseconds, at most 10
    /// minutes) before it is carried out: a slow bank.
    pub slow_ms: u64,
    /// Errors about this connection are written in the legacy shape
    /// `{"error": "<code>", "message": "..."}`.
    pub legacy_errors: bool,
    /// The connection's JSON carries `null` where strings and flags are expected
    /// (fields' `label`, `required`, `regex`, list values' `label`, `active`,
    /// the connector's `uuid`).
    pub nulls: bool,
    /// After a repair by the webview, the bank page or the bank app, reads show the
    /// old state for this long (milliseconds), then `validating` as long, then the
    /// outcome.
    pub lag_ms: u64,
    /// The next read of this connection finds the caller's token revoked: `403`
    /// `{"error": "Invalid token"}` (legacy Powens), and the token stays refused.
    pub revoke_token_once: bool,
}

/// A `400` refusal of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// Which actions are refused: `submit`, `resume`, `sync` (default all three).
    #[serde(default = "all_actions")]
    pub on: Vec<String>,
    /// Powens' `code` (`wrongpass`, `websiteUnavailable`, `actionNeeded`, `bug`,
    /// `bankMessage`, ...).
    pub code: String,
    /// Powens' displayable `message` (the bank's words).
    #[serde(default)]
    pub message: Option<String>,
    /// The state the connection holds afterwards; `None` keeps it. `wrongpass` asks
    /// for `login` and `password` (the right ones repair it), `rateLimiting`,
    /// `websiteUnavailable` and `bug` retry by themselves 30 minutes later.
    #[serde(default)]
    pub state: Option<ConnectionState>,
    /// Whether the refusal happens only once (then the action works).
    #[serde(default)]
    pub once: bool,
}

fn all_actions() -> Vec<String> {
    vec!["submit".into(), "resume".into(), "sync".into()]
}

impl Refusal {
    /// Whether it applies to `action` (`submit`, `resume`, `sync`).
    pub fn applies_to(&self, action: &str) -> bool {
        self.on.iter().any(|a| a == action)
    }
}

/// Longest `slow_ms` honoured.
pub const MAX_SLOW_MS: u64 = 600_000;

/// The connection's JSON with `null`s where Powens documents strings and flags.
pub(crate) fn with_nulls(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("active".into(), Value::Null);
        o.insert("error_message".into(), Value::Null);
        if let Some(c) = o.get_mut("connector").and_then(Value::as_object_mut) {
            c.insert("uuid".into(), Value::Null);
        }
        for f in o
            .get_mut("fields")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(f) = f.as_object_mut() else { continue };
            for key in ["label", "required", "regex", "description"] {
                f.insert(key.into(), Value::Null);
            }
            for choice in f
                .get_mut("values")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(c) = choice.as_object_mut() {
                    c.insert("label".into(), Value::Null);
                }
            }
        }
    }
    v
}
