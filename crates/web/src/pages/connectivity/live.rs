//! The on-demand run watched live: `POST /connectivity/run` starts the run in a background task and sends
//! the browser to `GET /connectivity/runs/{id}`, which lists the targets as their results arrive and reloads
//! itself every second (`<meta http-equiv="refresh">`, no script) until the run ends; then it links to the
//! kept 疎通確認結果表.
//!
//! Where the run's progress lives: in memory ([`Runs`], held by `AppState`), not in the store. Progress is
//! only worth seconds (a run ends within its checks' timeouts) and is not evidence — the sheet is, and it
//! is written to the store exactly once at the end, through the same store call and audit entry as before.
//! Keeping progress out of the database avoids a write per result on the shared writer. The price is that a
//! progress page only answers on the instance that started the run (the sheet itself is visible
//! everywhere). The map is bounded ([`MAX_RUNS`]) and finished runs expire ([`KEEP_FINISHED`]).

use super::{run_page, state_badge};
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use unyo_domain::Action;
use unyo_domain::connectivity::State as CheckState;
use unyo_store::Actor;
use unyo_store::connectivity::{CheckRow, SheetLine};

/// Runs kept at most (running or finished); a new run beyond it evicts the oldest finished one, or is
/// refused when all are still running.
pub const MAX_RUNS: usize = 64;
/// How long a finished run's progress page stays answerable.
pub const KEEP_FINISHED: Duration = Duration::from_secs(15 * 60);
/// A run that never reports its end (a task lost to a panic) is dropped after this.
const KEEP_RUNNING: Duration = Duration::from_secs(60 * 60);

/// One target of a run, as listed on the progress page and later on the sheet.
#[derive(Debug, Clone)]
struct Target {
    check: CheckRow,
    /// Its sheet line once probed.
    line: Option<SheetLine>,
}

/// How a run ended.
#[derive(Debug, Clone)]
enum Outcome {
    Running,
    Sheet(i64),
    Failed(String),
}

/// One run's progress.
#[derive(Debug)]
struct Run {
    user_id: Option<i64>,
    started: Instant,
    finished: Option<Instant>,
    targets: Vec<Target>,
    outcome: Outcome,
}

/// The runs of this instance (see the module comment for why they live in memory).
#[derive(Debug, Default)]
pub struct Runs {
    next: AtomicU64,
    map: Mutex<HashMap<u64, Run>>,
}

impl Runs {
    /// Registers a run over `checks`; `None` when [`MAX_RUNS`] runs are still running.
    fn start(&self, user_id: Option<i64>, checks: Vec<CheckRow>) -> Option<u64> {
        let mut map = self.map.lock().ok()?;
        let now = Instant::now();
        map.retain(|_, r| match r.finished {
            Some(f) => now.duration_since(f) < KEEP_FINISHED,
            None => now.duration_since(r.started) < KEEP_RUNNING,
        });
        if map.len() >= MAX_RUNS {
            let oldest = map
                .iter()
                .filter_map(|(id, r)| r.finished.map(|f| (f, *id)))
                .min()
                .map(|(_, id)| id)?;
            map.remove(&oldest);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        map.insert(
            id,
            Run {
                user_id,
                started: now,
                finished: None,
                targets: checks
                    .into_iter()
                    .map(|check| Target { check, line: None })
                    .collect(),
                outcome: Outcome::Running,
            },
        );
        Some(id)
    }

    fn with<T>(&self, id: u64, f: impl FnOnce(&mut Run) -> T) -> Option<T> {
        self.map.lock().ok()?.get_mut(&id).map(f)
    }

    fn record(&self, id: u64, index: usize, line: SheetLine) {
        self.with(id, |run| {
            if let Some(t) = run.targets.get_mut(index) {
                t.line = Some(line);
            }
        });
    }

    fn finish(&self, id: u64, outcome: Outcome) {
        self.with(id, |run| {
            run.outcome = outcome;
            run.finished = Some(Instant::now());
        });
    }
}

/// The background part of a run: the probe crate's one run path, which reports each target's line as it
/// arrives (recorded here for the progress page) and then keeps the sheet once.
async fn execute(
    state: AppState,
    actor: Actor,
    id: u64,
    checks: Vec<CheckRow>,
    work_entry_id: Option<i64>,
    note: String,
) {
    let runs = &state.runs;
    let kept = unyo_probe::sheet::run_checks_and_keep(
        &state.store,
        &actor,
        &checks,
        work_entry_id,
        &note,
        &state.config.blackhole,
        |i, line| runs.record(id, i, line.clone()),
    )
    .await;
    let outcome = match kept {
        Ok(sheet) => Outcome::Sheet(sheet),
        Err(e) => {
            tracing::warn!(error = %e, "on-demand run: sheet not kept");
            Outcome::Failed(e.to_string())
        }
    };
    runs.finish(id, outcome);
}

/// `POST /connectivity/run`: checks the choice, the work entry and the note, starts the run in the
/// background and sends the browser to its progress page.
pub(super) async fn run(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    ctx.require(Action::RunChecks)?;
    let ids = |k: &str| -> Vec<i64> {
        f.iter()
            .filter(|(n, _)| n == k)
            .filter_map(|(_, v)| v.parse().ok())
            .collect()
    };
    let one = |k: &str| -> String {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let work = one("work_entry_id");
    let work_entry_id = if work.is_empty() {
        None
    } else {
        match work.parse::<i64>() {
            Ok(w) => Some(w),
            Err(_) => {
                return run_page(
                    &state,
                    &ctx,
                    "作業記録の番号は数字で入力してください。".into(),
                )
                .await;
            }
        }
    };
    // Refusals the sheet would meet at the end are told now, before anything is probed.
    if let Some(w) = work_entry_id
        && state.store.work_entry(w).await.is_err()
    {
        return run_page(&state, &ctx, format!("作業記録 {w} は存在しません。")).await;
    }
    let note = one("note");
    if let Err(e) = unyo_domain::pii::guard_free_text("note", &note) {
        return run_page(&state, &ctx, e.message().to_string()).await;
    }
    let checks =
        unyo_probe::sheet::chosen_checks(&state.store, &ids("site_ids"), &ids("node_ids")).await?;
    if checks.is_empty() {
        return run_page(
            &state,
            &ctx,
            "選んだ拠点・経路に疎通確認が登録されていません。".into(),
        )
        .await;
    }
    let actor = ctx.actor();
    let Some(id) = state.runs.start(actor.user_id, checks.clone()) else {
        return run_page(
            &state,
            &ctx,
            "実行中の疎通確認が多すぎます。しばらくしてから実施してください。".into(),
        )
        .await;
    };
    tokio::spawn(execute(
        state.clone(),
        actor,
        id,
        checks,
        work_entry_id,
        note,
    ));
    Ok(Redirect::to(&format!("/connectivity/runs/{id}")).into_response())
}

struct TargetView {
    no: usize,
    site: String,
    target: String,
    check: String,
    probe: String,
    /// `None` while the target is still being probed.
    badge: Option<super::Badge>,
    latency: String,
    message: String,
    at: String,
}

#[derive(askama::Template)]
#[template(path = "connectivity_progress.html")]
struct ProgressPage {
    page: PageMeta,
    done: usize,
    total: usize,
    running: bool,
    sheet: Option<i64>,
    failed: String,
    rows: Vec<TargetView>,
}

/// `GET /connectivity/runs/{id}`: the run's progress; only its operator (or an administrator) may watch.
pub(super) async fn progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<u64>,
) -> Result<Response, WebError> {
    ctx.require(Action::RunChecks)?;
    let me = ctx.actor().user_id;
    let is_admin = ctx.user.role().allows(Action::ManageUsers);
    let snapshot = state
        .runs
        .with(id, |r| {
            (r.user_id == me || is_admin).then(|| (r.targets.clone(), r.outcome.clone()))
        })
        .flatten();
    let Some((targets, outcome)) = snapshot else {
        return Err(WebError::NotFound);
    };
    let total = targets.len();
    let done = targets.iter().filter(|t| t.line.is_some()).count();
    let rows = targets
        .iter()
        .enumerate()
        .map(|(i, t)| TargetView {
            no: i + 1,
            site: t.check.site_name.clone().unwrap_or_default(),
            target: t.check.target_name.clone().unwrap_or_default(),
            check: t.check.name.clone(),
            probe: t
                .check
                .probe_spec()
                .map(|s| s.describe())
                .unwrap_or_default(),
            badge: t.line.as_ref().map(|l| {
                state_badge(
                    &ctx,
                    CheckState::parse(&l.status).unwrap_or(CheckState::Unknown),
                )
            }),
            latency: t
                .line
                .as_ref()
                .and_then(|l| l.latency_ms)
                .map(|l| format!("{l} ms"))
                .unwrap_or_else(|| "-".into()),
            message: t
                .line
                .as_ref()
                .map(|l| l.message.clone())
                .unwrap_or_default(),
            at: t
                .line
                .as_ref()
                .map(|l| l.at.clone())
                .unwrap_or_else(|| "-".into()),
        })
        .collect();
    let (running, sheet, failed) = match outcome {
        Outcome::Running => (true, None, String::new()),
        Outcome::Sheet(s) => (false, Some(s), String::new()),
        Outcome::Failed(e) => (false, None, e),
    };
    let view = ProgressPage {
        page: ctx.page(ctx.tr.t("conn.progress"), "connectivity"),
        done,
        total,
        running,
        sheet,
        failed,
        rows,
    };
    let mut res = (StatusCode::OK, crate::page::render(&view)?).into_response();
    // A page that changes every second must not be served from a cache.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
