//! The `<mend-connection>` element's wasm. `mend.js` imports its JS glue and drives
//! [`mend::ElementHandle`]; everything lives in the library.

// Re-exported so the wasm-bindgen exports of the library are part of this binary.
pub use mend::ElementHandle;

fn main() {}
