//! OpenAPI schemas (utoipa) of the wire types whose serde impls are written by hand:
//! the `wire_names!` enums, Powens' states and field types, and error codes. Behind
//! the `openapi` feature, which only the proxy enables (the widget's wasm never
//! compiles utoipa). The derived structs carry `cfg_attr(…, derive(ToSchema))`.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::api::{Action, CallbackOutcome, ErrorCode, FieldProblem, KnownErrorCode, RedirectKind};
use crate::powens::FieldType;
use crate::state::ConnectionState;

/// A string schema, closed to `values` when `closed`, else open (the values are the
/// known ones, listed as examples: Powens may add others, passed as they come).
fn strings<'a>(
    description: &str,
    values: impl IntoIterator<Item = &'a str>,
    closed: bool,
) -> RefOr<Schema> {
    let values: Vec<String> = values.into_iter().map(str::to_owned).collect();
    let b = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description));
    let b = if closed {
        b.enum_values(Some(values))
    } else {
        b.examples(values)
    };
    RefOr::T(Schema::Object(b.build()))
}

/// Implements the schema of a `wire_names!` enum: exactly its wire strings.
macro_rules! wire_schema {
    ($($ty:ty: $doc:literal),+ $(,)?) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                strings($doc, <$ty>::ALL.iter().map(|v| v.as_str()), true)
            }
        }
        impl ToSchema for $ty {}
    )+};
}

wire_schema! {
    Action: "A user action, as in the widget's `data-action` attribute.",
    RedirectKind: "Which redirect flow.",
    CallbackOutcome: "How a redirect ended.",
    KnownErrorCode: "An error code of this proxy.",
    FieldProblem: "Why one field's value was refused.",
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        strings(
            "Stable machine code. A client should treat a code it does not know as `internal`.",
            KnownErrorCode::ALL.iter().map(|c| c.as_str()),
            true,
        )
    }
}
impl ToSchema for ErrorCode {}

impl PartialSchema for ConnectionState {
    fn schema() -> RefOr<Schema> {
        let documented: Vec<String> = ConnectionState::DOCUMENTED
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        strings(
            "Powens' connection state (`null` when fine). Any other string Powens sends \
             is passed as it comes.",
            documented.iter().map(String::as_str),
            false,
        )
    }
}
impl ToSchema for ConnectionState {}

impl PartialSchema for FieldType {
    fn schema() -> RefOr<Schema> {
        strings(
            "The type of a field (`text` when Powens gives none); any other string is \
             passed as it comes and shown as text.",
            ["text", "password", "date", "list", "number"],
            false,
        )
    }
}
impl ToSchema for FieldType {}
