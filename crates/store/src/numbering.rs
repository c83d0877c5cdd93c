//! What support requests, incidents and rollout campaigns share as numbered records that move through
//! states: the number counted within a fiscal year (`R8-0001`, `INC-R8-0001`, `展-R8-001`), the lock that
//! serialises numbering, and the optimistic state change (`UPDATE … WHERE id = $n AND status = $old`, refused with
//! `Conflict(STALE_MESSAGE)` when another change won the race).
//!
//! On SQLite every write transaction is begun `IMMEDIATE` and already holds the database's one write lock;
//! on PostgreSQL [`Serial::serialise`] takes a transaction advisory lock, so the read of the highest
//! sequence and the insert of the next one can never interleave with another writer's.

use crate::{Result, StoreError};
use sqlx::query::Query;
use unyo_domain::DomainError;
use unyo_domain::wareki::FiscalYear;

/// The message when a concurrent change won the race.
pub const STALE_MESSAGE: &str = "他の利用者が先に更新しました。";

/// A series of records numbered per fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Series {
    /// Support requests (`requests`): `R8-0001`.
    Requests,
    /// Incidents (`incidents`), by the fiscal year of 認知: `INC-R8-0001`.
    Incidents,
    /// Rollout campaigns (`campaigns`): `展-R8-001`.
    Campaigns,
}

impl Series {
    /// The query for the next sequence number within a fiscal year (`$1`) of the series' table.
    fn next_seq_sql(self) -> &'static str {
        match self {
            Series::Requests => {
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM requests WHERE fiscal_year = $1"
            }
            Series::Incidents => {
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents WHERE fiscal_year = $1"
            }
            Series::Campaigns => {
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM campaigns WHERE fiscal_year = $1"
            }
        }
    }

    /// What comes before the fiscal year in a number.
    fn prefix(self) -> &'static str {
        match self {
            Series::Requests => "",
            Series::Incidents => "INC-",
            Series::Campaigns => "展-",
        }
    }

    /// Digits of the sequence: a fiscal year has hundreds of requests and incidents, a few campaigns.
    fn width(self) -> usize {
        match self {
            Series::Campaigns => 3,
            _ => 4,
        }
    }

    /// The number of the `seq`-th record of fiscal year `fy`: the prefix, the era letter and year of the
    /// fiscal year (`R8` for 令和8年度, or the calendar year before an era is known), then the sequence
    /// padded to the series' width.
    pub(crate) fn number(self, fy: FiscalYear, seq: i64) -> String {
        let label = fy.label_short();
        format!(
            "{}{}-{seq:0width$}",
            self.prefix(),
            label.trim_end_matches("年度"),
            width = self.width()
        )
    }
}

/// The error when an optimistic update changed no row.
fn stale() -> StoreError {
    DomainError::Conflict(STALE_MESSAGE.into()).into()
}

/// Serialises writers that read before they write, on backends that need it.
pub(crate) trait Serial {
    async fn serialise(&mut self, key: i64) -> Result<()>;
}

impl Serial for sqlx::SqliteConnection {
    async fn serialise(&mut self, _key: i64) -> Result<()> {
        // The transaction was begun IMMEDIATE: it already holds the database's one write lock.
        Ok(())
    }
}

impl Serial for sqlx::PgConnection {
    async fn serialise(&mut self, key: i64) -> Result<()> {
        // Taken before the audit lock by every caller, so the two locks are always taken in one order.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

/// Numbering and optimistic updates inside the caller's write transaction, for both backends.
pub(crate) trait NumberingConn {
    /// The backend of this connection.
    type Db: sqlx::Database;

    /// The next sequence number of `series` within fiscal year `fy` (1 for the first). Call after
    /// [`Serial::serialise`], so that no other writer numbers a record of the series meanwhile.
    async fn next_seq(&mut self, series: Series, fy: FiscalYear) -> Result<i64>;

    /// Runs an optimistic update: `update` is an `UPDATE … WHERE id = $n AND <state> = $n+1` with every
    /// parameter but those last two bound. Binds the record's `id` and the `expected` state the caller read,
    /// and refuses with `Conflict(STALE_MESSAGE)` when no row matched because another change won the race.
    async fn update_from_state(
        &mut self,
        update: Query<'_, Self::Db, <Self::Db as sqlx::Database>::Arguments>,
        id: i64,
        expected: &str,
    ) -> Result<()>;
}

macro_rules! numbering_conn {
    ($conn:ty, $db:ty) => {
        impl NumberingConn for $conn {
            type Db = $db;

            async fn next_seq(&mut self, series: Series, fy: FiscalYear) -> Result<i64> {
                Ok(sqlx::query_scalar(series.next_seq_sql())
                    .bind(i64::from(fy.0))
                    .fetch_one(&mut *self)
                    .await?)
            }

            async fn update_from_state(
                &mut self,
                update: Query<'_, Self::Db, <Self::Db as sqlx::Database>::Arguments>,
                id: i64,
                expected: &str,
            ) -> Result<()> {
                let changed = update
                    .bind(id)
                    .bind(expected.to_owned())
                    .execute(&mut *self)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Err(stale());
                }
                Ok(())
            }
        }
    };
}

numbering_conn!(sqlx::SqliteConnection, sqlx::Sqlite);
numbering_conn!(sqlx::PgConnection, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, testing::test_store};
    use chrono::NaiveDate;
    use unyo_domain::support::RequestInput;

    #[test]
    fn numbers_carry_the_era_year_and_the_series_width() {
        assert_eq!(Series::Requests.number(FiscalYear(2026), 1), "R8-0001");
        assert_eq!(
            Series::Incidents.number(FiscalYear(2026), 12),
            "INC-R8-0012"
        );
        // The era in force on April 1 names the fiscal year: 2019 is 平成31年度.
        assert_eq!(
            Series::Incidents.number(FiscalYear(2019), 10000),
            "INC-H31-10000"
        );
        assert_eq!(Series::Campaigns.number(FiscalYear(2026), 1), "展-R8-001");
    }

    /// Files a request on `day` (no targets), through the normal store call.
    async fn file(store: &crate::Store, day: NaiveDate) -> (i64, String) {
        let input = RequestInput {
            title: "番号".into(),
            category: "other".into(),
            description: "採番の確認".into(),
            ..Default::default()
        };
        let r = store
            .create_request_on(&Actor::system("test"), &input, day)
            .await
            .expect("file");
        (r.id, r.number)
    }

    #[tokio::test]
    async fn sequences_count_per_fiscal_year_and_stale_updates_are_refused() {
        let db = test_store().await.expect("store");
        let store = &db.store;
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(file(store, day(2026, 4, 1)).await.1, "R8-0001");
        let (id, _) = file(store, day(2027, 3, 31)).await;
        assert_eq!(file(store, day(2027, 4, 1)).await.1, "R9-0001");

        let out: Result<(i64, i64, i64, bool, bool)> = async {
            Ok(write_tx!(store, |tx| {
                tx.serialise(1).await?;
                let r8 = tx.next_seq(Series::Requests, FiscalYear(2026)).await?;
                let r9 = tx.next_seq(Series::Requests, FiscalYear(2027)).await?;
                let inc = tx.next_seq(Series::Incidents, FiscalYear(2026)).await?;
                let update = "UPDATE requests SET updated_at = $1 WHERE id = $2 AND status = $3";
                let from_other = tx
                    .update_from_state(sqlx::query(update).bind("x"), id, "accepted")
                    .await;
                let stale = matches!(
                    from_other,
                    Err(StoreError::Domain(DomainError::Conflict(ref m))) if m == STALE_MESSAGE
                );
                let from_stored = tx
                    .update_from_state(sqlx::query(update).bind("y"), id, "requested")
                    .await
                    .is_ok();
                (r8, r9, inc, stale, from_stored)
            }))
        }
        .await;
        assert_eq!(out.expect("transaction"), (3, 2, 1, true, true));
    }
}
