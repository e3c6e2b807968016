//! The wire types of the proxy's own HTTP API, `/api/v1` (documented for integrators in
//! `docs/api.md`). The widget reads exactly these; the proxy writes exactly these.
//!
//! Dates here are RFC 3339 strings in UTC (`2026-11-25T09:34:00Z`): the proxy converts
//! Powens' naive Europe/Paris times so a browser can use them directly.

use crate::powens::ConnectorField;
use crate::state::{ConnectionState, StateKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /api/v1/connections/{id}`: what the widget shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    /// The connection id.
    pub id: i64,
    /// Powens' state string, `null` when fine. Unknown states are passed as they come.
    pub state: Option<ConnectionState>,
    /// The bank's message (`error_message`), to be shown as text.
    #[serde(default)]
    pub message: Option<String>,
    /// The fields to prompt for; empty unless `actions` contains `submit`.
    #[serde(default)]
    pub fields: Vec<ConnectorField>,
    /// Last successful synchronisation (RFC 3339 UTC).
    #[serde(default)]
    pub last_update: Option<String>,
    /// Next automatic try (RFC 3339 UTC).
    #[serde(default)]
    pub next_try: Option<String>,
    /// Deadline of a pending SCA / decoupled approval (RFC 3339 UTC).
    #[serde(default)]
    pub expire: Option<String>,
    /// The bank's display name.
    #[serde(default)]
    pub connector: Option<String>,
    /// Sources of a multi-source connection (empty for single-source ones).
    #[serde(default)]
    pub sources: Vec<SourceStatus>,
    /// What the user can do now, in order of preference. Computed by [`actions_for`].
    #[serde(default)]
    pub actions: Vec<Action>,
    /// The proxy's clock when this was produced (RFC 3339 UTC), so a widget can count
    /// down to `expire` without trusting the user's clock.
    #[serde(default)]
    pub server_time: Option<String>,
}

/// One source's state, in a [`ConnectionStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// Source name (`openapi`, `directaccess`, ...).
    pub name: String,
    /// Its own state (`null` when fine).
    pub state: Option<ConnectionState>,
    /// Its last successful synchronisation (RFC 3339 UTC).
    #[serde(default)]
    pub last_update: Option<String>,
}

/// A user action, as in the widget's `data-action` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send the form built from `fields` (`POST …/fields`).
    Submit,
    /// Resume a decoupled validation in the background (`POST …/resume`).
    Resume,
    /// Go through Powens' Reconnect webview (`POST …/reconnect-url`).
    Reconnect,
    /// Go to the bank's web authentication (`POST …/webauth-url`).
    Webauth,
    /// Synchronise now, user present (`POST …/sync`).
    Sync,
    /// Widget-only: try again after a failure.
    Retry,
    /// Widget-only: close a notice.
    Dismiss,
}

impl Action {
    /// The `data-action` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Resume => "resume",
            Self::Reconnect => "reconnect",
            Self::Webauth => "webauth",
            Self::Sync => "sync",
            Self::Retry => "retry",
            Self::Dismiss => "dismiss",
        }
    }
}

/// What the user can do in `state`, per `shared/CONTRACT.md` §7. `credentials_allowed`
/// is the proxy's `MEND_AGENT_STATUS`; `has_fields` whether Powens sent `fields`.
pub fn actions_for(
    state: Option<&ConnectionState>,
    credentials_allowed: bool,
    has_fields: bool,
) -> Vec<Action> {
    use ConnectionState as S;
    let Some(state) = state else {
        return vec![Action::Sync];
    };
    match state {
        S::ScaRequired => vec![Action::Reconnect, Action::Sync],
        S::WebauthRequired => vec![Action::Webauth, Action::Reconnect],
        S::AdditionalInformationNeeded if has_fields => vec![Action::Submit],
        S::AdditionalInformationNeeded => vec![Action::Reconnect],
        S::Decoupled => vec![Action::Resume],
        S::ActionNeeded => vec![Action::Sync],
        S::PasswordExpired | S::Wrongpass if credentials_allowed && has_fields => {
            vec![Action::Submit, Action::Reconnect]
        }
        S::PasswordExpired | S::Wrongpass => vec![Action::Reconnect],
        S::Validating | S::RateLimiting | S::WebsiteUnavailable | S::Bug => vec![],
        S::NotSupported | S::Unknown(_) => vec![],
    }
}

impl ConnectionStatus {
    /// How the state is handled; `None` when the connection is fine.
    pub fn kind(&self) -> Option<StateKind> {
        self.state.as_ref().map(ConnectionState::kind)
    }

    /// Whether `action` is offered now.
    pub fn can(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

/// `POST /api/v1/connections/{id}/fields` body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FieldsSubmission {
    /// Field name → value. Names must be among the connection's current `fields`.
    pub values: BTreeMap<String, String>,
}

/// `POST …/reconnect-url` and `POST …/webauth-url` body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RedirectRequest {
    /// Where the user comes back to; must be in `MEND_REDIRECT_URIS` exactly.
    pub redirect_uri: String,
    /// Webview language (`en`, `fr`, `de`, `es`, `it`, `nl`, `pt`); default `en`.
    #[serde(default)]
    pub lang: Option<String>,
}

/// Which redirect flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectKind {
    /// Powens' Reconnect webview.
    Reconnect,
    /// The bank's web authentication.
    Webauth,
}

/// Answer of `POST …/reconnect-url` and `POST …/webauth-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectUrl {
    /// Which flow this is.
    pub kind: RedirectKind,
    /// Where to send the top window.
    pub url: String,
}

/// `POST /api/v1/callback` body: the query parameters found on the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallbackRequest {
    /// The signed state the proxy put on the redirect (required).
    #[serde(default)]
    pub state: Option<String>,
    /// Error code from the webview or the bank (`access_denied`, ...).
    #[serde(default)]
    pub error: Option<String>,
    /// Error text that came with it (never shown verbatim).
    #[serde(default)]
    pub error_description: Option<String>,
    /// Webauth success parameter.
    #[serde(default)]
    pub id_connection: Option<String>,
    /// Some webview versions send this.
    #[serde(default)]
    pub connection_id: Option<String>,
}

/// How a redirect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// The flow finished; `status` tells the connection's new state.
    Completed,
    /// The user cancelled (`access_denied`).
    Cancelled,
    /// The flow failed (any other error code).
    Failed,
}

/// Answer of `POST /api/v1/callback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackResult {
    /// The connection the redirect was for (from the signed state).
    pub connection_id: i64,
    /// Which flow it was.
    pub kind: RedirectKind,
    /// How it ended.
    pub outcome: CallbackOutcome,
    /// The flow's error code when it did not complete (`access_denied`, `server_error`, ...).
    #[serde(default)]
    pub error: Option<String>,
    /// The connection's status now.
    pub status: ConnectionStatus,
}

/// Stable error codes of the proxy (the `code` of [`ErrorBody`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: malformed request (bad JSON, bad query).
    BadRequest,
    /// 401: no session, a bad signature, a wrong algorithm, no `exp`.
    Unauthorized,
    /// 401: the session's `exp` has passed.
    SessionExpired,
    /// 403: collecting credentials needs Powens Agent status (`MEND_AGENT_STATUS`).
    AgentStatusRequired,
    /// 404: no such connection for this session (or not this session's).
    NotFound,
    /// 409: the action does not apply in the connection's current state.
    Conflict,
    /// 413: body too large.
    PayloadTooLarge,
    /// 422: field values refused (see [`ErrorDetail::fields`]); nothing reached Powens.
    InvalidFields,
    /// 422: the bank refused the submitted credentials or code (Powens `wrongpass`).
    CredentialsRejected,
    /// 422: the redirect URI is not allow-listed.
    RedirectNotAllowed,
    /// 422: the callback's `state` is forged, expired, replayed or another user's.
    InvalidState,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 500: the proxy failed.
    Internal,
    /// 502: Powens answered with an error or garbage.
    UpstreamError,
    /// 503: Powens is unreachable or in maintenance.
    UpstreamUnavailable,
    /// 504: Powens took too long.
    UpstreamTimeout,
    /// A code this build does not know (forward compatibility).
    Other(String),
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::SessionExpired => "session_expired",
            Self::AgentStatusRequired => "agent_status_required",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidFields => "invalid_fields",
            Self::CredentialsRejected => "credentials_rejected",
            Self::RedirectNotAllowed => "redirect_not_allowed",
            Self::InvalidState => "invalid_state",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::UpstreamError => "upstream_error",
            Self::UpstreamUnavailable => "upstream_unavailable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::Other(s) => s,
        }
    }

    /// Parses a wire string; never fails.
    pub fn parse(s: &str) -> Self {
        match s {
            "bad_request" => Self::BadRequest,
            "unauthorized" => Self::Unauthorized,
            "session_expired" => Self::SessionExpired,
            "agent_status_required" => Self::AgentStatusRequired,
            "not_found" => Self::NotFound,
            "conflict" => Self::Conflict,
            "payload_too_large" => Self::PayloadTooLarge,
            "invalid_fields" => Self::InvalidFields,
            "credentials_rejected" => Self::CredentialsRejected,
            "redirect_not_allowed" => Self::RedirectNotAllowed,
            "invalid_state" => Self::InvalidState,
            "rate_limited" => Self::RateLimited,
            "internal" => Self::Internal,
            "upstream_error" => Self::UpstreamError,
            "upstream_unavailable" => Self::UpstreamUnavailable,
            "upstream_timeout" => Self::UpstreamTimeout,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized | Self::SessionExpired => 401,
            Self::AgentStatusRequired => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::InvalidFields
            | Self::CredentialsRejected
            | Self::RedirectNotAllowed
            | Self::InvalidState => 422,
            Self::RateLimited => 429,
            Self::Internal | Self::Other(_) => 500,
            Self::UpstreamError => 502,
            Self::UpstreamUnavailable => 503,
            Self::UpstreamTimeout => 504,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// Why one field's value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldProblem {
    /// Required and empty (or missing).
    Required,
    /// Does not match the field's `regex`.
    Pattern,
    /// Not a field of the connection now.
    Unknown,
    /// Not one of a `list` field's values.
    NotInList,
    /// Longer than the proxy accepts.
    TooLong,
}

/// Every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine code.
    pub code: ErrorCode,
    /// A message safe to show a user (English; the widget shows its own translation).
    pub message: String,
    /// The request id, also in the proxy's logs and the `x-request-id` header.
    #[serde(default)]
    pub request_id: Option<String>,
    /// For `invalid_fields`: each refused field and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, FieldProblem>>,
    /// For `rate_limited`: seconds to wait (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_of_the_contract_offers_what_section_7_says() {
        use ConnectionState as S;
        assert_eq!(actions_for(None, false, false), [Action::Sync]);
        assert_eq!(
            actions_for(Some(&S::ScaRequired), false, false),
            [Action::Reconnect, Action::Sync]
        );
        assert_eq!(
            actions_for(Some(&S::WebauthRequired), false, false),
            [Action::Webauth, Action::Reconnect]
        );
        assert_eq!(
            actions_for(Some(&S::AdditionalInformationNeeded), false, true),
            [Action::Submit]
        );
        assert_eq!(
            actions_for(Some(&S::Decoupled), false, false),
            [Action::Resume]
        );
        assert!(actions_for(Some(&S::Validating), true, true).is_empty());
        assert_eq!(
            actions_for(Some(&S::ActionNeeded), false, false),
            [Action::Sync]
        );
        assert_eq!(
            actions_for(Some(&S::PasswordExpired), false, true),
            [Action::Reconnect]
        );
        assert_eq!(
            actions_for(Some(&S::PasswordExpired), true, true),
            [Action::Submit, Action::Reconnect]
        );
        assert_eq!(
            actions_for(Some(&S::Wrongpass), false, true),
            [Action::Reconnect]
        );
        assert_eq!(
            actions_for(Some(&S::Wrongpass), true, true),
            [Action::Submit, Action::Reconnect]
        );
        for s in [
            S::RateLimiting,
            S::WebsiteUnavailable,
            S::Bug,
            S::NotSupported,
            S::Unknown("x".into()),
        ] {
            assert!(actions_for(Some(&s), true, true).is_empty(), "{s}");
        }
    }

    #[test]
    fn error_codes_round_trip_and_map_to_statuses() {
        for c in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthorized,
            ErrorCode::SessionExpired,
            ErrorCode::AgentStatusRequired,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::InvalidFields,
            ErrorCode::CredentialsRejected,
            ErrorCode::RedirectNotAllowed,
            ErrorCode::InvalidState,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::UpstreamError,
            ErrorCode::UpstreamUnavailable,
            ErrorCode::UpstreamTimeout,
        ] {
            assert_eq!(ErrorCode::parse(c.as_str()), c);
            assert!((400..600).contains(&c.http_status()));
        }
        assert_eq!(
            ErrorCode::parse("brand_new"),
            ErrorCode::Other("brand_new".into())
        );
    }
}
