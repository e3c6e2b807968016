//! Powens' webhooks: off without `POWENS_WEBHOOK_SECRET`, verified exactly (signature
//! over method, path, date and body; a date within 5 minutes), and a valid event
//! reaching waiters at once without asking Powens.

use crate::helpers::*;

const HOOK_SECRET: &str = "whsec-test-0123456789";

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    mend_model::PowensDateTime::from_unix_utc(secs as i64).to_rfc3339_utc()
}

impl TestApp {
    async fn hook(&self, event: &str, body: &Value, date: &str, secret: &str) -> Answer {
        let path = format!("/webhooks/powens/{event}");
        let raw = serde_json::to_vec(body).unwrap();
        let sig = mend_sandbox::webhooks::sign(secret, &path, date, &raw);
        self.send(
            self.client
                .post(self.url(&path))
                .header("content-type", "application/json")
                .header("BI-Signature-Date", date)
                .header("BI-Signature", sig)
                .body(raw),
        )
        .await
    }
}

async fn hooked() -> TestApp {
    spawn_with(|c| c.webhook_secret = Some(SecretString::from(HOOK_SECRET))).await
}

fn synced(id: i64, state: Option<&str>) -> Value {
    json!({"user": {"id": 1}, "connection": {"id": id, "id_user": 1, "state": state,
           "error": state, "last_update": "2026-12-01 10:00:00", "active": true}})
}

#[tokio::test]
async fn without_a_secret_there_are_no_webhook_routes() {
    let app = spawn_app().await;
    app.hook(
        "connection-synced",
        &synced(104, None),
        &now_rfc3339(),
        HOOK_SECRET,
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn a_bad_signature_an_old_date_or_no_headers_answer_401_and_change_nothing() {
    let app = hooked().await;
    let token = app.demo();
    let body = synced(104, None);
    app.hook("connection-synced", &body, &now_rfc3339(), "not-the-secret")
        .await
        .error(401, "unauthorized");
    app.hook(
        "connection-synced",
        &body,
        "2020-01-01T00:00:00Z",
        HOOK_SECRET,
    )
    .await
    .error(401, "unauthorized");
    app.send(
        app.client
            .post(app.url("/webhooks/powens/connection-synced"))
            .json(&body),
    )
    .await
    .error(401, "unauthorized");
    let s = app.get_connection(104, &token).await.status_body();
    assert!(s.state.is_some(), "still what Powens says: {s:?}");
    app.hook("no-such-event", &body, &now_rfc3339(), HOOK_SECRET)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn an_oversized_body_answers_413_even_signed_and_changes_nothing() {
    let app = hooked().await;
    let token = app.demo();
    let mut body = synced(104, None);
    body["padding"] = json!("x".repeat(mend_proxy::webhooks::MAX_BODY));
    app.hook("connection-synced", &body, &now_rfc3339(), HOOK_SECRET)
        .await
        .error(413, "payload_too_large");
    let s = app.get_connection(104, &token).await.status_body();
    assert!(s.state.is_some(), "still what Powens says: {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_synced_reaches_every_waiter_at_once_without_asking_powens() {
    let app = hooked().await;
    let token = app.demo();
    app.get_connection(104, &token).await.status_body();
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let (client, url, token) = (
                app.client.clone(),
                app.url("/api/v1/connections/104?wait=10&since=additionalInformationNeeded"),
                token.clone(),
            );
            tokio::spawn(async move {
                let r = client.get(url).bearer_auth(token).send().await.unwrap();
                r.json::<ConnectionStatus>().await.unwrap()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let a = app
        .hook(
            "connection-synced",
            &synced(104, None),
            &now_rfc3339(),
            HOOK_SECRET,
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.text);
    for w in waiters {
        let s = w.await.unwrap();
        assert_eq!(s.state, None);
        assert_eq!(
            s.connector.as_deref(),
            Some("Caisse Fictive"),
            "kept from the last read"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        app.upstream_count("GET", "/connections/104"),
        1,
        "only the first read"
    );
    let s = app.get_connection(104, &token).await.status_body();
    assert_eq!(s.state, None);
}

#[tokio::test]
async fn deleted_connections_and_users_answer_404() {
    let app = hooked().await;
    let token = app.demo();
    let a = app
        .hook(
            "connection-deleted",
            &json!({"id": 104, "id_user": 1}),
            &now_rfc3339(),
            HOOK_SECRET,
        )
        .await;
    assert_eq!(a.status, 204);
    app.get_connection(104, &token)
        .await
        .error(404, "not_found");
    app.wait_connection(104, &token, 2, "ok")
        .await
        .error(404, "not_found");
    app.get_connection(101, &token).await.status_body();
    app.hook(
        "user-deleted",
        &json!({"id": 1}),
        &now_rfc3339(),
        HOOK_SECRET,
    )
    .await;
    app.get_connection(101, &token)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn a_connection_deleted_by_webhook_leaves_the_list_at_once() {
    let app = spawn_with(|c| {
        c.webhook_secret = Some(SecretString::from(HOOK_SECRET));
        c.poll_interval = Duration::from_secs(30);
    })
    .await;
    let token = app.demo();
    let ids = |a: &Answer| -> Vec<i64> {
        a.json()["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect()
    };
    let before = ids(&app.get("/api/v1/connections", Some(&token)).await);
    assert!(before.contains(&104));
    let a = app
        .hook(
            "connection-deleted",
            &json!({"id": 104, "id_user": 1}),
            &now_rfc3339(),
            HOOK_SECRET,
        )
        .await;
    assert_eq!(a.status, 204);
    let after = ids(&app.get("/api/v1/connections", Some(&token)).await);
    assert!(!after.contains(&104), "{after:?}");
    assert_eq!(after.len(), before.len() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sandbox_mode_the_simulator_sends_its_signed_webhooks_to_the_proxy() {
    let app = hooked().await;
    let token = app.demo();
    // 106 is validating and settles by itself after 300 ms; with webhooks on it is
    // polled once a minute at most, so only the webhook can tell the waiter.
    let started = Instant::now();
    let s = app
        .wait_connection(106, &token, 10, "validating")
        .await
        .status_body();
    assert_eq!(s.state, None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        app.upstream_count("GET", "/connections/106"),
        1,
        "the first poll only"
    );
}
