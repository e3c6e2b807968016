//! The small pieces every panel is made of: its head, a button and a row of them,
//! the approval countdown, the list of sources, the notice above a panel and the
//! compact banner.
//!
//! Each takes plain data and, for what changes while it is shown, a signal of its
//! own: a button follows the busy flag, the countdown the clock, and nothing else is
//! touched when those change. Strings from Powens are children of `view!`, which
//! makes text nodes of them: never HTML.

use crate::i18n::Texts;
use crate::panel::{Button, Head, Source, clock_text, seconds_left};
use leptos::prelude::*;
use mend_model::api::Action;

/// The top of a panel: the bank, the heading (the focus target), the bank's message
/// and the widget's explanation.
#[component]
pub fn PanelHead(
    /// What to show.
    head: Head,
) -> impl IntoView {
    let Head {
        bank,
        title,
        message,
        body,
        ..
    } = head;
    view! {
        {bank.map(|b| view! { <p class="mend__bank" part="bank">{b}</p> })}
        <p class="mend__title" part="title" tabindex="-1">{title}</p>
        {message.map(|m| view! { <p class="mend__message" part="message">{m}</p> })}
        {body.map(|b| view! { <p class="mend__text">{b}</p> })}
    }
}

/// One `data-action` button. While any action is in flight it is `aria-disabled`
/// (not `disabled`: a disabled button drops the keyboard focus, which then cannot be
/// moved into the next panel), and the one in flight is `aria-busy`.
#[component]
pub fn ActionButton(
    /// Action, label and whether it is the panel's main one.
    button: Button,
    /// The action in flight, if any.
    busy: Memo<Option<Action>>,
    /// Called with the button's action when it is pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    let Button {
        action,
        label,
        primary,
    } = button;
    let class = if primary {
        "mend__btn mend__btn--primary"
    } else {
        "mend__btn"
    };
    view! {
        <button type="button" class=class part="button" data-action=action.as_str()
            aria-disabled=move || busy.get().map(|_| "true")
            aria-busy=move || (busy.get() == Some(action)).then_some("true")
            on:click=move |_| on_action.run(action)>
            {label}
        </button>
    }
}

/// A panel's row of buttons (nothing when there are none).
#[component]
pub fn Actions(
    /// The buttons, main one first.
    buttons: Vec<Button>,
    /// The action in flight, if any.
    busy: Memo<Option<Action>>,
    /// Called with the action of the button pressed.
    on_action: Callback<Action>,
) -> impl IntoView {
    (!buttons.is_empty()).then(|| {
        view! {
            <div class="mend__actions" part="actions">
                {buttons
                    .into_iter()
                    .map(|button| view! { <ActionButton button busy on_action/> })
                    .collect_view()}
            </div>
        }
    })
}

/// An indeterminate progress bar with an accessible name.
#[component]
pub fn Spinner(
    /// Its accessible name.
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="mend__countdown" part="countdown">
            <progress class="mend__progress" part="progress" aria-label=label></progress>
        </div>
    }
}

/// The approval window: a bar filling up and "Time left: m:ss". Only the bar's value
/// and the clock's text follow the clock.
#[component]
pub fn Countdown(
    /// When the wait began (ms since the epoch).
    started: f64,
    /// When it ends.
    deadline: f64,
    /// The clock (ms since the epoch), ticking every second.
    now: RwSignal<f64>,
    /// "Time left:", in the widget's language.
    label: &'static str,
) -> impl IntoView {
    let left = move || seconds_left(started, deadline, now.get());
    let total = left().1;
    view! {
        <div class="mend__countdown" part="countdown">
            <progress class="mend__progress" part="progress" aria-label=label
                max=total.to_string() value=move || (total - left().0).to_string()
                data-deadline=(deadline as i64).to_string()></progress>
            <p class="mend__meta">{label}" "<span class="mend__clock">{move || clock_text(left().0)}</span></p>
        </div>
    }
}

/// The sources of a multi-source connection whose state differs from the
/// connection's (nothing when there are none).
#[component]
pub fn SourceList(
    /// The sources.
    sources: Vec<Source>,
    /// The copy.
    t: &'static Texts,
) -> impl IntoView {
    (!sources.is_empty()).then(|| {
        view! {
            <div class="mend__sources" part="sources">
                <p class="mend__sources-title">{t.sources}</p>
                <ul>
                    {sources
                        .into_iter()
                        .map(|s| view! {
                            <li data-state=s.state>
                                <span class="mend__source-name">{s.name}</span>": "{s.label}
                            </li>
                        })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

/// The message above a panel (a repair done, a return, a refusal), with a button to
/// close it. Good news is a `status`, anything else an `alert`. The bank's own words,
/// when it gave any, follow as text, quoted and marked as the bank's.
#[component]
pub fn NoticeBar(
    /// What happened.
    text: &'static str,
    /// Good news.
    ok: bool,
    /// The bank's own words (untranslated), if any.
    #[prop(optional_no_strip)]
    bank: Option<String>,
    /// "Your bank says:", in the widget's language.
    #[prop(optional)]
    says: &'static str,
    /// The close button's label.
    dismiss: &'static str,
    /// Called with [`Action::Dismiss`].
    on_action: Callback<Action>,
) -> impl IntoView {
    view! {
        <div class="mend__notice" part="notice" data-tone=if ok { "ok" } else { "alert" }
            role=if ok { "status" } else { "alert" }>
            <div class="mend__notice-body">
                <p class="mend__notice-text">{text}</p>
                {bank.map(|words| view! {
                    <p class="mend__notice-bank" part="bank-message">{says}" "<q>{words}</q></p>
                })}
            </div>
            <button type="button" class="mend__btn mend__btn--link" part="button"
                data-action=Action::Dismiss.as_str() on:click=move |_| on_action.run(Action::Dismiss)>
                {dismiss}
            </button>
        </div>
    }
}

/// Compact mode: one line saying the state, and a button that shows or hides the
/// panel (`aria-expanded`).
#[component]
pub fn Banner(
    /// The panel's heading.
    title: impl Fn() -> &'static str + Send + 'static,
    /// Whether the panel is shown; the button toggles it.
    open: RwSignal<bool>,
    /// The copy (the button's "Show" / "Hide").
    t: RwSignal<&'static Texts>,
) -> impl IntoView {
    view! {
        <div class="mend__banner" part="banner">
            <span class="mend__banner-text">{title}</span>
            <button type="button" class="mend__btn mend__btn--link" part="button toggle"
                aria-expanded=move || Some(if open.get() { "true" } else { "false" })
                on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { t.get().close } else { t.get().open }}
            </button>
        </div>
    }
}
