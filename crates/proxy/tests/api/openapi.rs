//! `GET /api/v1/openapi.json`: served without a session, identical to the committed
//! `docs/openapi.json`, and complete: every route of the router, every error code,
//! the error envelope on every error answer.

use crate::helpers::*;
use std::collections::BTreeSet;

const REGENERATE: &str = "cargo run -p mend-proxy -- openapi > docs/openapi.json";

fn committed() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("docs/openapi.json unreadable ({e}): run `{REGENERATE}`"));
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

fn generated() -> Value {
    serde_json::from_str(mend_proxy::openapi::document()).expect("the document is JSON")
}

/// Every operation of the document: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_served_without_a_session_and_matches_docs_openapi_json() {
    let app = spawn_app().await;
    let a = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let served = a.json();
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served, generated());
    assert!(
        committed() == generated(),
        "docs/openapi.json differs from what the code generates: run `{REGENERATE}`"
    );
}

/// The routes the router declares (`.route("PATH", METHOD(…))` in src/routes.rs),
/// as (OpenAPI path, method).
fn router_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../../src/routes.rs");
    let mut routes = BTreeSet::new();
    for chunk in src.split(".route(").skip(1) {
        let Some(rest) = chunk.trim_start().strip_prefix('"') else {
            continue;
        };
        let path = &rest[..rest.find('"').unwrap()];
        let after = rest[path.len() + 1..].trim_start_matches([',', ' ', '\n']);
        let method = after
            .split('(')
            .next()
            .unwrap()
            .rsplit([':', ' '])
            .next()
            .unwrap();
        // `{*path}` (axum's catch-all) is `{path}` in OpenAPI.
        let path = path.replace("{*", "{");
        routes.insert((path, method.to_owned()));
    }
    routes
}

#[test]
fn every_route_of_the_router_is_documented() {
    let routes = router_routes();
    assert!(routes.len() >= 17, "the parse found the routes: {routes:?}");
    let doc = generated();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(p, m, _)| (p, m))
        .collect();
    // The not-found catch-all, `/` (the same redirect as `/widget`) and `/widget/`
    // (the widget's `index.html`, `/widget/{path}` with an empty path).
    let exempt = ["/api/{rest}", "/", "/widget/"];
    for (path, method) in &routes {
        if exempt.contains(&path.as_str()) {
            continue;
        }
        let method = if method == "any" { "get" } else { method };
        assert!(
            documented.contains(&(path.clone(), method.to_owned())),
            "{method} {path} is routed but not in the OpenAPI document"
        );
    }
    for (path, method) in &documented {
        assert!(
            routes.contains(&(path.clone(), method.clone())),
            "{method} {path} is documented but not routed"
        );
    }
}

#[test]
fn every_error_code_is_documented_with_its_status_and_the_envelope() {
    let doc = generated();
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode is a closed string enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut answered: Vec<(String, String)> = Vec::new();
    for (path, method, op) in operations(&doc) {
        for (status, answer) in op["responses"].as_object().unwrap() {
            let code: u16 = status.parse().expect("numeric statuses");
            if code >= 400
                && answer
                    .get("content")
                    .is_some_and(|c| c.get("application/json").is_some())
            {
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status} answers the error envelope"
                );
            }
            answered.push((
                status.clone(),
                answer["description"].as_str().unwrap_or("").to_owned(),
            ));
        }
        if path.starts_with("/api/v1/connections") || path == "/api/v1/callback" {
            for status in ["401", "429", "500", "502", "503", "504"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{method} {path} documents {status}"
                );
            }
            assert_eq!(op["security"][0]["session"], json!([]), "{method} {path}");
        }
    }
    for known in mend_model::api::KnownErrorCode::ALL {
        assert!(codes.contains(known.as_str()), "{known} in ErrorCode");
        let status = known.http_status().to_string();
        let quoted = format!("`{known}`");
        assert!(
            answered
                .iter()
                .any(|(s, d)| *s == status && d.contains(&quoted)),
            "some route documents {known} under {status}"
        );
    }
    assert_eq!(codes.len(), mend_model::api::KnownErrorCode::ALL.len());
}
