//! 拠点: list, detail (terminals, path into the network), new/edit, retire.

use super::history::{Entity, history};
use super::{
    Badge, Cell, DetailView, Field, FormView, ListPage, ListParams, ListView, OkQuery, Opt, Prop,
    RetireForm, SubTable, detail_response, fixable, form_id, form_response, parse_id, path_steps,
    retire_confirmation, retire_errors, site_kind_label, site_kind_options, status_props,
    terminal_kind_label,
};
use crate::page::{Ctx, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use unyo_domain::registry::{SiteInput, SiteKind, TerminalKind};
use unyo_domain::{Action, FieldError};
use unyo_store::registry::{ListQuery, Site, Status};

const BASE: &str = "/sites";

/// `GET /sites`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewRegistry)?;
    let tr = ctx.tr;
    let page = state.store.sites(&params.query()).await?;
    let headers = vec![
        params.th(tr, BASE, tr.t("site.code"), Some("code"), None),
        params.th(tr, BASE, tr.t("site.name"), Some("name"), None),
        params.th(tr, BASE, tr.t("common.kind"), Some("kind"), None),
        params.th(tr, BASE, tr.t("site.uplink"), None, None),
        {
            let mut th = params.th(tr, BASE, tr.t("site.terminals"), Some("terminals"), None);
            th.class = "num";
            th
        },
        params.th(tr, BASE, tr.t("common.status"), None, None),
        params.th(tr, BASE, tr.t("common.updated"), Some("updated"), None),
    ];
    let meta = ctx.page(tr.t("site.title"), "sites");
    let rows = page
        .items
        .iter()
        .map(|s| {
            vec![
                Cell::link(&s.code, format!("{BASE}/{}", s.id)).class("mono"),
                Cell::link(&s.name, format!("{BASE}/{}", s.id)),
                Cell::text(site_kind_label(tr, &s.kind)),
                match (s.uplink_node_id, &s.uplink_node_name) {
                    (Some(id), Some(name)) => Cell::link(name, format!("/nodes/{id}")),
                    _ => Cell::text(tr.t("registry.none")),
                },
                Cell::text(s.terminal_count.to_string()).class("num"),
                Cell::status(tr, s.retired_at.is_some()),
                Cell::text(meta.datetime(&s.updated_at)),
            ]
        })
        .collect();
    let kinds = site_kind_options(tr, params.kind.trim());
    let v = ListView::new(
        tr,
        BASE,
        params,
        tr.t("registry.q_sites_hint"),
        kinds,
        None,
        headers,
        rows,
        &page,
    );
    render(&ListPage { page: meta, v })
}

fn input_of(f: &HashMap<String, String>) -> SiteInput {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    SiteInput {
        code: g("code"),
        name: g("name"),
        kind: g("kind"),
        address: g("address"),
        phone: g("phone"),
        uplink_node_id: form_id(f.get("uplink_node_id")),
        note: g("note"),
    }
}

fn input_from(s: &Site) -> SiteInput {
    SiteInput {
        code: s.code.clone(),
        name: s.name.clone(),
        kind: s.kind.clone(),
        address: s.address.clone(),
        phone: s.phone.clone(),
        uplink_node_id: s.uplink_node_id,
        note: s.note.clone(),
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &SiteInput,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let nodes = state.store.all_nodes().await?;
    let current = input
        .uplink_node_id
        .map(|n| n.to_string())
        .unwrap_or_default();
    let node_opts: Vec<Opt> = nodes
        .iter()
        .map(|n| Opt::matching(n.id.to_string(), &n.name, &current))
        .collect();
    let kind = SiteKind::parse(&input.kind).map(|k| k.code()).unwrap_or("");
    let fields = vec![
        Field::text("code", tr.t("site.code"), &input.code)
            .required()
            .mono()
            .hint(tr.pick(
                "半角英数字・ハイフン・下線、32文字以内（例: KENCHO）",
                "Letters, digits, hyphen, underscore; up to 32 (e.g. KENCHO)",
            )),
        Field::text("name", tr.t("site.name"), &input.name).required(),
        Field::select(
            "kind",
            tr.t("common.kind"),
            tr.t("registry.choose"),
            site_kind_options(tr, kind),
        )
        .required(),
        Field::text("address", tr.t("site.address"), &input.address),
        Field::text("phone", tr.t("site.phone"), &input.phone)
            .hint(tr.pick("例: 0952-25-7000", "e.g. 0952-25-7000")),
        Field::select(
            "uplink_node_id",
            tr.t("site.uplink"),
            tr.t("registry.none"),
            node_opts,
        )
        .hint(tr.pick(
            "この拠点が集約ネットワークに接続する最初の機器",
            "The first node this site connects through",
        )),
        Field::textarea("note", tr.t("common.note"), &input.note),
    ];
    let (title, action, cancel) = match id {
        Some(id) => (
            tr.t("site.edit"),
            format!("{BASE}/{id}"),
            format!("{BASE}/{id}"),
        ),
        None => (tr.t("site.new"), BASE.to_string(), BASE.to_string()),
    };
    let form = FormView::new(action, cancel, fields, errors);
    form_response(ctx.page(title, "sites"), form)
}

/// `GET /sites/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    form_page(&state, &ctx, None, &SiteInput::default(), &[]).await
}

/// `POST /sites`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let input = input_of(&f);
    match state.store.create_site(&ctx.actor(), &input).await {
        Ok(s) => Ok(Redirect::to(&format!("{BASE}/{}?ok=saved", s.id)).into_response()),
        Err(e) => {
            let errors = fixable(e, "code")?;
            form_page(&state, &ctx, None, &input, &errors).await
        }
    }
}

/// `GET /sites/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let s = state.store.site(id).await?;
    if s.retired_at.is_some() {
        return Ok(Redirect::to(&format!("{BASE}/{id}")).into_response());
    }
    form_page(&state, &ctx, Some(id), &input_from(&s), &[]).await
}

/// `POST /sites/{id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let input = input_of(&f);
    match state.store.update_site(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e, "code")?;
            form_page(&state, &ctx, Some(id), &input, &errors).await
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
    let s = state.store.site(id).await?;
    let page = ctx.page(s.name.clone(), "sites").with_flash(ok);
    let mut props = vec![
        Prop::new(tr.t("site.code"), Cell::text(&s.code).class("mono")),
        Prop::new(tr.t("site.name"), Cell::text(&s.name)),
        Prop::new(
            tr.t("common.kind"),
            Cell::text(site_kind_label(tr, &s.kind)),
        ),
        Prop::new(tr.t("site.address"), Cell::text(&s.address)),
        Prop::new(tr.t("site.phone"), Cell::text(&s.phone)),
        Prop::new(
            tr.t("site.uplink"),
            match (s.uplink_node_id, &s.uplink_node_name) {
                (Some(nid), Some(name)) => Cell::link(name, format!("/nodes/{nid}")),
                _ => Cell::text(tr.t("registry.none")),
            },
        ),
        Prop::new(
            tr.t("site.terminals"),
            Cell::text(format!("{} {}", s.terminal_count, tr.t("registry.units"))),
        ),
        Prop::new(tr.t("common.note"), Cell::text(&s.note)),
    ];
    props.extend(status_props(
        &page,
        &s.created_at,
        &s.updated_at,
        &s.retired_at,
    ));
    let path = path_steps(state, tr, s.uplink_node_id).await?;
    let terminals = state
        .store
        .terminals(&ListQuery {
            site_id: Some(id),
            status: Some(Status::All),
            per_page: Some(500),
            ..Default::default()
        })
        .await?;
    let table = SubTable {
        heading: tr.t("registry.terminals_here").to_string(),
        headers: vec![
            tr.t("terminal.hostname").to_string(),
            tr.t("common.kind").to_string(),
            tr.t("common.ip").to_string(),
            tr.t("terminal.os").to_string(),
            tr.t("common.status").to_string(),
        ],
        rows: terminals
            .items
            .iter()
            .map(|t| {
                let kind = if TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative) {
                    Cell::default().badge(Badge::representative(tr))
                } else {
                    Cell::text(terminal_kind_label(tr, &t.kind))
                };
                vec![
                    Cell::link(&t.hostname, format!("/terminals/{}", t.id)).class("mono"),
                    kind,
                    Cell::text(t.ip_address.clone().unwrap_or_default()).class("mono"),
                    Cell::text(format!("{} {}", t.os_name, t.os_version).trim().to_string()),
                    Cell::status(tr, t.retired_at.is_some()),
                ]
            })
            .collect(),
    };
    let history = history(&state.store, &page, Entity::Site, id).await?;
    let d = DetailView {
        back: BASE,
        edit_href: format!("{BASE}/{id}/edit"),
        retire_action: format!("{BASE}/{id}/retire"),
        retired: s.retired_at.as_ref().map(|r| page.datetime(r)),
        props,
        path_heading: tr.t("registry.site_path").to_string(),
        path: Some(path),
        no_path: tr.t("registry.no_uplink").to_string(),
        tables: vec![table],
        history,
        reason_error,
        retire_error,
        reason,
    };
    detail_response(page, d)
}

/// `GET /sites/{id}`.
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

/// `POST /sites/{id}/retire`.
pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let name = state.store.site(id).await?.name;
    match retire_confirmation(
        &ctx,
        format!("拠点 {name}"),
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
    match state.store.retire_site(&ctx.actor(), id, &f.reason).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=retired")).into_response()),
        Err(e) => {
            let errors = retire_errors(e)?;
            detail_page(&state, &ctx, id, None, f.reason, errors).await
        }
    }
}
