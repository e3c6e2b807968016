//! `POST` and `PUT` on a connection: submitted values, syncs and resumes, with the
//! scenario's refusals and the slow bank.

use super::connections::{answer, legacy, parse_id};
use super::{Result, authed, check_user, flag, parse_body, query_map, text, truthy};
use crate::Sandbox;
use crate::error::ApiError;
use crate::world::{Values, now_ms};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mend_model::ConnectionState;
use serde_json::Value;
use std::time::{Duration, Instant};

pub(super) async fn post_conn(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((path_user, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response> {
    update(sb, headers, path_user, id, q, body, false).await
}

pub(super) async fn put_conn(
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
