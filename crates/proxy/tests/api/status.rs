//! What a status read answers.

use crate::helpers::*;

#[tokio::test]
async fn a_status_carries_state_message_fields_utc_dates_and_actions() {
    let app = spawn_app().await;
    let s = app.get_connection(104, &app.demo()).await.status_body();
    assert_eq!(s.id, 104);
    assert_eq!(
        s.state.as_ref().map(|s| s.as_str()),
        Some("additionalInformationNeeded")
    );
    assert_eq!(s.fields.len(), 1);
    assert_eq!(s.fields[0].name, "otp");
    assert_eq!(s.fields[0].regex.as_deref(), Some("^[0-9]{6}$"));
    assert_eq!(s.actions, [mend_model::api::Action::Submit]);
    assert!(s.message.is_some());
    assert!(s.connector.is_some());
    for d in [&s.last_update, &s.expire, &s.server_time]
        .into_iter()
        .flatten()
    {
        assert!(d.ends_with('Z') && d.contains('T') && d.len() == 20, "{d}");
    }
    let fine = app.get_connection(101, &app.demo()).await;
    assert!(fine.json()["state"].is_null());
    assert_eq!(fine.json()["actions"], json!(["sync"]));
    assert_eq!(fine.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn unknown_states_and_sources_come_through_as_they_are() {
    let app = spawn_app().await;
    let s = app.get_connection(114, &app.demo()).await.status_body();
    assert_eq!(
        s.state.as_ref().map(|s| s.as_str()),
        Some("someFutureState")
    );
    assert!(s.actions.is_empty());
    let multi = app.get_connection(115, &app.demo()).await.status_body();
    assert_eq!(multi.sources.len(), 2);
    assert!(multi.sources.iter().any(|s| s.state.is_none()));
    let wrongpass = app.get_connection(109, &app.demo()).await.status_body();
    assert!(
        wrongpass.fields.is_empty(),
        "no credential form without agent status"
    );
    assert_eq!(wrongpass.actions, [mend_model::api::Action::Reconnect]);
}
