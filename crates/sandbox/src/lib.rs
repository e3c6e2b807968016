//! # mend-sandbox
//!
//! A faithful, offline simulator of the Powens endpoints Mend uses (described in
//! `docs/sandbox.md`): the `/2.0` API, the Reconnect webview, the bank's
//! webauth page and a "bank app" where decoupled approvals are given. The proxy
//! runs it in-process (nested at `/sandbox`) when no Powens domain is configured;
//! tests [`spawn`] it on a free port; integrators run the `mend-sandbox` binary.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sb = mend_sandbox::spawn(|cfg| cfg.decoupled_delay = std::time::Duration::from_millis(200)).await?;
//! println!("Powens API root: {}/2.0", sb.url);
//! # Ok(()) }
//! ```
//!
//! ## Routes
//!
//! Paths are relative to [`SandboxConfig::public_base`].
//!
//! | route | what |
//! |---|---|
//! | `POST /2.0/auth/init` | new user; permanent token with the client credentials, else temporary (30 min) |
//! | `POST /2.0/auth/renew` | `{grant_type:"client_credentials", client_id, client_secret, id_user, revoke_previous}` → `{access_token, token_type:"Bearer"}` |
//! | `GET /2.0/auth/token/code?type=singleAccess\|requestAccess` | temporary code (bearer); `POST` (legacy) too |
//! | `POST /2.0/auth/token/access` | exchange a temporary code for a permanent token |
//! | `DELETE /2.0/auth/token` | revoke the bearer token → 204 |
//! | `GET /2.0/connectors[?expand=fields]` | the demo connectors (no auth) |
//! | `GET /2.0/users/{me\|id}/connections[?expand=connector,sources]` | `{connections:[…]}` |
//! | `POST /2.0/users/{me\|id}/connections` | create (`id_connector` or `connector_uuid`, `login=demo`, `password=1234`) |
//! | `GET\|POST\|PUT\|DELETE /2.0/users/{me\|id}/connections/{id}` | read / update-resume-submit / sync / delete |
//! | `GET /2.0/users/{me\|id}/connections/{id}/sources` | `{sources:[…]}` |
//! | `GET /2.0/webauth-url?client_id&id_connection&redirect_uri&state&source` | `{url}` of the bank page; 409 `invalidValue` when fine |
//! | `GET /2.0/webauth?…&token=CODE` | browser entry: 302 to the bank page |
//! | `GET /webview/{lang}/reconnect?domain&client_id&code&connection_id&redirect_uri&state` | Reconnect webview (also `/webview/reconnect`, and the legacy `/2.0/auth/webview/{lang}/reconnect`, `/2.0/auth/webview/reconnect` without `domain`) |
//! | `GET,POST /webview/session/{id}` | the webview's page and its form |
//! | `GET,POST /bank/authorize?ticket=…` | the bank's webauth page: Authorize / Deny |
//! | `GET,POST /bank/app` | the bank app: Approve / Refuse decoupled requests, accept new terms |
//! | `GET /` | an index page linking the above; `GET /sandbox.css` their style sheet |
//! | `DELETE /2.0/users/{me\|id}` | deletes the user, their connections and tokens → 204 |
//! | `GET,DELETE /_sandbox/requests`, `PUT /_sandbox/faults`, `POST /_sandbox/reset`, `GET /_sandbox/connections`, `PUT /_sandbox/connections/{id}/scenario`, `POST /_sandbox/users/{id}/revoke-tokens`, `POST /_sandbox/connections/{id}/retry-now`, `GET,PUT,DELETE /_sandbox/clock` | control routes (not logged, never faulted) |
//!
//! Every `/2.0` request is recorded ([`Sandbox::requests`]); [`Faults`] apply to the
//! JSON API under `/2.0` only, never to HTML pages or control routes. Bodies may be
//! JSON or `application/x-www-form-urlencoded`.
//!
//! ## Scenarios (the demo data set, user [`DEMO_USER_ID`])
//!
//! | id | state | repaired by | wrong answer |
//! |---|---|---|---|
//! | 101 | `null` | — (sync keeps it fine; webauth-url → 409) | |
//! | 102 | `SCARequired` | webview Confirm; or sync (`PUT`, `psu_requested` default true) → `decoupled`, auto-approved after `decoupled_delay`, then resume | `psu_requested=false`: stays |
//! | 103 | `webauthRequired` | webauth-url → bank page Authorize; or webview | Deny → `error=access_denied` |
//! | 104 | `additionalInformationNeeded` (`otp`, `^[0-9]{6}$`) | `otp=123456` | other 6 digits: stays, `error_message` "Incorrect code, 2 tries left" (then 1, then a new code is "sent"); not 6 digits: 400 `invalidValue` |
//! | 105 | `decoupled` | resume, then Approve in the bank app (an approval given before the resume counts) | Refuse → `decoupled`, "Access refused in the bank app"; the next resume asks again |
//! | 106 | `validating` | itself, after `validating_delay` | |
//! | 107 | `actionNeeded` | accept the terms in the bank app, then sync | sync before: stays |
//! | 108 | `passwordExpired` (`login`, `password`) | `login=demo`, any new password | other login: 400 `wrongpass` |
//! | 109 | `wrongpass` (`login`, `password`) | `login=demo`, `password=1234` | 400 `wrongpass`, state kept |
//! | 110 / 111 / 112 | `rateLimiting` / `websiteUnavailable` / `bug` | itself at `next_try` (+10 / +30 / +60 min) | |
//! | 113 / 114 | `notSupported` / `someFutureState` | nothing | |
//! | 115 | `SCARequired`, sources `openapi`=`SCARequired`, `directaccess`=`null` | webauth-url or webview; a sync → `webauthRequired` | |
//! | 116 | `additionalInformationNeeded`, one field per type | valid values (8 digits, 4 digits, date, `par`/`pro`, optional number, optional `hidden`) | 400 `invalidValue` / `missingParameter` |
//! | 117–125 | real-Powens answers ([`Scenario`]): sync refused 409, `wrongpass` on a code, a 400 `websiteUnavailable` sync, `bankMessage`, a slow bank, nulls and legacy bodies, a lagging read, bank access expiring in 10 days, a token revoked with 403 | see docs/sandbox.md | |
//! | 201 | `null`, user 2 | — | user 1 gets 404 |
//!
//! A repaired connection is `null` with `last_update` = now. `expire` is now +
//! `approval_expiry` (2 h) while an SCA / approval is pending; transient states carry `next_try`.
//!
//! Timings (all in [`SandboxConfig`]): `decoupled_delay` (3 s) auto-approval;
//! `validating_delay` (3 s) for 106 and background submissions; `blocking_limit`
//! (20 s) for a blocking resume; `approval_expiry` (2 h) after which a resumed,
//! unapproved connection falls back to `decoupled`; codes live 10 min (single) /
//! 30 min (request); `fault_hang` (60 s) for the timeout fault.
//!
//! ## Where Powens' documentation is ambiguous, and what the sandbox does
//!
//! - **Create status**: `201` (DOC) with the connection; `202` (legacy, DOC-DESIGN) when
//!   the bank asks for more (connector 42, Caisse Fictive, asks for the SMS code
//!   `123456`); wrong credentials: `400 wrongpass` and nothing is created.
//! - **Update status**: `POST`/`PUT` on a connection answer `200` with the connection.
//!   Submissions that Powens accepts answer `200` even
//!   when the connection stays in an error state ("resumed or set to another error state").
//! - **`resume`**: `true`, `"true"` (JSON or form) all count; `resume` on a connection
//!   that is not `decoupled`/`validating` behaves as a sync with the user present.
//! - **Empty body** `POST`: a sync (as `PUT` with the user present).
//! - **Unknown body keys** (not a field, not `resume`/`active`/`expire`/`source`/`refresh_auth`):
//!   400 `invalidValue` (undocumented; strict so integrator bugs show). A missing required
//!   field: 400 `missingParameter`.
//! - **Wrong OTP**: not a 400 — the connection stays `additionalInformationNeeded` with
//!   `error_message` "Incorrect code, N tries left" (only `wrongpass` is documented as a 400).
//! - **Decoupled timeout**: a blocking resume waits `blocking_limit`, then answers the
//!   connection back in `decoupled` ("Still waiting for your approval…") with the approval
//!   still pending; a background resume stays `validating` until approved, refused
//!   (→ `decoupled`, "Access refused in the bank app") or `expire` passes (→ `decoupled`,
//!   "The approval request expired…", new `expire`). A refused or expired request
//!   leaves the bank app; the next resume sends a new one.
//! - **Rate limit** (fault): `429` with `Retry-After: N` and `{code:"tooManyRequests"}`
//!   — Powens documents no over-limit answer; 429 + Retry-After is what clients assume.
//! - **`request_id`**: a string (`"sbx-00000042"`, the spec's type; the docs say integer).
//! - **401 codes**: `unauthorized` (missing, unknown, revoked or expired bearer token) and
//!   `invalidClient` (wrong client credentials); undocumented names. Another user's id in
//!   the path, or another user's connection: 404 `notFound`.
//! - **Webview errors**: cancel → `error=access_denied`; a bad, used or expired code, or a
//!   connection not the code's user's → `error=server_error` (the SDK's `session_expired`
//!   is undocumented). A wrong `client_id`, `domain` or `redirect_uri` → an HTML error page,
//!   never a redirect. Success → `redirect_uri?state=…` only (nothing if no state).
//!   The webview's Confirm stands in for the bank's own step (SCA, webauth, decoupled)
//!   and repairs at once; `reset_credentials` and `connection_sources` are accepted and
//!   ignored (the webview only ever asks for what the state needs).
//! - **`domain`** is accepted as `mend-sandbox.biapi.pro` or `mend-sandbox`; `{lang}` is optional.
//! - **`redirect_uri`** must be absolute http(s), without query or fragment, and in
//!   `redirect_uris` when set.
//! - **Webauth return**: `?id_connection=ID&state=S` on success; `?error=access_denied&error_description=…&state=S`
//!   on deny. `state` is omitted when none was given.
//! - **`wrongpass` spelling**: `wrongpass`.

mod api;
mod demo;
mod error;
mod faults;
mod html;
mod pages;
pub mod scenario;
pub mod webhooks;
mod world;

pub use demo::DemoConnection;
pub use faults::{FaultKind, Faults, LOG_CAPACITY, RecordedRequest};
pub use scenario::{Refusal, Scenario};
pub use webhooks::WebhookTarget;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The demo client id (Powens client ids are digit strings).
pub const DEMO_CLIENT_ID: &str = "10000001";
/// The demo client secret.
pub const DEMO_CLIENT_SECRET: &str = "mend-sandbox-client-secret";
/// The demo user, owner of connections 101–125.
pub const DEMO_USER_ID: i64 = 1;
/// The demo domain (the webview's `domain` parameter).
pub const DEMO_DOMAIN: &str = "mend-sandbox.biapi.pro";

/// How a [`Sandbox`] behaves. Build it with [`SandboxConfig::demo`] and adjust fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// Absolute URL where [`Sandbox::router`] is reachable, without trailing slash,
    /// e.g. `http://127.0.0.1:8787/sandbox`. Used in the URLs the sandbox hands out.
    pub public_base: String,
    /// Accepted client id. Default [`DEMO_CLIENT_ID`].
    pub client_id: String,
    /// Accepted client secret. Default [`DEMO_CLIENT_SECRET`].
    pub client_secret: String,
    /// Accepted webview `domain`. Default [`DEMO_DOMAIN`].
    pub domain: String,
    /// The "console whitelist" of redirect URIs; `None` (default) = any absolute http(s) URI.
    pub redirect_uris: Option<Vec<String>>,
    /// Delay before the user approves by themselves, in scenarios that auto-approve
    /// (102 after a sync). Default 3 s.
    pub decoupled_delay: Duration,
    /// How long a `validating` lasts before turning fine (106, background
    /// submissions). Default 3 s.
    pub validating_delay: Duration,
    /// How long a blocking (`background` unset) resume waits for the approval. Default 20 s.
    pub blocking_limit: Duration,
    /// `expire` of a pending SCA / approval; a resumed connection still unapproved then
    /// falls back to `decoupled`. Default 2 h.
    pub approval_expiry: Duration,
    /// Lifetime of `singleAccess` codes. Default 10 min.
    pub single_access_ttl: Duration,
    /// Lifetime of `requestAccess` codes and temporary tokens. Default 30 min.
    pub request_access_ttl: Duration,
    /// How long the `Timeout` fault hangs before answering 504. Default 60 s.
    pub fault_hang: Duration,
    /// IANA zone of the naive dates the sandbox writes and reads, as Powens' (whose
    /// dates are Europe/Paris wall times). Default `Europe/Paris`; an unknown name
    /// falls back to it.
    pub timezone: String,
    /// Where to send signed webhooks (`None`, the default: none are sent). See
    /// [`webhooks`].
    pub webhooks: Option<WebhookTarget>,
}

impl SandboxConfig {
    /// The demo configuration: demo client, any redirect URI, default timings.
    pub fn demo(public_base: impl Into<String>) -> Self {
        Self {
            public_base: public_base.into().trim_end_matches('/').to_owned(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            domain: DEMO_DOMAIN.to_owned(),
            redirect_uris: None,
            decoupled_delay: Duration::from_secs(3),
            validating_delay: Duration::from_secs(3),
            blocking_limit: Duration::from_secs(20),
            approval_expiry: Duration::from_secs(2 * 3600),
            single_access_ttl: Duration::from_secs(600),
            request_access_ttl: Duration::from_secs(1800),
            fault_hang: Duration::from_secs(60),
            timezone: "Europe/Paris".to_owned(),
            webhooks: None,
        }
    }
}

/// Now on the sandbox's clock, in milliseconds since the Unix epoch: the system's,
/// unless [`stop_clock`] stopped it. A proxy in sandbox mode reckons "soon" from it
/// (its Powens' clock), so that a stopped clock stops the proxy's dates too.
pub fn now_ms() -> i64 {
    world::now_ms()
}

/// Stops the sandbox's clock at `at_ms` (milliseconds since the Unix epoch), or with
/// `None` lets it follow the system clock again. While it is stopped, everything the
/// sandbox dates (`last_update`, `next_try`, `expire`, token and code lifetimes) is
/// reckoned from that instant and nothing settles by itself, so pages showing its dates
/// look the same on every run (`PUT /_sandbox/clock {"now_ms": …}`, then
/// `POST /_sandbox/reset` to date the demo data set from it). The clock is the
/// process's: every sandbox in it shares it, so stop it only in a process that runs one
/// (mend-proxy in sandbox mode, mend-sandbox, a test binary of its own).
pub fn stop_clock(at_ms: Option<i64>) {
    world::stop_clock(at_ms);
    tracing::info!(?at_ms, "sandbox clock stopped (None: runs again)");
}

/// A simulated Powens. Cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: SandboxConfig,
    zone: jiff::tz::TimeZone,
    webhooks_started: std::sync::atomic::AtomicBool,
    /// Bumped whenever a control route rewrites the world or its clock.
    changes: tokio::sync::watch::Sender<u64>,
    world: Mutex<world::World>,
    log: Mutex<faults::Log>,
    faults: Mutex<Faults>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sandbox {
    /// A sandbox loaded with the demo data set.
    pub fn new(cfg: SandboxConfig) -> Self {
        let world = demo::world(world::now_ms(), &cfg);
        let zone = jiff::tz::TimeZone::get(&cfg.timezone).unwrap_or_else(|_| {
            tracing::warn!(zone = %cfg.timezone, "unknown time zone; the sandbox uses Europe/Paris");
            jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC)
        });
        Self {
            inner: Arc::new(Inner {
                zone,
                webhooks_started: std::sync::atomic::AtomicBool::new(false),
                changes: tokio::sync::watch::Sender::new(0),
                cfg,
                world: Mutex::new(world),
                log: Mutex::new(faults::Log::default()),
                faults: Mutex::new(Faults::default()),
            }),
        }
    }

    /// Ticks whenever a control operation (reset, retry-now, a scenario, a token
    /// revocation) changed the world or skipped time, which a client of the real
    /// Powens could not see coming: an in-process client (the proxy in sandbox mode)
    /// then forgets what it knew.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// All routes, with relative paths (nest it anywhere; set `public_base` to match).
    pub fn router(&self) -> axum::Router {
        webhooks::start(self);
        let api = api::routes().route_layer(axum::middleware::from_fn_with_state(
            self.clone(),
            faults::fault_layer,
        ));
        let logged =
            api.merge(pages::legacy_routes())
                .route_layer(axum::middleware::from_fn_with_state(
                    self.clone(),
                    faults::log_layer,
                ));
        logged
            .merge(pages::routes())
            .merge(faults::control_routes())
            .fallback(pages::fallback)
            .method_not_allowed_fallback(pages::method_not_allowed)
            .with_state(self.clone())
    }

    /// The request log: every `/2.0` request since the last clear, oldest first (the
    /// last [`LOG_CAPACITY`] of them).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.log).entries()
    }

    /// The requests logged after sequence number `after` ([`RecordedRequest::seq`]).
    pub fn requests_after(&self, after: u64) -> Vec<RecordedRequest> {
        lock(&self.inner.log).entries_after(after)
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.inner.log).clear();
    }

    /// Switches faults (replaces the previous ones; `Faults::default()` = off).
    pub fn set_faults(&self, faults: Faults) {
        tracing::info!(?faults, "sandbox faults set");
        *lock(&self.inner.faults) = faults;
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).clone()
    }

    /// Back to the demo data set; log cleared, faults off, codes and pending webview or
    /// webauth sessions forgotten. Users and tokens are kept.
    pub fn reset(&self) {
        let fresh = demo::world(world::now_ms(), &self.inner.cfg);
        let mut w = lock(&self.inner.world);
        // Tokens survive a reset: a proxy keeps its Powens token for its lifetime.
        let tokens = std::mem::take(&mut w.tokens);
        let users = std::mem::take(&mut w.users);
        let next_user = w.next_user;
        *w = fresh;
        w.tokens = tokens;
        w.users = users;
        w.next_user = next_user;
        drop(w);
        tracing::info!("sandbox reset to the demo data set");
        self.clear_requests();
        self.set_faults(Faults::default());
        self.changed();
    }

    /// A connection as Powens would answer it (with `connector` and `sources` expanded).
    pub fn connection(&self, id: i64) -> Option<mend_model::Connection> {
        let w = self.world();
        w.conns
            .get(&id)
            .map(|c| c.to_model(true, true, self.zone()))
    }

    /// Fast-forwards Powens' own retry of connection `id`: a `rateLimiting`,
    /// `websiteUnavailable` or `bug` connection is retried now (and recovers), a
    /// settling `validating` settles now. Returns `false` for an unknown connection.
    /// For demos and tests that cannot wait for `next_try` (minutes away).
    pub fn retry_now(&self, id: i64) -> bool {
        let now = world::now_ms();
        let mut w = lock(&self.inner.world);
        let Some(c) = w.conns.get_mut(&id) else {
            return false;
        };
        if c.next_try_ms.is_some_and(|t| t > now) {
            c.next_try_ms = Some(now);
        }
        if c.settles_at.is_some_and(|t| t > now) {
            c.settles_at = Some(now);
        }
        w.advance(now, &self.inner.cfg);
        drop(w);
        self.changed();
        true
    }

    /// Adds a copy of connection `template` (same owner, state, script and timings,
    /// a fresh id); returns the new id, `None` for an unknown template. For load tests
    /// and benchmarks that need many connections in a mix of states.
    pub fn clone_connection(&self, template: i64) -> Option<i64> {
        let mut w = self.world();
        let mut c = w.conns.get(&template)?.clone();
        let id = w.next_connection;
        w.next_connection += 1;
        c.id = id;
        for (i, s) in c.sources.iter_mut().enumerate() {
            s.id = id * 10 + 1 + i as i64;
        }
        w.conns.insert(id, c);
        Some(id)
    }

    /// Like [`Sandbox::clone_connection`], but the copy belongs to a new user of its
    /// own: returns `(user, connection)`. For load tests where every session is a
    /// different user (each one's first read renews a Powens token of its own).
    pub fn clone_connection_for_new_user(&self, template: i64) -> Option<(i64, i64)> {
        let id = self.clone_connection(template)?;
        let mut w = self.world();
        let user = w.new_user();
        w.conns.get_mut(&id)?.user = user;
        Some((user, id))
    }

    /// Sets connection `id`'s scenario (replacing its previous one); `false` for an
    /// unknown connection.
    pub fn set_scenario(&self, id: i64, scenario: Scenario) -> bool {
        let mut w = self.world();
        let Some(c) = w.conns.get_mut(&id) else {
            return false;
        };
        tracing::info!(connection = id, ?scenario, "sandbox scenario set");
        c.scenario = scenario;
        drop(w);
        self.changed();
        true
    }

    /// Revokes every token of `user` the way an old Powens did: they answer 403
    /// `{"error": "Invalid token"}` from now on.
    pub fn revoke_tokens(&self, user: i64) {
        let mut w = self.world();
        let tokens: Vec<String> = w
            .tokens
            .iter()
            .filter(|(_, t)| t.user == user)
            .map(|(k, _)| k.clone())
            .collect();
        w.revoked.extend(tokens);
        drop(w);
        self.changed();
    }

    /// The demo user's connections, for a demo page.
    pub fn demo_connections(&self) -> Vec<DemoConnection> {
        let w = self.world();
        w.conns
            .values()
            .filter(|c| c.user == DEMO_USER_ID)
            .map(DemoConnection::of)
            .collect()
    }

    /// The world, advanced to now.
    pub(crate) fn world(&self) -> MutexGuard<'_, world::World> {
        let mut w = lock(&self.inner.world);
        w.advance(world::now_ms(), &self.inner.cfg);
        w
    }

    pub(crate) fn cfg(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// The zone of the naive dates it writes and reads.
    pub(crate) fn zone(&self) -> &jiff::tz::TimeZone {
        &self.inner.zone
    }
}

/// A sandbox served on `127.0.0.1` by [`spawn`]. Dropping it stops the server.
#[derive(Debug)]
pub struct SpawnedSandbox {
    /// `http://127.0.0.1:PORT`, also its `public_base`.
    pub url: String,
    /// The sandbox, to inspect or drive it.
    pub sandbox: Sandbox,
    task: tokio::task::JoinHandle<()>,
}

impl SpawnedSandbox {
    /// The Powens API root, `{url}/2.0`.
    pub fn api_url(&self) -> String {
        format!("{}/2.0", self.url)
    }

    /// Stops the server.
    pub fn shutdown(self) {
        // Drop aborts the task.
    }
}

impl Drop for SpawnedSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves a demo sandbox on `127.0.0.1:0` in a tokio task. `configure` may adjust the
/// configuration (its `public_base` is preset to the bound URL).
pub async fn spawn(configure: impl FnOnce(&mut SandboxConfig)) -> std::io::Result<SpawnedSandbox> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut cfg = SandboxConfig::demo(url.clone());
    configure(&mut cfg);
    let sandbox = Sandbox::new(cfg);
    let app = sandbox.router();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(SpawnedSandbox { url, sandbox, task })
}
