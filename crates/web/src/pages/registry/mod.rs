//! The registry (台帳) pages: sites, terminals and network nodes — lists with server-side search, sort and
//! paging, detail pages with history, forms, retiring, the 集約ネットワーク map, CSV import and CSV/XLSX
//! export. Everything is server-rendered and works without JavaScript.
//!
//! Every write goes through a [`unyo_store::Store`] method with the person's actor, which checks the
//! permission again and writes the audit entry in the same transaction.

mod export;
mod history;
mod import;
mod network;
mod nodes;
mod sites;
mod terminals;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::ErrorItem;
use crate::view::{Badge, OkQuery, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use unyo_domain::registry::{NodeKind, SiteKind, TerminalKind};
use unyo_domain::{DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::registry::{ListQuery, Status};

/// Routes of this area. Static segments (`new`, `export.csv`) are matched before `{id}` by axum's router;
/// the tests check that they are not captured.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites", get(sites::list).post(sites::create))
        .route("/sites/new", get(sites::new_form))
        .route("/sites/export.csv", get(export::sites_csv))
        .route("/sites/export.xlsx", get(export::sites_xlsx))
        .route("/sites/{id}", get(sites::detail).post(sites::update))
        .route("/sites/{id}/edit", get(sites::edit_form))
        .route("/sites/{id}/retire", post(sites::retire))
        .route("/terminals", get(terminals::list).post(terminals::create))
        .route("/terminals/new", get(terminals::new_form))
        .route("/terminals/export.csv", get(export::terminals_csv))
        .route("/terminals/export.xlsx", get(export::terminals_xlsx))
        .route(
            "/terminals/{id}",
            get(terminals::detail).post(terminals::update),
        )
        .route("/terminals/{id}/edit", get(terminals::edit_form))
        .route("/terminals/{id}/retire", post(terminals::retire))
        .route("/nodes", get(nodes::list).post(nodes::create))
        .route("/nodes/new", get(nodes::new_form))
        .route("/nodes/export.csv", get(export::nodes_csv))
        .route("/nodes/export.xlsx", get(export::nodes_xlsx))
        .route("/nodes/{id}", get(nodes::detail).post(nodes::update))
        .route("/nodes/{id}/edit", get(nodes::edit_form))
        .route("/nodes/{id}/retire", post(nodes::retire))
        .route("/network", get(network::page))
        .route("/import", get(import::form).post(import::submit))
}

// ------------------------------------------------------------------ shared view pieces

impl Badge {
    fn status(tr: Tr, retired: bool) -> Badge {
        if retired {
            Badge {
                icon: "",
                class: "badge badge-retired",
                text: tr.t("common.retired").into(),
            }
        } else {
            Badge {
                icon: "",
                class: "badge badge-active",
                text: tr.t("common.active").into(),
            }
        }
    }

    fn representative(tr: Tr) -> Badge {
        let k = TerminalKind::Representative;
        Badge {
            icon: "",
            class: "badge badge-rep",
            text: tr.pick(k.label_ja(), k.label_en()).into(),
        }
    }
}

/// One table cell: text, an optional link and badges.
#[derive(Debug, Clone, Default)]
pub(super) struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub badges: Vec<Badge>,
    /// Extra CSS class (`num`, `mono`).
    pub class: &'static str,
}

impl Cell {
    fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Default::default()
        }
    }

    fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            ..Default::default()
        }
    }

    fn class(mut self, class: &'static str) -> Cell {
        self.class = class;
        self
    }

    fn badge(mut self, badge: Badge) -> Cell {
        self.badges.push(badge);
        self
    }

    fn status(tr: Tr, retired: bool) -> Cell {
        Cell::default().badge(Badge::status(tr, retired))
    }
}

/// A column header of a list; sortable ones link to the same list sorted by it.
#[derive(Debug, Clone)]
pub(super) struct Th {
    pub label: String,
    pub href: Option<String>,
    /// `ascending` / `descending` on the sorted column, empty otherwise.
    pub aria_sort: &'static str,
    /// ▲ or ▼ on the sorted column.
    pub arrow: &'static str,
    /// The same in words.
    pub state: &'static str,
    pub class: &'static str,
}

/// A simple table inside a detail page.
#[derive(Debug, Clone)]
pub(super) struct SubTable {
    pub heading: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One property of a record on its detail page.
#[derive(Debug, Clone)]
pub(super) struct Prop {
    pub label: String,
    pub value: Cell,
}

impl Prop {
    fn new(label: impl Into<String>, value: Cell) -> Prop {
        Prop {
            label: label.into(),
            value,
        }
    }
}

/// The query string of a list page. Everything is text so that an empty select (`site_id=`) is not an
/// error; [`ListParams::query`] turns it into the store's query.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub q: String,
    pub kind: String,
    pub site_id: String,
    /// The site by its code, from the code field shown instead of the drop-down in large fleets.
    pub site_code: String,
    pub status: String,
    pub sort: String,
    pub dir: String,
    pub page: String,
    pub per_page: String,
    pub ok: String,
}

/// Rows-per-page choices.
const PER_PAGES: [i64; 4] = [20, 50, 100, 200];
const DEFAULT_PER_PAGE: i64 = 50;

impl ListParams {
    fn status(&self) -> Status {
        match self.status.as_str() {
            "retired" => Status::Retired,
            "all" => Status::All,
            _ => Status::Active,
        }
    }

    fn status_code(&self) -> &'static str {
        match self.status() {
            Status::Active => "active",
            Status::Retired => "retired",
            Status::All => "all",
        }
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

    fn site_id(&self) -> Option<i64> {
        self.site_id.trim().parse().ok()
    }

    fn dir(&self) -> &'static str {
        if self.dir == "desc" { "desc" } else { "asc" }
    }

    /// The store query for this page.
    pub(super) fn query(&self) -> ListQuery {
        ListQuery {
            q: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            site_id: self.site_id(),
            kind: Some(self.kind.trim().to_string()).filter(|k| !k.is_empty()),
            status: Some(self.status()),
            sort: Some(self.sort.clone()).filter(|s| !s.is_empty()),
            dir: Some(self.dir().to_string()),
            page: Some(self.page()),
            per_page: Some(self.per_page()),
        }
    }

    /// The filter as recorded with an export in the audit log.
    pub(super) fn filter_json(&self) -> serde_json::Value {
        serde_json::json!({
            "q": self.q.trim(),
            "kind": self.kind.trim(),
            "site_id": self.site_id(),
            "status": self.status_code(),
            "sort": self.sort,
            "dir": self.dir(),
        })
    }

    /// `base?…` with the current filter, sort and paging, `overrides` replacing (or, when empty,
    /// dropping) single keys.
    pub(super) fn href(&self, base: &str, overrides: &[(&str, &str)]) -> String {
        let page = self.page().to_string();
        let per_page = self.per_page().to_string();
        let site = self.site_id().map(|s| s.to_string()).unwrap_or_default();
        let current: [(&str, &str); 8] = [
            ("q", self.q.trim()),
            ("kind", self.kind.trim()),
            ("site_id", &site),
            ("status", self.status_code()),
            ("sort", &self.sort),
            ("dir", if self.sort.is_empty() { "" } else { self.dir() }),
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
                "status" => v == "active",
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
            base.to_string()
        } else {
            format!("{base}?{qs}")
        }
    }

    /// A column header; `key` is the store's sort key when the column is sortable, `default_sort` the key
    /// the store sorts by when none is given.
    fn th(
        &self,
        tr: Tr,
        base: &str,
        label: &str,
        key: Option<&str>,
        default_sort: Option<&str>,
    ) -> Th {
        let mut th = Th {
            label: label.to_string(),
            href: None,
            aria_sort: "",
            arrow: "",
            state: "",
            class: "",
        };
        let Some(key) = key else { return th };
        let current = if self.sort.is_empty() {
            default_sort
        } else {
            Some(self.sort.as_str())
        };
        let sorted = current == Some(key);
        let desc = sorted && self.dir() == "desc";
        if sorted {
            th.aria_sort = if desc { "descending" } else { "ascending" };
            th.arrow = if desc { "▼" } else { "▲" };
            th.state = tr.t(if desc {
                "registry.sorted_desc"
            } else {
                "registry.sorted_asc"
            });
        }
        let next_dir = if sorted && !desc { "desc" } else { "asc" };
        th.href = Some(self.href(base, &[("sort", key), ("dir", next_dir), ("page", "1")]));
        th
    }

    fn status_options(&self, tr: Tr) -> Vec<Opt> {
        let current = self.status_code();
        vec![
            Opt::matching("active", tr.t("common.active"), current),
            Opt::matching("retired", tr.t("common.retired"), current),
            Opt::matching("all", tr.t("common.all"), current),
        ]
    }

    fn per_page_options(&self) -> Vec<Opt> {
        let current = self.per_page().to_string();
        PER_PAGES
            .iter()
            .map(|n| Opt::matching(n.to_string(), n.to_string(), &current))
            .collect()
    }
}

/// How a site is named in a drop-down: `佐賀県庁（S00001）`.
pub(super) fn option_label(code: &str, name: &str) -> String {
    format!("{name}（{code}）")
}

/// Up to this many sites in service the site filter is a drop-down; beyond, a 拠点コード field (a
/// select of thousands of options is neither usable nor cheap to send with every page).
const SITE_SELECT_MAX: i64 = 200;

/// The site filter of a list page: a drop-down, or a code field with what was typed and why it
/// matched nothing.
#[derive(Default)]
pub(super) struct SiteFilter {
    pub options: Option<Vec<Opt>>,
    pub code: Option<String>,
    pub error: Option<String>,
}

impl SiteFilter {
    /// Resolves `site_code` (when typed) into `params.site_id` and picks the control to show. An
    /// unknown code filters to nothing and says so.
    pub(super) async fn resolve(
        state: &AppState,
        tr: Tr,
        params: &mut ListParams,
    ) -> Result<SiteFilter, WebError> {
        let error = SiteFilter::apply_code(state, tr, params).await?;
        let active_sites = state.store.active_site_count().await?;
        SiteFilter::show(state, params, error, active_sites).await
    }

    /// The first half of [`SiteFilter::resolve`], for a list that learns the number of sites with its
    /// rows: resolves a typed `site_code` into `params.site_id`; returns the error to show, if any.
    pub(super) async fn apply_code(
        state: &AppState,
        tr: Tr,
        params: &mut ListParams,
    ) -> Result<Option<String>, WebError> {
        let typed = params.site_code.trim().to_string();
        if typed.is_empty() {
            return Ok(None);
        }
        Ok(match state.store.site_by_code(&typed).await? {
            Some((id, _, _)) => {
                params.site_id = id.to_string();
                None
            }
            None => {
                // Matches no site, so the list is empty rather than unfiltered.
                params.site_id = "0".into();
                Some(if tr.is_ja() {
                    format!("拠点コード「{typed}」は登録されていません。")
                } else {
                    format!("No site has the code \u{201c}{typed}\u{201d}.")
                })
            }
        })
    }

    /// The second half: a drop-down for up to [`SITE_SELECT_MAX`] sites in service, else the code field.
    pub(super) async fn show(
        state: &AppState,
        params: &ListParams,
        error: Option<String>,
        active_sites: i64,
    ) -> Result<SiteFilter, WebError> {
        if active_sites <= SITE_SELECT_MAX {
            let current = params.site_id.trim().to_string();
            let options = state
                .store
                .site_options()
                .await?
                .iter()
                .map(|(id, code, name)| {
                    Opt::matching(id.to_string(), option_label(code, name), &current)
                })
                .collect();
            return Ok(SiteFilter {
                options: Some(options),
                code: None,
                error,
            });
        }
        let typed = params.site_code.trim();
        let code = match params.site_id() {
            _ if !typed.is_empty() => typed.to_string(),
            Some(id) => state
                .store
                .site(id)
                .await
                .map(|s| s.code)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(SiteFilter {
            options: None,
            code: Some(code),
            error,
        })
    }
}

/// Whether the terminal and node forms take the site as a 拠点コード text field rather than a drop-down
/// (above [`SITE_SELECT_MAX`] sites in service, as the list filter does).
async fn site_by_code_field(state: &AppState) -> Result<bool, WebError> {
    Ok(state.store.active_site_count().await? > SITE_SELECT_MAX)
}

/// How a form takes its site: the terminal form requires one and keeps the terminal's own site even if it
/// was retired since (the store allows that); the node form's site is optional.
pub(super) struct SiteControl<'a> {
    pub label: &'a str,
    pub required: bool,
    /// The record's own site may stay after it was retired.
    pub keep_retired: bool,
}

/// The site a terminal or node form posted: from the drop-down (`site_id`), or typed into the 拠点コード
/// field (`site_code`) and resolved here to its id.
#[derive(Debug, Default)]
pub(super) struct PostedSite {
    pub id: Option<i64>,
    /// What was typed, when the form had the code field (shown again after a failed submit).
    pub code: Option<String>,
    /// Why the typed code cannot be used; the form is then shown again and nothing is saved.
    pub error: Option<FieldError>,
}

impl PostedSite {
    /// Reads the posted site. A typed code must name a site in service, or the record's own site
    /// (`record_site`) when `control.keep_retired`. An empty code is no site, an error when
    /// `control.required`.
    pub(super) async fn read(
        state: &AppState,
        tr: Tr,
        form: &HashMap<String, String>,
        control: &SiteControl<'_>,
        record_site: Option<i64>,
    ) -> Result<PostedSite, WebError> {
        let Some(typed) = form.get("site_code") else {
            return Ok(PostedSite {
                id: form_id(form.get("site_id")),
                ..PostedSite::default()
            });
        };
        let code = typed.trim().to_string();
        let fail = |message: String| PostedSite {
            id: None,
            code: Some(code.clone()),
            error: Some(FieldError::new(SITE_CODE_FIELD, message)),
        };
        if code.is_empty() {
            return Ok(if control.required {
                fail(
                    tr.pick("拠点コードを入力してください。", "Enter the site code.")
                        .into(),
                )
            } else {
                PostedSite {
                    code: Some(code),
                    ..PostedSite::default()
                }
            });
        }
        let Some((id, _, name)) = state.store.site_by_code(&code).await? else {
            return Ok(fail(if tr.is_ja() {
                format!("拠点コード「{code}」は登録されていません。")
            } else {
                format!("No site has the code \u{201c}{code}\u{201d}.")
            }));
        };
        let kept = control.keep_retired && Some(id) == record_site;
        if !kept && state.store.site(id).await?.retired_at.is_some() {
            return Ok(fail(if tr.is_ja() {
                format!(
                    "拠点コード「{code}」の拠点（{name}）は廃止されています。使用中の拠点のコードを入力してください。"
                )
            } else {
                format!(
                    "The site with the code \u{201c}{code}\u{201d} ({name}) is retired. Enter the code of a site in service."
                )
            }));
        }
        Ok(PostedSite {
            id: Some(id),
            code: Some(code),
            error: None,
        })
    }

    /// The form's errors when the typed code cannot be used: that error first, then what validating the
    /// other fields found (their site error aside), so that one submit shows every mistake.
    pub(super) fn errors(&self, validated: Option<DomainError>) -> Vec<FieldError> {
        let mut out: Vec<FieldError> = self.error.iter().cloned().collect();
        if let Some(DomainError::Validation(fields)) = validated {
            out.extend(fields.into_iter().filter(|f| f.field != "site_id"));
        }
        out
    }
}

/// The name and id of the 拠点コード field of the terminal and node forms.
const SITE_CODE_FIELD: &str = "site_code";

/// The site control of the terminal and node forms: up to [`SITE_SELECT_MAX`] sites in service a
/// drop-down of them (plus the record's own site if retired since, when `control.keep_retired`), beyond
/// that a 拠点コード text field holding `typed` after a failed submit, or else the code of `current`.
/// Returns the field and `errors` with any error about the site moved onto it.
pub(super) async fn site_form_field(
    state: &AppState,
    tr: Tr,
    control: &SiteControl<'_>,
    current: Option<i64>,
    typed: Option<&str>,
    errors: &[FieldError],
) -> Result<(Field, Vec<FieldError>), WebError> {
    let SiteControl {
        label,
        required,
        keep_retired,
    } = *control;
    let field = if site_by_code_field(state).await? {
        let code = match (typed, current) {
            (Some(t), _) => t.to_string(),
            (None, Some(id)) => state
                .store
                .site(id)
                .await
                .map(|s| s.code)
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let hint = if required {
            tr.pick(
                "拠点が多いため、拠点コードで入力します（例: S00042）。",
                "There are many sites: enter the site's code (e.g. S00042).",
            )
        } else {
            tr.pick(
                "拠点が多いため、拠点コードで入力します（例: S00042）。空欄なら（なし）。",
                "There are many sites: enter the site's code (e.g. S00042), or leave it empty for none.",
            )
        };
        let label = if tr.is_ja() {
            format!("{label}（拠点コード）")
        } else {
            format!("{label} (site code)")
        };
        Field::text(SITE_CODE_FIELD, &label, &code)
            .mono()
            .hint(hint)
    } else {
        let sites = state.store.site_options().await?;
        let selected = current.map(|s| s.to_string()).unwrap_or_default();
        let mut options: Vec<Opt> = sites
            .iter()
            .map(|(id, code, name)| {
                Opt::matching(id.to_string(), option_label(code, name), &selected)
            })
            .collect();
        if keep_retired
            && let Some(sid) = current
            && !sites.iter().any(|(id, _, _)| *id == sid)
            && let Ok(s) = state.store.site(sid).await
        {
            options.push(Opt::matching(
                sid.to_string(),
                option_label(&s.code, &s.name),
                &selected,
            ));
        }
        let blank = tr.t(if required {
            "registry.choose"
        } else {
            "registry.none"
        });
        Field::select("site_id", label, blank, options)
    };
    let field = if required { field.required() } else { field };
    let errors = errors
        .iter()
        .map(|e| {
            if e.field == "site_id" || e.field == SITE_CODE_FIELD {
                FieldError::new(field.id, e.message.clone())
            } else {
                e.clone()
            }
        })
        .collect();
    Ok((field, errors))
}

/// Everything a list page shows (one template serves all three lists).
pub(super) struct ListView {
    pub base: &'static str,
    pub params: ListParams,
    pub q_hint: &'static str,
    pub kinds: Vec<Opt>,
    pub sites: Option<SiteFilter>,
    pub statuses: Vec<Opt>,
    pub per_pages: Vec<Opt>,
    pub headers: Vec<Th>,
    pub rows: Vec<Vec<Cell>>,
    pub summary: String,
    pub page_label: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub export_csv: String,
    pub export_xlsx: String,
    pub new_href: String,
}

impl ListView {
    #[allow(clippy::too_many_arguments)]
    fn new<T>(
        tr: Tr,
        base: &'static str,
        params: ListParams,
        q_hint: &'static str,
        kinds: Vec<Opt>,
        sites: Option<SiteFilter>,
        headers: Vec<Th>,
        rows: Vec<Vec<Cell>>,
        page: &unyo_store::Page<T>,
    ) -> ListView {
        let first = if page.total == 0 {
            0
        } else {
            (page.page - 1) * page.per_page + 1
        };
        let last = (page.page * page.per_page).min(page.total);
        let summary = if tr.is_ja() {
            format!("全{}件中 {}–{}件", page.total, first, last)
        } else {
            format!("{}–{} of {}", first, last, page.total)
        };
        let page_label = if tr.is_ja() {
            format!("{} / {} ページ", page.page, page.pages())
        } else {
            format!("Page {} of {}", page.page, page.pages())
        };
        let prev_href =
            (page.page > 1).then(|| params.href(base, &[("page", &(page.page - 1).to_string())]));
        let next_href = (page.page < page.pages())
            .then(|| params.href(base, &[("page", &(page.page + 1).to_string())]));
        let export = |ext: &str| {
            params.href(
                &format!("{base}/export.{ext}"),
                &[("page", ""), ("per_page", "")],
            )
        };
        ListView {
            base,
            q_hint,
            kinds,
            sites,
            statuses: params.status_options(tr),
            per_pages: params.per_page_options(),
            headers,
            rows,
            summary,
            page_label,
            prev_href,
            next_href,
            export_csv: export("csv"),
            export_xlsx: export("xlsx"),
            new_href: format!("{base}/new"),
            params,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "registry_list.html")]
pub(super) struct ListPage {
    pub page: crate::page::PageMeta,
    pub v: ListView,
}

/// Kind options for the selects, labelled in the page's language.
fn site_kind_options(tr: Tr, current: &str) -> Vec<Opt> {
    SiteKind::ALL
        .iter()
        .map(|k| Opt::matching(k.code(), tr.pick(k.label_ja(), k.label_en()), current))
        .collect()
}

fn terminal_kind_options(tr: Tr, current: &str) -> Vec<Opt> {
    TerminalKind::ALL
        .iter()
        .map(|k| Opt::matching(k.code(), tr.pick(k.label_ja(), k.label_en()), current))
        .collect()
}

fn node_kind_options(tr: Tr, current: &str) -> Vec<Opt> {
    NodeKind::ALL
        .iter()
        .map(|k| Opt::matching(k.code(), tr.pick(k.label_ja(), k.label_en()), current))
        .collect()
}

fn site_kind_label(tr: Tr, code: &str) -> String {
    SiteKind::parse(code)
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn terminal_kind_label(tr: Tr, code: &str) -> String {
    TerminalKind::parse(code)
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn node_kind_label(tr: Tr, code: &str) -> String {
    NodeKind::parse(code)
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// An optional id from a form select (`""` = none).
fn form_id(raw: Option<&String>) -> Option<i64> {
    raw.and_then(|s| s.trim().parse::<i64>().ok())
}

// ------------------------------------------------------------------ forms

/// One control of a registry form.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub id: &'static str,
    pub label: String,
    /// `text`, `select` or `textarea`.
    pub control: &'static str,
    pub value: String,
    pub required: bool,
    pub hint: String,
    pub options: Vec<Opt>,
    pub error: String,
    /// Ids for `aria-describedby` (hint and error).
    pub described_by: String,
    pub mono: bool,
}

impl Field {
    fn text(id: &'static str, label: &str, value: &str) -> Field {
        Field {
            id,
            label: label.to_string(),
            control: "text",
            value: value.to_string(),
            required: false,
            hint: String::new(),
            options: Vec::new(),
            error: String::new(),
            described_by: String::new(),
            mono: false,
        }
    }

    fn textarea(id: &'static str, label: &str, value: &str) -> Field {
        Field {
            control: "textarea",
            ..Field::text(id, label, value)
        }
    }

    /// A select; `blank` is the label of the empty first option (none for a required select with a value).
    fn select(id: &'static str, label: &str, blank: &str, options: Vec<Opt>) -> Field {
        let mut all = vec![Opt {
            value: String::new(),
            label: blank.to_string(),
            selected: !options.iter().any(|o| o.selected),
        }];
        all.extend(options);
        Field {
            control: "select",
            options: all,
            ..Field::text(id, label, "")
        }
    }

    fn required(mut self) -> Field {
        self.required = true;
        self
    }

    fn mono(mut self) -> Field {
        self.mono = true;
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = hint.into();
        self
    }
}

/// A whole form page.
pub(super) struct FormView {
    pub action: String,
    pub cancel: String,
    pub fields: Vec<Field>,
    pub errors: Vec<ErrorItem>,
}

impl FormView {
    /// Attaches errors to their fields (message, `aria-describedby`) and builds the summary.
    fn new(
        action: String,
        cancel: String,
        mut fields: Vec<Field>,
        errors: &[FieldError],
    ) -> FormView {
        let mut summary = Vec::new();
        for e in errors {
            let field = fields.iter_mut().find(|f| f.id == e.field);
            let href = match field {
                Some(f) => {
                    if !f.error.is_empty() {
                        f.error.push(' ');
                    }
                    f.error.push_str(&e.message);
                    format!("#{}", f.id)
                }
                None => String::new(),
            };
            summary.push(ErrorItem {
                href,
                message: e.message.clone(),
            });
        }
        for f in &mut fields {
            let mut ids = Vec::new();
            if !f.hint.is_empty() {
                ids.push(format!("hint-{}", f.id));
            }
            if !f.error.is_empty() {
                ids.push(format!("err-{}", f.id));
            }
            f.described_by = ids.join(" ");
        }
        FormView {
            action,
            cancel,
            fields,
            errors: summary,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "registry_form.html")]
pub(super) struct FormPage {
    pub page: crate::page::PageMeta,
    pub form: FormView,
}

/// Renders a form, with 422 when it carries errors.
fn form_response(
    page: crate::page::PageMeta,
    form: FormView,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let status = if form.errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = crate::page::render(&FormPage { page, form })?;
    Ok((status, html).into_response())
}

/// The field errors a person can fix on the form; other failures stay errors. A duplicate key becomes an
/// error on `key_field`.
fn fixable(e: StoreError, key_field: &str) -> Result<Vec<FieldError>, WebError> {
    use unyo_domain::DomainError;
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => Ok(fields),
        StoreError::Domain(DomainError::Conflict(message)) => {
            let field = if message.contains("既に登録されています") {
                key_field
            } else {
                ""
            };
            Ok(vec![FieldError::new(field, message)])
        }
        other => Err(other.into()),
    }
}

// ------------------------------------------------------------------ detail pages

/// A step of a path into the network.
#[derive(Debug, Clone)]
pub(super) struct PathStep {
    pub label: String,
    pub href: String,
    pub detail: String,
}

/// A row of the change history.
#[derive(Debug, Clone)]
pub(super) struct HistoryRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub lines: Vec<String>,
}

/// Everything a detail page shows (one template serves all three).
pub(super) struct DetailView {
    pub back: &'static str,
    pub edit_href: String,
    pub retire_action: String,
    pub retired: Option<String>,
    pub props: Vec<Prop>,
    pub path_heading: String,
    /// `None`: the record has no path section; `Some(empty)`: no path (with `no_path` shown).
    pub path: Option<Vec<PathStep>>,
    pub no_path: String,
    pub tables: Vec<SubTable>,
    pub history: Vec<HistoryRow>,
    /// Error on the reason field of the retire form.
    pub reason_error: String,
    /// Other reason the record could not be retired (e.g. terminals still at the site).
    pub retire_error: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "registry_detail.html")]
pub(super) struct DetailPage {
    pub page: crate::page::PageMeta,
    pub d: DetailView,
}

/// The retire form's errors from a failed retire.
fn retire_errors(e: StoreError) -> Result<(String, String), WebError> {
    use unyo_domain::DomainError;
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => {
            let (reason, other): (Vec<_>, Vec<_>) =
                fields.into_iter().partition(|f| f.field == "reason");
            Ok((
                reason
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join(" "),
                other
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ))
        }
        StoreError::Domain(DomainError::Conflict(m)) => Ok((String::new(), m)),
        other => Err(other.into()),
    }
}

/// The form body of a retire request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RetireForm {
    pub reason: String,
    /// `1` once the confirmation step was passed (see `crate::confirm`).
    pub confirmed: String,
}

/// The confirmation step of a retire (it cannot be undone from the pages): the reason is checked first,
/// so a refusal shows on the detail page as before; then a page says what retiring `what` (e.g. 「端末
/// jk-kencho-01」) means, and its button posts the reason again with `confirmed=1`. `None` once confirmed.
pub(super) fn retire_confirmation(
    ctx: &crate::page::Ctx,
    what: String,
    action: String,
    cancel_href: String,
    f: &RetireForm,
) -> Option<Result<axum::response::Response, DomainError>> {
    if f.confirmed == "1" {
        return None;
    }
    if let Err(e) = unyo_domain::registry::validate_retire_reason(&f.reason) {
        return Some(Err(e));
    }
    let tr = ctx.tr;
    let step = crate::confirm::ConfirmStep {
        page: ctx.page(tr.pick("廃止の確認", "Confirm retiring"), "registry"),
        heading: tr
            .pick(
                &format!("{what}を廃止します"),
                &format!("Retire {what}"),
            )
            .to_string(),
        facts: vec![
            (tr.pick("対象", "Record").into(), what.clone()),
            (tr.t("common.retire_reason").into(), f.reason.trim().into()),
        ],
        paragraphs: vec![tr
            .pick(
                "廃止すると一覧や入力の選択肢に表示されなくなり、画面から元に戻すことはできません。廃止の日時・理由・操作者は台帳の履歴と監査ログに残ります。",
                "A retired record leaves the lists and choices and cannot be brought back from the pages. When, why and by whom stay in its history and the audit log.",
            )
            .into()],
        action,
        hidden: vec![
            ("reason".into(), f.reason.clone()),
            (crate::confirm::CONFIRMED.into(), "1".into()),
        ],
        button: tr.t("common.retire").into(),
        cancel_href,
    };
    Some(Ok(match step.respond() {
        Ok(r) => r,
        Err(e) => axum::response::IntoResponse::into_response(e),
    }))
}

/// Renders a detail page, with 422 after a refused retire.
fn detail_response(
    page: crate::page::PageMeta,
    d: DetailView,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    let status = if d.reason_error.is_empty() && d.retire_error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = crate::page::render(&DetailPage { page, d })?;
    Ok((status, html).into_response())
}

/// The path from `uplink` up to the root of the 集約ネットワーク, as steps to show.
async fn path_steps(
    state: &AppState,
    tr: Tr,
    uplink: Option<i64>,
) -> Result<Vec<PathStep>, WebError> {
    let Some(start) = uplink else {
        return Ok(Vec::new());
    };
    let path = match state.store.node_path(start).await {
        Ok(p) => p,
        // A cycle cannot be stored, but a broken path must not break the page.
        Err(StoreError::Domain(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let last = path.len().saturating_sub(1);
    Ok(path
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let mut detail = node_kind_label(tr, &n.kind);
            if let Some(ip) = &n.ip_address {
                detail.push_str(&format!(" {ip}"));
            }
            if i == last {
                detail.push_str(&format!("・{}", tr.t("registry.root")));
            }
            PathStep {
                label: n.name,
                href: format!("/nodes/{}", n.id),
                detail,
            }
        })
        .collect())
}

/// Common properties at the end of every detail page: status, created, updated, retired.
fn status_props(
    page: &crate::page::PageMeta,
    created: &str,
    updated: &str,
    retired: &Option<String>,
) -> Vec<Prop> {
    let tr = page.tr;
    let mut props = vec![
        Prop::new(tr.t("common.status"), Cell::status(tr, retired.is_some())),
        Prop::new(tr.t("common.created"), Cell::text(page.datetime(created))),
        Prop::new(tr.t("common.updated"), Cell::text(page.datetime(updated))),
    ];
    if retired.is_some() {
        props.push(Prop::new(
            tr.t("registry.retired_at"),
            Cell::text(page.datetime_opt(retired)),
        ));
    }
    props
}
