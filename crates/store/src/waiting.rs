//! What waits for someone: the counts the home page answers "what needs me now?" with, one cheap query
//! each, chosen by the person's role.

use crate::records::MonthlyRecord;
use crate::{Param, Result, Store};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use unyo_domain::Role;
use unyo_domain::records::Month;

/// What one item counts. The page words it; the store only counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingKind {
    /// 県職員: requests the SE reported done, waiting for the prefecture's 確認.
    RequestsToConfirm,
    /// 県職員: monthly records whose next step of the route is this person's (or open to anyone).
    RecordsToConfirm,
    /// 県職員: incidents recovered and waiting for a witness (立会い).
    IncidentsToWitness,
    /// SE: requests filed and not yet accepted.
    RequestsToAccept,
    /// SE: requests sent back (差戻し) to be worked on again.
    RequestsReturned,
    /// SE: requests accepted or in progress assigned to this person.
    RequestsInProgress,
    /// SE: accepted or in-progress requests planned for today.
    PlannedToday,
    /// SE: connectivity checks in service whose state is not 正常.
    ChecksNotUp,
    /// SE: targets of open campaigns not yet done.
    CampaignTargetsPending,
    /// SE: last month's records not yet submitted (or sent back), due around the 10th.
    RecordsToSubmit,
    /// SE: inventories waiting for review (not matched to a terminal).
    InventoriesToReview,
    /// 管理者: accounts locked after failed logins.
    AccountsLocked,
    /// 管理者: agents that have not reported for more than [`SILENT_AGENT_DAYS`] days.
    AgentsSilent,
    /// 監査: data exports in the last [`RECENT_DAYS`] days.
    RecentExports,
    /// 監査: failed logins in the last [`RECENT_DAYS`] days.
    RecentLoginFailures,
}

/// One count of the home page, with where it is dealt with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingItem {
    pub kind: WaitingKind,
    pub count: i64,
    /// The page (with its filter) where the items are dealt with.
    pub href: String,
    /// For [`WaitingKind::RecordsToSubmit`]: the month concerned and its due day.
    pub month: Option<Month>,
    pub due: Option<NaiveDate>,
}

impl WaitingItem {
    fn new(kind: WaitingKind, count: i64, href: impl Into<String>) -> WaitingItem {
        WaitingItem {
            kind,
            count,
            href: href.into(),
            month: None,
            due: None,
        }
    }
}

/// The state of the system an administrator looks after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Housekeeping {
    /// When the audit chain was last verified and whether it was intact (`None`: never).
    pub chain_verified: Option<(String, bool)>,
    /// When the last backup was written (`None`: never, or not recorded by this database).
    pub last_backup: Option<String>,
    /// Size of the database in bytes, where the backend reports it.
    pub database_bytes: Option<i64>,
}

/// Agents silent for longer than this many days are listed for the administrator.
pub const SILENT_AGENT_DAYS: i64 = 7;
/// How far back the auditor's counts look.
pub const RECENT_DAYS: i64 = 30;
/// The day of the following month a monthly record is due (the specification: 「翌月10日頃」).
pub const RECORD_DUE_DAY: u32 = 10;

/// The `meta` key of the last audit-chain verification (`<instant> ok|broken`).
pub const CHAIN_VERIFIED_KEY: &str = "audit.chain_verified";
/// The `meta` key of the last backup's instant.
pub const LAST_BACKUP_KEY: &str = "backup.last_at";

impl Store {
    /// What waits for the person `user_id` with `role` on `today` (JST) at `now`: the counts of their
    /// role, in the order the home page shows them; items with nothing waiting are kept (count 0) so the
    /// page can say so.
    pub async fn waiting_for(
        &self,
        user_id: i64,
        role: Role,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<WaitingItem>> {
        use WaitingKind::*;
        let mut out = Vec::new();
        match role {
            Role::Staff => {
                out.push(WaitingItem::new(
                    RequestsToConfirm,
                    self.count(
                        "SELECT COUNT(*) FROM requests WHERE status = 'completed'",
                        None,
                    )
                    .await?,
                    "/requests?status=completed",
                ));
                out.push(WaitingItem::new(
                    RecordsToConfirm,
                    self.records_awaiting(user_id).await?,
                    "/records",
                ));
                out.push(WaitingItem::new(
                    IncidentsToWitness,
                    self.count(
                        "SELECT COUNT(*) FROM incidents WHERE stage = 'recovered'",
                        None,
                    )
                    .await?,
                    "/incidents?stage=recovered",
                ));
            }
            Role::Se | Role::Admin => {
                out.push(WaitingItem::new(
                    RequestsToAccept,
                    self.count(
                        "SELECT COUNT(*) FROM requests WHERE status = 'requested'",
                        None,
                    )
                    .await?,
                    "/requests?status=requested",
                ));
                out.push(WaitingItem::new(
                    RequestsReturned,
                    self.count(
                        "SELECT COUNT(*) FROM requests WHERE status = 'returned'",
                        None,
                    )
                    .await?,
                    "/requests?status=returned",
                ));
                out.push(WaitingItem::new(
                    RequestsInProgress,
                    self.count(
                        "SELECT COUNT(*) FROM requests
                         WHERE status IN ('accepted', 'in_progress') AND assignee_id = $1",
                        Some(Param::Int(user_id)),
                    )
                    .await?,
                    format!("/requests?open=1&assignee_id={user_id}"),
                ));
                out.push(WaitingItem::new(
                    PlannedToday,
                    self.count(
                        "SELECT COUNT(*) FROM requests
                         WHERE status IN ('accepted', 'in_progress') AND planned_date = $1",
                        Some(Param::Text(today.format("%Y-%m-%d").to_string())),
                    )
                    .await?,
                    "/work/calendar",
                ));
                out.push(WaitingItem::new(
                    ChecksNotUp,
                    self.count(
                        "SELECT COUNT(*) FROM connectivity_checks
                         WHERE retired_at IS NULL AND enabled = TRUE AND state IN ('down', 'degraded')",
                        None,
                    )
                    .await?,
                    "/connectivity",
                ));
                out.push(WaitingItem::new(
                    CampaignTargetsPending,
                    self.count(
                        "SELECT COUNT(*) FROM campaign_targets t JOIN campaigns c ON c.id = t.campaign_id
                         WHERE c.status = 'open' AND t.status IN ('pending', 'failed')",
                        None,
                    )
                    .await?,
                    "/campaigns?status=open",
                ));
                let (to_submit, month, due) = self.records_to_submit(today).await?;
                out.push(WaitingItem {
                    month: Some(month),
                    due: Some(due),
                    ..WaitingItem::new(RecordsToSubmit, to_submit, "/records")
                });
                out.push(WaitingItem::new(
                    InventoriesToReview,
                    self.count(
                        "SELECT COUNT(*) FROM inventory_review WHERE resolved_at IS NULL",
                        None,
                    )
                    .await?,
                    "/inventory/review",
                ));
                if role == Role::Admin {
                    out.push(WaitingItem::new(
                        AccountsLocked,
                        self.count(
                            "SELECT COUNT(*) FROM users WHERE disabled_at IS NULL AND locked_until > $1",
                            Some(Param::Text(unyo_domain::time::to_storage(now))),
                        )
                        .await?,
                        "/users",
                    ));
                    out.push(WaitingItem::new(
                        AgentsSilent,
                        self.count(
                            "SELECT COUNT(*) FROM inventory_agents a
                             JOIN agent_credentials c ON c.id = a.agent_credential_id
                             WHERE c.revoked_at IS NULL AND a.last_contact_at < $1",
                            Some(Param::Text(unyo_domain::time::to_storage(
                                now - Duration::days(SILENT_AGENT_DAYS),
                            ))),
                        )
                        .await?,
                        "/inventory/agents",
                    ));
                }
            }
            Role::Auditor => {
                let since = Param::Text(unyo_domain::time::to_storage(
                    now - Duration::days(RECENT_DAYS),
                ));
                out.push(WaitingItem::new(
                    RecentExports,
                    self.count(
                        "SELECT COUNT(*) FROM audit_log WHERE at >= $1
                         AND (action LIKE 'export.%' OR action IN ('attachment.download', 'record.download'))",
                        Some(since.clone()),
                    )
                    .await?,
                    "/audit?action=export.",
                ));
                out.push(WaitingItem::new(
                    RecentLoginFailures,
                    self.count(
                        "SELECT COUNT(*) FROM audit_log WHERE at >= $1
                         AND action IN ('login.failure', 'login.failure_burst', 'login.lockout')",
                        Some(since),
                    )
                    .await?,
                    "/audit?action=login.",
                ));
            }
        }
        Ok(out)
    }

    /// The administrator's view of the system: the last chain verification and backup, and the
    /// database's size.
    pub async fn housekeeping(&self) -> Result<Housekeeping> {
        let chain_verified = self.meta(CHAIN_VERIFIED_KEY).await?.and_then(|v| {
            let (at, state) = v.split_once(' ')?;
            Some((at.to_string(), state == "ok"))
        });
        let last_backup = self.meta(LAST_BACKUP_KEY).await?;
        let size_sql = if self.backend_name() == "sqlite" {
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        } else {
            "SELECT pg_database_size(current_database())"
        };
        let database_bytes: Option<i64> = read_db!(self, |db| sqlx::query_scalar(size_sql)
            .fetch_optional(db)
            .await?);
        Ok(Housekeeping {
            chain_verified,
            last_backup,
            database_bytes,
        })
    }

    /// Walks the audit chain ([`Store::verify_audit_chain`]) and remembers when and with what result, so
    /// the administrator's home can tell how long ago the chain was last checked without walking it.
    pub async fn verify_and_record_audit_chain(&self) -> Result<crate::audit::ChainReport> {
        let report = self.verify_audit_chain().await?;
        let state = match report {
            crate::audit::ChainReport::Intact { .. } => "ok",
            crate::audit::ChainReport::Broken { .. } => "broken",
        };
        self.set_meta(
            CHAIN_VERIFIED_KEY,
            &format!("{} {state}", unyo_domain::time::to_storage(Utc::now())),
        )
        .await?;
        Ok(report)
    }

    /// Writes a backup ([`Store::backup_to`]) and remembers when.
    pub async fn backup_and_record(&self, to: &std::path::Path) -> Result<()> {
        self.backup_to(to).await?;
        self.set_meta(LAST_BACKUP_KEY, &unyo_domain::time::to_storage(Utc::now()))
            .await
    }

    async fn count(&self, sql: &'static str, param: Option<Param>) -> Result<i64> {
        let params: Vec<Param> = param.into_iter().collect();
        Ok(read_db!(self, |db| bind_params!(
            sqlx::query_scalar::<_, i64>(sql),
            params
        )
        .fetch_one(db)
        .await?))
    }

    /// Submitted records whose next step is `user_id`'s, or open to anyone of the prefecture.
    async fn records_awaiting(&self, user_id: i64) -> Result<i64> {
        let submitted: Vec<MonthlyRecord> = self.submitted_monthly_records().await?;
        let n = submitted
            .iter()
            .filter(|r| {
                r.next_step()
                    .is_some_and(|(_, step)| step.user_id.is_none_or(|u| u == user_id))
            })
            .count();
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Contracts in force last month whose record of that month is neither submitted nor confirmed (or
    /// was sent back); with the month and its due day.
    async fn records_to_submit(&self, today: NaiveDate) -> Result<(i64, Month, NaiveDate)> {
        let this = Month::of(today);
        let last = Month::of(this.first_day().pred_opt().unwrap_or(today));
        let due = this
            .first_day()
            .with_day(RECORD_DUE_DAY)
            .unwrap_or_else(|| this.first_day());
        let first = last.first_day().format("%Y-%m-%d").to_string();
        let end = last.last_day().format("%Y-%m-%d").to_string();
        let n: i64 = read_db!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM contracts c
             WHERE c.term_start <= $2 AND c.term_end >= $1
             AND NOT EXISTS (SELECT 1 FROM monthly_records m WHERE m.contract_id = c.id
                 AND m.year = $3 AND m.month = $4 AND m.status IN ('submitted', 'confirmed'))"
        )
        .bind(&first)
        .bind(&end)
        .bind(i64::from(last.year))
        .bind(i64::from(last.month))
        .fetch_one(db)
        .await?);
        Ok((n, last, due))
    }
}
