//! Mounting the widget into a custom element. `mend.js` defines `<mend-connection>`
//! and forwards its lifecycle to an [`ElementHandle`]; tests call [`mount`] directly
//! with a fake client.

use crate::app::Ctl;
use crate::client::{Api, HttpClient};
use crate::components::Root;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The element's attributes (CONTRACT §5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attrs {
    /// `connection-id` (required).
    pub connection_id: Option<i64>,
    /// `session` (required; may be replaced at any time).
    pub session: String,
    /// `api-base`; defaults to the origin `mend.js` came from.
    pub api_base: String,
    /// The `api-base` to use when the attribute is absent.
    pub default_base: String,
    /// `redirect-uri`; defaults to this page without query or fragment.
    pub redirect_uri: Option<String>,
    /// `lang`; defaults to `<html lang>`, then the browser's.
    pub lang: Option<String>,
    /// `compact`: banner only until opened.
    pub compact: bool,
}

/// The attributes `mend.js` observes.
pub const OBSERVED: [&str; 7] = [
    "connection-id",
    "session",
    "api-base",
    "redirect-uri",
    "lang",
    "theme",
    "compact",
];

impl Attrs {
    /// Reads the attributes of `host`.
    pub fn from_host(host: &web_sys::Element, default_base: &str) -> Self {
        let mut a = Attrs {
            api_base: default_base.to_owned(),
            default_base: default_base.to_owned(),
            ..Attrs::default()
        };
        for name in OBSERVED {
            a.set(name, host.get_attribute(name));
        }
        a
    }

    /// Applies one attribute. Returns `Some(forget)` when the widget must start over
    /// (`forget`: a different connection), `None` when the view just follows.
    pub fn set(&mut self, name: &str, raw: Option<String>) -> Option<bool> {
        if name == "compact" {
            // A boolean attribute: present (even empty) means on, except "false".
            self.compact = raw.as_deref().is_some_and(|v| v.trim() != "false");
            return None;
        }
        let value = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match name {
            "connection-id" => {
                let id = value.and_then(|v| v.parse().ok());
                let changed = id != self.connection_id;
                self.connection_id = id;
                changed.then_some(true)
            }
            "session" => {
                let s = value.unwrap_or_default();
                let changed = s != self.session;
                self.session = s;
                changed.then_some(false)
            }
            "api-base" => {
                let b = value.unwrap_or_else(|| self.default_base.clone());
                let changed = b != self.api_base;
                self.api_base = b;
                changed.then_some(false)
            }
            "redirect-uri" => {
                self.redirect_uri = value;
                None
            }
            "lang" => {
                self.lang = value;
                None
            }
            _ => None,
        }
    }

    /// The language to speak: `lang`, else the page's.
    pub fn lang(&self) -> String {
        self.lang.clone().unwrap_or_else(crate::dom::page_lang)
    }
}

/// A mounted widget.
#[derive(Debug)]
pub struct Widget {
    ctl: Rc<Ctl>,
    container: web_sys::HtmlElement,
    view: Option<Box<dyn std::any::Any>>,
}

/// Mounts a widget for `host` into `root` (its shadow root, usually), calling the
/// proxy through `client`. `default_base` is the `api-base` when the attribute is absent.
pub fn mount(
    host: &web_sys::HtmlElement,
    root: &web_sys::Node,
    client: Rc<dyn Api>,
    default_base: &str,
) -> Widget {
    mount_started(host, root, client, default_base, JsValue::UNDEFINED)
}

/// As [`mount`], with the first status request already under way (`first`: see
/// [`crate::client::Api::adopt`]; `mend.js` starts it while the wasm loads).
pub fn mount_started(
    host: &web_sys::HtmlElement,
    root: &web_sys::Node,
    client: Rc<dyn Api>,
    default_base: &str,
    first: JsValue,
) -> Widget {
    let attrs = Attrs::from_host(host, default_base);
    let ctl = Ctl::new(client, host.clone(), attrs);
    let container: web_sys::HtmlElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("div").ok())
        .expect("a document to create the widget's container in")
        .unchecked_into();
    let _ = container.set_attribute("class", "mend-root");
    let _ = root.append_child(&container);
    let for_view = Rc::clone(&ctl);
    let handle = leptos::mount::mount_to(container.clone(), move || {
        view! { <Root ctl=StoredValue::new_local(for_view)/> }
    });
    // The first paint at once (the effect that keeps it current runs a tick later), so
    // a host sees the loading panel as soon as the element is connected.
    if let Ok(Some(body)) = container.query_selector(".mend__body") {
        untrack(|| crate::components::paint(&ctl, &body));
    }
    ctl.start(container.clone().unchecked_into(), first);
    Widget {
        ctl,
        container,
        view: Some(Box::new(handle)),
    }
}

impl Widget {
    /// The controller (tests read its signals).
    pub fn ctl(&self) -> &Rc<Ctl> {
        &self.ctl
    }

    /// An observed attribute changed.
    pub fn set_attribute(&self, name: &str, value: Option<String>) {
        self.ctl.set_attribute(name, value);
    }

    /// `element.refresh()`.
    pub fn refresh(&self) {
        self.ctl.refresh();
    }

    /// Removes the view and stops every timer and request.
    pub fn unmount(&mut self) {
        self.ctl.stop();
        // Dropping the handle disposes of the reactive owner and unmounts the view.
        self.view.take();
        self.container.remove();
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        if self.view.is_some() {
            self.unmount();
        }
    }
}

/// What `mend.js` holds per element.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct ElementHandle {
    widget: Option<Widget>,
}

#[wasm_bindgen]
impl ElementHandle {
    /// A handle with nothing mounted.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ElementHandle {
        ElementHandle::default()
    }

    /// `connectedCallback`: mount into `root` (the shadow root). `default_base` is the
    /// origin `mend.js` was loaded from; `first`, the status request it already started
    /// (`{url, auth, response}`), or `undefined`.
    pub fn mount(
        &mut self,
        host: web_sys::HtmlElement,
        root: web_sys::Node,
        default_base: &str,
        first: JsValue,
    ) {
        if let Some(mut old) = self.widget.take() {
            old.unmount();
        }
        self.widget = Some(mount_started(
            &host,
            &root,
            Rc::new(HttpClient),
            default_base,
            first,
        ));
    }

    /// `attributeChangedCallback`.
    #[wasm_bindgen(js_name = setAttribute)]
    pub fn set_attribute(&self, name: &str, value: Option<String>) {
        if let Some(w) = &self.widget {
            w.set_attribute(name, value);
        }
    }

    /// `element.refresh()`.
    pub fn refresh(&self) {
        if let Some(w) = &self.widget {
            w.refresh();
        }
    }

    /// `disconnectedCallback`.
    pub fn unmount(&mut self) {
        if let Some(mut w) = self.widget.take() {
            w.unmount();
        }
    }
}

/// The attributes `mend.js` must observe (one place for the list).
#[wasm_bindgen(js_name = observedAttributes)]
pub fn observed_attributes() -> js_sys::Array {
    OBSERVED.iter().map(|s| JsValue::from_str(s)).collect()
}

/// Once per page: a readable panic message in the console.
#[wasm_bindgen(js_name = initMend)]
pub fn init_mend() {
    console_error_panic_hook::set_once();
}
