//! The engine wired to the store: loads the checks and their places in the 集約ネットワーク, runs them, and a
//! single writer task evaluates each result (flap damping, 影響, maintenance), appends raw results in one
//! commit per second (or per 2,000 results), records the state changes of that second in one more, and opens
//! an automatic incident (one per probable cause, de-duplicated by the store) for a down that alerts. Each
//! check's last result is stored once a minute; when an hour is over its results are sealed into segments
//! and roll-ups, and the retention runs, beside the writer. The check set and the maintenance windows are
//! reloaded every `reload` period.
//!
//! With several instances on one PostgreSQL ([`start_clustered`]) the engine runs only the checks of the
//! shards this instance holds ([`crate::cluster::Membership`]) and restarts when they change; results and
//! state changes are written under the instance's fence (refused by the store once a lease is lost); the
//! seal and retention run only on the holder of their singleton lease; a notification is claimed in the
//! database before it is sent, so each event is told once.

use crate::cluster::{Membership, SEAL_JOB, now_ms};
use crate::{
    CheckEvent, CheckPlace, Engine, EngineConfig, Evaluator, Network, Prober, ResultRecord,
    Scheduled,
};
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use unyo_domain::incident::{AutoIncidentInput, Severity};
use unyo_store::cluster::shard_of;
use unyo_store::connectivity::{CheckRow, HOUR, NewEvent, NewResult, bucket_of};
use unyo_store::{Actor, Store};

/// Settings of the service.
#[derive(Debug, Clone, Copy)]
pub struct ServiceConfig {
    pub engine: EngineConfig,
    /// Commit at least this often.
    pub flush_every: Duration,
    /// Or when this many results are waiting.
    pub batch_max: usize,
    /// Reload checks and maintenance windows this often.
    pub reload: Duration,
    /// Keep raw results this long.
    pub retention: Duration,
    /// Keep hourly roll-ups this long. Daily roll-ups are kept for years: they are what the monthly record
    /// and the fiscal-year availability read, and the only part that grows with the years.
    pub hourly_retention: Duration,
    /// Seal and apply the retention at least this often, besides each time an hour is over. A run reads
    /// only what it seals or deletes, beside the writer.
    pub prune_every: Duration,
    /// Store each check's last result this often (its state is stored at once with each change).
    pub last_every: Duration,
}

/// How long after an hour is over its results are sealed: results of runs that started in it arrive
/// a little later (a result later still is merged by the next seal).
pub const SEAL_GRACE_S: i64 = 120;

impl ServiceConfig {
    /// How many finished results may wait for the writer: ten commits' worth (12 s at 100,000 checks a
    /// minute). A run keeps its concurrency permit until its result is queued, so while the writer waits
    /// for the database (a seal or a retention chunk holding the write lock, a slow disk) the engine goes
    /// on starting runs on time until this fills; a result costs about 100 bytes here.
    pub fn result_queue(&self) -> usize {
        self.batch_max * 10
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            engine: EngineConfig::default(),
            flush_every: Duration::from_secs(1),
            batch_max: 2000,
            reload: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 86_400),
            // 35 days: the last full month in hourly detail until its monthly record is done. Kept for 400
            // days, hourly rows would add 8,760 rows (≈ 0.26 MB) per check and year, where the daily
            // roll-ups add 365 (≈ 12 KB; measured sizes in the crate README).
            hourly_retention: Duration::from_secs(35 * 86_400),
            prune_every: Duration::from_secs(3600),
            last_every: Duration::from_secs(60),
        }
    }
}

/// What one retention run deleted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pruned {
    /// Raw results.
    pub raw: u64,
    /// Hourly roll-ups.
    pub hourly: u64,
    /// Results sealed into segments and roll-ups.
    pub sealed: u64,
}

/// The writer side of the service: evaluates each result, batches raw rows into few commits and applies
/// the retention. The benchmark drives this same type, so its figures are the service's.
pub struct Writer {
    store: Store,
    actor: Actor,
    eval: Evaluator,
    batch: Vec<NewResult>,
    /// Each check's last result since the last time they were stored.
    last: HashMap<i64, NewResult>,
    config: ServiceConfig,
    /// Commits made, and commits that failed (logged; their results are lost).
    pub commits: u64,
    pub failed_commits: u64,
    /// Results the store refused because this instance no longer held their shard (several instances).
    pub refused: u64,
    membership: Option<Membership>,
}

impl Writer {
    /// A writer over `store` with the given evaluator.
    pub fn new(store: Store, actor: Actor, eval: Evaluator, config: ServiceConfig) -> Writer {
        Writer {
            store,
            actor,
            eval,
            batch: Vec::with_capacity(config.batch_max),
            last: HashMap::new(),
            config,
            commits: 0,
            failed_commits: 0,
            refused: 0,
            membership: None,
        }
    }

    /// Writes under this instance's fence from now on (several instances on one database).
    pub fn with_membership(mut self, membership: Option<Membership>) -> Writer {
        self.membership = membership;
        self
    }

    /// The evaluator (e.g. to refresh the maintenance windows).
    pub fn evaluator(&mut self) -> &mut Evaluator {
        &mut self.eval
    }

    /// Evaluates one result and queues its raw row. A state change is returned at once; the caller
    /// records it after the next [`Writer::flush`], so that the results behind it are stored first and a
    /// second's events go in one commit (a new fleet settling makes one event per check).
    pub async fn push(&mut self, r: &ResultRecord) -> Option<CheckEvent> {
        let ev = self.eval.apply(r);
        let row = NewResult {
            check_id: r.check_id,
            ts: r.ts,
            code: ev.code,
            latency_ms: r.latency_ms,
        };
        self.batch.push(row);
        self.last.insert(r.check_id, row);
        if self.batch.len() >= self.config.batch_max {
            self.flush().await;
        }
        ev.event
    }

    /// Stores each check's last result since the last call, in one commit.
    pub async fn flush_last(&mut self) {
        if self.last.is_empty() {
            return;
        }
        let mut last: Vec<NewResult> = self.last.drain().map(|(_, r)| r).collect();
        if let Some(m) = &self.membership {
            // Only the checks still held: another instance's newer result must not be overwritten.
            let shards = m.shards();
            last.retain(|r| shards.contains(&shard_of(r.check_id)));
        }
        if let Err(e) = self.store.store_last_results(&self.actor, &last).await {
            tracing::warn!(
                "connectivity: cannot store {} last results: {e}",
                last.len()
            );
        }
    }

    /// Commits the queued results in one transaction.
    pub async fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let written = match &self.membership {
            None => self
                .store
                .append_check_results(&self.actor, &self.batch)
                .await
                .map(|()| 0),
            Some(m) => {
                self.store
                    .append_check_results_fenced(&self.actor, &self.batch, &m.fence(), now_ms())
                    .await
            }
        };
        match written {
            Ok(refused) => {
                self.commits += 1;
                if refused > 0 {
                    self.refused += refused;
                    tracing::info!(
                        "connectivity: {refused} results refused: their shard is no longer this instance's"
                    );
                }
            }
            Err(e) => {
                self.failed_commits += 1;
                tracing::warn!(
                    "connectivity: cannot store {} results: {e}",
                    self.batch.len()
                );
            }
        }
        self.batch.clear();
    }

    /// The retention over this writer's store, to run beside it (see [`Retention::run`]).
    pub fn retention(&self) -> Retention {
        Retention {
            store: self.store.clone(),
            actor: self.actor.clone(),
            raw: self.config.retention,
            hourly: self.config.hourly_retention,
        }
    }
}

/// Seals the hours that are over and deletes what is past its retention. It runs in its own task beside
/// the writer: the store deletes in short transactions, so the writer's commits go on between them and a
/// large deletion never holds the engine's results back.
#[derive(Clone)]
pub struct Retention {
    store: Store,
    actor: Actor,
    raw: Duration,
    hourly: Duration,
}

impl Retention {
    /// Seals the hours over by `now - SEAL_GRACE_S`, then deletes raw results older than their retention
    /// and hourly roll-ups older than theirs, as of `now` (Unix seconds); daily roll-ups stay.
    pub async fn run(&self, now: i64) -> Pruned {
        let mut out = Pruned::default();
        match self
            .store
            .seal_check_results(&self.actor, now - SEAL_GRACE_S)
            .await
        {
            Ok(s) => out.sealed = s.results,
            Err(e) => tracing::warn!("connectivity: cannot seal results: {e}"),
        }
        let before = now - self.raw.as_secs() as i64;
        match self.store.prune_check_results(&self.actor, before).await {
            Ok(n) => out.raw = n,
            Err(e) => tracing::warn!("connectivity: retention failed: {e}"),
        }
        let before = now - self.hourly.as_secs() as i64;
        match self.store.prune_hourly_rollups(&self.actor, before).await {
            Ok(n) => out.hourly = n,
            Err(e) => tracing::warn!("connectivity: roll-up retention failed: {e}"),
        }
        out
    }
}

/// The running service; stops when dropped.
pub struct Service {
    task: tokio::task::JoinHandle<()>,
    /// The engine's own runtime (none if it could not be made: the engine then shares the caller's).
    engine_runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(rt) = self.engine_runtime.take() {
            // Not a blocking drop: the service may be dropped inside the caller's runtime.
            rt.shutdown_background();
        }
    }
}

/// Starts the engine over the checks in `store`.
///
/// The engine's schedule and probes run on a runtime of their own with one worker thread, so that web
/// requests on the server's runtime cannot delay its timers (measured with the status board under load:
/// start lateness p99 went from 2 ms to 133 ms while both shared one runtime). The writer, the sealing
/// and the retention stay on the caller's runtime, with the store's connections.
pub fn start(store: Store, config: ServiceConfig) -> Service {
    start_with(store, config, Network)
}

/// As [`start`], each run made by `prober` (the demo passes its [`crate::Blackhole`]).
pub fn start_with<P: Prober>(store: Store, config: ServiceConfig, prober: P) -> Service {
    start_clustered(store, config, prober, None)
}

/// As [`start_with`], as one of several instances on one database when `membership` is given: only the
/// checks of the shards it holds, written under its fence, the seal and retention only while it holds
/// their singleton lease, notifications claimed once.
pub fn start_clustered<P: Prober>(
    store: Store,
    config: ServiceConfig,
    prober: P,
    membership: Option<Membership>,
) -> Service {
    let engine_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("unyo-probe")
        .enable_all()
        .build()
        .map_err(|e| tracing::warn!("connectivity: no runtime of its own for the engine: {e}"))
        .ok();
    let engine_handle = engine_runtime.as_ref().map(|rt| rt.handle().clone());
    Service {
        task: tokio::spawn(run(store, config, engine_handle, prober, membership)),
        engine_runtime,
    }
}

fn scheduled(rows: &[CheckRow]) -> Vec<Scheduled> {
    rows.iter()
        .filter(|c| c.enabled)
        .filter_map(|c| {
            Some(Scheduled {
                id: c.id,
                spec: c.probe_spec()?,
                settings: c.settings(),
            })
        })
        .collect()
}

async fn load(store: &Store) -> unyo_store::Result<(Vec<CheckRow>, Evaluator)> {
    let rows = store.checks().await?;
    let topo = store.check_topology().await?;
    let by_id: HashMap<i64, &CheckRow> = rows.iter().map(|c| (c.id, c)).collect();
    let places = topo
        .into_iter()
        .filter_map(|t| {
            let c = by_id.get(&t.check_id)?;
            Some(CheckPlace {
                check_id: t.check_id,
                site_id: t.site_id,
                own_node: t.own_node,
                path: t.path,
                flap_n: c.settings().flap_n,
                state: Some(c.current_state()),
            })
        })
        .collect();
    let windows = store.maintenance_windows().await?;
    Ok((rows, Evaluator::new(places, windows)))
}

async fn run<P: Prober>(
    store: Store,
    config: ServiceConfig,
    engine_runtime: Option<tokio::runtime::Handle>,
    prober: P,
    membership: Option<Membership>,
) {
    let actor = Actor::system("connectivity-engine");
    // Sealing and retention are due at start (the service may have been down a while), then each time an
    // hour is over and at least every `prune_every`; this survives engine restarts.
    let mut prune_at = tokio::time::Instant::now();
    let mut sealed_hour: Option<i64> = None;
    let mut pruning: Option<tokio::task::JoinHandle<Pruned>> = None;
    let mut last_at = tokio::time::Instant::now() + config.last_every;
    let mut changes = membership.as_ref().map(|m| m.subscribe());
    loop {
        let (rows, eval) = match load(&store).await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("connectivity: cannot load checks: {e}");
                // Soon again: the database may be back in a moment (a restart, a failover).
                tokio::time::sleep(config.reload.min(Duration::from_secs(5))).await;
                continue;
            }
        };
        let names: HashMap<i64, CheckRow> = rows.iter().map(|c| (c.id, c.clone())).collect();
        let (tx, mut rx) = mpsc::channel::<ResultRecord>(config.result_queue());
        if let Some(c) = changes.as_mut() {
            c.borrow_and_update();
        }
        let mut runs = scheduled(&rows);
        if let Some(m) = &membership {
            let shards = m.shards();
            runs.retain(|c| shards.contains(&shard_of(c.id)));
            tracing::info!(
                "connectivity: this instance runs {} checks of {} shards",
                runs.len(),
                shards.len()
            );
            m.set_running(shards);
        }
        let engine = {
            let _on = engine_runtime.as_ref().map(|h| h.enter());
            Engine::spawn_with(runs, config.engine, tx, prober.clone())
        };
        let mut writer = Writer::new(store.clone(), actor.clone(), eval, config)
            .with_membership(membership.clone());
        let mut remote_at = tokio::time::Instant::now();
        let mut reload_at = tokio::time::Instant::now() + config.reload;
        let mut tick = tokio::time::interval(config.flush_every);
        let mut events: Vec<(CheckEvent, String)> = Vec::new();
        loop {
            tokio::select! {
                r = rx.recv() => {
                    let Some(r) = r else { break };
                    note_lateness(r.lateness);
                    if let Some(event) = writer.push(&r).await {
                        events.push((event, r.message));
                    }
                }
                Some(()) = shards_changed(&mut changes) => break,
                _ = tick.tick() => {
                    writer.flush().await;
                    record_events_as(&store, &actor, &names, &std::mem::take(&mut events), membership.as_ref()).await;
                    let now = tokio::time::Instant::now();
                    if now >= last_at {
                        writer.flush_last().await;
                        last_at = now + config.last_every;
                    }
                    if membership.is_some() && now >= remote_at {
                        // The nodes other instances found down, for 影響 here.
                        if let Ok(nodes) = store.down_nodes().await {
                            writer.evaluator().set_remote_down(nodes);
                        }
                        remote_at = now + REMOTE_DOWN_EVERY;
                    }
                    let hour = bucket_of(Utc::now().timestamp() - SEAL_GRACE_S, HOUR);
                    // Several instances: only the holder of the seal's lease seals and prunes.
                    let sealer = membership.as_ref().is_none_or(|m| m.holds(SEAL_JOB).is_some());
                    if sealer
                        && (now >= prune_at || sealed_hour != Some(hour))
                        && pruning.as_ref().is_none_or(|t| t.is_finished())
                    {
                        let retention = writer.retention();
                        pruning = Some(tokio::spawn(async move {
                            retention.run(Utc::now().timestamp()).await
                        }));
                        prune_at = now + config.prune_every;
                        sealed_hour = Some(hour);
                    }
                    if now >= reload_at {
                        // Restart the engine only when the checks changed; otherwise keep the schedule
                        // (and the damper streaks) and just refresh the maintenance windows.
                        match store.checks().await {
                            Ok(now_rows) if fingerprint(&now_rows) == fingerprint(&rows) => {
                                if let Ok(w) = store.maintenance_windows().await {
                                    writer.evaluator().set_windows(w);
                                }
                                reload_at = tokio::time::Instant::now() + config.reload;
                            }
                            _ => break,
                        }
                    }
                }
            }
        }
        // Stop the engine first and take what it finished, so that nothing it ran is left behind when
        // its shards go to another instance.
        engine.stop();
        while let Ok(r) = rx.try_recv() {
            if let Some(event) = writer.push(&r).await {
                events.push((event, r.message));
            }
        }
        writer.flush().await;
        record_events_as(&store, &actor, &names, &events, membership.as_ref()).await;
        writer.flush_last().await;
    }
}

/// Resolves when the membership's shards changed (never without a membership).
async fn shards_changed(changes: &mut Option<tokio::sync::watch::Receiver<u64>>) -> Option<()> {
    match changes {
        Some(c) => c.changed().await.ok(),
        None => std::future::pending().await,
    }
}

/// How often the nodes other instances found down are read.
const REMOTE_DOWN_EVERY: Duration = Duration::from_secs(5);

/// id, spec, interval, timeout, retries, degraded threshold, flap n, enabled.
type Fingerprint = (i64, String, i64, i64, i64, i64, i64, bool);

/// What makes the engine restart: the set of checks and their specs and settings.
fn fingerprint(rows: &[CheckRow]) -> Vec<Fingerprint> {
    rows.iter()
        .map(|c| {
            (
                c.id,
                c.spec.clone(),
                c.interval_s,
                c.timeout_ms,
                c.retries,
                c.degraded_ms,
                c.flap_n,
                c.enabled,
            )
        })
        .collect()
}

/// Records state changes (each with its last result's message) in one commit, then notifies and opens
/// or repeats the automatic incidents, event by event. As one of several instances when `membership` is
/// given: the events are written under its fence (an event of a check it no longer holds is refused and
/// followed by nothing) and each notification is claimed in the database before it is sent.
pub async fn record_events_as(
    store: &Store,
    actor: &Actor,
    checks: &HashMap<i64, CheckRow>,
    events: &[(CheckEvent, String)],
    membership: Option<&Membership>,
) {
    if events.is_empty() {
        return;
    }
    let rows: Vec<NewEvent> = events
        .iter()
        .map(|(event, message)| {
            let c = &event.change;
            NewEvent {
                check_id: event.check_id,
                ts: c.ts,
                from: c.from,
                to: c.to,
                cause: c.cause.clone(),
                impacted_by: event.impacted_by,
                maintenance: event.maintenance,
                results: json!(c.results),
                message: message.clone(),
            }
        })
        .collect();
    let written = match membership {
        None => store
            .record_check_events(actor, &rows)
            .await
            .map(|ids| ids.into_iter().map(Some).collect::<Vec<_>>()),
        Some(m) => {
            store
                .record_check_events_fenced(actor, &rows, &m.fence(), now_ms())
                .await
        }
    };
    let ids = match written {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!("connectivity: cannot record {} events: {e}", rows.len());
            return;
        }
    };
    let claimer = membership.map(|m| m.id().to_string());
    for ((event, message), id) in events.iter().zip(ids) {
        if let Some(id) = id {
            follow_event(store, actor, checks, event, id, message, claimer.as_deref()).await;
        }
    }
}

/// What follows a recorded state change: notifications, and the automatic incident for a down that alerts.
async fn follow_event(
    store: &Store,
    actor: &Actor,
    checks: &HashMap<i64, CheckRow>,
    event: &CheckEvent,
    id: i64,
    message: &str,
    claimer: Option<&str>,
) {
    let c = &event.change;
    let Some(check) = checks.get(&event.check_id) else {
        return;
    };
    if event.alerts() || event.recovers() {
        match store.notification_channels().await {
            Ok(channels) if !channels.is_empty() => crate::notify::notify_all_once(
                store.clone(),
                actor.clone(),
                channels,
                crate::notify::Notice::from_event(
                    event,
                    Some(id),
                    &check.name,
                    check.site_name.as_deref().unwrap_or(""),
                ),
                claimer.map(str::to_string),
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("connectivity: cannot load notification channels: {e}"),
        }
    }
    if !event.alerts() {
        return;
    }
    let (cause, node_ids, terminal_ids) = if check.target_kind == "node" {
        (
            format!("node:{}:unreachable", check.target_id),
            vec![check.target_id],
            vec![],
        )
    } else {
        (
            format!("terminal:{}:unreachable", check.target_id),
            vec![],
            vec![check.target_id],
        )
    };
    let observed_at = chrono::DateTime::from_timestamp(c.ts, 0)
        .unwrap_or_else(Utc::now)
        .min(Utc::now());
    let title = format!(
        "{} 疎通不可",
        check
            .site_name
            .clone()
            .or_else(|| check.target_name.clone())
            .unwrap_or_else(|| check.name.clone())
    );
    let input = AutoIncidentInput {
        probable_cause: cause,
        title,
        severity: if check.target_kind == "node" {
            Severity::Critical
        } else {
            Severity::High
        },
        observed_at,
        site_ids: check.site_id.into_iter().collect(),
        terminal_ids,
        node_ids,
        detail: format!("疎通確認「{}」: {}（{}）", check.name, c.cause, message),
    };
    match store.open_automatic_incident(actor, &input).await {
        Ok(out) => {
            let _ = store
                .link_check_event_incident(actor, id, out.incident.id)
                .await;
        }
        Err(e) => tracing::warn!("connectivity: cannot open the incident: {e}"),
    }
}

// Start lateness in the log, for measuring (the status-board benchmark reads it): with this module at debug
// level (`UNYO_LOG=info,unyo_probe::service=debug`) one line per `LATENESS_WINDOW` gives how late the runs
// that ended in it started against their schedule. Nothing is kept or measured at other levels.

/// The span of runs one lateness line covers.
const LATENESS_WINDOW: Duration = Duration::from_secs(5);

/// The window's start and its runs' lateness in microseconds.
static LATENESS: std::sync::Mutex<Option<(std::time::Instant, Vec<u32>)>> =
    std::sync::Mutex::new(None);

/// Notes one run's start lateness and logs the window's p50, p99 and max when it is over.
fn note_lateness(lateness: Duration) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let Ok(mut guard) = LATENESS.lock() else {
        return;
    };
    let (since, micros) = guard.get_or_insert_with(|| (std::time::Instant::now(), Vec::new()));
    micros.push(u32::try_from(lateness.as_micros()).unwrap_or(u32::MAX));
    let span = since.elapsed();
    if span < LATENESS_WINDOW {
        return;
    }
    let mut m = std::mem::take(micros);
    *since = std::time::Instant::now();
    drop(guard);
    m.sort_unstable();
    let at = |q: f64| f64::from(m[((m.len() - 1) as f64 * q).round() as usize]) / 1000.0;
    tracing::debug!(
        "connectivity: start lateness of {} runs over {:.1} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        m.len(),
        span.as_secs_f64(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
