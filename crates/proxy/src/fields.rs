//! Checking submitted values against the connection's current `fields` before
//! anything reaches Powens, with the rules the widget applies too
//! ([`mend_model::fields`]), and deciding what is sent: the checked, normalised values
//! of the fields Powens asked for, nothing else.
//!
//! Powens' patterns are meant for PCRE or JavaScript, where `\d`, `\w`, `\b` and `.`
//! are ASCII-or-line-based; the `regex` crate's are Unicode (`\d` takes Arabic-Indic
//! digits). So a pattern is given JavaScript's meaning (that of the widget's
//! `new RegExp(pattern, "u")`) by rewriting those classes before compiling, with the
//! linear-time `regex` crate (a backtracking engine would let a hostile value stall the
//! proxy) under size limits. What has no JavaScript equivalent or does not compile
//! (inline flags, `\A`, look-arounds, back-references, a `[` inside a class, `[]`) is
//! "cannot check": the value goes to Powens, which decides. That is logged, without
//! the value.

use mend_model::ConnectorField;
use mend_model::api::FieldProblem;
use mend_model::fields::{check as check_rules, submission};
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem};
use std::collections::BTreeMap;

pub use mend_model::fields::{MAX_VALUE_LEN, RESERVED_KEYS};

/// Compiled size limit of a field regex.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Longest pattern compiled.
const MAX_PATTERN_LEN: usize = 4096;

/// Checks `values` against `fields`: `Ok` with what to send, or each refused name
/// and why.
pub fn check(
    fields: &[ConnectorField],
    values: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BTreeMap<String, FieldProblem>> {
    let problems = check_rules(fields, values, |pattern, value| {
        let re = compile(pattern);
        if re.is_none() {
            tracing::warn!("a field regex cannot be checked here; Powens will decide");
        }
        re.map(|re| re.is_match(value))
    });
    if problems.is_empty() {
        Ok(submission(fields, values))
    } else {
        Err(problems)
    }
}

/// `pattern` with JavaScript's (`u` flag) meaning, compiled; `None` when that can't
/// be done faithfully.
pub fn compile(pattern: &str) -> Option<regex::Regex> {
    if pattern.len() > MAX_PATTERN_LEN {
        return None;
    }
    let translated = javascript_meaning(pattern)?;
    regex::RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .ok()
}

/// The pattern rewritten so the `regex` crate reads it as JavaScript does: `\d`, `\w`,
/// `\s` and their negations, `.` and `\b`/`\B` replaced by explicit classes.
fn javascript_meaning(pattern: &str) -> Option<String> {
    let ast = ast::parse::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(pattern)
        .ok()?;
    let edits = ast::visit(&ast, Rewrites::default()).ok()?;
    let mut out = pattern.to_owned();
    // Back to front, so earlier offsets stay valid.
    for (start, end, with) in edits.into_iter().rev() {
        out.replace_range(start..end, &with);
    }
    Some(out)
}

/// JavaScript's `\s`: ECMAScript WhiteSpace and LineTerminator (not Unicode's
/// White_Space, which adds U+0085 and lacks U+FEFF).
const JS_SPACE: &str = r"\t\n\x0B\x0C\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
/// JavaScript's `\w` (ASCII).
const JS_WORD: &str = "0-9A-Za-z_";
/// JavaScript's `\d` (ASCII).
const JS_DIGIT: &str = "0-9";

fn class_body(kind: &ClassPerlKind) -> &'static str {
    match kind {
        ClassPerlKind::Digit => JS_DIGIT,
        ClassPerlKind::Space => JS_SPACE,
        ClassPerlKind::Word => JS_WORD,
    }
}

/// Whether `c`'s first member is an unescaped `]` (`[]…]`, `[^]…]`).
fn opens_with_bracket(c: &ast::ClassBracketed) -> bool {
    let ast::ClassSet::Item(item) = &c.kind else {
        return false;
    };
    let first = match item {
        ClassSetItem::Union(u) => u.items.first(),
        other => Some(other),
    };
    let literal = match first {
        Some(ClassSetItem::Literal(l)) => l,
        Some(ClassSetItem::Range(r)) => &r.start,
        _ => return false,
    };
    literal.c == ']' && literal.kind == ast::LiteralKind::Verbatim
}

/// Collects `(start, end, replacement)` byte ranges, in pattern order; fails on what
/// JavaScript has no equivalent for.
#[derive(Default)]
struct Rewrites(Vec<(usize, usize, String)>);

struct Unfaithful;

impl Rewrites {
    fn replace(&mut self, span: &ast::Span, with: String) {
        self.0.push((span.start.offset, span.end.offset, with));
    }
}

impl ast::Visitor for Rewrites {
    type Output = Vec<(usize, usize, String)>;
    type Err = Unfaithful;

    fn finish(mut self) -> Result<Self::Output, Unfaithful> {
        self.0.sort_by_key(|e| e.0);
        Ok(self.0)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Unfaithful> {
        match ast {
            Ast::ClassPerl(c) => {
                let neg = if c.negated { "^" } else { "" };
                self.replace(&c.span, format!("[{neg}{}]", class_body(&c.kind)));
            }
            // JavaScript's `.` stops at every line terminator, not only `\n`.
            Ast::Dot(span) => self.replace(span, r"[^\n\r\x{2028}\x{2029}]".to_owned()),
            Ast::Assertion(a) => match a.kind {
                ast::AssertionKind::WordBoundary => self.replace(&a.span, r"(?-u:\b)".into()),
                ast::AssertionKind::NotWordBoundary => {
                    self.replace(&a.span, r"(?-u:\B)".into());
                }
                ast::AssertionKind::StartLine | ast::AssertionKind::EndLine => {}
                // `\A`, `\z`, `\b{start}`…: not JavaScript.
                _ => return Err(Unfaithful),
            },
            // Inline flags (`(?i)`, `(?i:…)`) do not exist in a JavaScript pattern.
            Ast::Flags(_) => return Err(Unfaithful),
            // `[]` matches nothing in JavaScript and `[^]` anything; here a `]` right
            // after the opening bracket is a literal that the class goes on after.
            Ast::ClassBracketed(c) if opens_with_bracket(c) => return Err(Unfaithful),
            Ast::Group(g) => {
                if let ast::GroupKind::NonCapturing(flags) = &g.kind
                    && !flags.items.is_empty()
                {
                    return Err(Unfaithful);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Unfaithful> {
        match item {
            ClassSetItem::Perl(c) if c.negated => {
                self.replace(&c.span, format!("[^{}]", class_body(&c.kind)));
            }
            ClassSetItem::Perl(c) => self.replace(&c.span, class_body(&c.kind).to_owned()),
            // `[[:alpha:]]` is a POSIX class here, a set of five characters there.
            ClassSetItem::Ascii(_) => return Err(Unfaithful),
            // `[a[b]]`: a nested class here, a literal `[` (then a stray `]`) there.
            ClassSetItem::Bracketed(_) => return Err(Unfaithful),
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_binary_op_pre(
        &mut self,
        _op: &ast::ClassSetBinaryOp,
    ) -> Result<(), Unfaithful> {
        // `&&`, `--`, `~~` are literal characters in a JavaScript `u` class.
        Err(Unfaithful)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mend_model::{FieldType, FieldValue};

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

    fn matches(pattern: &str, value: &str) -> Option<bool> {
        compile(pattern).map(|re| re.is_match(value))
    }

    #[test]
    fn an_otp_matching_its_regex_passes_and_is_what_is_sent() {
        let f = [field("otp", FieldType::Text, true, Some("^[0-9]{6}$"))];
        assert_eq!(
            check(&f, &vals(&[("otp", " 123456 ")])).unwrap()["otp"],
            "123456"
        );
        let err = check(&f, &vals(&[("otp", "12345a")])).unwrap_err();
        assert_eq!(err["otp"], FieldProblem::Pattern);
        let err = check(&f, &vals(&[])).unwrap_err();
        assert_eq!(err["otp"], FieldProblem::Required);
    }

    #[test]
    fn digits_words_and_boundaries_are_ascii_as_in_javascript() {
        assert_eq!(matches(r"^\d{6}$", "123456"), Some(true));
        assert_eq!(
            matches(r"^\d{6}$", "١٢٣٤٥٦"),
            Some(false),
            "Arabic-Indic digits"
        );
        assert_eq!(
            matches(r"^\d{3}$", "１２３"),
            Some(false),
            "full-width digits"
        );
        assert_eq!(matches(r"^\w+$", "abc_9"), Some(true));
        assert_eq!(matches(r"^\w+$", "café"), Some(false));
        assert_eq!(matches(r"^\W$", "é"), Some(true));
        assert_eq!(
            matches(r"^[\d-]+$", "12-٣"),
            Some(false),
            "inside a class too"
        );
        assert_eq!(matches(r"^[^\D]+$", "42"), Some(true));
        assert_eq!(matches(r"^[\W]+$", "é!"), Some(true));
        // é is no word character to JavaScript: a boundary before it, none after it.
        assert_eq!(matches(r"a\bé", "aé"), Some(true));
        assert_eq!(matches(r"^é\b", "é"), Some(false));
        assert_eq!(matches(r"a\Bb", "ab"), Some(true));
    }

    #[test]
    fn spaces_and_dots_mean_what_they_mean_in_javascript() {
        assert_eq!(matches(r"^\s$", "\u{FEFF}"), Some(true));
        assert_eq!(
            matches(r"^\s$", "\u{85}"),
            Some(false),
            "NEL is not JS whitespace"
        );
        assert_eq!(matches(r"^\S$", "\u{85}"), Some(true));
        assert_eq!(matches(r"^a.b$", "a\rb"), Some(false));
        assert_eq!(matches(r"^a.b$", "a\u{2028}b"), Some(false));
        assert_eq!(matches(r"^a.b$", "a€b"), Some(true));
        assert_eq!(
            matches(r"^[.]$", "x"),
            Some(false),
            "a dot in a class is a dot"
        );
        assert_eq!(matches(r"^\.$", "."), Some(true));
    }

    #[test]
    fn what_javascript_cannot_mean_is_left_to_powens() {
        for p in [
            r"(?i)^abc$",
            r"^(?i:abc)$",
            r"\Aabc\z",
            r"^[[:alpha:]]+$",
            r"^[a-z&&[^x]]$",
            r"^(?=.*\d)\d{4}$",
            r"(a)\1",
            "(",
        ] {
            assert_eq!(matches(p, "abc"), None, "{p}");
        }
        let f = [field(
            "code",
            FieldType::Text,
            true,
            Some(r"^(?=.*\d)\d{4}$"),
        )];
        assert!(check(&f, &vals(&[("code", "abcd")])).is_ok());
        let huge = "^(a{1000}){1000}$";
        assert_eq!(matches(huge, "a"), None, "too big to compile");
    }

    /// Found by the `fields` fuzz target (1.19 million executions in): a `[` inside a
    /// class opens a nested class for the `regex` crate but is a literal `[` for
    /// JavaScript, so `[a[b]]` meant "a or b" here and "a, [ or b, then ]" there; the
    /// proxy accepted a password the widget's pattern refused.
    #[test]
    fn a_bracket_inside_a_class_is_left_to_powens_not_read_as_a_nested_class() {
        assert_eq!(matches("^[a[b]]$", "a"), None);
        let found = "[{\0\0\0\0\0\x1e\x07[{\0\0\0\0\0\x1e$]?$\x07-[{@]?$";
        assert_eq!(matches(found, "1 p$]?$\x07-[{@]?$\n1 p"), None);
        // A `[` the pattern escapes is a literal in both, and still checked.
        assert_eq!(matches(r"^[a\[]$", "["), Some(true));
        assert_eq!(matches(r"^[a\[]$", "b"), Some(false));
    }

    /// Found by the `fields` fuzz target (in CI, 21,000 executions in): `[]` is an
    /// empty class in JavaScript, so `/x[]y/u` refuses every value, but the `regex`
    /// crate reads its `]` as the class's first member and the class as going on to
    /// the next `]`; the proxy accepted what the widget refused.
    #[test]
    fn an_empty_class_is_left_to_powens_not_read_as_a_bracket() {
        assert_eq!(matches("^a[]b]$", "a]"), None);
        assert_eq!(matches("^a[^]b]$", "ax"), None);
        let found = "\x07[\0+/$4-][]%\x003$\x07-[@]\\w?$";
        assert_eq!(matches(found, "J0 \x01p"), None);
        // An escaped `]` is a literal in both, and still checked.
        assert_eq!(matches(r"^[\]a]$", "]"), Some(true));
        assert_eq!(matches(r"^[\]a]$", "b"), Some(false));
    }

    #[test]
    fn numbers_dates_lists_and_lengths_follow_the_shared_rules() {
        let mut list = field("website", FieldType::List, true, None);
        list.values = Some(vec![FieldValue {
            label: "Pro".into(),
            value: "pro".into(),
        }]);
        let f = [
            field("birth", FieldType::Date, true, None),
            field("n", FieldType::Number, false, None),
            list,
        ];
        let ok = check(
            &f,
            &vals(&[("birth", "1990-02-28 "), ("n", "12.5"), ("website", "pro")]),
        )
        .unwrap();
        assert_eq!(ok["birth"], "1990-02-28");
        for bad in ["1e3", "+5", ".5"] {
            let err = check(
                &f,
                &vals(&[("birth", "1990-02-28"), ("n", bad), ("website", "pro")]),
            )
            .unwrap_err();
            assert_eq!(err["n"], FieldProblem::Pattern, "{bad}");
        }
        let err = check(&f, &vals(&[("birth", "1990-02-30"), ("website", "par")])).unwrap_err();
        assert_eq!(err["birth"], FieldProblem::Pattern);
        assert_eq!(err["website"], FieldProblem::NotInList);
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        let f = [field("note", FieldType::Text, false, None)];
        assert_eq!(
            check(&f, &vals(&[("note", &long)])).unwrap_err()["note"],
            FieldProblem::TooLong
        );
    }

    #[test]
    fn a_blank_optional_value_is_not_sent_at_all() {
        let f = [
            field("otp", FieldType::Text, true, None),
            field("note", FieldType::Text, false, Some("^x$")),
        ];
        let sent = check(&f, &vals(&[("otp", "1"), ("note", "   ")])).unwrap();
        assert!(!sent.contains_key("note"));
    }
}
