//! The simulated `/2.0` JSON API.

use crate::error::ApiError;
use crate::faults::bearer;
use crate::world::{Code, Values, now_ms, random_token};
use crate::{Sandbox, SandboxConfig};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use mend_model::{AccessToken, AuthCode, AuthToken, ConnectionState, WebauthUrl};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

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

async fn auth_init(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AuthToken>> {
    let p = parse_body(&headers, &body)?;
    let cfg = sb.cfg();
    let id = p.get("client_id").and_then(text);
    let secret = p.get("client_secret").and_then(text);
    if id.as_ref().is_some_and(|i| *i != cfg.client_id)
        || secret.as_ref().is_some_and(|s| *s != cfg.client_secret)
    {
        return Err(ApiError::invalid_client());
    }
    let permanent = id.is_some() && secret.is_some();
    let now = now_ms();
    let mut w = sb.world();
    let user = w.new_user();
    let ttl = secs(cfg.request_access_ttl);
    let token = w.mint_token(user, (!permanent).then(|| now + ttl * 1000), false);
    Ok(Json(AuthToken {
        auth_token: token,
        kind: Some(if permanent { "permanent" } else { "temporary" }.into()),
        id_user: Some(user),
        expires_in: (!permanent).then_some(ttl),
    }))
}

async fn auth_renew(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AccessToken>> {
    let p = parse_body(&headers, &body)?;
    check_grant(&p, "client_credentials")?;
    check_client(sb.cfg(), &p)?;
    let user: i64 = required(&p, "id_user")?
        .parse()
        .map_err(|_| ApiError::invalid_value("id_user must be an integer"))?;
    let revoke = match p.get("revoke_previous") {
        None | Some(Value::Null) => false,
        Some(v) => {
            truthy(v).ok_or_else(|| ApiError::invalid_value("revoke_previous must be a boolean"))?
        }
    };
    let mut w = sb.world();
    if !w.users.contains(&user) {
        return Err(ApiError::not_found("User"));
    }
    let token = w.mint_token(user, None, revoke);
    Ok(Json(AccessToken {
        access_token: token,
        token_type: Some("Bearer".into()),
    }))
}

async fn token_code(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Json<AuthCode>> {
    let user = authed(&sb, &headers)?;
    let q = query_map(q.as_deref());
    let p = parse_body(&headers, &body)?;
    let kind = q
        .get("type")
        .cloned()
        .or_else(|| p.get("type").and_then(text))
        .unwrap_or_else(|| "requestAccess".into());
    let (single, ttl) = match kind.as_str() {
        "singleAccess" => (true, sb.cfg().single_access_ttl),
        "requestAccess" => (false, sb.cfg().request_access_ttl),
        _ => {
            return Err(ApiError::invalid_value(
                "type must be singleAccess or requestAccess",
            ));
        }
    };
    let code = random_token();
    sb.world().codes.insert(
        code.clone(),
        Code {
            user,
            single,
            expires_ms: now_ms() + crate::world::ms(ttl),
            used: false,
        },
    );
    Ok(Json(AuthCode {
        code,
        kind: Some("temporary".into()),
        access: Some(if single { "single" } else { "standard" }.into()),
        expires_in: Some(secs(ttl)),
    }))
}

async fn token_access(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AccessToken>> {
    let p = parse_body(&headers, &body)?;
    check_grant(&p, "authorization_code")?;
    check_client(sb.cfg(), &p)?;
    let code = required(&p, "code")?;
    let mut w = sb.world();
    let user = w
        .use_code(&code, now_ms())
        .map_err(|why| ApiError::invalid_value(format!("Invalid code: {why}")))?;
    let token = w.mint_token(user, None, false);
    Ok(Json(AccessToken {
        access_token: token,
        token_type: Some("Bearer".into()),
    }))
}

async fn token_delete(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<StatusCode> {
    authed(&sb, &headers)?;
    if let Some(t) = bearer(&headers) {
        sb.world().tokens.remove(t);
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn connectors(RawQuery(q): RawQuery) -> Json<Value> {
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
async fn create(
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

async fn list(
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

fn parse_id(id: &str) -> Result<i64> {
    id.parse().map_err(|_| ApiError::not_found("Connection"))
}

fn answer(sb: &Sandbox, user: i64, id: i64, q: &HashMap<String, String>) -> Result<Response> {
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
fn legacy(sb: &Sandbox, id: i64) -> bool {
    sb.world()
        .conns
        .get(&id)
        .is_some_and(|c| c.scenario.legacy_errors)
}

async fn get_conn(
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

async fn post_conn(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response> {
    update(sb, headers, path_user, id, q, body, false).await
}

async fn put_conn(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response> {
    update(sb, headers, path_user, id, q, body, true).await
}

/// `POST` (update, submit fields, resume, sync) and `PUT` (sync; legacy clients also
/// send `resume` and fields this way).
async fn update(
    sb: Sandbox,
    headers: HeaderMap,
    path_user: String,
    id: String,
    q: Option<String>,
    body: Bytes,
    is_put: bool,
) -> Result<Response> {
    let conn_id = id.parse::<i64>().unwrap_or(0);
    // Carried out in a task of its own, as Powens carries out what it accepted: a
    // client that hangs up (a proxy replica killed mid-submission) does not cancel
    // the bank's work, and the outcome is what the next read shows.
    let task = tokio::spawn(update_inner(
        sb.clone(),
        headers,
        path_user,
        id,
        q,
        body,
        is_put,
    ));
    let done = task.await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "bug",
            "the update failed",
        ))
    });
    done.map_err(|e| e.legacy_if(legacy(&sb, conn_id)))
}

/// What the connection's scenario does to an action (`submit`, `resume`, `sync`):
/// a delay first, then maybe a refusal instead of it.
async fn scenario_for(sb: &Sandbox, user: i64, id: i64, action: &str) -> Result<()> {
    let slow = {
        let mut w = sb.world();
        w.conn_of(user, id)?.scenario.slow_ms
    };
    if slow > 0 {
        let ms = slow.min(crate::scenario::MAX_SLOW_MS);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let now = now_ms();
    let mut w = sb.world();
    let c = w.conn_of(user, id)?;
    if action == "sync" && c.scenario.refuse_sync {
        return Err(ApiError::sync_refused(id));
    }
    let Some(r) = c.scenario.refuse.clone().filter(|r| r.applies_to(action)) else {
        return Ok(());
    };
    if r.once {
        c.scenario.refuse = None;
    }
    if let Some(state) = &r.state {
        c.hold(state.clone(), r.message.clone(), now);
    } else if let Some(m) = &r.message {
        c.error_message = Some(m.clone());
    }
    Err(ApiError::refused(&r.code, r.message))
}

#[allow(clippy::too_many_arguments)]
async fn update_inner(
    sb: Sandbox,
    headers: HeaderMap,
    path_user: String,
    id: String,
    q: Option<String>,
    body: Bytes,
    is_put: bool,
) -> Result<Response> {
    let user = authed(&sb, &headers)?;
    check_user(&path_user, user)?;
    let id = parse_id(&id)?;
    let q = query_map(q.as_deref());
    let p = parse_body(&headers, &body)?;
    let background = flag(&q, "background", false)?;
    let psu = flag(&q, "psu_requested", true)?;
    let mut values = Values::new();
    let mut resume = false;
    let mut refresh = false;
    let mut active = None;
    let mut expire = None;
    let mut source = q.get("source").cloned();
    for (k, v) in &p {
        let bad = || ApiError::invalid_value(format!("Invalid value for {k}"));
        match k.as_str() {
            "resume" => resume = truthy(v).ok_or_else(bad)?,
            "refresh_auth" => refresh = truthy(v).ok_or_else(bad)?,
            "active" => active = Some(truthy(v).ok_or_else(bad)?),
            "expire" => {
                expire = Some(match v {
                    Value::Null => None,
                    v => {
                        let d = text(v)
                            .and_then(|s| mend_model::PowensDateTime::parse(&s).ok())
                            .ok_or_else(bad)?;
                        Some(crate::world::powens_instant(d, sb.zone()))
                    }
                });
            }
            "source" => source = Some(text(v).ok_or_else(bad)?),
            _ => {
                values.insert(k.clone(), text(v).ok_or_else(bad)?);
            }
        }
    }
    let action = if !values.is_empty() {
        "submit"
    } else if resume {
        "resume"
    } else if refresh || active.is_some() || expire.is_some() {
        "update"
    } else {
        "sync"
    };
    scenario_for(&sb, user, id, action).await?;
    let cfg = sb.cfg();
    let now = now_ms();
    let wait = {
        let mut w = sb.world();
        let c = w.conn_of(user, id)?;
        if let Some(src) = &source
            && !c.sources.iter().any(|s| s.name == *src)
        {
            return Err(ApiError::invalid_value(format!("Unknown source: {src}")));
        }
        if let Some(a) = active {
            c.active = a;
        }
        if let Some(e) = expire {
            c.expire_ms = e;
        }
        if !values.is_empty() {
            c.submit(&values, now, cfg, background)?;
            false
        } else if resume {
            c.resume(now, cfg) && !background
        } else if refresh {
            c.refresh_auth(now, cfg)?;
            false
        } else {
            if active.is_none() && expire.is_none() {
                c.sync(now, cfg, psu || !is_put);
            }
            false
        }
    };
    if wait {
        wait_for_approval(&sb, id).await;
    }
    let res = answer(&sb, user, id, &q);
    if let Some(c) = sb.world().conns.get(&id) {
        tracing::info!(
            connection = id,
            state = ConnectionState::data_state(c.state.as_ref()),
            "connection updated"
        );
    }
    res
}

/// A blocking resume: waits until the connection leaves `validating`, or
/// `blocking_limit` passes (then it is back in `decoupled`, approval still pending).
async fn wait_for_approval(sb: &Sandbox, id: i64) {
    let deadline = Instant::now() + sb.cfg().blocking_limit;
    loop {
        {
            let mut w = sb.world();
            let Some(c) = w.conns.get_mut(&id) else {
                return;
            };
            if !(c.resumed && c.state == Some(ConnectionState::Validating)) {
                return;
            }
            if Instant::now() >= deadline {
                c.resume_timed_out(now_ms(), sb.cfg());
                return;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(Duration::from_millis(25))).await;
    }
}

async fn delete_conn(
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
async fn delete_user(
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

async fn sources(
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

/// Whether the sandbox may send a browser to `uri`: absolute http(s), no query or
/// fragment (Powens refuses them), and whitelisted when a whitelist is set.
pub(crate) fn redirect_allowed(cfg: &SandboxConfig, uri: &str) -> bool {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"));
    let shape_ok = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or("");
        !host.is_empty() && !r.contains(['?', '#', ' ', '"', '<', '>', '\\'])
    });
    shape_ok
        && cfg
            .redirect_uris
            .as_ref()
            .is_none_or(|list| list.iter().any(|u| u == uri))
}

/// Opens a webauth ticket for a connection of `user`; the bank page URL.
pub(crate) fn open_webauth(sb: &Sandbox, user: i64, q: &HashMap<String, String>) -> Result<String> {
    let cfg = sb.cfg();
    let client_id = q
        .get("client_id")
        .ok_or_else(|| ApiError::missing("client_id"))?;
    if *client_id != cfg.client_id {
        return Err(ApiError::invalid_value("Unknown client_id"));
    }
    let id: i64 = q
        .get("id_connection")
        .ok_or_else(|| ApiError::missing("id_connection"))?
        .parse()
        .map_err(|_| ApiError::invalid_value("id_connection must be an integer"))?;
    let redirect_uri = q
        .get("redirect_uri")
        .ok_or_else(|| ApiError::missing("redirect_uri"))?;
    if !redirect_allowed(cfg, redirect_uri) {
        return Err(ApiError::invalid_value(
            "redirect_uri is not an allowed redirect URI",
        ));
    }
    let mut w = sb.world();
    let c = w.conn_of(user, id)?;
    if let Some(src) = q.get("source")
        && !c.sources.iter().any(|s| s.name == *src)
    {
        return Err(ApiError::invalid_value(format!("Unknown source: {src}")));
    }
    if c.state.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalidValue",
            "The connection is already up to date",
        ));
    }
    let ticket = random_token();
    w.tickets.insert(
        ticket.clone(),
        crate::world::Ticket {
            connection: id,
            redirect_uri: redirect_uri.clone(),
            state: q.get("state").cloned(),
            expires_ms: now_ms() + crate::world::ms(cfg.request_access_ttl),
        },
    );
    Ok(format!(
        "{}/bank/authorize?ticket={ticket}",
        cfg.public_base
    ))
}

async fn webauth_url(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<WebauthUrl>> {
    let user = authed(&sb, &headers)?;
    let url = open_webauth(&sb, user, &query_map(q.as_deref()))?;
    Ok(Json(WebauthUrl { url }))
}
