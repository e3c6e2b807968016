//! The wire types' actions, names and error codes.

use super::*;

#[test]
fn every_state_of_the_contract_offers_what_section_7_says() {
    use ConnectionState as S;
    assert_eq!(actions_for(None, false, false), [Action::Sync]);
    assert_eq!(
        actions_for(Some(&S::ScaRequired), false, false),
        [Action::Reconnect, Action::Sync]
    );
    assert_eq!(
        actions_for(Some(&S::WebauthRequired), false, false),
        [Action::Webauth, Action::Reconnect]
    );
    assert_eq!(
        actions_for(Some(&S::AdditionalInformationNeeded), false, true),
        [Action::Submit]
    );
    assert_eq!(
        actions_for(Some(&S::Decoupled), false, false),
        [Action::Resume]
    );
    assert!(actions_for(Some(&S::Validating), true, true).is_empty());
    assert_eq!(
        actions_for(Some(&S::ActionNeeded), false, false),
        [Action::Sync]
    );
    assert_eq!(
        actions_for(Some(&S::PasswordExpired), false, true),
        [Action::Reconnect]
    );
    assert_eq!(
        actions_for(Some(&S::PasswordExpired), true, true),
        [Action::Submit, Action::Reconnect]
    );
    assert_eq!(
        actions_for(Some(&S::Wrongpass), false, true),
        [Action::Reconnect]
    );
    assert_eq!(
        actions_for(Some(&S::Wrongpass), true, true),
        [Action::Submit, Action::Reconnect]
    );
    for s in [
        S::RateLimiting,
        S::WebsiteUnavailable,
        S::Bug,
        S::NotSupported,
        S::Unknown("x".into()),
    ] {
        assert!(actions_for(Some(&s), true, true).is_empty(), "{s}");
    }
}

#[test]
fn error_codes_round_trip_and_map_to_statuses() {
    for k in KnownErrorCode::ALL {
        let c = ErrorCode::Known(*k);
        assert_eq!(ErrorCode::parse(c.as_str()), c);
        assert!((400..600).contains(&c.http_status()));
    }
    assert_eq!(
        ErrorCode::parse("brand_new"),
        ErrorCode::Other("brand_new".into())
    );
}
