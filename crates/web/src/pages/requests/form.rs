//! `GET /requests/new` and `POST /requests`: filing a support request.

use super::{ErrorItem, Opt, date_value, error_summary, form_errors, ids_of, one_of};
use crate::page::{Ctx, FormErrors, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use unyo_domain::registry::TerminalKind;
use unyo_domain::support::{Category, RequestInput};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::registry::{ListQuery, Status};

/// A terminal checkbox.
pub(super) struct TerminalBox {
    pub id: i64,
    pub hostname: String,
    pub representative: bool,
    pub checked: bool,
}

/// The terminals of one site.
pub(super) struct SiteGroup {
    pub id: i64,
    pub name: String,
    pub checked: bool,
    pub terminals: Vec<TerminalBox>,
}

#[derive(askama::Template)]
#[template(path = "requests_form.html")]
struct FormPage {
    page: PageMeta,
    input: RequestInput,
    wished_value: String,
    categories: Vec<Opt>,
    groups: Vec<SiteGroup>,
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
    ("category", "category"),
    ("site_ids", "site-ids"),
    ("terminal_ids", "terminal-ids"),
    ("wished_date", "wished_date"),
    ("description", "description"),
];

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    input: RequestInput,
    errors: &[FieldError],
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let sites = state.store.all_sites().await?;
    let terminals = state
        .store
        .terminals(&ListQuery {
            status: Some(Status::Active),
            sort: Some("hostname".into()),
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
                .map(|t| TerminalBox {
                    id: t.id,
                    hostname: t.hostname.clone(),
                    representative: TerminalKind::parse(&t.kind)
                        == Some(TerminalKind::Representative),
                    checked: input.terminal_ids.contains(&t.id),
                })
                .collect(),
        })
        .collect();
    let category = Category::parse(&input.category).map(|c| c.code());
    let categories = Category::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.code(),
                tr.pick(c.label_ja(), c.label_en()),
                Some(c.code()) == category,
            )
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        page: ctx.page(tr.t("requests.new"), "requests"),
        wished_value: date_value(&input.wished_date),
        input,
        categories,
        groups,
        errors: error_summary(errors, ANCHORS),
        e: form_errors(errors),
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /requests/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::FileRequest)?;
    form_page(&state, &ctx, RequestInput::default(), &[]).await
}

/// `POST /requests`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::FileRequest)?;
    let input = RequestInput {
        title: one_of(&f, "title"),
        category: one_of(&f, "category"),
        site_ids: ids_of(&f, "site_ids"),
        terminal_ids: ids_of(&f, "terminal_ids"),
        wished_date: one_of(&f, "wished_date"),
        description: one_of(&f, "description"),
    };
    match state.store.create_request(&ctx.actor(), &input).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}?ok=saved", r.id)).into_response()),
        Err(StoreError::Domain(DomainError::Validation(errors))) => {
            form_page(&state, &ctx, input, &errors).await
        }
        Err(StoreError::Domain(DomainError::Conflict(m))) => {
            form_page(&state, &ctx, input, &[FieldError::new("", m)]).await
        }
        Err(e) => Err(e.into()),
    }
}
