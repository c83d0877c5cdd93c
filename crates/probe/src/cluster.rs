//! This instance's membership of a cluster of `unyo serve` instances on one PostgreSQL (issue 19).
//!
//! A task of its own beats every [`ClusterConfig::beat`]: it renews the leases the instance holds, counts
//! the live instances and claims free shard leases up to its fair share (`⌈shards / live⌉`), or gives
//! shards away when it holds more (after the engine has stopped running them, so that no shard is probed
//! by two instances at once), and takes or keeps the singleton leases it is configured for. The service
//! watches [`Membership::subscribe`] and restarts its engine over [`Membership::shards`] when they change;
//! its writes carry [`Membership::fence`], which the store checks in the write's transaction.
//!
//! When the database cannot be reached the instance keeps what it holds until its leases would have
//! expired, then drops them (and stops probing); when the database is back it claims its share again,
//! under new tokens. Nothing here needs a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use unyo_store::cluster::{Fence, NewInstance, SHARDS, lease_shard, shard_lease, singleton_lease};
use unyo_store::{Actor, Store};

/// The singleton job that seals the hours of results and applies their retention.
pub const SEAL_JOB: &str = "connectivity.seal";
/// The singleton job of housekeeping (sessions past their time).
pub const HOUSEKEEPING_JOB: &str = "housekeeping";

/// How an instance takes part.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub instance: NewInstance,
    /// A lease (and an instance's beat) lapses this long after its last renewal.
    pub ttl: Duration,
    /// Beat this often (well under `ttl`: three beats may be missed before a lease lapses).
    pub beat: Duration,
    /// The singleton jobs this instance is willing to run.
    pub singletons: Vec<String>,
}

impl ClusterConfig {
    /// An instance with a fresh id (host, process id and random digits), the default times (lease 15 s,
    /// beat 3 s) and every singleton job.
    pub fn new(listen: &str) -> ClusterConfig {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        let pid = std::process::id();
        ClusterConfig {
            instance: NewInstance {
                id: format!("{host}-{pid}-{:08x}", u32::from_le_bytes(b)),
                host,
                listen: listen.into(),
                pid: i64::from(pid),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            ttl: Duration::from_secs(15),
            beat: Duration::from_secs(3),
            singletons: vec![SEAL_JOB.into(), HOUSEKEEPING_JOB.into()],
        }
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Default)]
struct State {
    /// Every lease held after the last beat, with its token.
    held: BTreeMap<String, i64>,
    /// Shards being given away: held until the engine no longer runs them.
    giving: BTreeSet<i64>,
    /// The shards the engine runs now (set by the service).
    running: BTreeSet<i64>,
    /// Until when (Unix ms) the held leases are known valid: the last successful renewal plus the lease
    /// time, less one beat of margin.
    valid_until: i64,
}

struct Inner {
    store: Store,
    actor: Actor,
    config: ClusterConfig,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// This instance's membership (cheap to clone).
#[derive(Clone)]
pub struct Membership {
    inner: Arc<Inner>,
}

impl Membership {
    /// Registers the instance and starts beating (the first beat at once).
    pub fn start(store: Store, config: ClusterConfig) -> Membership {
        let (changed, _) = watch::channel(0);
        let m = Membership {
            inner: Arc::new(Inner {
                store,
                actor: Actor::system("cluster"),
                config,
                state: Mutex::new(State::default()),
                changed,
                task: Mutex::new(None),
            }),
        };
        let me = m.clone();
        let task = tokio::spawn(async move { me.run().await });
        if let Ok(mut t) = m.inner.task.lock() {
            *t = Some(task);
        }
        m
    }

    /// This instance's id.
    pub fn id(&self) -> &str {
        &self.inner.config.instance.id
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The shards this instance should run now: held, not being given away, and still valid.
    pub fn shards(&self) -> BTreeSet<i64> {
        let st = self.state();
        if st.valid_until <= now_ms() {
            return BTreeSet::new();
        }
        st.held
            .keys()
            .filter_map(|n| lease_shard(n))
            .filter(|s| !st.giving.contains(s))
            .collect()
    }

    /// The fence the service writes under: every shard held, with its token.
    pub fn fence(&self) -> Fence {
        let st = self.state();
        Fence {
            instance: self.id().to_string(),
            shards: st
                .held
                .iter()
                .filter_map(|(n, t)| Some((lease_shard(n)?, *t)))
                .collect(),
        }
    }

    /// The token of singleton `job` when this instance holds it now.
    pub fn holds(&self, job: &str) -> Option<i64> {
        let st = self.state();
        if st.valid_until <= now_ms() {
            return None;
        }
        st.held.get(&singleton_lease(job)).copied()
    }

    /// The service tells which shards its engine runs now (so given-away ones can be released).
    pub fn set_running(&self, shards: BTreeSet<i64>) {
        self.state().running = shards;
    }

    /// Bumped each time [`Membership::shards`] changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// Stops beating without releasing anything, as a frozen or killed instance would (for tests).
    #[doc(hidden)]
    pub fn halt(&self) {
        if let Some(t) = self.inner.task.lock().ok().and_then(|mut t| t.take()) {
            t.abort();
        }
    }

    /// Stops beating, releases every lease and marks the instance stopped (a clean shutdown).
    pub async fn stop(&self) {
        if let Some(t) = self.inner.task.lock().ok().and_then(|mut t| t.take()) {
            t.abort();
        }
        if let Err(e) = self
            .inner
            .store
            .stop_instance(&self.inner.actor, self.id(), now_ms())
            .await
        {
            tracing::warn!("cluster: cannot mark this instance stopped: {e}");
        }
    }

    async fn run(self) {
        let cfg = &self.inner.config;
        let mut registered = false;
        let mut tick = tokio::time::interval(cfg.beat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let before = self.shards();
            if let Err(e) = self.beat(&mut registered).await {
                tracing::warn!("cluster: beat failed: {e}");
            }
            if self.shards() != before {
                self.inner.changed.send_modify(|v| *v += 1);
            }
        }
    }

    async fn beat(&self, registered: &mut bool) -> unyo_store::Result<()> {
        let (store, actor, cfg) = (&self.inner.store, &self.inner.actor, &self.inner.config);
        let id = cfg.instance.id.as_str();
        let ttl = cfg.ttl.as_millis() as i64;
        let now = now_ms();
        // Held leases unconfirmed for the lease time are someone else's by now: stop using them.
        {
            let mut st = self.state();
            if st.valid_until <= now {
                st.held.clear();
                st.giving.clear();
            }
        }
        if !*registered || !store.beat_instance(actor, id, now).await? {
            store.register_instance(actor, &cfg.instance, now).await?;
            *registered = true;
            // Instances gone for a day are forgotten (they hold nothing).
            store.forget_instances(actor, now - 86_400_000).await?;
        }
        let renewed = store.renew_leases(actor, id, now, ttl).await?;
        let mut held: BTreeMap<String, i64> = renewed.into_iter().collect();
        let live = store.live_instances(now, ttl).await?.max(1);
        let fair = (SHARDS + live - 1) / live;
        // Give back the shards being given away once the engine has stopped running them.
        let (giving, running) = {
            let st = self.state();
            (st.giving.clone(), st.running.clone())
        };
        let release: Vec<String> = giving
            .iter()
            .filter(|s| !running.contains(s))
            .map(|s| shard_lease(*s))
            .filter(|n| held.contains_key(n))
            .collect();
        store.release_leases(actor, id, &release).await?;
        for n in &release {
            held.remove(n);
        }
        let mut giving: BTreeSet<i64> = giving
            .into_iter()
            .filter(|s| held.contains_key(&shard_lease(*s)))
            .collect();
        let mine: Vec<i64> = held.keys().filter_map(|n| lease_shard(n)).collect();
        let keeping = mine.iter().filter(|s| !giving.contains(s)).count() as i64;
        if keeping > fair {
            // Another instance joined: give the surplus away (the highest shards, so choices are stable).
            let surplus = (keeping - fair) as usize;
            let extra: Vec<i64> = mine
                .iter()
                .rev()
                .filter(|s| !giving.contains(s))
                .take(surplus)
                .copied()
                .collect();
            giving.extend(extra);
        } else if keeping < fair {
            if !giving.is_empty() {
                // Fewer instances again: keep what was being given away before claiming anything.
                giving.clear();
            }
            let keeping = mine.len() as i64;
            if keeping < fair {
                for (n, t) in store
                    .claim_shards(actor, id, fair - keeping, now, ttl)
                    .await?
                {
                    held.insert(n, t);
                }
            }
        }
        for job in &cfg.singletons {
            let name = singleton_lease(job);
            match store.acquire_lease(actor, id, &name, now, ttl).await? {
                Some(t) => {
                    held.insert(name, t);
                }
                None => {
                    held.remove(&name);
                }
            }
        }
        let mut st = self.state();
        st.held = held;
        st.giving = giving;
        // One beat of margin: a lease is dropped here before anyone else may take it.
        st.valid_until = now + ttl - cfg.beat.as_millis() as i64;
        Ok(())
    }
}
