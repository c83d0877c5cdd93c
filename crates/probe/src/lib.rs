//! unyo's connectivity-check engine (疎通確認, R5).
//!
//! * [`probes`]: one attempt of ICMP echo, TCP connect (closed with RST), HTTP(S) GET, DNS query, each bounded
//!   by a hard timeout.
//! * [`run_check`]: a check run = attempts with retries, classified up / degraded / down / unknown.
//! * [`Engine`]: a jittered schedule of many checks with bounded concurrency (a semaphore); results go to a
//!   channel (the sink) that a writer batches into the database. A hanging target holds only its own permit
//!   until its timeout.
//! * [`Evaluator`]: results → states through the domain's flap damper, with path awareness (影響) and
//!   maintenance windows; yields the events to record, notify and raise incidents for.

pub mod blackhole;
pub mod cluster;
pub mod notify;
pub mod probes;
pub mod service;
pub mod sheet;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use unyo_domain::connectivity::{
    CheckSettings, Damper, MaintenanceWindow, Observation, ProbeSpec, ProbeStatus, State,
    StateChange, classify, probable_failure_point,
};

pub use blackhole::{Blackhole, Network, Prober};
pub use probes::{Answer, IcmpMode, icmp_mode};

/// One check as the engine runs it.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub id: i64,
    pub spec: ProbeSpec,
    pub settings: CheckSettings,
}

/// The result of one check run, as sent to the sink.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRecord {
    pub check_id: i64,
    /// Unix seconds when the run started.
    pub ts: i64,
    pub status: ProbeStatus,
    pub latency_ms: Option<u32>,
    pub message: String,
    pub cert_days_left: Option<i64>,
    /// How late the run started against its schedule (zero for on-demand runs).
    #[serde(skip)]
    pub lateness: Duration,
    /// When the run started (monotonic), so that lateness can be related to what else was running then.
    #[serde(skip)]
    pub started: Instant,
}

/// Runs a check once: up to `retries + 1` attempts, each bounded by `timeout_ms`; the first success
/// decides (degraded when slower than `degraded_ms`, or when the TLS certificate expires within
/// `cert_warn_days`).
pub async fn run_check(id: i64, spec: &ProbeSpec, settings: &CheckSettings) -> ResultRecord {
    let started = Instant::now();
    let ts = Utc::now().timestamp();
    let timeout = Duration::from_millis(u64::from(settings.timeout_ms));
    let mut last = None;
    for _ in 0..=settings.retries {
        let a = probes::attempt(spec, timeout).await;
        let stop = a.ok || a.not_tried;
        last = Some(a);
        if stop {
            break;
        }
    }
    let a = last.unwrap_or_else(|| Answer {
        ok: false,
        not_tried: true,
        latency: Duration::ZERO,
        message: String::new(),
        cert_days_left: None,
    });
    let latency_ms = u32::try_from(a.latency.as_millis()).unwrap_or(u32::MAX);
    let mut status = if a.not_tried {
        ProbeStatus::Unknown
    } else {
        classify(a.ok, latency_ms, settings.degraded_ms)
    };
    let mut message = a.message.clone();
    if let (
        ProbeSpec::Http {
            cert_warn_days: warn,
            ..
        },
        Some(days),
    ) = (spec, a.cert_days_left)
    {
        if *warn > 0 && days < i64::from(*warn) && status == ProbeStatus::Up {
            status = ProbeStatus::Degraded;
        }
        message = format!("{message}（証明書の残り {days} 日）");
    }
    if status == ProbeStatus::Degraded && !message.contains("証明書") {
        message = format!("{message}（{latency_ms} ms > {} ms）", settings.degraded_ms);
    }
    ResultRecord {
        check_id: id,
        ts,
        status,
        latency_ms: (a.ok).then_some(latency_ms),
        message,
        cert_days_left: a.cert_days_left,
        lateness: Duration::ZERO,
        started,
    }
}

/// Engine settings.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Checks in flight at most.
    pub concurrency: usize,
    /// Spread the first runs over one interval (true), or start all at once (false, for tests).
    pub jitter: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency: 512,
            jitter: true,
        }
    }
}

/// A running engine; stops when dropped or when [`Engine::stop`] is called, or when the sink is closed.
pub struct Engine {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long from `now_ms` (Unix milliseconds) until the check's next run: each check runs at a phase of
/// its own within its interval, a hash of its id against the wall clock, so the runs of a fleet are spread
/// evenly, and an engine restarted, or another instance taking the check over, runs it in the same place
/// of each interval: never twice in one interval.
pub fn phase_offset(check_id: i64, interval_ms: u64, now_ms: i64) -> u64 {
    if interval_ms == 0 {
        return 0;
    }
    // splitmix64: neighbouring ids land far apart.
    let mut z = (check_id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let phase = z % interval_ms;
    let now = now_ms.rem_euclid(interval_ms as i64) as u64;
    (phase + interval_ms - now) % interval_ms
}

impl Engine {
    /// Starts running `checks` on their intervals over the network, sending each result to `sink`.
    pub fn spawn(
        checks: Vec<Scheduled>,
        config: EngineConfig,
        sink: mpsc::Sender<ResultRecord>,
    ) -> Engine {
        Engine::spawn_with(checks, config, sink, Network)
    }

    /// As [`Engine::spawn`], each run made by `prober` (the demo's [`Blackhole`]).
    pub fn spawn_with<P: Prober>(
        checks: Vec<Scheduled>,
        config: EngineConfig,
        sink: mpsc::Sender<ResultRecord>,
        prober: P,
    ) -> Engine {
        let task = tokio::spawn(schedule(checks, config, sink, prober));
        Engine { task }
    }

    /// Stops the engine (runs in flight are dropped).
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn schedule<P: Prober>(
    checks: Vec<Scheduled>,
    config: EngineConfig,
    sink: mpsc::Sender<ResultRecord>,
    prober: P,
) {
    let checks: Arc<Vec<Scheduled>> = Arc::new(checks);
    let sem = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let start = tokio::time::Instant::now();
    let mut heap: BinaryHeap<Reverse<(tokio::time::Instant, usize)>> =
        BinaryHeap::with_capacity(checks.len());
    for (i, c) in checks.iter().enumerate() {
        let interval_ms = u64::from(c.settings.interval_s) * 1000;
        let offset = if config.jitter && interval_ms > 0 {
            phase_offset(c.id, interval_ms, Utc::now().timestamp_millis())
        } else {
            0
        };
        heap.push(Reverse((start + Duration::from_millis(offset), i)));
    }
    while let Some(Reverse((due, i))) = heap.pop() {
        tokio::time::sleep_until(due).await;
        if sink.is_closed() {
            return;
        }
        let Ok(permit) = sem.clone().acquire_owned().await else {
            return;
        };
        let now = tokio::time::Instant::now();
        let lateness = now.saturating_duration_since(due);
        let started = now.into_std();
        let c = &checks[i];
        let next = due + Duration::from_secs(u64::from(c.settings.interval_s.max(1)));
        heap.push(Reverse((next, i)));
        let checks = checks.clone();
        let sink = sink.clone();
        let prober = prober.clone();
        tokio::spawn(async move {
            let c = &checks[i];
            // Hard bound on the whole run (every attempt plus slack), whatever a probe does.
            let hard = Duration::from_millis(
                u64::from(c.settings.timeout_ms) * (u64::from(c.settings.retries) + 1) + 500,
            );
            let started_ts = Utc::now().timestamp();
            let mut rec = match tokio::time::timeout(hard, prober.run(c)).await {
                Ok(r) => r,
                Err(_) => ResultRecord {
                    check_id: c.id,
                    ts: started_ts,
                    status: ProbeStatus::Down,
                    latency_ms: None,
                    message: "タイムアウト（全体）".into(),
                    cert_days_left: None,
                    lateness: Duration::ZERO,
                    started,
                },
            };
            rec.lateness = lateness;
            rec.started = started;
            // The permit is held until the writer has taken the result: when it falls behind, new runs
            // wait (and show as late) instead of piling finished results up in memory without bound.
            let _ = sink.send(rec).await;
            drop(permit);
        });
    }
}

/// What the evaluator knows about a check: where it sits in the 集約ネットワーク.
#[derive(Debug, Clone, Default)]
pub struct CheckPlace {
    pub check_id: i64,
    /// The site of the target (terminal: its site; node: the node's site, if any).
    pub site_id: Option<i64>,
    /// The node itself, for a check on a network node.
    pub own_node: Option<i64>,
    /// The nodes between the target and the prefecture, nearest first (not including `own_node`).
    pub path: Vec<i64>,
    /// Consecutive results needed for a state change.
    pub flap_n: u32,
    /// The state restored from storage.
    pub state: Option<State>,
}

/// Result flags stored with each raw result, besides the status code (bits 0–1).
pub const FLAG_MAINTENANCE: i16 = 4;
/// The check was cut off by a down node on its path (影響).
pub const FLAG_IMPACTED: i16 = 8;

/// A state change with its context.
#[derive(Debug, Clone, Serialize)]
pub struct CheckEvent {
    pub check_id: i64,
    pub change: StateChange,
    /// The probable point of failure when a node on the path is down (this check is 影響).
    pub impacted_by: Option<i64>,
    /// A maintenance window was in force: no alert.
    pub maintenance: bool,
}

impl CheckEvent {
    /// Whether this event should alert (notify, open an incident): the check went down on its own, outside
    /// maintenance.
    pub fn alerts(&self) -> bool {
        self.change.to == State::Down && self.impacted_by.is_none() && !self.maintenance
    }

    /// Whether this is a recovery worth telling (back up outside maintenance).
    pub fn recovers(&self) -> bool {
        self.change.from == State::Down && self.change.to != State::Down && !self.maintenance
    }
}

/// What the evaluator made of one result.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// Status code with flags (see [`FLAG_MAINTENANCE`], [`FLAG_IMPACTED`]).
    pub code: i16,
    pub impacted_by: Option<i64>,
    pub maintenance: bool,
    pub event: Option<CheckEvent>,
}

/// Turns results into states and events (flap damping, 影響, maintenance).
#[derive(Debug, Default)]
pub struct Evaluator {
    checks: HashMap<i64, (CheckPlace, Damper)>,
    windows: Vec<MaintenanceWindow>,
    /// Nodes with at least one own check down, and how many are: kept up to date on each change, so a
    /// down result does not scan every check (O(checks) per result would cost a core in a large outage).
    down: HashSet<i64>,
    down_checks: HashMap<i64, u32>,
    /// Nodes another instance found down (several instances: each evaluates only its own checks).
    remote_down: HashSet<i64>,
}

impl Evaluator {
    /// An evaluator for these checks and maintenance windows.
    pub fn new(places: Vec<CheckPlace>, windows: Vec<MaintenanceWindow>) -> Evaluator {
        let mut ev = Evaluator {
            windows,
            ..Default::default()
        };
        for p in places {
            let state = p.state.unwrap_or(State::Unknown);
            if let (Some(node), State::Down) = (p.own_node, state) {
                ev.node_check_down(node, true);
            }
            ev.checks.insert(p.check_id, (p, Damper::new(state)));
        }
        ev
    }

    fn node_check_down(&mut self, node: i64, down: bool) {
        let n = self.down_checks.entry(node).or_default();
        if down {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
        }
        if *n == 0 {
            self.down_checks.remove(&node);
            self.down.remove(&node);
        } else {
            self.down.insert(node);
        }
    }

    /// Replaces the maintenance windows.
    pub fn set_windows(&mut self, windows: Vec<MaintenanceWindow>) {
        self.windows = windows;
    }

    /// The current state of a check.
    pub fn state(&self, check_id: i64) -> Option<State> {
        self.checks.get(&check_id).map(|(_, d)| d.state())
    }

    /// Nodes whose own checks are down.
    pub fn down_nodes(&self) -> HashSet<i64> {
        self.down.union(&self.remote_down).copied().collect()
    }

    /// Sets the nodes found down by other instances (read from the stored states), so that a check behind
    /// them is 影響 here too.
    pub fn set_remote_down(&mut self, nodes: HashSet<i64>) {
        self.remote_down = nodes;
    }

    /// The probable point of failure on a check's path right now, if any.
    pub fn impacted_by(&self, check_id: i64) -> Option<i64> {
        let (place, _) = self.checks.get(&check_id)?;
        if self.remote_down.is_empty() {
            probable_failure_point(&place.path, &self.down)
        } else {
            probable_failure_point(&place.path, &self.down_nodes())
        }
    }

    /// Whether a maintenance window covers the check at `at`.
    pub fn in_maintenance(&self, check_id: i64, at: DateTime<Utc>) -> bool {
        if self.windows.is_empty() {
            return false;
        }
        let Some((place, _)) = self.checks.get(&check_id) else {
            return false;
        };
        let mut nodes = place.path.clone();
        nodes.extend(place.own_node);
        self.windows
            .iter()
            .any(|w| w.covers(check_id, place.site_id, &nodes) && w.active_at(at))
    }

    /// Applies one result.
    pub fn apply(&mut self, rec: &ResultRecord) -> Evaluated {
        let at = DateTime::<Utc>::from_timestamp(rec.ts, 0).unwrap_or_default();
        let maintenance = self.in_maintenance(rec.check_id, at);
        let impacted_by = if rec.status == ProbeStatus::Down {
            self.impacted_by(rec.check_id)
        } else {
            None
        };
        let mut code = rec.status.code();
        if maintenance {
            code |= FLAG_MAINTENANCE;
        }
        if impacted_by.is_some() {
            code |= FLAG_IMPACTED;
        }
        let event = self
            .checks
            .get_mut(&rec.check_id)
            .and_then(|(place, damper)| {
                let n = place.flap_n;
                damper
                    .observe(
                        Observation {
                            ts: rec.ts,
                            status: rec.status,
                            latency_ms: rec.latency_ms,
                            message: rec.message.clone(),
                        },
                        n,
                    )
                    .map(|change| CheckEvent {
                        check_id: rec.check_id,
                        change,
                        impacted_by,
                        maintenance,
                    })
                    .map(|event| (place.own_node, event))
            })
            .map(|(own_node, event)| {
                if let Some(node) = own_node {
                    if event.change.to == State::Down {
                        self.node_check_down(node, true);
                    } else if event.change.from == State::Down {
                        self.node_check_down(node, false);
                    }
                }
                event
            });
        Evaluated {
            code,
            impacted_by,
            maintenance,
            event,
        }
    }
}

/// Start-lateness statistics for the benchmark and the status page.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A monotonic stopwatch (kept here so that callers need not import `Instant`).
pub fn now() -> Instant {
    Instant::now()
}
