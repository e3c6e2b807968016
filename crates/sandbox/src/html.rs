//! Tiny HTML helpers for the sandbox's pages: escaped text, one page layout, no
//! inline scripts or styles (Mend's demo runs under a strict CSP; the style sheet
//! is served at `/sandbox.css`).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page. `body` is trusted HTML (escape what goes into it).
pub(crate) fn page(base: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Powens sandbox</title>\n\
         <link rel=\"stylesheet\" href=\"{base}/sandbox.css\">\n</head>\n\
         <body>\n<main>\n{body}\n</main>\n\
         <footer><p>Mend sandbox: a simulation of Powens. No real bank is contacted.</p></footer>\n\
         </body>\n</html>\n",
        title = esc(title),
        base = esc(base),
    )
}

/// An HTML answer.
pub(crate) fn html(status: StatusCode, base: &str, title: &str, body: &str) -> Response {
    (status, Html(page(base, title, body))).into_response()
}

/// An error page (never a redirect).
pub(crate) fn error_page(status: StatusCode, base: &str, message: &str) -> Response {
    html(
        status,
        base,
        "Error",
        &format!(
            "<h1>This request cannot be completed</h1>\n<p role=\"alert\">{}</p>",
            esc(message)
        ),
    )
}

/// The style sheet of every page.
pub(crate) const CSS: &str = "\
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0 auto; max-width: 40rem; padding: 1.5rem; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.15rem; margin-bottom: .25rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input, select { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; }
.help { font-size: .9rem; margin: .2rem 0 0; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.25rem; }
button { font: inherit; padding: .5rem 1.1rem; border-radius: .4rem; border: 1px solid currentColor; cursor: pointer; }
button.primary { background: #1f5fbf; color: #fff; border-color: #1f5fbf; }
.notice { border-left: 4px solid #c0392b; padding: .5rem .75rem; background: rgba(192, 57, 43, .1); }
.ok { border-left: 4px solid #2e7d32; padding: .5rem .75rem; background: rgba(46, 125, 50, .1); }
ul.requests { list-style: none; padding: 0; }
ul.requests > li { border: 1px solid rgba(127, 127, 127, .5); border-radius: .5rem; padding: .75rem 1rem; margin: .75rem 0; }
footer { margin-top: 3rem; font-size: .85rem; opacity: .8; }
";
