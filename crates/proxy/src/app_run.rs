//! Serving a built proxy until a signal, then draining: long polls answer at once,
//! and the other replicas take this one's connections over.

use crate::{Application, routes, serve};
use std::net::SocketAddr;

use crate::metrics::Metrics;
use crate::session::SessionKeys;

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

pub(crate) async fn shutdown_signal() {
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
