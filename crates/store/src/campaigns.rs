//! Rollout campaigns (展開) and the compliance view (準拠状況) (issue 4).
//!
//! A campaign is created with its targets resolved at once (every terminal in service, those of one kind,
//! those at chosen sites, or hand-picked ones) and numbered per fiscal year (`展-R8-001`). Each target moves
//! between 未実施 / 実施済 / 失敗 / 対象外 with its evidence:
//!
//! - **agent** — [`Store::refresh_campaign_from_inventories`] looks at every 未実施/失敗 target's latest
//!   inventory; one received after the campaign started that proves the goal
//!   ([`unyo_domain::campaign::evaluate`]) makes the target 実施済, recording the inventory id, the observed
//!   value and the reason, audited as `campaign.auto_verify` by the system;
//! - **attested** — [`Store::attest_target`]: the SE records 実施済 with a linked work-log entry (and the
//!   witness where the prefecture wants one), 失敗 with a note, or puts the target back to 未実施.
//!
//! The two are never confused: `evidence_kind` is stored with the status and an attested row never carries
//! an inventory id. With stages, business terminals can be 実施済 only once every representative target is
//! 実施済 or 対象外 (for both kinds of evidence); a campaign closes only when every target is 実施済 or 対象外
//! with a reason. Every write checks the actor's permission and appends its audit entry in the same
//! transaction.
//!
//! **Seam for the inventory receiver**: after storing an inventory linked to a terminal, call
//! [`Store::refresh_campaigns_for_terminal`] with [`inventory_actor`]; it refreshes every open campaign that
//! has that terminal as a 未実施/失敗 target. Pages of a campaign call
//! [`Store::refresh_campaign_from_inventories`] themselves before showing it, so nothing is lost if the
//! receiver does not.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::inventory::StoredInventory;
use crate::kit::{conflict, invalid, not_found, paging, placeholders};
use crate::numbering::{NumberingConn, Serial, Series};
use crate::{Actor, Filter, Page, Param, Result, Store, StoreError, contains_pattern};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use unyo_domain::campaign::{
    AttestInput, CampaignGoal, CampaignInput, CampaignStatus, ComplianceCell, ComplianceItem,
    Evidence, ExcludeInput, GoalCheck, InventoryAge, Progress, TargetSpec, TargetStatus,
    check_close, check_stage, compliance_cell, compliance_items, evaluate, inventory_age, stage_of,
};
use unyo_domain::registry::TerminalKind;
use unyo_domain::time::from_storage;
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, FieldError};

/// Advisory-lock key serialising campaign numbering on PostgreSQL.
const LOCK_CAMPAIGN_NUMBER: i64 = 7_164_110;

/// The `meta` key of the compliance view's OS-build baseline.
pub const BASELINE_KEY: &str = "compliance.os_build_baseline";

/// The message when a closed campaign is changed.
pub const CLOSED_MESSAGE: &str = "完了した展開は変更できません。";

/// The actor automatic verification runs as (`system`, source `inventory`).
pub fn inventory_actor() -> Actor {
    Actor::system("inventory")
}

// ------------------------------------------------------------------------------------------------ rows

/// A campaign as listed and shown.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    /// `展-R8-001`.
    pub number: String,
    /// The fiscal year (starting calendar year).
    pub fiscal_year: i64,
    pub title: String,
    pub goal: CampaignGoal,
    /// The goal in one Japanese line.
    pub goal_summary: String,
    /// The targets as asked for (the target rows are what it resolved to on creation).
    pub target: TargetSpec,
    /// Representative terminals first.
    pub staged: bool,
    /// The prefecture wants a witness with every attested 実施済.
    pub witness_required: bool,
    pub description: String,
    /// `open` / `closed`.
    pub status: String,
    /// Login name of the creator.
    pub created_by: String,
    /// Display name of the creator (login name when unknown).
    pub created_by_name: String,
    /// When it started (= was created); only inventories received after it count.
    pub started_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub updated_at: String,
    pub progress: Progress,
}

impl Campaign {
    /// The status as a domain value.
    pub fn status(&self) -> CampaignStatus {
        CampaignStatus::parse(&self.status).unwrap_or(CampaignStatus::Open)
    }

    /// Whether the campaign is still open.
    pub fn is_open(&self) -> bool {
        self.status() == CampaignStatus::Open
    }
}

#[derive(sqlx::FromRow)]
struct CampaignRaw {
    id: i64,
    number: String,
    fiscal_year: i64,
    title: String,
    goal: String,
    target_spec: String,
    staged: bool,
    witness_required: bool,
    description: String,
    status: String,
    created_by: String,
    created_by_name: String,
    started_at: String,
    closed_at: Option<String>,
    closed_by: Option<String>,
    updated_at: String,
}

impl CampaignRaw {
    fn into_campaign(self) -> Result<Campaign> {
        let goal: CampaignGoal = serde_json::from_str(&self.goal)
            .map_err(|e| StoreError::caused(format!("campaign {}: bad goal JSON", self.id), e))?;
        let target: TargetSpec = serde_json::from_str(&self.target_spec)
            .map_err(|e| StoreError::caused(format!("campaign {}: bad target JSON", self.id), e))?;
        Ok(Campaign {
            id: self.id,
            number: self.number,
            fiscal_year: self.fiscal_year,
            title: self.title,
            goal_summary: goal.summary_ja(),
            goal,
            target,
            staged: self.staged,
            witness_required: self.witness_required,
            description: self.description,
            status: self.status,
            created_by: self.created_by,
            created_by_name: self.created_by_name,
            started_at: self.started_at,
            closed_at: self.closed_at,
            closed_by: self.closed_by,
            updated_at: self.updated_at,
            progress: Progress::default(),
        })
    }
}

/// What the latest inventory of a target says about the goal (shown next to 未実施 targets).
#[derive(Debug, Clone, Serialize)]
pub struct LatestCheck {
    pub inventory_id: i64,
    /// When unyo received it.
    pub received_at: String,
    /// Received after the campaign started (only such an inventory can prove the goal).
    pub after_start: bool,
    pub check: GoalCheck,
}

/// One target terminal of a campaign.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CampaignTarget {
    pub terminal_id: i64,
    pub hostname: String,
    pub site_id: i64,
    pub site_name: String,
    /// Terminal kind code.
    pub kind: String,
    /// Set when the terminal has been retired since.
    pub retired_at: Option<String>,
    /// 1, or 2 for business terminals of a staged campaign.
    pub stage: i64,
    /// `pending` / `done` / `failed` / `excluded`.
    pub status: String,
    /// `agent` / `attested`, `None` while nothing is evidenced.
    pub evidence_kind: Option<String>,
    /// The inventory that proved the goal (agent evidence only).
    pub inventory_id: Option<i64>,
    /// The work-log entry (attested evidence).
    pub work_entry_id: Option<i64>,
    /// Who witnessed it for the prefecture (立会者).
    pub witness: String,
    /// Login name of the prefecture user who confirmed the witness.
    pub witness_confirmed_by: Option<String>,
    pub witness_confirmed_at: Option<String>,
    /// The value the proving inventory showed.
    pub observed: String,
    /// Why: the check's reason (agent), or the reason of 対象外.
    pub reason: String,
    /// The SE's note (attested).
    pub note: String,
    pub updated_by: String,
    pub updated_at: String,
    /// The latest inventory's verdict (not stored; filled by [`Store::campaign`]).
    #[sqlx(skip)]
    pub latest: Option<LatestCheck>,
}

impl CampaignTarget {
    /// The status as a domain value.
    pub fn status(&self) -> TargetStatus {
        TargetStatus::parse(&self.status).unwrap_or(TargetStatus::Pending)
    }

    /// The evidence as a domain value.
    pub fn evidence(&self) -> Option<Evidence> {
        self.evidence_kind.as_deref().and_then(Evidence::parse)
    }

    /// Whether the status is proven by an inventory (never true for an attested status).
    pub fn agent_verified(&self) -> bool {
        unyo_domain::campaign::is_agent_verified(self.evidence(), self.inventory_id)
    }
}

/// A campaign with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignDetail {
    pub campaign: Campaign,
    /// Stage first, then site and host name.
    pub targets: Vec<CampaignTarget>,
    pub progress: Progress,
}

/// Filter of the campaign list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CampaignQuery {
    /// `open` / `closed`.
    pub status: Option<String>,
    /// Free text in number, title and description.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1..=500, default 50.
    pub per_page: Option<i64>,
}

/// A target made 実施済 by an inventory.
#[derive(Debug, Clone, Serialize)]
pub struct AutoVerified {
    pub campaign_id: i64,
    pub terminal_id: i64,
    pub hostname: String,
    pub inventory_id: i64,
}

/// Filter of the compliance grid.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ComplianceQuery {
    pub site_id: Option<i64>,
    /// Terminal kind code.
    pub kind: Option<String>,
}

/// One terminal of the compliance grid.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceRow {
    pub terminal_id: i64,
    pub hostname: String,
    pub site_id: i64,
    pub site_name: String,
    /// Terminal kind code.
    pub kind: String,
    /// The latest inventory, if any.
    pub inventory_id: Option<i64>,
    pub received_at: Option<String>,
    /// The latest inventory is older than [`crate::inventory::DEFAULT_STALE_DAYS`] days.
    pub stale: bool,
    /// One per item, in [`ComplianceGrid::items`] order.
    pub cells: Vec<ComplianceCell>,
}

/// Terminals × key items.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceGrid {
    pub items: Vec<ComplianceItem>,
    pub rows: Vec<ComplianceRow>,
    /// The OS-build baseline, if set.
    pub baseline: Option<String>,
    /// When it was computed (storage instant).
    pub generated_at: String,
}

// ------------------------------------------------------------------------------------------------ helpers

/// The number of the `seq`-th campaign of fiscal year `fy`: `展-R8-001`.
pub fn campaign_number(fy: FiscalYear, seq: i64) -> String {
    Series::Campaigns.number(fy, seq)
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(StoreError::wrap)
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    from_storage(s)
}

/// Whether an inventory received at `received_at` came after the campaign started at `started_at`.
fn received_after(received_at: &str, started_at: &str) -> bool {
    match (instant(received_at), instant(started_at)) {
        (Some(r), Some(s)) => r > s,
        _ => received_at > started_at,
    }
}

/// The head of a campaign, read inside a write transaction.
#[derive(sqlx::FromRow)]
struct Head {
    number: String,
    status: String,
    staged: bool,
    witness_required: bool,
}

impl Head {
    fn require_open(&self) -> Result<()> {
        if self.status == CampaignStatus::Open.code() {
            Ok(())
        } else {
            Err(conflict(CLOSED_MESSAGE))
        }
    }
}

/// A target's state, read inside a write transaction.
#[derive(sqlx::FromRow)]
struct TargetState {
    terminal_id: i64,
    hostname: String,
    stage: i64,
    status: String,
    evidence_kind: Option<String>,
    witness: String,
    reason: String,
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

trait CampaignConn {
    /// The terminals a spec names: (id, hostname, kind). Refuses unknown or retired sites/terminals and an
    /// empty result.
    async fn resolve_targets(&mut self, spec: &TargetSpec) -> Result<Vec<(i64, String, String)>>;
    async fn head(&mut self, id: i64) -> Result<Head>;
    async fn targets_state(&mut self, id: i64) -> Result<Vec<TargetState>>;
    async fn check_work_entry(&mut self, work_id: i64, terminal_id: i64, host: &str) -> Result<()>;
}

macro_rules! campaign_conn {
    ($conn:ty) => {
        impl CampaignConn for $conn {
            async fn resolve_targets(
                &mut self,
                spec: &TargetSpec,
            ) -> Result<Vec<(i64, String, String)>> {
                const ACTIVE: &str =
                    "SELECT id, hostname, kind FROM terminals WHERE retired_at IS NULL";
                let rows: Vec<(i64, String, String)> = match spec {
                    TargetSpec::All => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("{ACTIVE} ORDER BY id")))
                            .fetch_all(&mut *self)
                            .await?
                    }
                    TargetSpec::Kind { kind } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{ACTIVE} AND kind = $1 ORDER BY id"
                    )))
                    .bind(kind.code())
                    .fetch_all(&mut *self)
                    .await?,
                    TargetSpec::Sites { site_ids } => {
                        let mut f = Filter::default();
                        let list = placeholders(&mut f, site_ids);
                        let sql = format!("SELECT id, name, retired_at FROM sites WHERE id IN ({list})");
                        let sites: Vec<(i64, String, Option<String>)> =
                            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                                .fetch_all(&mut *self)
                                .await?;
                        let mut errors = Vec::new();
                        for sid in site_ids {
                            match sites.iter().find(|s| s.0 == *sid) {
                                None => errors.push(FieldError::new(
                                    "site_ids",
                                    "選択された拠点が見つかりません。",
                                )),
                                Some((_, name, Some(_))) => errors.push(FieldError::new(
                                    "site_ids",
                                    format!("拠点 {name} は廃止されています。"),
                                )),
                                Some(_) => {}
                            }
                        }
                        if !errors.is_empty() {
                            return Err(DomainError::Validation(errors).into());
                        }
                        let sql = format!("{ACTIVE} AND site_id IN ({list}) ORDER BY id");
                        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                            .fetch_all(&mut *self)
                            .await?
                    }
                    TargetSpec::Terminals { terminal_ids } => {
                        let mut f = Filter::default();
                        let list = placeholders(&mut f, terminal_ids);
                        let sql = format!(
                            "SELECT id, hostname, kind, retired_at FROM terminals WHERE id IN ({list}) ORDER BY id"
                        );
                        let found: Vec<(i64, String, String, Option<String>)> =
                            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                                .fetch_all(&mut *self)
                                .await?;
                        let mut errors = Vec::new();
                        for tid in terminal_ids {
                            match found.iter().find(|t| t.0 == *tid) {
                                None => errors.push(FieldError::new(
                                    "terminal_ids",
                                    "選択された端末が見つかりません。",
                                )),
                                Some((_, host, _, Some(_))) => errors.push(FieldError::new(
                                    "terminal_ids",
                                    format!("端末 {host} は廃止されています。"),
                                )),
                                Some(_) => {}
                            }
                        }
                        if !errors.is_empty() {
                            return Err(DomainError::Validation(errors).into());
                        }
                        found.into_iter().map(|(id, h, k, _)| (id, h, k)).collect()
                    }
                };
                if rows.is_empty() {
                    return Err(invalid("target", "対象となる稼働中の端末がありません。"));
                }
                Ok(rows)
            }

            async fn head(&mut self, id: i64) -> Result<Head> {
                let row: Option<Head> = sqlx::query_as(
                    "SELECT number, status, staged, witness_required FROM campaigns WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
                row.ok_or_else(|| not_found(format!("展開 {id}")))
            }

            async fn targets_state(&mut self, id: i64) -> Result<Vec<TargetState>> {
                Ok(sqlx::query_as(
                    "SELECT ct.terminal_id, t.hostname, ct.stage, ct.status, ct.evidence_kind, ct.witness, ct.reason
                     FROM campaign_targets ct JOIN terminals t ON t.id = ct.terminal_id
                     WHERE ct.campaign_id = $1 ORDER BY ct.stage, t.hostname_key",
                )
                .bind(id)
                .fetch_all(&mut *self)
                .await?)
            }

            async fn check_work_entry(
                &mut self,
                work_id: i64,
                terminal_id: i64,
                host: &str,
            ) -> Result<()> {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM work_entries WHERE id = $1")
                        .bind(work_id)
                        .fetch_optional(&mut *self)
                        .await?;
                if exists.is_none() {
                    return Err(invalid(
                        "work_entry_id",
                        format!("作業記録 {work_id} が見つかりません。"),
                    ));
                }
                let terminals: Vec<i64> = sqlx::query_scalar(
                    "SELECT terminal_id FROM work_terminals WHERE work_id = $1",
                )
                .bind(work_id)
                .fetch_all(&mut *self)
                .await?;
                if !terminals.is_empty() && !terminals.contains(&terminal_id) {
                    return Err(invalid(
                        "work_entry_id",
                        format!("作業記録 {work_id} には端末 {host} が含まれていません。"),
                    ));
                }
                Ok(())
            }
        }
    };
}
campaign_conn!(sqlx::SqliteConnection);
campaign_conn!(sqlx::PgConnection);

/// Host names of stage-1 targets that are neither 実施済 nor 対象外, leaving out `except`.
fn open_stage1(targets: &[TargetState], except: &[i64]) -> Vec<String> {
    targets
        .iter()
        .filter(|t| t.stage == 1 && !except.contains(&t.terminal_id))
        .filter(|t| {
            !matches!(
                TargetStatus::parse(&t.status),
                Some(TargetStatus::Done | TargetStatus::Excluded)
            )
        })
        .map(|t| t.hostname.clone())
        .collect()
}

fn progress_of(targets: &[TargetState]) -> Progress {
    let mut p = Progress::default();
    for t in targets {
        p.add(
            TargetStatus::parse(&t.status).unwrap_or(TargetStatus::Pending),
            t.evidence_kind.as_deref().and_then(Evidence::parse),
            !t.reason.trim().is_empty(),
        );
    }
    p
}

// ------------------------------------------------------------------------------------------------ SQL

const CAMPAIGN_SELECT: &str = "SELECT c.id, c.number, c.fiscal_year, c.title, c.goal, c.target_spec, c.staged,
    c.witness_required, c.description, c.status, c.created_by, COALESCE(u.display_name, c.created_by) AS created_by_name,
    c.started_at, c.closed_at, c.closed_by, c.updated_at
    FROM campaigns c LEFT JOIN users u ON u.id = c.created_by_id";

const TARGET_SELECT: &str = "SELECT ct.terminal_id, t.hostname, t.site_id, s.name AS site_name, t.kind, t.retired_at,
    ct.stage, ct.status, ct.evidence_kind, ct.inventory_id, ct.work_entry_id, ct.witness, ct.witness_confirmed_by,
    ct.witness_confirmed_at, ct.observed, ct.reason, ct.note, ct.updated_by, ct.updated_at
    FROM campaign_targets ct JOIN terminals t ON t.id = ct.terminal_id JOIN sites s ON s.id = t.site_id";

impl CampaignQuery {
    fn filter(&self) -> Filter {
        let mut f = Filter::default();
        if let Some(s) = self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let p = f.bind(Param::Text(s.to_string()));
            f.push(format!("c.status = {p}"));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(contains_pattern(q)));
            let ors: Vec<String> = ["c.number", "c.title", "c.description"]
                .iter()
                .map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'"))
                .collect();
            f.push(format!("({})", ors.join(" OR ")));
        }
        f
    }
}

impl Store {
    // -------------------------------------------------------------------------------------------- reads

    async fn fill_progress(&self, campaigns: &mut [Campaign]) -> Result<()> {
        let ids: Vec<i64> = campaigns.iter().map(|c| c.id).collect();
        let mut counts: HashMap<i64, Progress> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut f = Filter::default();
            let list = placeholders(&mut f, chunk);
            let sql = format!(
                "SELECT campaign_id, status, evidence_kind, CASE WHEN reason <> '' THEN 1 ELSE 0 END AS has_reason,
                 COUNT(*) AS n FROM campaign_targets WHERE campaign_id IN ({list})
                 GROUP BY campaign_id, status, evidence_kind, CASE WHEN reason <> '' THEN 1 ELSE 0 END"
            );
            let rows: Vec<(i64, String, Option<String>, i32, i64)> = read_db!(self, |db| {
                bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                    .fetch_all(db)
                    .await?
            });
            for (cid, status, evidence, has_reason, n) in rows {
                let p = counts.entry(cid).or_default();
                let status = TargetStatus::parse(&status).unwrap_or(TargetStatus::Pending);
                let evidence = evidence.as_deref().and_then(Evidence::parse);
                for _ in 0..n {
                    p.add(status, evidence, has_reason != 0);
                }
            }
        }
        for c in campaigns.iter_mut() {
            c.progress = counts.get(&c.id).copied().unwrap_or_default();
        }
        Ok(())
    }

    /// A page of campaigns, newest first, each with its progress.
    pub async fn campaigns(&self, q: &CampaignQuery) -> Result<Page<Campaign>> {
        let f = q.filter();
        let count_sql = format!("SELECT COUNT(*) FROM campaigns c{}", f.where_clause());
        let list_sql = format!("{CAMPAIGN_SELECT}{} ORDER BY c.id DESC", f.where_clause());
        let raw: Page<CampaignRaw> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        let mut items = raw
            .items
            .into_iter()
            .map(CampaignRaw::into_campaign)
            .collect::<Result<Vec<_>>>()?;
        self.fill_progress(&mut items).await?;
        Ok(Page {
            items,
            total: raw.total,
            page: raw.page,
            per_page: raw.per_page,
        })
    }

    /// One campaign without its targets (with progress).
    pub async fn campaign_row(&self, id: i64) -> Result<Campaign> {
        let sql = format!("{CAMPAIGN_SELECT} WHERE c.id = $1");
        let raw: Option<CampaignRaw> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let mut v = vec![
            raw.ok_or_else(|| not_found(format!("展開 {id}")))?
                .into_campaign()?,
        ];
        self.fill_progress(&mut v).await?;
        Ok(v.remove(0))
    }

    /// A campaign with its targets (terminal host name, site, kind, stage, status, evidence) and, for each
    /// target, what its latest inventory says about the goal.
    pub async fn campaign(&self, id: i64) -> Result<CampaignDetail> {
        let campaign = self.campaign_row(id).await?;
        let sql = format!(
            "{TARGET_SELECT} WHERE ct.campaign_id = $1 ORDER BY ct.stage, s.code, t.hostname_key"
        );
        let mut targets: Vec<CampaignTarget> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_all(db)
                .await?);
        if campaign.goal.provable_by_inventory() {
            let latest = self.latest_by_terminal().await?;
            for t in &mut targets {
                if let Some(inv) = latest.get(&t.terminal_id) {
                    t.latest = Some(LatestCheck {
                        inventory_id: inv.id,
                        received_at: inv.received_at.clone(),
                        after_start: received_after(&inv.received_at, &campaign.started_at),
                        check: evaluate(&campaign.goal, &inv.snapshot),
                    });
                }
            }
        }
        let progress = campaign.progress;
        Ok(CampaignDetail {
            campaign,
            targets,
            progress,
        })
    }

    async fn latest_by_terminal(&self) -> Result<HashMap<i64, StoredInventory>> {
        Ok(self
            .latest_inventories()
            .await?
            .into_iter()
            .filter_map(|i| i.terminal_id.map(|t| (t, i)))
            .collect())
    }

    // -------------------------------------------------------------------------------------------- writes

    /// Creates a campaign and its targets (resolved now: terminals in service only), numbered in the
    /// fiscal year of today (JST). Needs [`Action::ManageCampaigns`]. Audited as `campaign.create`.
    pub async fn create_campaign(&self, actor: &Actor, input: &CampaignInput) -> Result<Campaign> {
        actor.require(Action::ManageCampaigns)?;
        let d = input.validate()?;
        let fy = FiscalYear::containing(self.record_day());
        let at = self.record_time();
        let goal_json = to_json(&d.goal)?;
        let target_json = to_json(&d.target)?;
        let id = write_tx!(self, |tx| {
            tx.serialise(LOCK_CAMPAIGN_NUMBER).await?;
            let targets = tx.resolve_targets(&d.target).await?;
            let seq = tx.next_seq(Series::Campaigns, fy).await?;
            let number = campaign_number(fy, seq);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO campaigns (number, fiscal_year, seq, title, goal_type, goal, target_spec, staged,
                 witness_required, description, status, created_by_id, created_by, started_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
            )
            .bind(&number)
            .bind(i64::from(fy.0))
            .bind(seq)
            .bind(d.title.as_str())
            .bind(d.goal.kind().code())
            .bind(&goal_json)
            .bind(&target_json)
            .bind(d.staged)
            .bind(d.witness_required)
            .bind(d.description.as_str())
            .bind(CampaignStatus::Open.code())
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            for (tid, _, kind) in &targets {
                let kind = TerminalKind::parse(kind).unwrap_or(TerminalKind::Business);
                sqlx::query(
                    "INSERT INTO campaign_targets (campaign_id, terminal_id, stage, status, updated_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(*tid)
                .bind(stage_of(kind, d.staged))
                .bind(TargetStatus::Pending.code())
                .bind(&actor.username)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            }
            let goal_value: Value = serde_json::to_value(&d.goal).unwrap_or(Value::Null);
            let target_value: Value = serde_json::to_value(&d.target).unwrap_or(Value::Null);
            tx.append_audit(
                &NewAuditEntry::new(actor, "campaign.create", "campaign", id).details(json!({
                    "number": number, "title": d.title, "goal": goal_value, "target": target_value,
                    "staged": d.staged, "witness_required": d.witness_required,
                    "description": d.description,
                    "terminal_ids": targets.iter().map(|t| t.0).collect::<Vec<_>>(),
                })),
            )
            .await?;
            id
        });
        self.campaign_row(id).await
    }

    /// Makes 実施済 (evidence `agent`) every 未実施/失敗 target whose latest inventory was received after the
    /// campaign started and proves its goal — from the inventory alone. Stage-2 targets of a staged
    /// campaign wait until every representative target is 実施済 or 対象外 (those verified in the same
    /// pass count). Nothing happens for a closed campaign or a free-form task. Each change is audited as
    /// `campaign.auto_verify` by `actor` (normally [`inventory_actor`]); needs [`Action::ViewCampaigns`].
    /// Returns the targets it verified.
    pub async fn refresh_campaign_from_inventories(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Vec<AutoVerified>> {
        let latest = self.latest_by_terminal().await?;
        self.refresh_with(actor, id, &latest).await
    }

    /// The seam for the inventory receiver: after an inventory of `terminal_id` is stored, refreshes every
    /// open campaign with that terminal as a 未実施/失敗 target (see
    /// [`Store::refresh_campaign_from_inventories`]). Call it with [`inventory_actor`].
    pub async fn refresh_campaigns_for_terminal(
        &self,
        actor: &Actor,
        terminal_id: i64,
    ) -> Result<Vec<AutoVerified>> {
        actor.require(Action::ViewCampaigns)?;
        let ids: Vec<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT c.id FROM campaigns c JOIN campaign_targets ct ON ct.campaign_id = c.id
             WHERE c.status = 'open' AND ct.terminal_id = $1 AND ct.status IN ('pending', 'failed')
             ORDER BY c.id"
        )
        .bind(terminal_id)
        .fetch_all(db)
        .await?);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let latest = self.latest_by_terminal().await?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.refresh_with(actor, id, &latest).await?);
        }
        Ok(out)
    }

    async fn refresh_with(
        &self,
        actor: &Actor,
        id: i64,
        latest: &HashMap<i64, StoredInventory>,
    ) -> Result<Vec<AutoVerified>> {
        actor.require(Action::ViewCampaigns)?;
        let campaign = self.campaign_row(id).await?;
        if !campaign.is_open() || !campaign.goal.provable_by_inventory() {
            return Ok(Vec::new());
        }
        // Candidates, judged outside the transaction (inventories never change once stored)...
        let statuses: Vec<(i64, String)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT terminal_id, status FROM campaign_targets WHERE campaign_id = $1 AND status IN ('pending', 'failed')"
        )
        .bind(id)
        .fetch_all(db)
        .await?
        });
        let mut candidates: Vec<(i64, &StoredInventory, GoalCheck)> = Vec::new();
        for (tid, _) in statuses {
            let Some(inv) = latest.get(&tid) else {
                continue;
            };
            if !received_after(&inv.received_at, &campaign.started_at) {
                continue;
            }
            let check = evaluate(&campaign.goal, &inv.snapshot);
            if check.met {
                candidates.push((tid, inv, check));
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        // ...and applied inside it, re-reading the status and the stage rule.
        let at = self.record_time();
        let verified = write_tx!(self, |tx| {
            let head = tx.head(id).await?;
            if head.require_open().is_err() {
                Vec::new()
            } else {
                let targets = tx.targets_state(id).await?;
                let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
                let stage1_blocked = head.staged && !open_stage1(&targets, &ids).is_empty();
                let mut done = Vec::new();
                for (tid, inv, check) in &candidates {
                    let Some(t) = targets.iter().find(|t| t.terminal_id == *tid) else {
                        continue;
                    };
                    if t.stage > 1 && stage1_blocked {
                        continue;
                    }
                    let changed = sqlx::query(
                        "UPDATE campaign_targets SET status = $1, evidence_kind = $2, inventory_id = $3,
                         work_entry_id = NULL, witness = '', witness_confirmed_by = NULL, witness_confirmed_at = NULL,
                         observed = $4, reason = $5, updated_by = $6, updated_at = $7
                         WHERE campaign_id = $8 AND terminal_id = $9 AND status IN ('pending', 'failed')",
                    )
                    .bind(TargetStatus::Done.code())
                    .bind(Evidence::Agent.code())
                    .bind(inv.id)
                    .bind(&check.observed)
                    .bind(&check.reason)
                    .bind(&actor.username)
                    .bind(&at)
                    .bind(id)
                    .bind(*tid)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        continue;
                    }
                    tx.append_audit(
                        &NewAuditEntry::new(actor, "campaign.auto_verify", "campaign", id).details(
                            json!({
                                "number": head.number, "terminal_id": tid, "hostname": t.hostname,
                                "from": t.status, "to": TargetStatus::Done.code(),
                                "evidence": Evidence::Agent.code(), "inventory_id": inv.id,
                                "received_at": inv.received_at, "observed": check.observed,
                                "reason": check.reason,
                            }),
                        ),
                    )
                    .await?;
                    done.push(AutoVerified {
                        campaign_id: id,
                        terminal_id: *tid,
                        hostname: t.hostname.clone(),
                        inventory_id: inv.id,
                    });
                }
                if !done.is_empty() {
                    sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
                        .bind(&at)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                done
            }
        });
        Ok(verified)
    }

    /// The SE's attestation of one target: 実施済 with a work-log entry (which, when it names terminals,
    /// must name this one; and a witness when the campaign wants one), 失敗 with a note, or back to
    /// 未実施. Evidence `attested` (never shown as agent-verified). 実施済 of a stage-2 target waits for the
    /// representative targets. Needs [`Action::AttestCampaign`]; audited as `campaign.attest`.
    pub async fn attest_target(
        &self,
        actor: &Actor,
        campaign_id: i64,
        terminal_id: i64,
        input: &AttestInput,
    ) -> Result<CampaignTarget> {
        actor.require(Action::AttestCampaign)?;
        let at = self.record_time();
        write_tx!(self, |tx| {
            let head = tx.head(campaign_id).await?;
            head.require_open()?;
            let d = input.validate(head.witness_required)?;
            let targets = tx.targets_state(campaign_id).await?;
            let Some(t) = targets.iter().find(|t| t.terminal_id == terminal_id) else {
                return Err(not_found(format!(
                    "展開 {} の対象端末 {terminal_id}",
                    head.number
                )));
            };
            if d.status == TargetStatus::Done && head.staged {
                check_stage(t.stage, &open_stage1(&targets, &[terminal_id]))?;
            }
            if let Some(w) = d.work_entry_id {
                tx.check_work_entry(w, terminal_id, &t.hostname).await?;
            }
            let evidence = match d.status {
                TargetStatus::Pending => None,
                _ => Some(Evidence::Attested.code()),
            };
            sqlx::query(
                "UPDATE campaign_targets SET status = $1, evidence_kind = $2, inventory_id = NULL, work_entry_id = $3,
                 witness = $4, witness_confirmed_by = NULL, witness_confirmed_at = NULL, observed = '', reason = '',
                 note = $5, updated_by = $6, updated_at = $7
                 WHERE campaign_id = $8 AND terminal_id = $9",
            )
            .bind(d.status.code())
            .bind(evidence)
            .bind(d.work_entry_id)
            .bind(d.witness.as_str())
            .bind(d.note.as_str())
            .bind(&actor.username)
            .bind(&at)
            .bind(campaign_id)
            .bind(terminal_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(campaign_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "campaign.attest", "campaign", campaign_id).details(
                    json!({
                        "number": head.number, "terminal_id": terminal_id, "hostname": t.hostname,
                        "from": t.status, "to": d.status.code(), "evidence": evidence,
                        "work_entry_id": d.work_entry_id, "witness": d.witness, "note": d.note,
                    }),
                ),
            )
            .await?;
        });
        self.campaign_target(campaign_id, terminal_id).await
    }

    /// Takes a terminal out of a campaign (対象外) with a reason (required). Needs
    /// [`Action::ManageCampaigns`]; audited as `campaign.exclude`.
    pub async fn exclude_target(
        &self,
        actor: &Actor,
        campaign_id: i64,
        terminal_id: i64,
        input: &ExcludeInput,
    ) -> Result<CampaignTarget> {
        actor.require(Action::ManageCampaigns)?;
        let reason = input.validate()?;
        let at = self.record_time();
        write_tx!(self, |tx| {
            let head = tx.head(campaign_id).await?;
            head.require_open()?;
            let targets = tx.targets_state(campaign_id).await?;
            let Some(t) = targets.iter().find(|t| t.terminal_id == terminal_id) else {
                return Err(not_found(format!(
                    "展開 {} の対象端末 {terminal_id}",
                    head.number
                )));
            };
            sqlx::query(
                "UPDATE campaign_targets SET status = $1, evidence_kind = NULL, inventory_id = NULL, work_entry_id = NULL,
                 witness = '', witness_confirmed_by = NULL, witness_confirmed_at = NULL, observed = '', reason = $2,
                 note = '', updated_by = $3, updated_at = $4
                 WHERE campaign_id = $5 AND terminal_id = $6",
            )
            .bind(TargetStatus::Excluded.code())
            .bind(reason.as_str())
            .bind(&actor.username)
            .bind(&at)
            .bind(campaign_id)
            .bind(terminal_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(campaign_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "campaign.exclude", "campaign", campaign_id).details(
                    json!({
                        "number": head.number, "terminal_id": terminal_id, "hostname": t.hostname,
                        "from": t.status, "to": TargetStatus::Excluded.code(), "reason": reason,
                    }),
                ),
            )
            .await?;
        });
        self.campaign_target(campaign_id, terminal_id).await
    }

    /// The prefecture confirms the witness (立会い) of an attested 実施済 target; when no witness name was
    /// recorded, the confirming user's login name becomes it. Needs [`Action::WitnessCampaign`]; audited as
    /// `campaign.witness`.
    pub async fn confirm_witness(
        &self,
        actor: &Actor,
        campaign_id: i64,
        terminal_id: i64,
    ) -> Result<CampaignTarget> {
        actor.require(Action::WitnessCampaign)?;
        let at = self.record_time();
        write_tx!(self, |tx| {
            let head = tx.head(campaign_id).await?;
            head.require_open()?;
            let targets = tx.targets_state(campaign_id).await?;
            let Some(t) = targets.iter().find(|t| t.terminal_id == terminal_id) else {
                return Err(not_found(format!(
                    "展開 {} の対象端末 {terminal_id}",
                    head.number
                )));
            };
            if t.status != TargetStatus::Done.code()
                || t.evidence_kind.as_deref() != Some(Evidence::Attested.code())
            {
                return Err(conflict(
                    "立会いを確認できるのは、SE申告で実施済になった端末だけです。",
                ));
            }
            let witness = if t.witness.trim().is_empty() {
                actor.username.clone()
            } else {
                t.witness.clone()
            };
            sqlx::query(
                "UPDATE campaign_targets SET witness = $1, witness_confirmed_by = $2, witness_confirmed_at = $3
                 WHERE campaign_id = $4 AND terminal_id = $5",
            )
            .bind(&witness)
            .bind(&actor.username)
            .bind(&at)
            .bind(campaign_id)
            .bind(terminal_id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "campaign.witness", "campaign", campaign_id).details(
                    json!({
                        "number": head.number, "terminal_id": terminal_id, "hostname": t.hostname,
                        "witness": witness,
                    }),
                ),
            )
            .await?;
        });
        self.campaign_target(campaign_id, terminal_id).await
    }

    /// Closes a campaign (完了) once every target is 実施済 or 対象外 with a reason; inventories are looked at
    /// once more first. Needs [`Action::ManageCampaigns`]; audited as `campaign.close`.
    pub async fn close_campaign(&self, actor: &Actor, id: i64) -> Result<Campaign> {
        actor.require(Action::ManageCampaigns)?;
        self.refresh_campaign_from_inventories(&inventory_actor(), id)
            .await?;
        let at = self.record_time();
        write_tx!(self, |tx| {
            let head = tx.head(id).await?;
            if head.status == CampaignStatus::Closed.code() {
                return Err(conflict("この展開は既に完了しています。"));
            }
            let targets = tx.targets_state(id).await?;
            let progress = progress_of(&targets);
            check_close(&progress)?;
            tx.update_from_state(
                sqlx::query(
                    "UPDATE campaigns SET status = $1, closed_at = $2, closed_by = $3, updated_at = $2
                     WHERE id = $4 AND status = $5",
                )
                .bind(CampaignStatus::Closed.code())
                .bind(&at)
                .bind(&actor.username),
                id,
                CampaignStatus::Open.code(),
            )
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "campaign.close", "campaign", id).details(json!({
                    "number": head.number, "total": progress.total, "done": progress.done,
                    "done_agent": progress.done_agent, "done_attested": progress.done_attested,
                    "excluded": progress.excluded,
                })),
            )
            .await?;
        });
        self.campaign_row(id).await
    }

    /// One target of a campaign.
    pub async fn campaign_target(
        &self,
        campaign_id: i64,
        terminal_id: i64,
    ) -> Result<CampaignTarget> {
        let sql = format!("{TARGET_SELECT} WHERE ct.campaign_id = $1 AND ct.terminal_id = $2");
        let row: Option<CampaignTarget> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(campaign_id)
                .bind(terminal_id)
                .fetch_optional(db)
                .await?);
        row.ok_or_else(|| not_found(format!("展開 {campaign_id} の対象端末 {terminal_id}")))
    }

    // -------------------------------------------------------------------------------------------- compliance

    /// The OS-build baseline of the compliance view, if set.
    pub async fn compliance_baseline(&self) -> Result<Option<String>> {
        Ok(self.meta(BASELINE_KEY).await?.filter(|s| !s.is_empty()))
    }

    /// Sets (or, with an empty value, clears) the OS-build baseline of the compliance view: one build per
    /// build line (see [`unyo_domain::campaign::validate_os_baseline`]). Needs
    /// [`Action::ManageCampaigns`]; audited as `compliance.baseline`.
    pub async fn set_compliance_baseline(&self, actor: &Actor, build: &str) -> Result<()> {
        actor.require(Action::ManageCampaigns)?;
        let b = unyo_domain::campaign::validate_os_baseline(build)?;
        let b = b.as_str();
        let old = self.compliance_baseline().await?;
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(BASELINE_KEY)
            .bind(b)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "compliance.baseline", "", "").details(json!({
                    "os_build_baseline": [old, b],
                })),
            )
            .await?;
        });
        Ok(())
    }

    /// The compliance grid now.
    pub async fn compliance_grid(&self, q: &ComplianceQuery) -> Result<ComplianceGrid> {
        self.compliance_grid_at(q, Utc::now()).await
    }

    /// The compliance grid as of `now` (which decides stale inventories): terminals in service (filtered
    /// by site and kind) × the items of the open campaigns and the baseline.
    pub async fn compliance_grid_at(
        &self,
        q: &ComplianceQuery,
        now_at: DateTime<Utc>,
    ) -> Result<ComplianceGrid> {
        let goals: Vec<(String, String)> = read_db!(self, |db| sqlx::query_as(
            "SELECT number, goal FROM campaigns WHERE status = 'open' ORDER BY id"
        )
        .fetch_all(db)
        .await?);
        let goals: Vec<(String, CampaignGoal)> = goals
            .into_iter()
            .filter_map(|(n, g)| serde_json::from_str(&g).ok().map(|g| (n, g)))
            .collect();
        let baseline = self.compliance_baseline().await?;
        let items = compliance_items(&goals, baseline.as_deref());
        let mut f = Filter::default();
        f.push("t.retired_at IS NULL".into());
        if let Some(site) = q.site_id {
            let p = f.bind(Param::Int(site));
            f.push(format!("t.site_id = {p}"));
        }
        if let Some(kind) = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let p = f.bind(Param::Text(kind.to_string()));
            f.push(format!("t.kind = {p}"));
        }
        let sql = format!(
            "SELECT t.id, t.hostname, t.site_id, s.name, t.kind FROM terminals t JOIN sites s ON s.id = t.site_id{}
             ORDER BY s.code, CASE WHEN t.kind = 'representative' THEN 0 ELSE 1 END, t.hostname_key",
            f.where_clause()
        );
        let terminals: Vec<(i64, String, i64, String, String)> = read_db!(self, |db| {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                .fetch_all(db)
                .await?
        });
        let latest = self.latest_by_terminal().await?;
        let rows = terminals
            .into_iter()
            .map(|(terminal_id, hostname, site_id, site_name, kind)| {
                let inv = latest.get(&terminal_id);
                let age = match inv {
                    None => InventoryAge::Missing,
                    Some(i) => inventory_age(
                        &i.snapshot,
                        instant(&i.received_at),
                        now_at,
                        crate::inventory::DEFAULT_STALE_DAYS,
                    ),
                };
                ComplianceRow {
                    terminal_id,
                    hostname,
                    site_id,
                    site_name,
                    kind,
                    inventory_id: inv.map(|i| i.id),
                    received_at: inv.map(|i| i.received_at.clone()),
                    stale: matches!(age, InventoryAge::Stale(..)),
                    cells: items
                        .iter()
                        .map(|item| compliance_cell(item, age))
                        .collect(),
                }
            })
            .collect();
        Ok(ComplianceGrid {
            items,
            rows,
            baseline,
            generated_at: unyo_domain::time::to_storage(now_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_order_of_instants() {
        assert_eq!(campaign_number(FiscalYear(2026), 1), "展-R8-001");
        assert_eq!(campaign_number(FiscalYear(2027), 12), "展-R9-012");
        assert!(received_after(
            "2026-05-01T00:00:00.000001Z",
            "2026-05-01T00:00:00.000000Z"
        ));
        assert!(!received_after(
            "2026-05-01T00:00:00.000000Z",
            "2026-05-01T00:00:00.000000Z"
        ));
        assert!(received_after(
            "2026-05-01T09:00:00+09:00",
            "2026-04-30T23:59:59Z"
        ));
    }
}
