//! Each state's panel: `data-state`, heading, `data-action` buttons.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn loading_then_ok_with_last_update_and_refresh() {
    let fake = mend::FakeClient::new();
    fake.status(status(None));
    let m = mount_with(fake, &[]);
    assert_eq!(m.data_state(), "loading");
    settle().await;
    assert_eq!(m.data_state(), "ok");
    assert_eq!(m.title(), "Your bank connection is up to date");
    assert_eq!(m.actions(), ["sync"]);
    assert!(m.q("time[datetime='2026-11-24T07:00:00Z']").is_some());
    assert_eq!(m.text(".mend__bank"), "Banque Exemple");
}
