//! The listener and the process: CORS, rate limits, request ids, health, shutdown, secrets, slow clients, the command line.

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
async fn health_and_readiness_answer_and_metrics_are_not_public() {
    let app = spawn_app().await;
    let h = app.get("/healthz", None).await;
    assert_eq!((h.status, h.text.trim()), (StatusCode::OK, "ok"));
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    // No MEND_METRICS_TOKEN: as if there were no such route.
    app.get("/metrics", None).await.error(404, "not_found");
    app.get("/metrics", Some(METRICS_TOKEN))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn metrics_answer_with_the_token_only() {
    let app = spawn_with(|c| c.metrics_token = Some(SecretString::from(METRICS_TOKEN))).await;
    app.get_connection(101, &app.demo()).await.status_body();
    app.get("/metrics", None).await.error(401, "unauthorized");
    app.get("/metrics", Some("metrics-token-0123456789abcdeX"))
        .await
        .error(401, "unauthorized");
    let m = app.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(
        m.text.contains(
            "mend_http_requests_total{route=\"/api/v1/connections/{id}\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("mend_upstream_requests_total{op=\"get_connection\",outcome=\"ok\"} 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains("mend_token_renewals_total 1"));
    assert!(m.text.contains("mend_store_up 1"));
}

#[tokio::test]
async fn metrics_listen_serves_metrics_without_a_token_and_nothing_else() {
    let app = spawn_with(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = app.metrics_base.clone().expect("a metrics listener");
    let m = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), StatusCode::OK);
    assert!(
        m.text()
            .await
            .unwrap()
            .contains("# TYPE mend_waiters gauge")
    );
    let other = app
        .client
        .get(format!("{base}/api/v1/connections/101"))
        .bearer_auth(app.demo())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    // The main listener keeps it closed (no token configured).
    app.get("/metrics", None).await.error(404, "not_found");
}

#[tokio::test]
async fn over_the_connection_cap_new_clients_wait_their_turn() {
    let app = spawn_with(|c| c.max_connections = 2).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Two idle clients hold the only two connections.
    let first = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _second = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    while app.metrics.counter("mend_connections", "") < 2 {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.metrics.counter("mend_connections_max", ""), 2);
    // A third waits in the backlog: no error, no answer yet.
    let url = app.url("/healthz");
    let third = tokio::spawn(async move { reqwest::Client::new().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !third.is_finished(),
        "the third client waits for a free connection"
    );
    // One closes: the third is served.
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("served once a connection closed")
        .unwrap()
        .expect("never refused");
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(captured_logs().contains("MEND_MAX_CONNECTIONS reached"));
}

#[tokio::test]
async fn a_client_that_stops_reading_its_answer_is_cut() {
    use tokio::io::AsyncWriteExt as _;
    let dir = TempDir::new();
    // Far more than the kernel's socket buffers hold on loopback.
    std::fs::write(dir.0.join("big.bin"), vec![7u8; 64 << 20]).unwrap();
    let widget_dir = dir.0.clone();
    let app = spawn_with(move |c| {
        c.widget_dir = widget_dir;
        c.write_timeout = Duration::from_millis(500);
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /widget/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Never read.
    let started = Instant::now();
    while app.metrics.counter("mend_write_timeouts_total", "") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the stalled answer was never cut"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    while app.metrics.counter("mend_connections", "") != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the connection was closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(tcp);
    drop(dir);
    // Readers that read are unaffected.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_demo_routes_exist_in_sandbox_mode() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/demo/connections", None).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&101) && ids.contains(&116) && !ids.contains(&201));
    let s = app
        .get("/api/v1/demo/session?connection=104", None)
        .await
        .json();
    let token = s["session"].as_str().unwrap();
    app.get_connection(104, token).await.status_body();
    app.get_connection(105, token).await.error(404, "not_found");
}

#[tokio::test]
async fn shutdown_ends_long_polls_and_stops_the_server() {
    let app = spawn_app().await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/101?wait=30&since=ok");
    let client = app.client.clone();
    let poll = tokio::spawn(async move {
        client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    app.stop().await.expect("a clean stop");
    let status = poll.await.unwrap().expect("the long-poll was answered");
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
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

#[test]
fn the_command_line_exits_2_naming_the_variable_and_prints_sessions() {
    let bin = env!("CARGO_BIN_EXE_mend-proxy");
    let out = std::process::Command::new(bin)
        .args(["serve"])
        .env("POWENS_API_URL", "https://acme-sandbox.biapi.pro/2.0")
        .env_remove("POWENS_CLIENT_ID")
        .env("POWENS_CLIENT_SECRET", "cli-client-secret-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("POWENS_CLIENT_ID"), "{err}");
    assert!(!err.contains("cli-client-secret-value"), "{err}");

    let out = std::process::Command::new(bin)
        .args(["serve", "--mend-poll-interval", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = std::process::Command::new(bin)
        .args([
            "session",
            "--user",
            "7",
            "--connection",
            "42",
            "--ttl",
            "15m",
        ])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jwt = String::from_utf8(out.stdout).unwrap();
    let keys = SessionKeys::new(&SecretString::from(SECRET));
    let session = keys.verify(jwt.trim()).expect("a valid session");
    assert_eq!(session.user, 7);
    assert_eq!(session.connections, Some(vec![42]));
    assert!(!jwt.contains(SECRET));

    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7", "--ttl", "2h"])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7"])
        .env_remove("MEND_SESSION_SECRET")
        .env_remove("MEND_SESSION_SECRET_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEND_SESSION_SECRET"));
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_with(|c| c.header_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    // Keep trickling one header byte at a time: the deadline is for the whole header.
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if tcp.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), trickle).await;
    let read = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the proxy closed the connection");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A normal client is unaffected.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_trickling_its_body_is_answered_and_disconnected() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_with(|c| c.header_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/callback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
        app.demo()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the proxy gave up on the body and closed the connection"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.1 4"),
        "answered with a client error: {text}"
    );
    assert!(text.contains("\"error\""), "in the error envelope: {text}");
}

#[tokio::test]
async fn sandbox_controls_answer_local_callers_only_unless_opened() {
    let app = spawn_app().await;
    let log = app.get("/sandbox/_sandbox/requests", None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    // Relayed by a proxy on this machine: possibly from anywhere.
    let relayed = app
        .send(
            app.client
                .get(app.url("/sandbox/_sandbox/requests"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    relayed.error(404, "not_found");
    let reset = app
        .send(
            app.client
                .post(app.url("/sandbox/_sandbox/reset"))
                .header("forwarded", "for=203.0.113.9"),
        )
        .await;
    reset.error(404, "not_found");
    // The rest of the sandbox (its API, pages) stays public.
    let api = app
        .send(
            app.client
                .get(app.url("/sandbox/2.0/connectors"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    assert!(captured_logs().contains("answer only callers on this machine"));

    let open = spawn_with(|c| c.sandbox_controls_anywhere = true).await;
    let relayed = open
        .send(
            open.client
                .get(open.url("/sandbox/_sandbox/requests"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    assert_eq!(relayed.status, StatusCode::OK, "{}", relayed.text);
}
