//! Maintenance windows (保守時間帯): `GET /connectivity/maintenance` lists the windows in force (what they
//! cover, one-off from–to in 和暦 or the weekly rule, whether one applies now) with the create form for
//! those allowed `ManageChecks`; `POST /connectivity/maintenance` validates on the server (times, end after
//! start, targets that exist) and answers 422 with Japanese messages and the typed values.

use crate::page::{Ctx, FormErrors, PageMeta, show_datetime};
use crate::{AppState, WebError};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use unyo_domain::connectivity::{MaintenanceWindow, Recurrence};
use unyo_domain::time::{jst, to_storage};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::Store;

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

/// Checks a window before it is stored: the domain's rules, then that every named site, node and check
/// exists (the store would keep a dangling id otherwise). Shared by the page and the API.
pub(crate) async fn validate_window(
    store: &Store,
    w: &MaintenanceWindow,
) -> unyo_store::Result<()> {
    let mut errors = match w.validate() {
        Ok(()) => Vec::new(),
        Err(DomainError::Validation(e)) => e,
        Err(e) => return Err(e.into()),
    };
    errors.extend(unknown_targets(store, w).await?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors).into())
    }
}

async fn unknown_targets(
    store: &Store,
    w: &MaintenanceWindow,
) -> unyo_store::Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Some(id) = w.site_id {
        let sites = store.all_sites().await?;
        if !sites.iter().any(|s| s.id == id && s.retired_at.is_none()) {
            errors.push(FieldError::new(
                "site_id",
                format!("拠点 {id} は登録されていません。"),
            ));
        }
    }
    if let Some(id) = w.node_id {
        let nodes = store.all_nodes().await?;
        if !nodes.iter().any(|n| n.id == id && n.retired_at.is_none()) {
            errors.push(FieldError::new(
                "node_id",
                format!("ネットワーク機器 {id} は登録されていません。"),
            ));
        }
    }
    if let Some(id) = w.check_id {
        let checks = store.checks().await?;
        if !checks.iter().any(|c| c.id == id) {
            errors.push(FieldError::new(
                "check_id",
                format!("疎通確認 {id} は登録されていません。"),
            ));
        }
    }
    Ok(errors)
}

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
fn parse_form(f: &WindowForm) -> (MaintenanceWindow, Vec<FieldError>) {
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
            let start = parse_jst(&f.start);
            if start.is_none() {
                errors.push(FieldError::new(
                    "start",
                    "開始日時を正しく入力してください（例: 2026-05-12 09:30）。",
                ));
            }
            let end = parse_jst(&f.end);
            if end.is_none() {
                errors.push(FieldError::new(
                    "end",
                    "終了日時を正しく入力してください（例: 2026-05-12 11:30）。",
                ));
            }
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
    (w, errors)
}

struct WindowView {
    id: i64,
    title: String,
    scope: String,
    when: String,
    active: bool,
}

struct Option_ {
    value: String,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "connectivity_maintenance.html")]
struct MaintenancePage {
    page: PageMeta,
    windows: Vec<WindowView>,
    can_manage: bool,
    sites: Vec<Option_>,
    nodes: Vec<Option_>,
    checks: Vec<Option_>,
    weekdays: Vec<Option_>,
    input: WindowForm,
    e: FormErrors,
}

/// `?ok=saved` after a create.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OkQuery {
    ok: String,
}

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
        .maintenance_windows()
        .await?
        .into_iter()
        .map(|w| {
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
                active: w.active_at(now),
            }
        })
        .collect();
    let opt = |value: i64, label: &str| Option_ {
        value: value.to_string(),
        label: label.to_string(),
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
        sites: sites
            .iter()
            .filter(|s| s.retired_at.is_none())
            .map(|s| opt(s.id, &s.name))
            .collect(),
        nodes: nodes
            .iter()
            .filter(|n| n.retired_at.is_none())
            .map(|n| opt(n.id, &n.name))
            .collect(),
        checks: checks
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
        weekdays,
        input,
        e: FormErrors(errors),
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
    let (w, mut errors) = parse_form(&f);
    errors.extend(unknown_targets(&state.store, &w).await?);
    if !errors.is_empty() {
        return render_page(&state, &ctx, f, errors, None).await;
    }
    match state
        .store
        .create_maintenance_window(&ctx.actor(), &w)
        .await
    {
        Ok(_) => Ok(Redirect::to("/connectivity/maintenance?ok=saved").into_response()),
        Err(unyo_store::StoreError::Domain(DomainError::Validation(errors))) => {
            render_page(&state, &ctx, f, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
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
        let (w, e) = parse_form(&f);
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
