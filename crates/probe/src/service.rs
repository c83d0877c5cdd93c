//! The engine wired to the store: loads the checks and their places in the 集約ネットワーク, runs them, and a
//! single writer task evaluates each result (flap damping, 影響, maintenance), batches raw results into one
//! commit per second (or per 2,000 results), records each state change, and opens an automatic incident
//! (one per probable cause, de-duplicated by the store) for a down that alerts. The check set and the
//! maintenance windows are reloaded every `reload` period.

use crate::{CheckEvent, CheckPlace, Engine, EngineConfig, Evaluator, ResultRecord, Scheduled};
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use unyo_domain::incident::{AutoIncidentInput, Severity};
use unyo_store::connectivity::{CheckRow, NewEvent, NewResult};
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
    /// Keep hourly roll-ups this long (daily roll-ups are kept for years).
    pub hourly_retention: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            engine: EngineConfig::default(),
            flush_every: Duration::from_secs(1),
            batch_max: 2000,
            reload: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 86_400),
            hourly_retention: Duration::from_secs(400 * 86_400),
        }
    }
}

/// The running service; stops when dropped.
pub struct Service {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the engine over the checks in `store`.
pub fn start(store: Store, config: ServiceConfig) -> Service {
    Service {
        task: tokio::spawn(run(store, config)),
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

async fn run(store: Store, config: ServiceConfig) {
    let actor = Actor::system("connectivity-engine");
    loop {
        let (rows, mut eval) = match load(&store).await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("connectivity: cannot load checks: {e}");
                tokio::time::sleep(config.reload).await;
                continue;
            }
        };
        let names: HashMap<i64, CheckRow> = rows.iter().map(|c| (c.id, c.clone())).collect();
        let (tx, mut rx) = mpsc::channel::<ResultRecord>(config.batch_max * 2);
        let engine = Engine::spawn(scheduled(&rows), config.engine, tx);
        let mut reload_at = tokio::time::Instant::now() + config.reload;
        let mut batch: Vec<NewResult> = Vec::with_capacity(config.batch_max);
        let mut tick = tokio::time::interval(config.flush_every);
        loop {
            tokio::select! {
                r = rx.recv() => {
                    let Some(r) = r else { break };
                    let ev = eval.apply(&r);
                    batch.push(NewResult {
                        check_id: r.check_id,
                        ts: r.ts,
                        code: ev.code,
                        latency_ms: r.latency_ms,
                    });
                    if let Some(event) = ev.event {
                        // Results before the event are committed first, so history stays in time order.
                        flush(&store, &actor, &mut batch).await;
                        record_event(&store, &actor, &names, &event, &r.message).await;
                    }
                    if batch.len() >= config.batch_max {
                        flush(&store, &actor, &mut batch).await;
                    }
                }
                _ = tick.tick() => {
                    flush(&store, &actor, &mut batch).await;
                    if tokio::time::Instant::now() >= reload_at {
                        // Restart the engine only when the checks changed; otherwise keep the schedule
                        // (and the damper streaks) and just refresh the maintenance windows.
                        match store.checks().await {
                            Ok(now_rows) if fingerprint(&now_rows) == fingerprint(&rows) => {
                                if let Ok(w) = store.maintenance_windows().await {
                                    eval.set_windows(w);
                                }
                                reload_at = tokio::time::Instant::now() + config.reload;
                            }
                            _ => break,
                        }
                    }
                }
            }
        }
        flush(&store, &actor, &mut batch).await;
        engine.stop();
        let before = Utc::now().timestamp() - config.retention.as_secs() as i64;
        if let Err(e) = store.prune_check_results(&actor, before).await {
            tracing::warn!("connectivity: retention failed: {e}");
        }
        let before = Utc::now().timestamp() - config.hourly_retention.as_secs() as i64;
        if let Err(e) = store.prune_hourly_rollups(&actor, before).await {
            tracing::warn!("connectivity: roll-up retention failed: {e}");
        }
    }
}

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

async fn flush(store: &Store, actor: &Actor, batch: &mut Vec<NewResult>) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = store.append_check_results(actor, batch).await {
        tracing::warn!("connectivity: cannot store {} results: {e}", batch.len());
    }
    batch.clear();
}

/// Records a state change; a down that alerts opens (or repeats) an automatic incident named after its
/// probable cause.
pub async fn record_event(
    store: &Store,
    actor: &Actor,
    checks: &HashMap<i64, CheckRow>,
    event: &CheckEvent,
    message: &str,
) {
    let c = &event.change;
    let id = match store
        .record_check_event(
            actor,
            &NewEvent {
                check_id: event.check_id,
                ts: c.ts,
                from: c.from,
                to: c.to,
                cause: c.cause.clone(),
                impacted_by: event.impacted_by,
                maintenance: event.maintenance,
                results: json!(c.results),
                message: message.to_string(),
            },
        )
        .await
    {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!("connectivity: cannot record event: {e}");
            return;
        }
    };
    let Some(check) = checks.get(&event.check_id) else {
        return;
    };
    if event.alerts() || event.recovers() {
        match store.notification_channels().await {
            Ok(channels) if !channels.is_empty() => crate::notify::notify_all(
                store.clone(),
                actor.clone(),
                channels,
                crate::notify::Notice::from_event(
                    event,
                    Some(id),
                    &check.name,
                    check.site_name.as_deref().unwrap_or(""),
                ),
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
