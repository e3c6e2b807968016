//! `mend-proxy serve` runs the proxy; `mend-proxy session` prints a widget session;
//! `mend-proxy openapi` prints the API's OpenAPI document.
//! Everything lives in the library; a bad configuration exits with code 2.

use clap::Parser as _;
use mend_proxy::config::{self, Cli, Command, Config};
use mend_proxy::session::{MAX_TTL, SessionKeys};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// jemalloc: far less resident memory per waiting long-poll than glibc's malloc
/// (Cargo.toml says why).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // clap itself exits with code 2 on unknown flags and unparsable values.
    let cli = Cli::parse();
    match cli.command {
        Command::Session(args) => {
            let secret = match config::session_secret_for_cli(&args) {
                Ok(s) => s,
                Err(e) => return config_error(&e.to_string()),
            };
            if args.ttl > MAX_TTL || args.ttl.is_zero() {
                return config_error("--ttl: must be between 1s and 1h");
            }
            if args.user <= 0 {
                return config_error("--user: must be a positive Powens user id");
            }
            let connections = (!args.connections.is_empty()).then_some(args.connections);
            println!(
                "{}",
                SessionKeys::new(&secret).mint(args.user, connections, args.ttl)
            );
            ExitCode::SUCCESS
        }
        Command::Openapi => {
            print!("{}", mend_proxy::openapi::document());
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            let config = match Config::from_args(*args) {
                Ok(c) => c,
                Err(e) => return config_error(&e.to_string()),
            };
            init_logs();
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("mend-proxy: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(async {
                mend_proxy::build(config)
                    .await?
                    .run_until_stopped()
                    .await
                    .map_err(Into::into)
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let e: anyhow::Error = e;
                    tracing::error!(error = format!("{e:#}"), "mend-proxy stopped");
                    eprintln!("mend-proxy: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); `MEND_LOG_FORMAT=json`
/// writes one JSON object per line (for log shippers), anything else readable text.
fn init_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if std::env::var("MEND_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().with_current_span(true).init();
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}

fn config_error(message: &str) -> ExitCode {
    eprintln!("mend-proxy: configuration error: {message}");
    ExitCode::from(2)
}
