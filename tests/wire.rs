//! The widget reads the proxy's JSON with `JSON.parse` (no serde_json in the wasm):
//! it must read every documented payload exactly as the model's serde impls do.
#![cfg(target_arch = "wasm32")]

use mend::client::{Answer, Call, error_for};
use mend::error::ClientError;
use mend_model::api::{
    CallbackRequest, CallbackResult, ConnectionStatus, ErrorCode, FieldProblem, RedirectKind,
    RedirectRequest, RedirectUrl,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DOCUMENTED: &str = r#"{
  "id": 104,
  "state": "additionalInformationNeeded",
  "message": "Enter the code sent to 06 •• •• •• 42",
  "fields": [{"name": "otp", "label": "Code", "type": "text", "required": true,
              "regex": "^[0-9]{6}$", "values": null, "description": null,
              "auth_mechanisms": null, "connector_sources": null}],
  "last_update": "2026-11-24T07:00:00Z",
  "next_try": null,
  "expire": "2026-11-25T11:34:00Z",
  "connector": "Banque Exemple",
  "sources": [{"name": "openapi", "state": "additionalInformationNeeded", "last_update": null}],
  "actions": ["submit"],
  "server_time": "2026-11-25T09:34:00Z"
}"#;

const EVERY_FIELD: &str = r#"{
  "id": 116, "state": "wrongPass", "actions": ["submit", "reconnect"],
  "fields": [
    {"name": "login", "label": "Customer number", "type": "text", "regex": "^\\d{8}$",
     "description": "8 digits", "auth_mechanisms": "credentials"},
    {"name": "pass", "type": "password", "required": true, "connector_sources": ["openapi", 3]},
    {"name": "birth", "label": "Date", "type": "date", "required": false},
    {"name": "kind", "label": "Type", "type": "list",
     "values": [{"label": "Personal", "value": "par"}, {"value": "pro"}]},
    {"name": "amount", "type": "number", "required": false},
    {"name": "token", "type": "hidden"},
    {"name": "weird", "type": 7}
  ],
  "sources": [{"name": "directaccess", "state": null}, {"name": "x", "state": "someFutureState"}],
  "extra_key": {"ignored": [1, 2.5e10, true]}
}"#;

const MINIMAL: &str = r#"{"id": 7, "state": null}"#;

fn both(text: &str) -> (ConnectionStatus, ConnectionStatus) {
    let by_serde: ConnectionStatus = serde_json::from_str(text).unwrap();
    let Ok(Answer::Status(by_widget)) = Call::Status { id: 1, wait: None }.parse(text) else {
        panic!("not read: {text}")
    };
    (by_widget, by_serde)
}

#[wasm_bindgen_test]
fn the_documented_status_reads_as_the_model_does() {
    let (a, b) = both(DOCUMENTED);
    assert_eq!(a, b);
}

#[wasm_bindgen_test]
fn every_field_type_and_lenient_values_read_as_the_model_does() {
    let (a, b) = both(EVERY_FIELD);
    assert_eq!(a, b);
    assert_eq!(a.state, Some(mend_model::ConnectionState::Wrongpass));
    assert_eq!(a.fields.len(), 7);
}

#[wasm_bindgen_test]
fn a_minimal_status_reads_as_the_model_does() {
    let (a, b) = both(MINIMAL);
    assert_eq!(a, b);
}

#[wasm_bindgen_test]
fn what_is_not_a_status_is_a_bad_answer() {
    let call = Call::Status { id: 1, wait: None };
    assert_eq!(call.parse("<html>"), Err(ClientError::BadAnswer));
    assert_eq!(
        call.parse(r#"{"state": null}"#),
        Err(ClientError::BadAnswer)
    );
    assert_eq!(call.parse("[1]"), Err(ClientError::BadAnswer));
}

#[wasm_bindgen_test]
fn redirect_and_callback_answers_read_as_the_model_does() {
    let text = r#"{"kind": "webauth", "url": "https://bank.example/auth?x=1"}"#;
    let call = Call::RedirectUrl {
        id: 1,
        kind: RedirectKind::Webauth,
        body: RedirectRequest::default(),
    };
    assert_eq!(
        call.parse(text),
        Ok(Answer::Redirect(
            serde_json::from_str::<RedirectUrl>(text).unwrap()
        ))
    );
    let text = format!(
        r#"{{"connection_id": 104, "kind": "reconnect", "outcome": "cancelled", "error": "access_denied", "status": {DOCUMENTED}}}"#
    );
    assert_eq!(
        Call::Callback(CallbackRequest::default()).parse(&text),
        Ok(Answer::Callback(
            serde_json::from_str::<CallbackResult>(&text).unwrap()
        ))
    );
}

#[wasm_bindgen_test]
fn error_answers_are_mapped_once() {
    let e = error_for(
        422,
        r#"{"error":{"code":"invalid_fields","message":"Some values were refused.","request_id":"x","fields":{"otp":"pattern","n":"too_long"}}}"#,
        None,
    );
    assert_eq!(e.code(), "invalid_fields");
    let ClientError::Api {
        fields, request_id, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(fields.get("otp"), Some(&FieldProblem::Pattern));
    assert_eq!(fields.get("n"), Some(&FieldProblem::TooLong));
    assert_eq!(request_id.as_deref(), Some("x"));
    let e = error_for(
        429,
        r#"{"error":{"code":"rate_limited","message":"Slow down","retry_after":12}}"#,
        None,
    );
    assert_eq!(e.retry_after(), Some(12));
    assert_eq!(e.api_code(), Some(&ErrorCode::RateLimited));
    assert_eq!(
        error_for(502, "Bad gateway", Some(3)).code(),
        "upstream_error"
    );
    assert_eq!(
        error_for(502, "Bad gateway", Some(3)).retry_after(),
        Some(3)
    );
    // A refusal with the connection's fresh status and the bank's words (docs/api.md).
    let e = error_for(
        422,
        r#"{"error":{"code":"bank_refused","message":"The bank could not complete this request.","status":{"id":7,"state":"websiteUnavailable","actions":[],"fields":[],"sources":[],"renew":false},"bank_message":"Le site de votre banque est momentanément indisponible"}}"#,
        None,
    );
    assert_eq!(e.api_code(), Some(&ErrorCode::BankRefused));
    assert_eq!(
        e.fresh()
            .map(|s| s.state.as_ref().map(|x| x.as_str().to_owned())),
        Some(Some("websiteUnavailable".to_owned()))
    );
    assert_eq!(
        e.bank_message(),
        Some("Le site de votre banque est momentanément indisponible")
    );
}
