//! Small browser helpers: the clock, `RegExp`, host events, dates, languages, the
//! address bar, focus and what this tab remembers (`sessionStorage`).

use js_sys::{Object, Reflect};
use mend_model::api::CallbackRequest;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `RegExp`, bound with a catching constructor: Powens' patterns are PCRE and may
    /// not compile in JavaScript; such a pattern is left to the proxy to check.
    #[wasm_bindgen(js_name = RegExp)]
    type SafeRegExp;
    #[wasm_bindgen(constructor, catch, js_class = "RegExp")]
    fn new(pattern: &str, flags: &str) -> Result<SafeRegExp, JsValue>;
    #[wasm_bindgen(method)]
    fn test(this: &SafeRegExp, s: &str) -> bool;
}

/// Milliseconds since the epoch.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// Whether `value` matches `pattern` with the browser's own `RegExp`; `None` when the
/// pattern does not compile.
pub fn regex_matches(pattern: &str, value: &str) -> Option<bool> {
    // Only with the `u` flag: the proxy gives patterns exactly that meaning, and
    // without it `\p{L}` or `a{,2}` would silently mean other things.
    SafeRegExp::new(pattern, "u").ok().map(|re| re.test(value))
}

/// A plain object from pairs, for an event's `detail`.
pub fn object(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// Dispatches a `CustomEvent` that bubbles and is `composed` (crosses the shadow
/// boundary). Returns false when the host called `preventDefault()`.
pub fn emit(target: &web_sys::EventTarget, name: &str, detail: &Object, cancelable: bool) -> bool {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(cancelable);
    init.set_detail(detail);
    match web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        Ok(ev) => target.dispatch_event(&ev).unwrap_or(true),
        Err(_) => true,
    }
}

/// A date of the proxy (RFC 3339) for people, in `lang`; the raw string if the
/// browser can't read it.
pub fn format_date(iso: &str, lang: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return iso.to_owned();
    }
    let opts = object(&[
        ("dateStyle", "medium".into()),
        ("timeStyle", "short".into()),
    ]);
    date.to_locale_string(lang, &opts).into()
}

/// The page's languages, most wanted first: `<html lang>`, then the browser's
/// (`navigator.languages`, else `navigator.language`).
pub fn page_langs() -> Vec<String> {
    let Some(win) = web_sys::window() else {
        return Vec::new();
    };
    let mut langs: Vec<String> = win
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .filter(|l| !l.trim().is_empty())
        .into_iter()
        .collect();
    let nav = win.navigator();
    langs.extend(nav.languages().iter().filter_map(|l| l.as_string()));
    langs.extend(nav.language());
    langs
}

/// This page without query or fragment: the default `redirect-uri`.
pub fn page_without_query() -> String {
    web_sys::window()
        .map(|w| w.location())
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default()
}

/// Whether the widget may send the page to `url`: `https:`, or `http:` to localhost
/// or to the proxy's own origin (`api_base`). Never `javascript:`, `data:` and such.
pub fn redirect_allowed(url: &str, api_base: &str) -> bool {
    let Ok(u) = web_sys::Url::new(url) else {
        return false;
    };
    match u.protocol().as_str() {
        "https:" => true,
        "http:" => {
            matches!(u.hostname().as_str(), "localhost" | "127.0.0.1" | "[::1]")
                || web_sys::Url::new(api_base).is_ok_and(|b| b.origin() == u.origin())
        }
        _ => false,
    }
}

/// Sends the top window to `url`; the widget's own window if the top one is
/// cross-origin and refuses.
pub fn navigate_top(url: &str) {
    let Some(win) = web_sys::window() else { return };
    let top_ok = win
        .top()
        .ok()
        .flatten()
        .map(|top| top.location().set_href(url).is_ok())
        .unwrap_or(false);
    if !top_ok {
        let _ = win.location().set_href(url);
    }
}

/// The query parameters of a return from the webview or the bank, if this page may be
/// one (it has a `state` or an `error` parameter).
pub fn callback_params() -> Option<CallbackRequest> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let state = params.get("state");
    let error = params.get("error");
    if state.is_none() && error.is_none() {
        return None;
    }
    Some(CallbackRequest {
        state,
        error,
        error_description: params.get("error_description"),
        id_connection: params.get("id_connection"),
        connection_id: params.get("connection_id"),
    })
}

/// Whether `state` has the form of the proxy's signed redirect states
/// (`v1.<base64url payload>.<base64url signature>`, see the proxy's
/// `redirect_state.rs`): a page's query is a Mend return only if its `state` is one,
/// or if this tab handed that `state` out.
pub fn looks_signed(state: &str) -> bool {
    let b64 = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    let mut parts = state.split('.');
    state.len() <= 512
        && parts.next() == Some("v1")
        && b64(parts.next())
        && b64(parts.next())
        && parts.next().is_none()
}

/// Removes the return's parameters from the address bar (so a reload doesn't replay
/// them), keeping the host's own. Only called for a return of ours (see
/// [`looks_signed`]), so a `code` here came with our `state`.
pub fn strip_callback_params() {
    let Some(win) = web_sys::window() else { return };
    let Ok(href) = win.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    let params = url.search_params();
    for p in [
        "state",
        "error",
        "error_description",
        "id_connection",
        "connection_id",
        "code",
    ] {
        params.delete(p);
    }
    if let Ok(history) = win.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}

/// Whether the page is in the background (watching pauses then).
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Whether `host` is an entry of a `<mend-connections>` (in its shadow root).
pub fn in_list(host: &web_sys::HtmlElement) -> bool {
    host.get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .is_ok_and(|r| r.host().local_name() == "mend-connections")
}

/// Whether keyboard focus is inside `host` (or on it): only then does the widget move
/// focus, so a background change never steals it from the host page.
pub fn focus_within(host: &web_sys::HtmlElement) -> bool {
    let Some(active) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
    else {
        return false;
    };
    let host_el: &web_sys::Element = host.unchecked_ref();
    active == *host_el || host.contains(Some(&active))
}

/// Where the widget remembers, across the trip to the bank, which connection left
/// (`sessionStorage`, this tab only): `mend:return:<state>` = the connection id, for
/// the `state` of every redirect URL handed out, saved before `mend:redirect` is
/// dispatched, whoever then navigates (the widget, or a host that cancelled the event).
/// On the way back the returned `state` names the element that left, even among
/// several, and that one checks it with its own session, the one the proxy's signed
/// `state` is bound to.
const RETURN_HINT: &str = "mend:return:";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Where the `state` of the newest redirect handed out is kept (see
/// [`newest_return_hint`]).
const NEWEST_HINT: &str = "mend:return";

/// Remembers that connection `id` was handed the redirect `url` (by its `state`).
pub fn set_return_hint(id: i64, url: &str) {
    if let (Some(state), Some(s)) = (
        web_sys::Url::new(url)
            .ok()
            .and_then(|u| u.search_params().get("state")),
        session_storage(),
    ) {
        let _ = s.set_item(&format!("{RETURN_HINT}{state}"), &id.to_string());
        let _ = s.set_item(NEWEST_HINT, &state);
    }
}

/// The connection this tab handed the redirect `state` to, if any.
pub fn return_hint(state: &str) -> Option<i64> {
    session_storage()?
        .get_item(&format!("{RETURN_HINT}{state}"))
        .ok()??
        .parse()
        .ok()
}

/// The `state` of the newest redirect this tab handed out, if it has not come back
/// yet: for a return without its `state` (a bank's error page that drops it,
/// `state=null`).
pub fn newest_return_hint() -> Option<String> {
    let state = session_storage()?.get_item(NEWEST_HINT).ok()??;
    return_hint(&state).map(|_| state)
}

/// Forgets it (the return was claimed).
pub fn clear_return_hint(state: &str) {
    if let Some(s) = session_storage() {
        let _ = s.remove_item(&format!("{RETURN_HINT}{state}"));
    }
}

/// The decoupled approval under way for connection `id`, as `(started, deadline)`,
/// remembered in this tab so a reload keeps its countdown.
pub fn approval(id: i64) -> Option<(f64, f64)> {
    let v = session_storage()?
        .get_item(&format!("mend:approval:{id}"))
        .ok()??;
    let (a, b) = v.split_once(',')?;
    Some((a.parse::<i64>().ok()? as f64, b.parse::<i64>().ok()? as f64))
}

/// Remembers (or, with `None`, forgets) the approval under way for connection `id`.
pub fn set_approval(id: i64, approval: Option<(f64, f64)>) {
    let Some(s) = session_storage() else { return };
    let key = format!("mend:approval:{id}");
    let _ = match approval {
        Some((started, deadline)) => {
            s.set_item(&key, &format!("{},{}", started as i64, deadline as i64))
        }
        None => s.remove_item(&key),
    };
}

#[cfg(test)]
mod tests {
    use super::looks_signed;

    #[test]
    fn only_the_proxy_s_signed_states_look_like_a_return() {
        assert!(looks_signed("v1.eyJ1IjoxLCJjIjo0Mn0.c2ln-_9"));
        for other in [
            "",
            "xyz",
            "v1.abc",
            "v2.abc.def",
            "v1..def",
            "v1.abc.",
            "v1.abc.def.ghi",
            "v1.a+b.def",
            "v1.abc.de=",
        ] {
            assert!(!looks_signed(other), "{other:?}");
        }
        assert!(!looks_signed(&format!("v1.{}.sig", "a".repeat(600))));
    }
}
