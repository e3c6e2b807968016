//! Shared helpers of the browser tests: a host element with a shadow root, the
//! widget mounted into it with a [`FakeClient`], and DOM queries.
#![allow(dead_code)]

use mend::client::Endpoint;
use mend::{FakeClient, Widget};
use mend_model::api::{ConnectionStatus, SourceStatus, actions_for};
use mend_model::{ConnectionState, ConnectorField, FieldType, FieldValue};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A status in `state` (`None`: fine), with the actions the proxy would offer
/// (Agent status on, fields present).
pub fn status(state: Option<&str>) -> ConnectionStatus {
    let state = state.map(ConnectionState::parse);
    ConnectionStatus {
        id: 42,
        actions: actions_for(state.as_ref(), true, true),
        state,
        message: None,
        fields: vec![],
        last_update: Some("2026-11-24T07:00:00Z".into()),
        next_try: None,
        expire: None,
        connector: Some("Banque Exemple".into()),
        sources: vec![],
        server_time: Some("2026-11-25T09:34:00Z".into()),
        access_expire: None,
        renew: false,
    }
}

/// A field.
pub fn field(name: &str, kind: &str) -> ConnectorField {
    ConnectorField {
        name: name.into(),
        label: format!("Label {name}"),
        kind: FieldType::parse(kind),
        required: true,
        regex: None,
        values: None,
        description: None,
        auth_mechanisms: None,
        connector_sources: None,
    }
}

/// A list value.
pub fn choice(label: &str, value: &str) -> FieldValue {
    FieldValue {
        label: label.into(),
        value: value.into(),
    }
}

/// A source.
pub fn source(name: &str, state: Option<&str>) -> SourceStatus {
    SourceStatus {
        name: name.into(),
        state: state.map(ConnectionState::parse),
        last_update: None,
        access_expire: None,
    }
}

/// A mounted widget and what the test needs to look at it.
pub struct Mounted {
    pub host: web_sys::HtmlElement,
    pub shadow: web_sys::ShadowRoot,
    pub widget: Option<Widget>,
    pub fake: Rc<FakeClient>,
    pub events: Rc<RefCell<Vec<(String, JsValue, bool)>>>,
    _listeners: Vec<Closure<dyn Fn(web_sys::Event)>>,
}

/// The document.
pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a widget for connection 42 with `attrs` on the host, after `script`ing
/// the fake; records every `mend:*` event (and prevents `mend:redirect`'s default
/// unless `let_redirect` says so).
pub fn mount_with(fake: Rc<FakeClient>, attrs: &[(&str, &str)]) -> Mounted {
    mount_as(42, fake, attrs, true)
}

/// The catalogues as `mend.js` would fetch them: `loader(lang)` resolves to the parsed
/// `assets/i18n/<lang>.json` (or `null`). Set once; idempotent.
pub fn use_catalogues() {
    fn file(lang: &str) -> Option<&'static str> {
        Some(match lang {
            "fr" => include_str!("../../assets/i18n/fr.json"),
            "de" => include_str!("../../assets/i18n/de.json"),
            "es" => include_str!("../../assets/i18n/es.json"),
            "it" => include_str!("../../assets/i18n/it.json"),
            "nl" => include_str!("../../assets/i18n/nl.json"),
            "pt" => include_str!("../../assets/i18n/pt.json"),
            _ => return None,
        })
    }
    let loader = Closure::<dyn Fn(JsValue) -> JsValue>::new(|lang: JsValue| {
        let value = lang
            .as_string()
            .and_then(|l| file(&l))
            .and_then(|text| js_sys::JSON::parse(text).ok())
            .unwrap_or(JsValue::NULL);
        js_sys::Promise::resolve(&value).into()
    });
    mend::i18n::set_loader(loader.into_js_value().unchecked_into());
}

/// Mounts a widget for connection `id`; `fresh` forgets any page return checked so
/// far and any connection remembered as having left for a redirect.
/// Forgets what earlier tests left on the page (tests share one tab): the page's
/// return, the redirects handed out, 42's approval.
pub fn fresh_page() {
    mend::app::Ctl::reset_page_return();
    if let Ok(Some(s)) = web_sys::window().unwrap().session_storage() {
        let hints: Vec<String> = (0..s.length().unwrap_or(0))
            .filter_map(|i| s.key(i).ok().flatten())
            .filter(|k| k.starts_with("mend:return"))
            .collect();
        for k in hints {
            let _ = s.remove_item(&k);
        }
        let _ = s.remove_item("mend:approval:42");
    }
}

/// A `tag` element in the page's body with session `s1`, English, then `attrs`, and
/// its open shadow root: what `mend.js` hands the wasm.
pub fn host_element(
    tag: &str,
    attrs: &[(&str, &str)],
) -> (web_sys::HtmlElement, web_sys::ShadowRoot) {
    let doc = document();
    let host: web_sys::HtmlElement = doc.create_element(tag).unwrap().unchecked_into();
    host.set_attribute("session", "s1").unwrap();
    host.set_attribute("lang", "en").unwrap();
    for (k, v) in attrs {
        host.set_attribute(k, v).unwrap();
    }
    doc.body().unwrap().append_child(&host).unwrap();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    (host, shadow)
}

pub fn mount_as(id: i64, fake: Rc<FakeClient>, attrs: &[(&str, &str)], fresh: bool) -> Mounted {
    use_catalogues();
    if fresh {
        fresh_page();
    }
    let id = id.to_string();
    let (host, shadow) = host_element(
        "mend-connection",
        &[&[("connection-id", id.as_str())], attrs].concat(),
    );
    let doc = document();
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut listeners = Vec::new();
    for name in [
        "mend:state",
        "mend:resolved",
        "mend:redirect",
        "mend:session-expired",
        "mend:error",
    ] {
        let events = events.clone();
        let cb = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let detail = ev
                .dyn_ref::<web_sys::CustomEvent>()
                .map(|c| c.detail())
                .unwrap_or(JsValue::NULL);
            if ev.type_() == "mend:redirect" {
                // Never leave the test page.
                ev.prevent_default();
            }
            let cancelable = ev.cancelable();
            events.borrow_mut().push((ev.type_(), detail, cancelable));
        });
        // On the document: proves the events bubble and cross the shadow boundary.
        doc.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())
            .unwrap();
        listeners.push(cb);
    }
    let root: &web_sys::Node = shadow.as_ref();
    let widget = mend::mount(&host, root, fake.clone(), "https://proxy.test");
    Mounted {
        host,
        shadow,
        widget: Some(widget),
        fake,
        events,
        _listeners: listeners,
    }
}

/// Mounts with one scripted first status.
pub fn mount_status(s: ConnectionStatus) -> Mounted {
    let fake = FakeClient::new();
    fake.status(s);
    mount_with(fake, &[])
}

/// Lets the reactive system and the fake's futures run.
pub async fn settle() {
    for _ in 0..10 {
        leptos::task::tick().await;
    }
}

impl Mounted {
    pub fn q(&self, sel: &str) -> Option<web_sys::Element> {
        self.shadow.query_selector(sel).unwrap()
    }

    pub fn all(&self, sel: &str) -> Vec<web_sys::Element> {
        let list = self.shadow.query_selector_all(sel).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into())
            .collect()
    }

    pub fn text(&self, sel: &str) -> String {
        self.q(sel)
            .unwrap_or_else(|| panic!("no {sel}"))
            .text_content()
            .unwrap_or_default()
    }

    pub fn title(&self) -> String {
        self.text(".mend__title")
    }

    pub fn data_state(&self) -> String {
        self.host.get_attribute("data-state").unwrap_or_default()
    }

    pub fn actions(&self) -> Vec<String> {
        self.all("[data-action]")
            .iter()
            .filter_map(|e| e.get_attribute("data-action"))
            .collect()
    }

    pub fn click(&self, sel: &str) {
        let el: web_sys::HtmlElement = self
            .q(sel)
            .unwrap_or_else(|| panic!("no {sel}"))
            .unchecked_into();
        el.click();
    }

    pub fn type_into(&self, sel: &str, value: &str) {
        let el = self.q(sel).unwrap_or_else(|| panic!("no {sel}"));
        if let Some(i) = el.dyn_ref::<web_sys::HtmlInputElement>() {
            i.set_value(value);
        } else if let Some(s) = el.dyn_ref::<web_sys::HtmlSelectElement>() {
            s.set_value(value);
        }
        let ev = web_sys::Event::new_with_event_init_dict("input", &{
            let i = web_sys::EventInit::new();
            i.set_bubbles(true);
            i
        })
        .unwrap();
        el.dispatch_event(&ev).unwrap();
        let ev = web_sys::Event::new("change").unwrap();
        el.dispatch_event(&ev).unwrap();
    }

    pub fn event_names(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .map(|(n, _, _)| n.clone())
            .collect()
    }

    pub fn detail(&self, name: &str) -> JsValue {
        self.events
            .borrow()
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, d, _)| d.clone())
            .unwrap_or_else(|| panic!("no {name} event"))
    }

    pub fn cancelable(&self, name: &str) -> bool {
        self.events.borrow().iter().any(|(n, _, c)| n == name && *c)
    }

    pub fn sessions(&self) -> Vec<String> {
        self.fake
            .calls()
            .into_iter()
            .map(|r| r.to.session)
            .collect()
    }

    pub fn endpoint(&self) -> Endpoint {
        self.fake.calls().last().unwrap().to.clone()
    }

    pub fn unmount(&mut self) {
        if let Some(mut w) = self.widget.take() {
            w.unmount();
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let doc = document();
        for (cb, name) in self._listeners.iter().zip([
            "mend:state",
            "mend:resolved",
            "mend:redirect",
            "mend:session-expired",
            "mend:error",
        ]) {
            let _ = doc.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        }
        self.unmount();
        self.host.remove();
    }
}

/// A JS property as a string (`null`/absent → "null").
pub fn prop(v: &JsValue, key: &str) -> String {
    let p = js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap();
    if p.is_null() || p.is_undefined() {
        "null".into()
    } else if let Some(s) = p.as_string() {
        s
    } else if let Some(n) = p.as_f64() {
        n.to_string()
    } else if let Some(b) = p.as_bool() {
        b.to_string()
    } else {
        format!("{p:?}")
    }
}

/// Waits `ms` of real time (for countdowns and backoff).
pub async fn wait_ms(ms: i32) {
    mend::app::sleep(ms).await;
    settle().await;
}

/// An error answer of the proxy.
pub fn api_error(code: &str) -> mend::error::ClientError {
    let c = mend_model::api::ErrorCode::parse(code);
    mend::client::error_for(
        c.http_status(),
        &format!(
            r#"{{"error":{{"code":"{code}","message":"Proxy says {code}","request_id":"req-1"}}}}"#
        ),
        None,
    )
}
