//! One simulated widget: the widget's protocol over HTTP, as `src/client.rs` speaks
//! it (status reads, long polls while Powens works, OTP submissions, resumes, syncs,
//! a redirect with its callback), at human pace, recording what the user was told.

use mend_model::api::{Action, ConnectionStatus};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a client waits between two steps.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Every client delivers a fresh state this soon after the faults stop: two intervals.
pub const CONVERGE: Duration = Duration::from_secs(10);
/// A long poll's `wait` (seconds): shorter than an interval, so that one in flight
/// when the faults stop answers within the bound.
const LONG_POLL: u64 = 4;

/// What the clients recorded.
#[derive(Debug, Default)]
pub struct Records {
    /// Each `(connection, code)` submitted, and whether the proxy acknowledged it (2xx).
    pub submitted: BTreeMap<(i64, String), bool>,
    /// Answers by `HTTP status` / `error code`.
    pub answers: BTreeMap<String, u64>,
    /// Requests that got no HTTP answer at all.
    pub transport_errors: u64,
    /// How long each answered request took, in milliseconds, long polls left out
    /// (they wait on purpose).
    pub latencies_ms: Vec<u32>,
    /// The last answer each connection's client got, to say why one is stuck.
    pub last_answer: BTreeMap<i64, String>,
    /// Connections with an action (submission, resume, sync) that a stopped replica
    /// cut: no answer at all, or a 5xx from the balancer rather than the proxy.
    /// Whether it reached the bank is unknown, so its slot is held until it expires.
    pub cut_actions: BTreeSet<i64>,
}

impl Records {
    fn answer(&mut self, key: String) {
        *self.answers.entry(key).or_default() += 1;
    }
}

/// The records every client writes to.
pub type Shared = Arc<Mutex<Records>>;

/// The records, even if a client panicked while holding them.
pub fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Records> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

/// A widget on one connection, with its own session.
#[derive(Clone)]
pub struct Widget {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub id: i64,
    pub redirect: String,
    pub records: Shared,
}

/// What a request is, for what is recorded of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    Read,
    /// Waits on purpose: its time is left out of the latencies.
    LongPoll,
    /// Takes the connection's action slot.
    Action,
}

impl Widget {
    /// Sends a request and records its answer (and, unless it is a long poll, how long
    /// it took); `Some` JSON body when 2xx.
    async fn send(&self, req: reqwest::RequestBuilder, kind: Req) -> Option<Value> {
        let start = Instant::now();
        let res = match req.bearer_auth(&self.token).send().await {
            Ok(r) => r,
            Err(e) => {
                let mut r = lock(&self.records);
                r.transport_errors += 1;
                r.last_answer.insert(self.id, format!("transport: {e}"));
                if kind == Req::Action {
                    r.cut_actions.insert(self.id);
                }
                return None;
            }
        };
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let took = start.elapsed().as_millis().min(u32::MAX as u128) as u32;
        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
        let key = if code.is_empty() {
            status.to_string()
        } else {
            format!("{status} {code}")
        };
        let mut r = lock(&self.records);
        r.last_answer.insert(self.id, key.clone());
        r.answer(key);
        if kind != Req::LongPoll {
            r.latencies_ms.push(took);
        }
        if kind == Req::Action && status >= 502 && code.is_empty() {
            r.cut_actions.insert(self.id);
        }
        (200..300).contains(&status).then_some(body)
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/api/v1/connections/{}{tail}", self.base, self.id)
    }

    /// A status read (a long poll when `since` is given).
    pub async fn read(&self, since: Option<&str>) -> Option<ConnectionStatus> {
        let tail = since.map_or(String::new(), |s| format!("?wait={LONG_POLL}&since={s}"));
        let body = self
            .send(
                self.http.get(self.url(&tail)),
                if since.is_some() {
                    Req::LongPoll
                } else {
                    Req::Read
                },
            )
            .await?;
        serde_json::from_value(body).ok()
    }

    /// Submits `code` as the OTP: whether it was acknowledged (2xx), and the status
    /// answered.
    async fn submit(&self, code: &str) -> (bool, Option<ConnectionStatus>) {
        let body = self
            .send(
                self.http
                    .post(self.url("/fields"))
                    .json(&json!({"values": {"otp": code}})),
                Req::Action,
            )
            .await;
        (
            body.is_some(),
            body.and_then(|b| serde_json::from_value(b).ok()),
        )
    }

    /// One user step on `status`; returns the next status if an action answered one.
    async fn act(&self, status: &ConnectionStatus, n: u64) -> Option<ConnectionStatus> {
        if status.actions.contains(&Action::Submit) {
            // Unique per submission: the log says how often each reached Powens. A
            // wrong code keeps the connection asking, so the client can go on.
            let code = format!("{:06}", if n >= 123_456 { n + 1 } else { n });
            let (acked, answered) = self.submit(&code).await;
            lock(&self.records).submitted.insert((self.id, code), acked);
            return answered;
        }
        if status.actions.contains(&Action::Resume) {
            let b = self
                .send(self.http.post(self.url("/resume")), Req::Action)
                .await?;
            return serde_json::from_value(b).ok();
        }
        let webauth = [Action::Webauth, Action::Reconnect]
            .into_iter()
            .find(|a| status.actions.contains(a));
        if let Some(a) = webauth {
            return self.redirect_and_return(a).await;
        }
        if n.is_multiple_of(5) && status.actions.contains(&Action::Sync) {
            let b = self
                .send(self.http.post(self.url("/sync")), Req::Action)
                .await?;
            return serde_json::from_value(b).ok();
        }
        None
    }

    /// Asks for the bank's URL and comes back without finishing (the bank page is not
    /// driven): the callback must still answer the connection's state.
    async fn redirect_and_return(&self, a: Action) -> Option<ConnectionStatus> {
        let path = if a == Action::Webauth {
            "/webauth-url"
        } else {
            "/reconnect-url"
        };
        let b = self
            .send(
                self.http
                    .post(self.url(path))
                    .json(&json!({"redirect_uri": self.redirect})),
                Req::Read,
            )
            .await?;
        let url = url::Url::parse(b["url"].as_str()?).ok()?;
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")?
            .1
            .into_owned();
        let b = self
            .send(
                self.http.post(format!("{}/api/v1/callback", self.base)).json(
                    &json!({"state": state, "error": "access_denied", "id_connection": self.id.to_string()}),
                ),
                Req::Read,
            )
            .await?;
        serde_json::from_value(b["status"].clone()).ok()
    }
}

/// What one client saw over the run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// The client's connection.
    pub id: i64,

    /// After the faults stopped (or the request then in flight ended): how long until
    /// a fresh state was delivered.
    pub converged: Option<Duration>,
    /// An OTP client: whether the right code repaired the connection at the end.
    pub repaired: Option<bool>,
    /// Every try of that repair was refused with `action_in_flight`: the connection's
    /// slot is held (by an action still on its way, or one a stopped replica cut).
    pub repair_in_flight: bool,
}

/// Whether a widget would watch `status` with a long poll (src/state.rs).
fn watching(status: &ConnectionStatus) -> Option<String> {
    status
        .state
        .as_ref()
        .filter(|s| s.is_changing())
        .map(|s| s.as_str().to_owned())
}

/// How long a client waits after a failure: the widget's first backoff step
/// (`src/state/time.rs`), without its doubling. The widget doubles its wait on every
/// failure in a row, up to a minute; under 20 % faults for minutes some clients reach
/// that minute, and convergence would then measure their sleep, not the proxy.
const RETRY: Duration = Duration::from_secs(2);

/// One client: act and watch until `faults_end`, then converge and (OTP) repair.
/// Clients start spread over one interval, as users arrive, act at human pace (one
/// step an interval) and try again [`RETRY`] after a failure.
///
/// Convergence is counted from when the faults stopped, or, for a client whose
/// request was in flight then (and so may have met a fault), from when that request
/// ended: what follows is the proxy's doing alone.
pub async fn client(w: Widget, start_after: Duration, faults_end: Instant) -> Outcome {
    tokio::time::sleep(start_after).await;
    let mut status: Option<ConnectionStatus> = None;
    let mut n = 0u64;
    let mut failures = 0u32;
    let mut out = Outcome {
        id: w.id,
        ..Outcome::default()
    };

    while Instant::now() < faults_end {
        n += 1;
        let next = match &status {
            None => w.read(None).await,
            Some(s) => match w.act(s, n).await {
                Some(after) => Some(after),
                None => w.read(watching(s).as_deref()).await,
            },
        };
        failures = if next.is_some() { 0 } else { failures + 1 };
        status = next;
        if Instant::now() >= faults_end {
            break;
        }
        let pause = if failures == 0 { INTERVAL } else { RETRY };
        tokio::time::sleep(pause.min(faults_end.saturating_duration_since(Instant::now()))).await;
    }
    // Faults are off: a fresh state must come within CONVERGE.
    let from = Instant::now().max(faults_end);
    let mut last = None;
    while from.elapsed() <= CONVERGE * 3 {
        if failures > 0 {
            tokio::time::sleep(RETRY).await;
        }
        if let Some(s) = w.read(None).await {
            out.converged = Some(from.elapsed());
            last = Some(s);
            break;
        }
        failures += 1;
    }
    if last.is_some_and(|s| s.actions.contains(&Action::Submit)) {
        // The user types the right code; a refusal to try later (a 503 while a
        // Powens 429 from the faulty phase still pauses every request for its
        // Retry-After) is met as the widget meets it: a little later, again.
        let mut repaired = false;
        let mut in_flight = 0;
        for _ in 0..3 {
            let (acked, after) = w.submit("123456").await;
            if acked {
                repaired = after.is_some_and(|s| !s.actions.contains(&Action::Submit));
                break;
            }
            if lock(&w.records).last_answer.get(&w.id).map(String::as_str)
                == Some("409 action_in_flight")
            {
                in_flight += 1;
            }
            tokio::time::sleep(RETRY).await;
            // A refusal after the code reached Powens (a 502 on its answer) may
            // still have repaired it: the status says.
            if w.read(None)
                .await
                .is_some_and(|s| !s.actions.contains(&Action::Submit))
            {
                repaired = true;
                break;
            }
        }
        out.repaired = Some(repaired);
        out.repair_in_flight = !repaired && in_flight == 3;
    }
    out
}
