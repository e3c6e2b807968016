//! The controller of one widget: it owns the [`Machine`], performs its effects
//! (requests, the long poll, the clock, host events, focus) and exposes signals to the
//! view. The views in [`crate::components`] only read signals and call back.
//!
//! Cancellation: every request carries an `AbortController`; a generation counter
//! drops answers that belong to an older session or connection id; after
//! [`Ctl::stop`] nothing is requested and nothing is dispatched.

use crate::client::{Answer, Api, Call, Endpoint};
use crate::dom;
use crate::element::Attrs;
use crate::error::ClientError;
use crate::form;
use crate::i18n::{self, Texts};
use crate::state::{Effect, Event, LONG_POLL_SECS, Machine, Phase};
use leptos::prelude::*;
use mend_model::api::{Action, CallbackResult, FieldProblem, RedirectKind, RedirectRequest};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// One widget's controller. Always used through `Rc`.
pub struct Ctl {
    client: Rc<dyn Api>,
    host: web_sys::HtmlElement,
    /// The element's attributes.
    pub attrs: RwSignal<Attrs>,
    /// The state machine.
    pub machine: RwSignal<Machine>,
    /// The clock, updated every second while a countdown is shown.
    pub now: RwSignal<f64>,
    /// The form's values, kept across re-renders.
    pub values: RwSignal<BTreeMap<String, String>>,
    /// Problems found before sending (the proxy's come in the machine's notice).
    pub field_errors: RwSignal<BTreeMap<String, FieldProblem>>,
    /// Compact mode: whether the panel is open.
    pub open: RwSignal<bool>,
    alive: Cell<bool>,
    generation: Cell<u64>,
    next_request: Cell<u64>,
    inflight: RefCell<Vec<(u64, web_sys::AbortController)>>,
    watch: RefCell<Option<(String, web_sys::AbortController)>>,
    ticker: RefCell<Option<IntervalHandle>>,
    on_visibility: RefCell<Option<Closure<dyn Fn()>>>,
    /// Click, submit and input listeners delegated on the widget's root.
    delegated: RefCell<Vec<(&'static str, Listener)>>,
    focus_root: RefCell<Option<web_sys::Element>>,
    /// The first status request, already started by `mend.js` (see [`Api::adopt`]).
    first: RefCell<JsValue>,
}

impl std::fmt::Debug for Ctl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctl")
            .field("attrs", &self.attrs.get_untracked())
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The page's return from a redirect, checked once for all widgets of the page.
    static RETURN: RefCell<ReturnSlot> = const { RefCell::new(ReturnSlot::Unchecked) };
    /// Live controllers, to hand a checked return to the one it is for.
    static LIVE: RefCell<Vec<Weak<Ctl>>> = const { RefCell::new(Vec::new()) };
}

/// A DOM event listener kept alive while it is registered.
type Listener = Closure<dyn Fn(web_sys::Event)>;
/// What a delegated listener does.
type Handler = fn(&Rc<Ctl>, &web_sys::Event);

enum ReturnSlot {
    Unchecked,
    Pending,
    Done(Option<Box<CallbackResult>>),
}

impl Ctl {
    /// A controller for `host`, calling the proxy through `client`.
    pub fn new(client: Rc<dyn Api>, host: web_sys::HtmlElement, attrs: Attrs) -> Rc<Self> {
        let ctl = Rc::new(Self {
            client,
            host,
            attrs: RwSignal::new(attrs),
            machine: RwSignal::new(Machine::new()),
            now: RwSignal::new(dom::now()),
            values: RwSignal::new(BTreeMap::new()),
            field_errors: RwSignal::new(BTreeMap::new()),
            open: RwSignal::new(false),
            alive: Cell::new(true),
            generation: Cell::new(0),
            next_request: Cell::new(0),
            inflight: RefCell::new(Vec::new()),
            watch: RefCell::new(None),
            ticker: RefCell::new(None),
            on_visibility: RefCell::new(None),
            delegated: RefCell::new(Vec::new()),
            focus_root: RefCell::new(None),
            first: RefCell::new(JsValue::UNDEFINED),
        });
        LIVE.with(|l| {
            let mut l = l.borrow_mut();
            l.retain(|w| w.strong_count() > 0);
            l.push(Rc::downgrade(&ctl));
        });
        ctl
    }

    /// Starts: first fetch, the page's return if any, visibility tracking. `first`:
    /// the status request `mend.js` already started (`undefined` if none).
    pub fn start(self: &Rc<Self>, focus_root: web_sys::Element, first: JsValue) {
        *self.first.borrow_mut() = first;
        self.delegate(&focus_root);
        *self.focus_root.borrow_mut() = Some(focus_root);
        self.sync_host();
        let weak = Rc::downgrade(self);
        let cb = Closure::<dyn Fn()>::new(move || {
            if let Some(ctl) = weak.upgrade() {
                ctl.reconcile_watch();
            }
        });
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            let _ = doc
                .add_event_listener_with_callback("visibilitychange", cb.as_ref().unchecked_ref());
        }
        *self.on_visibility.borrow_mut() = Some(cb);
        self.begin();
    }

    /// One listener per event type on the widget's root, for every button, the form
    /// and its fields, whatever panel is shown: the panel's DOM holds no closures.
    fn delegate(self: &Rc<Self>, root: &web_sys::Element) {
        let handlers: [(&'static str, Handler); 3] = [
            ("click", |ctl, ev| {
                let button = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|t| t.closest("button[data-action]").ok().flatten());
                // The submit button is handled by the form's `submit` event.
                if let Some(b) =
                    button.filter(|b| b.get_attribute("type").as_deref() != Some("submit"))
                    && let Some(action) = b
                        .get_attribute("data-action")
                        .as_deref()
                        .and_then(crate::wire::action)
                {
                    ctl.act(action);
                }
            }),
            ("submit", |ctl, ev| {
                ev.prevent_default();
                ctl.submit();
            }),
            ("input", |ctl, ev| {
                let Some(target) = ev.target() else { return };
                let named = if let Some(i) = target.dyn_ref::<web_sys::HtmlInputElement>() {
                    Some((i.name(), i.value()))
                } else {
                    target
                        .dyn_ref::<web_sys::HtmlSelectElement>()
                        .map(|s| (s.name(), s.value()))
                };
                if let Some((name, value)) = named.filter(|(n, _)| !n.is_empty()) {
                    // Untracked: typing must not re-render the panel.
                    ctl.values.update_untracked(|v| {
                        v.insert(name, value);
                    });
                }
            }),
        ];
        let mut delegated = self.delegated.borrow_mut();
        for (name, handle) in handlers {
            let weak = Rc::downgrade(self);
            let cb = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
                if let Some(ctl) = weak.upgrade() {
                    handle(&ctl, &ev);
                }
            });
            let _ = root.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            delegated.push((name, cb));
        }
    }

    /// The copy in the widget's language.
    pub fn texts(&self) -> &'static Texts {
        i18n::texts(&self.attrs.with_untracked(Attrs::lang))
    }

    fn ready(&self) -> bool {
        self.attrs
            .with_untracked(|a| a.connection_id.is_some() && !a.session.is_empty())
    }

    /// A remembered approval (a reload during a decoupled wait) goes back into the
    /// machine before the first answer.
    fn restore_approval(&self, remembered: Option<(f64, f64)>) {
        if let Some((started, deadline)) = remembered {
            self.machine
                .update_untracked(|m| m.restore_approval(started, deadline, dom::now()));
        }
    }

    fn begin(self: &Rc<Self>) {
        if !self.ready() {
            return;
        }
        self.restore_approval(dom::approval(self.connection_id()));
        // The first status: the request mend.js started, if it is this one. The machine
        // sees its answer as any other (one path for every status).
        let first = self.first.replace(JsValue::UNDEFINED);
        self.request_with(
            Call::Status {
                id: self.connection_id(),
                wait: None,
            },
            first,
        );
        self.check_return();
    }

    /// Stops for good: aborts requests, stops the clock and the long poll.
    pub fn stop(&self) {
        self.alive.set(false);
        if let Some(root) = self.focus_root.borrow().as_ref() {
            for (name, cb) in self.delegated.borrow_mut().drain(..) {
                let _ = root.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            }
        }
        self.abort_all();
        if let Some(t) = self.ticker.borrow_mut().take() {
            t.clear();
        }
        if let Some(cb) = self.on_visibility.borrow_mut().take()
            && let Some(doc) = web_sys::window().and_then(|w| w.document())
        {
            let _ = doc.remove_event_listener_with_callback(
                "visibilitychange",
                cb.as_ref().unchecked_ref(),
            );
        }
    }

    fn abort_all(&self) {
        self.generation.set(self.generation.get() + 1);
        for (_, c) in self.inflight.borrow_mut().drain(..) {
            c.abort();
        }
        if let Some((_, c)) = self.watch.borrow_mut().take() {
            c.abort();
        }
    }

    /// An attribute changed (`None`: removed).
    pub fn set_attribute(self: &Rc<Self>, name: &str, value: Option<String>) {
        if !self.alive.get() {
            return;
        }
        let mut changed = None;
        self.attrs.update(|a| changed = a.set(name, value));
        match changed {
            Some(forget) => {
                self.abort_all();
                self.values.set(BTreeMap::new());
                self.field_errors.set(BTreeMap::new());
                if self.ready() {
                    // Read before the reset, which forgets the approval it knew.
                    let remembered = dom::approval(self.connection_id());
                    self.dispatch(Event::Reset { forget });
                    self.restore_approval(remembered);
                    self.check_return();
                }
            }
            None => self.sync_host(),
        }
    }

    /// `element.refresh()`: fetch the status again (unless an action is in flight).
    pub fn refresh(self: &Rc<Self>) {
        let idle = self
            .machine
            .with_untracked(|m| m.busy().is_none() && !matches!(m.phase, Phase::SessionExpired));
        if idle && self.ready() {
            self.run(Effect::Fetch);
        }
    }

    /// A button was pressed.
    pub fn act(self: &Rc<Self>, action: Action) {
        if action == Action::Submit {
            return self.submit();
        }
        self.dispatch(Event::Start(action));
    }

    /// The form was sent: check it here first, then send.
    pub fn submit(self: &Rc<Self>) {
        let Some(fields) = self
            .machine
            .with_untracked(|m| m.status().map(|s| s.fields.clone()))
        else {
            return;
        };
        if self.machine.with_untracked(|m| m.busy().is_some()) {
            return;
        }
        let problems = self
            .values
            .with_untracked(|v| form::check(&fields, v, dom::regex_matches));
        let invalid = !problems.is_empty();
        self.field_errors.set(problems);
        if invalid {
            self.machine.update(|m| m.notice = None);
            self.focus();
        } else {
            self.dispatch(Event::Start(Action::Submit));
        }
    }

    /// Feeds the machine and performs what it says.
    pub fn dispatch(self: &Rc<Self>, event: Event) {
        if !self.alive.get() {
            return;
        }
        let before = self
            .machine
            .with_untracked(|m| m.status().map(|s| s.state.clone()));
        // Notify the view only when something changed: a clock tick that changes
        // nothing must not rebuild the panel (and move focus out of it).
        let mut machine = self.machine.get_untracked();
        let effects = machine.step(event, dom::now());
        let approval = machine.approval();
        if self.machine.with_untracked(|m| m.approval() != approval) {
            dom::set_approval(self.connection_id(), approval);
        }
        if self.machine.with_untracked(|m| *m != machine) {
            self.machine.set(machine);
        }
        let after = self
            .machine
            .with_untracked(|m| m.status().map(|s| s.state.clone()));
        if before != after && after.is_some() {
            // A new state: the old form's values and errors no longer apply.
            self.values.set(BTreeMap::new());
            self.field_errors.set(BTreeMap::new());
        }
        self.sync_host();
        for e in effects {
            self.run(e);
        }
        self.reconcile_watch();
        self.reconcile_clock();
    }

    fn sync_host(&self) {
        let (state, phase) = self
            .machine
            .with_untracked(|m| (m.data_state(), m.phase_name()));
        let _ = self.host.set_attribute("data-state", &state);
        let _ = self.host.set_attribute("data-phase", phase);
    }

    fn endpoint(&self) -> Endpoint {
        self.attrs.with_untracked(|a| Endpoint {
            base: a.api_base.clone(),
            session: a.session.clone(),
        })
    }

    fn connection_id(&self) -> i64 {
        self.attrs
            .with_untracked(|a| a.connection_id.unwrap_or_default())
    }

    fn run(self: &Rc<Self>, effect: Effect) {
        let id = self.connection_id();
        match effect {
            Effect::Fetch => self.request(Call::Status { id, wait: None }),
            Effect::Call(action) => {
                let call = match action {
                    Action::Submit => Call::Fields {
                        id,
                        body: self.machine.with_untracked(|m| {
                            let fields = m.status().map(|s| s.fields.as_slice()).unwrap_or(&[]);
                            self.values.with_untracked(|v| form::submission(fields, v))
                        }),
                    },
                    Action::Resume => Call::Resume { id },
                    Action::Sync => Call::Sync { id },
                    Action::Reconnect | Action::Webauth => Call::RedirectUrl {
                        id,
                        kind: if action == Action::Webauth {
                            RedirectKind::Webauth
                        } else {
                            RedirectKind::Reconnect
                        },
                        body: self.attrs.with_untracked(|a| RedirectRequest {
                            redirect_uri: a
                                .redirect_uri
                                .clone()
                                .unwrap_or_else(dom::page_without_query),
                            lang: Some(i18n::texts(&a.lang()).lang.to_owned()),
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
                let kind = url.kind.as_str();
                // Before the event: a host that cancels it navigates by itself, and the
                // return must still come back to this element.
                dom::set_return_hint(self.connection_id(), &url.url);
                let go = self.emit(
                    "mend:redirect",
                    &[("kind", kind.into()), ("url", url.url.as_str().into())],
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

    fn emit(&self, name: &str, extra: &[(&str, JsValue)], cancelable: bool) -> bool {
        let mut pairs = vec![(
            "connectionId",
            JsValue::from_f64(self.connection_id() as f64),
        )];
        pairs.extend(extra.iter().cloned());
        dom::emit(&self.host, name, &dom::object(&pairs), cancelable)
    }

    /// Moves focus to the first invalid field, else the panel's heading, once the view
    /// has updated, and only if focus is already in the widget.
    fn focus(self: &Rc<Self>) {
        // Decided now: the re-render about to happen removes the focused button, after
        // which focus is nowhere and would look "outside".
        if !dom::focus_within(&self.host) {
            return;
        }
        let weak = Rc::downgrade(self);
        request_animation_frame(move || {
            let Some(ctl) = weak.upgrade() else { return };
            if !ctl.alive.get() {
                return;
            }
            let root = ctl.focus_root.borrow().clone();
            let target = root.and_then(|r| {
                r.query_selector("[aria-invalid=true]")
                    .ok()
                    .flatten()
                    .or_else(|| r.query_selector(".mend__title").ok().flatten())
            });
            if let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = el.focus();
            }
        });
    }

    fn request(self: &Rc<Self>, call: Call) {
        self.request_with(call, JsValue::UNDEFINED);
    }

    fn request_with(self: &Rc<Self>, call: Call, started: JsValue) {
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
                    Err(e) => Event::Failed(e),
                });
            }
        });
    }

    /// Keeps exactly one long poll running while the machine wants to watch and the
    /// page is visible.
    fn reconcile_watch(self: &Rc<Self>) {
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
        let reply = self
            .client
            .call(&self.endpoint(), call, Some(ctrl.signal()));
        *self.watch.borrow_mut() = Some((since.clone(), ctrl.clone()));
        let generation = self.generation.get();
        let started = dom::now();
        let this = Rc::clone(self);
        leptos::task::spawn_local(async move {
            let result = reply.await;
            if !this.alive.get() || this.generation.get() != generation || ctrl.signal().aborted() {
                return;
            }
            // A proxy that answers at once with nothing new must not make us spin.
            let unchanged = matches!(&result, Ok(Answer::Status(s))
                if mend_model::ConnectionState::data_state(s.state.as_ref()) == since);
            if unchanged && dom::now() - started < 1000.0 {
                sleep(2000).await;
            }
            if !this.alive.get() || this.generation.get() != generation || ctrl.signal().aborted() {
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

    fn reconcile_clock(self: &Rc<Self>) {
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

    /// The page's return from the bank or the webview: the first widget to start checks
    /// it with the proxy (the `state` is single use), and the answer goes to the widget
    /// of the connection it was for.
    fn check_return(self: &Rc<Self>) {
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
                let Some(params) = dom::callback_params() else {
                    RETURN.with(|r| *r.borrow_mut() = ReturnSlot::Done(None));
                    return;
                };
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

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
