//! The clock maths of the machine: backoff, the approval window, RFC 3339 dates.
//! Integers where possible: no float parsing in the wasm.

use mend_model::api::ConnectionStatus;

/// Longest pause between two retries while unreachable (ms).
pub const MAX_BACKOFF_MS: f64 = 60_000.0;

/// The pause before retry number `failures` (1-based): 2 s, 4 s, 8 s… up to a minute.
pub fn backoff_ms(failures: u32) -> f64 {
    (1000.0 * 2f64.powi(failures.clamp(1, 10) as i32)).min(MAX_BACKOFF_MS)
}

/// How long the widget waits for an approval in the bank app before it offers to send
/// a new request (ms). Not Powens' `expire`: that is when the connection's pending
/// decoupled session ends, which Powens (and the sandbox, like some banks) may put hours
/// ahead, whereas the push a bank app shows can be approved for a few minutes only, and
/// a user told "Time left: 1:59:56" would wait in vain. So the window is this, or less
/// when Powens' own deadline comes sooner.
pub const APPROVAL_WINDOW_MS: f64 = 5.0 * 60_000.0;

/// When the wait for a decoupled approval ends, on the local clock: the
/// [`APPROVAL_WINDOW_MS`] from `now`, or Powens' `expire` if it comes sooner (measured
/// against the proxy's `server_time`, so a wrong user clock doesn't matter).
pub fn approval_deadline(status: &ConnectionStatus, now: f64) -> f64 {
    let expire = status.expire.as_deref().and_then(parse_rfc3339_ms);
    let server = status.server_time.as_deref().and_then(parse_rfc3339_ms);
    let left = match (expire, server) {
        (Some(e), Some(s)) => e - s,
        (Some(e), None) => e - now,
        _ => APPROVAL_WINDOW_MS,
    };
    // An `expire` already past says nothing useful about the bank app: the full window.
    now + if left > 0.0 {
        left.min(APPROVAL_WINDOW_MS)
    } else {
        APPROVAL_WINDOW_MS
    }
}

/// Parses the proxy's RFC 3339 UTC dates (`2026-11-25T09:34:00Z`, fractions and
/// offsets accepted) into ms since the epoch.
pub fn parse_rfc3339_ms(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    // Milliseconds of the fraction, in integers (no float parsing in the wasm).
    let mut millis = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        millis = r
            .bytes()
            .take(3.min(digits))
            .fold(0, |acc, c| acc * 10 + i64::from(c - b'0'))
            * 10i64.pow(3 - 3.min(digits) as u32);
        rest = &r[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let v = num(s.len() - 5..s.len() - 3)? * 60 + num(s.len() - 2..s.len())?;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some((secs * 1000 + millis) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoupled(expire: Option<&str>, server: Option<&str>) -> ConnectionStatus {
        ConnectionStatus {
            id: 1,
            state: Some(mend_model::ConnectionState::Decoupled),
            message: None,
            fields: vec![],
            last_update: None,
            next_try: None,
            expire: expire.map(Into::into),
            connector: None,
            sources: vec![],
            actions: vec![],
            server_time: server.map(Into::into),
            access_expire: None,
            renew: false,
        }
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff_ms(1), 2000.0);
        assert_eq!(backoff_ms(2), 4000.0);
        assert_eq!(backoff_ms(9), MAX_BACKOFF_MS);
    }

    #[test]
    fn rfc3339_dates_parse() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_rfc3339_ms("1970-01-02T00:00:01.5Z"),
            Some(86_401_500.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T09:34:00Z"),
            Some(1_795_599_240_000.0)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T10:34:00+01:00"),
            parse_rfc3339_ms("2026-11-25T09:34:00Z")
        );
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms("2026-13-25T09:34:00Z"), None);
    }

    #[test]
    fn the_approval_window_is_a_few_minutes_whatever_powens_expire_says() {
        // No `expire`: the window.
        assert_eq!(
            approval_deadline(&decoupled(None, None), 10.0),
            10.0 + APPROVAL_WINDOW_MS
        );
        // Two hours ahead (the sandbox, some banks): still the window, not 1:59:59.
        let far = decoupled(Some("2026-11-25T11:34:00Z"), Some("2026-11-25T09:34:00Z"));
        assert_eq!(approval_deadline(&far, 10.0), 10.0 + APPROVAL_WINDOW_MS);
        // Sooner than the window: Powens' deadline, on the server's clock.
        let soon = decoupled(Some("2026-11-25T09:36:00Z"), Some("2026-11-25T09:34:00Z"));
        assert_eq!(approval_deadline(&soon, 10.0), 10.0 + 120_000.0);
        // Without the server's clock, against ours.
        let now = parse_rfc3339_ms("2026-11-25T09:34:00Z").unwrap();
        let local = decoupled(Some("2026-11-25T09:35:00Z"), None);
        assert_eq!(approval_deadline(&local, now), now + 60_000.0);
        // Already past: the full window.
        let past = decoupled(Some("2026-11-25T09:30:00Z"), Some("2026-11-25T09:34:00Z"));
        assert_eq!(approval_deadline(&past, 10.0), 10.0 + APPROVAL_WINDOW_MS);
    }
}
