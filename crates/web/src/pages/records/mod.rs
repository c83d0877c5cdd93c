//! 業務実績簿 (monthly work records, R8) and 本人確認情報保護審議会資料 (the annual council pack, R6):
//!
//! - `GET /records` — per contract and fiscal year, each month's state (作成中 / 提出済 / 確認済 / 差戻し),
//!   versions, due date and actions; the addressee setting (administrator);
//! - `GET /records/monthly?contract_id=&month=2026-05` — the draft generated from the data now, as an HTML
//!   preview, with the draft PDF/XLSX (`/records/monthly.pdf|.xlsx`, audited as exports) and, for the SE,
//!   the submit form (`POST /records/monthly/submit`); once submitted (and until sent back), the latest
//!   frozen version instead, labelled (「第3版（係長確認済）」), whose files the buttons download;
//! - `GET /records/{id}` — the route's 確認欄 columns (who confirmed when, which step awaits), the versions
//!   with their SHA-256, what changed in the data since the latest submission, and the prefecture's
//!   confirm / send-back forms (`POST /records/{id}/confirm|return`);
//! - `GET /records/monthly/submit` and `GET /records/{id}/confirm` — 提出 and 確認 ask first: a page that
//!   says what will happen, with the button that does it;
//! - `GET /records/{id}/versions/{n}.pdf|.xlsx` — the frozen bytes, served byte-identical, audited;
//! - `GET /records/annual?contract_id=&fy=2026` — the council pack previewed, with `.pdf` / `.xlsx`.
//!
//! Every write goes through the store with the person's actor (permission, workflow rule and audit entry
//! in one transaction); the documents come from `unyo-documents`, rendered on the blocking pool.

mod annual;
mod detail;
mod list;
mod monthly;

use crate::AppState;
use crate::view::{Opt, parse_id};
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use unyo_report::{Block, Cell, Document, Table};

/// All routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/records", get(list::list))
        .route("/records/settings", post(list::settings))
        .route("/records/monthly", get(monthly::preview))
        .route("/records/monthly.pdf", get(monthly::pdf))
        .route("/records/monthly.xlsx", get(monthly::xlsx))
        .route(
            "/records/monthly/submit",
            get(monthly::submit_page).post(monthly::submit),
        )
        .route("/records/annual", get(annual::page))
        .route("/records/annual.pdf", get(annual::pdf))
        .route("/records/annual.xlsx", get(annual::xlsx))
        .route("/records/{id}", get(detail::detail))
        .route(
            "/records/{id}/confirm",
            get(detail::confirm_page).post(detail::confirm),
        )
        .route("/records/{id}/return", post(detail::send_back))
        .route("/records/{id}/versions/{file}", get(detail::file))
}

// ------------------------------------------------------------------ shared

/// A file download: never rendered inline, not cached, with its SHA-256 in `Repr-Digest` (RFC 9530).
fn download(bytes: Vec<u8>, content_type: &'static str, ascii: &str, name: &str) -> Response {
    let digest = {
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes))
    };
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(ascii, name),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{digest}:")) {
        h.insert("repr-digest", v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Store and rendering failures as page errors.
fn doc_error(e: unyo_documents::DocumentError) -> crate::WebError {
    match e {
        unyo_documents::DocumentError::Store(s) => s.into(),
        other => crate::WebError::Internal(other.to_string()),
    }
}

/// How many rows of a table the HTML preview shows (the files have them all).
const PREVIEW_ROWS: usize = 300;

/// A cell of the HTML preview: its lines, and whether it is a number.
pub(super) struct CellView {
    pub lines: Vec<String>,
    pub num: bool,
}

impl CellView {
    fn of(c: &Cell) -> CellView {
        CellView {
            lines: c.display().lines().map(str::to_string).collect(),
            num: matches!(c, Cell::Number(..) | Cell::Integer(_) | Cell::Percent(..)),
        }
    }
}

/// A table of the HTML preview.
pub(super) struct TableView {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<CellView>>,
    pub totals: Vec<CellView>,
    pub empty: String,
    pub cut: bool,
}

impl TableView {
    fn of(t: &Table) -> TableView {
        let n = t.columns.len();
        let row = |cells: &[Cell]| -> Vec<CellView> {
            (0..n)
                .map(|i| CellView::of(cells.get(i).unwrap_or(&Cell::Empty)))
                .collect()
        };
        TableView {
            caption: t.caption.clone().unwrap_or_default(),
            header: t.columns.iter().map(|c| c.label.clone()).collect(),
            rows: t.rows.iter().take(PREVIEW_ROWS).map(|r| row(r)).collect(),
            totals: t.totals.as_deref().map(row).unwrap_or_default(),
            empty: t.empty_text.clone().unwrap_or_else(|| "該当なし".into()),
            cut: t.rows.len() > PREVIEW_ROWS,
        }
    }
}

/// One block of the preview (`kind`: `p`, `h`, `kv`, `table`, `chart`).
pub(super) struct BlockView {
    pub kind: &'static str,
    pub text: String,
    pub kv: Vec<(String, String)>,
    pub table: Option<TableView>,
    pub svg: String,
}

/// One section of the preview.
pub(super) struct SectionView {
    pub heading: String,
    pub blocks: Vec<BlockView>,
}

/// A document as HTML: the same words and numbers as the PDF and the XLSX.
pub(super) fn sections_view(doc: &Document) -> Vec<SectionView> {
    doc.sections
        .iter()
        .map(|s| SectionView {
            heading: s.heading.clone(),
            blocks: s
                .blocks
                .iter()
                .filter_map(|b| {
                    let empty = BlockView {
                        kind: "p",
                        text: String::new(),
                        kv: Vec::new(),
                        table: None,
                        svg: String::new(),
                    };
                    Some(match b {
                        Block::Paragraph(t) => BlockView {
                            text: t.clone(),
                            ..empty
                        },
                        Block::Subheading(t) => BlockView {
                            kind: "h",
                            text: t.clone(),
                            ..empty
                        },
                        Block::KeyValues(kv) => BlockView {
                            kind: "kv",
                            kv: kv.clone(),
                            ..empty
                        },
                        Block::Table(t) => BlockView {
                            kind: "table",
                            table: Some(TableView::of(t)),
                            ..empty
                        },
                        Block::Chart(c) => BlockView {
                            kind: "chart",
                            text: c.title.clone(),
                            svg: c.svg.clone(),
                            table: Some(TableView::of(&c.data)),
                            ..empty
                        },
                        Block::PageBreak => return None,
                    })
                })
                .collect(),
        })
        .collect()
}

/// The title block of a document as label/value pairs: addressee, issuer, date and header facts.
pub(super) fn header_view(doc: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in &doc.addressee {
        out.push(("宛先".to_string(), a.clone()));
    }
    for line in &doc.org_lines {
        match line.split_once('　') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None => out.push((String::new(), line.clone())),
        }
    }
    out.extend(
        doc.meta
            .iter()
            .filter(|(k, _)| !out.iter().any(|(o, _)| o == k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    if let Some(d) = doc.issued_on
        && !out.iter().any(|(k, _)| k == doc.issued_label())
    {
        out.push((
            doc.issued_label().to_string(),
            unyo_domain::wareki::format_long(d),
        ));
    }
    out
}
