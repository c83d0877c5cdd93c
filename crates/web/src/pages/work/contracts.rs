//! 契約: list, detail with staff and history, new/edit forms. Everyone who may read the work log reads
//! contracts; only the prefecture administrator changes them (ManageContracts).

use super::history::{HistoryRow, history};
use super::{
    Errors, Fields, OkQuery, Opt, Prop, fixable, parse_id, respond, stored_date, term_text,
    with_query,
};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use unyo_domain::support::ContractInput;
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, FieldError, Role};
use unyo_store::support::{Contract, jst_today};
use unyo_store::users::User;

const BASE: &str = "/contracts";
const FORM_FIELDS: &[&str] = &[
    "name",
    "number",
    "term_start",
    "term_end",
    "contractor",
    "manager",
    "staff_ids",
];

/// One row of the list.
pub(super) struct Row {
    pub href: String,
    pub number: String,
    pub name: String,
    pub term: String,
    pub current: bool,
    pub contractor: String,
    pub manager: String,
    pub staff: String,
}

#[derive(askama::Template)]
#[template(path = "contracts_list.html")]
struct ListPage {
    page: PageMeta,
    rows: Vec<Row>,
    can_manage: bool,
}

fn is_current(c: &Contract) -> bool {
    let today = jst_today();
    matches!(
        (stored_date(&c.term_start), stored_date(&c.term_end)),
        (Some(s), Some(e)) if s <= today && today <= e
    )
}

fn staff_names(c: &Contract) -> String {
    c.staff
        .iter()
        .map(|s| s.display_name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

/// `GET /contracts`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let rows = state
        .store
        .contracts()
        .await?
        .iter()
        .map(|c| Row {
            href: format!("{BASE}/{}", c.id),
            number: c.number.clone(),
            name: c.name.clone(),
            term: term_text(tr, &c.term_start, &c.term_end),
            current: is_current(c),
            contractor: c.contractor.clone(),
            manager: c.manager.clone(),
            staff: staff_names(c),
        })
        .collect();
    let view = ListPage {
        page: ctx
            .page(tr.t("contract.title"), "contracts")
            .with_flash(Some(&ok.ok)),
        rows,
        can_manage: ctx.user.role().allows(Action::ManageContracts),
    };
    respond(StatusCode::OK, &view)
}

#[derive(askama::Template)]
#[template(path = "contracts_form.html")]
struct FormPage {
    page: PageMeta,
    action: String,
    cancel: String,
    input: ContractInput,
    staff: Vec<Opt>,
    errors: Errors,
}

fn input_of(f: &Fields) -> ContractInput {
    ContractInput {
        name: f.get("name"),
        number: f.get("number"),
        term_start: f.get("term_start"),
        term_end: f.get("term_end"),
        contractor: f.get("contractor"),
        manager: f.get("manager"),
        staff_ids: f.ids("staff_ids"),
    }
}

/// A stored date as typed back into the form: 和暦 in Japanese, ISO in English (both parse).
fn date_input(tr: Tr, stored: &str) -> String {
    match stored_date(stored) {
        Some(d) if tr.is_ja() => unyo_domain::wareki::format_long(d),
        _ => stored.to_string(),
    }
}

fn input_from(tr: Tr, c: &Contract) -> ContractInput {
    ContractInput {
        name: c.name.clone(),
        number: c.number.clone(),
        term_start: date_input(tr, &c.term_start),
        term_end: date_input(tr, &c.term_end),
        contractor: c.contractor.clone(),
        manager: c.manager.clone(),
        staff_ids: c.staff_ids(),
    }
}

/// Who can be staff: SEs, administrators and prefecture staff in service, and anyone already assigned.
fn staff_options(tr: Tr, users: &[User], chosen: &[i64]) -> Vec<Opt> {
    let mut out: Vec<&User> = users
        .iter()
        .filter(|u| {
            chosen.contains(&u.id)
                || (u.disabled_at.is_none()
                    && matches!(u.role(), Role::Se | Role::Admin | Role::Staff))
        })
        .collect();
    // SEs first (they do the work), then by name.
    out.sort_by_key(|u| (u.role() != Role::Se, u.display_name.clone(), u.id));
    out.into_iter()
        .map(|u| {
            let role = u.role();
            let mut label = format!(
                "{}（{}）",
                u.display_name,
                tr.pick(role.label_ja(), role.label_en())
            );
            if u.disabled_at.is_some() {
                label.push_str(&format!(" {}", tr.t("contract.disabled_user")));
            }
            Opt::new(u.id.to_string(), label, chosen.contains(&u.id))
        })
        .collect()
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: ContractInput,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let users = state.store.users().await?;
    let (title, action, cancel) = match id {
        Some(id) => (
            tr.t("contract.edit"),
            format!("{BASE}/{id}"),
            format!("{BASE}/{id}"),
        ),
        None => (tr.t("contract.new"), BASE.to_string(), BASE.to_string()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = FormPage {
        page: ctx.page(title, "contracts"),
        action,
        cancel,
        staff: staff_options(tr, &users, &input.staff_ids),
        input,
        errors: Errors::new(errors, FORM_FIELDS, ""),
    };
    respond(status, &view)
}

/// `GET /contracts/new`: the current fiscal year's term prefilled.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let fy = FiscalYear::containing(jst_today());
    let fmt = |d: chrono::NaiveDate| {
        if ctx.tr.is_ja() {
            unyo_domain::wareki::format_long(d)
        } else {
            d.format("%Y-%m-%d").to_string()
        }
    };
    let input = ContractInput {
        term_start: fmt(fy.start()),
        term_end: fmt(fy.end()),
        ..Default::default()
    };
    form_page(&state, &ctx, None, input, Vec::new()).await
}

/// `POST /contracts`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let input = input_of(&Fields(f));
    match state.store.create_contract(&ctx.actor(), &input).await {
        Ok(c) => Ok(Redirect::to(&format!("{BASE}/{}?ok=saved", c.id)).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            form_page(&state, &ctx, None, input, errors).await
        }
    }
}

/// `GET /contracts/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let id = parse_id(&id)?;
    let c = state.store.contract(id).await?;
    form_page(&state, &ctx, Some(id), input_from(ctx.tr, &c), Vec::new()).await
}

/// `POST /contracts/{id}`.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    let id = parse_id(&id)?;
    state.store.contract(id).await?;
    let input = input_of(&Fields(f));
    match state.store.update_contract(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?ok=saved")).into_response()),
        Err(e) => {
            let errors = fixable(e)?;
            form_page(&state, &ctx, Some(id), input, errors).await
        }
    }
}

/// A staff member on the detail page.
pub(super) struct StaffView {
    pub name: String,
    pub username: String,
    pub role: String,
    pub disabled: bool,
}

#[derive(askama::Template)]
#[template(path = "contracts_detail.html")]
struct DetailPage {
    page: PageMeta,
    props: Vec<Prop>,
    current: bool,
    staff: Vec<StaffView>,
    work_href: String,
    /// The contract-close checklist.
    close_href: String,
    workload_href: String,
    edit_href: Option<String>,
    /// The 業務実績簿's route: (column, holder's name or 「どなたでも」).
    route: Vec<(String, String)>,
    route_href: Option<String>,
    history: Vec<HistoryRow>,
    /// Links to the contract's registers (再委託, 提供資料, 従事者名簿), when the person may read them.
    registers: Vec<(String, &'static str)>,
    /// Provided materials not yet settled: (href, name, what is missing).
    open_items: Vec<(String, String, String)>,
}

/// `GET /contracts/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let id = parse_id(&id)?;
    let c = state.store.contract(id).await?;
    let page = ctx
        .page(format!("{} {}", c.number, c.name), "contracts")
        .with_flash(Some(&ok.ok));
    let props = vec![
        Prop::new(tr.t("contract.name"), &c.name),
        Prop::new(tr.t("contract.number"), &c.number),
        Prop::new(
            tr.t("contract.term"),
            term_text(tr, &c.term_start, &c.term_end),
        ),
        Prop::new(tr.t("contract.contractor"), &c.contractor),
        Prop::new(tr.t("contract.manager"), &c.manager),
        Prop::new(tr.t("common.created"), page.datetime(&c.created_at)),
        Prop::new(tr.t("common.updated"), page.datetime(&c.updated_at)),
    ];
    let staff = c
        .staff
        .iter()
        .map(|s| {
            let role = unyo_domain::Role::parse(&s.role);
            StaffView {
                name: s.display_name.clone(),
                username: s.username.clone(),
                role: role
                    .map(|r| tr.pick(r.label_ja(), r.label_en()).to_string())
                    .unwrap_or_else(|| s.role.clone()),
                disabled: s.disabled_at.is_some(),
            }
        })
        .collect();
    let fy = stored_date(&c.term_start)
        .map(FiscalYear::containing)
        .unwrap_or_else(|| FiscalYear::containing(jst_today()));
    let history = history(&state.store, &page, "contract", id).await?;
    let users = state.store.users().await?;
    let route = state
        .store
        .approval_route(id)
        .await?
        .into_iter()
        .map(|s| {
            let holder = s
                .user_id
                .and_then(|uid| users.iter().find(|u| u.id == uid))
                .map_or_else(
                    || {
                        tr.pick("確認できる県の利用者", "anyone who may confirm")
                            .to_string()
                    },
                    |u| u.display_name.clone(),
                );
            (s.label, holder)
        })
        .collect();
    let manage = ctx.user.role().allows(Action::ManageContracts);
    let can_registers = ctx.user.role().allows(Action::ViewContractRegisters);
    let registers = if can_registers {
        vec![
            (format!("{BASE}/{id}/subcontracts"), "再委託"),
            (format!("{BASE}/{id}/materials"), "提供資料"),
            (format!("{BASE}/{id}/staff"), "従事者名簿"),
        ]
    } else {
        Vec::new()
    };
    let open_items = if can_registers {
        state
            .store
            .open_material_items(id)
            .await?
            .into_iter()
            .map(|o| (format!("/materials/{}", o.material_id), o.name, o.what))
            .collect()
    } else {
        Vec::new()
    };
    let view = DetailPage {
        route,
        route_href: manage.then(|| format!("{BASE}/{id}/route")),
        registers,
        open_items,
        current: is_current(&c),
        staff,
        work_href: with_query("/work", &[("contract_id", &id.to_string())]),
        close_href: format!("/contracts/{id}/close"),
        workload_href: with_query(
            "/workload",
            &[("fy", &fy.0.to_string()), ("contract_id", &id.to_string())],
        ),
        edit_href: ctx
            .user
            .role()
            .allows(Action::ManageContracts)
            .then(|| format!("{BASE}/{id}/edit")),
        history,
        props,
        page,
    };
    respond(StatusCode::OK, &view)
}
