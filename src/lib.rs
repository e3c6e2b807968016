//! # mend: the `<mend-connection>` widget
//!
//! Tells an end user that their Powens bank connection needs attention and repairs
//! it in place, talking only to `mend-proxy`.
//!
//! - [`state`]: the state machine, plain Rust, unit-tested natively;
//! - [`form`]: fields → inputs, and the checks done before sending;
//! - [`client`]: the proxy's API behind the [`client::Api`] seam (real and fake);
//! - [`app`]: the controller that runs the machine's effects (requests, long polls,
//!   timers, host events) and the root view;
//! - [`panel`]: what each state shows, as data (pure, unit-tested per state);
//! - [`components`]: the Leptos root and the panel's DOM renderer;
//! - [`wire`]: the proxy's JSON, via the browser's `JSON.parse`;
//! - [`element`]: mounting into a custom element's shadow root (`mend.js` drives it);
//! - [`i18n`]: the copy, `en` and `fr`.

pub mod app;
pub mod client;
pub mod components;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dom;
pub mod element;
pub mod error;
pub mod form;
pub mod i18n;
pub mod panel;
pub mod state;
pub mod wire;

pub use client::{Api, FakeClient, HttpClient};
pub use element::{Attrs, ElementHandle, Widget, mount, mount_started};
