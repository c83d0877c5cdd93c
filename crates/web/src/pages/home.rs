//! The home page: what waits for the person now (by role, each item linking to where it is done), the
//! system's upkeep for the administrator, the registry at a glance and recent activity.

use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use unyo_domain::Action;
use unyo_store::audit::{AuditEntry, AuditQuery};
use unyo_store::registry::ListQuery;
use unyo_store::support::jst_today;
use unyo_store::waiting::{WaitingItem, WaitingKind};

/// `GET /`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageMeta,
    waiting: Vec<WaitingView>,
    upkeep: Vec<(String, String)>,
    sites: i64,
    terminals: i64,
    nodes: i64,
    representative: i64,
    recent: Vec<RecentView>,
}

/// A line of 最近の操作, in words (the action's name, not its key).
struct RecentView {
    at: String,
    actor: String,
    action: String,
    target: String,
}

/// One line of 「対応が必要なこと」.
struct WaitingView {
    label: String,
    count: i64,
    href: String,
    /// Something waits (the line is emphasised).
    pending: bool,
}

fn waiting_label(tr: crate::i18n::Tr, item: &WaitingItem) -> String {
    use WaitingKind::*;
    let key = match item.kind {
        RequestsToConfirm => "home.w.requests_to_confirm",
        RecordsToConfirm => "home.w.records_to_confirm",
        IncidentsToWitness => "home.w.incidents_to_witness",
        RequestsToAccept => "home.w.requests_to_accept",
        RequestsReturned => "home.w.requests_returned",
        RequestsInProgress => "home.w.requests_in_progress",
        PlannedToday => "home.w.planned_today",
        ChecksNotUp => "home.w.checks_not_up",
        CampaignTargetsPending => "home.w.campaign_targets_pending",
        RecordsToSubmit => "home.w.records_to_submit",
        InventoriesToReview => "home.w.inventories_to_review",
        AccountsLocked => "home.w.accounts_locked",
        AgentsSilent => "home.w.agents_silent",
        RecentExports => "home.w.recent_exports",
        RecentLoginFailures => "home.w.recent_login_failures",
    };
    let label = tr.t(key).to_string();
    match (item.month, item.due) {
        (Some(m), Some(due)) => label
            .replace(
                "{month}",
                &if tr.is_ja() {
                    unyo_domain::wareki::format_year_month(m.year, m.month)
                } else {
                    format!("{}-{:02}", m.year, m.month)
                },
            )
            .replace(
                "{due}",
                &if tr.is_ja() {
                    unyo_domain::wareki::format_long(due)
                } else {
                    due.to_string()
                },
            ),
        _ => label,
    }
}

/// A size in bytes as people read it (`12.3 MB`).
fn show_bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} KB", n / 1e3)
    }
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, WebError> {
    let tr = ctx.tr;
    let role = ctx.user.role();
    let page = ctx.page(tr.t("home.title"), "home");
    let waiting = state
        .store
        .waiting_for(ctx.user.id, role, jst_today(), chrono::Utc::now())
        .await?
        .iter()
        .map(|item| WaitingView {
            label: waiting_label(tr, item),
            count: item.count,
            href: item.href.clone(),
            pending: item.count > 0,
        })
        .collect();
    let upkeep = if role.allows(Action::ManageUsers) {
        let h = state.store.housekeeping().await?;
        vec![
            (
                tr.t("home.upkeep.chain").to_string(),
                match &h.chain_verified {
                    Some((at, true)) => {
                        format!("{}（{}）", page.datetime(at), tr.t("home.upkeep.intact"))
                    }
                    Some((at, false)) => {
                        format!("{}（{}）", page.datetime(at), tr.t("home.upkeep.broken"))
                    }
                    None => tr.t("home.upkeep.never").to_string(),
                },
            ),
            (
                tr.t("home.upkeep.backup").to_string(),
                h.last_backup.as_deref().map_or_else(
                    || tr.t("home.upkeep.no_backup").to_string(),
                    |at| page.datetime(at),
                ),
            ),
            (
                tr.t("home.upkeep.size").to_string(),
                h.database_bytes.map_or_else(|| "―".to_string(), show_bytes),
            ),
        ]
    } else {
        Vec::new()
    };
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
            .iter()
            .map(|e: &AuditEntry| RecentView {
                at: page.datetime(&e.at),
                actor: e.actor.clone(),
                action: match crate::pages::audit::describe_action(tr, &e.action) {
                    d if d.is_empty() => e.action.clone(),
                    d => d,
                },
                target: format!("{} {}", e.entity, e.entity_id).trim().to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    render(&HomePage {
        page,
        waiting,
        upkeep,
        sites,
        terminals,
        nodes,
        representative,
        recent,
    })
}
