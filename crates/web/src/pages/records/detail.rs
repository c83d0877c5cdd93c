//! `GET /records/{id}` (the route's 確認欄 columns, versions, digests, changes since submission, decision
//! forms), `GET /records/{id}/confirm` (what confirming the next step will do, asked first), `POST
//! /records/{id}/confirm`, `POST /records/{id}/return` and `GET /records/{id}/versions/{n}.pdf|.xlsx`.

use super::list::status_class;
use super::{doc_error, download, parse_id};
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_documents::{changes_since_submission, confirm_monthly};
use unyo_domain::records::{
    RecordAction, RecordStatus, ReturnInput, available_actions, status_label_ja, version_label,
};
use unyo_domain::wareki::format_long;
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;
use unyo_store::records::{MonthlyRecord, RecordFile};
use unyo_store::support::jst_today;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DetailParams {
    pub ok: String,
}

struct VersionRow {
    version: i64,
    label: String,
    submitted_on: String,
    submitted_by: String,
    pdf_href: String,
    pdf_sha256: String,
    pdf_size: String,
    xlsx_href: String,
    xlsx_sha256: String,
    xlsx_size: String,
    outcome: String,
    decided: String,
    reason: Vec<String>,
}

/// One 確認欄 column of the route: who confirmed it when, or what it waits for.
struct StepRow {
    step: usize,
    label: String,
    holder: String,
    name: String,
    on: String,
    state: String,
}

struct ChangeRow {
    change: String,
    target: String,
    field: String,
    before: Vec<String>,
    after: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "records_detail.html")]
struct DetailPage {
    page: PageMeta,
    id: i64,
    props: Vec<(String, String)>,
    status: String,
    status_class: &'static str,
    preview_href: String,
    versions: Vec<VersionRow>,
    steps: Vec<StepRow>,
    latest_label: String,
    latest_pdf: String,
    latest_xlsx: String,
    changes: Vec<ChangeRow>,
    can_confirm: bool,
    can_return: bool,
    /// The step that awaits a decision (0: none), sent with the forms.
    next_step: usize,
    next_step_label: String,
    reason: String,
    reason_error: String,
}

fn stored(s: &str) -> String {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.to_string(), format_long)
}

fn size(n: i64) -> String {
    format!("{} バイト", unyo_report::format_integer(n))
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    flash: Option<&'static str>,
    reason: String,
    reason_error: String,
) -> Result<DetailPage, WebError> {
    ctx.require(Action::ViewRecords)?;
    let r: MonthlyRecord = state.store.monthly_record(id).await?;
    let changes = changes_since_submission(&state.store, &r)
        .await
        .map_err(doc_error)?;
    let status = r.status();
    let actions = available_actions(Some(status), ctx.user.role());
    let may_decide = may_decide(&r, ctx);
    let month = r.month();
    let mut props = vec![
        (
            ctx.tr.t("records.contract").to_string(),
            format!("{}（{}）", r.contract_name, r.contract_number),
        ),
        (ctx.tr.t("records.month").to_string(), month.label()),
        (
            ctx.tr.t("records.due").to_string(),
            format_long(month.due_date()),
        ),
        (
            ctx.tr.t("records.version").to_string(),
            r.latest().map_or_else(String::new, |v| r.version_label(v)),
        ),
    ];
    if let Some(c) = r.confirmed() {
        props.push((
            ctx.tr.t("records.confirmed_on").to_string(),
            c.decided_on.as_deref().map(stored).unwrap_or_default(),
        ));
        props.push((
            ctx.tr.t("records.confirmed_by").to_string(),
            c.decided_by_name.clone().unwrap_or_default(),
        ));
    }
    let versions = r
        .versions
        .iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            label: r.version_label(v),
            submitted_on: stored(&v.submitted_on),
            submitted_by: v.submitted_by_name.clone(),
            pdf_href: format!("/records/{id}/versions/{}.pdf", v.version),
            pdf_sha256: v.pdf_sha256.clone(),
            pdf_size: size(v.pdf_size),
            xlsx_href: format!("/records/{id}/versions/{}.xlsx", v.version),
            xlsx_sha256: v.xlsx_sha256.clone(),
            xlsx_size: size(v.xlsx_size),
            outcome: match RecordStatus::parse(&v.outcome) {
                Some(RecordStatus::Submitted) | None => ctx.tr.t("records.awaiting").to_string(),
                Some(s) => ctx.tr.pick(s.label_ja(), s.label_en()).to_string(),
            },
            decided: match (&v.decided_on, &v.decided_by_name) {
                (Some(on), Some(by)) => format!("{} {by}", stored(on)),
                _ => String::new(),
            },
            reason: v.reason.lines().map(str::to_string).collect(),
        })
        .collect();
    let confirmations = r.confirmations();
    let next = r.next_step();
    let mut steps = Vec::new();
    for (i, s) in r.route.iter().enumerate() {
        let filled = confirmations.get(i);
        let holder = match s.user_id {
            Some(uid) => state
                .store
                .user(uid)
                .await?
                .map_or_else(String::new, |u| u.display_name),
            None => String::new(),
        };
        let state_label = if filled.is_some() {
            ctx.tr.t("records.step_done")
        } else if next.is_some_and(|(n, _)| n == i + 1) {
            ctx.tr.t("records.awaiting")
        } else if status == RecordStatus::Returned
            && r.approvals
                .last()
                .is_some_and(|a| a.outcome == "returned" && a.step == i as i64 + 1)
        {
            ctx.tr.t("records.step_returned")
        } else {
            ""
        };
        steps.push(StepRow {
            step: i + 1,
            label: s.label.clone(),
            holder,
            name: filled.map_or_else(String::new, |a| a.decided_by_name.clone()),
            on: filled.map_or_else(String::new, |a| stored(&a.decided_on)),
            state: state_label.to_string(),
        });
    }
    let (latest_label, latest_pdf, latest_xlsx) = match r.latest() {
        Some(v) => (
            r.version_label(v),
            format!("/records/{id}/versions/{}.pdf", v.version),
            format!("/records/{id}/versions/{}.xlsx", v.version),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let changes = changes
        .iter()
        .flat_map(|c| {
            let target = format!("{}: {}", c.kind_label(), c.label);
            let change = c.change.label_ja().to_string();
            c.fields.iter().map(move |f| ChangeRow {
                change: change.clone(),
                target: target.clone(),
                field: f.field.clone(),
                before: f.before.lines().map(str::to_string).collect(),
                after: f.after.lines().map(str::to_string).collect(),
            })
        })
        .collect();
    let mut page = ctx.page(
        format!("{}　{}分", ctx.tr.t("records.title"), month.label()),
        "records",
    );
    page.flash = flash;
    Ok(DetailPage {
        page,
        id,
        props,
        status: if ctx.tr.is_ja() {
            status_label_ja(Some(status)).to_string()
        } else {
            status.label_en().to_string()
        },
        status_class: status_class(Some(status)),
        preview_href: format!(
            "/records/monthly?contract_id={}&month={}",
            r.contract_id,
            month.code()
        ),
        versions,
        steps,
        latest_label,
        latest_pdf,
        latest_xlsx,
        changes,
        can_confirm: may_decide && actions.contains(&RecordAction::Confirm),
        can_return: may_decide && actions.contains(&RecordAction::Return),
        next_step: next.map_or(0, |(n, _)| n),
        next_step_label: next.map_or_else(String::new, |(_, s)| s.label.clone()),
        reason,
        reason_error,
    })
}

pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailParams>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let flash = match q.ok.as_str() {
        "submitted" => Some(ctx.tr.t("records.submitted")),
        "confirmed" => Some(ctx.tr.t("records.confirmed")),
        "returned" => Some(ctx.tr.t("records.returned")),
        _ => None,
    };
    let p = page(&state, &ctx, id, flash, String::new(), String::new()).await?;
    Ok(render(&p)?.into_response())
}

/// Why the signed-in person is not offered the step that awaits.
const NOT_YOURS: &str = "この確認欄を確認・差戻しすることはできません（自分が提出した業務実績簿、同じ版の別の確認欄を確認済み、または別の方が担当する確認欄です）。";

/// Whether the signed-in person may decide the step that awaits: it is not their own submission, the step
/// is theirs when the route names its holder, and they filled no other column of this submission (the store
/// checks the same again).
fn may_decide(r: &MonthlyRecord, ctx: &Ctx) -> bool {
    let me = Some(ctx.user.id);
    let Some((_, step)) = r.next_step() else {
        return false;
    };
    step.held_by(me)
        && r.latest().is_none_or(|v| v.submitted_by_id != me)
        && !r.confirmations().iter().any(|a| a.decided_by_id == me)
}

/// The step a decision form was filled for (`step`); a stale one is refused by the store.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StepForm {
    pub step: String,
    pub reason: String,
}

impl StepForm {
    fn step(&self) -> Option<i64> {
        self.step.trim().parse::<i64>().ok().filter(|s| *s > 0)
    }
}

pub(super) use crate::confirm::ConfirmStep as ConfirmPage;

/// `GET /records/{id}/confirm`: what confirming the step that awaits will do, and the button that does it.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ConfirmRecords)?;
    let id = parse_id(&id)?;
    let r = state.store.monthly_record(id).await?;
    let Some((step, route_step)) = r.next_step() else {
        return Ok(Redirect::to(&format!("/records/{id}")).into_response());
    };
    if !may_decide(&r, &ctx) {
        return Err(WebError::Refused(NOT_YOURS.into()));
    }
    let next_label = version_label(r.current_version + 1, step, &r.route);
    let last = step >= r.route.len();
    let today = jst_today();
    let month = r.month();
    let facts = vec![
        (
            ctx.tr.t("records.contract").to_string(),
            format!("{}（{}）", r.contract_name, r.contract_number),
        ),
        (ctx.tr.t("records.month").to_string(), month.label()),
        (
            ctx.tr.t("records.confirming").to_string(),
            r.latest().map_or_else(String::new, |v| r.version_label(v)),
        ),
        (
            ctx.tr.t("records.step").to_string(),
            format!("{}（{step}/{}）", route_step.label, r.route.len()),
        ),
        (
            ctx.tr.t("records.confirmed_by").to_string(),
            ctx.user.display_name.clone(),
        ),
        (
            ctx.tr.t("records.confirmed_on").to_string(),
            format_long(today),
        ),
        (
            ctx.tr.t("records.new_version").to_string(),
            next_label.clone(),
        ),
    ];
    let mut paragraphs = vec![format!(
        "確認欄「{}」に確認者の氏名（{}）と確認日（{}）を記入したPDFとExcelを{}として保存します。保存した版は変更できません。",
        route_step.label,
        ctx.user.display_name,
        format_long(today),
        next_label
    )];
    paragraphs.push(if last {
        "これが最後の確認欄です。確認すると、この月の業務実績簿は確認済となり、以後変更できません。"
            .to_string()
    } else {
        format!(
            "確認後は、次の確認欄「{}」の確認待ちになります。",
            r.route[step].label
        )
    });
    let t = ConfirmPage {
        page: ctx.page(
            format!(
                "{}　{}分　{}",
                ctx.tr.t("records.title"),
                month.label(),
                ctx.tr.t("records.confirm_title")
            ),
            "records",
        ),
        heading: format!(
            "{}（{}）",
            ctx.tr.t("records.confirm_title"),
            route_step.label
        ),
        facts,
        paragraphs,
        action: format!("/records/{id}/confirm"),
        hidden: vec![("step".into(), step.to_string())],
        button: ctx.tr.t("records.confirm").to_string(),
        cancel_href: format!("/records/{id}"),
    };
    Ok(render(&t)?.into_response())
}

/// `POST /records/{id}/confirm` (`step`): confirms the step that awaits; the document is frozen again with
/// its column filled.
pub(super) async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ConfirmRecords)?;
    let id = parse_id(&id)?;
    if let Some(step) = form.step() {
        let r = state.store.monthly_record(id).await?;
        if r.next_step().is_some_and(|(n, _)| n as i64 != step) {
            return Err(StoreError::from(DomainError::Conflict(
                unyo_store::records::RECORD_STALE_MESSAGE.into(),
            ))
            .into());
        }
    }
    confirm_monthly(&state.store, &ctx.actor(), id, jst_today())
        .await
        .map_err(doc_error)?;
    Ok(Redirect::to(&format!("/records/{id}?ok=confirmed")).into_response())
}

/// `POST /records/{id}/return` (`reason`): a missing or refused reason re-renders the page with 422.
pub(super) async fn send_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ConfirmRecords)?;
    let id = parse_id(&id)?;
    let input = ReturnInput {
        reason: form.reason.clone(),
    };
    let result = match form.step() {
        Some(step) => {
            state
                .store
                .return_monthly_record_step(&ctx.actor(), id, step, &input, jst_today())
                .await
        }
        None => {
            state
                .store
                .return_monthly_record(&ctx.actor(), id, &input, jst_today())
                .await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/records/{id}?ok=returned")).into_response()),
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            let message = fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            let p = page(&state, &ctx, id, None, input.reason.clone(), message).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /records/{id}/versions/{n}.pdf|.xlsx`: the frozen bytes, byte-identical, audited by the store.
pub(super) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let id = parse_id(&id)?;
    let (version, ext) = file.split_once('.').ok_or(WebError::NotFound)?;
    let version = parse_id(version)?;
    let kind = RecordFile::from_ext(ext).ok_or(WebError::NotFound)?;
    let r = state.store.monthly_record(id).await?;
    let (_, bytes) = state
        .store
        .record_file(&ctx.actor(), id, version, kind)
        .await?;
    let month = r.month();
    let label = r
        .versions
        .iter()
        .find(|v| v.version == version)
        .map_or_else(|| format!("第{version}版"), |v| r.version_label(v));
    Ok(download(
        bytes,
        kind.content_type(),
        &format!("monthly_record_{}_v{version}.{ext}", month.code()),
        &format!("業務実績簿_{}分_{label}.{ext}", month.label()),
    ))
}
