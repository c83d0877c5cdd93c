//! Rollout campaigns (展開) and the compliance grid through the API (issue 4).
//!
//! Reads check [`Action::ViewCampaigns`]; `GET /campaigns/{id}` first lets inventories verify targets
//! (as the page does). Writes go to the store with the token owner's actor, which checks
//! `ManageCampaigns` / `AttestCampaign` and writes the audit entry in the same transaction. The evidence of
//! every target is returned as `evidence_kind` (`agent` / `attested`): an attested status never carries an
//! `inventory_id`.

use super::auth::ApiUser;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery};
use super::handlers::{PREFIX, PageOut};
use crate::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::FieldError;
use unyo_domain::campaign::{AttestInput, CampaignInput, CampaignStatus, ExcludeInput};
use unyo_domain::registry::TerminalKind;
use unyo_store::campaigns::{
    Campaign, CampaignDetail, CampaignQuery, CampaignTarget, ComplianceGrid, ComplianceQuery,
    inventory_actor,
};

impl ApiInput for CampaignInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "number",
        "fiscal_year",
        "goal",
        "goal_summary",
        "status",
        "created_by",
        "created_by_name",
        "started_at",
        "closed_at",
        "closed_by",
        "updated_at",
        "progress",
    ];
}

impl ApiInput for AttestInput {}

impl ApiInput for ExcludeInput {}

/// `{id}` and `{terminal_id}` of a target path; anything not numeric names nothing (404).
pub(super) struct TargetPath(i64, i64);

impl<S: Send + Sync> FromRequestParts<S> for TargetPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(i64, i64)>::from_request_parts(parts, state).await {
            Ok(Path((id, terminal))) => Ok(TargetPath(id, terminal)),
            Err(_) => Err(ApiError::NotFound(
                "見つかりません: IDは数値で指定してください。".into(),
            )),
        }
    }
}

/// Query of `GET /campaigns`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    status: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// `GET /campaigns`: newest first, each with its progress.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<PageOut<Campaign>>> {
    user.require(Action::ViewCampaigns)?;
    if let Some(s) = p.status.as_deref().map(str::trim).filter(|s| !s.is_empty())
        && CampaignStatus::parse(s).is_none()
    {
        return Err(ApiError::BadRequest(
            "検索条件（クエリパラメータ）に誤りがあります。".into(),
            vec![FieldError::new(
                "status",
                "「status」の値が正しくありません。",
            )],
        ));
    }
    let q = CampaignQuery {
        status: p
            .status
            .as_deref()
            .and_then(CampaignStatus::parse)
            .map(|s| s.code().to_string()),
        q: p.q,
        page: p.page,
        per_page: p.per_page,
    };
    Ok(Json(state.store.campaigns(&q).await?.into()))
}

/// `POST /campaigns`: creates a campaign with its targets resolved now.
pub(super) async fn create(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult<Response> {
    let c = state.store.create_campaign(&user.actor(), &input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("{PREFIX}/campaigns/{}", c.id))],
        Json(c),
    )
        .into_response())
}

/// `GET /campaigns/{id}`: inventories verify what they prove first, then the campaign with its targets.
pub(super) async fn show(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<CampaignDetail>> {
    user.require(Action::ViewCampaigns)?;
    state
        .store
        .refresh_campaign_from_inventories(&inventory_actor(), id)
        .await?;
    Ok(Json(state.store.campaign(id).await?))
}

/// `POST /campaigns/{id}/targets/{terminal_id}/attest`.
pub(super) async fn attest(
    user: ApiUser,
    State(state): State<AppState>,
    TargetPath(id, terminal): TargetPath,
    ApiJson(input): ApiJson<AttestInput>,
) -> ApiResult<Json<CampaignTarget>> {
    Ok(Json(
        state
            .store
            .attest_target(&user.actor(), id, terminal, &input)
            .await?,
    ))
}

/// `POST /campaigns/{id}/targets/{terminal_id}/exclude`.
pub(super) async fn exclude(
    user: ApiUser,
    State(state): State<AppState>,
    TargetPath(id, terminal): TargetPath,
    ApiJson(input): ApiJson<ExcludeInput>,
) -> ApiResult<Json<CampaignTarget>> {
    Ok(Json(
        state
            .store
            .exclude_target(&user.actor(), id, terminal, &input)
            .await?,
    ))
}

/// `POST /campaigns/{id}/close`.
pub(super) async fn close(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Campaign>> {
    Ok(Json(state.store.close_campaign(&user.actor(), id).await?))
}

/// Query of `GET /compliance`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ComplianceParams {
    site_id: Option<i64>,
    kind: Option<String>,
}

/// `GET /compliance`: terminals × key items.
pub(super) async fn compliance(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ComplianceParams>,
) -> ApiResult<Json<ComplianceGrid>> {
    user.require(Action::ViewCampaigns)?;
    let kind = match p.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match TerminalKind::parse(k) {
            Some(k) => Some(k.code().to_string()),
            None => {
                return Err(ApiError::BadRequest(
                    "検索条件（クエリパラメータ）に誤りがあります。".into(),
                    vec![FieldError::new("kind", "「kind」の値が正しくありません。")],
                ));
            }
        },
    };
    Ok(Json(
        state
            .store
            .compliance_grid(&ComplianceQuery {
                site_id: p.site_id,
                kind,
            })
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ OpenAPI

mod doc {
    use serde_json::{Map, Value, json};
    use unyo_domain::campaign::{
        CellState, Evidence, GoalKind, ItemKind, TargetMode, TargetStatus,
    };
    use unyo_domain::registry::TerminalKind;

    pub(super) fn r(name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    fn resp(name: &str) -> Value {
        json!({"$ref": format!("#/components/responses/{name}")})
    }

    fn param(name: &str) -> Value {
        json!({"$ref": format!("#/components/parameters/{name}")})
    }

    fn ok(description: &str, schema: Value) -> Value {
        json!({"description": description, "content": {"application/json": {"schema": schema}}})
    }

    fn body(schema: &str) -> Value {
        json!({"required": true, "content": {"application/json": {"schema": r(schema)}}})
    }

    fn responses(success: &[(&str, Value)], errs: &[&str]) -> Value {
        let mut m = Map::new();
        m.insert("401".into(), resp("Unauthorized"));
        for code in errs {
            let name = match *code {
                "400" => "BadRequest",
                "403" => "Forbidden",
                "404" => "NotFound",
                "409" => "Conflict",
                "413" => "PayloadTooLarge",
                "415" => "UnsupportedMediaType",
                _ => "Validation",
            };
            m.insert((*code).into(), resp(name));
        }
        m.insert("500".into(), resp("Internal"));
        for (code, v) in success {
            m.insert((*code).into(), v.clone());
        }
        Value::Object(m)
    }

    const WRITE: [&str; 7] = ["400", "403", "404", "409", "413", "415", "422"];

    fn s(description: &str) -> Value {
        json!({"type": "string", "description": description})
    }

    fn nullable(t: &str, description: &str) -> Value {
        json!({"type": [t, "null"], "description": description})
    }

    fn int(description: &str) -> Value {
        json!({"type": "integer", "description": description})
    }

    fn object(required: &[&str], properties: Value) -> Value {
        json!({"type": "object", "required": required, "properties": properties})
    }

    fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| code(*v)).collect()
    }

    fn query(name: &str, description: &str, schema: Value) -> Value {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
    }

    fn terminal_param() -> Value {
        json!({"name": "terminal_id", "in": "path", "required": true, "description": "対象端末のID", "schema": {"type": "integer"}})
    }

    /// Adds the campaign and compliance paths, schemas and tags to the document.
    pub(in crate::api) fn document(doc: &mut Value) {
        if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
            tags.push(json!({"name": "campaigns", "description": "展開（アプリ・ウイルス対策定義・OSビルドの展開と端末ごとの実施状況）"}));
            tags.push(json!({"name": "compliance", "description": "準拠状況（端末 × 主要項目の期待値と実測値）"}));
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
        let view = "展開・準拠状況の閲覧権限（全ロール）が必要です。";
        paths.insert(
            "/campaigns".into(),
            json!({
                "get": {
                    "tags": ["campaigns"], "operationId": "list_campaigns",
                    "summary": "展開の一覧（新しい順、進捗つき）",
                    "description": view,
                    "parameters": [
                        query("status", "open: 実施中、closed: 完了", json!({"type": "string", "enum": ["open", "closed"]})),
                        param("q"), param("page"), param("per_page"),
                    ],
                    "responses": responses(&[("200", ok("一覧の1ページ", r("CampaignPage")))], &["400", "403"]),
                },
                "post": {
                    "tags": ["campaigns"], "operationId": "create_campaign",
                    "summary": "展開を登録（対象端末は登録時の稼働中の端末で確定、番号は年度ごとの連番 展-R8-001）",
                    "description": "展開の管理権限（県管理者・SE）が必要です。監査ログ（campaign.create）に記録されます。",
                    "requestBody": body("CampaignInput"),
                    "responses": responses(&[("201", json!({
                        "description": "登録しました。",
                        "headers": {"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": r("Campaign")}},
                    }))], &["400", "403", "409", "413", "415", "422"]),
                },
            }),
        );
        paths.insert(
            "/campaigns/{id}".into(),
            json!({
                "parameters": [param("id")],
                "get": {
                    "tags": ["campaigns"], "operationId": "get_campaign",
                    "summary": "展開の詳細（対象端末ごとの状態・根拠・最新インベントリの判定）",
                    "description": format!("{view} 先に、展開の開始後に受信したインベントリで目標を満たす未実施・失敗の端末を実施済（根拠 agent）にします（監査ログ campaign.auto_verify）。"),
                    "responses": responses(&[("200", ok("展開", r("CampaignDetail")))], &["403", "404"]),
                },
            }),
        );
        paths.insert(
            "/campaigns/{id}/targets/{terminal_id}/attest".into(),
            json!({
                "parameters": [param("id"), terminal_param()],
                "post": {
                    "tags": ["campaigns"], "operationId": "attest_campaign_target",
                    "summary": "SEによる実施結果の申告（実施済・失敗・未実施に戻す）",
                    "description": "展開の申告権限（県管理者・SE）が必要です。実施済には作業記録の番号（作業記録に端末が指定されていればこの端末を含むもの）、立会者が必要な展開では立会者、失敗には備考が必要です（422）。段階実施では代表端末がすべて実施済（または対象外）になるまで業務端末は実施済にできません（409）。完了した展開は 409。根拠は attested で、エージェント確認として扱われることはありません。監査ログ（campaign.attest）に記録されます。",
                    "requestBody": body("AttestInput"),
                    "responses": responses(&[("200", ok("変更後の対象端末", r("CampaignTarget")))], &WRITE),
                },
            }),
        );
        paths.insert(
            "/campaigns/{id}/targets/{terminal_id}/exclude".into(),
            json!({
                "parameters": [param("id"), terminal_param()],
                "post": {
                    "tags": ["campaigns"], "operationId": "exclude_campaign_target",
                    "summary": "端末を対象外にする（理由必須）",
                    "description": "展開の管理権限（県管理者・SE）が必要です。監査ログ（campaign.exclude）に記録されます。",
                    "requestBody": body("ExcludeInput"),
                    "responses": responses(&[("200", ok("変更後の対象端末", r("CampaignTarget")))], &WRITE),
                },
            }),
        );
        paths.insert(
            "/campaigns/{id}/close".into(),
            json!({
                "parameters": [param("id")],
                "post": {
                    "tags": ["campaigns"], "operationId": "close_campaign",
                    "summary": "展開を完了する",
                    "description": "展開の管理権限（県管理者・SE）が必要です。すべての端末が実施済、または理由付きの対象外でなければ 409（日本語の理由つき）で、何も変わりません。監査ログ（campaign.close）に記録されます。",
                    "responses": responses(&[("200", ok("完了した展開", r("Campaign")))], &["403", "404", "409"]),
                },
            }),
        );
        paths.insert(
            "/compliance".into(),
            json!({
                "get": {
                    "tags": ["compliance"], "operationId": "compliance_grid",
                    "summary": "準拠状況（稼働中の端末 × OSビルド・ウイルス対策定義・追跡中のアプリ）",
                    "description": format!("{view} 期待値は実施中の展開の目標（OSビルドは基準値と比べて高い方）から決まります。インベントリが無い、または古い端末は unknown です。"),
                    "parameters": [
                        param("site_id"),
                        query("kind", "端末の種別コード", json!({"type": "string", "enum": codes(TerminalKind::ALL, TerminalKind::code)})),
                    ],
                    "responses": responses(&[("200", ok("準拠状況", r("ComplianceGrid")))], &["400", "403"]),
                },
            }),
        );
    }

    fn schemas_map() -> Map<String, Value> {
        let instant = "保存日時（UTC、RFC 3339）";
        let goal_types = codes(GoalKind::ALL, GoalKind::code);
        let schemas = json!({
            "CampaignGoal": {
                "type": "object",
                "required": ["type"],
                "description": "目標。type により項目が変わります（app: name_pattern, min_version / antivirus: product_pattern, min_version, min_date / os_build: min_build / free_task: description）。",
                "properties": {
                    "type": {"type": "string", "enum": goal_types},
                    "name_pattern": s("アプリケーション名（部分一致、先頭 = で完全一致、大文字小文字を区別しない）"),
                    "product_pattern": s("ウイルス対策ソフトの製品名（同上）"),
                    "min_version": nullable("string", "この版以上"),
                    "min_date": nullable("string", "定義日付がこの日以降（YYYY-MM-DD）"),
                    "min_build": s("OSビルドがこの値以上"),
                    "description": s("自由作業の内容"),
                },
            },
            "TargetSpec": {
                "type": "object",
                "required": ["mode"],
                "properties": {
                    "mode": {"type": "string", "enum": codes(TargetMode::ALL, TargetMode::code)},
                    "kind": {"type": "string", "enum": codes(TerminalKind::ALL, TerminalKind::code)},
                    "site_ids": {"type": "array", "items": {"type": "integer"}},
                    "terminal_ids": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "Progress": object(&["total", "pending", "done", "done_agent", "done_attested", "failed", "excluded", "excluded_without_reason"], json!({
                "total": int("対象端末の台数"),
                "pending": int("未実施"),
                "done": int("実施済"),
                "done_agent": int("うちエージェント確認"),
                "done_attested": int("うちSE申告"),
                "failed": int("失敗"),
                "excluded": int("対象外"),
                "excluded_without_reason": int("理由のない対象外（通常 0）"),
            })),
            "Campaign": object(&["id", "number", "fiscal_year", "title", "goal", "goal_summary", "target", "staged", "witness_required", "description", "status", "created_by", "created_by_name", "started_at", "closed_at", "closed_by", "updated_at", "progress"], json!({
                "id": int("ID"),
                "number": s("展開番号（例: 展-R8-001）"),
                "fiscal_year": int("年度（開始年）"),
                "title": s("件名"),
                "goal": r("CampaignGoal"),
                "goal_summary": s("目標の日本語の説明"),
                "target": r("TargetSpec"),
                "staged": {"type": "boolean", "description": "代表端末を先行（業務端末は第2段階）"},
                "witness_required": {"type": "boolean", "description": "SE申告の実施済に立会者が必要"},
                "description": s("説明"),
                "status": {"type": "string", "enum": codes(unyo_domain::campaign::CampaignStatus::ALL, unyo_domain::campaign::CampaignStatus::code)},
                "created_by": s("登録した利用者ID"),
                "created_by_name": s("登録した利用者の氏名"),
                "started_at": s(&format!("{instant}。これより後に受信したインベントリだけが根拠になります")),
                "closed_at": nullable("string", instant),
                "closed_by": nullable("string", "完了にした利用者ID"),
                "updated_at": s(instant),
                "progress": r("Progress"),
            })),
            "CampaignPage": object(&["items", "total", "page", "per_page", "pages"], json!({
                "items": {"type": "array", "items": r("Campaign")},
                "total": int("条件に合う件数（全ページ）"),
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            })),
            "GoalCheck": object(&["met", "known", "observed", "reason"], json!({
                "met": {"type": "boolean", "description": "インベントリが目標を満たしている"},
                "known": {"type": "boolean", "description": "判定に必要な値が報告されている"},
                "observed": s("確認した値"),
                "reason": s("日本語の理由（例: Windows Defender の定義バージョン 1.401.12.0 は目標 1.403.0.0 未満です）"),
            })),
            "LatestCheck": object(&["inventory_id", "received_at", "after_start", "check"], json!({
                "inventory_id": int("最新インベントリのID"),
                "received_at": s(instant),
                "after_start": {"type": "boolean", "description": "展開の開始後に受信した（根拠になり得る）"},
                "check": r("GoalCheck"),
            })),
            "CampaignTarget": object(&["terminal_id", "hostname", "site_id", "site_name", "kind", "stage", "status", "evidence_kind", "inventory_id", "work_entry_id", "witness", "observed", "reason", "note", "updated_by", "updated_at"], json!({
                "terminal_id": int("端末ID"),
                "hostname": s("ホスト名"),
                "site_id": int("拠点ID"),
                "site_name": s("拠点名"),
                "kind": {"type": "string", "enum": codes(TerminalKind::ALL, TerminalKind::code)},
                "retired_at": nullable("string", "端末が廃止された日時"),
                "stage": int("段階（1、段階実施の業務端末は 2）"),
                "status": {"type": "string", "enum": codes(TargetStatus::ALL, TargetStatus::code)},
                "evidence_kind": {"type": ["string", "null"], "enum": [Evidence::Agent.code(), Evidence::Attested.code(), null], "description": "agent: インベントリで確認（エージェント確認）、attested: SEの申告（SE申告）"},
                "inventory_id": nullable("integer", "目標を満たしたインベントリ（agent のみ）"),
                "work_entry_id": nullable("integer", "作業記録（attested）"),
                "witness": s("立会者"),
                "witness_confirmed_by": nullable("string", "立会いを確認した県の利用者ID"),
                "witness_confirmed_at": nullable("string", instant),
                "observed": s("確認した値（agent）"),
                "reason": s("理由（agent の判定、または対象外の理由）"),
                "note": s("SEの備考"),
                "updated_by": s("最後に変更した利用者ID（自動確認は system）"),
                "updated_at": s(instant),
                "latest": {"oneOf": [r("LatestCheck"), {"type": "null"}], "description": "最新インベントリの判定（詳細のみ）"},
            })),
            "CampaignDetail": object(&["campaign", "targets", "progress"], json!({
                "campaign": r("Campaign"),
                "targets": {"type": "array", "items": r("CampaignTarget")},
                "progress": r("Progress"),
            })),
            "CampaignInput": {
                "type": "object",
                "required": ["title", "goal_type", "target"],
                "properties": {
                    "title": s("件名（200文字以内）"),
                    "goal_type": {"type": "string", "enum": codes(GoalKind::ALL, GoalKind::code), "description": "目標の種類（日本語名も可）"},
                    "name_pattern": s("app: アプリケーション名（必須）"),
                    "product_pattern": s("antivirus: 製品名（必須、例: Windows Defender）"),
                    "min_version": s("app: 目標バージョン（必須）／antivirus: 定義バージョン（任意）"),
                    "min_date": s("antivirus: 定義日付（任意、YYYY-MM-DD または 和暦）。バージョンも日付も無い場合は「定義が最新」と報告されていることが目標"),
                    "min_build": s("os_build: 目標のOSビルド（必須、例: 10.0.19045）"),
                    "description": s("説明（free_task では作業内容・必須）"),
                    "target": {"type": "string", "enum": codes(TargetMode::ALL, TargetMode::code), "description": "対象の指定方法"},
                    "kind": s("target=kind: 端末の種別コード"),
                    "site_ids": {"type": "array", "items": {"type": "integer"}, "description": "target=sites: 拠点ID"},
                    "terminal_ids": {"type": "array", "items": {"type": "integer"}, "description": "target=terminals: 端末ID"},
                    "staged": {"type": "boolean", "description": "代表端末を先行する"},
                    "witness_required": {"type": "boolean", "description": "SE申告の実施済に立会者を必須にする"},
                },
            },
            "AttestInput": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string", "enum": ["done", "failed", "pending"]},
                    "work_entry_id": {"type": ["integer", "null"], "description": "作業記録の番号（done では必須）"},
                    "witness": s("立会者"),
                    "note": s("備考（failed では必須）"),
                },
            },
            "ExcludeInput": {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": s("対象外の理由（必須）")},
            },
            "ComplianceItem": object(&["key", "kind", "label", "goal", "sources", "os_builds"], json!({
                "key": s("項目のキー"),
                "kind": {"type": "string", "enum": codes(ItemKind::ALL, ItemKind::code)},
                "label": s("項目名"),
                "goal": {"oneOf": [r("CampaignGoal"), {"type": "null"}]},
                "sources": {"type": "array", "items": {"type": "string"}, "description": "期待値の根拠（展開番号、基準値）"},
                "os_builds": {"type": "array", "items": {"type": "string"}, "description": "OSビルドの列のみ: 系列（先頭3つの部分）ごとの期待ビルド（高い順）。4つ目の部分のないビルドは全端末の下限"},
            })),
            "ComplianceCell": object(&["state", "expected", "observed", "reason"], json!({
                "state": {"type": "string", "enum": codes(CellState::ALL, CellState::code), "description": "ok: 適合、lagging: 遅れ、unknown: 不明、none: 基準なし"},
                "expected": s("期待値"),
                "observed": s("実測値"),
                "reason": s("日本語の理由"),
            })),
            "ComplianceRow": object(&["terminal_id", "hostname", "site_id", "site_name", "kind", "inventory_id", "received_at", "stale", "cells"], json!({
                "terminal_id": int("端末ID"),
                "hostname": s("ホスト名"),
                "site_id": int("拠点ID"),
                "site_name": s("拠点名"),
                "kind": {"type": "string", "enum": codes(TerminalKind::ALL, TerminalKind::code)},
                "inventory_id": nullable("integer", "最新インベントリ"),
                "received_at": nullable("string", instant),
                "stale": {"type": "boolean", "description": "最新インベントリが古い"},
                "cells": {"type": "array", "items": r("ComplianceCell"), "description": "items と同じ順"},
            })),
            "ComplianceGrid": object(&["items", "rows", "baseline", "generated_at"], json!({
                "items": {"type": "array", "items": r("ComplianceItem")},
                "rows": {"type": "array", "items": r("ComplianceRow")},
                "baseline": nullable("string", "基準OSビルド"),
                "generated_at": s(instant),
            })),
        });
        match schemas {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

pub(super) use doc::document;
