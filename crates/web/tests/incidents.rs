//! Incidents (障害対応) through the real router: an incident walked through every stage to a witnessed close,
//! closing without a witness refused with the domain's message and nothing changed, the witness recorded
//! by the prefecture, permissions per role, reopening, the 障害報告書 downloads (XLSX and PDF, audited), a
//! known error from a closed incident and the figures page with its SVG chart. Runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use axum::http::StatusCode;
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Duration, Utc};
use common::{Client, Resp, TestApp};
use std::io::Cursor;
use unyo_domain::incident::{WITNESS_REQUIRED_MESSAGE, datetime_local};
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_domain::time::to_jst;
use unyo_domain::wareki::FiscalYear;
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;
use unyo_store::support::jst_today;

/// A site with a terminal and a router, a contract for this fiscal year staffed by `se`, and two work
/// entries on the day the incident starts.
struct World {
    site: i64,
    terminal: i64,
    node: i64,
    work: Vec<i64>,
    /// The incident's 発生 (six hours ago).
    t0: DateTime<Utc>,
}

/// A JST `datetime-local` value `minutes` after `t0`.
fn at(w: &World, minutes: i64) -> String {
    datetime_local(w.t0 + Duration::minutes(minutes))
}

async fn world(app: &TestApp) -> World {
    let sys = Actor::system("test");
    let s = app.store();
    let site = s
        .create_site(
            &sys,
            &SiteInput {
                code: "HOFUKU-IMARI".into(),
                name: "伊万里保健福祉事務所".into(),
                kind: "hofuku".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site")
        .id;
    let terminal = s
        .create_terminal(
            &sys,
            &TerminalInput {
                site_id: Some(site),
                hostname: "jk-hfk-imari01".into(),
                kind: "business".into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal")
        .id;
    let node = s
        .create_node(
            &sys,
            &NodeInput {
                name: "RT-伊万里".into(),
                kind: "router".into(),
                site_id: Some(site),
                ..Default::default()
            },
        )
        .await
        .expect("node")
        .id;
    let se = s.user_by_name("se").await.expect("q").expect("se");
    let fy = FiscalYear::containing(jst_today());
    let contract = s
        .create_contract(
            &sys,
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: (fy.start() - chrono::Days::new(1)).to_string(),
                term_end: fy.end().to_string(),
                contractor: "株式会社サンプル".into(),
                staff_ids: vec![se.id],
                ..Default::default()
            },
        )
        .await
        .expect("contract")
        .id;
    let t0 = Utc::now() - Duration::hours(6);
    let day = to_jst(t0).date().to_string();
    let mut work = Vec::new();
    for (start, end, what) in [
        (
            "09:45",
            "10:45",
            "リモートで疎通を確認し、拠点内の障害と切り分け",
        ),
        (
            "13:30",
            "15:30",
            "現地でスイッチのポート障害を確認し、予備ポートへ接続を変更",
        ),
    ] {
        work.push(
            s.create_work_entry(
                &se.actor("test"),
                &WorkInput {
                    contract_id: Some(contract),
                    work_date: day.clone(),
                    start_time: start.into(),
                    end_time: end.into(),
                    worker_ids: vec![se.id],
                    mode: "onsite".into(),
                    site_id: Some(site),
                    terminal_ids: vec![terminal],
                    category: "incident_response".into(),
                    clause: String::new(),
                    description: what.into(),
                    result: "完了".into(),
                    follow_up: "スイッチの交換について県と協議する。".into(),
                    request_id: None,
                },
            )
            .await
            .expect("work")
            .id,
        );
    }
    World {
        site,
        terminal,
        node,
        work,
        t0,
    }
}

/// The id in a `/incidents/{id}?ok=saved` redirect.
fn id_from(r: &Resp, base: &str) -> i64 {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let loc = r.location();
    let rest = loc
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("redirect to {loc}"));
    assert!(loc.contains("ok=saved"), "{loc}");
    rest.split(['?', '#'])
        .next()
        .unwrap_or("")
        .parse()
        .unwrap_or_else(|_| panic!("id in {loc}"))
}

async fn report(c: &Client, w: &World, title: &str) -> Resp {
    let (site, terminal, node) = (
        w.site.to_string(),
        w.terminal.to_string(),
        w.node.to_string(),
    );
    c.post_form(
        "/incidents",
        &[
            ("title", title),
            ("severity", "high"),
            ("source", "phone"),
            ("occurred_at", &at(w, 0)),
            ("noticed_at", &at(w, 5)),
            ("site_ids", &site),
            ("terminal_ids", &terminal),
            ("node_ids", &node),
            (
                "description",
                "拠点の担当者から電話連絡。業務端末で本人確認情報の照会ができない。",
            ),
        ],
    )
    .await
}

async fn act(c: &Client, id: i64, fields: &[(&str, &str)]) -> Resp {
    c.post_form(&format!("/incidents/{id}/transitions"), fields)
        .await
}

async fn stage_of(app: &TestApp, id: i64) -> String {
    app.store()
        .incident_row(id, Utc::now())
        .await
        .expect("incident")
        .stage
}

async fn audit_count(app: &TestApp) -> i64 {
    app.store()
        .audit_log(&AuditQuery {
            per_page: Some(1),
            ..Default::default()
        })
        .await
        .expect("audit")
        .total
}

/// Reports an incident as staff and walks it to 復旧確認 as se (no witness yet).
async fn to_recovered(app: &TestApp, w: &World, title: &str) -> i64 {
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let id = id_from(&report(&staff, w, title).await, "/incidents/");
    for (action, minutes, comment) in [
        ("investigate", 15, ""),
        ("start_recovery", 200, ""),
        ("recover", 300, "予備ポートへ接続を変更して復旧"),
    ] {
        let t = at(w, minutes);
        let r = act(
            &se,
            id,
            &[("action", action), ("at", &t), ("comment", comment)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.text());
    }
    id
}

/// Walks an incident to 完了 (with the witness).
async fn to_closed(app: &TestApp, w: &World, title: &str) -> i64 {
    let id = to_recovered(app, w, title).await;
    let staff = app.login("staff").await;
    let t = at(w, 310);
    let r = staff
        .post_form(
            &format!("/incidents/{id}/witness"),
            &[
                ("witness_name", "有田 健一"),
                ("witness_org", "伊万里保健福祉事務所 総務課"),
                ("witnessed_at", &t),
                ("remark", "照会・更新とも正常に動作することを確認した。"),
                ("confirmed", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let t = at(w, 320);
    let r = act(&staff, id, &[("action", "close"), ("at", &t)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    id
}

#[tokio::test]
async fn an_incident_walks_every_stage_to_a_witnessed_close() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let auditor = app.login("auditor").await;

    // The form: times as datetime-local, the affected items as checkboxes.
    let r = staff.get("/incidents/new").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    for want in [
        "type=\"datetime-local\"",
        "伊万里保健福祉事務所",
        "jk-hfk-imari01",
        "RT-伊万里",
        "電話連絡",
        "name=\"site_ids\"",
        "name=\"node_ids\"",
    ] {
        assert!(html.contains(want), "{want} missing");
    }
    assert!(!html.contains("style="), "no inline styles");
    // An empty form: the Japanese errors, 422.
    let r = staff.post_form("/incidents", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("件名を入力してください"), "{html}");
    assert!(html.contains("重大度を選択してください"));
    assert!(html.contains("id=\"error-summary\""));
    // The auditor may not report.
    assert_eq!(
        auditor.get("/incidents/new").await.status,
        StatusCode::FORBIDDEN
    );
    let r = report(&auditor, &w, "監査による報告").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // 受付.
    let id = id_from(
        &report(
            &staff,
            &w,
            "伊万里保健福祉事務所 端末が集約ネットワークに接続できない",
        )
        .await,
        "/incidents/",
    );
    let r = staff.get(&format!("/incidents/{id}?ok=saved")).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("保存しました"));
    assert!(html.contains("INC-R"), "number shown");
    assert!(html.contains("受付"));
    assert!(html.contains("令和"), "times in 和暦");
    assert!(
        html.contains("現在の段階では、この役割で行える段階の操作はありません。"),
        "staff cannot investigate"
    );
    // The list shows it, open, with its age.
    let html = staff.get("/incidents").await.text();
    assert!(html.contains("伊万里保健福祉事務所 端末が集約ネットワークに接続できない"));
    assert!(html.contains("経過"));

    // 原因調査, a finding linked to the first work entry.
    let html = se.get(&format!("/incidents/{id}")).await.text();
    assert!(
        html.contains("transition-investigate"),
        "se may investigate"
    );
    let t = at(&w, 15);
    let r = act(&se, id, &[("action", "investigate"), ("at", &t)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(stage_of(&app, id).await, "investigating");
    let (t, work0) = (at(&w, 60), w.work[0].to_string());
    let r = se
        .post_form(
            &format!("/incidents/{id}/entries"),
            &[
                ("kind", "finding"),
                ("at", &t),
                (
                    "text",
                    "端末→RT-伊万里は応答なし、RT-伊万里→県庁は正常。拠点内の障害と切り分け。",
                ),
                ("work_entry_ids", &work0),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // 回避策 needs the workaround and the guidance: 422 and nothing changes.
    let t = at(&w, 70);
    let r = act(&se, id, &[("action", "workaround"), ("at", &t)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("回避策の内容を入力してください"), "{html}");
    assert!(html.contains("指導先（誰に指導したか）を入力してください"));
    assert!(html.contains("href=\"#guidance_to-workaround\""));
    assert_eq!(stage_of(&app, id).await, "investigating");
    let r = act(
        &se,
        id,
        &[
            ("action", "workaround"),
            ("at", &t),
            ("comment", "県庁の代表端末で代行照会する。"),
            ("guidance_to", "伊万里保健福祉事務所 総務課"),
            ("guidance", "照会依頼は電話で県庁 市町村課へ。"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(stage_of(&app, id).await, "workaround");

    // 復旧作業, 復旧確認 with the second work entry.
    let t = at(&w, 200);
    let r = act(&se, id, &[("action", "start_recovery"), ("at", &t)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let (t, work1) = (at(&w, 300), w.work[1].to_string());
    let r = act(
        &se,
        id,
        &[
            ("action", "recover"),
            ("at", &t),
            ("comment", "予備ポートへ接続を変更して復旧。"),
            ("work_entry_ids", &work1),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(stage_of(&app, id).await, "recovered");
    let html = se.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("id=\"witness-missing\""));
    assert!(html.contains("transition-close"), "close is offered");
    assert!(
        !html.contains("id=\"witness-form\""),
        "the SE does not record the witness"
    );

    // Closing without a witness: 409 with the domain's message, and nothing changed.
    let before = app
        .store()
        .incident(id, Utc::now())
        .await
        .expect("incident");
    let audits = audit_count(&app).await;
    let r = act(&se, id, &[("action", "close")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let html = r.text();
    assert!(html.contains(WITNESS_REQUIRED_MESSAGE), "{html}");
    assert!(html.contains("id=\"refusal\""));
    let after = app
        .store()
        .incident(id, Utc::now())
        .await
        .expect("incident");
    assert_eq!(after.incident.stage, "recovered");
    assert_eq!(after.incident.closed_at, None);
    assert_eq!(after.incident.updated_at, before.incident.updated_at);
    assert_eq!(after.entries.len(), before.entries.len());
    assert_eq!(audit_count(&app).await, audits);

    // The SE may not record the witness; staff must give all four fields.
    let r = se
        .post_form(
            &format!("/incidents/{id}/witness"),
            &[
                ("witness_name", "保守 技郎"),
                ("witness_org", "受託者"),
                ("witnessed_at", &at(&w, 310)),
                ("remark", "確認"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("id=\"witness-form\""), "staff see the form");
    let r = staff
        .post_form(&format!("/incidents/{id}/witness"), &[("witnessed_at", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    for want in [
        "立会者の氏名を入力してください",
        "立会者の所属を入力してください",
        "立会日時を入力してください",
        "所見を入力してください",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
    let t = at(&w, 310);
    // A valid witness first shows what will be recorded; nothing is recorded until confirmed.
    let r = staff
        .post_form(
            &format!("/incidents/{id}/witness"),
            &[
                ("witness_name", "有田 健一"),
                ("witness_org", "伊万里保健福祉事務所 総務課"),
                ("witnessed_at", &t),
                ("remark", "照会・更新とも正常に動作することを確認した。"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains("この内容で復旧の立会いを記録します。"),
        "{html}"
    );
    assert!(
        html.contains("有田 健一") && html.contains("name=\"confirmed\" value=\"1\""),
        "{html}"
    );
    assert!(
        !staff
            .get(&format!("/incidents/{id}"))
            .await
            .text()
            .contains("id=\"witness-ok\""),
        "not recorded before the confirmation"
    );
    let r = staff
        .post_form(
            &format!("/incidents/{id}/witness"),
            &[
                ("witness_name", "有田 健一"),
                ("witness_org", "伊万里保健福祉事務所 総務課"),
                ("witnessed_at", &t),
                ("remark", "照会・更新とも正常に動作することを確認した。"),
                ("confirmed", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // 完了.
    let t = at(&w, 320);
    let r = act(&staff, id, &[("action", "close"), ("at", &t)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(stage_of(&app, id).await, "closed");
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    let start = html.find("id=\"timeline\"").expect("timeline");
    let end = html[start..].find("</table>").expect("end") + start;
    let timeline = &html[start..end];
    for want in [
        "受付 → 原因調査",
        "原因調査 → 回避策",
        "回避策 → 復旧作業",
        "復旧作業 → 復旧確認",
        "復旧確認 → 完了",
        "調査所見",
        "伊万里保健福祉事務所 総務課",
        "照会依頼は電話で県庁 市町村課へ。",
        "有田 健一",
        "照会・更新とも正常に動作することを確認した。",
        &format!("href=\"/work/{}\"", w.work[0]),
        &format!("href=\"/work/{}\"", w.work[1]),
    ] {
        assert!(timeline.contains(want), "{want} missing in the timeline");
    }
    // MTTA 10 min (認知 +5 → 初動 +15), MTTR 5 h (発生 → 復旧 +300).
    assert!(html.contains("10分"), "MTTA");
    assert!(html.contains("5時間00分"), "MTTR");
    assert!(html.contains("作業時間の合計"));
    assert!(!html.contains("style="));

    // The list filters by stage.
    let html = staff.get("/incidents?stage=closed").await.text();
    assert!(html.contains("伊万里保健福祉事務所 端末が集約ネットワークに接続できない"));
    let html = staff.get("/incidents?open=1").await.text();
    assert!(!html.contains("伊万里保健福祉事務所 端末が集約ネットワークに接続できない"));
    let html = staff
        .get(&format!("/incidents?site_id={}&severity=high", w.site))
        .await
        .text();
    assert!(html.contains("伊万里保健福祉事務所 端末が集約ネットワークに接続できない"));
    let html = staff.get("/incidents?severity=low").await.text();
    assert!(!html.contains("伊万里保健福祉事務所 端末が集約ネットワークに接続できない"));
}

#[tokio::test]
async fn reopening_needs_a_reason_and_a_new_witness() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = to_closed(&app, &w, "再開する障害").await;
    let staff = app.login("staff").await;
    let auditor = app.login("auditor").await;
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("transition-reopen"));
    let r = act(&auditor, id, &[("action", "reopen"), ("comment", "再発")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = act(&staff, id, &[("action", "reopen")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("再開の理由を入力してください"));
    assert_eq!(stage_of(&app, id).await, "closed");
    let r = act(
        &staff,
        id,
        &[("action", "reopen"), ("comment", "同じ症状が再発した。")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let row = app.store().incident_row(id, Utc::now()).await.expect("row");
    assert_eq!(row.stage, "investigating");
    assert_eq!(row.reopen_count, 1);
    assert!(!row.witnessed());
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("incident.reopen".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.total, 1);
    assert!(log.items[0].details.contains("同じ症状が再発した。"));
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("再開回数"));
    assert!(html.contains("同じ症状が再発した。"));
}

#[tokio::test]
async fn the_incident_report_downloads_and_is_audited() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = to_closed(&app, &w, "報告書を出力する障害").await;
    let auditor = app.login("auditor").await;
    let html = auditor.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("障害報告書（Excel）"));
    assert!(html.contains(&format!("href=\"/incidents/{id}/report.xlsx\"")));
    let r = auditor.get(&format!("/incidents/{id}/report.xlsx")).await;
    assert_eq!(r.status, StatusCode::OK);
    let ct = r.headers["content-type"].to_str().expect("ct");
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let cd = r.headers["content-disposition"].to_str().expect("cd");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename=\"incident_report_INC-R"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E9%9A%9C%E5%AE%B3%E5%A0%B1%E5%91%8A%E6%9B%B8_INC-R"),
        "{cd}"
    );
    // The report engine's workbook: a sheet per section, the title on the first.
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.body)).expect("valid xlsx");
    assert_eq!(wb.sheet_names().first().map(String::as_str), Some("概要"));
    let mut cells: Vec<String> = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        cells.extend(range.rows().flat_map(|r| r.iter().map(|c| c.to_string())));
    }
    for want in [
        "障害報告書",
        "報告書を出力する障害",
        "有田 健一",
        "伊万里保健福祉事務所 総務課",
        "7. 復旧の確認（立会い）",
    ] {
        assert!(cells.iter().any(|c| c.contains(want)), "{want}");
    }
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.incident_report".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "auditor");
    assert_eq!(log.items[0].entity_id, id.to_string());
    // An unknown incident is 404, and nothing is audited.
    assert_eq!(
        auditor.get("/incidents/999999/report.xlsx").await.status,
        StatusCode::NOT_FOUND
    );
}

/// The same report as PDF: linked next to the Excel one, served as a real PDF with a Japanese file name,
/// audited with its format, size and SHA-256; refused without a session, with nothing audited.
#[tokio::test]
async fn the_incident_report_pdf_downloads_and_is_audited() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = to_closed(&app, &w, "報告書をPDFで出力する障害").await;
    let exports = || async {
        app.store()
            .audit_log(&AuditQuery {
                action: Some("export.incident_report".into()),
                ..Default::default()
            })
            .await
            .expect("audit")
    };

    // Every role may read incidents, so only a missing session is refused: to the login page.
    let r = app
        .anonymous()
        .get(&format!("/incidents/{id}/report.pdf"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());
    assert_eq!(exports().await.total, 0, "a refused export writes nothing");

    let auditor = app.login("auditor").await;
    let html = auditor.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("障害報告書（PDF）"));
    assert!(html.contains(&format!("href=\"/incidents/{id}/report.pdf\"")));
    assert!(html.contains(&format!("href=\"/incidents/{id}/report.xlsx\"")));
    let r = auditor.get(&format!("/incidents/{id}/report.pdf")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-type"].to_str().expect("ct"),
        "application/pdf"
    );
    assert!(r.body.starts_with(b"%PDF-"));
    let cd = r.headers["content-disposition"].to_str().expect("cd");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename=\"incident_report_INC-R"), "{cd}");
    assert!(cd.contains(".pdf\""), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E9%9A%9C%E5%AE%B3%E5%A0%B1%E5%91%8A%E6%9B%B8_INC-R"),
        "{cd}"
    );
    let log = exports().await;
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "auditor");
    assert_eq!(log.items[0].entity_id, id.to_string());
    let details: serde_json::Value = serde_json::from_str(&log.items[0].details).expect("json");
    assert_eq!(details["format"], "pdf");
    assert_eq!(
        details["sha256"].as_str().expect("sha256"),
        unyo_documents::sha256_hex(&r.body)
    );
    assert_eq!(
        auditor.get("/incidents/999999/report.pdf").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(exports().await.total, 1);
}

#[tokio::test]
async fn a_known_error_from_a_closed_incident() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let staff = app.login("staff").await;
    let se = app.login("se").await;
    let open = to_recovered(&app, &w, "まだ完了していない障害").await;
    let r = se
        .post_form(&format!("/incidents/{open}/known-error"), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text()
            .contains("既知の障害は完了した障害からのみ作成できます。")
    );

    let id = to_closed(&app, &w, "定義ファイル更新後に端末が再起動を繰り返す").await;
    let html = se.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains("既知の障害として登録"));
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    assert!(
        !html.contains("既知の障害として登録"),
        "staff may not manage known errors"
    );
    let r = staff
        .post_form(&format!("/incidents/{id}/known-error"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = se
        .post_form(&format!("/incidents/{id}/known-error"), &[])
        .await;
    let k = id_from(&r, "/known-errors/");
    let html = se.get(&format!("/known-errors/{k}?ok=saved")).await.text();
    assert!(html.contains("KE-0001"));
    assert!(html.contains("定義ファイル更新後に端末が再起動を繰り返す"));
    assert!(
        html.contains("予備ポートへ接続を変更して復旧"),
        "workaround drafted"
    );
    assert!(html.contains(&format!("href=\"/incidents/{id}\"")));
    // The library finds it by a word of its symptoms.
    let html = staff.get("/known-errors?q=照会").await.text();
    assert!(html.contains("KE-0001"), "{html}");
    let html = staff.get("/known-errors?q=存在しない語").await.text();
    assert!(!html.contains("KE-0001"));
    // The incident links to it.
    let html = staff.get(&format!("/incidents/{id}")).await.text();
    assert!(html.contains(&format!("href=\"/known-errors/{k}\"")));

    // By hand: staff may not, se may; the form validates.
    assert_eq!(
        staff.get("/known-errors/new").await.status,
        StatusCode::FORBIDDEN
    );
    let r = se
        .post_form(
            "/known-errors",
            &[("title", "業務アプリ起動時に証明書エラー")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("症状を入力してください"));
    assert!(html.contains("原因と回避策・対処の少なくとも一方を入力してください"));
    let r = se
        .post_form(
            "/known-errors",
            &[
                ("title", "業務アプリ起動時に証明書エラー"),
                (
                    "symptoms",
                    "業務アプリの起動時に証明書の有効期限切れの警告が出る。",
                ),
                ("workaround", "端末の日時を確認し、時刻同期を実行する。"),
            ],
        )
        .await;
    let k2 = id_from(&r, "/known-errors/");
    let html = staff.get("/known-errors").await.text();
    assert!(html.contains("KE-0002") && html.contains("KE-0001"));
    // An open incident may be resolved by it.
    let r = se
        .post_form(
            &format!("/incidents/{open}/resolve"),
            &[("known_error_id", &k2.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = se.get(&format!("/incidents/{open}")).await.text();
    assert!(html.contains("既知の障害の対処により解決"));
}

#[tokio::test]
async fn the_figures_page_has_a_table_and_an_svg_chart() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    to_closed(&app, &w, "統計に数える障害").await;
    let staff = app.login("staff").await;
    let r = staff.get("/incidents/stats").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    let fy = FiscalYear::containing(to_jst(w.t0).date());
    assert!(html.contains(&fy.label()), "{}", fy.label());
    assert!(html.contains("<svg"), "a chart");
    assert!(html.contains("role=\"img\""));
    assert!(html.contains("<title>"));
    assert!(html.contains("id=\"by-month\""));
    assert!(html.contains("伊万里保健福祉事務所"), "by site");
    assert!(html.contains("5時間00分"), "MTTR of the one incident");
    // Where the incidents stand, in three parts that add up to the count (not 未完了 beside 復旧).
    for label in unyo_domain::incident::PROGRESS_LABELS {
        assert!(html.contains(label), "{label}");
    }
    assert!(!html.contains("うち未完了"));
    assert!(!html.contains("<script"));
    let r = staff
        .get(&format!("/incidents/stats?fy={}", fy.0 - 1))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("この年度の障害はありません。"));
}
