//! Powens date-times.
//!
//! On the wire Powens writes `"YYYY-MM-DD HH:MM:SS"`: a space, no `T`, no offset.
//! They are naive wall-clock times (Europe/Paris, as integrators observe). This type
//! keeps them naive: the proxy converts them to UTC in the zone it is configured
//! with (`POWENS_TIMEZONE`, through a time-zone database) before a browser sees them.
//! Nothing here knows a time zone, so that the widget's wasm carries no zone rules.
//!
//! Parsing is liberal: a `T` instead of the space, fractional seconds, a trailing `Z`
//! or numeric offset (ignored: the value is taken as written), and a bare date
//! (`YYYY-MM-DD`, midnight) are all accepted. Formatting is exact.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A naive Powens date-time (no time zone; Powens' wall time, Europe/Paris by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PowensDateTime {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31 (checked against the month).
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59 (a leap second 60 is clamped to 59).
    pub second: u8,
}

/// Why a date-time string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeError(pub String);

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a Powens date-time: {:?}", self.0)
    }
}

impl std::error::Error for DateTimeError {}

pub(crate) fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

impl PowensDateTime {
    /// Builds a checked date-time.
    pub fn new(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, DateTimeError> {
        let ok = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 61;
        if !ok {
            return Err(DateTimeError(format!(
                "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"
            )));
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second: second.min(59),
        })
    }

    /// Parses Powens' format, liberally (see the module documentation).
    pub fn parse(s: &str) -> Result<Self, DateTimeError> {
        let err = || DateTimeError(s.chars().take(40).collect());
        let s = s.trim();
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Result<u32, DateTimeError> {
            let part = s.get(from..from + len).ok_or_else(err)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let (year, month, day) = (num(0, 4)? as i32, num(5, 2)? as u8, num(8, 2)? as u8);
        if b.len() == 10 {
            return Self::new(year, month, day, 0, 0, 0).map_err(|_| err());
        }
        if b.len() < 19 || !matches!(b[10], b' ' | b'T' | b't') || b[13] != b':' || b[16] != b':' {
            return Err(err());
        }
        let (hour, minute, second) = (num(11, 2)? as u8, num(14, 2)? as u8, num(17, 2)? as u8);
        // What may follow: fractional seconds, then `Z` or a `±HH:MM` / `±HHMM` offset.
        let mut rest = &s[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            rest = &frac[digits..];
        }
        let tail_ok = rest.is_empty()
            || rest.eq_ignore_ascii_case("z")
            || ((rest.starts_with('+') || rest.starts_with('-'))
                && rest[1..].bytes().all(|c| c.is_ascii_digit() || c == b':')
                && (4..=6).contains(&rest.len()));
        if !tail_ok {
            return Err(err());
        }
        Self::new(year, month, day, hour, minute, second).map_err(|_| err())
    }

    /// Seconds since the Unix epoch, reading this value as UTC.
    pub fn to_unix_utc(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The UTC date-time of a Unix timestamp.
    pub fn from_unix_utc(secs: i64) -> Self {
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        Self {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
        }
    }

    /// RFC 3339 in UTC (`2026-11-25T09:34:00Z`) of this value read as UTC.
    pub fn to_rfc3339_utc(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl fmt::Display for PowensDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl std::str::FromStr for PowensDateTime {
    type Err = DateTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PowensDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PowensDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Deserialises an optional date-time leniently: absent, `null`, an empty string or an
/// unparseable value read as `None` instead of failing the whole object.
pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PowensDateTime>, D::Error> {
    let v = Option::<crate::loose::Loose>::deserialize(d)?;
    Ok(match v {
        Some(crate::loose::Loose::Str(s)) => PowensDateTime::parse(&s).ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_documented_form_exactly() {
        let d = PowensDateTime::parse("2025-01-02 10:11:12").unwrap();
        assert_eq!(d, PowensDateTime::new(2025, 1, 2, 10, 11, 12).unwrap());
        assert_eq!(d.to_string(), "2025-01-02 10:11:12");
    }

    #[test]
    fn accepts_iso_variants_and_bare_dates() {
        for s in [
            "2025-01-02T10:11:12",
            "2025-01-02 10:11:12.123456",
            "2025-01-02T10:11:12Z",
            "2025-01-02T10:11:12+01:00",
        ] {
            assert_eq!(
                PowensDateTime::parse(s).unwrap().to_string(),
                "2025-01-02 10:11:12",
                "{s}"
            );
        }
        assert_eq!(
            PowensDateTime::parse("2025-01-02").unwrap().to_string(),
            "2025-01-02 00:00:00"
        );
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "yesterday",
            "2025-13-01 00:00:00",
            "2025-02-30 00:00:00",
            "2025-01-02 25:00:00",
            "2025-01-02 10:11:12 junk",
        ] {
            assert!(PowensDateTime::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn unix_round_trip() {
        for secs in [0, 1_700_000_000, 951_782_400 /* 2000-02-29 */, -86_400] {
            assert_eq!(PowensDateTime::from_unix_utc(secs).to_unix_utc(), secs);
        }
        assert_eq!(
            PowensDateTime::from_unix_utc(951_782_400).to_string(),
            "2000-02-29 00:00:00"
        );
    }
}
