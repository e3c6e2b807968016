//! Lenient reading of Powens' JSON: the one "any value, but is it a string?" shape
//! that the lenient deserialisers of [`crate::state`], [`crate::datetime`] and
//! [`crate::powens`] share. Kept apart so those modules depend on it, not on each other.

use serde::Deserialize;

/// Any JSON value, read only to tell a string from the rest (for lenient fields).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Loose {
    /// A string.
    Str(String),
    /// Anything else (a number, an object, ...), ignored.
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

impl Loose {
    /// The string, if it was one.
    pub(crate) fn into_str(self) -> Option<String> {
        match self {
            Self::Str(s) => Some(s),
            Self::Other(_) => None,
        }
    }
}
