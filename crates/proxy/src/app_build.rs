//! Building a proxy from its [`Config`]: the listener bound first (so port 0 works),
//! then Powens' client or the in-process sandbox, the store, the watchers and the
//! router.

use crate::{
    AppState, Config, SANDBOX_ORIGINS, Settings, Shared, Upstream, config, metrics, reads, routes,
    sandbox_redirect_uris, sandbox_session_key, schedule, serve, status, store, widget,
};
use anyhow::Context as _;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::ratelimit::Limits;
use crate::redirect_state::StateSigner;
use crate::session::SessionKeys;
use crate::store::Store;
use crate::upstream::{PowensClient, PowensSettings};
use crate::watch::Watchers;

/// A built proxy, bound to its address, not yet serving.
#[derive(Debug)]
pub struct Application {
    pub(crate) listener: TcpListener,
    pub(crate) local_addr: SocketAddr,
    pub(crate) router: axum::Router,
    pub(crate) metrics_listener: Option<(TcpListener, SocketAddr)>,
    pub(crate) state: AppState,
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
    pub(crate) limits: serve::Limits,
}

/// Binds the listener and builds everything; does not serve yet.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (MEND_LISTEN)", config.listen))?;
    let local_addr = listener.local_addr()?;
    // What a browser on this machine can reach: `0.0.0.0` is not an address to visit.
    let public_addr = match local_addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], local_addr.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, local_addr.port()))
        }
        _ => local_addr,
    };
    let metrics_listener = match config.metrics_listen {
        None => None,
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (MEND_METRICS_LISTEN)"))?;
            let a = l.local_addr()?;
            Some((l, a))
        }
    };
    let metrics = Metrics::default();
    metrics.connections_max(config.max_connections);

    let (powens_cfg, sandbox, session_secret) = match &config.upstream {
        Upstream::Powens(p) => {
            let secret = config
                .session_secret
                .clone()
                .context("MEND_SESSION_SECRET is required outside sandbox mode")?;
            (p.clone(), None, secret)
        }
        Upstream::Sandbox => {
            tracing::warn!(
                "SANDBOX MODE: POWENS_API_URL is not set; serving the in-process Powens simulator \
                 at http://{public_addr}/sandbox with demo users and connections. Never use this \
                 with real users."
            );
            if config.sandbox_controls_anywhere {
                tracing::warn!(
                    "SANDBOX CONTROLS OPEN: MEND_SANDBOX_CONTROLS=anywhere, so anyone reaching \
                     this port can read the simulator's request log, inject faults and reset it \
                     (http://{public_addr}/sandbox/_sandbox/…)"
                );
            } else {
                tracing::warn!(
                    "sandbox control routes (http://{public_addr}/sandbox/_sandbox/…: request log, \
                     faults, reset) answer only callers on this machine; \
                     MEND_SANDBOX_CONTROLS=anywhere opens them"
                );
            }
            let public_base = format!("http://{public_addr}/sandbox");
            let mut sb_cfg = mend_sandbox::SandboxConfig::demo(public_base.clone());
            sb_cfg.redirect_uris = Some(
                config
                    .redirect_uris
                    .clone()
                    .unwrap_or_else(|| sandbox_redirect_uris(public_addr)),
            );
            // With webhooks on, the simulator sends them to this proxy, signed.
            if let Some(secret) = &config.webhook_secret {
                use secrecy::ExposeSecret as _;
                sb_cfg.webhooks = Some(mend_sandbox::WebhookTarget {
                    url: format!("http://{public_addr}/webhooks/powens"),
                    secret: secret.expose_secret().to_owned(),
                });
            }
            // The simulator writes its naive dates in the zone the proxy reads them in.
            if let Some(name) = config.timezone.iana_name() {
                sb_cfg.timezone = name.to_owned();
            }
            if let Some(setup) = config.sandbox_setup {
                setup(&mut sb_cfg);
            }
            let sandbox = mend_sandbox::Sandbox::new(sb_cfg);
            let secret = match config.session_secret.as_ref() {
                // A sandbox must never mint sessions that a production proxy sharing
                // this secret would accept (its demo route hands sessions to anyone):
                // sandbox sessions are signed with a key derived from the secret.
                Some(s) => sandbox_session_key(s),
                None => {
                    let mut bytes = [0u8; 32];
                    getrandom::fill(&mut bytes)
                        .map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
                    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
                }
            };
            let p = config::PowensConfig {
                api_url: format!("{public_base}/2.0"),
                client_id: mend_sandbox::DEMO_CLIENT_ID.to_owned(),
                client_secret: SecretString::from(mend_sandbox::DEMO_CLIENT_SECRET),
                webview_url: format!("{public_base}/webview"),
                domain: mend_sandbox::DEMO_DOMAIN.to_owned(),
            };
            (p, Some(sandbox), secret)
        }
    };

    let redirect_uris = match (&config.redirect_uris, &sandbox) {
        (Some(list), _) => list.clone(),
        (None, Some(_)) => sandbox_redirect_uris(public_addr),
        (None, None) => Vec::new(),
    };
    let allowed_origins = match (config.allowed_origins.is_empty(), &sandbox) {
        (true, Some(_)) => SANDBOX_ORIGINS.iter().map(|s| (*s).to_owned()).collect(),
        _ => config.allowed_origins.clone(),
    };

    let store = match &config.redis_url {
        None => Store::local(metrics.clone()),
        Some(url) => {
            if sandbox.is_some() {
                tracing::warn!(
                    "MEND_REDIS_URL in sandbox mode: each replica runs its own simulator; a cluster needs one Powens (POWENS_API_URL)"
                );
            }
            Store::redis(
                store::RedisSettings {
                    url: url.clone(),
                    prefix: format!("mend:{}:", powens_cfg.client_id),
                    poll_interval: config.poll_interval,
                    token_key: store::sealed::TokenKey::derive(&session_secret),
                },
                metrics.clone(),
            )
            .map_err(anyhow::Error::msg)?
        }
    };
    let powens = PowensClient::new(
        PowensSettings {
            api_url: powens_cfg.api_url.clone(),
            client_id: powens_cfg.client_id.clone(),
            client_secret: powens_cfg.client_secret.clone(),
            timeout: config.upstream_timeout,
            submission_timeout: config.submission_timeout,
            retry_backoff: config.retry_backoff,
            budget: config.powens_budget,
        },
        store.clone(),
        metrics.clone(),
    )?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let view = Arc::new(status::View {
        agent_status: config.agent_status,
        zone: config.timezone.clone(),
        renew_window: config.renew_window,
        clock: if sandbox.is_some() {
            mend_sandbox::now_ms
        } else {
            status::system_ms
        },
    });
    let watchers = Watchers::new(
        powens.clone(),
        schedule::Schedule {
            interval: config.poll_interval,
            webhooks: config.webhook_secret.is_some(),
        },
        config.max_waiters_per_user,
        view.clone(),
        store.clone(),
        metrics.clone(),
    );
    let state = AppState(Arc::new(Shared {
        reads: reads::Reads::new(powens.clone(), watchers.clone(), view.clone()),
        watchers,
        powens,
        sessions: SessionKeys::new(&session_secret),
        states: StateSigner::new(&session_secret, store.clone()),
        limits: Limits::new(
            config.rate_limit_per_ip,
            config.rate_limit_per_session,
            config.rate_limit_unauthenticated,
            store.clone(),
            metrics.clone(),
        ),
        store,
        metrics,
        settings: Arc::new(Settings {
            webview_url: powens_cfg.webview_url.clone(),
            domain: powens_cfg.domain.clone(),
            redirect_uris,
            agent_status: config.agent_status,
            view,
            webhook_secret: config.webhook_secret.clone(),
            sandbox,
            sandbox_controls_anywhere: config.sandbox_controls_anywhere,
            metrics_token: config.metrics_token.as_ref().map(metrics::Token::new),
        }),
        shutdown: shutdown_rx,
        widget: widget::WidgetFiles::new(config.widget_dir.clone()),
    }));
    if !config.widget_dir.is_dir() {
        tracing::warn!(dir = %config.widget_dir.display(), "MEND_WIDGET_DIR is not a folder: /widget/ will answer 404 until the widget is built");
    }
    if let Some(sandbox) = &state.settings.sandbox {
        // The simulator's control routes rewrite its data or skip its clock: what the
        // proxy knew (a status, a next_try an hour away) no longer holds.
        let mut changes = sandbox.changes();
        let watchers = state.watchers.clone();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                watchers.forget_all();
            }
        });
    }
    let router = routes::router(
        state.clone(),
        &allowed_origins,
        Arc::new(config.trusted_proxies.clone()),
    );
    warn_above_open_files_limit(config.max_connections);
    tracing::info!(
        %local_addr,
        sandbox = state.settings.sandbox.is_some(),
        shared_store = state.store.is_shared(),
        metrics_listen = metrics_listener.as_ref().map(|(_, a)| a.to_string()),
        "mend-proxy ready"
    );
    Ok(Application {
        listener,
        local_addr,
        router,
        metrics_listener,
        state,
        shutdown: shutdown_tx,
        limits: serve::Limits {
            header_timeout: config.header_timeout,
            write_timeout: config.write_timeout,
            max_connections: config.max_connections,
        },
    })
}

/// Warns when `MEND_MAX_CONNECTIONS` is above the process' open-files limit: the
/// accept loop would then meet "too many open files" before its cap.
pub(crate) fn warn_above_open_files_limit(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(soft) = soft
        && soft < max_connections + 64
    {
        tracing::warn!(
            open_files = soft,
            max_connections,
            "the open-files limit is below MEND_MAX_CONNECTIONS: raise it (systemd: LimitNOFILE) or lower the cap"
        );
    }
}
