//! The browser pages: the Reconnect webview, the bank's webauth page, the bank app,
//! an index, and the 404 fallback.

use crate::api::{open_webauth, query_map, redirect_allowed};
use crate::error::ApiError;
use crate::html::{CSS, error_page, esc, html};
use crate::world::{BankDecision, BankRequest, Values, WebviewSession, now_ms, random_token};
use crate::{Sandbox, SandboxConfig};
use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use mend_model::{ConnectionState as S, ConnectorField, FieldType};
use std::collections::HashMap;

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

/// `uri?k=v&…` (the URI has no query: [`redirect_allowed`] refuses those).
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

async fn webview_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    reconnect_entry(&sb, None, &query_map(q.as_deref()), true)
}

async fn webview_entry_lang(
    State(sb): State<Sandbox>,
    Path(lang): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    reconnect_entry(&sb, Some(&lang), &query_map(q.as_deref()), true)
}

async fn legacy_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    reconnect_entry(&sb, None, &query_map(q.as_deref()), false)
}

async fn legacy_entry_lang(
    State(sb): State<Sandbox>,
    Path(lang): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    reconnect_entry(&sb, Some(&lang), &query_map(q.as_deref()), false)
}

/// Checks the Reconnect parameters; opens a webview session and shows its page.
fn reconnect_entry(
    sb: &Sandbox,
    lang: Option<&str>,
    q: &HashMap<String, String>,
    needs_domain: bool,
) -> Response {
    let cfg = sb.cfg();
    let base = &cfg.public_base;
    if lang.is_some_and(|l| !LANGS.contains(&l)) {
        return error_page(StatusCode::NOT_FOUND, base, "Unknown language.");
    }
    if q.get("client_id") != Some(&cfg.client_id) {
        return error_page(
            StatusCode::BAD_REQUEST,
            base,
            "Unknown or missing client_id.",
        );
    }
    if needs_domain && !q.get("domain").is_some_and(|d| domain_ok(cfg, d)) {
        return error_page(StatusCode::BAD_REQUEST, base, "Unknown or missing domain.");
    }
    let Some(redirect_uri) = q.get("redirect_uri").filter(|u| redirect_allowed(cfg, u)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            base,
            "The redirect_uri is missing or is not an allowed redirect URI of this client.",
        );
    };
    let state = q.get("state").map(String::as_str);
    let fail = |d: &str| error_redirect(redirect_uri, "server_error", d, state);
    let Some(code) = q.get("code") else {
        return fail("Missing code");
    };
    let Some(id) = q.get("connection_id").and_then(|c| c.parse::<i64>().ok()) else {
        return fail("Missing or invalid connection_id");
    };
    let now = now_ms();
    let mut w = sb.world();
    let user = match w.use_code(code, now) {
        Ok(u) => u,
        Err(why) => return fail(&format!("The link is invalid or has expired ({why})")),
    };
    if w.conns.get(&id).is_none_or(|c| c.user != user) {
        return fail("Unknown connection");
    }
    let sid = random_token();
    w.sessions.insert(
        sid.clone(),
        WebviewSession {
            connection: id,
            redirect_uri: redirect_uri.clone(),
            state: state.map(str::to_owned),
            expires_ms: now + crate::world::ms(cfg.request_access_ttl),
            notice: None,
        },
    );
    Redirect::to(&format!("{base}/webview/session/{sid}")).into_response()
}

/// One labelled control for a field. `new_password`: the password is a new one
/// (`passwordExpired`), for the browser's password manager.
fn field_input(f: &ConnectorField, i: usize, new_password: bool) -> String {
    let id = format!("field-{i}");
    let name = esc(&f.name);
    let mut attrs = String::new();
    if f.required {
        attrs.push_str(" required");
    }
    let described = f.description.as_ref().map(|d| {
        attrs.push_str(&format!(" aria-describedby=\"{id}-help\""));
        format!("<p class=\"help\" id=\"{id}-help\">{}</p>", esc(d))
    });
    let control = if f.kind == FieldType::List {
        let options: String = f
            .values
            .iter()
            .flatten()
            .map(|v| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    esc(&v.value),
                    esc(&v.label)
                )
            })
            .collect();
        format!(
            "<select id=\"{id}\" name=\"{name}\"{attrs}><option value=\"\">Choose…</option>{options}</select>"
        )
    } else {
        let kind = match f.kind {
            FieldType::Password => "password",
            FieldType::Date => "date",
            FieldType::Number => "number",
            _ => "text",
        };
        if let Some(re) = &f.regex {
            attrs.push_str(&format!(" pattern=\"{}\"", esc(re)));
        }
        if f.is_one_time_code() {
            attrs.push_str(" autocomplete=\"one-time-code\" inputmode=\"numeric\"");
        } else if f.kind == FieldType::Password {
            let which = if new_password {
                "new-password"
            } else {
                "current-password"
            };
            attrs.push_str(&format!(" autocomplete=\"{which}\""));
        }
        if f.kind == FieldType::Number {
            attrs.push_str(" step=\"any\"");
        }
        format!("<input id=\"{id}\" name=\"{name}\" type=\"{kind}\"{attrs}>")
    };
    let optional = if f.required { "" } else { " (optional)" };
    format!(
        "<label for=\"{id}\">{}{optional}</label>\n{control}\n{}",
        esc(f.display_label()),
        described.unwrap_or_default()
    )
}

async fn webview_page(State(sb): State<Sandbox>, Path(sid): Path<String>) -> Response {
    let cfg = sb.cfg();
    let base = &cfg.public_base;
    let mut w = sb.world();
    let Some(session) = w.sessions.get_mut(&sid) else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "This page has expired. Go back to the app and start again.",
        );
    };
    let notice = session.notice.take();
    let id = session.connection;
    let Some(c) = w.conns.get(&id) else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "This connection no longer exists.",
        );
    };
    let bank = esc(c.bank());
    let mut body = String::new();
    let (title, intro, main_button, inputs) = match (&c.state, &c.fields) {
        (
            Some(S::AdditionalInformationNeeded | S::Wrongpass | S::PasswordExpired),
            Some(fields),
        ) => (
            format!("{bank} needs some information"),
            match c.state {
                Some(S::Wrongpass) => "Your login details were refused. Enter them again.",
                Some(S::PasswordExpired) => "Your password has expired. Enter a new one.",
                _ => "Your bank asks for more information to keep your accounts up to date.",
            },
            ("submit", "Submit"),
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| field_input(f, i, c.state == Some(S::PasswordExpired)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (Some(S::ScaRequired | S::WebauthRequired | S::Decoupled | S::Validating), _) => (
            format!("Confirm access to {bank}"),
            "Your bank asks you to confirm that this app may keep accessing your accounts.",
            ("confirm", "Confirm"),
            String::new(),
        ),
        _ => (
            format!("Your connection to {bank}"),
            "There is nothing to do here for now.",
            ("continue", "Continue"),
            String::new(),
        ),
    };
    body.push_str(&format!("<h1>{title}</h1>\n<p>{}</p>\n", esc(intro)));
    if let Some(msg) = &c.error_message {
        body.push_str(&format!("<p>Message from your bank: {}</p>\n", esc(msg)));
    }
    if let Some(n) = notice {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"alert\">{}</p>\n",
            esc(&n)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}/webview/session/{}\">\n{inputs}\n\
         <div class=\"actions\">\
         <button type=\"submit\" class=\"primary\" name=\"action\" value=\"{}\">{}</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button>\
         </div>\n</form>",
        esc(base),
        esc(&sid),
        main_button.0,
        main_button.1
    ));
    let title_plain = format!("Reconnect {}", c.bank());
    html(StatusCode::OK, base, &title_plain, &body)
}

async fn webview_post(
    State(sb): State<Sandbox>,
    Path(sid): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let cfg = sb.cfg();
    let base = &cfg.public_base;
    let now = now_ms();
    let mut w = sb.world();
    let Some(session) = w.sessions.get(&sid).cloned() else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "This page has expired. Go back to the app and start again.",
        );
    };
    let done = |w: &mut crate::world::World| {
        w.sessions.remove(&sid);
        tracing::info!(
            connection = session.connection,
            "reconnect webview completed"
        );
        let pairs: Vec<(&str, &str)> = session
            .state
            .iter()
            .map(|s| ("state", s.as_str()))
            .collect();
        Redirect::to(&with_query(&session.redirect_uri, &pairs)).into_response()
    };
    let action = form.get("action").map_or("", String::as_str);
    if action == "cancel" {
        w.sessions.remove(&sid);
        return error_redirect(
            &session.redirect_uri,
            "access_denied",
            "The user cancelled the reconnection",
            session.state.as_deref(),
        );
    }
    let Some(c) = w.conns.get_mut(&session.connection) else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "This connection no longer exists.",
        );
    };
    let notice = match action {
        "confirm" => {
            if matches!(
                c.state,
                Some(S::ScaRequired | S::WebauthRequired | S::Decoupled | S::Validating)
            ) {
                c.confirm(now);
            }
            return done(&mut w);
        }
        "submit" => {
            let values: Values = form
                .iter()
                .filter(|(k, v)| k.as_str() != "action" && !v.trim().is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            match c.submit(&values, now, cfg, false) {
                Ok(crate::world::Submitted::Accepted) => return done(&mut w),
                Ok(crate::world::Submitted::Rejected(msg)) => msg,
                Err(ApiError {
                    message: Some(m), ..
                }) => m,
                Err(e) => e.description,
            }
        }
        _ => return done(&mut w),
    };
    if let Some(s) = w.sessions.get_mut(&sid) {
        s.notice = Some(notice);
    }
    Redirect::to(&format!("{base}/webview/session/{sid}")).into_response()
}

async fn webauth_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    let cfg = sb.cfg();
    let q = query_map(q.as_deref());
    let redirect_uri = q.get("redirect_uri").filter(|u| redirect_allowed(cfg, u));
    let state = q.get("state").map(String::as_str);
    let fail = |status: StatusCode, d: &str| match redirect_uri {
        Some(u) if q.get("client_id") == Some(&cfg.client_id) => {
            error_redirect(u, "server_error", d, state)
        }
        _ => error_page(status, &cfg.public_base, d),
    };
    let user = {
        let mut w = sb.world();
        match q.get("token").map(|t| w.use_code(t, now_ms())) {
            Some(Ok(u)) => u,
            Some(Err(why)) => {
                return fail(StatusCode::BAD_REQUEST, &format!("Invalid token ({why})"));
            }
            None => return fail(StatusCode::BAD_REQUEST, "Missing token"),
        }
    };
    match open_webauth(&sb, user, &q) {
        Ok(url) => Redirect::temporary(&url).into_response(),
        Err(e) => fail(e.status, &e.description),
    }
}

async fn bank_authorize(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    let cfg = sb.cfg();
    let base = &cfg.public_base;
    let q = query_map(q.as_deref());
    let ticket = q.get("ticket").cloned().unwrap_or_default();
    let w = sb.world();
    let Some(t) = w.tickets.get(&ticket) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            base,
            "This authorization request is unknown or has expired.",
        );
    };
    let Some(c) = w.conns.get(&t.connection) else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "This connection no longer exists.",
        );
    };
    let bank = esc(c.bank());
    let body = format!(
        "<h1>{bank}</h1>\n<p>An application asks to access your accounts at {bank} \
         (connection {id}). Do you authorize it?</p>\n\
         <form method=\"post\" action=\"{base}/bank/authorize\">\n\
         <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\n\
         <div class=\"actions\">\
         <button type=\"submit\" class=\"primary\" name=\"decision\" value=\"authorize\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         </div>\n</form>",
        id = c.id,
        base = esc(base),
        ticket = esc(&ticket),
    );
    html(
        StatusCode::OK,
        base,
        &format!("{} — sign in", c.bank()),
        &body,
    )
}

async fn bank_authorize_post(
    State(sb): State<Sandbox>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let cfg = sb.cfg();
    let ticket = form.get("ticket").cloned().unwrap_or_default();
    let mut w = sb.world();
    let Some(t) = w.tickets.remove(&ticket) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &cfg.public_base,
            "This authorization request is unknown or has expired.",
        );
    };
    match form.get("decision").map(String::as_str) {
        Some("authorize") => {
            tracing::info!(connection = t.connection, "webauth authorized at the bank");
            if let Some(c) = w.conns.get_mut(&t.connection) {
                c.confirm(now_ms());
            }
            let id = t.connection.to_string();
            let mut pairs = vec![("id_connection", id.as_str())];
            if let Some(s) = &t.state {
                pairs.push(("state", s));
            }
            Redirect::to(&with_query(&t.redirect_uri, &pairs)).into_response()
        }
        _ => error_redirect(
            &t.redirect_uri,
            "access_denied",
            "The user denied access at the bank",
            t.state.as_deref(),
        ),
    }
}

async fn bank_app(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    let cfg = sb.cfg();
    let base = esc(&cfg.public_base);
    let q = query_map(q.as_deref());
    let w = sb.world();
    let mut body = String::from("<h1>Bank app</h1>\n");
    if let (Some(done), Some(id)) = (q.get("done"), q.get("connection")) {
        let text = match done.as_str() {
            "approve" => format!("You approved access for connection {id}."),
            "refuse" => format!("You refused access for connection {id}."),
            "accept_terms" => format!("You accepted the new terms for connection {id}."),
            _ => format!("Nothing is waiting for connection {id} any more."),
        };
        body.push_str(&format!(
            "<p class=\"ok\" role=\"status\">{}</p>\n",
            esc(&text)
        ));
    }
    let items: Vec<String> = w
        .conns
        .values()
        .filter_map(|c| c.bank_app_request().map(|r| (c, r)))
        .map(|(c, r)| {
            let bank = esc(c.bank());
            let id = c.id;
            let (what, buttons) = match r {
                BankRequest::Approval => (
                    "An application asks to access your accounts.".to_owned(),
                    format!(
                        "<button type=\"submit\" class=\"primary\" name=\"decision\" value=\"approve\" data-connection=\"{id}\" \
                         aria-label=\"Approve access for {bank} (connection {id})\">Approve</button>\
                         <button type=\"submit\" name=\"decision\" value=\"refuse\" data-connection=\"{id}\" \
                         aria-label=\"Refuse access for {bank} (connection {id})\">Refuse</button>"
                    ),
                ),
                BankRequest::Terms => (
                    "New terms and conditions are waiting for your acceptance.".to_owned(),
                    format!(
                        "<button type=\"submit\" class=\"primary\" name=\"decision\" value=\"accept_terms\" data-connection=\"{id}\" \
                         aria-label=\"Accept the new terms of {bank} (connection {id})\">Accept the new terms</button>"
                    ),
                ),
            };
            format!(
                "<li><h2>{bank} — connection {id}</h2>\n<p>{what}</p>\n\
                 <form method=\"post\" action=\"{base}/bank/app\">\
                 <input type=\"hidden\" name=\"connection\" value=\"{id}\">\
                 <div class=\"actions\">{buttons}</div></form></li>"
            )
        })
        .collect();
    if items.is_empty() {
        body.push_str("<p>No request is waiting for you.</p>\n");
    } else {
        body.push_str(&format!(
            "<ul class=\"requests\">\n{}\n</ul>\n",
            items.join("\n")
        ));
    }
    body.push_str(&format!("<p><a href=\"{base}/bank/app\">Refresh</a></p>"));
    html(StatusCode::OK, &cfg.public_base, "Bank app", &body)
}

async fn bank_app_post(
    State(sb): State<Sandbox>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let cfg = sb.cfg();
    let id = form
        .get("connection")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0);
    let decision = form.get("decision").map_or("", String::as_str);
    let applied = match BankDecision::parse(decision) {
        Some(d) => {
            let mut w = sb.world();
            w.conns
                .get_mut(&id)
                .is_some_and(|c| c.bank_decision(d, now_ms(), cfg))
        }
        None => false,
    };
    if applied {
        tracing::info!(connection = id, decision, "bank app decision");
    }
    let done = if applied { decision } else { "none" };
    Redirect::to(&format!(
        "{}/bank/app?{}",
        cfg.public_base,
        serde_urlencoded::to_string([("done", done), ("connection", &id.to_string())])
            .unwrap_or_default()
    ))
    .into_response()
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
