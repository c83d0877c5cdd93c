//! Support requests (支援要請): filing with its fiscal-year number, the status transitions with who may
//! take each step, the timeline, the list with its filters and overdue flags, and one request's page.
//!
//! Targets: when a request names sites, every terminal it names must be at one of them (refused
//! otherwise); when it names terminals but no sites, the terminals' sites are added automatically.

use super::{Consultation, WorkQuery, WorkRow, jst_today, query_date};
use crate::attachments::AttachmentMeta;
use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{date_text, given, not_found, paging, placeholders};
use crate::numbering::{NumberingConn, Serial, Series};
use crate::{Actor, Filter, Page, Param, Result, Store, StoreError, contains_pattern, now};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use unyo_domain::support::{
    Category, RequestAction, RequestDraft, RequestInput, RequestStatus, TransitionInput,
    check_transition_input, next_status, request_action_allowed,
};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, FieldError, Role};

/// Advisory-lock key serialising request numbering on PostgreSQL.
const LOCK_REQUEST_NUMBER: i64 = 7_164_101;

/// Statuses in which the work of a request is still to be done (used for the overdue flag).
const PENDING_STATUSES: &str = "('requested', 'accepted', 'in_progress', 'returned')";
/// Statuses of closed requests.
const CLOSED_STATUSES: &str = "('confirmed', 'withdrawn')";

// ------------------------------------------------------------------------------------------------ rows

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

// ------------------------------------------------------------------------------------------------ helpers

/// The number of the `seq`-th request of fiscal year `fy`: `R8-0001`.
pub fn request_number(fy: FiscalYear, seq: i64) -> String {
    Series::Requests.number(fy, seq)
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

/// A request's reads and writes that run inside the caller's transaction, for both backends.
trait RequestConn {
    /// Checks the request's sites and terminals; returns the sites to store.
    async fn request_targets(&mut self, d: &RequestDraft) -> Result<Vec<i64>>;
    async fn insert_event(&mut self, e: &NewEvent<'_>) -> Result<()>;
}

macro_rules! request_conn {
    ($conn:ty) => {
        impl RequestConn for $conn {
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
        }
    };
}
request_conn!(sqlx::SqliteConnection);
request_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

pub(super) const REQUEST_SELECT: &str = "SELECT r.id, r.number, r.fiscal_year, r.title, r.category, r.status, r.description,
    r.wished_date, r.filed_on, r.requester_id, r.requester, COALESCE(ru.display_name, r.requester) AS requester_name,
    r.assignee_id, au.display_name AS assignee_name, r.planned_date, r.result, r.created_at, r.updated_at,
    r.accepted_at, r.started_at, r.completed_at, r.confirmed_at, r.closed_at
    FROM requests r LEFT JOIN users ru ON ru.id = r.requester_id LEFT JOIN users au ON au.id = r.assignee_id";

impl Store {
    pub(super) async fn finish_requests(
        &self,
        rows: &mut [RequestRow],
        today: NaiveDate,
    ) -> Result<()> {
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
}
