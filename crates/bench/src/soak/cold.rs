//! `mend-bench soak --cold N`: the tail of the cold path. N new users open the widget
//! at the same moment; each one's first read needs a Powens user token (`/auth/renew`)
//! before the connection itself can be read. Prints that first read's latency
//! (p50/p90/p99/max), then a second, warm read for comparison, and checks that every
//! user was answered and that Powens renewed exactly one token per user.

use super::child;
use super::log;
use super::report::percentile;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Runs the cold path for `users` concurrent new users; `true` when all held.
pub async fn run(users: usize) -> Result<bool, String> {
    let started = child::start(users)?;
    let result = drive(&started, users).await;
    started.stop().await;
    result
}

async fn drive(started: &child::Started, users: usize) -> Result<bool, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        // One connection per user, as N browsers would have.
        .pool_max_idle_per_host(users)
        .build()
        .map_err(|e| e.to_string())?;
    let keys = child::session_keys();
    let stop = Arc::new(AtomicBool::new(false));
    let log = tokio::spawn(log::read(
        http.clone(),
        format!("{}/sandbox", started.base),
        stop.clone(),
    ));
    println!("cold path: {users} new users' first reads at once");
    let mut rounds = Vec::new();
    for round in ["first read (token renewal + read)", "second read (warm)"] {
        let gate = Arc::new(tokio::sync::Barrier::new(started.conns.len()));
        let tasks: Vec<_> = started
            .conns
            .iter()
            .map(|c| {
                let (http, gate) = (http.clone(), gate.clone());
                let url = format!("{}/api/v1/connections/{}", started.base, c.id);
                let token = keys.mint(c.user, None, Duration::from_secs(3600));
                tokio::spawn(async move {
                    gate.wait().await;
                    let t = Instant::now();
                    let status = http
                        .get(url)
                        .bearer_auth(token)
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    (status, t.elapsed().as_millis().min(u32::MAX as u128) as u32)
                })
            })
            .collect();
        let mut ok = 0;
        let mut lat = Vec::new();
        for t in tasks {
            let (status, ms) = t.await.map_err(|e| e.to_string())?;
            ok += usize::from(status == 200);
            lat.push(ms);
        }
        lat.sort_unstable();
        println!(
            "  {round:<36} {ok:>4}/{} answered 200: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
            lat.len(),
            percentile(&lat, 50.0),
            percentile(&lat, 90.0),
            percentile(&lat, 99.0),
            lat.last().copied().unwrap_or(0)
        );
        rounds.push(ok);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let up = log.await.map_err(|e| e.to_string())??;
    println!(
        "  Powens requests {}, of which user tokens renewed {} (one per user: {users})",
        up.total, up.renewals
    );
    let ok = rounds.iter().all(|&n| n == users) && up.renewals == users as u64;
    println!(
        "{}",
        if ok {
            "cold path: every user answered, one token renewal each"
        } else {
            "cold path: TARGETS MISSED"
        }
    );
    Ok(ok)
}
