//! Configuration: the command line (`mend-proxy serve`, `mend-proxy session`), each
//! option also an environment variable (the README's configuration table), resolved into a checked
//! [`Config`]. A bad or incomplete configuration is a [`ConfigError`] naming the
//! variable; `main` turns it into exit code 2. Secrets live in [`SecretString`]s and
//! never appear in `Debug` output.
//!
//! The command line is in [`cli`], its resolution into a [`Config`] in [`resolve`].

mod cli;
mod resolve;
#[cfg(test)]
mod tests;

pub use cli::{Cli, Command, ServeArgs, SessionArgs, parse_duration};
pub use resolve::session_secret_for_cli;

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default `MEND_SUBMISSION_TIMEOUT`: Powens says blocking calls may take "up to a
/// few minutes" while the bank checks a code.
pub const DEFAULT_SUBMISSION_TIMEOUT: Duration = Duration::from_secs(180);
/// Default Powens webview root.
pub const DEFAULT_WEBVIEW_URL: &str = "https://webview.powens.com";
/// Default `MEND_POWENS_BUDGET`, requests a minute: production budgets are negotiated
/// with Powens (its sandbox domains allow 30), so set it to yours.
pub const DEFAULT_POWENS_BUDGET: u32 = 600;
/// Default `MEND_RENEW_WINDOW`: two weeks, so that a user who opens the app every
/// week or two sees the notice at least once before the bank access (about 180 days
/// of PSD2 consent) runs out, and no sooner than that to stay calm.
pub const DEFAULT_RENEW_WINDOW: Duration = Duration::from_secs(14 * 86_400);

/// Powens' own zone, the default `POWENS_TIMEZONE`.
pub fn default_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Default `MEND_MAX_CONNECTIONS`: 10,000 waiting long-polls hold about 90 MiB
/// (BENCHMARKS.md, "Proxy"); raise the process' open-files limit above it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default `MEND_WRITE_TIMEOUT`: a client that accepts no byte of its answer for this
/// long is cut.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(15);
/// Default `MEND_RATE_LIMIT_UNAUTHENTICATED`, requests a minute per address without
/// a valid session (a widget sends them only when its session expired; the sandbox's
/// demo page asks for 26 sessions at each load).
pub const DEFAULT_RATE_LIMIT_UNAUTHENTICATED: u32 = 120;

/// Largest `MEND_POWENS_BUDGET` accepted.
pub const MAX_POWENS_BUDGET: u32 = 100_000;
/// Minimum length of `MEND_SESSION_SECRET`, in bytes.
pub const MIN_SESSION_SECRET_LEN: usize = 32;

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable (or flag) at fault.
    pub variable: &'static str,
    /// What is wrong with it (never its value when it is a secret).
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// Where Powens is.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// The real Powens (or any compatible server).
    Powens(PowensConfig),
    /// The in-process sandbox, served by this proxy under `/sandbox`.
    Sandbox,
}

/// How to reach Powens.
#[derive(Debug, Clone)]
pub struct PowensConfig {
    /// API root including `/2.0`, without a trailing slash.
    pub api_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (never logged).
    pub client_secret: SecretString,
    /// Webview root, without a trailing slash.
    pub webview_url: String,
    /// Webview `domain` parameter.
    pub domain: String,
}

/// The checked configuration of `mend-proxy serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` in tests).
    pub listen: SocketAddr,
    /// Powens or the sandbox.
    pub upstream: Upstream,
    /// Session key; `None` only in sandbox mode (then random per start).
    pub session_secret: Option<SecretString>,
    /// Origins allowed cross-origin (exact `scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Allowed redirect URIs; `None` = default (none outside sandbox, the demo pages in it).
    pub redirect_uris: Option<Vec<String>>,
    /// Powens Agent status (credentials may be collected).
    pub agent_status: bool,
    /// Folder of the built widget.
    pub widget_dir: PathBuf,
    /// Poll interval of changing connections.
    pub poll_interval: Duration,
    /// Timeout of one upstream request.
    pub upstream_timeout: Duration,
    /// `MEND_SUBMISSION_TIMEOUT`: how long an action may wait for the bank.
    pub submission_timeout: Duration,
    /// First backoff of a retried upstream read (doubled, jittered).
    pub retry_backoff: Duration,
    /// Requests per minute per client address on `/api`.
    pub rate_limit_per_ip: u32,
    /// Requests per minute per session user on `/api`.
    pub rate_limit_per_session: u32,
    /// Sandbox mode only: adjusts the simulator's configuration (timings) before it
    /// starts. Tests use it; `None` keeps the demo defaults.
    pub sandbox_setup: Option<fn(&mut mend_sandbox::SandboxConfig)>,
    /// Long-polls one session user may hold open at once (more answer 429).
    pub max_waiters_per_user: usize,
    /// Longest time a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Most requests a minute sent to Powens (`MEND_POWENS_BUDGET`).
    pub powens_budget: u32,
    /// Zone of Powens' naive dates (`POWENS_TIMEZONE`).
    pub timezone: jiff::tz::TimeZone,
    /// `MEND_RENEW_WINDOW`.
    pub renew_window: Duration,
    /// `POWENS_WEBHOOK_SECRET`: webhooks on when set.
    pub webhook_secret: Option<SecretString>,
    /// Sandbox mode: the control routes answer callers anywhere, not only on loopback.
    pub sandbox_controls_anywhere: bool,
    /// `MEND_REDIS_URL`: the shared store; `None` keeps everything in process.
    pub redis_url: Option<SecretString>,
    /// `MEND_TRUSTED_PROXIES`.
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    /// Requests per minute per client address on `/api` without a valid session.
    pub rate_limit_unauthenticated: u32,
    /// `MEND_METRICS_TOKEN`: `/metrics` on the main listener requires it.
    pub metrics_token: Option<SecretString>,
    /// `MEND_METRICS_LISTEN`: a listener serving only `/metrics`, without a token.
    pub metrics_listen: Option<SocketAddr>,
    /// `MEND_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `MEND_WRITE_TIMEOUT`.
    pub write_timeout: Duration,
}

impl Config {
    /// A sandbox-mode configuration on `listen` with the documented defaults (README).
    pub fn sandbox(listen: SocketAddr) -> Self {
        Self {
            listen,
            upstream: Upstream::Sandbox,
            session_secret: None,
            allowed_origins: Vec::new(),
            redirect_uris: None,
            agent_status: false,
            widget_dir: PathBuf::from("dist"),
            poll_interval: Duration::from_secs(2),
            upstream_timeout: Duration::from_secs(20),
            submission_timeout: DEFAULT_SUBMISSION_TIMEOUT,
            retry_backoff: Duration::from_millis(200),
            rate_limit_per_ip: 3000,
            rate_limit_per_session: 600,
            sandbox_setup: None,
            max_waiters_per_user: 64,
            header_timeout: Duration::from_secs(10),
            powens_budget: DEFAULT_POWENS_BUDGET,
            timezone: default_zone(),
            renew_window: DEFAULT_RENEW_WINDOW,
            webhook_secret: None,
            sandbox_controls_anywhere: false,
            redis_url: None,
            trusted_proxies: Default::default(),
            rate_limit_unauthenticated: DEFAULT_RATE_LIMIT_UNAUTHENTICATED,
            metrics_token: None,
            metrics_listen: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}
