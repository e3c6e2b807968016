//! `cargo xtask bench …`: benchmarks that print figures (never timed tests that flake).

use crate::setup::require_build_tools;
use crate::util::{Result, cmd, root, run};

/// The widget's size budget, gzip bytes of wasm + js + css together (issue: ≤ 110 KB).
const WIDGET_BUDGET_GZIP: u64 = 110 * 1024;

/// Release-builds the widget and prints raw and gzip -9 bytes of what a browser loads.
pub fn widget() -> Result {
    require_build_tools()?;
    run(
        "release build of the widget (trunk)",
        cmd("trunk").args(["build", "--release", "--offline"]),
    )?;
    let dist = root().join("dist");
    let mut rows: Vec<(String, u64, u64)> = Vec::new();
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let shipped = [".wasm", ".js", ".css"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if !path.is_file() || !shipped {
            continue;
        }
        let raw = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        let gz = gzip_len(&path)?;
        rows.push((name, raw, gz));
    }
    if rows.is_empty() {
        return Err("dist/ holds no .wasm, .js or .css file".into());
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    println!(
        "\n{:<44} {:>10} {:>10}",
        "file (dist/)", "raw B", "gzip -9 B"
    );
    let (mut raw_total, mut gz_total) = (0, 0);
    for (name, raw, gz) in &rows {
        println!("{name:<44} {raw:>10} {gz:>10}");
        raw_total += raw;
        gz_total += gz;
    }
    println!("{:<44} {raw_total:>10} {gz_total:>10}", "total");
    println!(
        "budget: {gz_total} / {WIDGET_BUDGET_GZIP} bytes gzip ({:.1} KB of 110 KB) {}",
        gz_total as f64 / 1024.0,
        if gz_total <= WIDGET_BUDGET_GZIP {
            "within budget"
        } else {
            "OVER BUDGET"
        }
    );
    Ok(())
}

fn gzip_len(path: &std::path::Path) -> Result<u64> {
    let p = path.to_str().ok_or("non-UTF-8 path")?;
    let out = cmd("sh")
        .args(["-c", "gzip -9 -c \"$1\" | wc -c", "sh", p])
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "gzip: no byte count".to_string())
}

/// Runs `mend-bench proxy` (crates/bench) in release mode.
pub fn proxy(args: &[&str]) -> Result {
    run(
        "proxy benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "proxy"])
            .args(args),
    )?;
    Ok(())
}

/// Runs `mend-bench upstream` (crates/bench) in release mode: Powens requests a minute.
pub fn upstream(args: &[&str]) -> Result {
    run(
        "upstream (fair use) benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "upstream"])
            .args(args),
    )?;
    Ok(())
}

/// Runs `mend-bench cluster` (crates/bench) in release mode: three replicas, Redis and
/// HAProxy against one replica alone (the replicas are the release `mend-proxy`).
pub fn cluster(args: &[&str]) -> Result {
    run(
        "build mend-proxy (release)",
        cmd("cargo").args(["build", "--release", "-p", "mend-proxy"]),
    )?;
    run(
        "cluster benchmark (release)",
        cmd("cargo")
            .args(["run", "--release", "-p", "mend-bench", "--", "cluster"])
            .args(args)
            .env(
                "MEND_PROXY_BIN",
                crate::util::target_dir().join("release/mend-proxy"),
            ),
    )?;
    Ok(())
}
