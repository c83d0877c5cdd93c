//! The erasure register through the real router (SQLite, or PostgreSQL with `TEST_DATABASE_URL`): the SE
//! records an erasure on the page, its 消去証明書 is frozen and downloads byte-identical from the page and
//! the API; the auditor reads but cannot record; the administrator's ZIP holds the full export; the
//! contract-close checklist refuses to close until its items are done or waived.

mod common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};

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

fn form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("scope", "provided_medium"),
        ("medium", "USBメモリ"),
        ("identifier", "SN-20260325"),
        ("capacity", "32GB"),
        ("target", "県から借用した端末一覧の複製"),
        ("method", "purge"),
        ("tool", "暗号化ボリュームの鍵破棄"),
        ("tool_version", "1.0"),
        ("performed_at", "2026-03-25T10:00"),
        ("operator", "運用 太郎"),
        ("witness", "県 花子"),
        ("verification_method", "ボリュームを開けないことを確認"),
        ("verified", "on"),
        ("verification_result", "鍵がなく開けない"),
    ]
}

async fn record_one(se: &Client) {
    let r = se.post_form("/erasures", &form()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), "/erasures?ok=created");
}

#[tokio::test]
async fn an_erasure_is_recorded_and_its_certificate_downloads_the_same_everywhere() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let page = se.get("/erasures").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("消去を記録する"));
    assert!(
        !page.text().contains("export.zip"),
        "only the admin exports"
    );

    // A witness who is the operator is refused, naming why.
    let mut same = form();
    same.retain(|(k, _)| *k != "witness");
    same.push(("witness", "運用 太郎"));
    let r = se.post_form("/erasures", &same).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("立会者は作業者と別の人"));

    record_one(&se).await;
    let list = se.get("/erasures").await.text();
    assert!(list.contains("SN-20260325"));
    let pdf = se.get("/erasures/1/certificate.pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));
    let xlsx = se.get("/erasures/1/certificate.xlsx").await;
    assert!(xlsx.body.starts_with(b"PK"));

    let auditor = app.login("auditor").await;
    let r = auditor.post_form("/erasures", &form()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let again = auditor.get("/erasures/1/certificate.pdf").await;
    assert_eq!(again.body, pdf.body, "the frozen certificate never changes");

    let t = token(&app, "auditor").await;
    let api = app.anonymous();
    let listed = api.api("GET", "/api/v1/erasures", &t, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let item = &listed.json()["items"][0];
    let sha = hex::encode(Sha256::digest(&pdf.body));
    assert_eq!(item["certificate_pdf_sha256"], json!(sha));
    let file = api
        .api("GET", "/api/v1/erasures/1/certificate.pdf", &t, None)
        .await;
    assert_eq!(file.body, pdf.body);

    let se_token = token(&app, "se").await;
    let mut body = serde_json::Map::new();
    for (k, v) in form() {
        body.insert(k.into(), json!(v));
    }
    body.insert("verified".into(), json!(true));
    body.insert("method".into(), json!("destroy"));
    let created = api
        .api(
            "POST",
            "/api/v1/erasures",
            &se_token,
            Some(serde_json::Value::Object(body)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert!(created.json()["certificate_pdf_sha256"].is_string());
    let refused = api
        .api("POST", "/api/v1/erasures", &t, Some(json!({"scope": "x"})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_admin_downloads_the_full_export_as_a_zip() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    assert!(
        admin
            .get("/erasures")
            .await
            .text()
            .contains("/erasures/export.zip")
    );
    let zip = admin.get("/erasures/export.zip").await;
    assert_eq!(zip.status, StatusCode::OK);
    assert!(zip.body.starts_with(b"PK"));
    let names = {
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip.body.clone())).expect("zip");
        (0..a.len())
            .map(|i| {
                a.by_index(i)
                    .expect("entry")
                    .name()
                    .expect("name")
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    for want in [
        "SHA256SUMS",
        "manifest.json",
        "README.txt",
        "tables/users.jsonl",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(want)),
            "{want} in {names:?}"
        );
    }
    let se = app.login("se").await;
    assert_eq!(
        se.get("/erasures/export.zip").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_contract_is_closed_from_its_checklist() {
    use unyo_domain::support::ContractInput;
    let app = TestApp::new().await;
    let sys = unyo_store::Actor::system("test");
    let c = app
        .store()
        .create_contract(
            &sys,
            &ContractInput {
                name: "運用支援業務".into(),
                number: "R8-001".into(),
                term_start: "2026-04-01".into(),
                term_end: "2027-03-31".into(),
                contractor: "受託者".into(),
                manager: "運用 太郎".into(),
                staff_ids: vec![],
            },
        )
        .await
        .expect("contract");
    let staff = app.login("staff").await;
    let path = format!("/contracts/{}/close", c.id);
    let page = staff.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("全データのエクスポートを引き渡した"));
    let r = staff.post_form(&path, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("完了または免除されていない項目"));
    for item in ["export_handed_over", "erasure_done"] {
        let r = staff
            .post_form(
                &format!("{path}/items"),
                &[
                    ("item", item),
                    ("state", "waived"),
                    ("reason", "県の判断で免除"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    // Closing asks first (#16): the page says what will happen and nothing changes yet.
    let r = staff.post_form(&path, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("id=\"confirm-step\""), "{}", r.text());
    assert!(
        app.store()
            .contract_checklist(&unyo_store::Actor::system("test"), c.id)
            .await
            .unwrap()
            .closed
            .is_none()
    );
    let r = staff.post_form(&path, &[("confirmed", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        staff
            .get(&path)
            .await
            .text()
            .contains("この契約は終了しました")
    );
    let se = app.login("se").await;
    assert_eq!(
        se.post_form(
            &format!("{path}/items"),
            &[
                ("item", "erasure_done"),
                ("state", "waived"),
                ("reason", "x")
            ]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}
