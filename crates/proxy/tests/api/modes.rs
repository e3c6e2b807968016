//! Sandbox mode and the command line: the demo routes, the sandbox's control routes
//! on loopback only, exit codes naming the variable, printed sessions.

use crate::helpers::*;

#[tokio::test]
async fn the_demo_routes_exist_in_sandbox_mode() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/demo/connections", None).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&101) && ids.contains(&116) && !ids.contains(&201));
    let s = app
        .get("/api/v1/demo/session?connection=104", None)
        .await
        .json();
    let token = s["session"].as_str().unwrap();
    app.get_connection(104, token).await.status_body();
    app.get_connection(105, token).await.error(404, "not_found");
}

#[test]
fn the_command_line_exits_2_naming_the_variable_and_prints_sessions() {
    let bin = env!("CARGO_BIN_EXE_mend-proxy");
    let out = std::process::Command::new(bin)
        .args(["serve"])
        .env("POWENS_API_URL", "https://acme-sandbox.biapi.pro/2.0")
        .env_remove("POWENS_CLIENT_ID")
        .env("POWENS_CLIENT_SECRET", "cli-client-secret-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("POWENS_CLIENT_ID"), "{err}");
    assert!(!err.contains("cli-client-secret-value"), "{err}");

    let out = std::process::Command::new(bin)
        .args(["serve", "--mend-poll-interval", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = std::process::Command::new(bin)
        .args([
            "session",
            "--user",
            "7",
            "--connection",
            "42",
            "--ttl",
            "15m",
        ])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jwt = String::from_utf8(out.stdout).unwrap();
    let keys = SessionKeys::new(&SecretString::from(SECRET));
    let session = keys.verify(jwt.trim()).expect("a valid session");
    assert_eq!(session.user, 7);
    assert_eq!(session.connections, Some(vec![42]));
    assert!(!jwt.contains(SECRET));

    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7", "--ttl", "2h"])
        .env("MEND_SESSION_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(bin)
        .args(["session", "--user", "7"])
        .env_remove("MEND_SESSION_SECRET")
        .env_remove("MEND_SESSION_SECRET_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEND_SESSION_SECRET"));
}

#[tokio::test]
async fn sandbox_controls_answer_local_callers_only_unless_opened() {
    let app = spawn_app().await;
    let log = app.get("/sandbox/_sandbox/requests", None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    // Relayed by a proxy on this machine: possibly from anywhere.
    let relayed = app
        .send(
            app.client
                .get(app.url("/sandbox/_sandbox/requests"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    relayed.error(404, "not_found");
    let reset = app
        .send(
            app.client
                .post(app.url("/sandbox/_sandbox/reset"))
                .header("forwarded", "for=203.0.113.9"),
        )
        .await;
    reset.error(404, "not_found");
    // The rest of the sandbox (its API, pages) stays public.
    let api = app
        .send(
            app.client
                .get(app.url("/sandbox/2.0/connectors"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    assert!(captured_logs().contains("answer only callers on this machine"));

    let open = spawn_with(|c| c.sandbox_controls_anywhere = true).await;
    let relayed = open
        .send(
            open.client
                .get(open.url("/sandbox/_sandbox/requests"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    assert_eq!(relayed.status, StatusCode::OK, "{}", relayed.text);
}
