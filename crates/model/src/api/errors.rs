//! The error envelope of every `/api/v1` answer that is not a success, and its codes.

use super::ConnectionStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
