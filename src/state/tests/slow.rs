//! A slow bank: an action that takes minutes says so after a few seconds, is never
//! sent twice, and, if its answer is lost, is followed by a fresh read rather than
//! an outage.

use super::{api_error, showing, status};
use crate::error::ClientError;
use crate::state::*;
use mend_model::api::{Action, ErrorCode};

const OTP: &str = "additionalInformationNeeded";

/// Showing the OTP form with a code sent at `t = 0`.
fn submitted() -> Machine {
    let mut m = showing(Some(OTP));
    assert_eq!(
        m.step(Event::Start(Action::Submit), 0.0),
        [Effect::Call(Action::Submit)]
    );
    m
}

#[test]
fn a_submission_says_after_a_few_seconds_that_the_bank_takes_its_time() {
    let mut m = submitted();
    assert!(!m.slow());
    assert!(m.needs_clock(), "the clock runs to notice a slow answer");
    assert!(m.step(Event::Tick, SLOW_AFTER_MS - 1.0).is_empty());
    assert!(!m.slow());
    assert!(
        m.step(Event::Tick, SLOW_AFTER_MS).is_empty(),
        "nothing sent"
    );
    assert!(m.slow());
    assert_eq!(m.busy(), Some(Action::Submit), "still busy");
    assert!(!m.needs_clock(), "said once: no more ticks needed");
    // Minutes later, a second click sends nothing.
    assert!(m.step(Event::Start(Action::Submit), 150_000.0).is_empty());
    assert!(m.step(Event::Tick, 170_000.0).is_empty());
    // The answer ends it.
    m.step(Event::Answer(status(None)), 170_500.0);
    assert!(!m.slow());
    assert_eq!(m.busy(), None);
    assert_eq!(m.notice, Some(Notice::Resolved));
}

#[test]
fn a_sync_and_a_background_resume_say_it_too_a_redirect_does_not() {
    let mut m = showing(None);
    m.step(Event::Start(Action::Sync), 1000.0);
    m.step(Event::Tick, 1000.0 + SLOW_AFTER_MS);
    assert!(m.slow());

    let mut m = Machine::new();
    m.step(Event::Answer(status(Some("decoupled"))), 1000.0);
    assert_eq!(m.busy(), Some(Action::Resume));
    m.step(Event::Tick, 1000.0 + SLOW_AFTER_MS);
    assert!(m.slow());

    let mut m = showing(Some("SCARequired"));
    m.step(Event::Start(Action::Reconnect), 0.0);
    assert_eq!(m.busy(), Some(Action::Reconnect));
    m.step(Event::Tick, 60_000.0);
    assert!(!m.slow(), "a redirect URL is not the bank checking");
}

#[test]
fn a_new_action_starts_its_own_clock() {
    let mut m = submitted();
    m.step(Event::Tick, SLOW_AFTER_MS);
    m.step(Event::Answer(status(Some(OTP))), 5000.0);
    assert!(!m.slow());
    m.step(Event::Start(Action::Submit), 10_000.0);
    m.step(Event::Tick, 11_000.0);
    assert!(!m.slow(), "the second code has been on its way 1 s only");
}

#[test]
fn a_submission_whose_answer_is_lost_is_followed_by_a_read_not_an_outage() {
    for err in [
        api_error(ErrorCode::UpstreamTimeout),
        ClientError::from_answer(504, None, None),
        ClientError::from_answer(502, None, None),
        ClientError::Network,
        ClientError::BadAnswer,
    ] {
        let mut m = submitted();
        m.step(Event::Tick, SLOW_AFTER_MS);
        let fx = m.step(Event::Failed(err.clone()), 180_000.0);
        assert_eq!(
            fx,
            [
                Effect::EmitError {
                    code: err.code().into(),
                    message: err.message()
                },
                Effect::Fetch
            ],
            "{err:?}: read again, never send again"
        );
        assert_eq!(m.busy(), Some(Action::Submit), "{err:?}: still busy");
        assert!(m.slow(), "{err:?}: still saying the bank is checking");
        assert_eq!(m.phase_name(), "busy");
        assert!(m.step(Event::Start(Action::Submit), 180_001.0).is_empty());
        // The read: the bank never took the code, the form is shown again, and why.
        let fx = m.step(Event::Answer(status(Some(OTP))), 180_100.0);
        assert!(fx.is_empty(), "{err:?}: {fx:?}");
        assert_eq!(m.phase, Phase::Showing(status(Some(OTP))));
        assert_eq!(m.notice, Some(Notice::Unanswered));
        assert!(!m.slow());
        // The next code clears that news.
        m.step(Event::Start(Action::Submit), 200_000.0);
        assert_eq!(m.notice, None);
    }
}

#[test]
fn a_lost_answer_whose_read_finds_the_repair_done_says_so() {
    let mut m = submitted();
    m.step(
        Event::Failed(api_error(ErrorCode::UpstreamTimeout)),
        180_000.0,
    );
    let fx = m.step(Event::Answer(status(None)), 180_100.0);
    assert!(fx.contains(&Effect::EmitResolved));
    assert_eq!(m.notice, Some(Notice::Resolved));
    assert_eq!(m.data_state(), "ok");
}

#[test]
fn when_the_read_after_a_lost_answer_fails_too_the_outage_is_shown() {
    let mut m = submitted();
    m.step(
        Event::Failed(api_error(ErrorCode::UpstreamTimeout)),
        180_000.0,
    );
    let fx = m.step(Event::Failed(ClientError::Network), 180_100.0);
    assert!(!fx.contains(&Effect::Fetch), "no loop of reads: {fx:?}");
    assert!(matches!(
        &m.phase,
        Phase::Unavailable { last: Some(s), .. } if *s == status(Some(OTP))
    ));
    assert_eq!(m.notice, None, "\"as it stands now\" would not be true");
}

#[test]
fn a_plain_read_or_an_action_not_sent_still_shows_the_outage() {
    // A read that times out: nothing was sent to the bank, the outage is the truth.
    let mut m = showing(Some(OTP));
    m.step(Event::Failed(api_error(ErrorCode::UpstreamTimeout)), 0.0);
    assert_eq!(m.phase_name(), "unavailable");
    // The proxy did not send the code at all (budget spent, Powens unreachable).
    let mut m = submitted();
    let fx = m.step(
        Event::Failed(api_error(ErrorCode::UpstreamUnavailable)),
        0.0,
    );
    assert!(!fx.contains(&Effect::Fetch));
    assert_eq!(m.phase_name(), "unavailable");
    assert_eq!(m.notice, None);
}

#[test]
fn unanswered_is_only_the_ambiguous_errors() {
    assert!(api_error(ErrorCode::UpstreamTimeout).unanswered());
    assert!(api_error(ErrorCode::UpstreamError).unanswered());
    assert!(ClientError::Network.unanswered());
    for code in [
        ErrorCode::UpstreamUnavailable,
        ErrorCode::RateLimited,
        ErrorCode::ActionInFlight,
        ErrorCode::CredentialsRejected,
        ErrorCode::Internal,
    ] {
        assert!(!api_error(code.clone()).unanswered(), "{code:?}");
    }
    assert!(!ClientError::Aborted.unanswered());
}
