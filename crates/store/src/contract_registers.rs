//! The registers of a contract (R9, R10, R12): subcontracting approvals (再委託), the materials and data
//! the prefecture provided (提供資料) with their copies and return, and the staff roster (従事者名簿).
//!
//! Every change is audited in its transaction (entities `subcontract`, `material`, `staff`), which is also
//! each entry's history ([`Store::history`]). Reads of a provided material's entry and every export of a
//! register are audited too (R12).
//!
//! The roster decides access: an account tied to a roster entry works only while one of its entries is
//! active (inside the assignment, pledge on file; [`assignment_active`]). Saving an entry that leaves its
//! account without an active one ends the account's sessions and API tokens and takes it off the
//! contract's staff in the same transaction; an assignment that ends by the calendar is caught by the
//! session and token checks ([`Store::session`], [`Store::user_for_token`]) with the query
//! [`ROSTER_GATE_SQL`], which ends them the same way.

use crate::attachments::{INSERT_SQL, prepare};
use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{conflict, date_text, diff, not_found, stored_date};
use crate::{Actor, Result, Store, now};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use unyo_domain::contract_registers::{
    ApprovedScope, Classification, CopyRequestInput, DecisionInput, MaterialDraft, MaterialInput,
    MaterialKind, Medium, ReturnMaterialInput, StaffDraft, StaffInput, SubcontractDraft,
    SubcontractInput, assignment_active,
};
use unyo_domain::support::{Category, Clause};
use unyo_domain::{Action, DomainError};

/// Counts the roster entries of account `$1` and those active on day `$2` (`YYYY-MM-DD`, JST). An account
/// with entries and none active may not work. Both counts use the `staff_roster_user` index.
pub(crate) const ROSTER_GATE_SQL: &str = "SELECT
    (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = $1) AS entries,
    (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = $1 AND r.start_on <= $2
        AND (r.end_on IS NULL OR r.end_on >= $2) AND r.pledge_on IS NOT NULL AND r.pledge_on <= $2
        AND r.pledge_attachment_id IS NOT NULL) AS active";

/// The audit action of an access ended by the roster.
pub const ACCESS_ENDED: &str = "staff.access_ended";

// ------------------------------------------------------------------------------------------------ rows

/// A subcontracting approval.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Subcontract {
    pub id: i64,
    pub contract_id: i64,
    pub subcontractor: String,
    pub work_part: String,
    /// Clause codes, comma-separated (`2,3`).
    pub clauses: String,
    /// Work-kind codes, comma-separated.
    pub categories: String,
    pub approval_number: String,
    pub approved_on: String,
    pub period_start: String,
    pub period_end: String,
    pub note: String,
    /// The approval document, when attached.
    pub approval_attachment_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl Subcontract {
    /// The clauses of the scope.
    pub fn clause_list(&self) -> Vec<Clause> {
        self.clauses.split(',').filter_map(Clause::parse).collect()
    }

    /// The work kinds of the scope.
    pub fn category_list(&self) -> Vec<Category> {
        self.categories
            .split(',')
            .filter_map(Category::parse)
            .collect()
    }

    /// The scope as the work-entry rule reads it.
    pub fn scope(&self) -> Option<ApprovedScope> {
        Some(ApprovedScope {
            clauses: self.clause_list(),
            categories: self.category_list(),
            start: stored_date(&self.period_start)?,
            end: stored_date(&self.period_end)?,
        })
    }

    /// The scope in words: 「②、③ / 疎通確認支援」.
    pub fn scope_label(&self) -> String {
        let clauses: Vec<&str> = self.clause_list().iter().map(|c| c.mark()).collect();
        let kinds: Vec<&str> = self.category_list().iter().map(|c| c.label_ja()).collect();
        match (clauses.is_empty(), kinds.is_empty()) {
            (false, false) => format!("{} / {}", clauses.join("、"), kinds.join("、")),
            (false, true) => clauses.join("、"),
            _ => kinds.join("、"),
        }
    }
}

/// A request to copy a provided material, with the prefecture's decision.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MaterialCopy {
    pub id: i64,
    pub material_id: i64,
    pub requested_on: String,
    pub copies: i64,
    pub purpose: String,
    /// Login name of who asked.
    pub requested_by: String,
    /// `requested`, `permitted` or `refused`.
    pub status: String,
    pub decided_on: Option<String>,
    pub decided_by: String,
    pub decision_note: String,
    pub created_at: String,
}

impl MaterialCopy {
    /// 申請中 / 許可 / 不許可.
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "permitted" => "許可",
            "refused" => "不許可",
            _ => "申請中（県の判断待ち）",
        }
    }
}

/// A provided material with its copies.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Material {
    pub id: i64,
    pub contract_id: i64,
    pub name: String,
    /// [`MaterialKind`] code.
    pub kind: String,
    pub provided_by: String,
    pub received_on: String,
    /// [`Medium`] code.
    pub medium: String,
    /// [`Classification`] code.
    pub classification: String,
    pub storage: String,
    pub quantity: String,
    pub note: String,
    /// `returned` or `erased` once done ([`unyo_domain::contract_registers::Disposition`]).
    pub disposition: Option<String>,
    pub disposed_on: Option<String>,
    pub disposal_method: String,
    /// The prefecture's acknowledgement of the return: it closes the entry.
    pub ack_on: Option<String>,
    pub ack_by: String,
    pub ack_note: String,
    pub created_at: String,
    pub updated_at: String,
    /// Copy requests, oldest first.
    #[sqlx(skip)]
    pub copies: Vec<MaterialCopy>,
}

impl Material {
    /// Japanese label of the kind.
    pub fn kind_label(&self) -> &'static str {
        MaterialKind::parse(&self.kind).map_or("", MaterialKind::label_ja)
    }
    /// Japanese label of the medium.
    pub fn medium_label(&self) -> &'static str {
        Medium::parse(&self.medium).map_or("", Medium::label_ja)
    }
    /// Japanese label of the classification.
    pub fn classification_label(&self) -> &'static str {
        Classification::parse(&self.classification).map_or("", Classification::label_ja)
    }
    /// Where it stands: 保管中, 返却済（確認待ち）, 消去済（確認待ち）, 返却確認済, 消去確認済.
    pub fn status_label(&self) -> &'static str {
        match (self.disposition.as_deref(), self.ack_on.is_some()) {
            (None, _) => "保管中",
            (Some("erased"), false) => "消去済（県の確認待ち）",
            (Some(_), false) => "返却済（県の確認待ち）",
            (Some("erased"), true) => "消去確認済",
            (Some(_), true) => "返却確認済",
        }
    }
    /// Open until the prefecture acknowledged its return or erasure.
    pub fn is_open(&self) -> bool {
        self.ack_on.is_none()
    }
    /// Copy requests still waiting for the prefecture.
    pub fn pending_copies(&self) -> usize {
        self.copies
            .iter()
            .filter(|c| c.status == "requested")
            .count()
    }
}

/// A roster entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StaffEntry {
    pub id: i64,
    pub contract_id: i64,
    pub name: String,
    pub employer: String,
    pub role_on_contract: String,
    /// The account tied to this entry.
    pub user_id: Option<i64>,
    /// Its login name.
    pub username: Option<String>,
    /// The approval a subcontractor's staff works under.
    pub subcontract_id: Option<i64>,
    /// The subcontractor's name.
    pub subcontractor: Option<String>,
    pub start_on: String,
    pub end_on: Option<String>,
    pub pledge_on: Option<String>,
    pub pledge_attachment_id: Option<i64>,
    /// Training dates, comma-separated `YYYY-MM-DD`.
    pub training_dates: String,
    pub note: String,
    /// When the account's access was ended because of this entry.
    pub access_ended_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl StaffEntry {
    /// Whether the entry lets its account work on `today`.
    pub fn active_on(&self, today: NaiveDate) -> bool {
        let Some(start) = stored_date(&self.start_on) else {
            return false;
        };
        assignment_active(
            start,
            self.end_on.as_deref().and_then(stored_date),
            self.pledge_on.as_deref().and_then(stored_date),
            self.pledge_attachment_id.is_some(),
            today,
        )
    }
    /// The training dates.
    pub fn training_list(&self) -> Vec<NaiveDate> {
        self.training_dates
            .split(',')
            .filter_map(stored_date)
            .collect()
    }
}

/// Something on a contract still to be settled before it can close (shown on the contract page).
#[derive(Debug, Clone, Serialize)]
pub struct OpenItem {
    /// The material.
    pub material_id: i64,
    /// Its name.
    pub name: String,
    /// What is missing, in Japanese.
    pub what: String,
}

const SUBCONTRACT_COLUMNS: &str =
    "id, contract_id, subcontractor, work_part, clauses, categories, approval_number, approved_on,
    period_start, period_end, note, approval_attachment_id, created_at, updated_at";

const MATERIAL_COLUMNS: &str = "id, contract_id, name, kind, provided_by, received_on, medium, classification, storage, quantity,
    note, disposition, disposed_on, disposal_method, ack_on, ack_by, ack_note, created_at, updated_at";

const COPY_COLUMNS: &str =
    "id, material_id, requested_on, copies, purpose, requested_by, status, decided_on, decided_by,
    decision_note, created_at";

const STAFF_SELECT: &str = "SELECT r.id, r.contract_id, r.name, r.employer, r.role_on_contract, r.user_id, u.username,
    r.subcontract_id, s.subcontractor, r.start_on, r.end_on, r.pledge_on, r.pledge_attachment_id, r.training_dates, r.note,
    r.access_ended_at, r.created_at, r.updated_at
    FROM staff_roster r LEFT JOIN users u ON u.id = r.user_id LEFT JOIN subcontracts s ON s.id = r.subcontract_id";

fn subcontract_json(d: &SubcontractDraft) -> Value {
    json!({
        "subcontractor": d.subcontractor, "work_part": d.work_part,
        "clauses": d.clauses.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "categories": d.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "approval_number": d.approval_number, "approved_on": date_text(d.approved_on),
        "period_start": date_text(d.period_start), "period_end": date_text(d.period_end), "note": d.note,
    })
}

fn subcontract_json_of(s: &Subcontract) -> Value {
    json!({
        "subcontractor": s.subcontractor, "work_part": s.work_part,
        "clauses": s.clause_list().iter().map(|c| c.code()).collect::<Vec<_>>(),
        "categories": s.category_list().iter().map(|c| c.code()).collect::<Vec<_>>(),
        "approval_number": s.approval_number, "approved_on": s.approved_on,
        "period_start": s.period_start, "period_end": s.period_end, "note": s.note,
    })
}

fn codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> String {
    items.iter().map(|c| code(*c)).collect::<Vec<_>>().join(",")
}

fn material_json(d: &MaterialDraft) -> Value {
    json!({
        "name": d.name, "kind": d.kind.code(), "provided_by": d.provided_by,
        "received_on": date_text(d.received_on), "medium": d.medium.code(),
        "classification": d.classification.code(), "storage": d.storage, "quantity": d.quantity, "note": d.note,
    })
}

fn material_json_of(m: &Material) -> Value {
    json!({
        "name": m.name, "kind": m.kind, "provided_by": m.provided_by, "received_on": m.received_on,
        "medium": m.medium, "classification": m.classification, "storage": m.storage, "quantity": m.quantity,
        "note": m.note,
    })
}

fn training_text(d: &StaffDraft) -> String {
    d.training_dates
        .iter()
        .map(|d| date_text(*d))
        .collect::<Vec<_>>()
        .join(",")
}

fn staff_json(d: &StaffDraft) -> Value {
    json!({
        "name": d.name, "employer": d.employer, "role_on_contract": d.role_on_contract, "user_id": d.user_id,
        "subcontract_id": d.subcontract_id, "start_on": date_text(d.start_on),
        "end_on": d.end_on.map(date_text), "pledge_on": d.pledge_on.map(date_text),
        "training_dates": training_text(d), "note": d.note,
    })
}

fn staff_json_of(s: &StaffEntry) -> Value {
    json!({
        "name": s.name, "employer": s.employer, "role_on_contract": s.role_on_contract, "user_id": s.user_id,
        "subcontract_id": s.subcontract_id, "start_on": s.start_on, "end_on": s.end_on,
        "pledge_on": s.pledge_on, "training_dates": s.training_dates, "note": s.note,
    })
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// Reads and writes of this module that run inside the caller's transaction, for both backends.
pub(crate) trait RegisterConn {
    /// Refuses a contract that does not exist.
    async fn check_contract(&mut self, contract_id: i64) -> Result<()>;
    /// Stores a checked file as an attachment of a register entry and audits it; returns its id.
    async fn insert_register_attachment(
        &mut self,
        actor: &Actor,
        owner_kind: &str,
        owner_id: i64,
        filename: &str,
        bytes: &[u8],
    ) -> Result<i64>;
    /// Ends the account's sessions and API tokens and takes it off the staff of its roster's contracts
    /// when it has roster entries and none active on `today`; audited as [`ACCESS_ENDED`] with `reason`.
    /// Returns whether access was ended (false when there was nothing to end).
    async fn end_access_if_unassigned(
        &mut self,
        actor: &Actor,
        user_id: i64,
        today: &str,
        reason: &str,
    ) -> Result<bool>;
    /// Puts an account with an active roster entry on the contract's staff (who may log work under it).
    async fn ensure_contract_staff(&mut self, contract_id: i64, user_id: i64) -> Result<()>;
}

macro_rules! register_conn {
    ($conn:ty) => {
        impl RegisterConn for $conn {
            async fn check_contract(&mut self, contract_id: i64) -> Result<()> {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                    .bind(contract_id)
                    .fetch_optional(&mut *self)
                    .await?;
                found
                    .map(|_| ())
                    .ok_or_else(|| not_found(format!("契約 {contract_id}")))
            }

            async fn insert_register_attachment(
                &mut self,
                actor: &Actor,
                owner_kind: &str,
                owner_id: i64,
                filename: &str,
                bytes: &[u8],
            ) -> Result<i64> {
                let p = prepare(filename, bytes)?;
                let id: i64 = sqlx::query_scalar(INSERT_SQL)
                    .bind(owner_kind)
                    .bind(owner_id)
                    .bind(&p.name)
                    .bind(p.content_type)
                    .bind(p.size)
                    .bind(&p.sha256)
                    .bind(bytes)
                    .bind(actor.user_id)
                    .bind(&actor.username)
                    .bind(now())
                    .fetch_one(&mut *self)
                    .await?;
                self.append_audit(
                    &NewAuditEntry::new(actor, "attachment.add", "attachment", id).details(json!({
                        "owner": {"kind": owner_kind, "id": owner_id}, "filename": p.name,
                        "content_type": p.content_type, "sha256": p.sha256, "size": p.size,
                    })),
                )
                .await?;
                Ok(id)
            }

            async fn end_access_if_unassigned(
                &mut self,
                actor: &Actor,
                user_id: i64,
                today: &str,
                reason: &str,
            ) -> Result<bool> {
                let (entries, active): (i64, i64) = sqlx::query_as(ROSTER_GATE_SQL)
                    .bind(user_id)
                    .bind(today)
                    .fetch_one(&mut *self)
                    .await?;
                if entries == 0 || active > 0 {
                    return Ok(false);
                }
                let at = now();
                let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *self)
                    .await?
                    .rows_affected();
                let tokens = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                )
                .bind(&at)
                .bind(user_id)
                .execute(&mut *self)
                .await?
                .rows_affected();
                let staff = sqlx::query(
                    "DELETE FROM contract_staff WHERE user_id = $1
                     AND contract_id IN (SELECT contract_id FROM staff_roster WHERE user_id = $1)",
                )
                .bind(user_id)
                .execute(&mut *self)
                .await?
                .rows_affected();
                if sessions == 0 && tokens == 0 && staff == 0 {
                    // Nothing to end (never started, or ended before): no entry for nothing.
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE staff_roster SET access_ended_at = $1 WHERE user_id = $2 AND access_ended_at IS NULL",
                )
                .bind(&at)
                .bind(user_id)
                .execute(&mut *self)
                .await?;
                self.append_audit(&NewAuditEntry::new(actor, ACCESS_ENDED, "user", user_id).details(json!({
                    "reason": reason, "day": today, "sessions_ended": sessions, "tokens_revoked": tokens,
                    "contracts_left": staff,
                })))
                .await?;
                Ok(true)
            }

            async fn ensure_contract_staff(&mut self, contract_id: i64, user_id: i64) -> Result<()> {
                let there: Option<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM contract_staff WHERE contract_id = $1 AND user_id = $2",
                )
                .bind(contract_id)
                .bind(user_id)
                .fetch_optional(&mut *self)
                .await?;
                if there.is_none() {
                    sqlx::query("INSERT INTO contract_staff (contract_id, user_id) VALUES ($1, $2)")
                        .bind(contract_id)
                        .bind(user_id)
                        .execute(&mut *self)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

register_conn!(sqlx::SqliteConnection);
register_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ store

impl Store {
    // ---------------------------------------------------------------------------------- subcontracts

    /// The subcontracting approvals of a contract, by period.
    pub async fn subcontracts(&self, contract_id: Option<i64>) -> Result<Vec<Subcontract>> {
        let sql = format!(
            "SELECT {SUBCONTRACT_COLUMNS} FROM subcontracts WHERE ($1 = 0 OR contract_id = $1) ORDER BY period_start, id"
        );
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id.unwrap_or(0))
            .fetch_all(db)
            .await?))
    }

    /// One approval.
    pub async fn subcontract(&self, id: i64) -> Result<Subcontract> {
        let sql = format!("SELECT {SUBCONTRACT_COLUMNS} FROM subcontracts WHERE id = $1");
        let row: Option<Subcontract> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        row.ok_or_else(|| not_found(format!("再委託 {id}")))
    }

    /// Records a subcontracting approval. Needs [`Action::ManageSubcontracts`]; audited `subcontract.create`.
    pub async fn create_subcontract(
        &self,
        actor: &Actor,
        contract_id: i64,
        input: &SubcontractInput,
    ) -> Result<Subcontract> {
        actor.require(Action::ManageSubcontracts)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            tx.check_contract(contract_id).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subcontracts (contract_id, subcontractor, work_part, clauses, categories, approval_number,
                 approved_on, period_start, period_end, note, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(contract_id)
            .bind(d.subcontractor.as_str())
            .bind(d.work_part.as_str())
            .bind(codes(&d.clauses, Clause::code))
            .bind(codes(&d.categories, Category::code))
            .bind(d.approval_number.as_str())
            .bind(date_text(d.approved_on))
            .bind(date_text(d.period_start))
            .bind(date_text(d.period_end))
            .bind(d.note.as_str())
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            let mut details = subcontract_json(&d);
            details["contract_id"] = json!(contract_id);
            tx.append_audit(
                &NewAuditEntry::new(actor, "subcontract.create", "subcontract", id)
                    .details(details),
            )
            .await?;
            id
        });
        self.subcontract(id).await
    }

    /// Changes an approval (the audit entry holds the differences). Needs [`Action::ManageSubcontracts`].
    pub async fn update_subcontract(
        &self,
        actor: &Actor,
        id: i64,
        input: &SubcontractInput,
    ) -> Result<Subcontract> {
        actor.require(Action::ManageSubcontracts)?;
        let d = input.validate()?;
        let before = subcontract_json_of(&self.subcontract(id).await?);
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE subcontracts SET subcontractor=$1, work_part=$2, clauses=$3, categories=$4, approval_number=$5,
                 approved_on=$6, period_start=$7, period_end=$8, note=$9, updated_at=$10 WHERE id=$11",
            )
            .bind(d.subcontractor.as_str())
            .bind(d.work_part.as_str())
            .bind(codes(&d.clauses, Clause::code))
            .bind(codes(&d.categories, Category::code))
            .bind(d.approval_number.as_str())
            .bind(date_text(d.approved_on))
            .bind(date_text(d.period_start))
            .bind(date_text(d.period_end))
            .bind(d.note.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "subcontract.update", "subcontract", id)
                    .details(diff(&before, &subcontract_json(&d))),
            )
            .await?;
        });
        self.subcontract(id).await
    }

    /// Attaches the prefecture's written approval to an approval entry (the latest attached is the one
    /// referred to). Needs [`Action::ManageSubcontracts`].
    pub async fn attach_subcontract_approval(
        &self,
        actor: &Actor,
        id: i64,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Subcontract> {
        actor.require(Action::ManageSubcontracts)?;
        self.subcontract(id).await?;
        let at = now();
        write_tx!(self, |tx| {
            let att = tx
                .insert_register_attachment(actor, "subcontract", id, filename, bytes)
                .await?;
            sqlx::query("UPDATE subcontracts SET approval_attachment_id = $1, updated_at = $2 WHERE id = $3")
                .bind(att)
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "subcontract.approval_document", "subcontract", id)
                    .details(json!({"attachment_id": att})),
            )
            .await?;
        });
        self.subcontract(id).await
    }

    // ---------------------------------------------------------------------------------- materials

    /// The provided materials of a contract (all contracts with `None`), by receipt, with their copies.
    /// The register as a list; reading one entry is [`Store::material`], which is audited.
    pub async fn materials(&self, contract_id: Option<i64>) -> Result<Vec<Material>> {
        let sql = format!(
            "SELECT {MATERIAL_COLUMNS} FROM provided_materials WHERE ($1 = 0 OR contract_id = $1) ORDER BY received_on, id"
        );
        let contract = contract_id.unwrap_or(0);
        let mut rows: Vec<Material> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract)
            .fetch_all(db)
            .await?);
        let columns = COPY_COLUMNS
            .split(',')
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM material_copies c JOIN provided_materials m ON m.id = c.material_id
             WHERE ($1 = 0 OR m.contract_id = $1) ORDER BY c.id"
        );
        let copies: Vec<MaterialCopy> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(contract)
                .fetch_all(db)
                .await?);
        for m in rows.iter_mut() {
            m.copies = copies
                .iter()
                .filter(|c| c.material_id == m.id)
                .cloned()
                .collect();
        }
        Ok(rows)
    }

    async fn material_row(&self, id: i64) -> Result<Material> {
        let sql = format!("SELECT {MATERIAL_COLUMNS} FROM provided_materials WHERE id = $1");
        let row: Option<Material> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let mut m = row.ok_or_else(|| not_found(format!("提供資料 {id}")))?;
        let sql = format!(
            "SELECT {COPY_COLUMNS} FROM material_copies WHERE material_id = $1 ORDER BY id"
        );
        m.copies = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(db)
            .await?);
        Ok(m)
    }

    /// One provided material with its copies. Needs [`Action::ViewContractRegisters`]; the read is audited
    /// as `material.read` (R12).
    pub async fn material(&self, actor: &Actor, id: i64) -> Result<Material> {
        actor.require(Action::ViewContractRegisters)?;
        let m = self.material_row(id).await?;
        self.audit(
            NewAuditEntry::new(actor, "material.read", "material", id)
                .details(json!({"contract_id": m.contract_id, "name": m.name})),
        )
        .await?;
        Ok(m)
    }

    /// Registers a received material. Needs [`Action::RecordMaterials`].
    pub async fn create_material(
        &self,
        actor: &Actor,
        contract_id: i64,
        input: &MaterialInput,
    ) -> Result<Material> {
        actor.require(Action::RecordMaterials)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            tx.check_contract(contract_id).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO provided_materials (contract_id, name, kind, provided_by, received_on, medium, classification,
                 storage, quantity, note, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(contract_id)
            .bind(d.name.as_str())
            .bind(d.kind.code())
            .bind(d.provided_by.as_str())
            .bind(date_text(d.received_on))
            .bind(d.medium.code())
            .bind(d.classification.code())
            .bind(d.storage.as_str())
            .bind(d.quantity.as_str())
            .bind(d.note.as_str())
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            let mut details = material_json(&d);
            details["contract_id"] = json!(contract_id);
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.create", "material", id).details(details),
            )
            .await?;
            id
        });
        self.material_row(id).await
    }

    /// Changes a material's entry while it is held. Needs [`Action::RecordMaterials`].
    pub async fn update_material(
        &self,
        actor: &Actor,
        id: i64,
        input: &MaterialInput,
    ) -> Result<Material> {
        actor.require(Action::RecordMaterials)?;
        let d = input.validate()?;
        let old = self.material_row(id).await?;
        if !old.is_open() {
            return Err(conflict("返却の確認が済んだ提供資料は変更できません。"));
        }
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE provided_materials SET name=$1, kind=$2, provided_by=$3, received_on=$4, medium=$5,
                 classification=$6, storage=$7, quantity=$8, note=$9, updated_at=$10 WHERE id=$11 AND ack_on IS NULL",
            )
            .bind(d.name.as_str())
            .bind(d.kind.code())
            .bind(d.provided_by.as_str())
            .bind(date_text(d.received_on))
            .bind(d.medium.code())
            .bind(d.classification.code())
            .bind(d.storage.as_str())
            .bind(d.quantity.as_str())
            .bind(d.note.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.update", "material", id)
                    .details(diff(&material_json_of(&old), &material_json(&d))),
            )
            .await?;
        });
        self.material_row(id).await
    }

    /// Asks the prefecture's permission to copy a material (R10: no copy without it). Needs
    /// [`Action::RecordMaterials`].
    pub async fn request_material_copy(
        &self,
        actor: &Actor,
        material_id: i64,
        input: &CopyRequestInput,
    ) -> Result<Material> {
        actor.require(Action::RecordMaterials)?;
        let d = input.validate()?;
        let m = self.material_row(material_id).await?;
        if m.disposition.is_some() {
            return Err(conflict("返却・消去済みの提供資料は複製できません。"));
        }
        let at = now();
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO material_copies (material_id, requested_on, copies, purpose, requested_by, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'requested', $6) RETURNING id",
            )
            .bind(material_id)
            .bind(date_text(d.requested_on))
            .bind(i64::from(d.copies))
            .bind(d.purpose.as_str())
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.copy_request", "material", material_id).details(json!({
                    "copy_id": id, "requested_on": date_text(d.requested_on), "copies": d.copies,
                    "purpose": d.purpose,
                })),
            )
            .await?;
        });
        self.material_row(material_id).await
    }

    /// The prefecture permits or refuses a copy request. Needs [`Action::ApproveMaterials`]; decided once.
    pub async fn decide_material_copy(
        &self,
        actor: &Actor,
        copy_id: i64,
        input: &DecisionInput,
    ) -> Result<Material> {
        actor.require(Action::ApproveMaterials)?;
        let d = input.validate()?;
        let status = if d.granted { "permitted" } else { "refused" };
        let material_id = write_tx!(self, |tx| {
            let material_id: Option<i64> =
                sqlx::query_scalar("SELECT material_id FROM material_copies WHERE id = $1")
                    .bind(copy_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(material_id) = material_id else {
                return Err(not_found(format!("複製申請 {copy_id}")));
            };
            let n = sqlx::query(
                "UPDATE material_copies SET status=$1, decided_on=$2, decided_by=$3, decision_note=$4
                 WHERE id=$5 AND status = 'requested'",
            )
            .bind(status)
            .bind(date_text(d.decided_on))
            .bind(d.decided_by.as_str())
            .bind(d.note.as_str())
            .bind(copy_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(conflict("この複製申請は既に判断されています。"));
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.copy_decision", "material", material_id)
                    .details(json!({
                        "copy_id": copy_id, "status": status, "decided_on": date_text(d.decided_on),
                        "decided_by": d.decided_by, "note": d.note,
                    })),
            )
            .await?;
            material_id
        });
        self.material_row(material_id).await
    }

    /// Records the return (or erasure) of a material, its copies included. Refused while a copy request
    /// waits for the prefecture. Needs [`Action::RecordMaterials`].
    pub async fn return_material(
        &self,
        actor: &Actor,
        id: i64,
        input: &ReturnMaterialInput,
    ) -> Result<Material> {
        actor.require(Action::RecordMaterials)?;
        let d = input.validate()?;
        let m = self.material_row(id).await?;
        if m.pending_copies() > 0 {
            return Err(conflict(
                "県の判断を待っている複製申請があります。先に判断を受けてください。",
            ));
        }
        if m.ack_on.is_some() {
            return Err(conflict("返却の確認が済んでいます。"));
        }
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE provided_materials SET disposition=$1, disposed_on=$2, disposal_method=$3, updated_at=$4
                 WHERE id=$5 AND ack_on IS NULL",
            )
            .bind(d.disposition.code())
            .bind(date_text(d.done_on))
            .bind(d.method.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.return", "material", id).details(json!({
                    "disposition": d.disposition.code(), "done_on": date_text(d.done_on), "method": d.method,
                })),
            )
            .await?;
        });
        self.material_row(id).await
    }

    /// The prefecture acknowledges the return or erasure; the entry is closed. Needs
    /// [`Action::ApproveMaterials`].
    pub async fn acknowledge_material_return(
        &self,
        actor: &Actor,
        id: i64,
        input: &DecisionInput,
    ) -> Result<Material> {
        actor.require(Action::ApproveMaterials)?;
        let d = input.validate()?;
        let m = self.material_row(id).await?;
        if m.disposition.is_none() {
            return Err(conflict("返却または消去がまだ記録されていません。"));
        }
        if m.disposed_on
            .as_deref()
            .and_then(stored_date)
            .is_some_and(|done| d.decided_on < done)
        {
            return Err(DomainError::invalid(
                "decided_on",
                "確認日は返却・消去日以降にしてください。",
            )
            .into());
        }
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE provided_materials SET ack_on=$1, ack_by=$2, ack_note=$3, updated_at=$4 WHERE id=$5 AND ack_on IS NULL",
            )
            .bind(date_text(d.decided_on))
            .bind(d.decided_by.as_str())
            .bind(d.note.as_str())
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(conflict("返却の確認が済んでいます。"));
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "material.acknowledge", "material", id).details(json!({
                    "ack_on": date_text(d.decided_on), "ack_by": d.decided_by, "note": d.note,
                })),
            )
            .await?;
        });
        self.material_row(id).await
    }

    /// What keeps a contract from closing on the materials side: materials not yet acknowledged as
    /// returned, and copy requests waiting for a decision.
    pub async fn open_material_items(&self, contract_id: i64) -> Result<Vec<OpenItem>> {
        let mut out = Vec::new();
        for m in self.materials(Some(contract_id)).await? {
            if m.pending_copies() > 0 {
                out.push(OpenItem {
                    material_id: m.id,
                    name: m.name.clone(),
                    what: format!("複製申請{}件が県の判断待ち", m.pending_copies()),
                });
            }
            if m.is_open() {
                out.push(OpenItem {
                    material_id: m.id,
                    name: m.name.clone(),
                    what: match m.disposition {
                        None => "未返却".to_string(),
                        Some(_) => format!(
                            "{}（県の確認待ち）",
                            m.status_label().trim_end_matches("（県の確認待ち）")
                        ),
                    },
                });
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------------------------- roster

    /// The staff roster of a contract (all contracts with `None`), by assignment start.
    pub async fn roster(&self, contract_id: Option<i64>) -> Result<Vec<StaffEntry>> {
        let sql = format!(
            "{STAFF_SELECT} WHERE ($1 = 0 OR r.contract_id = $1) ORDER BY r.start_on, r.id"
        );
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id.unwrap_or(0))
            .fetch_all(db)
            .await?))
    }

    /// One roster entry.
    pub async fn staff_entry(&self, id: i64) -> Result<StaffEntry> {
        let sql = format!("{STAFF_SELECT} WHERE r.id = $1");
        let row: Option<StaffEntry> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.ok_or_else(|| not_found(format!("従事者 {id}")))
    }

    /// Adds a person to a contract's roster. Needs [`Action::ManageStaffRoster`]. A tied account joins the
    /// contract's staff while the entry is active; an account with no active entry (no pledge yet, or the
    /// assignment not begun) cannot log in.
    pub async fn create_staff(
        &self,
        actor: &Actor,
        contract_id: i64,
        input: &StaffInput,
    ) -> Result<StaffEntry> {
        self.create_staff_on(actor, contract_id, input, crate::support::jst_today())
            .await
    }

    /// [`Store::create_staff`] as of `today` (JST), for the demo and tests.
    pub async fn create_staff_on(
        &self,
        actor: &Actor,
        contract_id: i64,
        input: &StaffInput,
        today: NaiveDate,
    ) -> Result<StaffEntry> {
        actor.require(Action::ManageStaffRoster)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            tx.check_contract(contract_id).await?;
            tx.check_staff_links(contract_id, &d).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staff_roster (contract_id, name, employer, role_on_contract, user_id, subcontract_id, start_on,
                 end_on, pledge_on, training_dates, note, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(contract_id)
            .bind(d.name.as_str())
            .bind(d.employer.as_str())
            .bind(d.role_on_contract.as_str())
            .bind(d.user_id)
            .bind(d.subcontract_id)
            .bind(date_text(d.start_on))
            .bind(d.end_on.map(date_text))
            .bind(d.pledge_on.map(date_text))
            .bind(training_text(&d))
            .bind(d.note.as_str())
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            let mut details = staff_json(&d);
            details["contract_id"] = json!(contract_id);
            tx.append_audit(
                &NewAuditEntry::new(actor, "staff.create", "staff", id).details(details),
            )
            .await?;
            tx.settle_all(actor, contract_id, &[d.user_id], today)
                .await?;
            id
        });
        self.staff_entry(id).await
    }

    /// Changes a roster entry: its period, pledge date, training, the account tied to it. When the change
    /// leaves an account without an active entry (the assignment ended, the account untied), its sessions
    /// and API tokens end in the same transaction. Needs [`Action::ManageStaffRoster`].
    pub async fn update_staff(
        &self,
        actor: &Actor,
        id: i64,
        input: &StaffInput,
    ) -> Result<StaffEntry> {
        self.update_staff_on(actor, id, input, crate::support::jst_today())
            .await
    }

    /// [`Store::update_staff`] as of `today` (JST).
    pub async fn update_staff_on(
        &self,
        actor: &Actor,
        id: i64,
        input: &StaffInput,
        today: NaiveDate,
    ) -> Result<StaffEntry> {
        actor.require(Action::ManageStaffRoster)?;
        let d = input.validate()?;
        let old = self.staff_entry(id).await?;
        let at = now();
        write_tx!(self, |tx| {
            tx.check_staff_links(old.contract_id, &d).await?;
            sqlx::query(
                "UPDATE staff_roster SET name=$1, employer=$2, role_on_contract=$3, user_id=$4, subcontract_id=$5,
                 start_on=$6, end_on=$7, pledge_on=$8, training_dates=$9, note=$10, updated_at=$11 WHERE id=$12",
            )
            .bind(d.name.as_str())
            .bind(d.employer.as_str())
            .bind(d.role_on_contract.as_str())
            .bind(d.user_id)
            .bind(d.subcontract_id)
            .bind(date_text(d.start_on))
            .bind(d.end_on.map(date_text))
            .bind(d.pledge_on.map(date_text))
            .bind(training_text(&d))
            .bind(d.note.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "staff.update", "staff", id)
                    .details(diff(&staff_json_of(&old), &staff_json(&d))),
            )
            .await?;
            tx.settle_all(actor, old.contract_id, &[old.user_id, d.user_id], today)
                .await?;
        });
        self.staff_entry(id).await
    }

    /// Attaches the signed pledge (誓約書) to a roster entry: with its date on file, the tied account may
    /// start. Needs [`Action::ManageStaffRoster`].
    pub async fn attach_pledge(
        &self,
        actor: &Actor,
        id: i64,
        filename: &str,
        bytes: &[u8],
    ) -> Result<StaffEntry> {
        self.attach_pledge_on(actor, id, filename, bytes, crate::support::jst_today())
            .await
    }

    /// [`Store::attach_pledge`] as of `today` (JST).
    pub async fn attach_pledge_on(
        &self,
        actor: &Actor,
        id: i64,
        filename: &str,
        bytes: &[u8],
        today: NaiveDate,
    ) -> Result<StaffEntry> {
        actor.require(Action::ManageStaffRoster)?;
        let old = self.staff_entry(id).await?;
        let at = now();
        write_tx!(self, |tx| {
            let att = tx
                .insert_register_attachment(actor, "staff", id, filename, bytes)
                .await?;
            sqlx::query(
                "UPDATE staff_roster SET pledge_attachment_id = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(att)
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "staff.pledge", "staff", id)
                    .details(json!({"attachment_id": att, "pledge_on": old.pledge_on})),
            )
            .await?;
            tx.settle_all(actor, old.contract_id, &[old.user_id], today)
                .await?;
        });
        self.staff_entry(id).await
    }

    /// Whether the account may work today by the roster: `Ok(())` when it has no roster entry or an
    /// active one, otherwise the reason (`not_assigned`). Used at login.
    pub async fn roster_allows(&self, user_id: i64, today: NaiveDate) -> Result<bool> {
        let (entries, active): (i64, i64) = read_db!(self, |db| sqlx::query_as(ROSTER_GATE_SQL)
            .bind(user_id)
            .bind(date_text(today))
            .fetch_one(db)
            .await?);
        Ok(entries == 0 || active > 0)
    }

    /// Ends the access of an account whose roster entries are all over on `today`: sessions deleted, API
    /// tokens revoked, off the contracts' staff, audited as [`ACCESS_ENDED`]. Called by the session and
    /// token checks when [`ROSTER_GATE_SQL`] refuses; returns whether anything was ended.
    pub async fn end_roster_access(
        &self,
        user_id: i64,
        today: NaiveDate,
        reason: &str,
    ) -> Result<bool> {
        let actor = Actor::system("roster");
        let day = date_text(today);
        let ended = write_tx!(self, |tx| {
            tx.end_access_if_unassigned(&actor, user_id, &day, reason)
                .await?
        });
        Ok(ended)
    }

    /// The approved scopes a subcontractor's staff member works under on a contract (empty when the
    /// account is not a subcontractor's staff there).
    pub async fn subcontracted_scopes(
        &self,
        contract_id: i64,
        user_id: i64,
    ) -> Result<Vec<ApprovedScope>> {
        let sql = format!(
            "SELECT {SUBCONTRACT_COLUMNS} FROM subcontracts WHERE id IN
             (SELECT subcontract_id FROM staff_roster WHERE contract_id = $1 AND user_id = $2)"
        );
        let rows: Vec<Subcontract> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id)
            .bind(user_id)
            .fetch_all(db)
            .await?);
        Ok(rows.iter().filter_map(Subcontract::scope).collect())
    }

    /// Audits an export of a register (R12: every export is logged): `register.export` with the register,
    /// the contract and the format. Needs [`Action::ViewContractRegisters`].
    pub async fn audit_register_export(
        &self,
        actor: &Actor,
        register: &str,
        contract_id: Option<i64>,
        format: &str,
        rows: usize,
    ) -> Result<()> {
        actor.require(Action::ViewContractRegisters)?;
        self.audit(
            NewAuditEntry::new(actor, "register.export", register, contract_id.unwrap_or(0))
                .details(json!({"register": register, "contract_id": contract_id, "format": format, "rows": rows})),
        )
        .await?;
        Ok(())
    }
}

/// The link checks and access settling, for both backends.
pub(crate) trait RegisterLinks {
    async fn check_staff_links(&mut self, contract_id: i64, d: &StaffDraft) -> Result<()>;
    async fn settle(
        &mut self,
        actor: &Actor,
        contract_id: i64,
        user_id: i64,
        today: &str,
    ) -> Result<()>;
    /// After a roster change: accounts with an active entry join the contract's staff, the others lose
    /// their access (audited).
    async fn settle_all(
        &mut self,
        actor: &Actor,
        contract_id: i64,
        users: &[Option<i64>],
        today: NaiveDate,
    ) -> Result<()>;
}

macro_rules! register_links {
    ($conn:ty) => {
        impl RegisterLinks for $conn {
            async fn check_staff_links(&mut self, contract_id: i64, d: &StaffDraft) -> Result<()> {
                if let Some(u) = d.user_id {
                    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                        .bind(u)
                        .fetch_optional(&mut *self)
                        .await?;
                    if found.is_none() {
                        return Err(DomainError::invalid("user_id", "選択されたアカウントが見つかりません。").into());
                    }
                }
                if let Some(s) = d.subcontract_id {
                    let of: Option<i64> =
                        sqlx::query_scalar("SELECT contract_id FROM subcontracts WHERE id = $1")
                            .bind(s)
                            .fetch_optional(&mut *self)
                            .await?;
                    if of != Some(contract_id) {
                        return Err(DomainError::invalid(
                            "subcontract_id",
                            "選択された再委託の承認はこの契約のものではありません。",
                        )
                        .into());
                    }
                }
                Ok(())
            }

            async fn settle(&mut self, actor: &Actor, contract_id: i64, user_id: i64, today: &str) -> Result<()> {
                let ended = self
                    .end_access_if_unassigned(actor, user_id, today, "roster_change")
                    .await?;
                if !ended {
                    let active: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = $1 AND r.contract_id = $2
                         AND r.start_on <= $3 AND (r.end_on IS NULL OR r.end_on >= $3) AND r.pledge_on IS NOT NULL
                         AND r.pledge_on <= $3 AND r.pledge_attachment_id IS NOT NULL",
                    )
                    .bind(user_id)
                    .bind(contract_id)
                    .bind(today)
                    .fetch_one(&mut *self)
                    .await?;
                    if active > 0 {
                        self.ensure_contract_staff(contract_id, user_id).await?;
                    }
                }
                Ok(())
            }

            async fn settle_all(
                &mut self,
                actor: &Actor,
                contract_id: i64,
                users: &[Option<i64>],
                today: NaiveDate,
            ) -> Result<()> {
                let day = date_text(today);
                let mut seen = Vec::new();
                for u in users.iter().flatten() {
                    if !seen.contains(u) {
                        seen.push(*u);
                        self.settle(actor, contract_id, *u, &day).await?;
                    }
                }
                Ok(())
            }
        }
    };
}

register_links!(sqlx::SqliteConnection);
register_links!(sqlx::PgConnection);
