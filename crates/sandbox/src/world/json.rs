//! A connection written as Powens writes it: naive wall times in Powens' zone, the
//! connector and sources expanded on request.

use super::Conn;
use mend_model::{Connection, ConnectionSource, PowensDateTime};

/// The naive wall time Powens writes for an instant, in its zone.
pub(crate) fn powens_date(ms: i64, zone: &jiff::tz::TimeZone) -> PowensDateTime {
    let dt = zone
        .to_datetime(jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH));
    PowensDateTime::new(
        i32::from(dt.year()),
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    )
    .unwrap_or_else(|_| PowensDateTime::from_unix_utc(ms.div_euclid(1000)))
}

/// The instant (ms) of a naive Powens wall time in its zone (in a repeated hour the
/// earlier one, in a skipped hour the later one).
pub(crate) fn powens_instant(dt: PowensDateTime, zone: &jiff::tz::TimeZone) -> i64 {
    jiff::civil::DateTime::new(
        dt.year as i16,
        dt.month as i8,
        dt.day as i8,
        dt.hour as i8,
        dt.minute as i8,
        dt.second as i8,
        0,
    )
    .and_then(|d| zone.to_timestamp(d))
    .map_or(dt.to_unix_utc() * 1000, jiff::Timestamp::as_millisecond)
}

impl Conn {
    /// The Powens JSON object.
    pub fn to_model(
        &self,
        connector: bool,
        sources: bool,
        zone: &jiff::tz::TimeZone,
    ) -> Connection {
        let powens_date = |ms: i64| powens_date(ms, zone);
        Connection {
            id: self.id,
            id_user: Some(self.user),
            id_connector: self.connector.id,
            connector_uuid: self.connector.uuid.clone(),
            id_bank: self.connector.id,
            id_provider: self.connector.id,
            state: self.state.clone(),
            error: self.state.clone(),
            error_message: self.error_message.clone(),
            fields: self.fields.clone(),
            last_update: self.last_update_ms.map(powens_date),
            created: Some(powens_date(self.created_ms)),
            active: self.active,
            last_push: None,
            expire: self.expire_ms.map(powens_date),
            next_try: self.next_try_ms.map(powens_date),
            connector: connector.then(|| self.connector.clone()),
            sources: sources.then(|| {
                self.sources
                    .iter()
                    .map(|s| ConnectionSource {
                        id: Some(s.id),
                        id_connection: Some(self.id),
                        id_connector_source: Some(s.id_connector_source),
                        name: s.name.to_owned(),
                        state: s.state.clone(),
                        last_update: s.last_update_ms.map(powens_date),
                        disabled: None,
                        created: Some(powens_date(s.created_ms)),
                        access_expire: self.access_expire_ms.map(powens_date),
                        expire: if s.state.is_some() {
                            self.expire_ms.map(powens_date)
                        } else {
                            None
                        },
                        next_try: self.next_try_ms.map(powens_date),
                    })
                    .collect()
            }),
        }
    }
}
