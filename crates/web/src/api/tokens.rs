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
use unyo_store::users::ApiToken;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations, their parameters and schemas, derived from the types below; merged into the served
/// document by [`super::openapi`].
#[derive(OpenApi)]
#[openapi(
    paths(list, revoke),
    components(schemas(TokenOut, TokenList, TokenState))
)]
pub(super) struct TokensApi;

/// The list's filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenQuery {
    /// 利用者のID（省略時は自分）
    pub user_id: Option<i64>,
}

/// A token's state (as the schema names it; the store answers it as text).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum TokenState {
    Active,
    Expired,
    Revoked,
}

/// A token as the API returns it: never its secret or hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiToken)]
pub(super) struct TokenOut {
    id: i64,
    /// 所有者のID
    user_id: i64,
    /// 所有者の利用者ID
    username: String,
    /// 用途
    name: String,
    /// 発行日時（UTC、RFC 3339）
    created_at: String,
    /// 最後に使われた日時（UTC、RFC 3339、1分単位で記録。未使用は null）
    #[schema(required = true)]
    last_used_at: Option<String>,
    /// 有効期限（UTC、RFC 3339。この時刻以降は 401。期限なしは null）
    #[schema(required = true)]
    expires_at: Option<String>,
    /// 失効日時（UTC、RFC 3339。有効なものは null）
    #[schema(required = true)]
    revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[schema(value_type = TokenState)]
    state: &'static str,
}

/// The answer of `GET /tokens`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiTokenList)]
pub(super) struct TokenList {
    items: Vec<TokenOut>,
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

/// APIトークンの一覧（自分のもの。管理者は user_id で他の利用者のもの）
///
/// 失効済み・期限切れのものも含め、新しい順に返します。トークンの値やハッシュは返しません。他の利用者の user_id を指定できるのは利用者管理の権限（県管理者）を持つ場合だけで、それ以外は 403 です。
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    operation_id = "list_tokens",
    params(TokenQuery),
    responses(
        (status = 200, description = "APIトークンの一覧", body = TokenList),
        (status = 400, description = "BadRequest"),
        (status = 401, description = "Unauthorized"),
        (status = 403, description = "Forbidden"),
        (status = 500, description = "Internal"),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<TokenList>> {
    let owner = q.user_id.unwrap_or(user.user.id);
    // The store refuses another account's tokens unless the caller manages users (403).
    let tokens = state.store.api_tokens_of(&user.actor(), owner).await?;
    let now = unyo_domain::time::to_storage(chrono::Utc::now());
    let items = tokens.into_iter().map(|t| TokenOut::new(t, &now)).collect();
    Ok(Json(TokenList { items }))
}

/// APIトークンを失効させる（自分のもの。管理者はすべて）
///
/// 失効は監査ログ（token.revoke）に記録されます。失効させたトークンは以後 401 になります。存在しないトークンや他の利用者のトークン（管理者以外）は 404 です。失効済みのトークンにはもう一度 204 を返し、何も記録しません。
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "revoke_token",
    params(("id" = i64, Path, description = "ID")),
    responses(
        (status = 204, description = "失効させました"),
        (status = 401, description = "Unauthorized"),
        (status = 404, description = "NotFound"),
        (status = 500, description = "Internal"),
    )
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    user: ApiUser,
    ApiId(id): ApiId,
) -> ApiResult<StatusCode> {
    state.store.revoke_api_token(&user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
