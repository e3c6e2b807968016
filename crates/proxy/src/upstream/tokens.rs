//! Powens user tokens: one per user, renewed with single flight. Concurrent first
//! requests for one user share one renewal, which runs in its own task (a caller
//! that goes away does not cancel it for the others) and hands its outcome, failure
//! included, to every caller that waited: during an outage a hundred waiting
//! requests fail together after one renewal.
//!
//! Kept in a `moka` cache (most [`MAX_USERS`], each forgotten after [`IDLE`] unused:
//! then renewed again), and with Redis also in the [`Store`], sealed: a replica that
//! does not know a user's token asks the store before renewing it.

use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

use super::UpstreamError;
use crate::store::Store;

/// The outcome of one renewal, shared by everyone who waited for it.
type Renewal = Option<Result<SecretString, UpstreamError>>;

/// Most users whose token is kept in this process.
pub const MAX_USERS: u64 = 100_000;
/// A token unused this long is forgotten here (it stays valid at Powens).
pub const IDLE: Duration = Duration::from_secs(24 * 3600);

/// The token cache.
pub(crate) struct Tokens {
    tokens: Cache<i64, SecretString>,
    renewing: Mutex<HashMap<i64, watch::Receiver<Renewal>>>,
    store: Store,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// An empty cache, sharing tokens through `store` when it is shared.
    pub(crate) fn new(store: Store) -> Self {
        Self {
            tokens: Cache::builder()
                .max_capacity(MAX_USERS)
                .time_to_idle(IDLE)
                .build(),
            renewing: Mutex::default(),
            store,
        }
    }

    /// The user's token: cached here, shared by another replica, or obtained by
    /// `renew` once for all concurrent callers of this replica.
    pub(crate) async fn get<F, Fut>(
        self: &std::sync::Arc<Self>,
        user: i64,
        renew: F,
    ) -> Result<SecretString, UpstreamError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SecretString, UpstreamError>> + Send + 'static,
    {
        if let Some(token) = self.tokens.get(&user) {
            return Ok(token);
        }
        let mut rx = {
            let mut renewing = self.renewing.lock().unwrap_or_else(|p| p.into_inner());
            // Checked again under the lock: a renewal may have just ended.
            if let Some(token) = self.tokens.get(&user) {
                return Ok(token);
            }
            match renewing.get(&user) {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    renewing.insert(user, rx.clone());
                    let this = self.clone();
                    let renewal = renew();
                    tokio::spawn(async move {
                        let result = match this.store.shared_token(user).await {
                            Some(token) => Ok(token),
                            None => {
                                let result = renewal.await;
                                if let Ok(token) = &result {
                                    this.store.share_token(user, token);
                                }
                                result
                            }
                        };
                        if let Ok(token) = &result {
                            this.tokens.insert(user, token.clone());
                        }
                        this.renewing
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&user);
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

    /// Forgets `token` if it is still the one kept (another caller may have
    /// replaced it already), here and in the store.
    pub(crate) fn drop_token(&self, user: i64, token: &SecretString) {
        if self
            .tokens
            .get(&user)
            .is_some_and(|t| t.expose_secret() == token.expose_secret())
        {
            self.tokens.invalidate(&user);
        }
        self.store.unshare_token(user, Some(token));
    }

    /// Forgets the user's token (the user was deleted at Powens).
    pub(crate) fn forget(&self, user: i64) {
        self.tokens.invalidate(&user);
        self.store.unshare_token(user, None);
    }
}
