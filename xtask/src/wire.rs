//! Bytes on the wire: what a browser downloads for `<mend-connection>`, measured
//! against a running `mend-proxy`, never from the files on disk. Shared by `cargo
//! xtask bench widget` (prints) and `cargo xtask test` (gates), so both measure the
//! same files the same way.
//!
//! `mend.js` is fetched as a browser fetches it (`Accept-Encoding: br, gzip`), then
//! every file it names by a relative URL (its `import … from './…'` and `new
//! URL('./…', import.meta.url)`), and so on for the JavaScript among them; a name in a
//! dynamic `import('./…')` is loaded on demand, so it is listed but not counted. Each
//! file is fetched three more times, asking for brotli only, gzip only and identity.
//! Figures are body bytes (`Content-Length`), headers left out. The demo page's files
//! are not counted: `mend.js` never names them.

use crate::procs::{self, Guard};
use crate::util::{Result, cmd};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Most bytes the element may cost on the wire, brotli as a browser gets it (100 KiB).
pub const BUDGET: u64 = 102_400;
/// What a browser sends (Chromium also offers deflate and zstd; the proxy has neither).
const BROWSER: &str = "br, gzip";

/// One file's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Path under `/widget/`.
    pub name: String,
    pub br: u64,
    pub gzip: u64,
    pub identity: u64,
    /// What the browser's request got, and in which encoding.
    pub browser: u64,
    pub browser_encoding: String,
}

/// The element's files, and those it only names for loading on demand.
#[derive(Debug, Default)]
pub struct Figures {
    pub rows: Vec<Row>,
    pub on_demand: Vec<String>,
}

impl Figures {
    /// Total of the browser column.
    pub fn browser_total(&self) -> u64 {
        self.rows.iter().map(|r| r.browser).sum()
    }

    /// The figures as a table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<44} {:>9} {:>9} {:>10} {:>16}\n",
            "file (/widget/)", "br B", "gzip B", "identity B", "browser B (enc)"
        );
        let (mut br, mut gz, mut id) = (0, 0, 0);
        for r in &self.rows {
            out += &format!(
                "{:<44} {:>9} {:>9} {:>10} {:>9} ({})\n",
                r.name, r.br, r.gzip, r.identity, r.browser, r.browser_encoding
            );
            br += r.br;
            gz += r.gzip;
            id += r.identity;
        }
        out += &format!(
            "{:<44} {br:>9} {gz:>9} {id:>10} {:>9}\n",
            "total",
            self.browser_total()
        );
        for name in &self.on_demand {
            out += &format!("{name:<44} (named for loading on demand: not counted)\n");
        }
        out
    }

    /// The one-line verdict against [`BUDGET`].
    pub fn verdict(&self) -> String {
        let total = self.browser_total();
        format!(
            "on the wire: {total} B of {BUDGET} B ({:.1} of 100.0 KiB) {}",
            total as f64 / 1024.0,
            if total <= BUDGET {
                "within budget"
            } else {
                "OVER BUDGET"
            }
        )
    }
}

/// Starts `bin` (mend-proxy) in sandbox mode on a free loopback port, serving `dist`,
/// and waits until it is healthy. Dropping the guard stops it (by its process group).
pub fn start_proxy(bin: &Path, dist: &Path) -> Result<(Guard, SocketAddr)> {
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?;
    let child = procs::spawn(
        "mend-proxy",
        cmd(bin.to_str().ok_or("non-UTF-8 path")?)
            .args(["serve"])
            .env("MEND_LISTEN", addr.to_string())
            .env("MEND_WIDGET_DIR", dist)
            .env("RUST_LOG", "warn")
            .env_remove("POWENS_API_URL"),
    )?;
    let mut guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = guard.0.try_wait() {
            return Err(format!("mend-proxy exited at start: {status}"));
        }
        if get(addr, "/healthz", "").is_ok_and(|r| r.status == 200) {
            return Ok((guard, addr));
        }
        if Instant::now() > deadline {
            return Err(format!("mend-proxy not healthy on {addr} after 30 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Measures the element's files as served at `addr`.
pub fn measure(addr: SocketAddr) -> Result<Figures> {
    let mut figures = Figures::default();
    let mut queue = vec!["/widget/mend.js".to_owned()];
    while let Some(path) = queue.pop() {
        if figures.rows.iter().any(|r| r.name == short(&path)) {
            continue;
        }
        let browser = get(addr, &path, BROWSER)?;
        if browser.status != 200 {
            return Err(format!(
                "GET {path}: HTTP {} (is the widget built? `trunk build --release`)",
                browser.status
            ));
        }
        let size = |accept: &str| -> Result<u64> {
            let r = get(addr, &path, accept)?;
            Ok(r.body.len() as u64)
        };
        let row = Row {
            name: short(&path),
            br: size("br")?,
            gzip: size("gzip")?,
            identity: size("identity")?,
            browser: browser.body.len() as u64,
            browser_encoding: browser
                .header("content-encoding")
                .unwrap_or("identity")
                .to_owned(),
        };
        if path.ends_with(".js") {
            let plain = get(addr, &path, "identity")?;
            let text = String::from_utf8_lossy(&plain.body);
            for (name, lazy) in relative_names(&text) {
                let Some(target) = resolve(&path, &name) else {
                    continue;
                };
                if lazy {
                    if !figures.on_demand.contains(&short(&target)) {
                        figures.on_demand.push(short(&target));
                    }
                } else {
                    queue.push(target);
                }
            }
        }
        figures.rows.push(row);
    }
    figures.rows.sort_by_key(|r| std::cmp::Reverse(r.browser));
    figures.on_demand.sort();
    Ok(figures)
}

fn short(path: &str) -> String {
    path.strip_prefix("/widget/").unwrap_or(path).to_owned()
}

/// Relative URLs (`./x`, `../x`) that JavaScript source loads (`import … from`,
/// `import '…'`, `new URL(…)`), each with whether it is the argument of a dynamic
/// `import(…)` (loaded on demand).
pub fn relative_names(js: &str) -> Vec<(String, bool)> {
    let mut found: Vec<(String, bool)> = Vec::new();
    let bytes = js.as_bytes();
    for (i, &q) in bytes.iter().enumerate() {
        if q != b'\'' && q != b'"' {
            continue;
        }
        let rest = &js[i + 1..];
        if !(rest.starts_with("./") || rest.starts_with("../")) {
            continue;
        }
        let Some(end) = rest.find(q as char) else {
            continue;
        };
        let name = &rest[..end];
        if name.contains(['\n', ' ', '$']) {
            continue;
        }
        // Only where JavaScript loads a URL: a static import, a dynamic `import(`, or
        // `new URL(` (which mend.js hands to fetch and <link>). Any other quoted
        // "./x" (the glue keys the wasm's imports by "./mend-element_bg.js") is no URL.
        let before = js[..i].trim_end();
        let lazy = before.ends_with("import(");
        let eager =
            before.ends_with("from") || before.ends_with("import") || before.ends_with("URL(");
        if (lazy || eager) && !found.iter().any(|(n, _)| n == name) {
            found.push((name.to_owned(), lazy));
        }
    }
    found
}

/// `name` relative to the folder of `from` (both URL paths), `None` if it climbs out.
fn resolve(from: &str, name: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in name.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                if parts.len() <= 1 {
                    return None;
                }
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let path = parts.join("/");
    // Drop a query or fragment: the file is the same.
    Some(path.split(['?', '#']).next().unwrap_or(&path).to_owned())
}

/// An answer: status, headers (lower-case names), body bytes as sent.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 GET over loopback with `Connection: close`. By hand rather than with
/// an HTTP client crate: xtask is built first on every machine, the server is ours,
/// and the point is the body exactly as sent (no client that might decode it).
pub fn get(addr: SocketAddr, path: &str, accept_encoding: &str) -> Result<Reply> {
    let err = |e: std::io::Error| format!("GET http://{addr}{path}: {e}");
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(err)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(err)?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !accept_encoding.is_empty() {
        req += &format!("Accept-Encoding: {accept_encoding}\r\n");
    }
    req += "\r\n";
    s.write_all(req.as_bytes()).map_err(err)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(err)?;
    parse(&raw).map_err(|e| format!("GET http://{addr}{path}: {e}"))
}

fn parse(raw: &[u8]) -> Result<Reply> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let reply = Reply {
        status,
        headers,
        body,
    };
    if reply.header("transfer-encoding").is_some() {
        return Err("a chunked answer (the widget files are sent with a length)".into());
    }
    if let Some(len) = reply.header("content-length")
        && len.parse::<usize>().ok() != Some(reply.body.len())
    {
        return Err(format!(
            "Content-Length {len} but {} bytes",
            reply.body.len()
        ));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_with_what_loads_on_demand() {
        let js = r#"import init, { A } from './mend-element-0123.js';
const WASM = new URL('./mend-element-0123_bg.wasm', import.meta.url);
const CSS = new URL("./mend-4567.css", import.meta.url).href;
const fr = () => import( './i18n-fr.js');
const url = `${base}/api/v1/connections/${id}`; const z = 'x./y';
import './side-effect.js';
function imports() { return { "./mend-element_bg.js": { f() {} }, k: './not-loaded.js' }; }"#;
        assert_eq!(
            relative_names(js),
            vec![
                ("./mend-element-0123.js".to_owned(), false),
                ("./mend-element-0123_bg.wasm".to_owned(), false),
                ("./mend-4567.css".to_owned(), false),
                ("./i18n-fr.js".to_owned(), true),
                ("./side-effect.js".to_owned(), false),
            ]
        );
    }

    #[test]
    fn names_resolve_against_the_module() {
        assert_eq!(
            resolve("/widget/mend.js", "./a.wasm").as_deref(),
            Some("/widget/a.wasm")
        );
        assert_eq!(
            resolve("/widget/snippets/x/y.js", "../z.js?v=1").as_deref(),
            Some("/widget/snippets/z.js")
        );
        assert_eq!(resolve("/widget/mend.js", "../../etc"), None);
    }

    #[test]
    fn answers_are_parsed_and_their_length_checked() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc")
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some("br"));
        assert_eq!(r.body, b"abc");
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc").is_err());
    }

    #[test]
    fn the_verdict_compares_the_browser_column_with_the_budget() {
        let row = |browser| Row {
            name: "x".into(),
            br: browser,
            gzip: browser,
            identity: browser,
            browser,
            browser_encoding: "br".into(),
        };
        let under = Figures {
            rows: vec![row(BUDGET - 1), row(1)],
            on_demand: vec![],
        };
        assert!(
            under.verdict().ends_with("within budget"),
            "{}",
            under.verdict()
        );
        let over = Figures {
            rows: vec![row(BUDGET), row(1)],
            on_demand: vec![],
        };
        assert!(over.verdict().ends_with("OVER BUDGET"));
    }
}
