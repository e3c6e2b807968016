//! What the soak runs against, in one of three modes:
//!
//! - `Separate` (the default): the sandbox served by this process, the real
//!   `mend-proxy` binary configured for Powens at the sandbox's URL, so that the RSS
//!   and fds read from `/proc` are the proxy's alone (the sandbox's growing request
//!   log is not in them);
//! - `Cluster`: the same sandbox, a `redis-server`, three replicas sharing it and
//!   HAProxy in front; the widgets go through HAProxy, and replicas are stopped and
//!   started again during the run ([`Target::restart`]);
//! - `InProxy`: the proxy in sandbox mode as a child process ([`super::child`]), the
//!   sandbox inside it: no proxy binary needed, but its memory is both's.
//!
//! Each widget's connection is a copy of a demo connection owned by a user of its own.

use super::child::{self, Conn, MIX};
use crate::stack::{self, Proc};
use mend_proxy::session::SessionKeys;
use secrecy::SecretString;
use std::time::{Duration, Instant};

/// The replicas' session secret (bench value).
const SECRET: &str = "mend-bench-soak-session-secret-0123456789abcdef";
/// Where the widgets say the user returns from the bank (never visited: they post the
/// callback themselves).
const RETURN_URI: &str = "https://app.example/bank/return";
/// The replicas of the cluster mode.
const REPLICAS: usize = 3;

/// How the soak is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Separate,
    Cluster,
    InProxy,
}

/// How a replica is stopped before it is started again.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// SIGTERM: drains its in-flight requests, as on a rolling deploy.
    Term,
    /// SIGKILL: ends mid-request, as on a crash or an OOM kill.
    Kill,
}

/// A running deployment and what the widgets need to use it.
pub struct Target {
    /// Where the widgets send their requests.
    pub base: String,
    /// Where the sandbox's control routes (`/_sandbox/…`) are.
    pub sandbox: String,
    /// A redirect URI the proxy allows.
    pub redirect: String,
    /// The widgets' connections.
    pub conns: Vec<Conn>,
    /// What the proxy's sessions are signed with.
    pub keys: SessionKeys,
    inner: Inner,
}

enum Inner {
    Child(child::Started),
    Stack(Box<Deployment>),
}

/// The separate and cluster modes' processes.
struct Deployment {
    /// Served by this process; stops when dropped.
    sandbox: mend_sandbox::SpawnedSandbox,
    bin: String,
    env: Vec<(&'static str, String)>,
    /// Each replica and its port (kept across restarts).
    replicas: Vec<(Option<Proc>, u16)>,
    /// Redis and HAProxy, stopped after the replicas.
    others: Vec<Proc>,
    dir: std::path::PathBuf,
}

impl Target {
    /// Starts the deployment of `mode` with `widgets` connections.
    pub async fn start(mode: Mode, widgets: usize) -> Result<Self, String> {
        if mode == Mode::InProxy {
            let s = child::start(widgets)?;
            return Ok(Self {
                sandbox: format!("{}/sandbox", s.base),
                base: s.base.clone(),
                redirect: s.redirect.clone(),
                conns: s.conns.clone(),
                keys: child::session_keys(),
                inner: Inner::Child(s),
            });
        }
        let sandbox = mend_sandbox::spawn(|c| {
            c.decoupled_delay = Duration::from_secs(2);
            c.validating_delay = Duration::from_secs(2);
            // A hung answer lasts past the proxy's upstream timeout, not a minute.
            c.fault_hang = Duration::from_secs(4);
        })
        .await
        .map_err(|e| format!("sandbox: {e}"))?;
        let conns = (0..widgets)
            .map(|i| {
                let template = MIX[i % MIX.len()];
                let (user, id) = sandbox
                    .sandbox
                    .clone_connection_for_new_user(template)
                    .ok_or("a demo template is missing")?;
                Ok(Conn { template, user, id })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut env = stack::replica_env(&sandbox.url, SECRET);
        env.extend([
            // As the in-proxy child: a quick poll, and an upstream timeout shorter
            // than the hang fault, so that faults cost seconds, not minutes.
            ("MEND_POLL_INTERVAL", "1s".to_owned()),
            ("MEND_UPSTREAM_TIMEOUT", "2s".to_owned()),
            ("MEND_REDIRECT_URIS", RETURN_URI.to_owned()),
            (
                "RUST_LOG",
                std::env::var("MEND_BENCH_CHILD_LOG").unwrap_or_else(|_| "error".into()),
            ),
        ]);
        let mut d = Deployment {
            sandbox,
            bin: stack::proxy_bin()
                .to_str()
                .ok_or("non-UTF-8 MEND_PROXY_BIN")?
                .to_owned(),
            env,
            replicas: Vec::new(),
            others: Vec::new(),
            dir: std::env::temp_dir().join(format!("mend-bench-soak-{}", std::process::id())),
        };
        let sandbox_url = d.sandbox.url.clone();
        let client = reqwest::Client::new();
        if mode == Mode::Cluster {
            let (redis, port) = stack::start_redis().await?;
            d.others.push(redis);
            d.env
                .push(("MEND_REDIS_URL", format!("redis://127.0.0.1:{port}/0")));
            d.env.push(("MEND_TRUSTED_PROXIES", "127.0.0.1".to_owned()));
        }
        for _ in 0..if mode == Mode::Cluster { REPLICAS } else { 1 } {
            let port = stack::free_port()?;
            let p = stack::start_replica(&d.bin, &d.env, port, &client).await?;
            d.replicas.push((Some(p), port));
        }
        let base = if mode == Mode::Cluster {
            let ports: Vec<u16> = d.replicas.iter().map(|r| r.1).collect();
            let (balancer, base) = stack::start_haproxy(&d.dir, &ports, &client).await?;
            d.others.push(balancer);
            base
        } else {
            format!("http://127.0.0.1:{}", d.replicas[0].1)
        };
        Ok(Self {
            base,
            sandbox: sandbox_url,
            redirect: RETURN_URI.to_owned(),
            conns,
            keys: SessionKeys::new(&SecretString::from(SECRET)),
            inner: Inner::Stack(Box::new(d)),
        })
    }

    /// The proxy processes, named, with their pids: `proxy`, or `r1`… in a cluster
    /// (a replica being restarted is left out).
    pub fn processes(&self) -> Vec<(String, u32)> {
        match &self.inner {
            Inner::Child(s) => vec![("proxy".to_owned(), s.child.id())],
            Inner::Stack(d) if d.replicas.len() == 1 => d.replicas[0]
                .0
                .iter()
                .map(|p| ("proxy".to_owned(), p.pid()))
                .collect(),
            Inner::Stack(d) => d
                .replicas
                .iter()
                .enumerate()
                .filter_map(|(i, (p, _))| Some((format!("r{}", i + 1), p.as_ref()?.pid())))
                .collect(),
        }
    }

    /// Stops replica `i` the way `how` says, leaves it down for `down` (HAProxy marks
    /// it down meanwhile), starts it again on its port and waits until it is ready:
    /// how long it was gone.
    pub async fn restart(
        &mut self,
        i: usize,
        how: Stop,
        down: Duration,
    ) -> Result<Duration, String> {
        let Inner::Stack(d) = &mut self.inner else {
            return Err("only replicas of a deployment restart".into());
        };
        let (slot, port) = d.replicas.get_mut(i).ok_or("no such replica")?;
        let mut p = slot.take().ok_or("the replica is not running")?;
        let gone = Instant::now();
        match how {
            Stop::Term => p.terminate()?,
            Stop::Kill => p.kill(),
        }
        // The drain answers long polls at once and lets other requests finish; past
        // that it is killed, which the soak would then show as failed requests.
        if !p.ended(Duration::from_secs(30)).await {
            eprintln!(
                "soak: replica r{} still running 30 s after SIGTERM: killed",
                i + 1
            );
        }
        drop(p);
        tokio::time::sleep(down).await;
        let client = reqwest::Client::new();
        let p = stack::start_replica(&d.bin, &d.env, *port, &client).await?;
        *slot = Some(p);
        Ok(gone.elapsed())
    }

    /// Stops everything: the proxies first, so that none sees Redis or the balancer
    /// go away, then the sandbox.
    pub async fn stop(self) {
        match self.inner {
            Inner::Child(s) => s.stop().await,
            Inner::Stack(mut d) => {
                d.replicas.clear();
                d.others.clear();
                let _ = std::fs::remove_dir_all(&d.dir);
            }
        }
    }
}
