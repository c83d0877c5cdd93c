//! The small pieces every store module uses, written once so that each module says only what is its own.
//!
//! - Error constructors ([`not_found`], [`conflict`], [`invalid`]): the three ways a domain rule refuses a
//!   read or a change, as a [`StoreError`]; and [`diff`], the `{field: [old, new]}` an update audits.
//! - [`given`]: a query's optional text, trimmed, `None` when blank — how every list filter reads text.
//! - [`placeholders`] and [`Store::rows_for_ids`]: `IN (…)` lists bound in order, and the rows of a set of
//!   ids read in chunks, so a statement's parameters stay well within both backends' limits.
//! - [`paging`] and [`Store::page_of`]: a list's page number and size (page from 1, 50 rows unless asked,
//!   at most 500 — 1,000 for the audit log and findings), and one page read with its total: the filter's
//!   `COUNT(*)` and the page's rows, the same bound parameters for both statements. Nine lists wrote
//!   this block out by hand before.
//!   Generic over the row type, it runs on either backend through [`read_db!`] and [`bind_params!`].
//! - Dates in storage: [`date_text`], [`stored_date`] and [`jst_midnight`] are the domain's
//!   (`unyo_domain::time`), re-exported here so the store names them one way; [`day_start`] is the
//!   storage instant a JST day begins at, the bound of a day's rows.

use crate::{Filter, Page, Param, Result, Store, StoreError};
use serde_json::{Value, json};
use unyo_domain::DomainError;

pub(crate) use unyo_domain::time::{
    date_from_storage as stored_date, date_to_storage as date_text, jst_midnight,
};

/// The storage instant at which JST day `d` begins: the lower bound (inclusive) of that day's rows, and
/// the upper bound (exclusive) of the day before's.
pub(crate) fn day_start(d: chrono::NaiveDate) -> String {
    unyo_domain::time::to_storage(jst_midnight(d))
}

// ------------------------------------------------------------------------------------------------ errors

/// What the request names does not exist (`what` names it for people, e.g. `契約 12`).
pub(crate) fn not_found(what: impl Into<String>) -> StoreError {
    DomainError::NotFound(what.into()).into()
}

/// The change collides with the stored state (a number taken, a step already done).
pub(crate) fn conflict(message: impl Into<String>) -> StoreError {
    DomainError::Conflict(message.into()).into()
}

/// One form field's value is refused.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    DomainError::invalid(field, message).into()
}

/// Field-by-field differences between two JSON objects, as `{field: [old, new]}`: what an update's audit
/// entry records. Fields only in `old` are left out.
pub(crate) fn diff(old: &Value, new: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let (Some(o), Some(n)) = (old.as_object(), new.as_object()) {
        for (k, nv) in n {
            let ov = o.get(k).unwrap_or(&Value::Null);
            if ov != nv {
                out.insert(k.clone(), json!([ov, nv]));
            }
        }
    }
    Value::Object(out)
}

// ------------------------------------------------------------------------------------------------ filters

/// A query's optional text, trimmed; `None` when missing or blank.
pub(crate) fn given(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `$n, $n+1, …` for `values` (ids, or text keys), bound to `f` in order (for `IN (…)`).
pub(crate) fn placeholders<V: Copy + Into<Param>>(f: &mut Filter, values: &[V]) -> String {
    values
        .iter()
        .map(|v| f.bind((*v).into()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(v.to_owned())
    }
}

/// Rows of either backend decodable as `T`: what [`Store::rows_for_ids`] and [`Store::page_of`] read.
pub(crate) trait AnyRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}

impl<T> AnyRow for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

// ------------------------------------------------------------------------------------------------ paging

/// Rows per page unless the query asks otherwise.
const PER_PAGE: i64 = 50;
/// Most rows on one page of an ordinary list.
const MAX_PER_PAGE: i64 = 500;

/// A list's `(page, per_page)`: page from 1, [`PER_PAGE`] rows unless asked, at most [`MAX_PER_PAGE`].
pub(crate) fn paging(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    paging_up_to(page, per_page, MAX_PER_PAGE)
}

/// As [`paging`], with at most `max` rows on a page (the audit log and findings allow more).
pub(crate) fn paging_up_to(page: Option<i64>, per_page: Option<i64>, max: i64) -> (i64, i64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(PER_PAGE).clamp(1, max),
    )
}

impl Store {
    /// `prefix (ids…) suffix` for ids in chunks of 500 (keeps each statement's parameters well within
    /// limits), the rows of all chunks in chunk order.
    pub(crate) async fn rows_for_ids<T: AnyRow>(
        &self,
        prefix: &'static str,
        suffix: &'static str,
        ids: &[i64],
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let mut f = Filter::default();
            let list = placeholders(&mut f, chunk);
            let sql = format!("{prefix} ({list}){suffix}");
            let mut rows: Vec<T> = read_db!(self, |db| bind_params!(
                sqlx::query_as(sqlx::AssertSqlSafe(sql)),
                f.params
            )
            .fetch_all(db)
            .await?);
            out.append(&mut rows);
        }
        Ok(out)
    }

    /// One page of a list and the number of rows across all pages. `count_sql` counts the filtered rows
    /// (`SELECT COUNT(*) FROM … WHERE …`); `list_sql` selects them in order (`SELECT … WHERE … ORDER BY
    /// …`), and the page's `LIMIT … OFFSET …` is appended here. Both statements take `params`.
    pub(crate) async fn page_of<T: AnyRow>(
        &self,
        count_sql: String,
        list_sql: String,
        params: &[Param],
        (page, per_page): (i64, i64),
    ) -> Result<Page<T>> {
        let list_sql = format!(
            "{list_sql} LIMIT {per_page} OFFSET {}",
            (page - 1) * per_page
        );
        let (total, items): (i64, Vec<T>) = read_db!(self, |db| {
            let total: i64 =
                bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), params)
                    .fetch_one(db)
                    .await?;
            let items: Vec<T> = bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(list_sql)), params)
                .fetch_all(db)
                .await?;
            (total, items)
        });
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(paging(None, None), (1, 50));
        assert_eq!(paging(Some(0), Some(0)), (1, 1));
        assert_eq!(paging(Some(3), Some(9_999)), (3, 500));
        assert_eq!(paging_up_to(Some(-2), Some(9_999), 1000), (1, 1000));
    }

    #[test]
    fn placeholders_are_numbered_after_the_filter_s_own() {
        let mut f = Filter::default();
        f.bind(Param::Text("x".into()));
        assert_eq!(placeholders(&mut f, &[7, 8, 9]), "$2, $3, $4");
        assert_eq!(f.params.len(), 4);
        assert_eq!(placeholders(&mut f, &["a", "b"]), "$5, $6");
    }

    #[test]
    fn given_trims_and_drops_blank_text() {
        assert_eq!(given(&Some("  a b ".into())), Some("a b".into()));
        assert_eq!(given(&Some("   ".into())), None);
        assert_eq!(given(&None), None);
    }
}
