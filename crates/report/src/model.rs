//! The document model shared by the PDF and the XLSX renderers.
//!
//! A [`Document`] is plain data: every string in it is shown literally (never interpreted as markup), every
//! number keeps its value (the XLSX gets real numbers, totals that add up as `SUM` formulas), and every date
//! is a [`NaiveDate`] or [`NaiveDateTime`] shown in 和暦 (the XLSX gets real dates with a 和暦 number format).
//! Both renderers format cells through [`Cell::display`], so the two outputs always say the same thing.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// A whole document: a title block, sections, and an optional approval block at the end.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Document {
    /// The title, e.g. "業務実績簿".
    pub title: String,
    /// A line under the title, e.g. "令和8年5月分".
    pub subtitle: Option<String>,
    /// Lines at the top left, before the title: the addressee, e.g. "〇〇県知事 様".
    pub addressee: Vec<String>,
    /// Lines at the top right, before the title: who issues the document (受託者, 作業責任者…).
    pub org_lines: Vec<String>,
    /// The date shown at the top right (提出日…). Part of the document, never read from the clock.
    pub issued_on: Option<NaiveDate>,
    /// The label of [`Document::issued_on`]; "提出日" when empty.
    pub issued_label: String,
    /// Header facts shown under the title as a two-column table (業務名, 契約期間, 対象月…).
    pub meta: Vec<(String, String)>,
    /// The body. In the XLSX each section is a sheet.
    pub sections: Vec<Section>,
    /// Name/date columns for those who confirm the document, at the very end.
    pub approval: Option<Approval>,
    /// A small note in every page footer (e.g. the document number or version).
    pub footer_note: Option<String>,
    /// The author recorded in the PDF/XLSX metadata (e.g. the contractor's name).
    pub author: Option<String>,
    /// A4 landscape instead of portrait, for both outputs.
    pub landscape: bool,
}

impl Document {
    /// An empty portrait document with this title.
    pub fn new(title: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            ..Document::default()
        }
    }

    /// The label of the issue date, defaulting to "提出日".
    pub fn issued_label(&self) -> &str {
        if self.issued_label.trim().is_empty() {
            "提出日"
        } else {
            &self.issued_label
        }
    }

    /// Every distinct character of every string the document shows, in first-seen order.
    ///
    /// Used by [`crate::missing_glyphs`]; chart SVGs are not included (only their titles and data).
    pub fn shown_chars(&self) -> Vec<char> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        let mut add = |s: &str| {
            for c in s.chars() {
                if seen.insert(c) {
                    out.push(c);
                }
            }
        };
        add(&self.title);
        self.subtitle.iter().for_each(|s| add(s));
        self.addressee.iter().for_each(|s| add(s));
        self.org_lines.iter().for_each(|s| add(s));
        add(self.issued_label());
        for (k, v) in &self.meta {
            add(k);
            add(v);
        }
        let add_table = |t: &Table, add: &mut dyn FnMut(&str)| {
            t.caption.iter().for_each(|s| add(s));
            t.empty_text.iter().for_each(|s| add(s));
            t.columns.iter().for_each(|c| add(&c.label));
            for cell in t.rows.iter().flatten().chain(t.totals.iter().flatten()) {
                add(&cell.display());
            }
        };
        for section in &self.sections {
            add(&section.heading);
            for block in &section.blocks {
                match block {
                    Block::Paragraph(s) | Block::Subheading(s) => add(s),
                    Block::KeyValues(items) => {
                        for (k, v) in items {
                            add(k);
                            add(v);
                        }
                    }
                    Block::Table(t) => add_table(t, &mut add),
                    Block::Chart(c) => {
                        add(&c.title);
                        add_table(&c.data, &mut add);
                    }
                    Block::PageBreak => {}
                }
            }
        }
        if let Some(a) = &self.approval {
            a.title.iter().for_each(|s| add(s));
            for col in &a.columns {
                add(&col.role);
                col.name.iter().for_each(|s| add(s));
                if let Some(d) = col.date {
                    add(&unyo_domain::wareki::format_long(d));
                }
            }
        }
        self.footer_note.iter().for_each(|s| add(s));
        out
    }
}

/// A part of the body with a heading. In the XLSX, a sheet of its own.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Section {
    /// The heading, e.g. "1. 作業実績".
    pub heading: String,
    /// The XLSX sheet name; derived from the heading when `None`. Made valid and unique by the renderer
    /// (at most 31 characters, none of `[]:*?/\`).
    pub sheet_name: Option<String>,
    /// Start this section on a new page in the PDF.
    pub new_page: bool,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn new(heading: impl Into<String>) -> Self {
        Section {
            heading: heading.into(),
            ..Section::default()
        }
    }

    /// Sets the XLSX sheet name.
    pub fn sheet(mut self, name: impl Into<String>) -> Self {
        self.sheet_name = Some(name.into());
        self
    }

    /// Starts the section on a new page in the PDF.
    pub fn on_new_page(mut self) -> Self {
        self.new_page = true;
        self
    }

    /// Appends a block.
    pub fn push(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
}

/// One piece of a section's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// Running text; `\n` starts a new line.
    Paragraph(String),
    /// A smaller heading inside a section.
    Subheading(String),
    /// Label/value pairs shown as a two-column table.
    KeyValues(Vec<(String, String)>),
    Table(Table),
    /// A chart as SVG in the PDF, with its data as a table (always in the XLSX; in the PDF when
    /// [`Chart::show_data`]).
    Chart(Chart),
    /// Starts a new page (in the XLSX, a manual page break in the sheet's print layout).
    PageBreak,
}

/// Horizontal alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Align {
    #[default]
    Left,
    Right,
    Center,
}

impl Align {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Align::Left => "left",
            Align::Right => "right",
            Align::Center => "center",
        }
    }
}

/// A table column: its header label, its width on paper, and how its cells align.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub label: String,
    /// Width in millimetres. If a table's columns add up to more than the printable width, they are
    /// scaled down proportionally in the PDF (and Excel fits the sheet to one page wide).
    pub width_mm: f64,
    pub align: Align,
}

impl Column {
    pub fn new(label: impl Into<String>, width_mm: f64, align: Align) -> Self {
        Column {
            label: label.into(),
            width_mm,
            align,
        }
    }
    pub fn left(label: impl Into<String>, width_mm: f64) -> Self {
        Column::new(label, width_mm, Align::Left)
    }
    pub fn right(label: impl Into<String>, width_mm: f64) -> Self {
        Column::new(label, width_mm, Align::Right)
    }
    pub fn center(label: impl Into<String>, width_mm: f64) -> Self {
        Column::new(label, width_mm, Align::Center)
    }
}

/// A table with a repeated header row and an optional totals row.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    /// A caption shown above the table.
    pub caption: Option<String>,
    pub columns: Vec<Column>,
    /// Rows; a row shorter than `columns` is padded with empty cells, a longer one is an error.
    pub rows: Vec<Vec<Cell>>,
    /// A totals row at the end, shown bold (e.g. `[Text("合計"), Empty, Integer(42)]`).
    pub totals: Option<Vec<Cell>>,
    /// Shown in place of the rows when there are none; "該当なし" when `None`.
    pub empty_text: Option<String>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            ..Table::default()
        }
    }

    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    pub fn row(mut self, cells: Vec<Cell>) -> Self {
        self.rows.push(cells);
        self
    }

    pub fn totals(mut self, cells: Vec<Cell>) -> Self {
        self.totals = Some(cells);
        self
    }

    pub(crate) fn empty_text(&self) -> &str {
        self.empty_text.as_deref().unwrap_or("該当なし")
    }
}

/// One table cell. Both renderers show it as [`Cell::display`]; the XLSX stores numbers as numbers and dates
/// as dates, each with a number format that shows what the PDF shows.
///
/// A numeric cell of a totals row that equals the sum of its column's numeric cells becomes a `SUM` formula
/// over the column in the XLSX (its value cached), so the sheet keeps adding up when someone edits it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Cell {
    Text(String),
    /// A number shown with this many decimals and thousands separators ("1,234.5").
    Number(f64, u8),
    /// An integer with thousands separators ("12,345").
    Integer(i64),
    /// A ratio shown as a percentage with this many decimals (0.9995 → "99.95%").
    Percent(f64, u8),
    /// A number with its unit after it, with this many decimals and thousands separators ("1,234件",
    /// "12.50時間"). In the XLSX a number whose format carries the unit.
    Amount(f64, u8, String),
    /// A date, shown in 和暦 ("令和8年5月1日").
    Date(NaiveDate),
    /// A date and time of day (JST), shown in 和暦 to the minute ("令和8年5月1日 09:05").
    DateTime(NaiveDateTime),
    #[default]
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A count with its unit ("12件"): an [`Cell::Amount`] without decimals.
    pub fn count(n: i64, unit: impl Into<String>) -> Cell {
        // Counts in documents are far below 2^53, so the conversion is exact.
        Cell::Amount(n as f64, 0, unit.into())
    }

    /// The value of a numeric cell (number, integer, percentage as a ratio, amount), `None` for the others
    /// and for non-finite numbers.
    pub fn value(&self) -> Option<f64> {
        let v = match self {
            Cell::Number(v, _) | Cell::Percent(v, _) | Cell::Amount(v, _, _) => *v,
            Cell::Integer(i) => *i as f64,
            _ => return None,
        };
        v.is_finite().then_some(v)
    }

    /// How the cell reads, identically in the PDF and the XLSX.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(v, d) => format_number(*v, *d),
            Cell::Integer(i) => format_integer(*i),
            Cell::Percent(v, d) => {
                if v.is_finite() {
                    format!("{}%", format_number(v * 100.0, *d))
                } else {
                    "-".to_string()
                }
            }
            Cell::Amount(v, d, unit) => {
                if v.is_finite() {
                    format!("{}{unit}", format_number(*v, *d))
                } else {
                    "-".to_string()
                }
            }
            Cell::Date(d) => unyo_domain::wareki::format_long(*d),
            Cell::DateTime(t) => unyo_domain::wareki::format_datetime_long(*t),
            Cell::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Cell {
        Cell::Integer(i)
    }
}
impl From<i32> for Cell {
    fn from(i: i32) -> Cell {
        Cell::Integer(i.into())
    }
}
impl From<u32> for Cell {
    fn from(i: u32) -> Cell {
        Cell::Integer(i.into())
    }
}
impl From<usize> for Cell {
    fn from(i: usize) -> Cell {
        Cell::Integer(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Cell {
        Cell::Date(d)
    }
}
impl From<NaiveDateTime> for Cell {
    fn from(t: NaiveDateTime) -> Cell {
        Cell::DateTime(t)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A chart: an SVG for the PDF, its alternative text, and the data it shows as a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    /// A standalone SVG (e.g. from [`crate::bar_chart_svg`]). Text in it should use
    /// `font-family="BIZ UDPGothic"`, the only font the PDF has.
    pub svg: String,
    /// A description for readers who cannot see the chart (PDF alt text).
    pub alt_text: String,
    /// The numbers behind the chart: first column the categories, then one column per series.
    pub data: Table,
    /// Width of the chart in the PDF in millimetres; the full text width when `None`.
    pub width_mm: Option<f64>,
    /// Also show the data table under the chart in the PDF (the XLSX always has it).
    pub show_data: bool,
    /// Add a native Excel chart over the data table in the XLSX.
    pub excel_chart: Option<ExcelChart>,
}

/// A native Excel column chart drawn from a chart's data table: categories from its first column,
/// one series per listed column (named by the column label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcelChart {
    /// Stack the series (like [`crate::BarMode::Stacked`]) instead of placing them side by side.
    pub stacked: bool,
    /// Indices of the data table's columns to plot (never column 0, the categories).
    pub series_columns: Vec<usize>,
}

/// Name and date columns for those who confirm the document (seals are optional).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Approval {
    /// A label above the block, e.g. "確認欄".
    pub title: Option<String>,
    pub columns: Vec<ApprovalColumn>,
    /// Add an empty box for a seal under each column.
    pub seal_boxes: bool,
}

/// One approver: role label (e.g. "確認者（県）"), and name and date once known (blank to fill in by hand).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApprovalColumn {
    pub role: String,
    pub name: Option<String>,
    pub date: Option<NaiveDate>,
}

impl ApprovalColumn {
    pub fn new(role: impl Into<String>) -> Self {
        ApprovalColumn {
            role: role.into(),
            ..ApprovalColumn::default()
        }
    }
    pub fn signed(role: impl Into<String>, name: impl Into<String>, date: NaiveDate) -> Self {
        ApprovalColumn {
            role: role.into(),
            name: Some(name.into()),
            date: Some(date),
        }
    }
}

/// What an approval date cell shows while empty (to be filled in by hand).
pub(crate) const BLANK_DATE: &str = "　　年　　月　　日";

/// "1,234.50" for (1234.5, 2); "-" for NaN and infinities.
pub fn format_number(value: f64, decimals: u8) -> String {
    if !value.is_finite() {
        return "-".to_string();
    }
    let decimals = usize::from(decimals.min(10));
    let s = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    // "-0.00" would be odd: only a value that is non-zero after rounding carries a sign.
    if value < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    out.push_str(&group_thousands(int));
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// "12,345" / "-12,345".
pub fn format_integer(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    if value < 0 {
        format!("-{}", group_thousands(&digits))
    } else {
        group_thousands(&digits)
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(format_number(1234.5, 1), "1,234.5");
        assert_eq!(format_number(1234567.891, 2), "1,234,567.89");
        assert_eq!(format_number(-0.001, 2), "0.00");
        assert_eq!(format_number(-1000.0, 0), "-1,000");
        assert_eq!(format_number(f64::NAN, 2), "-");
        assert_eq!(format_integer(0), "0");
        assert_eq!(format_integer(-1_234_567), "-1,234,567");
        assert_eq!(format_integer(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(Cell::Percent(0.99951, 2).display(), "99.95%");
    }

    #[test]
    fn dates_are_wareki() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        assert_eq!(Cell::Date(d).display(), "令和8年5月1日");
        let d = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
        assert_eq!(Cell::Date(d).display(), "令和元年5月1日");
        let t = d.and_hms_opt(9, 5, 59).unwrap();
        assert_eq!(Cell::DateTime(t).display(), "令和元年5月1日 09:05");
    }

    #[test]
    fn amounts_carry_their_unit() {
        assert_eq!(Cell::count(1234, "件").display(), "1,234件");
        assert_eq!(Cell::Amount(12.5, 2, "時間".into()).display(), "12.50時間");
        assert_eq!(Cell::Amount(f64::NAN, 2, "時間".into()).display(), "-");
        assert_eq!(Cell::count(3, "件").value(), Some(3.0));
        assert_eq!(Cell::text("3").value(), None);
    }
}
