//! How each [`Event`] moves the [`Machine`]: answers (one path for every status,
//! whatever asked for it), the user's actions, failures and the clock.

use super::time::{approval_deadline, backoff_ms};
use super::{Effect, Event, Flight, Machine, Notice, Phase, SLOW_AFTER_MS};
use crate::error::{ClientError, Severity};
use mend_model::ConnectionState;
use mend_model::api::{Action, ConnectionStatus};

impl Machine {
    pub(super) fn answer(&mut self, status: ConnectionStatus, now: f64) -> Vec<Effect> {
        let mut fx = Vec::new();
        // A long poll that times out answers the same status with a newer clock: keep
        // the one shown, so nothing re-renders (and focus stays where it is).
        let status = match self.status() {
            Some(old) if same_but_clock(old, &status) => old.clone(),
            _ => status,
        };
        self.failures = 0;
        let first = self.known.is_none();
        let previous = self.known.replace(status.state.clone());
        let changed = previous.as_ref() != Some(&status.state);
        // After a return, each answer in the same state uses up one long poll.
        self.settling = if changed {
            0
        } else {
            self.settling.saturating_sub(1)
        };
        if changed {
            let previous = previous.flatten();
            fx.push(Effect::EmitState {
                state: status.state.as_ref().map(|s| s.as_str().to_owned()),
                previous: previous.as_ref().map(|s| s.as_str().to_owned()),
            });
            // Any notice was about the state we just left.
            self.notice = None;
            if previous.is_some() && status.state.is_none() {
                fx.push(Effect::EmitResolved);
                self.notice = Some(Notice::Resolved);
            }
            if !first {
                fx.push(Effect::Focus);
            }
        }
        // After a decoupled approval was resumed, Powens says `validating` while it
        // waits for the bank app: still the same approval, so keep its panel and
        // countdown (the host's `data-state` tells the truth: `validating`).
        let approving = status.state == Some(ConnectionState::Validating)
            && self.resumed
            && self.deadline.is_some();
        if status.state != Some(ConnectionState::Decoupled) && !approving {
            self.resumed = false;
            self.deadline = None;
            self.phase = Phase::Showing(status);
            return fx;
        }
        // Decoupled: resume once in the background, then watch until the deadline.
        let (started, deadline) = *self
            .deadline
            .get_or_insert_with(|| (now, approval_deadline(&status, now)));
        self.phase = match std::mem::replace(&mut self.phase, Phase::Loading) {
            Phase::TimedOut(_) => Phase::TimedOut(status),
            _ if !self.resumed && status.can(Action::Resume) => {
                self.resumed = true;
                self.flight = Flight::at(now);
                fx.push(Effect::Call(Action::Resume));
                Phase::Busy {
                    status,
                    action: Action::Resume,
                }
            }
            _ if now >= deadline => Phase::TimedOut(status),
            _ => Phase::Waiting {
                status,
                deadline,
                started,
            },
        };
        fx
    }

    pub(super) fn start(&mut self, action: Action, now: f64) -> Vec<Effect> {
        if action == Action::Dismiss {
            return self.step(Event::Dismiss, 0.0);
        }
        let status = match &self.phase {
            // One request at a time: a second click while one is in flight does nothing.
            Phase::Busy { .. } | Phase::Redirecting { .. } | Phase::Loading => return vec![],
            Phase::Unavailable { last, .. } => {
                if action == Action::Retry {
                    self.phase = Phase::Unavailable {
                        retry_at: f64::INFINITY,
                        last: last.clone(),
                    };
                    return vec![Effect::Fetch];
                }
                return vec![];
            }
            Phase::SessionExpired | Phase::NotFound => {
                return if action == Action::Retry {
                    self.phase = Phase::Loading;
                    vec![Effect::Fetch]
                } else {
                    vec![]
                };
            }
            Phase::Showing(s) | Phase::TimedOut(s) | Phase::Waiting { status: s, .. } => s.clone(),
        };
        let action = match (action, &self.phase) {
            // "Try again" after an approval timed out: a new approval window.
            (Action::Retry, Phase::TimedOut(_)) => {
                self.deadline = None;
                Action::Resume
            }
            (Action::Retry, _) => {
                self.notice = None;
                return vec![Effect::Fetch];
            }
            (Action::Resume, Phase::TimedOut(_)) => {
                self.deadline = None;
                Action::Resume
            }
            // "I've approved it" while Powens already checks: just look again now.
            (Action::Resume, Phase::Waiting { .. }) if !status.can(Action::Resume) => {
                return vec![Effect::Fetch];
            }
            (a, _) if status.can(a) => a,
            _ => return vec![],
        };
        // A refusal stays shown while the corrected values go; the news of an earlier
        // unanswered action does not.
        if action != Action::Submit || self.notice == Some(Notice::Unanswered) {
            self.notice = None;
        }
        self.phase = Phase::Busy { status, action };
        self.flight = Flight::at(now);
        vec![Effect::Call(action)]
    }

    pub(super) fn failed(&mut self, err: ClientError, now: f64) -> Vec<Effect> {
        let emit = Effect::EmitError {
            code: err.code().to_owned(),
            message: err.message(),
        };
        let last = self.status().cloned();
        // An action the bank may have carried out, with no answer to say how it went
        // (the proxy's three minutes ran out, the network or a gateway failed): never
        // sent again, and no outage shown; the status is read again, still busy, and
        // shown as it is now. A failure of that read is shown as any other.
        if self.to_the_bank() && self.flight.rereading && self.notice == Some(Notice::Unanswered) {
            // The read again failed too: the notice's "as it is now" would not be true.
            self.notice = None;
        }
        if self.to_the_bank() && !self.flight.rereading && err.unanswered() {
            self.flight.rereading = true;
            self.notice = Some(Notice::Unanswered);
            return vec![emit, Effect::Fetch];
        }
        match err.severity() {
            Severity::Silent => vec![],
            Severity::SessionExpired => {
                self.phase = Phase::SessionExpired;
                vec![Effect::EmitSessionExpired, Effect::Focus]
            }
            Severity::NotFound => {
                self.phase = Phase::NotFound;
                vec![emit, Effect::Focus]
            }
            Severity::Unavailable => {
                self.failures += 1;
                let wait = err
                    .retry_after()
                    .map(|s| s as f64 * 1000.0)
                    .unwrap_or_else(|| backoff_ms(self.failures));
                let was_unavailable = matches!(self.phase, Phase::Unavailable { .. });
                self.phase = Phase::Unavailable {
                    retry_at: now + wait,
                    last,
                };
                let mut fx = vec![emit];
                if !was_unavailable {
                    fx.push(Effect::Focus);
                }
                fx
            }
            Severity::Stale => {
                if let Some(status) = last {
                    self.phase = Phase::Showing(status);
                }
                vec![Effect::Fetch]
            }
            Severity::Refused => {
                let mut fx = vec![emit];
                if let Some(fresh) = err.fresh() {
                    // The proxy read the connection after the refusal (a `wrongpass`
                    // after an OTP, a state the bank named): show that state's panel,
                    // through the same transition as any answer.
                    fx.extend(self.answer(fresh.clone(), now));
                } else if let Some(status) = last {
                    self.phase = Phase::Showing(status);
                } else {
                    // Refused before anything was shown: nothing to correct, so retry later.
                    self.phase = Phase::Unavailable {
                        retry_at: now + backoff_ms(self.failures.max(1)),
                        last: None,
                    };
                    fx.push(Effect::Focus);
                    return fx;
                }
                self.notice = Some(match &err {
                    ClientError::Api { fields, .. } if !fields.is_empty() => {
                        Notice::InvalidFields(fields.clone())
                    }
                    ClientError::Api {
                        code: mend_model::api::ErrorCode::CredentialsRejected,
                        ..
                    } => Notice::CredentialsRejected(err.bank_message().map(str::to_owned)),
                    _ => Notice::Failed(err),
                });
                if !fx.contains(&Effect::Focus) {
                    fx.push(Effect::Focus);
                }
                fx
            }
        }
    }

    pub(super) fn tick(&mut self, now: f64) -> Vec<Effect> {
        if self.to_the_bank() && now - self.flight.since >= SLOW_AFTER_MS {
            self.flight.slow = true;
        }
        match &self.phase {
            Phase::Waiting {
                status, deadline, ..
            } if now >= *deadline => {
                self.phase = Phase::TimedOut(status.clone());
                vec![Effect::Focus]
            }
            Phase::Unavailable { retry_at, last } if now >= *retry_at => {
                self.phase = Phase::Unavailable {
                    retry_at: f64::INFINITY,
                    last: last.clone(),
                };
                vec![Effect::Fetch]
            }
            _ => vec![],
        }
    }
}

impl Flight {
    /// An action sent at `now`.
    fn at(now: f64) -> Self {
        Flight {
            since: now,
            ..Flight::default()
        }
    }
}

/// Whether two statuses differ only by `server_time`.
fn same_but_clock(a: &ConnectionStatus, b: &ConnectionStatus) -> bool {
    a.server_time != b.server_time
        && ConnectionStatus {
            server_time: None,
            ..a.clone()
        } == ConnectionStatus {
            server_time: None,
            ..b.clone()
        }
}
