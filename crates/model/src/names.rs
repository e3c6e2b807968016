//! [`wire_names!`]: a fieldless enum whose wire strings are written once, in its
//! definition. The one table gives `as_str`, `from_wire`, `ALL` and the serde impls,
//! so the proxy (serde) and the widget (which reads JSON through the browser's
//! `JSON.parse`, without serde) cannot drift apart.

/// Defines an enum of unit variants with their wire strings:
///
/// ```
/// mend_model::wire_names! {
///     /// A colour.
///     pub enum Colour {
///         /// Red.
///         Red = "red",
///         /// Dark blue.
///         DarkBlue = "dark_blue",
///     }
/// }
/// assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
/// assert_eq!(Colour::from_wire("red"), Some(Colour::Red));
/// assert_eq!(Colour::from_wire("green"), None);
/// assert_eq!(Colour::ALL.len(), 2);
/// ```
#[macro_export]
macro_rules! wire_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in definition order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// The variant of a wire string, `None` for anything else.
            pub fn from_wire(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                Self::from_wire(&s).ok_or_else(|| {
                    <D::Error as $crate::__serde::de::Error>::unknown_variant(
                        &s,
                        &[$($wire),+],
                    )
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::wire_names! {
        /// A test enum.
        enum Sample {
            /// One.
            One = "one",
            /// Two words.
            TwoWords = "two_words",
        }
    }

    #[test]
    fn every_variant_round_trips_through_its_string_and_serde() {
        for v in Sample::ALL {
            assert_eq!(Sample::from_wire(v.as_str()), Some(*v));
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), *v);
        }
        assert!(serde_json::from_str::<Sample>("\"three\"").is_err());
        assert_eq!(Sample::TwoWords.to_string(), "two_words");
    }
}
