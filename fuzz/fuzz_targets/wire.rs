//! The widget's `wire.rs` on its native side: the bodies it writes by hand (without
//! serde_json, to keep the wasm small) for `…/fields`, the redirect requests and
//! `/callback`, and the string readers of actions. Reading answers goes through the
//! browser's `JSON.parse` and is tested in a browser (tests/wire.rs).
//!
//! Oracles: nothing panics; every body is JSON that the proxy's serde types read back
//! as exactly what was written, for any strings (quotes, controls, non-BMP, lone
//! surrogates cannot occur in Rust strings).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The widget's module itself, not a copy: only it, without the rest of the widget.
#[path = "../../src/wire.rs"]
#[allow(dead_code)]
mod wire;
use mend_model::api::{Action, CallbackRequest, FieldsSubmission, RedirectRequest};
use std::collections::BTreeMap;

fuzz_target!(|input: (
    String,
    Vec<(String, String)>,
    Option<String>,
    [Option<String>; 5]
)| {
    let (s, pairs, lang, cb) = input;
    let read: String = serde_json::from_str(&wire::string(&s)).expect("a JSON string");
    assert_eq!(read, s);

    let values: BTreeMap<String, String> = pairs.into_iter().collect();
    let b = FieldsSubmission { values };
    let back: FieldsSubmission =
        serde_json::from_str(&wire::fields_body(&b)).expect("a fields body the proxy reads");
    assert_eq!(back, b);

    let r = RedirectRequest {
        redirect_uri: s.clone(),
        lang,
    };
    let back: RedirectRequest =
        serde_json::from_str(&wire::redirect_body(&r)).expect("a redirect body the proxy reads");
    assert_eq!(back, r);

    let [
        state,
        error,
        error_description,
        id_connection,
        connection_id,
    ] = cb;
    let c = CallbackRequest {
        state,
        error,
        error_description,
        id_connection,
        connection_id,
    };
    let back: CallbackRequest =
        serde_json::from_str(&wire::callback_body(&c)).expect("a callback body the proxy reads");
    assert_eq!(back, c);

    if let Some(a) = wire::action(&s) {
        assert_eq!(
            Some(a),
            Action::from_wire(a.as_str()),
            "an action's wire name round-trips"
        );
    }
});
