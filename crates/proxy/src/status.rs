//! Powens' [`Connection`] → the widget's [`ConnectionStatus`]: states kept as they
//! come, naive Europe/Paris dates turned into RFC 3339 UTC, `fields` only when the
//! user can submit them, and the actions of CONTRACT §7.

use mend_model::api::{Action, ConnectionStatus, SourceStatus, actions_for};
use mend_model::{Connection, PowensDateTime};
use std::time::{SystemTime, UNIX_EPOCH};

/// A Powens date as RFC 3339 UTC.
pub fn rfc3339(dt: PowensDateTime) -> String {
    PowensDateTime::from_unix_utc(dt.to_unix_paris()).to_rfc3339_utc()
}

/// Now as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PowensDateTime::from_unix_utc(i64::try_from(secs).unwrap_or(0)).to_rfc3339_utc()
}

/// The widget's view of a connection. `agent_status` is `MEND_AGENT_STATUS`.
pub fn status_of(conn: &Connection, agent_status: bool) -> ConnectionStatus {
    let state = conn.effective_state().cloned();
    let fields = conn.fields.clone().unwrap_or_default();
    let actions = actions_for(state.as_ref(), agent_status, !fields.is_empty());
    let fields = if actions.contains(&Action::Submit) {
        fields
    } else {
        Vec::new()
    };
    ConnectionStatus {
        id: conn.id,
        state,
        message: conn.error_message.clone().filter(|m| !m.trim().is_empty()),
        fields,
        last_update: conn.last_update.map(rfc3339),
        next_try: conn.next_try.map(rfc3339),
        expire: conn.expire.map(rfc3339),
        connector: conn
            .connector
            .as_ref()
            .map(|c| c.name.clone())
            .filter(|n| !n.is_empty()),
        sources: conn
            .sources
            .iter()
            .flatten()
            .filter(|s| s.disabled.is_none())
            .map(|s| SourceStatus {
                name: s.name.clone(),
                state: s.state.clone(),
                last_update: s.last_update.map(rfc3339),
            })
            .collect(),
        actions,
        server_time: Some(now_rfc3339()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_paris_dates_become_utc() {
        let winter = PowensDateTime::parse("2026-11-25 10:34:00").unwrap();
        assert_eq!(rfc3339(winter), "2026-11-25T09:34:00Z");
        let summer = PowensDateTime::parse("2026-07-01 12:00:00").unwrap();
        assert_eq!(rfc3339(summer), "2026-07-01T10:00:00Z");
    }

    #[test]
    fn fields_are_hidden_without_agent_status_for_wrongpass() {
        let conn: Connection = serde_json::from_value(serde_json::json!({
            "id": 109, "state": "wrongpass",
            "fields": [{"name": "password", "label": "Password", "type": "password"}]
        }))
        .unwrap();
        let s = status_of(&conn, false);
        assert!(s.fields.is_empty());
        assert_eq!(s.actions, [Action::Reconnect]);
        let s = status_of(&conn, true);
        assert_eq!(s.fields.len(), 1);
    }
}
