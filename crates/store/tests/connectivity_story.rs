//! The connectivity story (issue 5): checks only on registered addresses, batched raw results with hourly and
//! daily roll-ups, events and state, a maintenance window, availability per site and month, retention, and
//! the bytes one result costs — on SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` names one.

use chrono::{Duration, Utc};
use serde_json::json;
use unyo_domain::connectivity::{CheckInput, MaintenanceWindow, Recurrence, State};
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_domain::{DomainError, Role};
use unyo_store::connectivity::{DAY, HOUR, NewEvent, NewResult, bucket_of};
use unyo_store::testing::test_store;
use unyo_store::{Actor, StoreError};

fn actor(role: Role) -> Actor {
    Actor {
        user_id: None,
        username: format!("{}-user", role.as_str()),
        role,
        source: "test".into(),
    }
}

#[tokio::test]
async fn checks_results_rollups_events_and_availability() {
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let core = s
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
    let site = s
        .create_site(
            &a,
            &SiteInput {
                code: "KARATSU".into(),
                name: "唐津土木事務所".into(),
                kind: "doboku".into(),
                uplink_node_id: Some(core.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let term = s
        .create_terminal(
            &a,
            &TerminalInput {
                site_id: Some(site.id),
                hostname: "KARATSU-DOBOKU-01".into(),
                kind: "business".into(),
                ip_address: "127.0.0.2".into(),
                os_name: "Windows 11".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // Only the registered address; only admin and SE.
    let mut input = CheckInput {
        name: "唐津土木 ping".into(),
        target_kind: "terminal".into(),
        target_id: term.id,
        kind: "icmp".into(),
        address: "127.0.0.9".into(),
        ..Default::default()
    };
    let err = s.create_check(&a, &input).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::Validation(_))),
        "{err:?}"
    );
    input.address = "127.0.0.2".into();
    let err = s
        .create_check(&actor(Role::Staff), &input)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Domain(DomainError::Forbidden)));
    let check = s.create_check(&actor(Role::Se), &input).await.unwrap();
    assert_eq!(check.current_state(), State::Unknown);
    assert_eq!(check.site_id, Some(site.id));
    let node_check = s
        .create_check(
            &a,
            &CheckInput {
                name: "集約ルータ TCP".into(),
                target_kind: "node".into(),
                target_id: core.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(22),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let topo = s.check_topology().await.unwrap();
    let t = topo.iter().find(|t| t.check_id == check.id).unwrap();
    assert_eq!(t.path, vec![core.id]);
    let n = topo.iter().find(|t| t.check_id == node_check.id).unwrap();
    assert_eq!((n.own_node, n.path.clone()), (Some(core.id), vec![]));

    // One batch: 100 results over two hours; one in maintenance, some down.
    let base = (Utc::now() - Duration::hours(3)).timestamp() / HOUR * HOUR;
    let batch: Vec<NewResult> = (0..100)
        .map(|i| NewResult {
            check_id: check.id,
            ts: base + i * 72,
            code: match i {
                0..=89 => 0,
                90..=97 => 2,
                _ => 2 | 4,
            },
            latency_ms: (i < 90).then_some(10 + i as u32),
        })
        .collect();
    s.append_check_results(&a, &batch).await.unwrap();
    let err = s
        .append_check_results(&actor(Role::Auditor), &batch)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Domain(DomainError::Forbidden)));
    let raw = s.check_results(check.id, 0).await.unwrap();
    assert_eq!(raw.len(), 100);
    assert!(raw.windows(2).all(|w| w[0].ts <= w[1].ts));
    let hours = s.check_rollups(check.id, HOUR, 0).await.unwrap();
    assert_eq!(hours.len(), 2);
    assert_eq!(hours.iter().map(|h| h.up).sum::<i64>(), 90);
    assert_eq!(hours.iter().map(|h| h.maintenance).sum::<i64>(), 2);
    assert_eq!(hours.iter().map(|h| h.latency_max).max(), Some(99));
    let days = s.check_rollups(check.id, DAY, 0).await.unwrap();
    assert_eq!(
        days.iter()
            .map(|d| d.up + d.down + d.maintenance)
            .sum::<i64>(),
        100
    );

    let day = bucket_of(base, DAY);
    let avail = s.site_availability(day - 40, day + 40).await.unwrap();
    let total_up: i64 = avail.iter().map(|m| m.up).sum();
    assert_eq!(total_up, 90);
    let pct = avail
        .iter()
        .find(|m| m.up > 0)
        .unwrap()
        .availability
        .unwrap();
    assert!(
        (pct - 90.0 * 100.0 / 98.0).abs() < 1e-9 || avail.len() > 1,
        "{pct}"
    );

    // An event sets the state.
    let eid = s
        .record_check_event(
            &a,
            &NewEvent {
                check_id: check.id,
                ts: base + 90 * 72,
                from: State::Up,
                to: State::Down,
                cause: "3回連続で応答がありません".into(),
                impacted_by: Some(core.id),
                maintenance: false,
                results: json!([{"ts": base, "status": "down"}]),
                message: "タイムアウト".into(),
            },
        )
        .await
        .unwrap();
    let c = s.check(check.id).await.unwrap();
    assert_eq!(c.current_state(), State::Down);
    assert_eq!(c.impacted_by, Some(core.id));
    let events = s.check_events(None, 10).await.unwrap();
    assert_eq!(events[0].id, eid);
    assert_eq!(events[0].impacted_by_name.as_deref(), Some("集約ルータ"));

    // Maintenance windows.
    let now = Utc::now();
    let wid = s
        .create_maintenance_window(
            &actor(Role::Se),
            &MaintenanceWindow {
                id: 0,
                title: "回線工事".into(),
                site_id: Some(site.id),
                node_id: None,
                check_id: None,
                when: Recurrence::Once {
                    start: now,
                    end: now + Duration::hours(2),
                },
            },
        )
        .await
        .unwrap();
    let ws = s.maintenance_windows().await.unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].id, wid);

    // Retention keeps the roll-ups.
    let pruned = s.prune_check_results(&a, base + 3600).await.unwrap();
    assert_eq!(pruned, 50);
    assert_eq!(s.check_rollups(check.id, HOUR, 0).await.unwrap().len(), 2);
    // Hourly roll-ups have their own retention; daily ones stay.
    assert_eq!(s.prune_hourly_rollups(&a, base + 3600).await.unwrap(), 1);
    assert_eq!(s.check_rollups(check.id, HOUR, 0).await.unwrap().len(), 1);
    assert!(!s.check_rollups(check.id, DAY, 0).await.unwrap().is_empty());
}

/// Retention deletes in chunks, reads only what it deletes, and leaves nothing old behind — also a result
/// appended after newer ones.
#[tokio::test]
async fn retention_deletes_in_chunks() {
    use sqlx::Connection;
    use unyo_store::connectivity::PRUNE_CHUNK;
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let base = 1_780_000_000 / HOUR * HOUR;
    let old_n = 2 * PRUNE_CHUNK + 2_000;
    let result = |i: i64, ts: i64| NewResult {
        check_id: 900_001 + i % 3,
        ts,
        code: 0,
        latency_ms: Some(3),
    };
    let old: Vec<NewResult> = (0..old_n).map(|i| result(i, base + i / 3)).collect();
    for chunk in old.chunks(4_000) {
        s.append_check_results(&a, chunk).await.unwrap();
    }
    let new: Vec<NewResult> = (0..100).map(|i| result(i, base + 5 * HOUR + i)).collect();
    s.append_check_results(&a, &new).await.unwrap();
    // Appended last, but as old as the first rows.
    s.append_check_results(&a, &[result(0, base + 1)])
        .await
        .unwrap();

    let cut = base + old_n / 3 + 1;
    assert_eq!(
        s.prune_check_results(&a, cut).await.unwrap(),
        old_n as u64 + 1
    );
    for c in 900_001..900_004 {
        let left = s.check_results(c, 0).await.unwrap();
        assert!(left.iter().all(|r| r.ts >= cut), "an old result is left");
    }
    let left: usize = {
        let mut n = 0;
        for c in 900_001..900_004 {
            n += s.check_results(c, 0).await.unwrap().len();
        }
        n
    };
    assert_eq!(left, 100);
    assert_eq!(s.prune_check_results(&a, cut).await.unwrap(), 0);

    // Hourly roll-ups: the hours before the cut go, the daily ones stay.
    let hours_before = s.check_rollups(900_001, HOUR, 0).await.unwrap().len();
    let pruned = s.prune_hourly_rollups(&a, base + 5 * HOUR).await.unwrap();
    let hours_after = s.check_rollups(900_001, HOUR, 0).await.unwrap();
    assert_eq!(pruned as usize, 3 * (hours_before - hours_after.len()));
    assert!(
        hours_after
            .iter()
            .all(|r| r.bucket >= (base + 5 * HOUR) / HOUR)
    );
    assert!(!s.check_rollups(900_001, DAY, 0).await.unwrap().is_empty());

    // The hourly delete reads the partial index, not the whole table (SQLite's plan; PostgreSQL's
    // planner may rightly prefer a scan on a table this small).
    if !db.url.starts_with("postgres") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT check_id, grain, bucket FROM check_rollups WHERE grain = 3600 AND bucket < 1 LIMIT 5000",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        let plan: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
        assert!(
            plan.iter()
                .any(|p| p.contains("check_rollups_hourly_bucket")),
            "{plan:?}"
        );
    }
}

/// Maintenance windows and notification channels are changed and retired, never deleted: the same rules
/// as at creation (nothing is written when they fail), the manage permission, one audit entry per change
/// in the same transaction; a retired window no longer applies and a retired channel is no longer
/// notified, while both stay listed.
#[tokio::test]
async fn maintenance_windows_and_channels_are_edited_and_retired() {
    use unyo_domain::connectivity::ChannelConfig;
    use unyo_store::audit::AuditQuery;
    use unyo_store::registry::Status;

    let db = test_store().await.unwrap();
    let s = &db.store;
    let se = actor(Role::Se);
    let now = Utc::now();
    let window = MaintenanceWindow {
        id: 0,
        title: "回線工事".into(),
        site_id: None,
        node_id: None,
        check_id: None,
        when: Recurrence::Once {
            start: now,
            end: now + Duration::hours(2),
        },
    };
    let wid = s.create_maintenance_window(&se, &window).await.unwrap();
    let other = s
        .create_maintenance_window(
            &se,
            &MaintenanceWindow {
                title: "定期保守".into(),
                when: Recurrence::Weekly {
                    weekday: 5,
                    start_min: 23 * 60,
                    duration_min: 120,
                },
                ..window.clone()
            },
        )
        .await
        .unwrap();

    // Edit: the new title and time are kept; the audit entry holds what changed.
    let changed = MaintenanceWindow {
        title: "回線工事（延長）".into(),
        when: Recurrence::Once {
            start: now,
            end: now + Duration::hours(4),
        },
        ..window.clone()
    };
    let r = s
        .update_maintenance_window(&se, wid, &changed)
        .await
        .unwrap();
    assert_eq!(r.window.title, "回線工事（延長）");
    assert_eq!(r.window.when, changed.when);
    assert_eq!(r.window.id, wid);
    assert!(r.updated_at.is_some() && r.retired_at.is_none());

    // The create rules hold; nothing is written when they fail.
    let bad = MaintenanceWindow {
        title: " ".into(),
        when: Recurrence::Once {
            start: now,
            end: now - Duration::hours(1),
        },
        ..window.clone()
    };
    match s.update_maintenance_window(&se, wid, &bad).await {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            assert!(e.iter().any(|e| e.field == "title"), "{e:?}");
            assert!(
                e.iter()
                    .any(|e| e.message == "終了は開始より後にしてください。"),
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    for role in [Role::Staff, Role::Auditor] {
        assert!(
            matches!(
                s.update_maintenance_window(&actor(role), wid, &window)
                    .await,
                Err(StoreError::Domain(DomainError::Forbidden))
            ),
            "{role:?}"
        );
        assert!(matches!(
            s.retire_maintenance_window(&actor(role), wid, "不要").await,
            Err(StoreError::Domain(DomainError::Forbidden))
        ));
    }
    assert!(matches!(
        s.update_maintenance_window(&se, 999_999, &window).await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    assert_eq!(
        s.maintenance_window(wid).await.unwrap().window.title,
        "回線工事（延長）"
    );

    // Retire: a reason is required; the window stays listed but no longer applies.
    match s.retire_maintenance_window(&se, wid, "  ").await {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            assert_eq!(e[0].message, "廃止の理由を入力してください。")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        s.retire_maintenance_window(&se, wid, "個人番号 1234 5678 9018")
            .await
            .is_err(),
        "no personal identifiers in the reason"
    );
    assert!(
        s.maintenance_window(wid)
            .await
            .unwrap()
            .retired_at
            .is_none()
    );
    let r = s
        .retire_maintenance_window(&se, wid, "工事が中止になったため")
        .await
        .unwrap();
    assert!(r.retired_at.is_some());
    let in_force: Vec<i64> = s
        .maintenance_windows()
        .await
        .unwrap()
        .iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(in_force, [other]);
    let all = s.maintenance_window_records(Status::All).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        s.maintenance_window_records(Status::Retired)
            .await
            .unwrap()
            .iter()
            .map(|w| w.window.id)
            .collect::<Vec<_>>(),
        [wid]
    );
    for e in [
        s.retire_maintenance_window(&se, wid, "再度").await,
        s.update_maintenance_window(&se, wid, &window).await,
    ] {
        match e {
            Err(StoreError::Domain(DomainError::Conflict(m))) => {
                assert!(m.contains("廃止"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    // Channels: edit (the kind may change), the create rules, retire.
    let hook = ChannelConfig::Webhook {
        url: "http://127.0.0.1:9/hook".into(),
    };
    let cid = s
        .create_notification_channel(&se, "監視サーバ", &hook)
        .await
        .unwrap();
    let keep = s
        .create_notification_channel(
            &se,
            "運用チーム",
            &ChannelConfig::Syslog {
                addr: "127.0.0.1:514".into(),
            },
        )
        .await
        .unwrap();
    let syslog = ChannelConfig::Syslog {
        addr: "127.0.0.1:1514".into(),
    };
    let c = s
        .update_notification_channel(&se, cid, " 監視サーバ（syslog） ", &syslog)
        .await
        .unwrap();
    assert_eq!(c.name, "監視サーバ（syslog）");
    assert_eq!(c.config, syslog);
    assert!(c.updated_at.is_some());
    match s
        .update_notification_channel(
            &se,
            cid,
            "x",
            &ChannelConfig::Webhook {
                url: "https://hook".into(),
            },
        )
        .await
    {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            assert!(e[0].message.contains("http://"), "{e:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.update_notification_channel(&actor(Role::Staff), cid, "x", &hook)
            .await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    assert_eq!(s.notification_channel(cid).await.unwrap().config, syslog);
    assert!(matches!(
        s.retire_notification_channel(&se, cid, "").await,
        Err(StoreError::Domain(DomainError::Validation(_)))
    ));
    let c = s
        .retire_notification_channel(&se, cid, "監視サーバの撤去")
        .await
        .unwrap();
    assert!(c.retired_at.is_some());
    let notified: Vec<i64> = s
        .notification_channels()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(notified, [keep]);
    assert_eq!(
        s.notification_channel_records(Status::All)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        s.update_notification_channel(&se, cid, "x", &hook).await,
        Err(StoreError::Domain(DomainError::Conflict(_)))
    ));
    assert!(matches!(
        s.retire_notification_channel(&se, cid, "再度").await,
        Err(StoreError::Domain(DomainError::Conflict(_)))
    ));
    assert!(matches!(
        s.retire_notification_channel(&se, 999_999, "x").await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));

    // One audit entry per change that was made, and the chain is intact.
    let log = |action: &'static str| async move {
        s.audit_log(&AuditQuery {
            action: Some(action.into()),
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
    };
    let updates = log("maintenance.update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].entity_id, wid.to_string());
    assert!(
        updates[0].details.contains("回線工事（延長）") && !updates[0].details.contains("site_id"),
        "only the differences: {}",
        updates[0].details
    );
    let retires = log("maintenance.retire").await;
    assert_eq!(retires.len(), 1);
    assert!(retires[0].details.contains("工事が中止になったため"));
    assert_eq!(log("notification_channel.update").await.len(), 1);
    let retires = log("notification_channel.retire").await;
    assert_eq!(retires.len(), 1);
    assert!(retires[0].details.contains("監視サーバの撤去"));
    assert!(matches!(
        s.verify_audit_chain().await.unwrap(),
        unyo_store::audit::ChainReport::Intact { .. }
    ));
}
