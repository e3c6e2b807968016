//! Set-up: install what is missing, idempotently, one line per tool and the time of
//! each install. `cargo xtask dev` and `cargo xtask test` run it first; `cargo xtask
//! setup` runs it alone. Nothing here downloads from GitHub: cargo tools come from
//! crates.io, browsers from Debian, wasm-opt and Playwright from npm.
//!
//! What is installed is the [`TOOLS`] table: adding a tool is one entry. Installs are
//! batched by source, so a cold machine pays each installer once: one `apt-get
//! install` for every missing Debian package, one `cargo install` per set of flags for
//! the cargo tools (they then share one build folder), one `npm ci`.

use crate::procs::run;
use crate::release;
use crate::util::{
    Result, cargo_bin, cmd, fmt_duration, locked_version, output, root, target_dir, trunk_cache,
    which,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where a tool comes from, and so how it is found and installed.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A target of the toolchain pinned in rust-toolchain.toml.
    RustupTarget(&'static str),
    /// A Debian package (root only; otherwise the `sudo` line is printed).
    Apt(&'static str),
    /// A binary crate from crates.io.
    Cargo {
        krate: &'static str,
        version: Version,
        /// The binary whose `--version` shows the installed version.
        bin: &'static str,
        /// Extra `cargo install` flags. Tools with the same flags share one run.
        flags: &'static [&'static str],
    },
    /// The repository's npm packages (`npm ci` from package-lock.json).
    NpmCi,
    /// npm's wasm-opt where Trunk and a plain shell find it, independent of any
    /// checkout: a copy in Trunk's own tool cache, linked into `~/.cargo/bin`.
    WasmOpt,
}

/// Which version of a crate to install.
#[derive(Debug, Clone, Copy)]
enum Version {
    Exact(&'static str),
    /// The version of this crate in Cargo.lock (the CLI must match the library).
    LockedAs(&'static str),
}

/// One thing set-up makes sure of.
#[derive(Debug)]
struct Tool {
    source: Source,
    /// Why it is needed, shown when it is installed.
    why: &'static str,
    /// Overrides the source's own check (e.g. npm may come from outside Debian).
    present: Option<fn() -> bool>,
}

const fn tool(source: Source, why: &'static str) -> Tool {
    Tool {
        source,
        why,
        present: None,
    }
}

/// Flags every cargo tool shares: `--locked` (their own lock files), and
/// `--ignore-rust-version` (trunk 0.22 declares Rust 1.96.1; it builds and works with
/// our 1.95).
const LOCKED: &[&str] = &["--locked", "--ignore-rust-version"];

/// Everything the two commands need. Order within a source is the install order.
const TOOLS: &[Tool] = &[
    tool(Source::RustupTarget("wasm32-unknown-unknown"), "the widget"),
    tool(Source::Apt("chromium"), "browser tests and end to end"),
    tool(Source::Apt("chromium-driver"), "browser tests"),
    tool(Source::Apt("firefox-esr"), "browser tests in Firefox"),
    tool(
        Source::Apt("redis-server"),
        "the cluster tier of the end-to-end suite (e2e/cluster.test.mjs)",
    ),
    tool(Source::Apt("haproxy"), "the cluster tier's load balancer"),
    Tool {
        source: Source::Apt("nodejs"),
        why: "wasm-opt, Playwright",
        present: Some(|| which("npm").is_some() && which("node").is_some()),
    },
    tool(
        Source::NpmCi,
        "wasm-opt 132, Playwright, axe, and the TypeScript and React/Vue hosts of the e2e suite",
    ),
    tool(Source::WasmOpt, "trunk finds wasm-opt 132 without xtask"),
    tool(
        Source::Cargo {
            krate: "wasm-bindgen-cli",
            version: Version::LockedAs("wasm-bindgen"),
            bin: "wasm-bindgen",
            // Not --locked: its lock file pins a webpki-roots missing from the index.
            flags: &["--ignore-rust-version"],
        },
        "trunk and the browser tests' runner",
    ),
    tool(
        Source::Cargo {
            krate: "trunk",
            version: Version::Exact("0.22.1"),
            bin: "trunk",
            flags: LOCKED,
        },
        "builds and serves the widget",
    ),
    tool(
        Source::Cargo {
            krate: "geckodriver",
            version: Version::Exact("0.37.1"),
            bin: "geckodriver",
            flags: LOCKED,
        },
        "browser tests in Firefox (not in Debian; npm's downloads from GitHub)",
    ),
    tool(
        Source::Cargo {
            krate: "cargo-deny",
            version: Version::Exact("0.20.2"),
            bin: "cargo-deny",
            flags: LOCKED,
        },
        "licence, ban and source checks",
    ),
    tool(
        Source::Cargo {
            krate: "cargo-fuzz",
            version: Version::Exact("0.13.2"),
            bin: "cargo-fuzz",
            flags: LOCKED,
        },
        "the fuzz tier (cargo xtask fuzz, and its short run in cargo xtask test)",
    ),
];

/// Makes sure every tool of [`TOOLS`] is there, installing what is missing.
pub fn ensure() -> Result {
    let start = Instant::now();
    println!("==> set-up: checking the tools (cargo xtask setup)");
    let mut ran = 0;
    ran += rustup_targets()?;
    ran += size_toolchain()?;
    ran += apt()?;
    ran += npm()?;
    ran += wasm_opt()?;
    ran += cargo_tools()?;
    require_build_tools()?;
    println!(
        "<== set-up: ok in {} ({ran} install{} run)",
        fmt_duration(start.elapsed()),
        if ran == 1 { "" } else { "s" }
    );
    Ok(())
}

fn tools(pick: fn(&Source) -> bool) -> impl Iterator<Item = &'static Tool> {
    TOOLS.iter().filter(move |t| pick(&t.source))
}

fn ok(what: &str) {
    println!("ok   {what}");
}

fn installed(what: &str, took: Duration) {
    println!("done {what} ({})", fmt_duration(took));
}

fn rustup_targets() -> Result<usize> {
    let have = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    let mut ran = 0;
    for t in tools(|s| matches!(s, Source::RustupTarget(_))) {
        let Source::RustupTarget(target) = t.source else {
            continue;
        };
        if have.lines().any(|l| l.trim() == target) {
            ok(&format!("{target} target"));
        } else {
            let took = run(
                &format!("rustup target add {target} ({})", t.why),
                cmd("rustup").args(["target", "add", target]),
            )?;
            installed(&format!("{target} target"), took);
            ran += 1;
        }
    }
    Ok(ran)
}

/// The pinned nightly of the widget's release build (std rebuilt for size, see
/// xtask/src/release.rs) with `rust-src`, and the crates its std needs, fetched so that
/// the build works `--offline`.
fn size_toolchain() -> Result<usize> {
    let what = format!("{} with rust-src", release::SIZE_TOOLCHAIN);
    let mut ran = 0;
    if release::toolchain_ready() {
        ok(&what);
    } else {
        let took = run(
            &format!("rustup toolchain install {what} (the widget's release build)"),
            &mut release::install(),
        )?;
        installed(&what, took);
        ran += 1;
    }
    // Quick when they are cached; a fresh machine downloads them here, not offline.
    run(
        &format!("cargo fetch (std's crates, {})", release::SIZE_TOOLCHAIN),
        &mut release::fetch_std_deps()?,
    )?;
    Ok(ran)
}

fn apt() -> Result<usize> {
    let mut missing = Vec::new();
    for t in tools(|s| matches!(s, Source::Apt(_))) {
        let Source::Apt(pkg) = t.source else {
            continue;
        };
        let present = t.present.map_or_else(|| dpkg_installed(pkg), |f| f());
        if present {
            ok(&format!("{pkg} (apt)"));
        } else {
            missing.push(pkg);
        }
    }
    if missing.is_empty() {
        return Ok(0);
    }
    let list = missing.join(" ");
    if output("id", &["-u"]).as_deref() != Some("0") {
        return Err(format!(
            "missing Debian packages: {list}. Not root, so not installing them: run\n  \
             sudo apt-get install --no-install-recommends {list}"
        ));
    }
    let took = run("apt-get update", cmd("apt-get").args(["update", "-q"]))?
        + run(
            &format!("apt-get install {list}"),
            cmd("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    installed(&format!("{list} (apt, one call)"), took);
    Ok(1)
}

fn dpkg_installed(pkg: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", pkg])
        .is_some_and(|s| s.contains("install ok installed"))
}

fn npm() -> Result<usize> {
    if node_modules_current() {
        ok(
            "node_modules (npm ci: binaryen, playwright-core, axe-core, typescript, esbuild, react, vue)",
        );
        return Ok(0);
    }
    let took = run("npm ci", cmd("npm").args(["ci", "--no-fund", "--no-audit"]))?;
    installed("node_modules (npm ci)", took);
    Ok(1)
}

/// `node_modules` is there and at least as new as the lockfile.
fn node_modules_current() -> bool {
    let marker = root().join("node_modules/.package-lock.json");
    let lock = root().join("package-lock.json");
    let (Ok(m), Ok(l)) = (std::fs::metadata(&marker), std::fs::metadata(&lock)) else {
        return false;
    };
    root().join("node_modules/binaryen/bin/wasm-opt").exists()
        && matches!((m.modified(), l.modified()), (Ok(a), Ok(b)) if a >= b)
}

/// The wasm-opt version Trunk.toml pins, e.g. `version_132`.
pub fn pinned_wasm_opt() -> Result<String> {
    let toml = std::fs::read_to_string(root().join("Trunk.toml")).map_err(|e| e.to_string())?;
    toml.lines()
        .find_map(|l| {
            let v = l
                .trim()
                .strip_prefix("wasm_opt")?
                .trim()
                .strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "Trunk.toml pins no [tools] wasm_opt".into())
}

fn wasm_opt_ok(bin: &Path, pinned: &str) -> bool {
    let number = pinned.trim_start_matches("version_");
    std::process::Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("version {number}")))
}

/// Trunk looks up `wasm-opt` on PATH, and when that one is not the pinned version
/// (Debian's 108, say) in its cache, `<cache>/wasm-opt-<version>/bin/wasm-opt`, before
/// downloading from GitHub. A copy of npm's binaryen package there (its `bin/wasm-opt`
/// is a node script) makes both lookups succeed without node_modules on PATH, and the
/// copy outlives the checkout it came from.
fn wasm_opt() -> Result<usize> {
    let pinned = pinned_wasm_opt()?;
    let cached_dir = trunk_cache().join(format!("wasm-opt-{pinned}"));
    let cached = cached_dir.join("bin/wasm-opt");
    let link = cargo_bin().join("wasm-opt");
    let link_ok =
        std::fs::read_link(&link).is_ok_and(|t| t == cached) && wasm_opt_ok(&link, &pinned);
    if wasm_opt_ok(&cached, &pinned) && link_ok {
        ok(&format!(
            "wasm-opt {pinned} ({} -> trunk's cache)",
            link.display()
        ));
        return Ok(0);
    }
    let start = Instant::now();
    println!(
        "\n==> wasm-opt {pinned}: npm's binaryen into {}",
        cached_dir.display()
    );
    let package = root().join("node_modules/binaryen");
    if !wasm_opt_ok(&package.join("bin/wasm-opt"), &pinned) {
        return Err(format!(
            "node_modules/binaryen is not wasm-opt {pinned}: package.json's binaryen and \
             Trunk.toml's [tools] wasm_opt must name the same version"
        ));
    }
    let staging = cached_dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&staging);
    copy_dir(&package, &staging).map_err(|e| format!("copying {}: {e}", package.display()))?;
    let _ = std::fs::remove_dir_all(&cached_dir);
    std::fs::rename(&staging, &cached_dir).map_err(|e| e.to_string())?;
    // Never replace someone's own wasm-opt binary; a link of ours (or a broken one) is fine.
    match std::fs::symlink_metadata(&link) {
        Ok(m) if !m.file_type().is_symlink() => println!(
            "note {} is not ours: left alone (trunk still finds its cache copy)",
            link.display()
        ),
        _ => {
            let _ = std::fs::remove_file(&link);
            std::fs::create_dir_all(cargo_bin()).map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(&cached, &link)
                .map_err(|e| format!("linking {}: {e}", link.display()))?;
        }
    }
    if !wasm_opt_ok(&cached, &pinned) {
        return Err(format!("{} does not run", cached.display()));
    }
    installed(&format!("wasm-opt {pinned}"), start.elapsed());
    Ok(1)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn version_of(v: Version) -> Result<String> {
    match v {
        Version::Exact(s) => Ok(s.to_owned()),
        Version::LockedAs(name) => {
            locked_version(name).ok_or_else(|| format!("no {name} in Cargo.lock"))
        }
    }
}

fn cargo_tools() -> Result<usize> {
    // (flags, [krate@version], [names]) per distinct set of flags.
    let mut runs: Vec<(&[&str], Vec<String>, Vec<String>)> = Vec::new();
    for t in tools(|s| matches!(s, Source::Cargo { .. })) {
        let Source::Cargo {
            krate,
            version,
            bin,
            flags,
        } = t.source
        else {
            continue;
        };
        let v = version_of(version)?;
        let shown = output(bin, &["--version"]).unwrap_or_default();
        if shown.split_whitespace().any(|w| w == v) {
            ok(&format!("{krate} {v}"));
            continue;
        }
        println!("need {krate} {v} ({})", t.why);
        let spec = format!("{krate}@{v}");
        match runs.iter_mut().find(|r| r.0 == flags) {
            Some(r) => {
                r.1.push(spec);
                r.2.push(format!("{krate} {v}"));
            }
            None => runs.push((flags, vec![spec], vec![format!("{krate} {v}")])),
        }
    }
    for (flags, specs, names) in &runs {
        let took = run(
            &format!("cargo install {}", specs.join(" ")),
            cmd("cargo")
                .arg("install")
                .args(specs)
                .args(*flags)
                .arg("--force")
                // One build folder for all of them: shared dependencies compile once.
                .env("CARGO_TARGET_DIR", tools_target())
                // Tools, not shipped code: thin builds are minutes faster (fat LTO made
                // trunk alone take 9 minutes instead of 6.5).
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                .env("CARGO_PROFILE_RELEASE_DEBUG", "false"),
        )?;
        installed(&names.join(", "), took);
    }
    Ok(runs.len())
}

fn tools_target() -> PathBuf {
    target_dir().join("tools")
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
    let pinned = pinned_wasm_opt()?;
    match which("wasm-opt") {
        Some(p) if wasm_opt_ok(&p, &pinned) => {}
        Some(p) => problems.push(format!(
            "wasm-opt {pinned} (the first on PATH, {}, is another version)",
            p.display()
        )),
        None => problems.push(format!("wasm-opt {pinned}")),
    }
    if !release::toolchain_ready() {
        problems.push(format!("{} with rust-src", release::SIZE_TOOLCHAIN));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing or wrong after set-up: {}",
            problems.join(", ")
        ))
    }
}

/// Names of everything the table installs (for `cargo xtask help`).
pub fn summary() -> String {
    TOOLS
        .iter()
        .map(|t| match t.source {
            Source::RustupTarget(x) => format!("{x} target"),
            Source::Apt(p) => p.to_owned(),
            Source::Cargo { krate, .. } => krate.to_owned(),
            Source::NpmCi => "npm packages".to_owned(),
            Source::WasmOpt => "wasm-opt link".to_owned(),
        })
        .chain([format!("{} (rust-src)", release::SIZE_TOOLCHAIN)])
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_and_package_json_pin_the_same_wasm_opt() {
        let pinned = pinned_wasm_opt().unwrap();
        let number = pinned.strip_prefix("version_").expect("version_N");
        let package = std::fs::read_to_string(root().join("package.json")).unwrap();
        assert!(
            package.contains(&format!("\"binaryen\": \"{number}.")),
            "package.json's binaryen is {number}.x"
        );
    }

    #[test]
    fn every_cargo_tool_has_a_resolvable_version() {
        for t in TOOLS {
            if let Source::Cargo { version, .. } = t.source {
                assert!(version_of(version).is_ok(), "{t:?}");
            }
        }
    }
}
