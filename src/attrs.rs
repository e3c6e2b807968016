//! The element's attributes, as the controller reads them: parsed once from the host,
//! then one change at a time (`attributeChangedCallback`).

/// The element's attributes (README, "Embedding").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attrs {
    /// `connection-id` (required).
    pub connection_id: Option<i64>,
    /// `session` (required; may be replaced at any time).
    pub session: String,
    /// `api-base`; defaults to the origin `mend.js` came from.
    pub api_base: String,
    /// The `api-base` to use when the attribute is absent.
    pub default_base: String,
    /// `redirect-uri`; defaults to this page without query or fragment.
    pub redirect_uri: Option<String>,
    /// `lang`; when absent (or not one the widget speaks) `<html lang>`, then the
    /// browser's languages, then English (see [`crate::i18n::pick`]).
    pub lang: Option<String>,
    /// `compact`: banner only until opened.
    pub compact: bool,
}

/// The attributes read from the host (`mend.js` observes the same, and `theme`,
/// which only the style sheet reads).
const NAMES: [&str; 6] = [
    "connection-id",
    "session",
    "api-base",
    "redirect-uri",
    "lang",
    "compact",
];

impl Attrs {
    /// Reads the attributes of `host`.
    pub fn from_host(host: &web_sys::Element, default_base: &str) -> Self {
        let mut a = Attrs {
            api_base: default_base.to_owned(),
            default_base: default_base.to_owned(),
            ..Attrs::default()
        };
        for name in NAMES {
            a.set(name, host.get_attribute(name));
        }
        a
    }

    /// Applies one attribute. Returns `Some(forget)` when the widget must start over
    /// (`forget`: a different connection), `None` when the view just follows.
    pub fn set(&mut self, name: &str, raw: Option<String>) -> Option<bool> {
        if name == "compact" {
            // A boolean attribute: present (even empty) means on, except "false".
            self.compact = raw.as_deref().is_some_and(|v| v.trim() != "false");
            return None;
        }
        let value = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match name {
            "connection-id" => {
                let id = value.and_then(|v| v.parse().ok());
                let changed = id != self.connection_id;
                self.connection_id = id;
                changed.then_some(true)
            }
            "session" => {
                let s = value.unwrap_or_default();
                let changed = s != self.session;
                self.session = s;
                changed.then_some(false)
            }
            "api-base" => {
                let b = value.unwrap_or_else(|| self.default_base.clone());
                let changed = b != self.api_base;
                self.api_base = b;
                changed.then_some(false)
            }
            "redirect-uri" => {
                self.redirect_uri = value;
                None
            }
            "lang" => {
                self.lang = value;
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_says_whether_to_start_over_and_forget() {
        let mut a = Attrs {
            api_base: "https://p".into(),
            default_base: "https://p".into(),
            ..Attrs::default()
        };
        assert_eq!(a.set("connection-id", Some(" 42 ".into())), Some(true));
        assert_eq!(a.connection_id, Some(42));
        assert_eq!(a.set("connection-id", Some("42".into())), None);
        assert_eq!(a.set("session", Some("s".into())), Some(false));
        assert_eq!(
            a.set("api-base", None),
            None,
            "absent: the default, unchanged"
        );
        assert_eq!(a.set("api-base", Some("https://q".into())), Some(false));
        assert_eq!(a.set("lang", Some("de-AT".into())), None);
        assert_eq!(a.lang.as_deref(), Some("de-AT"));
        assert_eq!(a.set("compact", Some(String::new())), None);
        assert!(a.compact);
        a.set("compact", Some("false".into()));
        assert!(!a.compact);
        assert_eq!(a.set("connection-id", Some("x".into())), Some(true));
        assert_eq!(a.connection_id, None);
    }
}
