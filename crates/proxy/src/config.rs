//! Configuration: the command line (`mend-proxy serve`, `mend-proxy session`), each
//! option also an environment variable (CONTRACT §2), resolved into a checked
//! [`Config`]. A bad or incomplete configuration is a [`ConfigError`] naming the
//! variable; `main` turns it into exit code 2. Secrets live in [`SecretString`]s and
//! never appear in `Debug` output.

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// A sandbox-mode configuration on `listen` with the defaults of CONTRACT §2.
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

    /// Checks and resolves `mend-proxy serve` options.
    pub fn from_args(args: ServeArgs) -> Result<Self, ConfigError> {
        let listen: SocketAddr = args.listen.parse().map_err(|_| {
            ConfigError::new("MEND_LISTEN", "expected an address like 127.0.0.1:8787")
        })?;
        let session_secret = read_secret(
            args.mend_session_secret,
            args.mend_session_secret_file.as_deref(),
            "MEND_SESSION_SECRET",
            "MEND_SESSION_SECRET_FILE",
        )?;
        if let Some(s) = &session_secret {
            check_session_secret(s)?;
        }
        // Unset means sandbox mode; set but blank is a mistake, not a request for the
        // simulator (a deployment whose variable lost its value must not fall back to it).
        if args
            .powens_api_url
            .as_ref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(ConfigError::new(
                "POWENS_API_URL",
                "is set but empty: unset it for sandbox mode, or give the Powens API root",
            ));
        }
        let upstream = match args.powens_api_url {
            None => Upstream::Sandbox,
            Some(api_url) => {
                let parsed = url::Url::parse(api_url.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                    .ok_or_else(|| {
                        ConfigError::new(
                            "POWENS_API_URL",
                            "expected a URL like https://acme-sandbox.biapi.pro/2.0",
                        )
                    })?;
                let client_id = args
                    .powens_client_id
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| {
                        ConfigError::new("POWENS_CLIENT_ID", "required when POWENS_API_URL is set")
                    })?;
                let client_secret = read_secret(
                    args.powens_client_secret,
                    args.powens_client_secret_file.as_deref(),
                    "POWENS_CLIENT_SECRET",
                    "POWENS_CLIENT_SECRET_FILE",
                )?
                .ok_or_else(|| {
                    ConfigError::new(
                        "POWENS_CLIENT_SECRET",
                        "required when POWENS_API_URL is set (or POWENS_CLIENT_SECRET_FILE)",
                    )
                })?;
                if session_secret.is_none() {
                    return Err(ConfigError::new(
                        "MEND_SESSION_SECRET",
                        "required when POWENS_API_URL is set (or MEND_SESSION_SECRET_FILE)",
                    ));
                }
                let webview = url::Url::parse(args.powens_webview_url.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "POWENS_WEBVIEW_URL",
                            "expected a URL like https://webview.powens.com",
                        )
                    })?;
                let domain = match args.powens_domain.filter(|s| !s.trim().is_empty()) {
                    Some(d) => d.trim().to_owned(),
                    None => parsed.host_str().unwrap_or_default().to_owned(),
                };
                Upstream::Powens(PowensConfig {
                    api_url: api_url.trim().trim_end_matches('/').to_owned(),
                    client_id: client_id.trim().to_owned(),
                    client_secret,
                    webview_url: webview.as_str().trim_end_matches('/').to_owned(),
                    domain,
                })
            }
        };
        let allowed_origins = match args.mend_allowed_origins {
            None => Vec::new(),
            Some(list) => split_list(&list)
                .into_iter()
                .map(|o| {
                    let u = url::Url::parse(&o)
                        .ok()
                        .filter(|u| {
                            matches!(u.scheme(), "http" | "https")
                                && u.path() == "/"
                                && !o.ends_with('/')
                        })
                        .ok_or_else(|| {
                            ConfigError::new(
                                "MEND_ALLOWED_ORIGINS",
                                format!("`{o}` is not an origin like https://app.example"),
                            )
                        })?;
                    Ok(u.origin().ascii_serialization())
                })
                .collect::<Result<_, ConfigError>>()?,
        };
        let redirect_uris = match args.mend_redirect_uris {
            None => None,
            Some(list) => Some(
                split_list(&list)
                    .into_iter()
                    .map(|r| {
                        url::Url::parse(&r)
                            .ok()
                            .filter(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none())
                            .map(|_| r.clone())
                            .ok_or_else(|| {
                                ConfigError::new(
                                    "MEND_REDIRECT_URIS",
                                    format!("`{r}` is not an absolute http(s) URI without query or fragment"),
                                )
                            })
                    })
                    .collect::<Result<_, ConfigError>>()?,
            ),
        };
        if args.mend_poll_interval < Duration::from_millis(100) {
            return Err(ConfigError::new(
                "MEND_POLL_INTERVAL",
                "must be at least 100ms",
            ));
        }
        if args.mend_upstream_timeout < Duration::from_millis(100) {
            return Err(ConfigError::new(
                "MEND_UPSTREAM_TIMEOUT",
                "must be at least 100ms",
            ));
        }
        if !(1..=MAX_POWENS_BUDGET).contains(&args.mend_powens_budget) {
            return Err(ConfigError::new(
                "MEND_POWENS_BUDGET",
                format!("must be between 1 and {MAX_POWENS_BUDGET} requests a minute"),
            ));
        }
        let timezone = jiff::tz::TimeZone::get(args.powens_timezone.trim()).map_err(|_| {
            ConfigError::new(
                "POWENS_TIMEZONE",
                format!(
                    "`{}` is not an IANA time zone name like Europe/Paris",
                    args.powens_timezone.chars().take(64).collect::<String>()
                ),
            )
        })?;
        let webhook_secret = read_secret(
            args.powens_webhook_secret,
            args.powens_webhook_secret_file.as_deref(),
            "POWENS_WEBHOOK_SECRET",
            "POWENS_WEBHOOK_SECRET_FILE",
        )?;
        if args.mend_rate_limit_per_ip == 0 {
            return Err(ConfigError::new(
                "MEND_RATE_LIMIT_PER_IP",
                "must be at least 1",
            ));
        }
        if args.mend_rate_limit_per_session == 0 {
            return Err(ConfigError::new(
                "MEND_RATE_LIMIT_PER_SESSION",
                "must be at least 1",
            ));
        }
        if args.mend_rate_limit_unauthenticated == 0 {
            return Err(ConfigError::new(
                "MEND_RATE_LIMIT_UNAUTHENTICATED",
                "must be at least 1",
            ));
        }
        let redis_url = args
            .mend_redis_url
            .filter(|u| !u.expose_secret().trim().is_empty())
            .map(|u| {
                let ok = url::Url::parse(u.expose_secret().trim())
                    .ok()
                    .is_some_and(|p| {
                        matches!(p.scheme(), "redis" | "rediss") && p.host_str().is_some()
                    });
                if ok {
                    Ok(SecretString::from(u.expose_secret().trim().to_owned()))
                } else {
                    // Never the value: it may hold a password.
                    Err(ConfigError::new(
                        "MEND_REDIS_URL",
                        "expected a URL like redis://redis.internal:6379/0 or rediss://…",
                    ))
                }
            })
            .transpose()?;
        let trusted_proxies = crate::client_addr::TrustedProxies::parse(
            args.mend_trusted_proxies.as_deref().unwrap_or(""),
        )
        .map_err(|e| ConfigError::new("MEND_TRUSTED_PROXIES", e))?;
        let metrics_token = read_secret(
            args.mend_metrics_token,
            args.mend_metrics_token_file.as_deref(),
            "MEND_METRICS_TOKEN",
            "MEND_METRICS_TOKEN_FILE",
        )?;
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 16)
        {
            return Err(ConfigError::new(
                "MEND_METRICS_TOKEN",
                "must be at least 16 bytes",
            ));
        }
        let metrics_listen = match args.mend_metrics_listen.filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(a) => Some(a.trim().parse::<SocketAddr>().map_err(|_| {
                ConfigError::new(
                    "MEND_METRICS_LISTEN",
                    "expected an address like 10.0.0.5:9187",
                )
            })?),
        };
        if args.mend_max_connections == 0 {
            return Err(ConfigError::new(
                "MEND_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if args.mend_write_timeout < Duration::from_millis(100) {
            return Err(ConfigError::new(
                "MEND_WRITE_TIMEOUT",
                "must be at least 100ms",
            ));
        }
        Ok(Self {
            listen,
            upstream,
            session_secret,
            allowed_origins,
            redirect_uris,
            agent_status: args.mend_agent_status,
            widget_dir: args.mend_widget_dir,
            poll_interval: args.mend_poll_interval,
            upstream_timeout: args.mend_upstream_timeout,
            retry_backoff: Duration::from_millis(200),
            rate_limit_per_ip: args.mend_rate_limit_per_ip,
            rate_limit_per_session: args.mend_rate_limit_per_session,
            sandbox_setup: None,
            max_waiters_per_user: args.mend_max_waits_per_user.max(1),
            header_timeout: Duration::from_secs(10),
            powens_budget: args.mend_powens_budget,
            timezone,
            renew_window: args.mend_renew_window,
            webhook_secret,
            sandbox_controls_anywhere: args.mend_sandbox_controls,
            redis_url,
            trusted_proxies,
            rate_limit_unauthenticated: args.mend_rate_limit_unauthenticated,
            metrics_token,
            metrics_listen,
            max_connections: args.mend_max_connections,
            write_timeout: args.mend_write_timeout,
        })
    }
}

/// Resolves `mend-proxy session`'s key (required there, sandbox or not).
pub fn session_secret_for_cli(args: &SessionArgs) -> Result<SecretString, ConfigError> {
    let secret = read_secret(
        args.mend_session_secret.clone(),
        args.mend_session_secret_file.as_deref(),
        "MEND_SESSION_SECRET",
        "MEND_SESSION_SECRET_FILE",
    )?
    .ok_or_else(|| {
        ConfigError::new(
            "MEND_SESSION_SECRET",
            "required (or MEND_SESSION_SECRET_FILE)",
        )
    })?;
    check_session_secret(&secret)?;
    Ok(secret)
}

fn check_session_secret(s: &SecretString) -> Result<(), ConfigError> {
    if s.expose_secret().len() < MIN_SESSION_SECRET_LEN {
        return Err(ConfigError::new(
            "MEND_SESSION_SECRET",
            format!("must be at least {MIN_SESSION_SECRET_LEN} bytes"),
        ));
    }
    Ok(())
}

/// A secret from its variable or its `_FILE` twin (not both). The file's trailing
/// newline is dropped.
fn read_secret(
    value: Option<SecretString>,
    file: Option<&std::path::Path>,
    var: &'static str,
    file_var: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    let value = value.filter(|v| !v.expose_secret().is_empty());
    match (value, file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            var,
            format!("set either {var} or {file_var}, not both"),
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(file_var, format!("cannot read the file: {}", e.kind()))
            })?;
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                return Err(ConfigError::new(file_var, "the file is empty"));
            }
            Ok(Some(SecretString::from(text.to_owned())))
        }
        (None, None) => Ok(None),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["mend-proxy", "serve"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).expect("parses");
        match cli.command {
            Command::Serve(a) => Config::from_args(*a),
            Command::Session(_) | Command::Openapi => unreachable!("serve was asked"),
        }
    }

    #[test]
    fn durations_read_like_humans_write_them() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn a_blank_powens_api_url_is_refused_rather_than_read_as_sandbox_mode() {
        let err = serve(&["--powens-api-url", "  "]).unwrap_err();
        assert_eq!(err.variable, "POWENS_API_URL");
    }

    #[test]
    fn powens_mode_without_a_client_id_names_the_variable() {
        let err = serve(&["--powens-api-url", "https://x.biapi.pro/2.0"]).unwrap_err();
        assert_eq!(err.variable, "POWENS_CLIENT_ID");
    }

    #[test]
    fn a_short_session_secret_is_refused_without_printing_it() {
        let err = serve(&["--mend-session-secret", "tooshort-secret"]).unwrap_err();
        assert_eq!(err.variable, "MEND_SESSION_SECRET");
        assert!(!err.to_string().contains("tooshort-secret"));
    }

    #[test]
    fn the_domain_defaults_to_the_api_host() {
        let cfg = serve(&[
            "--powens-api-url",
            "https://acme-sandbox.biapi.pro/2.0/",
            "--powens-client-id",
            "42",
            "--powens-client-secret",
            "s3cr3t",
            "--mend-session-secret",
            "0123456789abcdef0123456789abcdef",
        ])
        .unwrap();
        let Upstream::Powens(p) = cfg.upstream else {
            panic!("powens mode expected")
        };
        assert_eq!(p.domain, "acme-sandbox.biapi.pro");
        assert_eq!(p.api_url, "https://acme-sandbox.biapi.pro/2.0");
        assert!(!format!("{p:?}").contains("s3cr3t"));
    }

    #[test]
    fn powens_mode_needs_a_session_secret_and_reads_secrets_from_files() {
        let err = serve(&[
            "--powens-api-url",
            "https://x.biapi.pro/2.0",
            "--powens-client-id",
            "42",
            "--powens-client-secret",
            "s3cr3t",
        ])
        .unwrap_err();
        assert_eq!(err.variable, "MEND_SESSION_SECRET");
        let dir = std::env::temp_dir().join(format!("mend-proxy-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let client = dir.join("client");
        let session = dir.join("session");
        std::fs::write(&client, "from-a-file\n").unwrap();
        std::fs::write(&session, "0123456789abcdef0123456789abcdef\n").unwrap();
        let cfg = serve(&[
            "--powens-api-url",
            "https://x.biapi.pro/2.0",
            "--powens-client-id",
            "42",
            "--powens-client-secret-file",
            client.to_str().unwrap(),
            "--mend-session-secret-file",
            session.to_str().unwrap(),
        ])
        .unwrap();
        let Upstream::Powens(p) = cfg.upstream else {
            panic!("powens mode expected")
        };
        assert_eq!(p.client_secret.expose_secret(), "from-a-file");
        let err = serve(&[
            "--powens-client-secret",
            "a",
            "--powens-client-secret-file",
            client.to_str().unwrap(),
            "--powens-api-url",
            "https://x.biapi.pro/2.0",
            "--powens-client-id",
            "42",
        ])
        .unwrap_err();
        assert_eq!(err.variable, "POWENS_CLIENT_SECRET");
        let missing = serve(&["--mend-session-secret-file", "/nonexistent/secret"]).unwrap_err();
        assert_eq!(missing.variable, "MEND_SESSION_SECRET_FILE");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn origins_must_be_bare_origins() {
        assert_eq!(
            serve(&["--mend-allowed-origins", "https://a.example/path"])
                .unwrap_err()
                .variable,
            "MEND_ALLOWED_ORIGINS"
        );
        let cfg = serve(&[
            "--mend-allowed-origins",
            "https://a.example, http://localhost:8080",
        ])
        .unwrap();
        assert_eq!(
            cfg.allowed_origins,
            ["https://a.example", "http://localhost:8080"]
        );
    }

    #[test]
    fn a_bad_time_zone_or_budget_names_its_variable() {
        assert_eq!(
            serve(&["--powens-timezone", "Mars/Olympus"])
                .unwrap_err()
                .variable,
            "POWENS_TIMEZONE"
        );
        assert_eq!(
            serve(&["--mend-powens-budget", "0"]).unwrap_err().variable,
            "MEND_POWENS_BUDGET"
        );
        let cfg = serve(&["--powens-timezone", "America/New_York"]).unwrap();
        assert_eq!(cfg.timezone.iana_name(), Some("America/New_York"));
        assert_eq!(
            serve(&[]).unwrap().timezone.iana_name(),
            Some("Europe/Paris")
        );
        assert_eq!(serve(&[]).unwrap().renew_window, DEFAULT_RENEW_WINDOW);
    }

    #[test]
    fn cluster_settings_are_checked_and_never_echo_secrets() {
        let err = serve(&["--mend-redis-url", "http://user:hunter2@redis:6379"]).unwrap_err();
        assert_eq!(err.variable, "MEND_REDIS_URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let cfg = serve(&[
            "--mend-redis-url",
            "rediss://:pw@redis.internal:6380/2",
            "--mend-trusted-proxies",
            "10.0.0.0/8,192.0.2.1",
            "--mend-metrics-listen",
            "127.0.0.1:9187",
        ])
        .unwrap();
        assert!(cfg.redis_url.is_some());
        assert!(!cfg.trusted_proxies.is_empty());
        assert_eq!(cfg.metrics_listen, Some("127.0.0.1:9187".parse().unwrap()));
        assert_eq!(cfg.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(cfg.write_timeout, DEFAULT_WRITE_TIMEOUT);
        assert_eq!(
            serve(&["--mend-trusted-proxies", "10.0.0.0/8,lb"])
                .unwrap_err()
                .variable,
            "MEND_TRUSTED_PROXIES"
        );
        let short = serve(&["--mend-metrics-token", "short"]).unwrap_err();
        assert_eq!(short.variable, "MEND_METRICS_TOKEN");
        assert!(!short.to_string().contains("short"));
        assert_eq!(
            serve(&["--mend-max-connections", "0"])
                .unwrap_err()
                .variable,
            "MEND_MAX_CONNECTIONS"
        );
        assert_eq!(
            serve(&["--mend-metrics-listen", "nowhere"])
                .unwrap_err()
                .variable,
            "MEND_METRICS_LISTEN"
        );
    }

    #[test]
    fn redirect_uris_with_a_query_are_refused() {
        assert_eq!(
            serve(&["--mend-redirect-uris", "https://a.example/back?x=1"])
                .unwrap_err()
                .variable,
            "MEND_REDIRECT_URIS"
        );
    }
}
