//! The accept loop: HTTP/1.1 with hyper directly rather than `axum::serve`, because
//! the listener must hold limits `axum::serve` does not set:
//!
//! - a **header read timeout** (`axum::serve` sets no timer, so hyper's would be
//!   inert and a client trickling a request's headers, slowloris, would hold a
//!   connection forever), and the same deadline for a request's body;
//! - a **write deadline**: a client that accepts no byte of its answer for
//!   `MEND_WRITE_TIMEOUT` (it stopped reading, long-polls included) is cut;
//! - a **cap on open connections** (`MEND_MAX_CONNECTIONS`): beyond it the loop
//!   stops accepting, so new connections wait in the kernel's listen backlog until
//!   one closes (a long-poll ends within 30 s), never a crash or a lost request.
//!
//! The client address is put in the request as axum's `ConnectInfo<SocketAddr>`;
//! shutdown is graceful (in-flight requests finish, long-polls answer at once
//! through the app's own shutdown signal) but bounded by [`SHUTDOWN_GRACE`].

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::metrics::Metrics;

/// The limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest time to send a request's headers, and its body.
    pub header_timeout: Duration,
    /// Longest time a client may accept no byte of its answer.
    pub write_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

/// How often the cap being reached is logged at most.
const CAP_LOG_EVERY: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `signal`, then waits for open requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Metrics,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut cap_logged: Option<Instant> = None;
    loop {
        if permits.available_permits() == 0
            && cap_logged.is_none_or(|t| t.elapsed() > CAP_LOG_EVERY)
        {
            cap_logged = Some(Instant::now());
            tracing::warn!(
                max = limits.max_connections,
                "MEND_MAX_CONNECTIONS reached: new connections wait until one closes"
            );
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut signal => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let header_timeout = limits.header_timeout;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            router
                .clone()
                .oneshot(req.map(|b| Body::new(DeadlineBody::new(b, header_timeout))))
        });
        let io = WriteDeadline::new(stream, limits.write_timeout, metrics.clone());
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(io), service);
        let conn = graceful.watch(conn);
        let open = Open::new(metrics.clone(), permit);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?SHUTDOWN_GRACE,
            "connections still open after the shutdown grace period: closing them"
        );
    }
    Ok(())
}

/// How long shutdown waits for open connections before closing them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// An open connection: counted, and holding one of the cap's permits.
struct Open {
    metrics: Metrics,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Open {
    fn new(metrics: Metrics, permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        metrics.connections(1);
        Self {
            metrics,
            _permit: permit,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.metrics.connections(-1);
    }
}

/// A socket whose writes fail once the peer has accepted no byte for `limit`: the
/// kernel's buffers absorb a small answer at once, so a write only waits when the
/// client stopped reading a large one, or many.
struct WriteDeadline<T> {
    inner: T,
    limit: Duration,
    /// Set when a write first had to wait; cleared by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    metrics: Metrics,
}

impl<T> WriteDeadline<T> {
    fn new(inner: T, limit: Duration, metrics: Metrics) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
            metrics,
        }
    }

    /// After a write that could not proceed: `Ready(Err)` once the deadline passed.
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.metrics.write_timeout();
                tracing::info!("client stopped reading its answer: connection cut");
                Poll::Ready(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "write deadline passed",
                ))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.check(cx).map(Err),
            done => {
                this.stalled = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.check(cx).map(Err),
            done => {
                this.stalled = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.check(cx).map(Err),
            done => {
                this.stalled = None;
                done
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.check(cx).map(Err),
            done => done,
        }
    }
}

/// A request body that must be complete within a deadline, counted from the first
/// time it is read. Bodies here are small JSON documents (16 KiB at most): one that
/// takes longer is a client holding the connection, and reading it fails.
struct DeadlineBody {
    inner: Incoming,
    limit: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            deadline: None,
        }
    }
}

impl hyper::body::Body for DeadlineBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("request body too slow".into())));
        }
        Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map_err(|e| Box::new(e) as Self::Error)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
