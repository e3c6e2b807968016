//! Tokens and temporary codes: `/auth/init`, `/auth/renew`, `/auth/token/code`,
//! `/auth/token/access` and token deletion.

use super::{
    Result, authed, check_client, check_grant, parse_body, query_map, required, secs, text, truthy,
};
use crate::Sandbox;
use crate::error::ApiError;
use crate::faults::bearer;
use crate::world::{Code, now_ms, random_token};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use mend_model::{AccessToken, AuthCode, AuthToken};
use serde_json::Value;

pub(super) async fn auth_init(
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

pub(super) async fn auth_renew(
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

pub(super) async fn token_code(
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

pub(super) async fn token_access(
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

pub(super) async fn token_delete(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    authed(&sb, &headers)?;
    if let Some(t) = bearer(&headers) {
        sb.world().tokens.remove(t);
    }
    Ok(StatusCode::NO_CONTENT)
}
