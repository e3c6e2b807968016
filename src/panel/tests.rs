//! What each state shows, checked for every state (and an unknown one).

use super::*;
use crate::i18n::EN;
use crate::state::Event;
use mend_model::api::{SourceStatus, actions_for};

fn status(state: Option<&str>, agent: bool) -> ConnectionStatus {
    let state = state.map(ConnectionState::parse);
    ConnectionStatus {
        id: 1,
        actions: actions_for(state.as_ref(), agent, true),
        state,
        message: Some("Bank says hi".into()),
        fields: vec![ConnectorField {
            name: "otp".into(),
            label: "Code".into(),
            kind: mend_model::FieldType::Text,
            required: true,
            regex: None,
            values: None,
            description: None,
            auth_mechanisms: None,
            connector_sources: None,
        }],
        last_update: Some("2026-11-24T07:00:00Z".into()),
        next_try: Some("2026-11-25T10:00:00Z".into()),
        expire: None,
        connector: Some("Banque".into()),
        sources: vec![],
        server_time: None,
        access_expire: None,
        renew: false,
    }
}

fn shown(state: Option<&str>, agent: bool) -> Panel {
    let mut m = Machine::new();
    m.step(Event::Answer(status(state, agent)), 0.0);
    panel(&m, &EN)
}

fn actions(p: &Panel) -> Vec<&'static str> {
    p.buttons.iter().map(|b| b.action.as_str()).collect()
}

fn dates(p: &Panel) -> Vec<(&'static str, String)> {
    match &p.kind {
        Kind::Notice { dates, .. } => dates.iter().map(|d| (d.label, d.iso.clone())).collect(),
        _ => vec![],
    }
}

#[test]
fn every_state_gets_its_panel_heading_buttons_and_tone() {
    // (state, Agent status, panel, heading, buttons, tone), as docs/widget.md lists them.
    type Case<'a> = (
        Option<&'a str>,
        bool,
        &'a str,
        &'a str,
        &'a [&'a str],
        &'a str,
    );
    let cases: [Case<'_>; 16] = [
        (None, false, "notice", EN.ok_title, &["sync"], "ok"),
        (
            Some("SCARequired"),
            false,
            "redirect",
            EN.sca_title,
            &["reconnect", "sync"],
            "alert",
        ),
        (
            Some("webauthRequired"),
            false,
            "redirect",
            EN.webauth_title,
            &["webauth", "reconnect"],
            "alert",
        ),
        (
            Some("additionalInformationNeeded"),
            false,
            "form",
            EN.info_title,
            &[],
            "alert",
        ),
        (
            Some("decoupled"),
            false,
            "approval",
            EN.decoupled_title,
            &["resume"],
            "alert",
        ),
        (
            Some("validating"),
            false,
            "approval",
            EN.validating_title,
            &[],
            "progress",
        ),
        (
            Some("actionNeeded"),
            false,
            "redirect",
            EN.action_title,
            &["sync"],
            "alert",
        ),
        (
            Some("passwordExpired"),
            false,
            "redirect",
            EN.pw_expired_title,
            &["reconnect"],
            "alert",
        ),
        (
            Some("passwordExpired"),
            true,
            "form",
            EN.pw_expired_title,
            &["reconnect"],
            "alert",
        ),
        (
            Some("wrongpass"),
            false,
            "redirect",
            EN.wrongpass_title,
            &["reconnect"],
            "alert",
        ),
        (
            Some("wrongpass"),
            true,
            "form",
            EN.wrongpass_title,
            &["reconnect"],
            "alert",
        ),
        (
            Some("rateLimiting"),
            false,
            "notice",
            EN.rate_title,
            &[],
            "calm",
        ),
        (
            Some("websiteUnavailable"),
            false,
            "notice",
            EN.site_down_title,
            &[],
            "calm",
        ),
        (Some("bug"), false, "notice", EN.bug_title, &[], "calm"),
        (
            Some("notSupported"),
            false,
            "notice",
            EN.not_supported_title,
            &[],
            "neutral",
        ),
        (
            Some("brandNew"),
            false,
            "notice",
            EN.unknown_title,
            &[],
            "neutral",
        ),
    ];
    for (state, agent, kind, title, buttons, tone) in cases {
        let p = shown(state, agent);
        assert_eq!(p.kind.name(), kind, "{state:?} agent={agent}");
        assert_eq!(p.head.title, title, "{state:?}");
        assert_eq!(actions(&p), buttons, "{state:?} agent={agent}");
        assert_eq!(p.head.tone, tone, "{state:?}");
        assert_eq!(p.head.message.as_deref(), Some("Bank says hi"));
        assert_eq!(p.head.bank.as_deref(), Some("Banque"));
    }
}

#[test]
fn forms_appear_only_when_submit_is_offered() {
    assert!(matches!(
        shown(Some("additionalInformationNeeded"), false).kind,
        Kind::Form {
            new_password: false,
            ..
        }
    ));
    assert!(matches!(
        shown(Some("passwordExpired"), true).kind,
        Kind::Form {
            new_password: true,
            ..
        }
    ));
    let p = shown(Some("wrongpass"), false);
    assert_eq!(p.kind, Kind::Redirect);
    assert_eq!(p.head.body, Some(EN.wrongpass_reconnect));
    assert!(
        p.buttons[0].primary,
        "reconnect leads when there is no form"
    );
    assert!(!shown(Some("wrongpass"), true).buttons[0].primary);
}

#[test]
fn a_fine_connection_whose_access_ends_soon_offers_to_renew_it_calmly() {
    let mut s = status(None, true);
    s.renew = true;
    s.access_expire = Some("2026-12-10T00:00:00Z".into());
    s.actions = vec![Action::Sync, Action::Reconnect];
    let mut m = Machine::new();
    m.step(Event::Answer(s), 0.0);
    let p = panel(&m, &EN);
    assert!(matches!(p.kind, Kind::Notice { .. }));
    assert_eq!(p.head.tone, "calm");
    assert_eq!(p.head.title, EN.renew_title);
    assert_eq!(p.head.body, Some(EN.renew_body));
    assert_eq!(actions(&p), ["reconnect", "sync"]);
    assert!(p.buttons[0].primary);
    assert_eq!(
        dates(&p),
        [
            (EN.last_update, "2026-11-24T07:00:00Z".to_owned()),
            (EN.renew_before, "2026-12-10T00:00:00Z".to_owned())
        ]
    );
    assert_eq!(m.data_state(), "ok", "still fine for the host");
    // Without `renew`, the same access date says nothing.
    let mut s = status(None, true);
    s.access_expire = Some("2026-12-10T00:00:00Z".into());
    let mut m = Machine::new();
    m.step(Event::Answer(s), 0.0);
    assert_eq!(panel(&m, &EN).head.tone, "ok");
}

#[test]
fn dates_and_progress() {
    assert_eq!(
        dates(&shown(None, false)),
        [(EN.last_update, "2026-11-24T07:00:00Z".to_owned())]
    );
    assert_eq!(dates(&shown(Some("bug"), false))[0].0, EN.next_try);
    assert_eq!(
        shown(Some("validating"), false).kind,
        Kind::Approval(Progress::Spinner(EN.validating_title))
    );
    let p = panel(&Machine::new(), &EN);
    assert_eq!(p.head.title, EN.loading_title);
    assert_eq!(
        p.kind,
        Kind::Notice {
            dates: vec![],
            progress: Some(EN.loading_title)
        }
    );
}

#[test]
fn the_widget_s_own_phases() {
    let mut m = Machine::new();
    m.step(Event::Failed(crate::error::ClientError::Network), 0.0);
    let p = panel(&m, &EN);
    assert_eq!(p.head.title, EN.unavailable_title);
    assert_eq!(p.kind, Kind::Unavailable);
    assert_eq!(retry_at(&m), Some(2000.0));
    assert_eq!(actions(&p), ["retry"]);
    // A retry under way changes the countdown, not the panel.
    m.step(Event::Tick, 2000.0);
    assert_eq!(retry_at(&m), None);
    assert_eq!(panel(&m, &EN), p);
    let mut m = Machine::new();
    let d = status(Some("decoupled"), false);
    m.step(Event::Answer(d.clone()), 0.0);
    let resuming = panel(&m, &EN);
    assert_eq!(
        resuming.kind,
        Kind::Approval(Progress::Spinner(EN.starting))
    );
    // Busy or not, the same panel: only the buttons' own state follows the busy flag.
    m.step(Event::Answer(d), 0.0);
    assert!(matches!(
        panel(&m, &EN).kind,
        Kind::Approval(Progress::Countdown { .. })
    ));
    let mut m = Machine::new();
    m.step(Event::Answer(status(Some("actionNeeded"), false)), 0.0);
    let before = panel(&m, &EN);
    m.step(Event::Start(Action::Sync), 0.0);
    assert_eq!(m.busy(), Some(Action::Sync));
    assert_eq!(panel(&m, &EN), before);
}

#[test]
fn countdown_texts() {
    assert_eq!(clock_text(0), "0:00");
    assert_eq!(clock_text(119), "1:59");
    assert_eq!(clock_text(7199), "1:59:59");
    assert_eq!(clock_text(-5), "0:00");
    assert_eq!(seconds_left(0.0, 300_000.0, 1_500.0), (299, 300));
    assert_eq!(seconds_left(0.0, 300_000.0, 400_000.0), (0, 300));
    assert_eq!(seconds_left(0.0, 0.0, 0.0), (0, 1));
    assert_eq!(retry_text(&EN, Some(5_500.0), 1_000.0), "Next try in 5s");
    assert_eq!(retry_text(&EN, None, 0.0), EN.retrying);
}

#[test]
fn differing_sources_are_listed() {
    let mut s = status(Some("SCARequired"), false);
    s.sources = vec![
        SourceStatus {
            name: "openapi".into(),
            state: Some(ConnectionState::ScaRequired),
            last_update: None,
            access_expire: None,
        },
        SourceStatus {
            name: "directaccess".into(),
            state: Some(ConnectionState::Bug),
            last_update: None,
            access_expire: None,
        },
    ];
    let mut m = Machine::new();
    m.step(Event::Answer(s), 0.0);
    assert_eq!(
        panel(&m, &EN).sources,
        [Source {
            name: "directaccess".to_owned(),
            state: "bug".to_owned(),
            label: EN.src_later
        }]
    );
}
