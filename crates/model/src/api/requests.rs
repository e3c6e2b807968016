//! Bodies the widget sends (submissions, redirect requests, callbacks) and the
//! answers that are not a plain status.

use super::{Action, ConnectionStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
