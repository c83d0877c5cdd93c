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

use crate::page::{Ctx, PageMeta};
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

/// UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("nav.connectivity", "疎通確認", "Connectivity"),
    ("conn.title", "疎通確認", "Connectivity checks"),
    ("conn.board", "状態一覧", "Status board"),
    ("conn.site", "拠点", "Site"),
    ("conn.target", "対象", "Target"),
    ("conn.check", "確認項目", "Check"),
    ("conn.probe", "宛先", "Probe"),
    ("conn.state", "状態", "State"),
    ("conn.since", "状態変化", "Since"),
    ("conn.latency", "応答時間", "Latency"),
    ("conn.last", "最終確認", "Last result"),
    (
        "conn.none",
        "疎通確認は登録されていません。",
        "No checks registered.",
    ),
    (
        "conn.availability",
        "稼働率（月別・保守時間帯を除く）",
        "Availability per month (maintenance excluded)",
    ),
    ("conn.events", "最近の状態変化", "Recent state changes"),
    ("conn.totals", "状態ごとの件数", "Checks by state"),
    ("conn.all_checks", "疎通確認 全件数", "Checks in service"),
    (
        "conn.problems",
        "正常でない疎通確認（重い順）",
        "Checks not up (worst first)",
    ),
    (
        "conn.no_problems",
        "該当する正常でない疎通確認はありません。",
        "No matching check is other than up.",
    ),
    (
        "conn.site_summary",
        "拠点ごとの状態（重い順）",
        "Sites (worst first)",
    ),
    (
        "conn.no_sites",
        "該当する拠点はありません。",
        "No matching site.",
    ),
    ("conn.worst", "最も重い状態", "Worst state"),
    ("conn.counts", "状態ごとの件数", "Checks by state"),
    (
        "conn.filter_site",
        "拠点コード・拠点名",
        "Site code or name",
    ),
    (
        "conn.filter_hint",
        "一部だけでも検索できます。",
        "Part of a code or name is enough.",
    ),
    ("conn.filter_clear", "絞り込みを解除", "Clear the filter"),
    (
        "conn.snapshot_help",
        "数秒ごとに更新される集計です。",
        "Figures are refreshed every few seconds.",
    ),
    ("conn.path_checks", "確認項目と状態", "Checks and states"),
    ("conn.no_node_checks", "確認項目なし", "No checks"),
    ("conn.cause", "原因", "Cause"),
    ("conn.impacted", "影響", "Impacted"),
    ("conn.maintenance", "保守中", "Maintenance"),
    ("conn.run", "疎通確認を実施", "Run checks now"),
    (
        "conn.run_help",
        "拠点または経路（ネットワーク機器とその配下）を選んで実施します。結果は疎通確認結果表として保存されます。",
        "Choose sites or paths (a network node and everything behind it). The results are kept as a check-result sheet.",
    ),
    ("conn.sites", "拠点", "Sites"),
    (
        "conn.paths",
        "経路（ネットワーク機器）",
        "Paths (network nodes)",
    ),
    (
        "conn.work_entry",
        "作業記録の番号（任意）",
        "Work entry id (optional)",
    ),
    ("conn.note", "備考", "Note"),
    ("conn.sheets", "疎通確認結果表", "Check-result sheets"),
    ("conn.sheet", "疎通確認結果表", "Check-result sheet"),
    ("conn.operator", "実施者", "Operator"),
    ("conn.at", "実施日時", "Run at"),
    ("conn.result", "結果", "Result"),
    ("conn.detail", "詳細", "Detail"),
    ("conn.xlsx", "XLSXで保存", "Download XLSX"),
    ("conn.pdf", "PDFで保存", "Download PDF"),
    (
        "conn.pdf_help",
        "PDFの出力は監査ログに記録されます。",
        "PDF downloads are recorded in the audit log.",
    ),
    (
        "conn.history",
        "履歴（直近24時間）",
        "History (last 24 hours)",
    ),
    ("conn.chart", "応答時間の推移", "Latency"),
    (
        "conn.no_results",
        "結果はまだありません。",
        "No results yet.",
    ),
    ("conn.work_link", "作業記録", "Work entry"),
    (
        "conn.back",
        "疎通確認の状態一覧へ戻る",
        "Back to the status board",
    ),
    ("conn.node", "ネットワーク機器", "Network node"),
    (
        "conn.node_path",
        "ネットワーク機器（配下を含む）",
        "Network node (and everything behind it)",
    ),
    // ---- live progress of an on-demand run
    ("conn.progress", "疎通確認の実施状況", "Run in progress"),
    ("conn.running", "実行中", "Running"),
    ("conn.finished", "完了", "Finished"),
    ("conn.saving", "結果表を保存中", "Keeping the sheet"),
    (
        "conn.failed",
        "結果表を保存できませんでした",
        "The sheet was not kept",
    ),
    ("conn.failed_help", "理由:", "Reason:"),
    ("conn.done_of", "完了した対象", "Targets done"),
    (
        "conn.refresh_help",
        "このページは1秒ごとに自動で更新されます。",
        "This page reloads itself every second.",
    ),
    (
        "conn.open_sheet",
        "疎通確認結果表を開く",
        "Open the check-result sheet",
    ),
    ("conn.targets", "対象ごとの結果", "Results per target"),
    // ---- maintenance windows
    ("mw.title", "保守時間帯", "Maintenance windows"),
    (
        "mw.help",
        "保守時間帯の間、対象の疎通確認は通知せず、稼働率の計算から除きます。",
        "During a maintenance window its checks raise no alerts and are left out of availability.",
    ),
    (
        "mw.list",
        "登録済みの保守時間帯",
        "Maintenance windows in force",
    ),
    (
        "mw.none",
        "保守時間帯は登録されていません。",
        "No maintenance windows.",
    ),
    ("mw.subject", "件名", "Title"),
    ("mw.scope", "対象", "Covers"),
    (
        "mw.scope_help",
        "何も選ばなければすべての疎通確認が対象です。複数選ぶと、いずれかに当てはまる疎通確認が対象です。",
        "Choose nothing to cover every check; with several choices, a check matching any of them is covered.",
    ),
    ("mw.all", "すべての疎通確認", "Every check"),
    ("mw.when", "日時", "When"),
    ("mw.active", "保守中", "In force now"),
    ("mw.inactive", "時間外", "Not now"),
    ("mw.new", "保守時間帯を登録", "New maintenance window"),
    ("mw.kind", "繰り返し", "Recurrence"),
    ("mw.once", "一回限り（開始〜終了）", "Once (from – to)"),
    ("mw.weekly", "毎週", "Every week"),
    ("mw.start", "開始日時", "Start"),
    ("mw.end", "終了日時", "End"),
    ("mw.weekday", "曜日", "Weekday"),
    ("mw.start_time", "開始時刻", "Start time"),
    ("mw.duration", "時間（分）", "Duration (minutes)"),
    ("mw.create", "登録する", "Create"),
    // ---- notification channels
    ("ch.title", "通知先", "Notification channels"),
    (
        "ch.help",
        "疎通確認の状態変化（停止・復旧）を知らせる先です。送信の結果は下の送信履歴に残ります。",
        "Where state changes (down, recovered) are told. Every delivery attempt is listed below.",
    ),
    ("ch.list", "登録済みの通知先", "Channels"),
    ("ch.none", "通知先は登録されていません。", "No channels."),
    ("ch.name", "名称", "Name"),
    ("ch.kind", "種類", "Kind"),
    (
        "ch.kind_help",
        "種類を選び、その種類の欄だけを入力してください。",
        "Choose a kind and fill in its fields only.",
    ),
    ("ch.settings", "設定", "Settings"),
    ("ch.email", "メール（SMTPリレー）", "E-mail (SMTP relay)"),
    ("ch.webhook", "Webhook（HTTP POST）", "Webhook (HTTP POST)"),
    ("ch.syslog", "syslog（UDP）", "Syslog (UDP)"),
    ("ch.host", "SMTPリレーのホスト", "SMTP relay host"),
    ("ch.port", "ポート", "Port"),
    ("ch.from", "差出人", "From"),
    ("ch.to", "宛先", "To"),
    (
        "ch.to_help",
        "複数の宛先はカンマで区切ります。",
        "Separate several addresses with commas.",
    ),
    (
        "ch.url_help",
        "http:// または https:// で始まる受信先のURLです。利用者名・パスワード（…@）や空白は含められません。通知は受信先へ直接送り、リダイレクトには従いません。",
        "The receiver's URL, starting with http:// or https://; no user name, password (…@) or spaces. Sent directly to the receiver; redirects are not followed.",
    ),
    (
        "ch.ca_pem",
        "CA証明書（PEM、https のとき任意）",
        "CA certificate (PEM, optional for https)",
    ),
    (
        "ch.ca_pem_help",
        "https の受信先の証明書を発行したCAの証明書を貼り付けると、そのCAだけを信頼します。空欄のときはサーバーのOSが信頼するCA（システムの証明書ストア）で確認します。",
        "Paste the certificate of the CA that issued the receiver's certificate to trust that CA only. Left empty, the server's system trust store is used.",
    ),
    ("ch.addr", "宛先（IPアドレス:ポート）", "Address (IP:port)"),
    (
        "ch.attempts",
        "送信履歴（新しい順）",
        "Delivery attempts (newest first)",
    ),
    (
        "ch.no_attempts",
        "送信履歴はありません。",
        "No delivery attempts.",
    ),
    ("ch.at", "日時", "Time"),
    ("ch.event", "状態変化", "Event"),
    ("ch.test_event", "（試験送信）", "(test)"),
    ("ch.ok", "成功", "Delivered"),
    ("ch.ng", "失敗", "Failed"),
    ("ch.error", "エラー内容", "Error"),
    ("ch.new", "通知先を登録", "New channel"),
    ("ch.create", "登録する", "Create"),
];

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

pub(crate) fn jst(ts: Option<i64>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| to_jst(d).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
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
        at: jst(Some(e.ts)),
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
        since: jst(c.state_since),
        latency: c
            .last_latency_ms
            .map(|l| format!("{l} ms"))
            .unwrap_or_else(|| "-".into()),
        last: jst(c.last_ts),
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
