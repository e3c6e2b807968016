//! Refusals that say what the connection is now (`status`) and what the bank said
//! (`bank_message`): the panel of the fresh state, the bank's words beside it, and no
//! retry of a refused sync.

use super::*;
use crate::i18n::EN;

#[test]
fn a_wrongpass_after_an_otp_shows_the_credentials_panel_with_the_bank_s_words() {
    let mut m = showing(Some("additionalInformationNeeded"));
    m.step(Event::Start(Action::Submit), 0.0);
    let fx = m.step(
        Event::Failed(refusal(
            ErrorCode::CredentialsRejected,
            Some(status(Some("wrongpass"))),
            Some("Mot de passe incorrect"),
            None,
        )),
        0.0,
    );
    assert_eq!(m.phase, Phase::Showing(status(Some("wrongpass"))));
    assert_eq!(m.data_state(), "wrongpass", "never the OTP form again");
    assert_eq!(
        m.notice,
        Some(Notice::CredentialsRejected(Some(
            "Mot de passe incorrect".into()
        )))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::EmitState { state: Some(s), .. } if s == "wrongpass"))
    );
    assert_eq!(fx.iter().filter(|e| **e == Effect::Focus).count(), 1);
    assert!(m.busy().is_none());
}

#[test]
fn a_refusal_naming_a_state_shows_that_state_s_panel_and_the_bank_s_words() {
    let mut m = showing(Some("additionalInformationNeeded"));
    m.step(Event::Start(Action::Submit), 0.0);
    m.step(
        Event::Failed(refusal(
            ErrorCode::BankRefused,
            Some(status(Some("websiteUnavailable"))),
            Some("Le site de votre banque est momentanément indisponible"),
            None,
        )),
        0.0,
    );
    assert_eq!(m.data_state(), "websiteUnavailable");
    let Some(Notice::Failed(e)) = &m.notice else {
        panic!("{:?}", m.notice)
    };
    assert_eq!(
        e.bank_message(),
        Some("Le site de votre banque est momentanément indisponible")
    );
    assert_eq!(e.user_message(&EN), EN.err_bank_refused);
}

#[test]
fn a_refused_sync_says_so_frees_the_button_and_retries_nothing() {
    let mut m = showing(None);
    m.step(Event::Start(Action::Sync), 0.0);
    assert_eq!(m.busy(), Some(Action::Sync));
    let fx = m.step(
        Event::Failed(refusal(
            ErrorCode::SyncRefused,
            Some(status(None)),
            None,
            Some(60),
        )),
        0.0,
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Call(_) | Effect::Fetch)),
        "no retry: {fx:?}"
    );
    assert!(m.busy().is_none(), "the button is usable again");
    assert_eq!(m.data_state(), "ok");
    let Some(Notice::Failed(e)) = &m.notice else {
        panic!("{:?}", m.notice)
    };
    assert_eq!(e.user_message(&EN), EN.err_sync_refused);
    assert_eq!(
        m.step(Event::Start(Action::Sync), 1.0),
        [Effect::Call(Action::Sync)]
    );
}

#[test]
fn an_action_already_in_flight_is_said_and_keeps_the_panel() {
    let mut m = showing(Some("SCARequired"));
    m.step(Event::Start(Action::Sync), 0.0);
    m.step(
        Event::Failed(refusal(ErrorCode::ActionInFlight, None, None, None)),
        0.0,
    );
    assert_eq!(m.phase, Phase::Showing(status(Some("SCARequired"))));
    let Some(Notice::Failed(e)) = &m.notice else {
        panic!("{:?}", m.notice)
    };
    assert_eq!(e.user_message(&EN), EN.err_in_flight);
}

#[test]
fn a_blank_bank_message_is_no_message() {
    let e = refusal(ErrorCode::BankRefused, None, Some("  "), None);
    assert_eq!(e.bank_message(), None);
}
