//! What each state shows, as plain data: [`panel`] maps the machine to a [`Panel`]
//! (tone, heading, copy, extra content, buttons, sources) that one renderer
//! ([`crate::components::render`]) turns into DOM.
//!
//! Why data rather than one Leptos component per state (the architecture first
//! proposed): every distinct `view!` tree is monomorphised into its own
//! build/rebuild/mount code in the wasm. Measured on this widget: fourteen per-state
//! components made a 179 KB gzip wasm; this struct and its renderer, with the other
//! cuts listed in BENCHMARKS.md ("Widget"), 98 KB. It also makes "what does the user
//! see in state X" a pure function, unit-tested natively for every state below.

use crate::i18n::Texts;
use crate::state::{Machine, Phase};
use mend_model::api::{Action, ConnectionStatus};
use mend_model::{ConnectionState, ConnectorField, StateKind};

/// Everything one panel shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// `alert` (the user must act), `progress`, `calm`, `ok` or `neutral`: the look.
    pub tone: &'static str,
    /// The heading (focus target, and what the live region announces).
    pub title: &'static str,
    /// The bank's name.
    pub bank: Option<String>,
    /// The bank's own message (text only).
    pub message: Option<String>,
    /// The widget's explanation.
    pub body: Option<&'static str>,
    /// Content particular to the state.
    pub extra: Extra,
    /// Dated lines: `(label, RFC 3339 date)`.
    pub dates: Vec<(&'static str, String)>,
    /// The buttons, main one first.
    pub buttons: Vec<Button>,
    /// Sources whose state differs from the connection's: `(name, data-state, label)`.
    pub sources: Vec<(String, String, &'static str)>,
}

/// Content particular to a state.
#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    /// Nothing.
    None,
    /// An indeterminate progress bar with this label.
    Spinner(&'static str),
    /// A decoupled approval's progress bar and countdown.
    Countdown {
        /// When the wait began (ms since the epoch).
        started: f64,
        /// When it ends.
        deadline: f64,
    },
    /// "Next try in N s" (an infinite `at`: a try is under way).
    RetryCountdown {
        /// Next automatic try (ms since the epoch).
        at: f64,
    },
    /// A form of these fields.
    Form {
        /// The fields.
        fields: Vec<ConnectorField>,
        /// `passwordExpired`: passwords are new ones.
        new_password: bool,
    },
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

fn button(action: Action, label: &'static str, primary: bool) -> Button {
    Button {
        action,
        label,
        primary,
    }
}

impl Panel {
    fn new(tone: &'static str, title: &'static str) -> Self {
        Panel {
            tone,
            title,
            bank: None,
            message: None,
            body: None,
            extra: Extra::None,
            dates: Vec::new(),
            buttons: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn of(
        tone: &'static str,
        title: &'static str,
        s: &ConnectionStatus,
        t: &'static Texts,
    ) -> Self {
        Panel {
            bank: s.connector.clone().filter(|b| !b.trim().is_empty()),
            message: s.message.clone().filter(|m| !m.trim().is_empty()),
            sources: s
                .sources
                .iter()
                .filter(|src| src.state != s.state)
                .map(|src| {
                    (
                        src.name.clone(),
                        ConnectionState::data_state(src.state.as_ref()).to_owned(),
                        source_label(src.state.as_ref(), t),
                    )
                })
                .collect(),
            ..Panel::new(tone, title)
        }
    }

    fn body(mut self, text: &'static str) -> Self {
        self.body = Some(text);
        self
    }

    fn extra(mut self, extra: Extra) -> Self {
        self.extra = extra;
        self
    }

    /// Adds a button if the proxy offers its action.
    fn offer(mut self, s: &ConnectionStatus, b: Button) -> Self {
        if s.can(b.action) {
            self.buttons.push(b);
        }
        self
    }

    fn date(mut self, label: &'static str, iso: Option<&String>) -> Self {
        if let Some(iso) = iso {
            self.dates.push((label, iso.clone()));
        }
        self
    }
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

/// What the widget shows now.
pub fn panel(m: &Machine, t: &'static Texts) -> Panel {
    match &m.phase {
        Phase::Loading => {
            Panel::new("progress", t.loading_title).extra(Extra::Spinner(t.loading_title))
        }
        Phase::SessionExpired => Panel::new("neutral", t.expired_title).body(t.expired_body),
        Phase::NotFound => Panel::new("neutral", t.not_found_title).body(t.not_found_body),
        Phase::Unavailable { retry_at, .. } => {
            let mut p = Panel::new("calm", t.unavailable_title)
                .body(t.unavailable_body)
                .extra(Extra::RetryCountdown { at: *retry_at });
            p.buttons.push(button(Action::Retry, t.try_again, false));
            p
        }
        Phase::TimedOut(s) => {
            let mut p = Panel::of("alert", t.timed_out_title, s, t).body(t.timed_out_body);
            p.buttons.push(button(Action::Retry, t.try_again, true));
            p
        }
        Phase::Waiting {
            status,
            deadline,
            started,
        } => decoupled(status, t).extra(Extra::Countdown {
            started: *started,
            deadline: *deadline,
        }),
        Phase::Showing(s)
        | Phase::Busy { status: s, .. }
        | Phase::Redirecting { status: s, .. } => state_panel(s, t),
    }
}

fn decoupled(s: &ConnectionStatus, t: &'static Texts) -> Panel {
    let mut p = Panel::of("alert", t.decoupled_title, s, t)
        .body(t.decoupled_body)
        .extra(Extra::Spinner(t.starting));
    p.buttons.push(button(Action::Resume, t.approved, true));
    p
}

fn state_panel(s: &ConnectionStatus, t: &'static Texts) -> Panel {
    use ConnectionState as S;
    let title = state_title(s.state.as_ref(), t);
    match &s.state {
        None => Panel::of("ok", title, s, t)
            .date(t.last_update, s.last_update.as_ref())
            .offer(s, button(Action::Sync, t.refresh, false)),
        Some(S::ScaRequired) => Panel::of("alert", title, s, t)
            .body(t.sca_body)
            .offer(s, button(Action::Reconnect, t.confirm_access, true))
            .offer(s, button(Action::Sync, t.sync_now, false)),
        Some(S::WebauthRequired) => Panel::of("alert", title, s, t)
            .body(t.webauth_body)
            .offer(s, button(Action::Webauth, t.continue_at_bank, true))
            .offer(s, button(Action::Reconnect, t.reconnect_other, false)),
        Some(S::AdditionalInformationNeeded | S::PasswordExpired | S::Wrongpass) => {
            let form = s.can(Action::Submit) && !s.fields.is_empty();
            let body = match (&s.state, form) {
                (Some(S::PasswordExpired), true) => t.pw_expired_form,
                (Some(S::PasswordExpired), false) => t.pw_expired_reconnect,
                (Some(S::Wrongpass), true) => t.wrongpass_form,
                (Some(S::Wrongpass), false) => t.wrongpass_reconnect,
                _ => t.info_body,
            };
            let p = Panel::of("alert", title, s, t).body(body);
            let p = if form {
                p.extra(Extra::Form {
                    fields: s.fields.clone(),
                    new_password: s.state == Some(S::PasswordExpired),
                })
            } else {
                p
            };
            p.offer(s, button(Action::Reconnect, t.reconnect, !form))
        }
        Some(S::Decoupled) => decoupled(s, t),
        Some(S::Validating) => Panel::of("progress", title, s, t)
            .body(t.validating_body)
            .extra(Extra::Spinner(title)),
        Some(S::ActionNeeded) => Panel::of("alert", title, s, t)
            .body(t.action_body)
            .offer(s, button(Action::Sync, t.done_it, true)),
        Some(S::RateLimiting | S::WebsiteUnavailable | S::Bug) => Panel::of("calm", title, s, t)
            .body(t.transient_body)
            .date(t.next_try, s.next_try.as_ref())
            .date(t.last_update, s.last_update.as_ref()),
        Some(S::NotSupported | S::Unknown(_)) => {
            Panel::of("neutral", title, s, t).body(t.unsupported_body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::EN;
    use crate::state::Event;
    use mend_model::api::{SourceStatus, actions_for};

    fn status(state: Option<&str>, agent: bool) -> ConnectionStatus {
        let state = state.map(ConnectionState::parse);
        ConnectionStatus {
            id: 1,
            actions: actions_for(state.as_ref(), agent, true),
            state,
            message: Some("Bank says hi".into()),
            fields: vec![ConnectorField {
                name: "otp".into(),
                label: "Code".into(),
                kind: mend_model::FieldType::Text,
                required: true,
                regex: None,
                values: None,
                description: None,
                auth_mechanisms: None,
                connector_sources: None,
            }],
            last_update: Some("2026-11-24T07:00:00Z".into()),
            next_try: Some("2026-11-25T10:00:00Z".into()),
            expire: None,
            connector: Some("Banque".into()),
            sources: vec![],
            server_time: None,
            access_expire: None,
            renew: false,
        }
    }

    fn shown(state: Option<&str>, agent: bool) -> Panel {
        let mut m = Machine::new();
        m.step(Event::Answer(status(state, agent)), 0.0);
        panel(&m, &EN)
    }

    fn actions(p: &Panel) -> Vec<&'static str> {
        p.buttons.iter().map(|b| b.action.as_str()).collect()
    }

    #[test]
    fn every_state_shows_what_section_7_says() {
        // (state, Agent status, heading, buttons, tone)
        type Case<'a> = (Option<&'a str>, bool, &'a str, &'a [&'a str], &'a str);
        let cases: [Case<'_>; 16] = [
            (None, false, EN.ok_title, &["sync"], "ok"),
            (
                Some("SCARequired"),
                false,
                EN.sca_title,
                &["reconnect", "sync"],
                "alert",
            ),
            (
                Some("webauthRequired"),
                false,
                EN.webauth_title,
                &["webauth", "reconnect"],
                "alert",
            ),
            (
                Some("additionalInformationNeeded"),
                false,
                EN.info_title,
                &[],
                "alert",
            ),
            (
                Some("decoupled"),
                false,
                EN.decoupled_title,
                &["resume"],
                "alert",
            ),
            (
                Some("validating"),
                false,
                EN.validating_title,
                &[],
                "progress",
            ),
            (
                Some("actionNeeded"),
                false,
                EN.action_title,
                &["sync"],
                "alert",
            ),
            (
                Some("passwordExpired"),
                false,
                EN.pw_expired_title,
                &["reconnect"],
                "alert",
            ),
            (
                Some("passwordExpired"),
                true,
                EN.pw_expired_title,
                &["reconnect"],
                "alert",
            ),
            (
                Some("wrongpass"),
                false,
                EN.wrongpass_title,
                &["reconnect"],
                "alert",
            ),
            (
                Some("wrongpass"),
                true,
                EN.wrongpass_title,
                &["reconnect"],
                "alert",
            ),
            (Some("rateLimiting"), false, EN.rate_title, &[], "calm"),
            (
                Some("websiteUnavailable"),
                false,
                EN.site_down_title,
                &[],
                "calm",
            ),
            (Some("bug"), false, EN.bug_title, &[], "calm"),
            (
                Some("notSupported"),
                false,
                EN.not_supported_title,
                &[],
                "neutral",
            ),
            (Some("brandNew"), false, EN.unknown_title, &[], "neutral"),
        ];
        for (state, agent, title, buttons, tone) in cases {
            let p = shown(state, agent);
            assert_eq!(p.title, title, "{state:?}");
            assert_eq!(actions(&p), buttons, "{state:?} agent={agent}");
            assert_eq!(p.tone, tone, "{state:?}");
            assert_eq!(p.message.as_deref(), Some("Bank says hi"));
            assert_eq!(p.bank.as_deref(), Some("Banque"));
        }
    }

    #[test]
    fn forms_appear_only_when_submit_is_offered() {
        assert!(matches!(
            shown(Some("additionalInformationNeeded"), false).extra,
            Extra::Form {
                new_password: false,
                ..
            }
        ));
        assert!(matches!(
            shown(Some("passwordExpired"), true).extra,
            Extra::Form {
                new_password: true,
                ..
            }
        ));
        let p = shown(Some("wrongpass"), false);
        assert_eq!(p.extra, Extra::None);
        assert_eq!(p.body, Some(EN.wrongpass_reconnect));
        assert!(
            p.buttons[0].primary,
            "reconnect leads when there is no form"
        );
        assert!(!shown(Some("wrongpass"), true).buttons[0].primary);
    }

    #[test]
    fn dates_and_progress() {
        assert_eq!(
            shown(None, false).dates,
            [(EN.last_update, "2026-11-24T07:00:00Z".to_owned())]
        );
        assert_eq!(shown(Some("bug"), false).dates[0].0, EN.next_try);
        assert_eq!(
            shown(Some("validating"), false).extra,
            Extra::Spinner(EN.validating_title)
        );
        let p = panel(&Machine::new(), &EN);
        assert_eq!(p.title, EN.loading_title);
    }

    #[test]
    fn the_widget_s_own_phases() {
        let mut m = Machine::new();
        m.step(Event::Failed(crate::error::ClientError::Network), 0.0);
        let p = panel(&m, &EN);
        assert_eq!(p.title, EN.unavailable_title);
        assert_eq!(p.extra, Extra::RetryCountdown { at: 2000.0 });
        assert_eq!(actions(&p), ["retry"]);
        let mut m = Machine::new();
        let d = status(Some("decoupled"), false);
        m.step(Event::Answer(d.clone()), 0.0);
        m.step(Event::Answer(d), 0.0);
        assert!(matches!(panel(&m, &EN).extra, Extra::Countdown { .. }));
    }

    #[test]
    fn countdown_texts() {
        assert_eq!(clock_text(0), "0:00");
        assert_eq!(clock_text(119), "1:59");
        assert_eq!(clock_text(7199), "1:59:59");
        assert_eq!(clock_text(-5), "0:00");
        assert_eq!(retry_text(&EN, Some(5_500.0), 1_000.0), "Next try in 5s");
        assert_eq!(
            retry_text(&crate::i18n::FR, Some(2_000.0), 1_000.0),
            "Nouvel essai dans 1 s"
        );
        assert_eq!(retry_text(&EN, None, 0.0), EN.retrying);
    }

    #[test]
    fn differing_sources_are_listed() {
        let mut s = status(Some("SCARequired"), false);
        s.sources = vec![
            SourceStatus {
                name: "openapi".into(),
                state: Some(ConnectionState::ScaRequired),
                last_update: None,
                access_expire: None,
            },
            SourceStatus {
                name: "directaccess".into(),
                state: Some(ConnectionState::Bug),
                last_update: None,
                access_expire: None,
            },
        ];
        let mut m = Machine::new();
        m.step(Event::Answer(s), 0.0);
        assert_eq!(
            panel(&m, &EN).sources,
            [("directaccess".to_owned(), "bug".to_owned(), EN.src_later)]
        );
    }
}
