//! `GET /records/monthly` (the draft previewed; once submitted, the latest frozen version), `GET
//! /records/monthly.pdf|.xlsx` (the draft's files, audited as `export.monthly_record`), `GET
//! /records/monthly/submit` (what submitting will do, asked first) and `POST /records/monthly/submit`.

use super::detail::ConfirmPage;
use super::list::status_class;
use super::{SectionView, doc_error, download, header_view, sections_view};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use unyo_documents::{
    Edition, Format, MonthlyData, frozen_document, is_frozen, monthly_data, render_blocking,
    submit_monthly,
};
use unyo_domain::Action;
use unyo_domain::records::{Month, RecordAction, RecordStatus, available_actions, status_label_ja};
use unyo_store::audit::ExportKind;
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
    submit_href: String,
    next_version: i64,
    /// Submitted (and not sent back): the latest frozen version is shown and downloaded.
    frozen: bool,
    frozen_label: String,
    frozen_pdf: String,
    frozen_xlsx: String,
    /// The frozen version's content could not be shown (data changed, no kept model).
    frozen_stale: bool,
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
    let record = state.store.monthly_record_of(contract_id, month).await?;
    let frozen = is_frozen(record.as_ref());
    let latest = record
        .as_ref()
        .filter(|_| frozen)
        .and_then(|r| r.latest().map(|v| (r, v)));
    let kept = match record.as_ref().filter(|_| frozen) {
        Some(r) => frozen_document(&state.store, r).await.map_err(doc_error)?,
        None => None,
    };
    let frozen_stale = frozen && kept.is_none();
    let doc = kept.unwrap_or_else(|| data.document(Edition::Draft, jst_today()));
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
        submit_href: format!(
            "/records/monthly/submit?contract_id={contract_id}&month={}",
            month.code()
        ),
        next_version: record.as_ref().map_or(1, |r| r.current_version + 1),
        frozen,
        frozen_label: latest.map_or_else(String::new, |(r, v)| r.version_label(v)),
        frozen_pdf: latest.map_or_else(String::new, |(r, v)| {
            format!("/records/{}/versions/{}.pdf", r.id, v.version)
        }),
        frozen_xlsx: latest.map_or_else(String::new, |(r, v)| {
            format!("/records/{}/versions/{}.xlsx", r.id, v.version)
        }),
        frozen_stale,
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
        .record_export(
            &ctx.actor(),
            ExportKind::MonthlyRecord,
            "",
            "",
            json!({
                "contract_id": contract_id, "month": month.code(), "edition": "draft",
                "format": format.ext(), "size": bytes.len(),
                "sha256": unyo_documents::sha256_hex(&bytes),
            }),
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

/// `GET /records/monthly/submit?contract_id=&month=`: what submitting will do, and the button that does it.
pub(super) async fn submit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<MonthParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::PrepareRecords)?;
    let (contract_id, month) = p.parse()?;
    let version = state.store.next_record_version(contract_id, month).await?;
    let data = monthly_data(&state.store, contract_id, month)
        .await
        .map_err(doc_error)?;
    let today = jst_today();
    let route = data
        .route
        .iter()
        .map(|s| s.label.as_str())
        .collect::<Vec<_>>()
        .join("・");
    let back = format!(
        "/records/monthly?contract_id={contract_id}&month={}",
        month.code()
    );
    let t = ConfirmPage {
        page: ctx.page(
            format!(
                "{}　{}分　{}",
                ctx.tr.t("records.title"),
                month.label(),
                ctx.tr.t("records.submit_title")
            ),
            "records",
        ),
        heading: ctx.tr.t("records.submit_title").to_string(),
        facts: vec![
            (
                ctx.tr.t("records.contract").to_string(),
                format!("{}（{}）", data.contract.name, data.contract.number),
            ),
            (ctx.tr.t("records.month").to_string(), month.label()),
            (
                ctx.tr.t("records.submit_next").to_string(),
                unyo_domain::records::version_label(version, 0, &data.route),
            ),
            (
                ctx.tr.t("records.submitted_on").to_string(),
                unyo_domain::wareki::format_long(today),
            ),
            (
                ctx.tr.t("records.submitted_by").to_string(),
                ctx.user.display_name.clone(),
            ),
            (ctx.tr.t("records.route").to_string(), route),
            (
                ctx.tr.t("records.entries").to_string(),
                format!("{}件", data.work.len()),
            ),
        ],
        paragraphs: vec![
            ctx.tr.t("records.submit_help").to_string(),
            "提出後は県の確認欄の順に確認されます。差し戻された場合は、修正して新しい版を提出してください。"
                .to_string(),
        ],
        action: "/records/monthly/submit".into(),
        hidden: vec![
            ("contract_id".into(), contract_id.to_string()),
            ("month".into(), month.code()),
        ],
        button: ctx.tr.t("records.submit").to_string(),
        cancel_href: back,
    };
    Ok(render(&t)?.into_response())
}
