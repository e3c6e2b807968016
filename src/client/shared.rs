//! Long polls shared by the page: one watch per connection that is changing, however
//! the page combines its elements (a `<mend-connection connection-id="42">` and a
//! `<mend-connections>` listing 42 hold one long poll of 42 between them, not two).
//!
//! Why: a long poll holds a request open at the proxy until the state differs from
//! `since`. Two elements watching the same connection through the same client, as the
//! same session and from the same `since`, would wait for the very same answer on two
//! requests, and count twice against the proxy's open waits per user. [`long_poll`]
//! starts the request for the first of them and hands every later one the same
//! answer. Each keeps its own abort signal: a holder that aborts gets
//! [`ClientError::Aborted`] at once, and the request itself is aborted when the last
//! holder lets go (nothing keeps waiting after every element has gone).

use super::{Answer, Api, Call, Endpoint, Reply};
use crate::error::ClientError;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// What makes two long polls the same one: the client (by address), the proxy, the
/// session and the path with its `?wait=&since=`.
type Key = (usize, String, String, String);

type Outcome = Result<Answer, ClientError>;

/// A holder's `abort` listener, on its signal.
type Listener = (web_sys::AbortSignal, Closure<dyn Fn()>);

/// One long poll and the elements holding it.
struct Watch {
    key: Key,
    outcome: RefCell<Option<Outcome>>,
    wakers: RefCell<Vec<Waker>>,
    holders: Cell<usize>,
    ctrl: Option<web_sys::AbortController>,
    /// Each holder's `abort` listener, removed when the watch goes (a listener left on
    /// a signal that aborts later would call a dropped closure).
    listeners: RefCell<Vec<Listener>>,
}

// Vectors, not maps: a page holds a handful of watches and seeds, and a `HashMap`
// (its hasher and table code) cost the element's wasm several KB.
thread_local! {
    static WATCHES: RefCell<Vec<Rc<Watch>>> = const { RefCell::new(Vec::new()) };
}

/// How many long polls are open now (for tests).
pub fn open_watches() -> usize {
    WATCHES.with_borrow(Vec::len)
}

/// `call` (a long poll) through `client`, shared with every holder of the same one;
/// `abort` lets go of it (see the module's documentation).
pub fn long_poll(
    client: &Rc<dyn Api>,
    to: &Endpoint,
    call: Call,
    abort: web_sys::AbortSignal,
) -> Reply {
    let key = (
        Rc::as_ptr(client) as *const () as usize,
        to.base.clone(),
        to.session.clone(),
        call.path(),
    );
    let watch = match WATCHES.with_borrow(|w| w.iter().find(|w| w.key == key).cloned()) {
        Some(w) => w,
        None => {
            let ctrl = web_sys::AbortController::new().ok();
            let reply = client.call(to, call, ctrl.as_ref().map(|c| c.signal()));
            let w = Rc::new(Watch {
                key: key.clone(),
                outcome: RefCell::new(None),
                wakers: RefCell::new(Vec::new()),
                holders: Cell::new(0),
                ctrl,
                listeners: RefCell::new(Vec::new()),
            });
            WATCHES.with_borrow_mut(|m| m.push(Rc::clone(&w)));
            let driver = Rc::clone(&w);
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = reply.await;
                driver.finish(outcome);
            });
            w
        }
    };
    watch.holders.set(watch.holders.get() + 1);
    let weak = Rc::downgrade(&watch);
    // `Fn`, not `FnMut`: the closure type the element already has.
    let once = Cell::new(true);
    let on_abort = Closure::<dyn Fn()>::new(move || {
        if let (true, Some(w)) = (once.replace(false), weak.upgrade()) {
            w.release();
        }
    });
    let _ = abort.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    watch.listeners.borrow_mut().push((abort.clone(), on_abort));
    Box::pin(Holder { watch, abort })
}

impl Watch {
    fn forget(self: &Rc<Self>) {
        WATCHES.with_borrow_mut(|m| m.retain(|w| !Rc::ptr_eq(w, self)));
    }

    fn wake_all(&self) {
        for w in self.wakers.take() {
            w.wake();
        }
    }

    fn finish(self: &Rc<Self>, outcome: Outcome) {
        *self.outcome.borrow_mut() = Some(outcome);
        self.forget();
        self.wake_all();
    }

    /// A holder aborted: it hears so at once; the last one out aborts the request.
    fn release(self: &Rc<Self>) {
        let left = self.holders.get().saturating_sub(1);
        self.holders.set(left);
        if left == 0 && self.outcome.borrow().is_none() {
            self.forget();
            if let Some(c) = &self.ctrl {
                c.abort();
            }
        }
        self.wake_all();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for (signal, cb) in self.listeners.take() {
            let _ =
                signal.remove_event_listener_with_callback("abort", cb.as_ref().unchecked_ref());
        }
    }
}

/// One element's hold on a shared long poll.
struct Holder {
    watch: Rc<Watch>,
    abort: web_sys::AbortSignal,
}

impl Future for Holder {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if self.abort.aborted() {
            return Poll::Ready(Err(ClientError::Aborted));
        }
        if let Some(outcome) = self.watch.outcome.borrow().as_ref() {
            return Poll::Ready(outcome.clone());
        }
        self.watch.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// A status the page already read for an element about to start (the answer of
/// `<mend-connections>`' one request, handed to each entry it creates), and when.
type Seed = (
    (String, String, i64),
    f64,
    mend_model::api::ConnectionStatus,
);

thread_local! {
    static SEEDS: RefCell<Vec<Seed>> = const { RefCell::new(Vec::new()) };
}

/// How long a seed is good for: an entry starts within a frame of being created; a
/// seed left by an entry that never started must not answer for a later element.
const SEED_MS: f64 = 5_000.0;

/// Leaves `status` (read from `to`) for the element of that connection about to start.
pub fn seed(to: &Endpoint, status: mend_model::api::ConnectionStatus) {
    let key = (to.base.clone(), to.session.clone(), status.id);
    SEEDS.with_borrow_mut(|s| {
        s.retain(|(k, ..)| *k != key);
        s.push((key, crate::dom::now(), status));
    });
}

/// The status left for connection `id` read from `to`, if fresh (taken: used once).
pub fn take_seed(to: &Endpoint, id: i64) -> Option<mend_model::api::ConnectionStatus> {
    let key = (to.base.clone(), to.session.clone(), id);
    let now = crate::dom::now();
    let (_, at, status) = SEEDS.with_borrow_mut(|s| {
        // Stale ones go too.
        s.retain(|(_, at, _)| now - at < SEED_MS);
        let i = s.iter().position(|(k, ..)| *k == key)?;
        Some(s.swap_remove(i))
    })?;
    (now - at < SEED_MS).then_some(status)
}
