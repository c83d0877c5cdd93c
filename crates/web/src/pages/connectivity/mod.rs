//! 疎通確認 (connectivity checks, issue 5).
//!
//! - `GET /connectivity`: the status board (see [`board`]): totals by state, the checks that are not 正常
//!   worst first (icon, colour and text, so it reads without colour; 影響 names the probable point of
//!   failure, 保守中 marks), a summary per site with availability per month of the fiscal year
//!   (maintenance excluded), the network nodes' own checks, the latest state changes and the kept
//!   疎通確認結果表; paged and filtered by site and state, served from an in-memory snapshot.
//! - `GET /connectivity/checks/{id}`: one check's history: an SVG latency chart of the last 24 hours rendered
//!   on the server (no script), and its state changes with their causes.
//! - `GET /connectivity/run`, `POST /connectivity/run`: the SE's on-demand run over chosen sites and paths;
//!   the run goes on in the background and `GET /connectivity/runs/{id}` shows its results as they arrive
//!   (see [`live`]), then links to the kept sheet.
//! - `GET/POST /connectivity/maintenance`: maintenance windows (see [`maintenance`]).
//! - `GET/POST /connectivity/channels`: notification channels and delivery attempts (see [`channels`]).
//! - `GET /connectivity/sheets/{id}`: the 疎通確認結果表, print-ready; `GET /connectivity/sheets/{id}/xlsx`: the
//!   XLSX kept as evidence, byte for byte as produced; `GET /connectivity/sheets/{id}/pdf`: the same lines laid
//!   out as PDF by the report engine (和暦, A4 landscape). Both downloads are audited as `export.check_sheet`
//!   with their format.

pub mod board;
pub mod channels;
pub mod live;
pub mod maintenance;
mod record_edit;

use crate::page::{Ctx, PageMeta, show_timestamp};
use crate::view::Badge;
use crate::{AppState, WebError};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::json;
use std::collections::HashMap;
use unyo_domain::Action;
use unyo_domain::connectivity::{ProbeStatus, State as CheckState};
use unyo_domain::time::to_jst;
use unyo_store::audit::ExportKind;
use unyo_store::connectivity::{CheckRow, EventRow, ResultRow, SheetLine};

/// Routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connectivity", get(board::board))
        .route("/connectivity/checks/{id}", get(check_page))
        .route("/connectivity/run", get(run_form).post(live::run))
        .route("/connectivity/runs/{id}", get(live::progress))
        .route(
            "/connectivity/maintenance",
            get(maintenance::list).post(maintenance::create),
        )
        .route(
            "/connectivity/maintenance/{id}",
            axum::routing::post(maintenance::update),
        )
        .route(
            "/connectivity/maintenance/{id}/edit",
            get(maintenance::edit_form),
        )
        .route(
            "/connectivity/maintenance/{id}/retire",
            axum::routing::post(maintenance::retire),
        )
        .route(
            "/connectivity/channels",
            get(channels::list).post(channels::create),
        )
        .route(
            "/connectivity/channels/{id}",
            axum::routing::post(channels::update),
        )
        .route("/connectivity/channels/{id}/edit", get(channels::edit_form))
        .route(
            "/connectivity/channels/{id}/retire",
            axum::routing::post(channels::retire),
        )
        .route("/connectivity/sheets/{id}", get(sheet))
        .route("/connectivity/sheets/{id}/xlsx", get(sheet_xlsx))
        .route("/connectivity/sheets/{id}/pdf", get(sheet_pdf))
}

pub(crate) fn state_badge(ctx: &Ctx, s: CheckState) -> Badge {
    let text = if ctx.tr.is_ja() {
        s.label_ja().to_string()
    } else {
        s.as_str().to_string()
    };
    let (icon, class) = match s {
        CheckState::Up => ("●", "badge-active"),
        CheckState::Degraded => ("▲", "badge-warn"),
        CheckState::Down => ("✖", "badge-warn badge-down"),
        CheckState::Unknown => ("?", "badge-retired"),
    };
    Badge { icon, text, class }
}

struct BoardRow {
    site: String,
    target: String,
    probe: String,
    badge: Badge,
    impacted: Option<String>,
    maintenance: bool,
    since: String,
    latency: String,
    last: String,
}

struct EventView {
    at: String,
    check: String,
    href: String,
    from: Badge,
    to: Badge,
    cause: String,
    impacted_by: Option<String>,
    maintenance: bool,
    incident: Option<i64>,
}

fn event_view(ctx: &Ctx, e: &EventRow) -> EventView {
    EventView {
        at: show_timestamp(ctx.tr, Some(e.ts)),
        check: e.check_name.clone(),
        href: format!("/connectivity/checks/{}", e.check_id),
        from: state_badge(
            ctx,
            CheckState::parse(&e.from_state).unwrap_or(CheckState::Unknown),
        ),
        to: state_badge(
            ctx,
            CheckState::parse(&e.to_state).unwrap_or(CheckState::Unknown),
        ),
        cause: e.cause.clone(),
        impacted_by: e.impacted_by_name.clone(),
        maintenance: e.maintenance,
        incident: e.incident_id,
    }
}

fn board_row(ctx: &Ctx, c: &CheckRow, nodes: &HashMap<i64, String>) -> BoardRow {
    BoardRow {
        site: c.site_name.clone().unwrap_or_default(),
        target: c.target_name.clone().unwrap_or_default(),
        probe: c.probe_spec().map(|s| s.describe()).unwrap_or_default(),
        badge: state_badge(ctx, c.current_state()),
        impacted: c
            .impacted_by
            .filter(|_| c.current_state() == CheckState::Down)
            .map(|n| nodes.get(&n).cloned().unwrap_or_else(|| n.to_string())),
        maintenance: c.in_maintenance(),
        since: show_timestamp(ctx.tr, c.state_since),
        latency: c
            .last_latency_ms
            .map(|l| format!("{l} ms"))
            .unwrap_or_else(|| "-".into()),
        last: show_timestamp(ctx.tr, c.last_ts),
    }
}

/// The fiscal year (April–March, JST) containing today: its first day and the twelve month starts.
fn fiscal_months() -> Vec<NaiveDate> {
    let today = to_jst(Utc::now()).date();
    let fy = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    (0..12)
        .filter_map(|i| {
            let m = (3 + i) % 12 + 1;
            let y = if m >= 4 { fy } else { fy + 1 };
            NaiveDate::from_ymd_opt(y, m, 1)
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "connectivity_check.html")]
struct CheckPage {
    page: PageMeta,
    row: BoardRow,
    chart: String,
    events: Vec<EventView>,
    count: usize,
}

/// A latency chart (SVG, server-rendered): latency as a polyline, down results as marks on the baseline.
/// Only numbers are interpolated into the markup.
pub fn latency_svg(results: &[ResultRow], from: i64, to: i64) -> String {
    let (w, h, pad) = (720.0_f64, 200.0_f64, 40.0_f64);
    let max = results
        .iter()
        .filter_map(|r| r.latency_ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let span = (to - from).max(1) as f64;
    let x = |ts: i64| pad + (ts - from) as f64 / span * (w - 2.0 * pad);
    let y = |ms: i64| h - pad - ms as f64 / max * (h - 2.0 * pad);
    let mut points = String::new();
    let mut downs = String::new();
    for r in results {
        match (r.probe_status(), r.latency_ms) {
            (ProbeStatus::Up | ProbeStatus::Degraded, Some(l)) => {
                points.push_str(&format!("{:.1},{:.1} ", x(r.ts), y(l)));
            }
            _ => downs.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"3\" height=\"10\" fill=\"#b00020\"/>",
                x(r.ts) - 1.5,
                h - pad - 10.0
            )),
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" \
         aria-label=\"latency 0-{max:.0} ms\">\
         <line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#666\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{b}\" stroke=\"#666\"/>\
         <text x=\"4\" y=\"{t}\" font-size=\"11\">{max:.0} ms</text>\
         <text x=\"4\" y=\"{b}\" font-size=\"11\">0</text>\
         <polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.5\" points=\"{points}\"/>{downs}</svg>",
        b = h - pad,
        r = w - pad,
        t = pad + 4.0,
    )
}

/// `GET /connectivity/checks/{id}`.
async fn check_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let c = state.store.check(id).await?;
    let nodes: HashMap<i64, String> = state
        .store
        .all_nodes()
        .await?
        .into_iter()
        .map(|n| (n.id, n.name))
        .collect();
    let now = Utc::now().timestamp();
    let results = state.store.check_results(id, now - 86_400).await?;
    let events = state
        .store
        .check_events(Some(id), 50)
        .await?
        .iter()
        .map(|e| event_view(&ctx, e))
        .collect();
    let view = CheckPage {
        page: ctx.page(c.name.clone(), "connectivity"),
        row: board_row(&ctx, &c, &nodes),
        chart: latency_svg(&results, now - 86_400, now),
        count: results.len(),
        events,
    };
    Ok((StatusCode::OK, crate::page::render(&view)?).into_response())
}

pub(crate) struct Choice {
    pub id: i64,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "connectivity_run.html")]
struct RunPage {
    page: PageMeta,
    sites: Vec<Choice>,
    nodes: Vec<Choice>,
    error: String,
}

pub(crate) async fn run_page(
    state: &AppState,
    ctx: &Ctx,
    error: String,
) -> Result<Response, WebError> {
    let sites = state
        .store
        .all_sites()
        .await?
        .into_iter()
        .filter(|s| s.retired_at.is_none())
        .map(|s| Choice {
            id: s.id,
            label: s.name,
        })
        .collect();
    let nodes = state
        .store
        .all_nodes()
        .await?
        .into_iter()
        .filter(|n| n.retired_at.is_none())
        .map(|n| Choice {
            id: n.id,
            label: n.name,
        })
        .collect();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = RunPage {
        page: ctx.page(ctx.tr.t("conn.run"), "connectivity"),
        sites,
        nodes,
        error,
    };
    Ok((status, crate::page::render(&view)?).into_response())
}

/// `GET /connectivity/run`.
async fn run_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::RunChecks)?;
    run_page(&state, &ctx, String::new()).await
}

struct LineView {
    no: usize,
    line: SheetLine,
    ok: bool,
    latency: String,
}

#[derive(askama::Template)]
#[template(path = "connectivity_sheet.html")]
struct SheetPage {
    page: PageMeta,
    id: i64,
    at: String,
    operator: String,
    work_entry_id: Option<i64>,
    note: String,
    lines: Vec<LineView>,
}

/// `GET /connectivity/sheets/{id}`.
async fn sheet(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let s = state.store.check_sheet(id).await?;
    let operator = operator_name(&state, &s).await?;
    let page = ctx.page(ctx.tr.t("conn.sheet"), "connectivity");
    let at = page.datetime(&s.created_at);
    let view = SheetPage {
        id: s.id,
        at,
        operator,
        work_entry_id: s.work_entry_id,
        note: s.note,
        lines: s
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| LineView {
                no: i + 1,
                ok: l.status == "up",
                latency: l
                    .latency_ms
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
                line: l,
            })
            .collect(),
        page,
    };
    Ok((StatusCode::OK, crate::page::render(&view)?).into_response())
}

/// The engineer who ran a kept sheet, by display name (the login id when the account is gone).
async fn operator_name(
    state: &AppState,
    s: &unyo_store::connectivity::Sheet,
) -> Result<String, WebError> {
    Ok(state
        .store
        .user_by_name(&s.operator)
        .await?
        .map(|u| u.display_name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| s.operator.clone()))
}

/// `GET /connectivity/sheets/{id}/xlsx`: the kept XLSX, byte for byte (the 疎通確認結果表 as the documents
/// crate rendered it when the run was kept). Audited as `export.check_sheet`
/// like the PDF, with its format, lines, size and SHA-256.
async fn sheet_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let s = state.store.check_sheet(id).await?;
    let body = state.store.check_sheet_xlsx(id).await?;
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::CheckSheet,
            "check_sheet",
            id,
            json!({
                "format": "xlsx",
                "lines": s.lines.len(),
                "size": body.len(),
                "sha256": unyo_documents::sha256_hex(&body),
            }),
        )
        .await?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(
            &format!("connectivity_sheet_{id}.xlsx"),
            &unyo_documents::check_sheet_file_name(id, unyo_documents::Format::Xlsx),
        ),
    );
    Ok(res)
}

/// `GET /connectivity/sheets/{id}/pdf`: the kept lines laid out by the report engine on the blocking pool. The
/// same permission as the sheet and its XLSX (ViewChecks); audited as `export.check_sheet` with the file's
/// size and SHA-256, as every document export is.
async fn sheet_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let s = state.store.check_sheet(id).await?;
    let operator = operator_name(&state, &s).await?;
    let doc = unyo_documents::check_sheet_document(&s, &operator);
    let body = unyo_documents::render_blocking(doc, unyo_documents::Format::Pdf)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::CheckSheet,
            "check_sheet",
            id,
            json!({
                "format": "pdf",
                "lines": s.lines.len(),
                "size": body.len(),
                "sha256": unyo_documents::sha256_hex(&body),
            }),
        )
        .await?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(unyo_documents::Format::Pdf.content_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(
            &format!("connectivity_sheet_{id}.pdf"),
            &unyo_documents::check_sheet_pdf_file_name(id),
        ),
    );
    Ok(res)
}
