//! The views: [`Root`] picks one panel per phase and state with a single reactive
//! `match`; each panel is a small component receiving plain data and callbacks.
//!
//! Every string from Powens (the bank's message, labels, source names) is rendered as
//! a text node, never as HTML. No `style` attributes anywhere (strict CSP): looks come
//! from classes, `data-*` attributes and `style/mend.css`.

mod fields;

pub use fields::FieldsForm;

use crate::app::Ctl;
use crate::dom;
use crate::element::Attrs;
use crate::i18n::{self, Texts};
use crate::panel::{Extra, Panel, panel};
use crate::state::Notice;
use leptos::prelude::*;
use mend_model::api::{Action, CallbackOutcome, FieldProblem};
use std::collections::BTreeMap;
use std::rc::Rc;

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
    let announce = move || machine.with(|m| panel(m, t()).title);
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
    let on_input = UnsyncCallback::new(move |(name, value): (String, String)| {
        // Untracked by the panel: typing must not re-render the form.
        values.update_untracked(|v| {
            v.insert(name, value);
        });
    });
    let shown = move || {
        let (p, busy, server_errors) = machine.with(|m| {
            let server = match &m.notice {
                Some(Notice::InvalidFields(f)) => f.clone(),
                _ => BTreeMap::new(),
            };
            (panel(m, t()), m.busy(), server)
        });
        let client = field_errors.get();
        let errors = if client.is_empty() {
            server_errors
        } else {
            client
        };
        view! {
            <PanelView t=t() panel=p busy=busy now=now values=values.get_untracked() errors=errors
                on_input=on_input on_action=on_action on_submit=on_submit/>
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
                {shown}
            </div>
        </section>
    }
}

/// One panel, whatever the state: see [`crate::panel`] for why it is data-driven.
#[component]
pub fn PanelView(
    t: &'static Texts,
    panel: Panel,
    /// The action in flight: buttons are disabled meanwhile.
    busy: Option<Action>,
    now: RwSignal<f64>,
    /// The form's values so far.
    values: BTreeMap<String, String>,
    /// The form's problems.
    errors: BTreeMap<String, FieldProblem>,
    on_input: UnsyncCallback<(String, String)>,
    on_action: UnsyncCallback<Action>,
    on_submit: UnsyncCallback<()>,
) -> impl IntoView {
    let Panel {
        tone,
        title,
        bank,
        message,
        body,
        extra,
        dates,
        buttons,
        sources,
    } = panel;
    let extra = match extra {
        Extra::None => None,
        Extra::Spinner(label) => Some(
            view! {
                <div class="mend__countdown" part="countdown">
                    <progress class="mend__progress" part="progress" aria-label=label></progress>
                </div>
            }
            .into_any(),
        ),
        Extra::Countdown { started, deadline } => {
            // Whole seconds, as integers: no float formatting in the wasm.
            let total = (((deadline - started) / 1000.0).round() as i64).max(1);
            let left = move || (((deadline - now.get()) / 1000.0).ceil() as i64).clamp(0, total);
            let clock = move || {
                let s = left();
                match s / 3600 {
                    0 => format!("{}:{:02}", s / 60, s % 60),
                    h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
                }
            };
            Some(view! {
                <div class="mend__countdown" part="countdown">
                    <progress class="mend__progress" part="progress" max=total.to_string()
                        value=move || (total - left()).to_string() aria-label=t.time_left></progress>
                    <p class="mend__meta">{t.time_left}" "<span class="mend__clock">{clock}</span></p>
                </div>
            }.into_any())
        }
        Extra::RetryCountdown { at } => {
            let when = move || {
                if at.is_finite() {
                    let s = (((at - now.get()) / 1000.0).ceil() as i64).max(0);
                    format!("{} {}{}", t.retry_in, s, t.seconds)
                } else {
                    t.retrying.to_owned()
                }
            };
            Some(view! { <p class="mend__meta" part="meta">{when}</p> }.into_any())
        }
        Extra::Form {
            fields,
            new_password,
        } => Some(
            view! {
                <FieldsForm t=t fields=fields busy=busy values=values errors=errors
                    new_password=new_password on_input=on_input on_submit=on_submit/>
            }
            .into_any(),
        ),
    };
    let dates = dates
        .into_iter()
        .map(|(label, iso)| {
            let shown = dom::format_date(&iso, t.lang);
            view! { <p class="mend__meta" part="meta">{label}" "<time datetime=iso>{shown}</time></p> }
        })
        .collect_view();
    let buttons = (!buttons.is_empty()).then(|| {
        let buttons = buttons
            .into_iter()
            .map(|b| {
                let action = b.action;
                view! {
                    <button type="button" class="mend__btn" class:mend__btn--primary=b.primary part="button"
                        data-action=action.as_str() disabled=busy.is_some()
                        aria-busy=(busy == Some(action)).then_some("true")
                        on:click=move |_| on_action.run(action)>
                        {b.label}
                    </button>
                }
            })
            .collect_view();
        view! { <div class="mend__actions" part="actions">{buttons}</div> }
    });
    let sources = (!sources.is_empty()).then(|| {
        let items = sources
            .into_iter()
            .map(|(name, state, label)| view! {
                <li data-state=state><span class="mend__source-name">{name}</span>": "{label}</li>
            })
            .collect_view();
        view! {
            <div class="mend__sources" part="sources">
                <p class="mend__sources-title">{t.sources}</p>
                <ul>{items}</ul>
            </div>
        }
    });
    view! {
        <article class="mend__panel" part="panel" data-tone=tone>
            {bank.map(|b| view! { <p class="mend__bank" part="bank">{b}</p> })}
            <h2 class="mend__title" part="title" tabindex="-1">{title}</h2>
            {message.map(|m| view! { <p class="mend__message" part="message">{m}</p> })}
            {body.map(|b| view! { <p class="mend__text">{b}</p> })}
            {extra}
            {dates}
            {buttons}
            {sources}
        </article>
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
