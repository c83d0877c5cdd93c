//! `GET /incidents/{id}/report.xlsx` and `GET /incidents/{id}/report.pdf`: the 障害報告書 of one incident
//! (ViewIncidents), written to the audit log as `export.incident_report` with the format (R12). Both files are
//! the same document rendered by the report engine, so they say the same thing.

use super::parse_id;
use crate::download::content_disposition;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use unyo_documents::{Format, incident_document, render_blocking};
use unyo_domain::Action;
use unyo_store::audit::ExportKind;
use unyo_store::support::jst_today;

/// A download named 障害報告書_INC-R8-0001.xlsx / .pdf (ASCII `incident_report_INC-R8-0001.xlsx` for old
/// browsers).
fn attachment(body: Vec<u8>, number: &str, format: Format) -> Response {
    let ascii: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let name = unyo_documents::incident_report_file_name(number, format);
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&format!("incident_report_{ascii}.{}", format.ext()), &name),
    );
    res
}

/// `GET /incidents/{id}/report.xlsx`: the report through the report engine (a sheet per section, times as
/// Excel dates in 和暦, hours as numbers), rendered on the blocking pool. Audited like the PDF.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let d = state.store.incident(id, Utc::now()).await?;
    let body = render_blocking(incident_document(&d, jst_today()), Format::Xlsx)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::IncidentReport,
            "incident",
            id,
            json!({
                "format": "xlsx",
                "number": d.incident.number,
                "stage": d.incident.stage,
                "size": body.len(),
                "sha256": unyo_documents::sha256_hex(&body),
            }),
        )
        .await?;
    Ok(attachment(body, &d.incident.number, Format::Xlsx))
}

/// `GET /incidents/{id}/report.pdf`: the same report as PDF (A4, 和暦, page numbers), rendered on the
/// blocking pool. Audited like the XLSX, with the file's size and SHA-256.
pub(super) async fn pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let d = state.store.incident(id, Utc::now()).await?;
    let body = render_blocking(incident_document(&d, jst_today()), Format::Pdf)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::IncidentReport,
            "incident",
            id,
            json!({
                "format": "pdf",
                "number": d.incident.number,
                "stage": d.incident.stage,
                "size": body.len(),
                "sha256": unyo_documents::sha256_hex(&body),
            }),
        )
        .await?;
    Ok(attachment(body, &d.incident.number, Format::Pdf))
}
