//! Sandbox mode's defaults (redirect URIs, origins) and the session key derived for
//! it, so that a sandbox session never passes a production proxy.

use secrecy::SecretString;
use std::net::SocketAddr;

/// The demo pages, the default `MEND_REDIRECT_URIS` in sandbox mode (Trunk's dev
/// server on 8080, and the widget this proxy serves).
pub fn sandbox_redirect_uris(addr: SocketAddr) -> Vec<String> {
    vec![
        "http://127.0.0.1:8080/widget/".to_owned(),
        "http://localhost:8080/widget/".to_owned(),
        "http://127.0.0.1:8080/".to_owned(),
        "http://localhost:8080/".to_owned(),
        format!("http://{addr}/widget/"),
        format!("http://{addr}/widget/index.html"),
    ]
}

/// The default `MEND_ALLOWED_ORIGINS` in sandbox mode: Trunk's dev server.
pub const SANDBOX_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];

/// Label of the sandbox-mode session key derivation (see [`sandbox_session_key`]).
pub const SANDBOX_KEY_LABEL: &str = "mend-sandbox-session-key-v1";

/// The session key used in sandbox mode when `MEND_SESSION_SECRET` is set:
/// `hex(HMAC-SHA256(secret, "mend-sandbox-session-key-v1"))`. Tests that sign their own
/// sessions for a sandbox-mode proxy derive the same key; a production proxy given the
/// raw secret refuses them.
pub fn sandbox_session_key(secret: &SecretString) -> SecretString {
    use hmac::Mac as _;

    use secrecy::ExposeSecret as _;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
    mac.update(SANDBOX_KEY_LABEL.as_bytes());
    let digest = mac.finalize().into_bytes();
    SecretString::from(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionKeys;
    use secrecy::ExposeSecret as _;

    #[test]
    fn sandbox_sessions_are_signed_with_a_key_a_production_proxy_does_not_hold() {
        let secret = SecretString::from("an integrator's production secret, 32+ bytes long");
        let derived = sandbox_session_key(&secret);
        assert_ne!(derived.expose_secret(), secret.expose_secret());
        assert_eq!(derived.expose_secret().len(), 64);
        // Deterministic, so tests can sign sandbox sessions themselves.
        assert_eq!(
            sandbox_session_key(&secret).expose_secret(),
            derived.expose_secret()
        );
        crate::session::install_hs256_provider();
        let token = SessionKeys::new(&derived).mint(1, None, std::time::Duration::from_secs(60));
        assert!(SessionKeys::new(&secret).verify(&token).is_err());
        assert!(SessionKeys::new(&derived).verify(&token).is_ok());
    }
}
