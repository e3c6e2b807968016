//! `mend-proxy serve`'s options checked and resolved into a [`Config`], and the
//! secrets read from their variable or their `_FILE` twin.

use super::{
    Config, ConfigError, MAX_POWENS_BUDGET, MIN_SESSION_SECRET_LEN, PowensConfig, ServeArgs,
    SessionArgs, Upstream,
};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

impl Config {
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
        if !(Duration::from_secs(1)..=Duration::from_secs(600))
            .contains(&args.mend_submission_timeout)
        {
            return Err(ConfigError::new(
                "MEND_SUBMISSION_TIMEOUT",
                "must be between 1s and 10m",
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
            submission_timeout: args.mend_submission_timeout,
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
