//! The `state` put on every outgoing redirect (webview, webauth) and checked when the
//! user comes back (`POST /api/v1/callback`).
//!
//! Form: `v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256)>`. The payload binds
//! the session user, the connection, the flow kind, an expiry ([`STATE_TTL`]) and a
//! random nonce. The key is derived from the session secret (HMAC of a fixed label),
//! so a session token can never double as a state nor the reverse. A state is single
//! use: its nonce is remembered until it expires.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use mend_model::api::RedirectKind;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lifetime of a redirect state.
pub const STATE_TTL: Duration = Duration::from_secs(15 * 60);
/// Longest state accepted (anything longer is not ours).
const MAX_STATE_LEN: usize = 512;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payload {
    /// User.
    u: i64,
    /// Connection.
    c: i64,
    /// Kind.
    k: RedirectKind,
    /// Expiry (Unix seconds).
    e: u64,
    /// Nonce (base64url of 16 random bytes).
    n: String,
}

/// What a valid state was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateClaims {
    /// The connection the redirect was for.
    pub connection: i64,
    /// Which flow.
    pub kind: RedirectKind,
}

/// Why a state was refused (logged; the answer is always `invalid_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not of our form, or a bad signature.
    #[error("forged or malformed")]
    Forged,
    /// Past its expiry.
    #[error("expired")]
    Expired,
    /// Issued to another user.
    #[error("issued to another user")]
    OtherUser,
    /// Already presented once.
    #[error("already used")]
    Replayed,
    /// Valid, but refused by the caller's own check (another connection, a session
    /// that may not touch it); the state stays unused.
    #[error("not acceptable here")]
    NotAcceptable,
}

/// Signs and checks redirect states.
#[derive(Clone)]
pub struct StateSigner {
    key: Arc<HmacSha256>,
    used: Arc<Mutex<HashMap<String, u64>>>,
}

impl std::fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateSigner([redacted])")
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl StateSigner {
    /// A signer whose key is derived from the session secret.
    pub fn new(session_secret: &SecretString) -> Self {
        let mut derive = HmacSha256::new_from_slice(session_secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable_hmac());
        derive.update(b"mend redirect state v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: Arc::new(HmacSha256::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac())),
            used: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut m = (*self.key).clone();
        m.update(data);
        m
    }

    /// A fresh state for a redirect of `user` about `connection`.
    pub fn issue(&self, user: i64, connection: i64, kind: RedirectKind) -> String {
        self.issue_until(user, connection, kind, now_secs() + STATE_TTL.as_secs())
    }

    fn issue_until(&self, user: i64, connection: i64, kind: RedirectKind, expiry: u64) -> String {
        let mut nonce = [0u8; 16];
        // A failing OS RNG leaves zeros: the state is still signed and bound; only
        // replay detection across identical states would suffer. Log it.
        if getrandom::fill(&mut nonce).is_err() {
            tracing::error!("the OS random generator failed");
        }
        let payload = Payload {
            u: user,
            c: connection,
            k: kind,
            e: expiry,
            n: B64.encode(nonce),
        };
        let body = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let signed = format!("v1.{body}");
        let sig = B64.encode(self.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{signed}.{sig}")
    }

    /// Checks a returned state for `user` and marks it used.
    pub fn redeem(&self, state: &str, user: i64) -> Result<StateClaims, StateError> {
        self.redeem_if(state, user, |_| true)
    }

    /// As [`StateSigner::redeem`], but only marks the state used if `accept` agrees
    /// (so a refused presentation does not burn the user's real return).
    pub fn redeem_if(
        &self,
        state: &str,
        user: i64,
        accept: impl FnOnce(&StateClaims) -> bool,
    ) -> Result<StateClaims, StateError> {
        let checked = self.check(state, user, accept)?;
        self.spend(checked)
    }

    /// Checks a state (signature, expiry, user, not used yet, `accept`) without
    /// spending it: the caller does what the return needs (reads Powens), then
    /// [`spend`](Self::spend)s it. A failure in between leaves it usable.
    pub fn check(
        &self,
        state: &str,
        user: i64,
        accept: impl FnOnce(&StateClaims) -> bool,
    ) -> Result<Checked, StateError> {
        if state.len() > MAX_STATE_LEN {
            return Err(StateError::Forged);
        }
        let (signed, sig) = state.rsplit_once('.').ok_or(StateError::Forged)?;
        let body = signed.strip_prefix("v1.").ok_or(StateError::Forged)?;
        let sig = B64.decode(sig).map_err(|_| StateError::Forged)?;
        self.mac(signed.as_bytes())
            .verify_slice(&sig)
            .map_err(|_| StateError::Forged)?;
        let payload: Payload = B64
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(StateError::Forged)?;
        let now = now_secs();
        if payload.e <= now {
            return Err(StateError::Expired);
        }
        if payload.u != user {
            return Err(StateError::OtherUser);
        }
        let claims = StateClaims {
            connection: payload.c,
            kind: payload.k,
        };
        {
            let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
            used.retain(|_, exp| *exp > now);
            if used.contains_key(&payload.n) {
                return Err(StateError::Replayed);
            }
        }
        if !accept(&claims) {
            return Err(StateError::NotAcceptable);
        }
        Ok(Checked {
            claims,
            nonce: payload.n,
            expires: payload.e,
        })
    }

    /// Spends a checked state: the first spend wins, any other presentation of the
    /// same state (even one checked concurrently) is [`StateError::Replayed`].
    pub fn spend(&self, checked: Checked) -> Result<StateClaims, StateError> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.contains_key(&checked.nonce) {
            return Err(StateError::Replayed);
        }
        used.insert(checked.nonce, checked.expires);
        Ok(checked.claims)
    }
}

/// A state that passed [`StateSigner::check`], not spent yet.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What it was issued for.
    pub claims: StateClaims,
    nonce: String,
    expires: u64,
}

/// HMAC-SHA256 takes keys of any length; this cannot happen.
fn unreachable_hmac() -> HmacSha256 {
    panic!("HMAC-SHA256 accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> StateSigner {
        StateSigner::new(&SecretString::from("0123456789abcdef0123456789abcdef"))
    }

    #[test]
    fn a_state_is_redeemed_once_by_its_user() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Reconnect);
        assert_eq!(s.redeem(&st, 2), Err(StateError::OtherUser));
        assert_eq!(
            s.redeem(&st, 1),
            Ok(StateClaims {
                connection: 104,
                kind: RedirectKind::Reconnect
            })
        );
        assert_eq!(s.redeem(&st, 1), Err(StateError::Replayed));
    }

    #[test]
    fn an_expired_state_is_refused() {
        let s = signer();
        let st = s.issue_until(1, 104, RedirectKind::Reconnect, now_secs() - 1);
        assert_eq!(s.redeem(&st, 1), Err(StateError::Expired));
    }

    #[test]
    fn a_refused_presentation_does_not_burn_the_state() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Reconnect);
        assert_eq!(
            s.redeem_if(&st, 1, |_| false),
            Err(StateError::NotAcceptable)
        );
        assert!(s.redeem(&st, 1).is_ok());
    }

    #[test]
    fn a_tampered_state_is_forged() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Webauth);
        let (signed, sig) = st.rsplit_once('.').unwrap();
        let other = B64.encode(br#"{"u":1,"c":105,"k":"webauth","e":99999999999,"n":"x"}"#);
        assert_eq!(
            s.redeem(&format!("v1.{other}.{sig}"), 1),
            Err(StateError::Forged)
        );
        assert_eq!(
            s.redeem(&format!("{signed}.AAAA"), 1),
            Err(StateError::Forged)
        );
        assert_eq!(s.redeem("", 1), Err(StateError::Forged));
        let foreign = StateSigner::new(&SecretString::from("another-secret-another-secret-xx"));
        assert_eq!(
            s.redeem(&foreign.issue(1, 104, RedirectKind::Webauth), 1),
            Err(StateError::Forged)
        );
    }
}
