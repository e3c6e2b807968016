//! One demo connection per state of Powens' connection-states page.

use super::{
    CAISSE, CREDIT, EXEMPLE, NEO, Spec, credential_fields, every_field_type, otp_field, spec,
};
use crate::world::Script;
use mend_model::ConnectionState as S;

/// The connections of Powens' states, 101–116.
pub(super) fn specs() -> Vec<Spec> {
    vec![
        spec(
            101,
            EXEMPLE,
            None,
            Script::Fine,
            "Everything is fine",
            "The last synchronisation succeeded yesterday. A sync keeps it fine.",
        ),
        spec(
            102,
            CREDIT,
            Some(S::ScaRequired),
            Script::ScaThenDecoupled,
            "Strong authentication required",
            "The bank wants the user to confirm access. Repair with the Reconnect webview (Confirm), or synchronise with the user present: the connection turns decoupled and the user approves on their phone after a few seconds, then resume.",
        ),
        spec(
            103,
            EXEMPLE,
            Some(S::WebauthRequired),
            Script::Webauth,
            "Continue at the bank",
            "The bank needs its own login page. Ask for the webauth URL and press Authorize on the bank page (Deny refuses), or use the Reconnect webview.",
        ),
        Spec {
            fields: Some(vec![otp_field()]),
            message: Some("Enter the code sent by SMS to 06 •• •• •• 42"),
            ..spec(
                104,
                CAISSE,
                Some(S::AdditionalInformationNeeded),
                Script::Otp,
                "Code received by SMS",
                "The bank sent a one-time code. The right code is 123456; any other 6-digit code keeps the state with \"Incorrect code, 2 tries left\"; a code that is not 6 digits is refused (400 invalidValue).",
            )
        },
        Spec {
            message: Some("Open the Banque Exemple app to approve access"),
            ..spec(
                105,
                EXEMPLE,
                Some(S::Decoupled),
                Script::Decoupled,
                "Approve in the bank app",
                "The bank waits for an approval in its app. Resume (background), then press Approve or Refuse in the sandbox bank app.",
            )
        },
        spec(
            106,
            NEO,
            Some(S::Validating),
            Script::Validating,
            "Checking with the bank",
            "Powens is checking with the bank; the connection turns fine by itself after a few seconds.",
        ),
        Spec {
            message: Some("Accept the new terms and conditions on your bank's website"),
            ..spec(
                107,
                CREDIT,
                Some(S::ActionNeeded),
                Script::ActionNeeded,
                "Action needed at the bank",
                "The user must accept new terms at the bank. Accept them in the sandbox bank app, then synchronise.",
            )
        },
        Spec {
            fields: Some(credential_fields("New password")),
            message: Some("Your password has expired: choose a new one"),
            ..spec(
                108,
                CAISSE,
                Some(S::PasswordExpired),
                Script::PasswordExpired,
                "Password expired",
                "The password must be renewed. Login demo with any new password repairs it; another login answers 400 wrongpass.",
            )
        },
        Spec {
            fields: Some(credential_fields("Password")),
            message: Some("Identifiant ou mot de passe incorrect"),
            ..spec(
                109,
                EXEMPLE,
                Some(S::Wrongpass),
                Script::Wrongpass,
                "Wrong password",
                "The stored credentials were refused. Login demo with password 1234 repairs it; anything else answers 400 wrongpass.",
            )
        },
        Spec {
            next_try_min: Some(10),
            ..spec(
                110,
                NEO,
                Some(S::RateLimiting),
                Script::Transient,
                "The bank is throttling us",
                "The bank limits synchronisations. Powens retries by itself at next_try (10 minutes), then the connection is fine.",
            )
        },
        Spec {
            next_try_min: Some(30),
            ..spec(
                111,
                CREDIT,
                Some(S::WebsiteUnavailable),
                Script::Transient,
                "The bank's website is down",
                "The bank's website is unavailable. Powens retries by itself at next_try (30 minutes).",
            )
        },
        Spec {
            next_try_min: Some(60),
            ..spec(
                112,
                CAISSE,
                Some(S::Bug),
                Script::Transient,
                "An error at Powens",
                "An internal Powens error. It is retried automatically at next_try (1 hour).",
            )
        },
        spec(
            113,
            NEO,
            Some(S::NotSupported),
            Script::Inert,
            "Not supported",
            "The source is not supported by the connector. Nothing can repair it.",
        ),
        spec(
            114,
            EXEMPLE,
            Some(S::Unknown("someFutureState".into())),
            Script::Inert,
            "A state from the future",
            "A state Powens may add one day (someFutureState): clients must show a neutral notice and never crash.",
        ),
        spec(
            115,
            CREDIT,
            Some(S::ScaRequired),
            Script::MultiSource,
            "Two sources, one needs SCA",
            "Multi-source connection: openapi needs SCA, directaccess is fine. Repair with the webauth URL or the Reconnect webview; a sync with the user present turns it webauthRequired.",
        ),
        Spec {
            fields: Some(every_field_type()),
            message: Some("Your bank needs a few more details"),
            ..spec(
                116,
                CAISSE,
                Some(S::AdditionalInformationNeeded),
                Script::AllFields,
                "Every kind of field",
                "One field of each type: text (8 digits), password (4 digits), date, list (par/pro), number (optional) and an unknown type \"hidden\" (optional). Valid values repair it.",
            )
        },
    ]
}
