//! Test support: a fresh, empty store on whatever backend `TEST_DATABASE_URL` names (a new PostgreSQL
//! database per call), or a temporary SQLite file when it is unset. Used by this crate's and the web
//! crate's tests so that one suite runs against both backends.

use crate::{Result, Store, StoreError};
use sqlx::Connection;

/// Keeps a test database alive; drops the temporary files when it goes.
pub struct TestDb {
    /// The store on the fresh database.
    pub store: Store,
    /// The URL it was opened with (to open a second connection, e.g. to tamper with rows).
    pub url: String,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop (kept tiny to avoid a dependency outside dev).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens a fresh store for one test.
pub async fn test_store() -> Result<TestDb> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("unyo_t_{}", crate::users::random_hex(6)?);
            let mut admin = sqlx::PgConnection::connect(&base).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
            let mut url = url::Url::parse(&base).map_err(StoreError::wrap)?;
            url.set_path(&name);
            let url = url.to_string();
            let store = Store::open(&url).await?;
            Ok(TestDb {
                store,
                url,
                _dir: None,
            })
        }
        _ => {
            let dir =
                std::env::temp_dir().join(format!("unyo-test-{}", crate::users::random_hex(8)?));
            std::fs::create_dir_all(&dir).map_err(StoreError::wrap)?;
            let url = crate::sqlite_url(&dir.join("unyo.db"));
            let store = Store::open(&url).await?;
            Ok(TestDb {
                store,
                url,
                _dir: Some(TempDir(dir)),
            })
        }
    }
}
