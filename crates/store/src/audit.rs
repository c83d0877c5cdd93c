//! The tamper-evident audit log.
//!
//! Each entry's `hash` is the SHA-256 of the previous entry's hash and the entry's own fields, so changing,
//! removing or inserting an entry anywhere breaks every link after it. The database refuses `UPDATE` and
//! `DELETE` on the table (triggers in both migrations); [`Store::verify_audit_chain`] proves the rest.

use crate::kit::{day_start, paging_up_to, stored_date};
use crate::{Actor, Filter, Page, Param, Result, Store, contains_pattern};
use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, SqliteConnection};
use unyo_domain::Action;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry about to be appended.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Login name of whoever acted (`system` for the system itself, the attempted name for failed logins).
    pub actor: String,
    /// Dotted action name, e.g. `terminal.create`, `login.failure`, `export.registry`.
    pub action: String,
    /// Kind of record touched (`terminal`, `site`, ...), empty when none.
    pub entity: String,
    /// Id of the record touched, empty when none.
    pub entity_id: String,
    /// JSON with what changed (`{"field": [old, new]}`) or other context. Never secrets.
    pub details: serde_json::Value,
    /// Remote address or `cli`.
    pub source: String,
}

impl NewAuditEntry {
    /// An entry for `actor` doing `action` on `entity`/`entity_id`.
    pub fn new(actor: &Actor, action: &str, entity: &str, entity_id: impl ToString) -> Self {
        NewAuditEntry {
            actor: actor.username.clone(),
            action: action.into(),
            entity: entity.into(),
            entity_id: entity_id.to_string(),
            details: serde_json::Value::Object(Default::default()),
            source: actor.source.clone(),
        }
    }

    /// Attaches details.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub details: String,
    pub source: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry, given its predecessor's hash.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    id: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    details: &str,
    source: &str,
) -> String {
    let mut h = Sha256::new();
    // The unit separator cannot occur in any field we write, so the encoding is unambiguous.
    for (i, part) in [
        prev_hash,
        &id.to_string(),
        at,
        actor,
        action,
        entity,
        entity_id,
        details,
        source,
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            h.update([0x1f]);
        }
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    fn computed_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.id,
            &self.at,
            &self.actor,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.details,
            &self.source,
        )
    }
}

/// Appends to the audit chain inside the caller's transaction. Implemented for both backends'
/// connections so that code inside [`write_tx!`] can call it the same way.
pub(crate) trait AuditSink {
    /// Appends `entry` and returns its id.
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<i64>;
    /// Appends many entries in order, with one read of the chain's head and multi-row inserts (a bulk
    /// import's thousands of entries in a few statements instead of a round trip or two each).
    async fn append_audit_batch(&mut self, entries: &[NewAuditEntry]) -> Result<()>;
}

/// Rows per multi-row audit insert. PostgreSQL: many, to save round trips (10 parameters each stays
/// under its limit). SQLite: few, as binding costs time quadratic in a statement's parameter count.
const BATCH_ROWS_PG: usize = 1000;
const BATCH_ROWS_SQLITE: usize = 16;

/// The rows of a batch, chained from the head `(prev_id, prev_hash)`, as bound values.
fn chain_batch(prev_id: i64, prev_hash: String, entries: &[NewAuditEntry]) -> Vec<AuditEntry> {
    let at = crate::now();
    let mut prev_hash = prev_hash;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = prev_id + 1 + i as i64;
            let details = e.details.to_string();
            let hash = entry_hash(
                &prev_hash,
                id,
                &at,
                &e.actor,
                &e.action,
                &e.entity,
                &e.entity_id,
                &details,
                &e.source,
            );
            AuditEntry {
                id,
                at: at.clone(),
                actor: e.actor.clone(),
                action: e.action.clone(),
                entity: e.entity.clone(),
                entity_id: e.entity_id.clone(),
                details,
                source: e.source.clone(),
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// `INSERT ... VALUES ($1..$10), ($11..$20), ...` for `rows` entries.
fn batch_insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, details, source, prev_hash, hash) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        let b = r * 10;
        sql.push('(');
        for c in 1..=10 {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(b + c).to_string());
        }
        sql.push(')');
    }
    sql
}

macro_rules! append_batch_impl {
    ($conn:expr, $entries:expr, $batch_rows:expr) => {{
        let last: Option<(i64, String)> = sqlx::query_as(LAST).fetch_optional(&mut *$conn).await?;
        let (prev_id, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
        let rows = chain_batch(prev_id, prev_hash, $entries);
        for chunk in rows.chunks($batch_rows) {
            let sql = batch_insert_sql(chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.id)
                    .bind(&r.at)
                    .bind(&r.actor)
                    .bind(&r.action)
                    .bind(&r.entity)
                    .bind(&r.entity_id)
                    .bind(&r.details)
                    .bind(&r.source)
                    .bind(&r.prev_hash)
                    .bind(&r.hash);
            }
            q.execute(&mut *$conn).await?;
        }
        Ok(())
    }};
}

const LAST: &str = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1";
const INSERT: &str = "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, details, source, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

macro_rules! append_impl {
    ($conn:expr, $entry:expr) => {{
        let last: Option<(i64, String)> = sqlx::query_as(LAST).fetch_optional(&mut *$conn).await?;
        let (prev_id, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
        let id = prev_id + 1;
        let at = crate::now();
        let details = $entry.details.to_string();
        let hash = entry_hash(
            &prev_hash,
            id,
            &at,
            &$entry.actor,
            &$entry.action,
            &$entry.entity,
            &$entry.entity_id,
            &details,
            &$entry.source,
        );
        sqlx::query(INSERT)
            .bind(id)
            .bind(&at)
            .bind(&$entry.actor)
            .bind(&$entry.action)
            .bind(&$entry.entity)
            .bind(&$entry.entity_id)
            .bind(&details)
            .bind(&$entry.source)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *$conn)
            .await?;
        Ok(id)
    }};
}

impl AuditSink for SqliteConnection {
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<i64> {
        // The transaction was begun IMMEDIATE: no other writer can slip in between read and insert.
        append_impl!(self, entry)
    }

    async fn append_audit_batch(&mut self, entries: &[NewAuditEntry]) -> Result<()> {
        append_batch_impl!(self, entries, BATCH_ROWS_SQLITE)
    }
}

impl AuditSink for PgConnection {
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> Result<i64> {
        // Serialise appenders across all instances until this transaction ends.
        sqlx::query("SELECT pg_advisory_xact_lock(7164001)")
            .execute(&mut *self)
            .await?;
        append_impl!(self, entry)
    }

    async fn append_audit_batch(&mut self, entries: &[NewAuditEntry]) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(7164001)")
            .execute(&mut *self)
            .await?;
        append_batch_impl!(self, entries, BATCH_ROWS_PG)
    }
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChainReport {
    /// Every link holds.
    Intact {
        /// Number of entries checked.
        entries: i64,
        /// Hash of the last entry (the head), worth writing down elsewhere.
        head: String,
    },
    /// The first entry whose link does not hold, and why.
    Broken {
        /// Id of the first bad entry.
        id: i64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Filter for the audit log screen and export.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// Exact login name.
    pub actor: Option<String>,
    /// Action prefix, e.g. `login` matches `login.failure`.
    pub action: Option<String>,
    /// Entity kind and id (a record's history).
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Inclusive date range in JST, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Free text in details.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Filter {
        let mut f = Filter::default();
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(a) = some(&self.actor) {
            let p = f.bind(Param::Text(a));
            f.push(format!("actor = {p}"));
        }
        if let Some(a) = some(&self.action) {
            let escaped: String = a
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            let p = f.bind(Param::Text(format!("{escaped}%")));
            f.push(format!("action LIKE {p} ESCAPE '\\'"));
        }
        if let Some(e) = some(&self.entity) {
            let p = f.bind(Param::Text(e));
            f.push(format!("entity = {p}"));
        }
        if let Some(e) = some(&self.entity_id) {
            let p = f.bind(Param::Text(e));
            f.push(format!("entity_id = {p}"));
        }
        if let Some(from) = some(&self.from).and_then(|d| jst_day_start_utc(&d, 0)) {
            let p = f.bind(Param::Text(from));
            f.push(format!("at >= {p}"));
        }
        if let Some(to) = some(&self.to).and_then(|d| jst_day_start_utc(&d, 1)) {
            let p = f.bind(Param::Text(to));
            f.push(format!("at < {p}"));
        }
        if let Some(q) = some(&self.q) {
            let p = f.bind(Param::Text(contains_pattern(&q)));
            f.push(format!("LOWER(details) LIKE {p} ESCAPE '\\'"));
        }
        f
    }
}

/// The UTC storage instant at which JST day `date` (+ `plus_days`) begins.
fn jst_day_start_utc(date: &str, plus_days: i64) -> Option<String> {
    stored_date(date).map(|d| day_start(d + chrono::Duration::days(plus_days)))
}

/// A file that leaves unyo through a page, the API or the command line: what it is, so that the store
/// decides the audited action name and the permission it needs ([`Store::record_export`]). Every
/// export and document download is one of these; none is written as a free-form entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The terminal list as CSV/XLSX (`export.terminals`).
    Terminals,
    /// The site list (`export.sites`).
    Sites,
    /// The network-node list (`export.nodes`).
    Nodes,
    /// The audit log (`export.audit`).
    Audit,
    /// The work log (`export.work`).
    Work,
    /// The compliance grid (`export.compliance`).
    Compliance,
    /// Vulnerability findings (`export.findings`).
    Findings,
    /// A 障害報告書 (`export.incident_report`).
    IncidentReport,
    /// A 疎通確認結果表 (`export.check_sheet`).
    CheckSheet,
    /// A monthly work record, draft or frozen (`export.monthly_record`).
    MonthlyRecord,
    /// The annual council pack (`export.annual_pack`).
    AnnualPack,
}

impl ExportKind {
    /// Every kind.
    pub const ALL: [ExportKind; 11] = [
        ExportKind::Terminals,
        ExportKind::Sites,
        ExportKind::Nodes,
        ExportKind::Audit,
        ExportKind::Work,
        ExportKind::Compliance,
        ExportKind::Findings,
        ExportKind::IncidentReport,
        ExportKind::CheckSheet,
        ExportKind::MonthlyRecord,
        ExportKind::AnnualPack,
    ];

    /// The audited action name.
    pub fn action_name(self) -> &'static str {
        match self {
            ExportKind::Terminals => "export.terminals",
            ExportKind::Sites => "export.sites",
            ExportKind::Nodes => "export.nodes",
            ExportKind::Audit => "export.audit",
            ExportKind::Work => "export.work",
            ExportKind::Compliance => "export.compliance",
            ExportKind::Findings => "export.findings",
            ExportKind::IncidentReport => "export.incident_report",
            ExportKind::CheckSheet => "export.check_sheet",
            ExportKind::MonthlyRecord => "export.monthly_record",
            ExportKind::AnnualPack => "export.annual_pack",
        }
    }

    /// The permission of `role.rs` that reading this file needs.
    pub fn permission(self) -> Action {
        match self {
            ExportKind::Terminals | ExportKind::Sites | ExportKind::Nodes => Action::ExportRegistry,
            ExportKind::Audit => Action::ExportAudit,
            ExportKind::Work => Action::ViewWork,
            ExportKind::Compliance => Action::ViewCampaigns,
            ExportKind::Findings => Action::ViewVulnerabilities,
            ExportKind::IncidentReport => Action::ViewIncidents,
            ExportKind::CheckSheet => Action::ViewChecks,
            ExportKind::MonthlyRecord | ExportKind::AnnualPack => Action::ViewRecords,
        }
    }
}

impl Store {
    /// Appends a standalone audit entry for an event that changes nothing else and has no authorised actor
    /// (login failures, logins, logouts). An export is not such an event: an entry named `export.*` is
    /// refused here and written by [`Store::record_export`], which checks the actor's permission.
    pub async fn audit(&self, entry: NewAuditEntry) -> Result<i64> {
        if entry.action.starts_with("export.") {
            return Err(crate::StoreError::Internal(format!(
                "{} is recorded through Store::record_export",
                entry.action
            )));
        }
        Ok(write_tx!(self, |tx| tx.append_audit(&entry).await?))
    }

    /// Records that `actor` takes a file of `kind` out of unyo (a list export or a document download),
    /// after checking [`ExportKind::permission`]: one audit entry named [`ExportKind::action_name`] with
    /// the actor's name and source, on `entity`/`entity_id` (empty when the file is not of one record)
    /// and `details` (format, rows or size and SHA-256, filter). Call it before the bytes are sent.
    pub async fn record_export(
        &self,
        actor: &Actor,
        kind: ExportKind,
        entity: &str,
        entity_id: impl ToString,
        details: serde_json::Value,
    ) -> Result<i64> {
        actor.require(kind.permission())?;
        let entry =
            NewAuditEntry::new(actor, kind.action_name(), entity, entity_id).details(details);
        Ok(write_tx!(self, |tx| tx.append_audit(&entry).await?))
    }

    /// Audits a read of a sensitive record (R12: who read what, when): `{entity}.read` on the record.
    /// Used where nothing else records the read (inventories, a provided material's entry).
    pub async fn audit_read(
        &self,
        actor: &Actor,
        entity: &str,
        id: i64,
        details: serde_json::Value,
    ) -> Result<()> {
        self.audit(
            NewAuditEntry::new(actor, &format!("{entity}.read"), entity, id).details(details),
        )
        .await?;
        Ok(())
    }

    /// A page of the audit log, newest first.
    pub async fn audit_log(&self, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        let f = q.filter();
        let count_sql = format!("SELECT COUNT(*) FROM audit_log{}", f.where_clause());
        let list_sql = format!(
            "SELECT * FROM audit_log{} ORDER BY id DESC",
            f.where_clause()
        );
        self.page_of(
            count_sql,
            list_sql,
            &f.params,
            paging_up_to(q.page, q.per_page, 1000),
        )
        .await
    }

    /// Every entry matching the filter, oldest first (for export).
    pub async fn audit_export(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let f = q.filter();
        let sql = format!("SELECT * FROM audit_log{} ORDER BY id", f.where_clause());
        read_db!(self, |db| Ok(bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?))
    }

    /// The change history of one record, newest first.
    pub async fn history(&self, entity: &str, entity_id: i64) -> Result<Vec<AuditEntry>> {
        read_db!(self, |db| Ok(sqlx::query_as(
            "SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id DESC"
        )
        .bind(entity)
        .bind(entity_id.to_string())
        .fetch_all(db)
        .await?))
    }

    /// Walks the whole chain in order and reports the first broken link.
    ///
    /// A long chain is checked in a few id ranges at once (one reader each): a range starts from the
    /// stored hash of the entry before it, and that entry is itself checked by the range before, so
    /// the ranges together check every link, and the first break of the first broken range is the
    /// first break of the chain.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let max_id: Option<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT max(id) FROM audit_log"
        )
        .fetch_one(db)
        .await?);
        let Some(max_id) = max_id else {
            return Ok(ChainReport::Intact {
                entries: 0,
                head: GENESIS.to_string(),
            });
        };
        let readers = if max_id < VERIFY_RANGE_MIN {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as i64
        };
        let span = (max_id + readers - 1) / readers;
        let ranges = (0..readers)
            .map(|k| (1 + k * span, ((k + 1) * span).min(max_id)))
            .filter(|(from, to)| from <= to);
        let reports = futures_util::future::try_join_all(
            ranges.map(|(from, to)| self.verify_range(from, to)),
        )
        .await?;
        let (mut entries, mut head) = (0, GENESIS.to_string());
        for report in reports {
            match report {
                ChainReport::Intact {
                    entries: n,
                    head: h,
                } => {
                    entries += n;
                    head = h;
                }
                broken => return Ok(broken),
            }
        }
        Ok(ChainReport::Intact { entries, head })
    }

    /// Checks the entries with ids `from..=to` (the first range also anything below it), starting
    /// from the stored hash of entry `from - 1`.
    async fn verify_range(&self, from: i64, to: i64) -> Result<ChainReport> {
        let mut prev_hash = if from == 1 {
            GENESIS.to_string()
        } else {
            // Missing: the range before reports the gap, which comes first.
            read_db!(self, |db| sqlx::query_scalar::<_, String>(
                "SELECT hash FROM audit_log WHERE id = $1"
            )
            .bind(from - 1)
            .fetch_optional(db)
            .await?)
            .unwrap_or_default()
        };
        let low = if from == 1 { i64::MIN } else { from };
        read_db!(self, |db| {
            let mut rows = sqlx::query_as::<_, AuditEntry>(
                "SELECT * FROM audit_log WHERE id >= $1 AND id <= $2 ORDER BY id",
            )
            .bind(low)
            .bind(to)
            .fetch(db);
            let mut expected_id = from;
            let mut count = 0i64;
            while let Some(e) = rows.try_next().await? {
                if e.id != expected_id {
                    return Ok(ChainReport::Broken {
                        id: e.id,
                        reason: format!(
                            "expected entry {expected_id}, found {} (entries missing)",
                            e.id
                        ),
                    });
                }
                if e.prev_hash != prev_hash {
                    return Ok(ChainReport::Broken {
                        id: e.id,
                        reason: "prev_hash does not match the previous entry's hash (an earlier entry was changed or removed)".into(),
                    });
                }
                if e.computed_hash() != e.hash {
                    return Ok(ChainReport::Broken {
                        id: e.id,
                        reason: "hash does not match the entry's contents (the entry was changed)"
                            .into(),
                    });
                }
                prev_hash = e.hash;
                expected_id += 1;
                count += 1;
            }
            if expected_id != to + 1 {
                return Ok(ChainReport::Broken {
                    id: expected_id,
                    reason: format!("expected entry {expected_id}, found none (entries missing)"),
                });
            }
            Ok(ChainReport::Intact {
                entries: count,
                head: prev_hash,
            })
        })
    }
}

/// Below this many entries the chain is checked by one reader (a second one would cost more than it
/// saves).
const VERIFY_RANGE_MIN: i64 = 50_000;

impl Store {
    /// Appends `n` synthetic entries quickly (batched, chain kept in memory). For benchmarks of
    /// `audit verify` only: the entries say so (`bench.synthetic`).
    #[doc(hidden)]
    pub async fn seed_synthetic_audit(&self, n: usize) -> Result<()> {
        const BATCH: usize = 20_000;
        let mut done = 0;
        while done < n {
            let count = BATCH.min(n - done);
            write_tx!(self, |tx| {
                let last: Option<(i64, String)> =
                    sqlx::query_as(LAST).fetch_optional(&mut *tx).await?;
                let (mut id, mut prev) = last.unwrap_or((0, GENESIS.to_string()));
                let at = crate::now();
                for i in 0..count {
                    id += 1;
                    let details = format!("{{\"n\":{}}}", done + i);
                    let hash = entry_hash(
                        &prev,
                        id,
                        &at,
                        "bench",
                        "bench.synthetic",
                        "",
                        "",
                        &details,
                        "bench",
                    );
                    sqlx::query(INSERT)
                        .bind(id)
                        .bind(&at)
                        .bind("bench")
                        .bind("bench.synthetic")
                        .bind("")
                        .bind("")
                        .bind(&details)
                        .bind("bench")
                        .bind(&prev)
                        .bind(&hash)
                        .execute(&mut *tx)
                        .await?;
                    prev = hash;
                }
            });
            done += count;
        }
        Ok(())
    }
}

impl Store {
    /// The number of entries in the log (the id of the last one; ids have no gaps in an intact chain).
    pub async fn audit_len(&self) -> Result<i64> {
        read_db!(self, |db| Ok(sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(id) FROM audit_log"
        )
        .fetch_one(db)
        .await?
        .unwrap_or(0)))
    }
}
