//! Forms built from Powens' `fields`: which input each field becomes, and the checks
//! done before anything is sent (the proxy checks again; Powens never sees bad values).
//!
//! Plain Rust: the regular-expression engine is passed in, so the browser uses its own
//! `RegExp` (no regex crate in the wasm) and native tests use a stand-in.

use mend_model::api::{FieldProblem, FieldsSubmission};
use mend_model::{ConnectorField, FieldType};
use std::collections::BTreeMap;

/// How a field is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `<input type=text>` (also unknown types).
    Text,
    /// A one-time code: text, numeric keyboard, `autocomplete="one-time-code"`.
    OneTimeCode,
    /// `<input type=password>`, masked.
    Password,
    /// `<input type=date>` (submits `yyyy-mm-dd`, as Powens wants).
    Date,
    /// `<input type=text inputmode=decimal>`: keeps leading zeros, unlike `type=number`.
    Number,
    /// `<select>` of the field's `values`.
    Select,
}

impl InputKind {
    /// The input for `field`.
    pub fn of(field: &ConnectorField) -> Self {
        match field.kind {
            FieldType::Password => InputKind::Password,
            FieldType::Date => InputKind::Date,
            FieldType::List => InputKind::Select,
            _ if field.is_one_time_code() => InputKind::OneTimeCode,
            FieldType::Number => InputKind::Number,
            FieldType::Text | FieldType::Other(_) => InputKind::Text,
        }
    }

    /// The `type` attribute (`None` for a select).
    pub fn html_type(self) -> Option<&'static str> {
        match self {
            InputKind::Text | InputKind::OneTimeCode | InputKind::Number => Some("text"),
            InputKind::Password => Some("password"),
            InputKind::Date => Some("date"),
            InputKind::Select => None,
        }
    }

    /// The `inputmode` attribute, for a fitting on-screen keyboard.
    pub fn input_mode(self) -> Option<&'static str> {
        match self {
            InputKind::OneTimeCode => Some("numeric"),
            InputKind::Number => Some("decimal"),
            _ => None,
        }
    }

    /// The `autocomplete` attribute. `new_password` for `passwordExpired` forms.
    pub fn autocomplete(self, new_password: bool) -> &'static str {
        match self {
            InputKind::OneTimeCode => "one-time-code",
            InputKind::Password if new_password => "new-password",
            InputKind::Password => "current-password",
            // Bank identifiers are not the user's e-mail or name: no browser guesses.
            _ => "off",
        }
    }
}

/// Checks `values` against `fields` before sending, with the rules the proxy applies
/// too ([`mend_model::fields`]): `required`, types, list membership and `regex`
/// (through `matches(pattern, value)`, which answers `None` for a pattern it can't
/// compile: that one is left to the proxy). Empty when all is well.
pub fn check(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
    matches: impl Fn(&str, &str) -> Option<bool>,
) -> BTreeMap<String, FieldProblem> {
    // Only what the form shows: names the user could not have typed are not theirs.
    // Inserts, not `collect()`: a collected BTreeMap sorts, kilobytes of wasm for nothing.
    let mut shown = BTreeMap::new();
    for f in fields {
        if let Some(v) = values.get(&f.name) {
            shown.insert(f.name.clone(), v.clone());
        }
    }
    mend_model::fields::check(fields, &shown, matches)
}

/// The body to send: the fields' normalised values, and nothing else.
pub fn submission(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
) -> FieldsSubmission {
    FieldsSubmission {
        values: mend_model::fields::submission(fields, values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::FieldValue;

    fn field(name: &str, kind: &str) -> ConnectorField {
        ConnectorField {
            name: name.into(),
            label: String::new(),
            kind: FieldType::parse(kind),
            required: true,
            regex: None,
            values: None,
            description: None,
            auth_mechanisms: None,
            connector_sources: None,
        }
    }

    /// A stand-in for `RegExp`: knows `^[0-9]{6}$` and refuses to compile `(`.
    fn fake_re(re: &str, v: &str) -> Option<bool> {
        match re {
            "^[0-9]{6}$" => Some(v.len() == 6 && v.bytes().all(|c| c.is_ascii_digit())),
            _ => None,
        }
    }

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_type_gets_its_input() {
        assert_eq!(InputKind::of(&field("login", "text")), InputKind::Text);
        assert_eq!(
            InputKind::of(&field("pass", "password")),
            InputKind::Password
        );
        assert_eq!(InputKind::of(&field("birth", "date")), InputKind::Date);
        assert_eq!(InputKind::of(&field("acc", "list")), InputKind::Select);
        assert_eq!(InputKind::of(&field("amount", "number")), InputKind::Number);
        assert_eq!(InputKind::of(&field("x", "hidden")), InputKind::Text);
        assert_eq!(InputKind::of(&field("otp", "text")), InputKind::OneTimeCode);
        assert_eq!(InputKind::OneTimeCode.autocomplete(false), "one-time-code");
        assert_eq!(InputKind::OneTimeCode.input_mode(), Some("numeric"));
        assert_eq!(InputKind::Password.html_type(), Some("password"));
        assert_eq!(InputKind::Password.autocomplete(true), "new-password");
        assert_eq!(InputKind::Select.html_type(), None);
    }

    #[test]
    fn required_regex_and_lists_are_checked() {
        let mut otp = field("otp", "text");
        otp.regex = Some("^[0-9]{6}$".into());
        let mut list = field("acc", "list");
        list.values = Some(vec![FieldValue {
            label: "A".into(),
            value: "a".into(),
        }]);
        let mut optional = field("note", "text");
        optional.required = false;
        let mut odd = field("odd", "text");
        odd.regex = Some("(".into());
        let fields = [otp, list, optional, odd];

        let p = check(
            &fields,
            &vals(&[("otp", "12a"), ("acc", "b"), ("odd", "z")]),
            fake_re,
        );
        assert_eq!(p.get("otp"), Some(&FieldProblem::Pattern));
        assert_eq!(p.get("acc"), Some(&FieldProblem::NotInList));
        assert_eq!(p.get("note"), None, "optional and empty is fine");
        assert_eq!(
            p.get("odd"),
            None,
            "an uncompilable pattern is left to the proxy"
        );

        let p = check(&fields, &vals(&[("otp", " ")]), fake_re);
        assert_eq!(p.get("otp"), Some(&FieldProblem::Required));
        assert_eq!(p.get("acc"), Some(&FieldProblem::Required));

        let good = vals(&[("otp", "123456"), ("acc", "a"), ("odd", "z"), ("evil", "1")]);
        assert!(check(&fields, &good, fake_re).is_empty());
        let body = submission(&fields, &good);
        assert_eq!(
            body.values.len(),
            3,
            "unknown names and empty values are not sent"
        );
        assert!(!body.values.contains_key("evil"));
    }
}
