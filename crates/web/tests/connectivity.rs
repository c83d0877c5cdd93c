//! Connectivity checks (疎通確認) through the HTTP front: the API's checks and events, permissions and the
//! registered-address rule; the pages where they exist.

mod common;

use common::TestApp;
use serde_json::json;
use unyo_domain::connectivity::{ChannelConfig, State};
use unyo_domain::registry::NodeInput;
use unyo_store::Actor;
use unyo_store::connectivity::NewEvent;

/// Polls a run's progress page (as its self-refresh would) until the run ends; returns the sheet's link.
async fn finished_sheet(c: &common::Client, progress: &str) -> String {
    assert!(progress.starts_with("/connectivity/runs/"), "{progress}");
    for _ in 0..200 {
        let r = c.get(progress).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let body = r.text();
        if let Some(i) = body.find("href=\"/connectivity/sheets/") {
            assert!(
                !body.contains("http-equiv=\"refresh\""),
                "a finished run stops refreshing"
            );
            let rest = &body[i + 6..];
            return rest[..rest.find('"').expect("closing quote")].to_string();
        }
        assert!(
            body.contains("http-equiv=\"refresh\" content=\"1\""),
            "{body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the run did not finish");
}

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
    let href = finished_sheet(&se, &r.location()).await;
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
/// `export.check_sheet`; refused without a session, with nothing audited. The kept XLSX is served byte for
/// byte and audited the same way (format `xlsx`).
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
    let at = chrono::NaiveDate::from_ymd_opt(2026, 5, 12)
        .and_then(|d| d.and_hms_opt(9, 30, 7))
        .expect("time");
    let xlsx = unyo_documents::check_sheet_xlsx(&unyo_documents::CheckRun {
        number: None,
        at,
        operator: "保守 一郎",
        work_entry_id: None,
        note: "",
        lines: &lines,
    })
    .unwrap();
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

    // The kept XLSX is still served byte for byte, and audited like the PDF.
    let r = app
        .anonymous()
        .get(&format!("/connectivity/sheets/{id}/xlsx"))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(exports().await.total, 1, "a refused export writes nothing");
    let r = staff.get(&format!("/connectivity/sheets/{id}/xlsx")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, xlsx);
    let cd = r.headers["content-disposition"].to_str().expect("cd");
    assert!(
        cd.contains(&format!("filename=\"connectivity_sheet_{id}.xlsx\"")),
        "{cd}"
    );
    // 疎通確認結果表_No.{id}.xlsx for browsers that read filename*.
    assert!(
        cd.contains(&format!(
            "filename*=UTF-8''%E7%96%8E%E9%80%9A%E7%A2%BA%E8%AA%8D%E7%B5%90%E6%9E%9C%E8%A1%A8_No.{id}.xlsx"
        )),
        "{cd}"
    );
    let log = exports().await;
    assert_eq!(log.total, 2);
    let entry = log
        .items
        .iter()
        .find(|e| e.details.contains("\"xlsx\""))
        .expect("the XLSX download is audited");
    assert_eq!(entry.actor, "staff");
    assert_eq!(entry.entity, "check_sheet");
    assert_eq!(entry.entity_id, id.to_string());
    let details: serde_json::Value = serde_json::from_str(&entry.details).expect("json");
    assert_eq!(details["format"], "xlsx");
    assert_eq!(details["lines"], 2);
    assert_eq!(details["size"], xlsx.len());
    assert_eq!(
        details["sha256"],
        unyo_documents::sha256_hex(&xlsx).as_str()
    );

    // Unknown sheets are 404 for both formats, with nothing audited.
    for format in ["pdf", "xlsx"] {
        assert_eq!(
            staff
                .get(&format!("/connectivity/sheets/999999/{format}"))
                .await
                .status,
            404
        );
    }
    assert_eq!(exports().await.total, 2);
}

async fn saga_site(app: &TestApp) -> unyo_store::registry::Site {
    app.store()
        .create_site(
            &Actor::system("test"),
            &unyo_domain::registry::SiteInput {
                code: "SAGA".into(),
                name: "佐賀県税事務所".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// Maintenance windows: the SE creates one-off and weekly windows (shown in 和暦 / as the weekly rule);
/// refused forms say why in Japanese and save nothing; staff and auditors read but cannot create; a
/// missing CSRF token is refused; a window in force marks its checks 保守中 on the board.
#[tokio::test]
async fn maintenance_windows_page() {
    let app = TestApp::new().await;
    let site = saga_site(&app).await;
    let sid = site.id.to_string();
    let se = app.login("se").await;
    let r = se.get("/connectivity/maintenance").await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(body.contains("保守時間帯は登録されていません。"), "{body}");
    assert!(body.contains("action=\"/connectivity/maintenance\""));

    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "回線工事"),
                ("site_id", &sid),
                ("kind", "once"),
                ("start", "2026-05-12T09:30"),
                ("end", "2026-05-12T11:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/maintenance?ok=saved");
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "定期保守"),
                ("kind", "weekly"),
                ("weekday", "5"),
                ("start_time", "23:00"),
                ("duration_min", "120"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());

    // End before start; an unknown site; a bad time: 422, every reason, nothing saved.
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "誤り"),
                ("site_id", "999999"),
                ("kind", "once"),
                ("start", "2026-05-12T11:00"),
                ("end", "2026-05-12T09:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(body.contains("終了は開始より後にしてください。"), "{body}");
    assert!(
        body.contains("拠点 999999 は登録されていません。"),
        "{body}"
    );
    assert!(
        body.contains("value=\"誤り\""),
        "the typed values come back"
    );
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "誤り"),
                ("kind", "weekly"),
                ("start_time", "25:00"),
                ("weekday", "1"),
                ("duration_min", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("開始時刻を 時:分 で入力してください"));
    assert_eq!(app.store().maintenance_windows().await.unwrap().len(), 2);

    for who in ["staff", "auditor"] {
        let c = app.login(who).await;
        let r = c.get("/connectivity/maintenance?ok=saved").await;
        assert_eq!(r.status, 200);
        let body = r.text();
        assert!(
            body.contains("回線工事") && body.contains("佐賀県税事務所"),
            "{body}"
        );
        assert!(
            body.contains("令和8年5月12日") && body.contains("毎週土曜日 23:00 から 120 分間"),
            "{body}"
        );
        assert!(
            !body.contains("action=\"/connectivity/maintenance\""),
            "{who} sees no form"
        );
        let r = c
            .post_form(
                "/connectivity/maintenance",
                &[
                    ("title", "x"),
                    ("kind", "weekly"),
                    ("weekday", "0"),
                    ("start_time", "01:00"),
                    ("duration_min", "10"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{who}");
    }
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("_csrf", ""),
                ("title", "x"),
                ("kind", "weekly"),
                ("weekday", "0"),
                ("start_time", "01:00"),
                ("duration_min", "10"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert_eq!(app.store().maintenance_windows().await.unwrap().len(), 2);

    // A window over everything, in force now: the board marks the site's check 保守中 at once.
    let term = app
        .store()
        .create_terminal(
            &Actor::system("test"),
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
    app.store()
        .create_check(
            &Actor::system("test"),
            &unyo_domain::connectivity::CheckInput {
                name: "業務端末 TCP".into(),
                target_kind: "terminal".into(),
                target_id: term.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(9),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let board = se.get("/connectivity").await.text();
    assert!(
        !board.contains("badge-retired\">保守中"),
        "no window in force yet"
    );
    let now = chrono::Utc::now() + chrono::Duration::hours(9);
    let start = (now - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let end = (now + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "全体保守"),
                ("kind", "once"),
                ("start", &start),
                ("end", &end),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let board = se.get("/connectivity").await.text();
    assert!(board.contains("badge-retired\">保守中"), "{board}");
    assert!(board.contains("href=\"/connectivity/maintenance\""));
}

/// Notification channels: the SE creates e-mail, webhook and syslog channels; refused forms say why;
/// staff and auditors read the channels and the delivery attempts (with the error text) but cannot
/// create; a missing CSRF token is refused.
#[tokio::test]
async fn notification_channels_page() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "運用チーム"),
                ("kind", "email"),
                ("host", "smtp.pref.lg.jp"),
                ("port", "25"),
                ("from", "unyo@pref.lg.jp"),
                ("to", "ops@pref.lg.jp, se@pref.lg.jp"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/channels?ok=saved");
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "監視サーバ"),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = se
        .post_form(
            "/connectivity/channels",
            &[("name", ""), ("kind", "webhook"), ("url", "ftp://hook")],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(body.contains("名称を入力してください。"), "{body}");
    assert!(
        body.contains("URL は http:// または https:// で始めてください。"),
        "{body}"
    );
    let r = se
        .post_form(
            "/connectivity/channels",
            &[("name", "x"), ("kind", "syslog"), ("addr", "somewhere")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("IPアドレス:ポート"));
    let channels = app.store().notification_channels().await.unwrap();
    assert_eq!(channels.len(), 2);
    app.store()
        .record_notification_attempt(
            &Actor::system("test"),
            channels[0].id,
            None,
            false,
            "SMTPリレーに接続できません",
        )
        .await
        .unwrap();

    for who in ["staff", "auditor"] {
        let c = app.login(who).await;
        let r = c.get("/connectivity/channels").await;
        assert_eq!(r.status, 200);
        let body = r.text();
        assert!(
            body.contains("運用チーム") && body.contains("SMTP smtp.pref.lg.jp:25"),
            "{body}"
        );
        assert!(
            body.contains("ops@pref.lg.jp, se@pref.lg.jp") && body.contains("UDP 127.0.0.1:514"),
            "{body}"
        );
        assert!(
            body.contains("失敗") && body.contains("SMTPリレーに接続できません"),
            "{body}"
        );
        assert!(
            !body.contains("action=\"/connectivity/channels\""),
            "{who} sees no form"
        );
        let r = c
            .post_form(
                "/connectivity/channels",
                &[("name", "x"), ("kind", "syslog"), ("addr", "127.0.0.1:514")],
            )
            .await;
        assert_eq!(r.status, 403, "{who}");
    }
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("_csrf", "nope"),
                ("name", "x"),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "a wrong CSRF token");
    assert_eq!(app.store().notification_channels().await.unwrap().len(), 2);
}

/// Issue 13, findings 1 and 2: a webhook URL with a line break (the request-line injection) and a name with
/// one (the syslog injection) are refused with the field's Japanese message, on the page and in the API,
/// and nothing is stored; an https webhook with its CA certificate is accepted.
#[tokio::test]
async fn channel_form_refuses_line_breaks_in_url_and_name() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let smuggled = "http://127.0.0.1:9/hook\r\nX-Injected: yes\r\n\r\nSMUGGLED";
    let r = se
        .post_form(
            "/connectivity/channels",
            &[("name", "監視"), ("kind", "webhook"), ("url", smuggled)],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(
        body.contains("id=\"err-url\">URL に改行・空白・制御文字を含めないでください。"),
        "{body}"
    );
    for (url, says) in [
        ("https://ops:secret@10.0.0.5/hook", "利用者名やパスワード"),
        ("gopher://10.0.0.5/hook", "http:// または https://"),
    ] {
        let r = se
            .post_form(
                "/connectivity/channels",
                &[("name", "監視"), ("kind", "webhook"), ("url", url)],
            )
            .await;
        assert_eq!(r.status, 422, "{url}");
        assert!(r.text().contains(says), "{url}: {}", r.text());
    }
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "監視\r\n<13>1 - forged"),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text()
            .contains("名称は1行で入力してください（改行・タブなどの制御文字は使えません）。"),
        "{}",
        r.text()
    );
    let token = token(&app, "se").await;
    let c = app.anonymous();
    for body in [
        json!({"name": "監視", "config": {"kind": "webhook", "url": smuggled}}),
        json!({"name": "監視\n2", "config": {"kind": "syslog", "addr": "127.0.0.1:514"}}),
    ] {
        let r = c
            .api("POST", "/api/v1/notification-channels", &token, Some(body))
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains("制御文字"), "{}", r.text());
    }
    assert_eq!(
        app.store()
            .notification_channel_records(unyo_store::registry::Status::All)
            .await
            .unwrap()
            .len(),
        0,
        "nothing stored"
    );

    let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUB\n-----END CERTIFICATE-----\n";
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "監視（https）"),
                ("kind", "webhook"),
                ("url", "https://10.0.0.5:8443/hook"),
                ("ca_pem", pem),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let channels = app.store().notification_channels().await.unwrap();
    assert_eq!(
        channels[0].config,
        ChannelConfig::Webhook {
            url: "https://10.0.0.5:8443/hook".into(),
            ca_pem: Some(pem.trim().into()),
        }
    );
    let page = se.get("/connectivity/channels").await.text();
    assert!(
        page.contains("POST https://10.0.0.5:8443/hook (CA証明書を指定)"),
        "{page}"
    );
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "監視"),
                ("kind", "webhook"),
                ("url", "http://10.0.0.5/hook"),
                ("ca_pem", pem),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text()
            .contains("id=\"err-ca_pem\">CA証明書は https:// の URL にだけ指定できます。"),
        "{}",
        r.text()
    );
}

/// The API: maintenance windows, notification channels and delivery attempts.
#[tokio::test]
async fn api_maintenance_windows_and_channels() {
    let app = TestApp::new().await;
    let site = saga_site(&app).await;
    let c = app.anonymous();
    let se = token(&app, "se").await;
    let staff = token(&app, "staff").await;
    let window = json!({"title": "回線工事", "site_id": site.id,
        "when": {"type": "once", "start": "2026-05-12T00:30:00Z", "end": "2026-05-12T02:00:00Z"}});
    let r = c
        .api(
            "POST",
            "/api/v1/maintenance-windows",
            &staff,
            Some(window.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .api(
            "POST",
            "/api/v1/maintenance-windows",
            &se,
            Some(window.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json()["id"].as_i64().unwrap() > 0);
    let mut bad = window.clone();
    bad["when"]["end"] = json!("2026-05-11T00:00:00Z");
    bad["node_id"] = json!(424242);
    let r = c
        .api("POST", "/api/v1/maintenance-windows", &se, Some(bad))
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("終了は開始より後") && r.text().contains("ネットワーク機器 424242"),
        "{}",
        r.text()
    );
    let r = c
        .api(
            "POST",
            "/api/v1/maintenance-windows",
            &se,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = c
        .api("GET", "/api/v1/maintenance-windows", &staff, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["when"]["type"], "once");
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    let channel =
        json!({"name": "監視", "config": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}});
    let r = c
        .api(
            "POST",
            "/api/v1/notification-channels",
            &staff,
            Some(channel.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .api("POST", "/api/v1/notification-channels", &se, Some(channel))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let r = c
        .api(
            "POST",
            "/api/v1/notification-channels",
            &se,
            Some(json!({"name": "x", "config": {"kind": "syslog", "addr": "nowhere"}})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("IPアドレス:ポート"), "{}", r.text());
    let r = c
        .api("GET", "/api/v1/notification-channels", &staff, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["config"]["kind"], "webhook");
    app.store()
        .record_notification_attempt(&Actor::system("test"), id, None, true, "HTTP 200")
        .await
        .unwrap();
    let r = c
        .api("GET", "/api/v1/notification-attempts?limit=5", &staff, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()[0]["ok"], true);
    assert_eq!(r.json()[0]["channel_id"], id);
}

/// Maintenance windows are edited and retired from their pages: the edit form comes filled in (times in
/// JST); a refused change says why and changes nothing; staff and auditors can do neither; a missing CSRF
/// token is refused; the retire needs a reason; a retired window stays listed as 廃止 (in words, not only
/// colour), stops marking its checks 保守中 and can no longer be edited.
#[tokio::test]
async fn maintenance_windows_are_edited_and_retired() {
    let app = TestApp::new().await;
    let site = saga_site(&app).await;
    let se = app.login("se").await;
    let now = chrono::Utc::now() + chrono::Duration::hours(9);
    let start = (now - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let end = (now + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "全体保守"),
                ("kind", "once"),
                ("start", &start),
                ("end", &end),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id = app.store().maintenance_windows().await.unwrap()[0].id;
    let edit = format!("/connectivity/maintenance/{id}/edit");
    let list = se.get("/connectivity/maintenance").await.text();
    assert!(list.contains(&format!("href=\"{edit}\"")), "{list}");

    let r = se.get(&edit).await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(body.contains("value=\"全体保守\""), "{body}");
    assert!(body.contains(&format!("value=\"{start}\"")), "{body}");
    assert!(body.contains(&format!("action=\"/connectivity/maintenance/{id}\"")));
    assert!(body.contains(&format!("action=\"/connectivity/maintenance/{id}/retire\"")));
    assert!(body.contains("name=\"_csrf\""));

    // A refused change: every reason, the typed values back, nothing changed.
    let path = format!("/connectivity/maintenance/{id}");
    let r = se
        .post_form(
            &path,
            &[
                ("title", "延長"),
                ("site_id", "999999"),
                ("kind", "once"),
                ("start", "2026-05-12T11:00"),
                ("end", "2026-05-12T09:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(body.contains("終了は開始より後にしてください。"), "{body}");
    assert!(
        body.contains("拠点 999999 は登録されていません。"),
        "{body}"
    );
    assert!(body.contains("value=\"延長\""));
    assert_eq!(
        app.store()
            .maintenance_window(id)
            .await
            .unwrap()
            .window
            .title,
        "全体保守"
    );

    // A change: the window becomes weekly over one site.
    let sid = site.id.to_string();
    let r = se
        .post_form(
            &path,
            &[
                ("title", "定期保守（佐賀）"),
                ("site_id", &sid),
                ("kind", "weekly"),
                ("weekday", "5"),
                ("start_time", "23:00"),
                ("duration_min", "120"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/maintenance?ok=saved");
    let w = app.store().maintenance_window(id).await.unwrap();
    assert_eq!(w.window.title, "定期保守（佐賀）");
    assert_eq!(w.window.site_id, Some(site.id));
    let list = se.get("/connectivity/maintenance?ok=saved").await.text();
    assert!(
        list.contains("毎週土曜日 23:00 から 120 分間") && list.contains("佐賀県税事務所"),
        "{list}"
    );
    let body = se.get(&edit).await.text();
    assert!(body.contains("value=\"23:00\""), "{body}");

    // Staff and auditors can neither edit nor retire; a missing CSRF token is refused.
    for who in ["staff", "auditor"] {
        let c = app.login(who).await;
        let list = c.get("/connectivity/maintenance").await.text();
        assert!(!list.contains(&edit), "{who} sees no edit link");
        assert_eq!(c.get(&edit).await.status, 403, "{who}");
        let r = c
            .post_form(&path, &[("title", "x"), ("kind", "weekly")])
            .await;
        assert_eq!(r.status, 403, "{who}");
        let r = c
            .post_form(&format!("{path}/retire"), &[("reason", "x")])
            .await;
        assert_eq!(r.status, 403, "{who}");
    }
    let r = se
        .post_form(&format!("{path}/retire"), &[("_csrf", ""), ("reason", "x")])
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert_eq!(
        se.get("/connectivity/maintenance/999999/edit").await.status,
        404
    );

    // Retire: the reason is required; then the window is 廃止 and stays listed.
    let r = se
        .post_form(&format!("{path}/retire"), &[("reason", " ")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("廃止の理由を入力してください。"));
    assert!(
        app.store()
            .maintenance_window(id)
            .await
            .unwrap()
            .retired_at
            .is_none()
    );
    let r = se
        .post_form(&format!("{path}/retire"), &[("reason", "拠点の移転で不要")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/maintenance?ok=retired");
    let list = se.get("/connectivity/maintenance?ok=retired").await.text();
    assert!(list.contains("廃止しました。"), "{list}");
    assert!(list.contains("定期保守（佐賀）"), "{list}");
    assert!(
        list.contains("<span class=\"badge badge-retired\">廃止</span>"),
        "{list}"
    );
    assert!(!list.contains(&edit), "a retired window has no edit link");
    assert!(app.store().maintenance_windows().await.unwrap().is_empty());
    let r = se.get(&edit).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/connectivity/maintenance");
    let r = se
        .post_form(
            &path,
            &[
                ("title", "再開"),
                ("kind", "weekly"),
                ("weekday", "1"),
                ("start_time", "01:00"),
                ("duration_min", "10"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("廃止済みの保守時間帯は変更できません。"));
    let r = se
        .post_form(&format!("{path}/retire"), &[("reason", "再度")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("この保守時間帯は既に廃止されています。"));
    let log = app
        .store()
        .audit_log(&unyo_store::audit::AuditQuery {
            entity: Some("maintenance_window".into()),
            entity_id: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "maintenance.retire",
            "maintenance.update",
            "maintenance.create"
        ]
    );
}

/// Notification channels are edited (the kind may change) and retired from their pages; a retired
/// channel stays listed as 廃止 with its delivery attempts and is no longer among those notified.
#[tokio::test]
async fn notification_channels_are_edited_and_retired() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "運用チーム"),
                ("kind", "email"),
                ("host", "smtp.pref.lg.jp"),
                ("port", "587"),
                ("starttls", "on"),
                ("from", "unyo@pref.lg.jp"),
                ("to", "ops@pref.lg.jp, se@pref.lg.jp"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id = app.store().notification_channels().await.unwrap()[0].id;
    let edit = format!("/connectivity/channels/{id}/edit");
    let path = format!("/connectivity/channels/{id}");
    assert!(
        se.get("/connectivity/channels")
            .await
            .text()
            .contains(&format!("href=\"{edit}\""))
    );
    let body = se.get(&edit).await.text();
    assert!(body.contains("value=\"運用チーム\""), "{body}");
    assert!(body.contains("value=\"587\""), "{body}");
    assert!(
        body.contains("value=\"ops@pref.lg.jp, se@pref.lg.jp\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"starttls\" value=\"on\" checked"),
        "{body}"
    );

    let r = se
        .post_form(
            &path,
            &[("name", ""), ("kind", "webhook"), ("url", "ftp://hook")],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(body.contains("名称を入力してください。"), "{body}");
    assert!(
        body.contains("URL は http:// または https:// で始めてください。"),
        "{body}"
    );
    assert_eq!(
        app.store()
            .notification_channel(id)
            .await
            .unwrap()
            .config
            .kind(),
        "email"
    );
    let r = se
        .post_form(
            &path,
            &[
                ("name", "監視サーバ"),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/channels?ok=saved");
    let c = app.store().notification_channel(id).await.unwrap();
    assert_eq!((c.name.as_str(), c.config.kind()), ("監視サーバ", "syslog"));

    for who in ["staff", "auditor"] {
        let u = app.login(who).await;
        assert!(!u.get("/connectivity/channels").await.text().contains(&edit));
        assert_eq!(u.get(&edit).await.status, 403, "{who}");
        let r = u
            .post_form(
                &path,
                &[("name", "x"), ("kind", "syslog"), ("addr", "127.0.0.1:1")],
            )
            .await;
        assert_eq!(r.status, 403, "{who}");
        let r = u
            .post_form(&format!("{path}/retire"), &[("reason", "x")])
            .await;
        assert_eq!(r.status, 403, "{who}");
    }
    let r = se
        .post_form(
            &format!("{path}/retire"),
            &[("_csrf", "nope"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 403, "a wrong CSRF token");

    app.store()
        .record_notification_attempt(&Actor::system("test"), id, None, true, "sent")
        .await
        .unwrap();
    let r = se
        .post_form(&format!("{path}/retire"), &[("reason", "")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("廃止の理由を入力してください。"));
    let r = se
        .post_form(&format!("{path}/retire"), &[("reason", "監視サーバの撤去")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/connectivity/channels?ok=retired");
    assert!(
        app.store()
            .notification_channels()
            .await
            .unwrap()
            .is_empty()
    );
    let c = app.login("auditor").await;
    let list = c.get("/connectivity/channels").await.text();
    assert!(
        list.contains("監視サーバ")
            && list.contains("<span class=\"badge badge-retired\">廃止</span>"),
        "{list}"
    );
    assert!(list.contains("成功"), "the attempts stay: {list}");
    let r = se.get(&edit).await;
    assert_eq!(r.status, 303);
    let r = se
        .post_form(
            &path,
            &[("name", "x"), ("kind", "syslog"), ("addr", "127.0.0.1:1")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("廃止済みの通知先は変更できません。"));
}

/// The API edits and retires maintenance windows and channels: `PUT` under the `POST` rules (422, nothing
/// changed), 409 once retired, `POST …/retire` with a reason, lists by `status`, 403 for staff.
#[tokio::test]
async fn api_edits_and_retires_windows_and_channels() {
    let app = TestApp::new().await;
    let site = saga_site(&app).await;
    let c = app.anonymous();
    let se = token(&app, "se").await;
    let staff = token(&app, "staff").await;
    let window = json!({"title": "回線工事", "site_id": site.id,
        "when": {"type": "once", "start": "2026-05-12T00:30:00Z", "end": "2026-05-12T02:00:00Z"}});
    let r = c
        .api(
            "POST",
            "/api/v1/maintenance-windows",
            &se,
            Some(window.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let at = format!("/api/v1/maintenance-windows/{id}");
    assert_eq!(r.location(), at);
    let r = c.api("GET", &at, &staff, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["title"], "回線工事");
    assert!(r.json()["retired_at"].is_null());

    // PUT: what was read can be sent back with changes (read-only fields are ignored).
    let mut changed = r.json();
    changed["title"] = json!("回線工事（延長）");
    changed["when"]["end"] = json!("2026-05-12T04:00:00Z");
    let r = c.api("PUT", &at, &staff, Some(changed.clone())).await;
    assert_eq!(r.status, 403);
    let r = c.api("PUT", &at, &se, Some(changed.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["title"], "回線工事（延長）");
    assert!(r.json()["updated_at"].is_string());
    let mut bad = changed.clone();
    bad["when"]["end"] = json!("2026-05-11T00:00:00Z");
    bad["check_id"] = json!(4242);
    let r = c.api("PUT", &at, &se, Some(bad)).await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("終了は開始より後") && r.text().contains("疎通確認 4242"),
        "{}",
        r.text()
    );
    assert_eq!(
        app.store()
            .maintenance_window(id)
            .await
            .unwrap()
            .window
            .title,
        "回線工事（延長）"
    );
    let r = c
        .api(
            "PUT",
            "/api/v1/maintenance-windows/999999",
            &se,
            Some(changed.clone()),
        )
        .await;
    assert_eq!(r.status, 404);

    // Retire.
    let retire = format!("{at}/retire");
    let r = c
        .api("POST", &retire, &staff, Some(json!({"reason": "x"})))
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .api("POST", &retire, &se, Some(json!({"reason": ""})))
        .await;
    assert_eq!(r.status, 422);
    let r = c
        .api("POST", &retire, &se, Some(json!({"reason": "工事中止"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["retired_at"].is_string());
    let r = c
        .api("POST", &retire, &se, Some(json!({"reason": "再度"})))
        .await;
    assert_eq!(r.status, 409);
    let r = c.api("PUT", &at, &se, Some(changed)).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = c
        .api("GET", "/api/v1/maintenance-windows", &staff, None)
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 0, "in force only");
    let r = c
        .api(
            "GET",
            "/api/v1/maintenance-windows?status=all",
            &staff,
            None,
        )
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert_eq!(r.json()[0]["id"], id);
    let r = c
        .api(
            "GET",
            "/api/v1/maintenance-windows?status=nope",
            &staff,
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    // Channels.
    let r = c
        .api(
            "POST",
            "/api/v1/notification-channels",
            &se,
            Some(json!({"name": "監視", "config": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let at = format!("/api/v1/notification-channels/{id}");
    assert_eq!(r.location(), at);
    let changed =
        json!({"name": "監視（syslog）", "config": {"kind": "syslog", "addr": "127.0.0.1:514"}});
    let r = c.api("PUT", &at, &staff, Some(changed.clone())).await;
    assert_eq!(r.status, 403);
    let r = c
        .api(
            "PUT",
            &at,
            &se,
            Some(json!({"name": " ", "config": {"kind": "syslog", "addr": "nowhere"}})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = c.api("PUT", &at, &se, Some(changed.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["config"]["kind"], "syslog");
    let r = c
        .api(
            "POST",
            &format!("{at}/retire"),
            &se,
            Some(json!({"reason": "撤去"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["retired_at"].is_string());
    let r = c.api("PUT", &at, &se, Some(changed)).await;
    assert_eq!(r.status, 409);
    let r = c.api("GET", &at, &staff, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "監視（syslog）");
    let r = c
        .api("GET", "/api/v1/notification-channels", &staff, None)
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 0);
    let r = c
        .api(
            "GET",
            "/api/v1/notification-channels?status=retired",
            &staff,
            None,
        )
        .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
}

/// The on-demand run watched live: the run starts in the background; the progress page shows the
/// finished target with its result while a slow one is still 実行中, refreshes itself until the end, then
/// links to the sheet, which is kept once with every target's line and audited once.
#[tokio::test]
async fn on_demand_run_is_watched_live() {
    let app = TestApp::new().await;
    let a = Actor::system("test");
    let site = saga_site(&app).await;
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
    // One listener that accepts (TCP: up at once), one that accepts and never answers (HTTP: times out).
    let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    tokio::spawn(async move { while open.accept().await.is_ok() {} });
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    for (name, kind, port, timeout) in [
        ("業務端末 TCP", "tcp", open_port, None),
        ("業務端末 HTTP", "http", silent_port, Some(1500)),
    ] {
        app.store()
            .create_check(
                &a,
                &unyo_domain::connectivity::CheckInput {
                    name: name.into(),
                    target_kind: "terminal".into(),
                    target_id: term.id,
                    kind: kind.into(),
                    address: "127.0.0.1".into(),
                    port: Some(port),
                    timeout_ms: timeout,
                    retries: Some(0),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let se = app.login("se").await;
    let sid = site.id.to_string();
    let r = se
        .post_form(
            "/connectivity/run",
            &[("site_ids", &sid), ("note", "月次確認")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let progress = r.location();
    assert!(progress.starts_with("/connectivity/runs/"), "{progress}");

    // While the silent target waits for its timeout, the open one is already shown as 正常.
    let mut seen_partial = false;
    for _ in 0..40 {
        let body = se.get(&progress).await.text();
        if body.contains("完了した対象: 1 / 2") {
            assert!(body.contains("正常") && body.contains("実行中"), "{body}");
            assert!(
                body.contains("http-equiv=\"refresh\" content=\"1\""),
                "{body}"
            );
            seen_partial = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        seen_partial,
        "the finished target shows before the run ends"
    );
    // Only the operator (or an administrator) watches; other roles cannot run at all.
    assert_eq!(app.login("staff").await.get(&progress).await.status, 403);
    assert_eq!(
        app.login("se")
            .await
            .get("/connectivity/runs/999999")
            .await
            .status,
        404
    );

    let sheet = finished_sheet(&se, &progress).await;
    let body = se.get(&progress).await.text();
    assert!(
        body.contains("完了した対象: 2 / 2") && body.contains("停止"),
        "{body}"
    );
    let r = se.get(&sheet).await;
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(
        body.contains("業務端末 TCP") && body.contains("業務端末 HTTP"),
        "{body}"
    );
    assert!(
        body.contains("正常") && body.contains("停止") && body.contains("月次確認"),
        "{body}"
    );
    let id: i64 = sheet.rsplit('/').next().unwrap().parse().unwrap();
    let kept = app.store().check_sheet(id).await.unwrap();
    assert_eq!(kept.operator, "se");
    assert_eq!(kept.lines.len(), 2);
    let line = |name: &str| {
        kept.lines
            .iter()
            .find(|l| l.check == name)
            .unwrap_or_else(|| panic!("{name}: {:?}", kept.lines))
    };
    assert_eq!(line("業務端末 TCP").status, "up");
    assert!(line("業務端末 TCP").latency_ms.is_some());
    assert_eq!(line("業務端末 HTTP").status, "down");
    assert_eq!(
        app.store().check_sheets(10).await.unwrap().len(),
        1,
        "kept once"
    );
    let audited = app
        .store()
        .audit_log(&unyo_store::audit::AuditQuery {
            action: Some("check_sheet.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.total, 1);
    assert_eq!(audited.items[0].actor, "se");

    // A work entry that does not exist is refused before anything is probed.
    let r = se
        .post_form(
            "/connectivity/run",
            &[("site_ids", &sid), ("work_entry_id", "999999")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("作業記録 999999 は存在しません。"));
    assert_eq!(app.store().check_sheets(10).await.unwrap().len(), 1);
}

/// The status board for a larger fleet: checks created in bulk, totals by state (text, not only colour),
/// the checks that are not 正常 worst first and paged, the per-site summary filtered by site code/name and
/// by state (plain GET forms), the network nodes' own checks, and the snapshot's time.
#[tokio::test]
async fn board_totals_problems_first_pages_and_filters() {
    let app = TestApp::new().await;
    let a = Actor::system("test");
    let mut inputs = Vec::new();
    let mut host = 0u32;
    for (code, name, n) in [
        ("A001", "北拠点", 60),
        ("B002", "南拠点", 30),
        ("C003", "東拠点", 10),
    ] {
        let site = app
            .store()
            .create_site(
                &a,
                &unyo_domain::registry::SiteInput {
                    code: code.into(),
                    name: name.into(),
                    kind: "honcho".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for _ in 0..n {
            host += 1;
            let ip = format!("127.0.{}.{}", host / 200 + 1, host % 200 + 1);
            let t = app
                .store()
                .create_terminal(
                    &a,
                    &unyo_domain::registry::TerminalInput {
                        site_id: Some(site.id),
                        hostname: format!("{code}-PC-{host:03}"),
                        kind: "business".into(),
                        ip_address: ip.clone(),
                        os_name: "Windows 11".into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            inputs.push(unyo_domain::connectivity::CheckInput {
                name: format!("{code}-PC-{host:03} ICMP"),
                target_kind: "terminal".into(),
                target_id: t.id,
                kind: "icmp".into(),
                address: ip,
                ..Default::default()
            });
        }
    }
    // A wrong address refuses the whole batch.
    let mut wrong = inputs.clone();
    wrong[7].address = "127.9.9.9".into();
    assert!(app.store().create_checks(&a, &wrong).await.is_err());
    assert!(app.store().checks().await.unwrap().is_empty());
    let ids = app.store().create_checks(&a, &inputs).await.unwrap();
    assert_eq!(ids.len(), 100);
    // 北拠点: 55 停止, 5 正常; 南拠点: 5 低下, 25 正常; 東拠点: 10 不明.
    for (i, id) in ids.iter().enumerate() {
        let to = match i {
            0..55 => State::Down,
            60..65 => State::Degraded,
            55..60 | 65..90 => State::Up,
            _ => continue,
        };
        app.store()
            .record_check_event(
                &a,
                &NewEvent {
                    check_id: *id,
                    ts: 1_780_000_000 + i as i64,
                    from: State::Unknown,
                    to,
                    cause: "試験".into(),
                    impacted_by: None,
                    maintenance: false,
                    results: json!([]),
                    message: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let node = app
        .store()
        .create_node(
            &a,
            &NodeInput {
                name: "集約スイッチ".into(),
                kind: "switch".into(),
                ip_address: "127.0.9.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let staff = app.login("staff").await;
    let rows = |body: &str| {
        body.matches("<th scope=\"row\"><a href=\"/connectivity/checks/")
            .count()
    };
    let body = staff.get("/connectivity").await.text();
    for (state, n) in [
        ("up", 30),
        ("down", 55),
        ("degraded", 5),
        ("unknown", 10),
        ("impacted", 0),
        ("maintenance", 0),
    ] {
        assert!(
            body.contains(&format!("id=\"total-{state}\">{n}<")),
            "{state} {n}: {body}"
        );
    }
    assert!(body.contains("id=\"total-checks\">100<"), "{body}");
    assert!(
        body.contains(" 時点</small>"),
        "the snapshot's time is shown"
    );
    for word in ["正常", "低下", "停止", "影響", "保守中", "不明"] {
        assert!(
            body.contains(&format!("</span> {word}</span>")),
            "{word} as text"
        );
    }
    assert_eq!(rows(&body), 50, "one page of problems");
    assert!(body.contains("1 / 2 ページ（70 件中 1–50 件目）"), "{body}");
    assert!(
        body.contains("href=\"/connectivity?page=2#problems\""),
        "{body}"
    );
    // Worst first: the first page is all 停止; the second has the 5 低下 then the 10 不明.
    let table = |b: &str, id: &str| {
        let start = b.find(&format!("<table id=\"{id}\"")).expect("table");
        b[start..start + b[start..].find("</table>").unwrap()].to_string()
    };
    let first = table(&body, "checks");
    assert!(first.contains("停止") && !first.contains("低下") && !first.contains("不明"));
    let body2 = staff.get("/connectivity?page=2").await.text();
    assert_eq!(rows(&body2), 20);
    let second = table(&body2, "checks");
    assert!(
        second.find("低下").unwrap() < second.find("不明").unwrap(),
        "{second}"
    );
    // Sites worst first, with their counts; a page past the end shows the last one.
    let sites = table(&body, "availability");
    let (n, s, e) = (
        sites.find("北拠点").unwrap(),
        sites.find("南拠点").unwrap(),
        sites.find("東拠点").unwrap(),
    );
    assert!(n < s && s < e, "{sites}");
    assert_eq!(rows(&staff.get("/connectivity?page=99").await.text()), 20);

    // Filters: site code (any case) or name, and state; kept across the pager's links.
    let body = staff.get("/connectivity?q=b002").await.text();
    assert_eq!(rows(&body), 5);
    let sites = table(&body, "availability");
    assert!(
        sites.contains("南拠点") && !sites.contains("北拠点"),
        "{sites}"
    );
    let body = staff
        .get("/connectivity?q=%E5%8C%97&state=down")
        .await
        .text();
    assert_eq!(rows(&body), 50);
    let unescaped = body.replace("&#38;", "&").replace("&amp;", "&");
    assert!(
        unescaped.contains("href=\"/connectivity?q=%E5%8C%97&state=down&page=2#problems\""),
        "{body}"
    );
    assert!(
        body.contains("<option value=\"down\" selected>停止</option>"),
        "{body}"
    );
    let body = staff.get("/connectivity?state=unknown").await.text();
    let sites = table(&body, "availability");
    assert!(
        sites.contains("東拠点") && !sites.contains("南拠点"),
        "{sites}"
    );
    assert!(body.contains("<label for=\"f-q\">") && body.contains("<label for=\"f-state\">"));
    let body = staff
        .get("/connectivity?state=nonsense&page=x&sites_page=-1")
        .await
        .text();
    assert_eq!(rows(&body), 50, "unreadable parameters are ignored");

    // A check created through the API shows at once (the snapshot is invalidated); the node is a path.
    let se = token(&app, "se").await;
    let r = app
        .anonymous()
        .api(
            "POST",
            "/api/v1/checks",
            &se,
            Some(
                json!({"name": "集約スイッチ ICMP", "target_kind": "node", "target_id": node.id,
                        "kind": "icmp", "address": "127.0.9.1"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = staff.get("/connectivity").await.text();
    assert!(body.contains("id=\"total-unknown\">11<"), "{body}");
    let paths = table(&body, "path-nodes");
    assert!(
        paths.contains("集約スイッチ") && paths.contains("集約スイッチ ICMP"),
        "{paths}"
    );
}

/// The audit entries whose details hold `text`.
async fn audited_with(app: &TestApp, text: &str) -> i64 {
    app.store()
        .audit_log(&unyo_store::audit::AuditQuery {
            q: Some(text.into()),
            per_page: Some(1000),
            ..Default::default()
        })
        .await
        .expect("audit")
        .total
}

/// Finding 8 of issue 13: a maintenance window's title and a channel's name refuse a 個人番号 (page and
/// API, create and change) with a Japanese message naming the field, and nothing reaches the audit log;
/// a title over 200 characters is refused too.
#[tokio::test]
async fn window_titles_and_channel_names_refuse_personal_identifiers() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let api = token(&app, "se").await;
    let my_number = "123456789018";
    let title = format!("利用者{my_number}の回線工事");

    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", title.as_str()),
                ("kind", "once"),
                ("start", "2026-05-12T09:30"),
                ("end", "2026-05-12T11:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(
        body.contains("件名: 個人番号と思われる12桁の番号が含まれています。"),
        "{body}"
    );
    let long = "長".repeat(201);
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", long.as_str()),
                ("kind", "weekly"),
                ("weekday", "1"),
                ("start_time", "23:00"),
                ("duration_min", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("件名は200文字以内で入力してください。"));
    let when =
        json!({"type": "once", "start": "2026-05-12T00:30:00Z", "end": "2026-05-12T02:00:00Z"});
    let r = app
        .anonymous()
        .api(
            "POST",
            "/api/v1/maintenance-windows",
            &api,
            Some(json!({"title": title, "when": when})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("個人番号と思われる"), "{}", r.text());
    assert!(app.store().maintenance_windows().await.unwrap().is_empty());

    let name = format!("当番 {my_number}");
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", name.as_str()),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(
        body.contains("名称: 個人番号と思われる12桁の番号が含まれています。"),
        "{body}"
    );
    let config = json!({"kind": "syslog", "addr": "127.0.0.1:514"});
    let r = app
        .anonymous()
        .api(
            "POST",
            "/api/v1/notification-channels",
            &api,
            Some(json!({"name": name, "config": config})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("個人番号と思われる"), "{}", r.text());
    // The store refuses it as well, whoever calls it.
    let actor = Actor::system("test");
    let syslog = ChannelConfig::Syslog {
        addr: "127.0.0.1:514".into(),
    };
    assert!(
        app.store()
            .create_notification_channel(&actor, &name, &syslog)
            .await
            .is_err()
    );
    // A channel saved under a clean name cannot be renamed to one with the number.
    let r = se
        .post_form(
            "/connectivity/channels",
            &[
                ("name", "当番"),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id = app
        .store()
        .notification_channel_records(unyo_store::registry::Status::All)
        .await
        .unwrap()[0]
        .id;
    let r = se
        .post_form(
            &format!("/connectivity/channels/{id}"),
            &[
                ("name", name.as_str()),
                ("kind", "syslog"),
                ("addr", "127.0.0.1:514"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("個人番号と思われる"));
    assert_eq!(audited_with(&app, my_number).await, 0, "nothing audited");
    assert_eq!(audited_with(&app, "1234567890").await, 0, "nothing audited");
}

/// Finding 12 of issue 13: a maintenance window's bad date names the field and says what is wrong, on
/// the page (「開始日時: 2026年2月30日は存在しない日付です。」) and in the API (「when」 is the time rule,
/// not an id).
#[tokio::test]
async fn a_wrong_window_date_says_what_is_wrong() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[
                ("title", "回線工事"),
                ("kind", "once"),
                ("start", "2026-02-30T09:30"),
                ("end", "2026-13-01T11:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(
        body.contains("開始日時: 2026年2月30日は存在しない日付です。"),
        "{body}"
    );
    assert!(
        body.contains("終了日時: 13月という月はありません（1月～12月で入力してください）。"),
        "{body}"
    );
    let r = se
        .post_form(
            "/connectivity/maintenance",
            &[("title", "回線工事"), ("kind", "once"), ("start", "あした")],
        )
        .await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(
        body.contains("開始日時の形式が正しくありません（例: 2026-05-12 09:30）。"),
        "{body}"
    );
    assert!(body.contains("終了日時を入力してください"), "{body}");

    let api = token(&app, "se").await;
    for when in [
        json!({"type": "once", "start": "2026-02-30T00:30:00Z", "end": "2026-05-12T02:00:00Z"}),
        json!("来週"),
        json!({"type": "monthly"}),
    ] {
        let r = app
            .anonymous()
            .api(
                "POST",
                "/api/v1/maintenance-windows",
                &api,
                Some(json!({"title": "回線工事", "when": when})),
            )
            .await;
        assert_eq!(r.status, 422);
        let t = r.text();
        assert!(
            t.contains("「when」（保守の日時）の形式が正しくないか、存在しない日時です。"),
            "{t}"
        );
        assert!(!t.contains("数値（ID）"), "{t}");
    }
    assert!(app.store().maintenance_windows().await.unwrap().is_empty());
}
