//! `GET /requests/{id}` (summary, targets, timeline, transition forms, work, consultations, attachments)
//! and `POST /requests/{id}/transitions`.

use super::{
    Badge, ErrorItem, category_label, date_value, lines, overdue_badge, parse_id, show_date,
    show_date_opt, show_size, status_badge, status_label,
};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::view::OkQuery;
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use unyo_domain::registry::TerminalKind;
use unyo_domain::support::{
    Category, RequestAction, RequestStatus, TransitionInput, available_actions,
};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::support::{RequestDetail, jst_today};

/// One property of the summary.
pub(super) struct Prop {
    pub label: String,
    pub text: String,
    pub badges: Vec<Badge>,
    pub class: &'static str,
}

impl Prop {
    fn new(label: &str, text: impl Into<String>) -> Prop {
        Prop {
            label: label.to_string(),
            text: text.into(),
            badges: Vec::new(),
            class: "",
        }
    }
}

/// A link with a label.
pub(super) struct Link {
    pub text: String,
    pub href: String,
}

/// A target terminal.
pub(super) struct TerminalView {
    pub hostname: String,
    pub href: String,
    pub site: String,
    pub representative: bool,
}

/// One step of the timeline.
pub(super) struct EventView {
    pub when: String,
    pub who: String,
    pub action: String,
    pub from: String,
    pub to: String,
    pub comment: Vec<String>,
    pub planned: String,
}

/// A transition form the person may use now.
pub(super) struct TransitionForm {
    pub action: &'static str,
    pub label: String,
    pub button: &'static str,
    /// Label of the comment box (required for 完了報告 and 差戻し).
    pub comment_label: String,
    pub comment_required: bool,
    pub needs_date: bool,
    pub comment: String,
    pub planned_date: String,
    pub comment_error: String,
    pub date_error: String,
}

/// A linked work entry.
pub(super) struct WorkView {
    pub href: String,
    pub date: String,
    pub time: String,
    pub workers: String,
    pub category: String,
    pub hours: String,
}

/// An attachment.
pub(super) struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub content_type: String,
    pub size: String,
    pub sha_prefix: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub at: String,
}

/// What went wrong with the last POST, if anything.
#[derive(Default)]
pub(super) struct Outcome {
    pub status: Option<StatusCode>,
    /// A refusal (illegal move, forbidden).
    pub refusal: String,
    /// Field errors of the transition form of `action`.
    pub action: String,
    pub errors: Vec<FieldError>,
    pub comment: String,
    pub planned_date: String,
    /// Why an upload failed.
    pub upload_error: String,
}

#[derive(askama::Template)]
#[template(path = "requests_detail.html")]
struct DetailPage {
    page: PageMeta,
    id: i64,
    status: Badge,
    props: Vec<Prop>,
    sites: Vec<Link>,
    terminals: Vec<TerminalView>,
    description: Vec<String>,
    result: Vec<String>,
    events: Vec<EventView>,
    forms: Vec<TransitionForm>,
    refusal: String,
    errors: Vec<ErrorItem>,
    work: Vec<WorkView>,
    work_total: String,
    consultations: Vec<Link>,
    attachments: Vec<AttachmentView>,
    upload_error: String,
    can_upload: bool,
    can_consult: bool,
    /// 「作業を記録」 with the request pre-filled: the request is in 対応中 and the viewer logs work.
    log_work: Option<String>,
}

fn action_label(tr: Tr, code: &str) -> String {
    if code == "file" {
        return tr.t("requests.act_file").to_string();
    }
    RequestAction::parse(code)
        .map(|a| tr.pick(a.label_ja(), a.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn transition_form(tr: Tr, a: RequestAction, o: &Outcome) -> TransitionForm {
    let mine = o.action == a.code();
    let err = |field: &str| {
        if mine {
            o.errors
                .iter()
                .filter(|e| e.field == field)
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        }
    };
    let (comment_label, comment_required) = match a {
        RequestAction::Complete => (tr.t("requests.result_comment"), true),
        RequestAction::Return => (tr.t("requests.return_reason"), true),
        _ => (tr.t("requests.comment"), false),
    };
    TransitionForm {
        action: a.code(),
        label: tr.pick(a.label_ja(), a.label_en()).to_string(),
        button: match a {
            RequestAction::Return | RequestAction::Withdraw => "danger",
            _ => "primary",
        },
        comment_label: comment_label.to_string(),
        comment_required,
        needs_date: a == RequestAction::Accept,
        comment: if mine {
            o.comment.clone()
        } else {
            String::new()
        },
        planned_date: if mine {
            date_value(&o.planned_date)
        } else {
            String::new()
        },
        comment_error: err("comment"),
        date_error: err("planned_date"),
    }
}

/// Renders the request page; `o` carries the failure of a POST that brought us here.
pub(super) async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    ok: Option<&str>,
    o: Outcome,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let d: RequestDetail = state.store.request(id, jst_today()).await?;
    let r = &d.request;
    let role = ctx.user.role();
    let page = ctx
        .page(format!("{} {}", r.number, r.title), "requests")
        .with_flash(ok);
    let names: HashMap<String, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.username, u.display_name))
        .collect();
    let representative = d
        .terminals
        .iter()
        .any(|t| TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative));
    let mut category = category_label(tr, &r.category);
    if let Some(c) = Category::parse(&r.category) {
        // Installs and antivirus updates are ① or ② by the terminals: without terminals it is not known yet.
        let decided = !matches!(c, Category::AppInstall | Category::AntivirusUpdate)
            || !d.terminals.is_empty();
        if decided {
            let clause = c.clause(representative);
            category.push_str(&format!(
                "（{} {}）",
                tr.t("requests.clause"),
                tr.pick(clause.label_ja(), clause.label_en())
            ));
        }
    }
    let mut props = vec![
        {
            let mut p = Prop::new(tr.t("requests.number"), &r.number);
            p.class = "mono";
            p
        },
        Prop::new(tr.t("requests.subject"), &r.title),
        Prop::new(tr.t("requests.category"), category),
        {
            let mut p = Prop::new(tr.t("common.status"), "");
            p.badges.push(status_badge(tr, &r.status));
            if r.overdue {
                p.badges.push(overdue_badge(tr));
            }
            p
        },
        Prop::new(tr.t("requests.requester"), &r.requester_name),
        Prop::new(
            tr.t("requests.assignee"),
            r.assignee_name.clone().unwrap_or_default(),
        ),
        Prop::new(tr.t("requests.filed_on"), show_date(tr, &r.filed_on)),
        Prop::new(tr.t("requests.wished"), show_date_opt(tr, &r.wished_date)),
        Prop::new(tr.t("requests.planned"), show_date_opt(tr, &r.planned_date)),
    ];
    for (code, at) in [
        ("accepted", &r.accepted_at),
        ("in_progress", &r.started_at),
        ("completed", &r.completed_at),
        ("confirmed", &r.confirmed_at),
    ] {
        if at.is_some() {
            props.push(Prop::new(
                &format!("{}{}", status_label(tr, code), tr.pick("日時", " at")),
                page.datetime_opt(at),
            ));
        }
    }
    let events = d
        .events
        .iter()
        .map(|e| EventView {
            when: page.datetime(&e.at),
            who: e.actor_name.clone(),
            action: action_label(tr, &e.action),
            from: e
                .from_status
                .as_deref()
                .map(|s| status_label(tr, s))
                .unwrap_or_default(),
            to: status_label(tr, &e.to_status),
            comment: lines(&e.comment),
            planned: show_date_opt(tr, &e.planned_date),
        })
        .collect();
    let status = RequestStatus::parse(&r.status).unwrap_or(RequestStatus::Requested);
    let forms: Vec<TransitionForm> = available_actions(status, role)
        .into_iter()
        // 取下げ is the requester's (or an administrator's): do not offer it to other staff.
        .filter(|a| {
            *a != RequestAction::Withdraw
                || role == unyo_domain::Role::Admin
                || r.requester_id == Some(ctx.user.id)
        })
        .map(|a| transition_form(tr, a, &o))
        .collect();
    let errors = o
        .errors
        .iter()
        .map(|e| ErrorItem {
            href: match e.field.as_str() {
                "comment" => format!("#comment-{}", o.action),
                "planned_date" => format!("#planned-{}", o.action),
                _ => String::new(),
            },
            message: e.message.clone(),
        })
        .collect();
    let total_minutes: i64 = d.work.iter().map(|w| w.minutes).sum();
    let work = d
        .work
        .iter()
        .map(|w| WorkView {
            href: format!("/work/{}", w.id),
            date: show_date(tr, &w.work_date),
            time: format!("{}–{}", w.start_time, w.end_time),
            workers: w.workers.clone(),
            category: category_label(tr, &w.category),
            hours: w.hours.clone(),
        })
        .collect();
    let consultations = d
        .consultations
        .iter()
        .map(|c| Link {
            text: format!("{} {}", show_date(tr, &c.held_on), c.topic),
            href: format!("/consultations/{}", c.id),
        })
        .collect();
    let attachments = d
        .attachments
        .iter()
        .map(|a| AttachmentView {
            href: format!("/attachments/{}", a.id),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: show_size(a.size),
            sha_prefix: a.sha256.chars().take(12).collect(),
            sha256: a.sha256.clone(),
            uploaded_by: names
                .get(&a.uploaded_by)
                .cloned()
                .unwrap_or_else(|| a.uploaded_by.clone()),
            at: page.datetime(&a.created_at),
        })
        .collect();
    let view = DetailPage {
        id,
        status: status_badge(tr, &r.status),
        props,
        sites: d
            .sites
            .iter()
            .map(|s| Link {
                text: s.name.clone(),
                href: format!("/sites/{}", s.id),
            })
            .collect(),
        terminals: d
            .terminals
            .iter()
            .map(|t| TerminalView {
                hostname: t.hostname.clone(),
                href: format!("/terminals/{}", t.id),
                site: t.site_name.clone(),
                representative: TerminalKind::parse(&t.kind) == Some(TerminalKind::Representative),
            })
            .collect(),
        description: lines(&r.description),
        result: lines(&r.result),
        events,
        forms,
        refusal: o.refusal.clone(),
        errors,
        work,
        work_total: unyo_domain::support::hours_label(total_minutes),
        consultations,
        attachments,
        upload_error: o.upload_error.clone(),
        can_upload: role.allows(Action::UploadAttachment),
        can_consult: role.allows(Action::RecordConsultation),
        log_work: (r.status == RequestStatus::InProgress.code() && role.allows(Action::LogWork))
            .then(|| format!("/work/new?request_id={id}")),
        page,
    };
    let status = o.status.unwrap_or(StatusCode::OK);
    Ok((status, render(&view)?).into_response())
}

/// `GET /requests/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(ok): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let id = parse_id(&id)?;
    let ok = Some(ok.ok.as_str()).filter(|s| !s.is_empty());
    detail_page(&state, &ctx, id, ok, Outcome::default()).await
}

/// `POST /requests/{id}/transitions` (`action`, `comment`, `planned_date`). The store decides: a
/// validation error re-renders the form with 422, an illegal move 409, a role that may not do it 403 —
/// and nothing changes.
pub(super) async fn transition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(input): Form<TransitionInput>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let id = parse_id(&id)?;
    match state
        .store
        .transition_request(&ctx.actor(), id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}?ok=saved")).into_response()),
        Err(e) => {
            let mut o = Outcome {
                action: input.action.trim().to_string(),
                comment: input.comment.clone(),
                planned_date: input.planned_date.clone(),
                ..Default::default()
            };
            match e {
                StoreError::Domain(DomainError::Validation(fields)) => {
                    // An unknown action has no form to show its error on.
                    let (own, other): (Vec<_>, Vec<_>) = fields
                        .into_iter()
                        .partition(|f| f.field == "comment" || f.field == "planned_date");
                    if RequestAction::parse(&o.action).is_none() || !other.is_empty() {
                        o.refusal = other
                            .iter()
                            .map(|f| f.message.as_str())
                            .collect::<Vec<_>>()
                            .join(" ");
                    }
                    o.errors = own;
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
            detail_page(&state, &ctx, id, None, o).await
        }
    }
}
