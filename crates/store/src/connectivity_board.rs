//! What the connectivity status board needs to know whether its snapshot is still current, in one cheap
//! query (see the web crate's `pages::connectivity::board`).
//!
//! The board is built from the checks in service with their states, the maintenance windows, the network
//! nodes, the registry's names, the latest state changes and the latest check-result sheets. Each of those
//! leaves a trace in a few aggregates: a new state change raises the largest event id; a check or window
//! created, changed or retired changes its table's row count, number retired or latest `updated_at`; a
//! renamed or retired terminal or site bumps `registry_version` (triggers, see migration 0009); a node
//! changed moves its table's latest `updated_at`. The last results (`last_ts`, latency) are deliberately
//! not part of it: they change with every result, and the board bounds their age by time instead.

use crate::{Result, Store};
use serde::Serialize;

/// The aggregates [`Store::board_fingerprint`] reads. Two equal fingerprints mean nothing the board shows
/// has changed, apart from the checks' last results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BoardFingerprint {
    /// The largest state-change event id (0: none).
    pub last_event: i64,
    /// Checks, in service or retired.
    pub checks: i64,
    pub checks_retired: i64,
    pub checks_updated: Option<String>,
    /// Maintenance windows, in force or retired.
    pub windows: i64,
    pub windows_retired: i64,
    pub windows_updated: Option<String>,
    /// Network nodes (their names and the path tree).
    pub nodes: i64,
    pub nodes_updated: Option<String>,
    /// The registry's version (terminals and sites; bumped by triggers).
    pub registry_version: i64,
    /// The largest check-result sheet id (0: none).
    pub last_sheet: i64,
}

impl Store {
    /// Reads the status board's [`BoardFingerprint`] in one query: an index lookup for the largest event
    /// and sheet ids and the registry version, one pass over the checks' rows for their count and latest
    /// change (about 100,000 rows at the goal's scale: milliseconds), and the small window and node tables.
    pub async fn board_fingerprint(&self) -> Result<BoardFingerprint> {
        Ok(read_db!(self, |db| sqlx::query_as(
            "SELECT e.last_event, c.checks, c.checks_retired, c.checks_updated,
                    w.windows, w.windows_retired, w.windows_updated,
                    n.nodes, n.nodes_updated, r.registry_version, s.last_sheet
             FROM (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS last_event FROM check_events) e,
                  (SELECT CAST(COUNT(*) AS BIGINT) AS checks,
                          CAST(COUNT(retired_at) AS BIGINT) AS checks_retired,
                          MAX(updated_at) AS checks_updated
                   FROM connectivity_checks) c,
                  (SELECT CAST(COUNT(*) AS BIGINT) AS windows,
                          CAST(COUNT(retired_at) AS BIGINT) AS windows_retired,
                          MAX(updated_at) AS windows_updated
                   FROM maintenance_windows) w,
                  (SELECT CAST(COUNT(*) AS BIGINT) AS nodes, MAX(updated_at) AS nodes_updated
                   FROM network_nodes) n,
                  (SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS registry_version
                   FROM registry_version) r,
                  (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS last_sheet FROM check_sheets) s"
        )
        .fetch_one(db)
        .await?))
    }
}
