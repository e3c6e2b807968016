//! Every process xtask starts, and how they all stop.
//!
//! Each child runs in its own process group, so that everything it starts in turn
//! (cargo's rustc, trunk's cargo and wasm-opt, node's proxy and browser) can be
//! stopped together. A terminal's Ctrl-C no longer reaches them directly: xtask
//! catches SIGINT, SIGTERM and SIGHUP, and notices when its own parent dies (it is
//! then re-parented), and in each case sends SIGTERM to every group it started,
//! waits for them to end (SIGKILL after a grace period) and exits with 128 + the
//! signal. A normal exit stops whatever a finished child left behind, too.
//! SIGKILL on xtask itself cannot be caught: nothing can clean up after it.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::util::{Result, fmt_duration};

/// How long children get to stop after SIGTERM before SIGKILL (the proxy waits at most
/// 15 s for open requests; a long-poll holds one 30 s at most, so do not wait for it).
const GRACE: Duration = Duration::from_secs(10);

/// Process groups started so far (each child's pid is its group id).
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Set once xtask has begun stopping because of a signal or its parent's death.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn groups() -> MutexGuard<'static, Vec<u32>> {
    GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Installs the signal handlers and the watcher thread. Call once, first thing.
pub fn init() -> Result {
    // signal-hook: std cannot catch SIGTERM or SIGHUP (and unsafe is forbidden here).
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    let caught = Arc::new(AtomicUsize::new(0));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register_usize(sig, Arc::clone(&caught), sig as usize)
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let parent = std::os::unix::process::parent_id();
    std::thread::Builder::new()
        .name("xtask-signals".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let sig = caught.swap(0, Ordering::SeqCst);
                let orphaned = std::os::unix::process::parent_id() != parent;
                if sig == 0 && !orphaned {
                    continue;
                }
                STOPPING.store(true, Ordering::SeqCst);
                let (why, code) = if sig != 0 {
                    (format!("signal {}", signal_name(sig)), 128 + sig as i32)
                } else {
                    ("its parent process ended".to_owned(), 128 + SIGHUP)
                };
                eprintln!("\nxtask: {why}: stopping everything it started");
                // A second signal while stopping skips the grace period.
                let impatient = Arc::clone(&caught);
                stop_all_with(move || impatient.load(Ordering::SeqCst) != 0);
                std::process::exit(code);
            }
        })
        .map_err(|e| format!("cannot start the signal watcher: {e}"))?;
    Ok(())
}

fn signal_name(sig: usize) -> &'static str {
    match sig as i32 {
        signal_hook::consts::signal::SIGINT => "SIGINT",
        signal_hook::consts::signal::SIGTERM => "SIGTERM",
        signal_hook::consts::signal::SIGHUP => "SIGHUP",
        _ => "?",
    }
}

/// Whether xtask is stopping (a signal or its parent's death): results no longer matter.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Once stopping, the watcher thread ends the process (with 128 + the signal): the
/// caller just waits for it rather than report the children it stopped as failures.
pub fn park_if_stopping() {
    while stopping() {
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

/// Starts `c` in a process group of its own, with no stdin (a background group that
/// read the terminal would be stopped by SIGTTIN), and remembers the group.
pub fn spawn(what: &str, c: &mut Command) -> Result<Child> {
    c.process_group(0).stdin(Stdio::null());
    // Hold the lock across spawn: a signal arriving now waits until the group is known.
    let mut g = groups();
    let child = c
        .spawn()
        .map_err(|e| format!("{what}: could not start {:?}: {e}", c.get_program()))?;
    g.push(child.id());
    Ok(child)
}

/// Waits for `child`, then stops anything its group left running.
pub fn wait(child: &mut Child) -> Result<ExitStatus> {
    let status = child.wait().map_err(|e| e.to_string());
    park_if_stopping();
    stop_group(child.id());
    status
}

/// Stops `child`'s process group (SIGTERM, then SIGKILL after the grace period).
pub fn stop(child: &mut Child) {
    stop_group(child.id());
    let _ = child.wait();
}

fn stop_group(pgid: u32) {
    if alive(&[pgid]).is_empty() {
        return;
    }
    terminate(&[pgid], || false);
}

/// Stops every group started so far.
pub fn stop_all() {
    stop_all_with(|| false);
}

fn stop_all_with(hurry: impl Fn() -> bool) {
    let all = groups().clone();
    let left = alive(&all);
    if !left.is_empty() {
        terminate(&left, hurry);
    }
}

fn terminate(pgids: &[u32], hurry: impl Fn() -> bool) {
    signal(pgids, "TERM");
    let deadline = Instant::now() + GRACE;
    while !alive(pgids).is_empty() && Instant::now() < deadline && !hurry() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = alive(pgids);
    if !left.is_empty() {
        eprintln!("xtask: still running after SIGTERM, killing: groups {left:?}");
        signal(&left, "KILL");
        let deadline = Instant::now() + Duration::from_secs(2);
        while !alive(&left).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// kill(2) on process groups, through the shell's builtin `kill` (std has no
/// process-group kill and this workspace forbids unsafe).
fn signal(pgids: &[u32], sig: &str) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s \"$0\" -- \"$@\" 2>/dev/null", sig])
        .args(pgids.iter().map(|p| format!("-{p}")))
        .stdin(Stdio::null())
        .status();
}

/// The groups among `pgids` that still have a live (not zombie) process, from /proc.
pub fn alive(pgids: &[u32]) -> Vec<u32> {
    let mut live = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return live;
    };
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let pgrp = fields.nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(g) = pgrp
            && pgids.contains(&g)
            && !matches!(state, "Z" | "X")
            && !live.contains(&g)
        {
            live.push(g);
        }
    }
    live
}

/// Runs a command to completion, streaming its output; fails with its description.
pub fn run(what: &str, c: &mut Command) -> Result<Duration> {
    println!("\n==> {what}");
    let start = Instant::now();
    let mut child = spawn(what, c)?;
    let status = wait(&mut child)?;
    finish(what, status, start.elapsed())
}

/// Runs a command, streaming its stdout while keeping it, and returns it.
pub fn run_capture(what: &str, c: &mut Command) -> Result<(String, Duration)> {
    println!("\n==> {what}");
    let start = Instant::now();
    let mut child = spawn(what, c.stdout(Stdio::piped()))?;
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
    let status = wait(&mut child)?;
    let took = finish(what, status, start.elapsed())?;
    Ok((all, took))
}

fn finish(what: &str, status: ExitStatus, took: Duration) -> Result<Duration> {
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

/// A child stopped (with its whole group) when this value is dropped, e.g. a proxy
/// started for a measurement, whatever path the caller leaves by.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}
