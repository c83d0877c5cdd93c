//! Inventories through the API: `GET /inventories` (summaries, newest first, by host name and/or
//! terminal) and `GET /inventories/{id}` (one inventory with its whole snapshot, its read audited as `inventory.read`). Both need
//! [`Action::ViewInventory`] (every role). Agents do not use this API: they report to `/ocsinventory`.

use super::auth::ApiUser;
use super::error::ApiResult;
use super::extract::{ApiId, ApiQuery};
use super::handlers::PageOut;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use unyo_domain::Action;
use unyo_store::inventory::{InventoryQuery, InventoryRecord, InventorySummary};

/// `GET /inventories?hostname=H&terminal_id=N&page=P&per_page=N`.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InventoryQuery>,
) -> ApiResult<Json<PageOut<InventorySummary>>> {
    user.require(Action::ViewInventory)?;
    Ok(Json(state.store.inventories(&q).await?.into()))
}

/// `GET /inventories/{id}`.
pub(super) async fn show(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<InventoryRecord>> {
    user.require(Action::ViewInventory)?;
    let record = state.store.inventory_record(id).await?;
    // Reading an inventory is audited (R12).
    state
        .store
        .audit_read(
            &user.actor(),
            "inventory",
            id,
            json!({"terminal_id": record.summary.terminal_id}),
        )
        .await?;
    Ok(Json(record))
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resp(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn opt(t: &str, description: &str) -> Value {
    json!({"type": [t, "null"], "description": description})
}

/// The two paths, for `openapi.json`.
pub(super) fn paths(paths: &mut Map<String, Value>) {
    let view = "インベントリの閲覧権限（全ロール）が必要です。";
    paths.insert(
        "/inventories".into(),
        json!({"get": {
            "tags": ["inventories"], "operationId": "list_inventories",
            "summary": "受信したインベントリの一覧（新しい順、ソフトウェア一覧を除く要約）",
            "description": format!("{view} 端末ごとに受信したすべてのインベントリが残ります。"),
            "parameters": [
                {"name": "hostname", "in": "query", "required": false,
                 "description": "報告されたホスト名（最初の「.」より前を大文字小文字を区別せず比較。例: PC01、pc01.example.lg.jp）",
                 "schema": {"type": "string"}},
                {"name": "terminal_id", "in": "query", "required": false, "description": "紐付いた端末のID", "schema": {"type": "integer"}},
                {"$ref": "#/components/parameters/page"},
                {"$ref": "#/components/parameters/per_page"},
            ],
            "responses": {
                "200": {"description": "インベントリの1ページ", "content": {"application/json": {"schema": r("InventorySummaryPage")}}},
                "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal"),
            },
        }}),
    );
    paths.insert(
        "/inventories/{id}".into(),
        json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "tags": ["inventories"], "operationId": "show_inventory",
                "summary": "インベントリ1件（要約とスナップショット全体）",
                "description": view,
                "responses": {
                    "200": {"description": "インベントリ", "content": {"application/json": {"schema": r("Inventory")}}},
                    "401": resp("Unauthorized"), "403": resp("Forbidden"), "404": resp("NotFound"), "500": resp("Internal"),
                },
            },
        }),
    );
}

/// The schemas the two paths use, for `openapi.json`.
pub(super) fn schemas() -> Map<String, Value> {
    let antivirus = json!({
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": s("製品名"),
            "company": opt("string", "提供元"),
            "version": opt("string", "エンジン（製品）のバージョン"),
            "base_version": opt("string", "定義ファイルのバージョン"),
            "base_date": opt("string", "定義ファイルの日付（エージェントの表記のまま）"),
            "enabled": opt("boolean", "リアルタイム保護が有効"),
            "up_to_date": opt("boolean", "定義が最新（Windows の判定）"),
            "expiration": opt("string", "ライセンスの有効期限"),
            "guid": opt("string", "セキュリティセンターのGUID"),
        },
    });
    let summary_props = json!({
        "id": {"type": "integer"},
        "terminal_id": opt("integer", "紐付いた端末（照合待ちのあいだは null）"),
        "terminal_hostname": opt("string", "紐付いた端末のホスト名"),
        "received_at": s("受信日時（UTC、RFC 3339）"),
        "source": {"type": "string", "enum": ["agent", "file", "upload"], "description": "受信方法"},
        "received_by": s("送信した利用者ID、またはエージェント（agent:ユーザー名）"),
        "matched_by": {"type": "string", "enum": ["uuid", "device_id", "serial", "hostname", "none", "linked", "registered"],
                       "description": "端末との照合方法（none は照合待ち）"},
        "device_id": opt("string", "エージェントのデバイスID"),
        "hostname": opt("string", "報告されたホスト名"),
        "uuid": opt("string", "UUID（大文字、既定値は null）"),
        "serial": opt("string", "製造番号（既定値は null）"),
        "format": {"type": "string", "enum": ["fusion", "glpi"]},
        "collected_at": opt("string", "収集日時（端末の時計、YYYY-MM-DD hh:mm:ss）"),
        "os_name": opt("string", "OS名"),
        "os_full_name": opt("string", "OSの製品名"),
        "os_version": opt("string", "OSのバージョン"),
        "os_build": opt("string", "OSのビルド（カーネルのバージョン）"),
        "software_count": {"type": "integer", "description": "ソフトウェアの数"},
        "antivirus": {"type": "array", "items": r("Antivirus")},
        "body_sha256": s("受信した本文のSHA-256"),
        "body_size": {"type": "integer", "description": "受信した本文の大きさ（バイト）"},
    });
    let summary_required: Vec<&str> = summary_props
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut full_props = summary_props.clone();
    if let Some(o) = full_props.as_object_mut() {
        o.insert("snapshot".into(), r("InventorySnapshot"));
    }
    let mut full_required = summary_required.clone();
    full_required.push("snapshot");
    let opt_s = |d: &str| opt("string", d);
    let snapshot = json!({
        "type": "object",
        "required": ["format", "os", "software", "antivirus", "ip_addresses", "mac_addresses", "partial"],
        "properties": {
            "format": {"type": "string", "enum": ["fusion", "glpi"]},
            "device_id": opt_s("エージェントのデバイスID"),
            "uuid": opt_s("UUID（報告のまま）"),
            "serial": opt_s("製造番号"),
            "hostname": opt_s("ホスト名"),
            "domain": opt_s("ドメイン／ワークグループ"),
            "os": {"type": "object", "properties": {
                "name": opt_s("OS名"), "version": opt_s("バージョン"), "full_name": opt_s("製品名"),
                "build": opt_s("ビルド"), "arch": opt_s("アーキテクチャ"), "service_pack": opt_s("サービスパック"),
            }},
            "software": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": s("名称"), "version": opt_s("バージョン"), "publisher": opt_s("発行元"),
                "install_date": opt_s("インストール日（エージェントの表記のまま）"), "arch": opt_s("アーキテクチャ"),
            }}},
            "antivirus": {"type": "array", "items": r("Antivirus")},
            "ip_addresses": {"type": "array", "items": {"type": "string"}},
            "mac_addresses": {"type": "array", "items": {"type": "string"}},
            "collected_at": opt_s("収集日時（端末の時計）"),
            "partial": {"type": "boolean", "description": "一部だけのインベントリ（GLPI の partial）"},
        },
    });
    let mut m = Map::new();
    m.insert("Antivirus".into(), antivirus);
    m.insert(
        "InventorySummary".into(),
        json!({"type": "object", "required": summary_required, "properties": summary_props}),
    );
    m.insert(
        "Inventory".into(),
        json!({"type": "object", "required": full_required, "properties": full_props}),
    );
    m.insert("InventorySnapshot".into(), snapshot);
    m.insert(
        "InventorySummaryPage".into(),
        json!({
            "type": "object",
            "required": ["items", "total", "page", "per_page", "pages"],
            "properties": {
                "items": {"type": "array", "items": r("InventorySummary")},
                "total": {"type": "integer", "description": "条件に合う件数（全ページ）"},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
            },
        }),
    );
    m
}
