//! Connectivity checks (疎通確認) through the HTTP front: the API's checks and events, permissions and the
//! registered-address rule; the pages where they exist.

mod common;

use common::TestApp;
use serde_json::json;
use unyo_domain::connectivity::State;
use unyo_domain::registry::NodeInput;
use unyo_store::Actor;
use unyo_store::connectivity::NewEvent;

async fn token(app: &TestApp, username: &str) -> String {
    let user = app
        .store()
        .user_by_name(username)
        .await
        .expect("query")
        .expect("user exists");
    app.store()
        .create_api_token(&user.actor("test"), user.id, "test token")
        .await
        .expect("token")
}

#[tokio::test]
async fn api_checks_and_events() {
    let app = TestApp::new().await;
    let c = app.anonymous();
    let se = token(&app, "se").await;
    let staff = token(&app, "staff").await;
    let node = app
        .store()
        .create_node(
            &Actor::system("test"),
            &NodeInput {
                name: "集約ルータ".into(),
                kind: "router".into(),
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let input = json!({"name": "集約ルータ TCP", "target_kind": "node", "target_id": node.id,
                       "kind": "tcp", "address": "127.0.0.1", "port": 443});

    let r = c
        .api("POST", "/api/v1/checks", &staff, Some(input.clone()))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let mut wrong = input.clone();
    wrong["address"] = json!("127.0.0.5");
    let r = c.api("POST", "/api/v1/checks", &se, Some(wrong)).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("一致しません"), "{}", r.text());
    let r = c.api("POST", "/api/v1/checks", &se, Some(input)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    assert!(r.location().ends_with(&format!("/api/v1/checks/{id}")));

    let r = c.api("GET", "/api/v1/checks", &staff, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["state"], "unknown");

    app.store()
        .record_check_event(
            &Actor::system("test"),
            &NewEvent {
                check_id: id,
                ts: 1_780_000_000,
                from: State::Unknown,
                to: State::Down,
                cause: "1回連続で応答がありません（接続拒否）".into(),
                impacted_by: None,
                maintenance: false,
                results: json!([]),
                message: "接続拒否".into(),
            },
        )
        .await
        .unwrap();
    let r = c
        .api("GET", &format!("/api/v1/checks/{id}"), &staff, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["check"]["state"], "down");
    assert_eq!(v["events"][0]["to_state"], "down");
    let r = c.api("GET", "/api/v1/events?limit=5", &staff, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let r = c.api("GET", "/api/v1/checks/999999", &staff, None).await;
    assert_eq!(r.status, 404);
}

/// The board, the on-demand run over a site (against a real loopback listener), the kept sheet as HTML and
/// XLSX, the history page with its SVG chart; staff may look but not run.
#[tokio::test]
async fn pages_board_run_sheet_and_history() {
    let app = TestApp::new().await;
    let a = Actor::system("test");
    let site = app
        .store()
        .create_site(
            &a,
            &unyo_domain::registry::SiteInput {
                code: "SAGA".into(),
                name: "佐賀県税事務所".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let term = app
        .store()
        .create_terminal(
            &a,
            &unyo_domain::registry::TerminalInput {
                site_id: Some(site.id),
                hostname: "SAGA-TAX-01".into(),
                kind: "business".into(),
                ip_address: "127.0.0.1".into(),
                os_name: "Windows 11".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { while listener.accept().await.is_ok() {} });
    let check = app
        .store()
        .create_check(
            &a,
            &unyo_domain::connectivity::CheckInput {
                name: "業務端末 TCP".into(),
                target_kind: "terminal".into(),
                target_id: term.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(port),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let staff = app.login("staff").await;
    let r = staff.get("/connectivity").await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("業務端末 TCP") && body.contains("不明"),
        "{body}"
    );
    assert!(!body.contains("/connectivity/run\""), "staff cannot run");
    assert_eq!(staff.get("/connectivity/run").await.status, 403);

    let se = app.login("se").await;
    let r = se.get("/connectivity/run").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("佐賀県税事務所"));
    let sid = site.id.to_string();
    let r = se
        .post_form(
            "/connectivity/run",
            &[("site_ids", &sid), ("note", "月次確認")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let href = r.location();
    let r = se.get(&href).await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("疎通確認結果表") && body.contains("正常") && body.contains("se"),
        "{body}"
    );
    let r = se.get(&format!("{href}/xlsx")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"PK"), "an XLSX is a zip");

    // Nothing chosen: refused with the reason.
    let r = se.post_form("/connectivity/run", &[("note", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("登録されていません"));

    app.store()
        .append_check_results(
            &a,
            &[unyo_store::connectivity::NewResult {
                check_id: check.id,
                ts: chrono::Utc::now().timestamp() - 60,
                code: 0,
                latency_ms: Some(3),
            }],
        )
        .await
        .unwrap();
    let r = staff
        .get(&format!("/connectivity/checks/{}", check.id))
        .await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("<svg") && body.contains("<polyline"),
        "{body}"
    );
    assert!(!body.contains("style="), "CSP: no style attributes");
}

/// A kept sheet as PDF: linked next to the XLSX on the sheet page, served as a real PDF, audited as
/// `export.check_sheet`; refused without a session, with nothing audited. The XLSX route is unchanged.
#[tokio::test]
async fn the_sheet_pdf_downloads_and_is_audited() {
    let app = TestApp::new().await;
    let se = app
        .store()
        .user_by_name("se")
        .await
        .expect("query")
        .expect("se")
        .actor("test");
    let lines = vec![
        unyo_store::connectivity::SheetLine {
            check_id: 1,
            site: "佐賀県税事務所".into(),
            target: "SAGA-TAX-01".into(),
            check: "業務端末 TCP".into(),
            probe: "TCP 127.0.0.1:443".into(),
            status: "up".into(),
            result: "正常".into(),
            latency_ms: Some(17),
            message: String::new(),
            at: "2026-05-12 09:30:05".into(),
        },
        unyo_store::connectivity::SheetLine {
            check_id: 2,
            site: "佐賀県税事務所".into(),
            target: "SAGA-TAX-02".into(),
            check: "業務端末 TCP".into(),
            probe: "TCP 127.0.0.2:443".into(),
            status: "down".into(),
            result: "停止".into(),
            latency_ms: None,
            message: "接続拒否".into(),
            at: "2026-05-12 09:30:06".into(),
        },
    ];
    let xlsx = unyo_probe::sheet::sheet_xlsx(&lines, "2026-05-12 09:30:07", "se", None).unwrap();
    let id = app
        .store()
        .create_check_sheet(&se, &lines, None, "", &xlsx)
        .await
        .expect("sheet");
    let exports = || async {
        app.store()
            .audit_log(&unyo_store::audit::AuditQuery {
                action: Some("export.check_sheet".into()),
                ..Default::default()
            })
            .await
            .expect("audit")
    };

    // Every role may read the sheets, so only a missing session is refused: to the login page.
    let r = app
        .anonymous()
        .get(&format!("/connectivity/sheets/{id}/pdf"))
        .await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"), "{}", r.location());
    assert_eq!(exports().await.total, 0, "a refused export writes nothing");

    let staff = app.login("staff").await;
    let page = staff
        .get(&format!("/connectivity/sheets/{id}"))
        .await
        .text();
    assert!(page.contains(&format!("href=\"/connectivity/sheets/{id}/pdf\"")));
    assert!(page.contains(&format!("href=\"/connectivity/sheets/{id}/xlsx\"")));
    assert!(page.contains("PDFで保存"));
    let r = staff.get(&format!("/connectivity/sheets/{id}/pdf")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-type"].to_str().expect("ct"),
        "application/pdf"
    );
    assert!(r.body.starts_with(b"%PDF-"));
    let cd = r.headers["content-disposition"].to_str().expect("cd");
    assert!(
        cd.contains(&format!("filename=\"connectivity_sheet_{id}.pdf\"")),
        "{cd}"
    );
    let log = exports().await;
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "staff");
    assert_eq!(log.items[0].entity_id, id.to_string());
    let details: serde_json::Value = serde_json::from_str(&log.items[0].details).expect("json");
    assert_eq!(details["format"], "pdf");
    assert_eq!(details["lines"], 2);

    // The kept XLSX is still served byte for byte.
    let r = staff.get(&format!("/connectivity/sheets/{id}/xlsx")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, xlsx);
    assert_eq!(
        staff.get("/connectivity/sheets/999999/pdf").await.status,
        404
    );
    assert_eq!(exports().await.total, 1);
}
