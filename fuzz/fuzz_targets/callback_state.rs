//! The redirect callback: its JSON body as the proxy reads it, and the signed `state`
//! it carries back from Powens' pages (`StateSigner::check`).
//!
//! Oracles: nothing panics; a string the signer never issued is never accepted; an
//! issued state edited in any way (one byte changed, inserted, cut) is refused, and
//! the untouched one is accepted for its user only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend_model::api::{CallbackRequest, RedirectKind};
use mend_proxy::redirect_state::{Checked, StateError, StateSigner};
use mend_proxy::store::Store;
use secrecy::SecretString;
use std::sync::LazyLock;

/// The signer with the proxy's in-process store (what a single replica uses).
static SIGNER: LazyLock<StateSigner> = LazyLock::new(|| {
    let store = Store::local(mend_proxy::metrics::Metrics::default());
    StateSigner::new(&SecretString::from("fuzz-session-secret"), store)
});

/// One runtime for every input: the signer's checks are async (the store may be
/// Redis); with the local store they never wait.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

fn check(state: &str, user: i64) -> Result<Checked, StateError> {
    RUNTIME.block_on(SIGNER.check(state, user, |_| true))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(body) = serde_json::from_slice::<CallbackRequest>(rest) {
                if let Some(state) = body.state.as_deref() {
                    assert!(check(state, 7).is_err(), "forged state accepted");
                }
            }
        }
        1 => {
            let state = String::from_utf8_lossy(rest);
            assert!(check(&state, 7).is_err(), "forged state accepted");
        }
        _ => {
            let [op, at, byte, ..] = *rest else {
                return;
            };
            let issued = RUNTIME
                .block_on(SIGNER.issue(7, 42, RedirectKind::Webauth))
                .expect("the local store is always up");
            let mut edited = issued.clone().into_bytes();
            let at = usize::from(at) % (edited.len() + 1);
            match op % 3 {
                0 if at < edited.len() => edited[at] = byte,
                0 | 1 => edited.insert(at, byte),
                _ => edited.truncate(at),
            }
            let edited = String::from_utf8_lossy(&edited);
            let verdict = check(&edited, 7);
            if edited == issued {
                assert!(check(&issued, 8).is_err(), "another user's state");
                let c = verdict.expect("the issued state is refused").claims;
                assert_eq!((c.connection, c.kind), (42, RedirectKind::Webauth));
            } else {
                assert!(verdict.is_err(), "an edited state was accepted: {edited}");
            }
        }
    }
});
