//! `GET /records/monthly` (the draft previewed), `GET /records/monthly.pdf|.xlsx` (the draft's files,
//! audited as `export.monthly_record`) and `POST /records/monthly/submit`.

use super::list::status_class;
use super::{SectionView, doc_error, download, header_view, sections_view};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use unyo_documents::{Edition, Format, MonthlyData, monthly_data, render_blocking, submit_monthly};
use unyo_domain::Action;
use unyo_domain::records::{Month, RecordAction, RecordStatus, available_actions, status_label_ja};
use unyo_store::audit::NewAuditEntry;
use unyo_store::support::jst_today;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct MonthParams {
    pub contract_id: String,
    pub month: String,
}

impl MonthParams {
    fn parse(&self) -> Result<(i64, Month), WebError> {
        let id = self
            .contract_id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| WebError::BadRequest("契約を指定してください。".into()))?;
        let month = Month::parse(&self.month).ok_or_else(|| {
            WebError::BadRequest("対象月の形式が正しくありません（例: 2026-05）。".into())
        })?;
        Ok((id, month))
    }
}

#[derive(askama::Template)]
#[template(path = "records_monthly.html")]
struct PreviewPage {
    page: PageMeta,
    contract_id: i64,
    month_code: String,
    month_label: String,
    contract_label: String,
    status: String,
    status_class: &'static str,
    record_href: String,
    pdf_href: String,
    xlsx_href: String,
    prev_href: String,
    next_href: String,
    can_submit: bool,
    next_version: i64,
    summary: Vec<(String, String)>,
    header: Vec<(String, String)>,
    sections: Vec<SectionView>,
}

fn summary(data: &MonthlyData) -> Vec<(String, String)> {
    vec![
        ("records.entries".into(), format!("{}件", data.work.len())),
        (
            "records.hours".into(),
            format!(
                "{}時間",
                unyo_report::format_number(data.total_minutes() as f64 / 60.0, 2)
            ),
        ),
        (
            "records.requests".into(),
            format!("{}件", data.requests.len()),
        ),
        (
            "records.incidents".into(),
            format!("{}件", data.incidents.len()),
        ),
        (
            "records.consultations".into(),
            format!("{}件", data.consultations.len()),
        ),
    ]
}

pub(super) async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<MonthParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let (contract_id, month) = p.parse()?;
    let data = monthly_data(&state.store, contract_id, month)
        .await
        .map_err(doc_error)?;
    let doc = data.document(Edition::Draft, jst_today());
    let record = state.store.monthly_record_of(contract_id, month).await?;
    let status = record.as_ref().map(|r| r.status());
    let can_submit = available_actions(status, ctx.user.role()).contains(&RecordAction::Submit);
    let base = |m: Month| {
        format!(
            "/records/monthly?contract_id={contract_id}&month={}",
            m.code()
        )
    };
    let files = |ext: &str| {
        format!(
            "/records/monthly.{ext}?contract_id={contract_id}&month={}",
            month.code()
        )
    };
    let t = PreviewPage {
        page: ctx.page(
            format!("{}　{}分", ctx.tr.t("records.title"), month.label()),
            "records",
        ),
        contract_id,
        month_code: month.code(),
        month_label: month.label(),
        contract_label: format!("{}（{}）", data.contract.name, data.contract.number),
        status: if ctx.tr.is_ja() {
            status_label_ja(status).to_string()
        } else {
            status.map_or("Draft", RecordStatus::label_en).to_string()
        },
        status_class: status_class(status),
        record_href: record
            .as_ref()
            .map_or_else(String::new, |r| format!("/records/{}", r.id)),
        pdf_href: files("pdf"),
        xlsx_href: files("xlsx"),
        prev_href: base(month.prev()),
        next_href: base(month.next()),
        can_submit,
        next_version: record.as_ref().map_or(1, |r| r.current_version + 1),
        summary: summary(&data)
            .into_iter()
            .map(|(k, v)| (ctx.tr.t(&k).to_string(), v))
            .collect(),
        header: header_view(&doc),
        sections: sections_view(&doc),
    };
    Ok(render(&t)?.into_response())
}

async fn draft_file(
    state: &AppState,
    ctx: &Ctx,
    p: &MonthParams,
    format: Format,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let (contract_id, month) = p.parse()?;
    let today = jst_today();
    let data = monthly_data(&state.store, contract_id, month)
        .await
        .map_err(doc_error)?;
    let doc = data.document(Edition::Draft, today);
    let bytes = render_blocking(doc, format).await.map_err(doc_error)?;
    state
        .store
        .audit(
            NewAuditEntry::new(&ctx.actor(), "export.monthly_record", "", "").details(json!({
                "contract_id": contract_id, "month": month.code(), "edition": "draft",
                "format": format.ext(), "size": bytes.len(),
                "sha256": unyo_documents::sha256_hex(&bytes),
            })),
        )
        .await?;
    let ext = format.ext();
    Ok(download(
        bytes,
        format.content_type(),
        &format!("monthly_record_{}_draft.{ext}", month.code()),
        &format!("業務実績簿_{}分_下書き.{ext}", month.label()),
    ))
}

/// `GET /records/monthly.pdf`.
pub(super) async fn pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<MonthParams>,
) -> Result<Response, WebError> {
    draft_file(&state, &ctx, &p, Format::Pdf).await
}

/// `GET /records/monthly.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<MonthParams>,
) -> Result<Response, WebError> {
    draft_file(&state, &ctx, &p, Format::Xlsx).await
}

/// `POST /records/monthly/submit` (`contract_id`, `month`): freezes a new version dated today.
pub(super) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(p): Form<MonthParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::PrepareRecords)?;
    let (contract_id, month) = p.parse()?;
    let rec = submit_monthly(&state.store, &ctx.actor(), contract_id, month, jst_today())
        .await
        .map_err(doc_error)?;
    Ok(Redirect::to(&format!("/records/{}?ok=submitted", rec.id)).into_response())
}
