//! The status board (`GET /connectivity`) for a fleet of any size: totals by state, the checks that are not
//! 正常 (worst first, paged), a summary per site (worst first, paged, filtered by site code/name and state,
//! with the fiscal year's availability per month), the network nodes' own checks, and the latest state
//! changes and check-result sheets.
//!
//! **Why a snapshot.** At 100,000 checks across 2,000 sites, reading every check, grouping it and reading the
//! fiscal year's daily roll-ups on every request costs seconds. The board is instead served from a
//! [`Snapshot`] kept in this instance's memory (in [`crate::AppState`], beside the on-demand runs: it is
//! page data, grouped and sorted for this page, not a store concern) and rebuilt in the background only
//! when something it shows has changed (stale-while-revalidate):
//!
//! - while someone looks, a request finding the last look for changes older than [`FRESH`] starts one
//!   refresh in the background and is answered from the snapshot it has; only the very first request (or one
//!   finding the snapshot older than [`MAX_STALE`], i.e. nobody looked for a while, or after
//!   [`BoardCache::invalidate`]) waits for a build;
//! - the refresh rebuilds only when something changed: the store's [`BoardFingerprint`] (one cheap query:
//!   the latest state change, the checks' and windows' counts and latest changes, nodes, registry version,
//!   latest sheet) differs from the one read with the snapshot; a maintenance window started or ended since
//!   (recurring windows too: the set of windows in force is compared); or the snapshot is older than
//!   [`RESULTS_FRESH`], which bounds the age of the last results shown (they change with every result and are
//!   not part of the fingerprint). Otherwise it only notes the time it looked;
//! - states come from one query for all checks with their target and site ([`Store::board_checks`]),
//!   grouped in memory once per rebuild;
//! - availability per site and month (the store's outage windows, the same figures as the 業務実績簿 and the
//!   council pack) is read per refresh: the whole fiscal year once (and when the month turns), then only the
//!   current month every [`AVAILABILITY_EVERY`] (past months do not change);
//! - the page says when its snapshot was taken (「HH:MM:SS 時点」) and when it last found nothing changed.
//!
//! Several instances sharing one PostgreSQL each keep their own snapshot; each page says its time. A
//! change made through any instance shows up within [`FRESH`] plus a rebuild, because the fingerprint is
//! read from the database; a change made through this instance's pages or API (a check created, a
//! maintenance window created, changed or retired) also calls [`BoardCache::invalidate`], so the person who
//! made it sees it on their next look.

use super::{EventView, event_view, fiscal_months, state_badge};
use crate::page::{Ctx, PageMeta, show_timestamp};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use unyo_domain::Action;
use unyo_domain::connectivity::{MaintenanceWindow, State as CheckState};
use unyo_domain::time::to_jst;
use unyo_store::Store;
use unyo_store::connectivity::{BoardCheck, DAY, EventRow, bucket_of};
use unyo_store::connectivity_board::BoardFingerprint;

/// While someone looks, the board looks for changes this often (in the background; the request is answered
/// from the snapshot meanwhile).
pub const FRESH: Duration = Duration::from_secs(5);
/// A snapshot older than this is rebuilt even when nothing else changed: it bounds the age of the last
/// results shown (the engine's last results reach the database about once a minute).
pub const RESULTS_FRESH: Duration = Duration::from_secs(60);
/// A snapshot older than this (nobody looked for a while) is rebuilt before answering. Above
/// [`RESULTS_FRESH`] plus a rebuild, so that a board someone keeps looking at never waits.
pub const MAX_STALE: Duration = Duration::from_secs(90);
/// The current month's availability is read again after this; past months are read once.
pub const AVAILABILITY_EVERY: Duration = Duration::from_secs(10 * 60);
/// Rows per page of the problem list and of the site summary.
pub const PER_PAGE: usize = 50;

/// A check's place on the board: its state, with 影響 (down because a node on its path is down) and 保守中
/// (a maintenance window applies) apart. Declared worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BoardState {
    Down,
    Degraded,
    Impacted,
    Unknown,
    Maintenance,
    Up,
}

impl BoardState {
    /// In the order the totals are shown.
    pub const SHOWN: [BoardState; 6] = [
        BoardState::Up,
        BoardState::Degraded,
        BoardState::Down,
        BoardState::Impacted,
        BoardState::Maintenance,
        BoardState::Unknown,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The query-parameter name.
    pub fn key(self) -> &'static str {
        match self {
            BoardState::Down => "down",
            BoardState::Degraded => "degraded",
            BoardState::Impacted => "impacted",
            BoardState::Unknown => "unknown",
            BoardState::Maintenance => "maintenance",
            BoardState::Up => "up",
        }
    }

    fn parse(s: &str) -> Option<BoardState> {
        Self::SHOWN.into_iter().find(|b| b.key() == s)
    }

    fn label(self, ja: bool) -> &'static str {
        match (self, ja) {
            (BoardState::Down, true) => "停止",
            (BoardState::Degraded, true) => "低下",
            (BoardState::Impacted, true) => "影響",
            (BoardState::Unknown, true) => "不明",
            (BoardState::Maintenance, true) => "保守中",
            (BoardState::Up, true) => "正常",
            (BoardState::Down, false) => "Down",
            (BoardState::Degraded, false) => "Degraded",
            (BoardState::Impacted, false) => "Impacted",
            (BoardState::Unknown, false) => "Unknown",
            (BoardState::Maintenance, false) => "Maintenance",
            (BoardState::Up, false) => "Up",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            BoardState::Down => "✖",
            BoardState::Degraded => "▲",
            BoardState::Impacted => "◆",
            BoardState::Unknown => "?",
            BoardState::Maintenance => "■",
            BoardState::Up => "●",
        }
    }

    fn class(self) -> &'static str {
        match self {
            BoardState::Down => "badge-warn badge-down",
            BoardState::Degraded | BoardState::Impacted => "badge-warn",
            BoardState::Unknown | BoardState::Maintenance => "badge-retired",
            BoardState::Up => "badge-active",
        }
    }

    /// Where a check stands: 保守中 first (no alert is raised), then 影響 for a down with a down node on its
    /// path, else its state.
    pub fn of(state: CheckState, impacted_by: Option<i64>, maintenance: bool) -> BoardState {
        if maintenance {
            return BoardState::Maintenance;
        }
        match state {
            CheckState::Down if impacted_by.is_some() => BoardState::Impacted,
            CheckState::Down => BoardState::Down,
            CheckState::Degraded => BoardState::Degraded,
            CheckState::Unknown => BoardState::Unknown,
            CheckState::Up => BoardState::Up,
        }
    }
}

/// A check that is not 正常, as the snapshot keeps it (words are chosen per request).
#[derive(Debug, Clone)]
pub struct Problem {
    pub id: i64,
    pub name: String,
    pub target: String,
    /// Index into [`Snapshot::sites`].
    pub site: Option<usize>,
    pub probe: String,
    pub state: CheckState,
    pub board: BoardState,
    /// The down node named as the probable cause (影響).
    pub impacted: Option<String>,
    pub maintenance: bool,
    pub since: Option<i64>,
    pub latency_ms: Option<i64>,
    pub last: Option<i64>,
}

/// One site's checks counted by state, with its availability per fiscal month.
#[derive(Debug, Clone)]
pub struct SiteSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Indexed by [`BoardState`] (declaration order).
    pub counts: [usize; 6],
    pub worst: Option<BoardState>,
    /// Percent per month of the fiscal year (April first); `None` when nothing was counted.
    pub months: Vec<Option<f64>>,
    /// Code and name, lower-cased, for the filter.
    search: String,
}

impl SiteSummary {
    fn problems(&self) -> usize {
        self.counts.iter().sum::<usize>() - self.counts[BoardState::Up.index()]
    }
}

/// A network node with its own checks.
#[derive(Debug, Clone)]
pub struct PathNode {
    pub id: i64,
    pub name: String,
    pub site: String,
    pub worst: Option<BoardState>,
    /// (check id, name, board state).
    pub checks: Vec<(i64, String, BoardState)>,
}

/// The board as of one moment, independent of the reader's language.
#[derive(Debug)]
pub struct Snapshot {
    /// When the data was read.
    pub taken_at: DateTime<Utc>,
    built: Instant,
    /// Checks in service.
    pub checks: usize,
    /// Indexed by [`BoardState`] (declaration order).
    pub totals: [usize; 6],
    /// Not 正常, worst first, then the most recent change first.
    pub problems: Vec<Problem>,
    /// Worst first, then the most problems, then by code.
    pub sites: Vec<SiteSummary>,
    pub paths: Vec<PathNode>,
    pub events: Vec<EventRow>,
    pub sheets: Vec<(i64, String, String, Option<i64>)>,
    /// The fiscal year's month starts.
    pub months: Vec<NaiveDate>,
    /// What the store's fingerprint was just before the data was read.
    fingerprint: BoardFingerprint,
    /// The maintenance windows not retired, and the ids of those in force at `taken_at`.
    windows: Vec<MaintenanceWindow>,
    in_force: Vec<i64>,
}

impl Snapshot {
    /// The ids of the windows in force at `at`, in order.
    fn in_force_at(&self, at: DateTime<Utc>) -> Vec<i64> {
        in_force(&self.windows, at)
    }
}

fn in_force(windows: &[MaintenanceWindow], at: DateTime<Utc>) -> Vec<i64> {
    let mut ids: Vec<i64> = windows
        .iter()
        .filter(|w| w.active_at(at))
        .map(|w| w.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// How often the board looks and rebuilds (the constants above; tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub fresh: Duration,
    pub results_fresh: Duration,
    pub max_stale: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            fresh: FRESH,
            results_fresh: RESULTS_FRESH,
            max_stale: MAX_STALE,
        }
    }
}

/// Why a refresh rebuilt the snapshot (`None`: nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuilt {
    /// Invalidated by a change made through this instance.
    Invalidated,
    /// The store's fingerprint moved (a state change, a check, window, node or sheet).
    Changed,
    /// A maintenance window started or ended.
    WindowBoundary,
    /// The snapshot was older than [`RESULTS_FRESH`].
    ResultsAged,
}

/// Availability per (site, `YYYY-MM`), kept between snapshots.
#[derive(Default)]
struct AvailabilityCache {
    /// The month (`YYYY-MM`, JST) the figures were last read in, and when.
    read_in: Option<(String, Instant)>,
    figures: HashMap<(i64, String), Option<f64>>,
}

/// The instance's board snapshot and its refresh (see the module documentation).
#[derive(Default)]
pub struct BoardCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    refreshing: AtomicBool,
    dirty: AtomicBool,
    /// Serialises builds and refreshes; holds what builds share.
    build: tokio::sync::Mutex<AvailabilityCache>,
    /// When the current snapshot was last found current (built, or looked at and nothing had changed):
    /// the instant, for the next look, and the time, for the page.
    checked: Mutex<Option<(Instant, DateTime<Utc>)>>,
    /// Snapshots built so far (for tests and diagnostics).
    rebuilds: AtomicU64,
    timings: Timings,
}

impl BoardCache {
    /// A cache with other timings than the defaults (tests).
    pub fn with_timings(timings: Timings) -> BoardCache {
        BoardCache {
            timings,
            ..BoardCache::default()
        }
    }

    /// How many snapshots this cache has built.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Acquire)
    }

    /// When the current snapshot was last found current (its build, or the last look that found nothing
    /// changed).
    pub fn checked_at(&self) -> Option<DateTime<Utc>> {
        self.checked.lock().ok().and_then(|c| c.map(|(_, at)| at))
    }

    fn checked_elapsed(&self) -> Option<Duration> {
        self.checked
            .lock()
            .ok()
            .and_then(|c| c.map(|(at, _)| at.elapsed()))
    }

    /// The snapshot to answer from: the current one (starting a background refresh when the last look for
    /// changes is older than [`FRESH`]), or a new one when there is none, it is older than [`MAX_STALE`]
    /// or it was invalidated.
    pub async fn get(self: &Arc<Self>, store: &Store) -> Result<Arc<Snapshot>, WebError> {
        let current = self.current.read().ok().and_then(|c| c.clone());
        match current {
            Some(s)
                if !self.dirty.load(Ordering::Acquire)
                    && s.built.elapsed() < self.timings.max_stale =>
            {
                let due = self
                    .checked_elapsed()
                    .is_none_or(|e| e >= self.timings.fresh);
                if due && !self.refreshing.swap(true, Ordering::AcqRel) {
                    let me = Arc::clone(self);
                    let store = store.clone();
                    tokio::spawn(async move {
                        if let Err(e) = me.refresh(&store).await {
                            tracing::warn!(error = %e, "status board: refresh failed");
                        }
                        me.refreshing.store(false, Ordering::Release);
                    });
                }
                Ok(s)
            }
            _ => Ok(self.rebuild(store, Some(Instant::now())).await?),
        }
    }

    /// The next request waits for a new snapshot (after a change made through this instance).
    pub fn invalidate(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// Looks for changes and rebuilds the snapshot if there are any (see the module documentation); what
    /// the background refresh runs. Returns why it rebuilt, or `None` when the snapshot is still current.
    pub async fn refresh(&self, store: &Store) -> Result<Option<Rebuilt>, unyo_store::StoreError> {
        let mut availability = self.build.lock().await;
        let Some(current) = self.current.read().ok().and_then(|c| c.clone()) else {
            self.build_locked(store, &mut availability).await?;
            return Ok(Some(Rebuilt::Invalidated));
        };
        let now = Utc::now();
        let why = if self.dirty.load(Ordering::Acquire) {
            Some(Rebuilt::Invalidated)
        } else if current.built.elapsed() >= self.timings.results_fresh {
            Some(Rebuilt::ResultsAged)
        } else if current.in_force_at(now) != current.in_force {
            Some(Rebuilt::WindowBoundary)
        } else if store.board_fingerprint().await? != current.fingerprint {
            Some(Rebuilt::Changed)
        } else {
            None
        };
        match why {
            Some(_) => {
                self.build_locked(store, &mut availability).await?;
            }
            None => {
                if let Ok(mut c) = self.checked.lock() {
                    *c = Some((Instant::now(), now));
                }
            }
        }
        Ok(why)
    }

    /// Builds a snapshot. With `wanted_after`, a snapshot built after that instant by a concurrent caller
    /// (who held the build lock first) is taken instead of building again.
    async fn rebuild(
        &self,
        store: &Store,
        wanted_after: Option<Instant>,
    ) -> Result<Arc<Snapshot>, unyo_store::StoreError> {
        let mut availability = self.build.lock().await;
        if let Some(after) = wanted_after
            && let Some(s) = self.current.read().ok().and_then(|c| c.clone())
            && s.built >= after
            && !self.dirty.load(Ordering::Acquire)
        {
            return Ok(s);
        }
        self.build_locked(store, &mut availability).await
    }

    /// Builds and installs a snapshot; the caller holds the build lock.
    async fn build_locked(
        &self,
        store: &Store,
        availability: &mut AvailabilityCache,
    ) -> Result<Arc<Snapshot>, unyo_store::StoreError> {
        self.dirty.store(false, Ordering::Release);
        let snapshot = Arc::new(build(store, availability).await?);
        if let Ok(mut c) = self.current.write() {
            *c = Some(Arc::clone(&snapshot));
        }
        if let Ok(mut c) = self.checked.lock() {
            *c = Some((snapshot.built, snapshot.taken_at));
        }
        self.rebuilds.fetch_add(1, Ordering::AcqRel);
        Ok(snapshot)
    }
}

fn day_number(d: NaiveDate) -> i64 {
    let ts = d
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0)
        - 9 * 3600;
    bucket_of(ts, DAY)
}

/// Reads the availability figures the snapshot needs (the store's outage windows, as the 業務実績簿 and the
/// council pack show them): the whole fiscal year when none were read this month, else the current month
/// when they are older than [`AVAILABILITY_EVERY`].
async fn refresh_availability(
    store: &Store,
    cache: &mut AvailabilityCache,
    months: &[NaiveDate],
    now: chrono::DateTime<Utc>,
) -> Result<(), unyo_store::StoreError> {
    let today = to_jst(now).date();
    let this_month = today.format("%Y-%m").to_string();
    let end = months
        .last()
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .map(day_number);
    let from = match &cache.read_in {
        Some((m, at)) if *m == this_month => {
            if at.elapsed() < AVAILABILITY_EVERY {
                return Ok(());
            }
            NaiveDate::from_ymd_opt(today.year(), today.month(), 1).map(day_number)
        }
        _ => {
            cache.figures.clear();
            months.first().map(|d| day_number(*d))
        }
    };
    let (Some(from), Some(to)) = (from, end) else {
        return Ok(());
    };
    for f in store.site_availability(from, to, now).await? {
        cache.figures.insert((f.site_id, f.month), f.availability);
    }
    cache.read_in = Some((this_month, Instant::now()));
    Ok(())
}

async fn build(
    store: &Store,
    availability: &mut AvailabilityCache,
) -> Result<Snapshot, unyo_store::StoreError> {
    let taken_at = Utc::now();
    let built = Instant::now();
    // Read first: a change made while the data is read then shows as a change at the next look.
    let fingerprint = store.board_fingerprint().await?;
    let checks = store.board_checks().await?;
    let nodes = store.all_nodes().await?;
    let node_names: HashMap<i64, &str> = nodes.iter().map(|n| (n.id, n.name.as_str())).collect();
    // 保守中 as soon as a window applies, not only once the engine has reported a result inside it.
    let all_windows = store.maintenance_windows().await?;
    let in_force_now = in_force(&all_windows, taken_at);
    let windows: Vec<_> = all_windows
        .iter()
        .filter(|w| w.active_at(taken_at))
        .collect();
    let covered: HashSet<i64> = if windows.is_empty() {
        HashSet::new()
    } else {
        store
            .check_topology()
            .await?
            .into_iter()
            .filter(|t| {
                let mut on_path = t.path.clone();
                on_path.extend(t.own_node);
                windows
                    .iter()
                    .any(|w| w.covers(t.check_id, t.site_id, &on_path))
            })
            .map(|t| t.check_id)
            .collect()
    };
    let months = fiscal_months();
    refresh_availability(store, availability, &months, taken_at).await?;

    let mut totals = [0usize; 6];
    let mut sites: Vec<SiteSummary> = Vec::new();
    let mut site_index: HashMap<i64, usize> = HashMap::new();
    let mut problems = Vec::new();
    let mut node_checks: HashMap<i64, Vec<(i64, String, BoardState)>> = HashMap::new();
    for c in &checks {
        let state = c.current_state();
        let maintenance = c.in_maintenance() || covered.contains(&c.id);
        let impacted_by = c.impacted_by.filter(|_| state == CheckState::Down);
        let board = BoardState::of(state, impacted_by, maintenance);
        totals[board.index()] += 1;
        let site = c.site_id.map(|id| {
            *site_index.entry(id).or_insert_with(|| {
                sites.push(site_summary(id, c, months.len()));
                sites.len() - 1
            })
        });
        if let Some(i) = site {
            sites[i].counts[board.index()] += 1;
        }
        if c.target_kind == "node" {
            node_checks
                .entry(c.target_id)
                .or_default()
                .push((c.id, c.name.clone(), board));
        }
        if board != BoardState::Up {
            problems.push(problem(
                c,
                site,
                state,
                board,
                impacted_by,
                maintenance,
                &node_names,
            ));
        }
    }
    // Sites with figures but no check in service now (their checks were retired) keep their row.
    let mut missing: Vec<i64> = availability
        .figures
        .keys()
        .map(|(site, _)| *site)
        .filter(|s| !site_index.contains_key(s))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        for (id, code, name) in store.site_options().await? {
            if missing.binary_search(&id).is_ok() {
                site_index.insert(id, sites.len());
                sites.push(SiteSummary {
                    id,
                    search: format!("{code} {name}").to_lowercase(),
                    code,
                    name,
                    counts: [0; 6],
                    worst: None,
                    months: vec![None; months.len()],
                });
            }
        }
    }
    let keys: Vec<String> = months
        .iter()
        .map(|m| m.format("%Y-%m").to_string())
        .collect();
    for s in &mut sites {
        s.worst = BoardState::SHOWN
            .into_iter()
            .filter(|b| s.counts[b.index()] > 0)
            .min();
        for (cell, key) in s.months.iter_mut().zip(&keys) {
            *cell = availability
                .figures
                .get(&(s.id, key.clone()))
                .copied()
                .flatten();
        }
    }
    // Problems point into `sites` by index: sort the sites first and remap.
    let mut order: Vec<usize> = (0..sites.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&sites[a], &sites[b]);
        x.worst
            .unwrap_or(BoardState::Up)
            .cmp(&y.worst.unwrap_or(BoardState::Up))
            .then(y.problems().cmp(&x.problems()))
            .then(x.worst.is_none().cmp(&y.worst.is_none()))
            .then(x.code.cmp(&y.code))
    });
    let mut new_index = vec![0; sites.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<SiteSummary>> = sites.into_iter().map(Some).collect();
    let sites: Vec<SiteSummary> = order.iter().filter_map(|&i| slots[i].take()).collect();
    for p in &mut problems {
        p.site = p.site.map(|i| new_index[i]);
    }
    problems.sort_by(|a, b| {
        a.board
            .cmp(&b.board)
            .then(b.since.cmp(&a.since))
            .then(a.id.cmp(&b.id))
    });

    let mut paths: Vec<PathNode> = nodes
        .iter()
        .filter(|n| n.retired_at.is_none())
        .map(|n| {
            let mut checks = node_checks.remove(&n.id).unwrap_or_default();
            checks.sort_by(|a, b| a.2.cmp(&b.2).then(a.1.cmp(&b.1)));
            PathNode {
                id: n.id,
                name: n.name.clone(),
                site: n.site_name.clone().unwrap_or_default(),
                worst: checks.iter().map(|c| c.2).min(),
                checks,
            }
        })
        .collect();
    paths.sort_by(|a, b| {
        a.worst
            .unwrap_or(BoardState::Up)
            .cmp(&b.worst.unwrap_or(BoardState::Up))
            .then(a.worst.is_none().cmp(&b.worst.is_none()))
            .then(a.name.cmp(&b.name))
    });

    Ok(Snapshot {
        taken_at,
        built,
        checks: checks.len(),
        totals,
        problems,
        sites,
        paths,
        events: store.check_events(None, 20).await?,
        sheets: store.check_sheets(20).await?,
        months,
        fingerprint,
        in_force: in_force_now,
        windows: all_windows,
    })
}

fn site_summary(id: i64, c: &BoardCheck, months: usize) -> SiteSummary {
    let code = c.site_code.clone().unwrap_or_default();
    let name = c.site_name.clone().unwrap_or_default();
    SiteSummary {
        id,
        search: format!("{code} {name}").to_lowercase(),
        code,
        name,
        counts: [0; 6],
        worst: None,
        months: vec![None; months],
    }
}

fn problem(
    c: &BoardCheck,
    site: Option<usize>,
    state: CheckState,
    board: BoardState,
    impacted_by: Option<i64>,
    maintenance: bool,
    node_names: &HashMap<i64, &str>,
) -> Problem {
    Problem {
        id: c.id,
        name: c.name.clone(),
        target: c.target_name.clone().unwrap_or_default(),
        site,
        probe: c.probe_spec().map(|s| s.describe()).unwrap_or_default(),
        state,
        board,
        impacted: impacted_by.map(|n| {
            node_names
                .get(&n)
                .map(|s| s.to_string())
                .unwrap_or_else(|| n.to_string())
        }),
        maintenance,
        since: c.state_since,
        latency_ms: c.last_latency_ms,
        last: c.last_ts,
    }
}

// ---------------------------------------------------------------------------------------------------
// The page

/// Query parameters of the board (all optional; anything unreadable is ignored).
#[derive(Debug, Default, Deserialize)]
pub(super) struct BoardQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    sites_page: String,
}

struct Shown {
    key: &'static str,
    icon: &'static str,
    text: &'static str,
    class: &'static str,
}

fn shown(b: BoardState, ja: bool) -> Shown {
    Shown {
        key: b.key(),
        icon: b.icon(),
        text: b.label(ja),
        class: b.class(),
    }
}

struct Total {
    state: Shown,
    count: usize,
    href: String,
    current: bool,
}

struct ProblemView {
    href: String,
    site: String,
    target: String,
    name: String,
    probe: String,
    badge: super::Badge,
    impacted: Option<String>,
    maintenance: bool,
    since: String,
    latency: String,
    last: String,
}

struct SiteView {
    code: String,
    name: String,
    worst: Option<Shown>,
    counts: Vec<usize>,
    months: Vec<String>,
}

struct PathView {
    name: String,
    site: String,
    worst: Option<Shown>,
    checks: Vec<(String, String, Shown)>,
}

struct Pager {
    label: String,
    prev: Option<String>,
    next: Option<String>,
}

struct StateOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(askama::Template)]
#[template(path = "connectivity_board.html")]
struct BoardPage {
    page: PageMeta,
    as_of: String,
    /// When the snapshot was last found current, if later than it was taken.
    checked: Option<String>,
    refresh_help: &'static str,
    checks: usize,
    totals: Vec<Total>,
    shown_states: Vec<Shown>,
    q: String,
    state_options: Vec<StateOption>,
    filtered: bool,
    problems: Vec<ProblemView>,
    problems_pager: Pager,
    sites: Vec<SiteView>,
    sites_pager: Pager,
    month_labels: Vec<String>,
    paths: Vec<PathView>,
    events: Vec<EventView>,
    sheets: Vec<(i64, String, String, Option<i64>)>,
    can_run: bool,
}

/// `/connectivity?…` with these parameters (empty ones left out).
fn board_href(q: &str, state: &str, page: usize, sites_page: usize, anchor: &str) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        ser.append_pair("q", q);
    }
    if !state.is_empty() {
        ser.append_pair("state", state);
    }
    if page > 1 {
        ser.append_pair("page", &page.to_string());
    }
    if sites_page > 1 {
        ser.append_pair("sites_page", &sites_page.to_string());
    }
    let query = ser.finish();
    let mut href = String::from("/connectivity");
    if !query.is_empty() {
        href.push('?');
        href.push_str(&query);
    }
    href.push_str(anchor);
    href
}

/// The page number asked for, kept within 1..=pages.
fn page_of(raw: &str, total: usize) -> usize {
    let pages = total.div_ceil(PER_PAGE).max(1);
    raw.trim().parse::<usize>().unwrap_or(1).clamp(1, pages)
}

fn pager(ja: bool, page: usize, total: usize, href: impl Fn(usize) -> String) -> Pager {
    let pages = total.div_ceil(PER_PAGE).max(1);
    let first = if total == 0 {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let last = (page * PER_PAGE).min(total);
    let label = if ja {
        format!("{page} / {pages} ページ（{total} 件中 {first}–{last} 件目）")
    } else {
        format!("Page {page} of {pages} ({first}–{last} of {total})")
    };
    Pager {
        label,
        prev: (page > 1).then(|| href(page - 1)),
        next: (page < pages).then(|| href(page + 1)),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map(|a| format!("{a:.2}%")).unwrap_or_else(|| "-".into())
}

/// `GET /connectivity`.
pub(super) async fn board(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<BoardQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let snap = state.board.get(&state.store).await?;
    let ja = ctx.tr.is_ja();
    let q = query.q.trim().to_string();
    let needle = q.to_lowercase();
    let filter_state = BoardState::parse(query.state.trim());
    let state_key = filter_state.map(BoardState::key).unwrap_or("");

    // Sites matching the text (by index into the snapshot's sites).
    let site_match: Vec<bool> = snap
        .sites
        .iter()
        .map(|s| needle.is_empty() || s.search.contains(&needle))
        .collect();
    let problem_ok = |p: &Problem| {
        filter_state.is_none_or(|f| p.board == f)
            && (needle.is_empty() || p.site.is_some_and(|i| site_match[i]))
    };
    let problems_total = snap.problems.iter().filter(|p| problem_ok(p)).count();
    let page = page_of(&query.page, problems_total);
    let site_ok = |(i, s): &(usize, &SiteSummary)| {
        site_match[*i] && filter_state.is_none_or(|f| s.counts[f.index()] > 0)
    };
    let sites_total = snap.sites.iter().enumerate().filter(site_ok).count();
    let sites_page = page_of(&query.sites_page, sites_total);

    let problems = snap
        .problems
        .iter()
        .filter(|p| problem_ok(p))
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|p| {
            let site = p.site.map(|i| &snap.sites[i]);
            ProblemView {
                href: format!("/connectivity/checks/{}", p.id),
                site: site.map(|s| s.name.clone()).unwrap_or_default(),
                target: p.target.clone(),
                name: p.name.clone(),
                probe: p.probe.clone(),
                badge: state_badge(&ctx, p.state),
                impacted: p.impacted.clone(),
                maintenance: p.maintenance,
                since: show_timestamp(ctx.tr, p.since),
                latency: p
                    .latency_ms
                    .map(|l| format!("{l} ms"))
                    .unwrap_or_else(|| "-".into()),
                last: show_timestamp(ctx.tr, p.last),
            }
        })
        .collect();
    let sites = snap
        .sites
        .iter()
        .enumerate()
        .filter(site_ok)
        .skip((sites_page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|(_, s)| SiteView {
            code: s.code.clone(),
            name: s.name.clone(),
            worst: s.worst.map(|b| shown(b, ja)),
            counts: BoardState::SHOWN
                .iter()
                .map(|b| s.counts[b.index()])
                .collect(),
            months: s.months.iter().map(|v| percent(*v)).collect(),
        })
        .collect();
    let totals = BoardState::SHOWN
        .into_iter()
        .map(|b| Total {
            state: shown(b, ja),
            count: snap.totals[b.index()],
            href: board_href(&q, b.key(), 1, 1, "#problems"),
            current: filter_state == Some(b),
        })
        .collect();
    let paths = snap
        .paths
        .iter()
        .map(|n| PathView {
            name: n.name.clone(),
            site: n.site.clone(),
            worst: n.worst.map(|b| shown(b, ja)),
            checks: n
                .checks
                .iter()
                .map(|(id, name, b)| {
                    (
                        format!("/connectivity/checks/{id}"),
                        name.clone(),
                        shown(*b, ja),
                    )
                })
                .collect(),
        })
        .collect();
    let as_of = to_jst(snap.taken_at).format("%H:%M:%S").to_string();
    let checked = state
        .board
        .checked_at()
        .filter(|at| at.timestamp() > snap.taken_at.timestamp())
        .map(|at| {
            let t = to_jst(at).format("%H:%M:%S");
            if ja {
                format!("（{t} に変更なしを確認）")
            } else {
                format!("(no change as of {t})")
            }
        });
    let view = BoardPage {
        page: ctx.page(ctx.tr.t("conn.title"), "connectivity"),
        as_of: if ja {
            format!("{as_of} 時点")
        } else {
            format!("as of {as_of}")
        },
        checked,
        refresh_help: if ja {
            "状態の変化、確認項目・保守時間帯の変更は数秒で反映し、各項目の最終結果は1分ごとに更新します。"
        } else {
            "State changes and changes to checks or maintenance windows show within seconds; last results are refreshed every minute."
        },
        checks: snap.checks,
        totals,
        shown_states: BoardState::SHOWN.iter().map(|b| shown(*b, ja)).collect(),
        state_options: BoardState::SHOWN
            .iter()
            .map(|b| StateOption {
                value: b.key(),
                label: b.label(ja),
                selected: filter_state == Some(*b),
            })
            .collect(),
        filtered: !q.is_empty() || filter_state.is_some(),
        problems,
        problems_pager: pager(ja, page, problems_total, |p| {
            board_href(&q, state_key, p, sites_page, "#problems")
        }),
        sites,
        sites_pager: pager(ja, sites_page, sites_total, |p| {
            board_href(&q, state_key, page, p, "#sites")
        }),
        month_labels: snap
            .months
            .iter()
            .map(|m| format!("{}月", m.month()))
            .collect(),
        paths,
        events: snap.events.iter().map(|e| event_view(&ctx, e)).collect(),
        sheets: snap.sheets.clone(),
        can_run: ctx.user.role().allows(Action::RunChecks),
        q,
    };
    Ok((StatusCode::OK, crate::page::render(&view)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_states_are_ordered_worst_first_and_round_trip() {
        assert!(BoardState::Down < BoardState::Degraded);
        assert!(BoardState::Impacted < BoardState::Unknown);
        assert!(BoardState::Maintenance < BoardState::Up);
        for b in BoardState::SHOWN {
            assert_eq!(BoardState::parse(b.key()), Some(b));
        }
        assert_eq!(
            BoardState::of(CheckState::Down, Some(3), false),
            BoardState::Impacted
        );
        assert_eq!(
            BoardState::of(CheckState::Down, None, true),
            BoardState::Maintenance
        );
    }

    #[test]
    fn pages_are_clamped_and_links_keep_the_filters() {
        assert_eq!(page_of("", 0), 1);
        assert_eq!(page_of("9", 120), 3);
        assert_eq!(page_of("x", 120), 1);
        assert_eq!(
            board_href("佐賀 1", "down", 2, 1, "#problems"),
            "/connectivity?q=%E4%BD%90%E8%B3%80+1&state=down&page=2#problems"
        );
        let p = pager(true, 2, 120, |n| n.to_string());
        assert_eq!(p.prev.as_deref(), Some("1"));
        assert_eq!(p.next.as_deref(), Some("3"));
        assert!(p.label.contains("51–100"), "{}", p.label);
    }

    /// A site with one terminal and its check.
    async fn one_check(store: &Store) -> (i64, i64) {
        let a = unyo_store::Actor::system("test");
        let site = store
            .create_site(
                &a,
                &unyo_domain::registry::SiteInput {
                    code: "KARATSU".into(),
                    name: "唐津土木事務所".into(),
                    kind: "doboku".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let t = store
            .create_terminal(
                &a,
                &unyo_domain::registry::TerminalInput {
                    site_id: Some(site.id),
                    hostname: "KARATSU-DOBOKU-01".into(),
                    kind: "business".into(),
                    ip_address: "127.0.0.2".into(),
                    os_name: "Windows 11".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let c = store
            .create_check(
                &a,
                &unyo_domain::connectivity::CheckInput {
                    name: "唐津土木 ping".into(),
                    target_kind: "terminal".into(),
                    target_id: t.id,
                    kind: "icmp".into(),
                    address: "127.0.0.2".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        (site.id, c.id)
    }

    fn event(check_id: i64, to: CheckState) -> unyo_store::connectivity::NewEvent {
        unyo_store::connectivity::NewEvent {
            check_id,
            ts: Utc::now().timestamp(),
            from: CheckState::Unknown,
            to,
            cause: "試験".into(),
            impacted_by: None,
            maintenance: false,
            results: serde_json::json!([]),
            message: String::new(),
        }
    }

    const LONG: Duration = Duration::from_secs(3600);

    /// No change, no rebuild (results alone do not count); each kind of change rebuilds at the next look
    /// and shows: a state change, a window created, a window's start passing, the results' age bound.
    #[tokio::test]
    async fn the_snapshot_is_rebuilt_only_when_something_changed() {
        let db = unyo_store::testing::test_store().await.unwrap();
        let store = &db.store;
        let a = unyo_store::Actor::system("test");
        let (site_id, check) = one_check(store).await;
        // Looks only when this test asks (`refresh`): `get` starts none.
        let cache = Arc::new(BoardCache::with_timings(Timings {
            fresh: LONG,
            results_fresh: LONG,
            max_stale: LONG,
        }));
        let first = cache.get(store).await.unwrap();
        assert_eq!(cache.rebuilds(), 1);
        assert_eq!(first.totals[BoardState::Unknown.index()], 1);

        // Nothing changed: a look, no rebuild; results flowing in are not a change.
        assert_eq!(cache.refresh(store).await.unwrap(), None);
        store
            .append_check_results(
                &a,
                &[unyo_store::connectivity::NewResult {
                    check_id: check,
                    ts: Utc::now().timestamp(),
                    code: 0,
                    latency_ms: Some(2),
                }],
            )
            .await
            .unwrap();
        assert_eq!(cache.refresh(store).await.unwrap(), None);
        assert_eq!(cache.rebuilds(), 1);
        assert!(cache.checked_at().unwrap() >= first.taken_at);

        // A state change (written by the engine, not through this instance): rebuilt at the next look.
        store
            .record_check_event(&a, &event(check, CheckState::Down))
            .await
            .unwrap();
        assert_eq!(cache.refresh(store).await.unwrap(), Some(Rebuilt::Changed));
        assert_eq!(cache.rebuilds(), 2);
        let snap = cache.get(store).await.unwrap();
        assert_eq!(snap.totals[BoardState::Down.index()], 1);
        assert_eq!(cache.refresh(store).await.unwrap(), None);

        // A window created (starting in a moment): a change; once its start passes, a boundary.
        let start = Utc::now() + chrono::Duration::milliseconds(1500);
        store
            .create_maintenance_window(
                &a,
                &MaintenanceWindow {
                    id: 0,
                    title: "回線工事".into(),
                    site_id: Some(site_id),
                    node_id: None,
                    check_id: None,
                    when: unyo_domain::connectivity::Recurrence::Once {
                        start,
                        end: start + chrono::Duration::hours(1),
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(cache.refresh(store).await.unwrap(), Some(Rebuilt::Changed));
        let snap = cache.get(store).await.unwrap();
        assert_eq!(snap.totals[BoardState::Maintenance.index()], 0);
        assert_eq!(cache.refresh(store).await.unwrap(), None);
        let wait = (start - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait + Duration::from_millis(100)).await;
        assert_eq!(
            cache.refresh(store).await.unwrap(),
            Some(Rebuilt::WindowBoundary)
        );
        let snap = cache.get(store).await.unwrap();
        assert_eq!(snap.totals[BoardState::Maintenance.index()], 1);
        assert_eq!(cache.rebuilds(), 4);

        // The results' age bound: a cache whose bound has passed rebuilds with nothing else changed.
        let aged = Arc::new(BoardCache::with_timings(Timings {
            fresh: LONG,
            results_fresh: Duration::ZERO,
            max_stale: LONG,
        }));
        aged.get(store).await.unwrap();
        assert_eq!(
            aged.refresh(store).await.unwrap(),
            Some(Rebuilt::ResultsAged)
        );
        assert_eq!(aged.rebuilds(), 2);

        // Invalidated through this instance: the next request waits for a new snapshot.
        cache.invalidate();
        cache.get(store).await.unwrap();
        assert_eq!(cache.rebuilds(), 5);
    }

    /// Through `get` alone, as the page uses it: a change made elsewhere shows on the read after the
    /// background look; reads without a change do not rebuild.
    #[tokio::test]
    async fn a_change_shows_on_the_next_read_after_the_background_look() {
        let db = unyo_store::testing::test_store().await.unwrap();
        let store = &db.store;
        let a = unyo_store::Actor::system("test");
        let (_, check) = one_check(store).await;
        let cache = Arc::new(BoardCache::with_timings(Timings {
            fresh: Duration::ZERO,
            results_fresh: LONG,
            max_stale: LONG,
        }));
        let settled = async |cache: &Arc<BoardCache>| {
            while cache.refreshing.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        cache.get(store).await.unwrap();
        for _ in 0..5 {
            cache.get(store).await.unwrap();
            settled(&cache).await;
        }
        assert_eq!(cache.rebuilds(), 1, "five reads, nothing changed");
        store
            .record_check_event(&a, &event(check, CheckState::Up))
            .await
            .unwrap();
        let before = cache.get(store).await.unwrap();
        assert_eq!(before.totals[BoardState::Up.index()], 0, "answered at once");
        settled(&cache).await;
        let after = cache.get(store).await.unwrap();
        assert_eq!(after.totals[BoardState::Up.index()], 1);
        assert_eq!(cache.rebuilds(), 2);
    }
}
