//! `/webauth-url` and the redirect URIs the bank may send the user back to.

use super::{Result, authed, query_map};
use crate::error::ApiError;
use crate::world::{now_ms, random_token};
use crate::{Sandbox, SandboxConfig};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use mend_model::WebauthUrl;
use std::collections::HashMap;

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

pub(super) async fn webauth_url(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<WebauthUrl>> {
    let user = authed(&sb, &headers)?;
    let url = open_webauth(&sb, user, &query_map(q.as_deref()))?;
    Ok(Json(WebauthUrl { url }))
}
