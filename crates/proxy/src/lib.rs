//! # mend-proxy
//!
//! The only thing that talks to Powens: it holds the client secret, gets user tokens,
//! mints temporary codes, checks what the widget submits, watches connections for
//! many widgets at once, and serves the widget's files. Its HTTP API is documented in
//! `docs/api.md`; its configuration in CONTRACT §2 and [`config`].
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

pub use config::{Config, Upstream};

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

/// A built proxy, bound to its address, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: axum::Router,
    metrics_listener: Option<(TcpListener, SocketAddr)>,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    limits: serve::Limits,
}

/// The demo pages, the default `MEND_REDIRECT_URIS` in sandbox mode (Trunk's dev
/// server on 8080, and the widget this proxy serves).
pub fn sandbox_redirect_uris(addr: SocketAddr) -> Vec<String> {
    vec![
        "http://127.0.0.1:8080/widget/".to_owned(),
        "http://localhost:8080/widget/".to_owned(),
        "http://127.0.0.1:8080/".to_owned(),
        "http://localhost:8080/".to_owned(),
        format!("http://{addr}/widget/"),
        format!("http://{addr}/widget/index.html"),
    ]
}

/// The default `MEND_ALLOWED_ORIGINS` in sandbox mode: Trunk's dev server.
pub const SANDBOX_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];

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

impl Application {
    /// The bound address (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound address of `MEND_METRICS_LISTEN`, if set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|(_, a)| *a)
    }

    /// The whole router (for `tower::ServiceExt::oneshot` tests).
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The in-process sandbox, in sandbox mode.
    pub fn sandbox(&self) -> Option<&mend_sandbox::Sandbox> {
        self.state.settings.sandbox.as_ref()
    }

    /// The session keys (to mint sessions in tests and tools).
    pub fn session_keys(&self) -> &SessionKeys {
        &self.state.sessions
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests (long-polls
    /// answer at once).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = self.shutdown;
        let stopping = shutdown.subscribe();
        let main = serve::serve(
            self.listener,
            self.router,
            self.limits,
            self.state.metrics.clone(),
            async move {
                signal.await;
                tracing::info!("shutting down: finishing in-flight requests");
                let _ = shutdown.send(true);
            },
        );
        let metrics = async {
            let Some((listener, _)) = self.metrics_listener else {
                return Ok(());
            };
            let mut stopping = stopping;
            serve::serve(
                listener,
                routes::metrics_router(self.state.clone()),
                serve::Limits {
                    max_connections: 64,
                    ..self.limits
                },
                self.state.metrics.clone(),
                async move {
                    let _ = stopping.wait_for(|s| *s).await;
                },
            )
            .await
        };
        let (served, _) = tokio::join!(main, metrics);
        // The other replicas take this one's connections over at once.
        self.state.store.leave().await;
        served
    }
}

/// Warns when `MEND_MAX_CONNECTIONS` is above the process' open-files limit: the
/// accept loop would then meet "too many open files" before its cap.
fn warn_above_open_files_limit(max_connections: usize) {
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

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Label of the sandbox-mode session key derivation (see [`sandbox_session_key`]).
pub const SANDBOX_KEY_LABEL: &str = "mend-sandbox-session-key-v1";

/// The session key used in sandbox mode when `MEND_SESSION_SECRET` is set:
/// `hex(HMAC-SHA256(secret, "mend-sandbox-session-key-v1"))`. Tests that sign their own
/// sessions for a sandbox-mode proxy derive the same key; a production proxy given the
/// raw secret refuses them.
pub fn sandbox_session_key(secret: &SecretString) -> SecretString {
    use hmac::Mac as _;
    use secrecy::ExposeSecret as _;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
    mac.update(SANDBOX_KEY_LABEL.as_bytes());
    let digest = mac.finalize().into_bytes();
    SecretString::from(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    )
}

#[cfg(test)]
mod sandbox_key_tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn sandbox_sessions_are_signed_with_a_key_a_production_proxy_does_not_hold() {
        let secret = SecretString::from("an integrator's production secret, 32+ bytes long");
        let derived = sandbox_session_key(&secret);
        assert_ne!(derived.expose_secret(), secret.expose_secret());
        assert_eq!(derived.expose_secret().len(), 64);
        // Deterministic, so tests can sign sandbox sessions themselves.
        assert_eq!(
            sandbox_session_key(&secret).expose_secret(),
            derived.expose_secret()
        );
        crate::session::install_hs256_provider();
        let token = SessionKeys::new(&derived).mint(1, None, std::time::Duration::from_secs(60));
        assert!(SessionKeys::new(&secret).verify(&token).is_err());
        assert!(SessionKeys::new(&derived).verify(&token).is_ok());
    }
}
