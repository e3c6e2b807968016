//! Powens user tokens as they are kept in the shared store: sealed with
//! XChaCha20-Poly1305 under a key derived from the session secret (HKDF-SHA256), so
//! whoever reads Redis without the secret learns nothing usable. The user id and
//! the key prefix (the client id) are the associated data: a sealed token copied
//! under another user's key does not open.
//!
//! Shared rather than kept per replica: a token per user for the whole cluster is
//! one `/auth/renew` (one request of the Powens budget) per user instead of one per
//! user and replica, and a restarted replica does not renew them all again.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

/// The label the key is derived under (changing it makes every sealed token unreadable).
const INFO: &[u8] = b"mend powens user token v1";
/// The first byte of a sealed token: its format.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The sealing key (never printed).
#[derive(Clone)]
pub struct TokenKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

impl TokenKey {
    /// The key derived from the session secret.
    pub fn derive(session_secret: &SecretString) -> Self {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(
            Some(b"mend-proxy"),
            session_secret.expose_secret().as_bytes(),
        );
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit: this cannot fail.
        let _ = hk.expand(INFO, &mut key);
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// `token` sealed for `user` under `scope` (the key prefix).
    pub fn seal(&self, scope: &str, user: i64, token: &SecretString) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let aad = format!("{scope}{user}");
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: token.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The token sealed in `blob` for `user` under `scope`; `None` if it was sealed
    /// for anyone else, with another key, or altered.
    pub fn open(&self, scope: &str, user: i64, blob: &[u8]) -> Option<SecretString> {
        let (&version, rest) = blob.split_first()?;
        if version != VERSION || rest.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let aad = format!("{scope}{user}");
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok().map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_for_its_user_scope_and_key() {
        let key = TokenKey::derive(&SecretString::from("0123456789abcdef0123456789abcdef"));
        let token = SecretString::from("powens-user-token-42");
        let blob = key.seal("mend:10000001:", 7, &token).unwrap();
        assert!(
            !blob
                .windows(token.expose_secret().len())
                .any(|w| w == token.expose_secret().as_bytes()),
            "never in clear"
        );
        let opened = key.open("mend:10000001:", 7, &blob).unwrap();
        assert_eq!(opened.expose_secret(), token.expose_secret());
        assert!(
            key.open("mend:10000001:", 8, &blob).is_none(),
            "another user"
        );
        assert!(
            key.open("mend:other:", 7, &blob).is_none(),
            "another client"
        );
        let other = TokenKey::derive(&SecretString::from("another-secret-another-secret-xx"));
        assert!(
            other.open("mend:10000001:", 7, &blob).is_none(),
            "another key"
        );
        let mut altered = blob.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open("mend:10000001:", 7, &altered).is_none());
        assert!(key.open("mend:10000001:", 7, b"").is_none());
        assert_ne!(
            key.seal("mend:10000001:", 7, &token).unwrap(),
            blob,
            "a fresh nonce each time"
        );
    }
}
