//! Contracts (one fiscal year's 業務委託, usually) and the staff assigned to them. A contract's term bounds
//! its work entries, and its staff are the only people who may be their workers.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{conflict, date_text, diff, invalid, not_found, placeholders};
use crate::{Actor, Filter, Result, Store, conflict_on_unique, now};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};
use unyo_domain::Action;
use unyo_domain::support::{ContractDraft, ContractInput};

// ------------------------------------------------------------------------------------------------ rows

/// A person assigned to a contract.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StaffMember {
    pub contract_id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled_at: Option<String>,
}

/// A contract (one fiscal year's 業務委託, usually) with its staff.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub name: String,
    pub number: String,
    /// First day, `YYYY-MM-DD`.
    pub term_start: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub term_end: String,
    pub contractor: String,
    pub manager: String,
    pub created_at: String,
    pub updated_at: String,
    /// Staff assigned, by display name.
    #[sqlx(skip)]
    pub staff: Vec<StaffMember>,
}

impl Contract {
    /// The ids of the staff assigned.
    pub fn staff_ids(&self) -> Vec<i64> {
        self.staff.iter().map(|s| s.user_id).collect()
    }
}

// ------------------------------------------------------------------------------------------------ helpers

fn contract_json(d: &ContractDraft) -> Value {
    json!({
        "name": d.name, "number": d.number, "term_start": date_text(d.term_start),
        "term_end": date_text(d.term_end), "contractor": d.contractor, "manager": d.manager,
        "staff_ids": d.staff_ids,
    })
}

fn contract_json_of(c: &Contract) -> Value {
    json!({
        "name": c.name, "number": c.number, "term_start": c.term_start, "term_end": c.term_end,
        "contractor": c.contractor, "manager": c.manager, "staff_ids": c.staff_ids(),
    })
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// A contract's reads and writes that run inside the caller's transaction, for both backends.
trait ContractConn {
    /// Refuses unknown users, and disabled ones unless they are in `keep`.
    async fn check_users(&mut self, ids: &[i64], keep: &[i64], field: &str) -> Result<()>;
    async fn replace_contract_staff(&mut self, contract_id: i64, ids: &[i64]) -> Result<()>;
}

macro_rules! contract_conn {
    ($conn:ty) => {
        impl ContractConn for $conn {
            async fn check_users(&mut self, ids: &[i64], keep: &[i64], field: &str) -> Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut f = Filter::default();
                let list = placeholders(&mut f, ids);
                let sql = format!("SELECT id, disabled_at FROM users WHERE id IN ({list})");
                let rows: Vec<(i64, Option<String>)> =
                    bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                let ok = ids.iter().all(|id| {
                    rows.iter()
                        .any(|(u, disabled)| u == id && (disabled.is_none() || keep.contains(id)))
                });
                if ok {
                    Ok(())
                } else {
                    Err(invalid(
                        field,
                        "選択された利用者が見つからないか、無効になっています。",
                    ))
                }
            }

            async fn replace_contract_staff(
                &mut self,
                contract_id: i64,
                ids: &[i64],
            ) -> Result<()> {
                sqlx::query("DELETE FROM contract_staff WHERE contract_id = $1")
                    .bind(contract_id)
                    .execute(&mut *self)
                    .await?;
                for u in ids {
                    sqlx::query(
                        "INSERT INTO contract_staff (contract_id, user_id) VALUES ($1, $2)",
                    )
                    .bind(contract_id)
                    .bind(*u)
                    .execute(&mut *self)
                    .await?;
                }
                Ok(())
            }
        }
    };
}
contract_conn!(sqlx::SqliteConnection);
contract_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

const CONTRACT_SELECT: &str = "SELECT id, name, number, term_start, term_end, contractor, manager, created_at, updated_at FROM contracts";

impl Store {
    async fn fill_staff(&self, contracts: &mut [Contract]) -> Result<()> {
        let staff: Vec<StaffMember> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT cs.contract_id, u.id AS user_id, u.username, u.display_name, u.role, u.disabled_at
             FROM contract_staff cs JOIN users u ON u.id = cs.user_id ORDER BY u.display_name, u.id"
        )
        .fetch_all(db)
        .await?
        });
        for c in contracts.iter_mut() {
            c.staff = staff
                .iter()
                .filter(|s| s.contract_id == c.id)
                .cloned()
                .collect();
        }
        Ok(())
    }

    /// Every contract, newest term first, with staff.
    pub async fn contracts(&self) -> Result<Vec<Contract>> {
        let sql = format!("{CONTRACT_SELECT} ORDER BY term_start DESC, id DESC");
        let mut rows: Vec<Contract> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        self.fill_staff(&mut rows).await?;
        Ok(rows)
    }

    /// One contract with staff.
    pub async fn contract(&self, id: i64) -> Result<Contract> {
        let sql = format!("{CONTRACT_SELECT} WHERE id = $1");
        let row: Option<Contract> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("契約 {id}")))?];
        self.fill_staff(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// The contract whose term contains `date` (the latest-starting one if several do).
    pub async fn contract_on(&self, date: NaiveDate) -> Result<Option<Contract>> {
        let sql = format!(
            "{CONTRACT_SELECT} WHERE term_start <= $1 AND term_end >= $1 ORDER BY term_start DESC, id DESC LIMIT 1"
        );
        let row: Option<Contract> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(date_text(date))
            .fetch_optional(db)
            .await?);
        match row {
            Some(c) => Ok(Some(self.contract(c.id).await?)),
            None => Ok(None),
        }
    }

    /// Creates a contract with its staff. Needs [`Action::ManageContracts`].
    pub async fn create_contract(&self, actor: &Actor, input: &ContractInput) -> Result<Contract> {
        actor.require(Action::ManageContracts)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            tx.check_users(&d.staff_ids, &[], "staff_ids").await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO contracts (name, number, term_start, term_end, contractor, manager, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(d.name.as_str())
            .bind(d.number.as_str())
            .bind(date_text(d.term_start))
            .bind(date_text(d.term_end))
            .bind(d.contractor.as_str())
            .bind(d.manager.as_str())
            .bind(&at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                conflict_on_unique(e, || {
                    format!("契約番号「{}」は既に登録されています。", d.number)
                })
            })?;
            tx.replace_contract_staff(id, &d.staff_ids).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "contract.create", "contract", id)
                    .details(contract_json(&d)),
            )
            .await?;
            id
        });
        self.contract(id).await
    }

    /// Changes a contract and its staff (a person removed from the staff can no longer be a worker of
    /// new or edited entries). A term that would leave recorded work outside it is refused.
    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: i64,
        input: &ContractInput,
    ) -> Result<Contract> {
        actor.require(Action::ManageContracts)?;
        let d = input.validate()?;
        let old = self.contract(id).await?;
        let before = contract_json_of(&old);
        let keep = old.staff_ids();
        let at = now();
        write_tx!(self, |tx| {
            tx.check_users(&d.staff_ids, &keep, "staff_ids").await?;
            let outside: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM work_entries WHERE contract_id = $1 AND (work_date < $2 OR work_date > $3)",
            )
            .bind(id)
            .bind(date_text(d.term_start))
            .bind(date_text(d.term_end))
            .fetch_one(&mut *tx)
            .await?;
            if outside > 0 {
                return Err(conflict(format!(
                    "新しい契約期間の外になる作業記録が{outside}件あります。期間を見直してください。"
                )));
            }
            sqlx::query(
                "UPDATE contracts SET name=$1, number=$2, term_start=$3, term_end=$4, contractor=$5, manager=$6, updated_at=$7
                 WHERE id=$8",
            )
            .bind(d.name.as_str())
            .bind(d.number.as_str())
            .bind(date_text(d.term_start))
            .bind(date_text(d.term_end))
            .bind(d.contractor.as_str())
            .bind(d.manager.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                conflict_on_unique(e, || {
                    format!("契約番号「{}」は既に登録されています。", d.number)
                })
            })?;
            tx.replace_contract_staff(id, &d.staff_ids).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "contract.update", "contract", id)
                    .details(diff(&before, &contract_json(&d))),
            )
            .await?;
        });
        self.contract(id).await
    }
}
