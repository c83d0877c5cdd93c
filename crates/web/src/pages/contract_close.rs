//! The contract-close checklist (契約終了時の確認, R11): `GET /contracts/{id}/close` shows each item with
//! its evidence; `POST /contracts/{id}/close/items` records an item as done (with the export's
//! `SHA256SUMS` hash, or an erasure record with its certificate) or waived with a reason;
//! `POST /contracts/{id}/close` closes the contract once every item is done or waived. Recording and
//! closing are the prefecture's ([`Action::CloseContract`]: admin, staff); everyone who reads contracts
//! sees the page.

use crate::page::{Ctx, PageMeta, render};
use crate::view::parse_id;
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use unyo_domain::erasure::CloseItemInput;
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;
use unyo_store::contract_close::Checklist;

/// The checklist routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/contracts/{id}/close", get(page).post(close))
        .route("/contracts/{id}/close/items", post(record_item))
}

struct Line {
    item: String,
    label: String,
    state: String,
    detail: String,
    at: String,
}

struct ErasureOpt {
    id: i64,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "contracts_close.html")]
struct ClosePage {
    page: PageMeta,
    contract_id: i64,
    lines: Vec<Line>,
    complete: bool,
    closed: String,
    can_close: bool,
    erasures: Vec<ErasureOpt>,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    ok: String,
}

async fn close_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    errors: Vec<String>,
) -> Result<ClosePage, WebError> {
    let contract = state.store.contract(id).await?;
    let meta = ctx.page(
        format!(
            "{}（{}）",
            ctx.tr.pick("契約終了の確認", "Contract close"),
            contract.name
        ),
        "contracts",
    );
    let list: Checklist = state.store.contract_checklist(&ctx.actor(), id).await?;
    let lines = list
        .lines
        .iter()
        .map(|l| {
            let (state, detail, at) = match &l.record {
                None => ("未了".to_string(), String::new(), String::new()),
                Some(r) if r.state == "waived" => (
                    "免除".into(),
                    format!("理由: {}", r.reason),
                    format!("{}（{}）", meta.datetime(&r.recorded_at), r.recorded_by),
                ),
                Some(r) => {
                    let mut d = Vec::new();
                    if let Some(m) = &r.manifest_sha256 {
                        d.push(format!("SHA256SUMS の SHA-256: {m}"));
                    }
                    if let Some(e) = r.erasure_id {
                        d.push(format!("消去記録 No.{e}"));
                    }
                    if !r.evidence.is_empty() {
                        d.push(r.evidence.clone());
                    }
                    (
                        "完了".into(),
                        d.join(" ／ "),
                        format!("{}（{}）", meta.datetime(&r.recorded_at), r.recorded_by),
                    )
                }
            };
            Line {
                item: l.item.clone(),
                label: l.label.clone(),
                state,
                detail,
                at,
            }
        })
        .collect();
    let erasures = if ctx.user.role().allows(Action::ViewErasures) {
        state
            .store
            .erasures(&ctx.actor())
            .await?
            .into_iter()
            .filter(|e| e.verified && e.certificate_pdf_sha256.is_some())
            .map(|e| ErasureOpt {
                id: e.id,
                label: format!("No.{} {}（{}）", e.id, e.medium, e.identifier),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ClosePage {
        contract_id: id,
        complete: list.complete(),
        closed: list
            .closed
            .as_ref()
            .map(|(by, at)| format!("{}（{}）", meta.datetime(at), by))
            .unwrap_or_default(),
        can_close: ctx.user.role().allows(Action::CloseContract),
        page: meta,
        lines,
        erasures,
        errors,
    })
}

/// `GET /contracts/{id}/close`.
async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let id = parse_id(&id)?;
    let mut v = close_page(&state, &ctx, id, Vec::new()).await?;
    if !p.ok.is_empty() {
        v.page.flash = Some(ctx.tr.pick("記録しました。", "Recorded."));
    }
    Ok(render(&v)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ItemForm {
    item: String,
    state: String,
    manifest_sha256: String,
    erasure_id: String,
    evidence: String,
    reason: String,
}

async fn refused(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    e: StoreError,
) -> Result<Response, WebError> {
    let messages = match e {
        StoreError::Domain(DomainError::Validation(fields)) => {
            fields.into_iter().map(|f| f.message).collect()
        }
        StoreError::Domain(DomainError::Conflict(m)) => vec![m],
        other => return Err(other.into()),
    };
    let v = close_page(state, ctx, id, messages).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&v)?).into_response())
}

/// `POST /contracts/{id}/close/items`.
async fn record_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ItemForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::CloseContract)?;
    let id = parse_id(&id)?;
    let input = CloseItemInput {
        item: f.item,
        state: f.state,
        manifest_sha256: f.manifest_sha256,
        erasure_id: f.erasure_id.trim().parse().ok(),
        evidence: f.evidence,
        reason: f.reason,
    };
    let result = match input.validate() {
        Ok(d) => state.store.record_close_item(&ctx.actor(), id, &d).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/contracts/{id}/close?ok=1")).into_response()),
        Err(e) => refused(&state, &ctx, id, e).await,
    }
}

/// `POST /contracts/{id}/close`: with every item done or waived, a confirmation step first (closing
/// cannot be undone), then the close.
async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::CloseContract)?;
    let id = parse_id(&id)?;
    if !crate::confirm::confirmed(&f)
        && state
            .store
            .contract_checklist(&ctx.actor(), id)
            .await?
            .complete()
    {
        let contract = state.store.contract(id).await?;
        let tr = ctx.tr;
        return crate::confirm::ConfirmStep {
            page: ctx.page(tr.pick("契約終了の確認", "Confirm the close"), "contracts"),
            heading: tr
                .pick("契約を終了します", "Close the contract")
                .to_string(),
            facts: vec![
                (tr.pick("契約", "Contract").into(), contract.name.clone()),
                (tr.pick("契約番号", "Number").into(), contract.number.clone()),
            ],
            paragraphs: vec![tr
                .pick(
                    "終了すると、この契約の確認項目は変更できなくなり、画面から元に戻すことはできません。終了の日時と操作者は監査ログに残ります。",
                    "Once closed, the contract's checklist can no longer change, and the pages cannot undo it. When and by whom stay in the audit log.",
                )
                .into()],
            action: format!("/contracts/{id}/close"),
            hidden: crate::confirm::carried(&f),
            button: tr.pick("契約を終了する", "Close the contract").into(),
            cancel_href: format!("/contracts/{id}/close"),
        }
        .respond();
    }
    match state.store.close_contract(&ctx.actor(), id).await {
        Ok(_) => Ok(Redirect::to(&format!("/contracts/{id}/close?ok=1")).into_response()),
        Err(e) => refused(&state, &ctx, id, e).await,
    }
}
