//! `cargo xtask screenshots [LANG…]`: refreshes the tracked pictures in
//! `docs/screenshots/` (the only command that writes there; a test run writes its
//! own under `target/screenshots/`). They are deterministic: the sandbox's clock and
//! the browser's are both fixed (see e2e/screenshots.test.mjs), so an unchanged
//! widget gives the same PNGs.
//!
//! Languages: the widget's seven by default; each one given is taken, each in
//! `docs/screenshots/<lang>/` with its gallery.

use crate::procs::run;
use crate::setup;
use crate::util::{Result, cmd, root, target_dir};

/// `cargo xtask screenshots [LANG…]`.
pub fn screenshots(langs: &[&str]) -> Result {
    for l in langs {
        if l.is_empty() || l.len() > 8 || !l.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return Err(format!("`{l}` is not a language tag (e.g. en, fr, pt-BR)"));
        }
    }
    let langs = if langs.is_empty() {
        "en,fr,de,es,it,nl,pt".to_owned()
    } else {
        langs.join(",")
    };
    setup::ensure()?;
    run(
        "release build of the widget (trunk, std rebuilt for size)",
        &mut crate::release::trunk_release(),
    )?;
    run(
        "build mend-proxy",
        cmd("cargo").args(["build", "-p", "mend-proxy"]),
    )?;
    let out = root().join("docs/screenshots");
    run(
        &format!("screenshots ({langs}) into {}", out.display()),
        cmd("node")
            .args(["--test", "--test-reporter=spec", "e2e/screenshots.test.mjs"])
            .env("MEND_PROXY_BIN", target_dir().join("debug/mend-proxy"))
            .env("MEND_WIDGET_DIR", root().join("dist"))
            .env("MEND_SCREENSHOTS_DIR", &out)
            .env("MEND_SCREENSHOT_LANGS", &langs),
    )?;
    println!(
        "\nRefreshed {}: review with `git diff --stat docs/screenshots`.",
        out.display()
    );
    Ok(())
}
