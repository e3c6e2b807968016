//! The Powens client: a small SDK over one shared `reqwest::Client`.
//!
//! - User tokens come from `POST /auth/renew` and are cached per user for the
//!   process' lifetime, with single flight (concurrent first requests for one user
//!   share one renewal, run in its own task, and all get its outcome, failure
//!   included). A 401 from Powens drops the cached token and retries once.
//! - Submissions get three times the read timeout (they wait for the bank).
//! - Reads (`GET`) are retried up to [`MAX_TRIES`] times with jittered exponential
//!   backoff on 5xx, 429, timeouts, transport errors and unreadable answers, honouring
//!   a `Retry-After` of at most [`MAX_RETRY_AFTER`]. Submissions are never retried.
//! - [`UpstreamError`] is the one typed form of every failure; non-2xx answers are
//!   read as [`PowensError`] by one function ([`read_answer`]).
//! - Nothing secret is logged: no bodies, no query strings, no tokens; reqwest errors
//!   are stripped of their URL before being formatted.

use mend_model::api::ErrorCode;
use mend_model::{AccessToken, AuthCode, Connection, PowensError, WebauthUrl};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::metrics::Metrics;

/// Most tries of one read.
pub const MAX_TRIES: u32 = 3;
/// Longest `Retry-After` honoured by waiting; longer ones fail the read at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Largest upstream answer read.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// What every connection read and write expands.
const EXPAND: &str = "connector,sources";

/// Why a Powens call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// Powens answered non-2xx.
    #[error("Powens answered {status} `{code}`")]
    Api {
        /// HTTP status.
        status: u16,
        /// Powens' error code (`wrongpass`, `invalidValue`, ...), empty when unreadable.
        code: String,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    #[error("Powens timed out")]
    Timeout,
    /// Could not reach Powens, or the connection broke.
    #[error("Powens unreachable: {0}")]
    Unreachable(String),
    /// A 2xx answer that is not what was expected.
    #[error("Powens answered something unreadable: {0}")]
    Malformed(String),
}

impl UpstreamError {
    /// The proxy error code this failure answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Api { status: 404, .. } => ErrorCode::NotFound,
            Self::Api { status: 409, .. } => ErrorCode::Conflict,
            Self::Api {
                status: 429 | 503, ..
            } => ErrorCode::UpstreamUnavailable,
            Self::Api { status: 504, .. } | Self::Timeout => ErrorCode::UpstreamTimeout,
            Self::Api { .. } | Self::Malformed(_) => ErrorCode::UpstreamError,
            Self::Unreachable(_) => ErrorCode::UpstreamUnavailable,
        }
    }

    /// Powens' error code, when it answered one.
    pub fn powens_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    fn retryable(&self) -> bool {
        match self {
            Self::Api {
                status,
                retry_after,
                ..
            } => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
                    && retry_after.is_none_or(|d| d <= MAX_RETRY_AFTER)
            }
            Self::Timeout | Self::Unreachable(_) | Self::Malformed(_) => true,
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            Self::Api { .. } => "error",
            Self::Timeout => "timeout",
            Self::Unreachable(_) => "unreachable",
            Self::Malformed(_) => "malformed",
        }
    }
}

fn from_reqwest(e: reqwest::Error) -> UpstreamError {
    // `without_url`: the URL may carry a `state`, a redirect URI or a code.
    let e = e.without_url();
    if e.is_timeout() {
        UpstreamError::Timeout
    } else if e.is_body() || e.is_decode() {
        UpstreamError::Malformed(e.to_string())
    } else {
        UpstreamError::Unreachable(e.to_string())
    }
}

/// Reads an answer: the JSON `T` on 2xx, else the one typed error.
pub async fn read_answer<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, UpstreamError> {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_capped(res).await?;
    if status.is_success() {
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        return serde_json::from_slice(body).map_err(|e| {
            UpstreamError::Malformed(format!("{} at {}", e.classify_str(), e.column()))
        });
    }
    let code = serde_json::from_slice::<PowensError>(&body)
        .map(|e| e.code)
        .unwrap_or_default();
    // Keep the code only if it looks like one (it is logged and matched, never shown).
    let code = if code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        code
    } else {
        String::new()
    };
    Err(UpstreamError::Api {
        status: status.as_u16(),
        code,
        retry_after,
    })
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

async fn read_capped(mut res: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(from_reqwest)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(UpstreamError::Malformed("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// How to build a [`PowensClient`].
#[derive(Debug, Clone)]
pub struct PowensSettings {
    /// API root including `/2.0`, no trailing slash.
    pub api_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// Timeout of one request.
    pub timeout: Duration,
    /// First backoff of a retried read.
    pub retry_backoff: Duration,
}

/// The Powens client (cheap to clone).
#[derive(Clone)]
pub struct PowensClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PowensClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowensClient")
            .field("api_url", &self.inner.api_url)
            .finish_non_exhaustive()
    }
}

/// The outcome of one renewal, shared by everyone who waited for it.
type Renewal = Option<Result<SecretString, UpstreamError>>;

/// A user's token, or the renewal in flight.
#[derive(Default)]
struct TokenSlot {
    token: Option<SecretString>,
    renewing: Option<watch::Receiver<Renewal>>,
}

struct Inner {
    http: reqwest::Client,
    api_url: String,
    client_id: String,
    client_secret: SecretString,
    retry_backoff: Duration,
    timeout: Duration,
    tokens: Mutex<HashMap<i64, TokenSlot>>,
    metrics: Metrics,
    /// The last readiness probe: when, and whether Powens answered.
    ready: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

/// How long a readiness probe's answer is reused.
pub const READY_TTL: Duration = Duration::from_secs(5);

/// Whether a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// A read: retried on transient failures.
    Read,
    /// A submission: never retried.
    Never,
}

impl PowensClient {
    /// A client (one connection pool for the process).
    pub fn new(settings: PowensSettings, metrics: Metrics) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("mend-proxy/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_url: settings.api_url.trim_end_matches('/').to_owned(),
                client_id: settings.client_id,
                client_secret: settings.client_secret,
                retry_backoff: settings.retry_backoff,
                timeout: settings.timeout,
                tokens: Mutex::new(HashMap::new()),
                metrics,
                ready: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The client id (public: it goes into webview URLs).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The user's connection, with its connector and sources.
    pub async fn connection(&self, user: i64, id: i64) -> Result<Connection, UpstreamError> {
        let path = format!("/users/me/connections/{id}");
        self.call(
            user,
            "get_connection",
            Method::GET,
            &path,
            &[("expand", EXPAND.into())],
            None,
            Retry::Read,
        )
        .await
    }

    /// Posts field values (an OTP, new credentials) on the connection. Never retried.
    pub async fn submit_fields(
        &self,
        user: i64,
        id: i64,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<Connection, UpstreamError> {
        let path = format!("/users/me/connections/{id}");
        let body =
            serde_json::to_value(values).map_err(|e| UpstreamError::Malformed(e.to_string()))?;
        self.call(
            user,
            "submit_fields",
            Method::POST,
            &path,
            &[("expand", EXPAND.into())],
            Some(body),
            Retry::Never,
        )
        .await
    }

    /// Resumes a decoupled connection in the background. Never retried.
    pub async fn resume(&self, user: i64, id: i64) -> Result<Connection, UpstreamError> {
        let path = format!("/users/me/connections/{id}");
        let query = [("background", "true".to_owned()), ("expand", EXPAND.into())];
        self.call(
            user,
            "resume",
            Method::POST,
            &path,
            &query,
            Some(json!({"resume": true})),
            Retry::Never,
        )
        .await
    }

    /// Synchronises the connection now, user present. Never retried.
    pub async fn sync(&self, user: i64, id: i64) -> Result<Connection, UpstreamError> {
        let path = format!("/users/me/connections/{id}");
        self.call(
            user,
            "sync",
            Method::PUT,
            &path,
            &[("expand", EXPAND.into())],
            None,
            Retry::Never,
        )
        .await
    }

    /// Mints a single-use temporary code for the webview.
    pub async fn single_access_code(&self, user: i64) -> Result<AuthCode, UpstreamError> {
        self.call(
            user,
            "token_code",
            Method::GET,
            "/auth/token/code",
            &[("type", "singleAccess".into())],
            None,
            Retry::Read,
        )
        .await
    }

    /// The bank's webauth URL for an existing connection.
    pub async fn webauth_url(
        &self,
        user: i64,
        id: i64,
        redirect_uri: &str,
        state: &str,
    ) -> Result<WebauthUrl, UpstreamError> {
        let query = [
            ("id_connection", id.to_string()),
            ("client_id", self.inner.client_id.clone()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("state", state.to_owned()),
        ];
        self.call(
            user,
            "webauth_url",
            Method::GET,
            "/webauth-url",
            &query,
            None,
            Retry::Read,
        )
        .await
    }

    /// Readiness: whether Powens answers at all (any status below 500). Unauthenticated
    /// callers reach this through `/readyz`, so one probe runs at a time and its answer
    /// is reused for [`READY_TTL`]: probing cannot be used to make us hammer Powens.
    pub async fn ping(&self) -> bool {
        let mut last = self.inner.ready.lock().await;
        if let Some((at, ok)) = *last
            && at.elapsed() < READY_TTL
        {
            return ok;
        }
        let ok = self.probe().await;
        *last = Some((std::time::Instant::now(), ok));
        ok
    }

    async fn probe(&self) -> bool {
        let url = format!("{}/", self.inner.api_url);
        match self
            .inner
            .http
            .get(url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(res) => res.status().as_u16() < 500,
            Err(_) => false,
        }
    }

    /// One authenticated call: token (cached, single flight), then the request with
    /// retries for reads; a 401 drops the token and retries once with a fresh one.
    #[allow(clippy::too_many_arguments)]
    async fn call<T: DeserializeOwned>(
        &self,
        user: i64,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
        retry: Retry,
    ) -> Result<T, UpstreamError> {
        let mut renewed = false;
        loop {
            let token = self.token(user).await?;
            match self
                .with_retries(op, &method, path, query, body.as_ref(), Some(&token), retry)
                .await
            {
                Err(UpstreamError::Api { status: 401, .. }) if !renewed => {
                    tracing::info!(op, user, "Powens refused the cached token; renewing once");
                    self.drop_token(user, &token);
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn with_retries<T: DeserializeOwned>(
        &self,
        op: &'static str,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        token: Option<&SecretString>,
        retry: Retry,
    ) -> Result<T, UpstreamError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.once(method, path, query, body, token, retry).await;
            let elapsed = started.elapsed();
            let elapsed_ms = elapsed.as_millis() as u64;
            self.inner
                .metrics
                .upstream_duration(op, elapsed.as_secs_f64());
            match &result {
                Ok(_) => {
                    self.inner.metrics.upstream(op, "ok");
                    tracing::debug!(op, attempt, elapsed_ms, "Powens call ok");
                }
                Err(e) => {
                    self.inner.metrics.upstream(op, e.outcome());
                    tracing::info!(op, attempt, elapsed_ms, error = %e, "Powens call failed");
                }
            }
            match result {
                Err(e) if retry == Retry::Read && attempt < MAX_TRIES && e.retryable() => {
                    let wait = match &e {
                        UpstreamError::Api {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => jittered(self.inner.retry_backoff * 2u32.pow(attempt - 1)),
                    };
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn once<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        token: Option<&SecretString>,
        retry: Retry,
    ) -> Result<T, UpstreamError> {
        let url = format!("{}{}", self.inner.api_url, path);
        let mut req = self.inner.http.request(method.clone(), url).query(query);
        if retry == Retry::Never {
            // Submissions wait for the bank (Powens: "allow up to a few minutes"), and
            // are not retried: give them three times the read timeout.
            req = req.timeout(self.inner.timeout * 3);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t.expose_secret());
        }
        if let Some(b) = body {
            req = req.json(b);
        } else if *method == Method::POST || *method == Method::PUT {
            req = req.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        let res = req.send().await.map_err(from_reqwest)?;
        read_answer(res).await
    }

    /// The user's token: cached, or renewed once for all concurrent callers.
    ///
    /// The renewal runs in its own task, so a caller that goes away (a closed
    /// browser tab) does not cancel it for the others, and its outcome, success or
    /// failure, is handed to every caller that waited: during an outage, a hundred
    /// waiting requests fail together after one renewal, not one after another.
    async fn token(&self, user: i64) -> Result<SecretString, UpstreamError> {
        let mut rx = {
            let mut map = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
            let slot = map.entry(user).or_default();
            if let Some(token) = &slot.token {
                return Ok(token.clone());
            }
            match &slot.renewing {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    slot.renewing = Some(rx.clone());
                    let this = self.clone();
                    tokio::spawn(async move {
                        let result = this.renew(user).await;
                        {
                            let mut map =
                                this.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
                            let slot = map.entry(user).or_default();
                            slot.renewing = None;
                            if let Ok(token) = &result {
                                slot.token = Some(token.clone());
                            }
                        }
                        tx.send_replace(Some(result));
                    });
                    rx
                }
            }
        };
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| UpstreamError::Unreachable("token renewal abandoned".into()))?;
        outcome
            .clone()
            .unwrap_or_else(|| Err(UpstreamError::Unreachable("no renewal".into())))
    }

    /// Forgets `token` if it is still the cached one (another caller may have
    /// replaced it already).
    fn drop_token(&self, user: i64, token: &SecretString) {
        let mut map = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = map.get_mut(&user)
            && slot
                .token
                .as_ref()
                .is_some_and(|t| t.expose_secret() == token.expose_secret())
        {
            slot.token = None;
        }
    }

    async fn renew(&self, user: i64) -> Result<SecretString, UpstreamError> {
        self.inner.metrics.renewal();
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": self.inner.client_id,
            "client_secret": self.inner.client_secret.expose_secret(),
            "id_user": user,
            "revoke_previous": false,
        });
        let answer: AccessToken = self
            .with_retries(
                "renew",
                &Method::POST,
                "/auth/renew",
                &[],
                Some(&body),
                None,
                Retry::Read,
            )
            .await?;
        if answer.access_token.is_empty() {
            return Err(UpstreamError::Malformed("empty token".into()));
        }
        tracing::info!(user, "obtained a Powens user token");
        Ok(SecretString::from(answer.access_token))
    }
}

/// `d` scaled by a random factor in [0.5, 1.5).
fn jittered(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let r = if getrandom::fill(&mut b).is_ok() {
        u16::from_le_bytes(b)
    } else {
        0x8000
    };
    d.mul_f64(0.5 + f64::from(r) / 65536.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_the_documented_codes() {
        let api = |status| UpstreamError::Api {
            status,
            code: String::new(),
            retry_after: None,
        };
        assert_eq!(api(404).code(), ErrorCode::NotFound);
        assert_eq!(api(409).code(), ErrorCode::Conflict);
        assert_eq!(api(429).code(), ErrorCode::UpstreamUnavailable);
        assert_eq!(api(503).code(), ErrorCode::UpstreamUnavailable);
        assert_eq!(api(500).code(), ErrorCode::UpstreamError);
        assert_eq!(api(400).code(), ErrorCode::UpstreamError);
        assert_eq!(UpstreamError::Timeout.code(), ErrorCode::UpstreamTimeout);
        assert_eq!(
            UpstreamError::Unreachable("x".into()).code(),
            ErrorCode::UpstreamUnavailable
        );
        assert_eq!(
            UpstreamError::Malformed("x".into()).code(),
            ErrorCode::UpstreamError
        );
    }

    #[test]
    fn a_long_retry_after_is_not_waited_for() {
        let e = UpstreamError::Api {
            status: 429,
            code: String::new(),
            retry_after: Some(Duration::from_secs(60)),
        };
        assert!(!e.retryable());
        let e = UpstreamError::Api {
            status: 429,
            code: String::new(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert!(e.retryable());
    }

    #[test]
    fn jitter_stays_within_half_and_one_and_a_half() {
        for _ in 0..100 {
            let j = jittered(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j < Duration::from_millis(150));
        }
    }
}
