//! The erasure register (消去記録, R11: "erase irrecoverably … report in writing").
//!
//! Every erasure the contractor performs is recorded: what was erased (the kind of data, the medium, its
//! identifier or serial number and size), how (NIST SP 800-88 Clear, Purge or Destroy, with the tool and
//! its version), when, by whom, who witnessed it (立会者), and how the result was verified. The 消去証明書
//! is produced from the record.

use crate::error::{DomainError, FieldError};
use crate::incident::{datetime_date_problem, parse_datetime};
use crate::text::{self, Line, Text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// NIST SP 800-88 Rev. 1 sanitization categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureMethod {
    /// Clear: overwrite through the ordinary interface. On flash storage (SSD, USB memory) this does not
    /// reach remapped or spare blocks.
    Clear,
    /// Purge: a method that defeats laboratory recovery — the device's sanitize/secure-erase command, or
    /// cryptographic erase (destroying the key of an encrypted volume).
    Purge,
    /// Destroy: physical destruction (shredding, disintegration, incineration).
    Destroy,
}

impl ErasureMethod {
    /// All methods, in display order.
    pub const ALL: [ErasureMethod; 3] = [
        ErasureMethod::Clear,
        ErasureMethod::Purge,
        ErasureMethod::Destroy,
    ];

    /// Stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            ErasureMethod::Clear => "clear",
            ErasureMethod::Purge => "purge",
            ErasureMethod::Destroy => "destroy",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<ErasureMethod> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            ErasureMethod::Clear => "Clear（上書き消去）",
            ErasureMethod::Purge => "Purge（暗号化消去・装置の消去命令）",
            ErasureMethod::Destroy => "Destroy（物理破壊）",
        }
    }
}

/// What kind of data was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureScope {
    /// unyo's own database, files and backups.
    SystemData,
    /// The SE's temporary copies (work files, exports, logs taken away for analysis).
    TemporaryCopy,
    /// Media the prefecture provided (提供媒体).
    ProvidedMedium,
}

impl ErasureScope {
    /// All scopes, in display order.
    pub const ALL: [ErasureScope; 3] = [
        ErasureScope::SystemData,
        ErasureScope::TemporaryCopy,
        ErasureScope::ProvidedMedium,
    ];

    /// Stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            ErasureScope::SystemData => "system_data",
            ErasureScope::TemporaryCopy => "temporary_copy",
            ErasureScope::ProvidedMedium => "provided_medium",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<ErasureScope> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            ErasureScope::SystemData => "本システムのデータ",
            ErasureScope::TemporaryCopy => "作業用の一時的な複製",
            ErasureScope::ProvidedMedium => "県から提供を受けた媒体",
        }
    }
}

/// Raw input of an erasure record (form and API).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ErasureInput {
    /// The contract under which it was done (optional).
    pub contract_id: Option<i64>,
    /// `system_data`, `temporary_copy` or `provided_medium`.
    pub scope: String,
    /// 媒体 (e.g. 「SSD」「USBメモリ」「サーバの仮想ディスク」).
    pub medium: String,
    /// 識別番号・製造番号.
    pub identifier: String,
    /// 容量 as written on the medium (e.g. 「256GB」).
    pub capacity: String,
    /// What the medium held (対象データ).
    pub target: String,
    /// `clear`, `purge` or `destroy`.
    pub method: String,
    /// 使用ツール.
    pub tool: String,
    /// ツールの版.
    pub tool_version: String,
    /// 実施日時, JST (`2026-03-25T10:00` or 和暦 with a time).
    pub performed_at: String,
    /// 作業者.
    pub operator: String,
    /// 立会者.
    pub witness: String,
    /// 検証方法.
    pub verification_method: String,
    /// `true` when the verification found nothing readable.
    pub verified: bool,
    /// 検証結果 (what was seen).
    pub verification_result: String,
    /// 備考.
    pub note: String,
}

/// A validated erasure record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureDraft {
    pub contract_id: Option<i64>,
    pub scope: ErasureScope,
    pub medium: Line<100>,
    pub identifier: Line<200>,
    pub capacity: Line<50>,
    pub target: Text<1000>,
    pub method: ErasureMethod,
    pub tool: Line<200>,
    pub tool_version: Line<100>,
    pub performed_at: DateTime<Utc>,
    pub operator: Line<100>,
    pub witness: Line<100>,
    pub verification_method: Text<1000>,
    pub verified: bool,
    pub verification_result: Text<2000>,
    pub note: Text<2000>,
}

impl ErasureInput {
    /// Validates: everything but capacity, tool version and note is required; the time may not lie after
    /// `now`; the witness must be another person than the operator.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ErasureDraft, DomainError> {
        let mut errors = Vec::new();
        let scope = ErasureScope::parse(self.scope.trim());
        if scope.is_none() {
            errors.push(FieldError::new(
                "scope",
                "消去の対象区分を選択してください。",
            ));
        }
        let method = ErasureMethod::parse(self.method.trim());
        if method.is_none() {
            errors.push(FieldError::new(
                "method",
                "消去方法（Clear・Purge・Destroy）を選択してください。",
            ));
        }
        let medium = text::line(&mut errors, "medium", "媒体", &self.medium, true);
        let identifier = text::line(
            &mut errors,
            "identifier",
            "識別番号・製造番号",
            &self.identifier,
            true,
        );
        let capacity = text::line(&mut errors, "capacity", "容量", &self.capacity, false);
        let target = text::text(&mut errors, "target", "対象データ", &self.target, true);
        let tool = text::line(&mut errors, "tool", "使用ツール", &self.tool, true);
        let tool_version = text::line(
            &mut errors,
            "tool_version",
            "ツールの版",
            &self.tool_version,
            false,
        );
        let operator = text::line(&mut errors, "operator", "作業者", &self.operator, true);
        let witness = text::line(&mut errors, "witness", "立会者", &self.witness, true);
        if !operator.as_str().is_empty() && operator.as_str() == witness.as_str() {
            errors.push(FieldError::new(
                "witness",
                "立会者は作業者と別の人にしてください。",
            ));
        }
        let verification_method = text::text(
            &mut errors,
            "verification_method",
            "検証方法",
            &self.verification_method,
            true,
        );
        let verification_result = text::text(
            &mut errors,
            "verification_result",
            "検証結果",
            &self.verification_result,
            true,
        );
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        let performed_at = match parse_datetime(&self.performed_at) {
            _ if self.performed_at.trim().is_empty() => {
                errors.push(FieldError::new(
                    "performed_at",
                    "実施日時を入力してください。",
                ));
                now
            }
            Some(at) if at > now => {
                errors.push(FieldError::new(
                    "performed_at",
                    "実施日時が未来の日時になっています。",
                ));
                at
            }
            Some(at) => at,
            None => {
                errors.push(FieldError::new(
                    "performed_at",
                    match datetime_date_problem(&self.performed_at) {
                        Some(reason) => format!("実施日時: {reason}"),
                        None => "実施日時は 2026-03-25T10:00 または 令和8年3月25日 10:00 の形で入力してください。".into(),
                    },
                ));
                now
            }
        };
        match (scope, method) {
            (Some(scope), Some(method)) if errors.is_empty() => Ok(ErasureDraft {
                contract_id: self.contract_id,
                scope,
                medium,
                identifier,
                capacity,
                target,
                method,
                tool,
                tool_version,
                performed_at,
                operator,
                witness,
                verification_method,
                verified: self.verified,
                verification_result,
                note,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// What the certificate and the docs say plainly about overwriting.
pub const CLEAR_ON_FLASH_NOTE: &str = "上書きによる消去は NIST SP 800-88 の「Clear」に当たります。SSD・USBメモリ等のフラッシュ媒体では、\
書き換えで退避された領域や予備領域に元のデータが残り得るため、上書きだけでは「Purge」になりません。\
「Purge」とするには、暗号化したボリュームに保存し、その暗号鍵を破棄する（暗号化消去）か、装置の消去命令を用いてください。";

/// An item of the contract-close checklist (契約終了時の確認). Items are stored by code, so further
/// items (materials returned, staff accounts ended) are added here and in [`CloseItem::ALL`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseItem {
    /// The full export was handed over; evidence: the SHA-256 of its `SHA256SUMS`.
    ExportHandedOver,
    /// unyo's data (and the contractor's copies) were erased; evidence: an erasure record with its
    /// frozen certificate.
    ErasureDone,
}

impl CloseItem {
    /// Every item the checklist shows, in order.
    pub const ALL: [CloseItem; 2] = [CloseItem::ExportHandedOver, CloseItem::ErasureDone];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            CloseItem::ExportHandedOver => "export_handed_over",
            CloseItem::ErasureDone => "erasure_done",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<CloseItem> {
        Self::ALL.into_iter().find(|i| i.code() == s)
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            CloseItem::ExportHandedOver => "全データのエクスポートを引き渡した",
            CloseItem::ErasureDone => "データを消去し、消去証明書を受領した",
        }
    }
}

/// Raw input of a checklist item: done with its evidence, or waived with a reason.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CloseItemInput {
    /// The item's code.
    pub item: String,
    /// `done` or `waived`.
    pub state: String,
    /// For the export: the SHA-256 of its `SHA256SUMS` (64 hex digits).
    pub manifest_sha256: String,
    /// For the erasure: the erasure record.
    pub erasure_id: Option<i64>,
    /// What shows it was done (to whom handed over, when).
    pub evidence: String,
    /// Why the prefecture waives the item.
    pub reason: String,
}

/// What was recorded for an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CloseItemState {
    /// Done, with its evidence.
    Done {
        manifest_sha256: Option<String>,
        erasure_id: Option<i64>,
        evidence: Text<1000>,
    },
    /// Waived by the prefecture with a reason.
    Waived { reason: Text<1000> },
}

/// A validated checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseItemDraft {
    pub item: CloseItem,
    pub state: CloseItemState,
}

impl CloseItemInput {
    /// Validates: a done export needs its manifest hash and evidence, a done erasure its record, a waiver
    /// its reason.
    pub fn validate(&self) -> Result<CloseItemDraft, DomainError> {
        let mut errors = Vec::new();
        let item = CloseItem::parse(self.item.trim());
        if item.is_none() {
            errors.push(FieldError::new("item", "確認項目を選択してください。"));
        }
        let state = match self.state.trim() {
            "done" => {
                let evidence = text::text(
                    &mut errors,
                    "evidence",
                    "根拠",
                    &self.evidence,
                    item == Some(CloseItem::ExportHandedOver),
                );
                let manifest = self.manifest_sha256.trim().to_ascii_lowercase();
                let manifest_sha256 = match item {
                    Some(CloseItem::ExportHandedOver) => {
                        if manifest.len() != 64 || !manifest.bytes().all(|b| b.is_ascii_hexdigit())
                        {
                            errors.push(FieldError::new(
                                "manifest_sha256",
                                "エクスポートの識別値（SHA256SUMS の SHA-256、16進64桁）を入力してください。",
                            ));
                        }
                        Some(manifest)
                    }
                    _ => None,
                };
                let erasure_id = match item {
                    Some(CloseItem::ErasureDone) => {
                        if self.erasure_id.is_none() {
                            errors.push(FieldError::new(
                                "erasure_id",
                                "消去記録を選択してください。",
                            ));
                        }
                        self.erasure_id
                    }
                    _ => None,
                };
                CloseItemState::Done {
                    manifest_sha256,
                    erasure_id,
                    evidence,
                }
            }
            "waived" => CloseItemState::Waived {
                reason: text::text(&mut errors, "reason", "免除の理由", &self.reason, true),
            },
            _ => {
                errors.push(FieldError::new(
                    "state",
                    "完了または免除を選択してください。",
                ));
                CloseItemState::Waived {
                    reason: Text::default(),
                }
            }
        };
        match item {
            Some(item) if errors.is_empty() => Ok(CloseItemDraft { item, state }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> ErasureInput {
        ErasureInput {
            contract_id: None,
            scope: "provided_medium".into(),
            medium: "USBメモリ".into(),
            identifier: "SN-0001".into(),
            capacity: "32GB".into(),
            target: "端末一覧の複製".into(),
            method: "clear".into(),
            tool: "消去ツール".into(),
            tool_version: "1.0".into(),
            performed_at: "2026-03-25T10:00".into(),
            operator: "運用 太郎".into(),
            witness: "県 花子".into(),
            verification_method: "全領域の読み出し".into(),
            verified: true,
            verification_result: "全領域がゼロ以外の乱数であることを確認".into(),
            note: String::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 26, 0, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn a_complete_record_is_accepted() {
        let d = sample().validate(now()).expect("valid");
        assert_eq!(d.method, ErasureMethod::Clear);
        assert_eq!(d.scope, ErasureScope::ProvidedMedium);
    }

    #[test]
    fn the_witness_is_another_person_and_the_time_is_not_future() {
        let mut i = sample();
        i.witness = i.operator.clone();
        i.performed_at = "2026-04-01T10:00".into();
        i.method = "wipe".into();
        let Err(DomainError::Validation(errors)) = i.validate(now()) else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"witness"));
        assert!(fields.contains(&"performed_at"));
        assert!(fields.contains(&"method"));
    }

    #[test]
    fn codes_round_trip() {
        for m in ErasureMethod::ALL {
            assert_eq!(ErasureMethod::parse(m.code()), Some(m));
        }
        for s in ErasureScope::ALL {
            assert_eq!(ErasureScope::parse(s.code()), Some(s));
        }
    }
}
