//! Powens' real answers to actions, each answered in words a user understands: the
//! 409 on a sync, the 400s that name a state or carry the bank's words, a slow bank,
//! a token revoked with 403, legacy bodies, nulls; and the callback, sync gating and
//! per-source webauth fixes. The sandbox's demo connections 117–125 play them.

use crate::helpers::*;
use mend_model::ConnectionState as S;

fn refusal(a: &Answer, status: u16, code: &str) -> mend_model::api::ErrorDetail {
    let body = a.error(status, code).error;
    assert!(
        body.status.is_some(),
        "the fresh status comes with it: {}",
        a.text
    );
    body
}

#[tokio::test]
async fn a_sync_powens_will_not_force_is_sync_refused_with_a_wait_and_no_retry() {
    let app = spawn_app().await;
    let a = app.sync(117, &app.demo()).await;
    let e = refusal(&a, 409, "sync_refused");
    assert_eq!(e.status.unwrap().state, None, "nothing changed");
    assert_eq!(e.retry_after, Some(60));
    assert_eq!(a.header("retry-after"), Some("60"));
    assert_eq!(
        app.upstream_count("PUT", "/connections/117"),
        1,
        "never retried"
    );
}

#[tokio::test]
async fn wrongpass_on_a_code_answers_the_new_state_and_the_banks_words() {
    let app = spawn_app().await;
    let a = app
        .submit_fields(118, &app.demo(), json!({"otp": "123456"}))
        .await;
    let e = refusal(&a, 422, "credentials_rejected");
    let status = e.status.unwrap();
    assert_eq!(status.state, Some(S::Wrongpass));
    assert_eq!(status.actions, [mend_model::api::Action::Reconnect]);
    assert_eq!(
        e.bank_message.as_deref(),
        Some("Vos identifiants ne sont plus valides")
    );
    assert_eq!(app.upstream_count("POST", "/connections/118"), 1);
    // Waiters see the new state too.
    let s = app.get_connection(118, &app.demo()).await.status_body();
    assert_eq!(s.state, Some(S::Wrongpass));
}

#[tokio::test]
async fn a_refusal_naming_a_state_is_bank_refused_with_that_state_never_an_outage() {
    let app = spawn_app().await;
    let e = refusal(&app.sync(119, &app.demo()).await, 422, "bank_refused");
    assert_eq!(e.status.unwrap().state, Some(S::WebsiteUnavailable));
    assert_eq!(
        e.bank_message.as_deref(),
        Some("Le site de votre banque est momentanément indisponible")
    );
    let e = refusal(&app.sync(120, &app.demo()).await, 422, "bank_refused");
    assert_eq!(
        e.status.unwrap().state,
        Some(S::ActionNeeded),
        "bankMessage keeps the state"
    );
    assert!(e.bank_message.unwrap().starts_with("Merci de valider"));
}

#[tokio::test]
async fn a_slow_bank_is_waited_for_past_the_read_timeout_and_sent_once() {
    // Reads give up after 800 ms here; the bank takes 1.5 s.
    let app = spawn_app().await;
    assert!(app.sandbox.set_scenario(
        104,
        mend_sandbox::Scenario {
            slow_ms: 1500,
            ..Default::default()
        }
    ));
    let token = app.demo();
    let first = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/104/fields"),
            token.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"values": {"otp": "123456"}}))
                .send()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A second submission while the first is at the bank is refused, not sent.
    app.submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .error(409, "action_in_flight");
    let first = first.await.unwrap();
    assert_eq!(first.status(), 200);
    let s: ConnectionStatus = first.json().await.unwrap();
    assert_eq!(s.state, None, "repaired");
    assert_eq!(app.upstream_count("POST", "/connections/104"), 1);
}

#[tokio::test]
async fn a_bank_slower_than_the_submission_timeout_answers_504_and_is_never_sent_twice() {
    // MEND_SUBMISSION_TIMEOUT is 1 s here; the bank takes 2.5 s.
    let app = spawn_with(|c| c.submission_timeout = Duration::from_secs(1)).await;
    assert!(app.sandbox.set_scenario(
        104,
        mend_sandbox::Scenario {
            slow_ms: 2500,
            ..Default::default()
        }
    ));
    let token = app.demo();
    let started = std::time::Instant::now();
    app.submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .error(504, "upstream_timeout");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(2400),
        "gave up at the submission timeout, not the bank's pace: {waited:?}"
    );
    // The bank carries on with the code it got; the proxy never sent it again.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(app.upstream_count("POST", "/connections/104"), 1);
    let s = app.get_connection(104, &token).await.status_body();
    assert_eq!(s.state, None, "the bank's late answer repaired it");
}

#[tokio::test]
async fn legacy_error_bodies_and_nulls_read_as_the_current_ones() {
    let app = spawn_app().await;
    let token = app.demo();
    let s = app.get_connection(122, &token).await.status_body();
    assert_eq!(
        s.fields.len(),
        1,
        "null label, required, regex: still a field"
    );
    assert_eq!(s.fields[0].display_label(), "otp");
    let e = refusal(
        &app.submit_fields(122, &token, json!({"otp": "123456"}))
            .await,
        422,
        "credentials_rejected",
    );
    assert_eq!(e.bank_message.as_deref(), Some("Wrong credentials"));
    let log = app.sandbox.requests();
    let refused = log
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/connections/122"))
        .unwrap();
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn a_token_refused_with_403_is_renewed_once() {
    let app = spawn_app().await;
    let s = app.get_connection(125, &app.demo()).await.status_body();
    assert_eq!(s.state, None);
    let statuses: Vec<_> = app
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/connections/125"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [403, 200]);
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 2);
    // Refused again after the renewal: renewed once only, then the refusal stands.
    app.sandbox.revoke_tokens(1);
    app.sandbox.set_scenario(
        101,
        mend_sandbox::Scenario {
            revoke_token_once: true,
            ..Default::default()
        },
    );
    app.sandbox.clear_requests();
    app.get_connection(101, &app.demo())
        .await
        .error(502, "upstream_error");
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 1);
}

#[tokio::test]
async fn sync_is_refused_where_the_state_does_not_offer_it_and_never_sent() {
    let app = spawn_app().await;
    for id in [109, 104, 113, 110] {
        app.sync(id, &app.demo()).await.error(409, "conflict");
        assert_eq!(app.upstream_count("PUT", &format!("/connections/{id}")), 0);
    }
    app.sync(107, &app.demo()).await.status_body();
}

#[tokio::test]
async fn a_callback_whose_read_fails_leaves_the_state_usable_once_more() {
    let app = spawn_app().await;
    let token = app.demo();
    let url: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
    let state = query_param(&url.url, "state").unwrap();
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
        mix: Vec::new(),
    });
    app.callback(&token, json!({"state": state}))
        .await
        .error(502, "upstream_error");
    app.sandbox.set_faults(Faults::default());
    let back: CallbackResult =
        serde_json::from_str(&app.callback(&token, json!({"state": state})).await.text).unwrap();
    assert_eq!(back.connection_id, 102);
    app.callback(&token, json!({"state": state}))
        .await
        .error(422, "invalid_state");
}

#[tokio::test]
async fn webauth_names_the_source_that_needs_it_on_a_multi_source_connection() {
    let app = spawn_app().await;
    let a = app.webauth_url(115, &app.demo(), RETURN).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let asked = app
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/webauth-url"))
        .unwrap();
    assert!(asked.query.contains("source=openapi"), "{}", asked.query);
    app.webauth_url(103, &app.demo(), RETURN).await;
    let single = app
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/webauth-url"))
        .nth(1)
        .unwrap();
    assert!(!single.query.contains("source="), "{}", single.query);
}

#[tokio::test]
async fn a_fine_connection_whose_bank_access_runs_out_offers_a_renewal() {
    let app = spawn_app().await;
    let s = app.get_connection(124, &app.demo()).await.status_body();
    assert!(s.renew);
    assert_eq!(
        s.actions,
        [
            mend_model::api::Action::Sync,
            mend_model::api::Action::Reconnect
        ]
    );
    assert!(s.access_expire.is_some());
    app.reconnect_url(124, &app.demo(), RETURN).await.json();
    let fine = app.get_connection(101, &app.demo()).await.status_body();
    assert!(!fine.renew && fine.access_expire.is_some());
}
