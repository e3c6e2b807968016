//! What every test of the API shares: a real proxy on port 0 in sandbox mode
//! ([`spawn_app`]), a client with a method per route ([`TestApp`]), answers checked
//! against the error envelope ([`Answer::error`]), crafted JWTs and the captured logs.

pub use base64::Engine as _;
pub use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
pub use hmac::{Hmac, Mac};
pub use mend_model::api::{CallbackResult, ConnectionStatus, ErrorBody, RedirectUrl};
pub use mend_proxy::config::PowensConfig;
pub use mend_proxy::session::SessionKeys;
pub use mend_proxy::{Config, Upstream};
pub use mend_sandbox::{FaultKind, Faults, Sandbox};
pub use reqwest::StatusCode;
pub use secrecy::SecretString;
pub use serde_json::{Value, json};
pub use std::io::Write as _;
pub use std::net::SocketAddr;
pub use std::path::PathBuf;
pub use std::sync::{Mutex, Once};
pub use std::time::{Duration, Instant};

pub const SECRET: &str = "test-session-secret-0123456789abcdef";

/// The key a sandbox-mode proxy given `SECRET` signs sessions with (see
/// `mend_proxy::sandbox_session_key`): what a test crafting its own tokens must use.
pub fn sandbox_key() -> Vec<u8> {
    use secrecy::ExposeSecret as _;
    mend_proxy::sandbox_session_key(&SecretString::from(SECRET))
        .expose_secret()
        .as_bytes()
        .to_vec()
}
pub const RETURN: &str = "https://app.example/bank/return";
pub const ORIGIN: &str = "https://app.example";
pub const POLL: Duration = Duration::from_millis(200);
pub const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";

// --- log capture -------------------------------------------------------------------

pub static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub struct Capture;

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

pub fn init_logs() {
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

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

// --- the test app ------------------------------------------------------------------

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub sandbox: Sandbox,
    pub keys: SessionKeys,
    pub metrics: mend_proxy::metrics::Metrics,
    /// `MEND_METRICS_LISTEN`'s address, when set.
    pub metrics_base: Option<String>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub _widget_dir: Option<TempDir>,
}

/// A folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
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

pub fn fast_sandbox(cfg: &mut mend_sandbox::SandboxConfig) {
    cfg.decoupled_delay = Duration::from_millis(300);
    cfg.validating_delay = Duration::from_millis(300);
    cfg.blocking_limit = Duration::from_secs(2);
    cfg.fault_hang = Duration::from_secs(3);
}

pub fn test_config() -> Config {
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

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut cfg = test_config();
    adjust(&mut cfg);
    spawn_config(cfg, None).await
}

pub async fn spawn_config(cfg: Config, sandbox: Option<Sandbox>) -> TestApp {
    init_logs();
    let app = mend_proxy::build(cfg).await.expect("the proxy builds");
    let base = format!("http://{}", app.local_addr());
    let sandbox = sandbox
        .or_else(|| app.sandbox().cloned())
        .expect("a sandbox");
    let keys = app.session_keys().clone();
    let metrics = app.metrics().clone();
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
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
        metrics_base,
        stop: Some(tx),
        server,
        _widget_dir: None,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn status_body(&self) -> ConnectionStatus {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not a status ({e}): {}", self.text))
    }
    /// Asserts the error envelope with `code` and `status`; returns it.
    pub fn error(&self, status: u16, code: &str) -> ErrorBody {
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
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub fn session(&self, user: i64, connections: Option<Vec<i64>>, ttl: Duration) -> String {
        self.keys.mint(user, connections, ttl)
    }

    /// A session of the demo user for every connection.
    pub fn demo(&self) -> String {
        self.session(1, None, Duration::from_secs(600))
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn get_connection(&self, id: i64, token: &str) -> Answer {
        self.get(&format!("/api/v1/connections/{id}"), Some(token))
            .await
    }

    pub async fn wait_connection(&self, id: i64, token: &str, wait: u64, since: &str) -> Answer {
        self.get(
            &format!("/api/v1/connections/{id}?wait={wait}&since={since}"),
            Some(token),
        )
        .await
    }

    pub async fn submit_fields(&self, id: i64, token: &str, values: Value) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/fields"),
            token,
            json!({ "values": values }),
        )
        .await
    }

    pub async fn resume(&self, id: i64, token: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/resume"),
            token,
            json!({}),
        )
        .await
    }

    pub async fn sync(&self, id: i64, token: &str) -> Answer {
        self.post(&format!("/api/v1/connections/{id}/sync"), token, json!({}))
            .await
    }

    pub async fn reconnect_url(&self, id: i64, token: &str, redirect_uri: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/reconnect-url"),
            token,
            json!({"redirect_uri": redirect_uri, "lang": "fr"}),
        )
        .await
    }

    pub async fn webauth_url(&self, id: i64, token: &str, redirect_uri: &str) -> Answer {
        self.post(
            &format!("/api/v1/connections/{id}/webauth-url"),
            token,
            json!({"redirect_uri": redirect_uri}),
        )
        .await
    }

    pub async fn callback(&self, token: &str, body: Value) -> Answer {
        self.post("/api/v1/callback", token, body).await
    }

    /// Upstream requests whose path ends with `suffix` (and method, if given).
    pub fn upstream_count(&self, method: &str, suffix: &str) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    /// Gets a Powens token for the demo user cached before faults are switched on.
    /// Gets the user's Powens token without leaving a status in the proxy's memory
    /// (connection 201 is another user's: Powens answers 404).
    pub async fn warm_up(&self) {
        self.get_connection(201, &self.demo())
            .await
            .error(404, "not_found");
        self.sandbox.clear_requests();
    }

    pub async fn stop(mut self) -> std::io::Result<()> {
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
pub fn craft_jwt(alg: &str, claims: &Value, key: &[u8]) -> String {
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

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
