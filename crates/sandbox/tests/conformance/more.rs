//! The rest: methods, form bodies, multi-source, connectors, pages' accessibility,
//! the bank app, creation, retries and scenarios set over HTTP.

use crate::app::*;
use mend_sandbox::DEMO_CLIENT_ID;
use serde_json::{Value, json};

#[tokio::test]
async fn a_wrong_method_answers_405_method_not_allowed() {
    let app = app().await;
    let (status, body) = app
        .send(
            app.http
                .patch(app.url("/2.0/users/me/connections/101"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 405);
    assert_envelope(&body, "methodNotAllowed");
}

#[tokio::test]
async fn a_form_encoded_resume_string_is_accepted() {
    let app = app().await;
    let (status, c) = app
        .send(
            app.http
                .post(app.url("/2.0/users/me/connections/105?background=true"))
                .bearer_auth(&app.token)
                .form(&[("resume", "true")]),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], "validating");
}

#[tokio::test]
async fn a_multi_source_sync_turns_webauth_required_on_the_psd2_source() {
    let app = app().await;
    let (_, c) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/115?expand=sources"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(c["state"], "webauthRequired");
    assert_eq!(c["sources"][0]["state"], "webauthRequired");
    assert_eq!(c["sources"][1]["state"], Value::Null);
    let (status, body) = app.get("/2.0/users/me/connections/115/sources").await;
    assert_eq!(status, 200);
    assert_eq!(body["sources"].as_array().unwrap().len(), 2);
    assert_eq!(body["sources"][0]["id_connection"], 115);
}

#[tokio::test]
async fn connectors_need_no_token() {
    let app = app().await;
    let (status, body) = app.send(app.http.get(app.url("/2.0/connectors"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["connectors"][0]["name"], "Banque Exemple");
    assert!(body["connectors"][0]["uuid"].is_string());
}

#[tokio::test]
async fn the_webauth_browser_entry_redirects_to_the_bank_with_a_temporary_code() {
    let app = app().await;
    let code = app.code("singleAccess").await;
    let url = format!(
        "{}/2.0/webauth?client_id={DEMO_CLIENT_ID}&id_connection=103&redirect_uri={REDIRECT}&state=w&token={code}",
        app.sb.url
    );
    let (status, loc, _) = app.browse(&url).await;
    assert!(status == 302 || status == 307, "{status}");
    assert!(loc.unwrap().contains("/bank/authorize?ticket="));
    let (status, loc, _) = app.browse(&url).await;
    assert_eq!(status, 303, "a used code goes back with an error");
    assert_eq!(query_of(&loc.unwrap())[0].1, "server_error");
}

/// Accessibility and CSP basics of a page.
fn assert_accessible(page: &str) {
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains("<html lang=\""));
    assert!(page.contains("<title>") && page.contains("<h1>"));
    assert!(!page.contains("<script"), "no scripts");
    assert!(
        !page.contains("style=\"") && !page.contains("<style"),
        "no inline styles"
    );
    assert!(page.contains("/sandbox.css\""));
    // Every control has a label.
    for (i, _) in page.match_indices("<input id=\"") {
        let id = page[i + 11..].split('"').next().unwrap();
        assert!(
            page.contains(&format!("<label for=\"{id}\"")),
            "{id} unlabelled"
        );
    }
    for (i, _) in page.match_indices("<select id=\"") {
        let id = page[i + 12..].split('"').next().unwrap();
        assert!(
            page.contains(&format!("<label for=\"{id}\"")),
            "{id} unlabelled"
        );
    }
}

#[tokio::test]
async fn every_page_is_small_accessible_html_without_inline_code() {
    let app = app().await;
    let form_page = app.open_webview(116, "s").await;
    let (_, _, page) = app.browse(&form_page).await;
    assert_accessible(&page);
    for kind in [
        "type=\"password\"",
        "type=\"date\"",
        "<select",
        "type=\"number\"",
    ] {
        assert!(page.contains(kind), "{kind}");
    }
    let sca_page = app.open_webview(105, "s").await;
    assert_accessible(&app.browse(&sca_page).await.2);
    let (_, body) = app.get(&webauth_path(103, "s")).await;
    assert_accessible(&app.browse(body["url"].as_str().unwrap()).await.2);
    assert_accessible(&app.browse(&app.url("/bank/app")).await.2);
    assert_accessible(&app.browse(&app.url("/")).await.2);
    let res = app.http.get(app.url("/sandbox.css")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    let (status, _, page) = app.browse(&app.url("/bank/authorize?ticket=nope")).await;
    assert_eq!(status, 400);
    assert_accessible(&page);
}

#[tokio::test]
async fn the_bank_app_lists_each_pending_request_with_labelled_buttons() {
    let app = app().await;
    let (_, _, page) = app.browse(&app.url("/bank/app")).await;
    assert!(page.contains(
        "name=\"decision\" value=\"approve\" data-connection=\"105\" aria-label=\"Approve access for Banque Exemple (connection 105)\""
    ), "{page}");
    assert!(page.contains("value=\"refuse\" data-connection=\"105\""));
    assert!(page.contains("value=\"accept_terms\" data-connection=\"107\""));
    assert!(!page.contains("data-connection=\"104\""));
    let (_, loc, _) = app
        .submit(
            &app.url("/bank/app"),
            &[("connection", "104"), ("decision", "approve")],
        )
        .await;
    assert!(loc.unwrap().contains("done=none"));
}

#[tokio::test]
async fn creating_a_connection_checks_credentials_and_may_ask_for_a_code() {
    let app = app().await;
    let (status, body) = app
        .send(app.http.get(app.url("/2.0/connectors?expand=fields")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["connectors"][0]["fields"][1]["type"], "password");
    let (status, err) = app
        .post(
            "/2.0/users/me/connections",
            json!({"id_connector": 40, "login": "demo", "password": "bad"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_envelope(&err, "wrongpass");
    let (_, list) = app.get("/2.0/users/me/connections").await;
    assert_eq!(
        list["connections"].as_array().unwrap().len(),
        25,
        "nothing created"
    );
    let (status, c) = app
        .post(
            "/2.0/users/me/connections?expand=connector",
            json!({"id_connector": 40, "login": "demo", "password": "1234"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["state"], Value::Null);
    assert_eq!(c["connector"]["name"], "Banque Exemple");
    let (status, c) = app
        .send(
            app.http
                .post(app.url("/2.0/users/me/connections"))
                .bearer_auth(&app.token)
                .form(&[
                    ("id_connector", "42"),
                    ("login", "demo"),
                    ("password", "1234"),
                ]),
        )
        .await;
    assert_eq!(status, 202, "{c}");
    assert_eq!(c["state"], "additionalInformationNeeded");
    let id = c["id"].as_i64().unwrap();
    let (_, c) = app
        .post(
            &format!("/2.0/users/me/connections/{id}"),
            json!({"otp": "123456"}),
        )
        .await;
    assert_eq!(c["state"], Value::Null);
    let (status, err) = app
        .post("/2.0/users/me/connections", json!({"login": "demo"}))
        .await;
    assert_eq!(status, 400);
    assert_envelope(&err, "missingParameter");
}

#[tokio::test]
async fn a_request_access_code_may_open_the_webview_more_than_once() {
    let app = app().await;
    let code = app.code("requestAccess").await;
    for _ in 0..2 {
        let (status, loc, _) = app.browse(&app.webview_url(&code, 104, Some("s"))).await;
        assert_eq!(status, 303);
        assert!(loc.unwrap().contains("/webview/session/"));
    }
}

#[tokio::test]
async fn an_approval_in_the_bank_app_before_the_resume_counts() {
    let app = app().await;
    app.submit(
        &app.url("/bank/app"),
        &[("connection", "105"), ("decision", "approve")],
    )
    .await;
    assert_eq!(app.conn(105).await["state"], "decoupled");
    let (_, c) = app
        .post(
            "/2.0/users/me/connections/105?background=true",
            json!({"resume": true}),
        )
        .await;
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn retry_now_fast_forwards_powens_automatic_retry_of_transient_states() {
    let app = app().await;
    for (id, state) in [
        (110, "rateLimiting"),
        (111, "websiteUnavailable"),
        (112, "bug"),
    ] {
        assert_eq!(app.conn(id).await["state"], state);
        let res = app
            .http
            .post(app.url(&format!("/_sandbox/connections/{id}/retry-now")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 204);
        let c = app.conn(id).await;
        assert_eq!(c["state"], Value::Null, "{id} recovered");
        assert_eq!(c["error"], Value::Null);
        assert!(c["last_update"].is_string());
    }
    // A state that needs the user is not changed by a retry.
    app.http
        .post(app.url("/_sandbox/connections/104/retry-now"))
        .send()
        .await
        .unwrap();
    assert_eq!(app.conn(104).await["state"], "additionalInformationNeeded");
    let res = app
        .http
        .post(app.url("/_sandbox/connections/999/retry-now"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert!(
        app.sb
            .sandbox
            .requests()
            .iter()
            .all(|r| !r.path.contains("_sandbox")),
        "control routes are not logged"
    );
}

#[tokio::test]
async fn scenarios_set_over_http_refuse_syncs_and_write_legacy_bodies() {
    let app = app().await;
    let res = app
        .http
        .put(app.url("/_sandbox/connections/101/scenario"))
        .json(&json!({"refuse_sync": true, "legacy_errors": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, body) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/101"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "conflict", "legacy shape: {body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Can't force synchronization")
    );
    let res = app
        .http
        .put(app.url("/_sandbox/connections/101/scenario"))
        .json(&json!({"no_such_knob": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "unknown knobs are refused");
}
