//! The control routes: faults, the request log, reset.

use crate::app::*;
use mend_sandbox::{DEMO_USER_ID, FaultKind, Faults};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[tokio::test]
async fn faults_server_error_and_rate_limit() {
    let app = app().await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    let (status, body) = app.get("/2.0/users/me/connections/101").await;
    assert_eq!(status, 500);
    assert_envelope(&body, "bug");
    // HTML pages and control routes are never faulted.
    assert_eq!(app.browse(&app.url("/bank/app")).await.0, 200);
    let res = app
        .http
        .put(app.url("/_sandbox/faults"))
        .json(&json!({"kind": {"RateLimited": {"retry_after_secs": 7}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    app.sb.sandbox.set_faults(Faults {
        fraction: 0.0,
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    assert_eq!(app.get("/2.0/users/me/connections/101").await.0, 200);
}

#[tokio::test]
async fn faults_malformed_json_drop_latency_and_timeout() {
    let app = app().await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::MalformedJson),
        ..Faults::default()
    });
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.json::<Value>().await.is_err());

    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::Drop),
        ..Faults::default()
    });
    let dropped = async {
        app.http
            .get(app.url("/2.0/users/me/connections/101"))
            .bearer_auth(&app.token)
            .send()
            .await?
            .bytes()
            .await
    };
    assert!(dropped.await.is_err());

    app.sb.sandbox.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let start = Instant::now();
    assert_eq!(app.get("/2.0/users/me/connections/101").await.0, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::Timeout),
        ..Faults::default()
    });
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(res.unwrap_err().is_timeout());
}

#[tokio::test]
async fn the_request_log_records_method_path_query_raw_body_user_and_status() {
    let app = app().await;
    app.sb.sandbox.clear_requests();
    app.send(
        app.http
            .post(app.url("/2.0/users/me/connections/104?background=true"))
            .bearer_auth(&app.token)
            .form(&[("otp", "123456")]),
    )
    .await;
    app.send(app.http.get(app.url("/2.0/users/me/connections/101")))
        .await;
    // Control routes and pages are not logged.
    app.browse(&app.url("/bank/app")).await;
    let log: Vec<HashMap<String, Value>> = app
        .http
        .get(app.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/2.0/users/me/connections/104");
    assert_eq!(log[0]["query"], "background=true");
    assert_eq!(log[0]["body"], "otp=123456");
    assert_eq!(log[0]["user"], 1);
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[1]["user"], Value::Null);
    assert_eq!(log[1]["status"], 401);
    let res = app
        .http
        .delete(app.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.sb.sandbox.requests().is_empty());
}

#[tokio::test]
async fn a_fault_mix_fails_in_each_way_and_slow_answers_arrive_late() {
    let app = app().await;
    // Set over HTTP, as a soak does: every request faulted, one kind of the mix each.
    let res = app
        .http
        .put(app.url("/_sandbox/faults"))
        .json(
            &json!({"mix": ["ServerError", {"RateLimited": {"retry_after_secs": 3}},
                              "MalformedJson", {"Slow": {"latency_ms": 300}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let started = std::time::Instant::now();
        let res = app
            .http
            .get(app.url("/2.0/users/me/connections/101"))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let json = res.json::<Value>().await.ok();
        let what = match (status, json) {
            (500, _) => "server error",
            (429, _) => "rate limited",
            (200, None) => "garbage",
            (200, Some(c)) if c["id"] == 101 => {
                assert!(started.elapsed() >= Duration::from_millis(300), "not slow");
                "slow"
            }
            other => panic!("not a fault of the mix: {other:?}"),
        };
        seen.insert(what);
        if seen.len() == 4 {
            break;
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[tokio::test]
async fn the_request_log_reads_on_from_a_sequence_number() {
    let app = app().await;
    app.get("/2.0/users/me/connections/101").await;
    let first = app.sb.sandbox.requests();
    let last = first.last().unwrap().seq;
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
    app.get("/2.0/users/me/connections/102").await;
    let after: Vec<Value> = app
        .http
        .get(app.url(&format!("/_sandbox/requests?after={last}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["path"], "/2.0/users/me/connections/102");
    assert_eq!(after[0]["seq"], last + 1);
    // A clear empties the log but never reuses a number.
    app.sb.sandbox.clear_requests();
    app.get("/2.0/users/me/connections/101").await;
    assert_eq!(app.sb.sandbox.requests()[0].seq, last + 2);
}

#[tokio::test]
async fn reset_restores_the_demo_data_set() {
    let app = app().await;
    app.post("/2.0/users/me/connections/104", json!({"otp": "123456"}))
        .await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    let res = app
        .http
        .post(app.url("/_sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.sb.sandbox.requests().is_empty());
    assert_eq!(app.sb.sandbox.faults(), Faults::default());
    let token = app.renew(DEMO_USER_ID, false).await;
    let (_, c) = app
        .send(
            app.http
                .get(app.url("/2.0/users/me/connections/104"))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(c["state"], "additionalInformationNeeded");
    let demo: Vec<Value> = app
        .http
        .get(app.url("/_sandbox/connections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(demo.len(), 25);
    assert_eq!(demo[0]["id"], 101);
    assert!(demo[0]["title"].is_string() && demo[0]["explanation"].is_string());
    assert_eq!(
        app.sb
            .sandbox
            .connection(105)
            .unwrap()
            .connector
            .unwrap()
            .name,
        "Banque Exemple"
    );
}
