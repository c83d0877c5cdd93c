//! `GET /records`: a contract's fiscal year month by month; `POST /records/settings`: the addressee.

use super::Opt;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::records::{Month, RecordStatus, status_label_ja};
use unyo_domain::wareki::{FiscalYear, format_long};
use unyo_store::records::MonthlyRecord;
use unyo_store::support::{Contract, jst_today};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub contract_id: String,
    pub fy: String,
    pub ok: String,
}

struct MonthRow {
    label: String,
    code: String,
    due: String,
    status: String,
    status_class: &'static str,
    overdue: bool,
    version: String,
    submitted_on: String,
    decided: String,
    preview_href: String,
    record_href: String,
}

#[derive(askama::Template)]
#[template(path = "records_list.html")]
struct ListPage {
    page: PageMeta,
    contracts: Vec<Opt>,
    years: Vec<Opt>,
    contract_label: String,
    fy_label: String,
    months: Vec<MonthRow>,
    annual_href: String,
    has_contract: bool,
    can_settings: bool,
    addressee: String,
}

/// The contract a page is about: the one asked for, else the one in force today, else the newest.
pub(super) async fn pick_contract(
    state: &AppState,
    raw: &str,
) -> Result<(Vec<Contract>, Option<Contract>), WebError> {
    let contracts = state.store.contracts().await?;
    let asked = raw.trim().parse::<i64>().ok();
    let chosen = match asked {
        Some(id) => Some(
            contracts
                .iter()
                .find(|c| c.id == id)
                .cloned()
                .ok_or(WebError::NotFound)?,
        ),
        None => match state.store.contract_on(jst_today()).await? {
            Some(c) => Some(c),
            None => contracts.first().cloned(),
        },
    };
    Ok((contracts, chosen))
}

pub(super) fn status_class(status: Option<RecordStatus>) -> &'static str {
    match status {
        None => "badge",
        Some(RecordStatus::Submitted) => "badge badge-warn",
        Some(RecordStatus::Confirmed) => "badge badge-active",
        Some(RecordStatus::Returned) => "badge badge-retired",
    }
}

fn stored(s: &str) -> String {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.to_string(), format_long)
}

pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewRecords)?;
    let (contracts, chosen) = pick_contract(&state, &p.contract_id).await?;
    let today = jst_today();
    let fy =
        p.fy.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2200).contains(y))
            .map(FiscalYear)
            .or_else(|| {
                // The contract's year: this one while it runs, else the year it starts in.
                chosen.as_ref().map(|c| {
                    let now = today.to_string();
                    if c.term_start <= now && now <= c.term_end {
                        FiscalYear::containing(today)
                    } else {
                        chrono::NaiveDate::parse_from_str(&c.term_start, "%Y-%m-%d")
                            .map_or_else(|_| FiscalYear::containing(today), FiscalYear::containing)
                    }
                })
            })
            .unwrap_or_else(|| FiscalYear::containing(today));
    let mut months = Vec::new();
    if let Some(c) = &chosen {
        let records = state.store.monthly_records(Some(c.id), Some(fy)).await?;
        for (y, m) in fy.months() {
            let month = Month { year: y, month: m };
            let first = month.first_day().to_string();
            let last = month.last_day().to_string();
            if last < c.term_start || first > c.term_end {
                continue;
            }
            let r: Option<&MonthlyRecord> = records.iter().find(|r| r.month() == month);
            let status = r.map(MonthlyRecord::status);
            let latest = r.and_then(MonthlyRecord::latest);
            // The latest decision of the latest submission (a step confirmed, or the send-back).
            let decided = r
                .and_then(|r| {
                    let round = r.current_version - i64::try_from(r.stage()).unwrap_or(0);
                    r.approvals.last().filter(|a| a.version >= round)
                })
                .map(|a| {
                    let what = if a.outcome == "returned" {
                        "差戻し"
                    } else {
                        "確認"
                    };
                    format!(
                        "{} {}（{}・{what}）",
                        stored(&a.decided_on),
                        a.decided_by_name,
                        a.label
                    )
                })
                .unwrap_or_default();
            let finished = month.last_day() < today;
            months.push(MonthRow {
                label: if ctx.tr.is_ja() {
                    month.label()
                } else {
                    month.code()
                },
                code: month.code(),
                due: format_long(month.due_date()),
                status: if ctx.tr.is_ja() {
                    status_label_ja(status).to_string()
                } else {
                    status.map_or("Draft", RecordStatus::label_en).to_string()
                },
                status_class: status_class(status),
                overdue: finished
                    && month.due_date() < today
                    && matches!(status, None | Some(RecordStatus::Returned)),
                version: r
                    .zip(latest)
                    .map_or_else(String::new, |(r, v)| r.version_label(v)),
                submitted_on: latest.map_or_else(String::new, |v| stored(&v.submitted_on)),
                decided,
                preview_href: format!(
                    "/records/monthly?contract_id={}&month={}",
                    c.id,
                    month.code()
                ),
                record_href: r.map_or_else(String::new, |r| format!("/records/{}", r.id)),
            });
        }
    }
    let mut page = ctx.page(ctx.tr.t("records.title"), "records");
    if p.ok == "addressee" {
        page.flash = Some(ctx.tr.t("records.addressee_saved"));
    }
    let current_fy = FiscalYear::containing(today).0;
    let years = (current_fy - 4..=current_fy + 1)
        .rev()
        .map(|y| Opt {
            value: y.to_string(),
            label: FiscalYear(y).label(),
            selected: y == fy.0,
        })
        .collect();
    let t = ListPage {
        page,
        contracts: contracts
            .iter()
            .map(|c| Opt {
                value: c.id.to_string(),
                label: format!("{}（{}）", c.name, c.number),
                selected: chosen.as_ref().is_some_and(|x| x.id == c.id),
            })
            .collect(),
        years,
        contract_label: chosen
            .as_ref()
            .map(|c| format!("{}（{}）", c.name, c.number))
            .unwrap_or_default(),
        fy_label: fy.label(),
        months,
        annual_href: chosen.as_ref().map_or_else(String::new, |c| {
            format!("/records/annual?contract_id={}&fy={}", c.id, fy.0)
        }),
        has_contract: chosen.is_some(),
        can_settings: ctx.user.role().allows(Action::ManageContracts),
        addressee: state.store.record_addressee().await?,
    };
    Ok(render(&t)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SettingsForm {
    pub addressee: String,
}

/// `POST /records/settings`: the addressee printed on records (administrator).
pub(super) async fn settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageContracts)?;
    state
        .store
        .set_record_addressee(&ctx.actor(), &f.addressee)
        .await?;
    Ok(Redirect::to("/records?ok=addressee").into_response())
}
