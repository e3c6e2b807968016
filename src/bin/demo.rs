//! The standalone demo page's wasm (`index.html`): one `<mend-connection>` per
//! sandbox connection. Built with `--features demo`; never loaded by the element.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(mend::demo::Demo);
}
