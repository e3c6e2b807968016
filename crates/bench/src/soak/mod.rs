//! `mend-bench soak`: many simulated widgets against the proxy while the sandbox
//! fails a fraction of Powens' answers in every way it can, then proof that nothing
//! doubled, nothing was lost, nobody is stuck and memory stayed flat (RELIABILITY.md,
//! "Fault soak"); with `--faults 0` and many widgets it is the load run, and
//! `--cold N` measures N new users' first reads at once.
//!
//! By default the sandbox is served by this process and the proxy is the real
//! `mend-proxy` binary, so that the memory figure is the proxy's alone; `--cluster`
//! runs three replicas sharing Redis behind HAProxy and restarts two of them during
//! the faulty phase (one SIGTERM, one SIGKILL); `--in-proxy` runs the proxy in
//! sandbox mode instead ([`target`]). Every widget is a user of its own on a copy of
//! a demo connection ([`widget`]). Each submitted code is unique, so the sandbox's
//! request log ([`log`]) tells how many times each reached Powens; the clients' own
//! records tell what the user was told ([`report`]).
//!
//! After the faulty phase faults stop and every client must deliver a fresh state
//! within [`widget::CONVERGE`] (two of its [`widget::INTERVAL`]s), and every OTP
//! client repairs its connection with the right code.

mod child;
mod cold;
mod log;
mod memory;
mod report;
mod target;
mod widget;

use memory::Series;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use target::{Mode, Stop, Target};
use widget::{Shared, Widget, lock};

/// Runs shorter than this check no memory trend (warm-up would be most of it).
const MEMORY_CHECKED_FROM: Duration = Duration::from_secs(300);

/// `mend-bench soak ARGS…`.
pub fn main(args: &[String]) {
    if args.first().map(String::as_str) == Some("serve-child") {
        child::serve(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10));
        return;
    }
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let number = |flag: &str| arg(flag).and_then(|v| v.parse::<u64>().ok());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let run = if let Some(users) = number("--cold") {
        runtime.block_on(cold::run(users as usize))
    } else {
        let secs = number("--seconds").unwrap_or_else(|| number("--minutes").unwrap_or(10) * 60);
        let widgets = number("--widgets").unwrap_or(200) as usize;
        let faults = arg("--faults")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.2);
        if !(0.0..=1.0).contains(&faults) {
            eprintln!("mend-bench soak: --faults is a fraction between 0 and 1");
            std::process::exit(2);
        }
        let mode = if args.iter().any(|a| a == "--cluster") {
            Mode::Cluster
        } else if args.iter().any(|a| a == "--in-proxy") {
            Mode::InProxy
        } else {
            Mode::Separate
        };
        runtime.block_on(soak(mode, Duration::from_secs(secs), widgets, faults))
    };
    match run {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("mend-bench soak: {e}");
            std::process::exit(1);
        }
    }
}

async fn soak(mode: Mode, faulty: Duration, widgets: usize, faults: f64) -> Result<bool, String> {
    let mut target = Target::start(mode, widgets).await?;
    let result = drive(&mut target, mode, faulty, faults).await;
    target.stop().await;
    result
}

/// How long a restarted replica stays down: long enough for HAProxy's health check
/// (every second, down after two failures) to take it out of the rotation.
const DOWN: Duration = Duration::from_secs(2);

/// The cluster mode's restarts, by time into the faulty phase: replica 1 stopped
/// gracefully at a third (a rolling deploy), replica 2 killed at two thirds (a crash:
/// requests cut mid-way, the harsher case).
fn restarts(mode: Mode, faulty: Duration) -> Vec<(Duration, usize, Stop)> {
    if mode != Mode::Cluster {
        return Vec::new();
    }
    vec![(faulty / 3, 0, Stop::Term), (faulty * 2 / 3, 1, Stop::Kill)]
}

/// One reading of every proxy process into its series.
fn sample(target: &Target, at: Duration, series: &mut Vec<Series>) {
    for (name, pid) in target.processes() {
        let Some((rss, fds)) = crate::stack::rss_and_fds(pid) else {
            continue;
        };
        let i = match series.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                series.push(Series::new(&name));
                series.len() - 1
            }
        };
        series[i].samples.push((at, rss, fds));
    }
}

/// Widget requests that failed short of the proxy so far: without any answer, and
/// answered 5xx without the proxy's JSON error (HAProxy's own page, for a request a
/// stopped replica cut or refused).
fn cut(records: &Shared) -> (u64, u64) {
    let r = lock(records);
    let balancer = ["502", "503", "504"]
        .iter()
        .filter_map(|k| r.answers.get(*k))
        .sum();
    (r.transport_errors, balancer)
}

async fn drive(
    target: &mut Target,
    mode: Mode,
    faulty: Duration,
    faults: f64,
) -> Result<bool, String> {
    let base = target.base.clone();
    let sandbox = target.sandbox.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .pool_max_idle_per_host(target.conns.len())
        .build()
        .map_err(|e| e.to_string())?;
    let mix = json!({"fraction": faults, "mix": [
        "ServerError", {"RateLimited": {"retry_after_secs": 1}}, "Timeout",
        "MalformedJson", "Drop", {"Slow": {"latency_ms": 1500}}
    ]});
    let put = http
        .put(format!("{sandbox}/_sandbox/faults"))
        .json(&mix)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !put.status().is_success() {
        return Err(format!("setting faults answered {}", put.status()));
    }
    let start = Instant::now();
    let faults_end = start + faulty;
    let deployment = match mode {
        Mode::Separate => "mend-proxy alone, the sandbox in the bench process",
        Mode::Cluster => "3 mend-proxy replicas + Redis behind HAProxy, the sandbox in the bench",
        Mode::InProxy => "the proxy in sandbox mode (the sandbox inside it)",
    };
    println!(
        "soak: {} widgets (a user and a session each), {}s with {:.0} % upstream faults, \
         then convergence\n  against {deployment}",
        target.conns.len(),
        faulty.as_secs(),
        faults * 100.0
    );
    let mut mix = std::collections::BTreeMap::<i64, usize>::new();
    for c in &target.conns {
        *mix.entry(c.template).or_default() += 1;
    }
    println!("  copies of demo connections (template: widgets): {mix:?}");
    let records = Shared::default();
    let stop = Arc::new(AtomicBool::new(false));
    let log = tokio::spawn(log::read(http.clone(), sandbox.clone(), stop.clone()));
    let n = target.conns.len().max(1) as u32;
    let clients: Vec<_> = target
        .conns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let w = Widget {
                http: http.clone(),
                base: base.clone(),
                token: target.keys.mint(c.user, None, Duration::from_secs(3600)),
                id: c.id,
                redirect: target.redirect.clone(),
                records: records.clone(),
            };
            let spread = widget::INTERVAL * i as u32 / n;
            tokio::spawn(widget::client(w, spread, faults_end))
        })
        .collect();
    // RSS and fds every 5 s until the faults stop (every 30 s in long runs), and the
    // cluster's restarts when their time comes.
    let every = if faulty > Duration::from_secs(600) {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(5)
    };
    let mut plan = restarts(mode, faulty);
    let mut series = Vec::new();
    while Instant::now() < faults_end {
        sample(target, start.elapsed(), &mut series);
        if let Some(&(at, i, how)) = plan.first()
            && start.elapsed() >= at
        {
            plan.remove(0);
            let from = start.elapsed();
            let failed = cut(&records);
            let gone = target.restart(i, how, DOWN).await?;
            let failed = (cut(&records).0 - failed.0, cut(&records).1 - failed.1);
            let name = format!("r{}", i + 1);
            if let Some(s) = series.iter_mut().find(|s| s.name == name) {
                s.restarted.push(from);
            }
            println!(
                "  {:>5.1}s replica {name} stopped ({how:?}), ready again after {:.1}s; \
                 meanwhile {} widget requests without an answer, {} answered 5xx by HAProxy",
                from.as_secs_f64(),
                gone.as_secs_f64(),
                failed.0,
                failed.1
            );
            continue;
        }
        let next = plan
            .first()
            .map_or(faults_end, |(at, ..)| start + *at)
            .min(faults_end)
            .min(Instant::now() + every);
        tokio::time::sleep(next.saturating_duration_since(Instant::now())).await;
    }
    http.put(format!("{sandbox}/_sandbox/faults"))
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for c in clients {
        outcomes.push(c.await.map_err(|e| e.to_string())?);
    }
    sample(target, start.elapsed(), &mut series);
    // Let in-flight submissions land in the log, then read it to the end.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let up = log.await.map_err(|e| e.to_string())??;
    Ok(report::report(
        &lock(&records),
        &up,
        &outcomes,
        &series,
        faulty,
        faulty >= MEMORY_CHECKED_FROM,
    ))
}
