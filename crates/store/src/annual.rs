//! Purpose-built reads of one fiscal year for the council pack (本人確認情報保護審議会資料): the connectivity
//! checks' state changes from which the pack derives every outage window, the accounts' second-factor use,
//! and the vulnerability overview (in `vulns`). Each is one or two queries, not a walk through the UI's
//! paged lists.

use crate::connectivity::WindowRecord;
use crate::registry::Status;
use crate::{Result, Store};
use serde::Serialize;

/// A connectivity check as the pack places it: its site and the nodes its way passes.
#[derive(Debug, Clone, Serialize)]
pub struct MonitoredCheck {
    pub check_id: i64,
    pub name: String,
    /// The site of its terminal or node; `None` for checks of nodes without a site (the centre's servers).
    pub site_id: Option<i64>,
    /// Its own node (node checks) and the nodes up to the root: what a maintenance window may name.
    pub nodes: Vec<i64>,
    /// When it was first evaluated (its first state change, Unix seconds): monitoring starts there.
    pub first_change: Option<i64>,
}

/// One state change of a check.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StateChange {
    pub check_id: i64,
    /// Unix seconds.
    pub ts: i64,
    /// `up`, `degraded`, `down`, `unknown`.
    pub to_state: String,
    pub cause: String,
    /// Evaluated inside a maintenance window.
    pub maintenance: bool,
    /// The incident the engine opened (or repeated) for it.
    pub incident_id: Option<i64>,
    /// The node on the way that cut the check off (影響).
    pub impacted_by_name: Option<String>,
}

/// Everything the pack needs to account for the year's outages.
#[derive(Debug, Clone, Serialize)]
pub struct YearMonitoring {
    pub checks: Vec<MonitoredCheck>,
    /// The last change of each check before the period, then every change inside it; by check and time.
    pub changes: Vec<StateChange>,
    /// Every maintenance window, retired ones too (a past outage may have fallen into one since retired).
    pub windows: Vec<WindowRecord>,
    /// The newest result the engine kept (Unix seconds): an outage still going on is counted up to here.
    pub last_result_at: Option<i64>,
}

/// How many accounts there are and how many of them use a second factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AccountFigures {
    /// Accounts not disabled.
    pub active: i64,
    /// Of those, with TOTP enabled.
    pub with_second_factor: i64,
}

impl Store {
    /// The checks, their state changes between `from` and `to` (Unix seconds, half-open) with the last
    /// change before `from` of each check, and the maintenance windows: the raw material of the pack's
    /// outage windows and availability (`documents::annual`).
    pub async fn year_monitoring(&self, from: i64, to: i64) -> Result<YearMonitoring> {
        let topology = self.check_topology().await?;
        let names: Vec<(i64, String, Option<i64>)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT c.id, c.name, (SELECT MIN(e.ts) FROM check_events e WHERE e.check_id = c.id)
             FROM connectivity_checks c ORDER BY c.id"
        )
        .fetch_all(db)
        .await?
        });
        let node_sites: Vec<(i64, Option<i64>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT id, site_id FROM network_nodes"
        )
        .fetch_all(db)
        .await?);
        let topology: std::collections::HashMap<i64, _> =
            topology.into_iter().map(|t| (t.check_id, t)).collect();
        let node_sites: std::collections::HashMap<i64, Option<i64>> =
            node_sites.into_iter().collect();
        let checks = names
            .into_iter()
            .map(|(id, name, first)| {
                let t = topology.get(&id);
                let own = t.and_then(|t| t.own_node);
                let site_id = t
                    .and_then(|t| t.site_id)
                    .or_else(|| own.and_then(|n| node_sites.get(&n).copied().flatten()));
                let mut nodes: Vec<i64> = own.into_iter().collect();
                nodes.extend(t.map(|t| t.path.clone()).unwrap_or_default());
                MonitoredCheck {
                    check_id: id,
                    name,
                    site_id,
                    nodes,
                    first_change: first,
                }
            })
            .collect();
        let changes: Vec<StateChange> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT e.check_id, e.ts, e.to_state, e.cause, e.maintenance, e.incident_id,
                    n.name AS impacted_by_name
             FROM check_events e LEFT JOIN network_nodes n ON n.id = e.impacted_by
             WHERE (e.ts >= $1 AND e.ts < $2)
                OR e.ts = (SELECT MAX(p.ts) FROM check_events p WHERE p.check_id = e.check_id AND p.ts < $1)
             ORDER BY e.check_id, e.ts, e.id"
        )
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await?
        });
        let last_result_at: Option<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT MAX(ts) FROM check_last"
        )
        .fetch_one(db)
        .await?);
        let windows = self.maintenance_window_records(Status::All).await?;
        Ok(YearMonitoring {
            checks,
            changes,
            windows,
            last_result_at,
        })
    }

    /// Accounts in use and how many of them sign in with a second factor (TOTP).
    pub async fn account_figures(&self) -> Result<AccountFigures> {
        let (active, with): (i64, i64) = read_db!(self, |db| sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN totp_enabled THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM users WHERE disabled_at IS NULL"
        )
        .fetch_one(db)
        .await?);
        Ok(AccountFigures {
            active,
            with_second_factor: with,
        })
    }
}
