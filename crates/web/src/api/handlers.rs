//! The API's handlers. The three registries (sites, terminals, network nodes) share one set of generic
//! handlers through [`Registry`].

use super::auth::ApiUser;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery, RetireInput};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use unyo_domain::registry::{
    NodeInput, NodeKind, SiteInput, SiteKind, TerminalInput, TerminalKind,
};
use unyo_domain::{Action, FieldError};
use unyo_store::audit::{AuditEntry, AuditQuery, ChainReport};
use unyo_store::registry::{ListQuery, NetworkNode, Site, Terminal};
use unyo_store::{Actor, Page, Result as StoreResult, Store};

/// Where the API is mounted (for `Location` headers).
pub(super) const PREFIX: &str = "/api/v1";

/// A page of a list as the API returns it: the store's [`Page`] plus the number of pages.
#[derive(Debug, Serialize)]
pub struct PageOut<T> {
    /// The rows on this page.
    pub items: Vec<T>,
    /// Rows matching the filter across all pages.
    pub total: i64,
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Number of pages (at least 1).
    pub pages: i64,
}

impl<T> From<Page<T>> for PageOut<T> {
    fn from(p: Page<T>) -> Self {
        let pages = p.pages();
        PageOut {
            items: p.items,
            total: p.total,
            page: p.page,
            per_page: p.per_page,
            pages,
        }
    }
}

/// One kind of registry record and the store calls that serve it.
pub(super) trait Registry: Send + Sync + 'static {
    /// The record as returned.
    type Row: Serialize + Send;
    /// The body of create and update.
    type Input: ApiInput + Send + Sync;
    /// Path segment under `/api/v1` (`sites`).
    const PATH: &'static str;
    /// Entity name in the audit log (`site`).
    const ENTITY: &'static str;
    /// The `sort` keys the list accepts (the store's; the OpenAPI document lists the same).
    const SORT_KEYS: &'static [&'static str];
    /// The `kind` codes the list filters by.
    fn kinds() -> Vec<&'static str>;

    fn id(row: &Self::Row) -> i64;
    fn list(
        store: &Store,
        q: &ListQuery,
    ) -> impl Future<Output = StoreResult<Page<Self::Row>>> + Send;
    fn get(store: &Store, id: i64) -> impl Future<Output = StoreResult<Self::Row>> + Send;
    fn create(
        store: &Store,
        actor: &Actor,
        input: &Self::Input,
    ) -> impl Future<Output = StoreResult<Self::Row>> + Send;
    fn update(
        store: &Store,
        actor: &Actor,
        id: i64,
        input: &Self::Input,
    ) -> impl Future<Output = StoreResult<Self::Row>> + Send;
    fn retire(
        store: &Store,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> impl Future<Output = StoreResult<Self::Row>> + Send;
}

/// 拠点.
pub(super) struct Sites;
/// 端末.
pub(super) struct Terminals;
/// 集約ネットワークの機器.
pub(super) struct Nodes;

impl Registry for Sites {
    type Row = Site;
    type Input = SiteInput;
    const PATH: &'static str = "sites";
    const ENTITY: &'static str = "site";
    const SORT_KEYS: &'static [&'static str] = &["code", "name", "kind", "terminals", "updated"];

    fn kinds() -> Vec<&'static str> {
        SiteKind::ALL.iter().map(|k| k.code()).collect()
    }

    fn id(row: &Site) -> i64 {
        row.id
    }
    fn list(store: &Store, q: &ListQuery) -> impl Future<Output = StoreResult<Page<Site>>> + Send {
        store.sites(q)
    }
    fn get(store: &Store, id: i64) -> impl Future<Output = StoreResult<Site>> + Send {
        store.site(id)
    }
    fn create(
        store: &Store,
        actor: &Actor,
        input: &SiteInput,
    ) -> impl Future<Output = StoreResult<Site>> + Send {
        store.create_site(actor, input)
    }
    fn update(
        store: &Store,
        actor: &Actor,
        id: i64,
        input: &SiteInput,
    ) -> impl Future<Output = StoreResult<Site>> + Send {
        store.update_site(actor, id, input)
    }
    fn retire(
        store: &Store,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> impl Future<Output = StoreResult<Site>> + Send {
        store.retire_site(actor, id, reason)
    }
}

impl Registry for Terminals {
    type Row = Terminal;
    type Input = TerminalInput;
    const PATH: &'static str = "terminals";
    const ENTITY: &'static str = "terminal";
    const SORT_KEYS: &'static [&'static str] = &["hostname", "site", "kind", "ip", "os", "updated"];

    fn kinds() -> Vec<&'static str> {
        TerminalKind::ALL.iter().map(|k| k.code()).collect()
    }

    fn id(row: &Terminal) -> i64 {
        row.id
    }
    fn list(
        store: &Store,
        q: &ListQuery,
    ) -> impl Future<Output = StoreResult<Page<Terminal>>> + Send {
        store.terminals(q)
    }
    fn get(store: &Store, id: i64) -> impl Future<Output = StoreResult<Terminal>> + Send {
        store.terminal(id)
    }
    fn create(
        store: &Store,
        actor: &Actor,
        input: &TerminalInput,
    ) -> impl Future<Output = StoreResult<Terminal>> + Send {
        store.create_terminal(actor, input)
    }
    fn update(
        store: &Store,
        actor: &Actor,
        id: i64,
        input: &TerminalInput,
    ) -> impl Future<Output = StoreResult<Terminal>> + Send {
        store.update_terminal(actor, id, input)
    }
    fn retire(
        store: &Store,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> impl Future<Output = StoreResult<Terminal>> + Send {
        store.retire_terminal(actor, id, reason)
    }
}

impl Registry for Nodes {
    type Row = NetworkNode;
    type Input = NodeInput;
    const PATH: &'static str = "nodes";
    const ENTITY: &'static str = "node";
    const SORT_KEYS: &'static [&'static str] = &["name", "kind", "site", "ip", "upstream"];

    fn kinds() -> Vec<&'static str> {
        NodeKind::ALL.iter().map(|k| k.code()).collect()
    }

    fn id(row: &NetworkNode) -> i64 {
        row.id
    }
    fn list(
        store: &Store,
        q: &ListQuery,
    ) -> impl Future<Output = StoreResult<Page<NetworkNode>>> + Send {
        store.nodes(q)
    }
    fn get(store: &Store, id: i64) -> impl Future<Output = StoreResult<NetworkNode>> + Send {
        store.node(id)
    }
    fn create(
        store: &Store,
        actor: &Actor,
        input: &NodeInput,
    ) -> impl Future<Output = StoreResult<NetworkNode>> + Send {
        store.create_node(actor, input)
    }
    fn update(
        store: &Store,
        actor: &Actor,
        id: i64,
        input: &NodeInput,
    ) -> impl Future<Output = StoreResult<NetworkNode>> + Send {
        store.update_node(actor, id, input)
    }
    fn retire(
        store: &Store,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> impl Future<Output = StoreResult<NetworkNode>> + Send {
        store.retire_node(actor, id, reason)
    }
}

// The token is always the first extractor, so that an unauthenticated request is answered 401 (and
// audited) before its path, query or body is looked at.

/// `GET /{records}`: a filtered, sorted page.
pub(super) async fn list<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOut<R::Row>>> {
    user.require(Action::ViewRegistry)?;
    check_list_query::<R>(&q)?;
    Ok(Json(R::list(&state.store, &q).await?.into()))
}

/// Refuses (400) a `sort`, `dir` or `kind` the list does not know, as the OpenAPI document's enums say,
/// instead of silently sorting by default or matching nothing.
fn check_list_query<R: Registry>(q: &ListQuery) -> ApiResult<()> {
    let mut fields = Vec::new();
    let mut one_of = |name: &str, value: &Option<String>, allowed: &[&str]| {
        if value.as_deref().is_some_and(|v| !allowed.contains(&v)) {
            fields.push(FieldError::new(
                name,
                format!(
                    "「{name}」は {} のいずれかで指定してください。",
                    allowed.join(", ")
                ),
            ));
        }
    };
    one_of("sort", &q.sort, R::SORT_KEYS);
    one_of("dir", &q.dir, &["asc", "desc"]);
    one_of("kind", &q.kind, &R::kinds());
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "検索条件（クエリパラメータ）に誤りがあります。".into(),
            fields,
        ))
    }
}

/// `GET /{records}/{id}`.
pub(super) async fn show<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<R::Row>> {
    user.require(Action::ViewRegistry)?;
    Ok(Json(R::get(&state.store, id).await?))
}

/// `POST /{records}`: 201 with the stored record and its `Location`.
pub(super) async fn create<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<R::Input>,
) -> ApiResult<Response> {
    let row = R::create(&state.store, &user.actor(), &input).await?;
    let location = format!("{PREFIX}/{}/{}", R::PATH, R::id(&row));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(row),
    )
        .into_response())
}

/// `PUT /{records}/{id}`: replaces every editable field (omitted fields become empty).
pub(super) async fn update<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<R::Input>,
) -> ApiResult<Json<R::Row>> {
    Ok(Json(
        R::update(&state.store, &user.actor(), id, &input).await?,
    ))
}

/// `POST /{records}/{id}/retire` with `{"reason": "…"}`.
pub(super) async fn retire<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Json<R::Row>> {
    Ok(Json(
        R::retire(&state.store, &user.actor(), id, &input.reason).await?,
    ))
}

/// Paging of a record's history.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// `GET /{records}/{id}/history`: the record's audit entries, newest first.
pub(super) async fn history<R: Registry>(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<PageOut<AuditEntry>>> {
    user.require(Action::ViewRegistry)?;
    R::get(&state.store, id).await?;
    let q = AuditQuery {
        entity: Some(R::ENTITY.into()),
        entity_id: Some(id.to_string()),
        page: q.page,
        per_page: q.per_page,
        ..Default::default()
    };
    Ok(Json(state.store.audit_log(&q).await?.into()))
}

/// `GET /nodes/{id}/path`: the node and every node above it, up to the root of the network.
pub(super) async fn node_path(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Vec<NetworkNode>>> {
    user.require(Action::ViewRegistry)?;
    state.store.node(id).await?;
    Ok(Json(state.store.node_path(id).await?))
}

/// `GET /audit`: a page of the audit log, newest first.
pub(super) async fn audit_log(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<PageOut<AuditEntry>>> {
    user.require(Action::ViewAudit)?;
    Ok(Json(state.store.audit_log(&q).await?.into()))
}

/// `GET /audit/verify`: walks the hash chain.
pub(super) async fn audit_verify(
    user: ApiUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Value>> {
    user.require(Action::ViewAudit)?;
    Ok(Json(
        match state.store.verify_and_record_audit_chain().await? {
            ChainReport::Intact { entries, head } => json!({
                "intact": true,
                "entries": entries,
                "head": head,
                "message": format!("監査ログの連鎖は正常です（{entries}件）。"),
            }),
            ChainReport::Broken { id, reason } => json!({
                "intact": false,
                "broken_id": id,
                "reason": reason,
                "message": format!("監査ログの連鎖が{id}番の記録で壊れています。改ざんまたは欠落の可能性があります。"),
            }),
        },
    ))
}

/// `GET /me`: the token's owner.
pub(super) async fn me(user: ApiUser) -> ApiResult<Json<Value>> {
    let role = user.user.role();
    let permissions: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| role.allows(*a))
        .collect();
    Ok(Json(json!({
        "username": user.user.username,
        "display_name": user.user.display_name,
        "role": role.as_str(),
        "role_label": role.label_ja(),
        "permissions": permissions,
    })))
}
