//! Mounting the widget into a custom element. `mend.js` defines `<mend-connection>`
//! and forwards its lifecycle to an [`ElementHandle`]; tests call [`mount`] directly
//! with a fake client.

use crate::app::Ctl;
use crate::attrs::Attrs;
use crate::client::{Api, HttpClient};
use crate::components::Root;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

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
    // What `mount_to` would start, started first: the controller may send requests
    // before the view is built (below). Already running after the first mount.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let attrs = Attrs::from_host(host, default_base);
    let ctl = Ctl::new(client, host.clone(), attrs);
    let container: web_sys::HtmlElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("div").ok())
        .expect("a document to create the widget's container in")
        .unchecked_into();
    let _ = container.set_attribute("class", "mend-root");
    let _ = root.append_child(&container);
    // Started before the view is built: a first answer already in (see
    // `client::answered`) is the state the view is first built in; else the view is
    // built at once in its loading panel, which a host sees as soon as the element is
    // connected.
    ctl.start(container.clone().unchecked_into(), first);
    let for_view = StoredValue::new_local(Rc::clone(&ctl));
    let handle = leptos::mount::mount_to(container.clone(), move || view! { <Root ctl=for_view/> });
    Widget {
        ctl,
        container,
        view: Some(Box::new(handle)),
    }
}

impl Widget {
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

/// What `mend.js` holds per element: a widget, or for `<mend-connections>` a list
/// (one handle type for both, so the JS glue has one class).
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct ElementHandle {
    widget: Option<Widget>,
    list: Option<Rc<crate::list::List>>,
}

#[wasm_bindgen]
impl ElementHandle {
    /// A handle with nothing mounted.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ElementHandle {
        ElementHandle::default()
    }

    /// `connectedCallback`: mount into `root` (the shadow root) a widget, or a list if
    /// `host` is a `<mend-connections>`. `default_base` is the origin `mend.js` was
    /// loaded from; `first`, the status request it already started (`{url, auth,
    /// response}`), or `undefined`.
    pub fn mount(
        &mut self,
        host: web_sys::HtmlElement,
        root: web_sys::Node,
        default_base: &str,
        first: JsValue,
    ) {
        self.unmount();
        if host.local_name() == "mend-connections" {
            self.list = Some(crate::list::List::mount(
                &host,
                &root,
                http_client(),
                default_base,
            ));
            return;
        }
        self.widget = Some(mount_started(
            &host,
            &root,
            http_client(),
            default_base,
            first,
        ));
    }

    /// `attributeChangedCallback`.
    #[wasm_bindgen(js_name = setAttribute)]
    pub fn set_attribute(&self, name: &str, value: Option<String>) {
        if let Some(w) = &self.widget {
            w.set_attribute(name, value);
        } else if let Some(l) = &self.list {
            l.set_attribute(name, value);
        }
    }

    /// `element.refresh()`.
    pub fn refresh(&self) {
        if let Some(w) = &self.widget {
            w.refresh();
        } else if let Some(l) = &self.list {
            l.refresh();
        }
    }

    /// `disconnectedCallback`.
    pub fn unmount(&mut self) {
        if let Some(mut w) = self.widget.take() {
            w.unmount();
        }
        if let Some(l) = self.list.take() {
            l.unmount();
        }
    }
}

/// The page's one client: elements that share it share their long polls
/// ([`crate::client::shared`]).
pub(crate) fn http_client() -> Rc<dyn Api> {
    thread_local! {
        static HTTP: Rc<dyn Api> = Rc::new(HttpClient);
    }
    HTTP.with(Rc::clone)
}

/// Once per page, before the first element mounts: `loader(lang)` fetches the
/// catalogue of a language (see [`crate::i18n::set_loader`]).
#[wasm_bindgen(js_name = initMend)]
pub fn init_mend(loader: js_sys::Function) {
    crate::i18n::set_loader(loader);
    // A panic aborts the wasm (`panic = "abort"`): say where, without the formatting
    // machinery a full panic message would link in (kilobytes of wasm). The size build
    // (`panic=immediate-abort`, README "How the widget is built") traps before any hook;
    // this serves the stable builds (`trunk serve`, the browser tests).
    std::panic::set_hook(Box::new(|info| {
        let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
        web_sys::console::error_3(
            &"mend: internal error at".into(),
            &file.into(),
            &line.into(),
        );
    }));
}
