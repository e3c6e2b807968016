//! Every catalogue complete, and the language picked as documented.

use super::*;
use std::collections::BTreeSet;

fn catalogue(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = format!("{}/assets/i18n/{lang}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!("{path} is not a JSON object: {other:?}"),
    }
}

#[test]
fn every_language_has_a_complete_catalogue_and_nothing_more() {
    let keys: BTreeSet<&str> = KEYS.iter().copied().collect();
    assert_eq!(keys.len(), KEYS.len(), "a key twice");
    for lang in &LANGS[1..] {
        let c = catalogue(lang);
        let have: BTreeSet<&str> = c.keys().map(String::as_str).collect();
        let missing: Vec<_> = keys.difference(&have).collect();
        let extra: Vec<_> = have.difference(&keys).collect();
        assert!(missing.is_empty(), "{lang}: missing {missing:?}");
        assert!(
            extra.is_empty(),
            "{lang}: not used by the widget: {extra:?}"
        );
        for (k, v) in &c {
            let s = v
                .as_str()
                .unwrap_or_else(|| panic!("{lang}.{k} is not a string"));
            assert!(!s.trim().is_empty(), "{lang}.{k} is empty");
            // Short ones ("Code", "Sources") may well be the same word.
            if s.len() > 20 {
                assert_ne!(Some(s), EN.get(k), "{lang}.{k} is the English text");
            }
        }
    }
    let files = std::fs::read_dir(format!("{}/assets/i18n", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .count();
    assert_eq!(files, LANGS.len() - 1, "one file per language but English");
}

#[test]
fn the_list_s_count_has_its_placeholder_in_every_language() {
    assert!(EN.list_many.contains("{n}"));
    for lang in &LANGS[1..] {
        let many = catalogue(lang)["list_many"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(many.contains("{n}"), "{lang}.list_many: {many:?}");
    }
}

#[test]
fn english_has_no_empty_string() {
    for k in KEYS {
        assert!(!EN.get(k).unwrap_or("").trim().is_empty(), "EN.{k}");
    }
}

#[test]
fn the_first_supported_language_wins_by_its_primary_subtag() {
    assert_eq!(pick(["fr"]), "fr");
    assert_eq!(pick(["pt-BR"]), "pt");
    assert_eq!(pick(["DE_at"]), "de");
    assert_eq!(pick([" nl-BE "]), "nl");
    // Unsupported ones fall through to the next source.
    assert_eq!(pick(["ja", "es-419", "fr"]), "es");
    assert_eq!(pick(["zh-Hant", "xx"]), "en");
    assert_eq!(pick([""]), "en");
    assert_eq!(pick(std::iter::empty()), "en");
    for l in LANGS {
        assert_eq!(pick([l]), l);
    }
}
