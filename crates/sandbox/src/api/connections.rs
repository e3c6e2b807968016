//! Connection reads, creation and deletion, connectors, sources, and users' deletion.

use super::{Result, authed, check_user, expands, parse_body, query_map, required, text};
use crate::Sandbox;
use crate::error::ApiError;
use crate::faults::bearer;
use crate::world::now_ms;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mend_model::ConnectionState;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) async fn connectors(RawQuery(q): RawQuery) -> Json<Value> {
    let q = query_map(q.as_deref());
    let with_fields = q
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "fields"));
    let list: Vec<Value> = crate::demo::connectors()
        .into_iter()
        .map(|c| {
            let mut v = json!(c);
            if with_fields {
                v["fields"] = json!(crate::demo::connector_fields());
            }
            v
        })
        .collect();
    Json(json!({ "connectors": list }))
}

/// `POST /users/{id}/connections`: credentials are checked at once. Right ones
/// create the connection: `201`, or `202` when the bank asks for more (the SMS code
/// of Caisse Fictive). Wrong ones: `400 wrongpass`, and nothing is created.
pub(super) async fn create(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(path_user): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response> {
    use crate::world::{DEMO_LOGIN, DEMO_PASSWORD};
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let q = query_map(q.as_deref());
    let p = parse_body(&headers, &body)?;
    for k in p.keys() {
        if ![
            "id_connector",
            "connector_uuid",
            "source",
            "login",
            "password",
        ]
        .contains(&k.as_str())
        {
            return Err(ApiError::invalid_value(format!("Unknown field: {k}")));
        }
    }
    let by_id = p.get("id_connector").and_then(text);
    let by_uuid = p.get("connector_uuid").and_then(text);
    if by_id.is_none() && by_uuid.is_none() {
        return Err(ApiError::missing("id_connector"));
    }
    let connector = crate::demo::connectors()
        .into_iter()
        .find(|c| {
            by_id.as_deref() == c.id.map(|i| i.to_string()).as_deref()
                || (by_uuid.is_some() && by_uuid == c.uuid)
        })
        .ok_or_else(|| ApiError::invalid_value("Unknown connector"))?;
    let source = q
        .get("source")
        .cloned()
        .or_else(|| p.get("source").and_then(text));
    if let Some(s) = source
        && s != "openapi"
    {
        return Err(ApiError::invalid_value(format!("Unknown source: {s}")));
    }
    let login = required(&p, "login")?;
    let password = required(&p, "password")?;
    if login != DEMO_LOGIN || password != DEMO_PASSWORD {
        return Err(ApiError::wrongpass("Identifiant ou mot de passe incorrect"));
    }
    let (connector_exp, sources_exp) = expands(&q);
    let mut w = sb.world();
    let id = w.next_connection;
    w.next_connection += 1;
    let c = crate::demo::created_connection(id, user, connector, now_ms(), sb.cfg());
    let status = if c.state.is_some() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    let body = c.to_model(connector_exp, sources_exp, sb.zone());
    w.conns.insert(id, c);
    tracing::info!(connection = id, user, "connection created");
    Ok((status, Json(body)).into_response())
}

pub(super) async fn list(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(path_user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let (connector, sources) = expands(&query_map(q.as_deref()));
    let w = sb.world();
    let list: Vec<_> = w
        .conns
        .values()
        .filter(|c| c.user == user)
        .map(|c| c.to_model(connector, sources, sb.zone()))
        .collect();
    Ok(Json(json!({ "connections": list })))
}

pub(super) fn parse_id(id: &str) -> Result<i64> {
    id.parse().map_err(|_| ApiError::not_found("Connection"))
}

pub(super) fn answer(
    sb: &Sandbox,
    user: i64,
    id: i64,
    q: &HashMap<String, String>,
) -> Result<Response> {
    let (connector, sources) = expands(q);
    let mut w = sb.world();
    let c = w.conn_of(user, id)?;
    let mut v = serde_json::to_value(c.to_model(connector, sources, sb.zone()))
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "bug", "encoding"))?;
    if let Some(shown) = c.shown_state(now_ms()) {
        let shown = json!(shown.as_ref().map(ConnectionState::as_str));
        v["state"] = shown.clone();
        v["error"] = shown;
    }
    if c.scenario.nulls {
        v = crate::scenario::with_nulls(v);
    }
    Ok(Json(v).into_response())
}

/// Whether the connection's errors are written in the legacy shape.
pub(super) fn legacy(sb: &Sandbox, id: i64) -> bool {
    sb.world()
        .conns
        .get(&id)
        .is_some_and(|c| c.scenario.legacy_errors)
}

pub(super) async fn get_conn(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let id = parse_id(&id)?;
    {
        let mut w = sb.world();
        let c = w.conn_of(user, id)?;
        if c.scenario.revoke_token_once {
            c.scenario.revoke_token_once = false;
            if let Some(t) = bearer(&headers) {
                w.revoked.insert(t.to_owned());
            }
            return Err(ApiError::invalid_token());
        }
    }
    answer(&sb, user, id, &query_map(q.as_deref())).map_err(|e| e.legacy_if(legacy(&sb, id)))
}

pub(super) async fn delete_conn(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let id = parse_id(&id)?;
    let mut w = sb.world();
    w.conn_of(user, id)?;
    w.conns.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{me|id}`: the user, their connections and tokens are gone.
pub(super) async fn delete_user(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(path_user): Path<String>,
) -> Result<StatusCode> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let mut w = sb.world();
    w.conns.retain(|_, c| c.user != user);
    w.tokens.retain(|_, t| t.user != user);
    w.users.retain(|u| *u != user);
    tracing::info!(user, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn sources(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let id = parse_id(&id)?;
    let mut w = sb.world();
    let c = w.conn_of(user, id)?;
    Ok(Json(
        json!({ "sources": c.to_model(false, true, sb.zone()).sources.unwrap_or_default() }),
    ))
}
