//! The bank's pages: the webauth authorize page and the bank app where the user
//! approves a decoupled request or accepts new terms.

use super::{error_redirect, with_query};
use crate::Sandbox;
use crate::api::{open_webauth, query_map, redirect_allowed};
use crate::html::{error_page, esc, html};
use crate::world::{BankDecision, BankRequest, now_ms};
use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

pub(super) async fn webauth_entry(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
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

pub(super) async fn bank_authorize(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
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

pub(super) async fn bank_authorize_post(
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

pub(super) async fn bank_app(State(sb): State<Sandbox>, RawQuery(q): RawQuery) -> Response {
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

pub(super) async fn bank_app_post(
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
