//! The widget's state machine, in plain Rust (no DOM, no Leptos) so every state and
//! transition is unit-tested natively.
//!
//! It is a "sans-IO" machine: [`Machine::step`] takes an [`Event`] (an answer, a
//! click, a failure, the clock) and returns the [`Effect`]s the controller must
//! perform (a request, a DOM event for the host, focus). Whatever status arrives,
//! be it the first `GET`, a long-poll answer or the answer of an action, goes
//! through the same [`Event::Answer`] path: a state that follows a repair is
//! handled exactly like the first one (`docs/widget.md`, "States and panels").
//!
//! - [`transitions`]: how each event moves the machine;
//! - [`time`]: the clock maths (backoff, the approval window, RFC 3339 dates).

mod time;
mod transitions;

pub use time::{
    APPROVAL_WINDOW_MS, MAX_BACKOFF_MS, approval_deadline, backoff_ms, parse_rfc3339_ms,
};

use crate::error::ClientError;
use mend_model::ConnectionState;
use mend_model::api::{
    Action, CallbackOutcome, CallbackResult, ConnectionStatus, FieldProblem, RedirectKind,
    RedirectUrl,
};
use std::collections::BTreeMap;

/// The `wait` of a long poll (s). Below the proxy's cap of 30 and common idle timeouts.
pub const LONG_POLL_SECS: u32 = 25;

/// How many long polls the widget keeps watching after a completed return from the
/// bank that still shows the state just repaired: Powens' reads may lag behind the
/// repair by a few seconds (docs/widget.md, "Back from the bank").
pub const SETTLE_POLLS: u8 = 2;

/// How long an action may be on its way to the bank before the widget says that this
/// can take minutes (ms): most answer within a second or two, a slow bank in up to the
/// proxy's three minutes.
pub const SLOW_AFTER_MS: f64 = 4000.0;

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
    /// The bank refused the submitted values (`credentials_rejected`), in its own
    /// words if it gave any.
    CredentialsRejected(Option<String>),
    /// The proxy refused some values (`invalid_fields`): shown next to the fields.
    InvalidFields(BTreeMap<String, FieldProblem>),
    /// Another refusal the user can only acknowledge.
    Failed(ClientError),
    /// An action got no answer (the bank took longer than the proxy waits, or the
    /// network failed): the status was read again and is shown as it is now.
    Unanswered,
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
    /// The action in flight, if one is: when it started and how far it got.
    flight: Flight,
    /// Long polls still to watch after a completed return (see [`SETTLE_POLLS`]).
    settling: u8,
}

/// An action on its way to the bank ([`Phase::Busy`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Flight {
    /// When it was sent (ms since the epoch).
    since: f64,
    /// It has taken longer than [`SLOW_AFTER_MS`]: the widget says so.
    slow: bool,
    /// Its answer was lost and the status is being read again: a failure now is
    /// shown as any other.
    rereading: bool,
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
            flight: Flight::default(),
            settling: 0,
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
            Phase::Redirecting { kind, .. } => Some(kind.action()),
            _ => None,
        }
    }

    /// The host's `data-state`: `loading`, `unavailable`, `ok` or Powens' string
    /// (README, "Embedding"). While the session is expired it keeps the last state known.
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
    /// while Powens works by itself (validating, rate limiting, ...), while a
    /// decoupled approval is pending, and for a few long polls after a completed
    /// return that Powens' reads have not caught up with yet.
    pub fn watch_since(&self) -> Option<String> {
        match &self.phase {
            Phase::Waiting { status, .. } => {
                Some(ConnectionState::data_state(status.state.as_ref()).to_owned())
            }
            Phase::Showing(s) => match &s.state {
                Some(state) if state.is_changing() && *state != ConnectionState::Decoupled => {
                    Some(state.as_str().to_owned())
                }
                // Back from the bank, but Powens still says what was just repaired.
                Some(state) if self.settling > 0 => Some(state.as_str().to_owned()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The decoupled approval under way, `(started, deadline)`, once the proxy has
    /// answered its resume: the controller keeps it in `sessionStorage` so a reload
    /// resumes the wait. Not while the resume is on its way: a page left before it
    /// arrived (a link clicked at once) must resume again, not wait for a bank app
    /// that was never asked.
    pub fn approval(&self) -> Option<(f64, f64)> {
        let sending = matches!(
            self.phase,
            Phase::Busy {
                action: Action::Resume,
                ..
            }
        );
        self.deadline.filter(|_| self.resumed && !sending)
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

    /// Whether an action sent to the bank (a submission, a resume, a sync) has been
    /// on its way for more than [`SLOW_AFTER_MS`]: the view then says the bank is
    /// checking and that this can take a few minutes.
    pub fn slow(&self) -> bool {
        self.flight.slow && self.to_the_bank()
    }

    /// Whether the action in flight is one the bank itself answers (it may take minutes).
    fn to_the_bank(&self) -> bool {
        matches!(
            self.phase,
            Phase::Busy {
                action: Action::Submit | Action::Resume | Action::Sync,
                ..
            }
        )
    }

    /// Whether a clock is needed (countdown, backoff, an action that may turn slow).
    pub fn needs_clock(&self) -> bool {
        matches!(
            self.phase,
            Phase::Waiting { .. } | Phase::Unavailable { .. }
        ) || (self.to_the_bank() && !self.flight.slow)
    }

    /// Applies `event` at time `now` (ms since the epoch) and says what to do.
    pub fn step(&mut self, event: Event, now: f64) -> Vec<Effect> {
        match event {
            Event::Answer(status) => self.answer(status, now),
            Event::Start(action) => self.start(action, now),
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
                let completed = result.outcome == CallbackOutcome::Completed;
                self.settling = if completed && !fixed { SETTLE_POLLS } else { 0 };
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
}

#[cfg(test)]
mod tests;
