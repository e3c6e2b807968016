//! The router and the handlers of docs/api.md (the actions sent to the bank are in
//! [`crate::actions`], leaving for a redirect and coming back in [`crate::redirects`]).

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mend_model::api::{ConnectionStatus, ConnectionStatusList};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::AppState;
use crate::error::ApiError;
use crate::session::Session;
use crate::{actions, http, redirects, widget};

/// Largest request body, in bytes.
pub const BODY_LIMIT: usize = 16 * 1024;
/// Longest long-poll, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;
/// Webview languages Powens offers.
pub const LANGS: [&str; 7] = ["en", "fr", "de", "nl", "pt", "it", "es"];
/// Lifetime of a demo session (sandbox mode).
pub const DEMO_SESSION_TTL: Duration = Duration::from_secs(15 * 60);

/// The whole router: API, health, widget files, and the sandbox in sandbox mode.
/// `trusted` are the proxies whose `X-Forwarded-For` names the client.
pub fn router(
    state: AppState,
    allowed_origins: &[String],
    trusted: std::sync::Arc<crate::client_addr::TrustedProxies>,
) -> Router {
    let mut api = Router::new()
        .route("/api/v1/connections", get(list_connections))
        .route("/api/v1/connections/{id}", get(get_connection))
        .route(
            "/api/v1/connections/{id}/fields",
            post(actions::submit_fields),
        )
        .route("/api/v1/connections/{id}/resume", post(actions::resume))
        .route("/api/v1/connections/{id}/sync", post(actions::sync))
        .route(
            "/api/v1/connections/{id}/reconnect-url",
            post(redirects::reconnect_url),
        )
        .route(
            "/api/v1/connections/{id}/webauth-url",
            post(redirects::webauth_url),
        )
        .route("/api/v1/callback", post(redirects::callback))
        .route("/api/v1/openapi.json", get(crate::openapi::serve));
    if state.settings.sandbox.is_some() {
        api = api
            .route("/api/v1/demo/connections", get(demo_connections))
            .route("/api/v1/demo/session", get(demo_session));
    }
    let api = api.route("/api/{*rest}", axum::routing::any(api_not_found));
    let api = if state.settings.webhook_secret.is_some() {
        api.route("/webhooks/powens/{event}", post(crate::webhooks::receive))
    } else {
        api
    };

    let mut app = Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/", get(widget::to_widget))
        .route("/widget", get(widget::to_widget))
        .route("/widget/", get(widget::serve))
        .route("/widget/{*path}", get(widget::serve));
    if let Some(sandbox) = &state.settings.sandbox {
        app = app.nest_service(
            "/sandbox",
            crate::sandbox_gate::guarded(sandbox, state.settings.sandbox_controls_anywhere),
        );
    }
    // One layer (so one boxed service and future per request, not one per
    // middleware): context (id, log, counters, security headers) → CORS → on `/api`,
    // the session check, the rate limits, the body limit and `no-store`.
    let layers = tower::ServiceBuilder::new()
        .layer(http::ContextLayer::new(state.metrics.clone()))
        .option_layer(cors(allowed_origins))
        .layer(http::ApiGuardLayer::new(
            state.limits.clone(),
            state.sessions.clone(),
            trusted,
            BODY_LIMIT,
        ));
    app.fallback(api_not_found).layer(layers).with_state(state)
}

/// CORS for the configured origins only; no layer at all (same origin only) when none.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let values: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods([Method::GET, Method::POST, Method::HEAD])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                http::X_REQUEST_ID,
            ])
            .expose_headers([http::X_REQUEST_ID, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// A connection id from the path; anything but a positive integer is "no such connection".
#[derive(Debug, Clone, Copy)]
pub struct ConnId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ConnId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        raw.parse::<i64>()
            .ok()
            .filter(|&id| id > 0)
            .map(ConnId)
            .ok_or(ApiError::NotFound)
    }
}

/// `Query` answering the error envelope.
#[derive(Debug, Clone)]
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e: QueryRejection| {
                ApiError::BadRequest(format!("query rejected ({})", e.status()))
            })
    }
}

/// `?wait=N&since=S`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds to wait for a change (≤ 30; more is capped).
    pub wait: Option<u64>,
    /// The state the caller knows (`ok` for `null`).
    pub since: Option<String>,
}

/// Every connection of the session user (only the claimed ones when the session
/// names some), from one upstream list shared like a plain read (see `reads`).
#[utoipa::path(
    get,
    path = "/api/v1/connections",
    tag = "connections",
    responses(
        (status = 200, description = "Every connection of the session user (only the claimed ones when the session names some)", body = mend_model::api::ConnectionStatusList),
        (status = 404, description = "`not_found`: Powens does not know the session user", body = mend_model::api::ErrorBody),
    )
)]
async fn list_connections(
    State(st): State<AppState>,
    session: Session,
) -> Result<Json<ConnectionStatusList>, ApiError> {
    let all = st.reads.list(session.user).await?;
    Ok(Json(ConnectionStatusList {
        connections: all
            .into_iter()
            .filter(|s| session.may_touch(s.id))
            .collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}",
    tag = "connections",
    params(("id" = i64, Path, description = "The Powens connection id"), WaitQuery),
    responses(
        (status = 200, description = "The connection's status (after a long-poll: when it changed, or when the wait ended)", body = ConnectionStatus),
        (status = 400, description = "`bad_request`: a bad `since` or query", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`: no such connection for this session (or deleted)", body = mend_model::api::ErrorBody),
    )
)]
async fn get_connection(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
    AppQuery(q): AppQuery<WaitQuery>,
) -> Result<Response, ApiError> {
    session.check(id)?;
    if let Some(since) = &q.since
        && (since.is_empty() || since.len() > 64)
    {
        return Err(ApiError::BadRequest("bad `since`".into()));
    }
    match q.wait.filter(|&w| w > 0) {
        // A plain read: shares the upstream GET in flight, if any (see `reads`).
        None => {
            let body = st.reads.status(session.user, id).await?;
            Ok((
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response())
        }
        Some(w) => {
            let wait = Duration::from_secs(w.min(MAX_WAIT_SECS));
            let status = st
                .watchers
                .wait(
                    session.user,
                    id,
                    q.since.as_deref(),
                    wait,
                    st.shutdown.clone(),
                )
                .await?;
            Ok(Json(status).into_response())
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/demo/connections",
    tag = "sandbox",
    responses((status = 200, description = "The sandbox's demo connections (id, state, bank) for the demo page", content_type = "application/json"))
)]
async fn demo_connections(State(st): State<AppState>) -> Result<Response, ApiError> {
    let sandbox = st.settings.sandbox.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(sandbox.demo_connections()).into_response())
}

/// `?connection=ID`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemoSessionQuery {
    /// Limit the session to this connection.
    pub connection: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/demo/session",
    tag = "sandbox",
    params(DemoSessionQuery),
    responses((status = 200, description = "`{\"session\": JWT}`: a session of the sandbox's demo user", content_type = "application/json"))
)]
async fn demo_session(
    State(st): State<AppState>,
    AppQuery(q): AppQuery<DemoSessionQuery>,
) -> Result<Response, ApiError> {
    if st.settings.sandbox.is_none() {
        return Err(ApiError::NotFound);
    }
    let token = st.sessions.mint(
        mend_sandbox::DEMO_USER_ID,
        q.connection.map(|c| vec![c]),
        DEMO_SESSION_TTL,
    );
    Ok(Json(serde_json::json!({ "session": token })).into_response())
}

/// The widget's view of `conn`, also handed to the connection's waiters, stamped
/// `at`: when a read started, or when an action's answer arrived (a read that began
/// during an action may still show the state before it, so it must not win over the
/// action's answer).
pub(crate) fn answer(
    st: &AppState,
    user: i64,
    id: i64,
    at: Instant,
    conn: &mend_model::Connection,
) -> ConnectionStatus {
    let status = st.settings.view.status_of(conn);
    st.watchers.publish(user, id, at, &status);
    status
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`ok`: the process is alive", content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok\n"
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "`ready`: Powens is reachable", content_type = "text/plain"),
        (status = 503, description = "`upstream_unavailable`: Powens is not reachable", body = mend_model::api::ErrorBody),
    )
)]
async fn readyz(State(st): State<AppState>) -> Response {
    if st.store.check().await.is_err() {
        tracing::warn!("not ready: the shared store (MEND_REDIS_URL) does not answer");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("2"))],
            "not ready: the shared store (MEND_REDIS_URL) does not answer\n",
        )
            .into_response();
    }
    if st.powens.ping().await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        ApiError::Upstream(crate::upstream::UpstreamError::Unreachable(
            "readiness probe".into(),
        ))
        .into_response()
    }
}

/// `/metrics` on the main listener: only with `MEND_METRICS_TOKEN`, and only to who
/// presents it (404 without one configured, as if the route did not exist).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format, to the holder of MEND_METRICS_TOKEN", content_type = "text/plain"), (status = 401, description = "missing or wrong metrics token"), (status = 404, description = "no MEND_METRICS_TOKEN configured")))]
async fn metrics(State(st): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    match &st.settings.metrics_token {
        None => ApiError::NotFound.into_response(),
        Some(token) if !token.accepts(&headers) => {
            ApiError::Unauthorized("metrics token").into_response()
        }
        Some(_) => metrics_text(&st),
    }
}

/// The router of `MEND_METRICS_LISTEN`: `/metrics` without a token, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(st): State<AppState>| async move { metrics_text(&st) }),
        )
        .fallback(api_not_found)
        .with_state(state)
}

fn metrics_text(st: &AppState) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
        )],
        st.metrics.render(),
    )
        .into_response()
}
