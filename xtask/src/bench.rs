//! `cargo xtask bench …`: benchmarks that print figures (never timed tests that flake).

use crate::procs::run;
use crate::setup;
use crate::util::{Result, cmd, root, target_dir};
use crate::wire;

/// Set-up, then the release builds of the widget and the proxy: the release proxy's path.
fn release_builds() -> Result<std::path::PathBuf> {
    setup::ensure()?;
    run(
        "release build of the widget (trunk, std rebuilt for size)",
        &mut crate::release::trunk_release(),
    )?;
    run(
        "release build of mend-proxy",
        cmd("cargo").args(["build", "--release", "-p", "mend-proxy"]),
    )?;
    Ok(target_dir().join("release/mend-proxy"))
}

/// `bench widget`: release-builds the widget and the proxy, starts the proxy in sandbox
/// mode on a free loopback port and prints the element's bytes on the wire per file
/// (brotli, gzip, identity, and what a browser's request got), then stops it.
pub fn widget() -> Result {
    let proxy = release_builds()?;
    let (proxy, addr) = wire::start_proxy(&proxy, &root().join("dist"))?;
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

/// `bench first-state`: release-builds the widget and the proxy, then runs
/// `e2e/timing.test.mjs` against the release proxy: how long the element takes to show
/// its first state, imported by script and as a host page embeds it, beside plain JS
/// fetching the same status, with the breakdown of where the time goes.
pub fn first_state() -> Result {
    let proxy = release_builds()?;
    run(
        "first state: the widget vs plain JS (e2e/timing.test.mjs, release proxy)",
        cmd("node")
            .args(["--test", "--test-reporter=spec", "e2e/timing.test.mjs"])
            .env("MEND_PROXY_BIN", &proxy)
            .env("MEND_TIMING_PROXY_BIN", &proxy)
            .env("MEND_WIDGET_DIR", root().join("dist")),
    )?;
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

/// Runs `mend-bench soak` (crates/bench) in release mode: widgets under upstream faults,
/// against the release `mend-proxy` binary (built here) with the sandbox in the bench
/// process, or with `--cluster` three replicas, Redis and HAProxy; `--in-proxy` and
/// `--cold` run the proxy in sandbox mode inside a child of the bench instead.
pub fn soak(args: &[&str]) -> Result {
    if args.contains(&"--cluster") {
        // redis-server and haproxy come from the set-up table.
        setup::ensure()?;
    }
    let mut c = cmd("cargo");
    c.args(["run", "--release", "-p", "mend-bench", "--", "soak"])
        .args(args);
    if !args.iter().any(|a| matches!(*a, "--in-proxy" | "--cold")) {
        run(
            "build mend-proxy (release)",
            cmd("cargo").args(["build", "--release", "-p", "mend-proxy"]),
        )?;
        c.env("MEND_PROXY_BIN", target_dir().join("release/mend-proxy"));
    }
    run("fault soak (release)", &mut c)?;
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
