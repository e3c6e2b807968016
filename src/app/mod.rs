//! The controller of one widget (the `use_connection`-style owner of everything that
//! is not drawing): it owns the [`Machine`], performs its effects and exposes signals
//! to the components, which only read them and call back.
//!
//! - here: the controller's signals and lifecycle, the user's actions, `dispatch`
//!   (the one way into the machine);
//! - [`effects`]: what the machine asks for (requests, host events, focus);
//! - [`requests`]: one-shot requests, the long poll, the clock;
//! - [`page_return`]: the return from the bank or the webview, once per page.
//!
//! Cancellation: every request carries an `AbortController`; a generation counter
//! drops answers that belong to an older session or connection id; after
//! [`Ctl::stop`] nothing is requested and nothing is dispatched.

mod effects;
mod page_return;
mod requests;

pub use requests::sleep;

use crate::attrs::Attrs;
use crate::client::{Api, Call};
use crate::dom;
use crate::form;
use crate::i18n::{self, Texts};
use crate::state::{Effect, Event, Machine, Phase};
use leptos::prelude::*;
use mend_model::api::{Action, FieldProblem};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
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
    /// The copy in the widget's language.
    pub texts: RwSignal<&'static Texts>,
    /// False until the catalogue of the widget's language is in: the view stays
    /// hidden until then rather than flash another language.
    pub lang_ready: RwSignal<bool>,
    /// The form's values as typed: not a signal, since nothing on screen depends on them.
    values: RefCell<BTreeMap<String, String>>,
    /// Problems found before sending (the proxy's come in the machine's notice).
    pub field_errors: RwSignal<BTreeMap<String, FieldProblem>>,
    /// Compact mode: whether the panel is open.
    pub open: RwSignal<bool>,
    /// An entry of `<mend-connections>`: its live region is silent (the list says
    /// what it holds, once, not each entry its state; a change after the user's own
    /// action moves focus to the new panel's heading, which is read then).
    pub quiet: bool,
    alive: Cell<bool>,
    generation: Cell<u64>,
    next_request: Cell<u64>,
    inflight: RefCell<Vec<(u64, web_sys::AbortController)>>,
    watch: RefCell<Option<(String, web_sys::AbortController)>>,
    ticker: RefCell<Option<IntervalHandle>>,
    on_visibility: RefCell<Option<Closure<dyn Fn()>>>,
    /// The widget's root in the shadow root: where focus is moved.
    view_root: RefCell<Option<web_sys::Element>>,
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

impl Ctl {
    /// A controller for `host`, calling the proxy through `client`.
    pub fn new(client: Rc<dyn Api>, host: web_sys::HtmlElement, attrs: Attrs) -> Rc<Self> {
        let quiet = dom::in_list(&host);
        let ctl = Rc::new(Self {
            client,
            host,
            attrs: RwSignal::new(attrs),
            machine: RwSignal::new(Machine::new()),
            now: RwSignal::new(dom::now()),
            texts: RwSignal::new(&i18n::EN),
            lang_ready: RwSignal::new(false),
            values: RefCell::new(BTreeMap::new()),
            field_errors: RwSignal::new(BTreeMap::new()),
            open: RwSignal::new(false),
            quiet,
            alive: Cell::new(true),
            generation: Cell::new(0),
            next_request: Cell::new(0),
            inflight: RefCell::new(Vec::new()),
            watch: RefCell::new(None),
            ticker: RefCell::new(None),
            on_visibility: RefCell::new(None),
            view_root: RefCell::new(None),
            first: RefCell::new(JsValue::UNDEFINED),
        });
        page_return::register(&ctl);
        ctl.follow_lang();
        ctl
    }

    /// Starts: first fetch, the page's return if any, visibility tracking. `view_root`:
    /// the widget's root element; `first`: the status request `mend.js` already
    /// started (`undefined` if none).
    pub fn start(self: &Rc<Self>, view_root: web_sys::Element, first: JsValue) {
        *self.first.borrow_mut() = first;
        *self.view_root.borrow_mut() = Some(view_root);
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

    /// Speaks the language the attributes and the page ask for (see [`i18n::pick`]):
    /// at once if its catalogue is in, else once it has been fetched.
    fn follow_lang(self: &Rc<Self>) {
        let lang = self
            .attrs
            .with_untracked(|a| i18n::pick_for_page(a.lang.as_deref()));
        if let Some(t) = i18n::loaded(lang) {
            self.texts.set(t);
            self.lang_ready.set(true);
            return;
        }
        let this = Rc::clone(self);
        // Not Leptos' `spawn_local`: this may run before the first view is mounted,
        // when Leptos' executor is not set up yet.
        wasm_bindgen_futures::spawn_local(async move {
            let t = i18n::load(lang).await;
            let still = this
                .attrs
                .with_untracked(|a| i18n::pick_for_page(a.lang.as_deref()) == lang);
            if this.alive.get() && still {
                this.texts.set(t);
                this.lang_ready.set(true);
            }
        });
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
        let call = Call::Status {
            id: self.connection_id(),
            wait: None,
        };
        // Its answer read already, or the status `<mend-connections>` read for this
        // entry in its one request: taken at once, before the view is built.
        let ready = crate::client::answered(&first, &self.endpoint(), &call)
            .or_else(|| crate::client::shared::take_seed(&self.endpoint(), self.connection_id()));
        match ready {
            Some(status) => self.dispatch(Event::Answer(status)),
            None => self.request_with(call, first),
        }
        self.check_return();
    }

    /// Stops for good: aborts requests, stops the clock and the long poll.
    pub fn stop(&self) {
        self.alive.set(false);
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
        if name == "lang" {
            self.follow_lang();
        }
        match changed {
            Some(forget) => {
                self.abort_all();
                self.values.borrow_mut().clear();
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

    /// The user typed or picked `value` in the field `name`.
    pub fn typed(&self, name: String, value: String) {
        self.values.borrow_mut().insert(name, value);
    }

    /// The values typed so far (to fill a form built anew).
    pub fn typed_values(&self) -> BTreeMap<String, String> {
        self.values.borrow().clone()
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
        let problems = form::check(&fields, &self.values.borrow(), dom::regex_matches);
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
        // nothing must not even recompute the view's memos.
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
            self.values.borrow_mut().clear();
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

    fn connection_id(&self) -> i64 {
        self.attrs
            .with_untracked(|a| a.connection_id.unwrap_or_default())
    }
}
