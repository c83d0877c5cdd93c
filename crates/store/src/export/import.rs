//! Reading a full export back into an empty database (`unyo import-export DIR`).
//!
//! The files are checked against `SHA256SUMS` first. Then, in one transaction, the rows the migrations
//! seeded are removed, every table is filled from its JSONL file in dependency order with the database's
//! triggers set aside (they would bump counters or stamp rows the export already holds exactly), and the
//! triggers are put back: on SQLite the triggers are dropped and re-created from their stored SQL inside
//! the transaction and foreign keys are checked at commit (`defer_foreign_keys`); on PostgreSQL user
//! triggers are disabled per table (foreign keys stay checked, hence the dependency order) and identity
//! sequences are moved past the imported ids. The audit chain is verified after the commit.

use super::schema::{self, TableInfo, dependency_order};
use super::{Kind, Manifest, Val, io_err, quote_ident, read_manifest, verify_export_dir};
use crate::audit::ChainReport;
use crate::{Result, Store, StoreError};
use std::io::BufRead;
use std::path::Path;

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// SHA-256 of the export's `SHA256SUMS`.
    pub manifest_sha256: String,
    /// Rows inserted per table.
    pub tables: Vec<(String, u64)>,
    /// The audit chain verified on the imported database.
    pub audit: ChainReport,
}

fn err(msg: impl Into<String>) -> StoreError {
    StoreError::Internal(msg.into())
}

/// Refuses a target at another schema version or with data in it; gives the tables to fill in order.
macro_rules! fill_tables {
    ($tx:ident, $manifest:expr, $tables:expr) => {{
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                .fetch_one(&mut *$tx)
                .await?;
        if version.unwrap_or(0) != $manifest.schema_version {
            return Err(err(format!(
                "the export was made at schema version {}, this database is at {}; import with the same unyo version",
                $manifest.schema_version,
                version.unwrap_or(0)
            )));
        }
        let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&mut *$tx)
            .await?;
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&mut *$tx)
            .await?;
        if audit > 0 || users > 0 {
            return Err(err(
                "the database is not empty (it has accounts or audit entries); import into a new database",
            ));
        }
        plan(&$manifest, &$tables)?
    }};
}

/// Inserts the rows of one table's JSONL file.
macro_rules! insert_rows {
    ($tx:ident, $dir:expr, $t:expr, $postgres:expr) => {{
        let t: &TableInfo = $t;
        let sql = insert_sql(t, $postgres);
        let path = $dir.join("tables").join(format!("{}.jsonl", t.name));
        let file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
        let mut n = 0u64;
        for (lineno, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| io_err(&path, e))?;
            if line.is_empty() {
                continue;
            }
            let vals = parse_row($dir, t, &line)
                .map_err(|m| err(format!("{}:{}: {m}", path.display(), lineno + 1)))?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (c, v) in t.columns.iter().zip(vals) {
                q = match (v, &c.kind) {
                    (Val::Null, Kind::Integer) => q.bind(None::<i64>),
                    (Val::Null, Kind::Real) => q.bind(None::<f64>),
                    (Val::Null, Kind::Boolean) => q.bind(None::<bool>),
                    (Val::Null, Kind::Blob) => q.bind(None::<Vec<u8>>),
                    (Val::Null, _) => q.bind(None::<String>),
                    (Val::Int(i), _) => q.bind(i),
                    (Val::Real(f), _) => q.bind(f),
                    (Val::Bool(b), _) => q.bind(b),
                    (Val::Text(s), _) => q.bind(s),
                    (Val::Blob(b), _) => q.bind(b),
                };
            }
            q.execute(&mut *$tx).await?;
            n += 1;
        }
        n
    }};
}

/// Imports the export in `dir` into `store`, which must be empty (no audit entries and no accounts) and at
/// the export's schema version.
pub async fn import_export(store: &Store, dir: &Path) -> Result<ImportSummary> {
    let manifest_sha256 = verify_export_dir(dir)?;
    let manifest = read_manifest(dir)?;
    let mut counts = Vec::new();
    match &store.backend {
        crate::Backend::Sqlite { write, .. } => {
            let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
            let tables = schema::sqlite_tables(&mut tx).await?;
            let plan = fill_tables!(tx, manifest, tables);
            sqlx::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await?;
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (name, _) in &triggers {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP TRIGGER {}",
                    quote_ident(name)
                )))
                .execute(&mut *tx)
                .await?;
            }
            for &i in plan.iter().rev() {
                sqlx::query(sqlx::AssertSqlSafe(delete_sql(&tables[i])))
                    .execute(&mut *tx)
                    .await?;
            }
            for &i in &plan {
                let n = insert_rows!(tx, dir, &tables[i], false);
                counts.push((tables[i].name.clone(), n));
            }
            for (_, sql) in &triggers {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        crate::Backend::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let tables = schema::pg_tables(&mut tx).await?;
            let plan = fill_tables!(tx, manifest, tables);
            for &i in &plan {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {} DISABLE TRIGGER USER",
                    quote_ident(&tables[i].name)
                )))
                .execute(&mut *tx)
                .await?;
            }
            for &i in plan.iter().rev() {
                sqlx::query(sqlx::AssertSqlSafe(delete_sql(&tables[i])))
                    .execute(&mut *tx)
                    .await?;
            }
            for &i in &plan {
                let n = insert_rows!(tx, dir, &tables[i], true);
                counts.push((tables[i].name.clone(), n));
            }
            // Identity and serial columns continue after the imported ids.
            let sequences: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema()
                   AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (table, column) in sequences {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(max({c}), 0) + 1, false) FROM {t}",
                    c = quote_ident(&column),
                    t = quote_ident(&table)
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(quote_ident(&table))
                    .bind(&column)
                    .execute(&mut *tx)
                    .await?;
            }
            for &i in &plan {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {} ENABLE TRIGGER USER",
                    quote_ident(&tables[i].name)
                )))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }
    for (name, n) in &counts {
        let expected = manifest
            .tables
            .iter()
            .find(|t| &t.name == name)
            .map_or(0, |t| t.rows);
        if *n != expected {
            return Err(err(format!(
                "{name}: {n} rows read, the manifest says {expected}"
            )));
        }
    }
    let audit = store.verify_audit_chain().await?;
    Ok(ImportSummary {
        manifest_sha256,
        tables: counts,
        audit,
    })
}

fn delete_sql(t: &TableInfo) -> String {
    format!("DELETE FROM {}", quote_ident(&t.name))
}

/// `INSERT INTO t (a, b) VALUES ($1, $2)`; on PostgreSQL each value cast to the column's own type.
fn insert_sql(t: &TableInfo, postgres: bool) -> String {
    let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let vals: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if postgres {
                format!("CAST(${} AS {})", i + 1, quote_ident(&c.declared))
            } else {
                format!("${}", i + 1)
            }
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote_ident(&t.name),
        cols.join(", "),
        vals.join(", ")
    )
}

/// One JSONL line as values in column order; a file reference is read and its SHA-256 checked.
fn parse_row(dir: &Path, t: &TableInfo, line: &str) -> std::result::Result<Vec<Val>, String> {
    let serde_json::Value::Object(mut obj) =
        serde_json::from_str::<serde_json::Value>(line).map_err(|e| e.to_string())?
    else {
        return Err("not a JSON object".into());
    };
    let mut out = Vec::with_capacity(t.columns.len());
    for c in &t.columns {
        let v = obj
            .remove(&c.name)
            .ok_or_else(|| format!("column {} missing", c.name))?;
        out.push(match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Real(n.as_f64().ok_or("number out of range")?),
            },
            serde_json::Value::String(s) => Val::Text(s),
            serde_json::Value::Object(f) if c.kind == Kind::Blob => {
                let rel = f
                    .get("file")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| format!("column {}: no file", c.name))?;
                if rel.starts_with('/') || rel.split('/').any(|p| p == ".." || p.is_empty()) {
                    return Err(format!("column {}: path outside the export", c.name));
                }
                let bytes = std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                if f.get("sha256").and_then(|v| v.as_str()) != Some(sha.as_str()) {
                    return Err(format!("{rel}: SHA-256 differs from the row's"));
                }
                Val::Blob(bytes)
            }
            _ => return Err(format!("column {}: unexpected value", c.name)),
        });
    }
    if let Some(extra) = obj.keys().next() {
        return Err(format!("unknown column {extra}"));
    }
    Ok(out)
}

/// The indices of the target's tables to fill, in dependency order; refuses an export whose tables or
/// columns differ from the target's.
fn plan(manifest: &Manifest, tables: &[TableInfo]) -> Result<Vec<usize>> {
    for mt in &manifest.tables {
        let Some(t) = tables.iter().find(|t| t.name == mt.name) else {
            return Err(err(format!(
                "table {} of the export does not exist in this database",
                mt.name
            )));
        };
        let ours: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let theirs: Vec<&str> = mt.columns.iter().map(|c| c.name.as_str()).collect();
        if ours != theirs {
            return Err(err(format!(
                "table {}: the export's columns differ from this database's",
                mt.name
            )));
        }
    }
    Ok(dependency_order(tables)
        .into_iter()
        .filter(|&i| manifest.tables.iter().any(|m| m.name == tables[i].name))
        .collect())
}
