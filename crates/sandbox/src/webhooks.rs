//! Signed webhooks, as Powens sends them, to [`WebhookTarget::url`]: a
//! `CONNECTION_SYNCED` when a connection's state, message or last update changes
//! (by an action or by time), a `CONNECTION_DELETED` when one is deleted, a
//! `USER_DELETED` when a user is.
//!
//! Each is a `POST` of JSON to `<url>/connection-synced`, `<url>/connection-deleted`
//! or `<url>/user-deleted`, signed the way Powens' `hmac_signature` auth provider
//! does: `BI-Signature-Date` (UTC, RFC 3339) and `BI-Signature` =
//! base64(HMAC-SHA256(secret, `POST.<path>.<date>.<body>`)). A watcher task looks at
//! the world four times a second (time alone changes it, see [`crate::world`]), so a
//! webhook follows a change within about 250 ms. Delivery is tried once; failures
//! are logged.

use crate::Sandbox;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Where to send webhooks, and the secret that signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL the event names are appended to, e.g.
    /// `http://127.0.0.1:8787/webhooks/powens` (no trailing slash).
    pub url: String,
    /// The auth provider's `secret_key`.
    pub secret: String,
}

/// How often the world is looked at.
const TICK: Duration = Duration::from_millis(250);

/// The signature of a webhook: base64(HMAC-SHA256(secret, `POST.<path>.<date>.<body>`)).
pub fn sign(secret: &str, path: &str, date: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("POST.{path}.{date}.").as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What a change is detected on: state, message, last update, next try.
type Fingerprint = (Option<String>, Option<String>, Option<i64>, Option<i64>);

struct Seen {
    conns: BTreeMap<i64, (i64, Fingerprint)>,
    users: BTreeSet<i64>,
}

fn look(sb: &Sandbox) -> Seen {
    let w = sb.world();
    Seen {
        conns: w
            .conns
            .values()
            .map(|c| {
                let state = c.state.as_ref().map(|s| s.as_str().to_owned());
                (
                    c.id,
                    (
                        c.user,
                        (
                            state,
                            c.error_message.clone(),
                            c.last_update_ms,
                            c.next_try_ms,
                        ),
                    ),
                )
            })
            .collect(),
        users: w.users.iter().copied().collect(),
    }
}

/// Starts the watcher (once per sandbox) when a target is configured and a tokio
/// runtime is running.
pub(crate) fn start(sb: &Sandbox) {
    let Some(target) = sb.cfg().webhooks.clone() else {
        return;
    };
    if sb
        .inner
        .webhooks_started
        .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        sb.inner
            .webhooks_started
            .store(false, std::sync::atomic::Ordering::SeqCst);
        return;
    };
    let sb = sb.clone();
    rt.spawn(async move { watch(sb, target).await });
}

async fn watch(sb: Sandbox, target: WebhookTarget) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut seen = look(&sb);
    let mut next_id = 1u64;
    tracing::info!(url = %target.url, "sandbox webhooks on");
    loop {
        tokio::time::sleep(TICK).await;
        let now = look(&sb);
        let mut events: Vec<(&str, Value)> = Vec::new();
        for (id, (user, print)) in &now.conns {
            if seen.conns.get(id).is_none_or(|(_, p)| p != print)
                && let Some(conn) = sb.connection(*id)
            {
                events.push((
                    "connection-synced",
                    json!({"user": {"id": user}, "connection": conn, "id_webhook_data": next_id}),
                ));
                next_id += 1;
            }
        }
        for (id, (user, _)) in &seen.conns {
            if !now.conns.contains_key(id) {
                events.push(("connection-deleted", json!({"id": id, "id_user": user})));
            }
        }
        for user in seen.users.difference(&now.users) {
            events.push(("user-deleted", json!({"id": user})));
        }
        seen = now;
        for (event, body) in events {
            send(&client, &target, event, &body).await;
        }
    }
}

async fn send(client: &reqwest::Client, target: &WebhookTarget, event: &str, body: &Value) {
    let url = format!("{}/{event}", target.url);
    let path = reqwest::Url::parse(&url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    let body = serde_json::to_vec(body).unwrap_or_default();
    let date = crate::world::rfc3339_now();
    let signature = sign(&target.secret, &path, &date, &body);
    let res = client
        .post(&url)
        .header("content-type", "application/json")
        .header("BI-Signature-Date", &date)
        .header("BI-Signature", signature)
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => tracing::debug!(event, "webhook delivered"),
        Ok(r) => tracing::warn!(event, status = r.status().as_u16(), "webhook refused"),
        Err(e) => tracing::warn!(event, error = %e.without_url(), "webhook not delivered"),
    }
}
