//! Powens' webhooks (`POST /webhooks/powens/connection-synced`, `…/connection-deleted`,
//! `…/user-deleted`), on only with `POWENS_WEBHOOK_SECRET`: otherwise the routes do
//! not exist (404).
//!
//! Every request is verified before anything is read from it, as Powens' `hmac_signature`
//! auth provider signs: `BI-Signature` must be base64(HMAC-SHA256(secret,
//! `POST.<path>.<BI-Signature-Date>.<raw body>`)), `<path>` being the request path as
//! received, compared in constant time; `BI-Signature-Date` (RFC 3339, with or without
//! fractional seconds; without an offset it is read as UTC) must be within
//! [`MAX_SKEW`] of now. Anything else answers 401 with the error envelope and changes
//! nothing; a body over [`MAX_BODY`] is not read to its end, and answers 413.
//!
//! A valid `CONNECTION_SYNCED` becomes the connection's status at once, for every
//! waiter, without asking Powens ([`Watchers::announce`](crate::watch::Watchers::announce));
//! a deletion makes reads and waiters answer 404. A valid event always answers 204:
//! Powens retries what is not 2xx.

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::Mac as _;
use mend_model::Connection;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

use crate::AppState;
use crate::error::ApiError;

/// Largest webhook body read (a `CONNECTION_SYNCED` carries accounts and
/// transactions).
pub const MAX_BODY: usize = 4 << 20;
/// Largest distance between `BI-Signature-Date` and now.
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// The verified events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `connection-synced`.
    ConnectionSynced,
    /// `connection-deleted`.
    ConnectionDeleted,
    /// `user-deleted`.
    UserDeleted,
}

impl Event {
    /// The event of a webhook path segment.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "connection-synced" => Some(Self::ConnectionSynced),
            "connection-deleted" => Some(Self::ConnectionDeleted),
            "user-deleted" => Some(Self::UserDeleted),
            _ => None,
        }
    }
}

/// Why a webhook was refused (logged, never answered in detail).
fn refused(why: &'static str) -> ApiError {
    tracing::warn!(why, "webhook refused");
    ApiError::Unauthorized("webhook signature")
}

/// Checks the signature of `body` received at `path`, at `now` (Unix seconds).
pub fn verify(
    secret: &SecretString,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let date = header("bi-signature-date").ok_or("no BI-Signature-Date")?;
    let signature = header("bi-signature").ok_or("no BI-Signature")?;
    let at = parse_date(date).ok_or("BI-Signature-Date unreadable")?;
    if (now - at).unsigned_abs() > MAX_SKEW.as_secs() {
        return Err("BI-Signature-Date too far from now");
    }
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| "BI-Signature is not base64")?;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .map_err(|_| "bad key")?;
    mac.update(b"POST.");
    mac.update(path.as_bytes());
    mac.update(b".");
    mac.update(date.as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sig).map_err(|_| "bad signature")
}

/// `BI-Signature-Date` as Unix seconds: RFC 3339 with an offset, or a UTC date-time
/// written without one.
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(jiff::Timestamp::as_second)
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

#[derive(Deserialize)]
struct Synced {
    #[serde(default)]
    user: Option<Id>,
    connection: Connection,
}

/// What a verified webhook says.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// `connection-synced`: the connection as it now is, and its owner.
    Synced {
        /// The owner (`user.id`, else the connection's `id_user`).
        user: i64,
        /// The connection.
        connection: Connection,
    },
    /// `connection-deleted`.
    ConnectionDeleted(Connection),
    /// `user-deleted`: the user's id.
    UserDeleted(i64),
}

/// Reads the body of a verified webhook for `event` (a clear 400 when unreadable).
/// Public so that the fuzz targets (fuzz/) read bodies exactly as the route does.
pub fn read(event: Event, body: &[u8]) -> Result<Notice, ApiError> {
    let bad = |_| ApiError::BadRequest("webhook body unreadable".into());
    Ok(match event {
        Event::ConnectionSynced => {
            let synced: Synced = serde_json::from_slice(body).map_err(bad)?;
            let conn = synced.connection;
            let Some(user) = synced.user.map(|u| u.id).or(conn.id_user) else {
                return Err(ApiError::BadRequest("webhook names no user".into()));
            };
            Notice::Synced {
                user,
                connection: conn,
            }
        }
        Event::ConnectionDeleted => {
            Notice::ConnectionDeleted(serde_json::from_slice(body).map_err(bad)?)
        }
        Event::UserDeleted => {
            let user: Id = serde_json::from_slice(body).map_err(bad)?;
            Notice::UserDeleted(user.id)
        }
    })
}

/// `POST /webhooks/powens/{event}`.
#[utoipa::path(
    post,
    path = "/webhooks/powens/{event}",
    tag = "webhooks",
    params(("event" = String, Path, description = "`connection-synced`, `connection-deleted` or `user-deleted`")),
    request_body(content = serde_json::Value, description = "Powens' event body, signed with `BI-Signature` over `POST.<path>.<BI-Signature-Date>.<body>`"),
    responses(
        (status = 204, description = "Verified and applied"),
        (status = 400, description = "`bad_request`: an unreadable body", body = mend_model::api::ErrorBody),
        (status = 401, description = "`unauthorized`: a missing or bad signature, or a date more than 5 minutes away", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`: an event this proxy does not take", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn receive(
    State(st): State<AppState>,
    Path(event): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let Some(secret) = st.settings.webhook_secret.as_ref() else {
        return Err(ApiError::NotFound);
    };
    let event = Event::parse(&event).ok_or(ApiError::NotFound)?;
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    verify(
        secret,
        uri.path(),
        &headers,
        &body,
        jiff::Timestamp::now().as_second(),
    )
    .map_err(refused)?;
    match read(event, &body)? {
        Notice::Synced {
            user,
            connection: conn,
        } => {
            let mut status = st.settings.view.status_of(&conn);
            // A webhook may carry no expansion: keep what the last read knew.
            if let Some(known) = st.watchers.last_known(user, conn.id) {
                if status.connector.is_none() {
                    status.connector = known.connector;
                }
                if conn.sources.is_none() {
                    status.sources = known.sources;
                    status.access_expire = known.access_expire;
                }
            }
            tracing::info!(
                connection = conn.id,
                state = mend_model::ConnectionState::data_state(status.state.as_ref()),
                "webhook: connection synced"
            );
            st.watchers.announce(user, conn.id, &status);
        }
        Notice::ConnectionDeleted(conn) => {
            tracing::info!(connection = conn.id, "webhook: connection deleted");
            st.watchers.gone(conn.id_user, Some(conn.id));
        }
        Notice::UserDeleted(user) => {
            tracing::info!(user, "webhook: user deleted");
            st.watchers.gone(Some(user), None);
            st.powens.forget_user(user);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(date: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("bi-signature-date", date.parse().unwrap());
        h.insert("bi-signature", sig.parse().unwrap());
        h
    }

    fn sign(secret: &str, path: &str, date: &str, body: &[u8]) -> String {
        use base64::Engine as _;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("POST.{path}.{date}.").as_bytes());
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_signature_covers_method_path_date_and_body() {
        let secret = SecretString::from("whsec");
        let path = "/webhooks/powens/connection-synced";
        let now = parse_date("2026-12-01T10:00:00Z").unwrap();
        for date in [
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00.123456Z",
            "2026-12-01T11:00:00+01:00",
            "2026-12-01T10:00:00",
        ] {
            let sig = sign("whsec", path, date, b"{}");
            assert_eq!(
                verify(&secret, path, &headers(date, &sig), b"{}", now),
                Ok(()),
                "{date}"
            );
            assert!(verify(&secret, path, &headers(date, &sig), b"{ }", now).is_err());
            assert!(verify(&secret, "/other", &headers(date, &sig), b"{}", now).is_err());
        }
        let sig = sign("whsec", path, "2026-12-01T10:00:00Z", b"{}");
        assert_eq!(
            verify(
                &secret,
                path,
                &headers("2026-12-01T10:00:00Z", &sig),
                b"{}",
                now + 301
            ),
            Err("BI-Signature-Date too far from now")
        );
        assert!(
            verify(
                &SecretString::from("other"),
                path,
                &headers("2026-12-01T10:00:00Z", &sig),
                b"{}",
                now
            )
            .is_err()
        );
        assert!(verify(&secret, path, &HeaderMap::new(), b"{}", now).is_err());
    }
}
