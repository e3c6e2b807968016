//! The widget files served at /widget/.

use crate::helpers::*;
use mend_proxy::widget::ENTRY_CACHE;

#[tokio::test]
async fn the_widget_is_served_with_types_caching_csp_and_cors() {
    let dir = TempDir::new();
    std::fs::write(
        dir.0.join("index.html"),
        "<!doctype html><title>Mend</title>",
    )
    .unwrap();
    std::fs::write(dir.0.join("mend.js"), "export default 1;").unwrap();
    std::fs::write(dir.0.join("mend.d.ts"), "export {};").unwrap();
    std::fs::create_dir_all(dir.0.join("snippets")).unwrap();
    std::fs::write(dir.0.join("snippets/index.html"), "<!doctype html>").unwrap();
    std::fs::write(
        dir.0.join("mend-0123456789abcdef_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let path = dir.0.clone();
    let mut app = spawn_with(move |c| c.widget_dir = path).await;
    app._widget_dir = Some(dir);

    let types = app.get("/widget/mend.d.ts", None).await;
    assert_eq!(types.status, StatusCode::OK);
    assert_eq!(
        types.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "TypeScript, not video/mp2t"
    );
    assert_eq!(types.header("cache-control"), Some("no-cache"));
    assert_eq!(types.text, "export {};");

    let root = app.get("/", None).await;
    assert!(root.status.is_redirection());
    assert_eq!(root.header("location"), Some("/widget/"));

    let index = app.get("/widget/", None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = index.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));

    let js = app
        .send(
            app.client
                .get(app.url("/widget/mend.js"))
                .header("origin", ORIGIN),
        )
        .await;
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert_eq!(js.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(js.header("cache-control"), Some(ENTRY_CACHE));
    assert_eq!(js.header("content-security-policy"), None);

    let wasm = app.get("/widget/mend-0123456789abcdef_bg.wasm", None).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    // The demo page's route of one connection, reloaded: the page, not a 404.
    let one = app.get("/widget/c/121", None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.text, "<!doctype html><title>Mend</title>");
    assert!(one.header("content-security-policy").is_some());
    assert_eq!(
        app.get("/widget/c/121/x", None).await.status,
        StatusCode::NOT_FOUND
    );

    let sub = app.get("/widget/snippets", None).await;
    assert!(sub.status.is_redirection());
    assert_eq!(sub.header("location"), Some("/widget/snippets/"));
    assert_eq!(
        app.get("/widget/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/widget/../Cargo.toml", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_missing_widget_folder_answers_a_helpful_404() {
    let app = spawn_app().await;
    let a = app.get("/widget/mend.js", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text.contains("MEND_WIDGET_DIR"), "{}", a.text);
}

/// A widget folder as the release build leaves it: `mend.js` with its brotli and gzip
/// copies, a hashed wasm with both, a glue file with a gzip copy only, and a CSS file
/// with none. The copies hold recognisable text (the proxy never decodes them).
async fn spawn_with_compressed_widget() -> TestApp {
    let dir = TempDir::new();
    let files: [(&str, &str); 7] = [
        ("mend.js", "export const identity = 'mend.js, as built';"),
        ("mend.js.br", "br copy of mend.js"),
        ("mend.js.gz", "gzip copy of mend.js"),
        (
            "mend-element-0123456789abcdef_bg.wasm",
            "\0asm wasm, as built",
        ),
        (
            "mend-element-0123456789abcdef_bg.wasm.br",
            "br copy of the wasm",
        ),
        (
            "mend-element-0123456789abcdef_bg.wasm.gz",
            "gzip copy of the wasm",
        ),
        (
            "mend-element-0123456789abcdef.js",
            "export default function init() {}",
        ),
    ];
    for (name, body) in files {
        std::fs::write(dir.0.join(name), body).unwrap();
    }
    std::fs::write(
        dir.0.join("mend-element-0123456789abcdef.js.gz"),
        "gzip copy of the glue",
    )
    .unwrap();
    std::fs::write(
        dir.0.join("mend-fedcba9876543210.css"),
        ":host { color: red }",
    )
    .unwrap();
    let path = dir.0.clone();
    let mut app = spawn_with(move |c| c.widget_dir = path).await;
    app._widget_dir = Some(dir);
    app
}

impl TestApp {
    async fn fetch_widget(&self, path: &str, accept: Option<&str>) -> Answer {
        let mut req = self.client.get(self.url(path));
        if let Some(a) = accept {
            req = req.header("accept-encoding", a);
        }
        self.send(req).await
    }
}

fn varies_on_encoding(a: &Answer) -> bool {
    a.headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("accept-encoding"))
}

#[tokio::test]
async fn a_browser_gets_the_brotli_copy_with_the_original_type_and_caching() {
    let app = spawn_with_compressed_widget().await;
    let js = app
        .fetch_widget("/widget/mend.js", Some("gzip, deflate, br, zstd"))
        .await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.text, "br copy of mend.js");
    assert_eq!(js.header("content-encoding"), Some("br"));
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert_eq!(js.header("content-length"), Some("18"));
    assert!(varies_on_encoding(&js), "{:?}", js.headers);
    assert_eq!(js.header("cache-control"), Some(ENTRY_CACHE));
    assert!(js.header("etag").is_some() && js.header("last-modified").is_some());

    let wasm = app
        .fetch_widget(
            "/widget/mend-element-0123456789abcdef_bg.wasm",
            Some("br, gzip"),
        )
        .await;
    assert_eq!(wasm.text, "br copy of the wasm");
    assert_eq!(wasm.header("content-encoding"), Some("br"));
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(varies_on_encoding(&wasm));
}

#[tokio::test]
async fn accept_encoding_weights_are_honoured_and_q0_is_refused() {
    let app = spawn_with_compressed_widget().await;
    let cases: [(Option<&str>, Option<&str>, &str); 7] = [
        (
            Some("br;q=0.5, gzip;q=0.8"),
            Some("gzip"),
            "gzip copy of mend.js",
        ),
        (Some("br;q=0, gzip"), Some("gzip"), "gzip copy of mend.js"),
        (Some("gzip"), Some("gzip"), "gzip copy of mend.js"),
        (Some("BR"), Some("br"), "br copy of mend.js"),
        (
            Some("br;q=0, gzip;q=0"),
            None,
            "export const identity = 'mend.js, as built';",
        ),
        (
            Some("identity"),
            None,
            "export const identity = 'mend.js, as built';",
        ),
        (None, None, "export const identity = 'mend.js, as built';"),
    ];
    for (accept, encoding, body) in cases {
        let a = app.fetch_widget("/widget/mend.js", accept).await;
        assert_eq!(a.status, StatusCode::OK, "{accept:?}");
        assert_eq!(a.header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(a.text, body, "{accept:?}");
        assert_eq!(
            a.header("content-length"),
            Some(body.len().to_string().as_str()),
            "{accept:?}: the length of the bytes sent"
        );
        assert!(varies_on_encoding(&a), "{accept:?}: caches must key on it");
    }
}

#[tokio::test]
async fn a_missing_copy_falls_back_to_gzip_then_to_the_file_itself() {
    let app = spawn_with_compressed_widget().await;
    let glue = app
        .fetch_widget("/widget/mend-element-0123456789abcdef.js", Some("br, gzip"))
        .await;
    assert_eq!(glue.header("content-encoding"), Some("gzip"));
    assert_eq!(glue.text, "gzip copy of the glue");
    assert!(glue.header("content-type").unwrap().contains("javascript"));

    let glue_br_only = app
        .fetch_widget("/widget/mend-element-0123456789abcdef.js", Some("br"))
        .await;
    assert_eq!(glue_br_only.header("content-encoding"), None);
    assert_eq!(glue_br_only.text, "export default function init() {}");

    let css = app
        .fetch_widget("/widget/mend-fedcba9876543210.css", Some("br, gzip"))
        .await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-encoding"), None);
    assert_eq!(css.text, ":host { color: red }");
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn head_answers_the_headers_of_the_copy_it_would_send() {
    let app = spawn_with_compressed_widget().await;
    let head = app
        .send(
            app.client
                .head(app.url("/widget/mend.js"))
                .header("accept-encoding", "br, gzip"),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-encoding"), Some("br"));
    assert_eq!(head.header("content-length"), Some("18"));
    assert_eq!(head.header("cache-control"), Some(ENTRY_CACHE));
    assert!(varies_on_encoding(&head));
    assert!(head.text.is_empty());
}

#[tokio::test]
async fn revalidation_answers_304_for_the_same_copy_only() {
    let app = spawn_with_compressed_widget().await;
    let first = app.fetch_widget("/widget/mend.js", Some("br, gzip")).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let plain = app.fetch_widget("/widget/mend.js", None).await;
    assert_ne!(
        plain.header("etag"),
        Some(etag.as_str()),
        "each encoding is its own representation"
    );

    let again = app
        .send(
            app.client
                .get(app.url("/widget/mend.js"))
                .header("accept-encoding", "br, gzip")
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some(ENTRY_CACHE));

    // The br tag does not validate the identity copy: it is sent whole.
    let other = app
        .send(
            app.client
                .get(app.url("/widget/mend.js"))
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.text, "export const identity = 'mend.js, as built';");

    let since = first.header("last-modified").unwrap().to_owned();
    let by_date = app
        .send(
            app.client
                .get(app.url("/widget/mend.js"))
                .header("accept-encoding", "br")
                .header("if-modified-since", since),
        )
        .await;
    assert_eq!(by_date.status, StatusCode::NOT_MODIFIED);
}
