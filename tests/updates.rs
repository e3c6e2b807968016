//! Fine-grained updates in the whole widget: typing, a clock tick and a busy flag
//! leave every other node (same `Node`) and the focus where they were; a new state
//! builds a new panel and moves focus to its heading.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::Kind;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Every element in the widget's shadow root, in document order.
fn nodes(m: &Mounted) -> Vec<web_sys::Element> {
    m.all("*")
}

fn focused(m: &Mounted) -> Option<web_sys::Element> {
    m.shadow.active_element()
}

#[wasm_bindgen_test]
async fn typing_touches_nothing_and_keeps_the_focus() {
    let mut s = status(Some("additionalInformationNeeded"));
    s.fields = vec![field("login", "text"), field("otp", "text")];
    let m = mount_status(s);
    settle().await;
    let before = nodes(&m);
    let input: web_sys::HtmlInputElement = m.q("input[name=otp]").unwrap().unchecked_into();
    input.focus().unwrap();
    for v in ["1", "12", "123"] {
        m.type_into("input[name=otp]", v);
        settle().await;
    }
    assert_eq!(nodes(&m), before, "no node replaced, added or removed");
    assert_eq!(input.value(), "123");
    assert_eq!(
        focused(&m).as_ref(),
        Some(input.unchecked_ref::<web_sys::Element>())
    );
}

#[wasm_bindgen_test]
async fn a_clock_tick_changes_only_the_countdown_and_keeps_the_focus() {
    let fake = mend::FakeClient::new();
    let d = status(Some("decoupled"));
    fake.status(d.clone()).status(d);
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
    let before = nodes(&m);
    let clock = m.text(".mend__clock");
    let button: web_sys::HtmlElement = m.q("[data-action=resume]").unwrap().unchecked_into();
    button.focus().unwrap();
    wait_ms(1100).await;
    assert_ne!(m.text(".mend__clock"), clock, "the clock moved");
    assert_eq!(nodes(&m), before, "no node replaced by the tick");
    assert_eq!(
        focused(&m).as_ref(),
        Some(button.unchecked_ref::<web_sys::Element>())
    );
    // The window is a bank app's few minutes, not Powens' `expire`.
    let left = m.text(".mend__clock");
    assert!(left.starts_with("4:5"), "{left}");
}

#[wasm_bindgen_test]
async fn a_busy_flag_changes_only_the_buttons_and_keeps_the_focus() {
    let m = mount_status(status(Some("SCARequired")));
    settle().await;
    let before = nodes(&m);
    let sync: web_sys::HtmlElement = m.q("[data-action=sync]").unwrap().unchecked_into();
    sync.focus().unwrap();
    m.fake.hang(Kind::Action);
    sync.click();
    settle().await;
    assert_eq!(m.host.get_attribute("data-phase").as_deref(), Some("busy"));
    assert_eq!(sync.get_attribute("aria-busy").as_deref(), Some("true"));
    assert_eq!(
        m.q("[data-action=reconnect]")
            .unwrap()
            .get_attribute("aria-disabled")
            .as_deref(),
        Some("true")
    );
    assert_eq!(nodes(&m), before, "no node replaced by the busy flag");
    assert_eq!(
        focused(&m).as_ref(),
        Some(sync.unchecked_ref::<web_sys::Element>())
    );
}

#[wasm_bindgen_test]
async fn a_new_state_builds_a_new_panel_and_focus_follows_to_its_heading() {
    let m = mount_status(status(Some("actionNeeded")));
    settle().await;
    let old = m.q(".mend__panel").unwrap();
    let done: web_sys::HtmlElement = m.q("[data-action=sync]").unwrap().unchecked_into();
    done.focus().unwrap();
    let mut ok = status(None);
    ok.last_update = Some("2026-11-25T09:00:00Z".into());
    m.fake.status(ok);
    done.click();
    settle().await;
    wait_ms(100).await;
    let panel = m.q(".mend__panel").unwrap();
    assert_ne!(panel, old);
    assert_eq!(panel.get_attribute("data-panel").as_deref(), Some("notice"));
    let active = focused(&m).expect("focus stays in the widget");
    assert_eq!(active.class_name(), "mend__title");
}

#[wasm_bindgen_test]
async fn a_new_bank_message_in_the_same_state_patches_the_panel_and_keeps_the_field() {
    let mut s = status(Some("additionalInformationNeeded"));
    s.fields = vec![field("otp", "text")];
    let m = mount_status(s.clone());
    settle().await;
    let input: web_sys::HtmlInputElement = m.q("input[name=otp]").unwrap().unchecked_into();
    input.focus().unwrap();
    m.type_into("input[name=otp]", "000000");
    // The bank refuses the code: same state, its own words.
    s.message = Some("Incorrect code".into());
    m.fake.status(s);
    m.click("[data-action=submit]");
    settle().await;
    wait_ms(100).await;
    assert_eq!(m.text(".mend__message"), "Incorrect code");
    assert_eq!(
        m.q("input[name=otp]").as_ref(),
        Some(input.unchecked_ref::<web_sys::Element>()),
        "the same input"
    );
    assert_eq!(
        input.value(),
        "000000",
        "what was typed stays, to correct it"
    );
    assert_eq!(
        focused(&m).as_ref(),
        Some(input.unchecked_ref::<web_sys::Element>()),
        "focus stays in the field"
    );
}
