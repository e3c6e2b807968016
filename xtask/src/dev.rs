//! `cargo xtask dev`: set-up, then the proxy in sandbox mode beside `trunk serve`,
//! until either ends or xtask is stopped (Ctrl-C, SIGTERM, SIGHUP, or its parent
//! dying: see `procs`), which stops both with everything they started.
//!
//! Addresses: the proxy listens on `MEND_LISTEN` (default `127.0.0.1:8787`, where
//! Trunk.toml's `[[proxies]]` forward `/api` and `/sandbox`), Trunk on
//! `TRUNK_SERVE_PORT` (default 8080) and builds into `TRUNK_BUILD_DIST` (default
//! `dist/`), which the proxy serves at `/widget/` too. `--release` serves a release
//! build (what the embedding page gets, compressed copies included).

use crate::procs::{self, run};
use crate::setup;
use crate::util::{Result, cmd, fmt_duration, root, target_dir};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `cargo xtask dev [--release]`.
pub fn dev(args: &[&str]) -> Result {
    let release = match args {
        [] => false,
        ["--release"] => true,
        _ => return Err("usage: cargo xtask dev [--release]".into()),
    };
    let start = Instant::now();
    let proxy_addr = std::env::var("MEND_LISTEN").unwrap_or_else(|_| "127.0.0.1:8787".into());
    let trunk_port = std::env::var("TRUNK_SERVE_PORT").unwrap_or_else(|_| "8080".into());
    let proxy_sock: SocketAddr = proxy_addr
        .parse()
        .map_err(|_| format!("MEND_LISTEN={proxy_addr} is not an address"))?;
    let trunk_sock: SocketAddr = format!("127.0.0.1:{trunk_port}")
        .parse()
        .map_err(|_| format!("TRUNK_SERVE_PORT={trunk_port} is not a port"))?;
    // Say so now rather than after minutes of building (another `cargo xtask dev`?).
    for (sock, var) in [
        (proxy_sock, "MEND_LISTEN"),
        (trunk_sock, "TRUNK_SERVE_PORT"),
    ] {
        if let Err(e) = TcpListener::bind(sock) {
            return Err(format!(
                "{sock} is not free ({e}): is another `cargo xtask dev` running? Stop it, or set {var}"
            ));
        }
    }

    setup::ensure()?;
    run(
        "build mend-proxy",
        cmd("cargo").args(["build", "--quiet", "-p", "mend-proxy"]),
    )?;
    let dist = std::env::var_os("TRUNK_BUILD_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("dist"));
    let mut proxy = procs::spawn(
        "mend-proxy",
        cmd(target_dir()
            .join("debug/mend-proxy")
            .to_str()
            .unwrap_or("mend-proxy"))
        .args(["serve"])
        .env("MEND_LISTEN", &proxy_addr)
        .env("MEND_WIDGET_DIR", &dist)
        .env_remove("POWENS_API_URL"),
    )?;
    let mut serve = cmd("trunk");
    serve
        .args(["serve", "--offline", "--port", &trunk_port])
        .env("TRUNK_BUILD_DIST", &dist);
    if release {
        serve.arg("--release");
    }
    let mut trunk = procs::spawn("trunk serve", &mut serve)?;
    println!(
        "\nMend demo (sandbox mode), once Trunk has built it:\n  \
         http://{trunk_sock}/widget/   (trunk serve, rebuilds on change)\n  \
         http://{proxy_addr}/widget/   (the proxy, serving {})\n  \
         http://{proxy_addr}/sandbox/bank/app   (the simulated bank app)\n\
         Ctrl-C stops both.\n",
        dist.display()
    );
    let mut announced = false;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        if !announced && serving(trunk_sock) && serving(proxy_sock) {
            announced = true;
            println!(
                "\nxtask dev: the demo is served at http://{trunk_sock}/widget/ ({} after start)\n",
                fmt_duration(start.elapsed())
            );
        }
        let proxy_done = proxy.try_wait().ok().flatten();
        let trunk_done = trunk.try_wait().ok().flatten();
        if proxy_done.is_some() || trunk_done.is_some() {
            procs::stop(&mut proxy);
            procs::stop(&mut trunk);
            return match (proxy_done, trunk_done) {
                (Some(s), _) if !s.success() => Err(format!("mend-proxy exited: {s}")),
                (_, Some(s)) if !s.success() => Err(format!("trunk exited: {s}")),
                _ => Ok(()),
            };
        }
    }
}

fn serving(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}
