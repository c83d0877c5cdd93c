//! Support work through the API (issue 3, R2–R8, R18): support requests and their transitions, work
//! entries, contracts, consultations (協議記録) and the fiscal-year workload.
//!
//! Reads check [`Action::ViewWork`] explicitly (every role has it today, but the table decides). Writes
//! go to the store with the token owner's actor; the store checks the permission (`FileRequest`,
//! `LogWork`, `ManageContracts`, `RecordConsultation`, and for transitions the role/action table of
//! [`request_action_allowed`]) and writes the audit entry in the same transaction. The status rules live
//! in the domain ([`unyo_domain::support::next_status`]): an illegal move answers `409` with the domain's
//! Japanese message and changes nothing.

use super::auth::ApiUser;
use super::common::{CountedList, QueryCheck, created, fiscal_year_param};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery};
use super::handlers::PageOut;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use unyo_domain::Action;
use unyo_domain::support::{
    Category, Clause, ConsultationInput, ContractInput, RequestAction, RequestInput, RequestStatus,
    TransitionInput, WorkInput, hours_label, request_action_allowed,
};
use unyo_domain::wareki::{FiscalYear, format_year_month};
use unyo_store::support::{
    Consultation, Contract, MonthMinutes, RequestDetail, RequestQuery, RequestRow, WorkQuery,
    WorkRow, jst_today,
};

/// A whole list as one page (lists the store returns unpaged: contracts, consultations).
fn one_page<T>(items: Vec<T>) -> PageOut<T> {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    PageOut {
        items,
        total,
        page: 1,
        per_page: total.max(1),
        pages: 1,
    }
}

// ------------------------------------------------------------------------------------------------ requests

/// `GET /requests`: filtered (status, category, site, assignee, requester, period, open, overdue, text),
/// newest first, plus the number per status. `overdue` is judged against today's date in JST.
pub(super) async fn list_requests(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> ApiResult<Json<CountedList<RequestRow>>> {
    user.require(Action::ViewWork)?;
    let mut check = QueryCheck::default();
    let status = check.code(
        "status",
        &q.status,
        RequestStatus::parse,
        RequestStatus::code,
    );
    let category = check.code("category", &q.category, Category::parse, Category::code);
    check.date("from", &q.from);
    check.date("to", &q.to);
    check.done()?;
    let q = RequestQuery {
        status,
        category,
        ..q
    };
    let today = jst_today();
    let page = state.store.requests(&q, today).await?;
    let counts = state.store.request_counts(&q, today).await?;
    Ok(Json(CountedList::new(page, counts)))
}

/// `POST /requests`: files a request today (JST) as the token's user.
pub(super) async fn create_request(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RequestInput>,
) -> ApiResult<Response> {
    let row = state.store.create_request(&user.actor(), &input).await?;
    Ok(created("requests", row.id, row))
}

/// `GET /requests/{id}`: the request with its sites, terminals, timeline, work, attachments (metadata)
/// and consultations.
pub(super) async fn show_request(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<RequestDetail>> {
    user.require(Action::ViewWork)?;
    Ok(Json(state.store.request(id, jst_today()).await?))
}

/// `POST /requests/{id}/transitions`: `{"action": "accept", "planned_date": "2026-05-12", "comment": ""}`.
/// A role that may never perform the action is refused (`403`) before the input is looked at.
pub(super) async fn transition_request(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<TransitionInput>,
) -> ApiResult<Json<RequestRow>> {
    let role = user.user.role();
    if !RequestAction::ALL
        .iter()
        .any(|a| request_action_allowed(role, *a))
    {
        return Err(ApiError::Forbidden);
    }
    if let Some(action) = RequestAction::parse(&input.action)
        && !request_action_allowed(role, action)
    {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(
        state
            .store
            .transition_request(&user.actor(), id, &input)
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ work

/// `GET /work-entries`: a page plus the minutes of every entry matching the filter (all pages).
#[derive(Debug, Serialize)]
pub(super) struct WorkList {
    #[serde(flatten)]
    page: PageOut<WorkRow>,
    /// Minutes of all matching entries.
    total_minutes: i64,
    /// The same as the work record prints it (`1.5`).
    total_hours: String,
}

/// `GET /work-entries`: filtered (contract, period, worker, site, terminal, category, request, text),
/// newest first.
pub(super) async fn list_work(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WorkQuery>,
) -> ApiResult<Json<WorkList>> {
    user.require(Action::ViewWork)?;
    let mut check = QueryCheck::default();
    let category = check.code("category", &q.category, Category::parse, Category::code);
    check.date("from", &q.from);
    check.date("to", &q.to);
    check.done()?;
    let q = WorkQuery { category, ..q };
    let page = state.store.work_entries(&q).await?;
    let total_minutes = if page.total <= page.per_page && page.page == 1 {
        page.items.iter().map(|w| w.minutes).sum()
    } else {
        state
            .store
            .work_entries_all(&q)
            .await?
            .iter()
            .map(|w| w.minutes)
            .sum()
    };
    Ok(Json(WorkList {
        page: page.into(),
        total_minutes,
        total_hours: hours_label(total_minutes),
    }))
}

/// `POST /work-entries`.
pub(super) async fn create_work(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<WorkInput>,
) -> ApiResult<Response> {
    let row = state.store.create_work_entry(&user.actor(), &input).await?;
    Ok(created("work-entries", row.id, row))
}

/// `GET /work-entries/{id}`.
pub(super) async fn show_work(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<WorkRow>> {
    user.require(Action::ViewWork)?;
    Ok(Json(state.store.work_entry(id).await?))
}

/// `PUT /work-entries/{id}`: replaces every editable field, with the same checks as creation.
pub(super) async fn update_work(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<WorkInput>,
) -> ApiResult<Json<WorkRow>> {
    Ok(Json(
        state
            .store
            .update_work_entry(&user.actor(), id, &input)
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ contracts

/// `GET /contracts`: every contract, newest term first, with staff.
pub(super) async fn list_contracts(
    user: ApiUser,
    State(state): State<AppState>,
) -> ApiResult<Json<PageOut<Contract>>> {
    user.require(Action::ViewWork)?;
    Ok(Json(one_page(state.store.contracts().await?)))
}

/// `POST /contracts`.
pub(super) async fn create_contract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ContractInput>,
) -> ApiResult<Response> {
    let row = state.store.create_contract(&user.actor(), &input).await?;
    Ok(created("contracts", row.id, row))
}

/// `GET /contracts/{id}`.
pub(super) async fn show_contract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Contract>> {
    user.require(Action::ViewWork)?;
    Ok(Json(state.store.contract(id).await?))
}

/// `PUT /contracts/{id}`.
pub(super) async fn update_contract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<ContractInput>,
) -> ApiResult<Json<Contract>> {
    Ok(Json(
        state
            .store
            .update_contract(&user.actor(), id, &input)
            .await?,
    ))
}

/// `GET /contracts/{id}/route`: the 業務実績簿's 確認欄 columns in order.
pub(super) async fn show_route(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Vec<unyo_domain::records::RouteStep>>> {
    user.require(Action::ViewWork)?;
    state.store.contract(id).await?;
    Ok(Json(state.store.approval_route(id).await?))
}

/// Body of `PUT /contracts/{id}/route`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct RouteInput {
    /// The columns in order, each `{label, user_id}` (`user_id` optional).
    steps: Vec<unyo_domain::records::RouteStep>,
}

impl ApiInput for RouteInput {
    fn shape_error(key: &str) -> Option<String> {
        (key == "steps").then(|| {
            "steps は確認欄の配列です（例: [{\"label\": \"担当\"}, {\"label\": \"係長\", \"user_id\": 12}]）。"
                .to_string()
        })
    }
}

/// `PUT /contracts/{id}/route`: sets the columns.
pub(super) async fn update_route(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<RouteInput>,
) -> ApiResult<Json<Vec<unyo_domain::records::RouteStep>>> {
    Ok(Json(
        state
            .store
            .set_approval_route(&user.actor(), id, &input.steps)
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ consultations

/// Filter of `GET /consultations`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConsultationQuery {
    contract_id: Option<i64>,
    /// Inclusive range of the day held (ISO or 和暦).
    from: Option<String>,
    to: Option<String>,
    /// Only those linked to this request.
    request_id: Option<i64>,
}

/// `GET /consultations`: newest first (oldest first when filtered by request, as its page shows them).
pub(super) async fn list_consultations(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsultationQuery>,
) -> ApiResult<Json<PageOut<Consultation>>> {
    user.require(Action::ViewWork)?;
    let mut check = QueryCheck::default();
    let from = check.date("from", &q.from);
    let to = check.date("to", &q.to);
    check.done()?;
    let items = match q.request_id {
        Some(rid) => {
            let (from, to) = (from.map(|d| d.to_string()), to.map(|d| d.to_string()));
            state
                .store
                .consultations_of_request(rid)
                .await?
                .into_iter()
                .filter(|c| q.contract_id.is_none_or(|id| c.contract_id == id))
                .filter(|c| from.as_ref().is_none_or(|f| &c.held_on >= f))
                .filter(|c| to.as_ref().is_none_or(|t| &c.held_on <= t))
                .collect()
        }
        None => state.store.consultations(q.contract_id, from, to).await?,
    };
    Ok(Json(one_page(items)))
}

/// `POST /consultations`.
pub(super) async fn create_consultation(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ConsultationInput>,
) -> ApiResult<Response> {
    let row = state
        .store
        .create_consultation(&user.actor(), &input)
        .await?;
    Ok(created("consultations", row.id, row))
}

/// `GET /consultations/{id}`.
pub(super) async fn show_consultation(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Consultation>> {
    user.require(Action::ViewWork)?;
    Ok(Json(state.store.consultation(id).await?))
}

// ------------------------------------------------------------------------------------------------ workload

/// Parameters of `GET /workload`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WorkloadQuery {
    /// The fiscal year by its starting calendar year (2026 = 令和8年度); default: the current one (JST).
    fiscal_year: Option<i32>,
    /// One contract; default: all.
    contract_id: Option<i64>,
}

/// A month of the fiscal year.
#[derive(Debug, Serialize)]
pub(super) struct WorkloadMonth {
    year: i32,
    month: u32,
    /// `令和8年4月`.
    label: String,
}

/// One category's (or clause's) minutes per month of the fiscal year.
#[derive(Debug, Serialize)]
pub(super) struct WorkloadRow {
    /// Category code, or clause code `1`..`5`.
    key: String,
    /// Japanese label.
    label: String,
    /// Circled numeral of the clause (①…⑤); clauses only.
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<&'static str>,
    /// Twelve values, April to March.
    minutes: Vec<i64>,
    total_minutes: i64,
    total_hours: String,
}

/// `GET /workload`.
#[derive(Debug, Serialize)]
pub(super) struct Workload {
    fiscal_year: i32,
    /// `令和8年度`.
    label: String,
    contract_id: Option<i64>,
    months: Vec<WorkloadMonth>,
    /// Every category, zeros included, in display order.
    by_category: Vec<WorkloadRow>,
    /// Every clause ①–⑤, zeros included.
    by_clause: Vec<WorkloadRow>,
    /// Twelve values, April to March.
    month_totals: Vec<i64>,
    total_minutes: i64,
    total_hours: String,
}

fn workload_rows(
    fy: FiscalYear,
    data: &[MonthMinutes],
    keys: impl Iterator<Item = (String, String, Option<&'static str>)>,
) -> Vec<WorkloadRow> {
    keys.map(|(key, label, mark)| {
        let minutes: Vec<i64> = fy
            .months()
            .map(|(y, m)| {
                data.iter()
                    .filter(|d| d.key == key && d.year == y && d.month == m)
                    .map(|d| d.minutes)
                    .sum()
            })
            .collect();
        let total_minutes = minutes.iter().sum();
        WorkloadRow {
            key,
            label,
            mark,
            minutes,
            total_minutes,
            total_hours: hours_label(total_minutes),
        }
    })
    .collect()
}

/// `GET /workload?fiscal_year=2026&contract_id=N`: minutes of work by category and month and by clause
/// (①–⑤) and month — the numbers of the annual council pack (R6) and the monthly record (R8).
pub(super) async fn workload(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WorkloadQuery>,
) -> ApiResult<Json<Workload>> {
    user.require(Action::ViewWork)?;
    let fy = fiscal_year_param(q.fiscal_year, jst_today())?;
    if let Some(id) = q.contract_id {
        state.store.contract(id).await?;
    }
    let by_category = state
        .store
        .hours_by_category_month(q.contract_id, fy)
        .await?;
    let by_clause = state.store.hours_by_clause_month(q.contract_id, fy).await?;
    let by_category = workload_rows(
        fy,
        &by_category,
        Category::ALL
            .iter()
            .map(|c| (c.code().to_string(), c.label_ja().to_string(), None)),
    );
    let by_clause = workload_rows(
        fy,
        &by_clause,
        Clause::ALL.iter().map(|c| {
            (
                c.code().to_string(),
                c.label_ja().to_string(),
                Some(c.mark()),
            )
        }),
    );
    let month_totals: Vec<i64> = (0..12)
        .map(|i| by_clause.iter().map(|r| r.minutes[i]).sum())
        .collect();
    let total_minutes = month_totals.iter().sum();
    Ok(Json(Workload {
        fiscal_year: fy.0,
        label: fy.label(),
        contract_id: q.contract_id,
        months: fy
            .months()
            .map(|(year, month)| WorkloadMonth {
                year,
                month,
                label: format_year_month(year, month),
            })
            .collect(),
        by_category,
        by_clause,
        month_totals,
        total_minutes,
        total_hours: hours_label(total_minutes),
    }))
}
