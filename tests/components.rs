//! Each component on its own, mounted into a fresh element with plain data, signals
//! and recording callbacks: what it renders (`data-*` hooks, ARIA), what it calls
//! back, and that a change of its signals touches only its own nodes.
#![cfg(target_arch = "wasm32")]

mod common;
use common::{choice, field, settle};
use leptos::prelude::*;
use mend::components::form::{Field, FormPanel};
use mend::components::panels::{ApprovalPanel, NoticePanel, RedirectPanel, UnavailablePanel};
use mend::components::parts::{
    ActionButton, Actions, Banner, Countdown, NoticeBar, PanelHead, SourceList, Spinner,
};
use mend::i18n::EN;
use mend::panel::{Button, Dated, Head, Progress, Source};
use mend_model::api::{Action, FieldProblem};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A component mounted in a fresh `<div>` of the document; removed on drop.
struct Mounted {
    root: web_sys::HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

fn mount<V: IntoView + 'static>(f: impl FnOnce() -> V + 'static) -> Mounted {
    let doc = common::document();
    let root: web_sys::HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), f);
    Mounted {
        root,
        _handle: Box::new(handle),
    }
}

impl Mounted {
    fn q(&self, sel: &str) -> Option<web_sys::Element> {
        self.root.query_selector(sel).unwrap()
    }
    fn get(&self, sel: &str) -> web_sys::Element {
        self.q(sel).unwrap_or_else(|| panic!("no {sel}"))
    }
    fn attr(&self, sel: &str, name: &str) -> Option<String> {
        self.get(sel).get_attribute(name)
    }
    fn count(&self, sel: &str) -> u32 {
        self.root.query_selector_all(sel).unwrap().length()
    }
    fn click(&self, sel: &str) {
        self.get(sel)
            .unchecked_into::<web_sys::HtmlElement>()
            .click();
    }
    /// Every element, in document order: to check that nothing was replaced.
    fn nodes(&self) -> Vec<web_sys::Element> {
        let all = self.root.query_selector_all("*").unwrap();
        (0..all.length())
            .filter_map(|i| all.item(i)?.dyn_into().ok())
            .collect()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

fn head(tone: &'static str) -> Head {
    Head {
        tone,
        bank: Some("Banque".into()),
        title: "Title",
        message: Some("The bank says".into()),
        body: Some("Body"),
    }
}

fn button(action: Action, primary: bool) -> Button {
    Button {
        action,
        label: "Go",
        primary,
    }
}

/// A callback that records what it is called with.
fn recorder<T: Send + Sync + 'static>() -> (Callback<T>, RwSignal<Vec<T>>) {
    let seen = RwSignal::new(Vec::new());
    (Callback::new(move |x| seen.update(|v| v.push(x))), seen)
}

#[wasm_bindgen_test]
async fn action_button_follows_the_busy_flag_without_being_replaced() {
    let flag = RwSignal::new(None);
    let (on_action, seen) = recorder();
    let m = mount(move || {
        let busy = Memo::new(move |_| flag.get());
        view! { <ActionButton button=button(Action::Sync, true) busy on_action/> }
    });
    let b = m.get("button");
    assert_eq!(b.get_attribute("data-action").as_deref(), Some("sync"));
    assert_eq!(b.get_attribute("type").as_deref(), Some("button"));
    assert!(b.class_list().contains("mend__btn--primary"));
    assert_eq!(b.get_attribute("aria-disabled"), None);
    m.click("button");
    assert_eq!(seen.get_untracked(), [Action::Sync]);
    flag.set(Some(Action::Reconnect));
    settle().await;
    assert_eq!(m.attr("button", "aria-disabled").as_deref(), Some("true"));
    assert_eq!(
        m.attr("button", "aria-busy"),
        None,
        "another action is in flight"
    );
    assert!(!b.has_attribute("disabled"), "stays focusable");
    flag.set(Some(Action::Sync));
    settle().await;
    assert_eq!(m.attr("button", "aria-busy").as_deref(), Some("true"));
    flag.set(None);
    settle().await;
    assert_eq!(m.attr("button", "aria-disabled"), None);
    assert_eq!(m.get("button"), b, "the same node throughout");
}

#[wasm_bindgen_test]
async fn actions_keep_their_order_and_render_nothing_when_empty() {
    let (on_action, seen) = recorder();
    let m = mount(move || {
        view! {
            <Actions buttons=vec![button(Action::Webauth, true), button(Action::Reconnect, false)]
                busy=Memo::new(|_| None) on_action/>
        }
    });
    let actions: Vec<_> = (0..2)
        .map(|i| {
            m.root
                .query_selector_all("[data-action]")
                .unwrap()
                .item(i)
                .unwrap()
                .unchecked_into::<web_sys::Element>()
                .get_attribute("data-action")
                .unwrap()
        })
        .collect();
    assert_eq!(actions, ["webauth", "reconnect"]);
    assert_eq!(m.attr(".mend__actions", "part").as_deref(), Some("actions"));
    m.click("[data-action=reconnect]");
    assert_eq!(seen.get_untracked(), [Action::Reconnect]);
    let (on_action, _) = recorder();
    let empty =
        mount(move || view! { <Actions buttons=vec![] busy=Memo::new(|_| None) on_action/> });
    assert_eq!(empty.count("*"), 0);
}

#[wasm_bindgen_test]
async fn panel_head_renders_powens_strings_as_text_and_a_focusable_heading() {
    let m = mount(|| {
        view! {
            <PanelHead head=Head {
                tone: "alert",
                bank: Some("<b>Bank</b>".into()),
                title: "Title",
                message: Some("<img src=x onerror=alert(1)>".into()),
                body: None,
            }/>
        }
    });
    assert_eq!(m.get(".mend__bank").text_content().unwrap(), "<b>Bank</b>");
    assert_eq!(m.count("b, img"), 0, "never HTML");
    assert_eq!(m.attr(".mend__title", "tabindex").as_deref(), Some("-1"));
    assert_eq!(m.attr(".mend__message", "part").as_deref(), Some("message"));
    assert_eq!(m.count(".mend__text"), 0, "no body, no paragraph");
}

#[wasm_bindgen_test]
async fn countdown_ticks_only_its_bar_and_clock() {
    let now = RwSignal::new(0.0);
    let m = mount(move || {
        view! { <Countdown started=0.0 deadline=300_000.0 now label="Left:"/> }
    });
    let before = m.nodes();
    assert_eq!(m.attr("progress", "max").as_deref(), Some("300"));
    assert_eq!(m.attr("progress", "value").as_deref(), Some("0"));
    assert_eq!(m.get(".mend__clock").text_content().unwrap(), "5:00");
    now.set(61_000.0);
    settle().await;
    assert_eq!(m.attr("progress", "value").as_deref(), Some("61"));
    assert_eq!(m.get(".mend__clock").text_content().unwrap(), "3:59");
    assert_eq!(m.nodes(), before, "no element replaced by a tick");
    now.set(400_000.0);
    settle().await;
    assert_eq!(m.get(".mend__clock").text_content().unwrap(), "0:00");
    assert_eq!(m.attr("progress", "aria-label").as_deref(), Some("Left:"));
}

#[wasm_bindgen_test]
async fn spinner_is_an_indeterminate_named_bar() {
    let m = mount(|| view! { <Spinner label="Checking"/> });
    assert_eq!(
        m.attr("progress", "aria-label").as_deref(),
        Some("Checking")
    );
    assert!(!m.get("progress").has_attribute("value"), "indeterminate");
}

#[wasm_bindgen_test]
async fn source_list_names_each_source_with_its_state() {
    let m = mount(|| {
        view! {
            <SourceList t=&EN sources=vec![Source {
                name: "directaccess".into(),
                state: "bug".into(),
                label: "will be retried",
            }]/>
        }
    });
    assert_eq!(m.attr("li", "data-state").as_deref(), Some("bug"));
    assert_eq!(
        m.get(".mend__source-name").text_content().unwrap(),
        "directaccess"
    );
    let empty = mount(|| view! { <SourceList t=&EN sources=vec![]/> });
    assert_eq!(empty.count("*"), 0);
}

#[wasm_bindgen_test]
async fn notice_bar_is_a_status_or_an_alert_and_dismisses() {
    let (on_action, seen) = recorder();
    let m = mount(move || view! { <NoticeBar text="Done" ok=true dismiss="Close" on_action/> });
    assert_eq!(m.attr(".mend__notice", "role").as_deref(), Some("status"));
    assert_eq!(m.attr(".mend__notice", "data-tone").as_deref(), Some("ok"));
    m.click("[data-action=dismiss]");
    assert_eq!(seen.get_untracked(), [Action::Dismiss]);
    let (on_action, _) = recorder();
    let bad = mount(move || view! { <NoticeBar text="No" ok=false dismiss="Close" on_action/> });
    assert_eq!(bad.attr(".mend__notice", "role").as_deref(), Some("alert"));
    assert_eq!(
        bad.count("[part=bank-message]"),
        0,
        "no bank words, no line"
    );
}

#[wasm_bindgen_test]
async fn notice_bar_quotes_the_bank_s_own_words_as_text() {
    let (on_action, _) = recorder();
    let m = mount(move || {
        view! {
            <NoticeBar text="Refused" ok=false bank=Some("<b>Code faux</b>".to_owned())
                says="Your bank says:" dismiss="Close" on_action/>
        }
    });
    let line = m.get(".mend__notice [part=bank-message]");
    assert!(line.text_content().unwrap().starts_with("Your bank says:"));
    assert_eq!(
        m.get("[part=bank-message] q").text_content().unwrap(),
        "<b>Code faux</b>"
    );
    assert_eq!(m.count("b"), 0, "never HTML");
    assert_eq!(m.attr(".mend__notice", "role").as_deref(), Some("alert"));
}

#[wasm_bindgen_test]
async fn banner_says_the_state_and_toggles() {
    let open = RwSignal::new(false);
    let m = mount(move || view! { <Banner title=|| "State" open t=RwSignal::new(&EN)/> });
    assert_eq!(m.get(".mend__banner-text").text_content().unwrap(), "State");
    assert_eq!(m.attr("button", "aria-expanded").as_deref(), Some("false"));
    let b = m.get("button");
    m.click("button");
    settle().await;
    assert_eq!(m.attr("button", "aria-expanded").as_deref(), Some("true"));
    assert_eq!(m.get("button"), b);
}

#[wasm_bindgen_test]
async fn field_problems_update_only_the_field_s_own_nodes() {
    let shown = RwSignal::new(None);
    let (on_input, typed) = recorder();
    let mut f = field("otp", "text");
    f.description = Some("Six digits".into());
    let m = mount(move || {
        let problem = Memo::new(move |_| shown.get());
        view! { <Field field=f index=3 new_password=false value="12".into() problem t=&EN on_input/> }
    });
    let input: web_sys::HtmlInputElement = m.get("input").unchecked_into();
    assert_eq!(input.id(), "mend-f3");
    assert_eq!(input.value(), "12");
    assert_eq!(
        m.attr("input", "autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(m.attr("label", "for").as_deref(), Some("mend-f3"));
    assert_eq!(
        m.attr("input", "aria-describedby").as_deref(),
        Some("mend-f3-help mend-f3-err"),
        "the error line is always there, empty while the value is fine"
    );
    assert_eq!(m.get("#mend-f3-err").text_content().unwrap(), "");
    assert_eq!(m.attr("input", "aria-invalid"), None);
    let before = m.nodes();
    input.focus().unwrap();
    input.set_value("123");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    assert_eq!(
        typed.get_untracked(),
        [("otp".to_owned(), "123".to_owned())]
    );
    shown.set(Some(FieldProblem::Pattern));
    settle().await;
    assert_eq!(m.attr("input", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        m.attr("input", "aria-describedby").as_deref(),
        Some("mend-f3-help mend-f3-err")
    );
    assert_eq!(m.attr("#mend-f3-err", "role").as_deref(), Some("alert"));
    assert_ne!(m.get("#mend-f3-err").text_content().unwrap(), "");
    assert_eq!(m.nodes(), before, "a problem only fills its line");
    assert_eq!(
        m.get("input"),
        input.clone().unchecked_into::<web_sys::Element>()
    );
    assert_eq!(input.value(), "123", "what was typed stays");
    assert_eq!(
        common::document().active_element().as_ref(),
        Some(input.unchecked_ref::<web_sys::Element>()),
        "focus stays in the field"
    );
    shown.set(None);
    settle().await;
    assert_eq!(m.get("#mend-f3-err").text_content().unwrap(), "");
    assert_eq!(m.attr("input", "aria-invalid"), None);
}

#[wasm_bindgen_test]
async fn a_list_field_is_a_select_with_an_empty_first_choice() {
    let mut f = field("account", "list");
    f.values = Some(vec![choice("Savings", "sav"), choice("", "cur")]);
    f.required = false;
    let (on_input, _) = recorder();
    let m = mount(move || {
        view! {
            <Field field=f index=0 new_password=false value="cur".into()
                problem=Memo::new(|_| None) t=&EN on_input/>
        }
    });
    let select: web_sys::HtmlSelectElement = m.get("select").unchecked_into();
    assert_eq!(m.count("option"), 3);
    assert_eq!(select.value(), "cur");
    assert_eq!(m.attr(".mend__field", "data-type").as_deref(), Some("list"));
    assert_eq!(m.count(".mend__optional"), 1);
    assert_eq!(m.attr("select", "aria-required"), None);
}

fn form_panel(
    flag: RwSignal<Option<Action>>,
    errors: RwSignal<BTreeMap<String, FieldProblem>>,
    on_action: Callback<Action>,
) -> Mounted {
    let (on_input, _) = recorder();
    let problem = move |name: &str| errors.with(|e| e.get(name).copied());
    mount(move || {
        let busy = Memo::new(move |_| flag.get());
        view! {
            <FormPanel head=head("alert") fields=vec![field("login", "text"), field("password", "password")]
                new_password=true buttons=vec![button(Action::Reconnect, false)] sources=vec![] t=&EN
                values=BTreeMap::new() problem busy on_input on_action/>
        }
    })
}

#[wasm_bindgen_test]
async fn form_panel_sends_on_submit_and_its_button_follows_the_busy_flag() {
    let busy = RwSignal::new(None);
    let errors = RwSignal::new(BTreeMap::new());
    let (on_action, sent) = recorder();
    let m = form_panel(busy, errors, on_action);
    assert_eq!(m.attr("article", "data-panel").as_deref(), Some("form"));
    assert_eq!(m.attr("form", "novalidate").as_deref(), Some(""));
    assert_eq!(
        m.attr("input[name=password]", "autocomplete").as_deref(),
        Some("new-password")
    );
    let before = m.nodes();
    m.click("[data-action=submit]");
    assert_eq!(
        sent.get_untracked(),
        [Action::Submit],
        "the form's submit event, once"
    );
    busy.set(Some(Action::Submit));
    settle().await;
    assert_eq!(
        m.attr("[data-action=submit]", "aria-busy").as_deref(),
        Some("true")
    );
    assert_eq!(
        m.attr("[data-action=reconnect]", "aria-disabled")
            .as_deref(),
        Some("true")
    );
    assert_eq!(m.nodes(), before, "a busy flag replaces nothing");
    errors.set([("password".to_owned(), FieldProblem::Required)].into());
    settle().await;
    assert_eq!(
        m.attr("input[name=password]", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(m.attr("input[name=login]", "aria-invalid"), None);
    assert_ne!(m.get("#mend-f1-err").text_content().unwrap(), "");
    assert_eq!(m.get("#mend-f0-err").text_content().unwrap(), "");
    assert_eq!(
        m.nodes(),
        before,
        "a field error fills its line and nothing else changes"
    );
}

#[wasm_bindgen_test]
async fn approval_panel_shows_a_spinner_or_the_countdown() {
    let (on_action, seen) = recorder();
    let now = RwSignal::new(0.0);
    let m = mount(move || {
        view! {
            <ApprovalPanel head=head("alert") progress=Progress::Countdown { started: 0.0, deadline: 120_000.0 }
                buttons=vec![button(Action::Resume, true)] sources=vec![] t=&EN
                busy=Memo::new(|_| None) now on_action/>
        }
    });
    assert_eq!(m.attr("article", "data-panel").as_deref(), Some("approval"));
    assert_eq!(m.attr("article", "data-tone").as_deref(), Some("alert"));
    assert_eq!(m.get(".mend__clock").text_content().unwrap(), "2:00");
    m.click("[data-action=resume]");
    assert_eq!(seen.get_untracked(), [Action::Resume]);
    let (on_action, _) = recorder();
    let spin = mount(move || {
        view! {
            <ApprovalPanel head=head("progress") progress=Progress::Spinner("Checking")
                buttons=vec![] sources=vec![] t=&EN busy=Memo::new(|_| None) now=RwSignal::new(0.0) on_action/>
        }
    });
    assert_eq!(spin.count(".mend__clock"), 0);
    assert_eq!(
        spin.attr("progress", "aria-label").as_deref(),
        Some("Checking")
    );
    assert_eq!(
        spin.count("[data-action]"),
        0,
        "nothing to click while checking"
    );
}

#[wasm_bindgen_test]
async fn redirect_panel_offers_its_ways_main_one_first() {
    let (on_action, seen) = recorder();
    let m = mount(move || {
        view! {
            <RedirectPanel head=head("alert") buttons=vec![button(Action::Webauth, true), button(Action::Reconnect, false)]
                sources=vec![Source { name: "openapi".into(), state: "SCARequired".into(), label: "needs attention" }]
                t=&EN busy=Memo::new(|_| None) on_action/>
        }
    });
    assert_eq!(m.attr("article", "data-panel").as_deref(), Some("redirect"));
    assert!(
        m.get("[data-action=webauth]")
            .class_list()
            .contains("mend__btn--primary")
    );
    assert_eq!(m.attr("li", "data-state").as_deref(), Some("SCARequired"));
    m.click("[data-action=webauth]");
    assert_eq!(seen.get_untracked(), [Action::Webauth]);
}

#[wasm_bindgen_test]
async fn notice_panel_dates_go_through_intl_in_the_widget_s_language() {
    let (on_action, _) = recorder();
    let m = mount(move || {
        view! {
            <NoticePanel head=head("ok") dates=vec![Dated { label: "Last updated:", iso: "2026-11-24T07:00:00Z".into() }]
                progress=None buttons=vec![button(Action::Sync, false)] sources=vec![] t=&EN
                busy=Memo::new(|_| None) on_action/>
        }
    });
    assert_eq!(m.attr("article", "data-panel").as_deref(), Some("notice"));
    let time = m.get("time");
    assert_eq!(
        time.get_attribute("datetime").as_deref(),
        Some("2026-11-24T07:00:00Z")
    );
    let shown = time.text_content().unwrap();
    assert!(shown.contains("2026") && shown.contains("Nov"), "{shown}");
    assert_eq!(m.count("progress"), 0);
}

#[wasm_bindgen_test]
async fn unavailable_panel_counts_down_to_the_next_try() {
    let (on_action, _) = recorder();
    let now = RwSignal::new(0.0);
    let retry_at = RwSignal::new(Some(5_000.0));
    let m = mount(move || {
        view! {
            <UnavailablePanel head=head("calm") buttons=vec![button(Action::Retry, false)] t=&EN
                retry_at=move || retry_at.get() now busy=Memo::new(|_| None) on_action/>
        }
    });
    assert_eq!(
        m.attr("article", "data-panel").as_deref(),
        Some("unavailable")
    );
    let line = m.get(".mend__retry");
    assert_eq!(line.text_content().unwrap(), "Next try in 5s");
    now.set(3_000.0);
    settle().await;
    assert_eq!(line.text_content().unwrap(), "Next try in 2s");
    retry_at.set(None);
    settle().await;
    assert_eq!(line.text_content().unwrap(), EN.retrying);
    assert_eq!(m.get(".mend__retry"), line);
}
