//! `GET /records/annual?contract_id=&fy=2026` (the council pack previewed) and its `.pdf` / `.xlsx`
//! (audited as `export.annual_pack`).

use super::{SectionView, doc_error, download, header_view, sections_view};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use unyo_documents::{Format, annual_data, render_blocking};
use unyo_domain::Action;
use unyo_domain::wareki::FiscalYear;
use unyo_store::audit::ExportKind;
use unyo_store::support::jst_today;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AnnualParams {
    pub contract_id: String,
    pub fy: String,
}

impl AnnualParams {
    fn parse(&self) -> Result<(i64, FiscalYear), WebError> {
        let id = self
            .contract_id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| WebError::BadRequest("契約を指定してください。".into()))?;
        let fy = self
            .fy
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2200).contains(y))
            .ok_or_else(|| {
                WebError::BadRequest("年度を西暦の開始年で指定してください（例: 2026）。".into())
            })?;
        Ok((id, FiscalYear(fy)))
    }
}

#[derive(askama::Template)]
#[template(path = "records_annual.html")]
struct AnnualPage {
    page: PageMeta,
    fy_label: String,
    contract_label: String,
    pdf_href: String,
    xlsx_href: String,
    prev_href: String,
    next_href: String,
    list_href: String,
    header: Vec<(String, String)>,
    sections: Vec<SectionView>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<AnnualParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let (contract_id, fy) = p.parse()?;
    let data = annual_data(&state.store, contract_id, fy, jst_today())
        .await
        .map_err(doc_error)?;
    let doc = data.document();
    let q = |fy: i32| format!("contract_id={contract_id}&fy={fy}");
    let t = AnnualPage {
        page: ctx.page(
            format!("{}　{}", ctx.tr.t("records.annual"), fy.label()),
            "records",
        ),
        fy_label: fy.label(),
        contract_label: format!("{}（{}）", data.contract.name, data.contract.number),
        pdf_href: format!("/records/annual.pdf?{}", q(fy.0)),
        xlsx_href: format!("/records/annual.xlsx?{}", q(fy.0)),
        prev_href: format!("/records/annual?{}", q(fy.0 - 1)),
        next_href: format!("/records/annual?{}", q(fy.0 + 1)),
        list_href: format!("/records?{}", q(fy.0)),
        header: header_view(&doc),
        sections: sections_view(&doc),
    };
    Ok(render(&t)?.into_response())
}

async fn file(
    state: &AppState,
    ctx: &Ctx,
    p: &AnnualParams,
    format: Format,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let (contract_id, fy) = p.parse()?;
    let doc = annual_data(&state.store, contract_id, fy, jst_today())
        .await
        .map_err(doc_error)?
        .document();
    let bytes = render_blocking(doc, format).await.map_err(doc_error)?;
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::AnnualPack,
            "",
            "",
            json!({
                "contract_id": contract_id, "fiscal_year": fy.0, "format": format.ext(),
                "size": bytes.len(), "sha256": unyo_documents::sha256_hex(&bytes),
            }),
        )
        .await?;
    let ext = format.ext();
    Ok(download(
        bytes,
        format.content_type(),
        &format!("council_pack_{}.{ext}", fy.0),
        &format!("本人確認情報保護審議会資料_{}.{ext}", fy.label()),
    ))
}

/// `GET /records/annual.pdf`.
pub(super) async fn pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<AnnualParams>,
) -> Result<Response, WebError> {
    file(&state, &ctx, &p, Format::Pdf).await
}

/// `GET /records/annual.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<AnnualParams>,
) -> Result<Response, WebError> {
    file(&state, &ctx, &p, Format::Xlsx).await
}
