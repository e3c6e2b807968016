//! The Reconnect webview: its entry points (with their parameter checks), the
//! session page with the connection's fields, and what a submission does.

use super::{LANGS, domain_ok, error_redirect, with_query};
use crate::Sandbox;
use crate::api::{query_map, redirect_allowed};
use crate::error::ApiError;
use crate::html::{error_page, esc, html};
use crate::world::{Values, WebviewSession, now_ms, random_token};
use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mend_model::{ConnectionState as S, ConnectorField, FieldType};
use std::collections::HashMap;

pub(super) async fn webview_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    reconnect_entry(&sb, None, &query_map(q.as_deref()), true)
}

pub(super) async fn webview_entry_lang(
    State(sb): State<Sandbox>,
    Path(lang): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    reconnect_entry(&sb, Some(&lang), &query_map(q.as_deref()), true)
}

pub(super) async fn legacy_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
    reconnect_entry(&sb, None, &query_map(q.as_deref()), false)
}

pub(super) async fn legacy_entry_lang(
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

pub(super) async fn webview_page(State(sb): State<Sandbox>, Path(sid): Path<String>) -> Response {
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

pub(super) async fn webview_post(
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
