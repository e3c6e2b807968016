//! Each state's panel: `data-state` on the host, heading, `data-action` buttons.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Call, Kind};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn shown(state: Option<&str>) -> Mounted {
    let m = mount_status(status(state));
    settle().await;
    m
}

#[wasm_bindgen_test]
async fn loading_then_ok_with_last_update_and_refresh() {
    let fake = mend::FakeClient::new();
    fake.status(status(None));
    let m = mount_with(fake, &[]);
    assert_eq!(m.data_state(), "loading");
    assert!(m.q("progress").is_some());
    settle().await;
    assert_eq!(m.data_state(), "ok");
    assert_eq!(m.title(), "Your bank connection is up to date");
    assert_eq!(m.actions(), ["sync"]);
    assert!(m.q("time[datetime='2026-11-24T07:00:00Z']").is_some());
    assert_eq!(m.text(".mend__bank"), "Banque Exemple");
    assert_eq!(m.fake.requests(), [Call::Status { id: 42, wait: None }]);
}

#[wasm_bindgen_test]
async fn refresh_now_synchronises() {
    let m = shown(None).await;
    m.fake.status(status(None));
    m.click("[data-action=sync]");
    settle().await;
    assert_eq!(m.fake.requests().last(), Some(&Call::Sync { id: 42 }));
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn sca_required_offers_reconnect_and_sync() {
    let m = shown(Some("SCARequired")).await;
    assert_eq!(m.data_state(), "SCARequired");
    assert_eq!(m.title(), "Your bank needs you to confirm access");
    assert_eq!(m.actions(), ["reconnect", "sync"]);
    assert_eq!(
        m.q(".mend__panel")
            .unwrap()
            .get_attribute("data-tone")
            .as_deref(),
        Some("alert")
    );
}

#[wasm_bindgen_test]
async fn webauth_required_offers_webauth_then_reconnect() {
    let m = shown(Some("webauthRequired")).await;
    assert_eq!(m.data_state(), "webauthRequired");
    assert_eq!(m.title(), "Continue at your bank");
    assert_eq!(m.actions(), ["webauth", "reconnect"]);
}

#[wasm_bindgen_test]
async fn additional_information_builds_a_form() {
    let mut s = status(Some("additionalInformationNeeded"));
    s.message = Some("Enter the code sent to 06 •• 42".into());
    s.fields = vec![field("otp", "text")];
    let m = mount_status(s);
    settle().await;
    assert_eq!(m.data_state(), "additionalInformationNeeded");
    assert_eq!(m.title(), "Your bank asks for more information");
    assert_eq!(m.text(".mend__message"), "Enter the code sent to 06 •• 42");
    assert!(m.q("form input[name=otp]").is_some());
    assert_eq!(m.actions(), ["submit"]);
}

#[wasm_bindgen_test]
async fn decoupled_resumes_in_the_background_and_shows_a_countdown() {
    let fake = mend::FakeClient::new();
    let mut d = status(Some("decoupled"));
    d.message = Some("Approve in your app".into());
    d.expire = Some("2026-11-25T09:36:00Z".into()); // two minutes after server_time
    fake.status(d.clone());
    fake.answer_to(Kind::Action, Ok(mend::client::Answer::Status(d)));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(m.data_state(), "decoupled");
    assert_eq!(m.title(), "Approve in your bank app");
    assert_eq!(
        m.fake.requests(),
        [Call::Status { id: 42, wait: None }, Call::Resume { id: 42 }]
    );
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
    let progress = m.q("progress[max]").expect("a determinate progress bar");
    assert_eq!(progress.get_attribute("max").as_deref(), Some("120"));
    let clock = m.text(".mend__clock");
    assert!(clock == "2:00" || clock == "1:59", "{clock}");
    assert_eq!(m.actions(), ["resume"]);
    // The long poll is running, since the state Powens will change.
    assert!(m.fake.calls().iter().any(|r| r.call
        == Call::Status {
            id: 42,
            wait: Some((25, "decoupled".into()))
        }));
}

#[wasm_bindgen_test]
async fn decoupled_approved_re_checks_at_once() {
    let fake = mend::FakeClient::new();
    let d = status(Some("decoupled"));
    fake.status(d.clone()).status(d.clone());
    let m = mount_with(fake, &[]);
    settle().await;
    m.fake.status(status(Some("validating")));
    m.click("[data-action=resume]");
    settle().await;
    assert_eq!(
        m.fake
            .requests()
            .iter()
            .filter(|c| **c == Call::Resume { id: 42 })
            .count(),
        2
    );
    assert_eq!(m.data_state(), "validating");
    assert_eq!(
        m.title(),
        "Approve in your bank app",
        "still the same approval"
    );
    assert!(m.q(".mend__clock").is_some());
    // Powens is checking already: "I've approved it" now just looks again.
    m.fake.status(status(None));
    m.click("[data-action=resume]");
    settle().await;
    assert_eq!(
        m.fake.requests().last(),
        Some(&Call::Status { id: 42, wait: None })
    );
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn decoupled_times_out_with_a_retry() {
    let fake = mend::FakeClient::new();
    let mut d = status(Some("decoupled"));
    d.expire = Some("2026-11-25T09:34:01Z".into()); // one second after server_time
    fake.status(d.clone()).status(d.clone());
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
    wait_ms(2300).await;
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("timed-out")
    );
    assert_eq!(m.title(), "The approval request has expired");
    assert_eq!(m.actions(), ["retry"]);
    m.fake.status(d);
    m.click("[data-action=retry]");
    settle().await;
    assert_eq!(
        m.fake
            .requests()
            .iter()
            .filter(|c| **c == Call::Resume { id: 42 })
            .count(),
        2
    );
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
}

#[wasm_bindgen_test]
async fn validating_shows_progress_nothing_to_click_and_keeps_watching() {
    let m = shown(Some("validating")).await;
    assert_eq!(m.data_state(), "validating");
    assert_eq!(m.title(), "Checking with your bank…");
    assert!(m.actions().is_empty());
    assert!(m.q("progress").is_some());
    assert!(m.fake.calls().iter().any(|r| r.call.is_long_poll()));
}

#[wasm_bindgen_test]
async fn a_long_poll_answer_is_handled_like_the_first() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("validating")));
    fake.answer_to(
        Kind::LongPoll,
        Ok(mend::client::Answer::Status(status(None))),
    );
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(m.data_state(), "ok");
    assert_eq!(
        m.text(".mend__notice-text"),
        "All set: your bank connection works again."
    );
}

#[wasm_bindgen_test]
async fn action_needed_shows_the_bank_message_and_i_ve_done_it() {
    let mut s = status(Some("actionNeeded"));
    s.message = Some("Please accept the new terms".into());
    let m = mount_status(s);
    settle().await;
    assert_eq!(m.data_state(), "actionNeeded");
    assert_eq!(m.title(), "Your bank needs you to do something");
    assert_eq!(m.text(".mend__message"), "Please accept the new terms");
    assert_eq!(m.actions(), ["sync"]);
    assert_eq!(m.text("[data-action=sync]").trim(), "I've done it");
}

#[wasm_bindgen_test]
async fn password_expired_with_fields_is_a_form_else_reconnect() {
    let mut s = status(Some("passwordExpired"));
    s.fields = vec![field("password", "password")];
    let m = mount_status(s);
    settle().await;
    assert_eq!(m.data_state(), "passwordExpired");
    assert_eq!(m.title(), "Your bank password has expired");
    assert_eq!(m.actions(), ["submit", "reconnect"]);
    assert_eq!(
        m.q("input[name=password]")
            .unwrap()
            .get_attribute("autocomplete")
            .as_deref(),
        Some("new-password")
    );
    drop(m);
    let mut s = status(Some("passwordExpired"));
    s.actions = vec![mend_model::api::Action::Reconnect];
    let m = mount_status(s);
    settle().await;
    assert_eq!(m.actions(), ["reconnect"]);
    assert!(m.q("form").is_none());
}

#[wasm_bindgen_test]
async fn wrongpass_without_agent_status_reconnects() {
    let mut s = status(Some("wrongpass"));
    s.actions = vec![mend_model::api::Action::Reconnect];
    let m = mount_status(s);
    settle().await;
    assert_eq!(m.data_state(), "wrongpass");
    assert_eq!(m.title(), "Your bank login details no longer work");
    assert_eq!(m.actions(), ["reconnect"]);
}

#[wasm_bindgen_test]
async fn transient_states_are_calm_show_the_next_try_and_keep_watching() {
    for (state, title) in [
        ("rateLimiting", "Your bank asked us to slow down"),
        (
            "websiteUnavailable",
            "Your bank's service is temporarily unavailable",
        ),
        ("bug", "A temporary technical problem"),
    ] {
        let mut s = status(Some(state));
        s.next_try = Some("2026-11-25T10:00:00Z".into());
        let m = mount_status(s);
        settle().await;
        assert_eq!(m.data_state(), state);
        assert_eq!(m.title(), title);
        assert!(m.actions().is_empty(), "{state}");
        assert!(m.q("time[datetime='2026-11-25T10:00:00Z']").is_some());
        assert_eq!(
            m.q(".mend__panel")
                .unwrap()
                .get_attribute("data-tone")
                .as_deref(),
            Some("calm")
        );
        assert!(m.fake.calls().iter().any(|r| r.call.is_long_poll()));
    }
}

#[wasm_bindgen_test]
async fn not_supported_and_unknown_states_are_neutral() {
    let m = shown(Some("notSupported")).await;
    assert_eq!(m.data_state(), "notSupported");
    assert_eq!(m.title(), "This connection can't be updated for now");
    assert!(m.actions().is_empty());
    drop(m);
    let m = shown(Some("quantumEntangled")).await;
    assert_eq!(m.data_state(), "quantumEntangled");
    assert_eq!(m.title(), "This connection is in an unusual state");
    assert_eq!(
        m.q(".mend__panel")
            .unwrap()
            .get_attribute("data-tone")
            .as_deref(),
        Some("neutral")
    );
}

#[wasm_bindgen_test]
async fn sources_are_shown_where_they_differ() {
    let mut s = status(Some("SCARequired"));
    s.sources = vec![
        source("openapi", Some("SCARequired")),
        source("directaccess", None),
    ];
    let m = mount_status(s);
    settle().await;
    let items = m.all(".mend__sources li");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].get_attribute("data-state").as_deref(), Some("ok"));
    assert_eq!(items[0].text_content().unwrap(), "directaccess: up to date");
}

#[wasm_bindgen_test]
async fn unreachable_proxy_is_unavailable_with_a_retry() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(mend::error::ClientError::Network));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(m.data_state(), "unavailable");
    assert_eq!(m.title(), "We can't reach the service right now");
    assert!(m.text(".mend__meta").starts_with("Next try in"));
    assert_eq!(m.actions(), ["retry"]);
    m.fake.status(status(None));
    m.click("[data-action=retry]");
    settle().await;
    assert_eq!(m.fake.requests().len(), 2);
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn unavailable_retries_by_itself() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(api_error("upstream_unavailable")));
    fake.status(status(Some("wrongpass")));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(m.data_state(), "unavailable");
    wait_ms(3200).await;
    assert_eq!(m.data_state(), "wrongpass");
}

#[wasm_bindgen_test]
async fn an_expired_session_says_so_until_a_new_one_is_set() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(api_error("session_expired")));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("session-expired")
    );
    assert_eq!(m.title(), "Your session has expired");
    assert!(m.actions().is_empty());
}

#[wasm_bindgen_test]
async fn an_unknown_connection_is_not_found() {
    let fake = mend::FakeClient::new();
    fake.answer(Err(api_error("not_found")));
    let m = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("not-found")
    );
    assert_eq!(m.title(), "Connection not found");
}

#[wasm_bindgen_test]
async fn french_copy_follows_the_lang_attribute() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    let m = mount_with(fake, &[("lang", "fr")]);
    settle().await;
    assert_eq!(m.title(), "Votre banque vous demande de confirmer l'accès");
    m.host.set_attribute("lang", "en").unwrap();
    m.widget
        .as_ref()
        .unwrap()
        .set_attribute("lang", Some("en".into()));
    settle().await;
    assert_eq!(m.title(), "Your bank needs you to confirm access");
}

#[wasm_bindgen_test]
async fn compact_shows_a_banner_until_opened() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("wrongpass")));
    let m = mount_with(fake, &[("compact", "")]);
    settle().await;
    assert_eq!(
        m.text(".mend__banner-text"),
        "Your bank login details no longer work"
    );
    let body = m.q(".mend__body").unwrap();
    assert!(body.has_attribute("hidden"));
    m.click(".mend__banner button");
    settle().await;
    assert!(!body.has_attribute("hidden"));
    assert_eq!(
        m.q(".mend__banner button")
            .unwrap()
            .get_attribute("aria-expanded")
            .as_deref(),
        Some("true")
    );
}

#[wasm_bindgen_test]
async fn the_live_region_announces_the_state() {
    let m = shown(Some("validating")).await;
    assert_eq!(m.text("[aria-live=polite]"), "Checking with your bank…");
}

#[wasm_bindgen_test]
async fn the_countdown_ticks_without_moving_focus() {
    let fake = mend::FakeClient::new();
    let d = status(Some("decoupled"));
    fake.status(d.clone()).status(d);
    let m = mount_with(fake, &[]);
    settle().await;
    let before = m.text(".mend__clock");
    let button: web_sys::HtmlElement = m.q("[data-action=resume]").unwrap().unchecked_into();
    button.focus().unwrap();
    wait_ms(1100).await;
    assert_ne!(m.text(".mend__clock"), before, "the clock moved");
    let active = m
        .shadow
        .active_element()
        .expect("focus is still in the widget");
    assert_eq!(
        active.get_attribute("data-action").as_deref(),
        Some("resume")
    );
}

#[wasm_bindgen_test]
async fn a_reload_during_an_approval_keeps_its_countdown() {
    // The first page resumed the approval and remembered it...
    let fake = mend::FakeClient::new();
    let d = status(Some("decoupled"));
    fake.status(d.clone()).status(status(Some("validating")));
    let first = mount_with(fake, &[]);
    settle().await;
    assert_eq!(
        first.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
    let remembered = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
        .get_item("mend:approval:42")
        .unwrap();
    assert!(remembered.is_some());
    drop(first);
    // ...the reloaded one finds Powens checking and still shows the approval's wait.
    let fake = mend::FakeClient::new();
    fake.status(status(Some("validating")));
    let m = mount_as(42, fake, &[], false);
    settle().await;
    assert_eq!(m.data_state(), "validating");
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("waiting")
    );
    assert_eq!(m.title(), "Approve in your bank app");
    assert!(m.q(".mend__clock").is_some());
    assert!(
        !m.fake.requests().contains(&Call::Resume { id: 42 }),
        "no second resume"
    );
    // Approved: the memory goes with the episode.
    m.fake.status(status(None));
    m.click("[data-action=resume]");
    settle().await;
    assert_eq!(m.data_state(), "ok");
    let left = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
        .get_item("mend:approval:42")
        .unwrap();
    assert_eq!(left, None);
}

#[wasm_bindgen_test]
async fn after_an_action_focus_moves_to_the_new_heading() {
    let m = mount_status(status(Some("actionNeeded")));
    settle().await;
    let done: web_sys::HtmlElement = m.q("[data-action=sync]").unwrap().unchecked_into();
    done.focus().unwrap();
    m.fake.status(status(Some("SCARequired")));
    done.click();
    settle().await;
    wait_ms(100).await;
    let active = m
        .shadow
        .active_element()
        .expect("focus stays in the widget");
    assert_eq!(active.class_name(), "mend__title");
    assert_eq!(
        active.text_content().unwrap(),
        "Your bank needs you to confirm access"
    );
}

#[wasm_bindgen_test]
async fn a_background_change_never_steals_focus() {
    let fake = mend::FakeClient::new();
    fake.status(status(Some("validating")));
    fake.answer_to(
        Kind::LongPoll,
        Ok(mend::client::Answer::Status(status(None))),
    );
    let outside: web_sys::HtmlElement = document()
        .create_element("button")
        .unwrap()
        .unchecked_into();
    document().body().unwrap().append_child(&outside).unwrap();
    outside.focus().unwrap();
    let m = mount_with(fake, &[]);
    settle().await;
    wait_ms(100).await;
    assert_eq!(m.data_state(), "ok");
    assert_eq!(
        document().active_element().as_ref(),
        Some(outside.unchecked_ref::<web_sys::Element>())
    );
    outside.remove();
}

#[wasm_bindgen_test]
async fn the_language_falls_through_lang_then_html_lang_and_a_region_counts_as_its_language() {
    let section = |m: &Mounted| m.q("section.mend").unwrap();
    // A region tag: Portuguese. Hidden until its catalogue is in, never English first.
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    let m = mount_with(fake, &[("lang", "pt-BR")]);
    assert!(
        section(&m).has_attribute("hidden"),
        "hidden until the catalogue is in"
    );
    settle().await;
    assert!(!section(&m).has_attribute("hidden"));
    assert_eq!(section(&m).get_attribute("lang").as_deref(), Some("pt"));
    assert_eq!(m.title(), "O seu banco pede que confirme o acesso");
    drop(m);
    // Unsupported on the element: the page's <html lang>.
    let html = document().document_element().unwrap();
    let before = html.get_attribute("lang");
    html.set_attribute("lang", "de-CH").unwrap();
    let fake = mend::FakeClient::new();
    fake.status(status(Some("SCARequired")));
    let m = mount_with(fake, &[("lang", "ja")]);
    settle().await;
    assert_eq!(section(&m).get_attribute("lang").as_deref(), Some("de"));
    // The webview is asked for in that language too.
    m.fake.answer(Ok(mend::client::Answer::Redirect(
        mend_model::api::RedirectUrl {
            kind: mend_model::api::RedirectKind::Reconnect,
            url: "https://webview.example/x".into(),
        },
    )));
    m.click("[data-action=reconnect]");
    settle().await;
    let Some(Call::RedirectUrl { body, .. }) = m.fake.requests().pop() else {
        panic!("no redirect call")
    };
    assert_eq!(body.lang.as_deref(), Some("de"));
    match before {
        Some(l) => html.set_attribute("lang", &l).unwrap(),
        None => html.remove_attribute("lang").unwrap(),
    }
}
