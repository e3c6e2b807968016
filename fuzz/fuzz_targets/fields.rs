//! Field validation (`mend_proxy::fields::check`) against arbitrary `fields` and
//! values, with an oracle for what is sent to Powens.
//!
//! Oracles: nothing panics; what the proxy would send is only the normalised values of
//! fields Powens asked for (no reserved key, no surrounding white space outside
//! passwords, within the length cap), a `number` is decimal digits, a `date` a real
//! `yyyy-mm-dd`, a `list` value one of its choices; and wherever the proxy checks a
//! pattern, its verdict is JavaScript's (`regress`, an ECMAScript engine, with the
//! `u` flag the widget's `new RegExp(pattern, "u")` uses): a value it accepts
//! satisfies the pattern, a value it refuses for the pattern does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend_model::api::FieldProblem;
use mend_model::fields::{MAX_VALUE_LEN, RESERVED_KEYS, is_decimal, is_iso_date, normalise};
use mend_model::{ConnectorField, FieldType};
use std::collections::BTreeMap;

/// The JSON form: Powens' `fields` as the model reads them, and the submitted values.
#[derive(serde::Deserialize)]
struct Submission {
    fields: Vec<ConnectorField>,
    #[serde(default)]
    values: BTreeMap<String, String>,
}

fn kind(k: u8) -> FieldType {
    match k % 6 {
        0 => FieldType::Text,
        1 => FieldType::Password,
        2 => FieldType::Date,
        3 => FieldType::List,
        4 => FieldType::Number,
        _ => FieldType::Other("hidden".into()),
    }
}

/// JavaScript's `new RegExp(pattern, "u").test(value)`; `None` if it does not compile
/// or the input is too long for a backtracking oracle to be quick.
fn javascript(pattern: &str, value: &str) -> Option<bool> {
    if pattern.len() > 48 || value.chars().count() > 24 || large_count(pattern) {
        return None;
    }
    let re = regress::Regex::with_flags(pattern, "u").ok()?;
    Some(re.find(value).is_some())
}

/// Whether `pattern` has a counted repetition above 16 (`{85,}`), or two of them
/// (`((…){14}){6}`): over groups that can match empty in several ways (`(||…)`),
/// `regress` backtracks for minutes on a short value (two timeouts this target met, at
/// 3.18 and 0.89 million executions), while the proxy's linear-time engine answers in
/// under 0.1 ms. The oracle stays out of those.
fn large_count(pattern: &str) -> bool {
    let counts: Vec<String> = pattern
        .split('{')
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .filter(|digits: &String| !digits.is_empty())
        .collect();
    counts.len() > 1
        || counts
            .iter()
            .any(|d| d.len() > 2 || d.parse::<u32>().is_ok_and(|n| n > 16))
}

/// Two forms, so that seeds come from real payloads and the regex engine is still
/// reached quickly: a JSON [`Submission`] (from `{`), or one field in raw bytes, a
/// kind/required byte, then `pattern \n value`.
fn input(data: &[u8]) -> Option<(Vec<ConnectorField>, BTreeMap<String, String>)> {
    if data.first() == Some(&b'{') {
        let s: Submission = serde_json::from_slice(data).ok()?;
        return Some((s.fields.into_iter().take(8).collect(), s.values));
    }
    let (&k, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let (pattern, value) = text.split_once('\n').unwrap_or((text, ""));
    let field = ConnectorField {
        name: "otp".into(),
        label: "Code".into(),
        kind: kind(k),
        required: k & 0x80 != 0,
        regex: Some(pattern.to_owned()),
        values: None,
        description: None,
        auth_mechanisms: None,
        connector_sources: None,
    };
    Some((
        vec![field],
        BTreeMap::from([("otp".to_owned(), value.to_owned())]),
    ))
}

fuzz_target!(|data: &[u8]| {
    let Some((fields, values)) = input(data) else {
        return;
    };
    let verdict = mend_proxy::fields::check(&fields, &values);
    // The first field of a name is the one Powens' form means; later twins are checked
    // too and must agree for the value to pass.
    let first = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .expect("sent a name not asked")
    };
    match verdict {
        Ok(sent) => {
            for (name, value) in &sent {
                assert!(
                    !RESERVED_KEYS.contains(&name.as_str()),
                    "sent reserved key {name}"
                );
                let field = first(name);
                let raw = &values[name];
                assert!(raw.len() <= MAX_VALUE_LEN);
                assert_eq!(
                    Some(value.as_str()),
                    normalise(field, raw),
                    "not the normalised value"
                );
                for f in fields.iter().filter(|f| &f.name == name) {
                    match &f.kind {
                        FieldType::Number => {
                            assert!(is_decimal(value) && value.is_ascii(), "{value:?}")
                        }
                        FieldType::Date => assert!(is_iso_date(value), "{value:?}"),
                        FieldType::List => {
                            if let Some(c) = &f.values {
                                assert!(
                                    c.iter().any(|c| &c.value == value),
                                    "{value:?} not listed"
                                );
                            }
                        }
                        _ => {}
                    }
                    if let Some(p) = f.regex.as_deref().filter(|p| !p.is_empty()) {
                        if mend_proxy::fields::compile(p).is_some() {
                            assert_ne!(
                                javascript(p, value),
                                Some(false),
                                "accepted {value:?} that JavaScript's /{p}/u refuses"
                            );
                        }
                    }
                }
            }
            for name in values.keys() {
                assert!(
                    fields.iter().any(|f| &f.name == name),
                    "an unknown name passed"
                );
            }
        }
        Err(problems) => {
            for (name, problem) in &problems {
                if *problem != FieldProblem::Pattern {
                    continue;
                }
                let field = first(name);
                if fields.iter().filter(|f| &f.name == name).count() > 1 {
                    continue;
                }
                let Some(value) = normalise(field, &values[name]) else {
                    continue;
                };
                let typed = match field.kind {
                    FieldType::Number => is_decimal(value),
                    FieldType::Date => is_iso_date(value),
                    _ => true,
                };
                if let (true, Some(p)) = (typed, field.regex.as_deref().filter(|p| !p.is_empty())) {
                    if mend_proxy::fields::compile(p).is_some() {
                        assert_ne!(
                            javascript(p, value),
                            Some(true),
                            "refused {value:?} that JavaScript's /{p}/u accepts"
                        );
                    }
                }
            }
        }
    }
});
