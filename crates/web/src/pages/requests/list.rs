//! `GET /requests` (filters, counts per status, paging) and `GET /requests/mine`.

use super::{Badge, Opt, category_label, date_value, overdue_badge, show_date_opt, status_badge};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::support::{Category, RequestStatus, parse_date};
use unyo_domain::{Action, Role};
use unyo_store::Page;
use unyo_store::support::{RequestQuery, RequestRow, jst_today};

const BASE: &str = "/requests";
const PER_PAGES: [i64; 4] = [20, 50, 100, 200];
const DEFAULT_PER_PAGE: i64 = 50;

/// The query string of the list. Everything is text so that an empty select is not an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub status: String,
    pub category: String,
    pub site_id: String,
    pub assignee_id: String,
    pub from: String,
    pub to: String,
    pub open: String,
    pub overdue: String,
    pub q: String,
    pub page: String,
    pub per_page: String,
    pub mine: String,
}

impl ListParams {
    fn id(raw: &str) -> Option<i64> {
        raw.trim().parse().ok()
    }

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

    fn status(&self) -> &str {
        let s = self.status.trim();
        if RequestStatus::parse(s).is_some() {
            s
        } else {
            ""
        }
    }

    fn category(&self) -> &str {
        let c = self.category.trim();
        if Category::parse(c).is_some() { c } else { "" }
    }

    fn flag(v: &str) -> bool {
        matches!(v, "1" | "on" | "true")
    }

    /// The store query.
    fn query(&self) -> RequestQuery {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        RequestQuery {
            status: some(self.status()),
            category: some(self.category()),
            site_id: Self::id(&self.site_id),
            assignee_id: Self::id(&self.assignee_id),
            requester_id: None,
            from: some(&self.from),
            to: some(&self.to),
            open_only: Some(Self::flag(&self.open)),
            overdue_only: Some(Self::flag(&self.overdue)),
            q: some(&self.q),
            page: Some(self.page()),
            per_page: Some(self.per_page()),
        }
    }

    /// `/requests?…` with the current filter, `overrides` replacing (or, when empty, dropping) keys.
    fn href(&self, overrides: &[(&str, &str)]) -> String {
        let page = self.page().to_string();
        let per_page = self.per_page().to_string();
        let site = Self::id(&self.site_id)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let assignee = Self::id(&self.assignee_id)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let open = if Self::flag(&self.open) { "1" } else { "" };
        let overdue = if Self::flag(&self.overdue) { "1" } else { "" };
        let from = date_value(&self.from);
        let to = date_value(&self.to);
        let current: [(&str, &str); 11] = [
            ("status", self.status()),
            ("category", self.category()),
            ("site_id", &site),
            ("assignee_id", &assignee),
            ("from", &from),
            ("to", &to),
            ("open", open),
            ("overdue", overdue),
            ("q", self.q.trim()),
            ("page", &page),
            ("per_page", &per_page),
        ];
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
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
            if !v.is_empty() && !default {
                ser.append_pair(k, v);
            }
        }
        let qs = ser.finish();
        if qs.is_empty() {
            BASE.to_string()
        } else {
            format!("{BASE}?{qs}")
        }
    }
}

/// A status tab with its count.
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
    pub category: String,
    pub status: Badge,
    pub overdue: Option<Badge>,
    pub requester: String,
    pub assignee: String,
    pub wished: String,
    pub planned: String,
    pub sites: String,
}

/// Everything the list shows.
pub(super) struct ListView {
    /// The "my open requests" variant (no filter, tabs or paging).
    pub mine: bool,
    pub can_file: bool,
    pub params: ListParams,
    pub from_value: String,
    pub to_value: String,
    pub open: bool,
    pub overdue: bool,
    pub from_error: String,
    pub to_error: String,
    pub tabs: Vec<Tab>,
    pub statuses: Vec<Opt>,
    pub categories: Vec<Opt>,
    pub sites: Vec<Opt>,
    pub assignees: Vec<Opt>,
    pub per_pages: Vec<Opt>,
    pub rows: Vec<Row>,
    pub summary: String,
    pub page_label: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "requests_list.html")]
struct ListPage {
    page: PageMeta,
    v: ListView,
}

fn row(tr: Tr, r: &RequestRow) -> Row {
    let href = format!("{BASE}/{}", r.id);
    Row {
        number: r.number.clone(),
        href,
        title: r.title.clone(),
        category: category_label(tr, &r.category),
        status: status_badge(tr, &r.status),
        overdue: r.overdue.then(|| overdue_badge(tr)),
        requester: keep_together(&r.requester_name),
        assignee: keep_together(&r.assignee_name.clone().unwrap_or_default()),
        wished: show_date_opt(tr, &r.wished_date),
        planned: show_date_opt(tr, &r.planned_date),
        sites: short_sites(tr, &r.sites),
    }
}

/// A name whose parts stay on one line in a narrow column (family and given name).
fn keep_together(name: &str) -> String {
    name.replace(' ', "\u{a0}")
}

/// At most two target sites by name, then "ほかN拠点" (a request to every site would fill the table).
fn short_sites(tr: Tr, joined: &str) -> String {
    let names: Vec<&str> = joined.split('、').filter(|s| !s.is_empty()).collect();
    if names.len() <= 3 {
        return names.join("、");
    }
    format!(
        "{} {}",
        names[..2].join("、"),
        tr.t("requests.more_sites")
            .replace("{n}", &(names.len() - 2).to_string())
    )
}

fn summary(tr: Tr, page: &Page<RequestRow>) -> (String, String) {
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

fn empty_view(ctx: &Ctx, params: ListParams, mine: bool) -> ListView {
    ListView {
        mine,
        can_file: ctx.user.role().allows(Action::FileRequest),
        from_value: date_value(&params.from),
        to_value: date_value(&params.to),
        open: ListParams::flag(&params.open),
        overdue: ListParams::flag(&params.overdue),
        params,
        from_error: String::new(),
        to_error: String::new(),
        tabs: Vec::new(),
        statuses: Vec::new(),
        categories: Vec::new(),
        sites: Vec::new(),
        assignees: Vec::new(),
        per_pages: Vec::new(),
        rows: Vec::new(),
        summary: String::new(),
        page_label: String::new(),
        prev_href: None,
        next_href: None,
    }
}

/// `GET /requests`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<ListParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    if ListParams::flag(&params.mine) {
        return Ok(Redirect::to("/requests/mine").into_response());
    }
    let tr = ctx.tr;
    let today = jst_today();
    let query = params.query();
    let page = state.store.requests(&query, today).await?;
    let counts = state.store.request_counts(&query, today).await?;
    let sites = state.store.all_sites().await?;
    let users = state.store.users().await?;
    let mut v = empty_view(&ctx, params, false);
    let p = &v.params;
    let date_error = |raw: &str| {
        if raw.trim().is_empty() || parse_date(raw).is_some() {
            String::new()
        } else {
            tr.t("requests.date_invalid").to_string()
        }
    };
    v.from_error = date_error(&p.from);
    v.to_error = date_error(&p.to);
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![Tab {
        label: tr.t("requests.all_statuses").to_string(),
        count: total,
        href: p.href(&[("status", ""), ("page", "1")]),
        current: p.status().is_empty(),
    }];
    tabs.extend(counts.iter().map(|(code, n)| Tab {
        label: super::status_label(tr, code),
        count: *n,
        href: p.href(&[("status", code), ("page", "1")]),
        current: p.status() == code,
    }));
    v.tabs = tabs;
    v.statuses = RequestStatus::ALL
        .iter()
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                p.status() == s.code(),
            )
        })
        .collect();
    v.categories = Category::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.code(),
                tr.pick(c.label_ja(), c.label_en()),
                p.category() == c.code(),
            )
        })
        .collect();
    let site_now = ListParams::id(&p.site_id);
    v.sites = sites
        .iter()
        .map(|s| Opt::new(s.id.to_string(), &s.name, site_now == Some(s.id)))
        .collect();
    let assignee_now = ListParams::id(&p.assignee_id);
    v.assignees = users
        .iter()
        .filter(|u| matches!(u.role(), Role::Se | Role::Admin) || assignee_now == Some(u.id))
        .map(|u| {
            Opt::new(
                u.id.to_string(),
                &u.display_name,
                assignee_now == Some(u.id),
            )
        })
        .collect();
    let per_page = p.per_page();
    v.per_pages = PER_PAGES
        .iter()
        .map(|n| Opt::new(n.to_string(), n.to_string(), *n == per_page))
        .collect();
    v.prev_href = (page.page > 1).then(|| p.href(&[("page", &(page.page - 1).to_string())]));
    v.next_href =
        (page.page < page.pages()).then(|| p.href(&[("page", &(page.page + 1).to_string())]));
    (v.summary, v.page_label) = summary(tr, &page);
    v.rows = page.items.iter().map(|r| row(tr, r)).collect();
    render(&ListPage {
        page: ctx.page(tr.t("requests.title"), "requests"),
        v,
    })
    .map(IntoResponse::into_response)
}

/// `GET /requests/mine`: open requests the person is assigned to or filed.
pub(super) async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let rows = state
        .store
        .my_open_requests(ctx.user.id, jst_today())
        .await?;
    let mut v = empty_view(&ctx, ListParams::default(), true);
    v.summary = if tr.is_ja() {
        format!("{}件", rows.len())
    } else {
        format!("{} requests", rows.len())
    };
    v.rows = rows.iter().map(|r| row(tr, r)).collect();
    render(&ListPage {
        page: ctx.page(tr.t("requests.mine"), "requests"),
        v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_site_lists_are_shortened() {
        let ja = Tr::default();
        assert_eq!(short_sites(ja, "県庁、鳥栖"), "県庁、鳥栖");
        assert_eq!(short_sites(ja, "a、b、c"), "a、b、c");
        assert_eq!(short_sites(ja, "a、b、c、d、e"), "a、b ほか3拠点");
        assert_eq!(short_sites(ja, ""), "");
        assert_eq!(keep_together("保守 技郎"), "保守\u{a0}技郎");
    }
}
