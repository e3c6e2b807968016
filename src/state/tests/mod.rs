//! The machine's transitions, one behaviour per test: answers and decoupled
//! approvals here, failures in [`errors`].

mod errors;
mod refusals;
mod slow;

use super::*;
use mend_model::api::{ErrorBody, ErrorCode, ErrorDetail, actions_for};

pub(super) fn status(state: Option<&str>) -> ConnectionStatus {
    let state = state.map(ConnectionState::parse);
    ConnectionStatus {
        id: 42,
        actions: actions_for(state.as_ref(), true, true),
        state,
        message: None,
        fields: vec![],
        last_update: None,
        next_try: None,
        expire: None,
        connector: None,
        sources: vec![],
        server_time: None,
        access_expire: None,
        renew: false,
    }
}

/// A refusal as the proxy answers it, with the connection's fresh status and the
/// bank's words.
pub(super) fn refusal(
    code: ErrorCode,
    fresh: Option<ConnectionStatus>,
    words: Option<&str>,
    retry_after: Option<u64>,
) -> ClientError {
    ClientError::from_answer(
        code.http_status(),
        Some(ErrorBody {
            error: ErrorDetail {
                code,
                message: "msg".into(),
                request_id: None,
                fields: None,
                retry_after,
                status: fresh.map(Box::new),
                bank_message: words.map(str::to_owned),
            },
        }),
        None,
    )
}

/// A refusal with nothing but its code.
pub(super) fn api_error(code: ErrorCode) -> ClientError {
    refusal(code, None, None, None)
}

pub(super) fn showing(state: Option<&str>) -> Machine {
    let mut m = Machine::new();
    m.step(Event::Answer(status(state)), 0.0);
    m
}

#[test]
fn first_answer_shows_the_state_and_announces_it_without_stealing_focus() {
    let mut m = Machine::new();
    assert_eq!(m.data_state(), "loading");
    let fx = m.step(Event::Answer(status(Some("SCARequired"))), 0.0);
    assert_eq!(
        fx,
        [Effect::EmitState {
            state: Some("SCARequired".into()),
            previous: None
        }]
    );
    assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
    assert_eq!(m.data_state(), "SCARequired");
}

#[test]
fn every_documented_state_and_an_unknown_one_is_shown_with_its_data_state() {
    let mut states: Vec<String> = ConnectionState::DOCUMENTED
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    states.push("somethingNew".into());
    for s in states {
        let m = showing(Some(&s));
        assert_eq!(m.data_state(), s);
        if s == "decoupled" {
            assert_eq!(m.busy(), Some(Action::Resume), "decoupled resumes at once");
        } else {
            assert_eq!(m.phase, Phase::Showing(status(Some(&s))), "{s}");
        }
    }
    assert_eq!(showing(None).data_state(), "ok");
}

#[test]
fn only_changing_states_are_watched() {
    assert_eq!(
        showing(Some("validating")).watch_since().as_deref(),
        Some("validating")
    );
    for s in ["rateLimiting", "websiteUnavailable", "bug"] {
        assert_eq!(showing(Some(s)).watch_since().as_deref(), Some(s));
    }
    for s in [
        None,
        Some("SCARequired"),
        Some("wrongpass"),
        Some("notSupported"),
        Some("x"),
    ] {
        assert_eq!(showing(s).watch_since(), None, "{s:?}");
    }
}

#[test]
fn a_state_change_after_an_action_is_handled_like_the_first_and_moves_focus() {
    let mut m = showing(Some("actionNeeded"));
    assert_eq!(
        m.step(Event::Start(Action::Sync), 0.0),
        [Effect::Call(Action::Sync)]
    );
    assert_eq!(m.busy(), Some(Action::Sync));
    let fx = m.step(Event::Answer(status(Some("SCARequired"))), 0.0);
    assert_eq!(
        fx,
        [
            Effect::EmitState {
                state: Some("SCARequired".into()),
                previous: Some("actionNeeded".into())
            },
            Effect::Focus
        ]
    );
    assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
}

#[test]
fn coming_back_to_null_resolves() {
    let mut m = showing(Some("validating"));
    let fx = m.step(Event::Answer(status(None)), 0.0);
    assert!(fx.contains(&Effect::EmitResolved));
    assert_eq!(m.notice, Some(Notice::Resolved));
    assert_eq!(m.data_state(), "ok");
}

#[test]
fn the_same_state_again_emits_nothing() {
    let mut m = showing(Some("rateLimiting"));
    assert!(
        m.step(Event::Answer(status(Some("rateLimiting"))), 1.0)
            .is_empty()
    );
}

#[test]
fn a_newer_clock_alone_changes_nothing() {
    let mut m = showing(Some("rateLimiting"));
    let before = m.clone();
    let mut again = status(Some("rateLimiting"));
    again.server_time = Some("2026-11-25T10:00:25Z".into());
    assert!(m.step(Event::Answer(again), 1.0).is_empty());
    assert_eq!(m, before);
}

#[test]
fn no_double_submission() {
    let mut m = showing(Some("additionalInformationNeeded"));
    assert_eq!(
        m.step(Event::Start(Action::Submit), 0.0),
        [Effect::Call(Action::Submit)]
    );
    assert!(m.step(Event::Start(Action::Submit), 0.0).is_empty());
    assert!(m.step(Event::Start(Action::Sync), 0.0).is_empty());
}

#[test]
fn actions_not_offered_are_ignored() {
    let mut m = showing(Some("notSupported"));
    assert!(m.step(Event::Start(Action::Sync), 0.0).is_empty());
    let mut m = showing(Some("SCARequired"));
    assert!(m.step(Event::Start(Action::Submit), 0.0).is_empty());
}

#[test]
fn decoupled_resumes_once_then_waits_until_the_deadline_then_times_out() {
    let mut m = Machine::new();
    let mut d = status(Some("decoupled"));
    d.expire = Some("2026-11-25T10:05:00Z".into());
    d.server_time = Some("2026-11-25T10:00:00Z".into());
    let fx = m.step(Event::Answer(d.clone()), 1000.0);
    assert!(fx.contains(&Effect::Call(Action::Resume)));
    assert_eq!(m.watch_since(), None, "not while resuming");
    // The resume answers: still decoupled, so wait and watch.
    assert!(m.step(Event::Answer(d.clone()), 2000.0).is_empty());
    assert_eq!(
        m.phase,
        Phase::Waiting {
            status: d.clone(),
            deadline: 1000.0 + 300_000.0,
            started: 1000.0
        }
    );
    assert_eq!(m.watch_since().as_deref(), Some("decoupled"));
    assert!(m.needs_clock());
    assert!(m.step(Event::Tick, 200_000.0).is_empty());
    assert_eq!(m.step(Event::Tick, 301_000.0), [Effect::Focus]);
    assert_eq!(m.phase, Phase::TimedOut(d.clone()));
    assert_eq!(m.watch_since(), None);
    // "Try again": a new approval window.
    assert_eq!(
        m.step(Event::Start(Action::Retry), 400_000.0),
        [Effect::Call(Action::Resume)]
    );
    m.step(Event::Answer(d.clone()), 400_500.0);
    assert!(
        matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == 400_500.0 + 300_000.0)
    );
}

#[test]
fn approved_re_check_resumes_again_keeping_the_deadline() {
    let mut m = Machine::new();
    let d = status(Some("decoupled"));
    m.step(Event::Answer(d.clone()), 0.0);
    m.step(Event::Answer(d.clone()), 10.0);
    assert_eq!(
        m.step(Event::Start(Action::Resume), 20.0),
        [Effect::Call(Action::Resume)]
    );
    m.step(Event::Answer(d.clone()), 30.0);
    assert!(matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == APPROVAL_WINDOW_MS));
    // Approved in the bank app: Powens checks (validating), still the same approval.
    m.step(Event::Answer(status(Some("validating"))), 40.0);
    assert_eq!(m.watch_since().as_deref(), Some("validating"));
    assert!(matches!(m.phase, Phase::Waiting { deadline, .. } if deadline == APPROVAL_WINDOW_MS));
    assert_eq!(m.data_state(), "validating");
    assert_eq!(m.step(Event::Start(Action::Resume), 45.0), [Effect::Fetch]);
    let fx = m.step(Event::Answer(status(None)), 50.0);
    assert!(fx.contains(&Effect::EmitResolved));
}

#[test]
fn a_reload_during_an_approval_resumes_the_wait() {
    let mut m = Machine::new();
    m.restore_approval(100.0, 50_000.0, 1_000.0);
    // Powens checks (the user hasn't approved yet): the approval's panel, no resume.
    assert!(
        m.step(Event::Answer(status(Some("validating"))), 1_000.0)
            .len()
            == 1
    );
    assert!(
        matches!(m.phase, Phase::Waiting { started, deadline, .. } if started == 100.0 && deadline == 50_000.0)
    );
    assert_eq!(m.approval(), Some((100.0, 50_000.0)));
    // Fine again: the episode is over.
    m.step(Event::Answer(status(None)), 2_000.0);
    assert_eq!(m.approval(), None);
    // An expired memory is ignored.
    let mut m = Machine::new();
    m.restore_approval(0.0, 10.0, 1_000.0);
    m.step(Event::Answer(status(Some("validating"))), 1_000.0);
    assert_eq!(m.phase, Phase::Showing(status(Some("validating"))));
}

#[test]
fn an_approval_is_remembered_once_its_resume_is_answered_not_while_it_is_sent() {
    let mut m = Machine::new();
    assert_eq!(
        m.step(Event::Answer(status(Some("decoupled"))), 0.0),
        [
            Effect::EmitState {
                state: Some("decoupled".into()),
                previous: None
            },
            Effect::Call(Action::Resume)
        ]
    );
    // On its way: a page left now must resume again on the next page.
    assert_eq!(m.approval(), None);
    m.step(Event::Answer(status(Some("validating"))), 500.0);
    assert_eq!(m.approval(), Some((0.0, APPROVAL_WINDOW_MS)));
}
