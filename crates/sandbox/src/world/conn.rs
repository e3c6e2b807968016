//! A connection, its script, and what time, syncs and resumes do to it.

use super::ms;
use crate::SandboxConfig;
use crate::error::ApiError;
use mend_model::{ConnectionState as S, Connector, ConnectorField};
use std::collections::BTreeMap;

/// What a connection does when it is acted upon (see the crate docs, "Scenarios").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    /// Fine; a sync keeps it fine.
    Fine,
    /// `SCARequired`; a sync with the user present asks for a decoupled approval that
    /// the user gives on their phone after `decoupled_delay`.
    ScaThenDecoupled,
    /// `webauthRequired`; repaired by the bank's authorize page or the webview.
    Webauth,
    /// `additionalInformationNeeded` with an SMS code.
    Otp,
    /// `decoupled`; approved or refused by hand in the bank app.
    Decoupled,
    /// `validating`, fine after `validating_delay`.
    Validating,
    /// `actionNeeded`; fine at the next sync once the terms are accepted in the bank app.
    ActionNeeded,
    /// `passwordExpired`; a new password repairs it.
    PasswordExpired,
    /// `wrongpass`; the right credentials repair it.
    Wrongpass,
    /// `rateLimiting` / `websiteUnavailable` / `bug`: Powens retries at `next_try`.
    Transient,
    /// Nothing repairs it (`notSupported`, unknown states).
    Inert,
    /// Multi-source: `openapi` needs SCA, `directaccess` is fine.
    MultiSource,
    /// `additionalInformationNeeded` with one field of every type.
    AllFields,
}

/// The correct demo credentials (wrongpass, passwordExpired).
pub(crate) const DEMO_LOGIN: &str = "demo";
/// The correct password of the `wrongpass` connection.
pub(crate) const DEMO_PASSWORD: &str = "1234";
/// The right SMS code.
pub(crate) const DEMO_OTP: &str = "123456";
/// Wrong SMS codes allowed before a new code is sent.
pub(crate) const OTP_TRIES: u8 = 3;

/// A decoupled approval request, as the bank app sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Approval {
    /// When the user approves by themselves (auto-approving scenarios).
    pub auto_at: Option<i64>,
    /// `Some(true)` approved, `Some(false)` refused, `None` pending.
    pub decision: Option<bool>,
}

/// One source of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub id: i64,
    pub id_connector_source: i64,
    pub name: &'static str,
    pub state: Option<S>,
    pub last_update_ms: Option<i64>,
    pub created_ms: i64,
}

/// A connection and its script.
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    pub id: i64,
    pub user: i64,
    pub connector: Connector,
    pub state: Option<S>,
    pub error_message: Option<String>,
    pub fields: Option<Vec<ConnectorField>>,
    pub created_ms: i64,
    pub last_update_ms: Option<i64>,
    pub active: bool,
    pub expire_ms: Option<i64>,
    pub next_try_ms: Option<i64>,
    pub sources: Vec<Source>,
    pub script: Script,
    pub title: &'static str,
    pub explanation: &'static str,
    /// The approval request while `decoupled` (or `validating` after a resume).
    pub approval: Option<Approval>,
    /// `validating` because of a resume: waits for the approval.
    pub resumed: bool,
    /// `validating` that settles to fine at this time.
    pub settles_at: Option<i64>,
    pub otp_tries: u8,
    pub terms_accepted: bool,
    /// Answers beyond the script (see [`crate::scenario`]).
    pub scenario: crate::scenario::Scenario,
    /// A repair whose reads lag behind: when it happened and the state before it.
    pub lag: Option<(i64, Option<S>)>,
    /// Consent expiry of the sources (PSD2 access), ms.
    pub access_expire_ms: Option<i64>,
}

/// The values posted for a connection's fields.
pub(crate) type Values = BTreeMap<String, String>;

/// Why a submission did not repair the connection, when it is not an HTTP error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Submitted {
    /// Repaired (or `validating` towards it with `background=true`).
    Accepted,
    /// Kept in an error state; `error_message` says why.
    Rejected(String),
}

impl Conn {
    /// The bank's display name.
    pub fn bank(&self) -> &str {
        &self.connector.name
    }

    fn set_state(&mut self, state: Option<S>) {
        // Single-source connections mirror the connection's state on their source;
        // multi-source ones set their sources explicitly.
        if self.sources.len() == 1 {
            self.sources[0].state = state.clone();
        }
        self.state = state;
    }

    /// Back to fine: the last synchronisation succeeded at `at`.
    pub fn repaired(&mut self, at: i64) {
        self.state = None;
        self.error_message = None;
        self.fields = None;
        self.expire_ms = None;
        self.next_try_ms = Some(at + 24 * 3_600_000);
        self.last_update_ms = Some(at);
        for s in &mut self.sources {
            s.state = None;
            s.last_update_ms = Some(at);
        }
        self.approval = None;
        self.resumed = false;
        self.settles_at = None;
        self.otp_tries = OTP_TRIES;
    }

    /// Asks for a decoupled approval in the bank app.
    pub fn enter_decoupled(&mut self, now: i64, cfg: &SandboxConfig, auto: bool) {
        self.set_state(Some(S::Decoupled));
        self.error_message = Some(format!("Open the {} app to approve access", self.bank()));
        self.expire_ms = Some(now + ms(cfg.approval_expiry));
        self.fields = None;
        self.resumed = false;
        self.settles_at = None;
        self.approval = Some(Approval {
            auto_at: auto.then(|| now + ms(cfg.decoupled_delay)),
            decision: None,
        });
    }

    pub(super) fn back_to_decoupled(&mut self, now: i64, cfg: &SandboxConfig, message: &str) {
        self.set_state(Some(S::Decoupled));
        self.error_message = Some(message.to_owned());
        self.expire_ms = Some(now + ms(cfg.approval_expiry));
        self.resumed = false;
        self.settles_at = None;
        // The request is over; the next resume sends a new one.
        self.approval = None;
    }

    /// Whether the user approves by themselves in this scenario.
    fn auto_approves(&self) -> bool {
        self.script == Script::ScaThenDecoupled
    }

    /// `validating` until `at`, then fine (a background submission, or 106).
    pub(super) fn settle_later(&mut self, at: i64) {
        self.set_state(Some(S::Validating));
        self.error_message = None;
        self.fields = None;
        self.resumed = false;
        self.approval = None;
        self.settles_at = Some(at);
    }

    /// Applies what time alone changes.
    pub fn advance(&mut self, now: i64, cfg: &SandboxConfig) {
        if let Some(a) = &mut self.approval
            && a.decision.is_none()
            && a.auto_at.is_some_and(|t| t <= now)
        {
            a.decision = Some(true);
        }
        match &self.state {
            Some(S::Validating) if self.resumed => {
                match self.approval.as_ref().and_then(|a| a.decision) {
                    Some(true) => self.repaired(now),
                    Some(false) => {
                        self.back_to_decoupled(now, cfg, "Access refused in the bank app")
                    }
                    None if self.expire_ms.is_some_and(|e| e <= now) => self.back_to_decoupled(
                        now,
                        cfg,
                        "The approval request expired: open the bank app and try again",
                    ),
                    None => {}
                }
            }
            Some(S::Validating) => {
                if let Some(at) = self.settles_at
                    && at <= now
                {
                    self.repaired(at);
                }
            }
            Some(S::RateLimiting | S::WebsiteUnavailable | S::Bug) => {
                if let Some(at) = self.next_try_ms
                    && at <= now
                {
                    self.repaired(at);
                }
            }
            _ => {}
        }
    }

    /// Holds `state` after a refusal (see [`crate::scenario::Refusal::state`]), with
    /// what that state needs: credentials for `wrongpass`, a `next_try` for the states
    /// Powens retries itself.
    pub fn hold(&mut self, state: S, message: Option<String>, now: i64) {
        self.set_state(Some(state.clone()));
        self.error_message = message;
        self.approval = None;
        self.resumed = false;
        self.settles_at = None;
        match state {
            S::Wrongpass | S::PasswordExpired => {
                self.fields = Some(crate::demo::credentials());
                self.script = Script::Wrongpass;
            }
            S::RateLimiting | S::WebsiteUnavailable | S::Bug => {
                self.fields = None;
                self.next_try_ms = Some(now + 30 * 60_000);
                self.script = Script::Transient;
            }
            S::ActionNeeded => {
                self.fields = None;
                self.script = Script::ActionNeeded;
            }
            _ => self.fields = None,
        }
    }

    /// A synchronisation (`PUT`, or `POST` with an empty body). `psu`: the user is present.
    pub fn sync(&mut self, now: i64, cfg: &SandboxConfig, psu: bool) {
        match (&self.state, self.script) {
            (None, _) => self.repaired(now),
            (Some(S::ScaRequired), Script::ScaThenDecoupled) if psu => {
                self.enter_decoupled(now, cfg, true);
            }
            (Some(S::ScaRequired), Script::MultiSource) if psu => {
                // The PSD2 source needs the user at the bank: a redirect.
                self.state = Some(S::WebauthRequired);
                if let Some(s) = self.sources.iter_mut().find(|s| s.name == "openapi") {
                    s.state = Some(S::WebauthRequired);
                }
                self.error_message = Some(format!(
                    "Continue on the {} website to renew your consent",
                    self.bank()
                ));
                self.expire_ms = Some(now + ms(cfg.approval_expiry));
            }
            (Some(S::ActionNeeded), _) if self.terms_accepted => self.repaired(now),
            (Some(S::AdditionalInformationNeeded), Script::Otp) => {
                self.error_message = Some("A new code was sent by SMS".into());
                self.otp_tries = OTP_TRIES;
            }
            _ => {}
        }
    }

    /// `resume: true`. Returns true when the caller has to wait for an approval.
    pub fn resume(&mut self, now: i64, cfg: &SandboxConfig) -> bool {
        match &self.state {
            Some(S::Decoupled) => {
                self.set_state(Some(S::Validating));
                self.resumed = true;
                // No request pending (refused, expired): the resume sends a new one.
                if self
                    .approval
                    .as_ref()
                    .is_none_or(|a| a.decision == Some(false))
                {
                    self.approval = Some(Approval {
                        auto_at: self.auto_approves().then(|| now + ms(cfg.decoupled_delay)),
                        decision: None,
                    });
                }
                self.advance(now, cfg);
                self.state == Some(S::Validating)
            }
            Some(S::Validating) => true,
            _ => {
                self.sync(now, cfg, true);
                false
            }
        }
    }

    /// A blocking resume ran out of time: the connection is still waiting for the
    /// approval, which stays pending in the bank app.
    pub fn resume_timed_out(&mut self, now: i64, cfg: &SandboxConfig) {
        if self.state == Some(S::Validating) && self.resumed {
            let approval = self.approval.clone();
            let expire = self.expire_ms;
            self.back_to_decoupled(now, cfg, "Still waiting for your approval in the bank app");
            self.approval = approval;
            self.expire_ms = expire;
        }
    }

    /// `refresh_auth: true`: renewing a PSD2 consent sends the user to the bank.
    pub fn refresh_auth(&mut self, now: i64, cfg: &SandboxConfig) -> Result<(), ApiError> {
        if !self.sources.iter().any(|s| s.name == "openapi") {
            return Err(ApiError::invalid_value(
                "refresh_auth only applies to openapi sources",
            ));
        }
        if self.state.is_none() {
            self.state = Some(S::WebauthRequired);
            for s in self.sources.iter_mut().filter(|s| s.name == "openapi") {
                s.state = Some(S::WebauthRequired);
            }
            self.error_message = Some(format!(
                "Continue on the {} website to renew your consent",
                self.bank()
            ));
            self.expire_ms = Some(now + ms(cfg.approval_expiry));
        }
        Ok(())
    }

    /// The user confirmed access (webview, bank authorize page).
    pub fn confirm(&mut self, now: i64) {
        self.lag_from(now);
        self.repaired(now);
    }

    /// Starts the lagging reads of a repair, when the scenario asks for them.
    pub(super) fn lag_from(&mut self, now: i64) {
        if self.scenario.lag_ms > 0 && self.state.is_some() {
            self.lag = Some((now, self.state.clone()));
        }
    }

    /// The state reads show now: the old one, `validating`, then the real one, when
    /// a repair lags (see [`crate::scenario::Scenario::lag_ms`]).
    pub fn shown_state(&mut self, now: i64) -> Option<Option<S>> {
        let (at, old) = self.lag.clone()?;
        let lag = i64::try_from(self.scenario.lag_ms).unwrap_or(0);
        if now < at + lag {
            Some(old)
        } else if now < at + 2 * lag {
            Some(Some(S::Validating))
        } else {
            self.lag = None;
            None
        }
    }
}
