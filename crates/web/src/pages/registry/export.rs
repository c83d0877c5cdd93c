//! CSV and Excel exports of the three registers. Each export contains every row matching the list's
//! current filter (not only the page shown) and is written to the audit log (R12).

use super::ListParams;
use crate::download::content_disposition;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::future::Future;
use unyo_domain::Action;
use unyo_store::Page;
use unyo_store::audit::ExportKind;
use unyo_store::registry::{ListQuery, Status};

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The store's largest page.
const CHUNK: i64 = 500;

/// Every row of a filtered list, fetched page by page.
async fn collect_all<T, F, Fut>(mut q: ListQuery, fetch: F) -> Result<Vec<T>, WebError>
where
    F: Fn(ListQuery) -> Fut,
    Fut: Future<Output = unyo_store::Result<Page<T>>>,
{
    q.per_page = Some(CHUNK);
    q.page = Some(1);
    let mut out = Vec::new();
    loop {
        let page = fetch(q.clone()).await?;
        let got = page.items.len();
        let total = page.total;
        out.extend(page.items);
        if got == 0 || out.len() as i64 >= total {
            break;
        }
        q.page = Some(q.page.unwrap_or(1) + 1);
    }
    Ok(out)
}

/// Today's date in JST as `YYYYMMDD`, for file names.
fn today() -> String {
    unyo_domain::time::to_jst(chrono::Utc::now())
        .format("%Y%m%d")
        .to_string()
}

/// A download: Japanese file name for browsers that read `filename*`, ASCII for the rest.
fn attachment(
    body: Vec<u8>,
    content_type: &'static str,
    ja: &str,
    ascii: &str,
    ext: &str,
) -> Response {
    let date = today();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(
            &format!("{ascii}_{date}.{ext}"),
            &format!("{ja}_{date}.{ext}"),
        ),
    );
    res
}

async fn audit_export(
    state: &AppState,
    ctx: &Ctx,
    what: ExportKind,
    format: &str,
    rows: usize,
    params: &ListParams,
) -> Result<(), WebError> {
    state
        .store
        .record_export(
            &ctx.actor(),
            what,
            "",
            "",
            json!({
                "format": format,
                "rows": rows,
                "filter": params.filter_json(),
            }),
        )
        .await?;
    Ok(())
}

fn xlsx_error(e: unyo_exchange::ExchangeError) -> WebError {
    WebError::Internal(e.to_string())
}

async fn terminals(
    state: &AppState,
    ctx: &Ctx,
    params: &ListParams,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ExportRegistry)?;
    let store = state.store.clone();
    let rows = collect_all(params.query(), move |q| {
        let store = store.clone();
        async move { store.terminals(&q).await }
    })
    .await?;
    let (body, ct) = if format == "csv" {
        (unyo_exchange::terminals_csv(&rows), CSV)
    } else {
        (
            unyo_exchange::terminals_xlsx(&rows).map_err(xlsx_error)?,
            XLSX,
        )
    };
    audit_export(
        state,
        ctx,
        ExportKind::Terminals,
        format,
        rows.len(),
        params,
    )
    .await?;
    Ok(attachment(body, ct, "端末台帳", "terminals", format))
}

async fn sites(
    state: &AppState,
    ctx: &Ctx,
    params: &ListParams,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ExportRegistry)?;
    let store = state.store.clone();
    let rows = collect_all(params.query(), move |q| {
        let store = store.clone();
        async move { store.sites(&q).await }
    })
    .await?;
    let (body, ct) = if format == "csv" {
        (unyo_exchange::sites_csv(&rows), CSV)
    } else {
        (unyo_exchange::sites_xlsx(&rows).map_err(xlsx_error)?, XLSX)
    };
    audit_export(state, ctx, ExportKind::Sites, format, rows.len(), params).await?;
    Ok(attachment(body, ct, "拠点台帳", "sites", format))
}

async fn nodes(
    state: &AppState,
    ctx: &Ctx,
    params: &ListParams,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ExportRegistry)?;
    let store = state.store.clone();
    let rows = collect_all(params.query(), move |q| {
        let store = store.clone();
        async move { store.nodes(&q).await }
    })
    .await?;
    // Every site, retired ones included, so that each node's 拠点コード can be written.
    let store = state.store.clone();
    let all_sites = collect_all(
        ListQuery {
            status: Some(Status::All),
            ..Default::default()
        },
        move |q| {
            let store = store.clone();
            async move { store.sites(&q).await }
        },
    )
    .await?;
    let (body, ct) = if format == "csv" {
        (unyo_exchange::nodes_csv(&rows, &all_sites), CSV)
    } else {
        (
            unyo_exchange::nodes_xlsx(&rows, &all_sites).map_err(xlsx_error)?,
            XLSX,
        )
    };
    audit_export(state, ctx, ExportKind::Nodes, format, rows.len(), params).await?;
    Ok(attachment(
        body,
        ct,
        "ネットワーク機器台帳",
        "nodes",
        format,
    ))
}

/// `GET /terminals/export.csv`.
pub(super) async fn terminals_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    terminals(&state, &ctx, &p, "csv").await
}

/// `GET /terminals/export.xlsx`.
pub(super) async fn terminals_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    terminals(&state, &ctx, &p, "xlsx").await
}

/// `GET /sites/export.csv`.
pub(super) async fn sites_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    sites(&state, &ctx, &p, "csv").await
}

/// `GET /sites/export.xlsx`.
pub(super) async fn sites_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    sites(&state, &ctx, &p, "xlsx").await
}

/// `GET /nodes/export.csv`.
pub(super) async fn nodes_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    nodes(&state, &ctx, &p, "csv").await
}

/// `GET /nodes/export.xlsx`.
pub(super) async fn nodes_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    nodes(&state, &ctx, &p, "xlsx").await
}
