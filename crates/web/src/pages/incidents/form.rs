//! `GET /incidents/new` and `POST /incidents`: reporting an incident (ReportIncident).

use super::{
    ErrorItem, Opt, datetime_value, error_summary, ids_of, now_value, one_of, opt_id, respond,
};
use crate::page::{Ctx, FormErrors, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::incident::{DetectionSource, IncidentInput, Severity};
use unyo_domain::registry::TerminalKind;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::incidents::KnownErrorQuery;
use unyo_store::registry::{ListQuery, Status};

/// A checkbox.
pub(super) struct CheckBox {
    pub id: i64,
    pub label: String,
    pub representative: bool,
    pub checked: bool,
}

/// A site and its terminals.
pub(super) struct SiteGroup {
    pub id: i64,
    pub name: String,
    pub checked: bool,
    pub terminals: Vec<CheckBox>,
}

#[derive(askama::Template)]
#[template(path = "incidents_form.html")]
struct FormPage {
    page: PageMeta,
    input: IncidentInput,
    occurred_value: String,
    noticed_value: String,
    severities: Vec<Opt>,
    sources: Vec<Opt>,
    groups: Vec<SiteGroup>,
    nodes: Vec<CheckBox>,
    known_errors: Vec<Opt>,
    /// The probable-cause key is the SE's tool for grouping automatic incidents; 県職員 neither see nor
    /// set it (nor the source 疎通監視, which needs one).
    show_cause_key: bool,
    errors: Vec<ErrorItem>,
    e: FormErrors,
}

impl FormPage {
    /// `aria-describedby` of a control: its hint and, when there is one, its error.
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
    ("title", "title"),
    ("severity", "severity"),
    ("source", "source"),
    ("occurred_at", "occurred_at"),
    ("noticed_at", "noticed_at"),
    ("site_ids", "site-ids"),
    ("terminal_ids", "terminal-ids"),
    ("node_ids", "node-ids"),
    ("description", "description"),
    ("probable_cause", "probable_cause"),
    ("known_error_id", "known_error_id"),
];

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    input: IncidentInput,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let sites = state.store.all_sites().await?;
    let active = |sort: &str| ListQuery {
        status: Some(Status::Active),
        sort: Some(sort.into()),
        per_page: Some(500),
        ..Default::default()
    };
    let terminals = state.store.terminals(&active("hostname")).await?;
    let nodes = state.store.nodes(&active("name")).await?;
    let known = state
        .store
        .known_errors(&KnownErrorQuery {
            per_page: Some(500),
            ..Default::default()
        })
        .await?;
    let groups = sites
        .iter()
        .map(|s| SiteGroup {
            id: s.id,
            name: s.name.clone(),
            checked: input.site_ids.contains(&s.id),
            terminals: terminals
                .items
                .iter()
                .filter(|t| t.site_id == s.id)
                .map(|t| CheckBox {
                    id: t.id,
                    label: t.hostname.clone(),
                    representative: TerminalKind::parse(&t.kind)
                        == Some(TerminalKind::Representative),
                    checked: input.terminal_ids.contains(&t.id),
                })
                .collect(),
        })
        .collect();
    let nodes = nodes
        .items
        .iter()
        .map(|n| CheckBox {
            id: n.id,
            label: match &n.site_name {
                Some(site) => format!("{}（{site}）", n.name),
                None => n.name.clone(),
            },
            representative: false,
            checked: input.node_ids.contains(&n.id),
        })
        .collect();
    let severity = Severity::parse(&input.severity);
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                Some(*s) == severity,
            )
        })
        .collect();
    let show_cause_key = ctx.can(Action::WorkIncident);
    let source = DetectionSource::parse(&input.source);
    let sources = DetectionSource::ALL
        .iter()
        .filter(|s| show_cause_key || **s != DetectionSource::Monitoring || Some(**s) == source)
        .map(|s| {
            Opt::new(
                s.code(),
                tr.pick(s.label_ja(), s.label_en()),
                Some(*s) == source,
            )
        })
        .collect();
    let known_errors = known
        .items
        .iter()
        .map(|k| {
            Opt::new(
                k.id.to_string(),
                format!("{} {}", k.number, k.title),
                input.known_error_id == Some(k.id),
            )
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = FormPage {
        page: ctx.page(tr.t("inc.new"), "incidents"),
        occurred_value: datetime_value(&input.occurred_at),
        noticed_value: datetime_value(&input.noticed_at),
        input,
        severities,
        sources,
        groups,
        nodes,
        known_errors,
        show_cause_key,
        errors: error_summary(errors, ANCHORS),
        e: FormErrors(errors.to_vec()),
    };
    respond(status, &view)
}

/// `?known_error_id=` pre-selects a known error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NewParams {
    pub known_error_id: String,
}

/// `GET /incidents/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<NewParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ReportIncident)?;
    let input = IncidentInput {
        noticed_at: now_value(),
        known_error_id: opt_id(&p.known_error_id),
        ..Default::default()
    };
    form_page(&state, &ctx, input, &[]).await
}

/// `POST /incidents`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ReportIncident)?;
    let input = IncidentInput {
        title: one_of(&f, "title"),
        severity: one_of(&f, "severity"),
        source: one_of(&f, "source"),
        occurred_at: one_of(&f, "occurred_at"),
        noticed_at: one_of(&f, "noticed_at"),
        site_ids: ids_of(&f, "site_ids"),
        terminal_ids: ids_of(&f, "terminal_ids"),
        node_ids: ids_of(&f, "node_ids"),
        description: one_of(&f, "description"),
        probable_cause: one_of(&f, "probable_cause"),
        known_error_id: opt_id(&one_of(&f, "known_error_id")),
    };
    match state.store.report_incident(&ctx.actor(), &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/incidents/{}?ok=saved", r.id)).into_response()),
        Err(StoreError::Domain(DomainError::Validation(errors))) => {
            form_page(&state, &ctx, input, &errors).await
        }
        Err(StoreError::Domain(DomainError::Conflict(m))) => {
            form_page(&state, &ctx, input, &[FieldError::new("probable_cause", m)]).await
        }
        Err(e) => Err(e.into()),
    }
}
