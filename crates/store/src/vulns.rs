//! Vulnerability monitoring (issue 18, R15/R16): feed imports, the records they carry, the reviewed
//! software→CPE mapping table, and findings per (terminal or unyo itself, software, vulnerability).
//!
//! - **Import** ([`Store::import_feed_reader`], [`Store::import_feed_path`]): a file is parsed on a blocking
//!   thread by `unyo_vuln` (NVD streamed record by record) and its records reach the database in batches of
//!   [`BATCH`], each batch one transaction with its audit entry, so a 300,000-record file never sits in memory
//!   and never holds the write lock for long. A record whose `last_modified` moved on replaces the stored one,
//!   whose previous version goes to `vulnerability_history`. Every file gets a `vuln_imports` row with its
//!   SHA-256, newest record date and counts — a refused file too, with the reason.
//! - **Mappings**: [`Store::refresh_cpe_suggestions`] adds a suggested row for every (name, publisher) seen in
//!   the latest inventories; only rows an SE confirmed or corrected ([`Store::confirm_cpe_mapping`]) are used
//!   for matching. The OS needs no mapping: its CPE comes from its full build.
//! - **Matching** ([`Store::rematch_vulnerabilities`]): the latest inventory of every terminal in service and
//!   unyo's own SBOM against every record, through `unyo_vuln::matching::Index`. New hits open findings (due
//!   date from the severity); a rejected record withdraws its findings; a finding whose product the latest
//!   inventory shows at a version no longer affected (or no longer installed) becomes 対応済, naming that
//!   inventory; a hit on a resolved finding reopens it. Each change is a `vuln_finding_events` row; the run is
//!   one transaction with one audit entry.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_vuln::matching::{self, Index, PackageRef, Subject, Target};
use unyo_vuln::{Cpe, FeedError, FeedKind, FileKind, Vulnerability};

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{paging, paging_up_to, placeholders};
use crate::support::jst_today;
use crate::{Actor, Filter, Page, Param, Result, Store, StoreError, contains_pattern, now};

/// Records written per transaction during an import.
pub const BATCH: usize = 2_000;

/// Days after which a feed whose newest record is older counts as stale (shown on the home and in reports).
pub const DEFAULT_STALE_DAYS: i64 = 14;

/// Files larger than this are refused (a full NVD year is far below it).
pub const MAX_FILE: u64 = 4 * 1024 * 1024 * 1024;

// ------------------------------------------------------------------------------------------------ statuses

/// The status of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// 未対応.
    Open,
    /// 対応中.
    InProgress,
    /// 対応済: proven by a later inventory or a campaign's evidence.
    Resolved,
    /// リスク受容: with a consultation record and an expiry.
    Accepted,
    /// 取下げ: the record was rejected or withdrawn.
    Withdrawn,
}

impl FindingStatus {
    /// Every status, in display order.
    pub const ALL: [FindingStatus; 5] = [
        FindingStatus::Open,
        FindingStatus::InProgress,
        FindingStatus::Resolved,
        FindingStatus::Accepted,
        FindingStatus::Withdrawn,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::InProgress => "in_progress",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Accepted => "accepted",
            FindingStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses [`FindingStatus::code`].
    pub fn parse(s: &str) -> Option<FindingStatus> {
        FindingStatus::ALL.into_iter().find(|f| f.code() == s)
    }

    /// The Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            FindingStatus::Open => "未対応",
            FindingStatus::InProgress => "対応中",
            FindingStatus::Resolved => "対応済",
            FindingStatus::Accepted => "リスク受容",
            FindingStatus::Withdrawn => "取下げ",
        }
    }

    /// Whether the finding still needs something done.
    pub fn is_active(self) -> bool {
        matches!(self, FindingStatus::Open | FindingStatus::InProgress)
    }
}

// ------------------------------------------------------------------------------------------------ rows

/// One imported (or refused) feed file.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FeedImport {
    pub id: i64,
    /// `nvd`, `jvn`, `osv`, `rustsec`, or empty when the file was not recognised.
    pub feed: String,
    pub file_name: String,
    pub file_sha256: String,
    /// `ok` or `refused`.
    pub status: String,
    /// Why it was refused, or what was skipped.
    pub message: String,
    pub records: i64,
    pub added: i64,
    pub updated: i64,
    /// The newest record date in the file.
    pub newest_record_at: Option<String>,
    pub imported_at: String,
    pub imported_by: String,
}

/// What importing one file did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    /// Its `vuln_imports` row.
    pub import_id: i64,
    pub file_name: String,
    /// The feed it was read as.
    pub feed: Option<FeedKind>,
    /// Whether the file was read (records of a refused file are not kept beyond those already written).
    pub ok: bool,
    /// The reason it was refused, naming the file; or the members skipped in a zip.
    pub message: String,
    pub records: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub newest: Option<DateTime<Utc>>,
}

/// A feed's freshness, for the home page and every report.
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatus {
    pub feed: FeedKind,
    /// The latest successful import.
    pub last_import_at: Option<String>,
    /// The newest record date over its imports.
    pub newest_record_at: Option<String>,
    /// Records stored from it.
    pub records: i64,
    /// Never imported, or its newest record is older than the stale age: say so, never "no vulnerabilities".
    pub stale: bool,
}

/// The vulnerability status as a report gives it ([`Store::vuln_overview`]).
#[derive(Debug, Clone, Serialize)]
pub struct VulnOverview {
    /// Every feed's freshness.
    pub feeds: Vec<FeedStatus>,
    /// Findings per (severity code, status code).
    pub counts: Vec<(String, String, i64)>,
    /// The oldest active findings of severity `critical`, oldest first.
    pub oldest_critical: Vec<Finding>,
}

/// A vulnerability as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VulnRow {
    pub id: String,
    pub feed: String,
    pub title: String,
    /// `critical`, `high`, `medium`, `low`, `none`.
    pub severity: String,
    pub cvss_version: Option<String>,
    pub cvss_score: Option<f64>,
    /// Other ids, space-separated.
    pub aliases: String,
    pub published: Option<String>,
    pub last_modified: Option<String>,
    pub rejected: bool,
    pub updated_at: String,
    /// Active findings (未対応・対応中).
    pub active_findings: i64,
}

/// One record with everything the page of a vulnerability shows.
#[derive(Debug, Clone, Serialize)]
pub struct VulnDetail {
    pub row: VulnRow,
    pub record: Vulnerability,
    /// Records of other feeds that name it (JVN's Japanese text for a CVE, a CVE's OSV records).
    pub related: Vec<Vulnerability>,
    /// Earlier versions: (last modified, rejected, replaced at).
    pub history: Vec<(Option<String>, bool, String)>,
}

/// Filter of [`Store::vulnerabilities`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct VulnQuery {
    /// Id, alias or title contains.
    pub q: Option<String>,
    pub feed: Option<String>,
    pub severity: Option<String>,
    /// Only records with active findings.
    pub with_findings: bool,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A finding as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Finding {
    pub id: i64,
    /// `terminal` or `unyo`.
    pub subject: String,
    pub terminal_id: Option<i64>,
    pub hostname: Option<String>,
    pub site_name: Option<String>,
    pub software: String,
    /// CPE vendor:product or `crates.io:NAME`.
    pub product_key: String,
    pub version: String,
    pub fixed_version: Option<String>,
    pub vulnerability_id: String,
    pub title: String,
    pub severity: String,
    pub cvss_score: Option<f64>,
    pub status: String,
    /// How it was resolved or withdrawn: `inventory`, `removed`, `campaign`, `rejected`.
    pub resolution: Option<String>,
    pub inventory_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub consultation_id: Option<i64>,
    pub accepted_until: Option<String>,
    /// `YYYY-MM-DD` (JST).
    pub due_date: Option<String>,
    pub note: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl Finding {
    /// The status as a value.
    pub fn status(&self) -> FindingStatus {
        FindingStatus::parse(&self.status).unwrap_or(FindingStatus::Open)
    }

    /// Whether an active finding is past its due date on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status().is_active()
            && self
                .due_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .is_some_and(|d| d < today)
    }
}

/// One change of a finding.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FindingEvent {
    pub at: String,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub version: String,
    pub note: String,
}

/// Filter of [`Store::findings`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct FindingQuery {
    pub terminal_id: Option<i64>,
    /// A status code; `active` for 未対応 and 対応中.
    pub status: Option<String>,
    /// A vulnerability id or one of its aliases (`CVE-2024-0519`).
    pub cve: Option<String>,
    /// `terminal` or `unyo`.
    pub subject: Option<String>,
    pub severity: Option<String>,
    /// Software name contains.
    pub software: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A row of the CPE mapping table.
#[derive(Debug, Clone, Serialize)]
pub struct CpeMapping {
    pub id: i64,
    pub name_key: String,
    pub publisher_key: String,
    /// A name and publisher as an inventory reported them.
    pub sample_name: String,
    pub sample_publisher: String,
    pub sample_version: String,
    /// CPE 2.3 templates (version `*` takes the installed version); empty: not tracked.
    pub cpes: Vec<String>,
    /// `suggested` or `confirmed`.
    pub status: String,
    /// `known` (unyo's table), `guess`, `none` (nothing to suggest), `person` (entered by hand).
    pub suggested_by: String,
    /// Terminals whose latest inventory has it (at the last refresh).
    pub terminals: i64,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct CpeMappingRaw {
    id: i64,
    name_key: String,
    publisher_key: String,
    sample_name: String,
    sample_publisher: String,
    sample_version: String,
    cpes: String,
    status: String,
    suggested_by: String,
    terminals: i64,
    confirmed_by: Option<String>,
    confirmed_at: Option<String>,
    updated_at: String,
}

impl CpeMappingRaw {
    fn cook(self) -> CpeMapping {
        CpeMapping {
            id: self.id,
            name_key: self.name_key,
            publisher_key: self.publisher_key,
            sample_name: self.sample_name,
            sample_publisher: self.sample_publisher,
            sample_version: self.sample_version,
            cpes: serde_json::from_str(&self.cpes).unwrap_or_default(),
            status: self.status,
            suggested_by: self.suggested_by,
            terminals: self.terminals,
            confirmed_by: self.confirmed_by,
            confirmed_at: self.confirmed_at,
            updated_at: self.updated_at,
        }
    }
}

/// What a matching run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchSummary {
    /// Subjects looked at (terminals with an inventory, plus unyo).
    pub subjects: u64,
    /// New findings.
    pub opened: u64,
    /// Findings seen again (version or severity refreshed).
    pub seen: u64,
    /// Findings made 対応済 by a later inventory.
    pub resolved: u64,
    /// Findings withdrawn because their record was rejected.
    pub withdrawn: u64,
    /// Resolved or withdrawn findings hit again.
    pub reopened: u64,
}

const VULN_COLUMNS: &str = "v.id, v.feed, v.title, v.severity, v.cvss_version, v.cvss_score, v.aliases, v.published,
     v.last_modified, v.rejected, v.updated_at,
     (SELECT COUNT(*) FROM vuln_findings f WHERE f.vulnerability_id = v.id AND f.status IN ('open', 'in_progress')) AS active_findings";

const FINDING_COLUMNS: &str = "f.id, f.subject, f.terminal_id, t.hostname, s.name AS site_name, f.software, f.product_key,
     f.version, f.fixed_version, f.vulnerability_id, v.title, f.severity, v.cvss_score, f.status, f.resolution,
     f.inventory_id, f.campaign_id, f.consultation_id, f.accepted_until, f.due_date, f.note, f.first_seen_at,
     f.last_seen_at, f.updated_at, f.updated_by";

const FINDING_FROM: &str = "vuln_findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
     LEFT JOIN terminals t ON t.id = f.terminal_id LEFT JOIN sites s ON s.id = t.site_id";

// ------------------------------------------------------------------------------------------------ reading files

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    read: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.read += n as u64;
        if self.read > MAX_FILE {
            return Err(std::io::Error::other("ファイルが大きすぎます"));
        }
        Ok(n)
    }
}

enum Msg {
    Kind(FeedKind),
    Batch(Vec<Vulnerability>),
}

/// What the blocking reader hands back at the end.
struct Parsed {
    sha256: String,
    newest: Option<DateTime<Utc>>,
    records: u64,
    warnings: Vec<String>,
}

fn feed_of(kind: FileKind) -> FeedKind {
    match kind {
        FileKind::Nvd => FeedKind::Nvd,
        FileKind::Osv | FileKind::OsvZip => FeedKind::Osv,
        FileKind::Jvn => FeedKind::Jvn,
        FileKind::Rustsec => FeedKind::Rustsec,
    }
}

/// Parses one file on the calling (blocking) thread, sending its records in batches.
fn parse_blocking<R: Read>(
    name: &str,
    reader: R,
    tx: tokio::sync::mpsc::Sender<Msg>,
) -> std::result::Result<Parsed, (String, FeedError)> {
    let mut hashing = Hashing {
        inner: reader,
        hash: Sha256::new(),
        read: 0,
    };
    let sha = |h: Sha256| hex::encode(h.finalize());
    let mut buf = BufReader::with_capacity(256 * 1024, &mut hashing);
    let head = buf
        .fill_buf()
        .map_err(|e| (String::new(), e.into()))?
        .to_vec();
    let head = &head[..head.len().min(4096)];
    let Some(kind) = unyo_vuln::detect(name, head) else {
        drop(buf);
        let mut rest = Vec::new();
        let _ = hashing.read_to_end(&mut rest);
        return Err((
            sha(hashing.hash),
            FeedError::Unrecognized(
                "NVD (JSON)・JVN (XML)・OSV (JSON, ZIP)・RustSec (Markdown/TOML) のいずれでもありません"
                    .into(),
            ),
        ));
    };
    let feed = feed_of(kind);
    let stopped = || "取込が中断されました".to_string();
    tx.blocking_send(Msg::Kind(feed))
        .map_err(|_| (String::new(), FeedError::Sink(stopped())))?;
    let mut batch: Vec<Vulnerability> = Vec::with_capacity(BATCH);
    let mut warnings = Vec::new();
    let mut sink = |v: Vulnerability| -> std::result::Result<(), String> {
        batch.push(v);
        if batch.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            tx.blocking_send(Msg::Batch(full)).map_err(|_| stopped())?;
        }
        Ok(())
    };
    let result = match kind {
        FileKind::Nvd => unyo_vuln::nvd::read(&mut buf, &mut sink),
        other => {
            let mut bytes = Vec::new();
            match buf.read_to_end(&mut bytes) {
                Err(e) => Err(e.into()),
                Ok(_) => match other {
                    FileKind::Osv => unyo_vuln::osv::read(&bytes, &mut sink),
                    FileKind::OsvZip => {
                        unyo_vuln::osv::read_zip(std::io::Cursor::new(&bytes), &mut sink).map(
                            |(s, errors)| {
                                for e in errors {
                                    warnings.push(format!("{}: {}", e.name, e.error));
                                }
                                s
                            },
                        )
                    }
                    FileKind::Jvn => unyo_vuln::jvn::read(&bytes, &mut sink),
                    _ => unyo_vuln::rustsec::read(&bytes, &mut sink),
                },
            }
        }
    };
    let last = std::mem::take(&mut batch);
    // Read what the parser left (trailing bytes), so the digest is the whole file's.
    let mut rest = Vec::new();
    let _ = buf.read_to_end(&mut rest);
    drop(buf);
    let digest = sha(hashing.hash);
    match result {
        Ok(summary) => {
            if !last.is_empty() {
                tx.blocking_send(Msg::Batch(last))
                    .map_err(|_| (digest.clone(), FeedError::Sink(stopped())))?;
            }
            Ok(Parsed {
                sha256: digest,
                newest: summary.newest,
                records: summary.records,
                warnings,
            })
        }
        Err(e) => Err((digest, e)),
    }
}

/// The files under a path: the path itself, or every file below a directory (sorted, hidden ones skipped).
pub fn feed_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a file below a directory is a feed file rather than documentation next to it (README, LICENSE).
fn looks_like_feed(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let ext_ok = [".json", ".json.gz", ".gz", ".xml", ".zip", ".toml", ".md"]
        .iter()
        .any(|e| name.ends_with(e));
    // RustSec advisories are `RUSTSEC-*.md`; other Markdown next to feeds is documentation.
    ext_ok && (!name.ends_with(".md") || name.starts_with("rustsec-"))
}

// ------------------------------------------------------------------------------------------------ store

fn severity_of(v: &Vulnerability) -> (String, Option<String>, Option<f64>) {
    let main = v.main_cvss();
    (
        v.severity().as_str().to_owned(),
        main.map(|c| c.version.as_str().to_owned()),
        main.and_then(|c| c.score).map(f64::from),
    )
}

fn aliases_text(v: &Vulnerability) -> String {
    if v.aliases.is_empty() {
        String::new()
    } else {
        format!(" {} ", v.aliases.join(" "))
    }
}

fn storage(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(unyo_domain::time::to_storage)
}

fn due_date(severity: &str, from: NaiveDate) -> String {
    let days = unyo_vuln::Severity::parse(severity)
        .unwrap_or(unyo_vuln::Severity::None)
        .due_days();
    (from + Duration::days(days)).format("%Y-%m-%d").to_string()
}

/// A record's columns: id, title, severity, CVSS version, score, aliases, published, last modified, rejected,
/// matchable, JSON.
struct RecordRow(
    String,
    String,
    String,
    Option<String>,
    Option<f64>,
    String,
    Option<String>,
    Option<String>,
    bool,
    bool,
    String,
);

/// A software seen in the latest inventories: a sample name, publisher and version, and the terminals with it.
type SeenSoftware = (String, String, String, HashSet<i64>);

/// One affected item found by matching.
struct Hit {
    subject_key: String,
    terminal_id: Option<i64>,
    software: String,
    product_key: String,
    version: String,
    fixed: Option<String>,
    vuln: usize,
    inventory_id: Option<i64>,
}

/// Appends a row to a finding's history (inside the caller's transaction).
macro_rules! finding_event {
    ($tx:expr, $id:expr, $at:expr, $actor:expr, $from:expr, $to:expr, $version:expr, $note:expr) => {
        sqlx::query(
            "INSERT INTO vuln_finding_events (finding_id, at, actor, from_status, to_status, version, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($at)
        .bind($actor)
        .bind($from)
        .bind($to)
        .bind($version)
        .bind($note)
        .execute(&mut *$tx)
        .await?
    };
}

impl Store {
    /// Imports one feed file from a reader: detects its kind, parses it on a blocking thread and writes its
    /// records in batches. A file that cannot be read is recorded as refused (its reason names the file) and
    /// `Ok` is returned with `ok == false`; only a database failure is an `Err`. Needs
    /// [`Action::ImportFeeds`]. Audited as `vuln.import` (or `vuln.import_refused`), each batch as
    /// `vuln.import_batch`.
    pub async fn import_feed_reader<R: Read + Send + 'static>(
        &self,
        actor: &Actor,
        file_name: &str,
        reader: R,
    ) -> Result<ImportOutcome> {
        actor.require(Action::ImportFeeds)?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(2);
        let name = file_name.to_owned();
        let handle = tokio::task::spawn_blocking(move || parse_blocking(&name, reader, tx));
        let mut import_id: Option<i64> = None;
        let mut feed: Option<FeedKind> = None;
        let (mut added, mut updated, mut unchanged) = (0u64, 0u64, 0u64);
        let mut db_error: Option<StoreError> = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Kind(k) => {
                    feed = Some(k);
                    match self.begin_import(actor, file_name, k).await {
                        Ok(id) => import_id = Some(id),
                        Err(e) => {
                            db_error = Some(e);
                            break;
                        }
                    }
                }
                Msg::Batch(batch) => {
                    let Some(id) = import_id else { continue };
                    match self.write_batch(actor, id, &batch).await {
                        Ok((a, u, n)) => {
                            added += a;
                            updated += u;
                            unchanged += n;
                        }
                        Err(e) => {
                            db_error = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        // Dropping the receiver stops the parser if the database failed.
        drop(rx);
        let parsed = handle
            .await
            .map_err(|e| StoreError::caused("feed parser", e))?;
        if let Some(e) = db_error {
            return Err(e);
        }
        let (ok, message, sha, newest, records) = match parsed {
            Ok(p) => (true, p.warnings.join("\n"), p.sha256, p.newest, p.records),
            Err((sha, e)) => {
                let mut msg = format!("{file_name}: {e}");
                if added + updated > 0 {
                    msg.push_str(&format!(
                        "（それまでに読めた {} 件は取り込み済みです）",
                        added + updated
                    ));
                }
                (false, msg, sha, None, 0)
            }
        };
        let at = now();
        let feed_code = feed.map(|f| f.as_str()).unwrap_or("");
        let id = write_tx!(self, |tx| {
            let id = match import_id {
                Some(id) => id,
                None => {
                    sqlx::query_scalar::<_, i64>(
                        "INSERT INTO vuln_imports (feed, file_name, file_sha256, status, imported_at, imported_by)
                         VALUES ($1, $2, '', 'refused', $3, $4) RETURNING id",
                    )
                    .bind(feed_code)
                    .bind(file_name)
                    .bind(&at)
                    .bind(&actor.username)
                    .fetch_one(&mut *tx)
                    .await?
                }
            };
            sqlx::query(
                "UPDATE vuln_imports SET file_sha256 = $1, status = $2, message = $3, records = $4, added = $5,
                 updated = $6, newest_record_at = $7 WHERE id = $8",
            )
            .bind(&sha)
            .bind(if ok { "ok" } else { "refused" })
            .bind(&message)
            .bind(records as i64)
            .bind(added as i64)
            .bind(updated as i64)
            .bind(storage(newest))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(
                    actor,
                    if ok {
                        "vuln.import"
                    } else {
                        "vuln.import_refused"
                    },
                    "vuln_import",
                    id,
                )
                .details(json!({
                    "file": file_name, "feed": feed_code, "sha256": sha, "records": records,
                    "added": added, "updated": updated, "unchanged": unchanged,
                    "newest": storage(newest), "message": message,
                })),
            )
            .await?;
            id
        });
        Ok(ImportOutcome {
            import_id: id,
            file_name: file_name.to_owned(),
            feed,
            ok,
            message,
            records,
            added,
            updated,
            unchanged,
            newest,
        })
    }

    /// Imports every feed file at a path (a file, or a directory walked recursively: NVD/OSV/JVN files and
    /// RustSec `RUSTSEC-*.md` advisories; READMEs and licences beside them are skipped). One outcome per
    /// file; a file that cannot be opened is an outcome too. The demo loads the sample feeds with it.
    pub async fn import_feed_path(&self, actor: &Actor, path: &Path) -> Result<Vec<ImportOutcome>> {
        actor.require(Action::ImportFeeds)?;
        let is_dir = path.is_dir();
        let files = feed_files(path).map_err(|e| {
            StoreError::Domain(DomainError::Validation(vec![FieldError::new(
                "ファイル",
                format!("{}: 読めません（{e}）", path.display()),
            )]))
        })?;
        let mut out = Vec::new();
        for f in files {
            if is_dir && !looks_like_feed(&f) {
                continue;
            }
            let name = if is_dir {
                f.strip_prefix(path).unwrap_or(&f).display().to_string()
            } else {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.display().to_string())
            };
            match std::fs::File::open(&f) {
                Ok(file) => out.push(self.import_feed_reader(actor, &name, file).await?),
                Err(e) => {
                    let reader = std::io::Cursor::new(Vec::new());
                    let mut o = self.import_feed_reader(actor, &name, reader).await?;
                    o.message = format!("{name}: 開けません（{e}）");
                    out.push(o);
                }
            }
        }
        Ok(out)
    }

    async fn begin_import(&self, actor: &Actor, file_name: &str, feed: FeedKind) -> Result<i64> {
        let at = now();
        Ok(write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO vuln_imports (feed, file_name, file_sha256, status, imported_at, imported_by)
                 VALUES ($1, $2, '', 'ok', $3, $4) RETURNING id",
            )
            .bind(feed.as_str())
            .bind(file_name)
            .bind(&at)
            .bind(&actor.username)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "vuln.import_start", "vuln_import", id)
                    .details(json!({ "file": file_name, "feed": feed.as_str() })),
            )
            .await?;
            id
        }))
    }

    /// Writes one batch: new records inserted, newer versions replacing older ones (which go to the history),
    /// the same version skipped. Returns (added, updated, unchanged).
    async fn write_batch(
        &self,
        actor: &Actor,
        import_id: i64,
        batch: &[Vulnerability],
    ) -> Result<(u64, u64, u64)> {
        // The last occurrence of an id in a batch wins.
        let mut latest: HashMap<&str, &Vulnerability> = HashMap::new();
        for v in batch {
            latest.insert(v.id.as_str(), v);
        }
        let ids: Vec<&str> = latest.keys().copied().collect();
        let at = now();
        let mut rows: Vec<RecordRow> = Vec::with_capacity(ids.len());
        for v in latest.values() {
            let (sev, cv, score) = severity_of(v);
            let data = serde_json::to_string(v)
                .map_err(|e| StoreError::caused(format!("record {}", v.id), e))?;
            let matchable = !v.configurations.is_empty() || !v.packages.is_empty();
            rows.push(RecordRow(
                v.id.clone(),
                v.display_title(),
                sev,
                cv,
                score,
                aliases_text(v),
                storage(v.published),
                storage(v.last_modified),
                v.rejected,
                matchable,
                data,
            ));
        }
        let feed_of_batch = batch.first().map(|v| v.feed.as_str()).unwrap_or("");
        Ok(write_tx!(self, |tx| {
            let mut existing: HashMap<String, Option<String>> = HashMap::new();
            for chunk in ids.chunks(500) {
                let mut f = Filter::default();
                let sql = format!(
                    "SELECT id, last_modified FROM vulnerabilities WHERE id IN ({})",
                    placeholders(&mut f, chunk)
                );
                let q = bind_params!(
                    sqlx::query_as::<_, (String, Option<String>)>(sqlx::AssertSqlSafe(sql)),
                    f.params
                );
                for (id, lm) in q.fetch_all(&mut *tx).await? {
                    existing.insert(id, lm);
                }
            }
            let (mut added, mut updated, mut unchanged) = (0u64, 0u64, 0u64);
            for r in &rows {
                match existing.get(&r.0) {
                    None => {
                        sqlx::query(
                            "INSERT INTO vulnerabilities (id, feed, title, severity, cvss_version, cvss_score, aliases,
                             published, last_modified, rejected, matchable, data, import_id, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                        )
                        .bind(&r.0)
                        .bind(feed_of_batch)
                        .bind(&r.1)
                        .bind(&r.2)
                        .bind(&r.3)
                        .bind(r.4)
                        .bind(&r.5)
                        .bind(&r.6)
                        .bind(&r.7)
                        .bind(r.8)
                        .bind(r.9)
                        .bind(&r.10)
                        .bind(import_id)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                        added += 1;
                    }
                    Some(old) if old.as_deref() == r.7.as_deref() => unchanged += 1,
                    Some(_) => {
                        sqlx::query(
                            "INSERT INTO vulnerability_history (vulnerability_id, last_modified, rejected, data,
                             import_id, replaced_at, replaced_by_import)
                             SELECT id, last_modified, rejected, data, import_id, $2, $3 FROM vulnerabilities WHERE id = $1",
                        )
                        .bind(&r.0)
                        .bind(&at)
                        .bind(import_id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE vulnerabilities SET title = $2, severity = $3, cvss_version = $4, cvss_score = $5,
                             aliases = $6, published = $7, last_modified = $8, rejected = $9, matchable = $10,
                             data = $11, import_id = $12, updated_at = $13 WHERE id = $1",
                        )
                        .bind(&r.0)
                        .bind(&r.1)
                        .bind(&r.2)
                        .bind(&r.3)
                        .bind(r.4)
                        .bind(&r.5)
                        .bind(&r.6)
                        .bind(&r.7)
                        .bind(r.8)
                        .bind(r.9)
                        .bind(&r.10)
                        .bind(import_id)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                        updated += 1;
                    }
                }
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "vuln.import_batch", "vuln_import", import_id).details(
                    json!({ "records": rows.len(), "added": added, "updated": updated, "unchanged": unchanged }),
                ),
            )
            .await?;
            (added, updated, unchanged)
        }))
    }

    /// The latest imports, newest first.
    pub async fn feed_imports(&self, limit: i64) -> Result<Vec<FeedImport>> {
        Ok(read_db!(self, |db| {
            sqlx::query_as(
            "SELECT id, feed, file_name, file_sha256, status, message, records, added, updated, newest_record_at,
             imported_at, imported_by FROM vuln_imports ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(db)
        .await?
        }))
    }

    /// Every feed's freshness at `at`: stale when never imported or its newest record is older than
    /// `stale_days`.
    pub async fn feed_status(&self, at: DateTime<Utc>, stale_days: i64) -> Result<Vec<FeedStatus>> {
        let imports: Vec<(String, Option<String>, Option<String>)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT feed, MAX(imported_at), MAX(newest_record_at) FROM vuln_imports WHERE status = 'ok' GROUP BY feed"
        )
        .fetch_all(db)
        .await?
        });
        let counts: Vec<(String, i64)> = read_db!(self, |db| sqlx::query_as(
            "SELECT feed, COUNT(*) FROM vulnerabilities GROUP BY feed"
        )
        .fetch_all(db)
        .await?);
        let limit = at - Duration::days(stale_days);
        Ok([
            FeedKind::Nvd,
            FeedKind::Jvn,
            FeedKind::Osv,
            FeedKind::Rustsec,
        ]
        .into_iter()
        .map(|feed| {
            let row = imports.iter().find(|r| r.0 == feed.as_str());
            let newest = row.and_then(|r| r.2.clone());
            let stale = newest
                .as_deref()
                .and_then(unyo_domain::time::from_storage)
                .is_none_or(|d| d < limit);
            FeedStatus {
                feed,
                last_import_at: row.and_then(|r| r.1.clone()),
                newest_record_at: newest,
                records: counts
                    .iter()
                    .find(|c| c.0 == feed.as_str())
                    .map(|c| c.1)
                    .unwrap_or(0),
                stale,
            }
        })
        .collect())
    }

    /// The vulnerability status a report gives: every feed's freshness at `at`, the findings counted by
    /// (severity, status), and the `limit` oldest active (未対応・対応中) findings of severity `critical`.
    pub async fn vuln_overview(
        &self,
        at: DateTime<Utc>,
        stale_days: i64,
        limit: i64,
    ) -> Result<VulnOverview> {
        let feeds = self.feed_status(at, stale_days).await?;
        let counts: Vec<(String, String, i64)> = read_db!(self, |db| sqlx::query_as(
            "SELECT severity, status, CAST(COUNT(*) AS BIGINT) FROM vuln_findings
             GROUP BY severity, status ORDER BY severity, status"
        )
        .fetch_all(db)
        .await?);
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}
             WHERE f.severity = 'critical' AND f.status IN ('open', 'in_progress')
             ORDER BY f.first_seen_at, f.id LIMIT $1"
        );
        let oldest_critical: Vec<Finding> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(limit)
                .fetch_all(db)
                .await?);
        Ok(VulnOverview {
            feeds,
            counts,
            oldest_critical,
        })
    }

    /// Vulnerabilities with filters and paging, most severe and newest first.
    pub async fn vulnerabilities(&self, q: &VulnQuery) -> Result<Page<VulnRow>> {
        let mut f = Filter::default();
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(contains_pattern(text)));
            f.push(format!(
                "(LOWER(v.id) LIKE {p} ESCAPE '\\' OR LOWER(v.aliases) LIKE {p} ESCAPE '\\' OR LOWER(v.title) LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(feed) = q.feed.as_deref().filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(feed.to_owned()));
            f.push(format!("v.feed = {p}"));
        }
        if let Some(sev) = q.severity.as_deref().filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(sev.to_owned()));
            f.push(format!("v.severity = {p}"));
        }
        if q.with_findings {
            f.push(
                "EXISTS (SELECT 1 FROM vuln_findings x WHERE x.vulnerability_id = v.id AND x.status IN ('open', 'in_progress'))"
                    .into(),
            );
        }
        let where_ = f.where_clause();
        let count_sql = format!("SELECT COUNT(*) FROM vulnerabilities v{where_}");
        let list_sql = format!(
            "SELECT {VULN_COLUMNS} FROM vulnerabilities v{where_}
             ORDER BY CASE v.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END,
             v.published DESC, v.id"
        );
        self.page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await
    }

    /// One vulnerability with its related records (other feeds naming it) and earlier versions.
    pub async fn vulnerability(&self, id: &str) -> Result<VulnDetail> {
        let sql = format!("SELECT {VULN_COLUMNS} FROM vulnerabilities v WHERE v.id = $1");
        let row: Option<VulnRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let row = row.ok_or(StoreError::Domain(DomainError::NotFound(
            "脆弱性情報".into(),
        )))?;
        let data: String = read_db!(self, |db| sqlx::query_scalar(
            "SELECT data FROM vulnerabilities WHERE id = $1"
        )
        .bind(id)
        .fetch_one(db)
        .await?);
        let record: Vulnerability = serde_json::from_str(&data)
            .map_err(|e| StoreError::caused(format!("record {id}"), e))?;
        // Records naming this one, and those this one names.
        let mut ids: Vec<String> = record.aliases.clone();
        ids.retain(|a| a != id);
        let pattern = format!("% {id} %");
        let mut related_data: Vec<String> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT data FROM vulnerabilities WHERE aliases LIKE $1 AND id <> $2 ORDER BY id"
        )
        .bind(&pattern)
        .bind(id)
        .fetch_all(db)
        .await?);
        for a in &ids {
            let d: Option<String> = read_db!(self, |db| sqlx::query_scalar(
                "SELECT data FROM vulnerabilities WHERE id = $1"
            )
            .bind(a)
            .fetch_optional(db)
            .await?);
            related_data.extend(d);
        }
        let mut related: Vec<Vulnerability> = related_data
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        related.dedup_by(|a, b| a.id == b.id);
        let history: Vec<(Option<String>, bool, String)> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT last_modified, rejected, replaced_at FROM vulnerability_history WHERE vulnerability_id = $1 ORDER BY id DESC"
        )
        .bind(id)
        .fetch_all(db)
        .await?
        });
        Ok(VulnDetail {
            row,
            record,
            related,
            history,
        })
    }

    /// Findings with filters and paging: active ones first, then by severity and due date.
    pub async fn findings(&self, q: &FindingQuery) -> Result<Page<Finding>> {
        let mut f = Filter::default();
        if let Some(t) = q.terminal_id {
            let p = f.bind(Param::Int(t));
            f.push(format!("f.terminal_id = {p}"));
        }
        match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some("active") => f.push("f.status IN ('open', 'in_progress')".into()),
            Some(s) => {
                let p = f.bind(Param::Text(s.to_owned()));
                f.push(format!("f.status = {p}"));
            }
            None => {}
        }
        if let Some(cve) = q.cve.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let p1 = f.bind(Param::Text(cve.to_uppercase()));
            let p2 = f.bind(Param::Text(format!("% {} %", cve.to_uppercase())));
            f.push(format!(
                "(f.vulnerability_id = {p1} OR v.aliases LIKE {p2})"
            ));
        }
        if let Some(s) = q.subject.as_deref().filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(s.to_owned()));
            f.push(format!("f.subject = {p}"));
        }
        if let Some(s) = q.severity.as_deref().filter(|s| !s.is_empty()) {
            let p = f.bind(Param::Text(s.to_owned()));
            f.push(format!("f.severity = {p}"));
        }
        if let Some(s) = q
            .software
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let p = f.bind(Param::Text(contains_pattern(s)));
            f.push(format!("LOWER(f.software) LIKE {p} ESCAPE '\\'"));
        }
        let where_ = f.where_clause();
        let count_sql = format!("SELECT COUNT(*) FROM {FINDING_FROM}{where_}");
        let list_sql = format!(
            "SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}{where_}
             ORDER BY CASE f.status WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END,
             CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END,
             f.due_date, f.id"
        );
        self.page_of(
            count_sql,
            list_sql,
            &f.params,
            paging_up_to(q.page, q.per_page, 1000),
        )
        .await
    }

    /// One finding.
    pub async fn finding(&self, id: i64) -> Result<Finding> {
        let sql = format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM} WHERE f.id = $1");
        let row: Option<Finding> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.ok_or(StoreError::Domain(DomainError::NotFound(
            "脆弱性情報".into(),
        )))
    }

    /// A finding's history, oldest first.
    pub async fn finding_events(&self, id: i64) -> Result<Vec<FindingEvent>> {
        Ok(read_db!(self, |db| sqlx::query_as(
            "SELECT at, actor, from_status, to_status, version, note FROM vuln_finding_events
             WHERE finding_id = $1 ORDER BY id"
        )
        .bind(id)
        .fetch_all(db)
        .await?))
    }

    // -------------------------------------------------------------------------------------------- mappings

    /// The CPE mapping table; `status` filters (`suggested`, `confirmed`). Most used first.
    pub async fn cpe_mappings(&self, status: Option<&str>) -> Result<Vec<CpeMapping>> {
        let base = "SELECT id, name_key, publisher_key, sample_name, sample_publisher, sample_version, cpes, status,
                    suggested_by, terminals, confirmed_by, confirmed_at, updated_at FROM cpe_mappings";
        let rows: Vec<CpeMappingRaw> = match status.filter(|s| !s.is_empty()) {
            Some(s) => read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{base} WHERE status = $1 ORDER BY terminals DESC, name_key"
            )))
            .bind(s)
            .fetch_all(db)
            .await?),
            None => read_db!(self, |db| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{base} ORDER BY CASE status WHEN 'suggested' THEN 0 ELSE 1 END, terminals DESC, name_key"
            )))
            .fetch_all(db)
            .await?
            }),
        };
        Ok(rows.into_iter().map(CpeMappingRaw::cook).collect())
    }

    /// One mapping.
    pub async fn cpe_mapping(&self, id: i64) -> Result<CpeMapping> {
        let row: Option<CpeMappingRaw> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT id, name_key, publisher_key, sample_name, sample_publisher, sample_version, cpes, status,
             suggested_by, terminals, confirmed_by, confirmed_at, updated_at FROM cpe_mappings WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(db)
        .await?
        });
        row.map(CpeMappingRaw::cook)
            .ok_or(StoreError::Domain(DomainError::NotFound(
                "脆弱性情報".into(),
            )))
    }

    /// Adds a suggestion for every (name, publisher) in the latest inventories that has no row yet, and
    /// refreshes how many terminals have each. Needs [`Action::ImportFeeds`] (it runs before matching).
    /// Audited as `cpe_mapping.suggest` when something was added. Returns the number added.
    pub async fn refresh_cpe_suggestions(&self, actor: &Actor) -> Result<u64> {
        actor.require(Action::ImportFeeds)?;
        let latest = self.latest_inventories().await?;
        // (name key, publisher key) → (sample name, publisher, version, terminals)
        let mut seen: HashMap<(String, String), SeenSoftware> = HashMap::new();
        for inv in &latest {
            let Some(tid) = inv.terminal_id else { continue };
            for sw in &inv.snapshot.software {
                let key = (
                    unyo_vuln::mapping::name_key(&sw.name),
                    unyo_vuln::mapping::publisher_key(sw.publisher.as_deref().unwrap_or("")),
                );
                if key.0.is_empty() {
                    continue;
                }
                let e = seen.entry(key).or_insert_with(|| {
                    (
                        sw.name.clone(),
                        sw.publisher.clone().unwrap_or_default(),
                        sw.version.clone().unwrap_or_default(),
                        HashSet::new(),
                    )
                });
                e.3.insert(tid);
            }
        }
        let existing: Vec<(String, String)> = read_db!(self, |db| sqlx::query_as(
            "SELECT name_key, publisher_key FROM cpe_mappings"
        )
        .fetch_all(db)
        .await?);
        let existing: HashSet<(String, String)> = existing.into_iter().collect();
        let at = now();
        let mut added = 0u64;
        let mut added_names = Vec::new();
        write_tx!(self, |tx| {
            for (key, (name, publisher, version, terminals)) in &seen {
                if existing.contains(key) {
                    sqlx::query(
                        "UPDATE cpe_mappings SET terminals = $3 WHERE name_key = $1 AND publisher_key = $2",
                    )
                    .bind(&key.0)
                    .bind(&key.1)
                    .bind(terminals.len() as i64)
                    .execute(&mut *tx)
                    .await?;
                    continue;
                }
                let (cpes, by) = match unyo_vuln::mapping::suggest(name, publisher) {
                    Some((c, by)) => (
                        c.iter().map(Cpe::to_string).collect::<Vec<_>>(),
                        by.as_str(),
                    ),
                    None => (Vec::new(), "none"),
                };
                sqlx::query(
                    "INSERT INTO cpe_mappings (name_key, publisher_key, sample_name, sample_publisher, sample_version,
                     cpes, status, suggested_by, terminals, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'suggested', $7, $8, $9)",
                )
                .bind(&key.0)
                .bind(&key.1)
                .bind(name)
                .bind(publisher)
                .bind(version)
                .bind(serde_json::to_string(&cpes).unwrap_or_else(|_| "[]".into()))
                .bind(by)
                .bind(terminals.len() as i64)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                added += 1;
                added_names.push(name.clone());
            }
            if added > 0 {
                tx.append_audit(
                    &NewAuditEntry::new(actor, "cpe_mapping.suggest", "cpe_mapping", "")
                        .details(json!({ "added": added, "names": added_names })),
                )
                .await?;
            }
        });
        Ok(added)
    }

    /// Confirms a mapping as suggested (`cpes` = `None`) or corrects it with the given CPE 2.3 templates (an
    /// empty list: the software has no CPE and is not tracked). Needs [`Action::ReviewCpeMappings`]. Audited as
    /// `cpe_mapping.confirm` / `cpe_mapping.correct`.
    pub async fn confirm_cpe_mapping(
        &self,
        actor: &Actor,
        id: i64,
        cpes: Option<&[String]>,
    ) -> Result<CpeMapping> {
        actor.require(Action::ReviewCpeMappings)?;
        let current = self.cpe_mapping(id).await?;
        let (list, action) = match cpes {
            Some(list) => (validate_cpes(list)?, "cpe_mapping.correct"),
            None => (current.cpes.clone(), "cpe_mapping.confirm"),
        };
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE cpe_mappings SET cpes = $2, status = 'confirmed', confirmed_by = $3, confirmed_at = $4,
                 updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
            .bind(&actor.username)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, action, "cpe_mapping", id).details(json!({
                    "name": current.sample_name, "publisher": current.sample_publisher,
                    "before": current.cpes, "after": list,
                })),
            )
            .await?;
        });
        self.cpe_mapping(id).await
    }

    /// Sets the confirmed mapping of a software name and publisher, creating the row when there is none (the
    /// demo and tests use it; people go through [`Store::confirm_cpe_mapping`]). Needs
    /// [`Action::ReviewCpeMappings`]. Audited as `cpe_mapping.correct`.
    pub async fn set_cpe_mapping(
        &self,
        actor: &Actor,
        name: &str,
        publisher: &str,
        cpes: &[String],
    ) -> Result<CpeMapping> {
        actor.require(Action::ReviewCpeMappings)?;
        let list = validate_cpes(cpes)?;
        let nk = unyo_vuln::mapping::name_key(name);
        let pk = unyo_vuln::mapping::publisher_key(publisher);
        let at = now();
        let json_list = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
        let id = write_tx!(self, |tx| {
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM cpe_mappings WHERE name_key = $1 AND publisher_key = $2",
            )
            .bind(&nk)
            .bind(&pk)
            .fetch_optional(&mut *tx)
            .await?;
            let id = match id {
                Some(id) => {
                    sqlx::query(
                        "UPDATE cpe_mappings SET cpes = $2, status = 'confirmed', confirmed_by = $3,
                         confirmed_at = $4, updated_at = $4 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&json_list)
                    .bind(&actor.username)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => {
                    sqlx::query_scalar(
                        "INSERT INTO cpe_mappings (name_key, publisher_key, sample_name, sample_publisher, cpes,
                         status, suggested_by, confirmed_by, confirmed_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, 'confirmed', 'person', $6, $7, $7) RETURNING id",
                    )
                    .bind(&nk)
                    .bind(&pk)
                    .bind(name)
                    .bind(publisher)
                    .bind(&json_list)
                    .bind(&actor.username)
                    .bind(&at)
                    .fetch_one(&mut *tx)
                    .await?
                }
            };
            tx.append_audit(
                &NewAuditEntry::new(actor, "cpe_mapping.correct", "cpe_mapping", id)
                    .details(json!({ "name": name, "publisher": publisher, "after": list })),
            )
            .await?;
            id
        });
        self.cpe_mapping(id).await
    }

    // -------------------------------------------------------------------------------------------- matching

    /// Matches the latest inventory of every terminal in service (through the confirmed CPE mappings and the
    /// OS's build) and unyo's own SBOM against every stored record, and brings the findings up to date (see
    /// the module documentation). Needs [`Action::ImportFeeds`]. One transaction, audited as `vuln.match`.
    pub async fn rematch_vulnerabilities(&self, actor: &Actor) -> Result<MatchSummary> {
        actor.require(Action::ImportFeeds)?;
        self.refresh_cpe_suggestions(actor).await?;
        // Records that can match: rejected ones are loaded too (by id only) to withdraw their findings.
        let data: Vec<String> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT data FROM vulnerabilities WHERE matchable AND NOT rejected ORDER BY id"
        )
        .fetch_all(db)
        .await?);
        let records: Vec<Vulnerability> = data
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        drop(data);
        let rejected: HashSet<String> = read_db!(self, |db| sqlx::query_scalar::<_, String>(
            "SELECT id FROM vulnerabilities WHERE rejected"
        )
        .fetch_all(db)
        .await?)
        .into_iter()
        .collect();
        let index = Index::build(&records);
        let mappings: HashMap<(String, String), Vec<Cpe>> = self
            .cpe_mappings(Some("confirmed"))
            .await?
            .into_iter()
            .map(|m| {
                (
                    (m.name_key, m.publisher_key),
                    m.cpes.iter().filter_map(|c| c.parse().ok()).collect(),
                )
            })
            .collect();
        let in_service: HashSet<i64> = read_db!(self, |db| sqlx::query_scalar::<_, i64>(
            "SELECT id FROM terminals WHERE retired_at IS NULL"
        )
        .fetch_all(db)
        .await?)
        .into_iter()
        .collect();
        let latest = self.latest_inventories().await?;

        let mut hits: Vec<Hit> = Vec::new();
        // What each terminal's latest inventory has, by product key: (version, inventory id).
        let mut present: HashMap<(String, String), (String, i64)> = HashMap::new();
        let mut subjects = 0u64;
        for inv in &latest {
            let Some(tid) = inv.terminal_id.filter(|t| in_service.contains(t)) else {
                continue;
            };
            subjects += 1;
            let subject_key = format!("terminal:{tid}");
            let os = &inv.snapshot.os;
            let windows = os
                .name
                .as_deref()
                .or(os.full_name.as_deref())
                .is_some_and(|n| n.to_lowercase().contains("windows"));
            let target_sw = windows.then_some("windows");
            let mut subject = Subject::default();
            // For each CPE of the subject: (software name, version).
            let mut labels: Vec<(String, String)> = Vec::new();
            if let (Some(full), Some(build)) = (
                os.full_name.as_deref().or(os.name.as_deref()),
                os.build.as_deref(),
            ) && let Some(c) = unyo_vuln::mapping::os_cpe(full, build)
            {
                subject.platforms = matching::platforms_of(&c);
                labels.push((full.to_owned(), build.to_owned()));
                subject.cpes.push(c);
            } else if windows {
                let mut w = Cpe::product("o", "microsoft", "windows");
                w.attrs[unyo_vuln::cpe::attr::VERSION] = unyo_vuln::cpe::Comp::Na;
                subject.platforms.push(w);
            }
            for sw in &inv.snapshot.software {
                let key = (
                    unyo_vuln::mapping::name_key(&sw.name),
                    unyo_vuln::mapping::publisher_key(sw.publisher.as_deref().unwrap_or("")),
                );
                let Some(templates) = mappings.get(&key) else {
                    continue;
                };
                for t in templates {
                    if let Some(c) = unyo_vuln::mapping::installed(
                        t,
                        &sw.name,
                        sw.version.as_deref(),
                        sw.arch.as_deref(),
                        target_sw,
                    ) {
                        labels.push((sw.name.clone(), sw.version.clone().unwrap_or_default()));
                        subject.cpes.push(c);
                    }
                }
            }
            for (c, (_, version)) in subject.cpes.iter().zip(&labels) {
                let (v, p) = c.key();
                present.insert(
                    (subject_key.clone(), format!("{v}:{p}")),
                    (version.clone(), inv.id),
                );
            }
            for i in index.candidates(&subject) {
                for h in matching::affected(&records[i as usize], &subject) {
                    let Target::Cpe(ci) = h.target else { continue };
                    let (v, p) = subject.cpes[ci].key();
                    hits.push(Hit {
                        subject_key: subject_key.clone(),
                        terminal_id: Some(tid),
                        software: labels[ci].0.clone(),
                        product_key: format!("{v}:{p}"),
                        version: labels[ci].1.clone(),
                        fixed: h.fixed,
                        vuln: i as usize,
                        inventory_id: Some(inv.id),
                    });
                }
            }
        }
        // unyo itself.
        subjects += 1;
        let own = Subject {
            packages: unyo_vuln::sbom::own_packages(),
            ..Subject::default()
        };
        for p in &own.packages {
            present.insert(
                ("unyo".into(), format!("crates.io:{}", p.name)),
                (p.version.clone(), 0),
            );
        }
        for i in index.candidates(&own) {
            for h in matching::affected(&records[i as usize], &own) {
                let Target::Package(pi) = h.target else {
                    continue;
                };
                let p: &PackageRef = &own.packages[pi];
                hits.push(Hit {
                    subject_key: "unyo".into(),
                    terminal_id: None,
                    software: p.name.clone(),
                    product_key: format!("crates.io:{}", p.name),
                    version: p.version.clone(),
                    fixed: h.fixed,
                    vuln: i as usize,
                    inventory_id: None,
                });
            }
        }
        self.apply_matches(actor, &records, &rejected, &hits, &present, subjects)
            .await
    }

    async fn apply_matches(
        &self,
        actor: &Actor,
        records: &[Vulnerability],
        rejected: &HashSet<String>,
        hits: &[Hit],
        present: &HashMap<(String, String), (String, i64)>,
        subjects: u64,
    ) -> Result<MatchSummary> {
        let at = now();
        let today = jst_today();
        let mut summary = MatchSummary {
            subjects,
            ..MatchSummary::default()
        };
        let hit_keys: HashSet<(&str, &str, &str)> = hits
            .iter()
            .map(|h| {
                (
                    h.subject_key.as_str(),
                    h.product_key.as_str(),
                    records[h.vuln].id.as_str(),
                )
            })
            .collect();
        write_tx!(self, |tx| {
            let existing: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
                "SELECT id, subject_key, product_key, vulnerability_id, status, version FROM vuln_findings",
            )
            .fetch_all(&mut *tx)
            .await?;
            let by_key: HashMap<(String, String, String), (i64, String, String)> = existing
                .into_iter()
                .map(|(id, s, p, v, st, ver)| ((s, p, v), (id, st, ver)))
                .collect();
            let mut done: HashSet<(String, String, String)> = HashSet::new();
            for h in hits {
                let v = &records[h.vuln];
                let key = (h.subject_key.clone(), h.product_key.clone(), v.id.clone());
                if !done.insert(key.clone()) {
                    continue;
                }
                let severity = v.severity().as_str();
                match by_key.get(&key) {
                    None => {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO vuln_findings (subject, terminal_id, subject_key, software, product_key, version,
                             fixed_version, vulnerability_id, severity, status, inventory_id, due_date, first_seen_at,
                             last_seen_at, updated_at, updated_by)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12, $12, $12, $13) RETURNING id",
                        )
                        .bind(if h.terminal_id.is_some() { "terminal" } else { "unyo" })
                        .bind(h.terminal_id)
                        .bind(&h.subject_key)
                        .bind(&h.software)
                        .bind(&h.product_key)
                        .bind(&h.version)
                        .bind(&h.fixed)
                        .bind(&v.id)
                        .bind(severity)
                        .bind(h.inventory_id)
                        .bind(due_date(severity, today))
                        .bind(&at)
                        .bind(&actor.username)
                        .fetch_one(&mut *tx)
                        .await?;
                        finding_event!(
                            tx,
                            id,
                            &at,
                            &actor.username,
                            None::<&str>,
                            "open",
                            &h.version,
                            "検出"
                        );
                        summary.opened += 1;
                    }
                    Some((id, status, _)) => {
                        let st = FindingStatus::parse(status).unwrap_or(FindingStatus::Open);
                        let reopen =
                            matches!(st, FindingStatus::Resolved | FindingStatus::Withdrawn);
                        sqlx::query(
                            "UPDATE vuln_findings SET version = $2, fixed_version = $3, severity = $4, software = $5,
                             last_seen_at = $6, inventory_id = COALESCE($7, inventory_id),
                             status = CASE WHEN $8 THEN 'open' ELSE status END,
                             resolution = CASE WHEN $8 THEN NULL ELSE resolution END,
                             due_date = CASE WHEN $8 THEN $9 ELSE due_date END,
                             updated_at = CASE WHEN $8 THEN $6 ELSE updated_at END,
                             updated_by = CASE WHEN $8 THEN $10 ELSE updated_by END
                             WHERE id = $1",
                        )
                        .bind(id)
                        .bind(&h.version)
                        .bind(&h.fixed)
                        .bind(severity)
                        .bind(&h.software)
                        .bind(&at)
                        .bind(h.inventory_id)
                        .bind(reopen)
                        .bind(due_date(severity, today))
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await?;
                        if reopen {
                            finding_event!(
                                tx,
                                *id,
                                &at,
                                &actor.username,
                                Some(status),
                                "open",
                                &h.version,
                                "再検出"
                            );
                            summary.reopened += 1;
                        } else {
                            summary.seen += 1;
                        }
                    }
                }
            }
            for ((subject_key, product_key, vuln_id), (id, status, version)) in &by_key {
                let st = FindingStatus::parse(status).unwrap_or(FindingStatus::Open);
                if hit_keys.contains(&(
                    subject_key.as_str(),
                    product_key.as_str(),
                    vuln_id.as_str(),
                )) {
                    continue;
                }
                if rejected.contains(vuln_id) {
                    if st != FindingStatus::Withdrawn {
                        sqlx::query(
                            "UPDATE vuln_findings SET status = 'withdrawn', resolution = 'rejected', updated_at = $2,
                             updated_by = $3 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(&at)
                        .bind(&actor.username)
                        .execute(&mut *tx)
                        .await?;
                        finding_event!(
                            tx,
                            *id,
                            &at,
                            &actor.username,
                            Some(status),
                            "withdrawn",
                            version,
                            "脆弱性情報が取り下げられました（Rejected）"
                        );
                        summary.withdrawn += 1;
                    }
                    continue;
                }
                if !(st.is_active() || st == FindingStatus::Accepted) {
                    continue;
                }
                // Not hit any more: resolved when the subject's latest inventory shows the product at another
                // version, or without it. A subject with no inventory at all (retired) is left alone.
                let subject_seen =
                    subject_key == "unyo" || present.keys().any(|(s, _)| s == subject_key);
                if !subject_seen {
                    continue;
                }
                let (resolution, new_version, inv, note) =
                    match present.get(&(subject_key.clone(), product_key.clone())) {
                        Some((v, inv)) => (
                            "inventory",
                            v.clone(),
                            (*inv > 0).then_some(*inv),
                            format!("対象外の版 {v} を確認"),
                        ),
                        None => (
                            "removed",
                            version.clone(),
                            None,
                            "アンインストールを確認".to_string(),
                        ),
                    };
                sqlx::query(
                    "UPDATE vuln_findings SET status = 'resolved', resolution = $2, version = $3,
                     inventory_id = COALESCE($4, inventory_id), updated_at = $5, updated_by = $6 WHERE id = $1",
                )
                .bind(id)
                .bind(resolution)
                .bind(&new_version)
                .bind(inv)
                .bind(&at)
                .bind(&actor.username)
                .execute(&mut *tx)
                .await?;
                finding_event!(
                    tx,
                    *id,
                    &at,
                    &actor.username,
                    Some(status),
                    "resolved",
                    &new_version,
                    &note
                );
                summary.resolved += 1;
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "vuln.match", "vuln_findings", "")
                    .details(serde_json::to_value(&summary).unwrap_or(serde_json::Value::Null)),
            )
            .await?;
        });
        Ok(summary)
    }
}

/// Checks CPE 2.3 templates; a refusal names the field.
fn validate_cpes(list: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for raw in list {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        if raw.chars().any(char::is_control) || raw.len() > 300 {
            return Err(StoreError::Domain(DomainError::Validation(vec![
                FieldError::new("CPE", "制御文字を含むか、長すぎます。"),
            ])));
        }
        match Cpe::parse23(raw) {
            Ok(c) if c.key().0.is_empty() || c.key().1.is_empty() => {
                return Err(StoreError::Domain(DomainError::Validation(vec![
                    FieldError::new("CPE", format!("{raw}: ベンダ名と製品名が必要です。")),
                ])));
            }
            Ok(c) => out.push(c.to_string()),
            Err(_) => {
                return Err(StoreError::Domain(DomainError::Validation(vec![
                    FieldError::new(
                        "CPE",
                        format!("{raw}: CPE 2.3 の形式（cpe:2.3:a:ベンダ:製品:…）ではありません。"),
                    ),
                ])));
            }
        }
    }
    Ok(out)
}
