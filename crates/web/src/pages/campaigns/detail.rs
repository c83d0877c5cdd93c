//! `GET /campaigns/{id}` and its forms: attest (SE), exclude, confirm a witness (prefecture), close.

use super::list::{ProgressView, progress_view};
use super::{
    Badge, Errors, Opt, evidence_badge, kind_label, opt_id, parse_id, respond, status_badge,
};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use unyo_domain::campaign::{AttestInput, ExcludeInput, TargetSpec, TargetStatus};
use unyo_domain::registry::TerminalKind;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::campaigns::{CampaignDetail, CampaignTarget, inventory_actor};

const BASE: &str = "/campaigns";

/// What went wrong with the last POST, if anything.
#[derive(Default)]
pub(super) struct Outcome {
    status: Option<StatusCode>,
    /// `attest`, `exclude`, `witness`, `close`.
    form: String,
    refusal: String,
    errors: Vec<FieldError>,
    terminal_id: Option<i64>,
    attest: AttestInput,
    reason: String,
}

/// A property row.
pub(super) struct Prop {
    pub label: String,
    pub text: String,
    pub badge: Option<Badge>,
}

fn prop(label: &str, text: impl Into<String>) -> Prop {
    Prop {
        label: label.to_string(),
        text: text.into(),
        badge: None,
    }
}

/// What the latest inventory says, next to a target.
pub(super) struct LatestView {
    pub href: String,
    pub when: String,
    pub observed: String,
    pub reason: String,
    pub met: bool,
    pub after_start: bool,
}

pub(super) struct TargetView {
    pub terminal_id: i64,
    pub hostname: String,
    pub inventory_href: String,
    pub site: String,
    pub kind: String,
    pub representative: bool,
    pub retired: bool,
    pub status: Badge,
    pub evidence: Option<Badge>,
    pub observed: String,
    pub proof_href: Option<String>,
    pub reason: String,
    pub note: String,
    pub work: Option<(String, String)>,
    pub witness: String,
    pub witness_confirmed: bool,
    pub can_confirm_witness: bool,
    pub latest: Option<LatestView>,
    pub no_inventory: bool,
    pub record_href: String,
}

pub(super) struct StageView {
    pub title: String,
    pub id: String,
    pub waiting: bool,
    pub targets: Vec<TargetView>,
}

pub(super) struct HistoryRow {
    pub when: String,
    pub who: String,
    pub what: String,
}

#[derive(askama::Template)]
#[template(path = "campaigns_detail.html")]
struct DetailPage {
    page: PageMeta,
    id: i64,
    open: bool,
    props: Vec<Prop>,
    progress: ProgressView,
    description: Vec<String>,
    stages: Vec<StageView>,
    verified_now: String,
    refusal: String,
    errors: Errors,
    form: String,
    terminal_opts: Vec<Opt>,
    attest_statuses: Vec<Opt>,
    attest: AttestInput,
    work_entry_id: String,
    reason: String,
    witness_required: bool,
    can_attest: bool,
    can_manage: bool,
    history: Vec<HistoryRow>,
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

fn target_text(tr: Tr, d: &CampaignDetail, sites: &[(i64, String)]) -> String {
    let n = d.targets.len();
    let count = if tr.is_ja() {
        format!("（{n}台）")
    } else {
        format!(" ({n})")
    };
    let what = match &d.campaign.target {
        TargetSpec::All => tr.t("campaign.target_all").to_string(),
        TargetSpec::Kind { kind } => format!(
            "{}: {}",
            tr.t("campaign.target_kind"),
            tr.pick(kind.label_ja(), kind.label_en())
        ),
        TargetSpec::Sites { site_ids } => format!(
            "{}: {}",
            tr.t("campaign.target_sites"),
            site_ids
                .iter()
                .map(|id| sites
                    .iter()
                    .find(|s| s.0 == *id)
                    .map(|s| s.1.clone())
                    .unwrap_or_else(|| format!("#{id}")))
                .collect::<Vec<_>>()
                .join("、")
        ),
        TargetSpec::Terminals { .. } => tr.t("campaign.target_terminals").to_string(),
    };
    format!("{what}{count}")
}

fn target_view(
    tr: Tr,
    page: &PageMeta,
    id: i64,
    t: &CampaignTarget,
    open: bool,
    can_witness: bool,
) -> TargetView {
    let status = t.status();
    let evidence = match status {
        TargetStatus::Done | TargetStatus::Failed => t.evidence().map(|e| evidence_badge(tr, e)),
        _ => None,
    };
    let inventory_href = format!("/inventory/terminals/{}", t.terminal_id);
    // Agent evidence links to the very inventory that proved it; an attestation never does.
    let proof_href = if t.agent_verified() {
        Some(inventory_href.clone())
    } else {
        None
    };
    let latest = t.latest.as_ref().map(|l| LatestView {
        href: inventory_href.clone(),
        when: page.datetime(&l.received_at),
        observed: l.check.observed.clone(),
        reason: l.check.reason.clone(),
        met: l.check.met,
        after_start: l.after_start,
    });
    let attested_done = status == TargetStatus::Done
        && t.evidence() == Some(unyo_domain::campaign::Evidence::Attested);
    TargetView {
        terminal_id: t.terminal_id,
        hostname: t.hostname.clone(),
        inventory_href,
        site: t.site_name.clone(),
        kind: kind_label(tr, &t.kind),
        representative: TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative),
        retired: t.retired_at.is_some(),
        status: status_badge(tr, status),
        evidence,
        observed: t.observed.clone(),
        proof_href,
        reason: t.reason.clone(),
        note: t.note.clone(),
        work: t.work_entry_id.map(|w| {
            (
                format!("/work/{w}"),
                if tr.is_ja() {
                    format!("作業記録 {w}")
                } else {
                    format!("Work entry {w}")
                },
            )
        }),
        witness: t.witness.clone(),
        witness_confirmed: t.witness_confirmed_by.is_some(),
        can_confirm_witness: open
            && can_witness
            && attested_done
            && t.witness_confirmed_by.is_none(),
        no_inventory: t.latest.is_none()
            && matches!(status, TargetStatus::Pending | TargetStatus::Failed),
        latest: if matches!(status, TargetStatus::Pending | TargetStatus::Failed) {
            latest
        } else {
            None
        },
        record_href: format!("{BASE}/{id}?t={}#attest", t.terminal_id),
    }
}

/// A line of the campaign's audit history.
fn history_line(tr: Tr, action: &str, details: &Value) -> String {
    let host = details
        .get("hostname")
        .and_then(Value::as_str)
        .unwrap_or("");
    let to = details
        .get("to")
        .and_then(Value::as_str)
        .and_then(TargetStatus::parse)
        .map(|s| tr.pick(s.label_ja(), s.label_en()).to_string())
        .unwrap_or_default();
    let label = match action {
        "campaign.create" => tr.pick("登録", "Created"),
        "campaign.auto_verify" => tr.pick("エージェント確認", "Verified by agent"),
        "campaign.attest" => tr.pick("SE申告", "Attested"),
        "campaign.exclude" => tr.pick("対象外", "Excluded"),
        "campaign.witness" => tr.pick("立会い確認", "Witness confirmed"),
        "campaign.close" => tr.pick("完了", "Closed"),
        other => other,
    };
    let mut out = label.to_string();
    if !host.is_empty() {
        out.push_str(&format!(" {host}"));
    }
    if !to.is_empty() && action != "campaign.auto_verify" {
        out.push_str(&format!(" → {to}"));
    }
    for key in ["observed", "reason", "note", "witness"] {
        if let Some(v) = details
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            out.push_str(&format!("（{v}）"));
        }
    }
    if let Some(w) = details.get("work_entry_id").and_then(Value::as_i64) {
        out.push_str(&if tr.is_ja() {
            format!(" 作業記録 {w}")
        } else {
            format!(" work entry {w}")
        });
    }
    out
}

/// `?ok=…&t=…`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DetailQuery {
    pub ok: String,
    pub t: String,
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &DetailQuery,
    o: Outcome,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    // Inventories first: a target an inventory proves is shown 実施済 (エージェント確認) at once.
    let verified = state
        .store
        .refresh_campaign_from_inventories(&inventory_actor(), id)
        .await?;
    let d = state.store.campaign(id).await?;
    let c = &d.campaign;
    let role = ctx.user.role();
    let open = c.is_open();
    let can_attest = open && role.allows(Action::AttestCampaign);
    let can_manage = open && role.allows(Action::ManageCampaigns);
    let can_witness = role.allows(Action::WitnessCampaign);
    let page = ctx
        .page(format!("{} {}", c.number, c.title), "campaigns")
        .with_flash(Some(q.ok.as_str()).filter(|s| !s.is_empty()));
    let sites: Vec<(i64, String)> = state
        .store
        .site_options()
        .await?
        .into_iter()
        .map(|(id, _, name)| (id, name))
        .collect();
    let status = c.status();
    let mut props = vec![
        prop(tr.t("campaign.number"), &c.number),
        prop(tr.t("campaign.subject"), &c.title),
        prop(
            tr.t("campaign.goal"),
            if tr.is_ja() {
                c.goal.summary_ja()
            } else {
                c.goal.summary_en()
            },
        ),
        prop(tr.t("campaign.targets"), target_text(tr, &d, &sites)),
        Prop {
            badge: Some(Badge {
                class: if open {
                    "badge badge-warn"
                } else {
                    "badge badge-active"
                },
                icon: if open { "…" } else { "✔" },
                text: tr.pick(status.label_ja(), status.label_en()).to_string(),
            }),
            ..prop(tr.t("common.status"), "")
        },
        prop(tr.t("campaign.started"), page.datetime(&c.started_at)),
        prop(tr.t("campaign.created_by"), &c.created_by_name),
    ];
    if c.staged {
        props.push(prop(tr.t("campaign.options"), tr.t("campaign.staged")));
    }
    if c.witness_required {
        props.push(prop(
            tr.t("campaign.options"),
            tr.t("campaign.witness_required"),
        ));
    }
    if let Some(at) = &c.closed_at {
        props.push(prop(
            tr.t("campaign.closed_at"),
            format!(
                "{}（{}）",
                page.datetime(at),
                c.closed_by.clone().unwrap_or_default()
            ),
        ));
    }
    let views: Vec<(i64, TargetView)> = d
        .targets
        .iter()
        .map(|t| (t.stage, target_view(tr, &page, id, t, open, can_witness)))
        .collect();
    let stage1_open = d.targets.iter().any(|t| {
        t.stage == 1 && !matches!(t.status(), TargetStatus::Done | TargetStatus::Excluded)
    });
    let mut stages = Vec::new();
    let (first, second): (Vec<_>, Vec<_>) = views.into_iter().partition(|(s, _)| *s <= 1);
    if c.staged {
        stages.push(StageView {
            title: tr.t("campaign.stage1").to_string(),
            id: "stage-1".into(),
            waiting: false,
            targets: first.into_iter().map(|(_, v)| v).collect(),
        });
        stages.push(StageView {
            title: tr.t("campaign.stage2").to_string(),
            id: "stage-2".into(),
            waiting: open && stage1_open,
            targets: second.into_iter().map(|(_, v)| v).collect(),
        });
    } else {
        stages.push(StageView {
            title: tr.t("campaign.all_targets").to_string(),
            id: "targets".into(),
            waiting: false,
            targets: first.into_iter().chain(second).map(|(_, v)| v).collect(),
        });
    }
    let selected = o.terminal_id.or_else(|| opt_id(&q.t));
    let terminal_opts = d
        .targets
        .iter()
        .map(|t| {
            let status = t.status();
            Opt::new(
                t.terminal_id.to_string(),
                format!(
                    "{}（{}・{}）",
                    t.hostname,
                    t.site_name,
                    tr.pick(status.label_ja(), status.label_en())
                ),
                selected == Some(t.terminal_id),
            )
        })
        .collect();
    let attest_statuses = [
        TargetStatus::Done,
        TargetStatus::Failed,
        TargetStatus::Pending,
    ]
    .iter()
    .map(|s| {
        Opt::new(
            s.code(),
            tr.pick(s.label_ja(), s.label_en()),
            o.attest.status == s.code(),
        )
    })
    .collect();
    let history = state
        .store
        .history("campaign", id)
        .await?
        .into_iter()
        .map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            HistoryRow {
                when: page.datetime(&e.at),
                who: e.actor.clone(),
                what: history_line(tr, &e.action, &details),
            }
        })
        .collect();
    let prefix = match o.form.as_str() {
        "exclude" => "exclude-",
        _ => "attest-",
    };
    let known: &[&str] = &[
        "terminal_id",
        "status",
        "work_entry_id",
        "witness",
        "note",
        "reason",
    ];
    let view = DetailPage {
        id,
        open,
        progress: progress_view(tr, &d.progress),
        description: lines(&c.description),
        stages,
        verified_now: if verified.is_empty() {
            String::new()
        } else {
            tr.t("campaign.verified_now")
                .replace("{n}", &verified.len().to_string())
        },
        refusal: o.refusal.clone(),
        errors: Errors::new(o.errors.clone(), known, prefix),
        form: o.form.clone(),
        terminal_opts,
        attest_statuses,
        work_entry_id: o
            .attest
            .work_entry_id
            .map(|w| w.to_string())
            .unwrap_or_default(),
        attest: o.attest,
        reason: o.reason,
        witness_required: c.witness_required,
        can_attest,
        can_manage,
        history,
        props,
        page,
    };
    respond(o.status.unwrap_or(StatusCode::OK), &view)
}

/// `GET /campaigns/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let id = parse_id(&id)?;
    detail_page(&state, &ctx, id, &q, Outcome::default()).await
}

/// Turns a refused write into the page with the reason (422 / 409 / 403); other failures stay errors.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    mut o: Outcome,
    e: StoreError,
) -> Result<Response, WebError> {
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => {
            o.errors = fields;
            o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        }
        StoreError::Domain(DomainError::Conflict(m)) => {
            o.refusal = m;
            o.status = Some(StatusCode::CONFLICT);
        }
        StoreError::Domain(DomainError::Forbidden) => {
            o.refusal = ctx.tr.t("error.forbidden").to_string();
            o.status = Some(StatusCode::FORBIDDEN);
        }
        other => return Err(other.into()),
    }
    detail_page(state, ctx, id, &DetailQuery::default(), o).await
}

fn saved(id: i64, terminal: Option<i64>) -> Response {
    let anchor = terminal.map(|t| format!("#t-{t}")).unwrap_or_default();
    Redirect::to(&format!("{BASE}/{id}?ok=saved{anchor}")).into_response()
}

/// The attest form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AttestForm {
    pub terminal_id: String,
    pub status: String,
    pub work_entry_id: String,
    pub witness: String,
    pub note: String,
}

/// `POST /campaigns/{id}/attest`.
pub(super) async fn attest(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AttestForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let id = parse_id(&id)?;
    let terminal = opt_id(&f.terminal_id);
    let work = f.work_entry_id.trim();
    let input = AttestInput {
        status: f.status.clone(),
        work_entry_id: opt_id(work),
        witness: f.witness.clone(),
        note: f.note.clone(),
    };
    let mut o = Outcome {
        form: "attest".into(),
        terminal_id: terminal,
        attest: input.clone(),
        ..Default::default()
    };
    let Some(tid) = terminal else {
        o.errors = vec![FieldError::new("terminal_id", "端末を選択してください。")];
        o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        return detail_page(&state, &ctx, id, &DetailQuery::default(), o).await;
    };
    if !work.is_empty() && input.work_entry_id.is_none() {
        o.errors = vec![FieldError::new(
            "work_entry_id",
            "作業記録の番号は数字で入力してください。",
        )];
        o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        return detail_page(&state, &ctx, id, &DetailQuery::default(), o).await;
    }
    match state
        .store
        .attest_target(&ctx.actor(), id, tid, &input)
        .await
    {
        Ok(_) => Ok(saved(id, Some(tid))),
        Err(StoreError::Domain(DomainError::NotFound(_))) => {
            o.errors = vec![FieldError::new(
                "terminal_id",
                "選択された端末はこの展開の対象ではありません。",
            )];
            o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
            detail_page(&state, &ctx, id, &DetailQuery::default(), o).await
        }
        Err(e) => refused(&state, &ctx, id, o, e).await,
    }
}

/// The exclude form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ExcludeForm {
    pub terminal_id: String,
    pub reason: String,
}

/// `POST /campaigns/{id}/exclude`.
pub(super) async fn exclude(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ExcludeForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let id = parse_id(&id)?;
    let terminal = opt_id(&f.terminal_id);
    let mut o = Outcome {
        form: "exclude".into(),
        terminal_id: terminal,
        reason: f.reason.clone(),
        ..Default::default()
    };
    let Some(tid) = terminal else {
        o.errors = vec![FieldError::new("terminal_id", "端末を選択してください。")];
        o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        return detail_page(&state, &ctx, id, &DetailQuery::default(), o).await;
    };
    match state
        .store
        .exclude_target(
            &ctx.actor(),
            id,
            tid,
            &ExcludeInput {
                reason: f.reason.clone(),
            },
        )
        .await
    {
        Ok(_) => Ok(saved(id, Some(tid))),
        Err(e) => refused(&state, &ctx, id, o, e).await,
    }
}

/// The witness form: just the terminal.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct WitnessForm {
    pub terminal_id: String,
}

/// `POST /campaigns/{id}/witness`.
pub(super) async fn witness(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<WitnessForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let id = parse_id(&id)?;
    let tid = opt_id(&f.terminal_id).ok_or(WebError::NotFound)?;
    let o = Outcome {
        form: "witness".into(),
        terminal_id: Some(tid),
        ..Default::default()
    };
    match state.store.confirm_witness(&ctx.actor(), id, tid).await {
        Ok(_) => Ok(saved(id, Some(tid))),
        Err(e) => refused(&state, &ctx, id, o, e).await,
    }
}

/// `POST /campaigns/{id}/close`: 完了 is final, so the form first shows what closing records (unless it
/// says `confirmed=1`); a campaign that may not close yet is refused with the reason either way.
pub(super) async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let id = parse_id(&id)?;
    let o = Outcome {
        form: "close".into(),
        ..Default::default()
    };
    if !crate::confirm::confirmed(&f) {
        let c = state.store.campaign(id).await?;
        if ctx.user.role().allows(Action::ManageCampaigns)
            && unyo_domain::campaign::check_close(&c.progress).is_ok()
        {
            let tr = ctx.tr;
            let p = &c.progress;
            return crate::confirm::ConfirmStep {
                page: ctx.page(
                    format!("{}　{}", c.campaign.number, tr.t("campaign.close_confirm")),
                    "campaigns",
                ),
                heading: format!("{} {}", c.campaign.number, c.campaign.title),
                facts: vec![(
                    tr.t("campaign.progress").to_string(),
                    tr.pick(&p.label_ja(), &p.label_en()).to_string(),
                )],
                paragraphs: vec![tr.t("campaign.close_confirm_text").to_string()],
                action: format!("/campaigns/{id}/close"),
                hidden: crate::confirm::carried(&f),
                button: tr.t("campaign.close").to_string(),
                cancel_href: format!("/campaigns/{id}"),
            }
            .respond();
        }
    }
    match state.store.close_campaign(&ctx.actor(), id).await {
        Ok(_) => Ok(saved(id, None)),
        Err(e) => refused(&state, &ctx, id, o, e).await,
    }
}
