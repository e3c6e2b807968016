//! Field submissions: checked before Powens, never retried.

use crate::helpers::*;

#[tokio::test]
async fn the_right_otp_repairs_the_connection() {
    let app = spawn_app().await;
    let s = app
        .submit_fields(104, &app.demo(), json!({"otp": "123456"}))
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
    assert_eq!(app.upstream_count("POST", "/connections/104"), 1);
}

#[tokio::test]
async fn a_value_failing_the_regex_is_refused_and_never_reaches_powens() {
    let app = spawn_app().await;
    let a = app
        .submit_fields(104, &app.demo(), json!({"otp": "12345a"}))
        .await;
    let body = a.error(422, "invalid_fields");
    assert_eq!(
        body.error.fields.unwrap()["otp"],
        mend_model::api::FieldProblem::Pattern
    );
    let body = app
        .submit_fields(104, &app.demo(), json!({}))
        .await
        .error(422, "invalid_fields");
    assert_eq!(
        body.error.fields.unwrap()["otp"],
        mend_model::api::FieldProblem::Required
    );
    assert_eq!(app.upstream_count("POST", "/connections/104"), 0);
}

#[tokio::test]
async fn injected_update_keys_are_refused_and_never_reach_powens() {
    let app = spawn_app().await;
    for key in [
        "active",
        "expire",
        "resume",
        "source",
        "refresh_auth",
        "login",
    ] {
        let body = app
            .submit_fields(104, &app.demo(), json!({"otp": "123456", key: "true"}))
            .await;
        let fields = body.error(422, "invalid_fields").error.fields.unwrap();
        assert_eq!(fields[key], mend_model::api::FieldProblem::Unknown, "{key}");
    }
    // Keys beside `values` are ignored, never forwarded.
    let a = app
        .post(
            "/api/v1/connections/104/fields",
            &app.demo(),
            json!({"values": {"otp": "000000"}, "active": false}),
        )
        .await;
    a.status_body();
    let posted: Vec<_> = app
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/104"))
        .collect();
    assert_eq!(posted.len(), 1);
    assert!(!posted[0].body.contains("active"), "{}", posted[0].body);
}

#[tokio::test]
async fn list_values_must_be_among_the_offered_ones() {
    let app = spawn_app().await;
    let s = app.get_connection(116, &app.demo()).await.status_body();
    let list = s
        .fields
        .iter()
        .find(|f| f.kind == mend_model::FieldType::List)
        .expect("a list field");
    let body = app
        .submit_fields(116, &app.demo(), json!({ list.name.clone(): "nope" }))
        .await;
    let fields = body.error(422, "invalid_fields").error.fields.unwrap();
    assert_eq!(fields[&list.name], mend_model::api::FieldProblem::NotInList);
}

#[tokio::test]
async fn credentials_need_agent_status() {
    let app = spawn_app().await;
    app.submit_fields(
        109,
        &app.demo(),
        json!({"login": "demo", "password": "1234"}),
    )
    .await
    .error(403, "agent_status_required");
    app.submit_fields(
        108,
        &app.demo(),
        json!({"login": "demo", "password": "new"}),
    )
    .await
    .error(403, "agent_status_required");
    assert_eq!(app.upstream_count("POST", "/connections/109"), 0);
}

#[tokio::test]
async fn with_agent_status_wrong_credentials_are_rejected_and_right_ones_repair() {
    let app = spawn_with(|c| c.agent_status = true).await;
    let s = app.get_connection(109, &app.demo()).await.status_body();
    assert!(!s.fields.is_empty(), "the credentials form is offered");
    app.submit_fields(
        109,
        &app.demo(),
        json!({"login": "demo", "password": "nope"}),
    )
    .await
    .error(422, "credentials_rejected");
    let s = app
        .submit_fields(
            109,
            &app.demo(),
            json!({"login": "demo", "password": "1234"}),
        )
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
}

#[tokio::test]
async fn fields_on_a_connection_that_asks_for_none_conflict() {
    let app = spawn_app().await;
    app.submit_fields(101, &app.demo(), json!({"otp": "123456"}))
        .await
        .error(409, "conflict");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_answer_the_envelope() {
    let app = spawn_app().await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/104/fields");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    a.error(400, "bad_request");
    assert!(!a.text.contains("not json"), "the body is not echoed");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(&token)
                .body(r#"{"values":{}}"#),
        )
        .await;
    a.error(400, "bad_request");
    let a = app
        .post(
            "/api/v1/connections/104/fields",
            &token,
            json!({"values": {"otp": 123456}}),
        )
        .await;
    a.error(400, "bad_request");
    assert!(!a.text.contains("123456"));
    let huge = json!({"values": {"otp": "1".repeat(20_000)}});
    app.post("/api/v1/connections/104/fields", &token, huge)
        .await
        .error(413, "payload_too_large");
    assert_eq!(app.upstream_count("POST", "/connections/104"), 0);
}

#[tokio::test]
async fn submissions_are_never_retried() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.get_connection(104, &app.demo()).await.status_body();
    // A status younger than the poll interval: the sync is checked against it
    // without a read, so the fault hits the PUT itself.
    app.get_connection(101, &app.demo()).await.status_body();
    // Fault every request from now on: the PUT fails.
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
        mix: Vec::new(),
    });
    let a = app.sync(101, &app.demo()).await;
    a.error(502, "upstream_error");
    assert_eq!(
        app.upstream_count("PUT", "/connections/101"),
        1,
        "one try only"
    );
    app.resume(105, &app.demo())
        .await
        .error(502, "upstream_error");
    assert_eq!(app.upstream_count("POST", "/connections/105"), 0);
    assert_eq!(
        app.upstream_count("GET", "/connections/105"),
        3,
        "reads are retried three times"
    );
}

#[tokio::test]
async fn every_field_type_is_checked_before_powens_and_valid_values_repair() {
    let app = spawn_app().await;
    let token = app.demo();
    let bad = json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-30",
                     "website": "par", "amount": "a lot"});
    let fields = app
        .submit_fields(116, &token, bad)
        .await
        .error(422, "invalid_fields")
        .error
        .fields
        .unwrap();
    assert_eq!(fields["birth_date"], mend_model::api::FieldProblem::Pattern);
    assert_eq!(fields["amount"], mend_model::api::FieldProblem::Pattern);
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(app.upstream_count("POST", "/connections/116"), 0);
    let good = json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-28",
                      "website": "pro", "amount": "12.50"});
    let s = app.submit_fields(116, &token, good).await.status_body();
    assert!(s.state.is_none(), "{s:?}");
}

#[tokio::test]
async fn what_reaches_powens_is_exactly_what_was_checked() {
    let app = spawn_app().await;
    let token = app.demo();
    // Float syntax is not a number to a bank.
    for amount in ["1e3", "+5", ".5"] {
        let fields = app
            .submit_fields(
                116,
                &token,
                json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-28",
                       "website": "pro", "amount": amount}),
            )
            .await
            .error(422, "invalid_fields")
            .error
            .fields
            .unwrap();
        assert_eq!(
            fields["amount"],
            mend_model::api::FieldProblem::Pattern,
            "{amount}"
        );
    }
    assert_eq!(app.upstream_count("POST", "/connections/116"), 0);
    // A date checked trimmed is sent trimmed; a blank optional value is not sent.
    let s = app
        .submit_fields(
            116,
            &token,
            json!({"customer_number": " 12345678", "pin": "1234", "birth_date": " 1990-02-28 ",
                   "website": "pro", "device_token": "   "}),
        )
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
    let sent = app
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/connections/116"))
        .expect("the submission reached Powens");
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        body,
        json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-28",
               "website": "pro"})
    );
}
