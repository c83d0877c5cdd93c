//! `GET /incidents/{id}/report.xlsx`: the 障害報告書 of one incident (ViewIncidents), written to the audit
//! log as `export.incident_report` (R12).

use super::parse_id;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use unyo_domain::Action;
use unyo_store::audit::NewAuditEntry;
use unyo_store::support::jst_today;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `filename*=UTF-8''…` encoding (RFC 5987/6266): everything but unreserved ASCII is percent-encoded.
pub(super) fn rfc5987(name: &str) -> String {
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

/// A download named 障害報告書_INC-R8-0001.xlsx (ASCII `incident_report_INC-R8-0001.xlsx` for old
/// browsers).
fn attachment(body: Vec<u8>, number: &str) -> Response {
    let ascii: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let disposition = format!(
        "attachment; filename=\"incident_report_{ascii}.xlsx\"; filename*=UTF-8''{}",
        rfc5987(&unyo_exchange::incident_report_file_name(number))
    );
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /incidents/{id}/report.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let d = state.store.incident(id, Utc::now()).await?;
    let body = unyo_exchange::incident_xlsx(&d, jst_today())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    state
        .store
        .audit(
            NewAuditEntry::new(&ctx.actor(), "export.incident_report", "incident", id).details(
                json!({
                    "format": "xlsx",
                    "number": d.incident.number,
                    "stage": d.incident.stage,
                }),
            ),
        )
        .await?;
    Ok(attachment(body, &d.incident.number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(rfc5987("障害_1.xlsx"), "%E9%9A%9C%E5%AE%B3_1.xlsx");
    }
}
