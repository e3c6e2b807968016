//! The view, as Leptos components: [`Root`] holds the live region, the compact
//! [`Banner`](parts::Banner), the notice and one reactive switch on the kind of panel
//! ([`crate::panel::Kind`]), an `EitherOf5` of the panel components (smaller than
//! `into_any` here: docs/widget.md, "Size"), each arm a small
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
//! the bank's words and the language only: the busy flag, the clock and the form's
//! problems are read by the one node they change; the typed values are kept by the
//! controller, since nothing on screen reads them. A new
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
use leptos::either::EitherOf5;
use leptos::prelude::*;
use mend_model::api::{Action, CallbackOutcome};
use panels::{ApprovalPanel, NoticePanel, RedirectPanel, UnavailablePanel};
use parts::{Banner, NoticeBar};
use std::rc::Rc;

/// A notice's text, and whether it is good news.
pub fn notice_text(n: &Notice, t: &'static Texts) -> (&'static str, bool) {
    match n {
        Notice::Resolved => (t.resolved, true),
        Notice::Returned(CallbackOutcome::Completed) => (t.returned_completed, true),
        Notice::Returned(CallbackOutcome::Cancelled) => (t.returned_cancelled, false),
        Notice::Returned(CallbackOutcome::Failed) => (t.returned_failed, false),
        Notice::CredentialsRejected(_) => (t.err_credentials, false),
        Notice::InvalidFields(_) => (t.err_fields, false),
        Notice::Failed(e) => (e.user_message(t), false),
        Notice::Unanswered => (t.unanswered, false),
    }
}

/// The bank's own words behind a notice, if it gave any.
pub fn notice_bank_words(n: &Notice) -> Option<String> {
    match n {
        Notice::CredentialsRejected(words) => words.clone(),
        Notice::Failed(e) => e.bank_message().map(str::to_owned),
        _ => None,
    }
}

/// The whole widget: live region, compact banner, notice, and the panel of the moment.
#[component]
pub fn Root(
    /// The controller: its signals are read here, its methods are the callbacks.
    ctl: StoredValue<Rc<Ctl>, LocalStorage>,
) -> impl IntoView {
    let c = ctl.get_value();
    let (machine, attrs, open, now, texts, field_errors) =
        (c.machine, c.attrs, c.open, c.now, c.texts, c.field_errors);
    let (lang_ready, quiet) = (c.lang_ready, c.quiet);
    drop(c);

    let panel = Memo::new(move |_| machine.with(|m| panel::panel(m, texts.get())));
    // Memos only where many nodes read a value (the panel, the busy flag); a value
    // read by one node is a closure: each memo type costs the element's wasm its own
    // copy of the reactive graph's machinery (docs/widget.md, "Size").
    let busy = Memo::new(move |_| machine.with(Machine::busy));
    let title = move || panel.with(|p| p.head.title);
    // A submission, resume or sync the bank takes its time over: said once, calmly,
    // in the live region and under the panel (whose busy button stays as it is).
    let slow = move || machine.with(Machine::slow);
    let live = move || {
        if slow() {
            texts.get().slow_bank
        } else {
            title()
        }
    };
    let retry_at = move || machine.with(panel::retry_at);
    let compact = move || attrs.with(|a| a.compact);
    // The widget's own checks first; else what the proxy refused.
    let problem = move |name: &str| {
        field_errors.with(|mine| {
            if !mine.is_empty() {
                return mine.get(name).copied();
            }
            machine.with(|m| match &m.notice {
                Some(Notice::InvalidFields(f)) => f.get(name).copied(),
                _ => None,
            })
        })
    };

    let on_action = Callback::new(move |a: Action| ctl.get_value().act(a));
    // Nothing on screen depends on what is typed: the controller keeps it.
    let on_input =
        Callback::new(move |(name, value): (String, String)| ctl.get_value().typed(name, value));

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
                let values = ctl.get_value().typed_values();
                EitherOf5::A(view! {
                    <FormPanel head fields new_password buttons sources t values problem busy
                        on_input on_action/>
                })
            }
            Kind::Approval(progress) => EitherOf5::B(view! {
                <ApprovalPanel head progress buttons sources t busy now on_action/>
            }),
            Kind::Redirect => {
                EitherOf5::C(view! { <RedirectPanel head buttons sources t busy on_action/> })
            }
            Kind::Notice { dates, progress } => EitherOf5::D(view! {
                <NoticePanel head dates progress buttons sources t busy on_action/>
            }),
            Kind::Unavailable => EitherOf5::E(view! {
                <UnavailablePanel head buttons t retry_at now busy on_action/>
            }),
        }
    };

    view! {
        <section class="mend" part="container" data-phase=move || Some(machine.with(|m| m.phase_name()))
            lang=move || Some(texts.get().lang) hidden=move || (!lang_ready.get()).then_some("")
            data-compact=move || compact().then_some("") data-open=move || open.get().then_some("")>
            <p class="mend__live" role="status" aria-atomic="true"
                aria-live=if quiet { "off" } else { "polite" }>{live}</p>
            {move || compact().then(|| view! { <Banner title open t=texts/> })}
            <div class="mend__body" part="body" hidden=move || (compact() && !open.get()).then_some("")>
                {move || machine.with(|m| m.notice.as_ref().map(|n| (notice_text(n, texts.get()), notice_bank_words(n))))
                    .map(|((text, ok), bank)| {
                        let t = texts.get();
                        view! { <NoticeBar text ok bank says=t.bank_says dismiss=t.dismiss on_action/> }
                    })}
                {switch}
                // Always there, hidden until needed: fewer bytes than a view built on demand.
                <p class="mend__meta" part="meta" data-slow=move || slow().then_some("")
                    hidden=move || (!slow()).then_some("")>{move || texts.get().slow_bank}</p>
            </div>
        </section>
    }
}
