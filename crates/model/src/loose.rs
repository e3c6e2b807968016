//! Lenient reading of Powens' JSON, shared by the deserialisers of [`crate::state`],
//! [`crate::datetime`] and [`crate::powens`] (kept apart so those modules depend on
//! it, not on each other).
//!
//! Integrators met `null` where a string or a flag was expected, and numbers where
//! strings were: one such value must never make a whole connection unreadable. So a
//! string that is not one reads as empty (or `None`), a flag that is not one as its
//! documented default, an id that is not a number as `None`, and an item of a list
//! that cannot be read is dropped rather than failing the list.

use serde::{Deserialize, Deserializer};

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

/// A string; `null` or anything else reads as empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// An optional string; `null` or anything that is not a string reads as `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Loose>::deserialize(d)?.and_then(Loose::into_str))
}

/// A flag whose documented default is `true` (`required`, `active`): `null` or
/// anything unreadable keeps the default; `"false"`/`"0"`/`0` read as false.
pub(crate) fn flag_default_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
        Str(String),
        #[allow(dead_code)]
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        Some(Flag::Bool(b)) => b,
        Some(Flag::Int(0)) => false,
        Some(Flag::Str(s)) => !matches!(s.trim(), "false" | "0"),
        _ => true,
    })
}

/// An optional integer id; a numeric string is read too, anything else is `None`.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Int(i64),
        Str(String),
        #[allow(dead_code)]
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::Int(n)) => Some(n),
        Some(Id::Str(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// One item of a lenient list: read, or skipped.
#[derive(Deserialize)]
#[serde(untagged)]
enum Item<T> {
    Good(T),
    #[allow(dead_code)]
    Bad(serde::de::IgnoredAny),
}

/// A list whose unreadable items are dropped; `null` or a non-list is empty.
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(opt_list(d)?.unwrap_or_default())
}

/// An optional list whose unreadable items are dropped; `null` is `None`.
pub(crate) fn opt_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List<T> {
        Many(Vec<Item<T>>),
        #[allow(dead_code)]
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<List<T>>::deserialize(d)? {
        Some(List::Many(items)) => Some(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Item::Good(t) => Some(t),
                    Item::Bad(_) => None,
                })
                .collect(),
        ),
        _ => None,
    })
}
