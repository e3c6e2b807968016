//! `GET /api/v1/connections`: every connection of the session user from one upstream
//! list, each exactly the status `GET …/{id}` answers, coalesced and remembered like
//! a plain read, and feeding the per-connection memory.

use crate::helpers::*;

/// The upstream list requests (`GET /users/me/connections`, no id after it).
fn lists(app: &TestApp) -> usize {
    app.upstream_count("GET", "/users/me/connections")
}

fn statuses(answer: &Answer) -> Vec<ConnectionStatus> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body: mend_model::api::ConnectionStatusList =
        serde_json::from_str(&answer.text).expect("a list of statuses");
    body.connections
}

/// `server_time` differs between two answers; everything else must not.
fn timeless(mut s: ConnectionStatus) -> ConnectionStatus {
    s.server_time = None;
    s
}

#[tokio::test]
async fn lists_every_connection_of_the_user_each_as_its_own_status_from_one_upstream_get() {
    let app = spawn_with(|c| c.poll_interval = Duration::from_secs(30)).await;
    let token = app.demo();
    let all = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    let mut ids: Vec<i64> = all.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    let mut demo: Vec<i64> = app
        .sandbox
        .demo_connections()
        .iter()
        .map(|c| c.id)
        .collect();
    demo.sort_unstable();
    assert_eq!(
        ids, demo,
        "every connection of the demo user, no other user's"
    );
    assert!(
        !ids.contains(&201),
        "another user's connection is not listed"
    );
    assert_eq!(lists(&app), 1);
    assert_eq!(
        app.upstream_count("GET", "/users/me/connections")
            + app.upstream_count("GET", "/connections/101"),
        1,
        "one upstream list, no read per connection"
    );
    let listed = app.sandbox.requests();
    let list_req = listed
        .iter()
        .find(|r| r.path.ends_with("/users/me/connections"))
        .unwrap();
    assert!(
        list_req.query.contains("expand=connector%2Csources")
            || list_req.query.contains("expand=connector,sources"),
        "{}",
        list_req.query
    );
    // Each entry is what GET …/{id} answers, and that read costs Powens nothing.
    app.sandbox.clear_requests();
    for s in &all {
        let one = app.get_connection(s.id, &token).await.status_body();
        assert_eq!(timeless(one), timeless(s.clone()));
    }
    assert_eq!(app.sandbox.requests().len(), 0, "all answered from memory");
}

#[tokio::test]
async fn a_session_limited_to_connections_lists_only_those() {
    let app = spawn_app().await;
    let token = app.session(
        mend_sandbox::DEMO_USER_ID,
        Some(vec![102, 104]),
        Duration::from_secs(600),
    );
    let all = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    let ids: Vec<i64> = all.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&102) && ids.contains(&104), "{ids:?}");
    // A user Powens does not know: the envelope, as for an unknown connection.
    let stranger = app.session(999_999, None, Duration::from_secs(600));
    app.get("/api/v1/connections", Some(&stranger))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn without_a_session_the_list_answers_401() {
    let app = spawn_app().await;
    app.get("/api/v1/connections", None)
        .await
        .error(401, "unauthorized");
    app.get("/api/v1/connections", Some("not.a.jwt"))
        .await
        .error(401, "unauthorized");
    assert_eq!(lists(&app), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lists_share_one_upstream_get_and_a_list_in_a_loop_costs_one_per_interval() {
    // The memory counts from when the read started: longer than Powens' 400 ms here.
    let interval = Duration::from_secs(1);
    let app = spawn_with(|c| c.poll_interval = interval).await;
    let token = app.demo();
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 400,
        kind: None,
        mix: Vec::new(),
    });
    let gets = (0..20).map(|_| app.get("/api/v1/connections", Some(&token)));
    let answers = futures_util::future::join_all(gets).await;
    let first = statuses(&answers[0]);
    assert!(!first.is_empty());
    for a in &answers {
        assert_eq!(statuses(a).len(), first.len());
    }
    assert_eq!(lists(&app), 1, "one flight for twenty lists");
    app.sandbox.set_faults(Faults::default());
    // Within the poll interval, answered from memory; after it, Powens again.
    app.get("/api/v1/connections", Some(&token)).await;
    assert_eq!(lists(&app), 1);
    tokio::time::sleep(interval).await;
    statuses(&app.get("/api/v1/connections", Some(&token)).await);
    assert_eq!(lists(&app), 2);
}

#[tokio::test]
async fn a_long_poll_after_the_list_starts_from_its_statuses() {
    let app = spawn_with(|c| c.poll_interval = Duration::from_secs(30)).await;
    let token = app.demo();
    let all = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    let sca = all.iter().find(|s| s.id == 102).expect("102 is listed");
    let since = sca.state.as_ref().map_or("ok".into(), |s| s.to_string());
    app.sandbox.clear_requests();
    let waited = app
        .wait_connection(102, &token, 1, &since)
        .await
        .status_body();
    assert_eq!(waited.state, sca.state);
    assert_eq!(
        app.upstream_count("GET", "/connections/102"),
        0,
        "the list's read is the poller's last: no GET within the interval"
    );
}

#[tokio::test]
async fn a_list_after_an_action_shows_the_action_s_outcome() {
    let app = spawn_with(|c| c.poll_interval = Duration::from_secs(30)).await;
    let token = app.demo();
    let before = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    assert!(before.iter().find(|s| s.id == 104).unwrap().state.is_some());
    app.submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .status_body();
    let after = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    assert_eq!(
        after.iter().find(|s| s.id == 104).unwrap().state,
        None,
        "the submission's answer, not the list before it"
    );
    // The action's answer is the freshest status there is: no list needed for it.
    assert_eq!(lists(&app), 1);
}

#[tokio::test]
async fn when_the_budget_is_spent_the_list_answers_the_last_known_statuses() {
    let app = spawn_with(|c| c.powens_budget = 10).await;
    let token = app.demo();
    let first = statuses(&app.get("/api/v1/connections", Some(&token)).await);
    assert_eq!(
        app.sandbox.requests().len(),
        2,
        "the token renewal and the list"
    );
    // Past the memory, the reads' share (8 of 10) spent on plain reads.
    tokio::time::sleep(POLL).await;
    for id in 101..=106 {
        app.get_connection(id, &token).await.status_body();
    }
    let sent = app.sandbox.requests().len();
    assert_eq!(sent, 8);
    let again = app.get("/api/v1/connections", Some(&token)).await;
    assert_eq!(app.sandbox.requests().len(), sent, "Powens was not asked");
    let again = statuses(&again);
    assert_eq!(again.len(), first.len());
}
