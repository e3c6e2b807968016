//! The catalogues of this page, fetched once per language.
//!
//! `mend.js` hands the wasm its loader (`initMend(loader)`): `loader(lang)` answers a
//! promise of the parsed catalogue (fetched from its content-hashed URL, shared by every
//! element that asks, and started when an element is connected, while the wasm loads).

use super::{EN, Texts};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static LOADED: RefCell<Vec<&'static Texts>> = RefCell::new(vec![&EN]);
    static LOADER: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Sets how catalogues are fetched: `loader(lang)` returns a promise of the
/// catalogue's JSON object (or of `null` when it can't be had).
pub fn set_loader(loader: js_sys::Function) {
    LOADER.with(|l| *l.borrow_mut() = Some(loader));
}

/// The catalogue of `lang`, if it is in.
pub fn loaded(lang: &str) -> Option<&'static Texts> {
    LOADED.with(|l| l.borrow().iter().copied().find(|t| t.lang == lang))
}

/// The catalogue of `lang` (one of [`super::LANGS`]), fetched if need be; English if
/// it can't be had (no loader, a failed fetch, an incomplete catalogue).
pub async fn load(lang: &'static str) -> &'static Texts {
    if let Some(t) = loaded(lang) {
        return t;
    }
    let promise = LOADER.with(|l| {
        l.borrow()
            .as_ref()
            .and_then(|f| f.call1(&JsValue::NULL, &lang.into()).ok())
    });
    let Some(promise) = promise.and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) else {
        return &EN;
    };
    let Ok(value) = wasm_bindgen_futures::JsFuture::from(promise).await else {
        return &EN;
    };
    // Another element may have read it meanwhile.
    if let Some(t) = loaded(lang) {
        return t;
    }
    match Texts::from_js(lang, &value) {
        Some(t) => {
            let t: &'static Texts = Box::leak(Box::new(t));
            LOADED.with(|l| l.borrow_mut().push(t));
            t
        }
        None => &EN,
    }
}
