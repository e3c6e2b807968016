//! The standalone demo (placeholder filled in below).
use leptos::prelude::*;

/// The demo page.
#[component]
pub fn Demo() -> impl IntoView {
    view! { <main>"demo"</main> }
}
