//! `cargo xtask`: the one entry point for every task, so that what CI runs is exactly
//! what a developer runs.
//!
//! - `cargo xtask setup`: install what is missing on a fresh Debian machine (idempotent).
//! - `cargo xtask dev`: the proxy in sandbox mode + `trunk serve`; Ctrl-C stops both.
//! - `cargo xtask test`: every check and test tier, failing on the first failure.
//! - `cargo xtask bench widget|proxy|upstream`: figures for the size, latency and
//!   fair-use targets.
//!
//! Deliberately std-only: it is built before anything else, on every machine.

mod bench;
mod setup;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
cargo xtask <command>

commands:
  setup            install the toolchain pieces that are missing (wasm32 target, trunk,
                   wasm-bindgen-cli, wasm-opt from npm, chromium + chromedriver,
                   firefox-esr + geckodriver, redis-server + haproxy, the e2e Node
                   packages)
  dev              run the proxy in sandbox mode and `trunk serve`; open the printed URL
  test             fmt, clippy (host + wasm), host tests, browser tests in Chromium and
                   Firefox, release build, end-to-end tests; stops at the first failure
  bench widget     release build; raw and gzip bytes of the widget's wasm, js and css
  bench proxy      proxy latency, throughput, upstream calls while watching, memory
  bench upstream   Powens requests a minute (fair use): a watched `bug` connection,
                   100 tabs in a mix of states, 30 page loads in 10 s [--quick] [--only a|b|c]
  bench cluster    3 replicas + Redis + HAProxy vs 1 replica: upstream GETs per interval,
                   change latency p50/p99, RSS per replica, Redis commands/s [--quick]
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["setup"] => setup::run_setup(),
        ["dev"] => util::dev(),
        ["test"] => test::run_tests(),
        ["bench", "widget"] => bench::widget(),
        ["bench", "proxy", rest @ ..] => bench::proxy(rest),
        ["bench", "upstream", rest @ ..] => bench::upstream(rest),
        ["bench", "cluster", rest @ ..] => bench::cluster(rest),
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("unknown command\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}
