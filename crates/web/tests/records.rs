//! The 業務実績簿 and 審議会資料 pages through the real router (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): the month list, the draft preview and its audited downloads, submission, the
//! frozen versions served byte-identical with their SHA-256, changes since submission, send back and
//! resubmit, confirmation, the annual pack, and who may do what.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use sha2::{Digest, Sha256};
use unyo_domain::registry::SiteInput;
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;
use unyo_store::records::RecordFile;

struct World {
    contract: i64,
    site: i64,
    se: i64,
}

async fn world(app: &TestApp) -> World {
    let sys = Actor::system("test");
    let store = app.store();
    let se = store.user_by_name("se").await.unwrap().unwrap().id;
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
                staff_ids: vec![se],
            },
        )
        .await
        .expect("contract")
        .id;
    let site = store
        .create_site(
            &sys,
            &SiteInput {
                code: "KENCHO".into(),
                name: "県庁".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site")
        .id;
    let w = World { contract, site, se };
    let se_actor = store
        .user_by_name("se")
        .await
        .unwrap()
        .unwrap()
        .actor("test");
    for (date, start, end, what) in [
        ("2026-05-12", "09:00", "10:30", "代表端末の定期点検"),
        (
            "2026-05-20",
            "13:00",
            "14:00",
            "業務端末のウイルス定義ファイル更新の確認",
        ),
    ] {
        store
            .create_work_entry(&se_actor, &work(&w, date, start, end, what))
            .await
            .expect("work");
    }
    w
}

fn work(w: &World, date: &str, start: &str, end: &str, what: &str) -> WorkInput {
    WorkInput {
        contract_id: Some(w.contract),
        work_date: date.into(),
        start_time: start.into(),
        end_time: end.into(),
        worker_ids: vec![w.se],
        mode: "onsite".into(),
        site_id: Some(w.site),
        category: "technical_support".into(),
        description: what.into(),
        result: "異常なし".into(),
        ..Default::default()
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn header_of(r: &common::Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    app.store()
        .audit_export(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_role_sees_the_months_and_the_draft() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for role in ["admin", "staff", "se", "auditor"] {
        let c = app.login(role).await;
        let r = c
            .get(&format!("/records?contract_id={}&fy=2026", w.contract))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{role}");
        let html = r.text();
        assert!(html.contains("令和8年5月"), "{role}");
        assert!(html.contains("作成中"), "{role}");
        assert!(html.contains("/records/annual?contract_id="), "{role}");
        assert_eq!(
            html.contains("/records/settings"),
            role == "admin",
            "{role}"
        );

        let r = c
            .get(&format!(
                "/records/monthly?contract_id={}&month=2026-05",
                w.contract
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{role}");
        let html = r.text();
        assert!(html.contains("業務実績簿"));
        assert!(html.contains("代表端末の定期点検"));
        assert!(html.contains("2件"), "two entries");
        assert!(html.contains("2.50時間"), "2.5 hours");
        assert!(html.contains("1. 作業実績"));
        assert_eq!(
            html.contains("id=\"submit-open\""),
            matches!(role, "admin" | "se"),
            "{role}: only the SE side submits"
        );
    }
    // The navigation names the page.
    let html = app.login("staff").await.get("/").await.text();
    assert!(html.contains("href=\"/records\""));
    assert!(html.contains("業務実績簿"));
}

#[tokio::test]
async fn draft_files_download_and_are_audited() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let c = app.login("auditor").await;
    let q = format!("contract_id={}&month=2026-05", w.contract);
    let pdf = c.get(&format!("/records/monthly.pdf?{q}")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(header_of(&pdf, "content-type"), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let cd = header_of(&pdf, "content-disposition");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("monthly_record_2026-05_draft.pdf"), "{cd}");
    assert_eq!(header_of(&pdf, "cache-control"), "no-store");
    let xlsx = c.get(&format!("/records/monthly.xlsx?{q}")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
    assert_eq!(audit_count(&app, "export.monthly_record").await, 2);

    // Bad parameters.
    assert_eq!(
        c.get("/records/monthly?contract_id=x&month=2026-05")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.get(&format!(
            "/records/monthly?contract_id={}&month=13",
            w.contract
        ))
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.get("/records/monthly?contract_id=999&month=2026-05")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Outside the contract's term: refused with the reason.
    let r = c
        .get(&format!(
            "/records/monthly?contract_id={}&month=2026-03",
            w.contract
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("契約期間の外"));
}

async fn submit(c: &Client, w: &World) -> common::Resp {
    c.post_form(
        "/records/monthly/submit",
        &[
            ("contract_id", &w.contract.to_string()),
            ("month", "2026-05"),
        ],
    )
    .await
}

fn record_id(location: &str) -> i64 {
    location
        .trim_start_matches("/records/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn submit_change_return_resubmit_confirm() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    let staff = app.login("staff").await;
    let auditor = app.login("auditor").await;

    // Neither the prefecture staff nor the auditor submits; a form without the CSRF token is refused.
    for c in [&staff, &auditor] {
        assert_eq!(submit(c, &w).await.status, StatusCode::FORBIDDEN);
    }
    let forged = se
        .post_form(
            "/records/monthly/submit",
            &[
                ("_csrf", "forged"),
                ("contract_id", &w.contract.to_string()),
                ("month", "2026-05"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let r = submit(&se, &w).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = record_id(&r.location());
    assert!(r.location().ends_with("?ok=submitted"));
    let rec = app.store().monthly_record(id).await.unwrap();
    let v1 = rec.latest().unwrap().clone();

    let page = auditor.get(&format!("/records/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("提出済"));
    assert!(html.contains("第1版"));
    assert!(html.contains(&v1.pdf_sha256));
    assert!(html.contains(&v1.xlsx_sha256));
    assert!(html.contains("id=\"no-changes\""));
    assert!(
        !html.contains("id=\"confirm-open\""),
        "the auditor decides nothing"
    );

    // The frozen files, byte-identical, with their digest, audited.
    let before = audit_count(&app, "record.download").await;
    let pdf = auditor.get(&format!("/records/{id}/versions/1.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(sha(&pdf.body), v1.pdf_sha256);
    let (_, stored) = app
        .store()
        .record_file(&Actor::system("test"), id, 1, RecordFile::Pdf)
        .await
        .unwrap();
    assert_eq!(pdf.body, stored);
    assert!(header_of(&pdf, "repr-digest").starts_with("sha-256=:"));
    assert!(header_of(&pdf, "content-disposition").contains("monthly_record_2026-05_v1.pdf"));
    let xlsx = staff.get(&format!("/records/{id}/versions/1.xlsx")).await;
    assert_eq!(sha(&xlsx.body), v1.xlsx_sha256);
    assert_eq!(audit_count(&app, "record.download").await, before + 3);
    assert_eq!(
        auditor
            .get(&format!("/records/{id}/versions/1.doc"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        auditor
            .get(&format!("/records/{id}/versions/9.pdf"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        auditor.get("/records/999").await.status,
        StatusCode::NOT_FOUND
    );

    // A May entry changes: the record says so, the file does not change.
    let entry = app
        .store()
        .work_entries_all(&unyo_store::support::WorkQuery {
            contract_id: Some(w.contract),
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let se_actor = app
        .store()
        .user_by_name("se")
        .await
        .unwrap()
        .unwrap()
        .actor("test");
    let mut edit = work(&w, "2026-05-12", "09:00", "11:00", "代表端末の定期点検");
    edit.result = "異常なし（再点検）".into();
    app.store()
        .update_work_entry(&se_actor, entry.id, &edit)
        .await
        .unwrap();
    let html = staff.get(&format!("/records/{id}")).await.text();
    assert!(html.contains("id=\"changed\""));
    assert!(html.contains("提出後に変更あり"));
    assert!(html.contains("異常なし（再点検）"));
    assert!(html.contains("09:00～10:30"));
    assert!(html.contains("09:00～11:00"));
    let again = auditor.get(&format!("/records/{id}/versions/1.pdf")).await;
    assert_eq!(again.body, pdf.body);

    // The SE cannot decide; a return needs a reason.
    assert_eq!(
        se.post_form(&format!("/records/{id}/confirm"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        auditor
            .post_form(&format!("/records/{id}/return"), &[("reason", "x")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = staff
        .post_form(&format!("/records/{id}/return"), &[("reason", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("差戻しの理由を入力してください。"));
    let r = staff
        .post_form(
            &format!("/records/{id}/return"),
            &[("reason", "5月12日の作業時間を修正してください。")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = se.get(&format!("/records/{id}?ok=returned")).await.text();
    assert!(html.contains("差戻し"));
    assert!(html.contains("5月12日の作業時間を修正してください。"));

    // 第2版.
    let r = submit(&se, &w).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(record_id(&r.location()), id);
    let html = staff.get(&format!("/records/{id}")).await.text();
    assert!(html.contains("第2版"));
    assert!(html.contains("id=\"no-changes\""));
    assert!(html.contains("id=\"confirm-open\""));
    // Resubmitting while it awaits the prefecture is refused with the reason.
    let r = submit(&se, &w).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("確認待ち"));

    // 確認.
    let r = staff
        .post_form(&format!("/records/{id}/confirm"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = auditor.get(&format!("/records/{id}")).await.text();
    assert!(html.contains("確認済"));
    assert!(html.contains("staff さん"), "the confirmer's name");
    let list = auditor
        .get(&format!("/records?contract_id={}&fy=2026", w.contract))
        .await
        .text();
    assert!(list.contains("確認済"));
    assert!(list.contains(&format!("/records/{id}")));
    assert_eq!(
        staff
            .post_form(&format!("/records/{id}/confirm"), &[])
            .await
            .status,
        StatusCode::CONFLICT
    );
    for action in ["record.submit", "record.return", "record.confirm"] {
        assert!(audit_count(&app, action).await >= 1, "{action}");
    }
}

/// Every id in the page is unique, and each chart's `aria-labelledby` names its own `<title>` and
/// `<desc>` (several charts share the annual pack's page).
fn charts_name_themselves(html: &str) {
    let ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "repeated ids: {ids:?}");
    let charts: Vec<&str> = html
        .split("<svg ")
        .skip(1)
        .map(|s| &s[..s.find("</svg>").expect("closed")])
        .collect();
    assert!(charts.len() >= 2, "the pack has several charts");
    for svg in charts {
        let labelledby = svg
            .split("aria-labelledby=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("labelled");
        let refs: Vec<&str> = labelledby.split(' ').collect();
        assert_eq!(refs.len(), 2, "{labelledby}");
        assert!(
            svg.contains(&format!("<title id=\"{}\">", refs[0])),
            "{} is this chart's title",
            refs[0]
        );
        assert!(
            svg.contains(&format!("<desc id=\"{}\">", refs[1])),
            "{} is this chart's description",
            refs[1]
        );
    }
}

#[tokio::test]
async fn the_annual_pack_and_the_addressee() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let auditor = app.login("auditor").await;
    let q = format!("contract_id={}&fy=2026", w.contract);
    let r = auditor.get(&format!("/records/annual?{q}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("本人確認情報保護審議会資料"));
    assert!(html.contains("令和8年度"));
    assert!(html.contains("1. 運用の概要"));
    assert!(html.contains("該当なし（監視未導入）"));
    assert!(html.contains("<svg"), "charts inline");
    charts_name_themselves(&html);
    let pdf = auditor.get(&format!("/records/annual.pdf?{q}")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));
    let xlsx = auditor.get(&format!("/records/annual.xlsx?{q}")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(
        header_of(&xlsx, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(audit_count(&app, "export.annual_pack").await, 2);
    assert_eq!(
        auditor
            .get(&format!("/records/annual?contract_id={}&fy=x", w.contract))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // The addressee: the administrator only.
    let se = app.login("se").await;
    assert_eq!(
        se.post_form(
            "/records/settings",
            &[("addressee", "佐賀県 市町村課長　様")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/records/settings",
            &[("addressee", "佐賀県 市町村課長　様")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store().record_addressee().await.unwrap(),
        "佐賀県 市町村課長　様"
    );
    let html = admin.get("/records?ok=addressee").await.text();
    assert!(html.contains("宛先を保存しました。"));
    let preview = auditor
        .get(&format!(
            "/records/monthly?contract_id={}&month=2026-05",
            w.contract
        ))
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text().contains("佐賀県 市町村課長　様"));
}
