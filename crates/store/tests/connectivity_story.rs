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
    let avail = s
        .site_availability(day - 40, day + 40, chrono::Utc::now())
        .await
        .unwrap();
    let total_up: i64 = avail.iter().map(|m| m.up).sum();
    assert_eq!(total_up, 90);
    // Results alone make no 稼働率: it comes from the engine's state changes (the outage windows).
    assert!(avail.iter().all(|m| m.availability.is_none()), "{avail:?}");

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
    // Now monitored from that change and down since: 0 %, down all the minutes monitored.
    let until = base + 90 * 72 + 600;
    let avail = s
        .site_availability(
            day - 40,
            day + 40,
            chrono::DateTime::from_timestamp(until, 0).unwrap(),
        )
        .await
        .unwrap();
    let m = avail.iter().find(|m| m.monitored_minutes > 0).unwrap();
    assert_eq!((m.monitored_minutes, m.down_minutes), (10, 10));
    assert_eq!(m.availability, Some(0.0));
    let events = s.check_events(None, 10).await.unwrap();
    assert_eq!(events[0].id, eid);
    assert_eq!(events[0].impacted_by_name.as_deref(), Some("集約ルータ"));

    // Last results are kept apart from the state; a missing latency stays missing.
    let last = |ts: i64, code: i16, latency_ms: Option<u32>| NewResult {
        check_id: check.id,
        ts,
        code,
        latency_ms,
    };
    assert!(
        s.store_last_results(&actor(Role::Auditor), &[last(base, 2, None)])
            .await
            .is_err()
    );
    s.store_last_results(&a, &[last(base, 2, None)])
        .await
        .unwrap();
    let c = s.check(check.id).await.unwrap();
    assert_eq!(
        (c.last_ts, c.last_status, c.last_latency_ms),
        (Some(base), Some(2), None)
    );
    s.store_last_results(&a, &[last(base + 60, 0, Some(7))])
        .await
        .unwrap();
    let c = s.check(check.id).await.unwrap();
    assert_eq!(
        (c.last_ts, c.last_status, c.last_latency_ms),
        (Some(base + 60), Some(0), Some(7))
    );
    assert_eq!(c.current_state(), State::Down);

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

/// Retention deletes in chunks from the front of the time-keyed tables and leaves nothing old behind — also
/// a result appended after newer ones.
#[tokio::test]
async fn retention_deletes_in_chunks() {
    use sqlx::Connection;
    use unyo_store::connectivity::PRUNE_CHUNK;
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let base = 1_780_000_000 / HOUR * HOUR;
    // 4,000 checks, one result an hour for three hours: 12,000 segments, more than two chunks.
    let checks = 4_000;
    let result = |c: i64, ts: i64| NewResult {
        check_id: 900_001 + c,
        ts,
        code: 0,
        latency_ms: Some(3),
    };
    for h in 0..3 {
        let hour: Vec<NewResult> = (0..checks)
            .map(|c| result(c, base + h * HOUR + c % 3600))
            .collect();
        s.append_check_results(&a, &hour).await.unwrap();
    }
    let new: Vec<NewResult> = (0..100).map(|c| result(c, base + 5 * HOUR + c)).collect();
    s.append_check_results(&a, &new).await.unwrap();
    // Appended last, but as old as the first results.
    s.append_check_results(&a, &[result(0, base + 1)])
        .await
        .unwrap();
    assert!(3 * checks > 2 * PRUNE_CHUNK);

    let cut = base + 3 * HOUR;
    assert_eq!(
        s.prune_check_results(&a, cut).await.unwrap(),
        3 * checks as u64 + 1
    );
    let mut left = 0;
    for c in [900_001, 900_002, 900_050, 904_000] {
        let rows = s.check_results(c, 0).await.unwrap();
        assert!(rows.iter().all(|r| r.ts >= cut), "an old result is left");
        left += rows.len();
    }
    assert_eq!(left, 3);
    assert_eq!(s.prune_check_results(&a, cut).await.unwrap(), 0);

    // Hourly roll-ups: the hours before the cut go, the daily ones stay.
    let hours_before = s.check_rollups(900_001, HOUR, 0).await.unwrap().len();
    assert_eq!(hours_before, 4);
    let pruned = s.prune_hourly_rollups(&a, base + 5 * HOUR).await.unwrap();
    assert_eq!(pruned, 3 * checks as u64);
    let hours_after = s.check_rollups(900_001, HOUR, 0).await.unwrap();
    assert_eq!(hours_after.len(), 1);
    assert!(
        hours_after
            .iter()
            .all(|r| r.bucket >= (base + 5 * HOUR) / HOUR)
    );
    let days = s.check_rollups(900_001, DAY, 0).await.unwrap();
    assert_eq!(days.iter().map(|d| d.up).sum::<i64>(), 5);

    // Both deletes and the per-check reads seek the primary key (its first column is the hour), never
    // scan a table (SQLite's plans; PostgreSQL's planner may rightly prefer a scan on tables this small).
    if !db.url.starts_with("postgres") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        for sql in [
            "EXPLAIN QUERY PLAN DELETE FROM check_segments WHERE bucket < 5 AND (bucket, check_id) <= (4, 9)",
            "EXPLAIN QUERY PLAN DELETE FROM check_hourly WHERE bucket < 5 AND (bucket, check_id) <= (4, 9)",
            "EXPLAIN QUERY PLAN WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 9)
             SELECT r.data FROM (SELECT x FROM s) b JOIN check_segments r ON r.bucket = b.x AND r.check_id = 3",
        ] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sql).fetch_all(&mut c).await.unwrap();
            let plan: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
            assert!(
                plan.iter().any(|p| p.contains("PRIMARY KEY")),
                "{sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|p| p.starts_with("SCAN check_")),
                "{sql}: {plan:?}"
            );
        }
    }
}

/// Sealing: an hour that is over becomes one segment per check plus its roll-ups and leaves the log in the
/// same transaction; the open hour stays in the log and is read from there; a result that comes after its
/// hour was sealed is merged into it; results of the earlier one-row-per-result layout are moved in.
#[tokio::test]
async fn sealing_moves_hours_out_of_the_log() {
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let base = 1_780_000_000 / HOUR * HOUR;
    let r = |c: i64, ts: i64, code: i16, l: Option<u32>| NewResult {
        check_id: c,
        ts,
        code,
        latency_ms: l,
    };
    // Two checks, two hours at 60 s: one batch spans the hour boundary.
    let all: Vec<NewResult> = (0..120)
        .flat_map(|i| {
            [
                r(1, base + i * 60, 0, Some(5 + i as u32)),
                r(2, base + i * 60 + 7, if i % 10 == 0 { 2 } else { 0 }, None),
            ]
        })
        .collect();
    for batch in all.chunks(50) {
        s.append_check_results(&a, batch).await.unwrap();
    }
    let err = s
        .seal_check_results(&actor(Role::Auditor), base + HOUR)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Domain(DomainError::Forbidden)));
    let sealed = s.seal_check_results(&a, base + HOUR).await.unwrap();
    assert_eq!((sealed.results, sealed.segments), (120, 2));
    // Nothing left to seal before that hour.
    assert_eq!(
        s.seal_check_results(&a, base + HOUR).await.unwrap().results,
        0
    );

    // Readers see the sealed hour and the open one alike.
    let one = s.check_results(1, 0).await.unwrap();
    assert_eq!(one.len(), 120);
    assert!(one.windows(2).all(|w| w[0].ts < w[1].ts));
    assert_eq!(one[0].latency_ms, Some(5));
    assert_eq!(one[119].latency_ms, Some(124));
    assert_eq!(s.check_results(1, base + HOUR).await.unwrap().len(), 60);
    let hours = s.check_rollups(2, HOUR, 0).await.unwrap();
    assert_eq!(hours.len(), 2);
    assert_eq!((hours[0].up, hours[0].down), (54, 6));
    assert_eq!((hours[1].up, hours[1].down), (54, 6));
    assert_eq!(hours[0].latency_n, 0);

    // A late result for the sealed hour is merged in order.
    s.append_check_results(&a, &[r(1, base + 30, 1, Some(900))])
        .await
        .unwrap();
    let sealed = s.seal_check_results(&a, base + 2 * HOUR).await.unwrap();
    assert_eq!((sealed.results, sealed.segments), (121, 3));
    let one = s.check_results(1, 0).await.unwrap();
    assert_eq!(one.len(), 121);
    assert_eq!((one[1].ts - base, one[1].latency_ms), (30, Some(900)));
    let hours = s.check_rollups(1, HOUR, 0).await.unwrap();
    assert_eq!(
        hours
            .iter()
            .map(|h| (h.up, h.degraded, h.latency_max))
            .collect::<Vec<_>>(),
        vec![(60, 1, 900), (60, 0, 124)]
    );
    let days = s.check_rollups(1, DAY, 0).await.unwrap();
    assert_eq!(days.iter().map(|d| d.up + d.degraded).sum::<i64>(), 121);

    // The earlier layout's rows are moved into the log, then sealed.
    {
        use sqlx::Connection;
        let sql = "INSERT INTO check_results_legacy (check_id, ts, status, latency_ms)
                   VALUES ($1, $2, 0, 8), ($1, $3, 2, NULL)";
        let q = sqlx::query(sql)
            .bind(3_i64)
            .bind(base + 5)
            .bind(base + HOUR + 5);
        if db.url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            q.execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .bind(3_i64)
                .bind(base + 5)
                .bind(base + HOUR + 5)
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
    assert_eq!(s.check_results(3, 0).await.unwrap().len(), 0);
    let sealed = s.seal_check_results(&a, base + HOUR).await.unwrap();
    assert_eq!(sealed.results, 1);
    let three = s.check_results(3, 0).await.unwrap();
    assert_eq!(
        three
            .iter()
            .map(|x| (x.ts - base, x.status))
            .collect::<Vec<_>>(),
        vec![(5, 0), (HOUR + 5, 2)]
    );
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
        ca_pem: None,
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
                url: "ftp://hook".into(),
                ca_pem: None,
            },
        )
        .await
    {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            assert!(e[0].message.contains("http:// または https://"), "{e:?}")
        }
        other => panic!("{other:?}"),
    }
    // A name with a line break is refused by the store too (it would reach syslog), nothing written.
    for name in ["監視\r\nサーバ", "監視\u{0}"] {
        match s.create_notification_channel(&se, name, &hook).await {
            Err(StoreError::Domain(DomainError::Validation(e))) => {
                assert!(
                    e[0].field == "name" && e[0].message.contains("制御文字"),
                    "{e:?}"
                )
            }
            other => panic!("{other:?}"),
        }
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

/// The store itself refuses a maintenance window whose site, node or check is not registered (or is
/// retired), with the window's own rules in the same refusal, inside its write transaction: a caller
/// that skips any check of its own cannot store a dangling target.
#[tokio::test]
async fn maintenance_window_targets_are_checked_by_the_store() {
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let se = actor(Role::Se);
    let site = s
        .create_site(
            &a,
            &SiteInput {
                code: "KARATSU".into(),
                name: "唐津土木事務所".into(),
                kind: "doboku".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.retire_site(&a, site.id, "統合のため").await.unwrap();
    let now = Utc::now();
    let window = MaintenanceWindow {
        id: 0,
        title: "回線工事".into(),
        site_id: Some(site.id),
        node_id: Some(999_999),
        check_id: Some(999_998),
        when: Recurrence::Once {
            start: now,
            end: now - Duration::hours(1),
        },
    };
    let fields = |r: Result<i64, StoreError>| match r {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            let mut f: Vec<String> = e.iter().map(|e| e.field.clone()).collect();
            f.sort();
            (f, e.iter().map(|e| e.message.clone()).collect::<Vec<_>>())
        }
        other => panic!("{other:?}"),
    };
    let (f, messages) = fields(s.create_maintenance_window(&se, &window).await);
    assert_eq!(f, ["check_id", "end", "node_id", "site_id"], "{messages:?}");
    assert!(
        messages.contains(&format!("拠点 {} は登録されていません。", site.id)),
        "{messages:?}"
    );
    assert!(messages.contains(&"ネットワーク機器 999999 は登録されていません。".to_string()));
    assert!(messages.contains(&"疎通確認 999998 は登録されていません。".to_string()));
    assert!(
        s.maintenance_window_records(unyo_store::registry::Status::All)
            .await
            .unwrap()
            .is_empty(),
        "nothing written"
    );

    // The same on a change of an existing window.
    let ok = MaintenanceWindow {
        site_id: None,
        node_id: None,
        check_id: None,
        when: Recurrence::Once {
            start: now,
            end: now + Duration::hours(1),
        },
        ..window.clone()
    };
    let id = s.create_maintenance_window(&se, &ok).await.unwrap();
    let changed = MaintenanceWindow {
        site_id: Some(site.id),
        ..ok.clone()
    };
    match s.update_maintenance_window(&se, id, &changed).await {
        Err(StoreError::Domain(DomainError::Validation(e))) => {
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!(e[0].field, "site_id");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.maintenance_window(id).await.unwrap().window.site_id,
        None,
        "nothing changed"
    );
}
