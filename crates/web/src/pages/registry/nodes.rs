//! ネットワーク機器: list, detail (path, what connects through it), new/edit, retire.

use super::history::{Entity, history};
use super::{
    Cell, DetailView, Field, FormView, ListPage, ListParams, ListView, OkQuery, Opt, PostedSite,
    Prop, RetireForm, SiteControl, SiteFilter, SubTable, detail_response, fixable, form_id,
    form_response, node_kind_label, node_kind_options, parse_id, path_steps, retire_confirmation,
    retire_errors, site_form_field, status_props,
};
use crate::page::{Ctx, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::{HashMap, HashSet};
use unyo_domain::registry::{NodeInput, NodeKind};
use unyo_domain::{Action, FieldError};
use unyo_store::registry::NetworkNode;

const BASE: &str = "/nodes";

/// How the node form takes its site: optional (（なし）), and only a site in service (the store checks
/// the site on every change of a node).
fn site_control(tr: crate::i18n::Tr) -> SiteControl<'static> {
    SiteControl {
        label: tr.t("registry.site_of_node"),
        required: false,
        keep_retired: false,
    }
}

/// `GET /nodes`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut params): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewRegistry)?;
    let tr = ctx.tr;
    let sites = SiteFilter::resolve(&state, tr, &mut params).await?;
    let page = state.store.nodes(&params.query()).await?;
    let headers = vec![
        params.th(tr, BASE, tr.t("node.name"), Some("name"), None),
        params.th(tr, BASE, tr.t("common.kind"), Some("kind"), None),
        params.th(tr, BASE, tr.t("registry.site_of_node"), Some("site"), None),
        params.th(tr, BASE, tr.t("common.ip"), Some("ip"), None),
        params.th(tr, BASE, tr.t("node.upstream"), Some("upstream"), None),
        params.th(tr, BASE, tr.t("common.status"), None, None),
    ];
    let meta = ctx.page(tr.t("node.title"), "nodes");
    let rows = page
        .items
        .iter()
        .map(|n| {
            vec![
                Cell::link(&n.name, format!("{BASE}/{}", n.id)),
                Cell::text(node_kind_label(tr, &n.kind)),
                match (n.site_id, &n.site_name) {
                    (Some(id), Some(name)) => Cell::link(name, format!("/sites/{id}")),
                    _ => Cell::text(tr.t("registry.none")),
                },
                Cell::text(n.ip_address.clone().unwrap_or_default()).class("mono"),
                match (n.upstream_id, &n.upstream_name) {
                    (Some(id), Some(name)) => Cell::link(name, format!("{BASE}/{id}")),
                    _ => Cell::text(tr.t("registry.root")),
                },
                Cell::status(tr, n.retired_at.is_some()),
            ]
        })
        .collect();
    let kinds = node_kind_options(tr, params.kind.trim());
    let v = ListView::new(
        tr,
        BASE,
        params,
        tr.t("registry.q_nodes_hint"),
        kinds,
        Some(sites),
        headers,
        rows,
        &page,
    );
    render(&ListPage { page: meta, v })
}

fn input_of(f: &HashMap<String, String>) -> NodeInput {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    NodeInput {
        name: g("name"),
        kind: g("kind"),
        site_id: form_id(f.get("site_id")),
        ip_address: g("ip_address"),
        upstream_id: form_id(f.get("upstream_id")),
        note: g("note"),
    }
}

fn input_from(n: &NetworkNode) -> NodeInput {
    NodeInput {
        name: n.name.clone(),
        kind: n.kind.clone(),
        site_id: n.site_id,
        ip_address: n.ip_address.clone().unwrap_or_default(),
        upstream_id: n.upstream_id,
        note: n.note.clone(),
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &NodeInput,
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
    let nodes = state.store.all_nodes().await?;
    let current_up = input.upstream_id.map(|s| s.to_string()).unwrap_or_default();
    let up_opts = nodes
        .iter()
        .filter(|n| Some(n.id) != id)
        .map(|n| Opt::matching(n.id.to_string(), &n.name, &current_up))
        .collect();
    let kind = NodeKind::parse(&input.kind).map(|k| k.code()).unwrap_or("");
    let fields = vec![
        Field::text("name", tr.t("node.name"), &input.name)
            .required()
            .hint(tr.pick("例: FW-県庁", "e.g. FW-KENCHO")),
        Field::select(
            "kind",
            tr.t("common.kind"),
            tr.t("registry.choose"),
            node_kind_options(tr, kind),
        )
        .required(),
        site_field,
        Field::text("ip_address", tr.t("common.ip"), &input.ip_address)
            .mono()
            .hint(tr.pick("例: 10.41.0.1", "e.g. 10.41.0.1")),
        Field::select(
            "upstream_id",
            tr.t("node.upstream"),
            tr.t("registry.none"),
            up_opts,
        )
        .hint(tr.pick(
            "県サーバ側の次の機器。集約ネットワークの中心（最上位）の機器は「（なし）」",
            "The next node toward the prefecture server; (none) for the top of the network",
        )),
        Field::textarea("note", tr.t("common.note"), &input.note),
    ];
    let (title, action, cancel) = match id {
        Some(id) => (
            tr.t("node.edit"),
            format!("{BASE}/{id}"),
            format!("{BASE}/{id}"),
        ),
        None => (tr.t("node.new"), BASE.to_string(), BASE.to_string()),
    };
    let form = FormView::new(action, cancel, fields, &errors);
    form_response(ctx.page(title, "nodes"), form)
}

/// `GET /nodes/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    form_page(&state, &ctx, None, &NodeInput::default(), None, &[]).await
}

/// `POST /nodes`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let site = PostedSite::read(&state, ctx.tr, &f, &site_control(ctx.tr), None).await?;
    let input = NodeInput {
        site_id: site.id,
        ..input_of(&f)
    };
    if site.error.is_some() {
        let errors = site.errors(input.validate(None).err());
        return form_page(&state, &ctx, None, &input, site.code.as_deref(), &errors).await;
    }
    match state.store.create_node(&ctx.actor(), &input).await {
        Ok(n) => Ok(Redirect::to(&format!("{BASE}/{}?ok=saved", n.id)).into_response()),
        Err(e) => {
            let errors = fixable(e, "name")?;
            form_page(&state, &ctx, None, &input, site.code.as_deref(), &errors).await
        }
    }
}

/// `GET /nodes/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let n = state.store.node(id).await?;
    if n.retired_at.is_some() {
        return Ok(Redirect::to(&format!("{BASE}/{id}")).into_response());
    }
    form_page(&state, &ctx, Some(id), &input_from(&n), None, &[]).await
}

/// `POST /nodes/{id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let site = PostedSite::read(&state, ctx.tr, &f, &site_control(ctx.tr), None).await?;
    let input = NodeInput {
        site_id: site.id,
        ..input_of(&f)
    };
    if site.error.is_some() {
        let errors = site.errors(input.validate(Some(id)).err());
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
    match state.store.update_node(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e, "name")?;
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

/// Every node below `id` (transitively), in breadth-first order.
fn descendants(all: &[NetworkNode], id: i64) -> Vec<i64> {
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for n in all {
        if let Some(up) = n.upstream_id {
            children.entry(up).or_default().push(n.id);
        }
    }
    let mut seen: HashSet<i64> = HashSet::from([id]);
    let mut out = Vec::new();
    let mut queue = vec![id];
    while let Some(current) = queue.pop() {
        for c in children.get(&current).into_iter().flatten() {
            if seen.insert(*c) {
                out.push(*c);
                queue.insert(0, *c);
            }
        }
    }
    out
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
    let n = state.store.node(id).await?;
    let page = ctx.page(n.name.clone(), "nodes").with_flash(ok);
    let mut props = vec![
        Prop::new(tr.t("node.name"), Cell::text(&n.name)),
        Prop::new(
            tr.t("common.kind"),
            Cell::text(node_kind_label(tr, &n.kind)),
        ),
        Prop::new(
            tr.t("registry.site_of_node"),
            match (n.site_id, &n.site_name) {
                (Some(sid), Some(name)) => Cell::link(name, format!("/sites/{sid}")),
                _ => Cell::text(tr.t("registry.none")),
            },
        ),
        Prop::new(
            tr.t("common.ip"),
            Cell::text(n.ip_address.clone().unwrap_or_default()).class("mono"),
        ),
        Prop::new(
            tr.t("node.upstream"),
            match (n.upstream_id, &n.upstream_name) {
                (Some(uid), Some(name)) => Cell::link(name, format!("{BASE}/{uid}")),
                _ => Cell::text(tr.t("registry.root")),
            },
        ),
        Prop::new(tr.t("common.note"), Cell::text(&n.note)),
    ];
    props.extend(status_props(
        &page,
        &n.created_at,
        &n.updated_at,
        &n.retired_at,
    ));
    let path = if n.retired_at.is_none() {
        path_steps(state, tr, Some(id)).await?
    } else {
        Vec::new()
    };

    let all = state.store.all_nodes().await?;
    let below = descendants(&all, id);
    let names: HashMap<i64, &NetworkNode> = all.iter().map(|x| (x.id, x)).collect();
    let children = SubTable {
        heading: tr.t("registry.child_nodes").to_string(),
        headers: vec![
            tr.t("node.name").to_string(),
            tr.t("common.kind").to_string(),
            tr.t("common.ip").to_string(),
            tr.t("node.upstream").to_string(),
        ],
        rows: below
            .iter()
            .filter_map(|c| names.get(c))
            .map(|c| {
                vec![
                    Cell::link(&c.name, format!("{BASE}/{}", c.id)),
                    Cell::text(node_kind_label(tr, &c.kind)),
                    Cell::text(c.ip_address.clone().unwrap_or_default()).class("mono"),
                    Cell::text(c.upstream_name.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    };
    let through: HashSet<i64> = below.iter().copied().chain([id]).collect();
    let sites = state.store.all_sites().await?;
    let connected = SubTable {
        heading: tr.t("registry.connected_sites").to_string(),
        headers: vec![
            tr.t("site.code").to_string(),
            tr.t("site.name").to_string(),
            tr.t("site.terminals").to_string(),
            tr.t("registry.via").to_string(),
        ],
        rows: sites
            .iter()
            .filter(|s| s.uplink_node_id.is_some_and(|u| through.contains(&u)))
            .map(|s| {
                vec![
                    Cell::link(&s.code, format!("/sites/{}", s.id)).class("mono"),
                    Cell::link(&s.name, format!("/sites/{}", s.id)),
                    Cell::text(s.terminal_count.to_string()).class("num"),
                    Cell::text(s.uplink_node_name.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    };
    let history = history(&state.store, &page, Entity::Node, id).await?;
    let d = DetailView {
        back: BASE,
        edit_href: format!("{BASE}/{id}/edit"),
        retire_action: format!("{BASE}/{id}/retire"),
        retired: n.retired_at.as_ref().map(|r| page.datetime(r)),
        props,
        path_heading: tr.t("node.path").to_string(),
        path: Some(path),
        no_path: String::new(),
        tables: vec![children, connected],
        history,
        reason_error,
        retire_error,
        reason,
    };
    detail_response(page, d)
}

/// `GET /nodes/{id}`.
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

/// `POST /nodes/{id}/retire`.
pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::EditRegistry)?;
    let id = parse_id(&id)?;
    let name = state.store.node(id).await?.name;
    match retire_confirmation(
        &ctx,
        format!("ネットワーク機器 {name}"),
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
    match state.store.retire_node(&ctx.actor(), id, &f.reason).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=retired")).into_response()),
        Err(e) => {
            let errors = retire_errors(e)?;
            detail_page(&state, &ctx, id, None, f.reason, errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, up: Option<i64>) -> NetworkNode {
        NetworkNode {
            id,
            name: format!("n{id}"),
            kind: "router".into(),
            site_id: None,
            site_name: None,
            ip_address: None,
            upstream_id: up,
            upstream_name: None,
            note: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            retired_at: None,
        }
    }

    #[test]
    fn descendants_are_transitive_and_cycle_safe() {
        let all = vec![
            node(1, None),
            node(2, Some(1)),
            node(3, Some(2)),
            node(4, Some(1)),
            node(5, Some(6)),
            node(6, Some(5)),
        ];
        assert_eq!(descendants(&all, 1), vec![2, 4, 3]);
        assert_eq!(descendants(&all, 3), Vec::<i64>::new());
        assert_eq!(descendants(&all, 5), vec![6]);
    }
}
