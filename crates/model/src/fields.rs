//! The rules a value must meet before it is sent to Powens, written once for the two
//! programs that check them: the widget (before sending, with the browser's `RegExp`)
//! and the proxy (again, since a browser can be bypassed, with a linear-time engine
//! given JavaScript's meaning). Both then agree on every answer but one: a pattern only
//! one of them can compile.
//!
//! The regular-expression engine is passed in (`matches(pattern, value)`, `None` when
//! it cannot compile the pattern, which then is left to Powens), so this crate, which
//! also compiles into the widget's wasm, carries none.
//!
//! What is checked is what is sent: [`normalise`] gives the value to send (surrounding
//! whitespace trimmed, except in passwords where it may be part of the secret; nothing
//! at all when that leaves it empty), and every check runs on that value.

use crate::api::FieldProblem;
use crate::powens::{ConnectorField, FieldType};
use std::collections::BTreeMap;

/// Longest value accepted, in bytes (before trimming).
pub const MAX_VALUE_LEN: usize = 1024;

/// Keys of Powens' connection update body that are not fields: never sent as values,
/// even if a connector were to name a field that way.
pub const RESERVED_KEYS: &[&str] = &[
    "active",
    "expire",
    "resume",
    "source",
    "refresh_auth",
    "background",
    "expand",
    "id_connector",
    "connector_uuid",
    "id_user",
    "id",
    "state",
    "error",
];

/// The value of `field` as it is sent, or `None` when there is nothing to send.
pub fn normalise<'v>(field: &ConnectorField, raw: &'v str) -> Option<&'v str> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        None
    } else if field.kind == FieldType::Password {
        Some(raw)
    } else {
        Some(trimmed)
    }
}

/// Why `raw` is refused for `field`, if it is.
pub fn problem(
    field: &ConnectorField,
    raw: &str,
    matches: impl Fn(&str, &str) -> Option<bool>,
) -> Option<FieldProblem> {
    if raw.len() > MAX_VALUE_LEN {
        return Some(FieldProblem::TooLong);
    }
    let Some(value) = normalise(field, raw) else {
        return field.required.then_some(FieldProblem::Required);
    };
    if field.kind == FieldType::List
        && let Some(choices) = &field.values
        && !choices.iter().any(|c| c.value == value)
    {
        return Some(FieldProblem::NotInList);
    }
    let well_typed = match field.kind {
        FieldType::Date => is_iso_date(value),
        FieldType::Number => is_decimal(value),
        _ => true,
    };
    if !well_typed {
        return Some(FieldProblem::Pattern);
    }
    match field.regex.as_deref().filter(|p| !p.is_empty()) {
        Some(pattern) if matches(pattern, value) == Some(false) => Some(FieldProblem::Pattern),
        _ => None,
    }
}

/// Checks `values` against `fields`: names Powens did not ask for (and reserved keys)
/// are `Unknown`, every field is checked by [`problem`]. Empty when all is well.
pub fn check(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
    matches: impl Fn(&str, &str) -> Option<bool>,
) -> BTreeMap<String, FieldProblem> {
    let mut problems = BTreeMap::new();
    for name in values.keys() {
        if RESERVED_KEYS.contains(&name.as_str()) || !fields.iter().any(|f| &f.name == name) {
            // Echoed back to the caller: keep it short.
            problems.insert(name.chars().take(64).collect(), FieldProblem::Unknown);
        }
    }
    for field in fields {
        if RESERVED_KEYS.contains(&field.name.as_str()) {
            continue;
        }
        let raw = values.get(&field.name).map_or("", String::as_str);
        if let Some(p) = problem(field, raw, &matches) {
            problems.insert(field.name.clone(), p);
        }
    }
    problems
}

/// What to send for `values`: the normalised values of `fields`, and nothing else.
pub fn submission(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    // Inserts rather than `collect()`: a collected BTreeMap sorts first, and in the
    // widget that sort is kilobytes of wasm for nothing.
    let mut out = BTreeMap::new();
    for field in fields {
        if RESERVED_KEYS.contains(&field.name.as_str()) {
            continue;
        }
        if let Some(v) = values.get(&field.name).and_then(|v| normalise(field, v)) {
            out.insert(field.name.clone(), v.to_owned());
        }
    }
    out
}

/// A `date` field's value: `yyyy-mm-dd`, a real calendar date.
pub fn is_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r.clone()].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
        return false;
    }
    if !digits(5..7) || !digits(8..10) {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let Ok(month) = u8::try_from(month) else {
        return false;
    };
    (1..=12).contains(&month)
        && day >= 1
        && day <= u16::from(crate::datetime::days_in_month(i32::from(year), month))
}

/// A `number` field's value: decimal digits, with at most one `.` between digits.
/// No sign, no exponent, no leading or trailing point (what Rust's or JavaScript's
/// float parsing would also accept, `1e3`, `+5`, `.5`, is not a number to a bank).
pub fn is_decimal(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powens::FieldValue;

    fn field(name: &str, kind: FieldType, required: bool, regex: Option<&str>) -> ConnectorField {
        ConnectorField {
            name: name.into(),
            label: name.into(),
            kind,
            required,
            regex: regex.map(Into::into),
            values: None,
            description: None,
            auth_mechanisms: None,
            connector_sources: None,
        }
    }

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Knows `^[0-9]{6}$` and `^x$`; cannot compile anything else.
    fn re(pattern: &str, v: &str) -> Option<bool> {
        match pattern {
            "^[0-9]{6}$" => Some(v.len() == 6 && v.bytes().all(|c| c.is_ascii_digit())),
            "^x$" => Some(v == "x"),
            _ => None,
        }
    }

    #[test]
    fn numbers_are_decimal_digits_only() {
        for ok in ["0", "12", "12.5", "007"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "1e3", "+5", "-5", ".5", "5.", "1.2.3", "", "٣", "inf", "NaN", "1 000",
        ] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("1990-13-01"));
        assert!(!is_iso_date("1990-00-10"));
        assert!(!is_iso_date("28/02/1990"));
        assert!(!is_iso_date("1990-02-28 10:00:00"));
        assert!(!is_iso_date("１９９０-02-28"));
    }

    #[test]
    fn what_is_checked_is_what_is_sent() {
        let f = [
            field("birth", FieldType::Date, true, None),
            field("pin", FieldType::Password, true, None),
            field("note", FieldType::Text, false, Some("^x$")),
        ];
        let v = vals(&[("birth", " 1990-02-28 "), ("pin", " 12 "), ("note", "   ")]);
        assert!(check(&f, &v, re).is_empty());
        let sent = submission(&f, &v);
        assert_eq!(sent["birth"], "1990-02-28", "checked trimmed, sent trimmed");
        assert_eq!(sent["pin"], " 12 ", "a password is sent as typed");
        assert!(
            !sent.contains_key("note"),
            "a blank optional value is not sent"
        );
    }

    #[test]
    fn a_blank_optional_value_skips_no_check_because_it_is_not_sent() {
        let f = [field("note", FieldType::Number, false, Some("^x$"))];
        assert!(check(&f, &vals(&[("note", " \t ")]), re).is_empty());
        assert!(submission(&f, &vals(&[("note", " \t ")])).is_empty());
        let f = [field("otp", FieldType::Text, true, Some("^[0-9]{6}$"))];
        assert_eq!(
            check(&f, &vals(&[("otp", "  ")]), re)["otp"],
            FieldProblem::Required
        );
    }

    #[test]
    fn regex_required_lists_types_and_lengths_are_checked() {
        let mut list = field("acc", FieldType::List, true, None);
        list.values = Some(vec![FieldValue {
            label: "A".into(),
            value: "a".into(),
        }]);
        let f = [
            field("otp", FieldType::Text, true, Some("^[0-9]{6}$")),
            list,
            field("n", FieldType::Number, false, None),
            field("odd", FieldType::Text, true, Some("(")),
        ];
        let p = check(
            &f,
            &vals(&[("otp", "12a"), ("acc", "b"), ("n", "1e3"), ("odd", "z")]),
            re,
        );
        assert_eq!(p["otp"], FieldProblem::Pattern);
        assert_eq!(p["acc"], FieldProblem::NotInList);
        assert_eq!(p["n"], FieldProblem::Pattern);
        assert!(
            !p.contains_key("odd"),
            "an uncompilable pattern is left to Powens"
        );
        let long = "1".repeat(MAX_VALUE_LEN + 1);
        assert_eq!(
            check(&f, &vals(&[("otp", &long)]), re)["otp"],
            FieldProblem::TooLong
        );
    }

    #[test]
    fn unknown_and_reserved_names_are_refused_and_never_sent() {
        let f = [
            field("otp", FieldType::Text, true, None),
            field("resume", FieldType::Text, false, None),
        ];
        let v = vals(&[("otp", "1"), ("active", "false"), ("resume", "true")]);
        let p = check(&f, &v, re);
        assert_eq!(p["active"], FieldProblem::Unknown);
        assert_eq!(p["resume"], FieldProblem::Unknown);
        assert!(!p.contains_key("otp"));
        let sent = submission(&f, &v);
        assert_eq!(sent.keys().collect::<Vec<_>>(), ["otp"]);
    }
}
