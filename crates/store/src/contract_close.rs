//! The contract-close checklist (契約終了時の確認, R11): per contract, each item of
//! [`CloseItem::ALL`] done with its evidence or waived by the prefecture with a reason; the contract can
//! be closed only when every item is. Evidence is checked against the data: an export handed over must
//! be one this database recorded making (`export.full` with that `SHA256SUMS` hash), an erasure must be a
//! verified record with a frozen certificate. All writes are audited.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::{Actor, Result, Store, now};
use serde::Serialize;
use serde_json::json;
use unyo_domain::erasure::{CloseItem, CloseItemDraft, CloseItemState};
use unyo_domain::{Action, DomainError};

/// What was recorded for one item.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CloseItemRecord {
    pub item: String,
    /// `done` or `waived`.
    pub state: String,
    pub evidence: String,
    pub manifest_sha256: Option<String>,
    pub erasure_id: Option<i64>,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistLine {
    /// The item's code.
    pub item: String,
    /// Its Japanese label.
    pub label: String,
    /// What was recorded, if anything.
    pub record: Option<CloseItemRecord>,
}

/// A contract's checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Checklist {
    pub contract_id: i64,
    pub lines: Vec<ChecklistLine>,
    /// `(closed_by, closed_at)` once closed.
    pub closed: Option<(String, String)>,
}

impl Checklist {
    /// Whether every item is done or waived.
    pub fn complete(&self) -> bool {
        self.lines.iter().all(|l| l.record.is_some())
    }
}

fn refused(field: &str, message: &str) -> crate::StoreError {
    DomainError::invalid(field, message).into()
}

impl Store {
    /// The checklist of a contract. Needs [`Action::ViewWork`].
    pub async fn contract_checklist(&self, actor: &Actor, contract_id: i64) -> Result<Checklist> {
        actor.require(Action::ViewWork)?;
        let contract: Option<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT id FROM contracts WHERE id = $1"
        )
        .bind(contract_id)
        .fetch_optional(db)
        .await?);
        if contract.is_none() {
            return Err(DomainError::NotFound(format!("契約 {contract_id}")).into());
        }
        let records: Vec<CloseItemRecord> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT item, state, evidence, manifest_sha256, erasure_id, reason, recorded_by, recorded_at
             FROM contract_close_items WHERE contract_id = $1"
        )
        .bind(contract_id)
        .fetch_all(db)
        .await?
        });
        let closed: Option<(String, String)> = read_db!(self, |db| sqlx::query_as(
            "SELECT closed_by, closed_at FROM contract_closures WHERE contract_id = $1"
        )
        .bind(contract_id)
        .fetch_optional(db)
        .await?);
        Ok(Checklist {
            contract_id,
            lines: CloseItem::ALL
                .iter()
                .map(|i| ChecklistLine {
                    item: i.code().into(),
                    label: i.label_ja().into(),
                    record: records.iter().find(|r| r.item == i.code()).cloned(),
                })
                .collect(),
            closed,
        })
    }

    /// Records an item as done or waived (replacing what was recorded before) while the contract is open.
    /// Needs [`Action::CloseContract`]; audited as `contract.close_item`.
    pub async fn record_close_item(
        &self,
        actor: &Actor,
        contract_id: i64,
        d: &CloseItemDraft,
    ) -> Result<Checklist> {
        actor.require(Action::CloseContract)?;
        let at = now();
        let (state, evidence, manifest, erasure_id, reason) = match &d.state {
            CloseItemState::Done {
                manifest_sha256,
                erasure_id,
                evidence,
            } => (
                "done",
                evidence.as_str().to_string(),
                manifest_sha256.clone(),
                *erasure_id,
                String::new(),
            ),
            CloseItemState::Waived { reason } => (
                "waived",
                String::new(),
                None,
                None,
                reason.as_str().to_string(),
            ),
        };
        write_tx!(self, |tx| {
            let contract: Option<i64> =
                sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                    .bind(contract_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if contract.is_none() {
                return Err(DomainError::NotFound(format!("契約 {contract_id}")).into());
            }
            let closed: Option<i64> = sqlx::query_scalar(
                "SELECT contract_id FROM contract_closures WHERE contract_id = $1",
            )
            .bind(contract_id)
            .fetch_optional(&mut *tx)
            .await?;
            if closed.is_some() {
                return Err(DomainError::Conflict("この契約は終了しています。".into()).into());
            }
            if let Some(m) = &manifest {
                let pattern = format!("%\"manifest_sha256\":\"{m}\"%");
                let made: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM audit_log WHERE action = 'export.full' AND details LIKE $1",
                )
                .bind(&pattern)
                .fetch_one(&mut *tx)
                .await?;
                if made == 0 {
                    return Err(refused(
                        "manifest_sha256",
                        "この識別値のエクスポートは記録されていません（unyo export または ZIP でのエクスポートの SHA256SUMS の SHA-256 を入力してください）。",
                    ));
                }
            }
            if let Some(e) = erasure_id {
                let row: Option<(bool, Option<String>)> = sqlx::query_as(
                    "SELECT e.verified, c.pdf_sha256 FROM erasures e
                     LEFT JOIN erasure_certificates c ON c.erasure_id = e.id WHERE e.id = $1",
                )
                .bind(e)
                .fetch_optional(&mut *tx)
                .await?;
                match row {
                    None => return Err(refused("erasure_id", "その消去記録はありません。")),
                    Some((false, _)) => {
                        return Err(refused(
                            "erasure_id",
                            "検証が不合格の消去記録は根拠にできません。",
                        ));
                    }
                    Some((true, None)) => {
                        return Err(refused(
                            "erasure_id",
                            "消去証明書がまだ作成されていない消去記録です。",
                        ));
                    }
                    Some((true, Some(_))) => {}
                }
            }
            sqlx::query(
                "INSERT INTO contract_close_items (contract_id, item, state, evidence, manifest_sha256,
                 erasure_id, reason, recorded_by_id, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (contract_id, item) DO UPDATE SET state = excluded.state,
                 evidence = excluded.evidence, manifest_sha256 = excluded.manifest_sha256,
                 erasure_id = excluded.erasure_id, reason = excluded.reason,
                 recorded_by_id = excluded.recorded_by_id, recorded_by = excluded.recorded_by,
                 recorded_at = excluded.recorded_at",
            )
            .bind(contract_id)
            .bind(d.item.code())
            .bind(state)
            .bind(&evidence)
            .bind(&manifest)
            .bind(erasure_id)
            .bind(&reason)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "contract.close_item", "contract", contract_id).details(
                    json!({
                        "item": d.item.code(), "state": state, "manifest_sha256": manifest,
                        "erasure_id": erasure_id, "evidence": evidence, "reason": reason,
                    }),
                ),
            )
            .await?;
        });
        self.contract_checklist(actor, contract_id).await
    }

    /// Closes the contract once every checklist item is done or waived. Needs
    /// [`Action::CloseContract`]; audited as `contract.close`.
    pub async fn close_contract(&self, actor: &Actor, contract_id: i64) -> Result<Checklist> {
        actor.require(Action::CloseContract)?;
        let at = now();
        write_tx!(self, |tx| {
            let recorded: Vec<String> =
                sqlx::query_scalar("SELECT item FROM contract_close_items WHERE contract_id = $1")
                    .bind(contract_id)
                    .fetch_all(&mut *tx)
                    .await?;
            let missing: Vec<&str> = CloseItem::ALL
                .iter()
                .filter(|i| !recorded.iter().any(|r| r == i.code()))
                .map(|i| i.label_ja())
                .collect();
            if !missing.is_empty() {
                return Err(DomainError::Conflict(format!(
                    "完了または免除されていない項目があります: {}",
                    missing.join("、")
                ))
                .into());
            }
            let inserted = sqlx::query(
                "INSERT INTO contract_closures (contract_id, closed_by_id, closed_by, closed_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (contract_id) DO NOTHING",
            )
            .bind(contract_id)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(DomainError::Conflict("この契約は終了しています。".into()).into());
            }
            tx.append_audit(&NewAuditEntry::new(
                actor,
                "contract.close",
                "contract",
                contract_id,
            ))
            .await?;
        });
        self.contract_checklist(actor, contract_id).await
    }
}
