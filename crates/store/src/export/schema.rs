//! The tables and columns of the database, read from the database itself.

use super::quote_ident;
use crate::Result;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, SqliteConnection};

/// How a column's values are written and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Whole numbers (JSON integer).
    Integer,
    /// Floating point (JSON number).
    Real,
    /// `true`/`false` (PostgreSQL `boolean`; SQLite stores booleans as integers).
    Boolean,
    /// Text (JSON string).
    Text,
    /// Bytes, written as a file under `files/`.
    Blob,
    /// Another PostgreSQL type, written as its text form and cast back on import.
    Other(String),
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// How its values are written.
    pub kind: Kind,
    /// The type as the database declares it.
    pub declared: String,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
}

/// One table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// Its columns in table order.
    pub columns: Vec<ColumnInfo>,
    /// Primary-key columns in key order (empty when none).
    pub primary_key: Vec<String>,
    /// Tables this one refers to by foreign key (not itself).
    pub references: Vec<String>,
}

impl TableInfo {
    /// `SELECT` of every column in key order. On PostgreSQL each column is cast to a decoded type.
    pub(crate) fn select_sql(&self, postgres: bool) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let q = quote_ident(&c.name);
                if !postgres {
                    return q;
                }
                match c.kind {
                    Kind::Integer => format!("{q}::bigint"),
                    Kind::Real => format!("{q}::float8"),
                    Kind::Other(_) => format!("{q}::text"),
                    _ => q,
                }
            })
            .collect();
        let order: Vec<String> = if self.primary_key.is_empty() {
            self.columns
                .iter()
                .filter(|c| c.kind != Kind::Blob)
                .map(|c| quote_ident(&c.name))
                .collect()
        } else {
            self.primary_key.iter().map(|k| quote_ident(k)).collect()
        };
        let mut sql = format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            quote_ident(&self.name)
        );
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&order.join(", "));
        }
        sql
    }
}

fn sqlite_kind(declared: &str) -> Kind {
    // SQLite's affinity rules, in their order.
    let d = declared.to_ascii_uppercase();
    if d.contains("INT") {
        Kind::Integer
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        Kind::Text
    } else if d.contains("BLOB") || d.is_empty() {
        Kind::Blob
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        Kind::Real
    } else if d.contains("BOOL") {
        // Stored as 0/1 integers.
        Kind::Integer
    } else {
        Kind::Text
    }
}

fn pg_kind(udt: &str) -> Kind {
    match udt {
        "int2" | "int4" | "int8" => Kind::Integer,
        "float4" | "float8" => Kind::Real,
        "bool" => Kind::Boolean,
        "text" | "varchar" | "bpchar" => Kind::Text,
        "bytea" => Kind::Blob,
        other => Kind::Other(other.to_string()),
    }
}

/// The tables of a SQLite database, in name order.
pub(crate) async fn sqlite_tables(conn: &mut SqliteConnection) -> Result<Vec<TableInfo>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
           AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx\\_%' ESCAPE '\\'
         ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let cols: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut pk: Vec<(i64, String)> = cols
            .iter()
            .filter(|c| c.3 > 0)
            .map(|c| (c.3, c.0.clone()))
            .collect();
        pk.sort();
        let mut references: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
        references.retain(|r| r != &name);
        out.push(TableInfo {
            columns: cols
                .into_iter()
                .map(|(n, declared, notnull, pk)| ColumnInfo {
                    kind: sqlite_kind(&declared),
                    name: n,
                    declared,
                    // A primary key is never NULL in practice (unyo's keys are integers or NOT NULL).
                    nullable: notnull == 0 && pk == 0,
                })
                .collect(),
            primary_key: pk.into_iter().map(|(_, n)| n).collect(),
            references,
            name,
        });
    }
    Ok(out)
}

/// The tables of the current PostgreSQL schema, in name order.
pub(crate) async fn pg_tables(conn: &mut PgConnection) -> Result<Vec<TableInfo>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name::text NOT LIKE '\\_sqlx\\_%'
         ORDER BY table_name::text COLLATE \"C\"",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let cols: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, udt_name::text, is_nullable::text
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let primary_key: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indisprimary AND n.nspname = current_schema() AND c.relname = $1
             ORDER BY k.ord",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let references: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT cf.relname::text
             FROM pg_constraint k
             JOIN pg_class ct ON ct.oid = k.conrelid
             JOIN pg_class cf ON cf.oid = k.confrelid
             JOIN pg_namespace n ON n.oid = ct.relnamespace
             WHERE k.contype = 'f' AND n.nspname = current_schema() AND ct.relname = $1
               AND cf.relname <> ct.relname",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        out.push(TableInfo {
            columns: cols
                .into_iter()
                .map(|(n, udt, nullable)| ColumnInfo {
                    kind: pg_kind(&udt),
                    name: n,
                    declared: udt,
                    nullable: nullable == "YES",
                })
                .collect(),
            primary_key,
            references,
            name,
        });
    }
    Ok(out)
}

/// The tables in an order where every table comes after the tables it refers to (cycles, which unyo's
/// schema does not have, keep their name order).
pub(crate) fn dependency_order(tables: &[TableInfo]) -> Vec<usize> {
    let mut placed = vec![false; tables.len()];
    let mut order = Vec::with_capacity(tables.len());
    while order.len() < tables.len() {
        let mut progress = false;
        for (i, t) in tables.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let ready = t.references.iter().all(|r| {
                tables
                    .iter()
                    .position(|o| &o.name == r)
                    .is_none_or(|j| placed[j])
            });
            if ready {
                placed[i] = true;
                order.push(i);
                progress = true;
            }
        }
        if !progress {
            // A cycle: place the first remaining table and go on.
            if let Some(i) = placed.iter().position(|p| !p) {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    order
}
