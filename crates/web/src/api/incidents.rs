//! Incidents (障害対応, R7) and the known-error library through the API, with the same bearer tokens,
//! roles and audit trail as the rest.
//!
//! Reads check [`Action::ViewIncidents`] explicitly. Writes go to the store with the token owner's actor;
//! the store checks the permission (`ReportIncident`, `WorkIncident`, `WitnessRecovery`,
//! `ManageKnownErrors`, and for stage changes [`IncidentAction::permissions`]) and writes the audit entry
//! in the same transaction. The stage rules live in the domain ([`unyo_domain::incident::next_stage`]): an
//! illegal move answers `409` with the domain's Japanese message — 完了 without a witness with
//! [`unyo_domain::incident::WITNESS_REQUIRED_MESSAGE`] — and changes nothing.
//!
//! The witness can be recorded either with `POST /incidents/{id}/witness` or as
//! `POST /incidents/{id}/transitions` with `{"action": "witness", "witness_name", "witness_org",
//! "witnessed_at", "remark"}`.

use super::auth::ApiUser;
use super::common::{CountedList, QueryCheck, created, fiscal_year_param};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery};
use super::handlers::PageOut;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use unyo_domain::incident::{
    EntryInput, IncidentInput, IncidentStage, IncidentTransitionInput, KnownErrorInput, Severity,
    WitnessInput,
};
use unyo_domain::{Action, FieldError};
use unyo_store::incidents::{
    IncidentDetail, IncidentQuery, IncidentRow, IncidentStats, KnownError, KnownErrorQuery,
};
use unyo_store::support::jst_today;

/// The action code that records the witness through `POST /incidents/{id}/transitions`.
pub const WITNESS_ACTION: &str = "witness";

impl ApiInput for IncidentInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "number",
        "fiscal_year",
        "stage",
        "known_error_number",
        "resolved_by_known_error",
        "first_response_at",
        "workaround_at",
        "recovered_at",
        "closed_at",
        "witness_entry_id",
        "reopen_count",
        "created_by_id",
        "created_by",
        "created_by_name",
        "created_at",
        "updated_at",
        "sites",
        "age_minutes",
        "mtta_minutes",
        "mttr_minutes",
    ];
}

impl ApiInput for EntryInput {}

impl ApiInput for WitnessInput {}

impl ApiInput for KnownErrorInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "number",
        "created_from_incident_id",
        "created_from_number",
        "created_by_id",
        "created_by",
        "created_by_name",
        "created_at",
        "updated_at",
        "incidents",
    ];
}

/// The body of `POST /incidents/{id}/transitions`: a stage change, or (`action` = `witness`) the witness.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TransitionBody {
    /// An [`unyo_domain::incident::IncidentAction`] code, or `witness`.
    pub action: String,
    /// When (JST, `2026-05-12T09:30`); empty: now.
    pub at: String,
    pub comment: String,
    pub guidance_to: String,
    pub guidance: String,
    pub work_entry_ids: Vec<i64>,
    /// `witness` only: 立会者の氏名.
    pub witness_name: String,
    /// `witness` only: 立会者の所属.
    pub witness_org: String,
    /// `witness` only: 立会日時 (JST); empty: `at`.
    pub witnessed_at: String,
    /// `witness` only: 所見.
    pub remark: String,
}

impl ApiInput for TransitionBody {}

/// The body of `POST /incidents/{id}/resolve`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResolveBody {
    /// The known error whose workaround resolved the incident.
    pub known_error_id: Option<i64>,
}

impl ApiInput for ResolveBody {}

/// `GET /incidents`: filtered (stage, open only, severity, site, period of 発生, text), open ones first,
/// plus the number per stage.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<CountedList<IncidentRow>>> {
    user.require(Action::ViewIncidents)?;
    let mut check = QueryCheck::default();
    let stage = check.code("stage", &q.stage, IncidentStage::parse, IncidentStage::code);
    let severity = check.code("severity", &q.severity, Severity::parse, Severity::code);
    check.date("from", &q.from);
    check.date("to", &q.to);
    check.done()?;
    let q = IncidentQuery {
        stage,
        severity,
        ..q
    };
    let page = state.store.incidents(&q, Utc::now()).await?;
    let counts = state.store.incident_stage_counts(&q).await?;
    Ok(Json(CountedList::new(page, counts)))
}

/// `POST /incidents`: reports an incident as the token's user.
pub(super) async fn create(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<IncidentInput>,
) -> ApiResult<Response> {
    let row = state.store.report_incident(&user.actor(), &input).await?;
    Ok(created("incidents", row.id, row))
}

/// `GET /incidents/{id}`: the incident with its affected items, timeline, linked work, known errors and
/// witness.
pub(super) async fn show(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<IncidentDetail>> {
    user.require(Action::ViewIncidents)?;
    Ok(Json(state.store.incident(id, Utc::now()).await?))
}

/// `POST /incidents/{id}/transitions`: a stage change (`investigate`, `workaround`, `start_recovery`,
/// `recover`, `resume_recovery`, `close`, `reopen`) or the witness (`witness`). Answers the incident after
/// the change.
pub(super) async fn transition(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<TransitionBody>,
) -> ApiResult<Json<IncidentRow>> {
    let actor = user.actor();
    if body.action.trim() == WITNESS_ACTION {
        let input = WitnessInput {
            witness_name: body.witness_name,
            witness_org: body.witness_org,
            witnessed_at: if body.witnessed_at.trim().is_empty() {
                body.at
            } else {
                body.witnessed_at
            },
            remark: body.remark,
        };
        state.store.record_witness(&actor, id, &input).await?;
    } else {
        let stray: Vec<FieldError> = [
            ("witness_name", &body.witness_name),
            ("witness_org", &body.witness_org),
            ("witnessed_at", &body.witnessed_at),
            ("remark", &body.remark),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(f, _)| {
            FieldError::new(
                f,
                format!("「{f}」は action が witness（立会いの記録）のときだけ指定できます。"),
            )
        })
        .collect();
        if !stray.is_empty() {
            return Err(ApiError::Validation(stray));
        }
        let input = IncidentTransitionInput {
            action: body.action.trim().to_string(),
            at: body.at,
            comment: body.comment,
            guidance_to: body.guidance_to,
            guidance: body.guidance,
            work_entry_ids: body.work_entry_ids,
        };
        state.store.advance_incident(&actor, id, &input).await?;
    }
    Ok(Json(state.store.incident_row(id, Utc::now()).await?))
}

/// `POST /incidents/{id}/witness`: the witness of the recovery (all four fields required, at 復旧確認,
/// prefecture accounts only). Answers the witness entry.
pub(super) async fn witness(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<WitnessInput>,
) -> ApiResult<Response> {
    let entry = state
        .store
        .record_witness(&user.actor(), id, &input)
        .await?;
    // The entry has no address of its own: the `Location` is the incident's.
    Ok(created("incidents", id, entry))
}

/// `POST /incidents/{id}/entries`: a timeline entry (調査所見, 仮説, 原因, 回避策・指導, 復旧作業, コメント).
pub(super) async fn add_entry(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<EntryInput>,
) -> ApiResult<Response> {
    let entry = state
        .store
        .add_incident_entry(&user.actor(), id, &input)
        .await?;
    Ok(created("incidents", id, entry))
}

/// `POST /incidents/{id}/resolve`: resolved by a known error's workaround.
pub(super) async fn resolve(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<Json<IncidentRow>> {
    let Some(k) = body.known_error_id else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "known_error_id",
            "既知の障害のIDを指定してください。",
        )]));
    };
    Ok(Json(
        state
            .store
            .resolve_by_known_error(&user.actor(), id, k)
            .await?,
    ))
}

/// `POST /incidents/{id}/known-error`: a known error drafted from the closed incident.
pub(super) async fn to_known_error(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Response> {
    let k = state
        .store
        .create_known_error_from_incident(&user.actor(), id)
        .await?;
    Ok(created("known-errors", k.id, k))
}

/// Parameters of `GET /incidents/stats`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatsQuery {
    /// The fiscal year by its starting calendar year (2026 = 令和8年度); default: the current one (JST).
    fiscal_year: Option<i32>,
}

/// `GET /incidents/stats?fiscal_year=2026`: counts, MTTA and MTTR per month, site and year.
pub(super) async fn stats(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<IncidentStats>> {
    user.require(Action::ViewIncidents)?;
    let fy = fiscal_year_param(q.fiscal_year, jst_today())?;
    Ok(Json(state.store.incident_stats(fy).await?))
}

/// `GET /known-errors?q=`: the library, newest first.
pub(super) async fn list_known_errors(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<KnownErrorQuery>,
) -> ApiResult<Json<PageOut<KnownError>>> {
    user.require(Action::ViewIncidents)?;
    Ok(Json(state.store.known_errors(&q).await?.into()))
}

/// `POST /known-errors`.
pub(super) async fn create_known_error(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<KnownErrorInput>,
) -> ApiResult<Response> {
    let k = state
        .store
        .create_known_error(&user.actor(), &input)
        .await?;
    Ok(created("known-errors", k.id, k))
}

/// `GET /known-errors/{id}`.
pub(super) async fn show_known_error(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<KnownError>> {
    user.require(Action::ViewIncidents)?;
    Ok(Json(state.store.known_error(id).await?))
}
