//! The erasure register (消去記録, R11) and the frozen 消去証明書 of each record.
//!
//! A record is written once, audited, and kept (the database refuses `DELETE`). Its certificate (PDF and
//! XLSX laid out by the documents crate) is stored once with its SHA-256; from then on neither the record
//! nor the certificate can change (triggers in migration 0019), and every download is audited.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::{Actor, Result, Store, StoreError, now};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unyo_domain::erasure::ErasureDraft;
use unyo_domain::{Action, DomainError};

/// A stored erasure record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Erasure {
    pub id: i64,
    /// The contract under which it was done, when known.
    pub contract_id: Option<i64>,
    /// `system_data`, `temporary_copy` or `provided_medium`.
    pub scope: String,
    pub medium: String,
    pub identifier: String,
    pub capacity: String,
    pub target: String,
    /// `clear`, `purge` or `destroy` (NIST SP 800-88).
    pub method: String,
    pub tool: String,
    pub tool_version: String,
    /// Storage form (UTC).
    pub performed_at: String,
    pub operator: String,
    pub witness: String,
    pub verification_method: String,
    /// Whether the verification found nothing readable.
    pub verified: bool,
    pub verification_result: String,
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    /// SHA-256 of the frozen certificate PDF, once frozen.
    pub certificate_pdf_sha256: Option<String>,
    /// SHA-256 of the frozen certificate XLSX, once frozen.
    pub certificate_xlsx_sha256: Option<String>,
    /// When the certificate was frozen.
    pub certificate_frozen_at: Option<String>,
}

const SELECT: &str =
    "SELECT e.id, e.contract_id, e.scope, e.medium, e.identifier, e.capacity, e.target,
    e.method, e.tool, e.tool_version, e.performed_at, e.operator, e.witness, e.verification_method,
    e.verified, e.verification_result, e.note, e.created_by, e.created_at,
    c.pdf_sha256 AS certificate_pdf_sha256, c.xlsx_sha256 AS certificate_xlsx_sha256,
    c.frozen_at AS certificate_frozen_at
    FROM erasures e LEFT JOIN erasure_certificates c ON c.erasure_id = e.id";

/// Which file of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFile {
    /// The A4 PDF.
    Pdf,
    /// The XLSX.
    Xlsx,
}

impl Store {
    /// Records an erasure. Needs [`Action::RecordErasure`]; audited as `erasure.create`.
    pub async fn create_erasure(&self, actor: &Actor, d: &ErasureDraft) -> Result<Erasure> {
        actor.require(Action::RecordErasure)?;
        let contract_id = d.contract_id;
        let at = now();
        let performed_at = unyo_domain::time::to_storage(d.performed_at);
        let id = write_tx!(self, |tx| {
            if let Some(c) = contract_id {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                        .bind(c)
                        .fetch_optional(&mut *tx)
                        .await?;
                if found.is_none() {
                    return Err(DomainError::NotFound(format!("契約 {c}")).into());
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO erasures (contract_id, scope, medium, identifier, capacity, target, method, tool,
                 tool_version, performed_at, operator, witness, verification_method, verified,
                 verification_result, note, created_by_id, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                 RETURNING id",
            )
            .bind(contract_id)
            .bind(d.scope.code())
            .bind(d.medium.as_str())
            .bind(d.identifier.as_str())
            .bind(d.capacity.as_str())
            .bind(d.target.as_str())
            .bind(d.method.code())
            .bind(d.tool.as_str())
            .bind(d.tool_version.as_str())
            .bind(&performed_at)
            .bind(d.operator.as_str())
            .bind(d.witness.as_str())
            .bind(d.verification_method.as_str())
            .bind(d.verified)
            .bind(d.verification_result.as_str())
            .bind(d.note.as_str())
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "erasure.create", "erasure", id).details(json!({
                    "scope": d.scope.code(), "method": d.method.code(), "medium": d.medium.as_str(),
                    "identifier": d.identifier.as_str(), "performed_at": performed_at,
                    "verified": d.verified, "contract_id": contract_id,
                })),
            )
            .await?;
            id
        });
        self.erasure(actor, id).await
    }

    /// The register, newest first. Needs [`Action::ViewErasures`].
    pub async fn erasures(&self, actor: &Actor) -> Result<Vec<Erasure>> {
        actor.require(Action::ViewErasures)?;
        let sql = format!("{SELECT} ORDER BY e.performed_at DESC, e.id DESC");
        Ok(read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .fetch_all(db)
        .await?))
    }

    /// One record. Needs [`Action::ViewErasures`].
    pub async fn erasure(&self, actor: &Actor, id: i64) -> Result<Erasure> {
        actor.require(Action::ViewErasures)?;
        let sql = format!("{SELECT} WHERE e.id = $1");
        let found: Option<Erasure> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        found.ok_or_else(|| DomainError::NotFound(format!("消去記録 {id}")).into())
    }

    /// Freezes the certificate of record `id` with its SHA-256, once: a second call keeps the first files.
    /// Needs [`Action::ViewErasures`] (the files are laid out from the stored record only); audited as
    /// `erasure.certificate_frozen` when it stores them.
    pub async fn freeze_erasure_certificate(
        &self,
        actor: &Actor,
        id: i64,
        pdf: &[u8],
        xlsx: &[u8],
    ) -> Result<Erasure> {
        actor.require(Action::ViewErasures)?;
        let pdf_sha = hex::encode(Sha256::digest(pdf));
        let xlsx_sha = hex::encode(Sha256::digest(xlsx));
        let at = now();
        write_tx!(self, |tx| {
            let inserted = sqlx::query(
                "INSERT INTO erasure_certificates (erasure_id, pdf, pdf_sha256, xlsx, xlsx_sha256, frozen_at)
                 SELECT id, $2, $3, $4, $5, $6 FROM erasures WHERE id = $1
                 ON CONFLICT (erasure_id) DO NOTHING",
            )
            .bind(id)
            .bind(pdf)
            .bind(&pdf_sha)
            .bind(xlsx)
            .bind(&xlsx_sha)
            .bind(&at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                tx.append_audit(
                    &NewAuditEntry::new(actor, "erasure.certificate_frozen", "erasure", id)
                        .details(json!({"pdf_sha256": pdf_sha, "xlsx_sha256": xlsx_sha})),
                )
                .await?;
            }
        });
        self.erasure(actor, id).await
    }

    /// The frozen certificate file of record `id`, `None` when not frozen yet. Refuses bytes that no
    /// longer match their stored hash. Needs [`Action::ViewErasures`]; audited as
    /// `erasure.certificate_download`.
    pub async fn erasure_certificate(
        &self,
        actor: &Actor,
        id: i64,
        file: CertificateFile,
    ) -> Result<Option<Vec<u8>>> {
        actor.require(Action::ViewErasures)?;
        let sql = match file {
            CertificateFile::Pdf => {
                "SELECT pdf, pdf_sha256 FROM erasure_certificates WHERE erasure_id = $1"
            }
            CertificateFile::Xlsx => {
                "SELECT xlsx, xlsx_sha256 FROM erasure_certificates WHERE erasure_id = $1"
            }
        };
        let row: Option<(Vec<u8>, String)> = read_db!(self, |db| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(db)
            .await?);
        let Some((bytes, sha)) = row else {
            return Ok(None);
        };
        if hex::encode(Sha256::digest(&bytes)) != sha {
            return Err(StoreError::Internal(format!(
                "erasure certificate {id}: stored bytes differ from their SHA-256"
            )));
        }
        let kind = match file {
            CertificateFile::Pdf => "pdf",
            CertificateFile::Xlsx => "xlsx",
        };
        write_tx!(self, |tx| {
            tx.append_audit(
                &NewAuditEntry::new(actor, "erasure.certificate_download", "erasure", id)
                    .details(json!({"file": kind, "sha256": sha})),
            )
            .await?;
        });
        Ok(Some(bytes))
    }
}
