//! Fixture tests: Powens-shaped JSON (as Powens documents and sends it) for every state and
//! field type, with unknown extra keys and missing optional ones, read the way Powens
//! sends them; plus round-trip property tests.

use mend_model::api::{self, Action, ConnectionStatus, ErrorBody, ErrorCode};
use mend_model::{
    AccessToken, AuthCode, AuthToken, Connection, ConnectionList, ConnectionState, FieldType,
    PowensDateTime, PowensError, RequestId, WebauthUrl,
};
use proptest::prelude::*;

/// The documented representative connection, with a state substituted.
fn connection_json(state: &str) -> String {
    format!(
        r#"{{"id":123,"id_user":7,"id_connector":40,"connector_uuid":"338178e6-3d01-564f-9a7b-52ca442459bf",
            "id_bank":40,"id_provider":40,"state":{state},"error":{state},"error_message":null,"fields":null,
            "last_update":"2025-01-02 10:11:12","created":"2025-01-01 09:00:00","active":true,
            "last_push":null,"expire":null,"next_try":"2025-01-03 10:11:12"}}"#
    )
}

#[test]
fn every_documented_state_reads_from_a_powens_connection() {
    for state in ConnectionState::DOCUMENTED {
        let c: Connection =
            serde_json::from_str(&connection_json(&format!("\"{state}\""))).unwrap();
        assert_eq!(c.state.as_ref(), Some(&state));
        assert_eq!(c.error.as_ref(), Some(&state));
        assert_eq!(c.effective_state(), Some(&state));
        assert_eq!(c.id, 123);
        assert_eq!(c.id_user, Some(7));
        assert_eq!(c.last_update.unwrap().to_string(), "2025-01-02 10:11:12");
        assert!(c.active);
    }
}

#[test]
fn a_null_state_means_the_connection_is_fine() {
    let c: Connection = serde_json::from_str(&connection_json("null")).unwrap();
    assert_eq!(c.effective_state(), None);
}

#[test]
fn an_unknown_state_is_kept_not_refused() {
    let c: Connection = serde_json::from_str(&connection_json("\"brandNewState\"")).unwrap();
    assert_eq!(
        c.state,
        Some(ConnectionState::Unknown("brandNewState".into()))
    );
}

#[test]
fn legacy_payloads_with_only_the_deprecated_error_field_are_understood() {
    let c: Connection =
        serde_json::from_str(r#"{"id":5,"error":"decoupled","id_bank":12}"#).unwrap();
    assert_eq!(c.state, None);
    assert_eq!(c.effective_state(), Some(&ConnectionState::Decoupled));
    assert_eq!(c.id_bank, Some(12));
    assert!(c.active, "active defaults to true when absent");
}

#[test]
fn missing_optional_fields_and_unknown_extra_keys_are_fine() {
    let c: Connection = serde_json::from_str(
        r#"{"id":9,"state":"bug","brand_new_key":{"nested":[1,2]},"accounts":[],"message":"legacy"}"#,
    )
    .unwrap();
    assert_eq!(c.state, Some(ConnectionState::Bug));
    assert_eq!(c.fields, None);
    assert_eq!(c.next_try, None);
}

#[test]
fn malformed_dates_and_states_do_not_fail_the_whole_connection() {
    let c: Connection = serde_json::from_str(
        r#"{"id":9,"state":42,"last_update":"not a date","expire":"","next_try":17,"created":"2025-01-01T09:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(c.state, None);
    assert_eq!(c.last_update, None);
    assert_eq!(c.expire, None);
    assert_eq!(c.next_try, None);
    assert_eq!(c.created.unwrap().to_string(), "2025-01-01 09:00:00");
}

#[test]
fn the_otp_example_of_the_sca_guide_reads() {
    let c: Connection = serde_json::from_str(
        r#"{"id":1,"state":"additionalInformationNeeded",
            "fields":[{"name":"otp","type":"text","label":"Code d'autorisation"}]}"#,
    )
    .unwrap();
    let f = &c.fields.unwrap()[0];
    assert_eq!(f.name, "otp");
    assert_eq!(f.kind, FieldType::Text);
    assert!(f.required, "required defaults to true");
    assert!(f.is_one_time_code());
}

#[test]
fn every_field_type_reads_with_its_attributes() {
    let fields: Vec<mend_model::ConnectorField> = serde_json::from_str(
        r#"[
        {"name":"login","label":"Identifiant","type":"text","required":true,"connector_sources":["directaccess"]},
        {"name":"password","type":"password","label":"Code secret","regex":"^[0-9]{6}$","required":true},
        {"name":"birthdate","type":"date","label":"Date de naissance","required":false,"description":"JJ/MM/AAAA"},
        {"name":"website","type":"list","label":"Type de compte","regex":null,
         "values":[{"label":"Particuliers/Professionnels","value":"pp"},{"value":"ent","label":"Entreprises"}],
         "auth_mechanisms":["webauth"]},
        {"name":"pin","type":"number","label":"PIN"},
        {"name":"token","type":"hidden","label":"Token","ephemeral":true,"id":3,"value":"x"},
        {"name":"legacy","label":"L","auth_mechanisms":"credentials"},
        {"name":"nolabel","type":null}
    ]"#,
    )
    .unwrap();
    let kinds: Vec<_> = fields.iter().map(|f| f.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            FieldType::Text,
            FieldType::Password,
            FieldType::Date,
            FieldType::List,
            FieldType::Number,
            FieldType::Other("hidden".into()),
            FieldType::Text,
            FieldType::Text
        ]
    );
    assert_eq!(
        fields[0].connector_sources.as_deref(),
        Some(&["directaccess".to_string()][..])
    );
    assert_eq!(fields[1].regex.as_deref(), Some("^[0-9]{6}$"));
    assert!(
        !fields[1].is_one_time_code(),
        "a password is never an OTP input"
    );
    assert!(!fields[2].required);
    assert_eq!(fields[2].description.as_deref(), Some("JJ/MM/AAAA"));
    let values = fields[3].values.as_ref().unwrap();
    assert_eq!(
        (values[1].label.as_str(), values[1].value.as_str()),
        ("Entreprises", "ent")
    );
    assert_eq!(
        fields[3].auth_mechanisms.as_deref(),
        Some(&["webauth".to_string()][..])
    );
    assert_eq!(
        fields[6].auth_mechanisms.as_deref(),
        Some(&["credentials".to_string()][..])
    );
    assert_eq!(fields[7].display_label(), "nolabel");
    assert_eq!(fields[5].kind.as_str(), "hidden");
}

#[test]
fn a_multi_source_connection_with_expansions_reads() {
    let c: Connection = serde_json::from_str(
        r#"{"id":77,"state":"SCARequired","connector":{"id":40,"uuid":"u","name":"Banque Exemple","capabilities":["bank"]},
            "sources":[{"id":1,"id_connection":77,"id_connector_source":3,"name":"openapi","state":"SCARequired",
                        "last_update":null,"disabled":null,"created":"2025-01-01 00:00:00","access_expire":"2025-04-01 00:00:00",
                        "expire":null,"next_try":null},
                       {"id":2,"name":"directaccess","state":null}]}"#,
    )
    .unwrap();
    assert_eq!(c.connector.unwrap().name, "Banque Exemple");
    let sources = c.sources.unwrap();
    assert_eq!(sources[0].state, Some(ConnectionState::ScaRequired));
    assert_eq!(
        sources[0].access_expire.unwrap().to_string(),
        "2025-04-01 00:00:00"
    );
    assert_eq!(sources[1].state, None);
}

#[test]
fn a_connection_list_reads() {
    let l: ConnectionList = serde_json::from_str(&format!(
        r#"{{"connections":[{}],"total":1}}"#,
        connection_json("null")
    ))
    .unwrap();
    assert_eq!(l.connections.len(), 1);
}

#[test]
fn error_envelopes_read_with_either_request_id_type() {
    let e: PowensError = serde_json::from_str(
        r#"{"code":"wrongpass","description":"Wrong password","message":"Mot de passe incorrect","request_id":12345}"#,
    )
    .unwrap();
    assert_eq!(e.code, "wrongpass");
    assert_eq!(e.request_id, Some(RequestId::Number(12345)));
    let e: PowensError =
        serde_json::from_str(r#"{"code":"invalidValue","description":"x","request_id":"req-abc"}"#)
            .unwrap();
    assert_eq!(e.request_id, Some(RequestId::Text("req-abc".into())));
    let legacy: PowensError =
        serde_json::from_str(r#"{ "message": "Wrong credentials", "code": "wrongpass"}"#).unwrap();
    assert_eq!(legacy.description, None);
}

#[test]
fn auth_answers_read() {
    let t: AuthToken = serde_json::from_str(
        r#"{"auth_token":"abc","type":"temporary","expires_in":1800,"id_user":1}"#,
    )
    .unwrap();
    assert_eq!((t.id_user, t.expires_in), (Some(1), Some(1800)));
    let a: AccessToken =
        serde_json::from_str(r#"{"access_token":"tok","token_type":"Bearer"}"#).unwrap();
    assert_eq!(a.access_token, "tok");
    let a: AccessToken = serde_json::from_str(r#"{"token":"tok2"}"#).unwrap();
    assert_eq!(a.access_token, "tok2", "the guide's `token` variant");
    let c: AuthCode = serde_json::from_str(
        r#"{"code":"nc0EdV2MiVmSig1","type":"temporary","access":"single","expires_in":600}"#,
    )
    .unwrap();
    assert_eq!(c.access.as_deref(), Some("single"));
    let legacy: AuthCode =
        serde_json::from_str(r#"{"code":"x","type":"temporary","expires_in":1800}"#).unwrap();
    assert_eq!(legacy.access, None);
    let w: WebauthUrl =
        serde_json::from_str(r#"{"url":"https://bank.example/authorize?x=1"}"#).unwrap();
    assert!(w.url.starts_with("https://"));
}

#[test]
fn connections_are_written_exactly_as_powens_documents_them() {
    let c: Connection = serde_json::from_str(&connection_json("\"decoupled\"")).unwrap();
    let v: serde_json::Value = serde_json::to_value(&c).unwrap();
    for key in [
        "id",
        "id_user",
        "id_connector",
        "connector_uuid",
        "id_bank",
        "id_provider",
        "state",
        "error",
        "error_message",
        "fields",
        "last_update",
        "created",
        "active",
        "last_push",
        "expire",
        "next_try",
    ] {
        assert!(v.get(key).is_some(), "{key} is always written");
    }
    assert_eq!(v["state"], "decoupled");
    assert_eq!(v["error"], "decoupled");
    assert_eq!(v["last_push"], serde_json::Value::Null);
    assert_eq!(v["last_update"], "2025-01-02 10:11:12");
    assert!(
        v.get("connector").is_none() && v.get("sources").is_none(),
        "expansions only when expanded"
    );
}

#[test]
fn proxy_wire_types_serialise_in_the_documented_shape() {
    let s = ConnectionStatus {
        id: 104,
        state: Some(ConnectionState::AdditionalInformationNeeded),
        message: Some("Enter the code".into()),
        fields: vec![],
        last_update: None,
        next_try: None,
        expire: Some("2026-11-25T11:34:00Z".into()),
        connector: Some("Banque Exemple".into()),
        sources: vec![],
        actions: api::actions_for(
            Some(&ConnectionState::AdditionalInformationNeeded),
            false,
            true,
        ),
        server_time: None,
        access_expire: None,
        renew: false,
    };
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["state"], "additionalInformationNeeded");
    assert_eq!(v["actions"], serde_json::json!(["submit"]));
    let back: ConnectionStatus = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
    assert!(back.can(Action::Submit));

    let e: ErrorBody = serde_json::from_str(
        r#"{"error":{"code":"invalid_fields","message":"m","request_id":"r","fields":{"otp":"pattern"}}}"#,
    )
    .unwrap();
    assert_eq!(e.error.code, ErrorCode::InvalidFields);
    assert_eq!(e.error.code.http_status(), 422);
}

fn arb_state() -> impl Strategy<Value = Option<ConnectionState>> {
    prop_oneof![
        Just(None),
        (0..ConnectionState::DOCUMENTED.len())
            .prop_map(|i| Some(ConnectionState::DOCUMENTED[i].clone())),
        "[a-zA-Z]{1,20}".prop_map(|s| Some(ConnectionState::parse(&s))),
    ]
}

fn arb_datetime() -> impl Strategy<Value = PowensDateTime> {
    (1970i32..2100, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60)
        .prop_map(|(y, mo, d, h, mi, s)| PowensDateTime::new(y, mo, d, h, mi, s).unwrap())
}

proptest! {
    #[test]
    fn connections_round_trip(
        id in 1i64..i64::MAX,
        user in proptest::option::of(1i64..1_000_000),
        state in arb_state(),
        message in proptest::option::of(".{0,40}"),
        last_update in proptest::option::of(arb_datetime()),
        expire in proptest::option::of(arb_datetime()),
        active in any::<bool>(),
    ) {
        let c = Connection {
            id, id_user: user, id_connector: Some(40), connector_uuid: None, id_bank: Some(40), id_provider: None,
            error: state.clone(), state, error_message: message, fields: None, last_update, created: None,
            active, last_push: None, expire, next_try: None, connector: None, sources: None,
        };
        let json = serde_json::to_string(&c).unwrap();
        let back: Connection = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, c);
    }

    #[test]
    fn datetimes_round_trip_through_their_text(d in arb_datetime()) {
        prop_assert_eq!(PowensDateTime::parse(&d.to_string()).unwrap(), d);
        prop_assert_eq!(PowensDateTime::from_unix_utc(d.to_unix_utc()), d);
    }

    #[test]
    fn states_round_trip_through_their_string(s in "\\PC{0,30}") {
        let st = ConnectionState::parse(&s);
        prop_assert_eq!(ConnectionState::parse(st.as_str()), st.clone());
        let json = serde_json::to_string(&st).unwrap();
        prop_assert_eq!(serde_json::from_str::<ConnectionState>(&json).unwrap(), st);
    }

    #[test]
    fn any_json_string_field_never_panics_the_connection_reader(s in "\\PC{0,30}") {
        let json = format!(r#"{{"id":1,"state":{0},"last_update":{0},"fields":[{{"name":"a","type":{0}}}]}}"#,
                           serde_json::to_string(&s).unwrap());
        let c: Connection = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(c.id, 1);
    }
}
