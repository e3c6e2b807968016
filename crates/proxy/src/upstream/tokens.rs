//! Powens user tokens: one per user, cached for the process' lifetime, renewed with
//! single flight. Concurrent first requests for one user share one renewal, which
//! runs in its own task (a caller that goes away does not cancel it for the others)
//! and hands its outcome, failure included, to every caller that waited: during an
//! outage a hundred waiting requests fail together after one renewal.

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use tokio::sync::watch;

use super::UpstreamError;

/// The outcome of one renewal, shared by everyone who waited for it.
type Renewal = Option<Result<SecretString, UpstreamError>>;

/// A user's token, or the renewal in flight.
#[derive(Default)]
struct Slot {
    token: Option<SecretString>,
    renewing: Option<watch::Receiver<Renewal>>,
}

/// The token cache.
#[derive(Default)]
pub(crate) struct Tokens {
    map: Mutex<HashMap<i64, Slot>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Slot>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The user's token: cached, or obtained by `renew` once for all concurrent
    /// callers. `renew` is spawned only when no renewal is in flight.
    pub(crate) async fn get<F, Fut>(
        self: &std::sync::Arc<Self>,
        user: i64,
        renew: F,
    ) -> Result<SecretString, UpstreamError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SecretString, UpstreamError>> + Send + 'static,
    {
        let mut rx = {
            let mut map = self.lock();
            let slot = map.entry(user).or_default();
            if let Some(token) = &slot.token {
                return Ok(token.clone());
            }
            match &slot.renewing {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    slot.renewing = Some(rx.clone());
                    let this = self.clone();
                    let renewal = renew();
                    tokio::spawn(async move {
                        let result = renewal.await;
                        {
                            let mut map = this.lock();
                            let slot = map.entry(user).or_default();
                            slot.renewing = None;
                            if let Ok(token) = &result {
                                slot.token = Some(token.clone());
                            }
                        }
                        tx.send_replace(Some(result));
                    });
                    rx
                }
            }
        };
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| UpstreamError::Unreachable("token renewal abandoned".into()))?;
        outcome
            .clone()
            .unwrap_or_else(|| Err(UpstreamError::Unreachable("no renewal".into())))
    }

    /// Forgets `token` if it is still the cached one (another caller may have
    /// replaced it already).
    pub(crate) fn drop_token(&self, user: i64, token: &SecretString) {
        let mut map = self.lock();
        if let Some(slot) = map.get_mut(&user)
            && slot
                .token
                .as_ref()
                .is_some_and(|t| t.expose_secret() == token.expose_secret())
        {
            slot.token = None;
        }
    }

    /// Forgets the user's token (the user was deleted at Powens).
    pub(crate) fn forget(&self, user: i64) {
        self.lock().remove(&user);
    }
}
