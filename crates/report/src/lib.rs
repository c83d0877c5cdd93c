//! unyo's report engine: one [`Document`] model, rendered as PDF ([`render_pdf`]) and XLSX
//! ([`render_xlsx`]) so that the two always say the same thing.
//!
//! - **PDF**: typst used as a library, with its own `World` that serves only a fixed template and the
//!   document as JSON. Every user string reaches typst as a JSON string and is shown literally: there is
//!   no markup to escape and nothing to inject. The Japanese font (BIZ UDPGothic, SIL OFL 1.1, see
//!   `fonts/`) is compiled into the binary; no system font is looked up, no package loaded, no network
//!   used, no clock read. A4 (portrait or landscape), 15 mm margins, `1 / N` page numbers, table
//!   headers repeated on every page, charts as SVG, the approval block at the end.
//! - **XLSX**: rust_xlsxwriter. One sheet per [`Section`], the title block on the first sheet,
//!   bold filled headers with borders, 游ゴシック, A4 print setup fitted to one page wide with the table
//!   header repeated and `&P / &N` page numbers. Cells are typed so the sheet can be sorted and summed:
//!   numbers, amounts and percentages are numbers with a number format, dates (the issue date, table cells,
//!   the approval dates) are Excel dates with a 和暦 number format ([`WAREKI_DATE_FORMAT`],
//!   [`WAREKI_DATETIME_FORMAT`]), and a totals cell that is the sum of its column is a `SUM` formula over it
//!   with the value cached.
//!
//! Cells read the same in both outputs: the PDF shows [`Cell::display`], and the XLSX number formats show
//! the same text.
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use unyo_report::{Block, Cell, Column, Document, Section, Table, render_pdf, render_xlsx};
//!
//! let mut doc = Document::new("業務実績簿");
//! doc.subtitle = Some("令和8年5月分".into());
//! doc.issued_on = NaiveDate::from_ymd_opt(2026, 6, 10);
//! doc.sections.push(Section::new("1. 作業実績").sheet("作業実績").push(Block::Table(
//!     Table::new(vec![Column::left("日付", 32.0), Column::left("内容", 90.0), Column::right("時間", 16.0)])
//!         .row(vec![Cell::Date(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()), "定期点検".into(), Cell::Number(1.5, 1)])
//!         .totals(vec!["合計".into(), Cell::Empty, Cell::Number(1.5, 1)]),
//! )));
//! let pdf: Vec<u8> = render_pdf(&doc)?;
//! let xlsx: Vec<u8> = render_xlsx(&doc)?;
//! # Ok::<(), unyo_report::ReportError>(())
//! ```

mod chart;
mod model;
mod pdf;
mod xlsx;

pub use chart::{Annotations, BarChart, BarMode, DARK_PALETTE, SegmentText, bar_chart_svg};
pub use model::{
    Align, Approval, ApprovalColumn, Block, Cell, Chart, Column, Document, ExcelChart, Section,
    Table, format_integer, format_number,
};
pub use pdf::{FONT_BOLD, FONT_FAMILY, FONT_REGULAR, render_pdf};
pub use xlsx::{WAREKI_DATE_FORMAT, WAREKI_DATETIME_FORMAT, render_xlsx, sheet_names};

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The document breaks a rule of the model (e.g. a row longer than its table's columns).
    #[error("invalid document: {0}")]
    Invalid(String),
    /// typst reported errors or warnings while compiling the document; the messages, one per line.
    #[error("PDF layout failed:\n{0}")]
    Typst(String),
    /// typst could not write the laid-out document as PDF.
    #[error("PDF export failed:\n{0}")]
    PdfExport(String),
    #[error("XLSX export failed: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Checks the rules both renderers rely on.
fn validate(doc: &Document) -> Result<(), ReportError> {
    let check_table = |where_: &str, t: &Table| -> Result<(), ReportError> {
        if t.columns.is_empty() {
            return Err(ReportError::Invalid(format!(
                "{where_}: a table without columns"
            )));
        }
        if t.columns.len() > 1000 {
            return Err(ReportError::Invalid(format!("{where_}: too many columns")));
        }
        let n = t.columns.len();
        for (i, row) in t.rows.iter().enumerate() {
            if row.len() > n {
                return Err(ReportError::Invalid(format!(
                    "{where_}: row {} has {} cells for {n} columns",
                    i + 1,
                    row.len()
                )));
            }
        }
        if let Some(totals) = &t.totals
            && totals.len() > n
        {
            return Err(ReportError::Invalid(format!(
                "{where_}: the totals row has {} cells for {n} columns",
                totals.len()
            )));
        }
        Ok(())
    };
    for section in &doc.sections {
        for block in &section.blocks {
            match block {
                Block::Table(t) => check_table(&section.heading, t)?,
                Block::Chart(c) => {
                    check_table(&section.heading, &c.data)?;
                    if c.svg.trim().is_empty() {
                        return Err(ReportError::Invalid(format!(
                            "{}: chart \"{}\" has no SVG",
                            section.heading, c.title
                        )));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Characters the document shows that the embedded font cannot draw (they would print as empty
/// boxes in the PDF), e.g. rare 外字 in names or emoji. Line breaks and tabs are not reported.
///
/// Callers can warn before submitting a document, or substitute the characters.
pub fn missing_glyphs(doc: &Document) -> Vec<char> {
    let fonts = pdf::fonts();
    doc.shown_chars()
        .into_iter()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .filter(|&c| fonts.iter().all(|f| !f.info().coverage.contains(c as u32)))
        .collect()
}
