//! Monthly work records (業務実績簿, R8) as submissions, and the figures the documents are built from.
//!
//! - **Submission** ([`Store::submit_monthly_record`]): the PDF and XLSX bytes of the moment, their SHA-256 and
//!   the source rows they were made from ([`SourceRow`]) are stored as a new version (第1版, 第2版 …) in the
//!   same transaction as the `record.submit` audit entry. The database refuses any later change to a
//!   version's submission columns and any deletion (triggers in `0007_records.sql`, both backends).
//! - **Approval route** ([`Store::approval_route`], [`Store::set_approval_route`]): the contract's 確認欄
//!   columns (e.g. 担当・係長・課長), each optionally held by one account; one column 確認者（県） when the
//!   contract names none. A submission keeps the route of its moment.
//! - **Decision** ([`Store::confirm_monthly_record_step`], [`Store::return_monthly_record_step`]): the
//!   prefecture confirms the route's next step — with the document frozen again, that step's column
//!   filled, as the next version (rendered by the caller from the kept document model, see
//!   [`Store::record_model`]) — or sends the record back at that step with a reason; a returned month takes
//!   a new submission. Each decision is a row of `monthly_record_approvals`. Optimistic: `UPDATE … WHERE
//!   status = $old AND current_version = $old`, so two concurrent decisions can never both pass. One does
//!   not decide on one's own submission, nor fill two columns of one submission.
//! - **Downloads** ([`Store::record_file`]): the stored bytes, checked against their SHA-256 and audited as
//!   `record.download` before they are handed out.
//! - **Figures**: aggregate queries for the documents (work by month/clause/category, requests by month,
//!   audit events by JST month, campaign progress in a period), and [`Store::seed_synthetic_year`] for the
//!   report benchmark.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{conflict, day_start, not_found};
use crate::{Actor, Filter, Param, Result, Store, StoreError, conflict_on_unique};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unyo_domain::records::{
    Month, NOT_STEP_HOLDER_MESSAGE, OWN_SUBMISSION_MESSAGE, RecordAction, RecordStatus,
    ReturnInput, RouteStep, SAME_PERSON_MESSAGE, SourceRow, default_route, next_status,
    stage_label, status_after_step, validate_addressee, validate_route, version_label,
};
use unyo_domain::time::{to_jst, to_storage};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, Role};

/// The `meta` key of the addressee printed on monthly records.
pub const ADDRESSEE_KEY: &str = "records.addressee";
/// The addressee when none is set: the head of the prefecture of the specification.
pub const DEFAULT_ADDRESSEE: &str = "佐賀県知事　様";
/// Refusal when another submission or decision won the race.
pub const RECORD_STALE_MESSAGE: &str =
    "他の利用者が先に提出・確認しました。画面を再読み込みしてください。";

// ------------------------------------------------------------------------------------------------ rows

/// A month's record (exists once something was submitted) with its versions.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MonthlyRecord {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub contract_name: String,
    pub year: i64,
    pub month: i64,
    /// [`RecordStatus`] code.
    pub status: String,
    /// The latest version's number.
    pub current_version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The route of the latest submission as stored (JSON; empty: the default single column).
    #[serde(skip)]
    pub route_json: String,
    /// The route of the latest submission: the prefecture's 確認欄 columns in order.
    #[sqlx(skip)]
    pub route: Vec<RouteStep>,
    /// Oldest first.
    #[sqlx(skip)]
    pub versions: Vec<RecordVersion>,
    /// Every decision (step confirmed or sent back), oldest first.
    #[sqlx(skip)]
    pub approvals: Vec<RecordApproval>,
}

impl MonthlyRecord {
    /// The status as a domain value.
    pub fn status(&self) -> RecordStatus {
        RecordStatus::parse(&self.status).unwrap_or(RecordStatus::Submitted)
    }

    /// The month covered.
    pub fn month(&self) -> Month {
        Month {
            year: i32::try_from(self.year).unwrap_or(0),
            month: u32::try_from(self.month).unwrap_or(1),
        }
    }

    /// The latest version.
    pub fn latest(&self) -> Option<&RecordVersion> {
        self.versions.last()
    }

    /// The confirmed version (the last one, with every column of the route filled), once confirmed.
    pub fn confirmed(&self) -> Option<&RecordVersion> {
        if self.status() == RecordStatus::Confirmed {
            self.versions.last()
        } else {
            None
        }
    }

    /// How many steps of the route the latest version shows confirmed.
    pub fn stage(&self) -> usize {
        self.latest()
            .map_or(0, |v| usize::try_from(v.stage).unwrap_or(0))
    }

    /// The step that awaits a decision (1-based), while submitted.
    pub fn next_step(&self) -> Option<(usize, &RouteStep)> {
        if self.status() != RecordStatus::Submitted {
            return None;
        }
        let n = self.stage() + 1;
        self.route.get(n - 1).map(|s| (n, s))
    }

    /// The label of a version: 「第3版（係長確認済）」 (see [`version_label`]). A version decided before
    /// routes existed shows what was decided on it.
    pub fn version_label(&self, v: &RecordVersion) -> String {
        let stage = usize::try_from(v.stage).unwrap_or(0);
        if stage == 0 && v.outcome == "confirmed" && v.version == self.current_version {
            return format!("第{}版（確認済）", v.version);
        }
        version_label(v.version, stage, &self.route)
    }

    /// The short state of a version (提出, 「係長確認済」, 確認済).
    pub fn stage_label(&self, v: &RecordVersion) -> String {
        stage_label(usize::try_from(v.stage).unwrap_or(0), &self.route)
    }

    /// The confirmations of the latest submission, by step (1-based), as the document's columns show them.
    pub fn confirmations(&self) -> Vec<&RecordApproval> {
        let current = self.current_version - i64::try_from(self.stage()).unwrap_or(0);
        self.approvals
            .iter()
            .filter(|a| a.outcome == "confirmed" && a.version >= current)
            .collect()
    }
}

/// One decision of the prefecture on a version: a step confirmed, or the record sent back at a step.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecordApproval {
    pub id: i64,
    pub record_id: i64,
    /// The version decided on.
    pub version: i64,
    /// The version frozen by a confirmation (with the step's column filled).
    pub frozen_version: Option<i64>,
    /// The step (1-based) and its label (e.g. 「係長」).
    pub step: i64,
    pub label: String,
    /// `confirmed` or `returned`.
    pub outcome: String,
    /// JST date (printed in the column).
    pub decided_on: String,
    pub decided_at: String,
    pub decided_by_id: Option<i64>,
    pub decided_by: String,
    /// The person's display name (printed in the column).
    pub decided_by_name: String,
    /// The reason of a send-back.
    pub reason: String,
}

/// One submitted version: who submitted it when, the digests of its frozen files, and the decision.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecordVersion {
    pub id: i64,
    pub record_id: i64,
    pub version: i64,
    /// 提出日 (JST date printed in the document).
    pub submitted_on: String,
    pub submitted_at: String,
    pub submitted_by_id: Option<i64>,
    pub submitted_by: String,
    pub submitted_by_name: String,
    pub pdf_sha256: String,
    pub pdf_size: i64,
    pub xlsx_sha256: String,
    pub xlsx_size: i64,
    pub sources_sha256: String,
    /// `submitted` (awaiting), `confirmed` or `returned`.
    pub outcome: String,
    /// 確認日 / 差戻し日 (JST date).
    pub decided_on: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by_id: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    /// The reason of a return.
    pub reason: String,
    /// How many steps of the route the frozen files show confirmed (0: as submitted).
    pub stage: i64,
}

/// Which frozen file of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RecordFile {
    Pdf,
    Xlsx,
}

impl RecordFile {
    /// From a file extension (`pdf` / `xlsx`).
    pub fn from_ext(ext: &str) -> Option<RecordFile> {
        match ext {
            "pdf" => Some(RecordFile::Pdf),
            "xlsx" => Some(RecordFile::Xlsx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            RecordFile::Pdf => "pdf",
            RecordFile::Xlsx => "xlsx",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            RecordFile::Pdf => "application/pdf",
            RecordFile::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// What a submission stores.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub contract_id: i64,
    pub month: Month,
    /// The version the files were made as (printed in them): the month's next version.
    pub version: i64,
    /// 提出日 printed in the document.
    pub submitted_on: NaiveDate,
    pub pdf: &'a [u8],
    pub xlsx: &'a [u8],
    /// The rows the document was made from.
    pub sources: &'a [SourceRow],
    /// The document model the files were rendered from (JSON), kept so that each step of the route can
    /// freeze the same content with its column filled.
    pub model: &'a str,
}

/// What a confirmation of one step stores: the document frozen again with that step's column filled.
#[derive(Debug, Clone)]
pub struct StepConfirmation<'a> {
    pub record_id: i64,
    /// The step confirmed (1-based): the record's next step, else someone decided first.
    pub step: i64,
    /// The version the files were made as: the record's next version.
    pub version: i64,
    /// 確認日 printed in the column (JST).
    pub on: NaiveDate,
    pub pdf: &'a [u8],
    pub xlsx: &'a [u8],
    /// The document model the files were rendered from (JSON).
    pub model: &'a str,
}

/// Work of one month, clause and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkFigure {
    pub year: i32,
    pub month: u32,
    /// Clause code `1`..`5`.
    pub clause: String,
    /// Category code.
    pub category: String,
    pub count: i64,
    pub minutes: i64,
}

/// Requests filed in one month, by category and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestFigure {
    pub year: i32,
    pub month: u32,
    pub category: String,
    pub status: String,
    pub count: i64,
}

/// Audit entries of one action in one JST month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFigure {
    pub year: i32,
    pub month: u32,
    pub action: String,
    pub count: i64,
}

/// Campaign targets whose status was set within a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CampaignActivity {
    pub campaign_id: i64,
    pub done: i64,
    pub failed: i64,
    pub excluded: i64,
}

// ------------------------------------------------------------------------------------------------ helpers

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn ym(text: &str) -> Option<(i32, u32)> {
    let (y, m) = text.get(..7)?.split_once('-')?;
    Some((y.parse().ok()?, m.parse().ok()?))
}

const RECORD_SELECT: &str =
    "SELECT r.id, r.contract_id, c.number AS contract_number, c.name AS contract_name,
    r.year, r.month, r.status, r.current_version, r.created_at, r.updated_at, r.route AS route_json
    FROM monthly_records r JOIN contracts c ON c.id = r.contract_id";

const VERSION_SELECT: &str = "SELECT id, record_id, version, submitted_on, submitted_at, submitted_by_id,
    submitted_by, submitted_by_name, pdf_sha256, pdf_size, xlsx_sha256, xlsx_size, sources_sha256, outcome,
    decided_on, decided_at, decided_by_id, decided_by, decided_by_name, reason, stage FROM monthly_record_versions";

const APPROVAL_SELECT: &str =
    "SELECT id, record_id, version, frozen_version, step, label, outcome, decided_on,
    decided_at, decided_by_id, decided_by, decided_by_name, reason FROM monthly_record_approvals";

/// A stored route (JSON; empty or unreadable: the default single column).
fn parse_route(json: &str) -> Vec<RouteStep> {
    serde_json::from_str::<Vec<RouteStep>>(json)
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(default_route)
}

/// The decision of a submitted version, in the caller's transaction.
struct Decision<'a> {
    record_id: i64,
    action: RecordAction,
    /// The step decided at (1-based); `None`: whichever step awaits.
    step: Option<i64>,
    on: NaiveDate,
    reason: &'a str,
    /// For a confirmation: the files frozen with the step's column filled.
    frozen: Option<&'a StepConfirmation<'a>>,
}

// ------------------------------------------------------------------------------------------------ store

impl Store {
    /// The display name of an actor (the login name for the system or a vanished account).
    async fn actor_name(&self, actor: &Actor) -> Result<String> {
        let Some(id) = actor.user_id else {
            return Ok(actor.username.clone());
        };
        Ok(self
            .user(id)
            .await?
            .map_or_else(|| actor.username.clone(), |u| u.display_name))
    }

    async fn fill_versions(&self, records: &mut [MonthlyRecord]) -> Result<()> {
        for chunk in records.chunks_mut(200) {
            let mut f = Filter::default();
            let list = chunk
                .iter()
                .map(|r| f.bind(Param::Int(r.id)))
                .collect::<Vec<_>>()
                .join(", ");
            if list.is_empty() {
                continue;
            }
            let sql =
                format!("{VERSION_SELECT} WHERE record_id IN ({list}) ORDER BY record_id, version");
            let versions: Vec<RecordVersion> = read_db!(self, |db| bind_params!(
                sqlx::query_as(sqlx::AssertSqlSafe(sql)),
                f.params
            )
            .fetch_all(db)
            .await?);
            let sql =
                format!("{APPROVAL_SELECT} WHERE record_id IN ({list}) ORDER BY record_id, id");
            let approvals: Vec<RecordApproval> = read_db!(self, |db| bind_params!(
                sqlx::query_as(sqlx::AssertSqlSafe(sql)),
                f.params
            )
            .fetch_all(db)
            .await?);
            for r in chunk.iter_mut() {
                r.route = parse_route(&r.route_json);
                r.versions = versions
                    .iter()
                    .filter(|v| v.record_id == r.id)
                    .cloned()
                    .collect();
                r.approvals = approvals
                    .iter()
                    .filter(|a| a.record_id == r.id)
                    .cloned()
                    .collect();
            }
        }
        Ok(())
    }

    /// One record with its versions.
    pub async fn monthly_record(&self, id: i64) -> Result<MonthlyRecord> {
        let sql = format!("{RECORD_SELECT} WHERE r.id = $1");
        let row: Option<MonthlyRecord> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("業務実績簿 {id}")))?];
        self.fill_versions(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// The record of a contract's month, if anything was submitted.
    pub async fn monthly_record_of(
        &self,
        contract_id: i64,
        month: Month,
    ) -> Result<Option<MonthlyRecord>> {
        let sql =
            format!("{RECORD_SELECT} WHERE r.contract_id = $1 AND r.year = $2 AND r.month = $3");
        let row: Option<MonthlyRecord> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(contract_id)
                .bind(i64::from(month.year))
                .bind(i64::from(month.month))
                .fetch_optional(db)
                .await?);
        match row {
            Some(r) => {
                let mut rows = vec![r];
                self.fill_versions(&mut rows).await?;
                Ok(rows.pop())
            }
            None => Ok(None),
        }
    }

    /// The records of a contract (or all), optionally of one fiscal year, in month order.
    pub async fn monthly_records(
        &self,
        contract_id: Option<i64>,
        fy: Option<FiscalYear>,
    ) -> Result<Vec<MonthlyRecord>> {
        let mut f = Filter::default();
        if let Some(c) = contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("r.contract_id = {p}"));
        }
        if let Some(fy) = fy {
            // (year * 100 + month) within April..March.
            let from = f.bind(Param::Int(i64::from(fy.0) * 100 + 4));
            let to = f.bind(Param::Int((i64::from(fy.0) + 1) * 100 + 3));
            f.push(format!("(r.year * 100 + r.month) BETWEEN {from} AND {to}"));
        }
        let sql = format!(
            "{RECORD_SELECT}{} ORDER BY r.contract_id, r.year, r.month",
            f.where_clause()
        );
        let mut rows: Vec<MonthlyRecord> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        self.fill_versions(&mut rows).await?;
        Ok(rows)
    }

    /// Every record awaiting a decision of the prefecture (status 提出), with versions and route.
    pub async fn submitted_monthly_records(&self) -> Result<Vec<MonthlyRecord>> {
        let sql = format!(
            "{RECORD_SELECT} WHERE r.status = 'submitted' ORDER BY r.contract_id, r.year, r.month"
        );
        let mut rows: Vec<MonthlyRecord> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(db)
                .await?);
        self.fill_versions(&mut rows).await?;
        Ok(rows)
    }

    /// The version number a submission of this month would get now, after checking that the month may be
    /// submitted (nothing awaiting the prefecture, not confirmed). Does not check the actor.
    pub async fn next_record_version(&self, contract_id: i64, month: Month) -> Result<i64> {
        match self.monthly_record_of(contract_id, month).await? {
            None => Ok(1),
            Some(r) => {
                next_status(Some(r.status()), RecordAction::Submit)?;
                Ok(r.current_version + 1)
            }
        }
    }

    /// Submits a month's record: stores the files and their SHA-256, and the source rows, as version
    /// `s.version`, which must be the month's next version (else someone else submitted first). Needs
    /// [`Action::PrepareRecords`]; an SE must be on the contract's staff; the month must overlap the
    /// contract's term. Audited as `record.submit` with both digests.
    pub async fn submit_monthly_record(
        &self,
        actor: &Actor,
        s: &Submission<'_>,
    ) -> Result<MonthlyRecord> {
        actor.require(Action::PrepareRecords)?;
        if s.pdf.is_empty() || s.xlsx.is_empty() {
            return Err(StoreError::Internal("empty document files".into()));
        }
        let sources_json = serde_json::to_string(s.sources).map_err(StoreError::wrap)?;
        let pdf_sha = sha256_hex(s.pdf);
        let xlsx_sha = sha256_hex(s.xlsx);
        let sources_sha = sha256_hex(sources_json.as_bytes());
        let pdf_size = i64::try_from(s.pdf.len()).map_err(StoreError::wrap)?;
        let xlsx_size = i64::try_from(s.xlsx.len()).map_err(StoreError::wrap)?;
        let name = self.actor_name(actor).await?;
        let at = self.record_time();
        let year = i64::from(s.month.year);
        let month = i64::from(s.month.month);
        let id = write_tx!(self, |tx| {
            let term: Option<(String, String)> =
                sqlx::query_as("SELECT term_start, term_end FROM contracts WHERE id = $1")
                    .bind(s.contract_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((start, end)) = term else {
                return Err(not_found(format!("契約 {}", s.contract_id)));
            };
            let first = s.month.first_day().format("%Y-%m-%d").to_string();
            let last = s.month.last_day().format("%Y-%m-%d").to_string();
            if last < start || first > end {
                return Err(DomainError::invalid("month", "対象月が契約期間の外です。").into());
            }
            if actor.role == Role::Se {
                let on_staff: Option<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM contract_staff WHERE contract_id = $1 AND user_id = $2",
                )
                .bind(s.contract_id)
                .bind(actor.user_id.unwrap_or(0))
                .fetch_optional(&mut *tx)
                .await?;
                if on_staff.is_none() {
                    return Err(DomainError::Forbidden.into());
                }
            }
            let steps: Vec<(String, Option<i64>)> = sqlx::query_as(
                "SELECT label, user_id FROM contract_approval_steps WHERE contract_id = $1 ORDER BY step",
            )
            .bind(s.contract_id)
            .fetch_all(&mut *tx)
            .await?;
            let route_json = if steps.is_empty() {
                String::new()
            } else {
                let route: Vec<RouteStep> = steps
                    .into_iter()
                    .map(|(label, user_id)| RouteStep { label, user_id })
                    .collect();
                serde_json::to_string(&route).map_err(StoreError::wrap)?
            };
            let existing: Option<(i64, String, i64)> = sqlx::query_as(
                "SELECT id, status, current_version FROM monthly_records
                 WHERE contract_id = $1 AND year = $2 AND month = $3",
            )
            .bind(s.contract_id)
            .bind(year)
            .bind(month)
            .fetch_optional(&mut *tx)
            .await?;
            let record_id = match existing {
                None => {
                    if s.version != 1 {
                        return Err(conflict(RECORD_STALE_MESSAGE));
                    }
                    sqlx::query_scalar::<_, i64>(
                        "INSERT INTO monthly_records (contract_id, year, month, status, current_version, created_at, updated_at, route)
                         VALUES ($1, $2, $3, 'submitted', 1, $4, $4, $5) RETURNING id",
                    )
                    .bind(s.contract_id)
                    .bind(year)
                    .bind(month)
                    .bind(&at)
                    .bind(&route_json)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| conflict_on_unique(e, || RECORD_STALE_MESSAGE.into()))?
                }
                Some((id, status, current)) => {
                    let status = RecordStatus::parse(&status)
                        .ok_or_else(|| StoreError::Internal(format!("record {id}: bad status")))?;
                    next_status(Some(status), RecordAction::Submit)?;
                    if s.version != current + 1 {
                        return Err(conflict(RECORD_STALE_MESSAGE));
                    }
                    let n = sqlx::query(
                        "UPDATE monthly_records SET status = 'submitted', current_version = $1, updated_at = $2, route = $5
                         WHERE id = $3 AND status = 'returned' AND current_version = $4",
                    )
                    .bind(s.version)
                    .bind(&at)
                    .bind(id)
                    .bind(current)
                    .bind(&route_json)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Err(conflict(RECORD_STALE_MESSAGE));
                    }
                    id
                }
            };
            sqlx::query(
                "INSERT INTO monthly_record_versions (record_id, version, submitted_on, submitted_at, submitted_by_id,
                 submitted_by, submitted_by_name, pdf, pdf_sha256, pdf_size, xlsx, xlsx_sha256, xlsx_size, sources,
                 sources_sha256, stage, model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, $16)",
            )
            .bind(record_id)
            .bind(s.version)
            .bind(s.submitted_on.format("%Y-%m-%d").to_string())
            .bind(&at)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&name)
            .bind(s.pdf)
            .bind(&pdf_sha)
            .bind(pdf_size)
            .bind(s.xlsx)
            .bind(&xlsx_sha)
            .bind(xlsx_size)
            .bind(&sources_json)
            .bind(&sources_sha)
            .bind(s.model)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || RECORD_STALE_MESSAGE.into()))?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "record.submit", "monthly_record", record_id).details(
                    json!({
                        "contract_id": s.contract_id, "month": s.month.code(), "version": s.version,
                        "submitted_on": s.submitted_on.format("%Y-%m-%d").to_string(),
                        "pdf": {"sha256": pdf_sha, "size": pdf_size},
                        "xlsx": {"sha256": xlsx_sha, "size": xlsx_size},
                        "sources": {"rows": s.sources.len(), "sha256": sources_sha},
                    }),
                ),
            )
            .await?;
            record_id
        });
        self.monthly_record(id).await
    }

    /// Confirms the route's next step (確認) of a submitted record, storing the document frozen again with
    /// that step's column filled as the next version (`c.version`, which must be the record's next version,
    /// and `c.step` its next step; else someone decided first). Needs [`Action::ConfirmRecords`]; not the
    /// submitter, not someone who filled another column of the same submission, and the step's holder when
    /// the route names one. The last step makes the record 確認済. Audited as `record.confirm` with the step
    /// and the new files' digests. `unyo_documents::confirm_monthly` renders the files and calls this.
    pub async fn confirm_monthly_record_step(
        &self,
        actor: &Actor,
        c: &StepConfirmation<'_>,
    ) -> Result<MonthlyRecord> {
        actor.require(Action::ConfirmRecords)?;
        if c.pdf.is_empty() || c.xlsx.is_empty() {
            return Err(StoreError::Internal("empty document files".into()));
        }
        self.decide(
            actor,
            &Decision {
                record_id: c.record_id,
                action: RecordAction::Confirm,
                step: Some(c.step),
                on: c.on,
                reason: "",
                frozen: Some(c),
            },
        )
        .await?;
        self.monthly_record(c.record_id).await
    }

    /// Sends the submitted record back (差戻し) at whichever step awaits, with a reason, on `on`. See
    /// [`Store::return_monthly_record_step`].
    pub async fn return_monthly_record(
        &self,
        actor: &Actor,
        id: i64,
        input: &ReturnInput,
        on: NaiveDate,
    ) -> Result<MonthlyRecord> {
        self.send_back(actor, id, None, input, on).await
    }

    /// Sends the submitted record back (差戻し) at step `step` (1-based, the step that awaits; else someone
    /// decided first) with a reason on `on`; the record returns to the SE for a new submission. Needs
    /// [`Action::ConfirmRecords`]; the same people as [`Store::confirm_monthly_record_step`]. Audited as
    /// `record.return` with the step and the reason.
    pub async fn return_monthly_record_step(
        &self,
        actor: &Actor,
        id: i64,
        step: i64,
        input: &ReturnInput,
        on: NaiveDate,
    ) -> Result<MonthlyRecord> {
        self.send_back(actor, id, Some(step), input, on).await
    }

    async fn send_back(
        &self,
        actor: &Actor,
        id: i64,
        step: Option<i64>,
        input: &ReturnInput,
        on: NaiveDate,
    ) -> Result<MonthlyRecord> {
        actor.require(Action::ConfirmRecords)?;
        let reason = input.validate()?;
        self.decide(
            actor,
            &Decision {
                record_id: id,
                action: RecordAction::Return,
                step,
                on,
                reason: &reason,
                frozen: None,
            },
        )
        .await?;
        self.monthly_record(id).await
    }

    async fn decide(&self, actor: &Actor, d: &Decision<'_>) -> Result<()> {
        let name = self.actor_name(actor).await?;
        let at = self.record_time();
        let on = d.on.format("%Y-%m-%d").to_string();
        let files = d.frozen.map(|c| {
            (
                sha256_hex(c.pdf),
                sha256_hex(c.xlsx),
                i64::try_from(c.pdf.len()).unwrap_or(i64::MAX),
                i64::try_from(c.xlsx.len()).unwrap_or(i64::MAX),
            )
        });
        write_tx!(self, |tx| {
            let row: Option<(String, i64, String)> = sqlx::query_as(
                "SELECT status, current_version, route FROM monthly_records WHERE id = $1",
            )
            .bind(d.record_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((status, version, route_json)) = row else {
                return Err(not_found(format!("業務実績簿 {}", d.record_id)));
            };
            let from = RecordStatus::parse(&status).ok_or_else(|| {
                StoreError::Internal(format!("record {}: bad status", d.record_id))
            })?;
            next_status(Some(from), d.action)?;
            let route = parse_route(&route_json);
            let latest: Option<(Option<i64>, i64)> = sqlx::query_as(
                "SELECT submitted_by_id, stage FROM monthly_record_versions WHERE record_id = $1 AND version = $2",
            )
            .bind(d.record_id)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((submitter, stage)) = latest else {
                return Err(StoreError::Internal(format!(
                    "record {}: version {version} missing",
                    d.record_id
                )));
            };
            let step = stage + 1;
            if d.step.is_some_and(|s| s != step) {
                return Err(conflict(RECORD_STALE_MESSAGE));
            }
            let index = usize::try_from(stage).unwrap_or(usize::MAX);
            let Some(route_step) = route.get(index) else {
                return Err(StoreError::Internal(format!(
                    "record {}: step {step} beyond its route",
                    d.record_id
                )));
            };
            if actor.user_id.is_some() && submitter == actor.user_id {
                return Err(conflict(OWN_SUBMISSION_MESSAGE));
            }
            if !route_step.held_by(actor.user_id) {
                return Err(conflict(NOT_STEP_HOLDER_MESSAGE));
            }
            if let Some(me) = actor.user_id {
                let mine: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM monthly_record_approvals
                     WHERE record_id = $1 AND version >= $2 AND outcome = 'confirmed' AND decided_by_id = $3",
                )
                .bind(d.record_id)
                .bind(version - stage)
                .bind(me)
                .fetch_one(&mut *tx)
                .await?;
                if mine > 0 {
                    return Err(conflict(SAME_PERSON_MESSAGE));
                }
            }
            let to = match d.action {
                RecordAction::Confirm => {
                    status_after_step(usize::try_from(step).unwrap_or(usize::MAX), route.len())
                }
                _ => RecordStatus::Returned,
            };
            let new_version = match d.frozen {
                Some(c) => {
                    if c.version != version + 1 {
                        return Err(conflict(RECORD_STALE_MESSAGE));
                    }
                    c.version
                }
                None if d.action == RecordAction::Confirm => {
                    return Err(StoreError::Internal("a confirmation freezes files".into()));
                }
                None => version,
            };
            let n = sqlx::query(
                "UPDATE monthly_records SET status = $1, current_version = $2, updated_at = $3
                 WHERE id = $4 AND status = 'submitted' AND current_version = $5",
            )
            .bind(to.code())
            .bind(new_version)
            .bind(&at)
            .bind(d.record_id)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(conflict(RECORD_STALE_MESSAGE));
            }
            let outcome = if d.action == RecordAction::Confirm {
                "confirmed"
            } else {
                "returned"
            };
            sqlx::query(
                "UPDATE monthly_record_versions SET outcome = $1, decided_on = $2, decided_at = $3, decided_by_id = $4,
                 decided_by = $5, decided_by_name = $6, reason = $7
                 WHERE record_id = $8 AND version = $9 AND outcome = 'submitted'",
            )
            .bind(outcome)
            .bind(&on)
            .bind(&at)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&name)
            .bind(d.reason)
            .bind(d.record_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            if let (Some(c), Some((pdf_sha, xlsx_sha, pdf_size, xlsx_size))) = (d.frozen, &files) {
                // The next version: the submission's columns and source rows as they were, the files
                // frozen again with this step's column filled. The last one is itself the confirmed one.
                let last = to == RecordStatus::Confirmed;
                sqlx::query(
                    "INSERT INTO monthly_record_versions (record_id, version, submitted_on, submitted_at,
                     submitted_by_id, submitted_by, submitted_by_name, pdf, pdf_sha256, pdf_size, xlsx, xlsx_sha256,
                     xlsx_size, sources, sources_sha256, stage, model, outcome, decided_on, decided_at,
                     decided_by_id, decided_by, decided_by_name)
                     SELECT record_id, $1, submitted_on, submitted_at, submitted_by_id, submitted_by,
                     submitted_by_name, $2, $3, $4, $5, $6, $7, sources, sources_sha256, $8, $9, $10, $11, $12,
                     $13, $14, $15
                     FROM monthly_record_versions WHERE record_id = $16 AND version = $17",
                )
                .bind(c.version)
                .bind(c.pdf)
                .bind(pdf_sha)
                .bind(*pdf_size)
                .bind(c.xlsx)
                .bind(xlsx_sha)
                .bind(*xlsx_size)
                .bind(step)
                .bind(c.model)
                .bind(if last { "confirmed" } else { "submitted" })
                .bind(last.then_some(on.as_str()))
                .bind(last.then_some(at.as_str()))
                .bind(if last { actor.user_id } else { None })
                .bind(last.then_some(actor.username.as_str()))
                .bind(last.then_some(name.as_str()))
                .bind(d.record_id)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_on_unique(e, || RECORD_STALE_MESSAGE.into()))?;
            }
            sqlx::query(
                "INSERT INTO monthly_record_approvals (record_id, version, frozen_version, step, label, outcome,
                 decided_on, decided_at, decided_by_id, decided_by, decided_by_name, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(d.record_id)
            .bind(version)
            .bind(d.frozen.map(|c| c.version))
            .bind(step)
            .bind(&route_step.label)
            .bind(outcome)
            .bind(&on)
            .bind(&at)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&name)
            .bind(d.reason)
            .execute(&mut *tx)
            .await?;
            let action = match d.action {
                RecordAction::Confirm => "record.confirm",
                RecordAction::Return => "record.return",
                RecordAction::Submit => "record.submit",
            };
            let mut details = json!({
                "version": version, "step": step, "label": route_step.label, "steps": route.len(),
                "status": to.code(), "on": on, "by": name,
            });
            if !d.reason.is_empty() {
                details["reason"] = json!(d.reason);
            }
            if let Some((pdf_sha, xlsx_sha, pdf_size, xlsx_size)) = &files {
                details["frozen_version"] = json!(new_version);
                details["pdf"] = json!({"sha256": pdf_sha, "size": pdf_size});
                details["xlsx"] = json!({"sha256": xlsx_sha, "size": xlsx_size});
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, action, "monthly_record", d.record_id).details(details),
            )
            .await?;
        });
        Ok(())
    }

    /// The approval route of a contract: its 確認欄 columns in order ([`default_route`] when it names none).
    pub async fn approval_route(&self, contract_id: i64) -> Result<Vec<RouteStep>> {
        let rows: Vec<(String, Option<i64>)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT label, user_id FROM contract_approval_steps WHERE contract_id = $1 ORDER BY step"
        )
        .bind(contract_id)
        .fetch_all(db)
        .await?
        });
        if rows.is_empty() {
            return Ok(default_route());
        }
        Ok(rows
            .into_iter()
            .map(|(label, user_id)| RouteStep { label, user_id })
            .collect())
    }

    /// Sets a contract's approval route (e.g. 担当・係長・課長, each optionally held by one prefecture
    /// account). Needs [`Action::ManageContracts`]; the holders must be accounts that may confirm records.
    /// Applies to submissions from now on (each submission keeps the route of its moment). Audited as
    /// `contract.route`.
    pub async fn set_approval_route(
        &self,
        actor: &Actor,
        contract_id: i64,
        steps: &[RouteStep],
    ) -> Result<Vec<RouteStep>> {
        actor.require(Action::ManageContracts)?;
        let route = validate_route(steps)?;
        for s in &route {
            if let Some(uid) = s.user_id {
                let ok = self
                    .user(uid)
                    .await?
                    .is_some_and(|u| u.role().allows(Action::ConfirmRecords));
                if !ok {
                    return Err(DomainError::invalid(
                        "route",
                        format!(
                            "確認欄「{}」の担当者には、業務実績簿を確認できる県の利用者を指定してください。",
                            s.label
                        ),
                    )
                    .into());
                }
            }
        }
        let before = self.approval_route(contract_id).await?;
        write_tx!(self, |tx| {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                .bind(contract_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(not_found(format!("契約 {contract_id}")));
            }
            sqlx::query("DELETE FROM contract_approval_steps WHERE contract_id = $1")
                .bind(contract_id)
                .execute(&mut *tx)
                .await?;
            for (i, s) in route.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO contract_approval_steps (contract_id, step, label, user_id) VALUES ($1, $2, $3, $4)",
                )
                .bind(contract_id)
                .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                .bind(&s.label)
                .bind(s.user_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "contract.route", "contract", contract_id)
                    .details(json!({"route": [before, route]})),
            )
            .await?;
        });
        Ok(route)
    }

    /// The document model (JSON) a version's files were rendered from; empty for versions submitted before
    /// models were kept.
    pub async fn record_model(&self, record_id: i64, version: i64) -> Result<String> {
        let row: Option<String> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT model FROM monthly_record_versions WHERE record_id = $1 AND version = $2"
        )
        .bind(record_id)
        .bind(version)
        .fetch_optional(db)
        .await?);
        row.ok_or_else(|| not_found(format!("業務実績簿 {record_id} 第{version}版")))
    }

    /// The frozen bytes of a version's PDF or XLSX. Needs [`Action::ViewRecords`]; bytes that no longer
    /// match their SHA-256 are refused; audited as `record.download` before they are handed out.
    pub async fn record_file(
        &self,
        actor: &Actor,
        record_id: i64,
        version: i64,
        file: RecordFile,
    ) -> Result<(RecordVersion, Vec<u8>)> {
        actor.require(Action::ViewRecords)?;
        let column = match file {
            RecordFile::Pdf => "pdf",
            RecordFile::Xlsx => "xlsx",
        };
        let meta_sql = format!("{VERSION_SELECT} WHERE record_id = $1 AND version = $2");
        let data_sql = format!(
            "SELECT {column} FROM monthly_record_versions WHERE record_id = $1 AND version = $2"
        );
        let (meta, data): (Option<RecordVersion>, Option<Vec<u8>>) = read_db!(self, |db| {
            let meta = sqlx::query_as(sqlx::AssertSqlSafe(meta_sql))
                .bind(record_id)
                .bind(version)
                .fetch_optional(db)
                .await?;
            let data = sqlx::query_scalar(sqlx::AssertSqlSafe(data_sql))
                .bind(record_id)
                .bind(version)
                .fetch_optional(db)
                .await?;
            (meta, data)
        });
        let (Some(meta), Some(data)) = (meta, data) else {
            return Err(not_found(format!("業務実績簿 {record_id} 第{version}版")));
        };
        let expected = match file {
            RecordFile::Pdf => &meta.pdf_sha256,
            RecordFile::Xlsx => &meta.xlsx_sha256,
        };
        let actual = sha256_hex(&data);
        if &actual != expected {
            return Err(StoreError::Internal(format!(
                "record {record_id} version {version}: stored {column} does not match its SHA-256"
            )));
        }
        self.audit(
            NewAuditEntry::new(actor, "record.download", "monthly_record", record_id).details(
                json!({"version": version, "format": column, "sha256": actual, "size": data.len()}),
            ),
        )
        .await?;
        Ok((meta, data))
    }

    /// The source rows a version was made from.
    pub async fn record_sources(&self, record_id: i64, version: i64) -> Result<Vec<SourceRow>> {
        let row: Option<(String, String)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT sources, sources_sha256 FROM monthly_record_versions WHERE record_id = $1 AND version = $2"
        )
        .bind(record_id)
        .bind(version)
        .fetch_optional(db)
        .await?
        });
        let Some((json, sha)) = row else {
            return Err(not_found(format!("業務実績簿 {record_id} 第{version}版")));
        };
        if sha256_hex(json.as_bytes()) != sha {
            return Err(StoreError::Internal(format!(
                "record {record_id} version {version}: stored sources do not match their SHA-256"
            )));
        }
        serde_json::from_str(&json).map_err(StoreError::wrap)
    }

    /// The addressee printed on monthly records ([`DEFAULT_ADDRESSEE`] until set).
    pub async fn record_addressee(&self) -> Result<String> {
        Ok(self
            .meta(ADDRESSEE_KEY)
            .await?
            .unwrap_or_else(|| DEFAULT_ADDRESSEE.to_string()))
    }

    /// Sets the addressee. Needs [`Action::ManageContracts`]; audited as `record.addressee`.
    pub async fn set_record_addressee(&self, actor: &Actor, text: &str) -> Result<String> {
        actor.require(Action::ManageContracts)?;
        let value = validate_addressee(text)?;
        let before = self.record_addressee().await?;
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(ADDRESSEE_KEY)
            .bind(&value)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "record.addressee", "meta", ADDRESSEE_KEY)
                    .details(json!({"addressee": [before, value]})),
            )
            .await?;
        });
        Ok(value)
    }

    // -------------------------------------------------------------------------------------------- figures

    /// Work between `from` and `to` (inclusive), of one contract or all, per month, clause and category.
    pub async fn work_figures(
        &self,
        contract_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<WorkFigure>> {
        let mut f = Filter::default();
        let a = f.bind(Param::Text(from.format("%Y-%m-%d").to_string()));
        let b = f.bind(Param::Text(to.format("%Y-%m-%d").to_string()));
        f.push(format!("work_date >= {a}"));
        f.push(format!("work_date <= {b}"));
        if let Some(c) = contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("contract_id = {p}"));
        }
        let sql = format!(
            "SELECT SUBSTR(work_date, 1, 7), clause, category, COUNT(*), CAST(SUM(minutes) AS BIGINT)
             FROM work_entries{} GROUP BY SUBSTR(work_date, 1, 7), clause, category ORDER BY 1, 2, 3",
            f.where_clause()
        );
        let rows: Vec<(String, String, String, i64, i64)> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(m, clause, category, count, minutes)| {
                let (year, month) = ym(&m)?;
                Some(WorkFigure {
                    year,
                    month,
                    clause,
                    category,
                    count,
                    minutes,
                })
            })
            .collect())
    }

    /// Requests filed between `from` and `to` (inclusive), per month, category and current status.
    pub async fn request_figures(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RequestFigure>> {
        let rows: Vec<(String, String, String, i64)> = read_db!(self, |db| sqlx::query_as(
            "SELECT SUBSTR(filed_on, 1, 7), category, status, COUNT(*) FROM requests
             WHERE filed_on >= $1 AND filed_on <= $2
             GROUP BY SUBSTR(filed_on, 1, 7), category, status ORDER BY 1, 2, 3"
        )
        .bind(from.format("%Y-%m-%d").to_string())
        .bind(to.format("%Y-%m-%d").to_string())
        .fetch_all(db)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(m, category, status, count)| {
                let (year, month) = ym(&m)?;
                Some(RequestFigure {
                    year,
                    month,
                    category,
                    status,
                    count,
                })
            })
            .collect())
    }

    /// Audit entries between JST days `from` and `to` (inclusive) whose action is one of `actions` or starts
    /// with one of `prefixes` (e.g. `export.`), counted per JST month and action. Counted per UTC hour in
    /// SQL (JST is UTC+9 whole hours, so an hour never straddles two JST months) and summed here.
    pub async fn audit_figures(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        actions: &[&str],
        prefixes: &[&str],
    ) -> Result<Vec<AuditFigure>> {
        let mut f = Filter::default();
        let a = f.bind(Param::Text(day_start(from)));
        let b = f.bind(Param::Text(day_start(to.succ_opt().unwrap_or(to))));
        f.push(format!("at >= {a}"));
        f.push(format!("at < {b}"));
        let mut ors: Vec<String> = actions
            .iter()
            .map(|x| format!("action = {}", f.bind(Param::Text((*x).to_string()))))
            .collect();
        for p in prefixes {
            let escaped: String = p
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            let ph = f.bind(Param::Text(format!("{escaped}%")));
            ors.push(format!("action LIKE {ph} ESCAPE '\\'"));
        }
        if ors.is_empty() {
            return Ok(Vec::new());
        }
        f.push(format!("({})", ors.join(" OR ")));
        let sql = format!(
            "SELECT SUBSTR(at, 1, 13), action, COUNT(*) FROM audit_log{} GROUP BY SUBSTR(at, 1, 13), action",
            f.where_clause()
        );
        let rows: Vec<(String, String, i64)> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        let mut sums: std::collections::BTreeMap<(i32, u32, String), i64> = Default::default();
        for (hour, action, count) in rows {
            let Ok(utc) =
                chrono::NaiveDateTime::parse_from_str(&format!("{hour}:00"), "%Y-%m-%dT%H:%M")
            else {
                continue;
            };
            let local = to_jst(utc.and_utc());
            *sums
                .entry((local.year(), local.month(), action))
                .or_default() += count;
        }
        Ok(sums
            .into_iter()
            .map(|((year, month, action), count)| AuditFigure {
                year,
                month,
                action,
                count,
            })
            .collect())
    }

    /// Campaign targets set to 実施済 / 失敗 / 対象外 between JST days `from` and `to` (inclusive), per
    /// campaign (campaigns without such targets are absent).
    pub async fn campaign_activity(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CampaignActivity>> {
        let rows: Vec<(i64, String, i64)> = read_db!(self, |db| sqlx::query_as(
            "SELECT campaign_id, status, COUNT(*) FROM campaign_targets
             WHERE updated_at >= $1 AND updated_at < $2 AND status IN ('done', 'failed', 'excluded')
             GROUP BY campaign_id, status ORDER BY campaign_id"
        )
        .bind(day_start(from))
        .bind(day_start(to.succ_opt().unwrap_or(to)))
        .fetch_all(db)
        .await?);
        let mut out: Vec<CampaignActivity> = Vec::new();
        for (id, status, n) in rows {
            if out.last().is_none_or(|a| a.campaign_id != id) {
                out.push(CampaignActivity {
                    campaign_id: id,
                    ..Default::default()
                });
            }
            if let Some(a) = out.last_mut() {
                match status.as_str() {
                    "done" => a.done += n,
                    "failed" => a.failed += n,
                    _ => a.excluded += n,
                }
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------------------------------------ bench seed

/// What [`Store::seed_synthetic_year`] creates.
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct SeedYear {
    pub fiscal_year: FiscalYear,
    pub work_entries: usize,
    pub incidents: usize,
    pub requests: usize,
    pub sites: usize,
    pub workers: usize,
    pub campaigns: usize,
}

/// What was created.
#[derive(Debug, Clone, Default)]
#[doc(hidden)]
pub struct SeedSummary {
    pub contract_id: i64,
    pub work_entries: usize,
    pub incidents: usize,
    pub requests: usize,
    pub audit_entries: usize,
}

/// Deterministic pseudo-random numbers (SplitMix64) for the synthetic year.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

/// One audit row of the synthetic year, chained in memory.
struct AuditRow {
    at: String,
    actor: String,
    action: &'static str,
    entity: &'static str,
    entity_id: String,
    details: String,
}

impl Store {
    /// Fills an empty database with a large deployment's fiscal year, for the report benchmark only:
    /// accounts, `sites` sites with one terminal each and a contract through the ordinary store calls, then
    /// in batched SQL (real rows in the real schema): work entries with workers and terminals on the year's
    /// weekdays, requests, incidents (closed, witnessed) with their sites and timeline entries, campaigns
    /// with every target done, and the audit entries such a year writes (`work.create`, logins, failures,
    /// lockouts, exports, downloads), hash-chained like any other.
    #[doc(hidden)]
    pub async fn seed_synthetic_year(&self, o: &SeedYear) -> Result<SeedSummary> {
        use unyo_domain::registry::{SiteInput, TerminalInput};
        use unyo_domain::support::ContractInput;
        let sys = Actor::system("bench");
        if self.user_count().await? > 0 {
            return Err(StoreError::Internal(
                "seed-year needs an empty database".into(),
            ));
        }
        let mut workers = Vec::new();
        for i in 0..o.workers.max(1) {
            let u = self
                .create_user(
                    &sys,
                    &format!("se{:03}", i + 1),
                    &format!("作業員 {:03}", i + 1),
                    Role::Se,
                    "bench-password-2026",
                )
                .await?;
            workers.push(u);
        }
        let staff = self
            .create_user(&sys, "staff", "県 職員", Role::Staff, "bench-password-2026")
            .await?;
        let mut terminals: Vec<(i64, i64)> = Vec::new();
        for i in 0..o.sites.max(1) {
            let site = self
                .create_site(
                    &sys,
                    &SiteInput {
                        code: format!("S{:04}", i + 1),
                        name: format!("拠点{:04}", i + 1),
                        kind: if i == 0 { "honcho" } else { "other" }.into(),
                        ..Default::default()
                    },
                )
                .await?;
            let t = self
                .create_terminal(
                    &sys,
                    &TerminalInput {
                        site_id: Some(site.id),
                        hostname: format!("jk-bench-{:04}", i + 1),
                        kind: if i == 0 { "representative" } else { "business" }.into(),
                        ..Default::default()
                    },
                )
                .await?;
            terminals.push((site.id, t.id));
        }
        let fy = o.fiscal_year;
        let contract = self
            .create_contract(
                &sys,
                &ContractInput {
                    name: "住民基本台帳ネットワークシステム運用支援SE業務委託（大規模）".into(),
                    number: format!("BENCH-{}", fy.0),
                    term_start: fy.start().to_string(),
                    term_end: fy.end().to_string(),
                    contractor: "ベンチマーク情報システム株式会社".into(),
                    manager: "作業員 001".into(),
                    staff_ids: workers.iter().map(|u| u.id).collect(),
                },
            )
            .await?;
        let mut rng = Mix(0x756E_796F_2026);
        let days: Vec<NaiveDate> = fy
            .start()
            .iter_days()
            .take_while(|d| *d <= fy.end())
            .filter(|d| d.weekday().number_from_monday() <= 5)
            .collect();
        let mut audit: Vec<AuditRow> = Vec::new();
        let mut summary = SeedSummary {
            contract_id: contract.id,
            ..Default::default()
        };

        // Requests, spread over the year.
        let categories = [
            "app_install",
            "antivirus_update",
            "remote_update",
            "connectivity_check",
            "technical_support",
        ];
        let mut request_days: Vec<(i64, NaiveDate)> = Vec::new();
        let base_request = self.max_id("requests").await?;
        let mut rows: Vec<Vec<SeedValue>> = Vec::new();
        for i in 0..o.requests {
            let id = base_request + 1 + i as i64;
            let day = days[i * days.len() / o.requests.max(1)];
            let at = to_storage(
                day.and_hms_opt(0, 30, 0)
                    .map_or(Utc::now(), |t| t.and_utc()),
            );
            let seq = i as i64 + 1;
            rows.push(vec![
                SeedValue::Int(id),
                SeedValue::Text(crate::support::request_number(fy, seq)),
                SeedValue::Int(i64::from(fy.0)),
                SeedValue::Int(seq),
                SeedValue::Text(format!("支援要請 {seq}")),
                SeedValue::Text(categories[i % categories.len()].into()),
                SeedValue::Text("端末の更新作業をお願いします。".into()),
                SeedValue::Text(day.to_string()),
                SeedValue::Text("confirmed".into()),
                SeedValue::Int(staff.id),
                SeedValue::Text("staff".into()),
                SeedValue::Int(workers[i % workers.len()].id),
                SeedValue::Text(day.to_string()),
                SeedValue::Text("完了しました。".into()),
                SeedValue::Text(at.clone()),
                SeedValue::Text(at),
            ]);
            request_days.push((id, day));
        }
        self.insert_rows(
            "requests",
            "id, number, fiscal_year, seq, title, category, description, filed_on, status, requester_id, requester,
             assignee_id, planned_date, result, created_at, updated_at",
            rows,
        )
        .await?;
        summary.requests = o.requests;

        // Work entries: each worker's day filled with 90-minute slots from 09:00.
        let base_work = self.max_id("work_entries").await?;
        let slots_per_day = o.work_entries.div_ceil(days.len().max(1));
        let work_categories = [
            ("app_install", "2", "業務アプリケーションのインストール"),
            (
                "antivirus_update",
                "2",
                "ウイルス対策ソフトのパターンファイル更新",
            ),
            (
                "remote_update",
                "2",
                "リモートによるWindows更新プログラムの適用",
            ),
            ("connectivity_check", "3", "集約ネットワークの疎通確認"),
            ("technical_support", "3", "端末操作に関する技術支援"),
            ("council_support", "4", "審議会資料の作成支援"),
            ("incident_response", "5", "障害の原因調査と復旧作業"),
        ];
        let mut rows = Vec::new();
        let mut workers_rows = Vec::new();
        let mut terminal_rows = Vec::new();
        let mut n = 0usize;
        'days: for (d_index, day) in days.iter().enumerate() {
            for slot in 0..slots_per_day {
                if n >= o.work_entries {
                    break 'days;
                }
                let worker = &workers[slot % workers.len()];
                let k = slot / workers.len();
                let start = 9 * 60 + (k as i64) * 95;
                let minutes = [30i64, 45, 60, 90][rng.below(4)];
                let (category, clause, text) = work_categories[rng.below(work_categories.len())];
                let (site, terminal) = terminals[rng.below(terminals.len())];
                let clause = if terminal == terminals[0].1 && clause == "2" {
                    "1"
                } else {
                    clause
                };
                let id = base_work + 1 + n as i64;
                let at = to_storage(
                    day.and_hms_opt(9, 0, 0).map_or(Utc::now(), |t| t.and_utc())
                        + chrono::Duration::minutes(start),
                );
                let request = if n.is_multiple_of(20) && !request_days.is_empty() {
                    let idx =
                        (d_index * request_days.len() / days.len()).min(request_days.len() - 1);
                    SeedValue::Int(request_days[idx].0)
                } else {
                    SeedValue::Null
                };
                rows.push(vec![
                    SeedValue::Int(id),
                    SeedValue::Int(contract.id),
                    SeedValue::Text(day.to_string()),
                    SeedValue::Text(format!("{:02}:{:02}", start / 60, start % 60)),
                    SeedValue::Text(format!(
                        "{:02}:{:02}",
                        (start + minutes) / 60,
                        (start + minutes) % 60
                    )),
                    SeedValue::Int(minutes),
                    SeedValue::Text(
                        if rng.below(2) == 0 {
                            "onsite"
                        } else {
                            "remote"
                        }
                        .into(),
                    ),
                    SeedValue::Int(site),
                    SeedValue::Text(category.into()),
                    SeedValue::Text(clause.into()),
                    SeedValue::Text(format!("{text}（作業番号 {id}）")),
                    SeedValue::Text("正常に完了した。".into()),
                    SeedValue::Text(String::new()),
                    request,
                    SeedValue::Text(worker.username.clone()),
                    SeedValue::Text(at.clone()),
                    SeedValue::Text(at.clone()),
                ]);
                workers_rows.push(vec![SeedValue::Int(id), SeedValue::Int(worker.id)]);
                terminal_rows.push(vec![SeedValue::Int(id), SeedValue::Int(terminal)]);
                audit.push(AuditRow {
                    at,
                    actor: worker.username.clone(),
                    action: "work.create",
                    entity: "work",
                    entity_id: id.to_string(),
                    details: json!({"contract_id": contract.id, "work_date": day.to_string(),
                        "minutes": minutes, "category": category, "clause": clause})
                    .to_string(),
                });
                n += 1;
                if rows.len() >= 20_000 {
                    self.flush_work(&mut rows, &mut workers_rows, &mut terminal_rows)
                        .await?;
                }
            }
            // The day's security events: logins, the odd failure and lockout, exports and downloads.
            let noon = day.and_hms_opt(3, 0, 0).map_or(Utc::now(), |t| t.and_utc());
            let events: [(&'static str, usize); 5] = [
                ("login.success", 30 + rng.below(20)),
                ("login.failure", rng.below(4)),
                ("login.lockout", usize::from(rng.below(40) == 0)),
                ("export.work", rng.below(3)),
                ("attachment.download", rng.below(6)),
            ];
            for (action, count) in events {
                for e in 0..count {
                    audit.push(AuditRow {
                        at: to_storage(noon + chrono::Duration::seconds(e as i64 * 7)),
                        actor: workers[e % workers.len()].username.clone(),
                        action,
                        entity: "",
                        entity_id: String::new(),
                        details: "{}".into(),
                    });
                }
            }
            if audit.len() >= 20_000 {
                summary.audit_entries += self.append_seed_audit(&mut audit).await?;
            }
        }
        self.flush_work(&mut rows, &mut workers_rows, &mut terminal_rows)
            .await?;
        summary.work_entries = n;

        // Incidents: closed and witnessed, times in order, one affected site each.
        let base_incident = self.max_id("incidents").await?;
        let base_entry = self.max_id("incident_entries").await?;
        let severities = ["critical", "high", "medium", "medium", "low", "low"];
        let mut rows = Vec::new();
        let mut site_rows = Vec::new();
        let mut entry_rows = Vec::new();
        for i in 0..o.incidents {
            let id = base_incident + 1 + i as i64;
            let entry = base_entry + 1 + i as i64;
            let day = days[i * days.len() / o.incidents.max(1)];
            let occurred = day.and_hms_opt(0, 0, 0).map_or(Utc::now(), |t| t.and_utc())
                + chrono::Duration::minutes(rng.below(8 * 60) as i64);
            let noticed = occurred + chrono::Duration::minutes(rng.below(30) as i64);
            let first = noticed + chrono::Duration::minutes(5 + rng.below(60) as i64);
            let recovered = first + chrono::Duration::minutes(15 + rng.below(300) as i64);
            let closed = recovered + chrono::Duration::minutes(30);
            let seq = i as i64 + 1;
            let (site, terminal) = terminals[rng.below(terminals.len())];
            let t = |x: DateTime<Utc>| SeedValue::Text(to_storage(x));
            rows.push(vec![
                SeedValue::Int(id),
                SeedValue::Text(crate::incidents::incident_number(fy, seq)),
                SeedValue::Int(i64::from(fy.0)),
                SeedValue::Int(seq),
                SeedValue::Text(format!(
                    "端末 jk-bench-{terminal:04} の業務アプリケーションが応答しない"
                )),
                SeedValue::Text(severities[rng.below(severities.len())].into()),
                SeedValue::Text("phone".into()),
                SeedValue::Text("closed".into()),
                SeedValue::Text("業務アプリケーションが起動しないとの連絡があった。".into()),
                t(occurred),
                t(noticed),
                t(first),
                t(recovered),
                t(closed),
                SeedValue::Int(entry),
                SeedValue::Text("staff".into()),
                t(noticed),
                t(closed),
            ]);
            site_rows.push(vec![SeedValue::Int(id), SeedValue::Int(site)]);
            entry_rows.push(vec![
                SeedValue::Int(entry),
                SeedValue::Int(id),
                SeedValue::Text("witness".into()),
                SeedValue::Text("recovered".into()),
                SeedValue::Text("staff".into()),
                t(recovered),
                t(recovered),
                SeedValue::Text("県 職員".into()),
                SeedValue::Text("情報政策課".into()),
                t(recovered),
                SeedValue::Text("復旧を確認した。".into()),
            ]);
        }
        self.insert_rows(
            "incidents",
            "id, number, fiscal_year, seq, title, severity, source, stage, description, occurred_at, noticed_at,
             first_response_at, recovered_at, closed_at, witness_entry_id, created_by, created_at, updated_at",
            rows,
        )
        .await?;
        self.insert_rows("incident_sites", "incident_id, site_id", site_rows)
            .await?;
        self.insert_rows(
            "incident_entries",
            "id, incident_id, kind, stage, author, at, recorded_at, witness_name, witness_org, witnessed_at, remark",
            entry_rows,
        )
        .await?;
        summary.incidents = o.incidents;

        // Campaigns: one a month, every terminal a target, all done by the end of the month.
        let base_campaign = self.max_id("campaigns").await?;
        let mut rows = Vec::new();
        let mut target_rows = Vec::new();
        for (i, (y, m)) in fy.months().take(o.campaigns).enumerate() {
            let id = base_campaign + 1 + i as i64;
            let month = Month { year: y, month: m };
            let start = day_start(month.first_day());
            let end = day_start(month.last_day());
            let goal = unyo_domain::campaign::CampaignGoal::AvDefinitionsAtLeast {
                product_pattern: "Defender".into(),
                min_version: None,
                min_date: Some(month.first_day()),
            };
            let goal = serde_json::to_string(&goal).map_err(StoreError::wrap)?;
            let target = serde_json::to_string(&unyo_domain::campaign::TargetSpec::All)
                .map_err(StoreError::wrap)?;
            rows.push(vec![
                SeedValue::Int(id),
                SeedValue::Text(crate::campaigns::campaign_number(fy, i as i64 + 1)),
                SeedValue::Int(i64::from(fy.0)),
                SeedValue::Int(i as i64 + 1),
                SeedValue::Text(format!("ウイルス定義ファイル更新 {}", month.label())),
                SeedValue::Text("antivirus".into()),
                SeedValue::Text(goal),
                SeedValue::Text(target),
                SeedValue::Text("closed".into()),
                SeedValue::Text("se001".into()),
                SeedValue::Text(start.clone()),
                SeedValue::Text(end.clone()),
                SeedValue::Text("se001".into()),
                SeedValue::Text(end.clone()),
            ]);
            for (_, terminal) in &terminals {
                target_rows.push(vec![
                    SeedValue::Int(id),
                    SeedValue::Int(*terminal),
                    SeedValue::Text("done".into()),
                    SeedValue::Text("attested".into()),
                    SeedValue::Text("se001".into()),
                    SeedValue::Text(end.clone()),
                ]);
            }
        }
        self.insert_rows(
            "campaigns",
            "id, number, fiscal_year, seq, title, goal_type, goal, target_spec, status, created_by, started_at,
             closed_at, closed_by, updated_at",
            rows,
        )
        .await?;
        self.insert_rows(
            "campaign_targets",
            "campaign_id, terminal_id, status, evidence_kind, updated_by, updated_at",
            target_rows,
        )
        .await?;
        summary.audit_entries += self.append_seed_audit(&mut audit).await?;
        self.reset_sequences().await?;
        Ok(summary)
    }

    async fn max_id(&self, table: &'static str) -> Result<i64> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
        Ok(read_db!(self, |db| sqlx::query_scalar::<_, i64>(
            sqlx::AssertSqlSafe(sql)
        )
        .fetch_one(db)
        .await?))
    }

    async fn flush_work(
        &self,
        rows: &mut Vec<Vec<SeedValue>>,
        workers: &mut Vec<Vec<SeedValue>>,
        terminals: &mut Vec<Vec<SeedValue>>,
    ) -> Result<()> {
        self.insert_rows(
            "work_entries",
            "id, contract_id, work_date, start_time, end_time, minutes, mode, site_id, category, clause, description,
             result, follow_up, request_id, created_by, created_at, updated_at",
            std::mem::take(rows),
        )
        .await?;
        self.insert_rows("work_workers", "work_id, user_id", std::mem::take(workers))
            .await?;
        self.insert_rows(
            "work_terminals",
            "work_id, terminal_id",
            std::mem::take(terminals),
        )
        .await?;
        Ok(())
    }

    /// Inserts rows in multi-row statements inside one transaction.
    async fn insert_rows(
        &self,
        table: &'static str,
        columns: &'static str,
        rows: Vec<Vec<SeedValue>>,
    ) -> Result<()> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        let per_statement = (30_000 / width).max(1);
        write_tx!(self, |tx| {
            for chunk in rows.chunks(per_statement) {
                let mut f = Filter::default();
                let values: Vec<String> = chunk
                    .iter()
                    .map(|row| {
                        let cells: Vec<String> = row
                            .iter()
                            .map(|v| match v {
                                SeedValue::Int(i) => f.bind(Param::Int(*i)),
                                SeedValue::Text(s) => f.bind(Param::Text(s.clone())),
                                SeedValue::Null => "NULL".to_string(),
                            })
                            .collect();
                        format!("({})", cells.join(", "))
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO {table} ({columns}) VALUES {}",
                    values.join(", ")
                );
                bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql)), f.params)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// Appends the synthetic year's audit rows to the chain (in batches, the chain kept in memory).
    async fn append_seed_audit(&self, rows: &mut Vec<AuditRow>) -> Result<usize> {
        let taken = std::mem::take(rows);
        let n = taken.len();
        for chunk in taken.chunks(2_500) {
            write_tx!(self, |tx| {
                let last: Option<(i64, String)> =
                    sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                        .fetch_optional(&mut *tx)
                        .await?;
                let (mut id, mut prev) = last.unwrap_or((0, crate::audit::GENESIS.to_string()));
                let mut f = Filter::default();
                let mut values = Vec::with_capacity(chunk.len());
                for r in chunk {
                    id += 1;
                    let hash = crate::audit::entry_hash(
                        &prev,
                        id,
                        &r.at,
                        &r.actor,
                        r.action,
                        r.entity,
                        &r.entity_id,
                        &r.details,
                        "bench",
                    );
                    let cells = [
                        f.bind(Param::Int(id)),
                        f.bind(Param::Text(r.at.clone())),
                        f.bind(Param::Text(r.actor.clone())),
                        f.bind(Param::Text(r.action.to_string())),
                        f.bind(Param::Text(r.entity.to_string())),
                        f.bind(Param::Text(r.entity_id.clone())),
                        f.bind(Param::Text(r.details.clone())),
                        f.bind(Param::Text("bench".into())),
                        f.bind(Param::Text(prev.clone())),
                        f.bind(Param::Text(hash.clone())),
                    ];
                    values.push(format!("({})", cells.join(", ")));
                    prev = hash;
                }
                let sql = format!(
                    "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, details, source, prev_hash, hash)
                     VALUES {}",
                    values.join(", ")
                );
                bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql)), f.params)
                    .execute(&mut *tx)
                    .await?;
            });
        }
        Ok(n)
    }

    /// After inserting explicit ids, PostgreSQL's identity sequences must move past them.
    async fn reset_sequences(&self) -> Result<()> {
        if let crate::Backend::Postgres(pool) = &self.backend {
            for table in [
                "requests",
                "work_entries",
                "incidents",
                "incident_entries",
                "campaigns",
            ] {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
            }
        }
        Ok(())
    }
}

/// A value of a seeded row.
enum SeedValue {
    Int(i64),
    Text(String),
    Null,
}
