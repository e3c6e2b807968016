//! Powens webhooks: the `BI-Signature` check on any headers and body, and the bodies
//! of the three events read as the route reads them (`webhooks::read`).
//!
//! Oracles: nothing panics; a signature not made with the secret is refused; a body
//! correctly signed is accepted only if its date is within the allowed skew; a read
//! `connection-synced` names a user.
#![no_main]

use base64::Engine as _;
use hmac::Mac as _;
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use mend_proxy::webhooks::{Event, MAX_SKEW, Notice, read, verify};
use secrecy::SecretString;

const PATH: &str = "/webhooks/powens/connection-synced";
/// 2026-12-01T10:00:00Z.
const NOW: i64 = 1_796_119_200;

fn headers(date: &str, sig: &str) -> Option<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert("bi-signature-date", date.parse().ok()?);
    h.insert("bi-signature", sig.parse().ok()?);
    Some(h)
}

fn sign(date: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec").unwrap();
    mac.update(format!("POST.{PATH}.{date}.").as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The instant a `BI-Signature-Date` names, read independently of the proxy.
fn instant(date: &str) -> Option<i64> {
    let d = date.trim();
    if let Ok(t) = d.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let civil: jiff::civil::DateTime = d.parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(|t| t.as_second())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let secret = SecretString::from("whsec");
    // The date header, then the body, split at the first newline.
    let (date, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&rest[..i]).into_owned(),
            &rest[i + 1..],
        ),
        None => ("2026-12-01T10:00:00Z".to_owned(), rest),
    };
    match mode % 4 {
        0 => {
            // A signature the fuzzer made up.
            let sig = base64::engine::general_purpose::STANDARD.encode(&body[..body.len().min(32)]);
            if let Some(h) = headers(&date, &sig) {
                assert!(
                    verify(&secret, PATH, &h, body, NOW).is_err(),
                    "forged signature"
                );
            }
        }
        1 => {
            let sig = sign(&date, body);
            if let Some(h) = headers(&date, &sig) {
                let ok = verify(&secret, PATH, &h, body, NOW).is_ok();
                let near =
                    instant(&date).is_some_and(|t| (NOW - t).unsigned_abs() <= MAX_SKEW.as_secs());
                assert_eq!(ok, near, "date {date:?}");
            }
        }
        m => {
            let event = [
                Event::ConnectionSynced,
                Event::ConnectionDeleted,
                Event::UserDeleted,
            ][usize::from(m - 2 + (body.first().copied().unwrap_or(0) & 1))];
            if let Ok(Notice::Synced { connection, .. }) = read(event, body) {
                let _ = connection.effective_state();
            }
        }
    }
});
