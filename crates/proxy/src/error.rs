//! The proxy's one error type, [`ApiError`], and the single place that turns it into
//! an HTTP answer (`{"error": {...}}`, docs/api.md "Errors"). Details of 5xx errors
//! are logged, never returned. [`AppJson`] wraps axum's `Json` extractor so a
//! malformed or oversized body answers in the same envelope.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mend_model::api::{
    ConnectionStatus, ErrorBody, ErrorCode, ErrorDetail, FieldProblem, KnownErrorCode,
};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::upstream::UpstreamError;

/// How long a widget should wait before asking for a sync again after Powens
/// refused one (sent as `Retry-After` with `sync_refused`): no retry storm.
pub const SYNC_REFUSED_RETRY: Duration = Duration::from_secs(60);
/// `Retry-After` while the shared store is down (it is probed four times a second).
pub const STORE_RETRY: Duration = Duration::from_secs(2);

impl From<crate::store::StoreError> for ApiError {
    fn from(_: crate::store::StoreError) -> Self {
        Self::StoreUnavailable
    }
}

/// Everything a route can answer instead of success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed body or query.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no session or an invalid one.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 401: the session has expired.
    #[error("session expired")]
    SessionExpired,
    /// 403: credentials without Agent status.
    #[error("agent status required")]
    AgentStatusRequired,
    /// 404: unknown connection (or not this session's).
    #[error("not found")]
    NotFound,
    /// 409: the action does not apply now.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 413: body too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 422: refused field values.
    #[error("invalid fields")]
    InvalidFields(BTreeMap<String, FieldProblem>),
    /// 422 or 409: Powens refused a submission, resume or sync and said why
    /// (`credentials_rejected`, `bank_refused`, `sync_refused`), with the connection's
    /// status read right after and the bank's own words.
    #[error("refused by the bank: {code}")]
    Refused {
        /// Which refusal.
        code: KnownErrorCode,
        /// The connection now, when it could be read.
        status: Option<Box<ConnectionStatus>>,
        /// Powens' displayable `message`, already cleaned.
        bank_message: Option<String>,
    },
    /// 409: a submission, resume or sync of the connection is already in flight.
    #[error("an action is already in flight")]
    ActionInFlight,
    /// 422: redirect URI not allow-listed.
    #[error("redirect not allowed")]
    RedirectNotAllowed,
    /// 422: a forged, expired, replayed or foreign callback `state`.
    #[error("invalid state: {0}")]
    InvalidState(&'static str),
    /// 429: too many requests.
    #[error("rate limited")]
    RateLimited {
        /// When to come back.
        retry_after: Duration,
    },
    /// 503: the shared store (Redis) is down, and what was asked must happen once
    /// (a callback's state, an action): refused rather than risked twice.
    #[error("the shared store is unavailable")]
    StoreUnavailable,
    /// 500: the proxy failed.
    #[error("internal: {0}")]
    Internal(String),
    /// 502/503/504: Powens failed.
    #[error("upstream: {0}")]
    Upstream(#[from] UpstreamError),
}

impl ApiError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::SessionExpired => ErrorCode::SessionExpired,
            Self::AgentStatusRequired => ErrorCode::AgentStatusRequired,
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::InvalidFields(_) => ErrorCode::InvalidFields,
            Self::Refused { code, .. } => ErrorCode::Known(*code),
            Self::ActionInFlight => ErrorCode::ActionInFlight,
            Self::RedirectNotAllowed => ErrorCode::RedirectNotAllowed,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
            Self::StoreUnavailable => ErrorCode::UpstreamUnavailable,
            Self::Upstream(e) => e.code(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The message shown to a user: fixed per code, never built from upstream text.
    fn message(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "The request was malformed.",
            Self::Unauthorized(_) => "The session is missing or invalid.",
            Self::SessionExpired => "The session has expired; a fresh one is needed.",
            Self::AgentStatusRequired => {
                "Credentials cannot be collected here; use the bank's reconnection page instead."
            }
            Self::NotFound => "No such connection.",
            Self::Conflict(_) => "This action does not apply to the connection right now.",
            Self::PayloadTooLarge => "The request body is too large.",
            Self::InvalidFields(_) => "Some values were refused.",
            Self::Refused { code, .. } => match code {
                KnownErrorCode::CredentialsRejected => "The bank refused these credentials.",
                KnownErrorCode::SyncRefused => {
                    "The bank cannot be synchronised right now; try again later."
                }
                _ => "The bank could not complete this request; see the connection's state now.",
            },
            Self::ActionInFlight => {
                "A request for this connection is already on its way to the bank; wait for its answer."
            }
            Self::RedirectNotAllowed => "This return address is not allowed.",
            Self::InvalidState(_) => "This return link is invalid, expired or already used.",
            Self::RateLimited { .. } => "Too many requests; try again shortly.",
            Self::Internal(_) => "Something went wrong on our side.",
            Self::StoreUnavailable => "This is briefly unavailable; try again in a moment.",
            Self::Upstream(e) => match e.code() {
                ErrorCode::UpstreamTimeout => {
                    "The bank aggregator is too slow to answer right now."
                }
                ErrorCode::UpstreamUnavailable => "The bank aggregator is unavailable right now.",
                ErrorCode::NotFound => "No such connection.",
                ErrorCode::Conflict => "This action does not apply to the connection right now.",
                _ => "The bank aggregator answered with an error.",
            },
        }
    }
}

tokio::task_local! {
    /// The id of the request being served (set by the request-id middleware).
    pub static REQUEST_ID: String;
}

/// The current request's id, if inside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = self.code().as_str(), error = %self, "request failed");
        } else {
            tracing::info!(code = self.code().as_str(), error = %self, "request refused");
        }
        let retry_after = match &self {
            Self::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            Self::Refused {
                code: KnownErrorCode::SyncRefused,
                ..
            } => Some(SYNC_REFUSED_RETRY.as_secs()),
            Self::StoreUnavailable => Some(STORE_RETRY.as_secs()),
            Self::Upstream(e) if status == StatusCode::SERVICE_UNAVAILABLE => {
                e.retry_after().map(|d| d.as_secs().max(1))
            }
            _ => None,
        };
        let fields = match &self {
            Self::InvalidFields(f) => Some(f.clone()),
            _ => None,
        };
        let (refused_status, bank_message) = match self {
            Self::Refused {
                ref status,
                ref bank_message,
                ..
            } => (status.clone(), bank_message.clone()),
            _ => (None, None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.message().to_owned(),
                request_id: current_request_id(),
                fields,
                retry_after,
                status: refused_status,
                bank_message,
            },
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// `Json` that answers [`ApiError`]s when the body is malformed or too large.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                // The rejection text may quote the body: keep it out of logs.
                ApiError::BadRequest(format!("body rejected ({})", rejection.status()))
            }),
        }
    }
}
