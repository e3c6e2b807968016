//! Checking submitted values against the connection's current `fields` before
//! anything reaches Powens: only names Powens asked for, `required`, `regex` and list
//! values, a length cap, and never the connection's own update keys (`active`,
//! `expire`, `resume`, ...), even if a connector were to name a field that way.
//!
//! Powens' regexes are PCRE; they are compiled with the `regex` crate under size
//! limits. One that does not compile (a look-around, a back-reference) or is too big
//! is "cannot check": the value goes to Powens, which decides. That is logged, without
//! the value.

use mend_model::api::FieldProblem;
use mend_model::{ConnectorField, FieldType};
use std::collections::BTreeMap;

/// Longest value accepted, in bytes.
pub const MAX_VALUE_LEN: usize = 1024;
/// Compiled size limit of a field regex.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Keys of Powens' connection update body that are not fields: never forwarded.
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

/// Checks `values` against `fields`; `Err` maps each refused name to why.
pub fn check(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
) -> Result<(), BTreeMap<String, FieldProblem>> {
    let mut problems = BTreeMap::new();
    for name in values.keys() {
        let known = fields.iter().any(|f| &f.name == name);
        if !known || RESERVED_KEYS.contains(&name.as_str()) {
            problems.insert(bounded_name(name), FieldProblem::Unknown);
        }
    }
    for field in fields {
        if RESERVED_KEYS.contains(&field.name.as_str()) {
            continue;
        }
        let value = values.get(&field.name).map(String::as_str).unwrap_or("");
        if let Some(p) = check_one(field, value) {
            problems.insert(field.name.clone(), p);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A refused name is echoed back in the answer: keep it short.
fn bounded_name(name: &str) -> String {
    name.chars().take(64).collect()
}

fn check_one(field: &ConnectorField, value: &str) -> Option<FieldProblem> {
    if value.len() > MAX_VALUE_LEN {
        return Some(FieldProblem::TooLong);
    }
    if value.trim().is_empty() {
        return field.required.then_some(FieldProblem::Required);
    }
    if field.kind == FieldType::List
        && let Some(choices) = &field.values
        && !choices.iter().any(|c| c.value == value)
    {
        return Some(FieldProblem::NotInList);
    }
    // Powens takes dates as `yyyy-mm-dd` and numbers as decimal text.
    let well_typed = match field.kind {
        FieldType::Date => is_iso_date(value.trim()),
        FieldType::Number => value.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => true,
    };
    if !well_typed {
        return Some(FieldProblem::Pattern);
    }
    if let Some(pattern) = field.regex.as_deref().filter(|p| !p.is_empty()) {
        match compile(pattern) {
            Some(re) if !re.is_match(value) => return Some(FieldProblem::Pattern),
            Some(_) => {}
            None => {
                tracing::warn!(field = %field.name, "field regex cannot be checked here; Powens will decide")
            }
        }
    }
    None
}

/// `yyyy-mm-dd`, a real calendar date.
fn is_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && mend_model::PowensDateTime::parse(v).is_ok()
}

fn compile(pattern: &str) -> Option<regex::Regex> {
    if pattern.len() > 4096 {
        return None;
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::FieldValue;

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

    #[test]
    fn an_otp_matching_its_regex_passes() {
        let f = [field("otp", FieldType::Text, true, Some("^[0-9]{6}$"))];
        assert_eq!(check(&f, &vals(&[("otp", "123456")])), Ok(()));
        let err = check(&f, &vals(&[("otp", "12345a")])).unwrap_err();
        assert_eq!(err["otp"], FieldProblem::Pattern);
        let err = check(&f, &vals(&[])).unwrap_err();
        assert_eq!(err["otp"], FieldProblem::Required);
    }

    #[test]
    fn injected_update_keys_are_unknown_fields() {
        let f = [field("otp", FieldType::Text, true, None)];
        let err = check(
            &f,
            &vals(&[
                ("otp", "1"),
                ("active", "false"),
                ("expire", "2030-01-01 00:00:00"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err["active"], FieldProblem::Unknown);
        assert_eq!(err["expire"], FieldProblem::Unknown);
        assert!(!err.contains_key("otp"));
        let f = [field("resume", FieldType::Text, false, None)];
        assert_eq!(
            check(&f, &vals(&[("resume", "true")])).unwrap_err()["resume"],
            FieldProblem::Unknown
        );
    }

    #[test]
    fn dates_and_numbers_must_be_well_formed() {
        let f = [
            field("birth", FieldType::Date, true, None),
            field("n", FieldType::Number, false, None),
        ];
        assert_eq!(
            check(&f, &vals(&[("birth", "1990-02-28"), ("n", "12.5")])),
            Ok(())
        );
        let err = check(&f, &vals(&[("birth", "1990-02-30"), ("n", "twelve")])).unwrap_err();
        assert_eq!(err["birth"], FieldProblem::Pattern);
        assert_eq!(err["n"], FieldProblem::Pattern);
        assert_eq!(
            check(&f, &vals(&[("birth", "28/02/1990")])).unwrap_err()["birth"],
            FieldProblem::Pattern
        );
        assert!(check(&f, &vals(&[("birth", "1990-02-28 10:00:00")])).is_err());
    }

    #[test]
    fn list_values_must_be_offered() {
        let mut f = field("website", FieldType::List, true, None);
        f.values = Some(vec![FieldValue {
            label: "Pro".into(),
            value: "pro".into(),
        }]);
        assert_eq!(check(&[f.clone()], &vals(&[("website", "pro")])), Ok(()));
        assert_eq!(
            check(&[f], &vals(&[("website", "par")])).unwrap_err()["website"],
            FieldProblem::NotInList
        );
    }

    #[test]
    fn a_regex_this_engine_cannot_run_lets_powens_decide() {
        let f = [field(
            "code",
            FieldType::Text,
            true,
            Some("^(?=.*\\d)\\d{4}$"),
        )];
        assert_eq!(check(&f, &vals(&[("code", "abcd")])), Ok(()));
        let huge = format!("^(a{{1000}}){{1000}}{}$", "");
        let f = [field("code", FieldType::Text, true, Some(&huge))];
        assert_eq!(check(&f, &vals(&[("code", "a")])), Ok(()));
    }

    #[test]
    fn optional_fields_may_be_left_empty_and_long_values_are_refused() {
        let f = [field("note", FieldType::Text, false, Some("^x$"))];
        assert_eq!(check(&f, &vals(&[])), Ok(()));
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        assert_eq!(
            check(&f, &vals(&[("note", &long)])).unwrap_err()["note"],
            FieldProblem::TooLong
        );
    }
}
