//! The spawned sandbox and its client, and the assertions every area shares.

use mend_sandbox::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, DEMO_USER_ID, SandboxConfig, SpawnedSandbox,
    spawn,
};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub(crate) const REDIRECT: &str = "https://app.example/bank/return";

pub(crate) struct TestApp {
    pub(crate) sb: SpawnedSandbox,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

/// Fast timings for tests.
pub(crate) fn fast(cfg: &mut SandboxConfig) {
    cfg.decoupled_delay = Duration::from_millis(200);
    cfg.validating_delay = Duration::from_millis(200);
    cfg.blocking_limit = Duration::from_millis(600);
    cfg.fault_hang = Duration::from_secs(3);
}

pub(crate) async fn app_with(configure: impl FnOnce(&mut SandboxConfig)) -> TestApp {
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

pub(crate) async fn app() -> TestApp {
    app_with(|_| {}).await
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.url)
    }

    pub(crate) async fn renew(&self, user: i64, revoke: bool) -> String {
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

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
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

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token))
            .await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    pub(crate) async fn conn(&self, id: i64) -> Value {
        let (status, body) = self
            .get(&format!(
                "/2.0/users/me/connections/{id}?expand=connector,sources"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub(crate) async fn code(&self, kind: &str) -> String {
        let (status, body) = self.get(&format!("/2.0/auth/token/code?type={kind}")).await;
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().unwrap().to_owned()
    }

    /// Polls a connection until `pred` holds (or fails after 5 s).
    pub(crate) async fn until(&self, id: i64, pred: impl Fn(&Value) -> bool) -> Value {
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
    pub(crate) async fn browse(&self, url: &str) -> (u16, Option<String>, String) {
        let res = self.http.get(url).send().await.unwrap();
        let status = res.status().as_u16();
        let loc = location(&res);
        (status, loc, res.text().await.unwrap())
    }

    /// A browser form POST; returns status and `Location`.
    pub(crate) async fn submit(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> (u16, Option<String>, String) {
        let res = self.http.post(url).form(form).send().await.unwrap();
        let status = res.status().as_u16();
        let loc = location(&res);
        (status, loc, res.text().await.unwrap())
    }

    pub(crate) fn webview_url(&self, code: &str, id: i64, state: Option<&str>) -> String {
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
    pub(crate) async fn open_webview(&self, id: i64, state: &str) -> String {
        let code = self.code("singleAccess").await;
        let (status, loc, body) = self.browse(&self.webview_url(&code, id, Some(state))).await;
        assert_eq!(status, 303, "{body}");
        loc.unwrap()
    }
}

pub(crate) fn serde_urlencoded_pairs(q: &[(&str, String)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(q);
    url.query().unwrap_or("").to_owned()
}

pub(crate) fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The query of a redirect target, as pairs in order.
pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn keys(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

pub(crate) fn assert_envelope(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["description"].is_string(), "{body}");
    assert!(body.get("message").is_some(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
}

/// The webauth-url path of connection `id` with `state`.
pub(crate) fn webauth_path(id: i64, state: &str) -> String {
    format!(
        "/2.0/webauth-url?client_id={DEMO_CLIENT_ID}&id_connection={id}&redirect_uri={}&state={state}",
        REDIRECT.replace(':', "%3A").replace('/', "%2F")
    )
}
