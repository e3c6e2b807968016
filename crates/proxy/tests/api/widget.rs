//! The widget files served at /widget/.

use crate::helpers::*;

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
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert_eq!(js.header("content-security-policy"), None);

    let wasm = app.get("/widget/mend-0123456789abcdef_bg.wasm", None).await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
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
