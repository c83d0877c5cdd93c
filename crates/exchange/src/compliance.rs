//! The compliance view (準拠状況) as Excel-friendly CSV and as a print-ready XLSX workbook.
//!
//! - CSV: one line per terminal × item (ホスト名, 拠点, 種別, 項目, 期待値, 実測値, 判定, 理由, 根拠,
//!   インベントリ受信日時), so that Excel's filter finds every 遅れ at once. UTF-8 with a BOM, CRLF, and
//!   the formula guard on text cells.
//! - XLSX: sheet 準拠状況 is the grid as on screen (terminals × items; each cell 「遅れ: 6.3.9600」, lagging
//!   cells filled and marked in words, never by colour alone), sheet 明細 the lines of the CSV. A4
//!   landscape, header row repeated, page numbers.

use crate::ExchangeError;
use crate::columns::jst_text;
use rust_xlsxwriter::{
    ColNum, Color, DocProperties, Format, FormatAlign, FormatBorder, RowNum, Workbook,
};
use unyo_domain::campaign::{CellState, ComplianceCell};
use unyo_domain::registry::TerminalKind;
use unyo_store::campaigns::{ComplianceGrid, ComplianceRow};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const FONT: &str = "游ゴシック";
const PAPER_A4: u8 = 9;
const TITLE: &str = "準拠状況";
const DETAIL: &str = "明細";

/// The columns of the CSV and of sheet 明細.
const DETAIL_COLUMNS: &[(&str, f64)] = &[
    ("ホスト名", 20.0),
    ("拠点", 18.0),
    ("種別", 10.0),
    ("項目", 22.0),
    ("期待値", 16.0),
    ("実測値", 30.0),
    ("判定", 8.0),
    ("理由", 50.0),
    ("根拠", 18.0),
    ("インベントリ受信日時", 17.0),
];

fn kind_label(code: &str) -> &str {
    TerminalKind::parse(code)
        .map(TerminalKind::label_ja)
        .unwrap_or(code)
}

fn received(row: &ComplianceRow) -> String {
    row.received_at.as_deref().map(jst_text).unwrap_or_default()
}

/// The lines of the detail: one per terminal × item.
fn detail_lines(grid: &ComplianceGrid) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for row in &grid.rows {
        for (item, cell) in grid.items.iter().zip(&row.cells) {
            out.push(vec![
                row.hostname.clone(),
                row.site_name.clone(),
                kind_label(&row.kind).to_string(),
                item.label.clone(),
                cell.expected.clone(),
                cell.observed.clone(),
                cell.state.label_ja().to_string(),
                cell.reason.clone(),
                item.sources.join("、"),
                received(row),
            ]);
        }
    }
    out
}

/// Prefixes an apostrophe to a value Excel would evaluate as a formula.
fn guard(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

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

/// The compliance grid as CSV (UTF-8 with BOM, CRLF), one line per terminal × item.
pub fn compliance_csv(grid: &ComplianceGrid) -> Vec<u8> {
    let mut out = String::new();
    let header: Vec<String> = DETAIL_COLUMNS.iter().map(|c| c.0.to_owned()).collect();
    push_record(&mut out, &header);
    for line in detail_lines(grid) {
        let fields: Vec<String> = line.iter().map(|v| guard(v)).collect();
        push_record(&mut out, &fields);
    }
    let mut bytes = Vec::with_capacity(UTF8_BOM.len() + out.len());
    bytes.extend_from_slice(UTF8_BOM);
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

/// The text of one grid cell: 「遅れ: 6.3.9600」, 「適合: 10.0.19045」, 「不明」.
pub fn cell_text(cell: &ComplianceCell) -> String {
    if cell.observed.is_empty() {
        cell.state.label_ja().to_string()
    } else {
        format!("{}: {}", cell.state.label_ja(), cell.observed)
    }
}

fn too_many() -> ExchangeError {
    ExchangeError::Xlsx(rust_xlsxwriter::XlsxError::RowColumnLimitError)
}

/// The compliance grid as an XLSX workbook: sheet 準拠状況 (the grid) and sheet 明細 (the CSV's lines).
pub fn compliance_xlsx(grid: &ComplianceGrid) -> Result<Vec<u8>, ExchangeError> {
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
    let lagging = body
        .clone()
        .set_bold()
        .set_background_color(Color::RGB(0xFCE4D6));
    let unknown = body.clone().set_background_color(Color::RGB(0xEDEDED));

    // Sheet 1: the grid.
    let sheet = workbook.add_worksheet();
    sheet.set_name(TITLE)?;
    let fixed: [(&str, f64); 4] = [
        ("ホスト名", 20.0),
        ("拠点", 18.0),
        ("種別", 10.0),
        ("インベントリ受信日時", 17.0),
    ];
    for (c, (label, width)) in (0..).zip(fixed) {
        sheet.write_string_with_format(0, c, label, &header)?;
        sheet.set_column_width(c, width)?;
    }
    let first_item = ColNum::try_from(fixed.len()).map_err(|_| too_many())?;
    for (c, item) in (first_item..).zip(&grid.items) {
        let expected = item.expected();
        let label = if expected.is_empty() {
            item.label.clone()
        } else {
            format!("{}（期待値 {expected}）", item.label)
        };
        sheet.write_string_with_format(0, c, &label, &header)?;
        sheet.set_column_width(c, 24.0)?;
    }
    for (r, row) in (1..).zip(&grid.rows) {
        sheet.write_string_with_format(r, 0, &row.hostname, &body)?;
        sheet.write_string_with_format(r, 1, &row.site_name, &body)?;
        sheet.write_string_with_format(r, 2, kind_label(&row.kind), &body)?;
        sheet.write_string_with_format(r, 3, received(row), &body)?;
        for (c, cell) in (first_item..).zip(&row.cells) {
            let format = match cell.state {
                CellState::Lagging => &lagging,
                CellState::Unknown => &unknown,
                _ => &body,
            };
            sheet.write_string_with_format(r, c, cell_text(cell), format)?;
        }
    }
    let last_row = RowNum::try_from(grid.rows.len()).map_err(|_| too_many())?;
    let last_col = ColNum::try_from(fixed.len() + grid.items.len() - 1).map_err(|_| too_many())?;
    sheet.set_freeze_panes(1, 1)?;
    sheet.autofilter(0, 0, last_row, last_col)?;
    sheet.set_paper_size(PAPER_A4);
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_header(format!("&C{TITLE}"));
    sheet.set_footer("&C&P / &N ページ");

    // Sheet 2: the detail lines.
    let sheet = workbook.add_worksheet();
    sheet.set_name(DETAIL)?;
    for (c, (label, width)) in (0..).zip(DETAIL_COLUMNS) {
        sheet.write_string_with_format(0, c, *label, &header)?;
        sheet.set_column_width(c, *width)?;
    }
    let lines = detail_lines(grid);
    for (r, line) in (1..).zip(&lines) {
        let state = line.get(6).map(String::as_str);
        let format = match state {
            Some(s) if s == CellState::Lagging.label_ja() => &lagging,
            Some(s) if s == CellState::Unknown.label_ja() => &unknown,
            _ => &body,
        };
        for (c, v) in (0..).zip(line) {
            sheet.write_string_with_format(r, c, v, format)?;
        }
    }
    let last_row = RowNum::try_from(lines.len()).map_err(|_| too_many())?;
    let last_col = ColNum::try_from(DETAIL_COLUMNS.len() - 1).map_err(|_| too_many())?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last_row, last_col)?;
    sheet.set_paper_size(PAPER_A4);
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_header(format!("&C{TITLE}（{DETAIL}）"));
    sheet.set_footer("&C&P / &N ページ");
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use std::io::Cursor;
    use unyo_domain::campaign::{CampaignGoal, compliance_items};

    fn grid() -> ComplianceGrid {
        let items = compliance_items(
            &[(
                "展-R8-001".into(),
                CampaignGoal::OsBuildAtLeast {
                    min_build: "10.0.19045".into(),
                },
            )],
            None,
        );
        let cell = |state, observed: &str, reason: &str| ComplianceCell {
            state,
            expected: "≥ 10.0.19045".into(),
            observed: observed.into(),
            reason: reason.into(),
        };
        ComplianceGrid {
            rows: vec![
                ComplianceRow {
                    terminal_id: 1,
                    hostname: "jk-kencho-rep01".into(),
                    site_id: 1,
                    site_name: "県庁".into(),
                    kind: "representative".into(),
                    inventory_id: Some(7),
                    received_at: Some("2026-05-12T01:00:00.000000Z".into()),
                    stale: false,
                    cells: vec![
                        cell(
                            CellState::Lagging,
                            "6.3.9600",
                            "OSビルド 6.3.9600 は目標 10.0.19045 未満です",
                        ),
                        cell(CellState::Ok, "Windows Defender（定義は最新と報告）", "=x"),
                    ],
                },
                ComplianceRow {
                    terminal_id: 2,
                    hostname: "jk-kencho-biz01".into(),
                    site_id: 1,
                    site_name: "県庁".into(),
                    kind: "business".into(),
                    inventory_id: None,
                    received_at: None,
                    stale: false,
                    cells: vec![
                        cell(CellState::Unknown, "", "インベントリがありません"),
                        cell(CellState::Unknown, "", "インベントリがありません"),
                    ],
                },
            ],
            items,
            baseline: None,
            generated_at: "2026-05-12T02:00:00.000000Z".into(),
        }
    }

    #[test]
    fn csv_is_one_line_per_terminal_and_item() {
        let bytes = compliance_csv(&grid());
        assert!(bytes.starts_with(UTF8_BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert_eq!(
            lines[0],
            "ホスト名,拠点,種別,項目,期待値,実測値,判定,理由,根拠,インベントリ受信日時"
        );
        assert_eq!(
            lines[1],
            "jk-kencho-rep01,県庁,代表端末,OSビルド,≥ 10.0.19045,6.3.9600,遅れ,OSビルド 6.3.9600 は目標 10.0.19045 未満です,展-R8-001,2026-05-12 10:00"
        );
        assert!(lines[2].contains(",適合,'=x,"), "{}", lines[2]);
        assert!(
            lines[3].contains(",不明,インベントリがありません,"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn xlsx_has_the_grid_and_the_detail() {
        let bytes = compliance_xlsx(&grid()).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        assert_eq!(
            wb.sheet_names(),
            vec!["準拠状況".to_string(), "明細".to_string()]
        );
        let range = wb.worksheet_range("準拠状況").expect("sheet");
        let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(
            cell(0, 4),
            Data::String("OSビルド（期待値 ≥ 10.0.19045）".into())
        );
        assert_eq!(cell(1, 4), Data::String("遅れ: 6.3.9600".into()));
        assert_eq!(cell(2, 4), Data::String("不明".into()));
        assert_eq!(cell(1, 3), Data::String("2026-05-12 10:00".into()));
        let detail = wb.worksheet_range("明細").expect("sheet");
        assert_eq!(detail.get_size(), (5, DETAIL_COLUMNS.len()));
        assert_eq!(detail.get((1, 6)), Some(&Data::String("遅れ".into())));
    }
}
