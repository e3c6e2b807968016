//! The wire types of the proxy's own HTTP API, `/api/v1` (documented for integrators in
//! `docs/api.md`). The widget reads exactly these; the proxy writes exactly these.
//!
//! Dates here are RFC 3339 strings in UTC (`2026-11-25T09:34:00Z`): the proxy converts
//! Powens' naive Europe/Paris times so a browser can use them directly.
//!
//! The statuses the widget shows are here, the request and callback bodies in
//! [`requests`], the error envelope and its codes in [`errors`].

mod errors;
mod requests;
#[cfg(test)]
mod tests;

pub use errors::{ErrorBody, ErrorCode, ErrorDetail, FieldProblem, KnownErrorCode};
pub use requests::{
    CallbackOutcome, CallbackRequest, CallbackResult, FieldsSubmission, RedirectKind,
    RedirectRequest, RedirectUrl,
};

use crate::powens::ConnectorField;
use crate::state::{ConnectionState, StateKind};
use serde::{Deserialize, Serialize};

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
