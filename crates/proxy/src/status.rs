//! Powens' [`Connection`] → the widget's [`ConnectionStatus`]: states kept as they
//! come, naive dates read in `POWENS_TIMEZONE` and turned into RFC 3339 UTC, `fields`
//! only when the user can submit them, the actions of docs/api.md, and the bank
//! access about to run out ([`View::renew_window`]).

use mend_model::api::{Action, ConnectionStatus, SourceStatus, actions_for};
use mend_model::{Connection, PowensDateTime};
use std::time::Duration;

/// How Powens' connections are shown: the settings the conversion needs.
#[derive(Debug, Clone)]
pub struct View {
    /// `MEND_AGENT_STATUS`: credentials may be collected.
    pub agent_status: bool,
    /// `POWENS_TIMEZONE`: the zone of Powens' naive dates.
    pub zone: jiff::tz::TimeZone,
    /// `MEND_RENEW_WINDOW`: how long before its bank access runs out a fine
    /// connection asks to be renewed.
    pub renew_window: Duration,
    /// Powens' clock, in ms since the epoch, that "runs out soon" and `server_time`
    /// are reckoned from: the system's ([`system_ms`]), or in sandbox mode the
    /// sandbox's, which a test or a demo may stop (its dates are then from that
    /// instant, and a proxy on the system clock would call them all past).
    pub clock: fn() -> i64,
}

/// The system clock, in ms since the epoch.
pub fn system_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl View {
    /// A Powens date as RFC 3339 UTC (`None` for a wall time the zone cannot place).
    pub fn rfc3339(&self, dt: PowensDateTime) -> Option<String> {
        self.instant(dt).map(|t| t.to_string())
    }

    /// The instant of a Powens date: in the autumn's repeated hour the earlier one, in
    /// the spring's skipped hour the later one.
    pub fn instant(&self, dt: PowensDateTime) -> Option<jiff::Timestamp> {
        let civil = jiff::civil::DateTime::new(
            i16::try_from(dt.year).ok()?,
            dt.month as i8,
            dt.day as i8,
            dt.hour as i8,
            dt.minute as i8,
            dt.second as i8,
            0,
        )
        .ok()?;
        self.zone.to_timestamp(civil).ok()
    }

    /// The widget's view of a connection.
    pub fn status_of(&self, conn: &Connection) -> ConnectionStatus {
        let now = to_second((self.clock)());
        let state = conn.effective_state().cloned();
        let fields = conn.fields.clone().unwrap_or_default();
        let mut actions = actions_for(state.as_ref(), self.agent_status, !fields.is_empty());
        let fields = if actions.contains(&Action::Submit) {
            fields
        } else {
            Vec::new()
        };
        let sources: Vec<_> = conn
            .sources
            .iter()
            .flatten()
            .filter(|s| s.disabled.is_none())
            .collect();
        let access_expire = sources
            .iter()
            .filter_map(|s| s.access_expire.and_then(|d| self.instant(d)))
            .min();
        let window = jiff::SignedDuration::try_from(self.renew_window).unwrap_or_default();
        let renew =
            state.is_none() && access_expire.is_some_and(|at| at.duration_since(now) <= window);
        if renew {
            actions.push(Action::Reconnect);
        }
        ConnectionStatus {
            id: conn.id,
            state,
            message: conn.error_message.clone().filter(|m| !m.trim().is_empty()),
            fields,
            last_update: conn.last_update.and_then(|d| self.rfc3339(d)),
            next_try: conn.next_try.and_then(|d| self.rfc3339(d)),
            expire: conn.expire.and_then(|d| self.rfc3339(d)),
            connector: conn
                .connector
                .as_ref()
                .map(|c| c.name.clone())
                .filter(|n| !n.is_empty()),
            sources: sources
                .iter()
                .map(|s| SourceStatus {
                    name: s.name.clone(),
                    state: s.state.clone(),
                    last_update: s.last_update.and_then(|d| self.rfc3339(d)),
                    access_expire: s.access_expire.and_then(|d| self.rfc3339(d)),
                })
                .collect(),
            actions,
            server_time: Some(now.to_string()),
            access_expire: access_expire.map(|t| t.to_string()),
            renew,
        }
    }
}

/// An instant in ms, to the second (what the wire carries).
fn to_second(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(ms.div_euclid(1000)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(zone: &str) -> View {
        View {
            agent_status: false,
            zone: jiff::tz::TimeZone::get(zone).unwrap(),
            renew_window: Duration::from_secs(14 * 86_400),
            clock: system_ms,
        }
    }

    fn utc(v: &View, s: &str) -> String {
        v.rfc3339(PowensDateTime::parse(s).unwrap()).unwrap()
    }

    #[test]
    fn naive_dates_are_read_in_the_configured_zone() {
        let paris = view("Europe/Paris");
        assert_eq!(utc(&paris, "2026-11-25 10:34:00"), "2026-11-25T09:34:00Z");
        assert_eq!(utc(&paris, "2026-07-01 12:00:00"), "2026-07-01T10:00:00Z");
        // The spring's skipped hour, the autumn's repeated one (2026-10-25 02:30).
        assert_eq!(utc(&paris, "2026-03-29 02:30:00"), "2026-03-29T01:30:00Z");
        assert_eq!(utc(&paris, "2026-10-25 02:30:00"), "2026-10-25T00:30:00Z");
        let utc_zone = view("UTC");
        assert_eq!(
            utc(&utc_zone, "2026-11-25 10:34:00"),
            "2026-11-25T10:34:00Z"
        );
        let ny = view("America/New_York");
        assert_eq!(utc(&ny, "2026-11-25 10:34:00"), "2026-11-25T15:34:00Z");
    }

    #[test]
    fn fields_are_hidden_without_agent_status_for_wrongpass() {
        let conn: Connection = serde_json::from_value(serde_json::json!({
            "id": 109, "state": "wrongpass",
            "fields": [{"name": "password", "label": "Password", "type": "password"}]
        }))
        .unwrap();
        let mut v = view("Europe/Paris");
        let s = v.status_of(&conn);
        assert!(s.fields.is_empty());
        assert_eq!(s.actions, [Action::Reconnect]);
        v.agent_status = true;
        assert_eq!(v.status_of(&conn).fields.len(), 1);
    }

    #[test]
    fn a_fine_connection_whose_access_runs_out_soon_offers_a_renewal() {
        let v = view("UTC");
        let in_days = |d: i64| {
            (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * d))
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        let conn = |state: Option<&str>, days: [i64; 2]| -> Connection {
            serde_json::from_value(serde_json::json!({
                "id": 124, "state": state,
                "sources": [{"name": "openapi", "access_expire": in_days(days[0])},
                            {"name": "directaccess", "access_expire": in_days(days[1])},
                            {"name": "old", "access_expire": in_days(1), "disabled": in_days(-9)}]
            }))
            .unwrap()
        };
        let soon = v.status_of(&conn(None, [10, 170]));
        assert!(soon.renew);
        assert_eq!(soon.actions, [Action::Sync, Action::Reconnect]);
        assert_eq!(
            soon.access_expire.as_deref(),
            soon.sources[0].access_expire.as_deref()
        );
        assert!(soon.access_expire.unwrap().starts_with(&in_days(10)[..10]));
        let later = v.status_of(&conn(None, [30, 170]));
        assert!(!later.renew, "the disabled source does not count");
        assert_eq!(later.actions, [Action::Sync]);
        let broken = v.status_of(&conn(Some("SCARequired"), [10, 170]));
        assert!(!broken.renew, "a broken connection shows its state instead");
    }

    /// A stopped sandbox clock (deterministic screenshots) stops "soon" too: what
    /// ends 90 days after that instant is not about to end, whatever today is.
    #[test]
    fn soon_and_server_time_are_reckoned_on_the_view_s_clock() {
        // 2026-01-15T09:30:00Z, the screenshots' instant.
        fn stopped() -> i64 {
            1_768_469_400_000
        }
        let v = View {
            clock: stopped,
            ..view("UTC")
        };
        let conn = |expire: &str| -> Connection {
            serde_json::from_value(serde_json::json!({
                "id": 101, "sources": [{"name": "openapi", "access_expire": expire}]
            }))
            .unwrap()
        };
        let fine = v.status_of(&conn("2026-04-15 09:30:00"));
        assert!(!fine.renew, "90 days after the clock's instant");
        assert_eq!(fine.server_time.as_deref(), Some("2026-01-15T09:30:00Z"));
        assert!(
            v.status_of(&conn("2026-01-25 09:30:00")).renew,
            "10 days after"
        );
    }
}
