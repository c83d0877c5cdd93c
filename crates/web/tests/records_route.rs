//! The prefecture's approval route of the 業務実績簿 through the real router (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): 提出 and 確認 ask first on a page of their own; each step of 担当 → 係長 → 課長
//! freezes a version with its column filled (the PDF's text says so); the month page shows the latest
//! frozen version, labelled, instead of a draft; a send-back at a step returns the record to the SE; and
//! `GET /api/v1/monthly-records` with its version downloads.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use sha2::{Digest, Sha256};
use std::process::Command;
use unyo_domain::Role;
use unyo_domain::records::RouteStep;
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_store::Actor;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The PDF's text with white space removed, or `None` when `pdftotext` is not installed.
fn pdf_text(bytes: &[u8], name: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("unyo-route-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).ok()?;
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    })
}

struct World {
    contract: i64,
}

async fn world(app: &TestApp) -> World {
    let sys = Actor::system("test");
    let store = app.store();
    let se = store.user_by_name("se").await.unwrap().unwrap();
    let kakaricho = store
        .create_user(
            &sys,
            "kakaricho",
            "係長 佐賀",
            Role::Staff,
            "kakaricho-password",
        )
        .await
        .unwrap();
    store
        .create_user(&sys, "kacho", "課長 唐津", Role::Staff, "kacho-password")
        .await
        .unwrap();
    let contract = store
        .create_contract(
            &sys,
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "2026-04-01".into(),
                term_end: "2027-03-31".into(),
                contractor: "株式会社サンプル".into(),
                manager: "保守 太郎".into(),
                staff_ids: vec![se.id],
            },
        )
        .await
        .unwrap()
        .id;
    store
        .set_approval_route(
            &sys,
            contract,
            &[
                RouteStep::new("担当"),
                RouteStep {
                    label: "係長".into(),
                    user_id: Some(kakaricho.id),
                },
                RouteStep::new("課長"),
            ],
        )
        .await
        .unwrap();
    store
        .create_work_entry(
            &se.actor("test"),
            &WorkInput {
                contract_id: Some(contract),
                work_date: "2026-05-12".into(),
                start_time: "09:00".into(),
                end_time: "10:30".into(),
                worker_ids: vec![se.id],
                mode: "onsite".into(),
                site_id: None,
                terminal_ids: vec![],
                category: "technical_support".into(),
                clause: String::new(),
                description: "代表端末の定期点検".into(),
                result: "異常なし".into(),
                follow_up: String::new(),
                request_id: None,
            },
        )
        .await
        .unwrap();
    World { contract }
}

fn month_page(w: &World) -> String {
    format!("/records/monthly?contract_id={}&month=2026-05", w.contract)
}

/// Opens the confirmation page of the step that awaits, checks it says what will happen, and confirms.
async fn confirm_step(c: &Client, id: i64, step: &str, new_label: &str) {
    let page = c.get(&format!("/records/{id}/confirm")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains(&format!("確認欄「{step}」")), "{html}");
    assert!(html.contains(new_label), "{new_label}");
    assert!(html.contains("name=\"_csrf\""));
    assert!(
        !html.contains("<script"),
        "no script: the CSP forbids inline ones"
    );
    let r = c
        .post_form(&format!("/records/{id}/confirm"), &[("step", "9")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale step is refused");
    let n = match step {
        "担当" => "1",
        "係長" => "2",
        _ => "3",
    };
    let r = c
        .post_form(&format!("/records/{id}/confirm"), &[("step", n)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

#[tokio::test]
async fn the_route_fills_the_document_step_by_step() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    let tanto = app.login("staff").await;
    let kakaricho = app.login("kakaricho").await;
    let kacho = app.login("kacho").await;
    let auditor = app.login("auditor").await;

    // 提出 asks first: a page saying what will happen, whose form posts the submission.
    let html = se.get(&month_page(&w)).await.text();
    assert!(html.contains("id=\"draft\""));
    assert!(html.contains("/records/monthly/submit?contract_id="));
    let ask = se
        .get(&format!(
            "/records/monthly/submit?contract_id={}&month=2026-05",
            w.contract
        ))
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    let html = ask.text();
    assert!(html.contains("第1版（提出）"));
    assert!(html.contains("担当・係長・課長"));
    assert!(html.contains("action=\"/records/monthly/submit\""));
    assert_eq!(
        tanto
            .get(&format!(
                "/records/monthly/submit?contract_id={}&month=2026-05",
                w.contract
            ))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = se
        .post_form(
            "/records/monthly/submit",
            &[
                ("contract_id", &w.contract.to_string()),
                ("month", "2026-05"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id: i64 = r
        .location()
        .trim_start_matches("/records/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // The month page: no draft banner any more; the buttons download the frozen version, labelled.
    let html = auditor.get(&month_page(&w)).await.text();
    assert!(
        !html.contains("id=\"draft\""),
        "no draft banner once submitted"
    );
    assert!(!html.contains("下書き（未提出）"));
    assert!(html.contains("第1版（提出）"));
    assert!(html.contains(&format!("/records/{id}/versions/1.pdf")));

    // 担当 first; the 係長's step is then the 係長's only, and nobody fills two columns.
    confirm_step(&tanto, id, "担当", "第2版（担当確認済）").await;
    assert_eq!(
        kacho.get(&format!("/records/{id}/confirm")).await.status,
        StatusCode::CONFLICT,
        "the 係長's step is held by the 係長"
    );
    let html = tanto.get(&format!("/records/{id}")).await.text();
    assert!(
        !html.contains("id=\"confirm-open\""),
        "one column per person"
    );
    confirm_step(&kakaricho, id, "係長", "第3版（係長確認済）").await;

    // The month page and the record page show 第3版（係長確認済）, and its PDF shows both columns filled.
    let html = auditor.get(&month_page(&w)).await.text();
    assert!(html.contains("第3版（係長確認済）"), "labelled");
    assert!(html.contains(&format!("/records/{id}/versions/3.pdf")));
    assert!(!html.contains("id=\"draft\""));
    let html = auditor.get(&format!("/records/{id}")).await.text();
    assert!(html.contains("第3版（係長確認済）"));
    assert!(html.contains("staff さん") && html.contains("係長 佐賀"));
    let pdf = auditor.get(&format!("/records/{id}/versions/3.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    let rec = app.store().monthly_record(id).await.unwrap();
    assert_eq!(sha(&pdf.body), rec.latest().unwrap().pdf_sha256);
    if let Some(text) = pdf_text(&pdf.body, "v3.pdf") {
        assert!(text.contains("第3版（係長確認済）"), "{text}");
        assert!(text.contains("staffさん") && text.contains("係長佐賀"));
        assert!(!text.contains("課長唐津"));
    }

    // The 課長 sends back at step 3 with a reason: the record returns to the SE, whose page is a draft again.
    let r = kacho
        .post_form(
            &format!("/records/{id}/return"),
            &[
                ("step", "3"),
                ("reason", "協議記録の日付を確認してください。"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = se.get(&format!("/records/{id}")).await.text();
    assert!(html.contains("差戻し"));
    assert!(html.contains("協議記録の日付を確認してください。"));
    let html = se.get(&month_page(&w)).await.text();
    assert!(html.contains("id=\"draft\""));
    assert!(html.contains("id=\"submit-open\""));

    // The API: the list with the route's columns, and the latest version's files.
    let token = app
        .store()
        .create_api_token(
            &app.store()
                .user_by_name("auditor")
                .await
                .unwrap()
                .unwrap()
                .actor("test"),
            app.store()
                .user_by_name("auditor")
                .await
                .unwrap()
                .unwrap()
                .id,
            "test token",
        )
        .await
        .unwrap();
    let list = auditor
        .api(
            "GET",
            &format!(
                "/api/v1/monthly-records?contract_id={}&month=2026-05",
                w.contract
            ),
            &token,
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let v = list.json();
    let item = &v["items"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["status"], "returned");
    assert_eq!(item["version"], 3);
    assert_eq!(
        item["returned_reason"],
        "協議記録の日付を確認してください。"
    );
    assert_eq!(item["sha256"], rec.latest().unwrap().pdf_sha256);
    let steps: Vec<(&str, &str)> = item["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["step"].as_str().unwrap(),
                a["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [("担当", "staff さん"), ("係長", "係長 佐賀"), ("課長", "")]
    );
    let april = auditor
        .api(
            "GET",
            &format!(
                "/api/v1/monthly-records?contract_id={}&status=draft",
                w.contract
            ),
            &token,
            None,
        )
        .await
        .json();
    assert!(
        april["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "draft" && i["id"].is_null())
    );
    assert_eq!(
        auditor
            .api(
                "GET",
                "/api/v1/monthly-records?status=nonsense",
                &token,
                None
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let file = auditor
        .api(
            "GET",
            &format!("/api/v1/monthly-records/{id}/versions/3.pdf"),
            &token,
            None,
        )
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, pdf.body, "byte-identical");
    let xlsx = auditor
        .api(
            "GET",
            &format!("/api/v1/monthly-records/{id}/versions/3.xlsx"),
            &token,
            None,
        )
        .await;
    assert_eq!(sha(&xlsx.body), rec.latest().unwrap().xlsx_sha256);
    assert_eq!(
        auditor
            .api(
                "GET",
                &format!("/api/v1/monthly-records/{id}/versions/9.pdf"),
                &token,
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let doc = auditor.get("/api/v1/openapi.json").await.json();
    assert!(doc["paths"]["/monthly-records"]["get"].is_object());
    assert!(doc["paths"]["/monthly-records/{id}/versions/{file}"]["get"].is_object());

    // 第4版, then all three steps: 第7版（確認済）, the month page says so.
    let r = se
        .post_form(
            "/records/monthly/submit",
            &[
                ("contract_id", &w.contract.to_string()),
                ("month", "2026-05"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    confirm_step(&tanto, id, "担当", "第5版（担当確認済）").await;
    confirm_step(&kakaricho, id, "係長", "第6版（係長確認済）").await;
    confirm_step(&kacho, id, "課長", "第7版（確認済）").await;
    let html = auditor.get(&month_page(&w)).await.text();
    assert!(html.contains("確認済"));
    assert!(html.contains("第7版（確認済）"));
    assert!(!html.contains("id=\"draft\""));
    let pdf = auditor.get(&format!("/records/{id}/versions/7.pdf")).await;
    if let Some(text) = pdf_text(&pdf.body, "v7.pdf") {
        for name in ["staffさん", "係長佐賀", "課長唐津", "第7版（確認済）"] {
            assert!(text.contains(name), "{name}");
        }
    }
    assert!(
        header_has(&pdf, "content-disposition", "%E7%AC%AC7%E7%89%88"),
        "the file name carries the label"
    );
}

fn header_has(r: &common::Resp, name: &str, part: &str) -> bool {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(part))
}

async fn api_token(app: &TestApp, username: &str) -> String {
    let user = app.store().user_by_name(username).await.unwrap().unwrap();
    app.store()
        .create_api_token(&user.actor("test"), user.id, "test token")
        .await
        .unwrap()
}

/// The administrator sets the route on a page of the contract (and through the API); a holder
/// without a column name, a duplicate column and a holder who may not confirm are refused in
/// Japanese and change nothing; others see the route and cannot change it.
#[tokio::test]
async fn the_route_is_set_on_the_contract_and_through_the_api() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let kacho = app.store().user_by_name("kacho").await.unwrap().unwrap();
    let se = app.store().user_by_name("se").await.unwrap().unwrap();
    let admin = app.login("admin").await;
    let page = admin.get(&format!("/contracts/{}/route", w.contract)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("value=\"係長\""),
        "the current route is filled in"
    );
    assert!(html.contains("係長 佐賀"), "holders are offered");
    assert!(
        !html.contains("保守 技郎（SE）"),
        "an SE cannot hold a step"
    );

    let path = format!("/contracts/{}/route", w.contract);
    let kacho_id = kacho.id.to_string();
    let se_id = se.id.to_string();
    for (fields, message) in [
        (
            vec![("label_1", "担当"), ("holder_2", kacho_id.as_str())],
            "名称を入力してください",
        ),
        (vec![("label_1", "担当"), ("label_2", "担当")], "重複"),
        (
            vec![("label_1", "担当"), ("holder_1", se_id.as_str())],
            "確認できる県の利用者",
        ),
        (vec![("label_1", "担当\u{7}")], "確認欄の名称"),
    ] {
        let r = admin.post_form(&path, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.text().contains(message), "{fields:?}: {}", r.text());
        assert_eq!(
            app.store().approval_route(w.contract).await.unwrap().len(),
            3
        );
    }
    let r = admin
        .post_form(
            &path,
            &[
                ("label_1", "担当"),
                ("label_2", "課長"),
                ("holder_2", kacho_id.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let route = app.store().approval_route(w.contract).await.unwrap();
    assert_eq!(
        route,
        vec![
            RouteStep::new("担当"),
            RouteStep {
                label: "課長".into(),
                user_id: Some(kacho.id),
            }
        ]
    );
    let detail = admin
        .get(&format!("/contracts/{}", w.contract))
        .await
        .text();
    assert!(
        detail.contains("課長 唐津"),
        "the detail page shows the route"
    );

    // Staff read the route but cannot change it.
    let staff = app.login("staff").await;
    assert!(
        staff
            .get(&format!("/contracts/{}", w.contract))
            .await
            .text()
            .contains("課長 唐津")
    );
    assert_eq!(staff.get(&path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        staff.post_form(&path, &[("label_1", "担当")]).await.status,
        StatusCode::FORBIDDEN
    );

    // The API.
    let api_path = format!("/api/v1/contracts/{}/route", w.contract);
    let auditor = api_token(&app, "auditor").await;
    let r = admin.api("GET", &api_path, &auditor, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()[1]["label"], "課長");
    let r = admin
        .api(
            "PUT",
            &api_path,
            &auditor,
            Some(serde_json::json!({"steps": [{"label": "担当"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let token = api_token(&app, "admin").await;
    let r = admin
        .api(
            "PUT",
            &api_path,
            &token,
            Some(serde_json::json!({"steps": [{"label": "担当"}, {"label": "係長"}, {"label": "課長"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.store().approval_route(w.contract).await.unwrap().len(),
        3
    );
    let r = admin
        .api(
            "PUT",
            &api_path,
            &token,
            Some(serde_json::json!({"steps": []})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
}
