//! The audit log screen and its exports through the real router.

mod common;

use common::TestApp;
use unyo_store::audit::{AuditQuery, NewAuditEntry};
use unyo_store::users::LoginOutcome;

/// The details of every `export.audit` entry, oldest first.
async fn export_entries(app: &TestApp) -> Vec<serde_json::Value> {
    app.store()
        .audit_export(&AuditQuery {
            action: Some("export.audit".into()),
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| serde_json::from_str(&e.details).expect("json details"))
        .collect()
}

/// Whether the page lists an entry with this action (not just mentions it in help text).
fn row(html: &str, action: &str) -> bool {
    html.contains(&format!("<span class=\"mono muted\">{action}</span>"))
}

#[tokio::test]
async fn auditor_sees_entries_and_an_intact_chain() {
    let app = TestApp::new().await;
    let c = app.login("auditor").await;
    let r = c.get("/audit").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("改ざん検知"), "{html}");
    assert!(html.contains("正常"), "chain status shown");
    assert!(html.contains("✔"), "status has an icon, not colour alone");
    // The four accounts the test app created, newest first, described in Japanese.
    assert!(html.contains("user.create") && html.contains("利用者の登録"));
    assert!(html.contains("利用者 admin"), "target names the account");
    let pos = |name: &str| html.find(&format!("利用者 {name}（")).expect(name);
    assert!(
        pos("auditor") < pos("se") && pos("se") < pos("admin"),
        "newest first"
    );
    assert!(html.contains("/audit/export.csv") && html.contains("/audit/export.xlsx"));
    assert!(!html.contains("style="), "no inline styles (CSP)");
    // Admin may read it too.
    assert_eq!(app.login("admin").await.get("/audit").await.status, 200);
}

#[tokio::test]
async fn staff_and_se_are_refused() {
    let app = TestApp::new().await;
    for name in ["staff", "se"] {
        let c = app.login(name).await;
        assert_eq!(c.get("/audit").await.status, 403, "{name}");
        assert_eq!(c.get("/audit/export.csv").await.status, 403, "{name}");
        assert_eq!(c.get("/audit/export.xlsx").await.status, 403, "{name}");
        let home = c.get("/").await.text();
        assert!(
            !home.contains("href=\"/audit\""),
            "{name} has no audit link"
        );
    }
    assert!(
        export_entries(&app).await.is_empty(),
        "refused exports write nothing"
    );
    // Not logged in: to the login page.
    let r = app.anonymous().get("/audit/export.csv").await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn filter_by_action_dates_and_text() {
    let app = TestApp::new().await;
    // A failed login and a lockout-free second failure.
    for _ in 0..2 {
        let out = app
            .store()
            .check_password("se", "wrong-password", "192.0.2.7")
            .await
            .expect("check");
        assert!(matches!(out, LoginOutcome::Failed));
    }
    let c = app.login("auditor").await;

    let r = c.get("/audit?action=login").await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(row(&html, "login.failure") && html.contains("ログイン失敗"));
    assert!(html.contains("192.0.2.7"), "source shown");
    assert!(html.contains("bad_password"), "details shown");
    assert!(!row(&html, "user.create"), "other actions filtered out");
    assert!(
        html.contains("<option value=\"login\" selected>"),
        "the select keeps the choice"
    );

    // The free text wins over the select.
    let html = c
        .get("/audit?action=login&action_text=user.cr")
        .await
        .text();
    assert!(row(&html, "user.create") && !row(&html, "login.failure"));

    // Actor and details text.
    let html = c.get("/audit?actor=system").await.text();
    assert!(row(&html, "user.create") && !row(&html, "login.failure"));
    let html = c.get("/audit?q=bad_pass").await.text();
    assert!(row(&html, "login.failure") && !row(&html, "user.create"));

    // A date range in the past has nothing; a malformed date is reported and ignored.
    let html = c.get("/audit?from=2000-01-01&to=2000-01-02").await.text();
    assert!(html.contains("該当するデータはありません"));
    let today = chrono::Utc::now()
        .with_timezone(&unyo_domain::time::jst())
        .format("%Y-%m-%d")
        .to_string();
    let html = c
        .get(&format!("/audit?from={today}&to={today}"))
        .await
        .text();
    assert!(row(&html, "user.create"));
    let r = c.get("/audit?from=2026-13-45").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("YYYY-MM-DD") && r.text().contains("user.create"));
    // A silly page number is not an error.
    assert_eq!(c.get("/audit?page=abc").await.status, 200);
}

#[tokio::test]
async fn paging_keeps_the_filter() {
    let app = TestApp::new().await;
    let sys = unyo_store::Actor::system("test");
    for i in 0..55 {
        app.store()
            .audit(NewAuditEntry::new(&sys, "site.update", "site", i + 1))
            .await
            .expect("audit");
    }
    let c = app.login("auditor").await;
    let html = c.get("/audit?action=site").await.text();
    assert!(html.contains("全 55 件"), "{html}");
    // Askama writes `&` as `&#38;` in attributes.
    assert!(
        html.contains("href=\"/audit?action=site&#38;page=2\""),
        "next link keeps the filter"
    );
    assert!(html.contains("拠点の変更"));
    assert!(
        html.contains("href=\"/sites/55\""),
        "target links to the record"
    );
    let page2 = c.get("/audit?action=site&page=2").await.text();
    assert!(page2.contains("href=\"/sites/1\"") && !page2.contains("href=\"/sites/55\""));
    assert!(page2.contains("前へ"));
}

#[tokio::test]
async fn csv_export_has_bom_header_and_is_audited() {
    let app = TestApp::new().await;
    let c = app.login("auditor").await;
    let r = c.get("/audit/export.csv?action=user").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let text = String::from_utf8_lossy(&r.body[3..]).into_owned();
    let header = text.lines().next().unwrap_or_default();
    assert!(header.starts_with("番号,日時,利用者,操作,対象"), "{header}");
    assert_eq!(
        text.lines().count(),
        1 + 4,
        "header and the four user.create rows"
    );
    let ct = r.headers["content-type"].to_str().expect("ascii");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let cd = r.headers["content-disposition"].to_str().expect("ascii");
    assert!(cd.starts_with("attachment; filename=\"audit-log_"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E7%9B%A3%E6%9F%BB%E3%83%AD%E3%82%B0_"),
        "{cd}"
    );
    assert!(cd.ends_with(".csv"), "{cd}");

    let exports = export_entries(&app).await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["format"], "csv");
    assert_eq!(exports[0]["rows"], 4);
    assert_eq!(exports[0]["filter"]["action"], "user");
    let entry = &app
        .store()
        .audit_export(&AuditQuery {
            action: Some("export.audit".into()),
            ..Default::default()
        })
        .await
        .expect("q")[0];
    assert_eq!(entry.actor, "auditor");

    // The export shows up on the screen, described, and the chain still holds.
    let html = c.get("/audit?action=export").await.text();
    assert!(html.contains("監査ログの出力") && html.contains("正常"));
}

#[tokio::test]
async fn xlsx_export_is_a_workbook_and_audited() {
    let app = TestApp::new().await;
    let c = app.login("admin").await;
    let r = c.get("/audit/export.xlsx").await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"PK"), "a zip container");
    let cd = r.headers["content-disposition"].to_str().expect("ascii");
    assert!(
        cd.contains(".xlsx") && cd.contains("filename*=UTF-8''"),
        "{cd}"
    );
    let exports = export_entries(&app).await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["format"], "xlsx");
    assert_eq!(exports[0]["rows"], 4);
}
