//! Shared helpers: the project root, the tool environment, running commands with timing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// `$HOME/.cargo/bin`, where `cargo install` puts trunk, wasm-bindgen and geckodriver.
pub fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin")
}

/// The environment every tool runs in: npm's tools (wasm-opt 132) and cargo's installed
/// binaries first on PATH, and trunk's update check off (the crates.io API is
/// unreachable here). Applied through `Command::env`, since `std::env::set_var` is
/// `unsafe` in edition 2024 and this workspace forbids unsafe code.
pub fn tool_path() -> std::ffi::OsString {
    let mut paths = vec![root().join("node_modules/.bin"), cargo_bin()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `target/` at the root.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A command in the project root with the tool environment applied. The target
/// directory is set explicitly so that Trunk, which builds the widget through its own
/// one-package manifest (`assets/build/`), shares the workspace's build cache.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(which(program).unwrap_or_else(|| PathBuf::from(program)));
    c.current_dir(root())
        .env("PATH", tool_path())
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CARGO_TARGET_DIR", target_dir());
    c
}

/// Finds `program` on the tool PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&tool_path())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What `program args…` prints on stdout, trimmed, or `None` if it can't run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1}s")
    }
}

/// Runs a command to completion, streaming its output; fails with its description.
pub fn run(what: &str, c: &mut Command) -> Result<Duration> {
    println!("\n==> {what}");
    let start = Instant::now();
    let status = c
        .status()
        .map_err(|e| format!("{what}: could not start {:?}: {e}", c.get_program()))?;
    let took = start.elapsed();
    if status.success() {
        println!("<== {what}: ok ({})", fmt_duration(took));
        Ok(took)
    } else {
        Err(format!(
            "{what} failed ({status}) after {}",
            fmt_duration(took)
        ))
    }
}

/// Runs a command, streaming its stdout while keeping it, and returns it.
pub fn run_capture(what: &str, c: &mut Command) -> Result<(String, Duration)> {
    println!("\n==> {what}");
    let start = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: could not start {:?}: {e}", c.get_program()))?;
    let mut all = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            all.push_str(&line);
            all.push('\n');
        }
    }
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
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

/// The version of `crate_name` recorded in Cargo.lock (first match).
pub fn locked_version(crate_name: &str) -> Option<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).ok()?;
    let needle = format!("name = \"{crate_name}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    let end = lock[start..].find('"')? + start;
    Some(lock[start..end].to_owned())
}

/// Kills a child process (best effort) and reaps it.
pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `cargo xtask dev`: the proxy in sandbox mode on :8787 and `trunk serve` on :8080.
pub fn dev() -> Result {
    crate::setup::require_build_tools()?;
    run(
        "build mend-proxy",
        cmd("cargo").args(["build", "--quiet", "-p", "mend-proxy"]),
    )?;
    let target = target_dir();
    let mut proxy = cmd(target
        .join("debug/mend-proxy")
        .to_str()
        .unwrap_or("mend-proxy"))
    .args(["serve"])
    .env("MEND_WIDGET_DIR", root().join("dist"))
    .env_remove("POWENS_API_URL")
    .spawn()
    .map_err(|e| format!("could not start mend-proxy: {e}"))?;
    let mut trunk = match cmd("trunk").args(["serve", "--offline"]).spawn() {
        Ok(t) => t,
        Err(e) => {
            stop(&mut proxy);
            return Err(format!("could not start trunk: {e}"));
        }
    };
    println!(
        "\nMend demo (sandbox mode):\n  http://127.0.0.1:8080/widget/   (trunk serve, rebuilds on change)\n  \
         http://127.0.0.1:8787/widget/   (the proxy, serving dist/)\n  \
         http://127.0.0.1:8787/sandbox/bank/app   (the simulated bank app)\nCtrl-C stops both.\n"
    );
    // Ctrl-C reaches both children (same process group); when either ends, end the other.
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let proxy_done = proxy.try_wait().ok().flatten();
        let trunk_done = trunk.try_wait().ok().flatten();
        if proxy_done.is_some() || trunk_done.is_some() {
            stop(&mut proxy);
            stop(&mut trunk);
            return match (proxy_done, trunk_done) {
                (Some(s), _) if !s.success() => Err(format!("mend-proxy exited: {s}")),
                (_, Some(s)) if !s.success() => Err(format!("trunk exited: {s}")),
                _ => Ok(()),
            };
        }
    }
}
