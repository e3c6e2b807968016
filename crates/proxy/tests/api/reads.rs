//! Plain reads coalesced: one upstream GET for concurrent readers, never a stale one after an action.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_reads_of_a_connection_share_one_upstream_get() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    // A slow Powens, so that all fifty arrive while the first read is in flight.
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 400,
        kind: None,
        mix: Vec::new(),
    });
    let gets = (0..50).map(|_| app.get_connection(101, &token));
    let answers = futures_util::future::join_all(gets).await;
    let first = answers[0].status_body();
    for a in &answers {
        let s = a.status_body();
        assert_eq!(s, first, "one read, one answer");
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.header("cache-control"), Some("no-store"));
    }
    assert_eq!(app.upstream_count("GET", "/connections/101"), 1);
    // Nothing is kept once the read is answered: the next one asks Powens again.
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &token).await.status_body();
    assert_eq!(app.upstream_count("GET", "/connections/101"), 2);
    // Other connections and other users do not share it.
    let (a, b) = tokio::join!(
        app.get_connection(101, &token),
        app.get_connection(102, &token)
    );
    assert_eq!(a.status_body().id, 101);
    assert_eq!(b.status_body().id, 102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_read_that_fails_answers_its_error_to_everyone_sharing_it() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 200,
        kind: Some(FaultKind::ServerError),
        mix: Vec::new(),
    });
    let gets = (0..20).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.error(502, "upstream_error");
    }
    // One read, tried three times.
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

/// A Powens in front of `target` that, once armed, holds the answer of the next
/// `GET …/connections/{id}` (already read from `target`) until released or 2 s.
struct Holder {
    armed: std::sync::atomic::AtomicBool,
    held: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

async fn spawn_holding_powens(target: String, id: i64) -> (SocketAddr, std::sync::Arc<Holder>) {
    use axum::response::IntoResponse as _;
    let holder = std::sync::Arc::new(Holder {
        armed: std::sync::atomic::AtomicBool::new(false),
        held: tokio::sync::Notify::new(),
        release: tokio::sync::Notify::new(),
    });
    let suffix = format!("/connections/{id}");
    let client = reqwest::Client::new();
    let h = holder.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (client, target, h, suffix) =
            (client.clone(), target.clone(), h.clone(), suffix.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut fwd = client
                .request(parts.method.clone(), format!("{target}{pq}"))
                .body(body);
            for name in [
                reqwest::header::AUTHORIZATION,
                reqwest::header::CONTENT_TYPE,
            ] {
                if let Some(v) = parts.headers.get(&name) {
                    fwd = fwd.header(name, v.clone());
                }
            }
            let res = fwd.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            if parts.method == reqwest::Method::GET
                && parts.uri.path().ends_with(&suffix)
                && h.armed.swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                h.held.notify_one();
                let _ = tokio::time::timeout(Duration::from_secs(2), h.release.notified()).await;
            }
            (
                status,
                [(reqwest::header::CONTENT_TYPE, "application/json")],
                text,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_a_submission_never_answers_the_state_before_it() {
    let spawned = mend_sandbox::spawn(fast_sandbox).await.unwrap();
    let (powens, holder) = spawn_holding_powens(spawned.url.clone(), 104).await;
    let mut cfg = test_config();
    // Longer than the hold: the early read must not time out and be retried.
    cfg.upstream_timeout = Duration::from_secs(10);
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: format!("http://{powens}/2.0"),
        client_id: mend_sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(mend_sandbox::DEMO_CLIENT_SECRET),
        webview_url: "https://webview.example".into(),
        domain: mend_sandbox::DEMO_DOMAIN.into(),
    });
    let app = spawn_config(cfg, Some(spawned.sandbox.clone())).await;
    let token = app.demo();
    let before = app.get_connection(104, &token).await.status_body();
    assert_eq!(
        before.state.as_ref().map(|s| s.as_str()),
        Some("additionalInformationNeeded")
    );
    // Past the memory of that read: the next one goes to Powens.
    tokio::time::sleep(POLL).await;

    // A read is in flight, holding the state before the submission.
    holder
        .armed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let early = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/104"),
            token.clone(),
        );
        tokio::spawn(async move {
            let res = client.get(url).bearer_auth(token).send().await.unwrap();
            res.json::<ConnectionStatus>().await.unwrap()
        })
    };
    tokio::time::timeout(Duration::from_secs(5), holder.held.notified())
        .await
        .expect("the early read reached Powens");

    let after = app
        .submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .status_body();
    assert!(after.state.is_none(), "{after:?}");
    // Read after the submission: its own upstream GET, not the one in flight.
    let started = Instant::now();
    let read = app.get_connection(104, &token).await.status_body();
    assert!(
        read.state.is_none(),
        "a read after the submission: {read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // The early read answers what it read (it began before the submission)...
    holder.release.notify_one();
    let early = early.await.unwrap();
    assert_eq!(
        early.state.as_ref().map(|s| s.as_str()),
        Some("additionalInformationNeeded")
    );
    // ...but leaves nothing behind: neither reads nor long-polls see it afterwards.
    let read = app.get_connection(104, &token).await.status_body();
    assert!(read.state.is_none(), "{read:?}");
    let waited = app
        .wait_connection(104, &token, 1, "ok")
        .await
        .status_body();
    assert!(
        waited.state.is_none(),
        "a long-poll after the submission: {waited:?}"
    );
}
