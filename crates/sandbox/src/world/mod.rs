//! The simulated Powens world: users, tokens, temporary codes, connections and their
//! scripted state machines, webview sessions and webauth tickets.
//!
//! Time-driven transitions (a `validating` that settles, an approval that arrives,
//! a `next_try` that passes, an `expire` that runs out) are applied lazily by
//! [`World::advance`], which every reader calls first: no background task is needed,
//! and the world is always consistent with the wall clock.
//!
//! The sandbox's clock is in [`clock`], a connection and its script in [`conn`], what
//! the bank app and the submitted values do to it in [`bank`] and [`submit`], and how
//! it is written as Powens JSON in [`json`].

mod bank;
mod clock;
mod conn;
mod json;
mod submit;
#[cfg(test)]
mod tests;

pub(crate) use bank::{BankDecision, BankRequest};
pub(crate) use clock::{ms, now_ms, random_token, rfc3339_now, stop_clock, stopped_at};
pub(crate) use conn::{
    Conn, DEMO_LOGIN, DEMO_OTP, DEMO_PASSWORD, OTP_TRIES, Script, Source, Submitted, Values,
};
pub(crate) use json::powens_instant;

use crate::SandboxConfig;
use crate::error::ApiError;
use std::collections::{BTreeMap, HashMap};

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
