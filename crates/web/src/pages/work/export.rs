//! CSV and Excel exports of the work log: every entry matching the list's filter (not only the page
//! shown), written to the audit log as `export.work` (R12).

use super::entries::WorkParams;
use crate::download::content_disposition;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use unyo_domain::Action;
use unyo_store::audit::ExportKind;
use unyo_store::support::WorkQuery;

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A download named 作業記録_YYYYMMDD.ext (ASCII `work_YYYYMMDD.ext` for old browsers).
fn attachment(body: Vec<u8>, content_type: &'static str, ext: &str) -> Response {
    let date = unyo_domain::time::to_jst(chrono::Utc::now())
        .format("%Y%m%d")
        .to_string();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(
            &format!("work_{date}.{ext}"),
            &format!("作業記録_{date}.{ext}"),
        ),
    );
    res
}

async fn export(
    state: &AppState,
    ctx: &Ctx,
    p: &WorkParams,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let q = WorkQuery {
        page: None,
        per_page: None,
        ..p.query(state).await?
    };
    let rows = state.store.work_entries_all(&q).await?;
    let (body, ct) = if format == "csv" {
        (unyo_exchange::work_csv(&rows), CSV)
    } else {
        (
            unyo_exchange::work_xlsx(&rows).map_err(|e| WebError::Internal(e.to_string()))?,
            XLSX,
        )
    };
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::Work,
            "",
            "",
            json!({
                "format": format,
                "rows": rows.len(),
                "filter": p.filter_json(),
            }),
        )
        .await?;
    Ok(attachment(body, ct, format))
}

/// `GET /work/export.csv`.
pub(super) async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<WorkParams>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "csv").await
}

/// `GET /work/export.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<WorkParams>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "xlsx").await
}
