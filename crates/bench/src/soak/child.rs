//! The soak's in-proxy mode (`--in-proxy`), as a child process (`mend-bench soak
//! serve-child N`): the proxy in sandbox mode with N connections, each a copy of a
//! demo connection owned by a user of its own, so that every widget is a separate
//! session. Its RSS and open file descriptors (read from `/proc`) are the proxy's and
//! the in-process sandbox's together, request log included.

use mend_proxy::config::Config;
use secrecy::SecretString;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The session secret of the child (the driver signs with [`session_keys`]).
const SECRET: &str = "soak-session-secret-0123456789abcdef";

/// The keys the child's sessions are signed with: in sandbox mode the proxy derives
/// them from its secret, so that no sandbox session is valid on a production proxy.
pub fn session_keys() -> mend_proxy::session::SessionKeys {
    mend_proxy::session::SessionKeys::new(&mend_proxy::sandbox_session_key(&SecretString::from(
        SECRET,
    )))
}

/// The demo connections cloned for the widgets: fine, OTP, decoupled, validating,
/// SCA, webauth-needing, cycled in this proportion.
pub const MIX: [i64; 10] = [101, 104, 104, 105, 104, 110, 101, 104, 106, 111];

/// One widget's connection in the child.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    /// The demo connection it copies.
    pub template: i64,
    /// Its owner, a user of its own.
    pub user: i64,
    /// Its id.
    pub id: i64,
}

/// The running child: its process, base URL, an allowed redirect URI and the widgets'
/// connections.
pub struct Started {
    pub child: Child,
    pub base: String,
    pub redirect: String,
    pub conns: Vec<Conn>,
}

/// The child's side: the proxy in sandbox mode with `n` cloned connections; prints
/// `CONN <template> <user> <id>` for each, `REDIRECT <uri>`, then `ADDR <addr>`. Ends
/// when its stdin closes.
pub fn serve(n: usize) {
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
        // Every widget comes from 127.0.0.1: the per-IP limit would be everyone's.
        cfg.rate_limit_per_ip = 100_000_000;
        // A deployment sized for this many users: fair-use holding back (503 with
        // Retry-After once the default 600 requests a minute are spent, measured by
        // `bench upstream`) is not what the soak is about, and would pass for a fault.
        cfg.powens_budget = mend_proxy::config::MAX_POWENS_BUDGET;
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
            let (user, id) = sandbox
                .clone_connection_for_new_user(template)
                .expect("a demo template");
            println!("CONN {template} {user} {id}");
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

/// Starts the child with `widgets` connections and reads what it prints.
pub fn start(widgets: usize) -> Result<Started, String> {
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
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["CONN", t, u, id] => conns.push(Conn {
                template: t.parse().unwrap_or(0),
                user: u.parse().unwrap_or(0),
                id: id.parse().unwrap_or(0),
            }),
            ["REDIRECT", uri] => redirect = (*uri).to_owned(),
            ["ADDR", addr] => {
                return Ok(Started {
                    child,
                    base: format!("http://{addr}"),
                    redirect,
                    conns,
                });
            }
            _ => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("the proxy ended before saying its address".into())
}

impl Started {
    /// Ends the child: closing its stdin stops it; it is killed if it lingers.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
