//! 端末: list, detail, new/edit, retire.

use super::history::{Entity, history};
use super::{
    Badge, Cell, DetailView, Field, FormView, ListPage, ListParams, ListView, OkQuery, PostedSite,
    Prop, RetireForm, SiteControl, SiteFilter, detail_response, fixable, form_id, form_response,
    parse_id, path_steps, retire_confirmation, retire_errors, site_form_field, status_props,
    terminal_kind_label, terminal_kind_options,
};
use crate::page::{Ctx, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use unyo_domain::registry::{TerminalInput, TerminalKind};
use unyo_domain::{Action, FieldError};
use unyo_store::registry::Terminal;

const BASE: &str = "/terminals";

/// `GET /terminals`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut params): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewRegistry)?;
    let tr = ctx.tr;
    let site_error = SiteFilter::apply_code(&state, tr, &mut params).await?;
    let (page, active_sites) = state.store.terminal_list(&params.query()).await?;
    let sites = SiteFilter::show(&state, &params, site_error, active_sites).await?;
    let def = Some("hostname");
    let headers = vec![
        params.th(tr, BASE, tr.t("terminal.hostname"), Some("hostname"), def),
        params.th(tr, BASE, tr.t("common.site"), Some("site"), def),
        params.th(tr, BASE, tr.t("common.kind"), Some("kind"), def),
        params.th(tr, BASE, tr.t("common.ip"), Some("ip"), def),
        params.th(tr, BASE, tr.t("terminal.os"), Some("os"), def),
        params.th(tr, BASE, tr.t("common.status"), None, def),
        params.th(tr, BASE, tr.t("common.updated"), Some("updated"), def),
    ];
    let meta = ctx.page(tr.t("terminal.title"), "terminals");
    let rows = page
        .items
        .iter()
        .map(|t| {
            let mut kind = Cell::text(terminal_kind_label(tr, &t.kind));
            if TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative) {
                kind = Cell::default().badge(Badge::representative(tr));
            }
            vec![
                Cell::link(&t.hostname, format!("{BASE}/{}", t.id)).class("mono"),
                Cell::link(&t.site_name, format!("/sites/{}", t.site_id)),
                kind,
                Cell::text(t.ip_address.clone().unwrap_or_default()).class("mono"),
                Cell::text(format!("{} {}", t.os_name, t.os_version).trim().to_string()),
                Cell::status(tr, t.retired_at.is_some()),
                Cell::text(meta.datetime(&t.updated_at)),
            ]
        })
        .collect();
    let kinds = terminal_kind_options(tr, params.kind.trim());
    let v = ListView::new(
        tr,
        BASE,
        params,
        tr.t("registry.q_terminals_hint"),
        kinds,
        Some(sites),
        headers,
        rows,
        &page,
    );
    render(&ListPage { page: meta, v })
}

fn input_of(f: &HashMap<String, String>) -> TerminalInput {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    TerminalInput {
        site_id: form_id(f.get("site_id")),
        hostname: g("hostname"),
        kind: g("kind"),
        ip_address: g("ip_address"),
        os_name: g("os_name"),
        os_version: g("os_version"),
        serial_number: g("serial_number"),
        asset_number: g("asset_number"),
        note: g("note"),
    }
}

fn input_from(t: &Terminal) -> TerminalInput {
    TerminalInput {
        site_id: Some(t.site_id),
        hostname: t.hostname.clone(),
        kind: t.kind.clone(),
        ip_address: t.ip_address.clone().unwrap_or_default(),
        os_name: t.os_name.clone(),
        os_version: t.os_version.clone(),
        serial_number: t.serial_number.clone(),
        asset_number: t.asset_number.clone(),
        note: t.note.clone(),
    }
}

/// How the terminal form takes its site: required, and a terminal may keep its own site.
fn site_control(tr: crate::i18n::Tr) -> SiteControl<'static> {
    SiteControl {
        label: tr.t("common.site"),
        required: true,
        keep_retired: true,
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &TerminalInput,
    typed_site: Option<&str>,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let (site_field, errors) = site_form_field(
        state,
        tr,
        &site_control(tr),
        input.site_id,
        typed_site,
        errors,
    )
    .await?;
    let kind = TerminalKind::parse(&input.kind)
        .map(|k| k.code())
        .unwrap_or("");
    let fields = vec![
        Field::text("hostname", tr.t("terminal.hostname"), &input.hostname)
            .required()
            .mono()
            .hint(tr.pick(
                "半角英数字とハイフン（例: saga-kencho-01）",
                "Letters, digits and hyphens (e.g. saga-kencho-01)",
            )),
        site_field,
        Field::select(
            "kind",
            tr.t("common.kind"),
            tr.t("registry.choose"),
            terminal_kind_options(tr, kind),
        )
        .required(),
        Field::text("ip_address", tr.t("common.ip"), &input.ip_address)
            .mono()
            .hint(tr.pick("例: 10.41.0.11", "e.g. 10.41.0.11")),
        Field::text("os_name", tr.t("terminal.os"), &input.os_name),
        Field::text("os_version", tr.t("terminal.os_version"), &input.os_version),
        Field::text(
            "serial_number",
            tr.t("terminal.serial"),
            &input.serial_number,
        ),
        Field::text("asset_number", tr.t("terminal.asset"), &input.asset_number),
        Field::textarea("note", tr.t("common.note"), &input.note),
    ];
    let (title, action, cancel) = match id {
        Some(id) => (
            tr.t("terminal.edit"),
            format!("{BASE}/{id}"),
            format!("{BASE}/{id}"),
        ),
        None => (tr.t("terminal.new"), BASE.to_string(), BASE.to_string()),
    };
    let form = FormView::new(action, cancel, fields, &errors);
    form_response(ctx.page(title, "terminals"), form)
}

/// `GET /terminals/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    form_page(&state, &ctx, None, &TerminalInput::default(), None, &[]).await
}

/// `POST /terminals`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let site = PostedSite::read(&state, ctx.tr, &f, &site_control(ctx.tr), None).await?;
    let input = TerminalInput {
        site_id: site.id,
        ..input_of(&f)
    };
    if site.error.is_some() {
        let errors = site.errors(input.validate().err());
        return form_page(&state, &ctx, None, &input, site.code.as_deref(), &errors).await;
    }
    match state.store.create_terminal(&ctx.actor(), &input).await {
        Ok(t) => Ok(Redirect::to(&format!("{BASE}/{}?ok=saved", t.id)).into_response()),
        Err(e) => {
            let errors = fixable(e, "hostname")?;
            form_page(&state, &ctx, None, &input, site.code.as_deref(), &errors).await
        }
    }
}

/// `GET /terminals/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let t = state.store.terminal(id).await?;
    if t.retired_at.is_some() {
        return Ok(Redirect::to(&format!("{BASE}/{id}")).into_response());
    }
    form_page(&state, &ctx, Some(id), &input_from(&t), None, &[]).await
}

/// `POST /terminals/{id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let own_site = state.store.terminal(id).await?.site_id;
    let site = PostedSite::read(&state, ctx.tr, &f, &site_control(ctx.tr), Some(own_site)).await?;
    let input = TerminalInput {
        site_id: site.id,
        ..input_of(&f)
    };
    if site.error.is_some() {
        let errors = site.errors(input.validate().err());
        return form_page(
            &state,
            &ctx,
            Some(id),
            &input,
            site.code.as_deref(),
            &errors,
        )
        .await;
    }
    match state.store.update_terminal(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e, "hostname")?;
            form_page(
                &state,
                &ctx,
                Some(id),
                &input,
                site.code.as_deref(),
                &errors,
            )
            .await
        }
    }
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    ok: Option<&str>,
    reason: String,
    (reason_error, retire_error): (String, String),
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let t = state.store.terminal(id).await?;
    let page = ctx.page(t.hostname.clone(), "terminals").with_flash(ok);
    let mut kind = Cell::text(terminal_kind_label(tr, &t.kind));
    if TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative) {
        kind = Cell::default().badge(Badge::representative(tr));
    }
    let mut props = vec![
        Prop::new(
            tr.t("terminal.hostname"),
            Cell::text(&t.hostname).class("mono"),
        ),
        Prop::new(
            tr.t("common.site"),
            Cell::link(
                format!("{}（{}）", t.site_name, t.site_code),
                format!("/sites/{}", t.site_id),
            ),
        ),
        Prop::new(tr.t("common.kind"), kind),
        Prop::new(
            tr.t("common.ip"),
            Cell::text(t.ip_address.clone().unwrap_or_default()).class("mono"),
        ),
        Prop::new(tr.t("terminal.os"), Cell::text(&t.os_name)),
        Prop::new(tr.t("terminal.os_version"), Cell::text(&t.os_version)),
        Prop::new(tr.t("terminal.serial"), Cell::text(&t.serial_number)),
        Prop::new(tr.t("terminal.asset"), Cell::text(&t.asset_number)),
        Prop::new(tr.t("common.note"), Cell::text(&t.note)),
    ];
    props.extend(status_props(
        &page,
        &t.created_at,
        &t.updated_at,
        &t.retired_at,
    ));
    let uplink = state.store.site(t.site_id).await?.uplink_node_id;
    let path = path_steps(state, tr, uplink).await?;
    let history = history(&state.store, &page, Entity::Terminal, id).await?;
    let d = DetailView {
        back: BASE,
        edit_href: format!("{BASE}/{id}/edit"),
        retire_action: format!("{BASE}/{id}/retire"),
        retired: t.retired_at.as_ref().map(|r| page.datetime(r)),
        props,
        path_heading: tr.t("node.path").to_string(),
        path: Some(path),
        no_path: tr.t("registry.no_uplink").to_string(),
        tables: Vec::new(),
        history,
        reason_error,
        retire_error,
        reason,
    };
    detail_response(page, d)
}

/// `GET /terminals/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRegistry)?;
    let id = parse_id(&id)?;
    detail_page(
        &state,
        &ctx,
        id,
        ok.get(),
        String::new(),
        Default::default(),
    )
    .await
}

/// `POST /terminals/{id}/retire`.
pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let name = state.store.terminal(id).await?.hostname;
    match retire_confirmation(
        &ctx,
        format!("端末 {name}"),
        format!("{BASE}/{id}/retire"),
        format!("{BASE}/{id}"),
        &f,
    ) {
        Some(Ok(page)) => return Ok(page),
        Some(Err(e)) => {
            let errors = retire_errors(e.into())?;
            return detail_page(&state, &ctx, id, None, f.reason, errors).await;
        }
        None => {}
    }
    match state
        .store
        .retire_terminal(&ctx.actor(), id, &f.reason)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=retired")).into_response()),
        Err(e) => {
            let errors = retire_errors(e)?;
            detail_page(&state, &ctx, id, None, f.reason, errors).await
        }
    }
}
