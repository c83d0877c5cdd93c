//! Connectivity checks (疎通確認) through the API: `GET/POST /checks`, `GET /checks/{id}` (with its current
//! state, the last results and events), `GET /events` (state changes, newest first),
//! `GET/POST /maintenance-windows`, `GET/PUT /maintenance-windows/{id}`, `POST /maintenance-windows/{id}/retire`,
//! the same for `/notification-channels`, and `GET /notification-attempts`. Reads need
//! [`Action::ViewChecks`] (every role); creating a check, and creating, changing or retiring a maintenance
//! window or a channel, needs `ManageChecks` (admin, SE), checked by the store, which also refuses an address
//! that is not the registered IP of the target. Windows and channels are validated as on their pages (same
//! rules, same messages), on creation and on change alike. Lists show those in service unless
//! `status=retired|all` is asked for; a retired window or channel stays readable, and cannot be changed (409).

use super::auth::ApiUser;
use super::error::ApiResult;
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery, RetireInput};
use super::handlers::PREFIX;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use unyo_domain::connectivity::{
    ChannelConfig, CheckInput, MaintenanceWindow, Recurrence, validate_channel, validate_window,
};
use unyo_domain::{Action, DomainError};
use unyo_store::connectivity::{Attempt, Channel, CheckRow, EventRow, ResultRow, WindowRecord};
use unyo_store::registry::Status;

impl ApiInput for CheckInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "spec",
        "enabled",
        "state",
        "state_since",
        "impacted_by",
        "last_ts",
        "last_status",
        "last_latency_ms",
        "last_message",
        "created_at",
        "target_name",
        "site_id",
        "site_name",
    ];
}

/// `GET /checks`: every check in service with its current state.
pub(super) async fn list(
    user: ApiUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<CheckRow>>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(state.store.checks().await?))
}

/// `POST /checks`: registers a check on a registered terminal or node.
pub(super) async fn create(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CheckInput>,
) -> ApiResult<Response> {
    let c = state.store.create_check(&user.actor(), &input).await?;
    state.board.invalidate();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("{PREFIX}/checks/{}", c.id))],
        Json(c),
    )
        .into_response())
}

/// One check with its recent history.
#[derive(Debug, Serialize)]
pub(super) struct CheckDetail {
    check: CheckRow,
    /// Raw results of the last 24 hours, oldest first.
    results: Vec<ResultRow>,
    /// The last 50 state changes, newest first.
    events: Vec<EventRow>,
}

/// `GET /checks/{id}`.
pub(super) async fn show(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<CheckDetail>> {
    user.require(Action::ViewChecks)?;
    let check = state.store.check(id).await?;
    let since = chrono::Utc::now().timestamp() - 86_400;
    let results = state.store.check_results(id, since).await?;
    let events = state.store.check_events(Some(id), 50).await?;
    Ok(Json(CheckDetail {
        check,
        results,
        events,
    }))
}

/// Filter of `GET /events`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EventQuery {
    check_id: Option<i64>,
    limit: Option<i64>,
}

/// `GET /events?check_id=N&limit=N`.
pub(super) async fn events(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<Vec<EventRow>>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(
        state
            .store
            .check_events(q.check_id, q.limit.unwrap_or(100))
            .await?,
    ))
}

/// The body of `POST /maintenance-windows` and `PUT /maintenance-windows/{id}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct WindowInput {
    title: String,
    site_id: Option<i64>,
    node_id: Option<i64>,
    check_id: Option<i64>,
    when: Option<Recurrence>,
}

impl ApiInput for WindowInput {
    const READ_ONLY: &'static [&'static str] =
        &["id", "created_by", "created_at", "updated_at", "retired_at"];

    fn shape_error(key: &str) -> Option<String> {
        (key == "when").then(|| {
            "「when」（保守の日時）の形式が正しくないか、存在しない日時です。一回限りは \
             {\"type\": \"once\", \"start\": \"2026-05-12T00:30:00Z\", \"end\": \"2026-05-12T02:30:00Z\"}、\
             毎週は {\"type\": \"weekly\", \"weekday\": 0～6（月曜～日曜）, \"start_min\": 0～1439（日本時間の0時からの分）, \
             \"duration_min\": 分} で指定してください。"
                .to_string()
        })
    }
}

/// `?status=active|retired|all` of the window and channel lists (default: in service).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatusQuery {
    status: Status,
}

/// `GET /maintenance-windows?status=…`: the windows in force (or the retired ones, or all).
pub(super) async fn list_windows(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> ApiResult<Json<Vec<WindowRecord>>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(
        state.store.maintenance_window_records(q.status).await?,
    ))
}

/// The body as a window ([`validate_window`]: the time must be given); the store judges its rules and
/// its targets together inside the write transaction, one refusal with every problem.
fn window_of(input: WindowInput) -> ApiResult<MaintenanceWindow> {
    Ok(validate_window(
        &input.title,
        input.site_id,
        input.node_id,
        input.check_id,
        input.when,
    )?)
}

/// `POST /maintenance-windows`: a one-off or weekly window over every check, or those of a site, behind a
/// node, or one check (which must exist).
pub(super) async fn create_window(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<WindowInput>,
) -> ApiResult<Response> {
    user.require(Action::ManageChecks)?;
    let w = window_of(input)?;
    let id = state
        .store
        .create_maintenance_window(&user.actor(), &w)
        .await?;
    state.board.invalidate();
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("{PREFIX}/maintenance-windows/{id}"),
        )],
        Json(state.store.maintenance_window(id).await?),
    )
        .into_response())
}

/// `GET /maintenance-windows/{id}`: one window, retired or not.
pub(super) async fn show_window(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<WindowRecord>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(state.store.maintenance_window(id).await?))
}

/// `PUT /maintenance-windows/{id}`: replaces the title, scope and time (omitted scope fields become none),
/// under the rules of `POST`.
pub(super) async fn update_window(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<WindowInput>,
) -> ApiResult<Json<WindowRecord>> {
    user.require(Action::ManageChecks)?;
    // An unknown or retired window answers 404 / 409 before the body is judged.
    let old = state.store.maintenance_window(id).await?;
    if old.retired_at.is_some() {
        return Err(DomainError::Conflict("廃止済みの保守時間帯は変更できません。".into()).into());
    }
    let w = window_of(input)?;
    let updated = state
        .store
        .update_maintenance_window(&user.actor(), id, &w)
        .await?;
    state.board.invalidate();
    Ok(Json(updated))
}

/// `POST /maintenance-windows/{id}/retire` with `{"reason": "…"}`: the window no longer applies.
pub(super) async fn retire_window(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Json<WindowRecord>> {
    let retired = state
        .store
        .retire_maintenance_window(&user.actor(), id, &input.reason)
        .await?;
    state.board.invalidate();
    Ok(Json(retired))
}

/// The body of `POST /notification-channels` and `PUT /notification-channels/{id}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ChannelInput {
    name: String,
    config: Option<ChannelConfig>,
}

impl ApiInput for ChannelInput {
    const READ_ONLY: &'static [&'static str] =
        &["id", "enabled", "created_at", "updated_at", "retired_at"];

    fn shape_error(key: &str) -> Option<String> {
        (key == "config").then(|| {
            "「config」（通知の設定）の形式が正しくありません。{\"kind\": \"email\", \"host\": …, \"port\": 25, \
             \"starttls\": false, \"from\": …, \"to\": […]}、{\"kind\": \"webhook\", \"url\": …} または \
             {\"kind\": \"syslog\", \"addr\": \"IPアドレス:ポート\"} で指定してください。"
                .to_string()
        })
    }
}

/// The name and the settings under the domain's rules ([`validate_channel`]).
fn channel_of(input: ChannelInput) -> ApiResult<(String, ChannelConfig)> {
    let d = validate_channel(&input.name, input.config)?;
    Ok((d.name.as_str().to_string(), d.config))
}

/// `GET /notification-channels?status=…`: the channels in service (or the retired ones, or all).
pub(super) async fn list_channels(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> ApiResult<Json<Vec<Channel>>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(
        state.store.notification_channel_records(q.status).await?,
    ))
}

/// `POST /notification-channels`.
pub(super) async fn create_channel(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<Response> {
    user.require(Action::ManageChecks)?;
    let (name, config) = channel_of(input)?;
    let id = state
        .store
        .create_notification_channel(&user.actor(), &name, &config)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("{PREFIX}/notification-channels/{id}"),
        )],
        Json(state.store.notification_channel(id).await?),
    )
        .into_response())
}

/// `GET /notification-channels/{id}`: one channel, retired or not.
pub(super) async fn show_channel(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Channel>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(state.store.notification_channel(id).await?))
}

/// `PUT /notification-channels/{id}`: replaces the name and the settings (the kind may change).
pub(super) async fn update_channel(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<Json<Channel>> {
    user.require(Action::ManageChecks)?;
    // An unknown or retired channel answers 404 / 409 before the body is judged.
    if state
        .store
        .notification_channel(id)
        .await?
        .retired_at
        .is_some()
    {
        return Err(DomainError::Conflict("廃止済みの通知先は変更できません。".into()).into());
    }
    let (name, config) = channel_of(input)?;
    Ok(Json(
        state
            .store
            .update_notification_channel(&user.actor(), id, &name, &config)
            .await?,
    ))
}

/// `POST /notification-channels/{id}/retire` with `{"reason": "…"}`: the channel is no longer notified.
pub(super) async fn retire_channel(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(
        state
            .store
            .retire_notification_channel(&user.actor(), id, &input.reason)
            .await?,
    ))
}

/// Filter of `GET /notification-attempts`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AttemptQuery {
    limit: Option<i64>,
}

/// `GET /notification-attempts?limit=N`: delivery attempts, newest first.
pub(super) async fn attempts(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AttemptQuery>,
) -> ApiResult<Json<Vec<Attempt>>> {
    user.require(Action::ViewChecks)?;
    Ok(Json(
        state
            .store
            .notification_attempts(q.limit.unwrap_or(100))
            .await?,
    ))
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resp(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn opt(t: &str, description: &str) -> Value {
    json!({"type": [t, "null"], "description": description})
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

/// Adds the paths, schemas and tag to `openapi.json`.
pub(super) fn document(doc: &mut Value) {
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "checks", "description": "疎通確認（ICMP・TCP・HTTP(S)・DNS、状態と状態変化）"}));
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
    let view = "疎通確認の閲覧権限（全ロール）が必要です。";
    let std_errors = |codes: &[&str]| -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("401".into(), resp("Unauthorized"));
        for c in codes {
            let name = match *c {
                "400" => "BadRequest",
                "403" => "Forbidden",
                "404" => "NotFound",
                "409" => "Conflict",
                "413" => "PayloadTooLarge",
                "415" => "UnsupportedMediaType",
                _ => "Validation",
            };
            m.insert((*c).into(), resp(name));
        }
        m.insert("500".into(), resp("Internal"));
        m
    };
    let with = |mut m: Map<String, Value>, code: &str, v: Value| {
        m.insert(code.into(), v);
        Value::Object(m)
    };
    paths.insert(
        "/checks".into(),
        json!({
            "get": {
                "tags": ["checks"], "operationId": "list_checks",
                "summary": "疎通確認の一覧（現在の状態つき）",
                "description": view,
                "responses": with(std_errors(&["403"]), "200", json!({"description": "一覧",
                    "content": {"application/json": {"schema": {"type": "array", "items": r("Check")}}}})),
            },
            "post": {
                "tags": ["checks"], "operationId": "create_check",
                "summary": "疎通確認を登録（宛先は対象の端末・ネットワーク機器の登録IPアドレスに限る）",
                "description": "疎通確認の設定権限（県管理者・SE）が必要です。監査ログ（check.create）に記録されます。",
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("CheckInput")}}},
                "responses": with(std_errors(&["400", "403", "404", "413", "415", "422"]), "201", json!({
                    "description": "登録しました。",
                    "headers": {"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": r("Check")}},
                })),
            },
        }),
    );
    paths.insert(
        "/checks/{id}".into(),
        json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "tags": ["checks"], "operationId": "show_check",
                "summary": "疎通確認1件（現在の状態、直近24時間の結果、状態変化）",
                "description": view,
                "responses": with(std_errors(&["403", "404"]), "200", json!({"description": "疎通確認",
                    "content": {"application/json": {"schema": r("CheckDetail")}}})),
            },
        }),
    );
    paths.insert(
        "/events".into(),
        json!({
            "get": {
                "tags": ["checks"], "operationId": "list_check_events",
                "summary": "状態変化（新しい順）",
                "description": view,
                "parameters": [
                    {"name": "check_id", "in": "query", "required": false, "description": "疎通確認のID", "schema": int()},
                    {"name": "limit", "in": "query", "required": false, "description": "件数（既定100、最大10000）", "schema": int()},
                ],
                "responses": with(std_errors(&["400", "403"]), "200", json!({"description": "状態変化",
                    "content": {"application/json": {"schema": {"type": "array", "items": r("CheckEvent")}}}})),
            },
        }),
    );
    let manage = "疎通確認の設定権限（県管理者・SE）が必要です。";
    let status = json!({"$ref": "#/components/parameters/status"});
    let id = json!({"$ref": "#/components/parameters/id"});
    let location =
        json!({"Location": {"description": "登録したデータのURL", "schema": {"type": "string"}}});
    paths.insert(
        "/maintenance-windows".into(),
        json!({
            "get": {
                "tags": ["checks"], "operationId": "list_maintenance_windows",
                "summary": "保守時間帯の一覧（既定は有効なもの。status で廃止済み・すべて）",
                "description": view,
                "parameters": [status],
                "responses": with(std_errors(&["400", "403"]), "200", json!({"description": "保守時間帯",
                    "content": {"application/json": {"schema": {"type": "array", "items": r("MaintenanceWindow")}}}})),
            },
            "post": {
                "tags": ["checks"], "operationId": "create_maintenance_window",
                "summary": "保守時間帯を登録（一回限り・毎週）",
                "description": format!("{manage}終了が開始より前、存在しない拠点・機器・疎通確認の指定は 422 です。監査ログ（maintenance.create）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("MaintenanceWindowInput")}}},
                "responses": with(std_errors(&["400", "403", "413", "415", "422"]), "201", json!({
                    "description": "登録しました。",
                    "headers": location,
                    "content": {"application/json": {"schema": r("MaintenanceWindow")}},
                })),
            },
        }),
    );
    paths.insert(
        "/maintenance-windows/{id}".into(),
        json!({
            "parameters": [id],
            "get": {
                "tags": ["checks"], "operationId": "show_maintenance_window",
                "summary": "保守時間帯を1件取得（廃止済みを含む）",
                "description": view,
                "responses": with(std_errors(&["403", "404"]), "200", json!({"description": "保守時間帯",
                    "content": {"application/json": {"schema": r("MaintenanceWindow")}}})),
            },
            "put": {
                "tags": ["checks"], "operationId": "update_maintenance_window",
                "summary": "保守時間帯を変更",
                "description": format!("{manage}件名・対象・日時をすべて置き換えます（省略した対象は指定なしになります）。登録と同じ規則で検査し、誤りがあれば 422 で何も変更しません。廃止済みの保守時間帯は変更できません（409）。取得した内容をそのまま送り返すこともでき、id や日時などの読み取り専用の項目は無視されます。監査ログ（maintenance.update、変更前後の差分）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("MaintenanceWindowInput")}}},
                "responses": with(std_errors(&["400", "403", "404", "409", "413", "415", "422"]), "200", json!({
                    "description": "変更後の保守時間帯",
                    "content": {"application/json": {"schema": r("MaintenanceWindow")}},
                })),
            },
        }),
    );
    paths.insert(
        "/maintenance-windows/{id}/retire".into(),
        json!({
            "parameters": [id],
            "post": {
                "tags": ["checks"], "operationId": "retire_maintenance_window",
                "summary": "保守時間帯を廃止",
                "description": format!("{manage}削除はせず廃止日時を記録します。理由は必須です。廃止した保守時間帯は適用されず（疎通確認の通知を止めません）、一覧には status=retired または all で表示されます。監査ログ（maintenance.retire、理由つき）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("RetireInput")}}},
                "responses": with(std_errors(&["400", "403", "404", "409", "413", "415", "422"]), "200", json!({
                    "description": "廃止後の保守時間帯",
                    "content": {"application/json": {"schema": r("MaintenanceWindow")}},
                })),
            },
        }),
    );
    paths.insert(
        "/notification-channels".into(),
        json!({
            "get": {
                "tags": ["checks"], "operationId": "list_notification_channels",
                "summary": "通知先の一覧（既定は有効なもの。status で廃止済み・すべて）",
                "description": view,
                "parameters": [status],
                "responses": with(std_errors(&["400", "403"]), "200", json!({"description": "通知先",
                    "content": {"application/json": {"schema": {"type": "array", "items": r("NotificationChannel")}}}})),
            },
            "post": {
                "tags": ["checks"], "operationId": "create_notification_channel",
                "summary": "通知先を登録（メール・Webhook・syslog）",
                "description": format!("{manage}監査ログ（notification_channel.create）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("NotificationChannelInput")}}},
                "responses": with(std_errors(&["400", "403", "413", "415", "422"]), "201", json!({
                    "description": "登録しました。",
                    "headers": location,
                    "content": {"application/json": {"schema": r("NotificationChannel")}},
                })),
            },
        }),
    );
    paths.insert(
        "/notification-channels/{id}".into(),
        json!({
            "parameters": [id],
            "get": {
                "tags": ["checks"], "operationId": "show_notification_channel",
                "summary": "通知先を1件取得（廃止済みを含む）",
                "description": view,
                "responses": with(std_errors(&["403", "404"]), "200", json!({"description": "通知先",
                    "content": {"application/json": {"schema": r("NotificationChannel")}}})),
            },
            "put": {
                "tags": ["checks"], "operationId": "update_notification_channel",
                "summary": "通知先を変更（種類の変更も可）",
                "description": format!("{manage}名称と設定を置き換えます。登録と同じ規則で検査し、誤りがあれば 422 で何も変更しません。廃止済みの通知先は変更できません（409）。監査ログ（notification_channel.update、変更前後の差分）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("NotificationChannelInput")}}},
                "responses": with(std_errors(&["400", "403", "404", "409", "413", "415", "422"]), "200", json!({
                    "description": "変更後の通知先",
                    "content": {"application/json": {"schema": r("NotificationChannel")}},
                })),
            },
        }),
    );
    paths.insert(
        "/notification-channels/{id}/retire".into(),
        json!({
            "parameters": [id],
            "post": {
                "tags": ["checks"], "operationId": "retire_notification_channel",
                "summary": "通知先を廃止",
                "description": format!("{manage}削除はせず廃止日時を記録します。理由は必須です。廃止した通知先には通知しません。送信履歴は残ります。監査ログ（notification_channel.retire、理由つき）に記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": r("RetireInput")}}},
                "responses": with(std_errors(&["400", "403", "404", "409", "413", "415", "422"]), "200", json!({
                    "description": "廃止後の通知先",
                    "content": {"application/json": {"schema": r("NotificationChannel")}},
                })),
            },
        }),
    );
    paths.insert(
        "/notification-attempts".into(),
        json!({
            "get": {
                "tags": ["checks"], "operationId": "list_notification_attempts",
                "summary": "通知の送信履歴（新しい順）",
                "description": view,
                "parameters": [
                    {"name": "limit", "in": "query", "required": false, "description": "件数（既定100、最大10000）", "schema": int()},
                ],
                "responses": with(std_errors(&["400", "403"]), "200", json!({"description": "送信履歴",
                    "content": {"application/json": {"schema": {"type": "array", "items": r("NotificationAttempt")}}}})),
            },
        }),
    );
}

fn schemas_map() -> Map<String, Value> {
    let state = json!({"type": "string", "enum": ["unknown", "up", "degraded", "down"],
                       "description": "状態（不明・正常・低下・停止）"});
    let check = json!({
        "type": "object",
        "required": ["id", "name", "target_kind", "target_id", "kind", "spec", "state", "enabled"],
        "properties": {
            "id": int(), "name": s("名称"),
            "target_kind": {"type": "string", "enum": ["terminal", "node"]},
            "target_id": int(),
            "kind": {"type": "string", "enum": ["icmp", "tcp", "http", "dns"]},
            "spec": s("宛先と条件（JSON文字列）"),
            "interval_s": int(), "timeout_ms": int(), "retries": int(), "degraded_ms": int(), "flap_n": int(),
            "enabled": {"type": "boolean"},
            "state": state,
            "state_since": opt("integer", "状態が変わった時刻（Unix秒）"),
            "impacted_by": opt("integer", "影響: 経路上で停止しているネットワーク機器（推定障害箇所）"),
            "last_ts": opt("integer", "最後の結果の時刻（Unix秒）"),
            "last_status": opt("integer", "最後の結果（0 正常、1 低下、2 停止、3 不明; +4 保守中、+8 影響）"),
            "last_latency_ms": opt("integer", "最後の応答時間（ms）"),
            "last_message": s("最後の状態変化の内容"),
            "created_at": s("登録日時"),
            "target_name": opt("string", "対象名"),
            "site_id": opt("integer", "拠点ID"),
            "site_name": opt("string", "拠点名"),
        },
    });
    let input = json!({
        "type": "object",
        "required": ["name", "target_kind", "target_id", "kind", "address"],
        "properties": {
            "name": s("名称"),
            "target_kind": {"type": "string", "enum": ["terminal", "node"]},
            "target_id": int(),
            "kind": {"type": "string", "enum": ["icmp", "tcp", "http", "dns"]},
            "address": s("宛先IPアドレス（対象の登録IPアドレスと一致すること）"),
            "port": opt("integer", "ポート（tcp は必須、http 80/443、dns 53 が既定）"),
            "scheme": s("http または https"),
            "host": s("HTTP の Host（既定は宛先）"),
            "path": s("HTTP のパス（既定 /）"),
            "expect_status": opt("integer", "期待するHTTPステータス（既定200）"),
            "body_contains": s("本文に含まれるべき文字列"),
            "cert_warn_days": opt("integer", "証明書の残り日数がこれ未満で低下"),
            "dns_name": s("DNS で問い合わせる名前"),
            "dns_expect": s("DNS の期待する応答（IPアドレス）"),
            "interval_s": opt("integer", "間隔（秒、既定60）"),
            "timeout_ms": opt("integer", "タイムアウト（ms、既定2000）"),
            "retries": opt("integer", "再試行回数（既定1）"),
            "degraded_ms": opt("integer", "これより遅い応答は低下（ms、既定500）"),
            "flap_n": opt("integer", "状態変化に必要な連続回数（既定3）"),
        },
    });
    let result = json!({
        "type": "object", "required": ["check_id", "ts", "status"],
        "properties": {"check_id": int(), "ts": int(), "status": int(), "latency_ms": opt("integer", "応答時間（ms）")},
    });
    let event = json!({
        "type": "object",
        "required": ["id", "check_id", "check_name", "ts", "from_state", "to_state", "cause", "maintenance", "results"],
        "properties": {
            "id": int(), "check_id": int(), "check_name": s("疎通確認の名称"), "ts": int(),
            "from_state": s("変化前の状態"), "to_state": s("変化後の状態"), "cause": s("原因"),
            "impacted_by": opt("integer", "推定障害箇所（ネットワーク機器ID）"),
            "impacted_by_name": opt("string", "推定障害箇所の名称"),
            "maintenance": {"type": "boolean", "description": "保守時間帯中（通知しない）"},
            "incident_id": opt("integer", "自動で起票した障害"),
            "results": s("変化の根拠となった結果（JSON文字列）"),
        },
    });
    let detail = json!({
        "type": "object", "required": ["check", "results", "events"],
        "properties": {
            "check": r("Check"),
            "results": {"type": "array", "items": r("CheckResult")},
            "events": {"type": "array", "items": r("CheckEvent")},
        },
    });
    let recurrence = json!({
        "oneOf": [
            {"type": "object", "required": ["type", "start", "end"], "properties": {
                "type": {"type": "string", "enum": ["once"]},
                "start": {"type": "string", "format": "date-time", "description": "開始（RFC 3339）"},
                "end": {"type": "string", "format": "date-time", "description": "終了（開始より後、31日以内）"},
            }},
            {"type": "object", "required": ["type", "weekday", "start_min", "duration_min"], "properties": {
                "type": {"type": "string", "enum": ["weekly"]},
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "曜日（0 月曜 … 6 日曜、日本時間）"},
                "start_min": {"type": "integer", "minimum": 0, "maximum": 1439, "description": "開始（日本時間0時からの分）"},
                "duration_min": {"type": "integer", "minimum": 1, "maximum": 10080, "description": "時間（分）"},
            }},
        ],
        "description": "一回限り（once）または毎週（weekly）",
    });
    let scope = |m: &mut Map<String, Value>| {
        m.insert(
            "site_id".into(),
            opt("integer", "対象の拠点（配下の疎通確認）"),
        );
        m.insert(
            "node_id".into(),
            opt("integer", "対象のネットワーク機器（自身と配下）"),
        );
        m.insert("check_id".into(), opt("integer", "対象の疎通確認"));
    };
    let record = |m: &mut Map<String, Value>| {
        m.insert("created_at".into(), s("登録日時"));
        m.insert(
            "updated_at".into(),
            opt("string", "最後に変更した日時（未変更は null）"),
        );
        m.insert(
            "retired_at".into(),
            opt("string", "廃止した日時（有効なものは null）"),
        );
    };
    let mut window_props = Map::new();
    window_props.insert("id".into(), int());
    window_props.insert("title".into(), s("件名"));
    scope(&mut window_props);
    window_props.insert("when".into(), recurrence.clone());
    window_props.insert("created_by".into(), s("登録した利用者"));
    record(&mut window_props);
    let window = json!({"type": "object", "required": ["id", "title", "when", "created_by", "created_at"],
        "properties": window_props,
        "description": "保守時間帯（対象を指定しなければすべての疎通確認）。廃止したもの（retired_at あり）は適用されません。"});
    let mut window_in_props = Map::new();
    window_in_props.insert("title".into(), s("件名"));
    scope(&mut window_in_props);
    window_in_props.insert("when".into(), recurrence);
    let window_input =
        json!({"type": "object", "required": ["title", "when"], "properties": window_in_props});
    let config = json!({
        "oneOf": [
            {"type": "object", "required": ["kind", "host", "port", "starttls", "from", "to"], "properties": {
                "kind": {"type": "string", "enum": ["email"]},
                "host": s("SMTPリレーのホスト"), "port": int(),
                "starttls": {"type": "boolean"},
                "from": s("差出人"),
                "to": {"type": "array", "items": {"type": "string"}, "description": "宛先"},
            }},
            {"type": "object", "required": ["kind", "url"], "properties": {
                "kind": {"type": "string", "enum": ["webhook"]},
                "url": s("http:// または https:// で始まる受信先の URL（利用者名・パスワード、空白・制御文字は不可）。受信先へ直接送り、リダイレクトには従いません"),
                "ca_pem": s("https のとき任意: 受信先の証明書を発行した CA の証明書（PEM）。指定するとその CA だけを信頼し、省略するとサーバーのシステムの証明書ストアで確認します"),
            }},
            {"type": "object", "required": ["kind", "addr"], "properties": {
                "kind": {"type": "string", "enum": ["syslog"]},
                "addr": s("IPアドレス:ポート（RFC 5424 over UDP）"),
            }},
        ],
    });
    let mut channel_props = Map::new();
    channel_props.insert("id".into(), int());
    channel_props.insert("name".into(), s("名称"));
    channel_props.insert("config".into(), config.clone());
    channel_props.insert("enabled".into(), json!({"type": "boolean"}));
    record(&mut channel_props);
    let channel = json!({
        "type": "object", "required": ["id", "name", "config", "enabled", "created_at"],
        "properties": channel_props,
        "description": "通知先。廃止したもの（retired_at あり）には通知しません。",
    });
    let channel_input = json!({
        "type": "object", "required": ["name", "config"],
        "properties": {"name": s("名称"), "config": config},
    });
    let attempt = json!({
        "type": "object", "required": ["id", "channel_id", "at", "ok", "detail"],
        "properties": {
            "id": int(), "channel_id": int(),
            "event_id": opt("integer", "通知した状態変化（試験送信は null）"),
            "at": s("送信日時"), "ok": {"type": "boolean", "description": "成功"},
            "detail": s("結果の詳細（失敗時はエラー内容）"),
        },
    });
    let mut m = Map::new();
    m.insert("Check".into(), check);
    m.insert("CheckInput".into(), input);
    m.insert("CheckResult".into(), result);
    m.insert("CheckEvent".into(), event);
    m.insert("CheckDetail".into(), detail);
    m.insert("MaintenanceWindow".into(), window);
    m.insert("MaintenanceWindowInput".into(), window_input);
    m.insert("NotificationChannel".into(), channel);
    m.insert("NotificationChannelInput".into(), channel_input);
    m.insert("NotificationAttempt".into(), attempt);
    m
}
