//! Opening a database, choosing the backend by URL, and the macros that run one piece of SQL code on
//! whichever backend is in use.

use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The database behind a [`Store`].
#[derive(Clone, Debug)]
pub enum Backend {
    /// Embedded SQLite in WAL mode. Writes go through a single connection, so the audit chain and every
    /// read-then-write rule see a consistent order; reads use a pool.
    Sqlite {
        /// Readers.
        read: SqlitePool,
        /// The one writer.
        write: SqlitePool,
    },
    /// PostgreSQL: one pool; the audit chain is serialised with a transaction-level advisory lock.
    Postgres(PgPool),
}

/// unyo's data, on either backend.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    /// The terminal list's in-memory index, shared by every clone of this store.
    pub(crate) terminal_index: std::sync::Arc<crate::terminal_index::TerminalIndex>,
    /// Agent credentials verified a moment ago, shared by every clone of this store.
    pub(crate) agent_secrets: std::sync::Arc<crate::agent_secrets::RememberedAgents>,
    /// The instant record times are taken from, when set by [`Store::as_of`]; else the clock.
    pub(crate) as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// Runs `$body` inside one write transaction on whichever backend is in use. `$tx` is a
/// `Transaction` whose `&mut *$tx` is an executor. An early return (`?`) rolls back.
#[macro_export]
#[doc(hidden)]
macro_rules! write_tx {
    ($store:expr, |$tx:ident| $body:expr) => {{
        match &$store.backend {
            $crate::Backend::Sqlite { write, .. } => {
                // IMMEDIATE takes the write lock up front, so a read-then-write (e.g. the audit chain's
                // "last hash") can never race another process.
                let mut $tx = write.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Backend::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    }};
}

/// Runs `$body` with `$db` bound to a reader pool of whichever backend is in use.
#[macro_export]
#[doc(hidden)]
macro_rules! read_db {
    ($store:expr, |$db:ident| $body:expr) => {{
        match &$store.backend {
            $crate::Backend::Sqlite { read, .. } => {
                let $db = read;
                $body
            }
            $crate::Backend::Postgres(pool) => {
                let $db = pool;
                $body
            }
        }
    }};
}

/// Binds a list of [`crate::Param`]s to a query (works for `query`, `query_as` and `query_scalar`).
#[macro_export]
#[doc(hidden)]
macro_rules! bind_params {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params.iter() {
            q = match p {
                $crate::Param::Text(s) => q.bind(s.clone()),
                $crate::Param::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

impl Store {
    /// Opens (creating if needed) the database that `url` names and brings its schema up to date.
    /// `sqlite://PATH` or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Store {
                backend: Backend::Postgres(pool),
                terminal_index: Default::default(),
                agent_secrets: Default::default(),
                as_of: None,
            }
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.read_only(true))
                .await?;
            Store {
                backend: Backend::Sqlite { read, write },
                terminal_index: Default::default(),
                agent_secrets: Default::default(),
                as_of: None,
            }
        } else {
            return Err(StoreError::Internal(format!(
                "unsupported database URL (use sqlite:// or postgres://): {}",
                redact_url(url)
            )));
        };
        Ok(store)
    }

    /// Opens the SQLite database file inside a data directory (created if missing).
    pub async fn open_data_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::caused(format!("cannot create {}", dir.display()), e))?;
        Store::open(&sqlite_url(&dir.join("unyo.db"))).await
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes all connections (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Reads a value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(read_db!(self, |db| sqlx::query_scalar(
            "SELECT value FROM meta WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(db)
        .await?))
    }

    /// Writes a value into the `meta` table.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Writes a consistent copy of a live SQLite database to `to` (SQLite's `VACUUM INTO`, which reads
    /// one snapshot while writers go on). PostgreSQL deployments use `pg_dump`.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                if to.exists() {
                    return Err(StoreError::Internal(format!(
                        "{} already exists; choose a new file name",
                        to.display()
                    )));
                }
                let path = to.to_string_lossy().to_string();
                sqlx::query("VACUUM INTO $1")
                    .bind(path)
                    .execute(write)
                    .await?;
                Ok(())
            }
            Backend::Postgres(_) => Err(StoreError::Internal(
                "backup of a PostgreSQL database is done with pg_dump".into(),
            )),
        }
    }
}

/// The `sqlite://` URL for a file path.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
