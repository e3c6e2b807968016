//! The return from the bank or the webview: checked with the proxy once, by the
//! widget that left, removed from the address bar; a host's own parameters left alone;
//! and the redirects the widget refuses to follow.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Answer, Call, Kind};
use mend_model::api::{
    CallbackOutcome, CallbackRequest, CallbackResult, ConnectionStatus, RedirectKind, RedirectUrl,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The page's address with `query` for as long as this lives, then as it was.
struct AtQuery(String);

impl AtQuery {
    fn new(query: &str) -> Self {
        let win = web_sys::window().unwrap();
        let original = win.location().href().unwrap();
        let path = win.location().pathname().unwrap();
        win.history()
            .unwrap()
            .replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}")))
            .unwrap();
        Self(original)
    }

    /// The query as the widget left it.
    fn search(&self) -> String {
        web_sys::window().unwrap().location().search().unwrap()
    }
}

impl Drop for AtQuery {
    fn drop(&mut self) {
        let history = web_sys::window().unwrap().history().unwrap();
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&self.0));
    }
}

/// The proxy's answer to the return of connection 42 (`error` for a cancel).
fn returned(kind: RedirectKind, outcome: CallbackOutcome, status: ConnectionStatus) -> Answer {
    let error = (outcome == CallbackOutcome::Cancelled).then(|| "access_denied".to_owned());
    Answer::Callback(CallbackResult {
        connection_id: 42,
        kind,
        outcome,
        error,
        status,
    })
}

/// A widget of connection `id` (SCARequired), whose return, if it checks one, the proxy
/// answers with `answer`.
fn returning(id: i64, answer: Answer, attrs: &[(&str, &str)]) -> Mounted {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer_to(Kind::Callback, Ok(answer));
    mount_as(id, fake, attrs, false)
}

/// The return `m` presented to the proxy, if it did.
fn presented(m: &Mounted) -> Option<CallbackRequest> {
    m.fake.requests().into_iter().find_map(|c| match c {
        Call::Callback(r) => Some(r),
        _ => None,
    })
}

/// As this tab does when it hands connection 42 the redirect whose `state` is `state`.
fn handed_out(state: &str) {
    mend::dom::set_return_hint(42, &format!("https://bank.test/?state={state}"));
}

const ALL_SET: &str = "All set: your bank connection works again.";
const CANCELLED: &str = "You cancelled at your bank. Nothing has changed.";

#[wasm_bindgen_test]
async fn the_return_from_a_redirect_is_checked_and_removed_from_the_address_bar() {
    fresh_page();
    let page = AtQuery::new("?keep=1&state=v1.c2lnbmVk.YWJj&id_connection=42");
    let m = returning(
        42,
        returned(
            RedirectKind::Webauth,
            CallbackOutcome::Completed,
            status(None),
        ),
        &[],
    );
    settle().await;
    let callback = presented(&m).expect("the return was checked");
    assert_eq!(callback.state.as_deref(), Some("v1.c2lnbmVk.YWJj"));
    assert_eq!(callback.id_connection.as_deref(), Some("42"));
    assert_eq!(
        page.search(),
        "?keep=1",
        "the return's parameters are gone, the host's stay"
    );
    assert_eq!(m.data_state(), "ok");
    assert_eq!(m.text(".mend__notice-text"), ALL_SET);
    assert!(m.event_names().contains(&"mend:resolved".to_owned()));
}

#[wasm_bindgen_test]
async fn a_cancelled_return_says_so() {
    fresh_page();
    let _page = AtQuery::new("?state=v1.cw.cw&error=access_denied");
    let m = returning(
        42,
        returned(
            RedirectKind::Reconnect,
            CallbackOutcome::Cancelled,
            status(Some("SCARequired")),
        ),
        &[],
    );
    settle().await;
    assert_eq!(m.text(".mend__notice-text"), CANCELLED);
    m.click("[data-action=dismiss]");
    settle().await;
    assert!(m.q(".mend__notice").is_none());
}

/// Back on the page: widget 41 (another session) starts first, then 42, whose return
/// the proxy answers as completed.
async fn back_with_41_first() -> (Mounted, Mounted) {
    let first = mend::FakeClient::new();
    first.status(status(None));
    let other = mount_as(41, first, &[("session", "session-of-41")], false);
    settle().await;
    let ok = returned(
        RedirectKind::Reconnect,
        CallbackOutcome::Completed,
        status(None),
    );
    let m = returning(42, ok, &[]);
    settle().await;
    (other, m)
}

#[wasm_bindgen_test]
async fn the_return_is_checked_by_the_widget_that_left() {
    // Widget 42 left for the webview (this is what it remembers before navigating).
    fresh_page();
    handed_out("for-42");
    let _page = AtQuery::new("?state=for-42");
    let (other, m) = back_with_41_first().await;
    assert_eq!(presented(&other), None, "not with 41's session");
    assert!(presented(&m).is_some());
    assert_eq!(m.data_state(), "ok");
    assert_eq!(mend::dom::return_hint("for-42"), None, "the hint is spent");
}

#[wasm_bindgen_test]
async fn a_host_that_cancels_mend_redirect_still_gets_the_return_on_that_element() {
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
    // Back on the page (what it handed out kept): the webview names no connection,
    // and 41 starts first.
    mend::app::Ctl::reset_page_return();
    let _page = AtQuery::new(&format!("?state={state}"));
    let (other, m) = back_with_41_first().await;
    assert_eq!(presented(&other), None, "41 left the return alone");
    assert!(other.event_names().iter().all(|n| n != "mend:error"));
    assert!(presented(&m).is_some(), "42 checked it");
    assert_eq!(m.data_state(), "ok");
    assert_eq!(m.text(".mend__notice-text"), ALL_SET);
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
    fresh_page();
    // The host's own OAuth return, say: not signed by the proxy, not handed out here.
    let own = "?state=host-xyz&code=abc&error=e&keep=1";
    let page = AtQuery::new(own);
    let m = mount_status(status(Some("SCARequired")));
    settle().await;
    assert_eq!(page.search(), own, "the host's parameters stay");
    assert_eq!(
        presented(&m),
        None,
        "no callback for a state that isn't ours"
    );
    assert!(!m.event_names().contains(&"mend:error".to_owned()));
    assert_eq!(m.data_state(), "SCARequired");
}

#[wasm_bindgen_test]
async fn a_state_this_tab_handed_out_is_a_return_even_if_unsigned() {
    fresh_page();
    handed_out("opaque");
    let page = AtQuery::new("?state=opaque&code=c1&keep=1");
    let ok = returned(
        RedirectKind::Reconnect,
        CallbackOutcome::Completed,
        status(None),
    );
    let m = returning(42, ok, &[]);
    settle().await;
    assert!(presented(&m).is_some());
    assert_eq!(
        page.search(),
        "?keep=1",
        "state and the code that came with it removed"
    );
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn an_error_that_comes_back_without_its_state_is_the_newest_hand_off_s_return() {
    // Two redirects handed out by this tab; the bank's error page dropped the state.
    for query in [
        "?error=access_denied&error_description=Cancelled&keep=1",
        "?state=null&error=access_denied&keep=1",
    ] {
        fresh_page();
        handed_out("older");
        handed_out("newer");
        let page = AtQuery::new(query);
        let cancelled = returned(
            RedirectKind::Reconnect,
            CallbackOutcome::Cancelled,
            status(Some("SCARequired")),
        );
        let m = returning(42, cancelled, &[]);
        settle().await;
        let sent = presented(&m).expect("the return checked with the proxy");
        assert_eq!(sent.state.as_deref(), Some("newer"), "{query}");
        assert_eq!(sent.error.as_deref(), Some("access_denied"));
        assert_eq!(
            page.search(),
            "?keep=1",
            "{query}: the return's parameters removed"
        );
        assert_eq!(m.text(".mend__notice-text"), CANCELLED, "{query}");
    }
    fresh_page();
}

#[wasm_bindgen_test]
async fn an_error_without_a_state_in_a_tab_that_handed_nothing_out_is_the_host_s() {
    fresh_page();
    let page = AtQuery::new("?error=host_error&keep=1");
    let m = mount_status(status(Some("SCARequired")));
    settle().await;
    assert_eq!(presented(&m), None);
    assert_eq!(
        page.search(),
        "?error=host_error&keep=1",
        "the host's parameters stay"
    );
    assert_eq!(m.data_state(), "SCARequired");
}
