//! The Powens client: a small SDK over one shared `reqwest::Client`.
//!
//! Every call is one [`Request`] (built by the operations of `ops.rs`: a connection
//! read, a submission, a resume, a sync, a code, a webauth URL) sent through
//! [`PowensClient::send`], the single place where:
//!
//! - the request budget is spent first ([`crate::budget`]): held back requests fail
//!   with [`UpstreamError::HeldBack`] without reaching Powens, and a 429 pauses the
//!   whole client for its `Retry-After`;
//! - the user's token is taken from the cache ([`tokens`]); a 401 **or 403** (older
//!   Powens answered a revoked token with 403 "Invalid token") drops it and the
//!   request is sent once more with a fresh one;
//! - reads ([`Kind::Read`]) time out after `MEND_UPSTREAM_TIMEOUT` and are retried up
//!   to [`MAX_TRIES`] times with jittered exponential backoff on 5xx, 429, timeouts,
//!   transport errors and unreadable answers, honouring a `Retry-After` of at most
//!   [`MAX_RETRY_AFTER`]; submissions ([`Kind::Submission`]) wait up to
//!   `MEND_SUBMISSION_TIMEOUT` for the bank and are **never** retried (an OTP may
//!   already be spent);
//! - every answer is read by [`answer::read_answer`] into one typed error.
//!
//! Nothing secret is logged or put in a span: no bodies, no query strings, no tokens;
//! reqwest errors are stripped of their URL before being formatted.

pub mod answer;
mod ops;
mod tokens;

pub use answer::{Refusal, UpstreamError, clean_bank_message, read_answer};

use mend_model::AccessToken;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::budget::{Budget, Priority};
use crate::metrics::Metrics;
use crate::store::Store;

/// Most tries of one read.
pub const MAX_TRIES: u32 = 3;
/// Longest `Retry-After` honoured by waiting; longer ones fail the read at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a readiness probe's answer is reused.
pub const READY_TTL: Duration = Duration::from_secs(5);

/// Whether a request may be retried, and how long it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A read: `MEND_UPSTREAM_TIMEOUT`, retried on transient failures.
    Read,
    /// A submission to the bank: `MEND_SUBMISSION_TIMEOUT`, never retried.
    Submission,
}

/// One request to Powens.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its name in logs and metrics (`get_connection`, `submit_fields`, ...).
    pub op: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path under the API root, e.g. `/users/me/connections/42`.
    pub path: String,
    /// Query parameters (never logged).
    pub query: Vec<(&'static str, String)>,
    /// JSON body (never logged).
    pub body: Option<Value>,
    /// Read or submission.
    pub kind: Kind,
    /// Who it is for (budget).
    pub priority: Priority,
}

impl Request {
    /// A read for `priority`.
    pub fn read(op: &'static str, path: impl Into<String>, priority: Priority) -> Self {
        Self {
            op,
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            kind: Kind::Read,
            priority,
        }
    }

    /// A submission for a user acting now (never retried).
    pub fn submission(op: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            kind: Kind::Submission,
            ..Self::read(op, path, Priority::User)
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
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
    /// Timeout of one read.
    pub timeout: Duration,
    /// How long a submission, resume or sync may wait for the bank, whatever the
    /// read timeout is.
    pub submission_timeout: Duration,
    /// First backoff of a retried read.
    pub retry_backoff: Duration,
    /// `MEND_POWENS_BUDGET`: requests a minute.
    pub budget: u32,
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

struct Inner {
    http: reqwest::Client,
    api_url: String,
    client_id: String,
    client_secret: SecretString,
    retry_backoff: Duration,
    timeout: Duration,
    submission_timeout: Duration,
    tokens: Arc<tokens::Tokens>,
    budget: Budget,
    metrics: Metrics,
    /// The last readiness probe: when, and whether Powens answered.
    ready: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl PowensClient {
    /// A client (one connection pool for the process), sharing its budget and users'
    /// tokens through `store`.
    pub fn new(settings: PowensSettings, store: Store, metrics: Metrics) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
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
                submission_timeout: settings.submission_timeout,
                tokens: Arc::new(tokens::Tokens::new(store.clone())),
                budget: Budget::new(settings.budget, store),
                metrics,
                ready: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The client id (public: it goes into webview URLs).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// How long a submission, resume or sync may wait for the bank.
    pub fn submission_timeout(&self) -> Duration {
        self.inner.submission_timeout
    }

    /// The request budget shared by every call.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// Forgets a user's token (the user was deleted at Powens).
    pub fn forget_user(&self, user: i64) {
        self.inner.tokens.forget(user);
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
        *last = Some((Instant::now(), ok));
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

    /// Sends `req`, for `user` (with their token) or with no token.
    #[tracing::instrument(name = "powens", skip_all, fields(op = req.op, user))]
    pub async fn send<T: DeserializeOwned>(
        &self,
        user: Option<i64>,
        req: &Request,
    ) -> Result<T, UpstreamError> {
        let Some(user) = user else {
            return self.with_retries(req, None).await;
        };
        let mut renewed = false;
        loop {
            let this = self.clone();
            let priority = req.priority;
            let token = self
                .inner
                .tokens
                .get(
                    user,
                    move || async move { this.renew(user, priority).await },
                )
                .await?;
            match self.with_retries(req, Some(&token)).await {
                Err(UpstreamError::Api(r)) if matches!(r.status, 401 | 403) && !renewed => {
                    tracing::info!(
                        status = r.status,
                        "Powens refused the cached token; renewing once"
                    );
                    self.inner.tokens.drop_token(user, &token);
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    async fn with_retries<T: DeserializeOwned>(
        &self,
        req: &Request,
        token: Option<&SecretString>,
    ) -> Result<T, UpstreamError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Err(wait) = self.inner.budget.spend(req.priority).await {
                self.inner.metrics.upstream(req.op, "held_back");
                return Err(UpstreamError::HeldBack { retry_after: wait });
            }
            let started = Instant::now();
            let result = self.once(req, token).await;
            let elapsed = started.elapsed();
            let elapsed_ms = elapsed.as_millis() as u64;
            self.inner
                .metrics
                .upstream_duration(req.op, elapsed.as_secs_f64());
            match &result {
                Ok(_) => {
                    self.inner.metrics.upstream(req.op, "ok");
                    tracing::debug!(attempt, elapsed_ms, "Powens call ok");
                }
                Err(e) => {
                    self.inner.metrics.upstream(req.op, e.outcome());
                    tracing::info!(attempt, elapsed_ms, error = %e, "Powens call failed");
                }
            }
            if let Err(UpstreamError::Api(r)) = &result
                && r.status == 429
            {
                self.inner.budget.pause(r.retry_after).await;
            }
            match result {
                Err(e) if req.kind == Kind::Read && attempt < MAX_TRIES && retryable(&e) => {
                    let wait = e.retry_after().unwrap_or_else(|| {
                        jittered(self.inner.retry_backoff * 2u32.pow(attempt - 1))
                    });
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn once<T: DeserializeOwned>(
        &self,
        req: &Request,
        token: Option<&SecretString>,
    ) -> Result<T, UpstreamError> {
        let url = format!("{}{}", self.inner.api_url, req.path);
        let timeout = match req.kind {
            Kind::Read => self.inner.timeout,
            Kind::Submission => self.inner.submission_timeout,
        };
        let mut http = self
            .inner
            .http
            .request(req.method.clone(), url)
            .query(&req.query)
            .timeout(timeout);
        if let Some(t) = token {
            http = http.bearer_auth(t.expose_secret());
        }
        if let Some(b) = &req.body {
            http = http.json(b);
        } else if req.method == Method::POST || req.method == Method::PUT {
            http = http.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        let res = http.send().await.map_err(answer::from_reqwest)?;
        read_answer(res).await
    }

    async fn renew(&self, user: i64, priority: Priority) -> Result<SecretString, UpstreamError> {
        self.inner.metrics.renewal();
        let req = Request {
            method: Method::POST,
            ..Request::read("renew", "/auth/renew", priority)
        }
        .body(json!({
            "grant_type": "client_credentials",
            "client_id": self.inner.client_id,
            "client_secret": self.inner.client_secret.expose_secret(),
            "id_user": user,
            "revoke_previous": false,
        }));
        let answer: AccessToken = self.with_retries(&req, None).await?;
        if answer.access_token.is_empty() {
            return Err(UpstreamError::Malformed("empty token".into()));
        }
        tracing::info!(user, "obtained a Powens user token");
        Ok(SecretString::from(answer.access_token))
    }
}

/// Whether a failed read is worth another try.
fn retryable(e: &UpstreamError) -> bool {
    match e {
        UpstreamError::Api(r) => {
            matches!(r.status, 429 | 500 | 502 | 503 | 504)
                && r.retry_after.is_none_or(|d| d <= MAX_RETRY_AFTER)
        }
        UpstreamError::Timeout | UpstreamError::Unreachable(_) | UpstreamError::Malformed(_) => {
            true
        }
        UpstreamError::HeldBack { .. } => false,
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
    fn a_long_retry_after_is_not_waited_for() {
        let refusal = |secs| {
            UpstreamError::Api(Box::new(answer::classify(
                429,
                Some(Duration::from_secs(secs)),
                b"",
            )))
        };
        assert!(!retryable(&refusal(60)));
        assert!(retryable(&refusal(1)));
        assert!(!retryable(&UpstreamError::HeldBack {
            retry_after: Duration::from_secs(1)
        }));
    }

    #[test]
    fn jitter_stays_within_half_and_one_and_a_half() {
        for _ in 0..100 {
            let j = jittered(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j < Duration::from_millis(150));
        }
    }
}
