//! `cargo xtask fuzz [--secs N | --runs N] [TARGET...]`: runs the libFuzzer targets of
//! `fuzz/` (the pinned nightly and cargo-fuzz, installed on first use) one after
//! the other and prints, per target, executions, time, coverage and the verdict.
//!
//! Each target starts from its committed seeds (`fuzz/seeds/TARGET`, taken from the
//! repository's fixtures) and keeps what it learns in `fuzz/target/corpus/TARGET`, so
//! a later run goes on from there. A crash, a panic (every oracle is an `assert!`) or
//! a timeout fails the run and leaves its input in `fuzz/target/artifacts/TARGET/`;
//! RELIABILITY.md says how to replay one.
//!
//! Built without a sanitizer (`-s none`): every crate of ours forbids `unsafe`, so what
//! is looked for is panics, wrong answers and hangs, and AddressSanitizer would cost
//! about half the executions a second. Debug assertions are on (`-a`), so integer
//! overflow panics too.

use crate::util::{Result, cmd, fmt_duration, root};
use std::time::Duration;

/// Every target, in the order they run.
pub const TARGETS: [&str; 6] = [
    "powens_json",
    "webhook",
    "callback_state",
    "session_jwt",
    "fields",
    "wire",
];

/// The nightly toolchain cargo-fuzz builds with (libFuzzer needs `-Z` flags): the one
/// the set-up already pins for the widget's size build, so there is one nightly.
pub const NIGHTLY: &str = crate::release::SIZE_TOOLCHAIN;

/// How long a single input may take before it counts as a hang.
const TIMEOUT_SECS: u64 = 10;

/// What one run printed.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    execs: u64,
    per_sec: u64,
    cov: u64,
    features: u64,
    corpus: u64,
    peak_rss_mb: u64,
}

/// Parses `cargo xtask fuzz` arguments and runs.
pub fn main(args: &[&str]) -> Result {
    let mut secs = None;
    let mut runs = None;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--secs" => secs = Some(number(it.next(), "--secs")?),
            "--runs" => runs = Some(number(it.next(), "--runs")?),
            t if TARGETS.contains(&t) => targets.push(t),
            other => {
                return Err(format!(
                    "unknown fuzz argument {other:?}; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    let limit = match (secs, runs) {
        (_, Some(n)) => Limit::Runs(n),
        (Some(s), None) => Limit::Secs(s),
        (None, None) => Limit::Secs(60),
    };
    crate::setup::ensure()?;
    run_targets(&targets, limit)
}

fn number(v: Option<&&str>, flag: &str) -> Result<u64> {
    v.and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a number"))
}

/// How long each target runs.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// For this many seconds.
    Secs(u64),
    /// For this many executions.
    Runs(u64),
    /// The suite's: this many executions from the seeds alone, with a fixed random
    /// seed and a scratch corpus, so every machine runs the same inputs and a red CI
    /// is never a roll of the dice (finding new defects is the long runs' job).
    Replay(u64),
}

/// Builds and runs `targets` one at a time; fails on the first finding.
pub fn run_targets(targets: &[&str], limit: Limit) -> Result {
    let mut rows = Vec::new();
    for target in targets {
        let learnt = if matches!(limit, Limit::Replay(_)) {
            "replay-corpus"
        } else {
            "corpus"
        };
        let corpus = fuzz_target_dir().join(learnt).join(target);
        let artifacts = fuzz_target_dir().join("artifacts").join(target);
        if matches!(limit, Limit::Replay(_)) && corpus.exists() {
            std::fs::remove_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        }
        for d in [&corpus, &artifacts] {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let found_before = entries(&artifacts);
        let mut c = cmd("cargo");
        c.env("CARGO_TARGET_DIR", fuzz_target_dir())
            .args([&format!("+{NIGHTLY}"), "fuzz", "run", "-s", "none", "-a"])
            .args(["--fuzz-dir", "fuzz", target])
            .arg(&corpus)
            .arg(root().join("fuzz/seeds").join(target))
            .arg("--")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg(format!("-timeout={TIMEOUT_SECS}"))
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1");
        let dict = root().join("fuzz/dicts").join(format!("{target}.dict"));
        if dict.is_file() {
            c.arg(format!("-dict={}", dict.display()));
        }
        match limit {
            Limit::Secs(s) => c.arg(format!("-max_total_time={s}")),
            Limit::Runs(n) => c.arg(format!("-runs={n}")),
            Limit::Replay(n) => c.args([format!("-runs={n}"), "-seed=1".to_owned()]),
        };
        // libFuzzer reports on stderr; keep it to read the final figures.
        c.stderr(std::process::Stdio::piped());
        let (out, took) = run_with_stderr(&format!("fuzz {target}"), &mut c).map_err(|e| {
            // A build failure or a killed run leaves nothing behind; only a new
            // artifact is a finding.
            if entries(&artifacts) > found_before {
                format!(
                    "{e}: a finding is in {} (RELIABILITY.md, \"Replaying a finding\")",
                    artifacts.display()
                )
            } else {
                format!("{e}: no finding was written (see the output above)")
            }
        })?;
        let f = figures(&out);
        rows.push((*target, f, took));
    }
    println!(
        "\n{:<16} {:>12} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9}",
        "target", "executions", "exec/s", "cov", "ft", "corpus", "rss MB", "time"
    );
    for (t, f, took) in &rows {
        println!(
            "{t:<16} {:>12} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9}",
            f.execs,
            f.per_sec,
            f.cov,
            f.features,
            f.corpus,
            f.peak_rss_mb,
            fmt_duration(*took)
        );
    }
    println!("no crash, no panic, no timeout");
    Ok(())
}

/// How many files `dir` holds (0 when it cannot be read).
fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// Where fuzz/ builds, learns and leaves findings: its own directory, since nightly and
/// libFuzzer's flags share nothing with the stable build (and would wait on its lock).
fn fuzz_target_dir() -> std::path::PathBuf {
    root().join("fuzz/target")
}

/// Runs `c` with its stderr merged into what is streamed and kept.
fn run_with_stderr(what: &str, c: &mut std::process::Command) -> Result<(String, Duration)> {
    // libFuzzer writes everything on stderr: stream it and keep it.
    use std::io::{BufRead as _, BufReader};
    println!("\n==> {what}");
    let start = std::time::Instant::now();
    let mut child = crate::procs::spawn(what, c)?;
    let mut all = String::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err)
            .lines()
            .map_while(std::result::Result::ok)
        {
            // The periodic lines are noise in CI; the final figures and findings are not.
            if !(line.starts_with('#') && (line.contains("pulse") || line.contains("REDUCE"))) {
                eprintln!("{line}");
            }
            all.push_str(&line);
            all.push('\n');
        }
    }
    let status = crate::procs::wait(&mut child).map_err(|e| format!("{what}: {e}"))?;
    let took = start.elapsed();
    if status.success() {
        println!("<== {what}: ok ({})", fmt_duration(took));
        Ok((all, took))
    } else {
        Err(format!(
            "{what} failed ({status}) after {}",
            fmt_duration(took)
        ))
    }
}

/// The figures of libFuzzer's last status line and `-print_final_stats`.
fn figures(out: &str) -> Figures {
    let mut f = Figures::default();
    let stat = |key: &str| {
        out.lines()
            .filter_map(|l| l.strip_prefix(key))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .next_back()
    };
    f.execs = stat("stat::number_of_executed_units:").unwrap_or(0);
    f.per_sec = stat("stat::average_exec_per_sec:").unwrap_or(0);
    f.peak_rss_mb = stat("stat::peak_rss_mb:").unwrap_or(0);
    // `#123 DONE cov: 456 ft: 789 corp: 12/34b …` (or the last `pulse`/`NEW` line).
    if let Some(line) = out
        .lines()
        .rfind(|l| l.starts_with('#') && l.contains(" cov: "))
    {
        let after = |key: &str| {
            line.split(key)
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        f.cov = after(" cov: ");
        f.features = after(" ft: ");
        f.corpus = after(" corp: ");
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_final_figures() {
        let out = "#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 20 ft: 21 corp: 3/9b lim: 4 exec/s: 2048 rss: 31Mb\n\
                   #10000\tDONE   cov: 345 ft: 1234 corp: 56/789b lim: 4 exec/s: 5000 rss: 40Mb\n\
                   Done 10000 runs in 2 second(s)\n\
                   stat::number_of_executed_units: 10000\n\
                   stat::average_exec_per_sec:     5000\n\
                   stat::new_units_added:          55\n\
                   stat::peak_rss_mb:              40\n";
        assert_eq!(
            figures(out),
            Figures {
                execs: 10000,
                per_sec: 5000,
                cov: 345,
                features: 1234,
                corpus: 56,
                peak_rss_mb: 40
            }
        );
    }

    #[test]
    fn every_target_has_committed_seeds() {
        for t in TARGETS {
            let dir = root().join("fuzz/seeds").join(t);
            let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
            assert!(n > 0, "{} holds no seed", dir.display());
            let src = root().join("fuzz/fuzz_targets").join(format!("{t}.rs"));
            assert!(src.is_file(), "{} missing", src.display());
        }
    }
}
