//! The element's contract with its host: events and their `detail`, `data-state` and
//! `data-action`, attribute changes, the return from a redirect, clean removal, and
//! text-only rendering of what Powens says.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Answer, Call, Kind};
use mend_model::api::{CallbackOutcome, CallbackResult, RedirectKind, RedirectUrl};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn number(v: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(v, &JsValue::from_str(key))
        .ok()?
        .as_f64()
}

#[wasm_bindgen_test]
async fn mend_state_tells_each_change_with_the_previous_state() {
    let m = mount_status(status(Some("actionNeeded")));
    settle().await;
    let d = m.detail("mend:state");
    assert_eq!(
        number(&d, "connectionId"),
        Some(42.0),
        "a number, not a string"
    );
    assert_eq!(prop(&d, "state"), "actionNeeded");
    assert_eq!(prop(&d, "previous"), "null");
    m.fake.status(status(Some("SCARequired")));
    m.click("[data-action=sync]");
    settle().await;
    let d = m.detail("mend:state");
    assert_eq!(prop(&d, "state"), "SCARequired");
    assert_eq!(prop(&d, "previous"), "actionNeeded");
    assert_eq!(m.data_state(), "SCARequired");
}

#[wasm_bindgen_test]
async fn mend_resolved_when_a_repair_brings_the_state_back_to_null() {
    let m = mount_status(status(Some("actionNeeded")));
    settle().await;
    m.fake.status(status(None));
    m.click("[data-action=sync]");
    settle().await;
    assert_eq!(prop(&m.detail("mend:state"), "state"), "null");
    assert_eq!(
        number(&m.detail("mend:resolved"), "connectionId"),
        Some(42.0)
    );
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn mend_redirect_is_cancelable_and_prevent_default_is_honoured() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    fake.answer(Ok(Answer::Redirect(RedirectUrl {
        kind: RedirectKind::Reconnect,
        url: "https://webview.example/reconnect?code=x".into(),
    })));
    let m = mount_with(
        fake,
        &[
            ("redirect-uri", "https://app.example/bank/return"),
            ("lang", "fr"),
        ],
    );
    settle().await;
    let before = web_sys::window().unwrap().location().href().unwrap();
    m.click("[data-action=reconnect]");
    settle().await;
    let d = m.detail("mend:redirect");
    assert!(m.cancelable("mend:redirect"));
    assert_eq!(number(&d, "connectionId"), Some(42.0));
    assert_eq!(prop(&d, "kind"), "reconnect");
    assert_eq!(prop(&d, "url"), "https://webview.example/reconnect?code=x");
    // The test's listener called preventDefault(): the page stays, the widget too.
    assert_eq!(
        web_sys::window().unwrap().location().href().unwrap(),
        before
    );
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("showing")
    );
    assert_eq!(m.actions(), ["reconnect", "sync"]);
    let Some(Call::RedirectUrl { kind, body, .. }) = m.fake.requests().pop() else {
        panic!("no redirect call")
    };
    assert_eq!(kind, RedirectKind::Reconnect);
    assert_eq!(body.redirect_uri, "https://app.example/bank/return");
    assert_eq!(body.lang.as_deref(), Some("fr"));
}

#[wasm_bindgen_test]
async fn webauth_asks_for_the_webauth_url_with_this_page_as_default_return() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("webauthRequired")));
    fake.answer(Ok(Answer::Redirect(RedirectUrl {
        kind: RedirectKind::Webauth,
        url: "https://bank.example/auth".into(),
    })));
    let m = mount_with(fake, &[]);
    settle().await;
    m.click("[data-action=webauth]");
    settle().await;
    assert_eq!(prop(&m.detail("mend:redirect"), "kind"), "webauth");
    let Some(Call::RedirectUrl { body, kind, .. }) = m.fake.requests().pop() else {
        panic!("no redirect call")
    };
    assert_eq!(kind, RedirectKind::Webauth);
    let loc = web_sys::window().unwrap().location();
    assert_eq!(
        body.redirect_uri,
        format!("{}{}", loc.origin().unwrap(), loc.pathname().unwrap())
    );
}

#[wasm_bindgen_test]
async fn mend_session_expired_then_a_new_session_re_renders() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(api_error("session_expired")));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        number(&m.detail("mend:session-expired"), "connectionId"),
        Some(42.0)
    );
    m.fake.status(status(Some("wrongpass")));
    m.host.set_attribute("session", "s2").unwrap();
    m.widget
        .as_ref()
        .unwrap()
        .set_attribute("session", Some("s2".into()));
    settle().await;
    assert_eq!(m.sessions(), ["s1", "s2"]);
    assert_eq!(m.data_state(), "wrongpass");
    assert_eq!(m.title(), "Your bank login details no longer work");
}

#[wasm_bindgen_test]
async fn mend_error_carries_code_and_message() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(api_error("upstream_timeout")));
    let m = mount_with(fake, &[]);
    settle().await;
    let d = m.detail("mend:error");
    assert_eq!(number(&d, "connectionId"), Some(42.0));
    assert_eq!(prop(&d, "code"), "upstream_timeout");
    assert_eq!(prop(&d, "message"), "Proxy says upstream_timeout");
    assert_eq!(m.data_state(), "unavailable");
}

#[wasm_bindgen_test]
async fn every_button_carries_a_data_action() {
    for state in [
        None,
        Some("SCARequired"),
        Some("webauthRequired"),
        Some("actionNeeded"),
        Some("wrongpass"),
    ] {
        let mut s = status(state);
        s.fields = vec![field("password", "password")];
        let m = mount_status(s);
        settle().await;
        let buttons = m.all("button");
        assert!(!buttons.is_empty());
        for b in buttons {
            let a = b.get_attribute("data-action").unwrap_or_default();
            assert!(
                [
                    "submit",
                    "resume",
                    "reconnect",
                    "webauth",
                    "sync",
                    "retry",
                    "dismiss"
                ]
                .contains(&a.as_str()),
                "{state:?}: {a:?}"
            );
        }
    }
}

#[wasm_bindgen_test]
async fn a_new_connection_id_fetches_that_connection() {
    let m = mount_status(status(Some("bug")));
    settle().await;
    let mut other = status(None);
    other.id = 43;
    m.fake.status(other);
    m.widget
        .as_ref()
        .unwrap()
        .set_attribute("connection-id", Some("43".into()));
    settle().await;
    assert_eq!(
        m.fake.requests().last(),
        Some(&Call::Status { id: 43, wait: None })
    );
    assert_eq!(m.data_state(), "ok");
    assert_eq!(number(&m.detail("mend:state"), "connectionId"), Some(43.0));
}

#[wasm_bindgen_test]
async fn api_base_defaults_to_the_script_s_origin_and_follows_the_attribute() {
    let m = mount_status(status(None));
    settle().await;
    assert_eq!(m.endpoint().base, "https://proxy.test");
    assert_eq!(m.endpoint().session, "s1");
    m.fake.status(status(None));
    m.widget
        .as_ref()
        .unwrap()
        .set_attribute("api-base", Some("https://other.test".into()));
    settle().await;
    assert_eq!(m.endpoint().base, "https://other.test");
}

#[wasm_bindgen_test]
async fn refresh_fetches_again() {
    let m = mount_status(status(None));
    settle().await;
    m.widget.as_ref().unwrap().refresh();
    settle().await;
    assert_eq!(m.fake.requests().len(), 2);
}

#[wasm_bindgen_test]
async fn nothing_is_requested_after_removal() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(mend::error::ClientError::Network)); // a retry is due in 2 s
    let mut m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(m.data_state(), "unavailable");
    let calls = m.fake.calls().len();
    m.unmount();
    assert!(m.shadow.first_element_child().is_none(), "the view is gone");
    wait_ms(2600).await;
    assert_eq!(m.fake.calls().len(), calls, "no retry after removal");
}

#[wasm_bindgen_test]
async fn a_long_poll_is_aborted_on_removal() {
    let mut m = mount_status(status(Some("validating")));
    settle().await;
    assert!(m.fake.calls().iter().any(|r| r.call.is_long_poll()));
    let calls = m.fake.calls().len();
    m.unmount();
    m.fake.status(status(None));
    wait_ms(1200).await;
    assert_eq!(m.fake.calls().len(), calls);
}

#[wasm_bindgen_test]
async fn hostile_strings_are_rendered_as_text() {
    let evil = "<img src=x onerror=\"window.__pwned=1\">";
    let mut s = status(Some("additionalInformationNeeded"));
    s.message = Some(evil.into());
    s.connector = Some(evil.into());
    let mut f = field("otp", "text");
    f.label = evil.into();
    f.description = Some(evil.into());
    s.fields = vec![f];
    s.sources = vec![source(evil, None)];
    let m = mount_status(s);
    settle().await;
    assert!(
        m.q("img").is_none(),
        "no element was created from Powens' strings"
    );
    assert_eq!(m.text(".mend__message"), evil);
    assert_eq!(m.text(".mend__bank"), evil);
    assert_eq!(m.text("label").trim(), evil);
    assert_eq!(m.text(".mend__help"), evil);
    assert!(m.text(".mend__sources li").starts_with(evil));
}

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

/// Mounts connection 42 with the real client and a first status request "already
/// started" (as mend.js does), whose answer is `body`.
fn mount_prefetched(base: &str, url: &str, auth: &str, body: &str) -> web_sys::HtmlElement {
    use wasm_bindgen::JsCast;
    mend::app::Ctl::reset_page_return();
    let doc = document();
    let host: web_sys::HtmlElement = doc
        .create_element("mend-connection")
        .unwrap()
        .unchecked_into();
    for (k, v) in [
        ("connection-id", "42"),
        ("session", "s1"),
        ("lang", "en"),
        ("api-base", base),
    ] {
        host.set_attribute(k, v).unwrap();
    }
    doc.body().unwrap().append_child(&host).unwrap();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let response = web_sys::Response::new_with_opt_str(Some(body)).unwrap();
    let first = mend::dom::object(&[
        ("url", url.into()),
        ("auth", auth.into()),
        ("response", js_sys::Promise::resolve(&response).into()),
    ]);
    let widget = mend::mount_started(
        &host,
        shadow.as_ref(),
        std::rc::Rc::new(mend::HttpClient),
        "https://proxy.test",
        first.into(),
    );
    // Kept mounted for the test's lifetime (dropped with the page).
    std::mem::forget(widget);
    host
}

#[wasm_bindgen_test]
async fn the_status_request_mend_js_started_is_used_not_made_again() {
    let body = serde_json::to_string(&status(Some("wrongpass"))).unwrap();
    // Nothing listens on port 9: a request of its own would end `unavailable`.
    let base = "http://127.0.0.1:9";
    let host = mount_prefetched(
        base,
        "http://127.0.0.1:9/api/v1/connections/42",
        "Bearer s1",
        &body,
    );
    for _ in 0..20 {
        if host.get_attribute("data-state").as_deref() != Some("loading") {
            break;
        }
        wait_ms(10).await;
    }
    assert_eq!(
        host.get_attribute("data-state").as_deref(),
        Some("wrongpass")
    );
    host.remove();
    // Another session's request is not adopted: the widget asks for itself.
    let other = mount_prefetched(
        base,
        "http://127.0.0.1:9/api/v1/connections/42",
        "Bearer someone-else",
        &body,
    );
    for _ in 0..50 {
        if other.get_attribute("data-state").as_deref() != Some("loading") {
            break;
        }
        wait_ms(50).await;
    }
    assert_eq!(
        other.get_attribute("data-state").as_deref(),
        Some("unavailable")
    );
    other.remove();
}

/// Makes `document.hidden` say `hidden` (an own property shadowing the prototype's
/// getter; `None` removes it) and tells the page, as the browser does.
fn set_page_hidden(hidden: Option<bool>) {
    let doc = document();
    match hidden {
        Some(h) => {
            let desc = mend::dom::object(&[
                ("value", JsValue::from_bool(h)),
                ("configurable", JsValue::TRUE),
            ]);
            js_sys::Object::define_property(doc.as_ref(), &JsValue::from_str("hidden"), &desc);
        }
        None => {
            js_sys::Reflect::delete_property(doc.as_ref(), &JsValue::from_str("hidden")).unwrap();
        }
    }
    let ev = web_sys::Event::new("visibilitychange").unwrap();
    doc.dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
async fn watching_pauses_while_the_page_is_hidden_and_resumes_when_shown() {
    let m = mount_status(status(Some("validating")));
    settle().await;
    let long_polls = || {
        m.fake
            .calls()
            .iter()
            .filter(|r| r.call.is_long_poll())
            .count()
    };
    assert_eq!(long_polls(), 1, "watching while visible");
    let first_aborted = || {
        m.fake
            .calls()
            .iter()
            .find(|r| r.call.is_long_poll())
            .and_then(|r| r.abort.clone())
            .expect("a long poll with an abort signal")
            .aborted()
    };
    assert!(!first_aborted());
    set_page_hidden(Some(true));
    settle().await;
    assert!(
        first_aborted(),
        "the long poll stops when the page is hidden"
    );
    // Hidden: a refresh answers, yet no long poll starts again.
    m.widget.as_ref().unwrap().refresh();
    settle().await;
    assert_eq!(m.fake.requests().len(), 2, "the refresh was made");
    assert_eq!(long_polls(), 1, "no long poll while hidden");
    set_page_hidden(Some(false));
    settle().await;
    assert_eq!(long_polls(), 2, "watching again once visible");
    set_page_hidden(None);
    settle().await;
    assert_eq!(long_polls(), 2, "still the one long poll");
}
