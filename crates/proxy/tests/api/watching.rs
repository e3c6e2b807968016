//! Long polls: one poller per connection, however many wait.

use crate::helpers::*;

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_the_state_changes() {
    let app = spawn_app().await;
    let token = app.demo();
    // 102: a sync asks for an approval the simulated user gives after 300 ms; the
    // resumed connection validates until then, then is fine.
    let s = app.sync(102, &token).await.status_body();
    assert_eq!(s.state.as_ref().map(|s| s.as_str()), Some("decoupled"));
    let s = app.resume(102, &token).await.status_body();
    assert_eq!(s.state.as_ref().map(|s| s.as_str()), Some("validating"));
    let started = Instant::now();
    let s = app
        .wait_connection(102, &token, 10, "validating")
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_long_poll_without_change_answers_the_current_status_after_the_wait() {
    let app = spawn_app().await;
    let started = Instant::now();
    let s = app
        .wait_connection(101, &app.demo(), 1, "ok")
        .await
        .status_body();
    assert!(s.state.is_none());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // A different `since` answers at once.
    let started = Instant::now();
    app.wait_connection(101, &app.demo(), 10, "validating")
        .await
        .status_body();
    assert!(started.elapsed() < Duration::from_secs(1));
    // Waits over 30 s are capped, not refused; a bad `wait` is a bad request.
    app.get("/api/v1/connections/101?wait=abc", Some(&app.demo()))
        .await
        .error(400, "bad_request");
    app.get(
        "/api/v1/connections/999999?wait=5&since=ok",
        Some(&app.demo()),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_waiters_share_one_poller_and_it_stops_when_they_leave() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    let window = Duration::from_secs(2);
    let started = Instant::now();
    // SCARequired is asked about at the poll interval (the user may be at the bank).
    let waits = (0..50).map(|_| app.wait_connection(102, &token, window.as_secs(), "SCARequired"));
    let answers = futures_util::future::join_all(waits).await;
    let elapsed = started.elapsed();
    for a in &answers {
        a.status_body();
    }
    let gets = app.upstream_count("GET", "/connections/102");
    let bound = (elapsed.as_millis() / POLL.as_millis()) as usize + 1;
    assert!(
        gets <= bound,
        "{gets} upstream GETs in {elapsed:?} (bound {bound})"
    );
    assert!(gets >= 2, "it did poll: {gets}");
    tokio::time::sleep(POLL * 4).await;
    let after = app.upstream_count("GET", "/connections/102");
    assert!(after <= gets + 1, "the poller stopped: {gets} then {after}");
    tokio::time::sleep(POLL * 3).await;
    assert_eq!(
        app.upstream_count("GET", "/connections/102"),
        after,
        "no polling when nobody waits"
    );
}

#[tokio::test]
async fn waiters_see_an_actions_result_at_once_never_an_older_state() {
    // A long poll interval: only the resume's own answer can wake the waiter early.
    let app = spawn_with(|c| c.poll_interval = Duration::from_secs(5)).await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/105?wait=10&since=decoupled");
    let client = app.client.clone();
    let waiter_token = token.clone();
    let waiter = tokio::spawn(async move {
        let res = client
            .get(url)
            .bearer_auth(waiter_token)
            .send()
            .await
            .unwrap();
        res.json::<ConnectionStatus>().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    app.resume(105, &token).await.status_body();
    let seen = waiter.await.unwrap();
    assert_eq!(seen.state.as_ref().map(|s| s.as_str()), Some("validating"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // A poller started right after a read begins from it: no second GET within the interval.
    app.sandbox.clear_requests();
    app.get_connection(114, &token).await.status_body();
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
    assert_eq!(app.upstream_count("GET", "/connections/114"), 1);
}

#[tokio::test]
async fn one_user_cannot_hold_more_long_polls_than_allowed() {
    let app = spawn_with(|c| c.max_waiters_per_user = 2).await;
    let token = app.demo();
    let hold = |app: &TestApp| {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/114?wait=3&since=someFutureState"),
            token.clone(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status())
        })
    };
    let first = hold(&app);
    let second = hold(&app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = app.wait_connection(114, &token, 3, "someFutureState").await;
    a.error(429, "rate_limited");
    assert!(a.header("retry-after").is_some());
    // Plain reads still work, and the waits answer normally.
    app.get_connection(114, &token).await.status_body();
    assert_eq!(first.await.unwrap().unwrap(), StatusCode::OK);
    assert_eq!(second.await.unwrap().unwrap(), StatusCode::OK);
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
}

#[tokio::test]
async fn a_client_leaving_a_long_poll_frees_its_place_at_once() {
    use tokio::io::AsyncWriteExt as _;
    let app = spawn_with(|c| c.max_waiters_per_user = 1).await;
    let token = app.demo();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "GET /api/v1/connections/114?wait=30&since=someFutureState HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .error(429, "rate_limited");
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
    assert!(started.elapsed() < Duration::from_secs(3));
}
