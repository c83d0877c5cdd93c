//! The SE's on-demand 疎通確認: run the chosen checks now, and keep the 疎通確認結果表 (time, operator, each
//! target's result and latency) as evidence, as XLSX (stored byte for byte) and lines for the print view.
//! [`run_checks_and_keep`] is the one run path; its observer lets the web page show each line as it
//! arrives.

use crate::{Network, Prober, ResultRecord, Scheduled};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use unyo_domain::time::to_jst;
use unyo_store::connectivity::{CheckRow, SheetLine};
use unyo_store::{Actor, Result, Store, StoreError};

/// The sheet's name and printed title.
pub const SHEET_TITLE: &str = "疎通確認結果表";

/// The column labels of the result table (the line number first), in the order both the XLSX and the PDF
/// print them.
pub const SHEET_COLUMNS: [&str; 9] = [
    "No.",
    "拠点",
    "対象",
    "確認項目",
    "宛先",
    "結果",
    "応答時間(ms)",
    "詳細",
    "確認時刻",
];

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
/// `checks`, the XLSX as produced, through [`Store::create_check_sheet`] (which checks `RunChecks`, the work
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
    let now = to_jst(chrono::Utc::now())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let xlsx = sheet_xlsx(&lines, &now, &actor.username, work_entry_id)
        .map_err(|e| StoreError::Internal(e.to_string()))?;
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

/// The 疎通確認結果表 as XLSX: A4 landscape, title, time and operator, one row per target, repeated header.
pub fn sheet_xlsx(
    lines: &[SheetLine],
    at: &str,
    operator: &str,
    work_entry_id: Option<i64>,
) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_TITLE)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color(0xDDDDDD);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let bad = Format::new().set_border(FormatBorder::Thin).set_bold();
    ws.write_with_format(0, 0, SHEET_TITLE, &title)?;
    ws.write(1, 0, format!("実施日時: {at}"))?;
    ws.write(2, 0, format!("実施者: {operator}"))?;
    if let Some(w) = work_entry_id {
        ws.write(3, 0, format!("作業記録: {w}"))?;
    }
    let hr = 5;
    for (i, h) in SHEET_COLUMNS.iter().enumerate() {
        ws.write_with_format(hr, i as u16, *h, &head)?;
    }
    for (n, l) in lines.iter().enumerate() {
        let row = hr + 1 + n as u32;
        ws.write_with_format(row, 0, (n + 1) as u32, &cell)?;
        ws.write_with_format(row, 1, &l.site, &cell)?;
        ws.write_with_format(row, 2, &l.target, &cell)?;
        ws.write_with_format(row, 3, &l.check, &cell)?;
        ws.write_with_format(row, 4, &l.probe, &cell)?;
        let f = if l.status == "up" { &cell } else { &bad };
        ws.write_with_format(row, 5, &l.result, f)?;
        match l.latency_ms {
            Some(ms) => ws.write_with_format(row, 6, ms, &cell)?,
            None => ws.write_with_format(row, 6, "-", &cell)?,
        };
        ws.write_with_format(row, 7, &l.message, &cell)?;
        ws.write_with_format(row, 8, &l.at, &cell)?;
    }
    for (i, w) in [5.0, 22.0, 22.0, 24.0, 26.0, 8.0, 12.0, 40.0, 20.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(i as u16, *w)?;
    }
    ws.set_repeat_rows(hr, hr)?;
    ws.set_footer("&C&P / &N");
    wb.save_to_buffer()
}
