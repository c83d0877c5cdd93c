//! Registry and audit data in and out as files that Japanese Excel users handle.
//!
//! - Import: [`decode_text`] turns an uploaded file into text (UTF-8 with or without BOM, or Shift_JIS/CP932
//!   as Excel's 「CSV (コンマ区切り)」 writes it), then [`parse_terminals`], [`parse_sites`] and
//!   [`parse_nodes`] turn the CSV into store import rows. Only the file's shape is checked here; the values
//!   are validated by the domain when the store imports them.
//! - Export: [`terminals_csv`] and friends write UTF-8 CSV with a BOM and CRLF so that double-clicking the
//!   file opens it in Excel without mojibake; [`terminals_xlsx`] and friends write a print-ready workbook.
//!
//! An exported registry CSV re-imports as is: the import accepts both the column codes (`hostname`) and
//! the Japanese labels (ホスト名), and ignores the read-only columns the export adds.

mod columns;
pub mod compliance;
mod csv_export;
mod csv_import;
pub mod registers;
mod text;
pub mod work;
mod xlsx;

pub use compliance::{compliance_csv, compliance_xlsx};
pub use csv_export::{audit_csv, findings_csv, nodes_csv, sites_csv, terminals_csv};
pub use csv_import::{parse_nodes, parse_sites, parse_terminals};
pub use registers::{
    materials_csv, materials_xlsx, roster_csv, roster_xlsx, subcontracts_csv, subcontracts_xlsx,
};
pub use text::{MAX_INPUT_BYTES, decode_text};
pub use work::{work_csv, work_xlsx};
pub use xlsx::{audit_xlsx, findings_xlsx, nodes_xlsx, sites_xlsx, terminals_xlsx};

/// What can go wrong reading or writing an exchange file. Messages are Japanese, for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The upload is larger than [`MAX_INPUT_BYTES`].
    #[error("ファイルが大きすぎます（上限 {limit_mb} MB）。")]
    TooLarge {
        /// The limit in megabytes, for the message.
        limit_mb: usize,
    },
    /// The bytes are neither UTF-8 nor Shift_JIS (CP932).
    #[error("文字コードを判別できません。UTF-8 または Shift_JIS(CP932) で保存してください。")]
    UnknownEncoding,
    /// The workbook could not be built (e.g. more rows than a worksheet holds).
    #[error("Excel ファイルを作成できませんでした: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
