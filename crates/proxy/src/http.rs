//! Middleware shared by every route: request ids, one structured log line and one
//! counter per request, security headers, and on `/api` the session check and the
//! rate limits charged after it.
//!
//! Logs name the matched route (`/api/v1/connections/{id}`), never the raw URI: query
//! strings and bodies can carry codes, states and field values.

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use std::time::Instant;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use tracing::Instrument as _;
use tracing::instrument::Instrumented;

use crate::client_addr::{ClientAddr, TrustedProxies};
use crate::error::REQUEST_ID;
use crate::metrics::Metrics;
use crate::ratelimit::Limits;
use crate::session::{Checked, SessionKeys};

/// The request id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-supplied id is kept only if it is short and plain; otherwise a fresh one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            let mut id = String::with_capacity(16);
            for x in b {
                id.push(char::from(HEX[usize::from(x >> 4)]));
                id.push(char::from(HEX[usize::from(x & 15)]));
            }
            id
        })
}

/// The outermost layer of every route: a request id (kept in a task-local for the
/// error envelope), one log line and the counters per request, and the security
/// headers. A hand-written service rather than `from_fn`: its future is held by every
/// waiting long-poll, so it is kept small (no boxed copies of the request).
#[derive(Debug, Clone)]
pub struct ContextLayer {
    metrics: Metrics,
}

impl ContextLayer {
    /// The layer, counting into `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = Context<S>;

    fn layer(&self, inner: S) -> Context<S> {
        Context {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`ContextLayer`].
#[derive(Debug, Clone)]
pub struct Context<S> {
    inner: S,
    metrics: Metrics,
}

/// The route a request is counted and logged under: the matched route, never the raw
/// path (query strings and bodies can carry codes, states and field values).
#[derive(Debug)]
enum RouteName {
    Matched(MatchedPath),
    Static(&'static str),
}

impl RouteName {
    fn as_str(&self) -> &str {
        match self {
            Self::Matched(m) => m.as_str(),
            Self::Static(s) => s,
        }
    }
}

impl<S> Service<Request> for Context<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = request_id(&req);
        let route = match req.extensions().get::<MatchedPath>() {
            Some(m) => RouteName::Matched(m.clone()),
            None if req.uri().path().starts_with("/sandbox/") => RouteName::Static("/sandbox/*"),
            None => RouteName::Static("unmatched"),
        };
        let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route = route.as_str());
        let header = HeaderValue::from_str(&id).ok();
        // The inner services may answer at once (a rate limit): in the scope too.
        let inner = {
            let _entered = span.enter();
            REQUEST_ID.sync_scope(id.clone(), || self.inner.call(req))
        };
        ContextFuture {
            inner: REQUEST_ID.scope(id, inner.instrument(span.clone())),
            span,
            header,
            route,
            metrics: self.metrics.clone(),
            started: Instant::now(),
        }
    }
}

pin_project! {
    /// The future of [`Context`].
    pub struct ContextFuture<F> {
        #[pin]
        inner: TaskLocalFuture<String, Instrumented<F>>,
        span: tracing::Span,
        header: Option<HeaderValue>,
        route: RouteName,
        metrics: Metrics,
        started: Instant,
    }
}

impl<F> Future for ContextFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut res) = ready!(this.inner.poll(cx));
        let status = res.status().as_u16();
        let elapsed = this.started.elapsed();
        let elapsed_ms = elapsed.as_millis() as u64;
        let route = this.route.as_str();
        this.span.in_scope(|| {
            // The in-process sandbox's own traffic (sandbox mode) is debug noise.
            if route.starts_with("/sandbox") {
                tracing::debug!(status, elapsed_ms, "answered");
            } else {
                tracing::info!(status, elapsed_ms, "answered");
            }
        });
        this.metrics.http(route, status);
        this.metrics.http_duration(route, elapsed.as_secs_f64());
        let headers = res.headers_mut();
        if let Some(v) = this.header.take() {
            headers.insert(X_REQUEST_ID, v);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        Poll::Ready(Ok(res))
    }
}

/// Inside CORS: on `/api/…` only, the session check, then the rate limits (see
/// [`crate::ratelimit`]: charged after the session is known, the client address as
/// [`crate::client_addr`] reads it), the body size limit, and `Cache-Control:
/// no-store` (`/api` answers are never cached by browsers or intermediaries). CORS
/// preflights are answered before it. The checked session and the client address go
/// into the request's extensions for the handlers.
#[derive(Debug, Clone)]
pub struct ApiGuardLayer {
    limits: Limits,
    sessions: SessionKeys,
    trusted: Arc<TrustedProxies>,
    body_limit: usize,
}

impl ApiGuardLayer {
    /// The layer, with these limits (`body_limit` in bytes).
    pub fn new(
        limits: Limits,
        sessions: SessionKeys,
        trusted: Arc<TrustedProxies>,
        body_limit: usize,
    ) -> Self {
        Self {
            limits,
            sessions,
            trusted,
            body_limit,
        }
    }
}

impl<S> Layer<S> for ApiGuardLayer {
    type Service = ApiGuard<S>;

    fn layer(&self, inner: S) -> ApiGuard<S> {
        ApiGuard {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`ApiGuardLayer`].
#[derive(Debug, Clone)]
pub struct ApiGuard<S> {
    inner: S,
    layer: ApiGuardLayer,
}

/// A charge of the rate limits that had to wait for the shared store.
type Charging = Pin<Box<dyn Future<Output = Result<(), crate::error::ApiError>> + Send>>;

impl<S> Service<Request> for ApiGuard<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ApiGuardFuture<S, S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if !req.uri().path().starts_with("/api/") {
            return ApiGuardFuture::Other {
                inner: self.inner.call(req),
            };
        }
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip());
        let client = self.layer.trusted.client(peer, req.headers());
        let checked = Checked::of(req.headers(), &self.layer.sessions);
        let user = checked.0.as_ref().ok().map(|s| s.user);
        req.extensions_mut().insert(ClientAddr(client));
        req.extensions_mut().insert(checked);
        axum::extract::DefaultBodyLimit::max(self.layer.body_limit).apply(&mut req);
        // The service that was polled ready answers this request; a clone takes its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        match self.layer.limits.check_now(client, user) {
            Some(Err(e)) => ApiGuardFuture::Refused {
                response: Some(no_store(e.into_response())),
            },
            Some(Ok(())) => {
                let mut inner = inner;
                ApiGuardFuture::Api {
                    inner: inner.call(req),
                }
            }
            None => {
                let limits = self.layer.limits.clone();
                ApiGuardFuture::Charging {
                    charge: Box::pin(async move { limits.check(client, user).await }),
                    next: Some((inner, req)),
                }
            }
        }
    }
}

pin_project! {
    /// The future of [`ApiGuard`].
    #[project = ApiGuardProj]
    pub enum ApiGuardFuture<S, F> {
        /// Refused before the route.
        Refused { response: Option<Response> },
        /// The rate limits are being charged in the shared store.
        Charging { charge: Charging, next: Option<(S, Request)> },
        /// An `/api` route.
        Api { #[pin] inner: F },
        /// Any other route.
        Other { #[pin] inner: F },
    }
}

impl<S, F> Future for ApiGuardFuture<S, F>
where
    S: Service<Request, Response = Response, Error = Infallible, Future = F>,
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                ApiGuardProj::Refused { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())));
                }
                ApiGuardProj::Charging { charge, next } => {
                    let charged = ready!(charge.as_mut().poll(cx));
                    let Some((mut inner, req)) = next.take() else {
                        return Poll::Ready(Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response()));
                    };
                    match charged {
                        Err(e) => return Poll::Ready(Ok(no_store(e.into_response()))),
                        Ok(()) => {
                            let inner = inner.call(req);
                            self.set(ApiGuardFuture::Api { inner });
                        }
                    }
                }
                ApiGuardProj::Api { inner } => return inner.poll(cx).map(|r| r.map(no_store)),
                ApiGuardProj::Other { inner } => return inner.poll(cx),
            }
        }
    }
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
