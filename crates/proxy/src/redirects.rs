//! Leaving for a redirect and coming back (docs/api.md): the Reconnect webview URL
//! with a single-use code, the bank's webauth URL, and the callback that checks what
//! came back on the redirect URI against the signed, single-use `state`.

use axum::Json;
use axum::extract::State;
use mend_model::api::{
    CallbackOutcome, CallbackRequest, CallbackResult, RedirectKind, RedirectRequest, RedirectUrl,
};
use std::time::Instant;

use crate::AppState;
use crate::budget::Priority;
use crate::error::{ApiError, AppJson};
use crate::routes::{ConnId, LANGS, answer};
use crate::session::Session;

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

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/reconnect-url",
    tag = "redirects",
    params(("id" = i64, Path, description = "The Powens connection id")),
    request_body = RedirectRequest,
    responses(
        (status = 200, description = "Powens' Reconnect webview URL, with a single-use code and a signed `state`", body = RedirectUrl),
        (status = 400, description = "`bad_request`: malformed body or unsupported `lang`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`redirect_not_allowed`: the redirect URI is not allow-listed", body = mend_model::api::ErrorBody),
    )
)]
pub async fn reconnect_url(
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

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/webauth-url",
    tag = "redirects",
    params(("id" = i64, Path, description = "The Powens connection id")),
    request_body = RedirectRequest,
    responses(
        (status = 200, description = "The bank's web authentication URL, with a signed `state`", body = RedirectUrl),
        (status = 400, description = "`bad_request`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`", body = mend_model::api::ErrorBody),
        (status = 409, description = "`conflict`: the connection is fine", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`redirect_not_allowed`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn webauth_url(
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

#[utoipa::path(
    post,
    path = "/api/v1/callback",
    tag = "redirects",
    request_body = CallbackRequest,
    responses(
        (status = 200, description = "How the redirect ended and the connection's status now", body = CallbackResult),
        (status = 400, description = "`bad_request`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`: the connection is gone", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`invalid_state`: forged, expired, replayed or another user's `state`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn callback(
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
