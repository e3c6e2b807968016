//! The widget's release build, the one `cargo xtask test` gates and `bench` measures:
//! Trunk, with the wasm and its standard library rebuilt for size on a pinned nightly.
//!
//! Why a nightly: std as shipped is compiled for speed with unwinding and full panic
//! messages; rebuilding it (`-Zbuild-std`, `optimize_for_size`, `panic=immediate-abort`)
//! took the element's wasm from 96,113 to 84,239 B brotli (BENCHMARKS.md, "Widget"), the
//! difference between over and within the 102,400 B budget. The nightly is pinned so
//! that a build is reproducible; it builds in its own target directory so that the
//! stable builds (tests, clippy, `trunk serve`) are not invalidated. A plain
//! `trunk serve` / `trunk build` on stable still works, only bigger.

use crate::util::{Result, cmd, output_of, target_dir};
use std::path::PathBuf;
use std::process::Command;

/// The nightly the release build uses; `cargo xtask setup` installs it with `rust-src`.
pub const SIZE_TOOLCHAIN: &str = "nightly-2026-05-20";

/// `trunk build --release --offline` on [`SIZE_TOOLCHAIN`], std rebuilt for size.
pub fn trunk_release() -> Command {
    let mut c = cmd("trunk");
    c.args(["build", "--release", "--offline"])
        .env("RUSTUP_TOOLCHAIN", SIZE_TOOLCHAIN)
        .env("CARGO_TARGET_DIR", target_dir().join("size"))
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        // A panic traps at once: no message, no location, no formatting code (the
        // element's own hook, `src/element.rs`, then never runs).
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort",
        )
        // RUSTFLAGS would override the target's flags above.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// A command run on [`SIZE_TOOLCHAIN`].
fn on_nightly(program: &str) -> Command {
    let mut c = cmd(program);
    c.env("RUSTUP_TOOLCHAIN", SIZE_TOOLCHAIN);
    c
}

/// What `program args…` prints on [`SIZE_TOOLCHAIN`], or `None` if it fails.
fn nightly_output(program: &str, args: &[&str]) -> Option<String> {
    output_of(on_nightly(program).args(args))
}

/// The standard library's sources in the nightly, if `rust-src` is installed.
fn std_workspace() -> Option<PathBuf> {
    let sysroot = nightly_output("rustc", &["--print", "sysroot"])?;
    let manifest = PathBuf::from(sysroot).join("lib/rustlib/src/rust/library/Cargo.toml");
    manifest.is_file().then_some(manifest)
}

/// Whether the nightly and its `rust-src` are installed.
pub fn toolchain_ready() -> bool {
    nightly_output("rustc", &["-V"]).is_some() && std_workspace().is_some()
}

/// `rustup toolchain install` of [`SIZE_TOOLCHAIN`] with `rust-src` (what setup runs
/// when [`toolchain_ready`] is false).
pub fn install() -> Command {
    let mut c = cmd("rustup");
    c.args(["toolchain", "install", SIZE_TOOLCHAIN]).args([
        "--profile",
        "minimal",
        "--component",
        "rust-src",
    ]);
    c
}

/// `cargo fetch` of std's own dependencies, so that the release build (`--offline`)
/// finds them; quick when they are already in cargo's cache.
pub fn fetch_std_deps() -> Result<Command> {
    let manifest = std_workspace().ok_or_else(|| {
        format!("{SIZE_TOOLCHAIN} or its rust-src is missing: run `cargo xtask setup`")
    })?;
    let mut c = on_nightly("cargo");
    c.arg("fetch").arg("--manifest-path").arg(manifest);
    Ok(c)
}
