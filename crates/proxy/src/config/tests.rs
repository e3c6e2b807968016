//! The configuration's checks, through the command line as a user writes it.

use super::*;
use clap::Parser;
use secrecy::ExposeSecret;
use std::time::Duration;

fn serve(args: &[&str]) -> Result<Config, ConfigError> {
    let mut all = vec!["mend-proxy", "serve"];
    all.extend_from_slice(args);
    let cli = Cli::try_parse_from(all).expect("parses");
    match cli.command {
        Command::Serve(a) => Config::from_args(*a),
        Command::Session(_) | Command::Openapi => unreachable!("serve was asked"),
    }
}

#[test]
fn durations_read_like_humans_write_them() {
    assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
    assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
    assert!(parse_duration("soon").is_err());
}

#[test]
fn a_blank_powens_api_url_is_refused_rather_than_read_as_sandbox_mode() {
    let err = serve(&["--powens-api-url", "  "]).unwrap_err();
    assert_eq!(err.variable, "POWENS_API_URL");
}

#[test]
fn powens_mode_without_a_client_id_names_the_variable() {
    let err = serve(&["--powens-api-url", "https://x.biapi.pro/2.0"]).unwrap_err();
    assert_eq!(err.variable, "POWENS_CLIENT_ID");
}

#[test]
fn a_short_session_secret_is_refused_without_printing_it() {
    let err = serve(&["--mend-session-secret", "tooshort-secret"]).unwrap_err();
    assert_eq!(err.variable, "MEND_SESSION_SECRET");
    assert!(!err.to_string().contains("tooshort-secret"));
}

#[test]
fn the_domain_defaults_to_the_api_host() {
    let cfg = serve(&[
        "--powens-api-url",
        "https://acme-sandbox.biapi.pro/2.0/",
        "--powens-client-id",
        "42",
        "--powens-client-secret",
        "s3cr3t",
        "--mend-session-secret",
        "0123456789abcdef0123456789abcdef",
    ])
    .unwrap();
    let Upstream::Powens(p) = cfg.upstream else {
        panic!("powens mode expected")
    };
    assert_eq!(p.domain, "acme-sandbox.biapi.pro");
    assert_eq!(p.api_url, "https://acme-sandbox.biapi.pro/2.0");
    assert!(!format!("{p:?}").contains("s3cr3t"));
}

#[test]
fn powens_mode_needs_a_session_secret_and_reads_secrets_from_files() {
    let err = serve(&[
        "--powens-api-url",
        "https://x.biapi.pro/2.0",
        "--powens-client-id",
        "42",
        "--powens-client-secret",
        "s3cr3t",
    ])
    .unwrap_err();
    assert_eq!(err.variable, "MEND_SESSION_SECRET");
    let dir = std::env::temp_dir().join(format!("mend-proxy-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let client = dir.join("client");
    let session = dir.join("session");
    std::fs::write(&client, "from-a-file\n").unwrap();
    std::fs::write(&session, "0123456789abcdef0123456789abcdef\n").unwrap();
    let cfg = serve(&[
        "--powens-api-url",
        "https://x.biapi.pro/2.0",
        "--powens-client-id",
        "42",
        "--powens-client-secret-file",
        client.to_str().unwrap(),
        "--mend-session-secret-file",
        session.to_str().unwrap(),
    ])
    .unwrap();
    let Upstream::Powens(p) = cfg.upstream else {
        panic!("powens mode expected")
    };
    assert_eq!(p.client_secret.expose_secret(), "from-a-file");
    let err = serve(&[
        "--powens-client-secret",
        "a",
        "--powens-client-secret-file",
        client.to_str().unwrap(),
        "--powens-api-url",
        "https://x.biapi.pro/2.0",
        "--powens-client-id",
        "42",
    ])
    .unwrap_err();
    assert_eq!(err.variable, "POWENS_CLIENT_SECRET");
    let missing = serve(&["--mend-session-secret-file", "/nonexistent/secret"]).unwrap_err();
    assert_eq!(missing.variable, "MEND_SESSION_SECRET_FILE");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn origins_must_be_bare_origins() {
    assert_eq!(
        serve(&["--mend-allowed-origins", "https://a.example/path"])
            .unwrap_err()
            .variable,
        "MEND_ALLOWED_ORIGINS"
    );
    let cfg = serve(&[
        "--mend-allowed-origins",
        "https://a.example, http://localhost:8080",
    ])
    .unwrap();
    assert_eq!(
        cfg.allowed_origins,
        ["https://a.example", "http://localhost:8080"]
    );
}

#[test]
fn a_bad_time_zone_or_budget_names_its_variable() {
    assert_eq!(
        serve(&["--powens-timezone", "Mars/Olympus"])
            .unwrap_err()
            .variable,
        "POWENS_TIMEZONE"
    );
    assert_eq!(
        serve(&["--mend-powens-budget", "0"]).unwrap_err().variable,
        "MEND_POWENS_BUDGET"
    );
    let cfg = serve(&["--powens-timezone", "America/New_York"]).unwrap();
    assert_eq!(cfg.timezone.iana_name(), Some("America/New_York"));
    assert_eq!(
        serve(&[]).unwrap().timezone.iana_name(),
        Some("Europe/Paris")
    );
    assert_eq!(serve(&[]).unwrap().renew_window, DEFAULT_RENEW_WINDOW);
}

#[test]
fn cluster_settings_are_checked_and_never_echo_secrets() {
    let err = serve(&["--mend-redis-url", "http://user:hunter2@redis:6379"]).unwrap_err();
    assert_eq!(err.variable, "MEND_REDIS_URL");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let cfg = serve(&[
        "--mend-redis-url",
        "rediss://:pw@redis.internal:6380/2",
        "--mend-trusted-proxies",
        "10.0.0.0/8,192.0.2.1",
        "--mend-metrics-listen",
        "127.0.0.1:9187",
    ])
    .unwrap();
    assert!(cfg.redis_url.is_some());
    assert!(!cfg.trusted_proxies.is_empty());
    assert_eq!(cfg.metrics_listen, Some("127.0.0.1:9187".parse().unwrap()));
    assert_eq!(cfg.max_connections, DEFAULT_MAX_CONNECTIONS);
    assert_eq!(cfg.write_timeout, DEFAULT_WRITE_TIMEOUT);
    assert_eq!(
        serve(&["--mend-trusted-proxies", "10.0.0.0/8,lb"])
            .unwrap_err()
            .variable,
        "MEND_TRUSTED_PROXIES"
    );
    let short = serve(&["--mend-metrics-token", "short"]).unwrap_err();
    assert_eq!(short.variable, "MEND_METRICS_TOKEN");
    assert!(!short.to_string().contains("short"));
    assert_eq!(
        serve(&["--mend-max-connections", "0"])
            .unwrap_err()
            .variable,
        "MEND_MAX_CONNECTIONS"
    );
    assert_eq!(
        serve(&["--mend-metrics-listen", "nowhere"])
            .unwrap_err()
            .variable,
        "MEND_METRICS_LISTEN"
    );
}

#[test]
fn redirect_uris_with_a_query_are_refused() {
    assert_eq!(
        serve(&["--mend-redirect-uris", "https://a.example/back?x=1"])
            .unwrap_err()
            .variable,
        "MEND_REDIRECT_URIS"
    );
}

#[test]
fn the_submission_timeout_defaults_to_three_minutes_and_is_bounded() {
    let c = serve(&[]).expect("sandbox defaults");
    assert_eq!(c.submission_timeout, Duration::from_secs(180));
    let c = serve(&["--mend-submission-timeout", "45s"]).expect("45s");
    assert_eq!(c.submission_timeout, Duration::from_secs(45));
    for bad in ["500ms", "11m"] {
        let e = serve(&["--mend-submission-timeout", bad]).unwrap_err();
        assert_eq!(e.variable, "MEND_SUBMISSION_TIMEOUT", "{bad}");
    }
}
