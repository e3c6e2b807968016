//! `mend-sandbox`: runs the Powens simulator alone, for integrators' own tests.

use clap::Parser;
use mend_sandbox::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, DEMO_USER_ID, Sandbox, SandboxConfig,
};
use std::net::SocketAddr;
use std::time::Duration;

/// A faithful, offline simulator of the Powens API (/2.0), the Reconnect webview,
/// the bank's webauth page and a bank app for decoupled approvals.
///
/// Demo client: id 10000001, secret mend-sandbox-client-secret, domain
/// mend-sandbox.biapi.pro; demo user 1 owns connections 101-125, one per Powens
/// state (see GET / for the list). Control routes: GET/DELETE /_sandbox/requests,
/// PUT /_sandbox/faults, POST /_sandbox/reset, GET /_sandbox/connections.
/// Logs every /2.0 request (RUST_LOG, default `info,mend_sandbox=debug`).
#[derive(Debug, Parser)]
#[command(name = "mend-sandbox", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4010")]
    listen: SocketAddr,
    /// Absolute URL at which this server is reached (default: http://LISTEN).
    #[arg(long)]
    public_base: Option<String>,
    /// Comma-separated whitelist of redirect URIs (default: any http(s) URI without query).
    #[arg(long, value_delimiter = ',')]
    redirect_uris: Option<Vec<String>>,
    /// Seconds before the user approves by themselves, where a scenario auto-approves.
    #[arg(long, default_value_t = 3.0)]
    decoupled_delay: f64,
    /// Seconds a `validating` connection takes to turn fine.
    #[arg(long, default_value_t = 3.0)]
    validating_delay: f64,
    /// Seconds a blocking resume waits for the approval.
    #[arg(long, default_value_t = 20.0)]
    blocking_limit: f64,
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::ZERO)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,mend_sandbox=debug")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let base = args.public_base.unwrap_or_else(|| format!("http://{addr}"));
    let mut cfg = SandboxConfig::demo(base);
    cfg.redirect_uris = args.redirect_uris;
    cfg.decoupled_delay = secs(args.decoupled_delay);
    cfg.validating_delay = secs(args.validating_delay);
    cfg.blocking_limit = secs(args.blocking_limit);
    let sandbox = Sandbox::new(cfg.clone());
    println!("mend-sandbox listening on http://{addr}");
    println!("  Powens API root: {}/2.0", cfg.public_base);
    println!("  webview root:    {}/webview", cfg.public_base);
    println!("  bank app:        {}/bank/app", cfg.public_base);
    println!("  client id:       {DEMO_CLIENT_ID}");
    println!("  client secret:   {DEMO_CLIENT_SECRET}");
    println!("  domain:          {DEMO_DOMAIN}");
    println!("  demo user:       {DEMO_USER_ID} (connections 101-125)");
    axum::serve(listener, sandbox.router()).await
}
