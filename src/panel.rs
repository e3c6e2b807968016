//! What each state shows, as plain data: [`panel`] maps the machine to a [`Panel`]
//! (its [`Kind`], which picks the component that renders it, a [`Head`], the
//! buttons and the sources), pure and unit-tested natively for every state below.
//!
//! The view keeps this in a memo: a panel is rebuilt only when this value changes (a
//! new state, a new language), never for what changes *inside* a panel (the busy
//! flag, the clock, the form's values and problems), which the components read from
//! their own signals. So nothing here depends on those.

use crate::i18n::Texts;
use crate::state::{Machine, Phase};
use mend_model::api::{Action, ConnectionStatus};
use mend_model::{ConnectionState, ConnectorField, StateKind};

/// Everything one panel shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Which panel, with what is particular to it.
    pub kind: Kind,
    /// Tone, bank, heading, the bank's message, the widget's explanation.
    pub head: Head,
    /// The buttons, main one first.
    pub buttons: Vec<Button>,
    /// Sources whose state differs from the connection's.
    pub sources: Vec<Source>,
}

/// The kind of panel: one component each (`crate::components`).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Fill in what the bank asks: additional information, or (with Agent status)
    /// credentials again or a new password.
    Form {
        /// The fields, in Powens' order.
        fields: Vec<ConnectorField>,
        /// `passwordExpired`: passwords are new ones (`autocomplete=new-password`).
        new_password: bool,
    },
    /// Approve in the bank app, or wait while Powens checks with the bank.
    Approval(Progress),
    /// Continue at the bank or in Powens' webview (SCA, webauth, Reconnect), or do
    /// something there and come back.
    Redirect,
    /// Nothing to repair here: fine, Powens retrying, not supported, unknown; and the
    /// widget's own loading, session-expired and not-found notices.
    Notice {
        /// Dated lines (last update, next try).
        dates: Vec<Dated>,
        /// An indeterminate progress bar with this accessible name (loading).
        progress: Option<&'static str>,
    },
    /// The proxy (or Powens behind it) can't be reached: the next automatic try.
    Unavailable,
}

impl Kind {
    /// Its `data-panel` (a hook for tests and styling): `form`, `approval`,
    /// `redirect`, `notice` or `unavailable`.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Form { .. } => "form",
            Kind::Approval(_) => "approval",
            Kind::Redirect => "redirect",
            Kind::Notice { .. } => "notice",
            Kind::Unavailable => "unavailable",
        }
    }
}

/// The progress of an approval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// An indeterminate bar with this accessible name (resuming, checking).
    Spinner(&'static str),
    /// The approval window: a bar and the time left.
    Countdown {
        /// When the wait began (ms since the epoch).
        started: f64,
        /// When it ends.
        deadline: f64,
    },
}

/// The top of every panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// `alert` (the user must act), `progress`, `calm`, `ok` or `neutral`: the look.
    pub tone: &'static str,
    /// The bank's name.
    pub bank: Option<String>,
    /// The heading (focus target, and what the live region announces).
    pub title: &'static str,
    /// The bank's own message (rendered as text).
    pub message: Option<String>,
    /// The widget's explanation.
    pub body: Option<&'static str>,
}

/// A button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    /// Its `data-action`.
    pub action: Action,
    /// Its label.
    pub label: &'static str,
    /// The panel's main call to action.
    pub primary: bool,
}

/// A source whose state differs from the connection's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its name (`openapi`, `directaccess`…), as Powens says it.
    pub name: String,
    /// Its `data-state`.
    pub state: String,
    /// What that state means, in words.
    pub label: &'static str,
}

/// A dated line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// What the date is.
    pub label: &'static str,
    /// The date (RFC 3339).
    pub iso: String,
}

fn button(action: Action, label: &'static str, primary: bool) -> Button {
    Button {
        action,
        label,
        primary,
    }
}

impl Head {
    fn new(tone: &'static str, title: &'static str) -> Self {
        Head {
            tone,
            bank: None,
            title,
            message: None,
            body: None,
        }
    }

    fn body(mut self, text: &'static str) -> Self {
        self.body = Some(text);
        self
    }
}

impl Panel {
    fn new(kind: Kind, head: Head) -> Self {
        Panel {
            kind,
            head,
            buttons: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// A panel for a connection's status: its bank, message and differing sources.
    fn of(kind: Kind, head: Head, s: &ConnectionStatus, t: &'static Texts) -> Self {
        Panel {
            head: Head {
                bank: s.connector.clone().filter(|b| !b.trim().is_empty()),
                message: s.message.clone().filter(|m| !m.trim().is_empty()),
                ..head
            },
            sources: s
                .sources
                .iter()
                .filter(|src| src.state != s.state)
                .map(|src| Source {
                    name: src.name.clone(),
                    state: ConnectionState::data_state(src.state.as_ref()).to_owned(),
                    label: source_label(src.state.as_ref(), t),
                })
                .collect(),
            ..Panel::new(kind, Head::new("", ""))
        }
    }

    /// Adds a button the widget always offers.
    fn with(mut self, b: Button) -> Self {
        self.buttons.push(b);
        self
    }

    /// Adds a button if the proxy offers its action.
    fn offer(self, s: &ConnectionStatus, b: Button) -> Self {
        if s.can(b.action) { self.with(b) } else { self }
    }
}

fn notice(dates: Vec<Dated>) -> Kind {
    Kind::Notice {
        dates,
        progress: None,
    }
}

fn dated(label: &'static str, iso: Option<&String>) -> Option<Dated> {
    iso.map(|iso| Dated {
        label,
        iso: iso.clone(),
    })
}

/// The heading for a Powens state.
pub fn state_title(state: Option<&ConnectionState>, t: &'static Texts) -> &'static str {
    use ConnectionState as S;
    match state {
        None => t.ok_title,
        Some(S::ScaRequired) => t.sca_title,
        Some(S::WebauthRequired) => t.webauth_title,
        Some(S::AdditionalInformationNeeded) => t.info_title,
        Some(S::Decoupled) => t.decoupled_title,
        Some(S::Validating) => t.validating_title,
        Some(S::ActionNeeded) => t.action_title,
        Some(S::PasswordExpired) => t.pw_expired_title,
        Some(S::Wrongpass) => t.wrongpass_title,
        Some(S::RateLimiting) => t.rate_title,
        Some(S::WebsiteUnavailable) => t.site_down_title,
        Some(S::Bug) => t.bug_title,
        Some(S::NotSupported) => t.not_supported_title,
        Some(S::Unknown(_)) => t.unknown_title,
    }
}

/// A short label for a source's state.
pub fn source_label(state: Option<&ConnectionState>, t: &'static Texts) -> &'static str {
    match state.map(ConnectionState::kind) {
        None => t.src_ok,
        Some(StateKind::UserAction) => t.src_attention,
        Some(StateKind::InProgress) => t.src_progress,
        Some(StateKind::Transient) => t.src_later,
        Some(StateKind::Unsupported) => t.src_unsupported,
    }
}

/// A countdown's text: `m:ss`, or `h:mm:ss` from an hour.
pub fn clock_text(secs: i64) -> String {
    let s = secs.max(0);
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// The seconds left of an approval window at `now`, and its whole length: the
/// progress bar's `value` is their difference, its `max` the length.
pub fn seconds_left(started: f64, deadline: f64, now: f64) -> (i64, i64) {
    let total = ((deadline - started) / 1000.0).ceil().max(1.0) as i64;
    let left = ((deadline - now) / 1000.0).ceil() as i64;
    (left.clamp(0, total), total)
}

/// "Next try in N s", or "Trying again…" while a try is under way (`at` unknown).
pub fn retry_text(t: &'static Texts, at: Option<f64>, now: f64) -> String {
    match at {
        Some(at) => {
            let secs = ((at - now) / 1000.0).ceil().max(0.0) as i64;
            format!("{} {}{}", t.retry_in, secs, t.seconds)
        }
        None => t.retrying.to_owned(),
    }
}

/// The next automatic try while unavailable (`None` while one is under way, or when
/// not unavailable): read by the unavailable panel's countdown, outside [`Panel`].
pub fn retry_at(m: &Machine) -> Option<f64> {
    match m.phase {
        Phase::Unavailable { retry_at, .. } if retry_at.is_finite() => Some(retry_at),
        _ => None,
    }
}

/// What the widget shows now.
pub fn panel(m: &Machine, t: &'static Texts) -> Panel {
    match &m.phase {
        Phase::Loading => Panel::new(
            Kind::Notice {
                dates: vec![],
                progress: Some(t.loading_title),
            },
            Head::new("progress", t.loading_title),
        ),
        Phase::SessionExpired => Panel::new(
            notice(vec![]),
            Head::new("neutral", t.expired_title).body(t.expired_body),
        ),
        Phase::NotFound => Panel::new(
            notice(vec![]),
            Head::new("neutral", t.not_found_title).body(t.not_found_body),
        ),
        Phase::Unavailable { .. } => Panel::new(
            Kind::Unavailable,
            Head::new("calm", t.unavailable_title).body(t.unavailable_body),
        )
        .with(button(Action::Retry, t.try_again, false)),
        Phase::TimedOut(s) => Panel::of(
            Kind::Redirect,
            Head::new("alert", t.timed_out_title).body(t.timed_out_body),
            s,
            t,
        )
        .with(button(Action::Retry, t.try_again, true)),
        Phase::Waiting {
            status,
            deadline,
            started,
        } => decoupled(
            status,
            t,
            Progress::Countdown {
                started: *started,
                deadline: *deadline,
            },
        ),
        Phase::Showing(s)
        | Phase::Busy { status: s, .. }
        | Phase::Redirecting { status: s, .. } => state_panel(s, t),
    }
}

fn decoupled(s: &ConnectionStatus, t: &'static Texts, progress: Progress) -> Panel {
    Panel::of(
        Kind::Approval(progress),
        Head::new("alert", t.decoupled_title).body(t.decoupled_body),
        s,
        t,
    )
    .with(button(Action::Resume, t.approved, true))
}

fn state_panel(s: &ConnectionStatus, t: &'static Texts) -> Panel {
    use ConnectionState as S;
    // A fine connection whose access ends soon is not "up to date" to the user: its
    // heading (also the compact banner's, and a calm line of `<mend-connections>`)
    // asks for the renewal the body explains.
    let title = match s.state {
        None if s.renew => t.renew_title,
        _ => state_title(s.state.as_ref(), t),
    };
    let head = |tone| Head::new(tone, title);
    match &s.state {
        // Fine, but the bank access ends soon (the proxy's `renew`): a calm word, the
        // date through `Intl`, and Reconnect (which renews it) first.
        None if s.renew => Panel::of(
            notice(
                dated(t.last_update, s.last_update.as_ref())
                    .into_iter()
                    .chain(dated(t.renew_before, s.access_expire.as_ref()))
                    .collect(),
            ),
            head("calm").body(t.renew_body),
            s,
            t,
        )
        .offer(s, button(Action::Reconnect, t.renew, true))
        .offer(s, button(Action::Sync, t.refresh, false)),
        None => Panel::of(
            notice(
                dated(t.last_update, s.last_update.as_ref())
                    .into_iter()
                    .collect(),
            ),
            head("ok"),
            s,
            t,
        )
        .offer(s, button(Action::Sync, t.refresh, false)),
        Some(S::ScaRequired) => Panel::of(Kind::Redirect, head("alert").body(t.sca_body), s, t)
            .offer(s, button(Action::Reconnect, t.confirm_access, true))
            .offer(s, button(Action::Sync, t.sync_now, false)),
        Some(S::WebauthRequired) => {
            Panel::of(Kind::Redirect, head("alert").body(t.webauth_body), s, t)
                .offer(s, button(Action::Webauth, t.continue_at_bank, true))
                .offer(s, button(Action::Reconnect, t.reconnect_other, false))
        }
        Some(S::AdditionalInformationNeeded | S::PasswordExpired | S::Wrongpass) => {
            let form = s.can(Action::Submit) && !s.fields.is_empty();
            let body = match (&s.state, form) {
                (Some(S::PasswordExpired), true) => t.pw_expired_form,
                (Some(S::PasswordExpired), false) => t.pw_expired_reconnect,
                (Some(S::Wrongpass), true) => t.wrongpass_form,
                (Some(S::Wrongpass), false) => t.wrongpass_reconnect,
                _ => t.info_body,
            };
            let kind = if form {
                Kind::Form {
                    fields: s.fields.clone(),
                    new_password: s.state == Some(S::PasswordExpired),
                }
            } else {
                Kind::Redirect
            };
            Panel::of(kind, head("alert").body(body), s, t)
                .offer(s, button(Action::Reconnect, t.reconnect, !form))
        }
        Some(S::Decoupled) => decoupled(s, t, Progress::Spinner(t.starting)),
        Some(S::Validating) => Panel::of(
            Kind::Approval(Progress::Spinner(title)),
            head("progress").body(t.validating_body),
            s,
            t,
        ),
        Some(S::ActionNeeded) => Panel::of(Kind::Redirect, head("alert").body(t.action_body), s, t)
            .offer(s, button(Action::Sync, t.done_it, true)),
        Some(S::RateLimiting | S::WebsiteUnavailable | S::Bug) => Panel::of(
            notice(
                [
                    dated(t.next_try, s.next_try.as_ref()),
                    dated(t.last_update, s.last_update.as_ref()),
                ]
                .into_iter()
                .flatten()
                .collect(),
            ),
            head("calm").body(t.transient_body),
            s,
            t,
        ),
        Some(S::NotSupported | S::Unknown(_)) => Panel::of(
            notice(vec![]),
            head("neutral").body(t.unsupported_body),
            s,
            t,
        ),
    }
}

#[cfg(test)]
mod tests;
