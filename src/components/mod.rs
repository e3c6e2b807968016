//! The view, as Leptos components: [`Root`] holds the live region, the compact
//! [`Banner`](parts::Banner), the notice and one reactive switch on the kind of panel
//! ([`crate::panel::Kind`]), type-erased there (`into_any`), each arm a small
//! component receiving plain data, signals and callbacks:
//!
//! | kind | component | states |
//! |---|---|---|
//! | form | [`form::FormPanel`] | `additionalInformationNeeded`; `wrongpass`, `passwordExpired` with Agent status |
//! | approval | [`panels::ApprovalPanel`] | `decoupled` (resuming, countdown), `validating` |
//! | redirect | [`panels::RedirectPanel`] | `SCARequired`, `webauthRequired`, `actionNeeded`, Reconnect fallbacks, an approval timed out |
//! | notice | [`panels::NoticePanel`] | fine, `rateLimiting`, `websiteUnavailable`, `bug`, `notSupported`, unknown; loading, session expired, not found |
//! | unavailable | [`panels::UnavailablePanel`] | the proxy can't be reached |
//!
//! The switch reads a memo of [`crate::panel::Panel`], which changes with the state,
//! the bank's words and the language only: the busy flag, the clock, the form's values
//! and problems each have their own signal, read by the one node they change. A new
//! kind of panel is built anew; a new value of the same kind (the bank's message after
//! a wrong code) patches the panel in place, so the field the user is in stays. Nothing is rebuilt
//! for them, so focus stays where the user put it; the controller moves it only on a
//! change of state ([`crate::app`]). The controller owns every request and timer;
//! components only read signals and call back.
//!
//! No `style` attributes (strict CSP): looks come from classes, `data-*` and
//! `style/mend.css`.

pub mod form;
pub mod panels;
pub mod parts;

use crate::app::Ctl;
use crate::i18n::Texts;
use crate::panel::{self, Kind, Panel};
use crate::state::{Machine, Notice};
use form::FormPanel;
use leptos::prelude::*;
use mend_model::api::{Action, CallbackOutcome};
use panels::{ApprovalPanel, NoticePanel, RedirectPanel, UnavailablePanel};
use parts::{Banner, NoticeBar};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A notice's text, and whether it is good news.
pub fn notice_text(n: &Notice, t: &'static Texts) -> (&'static str, bool) {
    match n {
        Notice::Resolved => (t.resolved, true),
        Notice::Returned(CallbackOutcome::Completed) => (t.returned_completed, true),
        Notice::Returned(CallbackOutcome::Cancelled) => (t.returned_cancelled, false),
        Notice::Returned(CallbackOutcome::Failed) => (t.returned_failed, false),
        Notice::CredentialsRejected => (t.err_credentials, false),
        Notice::InvalidFields(_) => (t.err_fields, false),
        Notice::Failed(e) => (e.user_message(t), false),
    }
}

/// The whole widget: live region, compact banner, notice, and the panel of the moment.
#[component]
pub fn Root(
    /// The controller: its signals are read here, its methods are the callbacks.
    ctl: StoredValue<Rc<Ctl>, LocalStorage>,
) -> impl IntoView {
    let c = ctl.get_value();
    let (machine, attrs, open, now, texts, values, field_errors) = (
        c.machine,
        c.attrs,
        c.open,
        c.now,
        c.texts,
        c.values,
        c.field_errors,
    );
    let lang_ready = c.lang_ready;
    drop(c);

    let panel = Memo::new(move |_| machine.with(|m| panel::panel(m, texts.get())));
    let title = Signal::derive(move || panel.with(|p| p.head.title));
    let busy = Memo::new(move |_| machine.with(Machine::busy));
    let retry_at = Memo::new(move |_| machine.with(panel::retry_at));
    let notice = Memo::new(move |_| {
        machine.with(|m| m.notice.as_ref().map(|n| notice_text(n, texts.get())))
    });
    // The widget's own checks first; else what the proxy refused.
    let errors = Memo::new(move |_| {
        let mine = field_errors.get();
        if !mine.is_empty() {
            return mine;
        }
        machine.with(|m| match &m.notice {
            Some(Notice::InvalidFields(f)) => f.clone(),
            _ => BTreeMap::new(),
        })
    });
    let compact = Memo::new(move |_| attrs.with(|a| a.compact));

    let on_action = Callback::new(move |a: Action| ctl.get_value().act(a));
    let on_submit = Callback::new(move |()| ctl.get_value().submit());
    let on_input = Callback::new(move |(name, value): (String, String)| {
        // Untracked: nothing on screen depends on what is typed.
        values.update_untracked(|v| {
            v.insert(name, value);
        });
    });
    let on_toggle = Callback::new(move |()| open.update(|o| *o = !*o));

    let switch = move || {
        let Panel {
            kind,
            head,
            buttons,
            sources,
        } = panel.get();
        let t = texts.get_untracked();
        match kind {
            Kind::Form {
                fields,
                new_password,
            } => {
                let values = values.get_untracked();
                view! {
                    <FormPanel head fields new_password buttons sources t values errors busy
                        on_input on_submit on_action/>
                }
                .into_any()
            }
            Kind::Approval(progress) => view! {
                <ApprovalPanel head progress buttons sources t busy now on_action/>
            }
            .into_any(),
            Kind::Redirect => {
                view! { <RedirectPanel head buttons sources t busy on_action/> }.into_any()
            }
            Kind::Notice { dates, progress } => view! {
                <NoticePanel head dates progress buttons sources t busy on_action/>
            }
            .into_any(),
            Kind::Unavailable => view! {
                <UnavailablePanel head buttons t retry_at now busy on_action/>
            }
            .into_any(),
        }
    };

    view! {
        <section class="mend" part="container" data-phase=move || machine.with(|m| m.phase_name())
            lang=move || texts.get().lang hidden=move || !lang_ready.get()
            data-compact=move || compact.get().then_some("") data-open=move || open.get().then_some("")>
            <p class="mend__live" role="status" aria-live="polite" aria-atomic="true">{title}</p>
            {move || compact.get().then(|| view! { <Banner title open t=texts on_toggle/> })}
            <div class="mend__body" part="body" hidden=move || compact.get() && !open.get()>
                {move || notice.get().map(|(text, ok)| {
                    view! { <NoticeBar text ok dismiss=texts.get().dismiss on_action/> }
                })}
                {switch}
            </div>
        </section>
    }
}
