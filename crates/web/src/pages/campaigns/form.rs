//! `GET /campaigns/new` and `POST /campaigns`: the campaign form.

use super::{Errors, Fields, Opt, kind_label, respond};
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use unyo_domain::campaign::{CampaignInput, GoalKind, TargetMode};
use unyo_domain::registry::TerminalKind;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::registry::{ListQuery, Status};

/// Controls of the form, for links from the error summary.
const FORM_FIELDS: &[&str] = &[
    "title",
    "goal_type",
    "name_pattern",
    "app_min_version",
    "product_pattern",
    "av_min_version",
    "min_date",
    "min_build",
    "description",
    "target",
    "kind",
    "site_ids",
    "terminal_ids",
];

/// What was typed (kept as typed when the form comes back with errors).
#[derive(Debug, Clone, Default)]
pub(super) struct Values {
    pub title: String,
    pub goal_type: String,
    pub name_pattern: String,
    pub app_min_version: String,
    pub product_pattern: String,
    pub av_min_version: String,
    pub min_date: String,
    pub min_build: String,
    pub description: String,
    pub target: String,
    pub kind: String,
    pub site_ids: Vec<i64>,
    pub terminal_ids: Vec<i64>,
    pub staged: bool,
    pub witness_required: bool,
}

impl Values {
    fn from_fields(f: &Fields) -> Values {
        Values {
            title: f.get("title"),
            goal_type: f.get("goal_type"),
            name_pattern: f.get("name_pattern"),
            app_min_version: f.get("app_min_version"),
            product_pattern: f.get("product_pattern"),
            av_min_version: f.get("av_min_version"),
            min_date: f.get("min_date"),
            min_build: f.get("min_build"),
            description: f.get("description"),
            target: f.get("target"),
            kind: f.get("kind"),
            site_ids: f.ids("site_ids"),
            terminal_ids: f.ids("terminal_ids"),
            staged: f.flag("staged"),
            witness_required: f.flag("witness_required"),
        }
    }

    fn is_app(&self) -> bool {
        GoalKind::parse(&self.goal_type) == Some(GoalKind::App)
    }

    fn input(&self) -> CampaignInput {
        CampaignInput {
            title: self.title.clone(),
            goal_type: self.goal_type.clone(),
            name_pattern: self.name_pattern.clone(),
            product_pattern: self.product_pattern.clone(),
            min_version: if self.is_app() {
                self.app_min_version.clone()
            } else {
                self.av_min_version.clone()
            },
            min_date: self.min_date.clone(),
            min_build: self.min_build.clone(),
            description: self.description.clone(),
            target: self.target.clone(),
            kind: self.kind.clone(),
            site_ids: self.site_ids.clone(),
            terminal_ids: self.terminal_ids.clone(),
            staged: self.staged,
            witness_required: self.witness_required,
        }
    }

    /// The domain's `min_version` error belongs to the control of the chosen goal type.
    fn own_field(&self, mut e: FieldError) -> FieldError {
        if e.field == "min_version" {
            e.field = if self.is_app() {
                "app_min_version".into()
            } else {
                "av_min_version".into()
            };
        }
        e
    }
}

/// A labelled group of checkboxes (terminals by site).
pub(super) struct Group {
    pub label: String,
    pub items: Vec<Opt>,
}

#[derive(askama::Template)]
#[template(path = "campaigns_form.html")]
struct FormPage {
    page: PageMeta,
    v: Values,
    goal_types: Vec<Opt>,
    targets: Vec<Opt>,
    kinds: Vec<Opt>,
    sites: Vec<Opt>,
    terminals: Vec<Group>,
    errors: Errors,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    v: Values,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let goal_types = GoalKind::ALL
        .iter()
        .map(|k| {
            let label = match k {
                GoalKind::App => tr.t("campaign.goal_app"),
                GoalKind::Antivirus => tr.t("campaign.goal_av"),
                GoalKind::OsBuild => tr.t("campaign.goal_os"),
                GoalKind::FreeTask => tr.t("campaign.goal_free"),
            };
            Opt::new(k.code(), label, v.goal_type == k.code())
        })
        .collect();
    let targets = TargetMode::ALL
        .iter()
        .map(|m| {
            let label = match m {
                TargetMode::All => tr.t("campaign.target_all"),
                TargetMode::Kind => tr.t("campaign.target_kind"),
                TargetMode::Sites => tr.t("campaign.target_sites"),
                TargetMode::Terminals => tr.t("campaign.target_terminals"),
            };
            Opt::new(m.code(), label, v.target == m.code())
        })
        .collect();
    let kinds = TerminalKind::ALL
        .iter()
        .map(|k| {
            Opt::new(
                k.code(),
                tr.pick(k.label_ja(), k.label_en()),
                v.kind == k.code(),
            )
        })
        .collect();
    let sites = state.store.all_sites().await?;
    let site_opts = sites
        .iter()
        .map(|s| {
            Opt::new(
                s.id.to_string(),
                format!("{}（{}）", s.name, s.code),
                v.site_ids.contains(&s.id),
            )
        })
        .collect();
    let terminals = state
        .store
        .terminals(&ListQuery {
            status: Some(Status::Active),
            per_page: Some(500),
            sort: Some("site".into()),
            ..Default::default()
        })
        .await?
        .items;
    let mut groups: Vec<Group> = Vec::new();
    for t in &terminals {
        let opt = Opt::new(
            t.id.to_string(),
            format!("{}（{}）", t.hostname, kind_label(tr, &t.kind)),
            v.terminal_ids.contains(&t.id),
        );
        match groups.last_mut() {
            Some(g) if g.label == t.site_name => g.items.push(opt),
            _ => groups.push(Group {
                label: t.site_name.clone(),
                items: vec![opt],
            }),
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let errors = errors.into_iter().map(|e| v.own_field(e)).collect();
    let view = FormPage {
        page: ctx.page(tr.t("campaign.new"), "campaigns"),
        v,
        goal_types,
        targets,
        kinds,
        sites: site_opts,
        terminals: groups,
        errors: Errors::new(errors, FORM_FIELDS, ""),
    };
    respond(status, &view)
}

/// `GET /campaigns/new`: an antivirus campaign for every terminal, representative first.
pub(super) async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageCampaigns)?;
    let v = Values {
        goal_type: GoalKind::Antivirus.code().into(),
        product_pattern: "Windows Defender".into(),
        target: TargetMode::All.code().into(),
        kind: TerminalKind::Business.code().into(),
        staged: true,
        ..Default::default()
    };
    form_page(&state, &ctx, v, Vec::new()).await
}

/// `POST /campaigns`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageCampaigns)?;
    let v = Values::from_fields(&Fields(f));
    match state.store.create_campaign(&ctx.actor(), &v.input()).await {
        Ok(c) => Ok(Redirect::to(&format!("/campaigns/{}?ok=saved", c.id)).into_response()),
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            form_page(&state, &ctx, v, fields).await
        }
        Err(StoreError::Domain(DomainError::Conflict(m))) => {
            form_page(&state, &ctx, v, vec![FieldError::new("", m)]).await
        }
        Err(e) => Err(e.into()),
    }
}
