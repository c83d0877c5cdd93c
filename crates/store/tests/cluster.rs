//! Several instances on one database (issue 19): registration and beats, shard leases claimed up to a fair
//! share and taken over when they lapse, results and events refused under a lost lease (fencing), singleton
//! leases with growing tokens, and a notification claimed once — on SQLite by default and on PostgreSQL
//! when `TEST_DATABASE_URL` names one.

use serde_json::json;
use unyo_domain::Role;
use unyo_domain::connectivity::{CheckInput, State};
use unyo_domain::registry::NodeInput;
use unyo_store::cluster::{Fence, NewInstance, SHARDS, lease_shard, shard_of, singleton_lease};
use unyo_store::connectivity::{NewEvent, NewResult};
use unyo_store::testing::test_store;
use unyo_store::{Actor, StoreError};

fn instance(id: &str) -> NewInstance {
    NewInstance {
        id: id.into(),
        host: "localhost".into(),
        listen: "127.0.0.1:8080".into(),
        pid: 1,
        version: "test".into(),
    }
}

fn fence(id: &str, held: &[(String, i64)]) -> Fence {
    Fence {
        instance: id.into(),
        shards: held
            .iter()
            .filter_map(|(n, t)| Some((lease_shard(n)?, *t)))
            .collect(),
    }
}

#[tokio::test]
async fn leases_fencing_singletons_and_deliveries() {
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let t0 = 1_000_000_000_000_i64;
    let ttl = 15_000;

    s.register_instance(&a, &instance("A"), t0).await.unwrap();
    s.register_instance(&a, &instance("B"), t0).await.unwrap();
    // Registering twice keeps one row per instance and one lease per shard.
    s.register_instance(&a, &instance("A"), t0).await.unwrap();
    assert_eq!(s.live_instances(t0, ttl).await.unwrap(), 2);
    let status = s.cluster_status().await.unwrap();
    assert_eq!(status.instances.len(), 2);
    assert_eq!(status.leases.len() as i64, SHARDS);

    // Only the engine's roles may take part.
    let auditor = Actor {
        user_id: None,
        username: "auditor".into(),
        role: Role::Auditor,
        source: "test".into(),
    };
    assert!(matches!(
        s.claim_shards(&auditor, "A", 1, t0, ttl).await,
        Err(StoreError::Domain(_))
    ));

    // Each claims half; no shard twice; nothing left for a third claim.
    let half = SHARDS / 2;
    let a_held = s.claim_shards(&a, "A", half, t0, ttl).await.unwrap();
    let b_held = s.claim_shards(&a, "B", SHARDS, t0, ttl).await.unwrap();
    assert_eq!(a_held.len() as i64, half);
    assert_eq!(b_held.len() as i64, SHARDS - half);
    assert!(a_held.iter().all(|x| !b_held.iter().any(|y| y.0 == x.0)));
    assert!(
        s.claim_shards(&a, "A", 5, t0, ttl)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.cluster_status().await.unwrap().shards_by_holder(t0)["A"] as i64,
        half
    );

    // Results are kept only for the shards the writer holds under the token it names.
    let fa = fence("A", &a_held);
    let a_shard = *fa.shards.keys().next().unwrap();
    let b_shard = lease_shard(&b_held[0].0).unwrap();
    let (a_check, b_check) = (a_shard + SHARDS, b_shard + SHARDS);
    assert_eq!(shard_of(a_check), a_shard);
    let batch = [
        NewResult {
            check_id: a_check,
            ts: t0 / 1000,
            code: 0,
            latency_ms: Some(1),
        },
        NewResult {
            check_id: b_check,
            ts: t0 / 1000,
            code: 0,
            latency_ms: Some(1),
        },
    ];
    let refused = s
        .append_check_results_fenced(&a, &batch, &fa, t0 + 1)
        .await
        .unwrap();
    assert_eq!(refused, 1, "B's check is not A's to write");
    assert_eq!(s.check_results(a_check, 0).await.unwrap().len(), 1);
    assert!(s.check_results(b_check, 0).await.unwrap().is_empty());

    // B beats, A pauses past its lease time: A's leases lapse and B takes them over under new tokens.
    let t1 = t0 + ttl + 1;
    assert!(s.beat_instance(&a, "B", t1).await.unwrap());
    assert_eq!(s.live_instances(t1, ttl).await.unwrap(), 1);
    let b_renewed = s.renew_leases(&a, "B", t0 + 10_000, ttl).await.unwrap();
    assert_eq!(b_renewed.len() as i64, SHARDS - half);
    assert!(
        s.renew_leases(&a, "A", t1, ttl).await.unwrap().is_empty(),
        "a lapsed lease is not renewed"
    );
    let taken = s.claim_shards(&a, "B", SHARDS, t1, ttl).await.unwrap();
    assert_eq!(taken.len() as i64, half);
    let new_token = taken.iter().find(|x| x.0 == a_held[0].0).unwrap().1;
    assert_eq!(new_token, a_held[0].1 + 1, "a take-over grows the token");

    // A resumes and writes with its old fence: refused, even with a clock that says the lease is live.
    let refused = s
        .append_check_results_fenced(&a, &batch[..1], &fa, t0 + 2)
        .await
        .unwrap();
    assert_eq!(refused, 1);
    assert_eq!(s.check_results(a_check, 0).await.unwrap().len(), 1);

    // Events are fenced the same way.
    let node = s
        .create_node(
            &a,
            &NodeInput {
                name: "集約ルータ".into(),
                kind: "router".into(),
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let check = s
        .create_check(
            &a,
            &CheckInput {
                name: "集約ルータ TCP".into(),
                target_kind: "node".into(),
                target_id: node.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(22),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let event = NewEvent {
        check_id: check.id,
        ts: t1 / 1000,
        from: State::Unknown,
        to: State::Down,
        cause: "応答なし".into(),
        impacted_by: None,
        maintenance: false,
        results: json!([]),
        message: "timeout".into(),
    };
    let b_all = s.renew_leases(&a, "B", t1, ttl).await.unwrap();
    assert_eq!(b_all.len() as i64, SHARDS);
    let stale = s
        .record_check_events_fenced(&a, std::slice::from_ref(&event), &fa, t0 + 3)
        .await
        .unwrap();
    assert_eq!(stale, vec![None]);
    assert_eq!(
        s.check(check.id).await.unwrap().current_state(),
        State::Unknown
    );
    let fb = fence("B", &b_all);
    let kept = s
        .record_check_events_fenced(&a, std::slice::from_ref(&event), &fb, t1 + 1)
        .await
        .unwrap();
    assert!(kept[0].is_some());
    assert_eq!(
        s.check(check.id).await.unwrap().current_state(),
        State::Down
    );
    assert_eq!(
        s.down_nodes()
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![node.id]
    );

    // A singleton: one holder at a time, its token kept while it renews, grown at a take-over.
    let seal = singleton_lease("connectivity.seal");
    let tok = s
        .acquire_lease(&a, "B", &seal, t1, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.acquire_lease(&a, "A", &seal, t1 + 1, ttl).await.unwrap(),
        None
    );
    assert_eq!(
        s.acquire_lease(&a, "B", &seal, t1 + 5_000, ttl)
            .await
            .unwrap(),
        Some(tok)
    );
    assert!(s.holds_lease("B", &seal, tok, t1 + 6_000).await.unwrap());
    let t2 = t1 + 5_000 + ttl;
    let tok_a = s
        .acquire_lease(&a, "A", &seal, t2, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tok_a, tok + 1);
    assert!(!s.holds_lease("B", &seal, tok, t2).await.unwrap());

    // A clean stop gives every lease back at once.
    s.stop_instance(&a, "B", t2).await.unwrap();
    assert!(!s.beat_instance(&a, "B", t2).await.unwrap());
    assert_eq!(
        s.claim_shards(&a, "A", SHARDS, t2, ttl)
            .await
            .unwrap()
            .len() as i64,
        SHARDS
    );

    // A notification is claimed once per event and channel.
    assert!(
        s.claim_notification(&a, "check:1:5:up>down", 1, "A", t2)
            .await
            .unwrap()
    );
    assert!(
        !s.claim_notification(&a, "check:1:5:up>down", 1, "B", t2)
            .await
            .unwrap()
    );
    assert!(
        s.claim_notification(&a, "check:1:5:up>down", 2, "B", t2)
            .await
            .unwrap()
    );
}
