//! The `state` put on every outgoing redirect (webview, webauth) and checked when the
//! user comes back (`POST /api/v1/callback`).
//!
//! Form: `v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256)>`. The payload binds
//! the session user, the connection, the flow kind, an expiry ([`STATE_TTL`]) and a
//! random nonce. The key is derived from the session secret (HMAC of a fixed label),
//! so a session token can never double as a state nor the reverse.
//!
//! A state is single use: its nonce is remembered in the [`Store`] until it expires
//! (with Redis, by every replica and across restarts). The payload also names the
//! store's epoch when it was issued: a state from another epoch (the store forgot
//! what was spent: a restart of the only replica, or of a Redis without persistence)
//! is refused, since nobody can say whether it was used. While the store is down,
//! states are refused too (fail closed), with a 503 the widget retries.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use mend_model::api::RedirectKind;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::{Nonce, Store};

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
    /// The store's epoch at issue.
    g: String,
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
    /// Issued in another epoch of the store: whether it was used is not known.
    #[error("issued before the store that remembers spent states was reset")]
    OtherEpoch,
    /// The store that remembers spent states cannot be reached: refused for now.
    #[error("the shared store is unavailable")]
    Unavailable,
    /// Valid, but refused by the caller's own check (another connection, a session
    /// that may not touch it); the state stays unused.
    #[error("not acceptable here")]
    NotAcceptable,
}

/// Signs and checks redirect states.
#[derive(Clone)]
pub struct StateSigner {
    key: Arc<HmacSha256>,
    store: Store,
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
    /// A signer whose key is derived from the session secret, remembering spent
    /// states in `store`.
    pub fn new(session_secret: &SecretString, store: Store) -> Self {
        let mut derive = HmacSha256::new_from_slice(session_secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable_hmac());
        derive.update(b"mend redirect state v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: Arc::new(HmacSha256::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac())),
            store,
        }
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut m = (*self.key).clone();
        m.update(data);
        m
    }

    /// A fresh state for a redirect of `user` about `connection` (fails only when
    /// the store is down: a state nobody could check is not handed out).
    pub async fn issue(
        &self,
        user: i64,
        connection: i64,
        kind: RedirectKind,
    ) -> Result<String, StateError> {
        let epoch = self
            .store
            .epoch()
            .await
            .map_err(|_| StateError::Unavailable)?;
        Ok(self.issue_until(
            user,
            connection,
            kind,
            now_secs() + STATE_TTL.as_secs(),
            epoch,
        ))
    }

    fn issue_until(
        &self,
        user: i64,
        connection: i64,
        kind: RedirectKind,
        expiry: u64,
        epoch: String,
    ) -> String {
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
            g: epoch,
        };
        let body = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let signed = format!("v1.{body}");
        let sig = B64.encode(self.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{signed}.{sig}")
    }

    /// Checks a returned state for `user` and marks it used.
    pub async fn redeem(&self, state: &str, user: i64) -> Result<StateClaims, StateError> {
        self.redeem_if(state, user, |_| true).await
    }

    /// As [`StateSigner::redeem`], but only marks the state used if `accept` agrees
    /// (so a refused presentation does not burn the user's real return).
    pub async fn redeem_if(
        &self,
        state: &str,
        user: i64,
        accept: impl FnOnce(&StateClaims) -> bool,
    ) -> Result<StateClaims, StateError> {
        let checked = self.check(state, user, accept).await?;
        self.spend(checked).await
    }

    /// Checks a state (signature, expiry, user, not used yet, `accept`) without
    /// spending it: the caller does what the return needs (reads Powens), then
    /// [`spend`](Self::spend)s it. A failure in between leaves it usable.
    pub async fn check(
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
        if !accept(&claims) {
            return Err(StateError::NotAcceptable);
        }
        match self.store.nonce(&payload.g, &payload.n).await {
            Ok(Nonce::Fresh) => {}
            Ok(Nonce::Spent) => return Err(StateError::Replayed),
            Ok(Nonce::OtherEpoch) => return Err(StateError::OtherEpoch),
            Err(_) => return Err(StateError::Unavailable),
        }
        Ok(Checked {
            claims,
            nonce: payload.n,
            epoch: payload.g,
            expires: payload.e,
        })
    }

    /// Spends a checked state: the first spend wins, any other presentation of the
    /// same state (even one checked concurrently, on any replica) is
    /// [`StateError::Replayed`].
    pub async fn spend(&self, checked: Checked) -> Result<StateClaims, StateError> {
        // Remembered for as long as the state could still be presented.
        let ttl = Duration::from_secs(checked.expires.saturating_sub(now_secs()) + 1);
        match self.store.spend(&checked.epoch, &checked.nonce, ttl).await {
            Ok(Nonce::Fresh) => Ok(checked.claims),
            Ok(Nonce::Spent) => Err(StateError::Replayed),
            Ok(Nonce::OtherEpoch) => Err(StateError::OtherEpoch),
            Err(_) => Err(StateError::Unavailable),
        }
    }
}

/// A state that passed [`StateSigner::check`], not spent yet.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What it was issued for.
    pub claims: StateClaims,
    nonce: String,
    epoch: String,
    expires: u64,
}

/// HMAC-SHA256 takes keys of any length; this cannot happen.
fn unreachable_hmac() -> HmacSha256 {
    panic!("HMAC-SHA256 accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn signer() -> StateSigner {
        StateSigner::new(
            &SecretString::from(SECRET),
            Store::local(crate::metrics::Metrics::default()),
        )
    }

    #[tokio::test]
    async fn a_state_is_redeemed_once_by_its_user() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Reconnect).await.unwrap();
        assert_eq!(s.redeem(&st, 2).await, Err(StateError::OtherUser));
        assert_eq!(
            s.redeem(&st, 1).await,
            Ok(StateClaims {
                connection: 104,
                kind: RedirectKind::Reconnect
            })
        );
        assert_eq!(s.redeem(&st, 1).await, Err(StateError::Replayed));
    }

    #[tokio::test]
    async fn an_expired_state_is_refused() {
        let s = signer();
        let epoch = s.store.epoch().await.unwrap();
        let st = s.issue_until(1, 104, RedirectKind::Reconnect, now_secs() - 1, epoch);
        assert_eq!(s.redeem(&st, 1).await, Err(StateError::Expired));
    }

    #[tokio::test]
    async fn a_refused_presentation_does_not_burn_the_state() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Reconnect).await.unwrap();
        assert_eq!(
            s.redeem_if(&st, 1, |_| false).await,
            Err(StateError::NotAcceptable)
        );
        assert!(s.redeem(&st, 1).await.is_ok());
    }

    #[tokio::test]
    async fn a_state_from_before_a_restart_is_refused_not_trusted() {
        // Same secret, a new store (a restarted process): nobody remembers whether
        // the first process spent it.
        let before = signer();
        let st = before.issue(1, 104, RedirectKind::Reconnect).await.unwrap();
        before.redeem(&st, 1).await.unwrap();
        let after = signer();
        assert_eq!(after.redeem(&st, 1).await, Err(StateError::OtherEpoch));
    }

    #[tokio::test]
    async fn a_tampered_state_is_forged() {
        let s = signer();
        let st = s.issue(1, 104, RedirectKind::Webauth).await.unwrap();
        let (signed, sig) = st.rsplit_once('.').unwrap();
        let other = B64.encode(br#"{"u":1,"c":105,"k":"webauth","e":99999999999,"n":"x","g":"0"}"#);
        assert_eq!(
            s.redeem(&format!("v1.{other}.{sig}"), 1).await,
            Err(StateError::Forged)
        );
        assert_eq!(
            s.redeem(&format!("{signed}.AAAA"), 1).await,
            Err(StateError::Forged)
        );
        assert_eq!(s.redeem("", 1).await, Err(StateError::Forged));
        let foreign = StateSigner::new(
            &SecretString::from("another-secret-another-secret-xx"),
            Store::local(crate::metrics::Metrics::default()),
        );
        assert_eq!(
            s.redeem(
                &foreign.issue(1, 104, RedirectKind::Webauth).await.unwrap(),
                1
            )
            .await,
            Err(StateError::Forged)
        );
    }
}
