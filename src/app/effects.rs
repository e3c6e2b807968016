//! What the machine asks for: requests, the host's events, focus.
//!
//! Focus has one policy: it moves only when the machine says so (a change of state
//! after the first, an error panel, a return), only if the keyboard focus is already in
//! the widget (a background change never steals it from the host page), and then to
//! the first invalid field, else the new panel's heading. Everything else (typing,
//! ticks, the busy flag) rebuilds nothing, so focus stays where the user put it.

use super::Ctl;
use crate::client::{Call, Endpoint};
use crate::dom;
use crate::state::{Effect, Event};
use leptos::prelude::*;
use mend_model::api::{Action, RedirectKind, RedirectRequest};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

impl Ctl {
    pub(super) fn endpoint(&self) -> Endpoint {
        self.attrs.with_untracked(|a| Endpoint {
            base: a.api_base.clone(),
            session: a.session.clone(),
        })
    }

    pub(super) fn run(self: &Rc<Self>, effect: Effect) {
        let id = self.connection_id();
        match effect {
            Effect::Fetch => self.request(Call::Status { id, wait: None }),
            Effect::Call(action) => {
                let call = match action {
                    Action::Submit => Call::Fields {
                        id,
                        body: self.machine.with_untracked(|m| {
                            let fields = m.status().map(|s| s.fields.as_slice()).unwrap_or(&[]);
                            crate::form::submission(fields, &self.values.borrow())
                        }),
                    },
                    Action::Resume => Call::Resume { id },
                    Action::Sync => Call::Sync { id },
                    Action::Reconnect | Action::Webauth => Call::RedirectUrl {
                        id,
                        kind: RedirectKind::of(action).unwrap_or(RedirectKind::Reconnect),
                        body: self.attrs.with_untracked(|a| RedirectRequest {
                            redirect_uri: a
                                .redirect_uri
                                .clone()
                                .unwrap_or_else(dom::page_without_query),
                            lang: Some(self.texts.get_untracked().lang.to_owned()),
                        }),
                    },
                    Action::Retry | Action::Dismiss => return,
                };
                self.request(call);
            }
            Effect::EmitState { state, previous } => {
                let js = |s: Option<String>| s.map_or(JsValue::NULL, |s| JsValue::from_str(&s));
                self.emit(
                    "mend:state",
                    &[("state", js(state)), ("previous", js(previous))],
                    false,
                );
            }
            Effect::EmitResolved => {
                self.emit("mend:resolved", &[], false);
            }
            Effect::EmitSessionExpired => {
                self.emit("mend:session-expired", &[], false);
            }
            Effect::EmitError { code, message } => {
                self.emit(
                    "mend:error",
                    &[("code", code.into()), ("message", message.into())],
                    false,
                );
            }
            Effect::EmitRedirect(url) => {
                // Before the event: a host that cancels it navigates by itself, and the
                // return must still come back to this element.
                dom::set_return_hint(self.connection_id(), &url.url);
                let go = self.emit(
                    "mend:redirect",
                    &[
                        ("kind", url.kind.as_str().into()),
                        ("url", url.url.as_str().into()),
                    ],
                    true,
                );
                if go {
                    dom::navigate_top(&url.url);
                } else {
                    self.dispatch(Event::RedirectPrevented);
                }
            }
            Effect::Focus => self.focus(),
        }
    }

    pub(super) fn emit(&self, name: &str, extra: &[(&str, JsValue)], cancelable: bool) -> bool {
        let mut pairs = vec![(
            "connectionId",
            JsValue::from_f64(self.connection_id() as f64),
        )];
        pairs.extend(extra.iter().cloned());
        dom::emit(&self.host, name, &dom::object(&pairs), cancelable)
    }

    /// Moves focus to the first invalid field, else the panel's heading, once the view
    /// has updated, and only if focus is already in the widget.
    pub(super) fn focus(self: &Rc<Self>) {
        // Decided now, before the view updates: the new panel replaces the focused
        // button, after which focus is nowhere and would look "outside".
        if !dom::focus_within(&self.host) {
            return;
        }
        let weak = Rc::downgrade(self);
        request_animation_frame(move || {
            let Some(ctl) = weak.upgrade() else { return };
            if !ctl.alive.get() {
                return;
            }
            let root = ctl.view_root.borrow().clone();
            let target = root.and_then(|r| {
                r.query_selector("[aria-invalid=true]")
                    .ok()
                    .flatten()
                    .or_else(|| r.query_selector(".mend__panel .mend__title").ok().flatten())
            });
            if let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = el.focus();
            }
        });
    }
}
