//! `mend-bench cluster`: three `mend-proxy` replicas sharing a `redis-server` behind
//! HAProxy, against one replica alone without Redis, under the same load: 3,000
//! widgets long-polling 300 `validating` connections (10 each), which then change one
//! by one. Figures (BENCHMARKS.md, "Cluster"):
//!
//! - upstream GETs per connection per poll interval while nothing changes, counted in
//!   the sandbox's request log (target: 1 whatever the number of replicas);
//! - p50/p99 of a change reaching the widgets (from the moment the sandbox's state
//!   changes to each widget's answer);
//! - RSS per replica while the 3,000 long-polls wait;
//! - Redis commands a second (`INFO commandstats`), quiet and while changing.
//!
//! The replicas are the real binary (`MEND_PROXY_BIN`, default `mend-proxy` beside
//! this executable: `cargo xtask bench cluster` builds it in release mode) with the
//! default poll interval (2 s); the sandbox runs in this process, so the bench knows
//! to the millisecond when a connection changes (`Sandbox::retry_now`). Everything
//! listens on free loopback ports and is stopped by pid when the bench ends (the
//! start-up is [`crate::stack`]'s, shared with the soak's cluster mode).
//!
//! Options: `--quick` (30 connections, 300 long-polls).

use crate::stack::{self, Proc, redis_calls};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Widgets per connection.
const WIDGETS_PER_CONNECTION: usize = 10;
/// The proxy's default `MEND_POLL_INTERVAL`.
const POLL: Duration = Duration::from_secs(2);
/// How long the quiet watch is counted.
const QUIET: Duration = Duration::from_secs(20);
/// Over how long the connections change, one after another.
const CHANGES_OVER: Duration = Duration::from_secs(10);
/// The replicas' shared session secret (bench value).
const SECRET: &str = "mend-bench-cluster-session-secret-0123456789";

/// `mend-bench cluster ARGS…`.
pub fn main(args: &[String]) {
    let connections = if args.iter().any(|a| a == "--quick") {
        30
    } else {
        300
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        let one = run(connections, false).await?;
        let three = run(connections, true).await?;
        Ok::<_, String>((one, three))
    });
    match result {
        Ok((one, three)) => report(connections, &one, &three),
        Err(e) => {
            eprintln!("mend-bench cluster: {e}");
            std::process::exit(1);
        }
    }
}

/// The figures of one set-up.
struct Figures {
    name: &'static str,
    gets_per_interval: f64,
    p50: Duration,
    p99: Duration,
    answered: usize,
    rss_mib: Vec<f64>,
    redis_quiet: Option<f64>,
    redis_changing: Option<f64>,
}

fn report(connections: usize, one: &Figures, three: &Figures) {
    println!(
        "\nmend-proxy cluster benchmark: {} long-polls over {connections} connections, MEND_POLL_INTERVAL {} s, {} cores\n",
        connections * WIDGETS_PER_CONNECTION,
        POLL.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{:<36} {:>20} {:>20}", "figure", one.name, three.name);
    let row = |name: &str, a: String, b: String| println!("{name:<36} {a:>20} {b:>20}");
    row(
        "upstream GETs / connection / interval",
        format!("{:.2}", one.gets_per_interval),
        format!("{:.2}", three.gets_per_interval),
    );
    row("change reaching widgets, p50", ms(one.p50), ms(three.p50));
    row("change reaching widgets, p99", ms(one.p99), ms(three.p99));
    let total = connections * WIDGETS_PER_CONNECTION;
    row(
        "widgets that saw the change",
        format!("{}/{total}", one.answered),
        format!("{}/{total}", three.answered),
    );
    let rss = |f: &Figures| {
        f.rss_mib
            .iter()
            .map(|m| format!("{m:.1}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    row("RSS per replica, MiB", rss(one), rss(three));
    let redis = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
    row(
        "Redis commands/s, quiet watch",
        redis(one.redis_quiet),
        redis(three.redis_quiet),
    );
    row(
        "Redis commands/s, while changing",
        redis(one.redis_changing),
        redis(three.redis_changing),
    );
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// One set-up, start to figures.
async fn run(connections: usize, cluster: bool) -> Result<Figures, String> {
    let name = if cluster { "3 + Redis" } else { "1 alone" };
    eprintln!("== {name}: starting");
    let sandbox = mend_sandbox::spawn(|cfg| cfg.validating_delay = Duration::from_secs(3600))
        .await
        .map_err(|e| format!("sandbox: {e}"))?;
    let ids: Vec<i64> = (0..connections)
        .map(|_| {
            sandbox
                .sandbox
                .clone_connection(106)
                .ok_or("no connection 106")
        })
        .collect::<Result<_, _>>()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .build()
        .map_err(|e| e.to_string())?;

    let mut procs = Vec::new();
    let mut env = stack::replica_env(&sandbox.url, SECRET);
    env.extend([
        ("MEND_RATE_LIMIT_PER_SESSION", "100000000".to_owned()),
        ("MEND_MAX_WAITS_PER_USER", "100000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]);
    let redis_port = if cluster {
        let (redis, port) = stack::start_redis().await?;
        procs.push(redis);
        env.push(("MEND_REDIS_URL", format!("redis://127.0.0.1:{port}/0")));
        env.push(("MEND_TRUSTED_PROXIES", "127.0.0.1".to_owned()));
        Some(port)
    } else {
        None
    };
    let bin = stack::proxy_bin();
    let bin = bin.to_str().ok_or("non-UTF-8 MEND_PROXY_BIN")?;
    let mut ports = Vec::new();
    let mut replicas = Vec::new();
    for _ in 0..if cluster { 3 } else { 1 } {
        let port = stack::free_port()?;
        replicas.push(stack::start_replica(bin, &env, port, &client).await?);
        ports.push(port);
    }
    let dir = std::env::temp_dir().join(format!("mend-bench-cluster-{}", std::process::id()));
    let base = if cluster {
        let (balancer, base) = stack::start_haproxy(&dir, &ports, &client).await?;
        procs.push(balancer);
        base
    } else {
        format!("http://127.0.0.1:{}", ports[0])
    };

    let token = mend_proxy::session::SessionKeys::new(&SecretString::from(SECRET)).mint(
        mend_sandbox::DEMO_USER_ID,
        None,
        Duration::from_secs(3600),
    );
    // Each widget: long-polls with `since=validating` until the state differs, and
    // records when it saw the change.
    let seen: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut widgets = Vec::new();
    for &id in &ids {
        for _ in 0..WIDGETS_PER_CONNECTION {
            let (client, token, seen) = (client.clone(), token.clone(), seen.clone());
            let url = format!("{base}/api/v1/connections/{id}?wait=25&since=validating");
            widgets.push(tokio::spawn(async move {
                loop {
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let body: serde_json::Value = r.json().await.unwrap_or_default();
                            if body.get("state").and_then(|s| s.as_str()) != Some("validating") {
                                seen.lock().await.push((id, Instant::now()));
                                return;
                            }
                        }
                        _ => tokio::time::sleep(Duration::from_millis(500)).await,
                    }
                }
            }));
        }
    }
    eprintln!("== {name}: {} widgets waiting; quiet watch", widgets.len());
    tokio::time::sleep(Duration::from_secs(5)).await;
    sandbox.sandbox.clear_requests();
    let calls0 = redis_port.and_then(redis_calls);
    let t0 = Instant::now();
    tokio::time::sleep(QUIET).await;
    let quiet = t0.elapsed();
    let calls1 = redis_port.and_then(redis_calls);
    let rss_mib = replicas.iter().map(Proc::rss_mib).collect();
    let wanted: std::collections::HashSet<String> =
        ids.iter().map(|id| format!("/connections/{id}")).collect();
    let gets = sandbox
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && wanted.iter().any(|w| r.path.ends_with(w.as_str())))
        .count();
    let gets_per_interval =
        gets as f64 / ids.len() as f64 / (quiet.as_secs_f64() / POLL.as_secs_f64());

    eprintln!("== {name}: changing the connections one by one");
    let mut changed_at = std::collections::HashMap::new();
    let step = CHANGES_OVER / u32::try_from(ids.len()).unwrap_or(1);
    let t1 = Instant::now();
    for &id in &ids {
        sandbox.sandbox.retry_now(id);
        changed_at.insert(id, Instant::now());
        tokio::time::sleep(step).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().await.len() < widgets.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let changing = t1.elapsed();
    let calls2 = redis_port.and_then(redis_calls);
    for w in &widgets {
        w.abort();
    }
    let mut lat: Vec<Duration> = seen
        .lock()
        .await
        .iter()
        .filter_map(|(id, at)| changed_at.get(id).map(|c| at.saturating_duration_since(*c)))
        .collect();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len().saturating_sub(1)) as f64 * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    let per_sec = |a: Option<u64>, b: Option<u64>, d: Duration| {
        Some(b?.saturating_sub(a?) as f64 / d.as_secs_f64())
    };
    let figures = Figures {
        name,
        gets_per_interval,
        p50: pct(0.5),
        p99: pct(0.99),
        answered: lat.len(),
        rss_mib,
        redis_quiet: per_sec(calls0, calls1, quiet),
        redis_changing: per_sec(calls1, calls2, changing),
    };
    // Replicas first, so that none logs Redis or the balancer going away.
    drop(replicas);
    drop(procs);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}
