//! `<mend-connections>` and the page's shared long polls: one request for the list,
//! entries seeded with what it read (no request of their own), full or calm entries,
//! `data-count`, hidden when nothing needs the user, a live region that speaks once,
//! and one long poll per changing connection however many elements show it.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::{Answer, Call, Kind, shared};
use mend::error::ClientError;
use mend::{FakeClient, List};
use mend_model::api::ConnectionStatus;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BASE: &str = "https://proxy.test";

fn of(id: i64, state: Option<&str>) -> ConnectionStatus {
    ConnectionStatus {
        id,
        ..status(state)
    }
}

/// A `<mend-connections>` host with a shadow root, in the page.
struct Listed {
    host: web_sys::HtmlElement,
    shadow: web_sys::ShadowRoot,
    list: Rc<List>,
    fake: Rc<FakeClient>,
}

impl Listed {
    fn mount(fake: Rc<FakeClient>, attrs: &[(&str, &str)]) -> Self {
        use_catalogues();
        // `settle` ticks Leptos' executor, which a page with only a list never starts
        // (mounting any view starts it).
        let div: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
        drop(leptos::mount::mount_to(div, || ()));
        let (host, shadow) = host_element("mend-connections", attrs);
        let list = List::mount(&host, shadow.as_ref(), fake.clone(), BASE);
        Listed {
            host,
            shadow,
            list,
            fake,
        }
    }

    fn entries(&self) -> Vec<web_sys::Element> {
        let all = self
            .shadow
            .query_selector_all("li > mend-connection")
            .unwrap();
        (0..all.length())
            .filter_map(|i| all.item(i))
            .map(|n| n.unchecked_into())
            .collect()
    }

    fn ids(&self) -> Vec<String> {
        self.entries()
            .iter()
            .filter_map(|e| e.get_attribute("connection-id"))
            .collect()
    }

    fn text(&self, sel: &str) -> String {
        self.shadow
            .query_selector(sel)
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    fn section_hidden(&self) -> bool {
        self.shadow
            .query_selector("section")
            .unwrap()
            .unwrap()
            .has_attribute("hidden")
    }

    fn attr(&self, name: &str) -> Option<String> {
        self.host.get_attribute(name)
    }

    /// An entry says its state changed, as a mounted `<mend-connection>` does.
    fn entry_says(&self, id: i64, state: Option<&str>) {
        let entry = self
            .entries()
            .into_iter()
            .find(|e| e.get_attribute("connection-id") == Some(id.to_string()))
            .unwrap();
        let detail = js_sys::Object::new();
        js_sys::Reflect::set(&detail, &"connectionId".into(), &(id as f64).into()).unwrap();
        let state = state.map_or(JsValue::NULL, JsValue::from_str);
        js_sys::Reflect::set(&detail, &"state".into(), &state).unwrap();
        mend::dom::emit(&entry, "mend:state", &detail, false);
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        self.list.unmount();
        self.host.remove();
    }
}

fn endpoint(session: &str) -> mend::client::Endpoint {
    mend::client::Endpoint {
        base: BASE.into(),
        session: session.into(),
    }
}

#[wasm_bindgen_test]
async fn one_request_lists_who_needs_the_user_in_full_the_retried_calm_and_not_the_fine() {
    let fake = FakeClient::new();
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![
            of(11, None),
            of(12, Some("wrongpass")),
            of(13, Some("websiteUnavailable")),
            of(14, Some("decoupled")),
        ])),
    );
    let l = Listed::mount(
        fake,
        &[("theme", "dark"), ("redirect-uri", "https://app.test/back")],
    );
    assert_eq!(l.attr("data-state").as_deref(), Some("loading"));
    settle().await;
    assert_eq!(
        l.fake
            .calls()
            .iter()
            .map(|r| r.call.clone())
            .collect::<Vec<_>>(),
        [Call::List],
        "one request, for the list"
    );
    assert_eq!(l.fake.calls()[0].to, endpoint("s1"));
    assert_eq!(l.ids(), ["12", "13", "14"], "the fine one is not listed");
    let e = l.entries();
    for entry in &e {
        assert_eq!(entry.get_attribute("session").as_deref(), Some("s1"));
        assert_eq!(entry.get_attribute("theme").as_deref(), Some("dark"));
        assert_eq!(entry.get_attribute("lang").as_deref(), Some("en"));
        assert_eq!(
            entry.get_attribute("redirect-uri").as_deref(),
            Some("https://app.test/back")
        );
    }
    assert!(!e[0].has_attribute("compact"), "wrongpass in full");
    assert!(
        e[1].has_attribute("compact"),
        "websiteUnavailable: one calm line"
    );
    assert!(!e[2].has_attribute("compact"));
    assert_eq!(l.attr("data-count").as_deref(), Some("2"));
    assert_eq!(l.attr("data-state").as_deref(), Some("shown"));
    assert!(!l.section_hidden());
    assert_eq!(l.text("h2"), "Your bank connections");
    assert_eq!(
        l.text(".mend-list__summary"),
        "2 bank connections need your attention"
    );
    // Each entry finds the status the list read: it asks for nothing.
    let seeded = shared::take_seed(&endpoint("s1"), 13).expect("a seed for entry 13");
    assert_eq!(
        seeded.state.map(|s| s.to_string()).as_deref(),
        Some("websiteUnavailable")
    );
    assert!(
        shared::take_seed(&endpoint("s1"), 11).is_none(),
        "none for the fine one"
    );
    assert!(
        shared::take_seed(&endpoint("s2"), 12).is_none(),
        "only for the same session"
    );
}

#[wasm_bindgen_test]
async fn an_entry_started_from_the_list_s_answer_requests_nothing_more() {
    let fake = FakeClient::new();
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![of(42, Some("actionNeeded"))])),
    );
    let l = Listed::mount(fake.clone(), &[]);
    settle().await;
    // The entry's widget, mounted as mend.js mounts it, with the same client.
    let entry: web_sys::HtmlElement = l.entries().remove(0).unchecked_into();
    let shadow = entry
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let mut w = mend::mount(&entry, shadow.as_ref(), fake.clone(), BASE);
    settle().await;
    assert_eq!(
        entry.get_attribute("data-state").as_deref(),
        Some("actionNeeded")
    );
    assert_eq!(
        fake.requests(),
        [Call::List],
        "no status request of its own"
    );
    // Its live region is silent; the list's speaks for it.
    let live = shadow.query_selector(".mend__live").unwrap().unwrap();
    assert_eq!(live.get_attribute("aria-live").as_deref(), Some("off"));
    let button: web_sys::HtmlElement = shadow
        .query_selector("[data-action=sync]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    // Repaired in place: the list hears it, counts none, keeps the entry in sight.
    fake.status(of(42, None));
    button.click();
    settle().await;
    assert_eq!(entry.get_attribute("data-state").as_deref(), Some("ok"));
    assert_eq!(l.attr("data-count").as_deref(), Some("0"));
    assert_eq!(l.ids(), ["42"]);
    w.unmount();
}

#[wasm_bindgen_test]
async fn a_standalone_widget_s_live_region_is_polite() {
    let m = mount_status(status(Some("actionNeeded")));
    settle().await;
    assert_eq!(
        m.q(".mend__live")
            .unwrap()
            .get_attribute("aria-live")
            .as_deref(),
        Some("polite")
    );
}

#[wasm_bindgen_test]
async fn the_count_follows_the_entries_and_the_live_region_speaks_once_per_change() {
    let fake = FakeClient::new();
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![
            of(5, Some("SCARequired")),
            of(6, Some("bug")),
        ])),
    );
    let l = Listed::mount(fake, &[]);
    settle().await;
    let live = l.shadow.query_selector(".mend__live").unwrap().unwrap();
    assert_eq!(live.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(
        live.text_content().as_deref(),
        Some("1 bank connection needs your attention"),
        "one announcement for the whole list"
    );
    assert_eq!(
        l.shadow
            .query_selector_all(".mend__live, [aria-live=polite]")
            .unwrap()
            .length(),
        1,
        "and only one live region in the list itself"
    );
    // The calm one now needs the user: counted, and shown in full.
    l.entry_says(6, Some("webauthRequired"));
    assert_eq!(l.attr("data-count").as_deref(), Some("2"));
    assert!(!l.entries()[1].has_attribute("compact"));
    assert_eq!(
        live.text_content().as_deref(),
        Some("2 bank connections need your attention")
    );
    l.entry_says(5, None);
    l.entry_says(6, None);
    assert_eq!(l.attr("data-count").as_deref(), Some("0"));
    assert_eq!(
        live.text_content().as_deref(),
        Some(mend::i18n::EN.list_none)
    );
    // Someone else's event changes nothing.
    let m = mount_status(status(Some("wrongpass")));
    settle().await;
    assert_eq!(l.attr("data-count").as_deref(), Some("0"));
    drop(m);
}

#[wasm_bindgen_test]
async fn nothing_to_show_hides_the_list() {
    let fake = FakeClient::new();
    fake.answer_to(Kind::List, Ok(Answer::List(vec![of(1, None), of(2, None)])));
    let l = Listed::mount(fake, &[]);
    settle().await;
    assert!(l.section_hidden());
    assert!(l.entries().is_empty());
    assert_eq!(l.attr("data-count").as_deref(), Some("0"));
    assert_eq!(l.attr("data-state").as_deref(), Some("empty"));
    assert_eq!(l.text(".mend__live"), "", "nothing said");
}

#[wasm_bindgen_test]
async fn refresh_reads_the_list_again_keeping_the_shown_entries() {
    let fake = FakeClient::new();
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![
            of(1, Some("wrongpass")),
            of(2, Some("decoupled")),
        ])),
    );
    let l = Listed::mount(fake.clone(), &[]);
    settle().await;
    let first = l.entries()[0].clone();
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![
            of(3, Some("actionNeeded")),
            of(1, Some("wrongpass")),
            of(2, None),
        ])),
    );
    l.list.refresh();
    settle().await;
    assert_eq!(l.ids(), ["1", "3"], "2 is fine now: it leaves; 3 is new");
    assert!(
        l.entries()[0].is_same_node(Some(&first)),
        "1 is the same element"
    );
    assert_eq!(l.attr("data-count").as_deref(), Some("2"));
}

#[wasm_bindgen_test]
async fn a_refused_session_asks_the_host_for_a_new_one_and_a_new_one_reads_again() {
    let fake = FakeClient::new();
    fake.answer_to(Kind::List, Err(api_error("session_expired")));
    let l = Listed::mount(fake.clone(), &[]);
    let seen = record(&l.host, "mend:session-expired");
    settle().await;
    assert_eq!(l.attr("data-state").as_deref(), Some("session-expired"));
    assert_eq!(seen.borrow().len(), 1);
    assert!(
        js_sys::Reflect::get(&seen.borrow()[0], &"connectionId".into())
            .unwrap()
            .is_null()
    );
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![of(9, Some("SCARequired"))])),
    );
    l.host.set_attribute("session", "s2").unwrap();
    l.list.set_attribute("session", Some("s2".into()));
    settle().await;
    assert_eq!(fake.calls().last().unwrap().to, endpoint("s2"));
    assert_eq!(l.ids(), ["9"]);
    assert_eq!(
        l.entries()[0].get_attribute("session").as_deref(),
        Some("s2")
    );
    // A later session goes to the entries; the list, read, is not read again.
    l.host.set_attribute("session", "s3").unwrap();
    l.list.set_attribute("session", Some("s3".into()));
    settle().await;
    assert_eq!(
        l.entries()[0].get_attribute("session").as_deref(),
        Some("s3")
    );
    assert_eq!(fake.requests().len(), 2);
}

#[wasm_bindgen_test]
async fn an_unreachable_proxy_says_so_with_a_retry_button() {
    let fake = FakeClient::new();
    fake.answer_to(Kind::List, Err(ClientError::Network));
    let l = Listed::mount(fake.clone(), &[]);
    let errors = record(&l.host, "mend:error");
    settle().await;
    assert_eq!(l.attr("data-state").as_deref(), Some("unavailable"));
    assert!(!l.section_hidden());
    assert_eq!(errors.borrow().len(), 1);
    fake.answer_to(
        Kind::List,
        Ok(Answer::List(vec![of(7, Some("actionNeeded"))])),
    );
    let retry: web_sys::HtmlElement = l
        .shadow
        .query_selector("[data-action=retry]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    retry.click();
    settle().await;
    assert_eq!(l.ids(), ["7"]);
    assert_eq!(l.attr("data-state").as_deref(), Some("shown"));
}

#[wasm_bindgen_test]
async fn the_list_speaks_the_language_it_is_given() {
    let fake = FakeClient::new();
    fake.answer_to(Kind::List, Ok(Answer::List(vec![of(1, Some("wrongpass"))])));
    let l = Listed::mount(fake, &[("lang", "fr")]);
    settle().await;
    assert_eq!(l.text("h2"), "Vos connexions bancaires");
    assert_eq!(l.entries()[0].get_attribute("lang").as_deref(), Some("fr"));
}

#[wasm_bindgen_test]
async fn unmounting_aborts_the_list_s_request() {
    let fake = FakeClient::new();
    fake.hang(Kind::List);
    let l = Listed::mount(fake.clone(), &[]);
    settle().await;
    let signal = fake.calls()[0].abort.clone().unwrap();
    assert!(!signal.aborted());
    drop(l);
    assert!(signal.aborted());
}

#[wasm_bindgen_test]
async fn two_elements_watching_one_connection_share_one_long_poll() {
    let fake = FakeClient::new();
    fake.status(status(Some("validating")));
    let mut a = mount_with(fake.clone(), &[]);
    settle().await;
    let mut b = mount_as(42, fake.clone(), &[], false);
    settle().await;
    let polls = || {
        fake.calls()
            .into_iter()
            .filter(|r| r.call.is_long_poll())
            .collect::<Vec<_>>()
    };
    assert_eq!(polls().len(), 1, "one long poll for both");
    assert_eq!(shared::open_watches(), 1);
    let signal = polls()[0].abort.clone().unwrap();
    a.unmount();
    assert!(!signal.aborted(), "still held by the other");
    b.unmount();
    assert!(signal.aborted(), "the last one out aborts it");
    assert_eq!(shared::open_watches(), 0);
}

#[wasm_bindgen_test]
async fn the_shared_answer_reaches_every_holder() {
    let fake = FakeClient::new();
    fake.status(status(Some("validating")));
    // The long poll's answer: the bank is done.
    fake.answer_to(Kind::LongPoll, Ok(Answer::Status(status(None))));
    // Both start in the same turn, so the second joins the first one's long poll.
    let a = mount_with(fake.clone(), &[]);
    let b = mount_as(42, fake.clone(), &[], false);
    settle().await;
    assert_eq!((a.data_state(), b.data_state()), ("ok".into(), "ok".into()));
    let polls = fake
        .calls()
        .iter()
        .filter(|r| r.call.is_long_poll())
        .count();
    assert_eq!(polls, 1, "one long poll answered both");
    assert_eq!(shared::open_watches(), 0, "nothing left open once answered");
}

#[wasm_bindgen_test]
async fn different_sessions_do_not_share() {
    let fake = FakeClient::new();
    fake.status(status(Some("validating")));
    let _a = mount_with(fake.clone(), &[]);
    let _b = mount_as(42, fake.clone(), &[("session", "other")], false);
    settle().await;
    let sessions: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|r| r.call.is_long_poll())
        .map(|r| r.to.session)
        .collect();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
}

/// Records the `detail` of every `name` event on `target`.
fn record(target: &web_sys::HtmlElement, name: &str) -> Rc<std::cell::RefCell<Vec<JsValue>>> {
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let s = seen.clone();
    let cb = Closure::<dyn Fn(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
        s.borrow_mut().push(e.detail());
    });
    target
        .add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())
        .unwrap();
    cb.forget();
    seen
}
