//! Time conventions: unyo stores instants in UTC and shows them in JST (a fixed +09:00 offset; Japan has
//! no daylight saving, so no time-zone database is needed).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// Japan Standard Time, UTC+9.
pub fn jst() -> FixedOffset {
    // Nine hours is always within chrono's ±24h range.
    FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset")
}

/// The wall-clock time in JST for a stored UTC instant.
pub fn to_jst(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&jst()).naive_local()
}

/// The canonical text form of an instant in storage: UTC, microseconds, `Z`. Sorts as text.
pub fn to_storage(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses the storage form back. Accepts any RFC 3339 instant.
pub fn from_storage(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn storage_round_trip_and_jst() {
        let at = Utc
            .with_ymd_and_hms(2026, 4, 30, 15, 30, 0)
            .single()
            .expect("valid");
        let s = to_storage(at);
        assert_eq!(s, "2026-04-30T15:30:00.000000Z");
        assert_eq!(from_storage(&s), Some(at));
        assert_eq!(to_jst(at).to_string(), "2026-05-01 00:30:00");
    }
}
