//! The listener: health, readiness and metrics, the connection cap, slow and
//! trickling clients, shutdown.

use crate::helpers::*;

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
