//! Powens failing, slow, throttling or refusing tokens.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_first_requests_share_one_token_renewal() {
    let app = spawn_app().await;
    let token = app.demo();
    let gets = (0..100).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.status_body();
    }
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 1);
    assert_eq!(app.metrics.counter("mend_token_renewals_total", ""), 1);
}

#[tokio::test]
async fn a_token_powens_no_longer_accepts_is_renewed_once() {
    let app = spawn_app().await;
    app.warm_up().await;
    // Someone revokes the user's tokens (a renewal with revoke_previous=true).
    let res = app
        .client
        .post(app.url("/sandbox/2.0/auth/renew"))
        .json(&json!({"grant_type": "client_credentials", "client_id": mend_sandbox::DEMO_CLIENT_ID,
                      "client_secret": mend_sandbox::DEMO_CLIENT_SECRET, "id_user": 1, "revoke_previous": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    app.get_connection(101, &app.demo()).await.status_body();
    let log = app.sandbox.requests();
    let statuses: Vec<_> = log
        .iter()
        .filter(|r| r.path.ends_with("/connections/101"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [401, 200]);
    assert_eq!(
        app.upstream_count("POST", "/auth/renew"),
        2,
        "the test's and the proxy's"
    );
}

#[tokio::test]
async fn powens_failing_answers_502_after_three_tries_without_its_internals() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
        mix: Vec::new(),
    });
    let a = app.get_connection(101, &app.demo()).await;
    a.error(502, "upstream_error");
    assert!(!a.text.contains("bug"), "{}", a.text);
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

#[tokio::test]
async fn a_slow_powens_answers_504() {
    let app = spawn_with(|c| c.upstream_timeout = Duration::from_millis(300)).await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::Timeout),
        mix: Vec::new(),
    });
    let started = Instant::now();
    app.get_connection(101, &app.demo())
        .await
        .error(504, "upstream_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_pauses_the_whole_client_until_its_retry_after() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::RateLimited {
            retry_after_secs: 60,
        }),
        mix: Vec::new(),
    });
    let a = app.get_connection(101, &app.demo()).await;
    a.error(503, "upstream_unavailable");
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&retry), "{retry}");
    assert_eq!(
        app.upstream_count("GET", "/connections/101"),
        1,
        "a 60 s Retry-After is not waited for"
    );
    // Powens is fine again, but asked the whole client to wait: nothing is sent,
    // for any connection, read or action, until then.
    app.sandbox.set_faults(Faults::default());
    app.get_connection(104, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    let sync = app.sync(101, &app.demo()).await;
    assert_eq!(
        sync.error(503, "upstream_unavailable")
            .error
            .retry_after
            .map(|r| r > 50),
        Some(true)
    );
    assert_eq!(
        app.sandbox.requests().len(),
        1,
        "only the refused GET went out"
    );
}

#[tokio::test]
async fn powens_throttling_with_a_short_retry_after_is_retried_then_answers_503() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::RateLimited {
            retry_after_secs: 0,
        }),
        mix: Vec::new(),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

#[tokio::test]
async fn malformed_json_and_dropped_connections_answer_the_envelope() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::MalformedJson),
        mix: Vec::new(),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(502, "upstream_error");
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::Drop),
        mix: Vec::new(),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &app.demo()).await.status_body();
}

#[tokio::test]
async fn an_unreachable_powens_is_unavailable_and_not_ready() {
    // Powens mode pointed at a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = test_config();
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: format!("http://{closed}/2.0"),
        client_id: "1".into(),
        client_secret: SecretString::from("unused-secret"),
        webview_url: "https://webview.example".into(),
        domain: "x.biapi.pro".into(),
    });
    let sandbox = Sandbox::new(mend_sandbox::SandboxConfig::demo("http://unused"));
    let app = spawn_config(cfg, Some(sandbox)).await;
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    app.get("/readyz", None)
        .await
        .error(503, "upstream_unavailable");
    app.get("/api/v1/demo/connections", None)
        .await
        .error(404, "not_found");
    app.get("/api/v1/demo/session", None)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn in_powens_mode_the_proxy_uses_the_configured_api_and_webview() {
    let spawned = mend_sandbox::spawn(fast_sandbox).await.unwrap();
    let mut cfg = test_config();
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: spawned.api_url(),
        client_id: mend_sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(mend_sandbox::DEMO_CLIENT_SECRET),
        webview_url: "https://webview.example".into(),
        domain: mend_sandbox::DEMO_DOMAIN.into(),
    });
    let app = spawn_config(cfg, Some(spawned.sandbox.clone())).await;
    app.get_connection(104, &app.demo()).await.status_body();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    assert!(
        r.url
            .starts_with("https://webview.example/fr/reconnect?domain=mend-sandbox.biapi.pro&"),
        "{}",
        r.url
    );
    app.get("/readyz", None).await;
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_an_outage_waiting_requests_share_one_failed_renewal() {
    let app = spawn_app().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
        mix: Vec::new(),
    });
    let token = app.demo();
    let gets = (0..20).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.error(502, "upstream_error");
    }
    // One renewal of three tries, not one per waiting request.
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 3);
    // Powens back: the next request renews and succeeds.
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &token).await.status_body();
}

#[tokio::test]
async fn readiness_probes_are_shared_so_anyone_probing_cannot_hammer_powens() {
    let app = spawn_app().await;
    app.sandbox.clear_requests();
    for _ in 0..5 {
        assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    }
    let probes = app
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/2.0/"))
        .count();
    assert_eq!(
        probes, 1,
        "one upstream probe for five /readyz within READY_TTL"
    );
}
