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

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("nav.records", "業務実績簿", "Work records"),
    ("records.title", "業務実績簿", "Monthly work records"),
    (
        "records.help",
        "業務実績簿は作業記録・支援要請・障害・協議記録から作成します（入力し直す必要はありません）。提出するとその時点のPDFとExcelが版として保存され、以後変更されません。県が確認するか、差戻し後に新しい版を提出します。",
        "Records are generated from the logged work, requests, incidents and consultations. Submitting freezes that moment's PDF and Excel as a version; the prefecture confirms it or sends it back for a new version.",
    ),
    ("records.contract", "契約", "Contract"),
    ("records.fy", "年度", "Fiscal year"),
    ("records.month", "対象月", "Month"),
    ("records.status", "状態", "Status"),
    ("records.version", "版", "Version"),
    ("records.due", "提出期限", "Due"),
    ("records.submitted_on", "提出日", "Submitted on"),
    ("records.submitted_by", "提出者", "Submitted by"),
    ("records.decided", "確認・差戻し", "Decision"),
    ("records.confirmed_on", "確認日", "Confirmed on"),
    ("records.confirmed_by", "確認者", "Confirmed by"),
    ("records.overdue", "期限超過", "Overdue"),
    (
        "records.changed",
        "提出後に変更あり",
        "Changed since submission",
    ),
    ("records.preview", "内容の確認", "Preview"),
    ("records.open", "提出状況", "Versions"),
    ("records.none", "該当する月がありません。", "No months."),
    (
        "records.annual",
        "本人確認情報保護審議会資料",
        "Annual council pack",
    ),
    (
        "records.annual_link",
        "審議会資料（年度）",
        "Council pack (year)",
    ),
    ("records.draft", "下書き（未提出）", "Draft (not submitted)"),
    (
        "records.draft_help",
        "現在のデータから作成した下書きです。提出日は本日になります。",
        "A draft generated from the data now, dated today.",
    ),
    ("records.draft_pdf", "下書きPDF", "Draft PDF"),
    ("records.draft_xlsx", "下書きExcel", "Draft Excel"),
    ("records.pdf", "PDF", "PDF"),
    ("records.xlsx", "Excel", "Excel"),
    (
        "records.download_help",
        "ダウンロードは監査ログに記録されます。",
        "Downloads are recorded in the audit log.",
    ),
    ("records.submit", "提出する", "Submit"),
    (
        "records.submit_help",
        "提出すると、現在のデータで作成したPDFとExcelが新しい版として保存され、変更できなくなります。",
        "Submitting stores this moment's PDF and Excel as a new version that can no longer change.",
    ),
    (
        "records.submit_next",
        "提出される版",
        "Version to be submitted",
    ),
    (
        "records.submitted",
        "業務実績簿を提出しました。",
        "Submitted.",
    ),
    ("records.confirm", "確認する", "Confirm"),
    (
        "records.confirm_help",
        "最新の版の内容を確認します。確認欄に確認者の氏名と確認日を記入した版が保存されます。最後の確認欄が確認されると、この月の業務実績簿は変更できなくなります。",
        "Confirms the latest version: a version with your name and today's date in the approval column is stored; after the last column the month becomes final.",
    ),
    ("records.confirmed", "確認しました。", "Confirmed."),
    ("records.return", "差し戻す", "Send back"),
    ("records.reason", "差戻しの理由", "Reason"),
    (
        "records.reason_help",
        "修正が必要な点を具体的に記入してください（個人番号・住民票コードは記入できません）。",
        "Say what must be corrected (no personal identifiers).",
    ),
    ("records.returned", "差し戻しました。", "Sent back."),
    ("records.actions", "操作", "Actions"),
    (
        "records.no_actions",
        "この役割では、この状態の業務実績簿に対して行える操作はありません。",
        "There is nothing your role can do with this record now.",
    ),
    ("records.versions", "提出された版", "Submitted versions"),
    ("records.sha256", "SHA-256", "SHA-256"),
    ("records.size", "サイズ", "Size"),
    ("records.outcome", "結果", "Outcome"),
    ("records.awaiting", "確認待ち", "Awaiting"),
    (
        "records.changes",
        "提出後のデータの変更",
        "Changes since submission",
    ),
    (
        "records.changes_warn",
        "最新の版を提出した後に、元になったデータが変更されています。保存されたファイルは変更されません。必要に応じて差戻しと再提出を行ってください。",
        "The data changed after the latest version was submitted. The stored files do not change; send back and resubmit if needed.",
    ),
    (
        "records.no_changes",
        "最新の版を提出した後のデータの変更はありません。",
        "No changes since the latest submission.",
    ),
    ("records.change_kind", "変更", "Change"),
    ("records.change_target", "対象", "Record"),
    ("records.change_field", "項目", "Field"),
    ("records.change_before", "提出時", "At submission"),
    ("records.change_after", "現在", "Now"),
    ("records.summary", "概要", "Summary"),
    ("records.entries", "作業件数", "Work entries"),
    ("records.hours", "作業時間", "Hours"),
    ("records.requests", "支援要請", "Requests"),
    ("records.incidents", "障害", "Incidents"),
    ("records.consultations", "協議記録", "Consultations"),
    ("records.contents", "内容", "Contents"),
    (
        "records.rows_cut",
        "以降の行は画面では省略しています。PDFまたはExcelで確認してください。",
        "Further rows are not shown here; see the PDF or Excel.",
    ),
    ("records.addressee", "業務実績簿の宛先", "Addressee"),
    (
        "records.addressee_help",
        "業務実績簿の左上に印字する宛先です（例: 佐賀県知事　様）。",
        "Printed at the top left of each record.",
    ),
    (
        "records.addressee_saved",
        "宛先を保存しました。",
        "Addressee saved.",
    ),
    (
        "records.no_contract",
        "契約が登録されていません。",
        "No contract is registered.",
    ),
    ("records.record_link", "提出状況を見る", "See versions"),
    (
        "records.annual_help",
        "年度の運用状況（作業・障害・稼働・展開・セキュリティ）を審議会資料として作成します。PDFとExcel（節ごとのシート）でダウンロードできます。",
        "The fiscal year's operation in figures and charts, as PDF and Excel (one sheet per section).",
    ),
    ("records.annual_pdf", "審議会資料PDF", "Council pack PDF"),
    (
        "records.annual_xlsx",
        "審議会資料Excel",
        "Council pack Excel",
    ),
    ("records.state_draft", "作成中", "Draft"),
    (
        "records.route",
        "確認欄（県）",
        "Prefecture's approval columns",
    ),
    ("records.step", "確認欄", "Approval column"),
    (
        "records.step_holder",
        "指定された確認者",
        "Designated approver",
    ),
    ("records.step_name", "氏名", "Name"),
    ("records.step_on", "確認日", "Date"),
    ("records.step_state", "状態", "State"),
    ("records.step_done", "確認済", "Confirmed"),
    ("records.step_returned", "差戻し", "Sent back"),
    ("records.confirm_title", "確認の前に", "Before you confirm"),
    ("records.confirm_open", "確認に進む", "Go on to confirm"),
    ("records.confirming", "確認する版", "Version confirmed"),
    (
        "records.new_version",
        "保存される版",
        "Version to be stored",
    ),
    ("records.submit_title", "提出の前に", "Before you submit"),
    ("records.submit_open", "提出に進む", "Go on to submit"),
    ("records.frozen", "提出済みの版", "Submitted version"),
    (
        "records.frozen_help",
        "この月の業務実績簿は提出済みです。表示とダウンロードは、保存された最新の版です（変更されません）。",
        "This month's record was submitted; what is shown and downloaded is its latest frozen version, which never changes.",
    ),
    (
        "records.frozen_stale",
        "この版のもとになったデータは提出後に変更されています。下の内容は現在のデータです。保存された版はダウンロードで確認してください。",
        "The data changed after this version was submitted; the contents below are today's data. Download the stored version to see it.",
    ),
];

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
