//! The demo data set: one connection per Powens state for [`crate::DEMO_USER_ID`]
//! ([`states`]), one per answer the real Powens gives beyond its states ([`answers`]),
//! and one connection of a second user. Ids are fixed; other crates' tests rely on
//! them.

mod answers;
mod states;

use crate::SandboxConfig;
use crate::scenario::Scenario;
use crate::world::{Conn, OTP_TRIES, Script, Source, World, ms};
use mend_model::{ConnectionState as S, Connector, ConnectorField, FieldType, FieldValue};
use serde::{Deserialize, Serialize};

/// A day, in ms.
const DAY: i64 = 24 * 3_600_000;
/// PSD2 consent lifetime: bank access expires about 180 days after it was given.
const CONSENT_DAYS: i64 = 180;

/// The demo banks: connector id and name.
const EXEMPLE: (i64, &str) = (40, "Banque Exemple");
const CREDIT: (i64, &str) = (41, "Crédit Démo");
const CAISSE: (i64, &str) = (42, "Caisse Fictive");
const NEO: (i64, &str) = (43, "Néobanque Test");

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

/// A demo connection of the demo user with nothing beyond its script.
fn spec(
    id: i64,
    connector: (i64, &'static str),
    state: Option<S>,
    script: Script,
    title: &'static str,
    explanation: &'static str,
) -> Spec {
    Spec {
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
    }
}

/// Every demo connection, in id order.
fn specs() -> Vec<Spec> {
    let mut all = states::specs();
    all.extend(answers::specs());
    all
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
