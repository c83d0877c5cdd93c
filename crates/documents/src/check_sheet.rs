//! The 疎通確認結果表 (connectivity check-result sheet) as a [`Document`], so that a kept sheet prints as PDF
//! through the report engine.
//!
//! The sheet is built from what the store kept when the checks ran (its lines, operator and time), with the
//! XLSX's title and column labels ([`unyo_probe::sheet`]), so the PDF says what the kept XLSX says. The
//! kept XLSX itself stays the evidence, byte for byte; the PDF is laid out anew from the same lines.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use unyo_domain::connectivity::State;
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::wareki::format_long;
use unyo_exchange::incident::wareki_datetime;
use unyo_probe::sheet::{SHEET_COLUMNS, SHEET_TITLE};
use unyo_report::{Align, Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::connectivity::Sheet;

/// Widths in millimetres of [`SHEET_COLUMNS`] on A4 landscape (267 mm of text width): a site name of ten
/// characters, a host name, a `TCP 10.41.31.21:443` address and a time with seconds each fit on one line;
/// 詳細, empty for most lines, takes what is left.
const WIDTHS: [f64; 9] = [9.0, 40.0, 36.0, 42.0, 45.0, 15.0, 17.0, 35.0, 28.0];

/// The file name people see for the PDF: `疎通確認結果表_No.12.pdf`.
pub fn check_sheet_pdf_file_name(id: i64) -> String {
    format!("{SHEET_TITLE}_No.{id}.pdf")
}

/// A kept 疎通確認結果表 laid out for print: A4 landscape, the run's facts (number, time in 和暦, operator,
/// linked work entry, note, counts per result) under the title, one row per target with its result and
/// latency (header repeated on every page), and a 確認欄 with the operator and a blank for the
/// prefecture.
pub fn check_sheet_document(sheet: &Sheet) -> Document {
    let run_on = from_storage(&sheet.created_at).map(|at| to_jst(at).date());
    let mut doc = Document::new(SHEET_TITLE);
    doc.landscape = true;
    // Also the running header of the following pages.
    doc.subtitle = run_on.map(|d| format!("{} 実施", format_long(d)));
    doc.footer_note = Some(format!("{SHEET_TITLE} No.{}", sheet.id));

    let mut meta = vec![
        ("結果表番号".to_string(), format!("No.{}", sheet.id)),
        ("実施日時".to_string(), wareki_datetime(&sheet.created_at)),
        ("実施者".to_string(), sheet.operator.clone()),
    ];
    if let Some(w) = sheet.work_entry_id {
        meta.push(("作業記録".to_string(), format!("No.{w}")));
    }
    if !sheet.note.trim().is_empty() {
        meta.push(("備考".to_string(), sheet.note.trim().to_string()));
    }
    meta.push(("確認件数".to_string(), counts(sheet)));
    doc.meta = meta;

    let columns = SHEET_COLUMNS
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
    for (n, l) in sheet.lines.iter().enumerate() {
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
            .sheet(SHEET_TITLE)
            .push(Block::Paragraph(legend(run_on)))
            .push(Block::Table(table)),
    );

    doc.approval = Some(Approval {
        title: Some("確認欄".into()),
        columns: vec![
            ApprovalColumn {
                role: "実施者".into(),
                name: Some(sheet.operator.clone()),
                date: run_on,
            },
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
fn counts(sheet: &Sheet) -> String {
    let total = sheet.lines.len();
    let parts: Vec<String> = [State::Up, State::Degraded, State::Down, State::Unknown]
        .into_iter()
        .filter_map(|s| {
            let n = sheet
                .lines
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
fn legend(run_on: Option<NaiveDate>) -> String {
    let mut text =
        "結果の記号: ○ 正常　△ 低下　× 停止　？ 不明。応答時間は応答のあった確認のみ。".to_string();
    if let Some(d) = run_on {
        text.push_str(&format!(
            "確認時刻は実施日（{}）の時刻（日の異なるものは月日も示す）。",
            format_long(d)
        ));
    }
    text
}

/// A line's time (JST `YYYY-MM-DD hh:mm:ss`, as the sheet keeps it) with seconds: `09:30:05` on the run's day
/// (the full date is in 実施日時, and the column stays one line), else the month and day over the time,
/// `5月13日` over `00:00:02` (a run across midnight; the year is the run's). The text itself when it is not
/// such a time.
fn line_time(at: &str, run_on: Option<NaiveDate>) -> String {
    match NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S") {
        Ok(t) if Some(t.date()) == run_on => t.format("%H:%M:%S").to_string(),
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
    use unyo_store::connectivity::SheetLine;

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
        let doc = check_sheet_document(&sheet);
        let meta = |k: &str| {
            doc.meta
                .iter()
                .find(|(l, _)| l == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(meta("実施日時"), "令和8年5月12日 09:30");
        assert_eq!(meta("作業記録"), "No.41");
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
        assert_eq!(
            approval.columns[0].date,
            NaiveDate::from_ymd_opt(2026, 5, 12)
        );
        assert!(unyo_report::missing_glyphs(&check_sheet_document(&sheet)).is_empty());
        assert_eq!(check_sheet_pdf_file_name(3), "疎通確認結果表_No.3.pdf");
    }
}
