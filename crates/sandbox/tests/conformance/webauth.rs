//! `/webauth-url` and the bank's authorize page.

use crate::app::*;
use serde_json::Value;

#[tokio::test]
async fn webauth_url_is_409_when_the_connection_is_fine() {
    let app = app().await;
    let (status, body) = app.get(&webauth_path(101, "s")).await;
    assert_eq!(status, 409);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn webauth_authorize_redirects_with_id_connection_and_state_only() {
    let app = app().await;
    let (status, body) = app.get(&webauth_path(103, "abc")).await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/bank/authorize?", app.sb.url)));
    let (status, _, page) = app.browse(url).await;
    assert_eq!(status, 200);
    assert!(page.contains(">Authorize</button>") && page.contains(">Deny</button>"));
    let ticket = query_of(url)
        .into_iter()
        .find(|(k, _)| k == "ticket")
        .unwrap()
        .1;
    let (status, loc, _) = app
        .submit(
            &app.url("/bank/authorize"),
            &[("ticket", &ticket), ("decision", "authorize")],
        )
        .await;
    assert_eq!(status, 303);
    let loc = loc.unwrap();
    assert!(loc.starts_with(REDIRECT));
    let q = query_of(&loc);
    assert_eq!(
        q,
        [
            ("id_connection".to_owned(), "103".to_owned()),
            ("state".to_owned(), "abc".to_owned())
        ]
    );
    assert_eq!(app.conn(103).await["state"], Value::Null);
}

#[tokio::test]
async fn webauth_deny_redirects_with_access_denied() {
    let app = app().await;
    let (_, body) = app.get(&webauth_path(115, "xyz")).await;
    let ticket = query_of(body["url"].as_str().unwrap()).remove(0).1;
    let (status, loc, _) = app
        .submit(
            &app.url("/bank/authorize"),
            &[("ticket", &ticket), ("decision", "deny")],
        )
        .await;
    assert_eq!(status, 303);
    let q = query_of(&loc.unwrap());
    assert_eq!(keys(&q), ["error", "error_description", "state"]);
    assert_eq!(q[0].1, "access_denied");
    assert_eq!(q[2].1, "xyz");
    assert_eq!(app.conn(115).await["state"], "SCARequired");
}

#[tokio::test]
async fn webauth_url_refuses_unlisted_redirect_uris() {
    let app =
        app_with(|cfg| cfg.redirect_uris = Some(vec!["https://other.example/cb".into()])).await;
    let (status, body) = app.get(&webauth_path(103, "s")).await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}
