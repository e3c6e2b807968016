//! The proxy's HTTP API end to end: a real `mend-proxy` on port 0 in sandbox mode
//! (the Powens simulator in-process), driven over HTTP. One binary, names that read
//! as specs. Timings (poll interval, upstream timeout, sandbox delays) are shortened
//! so the whole suite stays fast.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use mend_model::api::{CallbackResult, ConnectionStatus, ErrorBody, RedirectUrl};
use mend_proxy::config::PowensConfig;
use mend_proxy::session::SessionKeys;
use mend_proxy::{Config, Upstream};
use mend_sandbox::{FaultKind, Faults, Sandbox};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

const SECRET: &str = "test-session-secret-0123456789abcdef";

/// The key a sandbox-mode proxy given `SECRET` signs sessions with (see
/// `mend_proxy::sandbox_session_key`): what a test crafting its own tokens must use.
fn sandbox_key() -> Vec<u8> {
    use secrecy::ExposeSecret as _;
    mend_proxy::sandbox_session_key(&SecretString::from(SECRET))
        .expose_secret()
        .as_bytes()
        .to_vec()
}
const RETURN: &str = "https://app.example/bank/return";
const ORIGIN: &str = "https://app.example";
const POLL: Duration = Duration::from_millis(200);

// --- log capture -------------------------------------------------------------------

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .without_time()
            .with_env_filter("debug,mend_proxy=trace,mend_sandbox=trace")
            .try_init();
    });
}

fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

// --- the test app ------------------------------------------------------------------

struct TestApp {
    base: String,
    client: reqwest::Client,
    sandbox: Sandbox,
    keys: SessionKeys,
    metrics: mend_proxy::metrics::Metrics,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _widget_dir: Option<TempDir>,
}

/// A folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "mend-proxy-test-{}",
            B64.encode(b).replace(['-', '_'], "x")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fast_sandbox(cfg: &mut mend_sandbox::SandboxConfig) {
    cfg.decoupled_delay = Duration::from_millis(300);
    cfg.validating_delay = Duration::from_millis(300);
    cfg.blocking_limit = Duration::from_secs(2);
    cfg.fault_hang = Duration::from_secs(3);
}

fn test_config() -> Config {
    let mut cfg = Config::sandbox(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.session_secret = Some(SecretString::from(SECRET));
    cfg.poll_interval = POLL;
    cfg.upstream_timeout = Duration::from_millis(800);
    cfg.retry_backoff = Duration::from_millis(10);
    cfg.rate_limit_per_ip = 100_000;
    cfg.rate_limit_per_session = 100_000;
    cfg.redirect_uris = Some(vec![RETURN.to_owned()]);
    cfg.allowed_origins = vec![ORIGIN.to_owned()];
    cfg.widget_dir = PathBuf::from("/nonexistent/mend-widget");
    cfg.sandbox_setup = Some(fast_sandbox);
    cfg
}

async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut cfg = test_config();
    adjust(&mut cfg);
    spawn_config(cfg, None).await
}

async fn spawn_config(cfg: Config, sandbox: Option<Sandbox>) -> TestApp {
    init_logs();
    let app = mend_proxy::build(cfg).await.expect("the proxy builds");
    let base = format!("http://{}", app.local_addr());
    let sandbox = sandbox
        .or_else(|| app.sandbox().cloned())
        .expect("a sandbox");
    let keys = app.session_keys().clone();
    let metrics = app.metrics().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        sandbox,
        keys,
        metrics,
        stop: Some(tx),
        server,
        _widget_dir: None,
    }
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn status_body(&self) -> ConnectionStatus {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not a status ({e}): {}", self.text))
    }
    /// Asserts the error envelope with `code` and `status`; returns it.
    fn error(&self, status: u16, code: &str) -> ErrorBody {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let body: ErrorBody = serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not the envelope ({e}): {}", self.text));
        assert_eq!(body.error.code.as_str(), code, "{}", self.text);
        assert!(!body.error.message.is_empty());
        let header_id = self
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert!(header_id.is_some(), "x-request-id header");
        assert_eq!(
            body.error.request_id, header_id,
            "request id in body and header agree"
        );
        body
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    fn session(&self, user: i64, connections: Option<Vec<i64>>, ttl: Duration) -> String {
        self.keys.mint(user, connections, ttl)
    }

    /// A session of the demo user for every connection.
    fn demo(&self) -> String {
        self.session(1, None, Duration::from_secs(600))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.send().await.expect("the proxy answers");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        // Whatever the route and the outcome, no secret ever comes back.
        for secret in [
            SECRET,
            mend_sandbox::DEMO_CLIENT_SECRET,
            "access_token",
            "Bearer ",
        ] {
            assert!(!text.contains(secret), "an answer leaks {secret}: {text}");
        }
        Answer {
            status,
            headers,
            text,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    async fn get_connection(&self, id: i64, token: &str) -> Answer {
        self.get(&format!("/api/v1/connections/{id}"), Some(token))
            .await
    }

    async fn wait_connection(&self, id: i64, token: &str, wait: u64, since: &str) -> Answer {
        self.get(
            &format!("/api/v1/connections/{id}?wait={wait}&since={since}"),
            Some(token),
        )
        .await
    }

    async fn submit_fields(&self, id: i64, token: &str, values: Value) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/fields"),
            token,
            json!({ "values": values }),
        )
        .await
    }

    async fn resume(&self, id: i64, token: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/resume"),
            token,
            json!({}),
        )
        .await
    }

    async fn sync(&self, id: i64, token: &str) -> Answer {
        self.post(&format!("/api/v1/connections/{id}/sync"), token, json!({}))
            .await
    }

    async fn reconnect_url(&self, id: i64, token: &str, redirect_uri: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/reconnect-url"),
            token,
            json!({"redirect_uri": redirect_uri, "lang": "fr"}),
        )
        .await
    }

    async fn webauth_url(&self, id: i64, token: &str, redirect_uri: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/webauth-url"),
            token,
            json!({"redirect_uri": redirect_uri}),
        )
        .await
    }

    async fn callback(&self, token: &str, body: Value) -> Answer {
        self.post("/api/v1/callback", token, body).await
    }

    /// Upstream requests whose path ends with `suffix` (and method, if given).
    fn upstream_count(&self, method: &str, suffix: &str) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    /// Gets a Powens token for the demo user cached before faults are switched on.
    async fn warm_up(&self) {
        self.get_connection(101, &self.demo()).await.status_body();
        self.sandbox.clear_requests();
    }

    async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.server).await.expect("the server task ends")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A hand-made JWT: `alg` is written in the header as given; HS256/HS512 are signed
/// with `key`, anything else gets an empty signature.
fn craft_jwt(alg: &str, claims: &Value, key: &[u8]) -> String {
    let header = B64.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let payload = B64.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let sig = match alg {
        "HS256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(signed.as_bytes());
            B64.encode(m.finalize().into_bytes())
        }
        "HS512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            m.update(signed.as_bytes());
            B64.encode(m.finalize().into_bytes())
        }
        _ => String::new(),
    };
    format!("{signed}.{sig}")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// --- sessions ----------------------------------------------------------------------

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
async fn readiness_probes_are_shared_so_anyone_probing_cannot_hammer_powens() {
    let app = spawn_app().await;
    app.sandbox.clear_requests();
    for _ in 0..5 {
        assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    }
    let probes = app
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/2.0/"))
        .count();
    assert_eq!(
        probes, 1,
        "one upstream probe for five /readyz within READY_TTL"
    );
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
    let long_no_iat = json!({"sub": "1", "exp": now() + 7200});
    app.get_connection(101, &craft_jwt("HS256", &long_no_iat, key))
        .await
        .error(401, "unauthorized");
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

// --- status ------------------------------------------------------------------------

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

// --- fields ------------------------------------------------------------------------

#[tokio::test]
async fn the_right_otp_repairs_the_connection() {
    let app = spawn_app().await;
    let s = app
        .submit_fields(104, &app.demo(), json!({"otp": "123456"}))
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
    assert_eq!(app.upstream_count("POST", "/connections/104"), 1);
}

#[tokio::test]
async fn a_value_failing_the_regex_is_refused_and_never_reaches_powens() {
    let app = spawn_app().await;
    let a = app
        .submit_fields(104, &app.demo(), json!({"otp": "12345a"}))
        .await;
    let body = a.error(422, "invalid_fields");
    assert_eq!(
        body.error.fields.unwrap()["otp"],
        mend_model::api::FieldProblem::Pattern
    );
    let body = app
        .submit_fields(104, &app.demo(), json!({}))
        .await
        .error(422, "invalid_fields");
    assert_eq!(
        body.error.fields.unwrap()["otp"],
        mend_model::api::FieldProblem::Required
    );
    assert_eq!(app.upstream_count("POST", "/connections/104"), 0);
}

#[tokio::test]
async fn injected_update_keys_are_refused_and_never_reach_powens() {
    let app = spawn_app().await;
    for key in [
        "active",
        "expire",
        "resume",
        "source",
        "refresh_auth",
        "login",
    ] {
        let body = app
            .submit_fields(104, &app.demo(), json!({"otp": "123456", key: "true"}))
            .await;
        let fields = body.error(422, "invalid_fields").error.fields.unwrap();
        assert_eq!(fields[key], mend_model::api::FieldProblem::Unknown, "{key}");
    }
    // Keys beside `values` are ignored, never forwarded.
    let a = app
        .post(
            "/api/v1/connections/104/fields",
            &app.demo(),
            json!({"values": {"otp": "000000"}, "active": false}),
        )
        .await;
    a.status_body();
    let posted: Vec<_> = app
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/104"))
        .collect();
    assert_eq!(posted.len(), 1);
    assert!(!posted[0].body.contains("active"), "{}", posted[0].body);
}

#[tokio::test]
async fn list_values_must_be_among_the_offered_ones() {
    let app = spawn_app().await;
    let s = app.get_connection(116, &app.demo()).await.status_body();
    let list = s
        .fields
        .iter()
        .find(|f| f.kind == mend_model::FieldType::List)
        .expect("a list field");
    let body = app
        .submit_fields(116, &app.demo(), json!({ list.name.clone(): "nope" }))
        .await;
    let fields = body.error(422, "invalid_fields").error.fields.unwrap();
    assert_eq!(fields[&list.name], mend_model::api::FieldProblem::NotInList);
}

#[tokio::test]
async fn credentials_need_agent_status() {
    let app = spawn_app().await;
    app.submit_fields(
        109,
        &app.demo(),
        json!({"login": "demo", "password": "1234"}),
    )
    .await
    .error(403, "agent_status_required");
    app.submit_fields(
        108,
        &app.demo(),
        json!({"login": "demo", "password": "new"}),
    )
    .await
    .error(403, "agent_status_required");
    assert_eq!(app.upstream_count("POST", "/connections/109"), 0);
}

#[tokio::test]
async fn with_agent_status_wrong_credentials_are_rejected_and_right_ones_repair() {
    let app = spawn_with(|c| c.agent_status = true).await;
    let s = app.get_connection(109, &app.demo()).await.status_body();
    assert!(!s.fields.is_empty(), "the credentials form is offered");
    app.submit_fields(
        109,
        &app.demo(),
        json!({"login": "demo", "password": "nope"}),
    )
    .await
    .error(422, "credentials_rejected");
    let s = app
        .submit_fields(
            109,
            &app.demo(),
            json!({"login": "demo", "password": "1234"}),
        )
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
}

#[tokio::test]
async fn fields_on_a_connection_that_asks_for_none_conflict() {
    let app = spawn_app().await;
    app.submit_fields(101, &app.demo(), json!({"otp": "123456"}))
        .await
        .error(409, "conflict");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_answer_the_envelope() {
    let app = spawn_app().await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/104/fields");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    a.error(400, "bad_request");
    assert!(!a.text.contains("not json"), "the body is not echoed");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(&token)
                .body(r#"{"values":{}}"#),
        )
        .await;
    a.error(400, "bad_request");
    let a = app
        .post(
            "/api/v1/connections/104/fields",
            &token,
            json!({"values": {"otp": 123456}}),
        )
        .await;
    a.error(400, "bad_request");
    assert!(!a.text.contains("123456"));
    let huge = json!({"values": {"otp": "1".repeat(20_000)}});
    app.post("/api/v1/connections/104/fields", &token, huge)
        .await
        .error(413, "payload_too_large");
    assert_eq!(app.upstream_count("POST", "/connections/104"), 0);
}

#[tokio::test]
async fn submissions_are_never_retried() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.get_connection(104, &app.demo()).await.status_body();
    // Fault every request after the fresh GET of the submission: the POST fails.
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
    });
    let a = app.sync(101, &app.demo()).await;
    a.error(502, "upstream_error");
    assert_eq!(
        app.upstream_count("PUT", "/connections/101"),
        1,
        "one try only"
    );
    app.resume(105, &app.demo())
        .await
        .error(502, "upstream_error");
    assert_eq!(app.upstream_count("POST", "/connections/105"), 0);
    assert_eq!(
        app.upstream_count("GET", "/connections/105"),
        3,
        "reads are retried three times"
    );
}

// --- resume, sync ------------------------------------------------------------------

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

// --- redirects and callbacks -------------------------------------------------------

#[tokio::test]
async fn the_reconnect_url_has_the_exact_form_and_a_fresh_code_per_click() {
    let app = spawn_app().await;
    let first: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    let second: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    let prefix = format!(
        "{}/sandbox/webview/fr/reconnect?domain=mend-sandbox.biapi.pro&client_id=10000001&code=",
        app.base
    );
    assert!(first.url.starts_with(&prefix), "{}", first.url);
    let keys: Vec<String> = url::Url::parse(&first.url)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "domain",
            "client_id",
            "code",
            "connection_id",
            "redirect_uri",
            "state"
        ]
    );
    assert!(
        first
            .url
            .contains("redirect_uri=https%3A%2F%2Fapp.example%2Fbank%2Freturn")
    );
    assert_eq!(
        query_param(&first.url, "connection_id").as_deref(),
        Some("102")
    );
    assert_ne!(
        query_param(&first.url, "code"),
        query_param(&second.url, "code")
    );
    assert_ne!(
        query_param(&first.url, "state"),
        query_param(&second.url, "state")
    );
    let minted = app
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/auth/token/code"))
        .collect::<Vec<_>>();
    assert_eq!(minted.len(), 2);
    assert!(minted.iter().all(|r| r.query.contains("type=singleAccess")));
}

#[tokio::test]
async fn a_redirect_uri_not_allow_listed_is_refused_before_minting_a_code() {
    let app = spawn_app().await;
    for uri in [
        "https://evil.example/steal",
        "https://app.example/bank/return?x=1",
        "https://app.example/bank/return/",
    ] {
        app.reconnect_url(102, &app.demo(), uri)
            .await
            .error(422, "redirect_not_allowed");
        app.webauth_url(103, &app.demo(), uri)
            .await
            .error(422, "redirect_not_allowed");
    }
    assert!(app.sandbox.requests().is_empty());
    let a = app
        .post(
            "/api/v1/connections/102/reconnect-url",
            &app.demo(),
            json!({"redirect_uri": RETURN, "lang": "xx"}),
        )
        .await;
    a.error(400, "bad_request");
}

#[tokio::test]
async fn a_full_reconnect_comes_back_completed_and_the_connection_is_fine() {
    let app = spawn_app().await;
    let token = app.demo();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
    // The simulated webview: open it, follow to its page, confirm.
    let page = app.client.get(&r.url).send().await.unwrap();
    let (page_url, html) = if page.status().is_redirection() {
        let loc = page.headers()["location"].to_str().unwrap().to_owned();
        let loc = if loc.starts_with('/') {
            app.url(&loc)
        } else {
            loc
        };
        (
            loc.clone(),
            app.client
                .get(&loc)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
    } else {
        (r.url.clone(), page.text().await.unwrap())
    };
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("a form on {page_url}: {html}"))
        .replace("&amp;", "&");
    let done = app
        .client
        .post(&action)
        .form(&[("action", "confirm")])
        .send()
        .await
        .unwrap();
    let back = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(RETURN), "{back}");
    let state = query_param(&back, "state").expect("state comes back");
    let a = app.callback(&token, json!({"state": state})).await;
    let result: CallbackResult =
        serde_json::from_str(&a.text).unwrap_or_else(|e| panic!("{e}: {}", a.text));
    assert_eq!(result.connection_id, 102);
    assert_eq!(result.outcome, mend_model::api::CallbackOutcome::Completed);
    assert!(result.status.state.is_none(), "{:?}", result.status);
    // The same return presented twice is a replay.
    app.callback(&token, json!({"state": state}))
        .await
        .error(422, "invalid_state");
}

#[tokio::test]
async fn a_full_webauth_comes_back_with_the_connection_id() {
    let app = spawn_app().await;
    let token = app.demo();
    let a = app.webauth_url(103, &token, RETURN).await;
    let r: RedirectUrl =
        serde_json::from_str(&a.text).unwrap_or_else(|e| panic!("{e}: {}", a.text));
    assert_eq!(r.kind, mend_model::api::RedirectKind::Webauth);
    let ticket = query_param(&r.url, "ticket").expect("a bank ticket");
    let done = app
        .client
        .post(app.url("/sandbox/bank/authorize"))
        .form(&[("ticket", ticket.as_str()), ("decision", "authorize")])
        .send()
        .await
        .unwrap();
    let back = done.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(query_param(&back, "id_connection").as_deref(), Some("103"));
    let state = query_param(&back, "state").unwrap();
    let result: CallbackResult = serde_json::from_str(
        &app.callback(&token, json!({"state": state, "id_connection": "103"}))
            .await
            .text,
    )
    .unwrap();
    assert_eq!(result.outcome, mend_model::api::CallbackOutcome::Completed);
    assert!(result.status.state.is_none());
    app.webauth_url(101, &token, RETURN)
        .await
        .error(409, "conflict");
}

#[tokio::test]
async fn forged_replayed_and_foreign_states_are_invalid() {
    let app = spawn_app().await;
    let token = app.demo();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
    let state = query_param(&r.url, "state").unwrap();
    app.callback(&token, json!({}))
        .await
        .error(422, "invalid_state");
    app.callback(&token, json!({"state": "v1.e30.AAAA"}))
        .await
        .error(422, "invalid_state");
    let tampered = format!("{}x", &state[..state.len() - 1]);
    app.callback(&token, json!({"state": tampered}))
        .await
        .error(422, "invalid_state");
    // Another user presenting user 1's state.
    let other = app.session(2, None, Duration::from_secs(60));
    app.callback(&other, json!({"state": state}))
        .await
        .error(422, "invalid_state");
    // A state for 102 coming back claiming another connection.
    app.callback(&token, json!({"state": state, "id_connection": "103"}))
        .await
        .error(422, "invalid_state");
    // A session limited to other connections.
    let limited = app.session(1, Some(vec![104]), Duration::from_secs(60));
    app.callback(&limited, json!({"state": state}))
        .await
        .error(422, "invalid_state");
    // Still unused: the owner redeems it once, then never again.
    let first = app.callback(&token, json!({"state": state})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    app.callback(&token, json!({"state": state}))
        .await
        .error(422, "invalid_state");
}

#[tokio::test]
async fn access_denied_is_cancelled_and_other_errors_failed() {
    let app = spawn_app().await;
    let token = app.demo();
    for (error, outcome) in [
        ("access_denied", "cancelled"),
        ("server_error", "failed"),
        ("<script>", "failed"),
    ] {
        let r: RedirectUrl =
            serde_json::from_str(&app.reconnect_url(102, &token, RETURN).await.text).unwrap();
        let state = query_param(&r.url, "state").unwrap();
        let a = app
            .callback(
                &token,
                json!({"state": state, "error": error, "error_description": "Détails internes"}),
            )
            .await;
        let v = a.json();
        assert_eq!(v["outcome"], outcome, "{}", a.text);
        assert_eq!(v["connection_id"], 102);
        assert!(
            !a.text.contains("<script>") && !a.text.contains("internes"),
            "{}",
            a.text
        );
    }
}

// --- watching ----------------------------------------------------------------------

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_the_state_changes() {
    let app = spawn_app().await;
    let token = app.demo();
    // 102: a sync asks for an approval the simulated user gives after 300 ms; the
    // resumed connection validates until then, then is fine.
    let s = app.sync(102, &token).await.status_body();
    assert_eq!(s.state.as_ref().map(|s| s.as_str()), Some("decoupled"));
    let s = app.resume(102, &token).await.status_body();
    assert_eq!(s.state.as_ref().map(|s| s.as_str()), Some("validating"));
    let started = Instant::now();
    let s = app
        .wait_connection(102, &token, 10, "validating")
        .await
        .status_body();
    assert!(s.state.is_none(), "{s:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_long_poll_without_change_answers_the_current_status_after_the_wait() {
    let app = spawn_app().await;
    let started = Instant::now();
    let s = app
        .wait_connection(101, &app.demo(), 1, "ok")
        .await
        .status_body();
    assert!(s.state.is_none());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // A different `since` answers at once.
    let started = Instant::now();
    app.wait_connection(101, &app.demo(), 10, "validating")
        .await
        .status_body();
    assert!(started.elapsed() < Duration::from_secs(1));
    // Waits over 30 s are capped, not refused; a bad `wait` is a bad request.
    app.get("/api/v1/connections/101?wait=abc", Some(&app.demo()))
        .await
        .error(400, "bad_request");
    app.get(
        "/api/v1/connections/999999?wait=5&since=ok",
        Some(&app.demo()),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_waiters_share_one_poller_and_it_stops_when_they_leave() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    let window = Duration::from_secs(2);
    let started = Instant::now();
    let waits =
        (0..50).map(|_| app.wait_connection(114, &token, window.as_secs(), "someFutureState"));
    let answers = futures_util::future::join_all(waits).await;
    let elapsed = started.elapsed();
    for a in &answers {
        a.status_body();
    }
    let gets = app.upstream_count("GET", "/connections/114");
    let bound = (elapsed.as_millis() / POLL.as_millis()) as usize + 1;
    assert!(
        gets <= bound,
        "{gets} upstream GETs in {elapsed:?} (bound {bound})"
    );
    assert!(gets >= 2, "it did poll: {gets}");
    tokio::time::sleep(POLL * 4).await;
    let after = app.upstream_count("GET", "/connections/114");
    assert!(after <= gets + 1, "the poller stopped: {gets} then {after}");
    tokio::time::sleep(POLL * 3).await;
    assert_eq!(
        app.upstream_count("GET", "/connections/114"),
        after,
        "no polling when nobody waits"
    );
}

// --- upstream ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_first_requests_share_one_token_renewal() {
    let app = spawn_app().await;
    let token = app.demo();
    let gets = (0..100).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.status_body();
    }
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 1);
    assert_eq!(app.metrics.counter("mend_token_renewals_total", ""), 1);
}

#[tokio::test]
async fn a_token_powens_no_longer_accepts_is_renewed_once() {
    let app = spawn_app().await;
    app.warm_up().await;
    // Someone revokes the user's tokens (a renewal with revoke_previous=true).
    let res = app
        .client
        .post(app.url("/sandbox/2.0/auth/renew"))
        .json(&json!({"grant_type": "client_credentials", "client_id": mend_sandbox::DEMO_CLIENT_ID,
                      "client_secret": mend_sandbox::DEMO_CLIENT_SECRET, "id_user": 1, "revoke_previous": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    app.get_connection(101, &app.demo()).await.status_body();
    let log = app.sandbox.requests();
    let statuses: Vec<_> = log
        .iter()
        .filter(|r| r.path.ends_with("/connections/101"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [401, 200]);
    assert_eq!(
        app.upstream_count("POST", "/auth/renew"),
        2,
        "the test's and the proxy's"
    );
}

#[tokio::test]
async fn powens_failing_answers_502_after_three_tries_without_its_internals() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
    });
    let a = app.get_connection(101, &app.demo()).await;
    a.error(502, "upstream_error");
    assert!(!a.text.contains("bug"), "{}", a.text);
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

#[tokio::test]
async fn a_slow_powens_answers_504() {
    let app = spawn_with(|c| c.upstream_timeout = Duration::from_millis(300)).await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::Timeout),
    });
    let started = Instant::now();
    app.get_connection(101, &app.demo())
        .await
        .error(504, "upstream_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn powens_throttling_is_retried_after_a_short_retry_after_then_answers_503() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::RateLimited {
            retry_after_secs: 60,
        }),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    assert_eq!(
        app.upstream_count("GET", "/connections/101"),
        1,
        "a 60 s Retry-After is not waited for"
    );
    app.sandbox.clear_requests();
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::RateLimited {
            retry_after_secs: 0,
        }),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

#[tokio::test]
async fn malformed_json_and_dropped_connections_answer_the_envelope() {
    let app = spawn_app().await;
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::MalformedJson),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(502, "upstream_error");
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::Drop),
    });
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &app.demo()).await.status_body();
}

#[tokio::test]
async fn an_unreachable_powens_is_unavailable_and_not_ready() {
    // Powens mode pointed at a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = test_config();
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: format!("http://{closed}/2.0"),
        client_id: "1".into(),
        client_secret: SecretString::from("unused-secret"),
        webview_url: "https://webview.example".into(),
        domain: "x.biapi.pro".into(),
    });
    let sandbox = Sandbox::new(mend_sandbox::SandboxConfig::demo("http://unused"));
    let app = spawn_config(cfg, Some(sandbox)).await;
    app.get_connection(101, &app.demo())
        .await
        .error(503, "upstream_unavailable");
    app.get("/readyz", None)
        .await
        .error(503, "upstream_unavailable");
    app.get("/api/v1/demo/connections", None)
        .await
        .error(404, "not_found");
    app.get("/api/v1/demo/session", None)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn in_powens_mode_the_proxy_uses_the_configured_api_and_webview() {
    let spawned = mend_sandbox::spawn(fast_sandbox).await.unwrap();
    let mut cfg = test_config();
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: spawned.api_url(),
        client_id: mend_sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(mend_sandbox::DEMO_CLIENT_SECRET),
        webview_url: "https://webview.example".into(),
        domain: mend_sandbox::DEMO_DOMAIN.into(),
    });
    let app = spawn_config(cfg, Some(spawned.sandbox.clone())).await;
    app.get_connection(104, &app.demo()).await.status_body();
    let r: RedirectUrl =
        serde_json::from_str(&app.reconnect_url(102, &app.demo(), RETURN).await.text).unwrap();
    assert!(
        r.url
            .starts_with("https://webview.example/fr/reconnect?domain=mend-sandbox.biapi.pro&"),
        "{}",
        r.url
    );
    app.get("/readyz", None).await;
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 1);
}

// --- hardening ---------------------------------------------------------------------

#[tokio::test]
async fn cors_allows_the_configured_origins_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                app.url("/api/v1/connections/101/fields"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
    };
    let ok = app.send(preflight(ORIGIN)).await;
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    let evil = app.send(preflight("https://evil.example")).await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let get = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .bearer_auth(app.demo())
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(get.header("access-control-allow-origin"), None);
    let get = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .bearer_auth(app.demo())
                .header("origin", ORIGIN),
        )
        .await;
    assert_eq!(get.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_with(|c| c.rate_limit_per_session = 3).await;
    let token = app.demo();
    for _ in 0..3 {
        app.get_connection(101, &token).await.status_body();
    }
    let a = app.get_connection(101, &token).await;
    let body = a.error(429, "rate_limited");
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(body.error.retry_after, Some(retry));
    // Another user is not affected.
    app.get_connection(201, &app.session(2, None, Duration::from_secs(60)))
        .await
        .status_body();

    let app = spawn_with(|c| c.rate_limit_per_ip = 2).await;
    app.get("/api/v1/connections/101", None)
        .await
        .error(401, "unauthorized");
    app.get("/api/v1/connections/101", None)
        .await
        .error(401, "unauthorized");
    app.get("/api/v1/connections/101", None)
        .await
        .error(429, "rate_limited");
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::OK,
        "health is not limited"
    );
}

#[tokio::test]
async fn request_ids_are_kept_when_plain_and_replaced_otherwise() {
    let app = spawn_app().await;
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(
        a.error(401, "unauthorized").error.request_id.as_deref(),
        Some("abc-123")
    );
    let a = app
        .send(
            app.client
                .get(app.url("/api/v1/connections/101"))
                .header("x-request-id", "bad id\twith junk"),
        )
        .await;
    let id = a.error(401, "unauthorized").error.request_id.unwrap();
    assert_ne!(id, "bad id\twith junk");
    assert!(captured_logs().contains("abc-123"), "the id is in the logs");
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let h = app.get("/healthz", None).await;
    assert_eq!((h.status, h.text.trim()), (StatusCode::OK, "ok"));
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    app.get_connection(101, &app.demo()).await.status_body();
    let m = app.get("/metrics", None).await;
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        m.text.contains(
            "mend_http_requests_total{route=\"/api/v1/connections/{id}\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("mend_upstream_requests_total{op=\"get_connection\",outcome=\"ok\"} 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains("mend_token_renewals_total 1"));
}

#[tokio::test]
async fn the_demo_routes_exist_in_sandbox_mode() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/demo/connections", None).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&101) && ids.contains(&116) && !ids.contains(&201));
    let s = app
        .get("/api/v1/demo/session?connection=104", None)
        .await
        .json();
    let token = s["session"].as_str().unwrap();
    app.get_connection(104, token).await.status_body();
    app.get_connection(105, token).await.error(404, "not_found");
}

#[tokio::test]
async fn the_widget_is_served_with_types_caching_csp_and_cors() {
    let dir = TempDir::new();
    std::fs::write(
        dir.0.join("index.html"),
        "<!doctype html><title>Mend</title>",
    )
    .unwrap();
    std::fs::write(dir.0.join("mend.js"), "export default 1;").unwrap();
    std::fs::create_dir_all(dir.0.join("snippets")).unwrap();
    std::fs::write(dir.0.join("snippets/index.html"), "<!doctype html>").unwrap();
    std::fs::write(
        dir.0.join("mend-0123456789abcdef_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let path = dir.0.clone();
    let mut app = spawn_with(move |c| c.widget_dir = path).await;
    app._widget_dir = Some(dir);

    let root = app.get("/", None).await;
    assert!(root.status.is_redirection());
    assert_eq!(root.header("location"), Some("/widget/"));

    let index = app.get("/widget/", None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = index.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));

    let js = app
        .send(
            app.client
                .get(app.url("/widget/mend.js"))
                .header("origin", ORIGIN),
        )
        .await;
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert_eq!(js.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert_eq!(js.header("content-security-policy"), None);

    let wasm = app.get("/widget/mend-0123456789abcdef_bg.wasm", None).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    let sub = app.get("/widget/snippets", None).await;
    assert!(sub.status.is_redirection());
    assert_eq!(sub.header("location"), Some("/widget/snippets/"));
    assert_eq!(
        app.get("/widget/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/widget/../Cargo.toml", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_missing_widget_folder_answers_a_helpful_404() {
    let app = spawn_app().await;
    let a = app.get("/widget/mend.js", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text.contains("MEND_WIDGET_DIR"), "{}", a.text);
}

#[tokio::test]
async fn shutdown_ends_long_polls_and_stops_the_server() {
    let app = spawn_app().await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/101?wait=30&since=ok");
    let client = app.client.clone();
    let poll = tokio::spawn(async move {
        client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    app.stop().await.expect("a clean stop");
    let status = poll.await.unwrap().expect("the long-poll was answered");
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn no_secret_ever_reaches_a_response_or_the_logs() {
    let app = spawn_app().await;
    let token = app.demo();
    let mut bodies = String::new();
    // A full OTP repair, a reconnect URL (with its code) and a callback.
    let s = app.get_connection(104, &token).await;
    bodies.push_str(&s.text);
    let wrong = app
        .submit_fields(104, &token, json!({"otp": "987654"}))
        .await;
    bodies.push_str(&wrong.text);
    let ok = app
        .submit_fields(104, &token, json!({"otp": "123456"}))
        .await;
    bodies.push_str(&ok.text);
    assert!(ok.status_body().state.is_none());
    let r = app.reconnect_url(102, &token, RETURN).await;
    let code = query_param(r.json()["url"].as_str().unwrap(), "code").unwrap();
    let state = query_param(r.json()["url"].as_str().unwrap(), "state").unwrap();
    bodies.push_str(&app.callback(&token, json!({"state": state})).await.text);
    let secrets = [
        SECRET,
        mend_sandbox::DEMO_CLIENT_SECRET,
        token.as_str(),
        "access_token",
    ];
    for s in secrets {
        assert!(!bodies.contains(s), "a response leaks {s}");
    }
    // New credentials, with Agent status: refused once, then accepted.
    let agent = spawn_with(|c| c.agent_status = true).await;
    let agent_token = agent.demo();
    agent
        .submit_fields(
            108,
            &agent_token,
            json!({"login": "nobody", "password": "Wr0ng-Pa55word"}),
        )
        .await
        .error(422, "credentials_rejected");
    agent
        .submit_fields(
            108,
            &agent_token,
            json!({"login": "demo", "password": "N3w-Pa55word!"}),
        )
        .await
        .status_body();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logs = captured_logs();
    assert!(
        logs.contains("submitting field values"),
        "logs were captured"
    );
    for s in ["Wr0ng-Pa55word", "N3w-Pa55word!", agent_token.as_str()] {
        assert!(!logs.contains(s), "the logs leak {s}");
    }
    for s in [
        SECRET,
        mend_sandbox::DEMO_CLIENT_SECRET,
        token.as_str(),
        "123456",
        "987654",
        code.as_str(),
        "Bearer",
        "access_token",
    ] {
        assert!(!logs.contains(s), "the logs leak {s}");
    }
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn waiters_see_an_actions_result_at_once_never_an_older_state() {
    // A long poll interval: only the resume's own answer can wake the waiter early.
    let app = spawn_with(|c| c.poll_interval = Duration::from_secs(5)).await;
    let token = app.demo();
    let url = app.url("/api/v1/connections/105?wait=10&since=decoupled");
    let client = app.client.clone();
    let waiter_token = token.clone();
    let waiter = tokio::spawn(async move {
        let res = client
            .get(url)
            .bearer_auth(waiter_token)
            .send()
            .await
            .unwrap();
        res.json::<ConnectionStatus>().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    app.resume(105, &token).await.status_body();
    let seen = waiter.await.unwrap();
    assert_eq!(seen.state.as_ref().map(|s| s.as_str()), Some("validating"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // A poller started right after a read begins from it: no second GET within the interval.
    app.sandbox.clear_requests();
    app.get_connection(114, &token).await.status_body();
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
    assert_eq!(app.upstream_count("GET", "/connections/114"), 1);
}

#[test]
fn the_command_line_exits_2_naming_the_variable_and_prints_sessions() {
    let bin = env!("CARGO_BIN_EXE_mend-proxy");
    let out = std::process::Command::new(bin)
        .args(["serve"])
        .env("POWENS_API_URL", "https://acme-sandbox.biapi.pro/2.0")
        .env_remove("POWENS_CLIENT_ID")
        .env("POWENS_CLIENT_SECRET", "cli-client-secret-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("POWENS_CLIENT_ID"), "{err}");
    assert!(!err.contains("cli-client-secret-value"), "{err}");

    let out = std::process::Command::new(bin)
        .args(["serve", "--mend-poll-interval", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = std::process::Command::new(bin)
        .args([
            "session",
            "--user",
            "7",
            "--connection",
            "42",
            "--ttl",
            "15m",
        ])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jwt = String::from_utf8(out.stdout).unwrap();
    let keys = SessionKeys::new(&SecretString::from(SECRET));
    let session = keys.verify(jwt.trim()).expect("a valid session");
    assert_eq!(session.user, 7);
    assert_eq!(session.connections, Some(vec![42]));
    assert!(!jwt.contains(SECRET));

    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7", "--ttl", "2h"])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7"])
        .env_remove("MEND_SESSION_SECRET")
        .env_remove("MEND_SESSION_SECRET_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEND_SESSION_SECRET"));
}

#[tokio::test]
async fn one_user_cannot_hold_more_long_polls_than_allowed() {
    let app = spawn_with(|c| c.max_waiters_per_user = 2).await;
    let token = app.demo();
    let hold = |app: &TestApp| {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/114?wait=3&since=someFutureState"),
            token.clone(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status())
        })
    };
    let first = hold(&app);
    let second = hold(&app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = app.wait_connection(114, &token, 3, "someFutureState").await;
    a.error(429, "rate_limited");
    assert!(a.header("retry-after").is_some());
    // Plain reads still work, and the waits answer normally.
    app.get_connection(114, &token).await.status_body();
    assert_eq!(first.await.unwrap().unwrap(), StatusCode::OK);
    assert_eq!(second.await.unwrap().unwrap(), StatusCode::OK);
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
}

#[tokio::test]
async fn every_field_type_is_checked_before_powens_and_valid_values_repair() {
    let app = spawn_app().await;
    let token = app.demo();
    let bad = json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-30",
                     "website": "par", "amount": "a lot"});
    let fields = app
        .submit_fields(116, &token, bad)
        .await
        .error(422, "invalid_fields")
        .error
        .fields
        .unwrap();
    assert_eq!(fields["birth_date"], mend_model::api::FieldProblem::Pattern);
    assert_eq!(fields["amount"], mend_model::api::FieldProblem::Pattern);
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(app.upstream_count("POST", "/connections/116"), 0);
    let good = json!({"customer_number": "12345678", "pin": "1234", "birth_date": "1990-02-28",
                      "website": "pro", "amount": "12.50"});
    let s = app.submit_fields(116, &token, good).await.status_body();
    assert!(s.state.is_none(), "{s:?}");
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_with(|c| c.header_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    // Keep trickling one header byte at a time: the deadline is for the whole header.
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if tcp.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), trickle).await;
    let read = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the proxy closed the connection");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A normal client is unaffected.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_trickling_its_body_is_answered_and_disconnected() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_with(|c| c.header_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/callback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
        app.demo()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the proxy gave up on the body and closed the connection"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.1 4"),
        "answered with a client error: {text}"
    );
    assert!(text.contains("\"error\""), "in the error envelope: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_an_outage_waiting_requests_share_one_failed_renewal() {
    let app = spawn_app().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 0,
        kind: Some(FaultKind::ServerError),
    });
    let token = app.demo();
    let gets = (0..20).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.error(502, "upstream_error");
    }
    // One renewal of three tries, not one per waiting request.
    assert_eq!(app.upstream_count("POST", "/auth/renew"), 3);
    // Powens back: the next request renews and succeeds.
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &token).await.status_body();
}

#[tokio::test]
async fn a_client_leaving_a_long_poll_frees_its_place_at_once() {
    use tokio::io::AsyncWriteExt as _;
    let app = spawn_with(|c| c.max_waiters_per_user = 1).await;
    let token = app.demo();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "GET /api/v1/connections/114?wait=30&since=someFutureState HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .error(429, "rate_limited");
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    app.wait_connection(114, &token, 1, "someFutureState")
        .await
        .status_body();
    assert!(started.elapsed() < Duration::from_secs(3));
}

// --- coalesced reads -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_reads_of_a_connection_share_one_upstream_get() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    // A slow Powens, so that all fifty arrive while the first read is in flight.
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 400,
        kind: None,
    });
    let gets = (0..50).map(|_| app.get_connection(101, &token));
    let answers = futures_util::future::join_all(gets).await;
    let first = answers[0].status_body();
    for a in &answers {
        let s = a.status_body();
        assert_eq!(s, first, "one read, one answer");
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.header("cache-control"), Some("no-store"));
    }
    assert_eq!(app.upstream_count("GET", "/connections/101"), 1);
    // Nothing is kept once the read is answered: the next one asks Powens again.
    app.sandbox.set_faults(Faults::default());
    app.get_connection(101, &token).await.status_body();
    assert_eq!(app.upstream_count("GET", "/connections/101"), 2);
    // Other connections and other users do not share it.
    let (a, b) = tokio::join!(
        app.get_connection(101, &token),
        app.get_connection(102, &token)
    );
    assert_eq!(a.status_body().id, 101);
    assert_eq!(b.status_body().id, 102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_read_that_fails_answers_its_error_to_everyone_sharing_it() {
    let app = spawn_app().await;
    let token = app.demo();
    app.warm_up().await;
    app.sandbox.set_faults(Faults {
        fraction: 1.0,
        latency_ms: 200,
        kind: Some(FaultKind::ServerError),
    });
    let gets = (0..20).map(|_| app.get_connection(101, &token));
    for a in futures_util::future::join_all(gets).await {
        a.error(502, "upstream_error");
    }
    // One read, tried three times.
    assert_eq!(app.upstream_count("GET", "/connections/101"), 3);
}

/// A Powens in front of `target` that, once armed, holds the answer of the next
/// `GET …/connections/{id}` (already read from `target`) until released or 2 s.
struct Holder {
    armed: std::sync::atomic::AtomicBool,
    held: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

async fn spawn_holding_powens(target: String, id: i64) -> (SocketAddr, std::sync::Arc<Holder>) {
    use axum::response::IntoResponse as _;
    let holder = std::sync::Arc::new(Holder {
        armed: std::sync::atomic::AtomicBool::new(false),
        held: tokio::sync::Notify::new(),
        release: tokio::sync::Notify::new(),
    });
    let suffix = format!("/connections/{id}");
    let client = reqwest::Client::new();
    let h = holder.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (client, target, h, suffix) =
            (client.clone(), target.clone(), h.clone(), suffix.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut fwd = client
                .request(parts.method.clone(), format!("{target}{pq}"))
                .body(body);
            for name in [
                reqwest::header::AUTHORIZATION,
                reqwest::header::CONTENT_TYPE,
            ] {
                if let Some(v) = parts.headers.get(&name) {
                    fwd = fwd.header(name, v.clone());
                }
            }
            let res = fwd.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            if parts.method == reqwest::Method::GET
                && parts.uri.path().ends_with(&suffix)
                && h.armed.swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                h.held.notify_one();
                let _ = tokio::time::timeout(Duration::from_secs(2), h.release.notified()).await;
            }
            (
                status,
                [(reqwest::header::CONTENT_TYPE, "application/json")],
                text,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_a_submission_never_answers_the_state_before_it() {
    let spawned = mend_sandbox::spawn(fast_sandbox).await.unwrap();
    let (powens, holder) = spawn_holding_powens(spawned.url.clone(), 104).await;
    let mut cfg = test_config();
    // Longer than the hold: the early read must not time out and be retried.
    cfg.upstream_timeout = Duration::from_secs(10);
    cfg.upstream = Upstream::Powens(PowensConfig {
        api_url: format!("http://{powens}/2.0"),
        client_id: mend_sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(mend_sandbox::DEMO_CLIENT_SECRET),
        webview_url: "https://webview.example".into(),
        domain: mend_sandbox::DEMO_DOMAIN.into(),
    });
    let app = spawn_config(cfg, Some(spawned.sandbox.clone())).await;
    let token = app.demo();
    let before = app.get_connection(104, &token).await.status_body();
    assert_eq!(
        before.state.as_ref().map(|s| s.as_str()),
        Some("additionalInformationNeeded")
    );

    // A read is in flight, holding the state before the submission.
    holder
        .armed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let early = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/connections/104"),
            token.clone(),
        );
        tokio::spawn(async move {
            let res = client.get(url).bearer_auth(token).send().await.unwrap();
            res.json::<ConnectionStatus>().await.unwrap()
        })
    };
    tokio::time::timeout(Duration::from_secs(5), holder.held.notified())
        .await
        .expect("the early read reached Powens");

    let after = app
        .submit_fields(104, &token, json!({"otp": "123456"}))
        .await
        .status_body();
    assert!(after.state.is_none(), "{after:?}");
    // Read after the submission: its own upstream GET, not the one in flight.
    let started = Instant::now();
    let read = app.get_connection(104, &token).await.status_body();
    assert!(
        read.state.is_none(),
        "a read after the submission: {read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // The early read answers what it read (it began before the submission)...
    holder.release.notify_one();
    let early = early.await.unwrap();
    assert_eq!(
        early.state.as_ref().map(|s| s.as_str()),
        Some("additionalInformationNeeded")
    );
    // ...but leaves nothing behind: neither reads nor long-polls see it afterwards.
    let read = app.get_connection(104, &token).await.status_body();
    assert!(read.state.is_none(), "{read:?}");
    let waited = app
        .wait_connection(104, &token, 1, "ok")
        .await
        .status_body();
    assert!(
        waited.state.is_none(),
        "a long-poll after the submission: {waited:?}"
    );
}
