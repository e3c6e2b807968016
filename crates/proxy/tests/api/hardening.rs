//! The edge of the proxy: CORS, rate limits, trusted proxies, request ids, and no
//! secret in any answer or log.

use crate::helpers::*;

#[tokio::test]
async fn cors_allows_the_configured_origins_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                app.url("/api/v1/connections/101/fields"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
    };
    let ok = app.send(preflight(ORIGIN)).await;
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    let evil = app.send(preflight("https://evil.example")).await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let get = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .bearer_auth(app.demo())
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(get.header("access-control-allow-origin"), None);
    let get = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .bearer_auth(app.demo())
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(get.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_with(|c| c.rate_limit_per_session = 3).await;
    let token = app.demo();
    for _ in 0..3 {
        app.get_connection(101, &token).await.status_body();
    }
    let a = app.get_connection(101, &token).await;
    let body = a.error(429, "rate_limited");
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(body.error.retry_after, Some(retry));
    // Another user is not affected.
    app.get_connection(201, &app.session(2, None, Duration::from_secs(60)))
        .await
        .status_body();

    // Per address, with sessions: users share their address's allowance.
    let app = spawn_with(|c| c.rate_limit_per_ip = 2).await;
    app.get_connection(101, &app.demo()).await.status_body();
    app.get_connection(201, &app.session(2, None, Duration::from_secs(60)))
        .await
        .status_body();
    app.get_connection(101, &app.demo())
        .await
        .error(429, "rate_limited");
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::OK,
        "health is not limited"
    );
}

#[tokio::test]
async fn requests_without_a_session_have_their_own_smaller_bucket() {
    let app = spawn_with(|c| c.rate_limit_unauthenticated = 5).await;
    for _ in 0..5 {
        app.get("/api/v1/connections/101", None)
            .await
            .error(401, "unauthorized");
    }
    app.get("/api/v1/connections/101", Some("not.a.session"))
        .await
        .error(429, "rate_limited");
    // The same address with a session is not locked out.
    app.get_connection(101, &app.demo()).await.status_body();
    assert_eq!(
        app.metrics
            .counter("mend_rate_limited_total", "key=\"anonymous\""),
        1
    );
}

/// A session-less request through the balancer at `127.0.0.1`, for `client`.
async fn via_balancer(app: &TestApp, client: &str, token: Option<&str>) -> Answer {
    let mut req = app
        .client
        .get(app.url("/api/v1/connections/101"))
        .header("x-forwarded-for", format!("6.6.6.6, {client}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

#[tokio::test]
async fn behind_trusted_proxies_fifty_garbage_requests_a_second_lock_out_only_their_sender() {
    let app = spawn_with(|c| {
        c.trusted_proxies = mend_proxy::client_addr::TrustedProxies::parse("127.0.0.1").unwrap();
        c.rate_limit_unauthenticated = 20;
        c.rate_limit_per_ip = 1000;
    })
    .await;
    let attacker = "203.0.113.66";
    let started = Instant::now();
    let mut refused = 0;
    for _ in 0..50 {
        let a = via_balancer(&app, attacker, None).await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            a.error(401, "unauthorized");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "50 within a second or so"
    );
    assert!(
        refused >= 29,
        "the attacker is limited: {refused} of 50 refused"
    );
    // Someone else behind the balancer, and someone with a session at the
    // attacker's own address, are not.
    via_balancer(&app, "198.51.100.20", None)
        .await
        .error(401, "unauthorized");
    via_balancer(&app, attacker, Some(&app.demo()))
        .await
        .status_body();
    via_balancer(&app, "198.51.100.21", Some(&app.demo()))
        .await
        .status_body();
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_with(|c| c.rate_limit_unauthenticated = 3).await;
    for i in 0..3 {
        via_balancer(&app, &format!("198.51.100.{i}"), None)
            .await
            .error(401, "unauthorized");
    }
    // A forged header does not make a fresh client.
    via_balancer(&app, "198.51.100.99", None)
        .await
        .error(429, "rate_limited");
}

#[tokio::test]
async fn request_ids_are_kept_when_plain_and_replaced_otherwise() {
    let app = spawn_app().await;
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(
        a.error(401, "unauthorized").error.request_id.as_deref(),
        Some("abc-123")
    );
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("x-request-id", "bad id\twith junk"),
        )
        .await;
    let id = a.error(401, "unauthorized").error.request_id.unwrap();
    assert_ne!(id, "bad id\twith junk");
    let long = "a".repeat(65);
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("x-request-id", &long),
        )
        .await;
    let id = a.error(401, "unauthorized").error.request_id.unwrap();
    assert!(id.len() <= 64 && id != long, "a long id is replaced: {id}");
    assert!(captured_logs().contains("abc-123"), "the id is in the logs");
}

#[tokio::test]
async fn no_secret_ever_reaches_a_response_or_the_logs() {
    let app = spawn_app().await;
    let token = app.demo();
    let mut bodies = String::new();
    // A full OTP repair, a reconnect URL (with its code) and a callback.
    let s = app.get_connection(104, &token).await;
    bodies.push_str(&s.text);
    let wrong = app
        .submit_fields(104, &token, json!({"otp": "987654"}))
        .await;
    bodies.push_str(&wrong.text);
    let ok = app
        .submit_fields(104, &token, json!({"otp": "123456"}))
        .await;
    bodies.push_str(&ok.text);
    assert!(ok.status_body().state.is_none());
    let r = app.reconnect_url(102, &token, RETURN).await;
    let code = query_param(r.json()["url"].as_str().unwrap(), "code").unwrap();
    let state = query_param(r.json()["url"].as_str().unwrap(), "state").unwrap();
    bodies.push_str(&app.callback(&token, json!({"state": state})).await.text);
    let secrets = [
        SECRET,
        mend_sandbox::DEMO_CLIENT_SECRET,
        token.as_str(),
        "access_token",
    ];
    for s in secrets {
        assert!(!bodies.contains(s), "a response leaks {s}");
    }
    // New credentials, with Agent status: refused once, then accepted.
    let agent = spawn_with(|c| c.agent_status = true).await;
    let agent_token = agent.demo();
    agent
        .submit_fields(
            108,
            &agent_token,
            json!({"login": "nobody", "password": "Wr0ng-Pa55word"}),
        )
        .await
        .error(422, "credentials_rejected");
    agent
        .submit_fields(
            108,
            &agent_token,
            json!({"login": "demo", "password": "N3w-Pa55word!"}),
        )
        .await
        .status_body();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logs = captured_logs();
    assert!(
        logs.contains("submitting field values"),
        "logs were captured"
    );
    for s in ["Wr0ng-Pa55word", "N3w-Pa55word!", agent_token.as_str()] {
        assert!(!logs.contains(s), "the logs leak {s}");
    }
    for s in [
        SECRET,
        mend_sandbox::DEMO_CLIENT_SECRET,
        token.as_str(),
        "123456",
        "987654",
        code.as_str(),
        "Bearer",
        "access_token",
    ] {
        assert!(!logs.contains(s), "the logs leak {s}");
    }
    let _ = std::io::stderr().flush();
}
