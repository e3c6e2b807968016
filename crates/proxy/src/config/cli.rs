//! The command line of `mend-proxy`: its subcommands and options, each option also an
//! environment variable.

use super::DEFAULT_WEBVIEW_URL;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;

/// `mend-proxy`: the Mend proxy (the only thing that talks to Powens).
#[derive(Debug, Parser)]
#[command(name = "mend-proxy", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(Box<ServeArgs>),
    /// Print a widget session (a JWT signed with `MEND_SESSION_SECRET`).
    Session(SessionArgs),
    /// Print the OpenAPI 3.1 description of the HTTP API (`docs/openapi.json`).
    Openapi,
}

/// Options of `mend-proxy serve` (each also an environment variable).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MEND_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: String,
    /// Powens API root including `/2.0`. Unset: sandbox mode (in-process simulator).
    #[arg(long, env = "POWENS_API_URL")]
    pub powens_api_url: Option<String>,
    /// Powens client id (required outside sandbox mode).
    #[arg(long, env = "POWENS_CLIENT_ID")]
    pub powens_client_id: Option<String>,
    /// Powens client secret (or `POWENS_CLIENT_SECRET_FILE`).
    #[arg(long, env = "POWENS_CLIENT_SECRET", hide_env_values = true)]
    pub powens_client_secret: Option<SecretString>,
    /// File holding the Powens client secret.
    #[arg(long, env = "POWENS_CLIENT_SECRET_FILE")]
    pub powens_client_secret_file: Option<PathBuf>,
    /// Powens webview root.
    #[arg(long, env = "POWENS_WEBVIEW_URL", default_value = DEFAULT_WEBVIEW_URL)]
    pub powens_webview_url: String,
    /// Value of the webview `domain` parameter (default: host of `POWENS_API_URL`).
    #[arg(long, env = "POWENS_DOMAIN")]
    pub powens_domain: Option<String>,
    /// HS256 key for widget sessions, at least 32 bytes (or `MEND_SESSION_SECRET_FILE`).
    #[arg(long, env = "MEND_SESSION_SECRET", hide_env_values = true)]
    pub mend_session_secret: Option<SecretString>,
    /// File holding the session secret.
    #[arg(long, env = "MEND_SESSION_SECRET_FILE")]
    pub mend_session_secret_file: Option<PathBuf>,
    /// Comma-separated origins allowed to call the API cross-origin.
    #[arg(long, env = "MEND_ALLOWED_ORIGINS")]
    pub mend_allowed_origins: Option<String>,
    /// Comma-separated exact URIs the user may be sent back to.
    #[arg(long, env = "MEND_REDIRECT_URIS")]
    pub mend_redirect_uris: Option<String>,
    /// `true` when the integrator holds Powens Agent status.
    #[arg(long, env = "MEND_AGENT_STATUS", default_value = "false", value_parser = parse_bool)]
    pub mend_agent_status: bool,
    /// Folder of the built widget, served at `/widget/`.
    #[arg(long, env = "MEND_WIDGET_DIR", default_value = "dist")]
    pub mend_widget_dir: PathBuf,
    /// How often a changing connection is polled upstream (e.g. `2s`).
    #[arg(long, env = "MEND_POLL_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub mend_poll_interval: Duration,
    /// Timeout of one Powens request (e.g. `20s`).
    #[arg(long, env = "MEND_UPSTREAM_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub mend_upstream_timeout: Duration,
    /// How long a submission, resume or sync may wait for the bank (e.g. `3m`).
    #[arg(long, env = "MEND_SUBMISSION_TIMEOUT", default_value = "3m", value_parser = parse_duration)]
    pub mend_submission_timeout: Duration,
    /// Requests per minute allowed to one client address on `/api`.
    #[arg(long, env = "MEND_RATE_LIMIT_PER_IP", default_value = "3000")]
    pub mend_rate_limit_per_ip: u32,
    /// Requests per minute allowed to one session user on `/api`.
    #[arg(long, env = "MEND_RATE_LIMIT_PER_SESSION", default_value = "600")]
    pub mend_rate_limit_per_session: u32,
    /// Long-polls one session user may hold open at once.
    #[arg(long, env = "MEND_MAX_WAITS_PER_USER", default_value = "64")]
    pub mend_max_waits_per_user: usize,
    /// Most requests a minute sent to Powens for this client id (user actions keep a
    /// fifth of it for themselves).
    #[arg(long, env = "MEND_POWENS_BUDGET", default_value = "600")]
    pub mend_powens_budget: u32,
    /// IANA time zone of Powens' naive dates.
    #[arg(long, env = "POWENS_TIMEZONE", default_value = "Europe/Paris")]
    pub powens_timezone: String,
    /// How long before its bank access runs out a fine connection offers a renewal.
    #[arg(long, env = "MEND_RENEW_WINDOW", default_value = "14d", value_parser = parse_duration)]
    pub mend_renew_window: Duration,
    /// `secret_key` of the Powens webhook auth provider (`hmac_signature`); enables
    /// `/webhooks/powens/…` (or `POWENS_WEBHOOK_SECRET_FILE`).
    #[arg(long, env = "POWENS_WEBHOOK_SECRET", hide_env_values = true)]
    pub powens_webhook_secret: Option<SecretString>,
    /// File holding the webhook secret.
    #[arg(long, env = "POWENS_WEBHOOK_SECRET_FILE")]
    pub powens_webhook_secret_file: Option<PathBuf>,
    /// Sandbox mode: who may use the simulator's control routes (`/sandbox/_sandbox/…`):
    /// `loopback` (callers on this machine, not relayed) or `anywhere`.
    #[arg(long, env = "MEND_SANDBOX_CONTROLS", default_value = "loopback", value_parser = parse_controls)]
    pub mend_sandbox_controls: bool,
    /// `redis://` or `rediss://` URL of a Redis (≥ 6) or Valkey shared by every
    /// replica. Unset: everything in process (one replica).
    #[arg(long, env = "MEND_REDIS_URL", hide_env_values = true)]
    pub mend_redis_url: Option<SecretString>,
    /// Comma-separated IPs or CIDRs of the load balancers in front: the client is the
    /// rightmost `X-Forwarded-For` address not among them.
    #[arg(long, env = "MEND_TRUSTED_PROXIES")]
    pub mend_trusted_proxies: Option<String>,
    /// Requests a minute allowed to one client address on `/api` without a valid
    /// session.
    #[arg(long, env = "MEND_RATE_LIMIT_UNAUTHENTICATED", default_value = "120")]
    pub mend_rate_limit_unauthenticated: u32,
    /// Bearer token `/metrics` requires on the main listener (or
    /// `MEND_METRICS_TOKEN_FILE`). Unset: `/metrics` answers 404 there.
    #[arg(long, env = "MEND_METRICS_TOKEN", hide_env_values = true)]
    pub mend_metrics_token: Option<SecretString>,
    /// File holding the metrics token.
    #[arg(long, env = "MEND_METRICS_TOKEN_FILE")]
    pub mend_metrics_token_file: Option<PathBuf>,
    /// A separate address serving `/metrics` without a token (a private network).
    #[arg(long, env = "MEND_METRICS_LISTEN")]
    pub mend_metrics_listen: Option<String>,
    /// Most client connections open at once; more wait in the listen backlog.
    #[arg(long, env = "MEND_MAX_CONNECTIONS", default_value = "10000")]
    pub mend_max_connections: usize,
    /// A client that accepts no byte of its answer for this long is disconnected.
    #[arg(long, env = "MEND_WRITE_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub mend_write_timeout: Duration,
}

/// `MEND_SANDBOX_CONTROLS`: `true` for `anywhere`.
fn parse_controls(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "loopback" | "" => Ok(false),
        "anywhere" => Ok(true),
        other => Err(format!("expected `loopback` or `anywhere`, got `{other}`")),
    }
}

/// Options of `mend-proxy session`.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// The Powens user id (`sub`).
    #[arg(long)]
    pub user: i64,
    /// Connection ids this session may touch (repeatable); none: every connection of the user.
    #[arg(long = "connection")]
    pub connections: Vec<i64>,
    /// Lifetime, at most 1 hour (e.g. `15m`).
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub ttl: Duration,
    /// HS256 key (or `MEND_SESSION_SECRET_FILE`).
    #[arg(long, env = "MEND_SESSION_SECRET", hide_env_values = true)]
    pub mend_session_secret: Option<SecretString>,
    /// File holding the session secret.
    #[arg(long, env = "MEND_SESSION_SECRET_FILE")]
    pub mend_session_secret_file: Option<PathBuf>,
}

/// Parses durations like `2s`, `15m`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("not a duration like `2s` or `15m`: {e}"))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        other => Err(format!("expected `true` or `false`, got `{other}`")),
    }
}
