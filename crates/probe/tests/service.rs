//! The engine wired to a real store: a node whose port is closed goes down, its event is recorded, an
//! automatic incident is opened for it, and the results are stored in batches; retention runs on its own.

use std::time::Duration;
use tokio::net::TcpListener;
use unyo_domain::connectivity::{CheckInput, State};
use unyo_domain::registry::NodeInput;
use unyo_probe::EngineConfig;
use unyo_probe::service::{ServiceConfig, start};
use unyo_store::Actor;
use unyo_store::connectivity::{DAY, HOUR, NewResult, bucket_of};
use unyo_store::incidents::IncidentQuery;
use unyo_store::testing::test_store;

#[tokio::test]
async fn a_down_node_records_an_event_and_opens_an_incident() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
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
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = l.local_addr().unwrap().port();
    drop(l);
    let check = s
        .create_check(
            &a,
            &CheckInput {
                name: "集約ルータ TCP".into(),
                target_kind: "node".into(),
                target_id: node.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(closed),
                interval_s: Some(5),
                timeout_ms: Some(300),
                retries: Some(0),
                flap_n: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let svc = start(
        s.clone(),
        ServiceConfig {
            engine: EngineConfig {
                concurrency: 4,
                jitter: false,
            },
            flush_every: Duration::from_millis(100),
            ..Default::default()
        },
    );
    let mut state = State::Unknown;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = s.check(check.id).await.unwrap().current_state();
        // The writer records the event, then opens the incident and links it: wait for all of it.
        let linked = s
            .check_events(Some(check.id), 1)
            .await
            .unwrap()
            .first()
            .is_some_and(|e| e.incident_id.is_some());
        if state == State::Down && linked && !s.check_results(check.id, 0).await.unwrap().is_empty()
        {
            break;
        }
    }
    drop(svc);
    assert_eq!(state, State::Down);
    let events = s.check_events(Some(check.id), 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].incident_id.is_some(), "{events:?}");
    let incidents = s
        .incidents(&IncidentQuery::default(), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(incidents.total, 1);
    assert!(incidents.items[0].title.contains("疎通不可"));
    assert_eq!(s.check_rollups(check.id, HOUR, 0).await.unwrap().len(), 1);
}

/// Retention runs while the service runs (not only when the check set changes): raw results and hourly
/// roll-ups past their periods go, daily roll-ups stay.
#[tokio::test]
async fn retention_runs_while_the_service_runs() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
    let node = s
        .create_node(
            &a,
            &NodeInput {
                name: "集約スイッチ".into(),
                kind: "switch".into(),
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let check = s
        .create_check(
            &a,
            &CheckInput {
                name: "集約スイッチ TCP".into(),
                target_kind: "node".into(),
                target_id: node.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(port),
                interval_s: Some(60),
                timeout_ms: Some(300),
                retries: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let old = chrono::Utc::now().timestamp() - 60 * 86_400;
    s.append_check_results(
        &a,
        &[NewResult {
            check_id: check.id,
            ts: old,
            code: 0,
            latency_ms: Some(1),
        }],
    )
    .await
    .unwrap();
    let svc = start(
        s.clone(),
        ServiceConfig {
            engine: EngineConfig {
                concurrency: 4,
                jitter: false,
            },
            flush_every: Duration::from_millis(100),
            ..Default::default()
        },
    );
    let mut raw = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        raw = s.check_results(check.id, 0).await.unwrap();
        if !raw.is_empty() && raw.iter().all(|r| r.ts > old) {
            break;
        }
    }
    drop(svc);
    drop(l);
    assert!(!raw.is_empty() && raw.iter().all(|r| r.ts > old), "{raw:?}");
    let hours = s.check_rollups(check.id, HOUR, 0).await.unwrap();
    assert!(hours.iter().all(|h| h.bucket > old / HOUR), "{hours:?}");
    let days = s.check_rollups(check.id, DAY, 0).await.unwrap();
    assert!(
        days.iter().any(|d| d.bucket == bucket_of(old, DAY)),
        "{days:?}"
    );
}
