//! What Powens sends and accepts: its connections, fields, errors and codes.
//!
//! Deserialisation is liberal: unknown keys are ignored; nullable and absent
//! documented fields are `Option`s; a malformed date or state in an otherwise good
//! connection reads as `None` rather than failing it. Serialisation is exact: every
//! documented connection field is written, `null` included, `state` and `error`
//! together, dates in `YYYY-MM-DD HH:MM:SS` (this is what the sandbox sends).

use crate::datetime::{self, PowensDateTime};
use crate::loose::{self, Loose};
use crate::state::{self, ConnectionState};
use serde::{Deserialize, Deserializer, Serialize};

/// A user connection (`GET /users/{me}/connections/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// Connection id.
    pub id: i64,
    /// Owner (nullable per the docs).
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_user: Option<i64>,
    /// Connector id (required per the spec; optional here to stay liberal).
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_connector: Option<i64>,
    /// Connector's stable uuid.
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub connector_uuid: Option<String>,
    /// Deprecated alias of `id_connector`, still sent.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_bank: Option<i64>,
    /// Deprecated alias of `id_connector`, still sent.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_provider: Option<i64>,
    /// The state; `None` is Powens' `null`: the last synchronisation succeeded.
    #[serde(default, deserialize_with = "state::lenient_state")]
    pub state: Option<ConnectionState>,
    /// Deprecated twin of `state`; read by legacy clients. See [`Connection::effective_state`].
    #[serde(default, deserialize_with = "state::lenient_state")]
    pub error: Option<ConnectionState>,
    /// Message from the bank to guide recovery (untranslated, displayable as text only).
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub error_message: Option<String>,
    /// What to prompt for, in `additionalInformationNeeded`, `wrongpass`, `passwordExpired`.
    #[serde(default, deserialize_with = "loose::opt_list")]
    pub fields: Option<Vec<ConnectorField>>,
    /// Last successful synchronisation.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub last_update: Option<PowensDateTime>,
    /// Creation date.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub created: Option<PowensDateTime>,
    /// Whether automatic synchronisation is on.
    #[serde(default = "yes", deserialize_with = "loose::flag_default_true")]
    pub active: bool,
    /// Last successful push.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub last_push: Option<PowensDateTime>,
    /// Highest expiry of the sources; while an SCA is pending, its deadline.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub expire: Option<PowensDateTime>,
    /// Next scheduled synchronisation.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub next_try: Option<PowensDateTime>,
    /// Present with `expand=connector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<Connector>,
    /// Present with `expand=sources`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::opt_list"
    )]
    pub sources: Option<Vec<ConnectionSource>>,
}

fn yes() -> bool {
    true
}

impl Connection {
    /// The state to act on: `state`, or for legacy payloads that carry only the
    /// deprecated `error`, that.
    pub fn effective_state(&self) -> Option<&ConnectionState> {
        self.state.as_ref().or(self.error.as_ref())
    }
}

/// `GET /users/{me}/connections` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionList {
    /// The connections.
    #[serde(default, deserialize_with = "loose::list")]
    pub connections: Vec<Connection>,
}

/// A connector (bank), as expanded on a connection. Only what Mend shows is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    /// Connector id (not stable across domains).
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id: Option<i64>,
    /// Stable uuid.
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub uuid: Option<String>,
    /// Display name, e.g. "Banque Exemple".
    #[serde(default, deserialize_with = "loose::string")]
    pub name: String,
}

/// One source of a multi-source connection (`expand=sources`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSource {
    /// Source id.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id: Option<i64>,
    /// Owning connection.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_connection: Option<i64>,
    /// Connector source id.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_connector_source: Option<i64>,
    /// Source name (`openapi`, `directaccess`, `fallback`, ...).
    #[serde(default, deserialize_with = "loose::string")]
    pub name: String,
    /// The source's own state (`null` when fine).
    #[serde(default, deserialize_with = "state::lenient_state")]
    pub state: Option<ConnectionState>,
    /// Last successful synchronisation of this source.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub last_update: Option<PowensDateTime>,
    /// When the source was disabled, if it was.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub disabled: Option<PowensDateTime>,
    /// Creation date.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub created: Option<PowensDateTime>,
    /// Consent (access) expiry.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub access_expire: Option<PowensDateTime>,
    /// Purge deadline when a completion is unfinished.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub expire: Option<PowensDateTime>,
    /// Next scheduled try.
    #[serde(default, deserialize_with = "datetime::lenient")]
    pub next_try: Option<PowensDateTime>,
}

/// A field a connector or connection asks the user to fill (`ConnectorField`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorField {
    /// Key to post the value under.
    pub name: String,
    /// Short display label (falls back to `name` when Powens sends none or `null`).
    #[serde(default, deserialize_with = "loose::string")]
    pub label: String,
    /// Input type; unknown types are kept and rendered as text.
    #[serde(rename = "type", default)]
    pub kind: FieldType,
    /// Whether a non-empty value is required. **Defaults to `true` when absent**:
    /// Powens only prompts for what it needs (legacy payloads often omit it).
    #[serde(default = "yes", deserialize_with = "loose::flag_default_true")]
    pub required: bool,
    /// PCRE-compatible validation pattern (`null` or empty: none).
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub regex: Option<String>,
    /// The closed list of a `list` field (choices without a value are dropped).
    #[serde(default, deserialize_with = "loose::opt_list")]
    pub values: Option<Vec<FieldValue>>,
    /// Longer help text.
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub description: Option<String>,
    /// Mechanisms the field applies to (`credentials`, `webauth`); legacy sent one string.
    #[serde(default, deserialize_with = "string_or_list")]
    pub auth_mechanisms: Option<Vec<String>>,
    /// Source names the field applies to.
    #[serde(default, deserialize_with = "string_or_list")]
    pub connector_sources: Option<Vec<String>>,
}

impl ConnectorField {
    /// The label to show: `label`, or `name` when the label is empty.
    pub fn display_label(&self) -> &str {
        if self.label.trim().is_empty() {
            &self.name
        } else {
            &self.label
        }
    }

    /// Whether this looks like a one-time code (for `autocomplete="one-time-code"` and a
    /// numeric keyboard): its name or label mentions an OTP/code, or its regex only
    /// accepts digits.
    pub fn is_one_time_code(&self) -> bool {
        if matches!(
            self.kind,
            FieldType::Password | FieldType::List | FieldType::Date
        ) {
            return false;
        }
        // ASCII case folding is exact here: no non-ASCII letter lowercases to one of
        // the ASCII words looked for, and Unicode's tables would cost the widget's wasm
        // about 14 KB.
        let name = self.name.to_ascii_lowercase();
        let label = self.label.to_ascii_lowercase();
        name.contains("otp")
            || name.contains("code")
            || name.contains("sms")
            || label.contains("code")
            || label.contains("otp")
            || self.regex.as_deref().is_some_and(regex_is_digits_only)
    }
}

/// True for patterns like `^[0-9]{6}$`, `^\d{4,8}$`, `\d+`.
fn regex_is_digits_only(re: &str) -> bool {
    let core = re.trim_start_matches('^').trim_end_matches('$');
    let rest = core
        .strip_prefix("[0-9]")
        .or_else(|| core.strip_prefix("\\d"))
        .unwrap_or("x");
    rest.is_empty()
        || rest == "+"
        || rest == "*"
        || (rest.starts_with('{')
            && rest.ends_with('}')
            && rest[1..rest.len() - 1]
                .bytes()
                .all(|c| c.is_ascii_digit() || c == b','))
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Loose>),
        #[allow(dead_code)]
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v.into_iter().filter_map(Loose::into_str).collect()),
        _ => None,
    })
}

/// The type of a [`ConnectorField`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum FieldType {
    /// `text` (also the default when absent).
    #[default]
    Text,
    /// `password`: masked.
    Password,
    /// `date`: submitted as `yyyy-mm-dd`.
    Date,
    /// `list`: one of `values`.
    List,
    /// `number` (in the spec, not the prose docs).
    Number,
    /// Anything else (legacy `hidden`, future types): kept, rendered as text.
    Other(String),
}

impl FieldType {
    /// Powens' string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "text",
            Self::Password => "password",
            Self::Date => "date",
            Self::List => "list",
            Self::Number => "number",
            Self::Other(s) => s,
        }
    }

    /// Parses Powens' string; never fails.
    pub fn parse(s: &str) -> Self {
        match s {
            "text" => Self::Text,
            "password" => Self::Password,
            "date" => Self::Date,
            "list" => Self::List,
            "number" => Self::Number,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for FieldType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<Loose>::deserialize(d)? {
            Some(Loose::Str(s)) => Self::parse(&s),
            _ => Self::Text,
        })
    }
}

/// One choice of a `list` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldValue {
    /// What to show (`null` reads as empty: show the value then).
    #[serde(default, deserialize_with = "loose::string")]
    pub label: String,
    /// What to send. A choice whose value is missing or `null` cannot be sent, and is
    /// dropped from its list.
    pub value: String,
}

/// `request_id` of an error: an integer per the docs, a string per the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// Documented form.
    Number(i64),
    /// Spec form.
    Text(String),
}

/// Powens' error envelope (4xx/5xx), e.g. `{"code":"wrongpass","description":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowensError {
    /// Machine code (`wrongpass`, `invalidValue`, `missingParameter`, ...).
    #[serde(default)]
    pub code: String,
    /// Technical text, not for users.
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub description: Option<String>,
    /// Optional bank message, untranslated.
    #[serde(default, deserialize_with = "loose::opt_string")]
    pub message: Option<String>,
    /// Request id, for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// `POST /auth/init` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthToken {
    /// The user token.
    pub auth_token: String,
    /// `permanent` or `temporary`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The new user's id.
    #[serde(default, deserialize_with = "loose::opt_id")]
    pub id_user: Option<i64>,
    /// Lifetime in seconds (`null` for permanent tokens).
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// `POST /auth/renew` and `POST /auth/token/access` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The user token (one guide example calls it `token`: accepted too).
    #[serde(alias = "token")]
    pub access_token: String,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
}

/// `GET /auth/token/code` answer: a temporary code for the webviews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    /// The code.
    pub code: String,
    /// Always `temporary`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `single` (singleAccess) or `standard` (requestAccess).
    #[serde(default)]
    pub access: Option<String>,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// `GET /webauth-url` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebauthUrl {
    /// Where to send the user's browser.
    pub url: String,
}
