//! Demo connections for what the real Powens answers beyond its states: refused
//! syncs, state-naming refusals, a slow bank, nulls and legacy bodies, lagging reads,
//! expiring bank access, a revoked token; and another user's connection.

use super::{CAISSE, CREDIT, EXEMPLE, NEO, Spec, otp_field, spec};
use crate::scenario::{Refusal, Scenario};
use crate::world::Script;
use mend_model::ConnectionState as S;

/// The connections of Powens' other answers, 117–125, and user 2's 201.
pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            scenario: Scenario {
                refuse_sync: true,
                ..Scenario::default()
            },
            ..spec(
                117,
                EXEMPLE,
                None,
                Script::Fine,
                "Sync refused",
                "A fine connection whose sync Powens refuses: 409 \"Can't force synchronization of connection 117\". Nothing changes; try again later.",
            )
        },
        Spec {
            fields: Some(vec![otp_field()]),
            message: Some("Enter the code sent by SMS"),
            scenario: Scenario {
                refuse: Some(Refusal {
                    on: vec!["submit".into()],
                    code: "wrongpass".into(),
                    message: Some("Vos identifiants ne sont plus valides".into()),
                    state: Some(S::Wrongpass),
                    once: true,
                }),
                ..Scenario::default()
            },
            ..spec(
                118,
                CAISSE,
                Some(S::AdditionalInformationNeeded),
                Script::Otp,
                "A code that turns into wrongpass",
                "Any code answers 400 wrongpass: the bank no longer accepts the stored credentials. The connection turns wrongpass (login demo, password 1234, or the Reconnect webview, repair it).",
            )
        },
        Spec {
            scenario: Scenario {
                refuse: Some(Refusal {
                    on: vec!["sync".into()],
                    code: "websiteUnavailable".into(),
                    message: Some("Le site de votre banque est momentanément indisponible".into()),
                    state: Some(S::WebsiteUnavailable),
                    once: true,
                }),
                ..Scenario::default()
            },
            ..spec(
                119,
                CREDIT,
                None,
                Script::Fine,
                "A sync the bank's website refuses",
                "A fine connection whose sync answers 400 websiteUnavailable with the bank's message: it turns websiteUnavailable, retried by Powens 30 minutes later.",
            )
        },
        Spec {
            message: Some("Accept the new terms and conditions on your bank's website"),
            scenario: Scenario {
                refuse: Some(Refusal {
                    on: vec!["sync".into()],
                    code: "bankMessage".into(),
                    message: Some(
                        "Merci de valider les nouvelles conditions dans votre espace client".into(),
                    ),
                    state: None,
                    once: false,
                }),
                ..Scenario::default()
            },
            ..spec(
                120,
                NEO,
                Some(S::ActionNeeded),
                Script::ActionNeeded,
                "The bank's own words",
                "actionNeeded; \"I've done it\" (a sync) answers 400 bankMessage with the bank's text, shown as its words. The state stays.",
            )
        },
        Spec {
            fields: Some(vec![otp_field()]),
            message: Some("Enter the code sent by SMS"),
            scenario: Scenario {
                slow_ms: 100_000,
                ..Scenario::default()
            },
            ..spec(
                121,
                CAISSE,
                Some(S::AdditionalInformationNeeded),
                Script::Otp,
                "A slow bank",
                "The bank takes 100 seconds to check a code (123456 repairs it): the proxy waits up to 3 minutes and never sends it twice.",
            )
        },
        Spec {
            fields: Some(vec![otp_field()]),
            message: Some("Enter the code sent by SMS"),
            scenario: Scenario {
                nulls: true,
                legacy_errors: true,
                refuse: Some(Refusal {
                    on: vec!["submit".into()],
                    code: "wrongpass".into(),
                    message: Some("Wrong credentials".into()),
                    state: Some(S::Wrongpass),
                    once: true,
                }),
                ..Scenario::default()
            },
            ..spec(
                122,
                EXEMPLE,
                Some(S::AdditionalInformationNeeded),
                Script::Otp,
                "Nulls and a legacy error body",
                "Its JSON has null labels, required, regex and active; a code answers the legacy body {\"error\": \"wrongpass\", \"message\": \"Wrong credentials\"} and the connection turns wrongpass.",
            )
        },
        Spec {
            scenario: Scenario {
                lag_ms: 4000,
                ..Scenario::default()
            },
            ..spec(
                123,
                CREDIT,
                Some(S::ScaRequired),
                Script::ScaThenDecoupled,
                "A read that lags behind",
                "After Confirm in the Reconnect webview (or an approval in the bank app), reads still show SCARequired for 4 seconds, then validating for 4 seconds, then the connection is fine.",
            )
        },
        Spec {
            access_expire_days: Some(10),
            ..spec(
                124,
                EXEMPLE,
                None,
                Script::Fine,
                "Bank access runs out soon",
                "Fine, but its bank access (PSD2 consent) expires in 10 days: the widget offers to renew it (Reconnect) before the connection breaks.",
            )
        },
        Spec {
            scenario: Scenario {
                revoke_token_once: true,
                ..Scenario::default()
            },
            ..spec(
                125,
                NEO,
                None,
                Script::Fine,
                "A revoked token (403)",
                "The first read finds the user's token revoked: 403 {\"error\": \"Invalid token\"}, as old Powens answered. The proxy renews the token once and reads again.",
            )
        },
        Spec {
            user: 2,
            ..spec(
                201,
                EXEMPLE,
                None,
                Script::Fine,
                "Another user's connection",
                "Belongs to user 2: user 1's token gets 404 for it.",
            )
        },
    ]
}
