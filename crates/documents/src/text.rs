//! How the documents write dates, times and amounts.

use chrono::{Datelike, NaiveDate, Timelike};
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::wareki::format_long;

/// 月 … 日.
pub fn weekday_ja(d: NaiveDate) -> &'static str {
    ["月", "火", "水", "木", "金", "土", "日"][d.weekday().num_days_from_monday() as usize]
}

/// `5月12日（火）`.
pub fn month_day_weekday(d: NaiveDate) -> String {
    format!("{}月{}日（{}）", d.month(), d.day(), weekday_ja(d))
}

/// A stored `YYYY-MM-DD` date.
pub fn stored_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A stored date in long 和暦 (`令和8年5月12日`), the text itself when it is not a date.
pub fn wareki(s: &str) -> String {
    stored_date(s).map_or_else(|| s.to_string(), format_long)
}

/// `令和8年4月1日～令和9年3月31日`.
pub fn term(start: &str, end: &str) -> String {
    format!("{}～{}", wareki(start), wareki(end))
}

/// A stored UTC instant as a short JST date and time within a year: `5月12日 09:30`.
pub fn jst_short(stored: &str) -> String {
    match from_storage(stored) {
        Some(at) => {
            let t = to_jst(at);
            format!(
                "{}月{}日 {:02}:{:02}",
                t.month(),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        None => String::new(),
    }
}

/// An optional stored instant, `―` when absent.
pub fn jst_short_opt(stored: &Option<String>) -> String {
    stored
        .as_deref()
        .map(jst_short)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "―".to_string())
}

/// Minutes as hours (a number for the cells).
pub fn hours(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

/// Minutes as reports print durations (`45分`, `2時間05分`, `1,234時間05分`), `―` when unknown.
pub fn duration(minutes: Option<i64>) -> String {
    match minutes {
        None => "―".to_string(),
        Some(m) if m.abs() < 60 => unyo_domain::incident::duration_label(m),
        Some(m) => format!(
            "{}{}時間{:02}分",
            if m < 0 { "-" } else { "" },
            unyo_report::format_integer(m.abs() / 60),
            m.abs() % 60
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 12).unwrap();
        assert_eq!(month_day_weekday(d), "5月12日（火）");
        assert_eq!(
            term("2026-04-01", "2027-03-31"),
            "令和8年4月1日～令和9年3月31日"
        );
        assert_eq!(jst_short("2026-05-12T00:30:00.000000Z"), "5月12日 09:30");
        assert_eq!(jst_short_opt(&None), "―");
        assert_eq!(duration(Some(125)), "2時間05分");
        assert_eq!(duration(Some(45)), "45分");
        assert_eq!(duration(Some(17522 * 60 + 57)), "17,522時間57分");
    }
}
