//! Powens' JSON into the model, as the proxy reads it: a connection (and its fields,
//! sources, dates), a list of connections, an error envelope (`classify`, and the bank
//! message cleaned for display), and the widget's view of a connection.
//!
//! Oracles: nothing panics; what parsed is stable (written back and read again it is
//! the same value); a refusal's code, request id and bank message are as bounded and
//! clean as `classify` promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend_model::{Connection, ConnectionList, PowensError};
use mend_proxy::upstream::answer::{classify, clean_bank_message};

fuzz_target!(|data: &[u8]| {
    if let Ok(conn) = serde_json::from_slice::<Connection>(data) {
        let again = serde_json::to_vec(&conn).expect("a parsed connection serialises");
        let back: Connection = serde_json::from_slice(&again).expect("and reads back");
        assert_eq!(back, conn, "a connection is not stable through the model");
        let view = mend_proxy::status::View {
            agent_status: true,
            zone: jiff::tz::TimeZone::get("Europe/Paris").expect("bundled zone"),
            renew_window: std::time::Duration::from_secs(7 * 86400),
            clock: mend_proxy::status::system_ms,
        };
        let status = view.status_of(&conn);
        assert_eq!(status.id, conn.id);
    }
    if let Ok(list) = serde_json::from_slice::<ConnectionList>(data) {
        let again = serde_json::to_vec(&list).expect("a parsed list serialises");
        let back: ConnectionList = serde_json::from_slice(&again).expect("and reads back");
        assert_eq!(
            back, list,
            "a connection list is not stable through the model"
        );
    }
    let _ = serde_json::from_slice::<PowensError>(data);
    let refusal = classify(400, None, data);
    assert!(refusal.code.len() <= 64);
    assert!(
        refusal
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    );
    if let Some(id) = &refusal.request_id {
        assert!(id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()));
    }
    if let Some(m) = &refusal.message {
        assert!(!m.is_empty() && !m.chars().any(char::is_control), "{m:?}");
        assert_eq!(
            clean_bank_message(m).as_deref(),
            Some(m.as_str()),
            "cleaning is idempotent"
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(m) = clean_bank_message(text) {
            assert!(!m.chars().any(char::is_control), "{m:?}");
        }
    }
});
