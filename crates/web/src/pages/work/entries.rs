//! 作業記録: the list with filters, paging and total hours; new/edit forms; the detail page with history
//! and evidence attachments.

use super::history::{HistoryRow, history};
use super::{
    Errors, Fields, OkQuery, Opt, Prop, category_label, clause_label, clause_mark,
    date_with_weekday, fixable, hours_text, mode_label, opt_id, parse_id, respond,
    stored_date_text, term_text, with_query,
};
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::support::{Category, Clause, WorkInput, WorkMode, parse_date};
use unyo_domain::{Action, FieldError};
use unyo_store::registry::{ListQuery, Status};
use unyo_store::support::{Contract, RequestQuery, WorkQuery, WorkRow, jst_today};

const BASE: &str = "/work";
/// Rows-per-page choices.
const PER_PAGES: [i64; 4] = [20, 50, 100, 200];
const DEFAULT_PER_PAGE: i64 = 50;

/// Controls of the work form, for links from the error summary.
const FORM_FIELDS: &[&str] = &[
    "contract_id",
    "work_date",
    "start_time",
    "end_time",
    "worker_ids",
    "mode",
    "site_id",
    "terminal_ids",
    "category",
    "clause",
    "description",
    "result",
    "follow_up",
    "request_id",
];

// ------------------------------------------------------------------ list

/// The query string of the list (and of the exports). Everything is text so that an empty select is not
/// an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct WorkParams {
    pub contract_id: String,
    pub from: String,
    pub to: String,
    pub worker_id: String,
    pub site_id: String,
    pub category: String,
    /// A request number (R8-0001).
    pub request: String,
    pub q: String,
    pub page: String,
    pub per_page: String,
    pub ok: String,
}

impl WorkParams {
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

    /// The store query (paging included); a request number that names no request matches nothing.
    pub(super) async fn query(&self, state: &AppState) -> Result<WorkQuery, WebError> {
        let request_id = match self.request.trim() {
            "" => None,
            number => {
                let found = state
                    .store
                    .requests(
                        &RequestQuery {
                            q: Some(number.to_string()),
                            per_page: Some(50),
                            ..Default::default()
                        },
                        jst_today(),
                    )
                    .await?;
                Some(
                    found
                        .items
                        .iter()
                        .find(|r| r.number.eq_ignore_ascii_case(number))
                        .map_or(0, |r| r.id),
                )
            }
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(WorkQuery {
            contract_id: opt_id(&self.contract_id),
            from: text(&self.from),
            to: text(&self.to),
            worker_id: opt_id(&self.worker_id),
            site_id: opt_id(&self.site_id),
            terminal_id: None,
            category: text(&self.category),
            request_id,
            q: text(&self.q),
            page: Some(self.page()),
            per_page: Some(self.per_page()),
        })
    }

    /// The filter as recorded with an export in the audit log.
    pub(super) fn filter_json(&self) -> serde_json::Value {
        serde_json::json!({
            "contract_id": opt_id(&self.contract_id),
            "from": self.from.trim(),
            "to": self.to.trim(),
            "worker_id": opt_id(&self.worker_id),
            "site_id": opt_id(&self.site_id),
            "category": self.category.trim(),
            "request": self.request.trim(),
            "q": self.q.trim(),
        })
    }

    /// `base?…` with the current filter; with `paging`, the rows per page and `page` (when not 1).
    pub(super) fn href(&self, base: &str, paging: bool, page: i64) -> String {
        let page = if paging && page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        let per_page = if paging && self.per_page() != DEFAULT_PER_PAGE {
            self.per_page().to_string()
        } else {
            String::new()
        };
        with_query(
            base,
            &[
                ("contract_id", self.contract_id.trim()),
                ("from", self.from.trim()),
                ("to", self.to.trim()),
                ("worker_id", self.worker_id.trim()),
                ("site_id", self.site_id.trim()),
                ("category", self.category.trim()),
                ("request", self.request.trim()),
                ("q", self.q.trim()),
                ("page", &page),
                ("per_page", &per_page),
            ],
        )
    }
}

/// One row of the list.
pub(super) struct ListRow {
    pub href: String,
    pub date: String,
    pub time: String,
    pub hours: String,
    pub workers: String,
    pub mode: String,
    pub site: String,
    pub terminals: String,
    pub clause_mark: String,
    pub category: String,
    pub description: String,
    pub result: String,
    pub request: Option<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "work_list.html")]
struct ListPage {
    page: PageMeta,
    p: WorkParams,
    contracts: Vec<Opt>,
    workers: Vec<Opt>,
    sites: Vec<Opt>,
    categories: Vec<Opt>,
    per_pages: Vec<Opt>,
    from_error: bool,
    to_error: bool,
    rows: Vec<ListRow>,
    summary: String,
    total_hours: String,
    page_label: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    export_csv: String,
    export_xlsx: String,
    can_log: bool,
}

/// The first line of `s`, at most `max` characters.
fn headline(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let mut t: String = line.chars().take(max).collect();
        t.push('…');
        t
    } else {
        line.to_string()
    }
}

/// "09:00–10:30" (may wrap after the dash in a narrow column, never inside a time).
pub(super) fn time_range(start: &str, end: &str) -> String {
    format!("{start}–{end}")
}

fn list_row(tr: crate::i18n::Tr, w: &WorkRow) -> ListRow {
    ListRow {
        href: format!("{BASE}/{}", w.id),
        date: date_with_weekday(tr, &w.work_date),
        time: time_range(&w.start_time, &w.end_time),
        hours: unyo_domain::support::hours_label(w.minutes),
        workers: w.workers.clone(),
        mode: mode_label(tr, &w.mode),
        site: w.site_name.clone().unwrap_or_default(),
        terminals: w.terminals.clone(),
        clause_mark: clause_mark(&w.clause).to_string(),
        category: category_label(tr, &w.category),
        description: headline(&w.description, 40),
        result: headline(&w.result, 30),
        request: w
            .request_id
            .zip(w.request_number.clone())
            .map(|(id, n)| (format!("/requests/{id}"), n)),
    }
}

/// A contract as an option: "R8-情-001 業務名（令和8年4月1日～令和9年3月31日）".
fn contract_label(tr: crate::i18n::Tr, c: &Contract) -> String {
    let sep = if tr.is_ja() { "（" } else { " (" };
    let end = if tr.is_ja() { "）" } else { ")" };
    format!(
        "{} {}{sep}{}{end}",
        c.number,
        c.name,
        term_text(tr, &c.term_start, &c.term_end)
    )
}

/// `GET /work`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<WorkParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let q = p.query(&state).await?;
    let page = state.store.work_entries(&q).await?;
    let all = state
        .store
        .work_entries_all(&WorkQuery {
            page: None,
            per_page: None,
            ..q.clone()
        })
        .await?;
    let minutes: i64 = all.iter().map(|w| w.minutes).sum();
    let contracts = state.store.contracts().await?;
    let users = state.store.users().await?;
    let sites = state.store.all_sites().await?;
    let sel = |raw: &str, v: i64| opt_id(raw) == Some(v);
    let contract_opts = contracts
        .iter()
        .map(|c| {
            Opt::new(
                c.id.to_string(),
                contract_label(tr, c),
                sel(&p.contract_id, c.id),
            )
        })
        .collect();
    let worker_opts = users
        .iter()
        .filter(|u| u.role != "auditor")
        .map(|u| Opt::new(u.id.to_string(), &u.display_name, sel(&p.worker_id, u.id)))
        .collect();
    let site_opts = sites
        .iter()
        .map(|s| Opt::new(s.id.to_string(), &s.name, sel(&p.site_id, s.id)))
        .collect();
    let category_opts = Category::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.code(),
                tr.pick(c.label_ja(), c.label_en()),
                p.category.trim() == c.code(),
            )
        })
        .collect();
    let per_pages = PER_PAGES
        .iter()
        .map(|n| Opt::new(n.to_string(), n.to_string(), *n == p.per_page()))
        .collect();
    let bad = |s: &str| !s.trim().is_empty() && parse_date(s).is_none();
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
    let meta = ctx.page(tr.t("work.title"), "work").with_flash(Some(&p.ok));
    let view = ListPage {
        rows: page.items.iter().map(|w| list_row(tr, w)).collect(),
        contracts: contract_opts,
        workers: worker_opts,
        sites: site_opts,
        categories: category_opts,
        per_pages,
        from_error: bad(&p.from),
        to_error: bad(&p.to),
        summary,
        total_hours: hours_text(tr, minutes),
        page_label,
        prev_href: (page.page > 1).then(|| p.href(BASE, true, page.page - 1)),
        next_href: (page.page < page.pages()).then(|| p.href(BASE, true, page.page + 1)),
        export_csv: p.href(&format!("{BASE}/export.csv"), false, 1),
        export_xlsx: p.href(&format!("{BASE}/export.xlsx"), false, 1),
        can_log: ctx.user.role().allows(Action::LogWork),
        page: meta,
        p,
    };
    respond(StatusCode::OK, &view)
}

// ------------------------------------------------------------------ form

/// A labelled group of checkboxes (terminals by site).
pub(super) struct Group {
    pub label: String,
    pub items: Vec<Opt>,
}

#[derive(askama::Template)]
#[template(path = "work_form.html")]
struct FormPage {
    page: PageMeta,
    action: String,
    cancel: String,
    contracts: Vec<Opt>,
    work_date: String,
    start_time: String,
    end_time: String,
    workers: Vec<Opt>,
    no_staff: bool,
    modes: Vec<Opt>,
    sites: Vec<Opt>,
    terminals: Vec<Group>,
    categories: Vec<Opt>,
    clauses: Vec<Opt>,
    description: String,
    result: String,
    follow_up: String,
    requests: Vec<Opt>,
    errors: Errors,
    prefilled: bool,
}

fn input_of(f: &Fields) -> WorkInput {
    WorkInput {
        contract_id: opt_id(&f.get("contract_id")),
        work_date: f.get("work_date"),
        start_time: f.get("start_time"),
        end_time: f.get("end_time"),
        worker_ids: f.ids("worker_ids"),
        mode: f.get("mode"),
        site_id: opt_id(&f.get("site_id")),
        terminal_ids: f.ids("terminal_ids"),
        category: f.get("category"),
        clause: f.get("clause"),
        description: f.get("description"),
        result: f.get("result"),
        follow_up: f.get("follow_up"),
        request_id: opt_id(&f.get("request_id")),
    }
}

fn input_from(w: &WorkRow) -> WorkInput {
    WorkInput {
        contract_id: Some(w.contract_id),
        work_date: w.work_date.clone(),
        start_time: w.start_time.clone(),
        end_time: w.end_time.clone(),
        worker_ids: w.worker_ids.clone(),
        mode: w.mode.clone(),
        site_id: w.site_id,
        terminal_ids: w.terminal_ids.clone(),
        category: w.category.clone(),
        // A suggested clause is suggested again from what the edit says; a set one is kept.
        clause: if w.clause_set {
            w.clause.clone()
        } else {
            String::new()
        },
        description: w.description.clone(),
        result: w.result.clone(),
        follow_up: w.follow_up.clone(),
        request_id: w.request_id,
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &WorkInput,
    errors: Vec<FieldError>,
    prefilled: bool,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let store = &state.store;
    let contracts = store.contracts().await?;
    let contract_opts: Vec<Opt> = contracts
        .iter()
        .map(|c| {
            Opt::new(
                c.id.to_string(),
                contract_label(tr, c),
                input.contract_id == Some(c.id),
            )
        })
        .collect();
    // Workers: the selected contract's staff, and anyone already ticked (so that nothing typed is lost).
    let users = store.users().await?;
    let staff: Vec<i64> = contracts
        .iter()
        .find(|c| Some(c.id) == input.contract_id)
        .map(Contract::staff_ids)
        .unwrap_or_default();
    let mut worker_ids = staff.clone();
    for w in &input.worker_ids {
        if !worker_ids.contains(w) {
            worker_ids.push(*w);
        }
    }
    let workers: Vec<Opt> = worker_ids
        .iter()
        .filter_map(|id| users.iter().find(|u| u.id == *id))
        .map(|u| {
            Opt::new(
                u.id.to_string(),
                &u.display_name,
                input.worker_ids.contains(&u.id),
            )
        })
        .collect();
    let modes = WorkMode::ALL
        .iter()
        .map(|m| {
            Opt::new(
                m.code(),
                tr.pick(m.label_ja(), m.label_en()),
                input.mode == m.code(),
            )
        })
        .collect();
    // Sites in service, and the entry's own site even if retired since.
    let mut sites = store.all_sites().await?;
    if let Some(sid) = input.site_id
        && !sites.iter().any(|s| s.id == sid)
        && let Ok(s) = store.site(sid).await
    {
        sites.push(s);
    }
    let site_opts: Vec<Opt> = sites
        .iter()
        .map(|s| {
            Opt::new(
                s.id.to_string(),
                format!("{}（{}）", s.name, s.code),
                input.site_id == Some(s.id),
            )
        })
        .collect();
    // Terminals grouped by site, and the entry's own terminals even if retired since.
    let mut terminals = store
        .terminals(&ListQuery {
            status: Some(Status::Active),
            per_page: Some(500),
            sort: Some("hostname".into()),
            ..Default::default()
        })
        .await?
        .items;
    for tid in &input.terminal_ids {
        if !terminals.iter().any(|t| t.id == *tid)
            && let Ok(t) = store.terminal(*tid).await
        {
            terminals.push(t);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut order: Vec<i64> = sites.iter().map(|s| s.id).collect();
    for t in &terminals {
        if !order.contains(&t.site_id) {
            order.push(t.site_id);
        }
    }
    for sid in order {
        let items: Vec<Opt> = terminals
            .iter()
            .filter(|t| t.site_id == sid)
            .map(|t| {
                let kind = unyo_domain::registry::TerminalKind::parse(&t.kind)
                    .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
                    .unwrap_or_default();
                Opt::new(
                    t.id.to_string(),
                    format!("{}（{kind}）", t.hostname),
                    input.terminal_ids.contains(&t.id),
                )
            })
            .collect();
        if let Some(first) = terminals.iter().find(|t| t.site_id == sid) {
            groups.push(Group {
                label: first.site_name.clone(),
                items,
            });
        }
    }
    let categories = Category::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.code(),
                tr.pick(c.label_ja(), c.label_en()),
                input.category == c.code(),
            )
        })
        .collect();
    // Empty (the first option) lets the clause be suggested from the category and the terminals.
    let clauses = Clause::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.code(),
                tr.pick(c.label_ja(), c.label_en()),
                input.clause == c.code(),
            )
        })
        .collect();
    // Requests still open, and the entry's own request even if closed since.
    let today = jst_today();
    let open = store
        .requests(
            &RequestQuery {
                open_only: Some(true),
                per_page: Some(500),
                ..Default::default()
            },
            today,
        )
        .await?
        .items;
    let mut requests: Vec<Opt> = open
        .iter()
        .map(|r| {
            Opt::new(
                r.id.to_string(),
                format!("{} {}", r.number, r.title),
                input.request_id == Some(r.id),
            )
        })
        .collect();
    if let Some(rid) = input.request_id
        && !open.iter().any(|r| r.id == rid)
        && let Ok(r) = store.request(rid, today).await
    {
        requests.push(Opt::new(
            rid.to_string(),
            format!("{} {}", r.request.number, r.request.title),
            true,
        ));
    }
    let (title, action, cancel) = match id {
        Some(id) => (
            tr.t("work.edit"),
            format!("{BASE}/{id}"),
            format!("{BASE}/{id}"),
        ),
        None => (tr.t("work.new"), BASE.to_string(), BASE.to_string()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = FormPage {
        page: ctx.page(title, "work"),
        action,
        cancel,
        no_staff: input.contract_id.is_some() && staff.is_empty(),
        contracts: contract_opts,
        work_date: input.work_date.clone(),
        start_time: input.start_time.clone(),
        end_time: input.end_time.clone(),
        workers,
        modes,
        sites: site_opts,
        terminals: groups,
        categories,
        clauses,
        description: input.description.clone(),
        result: input.result.clone(),
        follow_up: input.follow_up.clone(),
        requests,
        errors: Errors::new(errors, FORM_FIELDS, ""),
        prefilled,
    };
    respond(status, &view)
}

/// `?request_id=N` on the new form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NewQuery {
    pub request_id: String,
}

/// `GET /work/new`: today, the contract in force, the person themself as worker, on site; with
/// `?request_id=N` the request's site, terminals and category.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(nq): Query<NewQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::LogWork)?;
    let today = jst_today();
    let contract = match state.store.contract_on(today).await? {
        Some(c) => Some(c),
        None => state.store.contracts().await?.into_iter().next(),
    };
    let mut input = WorkInput {
        contract_id: contract.as_ref().map(|c| c.id),
        work_date: today.format("%Y-%m-%d").to_string(),
        mode: WorkMode::OnSite.code().to_string(),
        ..Default::default()
    };
    if let Some(c) = &contract
        && c.staff_ids().contains(&ctx.user.id)
    {
        input.worker_ids = vec![ctx.user.id];
    }
    let mut prefilled = false;
    if let Some(rid) = opt_id(&nq.request_id)
        && let Ok(r) = state.store.request(rid, today).await
    {
        input.request_id = Some(rid);
        input.category = r.request.category.clone();
        input.site_id = r
            .sites
            .first()
            .map(|s| s.id)
            .or_else(|| r.terminals.first().map(|t| t.site_id));
        input.terminal_ids = r
            .terminals
            .iter()
            .filter(|t| Some(t.site_id) == input.site_id)
            .map(|t| t.id)
            .collect();
        prefilled = true;
    }
    form_page(&state, &ctx, None, &input, Vec::new(), prefilled).await
}

/// `POST /work`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::LogWork)?;
    let input = input_of(&Fields(f));
    match state.store.create_work_entry(&ctx.actor(), &input).await {
        Ok(w) => Ok(Redirect::to(&format!("{BASE}/{}?ok=saved", w.id)).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            form_page(&state, &ctx, None, &input, errors, false).await
        }
    }
}

/// `GET /work/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::LogWork)?;
    let id = parse_id(&id)?;
    let w = state.store.work_entry(id).await?;
    form_page(&state, &ctx, Some(id), &input_from(&w), Vec::new(), false).await
}

/// `POST /work/{id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::LogWork)?;
    let id = parse_id(&id)?;
    // A missing entry is "not found", not a form error.
    state.store.work_entry(id).await?;
    let input = input_of(&Fields(f));
    match state
        .store
        .update_work_entry(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            form_page(&state, &ctx, Some(id), &input, errors, false).await
        }
    }
}

// ------------------------------------------------------------------ detail

/// An attachment as listed.
pub(super) struct AttachmentView {
    pub href: String,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
    pub at: String,
}

#[derive(askama::Template)]
#[template(path = "work_detail.html")]
struct DetailPage {
    page: PageMeta,
    upload_action: String,
    edit_href: Option<String>,
    hours: String,
    props: Vec<Prop>,
    history: Vec<HistoryRow>,
    attachments: Vec<AttachmentView>,
    can_upload: bool,
    upload_error: String,
}

/// A file size for people: "512 B", "12.3 KB", "1.2 MB".
fn size_text(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    ok: &str,
    upload_error: String,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let w = state.store.work_entry(id).await?;
    let title = if tr.is_ja() {
        format!(
            "作業記録 {}（{}）",
            w.id,
            stored_date_text(tr, &w.work_date)
        )
    } else {
        format!("Work entry {} ({})", w.id, w.work_date)
    };
    let mut page = ctx.page(title, "work").with_flash(Some(ok));
    if ok == "uploaded" {
        page.flash = Some(tr.t("work.uploaded"));
    }
    let contract = state.store.contract(w.contract_id).await?;
    let clause = format!(
        "{}（{}）{}",
        clause_mark(&w.clause),
        clause_label(tr, &w.clause),
        if w.clause_set {
            tr.t("work.clause_set_note")
        } else {
            tr.t("work.clause_suggested_note")
        }
    );
    let mut props = vec![
        Prop::new(tr.t("work.number"), w.id.to_string()),
        Prop::link(
            tr.t("work.contract"),
            format!("{} {}", contract.number, contract.name),
            format!("/contracts/{}", contract.id),
        ),
        Prop::new(tr.t("work.date"), date_with_weekday(tr, &w.work_date)),
        Prop::new(
            tr.t("work.time"),
            format!("{}–{}", w.start_time, w.end_time),
        ),
        Prop::new(tr.t("work.computed_hours"), hours_text(tr, w.minutes)),
        Prop::new(tr.t("work.workers"), &w.workers),
        Prop::new(tr.t("work.mode"), mode_label(tr, &w.mode)),
    ];
    props.push(match (w.site_id, &w.site_name) {
        (Some(sid), Some(name)) => Prop::link(tr.t("common.site"), name, format!("/sites/{sid}")),
        _ => Prop::new(tr.t("common.site"), tr.t("work.none_selected")),
    });
    props.extend([
        Prop::new(tr.t("work.terminals"), &w.terminals),
        Prop::new(tr.t("work.category"), category_label(tr, &w.category)),
        Prop::new(tr.t("work.clause"), clause),
        Prop::new(tr.t("work.description"), &w.description),
        Prop::new(tr.t("work.result"), &w.result),
        Prop::new(tr.t("work.follow_up"), &w.follow_up),
    ]);
    props.push(match (w.request_id, &w.request_number) {
        (Some(rid), Some(n)) => Prop::link(tr.t("work.request"), n, format!("/requests/{rid}")),
        _ => Prop::new(tr.t("work.request"), tr.t("work.none_selected")),
    });
    props.extend([
        Prop::new(tr.t("work.recorded_by"), &w.created_by),
        Prop::new(tr.t("common.created"), page.datetime(&w.created_at)),
        Prop::new(tr.t("common.updated"), page.datetime(&w.updated_at)),
    ]);
    let history = history(&state.store, &page, "work", id).await?;
    let attachments = state
        .store
        .attachments_of("work", id)
        .await?
        .into_iter()
        .map(|a| AttachmentView {
            href: format!("/attachments/{}", a.id),
            name: a.filename,
            kind: a.content_type,
            size: size_text(a.size),
            sha256: a.sha256,
            by: a.uploaded_by,
            at: page.datetime(&a.created_at),
        })
        .collect();
    let role = ctx.user.role();
    let status = if upload_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = DetailPage {
        upload_action: format!("{BASE}/{id}/attachments"),
        edit_href: role
            .allows(Action::LogWork)
            .then(|| format!("{BASE}/{id}/edit")),
        hours: hours_text(tr, w.minutes),
        props,
        history,
        attachments,
        can_upload: role.allows(Action::UploadAttachment),
        upload_error,
        page,
    };
    respond(status, &view)
}

/// `GET /work/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let id = parse_id(&id)?;
    detail_page(&state, &ctx, id, &ok.ok, String::new()).await
}

/// `POST /work/{id}/attachments` (multipart `file`; `_csrf` was checked by the guard).
pub(super) async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::UploadAttachment)?;
    let id = parse_id(&id)?;
    state.store.work_entry(id).await?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let Some((name, bytes)) = file.filter(|(n, b)| !(n.is_empty() && b.is_empty())) else {
        let msg = ctx.tr.t("work.attach_choose").to_string();
        return detail_page(&state, &ctx, id, "", msg).await;
    };
    match state
        .store
        .add_attachment(&ctx.actor(), "work", id, &name, &bytes)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=uploaded")).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            let msg = errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" ");
            detail_page(&state, &ctx, id, "", msg).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_headlines() {
        assert_eq!(size_text(512), "512 B");
        assert_eq!(size_text(2048), "2.0 KB");
        assert_eq!(size_text(3 * 1024 * 1024), "3.0 MB");
        assert_eq!(headline("一行目\n二行目", 10), "一行目");
        assert_eq!(headline("あいうえお", 3), "あいう…");
    }

    #[test]
    fn list_links_keep_the_filter() {
        let p = WorkParams {
            from: "2026-05-01".into(),
            q: "更新".into(),
            per_page: "20".into(),
            ..Default::default()
        };
        assert_eq!(
            p.href("/work", true, 2),
            "/work?from=2026-05-01&q=%E6%9B%B4%E6%96%B0&page=2&per_page=20"
        );
        assert_eq!(
            p.href("/work/export.csv", false, 2),
            "/work/export.csv?from=2026-05-01&q=%E6%9B%B4%E6%96%B0"
        );
    }
}
