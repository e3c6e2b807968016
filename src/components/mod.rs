//! The view: [`Root`] (Leptos) holds the live region, the compact banner and the
//! panel's container, and re-renders the panel whenever the machine or the form's
//! problems change. What the panel shows is data ([`crate::panel`]); how it becomes
//! DOM is [`render`], which explains why it uses plain DOM calls.
//!
//! Every string from Powens (the bank's message, labels, source names) is rendered as
//! a text node, never as HTML. No `style` attributes anywhere (strict CSP): looks come
//! from classes, `data-*` attributes and `style/mend.css`.

pub mod render;

use crate::app::Ctl;
use crate::element::Attrs;
use crate::i18n::{self, Texts};
use crate::panel::panel;
use crate::state::Notice;
use leptos::prelude::*;
use mend_model::api::CallbackOutcome;
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

/// Renders the notice and the panel of the moment into `root` (the `.mend__body`).
/// Reads the machine, the language and the problems tracked (inside an effect, those
/// re-render), the values and the clock untracked.
pub fn paint(ctl: &Ctl, root: &web_sys::Element) {
    let t = i18n::texts(&ctl.attrs.with(Attrs::lang));
    let (p, busy, notice, server_errors) = ctl.machine.with(|m| {
        let server = match &m.notice {
            Some(Notice::InvalidFields(f)) => f.clone(),
            _ => BTreeMap::new(),
        };
        let notice = m.notice.as_ref().map(|n| {
            let ok = matches!(
                n,
                Notice::Resolved | Notice::Returned(CallbackOutcome::Completed)
            );
            (notice_text(n, t), ok)
        });
        (panel(m, t), m.busy(), notice, server)
    });
    let client = ctl.field_errors.get();
    let errors = if client.is_empty() {
        server_errors
    } else {
        client
    };
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    ctl.values.with_untracked(|values| {
        let cx = render::Context {
            t,
            busy,
            values,
            errors: &errors,
            notice,
            now: ctl.now.get_untracked(),
        };
        render::render(&doc, root, &p, &cx);
    });
}

/// The whole widget: live region, compact banner, and the panel of the moment.
#[component]
pub fn Root(
    /// The controller.
    ctl: StoredValue<Rc<Ctl>, LocalStorage>,
) -> impl IntoView {
    let c = ctl.get_value();
    let (machine, attrs, open) = (c.machine, c.attrs, c.open);
    let now = c.now;
    drop(c);
    let t = move || i18n::texts(&attrs.with(Attrs::lang));
    let compact = move || attrs.with(|a| a.compact);
    let announce = move || machine.with(|m| panel(m, t()).title);
    let body = NodeRef::<leptos::html::Div>::new();

    // The panel: rebuilt when the machine, the language or the form's problems change;
    // not when the user types (values are read untracked) nor when the clock ticks.
    Effect::new(move |_| {
        if let Some(root) = body.get() {
            paint(&ctl.get_value(), &root);
        }
    });
    // Countdowns follow the clock without rebuilding the panel (focus stays put).
    Effect::new(move |_| {
        let n = now.get();
        if let Some(root) = body.get_untracked() {
            render::tick(&root, i18n::texts(&attrs.with_untracked(Attrs::lang)), n);
        }
    });

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
            <div class="mend__body" part="body" node_ref=body hidden=move || compact() && !open.get()></div>
        </section>
    }
}
