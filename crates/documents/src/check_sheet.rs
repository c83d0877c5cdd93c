//! The 疎通確認結果表 (connectivity check-result sheet) of an on-demand run as a [`Document`], rendered to XLSX
//! when the run is kept (the evidence, stored byte for byte by the probe crate's run path through
//! [`check_sheet_xlsx`]) and to PDF from the kept lines ([`check_sheet_document`]), so both are the same
//! document.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use unyo_domain::connectivity::State;
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::wareki::{format_datetime_long, format_long};
use unyo_report::{Align, Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::connectivity::{Sheet, SheetLine};

/// The sheet's title (and the XLSX sheet's name).
pub const CHECK_SHEET_TITLE: &str = "疎通確認結果表";

/// The column labels of the result table (the line number first), in the order the XLSX and the PDF print
/// them.
pub const CHECK_SHEET_COLUMNS: [&str; 9] = [
    "No.",
    "拠点",
    "対象",
    "確認項目",
    "宛先",
    "結果",
    "応答時間(ms)",
    "詳細",
    "確認時刻",
];

/// Widths in millimetres of [`CHECK_SHEET_COLUMNS`] on A4 landscape (267 mm of text width): a site name of
/// ten characters, a host name, a `TCP 10.41.31.21:443` address and a time with seconds each fit on one
/// line; 詳細, empty for most lines, takes what is left.
const WIDTHS: [f64; 9] = [9.0, 40.0, 36.0, 42.0, 45.0, 15.0, 17.0, 35.0, 28.0];

/// One run of checks as the sheet shows it.
#[derive(Debug, Clone, Copy)]
pub struct CheckRun<'a> {
    /// The kept sheet's number; `None` while the run is being kept (the store numbers it).
    pub number: Option<i64>,
    /// When the run was kept (JST).
    pub at: NaiveDateTime,
    /// The engineer who ran the checks, by name (not the login id).
    pub operator: &'a str,
    /// The work entry the run belongs to.
    pub work_entry_id: Option<i64>,
    /// The operator's note.
    pub note: &'a str,
    /// One line per target, in the order of the run.
    pub lines: &'a [SheetLine],
}

/// The file name people see: `疎通確認結果表_No.12.pdf` / `.xlsx`.
pub fn check_sheet_file_name(id: i64, format: crate::Format) -> String {
    format!("{CHECK_SHEET_TITLE}_No.{id}.{}", format.ext())
}

/// The file name people see for the PDF: `疎通確認結果表_No.12.pdf`.
pub fn check_sheet_pdf_file_name(id: i64) -> String {
    check_sheet_file_name(id, crate::Format::Pdf)
}

/// A kept sheet laid out for print, from what the store kept (its lines, time and note), naming the engineer
/// `operator_name` (the display name of the sheet's operator; the login id when the account is gone).
pub fn check_sheet_document(sheet: &Sheet, operator_name: &str) -> Document {
    let at = from_storage(&sheet.created_at)
        .map(to_jst)
        .unwrap_or_default();
    check_run_document(&CheckRun {
        number: Some(sheet.id),
        at,
        operator: operator_name,
        work_entry_id: sheet.work_entry_id,
        note: &sheet.note,
        lines: &sheet.lines,
    })
}

/// The XLSX of a run as it is kept (see [`check_run_document`]).
pub fn check_sheet_xlsx(run: &CheckRun) -> crate::Result<Vec<u8>> {
    Ok(unyo_report::render_xlsx(&check_run_document(run))?)
}

/// The 疎通確認結果表 of a run: A4 landscape, the run's facts (number once kept, time in 和暦, the engineer
/// by name, linked work entry, note, counts per result) under the title, one row per target with its result
/// and latency (header repeated on every page), and a 確認欄 with the engineer (signed with the run's date)
/// and a blank for the prefecture.
pub fn check_run_document(run: &CheckRun) -> Document {
    let run_on = run.at.date();
    let mut doc = Document::new(CHECK_SHEET_TITLE);
    doc.landscape = true;
    // Also the running header of the following pages.
    doc.subtitle = Some(format!("{} 実施", format_long(run_on)));
    doc.footer_note = Some(match run.number {
        Some(n) => format!("{CHECK_SHEET_TITLE} No.{n}"),
        None => format!("{CHECK_SHEET_TITLE} {} 実施", format_datetime_long(run.at)),
    });

    let mut meta = Vec::new();
    if let Some(n) = run.number {
        meta.push(("結果表番号".to_string(), format!("No.{n}")));
    }
    meta.push(("実施日時".to_string(), format_datetime_long(run.at)));
    meta.push(("実施者".to_string(), run.operator.to_string()));
    if let Some(w) = run.work_entry_id {
        meta.push(("作業記録".to_string(), format!("No.{w}")));
    }
    if !run.note.trim().is_empty() {
        meta.push(("備考".to_string(), run.note.trim().to_string()));
    }
    meta.push(("確認件数".to_string(), counts(run.lines)));
    doc.meta = meta;

    let columns = CHECK_SHEET_COLUMNS
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .map(|(i, (label, width))| {
            let align = match i {
                0 | 6 => Align::Right,
                5 => Align::Center,
                _ => Align::Left,
            };
            Column::new(*label, width, align)
        })
        .collect();
    let mut table = Table::new(columns);
    table.empty_text = Some("確認した対象はない。".into());
    for (n, l) in run.lines.iter().enumerate() {
        table = table.row(vec![
            Cell::from(n + 1),
            l.site.clone().into(),
            l.target.clone().into(),
            l.check.clone().into(),
            l.probe.clone().into(),
            format!("{} {}", mark(&l.status), l.result).into(),
            l.latency_ms.map_or_else(|| "-".into(), Cell::from),
            l.message.clone().into(),
            line_time(&l.at, run_on).into(),
        ]);
    }
    doc.sections.push(
        Section::new("確認結果")
            .sheet(CHECK_SHEET_TITLE)
            .push(Block::Paragraph(legend(run_on)))
            .push(Block::Table(table)),
    );

    doc.approval = Some(Approval {
        title: Some("確認欄".into()),
        columns: vec![
            ApprovalColumn::signed("実施者", run.operator, run_on),
            ApprovalColumn::new("確認者（県）"),
        ],
        seal_boxes: false,
    });
    doc
}

/// A mark that tells the result without colour (the XLSX sets the abnormal ones in bold).
fn mark(status: &str) -> &'static str {
    match State::parse(status) {
        Some(State::Up) => "○",
        Some(State::Degraded) => "△",
        Some(State::Down) => "×",
        Some(State::Unknown) | None => "？",
    }
}

/// `5件（正常 4件、停止 1件）`: every line counted once, by result, in the order of [`State`]'s severity.
fn counts(lines: &[SheetLine]) -> String {
    let total = lines.len();
    let parts: Vec<String> = [State::Up, State::Degraded, State::Down, State::Unknown]
        .into_iter()
        .filter_map(|s| {
            let n = lines
                .iter()
                .filter(|l| State::parse(&l.status).unwrap_or(State::Unknown) == s)
                .count();
            (n > 0).then(|| format!("{} {n}件", s.label_ja()))
        })
        .collect();
    if parts.is_empty() {
        format!("{total}件")
    } else {
        format!("{total}件（{}）", parts.join("、"))
    }
}

/// What the marks and the columns mean.
fn legend(run_on: NaiveDate) -> String {
    format!(
        "結果の記号: ○ 正常　△ 低下　× 停止　？ 不明。応答時間は応答のあった確認のみ。\
         確認時刻は実施日（{}）の時刻（日の異なるものは月日も示す）。",
        format_long(run_on)
    )
}

/// A line's time (JST `YYYY-MM-DD hh:mm:ss`, as the sheet keeps it) with seconds: `09:30:05` on the run's day
/// (the full date is in 実施日時, and the column stays one line), else the month and day over the time,
/// `5月13日` over `00:00:02` (a run across midnight; the year is the run's). The text itself when it is not
/// such a time.
fn line_time(at: &str, run_on: NaiveDate) -> String {
    match NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S") {
        Ok(t) if t.date() == run_on => t.format("%H:%M:%S").to_string(),
        Ok(t) => format!("{}\n{}", month_day(t.date()), t.format("%H:%M:%S")),
        Err(_) => at.to_string(),
    }
}

/// `5月13日`.
fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: &str, result: &str, latency_ms: Option<u32>) -> SheetLine {
        SheetLine {
            check_id: 1,
            site: "佐賀県庁".into(),
            target: "代表端末".into(),
            check: "代表端末 ping".into(),
            probe: "ICMP 10.0.0.1".into(),
            status: status.into(),
            result: result.into(),
            latency_ms,
            message: String::new(),
            at: "2026-05-12 09:30:05".into(),
        }
    }

    #[test]
    fn lines_are_counted_and_dated_in_wareki() {
        let sheet = Sheet {
            id: 3,
            created_at: "2026-05-12T00:30:07Z".into(),
            operator: "se".into(),
            work_entry_id: Some(41),
            note: "月次確認".into(),
            lines: vec![
                line("up", "正常", Some(4)),
                SheetLine {
                    at: "2026-05-13 00:00:02".into(),
                    ..line("up", "正常", Some(6))
                },
                line("down", "停止", None),
            ],
        };
        let doc = check_sheet_document(&sheet, "佐賀 一郎");
        let meta = |k: &str| {
            doc.meta
                .iter()
                .find(|(l, _)| l == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(meta("実施日時"), "令和8年5月12日 09:30");
        assert_eq!(meta("作業記録"), "No.41");
        assert_eq!(meta("実施者"), "佐賀 一郎");
        assert_eq!(meta("確認件数"), "3件（正常 2件、停止 1件）");
        let Some(Block::Table(t)) = doc.sections[0].blocks.get(1) else {
            panic!("the result table");
        };
        assert_eq!(t.rows[2][5], Cell::text("× 停止"));
        assert_eq!(t.rows[2][6], Cell::text("-"));
        assert_eq!(t.rows[0][6], Cell::Integer(4));
        assert_eq!(t.rows[0][8], Cell::text("09:30:05"));
        assert_eq!(t.rows[1][8], Cell::text("5月13日\n00:00:02"));
        let approval = doc.approval.expect("approval");
        assert_eq!(approval.columns[0].name.as_deref(), Some("佐賀 一郎"));
        assert_eq!(
            approval.columns[0].date,
            NaiveDate::from_ymd_opt(2026, 5, 12)
        );
        assert!(unyo_report::missing_glyphs(&check_sheet_document(&sheet, "佐賀 一郎")).is_empty());
        assert_eq!(check_sheet_pdf_file_name(3), "疎通確認結果表_No.3.pdf");
    }
}
