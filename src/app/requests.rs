//! The controller's requests: one-shot calls (each abortable, its answer dropped if
//! the session or connection changed meanwhile), the one long poll kept running
//! while the machine watches and the page is visible (shared with the page's other
//! elements, `client::shared`), and the one-second clock while
//! a countdown is shown.

use super::Ctl;
use crate::client::{Answer, Call};
use crate::dom;
use crate::error::ClientError;
use crate::state::{Event, LONG_POLL_SECS, Machine};
use leptos::prelude::*;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsValue;

impl Ctl {
    pub(super) fn request(self: &Rc<Self>, call: Call) {
        self.request_with(call, JsValue::UNDEFINED);
    }

    /// Sends `call` (or adopts `started`, the same request already under way).
    pub(super) fn request_with(self: &Rc<Self>, call: Call, started: JsValue) {
        if !self.alive.get() {
            return;
        }
        let generation = self.generation.get();
        let ctrl = web_sys::AbortController::new().ok();
        let key = self.next_request.get();
        self.next_request.set(key + 1);
        if let Some(c) = &ctrl {
            self.inflight.borrow_mut().push((key, c.clone()));
        }
        let reply = self.client.adopt(
            &self.endpoint(),
            call,
            ctrl.as_ref().map(|c| c.signal()),
            started,
        );
        let this = Rc::clone(self);
        leptos::task::spawn_local(async move {
            let result = reply.await;
            this.inflight.borrow_mut().retain(|(k, _)| *k != key);
            if this.alive.get() && this.generation.get() == generation {
                this.dispatch(match result {
                    Ok(Answer::Status(s)) => Event::Answer(s),
                    // The one gate before any navigation (and before the host hears of it).
                    Ok(Answer::Redirect(u))
                        if !dom::redirect_allowed(&u.url, &this.endpoint().base) =>
                    {
                        Event::Failed(ClientError::BadRedirect)
                    }
                    Ok(Answer::Redirect(u)) => Event::RedirectReady(u),
                    Ok(Answer::Callback(r)) => Event::Returned(r),
                    Ok(Answer::List(_)) => Event::Failed(ClientError::BadAnswer),
                    Err(e) => Event::Failed(e),
                });
            }
        });
    }

    /// Keeps exactly one long poll running while the machine wants to watch and the
    /// page is visible.
    pub(super) fn reconcile_watch(self: &Rc<Self>) {
        let want = if !self.alive.get() || dom::page_hidden() {
            None
        } else {
            self.machine.with_untracked(Machine::watch_since)
        };
        {
            let current = self.watch.borrow();
            if let (Some((since, _)), Some(w)) = (current.as_ref(), want.as_ref())
                && since == w
            {
                return;
            }
        }
        if let Some((_, c)) = self.watch.borrow_mut().take() {
            c.abort();
        }
        let Some(since) = want else { return };
        let Ok(ctrl) = web_sys::AbortController::new() else {
            return;
        };
        let call = Call::Status {
            id: self.connection_id(),
            wait: Some((LONG_POLL_SECS, since.clone())),
        };
        // Shared with any other element of the page watching the same (one watch per
        // connection, however many elements show it).
        let reply =
            crate::client::shared::long_poll(&self.client, &self.endpoint(), call, ctrl.signal());
        *self.watch.borrow_mut() = Some((since.clone(), ctrl.clone()));
        let generation = self.generation.get();
        let started = dom::now();
        let this = Rc::clone(self);
        leptos::task::spawn_local(async move {
            let result = reply.await;
            let gone = |this: &Ctl| {
                !this.alive.get() || this.generation.get() != generation || ctrl.signal().aborted()
            };
            if gone(&this) {
                return;
            }
            // A proxy that answers at once with nothing new must not make us spin.
            let unchanged = matches!(&result, Ok(Answer::Status(s))
                if mend_model::ConnectionState::data_state(s.state.as_ref()) == since);
            if unchanged && dom::now() - started < 1000.0 {
                sleep(2000).await;
            }
            if gone(&this) {
                return;
            }
            this.watch.borrow_mut().take();
            this.dispatch(match result {
                Ok(Answer::Status(s)) => Event::Answer(s),
                Ok(_) => Event::Failed(ClientError::BadAnswer),
                Err(e) => Event::Failed(e),
            });
        });
    }

    /// Runs the one-second clock while the machine needs one (a countdown, a backoff).
    pub(super) fn reconcile_clock(self: &Rc<Self>) {
        let want = self.alive.get() && self.machine.with_untracked(Machine::needs_clock);
        let mut ticker = self.ticker.borrow_mut();
        match (want, ticker.is_some()) {
            (true, false) => {
                let weak = Rc::downgrade(self);
                *ticker = set_interval_with_handle(
                    move || {
                        if let Some(ctl) = weak.upgrade() {
                            ctl.now.set(dom::now());
                            ctl.dispatch(Event::Tick);
                        }
                    },
                    Duration::from_secs(1),
                )
                .ok();
                self.now.set(dom::now());
            }
            (false, true) => {
                if let Some(t) = ticker.take() {
                    t.clear();
                }
            }
            _ => {}
        }
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
