//! `mend-bench soak`: many simulated widgets against the release proxy while the
//! sandbox fails a fifth of Powens' answers in every way it can, then proof that
//! nothing doubled, nothing was lost, nobody is stuck and memory stayed flat
//! (RELIABILITY.md, "Soak").
//!
//! The proxy runs in sandbox mode as a **child process** (`soak serve-child N`), so
//! its RSS and open file descriptors are its own (read from `/proc`). The widgets
//! speak the widget's protocol over HTTP, as `src/client.rs` does: status reads, long
//! polls while Powens works, OTP submissions, resumes of decoupled approvals, syncs,
//! and a redirect with its callback. Each submitted code is unique, so the sandbox's
//! request log (read as it grows, `GET /_sandbox/requests?after=N`) tells how many
//! times each reached Powens; the clients' own records tell what the user was told.
//!
//! After the faulty phase faults stop and every client must deliver a fresh state
//! within [`CONVERGE`] (two of its [`INTERVAL`]s), and every OTP client repairs its
//! connection with the right code.

use mend_model::api::{Action, ConnectionStatus};
use mend_proxy::config::Config;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "soak-session-secret-0123456789abcdef";
/// How long a client waits between two attempts (and after a failure).
const INTERVAL: Duration = Duration::from_secs(5);
/// Every client delivers a fresh state this soon after the faults stop: two intervals.
const CONVERGE: Duration = Duration::from_secs(10);
/// A long poll's `wait` (seconds): shorter than an interval, so that one in flight
/// when the faults stop answers within the bound.
const LONG_POLL: u64 = 4;
/// The demo connections cloned for the widgets: fine, OTP, decoupled, validating,
/// SCA, webauth-needing, cycled in this proportion.
const MIX: [i64; 10] = [101, 104, 104, 105, 104, 110, 101, 104, 106, 111];

/// `mend-bench soak ARGS…`.
pub fn main(args: &[String]) {
    if args.first().map(String::as_str) == Some("serve-child") {
        let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10);
        serve_child(n);
        return;
    }
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let secs = arg("--seconds").unwrap_or_else(|| arg("--minutes").unwrap_or(10) * 60);
    let widgets = arg("--widgets").unwrap_or(200) as usize;
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(soak(Duration::from_secs(secs), widgets)) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("mend-bench soak: {e}");
            std::process::exit(1);
        }
    }
}

/// The child: the proxy in sandbox mode with `n` cloned connections; prints
/// `CONN <template> <id>` for each, `REDIRECT <uri>`, then `ADDR <addr>`. Ends when
/// its stdin closes.
fn serve_child(n: usize) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("MEND_BENCH_CHILD_LOG").unwrap_or_else(|_| "error".into()),
        ))
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut cfg = Config::sandbox(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.session_secret = Some(SecretString::from(SECRET));
        cfg.poll_interval = Duration::from_secs(1);
        cfg.upstream_timeout = Duration::from_secs(2);
        cfg.rate_limit_per_ip = 100_000_000;
        cfg.rate_limit_per_session = 100_000_000;
        cfg.max_waiters_per_user = usize::MAX;
        cfg.sandbox_setup = Some(|c| {
            c.decoupled_delay = Duration::from_secs(2);
            c.validating_delay = Duration::from_secs(2);
            // A hung answer lasts past the proxy's upstream timeout, not a minute.
            c.fault_hang = Duration::from_secs(4);
        });
        let app = mend_proxy::build(cfg).await.expect("the proxy builds");
        let sandbox = app.sandbox().cloned().expect("sandbox mode");
        for i in 0..n {
            let template = MIX[i % MIX.len()];
            let id = sandbox.clone_connection(template).expect("a demo template");
            println!("CONN {template} {id}");
        }
        let addr = app.local_addr();
        if let Some(uri) = mend_proxy::sandbox_redirect_uris(addr).first() {
            println!("REDIRECT {uri}");
        }
        println!("ADDR {addr}");
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        });
        app.run_until(async move {
            let _ = stdin_closed.await;
        })
        .await
        .expect("the proxy runs");
    });
}

/// What the clients recorded.
#[derive(Debug, Default)]
struct Records {
    /// Each `(connection, code)` submitted, and whether the proxy acknowledged it (2xx).
    submitted: BTreeMap<(i64, String), bool>,
    /// Answers by `HTTP status` / `error code`.
    answers: BTreeMap<String, u64>,
    /// Requests that got no HTTP answer at all.
    transport_errors: u64,
}

impl Records {
    fn answer(&mut self, key: String) {
        *self.answers.entry(key).or_default() += 1;
    }
}

type Shared = Arc<Mutex<Records>>;

fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Records> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

/// A widget on one connection.
#[derive(Clone)]
struct Widget {
    http: reqwest::Client,
    base: String,
    token: String,
    id: i64,
    redirect: String,
    records: Shared,
}

impl Widget {
    /// Sends a request and records its answer; `Some` JSON body when 2xx.
    async fn send(&self, req: reqwest::RequestBuilder) -> Option<Value> {
        let res = match req.bearer_auth(&self.token).send().await {
            Ok(r) => r,
            Err(_) => {
                lock(&self.records).transport_errors += 1;
                return None;
            }
        };
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
        lock(&self.records).answer(if code.is_empty() {
            status.to_string()
        } else {
            format!("{status} {code}")
        });
        (200..300).contains(&status).then_some(body)
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/api/v1/connections/{}{tail}", self.base, self.id)
    }

    /// A status read (a long poll when `since` is given).
    async fn read(&self, since: Option<&str>) -> Option<ConnectionStatus> {
        let tail = since.map_or(String::new(), |s| format!("?wait={LONG_POLL}&since={s}"));
        let body = self.send(self.http.get(self.url(&tail))).await?;
        serde_json::from_value(body).ok()
    }

    /// One user step on `status`; returns the next status if an action answered one.
    async fn act(&self, status: &ConnectionStatus, n: u64) -> Option<ConnectionStatus> {
        if status.actions.contains(&Action::Submit) {
            // Unique per submission: the log says how often each reached Powens. A
            // wrong code keeps the connection asking, so the client can go on.
            let code = format!("{:06}", if n >= 123_456 { n + 1 } else { n });
            let body = self
                .send(
                    self.http
                        .post(self.url("/fields"))
                        .json(&json!({"values": {"otp": code}})),
                )
                .await;
            lock(&self.records)
                .submitted
                .insert((self.id, code), body.is_some());
            return body.and_then(|b| serde_json::from_value(b).ok());
        }
        if status.actions.contains(&Action::Resume) {
            let b = self.send(self.http.post(self.url("/resume"))).await?;
            return serde_json::from_value(b).ok();
        }
        let webauth = [Action::Webauth, Action::Reconnect]
            .into_iter()
            .find(|a| status.actions.contains(a));
        if let Some(a) = webauth {
            let path = if a == Action::Webauth {
                "/webauth-url"
            } else {
                "/reconnect-url"
            };
            let b = self
                .send(
                    self.http
                        .post(self.url(path))
                        .json(&json!({"redirect_uri": self.redirect})),
                )
                .await?;
            let url = url::Url::parse(b["url"].as_str()?).ok()?;
            let state = url
                .query_pairs()
                .find(|(k, _)| k == "state")?
                .1
                .into_owned();
            // The user comes back without finishing (the bank page is not driven):
            // the callback must still answer the connection's state.
            let b = self
                .send(self.http.post(format!("{}/api/v1/callback", self.base)).json(
                    &json!({"state": state, "error": "access_denied", "id_connection": self.id.to_string()}),
                ))
                .await?;
            return serde_json::from_value(b["status"].clone()).ok();
        }
        if n.is_multiple_of(5) && status.actions.contains(&Action::Sync) {
            let b = self.send(self.http.post(self.url("/sync"))).await?;
            return serde_json::from_value(b).ok();
        }
        None
    }
}

/// What one client saw over the run.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    /// After the faults stopped: how long until a fresh state was delivered.
    converged: Option<Duration>,
    /// An OTP client: whether the right code repaired the connection at the end.
    repaired: Option<bool>,
}

/// Whether a widget would watch `status` with a long poll (src/state.rs).
fn watching(status: &ConnectionStatus) -> Option<String> {
    status
        .state
        .as_ref()
        .filter(|s| s.is_changing())
        .map(|s| s.as_str().to_owned())
}

/// One client: act and watch until `faults_end`, then converge and (OTP) repair.
async fn client(w: Widget, faults_end: Instant) -> Outcome {
    let mut status: Option<ConnectionStatus> = None;
    let mut n = 0u64;
    let mut out = Outcome::default();
    while Instant::now() < faults_end {
        n += 1;
        let next = match &status {
            None => w.read(None).await,
            Some(s) => match w.act(s, n).await {
                Some(after) => Some(after),
                None => w.read(watching(s).as_deref()).await,
            },
        };
        // An answer that arrives once the faults have stopped is the fresh state.
        if next.is_some() && Instant::now() >= faults_end {
            out.converged = Some(faults_end.elapsed());
        }
        status = next;
        // Users act at human pace; a failed request waits an interval too.
        tokio::time::sleep(INTERVAL).await;
    }
    // Faults are off: a fresh state must come within CONVERGE.
    let mut last = None;
    while faults_end.elapsed() <= CONVERGE * 3 {
        if let Some(s) = w.read(None).await {
            out.converged = out.converged.or(Some(faults_end.elapsed()));
            last = Some(s);
            break;
        }
        tokio::time::sleep(INTERVAL).await;
    }
    if last.is_some_and(|s| s.actions.contains(&Action::Submit)) {
        let repaired = w
            .send(
                w.http
                    .post(w.url("/fields"))
                    .json(&json!({"values": {"otp": "123456"}})),
            )
            .await
            .and_then(|b| serde_json::from_value::<ConnectionStatus>(b).ok())
            .is_some_and(|s| !s.actions.contains(&Action::Submit));
        out.repaired = Some(repaired);
    }
    out
}

/// The sandbox's log, read as it grows: every POST of an OTP, by `(connection, code)`.
async fn read_log(
    http: reqwest::Client,
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<(BTreeMap<(i64, String), Vec<u16>>, u64), String> {
    let mut after = 0u64;
    let mut seen: BTreeMap<(i64, String), Vec<u16>> = BTreeMap::new();
    let mut total = 0u64;
    loop {
        let last_round = stop.load(std::sync::atomic::Ordering::Relaxed);
        let entries: Vec<mend_sandbox::RecordedRequest> = http
            .get(format!("{base}/sandbox/_sandbox/requests?after={after}"))
            .send()
            .await
            .map_err(|e| format!("request log: {e}"))?
            .json()
            .await
            .map_err(|e| format!("request log: {e}"))?;
        if let Some(first) = entries.first()
            && first.seq > after + 1
        {
            return Err(format!(
                "the request log overflowed: {} entries missed",
                first.seq - after - 1
            ));
        }
        for e in &entries {
            after = e.seq;
            total += 1;
            if e.method != "POST" {
                continue;
            }
            let Some(id) = e
                .path
                .rsplit_once("/connections/")
                .and_then(|(_, id)| id.parse::<i64>().ok())
            else {
                continue;
            };
            let body: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
            if let Some(code) = body["otp"].as_str() {
                seen.entry((id, code.to_owned()))
                    .or_default()
                    .push(e.status);
            }
        }
        if last_round {
            return Ok((seen, total));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The child's resident memory (KiB) and open file descriptors.
fn rss_and_fds(pid: u32) -> Option<(u64, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((rss, fds))
}

/// The running proxy: the child, its base URL, an allowed redirect URI and the
/// `(template, id)` of each widget's connection.
type Started = (Child, String, String, Vec<(i64, i64)>);

/// Starts the child and reads what it prints.
fn start_child(widgets: usize) -> Result<Started, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["soak", "serve-child", &widgets.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the proxy: {e}"))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut conns = Vec::new();
    let mut redirect = String::new();
    for line in BufReader::new(out).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("CONN"), Some(t), Some(id)) => {
                conns.push((t.parse().unwrap_or(0), id.parse().unwrap_or(0)));
            }
            (Some("REDIRECT"), Some(uri), None) => redirect = uri.to_owned(),
            (Some("ADDR"), Some(addr), None) => {
                return Ok((child, format!("http://{addr}"), redirect, conns));
            }
            _ => {}
        }
    }
    Err("the proxy ended before saying its address".into())
}

async fn soak(faulty: Duration, widgets: usize) -> Result<bool, String> {
    let (mut child, base, redirect, conns) = start_child(widgets)?;
    let result = drive(&child, faulty, base, redirect, conns).await;
    // Closing its stdin ends the child; kill it if it lingers.
    drop(child.stdin.take());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

async fn drive(
    child: &Child,
    faulty: Duration,
    base: String,
    redirect: String,
    conns: Vec<(i64, i64)>,
) -> Result<bool, String> {
    let pid = child.id();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .map_err(|e| e.to_string())?;
    let keys = mend_proxy::session::SessionKeys::new(&SecretString::from(SECRET));
    let token = keys.mint(mend_sandbox::DEMO_USER_ID, None, Duration::from_secs(3600));
    let mix = json!({"fraction": 0.2, "mix": [
        "ServerError", {"RateLimited": {"retry_after_secs": 1}}, "Timeout",
        "MalformedJson", "Drop", {"Slow": {"latency_ms": 1500}}
    ]});
    let put = http
        .put(format!("{base}/sandbox/_sandbox/faults"))
        .json(&mix)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !put.status().is_success() {
        return Err(format!("setting faults answered {}", put.status()));
    }
    let started = Instant::now();
    let faults_end = started + faulty;
    println!(
        "soak: {} widgets, {}s with 20 % upstream faults, then convergence",
        conns.len(),
        faulty.as_secs()
    );
    let records = Shared::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let log = tokio::spawn(read_log(http.clone(), base.clone(), stop.clone()));
    let clients: Vec<_> = conns
        .iter()
        .map(|&(_, id)| {
            let w = Widget {
                http: http.clone(),
                base: base.clone(),
                token: token.clone(),
                id,
                redirect: redirect.clone(),
                records: records.clone(),
            };
            tokio::spawn(client(w, faults_end))
        })
        .collect();
    // RSS and fds every 5 s until the faults stop.
    let mut samples: Vec<(Duration, u64, usize)> = Vec::new();
    while Instant::now() < faults_end {
        if let Some((rss, fds)) = rss_and_fds(pid) {
            samples.push((started.elapsed(), rss, fds));
        }
        tokio::time::sleep(
            Duration::from_secs(5).min(faults_end.saturating_duration_since(Instant::now())),
        )
        .await;
    }
    http.put(format!("{base}/sandbox/_sandbox/faults"))
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for c in clients {
        outcomes.push(c.await.map_err(|e| e.to_string())?);
    }
    if let Some((rss, fds)) = rss_and_fds(pid) {
        samples.push((started.elapsed(), rss, fds));
    }
    // Let in-flight submissions land in the log, then read it to the end.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (seen, upstream) = log.await.map_err(|e| e.to_string())??;
    Ok(report(
        &lock(&records),
        &seen,
        upstream,
        &outcomes,
        &samples,
        faulty,
    ))
}

/// Prints the figures and checks the targets; `true` when all hold.
fn report(
    records: &Records,
    seen: &BTreeMap<(i64, String), Vec<u16>>,
    upstream: u64,
    outcomes: &[Outcome],
    samples: &[(Duration, u64, usize)],
    faulty: Duration,
) -> bool {
    let doubled: Vec<_> = seen.iter().filter(|(_, s)| s.len() > 1).collect();
    let lost: Vec<_> = records
        .submitted
        .iter()
        .filter(|(k, acked)| {
            **acked
                && !seen
                    .get(*k)
                    .is_some_and(|s| s.iter().any(|st| (200..300).contains(st)))
        })
        .collect();
    let acked = records.submitted.values().filter(|a| **a).count();
    let stuck = outcomes
        .iter()
        .filter(|o| o.converged.is_none_or(|t| t > CONVERGE))
        .count();
    let not_repaired = outcomes
        .iter()
        .filter(|o| o.repaired == Some(false))
        .count();
    let slowest = outcomes.iter().filter_map(|o| o.converged).max();
    println!("\nanswers to the widgets (HTTP status / error code):");
    for (k, n) in &records.answers {
        println!("  {k:<32} {n:>8}");
    }
    println!(
        "  {:<32} {:>8}",
        "no answer (transport)", records.transport_errors
    );
    println!("\nproxy RSS and open fds over time:");
    for (t, rss, fds) in samples {
        println!("  {:>5}s {:>8} KiB {:>5} fds", t.as_secs(), rss, fds);
    }
    // Warm-up: the first quarter of the faulty phase (allocator arenas, pools).
    let warm = faulty / 4;
    let after: Vec<_> = samples.iter().filter(|(t, ..)| *t >= warm).collect();
    let growth = match (after.first(), after.iter().map(|s| s.1).max()) {
        (Some(first), Some(max)) if first.1 > 0 => max as f64 / first.1 as f64 - 1.0,
        _ => 0.0,
    };
    println!("\nPowens requests (sandbox log)      {upstream:>8}");
    println!(
        "OTP submissions sent / acknowledged {:>7} / {acked}",
        records.submitted.len()
    );
    println!("reached Powens twice (doubled)      {:>8}", doubled.len());
    println!("acknowledged, never sent (lost)     {:>8}", lost.len());
    println!(
        "stuck (no state {}s after faults)    {:>8}",
        CONVERGE.as_secs(),
        stuck
    );
    println!(
        "slowest convergence                 {:>7.1}s",
        slowest.unwrap_or_default().as_secs_f64()
    );
    println!("OTP clients not repaired at the end {not_repaired:>8}");
    println!(
        "RSS growth after warm-up            {:>7.1} %",
        growth * 100.0
    );
    for (k, s) in doubled.iter().take(5) {
        println!("  doubled: connection {} code {}: statuses {s:?}", k.0, k.1);
    }
    for (k, _) in lost.iter().take(5) {
        println!("  lost: connection {} code {}", k.0, k.1);
    }
    let ok = doubled.is_empty()
        && lost.is_empty()
        && stuck == 0
        && not_repaired == 0
        && growth <= 0.10
        && acked > 0;
    println!(
        "\n{}",
        if ok {
            "soak: all targets met (0 doubled, 0 lost, 0 stuck, memory flat)"
        } else {
            "soak: TARGETS MISSED"
        }
    );
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converged() -> Outcome {
        Outcome {
            converged: Some(Duration::from_secs(1)),
            repaired: Some(true),
        }
    }

    fn flat() -> Vec<(Duration, u64, usize)> {
        vec![
            (Duration::from_secs(20), 1000, 10),
            (Duration::from_secs(60), 1050, 10),
        ]
    }

    #[test]
    fn a_clean_run_meets_the_targets() {
        let mut r = Records::default();
        r.submitted.insert((7, "000001".into()), true);
        r.submitted.insert((7, "000002".into()), false);
        let seen = BTreeMap::from([
            ((7, "000001".into()), vec![200]),
            ((7, "000002".into()), vec![500]),
        ]);
        assert!(report(
            &r,
            &seen,
            10,
            &[converged()],
            &flat(),
            Duration::from_secs(60)
        ));
    }

    #[test]
    fn doubled_lost_stuck_and_growing_runs_fail() {
        let mut r = Records::default();
        r.submitted.insert((7, "000001".into()), true);
        let twice = BTreeMap::from([((7, "000001".into()), vec![500, 200])]);
        assert!(!report(
            &r,
            &twice,
            10,
            &[converged()],
            &flat(),
            Duration::from_secs(60)
        ));
        // Acknowledged, but Powens only ever answered it with a fault.
        let never = BTreeMap::from([((7, "000001".into()), vec![0])]);
        assert!(!report(
            &r,
            &never,
            10,
            &[converged()],
            &flat(),
            Duration::from_secs(60)
        ));
        let once = BTreeMap::from([((7, "000001".into()), vec![200])]);
        let stuck = Outcome {
            converged: Some(CONVERGE * 2),
            repaired: None,
        };
        assert!(!report(
            &r,
            &once,
            10,
            &[stuck],
            &flat(),
            Duration::from_secs(60)
        ));
        let growing = vec![
            (Duration::from_secs(20), 1000, 10),
            (Duration::from_secs(60), 1200, 10),
        ];
        assert!(!report(
            &r,
            &once,
            10,
            &[converged()],
            &growing,
            Duration::from_secs(60)
        ));
    }
}
