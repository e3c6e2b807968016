//! Conformance of the sandbox with Powens as documented in `shared/powens-api.md`:
//! every route, happy and error paths, through real HTTP on a spawned sandbox.

use mend_sandbox::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, DEMO_USER_ID, FaultKind, Faults,
    SandboxConfig, SpawnedSandbox, spawn,
};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const REDIRECT: &str = "https://app.example/bank/return";

struct TestApp {
    sb: SpawnedSandbox,
    http: reqwest::Client,
    token: String,
}

/// Fast timings for tests.
fn fast(cfg: &mut SandboxConfig) {
    cfg.decoupled_delay = Duration::from_millis(200);
    cfg.validating_delay = Duration::from_millis(200);
    cfg.blocking_limit = Duration::from_millis(600);
    cfg.fault_hang = Duration::from_secs(3);
}

async fn app_with(configure: impl FnOnce(&mut SandboxConfig)) -> TestApp {
    let sb = spawn(|cfg| {
        fast(cfg);
        configure(cfg);
    })
    .await
    .expect("spawn");
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut app = TestApp {
        sb,
        http,
        token: String::new(),
    };
    app.token = app.renew(DEMO_USER_ID, false).await;
    app
}

async fn app() -> TestApp {
    app_with(|_| {}).await
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.url)
    }

    async fn renew(&self, user: i64, revoke: bool) -> String {
        let (status, body) = self
            .send(self.http.post(self.url("/2.0/auth/renew")).json(&json!({
                "grant_type": "client_credentials",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "id_user": user,
                "revoke_previous": revoke,
            })))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    async fn conn(&self, id: i64) -> Value {
        let (status, body) = self
            .get(&format!(
                "/2.0/users/me/connections/{id}?expand=connector,sources"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn code(&self, kind: &str) -> String {
        let (status, body) = self.get(&format!("/2.0/auth/token/code?type={kind}")).await;
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().unwrap().to_owned()
    }

    /// Polls a connection until `pred` holds (or fails after 5 s).
    async fn until(&self, id: i64, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let c = self.conn(id).await;
            if pred(&c) {
                return c;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "timed out waiting on {c}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser GET; returns status and `Location`.
    async fn browse(&self, url: &str) -> (u16, Option<String>, String) {
        let res = self.http.get(url).send().await.unwrap();
        let status = res.status().as_u16();
        let loc = location(&res);
        (status, loc, res.text().await.unwrap())
    }

    /// A browser form POST; returns status and `Location`.
    async fn submit(&self, url: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let res = self.http.post(url).form(form).send().await.unwrap();
        let status = res.status().as_u16();
        let loc = location(&res);
        (status, loc, res.text().await.unwrap())
    }

    fn webview_url(&self, code: &str, id: i64, state: Option<&str>) -> String {
        let mut q = vec![
            ("domain", DEMO_DOMAIN.to_owned()),
            ("client_id", DEMO_CLIENT_ID.to_owned()),
            ("code", code.to_owned()),
            ("connection_id", id.to_string()),
            ("redirect_uri", REDIRECT.to_owned()),
        ];
        if let Some(s) = state {
            q.push(("state", s.to_owned()));
        }
        format!(
            "{}/webview/en/reconnect?{}",
            self.sb.url,
            serde_urlencoded_pairs(&q)
        )
    }

    /// Opens the webview for `id`; returns the session page URL.
    async fn open_webview(&self, id: i64, state: &str) -> String {
        let code = self.code("singleAccess").await;
        let (status, loc, body) = self.browse(&self.webview_url(&code, id, Some(state))).await;
        assert_eq!(status, 303, "{body}");
        loc.unwrap()
    }
}

fn serde_urlencoded_pairs(q: &[(&str, String)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(q);
    url.query().unwrap_or("").to_owned()
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The query of a redirect target, as pairs in order.
fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn keys(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

fn assert_envelope(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["description"].is_string(), "{body}");
    assert!(body.get("message").is_some(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
}

// ---------------------------------------------------------------- auth

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

// ---------------------------------------------------------------- connections

#[tokio::test]
async fn connections_are_listed_with_both_state_and_error_and_naive_dates() {
    let app = app().await;
    let (status, body) = app.get("/2.0/users/me/connections?expand=connector").await;
    assert_eq!(status, 200);
    let list = body["connections"].as_array().unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (101..=125).collect::<Vec<_>>());
    for c in list {
        assert_eq!(c["state"], c["error"], "{c}");
        assert!(c["connector"]["name"].is_string());
        let created = c["created"].as_str().unwrap();
        assert_eq!(created.len(), 19);
        assert_eq!(&created[10..11], " ");
    }
    let fine = &list[0];
    assert_eq!(fine["state"], Value::Null);
    assert!(fine.get("sources").is_none());
    assert_eq!(list[13]["state"], "someFutureState");
    let numeric = app.get("/2.0/users/1/connections/104").await;
    assert_eq!(numeric.0, 200);
}

#[tokio::test]
async fn another_users_connection_answers_404() {
    let app = app().await;
    let (status, body) = app.get("/2.0/users/me/connections/201").await;
    assert_eq!(status, 404);
    assert_envelope(&body, "notFound");
    let (status, _) = app.get("/2.0/users/2/connections").await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/2.0/users/me/connections/999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_demo_state_is_served_with_what_it_needs() {
    let app = app().await;
    let expect = [
        (101, Value::Null),
        (102, json!("SCARequired")),
        (103, json!("webauthRequired")),
        (104, json!("additionalInformationNeeded")),
        (105, json!("decoupled")),
        (106, json!("validating")),
        (107, json!("actionNeeded")),
        (108, json!("passwordExpired")),
        (109, json!("wrongpass")),
        (110, json!("rateLimiting")),
        (111, json!("websiteUnavailable")),
        (112, json!("bug")),
        (113, json!("notSupported")),
        (114, json!("someFutureState")),
        (115, json!("SCARequired")),
        (116, json!("additionalInformationNeeded")),
    ];
    for (id, state) in expect {
        let c = app.conn(id).await;
        assert_eq!(c["state"], state, "{id}");
        let has_fields = matches!(id, 104 | 108 | 109 | 116);
        assert_eq!(c["fields"].is_array(), has_fields, "{id}: {c}");
        if matches!(id, 110..=112) {
            assert!(c["next_try"].is_string(), "{id}");
        }
        if matches!(id, 102..=105) {
            assert!(c["expire"].is_string(), "{id}");
        }
    }
    let otp = &app.conn(104).await["fields"][0];
    assert_eq!(
        otp,
        &json!({"name": "otp", "label": "Code received by SMS", "type": "text", "required": true,
                "regex": "^[0-9]{6}$", "values": null, "description": null,
                "auth_mechanisms": ["credentials"], "connector_sources": null})
    );
    let kinds: Vec<_> = app.conn(116).await["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["text", "password", "date", "list", "number", "hidden"]
    );
    assert_eq!(
        app.conn(105).await["error_message"],
        "Open the Banque Exemple app to approve access"
    );
    let multi = app.conn(115).await;
    let sources: Vec<_> = multi["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].clone(), s["state"].clone()))
        .collect();
    assert_eq!(
        sources,
        [
            (json!("openapi"), json!("SCARequired")),
            (json!("directaccess"), Value::Null)
        ]
    );
}

#[tokio::test]
async fn the_right_otp_repairs_the_connection() {
    let app = app().await;
    let (status, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "123456"}))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
    assert_eq!(c["error"], Value::Null);
    assert_eq!(c["fields"], Value::Null);
    assert!(c["last_update"].is_string());
}

#[tokio::test]
async fn a_wrong_otp_keeps_the_state_with_the_tries_left() {
    let app = app().await;
    let (status, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "000000"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "additionalInformationNeeded");
    assert_eq!(c["error_message"], "Incorrect code, 2 tries left");
    let (_, c) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "000001"}))
        .await;
    assert_eq!(c["error_message"], "Incorrect code, 1 try left");
    let (status, body) = app
        .post("/2.0/users/me/connections/104", json!({"otp": "12ab"}))
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn unknown_body_keys_are_refused() {
    let app = app().await;
    let (status, body) = app
        .post("/2.0/users/me/connections/104", json!({"pin": "1234"}))
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "invalidValue");
}

#[tokio::test]
async fn wrong_credentials_answer_400_wrongpass_and_right_ones_repair() {
    let app = app().await;
    let (status, body) = app
        .post(
            "/2.0/users/me/connections/109",
            json!({"login": "demo", "password": "nope"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "wrongpass");
    assert!(body["message"].is_string());
    assert_eq!(app.conn(109).await["state"], "wrongpass");
    let (status, c) = app
        .send(
            app.http
                .post(app.url("/2.0/users/me/connections/109"))
                .bearer_auth(&app.token)
                .form(&[("login", "demo"), ("password", "1234")]),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn an_expired_password_needs_the_login_and_a_new_one() {
    let app = app().await;
    let (status, body) = app
        .post(
            "/2.0/users/me/connections/108",
            json!({"login": "someone", "password": "new"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_envelope(&body, "wrongpass");
    assert_eq!(app.conn(108).await["state"], "passwordExpired");
    let (status, c) = app
        .post(
            "/2.0/users/me/connections/108",
            json!({"login": "demo", "password": "s3cret!"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn every_field_type_is_checked() {
    let app = app().await;
    let good = json!({"customer_number": "12345678", "pin": "4321", "birth_date": "1990-05-17",
                      "website": "pro", "amount": 12.5});
    for (key, bad) in [
        ("customer_number", json!("1234")),
        ("birth_date", json!("17/05/1990")),
        ("website", json!("other")),
        ("amount", json!("lots")),
    ] {
        let mut body = good.clone();
        body[key] = bad;
        let (status, err) = app.post("/2.0/users/me/connections/116", body).await;
        assert_eq!(status, 400, "{key}");
        assert_envelope(&err, "invalidValue");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("pin");
    let (status, err) = app.post("/2.0/users/me/connections/116", missing).await;
    assert_eq!(status, 400);
    assert_envelope(&err, "missingParameter");
    let (status, c) = app.post("/2.0/users/me/connections/116", good).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn background_resume_validates_until_approved_in_the_bank_app() {
    let app = app().await;
    let (status, c) = app
        .post(
            "/2.0/users/me/connections/105?background=true",
            json!({"resume": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "validating");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.conn(105).await["state"], "validating");
    let (status, _, page) = app.browse(&app.url("/bank/app")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-connection=\"105\""), "{page}");
    assert!(page.contains("Banque Exemple"));
    let (status, loc, _) = app
        .submit(
            &app.url("/bank/app"),
            &[("connection", "105"), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(loc.unwrap().contains("/bank/app"));
    let c = app.conn(105).await;
    assert_eq!(c["state"], Value::Null);
    assert!(c["last_update"].is_string());
}

#[tokio::test]
async fn refusing_in_the_bank_app_goes_back_to_decoupled() {
    let app = app().await;
    app.post(
        "/2.0/users/me/connections/105?background=true",
        json!({"resume": "true"}),
    )
    .await;
    app.submit(
        &app.url("/bank/app"),
        &[("connection", "105"), ("decision", "refuse")],
    )
    .await;
    let c = app.conn(105).await;
    assert_eq!(c["state"], "decoupled");
    assert_eq!(c["error_message"], "Access refused in the bank app");
}

#[tokio::test]
async fn a_blocking_resume_gives_up_after_the_limit_still_decoupled() {
    let app = app().await;
    let start = Instant::now();
    let (status, c) = app
        .post("/2.0/users/me/connections/105", json!({"resume": true}))
        .await;
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(550));
    assert_eq!(c["state"], "decoupled");
    assert!(c["expire"].is_string());
}

#[tokio::test]
async fn a_blocking_resume_returns_once_approved() {
    let app = app().await;
    let approver = {
        let http = app.http.clone();
        let url = app.url("/bank/app");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            http.post(url)
                .form(&[("connection", "105"), ("decision", "approve")])
                .send()
                .await
                .unwrap();
        })
    };
    let (status, c) = app
        .post("/2.0/users/me/connections/105", json!({"resume": true}))
        .await;
    approver.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn an_unapproved_background_resume_expires_back_to_decoupled() {
    let app = app_with(|cfg| cfg.approval_expiry = Duration::from_millis(300)).await;
    app.post(
        "/2.0/users/me/connections/105?background=true",
        json!({"resume": true}),
    )
    .await;
    let c = app.until(105, |c| c["state"] != "validating").await;
    assert_eq!(c["state"], "decoupled");
    assert!(c["error_message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn sca_sync_with_the_user_present_asks_for_an_approval_that_comes_by_itself() {
    let app = app().await;
    let (status, c) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/102?psu_requested=false"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["state"], "SCARequired");
    let (_, c) = app
        .send(
            app.http
                .put(app.url("/2.0/users/me/connections/102"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(c["state"], "decoupled");
    let (_, c) = app
        .post("/2.0/users/me/connections/102", json!({"resume": true}))
        .await;
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn validating_turns_fine_by_itself() {
    let app = app().await;
    assert_eq!(app.conn(106).await["state"], "validating");
    app.until(106, |c| c["state"].is_null()).await;
}

#[tokio::test]
async fn a_background_submission_validates_then_settles() {
    let app = app().await;
    let (_, c) = app
        .post(
            "/2.0/users/me/connections/104?background=true",
            json!({"otp": "123456"}),
        )
        .await;
    assert_eq!(c["state"], "validating");
    app.until(104, |c| c["state"].is_null()).await;
}

#[tokio::test]
async fn action_needed_is_fine_after_accepting_terms_and_a_sync() {
    let app = app().await;
    let (_, c) = app.post("/2.0/users/me/connections/107", json!({})).await;
    assert_eq!(c["state"], "actionNeeded");
    app.submit(
        &app.url("/bank/app"),
        &[("connection", "107"), ("decision", "accept_terms")],
    )
    .await;
    let (_, c) = app.post("/2.0/users/me/connections/107", json!({})).await;
    assert_eq!(c["state"], Value::Null);
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let app = app().await;
    let (status, _) = app
        .send(
            app.http
                .delete(app.url("/2.0/users/me/connections/113"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get("/2.0/users/me/connections/113").await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------- webauth

fn webauth_path(id: i64, state: &str) -> String {
    format!(
        "/2.0/webauth-url?client_id={DEMO_CLIENT_ID}&id_connection={id}&redirect_uri={}&state={state}",
        REDIRECT.replace(':', "%3A").replace('/', "%2F")
    )
}

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

// ---------------------------------------------------------------- reconnect webview

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

// ---------------------------------------------------------------- faults and log

#[tokio::test]
async fn faults_server_error_and_rate_limit() {
    let app = app().await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    let (status, body) = app.get("/2.0/users/me/connections/101").await;
    assert_eq!(status, 500);
    assert_envelope(&body, "bug");
    // HTML pages and control routes are never faulted.
    assert_eq!(app.browse(&app.url("/bank/app")).await.0, 200);
    let res = app
        .http
        .put(app.url("/_sandbox/faults"))
        .json(&json!({"kind": {"RateLimited": {"retry_after_secs": 7}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    app.sb.sandbox.set_faults(Faults {
        fraction: 0.0,
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    assert_eq!(app.get("/2.0/users/me/connections/101").await.0, 200);
}

#[tokio::test]
async fn faults_malformed_json_drop_latency_and_timeout() {
    let app = app().await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::MalformedJson),
        ..Faults::default()
    });
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.json::<Value>().await.is_err());

    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::Drop),
        ..Faults::default()
    });
    let dropped = async {
        app.http
            .get(app.url("/2.0/users/me/connections/101"))
            .bearer_auth(&app.token)
            .send()
            .await?
            .bytes()
            .await
    };
    assert!(dropped.await.is_err());

    app.sb.sandbox.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let start = Instant::now();
    assert_eq!(app.get("/2.0/users/me/connections/101").await.0, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::Timeout),
        ..Faults::default()
    });
    let res = app
        .http
        .get(app.url("/2.0/users/me/connections/101"))
        .bearer_auth(&app.token)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(res.unwrap_err().is_timeout());
}

#[tokio::test]
async fn the_request_log_records_method_path_query_raw_body_user_and_status() {
    let app = app().await;
    app.sb.sandbox.clear_requests();
    app.send(
        app.http
            .post(app.url("/2.0/users/me/connections/104?background=true"))
            .bearer_auth(&app.token)
            .form(&[("otp", "123456")]),
    )
    .await;
    app.send(app.http.get(app.url("/2.0/users/me/connections/101")))
        .await;
    // Control routes and pages are not logged.
    app.browse(&app.url("/bank/app")).await;
    let log: Vec<HashMap<String, Value>> = app
        .http
        .get(app.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/2.0/users/me/connections/104");
    assert_eq!(log[0]["query"], "background=true");
    assert_eq!(log[0]["body"], "otp=123456");
    assert_eq!(log[0]["user"], 1);
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[1]["user"], Value::Null);
    assert_eq!(log[1]["status"], 401);
    let res = app
        .http
        .delete(app.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.sb.sandbox.requests().is_empty());
}

#[tokio::test]
async fn a_fault_mix_fails_in_each_way_and_slow_answers_arrive_late() {
    let app = app().await;
    // Set over HTTP, as a soak does: every request faulted, one kind of the mix each.
    let res = app
        .http
        .put(app.url("/_sandbox/faults"))
        .json(
            &json!({"mix": ["ServerError", {"RateLimited": {"retry_after_secs": 3}},
                              "MalformedJson", {"Slow": {"latency_ms": 300}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let started = std::time::Instant::now();
        let res = app
            .http
            .get(app.url("/2.0/users/me/connections/101"))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let json = res.json::<Value>().await.ok();
        let what = match (status, json) {
            (500, _) => "server error",
            (429, _) => "rate limited",
            (200, None) => "garbage",
            (200, Some(c)) if c["id"] == 101 => {
                assert!(started.elapsed() >= Duration::from_millis(300), "not slow");
                "slow"
            }
            other => panic!("not a fault of the mix: {other:?}"),
        };
        seen.insert(what);
        if seen.len() == 4 {
            break;
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[tokio::test]
async fn the_request_log_reads_on_from_a_sequence_number() {
    let app = app().await;
    app.get("/2.0/users/me/connections/101").await;
    let first = app.sb.sandbox.requests();
    let last = first.last().unwrap().seq;
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
    app.get("/2.0/users/me/connections/102").await;
    let after: Vec<Value> = app
        .http
        .get(app.url(&format!("/_sandbox/requests?after={last}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["path"], "/2.0/users/me/connections/102");
    assert_eq!(after[0]["seq"], last + 1);
    // A clear empties the log but never reuses a number.
    app.sb.sandbox.clear_requests();
    app.get("/2.0/users/me/connections/101").await;
    assert_eq!(app.sb.sandbox.requests()[0].seq, last + 2);
}

#[tokio::test]
async fn reset_restores_the_demo_data_set() {
    let app = app().await;
    app.post("/2.0/users/me/connections/104", json!({"otp": "123456"}))
        .await;
    app.sb.sandbox.set_faults(Faults {
        kind: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    let res = app
        .http
        .post(app.url("/_sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.sb.sandbox.requests().is_empty());
    assert_eq!(app.sb.sandbox.faults(), Faults::default());
    let token = app.renew(DEMO_USER_ID, false).await;
    let (_, c) = app
        .send(
            app.http
                .get(app.url("/2.0/users/me/connections/104"))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(c["state"], "additionalInformationNeeded");
    let demo: Vec<Value> = app
        .http
        .get(app.url("/_sandbox/connections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(demo.len(), 25);
    assert_eq!(demo[0]["id"], 101);
    assert!(demo[0]["title"].is_string() && demo[0]["explanation"].is_string());
    assert_eq!(
        app.sb
            .sandbox
            .connection(105)
            .unwrap()
            .connector
            .unwrap()
            .name,
        "Banque Exemple"
    );
}

// ---------------------------------------------------------------- more routes

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
