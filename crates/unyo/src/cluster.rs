//! `unyo cluster status` (the instances on one database, their beats, the shards each holds and the
//! singleton jobs' holders) and the helpers `cargo xtask cluster-test` checks a run with.

use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use unyo_store::Store;
use unyo_store::cluster::{ClusterStatus, SINGLETON_PREFIX};

/// An instance whose beat is older than this is shown as not alive (the default lease time).
const LIVE_MS: i64 = 15_000;

/// Prints the cluster: one line per instance (alive or not, its last beat, the shards it holds), then
/// each singleton job with its holder, token and expiry.
pub async fn status(store: &Store) -> Result<()> {
    let st = store.cluster_status().await?;
    let now = chrono::Utc::now().timestamp_millis();
    print!("{}", render(&st, now, store.backend_name()));
    Ok(())
}

/// The text of `unyo cluster status`.
pub fn render(st: &ClusterStatus, now_ms: i64, backend: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let shards = st.shards_by_holder(now_ms);
    let live = st
        .instances
        .iter()
        .filter(|i| ClusterStatus::is_live(i, now_ms, LIVE_MS))
        .count();
    let _ = writeln!(
        out,
        "database: {backend}; instances: {} alive of {} registered",
        live,
        st.instances.len()
    );
    let _ = writeln!(
        out,
        "{:<36} {:<7} {:>9} {:>6}  {:<21} started",
        "instance", "state", "beat ago", "shards", "listen"
    );
    for i in &st.instances {
        let state = if i.stopped_at.is_some() {
            "stopped"
        } else if ClusterStatus::is_live(i, now_ms, LIVE_MS) {
            "alive"
        } else {
            "lapsed"
        };
        let started = chrono::DateTime::from_timestamp_millis(i.started_at)
            .map(|d| {
                unyo_domain::time::to_jst(d)
                    .format("%Y-%m-%d %H:%M:%S JST")
                    .to_string()
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<36} {:<7} {:>8.1}s {:>6}  {:<21} {}",
            i.id,
            state,
            (now_ms - i.heartbeat_at) as f64 / 1000.0,
            shards.get(&i.id).copied().unwrap_or(0),
            i.listen,
            started
        );
    }
    let held: usize = shards.values().sum();
    let shard_total = st
        .leases
        .iter()
        .filter(|l| unyo_store::cluster::lease_shard(&l.name).is_some())
        .count();
    let _ = writeln!(out, "shards held: {held} of {shard_total}");
    for l in &st.leases {
        let Some(job) = l.name.strip_prefix(SINGLETON_PREFIX) else {
            continue;
        };
        let holder = match &l.holder {
            Some(h) if l.expires_at > now_ms => format!(
                "{h} (token {}, {:.1}s left)",
                l.token,
                (l.expires_at - now_ms) as f64 / 1000.0
            ),
            _ => format!("nobody (token {})", l.token),
        };
        let _ = writeln!(out, "singleton {job}: {holder}");
    }
    out
}

/// What a run left in the database, for `cargo xtask cluster-test`: for every check, its results since
/// `since` (Unix seconds) sorted by time; a slot is one interval around the check's phase, so two results
/// closer than half an interval are two results in one slot.
pub async fn slots(store: &Store, since: i64) -> Result<String> {
    let checks = store.checks().await?;
    let mut by_check: HashMap<i64, Vec<i64>> = HashMap::new();
    let all = store.all_check_results(since).await?;
    let results = all.len();
    for r in all {
        by_check.entry(r.check_id).or_default().push(r.ts);
    }
    let mut doubled = 0usize;
    let mut examples = Vec::new();
    let mut without = 0usize;
    let mut last: BTreeMap<i64, usize> = BTreeMap::new();
    for c in checks.iter().filter(|c| c.enabled) {
        let mut ts = by_check.remove(&c.id).unwrap_or_default();
        ts.sort_unstable();
        let half = (c.interval_s.max(1) + 1) / 2;
        for w in ts.windows(2) {
            if w[1] - w[0] < half {
                doubled += 1;
                if examples.len() < 5 {
                    examples.push(format!("{}@{}+{}", c.id, w[0], w[1] - w[0]));
                }
            }
        }
        match ts.last() {
            Some(t) => *last.entry(*t).or_insert(0) += 1,
            None => without += 1,
        }
    }
    let newest_oldest = last.keys().next().copied().unwrap_or(0);
    let mut out = HashMap::new();
    out.insert("checks", serde_json::json!(checks.len()));
    out.insert("results", serde_json::json!(results));
    out.insert("doubled", serde_json::json!(doubled));
    out.insert("examples", serde_json::json!(examples));
    out.insert("without", serde_json::json!(without));
    // The oldest "last result" over all checks: every check has a result at least this recent.
    out.insert("oldest_last", serde_json::json!(newest_oldest));
    Ok(serde_json::to_string(&out)?)
}
