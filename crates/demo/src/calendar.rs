//! The prefecture's office calendar for the demo: weekdays that are not national holidays (国民の祝日,
//! with 振替休日 and 国民の休日) and not the year-end closure (12月29日～1月3日).
//!
//! The equinoxes use the usual approximation, valid for 1980–2099; the one-off changes of 2019–2021 are
//! not modelled. Good enough to keep demo work off days nobody works; not a source of truth.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// `n`-th `weekday` (1-based) of a month.
pub fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn equinox_day(year: i32, base: f64) -> u32 {
    let y = f64::from(year - 1980);
    (base + 0.242194 * y - (y / 4.0).floor()).floor() as u32
}

/// A 国民の祝日 proper (without substitutes).
fn named_holiday(d: NaiveDate) -> bool {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let nth_monday = |n: u8| nth_weekday(y, m, Weekday::Mon, n) == Some(d);
    match m {
        1 => day == 1 || nth_monday(2),
        2 => day == 11 || day == 23,
        3 => day == equinox_day(y, 20.8431),
        4 => day == 29,
        5 => (3..=5).contains(&day),
        7 => nth_monday(3),
        8 => day == 11,
        9 => nth_monday(3) || day == equinox_day(y, 23.2488),
        10 => nth_monday(2),
        11 => day == 3 || day == 23,
        _ => false,
    }
}

/// A holiday: a named one, a 振替休日 (the first non-holiday after a holiday on a Sunday) or a 国民の休日
/// (a weekday between two holidays).
pub fn is_holiday(d: NaiveDate) -> bool {
    if named_holiday(d) {
        return true;
    }
    let prev = |x: NaiveDate| x.checked_sub_days(Days::new(1));
    let next = |x: NaiveDate| x.checked_add_days(Days::new(1));
    // 振替休日: walk back over consecutive holidays; one of them on a Sunday moves here.
    let mut p = prev(d);
    while let Some(x) = p {
        if !named_holiday(x) {
            break;
        }
        if x.weekday() == Weekday::Sun {
            return true;
        }
        p = prev(x);
    }
    // 国民の休日.
    d.weekday() != Weekday::Sun
        && prev(d).is_some_and(named_holiday)
        && next(d).is_some_and(named_holiday)
}

/// Whether the offices are closed on `d`: weekends, holidays, 12/29–1/3.
pub fn is_closed(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        || is_holiday(d)
        || (d.month() == 12 && d.day() >= 29)
        || (d.month() == 1 && d.day() <= 3)
}

/// The first office day on or after `d`.
pub fn on_or_after(d: NaiveDate) -> NaiveDate {
    let mut x = d;
    while is_closed(x) {
        x = x.succ_opt().unwrap_or(x);
    }
    x
}

/// The last office day on or before `d`.
pub fn on_or_before(d: NaiveDate) -> NaiveDate {
    let mut x = d;
    while is_closed(x) {
        x = x.pred_opt().unwrap_or(x);
    }
    x
}

/// `n` office days after (`n > 0`) or before (`n < 0`) `d`; `d` itself when `n == 0`.
pub fn add_office_days(d: NaiveDate, n: i32) -> NaiveDate {
    let mut x = d;
    for _ in 0..n.unsigned_abs() {
        x = if n > 0 {
            on_or_after(x.succ_opt().unwrap_or(x))
        } else {
            on_or_before(x.pred_opt().unwrap_or(x))
        };
    }
    x
}

/// The `n`-th office day (1-based) of a month, or the month's last office day if it has fewer.
pub fn office_day_of_month(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let mut x = on_or_after(first);
    for _ in 1..n.max(1) {
        let y = add_office_days(x, 1);
        if y.month() != month {
            break;
        }
        x = y;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn holidays_of_2026() {
        for h in [
            d(2026, 1, 1),
            d(2026, 1, 12),
            d(2026, 2, 11),
            d(2026, 2, 23),
            d(2026, 3, 20),
            d(2026, 4, 29),
            d(2026, 5, 6), // 振替休日 (5/3 is a Sunday)
            d(2026, 7, 20),
            d(2026, 8, 11),
            d(2026, 9, 21),
            d(2026, 9, 22), // 国民の休日
            d(2026, 9, 23),
            d(2026, 10, 12),
            d(2026, 11, 3),
            d(2026, 11, 23),
            d(2027, 3, 22), // 振替休日 (3/21 is a Sunday)
        ] {
            assert!(is_holiday(h), "{h}");
            assert!(is_closed(h), "{h}");
        }
        for w in [d(2026, 4, 30), d(2026, 5, 7), d(2026, 11, 24)] {
            assert!(!is_closed(w), "{w}");
        }
        assert!(is_closed(d(2026, 12, 29)));
        assert!(is_closed(d(2027, 1, 3)));
        assert!(!is_closed(d(2027, 1, 4)));
    }

    #[test]
    fn office_day_arithmetic() {
        // 2026-05-01 (Fri) + 1 office day skips the weekend and 5/4–5/6.
        assert_eq!(add_office_days(d(2026, 5, 1), 1), d(2026, 5, 7));
        assert_eq!(add_office_days(d(2026, 5, 7), -1), d(2026, 5, 1));
        assert_eq!(office_day_of_month(2026, 4, 1), d(2026, 4, 1));
        assert_eq!(office_day_of_month(2026, 8, 1), d(2026, 8, 3));
        assert_eq!(office_day_of_month(2026, 2, 40).month(), 2);
        assert_eq!(on_or_after(d(2026, 11, 28)), d(2026, 11, 30));
        assert_eq!(on_or_before(d(2026, 11, 29)), d(2026, 11, 27));
    }
}
