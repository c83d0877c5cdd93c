//! Connectivity checks (疎通確認, R5): checks on registered targets, compact raw results appended in batches,
//! hourly and daily roll-ups kept for years, state-change events, maintenance windows, availability per site
//! and month.
//!
//! Raw results and events are machine observations written by the engine (acting as `Actor::system`); they are
//! not audited one by one (that would be one audit entry per probe). Creating checks, and creating, changing and
//! retiring maintenance windows and notification channels, is audited as usual. Nothing is deleted: a retired
//! window no longer applies and a retired channel is no longer notified, but both stay listed.

use crate::audit::{AuditSink, NewAuditEntry};
pub use crate::check_results::Sealed;
use crate::kit::diff;
use crate::registry::Status;
use crate::{Actor, Result, Store, StoreError, now};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use unyo_domain::connectivity::{
    CheckInput, CheckSettings, MaintenanceWindow, ProbeSpec, ProbeStatus, Recurrence, State,
    TargetKind,
};
use unyo_domain::registry::upstream_path;
use unyo_domain::{Action, DomainError, FieldError};

/// A check as listed and shown, with its current state.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CheckRow {
    pub id: i64,
    pub name: String,
    pub target_kind: String,
    pub target_id: i64,
    pub kind: String,
    pub spec: String,
    pub interval_s: i64,
    pub timeout_ms: i64,
    pub retries: i64,
    pub degraded_ms: i64,
    pub flap_n: i64,
    pub enabled: bool,
    pub state: String,
    pub state_since: Option<i64>,
    pub impacted_by: Option<i64>,
    pub last_ts: Option<i64>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_message: String,
    pub created_at: String,
    /// The target's name (terminal hostname or node name).
    pub target_name: Option<String>,
    /// The site of the target.
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
}

impl CheckRow {
    /// The probe spec (stored as JSON).
    pub fn probe_spec(&self) -> Option<ProbeSpec> {
        serde_json::from_str(&self.spec).ok()
    }

    /// Timing and thresholds.
    pub fn settings(&self) -> CheckSettings {
        let u = |v: i64| u32::try_from(v).unwrap_or(0);
        CheckSettings {
            interval_s: u(self.interval_s),
            timeout_ms: u(self.timeout_ms),
            retries: u(self.retries),
            degraded_ms: u(self.degraded_ms),
            flap_n: u(self.flap_n),
        }
    }

    /// The current state.
    pub fn current_state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Unknown)
    }

    /// Whether the last result was 影響 (a node on the path is down).
    pub fn impacted(&self) -> bool {
        self.last_status.is_some_and(|s| s & 8 != 0)
    }

    /// Whether the last result fell in a maintenance window.
    pub fn in_maintenance(&self) -> bool {
        self.last_status.is_some_and(|s| s & 4 != 0)
    }
}

const CHECK_SELECT: &str = "SELECT c.id, c.name, c.target_kind, c.target_id, c.kind, c.spec, c.interval_s,
    c.timeout_ms, c.retries, c.degraded_ms, c.flap_n, c.enabled, c.state, c.state_since, c.impacted_by, l.ts AS last_ts,
    l.status AS last_status, l.latency_ms AS last_latency_ms, c.last_message, c.created_at,
    COALESCE(t.hostname, n.name) AS target_name,
    COALESCE(t.site_id, n.site_id) AS site_id,
    s.name AS site_name
    FROM connectivity_checks c
    LEFT JOIN terminals t ON c.target_kind = 'terminal' AND t.id = c.target_id
    LEFT JOIN network_nodes n ON c.target_kind = 'node' AND n.id = c.target_id
    LEFT JOIN sites s ON s.id = COALESCE(t.site_id, n.site_id)
    LEFT JOIN check_last l ON l.check_id = c.id";

/// A check in service as the status board needs it: its state and last result, its target and its site
/// (code and name), without the settings. See [`Store::board_checks`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BoardCheck {
    pub id: i64,
    pub name: String,
    pub target_kind: String,
    pub target_id: i64,
    pub spec: String,
    pub state: String,
    pub state_since: Option<i64>,
    pub impacted_by: Option<i64>,
    pub last_ts: Option<i64>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    /// The target's name (terminal hostname or node name).
    pub target_name: Option<String>,
    pub site_id: Option<i64>,
    pub site_code: Option<String>,
    pub site_name: Option<String>,
}

impl BoardCheck {
    /// The current state.
    pub fn current_state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Unknown)
    }

    /// Whether the last result fell in a maintenance window.
    pub fn in_maintenance(&self) -> bool {
        self.last_status.is_some_and(|s| s & 4 != 0)
    }

    /// The probe spec (stored as JSON).
    pub fn probe_spec(&self) -> Option<ProbeSpec> {
        serde_json::from_str(&self.spec).ok()
    }
}

/// Where a check sits in the 集約ネットワーク (for path awareness and maintenance scopes).
#[derive(Debug, Clone, Serialize)]
pub struct CheckTopology {
    pub check_id: i64,
    pub site_id: Option<i64>,
    /// The node itself, for a check on a network node.
    pub own_node: Option<i64>,
    /// The nodes between the target and the root, nearest first (not including `own_node`).
    pub path: Vec<i64>,
}

/// One raw result to append.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NewResult {
    pub check_id: i64,
    /// Unix seconds.
    pub ts: i64,
    /// Status code with flags (bits 0–1 status, 4 maintenance, 8 影響).
    pub code: i16,
    pub latency_ms: Option<u32>,
}

/// A stored raw result.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ResultRow {
    pub check_id: i64,
    pub ts: i64,
    pub status: i64,
    pub latency_ms: Option<i64>,
}

impl ResultRow {
    /// The probe status without flags.
    pub fn probe_status(&self) -> ProbeStatus {
        ProbeStatus::from_code(self.status & 3)
    }
}

/// A state change to record.
#[derive(Debug, Clone, Serialize)]
pub struct NewEvent {
    pub check_id: i64,
    pub ts: i64,
    pub from: State,
    pub to: State,
    pub cause: String,
    pub impacted_by: Option<i64>,
    pub maintenance: bool,
    /// The results behind the change, as JSON.
    pub results: serde_json::Value,
    /// The last result's message (kept on the check).
    pub message: String,
}

/// A stored event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub check_id: i64,
    pub check_name: String,
    pub ts: i64,
    pub from_state: String,
    pub to_state: String,
    pub cause: String,
    pub impacted_by: Option<i64>,
    pub impacted_by_name: Option<String>,
    pub maintenance: bool,
    pub incident_id: Option<i64>,
    pub results: String,
}

/// A roll-up bucket.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct RollupRow {
    pub check_id: i64,
    pub grain: i64,
    pub bucket: i64,
    pub up: i64,
    pub degraded: i64,
    pub down: i64,
    pub unknown: i64,
    pub maintenance: i64,
    pub impacted: i64,
    pub latency_sum: i64,
    pub latency_n: i64,
    pub latency_max: i64,
}

/// One site in one month (JST): its checks' results counted by state, and its 停止時間 and 稼働率 from
/// the outage windows ([`crate::outages`]) — the one definition the board, the 業務実績簿 and the council
/// pack all show.
#[derive(Debug, Clone, Serialize)]
pub struct SiteMonth {
    pub site_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Results by state (maintenance apart).
    pub up: i64,
    pub degraded: i64,
    pub down: i64,
    pub maintenance: i64,
    /// Minutes monitored in the month (from the site's first evaluated check, up to the cut-off).
    pub monitored_minutes: i64,
    /// Minutes the site was down outside maintenance windows.
    pub down_minutes: i64,
    /// Percent, `None` when the site was not monitored in the month.
    pub availability: Option<f64>,
}

/// A maintenance window as stored: id, title, site, node, check, recurrence JSON, created by, created at,
/// updated at, retired at.
type WindowRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

const WINDOW_SELECT: &str =
    "SELECT id, title, site_id, node_id, check_id, recurrence, created_by, created_at,
    updated_at, retired_at FROM maintenance_windows";

/// A maintenance window with its record: who created it, when it was last changed, whether it is retired.
/// Serialised flat (the window's fields, then these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowRecord {
    #[serde(flatten)]
    pub window: MaintenanceWindow,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: Option<String>,
    /// Set once retired: a retired window no longer applies.
    pub retired_at: Option<String>,
}

fn window_record(row: WindowRow) -> Option<WindowRecord> {
    let (
        id,
        title,
        site_id,
        node_id,
        check_id,
        rec,
        created_by,
        created_at,
        updated_at,
        retired_at,
    ) = row;
    let when: Recurrence = serde_json::from_str(&rec).ok()?;
    Some(WindowRecord {
        window: MaintenanceWindow {
            id,
            title,
            site_id,
            node_id,
            check_id,
            when,
        },
        created_by,
        created_at,
        updated_at,
        retired_at,
    })
}

/// A window's fields as kept in its audit entries.
fn window_json(w: &MaintenanceWindow) -> serde_json::Value {
    json!({"title": w.title.trim(), "site_id": w.site_id, "node_id": w.node_id, "check_id": w.check_id,
           "when": w.when})
}

/// A retire reason: required, and no personal identifiers (as for the registry).
fn retire_reason(reason: &str) -> Result<String> {
    Ok(unyo_domain::registry::validate_retire_reason(reason)?
        .as_str()
        .to_string())
}

/// Roll-up grains.
pub const HOUR: i64 = 3600;
/// One JST day.
pub const DAY: i64 = 86_400;
/// The most rows the retention deletes in one transaction: a few tens of milliseconds of work, so the
/// engine's commits never wait long behind it.
pub const PRUNE_CHUNK: i64 = 5_000;
const JST_OFFSET: i64 = 9 * 3600;

/// The bucket of `ts` at `grain` (days are JST days).
pub fn bucket_of(ts: i64, grain: i64) -> i64 {
    if grain == DAY {
        (ts + JST_OFFSET).div_euclid(DAY)
    } else {
        ts.div_euclid(grain)
    }
}

/// The fields of a maintenance window's draft that name a site, node or check that is not (or no longer)
/// registered, read on the write transaction `$tx` so the check and the write see the same rows (a
/// target retired meanwhile cannot slip through). Expands the same code for each backend.
macro_rules! window_target_errors {
    ($tx:expr, $w:expr) => {{
        let mut errors: Vec<FieldError> = Vec::new();
        if let Some(id) = $w.site_id {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sites WHERE id = $1 AND retired_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *$tx)
            .await?;
            if n == 0 {
                errors.push(FieldError::new(
                    "site_id",
                    format!("拠点 {id} は登録されていません。"),
                ));
            }
        }
        if let Some(id) = $w.node_id {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM network_nodes WHERE id = $1 AND retired_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *$tx)
            .await?;
            if n == 0 {
                errors.push(FieldError::new(
                    "node_id",
                    format!("ネットワーク機器 {id} は登録されていません。"),
                ));
            }
        }
        if let Some(id) = $w.check_id {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM connectivity_checks WHERE id = $1 AND retired_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *$tx)
            .await?;
            if n == 0 {
                errors.push(FieldError::new(
                    "check_id",
                    format!("疎通確認 {id} は登録されていません。"),
                ));
            }
        }
        errors
    }};
}

/// A window's own rules ([`MaintenanceWindow::validate`]) as a list of field errors, so that the
/// target checks can add theirs to one refusal.
fn window_rule_errors(w: &MaintenanceWindow) -> Result<Vec<FieldError>> {
    match w.validate() {
        Ok(()) => Ok(Vec::new()),
        Err(DomainError::Validation(e)) => Ok(e),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Creates a check on a registered terminal or node. The address must be the target's registered IP
    /// (probes reach only registered targets). Needs [`Action::ManageChecks`]; audited as `check.create`.
    pub async fn create_check(&self, actor: &Actor, input: &CheckInput) -> Result<CheckRow> {
        actor.require(Action::ManageChecks)?;
        let registered: Option<String> = match TargetKind::parse(input.target_kind.trim()) {
            Some(TargetKind::Terminal) => {
                let t = self.terminal(input.target_id).await?;
                if t.retired_at.is_some() {
                    return Err(DomainError::NotFound(format!("端末 {}", input.target_id)).into());
                }
                t.ip_address
            }
            Some(TargetKind::Node) => {
                let n = self.node(input.target_id).await?;
                if n.retired_at.is_some() {
                    return Err(DomainError::NotFound(format!(
                        "ネットワーク機器 {}",
                        input.target_id
                    ))
                    .into());
                }
                n.ip_address
            }
            None => None,
        };
        let d = input.validate(registered.as_deref())?;
        let spec = serde_json::to_string(&d.spec).map_err(StoreError::wrap)?;
        let at = now();
        let s = d.settings;
        let id: i64 = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO connectivity_checks (name, target_kind, target_id, kind, spec, interval_s, timeout_ms,
                 retries, degraded_ms, flap_n, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(&d.name)
            .bind(d.target_kind.as_str())
            .bind(d.target_id)
            .bind(d.spec.kind().as_str())
            .bind(&spec)
            .bind(i64::from(s.interval_s))
            .bind(i64::from(s.timeout_ms))
            .bind(i64::from(s.retries))
            .bind(i64::from(s.degraded_ms))
            .bind(i64::from(s.flap_n))
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "check.create", "check", id).details(json!({
                    "name": d.name, "target_kind": d.target_kind.as_str(), "target_id": d.target_id,
                    "spec": d.spec, "settings": d.settings,
                })),
            )
            .await?;
            id
        });
        self.check(id).await
    }

    /// Creates many checks at once, all or nothing: each validated as [`Store::create_check`] does (the
    /// address must be the target's registered IP; the registered addresses are read in one query per
    /// target kind), inserted in one transaction, each audited as `check.create` (entries appended in
    /// batches). Returns the new ids in the order given. Needs [`Action::ManageChecks`].
    pub async fn create_checks(&self, actor: &Actor, inputs: &[CheckInput]) -> Result<Vec<i64>> {
        actor.require(Action::ManageChecks)?;
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let ips: Vec<(i64, Option<String>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT id, ip_address FROM terminals WHERE retired_at IS NULL"
        )
        .fetch_all(db)
        .await?);
        let terminals: HashMap<i64, Option<String>> = ips.into_iter().collect();
        let ips: Vec<(i64, Option<String>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT id, ip_address FROM network_nodes WHERE retired_at IS NULL"
        )
        .fetch_all(db)
        .await?);
        let nodes: HashMap<i64, Option<String>> = ips.into_iter().collect();
        let mut drafts = Vec::with_capacity(inputs.len());
        for input in inputs {
            let registered = match TargetKind::parse(input.target_kind.trim()) {
                Some(TargetKind::Terminal) => terminals
                    .get(&input.target_id)
                    .ok_or_else(|| DomainError::NotFound(format!("端末 {}", input.target_id)))?
                    .as_deref(),
                Some(TargetKind::Node) => nodes
                    .get(&input.target_id)
                    .ok_or_else(|| {
                        DomainError::NotFound(format!("ネットワーク機器 {}", input.target_id))
                    })?
                    .as_deref(),
                None => None,
            };
            let d = input.validate(registered)?;
            let spec = serde_json::to_string(&d.spec).map_err(StoreError::wrap)?;
            drafts.push((d, spec));
        }
        let at = now();
        let ids = write_tx!(self, |tx| {
            let mut ids = Vec::with_capacity(drafts.len());
            for (d, spec) in &drafts {
                let s = d.settings;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO connectivity_checks (name, target_kind, target_id, kind, spec, interval_s, timeout_ms,
                     retries, degraded_ms, flap_n, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
                )
                .bind(&d.name)
                .bind(d.target_kind.as_str())
                .bind(d.target_id)
                .bind(d.spec.kind().as_str())
                .bind(spec)
                .bind(i64::from(s.interval_s))
                .bind(i64::from(s.timeout_ms))
                .bind(i64::from(s.retries))
                .bind(i64::from(s.degraded_ms))
                .bind(i64::from(s.flap_n))
                .bind(&actor.username)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            let entries: Vec<NewAuditEntry> = drafts
                .iter()
                .zip(&ids)
                .map(|((d, _), id)| {
                    NewAuditEntry::new(actor, "check.create", "check", id).details(json!({
                        "name": d.name, "target_kind": d.target_kind.as_str(), "target_id": d.target_id,
                        "spec": d.spec, "settings": d.settings,
                    }))
                })
                .collect();
            tx.append_audit_batch(&entries).await?;
            ids
        });
        Ok(ids)
    }

    /// One check on every terminal in service that has an address and no check yet, through
    /// [`Store::create_checks`]: every other one TCP to `tcp_port`, the rest ICMP, every `interval_s`
    /// seconds. For the status board's benchmark (`cargo xtask bench board`) only.
    #[doc(hidden)]
    pub async fn seed_bench_checks(&self, tcp_port: u16, interval_s: u32) -> Result<usize> {
        let targets: Vec<(i64, String, String)> = read_db!(self, |db| sqlx::query_as(
            "SELECT t.id, t.hostname, t.ip_address FROM terminals t
             WHERE t.retired_at IS NULL AND t.ip_address IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM connectivity_checks c
                               WHERE c.target_kind = $1 AND c.target_id = t.id)
             ORDER BY t.id"
        )
        .bind(TargetKind::Terminal.as_str())
        .fetch_all(db)
        .await?);
        let inputs: Vec<CheckInput> = targets
            .into_iter()
            .enumerate()
            .map(|(i, (id, hostname, ip))| {
                let tcp = i % 2 == 0;
                CheckInput {
                    name: format!("{hostname} {}", if tcp { "TCP" } else { "ICMP" }),
                    target_kind: TargetKind::Terminal.as_str().into(),
                    target_id: id,
                    kind: if tcp { "tcp" } else { "icmp" }.into(),
                    address: ip,
                    port: tcp.then_some(tcp_port),
                    interval_s: Some(interval_s),
                    ..Default::default()
                }
            })
            .collect();
        Ok(self
            .create_checks(&Actor::system("bench"), &inputs)
            .await?
            .len())
    }

    /// One check with its current state.
    pub async fn check(&self, id: i64) -> Result<CheckRow> {
        let sql = format!("{CHECK_SELECT} WHERE c.id = $1");
        let row: Option<CheckRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("疎通確認 {id}")).into())
    }

    /// All checks in service, ordered by site and name.
    pub async fn checks(&self) -> Result<Vec<CheckRow>> {
        let sql = format!(
            "{CHECK_SELECT} WHERE c.retired_at IS NULL ORDER BY s.code, target_name, c.name, c.id"
        );
        Ok(read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .fetch_all(db)
        .await?))
    }

    /// Every check in service with its state, target and site, in one query (no order: the board sorts in
    /// memory). What the status board's snapshot is built from; lighter than [`Store::checks`] (no
    /// settings, no sort over the fleet).
    pub async fn board_checks(&self) -> Result<Vec<BoardCheck>> {
        Ok(read_db!(self, |db| {
            sqlx::query_as(
            "SELECT c.id, c.name, c.target_kind, c.target_id, c.spec, c.state, c.state_since, c.impacted_by,
                l.ts AS last_ts, l.status AS last_status, l.latency_ms AS last_latency_ms,
                COALESCE(t.hostname, n.name) AS target_name,
                s.id AS site_id, s.code AS site_code, s.name AS site_name
             FROM connectivity_checks c
             LEFT JOIN terminals t ON c.target_kind = $1 AND t.id = c.target_id
             LEFT JOIN network_nodes n ON c.target_kind = $2 AND n.id = c.target_id
             LEFT JOIN sites s ON s.id = COALESCE(t.site_id, n.site_id)
             LEFT JOIN check_last l ON l.check_id = c.id
             WHERE c.retired_at IS NULL"
        )
        .bind(TargetKind::Terminal.as_str())
        .bind(TargetKind::Node.as_str())
        .fetch_all(db)
        .await?
        }))
    }

    /// Where each check in service sits: its site, its own node, the nodes above it.
    pub async fn check_topology(&self) -> Result<Vec<CheckTopology>> {
        let nodes = self.all_nodes().await?;
        let ups: HashMap<i64, Option<i64>> = nodes.iter().map(|n| (n.id, n.upstream_id)).collect();
        let uplinks: Vec<(i64, Option<i64>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT id, uplink_node_id FROM sites"
        )
        .fetch_all(db)
        .await?);
        let uplink: HashMap<i64, Option<i64>> = uplinks.into_iter().collect();
        let path_from = |start: Option<i64>| -> Vec<i64> {
            match start {
                Some(n) => upstream_path(n, |x| ups.get(&x).copied().flatten()).unwrap_or_default(),
                None => Vec::new(),
            }
        };
        let mut out = Vec::new();
        for c in self.checks().await? {
            let (own_node, path) = if c.target_kind == "node" {
                let p = path_from(Some(c.target_id));
                (Some(c.target_id), p.into_iter().skip(1).collect())
            } else {
                let start = c.site_id.and_then(|s| uplink.get(&s).copied().flatten());
                (None, path_from(start))
            };
            out.push(CheckTopology {
                check_id: c.id,
                site_id: c.site_id,
                own_node,
                path,
            });
        }
        Ok(out)
    }

    /// Records a state change and sets the check's state. Needs [`Action::RunChecks`].
    pub async fn record_check_event(&self, actor: &Actor, e: &NewEvent) -> Result<i64> {
        let ids = self
            .record_check_events(actor, std::slice::from_ref(e))
            .await?;
        Ok(ids[0])
    }

    /// Records state changes in one transaction and sets each check's state; returns their ids in the
    /// same order. The engine records a second's changes together (a new fleet settling changes every
    /// check once). Needs [`Action::RunChecks`].
    pub async fn record_check_events(
        &self,
        actor: &Actor,
        events: &[NewEvent],
    ) -> Result<Vec<i64>> {
        let ids = self.record_events_under(actor, events, None).await?;
        Ok(ids.into_iter().flatten().collect())
    }

    /// As [`Store::record_check_events`], written under `fence` (several instances on one database): an
    /// event of a check whose shard lease this instance no longer holds at `now_ms` is refused in the
    /// same transaction (its id is `None`), so a paused-then-resumed instance cannot overwrite a state
    /// another instance has taken on. Needs [`Action::RunChecks`].
    pub async fn record_check_events_fenced(
        &self,
        actor: &Actor,
        events: &[NewEvent],
        fence: &crate::cluster::Fence,
        now_ms: i64,
    ) -> Result<Vec<Option<i64>>> {
        self.record_events_under(actor, events, Some((fence, now_ms)))
            .await
    }

    async fn record_events_under(
        &self,
        actor: &Actor,
        events: &[NewEvent],
        fence: Option<(&crate::cluster::Fence, i64)>,
    ) -> Result<Vec<Option<i64>>> {
        actor.require(Action::RunChecks)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = matches!(self.backend, crate::Backend::Postgres(_));
        let ids = write_tx!(self, |tx| {
            let held = match fence {
                Some((fence, now_ms)) => {
                    Some(crate::cluster::fenced_shards!(tx, postgres, fence, now_ms))
                }
                None => None,
            };
            let mut ids = Vec::with_capacity(events.len());
            for e in events {
                if let Some(held) = &held
                    && !held.contains(&crate::cluster::shard_of(e.check_id))
                {
                    ids.push(None);
                    continue;
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO check_events (check_id, ts, from_state, to_state, cause, impacted_by, maintenance, results)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(e.check_id)
                .bind(e.ts)
                .bind(e.from.as_str())
                .bind(e.to.as_str())
                .bind(&e.cause)
                .bind(e.impacted_by)
                .bind(e.maintenance)
                .bind(e.results.to_string())
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE connectivity_checks SET state = $2, state_since = $3, impacted_by = $4, last_message = $5
                     WHERE id = $1",
                )
                .bind(e.check_id)
                .bind(e.to.as_str())
                .bind(e.ts)
                .bind(e.impacted_by)
                .bind(&e.message)
                .execute(&mut *tx)
                .await?;
                ids.push(Some(id));
            }
            ids
        });
        Ok(ids)
    }

    /// Links an event to the incident the engine opened (or repeated) for it.
    pub async fn link_check_event_incident(
        &self,
        actor: &Actor,
        event_id: i64,
        incident_id: i64,
    ) -> Result<()> {
        actor.require(Action::RunChecks)?;
        write_tx!(self, |tx| {
            sqlx::query("UPDATE check_events SET incident_id = $2 WHERE id = $1")
                .bind(event_id)
                .bind(incident_id)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// State changes, newest first: of one check, or of all.
    pub async fn check_events(&self, check_id: Option<i64>, limit: i64) -> Result<Vec<EventRow>> {
        let sql = "SELECT e.id, e.check_id, c.name AS check_name, e.ts, e.from_state, e.to_state, e.cause,
            e.impacted_by, n.name AS impacted_by_name, e.maintenance, e.incident_id, e.results
            FROM check_events e JOIN connectivity_checks c ON c.id = e.check_id
            LEFT JOIN network_nodes n ON n.id = e.impacted_by
            WHERE ($1 = 0 OR e.check_id = $1) ORDER BY e.ts DESC, e.id DESC LIMIT $2";
        Ok(read_db!(self, |db| sqlx::query_as(sql)
            .bind(check_id.unwrap_or(0))
            .bind(limit.clamp(1, 10_000))
            .fetch_all(db)
            .await?))
    }

    /// Adds a maintenance window. Needs [`Action::ManageChecks`]; refused with every problem at once when
    /// the window breaks [`MaintenanceWindow::validate`] or names a site, node or check that is not
    /// registered (checked inside the write transaction); audited as `maintenance.create`.
    pub async fn create_maintenance_window(
        &self,
        actor: &Actor,
        w: &MaintenanceWindow,
    ) -> Result<i64> {
        actor.require(Action::ManageChecks)?;
        let mut errors = window_rule_errors(w)?;
        let rec = serde_json::to_string(&w.when).map_err(StoreError::wrap)?;
        let at = now();
        let id = write_tx!(self, |tx| {
            errors.extend(window_target_errors!(tx, w));
            if !errors.is_empty() {
                return Err(DomainError::Validation(errors).into());
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO maintenance_windows (title, site_id, node_id, check_id, recurrence, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(w.title.trim())
            .bind(w.site_id)
            .bind(w.node_id)
            .bind(w.check_id)
            .bind(&rec)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "maintenance.create", "maintenance_window", id).details(
                    json!({"title": w.title, "site_id": w.site_id, "node_id": w.node_id,
                           "check_id": w.check_id, "when": w.when}),
                ),
            )
            .await?;
            id
        });
        Ok(id)
    }

    /// Maintenance windows in force (not retired): what the engine applies.
    pub async fn maintenance_windows(&self) -> Result<Vec<MaintenanceWindow>> {
        Ok(self
            .maintenance_window_records(Status::Active)
            .await?
            .into_iter()
            .map(|r| r.window)
            .collect())
    }

    /// Maintenance windows with their records: in force, retired or all, oldest first.
    pub async fn maintenance_window_records(&self, status: Status) -> Result<Vec<WindowRecord>> {
        let filter = status
            .retired_condition("")
            .map(|c| format!(" WHERE {c}"))
            .unwrap_or_default();
        let sql = format!("{WINDOW_SELECT}{filter} ORDER BY id");
        let rows: Vec<WindowRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        Ok(rows.into_iter().filter_map(window_record).collect())
    }

    /// One maintenance window, retired or not.
    pub async fn maintenance_window(&self, id: i64) -> Result<WindowRecord> {
        let sql = format!("{WINDOW_SELECT} WHERE id = $1");
        let row: Option<WindowRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.and_then(window_record)
            .ok_or_else(|| DomainError::NotFound(format!("保守時間帯 {id}")).into())
    }

    /// Changes a maintenance window (title, scope, time) under the same rules as
    /// [`Store::create_maintenance_window`]; a retired window cannot be changed. Needs
    /// [`Action::ManageChecks`]; audited as `maintenance.update` with the differences.
    pub async fn update_maintenance_window(
        &self,
        actor: &Actor,
        id: i64,
        w: &MaintenanceWindow,
    ) -> Result<WindowRecord> {
        actor.require(Action::ManageChecks)?;
        let mut errors = window_rule_errors(w)?;
        let rec = serde_json::to_string(&w.when).map_err(StoreError::wrap)?;
        let at = now();
        let after = window_json(w);
        write_tx!(self, |tx| {
            // The rules and the targets first, as before any lookup of the row: one refusal with every
            // problem, decided on the rows this transaction writes beside.
            errors.extend(window_target_errors!(tx, w));
            if !errors.is_empty() {
                return Err(DomainError::Validation(errors).into());
            }
            // Read and change in the one transaction, so that the check and the audited differences
            // belong to the row that is changed.
            let sql = format!("{WINDOW_SELECT} WHERE id = $1");
            let old: Option<WindowRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let old = old
                .and_then(window_record)
                .ok_or_else(|| DomainError::NotFound(format!("保守時間帯 {id}")))?;
            if old.retired_at.is_some() {
                return Err(
                    DomainError::Conflict("廃止済みの保守時間帯は変更できません。".into()).into(),
                );
            }
            let n = sqlx::query(
                "UPDATE maintenance_windows SET title = $1, site_id = $2, node_id = $3, check_id = $4,
                 recurrence = $5, updated_at = $6 WHERE id = $7 AND retired_at IS NULL",
            )
            .bind(w.title.trim())
            .bind(w.site_id)
            .bind(w.node_id)
            .bind(w.check_id)
            .bind(&rec)
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(
                    DomainError::Conflict("廃止済みの保守時間帯は変更できません。".into()).into(),
                );
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "maintenance.update", "maintenance_window", id)
                    .details(diff(&window_json(&old.window), &after)),
            )
            .await?;
        });
        self.maintenance_window(id).await
    }

    /// Retires a maintenance window: it stays listed with its history but no longer applies (the engine
    /// reloads its windows every minute). Needs [`Action::ManageChecks`] and a reason; audited as
    /// `maintenance.retire`.
    pub async fn retire_maintenance_window(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<WindowRecord> {
        actor.require(Action::ManageChecks)?;
        let reason = retire_reason(reason)?;
        let at = now();
        write_tx!(self, |tx| {
            let retired: Option<Option<String>> =
                sqlx::query_scalar("SELECT retired_at FROM maintenance_windows WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match retired {
                None => return Err(DomainError::NotFound(format!("保守時間帯 {id}")).into()),
                Some(Some(_)) => {
                    return Err(DomainError::Conflict(
                        "この保守時間帯は既に廃止されています。".into(),
                    )
                    .into());
                }
                Some(None) => {}
            }
            let n = sqlx::query(
                "UPDATE maintenance_windows SET retired_at = $1, updated_at = $1
                 WHERE id = $2 AND retired_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(
                    DomainError::Conflict("この保守時間帯は既に廃止されています。".into()).into(),
                );
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "maintenance.retire", "maintenance_window", id)
                    .details(json!({"reason": reason})),
            )
            .await?;
        });
        self.maintenance_window(id).await
    }
}

/// One line of a 疎通確認結果表.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SheetLine {
    pub check_id: i64,
    pub site: String,
    pub target: String,
    pub check: String,
    /// e.g. `TCP 10.1.2.3:443`.
    pub probe: String,
    /// `up`, `degraded`, `down`, `unknown`.
    pub status: String,
    /// 正常 / 低下 / 停止 / 不明.
    pub result: String,
    pub latency_ms: Option<u32>,
    pub message: String,
    /// JST `YYYY-MM-DD hh:mm:ss`.
    pub at: String,
}

/// A stored 疎通確認結果表.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub id: i64,
    pub created_at: String,
    pub operator: String,
    pub work_entry_id: Option<i64>,
    pub note: String,
    pub lines: Vec<SheetLine>,
}

impl Store {
    /// Keeps a 疎通確認結果表 as evidence (lines and the XLSX as produced). Needs [`Action::RunChecks`]; a
    /// work entry, if given, must exist. Audited as `check_sheet.create`.
    pub async fn create_check_sheet(
        &self,
        actor: &Actor,
        lines: &[SheetLine],
        work_entry_id: Option<i64>,
        note: &str,
        xlsx: &[u8],
    ) -> Result<i64> {
        actor.require(Action::RunChecks)?;
        if let Err(e) = unyo_domain::pii::guard_free_text("note", note) {
            return Err(DomainError::Validation(vec![unyo_domain::FieldError::new(
                "note",
                e.message(),
            )])
            .into());
        }
        if let Some(w) = work_entry_id {
            let n: i64 = read_db!(self, |db| sqlx::query_scalar(
                "SELECT COUNT(*) FROM work_entries WHERE id = $1"
            )
            .bind(w)
            .fetch_one(db)
            .await?);
            if n == 0 {
                return Err(DomainError::Validation(vec![unyo_domain::FieldError::new(
                    "work_entry_id",
                    format!("作業記録 {w} は存在しません。"),
                )])
                .into());
            }
        }
        let json_lines = serde_json::to_string(lines).map_err(StoreError::wrap)?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO check_sheets (created_at, operator, operator_id, work_entry_id, note, lines, xlsx)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&at)
            .bind(&actor.username)
            .bind(actor.user_id)
            .bind(work_entry_id)
            .bind(note.trim())
            .bind(&json_lines)
            .bind(xlsx)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "check_sheet.create", "check_sheet", id).details(
                    json!({
                        "work_entry_id": work_entry_id,
                        "checks": lines.iter().map(|l| l.check_id).collect::<Vec<_>>(),
                        "down": lines.iter().filter(|l| l.status == "down").count(),
                    }),
                ),
            )
            .await?;
            id
        });
        Ok(id)
    }

    /// A stored sheet.
    pub async fn check_sheet(&self, id: i64) -> Result<Sheet> {
        let row: Option<(i64, String, String, Option<i64>, String, String)> = read_db!(
            self,
            |db| {
                sqlx::query_as(
                "SELECT id, created_at, operator, work_entry_id, note, lines FROM check_sheets WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(db)
            .await?
            }
        );
        let (id, created_at, operator, work_entry_id, note, lines) =
            row.ok_or_else(|| DomainError::NotFound(format!("疎通確認結果表 {id}")))?;
        Ok(Sheet {
            id,
            created_at,
            operator,
            work_entry_id,
            note,
            lines: serde_json::from_str(&lines).unwrap_or_default(),
        })
    }

    /// The XLSX of a stored sheet, exactly as it was produced.
    pub async fn check_sheet_xlsx(&self, id: i64) -> Result<Vec<u8>> {
        let row: Option<Vec<u8>> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT xlsx FROM check_sheets WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(db)
        .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("疎通確認結果表 {id}")).into())
    }

    /// Stored sheets, newest first (id, created_at, operator, work entry, lines count).
    pub async fn check_sheets(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, Option<i64>)>> {
        Ok(read_db!(self, |db| {
            sqlx::query_as(
            "SELECT id, created_at, operator, work_entry_id FROM check_sheets ORDER BY id DESC LIMIT $1"
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(db)
        .await?
        }))
    }
}

/// A notification channel.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub config: unyo_domain::connectivity::ChannelConfig,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: Option<String>,
    /// Set once retired: a retired channel is no longer notified.
    pub retired_at: Option<String>,
}

/// A channel as stored: id, name, config JSON, enabled, created at, updated at, retired at.
type ChannelRow = (
    i64,
    String,
    String,
    bool,
    String,
    Option<String>,
    Option<String>,
);

const CHANNEL_SELECT: &str = "SELECT id, name, config, enabled, created_at, updated_at, retired_at FROM notification_channels";

fn channel_of(row: ChannelRow) -> Option<Channel> {
    let (id, name, config, enabled, created_at, updated_at, retired_at) = row;
    Some(Channel {
        id,
        name,
        config: serde_json::from_str(&config).ok()?,
        enabled,
        created_at,
        updated_at,
        retired_at,
    })
}

/// A recorded delivery attempt.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub id: i64,
    pub channel_id: i64,
    pub event_id: Option<i64>,
    pub at: String,
    pub ok: bool,
    pub detail: String,
}

impl Store {
    /// Adds a notification channel. Needs [`Action::ManageChecks`]; audited as `notification_channel.create`.
    pub async fn create_notification_channel(
        &self,
        actor: &Actor,
        name: &str,
        config: &unyo_domain::connectivity::ChannelConfig,
    ) -> Result<i64> {
        actor.require(Action::ManageChecks)?;
        unyo_domain::connectivity::validate_channel_name(name)?;
        config.validate()?;
        let json_config = serde_json::to_string(config).map_err(StoreError::wrap)?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notification_channels (name, kind, config, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(name.trim())
            .bind(config.kind())
            .bind(&json_config)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(
                    actor,
                    "notification_channel.create",
                    "notification_channel",
                    id,
                )
                .details(json!({"name": name.trim(), "config": config})),
            )
            .await?;
            id
        });
        Ok(id)
    }

    /// Enabled notification channels in service (not retired): the ones the engine notifies.
    pub async fn notification_channels(&self) -> Result<Vec<Channel>> {
        let sql = format!("{CHANNEL_SELECT} WHERE enabled AND retired_at IS NULL ORDER BY id");
        let rows: Vec<ChannelRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        Ok(rows.into_iter().filter_map(channel_of).collect())
    }

    /// Notification channels in service, retired or all, oldest first.
    pub async fn notification_channel_records(&self, status: Status) -> Result<Vec<Channel>> {
        let filter = status
            .retired_condition("")
            .map(|c| format!(" WHERE {c}"))
            .unwrap_or_default();
        let sql = format!("{CHANNEL_SELECT}{filter} ORDER BY id");
        let rows: Vec<ChannelRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        Ok(rows.into_iter().filter_map(channel_of).collect())
    }

    /// One notification channel, retired or not.
    pub async fn notification_channel(&self, id: i64) -> Result<Channel> {
        let sql = format!("{CHANNEL_SELECT} WHERE id = $1");
        let row: Option<ChannelRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.and_then(channel_of)
            .ok_or_else(|| DomainError::NotFound(format!("通知先 {id}")).into())
    }

    /// Changes a channel's name and settings under the same rules as
    /// [`Store::create_notification_channel`] (the kind may change too); a retired channel cannot be
    /// changed. Needs [`Action::ManageChecks`]; audited as `notification_channel.update` with the
    /// differences.
    pub async fn update_notification_channel(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        config: &unyo_domain::connectivity::ChannelConfig,
    ) -> Result<Channel> {
        actor.require(Action::ManageChecks)?;
        unyo_domain::connectivity::validate_channel_name(name)?;
        config.validate()?;
        let json_config = serde_json::to_string(config).map_err(StoreError::wrap)?;
        let at = now();
        let after = json!({"name": name.trim(), "config": config});
        write_tx!(self, |tx| {
            let sql = format!("{CHANNEL_SELECT} WHERE id = $1");
            let old: Option<ChannelRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let old = old
                .and_then(channel_of)
                .ok_or_else(|| DomainError::NotFound(format!("通知先 {id}")))?;
            if old.retired_at.is_some() {
                return Err(
                    DomainError::Conflict("廃止済みの通知先は変更できません。".into()).into(),
                );
            }
            let n = sqlx::query(
                "UPDATE notification_channels SET name = $1, kind = $2, config = $3, updated_at = $4
                 WHERE id = $5 AND retired_at IS NULL",
            )
            .bind(name.trim())
            .bind(config.kind())
            .bind(&json_config)
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(
                    DomainError::Conflict("廃止済みの通知先は変更できません。".into()).into(),
                );
            }
            tx.append_audit(
                &NewAuditEntry::new(
                    actor,
                    "notification_channel.update",
                    "notification_channel",
                    id,
                )
                .details(diff(
                    &json!({"name": old.name, "config": old.config}),
                    &after,
                )),
            )
            .await?;
        });
        self.notification_channel(id).await
    }

    /// Retires a channel: it stays listed, with its delivery attempts, but is no longer notified. Needs
    /// [`Action::ManageChecks`] and a reason; audited as `notification_channel.retire`.
    pub async fn retire_notification_channel(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<Channel> {
        actor.require(Action::ManageChecks)?;
        let reason = retire_reason(reason)?;
        let at = now();
        write_tx!(self, |tx| {
            let retired: Option<Option<String>> =
                sqlx::query_scalar("SELECT retired_at FROM notification_channels WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match retired {
                None => return Err(DomainError::NotFound(format!("通知先 {id}")).into()),
                Some(Some(_)) => {
                    return Err(
                        DomainError::Conflict("この通知先は既に廃止されています。".into()).into(),
                    );
                }
                Some(None) => {}
            }
            let n = sqlx::query(
                "UPDATE notification_channels SET retired_at = $1, updated_at = $1
                 WHERE id = $2 AND retired_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(
                    DomainError::Conflict("この通知先は既に廃止されています。".into()).into(),
                );
            }
            tx.append_audit(
                &NewAuditEntry::new(
                    actor,
                    "notification_channel.retire",
                    "notification_channel",
                    id,
                )
                .details(json!({"reason": reason})),
            )
            .await?;
        });
        self.notification_channel(id).await
    }

    /// Records one delivery attempt. Needs [`Action::RunChecks`].
    pub async fn record_notification_attempt(
        &self,
        actor: &Actor,
        channel_id: i64,
        event_id: Option<i64>,
        ok: bool,
        detail: &str,
    ) -> Result<i64> {
        actor.require(Action::RunChecks)?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notification_attempts (channel_id, event_id, at, ok, detail)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(channel_id)
            .bind(event_id)
            .bind(&at)
            .bind(ok)
            .bind(detail)
            .fetch_one(&mut *tx)
            .await?;
            id
        });
        Ok(id)
    }

    /// Delivery attempts, newest first.
    pub async fn notification_attempts(&self, limit: i64) -> Result<Vec<Attempt>> {
        Ok(read_db!(self, |db| sqlx::query_as(
            "SELECT id, channel_id, event_id, at, ok, detail FROM notification_attempts
             ORDER BY id DESC LIMIT $1"
        )
        .bind(limit.clamp(1, 10_000))
        .fetch_all(db)
        .await?))
    }
}
