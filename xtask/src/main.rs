//! `cargo xtask`: the one entry point for every task, so that what CI runs is exactly
//! what a developer runs.
//!
//! - `cargo xtask dev`: set-up, then the proxy in sandbox mode + `trunk serve`.
//! - `cargo xtask test`: set-up, then every check and test tier, failing on the first.
//! - `cargo xtask setup`: set-up alone (install what is missing; idempotent).
//! - `cargo xtask bench widget|first-state|proxy|upstream`: figures for the size,
//!   first-state, latency and fair-use targets.
//! - `cargo xtask screenshots [LANG…]`: refresh `docs/screenshots/`.
//! - `cargo xtask soak [--minutes N | --seconds N] [--widgets N] [--faults F]
//!   [--cluster | --in-proxy]`: simulated widgets against the release proxy under 20 %
//!   upstream faults (or `F`), alone or as a three-replica cluster with replicas
//!   restarted mid-run; `cargo xtask soak --cold N`: N new users' first reads at once
//!   (RELIABILITY.md).
//! - `cargo xtask fuzz [--secs N | --runs N] [TARGET...]`: the libFuzzer targets of
//!   `fuzz/` (nightly), one after the other.
//!
//! Every child runs in its own process group and is stopped, with all it started,
//! however xtask ends (`procs`). Nearly std-only, since it is built before anything
//! else on every machine: signal-hook is its one dependency.

mod bench;
mod deny;
mod dev;
mod fuzz;
mod procs;
mod release;
mod screenshots;
mod setup;
mod test;
mod tree;
mod util;
mod wire;

use std::process::ExitCode;

fn usage() -> String {
    format!(
        "\
cargo xtask <command>

commands:
  dev [--release]  set-up, then the proxy in sandbox mode (127.0.0.1:8787) beside
                   `trunk serve` (http://127.0.0.1:8080/widget/); Ctrl-C stops both
  test             set-up, then fmt, clippy (host + wasm), cargo deny, host tests,
                   browser tests in Chromium and Firefox, release build, size on the
                   wire, end-to-end tests, a one-minute fault soak, 10 s per fuzz
                   target; stops at the first failure
  setup            install what is missing, and nothing else: {}
  bench widget     the element's bytes on the wire (br, gzip, identity) per file, from
                   the release proxy
  bench first-state
                   time to the element's first state, by script and as a host page
                   embeds it, against plain JS, with its breakdown (release proxy)
  bench proxy      proxy latency, throughput, upstream calls while watching, memory
  bench upstream   Powens requests a minute (fair use): a watched `bug` connection,
                   100 tabs in a mix of states, 30 page loads in 10 s [--quick] [--only a|b|c]
  screenshots [LANG…]
                   refresh docs/screenshots/ (default: en)
  soak             N widgets (--widgets, default 200), a user each, against the release
                   mend-proxy (the sandbox served by the bench, so the RSS is the
                   proxy's alone) with 20 % upstream faults (--faults F) for --minutes N
                   (default 10) or --seconds N; doubled, lost, stuck, latency, RSS, fds;
                   --cluster: 3 replicas + Redis behind HAProxy, one replica stopped
                   (SIGTERM) at a third and one killed (SIGKILL) at two thirds, each
                   started again, RSS per replica; --in-proxy: the proxy in sandbox mode
                   (the sandbox inside it); --cold N: N new users' first reads at once
  fuzz             the fuzz targets of fuzz/ (nightly + cargo-fuzz), each for --secs N
                   (default 60) or --runs N executions [TARGET...]; see RELIABILITY.md
",
        setup::summary()
    )
}

fn main() -> ExitCode {
    if let Err(e) = procs::init() {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = std::panic::catch_unwind(|| match args.as_slice() {
        ["setup"] => Some(setup::ensure()),
        ["dev", rest @ ..] => Some(dev::dev(rest)),
        ["test"] => Some(test::run_tests()),
        ["bench", "widget"] => Some(bench::widget()),
        ["bench", "first-state"] => Some(bench::first_state()),
        ["bench", "proxy", rest @ ..] => Some(bench::proxy(rest)),
        ["bench", "upstream", rest @ ..] => Some(bench::upstream(rest)),
        ["bench", "cluster", rest @ ..] => Some(bench::cluster(rest)),
        ["screenshots", langs @ ..] => Some(screenshots::screenshots(langs)),
        ["soak", rest @ ..] => Some(bench::soak(rest)),
        ["fuzz", rest @ ..] => Some(fuzz::main(rest)),
        _ => None,
    });
    // A child stopped by the signal watcher looks like a failure here: let the watcher
    // end the process with 128 + the signal instead.
    procs::park_if_stopping();
    // However it went, nothing xtask started outlives it.
    procs::stop_all();
    match result {
        Ok(Some(Ok(()))) => ExitCode::SUCCESS,
        Ok(Some(Err(e))) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
        Ok(None) if matches!(args.as_slice(), ["help" | "--help" | "-h"] | []) => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprint!("unknown command\n\n{}", usage());
            ExitCode::from(2)
        }
        Err(_) => ExitCode::FAILURE,
    }
}
