//! Powens' error envelope, as the sandbox writes it:
//! `{"code": "...", "description": "...", "message": null, "request_id": "..."}`.
//!
//! `request_id` is a string (the spec's type; the prose docs say integer and
//! `mend_model::RequestId` reads both).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// A fresh request id (`sbx-00000042`).
pub(crate) fn request_id() -> String {
    format!("sbx-{:08}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed))
}

/// An error answer of the simulated Powens API.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    pub message: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            message: None,
        }
    }

    /// 401: no bearer token, or one the sandbox does not know (revoked, expired).
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", description)
    }

    /// 401: wrong `client_id` / `client_secret`.
    pub fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalidClient",
            "Invalid client_id or client_secret",
        )
    }

    /// 404: unknown resource in the token's scope (another user's included).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("{what} not found"),
        )
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidValue", description)
    }

    /// 400 `missingParameter`.
    pub fn missing(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "missingParameter",
            format!("Missing parameter: {name}"),
        )
    }

    /// 400 `wrongpass`, with the bank's (untranslated) message.
    pub fn wrongpass(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "wrongpass",
            description: "Wrong credentials".into(),
            message: Some(message.into()),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "description": self.description,
            "message": self.message,
            "request_id": request_id(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
