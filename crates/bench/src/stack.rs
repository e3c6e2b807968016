//! The processes of a deployment, started on free loopback ports and stopped by pid:
//! `mend-proxy` replicas (the real binary) configured for a Powens at a sandbox's URL,
//! a `redis-server` they share, HAProxy in front of them. Shared by `mend-bench
//! cluster` and the soak's separate-sandbox and cluster modes, so that both measure
//! the same deployment.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released for the child to bind).
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// A child process, killed (by pid) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Resident memory in MiB (0 once it has ended).
    pub fn rss_mib(&self) -> f64 {
        rss_and_fds(self.pid()).map_or(0.0, |(kib, _)| kib as f64 / 1024.0)
    }

    /// Sends SIGTERM: a graceful stop. Through `kill(1)`, since the workspace forbids
    /// the `unsafe` a direct `kill(2)` would need.
    pub fn terminate(&self) -> Result<(), String> {
        let ok = Command::new("kill")
            .args(["-s", "TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Ok(())
        } else {
            Err(format!("kill -s TERM {} failed", self.pid()))
        }
    }

    /// Sends SIGKILL: the process ends mid-request, as on a crash or an OOM kill.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
    }

    /// Waits (without blocking the runtime) until the process has ended; `false` if it
    /// still runs after `within`.
    pub async fn ended(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self.0.try_wait().ok().flatten().is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts `program`, its stdout discarded and its stderr the bench's.
pub fn spawn(program: &str, args: &[&str], env: &[(&str, String)]) -> Result<Proc, String> {
    let mut c = Command::new(program);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn()
        .map(Proc)
        .map_err(|e| format!("cannot start {program}: {e} (run `cargo xtask setup`)"))
}

/// The proxy binary: `MEND_PROXY_BIN`, else `mend-proxy` beside this executable (the
/// same cargo profile's build).
pub fn proxy_bin() -> PathBuf {
    std::env::var_os("MEND_PROXY_BIN").map_or_else(
        || {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.join("mend-proxy")))
                .unwrap_or_else(|| PathBuf::from("mend-proxy"))
        },
        PathBuf::from,
    )
}

/// Waits until `url` answers 2xx, for 30 s at most.
pub async fn until(what: &str, client: &reqwest::Client, url: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what}: not within 30 s"))
}

/// A process's resident memory (KiB) and open file descriptors, from `/proc`.
pub fn rss_and_fds(pid: u32) -> Option<(u64, usize)> {
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

/// The sum of `calls=` over `INFO commandstats`, less the `INFO` calls themselves;
/// `None` while the server does not answer.
pub fn redis_calls(port: u16) -> Option<u64> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "info", "commandstats"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.contains("# Commandstats") {
        return None;
    }
    Some(
        text.lines()
            .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum(),
    )
}

/// Starts a `redis-server` on a free port, without persistence, and waits until it
/// answers: the process and its port.
pub async fn start_redis() -> Result<(Proc, u16), String> {
    let port = free_port()?;
    let p = spawn(
        "redis-server",
        &[
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
        ],
        &[],
    )?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_calls(port).is_none() {
        if Instant::now() > deadline {
            return Err("redis-server did not answer within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((p, port))
}

/// What every replica is told: Powens is the sandbox at `sandbox_url` with the demo
/// client, sessions are signed with `secret`, and the limits meant for one browser
/// per IP are lifted (every simulated widget comes from 127.0.0.1).
pub fn replica_env(sandbox_url: &str, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("POWENS_API_URL", format!("{sandbox_url}/2.0")),
        ("POWENS_WEBVIEW_URL", format!("{sandbox_url}/webview")),
        ("POWENS_DOMAIN", mend_sandbox::DEMO_DOMAIN.to_owned()),
        ("POWENS_CLIENT_ID", mend_sandbox::DEMO_CLIENT_ID.to_owned()),
        (
            "POWENS_CLIENT_SECRET",
            mend_sandbox::DEMO_CLIENT_SECRET.to_owned(),
        ),
        ("MEND_SESSION_SECRET", secret.to_owned()),
        ("MEND_POWENS_BUDGET", "100000".to_owned()),
        ("MEND_RATE_LIMIT_PER_IP", "100000000".to_owned()),
        ("MEND_RATE_LIMIT_UNAUTHENTICATED", "100000000".to_owned()),
    ]
}

/// Starts the proxy binary listening on `port` with `env`, and waits until it is
/// ready (`/readyz`: its Redis, if any, answers).
pub async fn start_replica(
    bin: &str,
    env: &[(&str, String)],
    port: u16,
    client: &reqwest::Client,
) -> Result<Proc, String> {
    let mut e = env.to_vec();
    e.push(("MEND_LISTEN", format!("127.0.0.1:{port}")));
    let p = spawn(bin, &["serve"], &e)?;
    until(
        "a replica ready",
        client,
        &format!("http://127.0.0.1:{port}/readyz"),
    )
    .await?;
    Ok(p)
}

/// HAProxy in front of `backends`, round robin, health-checked on `/readyz` every
/// second (down after two failures, up after one success); a request refused by a
/// replica that is gone is sent to another (`retries`, `redispatch`).
pub fn haproxy_config(port: u16, backends: &[u16]) -> String {
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server r{} 127.0.0.1:{p} check\n", i + 1))
        .collect();
    format!(
        "global\n  maxconn 9000\ndefaults\n  mode http\n  option forwardfor\n  option redispatch\n  retries 2\n  timeout connect 1s\n  timeout client 40s\n  timeout server 40s\nfrontend web\n  bind 127.0.0.1:{port}\n  maxconn 9000\n  default_backend mend\nbackend mend\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  default-server inter 1s fall 2 rise 1 maxconn 5000\n{servers}"
    )
}

/// Writes the configuration into `dir` and starts HAProxy on a free port in front of
/// `backends`: the process and its base URL, once it answers `/readyz`.
pub async fn start_haproxy(
    dir: &std::path::Path,
    backends: &[u16],
    client: &reqwest::Client,
) -> Result<(Proc, String), String> {
    let port = free_port()?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, haproxy_config(port, backends)).map_err(|e| e.to_string())?;
    let cfg = cfg.to_str().ok_or("non-UTF-8 temp dir")?.to_owned();
    let p = spawn("haproxy", &["-db", "-f", &cfg], &[])?;
    let base = format!("http://127.0.0.1:{port}");
    until("haproxy", client, &format!("{base}/readyz")).await?;
    Ok((p, base))
}
