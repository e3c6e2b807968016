//! Resume and sync.

use crate::helpers::*;

#[tokio::test]
async fn resuming_a_decoupled_connection_validates_in_the_background() {
    let app = spawn_app().await;
    let s = app.resume(105, &app.demo()).await.status_body();
    assert_eq!(s.state.as_ref().map(|s| s.as_str()), Some("validating"));
    let posted = app
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/connections/105"))
        .expect("a POST");
    assert!(posted.query.contains("background=true"), "{}", posted.query);
    assert!(posted.body.contains("resume"), "{}", posted.body);
    app.resume(101, &app.demo()).await.error(409, "conflict");
}

#[tokio::test]
async fn sync_asks_powens_with_a_put() {
    let app = spawn_app().await;
    let s = app.sync(101, &app.demo()).await.status_body();
    assert!(s.state.is_none());
    assert_eq!(app.upstream_count("PUT", "/connections/101"), 1);
}
