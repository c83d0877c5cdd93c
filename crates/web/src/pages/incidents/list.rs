//! `GET /incidents`: open incidents first with age and stage, filters (stage, open only, severity, site,
//! period of 発生, text), counts per stage and paging.

use super::{Badge, Opt, age_label, keep_together, severity_badge, stage_badge, stage_label};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::incident::{IncidentStage, Severity};
use unyo_domain::support::parse_date;
use unyo_store::Page;
use unyo_store::incidents::{IncidentQuery, IncidentRow};

const BASE: &str = "/incidents";
const PER_PAGES: [i64; 4] = [20, 50, 100, 200];
const DEFAULT_PER_PAGE: i64 = 50;

/// The query string of the list. Everything is text so that an empty select is not an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub stage: String,
    pub open: String,
    pub severity: String,
    pub site_id: String,
    pub from: String,
    pub to: String,
    pub q: String,
    pub page: String,
    pub per_page: String,
}

impl ListParams {
    fn per_page(&self) -> i64 {
        self.per_page
            .parse::<i64>()
            .ok()
            .filter(|n| PER_PAGES.contains(n))
            .unwrap_or(DEFAULT_PER_PAGE)
    }

    fn page(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).max(1)
    }

    fn stage(&self) -> &str {
        let s = self.stage.trim();
        if IncidentStage::parse(s).is_some_and(|x| x.code() == s) {
            s
        } else {
            ""
        }
    }

    fn severity(&self) -> &str {
        let s = self.severity.trim();
        if Severity::parse(s).is_some_and(|x| x.code() == s) {
            s
        } else {
            ""
        }
    }

    fn site(&self) -> Option<i64> {
        super::opt_id(&self.site_id)
    }

    fn open(&self) -> bool {
        matches!(self.open.as_str(), "1" | "on" | "true")
    }

    /// A date filter that parses (ISO or 和暦), normalised to ISO.
    fn date(raw: &str) -> String {
        parse_date(raw)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    /// The store query.
    fn query(&self) -> IncidentQuery {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        IncidentQuery {
            stage: some(self.stage()),
            open_only: Some(self.open()),
            severity: some(self.severity()),
            site_id: self.site(),
            from: some(&Self::date(&self.from)),
            to: some(&Self::date(&self.to)),
            q: some(&self.q),
            page: Some(self.page()),
            per_page: Some(self.per_page()),
        }
    }

    /// `/incidents?…` with the current filter, `overrides` replacing (or, when empty, dropping) keys.
    fn href(&self, overrides: &[(&str, &str)]) -> String {
        let page = self.page().to_string();
        let per_page = self.per_page().to_string();
        let site = self.site().map(|s| s.to_string()).unwrap_or_default();
        let open = if self.open() { "1" } else { "" };
        let from = Self::date(&self.from);
        let to = Self::date(&self.to);
        let current: [(&str, &str); 9] = [
            ("stage", self.stage()),
            ("open", open),
            ("severity", self.severity()),
            ("site_id", &site),
            ("from", &from),
            ("to", &to),
            ("q", self.q.trim()),
            ("page", &page),
            ("per_page", &per_page),
        ];
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (k, v) in current {
            let v = overrides
                .iter()
                .find(|(ok, _)| *ok == k)
                .map(|(_, ov)| *ov)
                .unwrap_or(v);
            let default = match k {
                "page" => v == "1",
                "per_page" => v == DEFAULT_PER_PAGE.to_string(),
                _ => false,
            };
            if !default {
                pairs.push((k, v));
            }
        }
        super::with_query(BASE, &pairs)
    }
}

/// A stage tab with its count.
pub(super) struct Tab {
    pub label: String,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

/// One row of the list.
pub(super) struct Row {
    pub number: String,
    pub href: String,
    pub title: String,
    pub severity: Badge,
    pub stage: Badge,
    pub open: bool,
    pub age: String,
    pub occurred: String,
    pub sites: String,
    pub known_error: String,
    pub known_error_href: String,
}

#[derive(askama::Template)]
#[template(path = "incidents_list.html")]
struct ListPage {
    page: PageMeta,
    can_report: bool,
    params: ListParams,
    open: bool,
    from_value: String,
    to_value: String,
    from_error: String,
    to_error: String,
    tabs: Vec<Tab>,
    stages: Vec<Opt>,
    severities: Vec<Opt>,
    sites: Vec<Opt>,
    per_pages: Vec<Opt>,
    rows: Vec<Row>,
    summary: String,
    page_label: String,
    prev_href: Option<String>,
    next_href: Option<String>,
}

fn row(tr: Tr, page: &PageMeta, r: &IncidentRow) -> Row {
    let open = r.stage().is_none_or(IncidentStage::is_open);
    Row {
        number: r.number.clone(),
        href: format!("{BASE}/{}", r.id),
        title: r.title.clone(),
        severity: severity_badge(tr, &r.severity),
        stage: stage_badge(tr, &r.stage),
        open,
        age: keep_together(&age_label(tr, r.age_minutes)),
        occurred: page.datetime(&r.occurred_at),
        sites: r.sites.clone(),
        known_error: r.known_error_number.clone().unwrap_or_default(),
        known_error_href: r
            .known_error_id
            .map(|k| format!("/known-errors/{k}"))
            .unwrap_or_default(),
    }
}

fn summary(tr: Tr, page: &Page<IncidentRow>) -> (String, String) {
    let first = if page.total == 0 {
        0
    } else {
        (page.page - 1) * page.per_page + 1
    };
    let last = (page.page * page.per_page).min(page.total);
    if tr.is_ja() {
        (
            format!("全{}件中 {}–{}件", page.total, first, last),
            format!("{} / {} ページ", page.page, page.pages()),
        )
    } else {
        (
            format!("{}–{} of {}", first, last, page.total),
            format!("Page {} of {}", page.page, page.pages()),
        )
    }
}

/// `GET /incidents`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let tr = ctx.tr;
    let query = p.query();
    let items = state.store.incidents(&query, Utc::now()).await?;
    let counts = state.store.incident_stage_counts(&query).await?;
    let sites = state.store.all_sites().await?;
    let meta = ctx.page(tr.t("inc.title"), "incidents");
    let date_error = |raw: &str| {
        if raw.trim().is_empty() || parse_date(raw).is_some() {
            String::new()
        } else {
            tr.t("inc.date_invalid").to_string()
        }
    };
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let open_total: i64 = counts
        .iter()
        .filter(|(c, _)| c != IncidentStage::Closed.code())
        .map(|(_, n)| n)
        .sum();
    let mut tabs = vec![
        Tab {
            label: tr.t("inc.all_stages").to_string(),
            count: total,
            href: p.href(&[("stage", ""), ("open", ""), ("page", "1")]),
            current: p.stage().is_empty() && !p.open(),
        },
        Tab {
            label: tr.t("inc.open_tab").to_string(),
            count: open_total,
            href: p.href(&[("stage", ""), ("open", "1"), ("page", "1")]),
            current: p.stage().is_empty() && p.open(),
        },
    ];
    tabs.extend(counts.iter().map(|(code, n)| Tab {
        label: stage_label(tr, code),
        count: *n,
        href: p.href(&[("stage", code), ("open", ""), ("page", "1")]),
        current: p.stage() == code,
    }));
    let stages = IncidentStage::ALL
        .iter()
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                p.stage() == s.code(),
            )
        })
        .collect();
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                p.severity() == s.code(),
            )
        })
        .collect();
    let site_now = p.site();
    let sites = sites
        .iter()
        .map(|s| Opt::new(s.id.to_string(), &s.name, site_now == Some(s.id)))
        .collect();
    let per_page = p.per_page();
    let per_pages = PER_PAGES
        .iter()
        .map(|n| Opt::new(n.to_string(), n.to_string(), *n == per_page))
        .collect();
    let prev_href = (items.page > 1).then(|| p.href(&[("page", &(items.page - 1).to_string())]));
    let next_href =
        (items.page < items.pages()).then(|| p.href(&[("page", &(items.page + 1).to_string())]));
    let (summary_text, page_label) = summary(tr, &items);
    let rows = items.items.iter().map(|r| row(tr, &meta, r)).collect();
    let view = ListPage {
        can_report: ctx.user.role().allows(Action::ReportIncident),
        open: p.open(),
        from_value: ListParams::date(&p.from),
        to_value: ListParams::date(&p.to),
        from_error: date_error(&p.from),
        to_error: date_error(&p.to),
        tabs,
        stages,
        severities,
        sites,
        per_pages,
        rows,
        summary: summary_text,
        page_label,
        prev_href,
        next_href,
        params: p,
        page: meta,
    };
    render(&view).map(IntoResponse::into_response)
}
