//! Several instances on one database: the database is the only coordinator (no consensus of our own).
//!
//! * Each `unyo serve` registers a row in `cluster_instances` with an id of its own and beats (updates
//!   `heartbeat_at`) every few seconds. An instance whose beat is older than the lease time is dead.
//! * Work is handed out by leases (`cluster_leases`): the checks are split into [`SHARDS`] shards by id and
//!   each shard is a lease `shard:NNN`; a job that must run once across instances is a lease
//!   `singleton:NAME`. A lease has a holder, an expiry and a fencing token that grows at every change of
//!   holder. Shards are claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL), up to a fair share of the live
//!   instances, and re-claimed by the others once a dead holder's leases expire.
//! * A write made under a lease carries a [`Fence`] (the instance and the tokens it holds); the store
//!   checks it in the write's own transaction, the lease rows locked `FOR SHARE` so that a take-over waits
//!   for the write to commit, and drops what the instance no longer holds. A paused-then-resumed instance
//!   therefore cannot write stale results.
//! * A notification is claimed once per event and channel (`notification_deliveries`, a primary key)
//!   before it is sent.
//!
//! On SQLite there is one instance: it takes every lease; the same SQL runs (SQLite's single writer makes
//! the locking clauses unnecessary, so they are added for PostgreSQL only).

use crate::{Actor, Result, Store};
use std::collections::{BTreeMap, HashSet};
use unyo_domain::Action;

/// How many shards the checks are split into (a lease each). 256 spreads evenly over a handful of
/// instances and keeps a beat's renewal one short statement.
pub const SHARDS: i64 = 256;

/// The prefix of shard leases.
pub const SHARD_PREFIX: &str = "shard:";
/// The prefix of singleton leases.
pub const SINGLETON_PREFIX: &str = "singleton:";

/// The shard a check belongs to.
pub fn shard_of(check_id: i64) -> i64 {
    check_id.rem_euclid(SHARDS)
}

/// The lease name of a shard (`shard:007`).
pub fn shard_lease(shard: i64) -> String {
    format!("{SHARD_PREFIX}{shard:03}")
}

/// The shard of a lease name, if it is a shard lease.
pub fn lease_shard(name: &str) -> Option<i64> {
    name.strip_prefix(SHARD_PREFIX)?.parse().ok()
}

/// The lease name of a singleton job (`singleton:connectivity.seal`).
pub fn singleton_lease(job: &str) -> String {
    format!("{SINGLETON_PREFIX}{job}")
}

/// A registered instance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: String,
    pub host: String,
    pub listen: String,
    pub pid: i64,
    pub version: String,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds of the last beat.
    pub heartbeat_at: i64,
    /// Unix milliseconds of a clean stop.
    pub stopped_at: Option<i64>,
}

/// What an instance says about itself when it registers.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub id: String,
    pub host: String,
    pub listen: String,
    pub pid: i64,
    pub version: String,
}

/// One lease.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeaseRow {
    pub name: String,
    pub holder: Option<String>,
    pub token: i64,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub acquired_at: Option<i64>,
}

/// The shard leases an instance writes under: a write is kept only for the shards whose lease still has
/// this holder and token and has not expired when the write commits.
#[derive(Debug, Clone, Default)]
pub struct Fence {
    pub instance: String,
    /// Shard → fencing token.
    pub shards: BTreeMap<i64, i64>,
}

/// Locks and reads the shards `fence` still holds at `now_ms`, inside the write transaction `tx`: the
/// lease rows are locked `FOR SHARE` on PostgreSQL, so that a take-over (an `UPDATE` of the row) waits
/// until this write has committed; SQLite's single writer serialises by itself.
macro_rules! fenced_shards {
    ($tx:ident, $postgres:expr, $fence:expr, $now:expr) => {{
        let sql = if $postgres {
            "SELECT name, token FROM cluster_leases
             WHERE holder = $1 AND expires_at > $2 AND name LIKE 'shard:%' FOR SHARE"
        } else {
            "SELECT name, token FROM cluster_leases
             WHERE holder = $1 AND expires_at > $2 AND name LIKE 'shard:%'"
        };
        let held: Vec<(String, i64)> = sqlx::query_as(sql)
            .bind(&$fence.instance)
            .bind($now)
            .fetch_all(&mut *$tx)
            .await?;
        held.into_iter()
            .filter_map(|(name, token)| {
                let shard = $crate::cluster::lease_shard(&name)?;
                ($fence.shards.get(&shard) == Some(&token)).then_some(shard)
            })
            .collect::<std::collections::HashSet<i64>>()
    }};
}
pub(crate) use fenced_shards;

/// The cluster as `unyo cluster status` shows it.
#[derive(Debug, Clone)]
pub struct ClusterStatus {
    pub instances: Vec<InstanceRow>,
    pub leases: Vec<LeaseRow>,
}

impl ClusterStatus {
    /// Whether an instance beat within `ttl_ms` of `now_ms` and has not stopped.
    pub fn is_live(i: &InstanceRow, now_ms: i64, ttl_ms: i64) -> bool {
        i.stopped_at.is_none() && i.heartbeat_at > now_ms - ttl_ms
    }

    /// Shard leases held (not expired at `now_ms`) per instance.
    pub fn shards_by_holder(&self, now_ms: i64) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for l in &self.leases {
            if let (Some(h), Some(_)) = (&l.holder, lease_shard(&l.name))
                && l.expires_at > now_ms
            {
                *out.entry(h.clone()).or_insert(0) += 1;
            }
        }
        out
    }
}

impl Store {
    fn on_postgres(&self) -> bool {
        matches!(self.backend, crate::Backend::Postgres(_))
    }

    /// Registers this instance (or beats again under the same id) and makes sure every shard lease row
    /// exists. Needs [`Action::RunChecks`].
    pub async fn register_instance(
        &self,
        actor: &Actor,
        me: &NewInstance,
        now_ms: i64,
    ) -> Result<()> {
        actor.require(Action::RunChecks)?;
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO cluster_instances (id, host, listen, pid, version, started_at, heartbeat_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
            )
            .bind(&me.id)
            .bind(&me.host)
            .bind(&me.listen)
            .bind(me.pid)
            .bind(&me.version)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            // One statement for all shards (a recursive series works on both backends).
            sqlx::query(
                "INSERT INTO cluster_leases (name, token, expires_at)
                 WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $1)
                 SELECT 'shard:' || substr(CAST(1000 + n AS TEXT), 2), 0, 0 FROM s WHERE true
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(SHARDS)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Beats: the instance is alive at `now_ms`. Returns false when its row is gone or marked stopped (it
    /// then registers again). Needs [`Action::RunChecks`].
    pub async fn beat_instance(&self, actor: &Actor, id: &str, now_ms: i64) -> Result<bool> {
        actor.require(Action::RunChecks)?;
        let n = write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE cluster_instances SET heartbeat_at = $2 WHERE id = $1 AND stopped_at IS NULL",
            )
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks the instance stopped and releases every lease it holds (a clean shutdown: the others take
    /// its work at their next beat instead of after the lease time). Needs [`Action::RunChecks`].
    pub async fn stop_instance(&self, actor: &Actor, id: &str, now_ms: i64) -> Result<()> {
        actor.require(Action::RunChecks)?;
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE cluster_leases SET holder = NULL, expires_at = 0 WHERE holder = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE cluster_instances SET stopped_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// How many instances beat within `ttl_ms` of `now_ms` and have not stopped.
    pub async fn live_instances(&self, now_ms: i64, ttl_ms: i64) -> Result<i64> {
        Ok(read_db!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM cluster_instances WHERE heartbeat_at > $1 AND stopped_at IS NULL"
        )
        .bind(now_ms - ttl_ms)
        .fetch_one(db)
        .await?))
    }

    /// Extends every lease `id` holds that has not expired at `now_ms` to `now_ms + ttl_ms`; returns
    /// them (name, token). A lease that lapsed is not renewed: it is free for anyone, this instance too,
    /// under a new token. Needs [`Action::RunChecks`].
    pub async fn renew_leases(
        &self,
        actor: &Actor,
        id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Vec<(String, i64)>> {
        actor.require(Action::RunChecks)?;
        Ok(write_tx!(self, |tx| {
            sqlx::query_as(
                "UPDATE cluster_leases SET expires_at = $3
                 WHERE holder = $1 AND expires_at > $2 RETURNING name, token",
            )
            .bind(id)
            .bind(now_ms)
            .bind(now_ms + ttl_ms)
            .fetch_all(&mut *tx)
            .await?
        }))
    }

    /// Claims up to `want` free (never held, released or expired) shard leases for `id`, each under a new
    /// token. On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so instances claiming at
    /// the same time take different shards instead of waiting for each other. Needs
    /// [`Action::RunChecks`].
    pub async fn claim_shards(
        &self,
        actor: &Actor,
        id: &str,
        want: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Vec<(String, i64)>> {
        actor.require(Action::RunChecks)?;
        if want <= 0 {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE cluster_leases SET holder = $1, token = token + 1, expires_at = $3, acquired_at = $2
             WHERE name IN (SELECT name FROM cluster_leases
                            WHERE name LIKE 'shard:%' AND (holder IS NULL OR expires_at <= $2)
                            ORDER BY name LIMIT $4{})
               AND (holder IS NULL OR expires_at <= $2)
             RETURNING name, token",
            if self.on_postgres() {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            }
        );
        Ok(write_tx!(self, |tx| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(now_ms)
                .bind(now_ms + ttl_ms)
                .bind(want)
                .fetch_all(&mut *tx)
                .await?
        }))
    }

    /// Gives leases back (the instance has stopped the work they cover). Only leases `id` still holds are
    /// touched. Needs [`Action::RunChecks`].
    pub async fn release_leases(&self, actor: &Actor, id: &str, names: &[String]) -> Result<()> {
        actor.require(Action::RunChecks)?;
        if names.is_empty() {
            return Ok(());
        }
        write_tx!(self, |tx| {
            for name in names {
                sqlx::query(
                    "UPDATE cluster_leases SET holder = NULL, expires_at = 0
                     WHERE name = $1 AND holder = $2",
                )
                .bind(name)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        });
        Ok(())
    }

    /// Takes or keeps the lease `name` for `id` until `now_ms + ttl_ms`: granted when it is free, expired
    /// or already `id`'s. Returns the fencing token, or `None` when another live instance holds it. The
    /// token stays while the same holder keeps the lease and grows at a take-over (or a re-take after a
    /// lapse). Needs [`Action::RunChecks`].
    pub async fn acquire_lease(
        &self,
        actor: &Actor,
        id: &str,
        name: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<i64>> {
        actor.require(Action::RunChecks)?;
        Ok(write_tx!(self, |tx| {
            sqlx::query_scalar(
                "INSERT INTO cluster_leases (name, holder, token, expires_at, acquired_at)
                 VALUES ($1, $2, 1, $4, $3)
                 ON CONFLICT (name) DO UPDATE SET
                   token = CASE WHEN cluster_leases.holder = excluded.holder AND cluster_leases.expires_at > $3
                                THEN cluster_leases.token ELSE cluster_leases.token + 1 END,
                   acquired_at = CASE WHEN cluster_leases.holder = excluded.holder
                                           AND cluster_leases.expires_at > $3
                                      THEN cluster_leases.acquired_at ELSE $3 END,
                   holder = excluded.holder,
                   expires_at = excluded.expires_at
                 WHERE cluster_leases.holder IS NULL OR cluster_leases.holder = excluded.holder
                    OR cluster_leases.expires_at <= $3
                 RETURNING token",
            )
            .bind(name)
            .bind(id)
            .bind(now_ms)
            .bind(now_ms + ttl_ms)
            .fetch_optional(&mut *tx)
            .await?
        }))
    }

    /// Whether `id` still holds lease `name` under `token` at `now_ms` (a singleton job checks this
    /// before each step).
    pub async fn holds_lease(&self, id: &str, name: &str, token: i64, now_ms: i64) -> Result<bool> {
        let n: i64 = read_db!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM cluster_leases
             WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $4"
        )
        .bind(name)
        .bind(id)
        .bind(token)
        .bind(now_ms)
        .fetch_one(db)
        .await?);
        Ok(n == 1)
    }

    /// Every instance (newest first) and every lease.
    pub async fn cluster_status(&self) -> Result<ClusterStatus> {
        let instances: Vec<InstanceRow> = read_db!(self, |db| sqlx::query_as(
            "SELECT id, host, listen, pid, version, started_at, heartbeat_at, stopped_at
             FROM cluster_instances ORDER BY started_at DESC, id"
        )
        .fetch_all(db)
        .await?);
        let leases: Vec<LeaseRow> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT name, holder, token, expires_at, acquired_at FROM cluster_leases ORDER BY name"
        )
        .fetch_all(db)
        .await?
        });
        Ok(ClusterStatus { instances, leases })
    }

    /// Forgets instances that stopped or stopped beating before `before_ms` (they hold no live lease).
    /// Needs [`Action::RunChecks`].
    pub async fn forget_instances(&self, actor: &Actor, before_ms: i64) -> Result<u64> {
        actor.require(Action::RunChecks)?;
        Ok(write_tx!(self, |tx| {
            sqlx::query("DELETE FROM cluster_instances WHERE heartbeat_at < $1")
                .bind(before_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        }))
    }

    /// Claims the delivery of event `event_key` to channel `channel_id` for `instance`: true for the first
    /// claimer only, who then sends it; every other instance sends nothing. Needs [`Action::RunChecks`].
    pub async fn claim_notification(
        &self,
        actor: &Actor,
        event_key: &str,
        channel_id: i64,
        instance: &str,
        now_ms: i64,
    ) -> Result<bool> {
        actor.require(Action::RunChecks)?;
        let n = write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO notification_deliveries (event_key, channel_id, instance, claimed_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (event_key, channel_id) DO NOTHING",
            )
            .bind(event_key)
            .bind(channel_id)
            .bind(instance)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The network nodes with an own check down right now (as stored with each state change). An
    /// instance evaluates only the checks of its shards; the nodes another instance found down are read
    /// from here, so a terminal behind them is still 影響, not an alert of its own.
    pub async fn down_nodes(&self) -> Result<HashSet<i64>> {
        let ids: Vec<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT DISTINCT target_id FROM connectivity_checks
             WHERE target_kind = 'node' AND state = 'down' AND enabled"
        )
        .fetch_all(db)
        .await?);
        Ok(ids.into_iter().collect())
    }
}
