//! Every Powens answer read in one place: the JSON on 2xx, else one typed
//! [`UpstreamError`]. A non-2xx answer becomes a [`Refusal`] (status, Powens `code`,
//! displayable `message`, `request_id`, `Retry-After`) by [`read_answer`] alone, so
//! the current body (`{"code", "description", "message", "request_id"}`), the legacy
//! one (`{"error": "wrongpass", "message": …}`), a `request_id` as number or string
//! and bodies that are not JSON at all are all read the same way.

use mend_model::api::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Largest upstream answer read.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Longest bank message kept (characters): it is shown to a user as the bank's words.
pub const MAX_BANK_MESSAGE_CHARS: usize = 300;

/// A non-2xx answer of Powens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// Powens' error code (`wrongpass`, `invalidValue`, ...), empty when unreadable.
    /// Kept only when it looks like a code (it is logged and matched, never shown).
    pub code: String,
    /// Powens' displayable `message` (the bank's words), cleaned by
    /// [`clean_bank_message`]; `None` when absent or empty.
    pub message: Option<String>,
    /// Powens' request id, for support (never shown to a user).
    pub request_id: Option<String>,
    /// Its `Retry-After`, if any.
    pub retry_after: Option<Duration>,
}

impl Refusal {
    /// Whether Powens' code is `code` (compared without regard to case: the docs
    /// write `wrongPass` where the spec writes `wrongpass`).
    pub fn is(&self, code: &str) -> bool {
        self.code.eq_ignore_ascii_case(code)
    }
}

/// Why a Powens call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// Powens answered non-2xx.
    #[error("Powens answered {} `{}`", .0.status, .0.code)]
    Api(Box<Refusal>),
    /// No answer in time.
    #[error("Powens timed out")]
    Timeout,
    /// Could not reach Powens, or the connection broke.
    #[error("Powens unreachable: {0}")]
    Unreachable(String),
    /// A 2xx answer that is not what was expected.
    #[error("Powens answered something unreadable: {0}")]
    Malformed(String),
    /// Not sent: the request budget for Powens is spent, or Powens asked the whole
    /// client to wait (a 429); `retry_after` says when a request may go again.
    #[error("Powens request held back for {retry_after:?} (fair use)")]
    HeldBack {
        /// When to try again.
        retry_after: Duration,
    },
}

impl UpstreamError {
    /// The proxy error code this failure answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Api(r) => match r.status {
                404 => ErrorCode::NotFound,
                409 => ErrorCode::Conflict,
                429 | 503 => ErrorCode::UpstreamUnavailable,
                504 => ErrorCode::UpstreamTimeout,
                _ => ErrorCode::UpstreamError,
            },
            Self::Timeout => ErrorCode::UpstreamTimeout,
            Self::Malformed(_) => ErrorCode::UpstreamError,
            Self::Unreachable(_) | Self::HeldBack { .. } => ErrorCode::UpstreamUnavailable,
        }
    }

    /// Powens' refusal, when it answered one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Api(r) => Some(r),
            _ => None,
        }
    }

    /// When the caller may try again, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(r) => r.retry_after,
            Self::HeldBack { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The metrics label of the outcome.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Self::Api(_) => "error",
            Self::Timeout => "timeout",
            Self::Unreachable(_) => "unreachable",
            Self::Malformed(_) => "malformed",
            Self::HeldBack { .. } => "held_back",
        }
    }
}

/// A reqwest failure, stripped of its URL (it may carry a `state`, a redirect URI or
/// a code).
pub(crate) fn from_reqwest(e: reqwest::Error) -> UpstreamError {
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
        return serde_json::from_slice(body)
            .map_err(|e| UpstreamError::Malformed(format!("{} at {}", category(&e), e.column())));
    }
    Err(UpstreamError::Api(Box::new(classify(
        status.as_u16(),
        retry_after,
        &body,
    ))))
}

/// A non-2xx answer's body, read liberally.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Refusal {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
    // Current bodies say `code`; legacy ones `error` (with `message` beside it).
    let code = text("code")
        .filter(|c| !c.is_empty())
        .or_else(|| text("error"))
        .unwrap_or_default();
    let code = if code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        code
    } else {
        String::new()
    };
    let request_id = match json.get("request_id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
    .filter(|r| r.len() <= 128 && r.bytes().all(|b| b.is_ascii_graphic()));
    Refusal {
        status,
        code,
        message: text("message").and_then(|m| clean_bank_message(&m)),
        request_id,
        retry_after,
    }
}

/// A bank's message made safe to show as text: control characters dropped (line
/// breaks become spaces), runs of white space folded, at most
/// [`MAX_BANK_MESSAGE_CHARS`] characters (an ellipsis marks a cut). `None` if
/// nothing is left.
pub fn clean_bank_message(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut space = false;
    let mut chars = 0;
    for c in raw.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}') {
            continue;
        }
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if space {
            if chars + 1 >= MAX_BANK_MESSAGE_CHARS {
                break;
            }
            out.push(' ');
            chars += 1;
            space = false;
        }
        if chars >= MAX_BANK_MESSAGE_CHARS {
            out.pop();
            out.push('…');
            return Some(out);
        }
        out.push(c);
        chars += 1;
    }
    (!out.is_empty()).then_some(out)
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "truncated",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> UpstreamError {
        UpstreamError::Api(Box::new(classify(status, None, b"")))
    }

    #[test]
    fn failures_map_to_the_documented_codes() {
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
    fn current_and_legacy_bodies_read_alike() {
        let current = classify(
            400,
            None,
            br#"{"code":"wrongpass","description":"tech","message":"Mot de passe incorrect","request_id":"r-1"}"#,
        );
        assert_eq!(current.code, "wrongpass");
        assert_eq!(current.message.as_deref(), Some("Mot de passe incorrect"));
        assert_eq!(current.request_id.as_deref(), Some("r-1"));
        let legacy = classify(
            400,
            None,
            br#"{"error":"wrongpass","message":"Wrong credentials"}"#,
        );
        assert_eq!(legacy.code, "wrongpass");
        assert_eq!(legacy.message.as_deref(), Some("Wrong credentials"));
        let numeric = classify(500, None, br#"{"code":"bug","request_id":42}"#);
        assert_eq!(numeric.request_id.as_deref(), Some("42"));
        let html = classify(502, None, b"<html>bad gateway</html>");
        assert_eq!((html.code.as_str(), html.message), ("", None));
        let forged = classify(400, None, br#"{"code":"<script>","message":null}"#);
        assert_eq!((forged.code.as_str(), forged.message), ("", None));
        assert!(legacy.is("wrongPass"));
    }

    #[test]
    fn bank_messages_are_cleaned_and_capped() {
        assert_eq!(
            clean_bank_message("  Votre\nbanque\u{7}  refuse\t\tl'accès \u{202e}"),
            Some("Votre banque refuse l'accès".into())
        );
        assert_eq!(clean_bank_message(" \n\u{0} "), None);
        let long = "é".repeat(1000);
        let cut = clean_bank_message(&long).unwrap();
        assert_eq!(cut.chars().count(), MAX_BANK_MESSAGE_CHARS);
        assert!(cut.ends_with('…'));
    }
}
