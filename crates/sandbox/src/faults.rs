//! The request log, run-time faults, and the `/_sandbox` control routes.

use crate::Sandbox;
use crate::error::ApiError;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

/// One recorded `/2.0` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path as routed by the sandbox, e.g. `/2.0/users/me/connections/104`.
    pub path: String,
    /// Raw query string, without `?` (empty when none).
    pub query: String,
    /// Raw body as received (lossy UTF-8).
    pub body: String,
    /// The user of the bearer token, when it is valid.
    pub user: Option<i64>,
    /// Status answered; `0` when nothing was answered (a dropped connection, or a
    /// client that gave up first, e.g. during the timeout fault).
    pub status: u16,
    /// Position in the log since the sandbox started (1, 2, …; never reused, not reset
    /// by a clear), so that a reader polling `GET /_sandbox/requests?after=N` misses
    /// nothing even when more than [`LOG_CAPACITY`] requests pass in a run.
    #[serde(default)]
    pub seq: u64,
}

/// Faults injected into the `/2.0` JSON API (never into HTML pages or control routes).
///
/// A request is faulted with probability `fraction`; a faulted request waits
/// `latency_ms`, then suffers `kind` (if any), or, when `mix` is not empty, one of
/// `mix` picked at random (a long-running failing upstream fails in every way at
/// once). `Faults::default()` is "off".
/// JSON: `{"fraction": 1.0, "latency_ms": 0, "kind": "ServerError"}`, or
/// `"kind": {"RateLimited": {"retry_after_secs": 5}}`, or
/// `{"fraction": 0.2, "mix": ["ServerError", "Drop", {"Slow": {"latency_ms": 3000}}]}`;
/// every key may be omitted (`fraction` defaults to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of `/2.0` requests affected, 0.0–1.0. Default 1.0.
    pub fraction: f64,
    /// Added delay of an affected request, in milliseconds (at most 10 minutes). Default 0.
    pub latency_ms: u64,
    /// What happens to an affected request. Default none.
    pub kind: Option<FaultKind>,
    /// What may happen to an affected request, one picked at random each time;
    /// replaces `kind` when not empty. Default empty.
    pub mix: Vec<FaultKind>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fraction: 1.0,
            latency_ms: 0,
            kind: None,
            mix: Vec::new(),
        }
    }
}

/// A kind of fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// `500 {"code":"bug"}`.
    ServerError,
    /// `429` with `Retry-After: retry_after_secs` and `{"code":"tooManyRequests"}`.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Hangs for `SandboxConfig::fault_hang` (60 s), then `504 {"code":"timeout"}`.
    Timeout,
    /// `200`, `content-type: application/json`, and a truncated JSON body.
    MalformedJson,
    /// The connection is closed without a complete answer.
    Drop,
    /// The right answer, `latency_ms` late (at most 10 minutes).
    Slow {
        /// The delay, in milliseconds.
        latency_ms: u64,
    },
}

/// How many requests the log keeps (the oldest go first): a long-running demo
/// server polled by a proxy must not grow without bound.
pub const LOG_CAPACITY: usize = 10_000;

/// The request log.
#[derive(Debug, Default)]
pub(crate) struct Log {
    next: u64,
    entries: std::collections::VecDeque<(u64, RecordedRequest)>,
}

impl Log {
    fn push(&mut self, mut r: RecordedRequest) -> u64 {
        self.next += 1;
        r.seq = self.next;
        if self.entries.len() >= LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back((self.next, r));
        self.next
    }

    fn set_status(&mut self, id: u64, status: u16) {
        if let Some((_, r)) = self.entries.iter_mut().rev().find(|(i, _)| *i == id) {
            r.status = status;
        }
    }

    pub fn entries(&self) -> Vec<RecordedRequest> {
        self.entries_after(0)
    }

    /// The entries logged after sequence number `after`.
    pub fn entries_after(&self, after: u64) -> Vec<RecordedRequest> {
        self.entries
            .iter()
            .filter(|(i, _)| *i > after)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Marks a response that must count as "not answered" in the log.
#[derive(Debug, Clone, Copy)]
struct Unanswered;

/// The longest injected latency (10 minutes).
const MAX_LATENCY_MS: u64 = 600_000;

/// The largest body the sandbox reads.
const BODY_LIMIT: usize = 1 << 20;

impl Sandbox {
    /// Records a request (status 0 until answered); returns its log id.
    pub(crate) fn record(&self, req: RecordedRequest) -> u64 {
        crate::lock(&self.inner.log).push(req)
    }

    pub(crate) fn record_status(&self, id: u64, status: u16) {
        crate::lock(&self.inner.log).set_status(id, status);
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Records every request it wraps, with its raw body and its answer's status.
pub(crate) async fn log_layer(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalidValue",
                "Request body too large",
            )
            .into_response();
        }
    };
    let user = bearer(&parts.headers).and_then(|t| {
        let w = sb.world();
        w.token_user(t, crate::world::now_ms())
    });
    let parts_method = parts.method.clone();
    let parts_path = parts.uri.path().to_owned();
    let id = sb.record(RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        user,
        status: 0,
        seq: 0,
    });
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = if res.extensions().get::<Unanswered>().is_some() {
        0
    } else {
        res.status().as_u16()
    };
    sb.record_status(id, status);
    tracing::debug!(
        method = %parts_method,
        path = %parts_path,
        status,
        "powens request"
    );
    res
}

/// Applies the faults in force.
pub(crate) async fn fault_layer(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let faults = sb.faults();
    if faults.kind.is_none() && faults.mix.is_empty() && faults.latency_ms == 0 {
        return next.run(req).await;
    }
    if faults.fraction < 1.0 && rand::random::<f64>() >= faults.fraction {
        return next.run(req).await;
    }
    if faults.latency_ms > 0 {
        // Bounded, like every other wait of the sandbox.
        let latency = faults.latency_ms.min(MAX_LATENCY_MS);
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let kind = if faults.mix.is_empty() {
        faults.kind
    } else {
        let i = rand::random_range(0..faults.mix.len());
        faults.mix.get(i).cloned()
    };
    match kind {
        None => next.run(req).await,
        Some(FaultKind::Slow { latency_ms }) => {
            let latency = latency_ms.min(MAX_LATENCY_MS);
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
            next.run(req).await
        }
        Some(FaultKind::ServerError) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "bug",
            "Simulated internal error",
        )
        .into_response(),
        Some(FaultKind::RateLimited { retry_after_secs }) => {
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "tooManyRequests",
                "Fair-usage limit exceeded, retry later",
            )
            .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            res
        }
        Some(FaultKind::Timeout) => {
            tokio::time::sleep(sb.cfg().fault_hang).await;
            let mut res =
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", "Simulated timeout")
                    .into_response();
            res.extensions_mut().insert(Unanswered);
            res
        }
        Some(FaultKind::MalformedJson) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"id": 101, "state": null, "error": nu"#,
        )
            .into_response(),
        Some(FaultKind::Drop) => {
            // A body that fails at once: hyper closes the connection without a
            // complete answer.
            let failing = futures_util::stream::iter([Err::<Bytes, std::io::Error>(
                std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "dropped"),
            )]);
            let mut res = Response::new(Body::from_stream(failing));
            res.extensions_mut().insert(Unanswered);
            res
        }
    }
}

/// `GET /_sandbox/requests?after=N`: only what was logged after sequence number `N`.
#[derive(Debug, Default, Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

/// `/_sandbox/*`: inspect and drive the sandbox over HTTP.
pub(crate) fn control_routes() -> axum::Router<Sandbox> {
    axum::Router::new()
        .route(
            "/_sandbox/requests",
            get(
                |State(sb): State<Sandbox>,
                 axum::extract::Query(q): axum::extract::Query<After>| async move {
                    Json(sb.requests_after(q.after))
                },
            )
            .delete(
                |State(sb): State<Sandbox>| async move {
                    sb.clear_requests();
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/_sandbox/faults",
            put(
                |State(sb): State<Sandbox>, Json(f): Json<Faults>| async move {
                    sb.set_faults(f.clone());
                    Json(f)
                },
            )
            .get(|State(sb): State<Sandbox>| async move { Json(sb.faults()) }),
        )
        .route(
            "/_sandbox/reset",
            post(|State(sb): State<Sandbox>| async move {
                sb.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sandbox/connections",
            get(|State(sb): State<Sandbox>| async move { Json(sb.demo_connections()) }),
        )
        .route(
            "/_sandbox/clock",
            get(|| async { Json(Clock::now()) })
                .put(|Json(c): Json<StopClock>| async move {
                    if !(0..=MAX_CLOCK_MS).contains(&c.now_ms) {
                        return Err((StatusCode::BAD_REQUEST, "now_ms: milliseconds since 1970, before the year 10000\n"));
                    }
                    crate::stop_clock(Some(c.now_ms));
                    Ok(Json(Clock::now()))
                })
                .delete(|| async {
                    crate::stop_clock(None);
                    Json(Clock::now())
                }),
        )
        .route(
            "/_sandbox/connections/{id}/scenario",
            put(
                |State(sb): State<Sandbox>,
                 axum::extract::Path(id): axum::extract::Path<i64>,
                 Json(s): Json<crate::Scenario>| async move {
                    if sb.set_scenario(id, s.clone()) {
                        Json(s).into_response()
                    } else {
                        StatusCode::NOT_FOUND.into_response()
                    }
                },
            ),
        )
        .route(
            "/_sandbox/users/{id}/revoke-tokens",
            post(
                |State(sb): State<Sandbox>, axum::extract::Path(id): axum::extract::Path<i64>| async move {
                    sb.revoke_tokens(id);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/_sandbox/connections/{id}/retry-now",
            post(
                |State(sb): State<Sandbox>, axum::extract::Path(id): axum::extract::Path<i64>| async move {
                    if sb.retry_now(id) {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    }
                },
            ),
        )
}

/// `PUT /_sandbox/clock` body: stop the clock at this time.
#[derive(Debug, Deserialize)]
struct StopClock {
    now_ms: i64,
}

/// 9999-12-31T23:59:59.999Z.
const MAX_CLOCK_MS: i64 = 253_402_300_799_999;

/// `/_sandbox/clock` answer: the sandbox's time, and whether it stands still.
#[derive(Debug, Serialize)]
struct Clock {
    now_ms: i64,
    stopped: bool,
}

impl Clock {
    fn now() -> Self {
        Self {
            now_ms: crate::world::now_ms(),
            stopped: crate::world::stopped_at().is_some(),
        }
    }
}
