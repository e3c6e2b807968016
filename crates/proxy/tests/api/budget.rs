//! Fair use: the Powens request budget with its reserve for user actions, a status
//! younger than the poll interval answering plain reads, and watched connections
//! asked about at the pace of their state.

use crate::helpers::*;

#[tokio::test]
async fn reads_in_a_loop_cost_one_get_per_poll_interval() {
    let app = spawn_app().await;
    let token = app.demo();
    for _ in 0..10 {
        app.get_connection(101, &token).await.status_body();
    }
    assert_eq!(app.upstream_count("GET", "/connections/101"), 1);
    tokio::time::sleep(POLL).await;
    app.get_connection(101, &token).await.status_body();
    assert_eq!(app.upstream_count("GET", "/connections/101"), 2);
}

#[tokio::test]
async fn an_action_makes_the_memory_stale_and_its_answer_fresh() {
    let app = spawn_app().await;
    let token = app.demo();
    let before = app.get_connection(104, &token).await.status_body();
    assert!(before.state.is_some());
    app.submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .status_body();
    let after = app.get_connection(104, &token).await.status_body();
    assert_eq!(
        after.state, None,
        "the submission's answer, not the read before it"
    );
}

#[tokio::test]
async fn when_the_budget_is_spent_reads_answer_the_last_known_status_and_actions_still_go() {
    // 10 a minute: 8 for reads (the token renewal of a read included), 2 kept for
    // user actions.
    let app = spawn_with(|c| c.powens_budget = 10).await;
    let token = app.demo();
    for id in 101..=107 {
        app.get_connection(id, &token).await.status_body();
    }
    assert_eq!(
        app.sandbox.requests().len(),
        8,
        "7 reads and the token renewal"
    );
    tokio::time::sleep(POLL).await;
    // Past the memory: Powens would be asked, but reads have spent their share.
    let s = app.get_connection(101, &token).await.status_body();
    assert_eq!(s.id, 101);
    let unknown = app.get_connection(109, &token).await;
    unknown.error(503, "upstream_unavailable");
    assert!(unknown.header("retry-after").is_some());
    assert_eq!(app.sandbox.requests().len(), 8, "nothing more was sent");
    // The user acts (a read of the state, then the sync): the reserve serves it.
    app.sync(101, &token).await.status_body();
    assert_eq!(app.upstream_count("PUT", "/connections/101"), 1);
    assert_eq!(app.sandbox.requests().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_connection_powens_retries_is_not_asked_about_before_next_try() {
    let app = spawn_app().await;
    let token = app.demo();
    app.get_connection(112, &token).await.status_body();
    for _ in 0..3 {
        app.wait_connection(112, &token, 1, "bug")
            .await
            .status_body();
    }
    assert_eq!(
        app.upstream_count("GET", "/connections/112"),
        1,
        "next_try is an hour away: 3 s of watching cost nothing"
    );
    // One the user may be repairing at the bank is asked about at the interval.
    app.wait_connection(102, &token, 2, "SCARequired")
        .await
        .status_body();
    assert!(app.upstream_count("GET", "/connections/102") >= 4);
}

#[tokio::test]
async fn a_wait_the_budget_cannot_serve_is_told_when_to_come_back_at_once() {
    let app = spawn_with(|c| c.powens_budget = 10).await;
    let token = app.demo();
    for id in 101..=107 {
        app.get_connection(id, &token).await.status_body();
    }
    let started = Instant::now();
    let a = app.wait_connection(108, &token, 10, "ok").await;
    a.error(503, "upstream_unavailable");
    assert!(a.header("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.upstream_count("GET", "/connections/108"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_control_that_skips_time_is_seen_by_waiters_at_once() {
    let app = spawn_app().await;
    let token = app.demo();
    app.get_connection(110, &token).await.status_body();
    let waiter = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/110?wait=10&since=rateLimiting"),
            token.clone(),
        );
        tokio::spawn(async move {
            let r = client.get(url).bearer_auth(token).send().await.unwrap();
            r.json::<ConnectionStatus>().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Powens' retry, fast-forwarded: the proxy's next_try (10 minutes away) no
    // longer holds, so it forgets it and reads again.
    let started = Instant::now();
    assert!(app.sandbox.retry_now(110));
    let s = waiter.await.unwrap();
    assert_eq!(s.state, None);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
