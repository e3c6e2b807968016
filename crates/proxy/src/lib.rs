//! # mend-proxy
//!
//! The only thing that talks to Powens: it holds the client secret, gets user tokens,
//! mints temporary codes, checks what the widget submits, watches connections for
//! many widgets at once, and serves the widget's files. Its HTTP API is documented in
//! `docs/api.md`; its configuration in the README and [`config`].
//!
//! [`build`] makes an [`Application`] from a [`Config`] (the listener is bound first,
//! so port 0 works and the address is known); [`Application::run_until_stopped`]
//! serves until SIGTERM or Ctrl-C. Without `POWENS_API_URL` the proxy runs in
//! **sandbox mode**: a [`mend_sandbox::Sandbox`] is served in-process under
//! `/sandbox` and used as Powens.
//!
//! Modules: [`config`] (flags and variables), [`error`] (the one error type and
//! envelope), [`session`] (widget JWTs), [`upstream`] (the Powens client),
//! [`store`] (what replicas share: in process, or Redis with `MEND_REDIS_URL`),
//! [`client_addr`] (who the client is behind trusted proxies),
//! [`budget`] (Powens requests a minute, the 429 pause),
//! [`status`] (Powens → widget view), [`actions`] (what users send to the bank),
//! [`fields`] (submission checks),
//! [`redirect_state`] (signed `state`), [`watch`] (shared pollers and what they
//! remember), [`schedule`] (their pace), [`webhooks`] (Powens' events), [`reads`]
//! (memory and single flight of plain reads), [`ratelimit`],
//! [`metrics`], [`routes`] (handlers), [`widget`] (static files), [`http`]
//! (middleware: request ids, logs, security headers, the session check and rate
//! limits of `/api`), [`serve`] (the accept loop: header and write deadlines, a cap
//! on open connections).
//!
//! Building the proxy is [`build`] (in `app_build.rs`), serving it
//! [`Application::run_until`] (in `app_run.rs`); the sandbox mode's defaults and key are
//! in `sandbox_mode.rs`.

pub mod actions;
pub mod budget;
pub mod client_addr;
pub mod config;
pub mod error;
pub mod fields;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod reads;
pub mod redirect_state;
pub mod redirects;
pub mod routes;
pub mod sandbox_gate;
pub mod schedule;
pub mod serve;
pub mod session;
pub mod status;
pub mod store;
pub mod upstream;
pub mod watch;
pub mod webhooks;
pub mod widget;

mod app_build;
mod app_run;
mod sandbox_mode;

pub use app_build::{Application, build};
pub use config::{Config, Upstream};
pub use sandbox_mode::{
    SANDBOX_KEY_LABEL, SANDBOX_ORIGINS, sandbox_redirect_uris, sandbox_session_key,
};

use secrecy::SecretString;
use std::sync::Arc;

use crate::metrics::Metrics;
use crate::ratelimit::Limits;
use crate::redirect_state::StateSigner;
use crate::session::SessionKeys;
use crate::store::Store;
use crate::upstream::PowensClient;
use crate::watch::Watchers;

/// Settings the handlers read.
#[derive(Debug)]
pub struct Settings {
    /// Webview root, no trailing slash.
    pub webview_url: String,
    /// Webview `domain` parameter.
    pub domain: String,
    /// Allowed redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// `MEND_AGENT_STATUS`.
    pub agent_status: bool,
    /// How Powens' connections are shown (agent status, time zone, renewal window).
    pub view: Arc<status::View>,
    /// `POWENS_WEBHOOK_SECRET`: `/webhooks/powens/…` answer only with it.
    pub webhook_secret: Option<SecretString>,
    /// The in-process sandbox, in sandbox mode.
    pub sandbox: Option<mend_sandbox::Sandbox>,
    /// Sandbox mode: its control routes answer callers anywhere, not only on loopback.
    pub sandbox_controls_anywhere: bool,
    /// `MEND_METRICS_TOKEN`: `/metrics` on the main listener answers only with it.
    pub metrics_token: Option<metrics::Token>,
}

/// What every handler shares: one pointer, cheap to clone (every request and every
/// waiting long-poll holds one), dereferencing to [`Shared`].
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The contents of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The Powens client.
    pub powens: PowensClient,
    /// Session keys.
    pub sessions: SessionKeys,
    /// Redirect `state` signer.
    pub states: StateSigner,
    /// Shared connection pollers.
    pub watchers: Watchers,
    /// Coalesced plain reads.
    pub reads: reads::Reads,
    /// What replicas share (in process without `MEND_REDIS_URL`).
    pub store: Store,
    /// Rate limits.
    pub limits: Limits,
    /// Counters.
    pub metrics: Metrics,
    /// Read-only settings.
    pub settings: Arc<Settings>,
    /// Becomes `true` when the server shuts down (ends long-polls early).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The widget's static files.
    pub widget: widget::WidgetFiles,
}
