//! The panels where nothing is typed: an approval in the bank app, a trip to the
//! bank or the webview, a notice, and the proxy out of reach. The form has its own
//! module ([`super::form`]).
//!
//! Each is an `<article class="mend__panel" data-panel=… data-tone=…>` built once per
//! panel shown; only its buttons (busy flag) and countdowns (clock) change while it is
//! on screen.

use super::parts::{Actions, Countdown, PanelHead, SourceList, Spinner};
use crate::dom::format_date;
use crate::i18n::Texts;
use crate::panel::{Button, Dated, Head, Progress, Source, retry_text};
use leptos::either::Either;
use leptos::prelude::*;
use mend_model::api::Action;

/// Approve in the bank app (`decoupled`: resuming, then the approval window with its
/// countdown and "I've approved it", then "Try again"), or wait while Powens checks
/// with the bank (`validating`: nothing to click).
#[component]
pub fn ApprovalPanel(
    /// Heading and explanation.
    head: Head,
    /// A spinner while resuming or checking, the countdown while waiting.
    progress: Progress,
    /// "I've approved it", when offered.
    buttons: Vec<Button>,
    /// Sources that differ.
    sources: Vec<Source>,
    /// The copy.
    t: &'static Texts,
    /// The action in flight.
    busy: Memo<Option<Action>>,
    /// The clock, for the countdown.
    now: RwSignal<f64>,
    /// Called with the action of a button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let tone = head.tone;
    // `Either`, not `into_any`: a static choice needs no type erasure.
    let progress = match progress {
        Progress::Spinner(label) => Either::Left(view! { <Spinner label/> }),
        Progress::Countdown { started, deadline } => {
            Either::Right(view! { <Countdown started deadline now label=t.time_left/> })
        }
    };
    view! {
        <article class="mend__panel" part="panel" data-panel="approval" data-tone=tone>
            <PanelHead head/>
            {progress}
            <Actions buttons busy on_action/>
            <SourceList sources t/>
        </article>
    }
}

/// Continue at the bank or in Powens' webview (`SCARequired`, `webauthRequired`, the
/// Reconnect fallbacks), or do what the bank asks there and say so (`actionNeeded`),
/// or send a new approval request once one timed out.
#[component]
pub fn RedirectPanel(
    /// Heading and explanation.
    head: Head,
    /// The ways to go, main one first.
    buttons: Vec<Button>,
    /// Sources that differ.
    sources: Vec<Source>,
    /// The copy.
    t: &'static Texts,
    /// The action in flight.
    busy: Memo<Option<Action>>,
    /// Called with the action of a button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let tone = head.tone;
    view! {
        <article class="mend__panel" part="panel" data-panel="redirect" data-tone=tone>
            <PanelHead head/>
            <Actions buttons busy on_action/>
            <SourceList sources t/>
        </article>
    }
}

/// Nothing to repair: the connection is fine (last update, "Refresh now"), Powens
/// retries by itself (next try), the state is not supported or unknown; and the
/// widget's own loading, session-expired and not-found notices.
#[component]
pub fn NoticePanel(
    /// Heading and explanation.
    head: Head,
    /// Dated lines, shown in the widget's language through `Intl`.
    dates: Vec<Dated>,
    /// An indeterminate bar with this name (loading).
    progress: Option<&'static str>,
    /// "Refresh now", when offered.
    buttons: Vec<Button>,
    /// Sources that differ.
    sources: Vec<Source>,
    /// The copy.
    t: &'static Texts,
    /// The action in flight.
    busy: Memo<Option<Action>>,
    /// Called with the action of a button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let tone = head.tone;
    view! {
        <article class="mend__panel" part="panel" data-panel="notice" data-tone=tone>
            <PanelHead head/>
            {progress.map(|label| view! { <Spinner label/> })}
            {dates
                .into_iter()
                .map(|d| {
                    let shown = format_date(&d.iso, t.lang);
                    view! {
                        <p class="mend__meta" part="meta">{d.label}" "<time datetime=d.iso>{shown}</time></p>
                    }
                })
                .collect_view()}
            <Actions buttons busy on_action/>
            <SourceList sources t/>
        </article>
    }
}

/// The proxy, or Powens behind it, can't be reached: "Next try in N s" (counting down,
/// or "Trying again…" while a try is under way) and "Try again" now.
#[component]
pub fn UnavailablePanel(
    /// Heading and explanation.
    head: Head,
    /// "Try again".
    buttons: Vec<Button>,
    /// The copy.
    t: &'static Texts,
    /// The next automatic try (ms since the epoch), `None` while one is under way.
    retry_at: impl Fn() -> Option<f64> + Send + 'static,
    /// The clock.
    now: RwSignal<f64>,
    /// The action in flight.
    busy: Memo<Option<Action>>,
    /// Called with the action of a button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let tone = head.tone;
    view! {
        <article class="mend__panel" part="panel" data-panel="unavailable" data-tone=tone>
            <PanelHead head/>
            <p class="mend__meta mend__retry" part="meta">{move || retry_text(t, retry_at(), now.get())}</p>
            <Actions buttons busy on_action/>
        </article>
    }
}
