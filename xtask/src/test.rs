//! `cargo xtask test`: set-up, then everything, in order of cost, stopping at the
//! first failure and printing what ran. Browser tiers that execute zero tests fail.
//! The element's size on the wire is gated (deterministic, unlike timings: those are
//! printed, by e2e/timing.test.mjs; `cargo xtask bench first-state` takes them against
//! the release proxy); a one-minute fault soak
//! and a fixed, seeded replay of each fuzz target close the run (RELIABILITY.md); and the run
//! must leave the checkout's tracked and untracked files as it found them.

use crate::procs::{run, run_capture};
use crate::util::{Result, cmd, fmt_duration, root, target_dir, which};
use crate::{deny, setup, tree, wire};
use std::time::{Duration, Instant};

const WASM: &str = "wasm32-unknown-unknown";
/// The soak's short run: same assertions as the recorded one, but memory.
const SOAK: [&str; 5] = ["soak", "--seconds", "60", "--widgets", "40"];
/// Executions of each fuzz target in the suite, from its seeds with a fixed seed.
const FUZZ_RUNS: u64 = 50_000;

/// One tier's figures, for the summary table.
struct Tier {
    name: &'static str,
    passed: u64,
    took: Duration,
}

pub fn run_tests() -> Result {
    let start = Instant::now();
    setup::ensure()?;
    let before = tree::snapshot();
    let mut tiers: Vec<Tier> = Vec::new();
    let mut checks: Vec<(String, Duration)> = Vec::new();

    check(
        &mut checks,
        "format check",
        cmd("cargo").args(["fmt", "--all", "--", "--check"]),
    )?;
    check(
        &mut checks,
        "clippy: host crates",
        cmd("cargo").args(["clippy", "--all-targets", "--", "-D", "warnings"]),
    )?;
    check(
        &mut checks,
        "clippy: widget on the host",
        cmd("cargo").args([
            "clippy",
            "-p",
            "mend",
            "--all-features",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    check(
        &mut checks,
        "clippy: widget on wasm32",
        cmd("cargo").args([
            "clippy",
            "-p",
            "mend",
            "--target",
            WASM,
            "--all-features",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    let took = deny::check()?;
    checks.push((deny::summary(), took));

    tiers.push(cargo_tier(
        "host: model, sandbox, proxy, xtask",
        cmd("cargo").args(["test"]),
    )?);
    tiers.push(cargo_tier(
        "host: widget logic (native)",
        cmd("cargo").args(["test", "-p", "mend"]),
    )?);

    let chromedriver =
        which("chromedriver").ok_or("chromedriver missing: run `cargo xtask setup`")?;
    tiers.push(browser_tier(
        "browser: widget in headless Chromium",
        cmd("cargo")
            .args(["test", "--target", WASM, "-p", "mend"])
            .env("CHROMEDRIVER", chromedriver)
            .env_remove("GECKODRIVER"),
    )?);
    let geckodriver = which("geckodriver").ok_or("geckodriver missing: run `cargo xtask setup`")?;
    tiers.push(browser_tier(
        "browser: widget in headless Firefox",
        cmd("cargo")
            .args(["test", "--target", WASM, "-p", "mend"])
            .env("GECKODRIVER", geckodriver)
            .env_remove("CHROMEDRIVER"),
    )?);

    check(
        &mut checks,
        "release build of the widget (trunk, std rebuilt for size)",
        &mut crate::release::trunk_release(),
    )?;
    check(
        &mut checks,
        "build mend-proxy, mend-sandbox and mend-bench",
        cmd("cargo").args([
            "build",
            "-p",
            "mend-proxy",
            "-p",
            "mend-sandbox",
            "-p",
            "mend-bench",
        ]),
    )?;

    let target = target_dir();
    let proxy_bin = target.join("debug/mend-proxy");
    let gate = Instant::now();
    let (proxy, addr) = wire::start_proxy(&proxy_bin, &root().join("dist"))?;
    let figures = wire::measure(addr);
    drop(proxy);
    let figures = figures?;
    println!("\n==> size on the wire (as a browser gets it, from mend-proxy)\n");
    print!("{}", figures.table());
    println!("{}", figures.verdict());
    if figures.browser_total() > wire::BUDGET {
        return Err(format!(
            "the element is {} B on the wire, over the {} B budget (table above)",
            figures.browser_total(),
            wire::BUDGET
        ));
    }
    checks.push((
        format!(
            "size on the wire: {} of {} B (br)",
            figures.browser_total(),
            wire::BUDGET
        ),
        gate.elapsed(),
    ));

    let shots = target.join("screenshots");
    let (out, took) = run_capture(
        "end to end: Playwright + Chromium against mend-proxy (sandbox mode), and the cluster",
        cmd("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "e2e/",
            ])
            .env("MEND_PROXY_BIN", &proxy_bin)
            // The timing figures are taken against this debug proxy: a release build
            // with LTO would add ten minutes to a cold CI run for figures that are only
            // printed. Its slower answers flatter the widget/plain-JS ratio;
            // `cargo xtask bench first-state` measures against the release proxy.
            // The cluster tier's shared Powens.
            .env("MEND_SANDBOX_BIN", target.join("debug/mend-sandbox"))
            .env("MEND_WIDGET_DIR", root().join("dist"))
            // Screenshots of a test run go to the build folder; only `cargo xtask
            // screenshots` writes docs/screenshots.
            .env("MEND_SCREENSHOTS_DIR", &shots)
            .env(
                "MEND_XTASK_BIN",
                std::env::current_exe().map_err(|e| e.to_string())?,
            ),
    )?;
    let passed = node_passed(&out);
    if passed == 0 {
        return Err("end-to-end tests: zero tests executed".into());
    }
    tiers.push(Tier {
        name: "end to end (Playwright)",
        passed,
        took,
    });

    // The one-minute fault soak (RELIABILITY.md): the debug builds, which the e2e tier
    // already needs, rather than a release build of the whole proxy in CI; the proxy
    // is the mend-proxy binary, the sandbox served by mend-bench.
    check(
        &mut checks,
        "fault soak: 40 widgets, 60 s of 20 % upstream faults",
        cmd(&target.join("debug/mend-bench").to_string_lossy())
            .args(SOAK)
            .env("MEND_PROXY_BIN", &proxy_bin),
    )?;
    // The same inputs on every machine: proves each target builds, starts from its seeds and
    // replays the corpus without a finding (the long runs are in RELIABILITY.md).
    let fuzz = Instant::now();
    crate::fuzz::run_targets(&crate::fuzz::TARGETS, crate::fuzz::Limit::Replay(FUZZ_RUNS))?;
    checks.push((
        format!("fuzz: {FUZZ_RUNS} runs per target from seed 1, no finding"),
        fuzz.elapsed(),
    ));

    tree::unchanged_since(&before)?;
    checks.push((
        "the checkout is as the run found it".to_owned(),
        Duration::ZERO,
    ));

    println!("\n{:-<72}", "");
    for (name, took) in &checks {
        println!("{name:<52} ok   {:>9}", fmt_duration(*took));
    }
    let mut total = 0;
    for t in &tiers {
        println!(
            "{:<52} {:>4} passed {:>9}",
            t.name,
            t.passed,
            fmt_duration(t.took)
        );
        total += t.passed;
    }
    println!("{:-<72}", "");
    println!(
        "all checks and tests passed in {}",
        fmt_duration(start.elapsed())
    );
    println!("summary: {total} passed, 0 failed");
    Ok(())
}

fn check(
    checks: &mut Vec<(String, Duration)>,
    what: &'static str,
    c: &mut std::process::Command,
) -> Result {
    checks.push((what.to_owned(), run(what, c)?));
    Ok(())
}

fn cargo_tier(name: &'static str, c: &mut std::process::Command) -> Result<Tier> {
    let (out, took) = run_capture(name, c)?;
    Ok(Tier {
        name,
        passed: cargo_passed(&out),
        took,
    })
}

fn browser_tier(name: &'static str, c: &mut std::process::Command) -> Result<Tier> {
    let tier = cargo_tier(name, c)?;
    if tier.passed == 0 {
        return Err(format!("{name}: zero browser tests executed"));
    }
    Ok(tier)
}

/// Sums `N passed` over cargo's and wasm-bindgen-test-runner's `test result:` lines.
fn cargo_passed(out: &str) -> u64 {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// `pass N` from node's test runner summary (spec: `ℹ pass N`, tap: `# pass N`).
fn node_passed(out: &str) -> u64 {
    out.lines()
        .filter_map(|l| {
            let l = l.trim_start_matches(['ℹ', '#', ' ']);
            l.strip_prefix("pass ")?.trim().parse::<u64>().ok()
        })
        .next_back()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cargo_and_wasm_runner_results() {
        let out = "running 2 tests\ntest a ... ok\ntest result: ok. 2 passed; 0 failed; 0 ignored\n\
                   test result: ok. 0 passed; 0 failed\n   test result: ok. 5 passed; 0 failed\n";
        assert_eq!(cargo_passed(out), 7);
        assert_eq!(cargo_passed("no tests to run!\n"), 0);
    }

    #[test]
    fn counts_node_test_runner_results() {
        assert_eq!(
            node_passed("ℹ tests 3\nℹ suites 0\nℹ pass 3\nℹ fail 0\n"),
            3
        );
        assert_eq!(node_passed("# tests 2\n# pass 2\n# fail 0\n"), 2);
        assert_eq!(node_passed("nothing\n"), 0);
    }
}
