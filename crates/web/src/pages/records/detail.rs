//! `GET /records/{id}` (versions, digests, changes since submission, decision forms), `POST
//! /records/{id}/confirm`, `POST /records/{id}/return` and `GET /records/{id}/versions/{n}.pdf|.xlsx`.

use super::list::status_class;
use super::{doc_error, download, parse_id};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_documents::changes_since_submission;
use unyo_domain::records::{
    RecordAction, RecordStatus, ReturnInput, available_actions, status_label_ja,
};
use unyo_domain::wareki::format_long;
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;
use unyo_store::records::{MonthlyRecord, RecordFile};
use unyo_store::support::jst_today;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DetailParams {
    pub ok: String,
}

struct VersionRow {
    version: i64,
    submitted_on: String,
    submitted_by: String,
    pdf_href: String,
    pdf_sha256: String,
    pdf_size: String,
    xlsx_href: String,
    xlsx_sha256: String,
    xlsx_size: String,
    outcome: String,
    decided: String,
    reason: Vec<String>,
}

struct ChangeRow {
    change: String,
    target: String,
    field: String,
    before: Vec<String>,
    after: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "records_detail.html")]
struct DetailPage {
    page: PageMeta,
    id: i64,
    props: Vec<(String, String)>,
    status: String,
    status_class: &'static str,
    preview_href: String,
    versions: Vec<VersionRow>,
    changes: Vec<ChangeRow>,
    can_confirm: bool,
    can_return: bool,
    reason: String,
    reason_error: String,
}

fn stored(s: &str) -> String {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.to_string(), format_long)
}

fn size(n: i64) -> String {
    format!("{} バイト", unyo_report::format_integer(n))
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    flash: Option<&'static str>,
    reason: String,
    reason_error: String,
) -> Result<DetailPage, WebError> {
    ctx.require(Action::ViewRecords)?;
    let r: MonthlyRecord = state.store.monthly_record(id).await?;
    let changes = changes_since_submission(&state.store, &r)
        .await
        .map_err(doc_error)?;
    let status = r.status();
    let actions = available_actions(Some(status), ctx.user.role());
    let month = r.month();
    let mut props = vec![
        (
            ctx.tr.t("records.contract").to_string(),
            format!("{}（{}）", r.contract_name, r.contract_number),
        ),
        (ctx.tr.t("records.month").to_string(), month.label()),
        (
            ctx.tr.t("records.due").to_string(),
            format_long(month.due_date()),
        ),
        (
            ctx.tr.t("records.version").to_string(),
            format!("第{}版", r.current_version),
        ),
    ];
    if let Some(c) = r.confirmed() {
        props.push((
            ctx.tr.t("records.confirmed_on").to_string(),
            c.decided_on.as_deref().map(stored).unwrap_or_default(),
        ));
        props.push((
            ctx.tr.t("records.confirmed_by").to_string(),
            c.decided_by_name.clone().unwrap_or_default(),
        ));
    }
    let versions = r
        .versions
        .iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            submitted_on: stored(&v.submitted_on),
            submitted_by: v.submitted_by_name.clone(),
            pdf_href: format!("/records/{id}/versions/{}.pdf", v.version),
            pdf_sha256: v.pdf_sha256.clone(),
            pdf_size: size(v.pdf_size),
            xlsx_href: format!("/records/{id}/versions/{}.xlsx", v.version),
            xlsx_sha256: v.xlsx_sha256.clone(),
            xlsx_size: size(v.xlsx_size),
            outcome: match RecordStatus::parse(&v.outcome) {
                Some(RecordStatus::Submitted) | None => ctx.tr.t("records.awaiting").to_string(),
                Some(s) => ctx.tr.pick(s.label_ja(), s.label_en()).to_string(),
            },
            decided: match (&v.decided_on, &v.decided_by_name) {
                (Some(on), Some(by)) => format!("{} {by}", stored(on)),
                _ => String::new(),
            },
            reason: v.reason.lines().map(str::to_string).collect(),
        })
        .collect();
    let changes = changes
        .iter()
        .flat_map(|c| {
            let target = format!("{}: {}", c.kind_label(), c.label);
            let change = c.change.label_ja().to_string();
            c.fields.iter().map(move |f| ChangeRow {
                change: change.clone(),
                target: target.clone(),
                field: f.field.clone(),
                before: f.before.lines().map(str::to_string).collect(),
                after: f.after.lines().map(str::to_string).collect(),
            })
        })
        .collect();
    let mut page = ctx.page(
        format!("{}　{}分", ctx.tr.t("records.title"), month.label()),
        "records",
    );
    page.flash = flash;
    Ok(DetailPage {
        page,
        id,
        props,
        status: if ctx.tr.is_ja() {
            status_label_ja(Some(status)).to_string()
        } else {
            status.label_en().to_string()
        },
        status_class: status_class(Some(status)),
        preview_href: format!(
            "/records/monthly?contract_id={}&month={}",
            r.contract_id,
            month.code()
        ),
        versions,
        changes,
        can_confirm: actions.contains(&RecordAction::Confirm),
        can_return: actions.contains(&RecordAction::Return),
        reason,
        reason_error,
    })
}

pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailParams>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let flash = match q.ok.as_str() {
        "submitted" => Some(ctx.tr.t("records.submitted")),
        "confirmed" => Some(ctx.tr.t("records.confirmed")),
        "returned" => Some(ctx.tr.t("records.returned")),
        _ => None,
    };
    let p = page(&state, &ctx, id, flash, String::new(), String::new()).await?;
    Ok(render(&p)?.into_response())
}

/// `POST /records/{id}/confirm`.
pub(super) async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ConfirmRecords)?;
    let id = parse_id(&id)?;
    state
        .store
        .confirm_monthly_record(&ctx.actor(), id, jst_today())
        .await?;
    Ok(Redirect::to(&format!("/records/{id}?ok=confirmed")).into_response())
}

/// `POST /records/{id}/return` (`reason`): a missing or refused reason re-renders the page with 422.
pub(super) async fn send_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(input): Form<ReturnInput>,
) -> Result<Response, WebError> {
    ctx.require(Action::ConfirmRecords)?;
    let id = parse_id(&id)?;
    match state
        .store
        .return_monthly_record(&ctx.actor(), id, &input, jst_today())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/records/{id}?ok=returned")).into_response()),
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            let message = fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            let p = page(&state, &ctx, id, None, input.reason.clone(), message).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /records/{id}/versions/{n}.pdf|.xlsx`: the frozen bytes, byte-identical, audited by the store.
pub(super) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let id = parse_id(&id)?;
    let (version, ext) = file.split_once('.').ok_or(WebError::NotFound)?;
    let version = parse_id(version)?;
    let kind = RecordFile::from_ext(ext).ok_or(WebError::NotFound)?;
    let r = state.store.monthly_record(id).await?;
    let (_, bytes) = state
        .store
        .record_file(&ctx.actor(), id, version, kind)
        .await?;
    let month = r.month();
    Ok(download(
        bytes,
        kind.content_type(),
        &format!("monthly_record_{}_v{version}.{ext}", month.code()),
        &format!("業務実績簿_{}分_第{version}版.{ext}", month.label()),
    ))
}
