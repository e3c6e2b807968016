//! The Redis backend's operations, one per feature of [`crate::store::Store`]: spent
//! states, action slots, rate limits, the Powens budget, poller leases and shared
//! tokens. Each is one command or one script; on failure the store is marked down
//! and the fallback of the table in [`crate::store`] applies.

use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};

use super::{LEASE_LIFE, Redis, TOKEN_LIFE, ms};
use crate::store::local::gcra;
use crate::store::{Bucket, Charge, Lease, Nonce, Refused, StoreError, random_u64};

impl Redis {
    pub async fn epoch(&self) -> Result<String, StoreError> {
        let mut conn = self.conn()?;
        self.scripts
            .epoch
            .key(key!(self, "epoch"))
            .arg(format!("{:016x}", random_u64()))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.failed("epoch", &e))
    }

    fn nonce_keys(&self, nonce: &str) -> (String, String) {
        (key!(self, "epoch"), key!(self, "nonce:{nonce}"))
    }

    pub async fn nonce(&self, epoch: &str, nonce: &str) -> Result<Nonce, StoreError> {
        let mut conn = self.conn()?;
        let (e, n) = self.nonce_keys(nonce);
        let found: i64 = self
            .scripts
            .nonce
            .key(e)
            .key(n)
            .arg(epoch)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.failed("nonce", &e))?;
        Ok(match found {
            0 => Nonce::Fresh,
            1 => Nonce::Spent,
            _ => Nonce::OtherEpoch,
        })
    }

    pub async fn spend(
        &self,
        epoch: &str,
        nonce: &str,
        ttl: Duration,
    ) -> Result<Nonce, StoreError> {
        let mut conn = self.conn()?;
        let (e, n) = self.nonce_keys(nonce);
        let spent: i64 = self
            .scripts
            .spend
            .key(e)
            .key(n)
            .arg(epoch)
            .arg(ms(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.failed("spend", &e))?;
        Ok(match spent {
            1 => Nonce::Fresh,
            0 => Nonce::Spent,
            _ => Nonce::OtherEpoch,
        })
    }

    pub async fn take_slot(
        &self,
        user: i64,
        id: i64,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let mut conn = self.conn()?;
        let token = random_u64();
        let taken: Option<String> = redis::cmd("SET")
            .arg(key!(self, "action:{user}:{id}"))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.failed("take_slot", &e))?;
        Ok(taken.map(|_| token))
    }

    /// Runs the compare-and-delete script in the background.
    fn release(&self, key: String, owner: String) {
        let Ok(mut conn) = self.conn() else { return };
        let script = self.scripts.release.clone();
        tokio::spawn(async move {
            let _: redis::RedisResult<i64> =
                script.key(key).arg(owner).invoke_async(&mut conn).await;
        });
    }

    pub fn release_slot(&self, user: i64, id: i64, token: u64) {
        self.release(key!(self, "action:{user}:{id}"), token.to_string());
    }

    pub async fn charge(&self, charges: &[Charge]) -> Result<(), Refused> {
        let Ok(mut conn) = self.conn() else {
            return self.buckets.charge(charges);
        };
        let mut call = self.scripts.charge.prepare_invoke();
        for c in charges {
            call.key(self.bucket_key(c.bucket));
        }
        for c in charges {
            let (t, tau) = gcra(c.per_minute);
            call.arg(t.as_micros() as u64).arg(tau.as_micros() as u64);
        }
        match call.invoke_async::<redis::Value>(&mut conn).await {
            Ok(redis::Value::Array(v)) => {
                let at = |i: usize| match v.get(i) {
                    Some(redis::Value::Int(n)) => u64::try_from(*n).ok(),
                    _ => None,
                };
                let index = at(0).unwrap_or(1).saturating_sub(1) as usize;
                let wait = Duration::from_micros(at(1).unwrap_or(1_000_000));
                let bucket = charges.get(index).map_or(charges[0].bucket, |c| c.bucket);
                Err(Refused {
                    bucket,
                    retry_after: wait,
                })
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.failed("charge", &e);
                self.buckets.charge(charges)
            }
        }
    }

    fn bucket_key(&self, bucket: Bucket) -> String {
        match bucket {
            Bucket::Address(ip) => key!(self, "rl:ip:{ip}"),
            Bucket::Anonymous(ip) => key!(self, "rl:anon:{ip}"),
            Bucket::User(u) => key!(self, "rl:user:{u}"),
        }
    }

    pub async fn spend_budget(&self, limit: usize, window: Duration) -> Result<(), Duration> {
        // A 429 this replica saw holds it back even if Redis lost the pause.
        if let Some(wait) = self.local_window().paused_for(Instant::now()) {
            return Err(wait);
        }
        if let Ok(mut conn) = self.conn() {
            let spent: redis::RedisResult<u64> = self
                .scripts
                .spend_budget
                .key(key!(self, "budget:sent"))
                .key(key!(self, "budget:pause"))
                .key(key!(self, "budget:seq"))
                .arg(ms(window))
                .arg(limit.max(1))
                .invoke_async(&mut conn)
                .await;
            match spent {
                Ok(0) => return Ok(()),
                Ok(wait) => return Err(Duration::from_millis(wait)),
                Err(e) => {
                    self.failed("spend_budget", &e);
                }
            }
        }
        // Down: this replica's share of the budget, as the cluster was last seen.
        let share = (limit / self.replicas() as usize).max(1);
        self.local_window().spend(share, window, Instant::now())
    }

    pub async fn pause_budget(&self, pause: Duration) {
        self.local_window().pause(Instant::now() + pause);
        if let Ok(mut conn) = self.conn() {
            let paused: redis::RedisResult<i64> = self
                .scripts
                .pause
                .key(key!(self, "budget:pause"))
                .arg(ms(pause))
                .invoke_async(&mut conn)
                .await;
            if let Err(e) = paused {
                self.failed("pause_budget", &e);
            }
        }
    }

    pub async fn budget_paused_for(&self) -> Option<Duration> {
        let local = self.local_window().paused_for(Instant::now());
        let Ok(mut conn) = self.conn() else {
            return local;
        };
        let shared: Option<Duration> = redis::cmd("PTTL")
            .arg(key!(self, "budget:pause"))
            .query_async::<i64>(&mut conn)
            .await
            .ok()
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis);
        local.max(shared)
    }

    pub async fn budget_used(&self, window: Duration) -> usize {
        if let Ok(mut conn) = self.conn() {
            let used: redis::RedisResult<usize> = self
                .scripts
                .budget_used
                .key(key!(self, "budget:sent"))
                .arg(ms(window))
                .invoke_async(&mut conn)
                .await;
            if let Ok(n) = used {
                return n;
            }
        }
        self.local_window().used(window, Instant::now())
    }

    pub async fn lease(&self, user: i64, id: i64) -> Lease {
        let Ok(mut conn) = self.conn() else {
            self.metrics.lease("unavailable");
            return Lease::Unavailable;
        };
        let held: redis::RedisResult<i64> = self
            .scripts
            .lease
            .key(key!(self, "lease:{user}:{id}"))
            .key(key!(self, "replicas"))
            .arg(&self.rid)
            .arg(ms(LEASE_LIFE))
            .invoke_async(&mut conn)
            .await;
        let lease = match held {
            Ok(1) => Lease::Granted,
            Ok(_) => Lease::Held,
            Err(e) => {
                self.failed("lease", &e);
                Lease::Unavailable
            }
        };
        self.metrics.lease(match lease {
            Lease::Granted => "granted",
            Lease::Held => "held",
            Lease::Unavailable => "unavailable",
        });
        lease
    }

    pub fn release_lease(&self, user: i64, id: i64) {
        self.release(key!(self, "lease:{user}:{id}"), self.rid.clone());
    }

    pub async fn shared_token(&self, user: i64) -> Option<SecretString> {
        let mut conn = self.conn().ok()?;
        let blob: Option<Vec<u8>> = match redis::cmd("GET")
            .arg(key!(self, "token:{user}"))
            .query_async(&mut conn)
            .await
        {
            Ok(b) => b,
            Err(e) => {
                self.failed("token", &e);
                return None;
            }
        };
        self.token_key.open(&self.prefix, user, &blob?)
    }

    pub fn share_token(&self, user: i64, token: &SecretString) {
        let (Ok(mut conn), Some(blob)) =
            (self.conn(), self.token_key.seal(&self.prefix, user, token))
        else {
            return;
        };
        let key = key!(self, "token:{user}");
        tokio::spawn(async move {
            let _: redis::RedisResult<()> = redis::cmd("SET")
                .arg(key)
                .arg(blob)
                .arg("PX")
                .arg(ms(TOKEN_LIFE))
                .query_async(&mut conn)
                .await;
        });
    }

    pub fn unshare_token(&self, user: i64, token: Option<&SecretString>) {
        let Ok(mut conn) = self.conn() else { return };
        let key = key!(self, "token:{user}");
        let expected = token.map(|t| t.expose_secret().to_owned());
        let (token_key, prefix) = (self.token_key.clone(), self.prefix.clone());
        tokio::spawn(async move {
            if let Some(expected) = expected {
                let blob: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .ok()
                    .flatten();
                let current = blob.and_then(|b| token_key.open(&prefix, user, &b));
                if current.is_none_or(|c| c.expose_secret() != expected) {
                    return;
                }
            }
            let _: redis::RedisResult<()> =
                redis::cmd("DEL").arg(&key).query_async(&mut conn).await;
        });
    }
}
