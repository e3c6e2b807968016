//! `mend-bench`: the benchmarks behind `cargo xtask bench …`, which print the figures
//! recorded in BENCHMARKS.md. A crate of its own so that nothing of it ships in
//! `mend-proxy`.
//!
//! - `mend-bench proxy [--quick] [--waiters N] [--only latency|watch|memory]`: the
//!   proxy's latency, upstream calls while watching, memory per long-poll.
//! - `mend-bench upstream [--quick] [--only a|b|c]`: Powens requests a minute
//!   (fair use), from the sandbox's request log.
//! - `mend-bench soak [--minutes N | --seconds N] [--widgets N] [--faults F]
//!   [--cluster | --in-proxy]`: simulated widgets against the proxy (`MEND_PROXY_BIN`)
//!   under 20 % upstream faults, or against three replicas with two restarted mid-run;
//!   doubled, lost and stuck counts, latency, RSS and fds; `mend-bench soak --cold N`:
//!   N new users' first reads at once.
//! - `mend-bench cluster [--quick]`: three replicas sharing Redis behind HAProxy
//!   against one replica alone: upstream reads, change latency, memory, Redis load.

mod cluster;
mod proxy;
mod soak;
mod stack;
mod upstream;

/// The proxy's own allocator (crates/proxy/src/main.rs): the proxy measured is the
/// proxy as shipped.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("proxy") => proxy::main(&args[1..]),
        Some("upstream") => upstream::main(&args[1..]),
        Some("soak") => soak::main(&args[1..]),
        Some("cluster") => cluster::main(&args[1..]),
        _ => {
            eprintln!(
                "usage: mend-bench proxy [--quick] [--waiters N] [--only latency|watch|memory]\n       mend-bench upstream [--quick] [--only a|b|c]\n       mend-bench soak [--minutes N | --seconds N] [--widgets N] [--faults F] [--cluster | --in-proxy] | --cold N\n       mend-bench cluster [--quick]"
            );
            std::process::exit(2);
        }
    }
}
