//! Widget sessions: who may call, with which JWT, for which connections.

use crate::helpers::*;

#[tokio::test]
async fn a_request_without_a_session_is_unauthorized() {
    let app = spawn_app().await;
    let a = app.get("/api/v1/connections/101", None).await;
    a.error(401, "unauthorized");
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    app.get("/api/v1/connections/101", Some("not-a-jwt"))
        .await
        .error(401, "unauthorized");
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("authorization", "Basic Zm9vOmJhcg=="),
        )
        .await;
    a.error(401, "unauthorized");
}

#[tokio::test]
async fn a_session_signed_with_another_key_is_unauthorized() {
    let app = spawn_app().await;
    let claims = json!({"sub": "1", "iat": now(), "exp": now() + 600});
    let forged = craft_jwt("HS256", &claims, b"someone-elses-secret-0123456789abcdef");
    app.get_connection(101, &forged)
        .await
        .error(401, "unauthorized");
    // The same claims signed with the right key pass: the refusal was the key.
    let good = craft_jwt("HS256", &claims, &sandbox_key());
    app.get_connection(101, &good).await.status_body();
}

#[tokio::test]
async fn a_session_not_valid_yet_is_unauthorized_and_an_audience_is_ignored() {
    let app = spawn_app().await;
    let early = json!({"sub": "1", "iat": now(), "nbf": now() + 500, "exp": now() + 600});
    app.get_connection(101, &craft_jwt("HS256", &early, &sandbox_key()))
        .await
        .error(401, "unauthorized");
    let with_aud = json!({"sub": "1", "iat": now(), "exp": now() + 600, "aud": "app.example"});
    app.get_connection(101, &craft_jwt("HS256", &with_aud, &sandbox_key()))
        .await
        .status_body();
}

#[tokio::test]
async fn an_expired_session_answers_session_expired() {
    let app = spawn_app().await;
    let claims = json!({"sub": "1", "iat": now() - 1000, "exp": now() - 100});
    app.get_connection(101, &craft_jwt("HS256", &claims, &sandbox_key()))
        .await
        .error(401, "session_expired");
}

#[tokio::test]
async fn alg_none_and_other_algorithms_are_unauthorized() {
    let app = spawn_app().await;
    let claims = json!({"sub": "1", "iat": now(), "exp": now() + 600});
    for alg in ["none", "None", "HS512", "RS256", "ES256"] {
        let token = craft_jwt(alg, &claims, &sandbox_key());
        app.get_connection(101, &token)
            .await
            .error(401, "unauthorized");
    }
    // `alg: none` with the signature of an HS256 token glued on.
    let good = craft_jwt("HS256", &claims, &sandbox_key());
    let sig = good.rsplit('.').next().unwrap();
    let none = craft_jwt("none", &claims, b"");
    app.get_connection(101, &format!("{none}{sig}"))
        .await
        .error(401, "unauthorized");
}

#[tokio::test]
async fn a_session_living_over_an_hour_or_without_exp_is_unauthorized() {
    let app = spawn_app().await;
    let key = &sandbox_key()[..];
    let long = json!({"sub": "1", "iat": now(), "exp": now() + 3600 + 120});
    app.get_connection(101, &craft_jwt("HS256", &long, key))
        .await
        .error(401, "unauthorized");
    // Without `iat` the hour could only be counted from now: a far-off `exp` would
    // become valid in its last hour. So `iat` is required, however short the token.
    for exp in [now() + 7200, now() + 60] {
        let no_iat = json!({"sub": "1", "exp": exp});
        app.get_connection(101, &craft_jwt("HS256", &no_iat, key))
            .await
            .error(401, "unauthorized");
    }
    let no_exp = json!({"sub": "1", "iat": now()});
    app.get_connection(101, &craft_jwt("HS256", &no_exp, key))
        .await
        .error(401, "unauthorized");
    let future_iat = json!({"sub": "1", "iat": now() + 3000, "exp": now() + 3500});
    app.get_connection(101, &craft_jwt("HS256", &future_iat, key))
        .await
        .error(401, "unauthorized");
    for sub in [json!("-1"), json!("1 "), json!(1), json!("abc")] {
        let claims = json!({"sub": sub, "iat": now(), "exp": now() + 60});
        app.get_connection(101, &craft_jwt("HS256", &claims, key))
            .await
            .error(401, "unauthorized");
    }
    let exactly_an_hour = json!({"sub": "1", "iat": now(), "exp": now() + 3600});
    app.get_connection(101, &craft_jwt("HS256", &exactly_an_hour, key))
        .await
        .status_body();
}

#[tokio::test]
async fn another_users_connection_is_not_found() {
    let app = spawn_app().await;
    let a = app.get_connection(201, &app.demo()).await;
    a.error(404, "not_found");
    let unknown = app.get_connection(999_999, &app.demo()).await;
    assert_eq!(
        a.json()["error"]["message"],
        unknown.json()["error"]["message"],
        "indistinguishable"
    );
    // User 2 sees its own.
    app.get_connection(201, &app.session(2, None, Duration::from_secs(60)))
        .await
        .status_body();
}

#[tokio::test]
async fn a_connection_outside_the_sessions_connections_is_not_found_without_asking_powens() {
    let app = spawn_app().await;
    let token = app.session(1, Some(vec![104]), Duration::from_secs(60));
    app.get_connection(104, &token).await.status_body();
    app.sandbox.clear_requests();
    app.get_connection(105, &token)
        .await
        .error(404, "not_found");
    app.resume(105, &token).await.error(404, "not_found");
    app.reconnect_url(105, &token, RETURN)
        .await
        .error(404, "not_found");
    app.submit_fields(105, &token, json!({"otp": "123456"}))
        .await
        .error(404, "not_found");
    assert!(
        app.sandbox.requests().is_empty(),
        "nothing reached Powens: {:?}",
        app.sandbox.requests()
    );
}

#[tokio::test]
async fn a_malformed_connection_id_is_not_found() {
    let app = spawn_app().await;
    for id in ["abc", "-1", "0", "1.5", "99999999999999999999"] {
        app.get(&format!("/api/v1/connections/{id}"), Some(&app.demo()))
            .await
            .error(404, "not_found");
    }
    app.get("/api/v1/nothing-here", Some(&app.demo()))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn a_null_connections_claim_grants_no_connection_and_a_malformed_one_no_session() {
    let app = spawn_app().await;
    let key = &sandbox_key()[..];
    let null = json!({"sub": "1", "iat": now(), "exp": now() + 600, "connections": null});
    let token = craft_jwt("HS256", &null, key);
    for id in [101, 104] {
        app.get_connection(id, &token).await.error(404, "not_found");
    }
    assert_eq!(app.upstream_count("GET", "/connections/101"), 0);
    for bad in [json!("101"), json!([101, "x"]), json!({"101": true})] {
        let claims = json!({"sub": "1", "iat": now(), "exp": now() + 600, "connections": bad});
        app.get_connection(101, &craft_jwt("HS256", &claims, key))
            .await
            .error(401, "unauthorized");
    }
    let listed = json!({"sub": "1", "iat": now(), "exp": now() + 600, "connections": [101]});
    app.get_connection(101, &craft_jwt("HS256", &listed, key))
        .await
        .status_body();
}
