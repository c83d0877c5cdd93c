//! 確認ルート: the prefecture's 確認欄 columns of a contract's 業務実績簿 (e.g. 担当・係長・課長), each
//! optionally held by one account. Everyone who reads the contract sees it; the prefecture
//! administrator sets it (ManageContracts). A change applies to submissions from then on.

use super::{Errors, Fields, Opt, fixable, parse_id, respond};
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use unyo_domain::records::RouteStep;
use unyo_domain::{Action, FieldError};
use unyo_store::users::User;

/// Rows the form offers (the route may have up to six columns; empty rows are ignored).
const ROWS: usize = 6;

/// One column of the form.
pub(super) struct StepRow {
    /// Field names: `label_N`, `holder_N`.
    pub n: usize,
    pub label: String,
    pub holders: Vec<Opt>,
}

#[derive(askama::Template)]
#[template(path = "contracts_route.html")]
struct RoutePage {
    page: PageMeta,
    action: String,
    cancel: String,
    rows: Vec<StepRow>,
    errors: Errors,
    intro: &'static str,
    label_head: &'static str,
    holder_head: &'static str,
    save: &'static str,
}

/// Who may hold a step: accounts in service that may confirm records, and the one already chosen.
fn holder_options(ctx: &Ctx, users: &[User], chosen: Option<i64>) -> Vec<Opt> {
    let mut out = vec![Opt::new(
        "",
        ctx.tr.pick(
            "（確認できる県の利用者なら誰でも）",
            "(anyone of the prefecture who may confirm)",
        ),
        chosen.is_none(),
    )];
    for u in users.iter().filter(|u| {
        Some(u.id) == chosen || (u.disabled_at.is_none() && u.role().allows(Action::ConfirmRecords))
    }) {
        let role = u.role();
        out.push(Opt::new(
            u.id.to_string(),
            format!(
                "{}（{}）",
                u.display_name,
                ctx.tr.pick(role.label_ja(), role.label_en())
            ),
            Some(u.id) == chosen,
        ));
    }
    out
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    steps: &[RouteStep],
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let c = state.store.contract(id).await?;
    let users = state.store.users().await?;
    let rows = (0..ROWS)
        .map(|i| {
            let s = steps.get(i);
            StepRow {
                n: i + 1,
                label: s.map(|s| s.label.clone()).unwrap_or_default(),
                holders: holder_options(ctx, &users, s.and_then(|s| s.user_id)),
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tr = ctx.tr;
    let view = RoutePage {
        page: ctx.page(
            format!("{} {}", c.number, tr.pick("業務実績簿の確認ルート", "Approval route")),
            "contracts",
        ),
        action: format!("/contracts/{id}/route"),
        cancel: format!("/contracts/{id}"),
        rows,
        errors: Errors::new(errors, &["route"], ""),
        intro: tr.pick(
            "業務実績簿の確認欄を、確認する順に左から入力します（例: 担当・係長・課長）。担当者を指定した欄は、その方だけが確認できます。変更はこれから提出される版に適用され、提出済みの版はその時点のルートのままです。",
            "The prefecture's confirmation columns of the monthly record, in the order they confirm (e.g. 担当・係長・課長). A column with a holder can be confirmed by that person only. A change applies to versions submitted from now on.",
        ),
        label_head: tr.pick("確認欄の名称", "Column"),
        holder_head: tr.pick("担当者", "Holder"),
        save: tr.pick("保存", "Save"),
    };
    respond(status, &view)
}

/// `GET /contracts/{id}/route`.
pub(super) async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let id = parse_id(&id)?;
    let steps = state.store.approval_route(id).await?;
    form_page(&state, &ctx, id, &steps, Vec::new()).await
}

/// The steps as typed: rows with a name, in order; a holder without a name is an error.
fn steps_of(f: &Fields) -> (Vec<RouteStep>, Vec<FieldError>) {
    let mut steps = Vec::new();
    let mut errors = Vec::new();
    for n in 1..=ROWS {
        let label = f.get(&format!("label_{n}"));
        let holder = f.get(&format!("holder_{n}")).trim().parse::<i64>().ok();
        if label.trim().is_empty() {
            if holder.is_some() {
                errors.push(FieldError::new(
                    "route",
                    format!("{n}列目: 担当者を指定した欄には名称を入力してください。"),
                ));
            }
            continue;
        }
        steps.push(RouteStep {
            label,
            user_id: holder,
        });
    }
    (steps, errors)
}

/// `POST /contracts/{id}/route`.
pub(super) async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let id = parse_id(&id)?;
    state.store.contract(id).await?;
    let (steps, errors) = steps_of(&Fields(f));
    if !errors.is_empty() {
        return form_page(&state, &ctx, id, &steps, errors).await;
    }
    match state
        .store
        .set_approval_route(&ctx.actor(), id, &steps)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/contracts/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            form_page(&state, &ctx, id, &steps, errors).await
        }
    }
}
