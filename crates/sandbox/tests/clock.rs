//! The stoppable sandbox clock (`/_sandbox/clock`). Its own test binary, so its own
//! process: the clock is process-wide, and stopping it must not disturb the
//! conformance tests running in parallel in theirs.

use mend_sandbox::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER_ID, spawn};
use serde_json::{Value, json};

/// 2026-01-15T09:30:00Z, a Thursday in winter (Paris is UTC+1).
const FIXED_MS: i64 = 1_768_469_400_000;

#[tokio::test]
async fn a_stopped_clock_dates_the_demo_data_set_the_same_on_every_run() {
    let sb = spawn(|_| {}).await.unwrap();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", sb.url);

    let running: Value = http
        .get(url("/_sandbox/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(running["stopped"], false);

    let bad = http
        .put(url("/_sandbox/clock"))
        .json(&json!({ "now_ms": -1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let stopped: Value = http
        .put(url("/_sandbox/clock"))
        .json(&json!({ "now_ms": FIXED_MS }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stopped, json!({ "now_ms": FIXED_MS, "stopped": true }));
    assert!(
        http.post(url("/_sandbox/reset"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    let token: Value = http
        .post(url("/2.0/auth/renew"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "id_user": DEMO_USER_ID,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let read = |id: i64| {
        let req = http
            .get(url(&format!("/2.0/users/me/connections/{id}")))
            .bearer_auth(&bearer);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Dated from the stopped clock, in Powens' Paris time: a day ago, and retried in
    // ten minutes. The same after a pause, since the clock stands still.
    let fine = read(101).await;
    let limited = read(110).await;
    assert_eq!(fine["last_update"], "2026-01-14 10:30:00", "{fine}");
    assert_eq!(limited["next_try"], "2026-01-15 10:40:00", "{limited}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(read(110).await["next_try"], limited["next_try"]);
    assert_eq!(read(110).await["state"], "rateLimiting");

    let again: Value = http
        .delete(url("/_sandbox/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["stopped"], false);
    assert!(again["now_ms"].as_i64().unwrap() > FIXED_MS);
}
