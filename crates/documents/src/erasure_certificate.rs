//! The erasure certificate (消去証明書, R11: "erase irrecoverably … report in writing"), A4, as a
//! [`Document`] rendered to PDF and XLSX by the report engine.
//!
//! Two sources lay out the same certificate: a record of the erasure register ([`erasure_certificate`],
//! frozen with its SHA-256 by the store), and unyo erasing its own data directory
//! ([`self_erasure_certificate`], where the database is what is being erased, so the record lives in the
//! certificate itself and lists every file with its size and SHA-256 before erasure). Both say plainly
//! that overwriting is "Clear" on flash storage and that "Purge" needs an encrypted volume whose key is
//! destroyed.

use chrono::{NaiveDate, NaiveDateTime};
use unyo_domain::erasure::{CLEAR_ON_FLASH_NOTE, ErasureMethod, ErasureScope};
use unyo_domain::time::{from_storage, to_jst};
use unyo_report::{Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::erasures::Erasure;

/// The printed title.
pub const ERASURE_CERTIFICATE_TITLE: &str = "消去証明書";

/// One file erased by `unyo erase`, as measured before erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedFile {
    /// Path relative to the erased directory.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 before erasure.
    pub sha256: String,
}

/// What `unyo erase` did, for its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfErasure {
    /// The directory erased (as the operator named it).
    pub directory: String,
    /// When the erasure started (JST).
    pub started_at: NaiveDateTime,
    /// When verification finished (JST).
    pub finished_at: NaiveDateTime,
    /// The operator (login name of the OS account, or as given).
    pub operator: String,
    /// The witness, when one was named.
    pub witness: String,
    /// The export that preceded it: its `SHA256SUMS` hash.
    pub export_manifest_sha256: String,
    /// The tool and version (`unyo 0.1.0`).
    pub tool: String,
    /// Files erased.
    pub files: Vec<ErasedFile>,
    /// Directories removed.
    pub directories: usize,
    /// Marker strings sampled from the data before erasure and searched for afterwards.
    pub markers: usize,
    /// Whether the directory is gone (or empty) and no marker was found anywhere left.
    pub verified: bool,
    /// What verification saw, in Japanese.
    pub verification_result: String,
}

/// A SHA-256 in two lines of 32 digits, so it fits a table cell on A4 (a hash has no place to wrap).
fn two_lines(hash: &str) -> String {
    match (hash.get(..32), hash.get(32..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}\n{b}"),
        _ => hash.to_string(),
    }
}

fn jst_text(stored: &str) -> Option<NaiveDateTime> {
    from_storage(stored).map(to_jst)
}

fn method_label(code: &str) -> String {
    ErasureMethod::parse(code)
        .map(|m| m.label_ja().to_string())
        .unwrap_or_else(|| code.to_string())
}

fn scope_label(code: &str) -> String {
    ErasureScope::parse(code)
        .map(|m| m.label_ja().to_string())
        .unwrap_or_else(|| code.to_string())
}

fn approval() -> Approval {
    Approval {
        title: Some("確認欄".into()),
        columns: vec![
            ApprovalColumn::new("作業者（受託者）"),
            ApprovalColumn::new("立会者"),
            ApprovalColumn::new("確認者（県）"),
        ],
        seal_boxes: false,
    }
}

fn note_section(number: &str) -> Section {
    Section::new(format!("{number}. 消去方法についての注記"))
        .sheet("注記")
        .push(Block::Paragraph(CLEAR_ON_FLASH_NOTE.into()))
}

/// The certificate of one record of the erasure register. `issued_on` is the 作成日 (never read from the
/// clock here).
pub fn erasure_certificate(e: &Erasure, issued_on: NaiveDate) -> Document {
    let mut doc = Document::new(ERASURE_CERTIFICATE_TITLE);
    let number = format!("消去記録 No.{}", e.id);
    doc.subtitle = Some(number.clone());
    doc.issued_on = Some(issued_on);
    doc.issued_label = "作成日".into();
    doc.footer_note = Some(format!("{ERASURE_CERTIFICATE_TITLE} {number}"));
    doc.sections.push(
        Section::new("1. 消去の対象")
            .sheet("対象")
            .push(Block::KeyValues(vec![
                ("対象区分".into(), scope_label(&e.scope)),
                ("媒体".into(), e.medium.clone()),
                ("識別番号・製造番号".into(), e.identifier.clone()),
                (
                    "容量".into(),
                    if e.capacity.is_empty() {
                        "—".into()
                    } else {
                        e.capacity.clone()
                    },
                ),
                ("対象データ".into(), e.target.clone()),
            ])),
    );
    let mut how = Table::new(vec![
        Column::left("項目", 50.0),
        Column::left("内容", 120.0),
    ]);
    how = how
        .row(vec![
            "消去方法（NIST SP 800-88）".into(),
            method_label(&e.method).into(),
        ])
        .row(vec![
            "使用ツール".into(),
            if e.tool_version.is_empty() {
                e.tool.clone()
            } else {
                format!("{}（版 {}）", e.tool, e.tool_version)
            }
            .into(),
        ])
        .row(vec![
            "実施日時".into(),
            jst_text(&e.performed_at).map_or_else(|| e.performed_at.clone().into(), Cell::DateTime),
        ])
        .row(vec!["作業者".into(), e.operator.clone().into()])
        .row(vec!["立会者".into(), e.witness.clone().into()]);
    doc.sections.push(
        Section::new("2. 消去の方法と実施")
            .sheet("実施")
            .push(Block::Table(how)),
    );
    doc.sections.push(
        Section::new("3. 検証")
            .sheet("検証")
            .push(Block::KeyValues(vec![
                ("検証方法".into(), e.verification_method.clone()),
                (
                    "判定".into(),
                    if e.verified {
                        "合格（読み出せるデータは残っていない）".into()
                    } else {
                        "不合格".into()
                    },
                ),
                ("検証結果".into(), e.verification_result.clone()),
                (
                    "備考".into(),
                    if e.note.is_empty() {
                        "—".into()
                    } else {
                        e.note.clone()
                    },
                ),
            ])),
    );
    doc.sections.push(note_section("4"));
    doc.sections
        .push(
            Section::new("5. 証明").sheet("証明").push(Block::Paragraph(
                "上記のとおり、対象のデータを消去し、読み出せないことを確認したことを証明します。"
                    .into(),
            )),
        );
    doc.approval = Some(approval());
    doc
}

/// The certificate of `unyo erase`: the directory, every file with its size and SHA-256 before erasure,
/// the method (overwrite = Clear) and the verification.
pub fn self_erasure_certificate(s: &SelfErasure) -> Document {
    let mut doc = Document::new(ERASURE_CERTIFICATE_TITLE);
    doc.subtitle = Some("本システムのデータの消去".into());
    doc.issued_on = Some(s.finished_at.date());
    doc.issued_label = "作成日".into();
    doc.footer_note = Some(format!(
        "{ERASURE_CERTIFICATE_TITLE} エクスポート {}",
        &s.export_manifest_sha256.get(..16).unwrap_or_default()
    ));
    let total: u64 = s.files.iter().map(|f| f.size).sum();
    doc.sections.push(
        Section::new("1. 消去の対象").sheet("対象").push(Block::KeyValues(vec![
            ("対象区分".into(), ErasureScope::SystemData.label_ja().into()),
            ("対象".into(), format!("データフォルダ {}", s.directory)),
            (
                "内容".into(),
                "データベース（本体・WAL・SHM）、証跡ファイル、凍結した帳票、バックアップ、一時ファイル".into(),
            ),
            (
                "ファイル数・合計".into(),
                format!("{} ファイル、{} バイト", s.files.len(), total),
            ),
            (
                "消去前のエクスポート".into(),
                format!(
                    "SHA256SUMS の SHA-256:\n{}",
                    two_lines(&s.export_manifest_sha256)
                ),
            ),
        ])),
    );
    let how = Table::new(vec![Column::left("項目", 50.0), Column::left("内容", 120.0)])
        .row(vec![
            "消去方法（NIST SP 800-88）".into(),
            ErasureMethod::Clear.label_ja().into(),
        ])
        .row(vec![
            "手順".into(),
            "各ファイルの全長を乱数で上書きして記憶装置へ書き出し（fsync）、長さ0に切り詰めて削除し、フォルダを削除".into(),
        ])
        .row(vec!["使用ツール".into(), s.tool.clone().into()])
        .row(vec!["開始日時".into(), Cell::DateTime(s.started_at)])
        .row(vec!["終了日時".into(), Cell::DateTime(s.finished_at)])
        .row(vec!["作業者".into(), s.operator.clone().into()])
        .row(vec![
            "立会者".into(),
            if s.witness.is_empty() {
                "—".into()
            } else {
                s.witness.clone().into()
            },
        ]);
    doc.sections.push(
        Section::new("2. 消去の方法と実施")
            .sheet("実施")
            .push(Block::Table(how)),
    );
    doc.sections.push(
        Section::new("3. 検証").sheet("検証").push(Block::KeyValues(vec![
            (
                "検証方法".into(),
                format!(
                    "フォルダにファイルが残っていないことの確認と、消去前にデータから採った目印の文字列 {} 件が残ったファイルのどこにも見つからないことの確認",
                    s.markers
                ),
            ),
            (
                "判定".into(),
                if s.verified {
                    "合格（読み出せるデータは残っていない）".into()
                } else {
                    "不合格".into()
                },
            ),
            ("検証結果".into(), s.verification_result.clone()),
        ])),
    );
    doc.sections.push(note_section("4"));
    let mut files = Table::new(vec![
        Column::left("ファイル", 70.0),
        Column::right("大きさ（バイト）", 30.0),
        Column::left("消去前の SHA-256", 70.0),
    ]);
    for f in &s.files {
        files = files.row(vec![
            f.path.clone().into(),
            Cell::Integer(i64::try_from(f.size).unwrap_or(i64::MAX)),
            two_lines(&f.sha256).into(),
        ]);
    }
    doc.sections.push(
        Section::new("5. 消去したファイル")
            .sheet("ファイル")
            .push(Block::Table(files)),
    );
    doc.approval = Some(approval());
    doc
}

/// The file name of a register record's certificate: `消去証明書_No.12.pdf`.
pub fn erasure_certificate_file_name(id: i64, ext: &str) -> String {
    format!("{ERASURE_CERTIFICATE_TITLE}_No.{id}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Erasure {
        Erasure {
            id: 3,
            contract_id: None,
            scope: "provided_medium".into(),
            medium: "USBメモリ".into(),
            identifier: "SN-0001".into(),
            capacity: "32GB".into(),
            target: "端末一覧".into(),
            method: "purge".into(),
            tool: "消去ツール".into(),
            tool_version: "1.0".into(),
            performed_at: "2027-03-25T01:00:00Z".into(),
            operator: "運用 太郎".into(),
            witness: "県 花子".into(),
            verification_method: "読み出し".into(),
            verified: true,
            verification_result: "読み出せない".into(),
            note: String::new(),
            created_by: "se".into(),
            created_at: "2027-03-25T02:00:00Z".into(),
            certificate_pdf_sha256: None,
            certificate_xlsx_sha256: None,
            certificate_frozen_at: None,
        }
    }

    #[test]
    fn the_certificate_names_method_target_time_operator_and_verification() {
        let d = erasure_certificate(
            &record(),
            NaiveDate::from_ymd_opt(2027, 3, 25).expect("date"),
        );
        let text = format!("{d:?}");
        for want in [
            "Purge",
            "SN-0001",
            "運用 太郎",
            "県 花子",
            "読み出し",
            "Clear",
            "暗号鍵",
        ] {
            assert!(text.contains(want), "{want}");
        }
    }
}
