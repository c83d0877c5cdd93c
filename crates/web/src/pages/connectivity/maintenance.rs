//! Maintenance windows (保守時間帯): `GET /connectivity/maintenance` lists the windows (what they cover,
//! one-off from–to in 和暦 or the weekly rule, whether one applies now, or 廃止 with its date) with the create
//! form for those allowed `ManageChecks`; `POST /connectivity/maintenance` validates on the server (times,
//! end after start, targets that exist) and answers 422 with Japanese messages and the typed values.
//!
//! As in the registry: `GET /connectivity/maintenance/{id}/edit` shows a window's edit form and its retire
//! form, `POST /connectivity/maintenance/{id}` changes it under the create rules (422 with the typed values
//! otherwise, nothing changed), `POST /connectivity/maintenance/{id}/retire` retires it with a reason: it
//! stays listed, marked 廃止, and no longer applies. A retired window cannot be changed.

use super::record_edit::{EditFrame, EditWords, Refusal, RetireForm};
use crate::page::{Ctx, FormErrors, PageMeta, show_datetime};
use crate::view::OkQuery;
use crate::view::parse_id;
use crate::{AppState, WebError};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use unyo_domain::connectivity::{MaintenanceWindow, Recurrence};
use unyo_domain::time::{jst, to_storage};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::connectivity::WindowRecord;
use unyo_store::registry::Status;

/// Weekday names, Monday first (the domain's `0 = Monday`).
const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The create form as typed (strings, so that wrong values come back to be corrected).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct WindowForm {
    title: String,
    site_id: String,
    node_id: String,
    check_id: String,
    /// `once` or `weekly`.
    kind: String,
    /// `<input type="datetime-local">`, JST.
    start: String,
    end: String,
    weekday: String,
    /// `HH:MM`, JST.
    start_time: String,
    duration_min: String,
}

/// A JST `YYYY-MM-DDTHH:MM` (what `datetime-local` sends; a space or seconds are accepted too) as UTC.
fn parse_jst(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim().replace(' ', "T");
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&t, f).ok())
        .and_then(|n| n.and_local_timezone(jst()).single())
        .map(|d| d.with_timezone(&Utc))
}

/// A date-time field of the form: refused naming its label, with the reason when the date does not exist
/// (「開始日時: 2026年2月30日は存在しない日付です。」), else with the expected form.
fn datetime_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    text: &str,
    example_time: &str,
) -> Option<DateTime<Utc>> {
    let parsed = parse_jst(text);
    if parsed.is_none() {
        let message = if text.trim().is_empty() {
            format!("{label}を入力してください（例: 2026-05-12 {example_time}）。")
        } else {
            match unyo_domain::incident::datetime_date_problem(text) {
                Some(reason) => format!("{label}: {reason}"),
                None => {
                    format!("{label}の形式が正しくありません（例: 2026-05-12 {example_time}）。")
                }
            }
        };
        errors.push(FieldError::new(field, message));
    }
    parsed
}

fn optional_id(field: &str, label: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.push(FieldError::new(
                field,
                format!("{label}の指定が正しくありません。"),
            ));
            None
        }
    }
}

/// The form as a window and every problem found in it (the domain's rules included); the window is only
/// to be stored when there is none, but its targets can be checked either way.
fn parse_form(f: &WindowForm) -> (MaintenanceWindow, Vec<FieldError>, bool) {
    let mut errors = Vec::new();
    let site_id = optional_id("site_id", "拠点", &f.site_id, &mut errors);
    let node_id = optional_id("node_id", "ネットワーク機器", &f.node_id, &mut errors);
    let check_id = optional_id("check_id", "疎通確認", &f.check_id, &mut errors);
    let when = match f.kind.as_str() {
        "weekly" => {
            let weekday = f.weekday.trim().parse::<u32>().ok().filter(|d| *d <= 6);
            if weekday.is_none() {
                errors.push(FieldError::new("weekday", "曜日を選んでください。"));
            }
            let start = NaiveTime::parse_from_str(f.start_time.trim(), "%H:%M").ok();
            if start.is_none() {
                errors.push(FieldError::new(
                    "start_time",
                    "開始時刻を 時:分 で入力してください（例: 23:00）。",
                ));
            }
            let duration = f.duration_min.trim().parse::<u32>().ok();
            if duration.is_none() {
                errors.push(FieldError::new(
                    "duration_min",
                    "時間（分）は数字で入力してください。",
                ));
            }
            match (weekday, start, duration) {
                (Some(weekday), Some(start), Some(duration_min)) => {
                    use chrono::Timelike;
                    Some(Recurrence::Weekly {
                        weekday,
                        start_min: start.hour() * 60 + start.minute(),
                        duration_min,
                    })
                }
                _ => None,
            }
        }
        "once" => {
            let start = datetime_field(&mut errors, "start", "開始日時", &f.start, "09:30");
            let end = datetime_field(&mut errors, "end", "終了日時", &f.end, "11:30");
            match (start, end) {
                (Some(start), Some(end)) => Some(Recurrence::Once { start, end }),
                _ => None,
            }
        }
        _ => {
            errors.push(FieldError::new(
                "kind",
                "一回限りか毎週かを選んでください。",
            ));
            None
        }
    };
    // Whether the form itself read cleanly: then the store judges the window (the domain's rules and
    // the targets, in its write transaction) and tells every problem at once.
    let parsed = errors.is_empty();
    // The domain's rules (title, end after start, lengths) are checked even when a time is missing, so
    // that every problem is told at once.
    let w = MaintenanceWindow {
        id: 0,
        title: f.title.trim().to_string(),
        site_id,
        node_id,
        check_id,
        when: when.clone().unwrap_or(Recurrence::Weekly {
            weekday: 0,
            start_min: 0,
            duration_min: 1,
        }),
    };
    if let Err(DomainError::Validation(e)) = w.validate() {
        errors.extend(
            e.into_iter()
                .filter(|e| when.is_some() || e.field == "title"),
        );
    }
    (w, errors, parsed)
}

/// A stored window as the form shows it (times in JST), for editing.
fn input_from(w: &MaintenanceWindow) -> WindowForm {
    let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut f = WindowForm {
        title: w.title.clone(),
        site_id: id(w.site_id),
        node_id: id(w.node_id),
        check_id: id(w.check_id),
        ..Default::default()
    };
    match &w.when {
        Recurrence::Once { start, end } => {
            let local =
                |t: &DateTime<Utc>| t.with_timezone(&jst()).format("%Y-%m-%dT%H:%M").to_string();
            f.kind = "once".into();
            f.start = local(start);
            f.end = local(end);
            f.duration_min = "120".into();
        }
        Recurrence::Weekly {
            weekday,
            start_min,
            duration_min,
        } => {
            f.kind = "weekly".into();
            f.weekday = weekday.to_string();
            f.start_time = format!("{:02}:{:02}", start_min / 60, start_min % 60);
            f.duration_min = duration_min.to_string();
        }
    }
    f
}

struct WindowView {
    id: i64,
    title: String,
    scope: String,
    when: String,
    active: bool,
    /// When it was retired (shown with the word 廃止, not by colour alone).
    retired: Option<String>,
}

struct Option_ {
    value: String,
    label: String,
}

/// The choices of the window form.
struct FormOptions {
    sites: Vec<Option_>,
    nodes: Vec<Option_>,
    checks: Vec<Option_>,
    weekdays: Vec<Option_>,
}

#[derive(askama::Template)]
#[template(path = "connectivity_maintenance.html")]
struct MaintenancePage {
    page: PageMeta,
    windows: Vec<WindowView>,
    can_manage: bool,
    opts: FormOptions,
    input: WindowForm,
    e: FormErrors,
}

#[derive(askama::Template)]
#[template(path = "connectivity_maintenance_edit.html")]
struct EditPage {
    page: PageMeta,
    frame: EditFrame,
    opts: FormOptions,
    input: WindowForm,
    e: FormErrors,
}

const EDIT_WORDS: EditWords = EditWords {
    back: "mw.back",
    retire_failed: "mw.retire_failed",
    retire_help: "mw.retire_help",
};

/// How a window's time is told: 和暦 from–to, or the weekly rule.
fn when_text(ctx: &Ctx, r: &Recurrence) -> String {
    match r {
        Recurrence::Once { start, end } => format!(
            "{} 〜 {}",
            show_datetime(ctx.tr, &to_storage(*start)),
            show_datetime(ctx.tr, &to_storage(*end))
        ),
        Recurrence::Weekly {
            weekday,
            start_min,
            duration_min,
        } => {
            let d = (*weekday as usize).min(6);
            let (h, m) = (start_min / 60, start_min % 60);
            if ctx.tr.is_ja() {
                format!(
                    "毎週{}曜日 {h:02}:{m:02} から {duration_min} 分間",
                    WEEKDAYS_JA[d]
                )
            } else {
                format!(
                    "Every {} {h:02}:{m:02} for {duration_min} min",
                    WEEKDAYS_EN[d]
                )
            }
        }
    }
}

/// The form's choices: sites, nodes and checks in service, and the weekdays. A site, node or check the
/// window names that has since been retired stays selectable, marked, so that an edit never quietly drops
/// it from the scope (saving it is then refused with the reason).
async fn form_options(
    state: &AppState,
    ctx: &Ctx,
    input: &WindowForm,
) -> Result<FormOptions, WebError> {
    let sites = state.store.all_sites().await?;
    let nodes = state.store.all_nodes().await?;
    let checks = state.store.checks().await?;
    let opt = |value: i64, label: &str| Option_ {
        value: value.to_string(),
        label: label.to_string(),
    };
    let retired = ctx.tr.t("mw.retired_mark");
    let keep = |mut list: Vec<Option_>, selected: &str, name: Option<String>| {
        let selected = selected.trim();
        if !selected.is_empty() && !list.iter().any(|o| o.value == selected) {
            list.push(Option_ {
                value: selected.to_string(),
                label: format!(
                    "{}{retired}",
                    name.unwrap_or_else(|| format!("#{selected}"))
                ),
            });
        }
        list
    };
    // Names of chosen targets that are no longer in service (the lists hold only those in service).
    let wanted = |text: &str| text.trim().parse::<i64>().ok();
    let site_name = match wanted(&input.site_id) {
        Some(id) if !sites.iter().any(|s| s.id == id) => {
            state.store.site(id).await.ok().map(|s| s.name)
        }
        _ => None,
    };
    let node_name = match wanted(&input.node_id) {
        Some(id) if !nodes.iter().any(|n| n.id == id) => {
            state.store.node(id).await.ok().map(|n| n.name)
        }
        _ => None,
    };
    let check_name = match wanted(&input.check_id) {
        Some(id) if !checks.iter().any(|c| c.id == id) => {
            state.store.check(id).await.ok().map(|c| c.name)
        }
        _ => None,
    };
    let weekdays = (0..7)
        .map(|d| Option_ {
            value: d.to_string(),
            label: if ctx.tr.is_ja() {
                format!("{}曜日", WEEKDAYS_JA[d])
            } else {
                WEEKDAYS_EN[d].to_string()
            },
        })
        .collect();
    Ok(FormOptions {
        sites: keep(
            sites.iter().map(|s| opt(s.id, &s.name)).collect(),
            &input.site_id,
            site_name,
        ),
        nodes: keep(
            nodes.iter().map(|n| opt(n.id, &n.name)).collect(),
            &input.node_id,
            node_name,
        ),
        checks: keep(
            checks
                .iter()
                .map(|c| {
                    opt(
                        c.id,
                        &format!(
                            "{}（{}）",
                            c.name,
                            c.target_name.clone().unwrap_or_default()
                        ),
                    )
                })
                .collect(),
            &input.check_id,
            check_name,
        ),
        weekdays,
    })
}

async fn render_page(
    state: &AppState,
    ctx: &Ctx,
    input: WindowForm,
    errors: Vec<FieldError>,
    ok: Option<&str>,
) -> Result<Response, WebError> {
    let sites = state.store.all_sites().await?;
    let nodes = state.store.all_nodes().await?;
    let checks = state.store.checks().await?;
    let site_names: HashMap<i64, &str> = sites.iter().map(|s| (s.id, s.name.as_str())).collect();
    let node_names: HashMap<i64, &str> = nodes.iter().map(|n| (n.id, n.name.as_str())).collect();
    let check_names: HashMap<i64, &str> = checks.iter().map(|c| (c.id, c.name.as_str())).collect();
    let now = Utc::now();
    let name = |m: &HashMap<i64, &str>, id: i64| {
        m.get(&id)
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let windows = state
        .store
        .maintenance_window_records(Status::All)
        .await?
        .into_iter()
        .map(
            |WindowRecord {
                 window: w,
                 retired_at,
                 ..
             }| {
                let mut parts = Vec::new();
                if let Some(id) = w.site_id {
                    parts.push(format!(
                        "{}: {}",
                        ctx.tr.t("conn.site"),
                        name(&site_names, id)
                    ));
                }
                if let Some(id) = w.node_id {
                    parts.push(format!(
                        "{}: {}",
                        ctx.tr.t("conn.node"),
                        name(&node_names, id)
                    ));
                }
                if let Some(id) = w.check_id {
                    parts.push(format!(
                        "{}: {}",
                        ctx.tr.t("conn.check"),
                        name(&check_names, id)
                    ));
                }
                let scope = if parts.is_empty() {
                    ctx.tr.t("mw.all").to_string()
                } else {
                    parts.join(" / ")
                };
                WindowView {
                    id: w.id,
                    title: w.title.clone(),
                    scope,
                    when: when_text(ctx, &w.when),
                    active: retired_at.is_none() && w.active_at(now),
                    retired: retired_at.map(|at| show_datetime(ctx.tr, &at)),
                }
            },
        )
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = MaintenancePage {
        page: ctx
            .page(ctx.tr.t("mw.title"), "connectivity")
            .with_flash(ok),
        windows,
        can_manage: ctx.user.role().allows(Action::ManageChecks),
        opts: form_options(state, ctx, &input).await?,
        input,
        e: FormErrors(errors),
    };
    Ok((status, crate::page::render(&view)?).into_response())
}

async fn render_edit(
    state: &AppState,
    ctx: &Ctx,
    w: &WindowRecord,
    input: WindowForm,
    mut refusal: Refusal,
) -> Result<Response, WebError> {
    let status = refusal.status();
    let frame = EditFrame::new(
        "/connectivity/maintenance",
        &EDIT_WORDS,
        w.window.id,
        format!(
            "{}（{}）",
            show_datetime(ctx.tr, &w.created_at),
            w.created_by
        ),
        w.updated_at
            .as_deref()
            .map(|at| show_datetime(ctx.tr, at))
            .unwrap_or_default(),
        &mut refusal,
    );
    let view = EditPage {
        page: ctx.page(
            format!("{}: {}", ctx.tr.t("mw.edit_title"), w.window.title),
            "connectivity",
        ),
        frame,
        opts: form_options(state, ctx, &input).await?,
        input,
        e: FormErrors(refusal.errors),
    };
    Ok((status, crate::page::render(&view)?).into_response())
}

/// `GET /connectivity/maintenance`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let input = WindowForm {
        kind: "once".into(),
        duration_min: "120".into(),
        ..Default::default()
    };
    render_page(&state, &ctx, input, Vec::new(), Some(q.ok.as_str())).await
}

/// `POST /connectivity/maintenance`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<WindowForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let (w, errors, parsed) = parse_form(&f);
    if !parsed {
        return render_page(&state, &ctx, f, errors, None).await;
    }
    match state
        .store
        .create_maintenance_window(&ctx.actor(), &w)
        .await
    {
        Ok(_) => {
            state.board.invalidate();
            Ok(Redirect::to("/connectivity/maintenance?ok=saved").into_response())
        }
        Err(unyo_store::StoreError::Domain(DomainError::Validation(errors))) => {
            render_page(&state, &ctx, f, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /connectivity/maintenance/{id}/edit`: the edit form and the retire form; a retired window has
/// neither (back to the list, where it shows as 廃止).
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let w = state.store.maintenance_window(parse_id(&id)?).await?;
    if w.retired_at.is_some() {
        return Ok(Redirect::to("/connectivity/maintenance").into_response());
    }
    let input = input_from(&w.window);
    render_edit(&state, &ctx, &w, input, Refusal::default()).await
}

/// `POST /connectivity/maintenance/{id}`: changes a window under the create rules.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<WindowForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let old = state.store.maintenance_window(parse_id(&id)?).await?;
    let (w, errors, parsed) = parse_form(&f);
    let refusal = if parsed {
        match state
            .store
            .update_maintenance_window(&ctx.actor(), old.window.id, &w)
            .await
        {
            Ok(_) => {
                state.board.invalidate();
                return Ok(Redirect::to("/connectivity/maintenance?ok=saved").into_response());
            }
            Err(e) => Refusal::of_update(e)?,
        }
    } else {
        Refusal::of_form(errors)
    };
    render_edit(&state, &ctx, &old, f, refusal).await
}

/// `POST /connectivity/maintenance/{id}/retire`: retires a window with a reason.
pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let old = state.store.maintenance_window(parse_id(&id)?).await?;
    let refusal = match state
        .store
        .retire_maintenance_window(&ctx.actor(), old.window.id, &f.reason)
        .await
    {
        Ok(_) => {
            state.board.invalidate();
            return Ok(Redirect::to("/connectivity/maintenance?ok=retired").into_response());
        }
        Err(e) => Refusal::of_retire(e, f.reason)?,
    };
    let input = input_from(&old.window);
    render_edit(&state, &ctx, &old, input, refusal).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_weekly_and_tells_every_problem() {
        let f = WindowForm {
            title: "回線工事".into(),
            kind: "once".into(),
            start: "2026-05-12T09:30".into(),
            end: "2026-05-12T11:00".into(),
            ..Default::default()
        };
        let (w, e, _) = parse_form(&f);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(
            w.when,
            Recurrence::Once {
                start: "2026-05-12T00:30:00Z".parse().unwrap(),
                end: "2026-05-12T02:00:00Z".parse().unwrap(),
            }
        );
        let bad = WindowForm {
            end: "2026-05-12T08:00".into(),
            ..f.clone()
        };
        let e = parse_form(&bad).1;
        assert!(
            e.iter().any(|e| e.message.contains("終了は開始より後")),
            "{e:?}"
        );
        let bad = WindowForm {
            title: String::new(),
            start: "昨日".into(),
            ..f
        };
        let e = parse_form(&bad).1;
        assert!(e.iter().any(|e| e.field == "title"), "{e:?}");
        assert!(e.iter().any(|e| e.field == "start"), "{e:?}");
        let weekly = WindowForm {
            title: "定期保守".into(),
            kind: "weekly".into(),
            weekday: "5".into(),
            start_time: "23:00".into(),
            duration_min: "120".into(),
            ..Default::default()
        };
        assert_eq!(
            parse_form(&weekly).0.when,
            Recurrence::Weekly {
                weekday: 5,
                start_min: 23 * 60,
                duration_min: 120
            }
        );
    }
}
