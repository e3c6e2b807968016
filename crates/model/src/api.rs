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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// When the bank access (PSD2 consent) of the connection runs out: the earliest
    /// `access_expire` of its enabled sources (RFC 3339 UTC), `null` when Powens
    /// gives none.
    #[serde(default)]
    pub access_expire: Option<String>,
    /// `true` when the connection is fine but `access_expire` is near (the proxy's
    /// `MEND_RENEW_WINDOW`): show a calm "renew your bank access before DATE" with the
    /// Reconnect action, which `actions` then offers beside `sync`.
    #[serde(default)]
    pub renew: bool,
}

/// `GET /api/v1/connections`: every connection of the session user, each exactly as
/// `GET /api/v1/connections/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionStatusList {
    /// The connections, in Powens' order.
    #[serde(default)]
    pub connections: Vec<ConnectionStatus>,
}

/// One source's state, in a [`ConnectionStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceStatus {
    /// Source name (`openapi`, `directaccess`, ...).
    pub name: String,
    /// Its own state (`null` when fine).
    pub state: Option<ConnectionState>,
    /// Its last successful synchronisation (RFC 3339 UTC).
    #[serde(default)]
    pub last_update: Option<String>,
    /// When its bank access (consent) runs out (RFC 3339 UTC).
    #[serde(default)]
    pub access_expire: Option<String>,
}

crate::wire_names! {
    /// A user action, as in the widget's `data-action` attribute.
    pub enum Action {
        /// Send the form built from `fields` (`POST …/fields`).
        Submit = "submit",
        /// Resume a decoupled validation in the background (`POST …/resume`).
        Resume = "resume",
        /// Go through Powens' Reconnect webview (`POST …/reconnect-url`).
        Reconnect = "reconnect",
        /// Go to the bank's web authentication (`POST …/webauth-url`).
        Webauth = "webauth",
        /// Synchronise now, user present (`POST …/sync`).
        Sync = "sync",
        /// Widget-only: try again after a failure.
        Retry = "retry",
        /// Widget-only: close a notice.
        Dismiss = "dismiss",
    }
}

/// What the user can do in `state` (`docs/widget.md`, "States and panels"). `credentials_allowed`
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldsSubmission {
    /// Field name → value. Names must be among the connection's current `fields`.
    pub values: BTreeMap<String, String>,
}

/// `POST …/reconnect-url` and `POST …/webauth-url` body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedirectRequest {
    /// Where the user comes back to; must be in `MEND_REDIRECT_URIS` exactly.
    pub redirect_uri: String,
    /// Webview language (`en`, `fr`, `de`, `es`, `it`, `nl`, `pt`); default `en`.
    #[serde(default)]
    pub lang: Option<String>,
}

crate::wire_names! {
    /// Which redirect flow.
    pub enum RedirectKind {
        /// Powens' Reconnect webview.
        Reconnect = "reconnect",
        /// The bank's web authentication.
        Webauth = "webauth",
    }
}

impl RedirectKind {
    /// The action that starts this flow.
    pub const fn action(self) -> Action {
        match self {
            Self::Reconnect => Action::Reconnect,
            Self::Webauth => Action::Webauth,
        }
    }

    /// The flow an action starts, if it starts one.
    pub fn of(action: Action) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.action() == action)
    }
}

/// Answer of `POST …/reconnect-url` and `POST …/webauth-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedirectUrl {
    /// Which flow this is.
    pub kind: RedirectKind,
    /// Where to send the top window.
    pub url: String,
}

/// `POST /api/v1/callback` body: the query parameters found on the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

crate::wire_names! {
    /// How a redirect ended.
    pub enum CallbackOutcome {
        /// The flow finished; `status` tells the connection's new state.
        Completed = "completed",
        /// The user cancelled (`access_denied`).
        Cancelled = "cancelled",
        /// The flow failed (any other error code).
        Failed = "failed",
    }
}

/// Answer of `POST /api/v1/callback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

crate::wire_names! {
    /// The error codes this build knows (the `code` of [`ErrorBody`]); [`ErrorCode`]
    /// adds the ones it does not.
    pub enum KnownErrorCode {
        /// 400: malformed request (bad JSON, bad query).
        BadRequest = "bad_request",
        /// 401: no session, a bad signature, a wrong algorithm, no `exp`.
        Unauthorized = "unauthorized",
        /// 401: the session's `exp` has passed.
        SessionExpired = "session_expired",
        /// 403: collecting credentials needs Powens Agent status (`MEND_AGENT_STATUS`).
        AgentStatusRequired = "agent_status_required",
        /// 404: no such connection for this session (or not this session's).
        NotFound = "not_found",
        /// 409: the action does not apply in the connection's current state.
        Conflict = "conflict",
        /// 413: body too large.
        PayloadTooLarge = "payload_too_large",
        /// 422: field values refused (see [`ErrorDetail::fields`]); nothing reached Powens.
        InvalidFields = "invalid_fields",
        /// 422: the bank refused the submitted credentials or code (Powens `wrongpass`);
        /// [`ErrorDetail::status`] is the connection now, [`ErrorDetail::bank_message`]
        /// the bank's words.
        CredentialsRejected = "credentials_rejected",
        /// 422: the bank refused a submission, resume or sync and named why (Powens
        /// `websiteUnavailable`, `actionNeeded`, `bankMessage`, ...):
        /// [`ErrorDetail::status`] is the connection now, [`ErrorDetail::bank_message`]
        /// the bank's words.
        BankRefused = "bank_refused",
        /// 409: Powens refused to synchronise now ("Can't force synchronization"); the
        /// connection is as [`ErrorDetail::status`] says. Try again later, not at once.
        SyncRefused = "sync_refused",
        /// 409: a submission, resume or sync of this connection is already on its way
        /// to the bank; this one was not sent.
        ActionInFlight = "action_in_flight",
        /// 422: the redirect URI is not allow-listed.
        RedirectNotAllowed = "redirect_not_allowed",
        /// 422: the callback's `state` is forged, expired, replayed or another user's.
        InvalidState = "invalid_state",
        /// 429: too many requests; see `Retry-After`.
        RateLimited = "rate_limited",
        /// 500: the proxy failed.
        Internal = "internal",
        /// 502: Powens answered with an error or garbage.
        UpstreamError = "upstream_error",
        /// 503: Powens is unreachable or in maintenance.
        UpstreamUnavailable = "upstream_unavailable",
        /// 504: Powens took too long.
        UpstreamTimeout = "upstream_timeout",
    }
}

impl KnownErrorCode {
    /// The HTTP status that goes with the code.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized | Self::SessionExpired => 401,
            Self::AgentStatusRequired => 403,
            Self::NotFound => 404,
            Self::Conflict | Self::SyncRefused | Self::ActionInFlight => 409,
            Self::PayloadTooLarge => 413,
            Self::InvalidFields
            | Self::CredentialsRejected
            | Self::BankRefused
            | Self::RedirectNotAllowed
            | Self::InvalidState => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::UpstreamError => 502,
            Self::UpstreamUnavailable => 503,
            Self::UpstreamTimeout => 504,
        }
    }
}

/// A stable error code of the proxy: one it knows, or one a newer proxy sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A code of this build.
    Known(KnownErrorCode),
    /// A code this build does not know (forward compatibility).
    Other(String),
}

#[allow(non_upper_case_globals)]
impl ErrorCode {
    /// `bad_request`, see [`KnownErrorCode::BadRequest`].
    pub const BadRequest: Self = Self::Known(KnownErrorCode::BadRequest);
    /// `unauthorized`, see [`KnownErrorCode::Unauthorized`].
    pub const Unauthorized: Self = Self::Known(KnownErrorCode::Unauthorized);
    /// `session_expired`, see [`KnownErrorCode::SessionExpired`].
    pub const SessionExpired: Self = Self::Known(KnownErrorCode::SessionExpired);
    /// `agent_status_required`, see [`KnownErrorCode::AgentStatusRequired`].
    pub const AgentStatusRequired: Self = Self::Known(KnownErrorCode::AgentStatusRequired);
    /// `not_found`, see [`KnownErrorCode::NotFound`].
    pub const NotFound: Self = Self::Known(KnownErrorCode::NotFound);
    /// `conflict`, see [`KnownErrorCode::Conflict`].
    pub const Conflict: Self = Self::Known(KnownErrorCode::Conflict);
    /// `payload_too_large`, see [`KnownErrorCode::PayloadTooLarge`].
    pub const PayloadTooLarge: Self = Self::Known(KnownErrorCode::PayloadTooLarge);
    /// `invalid_fields`, see [`KnownErrorCode::InvalidFields`].
    pub const InvalidFields: Self = Self::Known(KnownErrorCode::InvalidFields);
    /// `credentials_rejected`, see [`KnownErrorCode::CredentialsRejected`].
    pub const CredentialsRejected: Self = Self::Known(KnownErrorCode::CredentialsRejected);
    /// `bank_refused`, see [`KnownErrorCode::BankRefused`].
    pub const BankRefused: Self = Self::Known(KnownErrorCode::BankRefused);
    /// `sync_refused`, see [`KnownErrorCode::SyncRefused`].
    pub const SyncRefused: Self = Self::Known(KnownErrorCode::SyncRefused);
    /// `action_in_flight`, see [`KnownErrorCode::ActionInFlight`].
    pub const ActionInFlight: Self = Self::Known(KnownErrorCode::ActionInFlight);
    /// `redirect_not_allowed`, see [`KnownErrorCode::RedirectNotAllowed`].
    pub const RedirectNotAllowed: Self = Self::Known(KnownErrorCode::RedirectNotAllowed);
    /// `invalid_state`, see [`KnownErrorCode::InvalidState`].
    pub const InvalidState: Self = Self::Known(KnownErrorCode::InvalidState);
    /// `rate_limited`, see [`KnownErrorCode::RateLimited`].
    pub const RateLimited: Self = Self::Known(KnownErrorCode::RateLimited);
    /// `internal`, see [`KnownErrorCode::Internal`].
    pub const Internal: Self = Self::Known(KnownErrorCode::Internal);
    /// `upstream_error`, see [`KnownErrorCode::UpstreamError`].
    pub const UpstreamError: Self = Self::Known(KnownErrorCode::UpstreamError);
    /// `upstream_unavailable`, see [`KnownErrorCode::UpstreamUnavailable`].
    pub const UpstreamUnavailable: Self = Self::Known(KnownErrorCode::UpstreamUnavailable);
    /// `upstream_timeout`, see [`KnownErrorCode::UpstreamTimeout`].
    pub const UpstreamTimeout: Self = Self::Known(KnownErrorCode::UpstreamTimeout);

    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(k) => k.as_str(),
            Self::Other(s) => s,
        }
    }

    /// The known code, `None` for a newer proxy's.
    pub fn known(&self) -> Option<KnownErrorCode> {
        match self {
            Self::Known(k) => Some(*k),
            Self::Other(_) => None,
        }
    }

    /// Parses a wire string; never fails.
    pub fn parse(s: &str) -> Self {
        KnownErrorCode::from_wire(s).map_or_else(|| Self::Other(s.to_owned()), Self::Known)
    }

    /// The HTTP status that goes with the code (500 for an unknown one).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Known(k) => k.http_status(),
            Self::Other(_) => 500,
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

crate::wire_names! {
    /// Why one field's value was refused.
    pub enum FieldProblem {
        /// Required and empty (or missing).
        Required = "required",
        /// Does not match the field's `regex`.
        Pattern = "pattern",
        /// Not a field of the connection now.
        Unknown = "unknown",
        /// Not one of a `list` field's values.
        NotInList = "not_in_list",
        /// Longer than the proxy accepts.
        TooLong = "too_long",
    }
}

/// Every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// For `rate_limited` and `upstream_unavailable`: seconds to wait (also in
    /// `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// For `credentials_rejected`, `bank_refused` and `sync_refused`: the connection's
    /// status read right after the refusal, to show the panel of its state now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Box<ConnectionStatus>>,
    /// For `credentials_rejected`, `bank_refused` and `sync_refused`: what the bank
    /// said (Powens' `message`), untranslated, to be shown **as text** beside the
    /// widget's own sentence. Control characters removed, at most 300 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_message: Option<String>,
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
        for k in KnownErrorCode::ALL {
            let c = ErrorCode::Known(*k);
            assert_eq!(ErrorCode::parse(c.as_str()), c);
            assert!((400..600).contains(&c.http_status()));
        }
        assert_eq!(
            ErrorCode::parse("brand_new"),
            ErrorCode::Other("brand_new".into())
        );
    }
}
