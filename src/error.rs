//! [`ClientError`]: everything that can go wrong talking to the proxy, as one
//! `Clone + PartialEq` value (it lives in the state machine and in signals).
//!
//! Plain Rust on purpose: the state machine classifies errors and is unit-tested
//! natively, so this module knows nothing about `fetch`.

use crate::i18n::Texts;
use mend_model::api::{ConnectionStatus, ErrorBody, ErrorCode, FieldProblem, KnownErrorCode as K};
use std::collections::BTreeMap;

/// A failed call to the proxy.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// No HTTP answer at all: offline, DNS, CORS refused, proxy down.
    Network,
    /// Cancelled by the widget itself (unmount, newer request). Never shown.
    Aborted,
    /// A 2xx answer whose body is not what `docs/api.md` documents.
    BadAnswer,
    /// A redirect URL the widget refuses to open (not `https:`, nor `http:` to
    /// localhost or the proxy's own origin): `javascript:` and the like.
    BadRedirect,
    /// An error answer of the proxy (`{"error": {...}}`).
    Api {
        /// HTTP status.
        status: u16,
        /// The stable code (`session_expired`, `invalid_fields`, ...).
        code: ErrorCode,
        /// The proxy's message (English, safe to show; the widget prefers its own copy).
        message: String,
        /// For support: also in the proxy's logs.
        request_id: Option<String>,
        /// For `invalid_fields`: each refused field and why.
        fields: BTreeMap<String, FieldProblem>,
        /// For `rate_limited`: seconds to wait.
        retry_after: Option<u64>,
        /// For `credentials_rejected`, `bank_refused` and `sync_refused`: what the
        /// proxy learnt with the refusal (boxed: most errors have none).
        refusal: Option<Box<Refusal>>,
    },
}

/// What a refusal says besides its code.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The connection's status read right after the refusal.
    pub status: Option<ConnectionStatus>,
    /// The bank's own words about it (untranslated), if it gave any.
    pub bank_message: Option<String>,
}

/// How the state machine reacts to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Ignore (an aborted request).
    Silent,
    /// The session is gone: ask the host for a new one.
    SessionExpired,
    /// The connection does not exist for this session.
    NotFound,
    /// The proxy or Powens can't be reached now: back off and retry.
    Unavailable,
    /// The request was refused; the user can correct something and try again.
    Refused,
    /// The connection changed under us: fetch it again.
    Stale,
}

impl ClientError {
    /// Builds the error for a non-2xx answer: `status`, its parsed body (if it was
    /// one), and the `Retry-After` header (if any).
    pub fn from_answer(status: u16, body: Option<ErrorBody>, retry_after: Option<u64>) -> Self {
        match body {
            Some(ErrorBody { error }) => ClientError::Api {
                status,
                code: error.code,
                message: error.message,
                request_id: error.request_id,
                fields: error.fields.unwrap_or_default(),
                retry_after: error.retry_after.or(retry_after),
                refusal: {
                    let bank_message = error.bank_message.filter(|m| !m.trim().is_empty());
                    (error.status.is_some() || bank_message.is_some()).then(|| {
                        Box::new(Refusal {
                            status: error.status.map(|s| *s),
                            bank_message,
                        })
                    })
                },
            },
            // A bare 5xx from a load balancer, or a 404 from a misconfigured `api-base`.
            None => ClientError::Api {
                status,
                code: match status {
                    401 => ErrorCode::Unauthorized,
                    404 => ErrorCode::NotFound,
                    429 => ErrorCode::RateLimited,
                    502 => ErrorCode::UpstreamError,
                    503 => ErrorCode::UpstreamUnavailable,
                    504 => ErrorCode::UpstreamTimeout,
                    400..=499 => ErrorCode::BadRequest,
                    _ => ErrorCode::Internal,
                },
                message: String::new(),
                request_id: None,
                fields: BTreeMap::new(),
                retry_after,
                refusal: None,
            },
        }
    }

    /// The connection's status as the proxy read it right after this refusal.
    pub fn fresh(&self) -> Option<&ConnectionStatus> {
        match self {
            ClientError::Api {
                refusal: Some(r), ..
            } => r.status.as_ref(),
            _ => None,
        }
    }

    /// The bank's own words about this refusal, if any.
    pub fn bank_message(&self) -> Option<&str> {
        match self {
            ClientError::Api {
                refusal: Some(r), ..
            } => r.bank_message.as_deref(),
            _ => None,
        }
    }

    /// The `code` of `mend:error`: the proxy's code, or `network` / `bad_answer`.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Network => "network",
            ClientError::Aborted => "aborted",
            ClientError::BadAnswer => "bad_answer",
            ClientError::BadRedirect => "bad_redirect",
            ClientError::Api { code, .. } => code.as_str(),
        }
    }

    /// The proxy's code, when there was an error answer.
    pub fn api_code(&self) -> Option<&ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// How the widget reacts.
    pub fn severity(&self) -> Severity {
        match self {
            ClientError::Aborted => Severity::Silent,
            ClientError::Network | ClientError::BadAnswer => Severity::Unavailable,
            // Nothing the user can correct: said like an unavailable service, beside
            // the state they were repairing (which stays shown).
            ClientError::BadRedirect => Severity::Refused,
            ClientError::Api { code, status, .. } => match code.known() {
                Some(K::SessionExpired | K::Unauthorized) => Severity::SessionExpired,
                Some(K::NotFound) => Severity::NotFound,
                Some(K::Conflict) => Severity::Stale,
                Some(
                    K::RateLimited
                    | K::Internal
                    | K::UpstreamError
                    | K::UpstreamUnavailable
                    | K::UpstreamTimeout,
                ) => Severity::Unavailable,
                None if *status >= 500 => Severity::Unavailable,
                _ => Severity::Refused,
            },
        }
    }

    /// Whether the request ended without saying how it went: no answer in time
    /// (`upstream_timeout`, a gateway's bare 504), a gateway's or Powens' error
    /// (`upstream_error`), no HTTP answer at all, or a 2xx the widget cannot read.
    /// After an action these mean "the bank may have done it": read the status again.
    pub fn unanswered(&self) -> bool {
        match self {
            ClientError::Network | ClientError::BadAnswer => true,
            ClientError::Api { code, .. } => {
                matches!(code.known(), Some(K::UpstreamTimeout | K::UpstreamError))
            }
            _ => false,
        }
    }

    /// Seconds the proxy asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ClientError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The message for `mend:error`'s `detail.message`: the proxy's (documented as safe),
    /// else the English copy.
    pub fn message(&self) -> String {
        match self {
            ClientError::Api { message, .. } if !message.is_empty() => message.clone(),
            _ => self.user_message(&crate::i18n::EN).to_owned(),
        }
    }

    /// What to tell the user, in their language.
    pub fn user_message(&self, t: &Texts) -> &'static str {
        if *self == ClientError::BadRedirect {
            return t.err_unavailable;
        }
        match self.severity() {
            // Never shown: these refetch (stale) or say nothing (aborted).
            Severity::Silent | Severity::Stale => t.err_refused,
            Severity::SessionExpired => t.expired_body,
            Severity::NotFound => t.not_found_body,
            Severity::Unavailable => {
                if self.api_code() == Some(&ErrorCode::RateLimited) {
                    t.err_rate_limited
                } else {
                    t.err_unavailable
                }
            }
            Severity::Refused => match self.api_code().and_then(ErrorCode::known) {
                Some(K::CredentialsRejected) => t.err_credentials,
                Some(K::InvalidFields) => t.err_fields,
                Some(K::RedirectNotAllowed) => t.err_redirect,
                Some(K::InvalidState) => t.err_return,
                Some(K::SyncRefused) => t.err_sync_refused,
                Some(K::ActionInFlight) => t.err_in_flight,
                Some(K::BankRefused) => t.err_bank_refused,
                _ => t.err_refused,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::api::ErrorDetail;

    fn api(code: ErrorCode) -> ClientError {
        ClientError::from_answer(
            code.http_status(),
            Some(ErrorBody {
                error: ErrorDetail {
                    code,
                    message: "m".into(),
                    request_id: Some("r".into()),
                    fields: None,
                    retry_after: None,
                    status: None,
                    bank_message: None,
                },
            }),
            None,
        )
    }

    #[test]
    fn each_code_has_a_reaction() {
        assert_eq!(
            api(ErrorCode::SessionExpired).severity(),
            Severity::SessionExpired
        );
        assert_eq!(
            api(ErrorCode::Unauthorized).severity(),
            Severity::SessionExpired
        );
        assert_eq!(api(ErrorCode::NotFound).severity(), Severity::NotFound);
        assert_eq!(api(ErrorCode::Conflict).severity(), Severity::Stale);
        assert_eq!(
            api(ErrorCode::UpstreamTimeout).severity(),
            Severity::Unavailable
        );
        assert_eq!(
            api(ErrorCode::RateLimited).severity(),
            Severity::Unavailable
        );
        assert_eq!(
            api(ErrorCode::CredentialsRejected).severity(),
            Severity::Refused
        );
        assert_eq!(ClientError::Network.severity(), Severity::Unavailable);
        assert_eq!(ClientError::Aborted.severity(), Severity::Silent);
    }

    #[test]
    fn a_bare_status_still_gets_a_code() {
        let e = ClientError::from_answer(503, None, Some(7));
        assert_eq!(e.code(), "upstream_unavailable");
        assert_eq!(e.retry_after(), Some(7));
        assert_eq!(e.severity(), Severity::Unavailable);
        assert_eq!(
            ClientError::from_answer(418, None, None).code(),
            "bad_request"
        );
    }

    #[test]
    fn messages_prefer_the_proxy_s_then_the_copy() {
        assert_eq!(api(ErrorCode::Internal).message(), "m");
        assert_eq!(
            ClientError::Network.message(),
            crate::i18n::EN.err_unavailable
        );
        assert_eq!(
            api(ErrorCode::CredentialsRejected).user_message(&crate::i18n::EN),
            crate::i18n::EN.err_credentials
        );
    }
}
