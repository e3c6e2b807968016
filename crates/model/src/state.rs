//! Powens connection states (`Connection.state`, and its deprecated twin `error`).
//!
//! `null` on the wire means the last synchronisation succeeded; it is modelled as
//! `Option::<ConnectionState>::None`. Every other documented value has a variant;
//! any string Powens may add later is kept verbatim in [`ConnectionState::Unknown`]
//! and handled as a neutral, non-recoverable state (never an error, never a crash).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A non-null Powens connection state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectionState {
    /// `SCARequired`: the bank needs the user to confirm access (strong customer authentication).
    ScaRequired,
    /// `webauthRequired`: the user must authenticate in the bank's own web page (redirect).
    WebauthRequired,
    /// `additionalInformationNeeded`: the bank asks for more input (e.g. an OTP); `fields` says what.
    AdditionalInformationNeeded,
    /// `decoupled`: the user must approve on another device (usually the bank app).
    Decoupled,
    /// `validating`: transient, Powens is checking with the bank.
    Validating,
    /// `actionNeeded`: the user must act on the bank's site or app (new terms, ...).
    ActionNeeded,
    /// `passwordExpired`: the password must be renewed at the bank.
    PasswordExpired,
    /// `wrongpass`: the stored credentials are rejected (the spelling `wrongPass` is accepted too).
    Wrongpass,
    /// `rateLimiting`: the bank throttles synchronisations; Powens retries by itself.
    RateLimiting,
    /// `websiteUnavailable`: the bank's site or API is down; Powens retries by itself.
    WebsiteUnavailable,
    /// `bug`: an error on Powens' side; resumed automatically once fixed.
    Bug,
    /// `notSupported`: the source is not supported on the connector.
    NotSupported,
    /// Any other value, kept as it came.
    Unknown(String),
}

/// How a state is to be handled, the way `docs/widget.md` ("States and panels") groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// The user must act for synchronisation to resume (show prominently).
    UserAction,
    /// Powens is working on it (`validating`): show progress, keep watching.
    InProgress,
    /// Powens retries by itself (`rateLimiting`, `websiteUnavailable`, `bug`): calm notice.
    Transient,
    /// Nothing can be done (`notSupported`, unknown states): neutral notice.
    Unsupported,
}

impl ConnectionState {
    /// Every documented non-null state, in the order of Powens' documentation.
    pub const DOCUMENTED: [ConnectionState; 12] = [
        ConnectionState::ScaRequired,
        ConnectionState::WebauthRequired,
        ConnectionState::AdditionalInformationNeeded,
        ConnectionState::Decoupled,
        ConnectionState::Validating,
        ConnectionState::ActionNeeded,
        ConnectionState::PasswordExpired,
        ConnectionState::Wrongpass,
        ConnectionState::RateLimiting,
        ConnectionState::WebsiteUnavailable,
        ConnectionState::Bug,
        ConnectionState::NotSupported,
    ];

    /// Parses Powens' string. Never fails: unknown strings become [`ConnectionState::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "SCARequired" => Self::ScaRequired,
            "webauthRequired" => Self::WebauthRequired,
            "additionalInformationNeeded" => Self::AdditionalInformationNeeded,
            "decoupled" => Self::Decoupled,
            "validating" => Self::Validating,
            "actionNeeded" => Self::ActionNeeded,
            "passwordExpired" => Self::PasswordExpired,
            // DOC-CONN spells it `wrongPass`; the spec, legacy docs and clients use `wrongpass`.
            "wrongpass" | "wrongPass" => Self::Wrongpass,
            "rateLimiting" => Self::RateLimiting,
            "websiteUnavailable" => Self::WebsiteUnavailable,
            "bug" => Self::Bug,
            "notSupported" => Self::NotSupported,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// Powens' string for this state (the documented spelling).
    pub fn as_str(&self) -> &str {
        match self {
            Self::ScaRequired => "SCARequired",
            Self::WebauthRequired => "webauthRequired",
            Self::AdditionalInformationNeeded => "additionalInformationNeeded",
            Self::Decoupled => "decoupled",
            Self::Validating => "validating",
            Self::ActionNeeded => "actionNeeded",
            Self::PasswordExpired => "passwordExpired",
            Self::Wrongpass => "wrongpass",
            Self::RateLimiting => "rateLimiting",
            Self::WebsiteUnavailable => "websiteUnavailable",
            Self::Bug => "bug",
            Self::NotSupported => "notSupported",
            Self::Unknown(s) => s,
        }
    }

    /// How this state is handled (`docs/widget.md`, "States and panels").
    pub fn kind(&self) -> StateKind {
        match self {
            Self::ScaRequired
            | Self::WebauthRequired
            | Self::AdditionalInformationNeeded
            | Self::Decoupled
            | Self::ActionNeeded
            | Self::PasswordExpired
            | Self::Wrongpass => StateKind::UserAction,
            Self::Validating => StateKind::InProgress,
            Self::RateLimiting | Self::WebsiteUnavailable | Self::Bug => StateKind::Transient,
            Self::NotSupported | Self::Unknown(_) => StateKind::Unsupported,
        }
    }

    /// True for states that change without the user (`validating`, and the ones Powens
    /// retries by itself): worth watching.
    pub fn is_changing(&self) -> bool {
        matches!(self.kind(), StateKind::InProgress | StateKind::Transient)
            || *self == Self::Decoupled
    }

    /// The value of the widget's `data-state` attribute for an optional state:
    /// `ok` for `null`, otherwise Powens' string.
    pub fn data_state(state: Option<&ConnectionState>) -> &str {
        state.map_or("ok", ConnectionState::as_str)
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ConnectionState {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl Serialize for ConnectionState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConnectionState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ConnectionState;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Powens connection state string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ConnectionState, E> {
                Ok(ConnectionState::parse(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Deserialises an optional state leniently: `null`, absent, an empty string and any
/// non-string value (a number, an object) all read as `None` rather than failing the
/// whole connection. Unknown strings are kept.
pub(crate) fn lenient_state<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ConnectionState>, D::Error> {
    let v = Option::<crate::loose::Loose>::deserialize(d)?;
    Ok(match v {
        Some(crate::loose::Loose::Str(s)) if !s.is_empty() => Some(ConnectionState::parse(&s)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_state_round_trips_through_its_string() {
        for s in ConnectionState::DOCUMENTED {
            assert_eq!(ConnectionState::parse(s.as_str()), s);
            assert!(!matches!(s, ConnectionState::Unknown(_)));
        }
    }

    #[test]
    fn unknown_states_are_kept_verbatim() {
        let s = ConnectionState::parse("quantumEntangled");
        assert_eq!(s, ConnectionState::Unknown("quantumEntangled".into()));
        assert_eq!(s.as_str(), "quantumEntangled");
        assert_eq!(s.kind(), StateKind::Unsupported);
    }

    #[test]
    fn the_wrong_pass_spelling_of_the_docs_is_accepted() {
        assert_eq!(
            ConnectionState::parse("wrongPass"),
            ConnectionState::Wrongpass
        );
        assert_eq!(ConnectionState::Wrongpass.as_str(), "wrongpass");
    }

    #[test]
    fn data_state_is_ok_for_null() {
        assert_eq!(ConnectionState::data_state(None), "ok");
        assert_eq!(
            ConnectionState::data_state(Some(&ConnectionState::Decoupled)),
            "decoupled"
        );
    }
}
