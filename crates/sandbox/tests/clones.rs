//! Copies of demo connections for load tests and benchmarks: what they keep of their
//! template and who owns them, seen through Powens' own routes.

use mend_sandbox::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER_ID, spawn};
use serde_json::{Value, json};

async fn token(http: &reqwest::Client, url: &str, user: i64) -> String {
    let body: Value = http
        .post(format!("{url}/2.0/auth/renew"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "id_user": user,
        }))
        .send()
        .await
        .expect("renew")
        .json()
        .await
        .expect("renew JSON");
    body["access_token"].as_str().expect("a token").to_owned()
}

async fn get(http: &reqwest::Client, url: &str, token: &str, user: i64, id: i64) -> (u16, Value) {
    let res = http
        .get(format!("{url}/2.0/users/{user}/connections/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("read");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_clone_for_a_new_user_is_that_users_alone_and_keeps_its_templates_state() {
    let sb = spawn(|_| {}).await.expect("spawn");
    let http = reqwest::Client::new();
    let (user, id) = sb
        .sandbox
        .clone_connection_for_new_user(104)
        .expect("104 is a demo template");
    let (other, _) = sb
        .sandbox
        .clone_connection_for_new_user(104)
        .expect("again");
    assert_ne!(user, DEMO_USER_ID);
    assert_ne!(user, other, "every clone has a user of its own");

    let mine = token(&http, &sb.url, user).await;
    let (status, conn) = get(&http, &sb.url, &mine, user, id).await;
    assert_eq!(status, 200, "{conn}");
    assert_eq!(conn["id"], id);
    assert_eq!(conn["id_user"], user);
    let template = sb.sandbox.connection(104).expect("the template");
    assert_eq!(
        conn["state"],
        json!(template.state.as_ref().map(|s| s.as_str()))
    );

    // Neither the demo user nor another new user reaches it.
    let demo = token(&http, &sb.url, DEMO_USER_ID).await;
    assert_eq!(get(&http, &sb.url, &demo, DEMO_USER_ID, id).await.0, 404);
    let theirs = token(&http, &sb.url, other).await;
    assert_eq!(get(&http, &sb.url, &theirs, other, id).await.0, 404);
    assert!(sb.sandbox.clone_connection_for_new_user(999_999).is_none());
}
