//! The full export (R11: data handed over "in a general-purpose format") and its import.
//!
//! The export is generic over the schema: it lists the tables and columns from the database itself
//! (`sqlite_master` and `pragma_table_info` on SQLite, the catalog on PostgreSQL), leaving out only sqlx's
//! migration bookkeeping and SQLite's internal tables, so a table added by a later migration is exported
//! without a change here. Everything is read in one read transaction (one snapshot: a deferred `BEGIN` in
//! WAL mode on SQLite, `REPEATABLE READ READ ONLY` on PostgreSQL), row by row, so a running server goes on
//! writing and the files are consistent with each other.
//!
//! Layout of the export directory:
//!
//! - `tables/<table>.csv` — UTF-8 with BOM, CRLF, a header of column names. Values are written exactly as
//!   stored (no formula-injection apostrophe: this is a hand-over file whose values must round-trip; the
//!   README says so and says to open it as text).
//! - `tables/<table>.jsonl` — one JSON object per row, columns in table order; the authoritative form that
//!   `import` reads (it tells `null` from an empty string, which CSV cannot).
//! - `schema/<table>.schema.json` — a JSON Schema (2020-12) of one JSONL row.
//! - `files/<table>/<key>.<column>.<ext>` — binary column values (attachments, frozen PDFs and XLSX, packed
//!   check results); the row refers to the file by path, size and SHA-256.
//! - `audit_verification.txt` — the audit chain checked link by link over the exported rows.
//! - `manifest.json`, `README.txt` (Japanese: every file and column), and `SHA256SUMS` over every other file.
//!   The SHA-256 of `SHA256SUMS` identifies the export (the manifest hash written down at hand-over).

mod import;
mod readme;
mod schema;

pub use import::{ImportSummary, import_export};
pub use schema::{ColumnInfo, Kind, TableInfo};

use crate::audit::{AuditSink, ChainReport, GENESIS, entry_hash};
use crate::{Actor, Result, Store, StoreError};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Row, ValueRef};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use unyo_domain::Action;

/// The format name written into `manifest.json`.
pub const FORMAT: &str = "unyo-export";
/// The version of the layout described above.
pub const FORMAT_VERSION: u32 = 1;
/// The file that lists the SHA-256 of every other file.
pub const SUMS_FILE: &str = "SHA256SUMS";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What an export wrote, also written as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// When the snapshot was read (storage form, UTC).
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The latest migration applied to the exported database; an import needs the same.
    pub schema_version: i64,
    /// Every table, in the order written.
    pub tables: Vec<ManifestTable>,
    /// Binary values written under `files/`.
    pub files: u64,
    /// The audit chain as verified over the exported rows.
    pub audit_chain: AuditChainResult,
}

/// One table in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestTable {
    /// Table name.
    pub name: String,
    /// Rows exported.
    pub rows: u64,
    /// The columns, in table order.
    pub columns: Vec<ColumnInfo>,
    /// Primary-key columns (the order rows are written in); empty when the table has none.
    pub primary_key: Vec<String>,
    /// SHA-256 of the table's JSONL file: equal contents give equal hashes on any export.
    pub content_sha256: String,
}

/// The audit chain's verification over the exported rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditChainResult {
    /// Whether every link holds.
    pub intact: bool,
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry when intact.
    pub head: Option<String>,
    /// The first bad entry and why, when broken.
    pub broken: Option<String>,
}

impl AuditChainResult {
    /// The same result as the store's own verification reports it.
    pub fn report(&self) -> ChainReport {
        if self.intact {
            ChainReport::Intact {
                entries: self.entries,
                head: self.head.clone().unwrap_or_else(|| GENESIS.to_string()),
            }
        } else {
            ChainReport::Broken {
                id: self.entries + 1,
                reason: self.broken.clone().unwrap_or_default(),
            }
        }
    }
}

/// The result of [`Store::export_all`].
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// What was written.
    pub manifest: Manifest,
    /// SHA-256 of `SHA256SUMS`: the export's identifying hash.
    pub manifest_sha256: String,
    /// Number of files listed in `SHA256SUMS`.
    pub file_count: usize,
    /// Bytes written in all.
    pub bytes: u64,
}

/// A value as read from either backend.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::caused(path.display().to_string(), e)
}

/// `"name"` with embedded quotes doubled, for identifiers read from the catalog.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Writes the full export into `dir`, which must be empty or not exist yet, and appends an
    /// `export.full` audit entry (after the snapshot, so the export holds the chain as it was).
    pub async fn export_all(&self, actor: &Actor, dir: &Path) -> Result<ExportSummary> {
        actor.require(Action::ExportAll)?;
        prepare_dir(dir)?;
        let manifest = match &self.backend {
            crate::Backend::Sqlite { read, .. } => {
                let mut tx = read.begin().await?;
                let tables = schema::sqlite_tables(&mut tx).await?;
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                        .fetch_one(&mut *tx)
                        .await?;
                let version = version.unwrap_or(0);
                let mut out = Writer::new(dir, "sqlite", version)?;
                for t in &tables {
                    let mut rows =
                        sqlx::query(sqlx::AssertSqlSafe(t.select_sql(false))).fetch(&mut *tx);
                    let mut table = out.begin_table(t)?;
                    while let Some(row) = rows.try_next().await? {
                        let mut vals = Vec::with_capacity(t.columns.len());
                        for i in 0..t.columns.len() {
                            vals.push(sqlite_value(&row, i)?);
                        }
                        table.row(&vals)?;
                    }
                    drop(rows);
                    out.end_table(table)?;
                }
                tx.rollback().await?;
                out.finish()?
            }
            crate::Backend::Postgres(pool) => {
                let mut tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                let tables = schema::pg_tables(&mut tx).await?;
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                        .fetch_one(&mut *tx)
                        .await?;
                let version = version.unwrap_or(0);
                let mut out = Writer::new(dir, "postgres", version)?;
                for t in &tables {
                    let mut rows =
                        sqlx::query(sqlx::AssertSqlSafe(t.select_sql(true))).fetch(&mut *tx);
                    let mut table = out.begin_table(t)?;
                    while let Some(row) = rows.try_next().await? {
                        let mut vals = Vec::with_capacity(t.columns.len());
                        for (i, c) in t.columns.iter().enumerate() {
                            vals.push(pg_value(&row, i, &c.kind)?);
                        }
                        table.row(&vals)?;
                    }
                    drop(rows);
                    out.end_table(table)?;
                }
                tx.rollback().await?;
                out.finish()?
            }
        };
        let (sums_sha, file_count, bytes) = write_sums(dir)?;
        let summary = ExportSummary {
            manifest,
            manifest_sha256: sums_sha,
            file_count,
            bytes,
        };
        let entry = crate::audit::NewAuditEntry::new(actor, "export.full", "export", "").details(
            serde_json::json!({
                "manifest_sha256": summary.manifest_sha256,
                "tables": summary.manifest.tables.len(),
                "files": summary.file_count,
                "audit_entries": summary.manifest.audit_chain.entries,
            }),
        );
        write_tx!(self, |tx| tx.append_audit(&entry).await?);
        Ok(summary)
    }
}

/// Refuses a non-empty directory; creates a missing one.
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
        if entries.next().is_some() {
            return Err(StoreError::Internal(format!(
                "{} is not empty; export into a new or empty directory",
                dir.display()
            )));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    for sub in ["tables", "schema", "files"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| io_err(&p, e))?;
    }
    Ok(())
}

/// One value of a SQLite row by its storage class (SQLite's types belong to values, not columns).
fn sqlite_value(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Val> {
    use sqlx::TypeInfo;
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Val::Null);
    }
    let class = raw.type_info().name().to_string();
    Ok(match class.as_str() {
        "INTEGER" | "BOOLEAN" => Val::Int(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => Val::Real(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => Val::Blob(row.try_get_unchecked::<Vec<u8>, _>(i)?),
        _ => Val::Text(row.try_get_unchecked::<String, _>(i)?),
    })
}

/// One value of a PostgreSQL row; the select casts each column to one of the decoded types.
fn pg_value(row: &sqlx::postgres::PgRow, i: usize, kind: &Kind) -> Result<Val> {
    let v = match kind {
        Kind::Integer => row.try_get::<Option<i64>, _>(i)?.map(Val::Int),
        Kind::Real => row.try_get::<Option<f64>, _>(i)?.map(Val::Real),
        Kind::Boolean => row.try_get::<Option<bool>, _>(i)?.map(Val::Bool),
        Kind::Blob => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Val::Blob),
        Kind::Text | Kind::Other(_) => row.try_get::<Option<String>, _>(i)?.map(Val::Text),
    };
    Ok(v.unwrap_or(Val::Null))
}

/// Writes the files of an export.
struct Writer {
    dir: PathBuf,
    manifest: Manifest,
}

/// The open files of the table being written.
struct TableWriter<'t> {
    info: &'t TableInfo,
    csv: csv::Writer<BufWriter<std::fs::File>>,
    jsonl: BufWriter<std::fs::File>,
    jsonl_path: PathBuf,
    rows: u64,
    files: u64,
    files_dir: PathBuf,
    dir: PathBuf,
    line: String,
    chain: Option<ChainCheck>,
}

impl Writer {
    fn new(dir: &Path, backend: &str, schema_version: i64) -> Result<Writer> {
        Ok(Writer {
            dir: dir.to_path_buf(),
            manifest: Manifest {
                format: FORMAT.into(),
                format_version: FORMAT_VERSION,
                created_at: crate::now(),
                backend: backend.into(),
                schema_version,
                tables: Vec::new(),
                files: 0,
                audit_chain: AuditChainResult {
                    intact: true,
                    entries: 0,
                    head: Some(GENESIS.to_string()),
                    broken: None,
                },
            },
        })
    }

    fn begin_table<'t>(&mut self, info: &'t TableInfo) -> Result<TableWriter<'t>> {
        let csv_path = self.dir.join("tables").join(format!("{}.csv", info.name));
        let mut csv_file =
            BufWriter::new(std::fs::File::create(&csv_path).map_err(|e| io_err(&csv_path, e))?);
        // The BOM tells Excel the file is UTF-8.
        csv_file
            .write_all(b"\xEF\xBB\xBF")
            .map_err(|e| io_err(&csv_path, e))?;
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(csv_file);
        csv.write_record(info.columns.iter().map(|c| c.name.as_str()))
            .map_err(StoreError::wrap)?;
        let jsonl_path = self.dir.join("tables").join(format!("{}.jsonl", info.name));
        let jsonl =
            BufWriter::new(std::fs::File::create(&jsonl_path).map_err(|e| io_err(&jsonl_path, e))?);
        let schema_path = self
            .dir
            .join("schema")
            .join(format!("{}.schema.json", info.name));
        let schema =
            serde_json::to_vec_pretty(&readme::json_schema(info)).map_err(StoreError::wrap)?;
        std::fs::write(&schema_path, schema).map_err(|e| io_err(&schema_path, e))?;
        let chain = (info.name == "audit_log")
            .then(|| ChainCheck::new(info))
            .flatten();
        Ok(TableWriter {
            info,
            csv,
            jsonl,
            jsonl_path,
            rows: 0,
            files: 0,
            files_dir: self.dir.join("files").join(&info.name),
            dir: self.dir.clone(),
            line: String::new(),
            chain,
        })
    }

    fn end_table(&mut self, t: TableWriter<'_>) -> Result<()> {
        let TableWriter {
            info,
            csv,
            jsonl,
            jsonl_path,
            rows,
            files,
            chain,
            ..
        } = t;
        let mut csv_inner = csv.into_inner().map_err(StoreError::wrap)?;
        csv_inner.flush().map_err(StoreError::wrap)?;
        let mut jsonl = jsonl;
        jsonl.flush().map_err(|e| io_err(&jsonl_path, e))?;
        drop(jsonl);
        if let Some(chain) = chain {
            self.manifest.audit_chain = chain.result();
        }
        self.manifest.files += files;
        self.manifest.tables.push(ManifestTable {
            name: info.name.clone(),
            rows,
            columns: info.columns.clone(),
            primary_key: info.primary_key.clone(),
            content_sha256: sha256_file(&jsonl_path)?,
        });
        Ok(())
    }

    fn finish(self) -> Result<Manifest> {
        let audit_path = self.dir.join("audit_verification.txt");
        std::fs::write(
            &audit_path,
            readme::audit_verification_text(&self.manifest.audit_chain),
        )
        .map_err(|e| io_err(&audit_path, e))?;
        let manifest_path = self.dir.join(MANIFEST_FILE);
        let json = serde_json::to_vec_pretty(&self.manifest).map_err(StoreError::wrap)?;
        std::fs::write(&manifest_path, json).map_err(|e| io_err(&manifest_path, e))?;
        let readme_path = self.dir.join("README.txt");
        std::fs::write(&readme_path, readme::readme(&self.manifest))
            .map_err(|e| io_err(&readme_path, e))?;
        Ok(self.manifest)
    }
}

impl TableWriter<'_> {
    fn row(&mut self, vals: &[Val]) -> Result<()> {
        if let Some(chain) = &mut self.chain {
            chain.feed(vals);
        }
        self.rows += 1;
        let key = self.row_key(vals);
        self.line.clear();
        self.line.push('{');
        let mut record: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(vals.len());
        for (i, (c, v)) in self.info.columns.iter().zip(vals).enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            self.line.push_str(&json_string(&c.name));
            self.line.push(':');
            match v {
                Val::Null => {
                    self.line.push_str("null");
                    record.push("".into());
                }
                Val::Int(n) => {
                    self.line.push_str(&n.to_string());
                    record.push(n.to_string().into());
                }
                Val::Real(f) => {
                    let s = serde_json::to_string(f).unwrap_or_else(|_| "null".into());
                    self.line.push_str(&s);
                    record.push(f.to_string().into());
                }
                Val::Bool(b) => {
                    self.line.push_str(if *b { "true" } else { "false" });
                    record.push(if *b { "true" } else { "false" }.into());
                }
                Val::Text(s) => {
                    self.line.push_str(&json_string(s));
                    record.push(std::borrow::Cow::Owned(s.clone()));
                }
                Val::Blob(bytes) => {
                    let rel = format!(
                        "files/{}/{}.{}.{}",
                        self.info.name,
                        key,
                        safe_part(&c.name),
                        extension(&c.name, bytes)
                    );
                    if self.files == 0 {
                        std::fs::create_dir_all(&self.files_dir)
                            .map_err(|e| io_err(&self.files_dir, e))?;
                    }
                    let path = self.dir.join(&rel);
                    std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
                    self.files += 1;
                    let sha = hex::encode(Sha256::digest(bytes));
                    self.line.push_str(&format!(
                        "{{\"file\":{},\"size\":{},\"sha256\":\"{sha}\"}}",
                        json_string(&rel),
                        bytes.len()
                    ));
                    record.push(rel.into());
                }
            }
        }
        self.line.push_str("}\n");
        self.jsonl
            .write_all(self.line.as_bytes())
            .map_err(|e| io_err(&self.jsonl_path, e))?;
        self.csv
            .write_record(record.iter().map(|s| s.as_ref()))
            .map_err(StoreError::wrap)?;
        Ok(())
    }

    /// A file-name part naming the row: its primary key, or its position when it has none.
    fn row_key(&self, vals: &[Val]) -> String {
        let parts: Vec<String> = self
            .info
            .primary_key
            .iter()
            .filter_map(|k| self.info.columns.iter().position(|c| &c.name == k))
            .map(|i| match &vals[i] {
                Val::Int(n) => n.to_string(),
                Val::Text(s) => safe_part(s),
                Val::Real(f) => safe_part(&f.to_string()),
                Val::Bool(b) => b.to_string(),
                Val::Null => "null".into(),
                Val::Blob(b) => hex::encode(&Sha256::digest(b)[..8]),
            })
            .collect();
        if parts.is_empty() {
            format!("row{}", self.rows)
        } else {
            parts.join("-")
        }
    }
}

/// Keeps ASCII letters, digits, `_` and `-`; replaces a name with anything else by a short hash.
fn safe_part(s: &str) -> String {
    if !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        s.to_string()
    } else {
        format!("h{}", hex::encode(&Sha256::digest(s.as_bytes())[..8]))
    }
}

/// A file extension from the column name (`pdf`, `xlsx`) or the bytes' signature.
fn extension(column: &str, bytes: &[u8]) -> &'static str {
    if column == "pdf" || bytes.starts_with(b"%PDF-") {
        "pdf"
    } else if column == "xlsx" {
        "xlsx"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpg"
    } else if bytes.starts_with(b"GIF8") {
        "gif"
    } else {
        "bin"
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Checks the audit chain over the exported rows, in id order, as `Store::verify_audit_chain` does.
struct ChainCheck {
    idx: [usize; 10],
    prev: String,
    entries: i64,
    broken: Option<String>,
}

impl ChainCheck {
    fn new(info: &TableInfo) -> Option<ChainCheck> {
        let names = [
            "id",
            "at",
            "actor",
            "action",
            "entity",
            "entity_id",
            "details",
            "source",
            "prev_hash",
            "hash",
        ];
        let mut idx = [0usize; 10];
        for (k, n) in names.iter().enumerate() {
            idx[k] = info.columns.iter().position(|c| c.name == *n)?;
        }
        Some(ChainCheck {
            idx,
            prev: GENESIS.to_string(),
            entries: 0,
            broken: None,
        })
    }

    fn feed(&mut self, vals: &[Val]) {
        if self.broken.is_some() {
            return;
        }
        let text = |k: usize| match &vals[self.idx[k]] {
            Val::Text(s) => s.clone(),
            Val::Int(n) => n.to_string(),
            _ => String::new(),
        };
        let id = match &vals[self.idx[0]] {
            Val::Int(n) => *n,
            _ => -1,
        };
        let prev_hash = text(8);
        let hash = text(9);
        let computed = entry_hash(
            &prev_hash,
            id,
            &text(1),
            &text(2),
            &text(3),
            &text(4),
            &text(5),
            &text(6),
            &text(7),
        );
        if id != self.entries + 1 {
            self.broken = Some(format!("id {id}: 連番が途切れています"));
        } else if prev_hash != self.prev {
            self.broken = Some(format!("id {id}: 直前の記録のハッシュと一致しません"));
        } else if computed != hash {
            self.broken = Some(format!("id {id}: 記録の内容がハッシュと一致しません"));
        } else {
            self.entries += 1;
            self.prev = hash;
        }
    }

    fn result(self) -> AuditChainResult {
        match self.broken {
            None => AuditChainResult {
                intact: true,
                entries: self.entries,
                head: Some(self.prev),
                broken: None,
            },
            Some(reason) => AuditChainResult {
                intact: false,
                entries: self.entries,
                head: None,
                broken: Some(reason),
            },
        }
    }
}

/// SHA-256 of a file, read in blocks.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Every file under `dir` as a relative path with `/`, sorted.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let entry = entry.map_err(|e| io_err(dir, e))?;
            let path = entry.path();
            let ty = entry.file_type().map_err(|e| io_err(&path, e))?;
            if ty.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).map_err(StoreError::wrap)?;
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Writes `SHA256SUMS` (the `sha256sum` format) over every file, returning its own hash, the number of
/// files listed and the bytes they hold.
fn write_sums(dir: &Path) -> Result<(String, usize, u64)> {
    let mut text = String::new();
    let mut bytes = 0u64;
    let files: Vec<String> = list_files(dir)?
        .into_iter()
        .filter(|f| f != SUMS_FILE)
        .collect();
    for rel in &files {
        let path = dir.join(rel);
        bytes += std::fs::metadata(&path)
            .map_err(|e| io_err(&path, e))?
            .len();
        text.push_str(&sha256_file(&path)?);
        text.push_str("  ");
        text.push_str(rel);
        text.push('\n');
    }
    let path = dir.join(SUMS_FILE);
    std::fs::write(&path, &text).map_err(|e| io_err(&path, e))?;
    Ok((
        hex::encode(Sha256::digest(text.as_bytes())),
        files.len(),
        bytes,
    ))
}

/// Reads `SHA256SUMS` and checks every file it lists, and that it lists every file. Returns the hash of
/// `SHA256SUMS` itself.
pub fn verify_export_dir(dir: &Path) -> Result<String> {
    let path = dir.join(SUMS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    let mut listed = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some((sha, rel)) = line.split_once("  ") else {
            return Err(StoreError::Internal(format!(
                "{SUMS_FILE}: unreadable line: {line}"
            )));
        };
        if rel.starts_with('/') || rel.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(StoreError::Internal(format!(
                "{SUMS_FILE}: path outside the export: {rel}"
            )));
        }
        let actual = sha256_file(&dir.join(rel))?;
        if actual != sha {
            return Err(StoreError::Internal(format!(
                "{rel}: SHA-256 differs from {SUMS_FILE} (the export was changed or damaged)"
            )));
        }
        listed.insert(rel.to_string());
    }
    for rel in list_files(dir)? {
        if rel != SUMS_FILE && !listed.contains(&rel) {
            return Err(StoreError::Internal(format!(
                "{rel}: not listed in {SUMS_FILE}"
            )));
        }
    }
    if !listed.contains(MANIFEST_FILE) {
        return Err(StoreError::Internal(format!(
            "{SUMS_FILE} does not list {MANIFEST_FILE}"
        )));
    }
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// Reads the manifest of an export directory.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
    let m: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| StoreError::caused(MANIFEST_FILE, e))?;
    if m.format != FORMAT || m.format_version != FORMAT_VERSION {
        return Err(StoreError::Internal(format!(
            "{MANIFEST_FILE}: not a {FORMAT} version {FORMAT_VERSION} export"
        )));
    }
    Ok(m)
}

/// Whether the database holds exactly what an export holds: its audit log has the export's `export.full`
/// entry for `manifest_sha256`, and nothing but such entries after the exported chain's head (no write
/// happened since the snapshot). `unyo erase` refuses to run otherwise.
pub async fn export_is_current(
    store: &Store,
    manifest: &Manifest,
    manifest_sha256: &str,
) -> Result<std::result::Result<(), String>> {
    let exported = manifest.audit_chain.entries;
    let head: Option<String> = read_db!(store, |db| sqlx::query_scalar(
        "SELECT hash FROM audit_log WHERE id = $1"
    )
    .bind(exported)
    .fetch_optional(db)
    .await?);
    if exported > 0 && head != manifest.audit_chain.head {
        return Ok(Err(
            "the export's audit chain does not match this database".into()
        ));
    }
    let later: Vec<(String, String)> = read_db!(store, |db| sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE id > $1 ORDER BY id"
    )
    .bind(exported)
    .fetch_all(db)
    .await?);
    if let Some((action, _)) = later.iter().find(|(a, _)| a != "export.full") {
        return Ok(Err(format!(
            "the database changed after the export (audit entry {action}); export again"
        )));
    }
    let recorded = later.iter().any(|(_, details)| {
        serde_json::from_str::<serde_json::Value>(details)
            .ok()
            .and_then(|d| d.get("manifest_sha256")?.as_str().map(str::to_string))
            .as_deref()
            == Some(manifest_sha256)
    });
    if !recorded {
        return Ok(Err("this database did not record making that export".into()));
    }
    Ok(Ok(()))
}

/// Strings sampled from the data (the last audit hashes, site names, terminal host names) that must not
/// be found anywhere once the data is erased.
pub async fn erasure_markers(store: &Store) -> Result<Vec<String>> {
    let mut out: Vec<String> = read_db!(store, |db| sqlx::query_scalar(
        "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 5"
    )
    .fetch_all(db)
    .await?);
    for sql in [
        "SELECT name FROM sites ORDER BY id LIMIT 5",
        "SELECT hostname FROM terminals ORDER BY id LIMIT 5",
    ] {
        let values: Vec<String> =
            read_db!(store, |db| sqlx::query_scalar(sql).fetch_all(db).await?);
        // Short values could occur by chance in random bytes or other files.
        out.extend(values.into_iter().filter(|v| v.len() >= 8));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
