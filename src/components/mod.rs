//! The views: [`Root`] picks one panel per phase and state with a single reactive
//! `match`; each panel is a small component receiving plain data and callbacks.
//!
//! Every string from Powens (the bank's message, labels, source names) is rendered as
//! a text node, never as HTML. No `style` attributes anywhere (strict CSP): looks come
//! from classes, `data-*` attributes and `style/mend.css`.

mod fields;
mod panels;

pub use fields::FieldsForm;
pub use panels::*;

use crate::app::Ctl;
use crate::element::Attrs;
use crate::i18n::{self, Texts};
use crate::state::{Machine, Notice, Phase};
use leptos::prelude::*;
use mend_model::ConnectionState;
use mend_model::api::{Action, CallbackOutcome, ConnectionStatus};
use std::rc::Rc;

/// The heading of the current panel (also what the live region announces).
pub fn title(m: &Machine, t: &'static Texts) -> &'static str {
    match &m.phase {
        Phase::Loading => t.loading_title,
        Phase::Unavailable { .. } => t.unavailable_title,
        Phase::SessionExpired => t.expired_title,
        Phase::NotFound => t.not_found_title,
        Phase::TimedOut(_) => t.timed_out_title,
        _ => state_title(m.status().and_then(|s| s.state.as_ref()), t),
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

/// A notice's text.
pub fn notice_text(n: &Notice, t: &'static Texts) -> &'static str {
    match n {
        Notice::Resolved => t.resolved,
        Notice::Returned(CallbackOutcome::Cancelled) => t.returned_cancelled,
        Notice::Returned(CallbackOutcome::Failed) => t.returned_failed,
        Notice::Returned(CallbackOutcome::Completed) => t.returned_completed,
        Notice::CredentialsRejected => t.err_credentials,
        Notice::InvalidFields(_) => t.err_fields,
        Notice::Failed(e) => e.user_message(t),
    }
}

/// The whole widget: live region, notice, and the panel of the moment.
#[component]
pub fn Root(
    /// The controller.
    ctl: StoredValue<Rc<Ctl>, LocalStorage>,
) -> impl IntoView {
    let c = ctl.get_value();
    let (machine, attrs, open) = (c.machine, c.attrs, c.open);
    let (now, values, field_errors) = (c.now, c.values, c.field_errors);
    drop(c);
    let t = move || i18n::texts(&attrs.with(Attrs::lang));
    let on_action = UnsyncCallback::new(move |a: Action| ctl.get_value().act(a));
    let on_submit = UnsyncCallback::new(move |()| ctl.get_value().submit());
    let compact = move || attrs.with(|a| a.compact);
    let announce = move || machine.with(|m| title(m, t()));
    let notice = move || {
        machine.with(|m| {
            m.notice.as_ref().map(|n| {
                let ok = matches!(n, Notice::Resolved | Notice::Returned(CallbackOutcome::Completed));
                view! {
                    <NoticeBar text=notice_text(n, t()) ok=ok close=t().dismiss on_action=on_action/>
                }
            })
        })
    };
    let panel = move || {
        let m = machine.get();
        let t = t();
        let busy = m.busy();
        let server_errors = match &m.notice {
            Some(Notice::InvalidFields(f)) => f.clone(),
            _ => Default::default(),
        };
        match m.phase {
            Phase::Loading => view! { <LoadingPanel t=t/> }.into_any(),
            Phase::SessionExpired => view! { <SessionExpiredPanel t=t/> }.into_any(),
            Phase::NotFound => view! { <NotFoundPanel t=t/> }.into_any(),
            Phase::Unavailable { retry_at, .. } => {
                view! { <UnavailablePanel t=t retry_at=retry_at now=now on_action=on_action/> }
                    .into_any()
            }
            Phase::Waiting { status, deadline, started } => view! {
                <DecoupledPanel t=t status=status busy=busy window=Some((started, deadline)) timed_out=false now=now on_action=on_action/>
            }
            .into_any(),
            Phase::TimedOut(status) => view! {
                <DecoupledPanel t=t status=status busy=busy window=None timed_out=true now=now on_action=on_action/>
            }
            .into_any(),
            Phase::Showing(status) | Phase::Busy { status, .. } | Phase::Redirecting { status, .. } => {
                let errors = Signal::derive(move || {
                    let client = field_errors.get();
                    if client.is_empty() { server_errors.clone() } else { client }
                });
                view! {
                    <StatePanel t=t status=status busy=busy now=now values=values errors=errors
                        on_action=on_action on_submit=on_submit/>
                }
                .into_any()
            }
        }
    };
    let data_phase = move || machine.with(|m| m.phase_name());
    view! {
        <section class="mend" part="container" data-phase=data_phase lang=move || t().lang
            data-compact=move || compact().then_some("") data-open=move || open.get().then_some("")>
            <p class="mend__live" role="status" aria-live="polite" aria-atomic="true">{announce}</p>
            {move || compact().then(|| view! {
                <div class="mend__banner" part="banner">
                    <span class="mend__banner-text">{announce}</span>
                    <button type="button" class="mend__btn mend__btn--link" part="button toggle"
                        aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.update(|o| *o = !*o)>
                        {move || if open.get() { t().close } else { t().open }}
                    </button>
                </div>
            })}
            <div class="mend__body" part="body" hidden=move || compact() && !open.get()>
                {notice}
                {panel}
            </div>
        </section>
    }
}

/// The panel for a connection state (not a phase of the widget's own).
#[component]
pub fn StatePanel(
    t: &'static Texts,
    status: ConnectionStatus,
    /// The action in flight.
    busy: Option<Action>,
    now: RwSignal<f64>,
    values: RwSignal<std::collections::BTreeMap<String, String>>,
    errors: Signal<std::collections::BTreeMap<String, mend_model::api::FieldProblem>>,
    on_action: UnsyncCallback<Action>,
    on_submit: UnsyncCallback<()>,
) -> impl IntoView {
    use ConnectionState as S;
    let _ = now;
    match status.state.clone() {
        None => view! { <OkPanel t=t status=status busy=busy on_action=on_action/> }.into_any(),
        Some(S::ScaRequired) => {
            view! { <ScaPanel t=t status=status busy=busy on_action=on_action/> }.into_any()
        }
        Some(S::WebauthRequired) => {
            view! { <WebauthPanel t=t status=status busy=busy on_action=on_action/> }.into_any()
        }
        Some(S::AdditionalInformationNeeded | S::PasswordExpired | S::Wrongpass) => view! {
            <CredentialsPanel t=t status=status busy=busy values=values errors=errors
                on_action=on_action on_submit=on_submit/>
        }
        .into_any(),
        Some(S::Decoupled) => view! {
            <DecoupledPanel t=t status=status busy=busy window=None timed_out=false now=now on_action=on_action/>
        }
        .into_any(),
        Some(S::Validating) => view! { <ValidatingPanel t=t status=status/> }.into_any(),
        Some(S::ActionNeeded) => {
            view! { <ActionNeededPanel t=t status=status busy=busy on_action=on_action/> }
                .into_any()
        }
        Some(S::RateLimiting | S::WebsiteUnavailable | S::Bug) => {
            view! { <TransientPanel t=t status=status/> }.into_any()
        }
        Some(S::NotSupported | S::Unknown(_)) => {
            view! { <UnsupportedPanel t=t status=status/> }.into_any()
        }
    }
}

/// A message above the panel, with a close button.
#[component]
pub fn NoticeBar(
    text: &'static str,
    /// Good news (calm look, `role=status`) rather than a problem (`role=alert`).
    ok: bool,
    close: &'static str,
    on_action: UnsyncCallback<Action>,
) -> impl IntoView {
    view! {
        <div class="mend__notice" part="notice" data-tone=if ok { "ok" } else { "alert" }
            role=if ok { "status" } else { "alert" }>
            <p class="mend__notice-text">{text}</p>
            <button type="button" class="mend__btn mend__btn--link" part="button" data-action="dismiss"
                on:click=move |_| on_action.run(Action::Dismiss)>{close}</button>
        </div>
    }
}
