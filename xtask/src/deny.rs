//! `cargo deny`, offline: licences, bans and sources always (deny.toml); advisories
//! only when a local advisory database exists. RustSec's database is a GitHub
//! repository, which this network cannot reach, so a machine without a copy skips
//! that check and says so instead of failing.

use crate::procs::run;
use crate::util::{Result, cargo_bin, cmd};
use std::path::PathBuf;
use std::time::Duration;

/// Where cargo-deny keeps its advisory databases (its default `db-path`).
fn advisory_dbs() -> PathBuf {
    cargo_bin()
        .parent()
        .map_or_else(|| PathBuf::from("advisory-dbs"), |h| h.join("advisory-dbs"))
}

/// Whether a database was fetched there before (one folder per database URL).
fn have_advisories() -> bool {
    std::fs::read_dir(advisory_dbs()).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.path().is_dir() && e.path().join("crates").is_dir())
    })
}

/// What the check covers, for the summary table.
pub fn summary() -> String {
    if have_advisories() {
        "cargo deny: licenses, bans, sources, advisories".into()
    } else {
        "cargo deny: licenses, bans, sources".into()
    }
}

/// Runs the checks; `--offline` keeps cargo-deny (and the `cargo metadata` it runs)
/// off the network and from fetching any database.
pub fn check() -> Result<Duration> {
    let mut which = vec!["licenses", "bans", "sources"];
    if have_advisories() {
        which.push("advisories");
    } else {
        println!(
            "\nnote: no advisory database in {}: `cargo deny check advisories` is skipped. \
             RustSec's database lives on GitHub, which this network cannot reach; where it \
             can, `cargo deny fetch` once makes this run check advisories too.",
            advisory_dbs().display()
        );
    }
    // cargo-deny reads `cargo metadata` for every platform, so crates no build here
    // downloads (Windows-only ones) must be in the local registry: fetch them from
    // crates.io first (a no-op once they are).
    let fetched = run(
        "cargo fetch (every platform's crates, for cargo deny)",
        cmd("cargo").args(["fetch", "--locked", "--quiet"]),
    )?;
    let checked = run(
        &format!("cargo deny (offline): {}", which.join(", ")),
        cmd("cargo")
            .args([
                "deny",
                "--offline",
                "--workspace",
                "check",
                "--hide-inclusion-graph",
            ])
            .args(&which),
    )?;
    Ok(fetched + checked)
}
