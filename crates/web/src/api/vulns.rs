//! Vulnerability monitoring through the API (issue 18): feed freshness and imports (`GET /feeds`), records
//! (`GET /vulnerabilities`, `GET /vulnerabilities/{id}` with the Japanese text of JVN records naming it),
//! findings (`GET /findings` filtered by `terminal_id`, `status`, `cve`, `subject=unyo`, …; `GET /findings/{id}`
//! with its history) and the software→CPE mapping table (`GET /cpe-mappings`; `POST /cpe-mappings/{id}/confirm`
//! and `POST /cpe-mappings/{id}/correct`, which need [`Action::ReviewCpeMappings`], checked and audited by the
//! store). Reads need [`Action::ViewVulnerabilities`] (every role). Feed files are imported on the page or with
//! `unyo feed import`: they are far larger than an API body.

use super::auth::ApiUser;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery};
use super::handlers::PageOut;
use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use unyo_domain::Action;
use unyo_store::vulns::{
    CpeMapping, DEFAULT_STALE_DAYS, FeedImport, FeedStatus, Finding, FindingEvent, FindingQuery,
    VulnDetail, VulnQuery, VulnRow,
};

/// Feeds' freshness and the latest imports.
#[derive(Serialize)]
pub(super) struct FeedsOut {
    stale_days: i64,
    feeds: Vec<FeedStatus>,
    imports: Vec<FeedImport>,
}

/// `GET /feeds`.
pub(super) async fn feeds(
    user: ApiUser,
    State(state): State<AppState>,
) -> ApiResult<Json<FeedsOut>> {
    user.require(Action::ViewVulnerabilities)?;
    Ok(Json(FeedsOut {
        stale_days: DEFAULT_STALE_DAYS,
        feeds: state
            .store
            .feed_status(chrono::Utc::now(), DEFAULT_STALE_DAYS)
            .await?,
        imports: state.store.feed_imports(100).await?,
    }))
}

/// `GET /vulnerabilities?q=&feed=&severity=&with_findings=&page=&per_page=`.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<VulnQuery>,
) -> ApiResult<Json<PageOut<VulnRow>>> {
    user.require(Action::ViewVulnerabilities)?;
    Ok(Json(state.store.vulnerabilities(&q).await?.into()))
}

/// `GET /vulnerabilities/{id}`.
pub(super) async fn show(
    user: ApiUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VulnDetail>> {
    user.require(Action::ViewVulnerabilities)?;
    if id.len() > 80
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.#".contains(c))
    {
        return Err(ApiError::NotFound("見つかりません: 脆弱性情報".into()));
    }
    Ok(Json(state.store.vulnerability(&id).await?))
}

/// `GET /findings?terminal_id=&status=&cve=&subject=&severity=&software=&page=&per_page=`.
pub(super) async fn findings(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FindingQuery>,
) -> ApiResult<Json<PageOut<Finding>>> {
    user.require(Action::ViewVulnerabilities)?;
    Ok(Json(state.store.findings(&q).await?.into()))
}

/// One finding with its history.
#[derive(Serialize)]
pub(super) struct FindingOut {
    #[serde(flatten)]
    finding: Finding,
    events: Vec<FindingEvent>,
}

/// `GET /findings/{id}`.
pub(super) async fn finding(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<FindingOut>> {
    user.require(Action::ViewVulnerabilities)?;
    Ok(Json(FindingOut {
        finding: state.store.finding(id).await?,
        events: state.store.finding_events(id).await?,
    }))
}

/// Filter of `GET /cpe-mappings`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MappingQuery {
    status: Option<String>,
}

/// The mapping table.
#[derive(Serialize)]
pub(super) struct MappingsOut {
    items: Vec<CpeMapping>,
}

/// `GET /cpe-mappings?status=suggested|confirmed`.
pub(super) async fn mappings(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MappingQuery>,
) -> ApiResult<Json<MappingsOut>> {
    user.require(Action::ViewVulnerabilities)?;
    Ok(Json(MappingsOut {
        items: state.store.cpe_mappings(q.status.as_deref()).await?,
    }))
}

/// The body of `POST /cpe-mappings/{id}/confirm` (none needed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfirmInput {}

impl ApiInput for ConfirmInput {}

/// The body of `POST /cpe-mappings/{id}/correct`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CorrectInput {
    /// CPE 2.3 names (version `*` takes the installed version); empty: the software has no CPE.
    pub cpes: Vec<String>,
}

impl ApiInput for CorrectInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "name_key",
        "publisher_key",
        "sample_name",
        "sample_publisher",
        "sample_version",
        "status",
        "suggested_by",
        "terminals",
        "confirmed_by",
        "confirmed_at",
        "updated_at",
    ];

    fn shape_error(key: &str) -> Option<String> {
        (key == "cpes").then(|| {
            "「cpes」は CPE 2.3 の文字列の配列（例: [\"cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*\"]）で指定してください。"
                .to_string()
        })
    }
}

/// `POST /cpe-mappings/{id}/confirm`: confirms the suggestion as it is.
pub(super) async fn confirm(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(_): ApiJson<ConfirmInput>,
) -> ApiResult<Json<CpeMapping>> {
    Ok(Json(
        state
            .store
            .confirm_cpe_mapping(&user.actor(), id, None)
            .await?,
    ))
}

/// `POST /cpe-mappings/{id}/correct`: replaces the CPE names and confirms them.
pub(super) async fn correct(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<CorrectInput>,
) -> ApiResult<Json<CpeMapping>> {
    Ok(Json(
        state
            .store
            .confirm_cpe_mapping(&user.actor(), id, Some(&input.cpes))
            .await?,
    ))
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resp(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn q(name: &str, t: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": t}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// Paths and schemas, for `openapi.json`.
pub(super) fn document(doc: &mut Value) {
    let view = "脆弱性情報の閲覧権限（全ロール）が必要です。";
    let review = "ソフトウェアとCPEの対応表の確認・修正の権限（県管理者・SE）が必要です。変更は監査ログ（cpe_mapping.confirm / cpe_mapping.correct）に記録されます。";
    if let Some(paths) = doc.pointer_mut("/paths").and_then(Value::as_object_mut) {
        paths.insert("/feeds".into(), json!({"get": {
            "tags": ["vulnerabilities"], "operationId": "list_feeds",
            "summary": "脆弱性情報の鮮度（NVD・JVN・OSV・RustSec）と最近の取込",
            "description": format!("{view} 最新レコードが stale_days 日より古い、または未取込の情報源は stale=true です（「脆弱性なし」とは扱いません）。取り込みはファイルで行います（画面または unyo feed import）。"),
            "responses": {"200": ok("鮮度と取込履歴", r("Feeds")), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal")},
        }}));
        paths.insert("/vulnerabilities".into(), json!({"get": {
            "tags": ["vulnerabilities"], "operationId": "list_vulnerabilities",
            "summary": "脆弱性情報の一覧（深刻度・公開日の順）",
            "description": view,
            "parameters": [
                q("q", "string", "ID・別名・表題の部分一致"),
                q("feed", "string", "nvd / jvn / osv / rustsec"),
                q("severity", "string", "critical / high / medium / low / none"),
                q("with_findings", "boolean", "未対応・対応中の検出がある脆弱性だけ"),
                {"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"},
            ],
            "responses": {"200": ok("脆弱性情報の1ページ", r("VulnerabilityPage")), "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal")},
        }}));
        paths.insert("/vulnerabilities/{id}".into(), json!({
            "parameters": [{"name": "id", "in": "path", "required": true, "description": "CVE-…、JVNDB-…、GHSA-…、RUSTSEC-…", "schema": {"type": "string"}}],
            "get": {
                "tags": ["vulnerabilities"], "operationId": "get_vulnerability",
                "summary": "脆弱性情報1件（正規化したレコード、関連レコード（JVN の日本語の説明など）、以前の版の履歴）",
                "description": view,
                "responses": {"200": ok("脆弱性情報", r("VulnerabilityDetail")), "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "500": resp("Internal")},
            },
        }));
        paths.insert("/findings".into(), json!({"get": {
            "tags": ["vulnerabilities"], "operationId": "list_findings",
            "summary": "検出結果の一覧（端末または unyo 自身 × ソフトウェア × 脆弱性）",
            "description": format!("{view} 未対応・対応中を先に、深刻度と対応期限の順に返します。"),
            "parameters": [
                q("terminal_id", "integer", "端末のID"),
                q("status", "string", "open（未対応）/ in_progress（対応中）/ resolved（対応済）/ accepted（リスク受容）/ withdrawn（取下げ）/ active（未対応と対応中）"),
                q("cve", "string", "脆弱性のID、またはその別名（CVE-2024-0519 など）"),
                q("subject", "string", "terminal / unyo"),
                q("severity", "string", "critical / high / medium / low / none"),
                q("software", "string", "ソフトウェア名の部分一致"),
                {"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"},
            ],
            "responses": {"200": ok("検出結果の1ページ", r("FindingPage")), "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal")},
        }}));
        paths.insert("/findings/{id}".into(), json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "tags": ["vulnerabilities"], "operationId": "get_finding",
                "summary": "検出結果1件と状態の履歴",
                "description": view,
                "responses": {"200": ok("検出結果", r("FindingWithEvents")), "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "500": resp("Internal")},
            },
        }));
        paths.insert("/cpe-mappings".into(), json!({"get": {
            "tags": ["vulnerabilities"], "operationId": "list_cpe_mappings",
            "summary": "ソフトウェアとCPEの対応表（提案と確認済み）",
            "description": format!("{view} 照合に使うのは確認済み（confirmed）の行だけです。"),
            "parameters": [q("status", "string", "suggested / confirmed")],
            "responses": {"200": ok("対応表", r("CpeMappingList")), "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal")},
        }}));
        paths.insert("/cpe-mappings/{id}/confirm".into(), json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "post": {
                "tags": ["vulnerabilities"], "operationId": "confirm_cpe_mapping",
                "summary": "提案どおりに確認する",
                "description": review,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": ok("確認した行", r("CpeMapping")), "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "415": resp("UnsupportedMediaType"), "422": resp("Validation"), "500": resp("Internal")},
            },
        }));
        paths.insert("/cpe-mappings/{id}/correct".into(), json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "post": {
                "tags": ["vulnerabilities"], "operationId": "correct_cpe_mapping",
                "summary": "CPE を修正して確認する（空の配列は「CPE なし（照合しない）」）",
                "description": review,
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("CpeMappingCorrection")}}},
                "responses": {"200": ok("修正した行", r("CpeMapping")), "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "415": resp("UnsupportedMediaType"), "422": resp("Validation"), "500": resp("Internal")},
            },
        }));
    }
    if let Some(tags) = doc.pointer_mut("/tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "vulnerabilities", "description": "脆弱性の監視（情報源の取込、検出結果、CPE対応表）"}));
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(schemas_map());
    }
}

fn page(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": r(item)},
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "pages": {"type": "integer"},
        },
    })
}

fn schemas_map() -> Map<String, Value> {
    let s = |d: &str| json!({"type": "string", "description": d});
    let os = |d: &str| json!({"type": ["string", "null"], "description": d});
    let oi = |d: &str| json!({"type": ["integer", "null"], "description": d});
    let mut m = Map::new();
    m.insert("FeedStatus".into(), json!({
        "type": "object", "required": ["feed", "last_import_at", "newest_record_at", "records", "stale"],
        "properties": {
            "feed": {"type": "string", "enum": ["nvd", "jvn", "osv", "rustsec"]},
            "last_import_at": os("最後に取り込んだ日時（UTC）"),
            "newest_record_at": os("取り込んだレコードの最新の更新日時（UTC）"),
            "records": {"type": "integer", "description": "保存しているレコード数"},
            "stale": {"type": "boolean", "description": "未取込、または最新レコードが古い"},
        },
    }));
    m.insert("FeedImport".into(), json!({
        "type": "object",
        "required": ["id", "feed", "file_name", "file_sha256", "status", "message", "records", "added", "updated", "newest_record_at", "imported_at", "imported_by"],
        "properties": {
            "id": {"type": "integer"}, "feed": s("nvd / jvn / osv / rustsec（認識できなかったファイルは空）"),
            "file_name": s("ファイル名"), "file_sha256": s("ファイルのSHA-256"),
            "status": {"type": "string", "enum": ["ok", "refused"]}, "message": s("拒否の理由、または読み飛ばした部分"),
            "records": {"type": "integer"}, "added": {"type": "integer"}, "updated": {"type": "integer"},
            "newest_record_at": os("ファイル内の最新レコードの日時（UTC）"),
            "imported_at": s("取込日時（UTC）"), "imported_by": s("取り込んだ利用者"),
        },
    }));
    m.insert(
        "Feeds".into(),
        json!({
            "type": "object", "required": ["stale_days", "feeds", "imports"],
            "properties": {
                "stale_days": {"type": "integer", "description": "この日数より古いと stale"},
                "feeds": {"type": "array", "items": r("FeedStatus")},
                "imports": {"type": "array", "items": r("FeedImport")},
            },
        }),
    );
    m.insert("Vulnerability".into(), json!({
        "type": "object",
        "required": ["id", "feed", "title", "severity", "cvss_version", "cvss_score", "aliases", "published", "last_modified", "rejected", "updated_at", "active_findings"],
        "properties": {
            "id": s("CVE-…、JVNDB-…、GHSA-…、RUSTSEC-…"), "feed": s("nvd / jvn / osv / rustsec"),
            "title": s("表題（日本語があれば日本語）"),
            "severity": {"type": "string", "enum": ["critical", "high", "medium", "low", "none"]},
            "cvss_version": os("深刻度の根拠にした CVSS の版（4.0 / 3.1 / 3.0 / 2.0）"),
            "cvss_score": {"type": ["number", "null"], "description": "基本値"},
            "aliases": s("別名（空白区切り）"), "published": os("公開日時（UTC）"), "last_modified": os("最終更新日時（UTC）"),
            "rejected": {"type": "boolean", "description": "取り下げ（Rejected / withdrawn）"},
            "updated_at": s("unyo に保存した日時（UTC）"),
            "active_findings": {"type": "integer", "description": "未対応・対応中の検出の数"},
        },
    }));
    m.insert("VulnerabilityPage".into(), page("Vulnerability"));
    m.insert("VulnerabilityDetail".into(), json!({
        "type": "object", "required": ["row", "record", "related", "history"],
        "properties": {
            "row": r("Vulnerability"),
            "record": {"type": "object", "description": "正規化したレコード（影響を受ける構成・パッケージ、CVSS、日本語の表題・説明を含む）"},
            "related": {"type": "array", "items": {"type": "object"}, "description": "このIDを別名に持つ、または別名に挙げられた他の情報源のレコード"},
            "history": {"type": "array", "items": {"type": "array"}, "description": "以前の版 [最終更新日時, 取下げ, 置き換えた日時]"},
        },
    }));
    let finding_props = json!({
        "id": {"type": "integer"},
        "subject": {"type": "string", "enum": ["terminal", "unyo"]},
        "terminal_id": oi("端末のID（unyo 自身は null）"), "hostname": os("ホスト名"), "site_name": os("拠点名"),
        "software": s("ソフトウェア名（インベントリの表記、unyo はクレート名）"), "product_key": s("CPE のベンダ:製品、または crates.io:名前"),
        "version": s("検出した版"), "fixed_version": os("更新先の版（情報源が示す場合）"),
        "vulnerability_id": s("脆弱性のID"), "title": s("脆弱性の表題"),
        "severity": {"type": "string", "enum": ["critical", "high", "medium", "low", "none"]},
        "cvss_score": {"type": ["number", "null"]},
        "status": {"type": "string", "enum": ["open", "in_progress", "resolved", "accepted", "withdrawn"]},
        "resolution": os("inventory（後のインベントリで確認）/ removed（アンインストール）/ campaign / rejected"),
        "inventory_id": oi("根拠のインベントリ"), "campaign_id": oi("展開"), "consultation_id": oi("リスク受容の協議記録"),
        "accepted_until": os("リスク受容の期限（YYYY-MM-DD）"), "due_date": os("対応期限（YYYY-MM-DD、深刻度から）"),
        "note": s("備考"), "first_seen_at": s("初めて検出した日時（UTC）"), "last_seen_at": s("最後に検出した日時（UTC）"),
        "updated_at": s("更新日時（UTC）"), "updated_by": s("更新者"),
    });
    let required: Vec<String> = finding_props
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    m.insert(
        "Finding".into(),
        json!({"type": "object", "required": required, "properties": finding_props}),
    );
    m.insert("FindingPage".into(), page("Finding"));
    let mut with_events = finding_props.clone();
    if let Some(o) = with_events.as_object_mut() {
        o.insert("events".into(), json!({"type": "array", "items": {
            "type": "object", "required": ["at", "actor", "from_status", "to_status", "version", "note"],
            "properties": {"at": s("日時（UTC）"), "actor": s("利用者"), "from_status": os("変更前"), "to_status": s("変更後"), "version": s("その時点の版"), "note": s("理由")},
        }}));
    }
    m.insert(
        "FindingWithEvents".into(),
        json!({"type": "object", "properties": with_events}),
    );
    m.insert("CpeMapping".into(), json!({
        "type": "object",
        "required": ["id", "name_key", "publisher_key", "sample_name", "sample_publisher", "sample_version", "cpes", "status", "suggested_by", "terminals", "confirmed_by", "confirmed_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"}, "name_key": s("版と括弧書きを除いた名前（小文字）"), "publisher_key": s("発行元（小文字）"),
            "sample_name": s("インベントリの名前の例"), "sample_publisher": s("発行元の例"), "sample_version": s("版の例"),
            "cpes": {"type": "array", "items": {"type": "string"}, "description": "CPE 2.3（版が * ならインストールされた版で照合）。空は照合しない"},
            "status": {"type": "string", "enum": ["suggested", "confirmed"]},
            "suggested_by": {"type": "string", "enum": ["known", "guess", "none", "person"]},
            "terminals": {"type": "integer", "description": "最新のインベントリに含む端末の数"},
            "confirmed_by": os("確認した利用者"), "confirmed_at": os("確認日時（UTC）"), "updated_at": s("更新日時（UTC）"),
        },
    }));
    m.insert("CpeMappingList".into(), json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": r("CpeMapping")}}}));
    m.insert("CpeMappingCorrection".into(), json!({
        "type": "object", "required": ["cpes"],
        "properties": {"cpes": {"type": "array", "items": {"type": "string"}, "description": "CPE 2.3 の配列（例: cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*）"}},
    }));
    m
}
