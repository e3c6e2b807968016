//! Talking to the proxy: the [`Api`] seam, its real `fetch` implementation
//! ([`HttpClient`]) and a scripted one for tests ([`FakeClient`]).
//!
//! A trait object with boxed futures rather than an enum: the element's wasm only
//! references `HttpClient`, so the fake never ships to browsers.

use crate::error::ClientError;
use mend_model::api::{
    CallbackRequest, CallbackResult, ConnectionStatus, ErrorBody, FieldsSubmission, RedirectKind,
    RedirectRequest, RedirectUrl,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A pending answer.
pub type Reply = Pin<Box<dyn Future<Output = Result<Answer, ClientError>>>>;

/// Where and as whom to call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    /// The proxy's origin (`api-base`), e.g. `https://proxy.example`.
    pub base: String,
    /// The session JWT, sent as `Authorization: Bearer`.
    pub session: String,
}

/// One request of `docs/api.md`.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `GET /api/v1/connections/{id}`, optionally long-polling `?wait=&since=`.
    Status {
        /// Connection id.
        id: i64,
        /// `(seconds, data-state)` to long-poll.
        wait: Option<(u32, String)>,
    },
    /// `POST …/fields`.
    Fields {
        /// Connection id.
        id: i64,
        /// The values.
        body: FieldsSubmission,
    },
    /// `POST …/resume`.
    Resume {
        /// Connection id.
        id: i64,
    },
    /// `POST …/sync`.
    Sync {
        /// Connection id.
        id: i64,
    },
    /// `POST …/reconnect-url` or `POST …/webauth-url`.
    RedirectUrl {
        /// Connection id.
        id: i64,
        /// Which one.
        kind: RedirectKind,
        /// Where to come back, in which language.
        body: RedirectRequest,
    },
    /// `POST /api/v1/callback`.
    Callback(CallbackRequest),
}

/// What a [`Call`] answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A connection's status.
    Status(ConnectionStatus),
    /// A redirect URL.
    Redirect(RedirectUrl),
    /// A checked return.
    Callback(CallbackResult),
}

impl Call {
    /// `GET` or `POST`.
    pub fn method(&self) -> &'static str {
        match self {
            Call::Status { .. } => "GET",
            _ => "POST",
        }
    }

    /// The path and query under the proxy's origin.
    pub fn path(&self) -> String {
        let conn = |id: &i64, rest: &str| format!("/api/v1/connections/{id}{rest}");
        match self {
            Call::Status { id, wait: None } => conn(id, ""),
            Call::Status {
                id,
                wait: Some((secs, since)),
            } => conn(id, &format!("?wait={secs}&since={}", encode(since))),
            Call::Fields { id, .. } => conn(id, "/fields"),
            Call::Resume { id } => conn(id, "/resume"),
            Call::Sync { id } => conn(id, "/sync"),
            Call::RedirectUrl {
                id,
                kind: RedirectKind::Reconnect,
                ..
            } => conn(id, "/reconnect-url"),
            Call::RedirectUrl {
                id,
                kind: RedirectKind::Webauth,
                ..
            } => conn(id, "/webauth-url"),
            Call::Callback(_) => "/api/v1/callback".into(),
        }
    }

    /// The JSON body (`None` for a `GET`).
    pub fn body(&self) -> Option<String> {
        let json = match self {
            Call::Status { .. } => return None,
            Call::Fields { body, .. } => serde_json::to_string(body),
            Call::Resume { .. } | Call::Sync { .. } => Ok("{}".to_owned()),
            Call::RedirectUrl { body, .. } => serde_json::to_string(body),
            Call::Callback(body) => serde_json::to_string(body),
        };
        // These types serialise infallibly (strings and maps of strings).
        Some(json.unwrap_or_else(|_| "{}".to_owned()))
    }

    /// Reads a 2xx body as this call's answer.
    pub fn parse(&self, text: &str) -> Result<Answer, ClientError> {
        let answer = match self {
            Call::RedirectUrl { .. } => serde_json::from_str(text).map(Answer::Redirect),
            Call::Callback(_) => serde_json::from_str(text).map(Answer::Callback),
            _ => serde_json::from_str(text).map(Answer::Status),
        };
        answer.map_err(|_| ClientError::BadAnswer)
    }

    /// Whether this is a long poll (the fake leaves those pending unless scripted).
    pub fn is_long_poll(&self) -> bool {
        matches!(self, Call::Status { wait: Some(_), .. })
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The proxy, as the widget sees it.
pub trait Api {
    /// Performs `call`. `abort` cancels it (the answer is then [`ClientError::Aborted`]).
    fn call(&self, to: &Endpoint, call: Call, abort: Option<web_sys::AbortSignal>) -> Reply;
}

/// The real client: `fetch` through gloo-net.
#[derive(Debug, Default, Clone, Copy)]
pub struct HttpClient;

impl Api for HttpClient {
    fn call(&self, to: &Endpoint, call: Call, abort: Option<web_sys::AbortSignal>) -> Reply {
        let url = format!("{}{}", to.base.trim_end_matches('/'), call.path());
        let bearer = format!("Bearer {}", to.session);
        Box::pin(async move {
            use gloo_net::http::RequestBuilder;
            let builder = RequestBuilder::new(&url)
                .method(if call.method() == "GET" {
                    gloo_net::http::Method::GET
                } else {
                    gloo_net::http::Method::POST
                })
                .header("Authorization", &bearer)
                .header("Accept", "application/json")
                .abort_signal(abort.as_ref());
            let request = match call.body() {
                Some(body) => builder
                    .header("Content-Type", "application/json")
                    .body(body),
                None => builder.build(),
            }
            .map_err(|_| ClientError::Network)?;
            let aborted = || abort.as_ref().is_some_and(|a| a.aborted());
            let response = request.send().await.map_err(|_| {
                if aborted() {
                    ClientError::Aborted
                } else {
                    ClientError::Network
                }
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse().ok());
            let text = response.text().await.map_err(|_| {
                if aborted() {
                    ClientError::Aborted
                } else {
                    ClientError::Network
                }
            })?;
            if (200..300).contains(&status) {
                call.parse(&text)
            } else {
                Err(error_for(status, &text, retry_after))
            }
        })
    }
}

/// The one place a non-2xx answer becomes a [`ClientError`].
pub fn error_for(status: u16, body: &str, retry_after: Option<u64>) -> ClientError {
    ClientError::from_answer(
        status,
        serde_json::from_str::<ErrorBody>(body).ok(),
        retry_after,
    )
}

/// A call the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The call.
    pub call: Call,
    /// Where and as whom.
    pub to: Endpoint,
}

/// A scripted proxy for tests: answers from a queue, records every call.
///
/// Rules: a scripted answer is consumed in order by the first call it fits (a status
/// answers status, resume, sync and fields calls; a redirect answers redirect calls;
/// a callback result answers the callback; an error answers anything). A long poll
/// with nothing scripted for it stays pending forever, as a quiet proxy would. Any
/// other call with nothing scripted answers the last status given, else `Network`.
#[derive(Debug, Default)]
pub struct FakeClient {
    script: RefCell<VecDeque<(Option<Kind>, Option<Scripted>)>>,
    calls: RefCell<Vec<Recorded>>,
    last_status: RefCell<Option<ConnectionStatus>>,
}

/// A scripted answer.
pub type Scripted = Result<Answer, ClientError>;

/// Which calls a scripted answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain `GET` of the status.
    Get,
    /// A long poll.
    LongPoll,
    /// A `POST` answering a status (fields, resume, sync).
    Action,
    /// A redirect URL.
    Redirect,
    /// The callback.
    Callback,
}

impl Kind {
    fn of(call: &Call) -> Self {
        match call {
            Call::Status { wait: None, .. } => Kind::Get,
            Call::Status { .. } => Kind::LongPoll,
            Call::Fields { .. } | Call::Resume { .. } | Call::Sync { .. } => Kind::Action,
            Call::RedirectUrl { .. } => Kind::Redirect,
            Call::Callback(_) => Kind::Callback,
        }
    }
}

impl FakeClient {
    /// An empty script.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Queues an answer for the next call of any fitting kind.
    pub fn answer(&self, answer: Result<Answer, ClientError>) -> &Self {
        self.script.borrow_mut().push_back((None, Some(answer)));
        self
    }

    /// Makes the next call of `kind` never answer (a slow proxy).
    pub fn hang(&self, kind: Kind) -> &Self {
        self.script.borrow_mut().push_back((Some(kind), None));
        self
    }

    /// Queues an answer for the next call of `kind` only.
    pub fn answer_to(&self, kind: Kind, answer: Result<Answer, ClientError>) -> &Self {
        self.script
            .borrow_mut()
            .push_back((Some(kind), Some(answer)));
        self
    }

    /// Queues a status for the next call that answers one.
    pub fn status(&self, status: ConnectionStatus) -> &Self {
        self.answer(Ok(Answer::Status(status)))
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Recorded> {
        self.calls.borrow().clone()
    }

    /// The calls so far, without long polls (what the user caused).
    pub fn requests(&self) -> Vec<Call> {
        self.calls
            .borrow()
            .iter()
            .filter(|r| !r.call.is_long_poll())
            .map(|r| r.call.clone())
            .collect()
    }

    fn take(&self, call: &Call) -> Option<Option<Scripted>> {
        let kind = Kind::of(call);
        let mut script = self.script.borrow_mut();
        let pos = script.iter().position(|(k, a)| match (k, a) {
            (Some(k), _) => *k == kind,
            (None, None) => false,
            (None, Some(Err(_))) => kind != Kind::LongPoll,
            (None, Some(Ok(Answer::Status(_)))) => {
                matches!(kind, Kind::Get | Kind::Action)
            }
            (None, Some(Ok(Answer::Redirect(_)))) => kind == Kind::Redirect,
            (None, Some(Ok(Answer::Callback(_)))) => kind == Kind::Callback,
        })?;
        script.remove(pos).map(|(_, a)| a)
    }
}

impl Api for FakeClient {
    fn call(&self, to: &Endpoint, call: Call, _abort: Option<web_sys::AbortSignal>) -> Reply {
        self.calls.borrow_mut().push(Recorded {
            call: call.clone(),
            to: to.clone(),
        });
        let answer = match self.take(&call) {
            Some(Some(answer)) => answer,
            Some(None) => return Box::pin(std::future::pending()),
            None if call.is_long_poll() => return Box::pin(std::future::pending()),
            None => match (&call, self.last_status.borrow().clone()) {
                (Call::Status { .. } | Call::Resume { .. } | Call::Sync { .. }, Some(s)) => {
                    Ok(Answer::Status(s))
                }
                _ => Err(ClientError::Network),
            },
        };
        if let Ok(Answer::Status(s)) = &answer {
            *self.last_status.borrow_mut() = Some(s.clone());
        }
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_map_to_the_documented_routes() {
        assert_eq!(
            Call::Status { id: 7, wait: None }.path(),
            "/api/v1/connections/7"
        );
        assert_eq!(
            Call::Status {
                id: 7,
                wait: Some((25, "a b&c".into()))
            }
            .path(),
            "/api/v1/connections/7?wait=25&since=a%20b%26c"
        );
        assert_eq!(
            Call::Resume { id: 7 }.path(),
            "/api/v1/connections/7/resume"
        );
        assert_eq!(Call::Sync { id: 7 }.body().as_deref(), Some("{}"));
        let r = Call::RedirectUrl {
            id: 7,
            kind: RedirectKind::Webauth,
            body: RedirectRequest {
                redirect_uri: "https://a/b".into(),
                lang: Some("fr".into()),
            },
        };
        assert_eq!(r.path(), "/api/v1/connections/7/webauth-url");
        assert_eq!(r.method(), "POST");
        assert_eq!(
            r.body().as_deref(),
            Some(r#"{"redirect_uri":"https://a/b","lang":"fr"}"#)
        );
        assert_eq!(
            Call::Callback(CallbackRequest::default()).path(),
            "/api/v1/callback"
        );
        assert_eq!(Call::Status { id: 1, wait: None }.body(), None);
    }

    #[test]
    fn answers_are_parsed_per_call_and_errors_mapped() {
        let r = Call::RedirectUrl {
            id: 7,
            kind: RedirectKind::Reconnect,
            body: RedirectRequest::default(),
        };
        assert_eq!(
            r.parse(r#"{"kind":"reconnect","url":"https://x"}"#),
            Ok(Answer::Redirect(RedirectUrl {
                kind: RedirectKind::Reconnect,
                url: "https://x".into()
            }))
        );
        assert_eq!(r.parse("<html>"), Err(ClientError::BadAnswer));
        let e = error_for(
            422,
            r#"{"error":{"code":"invalid_fields","message":"Some values were refused.","request_id":"x","fields":{"otp":"pattern"}}}"#,
            None,
        );
        assert_eq!(e.code(), "invalid_fields");
        assert!(matches!(e, ClientError::Api { ref fields, .. } if fields.len() == 1));
        assert_eq!(error_for(502, "Bad gateway", None).code(), "upstream_error");
    }
}
