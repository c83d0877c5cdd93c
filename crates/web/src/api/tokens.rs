//! API tokens through the API:
//!
//! - `GET /tokens` — one's own tokens (an administrator may pass `user_id` for anyone's; anyone else
//!   asking for another account gets `403`), newest first, revoked and expired ones included, with name,
//!   creation, last use, expiry and state. Never a secret or a hash.
//! - `DELETE /tokens/{id}` — revokes a token: one's own, or any for an administrator; audited as
//!   `token.revoke`. A token the caller may not revoke answers `404`, like one that does not exist.
//!   Revoking a revoked token answers `204` again and writes nothing.
//!
//! Tokens are created on the account page (or with `unyo token create`), where the secret is shown once.

use super::auth::ApiUser;
use super::error::ApiResult;
use super::extract::{ApiId, ApiQuery};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use unyo_store::users::ApiToken;

/// The list's filter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenQuery {
    /// Whose tokens (administrators only, when not oneself).
    pub user_id: Option<i64>,
}

/// A token as the API returns it.
#[derive(Debug, Serialize)]
pub(super) struct TokenOut {
    id: i64,
    user_id: i64,
    username: String,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    state: &'static str,
}

impl TokenOut {
    fn new(t: ApiToken, now: &str) -> TokenOut {
        TokenOut {
            state: t.state(now),
            id: t.id,
            user_id: t.user_id,
            username: t.username,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// `GET /tokens?user_id=`.
pub(super) async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<Value>> {
    let owner = q.user_id.unwrap_or(user.user.id);
    // The store refuses another account's tokens unless the caller manages users (403).
    let tokens = state.store.api_tokens_of(&user.actor(), owner).await?;
    let now = unyo_domain::time::to_storage(chrono::Utc::now());
    let items: Vec<TokenOut> = tokens.into_iter().map(|t| TokenOut::new(t, &now)).collect();
    Ok(Json(json!({ "items": items })))
}

/// `DELETE /tokens/{id}`.
pub(super) async fn revoke(
    State(state): State<AppState>,
    user: ApiUser,
    ApiId(id): ApiId,
) -> ApiResult<StatusCode> {
    state.store.revoke_api_token(&user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds the two operations, their tag and schemas to the OpenAPI document.
pub(super) fn document(doc: &mut Value) {
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        tags.push(json!({"name": "tokens", "description": "APIトークン（一覧・失効）"}));
    }
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let resp = |name: &str| json!({"$ref": format!("#/components/responses/{name}")});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.insert(
            "/tokens".into(),
            json!({"get": {
                "tags": ["tokens"], "operationId": "list_tokens",
                "summary": "APIトークンの一覧（自分のもの。管理者は user_id で他の利用者のもの）",
                "description": "失効済み・期限切れのものも含め、新しい順に返します。トークンの値やハッシュは返しません。他の利用者の user_id を指定できるのは利用者管理の権限（県管理者）を持つ場合だけで、それ以外は 403 です。",
                "parameters": [
                    {"name": "user_id", "in": "query", "required": false, "description": "利用者のID（省略時は自分）", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {"description": "APIトークンの一覧", "content": {"application/json": {"schema": r("ApiTokenList")}}},
                    "400": resp("BadRequest"), "401": resp("Unauthorized"), "403": resp("Forbidden"), "500": resp("Internal"),
                },
            }}),
        );
        paths.insert(
            "/tokens/{id}".into(),
            json!({
                "parameters": [{"$ref": "#/components/parameters/id"}],
                "delete": {
                    "tags": ["tokens"], "operationId": "revoke_token",
                    "summary": "APIトークンを失効させる（自分のもの。管理者はすべて）",
                    "description": "失効は監査ログ（token.revoke）に記録されます。失効させたトークンは以後 401 になります。存在しないトークンや他の利用者のトークン（管理者以外）は 404 です。失効済みのトークンにはもう一度 204 を返し、何も記録しません。",
                    "responses": {
                        "204": {"description": "失効させました"},
                        "401": resp("Unauthorized"), "404": resp("NotFound"), "500": resp("Internal"),
                    },
                },
            }),
        );
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(schemas_map());
    }
}

fn schemas_map() -> Map<String, Value> {
    let instant = |d: &str| json!({"type": "string", "description": d});
    let opt = |d: &str| json!({"type": ["string", "null"], "description": d});
    let mut m = Map::new();
    m.insert(
        "ApiToken".into(),
        json!({
            "type": "object",
            "required": ["id", "user_id", "username", "name", "created_at", "last_used_at", "expires_at", "revoked_at", "state"],
            "properties": {
                "id": {"type": "integer"},
                "user_id": {"type": "integer", "description": "所有者のID"},
                "username": {"type": "string", "description": "所有者の利用者ID"},
                "name": {"type": "string", "description": "用途"},
                "created_at": instant("発行日時（UTC、RFC 3339）"),
                "last_used_at": opt("最後に使われた日時（UTC、RFC 3339、1分単位で記録。未使用は null）"),
                "expires_at": opt("有効期限（UTC、RFC 3339。この時刻以降は 401。期限なしは null）"),
                "revoked_at": opt("失効日時（UTC、RFC 3339。有効なものは null）"),
                "state": {"type": "string", "enum": ["active", "expired", "revoked"]},
            },
        }),
    );
    m.insert(
        "ApiTokenList".into(),
        json!({
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": r_schema("ApiToken")}},
        }),
    );
    m
}

fn r_schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}
