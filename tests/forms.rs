//! Forms built from `fields`: every type, checks before sending (required, `RegExp`,
//! lists), no double submission, the proxy's and the bank's refusals.
#![cfg(target_arch = "wasm32")]

mod common;
use common::*;
use mend::client::Call;
use mend_model::ConnectorField;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn form(fields: Vec<ConnectorField>) -> Mounted {
    let mut s = status(Some("additionalInformationNeeded"));
    s.fields = fields;
    let m = mount_status(s);
    settle().await;
    m
}

fn submitted(m: &Mounted) -> Vec<Call> {
    m.fake
        .requests()
        .into_iter()
        .filter(|c| matches!(c, Call::Fields { .. }))
        .collect()
}

#[wasm_bindgen_test]
async fn every_field_type_gets_its_control() {
    let mut list = field("account", "list");
    list.values = Some(vec![choice("Checking", "chk"), choice("", "sav")]);
    let mut otp = field("otp", "text");
    otp.regex = Some("^[0-9]{6}$".into());
    let mut help = field("login", "text");
    help.description = Some("Your 8-digit customer number".into());
    let m = form(vec![
        help,
        field("secret", "password"),
        field("birthday", "date"),
        list,
        field("amount", "number"),
        field("legacy", "hidden"),
        otp,
    ])
    .await;
    let attr = |sel: &str, a: &str| m.q(sel).unwrap().get_attribute(a);
    assert_eq!(attr("input[name=login]", "type").as_deref(), Some("text"));
    assert_eq!(m.text("label[for=mend-f0]").trim(), "Label login");
    assert_eq!(
        attr("input[name=login]", "aria-describedby").as_deref(),
        Some("mend-f0-help mend-f0-err"),
        "its description, and its error line (empty while the value is fine)"
    );
    assert_eq!(m.text("#mend-f0-err"), "");
    assert_eq!(m.text("#mend-f0-help"), "Your 8-digit customer number");
    assert_eq!(
        attr("input[name=secret]", "type").as_deref(),
        Some("password")
    );
    assert_eq!(
        attr("input[name=secret]", "autocomplete").as_deref(),
        Some("current-password")
    );
    assert_eq!(
        attr("input[name=birthday]", "type").as_deref(),
        Some("date")
    );
    let options: Vec<_> = m
        .all("select[name=account] option")
        .iter()
        .map(|o| (o.get_attribute("value").unwrap(), o.text_content().unwrap()))
        .collect();
    assert_eq!(
        options,
        [
            ("".into(), "Choose…".into()),
            ("chk".into(), "Checking".into()),
            ("sav".into(), "sav".into())
        ]
    );
    assert_eq!(
        attr("input[name=amount]", "inputmode").as_deref(),
        Some("decimal")
    );
    assert_eq!(attr("input[name=legacy]", "type").as_deref(), Some("text"));
    assert_eq!(
        attr("input[name=otp]", "autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        attr("input[name=otp]", "inputmode").as_deref(),
        Some("numeric")
    );
    assert!(m.q("form[novalidate]").is_some());
}

#[wasm_bindgen_test]
async fn required_fields_are_checked_before_sending() {
    let m = form(vec![field("otp", "text")]).await;
    m.click("[data-action=submit]");
    settle().await;
    assert!(submitted(&m).is_empty(), "nothing sent");
    let input = m.q("input[name=otp]").unwrap();
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(
        input.get_attribute("aria-describedby").as_deref(),
        Some("mend-f0-err")
    );
    let err = m.q("#mend-f0-err").unwrap();
    assert_eq!(err.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(err.text_content().unwrap(), "Please fill this in.");
}

#[wasm_bindgen_test]
async fn patterns_are_checked_with_the_browser_s_regexp() {
    let mut otp = field("otp", "text");
    otp.regex = Some(r"^\d{6}$".into());
    let m = form(vec![otp]).await;
    m.type_into("input[name=otp]", "12a456");
    m.click("[data-action=submit]");
    settle().await;
    assert!(submitted(&m).is_empty());
    assert_eq!(
        m.text("#mend-f0-err"),
        "This doesn't have the expected format."
    );
    m.fake.status(status(None));
    m.type_into("input[name=otp]", "123456");
    m.click("[data-action=submit]");
    settle().await;
    let sent = submitted(&m);
    assert_eq!(sent.len(), 1);
    let Call::Fields { body, .. } = &sent[0] else {
        unreachable!()
    };
    assert_eq!(body.values.get("otp").map(String::as_str), Some("123456"));
    assert_eq!(m.data_state(), "ok", "the answer is handled like any state");
}

#[wasm_bindgen_test]
async fn an_uncompilable_pattern_is_left_to_the_proxy() {
    let mut f = field("code", "text");
    f.regex = Some("(?<=PCRE only".into());
    let m = form(vec![f]).await;
    m.type_into("input[name=code]", "anything");
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(submitted(&m).len(), 1);
}

#[wasm_bindgen_test]
async fn list_values_are_sent_by_value() {
    let mut list = field("account", "list");
    list.values = Some(vec![choice("Checking", "chk"), choice("Savings", "sav")]);
    let mut note = field("note", "text");
    note.required = false;
    let m = form(vec![list, note]).await;
    m.type_into("select[name=account]", "sav");
    m.click("[data-action=submit]");
    settle().await;
    let sent = submitted(&m);
    let Call::Fields { body, .. } = &sent[0] else {
        panic!("not sent")
    };
    assert_eq!(body.values.len(), 1, "empty optional values are not sent");
    assert_eq!(body.values["account"], "sav");
}

#[wasm_bindgen_test]
async fn clicking_twice_submits_once_and_the_button_waits() {
    let m = form(vec![field("otp", "text")]).await;
    m.type_into("input[name=otp]", "123456");
    m.fake.hang(mend::client::Kind::Action);
    m.click("[data-action=submit]");
    m.click("[data-action=submit]");
    settle().await;
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(submitted(&m).len(), 1);
    let button = m.q("[data-action=submit]").unwrap();
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
    assert_eq!(
        button.get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    assert!(!button.has_attribute("disabled"));
    assert_eq!(button.get_attribute("aria-busy").as_deref(), Some("true"));
    assert_eq!(button.text_content().unwrap().trim(), "Sending…");
}

#[wasm_bindgen_test]
async fn credentials_rejected_is_shown_and_recoverable() {
    let mut s = status(Some("wrongpass"));
    s.fields = vec![field("login", "text"), field("password", "password")];
    let m = mount_status(s);
    settle().await;
    m.type_into("input[name=login]", "jo");
    m.type_into("input[name=password]", "bad");
    m.fake.answer(Err(api_error("credentials_rejected")));
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(
        m.text(".mend__notice-text"),
        "Your bank refused these details. Check them and try again."
    );
    assert_eq!(
        m.q(".mend__notice")
            .unwrap()
            .get_attribute("role")
            .as_deref(),
        Some("alert")
    );
    assert_eq!(m.data_state(), "wrongpass");
    let login: web_sys::HtmlInputElement = m.q("input[name=login]").unwrap().unchecked_into();
    assert_eq!(login.value(), "jo", "what was typed is kept");
    m.fake.status(status(None));
    m.type_into("input[name=password]", "good");
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(submitted(&m).len(), 2);
    assert_eq!(m.data_state(), "ok");
}

#[wasm_bindgen_test]
async fn the_proxy_s_field_problems_are_shown_inline() {
    let m = form(vec![field("otp", "text")]).await;
    m.type_into("input[name=otp]", "1");
    m.fake.answer(Err(mend::client::error_for(
        422,
        r#"{"error":{"code":"invalid_fields","message":"Some values were refused.","fields":{"otp":"too_long"}}}"#,
        None,
    )));
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(m.text("#mend-f0-err"), "This is too long.");
    assert_eq!(m.text(".mend__notice-text"), "Some values need fixing.");
}

#[wasm_bindgen_test]
async fn focus_goes_to_the_first_invalid_field() {
    let m = form(vec![field("login", "text"), field("otp", "text")]).await;
    m.type_into("input[name=login]", "jo");
    let submit: web_sys::HtmlElement = m.q("[data-action=submit]").unwrap().unchecked_into();
    submit.focus().unwrap();
    m.click("[data-action=submit]");
    settle().await;
    wait_ms(100).await; // focus moves on the next animation frame
    let active = m
        .shadow
        .active_element()
        .expect("focus stays in the widget");
    assert_eq!(active.get_attribute("name").as_deref(), Some("otp"));
}

#[wasm_bindgen_test]
async fn a_slow_bank_is_said_calmly_and_the_code_is_not_sent_again() {
    let m = form(vec![field("otp", "text")]).await;
    m.type_into("input[name=otp]", "123456");
    m.fake.hang(mend::client::Kind::Action);
    m.click("[data-action=submit]");
    settle().await;
    assert!(m.q("[data-slow]").is_none(), "not at once");
    wait_ms(mend::state::SLOW_AFTER_MS as i32 + 1500).await;
    let said = mend::i18n::EN.slow_bank;
    assert_eq!(m.text("[data-slow]"), said);
    assert_eq!(m.text(".mend__live"), said, "announced in the live region");
    let button = m.q("[data-action=submit]").unwrap();
    assert_eq!(button.get_attribute("aria-busy").as_deref(), Some("true"));
    m.click("[data-action=submit]");
    settle().await;
    assert_eq!(submitted(&m).len(), 1, "never a second POST");
    assert_eq!(m.host.get_attribute("data-phase").as_deref(), Some("busy"));
}

#[wasm_bindgen_test]
async fn a_submission_the_proxy_gave_up_on_is_followed_by_a_read_not_an_outage() {
    let mut s = status(Some("additionalInformationNeeded"));
    s.fields = vec![field("otp", "text")];
    let m = mount_status(s.clone());
    settle().await;
    m.type_into("input[name=otp]", "123456");
    m.fake
        .answer_to(
            mend::client::Kind::Action,
            Err(api_error("upstream_timeout")),
        )
        .answer_to(mend::client::Kind::Get, Ok(mend::client::Answer::Status(s)));
    m.click("[data-action=submit]");
    settle().await;
    let calls = m.fake.requests();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(matches!(calls[1], Call::Fields { .. }));
    assert!(
        matches!(calls[2], Call::Status { wait: None, .. }),
        "read again"
    );
    assert!(m.q("[data-panel=unavailable]").is_none(), "no outage");
    assert_eq!(
        m.host.get_attribute("data-phase").as_deref(),
        Some("showing")
    );
    assert_eq!(m.data_state(), "additionalInformationNeeded");
    assert_eq!(m.text(".mend__notice-text"), mend::i18n::EN.unanswered);
    assert!(m.q("[data-slow]").is_none());
    assert!(
        m.q("[data-action=submit]")
            .unwrap()
            .get_attribute("aria-disabled")
            .is_none(),
        "the form can be sent again"
    );
}
