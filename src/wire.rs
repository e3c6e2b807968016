//! The proxy's JSON, read and written without serde_json in the wasm.
//!
//! Why: serde_json's parser and the derived `Deserialize` impls cost about 11 KB gzip
//! of the element's wasm (BENCHMARKS.md, "Widget"). The browser already has a JSON
//! parser, so answers go through `JSON.parse` and the few fields the widget reads
//! are picked out here into the model's own types, as leniently as the model's serde
//! impls (unknown states and field types kept, `required` true by default).
//! `tests/wire.rs` checks that both readings agree on the documented payloads.
//! Bodies are small and flat: written by hand with a JSON string escaper.

use js_sys::Reflect;
use mend_model::api::{
    Action, CallbackOutcome, CallbackRequest, CallbackResult, ConnectionStatus, ErrorBody,
    ErrorCode, ErrorDetail, FieldProblem, FieldsSubmission, RedirectKind, RedirectRequest,
    RedirectUrl, SourceStatus,
};
use mend_model::{ConnectionState, ConnectorField, FieldType, FieldValue};
use std::collections::BTreeMap;
use wasm_bindgen::JsValue;

// ---- writing ---------------------------------------------------------------------

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object from `(key, JSON value)` pairs; `None` values are written `null`.
fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<String>)>) -> String {
    let body: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}:{}", string(k), v.unwrap_or_else(|| "null".into())))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(string)
}

/// `POST …/fields` body.
pub fn fields_body(b: &FieldsSubmission) -> String {
    let values = object(b.values.iter().map(|(k, v)| (k.as_str(), Some(string(v)))));
    object([("values", Some(values))])
}

/// `POST …/reconnect-url` and `…/webauth-url` body.
pub fn redirect_body(b: &RedirectRequest) -> String {
    object([
        ("redirect_uri", Some(string(&b.redirect_uri))),
        ("lang", opt(&b.lang)),
    ])
}

/// `POST /api/v1/callback` body.
pub fn callback_body(b: &CallbackRequest) -> String {
    object([
        ("state", opt(&b.state)),
        ("error", opt(&b.error)),
        ("error_description", opt(&b.error_description)),
        ("id_connection", opt(&b.id_connection)),
        ("connection_id", opt(&b.connection_id)),
    ])
}

// ---- reading ---------------------------------------------------------------------

/// `JSON.parse`, `None` for anything that isn't JSON.
pub fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn str_of(v: &JsValue, key: &str) -> Option<String> {
    get(v, key).as_string()
}

fn int_of(v: &JsValue, key: &str) -> Option<i64> {
    get(v, key)
        .as_f64()
        .filter(|n| n.fract() == 0.0 && n.is_finite())
        .map(|n| n as i64)
}

fn array_of(v: &JsValue, key: &str) -> Vec<JsValue> {
    let a = get(v, key);
    if js_sys::Array::is_array(&a) {
        js_sys::Array::from(&a).iter().collect()
    } else {
        Vec::new()
    }
}

fn state_of(v: &JsValue, key: &str) -> Option<ConnectionState> {
    str_of(v, key)
        .filter(|s| !s.is_empty())
        .map(|s| ConnectionState::parse(&s))
}

/// An action from its `data-action` / wire string.
pub fn action(s: &str) -> Option<Action> {
    Action::from_wire(s)
}

fn kind(v: &JsValue) -> Option<RedirectKind> {
    RedirectKind::from_wire(&str_of(v, "kind")?)
}

/// A string or a list of strings (`auth_mechanisms`, `connector_sources`).
fn strings(v: &JsValue, key: &str) -> Option<Vec<String>> {
    let x = get(v, key);
    if let Some(s) = x.as_string() {
        Some(vec![s])
    } else if js_sys::Array::is_array(&x) {
        Some(
            js_sys::Array::from(&x)
                .iter()
                .filter_map(|s| s.as_string())
                .collect(),
        )
    } else {
        None
    }
}

fn field(v: &JsValue) -> Option<ConnectorField> {
    let values = {
        let x = get(v, "values");
        js_sys::Array::is_array(&x).then(|| {
            js_sys::Array::from(&x)
                .iter()
                .filter_map(|o| {
                    Some(FieldValue {
                        value: str_of(&o, "value")?,
                        label: str_of(&o, "label").unwrap_or_default(),
                    })
                })
                .collect()
        })
    };
    Some(ConnectorField {
        name: str_of(v, "name")?,
        label: str_of(v, "label").unwrap_or_default(),
        kind: str_of(v, "type").map_or(FieldType::Text, |t| FieldType::parse(&t)),
        required: get(v, "required").as_bool().unwrap_or(true),
        regex: str_of(v, "regex"),
        values,
        description: str_of(v, "description"),
        auth_mechanisms: strings(v, "auth_mechanisms"),
        connector_sources: strings(v, "connector_sources"),
    })
}

/// A `ConnectionStatus`.
pub fn status(v: &JsValue) -> Option<ConnectionStatus> {
    Some(ConnectionStatus {
        id: int_of(v, "id")?,
        state: state_of(v, "state"),
        message: str_of(v, "message"),
        fields: array_of(v, "fields").iter().filter_map(field).collect(),
        last_update: str_of(v, "last_update"),
        next_try: str_of(v, "next_try"),
        expire: str_of(v, "expire"),
        connector: str_of(v, "connector"),
        sources: array_of(v, "sources")
            .iter()
            .filter_map(|s| {
                Some(SourceStatus {
                    name: str_of(s, "name")?,
                    state: state_of(s, "state"),
                    last_update: str_of(s, "last_update"),
                    access_expire: str_of(s, "access_expire"),
                })
            })
            .collect(),
        actions: array_of(v, "actions")
            .iter()
            .filter_map(|a| action(&a.as_string()?))
            .collect(),
        server_time: str_of(v, "server_time"),
        access_expire: str_of(v, "access_expire"),
        renew: get(v, "renew").as_bool().unwrap_or(false),
    })
}

/// `GET /api/v1/connections` answer: the connections it could read (one the widget
/// can't read is left out, as a status it can't read is refused).
pub fn list(v: &JsValue) -> Option<Vec<ConnectionStatus>> {
    let items = get(v, "connections");
    js_sys::Array::is_array(&items).then(|| {
        js_sys::Array::from(&items)
            .iter()
            .filter_map(|s| status(&s))
            .collect()
    })
}

/// `POST …/reconnect-url` and `…/webauth-url` answer.
pub fn redirect(v: &JsValue) -> Option<RedirectUrl> {
    Some(RedirectUrl {
        kind: kind(v)?,
        url: str_of(v, "url")?,
    })
}

/// A `CallbackResult`.
pub fn callback(v: &JsValue) -> Option<CallbackResult> {
    Some(CallbackResult {
        connection_id: int_of(v, "connection_id")?,
        kind: kind(v)?,
        outcome: CallbackOutcome::from_wire(&str_of(v, "outcome")?)
            .unwrap_or(CallbackOutcome::Failed),
        error: str_of(v, "error"),
        status: status(&get(v, "status"))?,
    })
}

fn problem(s: &str) -> Option<FieldProblem> {
    FieldProblem::from_wire(s)
}

/// An `ErrorBody` (`{"error": {...}}`).
pub fn error(v: &JsValue) -> Option<ErrorBody> {
    let e = get(v, "error");
    let fields = get(&e, "fields");
    let fields = fields.is_object().then(|| {
        // Inserts, not `collect()`: a collected BTreeMap sorts, which costs wasm.
        let mut map = BTreeMap::new();
        for pair in js_sys::Object::entries(fields.unchecked_ref()).iter() {
            let pair = js_sys::Array::from(&pair);
            if let (Some(name), Some(p)) = (
                pair.get(0).as_string(),
                pair.get(1).as_string().as_deref().and_then(problem),
            ) {
                map.insert(name, p);
            }
        }
        map
    });
    Some(ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::parse(&str_of(&e, "code")?),
            message: str_of(&e, "message").unwrap_or_default(),
            request_id: str_of(&e, "request_id"),
            fields,
            retry_after: int_of(&e, "retry_after").and_then(|n| u64::try_from(n).ok()),
            status: status(&get(&e, "status")).map(Box::new),
            bank_message: str_of(&e, "bank_message"),
        },
    })
}

use wasm_bindgen::JsCast;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_the_documented_json() {
        let mut values = BTreeMap::new();
        values.insert("otp".to_owned(), "12\"3\n".to_owned());
        assert_eq!(
            fields_body(&FieldsSubmission { values }),
            r#"{"values":{"otp":"12\"3\n"}}"#
        );
        assert_eq!(
            redirect_body(&RedirectRequest {
                redirect_uri: "https://a/b".into(),
                lang: None
            }),
            r#"{"redirect_uri":"https://a/b","lang":null}"#
        );
        assert_eq!(
            callback_body(&CallbackRequest {
                state: Some("s".into()),
                ..Default::default()
            }),
            r#"{"state":"s","error":null,"error_description":null,"id_connection":null,"connection_id":null}"#
        );
        assert_eq!(string("\u{1}é"), "\"\\u0001é\"");
    }

    #[test]
    fn hand_written_bodies_read_back_as_the_model() {
        let mut values = BTreeMap::new();
        values.insert("a\\b".to_owned(), "\t\u{7}".to_owned());
        let b = FieldsSubmission { values };
        assert_eq!(
            serde_json::from_str::<FieldsSubmission>(&fields_body(&b)).unwrap(),
            b
        );
        let r = RedirectRequest {
            redirect_uri: "https://app.example/r?x=\"1\"".into(),
            lang: Some("fr".into()),
        };
        assert_eq!(
            serde_json::from_str::<RedirectRequest>(&redirect_body(&r)).unwrap(),
            r
        );
        let c = CallbackRequest {
            state: Some("s".into()),
            error: Some("access_denied".into()),
            error_description: None,
            id_connection: Some("42".into()),
            connection_id: None,
        };
        assert_eq!(
            serde_json::from_str::<CallbackRequest>(&callback_body(&c)).unwrap(),
            c
        );
    }
}
