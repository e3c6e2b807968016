//! The Reconnect webview: its entry, forms, cancel, and the codes and redirect URIs it
//! refuses.

use crate::app::*;
use mend_sandbox::{DEMO_CLIENT_ID, DEMO_DOMAIN};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn reconnect_success_returns_only_state() {
    let app = app().await;
    let page_url = app.open_webview(102, "st-1").await;
    let (status, _, page) = app.browse(&page_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>") && page.contains(">Cancel</button>"));
    assert!(!page.contains("<script") && !page.contains("style=\""));
    let (status, loc, _) = app.submit(&page_url, &[("action", "confirm")]).await;
    assert_eq!(status, 303);
    assert_eq!(loc.unwrap(), format!("{REDIRECT}?state=st-1"));
    assert_eq!(app.conn(102).await["state"], Value::Null);
}

#[tokio::test]
async fn reconnect_otp_form_shows_a_wrong_code_then_succeeds() {
    let app = app().await;
    let page_url = app.open_webview(104, "s").await;
    let (_, _, page) = app.browse(&page_url).await;
    assert!(page.contains("autocomplete=\"one-time-code\""), "{page}");
    assert!(page.contains("Code received by SMS"));
    let (status, loc, _) = app
        .submit(&page_url, &[("action", "submit"), ("otp", "999999")])
        .await;
    assert_eq!(status, 303);
    assert_eq!(loc.as_deref(), Some(page_url.as_str()));
    let (_, _, page) = app.browse(&page_url).await;
    assert!(page.contains("Incorrect code, 2 tries left"));
    let (_, loc, _) = app
        .submit(&page_url, &[("action", "submit"), ("otp", "123456")])
        .await;
    assert_eq!(loc.unwrap(), format!("{REDIRECT}?state=s"));
}

#[tokio::test]
async fn reconnect_credentials_form_repairs_wrongpass() {
    let app = app().await;
    let page_url = app.open_webview(109, "s").await;
    let (_, loc, _) = app
        .submit(
            &page_url,
            &[("action", "submit"), ("login", "demo"), ("password", "bad")],
        )
        .await;
    assert_eq!(loc.as_deref(), Some(page_url.as_str()));
    let (_, _, page) = app.browse(&page_url).await;
    assert!(page.contains("role=\"alert\""));
    let (_, loc, _) = app
        .submit(
            &page_url,
            &[
                ("action", "submit"),
                ("login", "demo"),
                ("password", "1234"),
            ],
        )
        .await;
    assert_eq!(loc.unwrap(), format!("{REDIRECT}?state=s"));
    assert_eq!(app.conn(109).await["state"], Value::Null);
}

#[tokio::test]
async fn reconnect_cancel_redirects_with_access_denied() {
    let app = app().await;
    let page_url = app.open_webview(103, "s9").await;
    let (status, loc, _) = app.submit(&page_url, &[("action", "cancel")]).await;
    assert_eq!(status, 303);
    let q = query_of(&loc.unwrap());
    assert_eq!(keys(&q), ["error", "error_description", "state"]);
    assert_eq!(q[0].1, "access_denied");
    assert_eq!(app.conn(103).await["state"], "webauthRequired");
}

#[tokio::test]
async fn reconnect_refuses_a_used_or_unknown_code_with_a_redirect() {
    let app = app().await;
    let code = app.code("singleAccess").await;
    let url = app.webview_url(&code, 102, Some("s"));
    assert_eq!(app.browse(&url).await.0, 303);
    for url in [url, app.webview_url("nope", 102, Some("s"))] {
        let (status, loc, _) = app.browse(&url).await;
        assert_eq!(status, 303);
        let loc = loc.unwrap();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        let q = query_of(&loc);
        assert_eq!(keys(&q), ["error", "error_description", "state"]);
        assert_eq!(q[0].1, "server_error");
    }
}

#[tokio::test]
async fn reconnect_refuses_an_expired_code() {
    let app = app_with(|cfg| cfg.single_access_ttl = Duration::from_millis(100)).await;
    let code = app.code("singleAccess").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, loc, _) = app.browse(&app.webview_url(&code, 102, None)).await;
    assert_eq!(status, 303);
    assert_eq!(query_of(&loc.unwrap())[0].1, "server_error");
}

#[tokio::test]
async fn reconnect_never_redirects_to_an_unlisted_uri() {
    let app = app_with(|cfg| cfg.redirect_uris = Some(vec![REDIRECT.into()])).await;
    let code = app.code("singleAccess").await;
    let url = app
        .webview_url(&code, 102, Some("s"))
        .replace("app.example", "evil.example");
    let (status, loc, page) = app.browse(&url).await;
    assert_eq!(status, 400);
    assert!(loc.is_none());
    assert!(page.contains("redirect_uri"));
}

#[tokio::test]
async fn reconnect_refuses_another_users_connection_and_a_wrong_domain() {
    let app = app().await;
    let code = app.code("singleAccess").await;
    let (status, loc, _) = app.browse(&app.webview_url(&code, 201, Some("s"))).await;
    assert_eq!(status, 303);
    assert_eq!(query_of(&loc.unwrap())[0].1, "server_error");
    let code = app.code("singleAccess").await;
    let url = app
        .webview_url(&code, 102, None)
        .replace(DEMO_DOMAIN, "other.biapi.pro");
    assert_eq!(app.browse(&url).await.0, 400);
}

#[tokio::test]
async fn the_legacy_webview_path_works_without_domain() {
    let app = app().await;
    let code = app.code("singleAccess").await;
    let url = format!(
        "{}/2.0/auth/webview/reconnect?client_id={DEMO_CLIENT_ID}&code={code}&connection_id=103&redirect_uri={REDIRECT}",
        app.sb.url
    );
    let (status, loc, _) = app.browse(&url).await;
    assert_eq!(status, 303);
    let page_url = loc.unwrap();
    let (_, loc, _) = app.submit(&page_url, &[("action", "confirm")]).await;
    assert_eq!(loc.unwrap(), REDIRECT);
}
