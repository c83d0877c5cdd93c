//! The home page: the registry at a glance and recent activity.

use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use unyo_domain::Action;
use unyo_store::audit::{AuditEntry, AuditQuery};
use unyo_store::registry::ListQuery;

/// `GET /`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageMeta,
    sites: i64,
    terminals: i64,
    nodes: i64,
    representative: i64,
    recent: Vec<AuditEntry>,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let one = ListQuery {
        per_page: Some(1),
        ..Default::default()
    };
    let sites = state.store.sites(&one).await?.total;
    let terminals = state.store.terminals(&one).await?.total;
    let nodes = state.store.nodes(&one).await?.total;
    let representative = state
        .store
        .terminals(&ListQuery {
            kind: Some("representative".into()),
            ..one.clone()
        })
        .await?
        .total;
    // Recent activity is part of the audit log: only roles that may read it see it.
    let recent = if ctx.user.role().allows(Action::ViewAudit) {
        state
            .store
            .audit_log(&AuditQuery {
                per_page: Some(10),
                ..Default::default()
            })
            .await?
            .items
    } else {
        Vec::new()
    };
    render(&HomePage {
        page: ctx.page(ctx.tr.t("home.title"), "home"),
        sites,
        terminals,
        nodes,
        representative,
        recent,
    })
}
