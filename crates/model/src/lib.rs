//! # mend-model
//!
//! The types Mend shares between its three programs, with serde and nothing else
//! so that it compiles for the browser (wasm32) and the host alike:
//!
//! - [`powens`]: what Powens sends and accepts (connections, their states, the
//!   fields a connector asks for, error envelopes, temporary codes). These follow
//!   Powens' documentation and what it really sends, and are **liberal in what they accept**: unknown keys are
//!   ignored, unknown states and field types are kept rather than rejected, and the
//!   documented variants (`request_id` as number or string, `error` as the
//!   deprecated twin of `state`, `"wrongPass"` spelling) all parse.
//! - [`state`]: [`ConnectionState`], the 12 documented non-null values plus
//!   [`ConnectionState::Unknown`], and how each is handled.
//! - [`datetime`]: Powens' naive `YYYY-MM-DD HH:MM:SS` date-times, and their
//!   conversion from Europe/Paris wall time to UTC.
//! - [`api`]: the wire types of the proxy's own `/api/v1` (what the widget sees).
//!   They are **exact in what they send**.

pub mod api;
pub mod datetime;
pub mod fields;
mod loose;
mod names;
#[cfg(feature = "openapi")]
mod openapi;
pub mod powens;
pub mod state;

#[doc(hidden)]
pub use serde as __serde;

pub use datetime::PowensDateTime;
pub use powens::{
    AccessToken, AuthCode, AuthToken, Connection, ConnectionList, ConnectionSource, Connector,
    ConnectorField, FieldType, FieldValue, PowensError, RequestId, WebauthUrl,
};
pub use state::{ConnectionState, StateKind};
