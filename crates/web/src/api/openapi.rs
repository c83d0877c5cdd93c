//! `GET /api/v1/openapi.json`: the API described as OpenAPI 3.1, written by hand.
//!
//! A test walks [`super::endpoints`] (the table the router is built from) and checks that every
//! method and path is described here, and that nothing is described that is not served.

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use unyo_domain::Action;
use unyo_domain::registry::{NodeKind, SiteKind, TerminalKind};

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
        "description": "並べ替えの項目。不明な値は既定の順になります。",
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
            sort_keys: &["code", "name", "kind", "terminals", "updated"],
            kinds: codes(SiteKind::ALL, SiteKind::code),
            site_filter: false,
        },
        RegistryDoc {
            path: "terminals",
            tag: "terminals",
            ja: "端末",
            schema: "Terminal",
            input: "TerminalInput",
            sort_keys: &["hostname", "site", "kind", "ip", "os", "updated"],
            kinds: codes(TerminalKind::ALL, TerminalKind::code),
            site_filter: true,
        },
        RegistryDoc {
            path: "nodes",
            tag: "nodes",
            ja: "ネットワーク機器",
            schema: "NetworkNode",
            input: "NodeInput",
            sort_keys: &["name", "kind", "site", "ip", "upstream"],
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

    let actions: Vec<Value> = Action::ALL
        .iter()
        .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
        .collect();

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "unyo API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "住基ネット端末の運用管理（拠点・端末・集約ネットワーク機器の台帳と監査ログ）のJSON API。\n\n認証は `Authorization: Bearer <APIトークン>` です。Cookie は使わないため CSRF 対策は不要です。トークンが無い・無効な場合は 401 になり、無効なトークンの提示は監査ログ（api.auth_failure）に記録されます。\n\nエラーは `{\"error\": {\"code\", \"message\", \"fields\"}}` の形で、message は日本語です。個人番号・住民票コードと思われる番号を含む入力は 422 で拒否されます。",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "meta", "description": "API自体と利用者"},
            {"name": "sites", "description": "拠点"},
            {"name": "terminals", "description": "端末"},
            {"name": "nodes", "description": "集約ネットワークの機器"},
            {"name": "audit", "description": "監査ログ"},
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
                "Conflict": error_response("既存のデータと矛盾します（重複、廃止済み、稼働中の端末がある拠点の廃止など）。"),
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
    })
}
