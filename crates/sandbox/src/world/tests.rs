//! The world's scripted transitions, driven through the demo connections.

use super::submit::digit_pattern;
use super::*;
use mend_model::ConnectionState as S;

const NOW: i64 = 1_764_000_000_000;

fn demo() -> (World, SandboxConfig) {
    let cfg = SandboxConfig::demo("http://sandbox.test");
    (crate::demo::world(NOW, &cfg), cfg)
}

#[test]
fn transient_states_recover_by_themselves_at_next_try() {
    let (mut w, cfg) = demo();
    let next_try = w.conns[&110].next_try_ms.unwrap();
    assert_eq!(next_try, NOW + 10 * 60_000);
    w.advance(next_try - 1, &cfg);
    assert_eq!(w.conns[&110].state, Some(S::RateLimiting));
    w.advance(next_try, &cfg);
    assert_eq!(w.conns[&110].state, None);
    assert_eq!(w.conns[&110].last_update_ms, Some(next_try));
    assert_eq!(w.conns[&111].state, Some(S::WebsiteUnavailable));
}

#[test]
fn an_approval_given_while_decoupled_is_kept_for_the_next_resume() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&105).unwrap();
    assert!(c.resume(NOW, &cfg), "waits for the approval");
    c.resume_timed_out(NOW + 1, &cfg);
    assert_eq!(c.state, Some(S::Decoupled));
    assert_eq!(c.bank_app_request(), Some(BankRequest::Approval));
    assert!(c.bank_decision(BankDecision::Approve, NOW + 2, &cfg));
    assert_eq!(
        c.state,
        Some(S::Decoupled),
        "approval alone does not resume"
    );
    assert!(!c.resume(NOW + 3, &cfg), "nothing left to wait for");
    assert_eq!(c.state, None);
    assert_eq!(c.last_update_ms, Some(NOW + 3));
}

#[test]
fn a_refusal_ends_the_request_and_the_next_resume_sends_a_new_one() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&105).unwrap();
    assert!(c.bank_decision(BankDecision::Refuse, NOW, &cfg));
    assert_eq!(c.state, Some(S::Decoupled));
    assert_eq!(
        c.error_message.as_deref(),
        Some("Access refused in the bank app")
    );
    assert_eq!(c.bank_app_request(), None, "no longer listed");
    assert!(c.resume(NOW + 1, &cfg), "waits for the new request");
    assert_eq!(c.bank_app_request(), Some(BankRequest::Approval));
    assert!(c.bank_decision(BankDecision::Refuse, NOW + 2, &cfg));
    assert_eq!(c.state, Some(S::Decoupled));
    assert_eq!(c.bank_app_request(), None);
}

#[test]
fn three_wrong_codes_send_a_new_one() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&104).unwrap();
    let wrong: Values = [("otp".to_owned(), "000000".to_owned())].into();
    for expected in [
        "Incorrect code, 2 tries left",
        "Incorrect code, 1 try left",
        "Too many incorrect codes: a new code was sent by SMS",
        "Incorrect code, 2 tries left",
    ] {
        let out = c.submit(&wrong, NOW, &cfg, false).unwrap();
        assert_eq!(out, Submitted::Rejected(expected.into()));
        assert_eq!(c.state, Some(S::AdditionalInformationNeeded));
    }
}

#[test]
fn refresh_auth_sends_a_fine_psd2_connection_to_the_bank() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&101).unwrap();
    c.refresh_auth(NOW, &cfg).unwrap();
    assert_eq!(c.state, Some(S::WebauthRequired));
    assert_eq!(c.sources[0].state, Some(S::WebauthRequired));
    assert!(c.expire_ms.is_some());
}

#[test]
fn an_auto_approving_scenario_approves_after_the_delay() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&102).unwrap();
    c.sync(NOW, &cfg, true);
    assert_eq!(c.state, Some(S::Decoupled));
    let at = NOW + ms(cfg.decoupled_delay);
    assert!(c.resume(at - 1, &cfg));
    c.advance(at, &cfg);
    assert_eq!(c.state, None);
}

#[test]
fn a_lagging_repair_reads_old_then_validating_then_fine() {
    let (mut w, _) = demo();
    let c = w.conns.get_mut(&123).unwrap();
    assert_eq!(c.scenario.lag_ms, 4000);
    c.confirm(NOW);
    assert_eq!(c.state, None, "repaired at once");
    assert_eq!(c.shown_state(NOW + 1), Some(Some(S::ScaRequired)));
    assert_eq!(c.shown_state(NOW + 4001), Some(Some(S::Validating)));
    assert_eq!(c.shown_state(NOW + 8001), None, "then the outcome");
    assert_eq!(c.lag, None);
}

#[test]
fn a_refusal_holds_its_state_with_what_it_needs() {
    let (mut w, cfg) = demo();
    let c = w.conns.get_mut(&118).unwrap();
    c.hold(S::Wrongpass, Some("no".into()), NOW);
    assert_eq!(c.state, Some(S::Wrongpass));
    let names: Vec<_> = c.fields.iter().flatten().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["login", "password"]);
    let right: Values = [("login", DEMO_LOGIN), ("password", DEMO_PASSWORD)]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    assert_eq!(
        c.submit(&right, NOW, &cfg, false).unwrap(),
        Submitted::Accepted
    );
    let c = w.conns.get_mut(&119).unwrap();
    c.hold(S::WebsiteUnavailable, None, NOW);
    assert_eq!(c.next_try_ms, Some(NOW + 30 * 60_000));
    c.advance(NOW + 30 * 60_000, &cfg);
    assert_eq!(c.state, None, "Powens retried it");
}

#[test]
fn digit_patterns_are_understood() {
    assert_eq!(digit_pattern("^[0-9]{6}$"), Some((6, 6)));
    assert_eq!(digit_pattern("^\\d{4,8}$"), Some((4, 8)));
    assert_eq!(digit_pattern("^[a-z]+$"), None);
}
