//! `cargo xtask bench …`: benchmarks that print figures (never timed tests that flake).

use crate::procs::run;
use crate::setup;
use crate::util::{Result, cmd, root, target_dir};
use crate::wire;

/// `bench widget`: release-builds the widget and the proxy, starts the proxy in sandbox
/// mode on a free loopback port and prints the element's bytes on the wire per file
/// (brotli, gzip, identity, and what a browser's request got), then stops it.
pub fn widget() -> Result {
    setup::ensure()?;
    run(
        "release build of the widget (trunk, std rebuilt for size)",
        &mut crate::release::trunk_release(),
    )?;
    run(
        "release build of mend-proxy",
        cmd("cargo").args(["build", "--release", "-p", "mend-proxy"]),
    )?;
    let (proxy, addr) = wire::start_proxy(
        &target_dir().join("release/mend-proxy"),
        &root().join("dist"),
    )?;
    let figures = wire::measure(addr)?;
    drop(proxy);
    println!(
        "\n<mend-connection> on the wire, from the release mend-proxy at http://{addr}/ \
         (body bytes; browser = Accept-Encoding: br, gzip):\n"
    );
    print!("{}", figures.table());
    println!("{}", figures.verdict());
    Ok(())
}

/// Runs `mend-bench proxy` (crates/bench) in release mode.
pub fn proxy(args: &[&str]) -> Result {
    run(
        "proxy benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "proxy"])
            .args(args),
    )?;
    Ok(())
}

/// Runs `mend-bench upstream` (crates/bench) in release mode: Powens requests a minute.
pub fn upstream(args: &[&str]) -> Result {
    run(
        "upstream (fair use) benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "upstream"])
            .args(args),
    )?;
    Ok(())
}

/// Runs `mend-bench soak` (crates/bench) in release mode: widgets under upstream faults.
pub fn soak(args: &[&str]) -> Result {
    run(
        "fault soak (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "soak"])
            .args(args),
    )?;
    Ok(())
}

/// Runs `mend-bench cluster` (crates/bench) in release mode: three replicas, Redis and
/// HAProxy against one replica alone (the replicas are the release `mend-proxy`).
pub fn cluster(args: &[&str]) -> Result {
    // redis-server and haproxy come from the set-up table.
    setup::ensure()?;
    run(
        "build mend-proxy (release)",
        cmd("cargo").args(["build", "--release", "-p", "mend-proxy"]),
    )?;
    run(
        "cluster benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "cluster"])
            .args(args)
            .env("MEND_PROXY_BIN", target_dir().join("release/mend-proxy")),
    )?;
    Ok(())
}
