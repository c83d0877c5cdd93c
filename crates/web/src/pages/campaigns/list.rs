//! `GET /campaigns`: the list with filters and each campaign's progress.

use super::{Opt, respond, with_query};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::campaign::{CampaignStatus, Progress};
use unyo_store::campaigns::{Campaign, CampaignQuery};

const BASE: &str = "/campaigns";
const PER_PAGE: i64 = 50;

/// The query string of the list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub status: String,
    pub q: String,
    pub page: String,
}

impl ListParams {
    fn status(&self) -> &str {
        let s = self.status.trim();
        if CampaignStatus::parse(s).is_some() {
            s
        } else {
            ""
        }
    }

    fn page(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).max(1)
    }

    fn href(&self, page: i64) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        with_query(
            BASE,
            &[
                ("status", self.status()),
                ("q", self.q.trim()),
                ("page", &page),
            ],
        )
    }
}

/// The progress of a campaign for people: 「12/17 実施済」, the bar and the breakdown.
pub(super) struct ProgressView {
    pub label: String,
    pub bar: String,
    pub percent: i64,
    pub in_scope: i64,
    pub done: i64,
    pub detail: String,
}

pub(super) fn progress_view(tr: Tr, p: &Progress) -> ProgressView {
    let detail = if tr.is_ja() {
        format!(
            "エージェント確認 {}台・SE申告 {}台・未実施 {}台・失敗 {}台・対象外 {}台",
            p.done_agent, p.done_attested, p.pending, p.failed, p.excluded
        )
    } else {
        format!(
            "agent-verified {}, attested {}, pending {}, failed {}, excluded {}",
            p.done_agent, p.done_attested, p.pending, p.failed, p.excluded
        )
    };
    ProgressView {
        label: if tr.is_ja() {
            p.label_ja()
        } else {
            p.label_en()
        },
        bar: p.bar(10),
        percent: p.percent(),
        in_scope: p.in_scope(),
        done: p.done,
        detail,
    }
}

pub(super) struct Row {
    pub href: String,
    pub number: String,
    pub title: String,
    pub goal: String,
    pub open: bool,
    pub status: String,
    pub progress: ProgressView,
    pub started: String,
}

#[derive(askama::Template)]
#[template(path = "campaigns_list.html")]
struct ListPage {
    page: PageMeta,
    p: ListParams,
    statuses: Vec<Opt>,
    rows: Vec<Row>,
    summary: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    can_manage: bool,
}

fn row(tr: Tr, page: &PageMeta, c: &Campaign) -> Row {
    let status = c.status();
    Row {
        href: format!("{BASE}/{}", c.id),
        number: c.number.clone(),
        title: c.title.clone(),
        goal: if tr.is_ja() {
            c.goal.summary_ja()
        } else {
            c.goal.summary_en()
        },
        open: c.is_open(),
        status: tr.pick(status.label_ja(), status.label_en()).to_string(),
        progress: progress_view(tr, &c.progress),
        started: page.datetime(&c.started_at),
    }
}

/// `GET /campaigns`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let tr = ctx.tr;
    let q = CampaignQuery {
        status: Some(p.status().to_string()).filter(|s| !s.is_empty()),
        q: Some(p.q.trim().to_string()).filter(|s| !s.is_empty()),
        page: Some(p.page()),
        per_page: Some(PER_PAGE),
    };
    let found = state.store.campaigns(&q).await?;
    let meta = ctx.page(tr.t("campaign.title"), "campaigns");
    let rows = found.items.iter().map(|c| row(tr, &meta, c)).collect();
    let statuses = CampaignStatus::ALL
        .iter()
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                p.status() == s.code(),
            )
        })
        .collect();
    let summary = if tr.is_ja() {
        format!(
            "全{}件（{} / {} ページ）",
            found.total,
            found.page,
            found.pages()
        )
    } else {
        format!(
            "{} campaigns (page {} of {})",
            found.total,
            found.page,
            found.pages()
        )
    };
    let view = ListPage {
        statuses,
        rows,
        summary,
        prev_href: (found.page > 1).then(|| p.href(found.page - 1)),
        next_href: (found.page < found.pages()).then(|| p.href(found.page + 1)),
        can_manage: ctx.user.role().allows(Action::ManageCampaigns),
        page: meta,
        p,
    };
    respond(StatusCode::OK, &view)
}
