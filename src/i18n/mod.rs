//! The widget's copy in Powens' seven languages: `en`, `fr`, `de`, `es`, `it`,
//! `nl`, `pt`.
//!
//! English is built in ([`EN`], in `en.rs`); the others are JSON catalogues
//! (`assets/i18n/<lang>.json`) that the build ships under content-hashed names and
//! `mend.js` fetches on demand, so an English page downloads no other language.
//! Each catalogue has exactly the keys of [`Texts`] (a native test reads every file;
//! a missing or extra key fails it), and the widget stays hidden until the catalogue
//! of its language is in rather than flash another language.
//!
//! Address: formal where banks use it: *vous* (fr), *Sie* (de), *usted* (es), *Lei*
//! (it), *u* (nl), and for Portuguese the European usage of Portuguese banks' apps,
//! the third person (*o seu banco*, imperatives in the *você* form, never *tu*).
//! Dates and times go through the browser's `Intl` in the widget's language.
//!
//! Which language: the element's `lang`, then the page's `<html lang>`, then the
//! browser's `navigator.languages`, then English ([`pick`]); a region tag counts as
//! its language (`pt-BR` → `pt`), one the widget does not speak falls through to the
//! next source. Powens' own strings (the bank's message, field labels) are never in
//! here and always rendered as text.

mod en;
mod load;

pub use en::EN;
pub use load::{load, loaded, set_loader};

/// The languages the widget speaks (Powens' webview's), English first.
pub const LANGS: [&str; 7] = ["en", "fr", "de", "es", "it", "nl", "pt"];

macro_rules! texts {
    ($($key:ident),+ $(,)?) => {
        /// Every string the widget shows, in one language. A struct of `&'static str`
        /// rather than a lookup table: a string missing from [`EN`] is a compile error,
        /// and a catalogue read at run time fills every field or is refused.
        #[derive(Debug)]
        pub struct Texts {
            /// The language (one of [`LANGS`]), also sent to the webview.
            pub lang: &'static str,
            $(
                #[allow(missing_docs)]
                pub $key: &'static str,
            )+
        }

        /// The keys of a catalogue, in order.
        pub const KEYS: &[&str] = &[$(stringify!($key)),+];

        impl Texts {
            /// The text of `key` (one of [`KEYS`]).
            pub fn get(&self, key: &str) -> Option<&'static str> {
                match key {
                    $(stringify!($key) => Some(self.$key),)+
                    _ => None,
                }
            }

            /// A catalogue read from a JSON object, with every key a string; `None` if
            /// any is missing. Read once per language and page, so its strings are
            /// leaked into `&'static` like the built-in ones.
            pub fn from_js(lang: &'static str, v: &wasm_bindgen::JsValue) -> Option<Texts> {
                let mut t = Texts { lang, ..EN };
                for (i, k) in KEYS.iter().enumerate() {
                    let s = js_sys::Reflect::get(v, &(*k).into()).ok()?.as_string()?;
                    t.set(i, Box::leak(s.into_boxed_str()));
                }
                Some(t)
            }

            /// Sets the string of key number `i` (in [`KEYS`] order): one small jump
            /// table, so reading a catalogue is a loop rather than a routine per key.
            fn set(&mut self, i: usize, s: &'static str) {
                let mut n = 0;
                $(
                    if i == n {
                        self.$key = s;
                        return;
                    }
                    n += 1;
                )+
                let _ = n;
            }
        }
    };
}

texts! {
    loading_title,
    ok_title,
    last_update,
    refresh,
    sca_title,
    sca_body,
    confirm_access,
    sync_now,
    webauth_title,
    webauth_body,
    continue_at_bank,
    reconnect_other,
    info_title,
    info_body,
    send,
    sending,
    decoupled_title,
    decoupled_body,
    approved,
    time_left,
    starting,
    timed_out_title,
    timed_out_body,
    try_again,
    validating_title,
    validating_body,
    action_title,
    action_body,
    done_it,
    pw_expired_title,
    pw_expired_form,
    pw_expired_reconnect,
    wrongpass_title,
    wrongpass_form,
    wrongpass_reconnect,
    reconnect,
    renew_title,
    renew_body,
    renew_before,
    renew,
    rate_title,
    site_down_title,
    bug_title,
    transient_body,
    next_try,
    not_supported_title,
    unknown_title,
    unsupported_body,
    unavailable_title,
    unavailable_body,
    retry_in,
    retrying,
    expired_title,
    expired_body,
    not_found_title,
    not_found_body,
    resolved,
    returned_cancelled,
    returned_failed,
    returned_completed,
    dismiss,
    err_unavailable,
    err_rate_limited,
    err_credentials,
    err_fields,
    err_redirect,
    err_return,
    err_refused,
    err_sync_refused,
    err_in_flight,
    err_bank_refused,
    slow_bank,
    unanswered,
    bank_says,
    field_required,
    field_pattern,
    field_not_in_list,
    field_too_long,
    field_unknown,
    choose,
    optional,
    sources,
    src_ok,
    src_attention,
    src_progress,
    src_later,
    src_unsupported,
    open,
    close,
    seconds,
    list_title,
    list_none,
    list_one,
    list_many,
}

/// The first supported language among `candidates` (BCP 47 tags, most wanted first),
/// by primary subtag and case-insensitively (`pt-BR`, `PT` → `pt`); English if none.
pub fn pick<'a>(candidates: impl IntoIterator<Item = &'a str>) -> &'static str {
    candidates
        .into_iter()
        .find_map(|tag| {
            let primary = tag.trim().split(['-', '_']).next()?;
            LANGS.into_iter().find(|l| l.eq_ignore_ascii_case(primary))
        })
        .unwrap_or("en")
}

/// The language for an element whose `lang` attribute is `attr`, on this page.
pub fn pick_for_page(attr: Option<&str>) -> &'static str {
    let page = crate::dom::page_langs();
    pick(attr.into_iter().chain(page.iter().map(String::as_str)))
}

#[cfg(test)]
mod tests;
