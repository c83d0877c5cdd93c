//! unyo's storage: one [`Store`] over SQLite (default, embedded) or PostgreSQL (scale-out).
//!
//! SQL is written once with `$N` placeholders, which both backends accept; what differs between dialects
//! (identity columns, trigger syntax, locking) lives in the per-backend migrations and in [`Backend`] arms.
//! Every write runs in one transaction together with its audit entry (see [`audit`]).

#[macro_use]
mod backend;
pub mod agent_secrets;
pub mod annual;
pub mod attachments;
pub mod audit;
pub mod campaigns;
mod check_results;
pub mod cluster;
pub mod connectivity;
pub mod connectivity_board;
pub mod contract_close;
pub mod contract_registers;
pub mod erasures;
pub mod export;
pub mod incidents;
pub mod inventory;
mod kit;
mod numbering;
pub mod outages;
pub mod records;
pub mod registry;
pub mod sessions;
pub mod support;
mod terminal_index;
#[doc(hidden)]
pub mod testing;
pub mod users;
pub mod vulns;
pub mod waiting;

use unyo_domain::{Action, DomainError, Role};

pub use backend::{Backend, Store, redact_url, sqlite_url};

/// Who is doing something: the person (or `system`) and where the request came from.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user's id, `None` for the system itself (CLI set-up, demo loader).
    pub user_id: Option<i64>,
    /// The login name written to the audit log.
    pub username: String,
    /// The role that decides permissions.
    pub role: Role,
    /// Where the request came from: a remote address, `cli` or `system`.
    pub source: String,
}

impl Actor {
    /// The system itself, acting with administrator rights (CLI commands run by the operator, demo loading).
    pub fn system(source: &str) -> Actor {
        Actor {
            user_id: None,
            username: "system".into(),
            role: Role::Admin,
            source: source.into(),
        }
    }

    /// Refuses the action unless the role allows it.
    pub fn require(&self, action: Action) -> Result<(), StoreError> {
        if self.role.allows(action) {
            Ok(())
        } else {
            Err(StoreError::Domain(DomainError::Forbidden))
        }
    }
}

/// A failure in the store: a domain rule, or the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the change; the message is for people.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database failed. The cause is logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrating the schema failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Anything else that is our fault, said in a plain message.
    #[error("{0}")]
    Internal(String),
    /// Our fault because another error happened (a file, JSON, a hash, a task): what we were doing, and
    /// the error itself kept as the [`source`](std::error::Error::source), so a caller that walks the
    /// chain (logs, `anyhow`) still has it. The text is what `Internal` said for it before:
    /// `context: cause`, or the cause alone without a context. Made by [`StoreError::caused`] and
    /// [`StoreError::wrap`].
    #[error("{}", caused_text(.context, .source.as_ref()))]
    Caused {
        /// What we were doing; may be empty.
        context: String,
        /// The error that made it fail.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The text of [`StoreError::Caused`].
fn caused_text(context: &str, source: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    if context.is_empty() {
        source.to_string()
    } else {
        format!("{context}: {source}")
    }
}

impl StoreError {
    /// Our fault because of `source`, while doing `context` (see [`StoreError::Caused`]).
    pub fn caused(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError::Caused {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Our fault because of `source`, which says enough by itself (see [`StoreError::Caused`]).
    pub fn wrap(source: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::caused(String::new(), source)
    }

    /// Whether this is a unique-constraint violation from either backend.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// A unique-constraint violation as a conflict with `message` (a number taken twice, a version that moved
/// on); any other error as it is.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::Domain(unyo_domain::DomainError::Conflict(message()))
    } else {
        e
    }
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One page of a list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    /// The rows on this page.
    pub items: Vec<T>,
    /// Rows matching the filter across all pages.
    pub total: i64,
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl<T> Page<T> {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// A bound value for dynamically built queries.
#[derive(Debug, Clone)]
#[doc(hidden)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// Collects `WHERE` conditions with `$N` placeholders numbered in order.
#[derive(Default)]
pub(crate) struct Filter {
    pub conditions: Vec<String>,
    pub params: Vec<Param>,
}

impl Filter {
    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    pub fn push(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\` escaped (use with `ESCAPE '\'`).
pub(crate) fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The current instant in storage form.
pub(crate) fn now() -> String {
    unyo_domain::time::to_storage(chrono::Utc::now())
}

impl Store {
    /// The same database, with the record times of inventories and rollout campaigns (received,
    /// started, verified, attested, closed, and the fiscal year a campaign is numbered in) taken as `at`
    /// instead of the clock. For loaders that replay a history in order, such as the demo's year;
    /// audit entries keep the real time of the write, so the chain still says when it was made. No
    /// request path uses it.
    pub fn as_of(&self, at: chrono::DateTime<chrono::Utc>) -> Store {
        Store {
            as_of: Some(at),
            ..self.clone()
        }
    }

    /// The record time of a write: [`Store::as_of`]'s instant, or now.
    pub(crate) fn record_time(&self) -> String {
        unyo_domain::time::to_storage(self.as_of.unwrap_or_else(chrono::Utc::now))
    }

    /// The day (JST) of [`Store::record_time`].
    pub(crate) fn record_day(&self) -> chrono::NaiveDate {
        unyo_domain::time::to_jst(self.as_of.unwrap_or_else(chrono::Utc::now)).date()
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use std::error::Error as _;

    #[test]
    fn a_caused_error_keeps_its_text_and_its_source() {
        let json = serde_json::from_str::<i64>("x").expect_err("not a number");
        let text = json.to_string();
        let e = StoreError::caused("campaign 3: bad goal JSON", json);
        assert_eq!(e.to_string(), format!("campaign 3: bad goal JSON: {text}"));
        assert_eq!(e.source().map(|s| s.to_string()), Some(text.clone()));
        let bare = StoreError::wrap(serde_json::from_str::<i64>("x").expect_err("not a number"));
        assert_eq!(bare.to_string(), text);
        assert!(bare.source().is_some());
        assert!(StoreError::Internal("plain".into()).source().is_none());
    }
}
