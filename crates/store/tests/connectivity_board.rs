//! The status board's fingerprint (`Store::board_fingerprint`): it stays the same while only results flow
//! in, and it moves with every change the board shows — a state change, a check created, changed or retired,
//! a maintenance window created, changed or retired, a node or terminal changed, a new check-result sheet.
//! On SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` names one.

use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::Connection;
use unyo_domain::connectivity::{CheckInput, MaintenanceWindow, Recurrence, State};
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_store::Actor;
use unyo_store::connectivity::{NewEvent, NewResult};
use unyo_store::testing::test_store;

/// Runs one statement on a second connection, as another writer (e.g. another instance) would.
async fn execute_elsewhere(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_fingerprint_moves_with_every_change_the_board_shows_and_not_with_results() {
    let db = test_store().await.unwrap();
    let s = &db.store;
    let a = Actor::system("test");
    let empty = s.board_fingerprint().await.unwrap();
    assert_eq!(empty.last_event, 0);
    assert_eq!(empty.checks, 0);
    assert_eq!(empty.last_sheet, 0);

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
    let site = s
        .create_site(
            &a,
            &SiteInput {
                code: "KARATSU".into(),
                name: "唐津土木事務所".into(),
                kind: "doboku".into(),
                uplink_node_id: Some(node.id),
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
    let registry = s.board_fingerprint().await.unwrap();
    assert_ne!(registry, empty, "a node, a site and a terminal");
    assert_eq!(registry.nodes, 1);

    // A check created.
    let check = s
        .create_check(
            &a,
            &CheckInput {
                name: "唐津土木 ping".into(),
                target_kind: "terminal".into(),
                target_id: term.id,
                kind: "icmp".into(),
                address: "127.0.0.2".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let created = s.board_fingerprint().await.unwrap();
    assert_ne!(created, registry);
    assert_eq!(created.checks, 1);

    // Results alone (the engine's steady flow) leave it as it was; so does reading it again.
    let now = Utc::now().timestamp();
    s.append_check_results(
        &a,
        &(0..5)
            .map(|i| NewResult {
                check_id: check.id,
                ts: now - 60 + i * 10,
                code: 0,
                latency_ms: Some(3),
            })
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(s.board_fingerprint().await.unwrap(), created);

    // A state change.
    s.record_check_event(
        &a,
        &NewEvent {
            check_id: check.id,
            ts: now,
            from: State::Unknown,
            to: State::Up,
            cause: "試験".into(),
            impacted_by: None,
            maintenance: false,
            results: json!([]),
            message: String::new(),
        },
    )
    .await
    .unwrap();
    let event = s.board_fingerprint().await.unwrap();
    assert!(event.last_event > created.last_event);

    // A maintenance window created, changed, retired: each moves it.
    let mut window = MaintenanceWindow {
        id: 0,
        title: "回線工事".into(),
        site_id: Some(site.id),
        node_id: None,
        check_id: None,
        when: Recurrence::Weekly {
            weekday: 2,
            start_min: 22 * 60,
            duration_min: 120,
        },
    };
    let wid = s.create_maintenance_window(&a, &window).await.unwrap();
    let w1 = s.board_fingerprint().await.unwrap();
    assert_ne!(w1, event);
    assert_eq!(w1.windows, 1);
    window.when = Recurrence::Once {
        start: Utc::now() + Duration::hours(1),
        end: Utc::now() + Duration::hours(2),
    };
    s.update_maintenance_window(&a, wid, &window).await.unwrap();
    let w2 = s.board_fingerprint().await.unwrap();
    assert_ne!(w2, w1, "a window changed");
    s.retire_maintenance_window(&a, wid, "工事中止")
        .await
        .unwrap();
    let w3 = s.board_fingerprint().await.unwrap();
    assert_ne!(w3, w2, "a window retired");
    assert_eq!(w3.windows_retired, 1);

    // A node renamed, a terminal renamed.
    s.update_node(
        &a,
        node.id,
        &NodeInput {
            name: "集約ルータ（更新）".into(),
            kind: "router".into(),
            ip_address: "127.0.0.1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let n1 = s.board_fingerprint().await.unwrap();
    assert_ne!(n1, w3, "a node changed");
    s.update_terminal(
        &a,
        term.id,
        &TerminalInput {
            site_id: Some(site.id),
            hostname: "KARATSU-DOBOKU-02".into(),
            kind: "business".into(),
            ip_address: "127.0.0.2".into(),
            os_name: "Windows 11".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t1 = s.board_fingerprint().await.unwrap();
    assert!(
        t1.registry_version > n1.registry_version,
        "a terminal changed"
    );

    // A check changed or retired by any writer (another instance, or the store's own edit and retire).
    execute_elsewhere(
        &db.url,
        &format!(
            "UPDATE connectivity_checks SET name = 'x', updated_at = '2099-01-01T00:00:00.000000Z' \
             WHERE id = {}",
            check.id
        ),
    )
    .await;
    let c1 = s.board_fingerprint().await.unwrap();
    assert_ne!(c1, t1, "a check changed");
    execute_elsewhere(
        &db.url,
        &format!(
            "UPDATE connectivity_checks SET retired_at = '2099-01-01T00:00:00.000000Z' WHERE id = {}",
            check.id
        ),
    )
    .await;
    let c2 = s.board_fingerprint().await.unwrap();
    assert_ne!(c2, c1, "a check retired");
    assert_eq!(c2.checks_retired, 1);
    assert_eq!(
        s.board_fingerprint().await.unwrap(),
        c2,
        "stable when nothing changes"
    );
}
