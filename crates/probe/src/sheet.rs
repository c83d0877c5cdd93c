//! The SE's on-demand 疎通確認: run the chosen checks now, and keep the 疎通確認結果表 (time, the engineer,
//! each target's result and latency) as evidence: its lines for the print view, and its XLSX as the documents
//! crate renders it at that moment ([`unyo_documents::check_sheet_xlsx`], stored byte for byte).
//! [`run_checks_and_keep`] is the one run path; its observer lets the web page show each line as it
//! arrives.

use crate::{Network, Prober, ResultRecord, Scheduled};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use unyo_domain::time::to_jst;
use unyo_store::connectivity::{CheckRow, SheetLine};
use unyo_store::{Actor, Result, Store, StoreError};

/// Checks an on-demand run probes at once.
pub const RUN_CONCURRENCY: usize = 64;

/// The checks of the chosen sites and paths (a node: the node itself and everything behind it) that can
/// be probed, in the board's order (site, target, name).
pub async fn chosen_checks(
    store: &Store,
    site_ids: &[i64],
    node_ids: &[i64],
) -> Result<Vec<CheckRow>> {
    let checks = store.checks().await?;
    let topo = store.check_topology().await?;
    let sites: HashSet<i64> = site_ids.iter().copied().collect();
    let nodes: HashSet<i64> = node_ids.iter().copied().collect();
    let chosen: HashSet<i64> = topo
        .iter()
        .filter(|t| {
            t.site_id.is_some_and(|s| sites.contains(&s))
                || t.own_node.is_some_and(|n| nodes.contains(&n))
                || t.path.iter().any(|n| nodes.contains(n))
        })
        .map(|t| t.check_id)
        .collect();
    Ok(checks
        .into_iter()
        .filter(|c| chosen.contains(&c.id) && c.probe_spec().is_some())
        .collect())
}

/// Runs the checks of the chosen sites and paths now, builds the sheet and stores it. Returns the sheet id.
/// Needs `RunChecks` (checked here before anything is probed, and by the store before the sheet is kept).
/// Refused when the choice holds no check.
pub async fn run_and_keep(
    store: &Store,
    actor: &Actor,
    site_ids: &[i64],
    node_ids: &[i64],
    work_entry_id: Option<i64>,
    note: &str,
) -> Result<i64> {
    actor.require(unyo_domain::Action::RunChecks)?;
    let checks = chosen_checks(store, site_ids, node_ids).await?;
    if checks.is_empty() {
        return Err(
            unyo_domain::DomainError::Validation(vec![unyo_domain::FieldError::new(
                "site_ids",
                "選んだ拠点・経路に疎通確認が登録されていません。",
            )])
            .into(),
        );
    }
    run_checks_and_keep(
        store,
        actor,
        &checks,
        work_entry_id,
        note,
        &Network,
        |_, _| {},
    )
    .await
}

/// The one run path of an on-demand 疎通確認: probes `checks` now through `prober` ([`RUN_CONCURRENCY`] at
/// once), calls `on_line` with each target's index in `checks` and its sheet line as soon as that target is
/// done (in the order they finish, e.g. to show progress live), then keeps the sheet once: lines in the order of
/// `checks`, the XLSX as produced (the documents crate's 疎通確認結果表, naming the engineer by display name),
/// through [`Store::create_check_sheet`] (which checks `RunChecks`, the work
/// entry and the note again, and audits `check_sheet.create`). Returns the sheet id. A check without a
/// probe spec, or whose probe task failed, has no line.
pub async fn run_checks_and_keep<P, F>(
    store: &Store,
    actor: &Actor,
    checks: &[CheckRow],
    work_entry_id: Option<i64>,
    note: &str,
    prober: &P,
    mut on_line: F,
) -> Result<i64>
where
    P: Prober,
    F: FnMut(usize, &SheetLine) + Send,
{
    actor.require(unyo_domain::Action::RunChecks)?;
    let sem = Arc::new(Semaphore::new(RUN_CONCURRENCY));
    let mut set = JoinSet::new();
    for (i, c) in checks.iter().enumerate() {
        let Some(spec) = c.probe_spec() else { continue };
        let s = Scheduled {
            id: c.id,
            spec,
            settings: c.settings(),
        };
        let sem = sem.clone();
        let prober = prober.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, prober.run(&s).await)
        });
    }
    let mut lines: Vec<Option<SheetLine>> = vec![None; checks.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            let line = sheet_line(&checks[i], &r);
            on_line(i, &line);
            lines[i] = Some(line);
        }
    }
    let lines: Vec<SheetLine> = lines.into_iter().flatten().collect();
    let operator = operator_name(store, actor).await?;
    let run = unyo_documents::CheckRun {
        number: None,
        at: to_jst(chrono::Utc::now()),
        operator: &operator,
        work_entry_id,
        note: note.trim(),
        lines: &lines,
    };
    // An XLSX (no PDF layout) of even a few thousand lines is written in milliseconds.
    let xlsx =
        unyo_documents::check_sheet_xlsx(&run).map_err(|e| StoreError::Internal(e.to_string()))?;
    store
        .create_check_sheet(actor, &lines, work_entry_id, note, &xlsx)
        .await
}

/// The sheet's line for a finished target.
pub fn sheet_line(c: &CheckRow, r: &ResultRecord) -> SheetLine {
    let at = chrono::DateTime::from_timestamp(r.ts, 0).unwrap_or_default();
    let state = r.status.state();
    SheetLine {
        check_id: c.id,
        site: c.site_name.clone().unwrap_or_default(),
        target: c.target_name.clone().unwrap_or_default(),
        check: c.name.clone(),
        probe: c.probe_spec().map(|s| s.describe()).unwrap_or_default(),
        status: state.as_str().into(),
        result: state.label_ja().into(),
        latency_ms: r.latency_ms,
        message: r.message.clone(),
        at: to_jst(at).format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// The name the sheet gives the engineer: the account's display name, its login id when it has none.
async fn operator_name(store: &Store, actor: &Actor) -> Result<String> {
    let user = match actor.user_id {
        Some(id) => store.user(id).await?,
        None => None,
    };
    Ok(user
        .map(|u| u.display_name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| actor.username.clone()))
}
