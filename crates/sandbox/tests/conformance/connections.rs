//! Connection reads and updates: every demo state, submissions, resumes, syncs and
//! deletion.

use crate::app::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn connections_are_listed_with_both_state_and_error_and_naive_dates() {
    let app = app().await;
    let (status, body) = app.get("/2.0/users/me/connections?expand=connector").await;
    assert_eq!(status, 200);
    let list = body["connections"].as_array().unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (101..=125).collect::<Vec<_>>());
    for c in list {
        assert_eq!(c["state"], c["error"], "{c}");
        assert!(c["connector"]["name"].is_string());
        let created = c["created"].as_str().unwrap();
        assert_eq!(created.len(), 19);
        assert_eq!(&created[10..11], " ");
    }
    let fine = &list[0];
    assert_eq!(fine["state"], Value::Null);
    assert!(fine.get("sources").is_none());
    assert_eq!(list[13]["state"], "someFutureState");
    let numeric = app.get("/2.0/users/1/connections/104").await;
    assert_eq!(numeric.0, 200);
}

#[tokio::test]
async fn another_users_connection_answers_404() {
    let app = app().await;
    let (status, body) = app.get("/2.0/users/me/connections/201").await;
    assert_eq!(status, 404);
    assert_envelope(&body, "notFound");
    let (status, _) = app.get("/2.0/users/2/connections").await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/2.0/users/me/connections/999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_demo_state_is_served_with_what_it_needs() {
    let app = app().await;
    let expect = [
        (101, Value::Null),
        (102, json!("SCARequired")),
        (103, json!("webauthRequired")),
        (104, json!("additionalInformationNeeded")),
        (105, json!("decoupled")),
        (106, json!("validating")),
        (107, json!("actionNeeded")),
        (108, json!("passwordExpired")),
        (109, json!("wrongpass")),
        (110, json!("rateLimiting")),
        (111, json!("websiteUnavailable")),
        (112, json!("bug")),
        (113, json!("notSupported")),
        (114, json!("someFutureState")),
        (115, json!("SCARequired")),
        (116, json!("additionalInformationNeeded")),
    ];
    for (id, state) in expect {
        let c = app.conn(id).await;
        assert_eq!(c["state"], state, "{id}");
        let has_fields = matches!(id, 104 | 108 | 109 | 116);
        assert_eq!(c["fields"].is_array(), has_fields, "{id}: {c}");
        if matches!(id, 110..=112) {
            assert!(c["next_try"].is_string(), "{id}");
        }
        if matches!(id, 102..=105) {
            assert!(c["expire"].is_string(), "{id}");
        }
    }
    let otp = &app.conn(104).await["fields"][0];
    assert_eq!(
        otp,
        &json!({"name": "otp", "label": "Code received by SMS", "type": "text", "required": true,
                "regex": "^[0-9]{6}$", "values": null, "description": null,
                "auth_mechanisms": ["credentials"], "connector_sources": null})
    );
    let kinds: Vec<_> = app.conn(116).await["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["text", "password", "date", "list", "number", "hidden"]
    );
    assert_eq!(
        app.conn(105).await["error_message"],
        "Open the Banque Exemple app to approve access"
    );
    let multi = app.conn(115).await;
    let sources: Vec<_> = multi["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].clone(), s["state"].clone()))
        .collect();
    assert_eq!(
        sources,
        [
            (json!("openapi"), json!("SCARequired")),
            (json!("directaccess"), Value::Null)
        ]
    );
}

#[tokio::test]
async fn the_right_otp_repairs_the_connection() {
    let app = app().await;
    let (status, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "123456"}))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
    assert_eq!(c["error"], Value::Null);
    assert_eq!(c["fields"], Value::Null);
    assert!(c["last_update"].is_string());
}

#[tokio::test]
async fn a_wrong_otp_keeps_the_state_with_the_tries_left() {
    let app = app().await;
    let (status, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "000000"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "additionalInformationNeeded");
    assert_eq!(c["error_message"], "Incorrect code, 2 tries left");
    let (_, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "000001"}))
        .await;
    assert_eq!(c["error_message"], "Incorrect code, 1 try left");
    let (status, body) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "12ab"}))
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn unknown_body_keys_are_refused() {
    let app = app().await;
    let (status, body) = app
        .post("/2.0/users/me/connections/104", json!({"pin": "1234"}))
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn wrong_credentials_answer_400_wrongpass_and_right_ones_repair() {
    let app = app().await;
    let (status, body) = app
        .post(
            "/2.0/users/me/connections/109",
            json!({"login": "demo", "password": "nope"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "wrongpass");
    assert!(body["message"].is_string());
    assert_eq!(app.conn(109).await["state"], "wrongpass");
    let (status, c) = app
        .send(
            app.http
                .post(app.url("/2.0/users/me/connections/109"))
                .bearer_auth(&app.token)
                .form(&[("login", "demo"), ("password", "1234")]),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn an_expired_password_needs_the_login_and_a_new_one() {
    let app = app().await;
    let (status, body) = app
        .post(
            "/2.0/users/me/connections/108",
            json!({"login": "someone", "password": "new"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "wrongpass");
    assert_eq!(app.conn(108).await["state"], "passwordExpired");
    let (status, c) = app
        .post(
            "/2.0/users/me/connections/108",
            json!({"login": "demo", "password": "s3cret!"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn every_field_type_is_checked() {
    let app = app().await;
    let good = json!({"customer_number": "12345678", "pin": "4321", "birth_date": "1990-05-17",
                      "website": "pro", "amount": 12.5});
    for (key, bad) in [
        ("customer_number", json!("1234")),
        ("birth_date", json!("17/05/1990")),
        ("website", json!("other")),
        ("amount", json!("lots")),
    ] {
        let mut body = good.clone();
        body[key] = bad;
        let (status, err) = app.post("/2.0/users/me/connections/116", body).await;
        assert_eq!(status, 400, "{key}");
        assert_envelope(&err, "invalidValue");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("pin");
    let (status, err) = app.post("/2.0/users/me/connections/116", missing).await;
    assert_eq!(status, 400);
    assert_envelope(&err, "missingParameter");
    let (status, c) = app.post("/2.0/users/me/connections/116", good).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn background_resume_validates_until_approved_in_the_bank_app() {
    let app = app().await;
    let (status, c) = app
        .post(
            "/2.0/users/me/connections/105?background=true",
            json!({"resume": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "validating");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.conn(105).await["state"], "validating");
    let (status, _, page) = app.browse(&app.url("/bank/app")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-connection=\"105\""), "{page}");
    assert!(page.contains("Banque Exemple"));
    let (status, loc, _) = app
        .submit(
            &app.url("/bank/app"),
            &[("connection", "105"), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(loc.unwrap().contains("/bank/app"));
    let c = app.conn(105).await;
    assert_eq!(c["state"], Value::Null);
    assert!(c["last_update"].is_string());
}

#[tokio::test]
async fn refusing_in_the_bank_app_goes_back_to_decoupled() {
    let app = app().await;
    app.post(
        "/2.0/users/me/connections/105?background=true",
        json!({"resume": "true"}),
    )
    .await;
    app.submit(
        &app.url("/bank/app"),
        &[("connection", "105"), ("decision", "refuse")],
    )
    .await;
    let c = app.conn(105).await;
    assert_eq!(c["state"], "decoupled");
    assert_eq!(c["error_message"], "Access refused in the bank app");
}

#[tokio::test]
async fn a_blocking_resume_gives_up_after_the_limit_still_decoupled() {
    let app = app().await;
    let start = Instant::now();
    let (status, c) = app
        .post("/2.0/users/me/connections/105", json!({"resume": true}))
        .await;
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(550));
    assert_eq!(c["state"], "decoupled");
    assert!(c["expire"].is_string());
}

#[tokio::test]
async fn a_blocking_resume_returns_once_approved() {
    let app = app().await;
    let approver = {
        let http = app.http.clone();
        let url = app.url("/bank/app");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            http.post(url)
                .form(&[("connection", "105"), ("decision", "approve")])
                .send()
                .await
                .unwrap();
        })
    };
    let (status, c) = app
        .post("/2.0/users/me/connections/105", json!({"resume": true}))
        .await;
    approver.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn an_unapproved_background_resume_expires_back_to_decoupled() {
    let app = app_with(|cfg| cfg.approval_expiry = Duration::from_millis(300)).await;
    app.post(
        "/2.0/users/me/connections/105?background=true",
        json!({"resume": true}),
    )
    .await;
    let c = app.until(105, |c| c["state"] != "validating").await;
    assert_eq!(c["state"], "decoupled");
    assert!(c["error_message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn sca_sync_with_the_user_present_asks_for_an_approval_that_comes_by_itself() {
    let app = app().await;
    let (status, c) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/102?psu_requested=false"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "SCARequired");
    let (_, c) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/102"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(c["state"], "decoupled");
    let (_, c) = app
        .post("/2.0/users/me/connections/102", json!({"resume": true}))
        .await;
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn validating_turns_fine_by_itself() {
    let app = app().await;
    assert_eq!(app.conn(106).await["state"], "validating");
    app.until(106, |c| c["state"].is_null()).await;
}

#[tokio::test]
async fn a_background_submission_validates_then_settles() {
    let app = app().await;
    let (_, c) = app
        .post(
            "/2.0/users/me/connections/104?background=true",
            json!({"otp": "123456"}),
        )
        .await;
    assert_eq!(c["state"], "validating");
    app.until(104, |c| c["state"].is_null()).await;
}

#[tokio::test]
async fn action_needed_is_fine_after_accepting_terms_and_a_sync() {
    let app = app().await;
    let (_, c) = app.post("/2.0/users/me/connections/107", json!({})).await;
    assert_eq!(c["state"], "actionNeeded");
    app.submit(
        &app.url("/bank/app"),
        &[("connection", "107"), ("decision", "accept_terms")],
    )
    .await;
    let (_, c) = app.post("/2.0/users/me/connections/107", json!({})).await;
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let app = app().await;
    let (status, _) = app
        .send(
            app.http
                .delete(app.url("/2.0/users/me/connections/113"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get("/2.0/users/me/connections/113").await;
    assert_eq!(status, 404);
}
