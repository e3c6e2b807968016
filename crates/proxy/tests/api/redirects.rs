//! Reconnect and webauth redirects, and the callback that checks their return.

use crate::helpers::*;

#[tokio::test]
async fn the_reconnect_url_has_the_exact_form_and_a_fresh_code_per_click() {
    let app = spawn_app().await;
    let first: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    let second: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    let prefix = format!(
        "{}/sandbox/webview/fr/reconnect?domain=mend-sandbox.biapi.pro&client_id=10000001&code=",
        app.base
    );
    assert!(first.url.starts_with(&prefix), "{}", first.url);
    let keys: Vec<String> = url::Url::parse(&first.url)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "domain",
            "client_id",
            "code",
            "connection_id",
            "redirect_uri",
            "state"
        ]
    );
    assert!(
        first
            .url
            .contains("redirect_uri=https%3A%2F%2Fapp.example%2Fbank%2Freturn")
    );
    assert_eq!(
        query_param(&first.url, "connection_id").as_deref(),
        Some("102")
    );
    assert_ne!(
        query_param(&first.url, "code"),
        query_param(&second.url, "code")
    );
    assert_ne!(
        query_param(&first.url, "state"),
        query_param(&second.url, "state")
    );
    let minted = app
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/auth/token/code"))
        .collect::<Vec<_>>();
    assert_eq!(minted.len(), 2);
    assert!(minted.iter().all(|r| r.query.contains("type=singleAccess")));
}

#[tokio::test]
async fn a_redirect_uri_not_allow_listed_is_refused_before_minting_a_code() {
    let app = spawn_app().await;
    for uri in [
        "https://evil.example/steal",
        "https://app.example/bank/return?x=1",
        "https://app.example/bank/return/",
    ] {
        app.reconnect_url(102, &app.demo(), uri)
            .await
            .error(422, "redirect_not_allowed");
        app.webauth_url(103, &app.demo(), uri)
            .await
            .error(422, "redirect_not_allowed");
    }
    assert!(app.sandbox.requests().is_empty());
    let a = app
        .post(
            "/api/v1/connections/102/reconnect-url",
            &app.demo(),
            json!({"redirect_uri": RETURN, "lang": "xx"}),
        )
        .await;
    a.error(400, "bad_request");
}

#[tokio::test]
async fn a_full_reconnect_comes_back_completed_and_the_connection_is_fine() {
    let app = spawn_app().await;
    let token = app.demo();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
    // The simulated webview: open it, follow to its page, confirm.
    let page = app.client.get(&r.url).send().await.unwrap();
    let (page_url, html) = if page.status().is_redirection() {
        let loc = page.headers()["location"].to_str().unwrap().to_owned();
        let loc = if loc.starts_with('/') {
            app.url(&loc)
        } else {
            loc
        };
        (
            loc.clone(),
            app.client
                .get(&loc)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
    } else {
        (r.url.clone(), page.text().await.unwrap())
    };
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("a form on {page_url}: {html}"))
        .replace("&amp;", "&");
    let done = app
        .client
        .post(&action)
        .form(&[("action", "confirm")])
        .send()
        .await
        .unwrap();
    let back = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(RETURN), "{back}");
    let state = query_param(&back, "state").expect("state comes back");
    let a = app.callback(&token, json!({"state": state})).await;
    let result: CallbackResult =
        serde_json::from_str(&a.text).unwrap_or_else(|e| panic!("{e}: {}", a.text));
    assert_eq!(result.connection_id, 102);
    assert_eq!(result.outcome, mend_model::api::CallbackOutcome::Completed);
    assert!(result.status.state.is_none(), "{:?}", result.status);
    // The same return presented twice is a replay.
    app.callback(&token, json!({"state": state}))
        .await
        .error(422, "invalid_state");
}

#[tokio::test]
async fn a_full_webauth_comes_back_with_the_connection_id() {
    let app = spawn_app().await;
    let token = app.demo();
    let a = app.webauth_url(103, &token, RETURN).await;
    let r: RedirectUrl =
        serde_json::from_str(&a.text).unwrap_or_else(|e| panic!("{e}: {}", a.text));
    assert_eq!(r.kind, mend_model::api::RedirectKind::Webauth);
    let ticket = query_param(&r.url, "ticket").expect("a bank ticket");
    let done = app
        .client
        .post(app.url("/sandbox/bank/authorize"))
        .form(&[("ticket", ticket.as_str()), ("decision", "authorize")])
        .send()
        .await
        .unwrap();
    let back = done.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(query_param(&back, "id_connection").as_deref(), Some("103"));
    let state = query_param(&back, "state").unwrap();
    let result: CallbackResult = serde_json::from_str(
        &app.callback(&token, json!({"state": state, "id_connection": "103"}))
            .await
            .text,
    )
    .unwrap();
    assert_eq!(result.outcome, mend_model::api::CallbackOutcome::Completed);
    assert!(result.status.state.is_none());
    app.webauth_url(101, &token, RETURN)
        .await
        .error(409, "conflict");
}

#[tokio::test]
async fn forged_replayed_and_foreign_states_are_invalid() {
    let app = spawn_app().await;
    let token = app.demo();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
    let state = query_param(&r.url, "state").unwrap();
    app.callback(&token, json!({}))
        .await
        .error(422, "invalid_state");
    app.callback(&token, json!({"state": "v1.e30.AAAA"}))
        .await
        .error(422, "invalid_state");
    let tampered = format!("{}x", &state[..state.len() - 1]);
    app.callback(&token, json!({"state": tampered}))
        .await
        .error(422, "invalid_state");
    // Another user presenting user 1's state.
    let other = app.session(2, None, Duration::from_secs(60));
    app.callback(&other, json!({"state": state}))
        .await
        .error(422, "invalid_state");
    // A state for 102 coming back claiming another connection.
    app.callback(&token, json!({"state": state, "id_connection": "103"}))
        .await
        .error(422, "invalid_state");
    // A session limited to other connections.
    let limited = app.session(1, Some(vec![104]), Duration::from_secs(60));
    app.callback(&limited, json!({"state": state}))
        .await
        .error(422, "invalid_state");
    // Still unused: the owner redeems it once, then never again.
    let first = app.callback(&token, json!({"state": state})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    app.callback(&token, json!({"state": state}))
        .await
        .error(422, "invalid_state");
}

#[tokio::test]
async fn access_denied_is_cancelled_and_other_errors_failed() {
    let app = spawn_app().await;
    let token = app.demo();
    for (error, outcome) in [
        ("access_denied", "cancelled"),
        ("server_error", "failed"),
        ("<script>", "failed"),
    ] {
        let r: RedirectUrl =
            serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
        let state = query_param(&r.url, "state").unwrap();
        let a = app
            .callback(
                &token,
                json!({"state": state, "error": error, "error_description": "Détails internes"}),
            )
            .await;
        let v = a.json();
        assert_eq!(v["outcome"], outcome, "{}", a.text);
        assert_eq!(v["connection_id"], 102);
        assert!(
            !a.text.contains("<script>") && !a.text.contains("internes"),
            "{}",
            a.text
        );
    }
}
