//! Failures: unreachable, refused, expired, stale, aborted; redirects and returns.

use super::{api_error, showing, status};
use crate::error::ClientError;
use crate::state::*;
use mend_model::api::{
    Action, CallbackOutcome, CallbackResult, ErrorCode, FieldProblem, RedirectKind, RedirectUrl,
};
use std::collections::BTreeMap;

#[test]
fn unreachable_backs_off_and_retries() {
    let mut m = Machine::new();
    let fx = m.step(Event::Failed(ClientError::Network), 0.0);
    assert_eq!(
        fx[0],
        Effect::EmitError {
            code: "network".into(),
            message: ClientError::Network.message()
        }
    );
    assert_eq!(m.data_state(), "unavailable");
    assert_eq!(
        m.phase,
        Phase::Unavailable {
            retry_at: 2000.0,
            last: None
        }
    );
    assert!(m.step(Event::Tick, 1000.0).is_empty());
    assert_eq!(m.step(Event::Tick, 2000.0), [Effect::Fetch]);
    m.step(Event::Failed(ClientError::Network), 2500.0);
    assert_eq!(
        m.phase,
        Phase::Unavailable {
            retry_at: 6500.0,
            last: None
        }
    );
    // The retry button fetches at once.
    assert_eq!(m.step(Event::Start(Action::Retry), 3000.0), [Effect::Fetch]);
    m.step(Event::Answer(status(None)), 3100.0);
    assert_eq!(m.data_state(), "ok");
}

#[test]
fn rate_limited_waits_as_told() {
    let mut m = showing(None);
    m.step(Event::Start(Action::Sync), 0.0);
    let err = ClientError::from_answer(429, None, Some(30));
    m.step(Event::Failed(err), 0.0);
    assert!(
        matches!(m.phase, Phase::Unavailable { retry_at, last: Some(_) } if retry_at == 30_000.0)
    );
}

#[test]
fn session_expired_waits_for_a_new_session() {
    let mut m = showing(Some("wrongpass"));
    let fx = m.step(Event::Failed(api_error(ErrorCode::SessionExpired)), 0.0);
    assert_eq!(fx, [Effect::EmitSessionExpired, Effect::Focus]);
    assert_eq!(m.phase, Phase::SessionExpired);
    assert_eq!(m.data_state(), "wrongpass");
    assert_eq!(m.step(Event::Reset { forget: false }, 0.0), [Effect::Fetch]);
    assert_eq!(m.phase, Phase::Loading);
    // Same state again after the new session: no mend:state.
    assert!(
        m.step(Event::Answer(status(Some("wrongpass"))), 0.0)
            .is_empty()
    );
}

#[test]
fn a_new_connection_forgets_the_old_state() {
    let mut m = showing(Some("wrongpass"));
    m.step(Event::Reset { forget: true }, 0.0);
    let fx = m.step(Event::Answer(status(Some("wrongpass"))), 0.0);
    assert_eq!(fx.len(), 1);
}

#[test]
fn not_found_is_its_own_phase() {
    let mut m = Machine::new();
    m.step(Event::Failed(api_error(ErrorCode::NotFound)), 0.0);
    assert_eq!(m.phase, Phase::NotFound);
    assert_eq!(m.data_state(), "unavailable");
}

#[test]
fn credentials_rejected_keeps_the_form_with_a_notice() {
    let mut m = showing(Some("wrongpass"));
    m.step(Event::Start(Action::Submit), 0.0);
    let fx = m.step(
        Event::Failed(api_error(ErrorCode::CredentialsRejected)),
        0.0,
    );
    assert!(matches!(&fx[0], Effect::EmitError { code, .. } if code == "credentials_rejected"));
    assert_eq!(m.notice, Some(Notice::CredentialsRejected(None)));
    assert_eq!(m.phase, Phase::Showing(status(Some("wrongpass"))));
    // And the user can send again.
    assert_eq!(
        m.step(Event::Start(Action::Submit), 0.0),
        [Effect::Call(Action::Submit)]
    );
}

#[test]
fn invalid_fields_are_kept_per_field() {
    let mut m = showing(Some("additionalInformationNeeded"));
    m.step(Event::Start(Action::Submit), 0.0);
    let mut fields = BTreeMap::new();
    fields.insert("otp".to_owned(), FieldProblem::Pattern);
    let err = ClientError::Api {
        status: 422,
        code: ErrorCode::InvalidFields,
        message: String::new(),
        request_id: None,
        fields: fields.clone(),
        retry_after: None,
        refusal: None,
    };
    m.step(Event::Failed(err), 0.0);
    assert_eq!(m.notice, Some(Notice::InvalidFields(fields)));
}

#[test]
fn conflict_refetches() {
    let mut m = showing(Some("webauthRequired"));
    m.step(Event::Start(Action::Webauth), 0.0);
    assert_eq!(
        m.step(Event::Failed(api_error(ErrorCode::Conflict)), 0.0),
        [Effect::Fetch]
    );
    assert_eq!(m.phase, Phase::Showing(status(Some("webauthRequired"))));
}

#[test]
fn aborted_requests_change_nothing() {
    let mut m = showing(Some("SCARequired"));
    let before = m.clone();
    assert!(m.step(Event::Failed(ClientError::Aborted), 0.0).is_empty());
    assert_eq!(m, before);
}

#[test]
fn redirect_is_announced_and_can_be_prevented() {
    let mut m = showing(Some("SCARequired"));
    m.step(Event::Start(Action::Reconnect), 0.0);
    let url = RedirectUrl {
        kind: RedirectKind::Reconnect,
        url: "https://w".into(),
    };
    assert_eq!(
        m.step(Event::RedirectReady(url.clone()), 0.0),
        [Effect::EmitRedirect(url)]
    );
    assert_eq!(m.phase_name(), "redirecting");
    assert!(m.step(Event::Start(Action::Reconnect), 0.0).is_empty());
    m.step(Event::RedirectPrevented, 0.0);
    assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
}

#[test]
fn a_return_shows_its_outcome() {
    let mut m = showing(Some("SCARequired"));
    let fx = m.step(
        Event::Returned(CallbackResult {
            connection_id: 42,
            kind: RedirectKind::Reconnect,
            outcome: CallbackOutcome::Completed,
            error: None,
            status: status(None),
        }),
        0.0,
    );
    assert!(fx.contains(&Effect::EmitResolved));
    assert_eq!(m.notice, Some(Notice::Resolved));
    let mut m = showing(Some("SCARequired"));
    m.step(
        Event::Returned(CallbackResult {
            connection_id: 42,
            kind: RedirectKind::Reconnect,
            outcome: CallbackOutcome::Cancelled,
            error: Some("access_denied".into()),
            status: status(Some("SCARequired")),
        }),
        0.0,
    );
    assert_eq!(m.notice, Some(Notice::Returned(CallbackOutcome::Cancelled)));
    assert_eq!(m.step(Event::Start(Action::Dismiss), 0.0), []);
    assert_eq!(m.notice, None);
}

fn returned(outcome: CallbackOutcome, state: Option<&str>) -> Event {
    Event::Returned(CallbackResult {
        connection_id: 42,
        kind: RedirectKind::Reconnect,
        outcome,
        error: None,
        status: status(state),
    })
}

#[test]
fn a_completed_return_that_powens_has_not_caught_up_with_is_watched_a_little() {
    // Back from the webview: Powens still reads SCARequired for a few seconds.
    let mut m = Machine::new();
    m.step(
        returned(CallbackOutcome::Completed, Some("SCARequired")),
        0.0,
    );
    assert_eq!(m.notice, Some(Notice::Returned(CallbackOutcome::Completed)));
    assert_eq!(m.watch_since().as_deref(), Some("SCARequired"));
    // The long poll sees it move on: then the usual rules (validating is watched).
    m.step(Event::Answer(status(Some("validating"))), 4000.0);
    assert_eq!(m.watch_since().as_deref(), Some("validating"));
    m.step(Event::Answer(status(None)), 8000.0);
    assert_eq!(m.watch_since(), None);
    assert_eq!(m.notice, Some(Notice::Resolved));
}

#[test]
fn the_watch_after_a_return_ends_after_a_few_quiet_long_polls() {
    let mut m = showing(Some("SCARequired"));
    m.step(
        returned(CallbackOutcome::Completed, Some("SCARequired")),
        0.0,
    );
    for _ in 0..SETTLE_POLLS {
        assert!(m.watch_since().is_some());
        m.step(Event::Answer(status(Some("SCARequired"))), 25_000.0);
    }
    assert_eq!(m.watch_since(), None, "nothing changed: stop asking");
    // A cancelled or failed return is not watched at all.
    for outcome in [CallbackOutcome::Cancelled, CallbackOutcome::Failed] {
        let mut m = showing(Some("SCARequired"));
        m.step(returned(outcome, Some("SCARequired")), 0.0);
        assert_eq!(m.watch_since(), None, "{outcome:?}");
    }
}
