//! XLSX rendering with rust_xlsxwriter: one sheet per section, the title block on the first sheet,
//! A4 print setup, repeated header rows, page numbers. Cells are typed: numbers, amounts and percentages are
//! numbers with a number format, dates and times are Excel dates with a 和暦 number format
//! ([`WAREKI_DATE_FORMAT`], [`WAREKI_DATETIME_FORMAT`]), and a totals cell that is the sum of its column is a
//! `SUM` formula with its value cached.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{
    Chart as XlChart, ChartFormat, ChartSolidFill, ChartType, Color, DocProperties, ExcelDateTime,
    Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet,
};

use crate::ReportError;
use crate::chart::PALETTE;
use crate::model::{Align, Approval, BLANK_DATE, Block, Cell, Document, Section, Table};

/// The number format of a date: 和暦 with 元年 for the first year of an era ("令和8年5月1日"), the format
/// Japanese Excel itself writes for its 和暦 date with 元年.
pub const WAREKI_DATE_FORMAT: &str = r#"[$-ja-JP-x-gannen]ggge"年"m"月"d"日";@"#;
/// The number format of a date and time of day: [`WAREKI_DATE_FORMAT`] and the time to the minute
/// ("令和8年5月1日 09:05").
pub const WAREKI_DATETIME_FORMAT: &str = r#"[$-ja-JP-x-gannen]ggge"年"m"月"d"日" hh:mm;@"#;

/// The font Japanese Excel uses by default (Office 2016 and later).
const FONT: &str = "游ゴシック";
/// Excel's pixels at 96 dpi.
const PX_PER_MM: f64 = 96.0 / 25.4;
/// Excel's limit for a string cell.
const MAX_CELL_CHARS: usize = 32_767;
/// A4 in Excel's paper-size codes.
const PAPER_A4: u8 = 9;
/// Default row height in pixels for 游ゴシック 11 (18.75 pt).
const ROW_PX: u32 = 25;
/// Minimum widths of the approval block's label column and of each approver's column ("令和8年12月28日").
const APPROVAL_LABEL_PX: u32 = 44;
const APPROVAL_COLUMN_PX: u32 = 128;
/// Column widths used when a sheet has no table: label and value of key/value blocks.
const DEFAULT_WIDTHS_MM: [f64; 2] = [40.0, 120.0];

/// Renders the document as an XLSX workbook; see the crate docs for the layout.
pub fn render_xlsx(doc: &Document) -> Result<Vec<u8>, ReportError> {
    crate::validate(doc)?;
    let mut workbook = Workbook::new();
    let default = Format::new()
        .set_font_name(FONT)
        .set_font_size(11)
        .set_font_charset(128);
    // 游ゴシック 11: rows 25 px, columns 72 px in Japanese Excel.
    workbook.set_default_format(&default, ROW_PX, 72)?;

    let mut props = DocProperties::new().set_title(&doc.title);
    if let Some(author) = &doc.author {
        props = props.set_author(author);
    }
    if let Some(subject) = &doc.subtitle {
        props = props.set_subject(subject);
    }
    // A fixed creation time keeps the output a pure function of the document.
    let created = doc.issued_on.unwrap_or_default();
    let created = ExcelDateTime::from_ymd(
        u16::try_from(chrono::Datelike::year(&created)).unwrap_or(2000),
        chrono::Datelike::month(&created) as u8,
        chrono::Datelike::day(&created) as u8,
    )
    .or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1))?;
    workbook.set_properties(&props.set_creation_datetime(&created));

    let fallback;
    let sections: &[Section] = if doc.sections.is_empty() {
        fallback = [Section::new(doc.title.clone())];
        &fallback
    } else {
        &doc.sections
    };
    let names = sheet_names(sections);
    let mut formats = Formats::default();
    for (i, (section, name)) in sections.iter().zip(&names).enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        let mut w = SheetWriter::new(sheet, name, section);
        w.page_setup(doc);
        if i == 0 {
            w.title_block(doc, &mut formats)?;
        }
        w.section(section, &mut formats)?;
        if i + 1 == sections.len()
            && let Some(approval) = &doc.approval
        {
            w.approval(approval, &mut formats)?;
        }
        w.finish()?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// Valid, unique (case-insensitively) Excel sheet names: at most 31 characters, none of `[]:*?/\`,
/// not starting or ending with an apostrophe, not "History".
pub fn sheet_names(sections: &[Section]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let wanted = section.sheet_name.as_deref().unwrap_or(&section.heading);
        let mut base: String = wanted
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        base = base.trim().trim_matches('\'').trim().to_string();
        if base.is_empty() || base.eq_ignore_ascii_case("history") {
            base = format!("Sheet{}", i + 1);
        }
        let mut name = truncate(&base, 31);
        let mut n = 2;
        while used.iter().any(|u| u.to_lowercase() == name.to_lowercase()) {
            let suffix = format!("({n})");
            name = format!(
                "{}{}",
                truncate(&base, 31 - suffix.chars().count()).trim_end_matches('\''),
                suffix
            );
            n += 1;
        }
        used.push(name.clone());
        out.push(name);
    }
    out
}

/// Whether `total` is the sum of the numeric cells of column `c` in the table's rows (to a rounding error), so
/// that a `SUM` formula over the column says the same.
fn sums_to(t: &Table, c: usize, total: f64) -> bool {
    let sum: f64 = t
        .rows
        .iter()
        .filter_map(|r| r.get(c).and_then(Cell::value))
        .sum();
    (sum - total).abs() <= 1e-9 * total.abs().max(1.0)
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

fn cell_str(s: &str) -> String {
    if s.chars().count() > MAX_CELL_CHARS {
        truncate(s, MAX_CELL_CHARS)
    } else {
        s.to_string()
    }
}

/// Escapes `&` for Excel header/footer strings and keeps them within Excel's limit.
fn hf(s: &str) -> String {
    truncate(s, 80).replace('&', "&&")
}

/// Estimated width of a text in pixels: full-width characters one em, others about 0.6 em.
fn text_px(text: &str, font_px: f64) -> u32 {
    text.split('\n')
        .map(|line| {
            line.chars()
                .map(|c| if (c as u32) < 0x2E80 { 0.6 } else { 1.0 })
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
        .mul_add(font_px, 0.5)
        .ceil() as u32
}

/// Estimated number of lines `text` wraps to in a cell `px` pixels wide.
fn lines_needed(text: &str, px: u32, font_px: f64) -> f64 {
    let room = (f64::from(px.max(20)) - 8.0).max(font_px);
    text.split('\n')
        .map(|line| {
            let w: f64 = line
                .chars()
                .map(|c| if (c as u32) < 0x2E80 { 0.6 } else { 1.0 })
                .sum::<f64>()
                * font_px;
            (w / room).ceil().max(1.0)
        })
        .sum()
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Kind {
    Text,
    Number(u8),
    Integer,
    Percent(u8),
    /// Decimals and the unit shown after the number.
    Amount(u8, String),
    Date,
    DateTime,
}

/// `#,##0` with `decimals` decimals.
fn number_format(decimals: u8) -> String {
    if decimals == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(decimals.min(10).into()))
    }
}

/// Text to quote in a number format: without the quote and backslash that would end the quote.
fn format_literal(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '"' | '\\')).collect()
}

/// An Excel date of a day.
fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).ok()?,
        d.month() as u8,
        d.day() as u8,
    )
    .ok()
}

/// An Excel date of a time of day (to the second).
fn excel_datetime(t: NaiveDateTime) -> Option<ExcelDateTime> {
    excel_date(t.date())?
        .and_hms(t.hour() as u16, t.minute() as u8, t.second())
        .ok()
}

/// Formats, made once per distinct look.
#[derive(Default)]
struct Formats {
    cells: HashMap<(Kind, Align, bool), Format>,
}

fn base() -> Format {
    Format::new()
        .set_font_name(FONT)
        .set_font_charset(128)
        .set_font_size(10.5)
        .set_align(FormatAlign::VerticalCenter)
}

fn header_format() -> Format {
    base()
        .set_bold()
        .set_background_color(Color::RGB(0xD9_D9_D9))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_text_wrap()
}

fn label_format() -> Format {
    base()
        .set_bold()
        .set_background_color(Color::RGB(0xD9_D9_D9))
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
}

fn boxed() -> Format {
    base().set_border(FormatBorder::Thin).set_text_wrap()
}

impl Formats {
    fn cell(&mut self, kind: Kind, align: Align, total: bool) -> &Format {
        self.cells
            .entry((kind.clone(), align, total))
            .or_insert_with(|| {
                let mut f = base().set_border(FormatBorder::Thin);
                f = match kind {
                    Kind::Text => f.set_text_wrap(),
                    Kind::Integer => f.set_num_format("#,##0"),
                    Kind::Number(d) => f.set_num_format(number_format(d)),
                    Kind::Percent(0) => f.set_num_format("0%"),
                    Kind::Percent(d) => f.set_num_format(format!("0.{}%", "0".repeat(d.into()))),
                    Kind::Amount(d, unit) => f.set_num_format(format!(
                        "{}\"{}\"",
                        number_format(d),
                        format_literal(&unit)
                    )),
                    Kind::Date => f.set_num_format(WAREKI_DATE_FORMAT),
                    Kind::DateTime => f.set_num_format(WAREKI_DATETIME_FORMAT),
                };
                f = f.set_align(match align {
                    Align::Left => FormatAlign::Left,
                    Align::Right => FormatAlign::Right,
                    Align::Center => FormatAlign::Center,
                });
                if total {
                    f = f
                        .set_bold()
                        .set_background_color(Color::RGB(0xED_ED_ED))
                        .set_border_top(FormatBorder::Double);
                }
                f
            })
    }
}

struct SheetWriter<'a> {
    sheet: &'a mut Worksheet,
    name: String,
    row: u32,
    /// Columns the sheet's content spans (at least 2).
    ncols: u16,
    widths_px: Vec<u32>,
    /// The header row of the table whose header repeats on printed pages.
    repeat_row: Option<u32>,
    /// Index (among the section's table-like blocks) of the table whose header repeats.
    repeat_table: Option<usize>,
    tables_seen: usize,
    /// Rows that start a new printed page ([`Block::PageBreak`]).
    page_breaks: Vec<u32>,
}

impl<'a> SheetWriter<'a> {
    fn new(sheet: &'a mut Worksheet, name: &str, section: &Section) -> Self {
        let tables: Vec<&Table> = section
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Table(t) => Some(t),
                Block::Chart(c) => Some(&c.data),
                _ => None,
            })
            .collect();
        // Column widths come from the table with the most columns (the first one on a tie).
        let widest = tables.iter().copied().reduce(|a, b| {
            if b.columns.len() > a.columns.len() {
                b
            } else {
                a
            }
        });
        let widths_mm: Vec<f64> = match widest {
            Some(t) if !t.columns.is_empty() => t.columns.iter().map(|c| c.width_mm).collect(),
            _ => DEFAULT_WIDTHS_MM.to_vec(),
        };
        let mut widths_px: Vec<u32> = widths_mm
            .iter()
            .map(|mm| {
                let mm = if mm.is_finite() && *mm > 0.0 {
                    *mm
                } else {
                    20.0
                };
                (mm * PX_PER_MM).round().clamp(16.0, 1500.0) as u32
            })
            .collect();
        if widths_px.len() < 2 {
            widths_px.push((DEFAULT_WIDTHS_MM[1] * PX_PER_MM) as u32);
        }
        // A date or amount does not wrap (Excel shows ### instead): its column is made wide enough.
        for t in &tables {
            for cells in t.rows.iter().chain(t.totals.iter()) {
                for (c, cell) in cells.iter().enumerate() {
                    if matches!(cell, Cell::Date(_) | Cell::DateTime(_) | Cell::Amount(..))
                        && let Some(w) = widths_px.get_mut(c)
                    {
                        *w = (*w).max(text_px(&cell.display(), 14.0) + 12);
                    }
                }
            }
        }
        // The longest table's header repeats on printed pages, provided no other table follows it.
        let repeat_table = tables
            .iter()
            .enumerate()
            .max_by_key(|(i, t)| (t.rows.len(), std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
            .filter(|&i| i + 1 == tables.len() && tables[i].rows.len() > 10);
        SheetWriter {
            sheet,
            name: name.to_string(),
            row: 0,
            ncols: u16::try_from(widths_px.len()).unwrap_or(u16::MAX),
            widths_px,
            repeat_row: None,
            repeat_table,
            tables_seen: 0,
            page_breaks: Vec::new(),
        }
    }

    fn last_col(&self) -> u16 {
        self.ncols - 1
    }

    fn page_setup(&mut self, doc: &Document) {
        let s = &mut *self.sheet;
        s.set_paper_size(PAPER_A4);
        if doc.landscape {
            s.set_landscape();
        } else {
            s.set_portrait();
        }
        // Inches: 15 mm sides like the PDF, room for the footer.
        s.set_margins(0.59, 0.59, 0.67, 0.67, 0.3, 0.3);
        s.set_print_fit_to_pages(1, 0);
        s.set_print_center_horizontally(true);
        let mut footer = String::new();
        if let Some(note) = &doc.footer_note {
            footer.push_str("&L&8");
            footer.push_str(&hf(note));
        }
        footer.push_str("&C&P / &N");
        s.set_footer(footer);
        s.set_header(format!("&R&8{}", hf(&doc.title)));
        for (i, px) in self.widths_px.iter().enumerate() {
            // Column indices are small (the widest table's column count).
            let _ = s.set_column_width_pixels(i as u16, *px);
        }
    }

    /// Writes `text` across the full width, as one merged cell when there is more than one column.
    fn full_width(&mut self, text: &str, format: &Format) -> Result<(), ReportError> {
        let text = cell_str(text);
        if self.ncols > 1 {
            self.sheet
                .merge_range(self.row, 0, self.row, self.last_col(), &text, format)?;
        } else {
            self.sheet
                .write_string_with_format(self.row, 0, text, format)?;
        }
        Ok(())
    }

    /// Sets the current row's height for wrapped text spread over `px` pixels of width.
    fn fit_height(&mut self, text: &str, px: u32, font_px: f64) -> Result<(), ReportError> {
        self.set_lines(lines_needed(text, px, font_px), font_px)
    }

    /// Makes the current row tall enough for `lines` lines (Excel does not grow rows by itself).
    fn set_lines(&mut self, lines: f64, font_px: f64) -> Result<(), ReportError> {
        if lines > 1.0 {
            let h = (lines * font_px * 1.35 + 8.0).round() as u32;
            // Excel's maximum row height is 409 pt.
            self.sheet
                .set_row_height_pixels(self.row, h.min(409 * 4 / 3))?;
        }
        Ok(())
    }

    /// Width of a sheet column in pixels (Excel's default beyond the sheet's own columns).
    fn width_of(&self, col: u16) -> u32 {
        self.widths_px.get(usize::from(col)).copied().unwrap_or(72)
    }

    /// Writes `text` over columns `first..=last`, merged when that is more than one column.
    fn span(
        &mut self,
        first: u16,
        last: u16,
        text: &str,
        format: &Format,
    ) -> Result<(), ReportError> {
        let text = cell_str(text);
        if last > first {
            self.sheet
                .merge_range(self.row, first, self.row, last, &text, format)?;
        } else {
            self.sheet
                .write_string_with_format(self.row, first, text, format)?;
        }
        Ok(())
    }

    /// A date over columns `first..=last` (merged when more than one) with `format` plus the 和暦 date
    /// format; [`BLANK_DATE`] as text when there is no date yet.
    fn date_span(
        &mut self,
        first: u16,
        last: u16,
        date: Option<NaiveDate>,
        format: &Format,
    ) -> Result<(), ReportError> {
        match date.and_then(excel_date) {
            Some(value) => {
                let format = format.clone().set_num_format(WAREKI_DATE_FORMAT);
                if last > first {
                    self.sheet
                        .merge_range(self.row, first, self.row, last, "", &format)?;
                }
                self.sheet
                    .write_datetime_with_format(self.row, first, &value, &format)?;
            }
            None => {
                let text =
                    date.map_or_else(|| BLANK_DATE.to_string(), unyo_domain::wareki::format_long);
                self.span(first, last, &text, format)?;
            }
        }
        Ok(())
    }

    fn title_block(&mut self, doc: &Document, _f: &mut Formats) -> Result<(), ReportError> {
        let title = base()
            .set_font_size(16)
            .set_bold()
            .set_align(FormatAlign::Center);
        let subtitle = base().set_font_size(12).set_align(FormatAlign::Center);
        let right = base().set_align(FormatAlign::Right);
        let left = base().set_font_size(11);
        if let Some(date) = doc.issued_on {
            // A date cell whose format shows the label before the date ("提出日　令和8年6月10日").
            let format = right.clone().set_num_format(format!(
                "\"{}　\"{WAREKI_DATE_FORMAT}",
                format_literal(doc.issued_label())
            ));
            match excel_date(date) {
                Some(value) => {
                    if self.ncols > 1 {
                        self.sheet.merge_range(
                            self.row,
                            0,
                            self.row,
                            self.last_col(),
                            "",
                            &format,
                        )?;
                    }
                    self.sheet
                        .write_datetime_with_format(self.row, 0, &value, &format)?;
                }
                None => {
                    let text = format!(
                        "{}　{}",
                        doc.issued_label(),
                        unyo_domain::wareki::format_long(date)
                    );
                    self.full_width(&text, &right)?;
                }
            }
            self.row += 1;
        }
        for line in &doc.addressee {
            self.full_width(line, &left)?;
            self.row += 1;
        }
        for line in &doc.org_lines {
            self.full_width(line, &right)?;
            self.row += 1;
        }
        if self.row > 0 {
            self.row += 1;
        }
        self.full_width(&doc.title, &title)?;
        self.sheet.set_row_height_pixels(self.row, 32)?;
        self.row += 1;
        if let Some(sub) = &doc.subtitle {
            self.full_width(sub, &subtitle)?;
            self.row += 1;
        }
        self.row += 1;
        if !doc.meta.is_empty() {
            self.key_values(&doc.meta)?;
            self.row += 1;
        }
        Ok(())
    }

    fn key_values(&mut self, items: &[(String, String)]) -> Result<(), ReportError> {
        let label = label_format();
        let value = boxed();
        // The label spans as many leading columns as its longest text needs (leaving one for the value).
        let need = items
            .iter()
            .map(|(k, _)| text_px(k, 14.0) + 12)
            .max()
            .unwrap_or(0)
            .min(260);
        let mut label_last: u16 = 0;
        let mut acc = self.width_of(0);
        while acc < need && label_last + 2 < self.ncols {
            label_last += 1;
            acc += self.width_of(label_last);
        }
        let label_px = acc;
        let value_px: u32 = (label_last + 1..self.ncols).map(|c| self.width_of(c)).sum();
        for (k, v) in items {
            self.span(0, label_last, k, &label)?;
            self.span(
                label_last + 1,
                self.last_col().max(label_last + 1),
                v,
                &value,
            )?;
            let lines = lines_needed(v, value_px, 14.0).max(lines_needed(k, label_px, 14.0));
            self.set_lines(lines, 14.0)?;
            self.row += 1;
        }
        Ok(())
    }

    fn section(&mut self, section: &Section, f: &mut Formats) -> Result<(), ReportError> {
        let heading = base()
            .set_font_size(12)
            .set_bold()
            .set_border_bottom(FormatBorder::Medium);
        let sub = base().set_font_size(11).set_bold();
        let para = base().set_font_size(10.5).set_text_wrap();
        self.full_width(&section.heading, &heading)?;
        self.row += 2;
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    self.full_width(text, &para)?;
                    let px = self.widths_px.iter().sum();
                    self.fit_height(text, px, 14.0)?;
                    self.row += 2;
                }
                Block::Subheading(text) => {
                    self.full_width(&format!("■ {text}"), &sub)?;
                    self.row += 1;
                }
                Block::KeyValues(items) => {
                    self.key_values(items)?;
                    self.row += 1;
                }
                Block::Table(t) => {
                    self.table(t, f)?;
                    self.row += 1;
                }
                Block::Chart(c) => {
                    self.full_width(&c.title, &sub)?;
                    self.row += 1;
                    let data_top = self.row;
                    self.table(&c.data, f)?;
                    self.row += 1;
                    if let Some(spec) = &c.excel_chart {
                        self.native_chart(&c.title, &c.data, data_top, spec)?;
                    }
                }
                Block::PageBreak => {
                    if self.row > 0 && self.page_breaks.last() != Some(&self.row) {
                        self.page_breaks.push(self.row);
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes a table; its header is at the current row. Leaves the row after the table.
    fn table(&mut self, t: &Table, f: &mut Formats) -> Result<(), ReportError> {
        let index = self.tables_seen;
        self.tables_seen += 1;
        if let Some(caption) = &t.caption {
            let caption_format = base().set_bold();
            self.sheet
                .write_string_with_format(self.row, 0, cell_str(caption), &caption_format)?;
            self.row += 1;
        }
        let header = header_format();
        for (c, col) in t.columns.iter().enumerate() {
            self.sheet.write_string_with_format(
                self.row,
                c as u16,
                cell_str(&col.label),
                &header,
            )?;
        }
        if self.repeat_table == Some(index) {
            self.repeat_row = Some(self.row);
        }
        self.row += 1;
        if t.rows.is_empty() {
            let empty = boxed().set_align(FormatAlign::Center);
            let last = (t.columns.len().max(1) - 1) as u16;
            if last > 0 {
                self.sheet
                    .merge_range(self.row, 0, self.row, last, t.empty_text(), &empty)?;
            } else {
                self.sheet
                    .write_string_with_format(self.row, 0, t.empty_text(), &empty)?;
            }
            self.row += 1;
        }
        let body = self.row;
        for r in &t.rows {
            self.row_cells(t, r, None, f)?;
        }
        if let Some(totals) = &t.totals {
            let body = (!t.rows.is_empty()).then(|| (body, self.row - 1));
            self.row_cells(t, totals, Some(body), f)?;
        }
        Ok(())
    }

    /// Writes one row of `t`: a body row when `totals` is `None`, else the totals row of the body rows
    /// `first..=last` (`None` when the table has no rows).
    fn row_cells(
        &mut self,
        t: &Table,
        cells: &[Cell],
        totals: Option<Option<(u32, u32)>>,
        f: &mut Formats,
    ) -> Result<(), ReportError> {
        let total = totals.is_some();
        let mut lines: f64 = 1.0;
        for (c, col) in t.columns.iter().enumerate() {
            let cell = cells.get(c).unwrap_or(&Cell::Empty);
            let col_n = c as u16;
            let kind = match cell {
                Cell::Number(v, d) if v.is_finite() => Some(Kind::Number(*d)),
                Cell::Percent(v, d) if v.is_finite() => Some(Kind::Percent(*d)),
                Cell::Amount(v, d, unit) if v.is_finite() => Some(Kind::Amount(*d, unit.clone())),
                Cell::Integer(_) => Some(Kind::Integer),
                _ => None,
            };
            if let (Some(kind), Some(value)) = (kind, cell.value()) {
                let fmt = f.cell(kind, col.align, total);
                match totals
                    .flatten()
                    .filter(|_| !matches!(cell, Cell::Percent(..)) && sums_to(t, c, value))
                {
                    Some((first, last)) => {
                        let range = rust_xlsxwriter::utility::cell_range(first, col_n, last, col_n);
                        let formula =
                            Formula::new(format!("=SUM({range})")).set_result(value.to_string());
                        self.sheet
                            .write_formula_with_format(self.row, col_n, formula, fmt)?;
                    }
                    None => {
                        self.sheet
                            .write_number_with_format(self.row, col_n, value, fmt)?;
                    }
                }
                continue;
            }
            match cell {
                Cell::Date(d) if excel_date(*d).is_some() => {
                    let fmt = f.cell(Kind::Date, col.align, total);
                    if let Some(value) = excel_date(*d) {
                        self.sheet
                            .write_datetime_with_format(self.row, col_n, &value, fmt)?;
                    }
                }
                Cell::DateTime(t) if excel_datetime(*t).is_some() => {
                    let fmt = f.cell(Kind::DateTime, col.align, total);
                    if let Some(value) = excel_datetime(*t) {
                        self.sheet
                            .write_datetime_with_format(self.row, col_n, &value, fmt)?;
                    }
                }
                Cell::Empty => {
                    let fmt = f.cell(Kind::Text, col.align, total);
                    self.sheet.write_blank(self.row, col_n, fmt)?;
                }
                other => {
                    // Text, non-finite numbers and dates Excel cannot hold (before 1900): exactly what the
                    // PDF shows.
                    let fmt = f.cell(Kind::Text, col.align, total);
                    let text = cell_str(&other.display());
                    lines = lines.max(lines_needed(&text, self.width_of(col_n), 14.0));
                    self.sheet
                        .write_string_with_format(self.row, col_n, text, fmt)?;
                }
            }
        }
        self.set_lines(lines, 14.0)?;
        self.row += 1;
        Ok(())
    }

    /// A native column chart from the data table whose header row is `top`, placed below it.
    fn native_chart(
        &mut self,
        title: &str,
        data: &Table,
        top: u32,
        spec: &crate::ExcelChart,
    ) -> Result<(), ReportError> {
        let header_row = top + u32::from(data.caption.is_some());
        let first = header_row + 1;
        let n = u32::try_from(data.rows.len()).unwrap_or(0);
        if n == 0 {
            return Ok(());
        }
        let last = first + n - 1;
        let mut chart = XlChart::new(if spec.stacked {
            ChartType::ColumnStacked
        } else {
            ChartType::Column
        });
        chart.title().set_name(title);
        for (i, &col) in spec.series_columns.iter().enumerate() {
            if col == 0 || col >= data.columns.len() {
                continue;
            }
            let col = col as u16;
            chart
                .add_series()
                .set_name((self.name.as_str(), header_row, col))
                .set_categories((self.name.as_str(), first, 0, last, 0))
                .set_values((self.name.as_str(), first, col, last, col))
                .set_format(
                    ChartFormat::new().set_solid_fill(
                        ChartSolidFill::new().set_color(PALETTE[i % PALETTE.len()]),
                    ),
                );
        }
        let width: u32 = self.widths_px.iter().sum::<u32>().clamp(480, 760);
        chart.set_width(width).set_height(340);
        self.sheet.insert_chart(self.row, 0, &chart)?;
        self.row += 340 / ROW_PX + 2;
        Ok(())
    }

    fn approval(&mut self, a: &Approval, _f: &mut Formats) -> Result<(), ReportError> {
        let n = a.columns.len() as u16;
        if n == 0 {
            return Ok(());
        }
        self.row += 1;
        // A label group, then one group per approver, each group of columns wide enough for a 和暦
        // date, placed as far right as the sheet allows.
        let mut mins = vec![APPROVAL_LABEL_PX];
        mins.extend(std::iter::repeat_n(APPROVAL_COLUMN_PX, usize::from(n)));
        let groups = (0..self.ncols)
            .rev()
            .map(|start| self.groups_from(start, &mins))
            .find(|g| g.last().is_some_and(|&(_, last)| last < self.ncols))
            .unwrap_or_else(|| self.groups_from(0, &mins));
        let start = groups[0].0;
        if let Some(title) = &a.title {
            let bold = base().set_bold();
            self.sheet
                .write_string_with_format(self.row, start, cell_str(title), &bold)?;
            self.row += 1;
        }
        let head = header_format();
        let label = label_format().set_align(FormatAlign::Center);
        let value = boxed().set_align(FormatAlign::Center);
        let mut rows: Vec<(&str, Vec<String>)> = vec![
            ("", a.columns.iter().map(|c| c.role.clone()).collect()),
            (
                "氏名",
                a.columns
                    .iter()
                    .map(|c| c.name.clone().unwrap_or_default())
                    .collect(),
            ),
            // The dates are written as dates below.
            ("日付", vec![String::new(); a.columns.len()]),
        ];
        if a.seal_boxes {
            rows.push(("印", vec![String::new(); a.columns.len()]));
        }
        for (r, (row_label, cells)) in rows.iter().enumerate() {
            let (first, last) = groups[0];
            self.span(first, last, row_label, &label)?;
            for ((text, &(first, last)), column) in cells.iter().zip(&groups[1..]).zip(&a.columns) {
                if *row_label == "日付" {
                    self.date_span(first, last, column.date, &value)?;
                    continue;
                }
                let fmt = if r == 0 { &head } else { &value };
                self.span(first, last, text, fmt)?;
            }
            let height = match *row_label {
                "氏名" => 36,
                "印" => 64,
                _ => ROW_PX,
            };
            if height != ROW_PX {
                self.sheet.set_row_height_pixels(self.row, height)?;
            }
            self.row += 1;
        }
        Ok(())
    }

    /// Consecutive column groups from `start`, each at least as wide as its minimum (in pixels).
    fn groups_from(&self, start: u16, mins: &[u32]) -> Vec<(u16, u16)> {
        let mut groups = Vec::with_capacity(mins.len());
        let mut col = start;
        for &min in mins {
            let first = col;
            let mut acc = self.width_of(col);
            while acc < min {
                col += 1;
                acc += self.width_of(col);
            }
            groups.push((first, col));
            col += 1;
        }
        groups
    }

    fn finish(self) -> Result<(), ReportError> {
        if let Some(r) = self.repeat_row {
            self.sheet.set_repeat_rows(r, r)?;
        }
        self.sheet.set_page_breaks(&self.page_breaks)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let sections = vec![
            Section::new("1. 作業実績 [5月]: 一覧/詳細?"),
            Section::new("1. 作業実績 [5月]: 一覧/詳細?"),
            Section::new("'history'"),
            Section::new("あ".repeat(40)),
            Section::new("あ".repeat(40)),
            Section::new("集計").sheet("区分別"),
        ];
        let names = sheet_names(&sections);
        assert_eq!(names[0], "1. 作業実績 _5月__ 一覧_詳細_");
        assert_eq!(names[1], "1. 作業実績 _5月__ 一覧_詳細_(2)");
        assert_eq!(names[2], "Sheet3");
        assert_eq!(names[3].chars().count(), 31);
        assert_eq!(names[4].chars().count(), 31);
        assert!(names[4].ends_with("(2)"));
        assert_eq!(names[5], "区分別");
    }
}
