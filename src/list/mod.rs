//! `<mend-connections>`: the status banner for the whole app. One request
//! (`GET /api/v1/connections`) reads every connection of the session user; each one
//! that needs the user becomes a `<mend-connection>` entry in the list's shadow root,
//! repairable in place by the very same element (its panels, state machine, events
//! and hooks: nothing about a connection's state is implemented here), handed the
//! status already read so that it asks nothing more ([`crate::client::shared::seed`]);
//! the states Powens retries by itself are compact entries (one calm line); fine
//! connections get nothing; the list hides itself when nothing is left to show.
//! [`model`] decides what is shown; this module only keeps the DOM in step with it.
//!
//! The list is plain DOM built by hand rather than a Leptos view: it is a heading, a
//! summary and a `<ul>` of elements that live on their own, and a keyed Leptos list
//! would cost the element's wasm more than these few calls.
//!
//! Screen readers: the list is a region named by its heading; its one live region
//! says the summary once when the list is read and again when the count changes,
//! while each entry's own live region is silent (`Ctl::quiet`), so five entries
//! starting at once are not five announcements. A change after the user's own action
//! in an entry moves focus to that entry's new heading, which is read then.

pub mod model;

use crate::attrs::Attrs;
use crate::client::{Answer, Api, Call, Endpoint, shared};
use crate::dom;
use crate::error::{ClientError, Severity};
use crate::i18n::{self, Texts};
use mend_model::ConnectionState;
use model::{Model, Show};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The list's nodes (filled in by [`List::render`]). Without its bullets a `<ul>` is
/// no longer a list to some screen readers: hence `role="list"`.
const SKELETON: &str = concat!(
    r#"<h2 class="mend-list__title" id="mend-list-title" part="title" tabindex="-1"></h2>"#,
    r#"<p class="mend-list__summary" part="summary"></p>"#,
    r#"<div class="mend__notice" data-tone="alert" part="notice" hidden>"#,
    r#"<p class="mend__notice-text"></p>"#,
    r#"<button type="button" class="mend__btn" part="button" data-action="retry"></button></div>"#,
    r#"<ul class="mend-list__items" part="items" role="list"></ul>"#,
);

/// The list's attributes that each entry gets as they are.
const PASSED: [&str; 5] = ["session", "api-base", "redirect-uri", "lang", "theme"];

/// Where the list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first answer (or without a session yet).
    Loading,
    /// Read.
    Read,
    /// The proxy or Powens could not be reached.
    Unavailable,
    /// The session was refused: the host must set a fresh one.
    Expired,
}

/// The list's nodes in its shadow root.
#[derive(Debug)]
struct Nodes {
    section: web_sys::HtmlElement,
    title: web_sys::HtmlElement,
    summary: web_sys::Element,
    live: web_sys::Element,
    problem: web_sys::HtmlElement,
    items: web_sys::Element,
}

/// The listener of the entries' `mend:state` (the closure type Leptos' own event
/// handlers have: one more type would cost the wasm its own glue).
type OnState = Closure<dyn FnMut(web_sys::Event)>;

/// One mounted `<mend-connections>`.
pub struct List {
    client: Rc<dyn Api>,
    host: web_sys::HtmlElement,
    attrs: RefCell<Attrs>,
    texts: Cell<&'static Texts>,
    lang_ready: Cell<bool>,
    model: RefCell<Model>,
    phase: Cell<Phase>,
    nodes: Nodes,
    /// The entries' `<li>`, by connection id.
    entries: RefCell<Vec<(i64, web_sys::Element)>>,
    alive: Cell<bool>,
    generation: Cell<u64>,
    inflight: RefCell<Option<web_sys::AbortController>>,
    on_state: RefCell<Option<OnState>>,
    on_retry: RefCell<Option<Closure<dyn Fn()>>>,
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("model", &self.model.borrow())
            .finish_non_exhaustive()
    }
}

fn create(tag: &str, class: &str) -> web_sys::Element {
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element(tag).ok())
        .expect("a document to build the list in");
    let _ = el.set_attribute("class", class);
    el
}

impl List {
    /// Mounts a list for `host` into `root` (its shadow root), calling the proxy
    /// through `client`; `default_base` is the `api-base` when the attribute is absent.
    pub fn mount(
        host: &web_sys::HtmlElement,
        root: &web_sys::Node,
        client: Rc<dyn Api>,
        default_base: &str,
    ) -> Rc<Self> {
        // A card of its own (`.mend`: background, border), so its heading reads in its
        // theme on any page. The skeleton as markup (static, no script nor style: fine under a strict
        // CSP): one call instead of a score of web-sys ones, each costing the wasm.
        let section: web_sys::HtmlElement = create("section", "mend mend-list").unchecked_into();
        section.set_inner_html(SKELETON);
        section.set_hidden(true);
        let _ = section.set_attribute("part", "list");
        let _ = section.set_attribute("aria-labelledby", "mend-list-title");
        let find = |sel: &str| -> web_sys::HtmlElement {
            section
                .query_selector(sel)
                .ok()
                .flatten()
                .expect("the skeleton's nodes")
                .unchecked_into()
        };
        let (title, summary, problem, items) = (
            find("h2"),
            find(".mend-list__summary").into(),
            find(".mend__notice"),
            find("ul").into(),
        );
        // Outside the section, so it is in the accessibility tree before it speaks.
        let live = create("p", "mend__live");
        let _ = live.set_attribute("role", "status");
        let _ = live.set_attribute("aria-live", "polite");
        let _ = live.set_attribute("aria-atomic", "true");
        let _ = root.append_child(&live);
        let _ = root.append_child(&section);

        let list = Rc::new(List {
            client,
            host: host.clone(),
            attrs: RefCell::new(Attrs::from_host(host, default_base)),
            texts: Cell::new(&i18n::EN),
            lang_ready: Cell::new(false),
            model: RefCell::new(Model::default()),
            phase: Cell::new(Phase::Loading),
            nodes: Nodes {
                section,
                title,
                summary,
                live,
                problem,
                items,
            },
            entries: RefCell::new(Vec::new()),
            alive: Cell::new(true),
            generation: Cell::new(0),
            inflight: RefCell::new(None),
            on_state: RefCell::new(None),
            on_retry: RefCell::new(None),
        });
        list.listen();
        list.follow_lang();
        list.load();
        list
    }

    /// Hears the entries' `mend:state` (they bubble through the list, and on to the
    /// host page) and builds the retry button.
    fn listen(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let on_state = OnState::new(move |ev: web_sys::Event| {
            let Some(list) = weak.upgrade() else { return };
            let detail = js_sys::Reflect::get(&ev, &"detail".into()).unwrap_or_default();
            let get = |k: &str| js_sys::Reflect::get(&detail, &k.into()).unwrap_or_default();
            let Some(id) = get("connectionId").as_f64() else {
                return;
            };
            let state = get("state").as_string().map(|s| ConnectionState::parse(&s));
            list.heard(id as i64, state);
        });
        let _ = self
            .nodes
            .items
            .add_event_listener_with_callback("mend:state", on_state.as_ref().unchecked_ref());
        *self.on_state.borrow_mut() = Some(on_state);

        let weak = Rc::downgrade(self);
        let on_retry = Closure::<dyn Fn()>::new(move || {
            if let Some(list) = weak.upgrade() {
                list.load();
            }
        });
        if let Some(button) = self.nodes.problem.last_element_child() {
            let _ =
                button.add_event_listener_with_callback("click", on_retry.as_ref().unchecked_ref());
        }
        *self.on_retry.borrow_mut() = Some(on_retry);
    }

    fn endpoint(&self) -> Endpoint {
        let a = self.attrs.borrow();
        Endpoint {
            base: a.api_base.clone(),
            session: a.session.clone(),
        }
    }

    /// Speaks the language the attributes and the page ask for (as an entry does).
    fn follow_lang(self: &Rc<Self>) {
        let lang = i18n::pick_for_page(self.attrs.borrow().lang.as_deref());
        if let Some(t) = i18n::loaded(lang) {
            self.texts.set(t);
            self.lang_ready.set(true);
            self.render();
            return;
        }
        let this = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let t = i18n::load(lang).await;
            let still = i18n::pick_for_page(this.attrs.borrow().lang.as_deref()) == lang;
            if this.alive.get() && still {
                this.texts.set(t);
                this.lang_ready.set(true);
                this.render();
            }
        });
    }

    /// Reads the list (again): the one request.
    fn load(self: &Rc<Self>) {
        if !self.alive.get() || self.attrs.borrow().session.is_empty() {
            return;
        }
        if let Some(c) = self.inflight.borrow_mut().take() {
            c.abort();
        }
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        let ctrl = web_sys::AbortController::new().ok();
        let reply = self.client.call(
            &self.endpoint(),
            Call::List,
            ctrl.as_ref().map(|c| c.signal()),
        );
        *self.inflight.borrow_mut() = ctrl;
        let this = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let result = reply.await;
            if this.alive.get() && this.generation.get() == generation {
                this.inflight.borrow_mut().take();
                this.answered(result);
            }
        });
    }

    fn answered(self: &Rc<Self>, result: Result<Answer, ClientError>) {
        let error = match result {
            Ok(Answer::List(list)) => {
                let to = self.endpoint();
                let diff = self.model.borrow_mut().read(list);
                self.entries.borrow_mut().retain(|(id, li)| {
                    let gone = diff.remove.contains(id);
                    if gone {
                        li.remove();
                    }
                    !gone
                });
                for (status, how) in diff.add {
                    let id = status.id;
                    shared::seed(&to, status);
                    self.add_entry(id, how);
                }
                self.phase.set(Phase::Read);
                None
            }
            Ok(_) => Some(ClientError::BadAnswer),
            Err(e) => Some(e),
        };
        if let Some(e) = error {
            let detail = |extra: &[(&str, JsValue)]| {
                let mut pairs = vec![("connectionId", JsValue::NULL)];
                pairs.extend(extra.iter().cloned());
                dom::object(&pairs)
            };
            match e.severity() {
                Severity::Silent => return,
                Severity::SessionExpired => {
                    self.phase.set(Phase::Expired);
                    dom::emit(&self.host, "mend:session-expired", &detail(&[]), false);
                }
                _ => {
                    self.phase.set(Phase::Unavailable);
                    let pairs = [("code", e.code().into()), ("message", e.message().into())];
                    dom::emit(&self.host, "mend:error", &detail(&pairs), false);
                }
            }
        }
        self.render();
    }

    /// A `<mend-connection>` entry for connection `id` (its status is seeded).
    fn add_entry(&self, id: i64, how: Show) {
        let li = create("li", "mend-list__item");
        let entry = create("mend-connection", "mend-list__entry");
        let _ = entry.set_attribute("connection-id", &id.to_string());
        let _ = entry.set_attribute("part", "entry");
        for name in PASSED {
            if let Some(v) = self.host.get_attribute(name) {
                let _ = entry.set_attribute(name, &v);
            }
        }
        if how == Show::Calm {
            let _ = entry.set_attribute("compact", "");
        }
        let _ = li.append_child(&entry);
        let _ = self.nodes.items.append_child(&li);
        self.entries.borrow_mut().push((id, li));
    }

    /// An entry's state changed: count again; one that now needs the user is shown in
    /// full.
    fn heard(&self, id: i64, state: Option<ConnectionState>) {
        let full = model::needs_user(state.as_ref());
        if !self.model.borrow_mut().heard(id, state) {
            return;
        }
        if full
            && let Some((_, li)) = self.entries.borrow().iter().find(|(i, _)| *i == id)
            && let Some(entry) = li.first_element_child()
        {
            let _ = entry.remove_attribute("compact");
        }
        self.render();
    }

    /// Puts the DOM in step with the model, the phase and the language.
    fn render(&self) {
        let t = self.texts.get();
        let phase = self.phase.get();
        let model = self.model.borrow();
        let _ = self.host.set_attribute(
            "data-state",
            match phase {
                Phase::Loading => "loading",
                Phase::Read if model.is_empty() => "empty",
                Phase::Read => "shown",
                Phase::Unavailable => "unavailable",
                Phase::Expired => "session-expired",
            },
        );
        if phase != Phase::Loading {
            let _ = self
                .host
                .set_attribute("data-count", &model.count().to_string());
        }
        let n = &self.nodes;
        let _ = n.section.set_attribute("lang", t.lang);
        n.title.set_text_content(Some(t.list_title));
        let summary = (!model.is_empty()).then(|| model::summary(t, model.count()));
        n.summary.set_text_content(summary.as_deref());
        let was_problem = !n.problem.hidden();
        let problem = phase == Phase::Unavailable;
        if let Some(text) = n.problem.first_element_child() {
            text.set_text_content(Some(t.unavailable_title));
        }
        if let Some(button) = n.problem.last_element_child() {
            button.set_text_content(Some(t.try_again));
        }
        n.problem.set_hidden(!problem);
        let shown =
            self.lang_ready.get() && (problem || (phase != Phase::Loading && !model.is_empty()));
        n.section.set_hidden(!shown);
        // Said once per change of what it says (a live region re-set to the same words
        // says nothing).
        let live = if !shown {
            None
        } else if problem {
            Some(t.unavailable_title.to_owned())
        } else {
            summary
        };
        if n.live.text_content() != live {
            n.live.set_text_content(live.as_deref());
        }
        // The retry button is gone under the keyboard's focus: the heading takes it.
        if was_problem && !problem && shown && dom::focus_within(&self.host) {
            let _ = n.title.focus();
        }
    }

    /// An observed attribute changed (`None`: removed).
    pub fn set_attribute(self: &Rc<Self>, name: &str, value: Option<String>) {
        if !self.alive.get() {
            return;
        }
        let changed = self.attrs.borrow_mut().set(name, value.clone());
        if PASSED.contains(&name) {
            for (_, li) in self.entries.borrow().iter() {
                if let Some(entry) = li.first_element_child() {
                    let _ = match &value {
                        Some(v) => entry.set_attribute(name, v),
                        None => entry.remove_attribute(name),
                    };
                }
            }
        }
        if name == "lang" {
            self.follow_lang();
        }
        // The entries follow a new session themselves; the list reads itself again
        // only if it had no answer to show.
        if changed.is_some() && self.phase.get() != Phase::Read {
            self.load();
        }
    }

    /// `element.refresh()`: reads the list again.
    pub fn refresh(self: &Rc<Self>) {
        self.load();
    }

    /// Stops for good and removes the view (the entries stop as they leave the page).
    pub fn unmount(&self) {
        self.alive.set(false);
        self.generation.set(self.generation.get() + 1);
        if let Some(c) = self.inflight.borrow_mut().take() {
            c.abort();
        }
        if let Some(cb) = self.on_state.borrow_mut().take() {
            let _ = self
                .nodes
                .items
                .remove_event_listener_with_callback("mend:state", cb.as_ref().unchecked_ref());
        }
        self.entries.borrow_mut().clear();
        self.nodes.section.remove();
        self.nodes.live.remove();
        // The retry closure goes last: its button has just left the page.
        self.on_retry.borrow_mut().take();
    }
}
