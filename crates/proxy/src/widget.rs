//! The widget's files at `/widget/`, from `MEND_WIDGET_DIR` (tower-http `ServeDir`).
//!
//! - Compressed on the wire: the release build writes a brotli and a gzip copy next
//!   to each file (`x.wasm.br`, `x.wasm.gz`, by `assets/compress.mjs`), and the copy
//!   the request's `Accept-Encoding` prefers is sent (brotli before gzip at equal
//!   weight, `q=0` refused, a missing copy falls back to the next, then to the file
//!   itself), with `Content-Encoding`, `Vary: Accept-Encoding` and the original
//!   file's `Content-Type`. Nothing is compressed per request.
//! - Validators: `Last-Modified` and a strong `ETag` per file and encoding, so
//!   `If-None-Match` / `If-Modified-Since` revalidations answer 304.
//! - MIME types from the extension (`.wasm` → `application/wasm`).
//! - `Cache-Control: public, max-age=31536000, immutable` for names carrying a
//!   content hash (Trunk's `name-<16 hex>.js`, `name-<16 hex>_bg.wasm`); for the entry
//!   `mend.js`, [`ENTRY_CACHE`]: fresh for five minutes, then used at once while it is
//!   revalidated in the background, so that no page waits for a round trip to the
//!   proxy before the widget starts (docs/widget.md, "Loading"); `no-cache` for the
//!   rest (`index.html`: revalidated every time).
//! - A strict Content Security Policy on HTML pages.
//! - CORS headers come from the router's CORS layer (a module script and its wasm
//!   loaded from another origin need them).
//! - The demo page's own route `/widget/c/{id}` (one connection alone) is the page.
//! - A missing folder is not fatal: 404 with a hint on how to build the widget.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::path::PathBuf;
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::AppState;

/// The Content Security Policy of the widget's HTML pages.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// `Cache-Control` of `mend.js`, the one name a host page writes. Short-lived, since
/// it names the release's hashed files: after a release a browser runs the previous
/// one for at most five minutes and one more page load (the stale copy is used once
/// while the new one is fetched). The previous release's files, which a stale copy
/// names, are in the browser's cache beside it (a year, `immutable`).
pub const ENTRY_CACHE: &str = "public, max-age=300, stale-while-revalidate=86400";

/// The widget folder and its file server.
#[derive(Debug, Clone)]
pub struct WidgetFiles {
    dir: PathBuf,
    serve: ServeDir,
}

impl WidgetFiles {
    /// Files from `dir`.
    pub fn new(dir: PathBuf) -> Self {
        let serve = ServeDir::new(&dir)
            .append_index_html_on_directories(true)
            .precompressed_br()
            .precompressed_gzip();
        Self { dir, serve }
    }
}

/// `/` and `/widget` → `/widget/`.
#[utoipa::path(get, path = "/widget", tag = "widget", responses((status = 307, description = "To `/widget/`")))]
pub async fn to_widget() -> Redirect {
    Redirect::temporary("/widget/")
}

/// `GET /widget/{*path}`.
#[utoipa::path(
    get,
    path = "/widget/{path}",
    tag = "widget",
    params(("path" = String, Path, description = "A file of the widget (`mend.js` is the entry)")),
    responses(
        (status = 200, description = "The file, with CORS headers"),
        (status = 404, description = "No such file, or the widget is not built", content_type = "text/plain"),
    )
)]
pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let files = &state.widget;
    if !files.dir.is_dir() {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            "The widget is not built: MEND_WIDGET_DIR has no files. Build it with `trunk build --release` \
             (or `cargo xtask setup`), or point MEND_WIDGET_DIR at the folder holding mend.js.\n",
        )
            .into_response();
    }
    let (mut parts, body) = req.into_parts();
    let rest = parts.uri.path().strip_prefix("/widget").unwrap_or("/");
    // Empty, or a route of the demo page (`/c/{id}`, one connection alone): the page.
    let rest = if rest.is_empty() || is_demo_route(rest) {
        "/"
    } else {
        rest
    };
    let name = rest.rsplit('/').next().unwrap_or("").to_owned();
    parts.uri = match Uri::builder().path_and_query(rest).build() {
        Ok(u) => u,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let res = match files
        .serve
        .clone()
        .oneshot(Request::from_parts(parts, body))
        .await
    {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    let mut res = res.into_response();
    let status = res.status();
    if status == StatusCode::NOT_FOUND {
        return (StatusCode::NOT_FOUND, "No such widget file.\n").into_response();
    }
    // ServeDir redirects `dir` to `dir/` relative to the path it saw: put `/widget` back.
    if status.is_redirection()
        && let Some(loc) = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        && loc.starts_with('/')
        && let Ok(v) = HeaderValue::from_str(&format!("/widget{loc}"))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = res.headers_mut();
    // The TypeScript declarations (mend.d.ts): `.ts` is MPEG transport stream to
    // mime_guess; as text they open in a browser and download as they are.
    if status.is_success() && name.ends_with(".d.ts") {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let cache = if is_hashed(&name) {
            "public, max-age=31536000, immutable"
        } else if name == "mend.js" {
            ENTRY_CACHE
        } else {
            "no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    res
}

/// Whether `path` (under `/widget`) is a route of the demo page, `/c/{id}`, which a
/// reload or a shared link asks for.
fn is_demo_route(path: &str) -> bool {
    path.strip_prefix("/c/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a file name carries a content hash: `-` then 16 hex digits, then `.` or `_`.
pub fn is_hashed(name: &str) -> bool {
    let b = name.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'-'
            && b.len() > i + 17
            && b[i + 1..i + 17].iter().all(u8::is_ascii_hexdigit)
            && matches!(b[i + 17], b'.' | b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("mend-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed("mend-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        assert!(!is_hashed("mend.js"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("mend-1a2b.js"));
        assert!(!is_hashed("mend-1a2b3c4d5e6f7a8bz.js"));
    }
}
