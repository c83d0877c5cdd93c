//! 和暦 (Japanese era dates) and 年度 (April–March fiscal years).
//!
//! Registry paperwork is written in 和暦, so every date the operators see or
//! type goes through here. Era start dates follow the official 改元 dates
//! (the same table as CLDR/ICU):
//!
//! | 元号 | letter | first day  |
//! |------|--------|------------|
//! | 明治 | M      | 1868-10-23 |
//! | 大正 | T      | 1912-07-30 |
//! | 昭和 | S      | 1926-12-25 |
//! | 平成 | H      | 1989-01-08 |
//! | 令和 | R      | 2019-05-01 |
//!
//! 明治 was proclaimed retroactive to 慶応4年1月1日 (1868-01-25), but the
//! proclamation date is what CLDR uses, so we do too. Japan kept the
//! lunisolar calendar until 明治5年12月2日; 明治 dates before 1873-01-01 are
//! therefore proleptic-Gregorian renderings, not historical 和暦 dates. That
//! does not matter for anybody alive today.
//!
//! Dates before 明治 have no era: formatting falls back to the Gregorian year.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

/// Builds a date at compile time, so the era table cannot panic at run time.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid era start date"),
    }
}

const MEIJI_START: NaiveDate = ymd(1868, 10, 23);
const TAISHO_START: NaiveDate = ymd(1912, 7, 30);
const SHOWA_START: NaiveDate = ymd(1926, 12, 25);
const HEISEI_START: NaiveDate = ymd(1989, 1, 8);
const REIWA_START: NaiveDate = ymd(2019, 5, 1);

/// A Japanese era (元号) from 明治 onwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Era {
    /// 明治 (M), from 1868-10-23.
    Meiji,
    /// 大正 (T), from 1912-07-30.
    Taisho,
    /// 昭和 (S), from 1926-12-25.
    Showa,
    /// 平成 (H), from 1989-01-08.
    Heisei,
    /// 令和 (R), from 2019-05-01.
    Reiwa,
}

impl Era {
    /// All eras, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// The era name in kanji, e.g. "令和".
    pub const fn kanji(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The one-letter abbreviation used in short dates, e.g. 'R'.
    pub const fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The first day of the era (元年 starts here).
    pub const fn start(self) -> NaiveDate {
        match self {
            Era::Meiji => MEIJI_START,
            Era::Taisho => TAISHO_START,
            Era::Showa => SHOWA_START,
            Era::Heisei => HEISEI_START,
            Era::Reiwa => REIWA_START,
        }
    }

    /// The era that followed this one, if any has been proclaimed.
    pub const fn next(self) -> Option<Era> {
        match self {
            Era::Meiji => Some(Era::Taisho),
            Era::Taisho => Some(Era::Showa),
            Era::Showa => Some(Era::Heisei),
            Era::Heisei => Some(Era::Reiwa),
            Era::Reiwa => None,
        }
    }

    /// The last day of the era, or `None` for the current era.
    pub fn last_day(self) -> Option<NaiveDate> {
        self.next().and_then(|next| next.start().pred_opt())
    }

    /// The era in force on `date`, or `None` before 明治.
    pub fn in_force_on(date: NaiveDate) -> Option<Era> {
        Era::ALL.into_iter().rev().find(|era| era.start() <= date)
    }

    /// Looks an era up by its kanji name ("令和").
    pub fn from_kanji(name: &str) -> Option<Era> {
        Era::ALL.into_iter().find(|era| era.kanji() == name)
    }

    /// Looks an era up by its letter, case-insensitively ('R' or 'r').
    pub fn from_letter(letter: char) -> Option<Era> {
        let letter = letter.to_ascii_uppercase();
        Era::ALL.into_iter().find(|era| era.letter() == letter)
    }

    /// Era year of the Gregorian `year`, counting the start year as 1.
    ///
    /// Callers must already know that the era is in force in that year.
    fn year_of(self, gregorian_year: i32) -> u32 {
        // The year is never before the era's start year here, so this is >= 1;
        // fall back to 0 rather than panic if a caller breaks that.
        u32::try_from(gregorian_year - self.start().year() + 1).unwrap_or(0)
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kanji())
    }
}

/// Writes an era year for long (kanji) forms: the first year is "元".
fn write_long_year(f: &mut impl fmt::Write, year: u32) -> fmt::Result {
    if year == 1 {
        f.write_str("元")
    } else {
        write!(f, "{year}")
    }
}

/// A date expressed in 和暦: era, era year (1 = 元年), month and day.
///
/// The fields are public, so a value may describe a day that does not exist
/// (平成31年5月1日); [`WarekiDate::to_gregorian`] is the validating path.
/// `Display` gives the long form, e.g. "令和元年5月1日".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarekiDate {
    /// The era.
    pub era: Era,
    /// Year within the era; 1 is 元年.
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
}

impl WarekiDate {
    /// Converts a Gregorian date; `None` before 明治 (1868-10-23).
    pub fn from_gregorian(date: NaiveDate) -> Option<WarekiDate> {
        let era = Era::in_force_on(date)?;
        Some(WarekiDate {
            era,
            year: era.year_of(date.year()),
            month: date.month(),
            day: date.day(),
        })
    }

    /// Converts back to a Gregorian date, refusing days that do not exist
    /// (2月30日) and days outside the era (平成31年5月1日, 令和元年4月30日,
    /// 令和0年).
    pub fn to_gregorian(&self) -> Result<NaiveDate, WarekiError> {
        let outside = || WarekiError::OutsideEra(*self);
        if self.year == 0 {
            return Err(outside());
        }
        let year = i32::try_from(self.year)
            .ok()
            .and_then(|y| y.checked_add(self.era.start().year() - 1))
            .ok_or_else(outside)?;
        let date = NaiveDate::from_ymd_opt(year, self.month, self.day)
            .ok_or(WarekiError::NonexistentDate(*self))?;
        if Era::in_force_on(date) == Some(self.era) {
            Ok(date)
        } else {
            Err(outside())
        }
    }

    /// The short form, e.g. "R8.5.1"; the first year is written "1" ("R1.5.1").
    pub fn short(&self) -> String {
        format!(
            "{}{}.{}.{}",
            self.era.letter(),
            self.year,
            self.month,
            self.day
        )
    }
}

impl fmt::Display for WarekiDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.era.kanji())?;
        write_long_year(f, self.year)?;
        write!(f, "年{}月{}日", self.month, self.day)
    }
}

/// Long 和暦 form, e.g. "令和8年5月1日", "令和元年5月1日".
///
/// Dates before 明治 have no era and are written in Gregorian, e.g. "1850年1月1日"
/// (which [`parse_wareki`] also accepts).
pub fn format_long(date: NaiveDate) -> String {
    match WarekiDate::from_gregorian(date) {
        Some(wareki) => wareki.to_string(),
        None => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

/// Short 和暦 form, e.g. "R8.5.1" (first year "R1.5.1").
///
/// Dates before 明治 are written as ISO dates, e.g. "1850-01-01".
pub fn format_short(date: NaiveDate) -> String {
    match WarekiDate::from_gregorian(date) {
        Some(wareki) => wareki.short(),
        None => date.to_string(),
    }
}

/// Year and month in 和暦, e.g. "令和8年5月" for 2026-05.
///
/// The era is the one in force on the 1st of the month, so 2019-04 is
/// "平成31年4月" and 2019-05 is "令和元年5月"; in a month where the era
/// changes mid-month (1989-01) the old era is used ("昭和64年1月").
/// Months before 明治, or an invalid `month`, are written in Gregorian
/// ("1850年1月") rather than failing, since this is display-only.
pub fn format_year_month(year: i32, month: u32) -> String {
    let wareki = NaiveDate::from_ymd_opt(year, month, 1).and_then(WarekiDate::from_gregorian);
    match wareki {
        Some(w) => {
            let mut out = String::from(w.era.kanji());
            // Writing into a String cannot fail.
            let _ = write_long_year(&mut out, w.year);
            out.push_str(&format!("年{month}月"));
            out
        }
        None => format!("{year}年{month}月"),
    }
}

/// Long date and time, e.g. "令和8年5月1日 09:05". Seconds are dropped.
pub fn format_datetime_long(datetime: NaiveDateTime) -> String {
    format!(
        "{} {:02}:{:02}",
        format_long(datetime.date()),
        datetime.hour(),
        datetime.minute()
    )
}

/// Long date and time to the second, e.g. "令和8年5月1日 09:05:07" (a check's last result).
pub fn format_datetime_seconds(datetime: NaiveDateTime) -> String {
    format!(
        "{}:{:02}",
        format_datetime_long(datetime),
        datetime.second()
    )
}

/// Why a 和暦 date could not be parsed or converted. Messages are Japanese,
/// meant for the operator.
///
/// The messages never echo unparsed input: a date field is a place where
/// somebody might paste the wrong thing (an identity number), and error
/// messages end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarekiError {
    /// Nothing (or only whitespace) was entered.
    #[error("日付が入力されていません。")]
    Empty,
    /// The text is not in any accepted form.
    #[error("日付の形式が正しくありません（例: 令和8年5月1日、R8.5.1、2026-05-01）。")]
    InvalidFormat,
    /// The month/day do not exist in that year (e.g. 令和8年2月30日).
    #[error("{0}は存在しない日付です。")]
    NonexistentDate(WarekiDate),
    /// The day exists but not in that era (e.g. 平成31年5月1日, 令和元年4月30日): the message says where
    /// the era ends or starts and what the day is called (「…平成は平成31年4月30日まで。2019年5月1日は
    /// 令和元年5月1日です」).
    #[error("{date}は存在しない日付です（{hint}）。", date = .0, hint = outside_era_hint(.0))]
    OutsideEra(WarekiDate),
    /// The month is not 1–12 (e.g. 令和8年13月).
    #[error("{0}月という月はありません（1月～12月で入力してください）。")]
    MonthOutOfRange(u32),
    /// A Gregorian date that does not exist (e.g. 2026-02-30).
    #[error("{year}年{month}月{day}日は存在しない日付です。")]
    NonexistentGregorianDate {
        /// Gregorian year as entered.
        year: i32,
        /// Month as entered.
        month: u32,
        /// Day as entered.
        day: u32,
    },
}

/// Why a 和暦 date lies outside its era, for [`WarekiError::OutsideEra`]: where the era ends (or starts)
/// and what that day is called.
fn outside_era_hint(w: &WarekiDate) -> String {
    let era = w.era;
    let gregorian = i32::try_from(w.year)
        .ok()
        .filter(|y| *y > 0)
        .and_then(|y| y.checked_add(era.start().year() - 1))
        .and_then(|y| NaiveDate::from_ymd_opt(y, w.month, w.day));
    let Some(date) = gregorian else {
        return format!("{era}は元年（1年）から数えます");
    };
    let called = |d: NaiveDate| {
        format!(
            "{}年{}月{}日は{}です",
            d.year(),
            d.month(),
            d.day(),
            format_long(d)
        )
    };
    match era.last_day() {
        Some(last) if date > last => {
            format!("{era}は{}まで。{}", format_long(last), called(date))
        }
        _ => format!("{era}は{}から。{}", format_long(era.start()), called(date)),
    }
}

/// Parses a date typed by an operator.
///
/// Accepted forms (full-width digits, letters and punctuation are fine, as is
/// surrounding whitespace):
/// - long 和暦: "令和8年5月1日", "令和元年5月1日", "令和 8年 5月 1日"
/// - short 和暦: "R8.5.1", "R08.05.01", "r8/5/1", "R8-5-1", "R元.5.1"
/// - Gregorian: "2026-05-01", "2026/5/1", "2026年5月1日"
///
/// Days that do not exist, including days outside the named era
/// (平成31年5月1日, 令和元年4月30日), are errors.
pub fn parse_wareki(input: &str) -> Result<NaiveDate, WarekiError> {
    let text = normalise(input);
    let text = text.trim();
    if text.is_empty() {
        return Err(WarekiError::Empty);
    }
    let mut cur = Cursor(text);
    let parsed = if let Some(era) = cur.era_kanji() {
        parse_long(&mut cur, era)
    } else if let Some(era) = cur.era_letter() {
        parse_short(&mut cur, era)
    } else {
        return parse_gregorian(&mut cur);
    };
    parsed?.to_gregorian()
}

/// Full-width ASCII (digits, letters, "．", "／", "－") to half-width, and the
/// other dashes people type to '-'.
fn normalise(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => '-',
            _ => c,
        })
        .collect()
}

/// A month as read: 1–12, else [`WarekiError::MonthOutOfRange`] (told even when the rest is missing,
/// so 「令和8年13月」 says what is wrong with it).
fn month_in_range(month: u32) -> Result<u32, WarekiError> {
    if (1..=12).contains(&month) {
        Ok(month)
    } else {
        Err(WarekiError::MonthOutOfRange(month))
    }
}

/// `era year 年 month 月 day 日`, whitespace allowed between parts.
fn parse_long(cur: &mut Cursor<'_>, era: Era) -> Result<WarekiDate, WarekiError> {
    let bad = || WarekiError::InvalidFormat;
    cur.skip_ws();
    let year = cur.era_year().ok_or_else(bad)?;
    cur.skip_ws();
    cur.eat('年').ok_or_else(bad)?;
    cur.skip_ws();
    let month = month_in_range(cur.number(2).ok_or_else(bad)?)?;
    cur.skip_ws();
    cur.eat('月').ok_or_else(bad)?;
    cur.skip_ws();
    let day = cur.number(2).ok_or_else(bad)?;
    cur.skip_ws();
    cur.eat('日').ok_or_else(bad)?;
    cur.end().ok_or_else(bad)?;
    Ok(WarekiDate {
        era,
        year,
        month,
        day,
    })
}

/// `letter year SEP month SEP day`, with the same separator twice.
fn parse_short(cur: &mut Cursor<'_>, era: Era) -> Result<WarekiDate, WarekiError> {
    let bad = || WarekiError::InvalidFormat;
    let year = cur.era_year().ok_or_else(bad)?;
    let sep = cur.separator().ok_or_else(bad)?;
    let month = month_in_range(cur.number(2).ok_or_else(bad)?)?;
    cur.eat(sep).ok_or_else(bad)?;
    let day = cur.number(2).ok_or_else(bad)?;
    cur.end().ok_or_else(bad)?;
    Ok(WarekiDate {
        era,
        year,
        month,
        day,
    })
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY年M月D日`; the year must have four
/// digits so that "26-05-01" is not silently read as the year 26.
fn parse_gregorian(cur: &mut Cursor<'_>) -> Result<NaiveDate, WarekiError> {
    let (year, month, day) = (|| {
        let year = cur.exact_digits(4)?;
        let (month, day) = if cur.eat('年').is_some() {
            let month = cur.number(2)?;
            cur.eat('月')?;
            let day = cur.number(2)?;
            cur.eat('日')?;
            (month, day)
        } else {
            let sep = cur.separator()?;
            let month = cur.number(2)?;
            cur.eat(sep)?;
            (month, cur.number(2)?)
        };
        cur.end()?;
        Some((i32::try_from(year).ok()?, month, day))
    })()
    .ok_or(WarekiError::InvalidFormat)?;
    month_in_range(month)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(WarekiError::NonexistentGregorianDate {
        year,
        month,
        day,
    })
}

/// A tiny hand-rolled scanner; the grammar is too small to justify a regex
/// dependency. Every method returns `None` (consuming nothing useful) on
/// mismatch.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn eat(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?;
        Some(())
    }

    fn skip_ws(&mut self) {
        self.0 = self.0.trim_start();
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }

    fn era_kanji(&mut self) -> Option<Era> {
        let era = Era::ALL
            .into_iter()
            .find(|era| self.0.starts_with(era.kanji()))?;
        self.0 = &self.0[era.kanji().len()..];
        Some(era)
    }

    fn era_letter(&mut self) -> Option<Era> {
        let mut chars = self.0.chars();
        let era = chars.next().and_then(Era::from_letter)?;
        self.0 = chars.as_str();
        Some(era)
    }

    /// One of the separators allowed between numeric date parts.
    fn separator(&mut self) -> Option<char> {
        let sep = self
            .0
            .chars()
            .next()
            .filter(|c| matches!(c, '.' | '/' | '-'))?;
        self.0 = &self.0[sep.len_utf8()..];
        Some(sep)
    }

    /// An era year: "元" or up to three digits (令和100年 is 2118).
    fn era_year(&mut self) -> Option<u32> {
        if self.eat('元').is_some() {
            Some(1)
        } else {
            self.number(3)
        }
    }

    /// 1..=`max_digits` ASCII digits, not followed by another digit.
    fn number(&mut self, max_digits: usize) -> Option<u32> {
        let len = self.0.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 || len > max_digits {
            return None;
        }
        let value = self.0[..len].parse().ok()?;
        self.0 = &self.0[len..];
        Some(value)
    }

    fn exact_digits(&mut self, digits: usize) -> Option<u32> {
        let len = self.0.bytes().take_while(u8::is_ascii_digit).count();
        if len != digits {
            return None;
        }
        self.number(digits)
    }
}

/// A fiscal year (年度), April 1 to March 31, named by the calendar year in
/// which it starts: `FiscalYear(2026)` is 2026-04-01..=2027-03-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FiscalYear(pub i32);

impl FiscalYear {
    /// The fiscal year that contains `date`.
    pub fn containing(date: NaiveDate) -> FiscalYear {
        if date.month() >= 4 {
            FiscalYear(date.year())
        } else {
            FiscalYear(date.year() - 1)
        }
    }

    /// Whether `date` falls in this fiscal year.
    pub fn contains(self, date: NaiveDate) -> bool {
        FiscalYear::containing(date) == self
    }

    /// April 1 of the starting year.
    ///
    /// Years beyond chrono's range (about ±262,000) saturate to
    /// `NaiveDate::MIN`/`MAX` instead of panicking, since the year may come
    /// from a request parameter.
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).unwrap_or_else(|| saturated(self.0))
    }

    /// March 31 of the following year (inclusive end). Saturates like
    /// [`FiscalYear::start`].
    pub fn end(self) -> NaiveDate {
        self.0
            .checked_add(1)
            .and_then(|next| NaiveDate::from_ymd_opt(next, 3, 31))
            .unwrap_or_else(|| saturated(self.0))
    }

    /// The twelve (year, month) pairs of the fiscal year, April to March.
    pub fn months(self) -> impl ExactSizeIterator<Item = (i32, u32)> + DoubleEndedIterator + Clone {
        let first = self.0;
        let second = self.0.saturating_add(1);
        (4..16u32).map(move |m| {
            if m <= 12 {
                (first, m)
            } else {
                (second, m - 12)
            }
        })
    }

    /// The 和暦 label, e.g. "令和8年度".
    ///
    /// The era is the one in force on April 1, following the government
    /// convention: FY2019 (2019-04-01..2020-03-31) is "平成31年度" even though
    /// 令和 began in May; "令和元年度" is also seen for that year, but taking
    /// the start date makes the label a pure function of the year. Years
    /// before 明治 are labelled in Gregorian ("1850年度").
    pub fn label(self) -> String {
        match self.era() {
            Some(era) => {
                let mut out = String::from(era.kanji());
                // Writing into a String cannot fail.
                let _ = write_long_year(&mut out, era.year_of(self.0));
                out.push_str("年度");
                out
            }
            None => format!("{}年度", self.0),
        }
    }

    /// The short label, e.g. "R8年度" ("H31年度" for FY2019, "H1年度" for FY1989).
    pub fn label_short(self) -> String {
        match self.era() {
            Some(era) => format!("{}{}年度", era.letter(), era.year_of(self.0)),
            None => format!("{}年度", self.0),
        }
    }

    /// The era used for labels: the one in force on April 1.
    fn era(self) -> Option<Era> {
        NaiveDate::from_ymd_opt(self.0, 4, 1).and_then(Era::in_force_on)
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn saturated(year: i32) -> NaiveDate {
    if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn era_boundaries() {
        let table = [
            ((1868, 10, 23), "明治元年10月23日", "M1.10.23"),
            ((1912, 7, 29), "明治45年7月29日", "M45.7.29"),
            ((1912, 7, 30), "大正元年7月30日", "T1.7.30"),
            ((1926, 12, 24), "大正15年12月24日", "T15.12.24"),
            ((1926, 12, 25), "昭和元年12月25日", "S1.12.25"),
            ((1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
            ((1989, 1, 8), "平成元年1月8日", "H1.1.8"),
            ((2019, 4, 30), "平成31年4月30日", "H31.4.30"),
            ((2019, 5, 1), "令和元年5月1日", "R1.5.1"),
            ((2026, 5, 1), "令和8年5月1日", "R8.5.1"),
        ];
        for ((y, m, day), long, short) in table {
            let date = d(y, m, day);
            assert_eq!(format_long(date), long, "{date}");
            assert_eq!(format_short(date), short, "{date}");
            assert_eq!(parse_wareki(long), Ok(date), "{long}");
            assert_eq!(parse_wareki(short), Ok(date), "{short}");
        }
    }

    #[test]
    fn before_meiji_has_no_era() {
        assert_eq!(WarekiDate::from_gregorian(d(1868, 10, 22)), None);
        assert_eq!(format_long(d(1868, 10, 22)), "1868年10月22日");
        assert_eq!(format_short(d(1850, 1, 1)), "1850-01-01");
        assert_eq!(parse_wareki("1850年1月1日"), Ok(d(1850, 1, 1)));
        assert_eq!(format_year_month(1850, 1), "1850年1月");
    }

    #[test]
    fn era_table() {
        assert_eq!(Era::Heisei.last_day(), Some(d(2019, 4, 30)));
        assert_eq!(Era::Reiwa.last_day(), None);
        assert_eq!(Era::from_letter('r'), Some(Era::Reiwa));
        assert_eq!(Era::from_kanji("昭和"), Some(Era::Showa));
        assert_eq!(Era::from_kanji("大化"), None);
        for pair in Era::ALL.windows(2) {
            assert_eq!(pair[0].next(), Some(pair[1]));
            assert!(pair[0].start() < pair[1].start());
        }
    }

    #[test]
    fn year_month_uses_era_on_the_first() {
        assert_eq!(format_year_month(2026, 5), "令和8年5月");
        assert_eq!(format_year_month(2019, 4), "平成31年4月");
        assert_eq!(format_year_month(2019, 5), "令和元年5月");
        assert_eq!(format_year_month(1989, 1), "昭和64年1月");
        assert_eq!(format_year_month(1989, 2), "平成元年2月");
        assert_eq!(format_year_month(2026, 13), "2026年13月");
    }

    #[test]
    fn datetime_long() {
        let dt = d(2026, 5, 1).and_hms_opt(9, 5, 30).expect("valid time");
        assert_eq!(format_datetime_long(dt), "令和8年5月1日 09:05");
        let dt = d(2019, 5, 1).and_hms_opt(23, 59, 0).expect("valid time");
        assert_eq!(format_datetime_long(dt), "令和元年5月1日 23:59");
    }

    #[test]
    fn parse_accepted_forms() {
        let may1 = d(2026, 5, 1);
        for text in [
            "令和8年5月1日",
            "令和08年05月01日",
            "令和８年５月１日",
            " 令和 8 年 5 月 1 日 ",
            "\u{3000}令和8年5月1日\u{3000}",
            "R8.5.1",
            "R08.05.01",
            "r8.5.1",
            "Ｒ８．５．１",
            "R8/5/1",
            "R8-5-1",
            "2026-05-01",
            "2026-5-1",
            "2026/05/01",
            "２０２６－０５－０１",
            "2026年5月1日",
        ] {
            assert_eq!(parse_wareki(text), Ok(may1), "{text:?}");
        }
        assert_eq!(parse_wareki("令和元年5月1日"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_wareki("R元.5.1"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_wareki("令和6年2月29日"), Ok(d(2024, 2, 29)));
    }

    #[test]
    fn parse_rejects_nonexistent_days() {
        let err = parse_wareki("平成31年5月1日").expect_err("平成 ended on 4/30");
        assert_eq!(
            err.to_string(),
            "平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで。2019年5月1日は令和元年5月1日です）。"
        );
        let err = parse_wareki("令和元年4月30日").expect_err("令和 began on 5/1");
        assert_eq!(
            err.to_string(),
            "令和元年4月30日は存在しない日付です（令和は令和元年5月1日から。2019年4月30日は平成31年4月30日です）。"
        );
        let err = parse_wareki("令和0年5月1日").expect_err("no year 0");
        assert_eq!(
            err.to_string(),
            "令和0年5月1日は存在しない日付です（令和は元年（1年）から数えます）。"
        );
        for text in [
            "H31.5.1",
            "S64.1.8",
            "平成元年1月7日",
            "令和0年5月1日",
            "R0.5.1",
            "T1.7.29",
            "M1.10.22",
        ] {
            assert!(
                matches!(parse_wareki(text), Err(WarekiError::OutsideEra(_))),
                "{text}"
            );
        }
        let err = parse_wareki("令和8年2月29日").expect_err("2026 is not a leap year");
        assert_eq!(err.to_string(), "令和8年2月29日は存在しない日付です。");
        for text in [
            "R8.13.1",
            "令和8年13月",
            "令和8年13月1日",
            "2026-13-01",
            "2026年0月1日",
        ] {
            assert!(
                matches!(parse_wareki(text), Err(WarekiError::MonthOutOfRange(_))),
                "{text}"
            );
        }
        assert_eq!(
            parse_wareki("令和8年13月").map_err(|e| e.to_string()),
            Err("13月という月はありません（1月～12月で入力してください）。".to_string())
        );
        let err = parse_wareki("2026-02-30").expect_err("no Feb 30");
        assert_eq!(err.to_string(), "2026年2月30日は存在しない日付です。");
    }

    #[test]
    fn parse_rejects_malformed_input() {
        assert_eq!(parse_wareki(""), Err(WarekiError::Empty));
        assert_eq!(parse_wareki(" \u{3000}"), Err(WarekiError::Empty));
        for text in [
            "昨日",
            "令和",
            "令和8年5月",
            "令和8年5月1日x",
            "令和8年5月1",
            "令和1000年1月1日",
            "R8.5",
            "R8.5.1.1",
            "R8.5-1",
            "R8..5.1",
            "R.5.1",
            "X8.5.1",
            "26-05-01",
            "20260501",
            "2026-05-001",
            "2026-05",
            "123456789018",
        ] {
            assert_eq!(
                parse_wareki(text),
                Err(WarekiError::InvalidFormat),
                "{text:?}"
            );
        }
        // The message must not echo the input (it could be an identity number).
        let msg = parse_wareki("123456789018")
            .expect_err("not a date")
            .to_string();
        assert!(!msg.contains("123456789018"));
    }

    #[test]
    fn round_trip_every_day_1900_to_2100() {
        let mut date = d(1900, 1, 1);
        let last = d(2100, 12, 31);
        while date <= last {
            let long = format_long(date);
            assert_eq!(parse_wareki(&long), Ok(date), "{long}");
            let short = format_short(date);
            assert_eq!(parse_wareki(&short), Ok(date), "{short}");
            let wareki = WarekiDate::from_gregorian(date).expect("after 明治");
            assert_eq!(wareki.to_gregorian(), Ok(date));
            date = date.succ_opt().expect("within chrono range");
        }
    }

    /// Compares era and era year with ICU4X's Japanese calendar (CLDR data).
    #[test]
    fn matches_icu_japanese_calendar() {
        use icu_calendar::Date;
        use icu_calendar::cal::Japanese;

        fn icu_era(code: &str) -> Option<Era> {
            match code {
                "meiji" => Some(Era::Meiji),
                "taisho" => Some(Era::Taisho),
                "showa" => Some(Era::Showa),
                "heisei" => Some(Era::Heisei),
                "reiwa" => Some(Era::Reiwa),
                _ => None,
            }
        }

        let japanese = Japanese::new();
        let mut dates = Vec::new();
        // A stride co-prime with 7 and month lengths walks through all
        // weekdays and days of month; plus a week either side of each change.
        let mut date = d(1873, 1, 1);
        while date <= d(2100, 12, 31) {
            dates.push(date);
            date = date
                .checked_add_days(chrono::Days::new(23))
                .expect("within chrono range");
        }
        for era in Era::ALL {
            for offset in -7i64..=7 {
                dates.push(era.start() + chrono::Duration::days(offset));
            }
        }
        assert!(dates.len() > 3000);

        let mut compared = 0;
        for date in dates {
            let month = u8::try_from(date.month()).expect("month fits u8");
            let day = u8::try_from(date.day()).expect("day fits u8");
            let icu = Date::try_new_iso(date.year(), month, day)
                .expect("valid ISO date")
                .to_calendar(japanese);
            let era_year = icu.era_year();
            let ours = WarekiDate::from_gregorian(date);
            // ICU renders 明治1–5 (before the 1873 calendar reform) as CE.
            if era_year.era == "ce" {
                assert!(date.year() < 1873, "{date}");
                continue;
            }
            let icu_era = icu_era(era_year.era.as_str());
            assert!(icu_era.is_some(), "unknown ICU era code {}", era_year.era);
            let ours = ours.expect("ICU has an era, so must we");
            assert_eq!(Some(ours.era), icu_era, "{date}");
            assert_eq!(i64::from(ours.year), i64::from(era_year.year), "{date}");
            assert_eq!(ours.month, u32::from(icu.month().ordinal), "{date}");
            assert_eq!(ours.day, u32::from(icu.day_of_month().0), "{date}");
            compared += 1;
        }
        assert!(compared > 3000);
    }

    #[test]
    fn fiscal_year_boundaries() {
        assert_eq!(FiscalYear::containing(d(2026, 3, 31)), FiscalYear(2025));
        assert_eq!(FiscalYear::containing(d(2026, 4, 1)), FiscalYear(2026));
        assert_eq!(FiscalYear::containing(d(2027, 3, 31)), FiscalYear(2026));
        assert_eq!(FiscalYear::containing(d(2026, 1, 1)), FiscalYear(2025));

        let fy = FiscalYear(2026);
        assert_eq!(fy.start(), d(2026, 4, 1));
        assert_eq!(fy.end(), d(2027, 3, 31));
        assert!(fy.contains(d(2026, 4, 1)));
        assert!(fy.contains(d(2027, 3, 31)));
        assert!(!fy.contains(d(2026, 3, 31)));
        assert!(!fy.contains(d(2027, 4, 1)));
        assert_eq!(fy.label(), "令和8年度");
        assert_eq!(fy.label_short(), "R8年度");
        assert_eq!(fy.to_string(), "令和8年度");
        // Leap day at the end of the fiscal year is still inside it.
        assert_eq!(FiscalYear(2027).end(), d(2028, 3, 31));
        assert!(FiscalYear(2027).contains(d(2028, 2, 29)));
    }

    #[test]
    fn fiscal_year_labels_use_era_on_april_first() {
        let table = [
            (2019, "平成31年度", "H31年度"),
            (2020, "令和2年度", "R2年度"),
            (1989, "平成元年度", "H1年度"),
            (1988, "昭和63年度", "S63年度"),
            (1926, "大正15年度", "T15年度"),
            (1868, "1868年度", "1868年度"),
        ];
        for (year, long, short) in table {
            assert_eq!(FiscalYear(year).label(), long);
            assert_eq!(FiscalYear(year).label_short(), short);
        }
    }

    #[test]
    fn fiscal_year_months() {
        let months: Vec<_> = FiscalYear(2026).months().collect();
        assert_eq!(months.len(), 12);
        assert_eq!(months.first(), Some(&(2026, 4)));
        assert_eq!(months.get(8), Some(&(2026, 12)));
        assert_eq!(months.get(9), Some(&(2027, 1)));
        assert_eq!(months.last(), Some(&(2027, 3)));
        assert_eq!(FiscalYear(2026).months().len(), 12);
    }

    #[test]
    fn fiscal_year_extremes_do_not_panic() {
        for year in [i32::MIN, i32::MAX, 300_000, -300_000] {
            let fy = FiscalYear(year);
            let _ = (fy.start(), fy.end(), fy.label(), fy.label_short());
            assert_eq!(fy.months().count(), 12);
        }
    }
}
