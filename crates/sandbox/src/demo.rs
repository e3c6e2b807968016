//! The demo data set: one connection per Powens state for [`crate::DEMO_USER_ID`],
//! and one connection of a second user. Ids are fixed; other crates' tests rely on them.

use crate::SandboxConfig;
use crate::scenario::{Refusal, Scenario};
use crate::world::{Conn, OTP_TRIES, Script, Source, World, ms};

/// A day, in ms.
const DAY: i64 = 24 * 3_600_000;
/// PSD2 consent lifetime: bank access expires about 180 days after it was given.
const CONSENT_DAYS: i64 = 180;
use mend_model::{ConnectionState as S, Connector, ConnectorField, FieldType, FieldValue};
use serde::{Deserialize, Serialize};

/// One demo connection, for the demo page: its current state and what it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoConnection {
    /// Connection id (101–125).
    pub id: i64,
    /// Current Powens state (`None` = `null`, fine).
    pub state: Option<mend_model::ConnectionState>,
    /// One line, e.g. "Code received by SMS".
    pub title: String,
    /// What the state means and how to repair it in the sandbox.
    pub explanation: String,
}

impl DemoConnection {
    pub(crate) fn of(c: &Conn) -> Self {
        Self {
            id: c.id,
            state: c.state.clone(),
            title: c.title.to_owned(),
            explanation: c.explanation.to_owned(),
        }
    }
}

fn connector(id: i64, name: &str) -> Connector {
    Connector {
        id: Some(id),
        uuid: Some(format!("6f1c5e2a-0d4b-4c3e-9a7f-00000000{id:04}")),
        name: name.to_owned(),
    }
}

/// The connectors of the demo (`GET /2.0/connectors`).
pub(crate) fn connectors() -> Vec<Connector> {
    vec![
        connector(40, "Banque Exemple"),
        connector(41, "Crédit Démo"),
        connector(42, "Caisse Fictive"),
        connector(43, "Néobanque Test"),
    ]
}

/// The connector that asks for an SMS code when a connection is created (2FA).
pub(crate) const TWO_FACTOR_CONNECTOR: i64 = 42;

/// The credential fields every demo connector asks for on creation.
pub(crate) fn connector_fields() -> Vec<ConnectorField> {
    credential_fields("Password")
}

/// A connection created through `POST /users/{id}/connections` with the right
/// credentials: fine, or asking for an SMS code on [`TWO_FACTOR_CONNECTOR`].
pub(crate) fn created_connection(
    id: i64,
    user: i64,
    connector: Connector,
    now: i64,
    cfg: &SandboxConfig,
) -> Conn {
    let two_factor = connector.id == Some(TWO_FACTOR_CONNECTOR);
    let state = two_factor.then_some(S::AdditionalInformationNeeded);
    Conn {
        id,
        user,
        connector,
        state: state.clone(),
        error_message: two_factor.then(|| "Enter the code sent by SMS".to_owned()),
        fields: two_factor.then(|| vec![otp_field()]),
        created_ms: now,
        last_update_ms: (!two_factor).then_some(now),
        active: true,
        expire_ms: two_factor.then(|| now + ms(cfg.approval_expiry)),
        next_try_ms: (!two_factor).then_some(now + 24 * 3_600_000),
        sources: vec![Source {
            id: id * 10 + 1,
            id_connector_source: 1,
            name: "openapi",
            state,
            last_update_ms: (!two_factor).then_some(now),
            created_ms: now,
        }],
        script: if two_factor {
            Script::Otp
        } else {
            Script::Fine
        },
        title: "Created through the API",
        explanation: "Created with POST /users/{id}/connections (login demo, password 1234); Caisse Fictive asks for the SMS code 123456.",
        approval: None,
        resumed: false,
        settles_at: None,
        otp_tries: OTP_TRIES,
        terms_accepted: false,
        scenario: Scenario::default(),
        lag: None,
        access_expire_ms: Some(now + CONSENT_DAYS * DAY),
    }
}

fn field(name: &str, label: &str, kind: FieldType, required: bool) -> ConnectorField {
    ConnectorField {
        name: name.to_owned(),
        label: label.to_owned(),
        kind,
        required,
        regex: None,
        values: None,
        description: None,
        auth_mechanisms: Some(vec!["credentials".to_owned()]),
        connector_sources: None,
    }
}

fn otp_field() -> ConnectorField {
    ConnectorField {
        regex: Some("^[0-9]{6}$".into()),
        ..field("otp", "Code received by SMS", FieldType::Text, true)
    }
}

/// The `login` and `password` a `wrongpass` connection asks for.
pub(crate) fn credentials() -> Vec<ConnectorField> {
    credential_fields("Password")
}

fn credential_fields(password_label: &str) -> Vec<ConnectorField> {
    vec![
        field("login", "Customer login", FieldType::Text, true),
        field("password", password_label, FieldType::Password, true),
    ]
}

fn every_field_type() -> Vec<ConnectorField> {
    vec![
        ConnectorField {
            regex: Some("^[0-9]{8}$".into()),
            description: Some("The 8 digits printed on your bank card letter".into()),
            ..field("customer_number", "Customer number", FieldType::Text, true)
        },
        ConnectorField {
            regex: Some("^[0-9]{4}$".into()),
            ..field("pin", "Secret code", FieldType::Password, true)
        },
        field("birth_date", "Date of birth", FieldType::Date, true),
        ConnectorField {
            values: Some(vec![
                FieldValue {
                    label: "Personal".into(),
                    value: "par".into(),
                },
                FieldValue {
                    label: "Professional".into(),
                    value: "pro".into(),
                },
            ]),
            ..field("website", "Account type", FieldType::List, true)
        },
        field(
            "amount",
            "Amount of your last deposit",
            FieldType::Number,
            false,
        ),
        field(
            "device_token",
            "Device token",
            FieldType::Other("hidden".into()),
            false,
        ),
    ]
}

struct Spec {
    id: i64,
    user: i64,
    connector: (i64, &'static str),
    state: Option<S>,
    script: Script,
    message: Option<&'static str>,
    fields: Option<Vec<ConnectorField>>,
    /// Minutes from now of `next_try` (transient states).
    next_try_min: Option<i64>,
    title: &'static str,
    explanation: &'static str,
    /// Answers beyond the script.
    scenario: Scenario,
    /// Days from now of the sources' `access_expire` (default: 180 days after creation).
    access_expire_days: Option<i64>,
}

fn specs() -> Vec<Spec> {
    let spec = |id, connector, state: Option<S>, script, title, explanation| Spec {
        id,
        user: crate::DEMO_USER_ID,
        connector,
        state,
        script,
        message: None,
        fields: None,
        next_try_min: None,
        title,
        explanation,
        scenario: Scenario::default(),
        access_expire_days: None,
    };
    let exemple = (40, "Banque Exemple");
    let credit = (41, "Crédit Démo");
    let caisse = (42, "Caisse Fictive");
    let neo = (43, "Néobanque Test");
    vec![
        spec(
            101,
            exemple,
            None,
            Script::Fine,
            "Everything is fine",
            "The last synchronisation succeeded yesterday. A sync keeps it fine.",
        ),
        spec(
            102,
            credit,
            Some(S::ScaRequired),
            Script::ScaThenDecoupled,
            "Strong authentication required",
            "The bank wants the user to confirm access. Repair with the Reconnect webview (Confirm), or synchronise with the user present: the connection turns decoupled and the user approves on their phone after a few seconds, then resume.",
        ),
        spec(
            103,
            exemple,
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
                caisse,
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
                exemple,
                Some(S::Decoupled),
                Script::Decoupled,
                "Approve in the bank app",
                "The bank waits for an approval in its app. Resume (background), then press Approve or Refuse in the sandbox bank app.",
            )
        },
        spec(
            106,
            neo,
            Some(S::Validating),
            Script::Validating,
            "Checking with the bank",
            "Powens is checking with the bank; the connection turns fine by itself after a few seconds.",
        ),
        Spec {
            message: Some("Accept the new terms and conditions on your bank's website"),
            ..spec(
                107,
                credit,
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
                caisse,
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
                exemple,
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
                neo,
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
                credit,
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
                caisse,
                Some(S::Bug),
                Script::Transient,
                "An error at Powens",
                "An internal Powens error. It is retried automatically at next_try (1 hour).",
            )
        },
        spec(
            113,
            neo,
            Some(S::NotSupported),
            Script::Inert,
            "Not supported",
            "The source is not supported by the connector. Nothing can repair it.",
        ),
        spec(
            114,
            exemple,
            Some(S::Unknown("someFutureState".into())),
            Script::Inert,
            "A state from the future",
            "A state Powens may add one day (someFutureState): clients must show a neutral notice and never crash.",
        ),
        spec(
            115,
            credit,
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
                caisse,
                Some(S::AdditionalInformationNeeded),
                Script::AllFields,
                "Every kind of field",
                "One field of each type: text (8 digits), password (4 digits), date, list (par/pro), number (optional) and an unknown type \"hidden\" (optional). Valid values repair it.",
            )
        },
        Spec {
            scenario: Scenario {
                refuse_sync: true,
                ..Scenario::default()
            },
            ..spec(
                117,
                exemple,
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
                caisse,
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
                credit,
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
                neo,
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
                caisse,
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
                exemple,
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
                credit,
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
                exemple,
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
                neo,
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
                exemple,
                None,
                Script::Fine,
                "Another user's connection",
                "Belongs to user 2: user 1's token gets 404 for it.",
            )
        },
    ]
}

/// A fresh demo world.
pub(crate) fn world(now: i64, cfg: &SandboxConfig) -> World {
    let yesterday = now - 24 * 3_600_000;
    let created = now - 90 * 24 * 3_600_000;
    let mut w = World {
        users: vec![crate::DEMO_USER_ID, 2],
        next_user: 3,
        next_connection: 1001,
        ..World::default()
    };
    for s in specs() {
        let pending_sca = matches!(
            s.state,
            Some(
                S::ScaRequired
                    | S::WebauthRequired
                    | S::AdditionalInformationNeeded
                    | S::Decoupled
                    | S::Validating
            )
        );
        let sources = if s.script == Script::MultiSource {
            vec![
                Source {
                    id: s.id * 10 + 1,
                    id_connector_source: s.connector.0 * 10 + 1,
                    name: "openapi",
                    state: Some(S::ScaRequired),
                    last_update_ms: Some(yesterday - 6 * 24 * 3_600_000),
                    created_ms: created,
                },
                Source {
                    id: s.id * 10 + 2,
                    id_connector_source: s.connector.0 * 10 + 2,
                    name: "directaccess",
                    state: None,
                    last_update_ms: Some(yesterday),
                    created_ms: created,
                },
            ]
        } else {
            vec![Source {
                id: s.id * 10 + 1,
                id_connector_source: s.connector.0 * 10 + 1,
                name: "openapi",
                state: s.state.clone(),
                last_update_ms: Some(yesterday),
                created_ms: created,
            }]
        };
        let mut c = Conn {
            id: s.id,
            user: s.user,
            connector: connector(s.connector.0, s.connector.1),
            state: s.state.clone(),
            error_message: s.message.map(str::to_owned),
            fields: s.fields,
            created_ms: created,
            last_update_ms: Some(yesterday),
            active: true,
            expire_ms: pending_sca.then(|| now + ms(cfg.approval_expiry)),
            next_try_ms: s
                .next_try_min
                .map(|m| now + m * 60_000)
                .or_else(|| s.state.is_none().then(|| yesterday + 24 * 3_600_000)),
            sources,
            script: s.script,
            title: s.title,
            explanation: s.explanation,
            approval: None,
            resumed: false,
            settles_at: None,
            otp_tries: OTP_TRIES,
            terms_accepted: false,
            scenario: s.scenario,
            lag: None,
            access_expire_ms: Some(
                s.access_expire_days
                    .map_or(created + CONSENT_DAYS * DAY, |d| now + d * DAY),
            ),
        };
        match s.script {
            Script::Decoupled => c.enter_decoupled(now, cfg, false),
            Script::Validating => c.settles_at = Some(now + ms(cfg.validating_delay)),
            _ => {}
        }
        if let Some(msg) = s.message {
            c.error_message = Some(msg.to_owned());
        }
        w.conns.insert(c.id, c);
    }
    w
}
