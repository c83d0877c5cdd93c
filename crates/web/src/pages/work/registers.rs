//! A contract's registers (R9, R10, R12) as pages under the contract: 再委託 (subcontracting approvals),
//! 提供資料 (provided materials, with copy requests, the prefecture's decisions, the return and its
//! acknowledgement) and 従事者名簿 (staff roster, with pledges). One template serves them all: a list with
//! paging and CSV/XLSX export (audited), the forms the person's role may use, and an entry's history.
//! Reading one provided material is audited by the store.

use super::{Errors, Fields, OkQuery, Opt, Prop, opt_id, parse_id, respond, stored_date_text};
use crate::download::content_disposition;
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::contract_registers::{
    Classification, CopyRequestInput, DecisionInput, Disposition, MaterialInput, MaterialKind,
    Medium, ReturnMaterialInput, StaffInput, SubcontractInput,
};
use unyo_domain::support::{Category, Clause};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::contract_registers::{Material, StaffEntry, Subcontract};
use unyo_store::support::{Contract, jst_today};

const PER_PAGE: usize = 50;

/// A tab between the registers.
pub(super) struct Tab {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// A table cell.
pub(super) struct CellView {
    pub text: String,
    pub href: Option<String>,
    pub badge: String,
    pub badge_class: &'static str,
}

fn cell(text: impl Into<String>) -> CellView {
    CellView {
        text: text.into(),
        href: None,
        badge: String::new(),
        badge_class: "",
    }
}

fn link(text: impl Into<String>, href: String) -> CellView {
    CellView {
        href: Some(href),
        ..cell(text)
    }
}

/// A form control.
pub(super) struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `textarea`, `select`, `checkboxes` or `file`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    pub hint: &'static str,
    pub options: Vec<Opt>,
    pub error: String,
}

fn field(name: &'static str, label: &'static str, value: &str, required: bool) -> FieldView {
    FieldView {
        name,
        label,
        kind: "text",
        value: value.to_string(),
        required,
        hint: "",
        options: Vec::new(),
        error: String::new(),
    }
}

impl FieldView {
    fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }
    fn options(mut self, options: Vec<Opt>) -> Self {
        self.kind = if self.kind == "checkboxes" {
            "checkboxes"
        } else {
            "select"
        };
        self.options = options;
        self
    }
}

/// A form.
pub(super) struct FormView {
    pub title: String,
    pub note: String,
    pub action: String,
    pub prefix: &'static str,
    pub fields: Vec<FieldView>,
    pub submit: &'static str,
    pub multipart: bool,
}

impl FormView {
    fn new(
        title: impl Into<String>,
        action: String,
        prefix: &'static str,
        submit: &'static str,
    ) -> Self {
        FormView {
            title: title.into(),
            note: String::new(),
            action,
            prefix,
            fields: Vec::new(),
            submit,
            multipart: false,
        }
    }
    /// Puts each error next to its control.
    fn with_errors(mut self, errors: &[FieldError]) -> Self {
        for f in &mut self.fields {
            f.error = errors
                .iter()
                .filter(|e| e.field == f.name)
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
        }
        self
    }
}

/// A page link.
pub(super) struct PageLink {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// A history row.
pub(super) struct HistoryView {
    pub when: String,
    pub who: String,
    pub action: String,
    pub lines: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "registers.html")]
struct RegisterPage {
    page: PageMeta,
    back_href: String,
    back_label: String,
    tabs: Vec<Tab>,
    intro: String,
    props: Vec<Prop>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<CellView>>,
    pages: usize,
    page_links: Vec<PageLink>,
    export_csv: String,
    export_xlsx: String,
    forms: Vec<FormView>,
    errors: Errors,
    history: Vec<HistoryView>,
}

impl RegisterPage {
    fn new(page: PageMeta, contract: &Contract, current: &str) -> Self {
        let tabs = [
            ("subcontracts", "再委託"),
            ("materials", "提供資料"),
            ("staff", "従事者名簿"),
        ]
        .into_iter()
        .map(|(key, label)| Tab {
            href: format!("/contracts/{}/{key}", contract.id),
            label,
            current: key == current,
        })
        .collect();
        RegisterPage {
            page,
            back_href: format!("/contracts/{}", contract.id),
            back_label: format!("← {} {}", contract.number, contract.name),
            tabs,
            intro: String::new(),
            props: Vec::new(),
            headers: Vec::new(),
            rows: Vec::new(),
            pages: 1,
            page_links: Vec::new(),
            export_csv: String::new(),
            export_xlsx: String::new(),
            forms: Vec::new(),
            errors: Errors::new(Vec::new(), &[], ""),
            history: Vec::new(),
        }
    }

    /// The list's rows of page `n` (1-based) and the links to the others.
    fn paged(&mut self, base: &str, rows: Vec<Vec<CellView>>, n: usize) {
        let pages = rows.len().div_ceil(PER_PAGE).max(1);
        let n = n.clamp(1, pages);
        self.pages = pages;
        self.page_links = (1..=pages)
            .map(|p| PageLink {
                href: format!("{base}?page={p}"),
                label: p.to_string(),
                current: p == n,
            })
            .collect();
        self.rows = rows
            .into_iter()
            .skip((n - 1) * PER_PAGE)
            .take(PER_PAGE)
            .collect();
    }
}

/// `?page=N&ok=saved`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    page: usize,
    ok: String,
}

fn date(tr: Tr, stored: &str) -> String {
    stored_date_text(tr, stored)
}

fn opt_date(tr: Tr, stored: &Option<String>) -> String {
    stored.as_deref().map(|s| date(tr, s)).unwrap_or_default()
}

/// Stored `YYYY-MM-DD` back into a form: 和暦.
fn date_input(stored: &str) -> String {
    chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d")
        .map(unyo_domain::wareki::format_long)
        .unwrap_or_else(|_| stored.to_string())
}

/// The errors a person can fix on the form; other failures stay errors.
fn fixable(e: StoreError) -> Result<Vec<FieldError>, WebError> {
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => Ok(fields),
        StoreError::Domain(DomainError::Conflict(message)) => {
            Ok(vec![FieldError::new("", message)])
        }
        other => Err(other.into()),
    }
}

fn saved(href: String) -> Result<Response, WebError> {
    Ok(Redirect::to(&format!("{href}?ok=saved")).into_response())
}

fn history_rows(page: &PageMeta, entries: Vec<unyo_store::audit::AuditEntry>) -> Vec<HistoryView> {
    // Newest first, changes only: reads are in the audit log, not the record's history.
    entries
        .into_iter()
        .filter(|e| !e.action.ends_with(".read"))
        .map(|e| {
            let lines = serde_json::from_str::<serde_json::Value>(&e.details)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => format!("{k}: {s}"),
                            other => format!("{k}: {other}"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            HistoryView {
                when: page.datetime(&e.at),
                who: e.actor,
                action: action_label(&e.action).to_string(),
                lines,
            }
        })
        .collect()
}

fn action_label(action: &str) -> &str {
    match action {
        "subcontract.create" => "登録",
        "subcontract.update" => "変更",
        "subcontract.approval_document" => "承認書の添付",
        "material.create" => "受領の登録",
        "material.update" => "変更",
        "material.copy_request" => "複製の申請",
        "material.copy_decision" => "複製申請の判断",
        "material.return" => "返却・消去",
        "material.acknowledge" => "返却・消去の確認",
        "staff.create" => "登録",
        "staff.update" => "変更",
        "staff.pledge" => "誓約書の添付",
        other => other,
    }
}

fn allows(ctx: &Ctx, action: Action) -> bool {
    ctx.user.role().allows(action)
}

// ------------------------------------------------------------------------------------------------ exports

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET /contracts/{id}/{register}/export.{csv|xlsx}`: the whole register, audited as `register.export`.
pub(super) async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(String, String)>,
    register: &'static str,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let id = parse_id(&id)?;
    let c = state.store.contract(id).await?;
    let format = match file.as_str() {
        "export.csv" => "csv",
        "export.xlsx" => "xlsx",
        _ => return Err(WebError::NotFound),
    };
    let internal = |e: unyo_exchange::ExchangeError| WebError::Internal(e.to_string());
    let (body, rows, ascii, ja) = match register {
        "subcontracts" => {
            let rows = state.store.subcontracts(Some(id)).await?;
            let body = if format == "csv" {
                unyo_exchange::subcontracts_csv(&rows)
            } else {
                unyo_exchange::subcontracts_xlsx(&rows).map_err(internal)?
            };
            (body, rows.len(), "subcontracts", "再委託承認")
        }
        "materials" => {
            let rows = state.store.materials(Some(id)).await?;
            let body = if format == "csv" {
                unyo_exchange::materials_csv(&rows)
            } else {
                unyo_exchange::materials_xlsx(&rows).map_err(internal)?
            };
            (body, rows.len(), "materials", "提供資料")
        }
        _ => {
            let rows = state.store.roster(Some(id)).await?;
            let body = if format == "csv" {
                unyo_exchange::roster_csv(&rows)
            } else {
                unyo_exchange::roster_xlsx(&rows).map_err(internal)?
            };
            (body, rows.len(), "staff", "従事者名簿")
        }
    };
    state
        .store
        .audit_register_export(&ctx.actor(), register, Some(id), format, rows)
        .await?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if format == "csv" { CSV } else { XLSX }),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(
            &format!(
                "{ascii}_{}.{format}",
                c.number
                    .replace(|ch: char| !ch.is_ascii_alphanumeric(), "_")
            ),
            &format!("{ja}_{}.{format}", c.number),
        ),
    );
    Ok(res)
}

/// `GET /contracts/{id}/subcontracts/{file}`.
pub(super) async fn export_subcontracts(
    state: State<AppState>,
    ctx: Ctx,
    path: Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, ctx, path, "subcontracts").await
}

/// `GET /contracts/{id}/materials/{file}`.
pub(super) async fn export_materials(
    state: State<AppState>,
    ctx: Ctx,
    path: Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, ctx, path, "materials").await
}

/// `GET /contracts/{id}/staff/{file}`.
pub(super) async fn export_staff(
    state: State<AppState>,
    ctx: Ctx,
    path: Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, ctx, path, "staff").await
}

// ------------------------------------------------------------------------------------------------ subcontracts

fn subcontract_input(f: &Fields) -> SubcontractInput {
    SubcontractInput {
        subcontractor: f.get("subcontractor"),
        work_part: f.get("work_part"),
        clauses: f.all("clauses"),
        categories: f.all("categories"),
        approval_number: f.get("approval_number"),
        approved_on: f.get("approved_on"),
        period_start: f.get("period_start"),
        period_end: f.get("period_end"),
        note: f.get("note"),
    }
}

fn subcontract_form(title: &str, action: String, i: &SubcontractInput) -> FormView {
    let mut f = FormView::new(title, action, "sc-", "保存");
    f.fields = vec![
        field("subcontractor", "再委託先", &i.subcontractor, true),
        field("work_part", "再委託する業務の内容", &i.work_part, true).kind("textarea"),
        field("clauses", "業務の区分（①～⑤）", "", false)
            .kind("checkboxes")
            .hint("業務の区分または作業の種類のどちらかを1つ以上選びます。")
            .options(
                Clause::ALL
                    .iter()
                    .map(|c| {
                        Opt::new(
                            c.code(),
                            c.label_ja(),
                            i.clauses.iter().any(|x| x == c.code()),
                        )
                    })
                    .collect(),
            ),
        field("categories", "作業の種類", "", false)
            .kind("checkboxes")
            .options(
                Category::ALL
                    .iter()
                    .map(|c| {
                        Opt::new(
                            c.code(),
                            c.label_ja(),
                            i.categories.iter().any(|x| x == c.code()),
                        )
                    })
                    .collect(),
            ),
        field("approval_number", "承認番号", &i.approval_number, true),
        field("approved_on", "承認日", &i.approved_on, true).hint("例: 令和8年5月20日"),
        field("period_start", "再委託期間の開始日", &i.period_start, true),
        field("period_end", "再委託期間の終了日", &i.period_end, true),
        field("note", "備考", &i.note, false).kind("textarea"),
    ];
    f
}

fn file_form(title: &str, action: String, prefix: &'static str, note: &str) -> FormView {
    let mut f = FormView::new(title, action, prefix, "添付");
    f.multipart = true;
    f.note = note.to_string();
    f.fields = vec![field("file", "ファイル（PDF・画像）", "", true).kind("file")];
    f
}

async fn subcontracts_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &ListQuery,
    input: SubcontractInput,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let c = state.store.contract(id).await?;
    let tr = ctx.tr;
    let page = ctx
        .page(format!("再委託の承認 — {}", c.number), "contracts")
        .with_flash(Some(&q.ok));
    let mut v = RegisterPage::new(page, &c, "subcontracts");
    v.intro = "県の書面による承認を受けた再委託だけを登録します。再委託先の従事者の作業記録は、承認された範囲と期間の中でだけ登録できます。".into();
    v.headers = vec![
        "再委託先",
        "業務の内容",
        "範囲",
        "承認番号・承認日",
        "再委託期間",
        "承認書",
    ];
    let rows = state
        .store
        .subcontracts(Some(id))
        .await?
        .into_iter()
        .map(|s| {
            vec![
                link(s.subcontractor.clone(), format!("/subcontracts/{}", s.id)),
                cell(s.work_part.clone()),
                cell(s.scope_label()),
                cell(format!(
                    "{}（{}）",
                    s.approval_number,
                    date(tr, &s.approved_on)
                )),
                cell(format!(
                    "{}～{}",
                    date(tr, &s.period_start),
                    date(tr, &s.period_end)
                )),
                match s.approval_attachment_id {
                    Some(a) => link("承認書", format!("/attachments/{a}")),
                    None => cell("未添付"),
                },
            ]
        })
        .collect();
    let base = format!("/contracts/{id}/subcontracts");
    v.paged(&base, rows, q.page);
    v.export_csv = format!("{base}/export.csv");
    v.export_xlsx = format!("{base}/export.xlsx");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if allows(ctx, Action::ManageSubcontracts) {
        v.forms
            .push(subcontract_form("再委託の承認を登録", base, &input).with_errors(&errors));
    }
    v.errors = Errors::new(errors, &[], "");
    respond(status, &v)
}

/// `GET /contracts/{id}/subcontracts`.
pub(super) async fn subcontracts(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    subcontracts_page(
        &state,
        &ctx,
        id,
        &q,
        SubcontractInput::default(),
        Vec::new(),
    )
    .await
}

/// `POST /contracts/{id}/subcontracts`.
pub(super) async fn create_subcontract(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageSubcontracts)?;
    let id = parse_id(&id)?;
    let input = subcontract_input(&Fields(f));
    match state
        .store
        .create_subcontract(&ctx.actor(), id, &input)
        .await
    {
        Ok(s) => saved(format!("/subcontracts/{}", s.id)),
        Err(e) => {
            let errors = fixable(e)?;
            subcontracts_page(&state, &ctx, id, &ListQuery::default(), input, errors).await
        }
    }
}

async fn subcontract_page(
    state: &AppState,
    ctx: &Ctx,
    s: Subcontract,
    ok: &str,
    input: Option<SubcontractInput>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let c = state.store.contract(s.contract_id).await?;
    let page = ctx
        .page(format!("再委託の承認 {}", s.approval_number), "contracts")
        .with_flash(Some(ok));
    let mut v = RegisterPage::new(page, &c, "subcontracts");
    v.props = vec![
        Prop::new("再委託先", &s.subcontractor),
        Prop::new("再委託する業務の内容", &s.work_part),
        Prop::new("範囲", s.scope_label()),
        Prop::new("承認番号", &s.approval_number),
        Prop::new("承認日", date(tr, &s.approved_on)),
        Prop::new(
            "再委託期間",
            format!("{}～{}", date(tr, &s.period_start), date(tr, &s.period_end)),
        ),
        match s.approval_attachment_id {
            Some(a) => Prop::link(
                "承認書",
                "ダウンロード（取得は監査ログに記録）",
                format!("/attachments/{a}"),
            ),
            None => Prop::new("承認書", "未添付"),
        },
        Prop::new("備考", &s.note),
    ];
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if allows(ctx, Action::ManageSubcontracts) {
        let input = input.unwrap_or_else(|| SubcontractInput {
            subcontractor: s.subcontractor.clone(),
            work_part: s.work_part.clone(),
            clauses: s
                .clause_list()
                .iter()
                .map(|c| c.code().to_string())
                .collect(),
            categories: s
                .category_list()
                .iter()
                .map(|c| c.code().to_string())
                .collect(),
            approval_number: s.approval_number.clone(),
            approved_on: date_input(&s.approved_on),
            period_start: date_input(&s.period_start),
            period_end: date_input(&s.period_end),
            note: s.note.clone(),
        });
        v.forms.push(file_form(
            "承認書の添付",
            format!("/subcontracts/{}/document", s.id),
            "doc-",
            "県の承認書（写し）を添付します。",
        ));
        v.forms.push(
            subcontract_form("変更", format!("/subcontracts/{}", s.id), &input)
                .with_errors(&errors),
        );
    }
    v.errors = Errors::new(errors, &[], "");
    v.history = history_rows(&v.page, state.store.history("subcontract", s.id).await?);
    respond(status, &v)
}

/// `GET /subcontracts/{id}`.
pub(super) async fn subcontract(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let s = state.store.subcontract(parse_id(&id)?).await?;
    subcontract_page(&state, &ctx, s, &ok.ok, None, Vec::new()).await
}

/// `POST /subcontracts/{id}`.
pub(super) async fn update_subcontract(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageSubcontracts)?;
    let id = parse_id(&id)?;
    let input = subcontract_input(&Fields(f));
    match state
        .store
        .update_subcontract(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => saved(format!("/subcontracts/{id}")),
        Err(e) => {
            let errors = fixable(e)?;
            let s = state.store.subcontract(id).await?;
            subcontract_page(&state, &ctx, s, "", Some(input), errors).await
        }
    }
}

/// The one file of a multipart upload (`file`).
async fn one_file(mut multipart: Multipart) -> Result<Option<(String, Vec<u8>)>, WebError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    Ok(file.filter(|(n, b)| !(n.is_empty() && b.is_empty())))
}

fn no_file() -> Vec<FieldError> {
    vec![FieldError::new("file", "ファイルを選択してください。")]
}

/// `POST /subcontracts/{id}/document` (multipart `file`).
pub(super) async fn subcontract_document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageSubcontracts)?;
    let id = parse_id(&id)?;
    let result = match one_file(multipart).await? {
        Some((name, bytes)) => state
            .store
            .attach_subcontract_approval(&ctx.actor(), id, &name, &bytes)
            .await
            .map(|_| ()),
        None => Err(DomainError::Validation(no_file()).into()),
    };
    match result {
        Ok(()) => saved(format!("/subcontracts/{id}")),
        Err(e) => {
            let errors = fixable(e)?;
            let s = state.store.subcontract(id).await?;
            subcontract_page(&state, &ctx, s, "", None, errors).await
        }
    }
}

// ------------------------------------------------------------------------------------------------ materials

fn material_input(f: &Fields) -> MaterialInput {
    MaterialInput {
        name: f.get("name"),
        kind: f.get("kind"),
        provided_by: f.get("provided_by"),
        received_on: f.get("received_on"),
        medium: f.get("medium"),
        classification: f.get("classification"),
        storage: f.get("storage"),
        quantity: f.get("quantity"),
        note: f.get("note"),
    }
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    chosen: &str,
) -> Vec<Opt> {
    let mut out = vec![Opt::new("", "選択してください", chosen.is_empty())];
    out.extend(
        all.iter()
            .map(|c| Opt::new(code(*c), label(*c), code(*c) == chosen)),
    );
    out
}

fn material_form(title: &str, action: String, i: &MaterialInput) -> FormView {
    let mut f = FormView::new(title, action, "m-", "保存");
    f.fields = vec![
        field("name", "資料名", &i.name, true),
        field("kind", "種類", "", true).options(choices(
            MaterialKind::ALL,
            MaterialKind::code,
            MaterialKind::label_ja,
            &i.kind,
        )),
        field("provided_by", "提供元", &i.provided_by, true),
        field("received_on", "受領日", &i.received_on, true).hint("例: 令和8年4月1日"),
        field("medium", "媒体", "", true).options(choices(
            Medium::ALL,
            Medium::code,
            Medium::label_ja,
            &i.medium,
        )),
        field("classification", "機密性", "", true).options(choices(
            Classification::ALL,
            Classification::code,
            Classification::label_ja,
            &i.classification,
        )),
        field("storage", "保管場所", &i.storage, true),
        field("quantity", "数量・内容", &i.quantity, false),
        field("note", "備考", &i.note, false).kind("textarea"),
    ];
    f
}

fn status_cell(m: &Material) -> CellView {
    let mut c = cell(m.status_label());
    if m.pending_copies() > 0 {
        c.badge = format!("複製申請{}件 判断待ち", m.pending_copies());
        c.badge_class = "badge-retired";
    }
    c
}

async fn materials_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &ListQuery,
    input: MaterialInput,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let c = state.store.contract(id).await?;
    let tr = ctx.tr;
    let page = ctx
        .page(format!("提供資料 — {}", c.number), "contracts")
        .with_flash(Some(&q.ok));
    let mut v = RegisterPage::new(page, &c, "materials");
    v.intro = "県から提供を受けた資料・データは本業務にのみ使用し、県の許可なく複製せず、業務の終了時にすべて返却（または消去）します。資料名を開くと詳細（閲覧は監査ログに記録）です。".into();
    v.headers = vec![
        "資料名",
        "種類・媒体",
        "機密性",
        "提供元・受領日",
        "保管場所",
        "状態",
    ];
    let rows = state
        .store
        .materials(Some(id))
        .await?
        .into_iter()
        .map(|m| {
            vec![
                link(m.name.clone(), format!("/materials/{}", m.id)),
                cell(format!("{}・{}", m.kind_label(), m.medium_label())),
                cell(m.classification_label()),
                cell(format!("{}（{}）", m.provided_by, date(tr, &m.received_on))),
                cell(m.storage.clone()),
                status_cell(&m),
            ]
        })
        .collect();
    let base = format!("/contracts/{id}/materials");
    v.paged(&base, rows, q.page);
    v.export_csv = format!("{base}/export.csv");
    v.export_xlsx = format!("{base}/export.xlsx");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if allows(ctx, Action::RecordMaterials) {
        v.forms
            .push(material_form("受領した資料を登録", base, &input).with_errors(&errors));
    }
    v.errors = Errors::new(errors, &[], "");
    respond(status, &v)
}

/// `GET /contracts/{id}/materials`.
pub(super) async fn materials(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    materials_page(&state, &ctx, id, &q, MaterialInput::default(), Vec::new()).await
}

/// `POST /contracts/{id}/materials`.
pub(super) async fn create_material(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordMaterials)?;
    let id = parse_id(&id)?;
    let input = material_input(&Fields(f));
    match state.store.create_material(&ctx.actor(), id, &input).await {
        Ok(m) => saved(format!("/materials/{}", m.id)),
        Err(e) => {
            let errors = fixable(e)?;
            materials_page(&state, &ctx, id, &ListQuery::default(), input, errors).await
        }
    }
}

fn decision_form(
    title: &str,
    action: String,
    prefix: &'static str,
    with_grant: bool,
    i: &DecisionInput,
) -> FormView {
    let mut f = FormView::new(title, action, prefix, "記録");
    if with_grant {
        f.fields
            .push(field("granted", "判断", "", true).options(vec![
                Opt::new("true", "許可", i.granted),
                Opt::new("false", "不許可", !i.granted),
            ]));
    }
    f.fields.extend([
        field("decided_on", "確認日", &i.decided_on, true),
        field("decided_by", "県の確認者", &i.decided_by, true),
        field("note", "備考", &i.note, false).kind("textarea"),
    ]);
    f
}

/// Which form of the material page failed, with its input.
enum Failed {
    None,
    Edit(MaterialInput),
    Copy(CopyRequestInput),
    Decision(i64, DecisionInput),
    Return(ReturnMaterialInput),
    Ack(DecisionInput),
}

async fn material_page(
    state: &AppState,
    ctx: &Ctx,
    m: Material,
    ok: &str,
    failed: Failed,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let c = state.store.contract(m.contract_id).await?;
    let page = ctx
        .page(format!("提供資料 {}", m.name), "contracts")
        .with_flash(Some(ok));
    let mut v = RegisterPage::new(page, &c, "materials");
    v.props = vec![
        Prop::new("資料名", &m.name),
        Prop::new("種類", m.kind_label()),
        Prop::new("提供元", &m.provided_by),
        Prop::new("受領日", date(tr, &m.received_on)),
        Prop::new("媒体", m.medium_label()),
        Prop::new("機密性", m.classification_label()),
        Prop::new("保管場所", &m.storage),
        Prop::new("数量・内容", &m.quantity),
        Prop::new("状態", m.status_label()),
        Prop::new(
            "返却・消去",
            match &m.disposition {
                Some(d) => format!(
                    "{} {}（{}）",
                    Disposition::parse(d).map_or("", Disposition::label_ja),
                    opt_date(tr, &m.disposed_on),
                    m.disposal_method
                ),
                None => "未".into(),
            },
        ),
        Prop::new(
            "県の確認",
            match &m.ack_on {
                Some(_) => format!("{} {}", opt_date(tr, &m.ack_on), m.ack_by),
                None => "未".into(),
            },
        ),
        Prop::new("備考", &m.note),
    ];
    v.headers = vec!["申請日", "部数", "目的", "申請者", "判断", "確認日・確認者"];
    v.rows = m
        .copies
        .iter()
        .map(|cp| {
            vec![
                cell(date(tr, &cp.requested_on)),
                cell(cp.copies.to_string()),
                cell(cp.purpose.clone()),
                cell(cp.requested_by.clone()),
                cell(cp.status_label()),
                cell(format!(
                    "{} {}",
                    opt_date(tr, &cp.decided_on),
                    cp.decided_by
                )),
            ]
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let today = unyo_domain::wareki::format_long(jst_today());
    let open = m.is_open();
    let held = m.disposition.is_none();
    if allows(ctx, Action::ApproveMaterials) {
        for cp in m.copies.iter().filter(|c| c.status == "requested") {
            let input = match &failed {
                Failed::Decision(id, i) if *id == cp.id => i.clone(),
                _ => DecisionInput {
                    granted: true,
                    decided_on: today.clone(),
                    ..Default::default()
                },
            };
            let mut f = decision_form(
                &format!(
                    "複製申請（{} {}部）の判断",
                    date(tr, &cp.requested_on),
                    cp.copies
                ),
                format!("/material-copies/{}/decision", cp.id),
                "d-",
                true,
                &input,
            );
            if matches!(&failed, Failed::Decision(id, _) if *id == cp.id) {
                f = f.with_errors(&errors);
            }
            v.forms.push(f);
        }
        if open && !held {
            let input = match &failed {
                Failed::Ack(i) => i.clone(),
                _ => DecisionInput {
                    granted: true,
                    decided_on: today.clone(),
                    ..Default::default()
                },
            };
            let mut f = decision_form(
                "返却・消去の確認（県）",
                format!("/materials/{}/acknowledgement", m.id),
                "a-",
                false,
                &input,
            );
            f.note = "確認すると提供資料の記録は完了し、契約の未完了事項から外れます。".into();
            if matches!(failed, Failed::Ack(_)) {
                f = f.with_errors(&errors);
            }
            v.forms.push(f);
        }
    }
    if allows(ctx, Action::RecordMaterials) && held {
        let copy = match &failed {
            Failed::Copy(i) => i.clone(),
            _ => CopyRequestInput {
                requested_on: today.clone(),
                copies: 1,
                ..Default::default()
            },
        };
        let mut f = FormView::new(
            "複製の申請",
            format!("/materials/{}/copies", m.id),
            "c-",
            "申請",
        );
        f.note = "県の許可なく複製してはいけません。許可・不許可は県が記録します。".into();
        f.fields = vec![
            field("requested_on", "申請日", &copy.requested_on, true),
            field("copies", "部数", &copy.copies.to_string(), true),
            field("purpose", "複製の目的", &copy.purpose, true).kind("textarea"),
        ];
        if matches!(failed, Failed::Copy(_)) {
            f = f.with_errors(&errors);
        }
        v.forms.push(f);
        let ret = match &failed {
            Failed::Return(i) => i.clone(),
            _ => ReturnMaterialInput {
                done_on: today.clone(),
                ..Default::default()
            },
        };
        let mut f = FormView::new(
            "返却・消去の記録",
            format!("/materials/{}/return", m.id),
            "r-",
            "記録",
        );
        f.note = "複製物も含めて返却または消去したことを記録します。県の確認で完了します。".into();
        f.fields = vec![
            field("disposition", "返却・消去の別", "", true).options(choices(
                Disposition::ALL,
                Disposition::code,
                Disposition::label_ja,
                &ret.disposition,
            )),
            field("done_on", "返却・消去日", &ret.done_on, true),
            field("method", "方法（複製物の扱いを含む）", &ret.method, true).kind("textarea"),
        ];
        if matches!(failed, Failed::Return(_)) {
            f = f.with_errors(&errors);
        }
        v.forms.push(f);
        let edit = match &failed {
            Failed::Edit(i) => i.clone(),
            _ => MaterialInput {
                name: m.name.clone(),
                kind: m.kind.clone(),
                provided_by: m.provided_by.clone(),
                received_on: date_input(&m.received_on),
                medium: m.medium.clone(),
                classification: m.classification.clone(),
                storage: m.storage.clone(),
                quantity: m.quantity.clone(),
                note: m.note.clone(),
            },
        };
        let mut f = material_form("変更", format!("/materials/{}", m.id), &edit);
        if matches!(failed, Failed::Edit(_)) {
            f = f.with_errors(&errors);
        }
        v.forms.push(f);
    }
    v.errors = Errors::new(errors, &[], "");
    v.history = history_rows(&v.page, state.store.history("material", m.id).await?);
    respond(status, &v)
}

/// `GET /materials/{id}` (the read is audited by the store).
pub(super) async fn material(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    let m = state.store.material(&ctx.actor(), parse_id(&id)?).await?;
    material_page(&state, &ctx, m, &ok.ok, Failed::None, Vec::new()).await
}

/// Re-renders the material page after a refused form.
async fn material_refused(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    e: StoreError,
    failed: Failed,
) -> Result<Response, WebError> {
    let errors = fixable(e)?;
    let m = state.store.material(&ctx.actor(), id).await?;
    material_page(state, ctx, m, "", failed, errors).await
}

/// `POST /materials/{id}`.
pub(super) async fn update_material(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordMaterials)?;
    let id = parse_id(&id)?;
    let input = material_input(&Fields(f));
    match state.store.update_material(&ctx.actor(), id, &input).await {
        Ok(_) => saved(format!("/materials/{id}")),
        Err(e) => material_refused(&state, &ctx, id, e, Failed::Edit(input)).await,
    }
}

/// `POST /materials/{id}/copies`.
pub(super) async fn request_copy(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordMaterials)?;
    let id = parse_id(&id)?;
    let f = Fields(f);
    let input = CopyRequestInput {
        requested_on: f.get("requested_on"),
        copies: f.get("copies").trim().parse().unwrap_or(0),
        purpose: f.get("purpose"),
    };
    match state
        .store
        .request_material_copy(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => saved(format!("/materials/{id}")),
        Err(e) => material_refused(&state, &ctx, id, e, Failed::Copy(input)).await,
    }
}

fn decision_input(f: &Fields) -> DecisionInput {
    DecisionInput {
        granted: f.get("granted") != "false",
        decided_on: f.get("decided_on"),
        decided_by: f.get("decided_by"),
        note: f.get("note"),
    }
}

/// `POST /material-copies/{id}/decision`.
pub(super) async fn decide_copy(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ApproveMaterials)?;
    let id = parse_id(&id)?;
    let input = decision_input(&Fields(f));
    match state
        .store
        .decide_material_copy(&ctx.actor(), id, &input)
        .await
    {
        Ok(m) => saved(format!("/materials/{}", m.id)),
        Err(e) => {
            let errors = fixable(e)?;
            // The material of the copy, to show the page again.
            let m = state
                .store
                .materials(None)
                .await?
                .into_iter()
                .find(|m| m.copies.iter().any(|c| c.id == id))
                .ok_or(WebError::NotFound)?;
            let m = state.store.material(&ctx.actor(), m.id).await?;
            material_page(&state, &ctx, m, "", Failed::Decision(id, input), errors).await
        }
    }
}

/// `POST /materials/{id}/return`.
pub(super) async fn return_material(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordMaterials)?;
    let id = parse_id(&id)?;
    let f = Fields(f);
    let input = ReturnMaterialInput {
        disposition: f.get("disposition"),
        done_on: f.get("done_on"),
        method: f.get("method"),
    };
    match state.store.return_material(&ctx.actor(), id, &input).await {
        Ok(_) => saved(format!("/materials/{id}")),
        Err(e) => material_refused(&state, &ctx, id, e, Failed::Return(input)).await,
    }
}

/// `POST /materials/{id}/acknowledgement`.
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ApproveMaterials)?;
    let id = parse_id(&id)?;
    let input = decision_input(&Fields(f));
    match state
        .store
        .acknowledge_material_return(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => saved(format!("/materials/{id}")),
        Err(e) => material_refused(&state, &ctx, id, e, Failed::Ack(input)).await,
    }
}

// ------------------------------------------------------------------------------------------------ roster

fn staff_input(f: &Fields) -> StaffInput {
    StaffInput {
        name: f.get("name"),
        employer: f.get("employer"),
        role_on_contract: f.get("role_on_contract"),
        user_id: opt_id(&f.get("user_id")),
        subcontract_id: opt_id(&f.get("subcontract_id")),
        start_on: f.get("start_on"),
        end_on: f.get("end_on"),
        pledge_on: f.get("pledge_on"),
        training_dates: f.get("training_dates"),
        note: f.get("note"),
    }
}

async fn staff_form(
    state: &AppState,
    contract_id: i64,
    title: &str,
    action: String,
    i: &StaffInput,
) -> Result<FormView, WebError> {
    let mut users = vec![Opt::new("", "（紐付けない）", i.user_id.is_none())];
    users.extend(
        state
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.disabled_at.is_none() || i.user_id == Some(u.id))
            .map(|u| {
                Opt::new(
                    u.id.to_string(),
                    format!("{}（{}）", u.display_name, u.username),
                    i.user_id == Some(u.id),
                )
            }),
    );
    let mut subs = vec![Opt::new(
        "",
        "（受託者の従事者）",
        i.subcontract_id.is_none(),
    )];
    subs.extend(
        state
            .store
            .subcontracts(Some(contract_id))
            .await?
            .into_iter()
            .map(|s| {
                Opt::new(
                    s.id.to_string(),
                    format!("{}（{}）", s.subcontractor, s.approval_number),
                    i.subcontract_id == Some(s.id),
                )
            }),
    );
    let mut f = FormView::new(title, action, "st-", "保存");
    f.fields = vec![
        field("name", "氏名", &i.name, true),
        field("employer", "所属", &i.employer, true),
        field("role_on_contract", "契約上の役割", &i.role_on_contract, true).hint("例: 作業責任者、SE"),
        field("user_id", "アカウント", "", false)
            .hint("紐付けたアカウントは、従事期間内で誓約書が提出済みのときだけ利用でき、従事期間が終わると直ちに利用できなくなります。")
            .options(users),
        field("subcontract_id", "再委託の承認", "", false)
            .hint("再委託先の従事者は、承認された範囲と期間の作業だけを記録できます。")
            .options(subs),
        field("start_on", "従事開始日", &i.start_on, true),
        field("end_on", "従事終了日", &i.end_on, false).hint("空欄は未定。異動・退職の日を入れると、その翌日からアカウントは利用できません。"),
        field("pledge_on", "誓約書の日付", &i.pledge_on, false),
        field("training_dates", "セキュリティ研修の受講日", &i.training_dates, false).hint("複数は「、」で区切ります。"),
        field("note", "備考", &i.note, false).kind("textarea"),
    ];
    Ok(f)
}

fn staff_state(s: &StaffEntry) -> CellView {
    let today = jst_today();
    let mut c = cell("");
    if s.active_on(today) {
        c.text = "従事中".into();
    } else if s.pledge_attachment_id.is_none() || s.pledge_on.is_none() {
        c.text = "誓約書未提出".into();
        c.badge_class = "badge-retired";
    } else if s
        .end_on
        .as_deref()
        .is_some_and(|e| e < today.format("%Y-%m-%d").to_string().as_str())
    {
        c.text = "従事終了".into();
    } else {
        c.text = "従事前".into();
    }
    if s.access_ended_at.is_some() {
        c.badge = "アクセス終了済".into();
        c.badge_class = "badge-retired";
    }
    c
}

async fn roster_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &ListQuery,
    input: StaffInput,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let c = state.store.contract(id).await?;
    let tr = ctx.tr;
    let page = ctx
        .page(format!("従事者名簿 — {}", c.number), "contracts")
        .with_flash(Some(&q.ok));
    let mut v = RegisterPage::new(page, &c, "staff");
    v.intro = "本業務に従事する者の名簿です。誓約書（秘密保持）を提出し、従事期間内にある者だけがこのシステムを利用できます。".into();
    v.headers = vec![
        "氏名",
        "所属・役割",
        "アカウント",
        "従事期間",
        "誓約書",
        "研修受講日",
        "状態",
    ];
    let rows = state
        .store
        .roster(Some(id))
        .await?
        .into_iter()
        .map(|s| {
            vec![
                link(s.name.clone(), format!("/staff/{}", s.id)),
                cell(format!(
                    "{}{} / {}",
                    s.employer,
                    s.subcontractor
                        .as_deref()
                        .map(|x| format!("（再委託: {x}）"))
                        .unwrap_or_default(),
                    s.role_on_contract
                )),
                cell(s.username.clone().unwrap_or_else(|| "—".into())),
                cell(format!(
                    "{}～{}",
                    date(tr, &s.start_on),
                    s.end_on.as_deref().map(|e| date(tr, e)).unwrap_or_default()
                )),
                match s.pledge_attachment_id {
                    Some(a) => link(
                        format!("{} 提出", opt_date(tr, &s.pledge_on)),
                        format!("/attachments/{a}"),
                    ),
                    None => cell("未提出"),
                },
                cell(
                    s.training_list()
                        .into_iter()
                        .map(|d| stored_date_text(tr, &d.format("%Y-%m-%d").to_string()))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                staff_state(&s),
            ]
        })
        .collect();
    let base = format!("/contracts/{id}/staff");
    v.paged(&base, rows, q.page);
    v.export_csv = format!("{base}/export.csv");
    v.export_xlsx = format!("{base}/export.xlsx");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if allows(ctx, Action::ManageStaffRoster) {
        let f = staff_form(state, id, "従事者を登録", base, &input).await?;
        v.forms.push(f.with_errors(&errors));
    }
    v.errors = Errors::new(errors, &[], "");
    respond(status, &v)
}

/// `GET /contracts/{id}/staff`.
pub(super) async fn roster(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    roster_page(&state, &ctx, id, &q, StaffInput::default(), Vec::new()).await
}

/// `POST /contracts/{id}/staff`.
pub(super) async fn create_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageStaffRoster)?;
    let id = parse_id(&id)?;
    let input = staff_input(&Fields(f));
    match state.store.create_staff(&ctx.actor(), id, &input).await {
        Ok(s) => saved(format!("/staff/{}", s.id)),
        Err(e) => {
            let errors = fixable(e)?;
            roster_page(&state, &ctx, id, &ListQuery::default(), input, errors).await
        }
    }
}

async fn staff_page(
    state: &AppState,
    ctx: &Ctx,
    s: StaffEntry,
    ok: &str,
    input: Option<StaffInput>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let c = state.store.contract(s.contract_id).await?;
    let page = ctx
        .page(format!("従事者 {}", s.name), "contracts")
        .with_flash(Some(ok));
    let mut v = RegisterPage::new(page, &c, "staff");
    v.props = vec![
        Prop::new("氏名", &s.name),
        Prop::new("所属", &s.employer),
        Prop::new("契約上の役割", &s.role_on_contract),
        Prop::new(
            "アカウント",
            s.username.clone().unwrap_or_else(|| "—".into()),
        ),
        Prop::new(
            "再委託先",
            s.subcontractor.clone().unwrap_or_else(|| "—".into()),
        ),
        Prop::new(
            "従事期間",
            format!(
                "{}～{}",
                date(tr, &s.start_on),
                s.end_on.as_deref().map(|e| date(tr, e)).unwrap_or_default()
            ),
        ),
        match s.pledge_attachment_id {
            Some(a) => Prop::link(
                "誓約書",
                format!(
                    "{} 提出（取得は監査ログに記録）",
                    opt_date(tr, &s.pledge_on)
                ),
                format!("/attachments/{a}"),
            ),
            None => Prop::new("誓約書", "未提出"),
        },
        Prop::new("状態", staff_state(&s).text),
        Prop::new("アクセス終了", v.page.datetime_opt(&s.access_ended_at)),
        Prop::new("備考", &s.note),
    ];
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if allows(ctx, Action::ManageStaffRoster) {
        v.forms.push(file_form(
            "誓約書の添付",
            format!("/staff/{}/pledge", s.id),
            "p-",
            "署名済みの誓約書（写し）を添付します。日付とあわせて提出済みになります。",
        ));
        let input = input.unwrap_or_else(|| StaffInput {
            name: s.name.clone(),
            employer: s.employer.clone(),
            role_on_contract: s.role_on_contract.clone(),
            user_id: s.user_id,
            subcontract_id: s.subcontract_id,
            start_on: date_input(&s.start_on),
            end_on: s.end_on.as_deref().map(date_input).unwrap_or_default(),
            pledge_on: s.pledge_on.as_deref().map(date_input).unwrap_or_default(),
            training_dates: s
                .training_list()
                .into_iter()
                .map(unyo_domain::wareki::format_long)
                .collect::<Vec<_>>()
                .join("、"),
            note: s.note.clone(),
        });
        let f = staff_form(
            state,
            s.contract_id,
            "変更",
            format!("/staff/{}", s.id),
            &input,
        )
        .await?;
        v.forms.push(f.with_errors(&errors));
    }
    v.errors = Errors::new(errors, &[], "");
    v.history = history_rows(&v.page, state.store.history("staff", s.id).await?);
    respond(status, &v)
}

/// `GET /staff/{id}`.
pub(super) async fn staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewContractRegisters)?;
    let s = state.store.staff_entry(parse_id(&id)?).await?;
    staff_page(&state, &ctx, s, &ok.ok, None, Vec::new()).await
}

/// `POST /staff/{id}`.
pub(super) async fn update_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageStaffRoster)?;
    let id = parse_id(&id)?;
    let input = staff_input(&Fields(f));
    match state.store.update_staff(&ctx.actor(), id, &input).await {
        Ok(_) => saved(format!("/staff/{id}")),
        Err(e) => {
            let errors = fixable(e)?;
            let s = state.store.staff_entry(id).await?;
            staff_page(&state, &ctx, s, "", Some(input), errors).await
        }
    }
}

/// `POST /staff/{id}/pledge` (multipart `file`).
pub(super) async fn pledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageStaffRoster)?;
    let id = parse_id(&id)?;
    let result = match one_file(multipart).await? {
        Some((name, bytes)) => state
            .store
            .attach_pledge(&ctx.actor(), id, &name, &bytes)
            .await
            .map(|_| ()),
        None => Err(DomainError::Validation(no_file()).into()),
    };
    match result {
        Ok(()) => saved(format!("/staff/{id}")),
        Err(e) => {
            let errors = fixable(e)?;
            let s = state.store.staff_entry(id).await?;
            staff_page(&state, &ctx, s, "", None, errors).await
        }
    }
}
