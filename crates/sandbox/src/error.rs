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
    /// Written in the legacy shape `{"error": code, "message": ...}`.
    pub legacy: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            message: None,
            legacy: false,
        }
    }

    /// The same error, in the legacy shape when `legacy`.
    pub fn legacy_if(mut self, legacy: bool) -> Self {
        self.legacy = legacy;
        self
    }

    /// 400 with a code of the scenario's choosing and the bank's message.
    pub fn refused(code: &str, message: Option<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            // Codes are a closed set of &'static str elsewhere; a scenario's is leaked
            // once per distinct value (a handful in any run).
            code: leak(code),
            description: format!("The bank refused the request ({code})"),
            message,
            legacy: false,
        }
    }

    /// 409 on a sync Powens will not force.
    pub fn sync_refused(id: i64) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("Can't force synchronization of connection {id}"),
        )
    }

    /// 403 of an old Powens for a revoked token: `{"error": "Invalid token"}`.
    pub fn invalid_token() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "Invalid token",
            description: "Invalid token".into(),
            message: Some("Invalid token".into()),
            legacy: true,
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
            legacy: false,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        if self.legacy {
            return serde_json::json!({
                "error": self.code,
                "message": self.message.as_deref().unwrap_or(&self.description),
            });
        }
        serde_json::json!({
            "code": self.code,
            "description": self.description,
            "message": self.message,
            "request_id": request_id(),
        })
    }
}

/// A `&'static str` for a scenario's code, each distinct value leaked once.
fn leak(code: &str) -> &'static str {
    use std::sync::Mutex;
    static CODES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut codes = CODES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = codes.iter().find(|c| **c == code) {
        return c;
    }
    let c: &'static str = Box::leak(code.chars().take(64).collect::<String>().into_boxed_str());
    codes.push(c);
    c
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
