//! `mend-bench upstream`: how many requests a minute the proxy sends Powens, counted
//! in the sandbox's own request log (every `/2.0` request it received), for the
//! fair-use targets of BENCHMARKS.md ("Upstream"):
//!
//! - (a) one tab watching a `bug` connection whose `next_try` is an hour away
//!   (target: at most 1 a minute);
//! - (b) 100 tabs on 100 connections in a mix of states, while a user acts every few
//!   seconds (target: within `MEND_POWENS_BUDGET`, every action answered), with and
//!   without webhooks;
//! - (c) 30 page loads of one connection within 10 s (target: at most
//!   10 s / `MEND_POLL_INTERVAL` + 2).
//!
//! The proxy runs in this process in sandbox mode with its defaults (poll interval
//! 2 s); each "tab" does what the widget does: one plain status read when the page
//! loads, then, while the state is one Powens works on by itself, long-polls of 25 s
//! (`?wait=25&since=STATE`), and 2 s of pause after a failed request.
//!
//! Options: `--quick` (20 s windows instead of 60 s), `--only a|b|c`.

use mend_model::ConnectionState;
use mend_model::api::ConnectionStatus;
use mend_proxy::config::Config;
use mend_sandbox::Sandbox;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The widget's long-poll (src/app.rs `LONG_POLL_SECS`).
const LONG_POLL_SECS: u64 = 25;
/// The proxy's default `MEND_POLL_INTERVAL`.
const POLL: Duration = Duration::from_secs(2);
/// The proxy's default `MEND_POWENS_BUDGET` (requests a minute).
const BUDGET: f64 = 600.0;

/// `mend-bench upstream ARGS…`.
pub fn main(args: &[String]) {
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let window = Duration::from_secs(if quick { 20 } else { 60 });
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Err(e) = runtime.block_on(bench(window, only.as_deref())) {
        eprintln!("mend-bench upstream: {e}");
        std::process::exit(1);
    }
}

async fn bench(window: Duration, only: Option<&str>) -> Result<(), String> {
    let want = |part: &str| only.is_none_or(|o| o == part);
    println!(
        "Powens requests a minute, from the sandbox's request log (MEND_POLL_INTERVAL {}s, window {}s)\n",
        POLL.as_secs(),
        window.as_secs()
    );
    println!("{:<58} {:>12} {:>22}", "scenario", "figure", "target");
    if want("a") {
        let per_min = one_tab_on_bug(window).await?;
        row("(a) 1 tab, `bug`, next_try in 1 h", per_min, "<= 1 /min");
    }
    if want("b") {
        for webhooks in webhook_variants() {
            let (per_min, ok, asked) = hundred_tabs(window, webhooks).await?;
            let name = format!(
                "(b) 100 tabs, 100 connections, {} webhooks",
                if webhooks { "with" } else { "without" }
            );
            row(&name, per_min, &format!("<= {BUDGET} /min"));
            println!(
                "{:<58} {:>12} {:>22}",
                "    user actions answered",
                format!("{ok}/{asked}"),
                "all"
            );
        }
    }
    if want("c") {
        let n = page_loads(30, Duration::from_secs(10)).await?;
        let target = 10 / POLL.as_secs() + 2;
        println!(
            "{:<58} {:>12} {:>22}",
            "(c) 30 page loads of one connection in 10 s",
            format!("{n} req"),
            format!("<= {target} req")
        );
    }
    Ok(())
}

fn row(name: &str, per_min: f64, target: &str) {
    println!(
        "{name:<58} {:>12} {target:>22}",
        format!("{per_min:.1} /min")
    );
}

/// Which (b) variants this build can run: webhooks need `POWENS_WEBHOOK_SECRET`
/// support in the proxy and signed webhooks from the sandbox.
fn webhook_variants() -> Vec<bool> {
    vec![false, true]
}

/// A proxy in sandbox mode with the default timings, and what drives it.
struct Rig {
    base: String,
    sandbox: Sandbox,
    keys: mend_proxy::session::SessionKeys,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Rig {
    async fn start(webhooks: bool) -> Result<Self, String> {
        let mut cfg = Config::sandbox(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.rate_limit_per_ip = 100_000_000;
        cfg.rate_limit_per_session = 100_000_000;
        cfg.rate_limit_unauthenticated = 100_000_000;
        cfg.max_waiters_per_user = 10_000;
        if webhooks {
            // The in-process sandbox then sends its signed webhooks to this proxy.
            cfg.webhook_secret = Some(secrecy::SecretString::from("bench-webhook-secret"));
        }
        let app = mend_proxy::build(cfg).await.map_err(|e| e.to_string())?;
        let base = format!("http://{}", app.local_addr());
        let sandbox = app.sandbox().cloned().ok_or("no sandbox")?;
        let keys = app.session_keys().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        Ok(Self {
            base,
            sandbox,
            keys,
            client: reqwest::Client::new(),
            _stop: tx,
        })
    }

    fn session(&self) -> String {
        self.keys
            .mint(mend_sandbox::DEMO_USER_ID, None, Duration::from_secs(3600))
    }

    /// Requests in the sandbox's log now.
    fn requests(&self) -> usize {
        self.sandbox.requests().len()
    }
}

/// The data-state a widget would watch with, or `None` when it would not watch
/// (src/state.rs `watch_since`: states Powens works on by itself, but not a
/// `decoupled` that was never resumed).
fn watch_since(status: &ConnectionStatus) -> Option<String> {
    status
        .state
        .as_ref()
        .filter(|s| s.is_changing() && **s != ConnectionState::Decoupled)
        .map(|s| s.as_str().to_owned())
}

/// One tab until `until`: a plain read, then long-polls while the widget would
/// watch. Returns when `until` passes.
async fn tab(client: reqwest::Client, base: String, token: String, id: i64, until: Instant) {
    let url = format!("{base}/api/v1/connections/{id}");
    let mut query = String::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let answer = client
            .get(format!("{url}{query}"))
            .bearer_auth(&token)
            .timeout(left)
            .send()
            .await;
        let status = match answer {
            Ok(r) if r.status().is_success() => r.json::<ConnectionStatus>().await.ok(),
            Ok(_) => None,
            Err(e) if e.is_timeout() => return,
            Err(_) => None,
        };
        match status {
            Some(s) => match watch_since(&s) {
                Some(since) => query = format!("?wait={LONG_POLL_SECS}&since={since}"),
                // Nothing to watch: the widget waits for the user.
                None => {
                    tokio::time::sleep_until(until.into()).await;
                    return;
                }
            },
            None => tokio::time::sleep(Duration::from_secs(2).min(left)).await,
        }
    }
}

async fn one_tab_on_bug(window: Duration) -> Result<f64, String> {
    let rig = Rig::start(false).await?;
    let token = rig.session();
    // The page load (and the user token it needs) is not the steady state measured.
    let first = rig
        .client
        .get(format!("{}/api/v1/connections/112", rig.base))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !first.status().is_success() {
        return Err(format!("connection 112 answered {}", first.status()));
    }
    rig.sandbox.clear_requests();
    let started = Instant::now();
    tab(
        rig.client.clone(),
        rig.base.clone(),
        token,
        112,
        started + window,
    )
    .await;
    Ok(per_minute(rig.requests(), started.elapsed()))
}

fn per_minute(n: usize, over: Duration) -> f64 {
    n as f64 * 60.0 / over.as_secs_f64()
}

/// The mix of (b): templates among the demo connections, cycled.
const MIX: [i64; 10] = [101, 106, 110, 111, 112, 104, 105, 109, 113, 102];

async fn hundred_tabs(window: Duration, webhooks: bool) -> Result<(f64, usize, usize), String> {
    let rig = Rig::start(webhooks).await?;
    let ids: Vec<(i64, i64)> = (0..100)
        .map(|i| {
            let template = MIX[i % MIX.len()];
            rig.sandbox
                .clone_connection(template)
                .map(|id| (template, id))
                .ok_or_else(|| format!("cannot clone {template}"))
        })
        .collect::<Result<_, _>>()?;
    let token = rig.session();
    rig.sandbox.clear_requests();
    let started = Instant::now();
    let until = started + window;
    let tabs: Vec<_> = ids
        .iter()
        .map(|&(_, id)| {
            tokio::spawn(tab(
                rig.client.clone(),
                rig.base.clone(),
                token.clone(),
                id,
                until,
            ))
        })
        .collect();
    let asked = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let actor = tokio::spawn(act(
        rig.client.clone(),
        rig.base.clone(),
        token.clone(),
        ids.clone(),
        until,
        asked.clone(),
        ok.clone(),
    ));
    for t in tabs {
        let _ = t.await;
    }
    let _ = actor.await;
    Ok((
        per_minute(rig.requests(), started.elapsed()),
        ok.load(Ordering::Relaxed),
        asked.load(Ordering::Relaxed),
    ))
}

/// A user acting every 3 s, round the connections that offer an action: a sync on
/// a fine one, the right code on an OTP one, a resume on a decoupled one. An action
/// counts as answered when the proxy answers 2xx.
async fn act(
    client: reqwest::Client,
    base: String,
    token: String,
    ids: Vec<(i64, i64)>,
    until: Instant,
    asked: Arc<AtomicUsize>,
    ok: Arc<AtomicUsize>,
) {
    let mut targets = ids
        .iter()
        .filter(|(t, _)| matches!(t, 101 | 104 | 105))
        .cycle();
    tokio::time::sleep(Duration::from_secs(2)).await;
    while Instant::now() + Duration::from_secs(3) < until {
        let Some(&(template, id)) = targets.next() else {
            return;
        };
        let url = format!("{base}/api/v1/connections/{id}");
        let req = match template {
            101 => client.post(format!("{url}/sync")),
            104 => client
                .post(format!("{url}/fields"))
                .json(&serde_json::json!({"values": {"otp": "123456"}})),
            _ => client.post(format!("{url}/resume")),
        };
        asked.fetch_add(1, Ordering::Relaxed);
        // A repaired OTP or decoupled connection asks for nothing any more (409): an
        // answer, but not the one counted; cycling on finds the next one.
        if let Ok(r) = req.bearer_auth(&token).send().await
            && r.status().is_success()
        {
            ok.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// `loads` page loads of connection 101 spread over `over`: Powens requests.
async fn page_loads(loads: u32, over: Duration) -> Result<usize, String> {
    let rig = Rig::start(false).await?;
    let token = rig.session();
    let url = format!("{}/api/v1/connections/101", rig.base);
    // Warm the user token: its renewal is not a read of the connection.
    rig.client
        .get(format!("{}/api/v1/connections/201", rig.base))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    rig.sandbox.clear_requests();
    let gap = over / loads;
    for _ in 0..loads {
        let r = rig
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("a page load answered {}", r.status()));
        }
        tokio::time::sleep(gap).await;
    }
    Ok(rig.requests())
}
