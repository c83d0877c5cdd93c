//! Writing registry and audit data as print-ready Excel workbooks.
//!
//! Every value is written as a string or number, never as a formula, so the CSV formula guard is not
//! needed here and values appear exactly as stored.

use crate::ExchangeError;
use crate::columns::{
    AUDIT_COLUMNS, Cell, Column, FINDING_COLUMNS, NODE_COLUMNS, SITE_COLUMNS, TERMINAL_COLUMNS,
    audit_cell, finding_cell, node_cell, rows, site_cell, site_codes, terminal_cell,
};
use rust_xlsxwriter::{
    ColNum, Color, DocProperties, Format, FormatAlign, FormatBorder, RowNum, Workbook,
};
use unyo_store::audit::AuditEntry;
use unyo_store::registry::{NetworkNode, Site, Terminal};

/// Installed with every Japanese Office since 2016 and Excel's own default for Japanese workbooks;
/// Calibri (rust_xlsxwriter's default) has no kana or kanji.
const FONT: &str = "游ゴシック";
/// Excel's paper size code for A4.
const PAPER_A4: u8 = 9;

/// The 端末台帳 as an XLSX workbook (sheet 端末台帳, same columns as [`crate::terminals_csv`]).
pub fn terminals_xlsx(terminals: &[Terminal]) -> Result<Vec<u8>, ExchangeError> {
    to_xlsx(
        "端末台帳",
        TERMINAL_COLUMNS,
        &rows(terminals, TERMINAL_COLUMNS, terminal_cell),
    )
}

/// The 拠点台帳 as an XLSX workbook (sheet 拠点台帳, same columns as [`crate::sites_csv`]).
pub fn sites_xlsx(sites: &[Site]) -> Result<Vec<u8>, ExchangeError> {
    to_xlsx(
        "拠点台帳",
        SITE_COLUMNS,
        &rows(sites, SITE_COLUMNS, site_cell),
    )
}

/// The ネットワーク機器台帳 as an XLSX workbook (same columns as [`crate::nodes_csv`]); `sites` supplies
/// the 拠点コード.
pub fn nodes_xlsx(nodes: &[NetworkNode], sites: &[Site]) -> Result<Vec<u8>, ExchangeError> {
    let codes = site_codes(sites);
    to_xlsx(
        "ネットワーク機器台帳",
        NODE_COLUMNS,
        &rows(nodes, NODE_COLUMNS, |n, c| node_cell(n, c, &codes)),
    )
}

/// The 監査ログ as an XLSX workbook (sheet 監査ログ, same columns as [`crate::audit_csv`]).
pub fn audit_xlsx(entries: &[AuditEntry]) -> Result<Vec<u8>, ExchangeError> {
    to_xlsx(
        "監査ログ",
        AUDIT_COLUMNS,
        &rows(entries, AUDIT_COLUMNS, audit_cell),
    )
}

/// One worksheet named `title` with a styled header row, frozen and filterable, set up to print on A4
/// landscape, one page wide, with the header row, title and page numbers on every page.
/// 脆弱性の検出結果 as an XLSX workbook (same columns as [`crate::findings_csv`]).
pub fn findings_xlsx(findings: &[unyo_store::vulns::Finding]) -> Result<Vec<u8>, ExchangeError> {
    to_xlsx(
        "脆弱性の検出結果",
        FINDING_COLUMNS,
        &rows(findings, FINDING_COLUMNS, finding_cell),
    )
}

pub(crate) fn to_xlsx(
    title: &str,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, ExchangeError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title(title));

    let header = Format::new()
        .set_font_name(FONT)
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let body = Format::new()
        .set_font_name(FONT)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top);

    let sheet = workbook.add_worksheet();
    sheet.set_name(title)?;
    for (col, column) in (0..).zip(columns) {
        sheet.write_string_with_format(0, col, column.label, &header)?;
        sheet.set_column_width(col, column.width)?;
    }
    for (row, cells) in (1..).zip(rows) {
        for (col, cell) in (0..).zip(cells) {
            match cell {
                // Ids and counts are far below 2^53, so the conversion is exact.
                Cell::Int(n) => sheet.write_number_with_format(row, col, *n as f64, &body)?,
                Cell::Text(s) => sheet.write_string_with_format(row, col, s, &body)?,
            };
        }
    }

    let last_row = RowNum::try_from(rows.len())
        .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
    let last_col = ColNum::try_from(columns.len().saturating_sub(1))
        .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last_row, last_col)?;

    sheet.set_paper_size(PAPER_A4);
    sheet.set_landscape();
    // 0 pages tall means "as many as needed".
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    // `&` starts a control code in Excel headers; doubling it prints it literally.
    sheet.set_header(format!("&C{}", title.replace('&', "&&")));
    sheet.set_footer("&C&P / &N ページ");

    Ok(workbook.save_to_buffer()?)
}
