//! Tokens and temporary codes: grants, renewals, revocation, the 401 envelope.

use crate::app::*;
use mend_sandbox::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER_ID};
use serde_json::{Value, json};

#[tokio::test]
async fn a_grant_type_other_than_the_routes_own_answers_400_invalid_value() {
    let app = app().await;
    for (path, grant) in [
        ("/2.0/auth/renew", "authorization_code"),
        ("/2.0/auth/token/access", "client_credentials"),
    ] {
        let (status, body) = app
            .send(app.http.post(app.url(path)).json(&json!({
                "grant_type": grant, "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET, "id_user": 1, "code": "x",
            })))
            .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_envelope(&body, "invalidValue");
    }
}

#[tokio::test]
async fn renew_with_a_wrong_secret_answers_401_invalid_client() {
    let app = app().await;
    let (status, body) = app
        .send(app.http.post(app.url("/2.0/auth/renew")).json(&json!({
            "grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID,
            "client_secret": "nope", "id_user": 1,
        })))
        .await;
    assert_eq!(status, 401);
    assert_envelope(&body, "invalidClient");
}

#[tokio::test]
async fn renew_accepts_a_form_encoded_body() {
    let app = app().await;
    let (status, body) = app
        .send(app.http.post(app.url("/2.0/auth/renew")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("id_user", "1"),
            ("revoke_previous", "false"),
        ]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn revoke_previous_invalidates_older_tokens_of_that_user_only() {
    let app = app().await;
    let other = app.renew(2, false).await;
    let newer = app.renew(DEMO_USER_ID, true).await;
    let (status, body) = app.get("/2.0/users/me/connections").await;
    assert_eq!(status, 401);
    assert_envelope(&body, "unauthorized");
    for token in [newer, other] {
        let (status, _) = app
            .send(
                app.http
                    .get(app.url("/2.0/users/me/connections"))
                    .bearer_auth(token),
            )
            .await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn missing_or_unknown_bearer_answers_the_401_envelope() {
    let app = app().await;
    let (status, body) = app
        .send(app.http.get(app.url("/2.0/users/me/connections/101")))
        .await;
    assert_eq!(status, 401);
    assert_envelope(&body, "unauthorized");
    assert_eq!(body["message"], Value::Null);
    let (status, _) = app
        .send(
            app.http
                .get(app.url("/2.0/users/me/connections/101"))
                .bearer_auth("forged"),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn init_creates_a_user_with_a_permanent_or_temporary_token() {
    let app = app().await;
    let (status, body) = app
        .send(
            app.http
                .post(app.url("/2.0/auth/init"))
                .json(&json!({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["type"], "permanent");
    assert_eq!(body["expires_in"], Value::Null);
    let user = body["id_user"].as_i64().unwrap();
    assert!(user > 2);
    let (status, list) = app
        .send(
            app.http
                .get(app.url(&format!("/2.0/users/{user}/connections")))
                .bearer_auth(body["auth_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["connections"], json!([]));
    let (status, body) = app
        .send(app.http.post(app.url("/2.0/auth/init")).json(&json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["type"], "temporary");
    assert_eq!(body["expires_in"], 1800);
}

#[tokio::test]
async fn temporary_codes_have_the_documented_shape() {
    let app = app().await;
    let (status, single) = app.get("/2.0/auth/token/code?type=singleAccess").await;
    assert_eq!(status, 200);
    assert_eq!(single["type"], "temporary");
    assert_eq!(single["access"], "single");
    assert_eq!(single["expires_in"], 600);
    let (_, standard) = app.get("/2.0/auth/token/code").await;
    assert_eq!(standard["access"], "standard");
    assert_eq!(standard["expires_in"], 1800);
    let (status, body) = app.get("/2.0/auth/token/code?type=bogus").await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn a_single_access_code_is_exchanged_once() {
    let app = app().await;
    let code = app.code("singleAccess").await;
    let exchange = || {
        app.send(
            app.http
                .post(app.url("/2.0/auth/token/access"))
                .json(&json!({
                    "grant_type": "authorization_code", "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET, "code": code,
                })),
        )
    };
    let (status, body) = exchange().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let (status, body) = exchange().await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn deleting_the_token_revokes_it() {
    let app = app().await;
    let (status, _) = app
        .send(
            app.http
                .delete(app.url("/2.0/auth/token"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get("/2.0/users/me/connections").await;
    assert_eq!(status, 401);
}
