//! `cargo xtask setup`: install what is missing, idempotently, saying what it does and
//! how long it took. Nothing here downloads from GitHub: cargo tools come from
//! crates.io, browsers from Debian, wasm-opt and Playwright from npm.

use crate::util::{Result, cmd, fmt_duration, locked_version, output, root, run, which};
use std::time::Instant;

/// trunk 0.22.1 declares rust-version 1.96.1; it builds and works with our 1.95.
const TRUNK_VERSION: &str = "0.22.1";
/// Browsers and drivers for the browser tiers; `redis-server` and `haproxy` for the
/// cluster tier of the end-to-end suite (e2e/cluster.test.mjs).
const APT_PACKAGES: [&str; 5] = [
    "chromium",
    "chromium-driver",
    "firefox-esr",
    "redis-server",
    "haproxy",
];

pub fn run_setup() -> Result {
    let start = Instant::now();
    let mut did = Vec::new();

    // 1. The wasm32 target (rust-toolchain.toml names it too; this covers older rustups).
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        println!("ok   wasm32-unknown-unknown target");
    } else {
        did.push(step(
            "rustup target add wasm32-unknown-unknown",
            cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?);
    }

    // 2. Browsers, drivers, Redis and HAProxy from Debian.
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| !apt_installed(p))
        .collect();
    if missing.is_empty() {
        println!("ok   {} (apt)", APT_PACKAGES.join(", "));
    } else if is_root() {
        did.push(step(
            "apt-get update",
            cmd("apt-get").args(["update", "-q"]),
        )?);
        did.push(step(
            &format!("apt-get install {}", missing.join(" ")),
            cmd("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?);
    } else {
        return Err(format!(
            "missing Debian packages: {m}. Not root, so not installing them: run\n  \
             sudo apt-get install --no-install-recommends {m}",
            m = missing.join(" ")
        ));
    }

    // 3. wasm-bindgen-cli, exactly the version in Cargo.lock (trunk would otherwise try
    //    GitHub). No --locked: its lockfile pins a webpki-roots missing from the index.
    let wb = locked_version("wasm-bindgen").ok_or("no wasm-bindgen in Cargo.lock")?;
    if output("wasm-bindgen", &["--version"]).as_deref() == Some(&format!("wasm-bindgen {wb}")) {
        println!("ok   wasm-bindgen-cli {wb}");
    } else {
        did.push(step(
            &format!("cargo install wasm-bindgen-cli {wb}"),
            cmd("cargo").args(["install", "wasm-bindgen-cli", "--version", &wb, "--force"]),
        )?);
    }

    // 4. trunk, with --ignore-rust-version, and without fat LTO (6.5 instead of 9 minutes).
    if output("trunk", &["--version"]).as_deref() == Some(&format!("trunk {TRUNK_VERSION}")) {
        println!("ok   trunk {TRUNK_VERSION}");
    } else {
        did.push(step(
            &format!("cargo install trunk {TRUNK_VERSION}"),
            cmd("cargo")
                .args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"])
                .args(["--ignore-rust-version", "--force"])
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
        )?);
    }

    // 5. geckodriver for Firefox browser tests (not in Debian; npm's downloads from GitHub).
    if which("geckodriver").is_some() {
        println!("ok   geckodriver");
    } else {
        did.push(step(
            "cargo install geckodriver",
            cmd("cargo").args(["install", "geckodriver", "--locked"]),
        )?);
    }

    // 6. Node packages: wasm-opt (binaryen 132), playwright-core, axe-core.
    if which("npm").is_none() {
        if !is_root() {
            return Err("npm is missing: install Debian's nodejs and npm".into());
        }
        did.push(step(
            "apt-get install nodejs npm",
            cmd("apt-get")
                .args([
                    "install",
                    "-y",
                    "-q",
                    "--no-install-recommends",
                    "nodejs",
                    "npm",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?);
    }
    if node_modules_current() {
        println!("ok   node_modules (binaryen, playwright-core, axe-core)");
    } else {
        did.push(step(
            "npm ci",
            cmd("npm").args(["ci", "--no-fund", "--no-audit"]),
        )?);
    }

    require_build_tools()?;
    println!(
        "\nsetup done in {} ({} step{} run)",
        fmt_duration(start.elapsed()),
        did.len(),
        if did.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn step(what: &str, c: &mut std::process::Command) -> Result<String> {
    let took = run(what, c)?;
    Ok(format!("{what} ({})", fmt_duration(took)))
}

fn apt_installed(pkg: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", pkg])
        .is_some_and(|s| s.contains("install ok installed"))
}

fn is_root() -> bool {
    output("id", &["-u"]).as_deref() == Some("0")
}

/// `node_modules` is there and at least as new as the lockfile.
fn node_modules_current() -> bool {
    let marker = root().join("node_modules/.package-lock.json");
    let lock = root().join("package-lock.json");
    let (Ok(m), Ok(l)) = (std::fs::metadata(&marker), std::fs::metadata(&lock)) else {
        return false;
    };
    root().join("node_modules/.bin/wasm-opt").exists()
        && matches!((m.modified(), l.modified()), (Ok(a), Ok(b)) if a >= b)
}

/// Fails with a helpful message when a build tool is missing or the wrong one.
pub fn require_build_tools() -> Result {
    let wb = locked_version("wasm-bindgen").unwrap_or_default();
    let mut problems = Vec::new();
    if output("wasm-bindgen", &["--version"]).as_deref() != Some(&format!("wasm-bindgen {wb}")) {
        problems.push(format!("wasm-bindgen {wb}"));
    }
    if output("trunk", &["--version"]).is_none() {
        problems.push("trunk".into());
    }
    match output("wasm-opt", &["--version"]) {
        Some(v) if v.contains("version 132") || v.contains("version_132") => {}
        _ => problems.push("wasm-opt 132 (npm binaryen)".into()),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing or wrong: {}. Run `cargo xtask setup` first.",
            problems.join(", ")
        ))
    }
}
