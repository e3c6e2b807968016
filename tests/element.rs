//! The element's contract with its host: events and their `detail`, `data-state` and
//! `data-action`, attribute changes, the first status mend.js started, clean removal, and
//! text-only rendering of what Powens says.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Answer, Call};
use mend_model::api::{RedirectKind, RedirectUrl};
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

/// Mounts connection 42 with the real client and a first status request "already
/// started" (as mend.js does), whose answer is `body`; `text`: that answer already
/// read, as mend.js leaves it once it is in.
fn mount_prefetched(
    base: &str,
    url: &str,
    auth: &str,
    body: &str,
    text: Option<&str>,
) -> web_sys::HtmlElement {
    mend::app::Ctl::reset_page_return();
    let (host, shadow) = host_element(
        "mend-connection",
        &[("connection-id", "42"), ("api-base", base)],
    );
    let response = web_sys::Response::new_with_opt_str(Some(body)).unwrap();
    let first = mend::dom::object(&[
        ("url", url.into()),
        ("auth", auth.into()),
        ("response", js_sys::Promise::resolve(&response).into()),
    ]);
    if let Some(t) = text {
        js_sys::Reflect::set(&first, &"text".into(), &t.into()).unwrap();
    }
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

/// `host`'s `data-state` once it left `loading`, waiting up to `ms`.
async fn left_loading(host: &web_sys::HtmlElement, ms: u32) -> Option<String> {
    for _ in 0..ms / 10 {
        if host.get_attribute("data-state").as_deref() != Some("loading") {
            break;
        }
        wait_ms(10).await;
    }
    host.get_attribute("data-state")
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
        None,
    );
    assert_eq!(left_loading(&host, 200).await.as_deref(), Some("wrongpass"));
    host.remove();
    // Another session's request is not adopted: the widget asks for itself.
    let other = mount_prefetched(
        base,
        "http://127.0.0.1:9/api/v1/connections/42",
        "Bearer someone-else",
        &body,
        None,
    );
    assert_eq!(
        left_loading(&other, 2500).await.as_deref(),
        Some("unavailable")
    );
    other.remove();
}

#[wasm_bindgen_test]
async fn an_answer_already_in_is_the_state_the_view_is_first_built_in() {
    let body = serde_json::to_string(&status(Some("wrongpass"))).unwrap();
    let url = "http://127.0.0.1:9/api/v1/connections/42";
    let host = mount_prefetched("http://127.0.0.1:9", url, "Bearer s1", &body, Some(&body));
    // No await since the mount: no task ran, the first build is the state's panel.
    let shown = host
        .shadow_root()
        .unwrap()
        .text_content()
        .unwrap_or_default();
    assert_eq!(
        host.get_attribute("data-state").as_deref(),
        Some("wrongpass")
    );
    assert!(
        shown.contains("Your bank login details no longer work")
            && !shown.contains("Checking your bank connection"),
        "not the state's panel alone: {shown}"
    );
    host.remove();
    // Another session's answer is not taken, read or not: the widget asks for itself
    // (and, with nothing on port 9, ends unavailable).
    let other = mount_prefetched("http://127.0.0.1:9", url, "Bearer x", &body, Some(&body));
    assert_eq!(
        other.get_attribute("data-state").as_deref(),
        Some("loading")
    );
    assert_eq!(
        left_loading(&other, 2500).await.as_deref(),
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
