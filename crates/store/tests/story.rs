//! The storage story: one walk through accounts, registry, imports, history and the audit chain, run
//! against SQLite by default and PostgreSQL when `TEST_DATABASE_URL` names one.

use sqlx::Connection;
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_domain::{DomainError, Role};
use unyo_store::audit::{AuditQuery, ChainReport};
use unyo_store::registry::{ImportRow, ListQuery, Status, TerminalImport};
use unyo_store::testing::test_store;
use unyo_store::users::LoginOutcome;
use unyo_store::{Actor, StoreError};

fn site(code: &str, name: &str) -> SiteInput {
    SiteInput {
        code: code.into(),
        name: name.into(),
        kind: "honcho".into(),
        ..Default::default()
    }
}

fn terminal(site_id: i64, host: &str) -> TerminalInput {
    TerminalInput {
        site_id: Some(site_id),
        hostname: host.into(),
        kind: "business".into(),
        ip_address: "10.0.0.1".into(),
        os_name: "Windows 11".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn registry_story() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");

    let admin = s
        .create_user(&sys, "admin", "管理者", Role::Admin, "correct-horse-1")
        .await
        .expect("user");
    let auditor = s
        .create_user(&sys, "audit", "監査人", Role::Auditor, "correct-horse-2")
        .await
        .expect("user");
    let a = admin.actor("127.0.0.1");

    // Network: prefecture server <- core router <- site.
    let server = s
        .create_node(
            &a,
            &NodeInput {
                name: "県サーバ".into(),
                kind: "server".into(),
                ..Default::default()
            },
        )
        .await
        .expect("node");
    let router = s
        .create_node(
            &a,
            &NodeInput {
                name: "R-core".into(),
                kind: "router".into(),
                upstream_id: Some(server.id),
                ..Default::default()
            },
        )
        .await
        .expect("node");
    let mut si = site("KENCHO", "県庁");
    si.uplink_node_id = Some(router.id);
    let kencho = s.create_site(&a, &si).await.expect("site");
    assert_eq!(kencho.uplink_node_name.as_deref(), Some("R-core"));
    let path = s.node_path(router.id).await.expect("path");
    assert_eq!(
        path.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["R-core", "県サーバ"]
    );

    // A cycle is refused.
    let err = s
        .update_node(
            &a,
            server.id,
            &NodeInput {
                name: "県サーバ".into(),
                kind: "server".into(),
                upstream_id: Some(router.id),
                ..Default::default()
            },
        )
        .await
        .expect_err("cycle");
    assert!(
        matches!(err, StoreError::Domain(DomainError::Validation(_))),
        "{err:?}"
    );

    // Terminals: create, duplicate refused, edit recorded as a diff.
    let t1 = s
        .create_terminal(&a, &terminal(kencho.id, "kencho-01"))
        .await
        .expect("terminal");
    let dup = s
        .create_terminal(&a, &terminal(kencho.id, "KENCHO-01"))
        .await
        .expect_err("dup");
    assert!(
        matches!(dup, StoreError::Domain(DomainError::Conflict(ref m)) if m.contains("既に登録")),
        "{dup:?}"
    );
    let mut edit = terminal(kencho.id, "kencho-01");
    edit.os_version = "23H2".into();
    s.update_terminal(&a, t1.id, &edit).await.expect("update");
    let history = s.history("terminal", t1.id).await.expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].action, "terminal.update");
    assert!(
        history[0].details.contains("23H2"),
        "{}",
        history[0].details
    );

    // The auditor cannot write.
    let denied = s
        .create_terminal(&auditor.actor("x"), &terminal(kencho.id, "x1"))
        .await
        .expect_err("forbidden");
    assert!(matches!(denied, StoreError::Domain(DomainError::Forbidden)));

    // Import: one bad row refuses the whole file.
    let rows = vec![
        ImportRow {
            line: 2,
            data: TerminalImport {
                site_code: "KENCHO".into(),
                input: terminal(0, "kencho-02"),
            },
        },
        ImportRow {
            line: 3,
            data: TerminalImport {
                site_code: "NOPE".into(),
                input: terminal(0, "kencho-03"),
            },
        },
    ];
    let errs = s
        .import_terminals(&a, &rows)
        .await
        .expect("import")
        .expect_err("bad row");
    assert_eq!(errs[0].line, 3);
    assert_eq!(errs[0].column, "site_code");
    let page = s.terminals(&ListQuery::default()).await.expect("list");
    assert_eq!(page.total, 1, "nothing written");
    let rows = vec![
        rows[0].clone(),
        ImportRow {
            line: 3,
            data: TerminalImport {
                site_code: "KENCHO".into(),
                input: edit.clone(),
            },
        },
    ];
    let summary = s
        .import_terminals(&a, &rows)
        .await
        .expect("import")
        .expect("ok");
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (1, 0, 1)
    );

    // Search, filter, sort, page.
    for i in 0..30 {
        s.create_terminal(&a, &terminal(kencho.id, &format!("bulk-{i:02}")))
            .await
            .expect("t");
    }
    let q = ListQuery {
        q: Some("BULK".into()),
        sort: Some("hostname".into()),
        dir: Some("desc".into()),
        per_page: Some(10),
        page: Some(2),
        ..Default::default()
    };
    let page = s.terminals(&q).await.expect("list");
    assert_eq!(page.total, 30);
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.items[0].hostname, "bulk-19");
    // LIKE wildcards in the search are literal.
    let page = s
        .terminals(&ListQuery {
            q: Some("%".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(page.total, 0);

    // Retire keeps the record.
    assert!(
        s.retire_terminal(&a, t1.id, "").await.is_err(),
        "reason required"
    );
    s.retire_terminal(&a, t1.id, "更新により撤去")
        .await
        .expect("retire");
    let active = s
        .terminals(&ListQuery {
            q: Some("kencho-01".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(active.total, 0);
    let retired = s
        .terminals(&ListQuery {
            q: Some("kencho-01".into()),
            status: Some(Status::Retired),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(retired.total, 1);

    // Audit log filters.
    let log = s
        .audit_log(&AuditQuery {
            action: Some("terminal.retire".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 1);
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn login_lockout_and_tokens() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let u = s
        .create_user(&sys, "se1", "SE 一郎", Role::Se, "long-password-1")
        .await
        .expect("user");
    assert!(
        s.create_user(&sys, "se2", "x", Role::Se, "short")
            .await
            .is_err(),
        "password policy"
    );

    assert!(matches!(
        s.check_password("se1", "long-password-1", "t")
            .await
            .expect("login"),
        LoginOutcome::Success(_)
    ));
    assert!(matches!(
        s.check_password("nobody", "x", "t").await.expect("login"),
        LoginOutcome::Failed
    ));
    for _ in 0..4 {
        assert!(matches!(
            s.check_password("se1", "wrong", "t").await.expect("login"),
            LoginOutcome::Failed
        ));
    }
    assert!(matches!(
        s.check_password("se1", "wrong", "t").await.expect("login"),
        LoginOutcome::Locked(_)
    ));
    // Even the right password is refused while locked.
    assert!(matches!(
        s.check_password("se1", "long-password-1", "t")
            .await
            .expect("login"),
        LoginOutcome::Locked(_)
    ));
    let log = s
        .audit_log(&AuditQuery {
            action: Some("login.lockout".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 1);
    s.unlock_user(&sys, u.id).await.expect("unlock");
    assert!(matches!(
        s.check_password("se1", "long-password-1", "t")
            .await
            .expect("login"),
        LoginOutcome::Success(_)
    ));

    let token = s
        .create_api_token(&u.actor("t"), u.id, "cli")
        .await
        .expect("token");
    assert_eq!(
        s.user_for_token(&token)
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(u.id)
    );
    assert!(
        s.user_for_token("unyo_wrong")
            .await
            .expect("lookup")
            .is_none()
    );

    let sess = s.create_session(u.id, false).await.expect("session");
    assert!(
        s.session(&sess.token, chrono::Utc::now())
            .await
            .expect("s")
            .is_some()
    );
    // Idle timeout.
    let later = chrono::Utc::now() + chrono::Duration::minutes(31);
    assert!(s.session(&sess.token, later).await.expect("s").is_none());

    // Disabling ends tokens and sessions.
    let sess = s.create_session(u.id, false).await.expect("session");
    s.disable_user(&sys, u.id).await.expect("disable");
    assert!(s.user_for_token(&token).await.expect("lookup").is_none());
    assert!(
        s.session(&sess.token, chrono::Utc::now())
            .await
            .expect("s")
            .is_none()
    );
    assert!(matches!(
        s.check_password("se1", "long-password-1", "t")
            .await
            .expect("login"),
        LoginOutcome::Disabled
    ));
}

#[tokio::test]
async fn audit_chain_refuses_changes_and_detects_tampering() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    for i in 0..5 {
        s.create_site(&sys, &site(&format!("S{i}"), "拠点"))
            .await
            .expect("site");
    }
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { entries: 5, .. }
    ));

    // The database itself refuses UPDATE and DELETE.
    let is_pg = db.url.starts_with("postgres");
    macro_rules! tamper {
        ($conn:expr) => {{
            let mut c = $conn;
            let upd = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
                .execute(&mut c)
                .await;
            assert!(upd.is_err(), "update must be refused");
            let del = sqlx::query("DELETE FROM audit_log WHERE id = 5")
                .execute(&mut c)
                .await;
            assert!(del.is_err(), "delete must be refused");
            // An attacker with direct database access drops the guard and edits a row.
            if is_pg {
                sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
                    .execute(&mut c)
                    .await
                    .expect("disable");
            } else {
                sqlx::query("DROP TRIGGER audit_log_no_update")
                    .execute(&mut c)
                    .await
                    .expect("drop");
            }
            sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
                .execute(&mut c)
                .await
                .expect("tamper");
        }};
    }
    if is_pg {
        tamper!(sqlx::PgConnection::connect(&db.url).await.expect("conn"));
    } else {
        tamper!(
            sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("conn")
        );
    }
    match s.verify_audit_chain().await.expect("verify") {
        ChainReport::Broken { id, .. } => assert_eq!(id, 3),
        other => panic!("tampering not detected: {other:?}"),
    }
}

/// The terminal list is answered from an in-memory index: it must follow every write, including
/// writes made through another instance on the same database and a site's rename.
#[tokio::test]
async fn terminal_list_follows_writes_from_any_instance() {
    let db = test_store().await.expect("store");
    let a = &db.store;
    let b = unyo_store::Store::open(&db.url)
        .await
        .expect("second instance");
    let sys = Actor::system("test");
    let saga = a
        .create_site(&sys, &site("S01", "佐賀土木事務所"))
        .await
        .expect("site");
    let search = |q: &str| ListQuery {
        q: Some(q.into()),
        ..Default::default()
    };
    assert_eq!(
        b.terminals(&search("doboku-")).await.expect("list").total,
        0
    );

    // A write through instance A shows in B's next list.
    let t = a
        .create_terminal(&sys, &terminal(saga.id, "DOBOKU-01"))
        .await
        .expect("terminal");
    let page = b.terminals(&search("ｄｏｂｏｋｕ－")).await.expect("list");
    assert_eq!(page.total, 1, "full-width search matches");
    assert_eq!(page.items[0].hostname, "DOBOKU-01");

    // The site's name and code are searchable, and a rename is followed.
    assert_eq!(
        b.terminals(&search("土木事務所"))
            .await
            .expect("list")
            .total,
        1
    );
    let mut renamed = site("S01", "佐賀土木事務所（新庁舎）");
    renamed.kind = "honcho".into();
    a.update_site(&sys, saga.id, &renamed)
        .await
        .expect("rename");
    assert_eq!(b.terminals(&search("新庁舎")).await.expect("list").total, 1);
    assert_eq!(b.terminals(&search("s01")).await.expect("list").total, 1);

    // A change made directly in the database (no store code at all) is followed too: the version
    // counter is kept by triggers.
    match db.url.starts_with("postgres") {
        true => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("pg");
            sqlx::query("UPDATE terminals SET hostname = 'moved-01', hostname_key = 'moved-01' WHERE id = $1")
                .bind(t.id)
                .execute(&mut c)
                .await
                .expect("update");
        }
        false => {
            let mut c = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("sqlite");
            sqlx::query("UPDATE terminals SET hostname = 'moved-01', hostname_key = 'moved-01' WHERE id = $1")
                .bind(t.id)
                .execute(&mut c)
                .await
                .expect("update");
        }
    }
    assert_eq!(b.terminals(&search("doboku")).await.expect("list").total, 0);
    assert_eq!(
        a.terminals(&search("moved-01")).await.expect("list").total,
        1
    );
}

/// A long chain is verified in id ranges at once; a change is still found, the earliest one first, also
/// on a range boundary.
#[tokio::test]
async fn long_chain_is_verified_in_ranges() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let n = 60_000;
    s.seed_synthetic_audit(n).await.expect("seed");
    match s.verify_audit_chain().await.expect("verify") {
        ChainReport::Intact { entries, .. } => assert_eq!(entries, n as i64),
        other => panic!("{other:?}"),
    }
    // Entry 45,000 lies in the second range, 30,001 opens it, 29,999 is in the first.
    let tamper = |id: i64| {
        let url = db.url.clone();
        async move {
            let sql = format!("UPDATE audit_log SET actor = 'mallory' WHERE id = {id}");
            if url.starts_with("postgres") {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("conn");
                sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
                    .execute(&mut c)
                    .await
                    .expect("disable");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .expect("tamper");
            } else {
                let mut c = sqlx::SqliteConnection::connect(&url).await.expect("conn");
                sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_update")
                    .execute(&mut c)
                    .await
                    .expect("drop");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .expect("tamper");
            }
        }
    };
    for (id, first) in [(45_000, 45_000), (30_001, 30_001), (29_999, 29_999)] {
        tamper(id).await;
        match s.verify_audit_chain().await.expect("verify") {
            ChainReport::Broken { id, .. } => assert_eq!(id, first),
            other => panic!("tampering with {id} not detected: {other:?}"),
        }
    }
}

/// An export is recorded by the store, which decides its action name and checks the actor's permission:
/// the entry names the actor and the source, a role without the permission is refused and nothing is
/// written, and a free-form `export.*` entry through `Store::audit` is refused.
#[tokio::test]
async fn exports_are_recorded_by_the_store_with_the_actor() {
    use unyo_store::audit::{ExportKind, NewAuditEntry};
    let db = test_store().await.unwrap();
    let s = &db.store;
    let actor = |role: Role, name: &str| Actor {
        user_id: Some(7),
        username: name.into(),
        role,
        source: "192.0.2.10".into(),
    };
    let exports = |s: &unyo_store::Store| {
        let q = AuditQuery {
            action: Some("export.".into()),
            ..Default::default()
        };
        let s = s.clone();
        async move { s.audit_log(&q).await.unwrap().items }
    };

    let auditor = actor(Role::Auditor, "kansa");
    s.record_export(
        &auditor,
        ExportKind::Audit,
        "",
        "",
        serde_json::json!({"format": "csv", "rows": 3}),
    )
    .await
    .unwrap();
    let got = exports(s).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].action, "export.audit");
    assert_eq!(got[0].actor, "kansa");
    assert_eq!(got[0].source, "192.0.2.10");

    // Staff may not export the audit log: refused, nothing written.
    let staff = actor(Role::Staff, "shokuin");
    match s
        .record_export(&staff, ExportKind::Audit, "", "", serde_json::json!({}))
        .await
    {
        Err(StoreError::Domain(DomainError::Forbidden)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(exports(s).await.len(), 1);

    // Every kind asks role.rs (the auditor reads everything, so may take every file).
    for kind in ExportKind::ALL {
        assert_eq!(
            s.record_export(&auditor, kind, "", "", serde_json::json!({}))
                .await
                .is_ok(),
            Role::Auditor.allows(kind.permission()),
            "{kind:?}"
        );
    }

    // No export entry without the store's check.
    assert!(
        s.audit(NewAuditEntry::new(&staff, "export.audit", "", ""))
            .await
            .is_err()
    );
    assert!(
        !exports(s).await.iter().any(|e| e.actor == "shokuin"),
        "the refused entry is not written"
    );
}

/// A session ends 12 hours after it began however active it stays (the absolute limit beside the
/// 30-minute idle timeout): looked up every 20 minutes, it lives up to the limit and not past it.
#[tokio::test]
async fn a_session_ends_at_its_absolute_limit_however_active() {
    use chrono::{Duration, Utc};
    use unyo_store::sessions::ABSOLUTE_TIMEOUT_HOURS;
    assert_eq!(ABSOLUTE_TIMEOUT_HOURS, 12);
    let db = test_store().await.unwrap();
    let s = &db.store;
    let sys = Actor::system("test");
    let u = s
        .create_user(&sys, "se1", "SE 一郎", Role::Se, "long-password-1")
        .await
        .unwrap();
    let sess = s.create_session(u.id, false).await.unwrap();
    let start = Utc::now();
    let mut t = start;
    // Active all day: every lookup keeps the idle timeout away.
    while t < start + Duration::hours(12) - Duration::minutes(5) {
        assert!(
            s.session(&sess.token, t).await.unwrap().is_some(),
            "alive after {} minutes",
            (t - start).num_minutes()
        );
        t += Duration::minutes(20);
    }
    assert!(
        s.session(
            &sess.token,
            start + Duration::hours(12) + Duration::minutes(1)
        )
        .await
        .unwrap()
        .is_none(),
        "over after 12 hours"
    );
    // And it stays over (the row is gone), even looked up at an earlier time again.
    assert!(s.session(&sess.token, t).await.unwrap().is_none());
}
