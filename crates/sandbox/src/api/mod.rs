//! The simulated `/2.0` JSON API: the routes, and the request parsing every handler
//! shares. The handlers are grouped by what they act on: [`auth`] (tokens and codes),
//! [`connections`] (reads, creation, deletion), [`update`] (submissions, syncs,
//! resumes) and [`webauth`] (the bank's authorize page).

mod auth;
mod connections;
mod update;
mod webauth;

use auth::{auth_init, auth_renew, token_access, token_code, token_delete};
use connections::{connectors, create, delete_conn, delete_user, get_conn, list, sources};
use update::{post_conn, put_conn};
use webauth::webauth_url;
pub(crate) use webauth::{open_webauth, redirect_allowed};

use crate::error::ApiError;
use crate::faults::bearer;
use crate::world::now_ms;
use crate::{Sandbox, SandboxConfig};
use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The JSON API routes (full `/2.0/...` paths).
pub(crate) fn routes() -> axum::Router<Sandbox> {
    axum::Router::new()
        .route("/2.0/auth/init", post(auth_init))
        .route("/2.0/auth/renew", post(auth_renew))
        .route("/2.0/auth/token/code", get(token_code).post(token_code))
        .route("/2.0/auth/token/access", post(token_access))
        .route("/2.0/auth/token", delete(token_delete))
        .route("/2.0/connectors", get(connectors))
        .route("/2.0/users/{user}", delete(delete_user))
        .route("/2.0/users/{user}/connections", get(list).post(create))
        .route(
            "/2.0/users/{user}/connections/{id}",
            get(get_conn)
                .post(post_conn)
                .put(put_conn)
                .delete(delete_conn),
        )
        .route("/2.0/users/{user}/connections/{id}/sources", get(sources))
        .route("/2.0/webauth-url", get(webauth_url))
}

/// The query string as a map (last value wins; malformed pairs are ignored).
pub(crate) fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// A JSON object or a form-encoded body, as a map. An empty body is an empty map.
pub(crate) fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = ct.contains("json") || body.trim_ascii_start().first() == Some(&b'{');
    if ct.starts_with("application/x-www-form-urlencoded") || !looks_json {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| ApiError::invalid_value("Malformed form-encoded body"))?;
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::invalid_value(
            "Malformed JSON body: an object is expected",
        )),
    }
}

/// A scalar as text (strings, numbers, booleans).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `true`, `"true"`, `1`, `"1"` (and their false twins); `None` for anything else.
pub(crate) fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().and_then(|n| match n {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn flag(q: &HashMap<String, String>, name: &str, default: bool) -> Result<bool> {
    match q.get(name) {
        None => Ok(default),
        // A value-less flag (`?background`) means true.
        Some(v) if v.is_empty() => Ok(true),
        Some(v) => truthy(&Value::String(v.clone()))
            .ok_or_else(|| ApiError::invalid_value(format!("{name} must be true or false"))),
    }
}

fn required(p: &Map<String, Value>, name: &str) -> Result<String> {
    p.get(name)
        .and_then(text)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing(name))
}

/// `(connector, sources)` from `expand=connector,sources,accounts[...]`.
fn expands(q: &HashMap<String, String>) -> (bool, bool) {
    let list = q.get("expand").map_or("", String::as_str);
    let names: Vec<&str> = list
        .split(',')
        .map(|s| s.split('[').next().unwrap_or("").trim())
        .collect();
    (names.contains(&"connector"), names.contains(&"sources"))
}

/// `grant_type` may be omitted (it has one documented value per route); any other
/// value is refused.
fn check_grant(p: &Map<String, Value>, expected: &str) -> Result<()> {
    match p.get("grant_type").and_then(text) {
        Some(g) if g != expected => Err(ApiError::invalid_value(format!(
            "grant_type must be {expected}"
        ))),
        _ => Ok(()),
    }
}

fn check_client(cfg: &SandboxConfig, p: &Map<String, Value>) -> Result<()> {
    let id = required(p, "client_id")?;
    let secret = required(p, "client_secret")?;
    if id != cfg.client_id || secret != cfg.client_secret {
        return Err(ApiError::invalid_client());
    }
    Ok(())
}

/// The bearer token's user.
fn authed(sb: &Sandbox, headers: &HeaderMap) -> Result<i64> {
    let token = bearer(headers)
        .ok_or_else(|| ApiError::unauthorized("Missing header Authorization: Bearer <token>"))?;
    let w = sb.world();
    if w.revoked.contains(token) {
        return Err(ApiError::invalid_token());
    }
    w.token_user(token, now_ms())
        .ok_or_else(|| ApiError::unauthorized("Invalid, expired or revoked token"))
}

/// `me` or the token's own numeric id.
fn check_user(path_user: &str, user: i64) -> Result<()> {
    if path_user == "me" || path_user.parse::<i64>() == Ok(user) {
        Ok(())
    } else {
        Err(ApiError::not_found("User"))
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
