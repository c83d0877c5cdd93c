//! CSV and Excel exports of the work log: every entry matching the list's filter (not only the page
//! shown), written to the audit log as `export.work` (R12).

use super::entries::WorkParams;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use unyo_domain::Action;
use unyo_store::audit::NewAuditEntry;
use unyo_store::support::WorkQuery;

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `filename*=UTF-8''…` encoding (RFC 5987/6266): everything but unreserved ASCII is percent-encoded.
fn rfc5987(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A download named 作業記録_YYYYMMDD.ext (ASCII `work_YYYYMMDD.ext` for old browsers).
fn attachment(body: Vec<u8>, content_type: &'static str, ext: &str) -> Response {
    let date = unyo_domain::time::to_jst(chrono::Utc::now())
        .format("%Y%m%d")
        .to_string();
    let disposition = format!(
        "attachment; filename=\"work_{date}.{ext}\"; filename*=UTF-8''{}",
        rfc5987(&format!("作業記録_{date}.{ext}"))
    );
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
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
        .audit(
            NewAuditEntry::new(&ctx.actor(), "export.work", "", "").details(json!({
                "format": format,
                "rows": rows.len(),
                "filter": p.filter_json(),
            })),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(
            rfc5987("作業記録_1.csv"),
            "%E4%BD%9C%E6%A5%AD%E8%A8%98%E9%8C%B2_1.csv"
        );
    }
}
