//! 協議記録 (R18): `GET /consultations` (date and contract filter), `GET /consultations/new`
//! (`?request_id=N` pre-links a request), `POST /consultations`, `GET /consultations/{id}`.

use super::{
    ErrorItem, Opt, all_of, date_value, error_summary, form_errors, ids_of, lines, one_of,
    parse_id, show_date, status_label,
};
use crate::page::{Ctx, FormErrors, PageMeta, render};
use crate::view::OkQuery;
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use unyo_domain::support::{ConsultationInput, parse_date};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::support::{Consultation, Contract, RequestQuery, RequestRow, jst_today};

/// How many recent requests the form offers as checkboxes.
const RECENT_REQUESTS: i64 = 30;

fn contract_label(c: &Contract) -> String {
    format!("{}（{}）", c.name, c.number)
}

/// A request link.
pub(super) struct RequestLinkView {
    pub text: String,
    pub href: String,
}

/// One row of the list.
pub(super) struct Row {
    pub href: String,
    pub held_on: String,
    pub contract: String,
    pub topic: String,
    pub participants: String,
    pub requests: Vec<RequestLinkView>,
    pub recorded_by: String,
}

fn request_links(c: &Consultation) -> Vec<RequestLinkView> {
    c.requests
        .iter()
        .map(|r| RequestLinkView {
            text: format!("{} {}", r.number, r.title),
            href: format!("/requests/{}", r.id),
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "consultations_list.html")]
struct ListPage {
    page: PageMeta,
    contracts: Vec<Opt>,
    from: String,
    to: String,
    from_error: String,
    to_error: String,
    rows: Vec<Row>,
    summary: String,
    can_record: bool,
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub contract_id: String,
    pub from: String,
    pub to: String,
}

/// `GET /consultations`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let contract_id = p.contract_id.trim().parse::<i64>().ok();
    let from = parse_date(&p.from);
    let to = parse_date(&p.to);
    let invalid = |raw: &str, parsed: Option<chrono::NaiveDate>| {
        if raw.trim().is_empty() || parsed.is_some() {
            String::new()
        } else {
            tr.t("requests.date_invalid").to_string()
        }
    };
    let contracts = state.store.contracts().await?;
    let items = state.store.consultations(contract_id, from, to).await?;
    let users: HashMap<String, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.username, u.display_name))
        .collect();
    let rows = items
        .iter()
        .map(|c| Row {
            href: format!("/consultations/{}", c.id),
            held_on: show_date(tr, &c.held_on),
            contract: c.contract_number.clone(),
            topic: c.topic.clone(),
            participants: c.participants.clone(),
            requests: request_links(c),
            recorded_by: users
                .get(&c.recorded_by)
                .cloned()
                .unwrap_or_else(|| c.recorded_by.clone())
                .replace(' ', "\u{a0}"),
        })
        .collect::<Vec<_>>();
    let summary = if tr.is_ja() {
        format!("{}{}", rows.len(), tr.t("consult.count"))
    } else {
        format!("{} {}", rows.len(), tr.t("consult.count"))
    };
    render(&ListPage {
        page: ctx.page(tr.t("consult.title"), "consultations"),
        contracts: contracts
            .iter()
            .map(|c| {
                Opt::new(
                    c.id.to_string(),
                    contract_label(c),
                    contract_id == Some(c.id),
                )
            })
            .collect(),
        from_error: invalid(&p.from, from),
        to_error: invalid(&p.to, to),
        from: date_value(&p.from),
        to: date_value(&p.to),
        rows,
        summary,
        can_record: ctx.user.role().allows(Action::RecordConsultation),
    })
}

/// A request checkbox on the form.
pub(super) struct RequestBox {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub status: String,
    pub checked: bool,
}

#[derive(askama::Template)]
#[template(path = "consultations_form.html")]
struct FormPage {
    page: PageMeta,
    contracts: Vec<Opt>,
    held_on: String,
    input: ConsultationInput,
    request_numbers: String,
    requests: Vec<RequestBox>,
    errors: Vec<ErrorItem>,
    e: FormErrors,
}

impl FormPage {
    fn described(&self, field: &str, hint: &str) -> String {
        let mut ids = Vec::new();
        if !hint.is_empty() {
            ids.push(hint.to_string());
        }
        if self.e.has(field) {
            ids.push(format!("err-{field}"));
        }
        ids.join(" ")
    }
}

const ANCHORS: &[(&str, &str)] = &[
    ("contract_id", "contract_id"),
    ("held_on", "held_on"),
    ("participants", "participants"),
    ("topic", "topic"),
    ("agreed", "agreed"),
    ("request_ids", "request-ids"),
    ("request_numbers", "request_numbers"),
];

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    input: ConsultationInput,
    request_numbers: String,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let today = jst_today();
    let contracts = state.store.contracts().await?;
    // Default: the contract in force today (else the newest).
    let chosen = match input.contract_id {
        Some(id) => Some(id),
        None => match state.store.contract_on(today).await? {
            Some(c) => Some(c.id),
            None => contracts.first().map(|c| c.id),
        },
    };
    let mut recent: Vec<RequestRow> = state
        .store
        .requests(
            &RequestQuery {
                per_page: Some(RECENT_REQUESTS),
                ..Default::default()
            },
            today,
        )
        .await?
        .items;
    for id in &input.request_ids {
        if !recent.iter().any(|r| r.id == *id) {
            match state.store.request(*id, today).await {
                Ok(d) => recent.push(d.request),
                Err(StoreError::Domain(DomainError::NotFound(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let requests = recent
        .iter()
        .map(|r| RequestBox {
            id: r.id,
            number: r.number.clone(),
            title: r.title.clone(),
            status: status_label(tr, &r.status),
            checked: input.request_ids.contains(&r.id),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        page: ctx.page(tr.t("consult.new"), "consultations"),
        contracts: contracts
            .iter()
            .map(|c| Opt::new(c.id.to_string(), contract_label(c), chosen == Some(c.id)))
            .collect(),
        held_on: if input.held_on.trim().is_empty() {
            today.format("%Y-%m-%d").to_string()
        } else {
            date_value(&input.held_on)
        },
        input,
        request_numbers,
        requests,
        errors: error_summary(errors, ANCHORS),
        e: form_errors(errors),
    };
    Ok((status, render(&page)?).into_response())
}

/// `?request_id=N` pre-links a request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NewParams {
    pub request_id: String,
}

/// `GET /consultations/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<NewParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordConsultation)?;
    let input = ConsultationInput {
        request_ids: p
            .request_id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .into_iter()
            .collect(),
        ..Default::default()
    };
    form_page(&state, &ctx, input, String::new(), &[]).await
}

/// Request numbers typed into the form (`R8-0001, R8-0002`, separated by commas, 読点 or spaces) to ids.
async fn resolve_numbers(
    state: &AppState,
    text: &str,
) -> Result<(Vec<i64>, Vec<FieldError>), WebError> {
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    let normalised: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            _ => c,
        })
        .collect();
    for token in normalised
        .split(|c: char| c == ',' || c == '、' || c == '，' || c.is_whitespace())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let found = state
            .store
            .requests(
                &RequestQuery {
                    q: Some(token.to_string()),
                    per_page: Some(20),
                    ..Default::default()
                },
                jst_today(),
            )
            .await?
            .items
            .into_iter()
            .find(|r| r.number.eq_ignore_ascii_case(token));
        match found {
            Some(r) => ids.push(r.id),
            None => errors.push(FieldError::new(
                "request_numbers",
                format!("要請番号「{token}」の支援要請が見つかりません。"),
            )),
        }
    }
    Ok((ids, errors))
}

/// `POST /consultations`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordConsultation)?;
    let request_numbers = one_of(&f, "request_numbers");
    let mut input = ConsultationInput {
        contract_id: one_of(&f, "contract_id").trim().parse().ok(),
        held_on: one_of(&f, "held_on"),
        participants: one_of(&f, "participants"),
        topic: one_of(&f, "topic"),
        agreed: one_of(&f, "agreed"),
        request_ids: ids_of(&f, "request_ids"),
    };
    // A value that is not an id is a forged form: say so rather than drop it silently.
    let bad_ids = all_of(&f, "request_ids").any(|v| v.trim().parse::<i64>().is_err());
    let (typed, mut errors) = resolve_numbers(&state, &request_numbers).await?;
    if bad_ids {
        errors.push(FieldError::new(
            "request_ids",
            "選択された支援要請が見つかりません。",
        ));
    }
    if !errors.is_empty() {
        if let Err(DomainError::Validation(more)) = input.validate() {
            errors.extend(more);
        }
        return form_page(&state, &ctx, input, request_numbers, &errors).await;
    }
    let shown_ids = input.request_ids.clone();
    input.request_ids.extend(typed);
    match state.store.create_consultation(&ctx.actor(), &input).await {
        Ok(c) => Ok(Redirect::to(&format!("/consultations/{}?ok=saved", c.id)).into_response()),
        Err(StoreError::Domain(DomainError::Validation(errors))) => {
            input.request_ids = shown_ids;
            form_page(&state, &ctx, input, request_numbers, &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(askama::Template)]
#[template(path = "consultations_detail.html")]
struct DetailPage {
    page: PageMeta,
    held_on: String,
    contract: String,
    contract_number: String,
    participants: Vec<String>,
    topic: String,
    agreed: Vec<String>,
    requests: Vec<RequestLinkView>,
    recorded_by: String,
    recorded_at: String,
}

/// `GET /consultations/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let id = parse_id(&id)?;
    let c = state.store.consultation(id).await?;
    let contract = state.store.contract(c.contract_id).await?;
    let recorded_by = state
        .store
        .user_by_name(&c.recorded_by)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_else(|| c.recorded_by.clone());
    let ok = Some(ok.ok.as_str()).filter(|s| !s.is_empty());
    let page = ctx
        .page(
            format!("{} {}", tr.t("consult.title"), c.topic),
            "consultations",
        )
        .with_flash(ok);
    render(&DetailPage {
        held_on: show_date(tr, &c.held_on),
        contract: contract.name.clone(),
        contract_number: contract.number.clone(),
        participants: lines(&c.participants),
        topic: c.topic.clone(),
        agreed: lines(&c.agreed),
        requests: request_links(&c),
        recorded_by,
        recorded_at: page.datetime(&c.created_at),
        page,
    })
}
