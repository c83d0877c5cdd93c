//! Time conventions: unyo stores instants in UTC and shows them in JST (a fixed +09:00 offset; Japan has
//! no daylight saving, so no time-zone database is needed).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

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

/// The UTC instant at which JST day `d` begins (00:00 JST): the lower bound of a day's instants in
/// storage. (A fixed offset has no gaps, so the fallback is never taken.)
pub fn jst_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(jst()).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

/// The storage form of a calendar day (a JST date, no time): `YYYY-MM-DD`. Sorts as text.
pub fn date_to_storage(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A stored `YYYY-MM-DD` day back; `None` for anything else.
pub fn date_from_storage(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
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

    #[test]
    fn days_in_storage_and_jst_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 1).expect("valid");
        assert_eq!(date_to_storage(d), "2026-05-01");
        assert_eq!(date_from_storage("2026-05-01"), Some(d));
        assert_eq!(date_from_storage("2026-5-1x"), None);
        assert_eq!(to_storage(jst_midnight(d)), "2026-04-30T15:00:00.000000Z");
    }
}
