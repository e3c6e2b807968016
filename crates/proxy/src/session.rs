//! Widget sessions (`docs/api.md`, "Sessions"): HS256 JWTs signed by the integrator's backend with
//! `MEND_SESSION_SECRET`.
//!
//! Only HS256 is accepted — pinned in the validation *and* at the crypto layer: the
//! process-wide `jsonwebtoken` crypto provider installed here knows no other
//! algorithm, so `alg: none`, RS256-with-the-secret-as-key and friends cannot verify.
//! `exp` and `iat` are required, `exp` at most [`MAX_TTL`] after `iat`, with
//! [`LEEWAY`] of clock skew. (Without `iat` the cap could only be measured from now,
//! so a far-off `exp` would become valid in its last hour.)
//!
//! `connections` absent means every connection of the user; present, only those
//! listed. `null` lists none (an integrator writing `null` for "no list yet" must not
//! grant everything); anything but a list of ids refuses the token.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::AppState;
use crate::error::ApiError;

/// Longest lifetime of a session.
pub const MAX_TTL: Duration = Duration::from_secs(3600);
/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const LEEWAY: u64 = 30;

/// The claims of a widget session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The Powens user id, as a decimal string.
    pub sub: String,
    /// Expiry (Unix seconds); required.
    pub exp: u64,
    /// Issued at (Unix seconds); required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Connection ids this session may touch; absent: all of the user's; `null`: none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "connections_claim"
    )]
    pub connections: Option<Vec<i64>>,
}

/// A present `connections` claim: a list of ids, or `null` for none at all.
fn connections_claim<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    Ok(Some(
        Option::<Vec<i64>>::deserialize(d)?.unwrap_or_default(),
    ))
}

/// An authenticated widget session (an axum extractor: 401 without a valid one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The Powens user id.
    pub user: i64,
    /// The connections it may touch (`None`: all of the user's).
    pub connections: Option<Vec<i64>>,
}

impl Session {
    /// Whether this session may touch connection `id` (ownership is Powens' to say).
    pub fn may_touch(&self, id: i64) -> bool {
        self.connections.as_ref().is_none_or(|c| c.contains(&id))
    }

    /// 404 unless [`Session::may_touch`]: exactly as an unknown connection.
    pub fn check(&self, id: i64) -> Result<(), ApiError> {
        if self.may_touch(id) {
            Ok(())
        } else {
            Err(ApiError::NotFound)
        }
    }
}

/// Most verified sessions remembered (see [`SessionKeys::verify_cached`]).
pub const CACHE_MAX: u64 = 4096;

/// A verified session and the last second it is valid (its `exp` plus [`LEEWAY`]).
type Verified = (Session, u64);

/// Signs and verifies sessions with one key.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    verified: Cache<Box<str>, Verified>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys([redacted])")
    }
}

impl SessionKeys {
    /// Keys from the session secret.
    pub fn new(secret: &SecretString) -> Self {
        install_hs256_provider();
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: Arc::new(EncodingKey::from_secret(bytes)),
            decoding: Arc::new(DecodingKey::from_secret(bytes)),
            // No session outlives its hour (+ leeway); `until` is checked on each hit.
            verified: Cache::builder()
                .max_capacity(CACHE_MAX)
                .time_to_live(MAX_TTL + Duration::from_secs(LEEWAY))
                .build(),
        }
    }

    /// [`SessionKeys::verify`], remembered per token string until the session expires:
    /// a widget sends the same token with every request, and checking it (two JSON
    /// parses and an HMAC) was a fifth of a proxied read's instructions.
    ///
    /// Sound because nothing else decides: the key never changes, and a session
    /// accepted once stays acceptable until its `exp` (+ leeway), checked on every hit.
    /// Refusals are not remembered. The map is keyed by the whole token and hashed
    /// with a per-process random key, so a guess never meets a stored token unless it
    /// is that token. A `moka` cache of at most [`CACHE_MAX`] tokens.
    pub fn verify_cached(&self, token: &str) -> Result<Session, ApiError> {
        let now = now_secs();
        match self.verified.get(token) {
            Some((session, until)) if now <= until => return Ok(session),
            Some(_) => self.verified.invalidate(token),
            None => {}
        }
        let (session, exp) = self.verify_with_exp(token)?;
        self.verified
            .insert(token.into(), (session.clone(), exp.saturating_add(LEEWAY)));
        Ok(session)
    }

    /// Mints a session for `user` valid `ttl` (capped at [`MAX_TTL`]).
    pub fn mint(&self, user: i64, connections: Option<Vec<i64>>, ttl: Duration) -> String {
        let now = now_secs();
        let claims = Claims {
            sub: user.to_string(),
            iat: Some(now),
            exp: now + ttl.min(MAX_TTL).as_secs(),
            connections,
        };
        // HMAC signing of a serialisable struct cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Verifies a session token.
    pub fn verify(&self, token: &str) -> Result<Session, ApiError> {
        self.verify_with_exp(token).map(|(session, _)| session)
    }

    /// Verifies a session token; also says its `exp`.
    fn verify_with_exp(&self, token: &str) -> Result<(Session, u64), ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY;
        validation.validate_exp = true;
        // A token not valid yet (`nbf` in the future) is refused; an `aud` an
        // integrator's JWT library adds is not Mend's to check.
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::SessionExpired,
                ErrorKind::InvalidSignature => ApiError::Unauthorized("bad signature"),
                ErrorKind::InvalidAlgorithm => ApiError::Unauthorized("algorithm not allowed"),
                ErrorKind::MissingRequiredClaim(_) => ApiError::Unauthorized("missing claim"),
                _ => ApiError::Unauthorized("malformed token"),
            },
        )?;
        let claims = data.claims;
        let now = now_secs();
        let max = MAX_TTL.as_secs();
        let iat = claims.iat.ok_or(ApiError::Unauthorized("missing claim"))?;
        if iat > now + LEEWAY {
            return Err(ApiError::Unauthorized("issued in the future"));
        }
        if claims.exp > iat + max {
            return Err(ApiError::Unauthorized("lifetime over 1 hour"));
        }
        let user = parse_user_id(&claims.sub).ok_or(ApiError::Unauthorized("bad subject"))?;
        Ok((
            Session {
                user,
                connections: claims.connections,
            },
            claims.exp,
        ))
    }
}

/// `sub` must be a positive decimal integer, nothing else (no sign, no spaces).
fn parse_user_id(sub: &str) -> Option<i64> {
    if sub.is_empty() || sub.len() > 18 || !sub.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    sub.parse().ok().filter(|&u: &i64| u > 0)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The session a request's `Authorization` header carries, checked: what
/// [`crate::http::ApiGuard`] found before charging the rate limits, read again by the
/// [`Session`] extractor.
#[derive(Debug, Clone)]
pub struct Checked(pub Result<Session, ApiError>);

impl Checked {
    /// Checks the `Authorization: Bearer` header of a request.
    pub fn of(headers: &axum::http::HeaderMap, keys: &SessionKeys) -> Self {
        Self(bearer(headers).and_then(|token| keys.verify_cached(token)))
    }
}

fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("no session"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized("not a bearer token"))?;
    if token.len() > 4096 {
        return Err(ApiError::Unauthorized("token too long"));
    }
    Ok(token)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Checked>() {
            Some(Checked(checked)) => checked.clone(),
            // Every `/api` request passes the guard first; a route elsewhere taking a
            // session would skip the rate limits, so it is checked (and refused) here.
            None => {
                Checked::of(&parts.headers, &state.sessions).0?;
                Err(ApiError::Internal("a session outside /api".into()))
            }
        }
    }
}

// --- An HS256-only crypto provider for jsonwebtoken -------------------------------
//
// jsonwebtoken ≥ 10 needs a crypto backend. Its `rust_crypto` feature pulls RSA,
// ECDSA and EdDSA crates this proxy never uses; `aws_lc_rs` needs cmake. HS256 is
// 40 lines on the RustCrypto `hmac` crate, and a provider that cannot do anything
// else is one more guarantee that no other algorithm is ever accepted.

type HmacSha256 = Hmac<Sha256>;

struct Hs256(HmacSha256);

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn hs256(alg: &Algorithm, key: &[u8]) -> jsonwebtoken::errors::Result<Hs256> {
    if *alg != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    HmacSha256::new_from_slice(key)
        .map(Hs256)
        .map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |alg, key| {
        if key.family() != jsonwebtoken::AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Box::new(hs256(alg, key.as_bytes())?))
    },
    verifier_factory: |alg, key| Ok(Box::new(hs256(alg, key.try_get_as_bytes()?)?)),
    key_utils: KeyUtils::new_unimplemented(),
};

/// Installs the HS256-only provider once per process (a no-op when another provider
/// was installed first: that one still only sees HS256 thanks to the validation).
pub fn install_hs256_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = HS256_ONLY.install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::new(&SecretString::from("0123456789abcdef0123456789abcdef"))
    }

    #[test]
    fn a_minted_session_verifies() {
        let k = keys();
        let t = k.mint(7, Some(vec![42]), Duration::from_secs(60));
        assert_eq!(
            k.verify(&t).unwrap(),
            Session {
                user: 7,
                connections: Some(vec![42])
            }
        );
    }

    #[test]
    fn a_remembered_session_is_the_verified_one_and_refusals_are_not_remembered() {
        let k = keys();
        let t = k.mint(7, Some(vec![42]), Duration::from_secs(60));
        assert_eq!(k.verify_cached(&t).unwrap(), k.verify(&t).unwrap());
        assert_eq!(k.verify_cached(&t).unwrap().connections, Some(vec![42]));
        let mut forged = t.clone();
        forged.pop();
        assert!(k.verify_cached(&forged).is_err());
        assert!(k.verify_cached(&forged).is_err());
        // Another key's cache does not know it: the cache is per key.
        let other = SessionKeys::new(&SecretString::from("another-secret-another-secret-xx"));
        assert!(other.verify_cached(&t).is_err());
        // A remembered session past its `exp` (+ leeway) is not trusted: checked anew.
        let session = Session {
            user: 8,
            connections: None,
        };
        k.verified
            .insert("not.a.token".into(), (session.clone(), now_secs() + 60));
        assert_eq!(k.verify_cached("not.a.token").unwrap(), session);
        k.verified
            .insert("not.a.token".into(), (session, now_secs() - 1));
        assert!(k.verify_cached("not.a.token").is_err());
        assert!(!k.verified.contains_key("not.a.token"));
    }

    #[test]
    fn a_session_signed_with_another_key_is_refused() {
        let other = SessionKeys::new(&SecretString::from("another-secret-another-secret-xx"));
        let t = other.mint(7, None, Duration::from_secs(60));
        assert!(matches!(keys().verify(&t), Err(ApiError::Unauthorized(_))));
    }

    #[test]
    fn subjects_must_be_positive_decimals() {
        assert_eq!(parse_user_id("7"), Some(7));
        for bad in ["", "-7", "+7", " 7", "0", "7a", "99999999999999999999"] {
            assert_eq!(parse_user_id(bad), None, "{bad:?}");
        }
    }
}
