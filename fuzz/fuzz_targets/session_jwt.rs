//! Session JWT parsing: any token string, and tokens with any claims signed with the
//! proxy's own key (so the fuzzer gets past the signature to the claims' checks).
//!
//! Oracles: nothing panics; a token not signed with the key is never accepted; an
//! accepted token carries `iat`, lives at most an hour from it, is not expired, and
//! names the user its `sub` says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend_proxy::session::{LEEWAY, MAX_TTL, SessionKeys};
use secrecy::SecretString;
use std::sync::LazyLock;

static KEYS: LazyLock<SessionKeys> =
    LazyLock::new(|| SessionKeys::new(&SecretString::from("fuzz-session-secret")));

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sign(header: &[u8], claims: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"fuzz-session-secret").unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        // A raw token: never signed by the key, so never accepted.
        0 => {
            let token = String::from_utf8_lossy(rest);
            assert!(KEYS.verify(&token).is_err(), "accepted an unsigned token");
        }
        // Any claims under the proxy's header, properly signed.
        1 => check_signed(&sign(br#"{"alg":"HS256","typ":"JWT"}"#, rest), rest),
        // Any header and claims (split at the first 0xff), properly signed.
        _ => {
            let (header, claims) = match rest.iter().position(|&b| b == 0xff) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b"{}"[..]),
            };
            let token = sign(header, claims);
            let accepted = KEYS.verify(&token).is_ok();
            if accepted {
                let h: serde_json::Value = serde_json::from_slice(header).expect("header read");
                assert_eq!(h["alg"], "HS256", "accepted another algorithm");
                check_signed(&token, claims);
            }
        }
    }
});

fn check_signed(token: &str, claims: &[u8]) {
    let first = KEYS.verify(token);
    let cached = KEYS.verify_cached(token);
    assert_eq!(first.is_ok(), cached.is_ok(), "the cache disagrees");
    let Ok(session) = first else {
        return;
    };
    let c: serde_json::Value = serde_json::from_slice(claims).expect("claims read");
    let iat = c["iat"].as_f64().expect("accepted without a numeric iat");
    let exp = c["exp"].as_f64().expect("accepted without a numeric exp");
    let now = now() as f64;
    assert!(exp - iat <= MAX_TTL.as_secs() as f64, "lives over an hour");
    assert!(exp + LEEWAY as f64 >= now - 1.0, "accepted expired");
    assert!(iat <= now + LEEWAY as f64 + 1.0, "accepted from the future");
    let sub = c["sub"].as_str().expect("accepted a non-string sub");
    assert!(
        sub.bytes().all(|b| b.is_ascii_digit()),
        "accepted sub {sub:?}"
    );
    assert_eq!(
        sub.parse::<i64>().ok(),
        Some(session.user),
        "user is not the sub"
    );
    if c.get("connections").is_some() {
        // Present, even as `null`: a restriction (`null` grants nothing).
        let listed: Vec<i64> = c["connections"]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
            .unwrap_or_default();
        assert_eq!(
            session.connections,
            Some(listed),
            "connections claim misread"
        );
    } else {
        assert_eq!(session.connections, None);
    }
}
