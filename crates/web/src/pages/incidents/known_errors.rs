//! 既知の障害 (the known-error library): `GET /known-errors` (search, paging), `GET /known-errors/new`
//! (`?incident_id=N` pre-links an incident), `POST /known-errors` (ManageKnownErrors) and
//! `GET /known-errors/{id}`.

use super::{
    Badge, ErrorItem, OkQuery, Opt, error_summary, ids_of, lines, one_of, opt_id, parse_id,
    respond, stage_badge,
};
use crate::page::{Ctx, FormErrors, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use unyo_domain::incident::KnownErrorInput;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::incidents::{IncidentQuery, KnownError, KnownErrorQuery};

const PER_PAGE: i64 = 50;

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    pub q: String,
    pub page: String,
}

/// One row of the list.
pub(super) struct Row {
    pub href: String,
    pub number: String,
    pub title: String,
    pub symptoms: String,
    pub workaround: String,
    pub incidents: usize,
    pub created: String,
}

#[derive(askama::Template)]
#[template(path = "known_errors_list.html")]
struct ListPage {
    page: PageMeta,
    q: String,
    rows: Vec<Row>,
    summary: String,
    can_manage: bool,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// At most `max` characters of the first line.
fn short(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    if first.chars().count() > max || text.lines().count() > 1 {
        format!("{}…", first.chars().take(max).collect::<String>())
    } else {
        first.to_string()
    }
}

/// `GET /known-errors?q=`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let tr = ctx.tr;
    let page_no = p.page.parse::<i64>().unwrap_or(1).max(1);
    let q = Some(p.q.trim().to_string()).filter(|s| !s.is_empty());
    let items = state
        .store
        .known_errors(&KnownErrorQuery {
            q: q.clone(),
            page: Some(page_no),
            per_page: Some(PER_PAGE),
        })
        .await?;
    let meta = ctx.page(tr.t("ke.title"), "known_errors");
    let rows = items
        .items
        .iter()
        .map(|k| Row {
            href: format!("/known-errors/{}", k.id),
            number: k.number.clone(),
            title: k.title.clone(),
            symptoms: short(&k.symptoms, 60),
            workaround: short(&k.workaround, 60),
            incidents: k.incidents.len(),
            created: meta.datetime(&k.created_at),
        })
        .collect();
    let link = |n: i64| {
        super::with_query(
            "/known-errors",
            &[("q", p.q.trim()), ("page", &n.to_string())],
        )
    };
    let summary = if tr.is_ja() {
        format!("全{}件", items.total)
    } else {
        format!("{} known errors", items.total)
    };
    let view = ListPage {
        q: p.q.clone(),
        rows,
        summary,
        can_manage: ctx.user.role().allows(Action::ManageKnownErrors),
        prev_href: (items.page > 1).then(|| link(items.page - 1)),
        next_href: (items.page < items.pages()).then(|| link(items.page + 1)),
        page: meta,
    };
    respond(StatusCode::OK, &view)
}

#[derive(askama::Template)]
#[template(path = "known_errors_form.html")]
struct FormPage {
    page: PageMeta,
    input: KnownErrorInput,
    incidents: Vec<Opt>,
    errors: Vec<ErrorItem>,
    e: FormErrors,
}

const ANCHORS: &[(&str, &str)] = &[
    ("title", "title"),
    ("symptoms", "symptoms"),
    ("cause", "cause"),
    ("workaround", "workaround"),
    ("incident_ids", "incident-ids"),
];

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    input: KnownErrorInput,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let recent = state
        .store
        .incidents(
            &IncidentQuery {
                per_page: Some(50),
                ..Default::default()
            },
            Utc::now(),
        )
        .await?;
    let mut incidents: Vec<Opt> = recent
        .items
        .iter()
        .map(|i| {
            Opt::new(
                i.id.to_string(),
                format!(
                    "{} {}（{}）",
                    i.number,
                    i.title,
                    super::stage_label(tr, &i.stage)
                ),
                input.incident_ids.contains(&i.id),
            )
        })
        .collect();
    // An incident named in the input but not among the recent ones stays selectable.
    for id in &input.incident_ids {
        if !incidents.iter().any(|o| o.value == id.to_string())
            && let Ok(i) = state.store.incident_row(*id, Utc::now()).await
        {
            incidents.insert(
                0,
                Opt::new(i.id.to_string(), format!("{} {}", i.number, i.title), true),
            );
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = FormPage {
        page: ctx.page(tr.t("ke.new"), "known_errors"),
        input,
        incidents,
        errors: error_summary(errors, ANCHORS),
        e: FormErrors(errors.to_vec()),
    };
    respond(status, &view)
}

/// `?incident_id=` pre-links an incident.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NewParams {
    pub incident_id: String,
}

/// `GET /known-errors/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<NewParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageKnownErrors)?;
    let input = KnownErrorInput {
        incident_ids: opt_id(&p.incident_id).into_iter().collect(),
        ..Default::default()
    };
    form_page(&state, &ctx, input, &[]).await
}

/// `POST /known-errors`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageKnownErrors)?;
    let input = KnownErrorInput {
        title: one_of(&f, "title"),
        symptoms: one_of(&f, "symptoms"),
        cause: one_of(&f, "cause"),
        workaround: one_of(&f, "workaround"),
        incident_ids: ids_of(&f, "incident_ids"),
    };
    match state.store.create_known_error(&ctx.actor(), &input).await {
        Ok(k) => Ok(Redirect::to(&format!("/known-errors/{}?ok=saved", k.id)).into_response()),
        Err(StoreError::Domain(DomainError::Validation(errors))) => {
            form_page(&state, &ctx, input, &errors).await
        }
        Err(StoreError::Domain(DomainError::Conflict(m))) => {
            form_page(&state, &ctx, input, &[FieldError::new("", m)]).await
        }
        Err(e) => Err(e.into()),
    }
}

/// An incident linked from a known error.
pub(super) struct IncidentLinkView {
    pub href: String,
    pub text: String,
    pub stage: Badge,
}

#[derive(askama::Template)]
#[template(path = "known_errors_detail.html")]
struct DetailPage {
    page: PageMeta,
    k: KnownError,
    symptoms: Vec<String>,
    cause: Vec<String>,
    workaround: Vec<String>,
    created_from_href: String,
    created_by: String,
    incidents: Vec<IncidentLinkView>,
    can_report: bool,
}

/// `GET /known-errors/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let tr = ctx.tr;
    let id = parse_id(&id)?;
    let k = state.store.known_error(id).await?;
    let ok = Some(ok.ok.as_str()).filter(|s| !s.is_empty());
    let meta = ctx
        .page(format!("{} {}", k.number, k.title), "known_errors")
        .with_flash(ok);
    let view = DetailPage {
        symptoms: lines(&k.symptoms),
        cause: lines(&k.cause),
        workaround: lines(&k.workaround),
        created_from_href: k
            .created_from_incident_id
            .map(|i| format!("/incidents/{i}"))
            .unwrap_or_default(),
        created_by: format!("{}（{}）", k.created_by_name, meta.datetime(&k.created_at)),
        incidents: k
            .incidents
            .iter()
            .map(|i| IncidentLinkView {
                href: format!("/incidents/{}", i.id),
                text: format!("{} {}", i.number, i.title),
                stage: stage_badge(tr, &i.stage),
            })
            .collect(),
        can_report: ctx.user.role().allows(Action::ReportIncident),
        k,
        page: meta,
    };
    respond(StatusCode::OK, &view)
}
