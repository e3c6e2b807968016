//! # mend: the `<mend-connection>` widget
//!
//! Tells an end user that their Powens bank connection needs attention and repairs
//! it in place, talking only to `mend-proxy`. From the element down (no module
//! imports one above it, and none imports another in a cycle):
//!
//! - [`element`]: mounting into a custom element's shadow root (`mend.js` drives it);
//!   [`list`]: `<mend-connections>`, a list of such elements, one request for all;
//! - [`components`]: the Leptos components, one per kind of panel, and the root that
//!   switches between them;
//! - [`app`]: the controller that runs the machine's effects (requests, long polls,
//!   timers, host events, focus) and holds the signals the components read;
//! - [`panel`]: what each state shows, as data (pure, unit-tested per state);
//! - [`state`]: the state machine, plain Rust, unit-tested natively;
//! - [`form`]: fields → inputs, and the checks done before sending;
//! - [`client`]: the proxy's API behind the [`client::Api`] seam (real and fake), with
//!   [`wire`] (its JSON via the browser's `JSON.parse`) and [`error`];
//! - [`i18n`]: the copy in seven languages; [`attrs`], [`dom`]: the element's
//!   attributes and small browser helpers.
//!
//! `docs/widget.md` maps each Powens state to its panel and component.

pub mod app;
pub mod attrs;
pub mod client;
pub mod components;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dom;
pub mod element;
pub mod error;
pub mod form;
pub mod i18n;
pub mod list;
pub mod panel;
pub mod state;
pub mod wire;

pub use attrs::Attrs;
pub use client::{Api, FakeClient, HttpClient};
pub use element::{ElementHandle, Widget, mount, mount_started};
pub use list::List;
