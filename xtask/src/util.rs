//! Shared helpers: the project root, the tool environment, tool versions.
//! (Running commands lives in `procs`, which owns every child process.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
}

/// `$CARGO_HOME/bin` (default `~/.cargo/bin`), where `cargo install` puts trunk,
/// wasm-bindgen and the other cargo tools, and where set-up links npm's wasm-opt.
pub fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
        .join("bin")
}

/// Trunk's own tool cache (`$XDG_CACHE_HOME/trunk`, default `~/.cache/trunk`): where it
/// looks for a tool of the pinned version before it would download one.
pub fn trunk_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home().join(".cache"))
        .join("trunk")
}

/// The environment every tool runs in: cargo's installed binaries first on PATH (as
/// in a shell set up by rustup; npm's `node_modules/.bin` is deliberately *not* added,
/// so that Trunk finds wasm-opt exactly as it does when run by hand), and trunk's
/// update check off (the crates.io API is unreachable here). Applied through
/// `Command::env`, since `std::env::set_var` is `unsafe` in edition 2024 and this
/// workspace forbids unsafe code.
pub fn tool_path() -> std::ffi::OsString {
    let mut paths = vec![cargo_bin()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `target/` at the root.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A command in the project root with the tool environment applied. The target
/// directory is set explicitly so that Trunk, which builds the widget through its own
/// one-package manifest (`assets/build/`), shares the workspace's build cache.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(which(program).unwrap_or_else(|| PathBuf::from(program)));
    c.current_dir(root())
        .env("PATH", tool_path())
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CARGO_TARGET_DIR", target_dir());
    c
}

/// Finds `program` on the tool PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&tool_path())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What `program args…` prints on stdout, trimmed, or `None` if it can't run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    output_of(cmd(program).args(args))
}

/// What a prepared command prints on stdout, trimmed, or `None` if it can't run.
pub fn output_of(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1}s")
    }
}

/// The version of `crate_name` recorded in Cargo.lock (first match).
pub fn locked_version(crate_name: &str) -> Option<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).ok()?;
    let needle = format!("name = \"{crate_name}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    let end = lock[start..].find('"')? + start;
    Some(lock[start..end].to_owned())
}
