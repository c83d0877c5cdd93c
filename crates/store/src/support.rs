//! Support work (R2–R8, R18): contracts and their staff, support requests (支援要請) with their timeline,
//! work entries (作業記録), the workload views built from them, and consultations (協議記録).
//!
//! Rules that need stored facts run inside the write transaction that saves the record: the request
//! number of a fiscal year, the work-entry checks (contract term, terminals at the chosen site, no overlap
//! for the same worker, workers assigned to the contract) and the request's status transition. SQLite's
//! single `BEGIN IMMEDIATE` writer orders them; on PostgreSQL a transaction advisory lock (numbering, work
//! entries) or an optimistic `UPDATE … WHERE status = $old` (transitions) does, so two concurrent saves can
//! never both pass.
//!
//! Request targets: when a request names sites, every terminal it names must be at one of them (refused
//! otherwise); when it names terminals but no sites, the terminals' sites are added automatically.

use crate::attachments::AttachmentMeta;
use crate::audit::{AuditSink, NewAuditEntry};
use crate::numbering::{NumberingConn, Serial, Series};
use crate::{
    Actor, Filter, Page, Param, Result, Store, StoreError, conflict_on_unique, contains_pattern,
    now,
};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use unyo_domain::contract_registers::{ApprovedScope, check_subcontracted_work};
use unyo_domain::support::{
    BookedSlot, Category, Clause, ConsultationInput, ContractDraft, ContractInput, RequestAction,
    RequestDraft, RequestInput, RequestStatus, TransitionInput, WorkContext, WorkDraft, WorkInput,
    check_transition_input, check_work_against, hours_label, next_status, parse_date,
    request_action_allowed,
};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, FieldError, Role};

/// Advisory-lock key serialising request numbering on PostgreSQL.
const LOCK_REQUEST_NUMBER: i64 = 7_164_101;
/// Advisory-lock key serialising work-entry saves (the overlap rule) on PostgreSQL.
const LOCK_WORK: i64 = 7_164_102;

/// Statuses in which the work of a request is still to be done (used for the overdue flag).
const PENDING_STATUSES: &str = "('requested', 'accepted', 'in_progress', 'returned')";
/// Statuses of closed requests.
const CLOSED_STATUSES: &str = "('confirmed', 'withdrawn')";

use crate::kit::{
    conflict, date_text, diff, given, invalid, not_found, paging, placeholders, stored_date,
};
pub use crate::numbering::STALE_MESSAGE;

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

/// A support request as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    /// `R8-0001`: era letter and year of the fiscal year, then the sequence within it.
    pub number: String,
    /// The fiscal year (starting calendar year: 2026 = 令和8年度).
    pub fiscal_year: i64,
    pub title: String,
    /// Category code.
    pub category: String,
    /// Status code.
    pub status: String,
    pub description: String,
    pub wished_date: Option<String>,
    /// The JST day it was filed (decides the fiscal year of its number).
    pub filed_on: String,
    pub requester_id: Option<i64>,
    /// The requester's login name.
    pub requester: String,
    /// The requester's display name (the login name when the account is gone or was `system`).
    pub requester_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub planned_date: Option<String>,
    /// The SE's result, from the latest 完了報告.
    pub result: String,
    pub created_at: String,
    pub updated_at: String,
    pub accepted_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub confirmed_at: Option<String>,
    /// When it was confirmed or withdrawn.
    pub closed_at: Option<String>,
    /// Target site names joined with `、`.
    #[sqlx(skip)]
    pub sites: String,
    /// Work still pending and its planned date (or, before 受付, its wished date) before `today`.
    #[sqlx(skip)]
    pub overdue: bool,
}

impl RequestRow {
    /// The status as a domain value.
    pub fn status(&self) -> Option<RequestStatus> {
        RequestStatus::parse(&self.status)
    }

    /// The category as a domain value.
    pub fn category(&self) -> Option<Category> {
        Category::parse(&self.category)
    }
}

/// A site named by a request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SiteRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// A terminal named by a request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TerminalRef {
    pub id: i64,
    pub hostname: String,
    pub kind: String,
    pub site_id: i64,
    pub site_name: String,
}

/// One step of a request's timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestEvent {
    pub id: i64,
    pub request_id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    /// Login name.
    pub actor: String,
    /// Display name (login name when unknown).
    pub actor_name: String,
    /// `file` for the filing, otherwise a [`RequestAction`] code.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: String,
    pub planned_date: Option<String>,
}

/// A request with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetail {
    pub request: RequestRow,
    pub sites: Vec<SiteRef>,
    pub terminals: Vec<TerminalRef>,
    /// Oldest first.
    pub events: Vec<RequestEvent>,
    /// Work entries answering it, in date order.
    pub work: Vec<WorkRow>,
    pub attachments: Vec<AttachmentMeta>,
    pub consultations: Vec<Consultation>,
}

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

/// A request linked from a consultation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestLink {
    pub id: i64,
    pub number: String,
    pub title: String,
}

/// A consultation record (協議記録).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Consultation {
    pub id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    pub participants: String,
    pub topic: String,
    pub agreed: String,
    /// Login name of whoever recorded it.
    pub recorded_by: String,
    pub created_at: String,
    #[sqlx(skip)]
    pub requests: Vec<RequestLink>,
}

// ------------------------------------------------------------------------------------------------ queries

/// Filter for the request list. Dates accept ISO or 和暦.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestQuery {
    /// Status code.
    pub status: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Requests naming this site.
    pub site_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub requester_id: Option<i64>,
    /// Inclusive range: requests filed or wished within it.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only requests not yet confirmed or withdrawn.
    pub open_only: Option<bool>,
    /// Only overdue requests (see [`RequestRow::overdue`]).
    pub overdue_only: Option<bool>,
    /// Free text in number, title, description and result.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1..=500, default 50.
    pub per_page: Option<i64>,
}

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

fn query_date(s: &Option<String>) -> Option<String> {
    given(s).as_deref().and_then(parse_date).map(date_text)
}

impl RequestQuery {
    fn filter(&self, today: NaiveDate, with_status: bool) -> Filter {
        let mut f = Filter::default();
        if with_status && let Some(s) = given(&self.status) {
            let p = f.bind(Param::Text(s));
            f.push(format!("r.status = {p}"));
        }
        if let Some(c) = given(&self.category) {
            let p = f.bind(Param::Text(c));
            f.push(format!("r.category = {p}"));
        }
        if let Some(site) = self.site_id {
            let p = f.bind(Param::Int(site));
            f.push(format!(
                "EXISTS (SELECT 1 FROM request_sites rs WHERE rs.request_id = r.id AND rs.site_id = {p})"
            ));
        }
        if let Some(a) = self.assignee_id {
            let p = f.bind(Param::Int(a));
            f.push(format!("r.assignee_id = {p}"));
        }
        if let Some(a) = self.requester_id {
            let p = f.bind(Param::Int(a));
            f.push(format!("r.requester_id = {p}"));
        }
        let from = query_date(&self.from).map(|d| f.bind(Param::Text(d)));
        let to = query_date(&self.to).map(|d| f.bind(Param::Text(d)));
        if from.is_some() || to.is_some() {
            let within = |col: &str| {
                let mut parts = Vec::new();
                if let Some(p) = &from {
                    parts.push(format!("{col} >= {p}"));
                }
                if let Some(p) = &to {
                    parts.push(format!("{col} <= {p}"));
                }
                format!("({})", parts.join(" AND "))
            };
            f.push(format!(
                "({} OR {})",
                within("r.filed_on"),
                within("r.wished_date")
            ));
        }
        if with_status && self.open_only == Some(true) {
            f.push(format!("r.status NOT IN {CLOSED_STATUSES}"));
        }
        if self.overdue_only == Some(true) {
            let p = f.bind(Param::Text(date_text(today)));
            f.push(format!(
                "r.status IN {PENDING_STATUSES} AND COALESCE(r.planned_date, r.wished_date) < {p}"
            ));
        }
        if let Some(q) = given(&self.q) {
            let p = f.bind(Param::Text(contains_pattern(&q)));
            let ors: Vec<String> = ["r.number", "r.title", "r.description", "r.result"]
                .iter()
                .map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'"))
                .collect();
            f.push(format!("({})", ors.join(" OR ")));
        }
        f
    }
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

/// Today's date in JST: the default filing day and the usual `today` for overdue flags.
pub fn jst_today() -> NaiveDate {
    unyo_domain::time::to_jst(chrono::Utc::now()).date()
}

/// The number of the `seq`-th request of fiscal year `fy`: `R8-0001`.
pub fn request_number(fy: FiscalYear, seq: i64) -> String {
    Series::Requests.number(fy, seq)
}

fn time_text(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn stored_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

fn is_overdue(r: &RequestRow, today: &str) -> bool {
    matches!(
        r.status.as_str(),
        "requested" | "accepted" | "in_progress" | "returned"
    ) && r
        .planned_date
        .as_deref()
        .or(r.wished_date.as_deref())
        .is_some_and(|d| d < today)
}

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

/// A row of the request timeline about to be written.
struct NewEvent<'a> {
    request_id: i64,
    at: &'a str,
    actor: &'a Actor,
    action: &'a str,
    from: Option<&'a str>,
    to: &'a str,
    comment: &'a str,
    planned_date: Option<String>,
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// Reads and writes of this module that must run inside the caller's transaction, for both backends.
trait SupportConn {
    /// Refuses unknown users, and disabled ones unless they are in `keep`.
    async fn check_users(&mut self, ids: &[i64], keep: &[i64], field: &str) -> Result<()>;
    async fn replace_contract_staff(&mut self, contract_id: i64, ids: &[i64]) -> Result<()>;
    /// Checks the request's sites and terminals; returns the sites to store.
    async fn request_targets(&mut self, d: &RequestDraft) -> Result<Vec<i64>>;
    async fn insert_event(&mut self, e: &NewEvent<'_>) -> Result<()>;
    /// Every stored-data check of a work entry; returns whether it touches a representative terminal.
    async fn check_work(
        &mut self,
        d: &WorkDraft,
        editing: Option<i64>,
        actor: &Actor,
    ) -> Result<bool>;
    async fn save_work_links(&mut self, work_id: i64, d: &WorkDraft) -> Result<()>;
    async fn work_snapshot(&mut self, id: i64) -> Result<Option<Value>>;
    async fn check_requests_exist(&mut self, ids: &[i64]) -> Result<()>;
}

macro_rules! support_conn {
    ($conn:ty) => {
        impl SupportConn for $conn {
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
                    Err(invalid(field, "選択された利用者が見つからないか、無効になっています。"))
                }
            }

            async fn replace_contract_staff(&mut self, contract_id: i64, ids: &[i64]) -> Result<()> {
                sqlx::query("DELETE FROM contract_staff WHERE contract_id = $1")
                    .bind(contract_id)
                    .execute(&mut *self)
                    .await?;
                for u in ids {
                    sqlx::query("INSERT INTO contract_staff (contract_id, user_id) VALUES ($1, $2)")
                        .bind(contract_id)
                        .bind(*u)
                        .execute(&mut *self)
                        .await?;
                }
                Ok(())
            }

            async fn request_targets(&mut self, d: &RequestDraft) -> Result<Vec<i64>> {
                let mut errors = Vec::new();
                let mut terminal_sites = Vec::new();
                if !d.terminal_ids.is_empty() {
                    let mut f = Filter::default();
                    let list = placeholders(&mut f, &d.terminal_ids);
                    let sql = format!(
                        "SELECT id, site_id, hostname, retired_at FROM terminals WHERE id IN ({list})"
                    );
                    let rows: Vec<(i64, i64, String, Option<String>)> =
                        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                            .fetch_all(&mut *self)
                            .await?;
                    for tid in &d.terminal_ids {
                        match rows.iter().find(|r| r.0 == *tid) {
                            None => errors.push(FieldError::new(
                                "terminal_ids",
                                "選択された端末が見つかりません。",
                            )),
                            Some((_, _, host, Some(_))) => errors.push(FieldError::new(
                                "terminal_ids",
                                format!("端末 {host} は廃止されています。"),
                            )),
                            Some((_, site, host, None)) => terminal_sites.push((*site, host.clone())),
                        }
                    }
                }
                let site_ids: Vec<i64> = if d.site_ids.is_empty() {
                    terminal_sites
                        .iter()
                        .map(|(s, _)| *s)
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect()
                } else {
                    for (site, host) in &terminal_sites {
                        if !d.site_ids.contains(site) {
                            errors.push(FieldError::new(
                                "terminal_ids",
                                format!("端末 {host} は選択した拠点に設置されていません。"),
                            ));
                        }
                    }
                    d.site_ids.clone()
                };
                if !site_ids.is_empty() {
                    let mut f = Filter::default();
                    let list = placeholders(&mut f, &site_ids);
                    let sql = format!("SELECT id, name, retired_at FROM sites WHERE id IN ({list})");
                    let rows: Vec<(i64, String, Option<String>)> =
                        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                            .fetch_all(&mut *self)
                            .await?;
                    for sid in &site_ids {
                        match rows.iter().find(|r| r.0 == *sid) {
                            None => errors.push(FieldError::new(
                                "site_ids",
                                "選択された拠点が見つかりません。",
                            )),
                            Some((_, name, Some(_))) => errors.push(FieldError::new(
                                "site_ids",
                                format!("拠点 {name} は廃止されています。"),
                            )),
                            Some(_) => {}
                        }
                    }
                }
                if errors.is_empty() {
                    Ok(site_ids)
                } else {
                    Err(DomainError::Validation(errors).into())
                }
            }

            async fn insert_event(&mut self, e: &NewEvent<'_>) -> Result<()> {
                sqlx::query(
                    "INSERT INTO request_events (request_id, at, actor_id, actor, action, from_status, to_status, comment, planned_date)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(e.request_id)
                .bind(e.at)
                .bind(e.actor.user_id)
                .bind(&e.actor.username)
                .bind(e.action)
                .bind(e.from)
                .bind(e.to)
                .bind(e.comment)
                .bind(&e.planned_date)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

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

            async fn check_requests_exist(&mut self, ids: &[i64]) -> Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut f = Filter::default();
                let list = placeholders(&mut f, ids);
                let sql = format!("SELECT id FROM requests WHERE id IN ({list})");
                let found: Vec<i64> =
                    bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                if ids.iter().all(|id| found.contains(id)) {
                    Ok(())
                } else {
                    Err(invalid("request_ids", "選択された支援要請が見つかりません。"))
                }
            }
        }
    };
}
support_conn!(sqlx::SqliteConnection);
support_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

const CONTRACT_SELECT: &str = "SELECT id, name, number, term_start, term_end, contractor, manager, created_at, updated_at FROM contracts";

const REQUEST_SELECT: &str = "SELECT r.id, r.number, r.fiscal_year, r.title, r.category, r.status, r.description,
    r.wished_date, r.filed_on, r.requester_id, r.requester, COALESCE(ru.display_name, r.requester) AS requester_name,
    r.assignee_id, au.display_name AS assignee_name, r.planned_date, r.result, r.created_at, r.updated_at,
    r.accepted_at, r.started_at, r.completed_at, r.confirmed_at, r.closed_at
    FROM requests r LEFT JOIN users ru ON ru.id = r.requester_id LEFT JOIN users au ON au.id = r.assignee_id";

const WORK_SELECT: &str = "SELECT w.id, w.contract_id, c.number AS contract_number, w.work_date, w.start_time,
    w.end_time, w.minutes, w.mode, w.site_id, s.name AS site_name, w.category, w.clause, w.clause_set, w.description,
    w.result, w.follow_up, w.request_id, r.number AS request_number, w.created_by, w.created_at, w.updated_at
    FROM work_entries w JOIN contracts c ON c.id = w.contract_id LEFT JOIN sites s ON s.id = w.site_id
    LEFT JOIN requests r ON r.id = w.request_id";

const CONSULTATION_SELECT: &str =
    "SELECT k.id, k.contract_id, c.number AS contract_number, k.held_on,
    k.participants, k.topic, k.agreed, k.recorded_by, k.created_at
    FROM consultations k JOIN contracts c ON c.id = k.contract_id";

impl Store {
    // -------------------------------------------------------------------------------------------- contracts

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

    // -------------------------------------------------------------------------------------------- requests

    async fn finish_requests(&self, rows: &mut [RequestRow], today: NaiveDate) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let names: Vec<(i64, String)> = self
            .rows_for_ids(
                "SELECT rs.request_id, s.name FROM request_sites rs JOIN sites s ON s.id = rs.site_id WHERE rs.request_id IN",
                " ORDER BY s.code, s.id",
                &ids,
            )
            .await?;
        let mut by_request: HashMap<i64, Vec<String>> = HashMap::new();
        for (rid, name) in names {
            by_request.entry(rid).or_default().push(name);
        }
        let today = date_text(today);
        for r in rows.iter_mut() {
            r.sites = by_request
                .get(&r.id)
                .map(|v| v.join("、"))
                .unwrap_or_default();
            r.overdue = is_overdue(r, &today);
        }
        Ok(())
    }

    async fn request_row(&self, id: i64, today: NaiveDate) -> Result<RequestRow> {
        let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
        let row: Option<RequestRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("支援要請 {id}")))?];
        self.finish_requests(&mut rows, today).await?;
        Ok(rows.remove(0))
    }

    /// Files a support request today (JST). Needs [`Action::FileRequest`]; the actor is the requester.
    pub async fn create_request(&self, actor: &Actor, input: &RequestInput) -> Result<RequestRow> {
        self.create_request_on(actor, input, jst_today()).await
    }

    /// Files a support request on `filed_on`, which decides its fiscal year and number (`R8-0001`, the
    /// sequence counted within the fiscal year in the same transaction). For tests and for entering a
    /// request received on paper on an earlier day.
    pub async fn create_request_on(
        &self,
        actor: &Actor,
        input: &RequestInput,
        filed_on: NaiveDate,
    ) -> Result<RequestRow> {
        actor.require(Action::FileRequest)?;
        let d = input.validate()?;
        unyo_domain::support::check_wished_date(d.wished_date, filed_on)?;
        let fy = FiscalYear::containing(filed_on);
        let at = now();
        let status = RequestStatus::Requested.code();
        let id = write_tx!(self, |tx| {
            tx.serialise(LOCK_REQUEST_NUMBER).await?;
            let site_ids = tx.request_targets(&d).await?;
            let seq = tx.next_seq(Series::Requests, fy).await?;
            let number = request_number(fy, seq);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO requests (number, fiscal_year, seq, title, category, description, wished_date, filed_on,
                 status, requester_id, requester, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(&number)
            .bind(i64::from(fy.0))
            .bind(seq)
            .bind(d.title.as_str())
            .bind(d.category.code())
            .bind(d.description.as_str())
            .bind(d.wished_date.map(date_text))
            .bind(date_text(filed_on))
            .bind(status)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            for s in &site_ids {
                sqlx::query("INSERT INTO request_sites (request_id, site_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*s)
                    .execute(&mut *tx)
                    .await?;
            }
            for t in &d.terminal_ids {
                sqlx::query(
                    "INSERT INTO request_terminals (request_id, terminal_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(*t)
                .execute(&mut *tx)
                .await?;
            }
            tx.insert_event(&NewEvent {
                request_id: id,
                at: &at,
                actor,
                action: "file",
                from: None,
                to: status,
                comment: "",
                planned_date: None,
            })
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "request.create", "request", id).details(json!({
                    "number": number, "title": d.title, "category": d.category.code(),
                    "site_ids": site_ids, "terminal_ids": d.terminal_ids,
                    "wished_date": d.wished_date.map(date_text), "description": d.description,
                })),
            )
            .await?;
            id
        });
        self.request_row(id, jst_today()).await
    }

    /// Moves a request on: checks the input, the role ([`request_action_allowed`], else `Forbidden`), the
    /// move from the stored status ([`next_status`], else `Conflict`), and for 取下げ that the actor is the
    /// requester or an administrator. 受付 makes the actor the assignee with the planned date; 完了 stores
    /// the result; 確認 closes the request. Appends to the timeline and the audit log. If another change
    /// won the race, `Conflict(STALE_MESSAGE)` and nothing changes.
    pub async fn transition_request(
        &self,
        actor: &Actor,
        id: i64,
        input: &TransitionInput,
    ) -> Result<RequestRow> {
        let t = check_transition_input(input)?;
        if !request_action_allowed(actor.role, t.action) {
            return Err(DomainError::Forbidden.into());
        }
        let at = now();
        let planned = t.planned_date.map(date_text);
        write_tx!(self, |tx| {
            let row: Option<(String, Option<i64>, String)> =
                sqlx::query_as("SELECT status, requester_id, number FROM requests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((status, requester_id, number)) = row else {
                return Err(not_found(format!("支援要請 {id}")));
            };
            let from = RequestStatus::parse(&status).ok_or_else(|| {
                StoreError::Internal(format!("request {id}: bad status {status}"))
            })?;
            let to = next_status(from, t.action)?;
            if t.action == RequestAction::Withdraw
                && actor.role != Role::Admin
                && (actor.user_id.is_none() || actor.user_id != requester_id)
            {
                return Err(DomainError::Forbidden.into());
            }
            let sql = match t.action {
                RequestAction::Accept => {
                    "UPDATE requests SET status=$1, updated_at=$2, assignee_id=$3, planned_date=$4, accepted_at=$2
                     WHERE id=$5 AND status=$6"
                }
                RequestAction::Start => {
                    "UPDATE requests SET status=$1, updated_at=$2, started_at=COALESCE(started_at, $2)
                     WHERE id=$3 AND status=$4"
                }
                RequestAction::Complete => {
                    "UPDATE requests SET status=$1, updated_at=$2, result=$3, completed_at=$2
                     WHERE id=$4 AND status=$5"
                }
                RequestAction::Confirm => {
                    "UPDATE requests SET status=$1, updated_at=$2, confirmed_at=$2, closed_at=$2
                     WHERE id=$3 AND status=$4"
                }
                RequestAction::Return => {
                    "UPDATE requests SET status=$1, updated_at=$2, completed_at=NULL WHERE id=$3 AND status=$4"
                }
                RequestAction::Withdraw => {
                    "UPDATE requests SET status=$1, updated_at=$2, closed_at=$2 WHERE id=$3 AND status=$4"
                }
            };
            let mut q = sqlx::query(sql).bind(to.code()).bind(&at);
            match t.action {
                RequestAction::Accept => q = q.bind(actor.user_id).bind(&planned),
                RequestAction::Complete => q = q.bind(t.comment.as_str()),
                _ => {}
            }
            tx.update_from_state(q, id, from.code()).await?;
            tx.insert_event(&NewEvent {
                request_id: id,
                at: &at,
                actor,
                action: t.action.code(),
                from: Some(from.code()),
                to: to.code(),
                comment: &t.comment,
                planned_date: planned.clone(),
            })
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "request.transition", "request", id).details(json!({
                    "number": number, "action": t.action.code(), "from": from.code(), "to": to.code(),
                    "comment": t.comment, "planned_date": planned,
                })),
            )
            .await?;
        });
        self.request_row(id, jst_today()).await
    }

    /// A page of requests, newest first. `today` decides the overdue flags (and `overdue_only`).
    pub async fn requests(&self, q: &RequestQuery, today: NaiveDate) -> Result<Page<RequestRow>> {
        let f = q.filter(today, true);
        let count_sql = format!("SELECT COUNT(*) FROM requests r{}", f.where_clause());
        let list_sql = format!("{REQUEST_SELECT}{} ORDER BY r.id DESC", f.where_clause());
        let mut page: Page<RequestRow> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        self.finish_requests(&mut page.items, today).await?;
        Ok(page)
    }

    /// Number of requests per status (every status, in display order, zeros included) for the same filter
    /// minus its `status` and `open_only` parts, for the tabs above the list.
    pub async fn request_counts(
        &self,
        q: &RequestQuery,
        today: NaiveDate,
    ) -> Result<Vec<(String, i64)>> {
        let f = q.filter(today, false);
        let sql = format!(
            "SELECT r.status, COUNT(*) FROM requests r{} GROUP BY r.status",
            f.where_clause()
        );
        let rows: Vec<(String, i64)> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        Ok(RequestStatus::ALL
            .iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .find(|(code, _)| code == s.code())
                    .map_or(0, |(_, n)| *n);
                (s.code().to_string(), n)
            })
            .collect())
    }

    /// One request with its sites, terminals, timeline, work, attachments and consultations.
    pub async fn request(&self, id: i64, today: NaiveDate) -> Result<RequestDetail> {
        let request = self.request_row(id, today).await?;
        let (sites, terminals, events): (Vec<SiteRef>, Vec<TerminalRef>, Vec<RequestEvent>) = read_db!(
            self,
            |db| {
                let sites = sqlx::query_as(
                    "SELECT s.id, s.code, s.name FROM request_sites rs JOIN sites s ON s.id = rs.site_id
                     WHERE rs.request_id = $1 ORDER BY s.code, s.id",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let terminals = sqlx::query_as(
                    "SELECT t.id, t.hostname, t.kind, t.site_id, s.name AS site_name
                     FROM request_terminals rt JOIN terminals t ON t.id = rt.terminal_id JOIN sites s ON s.id = t.site_id
                     WHERE rt.request_id = $1 ORDER BY t.hostname_key",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let events = sqlx::query_as(
                    "SELECT e.id, e.request_id, e.at, e.actor_id, e.actor, COALESCE(u.display_name, e.actor) AS actor_name,
                     e.action, e.from_status, e.to_status, e.comment, e.planned_date
                     FROM request_events e LEFT JOIN users u ON u.id = e.actor_id
                     WHERE e.request_id = $1 ORDER BY e.id",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                (sites, terminals, events)
            }
        );
        let work = self
            .work_entries_all(&WorkQuery {
                request_id: Some(id),
                ..Default::default()
            })
            .await?;
        let attachments = self.attachments_of("request", id).await?;
        let consultations = self.consultations_of_request(id).await?;
        Ok(RequestDetail {
            request,
            sites,
            terminals,
            events,
            work,
            attachments,
            consultations,
        })
    }

    /// Open requests (not confirmed or withdrawn) the user filed or is assigned to, most urgent first.
    pub async fn my_open_requests(
        &self,
        user_id: i64,
        today: NaiveDate,
    ) -> Result<Vec<RequestRow>> {
        let sql = format!(
            "{REQUEST_SELECT} WHERE (r.assignee_id = $1 OR r.requester_id = $1) AND r.status NOT IN {CLOSED_STATUSES}
             ORDER BY COALESCE(r.planned_date, r.wished_date, r.filed_on), r.id"
        );
        let mut rows: Vec<RequestRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .fetch_all(db)
                .await?);
        self.finish_requests(&mut rows, today).await?;
        Ok(rows)
    }

    // -------------------------------------------------------------------------------------------- work entries

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

    // -------------------------------------------------------------------------------------------- consultations

    async fn finish_consultations(&self, rows: &mut [Consultation]) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let links: Vec<(i64, i64, String, String)> = self
            .rows_for_ids(
                "SELECT cr.consultation_id, r.id, r.number, r.title FROM consultation_requests cr
                 JOIN requests r ON r.id = cr.request_id WHERE cr.consultation_id IN",
                " ORDER BY r.id",
                &ids,
            )
            .await?;
        for r in rows.iter_mut() {
            r.requests = links
                .iter()
                .filter(|(cid, ..)| *cid == r.id)
                .map(|(_, id, number, title)| RequestLink {
                    id: *id,
                    number: number.clone(),
                    title: title.clone(),
                })
                .collect();
        }
        Ok(())
    }

    /// Records a consultation (協議記録, R18) linked to requests. Needs [`Action::RecordConsultation`].
    pub async fn create_consultation(
        &self,
        actor: &Actor,
        input: &ConsultationInput,
    ) -> Result<Consultation> {
        actor.require(Action::RecordConsultation)?;
        let d = input.validate()?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let contract: Option<i64> =
                sqlx::query_scalar("SELECT id FROM contracts WHERE id = $1")
                    .bind(d.contract_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if contract.is_none() {
                return Err(invalid("contract_id", "選択された契約が見つかりません。"));
            }
            tx.check_requests_exist(&d.request_ids).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO consultations (contract_id, held_on, participants, topic, agreed, recorded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(d.contract_id)
            .bind(date_text(d.held_on))
            .bind(d.participants.as_str())
            .bind(d.topic.as_str())
            .bind(d.agreed.as_str())
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            for r in &d.request_ids {
                sqlx::query(
                    "INSERT INTO consultation_requests (consultation_id, request_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(*r)
                .execute(&mut *tx)
                .await?;
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "consultation.create", "consultation", id).details(
                    json!({
                        "contract_id": d.contract_id, "held_on": date_text(d.held_on),
                        "participants": d.participants, "topic": d.topic, "agreed": d.agreed,
                        "request_ids": d.request_ids,
                    }),
                ),
            )
            .await?;
            id
        });
        self.consultation(id).await
    }

    /// One consultation.
    pub async fn consultation(&self, id: i64) -> Result<Consultation> {
        let sql = format!("{CONSULTATION_SELECT} WHERE k.id = $1");
        let row: Option<Consultation> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("協議記録 {id}")))?];
        self.finish_consultations(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// Consultations (of one contract, or all), held within the inclusive range, newest first.
    pub async fn consultations(
        &self,
        contract_id: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Consultation>> {
        let mut f = Filter::default();
        if let Some(c) = contract_id {
            let p = f.bind(Param::Int(c));
            f.push(format!("k.contract_id = {p}"));
        }
        if let Some(d) = from {
            let p = f.bind(Param::Text(date_text(d)));
            f.push(format!("k.held_on >= {p}"));
        }
        if let Some(d) = to {
            let p = f.bind(Param::Text(date_text(d)));
            f.push(format!("k.held_on <= {p}"));
        }
        let sql = format!(
            "{CONSULTATION_SELECT}{} ORDER BY k.held_on DESC, k.id DESC",
            f.where_clause()
        );
        let mut rows: Vec<Consultation> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        self.finish_consultations(&mut rows).await?;
        Ok(rows)
    }

    /// Consultations linked to a request, oldest first.
    pub async fn consultations_of_request(&self, request_id: i64) -> Result<Vec<Consultation>> {
        let sql = format!(
            "{CONSULTATION_SELECT} WHERE k.id IN (SELECT consultation_id FROM consultation_requests WHERE request_id = $1)
             ORDER BY k.held_on, k.id"
        );
        let mut rows: Vec<Consultation> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(request_id)
                .fetch_all(db)
                .await?);
        self.finish_consultations(&mut rows).await?;
        Ok(rows)
    }
}
