//! Work entries (作業記録) and the workload views built from them: hours per category or clause and month,
//! and the work calendar of planned and done work.
//!
//! Every stored-data check of an entry runs inside the transaction that saves it (the contract's term,
//! the terminals at the chosen site, no overlap for the same worker, workers assigned to the contract,
//! a subcontractor's staff inside an approved scope); on PostgreSQL a transaction advisory lock orders
//! concurrent saves, so two of them can never both pass the overlap rule.

use super::query_date;
use super::requests::{REQUEST_SELECT, RequestRow};
use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{date_text, diff, given, not_found, paging, placeholders, stored_date};
use crate::numbering::Serial;
use crate::{Actor, Filter, Page, Param, Result, Store, contains_pattern, now};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use unyo_domain::contract_registers::{ApprovedScope, check_subcontracted_work};
use unyo_domain::support::{
    BookedSlot, Category, Clause, WorkContext, WorkDraft, WorkInput, check_work_against,
    hours_label,
};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, FieldError, Role};

/// Advisory-lock key serialising work-entry saves (the overlap rule) on PostgreSQL.
const LOCK_WORK: i64 = 7_164_102;

// ------------------------------------------------------------------------------------------------ rows

/// A work entry as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WorkRow {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    /// `YYYY-MM-DD` (JST).
    pub work_date: String,
    /// `HH:MM` (JST).
    pub start_time: String,
    pub end_time: String,
    pub minutes: i64,
    /// `onsite` / `remote`.
    pub mode: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    /// Category code.
    pub category: String,
    /// Clause code `1`..`5` (①–⑤ of the specification's 1(6)).
    pub clause: String,
    /// Whether the SE set the clause (otherwise it was suggested from the category and terminals).
    pub clause_set: bool,
    pub description: String,
    pub result: String,
    pub follow_up: String,
    pub request_id: Option<i64>,
    pub request_number: Option<String>,
    /// Login name of whoever recorded it.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[sqlx(skip)]
    pub worker_ids: Vec<i64>,
    /// Workers' display names joined with `、`.
    #[sqlx(skip)]
    pub workers: String,
    #[sqlx(skip)]
    pub terminal_ids: Vec<i64>,
    /// Terminals' hostnames joined with `, `.
    #[sqlx(skip)]
    pub terminals: String,
    /// Hours as the work record prints them (`1.5`).
    #[sqlx(skip)]
    pub hours: String,
}

/// Minutes of work of one category (or clause) in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthMinutes {
    /// Category code (or clause code for [`Store::hours_by_clause_month`]).
    pub key: String,
    pub year: i32,
    pub month: u32,
    pub minutes: i64,
}

/// One item of the work calendar.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarItem {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `planned` (an accepted request's planned date) or `done` (a work entry).
    pub kind: String,
    /// Category code.
    pub category: String,
    /// The assignee (planned) or the workers (done), display names joined with `、`.
    pub worker: String,
    /// Site names joined with `、`.
    pub site: String,
    /// The request's number and title (planned) or the work's description, first line (done).
    pub title: String,
    /// `HH:MM`, for done work.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// `request` or `work`.
    pub link_kind: String,
    pub link_id: i64,
}

// ------------------------------------------------------------------------------------------------ queries

/// Filter for the work-entry list. Dates accept ISO or 和暦.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkQuery {
    pub contract_id: Option<i64>,
    /// Inclusive range of work dates.
    pub from: Option<String>,
    pub to: Option<String>,
    pub worker_id: Option<i64>,
    pub site_id: Option<i64>,
    pub terminal_id: Option<i64>,
    /// Category code.
    pub category: Option<String>,
    pub request_id: Option<i64>,
    /// Free text in description, result and follow-up.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1..=500, default 50.
    pub per_page: Option<i64>,
}

impl WorkQuery {
    fn filter(&self) -> Filter {
        let mut f = Filter::default();
        if let Some(c) = self.contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("w.contract_id = {p}"));
        }
        if let Some(d) = query_date(&self.from) {
            let p = f.bind(Param::Text(d));
            f.push(format!("w.work_date >= {p}"));
        }
        if let Some(d) = query_date(&self.to) {
            let p = f.bind(Param::Text(d));
            f.push(format!("w.work_date <= {p}"));
        }
        if let Some(u) = self.worker_id {
            let p = f.bind(Param::Int(u));
            f.push(format!(
                "EXISTS (SELECT 1 FROM work_workers ww WHERE ww.work_id = w.id AND ww.user_id = {p})"
            ));
        }
        if let Some(s) = self.site_id {
            let p = f.bind(Param::Int(s));
            f.push(format!("w.site_id = {p}"));
        }
        if let Some(t) = self.terminal_id {
            let p = f.bind(Param::Int(t));
            f.push(format!(
                "EXISTS (SELECT 1 FROM work_terminals wt WHERE wt.work_id = w.id AND wt.terminal_id = {p})"
            ));
        }
        if let Some(c) = given(&self.category) {
            let p = f.bind(Param::Text(c));
            f.push(format!("w.category = {p}"));
        }
        if let Some(r) = self.request_id {
            let p = f.bind(Param::Int(r));
            f.push(format!("w.request_id = {p}"));
        }
        if let Some(q) = given(&self.q) {
            let p = f.bind(Param::Text(contains_pattern(&q)));
            let ors: Vec<String> = ["w.description", "w.result", "w.follow_up"]
                .iter()
                .map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'"))
                .collect();
            f.push(format!("({})", ors.join(" OR ")));
        }
        f
    }
}

// ------------------------------------------------------------------------------------------------ helpers

fn time_text(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn stored_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

fn work_json(d: &WorkDraft, clause: Clause) -> Value {
    json!({
        "contract_id": d.contract_id, "work_date": date_text(d.work_date),
        "start_time": time_text(d.start_time), "end_time": time_text(d.end_time), "minutes": d.minutes(),
        "mode": d.mode.code(), "site_id": d.site_id, "terminal_ids": d.terminal_ids,
        "worker_ids": d.worker_ids, "category": d.category.code(), "clause": clause.code(),
        "description": d.description, "result": d.result, "follow_up": d.follow_up,
        "request_id": d.request_id,
    })
}

/// First line of `s`, at most `max` characters.
fn headline(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let mut t: String = line.chars().take(max).collect();
        t.push('…');
        t
    } else {
        line.to_string()
    }
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// A work entry's reads and writes that run inside the caller's transaction, for both backends.
trait WorkConn {
    /// Every stored-data check of a work entry; returns whether it touches a representative terminal.
    async fn check_work(
        &mut self,
        d: &WorkDraft,
        editing: Option<i64>,
        actor: &Actor,
    ) -> Result<bool>;
    async fn save_work_links(&mut self, work_id: i64, d: &WorkDraft) -> Result<()>;
    async fn work_snapshot(&mut self, id: i64) -> Result<Option<Value>>;
}

macro_rules! work_conn {
    ($conn:ty) => {
        impl WorkConn for $conn {
            async fn check_work(
                &mut self,
                d: &WorkDraft,
                editing: Option<i64>,
                actor: &Actor,
            ) -> Result<bool> {
                let mut errors: Vec<FieldError> = Vec::new();
                // The contract and its staff.
                let term: Option<(String, String)> =
                    sqlx::query_as("SELECT term_start, term_end FROM contracts WHERE id = $1")
                        .bind(d.contract_id)
                        .fetch_optional(&mut *self)
                        .await?;
                let contract_term = term.and_then(|(s, e)| Some((stored_date(&s)?, stored_date(&e)?)));
                let staff: Vec<i64> =
                    sqlx::query_scalar("SELECT user_id FROM contract_staff WHERE contract_id = $1")
                        .bind(d.contract_id)
                        .fetch_all(&mut *self)
                        .await?;
                // What the entry already pointed at (kept even if retired since).
                let (old_site, old_request, old_terminals) = match editing {
                    Some(id) => {
                        let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
                            "SELECT site_id, request_id FROM work_entries WHERE id = $1",
                        )
                        .bind(id)
                        .fetch_optional(&mut *self)
                        .await?;
                        let Some((site, request)) = row else {
                            return Err(not_found(format!("作業記録 {id}")));
                        };
                        let terminals: Vec<i64> = sqlx::query_scalar(
                            "SELECT terminal_id FROM work_terminals WHERE work_id = $1",
                        )
                        .bind(id)
                        .fetch_all(&mut *self)
                        .await?;
                        (site, request, terminals)
                    }
                    None => (None, None, Vec::new()),
                };
                // Workers: they must exist and be assigned to the contract (R12).
                let mut f = Filter::default();
                let list = placeholders(&mut f, &d.worker_ids);
                let sql = format!("SELECT id, display_name FROM users WHERE id IN ({list})");
                let workers: Vec<(i64, String)> =
                    bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                let mut worker_errors = Vec::new();
                for w in &d.worker_ids {
                    match workers.iter().find(|(id, _)| id == w) {
                        None => worker_errors.push(FieldError::new(
                            "worker_ids",
                            "選択された作業者が見つかりません。",
                        )),
                        Some((_, name)) if contract_term.is_some() && !staff.contains(w) => {
                            worker_errors.push(FieldError::new(
                                "worker_ids",
                                format!("{name}さんはこの契約の担当者に登録されていないため、作業者にできません。"),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                if contract_term.is_some()
                    && actor.role == Role::Se
                    && !actor.user_id.is_some_and(|u| staff.contains(&u))
                {
                    worker_errors.push(FieldError::new(
                        "contract_id",
                        "ログイン中の利用者はこの契約の担当者に登録されていないため、作業記録を登録・変更できません。",
                    ));
                }
                // The site.
                if let Some(site) = d.site_id {
                    let retired: Option<Option<String>> =
                        sqlx::query_scalar("SELECT retired_at FROM sites WHERE id = $1")
                            .bind(site)
                            .fetch_optional(&mut *self)
                            .await?;
                    match retired {
                        None => errors.push(FieldError::new("site_id", "選択された拠点が見つかりません。")),
                        Some(Some(_)) if old_site != Some(site) => {
                            errors.push(FieldError::new("site_id", "廃止済みの拠点は選択できません。"))
                        }
                        Some(_) => {}
                    }
                }
                // The terminals and where they stand.
                let mut terminal_sites: Vec<(i64, i64, String)> = Vec::new();
                let mut touches_representative = false;
                if !d.terminal_ids.is_empty() {
                    let mut f = Filter::default();
                    let list = placeholders(&mut f, &d.terminal_ids);
                    let sql = format!(
                        "SELECT id, site_id, hostname, kind, retired_at FROM terminals WHERE id IN ({list})"
                    );
                    let rows: Vec<(i64, i64, String, String, Option<String>)> =
                        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                            .fetch_all(&mut *self)
                            .await?;
                    for (id, site, host, kind, retired) in rows {
                        if retired.is_some() && !old_terminals.contains(&id) {
                            errors.push(FieldError::new(
                                "terminal_ids",
                                format!("端末 {host} は廃止されています。"),
                            ));
                        }
                        touches_representative |= kind == "representative";
                        terminal_sites.push((id, site, host));
                    }
                }
                // The request it answers.
                if let Some(r) = d.request_id {
                    let status: Option<String> =
                        sqlx::query_scalar("SELECT status FROM requests WHERE id = $1")
                            .bind(r)
                            .fetch_optional(&mut *self)
                            .await?;
                    match status.as_deref() {
                        None => errors.push(FieldError::new(
                            "request_id",
                            "選択された支援要請が見つかりません。",
                        )),
                        Some("withdrawn") if old_request != Some(r) => errors.push(FieldError::new(
                            "request_id",
                            "取り下げられた支援要請には作業記録を紐付けできません。",
                        )),
                        Some(_) => {}
                    }
                }
                // The same workers' other entries that day.
                let mut f = Filter::default();
                let date = f.bind(Param::Text(date_text(d.work_date)));
                let exclude = f.bind(Param::Int(editing.unwrap_or(0)));
                let list = placeholders(&mut f, &d.worker_ids);
                let sql = format!(
                    "SELECT w.id, ww.user_id, u.display_name, w.start_time, w.end_time
                     FROM work_entries w JOIN work_workers ww ON ww.work_id = w.id JOIN users u ON u.id = ww.user_id
                     WHERE w.work_date = {date} AND w.id <> {exclude} AND ww.user_id IN ({list})
                     ORDER BY w.start_time, w.id"
                );
                let rows: Vec<(i64, i64, String, String, String)> =
                    bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                let booked: Vec<BookedSlot> = rows
                    .into_iter()
                    .filter_map(|(entry_id, worker_id, worker, s, e)| {
                        Some(BookedSlot {
                            entry_id,
                            worker,
                            worker_id,
                            start_time: stored_time(&s)?,
                            end_time: stored_time(&e)?,
                        })
                    })
                    .collect();
                // Subcontractors' staff (R9): only inside an approved scope and period of the approval
                // their roster entry on this contract names.
                let clause = d.clause(touches_representative);
                for (w, name) in &workers {
                    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                        "SELECT s.clauses, s.categories, s.period_start, s.period_end
                         FROM staff_roster r JOIN subcontracts s ON s.id = r.subcontract_id
                         WHERE r.contract_id = $1 AND r.user_id = $2",
                    )
                    .bind(d.contract_id)
                    .bind(*w)
                    .fetch_all(&mut *self)
                    .await?;
                    if rows.is_empty() {
                        continue;
                    }
                    let scopes: Vec<ApprovedScope> = rows
                        .iter()
                        .filter_map(|(clauses, categories, start, end)| {
                            Some(ApprovedScope {
                                clauses: clauses.split(',').filter_map(Clause::parse).collect(),
                                categories: categories.split(',').filter_map(Category::parse).collect(),
                                start: stored_date(start)?,
                                end: stored_date(end)?,
                            })
                        })
                        .collect();
                    if let Err(e) =
                        check_subcontracted_work(name, &scopes, d.work_date, clause, d.category)
                    {
                        worker_errors.push(e);
                    }
                }
                let ctx = WorkContext {
                    contract_term,
                    terminal_sites: &terminal_sites,
                    booked: &booked,
                };
                let mut all = match check_work_against(d, &ctx) {
                    Ok(()) => Vec::new(),
                    Err(DomainError::Validation(e)) => e,
                    Err(other) => return Err(other.into()),
                };
                all.extend(worker_errors);
                all.extend(errors);
                if all.is_empty() {
                    Ok(touches_representative)
                } else {
                    Err(DomainError::Validation(all).into())
                }
            }

            async fn save_work_links(&mut self, work_id: i64, d: &WorkDraft) -> Result<()> {
                sqlx::query("DELETE FROM work_workers WHERE work_id = $1")
                    .bind(work_id)
                    .execute(&mut *self)
                    .await?;
                sqlx::query("DELETE FROM work_terminals WHERE work_id = $1")
                    .bind(work_id)
                    .execute(&mut *self)
                    .await?;
                for u in &d.worker_ids {
                    sqlx::query("INSERT INTO work_workers (work_id, user_id) VALUES ($1, $2)")
                        .bind(work_id)
                        .bind(*u)
                        .execute(&mut *self)
                        .await?;
                }
                for t in &d.terminal_ids {
                    sqlx::query("INSERT INTO work_terminals (work_id, terminal_id) VALUES ($1, $2)")
                        .bind(work_id)
                        .bind(*t)
                        .execute(&mut *self)
                        .await?;
                }
                Ok(())
            }

            async fn work_snapshot(&mut self, id: i64) -> Result<Option<Value>> {
                #[derive(sqlx::FromRow)]
                struct Snap {
                    contract_id: i64,
                    work_date: String,
                    start_time: String,
                    end_time: String,
                    minutes: i64,
                    mode: String,
                    site_id: Option<i64>,
                    category: String,
                    clause: String,
                    description: String,
                    result: String,
                    follow_up: String,
                    request_id: Option<i64>,
                }
                let row: Option<Snap> = sqlx::query_as(
                    "SELECT contract_id, work_date, start_time, end_time, minutes, mode, site_id, category, clause,
                     description, result, follow_up, request_id FROM work_entries WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
                let Some(s) = row else { return Ok(None) };
                let workers: Vec<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM work_workers WHERE work_id = $1 ORDER BY user_id",
                )
                .bind(id)
                .fetch_all(&mut *self)
                .await?;
                let terminals: Vec<i64> = sqlx::query_scalar(
                    "SELECT terminal_id FROM work_terminals WHERE work_id = $1 ORDER BY terminal_id",
                )
                .bind(id)
                .fetch_all(&mut *self)
                .await?;
                Ok(Some(json!({
                    "contract_id": s.contract_id, "work_date": s.work_date, "start_time": s.start_time,
                    "end_time": s.end_time, "minutes": s.minutes, "mode": s.mode, "site_id": s.site_id,
                    "terminal_ids": terminals, "worker_ids": workers, "category": s.category,
                    "clause": s.clause, "description": s.description, "result": s.result,
                    "follow_up": s.follow_up, "request_id": s.request_id,
                })))
            }
        }
    };
}
work_conn!(sqlx::SqliteConnection);
work_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

const WORK_SELECT: &str = "SELECT w.id, w.contract_id, c.number AS contract_number, w.work_date, w.start_time,
    w.end_time, w.minutes, w.mode, w.site_id, s.name AS site_name, w.category, w.clause, w.clause_set, w.description,
    w.result, w.follow_up, w.request_id, r.number AS request_number, w.created_by, w.created_at, w.updated_at
    FROM work_entries w JOIN contracts c ON c.id = w.contract_id LEFT JOIN sites s ON s.id = w.site_id
    LEFT JOIN requests r ON r.id = w.request_id";

impl Store {
    async fn finish_work(&self, rows: &mut [WorkRow]) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let workers: Vec<(i64, i64, String)> = self
            .rows_for_ids(
                "SELECT ww.work_id, u.id, u.display_name FROM work_workers ww JOIN users u ON u.id = ww.user_id WHERE ww.work_id IN",
                " ORDER BY u.display_name, u.id",
                &ids,
            )
            .await?;
        let terminals: Vec<(i64, i64, String)> = self
            .rows_for_ids(
                "SELECT wt.work_id, t.id, t.hostname FROM work_terminals wt JOIN terminals t ON t.id = wt.terminal_id WHERE wt.work_id IN",
                " ORDER BY t.hostname_key, t.id",
                &ids,
            )
            .await?;
        let mut w_by: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for (wid, uid, name) in workers {
            w_by.entry(wid).or_default().push((uid, name));
        }
        let mut t_by: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for (wid, tid, host) in terminals {
            t_by.entry(wid).or_default().push((tid, host));
        }
        for r in rows.iter_mut() {
            if let Some(ws) = w_by.get(&r.id) {
                r.worker_ids = ws.iter().map(|(id, _)| *id).collect();
                r.workers = ws
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
            }
            if let Some(ts) = t_by.get(&r.id) {
                r.terminal_ids = ts.iter().map(|(id, _)| *id).collect();
                r.terminals = ts
                    .iter()
                    .map(|(_, h)| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
            }
            r.hours = hours_label(r.minutes);
        }
        Ok(())
    }

    /// Records a work entry. Needs [`Action::LogWork`]. Checked inside the saving transaction: the
    /// contract's term, the terminals at the chosen site, no overlap with the same workers' other entries,
    /// the workers exist and are assigned to the contract (and an SE actor is too), the request exists.
    /// The clause is the SE's choice, else it follows from the category and whether a representative
    /// terminal was touched.
    pub async fn create_work_entry(&self, actor: &Actor, input: &WorkInput) -> Result<WorkRow> {
        actor.require(Action::LogWork)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            tx.serialise(LOCK_WORK).await?;
            let touches = tx.check_work(&d, None, actor).await?;
            let clause = d.clause(touches);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO work_entries (contract_id, work_date, start_time, end_time, minutes, mode, site_id, category,
                 clause, description, result, follow_up, request_id, created_by, created_at, updated_at, clause_set)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) RETURNING id",
            )
            .bind(d.contract_id)
            .bind(date_text(d.work_date))
            .bind(time_text(d.start_time))
            .bind(time_text(d.end_time))
            .bind(d.minutes())
            .bind(d.mode.code())
            .bind(d.site_id)
            .bind(d.category.code())
            .bind(clause.code())
            .bind(d.description.as_str())
            .bind(d.result.as_str())
            .bind(d.follow_up.as_str())
            .bind(d.request_id)
            .bind(&actor.username)
            .bind(&at)
            .bind(d.clause.is_some())
            .fetch_one(&mut *tx)
            .await?;
            tx.save_work_links(id, &d).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "work.create", "work", id)
                    .details(work_json(&d, clause)),
            )
            .await?;
            id
        });
        self.work_entry(id).await
    }

    /// Changes a work entry, with the same checks as [`Store::create_work_entry`] (its own old times
    /// excluded from the overlap rule); the audit entry holds the differences.
    pub async fn update_work_entry(
        &self,
        actor: &Actor,
        id: i64,
        input: &WorkInput,
    ) -> Result<WorkRow> {
        actor.require(Action::LogWork)?;
        let d = input.validate()?;
        let at = now();
        write_tx!(self, |tx| {
            tx.serialise(LOCK_WORK).await?;
            let Some(before) = tx.work_snapshot(id).await? else {
                return Err(not_found(format!("作業記録 {id}")));
            };
            let touches = tx.check_work(&d, Some(id), actor).await?;
            let clause = d.clause(touches);
            sqlx::query(
                "UPDATE work_entries SET contract_id=$1, work_date=$2, start_time=$3, end_time=$4, minutes=$5, mode=$6,
                 site_id=$7, category=$8, clause=$9, description=$10, result=$11, follow_up=$12, request_id=$13,
                 updated_at=$14, clause_set=$16 WHERE id=$15",
            )
            .bind(d.contract_id)
            .bind(date_text(d.work_date))
            .bind(time_text(d.start_time))
            .bind(time_text(d.end_time))
            .bind(d.minutes())
            .bind(d.mode.code())
            .bind(d.site_id)
            .bind(d.category.code())
            .bind(clause.code())
            .bind(d.description.as_str())
            .bind(d.result.as_str())
            .bind(d.follow_up.as_str())
            .bind(d.request_id)
            .bind(&at)
            .bind(id)
            .bind(d.clause.is_some())
            .execute(&mut *tx)
            .await?;
            tx.save_work_links(id, &d).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "work.update", "work", id)
                    .details(diff(&before, &work_json(&d, clause))),
            )
            .await?;
        });
        self.work_entry(id).await
    }

    /// One work entry.
    pub async fn work_entry(&self, id: i64) -> Result<WorkRow> {
        let sql = format!("{WORK_SELECT} WHERE w.id = $1");
        let row: Option<WorkRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("作業記録 {id}")))?];
        self.finish_work(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// A page of work entries, newest first.
    pub async fn work_entries(&self, q: &WorkQuery) -> Result<Page<WorkRow>> {
        let f = q.filter();
        let count_sql = format!("SELECT COUNT(*) FROM work_entries w{}", f.where_clause());
        let list_sql = format!(
            "{WORK_SELECT}{} ORDER BY w.work_date DESC, w.start_time DESC, w.id DESC",
            f.where_clause()
        );
        let mut page: Page<WorkRow> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        self.finish_work(&mut page.items).await?;
        Ok(page)
    }

    /// Every work entry matching the filter (paging ignored), in date and time order: for exports, the
    /// monthly record and reports.
    pub async fn work_entries_all(&self, q: &WorkQuery) -> Result<Vec<WorkRow>> {
        let f = q.filter();
        let sql = format!(
            "{WORK_SELECT}{} ORDER BY w.work_date, w.start_time, w.id",
            f.where_clause()
        );
        let mut rows: Vec<WorkRow> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        self.finish_work(&mut rows).await?;
        Ok(rows)
    }

    // -------------------------------------------------------------------------------------------- workload

    async fn minutes_by_month(
        &self,
        column: &'static str,
        contract_id: Option<i64>,
        fy: FiscalYear,
    ) -> Result<Vec<MonthMinutes>> {
        let mut f = Filter::default();
        let from = f.bind(Param::Text(date_text(fy.start())));
        let to = f.bind(Param::Text(date_text(fy.end())));
        f.push(format!("work_date >= {from}"));
        f.push(format!("work_date <= {to}"));
        if let Some(c) = contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("contract_id = {p}"));
        }
        let sql = format!(
            "SELECT {column}, SUBSTR(work_date, 1, 7), CAST(SUM(minutes) AS BIGINT) FROM work_entries{}
             GROUP BY {column}, SUBSTR(work_date, 1, 7) ORDER BY 2, 1",
            f.where_clause()
        );
        let rows: Vec<(String, String, i64)> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(key, ym, minutes)| {
                let (y, m) = ym.split_once('-')?;
                Some(MonthMinutes {
                    key,
                    year: y.parse().ok()?,
                    month: m.parse().ok()?,
                    minutes,
                })
            })
            .collect())
    }

    /// Minutes of work per category and month of a fiscal year (one contract, or all when `None`), in
    /// month then category order; months without work are absent.
    pub async fn hours_by_category_month(
        &self,
        contract_id: Option<i64>,
        fy: FiscalYear,
    ) -> Result<Vec<MonthMinutes>> {
        self.minutes_by_month("category", contract_id, fy).await
    }

    /// Minutes of work per clause (`1`..`5`, ①–⑤) and month of a fiscal year, like
    /// [`Store::hours_by_category_month`].
    pub async fn hours_by_clause_month(
        &self,
        contract_id: Option<i64>,
        fy: FiscalYear,
    ) -> Result<Vec<MonthMinutes>> {
        self.minutes_by_month("clause", contract_id, fy).await
    }

    /// The work calendar from `from` to `to` (inclusive): planned work (requests accepted and not yet
    /// completed, on their planned date, with the assignee) and done work (work entries), by date.
    pub async fn work_calendar(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarItem>> {
        let sql = format!(
            "{REQUEST_SELECT} WHERE r.status IN ('accepted', 'in_progress', 'returned')
             AND r.planned_date >= $1 AND r.planned_date <= $2 ORDER BY r.planned_date, r.id"
        );
        let mut planned: Vec<RequestRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(date_text(from))
                .bind(date_text(to))
                .fetch_all(db)
                .await?);
        self.finish_requests(&mut planned, from).await?;
        let done = self
            .work_entries_all(&WorkQuery {
                from: Some(date_text(from)),
                to: Some(date_text(to)),
                ..Default::default()
            })
            .await?;
        let mut items: Vec<CalendarItem> = planned
            .into_iter()
            .map(|r| CalendarItem {
                date: r.planned_date.clone().unwrap_or_default(),
                kind: "planned".into(),
                category: r.category,
                worker: r.assignee_name.unwrap_or_default(),
                site: r.sites,
                title: format!("{} {}", r.number, r.title),
                start_time: None,
                end_time: None,
                link_kind: "request".into(),
                link_id: r.id,
            })
            .collect();
        items.extend(done.into_iter().map(|w| CalendarItem {
            date: w.work_date,
            kind: "done".into(),
            category: w.category,
            worker: w.workers,
            site: w.site_name.unwrap_or_default(),
            title: headline(&w.description, 60),
            start_time: Some(w.start_time),
            end_time: Some(w.end_time),
            link_kind: "work".into(),
            link_id: w.id,
        }));
        items.sort_by(|a, b| {
            (&a.date, &a.kind != "planned", &a.start_time, a.link_id).cmp(&(
                &b.date,
                &b.kind != "planned",
                &b.start_time,
                b.link_id,
            ))
        });
        Ok(items)
    }
}
