//! `GET /inventory/review`: inventories that matched no terminal, or several, with the matching rule;
//! `POST /inventory/review/{id}/link` (`terminal_id`) and `POST /inventory/review/{id}/register`
//! (`site_id`, `kind`).

use super::{format_label, or_dash, os_text, parse_id, source_label};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::registry::TerminalKind;
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Params {
    ok: String,
}

/// A `<select>` option.
pub(super) struct Choice {
    value: String,
    label: String,
}

pub(super) struct CandidateView {
    terminal_id: i64,
    label: String,
    rule: String,
}

pub(super) struct Item {
    id: i64,
    hostname: String,
    reason: String,
    facts: Vec<(String, String)>,
    candidates: Vec<CandidateView>,
}

#[derive(askama::Template)]
#[template(path = "inventory_review.html")]
struct ReviewPage {
    page: PageMeta,
    items: Vec<Item>,
    terminals: Vec<Choice>,
    sites: Vec<Choice>,
    kinds: Vec<Choice>,
    can_review: bool,
    can_register: bool,
    error: String,
}

async fn review_page(
    state: &AppState,
    ctx: &Ctx,
    flash: Option<&'static str>,
    error: String,
) -> Result<ReviewPage, WebError> {
    let tr = ctx.tr;
    let mut meta = ctx.page(tr.t("inventory.review"), "inventory");
    meta.flash = flash;
    let queue = state.store.review_queue().await?;
    let items = queue
        .into_iter()
        .map(|q| {
            let s = &q.inventory;
            let facts = vec![
                (
                    tr.t("inventory.received_at").to_string(),
                    meta.datetime(&s.received_at),
                ),
                (
                    tr.t("inventory.source").to_string(),
                    format!("{}（{}）", source_label(tr, &s.source), s.received_by),
                ),
                (
                    tr.t("inventory.format").to_string(),
                    format_label(&s.format).to_string(),
                ),
                (
                    tr.t("inventory.os").to_string(),
                    format!(
                        "{} / {}",
                        os_text(
                            s.os_full_name.as_deref(),
                            s.os_name.as_deref(),
                            s.os_version.as_deref()
                        ),
                        or_dash(s.os_build.as_deref())
                    ),
                ),
                (
                    tr.t("inventory.uuid").to_string(),
                    or_dash(s.uuid.as_deref()),
                ),
                (
                    tr.t("inventory.serial").to_string(),
                    or_dash(s.serial.as_deref()),
                ),
                (
                    tr.t("inventory.device_id").to_string(),
                    or_dash(s.device_id.as_deref()),
                ),
                (
                    tr.t("inventory.software_count").to_string(),
                    s.software_count.to_string(),
                ),
            ];
            Item {
                id: s.id,
                hostname: or_dash(s.hostname.as_deref()),
                reason: match q.reason.as_str() {
                    "ambiguous" => tr.t("inventory.reason_ambiguous"),
                    _ => tr.t("inventory.reason_unknown"),
                }
                .to_string(),
                facts,
                candidates: q
                    .candidates
                    .iter()
                    .map(|c| CandidateView {
                        terminal_id: c.terminal_id,
                        label: format!("{}（{}）", c.hostname, c.site_name),
                        rule: super::matched_label(tr, &c.rule).to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    let terminals = state
        .store
        .terminal_choices()
        .await?
        .into_iter()
        .map(|(id, host, site)| Choice {
            value: id.to_string(),
            label: format!("{host}（{site}）"),
        })
        .collect();
    let sites = state
        .store
        .site_options()
        .await?
        .into_iter()
        .map(|(id, code, name)| Choice {
            value: id.to_string(),
            label: format!("{name}（{code}）"),
        })
        .collect();
    let kinds = TerminalKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_string(),
            label: tr.pick(k.label_ja(), k.label_en()).to_string(),
        })
        .collect();
    let role = ctx.user.role();
    Ok(ReviewPage {
        page: meta,
        items,
        terminals,
        sites,
        kinds,
        can_review: role.allows(Action::ReviewInventory),
        can_register: role.allows(Action::ReviewInventory) && role.allows(Action::EditRegistry),
        error,
    })
}

/// `GET /inventory/review`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewInventory)?;
    let flash = match p.ok.as_str() {
        "linked" => Some(ctx.tr.t("inventory.linked")),
        _ => None,
    };
    Ok(render(&review_page(&state, &ctx, flash, String::new()).await?)?.into_response())
}

/// A refusal the person can act on is shown on the page; anything else is an error page.
async fn refused(state: &AppState, ctx: &Ctx, e: StoreError) -> Result<Response, WebError> {
    let message = match e {
        StoreError::Domain(DomainError::Validation(fields)) => fields
            .into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
            .join(" "),
        StoreError::Domain(DomainError::Conflict(m)) => m,
        StoreError::Domain(DomainError::NotFound(_)) => {
            ctx.tr.pick("見つかりません。", "Not found.").to_string()
        }
        other => return Err(other.into()),
    };
    let p = review_page(state, ctx, None, message).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LinkForm {
    terminal_id: String,
}

/// `POST /inventory/review/{id}/link`.
pub(super) async fn link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ReviewInventory)?;
    let id = parse_id(&id)?;
    let Ok(terminal_id) = f.terminal_id.trim().parse::<i64>() else {
        let msg = ctx
            .tr
            .pick(
                "紐付ける端末を選択してください。",
                "Choose the terminal to link to.",
            )
            .to_string();
        let p = review_page(&state, &ctx, None, msg).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response());
    };
    match state
        .store
        .link_inventory(&ctx.actor(), id, terminal_id)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/inventory/terminals/{terminal_id}?ok=linked")).into_response(),
        ),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RegisterForm {
    site_id: String,
    kind: String,
}

/// `POST /inventory/review/{id}/register`.
pub(super) async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RegisterForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ReviewInventory)?;
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let Ok(site_id) = f.site_id.trim().parse::<i64>() else {
        let msg = ctx
            .tr
            .pick("設置拠点を選択してください。", "Choose the site.")
            .to_string();
        let p = review_page(&state, &ctx, None, msg).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response());
    };
    match state
        .store
        .register_terminal_from_inventory(&ctx.actor(), id, site_id, &f.kind)
        .await
    {
        Ok(terminal_id) => Ok(Redirect::to(&format!(
            "/inventory/terminals/{terminal_id}?ok=registered"
        ))
        .into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}
