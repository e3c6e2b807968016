//! The sandbox's HTML pages: the demo index, the Reconnect webview ([`webview`]), the
//! bank's authorize page and the bank app ([`bank`]), and the answers to unknown routes.

mod bank;
mod webview;

use bank::{bank_app, bank_app_post, bank_authorize, bank_authorize_post, webauth_entry};
use webview::{
    legacy_entry, legacy_entry_lang, webview_entry, webview_entry_lang, webview_page, webview_post,
};

use crate::error::ApiError;
use crate::html::{CSS, error_page, esc, html};
use crate::world::now_ms;
use crate::{Sandbox, SandboxConfig};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use mend_model::ConnectionState as S;

/// Languages of the webview's `/{lang}/` segment.
const LANGS: [&str; 7] = ["en", "fr", "de", "nl", "pt", "it", "es"];

/// Pages outside `/2.0` (not logged, never faulted).
pub(crate) fn routes() -> axum::Router<Sandbox> {
    axum::Router::new()
        .route("/", get(index))
        .route(
            "/sandbox.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route("/webview/reconnect", get(webview_entry))
        .route("/webview/{lang}/reconnect", get(webview_entry_lang))
        .route(
            "/webview/session/{sid}",
            get(webview_page).post(webview_post),
        )
        .route(
            "/bank/authorize",
            get(bank_authorize).post(bank_authorize_post),
        )
        .route("/bank/app", get(bank_app).post(bank_app_post))
}

/// Browser entry points under `/2.0` (logged, never faulted).
pub(crate) fn legacy_routes() -> axum::Router<Sandbox> {
    axum::Router::new()
        .route("/2.0/auth/webview/reconnect", get(legacy_entry))
        .route("/2.0/auth/webview/{lang}/reconnect", get(legacy_entry_lang))
        .route("/2.0/webauth", get(webauth_entry))
}

/// `uri?k=v&…` (the URI has no query: [`crate::api::redirect_allowed`] refuses those).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return uri.to_owned();
    }
    let qs = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("{uri}?{qs}")
}

fn error_redirect(uri: &str, error: &str, description: &str, state: Option<&str>) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Redirect::to(&with_query(uri, &pairs)).into_response()
}

fn domain_ok(cfg: &SandboxConfig, domain: &str) -> bool {
    domain == cfg.domain || cfg.domain.split('.').next() == Some(domain)
}

async fn index(State(sb): State<Sandbox>) -> Response {
    let cfg = sb.cfg();
    let base = esc(&cfg.public_base);
    let items: String = sb
        .demo_connections()
        .iter()
        .map(|d| {
            format!(
                "<li><strong>{} — {}</strong> ({}): {}</li>",
                d.id,
                esc(&d.title),
                esc(S::data_state(d.state.as_ref())),
                esc(&d.explanation)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let body = format!(
        "<h1>Powens sandbox</h1>\n\
         <p>API root: <code>{base}/2.0</code>. Client id <code>{id}</code>, domain <code>{domain}</code>.</p>\n\
         <p><a href=\"{base}/bank/app\">Open the bank app</a> to approve decoupled requests.</p>\n\
         <h2>Demo connections (user 1)</h2>\n<ul>\n{items}\n</ul>",
        id = esc(&cfg.client_id),
        domain = esc(&cfg.domain),
    );
    html(StatusCode::OK, &cfg.public_base, "Powens sandbox", &body)
}

/// Unknown routes: Powens' JSON 404 under `/2.0` (logged), an HTML page elsewhere.
pub(crate) async fn fallback(
    State(sb): State<Sandbox>,
    uri: Uri,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if path == "/2.0" || path.starts_with("/2.0/") {
        let user = crate::faults::bearer(&headers).and_then(|t| sb.world().token_user(t, now_ms()));
        let id = sb.record(crate::RecordedRequest {
            method: method.to_string(),
            path: path.to_owned(),
            query: uri.query().unwrap_or("").to_owned(),
            body: String::new(),
            user,
            status: 0,
            seq: 0,
        });
        sb.record_status(id, 404);
        return ApiError::not_found("Route").into_response();
    }
    error_page(
        StatusCode::NOT_FOUND,
        &sb.cfg().public_base,
        "Page not found.",
    )
}

/// A known route with another method: Powens' `methodNotAllowed` under `/2.0`.
pub(crate) async fn method_not_allowed(State(sb): State<Sandbox>, uri: Uri) -> Response {
    if uri.path().starts_with("/2.0/") {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "methodNotAllowed",
            "Method not allowed on this route",
        )
        .into_response();
    }
    error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        &sb.cfg().public_base,
        "Method not allowed.",
    )
}
