//! The router and the handlers of docs/api.md (the actions sent to the bank are in
//! [`crate::actions`]).

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mend_model::api::{
    CallbackOutcome, CallbackRequest, CallbackResult, ConnectionStatus, RedirectKind,
    RedirectRequest, RedirectUrl,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::AppState;
use crate::budget::Priority;
use crate::error::{ApiError, AppJson};
use crate::session::Session;
use crate::{actions, http, widget};

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
        .route("/api/v1/connections/{id}", get(get_connection))
        .route(
            "/api/v1/connections/{id}/fields",
            post(actions::submit_fields),
        )
        .route("/api/v1/connections/{id}/resume", post(actions::resume))
        .route("/api/v1/connections/{id}/sync", post(actions::sync))
        .route(
            "/api/v1/connections/{id}/reconnect-url",
            post(reconnect_url),
        )
        .route("/api/v1/connections/{id}/webauth-url", post(webauth_url))
        .route("/api/v1/callback", post(callback));
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
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    /// Seconds to wait for a change (≤ 30; more is capped).
    pub wait: Option<u64>,
    /// The state the caller knows (`ok` for `null`).
    pub since: Option<String>,
}

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

/// Checks the redirect URI and language of a redirect request.
fn redirect_target(st: &AppState, req: &RedirectRequest) -> Result<String, ApiError> {
    if !st.settings.redirect_uris.contains(&req.redirect_uri) {
        return Err(ApiError::RedirectNotAllowed);
    }
    let lang = req.lang.as_deref().unwrap_or("en");
    if !LANGS.contains(&lang) {
        return Err(ApiError::BadRequest("unsupported `lang`".into()));
    }
    Ok(lang.to_owned())
}

async fn reconnect_url(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
    AppJson(body): AppJson<RedirectRequest>,
) -> Result<Json<RedirectUrl>, ApiError> {
    session.check(id)?;
    let lang = redirect_target(&st, &body)?;
    // Ownership first: no code is minted for a connection that is not the user's.
    st.powens
        .connection(session.user, id, Priority::User)
        .await?;
    let code = st.powens.single_access_code(session.user).await?;
    let state = st
        .states
        .issue(session.user, id, RedirectKind::Reconnect)
        .await
        .map_err(state_error)?;
    let base = format!("{}/{lang}/reconnect", st.settings.webview_url);
    let mut url =
        url::Url::parse(&base).map_err(|_| ApiError::Internal("bad webview URL".into()))?;
    url.query_pairs_mut()
        .append_pair("domain", &st.settings.domain)
        .append_pair("client_id", st.powens.client_id())
        .append_pair("code", &code.code)
        .append_pair("connection_id", &id.to_string())
        .append_pair("redirect_uri", &body.redirect_uri)
        .append_pair("state", &state);
    tracing::info!(connection = id, "reconnect URL issued");
    Ok(Json(RedirectUrl {
        kind: RedirectKind::Reconnect,
        url: url.into(),
    }))
}

async fn webauth_url(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
    AppJson(body): AppJson<RedirectRequest>,
) -> Result<Json<RedirectUrl>, ApiError> {
    session.check(id)?;
    redirect_target(&st, &body)?;
    let conn = st
        .powens
        .connection(session.user, id, Priority::User)
        .await?;
    if conn.effective_state().is_none() {
        return Err(ApiError::Conflict("the connection is fine"));
    }
    let source = webauth_source(&conn);
    let state = st
        .states
        .issue(session.user, id, RedirectKind::Webauth)
        .await
        .map_err(state_error)?;
    let answer = st
        .powens
        .webauth_url(
            session.user,
            id,
            &body.redirect_uri,
            &state,
            source.as_deref(),
        )
        .await?;
    let ok = url::Url::parse(&answer.url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if !ok {
        return Err(
            crate::upstream::UpstreamError::Malformed("webauth URL is not http(s)".into()).into(),
        );
    }
    tracing::info!(connection = id, "webauth URL issued");
    Ok(Json(RedirectUrl {
        kind: RedirectKind::Webauth,
        url: answer.url,
    }))
}

/// The source to authenticate at the bank, on a multi-source connection: the one
/// that needs it (`webauthRequired` first, then `SCARequired`, then any in error).
/// `None` for a single source: Powens then takes the connection's.
fn webauth_source(conn: &mend_model::Connection) -> Option<String> {
    use mend_model::ConnectionState as S;
    let sources: Vec<_> = conn
        .sources
        .iter()
        .flatten()
        .filter(|s| s.disabled.is_none() && !s.name.is_empty())
        .collect();
    if sources.len() < 2 {
        return None;
    }
    let rank = |s: &&&mend_model::ConnectionSource| match &s.state {
        Some(S::WebauthRequired) => 0,
        Some(S::ScaRequired) => 1,
        Some(_) => 2,
        None => 3,
    };
    sources
        .iter()
        .filter(|s| s.state.is_some())
        .min_by_key(rank)
        .map(|s| s.name.clone())
}

/// A refused state: `invalid_state`, or 503 while the store that remembers spent
/// states cannot be reached (fail closed; the same return may be presented again).
fn state_error(e: crate::redirect_state::StateError) -> ApiError {
    match e {
        crate::redirect_state::StateError::Unavailable => ApiError::StoreUnavailable,
        _ => ApiError::InvalidState("refused"),
    }
}

/// An error code from a redirect, kept only if it looks like one.
fn sanitize_error_code(e: &str) -> String {
    if !e.is_empty() && e.len() <= 40 && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        e.to_owned()
    } else {
        "server_error".to_owned()
    }
}

async fn callback(
    State(st): State<AppState>,
    session: Session,
    AppJson(body): AppJson<CallbackRequest>,
) -> Result<Json<CallbackResult>, ApiError> {
    let state = body
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::InvalidState("missing"))?;
    // The connection named on the return (webauth's `id_connection`) must be the
    // state's; a session limited to other connections may not redeem it. A refused
    // presentation does not burn the state.
    let returned = body
        .id_connection
        .as_deref()
        .or(body.connection_id.as_deref())
        .filter(|s| !s.is_empty())
        .map(|r| r.trim().parse::<i64>().ok());
    let checked = st
        .states
        .check(state, session.user, |c| {
            session.may_touch(c.connection) && returned.is_none_or(|r| r == Some(c.connection))
        })
        .await
        .map_err(|e| {
            tracing::warn!(reason = %e, "callback state refused");
            state_error(e)
        })?;
    let claims = checked.claims.clone();
    let error = body
        .error
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(sanitize_error_code);
    let outcome = match error.as_deref() {
        None => CallbackOutcome::Completed,
        Some("access_denied") => CallbackOutcome::Cancelled,
        Some(_) => CallbackOutcome::Failed,
    };
    // What happened at the bank is news: no read begun before it may be joined.
    let _action = st.reads.action(session.user, claims.connection);
    let started = Instant::now();
    // Read first, spend after: a Powens blip here leaves the user's return usable.
    let conn = st
        .powens
        .connection(session.user, claims.connection, Priority::User)
        .await?;
    st.states.spend(checked).await.map_err(|e| {
        tracing::warn!(reason = %e, "callback state not spent");
        state_error(e)
    })?;
    tracing::info!(
        connection = claims.connection,
        ?outcome,
        "redirect came back"
    );
    Ok(Json(CallbackResult {
        connection_id: claims.connection,
        kind: claims.kind,
        outcome,
        error,
        status: answer(&st, session.user, claims.connection, started, &conn),
    }))
}

async fn demo_connections(State(st): State<AppState>) -> Result<Response, ApiError> {
    let sandbox = st.settings.sandbox.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(sandbox.demo_connections()).into_response())
}

/// `?connection=ID`.
#[derive(Debug, Deserialize)]
pub struct DemoSessionQuery {
    /// Limit the session to this connection.
    pub connection: Option<i64>,
}

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

async fn healthz() -> &'static str {
    "ok\n"
}

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
