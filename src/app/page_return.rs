//! The return from the bank or the webview: the page's query is checked with the
//! proxy once per page (its `state` is single use), by the widget of the connection
//! that left, and the outcome goes to that widget.

use super::Ctl;
use crate::client::{Answer, Call};
use crate::dom;
use crate::error::ClientError;
use crate::state::{Effect, Event};
use mend_model::api::CallbackResult;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

thread_local! {
    /// The page's return from a redirect, checked once for all widgets of the page.
    static RETURN: RefCell<ReturnSlot> = const { RefCell::new(ReturnSlot::Unchecked) };
    /// Live controllers, to hand a checked return to the one it is for.
    static LIVE: RefCell<Vec<Weak<Ctl>>> = const { RefCell::new(Vec::new()) };
}

enum ReturnSlot {
    Unchecked,
    Pending,
    Done(Option<Box<CallbackResult>>),
}

/// Remembers a new controller (weakly), so a return checked by another can reach it.
pub(super) fn register(ctl: &Rc<Ctl>) {
    LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|w| w.strong_count() > 0);
        l.push(Rc::downgrade(ctl));
    });
}

impl Ctl {
    /// The page's return from the bank or the webview: the first widget to start checks
    /// it with the proxy (the `state` is single use), and the answer goes to the widget
    /// of the connection it was for.
    pub(super) fn check_return(self: &Rc<Self>) {
        let slot = RETURN.with(|r| match &*r.borrow() {
            ReturnSlot::Unchecked => None,
            ReturnSlot::Pending => Some(None),
            ReturnSlot::Done(res) => Some(res.as_deref().cloned()),
        });
        match slot {
            Some(Some(result)) if result.connection_id == self.connection_id() => {
                self.dispatch(Event::Returned(result));
            }
            Some(_) => {}
            None => {
                let Some(mut params) = dom::callback_params() else {
                    RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Done(None));
                    return;
                };
                // An error that came back without its `state` (or with `state=null`):
                // the return of this tab's newest hand-off, whose `state` it still
                // holds; the proxy checks that one as any other.
                if params.error.is_some()
                    && params
                        .state
                        .as_deref()
                        .is_none_or(|s| s.is_empty() || s == "null")
                {
                    params.state = dom::newest_return_hint();
                }
                // The `state` is bound to the session of the connection that left, so
                // that connection's widget checks it: the one this tab handed that
                // `state` to, else the one the bank names, else (nothing known) the first.
                let state = params.state.clone().unwrap_or_default();
                let handed = dom::return_hint(&state);
                if handed.is_none() && !dom::looks_signed(&state) {
                    // Not a return of ours: the host's own `state` (and `code`, `error`)
                    // are left alone, in the address bar too.
                    RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Done(None));
                    return;
                }
                let target = handed.or_else(|| {
                    [&params.id_connection, &params.connection_id]
                        .into_iter()
                        .find_map(|p| p.as_deref()?.parse().ok())
                });
                if target.is_some_and(|id| id != self.connection_id()) {
                    return;
                }
                dom::clear_return_hint(&state);
                RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Pending);
                // At once, so a reload never presents the single-use state twice.
                dom::strip_callback_params();
                let reply = self
                    .client
                    .call(&self.endpoint(), Call::Callback(params), None);
                let this = Rc::clone(self);
                leptos::task::spawn_local(async move {
                    match reply.await {
                        Ok(Answer::Callback(result)) => {
                            RETURN.with(|r| {
                                *r.borrow_mut() = ReturnSlot::Done(Some(Box::new(result.clone())))
                            });
                            let live: Vec<Rc<Ctl>> = LIVE
                                .with(|l| l.borrow().iter().filter_map(Weak::upgrade).collect());
                            for ctl in live {
                                if ctl.alive.get() && ctl.connection_id() == result.connection_id {
                                    ctl.dispatch(Event::Returned(result.clone()));
                                }
                            }
                        }
                        other => {
                            RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Done(None));
                            let err = match other {
                                Err(e) => e,
                                Ok(_) => ClientError::BadAnswer,
                            };
                            if this.alive.get() && err != ClientError::Aborted {
                                this.run(Effect::EmitError {
                                    code: err.code().to_owned(),
                                    message: err.message(),
                                });
                            }
                        }
                    }
                });
            }
        }
    }

    /// Forgets any page return checked so far (tests mount many widgets on one page).
    pub fn reset_page_return() {
        RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Unchecked);
    }
}
