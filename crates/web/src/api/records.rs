//! Monthly work records (業務実績簿, R8) through the API:
//!
//! - `GET /monthly-records?contract_id=&month=&status=` — each month of each contract's term up to the
//!   current month: its state (`draft` while nothing was submitted, `submitted` while a step of the
//!   prefecture's route awaits, `returned`, `confirmed`), the latest frozen version with its label and
//!   SHA-256, and the route's 確認欄 columns in order with who confirmed each and when;
//! - `GET /monthly-records/{id}/versions/{n}.pdf|.xlsx` — a frozen version's bytes, byte-identical,
//!   checked against their SHA-256 and audited as `record.download` by the store.
//!
//! Both need [`Action::ViewRecords`] (every role).

use super::auth::ApiUser;
use super::error::{ApiError, ApiResult};
use super::extract::ApiQuery;
use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use unyo_domain::records::{Month, RecordStatus, version_label};
use unyo_domain::{Action, FieldError};
use unyo_store::records::{MonthlyRecord, RecordFile};
use unyo_store::support::jst_today;

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RecordQuery {
    pub contract_id: Option<i64>,
    /// `2026-05` (or `令和8年5月`).
    pub month: Option<String>,
    /// `draft`, `submitted`, `returned` or `confirmed`.
    pub status: Option<String>,
}

/// One 確認欄 column of the route.
#[derive(Debug, Serialize)]
pub(super) struct ApprovalOut {
    /// The column's label (e.g. 係長).
    step: String,
    /// The display name of the person who confirmed it; `null` while open.
    name: Option<String>,
    /// When it was confirmed (UTC, RFC 3339); `null` while open.
    at: Option<String>,
    /// 確認日 as printed (JST date, `YYYY-MM-DD`); `null` while open.
    on: Option<String>,
}

/// A month's record.
#[derive(Debug, Serialize)]
pub(super) struct RecordOut {
    /// `null` for a draft (nothing submitted yet).
    id: Option<i64>,
    contract_id: i64,
    /// `YYYY-MM`.
    month: String,
    status: &'static str,
    /// The latest frozen version's number; `null` for a draft.
    version: Option<i64>,
    /// Its label (「第3版（係長確認済）」); `null` for a draft.
    label: Option<String>,
    /// The SHA-256 of its PDF; `null` for a draft.
    sha256: Option<String>,
    /// The SHA-256 of its XLSX; `null` for a draft.
    xlsx_sha256: Option<String>,
    /// Where its files are (`null` for a draft).
    pdf_url: Option<String>,
    xlsx_url: Option<String>,
    /// The route's steps in order.
    approvals: Vec<ApprovalOut>,
    /// The reason of the latest send-back, while `returned`.
    returned_reason: Option<String>,
}

fn record_out(r: &MonthlyRecord) -> RecordOut {
    let confirmations = r.confirmations();
    let latest = r.latest();
    let status = r.status();
    RecordOut {
        id: Some(r.id),
        contract_id: r.contract_id,
        month: r.month().code(),
        status: status.code(),
        version: latest.map(|v| v.version),
        label: latest.map(|v| r.version_label(v)),
        sha256: latest.map(|v| v.pdf_sha256.clone()),
        xlsx_sha256: latest.map(|v| v.xlsx_sha256.clone()),
        pdf_url: latest.map(|v| {
            format!(
                "{}/monthly-records/{}/versions/{}.pdf",
                super::handlers::PREFIX,
                r.id,
                v.version
            )
        }),
        xlsx_url: latest.map(|v| {
            format!(
                "{}/monthly-records/{}/versions/{}.xlsx",
                super::handlers::PREFIX,
                r.id,
                v.version
            )
        }),
        approvals: r
            .route
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let a = confirmations.get(i);
                ApprovalOut {
                    step: s.label.clone(),
                    name: a.map(|a| a.decided_by_name.clone()),
                    at: a.map(|a| a.decided_at.clone()),
                    on: a.map(|a| a.decided_on.clone()),
                }
            })
            .collect(),
        returned_reason: (status == RecordStatus::Returned)
            .then(|| r.approvals.last().map(|a| a.reason.clone()))
            .flatten(),
    }
}

/// `GET /monthly-records?contract_id=N&month=YYYY-MM&status=S`.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> ApiResult<Json<Value>> {
    user.require(Action::ViewRecords)?;
    let mut errors = Vec::new();
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => {
            let parsed = Month::parse(m);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "month",
                    "「month」は年月（例: 2026-05）で指定してください。",
                ));
            }
            parsed
        }
        None => None,
    };
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if status.is_some_and(|s| s != "draft" && RecordStatus::parse(s).is_none()) {
        errors.push(FieldError::new(
            "status",
            "「status」は draft、submitted、returned、confirmed のいずれかで指定してください。",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(
            "検索条件（クエリパラメータ）に誤りがあります。".into(),
            errors,
        ));
    }
    let contracts = match q.contract_id {
        Some(id) => vec![state.store.contract(id).await?],
        None => state.store.contracts().await?,
    };
    let today = jst_today();
    let mut items = Vec::new();
    for c in &contracts {
        let records = state.store.monthly_records(Some(c.id), None).await?;
        let route = state.store.approval_route(c.id).await?;
        let (Some(start), Some(end)) = (
            unyo_domain::support::parse_date(&c.term_start),
            unyo_domain::support::parse_date(&c.term_end),
        ) else {
            continue;
        };
        let mut m = Month::of(start);
        let last = Month::of(end.min(today));
        while m <= last {
            if month.is_none_or(|x| x == m) {
                let item = match records.iter().find(|r| r.month() == m) {
                    Some(r) => record_out(r),
                    None => RecordOut {
                        id: None,
                        contract_id: c.id,
                        month: m.code(),
                        status: "draft",
                        version: None,
                        label: None,
                        sha256: None,
                        xlsx_sha256: None,
                        pdf_url: None,
                        xlsx_url: None,
                        approvals: route
                            .iter()
                            .map(|s| ApprovalOut {
                                step: s.label.clone(),
                                name: None,
                                at: None,
                                on: None,
                            })
                            .collect(),
                        returned_reason: None,
                    },
                };
                if status.is_none_or(|s| s == item.status) {
                    items.push(item);
                }
            }
            m = m.next();
        }
        // Records of months past the term or still to come (not expected, but never hidden).
        for r in &records {
            let rm = r.month();
            if (rm < Month::of(start) || rm > last)
                && month.is_none_or(|x| x == rm)
                && status.is_none_or(|s| s == r.status)
            {
                items.push(record_out(r));
            }
        }
    }
    Ok(Json(json!({ "items": items })))
}

/// `GET /monthly-records/{id}/versions/{n}.pdf|.xlsx`.
pub(super) async fn file(
    user: ApiUser,
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    user.require(Action::ViewRecords)?;
    let not_found = || ApiError::NotFound(format!("業務実績簿 {id} の {file}"));
    let id: i64 = id.parse().ok().filter(|i| *i > 0).ok_or_else(not_found)?;
    let (n, ext) = file.split_once('.').ok_or_else(not_found)?;
    let version: i64 = n.parse().ok().filter(|v| *v > 0).ok_or_else(not_found)?;
    let kind = RecordFile::from_ext(ext).ok_or_else(not_found)?;
    let r = state.store.monthly_record(id).await?;
    let (meta, bytes) = state
        .store
        .record_file(&user.actor(), id, version, kind)
        .await?;
    let month = r.month();
    let label = version_label(
        meta.version,
        usize::try_from(meta.stage).unwrap_or(0),
        &r.route,
    );
    let label = r
        .versions
        .iter()
        .find(|v| v.version == version)
        .map_or(label, |v| r.version_label(v));
    let sha = match kind {
        RecordFile::Pdf => meta.pdf_sha256.clone(),
        RecordFile::Xlsx => meta.xlsx_sha256.clone(),
    };
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(
            &format!("monthly_record_{}_v{version}.{}", month.code(), kind.ext()),
            &format!("業務実績簿_{}分_{label}.{}", month.label(), kind.ext()),
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&sha) {
        h.insert("x-content-sha256", v);
    }
    if let Ok(v) = HeaderValue::from_str(&percent_label(&label)) {
        h.insert("x-record-version-label", v);
    }
    Ok(res)
}

/// A label as an ASCII header value (RFC 3986 percent-encoding of UTF-8).
fn percent_label(label: &str) -> String {
    label
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resp(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn opt(t: &str, description: &str) -> Value {
    json!({"type": [t, "null"], "description": description})
}

/// Adds the two paths, their schemas and their tag to the document.
pub(super) fn document(doc: &mut Value) {
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "monthly_records", "description": "業務実績簿（提出→県の確認欄ごとの確認→確認済／差戻し）"}));
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths_into(paths);
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(schemas_map());
    }
}

fn paths_into(paths: &mut Map<String, Value>) {
    let view = "業務実績簿の閲覧権限（全ロール）が必要です。";
    paths.insert(
        "/monthly-records".into(),
        json!({"get": {
            "tags": ["monthly_records"], "operationId": "list_monthly_records",
            "summary": "契約・月ごとの業務実績簿の状態（最新の版、SHA-256、確認欄）",
            "description": format!("{view} 各契約の契約期間の月（当月まで）を月順に返します。未提出の月は status が draft で id・version・sha256 は null です。提出後は、県の確認欄（例: 担当・係長・課長）を順に確認するあいだ submitted、最後の確認欄の確認で confirmed、どの確認欄でも差し戻されると returned です。確認欄を確認するたびに、その欄を記入したPDFとExcelが新しい版として保存されます。"),
            "parameters": [
                {"name": "contract_id", "in": "query", "required": false, "description": "契約のID", "schema": {"type": "integer"}},
                {"name": "month", "in": "query", "required": false, "description": "対象月（例: 2026-05、令和8年5月）", "schema": {"type": "string"}},
                {"name": "status", "in": "query", "required": false, "description": "状態", "schema": {"type": "string", "enum": ["draft", "submitted", "returned", "confirmed"]}},
            ],
            "responses": {
                "200": {"description": "業務実績簿の一覧", "content": {"application/json": {"schema": r("MonthlyRecordList")}}},
                "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "500": resp("Internal"),
            },
        }}),
    );
    paths.insert(
        "/monthly-records/{id}/versions/{file}".into(),
        json!({
            "parameters": [
                {"$ref": "#/components/parameters/id"},
                {"name": "file", "in": "path", "required": true,
                 "description": "版の番号と形式（例: 3.pdf、3.xlsx）",
                 "schema": {"type": "string", "pattern": "^[1-9][0-9]*\\.(pdf|xlsx)$"}},
            ],
            "get": {
                "tags": ["monthly_records"], "operationId": "download_monthly_record_version",
                "summary": "保存された版のPDF／Excel（保存時と同一のバイト列）",
                "description": format!("{view} 保存時のSHA-256と照合してから返し、ダウンロードは監査ログ（record.download）に記録されます。X-Content-SHA256 にSHA-256、X-Record-Version-Label に版の表示（例: 第3版（係長確認済）、UTF-8をパーセント符号化）を付けます。"),
                "responses": {
                    "200": {"description": "版のファイル", "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}},
                    }},
                    "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "500": resp("Internal"),
                },
            },
        }),
    );
}

fn schemas_map() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "MonthlyRecordApproval".into(),
        json!({
            "type": "object",
            "required": ["step", "name", "at", "on"],
            "properties": {
                "step": {"type": "string", "description": "確認欄の名称（例: 係長）"},
                "name": opt("string", "確認した人の表示名（未確認は null）"),
                "at": opt("string", "確認日時（UTC、RFC 3339。未確認は null）"),
                "on": opt("string", "確認日（日本時間、YYYY-MM-DD。未確認は null）"),
            },
        }),
    );
    m.insert(
        "MonthlyRecord".into(),
        json!({
            "type": "object",
            "required": ["id", "contract_id", "month", "status", "version", "label", "sha256", "xlsx_sha256",
                         "pdf_url", "xlsx_url", "approvals", "returned_reason"],
            "properties": {
                "id": opt("integer", "業務実績簿のID（未提出は null）"),
                "contract_id": {"type": "integer"},
                "month": {"type": "string", "description": "対象月（YYYY-MM）"},
                "status": {"type": "string", "enum": ["draft", "submitted", "returned", "confirmed"]},
                "version": opt("integer", "最新の版の番号（未提出は null）"),
                "label": opt("string", "最新の版の表示（例: 第3版（係長確認済））"),
                "sha256": opt("string", "最新の版のPDFのSHA-256"),
                "xlsx_sha256": opt("string", "最新の版のExcelのSHA-256"),
                "pdf_url": opt("string", "最新の版のPDF"),
                "xlsx_url": opt("string", "最新の版のExcel"),
                "approvals": {"type": "array", "items": r("MonthlyRecordApproval"),
                              "description": "県の確認欄（確認の順）"},
                "returned_reason": opt("string", "差戻しの理由（差戻し中のみ）"),
            },
        }),
    );
    m.insert(
        "MonthlyRecordList".into(),
        json!({
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": r("MonthlyRecord")}},
        }),
    );
    m
}
