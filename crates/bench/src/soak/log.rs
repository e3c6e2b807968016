//! The sandbox's request log, read as it grows (`GET /_sandbox/requests?after=N`, so
//! nothing is missed past its capacity): what reached Powens, and how it was answered.

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the log said once read to the end.
#[derive(Debug, Default)]
pub struct Upstream {
    /// Every OTP `POST` by `(connection, code)`: the statuses Powens answered it with
    /// (`0` when nothing was answered).
    pub otps: BTreeMap<(i64, String), Vec<u16>>,
    /// Requests Powens received in all.
    pub total: u64,
    /// Of which `POST /auth/renew` (a user token obtained).
    pub renewals: u64,
}

impl Upstream {
    /// Counts one entry of the log.
    fn add(&mut self, e: &mend_sandbox::RecordedRequest) {
        self.total += 1;
        if e.method != "POST" {
            return;
        }
        if e.path.ends_with("/auth/renew") {
            self.renewals += 1;
            return;
        }
        let Some(id) = e
            .path
            .rsplit_once("/connections/")
            .and_then(|(_, id)| id.parse::<i64>().ok())
        else {
            return;
        };
        let body: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
        if let Some(code) = body["otp"].as_str() {
            self.otps
                .entry((id, code.to_owned()))
                .or_default()
                .push(e.status);
        }
    }
}

/// How long an entry may stay unanswered (status 0) before it counts as never
/// answered: longer than any answer can take (the hang fault lasts 4 s, the proxy
/// gives up after its upstream timeout).
const SETTLE: Duration = Duration::from_secs(15);

/// Where the reader is in the log. The sandbox logs a request when it arrives, with
/// status 0 until it is answered, so an entry read while in flight is read again
/// until it has its status (or [`SETTLE`] has passed): counted once, when final.
#[derive(Debug, Default)]
struct Cursor {
    /// The highest sequence number taken so far.
    seen: u64,
    /// Entries still unanswered, by sequence number, with when they were first seen.
    pending: BTreeMap<u64, Instant>,
}

impl Cursor {
    /// What to ask for next: everything after this.
    fn after(&self) -> u64 {
        self.pending
            .keys()
            .next()
            .map_or(self.seen, |first| first - 1)
    }

    /// Takes a batch read after [`Cursor::after`]; `last`: the final read, where
    /// what is still unanswered counts as such.
    fn take(
        &mut self,
        entries: &[mend_sandbox::RecordedRequest],
        up: &mut Upstream,
        now: Instant,
        last: bool,
    ) -> Result<(), String> {
        let after = self.after();
        if let Some(first) = entries.first()
            && first.seq > after + 1
        {
            return Err(format!(
                "the request log overflowed: {} entries missed",
                first.seq - after - 1
            ));
        }
        for e in entries {
            if e.seq <= self.seen && !self.pending.contains_key(&e.seq) {
                continue; // counted already
            }
            self.seen = self.seen.max(e.seq);
            if e.status == 0 && !last {
                let since = *self.pending.entry(e.seq).or_insert(now);
                if now.duration_since(since) < SETTLE {
                    continue; // look again next time
                }
            }
            self.pending.remove(&e.seq);
            up.add(e);
        }
        Ok(())
    }
}

/// Reads the log of the sandbox at `sandbox` (where its `/_sandbox/` routes are)
/// every half second until `stop` is set, then once more to its end. Fails if entries
/// were missed (the log overflowed between two reads).
pub async fn read(
    http: reqwest::Client,
    sandbox: String,
    stop: Arc<AtomicBool>,
) -> Result<Upstream, String> {
    let mut cursor = Cursor::default();
    let mut up = Upstream::default();
    loop {
        let last_round = stop.load(Ordering::Relaxed);
        let url = format!("{sandbox}/_sandbox/requests?after={}", cursor.after());
        let entries = fetch(&http, &url).await?;
        cursor.take(&entries, &mut up, Instant::now(), last_round)?;
        if last_round {
            return Ok(up);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One read of the log, tried again a few times: a pooled connection the proxy has
/// just closed fails the request without it reaching the proxy, and a reader that
/// gave up would end the run.
async fn fetch(
    http: &reqwest::Client,
    url: &str,
) -> Result<Vec<mend_sandbox::RecordedRequest>, String> {
    let mut tries = 0;
    loop {
        tries += 1;
        let got = match http.get(url).send().await {
            Ok(r) => r.json().await,
            Err(e) => Err(e),
        };
        match got {
            Ok(entries) => return Ok(entries),
            Err(e) if tries >= 5 => return Err(format!("request log: {e}")),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn otp(seq: u64, code: &str, status: u16) -> mend_sandbox::RecordedRequest {
        mend_sandbox::RecordedRequest {
            method: "POST".into(),
            path: "/2.0/users/me/connections/1015".into(),
            query: String::new(),
            body: format!(r#"{{"otp":"{code}"}}"#),
            user: Some(3),
            status,
            seq,
        }
    }

    #[test]
    fn an_entry_read_in_flight_is_counted_once_with_its_final_status() {
        let (mut c, mut up, t0) = (Cursor::default(), Upstream::default(), Instant::now());
        // A slow answer: logged with status 0 when the first read passes.
        c.take(
            &[otp(1, "000001", 200), otp(2, "000009", 0)],
            &mut up,
            t0,
            false,
        )
        .unwrap();
        assert_eq!(c.after(), 1, "the in-flight entry is asked for again");
        assert_eq!(up.total, 1);
        let later = t0 + Duration::from_secs(2);
        c.take(
            &[otp(2, "000009", 200), otp(3, "000002", 500)],
            &mut up,
            later,
            false,
        )
        .unwrap();
        assert_eq!(c.after(), 3);
        assert_eq!(up.total, 3);
        assert_eq!(up.otps[&(1015, "000009".to_owned())], vec![200]);
        assert_eq!(
            up.otps[&(1015, "000001".to_owned())],
            vec![200],
            "not twice"
        );
    }

    #[test]
    fn an_entry_never_answered_counts_as_such_once_settled_or_at_the_end() {
        let (mut c, mut up, t0) = (Cursor::default(), Upstream::default(), Instant::now());
        c.take(&[otp(1, "000001", 0)], &mut up, t0, false).unwrap();
        c.take(
            &[otp(1, "000001", 0), otp(2, "000002", 0)],
            &mut up,
            t0 + SETTLE,
            false,
        )
        .unwrap();
        assert_eq!(up.otps[&(1015, "000001".to_owned())], vec![0]);
        assert_eq!(c.after(), 1, "the newer one is still awaited");
        c.take(&[otp(2, "000002", 0)], &mut up, t0 + SETTLE, true)
            .unwrap();
        assert_eq!(up.otps[&(1015, "000002".to_owned())], vec![0]);
        assert_eq!(up.total, 2);
    }

    #[test]
    fn missed_entries_are_an_error() {
        let (mut c, mut up) = (Cursor::default(), Upstream::default());
        let err = c
            .take(&[otp(5, "000001", 200)], &mut up, Instant::now(), false)
            .unwrap_err();
        assert!(err.contains("4 entries missed"), "{err}");
    }
}
