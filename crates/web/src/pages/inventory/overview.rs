//! `GET /inventory`: every active terminal with its latest inventory.

use super::{antivirus_line, matched_label, or_dash, os_text};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_store::inventory::DEFAULT_STALE_DAYS;

/// The query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Params {
    /// Days after which an inventory is stale.
    days: String,
    /// `stale`: only stale or never-received terminals.
    show: String,
}

/// One row of the table.
pub(super) struct Row {
    href: String,
    hostname: String,
    site: String,
    os: String,
    build: String,
    antivirus: Vec<String>,
    software: String,
    received: String,
    stale: bool,
    never: bool,
    matched: String,
}

#[derive(askama::Template)]
#[template(path = "inventory_overview.html")]
struct OverviewPage {
    page: PageMeta,
    rows: Vec<Row>,
    days: i64,
    only_stale: bool,
    total: usize,
    received: usize,
    stale: usize,
    never: usize,
    review: i64,
    can_upload: bool,
    can_agents: bool,
}

/// `GET /inventory`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewInventory)?;
    let tr = ctx.tr;
    let days = p
        .days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=3650).contains(d))
        .unwrap_or(DEFAULT_STALE_DAYS);
    let only_stale = p.show == "stale";
    let all = state.store.inventory_overview(days).await?;
    let review = state.store.review_count().await?;
    let meta = ctx.page(tr.t("inventory.title"), "inventory");
    let total = all.len();
    let received = all.iter().filter(|r| r.latest.is_some()).count();
    let stale = all.iter().filter(|r| r.stale).count();
    let rows = all
        .into_iter()
        .filter(|r| !only_stale || r.stale || r.latest.is_none())
        .map(|r| {
            let href = format!("/inventory/terminals/{}", r.terminal_id);
            match r.latest {
                Some(l) => Row {
                    href,
                    hostname: r.hostname,
                    site: r.site_name,
                    os: os_text(
                        l.os_full_name.as_deref(),
                        l.os_name.as_deref(),
                        l.os_version.as_deref(),
                    ),
                    build: or_dash(l.os_build.as_deref()),
                    antivirus: l.antivirus.iter().map(|a| antivirus_line(tr, a)).collect(),
                    software: l.software_count.to_string(),
                    received: meta.datetime(&l.received_at),
                    stale: r.stale,
                    never: false,
                    matched: matched_label(tr, &l.matched_by).to_string(),
                },
                None => Row {
                    href,
                    hostname: r.hostname,
                    site: r.site_name,
                    os: "—".into(),
                    build: "—".into(),
                    antivirus: Vec::new(),
                    software: "—".into(),
                    received: String::new(),
                    stale: false,
                    never: true,
                    matched: String::new(),
                },
            }
        })
        .collect();
    render(&OverviewPage {
        rows,
        days,
        only_stale,
        total,
        received,
        stale,
        never: total - received,
        review,
        can_upload: ctx.user.role().allows(Action::ImportInventory),
        can_agents: ctx.user.role().allows(Action::ManageAgents),
        page: meta,
    })
}
