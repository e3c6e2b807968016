//! The widget's state machine, in plain Rust (no DOM, no Leptos) so every state and
//! transition is unit-tested natively.
//!
//! It is a "sans-IO" machine: [`Machine::step`] takes an [`Event`] (an answer, a
//! click, a failure, the clock) and returns the [`Effect`]s the controller must
//! perform (a request, a DOM event for the host, focus). Whatever status arrives,
//! be it the first `GET`, a long-poll answer or the answer of an action, goes
//! through the same [`Event::Answer`] path: a state that follows a repair is
//! handled exactly like the first one (CONTRACT §7).

use crate::error::{ClientError, Severity};
use mend_model::ConnectionState;
use mend_model::api::{
    Action, CallbackOutcome, CallbackResult, ConnectionStatus, FieldProblem, RedirectKind,
    RedirectUrl,
};
use std::collections::BTreeMap;

/// How long a decoupled approval may take when Powens gives no `expire` (ms).
pub const DEFAULT_APPROVAL_MS: f64 = 5.0 * 60_000.0;
/// The `wait` of a long poll (s). Below the proxy's cap of 30 and common idle timeouts.
pub const LONG_POLL_SECS: u32 = 25;
/// Longest pause between two retries while unreachable (ms).
pub const MAX_BACKOFF_MS: f64 = 60_000.0;

/// What the widget is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Before the first answer.
    Loading,
    /// Showing a state; nothing in flight.
    Showing(ConnectionStatus),
    /// An action's request is in flight; its buttons are disabled.
    Busy {
        /// The status the action was started from (still shown).
        status: ConnectionStatus,
        /// The action in flight.
        action: Action,
    },
    /// Decoupled approval resumed in the background: watching until `deadline`.
    Waiting {
        /// The (decoupled) status.
        status: ConnectionStatus,
        /// When to give up (ms since the epoch, local clock).
        deadline: f64,
        /// When the wait began, for the progress bar.
        started: f64,
    },
    /// The decoupled approval window passed.
    TimedOut(ConnectionStatus),
    /// The host is being sent to the bank or to the webview.
    Redirecting {
        /// The status before leaving.
        status: ConnectionStatus,
        /// Which flow.
        kind: RedirectKind,
    },
    /// The proxy (or Powens behind it) can't be reached; retrying with backoff.
    Unavailable {
        /// Next automatic try (ms since the epoch); infinite while one is in flight.
        retry_at: f64,
        /// The last status known, if any.
        last: Option<ConnectionStatus>,
    },
    /// The session expired or was refused: waiting for a new `session` attribute.
    SessionExpired,
    /// The connection does not exist for this session.
    NotFound,
}

/// A message shown above the current panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A repair brought the connection back to normal.
    Resolved,
    /// Back from the bank or the webview, and how that ended.
    Returned(CallbackOutcome),
    /// The bank refused the submitted values (`credentials_rejected`).
    CredentialsRejected,
    /// The proxy refused some values (`invalid_fields`): shown next to the fields.
    InvalidFields(BTreeMap<String, FieldProblem>),
    /// Another refusal the user can only acknowledge.
    Failed(ClientError),
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A status from the proxy: first load, long poll, or an action's answer.
    Answer(ConnectionStatus),
    /// The user asked for an action (a `data-action` button).
    Start(Action),
    /// The URL of a redirect flow is ready.
    RedirectReady(RedirectUrl),
    /// The host cancelled `mend:redirect`.
    RedirectPrevented,
    /// The proxy checked what came back from a redirect.
    Returned(CallbackResult),
    /// A request failed.
    Failed(ClientError),
    /// The clock moved on (countdowns, backoff).
    Tick,
    /// A new session or connection id: start over. `forget` also forgets the last state
    /// (a different connection), so the next answer is announced as a change.
    Reset {
        /// True when the connection id changed.
        forget: bool,
    },
    /// The user closed the notice.
    Dismiss,
}

/// What the controller must do after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `GET` the status now (no wait).
    Fetch,
    /// Perform an action's request (`submit` carries the form's values, held by the view).
    Call(Action),
    /// Dispatch `mend:state`.
    EmitState {
        /// Powens' new state, `None` when fine.
        state: Option<String>,
        /// The one before, `None` when fine or unknown.
        previous: Option<String>,
    },
    /// Dispatch `mend:resolved`.
    EmitResolved,
    /// Dispatch `mend:redirect` and, unless cancelled, navigate.
    EmitRedirect(RedirectUrl),
    /// Dispatch `mend:session-expired`.
    EmitSessionExpired,
    /// Dispatch `mend:error`.
    EmitError {
        /// Stable code.
        code: String,
        /// Safe message.
        message: String,
    },
    /// Move focus into the new panel (if focus is already in the widget).
    Focus,
}

/// The state machine of one `<mend-connection>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Where we are.
    pub phase: Phase,
    /// The message above the panel, if any.
    pub notice: Option<Notice>,
    /// The last Powens state seen: `None` before any, `Some(None)` when fine.
    known: Option<Option<ConnectionState>>,
    /// Consecutive failures to reach the proxy (backoff).
    failures: u32,
    /// Whether this decoupled episode was already resumed automatically.
    resumed: bool,
    /// The deadline of the current decoupled episode, kept across re-checks.
    deadline: Option<(f64, f64)>,
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine {
    /// A machine that is loading.
    pub fn new() -> Self {
        Self {
            phase: Phase::Loading,
            notice: None,
            known: None,
            failures: 0,
            resumed: false,
            deadline: None,
        }
    }

    /// The status on screen, if any.
    pub fn status(&self) -> Option<&ConnectionStatus> {
        match &self.phase {
            Phase::Showing(s) | Phase::TimedOut(s) => Some(s),
            Phase::Busy { status, .. }
            | Phase::Waiting { status, .. }
            | Phase::Redirecting { status, .. } => Some(status),
            Phase::Unavailable { last, .. } => last.as_ref(),
            Phase::Loading | Phase::SessionExpired | Phase::NotFound => None,
        }
    }

    /// The action in flight, if any.
    pub fn busy(&self) -> Option<Action> {
        match &self.phase {
            Phase::Busy { action, .. } => Some(*action),
            Phase::Redirecting { kind, .. } => Some(match kind {
                RedirectKind::Reconnect => Action::Reconnect,
                RedirectKind::Webauth => Action::Webauth,
            }),
            _ => None,
        }
    }

    /// The host's `data-state`: `loading`, `unavailable`, `ok` or Powens' string
    /// (CONTRACT §5). While the session is expired it keeps the last state known.
    pub fn data_state(&self) -> String {
        match (&self.phase, &self.known) {
            (Phase::Loading, _) => "loading".into(),
            (Phase::Unavailable { .. } | Phase::NotFound, _) => "unavailable".into(),
            (_, Some(state)) => ConnectionState::data_state(state.as_ref()).into(),
            (_, None) => "loading".into(),
        }
    }

    /// A finer-grained name of the phase, for `data-phase` (styling and tests).
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Loading => "loading",
            Phase::Showing(_) => "showing",
            Phase::Busy { .. } => "busy",
            Phase::Waiting { .. } => "waiting",
            Phase::TimedOut(_) => "timed-out",
            Phase::Redirecting { .. } => "redirecting",
            Phase::Unavailable { .. } => "unavailable",
            Phase::SessionExpired => "session-expired",
            Phase::NotFound => "not-found",
        }
    }

    /// The `since` of the long poll to keep running, if the widget should be watching:
    /// while Powens works by itself (validating, rate limiting, ...) and while a
    /// decoupled approval is pending.
    pub fn watch_since(&self) -> Option<String> {
        match &self.phase {
            Phase::Waiting { status, .. } => {
                Some(ConnectionState::data_state(status.state.as_ref()).to_owned())
            }
            Phase::Showing(s) => match &s.state {
                Some(state) if state.is_changing() && *state != ConnectionState::Decoupled => {
                    Some(state.as_str().to_owned())
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The decoupled approval under way, `(started, deadline)`, once it was resumed:
    /// the controller keeps it in `sessionStorage` so a reload resumes the wait.
    pub fn approval(&self) -> Option<(f64, f64)> {
        self.deadline.filter(|_| self.resumed)
    }

    /// Restores an approval remembered across a reload, before the first answer: a
    /// `validating` (or `decoupled`) answer then shows the approval's countdown again
    /// instead of a bare "checking", and no second resume is sent.
    pub fn restore_approval(&mut self, started: f64, deadline: f64, now: f64) {
        if matches!(self.phase, Phase::Loading) && deadline > now {
            self.resumed = true;
            self.deadline = Some((started, deadline));
        }
    }

    /// Whether a clock is needed (countdown or backoff).
    pub fn needs_clock(&self) -> bool {
        matches!(
            self.phase,
            Phase::Waiting { .. } | Phase::Unavailable { .. }
        )
    }

    /// Applies `event` at time `now` (ms since the epoch) and says what to do.
    pub fn step(&mut self, event: Event, now: f64) -> Vec<Effect> {
        match event {
            Event::Answer(status) => self.answer(status, now),
            Event::Start(action) => self.start(action),
            Event::RedirectReady(url) => match self.phase.clone() {
                Phase::Busy { status, .. } => {
                    self.phase = Phase::Redirecting {
                        status,
                        kind: url.kind,
                    };
                    vec![Effect::EmitRedirect(url)]
                }
                _ => vec![],
            },
            Event::RedirectPrevented => {
                if let Phase::Redirecting { status, .. } = &self.phase {
                    self.phase = Phase::Showing(status.clone());
                }
                vec![]
            }
            Event::Returned(result) => {
                let fixed =
                    result.outcome == CallbackOutcome::Completed && result.status.state.is_none();
                let mut fx = self.answer(result.status, now);
                if !fixed || self.notice.is_none() {
                    self.notice = Some(if fixed {
                        Notice::Resolved
                    } else {
                        Notice::Returned(result.outcome)
                    });
                }
                if !fx.contains(&Effect::Focus) {
                    fx.push(Effect::Focus);
                }
                fx
            }
            Event::Failed(err) => self.failed(err, now),
            Event::Tick => self.tick(now),
            Event::Reset { forget } => {
                *self = Machine {
                    known: if forget { None } else { self.known.take() },
                    ..Machine::new()
                };
                vec![Effect::Fetch]
            }
            Event::Dismiss => {
                self.notice = None;
                vec![]
            }
        }
    }

    fn answer(&mut self, status: ConnectionStatus, now: f64) -> Vec<Effect> {
        let mut fx = Vec::new();
        // A long poll that times out answers the same status with a newer clock: keep
        // the one shown, so nothing re-renders (and focus stays where it is).
        let status = match self.status() {
            Some(old) if same_but_clock(old, &status) => old.clone(),
            _ => status,
        };
        self.failures = 0;
        let first = self.known.is_none();
        let previous = self.known.replace(status.state.clone());
        let changed = previous.as_ref() != Some(&status.state);
        if changed {
            let previous = previous.flatten();
            fx.push(Effect::EmitState {
                state: status.state.as_ref().map(|s| s.as_str().to_owned()),
                previous: previous.as_ref().map(|s| s.as_str().to_owned()),
            });
            // Any notice was about the state we just left.
            self.notice = None;
            if previous.is_some() && status.state.is_none() {
                fx.push(Effect::EmitResolved);
                self.notice = Some(Notice::Resolved);
            }
            if !first {
                fx.push(Effect::Focus);
            }
        }
        // After a decoupled approval was resumed, Powens says `validating` while it
        // waits for the bank app: still the same approval, so keep its panel and
        // countdown (the host's `data-state` tells the truth: `validating`).
        let approving = status.state == Some(ConnectionState::Validating)
            && self.resumed
            && self.deadline.is_some();
        if status.state != Some(ConnectionState::Decoupled) && !approving {
            self.resumed = false;
            self.deadline = None;
            self.phase = Phase::Showing(status);
            return fx;
        }
        // Decoupled: resume once in the background, then watch until the deadline.
        let (started, deadline) = *self
            .deadline
            .get_or_insert_with(|| (now, approval_deadline(&status, now)));
        self.phase = match std::mem::replace(&mut self.phase, Phase::Loading) {
            Phase::TimedOut(_) => Phase::TimedOut(status),
            _ if !self.resumed && status.can(Action::Resume) => {
                self.resumed = true;
                fx.push(Effect::Call(Action::Resume));
                Phase::Busy {
                    status,
                    action: Action::Resume,
                }
            }
            _ if now >= deadline => Phase::TimedOut(status),
            _ => Phase::Waiting {
                status,
                deadline,
                started,
            },
        };
        fx
    }

    fn start(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Dismiss {
            return self.step(Event::Dismiss, 0.0);
        }
        let status = match &self.phase {
            // One request at a time: a second click while one is in flight does nothing.
            Phase::Busy { .. } | Phase::Redirecting { .. } | Phase::Loading => return vec![],
            Phase::Unavailable { last, .. } => {
                if action == Action::Retry {
                    self.phase = Phase::Unavailable {
                        retry_at: f64::INFINITY,
                        last: last.clone(),
                    };
                    return vec![Effect::Fetch];
                }
                return vec![];
            }
            Phase::SessionExpired | Phase::NotFound => {
                return if action == Action::Retry {
                    self.phase = Phase::Loading;
                    vec![Effect::Fetch]
                } else {
                    vec![]
                };
            }
            Phase::Showing(s) | Phase::TimedOut(s) | Phase::Waiting { status: s, .. } => s.clone(),
        };
        let action = match (action, &self.phase) {
            // "Try again" after an approval timed out: a new approval window.
            (Action::Retry, Phase::TimedOut(_)) => {
                self.deadline = None;
                Action::Resume
            }
            (Action::Retry, _) => {
                self.notice = None;
                return vec![Effect::Fetch];
            }
            (Action::Resume, Phase::TimedOut(_)) => {
                self.deadline = None;
                Action::Resume
            }
            // "I've approved it" while Powens already checks: just look again now.
            (Action::Resume, Phase::Waiting { .. }) if !status.can(Action::Resume) => {
                return vec![Effect::Fetch];
            }
            (a, _) if status.can(a) => a,
            _ => return vec![],
        };
        if action != Action::Submit {
            self.notice = None;
        }
        self.phase = Phase::Busy { status, action };
        vec![Effect::Call(action)]
    }

    fn failed(&mut self, err: ClientError, now: f64) -> Vec<Effect> {
        let emit = Effect::EmitError {
            code: err.code().to_owned(),
            message: err.message(),
        };
        let last = self.status().cloned();
        match err.severity() {
            Severity::Silent => vec![],
            Severity::SessionExpired => {
                self.phase = Phase::SessionExpired;
                vec![Effect::EmitSessionExpired, Effect::Focus]
            }
            Severity::NotFound => {
                self.phase = Phase::NotFound;
                vec![emit, Effect::Focus]
            }
            Severity::Unavailable => {
                self.failures += 1;
                let wait = err
                    .retry_after()
                    .map(|s| s as f64 * 1000.0)
                    .unwrap_or_else(|| backoff_ms(self.failures));
                let was_unavailable = matches!(self.phase, Phase::Unavailable { .. });
                self.phase = Phase::Unavailable {
                    retry_at: now + wait,
                    last,
                };
                let mut fx = vec![emit];
                if !was_unavailable {
                    fx.push(Effect::Focus);
                }
                fx
            }
            Severity::Stale => {
                if let Some(status) = last {
                    self.phase = Phase::Showing(status);
                }
                vec![Effect::Fetch]
            }
            Severity::Refused => {
                let Some(status) = last else {
                    // Refused before anything was shown: nothing to correct, so retry later.
                    self.phase = Phase::Unavailable {
                        retry_at: now + backoff_ms(self.failures.max(1)),
                        last: None,
                    };
                    return vec![emit, Effect::Focus];
                };
                self.notice = Some(match &err {
                    ClientError::Api { fields, .. } if !fields.is_empty() => {
                        Notice::InvalidFields(fields.clone())
                    }
                    ClientError::Api {
                        code: mend_model::api::ErrorCode::CredentialsRejected,
                        ..
                    } => Notice::CredentialsRejected,
                    _ => Notice::Failed(err),
                });
                self.phase = Phase::Showing(status);
                vec![emit, Effect::Focus]
            }
        }
    }

    fn tick(&mut self, now: f64) -> Vec<Effect> {
        match &self.phase {
            Phase::Waiting {
                status, deadline, ..
            } if now >= *deadline => {
                self.phase = Phase::TimedOut(status.clone());
                vec![Effect::Focus]
            }
            Phase::Unavailable { retry_at, last } if now >= *retry_at => {
                self.phase = Phase::Unavailable {
                    retry_at: f64::INFINITY,
                    last: last.clone(),
                };
                vec![Effect::Fetch]
            }
            _ => vec![],
        }
    }
}

/// Whether two statuses differ only by `server_time`.
fn same_but_clock(a: &ConnectionStatus, b: &ConnectionStatus) -> bool {
    a.server_time != b.server_time
        && ConnectionStatus {
            server_time: None,
            ..a.clone()
        } == ConnectionStatus {
            server_time: None,
            ..b.clone()
        }
}

/// The pause before retry number `failures` (1-based): 2 s, 4 s, 8 s… up to a minute.
pub fn backoff_ms(failures: u32) -> f64 {
    (1000.0 * 2f64.powi(failures.clamp(1, 10) as i32)).min(MAX_BACKOFF_MS)
}

/// When a decoupled approval expires, on the local clock: `expire` measured against
/// the proxy's `server_time` (so a wrong user clock doesn't matter), else five minutes.
pub fn approval_deadline(status: &ConnectionStatus, now: f64) -> f64 {
    let expire = status.expire.as_deref().and_then(parse_rfc3339_ms);
    let server = status.server_time.as_deref().and_then(parse_rfc3339_ms);
    match (expire, server) {
        (Some(e), Some(s)) if e > s => now + (e - s),
        (Some(e), None) if e > now => e,
        _ => now + DEFAULT_APPROVAL_MS,
    }
}

/// Parses the proxy's RFC 3339 UTC dates (`2026-11-25T09:34:00Z`, fractions and
/// offsets accepted) into ms since the epoch.
pub fn parse_rfc3339_ms(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    // Milliseconds of the fraction, in integers (no float parsing in the wasm).
    let mut millis = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        millis = r
            .bytes()
            .take(3.min(digits))
            .fold(0, |acc, c| acc * 10 + i64::from(c - b'0'))
            * 10i64.pow(3 - 3.min(digits) as u32);
        rest = &r[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let v = num(s.len() - 5..s.len() - 3)? * 60 + num(s.len() - 2..s.len())?;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some((secs * 1000 + millis) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::api::{ErrorBody, ErrorCode, ErrorDetail, actions_for};

    fn status(state: Option<&str>) -> ConnectionStatus {
        let state = state.map(ConnectionState::parse);
        ConnectionStatus {
            id: 42,
            actions: actions_for(state.as_ref(), true, true),
            state,
            message: None,
            fields: vec![],
            last_update: None,
            next_try: None,
            expire: None,
            connector: None,
            sources: vec![],
            server_time: None,
            access_expire: None,
            renew: false,
        }
    }

    fn api_error(code: ErrorCode) -> ClientError {
        ClientError::from_answer(
            code.http_status(),
            Some(ErrorBody {
                error: ErrorDetail {
                    code,
                    message: "msg".into(),
                    request_id: None,
                    fields: None,
                    retry_after: None,
                    status: None,
                    bank_message: None,
                },
            }),
            None,
        )
    }

    fn showing(state: Option<&str>) -> Machine {
        let mut m = Machine::new();
        m.step(Event::Answer(status(state)), 0.0);
        m
    }

    #[test]
    fn first_answer_shows_the_state_and_announces_it_without_stealing_focus() {
        let mut m = Machine::new();
        assert_eq!(m.data_state(), "loading");
        let fx = m.step(Event::Answer(status(Some("SCARequired"))), 0.0);
        assert_eq!(
            fx,
            [Effect::EmitState {
                state: Some("SCARequired".into()),
                previous: None
            }]
        );
        assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
        assert_eq!(m.data_state(), "SCARequired");
    }

    #[test]
    fn every_documented_state_and_an_unknown_one_is_shown_with_its_data_state() {
        let mut states: Vec<String> = ConnectionState::DOCUMENTED
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        states.push("somethingNew".into());
        for s in states {
            let m = showing(Some(&s));
            assert_eq!(m.data_state(), s);
            if s == "decoupled" {
                assert_eq!(m.busy(), Some(Action::Resume), "decoupled resumes at once");
            } else {
                assert_eq!(m.phase, Phase::Showing(status(Some(&s))), "{s}");
            }
        }
        assert_eq!(showing(None).data_state(), "ok");
    }

    #[test]
    fn only_changing_states_are_watched() {
        assert_eq!(
            showing(Some("validating")).watch_since().as_deref(),
            Some("validating")
        );
        for s in ["rateLimiting", "websiteUnavailable", "bug"] {
            assert_eq!(showing(Some(s)).watch_since().as_deref(), Some(s));
        }
        for s in [
            None,
            Some("SCARequired"),
            Some("wrongpass"),
            Some("notSupported"),
            Some("x"),
        ] {
            assert_eq!(showing(s).watch_since(), None, "{s:?}");
        }
    }

    #[test]
    fn a_state_change_after_an_action_is_handled_like_the_first_and_moves_focus() {
        let mut m = showing(Some("actionNeeded"));
        assert_eq!(
            m.step(Event::Start(Action::Sync), 0.0),
            [Effect::Call(Action::Sync)]
        );
        assert_eq!(m.busy(), Some(Action::Sync));
        let fx = m.step(Event::Answer(status(Some("SCARequired"))), 0.0);
        assert_eq!(
            fx,
            [
                Effect::EmitState {
                    state: Some("SCARequired".into()),
                    previous: Some("actionNeeded".into())
                },
                Effect::Focus
            ]
        );
        assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
    }

    #[test]
    fn coming_back_to_null_resolves() {
        let mut m = showing(Some("validating"));
        let fx = m.step(Event::Answer(status(None)), 0.0);
        assert!(fx.contains(&Effect::EmitResolved));
        assert_eq!(m.notice, Some(Notice::Resolved));
        assert_eq!(m.data_state(), "ok");
    }

    #[test]
    fn the_same_state_again_emits_nothing() {
        let mut m = showing(Some("rateLimiting"));
        assert!(
            m.step(Event::Answer(status(Some("rateLimiting"))), 1.0)
                .is_empty()
        );
    }

    #[test]
    fn a_newer_clock_alone_changes_nothing() {
        let mut m = showing(Some("rateLimiting"));
        let before = m.clone();
        let mut again = status(Some("rateLimiting"));
        again.server_time = Some("2026-11-25T10:00:25Z".into());
        assert!(m.step(Event::Answer(again), 1.0).is_empty());
        assert_eq!(m, before);
    }

    #[test]
    fn no_double_submission() {
        let mut m = showing(Some("additionalInformationNeeded"));
        assert_eq!(
            m.step(Event::Start(Action::Submit), 0.0),
            [Effect::Call(Action::Submit)]
        );
        assert!(m.step(Event::Start(Action::Submit), 0.0).is_empty());
        assert!(m.step(Event::Start(Action::Sync), 0.0).is_empty());
    }

    #[test]
    fn actions_not_offered_are_ignored() {
        let mut m = showing(Some("notSupported"));
        assert!(m.step(Event::Start(Action::Sync), 0.0).is_empty());
        let mut m = showing(Some("SCARequired"));
        assert!(m.step(Event::Start(Action::Submit), 0.0).is_empty());
    }

    #[test]
    fn decoupled_resumes_once_then_waits_until_the_deadline_then_times_out() {
        let mut m = Machine::new();
        let mut d = status(Some("decoupled"));
        d.expire = Some("2026-11-25T10:05:00Z".into());
        d.server_time = Some("2026-11-25T10:00:00Z".into());
        let fx = m.step(Event::Answer(d.clone()), 1000.0);
        assert!(fx.contains(&Effect::Call(Action::Resume)));
        assert_eq!(m.watch_since(), None, "not while resuming");
        // The resume answers: still decoupled, so wait and watch.
        assert!(m.step(Event::Answer(d.clone()), 2000.0).is_empty());
        assert_eq!(
            m.phase,
            Phase::Waiting {
                status: d.clone(),
                deadline: 1000.0 + 300_000.0,
                started: 1000.0
            }
        );
        assert_eq!(m.watch_since().as_deref(), Some("decoupled"));
        assert!(m.needs_clock());
        assert!(m.step(Event::Tick, 200_000.0).is_empty());
        assert_eq!(m.step(Event::Tick, 301_000.0), [Effect::Focus]);
        assert_eq!(m.phase, Phase::TimedOut(d.clone()));
        assert_eq!(m.watch_since(), None);
        // "Try again": a new approval window.
        assert_eq!(
            m.step(Event::Start(Action::Retry), 400_000.0),
            [Effect::Call(Action::Resume)]
        );
        m.step(Event::Answer(d.clone()), 400_500.0);
        assert!(
            matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == 400_500.0 + 300_000.0)
        );
    }

    #[test]
    fn approved_re_check_resumes_again_keeping_the_deadline() {
        let mut m = Machine::new();
        let d = status(Some("decoupled"));
        m.step(Event::Answer(d.clone()), 0.0);
        m.step(Event::Answer(d.clone()), 10.0);
        assert_eq!(
            m.step(Event::Start(Action::Resume), 20.0),
            [Effect::Call(Action::Resume)]
        );
        m.step(Event::Answer(d.clone()), 30.0);
        assert!(
            matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == DEFAULT_APPROVAL_MS)
        );
        // Approved in the bank app: Powens checks (validating), still the same approval.
        m.step(Event::Answer(status(Some("validating"))), 40.0);
        assert_eq!(m.watch_since().as_deref(), Some("validating"));
        assert!(
            matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == DEFAULT_APPROVAL_MS)
        );
        assert_eq!(m.data_state(), "validating");
        assert_eq!(m.step(Event::Start(Action::Resume), 45.0), [Effect::Fetch]);
        let fx = m.step(Event::Answer(status(None)), 50.0);
        assert!(fx.contains(&Effect::EmitResolved));
    }

    #[test]
    fn a_reload_during_an_approval_resumes_the_wait() {
        let mut m = Machine::new();
        m.restore_approval(100.0, 50_000.0, 1_000.0);
        // Powens checks (the user hasn't approved yet): the approval's panel, no resume.
        assert!(
            m.step(Event::Answer(status(Some("validating"))), 1_000.0)
                .len()
                == 1
        );
        assert!(
            matches!(m.phase, Phase::Waiting { started, deadline, .. } if started == 100.0 && deadline == 50_000.0)
        );
        assert_eq!(m.approval(), Some((100.0, 50_000.0)));
        // Fine again: the episode is over.
        m.step(Event::Answer(status(None)), 2_000.0);
        assert_eq!(m.approval(), None);
        // An expired memory is ignored.
        let mut m = Machine::new();
        m.restore_approval(0.0, 10.0, 1_000.0);
        m.step(Event::Answer(status(Some("validating"))), 1_000.0);
        assert_eq!(m.phase, Phase::Showing(status(Some("validating"))));
    }

    #[test]
    fn unreachable_backs_off_and_retries() {
        let mut m = Machine::new();
        let fx = m.step(Event::Failed(ClientError::Network), 0.0);
        assert_eq!(
            fx[0],
            Effect::EmitError {
                code: "network".into(),
                message: ClientError::Network.message()
            }
        );
        assert_eq!(m.data_state(), "unavailable");
        assert_eq!(
            m.phase,
            Phase::Unavailable {
                retry_at: 2000.0,
                last: None
            }
        );
        assert!(m.step(Event::Tick, 1000.0).is_empty());
        assert_eq!(m.step(Event::Tick, 2000.0), [Effect::Fetch]);
        m.step(Event::Failed(ClientError::Network), 2500.0);
        assert_eq!(
            m.phase,
            Phase::Unavailable {
                retry_at: 6500.0,
                last: None
            }
        );
        // The retry button fetches at once.
        assert_eq!(m.step(Event::Start(Action::Retry), 3000.0), [Effect::Fetch]);
        m.step(Event::Answer(status(None)), 3100.0);
        assert_eq!(m.data_state(), "ok");
    }

    #[test]
    fn rate_limited_waits_as_told() {
        let mut m = showing(None);
        m.step(Event::Start(Action::Sync), 0.0);
        let err = ClientError::from_answer(429, None, Some(30));
        m.step(Event::Failed(err), 0.0);
        assert!(
            matches!(m.phase, Phase::Unavailable { retry_at, last: Some(_) } if retry_at == 30_000.0)
        );
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff_ms(1), 2000.0);
        assert_eq!(backoff_ms(2), 4000.0);
        assert_eq!(backoff_ms(9), MAX_BACKOFF_MS);
    }

    #[test]
    fn session_expired_waits_for_a_new_session() {
        let mut m = showing(Some("wrongpass"));
        let fx = m.step(Event::Failed(api_error(ErrorCode::SessionExpired)), 0.0);
        assert_eq!(fx, [Effect::EmitSessionExpired, Effect::Focus]);
        assert_eq!(m.phase, Phase::SessionExpired);
        assert_eq!(m.data_state(), "wrongpass");
        assert_eq!(m.step(Event::Reset { forget: false }, 0.0), [Effect::Fetch]);
        assert_eq!(m.phase, Phase::Loading);
        // Same state again after the new session: no mend:state.
        assert!(
            m.step(Event::Answer(status(Some("wrongpass"))), 0.0)
                .is_empty()
        );
    }

    #[test]
    fn a_new_connection_forgets_the_old_state() {
        let mut m = showing(Some("wrongpass"));
        m.step(Event::Reset { forget: true }, 0.0);
        let fx = m.step(Event::Answer(status(Some("wrongpass"))), 0.0);
        assert_eq!(fx.len(), 1);
    }

    #[test]
    fn not_found_is_its_own_phase() {
        let mut m = Machine::new();
        m.step(Event::Failed(api_error(ErrorCode::NotFound)), 0.0);
        assert_eq!(m.phase, Phase::NotFound);
        assert_eq!(m.data_state(), "unavailable");
    }

    #[test]
    fn credentials_rejected_keeps_the_form_with_a_notice() {
        let mut m = showing(Some("wrongpass"));
        m.step(Event::Start(Action::Submit), 0.0);
        let fx = m.step(
            Event::Failed(api_error(ErrorCode::CredentialsRejected)),
            0.0,
        );
        assert!(matches!(&fx[0], Effect::EmitError { code, .. } if code == "credentials_rejected"));
        assert_eq!(m.notice, Some(Notice::CredentialsRejected));
        assert_eq!(m.phase, Phase::Showing(status(Some("wrongpass"))));
        // And the user can send again.
        assert_eq!(
            m.step(Event::Start(Action::Submit), 0.0),
            [Effect::Call(Action::Submit)]
        );
    }

    #[test]
    fn invalid_fields_are_kept_per_field() {
        let mut m = showing(Some("additionalInformationNeeded"));
        m.step(Event::Start(Action::Submit), 0.0);
        let mut fields = BTreeMap::new();
        fields.insert("otp".to_owned(), FieldProblem::Pattern);
        let err = ClientError::Api {
            status: 422,
            code: ErrorCode::InvalidFields,
            message: String::new(),
            request_id: None,
            fields: fields.clone(),
            retry_after: None,
        };
        m.step(Event::Failed(err), 0.0);
        assert_eq!(m.notice, Some(Notice::InvalidFields(fields)));
    }

    #[test]
    fn conflict_refetches() {
        let mut m = showing(Some("webauthRequired"));
        m.step(Event::Start(Action::Webauth), 0.0);
        assert_eq!(
            m.step(Event::Failed(api_error(ErrorCode::Conflict)), 0.0),
            [Effect::Fetch]
        );
        assert_eq!(m.phase, Phase::Showing(status(Some("webauthRequired"))));
    }

    #[test]
    fn aborted_requests_change_nothing() {
        let mut m = showing(Some("SCARequired"));
        let before = m.clone();
        assert!(m.step(Event::Failed(ClientError::Aborted), 0.0).is_empty());
        assert_eq!(m, before);
    }

    #[test]
    fn redirect_is_announced_and_can_be_prevented() {
        let mut m = showing(Some("SCARequired"));
        m.step(Event::Start(Action::Reconnect), 0.0);
        let url = RedirectUrl {
            kind: RedirectKind::Reconnect,
            url: "https://w".into(),
        };
        assert_eq!(
            m.step(Event::RedirectReady(url.clone()), 0.0),
            [Effect::EmitRedirect(url)]
        );
        assert_eq!(m.phase_name(), "redirecting");
        assert!(m.step(Event::Start(Action::Reconnect), 0.0).is_empty());
        m.step(Event::RedirectPrevented, 0.0);
        assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
    }

    #[test]
    fn a_return_shows_its_outcome() {
        let mut m = showing(Some("SCARequired"));
        let fx = m.step(
            Event::Returned(CallbackResult {
                connection_id: 42,
                kind: RedirectKind::Reconnect,
                outcome: CallbackOutcome::Completed,
                error: None,
                status: status(None),
            }),
            0.0,
        );
        assert!(fx.contains(&Effect::EmitResolved));
        assert_eq!(m.notice, Some(Notice::Resolved));
        let mut m = showing(Some("SCARequired"));
        m.step(
            Event::Returned(CallbackResult {
                connection_id: 42,
                kind: RedirectKind::Reconnect,
                outcome: CallbackOutcome::Cancelled,
                error: Some("access_denied".into()),
                status: status(Some("SCARequired")),
            }),
            0.0,
        );
        assert_eq!(m.notice, Some(Notice::Returned(CallbackOutcome::Cancelled)));
        assert_eq!(m.step(Event::Start(Action::Dismiss), 0.0), []);
        assert_eq!(m.notice, None);
    }

    #[test]
    fn rfc3339_dates_parse() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339_ms("1970-01-02T00:00:01.5Z"),
            Some(86_401_500.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T09:34:00Z"),
            Some(1_795_599_240_000.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T10:34:00+01:00"),
            parse_rfc3339_ms("2026-11-25T09:34:00Z")
        );
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms("2026-13-25T09:34:00Z"), None);
    }

    #[test]
    fn approval_deadline_uses_the_server_clock_or_five_minutes() {
        let mut s = status(Some("decoupled"));
        assert_eq!(approval_deadline(&s, 10.0), 10.0 + DEFAULT_APPROVAL_MS);
        s.expire = Some("2026-11-25T09:36:00Z".into());
        s.server_time = Some("2026-11-25T09:34:00Z".into());
        assert_eq!(approval_deadline(&s, 10.0), 10.0 + 120_000.0);
    }
}
