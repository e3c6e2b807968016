//! The return from the bank or the webview: checked with the proxy once, by the
//! widget that left, removed from the address bar; a host's own parameters left alone;
//! and the redirects the widget refuses to follow.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Answer, Call, Kind};
use mend_model::api::{CallbackOutcome, CallbackResult, RedirectKind, RedirectUrl};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_return_from_a_redirect_is_checked_and_removed_from_the_address_bar() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    history
        .replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&format!(
                "{path}?keep=1&state=v1.c2lnbmVk.YWJj&id_connection=42"
            )),
        )
        .unwrap();
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Callback(CallbackResult {
        connection_id: 42,
        kind: RedirectKind::Webauth,
        outcome: CallbackOutcome::Completed,
        error: None,
        status: status(None),
    })));
    let m = mount_with(fake, &[]);
    settle().await;
    let search = win.location().search().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    let callback = m
        .fake
        .requests()
        .into_iter()
        .find_map(|c| match c {
            Call::Callback(r) => Some(r),
            _ => None,
        })
        .expect("the return was checked");
    assert_eq!(callback.state.as_deref(), Some("v1.c2lnbmVk.YWJj"));
    assert_eq!(callback.id_connection.as_deref(), Some("42"));
    assert_eq!(
        search, "?keep=1",
        "the return's parameters are gone, the host's stay"
    );
    assert_eq!(m.data_state(), "ok");
    assert_eq!(
        m.text(".mend__notice-text"),
        "All set: your bank connection works again."
    );
    assert!(m.event_names().contains(&"mend:resolved".to_owned()));
}

#[wasm_bindgen_test]
async fn a_cancelled_return_says_so() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    history
        .replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&format!("{path}?state=v1.cw.cw&error=access_denied")),
        )
        .unwrap();
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer_to(
        Kind::Callback,
        Ok(Answer::Callback(CallbackResult {
            connection_id: 42,
            kind: RedirectKind::Reconnect,
            outcome: CallbackOutcome::Cancelled,
            error: Some("access_denied".into()),
            status: status(Some("SCARequired")),
        })),
    );
    let m = mount_with(fake, &[]);
    settle().await;
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    assert_eq!(
        m.text(".mend__notice-text"),
        "You cancelled at your bank. Nothing has changed."
    );
    m.click("[data-action=dismiss]");
    settle().await;
    assert!(m.q(".mend__notice").is_none());
}

#[wasm_bindgen_test]
async fn the_return_is_checked_by_the_widget_that_left() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    // Widget 42 left for the webview (this is what it remembers before navigating).
    mend::app::Ctl::reset_page_return();
    win.session_storage()
        .unwrap()
        .unwrap()
        .set_item("mend:return:for-42", "42")
        .unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}?state=for-42")))
        .unwrap();
    let first = mend::FakeClient::new();
    first.status(status(None));
    let other = mount_as(41, first, &[("session", "session-of-41")], false);
    settle().await;
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Callback(CallbackResult {
        connection_id: 42,
        kind: RedirectKind::Reconnect,
        outcome: CallbackOutcome::Completed,
        error: None,
        status: status(None),
    })));
    let m = mount_as(42, fake, &[], false);
    settle().await;
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    let is_callback = |c: &Call| matches!(c, Call::Callback(_));
    assert!(
        !other.fake.requests().iter().any(is_callback),
        "not with 41's session"
    );
    assert!(m.fake.requests().iter().any(is_callback));
    assert_eq!(m.data_state(), "ok");
    assert!(
        win.session_storage()
            .unwrap()
            .unwrap()
            .get_item("mend:return:for-42")
            .unwrap()
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn a_host_that_cancels_mend_redirect_still_gets_the_return_on_that_element() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    // 42 is handed a webview URL; the host (the test) cancels mend:redirect and would
    // navigate by itself.
    let state = "v1.eyJjIjo0Mn0.c2lnbmF0dXJl";
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Redirect(RedirectUrl {
        kind: RedirectKind::Reconnect,
        url: format!("https://webview.example/reconnect?code=x&state={state}"),
    })));
    let leaving = mount_with(fake, &[]);
    settle().await;
    leaving.click("[data-action=reconnect]");
    settle().await;
    assert!(leaving.cancelable("mend:redirect"));
    drop(leaving);
    // Back on the page: the webview names no connection, and 41 starts first.
    mend::app::Ctl::reset_page_return();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}?state={state}")))
        .unwrap();
    let first = mend::FakeClient::new();
    first.status(status(None));
    let other = mount_as(41, first, &[("session", "session-of-41")], false);
    settle().await;
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Callback(CallbackResult {
        connection_id: 42,
        kind: RedirectKind::Reconnect,
        outcome: CallbackOutcome::Completed,
        error: None,
        status: status(None),
    })));
    let m = mount_as(42, fake, &[], false);
    settle().await;
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    let is_callback = |c: &Call| matches!(c, Call::Callback(_));
    assert!(
        !other.fake.requests().iter().any(is_callback),
        "41 left the return alone"
    );
    assert!(other.event_names().iter().all(|n| n != "mend:error"));
    assert!(m.fake.requests().iter().any(is_callback), "42 checked it");
    assert_eq!(m.data_state(), "ok");
    assert_eq!(
        m.text(".mend__notice-text"),
        "All set: your bank connection works again."
    );
}

#[wasm_bindgen_test]
async fn a_redirect_url_that_is_not_https_is_refused() {
    for (url, allowed) in [
        ("javascript:alert(1)", false),
        ("JavaScript:alert(1)", false),
        ("data:text/html,<script>alert(1)</script>", false),
        ("http://bank.example/auth", false),
        ("//bank.example/auth", false),
        ("http://localhost:8080/sandbox/webview", true),
        ("http://127.0.0.1:8787/sandbox/webview", true),
        ("http://proxy.test/sandbox/webview", true),
        ("https://bank.example/auth", true),
    ] {
        assert_eq!(
            mend::dom::redirect_allowed(url, "http://proxy.test"),
            allowed,
            "{url}"
        );
    }
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Redirect(RedirectUrl {
        kind: RedirectKind::Reconnect,
        url: "javascript:alert(1)".into(),
    })));
    let m = mount_with(fake, &[]);
    settle().await;
    m.click("[data-action=reconnect]");
    settle().await;
    assert!(
        !m.event_names().contains(&"mend:redirect".to_owned()),
        "the host is never handed the URL"
    );
    let d = m.detail("mend:error");
    assert_eq!(prop(&d, "code"), "bad_redirect");
    assert_eq!(
        prop(&d, "message"),
        "We couldn't reach the service. Please try again in a moment."
    );
    assert_eq!(m.data_state(), "SCARequired");
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("showing")
    );
    assert_eq!(
        m.text(".mend__notice-text"),
        "We couldn't reach the service. Please try again in a moment."
    );
    assert_eq!(m.actions(), ["dismiss", "reconnect", "sync"]);
}

#[wasm_bindgen_test]
async fn a_host_s_own_state_and_code_are_not_taken_for_a_return() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    // The host's own OAuth return, say: not signed by the proxy, not handed out here.
    let own = "?state=host-xyz&code=abc&error=e&keep=1";
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{own}")))
        .unwrap();
    let m = mount_status(status(Some("SCARequired")));
    settle().await;
    let search = win.location().search().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    assert_eq!(search, own, "the host's parameters stay");
    assert!(
        !m.fake
            .requests()
            .iter()
            .any(|c| matches!(c, Call::Callback(_))),
        "no callback for a state that isn't ours"
    );
    assert!(!m.event_names().contains(&"mend:error".to_owned()));
    assert_eq!(m.data_state(), "SCARequired");
}

#[wasm_bindgen_test]
async fn a_state_this_tab_handed_out_is_a_return_even_if_unsigned() {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    mend::app::Ctl::reset_page_return();
    win.session_storage()
        .unwrap()
        .unwrap()
        .set_item("mend:return:opaque", "42")
        .unwrap();
    history
        .replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&format!("{path}?state=opaque&code=c1&keep=1")),
        )
        .unwrap();
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Callback(CallbackResult {
        connection_id: 42,
        kind: RedirectKind::Reconnect,
        outcome: CallbackOutcome::Completed,
        error: None,
        status: status(None),
    })));
    let m = mount_as(42, fake, &[], false);
    settle().await;
    let search = win.location().search().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    assert!(
        m.fake
            .requests()
            .iter()
            .any(|c| matches!(c, Call::Callback(_)))
    );
    assert_eq!(
        search, "?keep=1",
        "state and the code that came with it removed"
    );
    assert_eq!(m.data_state(), "ok");
}

/// Forgets every redirect this tab handed out (tests share one tab).
fn forget_hand_offs() {
    let s = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    let keys: Vec<String> = (0..s.length().unwrap())
        .filter_map(|i| s.key(i).unwrap())
        .filter(|k| k.starts_with("mend:return"))
        .collect();
    for k in keys {
        s.remove_item(&k).unwrap();
    }
}

/// Mounts connection 42 on a page whose query is `query`, with `hints` (the `state`s
/// of redirects this tab handed out before, oldest first); returns the widget and the
/// query once it settled.
async fn mount_returning(query: &str, hints: &[&str]) -> (Mounted, String) {
    let win = web_sys::window().unwrap();
    let history = win.history().unwrap();
    let original = win.location().href().unwrap();
    let path = win.location().pathname().unwrap();
    mend::app::Ctl::reset_page_return();
    forget_hand_offs();
    for state in hints {
        mend::dom::set_return_hint(42, &format!("https://bank.test/?state={state}"));
    }
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}")))
        .unwrap();
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer_to(
        Kind::Callback,
        Ok(Answer::Callback(CallbackResult {
            connection_id: 42,
            kind: RedirectKind::Reconnect,
            outcome: CallbackOutcome::Cancelled,
            error: Some("access_denied".into()),
            status: status(Some("SCARequired")),
        })),
    );
    let m = mount_as(42, fake, &[], false);
    settle().await;
    let search = win.location().search().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&original))
        .unwrap();
    forget_hand_offs();
    (m, search)
}

fn presented(m: &Mounted) -> Option<mend_model::api::CallbackRequest> {
    m.fake.requests().into_iter().find_map(|c| match c {
        Call::Callback(r) => Some(r),
        _ => None,
    })
}

#[wasm_bindgen_test]
async fn an_error_that_comes_back_without_its_state_is_the_newest_hand_off_s_return() {
    // Two redirects handed out by this tab; the bank's error page dropped the state.
    for query in [
        "?error=access_denied&error_description=Cancelled&keep=1",
        "?state=null&error=access_denied&keep=1",
    ] {
        let (m, search) = mount_returning(query, &["older", "newer"]).await;
        let sent = presented(&m).expect("the return checked with the proxy");
        assert_eq!(sent.state.as_deref(), Some("newer"), "{query}");
        assert_eq!(sent.error.as_deref(), Some("access_denied"));
        assert_eq!(
            search, "?keep=1",
            "{query}: the return's parameters removed"
        );
        assert_eq!(
            m.text(".mend__notice-text"),
            "You cancelled at your bank. Nothing has changed.",
            "{query}"
        );
    }
}

#[wasm_bindgen_test]
async fn an_error_without_a_state_in_a_tab_that_handed_nothing_out_is_the_host_s() {
    let (m, search) = mount_returning("?error=host_error&keep=1", &[]).await;
    assert_eq!(presented(&m), None);
    assert_eq!(
        search, "?error=host_error&keep=1",
        "the host's parameters stay"
    );
    assert_eq!(m.data_state(), "SCARequired");
}
