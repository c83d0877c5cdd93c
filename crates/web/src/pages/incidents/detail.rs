//! `GET /incidents/{id}`: the header (number, stage, severity, the six times in 和暦 with MTTA/MTTR), the
//! affected items, the timeline by stage (author, time, text, guidance, witness record, linked work with
//! hours), and the forms the person's role may use now: stage changes (`POST …/transitions`), a timeline
//! entry (`POST …/entries`), the witness (`POST …/witness`), resolution by a known error
//! (`POST …/resolve`) and, once closed, 「既知の障害として登録」 (`POST …/known-error`).
//!
//! A refused POST re-renders the page with the reason and the form as sent: 422 for missing or wrong input
//! (per field, with a summary), 409 for a move the stage does not allow — closing without a witness says
//! the domain's `WITNESS_REQUIRED_MESSAGE` —, 403 for a role that may not do it. Nothing changes then.

use super::{
    Badge, ErrorItem, OkQuery, Opt, age_label, duration_text, field_error, ids_of, keep_together,
    lines, now_value, one_of, opt_id, parse_id, respond, severity_badge, source_label, stage_badge,
    stage_label,
};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use unyo_domain::connectivity::TargetKind;
use unyo_domain::incident::{
    EntryInput, EntryKind, IncidentAction, IncidentStage, IncidentTransitionInput, WitnessInput,
    available_actions, check_entry_stage,
};
use unyo_domain::registry::TerminalKind;
use unyo_domain::support::{Category, hours_label};
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::incidents::{IncidentDetail, IncidentEntry, KnownErrorQuery};
use unyo_store::support::{WorkQuery, WorkRow};

/// One property of the summary.
pub(super) struct Prop {
    pub label: String,
    pub text: String,
    pub href: String,
    pub badges: Vec<Badge>,
    pub class: &'static str,
}

impl Prop {
    fn new(label: &str, text: impl Into<String>) -> Prop {
        Prop {
            label: label.to_string(),
            text: text.into(),
            href: String::new(),
            badges: Vec::new(),
            class: "",
        }
    }
}

/// A link with a label (and a note after it).
pub(super) struct Link {
    pub text: String,
    pub href: String,
    pub note: String,
    pub badge: Option<Badge>,
}

/// One of the times.
pub(super) struct TimeRow {
    pub label: String,
    pub value: String,
}

/// A linked work entry on the timeline.
pub(super) struct WorkLink {
    pub href: String,
    pub label: String,
    pub hours: String,
}

/// A witness record.
pub(super) struct WitnessView {
    pub name: String,
    pub org: String,
    pub at: String,
    pub remark: Vec<String>,
}

/// One timeline entry.
pub(super) struct EntryView {
    pub id: i64,
    pub when: String,
    pub kind: String,
    pub kind_code: String,
    pub author: String,
    pub change: String,
    pub text: Vec<String>,
    pub guidance_to: String,
    pub guidance: Vec<String>,
    pub witness: Option<WitnessView>,
    pub work: Vec<WorkLink>,
}

/// Consecutive entries of one stage.
pub(super) struct StageGroup {
    pub badge: Badge,
    pub entries: Vec<EntryView>,
}

/// A work-entry checkbox.
#[derive(Clone)]
pub(super) struct WorkBox {
    pub id: i64,
    pub label: String,
    pub checked: bool,
}

/// A stage-change form the person may use now.
pub(super) struct ActionForm {
    pub action: &'static str,
    pub label: String,
    pub button: &'static str,
    pub comment_label: String,
    pub comment_required: bool,
    pub needs_guidance: bool,
    pub takes_work: bool,
    pub is_close: bool,
    pub at: String,
    pub comment: String,
    pub guidance_to: String,
    pub guidance: String,
    pub works: Vec<WorkBox>,
    pub at_error: String,
    pub comment_error: String,
    pub guidance_to_error: String,
    pub guidance_error: String,
    pub work_error: String,
}

/// The form that adds a timeline entry.
pub(super) struct EntryForm {
    pub kinds: Vec<Opt>,
    pub at: String,
    pub text: String,
    pub guidance_to: String,
    pub guidance: String,
    pub works: Vec<WorkBox>,
    pub kind_error: String,
    pub at_error: String,
    pub text_error: String,
    pub guidance_error: String,
    pub work_error: String,
}

/// The witness form.
pub(super) struct WitnessForm {
    pub name: String,
    pub org: String,
    pub at: String,
    pub remark: String,
    pub name_error: String,
    pub org_error: String,
    pub at_error: String,
    pub remark_error: String,
}

/// A linked work entry in the work table.
pub(super) struct WorkView {
    pub href: String,
    pub date: String,
    pub time: String,
    pub workers: String,
    pub category: String,
    pub hours: String,
}

/// What went wrong with the last POST, if anything.
#[derive(Default)]
pub(super) struct Outcome {
    pub status: Option<StatusCode>,
    /// A refusal (illegal move, forbidden).
    pub refusal: String,
    /// Which form was sent: `action:investigate`, `entry`, `witness`, `resolve`, `known_error`.
    pub form: String,
    pub errors: Vec<FieldError>,
    /// The form as sent.
    pub values: Vec<(String, String)>,
}

impl Outcome {
    fn mine(&self, form: &str) -> bool {
        self.form == form
    }

    fn value(&self, form: &str, key: &str) -> String {
        if self.mine(form) {
            one_of(&self.values, key)
        } else {
            String::new()
        }
    }

    fn error(&self, form: &str, field: &str) -> String {
        if self.mine(form) {
            field_error(&self.errors, field)
        } else {
            String::new()
        }
    }

    fn checked(&self, form: &str) -> Vec<i64> {
        if self.mine(form) {
            ids_of(&self.values, "work_entry_ids")
        } else {
            Vec::new()
        }
    }
}

#[derive(askama::Template)]
#[template(path = "incidents_detail.html")]
struct DetailPage {
    page: PageMeta,
    id: i64,
    stage: Badge,
    props: Vec<Prop>,
    times: Vec<TimeRow>,
    sites: Vec<Link>,
    terminals: Vec<Link>,
    nodes: Vec<Link>,
    description: Vec<String>,
    groups: Vec<StageGroup>,
    work: Vec<WorkView>,
    work_total: String,
    refusal: String,
    errors: Vec<ErrorItem>,
    forms: Vec<ActionForm>,
    entry: Option<EntryForm>,
    witness_form: Option<WitnessForm>,
    awaiting_witness: bool,
    witnessed: bool,
    witness: Option<WitnessView>,
    known_links: Vec<Link>,
    resolve: Vec<Opt>,
    resolve_error: String,
    can_known_error: bool,
}

fn dt(tr: Tr, stored: &str) -> String {
    crate::page::show_datetime(tr, stored)
}

fn dt_opt(tr: Tr, stored: &Option<String>) -> String {
    stored.as_deref().map(|s| dt(tr, s)).unwrap_or_default()
}

fn entry_label(tr: Tr, e: &IncidentEntry) -> String {
    if let Some(a) = e.action.as_deref().and_then(IncidentAction::parse) {
        return tr.pick(a.label_ja(), a.label_en()).to_string();
    }
    e.kind()
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| e.kind.clone())
}

fn work_label(tr: Tr, w: &WorkRow) -> String {
    let date = chrono::NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d")
        .map(|d| {
            if tr.is_ja() {
                unyo_domain::wareki::format_long(d)
            } else {
                d.to_string()
            }
        })
        .unwrap_or_else(|_| w.work_date.clone());
    format!(
        "No.{} {date} {}–{} {}",
        w.id, w.start_time, w.end_time, w.workers
    )
}

fn category_label(tr: Tr, code: &str) -> String {
    Category::parse(code)
        .map(|c| tr.pick(c.label_ja(), c.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn entry_view(tr: Tr, d: &IncidentDetail, e: &IncidentEntry) -> EntryView {
    let change = match (&e.from_stage, &e.to_stage) {
        (Some(f), Some(t)) => format!("{} → {}", stage_label(tr, f), stage_label(tr, t)),
        _ => String::new(),
    };
    let witness = e.witness_name.as_ref().map(|name| WitnessView {
        name: name.clone(),
        org: e.witness_org.clone().unwrap_or_default(),
        at: dt_opt(tr, &e.witnessed_at),
        remark: lines(e.remark.as_deref().unwrap_or_default()),
    });
    let work = e
        .work_ids
        .iter()
        .map(|w| match d.work.iter().find(|x| x.id == *w) {
            Some(x) => WorkLink {
                href: format!("/work/{w}"),
                label: work_label(tr, x),
                hours: hours_label(x.minutes),
            },
            None => WorkLink {
                href: format!("/work/{w}"),
                label: format!("No.{w}"),
                hours: String::new(),
            },
        })
        .collect();
    EntryView {
        id: e.id,
        when: dt(tr, &e.at),
        kind: entry_label(tr, e),
        kind_code: e.kind.clone(),
        author: keep_together(&e.author_name),
        change,
        text: lines(&e.text),
        guidance_to: e.guidance_to.clone(),
        guidance: lines(&e.guidance),
        witness,
        work,
    }
}

/// Entries grouped by stage, in order (a new group whenever the stage changes).
fn groups(tr: Tr, d: &IncidentDetail) -> Vec<StageGroup> {
    let mut out: Vec<(String, StageGroup)> = Vec::new();
    for e in &d.entries {
        let view = entry_view(tr, d, e);
        match out.last_mut() {
            Some((stage, g)) if *stage == e.stage => g.entries.push(view),
            _ => out.push((
                e.stage.clone(),
                StageGroup {
                    badge: stage_badge(tr, &e.stage),
                    entries: vec![view],
                },
            )),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

fn comment_label(tr: Tr, a: IncidentAction) -> (String, bool) {
    let (key, required) = match a {
        IncidentAction::Workaround => ("inc.comment_workaround", true),
        IncidentAction::Recover => ("inc.comment_recover", true),
        IncidentAction::ResumeRecovery => ("inc.comment_resume", true),
        IncidentAction::Reopen => ("inc.comment_reopen", true),
        _ => ("inc.comment", false),
    };
    (tr.t(key).to_string(), required)
}

fn work_boxes(candidates: &[WorkRow], tr: Tr, checked: &[i64]) -> Vec<WorkBox> {
    candidates
        .iter()
        .map(|w| WorkBox {
            id: w.id,
            label: format!(
                "{}（{}、{}{}）",
                work_label(tr, w),
                category_label(tr, &w.category),
                hours_label(w.minutes),
                tr.t("inc.hours_unit")
            ),
            checked: checked.contains(&w.id),
        })
        .collect()
}

fn action_form(tr: Tr, a: IncidentAction, o: &Outcome, candidates: &[WorkRow]) -> ActionForm {
    let key = format!("action:{}", a.code());
    let (comment_label, comment_required) = comment_label(tr, a);
    let takes_work = matches!(a, IncidentAction::Workaround | IncidentAction::Recover);
    ActionForm {
        action: a.code(),
        label: tr.pick(a.label_ja(), a.label_en()).to_string(),
        button: match a {
            IncidentAction::ResumeRecovery | IncidentAction::Reopen => "danger",
            _ => "primary",
        },
        comment_label,
        comment_required,
        needs_guidance: a == IncidentAction::Workaround,
        takes_work,
        is_close: a == IncidentAction::Close,
        at: super::datetime_value(&o.value(&key, "at")),
        comment: o.value(&key, "comment"),
        guidance_to: o.value(&key, "guidance_to"),
        guidance: o.value(&key, "guidance"),
        works: if takes_work {
            work_boxes(candidates, tr, &o.checked(&key))
        } else {
            Vec::new()
        },
        at_error: o.error(&key, "at"),
        comment_error: o.error(&key, "comment"),
        guidance_to_error: o.error(&key, "guidance_to"),
        guidance_error: o.error(&key, "guidance"),
        work_error: o.error(&key, "work_entry_ids"),
    }
}

/// Anchors of the controls of the form `o.form`, for the error summary.
fn anchor(form: &str, field: &str) -> String {
    if let Some(a) = form.strip_prefix("action:") {
        return match field {
            "at" | "comment" | "guidance_to" | "guidance" => format!("#{field}-{a}"),
            "work_entry_ids" => format!("#work-{a}"),
            _ => String::new(),
        };
    }
    match (form, field) {
        ("entry", "kind" | "at" | "text" | "guidance_to" | "guidance") => {
            format!("#entry-{field}")
        }
        ("entry", "work_entry_ids") => "#entry-work".into(),
        ("witness", "witness_name" | "witness_org" | "witnessed_at" | "remark") => {
            format!("#{field}")
        }
        ("resolve", "known_error_id") => "#resolve-known_error_id".into(),
        _ => String::new(),
    }
}

/// Renders the incident page; `o` carries the failure of a POST that brought us here.
pub(super) async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    ok: Option<&str>,
    o: Outcome,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let role = ctx.user.role();
    let d = state.store.incident(id, Utc::now()).await?;
    let i = &d.incident;
    let stage = i.stage().unwrap_or(IncidentStage::Reported);
    let page = ctx
        .page(format!("{} {}", i.number, i.title), "incidents")
        .with_flash(ok);

    let mut props = vec![
        {
            let mut p = Prop::new(tr.t("inc.number"), &i.number);
            p.class = "mono";
            p
        },
        Prop::new(tr.t("inc.subject"), &i.title),
        {
            let mut p = Prop::new(tr.t("inc.stage"), "");
            p.badges.push(stage_badge(tr, &i.stage));
            if i.resolved_by_known_error {
                p.badges.push(Badge {
                    icon: "",
                    class: "badge badge-active",
                    text: tr.t("inc.resolved_by_ke").to_string(),
                });
            }
            p
        },
        {
            let mut p = Prop::new(tr.t("inc.severity"), "");
            p.badges.push(severity_badge(tr, &i.severity));
            p
        },
        Prop::new(tr.t("inc.source"), source_label(tr, &i.source)),
        Prop::new(
            tr.t("inc.reporter"),
            format!("{}（{}）", i.created_by_name, dt(tr, &i.created_at)),
        ),
    ];
    if let (Some(k), Some(n)) = (i.known_error_id, &i.known_error_number) {
        let mut p = Prop::new(tr.t("inc.known_error"), n);
        p.href = format!("/known-errors/{k}");
        props.push(p);
    }
    if let Some(key) = &i.probable_cause {
        // The engine's key names a node or terminal by id: say which, by name; other keys as typed.
        let named = unyo_domain::incident::unreachable_target(key).and_then(|(kind, id)| {
            let name = match kind {
                TargetKind::Node => d.nodes.iter().find(|n| n.id == id).map(|n| n.name.clone()),
                TargetKind::Terminal => d
                    .terminals
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.hostname.clone()),
            }?;
            let (ja, en) = (
                format!("{name} への疎通不可（疎通監視の自動検知）"),
                format!("{name} unreachable (detected by connectivity monitoring)"),
            );
            Some(tr.pick(&ja, &en).to_string())
        });
        let p = match named {
            Some(text) => Prop::new(tr.t("inc.probable_cause_named"), text),
            None => {
                let mut p = Prop::new(tr.t("inc.probable_cause"), key);
                p.class = "mono";
                p
            }
        };
        props.push(p);
    }
    if i.reopen_count > 0 {
        props.push(Prop::new(tr.t("inc.reopened"), i.reopen_count.to_string()));
    }

    let mut times: Vec<TimeRow> = [
        ("inc.occurred", Some(i.occurred_at.clone())),
        ("inc.noticed", Some(i.noticed_at.clone())),
        ("inc.first_response", i.first_response_at.clone()),
        ("inc.workaround_at", i.workaround_at.clone()),
        ("inc.recovered", i.recovered_at.clone()),
        ("inc.closed", i.closed_at.clone()),
    ]
    .into_iter()
    .map(|(k, v)| TimeRow {
        label: tr.t(k).to_string(),
        value: dt_opt(tr, &v),
    })
    .collect();
    times.push(TimeRow {
        label: tr.t("inc.mtta").to_string(),
        value: duration_text(tr, i.mtta_minutes),
    });
    times.push(TimeRow {
        label: tr.t("inc.mttr").to_string(),
        value: duration_text(tr, i.mttr_minutes),
    });
    times.push(TimeRow {
        label: if stage.is_open() {
            tr.t("inc.age_open")
        } else {
            tr.t("inc.age_closed")
        }
        .to_string(),
        value: age_label(tr, i.age_minutes),
    });

    let noticed_day = from_storage(&i.noticed_at)
        .map(|t| to_jst(t).date().format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let can_work = role.allows(Action::WorkIncident);
    let candidates: Vec<WorkRow> = if can_work && stage.is_open() {
        state
            .store
            .work_entries(&WorkQuery {
                from: Some(noticed_day),
                per_page: Some(100),
                ..Default::default()
            })
            .await?
            .items
            .into_iter()
            .filter(|w| !d.work.iter().any(|x| x.id == w.id))
            .collect()
    } else {
        Vec::new()
    };

    let forms: Vec<ActionForm> = available_actions(stage, role)
        .into_iter()
        .map(|a| action_form(tr, a, &o, &candidates))
        .collect();

    let kinds: Vec<EntryKind> = EntryKind::USER_KINDS
        .iter()
        .copied()
        .filter(|k| role.allows(k.permission()) && check_entry_stage(*k, stage).is_ok())
        .collect();
    let entry = (!kinds.is_empty()).then(|| {
        let chosen = o.value("entry", "kind");
        let default_kind = if chosen.is_empty() {
            kinds[0].code().to_string()
        } else {
            chosen
        };
        EntryForm {
            kinds: kinds
                .iter()
                .map(|k| {
                    Opt::new(
                        k.code(),
                        tr.pick(k.label_ja(), k.label_en()),
                        k.code() == default_kind,
                    )
                })
                .collect(),
            at: super::datetime_value(&o.value("entry", "at")),
            text: o.value("entry", "text"),
            guidance_to: o.value("entry", "guidance_to"),
            guidance: o.value("entry", "guidance"),
            works: if can_work {
                work_boxes(&candidates, tr, &o.checked("entry"))
            } else {
                Vec::new()
            },
            kind_error: o.error("entry", "kind"),
            at_error: o.error("entry", "at"),
            text_error: o.error("entry", "text"),
            guidance_error: [
                o.error("entry", "guidance_to"),
                o.error("entry", "guidance"),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
            work_error: o.error("entry", "work_entry_ids"),
        }
    });

    let awaiting_witness = stage == IncidentStage::Recovered;
    let witnessed = i.witnessed();
    let witness_form = (awaiting_witness && role.allows(Action::WitnessRecovery) && !witnessed)
        .then(|| {
            let at = o.value("witness", "witnessed_at");
            WitnessForm {
                name: o.value("witness", "witness_name"),
                org: o.value("witness", "witness_org"),
                at: if o.mine("witness") {
                    super::datetime_value(&at)
                } else {
                    now_value()
                },
                remark: o.value("witness", "remark"),
                name_error: o.error("witness", "witness_name"),
                org_error: o.error("witness", "witness_org"),
                at_error: o.error("witness", "witnessed_at"),
                remark_error: o.error("witness", "remark"),
            }
        });
    let witness = d
        .witness
        .as_ref()
        .and_then(|w| entry_view(tr, &d, w).witness);

    let resolve = if can_work && stage.is_open() {
        let chosen = opt_id(&o.value("resolve", "known_error_id"));
        state
            .store
            .known_errors(&KnownErrorQuery {
                per_page: Some(500),
                ..Default::default()
            })
            .await?
            .items
            .iter()
            .map(|k| {
                Opt::new(
                    k.id.to_string(),
                    format!("{} {}", k.number, k.title),
                    chosen.or(i.known_error_id) == Some(k.id),
                )
            })
            .collect()
    } else {
        Vec::new()
    };

    let errors = o
        .errors
        .iter()
        .map(|e| ErrorItem {
            href: anchor(&o.form, &e.field),
            message: e.message.clone(),
        })
        .collect();
    let work_total = hours_label(d.work_minutes);
    let work = d
        .work
        .iter()
        .map(|w| WorkView {
            href: format!("/work/{}", w.id),
            date: chrono::NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d")
                .map(|x| {
                    if tr.is_ja() {
                        unyo_domain::wareki::format_long(x)
                    } else {
                        x.to_string()
                    }
                })
                .unwrap_or_else(|_| w.work_date.clone()),
            time: format!("{}–{}", w.start_time, w.end_time),
            workers: w.workers.clone(),
            category: category_label(tr, &w.category),
            hours: hours_label(w.minutes),
        })
        .collect();
    let view = DetailPage {
        id,
        stage: stage_badge(tr, &i.stage),
        props,
        times,
        sites: d
            .sites
            .iter()
            .map(|s| Link {
                text: s.name.clone(),
                href: format!("/sites/{}", s.id),
                note: String::new(),
                badge: None,
            })
            .collect(),
        terminals: d
            .terminals
            .iter()
            .map(|t| Link {
                text: t.hostname.clone(),
                href: format!("/terminals/{}", t.id),
                note: t.site_name.clone(),
                badge: (TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative)).then(
                    || Badge {
                        icon: "",
                        class: "badge badge-rep",
                        text: tr.t("requests.representative").to_string(),
                    },
                ),
            })
            .collect(),
        nodes: d
            .nodes
            .iter()
            .map(|n| Link {
                text: n.name.clone(),
                href: format!("/nodes/{}", n.id),
                note: String::new(),
                badge: None,
            })
            .collect(),
        description: lines(&i.description),
        groups: groups(tr, &d),
        work,
        work_total,
        refusal: o.refusal.clone(),
        errors,
        forms,
        entry,
        witness_form,
        awaiting_witness,
        witnessed,
        witness,
        known_links: d
            .known_errors
            .iter()
            .map(|k| Link {
                text: format!("{} {}", k.number, k.title),
                href: format!("/known-errors/{}", k.id),
                note: String::new(),
                badge: None,
            })
            .collect(),
        resolve,
        resolve_error: o.error("resolve", "known_error_id"),
        can_known_error: stage == IncidentStage::Closed && role.allows(Action::ManageKnownErrors),
        page,
    };
    let status = o.status.unwrap_or(StatusCode::OK);
    respond(status, &view)
}

/// `GET /incidents/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let ok = Some(ok.ok.as_str()).filter(|s| !s.is_empty());
    detail_page(&state, &ctx, id, ok, Outcome::default()).await
}

/// Re-renders the page after a refused POST (or fails for anything a person cannot fix).
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    form: String,
    values: Vec<(String, String)>,
    e: StoreError,
) -> Result<Response, WebError> {
    let mut o = Outcome {
        form,
        values,
        ..Default::default()
    };
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => {
            o.errors = fields;
            o.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        }
        StoreError::Domain(DomainError::Forbidden) => {
            o.refusal = ctx.tr.t("error.forbidden").to_string();
            o.status = Some(StatusCode::FORBIDDEN);
        }
        StoreError::Domain(DomainError::Conflict(m)) => {
            o.refusal = m;
            o.status = Some(StatusCode::CONFLICT);
        }
        other => return Err(other.into()),
    }
    detail_page(state, ctx, id, None, o).await
}

/// An empty time means "now", to the minute (what `<input type="datetime-local">` can show), so that
/// later times typed on the page (the witness) are never before it.
fn or_now(value: String) -> String {
    if value.trim().is_empty() {
        now_value()
    } else {
        value
    }
}

fn saved(id: i64) -> Response {
    Redirect::to(&format!("/incidents/{id}?ok=saved")).into_response()
}

/// `POST /incidents/{id}/transitions` (`action`, `at`, `comment`, `guidance_to`, `guidance`,
/// `work_entry_ids`).
pub(super) async fn transition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let input = IncidentTransitionInput {
        action: one_of(&f, "action").trim().to_string(),
        at: or_now(one_of(&f, "at")),
        comment: one_of(&f, "comment"),
        guidance_to: one_of(&f, "guidance_to"),
        guidance: one_of(&f, "guidance"),
        work_entry_ids: ids_of(&f, "work_entry_ids"),
    };
    match state.store.advance_incident(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(saved(id)),
        Err(e) => {
            let form = format!("action:{}", input.action);
            refused(&state, &ctx, id, form, f, e).await
        }
    }
}

/// `POST /incidents/{id}/entries` (`kind`, `at`, `text`, `guidance_to`, `guidance`, `work_entry_ids`).
pub(super) async fn add_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let input = EntryInput {
        kind: one_of(&f, "kind"),
        at: or_now(one_of(&f, "at")),
        text: one_of(&f, "text"),
        guidance_to: one_of(&f, "guidance_to"),
        guidance: one_of(&f, "guidance"),
        work_entry_ids: ids_of(&f, "work_entry_ids"),
    };
    match state
        .store
        .add_incident_entry(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => Ok(saved(id)),
        Err(e) => refused(&state, &ctx, id, "entry".into(), f, e).await,
    }
}

/// `POST /incidents/{id}/witness` (`witness_name`, `witness_org`, `witnessed_at`, `remark`: all required).
pub(super) async fn witness(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let input = WitnessInput {
        witness_name: one_of(&f, "witness_name"),
        witness_org: one_of(&f, "witness_org"),
        witnessed_at: one_of(&f, "witnessed_at"),
        remark: one_of(&f, "remark"),
    };
    // 立会い is final: a valid form first shows what will be recorded (an invalid one is refused below).
    if !crate::confirm::confirmed(&f)
        && ctx.user.role().allows(Action::WitnessRecovery)
        && let Ok(d) = input.validate(Utc::now())
    {
        let tr = ctx.tr;
        let number = state.store.incident(id, Utc::now()).await?.incident.number;
        let page = ctx.page(
            format!("{number}　{}", tr.t("inc.witness_confirm")),
            "incidents",
        );
        let at = page.datetime(&unyo_domain::time::to_storage(d.witnessed_at));
        return crate::confirm::ConfirmStep {
            heading: tr.t("inc.witness_confirm").to_string(),
            facts: vec![
                (
                    tr.t("inc.witness_name").into(),
                    d.witness_name.as_str().to_string(),
                ),
                (
                    tr.t("inc.witness_org").into(),
                    d.witness_org.as_str().to_string(),
                ),
                (tr.t("inc.witnessed_at").into(), at),
                (tr.t("inc.remark").into(), d.remark.as_str().to_string()),
            ],
            paragraphs: vec![tr.t("inc.witness_confirm_text").to_string()],
            action: format!("/incidents/{id}/witness"),
            hidden: crate::confirm::carried(&f),
            button: tr.t("inc.witness_record").to_string(),
            cancel_href: format!("/incidents/{id}"),
            page,
        }
        .respond();
    }
    match state.store.record_witness(&ctx.actor(), id, &input).await {
        Ok(_) => Ok(saved(id)),
        Err(e) => refused(&state, &ctx, id, "witness".into(), f, e).await,
    }
}

/// `POST /incidents/{id}/resolve` (`known_error_id`).
pub(super) async fn resolve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    let result = match opt_id(&one_of(&f, "known_error_id")) {
        Some(k) => {
            state
                .store
                .resolve_by_known_error(&ctx.actor(), id, k)
                .await
        }
        None => Err(DomainError::invalid(
            "known_error_id",
            if ctx.tr.is_ja() {
                "既知の障害を選択してください。"
            } else {
                "Choose a known error."
            },
        )
        .into()),
    };
    match result {
        Ok(_) => Ok(saved(id)),
        Err(e) => refused(&state, &ctx, id, "resolve".into(), f, e).await,
    }
}

/// `POST /incidents/{id}/known-error`: a known error drafted from the closed incident, then its page.
pub(super) async fn to_known_error(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let id = parse_id(&id)?;
    match state
        .store
        .create_known_error_from_incident(&ctx.actor(), id)
        .await
    {
        Ok(k) => Ok(Redirect::to(&format!("/known-errors/{}?ok=saved", k.id)).into_response()),
        // Forbidden and "not closed" are shown on the incident's page.
        Err(e) => refused(&state, &ctx, id, "known_error".into(), f, e).await,
    }
}
