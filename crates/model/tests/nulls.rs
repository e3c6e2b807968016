//! `null` (and other wrong types) where Powens documents a string, a flag or an id:
//! integrators met them on the live Powens, and none may make a connection
//! unreadable. Each fixture field is one case; the expectations say how it reads.

use mend_model::{Connection, ConnectionList, ConnectionState, FieldType, PowensError};

fn fixture() -> Connection {
    serde_json::from_str(include_str!("fixtures/nulls.json")).expect("the connection reads")
}

#[test]
fn a_null_label_required_or_regex_keeps_the_field_usable() {
    let c = fixture();
    let fields = c.fields.expect("fields");
    let otp = &fields[0];
    assert_eq!(otp.name, "otp");
    assert_eq!(otp.label, "", "null label reads as empty");
    assert_eq!(otp.display_label(), "otp", "and falls back to the name");
    assert_eq!(otp.kind, FieldType::Text, "null type is text");
    assert!(otp.required, "null required keeps the documented default");
    assert_eq!(otp.regex, None);
    assert_eq!(otp.values, None);
    assert_eq!(otp.auth_mechanisms, None);
}

#[test]
fn list_values_with_a_null_label_show_their_value_and_null_values_are_dropped() {
    let c = fixture();
    let fields = c.fields.expect("fields");
    let website = &fields[1];
    assert!(!website.required, "\"false\" reads as false");
    let values = website.values.as_ref().expect("values");
    let sent: Vec<_> = values.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(
        sent,
        ["par", "asso"],
        "choices without a value cannot be sent"
    );
    assert_eq!(values[0].label, "");
}

#[test]
fn unreadable_fields_and_sources_are_dropped_not_fatal() {
    let c = fixture();
    assert_eq!(
        c.fields.as_ref().map(Vec::len),
        Some(2),
        "no name, or null: dropped"
    );
    assert_eq!(c.sources.as_ref().map(Vec::len), Some(1));
    assert_eq!(c.sources.as_ref().unwrap()[0].name, "");
}

#[test]
fn null_flags_ids_and_strings_read_as_their_defaults() {
    let c = fixture();
    assert_eq!(c.id, 122);
    assert!(c.active, "null active keeps the default (auto-sync on)");
    assert_eq!(c.id_user, Some(1), "a numeric string is an id");
    assert_eq!(c.id_connector, None);
    assert_eq!(c.connector_uuid, None, "a number is not a uuid");
    assert_eq!(c.error_message, None);
    assert_eq!(c.expire, None, "a number is not a date");
    assert_eq!(
        c.effective_state(),
        Some(&ConnectionState::AdditionalInformationNeeded)
    );
    let connector = c.connector.expect("connector");
    assert_eq!((connector.id, connector.name.as_str()), (None, ""));
}

#[test]
fn one_unreadable_connection_does_not_hide_the_others() {
    let list: ConnectionList = serde_json::from_str(
        r#"{"connections": [{"id": 1, "active": null}, {"id": null}, {"state": "bug"}, {"id": 3}]}"#,
    )
    .unwrap();
    let ids: Vec<_> = list.connections.iter().map(|c| c.id).collect();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn error_bodies_with_nulls_read() {
    let e: PowensError =
        serde_json::from_str(r#"{"code": "bug", "description": null, "message": 7}"#).unwrap();
    assert_eq!(
        (e.code.as_str(), e.description, e.message),
        ("bug", None, None)
    );
}
