//! The engine wired to a real store: a node whose port is closed goes down, its event is recorded, an
//! automatic incident is opened for it, and the results are stored in batches; retention runs on its own;
//! a retired maintenance window no longer suppresses the alert and a retired channel is not notified.

mod common;

use std::time::Duration;
use tokio::net::TcpListener;
use unyo_domain::connectivity::{ChannelConfig, CheckInput, MaintenanceWindow, Recurrence, State};
use unyo_domain::registry::NodeInput;
use unyo_probe::service::{ServiceConfig, start};
use unyo_store::Actor;
use unyo_store::connectivity::{DAY, HOUR, NewResult, bucket_of};
use unyo_store::incidents::IncidentQuery;
use unyo_store::testing::test_store;

#[tokio::test]
async fn a_down_node_records_an_event_and_opens_an_incident() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let check = common::router_check(&s, common::closed_port().await).await;
    let svc = start(
        s.clone(),
        ServiceConfig {
            last_every: Duration::from_millis(200),
            ..common::quick()
        },
    );
    let mut state = State::Unknown;
    let mut last = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let c = s.check(check.id).await.unwrap();
        state = c.current_state();
        last = c.last_status;
        // The writer records the event, then opens the incident and links it: wait for all of it.
        let linked = s
            .check_events(Some(check.id), 1)
            .await
            .unwrap()
            .first()
            .is_some_and(|e| e.incident_id.is_some());
        if state == State::Down
            && linked
            && last.is_some()
            && !s.check_results(check.id, 0).await.unwrap().is_empty()
        {
            break;
        }
    }
    drop(svc);
    assert_eq!(state, State::Down);
    // The last result is stored apart from the state, about once a minute (here every 200 ms).
    assert_eq!(last.map(|l| l & 3), Some(2));
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
    let svc = start(s.clone(), common::quick());
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

/// A retired maintenance window no longer suppresses the alert (the down opens an incident and is not
/// marked as maintenance), and a retired channel is not notified while the one in service is.
#[tokio::test]
async fn retired_windows_and_channels_no_longer_apply() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
    let now = chrono::Utc::now();
    let window = s
        .create_maintenance_window(
            &a,
            &MaintenanceWindow {
                id: 0,
                title: "全体保守".into(),
                site_id: None,
                node_id: None,
                check_id: None,
                when: Recurrence::Once {
                    start: now - chrono::Duration::hours(1),
                    end: now + chrono::Duration::hours(1),
                },
            },
        )
        .await
        .unwrap();
    s.retire_maintenance_window(&a, window, "工事が中止になったため")
        .await
        .unwrap();
    let kept = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let gone = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let kept_id = s
        .create_notification_channel(
            &a,
            "当番",
            &ChannelConfig::Syslog {
                addr: kept.local_addr().unwrap().to_string(),
            },
        )
        .await
        .unwrap();
    let gone_id = s
        .create_notification_channel(
            &a,
            "撤去した監視サーバ",
            &ChannelConfig::Syslog {
                addr: gone.local_addr().unwrap().to_string(),
            },
        )
        .await
        .unwrap();
    s.retire_notification_channel(&a, gone_id, "監視サーバの撤去")
        .await
        .unwrap();
    let check = common::router_check(&s, common::closed_port().await).await;
    let svc = start(s.clone(), common::quick());
    let mut buf = [0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), kept.recv_from(&mut buf))
        .await
        .expect("the channel in service is notified")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("集約ルータ TCP"));
    let mut linked = false;
    for _ in 0..50 {
        linked = s
            .check_events(Some(check.id), 1)
            .await
            .unwrap()
            .first()
            .is_some_and(|e| e.incident_id.is_some());
        if linked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(500), gone.recv_from(&mut buf))
            .await
            .is_err(),
        "the retired channel is not notified"
    );
    drop(svc);
    assert!(linked, "the down alerts: an incident is opened");
    let events = s.check_events(Some(check.id), 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert!(!events[0].maintenance, "{events:?}");
    let attempts = s.notification_attempts(10).await.unwrap();
    assert!(
        !attempts.is_empty() && attempts.iter().all(|x| x.channel_id == kept_id),
        "{attempts:?}"
    );
}
