//! PDF rendering with typst used as a library.
//!
//! The [`ReportWorld`] serves exactly two files: the fixed template `/main.typ` and `/data.json`, the
//! document turned into plain JSON. Fonts are the embedded BIZ UDPGothic faces; there is no file system,
//! no package, no network and no clock.

use std::sync::{LazyLock, OnceLock};

use serde_json::{Value, json};
use typst::diag::{FileError, FileResult, PackageError, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use crate::ReportError;
use crate::model::{BLANK_DATE, Block, Document, Table};

/// The embedded font (BIZ UDPGothic, SIL OFL), regular weight: documents are set in it, and the web pages
/// offer it to browsers that have no Japanese font of their own.
pub static FONT_REGULAR: &[u8] = include_bytes!("../fonts/BIZUDPGothic-Regular.ttf");
/// The same font, bold.
pub static FONT_BOLD: &[u8] = include_bytes!("../fonts/BIZUDPGothic-Bold.ttf");
const TEMPLATE: &str = include_str!("template.typ");

/// The family name of the embedded font, for SVGs and anything else that names a font.
pub const FONT_FAMILY: &str = "BIZ UDPGothic";

/// Printable width of A4 with the template's 15 mm side margins.
const TEXT_WIDTH_PORTRAIT_MM: f64 = 210.0 - 30.0;
const TEXT_WIDTH_LANDSCAPE_MM: f64 = 297.0 - 30.0;

/// What every render shares: the standard library, the fonts and the parsed template.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: Source,
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid constant virtual path");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

static MAIN_ID: LazyLock<FileId> = LazyLock::new(|| file_id("/main.typ"));
static DATA_ID: LazyLock<FileId> = LazyLock::new(|| file_id("/data.json"));

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let fonts: Vec<Font> = [FONT_REGULAR, FONT_BOLD]
            .into_iter()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Shared {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            main: Source::new(*MAIN_ID, TEMPLATE.to_string()),
        }
    })
}

/// The embedded fonts (regular and bold).
pub(crate) fn fonts() -> &'static [Font] {
    &shared().fonts
}

struct ReportWorld {
    data: Bytes,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &shared().library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &shared().book
    }

    fn main(&self) -> FileId {
        *MAIN_ID
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN_ID {
            Ok(shared().main.clone())
        } else if matches!(id.get().root(), VirtualRoot::Package(_)) {
            Err(no_packages())
        } else if id == *DATA_ID {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA_ID {
            Ok(self.data.clone())
        } else if id == *MAIN_ID {
            Ok(Bytes::from_string(TEMPLATE))
        } else if matches!(id.get().root(), VirtualRoot::Package(_)) {
            Err(no_packages())
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        shared().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Documents carry their own dates; the clock is never read.
        None
    }
}

fn no_packages() -> FileError {
    FileError::Package(PackageError::Other(Some(
        "packages are not available to unyo reports".into(),
    )))
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.get().vpath().get_without_slash().into())
}

/// Renders the document as a PDF (A4, the embedded Japanese font, 和暦 dates, page numbers).
///
/// Any typst error or warning is returned as [`ReportError::Typst`] with its message: the template is
/// ours, so a warning is a defect, never something to ship quietly.
pub fn render_pdf(doc: &Document) -> Result<Vec<u8>, ReportError> {
    crate::validate(doc)?;
    let data =
        serde_json::to_vec(&to_json(doc)).map_err(|e| ReportError::Invalid(e.to_string()))?;
    let world = ReportWorld {
        data: Bytes::new(data),
    };
    let warned = typst::compile::<PagedDocument>(&world);
    let result = match warned.output {
        Err(errors) => Err(ReportError::Typst(describe(&world, &errors))),
        Ok(_) if !warned.warnings.is_empty() => {
            Err(ReportError::Typst(describe(&world, &warned.warnings)))
        }
        Ok(document) => typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
            .map_err(|errors| ReportError::PdfExport(describe(&world, &errors))),
    };
    // Keep typst's memoization cache from growing without bound in a long-running server, while
    // keeping what recent renders (template parsing, font shaping) made.
    typst::comemo::evict(4);
    result
}

/// "error: message (main.typ:12:5; hint: …)" for each diagnostic, one per line.
fn describe(world: &ReportWorld, diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let mut line = format!(
                "{}: {}",
                match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                d.message
            );
            if let (Some(id), Some(range)) = (d.span.id(), world.range(d.span))
                && id == *MAIN_ID
                && let Some((l, c)) = shared().main.lines().byte_to_line_column(range.start)
            {
                line.push_str(&format!(" (template.typ:{}:{})", l + 1, c + 1));
            }
            for hint in &d.hints {
                line.push_str(&format!("; hint: {}", hint.v));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The document as the template reads it: every string already formatted, nothing left to interpret.
fn to_json(doc: &Document) -> Value {
    let text_width = if doc.landscape {
        TEXT_WIDTH_LANDSCAPE_MM
    } else {
        TEXT_WIDTH_PORTRAIT_MM
    };
    let running_title = match &doc.subtitle {
        Some(sub) => format!("{}　{}", doc.title, sub),
        None => doc.title.clone(),
    };
    let sections: Vec<Value> = doc
        .sections
        .iter()
        .map(|s| {
            let blocks: Vec<Value> = s
                .blocks
                .iter()
                .map(|b| match b {
                    Block::Paragraph(text) => json!({"kind": "paragraph", "text": text}),
                    Block::Subheading(text) => json!({"kind": "subheading", "text": text}),
                    Block::KeyValues(items) => {
                        json!({"kind": "kv", "kv": kv_json(items, text_width)})
                    }
                    Block::Table(t) => json!({"kind": "table", "table": table_json(t, text_width)}),
                    Block::Chart(c) => json!({"kind": "chart", "chart": {
                        "title": c.title,
                        "svg": c.svg,
                        "alt": c.alt_text,
                        "width_mm": c.width_mm.map(|w| w.min(text_width)),
                        "table": c.show_data.then(|| table_json(&c.data, text_width)),
                    }}),
                    Block::PageBreak => json!({"kind": "pagebreak"}),
                })
                .collect();
            json!({"heading": s.heading, "new_page": s.new_page, "blocks": blocks})
        })
        .collect();
    let approval = doc.approval.as_ref().map(|a| {
        let columns: Vec<Value> = a
            .columns
            .iter()
            .map(|c| {
                json!({
                    "role": c.role,
                    "name": c.name,
                    "date": c.date.map_or_else(|| BLANK_DATE.to_string(), unyo_domain::wareki::format_long),
                })
            })
            .collect();
        json!({"title": a.title, "columns": columns, "seal": a.seal_boxes})
    });
    json!({
        "title": doc.title,
        "subtitle": doc.subtitle,
        "running_title": running_title,
        "authors": doc.author.iter().collect::<Vec<_>>(),
        "addressee": doc.addressee,
        "org_lines": doc.org_lines,
        "date_label": doc.issued_label(),
        "date": doc.issued_on.map(unyo_domain::wareki::format_long),
        "meta": kv_json(&doc.meta, text_width),
        "landscape": doc.landscape,
        "footer_note": doc.footer_note,
        "sections": sections,
        "approval": approval,
    })
}

/// Label/value pairs with a label column as wide as the longest label (within limits).
fn kv_json(items: &[(String, String)], text_width: f64) -> Value {
    // Bold 9.5 pt: full-width characters 1 em, others about 0.6 em; plus the cell insets.
    const EM_MM: f64 = 9.5 * 25.4 / 72.0;
    let longest = items
        .iter()
        .flat_map(|(k, _)| k.split('\n'))
        .map(|line| {
            line.chars()
                .map(|c| if (c as u32) < 0x2E80 { 0.6 } else { 1.0 })
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let label_mm = (longest * EM_MM + 3.5).clamp(18.0, text_width * 0.4);
    json!({"label_mm": label_mm, "items": items})
}

fn table_json(t: &Table, text_width: f64) -> Value {
    let widths: Vec<f64> = t
        .columns
        .iter()
        .map(|c| {
            if c.width_mm.is_finite() && c.width_mm > 0.0 {
                c.width_mm
            } else {
                20.0
            }
        })
        .collect();
    // Columns that do not fit the page share it in proportion to their widths.
    let fractional = widths.iter().sum::<f64>() > text_width;
    let n = t.columns.len();
    let row = |cells: &[crate::Cell]| -> Vec<String> {
        (0..n)
            .map(|i| cells.get(i).map(crate::Cell::display).unwrap_or_default())
            .collect()
    };
    json!({
        "caption": t.caption,
        "header": t.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(),
        "widths": widths,
        "fractional": fractional,
        "aligns": t.columns.iter().map(|c| c.align.as_str()).collect::<Vec<_>>(),
        "rows": t.rows.iter().map(|r| row(r)).collect::<Vec<_>>(),
        // Rows short enough to be kept on one page (never split in the middle).
        "keep": t.rows.iter().map(|r| r.iter().all(short_enough)).collect::<Vec<_>>(),
        "totals": t.totals.as_ref().map(|r| row(r)),
        "empty_text": t.empty_text(),
    })
}

/// Whether a cell is surely shorter than a page, so its row may be kept whole.
fn short_enough(cell: &crate::Cell) -> bool {
    match cell {
        crate::Cell::Text(s) => s.chars().count() <= 400 && s.lines().count() <= 15,
        _ => true,
    }
}
