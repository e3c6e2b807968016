//! One small component per state, sharing [`Frame`] (heading, bank, message, sources)
//! and [`ActionButton`].

use super::{FieldsForm, state_title};
use crate::dom;
use crate::i18n::Texts;
use leptos::prelude::*;
use mend_model::api::{Action, ConnectionStatus, FieldProblem};
use mend_model::{ConnectionState, StateKind};
use std::collections::BTreeMap;

/// The common frame of a panel: bank name, heading (focus target), the bank's
/// message as text, the panel's own content, and the sources that differ.
#[component]
pub fn Frame(
    t: &'static Texts,
    /// `alert` (the user must act), `progress`, `calm`, `ok` or `neutral`: drives the look.
    tone: &'static str,
    title: &'static str,
    /// The status shown, if any.
    #[prop(optional)]
    status: Option<ConnectionStatus>,
    children: Children,
) -> impl IntoView {
    let bank = status.as_ref().and_then(|s| s.connector.clone());
    let message = status
        .as_ref()
        .and_then(|s| s.message.clone())
        .filter(|m| !m.trim().is_empty());
    view! {
        <article class="mend__panel" part="panel" data-tone=tone>
            {bank.map(|b| view! { <p class="mend__bank" part="bank">{b}</p> })}
            <h2 class="mend__title" part="title" tabindex="-1">{title}</h2>
            {message.map(|m| view! { <p class="mend__message" part="message">{m}</p> })}
            {children()}
            {status.map(|s| view! { <Sources t=t status=s/> })}
        </article>
    }
}

/// A button that starts `action`; disabled while any action is in flight.
#[component]
pub fn ActionButton(
    action: Action,
    label: &'static str,
    /// The main call to action of the panel.
    #[prop(optional)]
    primary: bool,
    busy: Option<Action>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    view! {
        <button type="button" class="mend__btn" class:mend__btn--primary=primary part="button"
            data-action=action.as_str() disabled=busy.is_some()
            aria-busy=(busy == Some(action)).then_some("true")
            on:click=move |_| on_action.run(action)>
            {label}
        </button>
    }
}

/// A plain paragraph of copy.
#[component]
fn Body(text: &'static str) -> impl IntoView {
    view! { <p class="mend__text">{text}</p> }
}

/// "Last updated: <date>", when known.
#[component]
fn LastUpdate(t: &'static Texts, status: ConnectionStatus) -> impl IntoView {
    status.last_update.map(|iso| {
        let shown = dom::format_date(&iso, t.lang);
        view! {
            <p class="mend__meta" part="meta">{t.last_update}" "<time datetime=iso>{shown}</time></p>
        }
    })
}

/// The sources whose state differs from the connection's.
#[component]
pub fn Sources(t: &'static Texts, status: ConnectionStatus) -> impl IntoView {
    let differing: Vec<_> = status
        .sources
        .into_iter()
        .filter(|s| s.state != status.state)
        .collect();
    (!differing.is_empty()).then(|| {
        view! {
            <div class="mend__sources" part="sources">
                <p class="mend__sources-title">{t.sources}</p>
                <ul>
                    {differing.into_iter().map(|s| {
                        let data = ConnectionState::data_state(s.state.as_ref()).to_owned();
                        let label = source_label(s.state.as_ref(), t);
                        view! {
                            <li data-state=data><span class="mend__source-name">{s.name}</span>": "{label}</li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        }
    })
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

/// An indeterminate progress bar (reduced motion: no animation, see the CSS).
#[component]
fn Spinner(label: &'static str) -> impl IntoView {
    view! { <progress class="mend__progress" part="progress" aria-label=label></progress> }
}

/// Before the first answer.
#[component]
pub fn LoadingPanel(t: &'static Texts) -> impl IntoView {
    view! {
        <Frame t=t tone="progress" title=t.loading_title>
            <Spinner label=t.loading_title/>
        </Frame>
    }
}

/// `null`: all fine; last update and "Refresh now".
#[component]
pub fn OkPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    let can_sync = status.can(Action::Sync);
    view! {
        <Frame t=t tone="ok" title=t.ok_title status=status.clone()>
            <LastUpdate t=t status=status/>
            <div class="mend__actions" part="actions">
                {can_sync.then(|| view! {
                    <ActionButton action=Action::Sync label=t.refresh busy=busy on_action=on_action/>
                })}
            </div>
        </Frame>
    }
}

/// `SCARequired`: Reconnect webview, or synchronise with the user present.
#[component]
pub fn ScaPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    let (reconnect, sync) = (status.can(Action::Reconnect), status.can(Action::Sync));
    view! {
        <Frame t=t tone="alert" title=t.sca_title status=status>
            <Body text=t.sca_body/>
            <div class="mend__actions" part="actions">
                {reconnect.then(|| view! {
                    <ActionButton action=Action::Reconnect label=t.confirm_access primary=true busy=busy on_action=on_action/>
                })}
                {sync.then(|| view! {
                    <ActionButton action=Action::Sync label=t.sync_now busy=busy on_action=on_action/>
                })}
            </div>
        </Frame>
    }
}

/// `webauthRequired`: the bank's own page; the webview as a fallback.
#[component]
pub fn WebauthPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    let (webauth, reconnect) = (status.can(Action::Webauth), status.can(Action::Reconnect));
    view! {
        <Frame t=t tone="alert" title=t.webauth_title status=status>
            <Body text=t.webauth_body/>
            <div class="mend__actions" part="actions">
                {webauth.then(|| view! {
                    <ActionButton action=Action::Webauth label=t.continue_at_bank primary=true busy=busy on_action=on_action/>
                })}
                {reconnect.then(|| view! {
                    <ActionButton action=Action::Reconnect label=t.reconnect_other busy=busy on_action=on_action/>
                })}
            </div>
        </Frame>
    }
}

/// `additionalInformationNeeded`, `passwordExpired`, `wrongpass`: a form from `fields`
/// when the proxy offers `submit`, otherwise the Reconnect webview.
#[component]
pub fn CredentialsPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    values: RwSignal<BTreeMap<String, String>>,
    errors: Signal<BTreeMap<String, FieldProblem>>,
    on_action: UnsyncCallback<Action>,
    on_submit: UnsyncCallback<()>,
) -> impl IntoView {
    let form = status.can(Action::Submit) && !status.fields.is_empty();
    let reconnect = status.can(Action::Reconnect);
    let state = status.state.clone();
    let body = match (&state, form) {
        (Some(ConnectionState::PasswordExpired), true) => t.pw_expired_form,
        (Some(ConnectionState::PasswordExpired), false) => t.pw_expired_reconnect,
        (Some(ConnectionState::Wrongpass), true) => t.wrongpass_form,
        (Some(ConnectionState::Wrongpass), false) => t.wrongpass_reconnect,
        _ => t.info_body,
    };
    let new_password = state == Some(ConnectionState::PasswordExpired);
    let fields = status.fields.clone();
    view! {
        <Frame t=t tone="alert" title=state_title(state.as_ref(), t) status=status>
            <Body text=body/>
            {form.then(|| view! {
                <FieldsForm t=t fields=fields busy=busy values=values errors=errors
                    new_password=new_password on_submit=on_submit/>
            })}
            {reconnect.then(|| view! {
                <div class="mend__actions" part="actions">
                    <ActionButton action=Action::Reconnect label=t.reconnect primary=!form busy=busy on_action=on_action/>
                </div>
            })}
        </Frame>
    }
}

/// `decoupled`: approve in the bank app. While resuming: a spinner; while waiting:
/// a progress bar and countdown to the deadline, and "I've approved it"; after the
/// deadline: "Try again".
#[component]
pub fn DecoupledPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    /// `(started, deadline)` while waiting.
    window: Option<(f64, f64)>,
    timed_out: bool,
    now: RwSignal<f64>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    if timed_out {
        return view! {
            <Frame t=t tone="alert" title=t.timed_out_title status=status>
                <Body text=t.timed_out_body/>
                <div class="mend__actions" part="actions">
                    <ActionButton action=Action::Retry label=t.try_again primary=true busy=busy on_action=on_action/>
                </div>
            </Frame>
        }
        .into_any();
    }
    let progress = match window {
        Some((started, deadline)) => {
            let total = ((deadline - started) / 1000.0).max(1.0).round();
            let left = move || ((deadline - now.get()) / 1000.0).max(0.0).ceil();
            let clock = move || {
                let s = left() as u64;
                format!("{}:{:02}", s / 60, s % 60)
            };
            view! {
                <div class="mend__countdown" part="countdown">
                    <progress class="mend__progress" part="progress" max=total value=move || total - left()
                        aria-label=t.time_left></progress>
                    <p class="mend__meta">{t.time_left}" "<span class="mend__clock">{clock}</span></p>
                </div>
            }
            .into_any()
        }
        None => view! {
            <div class="mend__countdown" part="countdown">
                <Spinner label=t.starting/>
                <p class="mend__meta">{t.starting}</p>
            </div>
        }
        .into_any(),
    };
    view! {
        <Frame t=t tone="alert" title=t.decoupled_title status=status>
            <Body text=t.decoupled_body/>
            {progress}
            <div class="mend__actions" part="actions">
                <ActionButton action=Action::Resume label=t.approved primary=true busy=busy on_action=on_action/>
            </div>
        </Frame>
    }
    .into_any()
}

/// `validating`: progress, nothing to click; the widget keeps watching.
#[component]
pub fn ValidatingPanel(t: &'static Texts, status: ConnectionStatus) -> impl IntoView {
    view! {
        <Frame t=t tone="progress" title=t.validating_title status=status>
            <Spinner label=t.validating_title/>
            <Body text=t.validating_body/>
        </Frame>
    }
}

/// `actionNeeded`: act at the bank, then "I've done it" (`sync`).
#[component]
pub fn ActionNeededPanel(
    t: &'static Texts,
    status: ConnectionStatus,
    busy: Option<Action>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    let sync = status.can(Action::Sync);
    view! {
        <Frame t=t tone="alert" title=t.action_title status=status>
            <Body text=t.action_body/>
            <div class="mend__actions" part="actions">
                {sync.then(|| view! {
                    <ActionButton action=Action::Sync label=t.done_it primary=true busy=busy on_action=on_action/>
                })}
            </div>
        </Frame>
    }
}

/// `rateLimiting`, `websiteUnavailable`, `bug`: calm; Powens retries by itself.
#[component]
pub fn TransientPanel(t: &'static Texts, status: ConnectionStatus) -> impl IntoView {
    let next = status.next_try.clone().map(|iso| {
        let shown = dom::format_date(&iso, t.lang);
        view! { <p class="mend__meta" part="meta">{t.next_try}" "<time datetime=iso>{shown}</time></p> }
    });
    view! {
        <Frame t=t tone="calm" title=state_title(status.state.as_ref(), t) status=status.clone()>
            <Body text=t.transient_body/>
            {next}
            <LastUpdate t=t status=status/>
        </Frame>
    }
}

/// `notSupported` and unknown states: neutral, nothing to do.
#[component]
pub fn UnsupportedPanel(t: &'static Texts, status: ConnectionStatus) -> impl IntoView {
    view! {
        <Frame t=t tone="neutral" title=state_title(status.state.as_ref(), t) status=status>
            <Body text=t.unsupported_body/>
        </Frame>
    }
}

/// The proxy can't be reached: automatic retry with a countdown, and "Try again".
#[component]
pub fn UnavailablePanel(
    t: &'static Texts,
    /// Next automatic try; infinite while one is in flight.
    retry_at: f64,
    now: RwSignal<f64>,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    let when = move || {
        if retry_at.is_finite() {
            let s = ((retry_at - now.get()) / 1000.0).max(0.0).ceil();
            format!("{} {}{}", t.retry_in, s, t.seconds)
        } else {
            t.retrying.to_owned()
        }
    };
    view! {
        <Frame t=t tone="calm" title=t.unavailable_title>
            <Body text=t.unavailable_body/>
            <p class="mend__meta" part="meta">{when}</p>
            <div class="mend__actions" part="actions">
                <ActionButton action=Action::Retry label=t.try_again busy=None on_action=on_action/>
            </div>
        </Frame>
    }
}

/// The session expired: a friendly message until the host sets a new `session`.
#[component]
pub fn SessionExpiredPanel(t: &'static Texts) -> impl IntoView {
    view! {
        <Frame t=t tone="neutral" title=t.expired_title>
            <Body text=t.expired_body/>
        </Frame>
    }
}

/// The connection is unknown to this session.
#[component]
pub fn NotFoundPanel(t: &'static Texts) -> impl IntoView {
    view! {
        <Frame t=t tone="neutral" title=t.not_found_title>
            <Body text=t.not_found_body/>
        </Frame>
    }
}
