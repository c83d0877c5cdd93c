//! unyo's documents, built from the stored data as [`unyo_report::Document`]s (so the PDF and the XLSX
//! always say the same thing):
//!
//! - the **monthly work record** (業務実績簿, R8) of a contract and month — [`monthly_record`] for a draft,
//!   [`submit_monthly`] to freeze a new version, [`confirm_monthly`] for each step of the prefecture's
//!   approval route (the document frozen again with that step's column filled),
//!   [`changes_since_submission`] to tell what changed in the data since;
//! - the **annual council pack** (本人確認情報保護審議会資料, R6) of a fiscal year — [`annual_pack`];
//! - the **incident report** (障害報告書, R7) of one incident — [`incident_document`];
//! - the **connectivity check-result sheet** (疎通確認結果表) of an on-demand run — [`check_run_document`]
//!   (its XLSX, [`check_sheet_xlsx`], is what the probe crate keeps as evidence when the run is kept) and
//!   [`check_sheet_document`] for a kept sheet;
//! - the **erasure certificate** (消去証明書, R11) of a record of the erasure register —
//!   [`erasure_certificate`] — and of unyo erasing its own data — [`self_erasure_certificate`].
//!
//! Each is rendered to PDF and XLSX by the report engine ([`render`]). Every date is printed in 和暦 (in the
//! XLSX an Excel date with a 和暦 number format), every sheet is A4. Nothing here reads the clock: the issue date is passed
//! in. What the store does not have yet is said so in the document (該当なし / 監視未導入) rather than left
//! out.

pub mod annual;
mod check_sheet;
mod erasure_certificate;
mod incident_report;
mod monthly;
mod text;

pub use annual::{AnnualData, annual_data, annual_pack};
pub use check_sheet::{
    CHECK_SHEET_COLUMNS, CHECK_SHEET_TITLE, CheckRun, check_run_document, check_sheet_document,
    check_sheet_file_name, check_sheet_pdf_file_name, check_sheet_xlsx,
};
pub use erasure_certificate::{
    ERASURE_CERTIFICATE_TITLE, ErasedFile, SelfErasure, erasure_certificate,
    erasure_certificate_file_name, self_erasure_certificate,
};
pub use incident_report::{
    INCIDENT_REPORT_TITLE, IncidentReport, ReportEntry, ReportGuidance, ReportWitness, ReportWork,
    incident_document, incident_report, incident_report_document, incident_report_file_name,
    incident_report_pdf_file_name,
};
pub use monthly::{
    Edition, MonthlyData, changes_since_submission, confirm_monthly, frozen_document, is_frozen,
    monthly_data, monthly_record, submit_monthly,
};

use unyo_report::{Document, ReportError};
use unyo_store::StoreError;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Reading or writing the data failed (including refusals: permissions, workflow rules).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Rendering failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Callers that speak the store's error (the demo loader's `RecordDesk`) keep a store refusal as it
/// is; a rendering failure becomes an internal error.
impl From<DocumentError> for StoreError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Store(e) => e,
            DocumentError::Report(e) => StoreError::Internal(e.to_string()),
        }
    }
}

/// The JST day number (days since 1970-01-01) of a date, as the connectivity roll-ups count days.
pub(crate) fn day_number(d: chrono::NaiveDate) -> i64 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// Result alias.
pub type Result<T, E = DocumentError> = std::result::Result<T, E>;

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Xlsx,
}

impl Format {
    /// `pdf` / `xlsx`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Some(Format::Pdf),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The SHA-256 of some bytes, as lower-case hex (how files are identified in unyo).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Renders a document in one format (CPU-bound; see [`render_blocking`] from async code).
pub fn render(doc: &Document, format: Format) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Pdf => unyo_report::render_pdf(doc)?,
        Format::Xlsx => unyo_report::render_xlsx(doc)?,
    })
}

/// Renders a document on tokio's blocking pool, keeping the async workers free.
pub async fn render_blocking(doc: Document, format: Format) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || render(&doc, format))
        .await
        .map_err(|e| DocumentError::Store(StoreError::Internal(format!("render task: {e}"))))?
}
