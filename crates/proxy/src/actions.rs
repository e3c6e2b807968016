//! The actions a user sends to the bank: field values (`POST …/fields`), a decoupled
//! resume (`POST …/resume`) and a sync (`POST …/sync`).
//!
//! Each is checked against the connection's state as Powens has it now (the actions
//! of docs/api.md, [`actions_for`]), sent once and never retried, and single flight
//! per connection across every replica (a slot in the [`Store`]): a second action
//! while one is on its way to the bank is refused with `action_in_flight` rather
//! than sent (the bank may take minutes, and a second OTP would race the first).
//! While the shared store is down, actions are refused (503): a second submission
//! through another replica could not be ruled out.
//!
//! Powens' refusals are answered in words a user understands ([`refused`]): a 409 on
//! a sync is `sync_refused`; a 400 whose code names a state or carries the bank's
//! words is `credentials_rejected` (`wrongpass`) or `bank_refused`, with the
//! connection's fresh status and Powens' `message` as the bank's words, never
//! "invalid values" or an outage.

use axum::Json;
use axum::extract::State;
use mend_model::api::{Action, ConnectionStatus, FieldsSubmission, KnownErrorCode, actions_for};
use mend_model::{Connection, ConnectionState};
use std::time::{Duration, Instant};

use crate::AppState;
use crate::budget::Priority;
use crate::error::{ApiError, AppJson};
use crate::routes::{ConnId, answer};
use crate::session::Session;
use crate::store::Store;
use crate::upstream::UpstreamError;

/// How long a slot outlives a replica that died holding it: the longest an action
/// can take (a fresh read, the bank's `MEND_SUBMISSION_TIMEOUT`, a read after a
/// refusal).
pub fn slot_life(submission_timeout: Duration) -> Duration {
    submission_timeout + Duration::from_secs(60)
}

/// Holds a connection's action slot until dropped (however the action ends).
#[derive(Debug)]
pub struct Slot {
    store: Store,
    user: i64,
    id: i64,
    token: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.store.release_slot(self.user, self.id, self.token);
    }
}

/// Takes the connection's slot, or refuses: one action at a time per connection.
pub async fn take(st: &AppState, user: i64, id: i64) -> Result<Slot, ApiError> {
    let store = &st.store;
    match store
        .take_slot(user, id, slot_life(st.powens.submission_timeout()))
        .await?
    {
        Some(token) => Ok(Slot {
            store: store.clone(),
            user,
            id,
            token,
        }),
        None => Err(ApiError::ActionInFlight),
    }
}

/// Which action was refused (they read Powens' refusals differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Submit,
    Resume,
    Sync,
}

/// Powens' codes that are about the values sent, not about the bank: a form problem.
fn about_the_values(code: &str) -> bool {
    ["invalidValue", "missingParameter"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(code))
}

/// What a failed action answers. Refusals that say something about the bank are
/// answered with the connection's fresh status (one more read, for the user acting).
async fn refused(st: &AppState, user: i64, id: i64, kind: Kind, e: UpstreamError) -> ApiError {
    let Some(r) = e.refusal() else {
        return e.into();
    };
    let code = match (kind, r.status) {
        (Kind::Sync, 409) => KnownErrorCode::SyncRefused,
        (_, 400) if r.is("wrongpass") => KnownErrorCode::CredentialsRejected,
        // Powens refused the values themselves: it names no field we could trust.
        (Kind::Submit, 400) if about_the_values(&r.code) => {
            return ApiError::InvalidFields(Default::default());
        }
        (_, 400) if !about_the_values(&r.code) && (!r.code.is_empty() || r.message.is_some()) => {
            KnownErrorCode::BankRefused
        }
        _ => return e.into(),
    };
    tracing::info!(
        connection = id,
        powens_code = %r.code,
        request_id = r.request_id.as_deref().unwrap_or(""),
        answer = code.as_str(),
        "Powens refused the action"
    );
    let bank_message = r.message.clone();
    let started = Instant::now();
    let status = match st.powens.connection(user, id, Priority::User).await {
        Ok(conn) => Some(Box::new(answer(st, user, id, started, &conn))),
        Err(e) => {
            tracing::info!(connection = id, error = %e, "no fresh status after a refusal");
            None
        }
    };
    ApiError::Refused {
        code,
        status,
        bank_message,
    }
}

/// The connection as Powens has it now, and the actions it offers.
async fn current(st: &AppState, user: i64, id: i64) -> Result<(Connection, Vec<Action>), ApiError> {
    let conn = st.powens.connection(user, id, Priority::User).await?;
    let has_fields = conn.fields.as_ref().is_some_and(|f| !f.is_empty());
    let offered = actions_for(conn.effective_state(), st.settings.agent_status, has_fields);
    Ok((conn, offered))
}

/// The actions the connection offers: from a status younger than the poll interval
/// when one is known (no read spent on it), else from Powens.
async fn offered(st: &AppState, user: i64, id: i64) -> Result<Vec<Action>, ApiError> {
    match st.watchers.fresh(user, id) {
        Some(status) => Ok(status.actions),
        None => Ok(current(st, user, id).await?.1),
    }
}

/// `POST /api/v1/connections/{id}/fields`.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/fields",
    tag = "connections",
    params(("id" = i64, Path, description = "The Powens connection id")),
    request_body = FieldsSubmission,
    responses(
        (status = 200, description = "The connection after the bank got the values", body = ConnectionStatus),
        (status = 400, description = "`bad_request`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 403, description = "`agent_status_required`: credentials cannot be collected here", body = mend_model::api::ErrorBody),
        (status = 409, description = "`conflict` (no fields to submit now) or `action_in_flight`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`invalid_fields` (nothing reached Powens), `credentials_rejected` or `bank_refused`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn submit_fields(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
    AppJson(body): AppJson<FieldsSubmission>,
) -> Result<Json<ConnectionStatus>, ApiError> {
    session.check(id)?;
    let _slot = take(&st, session.user, id).await?;
    let _action = st.reads.action(session.user, id);
    // The fields are those of the connection now, not what the widget saw.
    let (conn, offered) = current(&st, session.user, id).await?;
    let credentials = matches!(
        conn.effective_state(),
        Some(ConnectionState::Wrongpass | ConnectionState::PasswordExpired)
    );
    if credentials && !st.settings.agent_status {
        return Err(ApiError::AgentStatusRequired);
    }
    // Only where a form is offered: fields Powens lists in another state (an SCA,
    // say) are not an invitation to post values.
    if !offered.contains(&Action::Submit) {
        return Err(ApiError::Conflict("the connection asks for no fields now"));
    }
    let fields = conn.fields.unwrap_or_default();
    // What is sent is what was checked: normalised values of the fields asked for.
    let values = crate::fields::check(&fields, &body.values).map_err(ApiError::InvalidFields)?;
    tracing::info!(
        connection = id,
        fields = values.len(),
        "submitting field values"
    );
    match st.powens.submit_fields(session.user, id, &values).await {
        Ok(conn) => Ok(Json(answer(&st, session.user, id, Instant::now(), &conn))),
        Err(e) => Err(refused(&st, session.user, id, Kind::Submit, e).await),
    }
}

/// What an action other than a submission holds while it runs: the connection's slot
/// (one action at a time) and the reads' guard (no stale status meanwhile).
type Held = (Slot, crate::reads::ActionGuard);

/// The start every resume and sync share: the session may touch the connection, the
/// slot is free, and the connection offers `action` now (else 409 with `refusal`).
async fn begin(
    st: &AppState,
    session: &Session,
    id: i64,
    action: Action,
    refusal: &'static str,
) -> Result<Held, ApiError> {
    session.check(id)?;
    let slot = take(st, session.user, id).await?;
    let offered = offered(st, session.user, id).await?;
    let guard = st.reads.action(session.user, id);
    if !offered.contains(&action) {
        return Err(ApiError::Conflict(refusal));
    }
    Ok((slot, guard))
}

/// `POST /api/v1/connections/{id}/resume`.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/resume",
    tag = "connections",
    params(("id" = i64, Path, description = "The Powens connection id")),
    responses(
        (status = 200, description = "The connection after the background resume was asked", body = ConnectionStatus),
        (status = 400, description = "`bad_request`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 409, description = "`conflict` (nothing to resume) or `action_in_flight`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`bank_refused`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn resume(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
) -> Result<Json<ConnectionStatus>, ApiError> {
    let _held = begin(
        &st,
        &session,
        id,
        Action::Resume,
        "not waiting for a decoupled approval",
    )
    .await?;
    match st.powens.resume(session.user, id).await {
        Ok(conn) => {
            st.watchers.resumed(session.user, id);
            Ok(Json(answer(&st, session.user, id, Instant::now(), &conn)))
        }
        Err(e) => Err(refused(&st, session.user, id, Kind::Resume, e).await),
    }
}

/// `POST /api/v1/connections/{id}/sync`: only in the states that offer it (a fine
/// connection, `SCARequired`, `actionNeeded`); elsewhere a sync with the user
/// present would start a bank login nobody asked for.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/sync",
    tag = "connections",
    params(("id" = i64, Path, description = "The Powens connection id")),
    responses(
        (status = 200, description = "The connection after the synchronisation was asked", body = ConnectionStatus),
        (status = 400, description = "`bad_request`", body = mend_model::api::ErrorBody),
        (status = 404, description = "`not_found`", body = mend_model::api::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = mend_model::api::ErrorBody),
        (status = 409, description = "`sync_refused`, `conflict` or `action_in_flight`", body = mend_model::api::ErrorBody),
        (status = 422, description = "`credentials_rejected` or `bank_refused`", body = mend_model::api::ErrorBody),
    )
)]
pub async fn sync(
    State(st): State<AppState>,
    session: Session,
    ConnId(id): ConnId,
) -> Result<Json<ConnectionStatus>, ApiError> {
    let _held = begin(
        &st,
        &session,
        id,
        Action::Sync,
        "a sync is not offered in this state",
    )
    .await?;
    match st.powens.sync(session.user, id).await {
        Ok(conn) => Ok(Json(answer(&st, session.user, id, Instant::now(), &conn))),
        Err(e) => Err(refused(&st, session.user, id, Kind::Sync, e).await),
    }
}
