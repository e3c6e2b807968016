//! The proxy's HTTP API end to end: a real `mend-proxy` on port 0 in sandbox mode
//! (the Powens simulator in-process), driven over HTTP. One binary (one link, one
//! shared log capture), one module per subject, names that read as specs. Timings
//! (poll interval, upstream timeout, sandbox delays) are shortened so the whole suite
//! stays fast.

mod helpers;

mod actions;
mod budget;
mod fields;
mod hardening;
mod list;
mod listener;
mod modes;
mod openapi;
mod powens_answers;
mod reads;
mod redirects;
mod sessions;
mod status;
mod upstream;
mod watching;
mod webhooks;
mod widget;
