//! Talking to the proxy: the [`Api`] seam, its real `fetch` implementation
//! ([`HttpClient`]) and a scripted one for tests ([`FakeClient`]).
//!
//! A trait object with boxed futures rather than an enum: the element's wasm only
//! references `HttpClient`, so the fake never ships to browsers.

use crate::error::ClientError;
use crate::wire;
use mend_model::api::{
    CallbackRequest, CallbackResult, ConnectionStatus, FieldsSubmission, RedirectKind,
    RedirectRequest, RedirectUrl,
};

pub mod shared;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

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
    /// `GET /api/v1/connections`: every connection of the session user.
    List,
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
    /// The session user's connections.
    List(Vec<ConnectionStatus>),
}

impl Call {
    /// `GET` or `POST`.
    pub fn method(&self) -> &'static str {
        match self {
            Call::Status { .. } | Call::List => "GET",
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
            Call::List => "/api/v1/connections".into(),
        }
    }

    /// The JSON body (`None` for a `GET`).
    pub fn body(&self) -> Option<String> {
        Some(match self {
            Call::Status { .. } | Call::List => return None,
            Call::Fields { body, .. } => wire::fields_body(body),
            Call::Resume { .. } | Call::Sync { .. } => "{}".to_owned(),
            Call::RedirectUrl { body, .. } => wire::redirect_body(body),
            Call::Callback(body) => wire::callback_body(body),
        })
    }

    /// Reads a 2xx body as this call's answer (through the browser's `JSON.parse`).
    pub fn parse(&self, text: &str) -> Result<Answer, ClientError> {
        let v = wire::parse(text).ok_or(ClientError::BadAnswer)?;
        match self {
            Call::RedirectUrl { .. } => wire::redirect(&v).map(Answer::Redirect),
            Call::Callback(_) => wire::callback(&v).map(Answer::Callback),
            Call::List => wire::list(&v).map(Answer::List),
            _ => wire::status(&v).map(Answer::Status),
        }
        .ok_or(ClientError::BadAnswer)
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

    /// As [`Api::call`], but `started` may be that very request already under way:
    /// `{url, auth, response}`, the status `fetch` that `mend.js` starts when the element
    /// is connected, while the wasm loads. Its answer is read exactly as `call`'s.
    fn adopt(
        &self,
        to: &Endpoint,
        call: Call,
        abort: Option<web_sys::AbortSignal>,
        started: JsValue,
    ) -> Reply {
        let _ = started;
        self.call(to, call, abort)
    }
}

/// The real client: the browser's `fetch`, straight through web-sys (gloo-net's
/// builder and error types cost more wasm than these few calls).
#[derive(Debug, Default, Clone, Copy)]
pub struct HttpClient;

impl Api for HttpClient {
    fn call(&self, to: &Endpoint, call: Call, abort: Option<web_sys::AbortSignal>) -> Reply {
        self.adopt(to, call, abort, JsValue::UNDEFINED)
    }

    fn adopt(
        &self,
        to: &Endpoint,
        call: Call,
        abort: Option<web_sys::AbortSignal>,
        started: JsValue,
    ) -> Reply {
        let url = format!("{}{}", to.base.trim_end_matches('/'), call.path());
        let bearer = format!("Bearer {}", to.session);
        // Only if it is this very request (same URL, same session): else fetch anew.
        let started = started_field(&started, to, &call, "response")
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
        Box::pin(async move {
            use wasm_bindgen_futures::JsFuture;
            let aborted = || abort.as_ref().is_some_and(|a| a.aborted());
            let failed = |_| {
                if aborted() {
                    ClientError::Aborted
                } else {
                    ClientError::Network
                }
            };
            let fetched = match started {
                Some(p) => p,
                None => {
                    let init = web_sys::RequestInit::new();
                    init.set_method(call.method());
                    let headers = web_sys::Headers::new().map_err(|_| ClientError::Network)?;
                    let _ = headers.set("Authorization", &bearer);
                    let _ = headers.set("Accept", "application/json");
                    if let Some(body) = call.body() {
                        let _ = headers.set("Content-Type", "application/json");
                        init.set_body(&body.into());
                    }
                    init.set_headers(&headers);
                    init.set_signal(abort.as_ref());
                    let window = web_sys::window().ok_or(ClientError::Network)?;
                    window.fetch_with_str_and_init(&url, &init)
                }
            };
            let response: web_sys::Response = JsFuture::from(fetched)
                .await
                .map_err(failed)?
                .unchecked_into();
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse().ok());
            let text = JsFuture::from(response.text().map_err(failed)?)
                .await
                .map_err(failed)?
                .as_string()
                .unwrap_or_default();
            if (200..300).contains(&status) {
                call.parse(&text)
            } else {
                Err(error_for(status, &text, retry_after))
            }
        })
    }
}

/// `started`'s field `key` if `started` is `call` to `to` (a `GET` of the same URL
/// with the same session; see [`Api::adopt`]).
fn started_field(started: &JsValue, to: &Endpoint, call: &Call, key: &str) -> Option<JsValue> {
    let field = |k: &str| js_sys::Reflect::get(started, &k.into()).ok();
    let url = format!("{}{}", to.base.trim_end_matches('/'), call.path());
    let bearer = format!("Bearer {}", to.session);
    (call.method() == "GET"
        && field("url").and_then(|v| v.as_string()).as_ref() == Some(&url)
        && field("auth").and_then(|v| v.as_string()).as_ref() == Some(&bearer))
    .then(|| field(key))
    .flatten()
}

/// The status `started` already holds, if its 2xx answer's text is in (`mend.js`
/// reads it as soon as it arrives): the widget then mounts straight into that state,
/// with no loading panel to build and replace, and no wait on the wasm's first task.
pub fn answered(started: &JsValue, to: &Endpoint, call: &Call) -> Option<ConnectionStatus> {
    let text = started_field(started, to, call, "text")?.as_string()?;
    match call.parse(&text) {
        Ok(Answer::Status(s)) => Some(s),
        _ => None,
    }
}

/// The one place a non-2xx answer becomes a [`ClientError`].
pub fn error_for(status: u16, body: &str, retry_after: Option<u64>) -> ClientError {
    let parsed = wire::parse(body).as_ref().and_then(wire::error);
    ClientError::from_answer(status, parsed, retry_after)
}

/// A call the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The call.
    pub call: Call,
    /// Where and as whom.
    pub to: Endpoint,
    /// Its abort signal (tests check what was cancelled).
    pub abort: Option<web_sys::AbortSignal>,
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
    /// The list of connections.
    List,
}

impl Kind {
    fn of(call: &Call) -> Self {
        match call {
            Call::Status { wait: None, .. } => Kind::Get,
            Call::Status { .. } => Kind::LongPoll,
            Call::Fields { .. } | Call::Resume { .. } | Call::Sync { .. } => Kind::Action,
            Call::RedirectUrl { .. } => Kind::Redirect,
            Call::Callback(_) => Kind::Callback,
            Call::List => Kind::List,
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
            (None, Some(Ok(Answer::List(_)))) => kind == Kind::List,
        })?;
        script.remove(pos).map(|(_, a)| a)
    }
}

impl Api for FakeClient {
    fn call(&self, to: &Endpoint, call: Call, abort: Option<web_sys::AbortSignal>) -> Reply {
        self.calls.borrow_mut().push(Recorded {
            call: call.clone(),
            to: to.clone(),
            abort,
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
}
