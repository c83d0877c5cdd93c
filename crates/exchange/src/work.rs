//! The work log (作業記録) as Excel-friendly CSV and as a print-ready XLSX workbook.
//!
//! Both carry the same columns with Japanese headers: the date as ISO (sortable) and in 和暦 with the
//! weekday, the times, the hours as a number, workers, 現地/リモート, site and terminals, the category with
//! its clause of the specification (①–⑤), what was done, the result and follow-up, and the linked
//! request. The CSV is UTF-8 with a BOM and CRLF line ends; free-text cells that Excel would evaluate as a
//! formula get a leading apostrophe (see `csv_export`). The XLSX never writes formulas; it prints on A4
//! landscape, one page wide, with the header row repeated and page numbers in the footer, and ends with
//! a 合計 row.

use crate::ExchangeError;
use crate::columns::jst_text;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    ColNum, Color, DocProperties, Format, FormatAlign, FormatBorder, RowNum, Workbook,
};
use unyo_domain::support::{Category, Clause, WorkMode};
use unyo_store::support::WorkRow;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Excel's default font for Japanese workbooks (see `xlsx`).
const FONT: &str = "游ゴシック";
/// Excel's paper size code for A4.
const PAPER_A4: u8 = 9;
/// The sheet's name and the printed title.
const TITLE: &str = "作業記録";

/// One column: header label, whether people type arbitrary text into it (formula guard on `-` too), and
/// its XLSX width.
struct Col {
    label: &'static str,
    free_text: bool,
    width: f64,
}

const fn col(label: &'static str, free_text: bool, width: f64) -> Col {
    Col {
        label,
        free_text,
        width,
    }
}

/// The columns, in order.
const COLUMNS: &[Col] = &[
    col("記録番号", false, 8.0),
    col("契約番号", true, 12.0),
    col("作業日", false, 11.0),
    col("作業日（和暦）", false, 15.0),
    col("曜日", false, 5.0),
    col("開始時刻", false, 8.0),
    col("終了時刻", false, 8.0),
    col("時間数", false, 7.0),
    col("作業者", true, 16.0),
    col("現地/リモート", false, 9.0),
    col("拠点", true, 18.0),
    col("端末", true, 20.0),
    col("区分", false, 24.0),
    col("契約条項", false, 8.0),
    col("作業内容", true, 40.0),
    col("結果", true, 28.0),
    col("今後の対応", true, 24.0),
    col("支援要請番号", false, 11.0),
    col("登録者", true, 10.0),
    col("更新日時", false, 16.0),
];

/// Index of 時間数 in [`COLUMNS`] (a number in XLSX).
const HOURS_COLUMN: usize = 7;

/// The weekday of `date` as one kanji (月…日).
pub fn weekday_ja(date: NaiveDate) -> &'static str {
    ["月", "火", "水", "木", "金", "土", "日"][date.weekday().num_days_from_monday() as usize]
}

/// One exported value.
enum Value {
    Text(String),
    Hours(i64),
}

/// The values of one entry, in [`COLUMNS`] order.
fn values(w: &WorkRow) -> Vec<Value> {
    let date = NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d").ok();
    let t = |s: &str| Value::Text(s.to_owned());
    let category = Category::parse(&w.category)
        .map(Category::label_ja)
        .unwrap_or(&w.category);
    let clause = Clause::parse(&w.clause)
        .map(Clause::mark)
        .unwrap_or(&w.clause);
    let mode = WorkMode::parse(&w.mode)
        .map(WorkMode::label_ja)
        .unwrap_or(&w.mode);
    vec![
        Value::Text(w.id.to_string()),
        t(&w.contract_number),
        t(&w.work_date),
        Value::Text(
            date.map(unyo_domain::wareki::format_long)
                .unwrap_or_default(),
        ),
        t(date.map(weekday_ja).unwrap_or_default()),
        t(&w.start_time),
        t(&w.end_time),
        Value::Hours(w.minutes),
        t(&w.workers),
        t(mode),
        t(w.site_name.as_deref().unwrap_or_default()),
        t(&w.terminals),
        t(category),
        t(clause),
        t(&w.description),
        t(&w.result),
        t(&w.follow_up),
        t(w.request_number.as_deref().unwrap_or_default()),
        t(&w.created_by),
        Value::Text(jst_text(&w.updated_at)),
    ]
}

/// Hours for the CSV: `1.5` for 90 minutes.
fn hours_text(minutes: i64) -> String {
    unyo_domain::support::hours_label(minutes)
}

/// Prefixes an apostrophe to a value Excel would evaluate as a formula (a leading `-` only in free text).
fn guard(value: &str, free_text: bool) -> String {
    match value.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => format!("'{value}"),
        Some('-') if free_text => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// Appends one CRLF-terminated record, quoting fields as RFC 4180 requires.
fn push_record(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// The work log as CSV (UTF-8 with BOM, CRLF): 記録番号, 契約番号, 作業日, 作業日（和暦）, 曜日, 開始時刻,
/// 終了時刻, 時間数, 作業者, 現地/リモート, 拠点, 端末, 区分, 契約条項, 作業内容, 結果, 今後の対応,
/// 支援要請番号, 登録者, 更新日時.
pub fn work_csv(rows: &[WorkRow]) -> Vec<u8> {
    let mut out = String::new();
    let header: Vec<String> = COLUMNS.iter().map(|c| c.label.to_owned()).collect();
    push_record(&mut out, &header);
    for w in rows {
        let fields: Vec<String> = values(w)
            .into_iter()
            .zip(COLUMNS)
            .map(|(v, c)| match v {
                Value::Text(s) => guard(&s, c.free_text),
                Value::Hours(m) => hours_text(m),
            })
            .collect();
        push_record(&mut out, &fields);
    }
    let mut bytes = Vec::with_capacity(UTF8_BOM.len() + out.len());
    bytes.extend_from_slice(UTF8_BOM);
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

/// The work log as an XLSX workbook (sheet 作業記録, the columns of [`work_csv`], hours as numbers, a
/// 合計 row at the end), set up to print on A4 landscape with the header row on every page.
pub fn work_xlsx(rows: &[WorkRow]) -> Result<Vec<u8>, ExchangeError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title(TITLE));
    let header = Format::new()
        .set_font_name(FONT)
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let body = Format::new()
        .set_font_name(FONT)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_text_wrap();
    let number = Format::new()
        .set_font_name(FONT)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_num_format("0.0#");
    let total_label = Format::new()
        .set_font_name(FONT)
        .set_bold()
        .set_border(FormatBorder::Thin);
    let total_number = Format::new()
        .set_font_name(FONT)
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_num_format("0.0#");

    let sheet = workbook.add_worksheet();
    sheet.set_name(TITLE)?;
    for (c, column) in (0..).zip(COLUMNS) {
        sheet.write_string_with_format(0, c, column.label, &header)?;
        sheet.set_column_width(c, column.width)?;
    }
    let mut minutes_total = 0i64;
    for (r, w) in (1..).zip(rows) {
        minutes_total += w.minutes;
        for (c, v) in (0..).zip(values(w)) {
            match v {
                Value::Text(s) => sheet.write_string_with_format(r, c, &s, &body)?,
                // Minutes of a day are far below 2^53, so the conversion is exact.
                Value::Hours(m) => {
                    sheet.write_number_with_format(r, c, m as f64 / 60.0, &number)?
                }
            };
        }
    }
    let last_row = RowNum::try_from(rows.len())
        .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
    let last_col = ColNum::try_from(COLUMNS.len() - 1)
        .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
    let hours_col = ColNum::try_from(HOURS_COLUMN)
        .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
    let total_row = last_row + 1;
    sheet.write_string_with_format(total_row, 0, "合計", &total_label)?;
    sheet.write_number_with_format(
        total_row,
        hours_col,
        minutes_total as f64 / 60.0,
        &total_number,
    )?;

    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last_row, last_col)?;
    sheet.set_paper_size(PAPER_A4);
    sheet.set_landscape();
    // One page wide, as many pages tall as needed.
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_header(format!("&C{TITLE}"));
    sheet.set_footer("&C&P / &N ページ");
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use std::io::Cursor;

    fn row() -> WorkRow {
        WorkRow {
            id: 12,
            contract_id: 1,
            contract_number: "R8-情-001".into(),
            work_date: "2026-05-12".into(),
            start_time: "09:00".into(),
            end_time: "10:30".into(),
            minutes: 90,
            mode: "onsite".into(),
            site_id: Some(1),
            site_name: Some("県庁".into()),
            category: "app_install".into(),
            clause: "1".into(),
            clause_set: false,
            description: "業務アプリ更新版のインストール, 再起動".into(),
            result: "=正常終了".into(),
            follow_up: "-なし".into(),
            request_id: Some(3),
            request_number: Some("R8-0003".into()),
            created_by: "se".into(),
            created_at: "2026-05-12T01:00:00Z".into(),
            updated_at: "2026-05-12T01:00:00Z".into(),
            worker_ids: vec![3],
            workers: "保守 技郎".into(),
            terminal_ids: vec![1, 2],
            terminals: "jk-kencho-rep01, jk-kencho-biz01".into(),
            hours: "1.5".into(),
        }
    }

    #[test]
    fn weekdays_in_kanji() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(weekday_ja(d("2026-05-12")), "火");
        assert_eq!(weekday_ja(d("2026-05-10")), "日");
        assert_eq!(weekday_ja(d("2026-05-16")), "土");
    }

    #[test]
    fn csv_has_bom_crlf_japanese_header_and_guarded_cells() {
        let bytes = work_csv(&[row()]);
        assert!(bytes.starts_with(UTF8_BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "header, one row, empty tail: {text:?}");
        assert!(lines[0].starts_with("記録番号,契約番号,作業日,作業日（和暦）,曜日,開始時刻"));
        assert!(lines[0].contains("区分,契約条項,作業内容"));
        let r = lines[1];
        assert!(
            r.starts_with(
                "12,R8-情-001,2026-05-12,令和8年5月12日,火,09:00,10:30,1.5,保守 技郎,現地,県庁,"
            ),
            "{r}"
        );
        assert!(r.contains(",業務アプリケーションのインストール,①,"), "{r}");
        assert!(
            r.contains("\"業務アプリ更新版のインストール, 再起動\""),
            "{r}"
        );
        assert!(
            r.contains(",'=正常終了,'-なし,R8-0003,se,2026-05-12 10:00"),
            "{r}"
        );
        assert!(!text.contains("\n\n"));
    }

    #[test]
    fn xlsx_reads_back_with_hours_as_numbers_and_a_total() {
        let mut second = row();
        second.id = 13;
        second.minutes = 60;
        second.start_time = "13:00".into();
        second.end_time = "14:00".into();
        second.mode = "remote".into();
        second.clause = "2".into();
        let bytes = work_xlsx(&[row(), second]).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        assert_eq!(wb.sheet_names(), vec!["作業記録".to_string()]);
        let range = wb.worksheet_range("作業記録").expect("sheet");
        let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0, 0), Data::String("記録番号".into()));
        assert_eq!(cell(0, 7), Data::String("時間数".into()));
        assert_eq!(cell(1, 3), Data::String("令和8年5月12日".into()));
        assert_eq!(cell(1, 7), Data::Float(1.5));
        assert_eq!(cell(2, 9), Data::String("リモート".into()));
        assert_eq!(cell(2, 13), Data::String("②".into()));
        // Values are never formulas: the guard is a CSV matter only.
        assert_eq!(cell(1, 15), Data::String("=正常終了".into()));
        assert_eq!(cell(3, 0), Data::String("合計".into()));
        assert_eq!(cell(3, 7), Data::Float(2.5));
        // Print titles (the header row on every page) are stored as a defined name.
        let defined = wb.defined_names().to_vec();
        assert!(
            defined
                .iter()
                .any(|(n, v)| n.contains("Print_Titles") && v.contains("$1:$1")),
            "{defined:?}"
        );
    }

    #[test]
    fn empty_log_still_has_a_header_and_a_zero_total() {
        let bytes = work_csv(&[]);
        assert_eq!(
            String::from_utf8_lossy(&bytes[3..]).matches("\r\n").count(),
            1
        );
        let bytes = work_xlsx(&[]).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        let range = wb.worksheet_range("作業記録").expect("sheet");
        assert_eq!(range.get((1, 0)), Some(&Data::String("合計".into())));
        assert_eq!(range.get((1, 7)), Some(&Data::Float(0.0)));
    }
}
