//! The erasure register (消去記録, R11) through the API:
//!
//! - `GET /erasures` — every record, newest first, with its certificate's SHA-256 once frozen
//!   ([`Action::ViewErasures`], every role);
//! - `POST /erasures` — records an erasure ([`Action::RecordErasure`]: admin, SE) and freezes its
//!   消去証明書 (PDF and XLSX) with their SHA-256;
//! - `GET /erasures/{id}/certificate.pdf` — the frozen certificate, byte-identical, audited.

use super::auth::ApiUser;
use super::common::created;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiInput, ApiJson};
use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use unyo_documents::Format;
use unyo_domain::Action;
use unyo_domain::erasure::{ErasureInput, ErasureMethod, ErasureScope};
use unyo_store::erasures::{CertificateFile, Erasure};

impl ApiInput for ErasureInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "created_by",
        "created_at",
        "certificate_pdf_sha256",
        "certificate_xlsx_sha256",
        "certificate_frozen_at",
        "certificate_url",
    ];
}

fn out(e: &Erasure) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert(
            "certificate_url".into(),
            format!(
                "{}/erasures/{}/certificate.pdf",
                super::handlers::PREFIX,
                e.id
            )
            .into(),
        );
    }
    v
}

/// `GET /erasures`.
pub(super) async fn list(user: ApiUser, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    user.require(Action::ViewErasures)?;
    let items: Vec<Value> = state
        .store
        .erasures(&user.actor())
        .await?
        .iter()
        .map(out)
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /erasures`.
pub(super) async fn create(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ErasureInput>,
) -> ApiResult<Response> {
    user.require(Action::RecordErasure)?;
    let draft = input.validate(chrono::Utc::now())?;
    let actor = user.actor();
    let e = state.store.create_erasure(&actor, &draft).await?;
    let e = crate::certificate::freeze(&state.store, &actor, &e).await?;
    Ok(created("erasures", e.id, out(&e)))
}

/// `GET /erasures/{id}/certificate.pdf`.
pub(super) async fn certificate(
    user: ApiUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user.require(Action::ViewErasures)?;
    let id: i64 = id
        .trim()
        .parse()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::NotFound(format!("消去記録 {id}")))?;
    let bytes = crate::certificate::certificate_bytes(
        &state.store,
        &user.actor(),
        id,
        CertificateFile::Pdf,
    )
    .await?;
    let sha = unyo_documents::sha256_hex(&bytes);
    let mut res = crate::certificate::file_response(bytes, id, Format::Pdf);
    if let Ok(v) = HeaderValue::from_str(&sha) {
        res.headers_mut().insert("x-content-sha256", v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res.into_response())
}

/// Adds the erasure paths and schemas to the OpenAPI document.
pub(super) fn document(doc: &mut Value) {
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "erasures", "description": "消去記録（NIST SP 800-88 の Clear・Purge・Destroy）と消去証明書"}));
    }
    let errors = |codes: &[&str]| -> Map<String, Value> {
        codes
            .iter()
            .map(|c| {
                let name = match *c {
                    "400" => "BadRequest",
                    "401" => "Unauthorized",
                    "403" => "Forbidden",
                    "404" => "NotFound",
                    "422" => "Validation",
                    _ => "Internal",
                };
                (
                    (*c).to_string(),
                    json!({"$ref": format!("#/components/responses/{name}")}),
                )
            })
            .collect()
    };
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        let mut list_resp = errors(&["401", "403", "500"]);
        list_resp.insert("200".into(), json!({"description": "消去記録の一覧（実施日時の新しい順）", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureList"}}}}));
        let mut create_resp = errors(&["400", "401", "403", "404", "422", "500"]);
        create_resp.insert("201".into(), json!({"description": "記録し、消去証明書を作成しました。", "headers": {"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erasure"}}}}));
        paths.insert(
            "/erasures".into(),
            json!({
                "get": {
                    "tags": ["erasures"], "operationId": "list_erasures",
                    "summary": "消去記録の一覧",
                    "description": "消去記録の閲覧権限（全ロール）が必要です。",
                    "responses": list_resp,
                },
                "post": {
                    "tags": ["erasures"], "operationId": "create_erasure",
                    "summary": "消去を記録し、消去証明書（PDF・Excel）を作成して SHA-256 とともに保存",
                    "description": "消去記録の登録権限（県管理者・SE）が必要です。監査ログに記録されます。作業者と立会者は別の人にしてください。上書き消去はフラッシュ媒体では Clear であり、Purge には暗号化ボリュームの鍵の破棄等が必要です。",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureInput"}}}},
                    "responses": create_resp,
                },
            }),
        );
        let mut cert_resp = errors(&["401", "403", "404", "500"]);
        cert_resp.insert("200".into(), json!({"description": "消去証明書（保存時と同一のバイト列）", "headers": {"X-Content-SHA256": {"description": "SHA-256", "schema": {"type": "string"}}}, "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}));
        paths.insert(
            "/erasures/{id}/certificate.pdf".into(),
            json!({
                "parameters": [{"$ref": "#/components/parameters/id"}],
                "get": {
                    "tags": ["erasures"], "operationId": "download_erasure_certificate",
                    "summary": "消去証明書（PDF）",
                    "description": "消去記録の閲覧権限（全ロール）が必要です。保存時の SHA-256 と照合してから返し、取得は監査ログ（erasure.certificate_download）に記録されます。",
                    "responses": cert_resp,
                },
            }),
        );
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let scopes: Vec<&str> = ErasureScope::ALL.iter().map(|s| s.code()).collect();
        let methods: Vec<&str> = ErasureMethod::ALL.iter().map(|m| m.code()).collect();
        let text = |d: &str| json!({"type": "string", "description": d});
        schemas.insert(
            "ErasureInput".into(),
            json!({
                "type": "object",
                "required": ["scope", "medium", "identifier", "target", "method", "tool", "performed_at", "operator", "witness", "verification_method", "verification_result"],
                "properties": {
                    "contract_id": {"type": ["integer", "null"], "description": "契約のID（任意）"},
                    "scope": {"type": "string", "enum": scopes, "description": "対象区分: system_data（本システムのデータ）、temporary_copy（作業用の一時的な複製）、provided_medium（県から提供を受けた媒体）"},
                    "medium": text("媒体"),
                    "identifier": text("識別番号・製造番号"),
                    "capacity": text("容量"),
                    "target": text("対象データ"),
                    "method": {"type": "string", "enum": methods, "description": "NIST SP 800-88 の区分"},
                    "tool": text("使用ツール"),
                    "tool_version": text("ツールの版"),
                    "performed_at": text("実施日時（日本時間、例: 2027-03-25T10:00）"),
                    "operator": text("作業者"),
                    "witness": text("立会者（作業者と別の人）"),
                    "verification_method": text("検証方法"),
                    "verified": {"type": "boolean", "description": "検証の結果、読み出せるデータが残っていないとき true"},
                    "verification_result": text("検証結果"),
                    "note": text("備考"),
                },
            }),
        );
        schemas.insert(
            "Erasure".into(),
            json!({
                "allOf": [{"$ref": "#/components/schemas/ErasureInput"}],
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "created_by": text("記録した利用者"),
                    "created_at": text("記録日時（UTC）"),
                    "certificate_pdf_sha256": {"type": ["string", "null"], "description": "凍結した消去証明書（PDF）の SHA-256"},
                    "certificate_xlsx_sha256": {"type": ["string", "null"], "description": "凍結した消去証明書（Excel）の SHA-256"},
                    "certificate_frozen_at": {"type": ["string", "null"], "description": "凍結日時（UTC）"},
                    "certificate_url": text("消去証明書（PDF）のURL"),
                },
            }),
        );
        schemas.insert(
            "ErasureList".into(),
            json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Erasure"}}}}),
        );
    }
}
