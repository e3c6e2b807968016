//! The simulated Powens world: users, tokens, temporary codes, connections and their
//! scripted state machines, webview sessions and webauth tickets.
//!
//! Time-driven transitions (a `validating` that settles, an approval that arrives,
//! a `next_try` that passes, an `expire` that runs out) are applied lazily by
//! [`World::advance`], which every reader calls first: no background task is needed,
//! and the world is always consistent with the wall clock.

use crate::SandboxConfig;
use crate::error::ApiError;
use mend_model::{
    Connection, ConnectionSource, ConnectionState as S, Connector, ConnectorField, PowensDateTime,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The stopped clock's time (ms since the epoch), `i64::MIN` when the clock runs.
static STOPPED_AT_MS: AtomicI64 = AtomicI64::new(i64::MIN);

/// Milliseconds since the Unix epoch: the system clock, unless it is stopped
/// ([`stop_clock`]).
pub(crate) fn now_ms() -> i64 {
    match STOPPED_AT_MS.load(Ordering::Relaxed) {
        i64::MIN => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        stopped => stopped,
    }
}

/// Stops the sandbox clock at `at_ms` (`Some`), or lets it run again (`None`).
/// Process-wide: one clock for every sandbox of the process (see `crate::stop_clock`).
pub(crate) fn stop_clock(at_ms: Option<i64>) {
    STOPPED_AT_MS.store(at_ms.unwrap_or(i64::MIN), Ordering::Relaxed);
}

/// Where the clock is stopped, if it is.
pub(crate) fn stopped_at() -> Option<i64> {
    Some(STOPPED_AT_MS.load(Ordering::Relaxed)).filter(|&t| t != i64::MIN)
}

/// Now in RFC 3339 UTC, to the second (`2026-12-01T10:00:00Z`).
pub(crate) fn rfc3339_now() -> String {
    PowensDateTime::from_unix_utc(now_ms().div_euclid(1000)).to_rfc3339_utc()
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// A random, URL-safe token (128 bits, hex).
pub(crate) fn random_token() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// The naive wall time Powens writes for an instant, in its zone.
pub(crate) fn powens_date(ms: i64, zone: &jiff::tz::TimeZone) -> PowensDateTime {
    let dt = zone
        .to_datetime(jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH));
    PowensDateTime::new(
        i32::from(dt.year()),
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    )
    .unwrap_or_else(|_| PowensDateTime::from_unix_utc(ms.div_euclid(1000)))
}

/// The instant (ms) of a naive Powens wall time in its zone (in a repeated hour the
/// earlier one, in a skipped hour the later one).
pub(crate) fn powens_instant(dt: PowensDateTime, zone: &jiff::tz::TimeZone) -> i64 {
    jiff::civil::DateTime::new(
        dt.year as i16,
        dt.month as i8,
        dt.day as i8,
        dt.hour as i8,
        dt.minute as i8,
        dt.second as i8,
        0,
    )
    .and_then(|d| zone.to_timestamp(d))
    .map_or(dt.to_unix_utc() * 1000, jiff::Timestamp::as_millisecond)
}

/// A bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub user: i64,
    /// `None`: permanent.
    pub expires_ms: Option<i64>,
}

/// A temporary code from `GET /auth/token/code`.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub user: i64,
    /// `singleAccess`: invalid after its first use.
    pub single: bool,
    pub expires_ms: i64,
    pub used: bool,
}

/// An open Reconnect webview (created when a valid code is presented).
#[derive(Debug, Clone)]
pub(crate) struct WebviewSession {
    pub connection: i64,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub expires_ms: i64,
    /// What to tell the user on the next page (a refused answer).
    pub notice: Option<String>,
}

/// A pending webauth (the bank's authorize page).
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub connection: i64,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub expires_ms: i64,
}

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

    /// The Powens JSON object.
    pub fn to_model(
        &self,
        connector: bool,
        sources: bool,
        zone: &jiff::tz::TimeZone,
    ) -> Connection {
        let powens_date = |ms: i64| powens_date(ms, zone);
        Connection {
            id: self.id,
            id_user: Some(self.user),
            id_connector: self.connector.id,
            connector_uuid: self.connector.uuid.clone(),
            id_bank: self.connector.id,
            id_provider: self.connector.id,
            state: self.state.clone(),
            error: self.state.clone(),
            error_message: self.error_message.clone(),
            fields: self.fields.clone(),
            last_update: self.last_update_ms.map(powens_date),
            created: Some(powens_date(self.created_ms)),
            active: self.active,
            last_push: None,
            expire: self.expire_ms.map(powens_date),
            next_try: self.next_try_ms.map(powens_date),
            connector: connector.then(|| self.connector.clone()),
            sources: sources.then(|| {
                self.sources
                    .iter()
                    .map(|s| ConnectionSource {
                        id: Some(s.id),
                        id_connection: Some(self.id),
                        id_connector_source: Some(s.id_connector_source),
                        name: s.name.to_owned(),
                        state: s.state.clone(),
                        last_update: s.last_update_ms.map(powens_date),
                        disabled: None,
                        created: Some(powens_date(s.created_ms)),
                        access_expire: self.access_expire_ms.map(powens_date),
                        expire: if s.state.is_some() {
                            self.expire_ms.map(powens_date)
                        } else {
                            None
                        },
                        next_try: self.next_try_ms.map(powens_date),
                    })
                    .collect()
            }),
        }
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

    fn back_to_decoupled(&mut self, now: i64, cfg: &SandboxConfig, message: &str) {
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
    fn settle_later(&mut self, at: i64) {
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
    fn lag_from(&mut self, now: i64) {
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

    /// Whether this connection shows in the bank app, and with which request.
    pub fn bank_app_request(&self) -> Option<BankRequest> {
        match &self.state {
            Some(S::Decoupled) | Some(S::Validating)
                if self.approval.as_ref().is_some_and(|a| a.decision.is_none()) =>
            {
                Some(BankRequest::Approval)
            }
            Some(S::ActionNeeded) if !self.terms_accepted => Some(BankRequest::Terms),
            _ => None,
        }
    }

    /// A decision taken in the bank app.
    pub fn bank_decision(&mut self, decision: BankDecision, now: i64, cfg: &SandboxConfig) -> bool {
        match (decision, self.bank_app_request()) {
            (BankDecision::Approve, Some(BankRequest::Approval)) => {
                self.lag_from(now);
                if let Some(a) = &mut self.approval {
                    a.decision = Some(true);
                }
                self.advance(now, cfg);
                true
            }
            (BankDecision::Refuse, Some(BankRequest::Approval)) => {
                if self.state == Some(S::Validating) {
                    if let Some(a) = &mut self.approval {
                        a.decision = Some(false);
                    }
                    self.advance(now, cfg);
                } else {
                    let expire = self.expire_ms;
                    self.back_to_decoupled(now, cfg, "Access refused in the bank app");
                    self.expire_ms = expire;
                }
                true
            }
            (BankDecision::AcceptTerms, Some(BankRequest::Terms)) => {
                self.terms_accepted = true;
                true
            }
            _ => false,
        }
    }

    /// Field values posted (API or webview).
    pub fn submit(
        &mut self,
        values: &Values,
        now: i64,
        cfg: &SandboxConfig,
        background: bool,
    ) -> Result<Submitted, ApiError> {
        let Some(fields) = self.fields.clone() else {
            let name = values.keys().next().map_or("", String::as_str);
            return Err(ApiError::invalid_value(format!(
                "The connection asks for no field; unexpected parameter: {name}"
            )));
        };
        for name in values.keys() {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(ApiError::invalid_value(format!("Unknown field: {name}")));
            }
        }
        for f in &fields {
            let value = values.get(&f.name).map(|v| v.trim()).unwrap_or("");
            if value.is_empty() {
                if f.required {
                    return Err(ApiError::missing(&f.name));
                }
                continue;
            }
            check_value(f, value)?;
        }
        let get = |name: &str| values.get(name).map(|v| v.trim()).unwrap_or("");
        let outcome = match self.script {
            Script::Otp => {
                if get("otp") == DEMO_OTP {
                    Submitted::Accepted
                } else {
                    self.otp_tries = self.otp_tries.saturating_sub(1);
                    let msg = match self.otp_tries {
                        0 => {
                            self.otp_tries = OTP_TRIES;
                            "Too many incorrect codes: a new code was sent by SMS".to_owned()
                        }
                        1 => "Incorrect code, 1 try left".to_owned(),
                        n => format!("Incorrect code, {n} tries left"),
                    };
                    Submitted::Rejected(msg)
                }
            }
            Script::Wrongpass => {
                if get("login") == DEMO_LOGIN && get("password") == DEMO_PASSWORD {
                    Submitted::Accepted
                } else {
                    return Err(ApiError::wrongpass("Identifiant ou mot de passe incorrect"));
                }
            }
            Script::PasswordExpired => {
                if get("login") != DEMO_LOGIN {
                    return Err(ApiError::wrongpass("Identifiant inconnu"));
                }
                Submitted::Accepted
            }
            _ => Submitted::Accepted,
        };
        match &outcome {
            Submitted::Accepted if background => {
                self.settle_later(now + ms(cfg.validating_delay));
            }
            Submitted::Accepted => self.repaired(now),
            Submitted::Rejected(msg) => self.error_message = Some(msg.clone()),
        }
        Ok(outcome)
    }
}

/// What a connection waits for in the bank app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankRequest {
    /// A decoupled approval.
    Approval,
    /// New terms and conditions to accept (actionNeeded).
    Terms,
}

/// A button of the bank app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BankDecision {
    Approve,
    Refuse,
    AcceptTerms,
}

impl BankDecision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Self::Approve),
            "refuse" => Some(Self::Refuse),
            "accept_terms" => Some(Self::AcceptTerms),
            _ => None,
        }
    }
}

/// `(min, max)` digit counts of patterns like `^[0-9]{6}$`, `^\d{4,8}$`.
fn digit_pattern(re: &str) -> Option<(usize, usize)> {
    let core = re.strip_prefix('^')?.strip_suffix('$')?;
    let rest = core
        .strip_prefix("[0-9]")
        .or_else(|| core.strip_prefix("\\d"))?;
    let counts = rest.strip_prefix('{')?.strip_suffix('}')?;
    match counts.split_once(',') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let n = counts.parse().ok()?;
            Some((n, n))
        }
    }
}

/// Checks one non-empty value against its field (type, list, regex), as Powens would.
fn check_value(f: &ConnectorField, value: &str) -> Result<(), ApiError> {
    use mend_model::FieldType;
    let bad = |why: &str| {
        Err(ApiError::invalid_value(format!(
            "Invalid value for {}: {why}",
            f.name
        )))
    };
    match &f.kind {
        FieldType::List
            if !f
                .values
                .as_ref()
                .is_some_and(|vs| vs.iter().any(|v| v.value == value)) =>
        {
            return bad("not one of the listed values");
        }
        FieldType::Date if value.len() != 10 || PowensDateTime::parse(value).is_err() => {
            return bad("expected a date as YYYY-MM-DD");
        }
        FieldType::Number if value.parse::<f64>().map_or(true, |n| !n.is_finite()) => {
            return bad("expected a number");
        }
        _ => {}
    }
    if let Some((min, max)) = f.regex.as_deref().and_then(digit_pattern) {
        let n = value.chars().count();
        if !value.bytes().all(|b| b.is_ascii_digit()) || n < min || n > max {
            return bad(&format!(
                "does not match {}",
                f.regex.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Everything the sandbox simulates.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub conns: BTreeMap<i64, Conn>,
    pub users: Vec<i64>,
    pub next_user: i64,
    /// Id of the next connection created through the API.
    pub next_connection: i64,
    pub tokens: HashMap<String, Token>,
    pub codes: HashMap<String, Code>,
    pub sessions: HashMap<String, WebviewSession>,
    pub tickets: HashMap<String, Ticket>,
    /// Tokens an old Powens refuses with 403 "Invalid token".
    pub revoked: std::collections::HashSet<String>,
}

impl World {
    /// Applies what time alone changes, everywhere.
    pub fn advance(&mut self, now: i64, cfg: &SandboxConfig) {
        for c in self.conns.values_mut() {
            c.advance(now, cfg);
        }
        self.codes.retain(|_, c| c.expires_ms > now - 3_600_000);
        self.sessions.retain(|_, s| s.expires_ms > now);
        self.tickets.retain(|_, t| t.expires_ms > now);
        self.tokens
            .retain(|_, t| t.expires_ms.is_none_or(|e| e > now));
    }

    /// The user of a bearer token.
    pub fn token_user(&self, token: &str, now: i64) -> Option<i64> {
        self.tokens
            .get(token)
            .filter(|t| t.expires_ms.is_none_or(|e| e > now))
            .map(|t| t.user)
    }

    /// Mints a token for `user`; `revoke_previous` drops the user's other tokens.
    pub fn mint_token(
        &mut self,
        user: i64,
        expires_ms: Option<i64>,
        revoke_previous: bool,
    ) -> String {
        if revoke_previous {
            self.tokens.retain(|_, t| t.user != user);
        }
        let token = random_token();
        self.tokens
            .insert(token.clone(), Token { user, expires_ms });
        token
    }

    /// A new, empty user.
    pub fn new_user(&mut self) -> i64 {
        let id = self.next_user;
        self.next_user += 1;
        self.users.push(id);
        id
    }

    /// Consumes a temporary code: its user, or why it was refused.
    pub fn use_code(&mut self, code: &str, now: i64) -> Result<i64, &'static str> {
        let Some(c) = self.codes.get_mut(code) else {
            return Err("unknown code");
        };
        if c.expires_ms <= now {
            return Err("expired code");
        }
        if c.single && c.used {
            return Err("code already used");
        }
        c.used = true;
        Ok(c.user)
    }

    /// A connection of `user`.
    pub fn conn_of(&mut self, user: i64, id: i64) -> Result<&mut Conn, ApiError> {
        self.conns
            .get_mut(&id)
            .filter(|c| c.user == user)
            .ok_or_else(|| ApiError::not_found("Connection"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn demo() -> (World, SandboxConfig) {
        let cfg = SandboxConfig::demo("http://sandbox.test");
        (crate::demo::world(NOW, &cfg), cfg)
    }

    #[test]
    fn transient_states_recover_by_themselves_at_next_try() {
        let (mut w, cfg) = demo();
        let next_try = w.conns[&110].next_try_ms.unwrap();
        assert_eq!(next_try, NOW + 10 * 60_000);
        w.advance(next_try - 1, &cfg);
        assert_eq!(w.conns[&110].state, Some(S::RateLimiting));
        w.advance(next_try, &cfg);
        assert_eq!(w.conns[&110].state, None);
        assert_eq!(w.conns[&110].last_update_ms, Some(next_try));
        assert_eq!(w.conns[&111].state, Some(S::WebsiteUnavailable));
    }

    #[test]
    fn an_approval_given_while_decoupled_is_kept_for_the_next_resume() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&105).unwrap();
        assert!(c.resume(NOW, &cfg), "waits for the approval");
        c.resume_timed_out(NOW + 1, &cfg);
        assert_eq!(c.state, Some(S::Decoupled));
        assert_eq!(c.bank_app_request(), Some(BankRequest::Approval));
        assert!(c.bank_decision(BankDecision::Approve, NOW + 2, &cfg));
        assert_eq!(
            c.state,
            Some(S::Decoupled),
            "approval alone does not resume"
        );
        assert!(!c.resume(NOW + 3, &cfg), "nothing left to wait for");
        assert_eq!(c.state, None);
        assert_eq!(c.last_update_ms, Some(NOW + 3));
    }

    #[test]
    fn a_refusal_ends_the_request_and_the_next_resume_sends_a_new_one() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&105).unwrap();
        assert!(c.bank_decision(BankDecision::Refuse, NOW, &cfg));
        assert_eq!(c.state, Some(S::Decoupled));
        assert_eq!(
            c.error_message.as_deref(),
            Some("Access refused in the bank app")
        );
        assert_eq!(c.bank_app_request(), None, "no longer listed");
        assert!(c.resume(NOW + 1, &cfg), "waits for the new request");
        assert_eq!(c.bank_app_request(), Some(BankRequest::Approval));
        assert!(c.bank_decision(BankDecision::Refuse, NOW + 2, &cfg));
        assert_eq!(c.state, Some(S::Decoupled));
        assert_eq!(c.bank_app_request(), None);
    }

    #[test]
    fn three_wrong_codes_send_a_new_one() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&104).unwrap();
        let wrong: Values = [("otp".to_owned(), "000000".to_owned())].into();
        for expected in [
            "Incorrect code, 2 tries left",
            "Incorrect code, 1 try left",
            "Too many incorrect codes: a new code was sent by SMS",
            "Incorrect code, 2 tries left",
        ] {
            let out = c.submit(&wrong, NOW, &cfg, false).unwrap();
            assert_eq!(out, Submitted::Rejected(expected.into()));
            assert_eq!(c.state, Some(S::AdditionalInformationNeeded));
        }
    }

    #[test]
    fn refresh_auth_sends_a_fine_psd2_connection_to_the_bank() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&101).unwrap();
        c.refresh_auth(NOW, &cfg).unwrap();
        assert_eq!(c.state, Some(S::WebauthRequired));
        assert_eq!(c.sources[0].state, Some(S::WebauthRequired));
        assert!(c.expire_ms.is_some());
    }

    #[test]
    fn an_auto_approving_scenario_approves_after_the_delay() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&102).unwrap();
        c.sync(NOW, &cfg, true);
        assert_eq!(c.state, Some(S::Decoupled));
        let at = NOW + ms(cfg.decoupled_delay);
        assert!(c.resume(at - 1, &cfg));
        c.advance(at, &cfg);
        assert_eq!(c.state, None);
    }

    #[test]
    fn a_lagging_repair_reads_old_then_validating_then_fine() {
        let (mut w, _) = demo();
        let c = w.conns.get_mut(&123).unwrap();
        assert_eq!(c.scenario.lag_ms, 4000);
        c.confirm(NOW);
        assert_eq!(c.state, None, "repaired at once");
        assert_eq!(c.shown_state(NOW + 1), Some(Some(S::ScaRequired)));
        assert_eq!(c.shown_state(NOW + 4001), Some(Some(S::Validating)));
        assert_eq!(c.shown_state(NOW + 8001), None, "then the outcome");
        assert_eq!(c.lag, None);
    }

    #[test]
    fn a_refusal_holds_its_state_with_what_it_needs() {
        let (mut w, cfg) = demo();
        let c = w.conns.get_mut(&118).unwrap();
        c.hold(S::Wrongpass, Some("no".into()), NOW);
        assert_eq!(c.state, Some(S::Wrongpass));
        let names: Vec<_> = c.fields.iter().flatten().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["login", "password"]);
        let right: Values = [("login", DEMO_LOGIN), ("password", DEMO_PASSWORD)]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        assert_eq!(
            c.submit(&right, NOW, &cfg, false).unwrap(),
            Submitted::Accepted
        );
        let c = w.conns.get_mut(&119).unwrap();
        c.hold(S::WebsiteUnavailable, None, NOW);
        assert_eq!(c.next_try_ms, Some(NOW + 30 * 60_000));
        c.advance(NOW + 30 * 60_000, &cfg);
        assert_eq!(c.state, None, "Powens retried it");
    }

    #[test]
    fn digit_patterns_are_understood() {
        assert_eq!(digit_pattern("^[0-9]{6}$"), Some((6, 6)));
        assert_eq!(digit_pattern("^\\d{4,8}$"), Some((4, 8)));
        assert_eq!(digit_pattern("^[a-z]+$"), None);
    }
}
