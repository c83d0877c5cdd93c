//! Several instances on one database (issue 19): memberships share the shards and take a frozen one's
//! over once its leases lapse; two services on one store probe a check from one instance only, never twice
//! in one interval, and record its state change once.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;
use unyo_domain::connectivity::State;
use unyo_probe::EngineConfig;
use unyo_probe::cluster::{ClusterConfig, Membership, SEAL_JOB};
use unyo_probe::service::{ServiceConfig, start_clustered};
use unyo_store::cluster::SHARDS;
use unyo_store::testing::test_store;

fn config(name: &str) -> ClusterConfig {
    let mut c = ClusterConfig::new(name);
    c.ttl = Duration::from_secs(2);
    c.beat = Duration::from_millis(200);
    c
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..100 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn shards_are_shared_and_taken_over() {
    let db = test_store().await.unwrap();
    let a = Membership::start(db.store.clone(), config("127.0.0.1:1"));
    let b = Membership::start(db.store.clone(), config("127.0.0.1:2"));
    assert_ne!(a.id(), b.id());
    // Both share every shard, none twice (the one holding more gives the surplus away once told its
    // engine no longer runs them).
    wait_for("an even share", || {
        a.set_running(a.shards());
        b.set_running(b.shards());
        let (sa, sb) = (a.shards(), b.shards());
        sa.len() as i64 == SHARDS / 2 && sb.len() as i64 == SHARDS / 2 && sa.is_disjoint(&sb)
    })
    .await;
    // Exactly one runs the seal.
    assert!(a.holds(SEAL_JOB).is_some() != b.holds(SEAL_JOB).is_some());
    let seal_was_a = a.holds(SEAL_JOB).is_some();

    // A freezes: after its lease time B holds everything, A (knowing its leases lapsed) nothing.
    a.halt();
    wait_for("the take-over", || {
        b.set_running(b.shards());
        b.shards().len() as i64 == SHARDS
    })
    .await;
    assert!(a.shards().is_empty());
    assert!(b.holds(SEAL_JOB).is_some());
    if seal_was_a {
        assert!(a.holds(SEAL_JOB).is_none());
    }
    // A fence from before the freeze no longer writes.
    let stale = a.fence();
    assert!(!stale.shards.is_empty());
    let batch = [unyo_store::connectivity::NewResult {
        check_id: *stale.shards.keys().next().unwrap(),
        ts: chrono::Utc::now().timestamp(),
        code: 0,
        latency_ms: Some(1),
    }];
    let refused = db
        .store
        .append_check_results_fenced(
            &unyo_store::Actor::system("test"),
            &batch,
            &stale,
            chrono::Utc::now().timestamp_millis(),
        )
        .await
        .unwrap();
    assert_eq!(refused, 1);

    // A clean stop gives everything back at once.
    b.stop().await;
    let st = db.store.cluster_status().await.unwrap();
    assert!(
        st.shards_by_holder(chrono::Utc::now().timestamp_millis())
            .is_empty()
    );
}

#[tokio::test]
async fn two_services_probe_each_check_once() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let check = common::router_check(&s, common::closed_port().await).await;
    let started = chrono::Utc::now().timestamp();
    let service_config = ServiceConfig {
        engine: EngineConfig {
            concurrency: 4,
            // Each check at its own phase: a restart over new shards does not run it again early.
            jitter: true,
        },
        ..common::quick()
    };
    let ma = Membership::start(s.clone(), config("127.0.0.1:1"));
    let mb = Membership::start(s.clone(), config("127.0.0.1:2"));
    let _a = start_clustered(
        s.clone(),
        service_config,
        unyo_probe::Network,
        Some(ma.clone()),
    );
    let _b = start_clustered(
        s.clone(),
        service_config,
        unyo_probe::Network,
        Some(mb.clone()),
    );
    // Three intervals of 5 s.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let owners: BTreeSet<bool> = [&ma, &mb]
        .iter()
        .map(|m| {
            m.shards()
                .contains(&unyo_store::cluster::shard_of(check.id))
        })
        .collect();
    assert!(owners.contains(&true), "someone holds the check's shard");
    let ts: Vec<i64> = s
        .check_results(check.id, started)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.ts)
        .collect();
    assert!(
        (2..=4).contains(&ts.len()),
        "one result per interval: {ts:?}"
    );
    for w in ts.windows(2) {
        assert!(w[1] - w[0] >= 3, "two results in one interval: {ts:?}");
    }
    // One state change (unknown → down), recorded once.
    let events = s.check_events(Some(check.id), 10).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        s.check(check.id).await.unwrap().current_state(),
        State::Down
    );
}
