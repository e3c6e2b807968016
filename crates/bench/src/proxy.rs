//! `mend-bench proxy`: figures for BENCHMARKS.md ("Proxy").
//!
//! Run it with `cargo xtask bench proxy` (or `cargo run --release -p mend-bench --
//! proxy`). It starts the proxy in sandbox mode as a **child process** (this same
//! binary, `proxy serve-child`), so its memory is measured alone, and drives it
//! over loopback from this process:
//!
//! 1. `GET /api/v1/connections/101` latency (p50/p99) and throughput with 64 concurrent
//!    clients, through the proxy and straight to the sandbox's `/2.0` route behind it;
//! 2. upstream `GET`s while 1, 50 and 500 clients long-poll one changing connection
//!    (a driver cycles 102 through `SCARequired` → `decoupled` → `validating` → `null`);
//! 3. the proxy's resident memory with 10,000 waiting long-polls.
//!
//! Options: `--quick` (smaller counts, for a smoke run), `--waiters N` (default 10000),
//! `--only latency|watch|memory` (one part). Logs of the child are at `warn`
//! (per-request `info` lines would dominate). `MEND_BENCH_CHILD_WRAPPER` (e.g.
//! `valgrind --tool=callgrind`) is put in front of the child's command line, to
//! profile the proxy under the benchmark's load.

use mend_model::api::ConnectionStatus;
use mend_proxy::config::Config;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-session-secret-0123456789abcdef";
/// The child's `MEND_METRICS_TOKEN` (its `/metrics` needs it).
const METRICS_TOKEN: &str = "bench-metrics-token-0123456789";
const POLL: Duration = Duration::from_secs(1);

/// `mend-bench proxy ARGS…`.
pub fn main(args: &[String]) {
    if args.first().map(String::as_str) == Some("serve-child") {
        serve_child();
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let waiters = args
        .iter()
        .position(|a| a == "--waiters")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1000 } else { 10_000 });
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Err(e) = runtime.block_on(bench(quick, waiters, only.as_deref())) {
        eprintln!("mend-bench proxy: {e}");
        std::process::exit(1);
    }
}

/// The child: the proxy in sandbox mode on a free port; prints `ADDR <addr>`.
fn serve_child() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("MEND_BENCH_CHILD_LOG")
                .unwrap_or_else(|_| "warn,mend_proxy=error".into()),
        ))
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut cfg = Config::sandbox(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.session_secret = Some(SecretString::from(SECRET));
        cfg.poll_interval = POLL;
        cfg.rate_limit_per_ip = 100_000_000;
        cfg.rate_limit_per_session = 100_000_000;
        cfg.rate_limit_unauthenticated = 100_000_000;
        cfg.max_waiters_per_user = usize::MAX;
        cfg.max_connections = 100_000;
        cfg.metrics_token = Some(SecretString::from(METRICS_TOKEN));
        cfg.sandbox_setup = Some(|c| {
            c.decoupled_delay = Duration::from_millis(700);
            c.validating_delay = Duration::from_millis(700);
        });
        let app = mend_proxy::build(cfg).await.expect("the proxy builds");
        println!("ADDR {}", app.local_addr());
        app.run_until_stopped().await.expect("the proxy serves");
    });
}

struct ChildProxy {
    child: Child,
    base: String,
}

impl Drop for ChildProxy {
    fn drop(&mut self) {
        if std::env::var_os("MEND_BENCH_CHILD_WRAPPER").is_some() {
            // A profiler writes its report when the child exits by itself: SIGTERM
            // (the proxy shuts down gracefully), then wait a little.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..600 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildProxy {
    fn start() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let wrapper = std::env::var("MEND_BENCH_CHILD_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = command
            .args(["proxy", "serve-child"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the proxy: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let addr = line
            .trim()
            .strip_prefix("ADDR ")
            .ok_or("the proxy did not start")?
            .to_owned();
        Ok(Self {
            child,
            base: format!("http://{addr}"),
        })
    }

    /// Resident memory of the proxy process, in KiB.
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// A session the child accepts: in sandbox mode it signs with a key derived from
/// `MEND_SESSION_SECRET` ([`mend_proxy::sandbox_session_key`]).
fn session(user: i64) -> String {
    let key = mend_proxy::sandbox_session_key(&SecretString::from(SECRET));
    mend_proxy::session::SessionKeys::new(&key).mint(user, None, Duration::from_secs(3600))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `concurrency` clients each sending `per_client` GETs to `url`; latencies sorted.
async fn load(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    concurrency: usize,
    per_client: usize,
) -> Result<(Vec<Duration>, Duration, usize), String> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_client);
                let mut errors = 0usize;
                for _ in 0..per_client {
                    let t = Instant::now();
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.map_err(|e| e.to_string())?;
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok((all, elapsed, errors))
}

async fn sandbox_token(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let res: Value = client
        .post(format!("{base}/sandbox/2.0/auth/renew"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": mend_sandbox::DEMO_CLIENT_ID,
                      "client_secret": mend_sandbox::DEMO_CLIENT_SECRET, "id_user": 1}),
        )
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    res["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no sandbox token".to_owned())
}

/// Upstream connection reads the proxy has made (its own counter: the sandbox's
/// request log is cleared by the driver's resets).
async fn upstream_reads(client: &reqwest::Client, base: &str) -> Result<f64, String> {
    let text = client
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("mend_upstream_requests_total{op=\"get_connection\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Cycles connection 102 until `stop`: reset → SCARequired; sync → decoupled
/// (approved 0.7 s later); resume → validating → null. Straight to the sandbox.
async fn drive_changes(
    client: reqwest::Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
) {
    let api = format!("{base}/sandbox/2.0/users/me/connections/102");
    while !stop.load(Ordering::Relaxed) {
        let _ = client
            .post(format!("{base}/sandbox/_sandbox/reset"))
            .send()
            .await;
        // The reset forgot the tokens: get a new one.
        let token = sandbox_token(&client, &base)
            .await
            .unwrap_or_else(|_| token.clone());
        let _ = client.put(&api).bearer_auth(&token).send().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = client
            .post(format!("{api}?background=true"))
            .bearer_auth(&token)
            .json(&json!({"resume": true}))
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
}

async fn watch_changes(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    window: Duration,
) -> Result<(usize, usize), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let token = session(1);
    let sb_token = sandbox_token(client, base).await?;
    let driver = tokio::spawn(drive_changes(
        client.clone(),
        base.to_owned(),
        sb_token,
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reads_before = upstream_reads(client, base).await?;
    let deadline = Instant::now() + window;
    let answers = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let watchers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, base, token, answers) = (
                client.clone(),
                base.to_owned(),
                token.clone(),
                answers.clone(),
            );
            tokio::spawn(async move {
                let mut since = "SCARequired".to_owned();
                while Instant::now() < deadline {
                    let left = deadline
                        .saturating_duration_since(Instant::now())
                        .as_secs()
                        .max(1);
                    let url = format!(
                        "{base}/api/v1/connections/102?wait={}&since={since}",
                        left.min(30)
                    );
                    match client.get(url).bearer_auth(&token).send().await {
                        Ok(r) => match r.json::<ConnectionStatus>().await {
                            Ok(s) => {
                                answers.fetch_add(1, Ordering::Relaxed);
                                since = mend_model::ConnectionState::data_state(s.state.as_ref())
                                    .to_owned();
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                        },
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            })
        })
        .collect();
    for w in watchers {
        let _ = w.await;
    }
    let gets = (upstream_reads(client, base).await? - reads_before) as usize;
    stop.store(true, Ordering::Relaxed);
    let _ = driver.await;
    let _ = client
        .post(format!("{base}/sandbox/_sandbox/reset"))
        .send()
        .await;
    Ok((gets, answers.load(Ordering::Relaxed)))
}

async fn metric(client: &reqwest::Client, base: &str, name: &str) -> Option<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
}

async fn bench(quick: bool, waiters: usize, only: Option<&str>) -> Result<(), String> {
    let part = |name: &str| only.is_none_or(|o| o == name);
    let proxy = ChildProxy::start()?;
    let base = proxy.base.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let token = session(1);
    let per_client = if quick { 20 } else { 200 };
    println!(
        "mend-proxy benchmark (proxy in a child process, sandbox mode, loopback, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();

    if part("latency") {
        latency(&client, &base, &token, per_client).await?;
    }
    if part("watch") {
        watching(&client, &base, quick).await?;
    }
    if part("memory") {
        memory(&client, &base, &token, &proxy, waiters).await?;
    }
    Ok(())
}

async fn latency(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    per_client: usize,
) -> Result<(), String> {
    let (client, token) = (client.clone(), token.to_owned());
    // Warm up: token, connection pool.
    load(
        &client,
        &format!("{base}/api/v1/connections/101"),
        &token,
        64,
        5,
    )
    .await?;
    let sb_token = sandbox_token(&client, base).await?;
    let direct = format!("{base}/sandbox/2.0/users/me/connections/101?expand=connector,sources");
    load(&client, &direct, &sb_token, 64, 5).await?;

    println!("## GET status, 64 concurrent clients × {per_client} requests");
    println!();
    println!("| path | p50 | p99 | throughput | errors |");
    println!("|---|---|---|---|---|");
    for (name, url, tok) in [
        (
            "through the proxy (`/api/v1/connections/101`)",
            format!("{base}/api/v1/connections/101"),
            token.clone(),
        ),
        (
            "straight to the sandbox (`/sandbox/2.0/…/101`)",
            direct.clone(),
            sb_token.clone(),
        ),
    ] {
        let (lat, elapsed, errors) = load(&client, &url, &tok, 64, per_client).await?;
        println!(
            "| {name} | {} | {} | {:.0} req/s | {errors} |",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            lat.len() as f64 / elapsed.as_secs_f64()
        );
    }
    println!();
    Ok(())
}

async fn watching(client: &reqwest::Client, base: &str, quick: bool) -> Result<(), String> {
    let window = if quick {
        Duration::from_secs(4)
    } else {
        Duration::from_secs(10)
    };
    println!(
        "## Upstream GETs while clients long-poll one changing connection (102), {}s window, poll interval {}s",
        window.as_secs(),
        POLL.as_secs()
    );
    println!();
    println!("| watching clients | upstream GETs | per second | answers to clients |");
    println!("|---|---|---|---|");
    for clients in [1usize, 50, 500] {
        let (gets, answers) = watch_changes(client, base, clients, window).await?;
        println!(
            "| {clients} | {gets} | {:.2} | {answers} |",
            gets as f64 / window.as_secs_f64()
        );
    }
    println!();
    Ok(())
}

async fn memory(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    proxy: &ChildProxy,
    waiters: usize,
) -> Result<(), String> {
    println!("## Resident memory of the proxy with {waiters} waiting long-polls (connection 114)");
    println!();
    let before = proxy.rss_kib().unwrap_or(0);
    let url = format!("{base}/api/v1/connections/114?wait=30&since=someFutureState");
    let polls: Vec<_> = (0..waiters)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), token.to_owned());
            tokio::spawn(async move {
                client
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    let started = Instant::now();
    let mut seen = 0.0;
    while started.elapsed() < Duration::from_secs(25) {
        seen = metric(client, base, "mend_waiters").await.unwrap_or(0.0);
        if seen as usize >= waiters {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let during = proxy.rss_kib().unwrap_or(0);
    let pollers = metric(client, base, "mend_pollers").await.unwrap_or(0.0);
    println!("| measure | value |");
    println!("|---|---|");
    println!("| RSS before | {:.1} MiB |", before as f64 / 1024.0);
    println!(
        "| waiting long-polls reached | {seen:.0} in {:.1} s |",
        started.elapsed().as_secs_f64()
    );
    println!(
        "| RSS while they wait | {:.1} MiB |",
        during as f64 / 1024.0
    );
    println!(
        "| per waiting long-poll | {:.1} KiB |",
        (during.saturating_sub(before)) as f64 / seen.max(1.0)
    );
    println!("| pollers running | {pollers:.0} |");
    for p in polls {
        p.abort();
    }
    Ok(())
}
