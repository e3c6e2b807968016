//! Conformance of the sandbox with Powens as the sandbox's docs (`docs/sandbox.md`)
//! describe it: every route, happy and error paths, through real HTTP on a spawned
//! sandbox. One module per area; the spawned sandbox and the shared assertions are in
//! [`app`].

mod app;
mod auth;
mod connections;
mod control;
mod more;
mod webauth;
mod webview;
