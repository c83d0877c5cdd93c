//! `GET /api/v1/openapi.json`: the API described as OpenAPI 3.1.
//!
//! Being converted to a document derived from the types: the operations of [`super::tokens`] are
//! `#[utoipa::path]` attributes on their handlers and their schemas derive `ToSchema`, merged here by
//! [`merge_derived`]; the other modules' descriptions are still written by hand as JSON. [`tighten`]
//! then states, once for every operation, the rules the extractors enforce.
//!
//! A test walks [`super::endpoints`] (the table the router is built from) and checks that every
//! method and path is described here, and that nothing is described that is not served.

use super::extract::{ApiInput, paging_bounds};
use super::handlers::Registry;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use unyo_domain::Action;
use unyo_domain::registry::{NodeKind, SiteKind, TerminalKind};
use unyo_domain::support::{Category, Clause, RequestAction, RequestStatus, WorkMode};
use utoipa::OpenApi;

/// `GET /openapi.json` (no token needed).
pub(super) async fn serve() -> impl IntoResponse {
    static BODY: LazyLock<String> = LazyLock::new(|| document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], BODY.as_str())
}

fn r(name: &str) -> Value {
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

/// The shared response (under `#/components/responses`) of an error status.
fn shared_response(code: &str) -> Option<&'static str> {
    Some(match code {
        "400" => "BadRequest",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "409" => "Conflict",
        "413" => "PayloadTooLarge",
        "415" => "UnsupportedMediaType",
        "422" => "Validation",
        "500" => "Internal",
        _ => return None,
    })
}

/// Merges the operations and schemas derived from the handlers' and types' attributes (`utoipa`) into the
/// document. An error status of a derived operation becomes a reference to the shared response of that
/// status, so every operation answers errors alike.
fn merge_derived(doc: &mut Value, derived: utoipa::openapi::OpenApi) {
    let derived = serde_json::to_value(&derived).unwrap_or(Value::Null);
    if let (Some(paths), Some(items)) = (
        doc.get_mut("paths").and_then(Value::as_object_mut),
        derived.get("paths").and_then(Value::as_object),
    ) {
        for (path, item) in items {
            let target = paths.entry(path.clone()).or_insert_with(|| json!({}));
            for (method, op) in item.as_object().into_iter().flatten() {
                let mut op = op.clone();
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for (code, r) in responses.iter_mut() {
                        if let Some(name) = shared_response(code) {
                            *r = resp(name);
                        }
                    }
                }
                target[method] = op;
            }
        }
    }
    if let (Some(schemas), Some(derived)) = (
        doc.pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut),
        derived
            .pointer("/components/schemas")
            .and_then(Value::as_object),
    ) {
        schemas.extend(derived.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// Error responses: `401` and `500` always, plus the named ones.
fn errors(extra: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("401".into(), resp("Unauthorized"));
    for code in extra {
        let name = match *code {
            "400" => "BadRequest",
            "403" => "Forbidden",
            "404" => "NotFound",
            "409" => "Conflict",
            "413" => "PayloadTooLarge",
            "415" => "UnsupportedMediaType",
            "422" => "Validation",
            other => unreachable!("no response for {other}"),
        };
        m.insert((*code).into(), resp(name));
    }
    m.insert("500".into(), resp("Internal"));
    m
}

fn responses(success: &[(&str, Value)], errs: &[&str]) -> Value {
    let mut m = errors(errs);
    for (code, v) in success {
        m.insert((*code).into(), v.clone());
    }
    Value::Object(m)
}

const WRITE_ERRORS: [&str; 6] = ["400", "403", "409", "413", "415", "422"];

/// Descriptions of one registry (sites, terminals or nodes).
struct RegistryDoc {
    /// Path segment (`sites`).
    path: &'static str,
    /// Tag and Japanese name.
    tag: &'static str,
    ja: &'static str,
    /// Schema names of the record and its input.
    schema: &'static str,
    input: &'static str,
    /// Sort keys the list accepts.
    sort_keys: &'static [&'static str],
    /// Kind codes for the `kind` filter.
    kinds: Vec<&'static str>,
    /// Whether `site_id` filters the list.
    site_filter: bool,
}

fn registry_paths(d: &RegistryDoc, paths: &mut Map<String, Value>) {
    let RegistryDoc {
        path,
        tag,
        ja,
        schema,
        input,
        ..
    } = d;
    let mut list_params = vec![param("q")];
    if d.site_filter {
        list_params.push(param("site_id"));
    }
    list_params.push(json!({
        "name": "kind", "in": "query", "required": false,
        "description": "種別コードで絞り込みます。",
        "schema": {"type": "string", "enum": d.kinds},
    }));
    list_params.push(param("status"));
    list_params.push(json!({
        "name": "sort", "in": "query", "required": false,
        "description": "並べ替えの項目。省略すると登録順です。一覧に無い項目は 400 になります。",
        "schema": {"type": "string", "enum": d.sort_keys},
    }));
    list_params.extend([param("dir"), param("page"), param("per_page")]);
    let page_schema = format!("{schema}Page");

    paths.insert(
        format!("/{path}"),
        json!({
            "get": {
                "tags": [tag], "operationId": format!("list_{path}"),
                "summary": format!("{ja}の一覧（検索・絞り込み・並べ替え・ページ送り）"),
                "description": "台帳の閲覧権限（全ロール）が必要です。",
                "parameters": list_params,
                "responses": responses(&[("200", ok("一覧の1ページ", r(&page_schema)))], &["400", "403"]),
            },
            "post": {
                "tags": [tag], "operationId": format!("create_{path}"),
                "summary": format!("{ja}を登録"),
                "description": "台帳の登録権限（県管理者・SE）が必要です。監査ログに記録されます。",
                "requestBody": body(input),
                "responses": responses(&[("201", json!({
                    "description": "登録しました。",
                    "headers": {"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": r(schema)}},
                }))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        format!("/{path}/{{id}}"),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": [tag], "operationId": format!("get_{path}"),
                "summary": format!("{ja}を1件取得"),
                "responses": responses(&[("200", ok(ja, r(schema)))], &["403", "404"]),
            },
            "put": {
                "tags": [tag], "operationId": format!("update_{path}"),
                "summary": format!("{ja}を変更"),
                "description": "編集できる項目をすべて置き換えます（省略した項目は空になります）。取得した内容をそのまま送り返すこともでき、その場合 id や日時などの読み取り専用の項目は無視されます。廃止済みのデータは変更できません（409）。",
                "requestBody": body(input),
                "responses": responses(&[("200", ok("変更後のデータ", r(schema)))], &[&WRITE_ERRORS[..], &["404"]].concat()),
            },
        }),
    );
    paths.insert(
        format!("/{path}/{{id}}/retire"),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": [tag], "operationId": format!("retire_{path}"),
                "summary": format!("{ja}を廃止"),
                "description": "削除はせず廃止日時を記録します。理由は必須です。",
                "requestBody": body("RetireInput"),
                "responses": responses(&[("200", ok("廃止後のデータ", r(schema)))], &[&WRITE_ERRORS[..], &["404"]].concat()),
            },
        }),
    );
    paths.insert(
        format!("/{path}/{{id}}/history"),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": [tag], "operationId": format!("history_{path}"),
                "summary": format!("{ja}の変更履歴（監査ログ、新しい順）"),
                "parameters": [param("page"), param("per_page")],
                "responses": responses(&[("200", ok("監査ログの1ページ", r("AuditEntryPage")))], &["400", "403", "404"]),
            },
        }),
    );
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn page_schema(item: &str) -> Value {
    object(
        &["items", "total", "page", "per_page", "pages"],
        json!({
            "items": {"type": "array", "items": r(item)},
            "total": {"type": "integer", "description": "条件に合う件数（全ページ）"},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
        }),
    )
}

fn error_response(description: &str) -> Value {
    ok(description, r("Error"))
}

fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| code(*v)).collect()
}

/// The whole document.
pub fn document() -> Value {
    let instant = "保存日時（UTC、RFC 3339）";
    let registries = [
        RegistryDoc {
            path: "sites",
            tag: "sites",
            ja: "拠点",
            schema: "Site",
            input: "SiteInput",
            sort_keys: <super::handlers::Sites as Registry>::SORT_KEYS,
            kinds: codes(SiteKind::ALL, SiteKind::code),
            site_filter: false,
        },
        RegistryDoc {
            path: "terminals",
            tag: "terminals",
            ja: "端末",
            schema: "Terminal",
            input: "TerminalInput",
            sort_keys: <super::handlers::Terminals as Registry>::SORT_KEYS,
            kinds: codes(TerminalKind::ALL, TerminalKind::code),
            site_filter: true,
        },
        RegistryDoc {
            path: "nodes",
            tag: "nodes",
            ja: "ネットワーク機器",
            schema: "NetworkNode",
            input: "NodeInput",
            sort_keys: <super::handlers::Nodes as Registry>::SORT_KEYS,
            kinds: codes(NodeKind::ALL, NodeKind::code),
            site_filter: true,
        },
    ];

    let mut paths = Map::new();
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "tags": ["meta"], "operationId": "openapi",
            "summary": "このAPIの OpenAPI 3.1 定義（トークン不要）",
            "security": [],
            "responses": {"200": ok("OpenAPI 文書", json!({"type": "object"}))},
        }}),
    );
    paths.insert(
        "/me".into(),
        json!({"get": {
            "tags": ["meta"], "operationId": "me",
            "summary": "トークンの利用者",
            "responses": responses(&[("200", ok("利用者", r("Me")))], &[]),
        }}),
    );
    for d in &registries {
        registry_paths(d, &mut paths);
    }
    paths.insert(
        "/nodes/{id}/path".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["nodes"], "operationId": "node_path",
                "summary": "機器から集約ネットワークの中心までの経路（指定した機器が先頭、稼働中の機器のみ）",
                "responses": responses(&[("200", ok("経路", json!({"type": "array", "items": r("NetworkNode")})))], &["403", "404", "422"]),
            },
        }),
    );
    paths.insert(
        "/audit".into(),
        json!({"get": {
            "tags": ["audit"], "operationId": "audit_log",
            "summary": "監査ログ（新しい順）",
            "description": "監査ログの閲覧権限（県管理者・監査）が必要です。",
            "parameters": [
                {"name": "actor", "in": "query", "required": false, "description": "利用者ID（完全一致）", "schema": {"type": "string"}},
                {"name": "action", "in": "query", "required": false, "description": "操作名の前方一致（例: login で login.failure も該当）", "schema": {"type": "string"}},
                {"name": "entity", "in": "query", "required": false, "description": "対象の種類（site, terminal, node, user …）", "schema": {"type": "string"}},
                {"name": "entity_id", "in": "query", "required": false, "description": "対象のID", "schema": {"type": "string"}},
                {"name": "from", "in": "query", "required": false, "description": "開始日（日本時間、YYYY-MM-DD、その日を含む）", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": false, "description": "終了日（日本時間、YYYY-MM-DD、その日を含む）", "schema": {"type": "string", "format": "date"}},
                {"name": "q", "in": "query", "required": false, "description": "詳細（details）の部分一致", "schema": {"type": "string"}},
                param("page"),
                {"name": "per_page", "in": "query", "required": false, "description": "1ページの件数（1〜1000、既定50）", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
            ],
            "responses": responses(&[("200", ok("監査ログの1ページ", r("AuditEntryPage")))], &["400", "403"]),
        }}),
    );
    paths.insert(
        "/audit/verify".into(),
        json!({"get": {
            "tags": ["audit"], "operationId": "audit_verify",
            "summary": "監査ログのハッシュ連鎖を検証",
            "description": "監査ログの閲覧権限（県管理者・監査）が必要です。",
            "responses": responses(&[("200", ok("検証結果", r("ChainReport")))], &["403"]),
        }}),
    );

    support_paths(&mut paths);
    incident_paths(&mut paths);
    super::inventory::paths(&mut paths);
    super::registers::paths(&mut paths);

    let actions: Vec<Value> = Action::ALL
        .iter()
        .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
        .collect();

    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "unyo API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "住基ネット端末の運用管理（拠点・端末・集約ネットワーク機器の台帳、支援要請・作業記録・契約・協議記録、監査ログ）のJSON API。\n\n認証は `Authorization: Bearer <APIトークン>` です。Cookie は使わないため CSRF 対策は不要です。トークンが無い・無効な場合は 401 になり、無効なトークンの提示は監査ログ（api.auth_failure）に記録されます。\n\nエラーは `{\"error\": {\"code\", \"message\", \"fields\"}}` の形で、message は日本語です。個人番号・住民票コードと思われる番号を含む入力は 422 で拒否されます。",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "meta", "description": "API自体と利用者"},
            {"name": "sites", "description": "拠点"},
            {"name": "terminals", "description": "端末"},
            {"name": "nodes", "description": "集約ネットワークの機器"},
            {"name": "audit", "description": "監査ログ"},
            {"name": "requests", "description": "支援要請（要請→受付→対応中→完了→確認済／差戻し、取下げ）"},
            {"name": "work", "description": "作業記録"},
            {"name": "contracts", "description": "契約"},
            {"name": "consultations", "description": "協議記録"},
            {"name": "subcontracts", "description": "再委託の承認（R9）"},
            {"name": "materials", "description": "提供資料（受領・複製の許可・返却と確認、R10）"},
            {"name": "staff", "description": "従事者名簿（従事期間・誓約書・研修、R12）"},
            {"name": "workload", "description": "年度の作業時間の集計"},
            {"name": "incidents", "description": "障害対応（受付→原因調査→回避策→復旧作業→復旧確認（立会い）→完了、再開）"},
            {"name": "known_errors", "description": "既知の障害"},
            {"name": "inventories", "description": "端末から受信したインベントリ（OS・ソフトウェア・ウイルス対策）"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "unyo で発行したAPIトークン（unyo_ で始まる文字列）。",
                },
            },
            "parameters": {
                "id": {"name": "id", "in": "path", "required": true, "description": "ID", "schema": {"type": "integer"}},
                "q": {"name": "q", "in": "query", "required": false, "description": "キーワード（大文字小文字を区別しない部分一致）", "schema": {"type": "string"}},
                "site_id": {"name": "site_id", "in": "query", "required": false, "description": "拠点IDで絞り込みます。", "schema": {"type": "integer"}},
                "status": {"name": "status", "in": "query", "required": false, "description": "active: 稼働中（既定）、retired: 廃止済み、all: すべて", "schema": {"type": "string", "enum": ["active", "retired", "all"], "default": "active"}},
                "dir": {"name": "dir", "in": "query", "required": false, "description": "asc: 昇順（既定）、desc: 降順", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"}},
                "page": {"name": "page", "in": "query", "required": false, "description": "ページ番号（1から）", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                "per_page": {"name": "per_page", "in": "query", "required": false, "description": "1ページの件数（1〜500、既定50）", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
            },
            "responses": {
                "BadRequest": error_response("リクエストの形式が正しくありません（JSONの構文、クエリパラメータなど）。"),
                "Unauthorized": {
                    "description": "APIトークンが無い、または無効です。",
                    "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": r("Error")}},
                },
                "Forbidden": error_response("ロールにこの操作の権限がありません。"),
                "NotFound": error_response("データが見つかりません。"),
                "Conflict": error_response("既存のデータと矛盾します（重複、廃止済み、稼働中の端末がある拠点の廃止、その状態ではできない支援要請の操作など）。"),
                "PayloadTooLarge": error_response("リクエスト本文が大きすぎます（64 KiB まで）。"),
                "UnsupportedMediaType": error_response("リクエスト本文が application/json ではありません。"),
                "Validation": error_response("入力内容に誤りがあります。fields に項目ごとの理由があります。何も保存されていません。"),
                "Internal": error_response("システムエラー。原因はサーバーのログにのみ記録されます。"),
            },
            "schemas": {
                "Error": object(&["error"], json!({
                    "error": object(&["code", "message", "fields"], json!({
                        "code": {"type": "string", "enum": [
                            "validation", "not_found", "forbidden", "conflict", "unauthorized", "bad_request",
                            "internal", "method_not_allowed", "unsupported_media_type", "payload_too_large",
                        ]},
                        "message": s("日本語の説明"),
                        "fields": {"type": "array", "items": r("FieldError")},
                    })),
                })),
                "FieldError": object(&["field", "message"], json!({
                    "field": s("項目名（例: hostname）"),
                    "message": s("日本語の説明"),
                })),
                "Me": object(&["username", "display_name", "role", "role_label", "permissions"], json!({
                    "username": s("利用者ID"),
                    "display_name": s("表示名"),
                    "role": {"type": "string", "enum": ["admin", "staff", "se", "auditor"]},
                    "role_label": s("ロールの日本語名"),
                    "permissions": {"type": "array", "items": {"type": "string", "enum": actions}},
                })),
                "Site": object(&["id", "code", "name", "kind", "address", "phone", "uplink_node_id", "uplink_node_name", "note", "terminal_count", "created_at", "updated_at", "retired_at"], json!({
                    "id": {"type": "integer"},
                    "code": s("拠点コード（一意）"),
                    "name": s("拠点名"),
                    "kind": {"type": "string", "enum": codes(SiteKind::ALL, SiteKind::code)},
                    "address": s("所在地"),
                    "phone": s("電話番号"),
                    "uplink_node_id": nullable("integer"),
                    "uplink_node_name": nullable("string"),
                    "note": s("備考"),
                    "terminal_count": {"type": "integer", "description": "稼働中の端末の台数"},
                    "created_at": s(instant),
                    "updated_at": s(instant),
                    "retired_at": nullable("string"),
                })),
                "SiteInput": {
                    "type": "object",
                    "required": ["code", "name", "kind"],
                    "properties": {
                        "code": s("拠点コード（半角英数字・ハイフン・下線、32文字以内、一意）"),
                        "name": s("拠点名（100文字以内）"),
                        "kind": s(&format!("種別コードまたは日本語名（{}）", codes(SiteKind::ALL, SiteKind::code).join(", "))),
                        "address": s("所在地（200文字以内）"),
                        "phone": s("電話番号（半角数字とハイフン）"),
                        "uplink_node_id": {"type": ["integer", "null"], "description": "接続する機器のID（稼働中のもの）"},
                        "note": s("備考（2000文字以内、個人番号・住民票コードは不可）"),
                    },
                },
                "Terminal": object(&["id", "site_id", "site_code", "site_name", "hostname", "kind", "ip_address", "os_name", "os_version", "serial_number", "asset_number", "note", "created_at", "updated_at", "retired_at"], json!({
                    "id": {"type": "integer"},
                    "site_id": {"type": "integer"},
                    "site_code": s("設置拠点のコード"),
                    "site_name": s("設置拠点の名前"),
                    "hostname": s("ホスト名（大文字小文字を区別せず一意）"),
                    "kind": {"type": "string", "enum": codes(TerminalKind::ALL, TerminalKind::code)},
                    "ip_address": nullable("string"),
                    "os_name": s("OS"),
                    "os_version": s("OSバージョン"),
                    "serial_number": s("製造番号"),
                    "asset_number": s("備品番号"),
                    "note": s("備考"),
                    "created_at": s(instant),
                    "updated_at": s(instant),
                    "retired_at": nullable("string"),
                })),
                "TerminalInput": {
                    "type": "object",
                    "required": ["site_id", "hostname", "kind"],
                    "properties": {
                        "site_id": {"type": "integer", "description": "設置拠点のID（稼働中のもの）"},
                        "hostname": s("ホスト名（RFC 1123、大文字小文字を区別せず一意）"),
                        "kind": s(&format!("種別コードまたは日本語名（{}）", codes(TerminalKind::ALL, TerminalKind::code).join(", "))),
                        "ip_address": s("IPアドレス（空なら未設定）"),
                        "os_name": s("OS（100文字以内）"),
                        "os_version": s("OSバージョン（100文字以内）"),
                        "serial_number": s("製造番号（100文字以内）"),
                        "asset_number": s("備品番号（100文字以内）"),
                        "note": s("備考（2000文字以内、個人番号・住民票コードは不可）"),
                    },
                },
                "NetworkNode": object(&["id", "name", "kind", "site_id", "site_name", "ip_address", "upstream_id", "upstream_name", "note", "created_at", "updated_at", "retired_at"], json!({
                    "id": {"type": "integer"},
                    "name": s("機器名（一意）"),
                    "kind": {"type": "string", "enum": codes(NodeKind::ALL, NodeKind::code)},
                    "site_id": nullable("integer"),
                    "site_name": nullable("string"),
                    "ip_address": nullable("string"),
                    "upstream_id": nullable("integer"),
                    "upstream_name": nullable("string"),
                    "note": s("備考"),
                    "created_at": s(instant),
                    "updated_at": s(instant),
                    "retired_at": nullable("string"),
                })),
                "NodeInput": {
                    "type": "object",
                    "required": ["name", "kind"],
                    "properties": {
                        "name": s("機器名（100文字以内、一意）"),
                        "kind": s(&format!("種別コードまたは日本語名（{}）", codes(NodeKind::ALL, NodeKind::code).join(", "))),
                        "site_id": {"type": ["integer", "null"], "description": "設置拠点のID"},
                        "ip_address": s("管理用IPアドレス（空なら未設定）"),
                        "upstream_id": {"type": ["integer", "null"], "description": "上位機器のID（循環は不可）"},
                        "note": s("備考（2000文字以内、個人番号・住民票コードは不可）"),
                    },
                },
                "RetireInput": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {"reason": s("廃止の理由（必須、個人番号・住民票コードは不可）")},
                },
                "AuditEntry": object(&["id", "at", "actor", "action", "entity", "entity_id", "details", "source", "prev_hash", "hash"], json!({
                    "id": {"type": "integer"},
                    "at": s(instant),
                    "actor": s("操作した利用者ID（system、無効なトークンでは anonymous）"),
                    "action": s("操作名（例: terminal.create, api.auth_failure）"),
                    "entity": s("対象の種類（無ければ空）"),
                    "entity_id": s("対象のID（無ければ空）"),
                    "details": s("詳細（JSONを文字列にしたもの。ハッシュの計算対象そのもの）"),
                    "source": s("接続元のアドレス、cli など"),
                    "prev_hash": s("直前の記録のハッシュ"),
                    "hash": s("この記録のハッシュ（SHA-256）"),
                })),
                "ChainReport": {
                    "type": "object",
                    "required": ["intact", "message"],
                    "properties": {
                        "intact": {"type": "boolean"},
                        "entries": {"type": "integer", "description": "検証した件数（intact のとき）"},
                        "head": s("最後の記録のハッシュ（intact のとき）"),
                        "broken_id": {"type": "integer", "description": "最初に連鎖が壊れている記録（intact でないとき）"},
                        "reason": s("壊れている理由（intact でないとき）"),
                        "message": s("日本語の説明"),
                    },
                },
                "SitePage": page_schema("Site"),
                "TerminalPage": page_schema("Terminal"),
                "NetworkNodePage": page_schema("NetworkNode"),
                "AuditEntryPage": page_schema("AuditEntry"),
            },
        },
    });
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(support_schemas());
        schemas.extend(incident_schemas());
        schemas.extend(super::inventory::schemas());
        schemas.extend(super::registers::schemas());
    }
    super::campaigns::document(&mut doc);
    super::checks::document(&mut doc);
    super::records::document(&mut doc);
    merge_derived(&mut doc, super::tokens::TokensApi::openapi());
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "tokens", "description": "APIトークン（一覧・失効）"}));
    }
    super::erasures::document(&mut doc);
    super::vulns::document(&mut doc);
    tighten(&mut doc);
    doc
}

/// Keys of the record an input schema accepts and ignores ([`ApiInput::READ_ONLY`]), by schema name.
fn read_only_keys() -> Vec<(&'static str, &'static [&'static str])> {
    use super::checks::{ChannelInput, WindowInput};
    use super::vulns::CorrectInput;
    use unyo_domain::campaign::CampaignInput;
    use unyo_domain::connectivity::CheckInput;
    use unyo_domain::contract_registers::{MaterialInput, StaffInput, SubcontractInput};
    use unyo_domain::erasure::ErasureInput;
    use unyo_domain::incident::{IncidentInput, KnownErrorInput};
    use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
    use unyo_domain::support::{ConsultationInput, ContractInput, RequestInput, WorkInput};
    vec![
        ("SiteInput", SiteInput::READ_ONLY),
        ("TerminalInput", TerminalInput::READ_ONLY),
        ("NodeInput", NodeInput::READ_ONLY),
        ("RequestInput", RequestInput::READ_ONLY),
        ("WorkInput", WorkInput::READ_ONLY),
        ("ContractInput", ContractInput::READ_ONLY),
        ("ConsultationInput", ConsultationInput::READ_ONLY),
        ("CampaignInput", CampaignInput::READ_ONLY),
        ("CheckInput", CheckInput::READ_ONLY),
        ("MaintenanceWindowInput", WindowInput::READ_ONLY),
        ("NotificationChannelInput", ChannelInput::READ_ONLY),
        ("ErasureInput", ErasureInput::READ_ONLY),
        ("IncidentInput", IncidentInput::READ_ONLY),
        ("KnownErrorInput", KnownErrorInput::READ_ONLY),
        ("SubcontractInput", SubcontractInput::READ_ONLY),
        ("MaterialInput", MaterialInput::READ_ONLY),
        ("StaffInput", StaffInput::READ_ONLY),
        ("CpeMappingCorrection", CorrectInput::READ_ONLY),
    ]
}

/// The description of a key a body may carry back from what was read.
const READ_ONLY_NOTE: &str = "読み取り専用の項目です。送られても無視されます。";

/// States in the document the rules every request goes through ([`super::extract`]), once for all
/// operations, so that the document and the server cannot disagree on them:
///
/// * a request body is an object whose unknown keys are refused (`additionalProperties: false`); the keys
///   of the record as returned are listed as accepted and ignored; an operation with a body may answer
///   400, 413, 415 and 422;
/// * an empty query parameter is refused (`minLength: 1`), and so is a `page`, `per_page` or `limit`
///   outside [`paging_bounds`];
/// * every integer is an `i64`.
fn tighten(doc: &mut Value) {
    let read_only = read_only_keys();
    let ro_of = |name: &str| -> &'static [&'static str] {
        read_only
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, keys)| *keys)
            .unwrap_or_default()
    };
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let ref_name = |v: &Value| -> Option<String> {
        v.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(str::to_owned)
    };
    let parameters = doc
        .pointer("/components/parameters")
        .cloned()
        .unwrap_or(Value::Null);
    let mut closed: Vec<String> = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (key, op) in item.iter_mut() {
                if key == "parameters" {
                    tighten_parameters(path, op);
                    continue;
                }
                if let Some(params) = op.get_mut("parameters") {
                    tighten_parameters(path, params);
                }
                // Query parameters go through `ApiQuery`, which refuses a bad one with 400.
                let queried = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        let p = match p.get("$ref").and_then(Value::as_str) {
                            Some(r) => r
                                .strip_prefix("#/components/parameters/")
                                .and_then(|n| parameters.get(n))
                                .unwrap_or(&Value::Null),
                            None => p,
                        };
                        p["in"] == "query"
                    })
                });
                if queried
                    && let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut)
                {
                    responses.entry("400").or_insert_with(|| resp("BadRequest"));
                }
                if op.get("requestBody").is_none() {
                    continue;
                }
                // Every body goes through `ApiJson`: malformed JSON (400), too large (413), not JSON
                // (415), a field refused (422).
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for (code, name) in [
                        ("400", "BadRequest"),
                        ("413", "PayloadTooLarge"),
                        ("415", "UnsupportedMediaType"),
                        ("422", "Validation"),
                    ] {
                        responses.entry(code).or_insert_with(|| resp(name));
                    }
                }
                let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema")
                else {
                    continue;
                };
                if let Some(name) = ref_name(&*schema) {
                    closed.push(name);
                } else if let Some(parts) = schema.get("allOf").and_then(Value::as_array).cloned() {
                    // A component plus more keys: one closed object (`additionalProperties` does not see
                    // through `allOf`). The component's read-only keys are not accepted here.
                    let mut properties = Map::new();
                    let mut required: Vec<Value> = Vec::new();
                    for part in &parts {
                        let (part, ro) = match ref_name(part) {
                            Some(n) => (schemas.get(&n).cloned().unwrap_or(Value::Null), ro_of(&n)),
                            None => (part.clone(), &[][..]),
                        };
                        if let Some(p) = part.get("properties").and_then(Value::as_object) {
                            for (k, v) in p {
                                if !ro.contains(&k.as_str()) {
                                    properties.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        if let Some(r) = part.get("required").and_then(Value::as_array) {
                            required.extend(r.iter().cloned());
                        }
                    }
                    *schema = json!({
                        "type": "object",
                        "required": required,
                        "properties": properties,
                        "additionalProperties": false,
                    });
                } else if let Some(o) = schema.as_object_mut() {
                    o.entry("properties").or_insert_with(|| json!({}));
                    o.insert("additionalProperties".into(), json!(false));
                }
            }
        }
    }
    if let Some(components) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in closed {
            let ro = ro_of(&name);
            let Some(schema) = components.get_mut(&name).and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(props) = schema
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
            {
                for key in ro {
                    props
                        .entry((*key).to_owned())
                        .or_insert_with(|| json!({"description": READ_ONLY_NOTE}));
                }
            }
            schema.insert("additionalProperties".into(), json!(false));
        }
    }
    if let Some(params) = doc
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut)
    {
        for p in params.values_mut() {
            tighten_parameter("", p);
        }
    }
    for part in ["paths", "components"] {
        if let Some(v) = doc.get_mut(part) {
            bound_integers(v);
        }
    }
}

/// Every integer the API reads or writes is an `i64`: an integer schema without bounds gets those of
/// `i64` (a larger number is refused as not an integer of the API).
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let integer = match m.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
                _ => false,
            };
            if integer {
                m.entry("minimum").or_insert(json!(i64::MIN));
                m.entry("maximum").or_insert(json!(i64::MAX));
            }
            m.values_mut().for_each(bound_integers);
        }
        Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn tighten_parameters(path: &str, params: &mut Value) {
    if let Some(params) = params.as_array_mut() {
        for p in params {
            tighten_parameter(path, p);
        }
    }
}

/// One parameter (a `$ref` is left alone: its component is tightened once).
fn tighten_parameter(path: &str, p: &mut Value) {
    if p.get("in").and_then(Value::as_str) != Some("query") {
        return;
    }
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some((_, min, max)) = paging_bounds(path).into_iter().find(|(n, ..)| *n == name) {
        schema.insert("type".into(), json!("integer"));
        schema.insert("minimum".into(), json!(min));
        schema.insert("maximum".into(), json!(max));
        return;
    }
    let is_string = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string && !schema.contains_key("enum") {
        schema.entry("minLength").or_insert(json!(1));
    }
}

// ------------------------------------------------------------------------------------------------ support work

fn int() -> Value {
    json!({"type": "integer"})
}

fn ids(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "integer"}, "description": description})
}

fn enum_of(codes: Vec<&'static str>, description: &str) -> Value {
    json!({"type": "string", "enum": codes, "description": description})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn created(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "headers": {"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": r(schema)}},
    })
}

fn date_query(name: &str, description: &str) -> Value {
    query(
        name,
        &format!("{description}（YYYY-MM-DD または 和暦、その日を含む）"),
        json!({"type": "string"}),
    )
}

/// Paths of support requests, work entries, contracts, consultations and the workload.
fn support_paths(paths: &mut Map<String, Value>) {
    let view = "支援要請・作業記録の閲覧権限（全ロール）が必要です。";
    let write_404: Vec<&str> = [&WRITE_ERRORS[..], &["404"]].concat();
    paths.insert(
        "/requests".into(),
        json!({
            "get": {
                "tags": ["requests"], "operationId": "list_requests",
                "summary": "支援要請の一覧（絞り込み・ページ送り、状態ごとの件数つき、新しい順）",
                "description": format!("{view} 期限超過（overdue）は日本時間の今日で判定します。"),
                "parameters": [
                    query("status", "状態コード（日本語名も可）", enum_of(codes(RequestStatus::ALL, RequestStatus::code), "状態")),
                    query("category", "区分コード（日本語名も可）", enum_of(codes(Category::ALL, Category::code), "区分")),
                    param("site_id"),
                    query("assignee_id", "担当SEの利用者ID", int()),
                    query("requester_id", "要請者の利用者ID", int()),
                    date_query("from", "要請日または希望日がこの日以降"),
                    date_query("to", "要請日または希望日がこの日以前"),
                    query("open_only", "true: 確認済・取下げを除く", json!({"type": "boolean"})),
                    query("overdue_only", "true: 期限超過のみ（未完了で対応予定日または希望日が今日より前）", json!({"type": "boolean"})),
                    query("q", "番号・件名・内容・結果の部分一致", json!({"type": "string"})),
                    param("page"), param("per_page"),
                ],
                "responses": responses(&[("200", ok("一覧の1ページと状態ごとの件数", r("RequestPage")))], &["400", "403"]),
            },
            "post": {
                "tags": ["requests"], "operationId": "create_request",
                "summary": "支援要請を登録（要請日は日本時間の今日、番号は年度ごとの連番 R8-0001）",
                "description": "支援要請の登録権限（県管理者・県職員）が必要です。トークンの利用者が要請者になります。監査ログに記録されます。",
                "requestBody": body("RequestInput"),
                "responses": responses(&[("201", created("登録しました。", "Request"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/requests/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["requests"], "operationId": "get_request",
                "summary": "支援要請の詳細（対象拠点・端末、経過、作業記録、添付ファイルの情報、協議記録）",
                "description": view,
                "responses": responses(&[("200", ok("支援要請", r("RequestDetail")))], &["403", "404"]),
            },
        }),
    );
    paths.insert(
        "/requests/{id}/transitions".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["requests"], "operationId": "transition_request",
                "summary": "支援要請の状態を進める（受付・対応開始・完了報告・確認・差戻し・取下げ）",
                "description": "受付・対応開始・完了報告はSE、確認・差戻し・取下げは県職員（取下げは要請者本人）、県管理者はすべて行えます。ロールに許されない操作は 403、今の状態ではできない操作は 409（状態は変わりません）、受付の対応予定日・完了報告の結果・差戻しの理由が無い場合は 422 です。経過と監査ログに記録されます。",
                "requestBody": body("TransitionInput"),
                "responses": responses(&[("200", ok("変更後の支援要請", r("Request")))], &write_404),
            },
        }),
    );
    paths.insert(
        "/work-entries".into(),
        json!({
            "get": {
                "tags": ["work"], "operationId": "list_work_entries",
                "summary": "作業記録の一覧（絞り込み・ページ送り、合計時間つき、新しい順）",
                "description": view,
                "parameters": [
                    query("contract_id", "契約ID", int()),
                    date_query("from", "作業日がこの日以降"),
                    date_query("to", "作業日がこの日以前"),
                    query("worker_id", "作業者の利用者ID", int()),
                    param("site_id"),
                    query("terminal_id", "端末ID", int()),
                    query("category", "区分コード（日本語名も可）", enum_of(codes(Category::ALL, Category::code), "区分")),
                    query("request_id", "支援要請ID", int()),
                    query("q", "作業内容・結果・今後の対応の部分一致", json!({"type": "string"})),
                    param("page"), param("per_page"),
                ],
                "responses": responses(&[("200", ok("一覧の1ページと条件に合う全件の合計時間", r("WorkEntryPage")))], &["400", "403"]),
            },
            "post": {
                "tags": ["work"], "operationId": "create_work_entry",
                "summary": "作業記録を登録",
                "description": "作業記録の登録権限（県管理者・SE）が必要です。SEは契約の担当者である必要があります。終了は開始より後、同じ作業者の記録と時間が重ならないこと、契約期間内、端末は選んだ拠点のものであることを確認し、誤りは 422（項目ごとの日本語の理由）で何も保存しません。監査ログに記録されます。",
                "requestBody": body("WorkInput"),
                "responses": responses(&[("201", created("登録しました。", "WorkEntry"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/work-entries/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["work"], "operationId": "get_work_entry",
                "summary": "作業記録を1件取得",
                "description": view,
                "responses": responses(&[("200", ok("作業記録", r("WorkEntry")))], &["403", "404"]),
            },
            "put": {
                "tags": ["work"], "operationId": "update_work_entry",
                "summary": "作業記録を変更",
                "description": "登録と同じ確認をします（自分自身の元の時間は重なりの判定から除きます）。編集できる項目をすべて置き換えます。取得した内容をそのまま送り返すこともでき、読み取り専用の項目は無視されます。監査ログに変更点が記録されます。",
                "requestBody": body("WorkInput"),
                "responses": responses(&[("200", ok("変更後の作業記録", r("WorkEntry")))], &write_404),
            },
        }),
    );
    paths.insert(
        "/contracts".into(),
        json!({
            "get": {
                "tags": ["contracts"], "operationId": "list_contracts",
                "summary": "契約の一覧（契約期間の新しい順、担当者つき）",
                "description": view,
                "responses": responses(&[("200", ok("すべての契約", r("ContractPage")))], &["403"]),
            },
            "post": {
                "tags": ["contracts"], "operationId": "create_contract",
                "summary": "契約を登録",
                "description": "契約の管理権限（県管理者）が必要です。監査ログに記録されます。",
                "requestBody": body("ContractInput"),
                "responses": responses(&[("201", created("登録しました。", "Contract"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/contracts/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["contracts"], "operationId": "get_contract",
                "summary": "契約を1件取得",
                "description": view,
                "responses": responses(&[("200", ok("契約", r("Contract")))], &["403", "404"]),
            },
            "put": {
                "tags": ["contracts"], "operationId": "update_contract",
                "summary": "契約と担当者を変更",
                "description": "契約の管理権限（県管理者）が必要です。登録済みの作業記録が新しい契約期間の外になる変更は 409 です。",
                "requestBody": body("ContractInput"),
                "responses": responses(&[("200", ok("変更後の契約", r("Contract")))], &write_404),
            },
        }),
    );
    paths.insert(
        "/contracts/{id}/route".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["contracts"], "operationId": "get_contract_route",
                "summary": "業務実績簿の確認ルートを取得",
                "description": view,
                "responses": responses(&[("200", ok("確認欄（確認する順）", json!({"type": "array", "items": r("RouteStep")})))], &["403", "404"]),
            },
            "put": {
                "tags": ["contracts"], "operationId": "update_contract_route",
                "summary": "業務実績簿の確認ルートを設定",
                "description": "契約の管理権限（県管理者）が必要です。確認欄は1～6列、名称は20文字以内で重複不可。担当者（user_id）を指定した欄はその利用者だけが確認でき、担当者は業務実績簿を確認できる県の利用者に限ります。これから提出される版に適用されます。",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["steps"], "properties": {"steps": {"type": "array", "items": r("RouteStep"), "description": "確認欄（確認する順）"}}}}}},
                "responses": responses(&[("200", ok("設定後の確認ルート", json!({"type": "array", "items": r("RouteStep")})))], &write_404),
            },
        }),
    );
    paths.insert(
        "/consultations".into(),
        json!({
            "get": {
                "tags": ["consultations"], "operationId": "list_consultations",
                "summary": "協議記録の一覧（協議日の新しい順。request_id を指定すると古い順）",
                "description": view,
                "parameters": [
                    query("contract_id", "契約ID", int()),
                    date_query("from", "協議日がこの日以降"),
                    date_query("to", "協議日がこの日以前"),
                    query("request_id", "この支援要請に関係する協議記録のみ", int()),
                ],
                "responses": responses(&[("200", ok("条件に合うすべての協議記録", r("ConsultationPage")))], &["400", "403"]),
            },
            "post": {
                "tags": ["consultations"], "operationId": "create_consultation",
                "summary": "協議記録を登録（R18）",
                "description": "協議記録の登録権限（県管理者・県職員・SE）が必要です。監査ログに記録されます。",
                "requestBody": body("ConsultationInput"),
                "responses": responses(&[("201", created("登録しました。", "Consultation"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/consultations/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["consultations"], "operationId": "get_consultation",
                "summary": "協議記録を1件取得",
                "description": view,
                "responses": responses(&[("200", ok("協議記録", r("Consultation")))], &["403", "404"]),
            },
        }),
    );
    paths.insert(
        "/workload".into(),
        json!({
            "get": {
                "tags": ["workload"], "operationId": "workload",
                "summary": "年度の作業時間（区分別・仕様書1(6)①～⑤別 × 月別、分単位）",
                "description": format!("{view} 審議会資料や業務実績簿の集計に使う数値です。"),
                "parameters": [
                    query("fiscal_year", "年度の開始年（2026 = 令和8年度）。省略時は日本時間の今日を含む年度", json!({"type": "integer", "minimum": 1989, "maximum": 9998})),
                    query("contract_id", "契約ID（省略時はすべての契約）", int()),
                ],
                "responses": responses(&[("200", ok("集計", r("Workload")))], &["400", "403", "404"]),
            },
        }),
    );
}

/// Schemas of support work.
fn support_schemas() -> Map<String, Value> {
    let instant = "保存日時（UTC、RFC 3339）";
    let date = "日付（YYYY-MM-DD、日本時間）";
    let statuses = codes(RequestStatus::ALL, RequestStatus::code);
    let categories = codes(Category::ALL, Category::code);
    let clauses = codes(Clause::ALL, Clause::code);
    let modes = codes(WorkMode::ALL, WorkMode::code);
    let actions = codes(RequestAction::ALL, RequestAction::code);
    let mut event_actions = vec!["file"];
    event_actions.extend(actions.iter().copied());
    let status_counts: Map<String, Value> =
        statuses.iter().map(|s| ((*s).to_string(), int())).collect();
    let per_month = json!({"type": "array", "items": {"type": "integer"}, "minItems": 12, "maxItems": 12, "description": "4月から翌年3月までの12か月分（分）"});

    let mut request_page = page_schema("Request");
    request_page["required"] = json!(["items", "total", "page", "per_page", "pages", "counts"]);
    request_page["properties"]["counts"] = json!({
        "type": "object",
        "description": "状態ごとの件数（status・open_only 以外の条件で数えたもの、0件の状態も含む）",
        "properties": status_counts,
    });
    let mut work_page = page_schema("WorkEntry");
    work_page["required"] = json!([
        "items",
        "total",
        "page",
        "per_page",
        "pages",
        "total_minutes",
        "total_hours"
    ]);
    work_page["properties"]["total_minutes"] = json!({"type": "integer", "description": "条件に合う全件（全ページ）の作業時間の合計（分）"});
    work_page["properties"]["total_hours"] = s("同じ合計を時間で（例: 1.5）");

    let schemas = json!({
        "Request": object(&["id", "number", "fiscal_year", "title", "category", "status", "description", "wished_date", "filed_on", "requester_id", "requester", "requester_name", "assignee_id", "assignee_name", "planned_date", "result", "created_at", "updated_at", "accepted_at", "started_at", "completed_at", "confirmed_at", "closed_at", "sites", "overdue"], json!({
            "id": int(),
            "number": s("要請番号（年度の和暦略号と年度内の連番、例: R8-0001）"),
            "fiscal_year": {"type": "integer", "description": "年度（開始年、2026 = 令和8年度）"},
            "title": s("件名"),
            "category": enum_of(categories.clone(), "区分"),
            "status": enum_of(statuses.clone(), "状態（requested: 要請、accepted: 受付、in_progress: 対応中、completed: 完了、confirmed: 確認済、returned: 差戻し、withdrawn: 取下げ）"),
            "description": s("内容"),
            "wished_date": nullable("string"),
            "filed_on": s(&format!("要請日 {date}")),
            "requester_id": nullable("integer"),
            "requester": s("要請者の利用者ID"),
            "requester_name": s("要請者の表示名"),
            "assignee_id": nullable("integer"),
            "assignee_name": nullable("string"),
            "planned_date": {"type": ["string", "null"], "description": "対応予定日（受付時に設定）"},
            "result": s("対応結果（最新の完了報告）"),
            "created_at": s(instant),
            "updated_at": s(instant),
            "accepted_at": nullable("string"),
            "started_at": nullable("string"),
            "completed_at": nullable("string"),
            "confirmed_at": nullable("string"),
            "closed_at": {"type": ["string", "null"], "description": "確認済または取下げの日時"},
            "sites": s("対象拠点名（「、」区切り）"),
            "overdue": {"type": "boolean", "description": "期限超過（未完了で、対応予定日または希望日が今日より前）"},
        })),
        "RequestPage": request_page,
        "SiteRef": object(&["id", "code", "name"], json!({
            "id": int(), "code": s("拠点コード"), "name": s("拠点名"),
        })),
        "TerminalRef": object(&["id", "hostname", "kind", "site_id", "site_name"], json!({
            "id": int(), "hostname": s("ホスト名"),
            "kind": enum_of(codes(TerminalKind::ALL, TerminalKind::code), "種別"),
            "site_id": int(), "site_name": s("設置拠点名"),
        })),
        "RequestEvent": object(&["id", "request_id", "at", "actor_id", "actor", "actor_name", "action", "from_status", "to_status", "comment", "planned_date"], json!({
            "id": int(),
            "request_id": int(),
            "at": s(instant),
            "actor_id": nullable("integer"),
            "actor": s("操作した利用者ID"),
            "actor_name": s("操作した人の表示名"),
            "action": enum_of(event_actions, "file: 要請、その他は操作コード"),
            "from_status": {"type": ["string", "null"], "description": "操作前の状態（要請時は null）"},
            "to_status": enum_of(statuses.clone(), "操作後の状態"),
            "comment": s("コメント（完了報告の結果、差戻しの理由など）"),
            "planned_date": {"type": ["string", "null"], "description": "受付時の対応予定日"},
        })),
        "Attachment": object(&["id", "owner_kind", "owner_id", "filename", "content_type", "size", "sha256", "uploaded_by_id", "uploaded_by", "created_at"], json!({
            "id": int(),
            "owner_kind": {"type": "string", "enum": ["request", "work"]},
            "owner_id": int(),
            "filename": s("ファイル名"),
            "content_type": {"type": "string", "enum": ["image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain"], "description": "内容から判定した形式"},
            "size": {"type": "integer", "description": "バイト数"},
            "sha256": s("SHA-256（16進小文字）"),
            "uploaded_by_id": nullable("integer"),
            "uploaded_by": s("添付した利用者ID"),
            "created_at": s(instant),
        })),
        "RequestDetail": object(&["request", "sites", "terminals", "events", "work", "attachments", "consultations"], json!({
            "request": r("Request"),
            "sites": {"type": "array", "items": r("SiteRef")},
            "terminals": {"type": "array", "items": r("TerminalRef")},
            "events": {"type": "array", "items": r("RequestEvent"), "description": "経過（古い順）"},
            "work": {"type": "array", "items": r("WorkEntry"), "description": "この要請の作業記録（日時順）"},
            "attachments": {"type": "array", "items": r("Attachment"), "description": "添付ファイルの情報（内容は画面からダウンロード）"},
            "consultations": {"type": "array", "items": r("Consultation")},
        })),
        "RequestInput": {
            "type": "object",
            "required": ["title", "category", "description"],
            "properties": {
                "title": s("件名（200文字以内）"),
                "category": s(&format!("区分コードまたは日本語名（{}）", categories.join(", "))),
                "site_ids": ids("対象拠点のID（省略時は端末の設置拠点）"),
                "terminal_ids": ids("対象端末のID（拠点を指定した場合はその拠点の端末）"),
                "wished_date": s("希望日（YYYY-MM-DD または 和暦、空なら未指定）"),
                "description": s("内容（4000文字以内、個人番号・住民票コードは不可）"),
            },
        },
        "TransitionInput": {
            "type": "object",
            "required": ["action"],
            "properties": {
                "action": enum_of(actions.clone(), "accept: 受付、start: 対応開始、complete: 完了報告、confirm: 確認、return: 差戻し、withdraw: 取下げ"),
                "comment": s("コメント（完了報告では結果、差戻しでは理由が必須。4000文字以内）"),
                "planned_date": s("対応予定日（受付で必須。YYYY-MM-DD または 和暦）"),
            },
        },
        "WorkEntry": object(&["id", "contract_id", "contract_number", "work_date", "start_time", "end_time", "minutes", "mode", "site_id", "site_name", "category", "clause", "clause_set", "description", "result", "follow_up", "request_id", "request_number", "created_by", "created_at", "updated_at", "worker_ids", "workers", "terminal_ids", "terminals", "hours"], json!({
            "id": int(),
            "contract_id": int(),
            "contract_number": s("契約番号"),
            "work_date": s(&format!("作業日 {date}")),
            "start_time": s("開始時刻（HH:MM、日本時間）"),
            "end_time": s("終了時刻（HH:MM、日本時間）"),
            "minutes": {"type": "integer", "description": "作業時間（分）"},
            "mode": enum_of(modes.clone(), "onsite: 現地、remote: リモート"),
            "site_id": nullable("integer"),
            "site_name": nullable("string"),
            "category": enum_of(categories.clone(), "区分"),
            "clause": enum_of(clauses.clone(), "仕様書1(6)の①～⑤（SEの指定、なければ区分と代表端末を含むかで決まる）"),
            "clause_set": {"type": "boolean", "description": "SEが区分を指定したか（false: 作業種別と端末から自動）"},
            "description": s("作業内容"),
            "result": s("結果"),
            "follow_up": s("今後の対応"),
            "request_id": nullable("integer"),
            "request_number": nullable("string"),
            "created_by": s("記録した利用者ID"),
            "created_at": s(instant),
            "updated_at": s(instant),
            "worker_ids": ids("作業者の利用者ID"),
            "workers": s("作業者の表示名（「、」区切り）"),
            "terminal_ids": ids("対象端末のID"),
            "terminals": s("対象端末のホスト名（「, 」区切り）"),
            "hours": s("作業時間（時間、例: 1.5）"),
        })),
        "WorkEntryPage": work_page,
        "WorkInput": {
            "type": "object",
            "required": ["contract_id", "work_date", "start_time", "end_time", "worker_ids", "mode", "category", "description", "result"],
            "properties": {
                "contract_id": {"type": ["integer", "null"], "description": "契約ID（作業日が契約期間内であること）"},
                "work_date": s("作業日（YYYY-MM-DD または 和暦）"),
                "start_time": s("開始時刻（HH:MM、日本時間）"),
                "end_time": s("終了時刻（HH:MM、同じ日で開始より後）"),
                "worker_ids": ids("作業者の利用者ID（契約の担当者、1人以上）"),
                "mode": s("onsite（現地）または remote（リモート）。日本語名も可"),
                "site_id": {"type": ["integer", "null"], "description": "拠点ID（端末を指定する場合は必須）"},
                "terminal_ids": ids("端末ID（選んだ拠点の端末）"),
                "category": s(&format!("区分コードまたは日本語名（{}）", categories.join(", "))),
                "description": s("作業内容（4000文字以内）"),
                "result": s("結果（2000文字以内）"),
                "follow_up": s("今後の対応（2000文字以内）"),
                "request_id": {"type": ["integer", "null"], "description": "対応した支援要請のID（取下げ済みは不可）"},
            },
        },
        "StaffMember": object(&["contract_id", "user_id", "username", "display_name", "role", "disabled_at"], json!({
            "contract_id": int(), "user_id": int(),
            "username": s("利用者ID"), "display_name": s("表示名"),
            "role": {"type": "string", "enum": ["admin", "staff", "se", "auditor"]},
            "disabled_at": nullable("string"),
        })),
        "Contract": object(&["id", "name", "number", "term_start", "term_end", "contractor", "manager", "created_at", "updated_at", "staff"], json!({
            "id": int(),
            "name": s("業務名"),
            "number": s("契約番号"),
            "term_start": s(&format!("契約期間の初日 {date}")),
            "term_end": s(&format!("契約期間の末日（その日を含む） {date}")),
            "contractor": s("受託者"),
            "manager": s("作業責任者"),
            "created_at": s(instant),
            "updated_at": s(instant),
            "staff": {"type": "array", "items": r("StaffMember"), "description": "担当者"},
        })),
        "ContractPage": page_schema("Contract"),
        "ContractInput": {
            "type": "object",
            "required": ["name", "number", "term_start", "term_end", "contractor"],
            "properties": {
                "name": s("業務名（200文字以内）"),
                "number": s("契約番号（64文字以内、一意）"),
                "term_start": s("契約期間の初日（YYYY-MM-DD または 和暦、例: 令和8年4月1日）"),
                "term_end": s("契約期間の末日（初日以降）"),
                "contractor": s("受託者（200文字以内）"),
                "manager": s("作業責任者（100文字以内）"),
                "staff_ids": ids("担当者の利用者ID"),
            },
        },
        "RouteStep": {
            "type": "object",
            "required": ["label"],
            "properties": {
                "label": s("確認欄の名称（例: 係長、20文字以内）"),
                "user_id": {"type": ["integer", "null"], "description": "この欄を確認できる利用者（省略時は確認できる県の利用者なら誰でも）"},
            },
        },
        "RequestLink": object(&["id", "number", "title"], json!({
            "id": int(), "number": s("要請番号"), "title": s("件名"),
        })),
        "Consultation": object(&["id", "contract_id", "contract_number", "held_on", "participants", "topic", "agreed", "recorded_by", "created_at", "requests"], json!({
            "id": int(),
            "contract_id": int(),
            "contract_number": s("契約番号"),
            "held_on": s(&format!("協議日 {date}")),
            "participants": s("出席者"),
            "topic": s("協議事項"),
            "agreed": s("協議結果"),
            "recorded_by": s("記録した利用者ID"),
            "created_at": s(instant),
            "requests": {"type": "array", "items": r("RequestLink"), "description": "関係する支援要請"},
        })),
        "ConsultationPage": page_schema("Consultation"),
        "ConsultationInput": {
            "type": "object",
            "required": ["contract_id", "held_on", "participants", "topic", "agreed"],
            "properties": {
                "contract_id": {"type": ["integer", "null"], "description": "契約ID"},
                "held_on": s("協議日（YYYY-MM-DD または 和暦）"),
                "participants": s("出席者（所属と氏名、1000文字以内）"),
                "topic": s("協議事項（500文字以内）"),
                "agreed": s("協議結果（4000文字以内）"),
                "request_ids": ids("関係する支援要請のID"),
            },
        },
        "WorkloadMonth": object(&["year", "month", "label"], json!({
            "year": int(), "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "label": s("和暦の年月（例: 令和8年4月）"),
        })),
        "WorkloadRow": object(&["key", "label", "minutes", "total_minutes", "total_hours"], json!({
            "key": s("区分コード、または①～⑤の番号（1～5）"),
            "label": s("日本語名"),
            "mark": s("丸数字（①～⑤、by_clause のみ）"),
            "minutes": per_month,
            "total_minutes": {"type": "integer", "description": "年度の合計（分）"},
            "total_hours": s("年度の合計（時間、例: 12.5）"),
        })),
        "Workload": object(&["fiscal_year", "label", "contract_id", "months", "by_category", "by_clause", "month_totals", "total_minutes", "total_hours"], json!({
            "fiscal_year": {"type": "integer", "description": "年度（開始年）"},
            "label": s("年度の和暦表記（例: 令和8年度）"),
            "contract_id": nullable("integer"),
            "months": {"type": "array", "items": r("WorkloadMonth"), "description": "4月から翌年3月まで"},
            "by_category": {"type": "array", "items": r("WorkloadRow"), "description": "すべての区分（0分の区分も含む）"},
            "by_clause": {"type": "array", "items": r("WorkloadRow"), "description": "仕様書1(6)①～⑤"},
            "month_totals": per_month,
            "total_minutes": {"type": "integer", "description": "年度の合計（分）。by_category・by_clause・month_totals のどの合計とも一致します。"},
            "total_hours": s("年度の合計（時間）"),
        })),
    });
    match schemas {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

// ------------------------------------------------------------------------------------------------ incidents

/// Paths of incidents (障害対応) and the known-error library.
fn incident_paths(paths: &mut Map<String, Value>) {
    use unyo_domain::incident::{IncidentStage, Severity};
    let view = "障害の閲覧権限（全ロール）が必要です。";
    let write_404: Vec<&str> = [&WRITE_ERRORS[..], &["404"]].concat();
    paths.insert(
        "/incidents".into(),
        json!({
            "get": {
                "tags": ["incidents"], "operationId": "list_incidents",
                "summary": "障害の一覧（未完了を先に、認知日時の新しい順。絞り込み・ページ送り、段階ごとの件数つき）",
                "description": format!("{view} 経過時間（age_minutes）は認知から現在まで（完了したものは完了まで）です。"),
                "parameters": [
                    query("stage", "段階コード（日本語名も可）", enum_of(codes(IncidentStage::ALL, IncidentStage::code), "段階")),
                    query("open_only", "true: 完了を除く", json!({"type": "boolean"})),
                    query("severity", "重大度コード（日本語名も可）", enum_of(codes(Severity::ALL, Severity::code), "重大度")),
                    param("site_id"),
                    date_query("from", "発生日（日本時間）がこの日以降"),
                    date_query("to", "発生日（日本時間）がこの日以前"),
                    query("q", "障害番号・件名・状況・推定原因キーの部分一致", json!({"type": "string"})),
                    param("page"), param("per_page"),
                ],
                "responses": responses(&[("200", ok("一覧の1ページと段階ごとの件数", r("IncidentPage")))], &["400", "403"]),
            },
            "post": {
                "tags": ["incidents"], "operationId": "report_incident",
                "summary": "障害を報告（番号は認知日の年度ごとの連番 INC-R8-0001、段階は受付）",
                "description": "障害の報告権限（県管理者・県職員・SE）が必要です。時刻は日本時間で、未来の日時や 発生＞認知 は 422 です。同じ推定原因キーの障害が対応中なら 409 です。監査ログに記録されます。",
                "requestBody": body("IncidentInput"),
                "responses": responses(&[("201", created("報告しました。", "Incident"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/incidents/stats".into(),
        json!({
            "get": {
                "tags": ["incidents"], "operationId": "incident_stats",
                "summary": "年度の障害件数・MTTA・MTTR（月別・拠点別・年度、重大度別の件数）",
                "description": format!("{view} 発生日（日本時間）の月・年度で数えます。MTTAは認知→初動、MTTRは発生→復旧の平均（分、四捨五入）で、対象の障害が無い場合は null です。"),
                "parameters": [
                    query("fiscal_year", "年度の開始年（2026 = 令和8年度）。省略時は日本時間の今日を含む年度", json!({"type": "integer", "minimum": 1989, "maximum": 9998})),
                ],
                "responses": responses(&[("200", ok("集計", r("IncidentStats")))], &["400", "403"]),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["incidents"], "operationId": "get_incident",
                "summary": "障害の詳細（影響範囲、経過、紐付いた作業記録、既知の障害、立会い）",
                "description": view,
                "responses": responses(&[("200", ok("障害", r("IncidentDetail")))], &["403", "404"]),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}/transitions".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["incidents"], "operationId": "transition_incident",
                "summary": "障害の段階を進める（原因調査開始・回避策実施・復旧作業開始・復旧報告・復旧作業に戻す・完了・再開）、または立会いを記録（action: witness）",
                "description": "原因調査・回避策・復旧作業はSEと県管理者、完了はSE・県職員・県管理者、再開は報告できる人、立会い（witness）は県管理者・県職員が行えます。ロールに許されない操作は 403、今の段階ではできない操作は 409（段階は変わりません）です。立会いが記録されていない障害の完了は 409 で「復旧の立会い（立会者の氏名・所属・日時・所見）が記録されていないため完了できません。」と返します。回避策実施では回避策の内容（comment）・指導先・指導内容、復旧報告では復旧の内容、復旧作業に戻す・再開では理由が必須で、無い場合は 422 です。経過と監査ログに記録されます。応答は変更後の障害です。",
                "requestBody": body("IncidentTransitionInput"),
                "responses": responses(&[("200", ok("変更後の障害", r("Incident")))], &write_404),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}/witness".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["incidents"], "operationId": "witness_incident",
                "summary": "復旧の立会いを記録（立会者の氏名・所属・日時・所見はすべて必須）",
                "description": "障害復旧の立会い記録の権限（県管理者・県職員）が必要です（SEは 403）。復旧確認の段階でのみ記録でき（それ以外は 409）、立会日時は復旧日時以降である必要があります。これにより完了できるようになります。監査ログに記録されます。",
                "requestBody": body("WitnessInput"),
                "responses": responses(&[("201", created("記録しました（立会いの経過）。", "IncidentEntry"))], &write_404),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}/entries".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["incidents"], "operationId": "add_incident_entry",
                "summary": "経過の記録を追加（調査所見・仮説・原因・回避策・指導・復旧作業・コメント、作業記録の紐付け）",
                "description": "コメントは報告できる人、それ以外はSEと県管理者が追加できます。種類ごとに記録できる段階が決まっており、段階に合わない記録は 409 です。監査ログに記録されます。",
                "requestBody": body("EntryInput"),
                "responses": responses(&[("201", created("追加しました。", "IncidentEntry"))], &write_404),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}/resolve".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["incidents"], "operationId": "resolve_incident_by_known_error",
                "summary": "既知の障害の回避策・対処により解決したことを記録",
                "description": "SEと県管理者が行えます。完了した障害は 409 です。段階は通常どおり進め、完了には立会いが必要です。",
                "requestBody": body("ResolveInput"),
                "responses": responses(&[("200", ok("変更後の障害", r("Incident")))], &write_404),
            },
        }),
    );
    paths.insert(
        "/incidents/{id}/known-error".into(),
        json!({
            "parameters": [param("id")],
            "post": {
                "tags": ["known_errors"], "operationId": "known_error_from_incident",
                "summary": "完了した障害から既知の障害を登録（件名・状況・原因・回避策から作成）",
                "description": "既知の障害の登録権限（県管理者・SE）が必要です。完了していない障害からは 409 です。監査ログに記録されます。",
                "responses": responses(&[("201", created("登録しました。", "KnownError"))], &["403", "404", "409"]),
            },
        }),
    );
    paths.insert(
        "/known-errors".into(),
        json!({
            "get": {
                "tags": ["known_errors"], "operationId": "list_known_errors",
                "summary": "既知の障害の一覧（新しい順、番号・件名・症状・原因・回避策の部分一致で検索）",
                "description": view,
                "parameters": [
                    query("q", "キーワード", json!({"type": "string"})),
                    param("page"), param("per_page"),
                ],
                "responses": responses(&[("200", ok("一覧の1ページ", r("KnownErrorPage")))], &["400", "403"]),
            },
            "post": {
                "tags": ["known_errors"], "operationId": "create_known_error",
                "summary": "既知の障害を登録（番号 KE-0001）",
                "description": "既知の障害の登録権限（県管理者・SE）が必要です。件名・症状と、原因または回避策・対処の少なくとも一方が必須です。監査ログに記録されます。",
                "requestBody": body("KnownErrorInput"),
                "responses": responses(&[("201", created("登録しました。", "KnownError"))], &WRITE_ERRORS),
            },
        }),
    );
    paths.insert(
        "/known-errors/{id}".into(),
        json!({
            "parameters": [param("id")],
            "get": {
                "tags": ["known_errors"], "operationId": "get_known_error",
                "summary": "既知の障害を1件取得（関連する障害つき）",
                "description": view,
                "responses": responses(&[("200", ok("既知の障害", r("KnownError")))], &["403", "404"]),
            },
        }),
    );
}

/// Schemas of incidents and known errors.
fn incident_schemas() -> Map<String, Value> {
    use unyo_domain::incident::{
        DetectionSource, EntryKind, IncidentAction, IncidentStage, Severity,
    };
    let instant = "保存日時（UTC、RFC 3339）";
    let at = |what: &str| json!({"type": ["string", "null"], "description": format!("{what}（UTC、RFC 3339）")});
    let minutes =
        |what: &str| json!({"type": ["integer", "null"], "description": format!("{what}（分）")});
    let stages = codes(IncidentStage::ALL, IncidentStage::code);
    let severities = codes(Severity::ALL, Severity::code);
    let sources = codes(DetectionSource::ALL, DetectionSource::code);
    let kinds = codes(EntryKind::ALL, EntryKind::code);
    let mut actions = codes(IncidentAction::ALL, IncidentAction::code);
    let stage_counts: Map<String, Value> =
        stages.iter().map(|s| ((*s).to_string(), int())).collect();
    let mut page = page_schema("Incident");
    page["required"] = json!(["items", "total", "page", "per_page", "pages", "counts"]);
    page["properties"]["counts"] = json!({
        "type": "object",
        "description": "段階ごとの件数（stage・open_only 以外の条件で数えたもの、0件の段階も含む）",
        "properties": stage_counts,
    });
    let figures = object(
        &[
            "count",
            "open",
            "recovered",
            "closed",
            "awaiting_close",
            "unrecovered",
            "acknowledged",
            "mtta_minutes",
            "mttr_minutes",
            "total_outage_minutes",
            "max_mttr_minutes",
        ],
        json!({
            "count": {"type": "integer", "description": "障害の件数"},
            "open": {"type": "integer", "description": "うち未完了（完了以外: 復旧済（確認待ち）と対応中）"},
            "closed": {"type": "integer", "description": "完了（closed・awaiting_close・unrecovered の和が count）"},
            "awaiting_close": {"type": "integer", "description": "復旧済（確認待ち）"},
            "unrecovered": {"type": "integer", "description": "対応中（未復旧）"},
            "recovered": {"type": "integer", "description": "復旧した件数（MTTRの対象）"},
            "acknowledged": {"type": "integer", "description": "初動のあった件数（MTTAの対象）"},
            "mtta_minutes": minutes("平均の認知→初動"),
            "mttr_minutes": minutes("平均の発生→復旧"),
            "total_outage_minutes": {"type": "integer", "description": "発生→復旧の合計（分）"},
            "max_mttr_minutes": minutes("最長の発生→復旧"),
        }),
    );
    let month = object(
        &["year", "month", "figures"],
        json!({
            "year": int(), "month": {"type": "integer", "minimum": 1, "maximum": 12}, "figures": r("IncidentFigures"),
        }),
    );
    let months = json!({"type": "array", "items": r("IncidentMonth"), "minItems": 12, "maxItems": 12, "description": "4月から翌年3月まで"});
    actions.push("witness");
    let schemas = json!({
        "Incident": object(&["id", "number", "fiscal_year", "title", "severity", "source", "stage", "description", "probable_cause", "known_error_id", "known_error_number", "resolved_by_known_error", "occurred_at", "noticed_at", "first_response_at", "workaround_at", "recovered_at", "closed_at", "witness_entry_id", "reopen_count", "created_by_id", "created_by", "created_by_name", "created_at", "updated_at", "sites", "age_minutes", "mtta_minutes", "mttr_minutes"], json!({
            "id": int(),
            "number": s("障害番号（認知日の年度の和暦略号と年度内の連番、例: INC-R8-0001）"),
            "fiscal_year": {"type": "integer", "description": "番号の年度（開始年）"},
            "title": s("件名"),
            "severity": enum_of(severities.clone(), "重大度（critical: 重大、high: 高、medium: 中、low: 低）"),
            "source": enum_of(sources.clone(), "検知経路（phone: 電話連絡、request: 支援要請、monitoring: 疎通監視、inspection: 巡回・点検、other: その他）"),
            "stage": enum_of(stages.clone(), "段階（reported: 受付、investigating: 原因調査、workaround: 回避策、recovering: 復旧作業、recovered: 復旧確認（立会い待ち）、closed: 完了）"),
            "description": s("状況"),
            "probable_cause": nullable("string"),
            "known_error_id": nullable("integer"),
            "known_error_number": nullable("string"),
            "resolved_by_known_error": {"type": "boolean"},
            "occurred_at": s("発生（UTC、RFC 3339）"),
            "noticed_at": s("認知（UTC、RFC 3339）"),
            "first_response_at": at("初動"),
            "workaround_at": at("回避"),
            "recovered_at": at("復旧"),
            "closed_at": at("完了"),
            "witness_entry_id": {"type": ["integer", "null"], "description": "現在の復旧の立会いの経過ID（あれば完了できる）"},
            "reopen_count": int(),
            "created_by_id": nullable("integer"),
            "created_by": s("報告した利用者ID（自動検知は system）"),
            "created_by_name": s("報告者の表示名"),
            "created_at": s(instant),
            "updated_at": s(instant),
            "sites": s("影響拠点名（「、」区切り）"),
            "age_minutes": {"type": "integer", "description": "認知からの経過（分、完了したものは完了まで）"},
            "mtta_minutes": minutes("認知→初動"),
            "mttr_minutes": minutes("発生→復旧"),
        })),
        "IncidentPage": page,
        "IncidentEntry": object(&["id", "incident_id", "kind", "stage", "action", "from_stage", "to_stage", "author_id", "author", "author_name", "at", "recorded_at", "text", "guidance_to", "guidance", "witness_name", "witness_org", "witnessed_at", "remark", "work_ids"], json!({
            "id": int(),
            "incident_id": int(),
            "kind": enum_of(kinds, "種類（report: 受付、stage: 段階変更、finding: 調査所見、hypothesis: 仮説、cause: 原因、workaround: 回避策・指導、recovery: 復旧作業、witness: 立会い、reopen: 再開、known_error: 既知の障害、comment: コメント）"),
            "stage": enum_of(stages.clone(), "記録時の段階（段階変更では変更後）"),
            "action": nullable("string"),
            "from_stage": nullable("string"),
            "to_stage": nullable("string"),
            "author_id": nullable("integer"),
            "author": s("記録した利用者ID"),
            "author_name": s("記録者の表示名"),
            "at": s("いつのことか（UTC、RFC 3339）"),
            "recorded_at": s(instant),
            "text": s("内容"),
            "guidance_to": s("指導先（回避策・指導）"),
            "guidance": s("指導内容（回避策・指導）"),
            "witness_name": nullable("string"),
            "witness_org": nullable("string"),
            "witnessed_at": nullable("string"),
            "remark": nullable("string"),
            "work_ids": ids("紐付けた作業記録のID"),
        })),
        "NodeRef": object(&["id", "name", "kind"], json!({"id": int(), "name": s("機器名"), "kind": s("種別")})),
        "KnownErrorLink": object(&["id", "number", "title"], json!({"id": int(), "number": s("KE-0001"), "title": s("件名")})),
        "IncidentLink": object(&["id", "number", "title", "stage"], json!({"id": int(), "number": s("障害番号"), "title": s("件名"), "stage": enum_of(stages.clone(), "段階")})),
        "IncidentDetail": object(&["incident", "sites", "terminals", "nodes", "entries", "work", "work_minutes", "known_error", "known_errors", "witness"], json!({
            "incident": r("Incident"),
            "sites": {"type": "array", "items": r("SiteRef")},
            "terminals": {"type": "array", "items": r("TerminalRef")},
            "nodes": {"type": "array", "items": r("NodeRef")},
            "entries": {"type": "array", "items": r("IncidentEntry"), "description": "経過（日時の古い順）"},
            "work": {"type": "array", "items": r("WorkEntry"), "description": "紐付いた作業記録（日時順）"},
            "work_minutes": {"type": "integer", "description": "作業時間の合計（分）"},
            "known_error": {"oneOf": [r("KnownError"), {"type": "null"}]},
            "known_errors": {"type": "array", "items": r("KnownErrorLink")},
            "witness": {"oneOf": [r("IncidentEntry"), {"type": "null"}], "description": "現在の復旧の立会い"},
        })),
        "IncidentInput": {
            "type": "object",
            "required": ["title", "severity", "source", "description"],
            "properties": {
                "title": s("件名（200文字以内）"),
                "severity": s(&format!("重大度コードまたは日本語名（{}）", severities.join(", "))),
                "source": s(&format!("検知経路コードまたは日本語名（{}）", sources.join(", "))),
                "occurred_at": s("発生日時（日本時間、例: 2026-05-12T09:30、和暦も可）。空なら認知日時と同じ"),
                "noticed_at": s("認知日時（日本時間）。空なら現在"),
                "site_ids": ids("影響拠点のID"),
                "terminal_ids": ids("影響端末のID"),
                "node_ids": ids("影響機器のID"),
                "description": s("状況（4000文字以内、個人番号・住民票コードは不可）"),
                "probable_cause": s("推定原因キー（疎通監視では必須、例: node:12:unreachable）"),
                "known_error_id": {"type": ["integer", "null"], "description": "該当しそうな既知の障害"},
            },
        },
        "IncidentTransitionInput": {
            "type": "object",
            "required": ["action"],
            "properties": {
                "action": enum_of(actions, "investigate: 原因調査開始、workaround: 回避策実施、start_recovery: 復旧作業開始、recover: 復旧報告、resume_recovery: 復旧作業に戻す、close: 完了、reopen: 再開、witness: 立会いの記録"),
                "at": s("日時（日本時間、例: 2026-05-12T09:30）。空なら現在。初動・回避・復旧・完了の時刻になります"),
                "comment": s("回避策の内容（workaround）、復旧の内容（recover）、理由（resume_recovery・reopen）は必須"),
                "guidance_to": s("指導先（workaround で必須）"),
                "guidance": s("指導内容（workaround で必須）"),
                "work_entry_ids": ids("紐付ける作業記録（workaround・recover のみ）"),
                "witness_name": s("witness のみ: 立会者の氏名（必須）"),
                "witness_org": s("witness のみ: 立会者の所属（必須）"),
                "witnessed_at": s("witness のみ: 立会日時（日本時間、必須。空なら at）"),
                "remark": s("witness のみ: 所見（必須）"),
            },
        },
        "WitnessInput": {
            "type": "object",
            "required": ["witness_name", "witness_org", "witnessed_at", "remark"],
            "properties": {
                "witness_name": s("立会者の氏名（100文字以内）"),
                "witness_org": s("立会者の所属（200文字以内）"),
                "witnessed_at": s("立会日時（日本時間、例: 2026-05-12T11:45。復旧日時以降）"),
                "remark": s("所見（4000文字以内）"),
            },
        },
        "EntryInput": {
            "type": "object",
            "required": ["kind", "text"],
            "properties": {
                "kind": enum_of(vec!["finding", "hypothesis", "cause", "workaround", "recovery", "comment"], "調査所見・仮説・原因・回避策・指導・復旧作業・コメント"),
                "at": s("日時（日本時間）。空なら現在。認知日時以降"),
                "text": s("内容（4000文字以内）"),
                "guidance_to": s("指導先（workaround のみ、指導内容と両方）"),
                "guidance": s("指導内容（workaround のみ）"),
                "work_entry_ids": ids("紐付ける作業記録（調査・回避策・復旧作業のみ）"),
            },
        },
        "ResolveInput": {
            "type": "object",
            "required": ["known_error_id"],
            "properties": {"known_error_id": {"type": ["integer", "null"], "description": "解決に使った既知の障害のID"}},
        },
        "KnownError": object(&["id", "number", "title", "symptoms", "cause", "workaround", "created_from_incident_id", "created_from_number", "created_by_id", "created_by", "created_by_name", "created_at", "updated_at", "incidents"], json!({
            "id": int(),
            "number": s("番号（KE-0001）"),
            "title": s("件名"),
            "symptoms": s("症状"),
            "cause": s("原因"),
            "workaround": s("回避策・対処"),
            "created_from_incident_id": nullable("integer"),
            "created_from_number": nullable("string"),
            "created_by_id": nullable("integer"),
            "created_by": s("登録した利用者ID"),
            "created_by_name": s("登録者の表示名"),
            "created_at": s(instant),
            "updated_at": s(instant),
            "incidents": {"type": "array", "items": r("IncidentLink"), "description": "関連する障害（古い順）"},
        })),
        "KnownErrorPage": page_schema("KnownError"),
        "KnownErrorInput": {
            "type": "object",
            "required": ["title", "symptoms"],
            "properties": {
                "title": s("件名（200文字以内）"),
                "symptoms": s("症状（4000文字以内）"),
                "cause": s("原因（原因と回避策・対処の少なくとも一方が必須）"),
                "workaround": s("回避策・対処"),
                "incident_ids": ids("関連する障害のID"),
            },
        },
        "IncidentFigures": figures,
        "IncidentMonth": month,
        "IncidentSiteStats": object(&["site_id", "site_code", "site_name", "year", "months"], json!({
            "site_id": {"type": ["integer", "null"], "description": "拠点ID（null: 拠点を指定していない障害）"},
            "site_code": s("拠点コード"),
            "site_name": s("拠点名（拠点指定なし）"),
            "year": r("IncidentFigures"),
            "months": months.clone(),
        })),
        "IncidentStats": object(&["fiscal_year", "label", "year", "months", "sites", "severities"], json!({
            "fiscal_year": {"type": "integer", "description": "年度（開始年）"},
            "label": s("年度の和暦表記（例: 令和8年度）"),
            "year": r("IncidentFigures"),
            "months": months,
            "sites": {"type": "array", "items": r("IncidentSiteStats"), "description": "障害のあった拠点（拠点コード順、拠点指定なしは最後）"},
            "severities": {"type": "array", "items": {"type": "array", "prefixItems": [{"type": "string", "enum": severities}, int()], "minItems": 2, "maxItems": 2}, "description": "[重大度コード, 件数]（すべての重大度）"},
        })),
    });
    match schemas {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
