//! The vulnerability API through the router: feed freshness, records with their JVN/related text, findings with
//! their filters (terminal, status, cve, subject=unyo), and the CPE mapping table's confirm/correct, checked and
//! audited by the store.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;
use unyo_domain::inventory::{InventoryFormat, InventorySnapshot, OsInfo, Software};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_store::Actor;
use unyo_store::inventory::{InventorySource, Submitter};

fn samples() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vuln/tests/data"))
}

async fn token(app: &TestApp, name: &str) -> String {
    let user = app.store().user_by_name(name).await.unwrap().unwrap();
    app.store()
        .create_api_token(&user.actor("test"), user.id, "t")
        .await
        .unwrap()
}

#[tokio::test]
async fn vulnerability_api() {
    let app = TestApp::new().await;
    let sys = Actor::system("test");
    let s = app.store();
    let site = s
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
        .unwrap()
        .id;
    let t = s
        .create_terminal(
            &sys,
            &TerminalInput {
                site_id: Some(site),
                hostname: "jk-kencho-biz01".into(),
                kind: "business".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let mut snap = InventorySnapshot::empty(InventoryFormat::Fusion);
    snap.hostname = Some("jk-kencho-biz01".into());
    snap.os = OsInfo {
        name: Some("Windows".into()),
        full_name: Some("Microsoft Windows 10 Enterprise LTSC".into()),
        build: Some("10.0.19044.4355".into()),
        ..OsInfo::default()
    };
    snap.software = vec![Software {
        name: "7-Zip 24.06 (x64)".into(),
        version: Some("24.06".into()),
        publisher: Some("Igor Pavlov".into()),
        install_date: None,
        arch: None,
    }];
    s.store_inventory(
        &Submitter::Person(sys.clone()),
        &snap,
        &"0".repeat(64),
        1,
        InventorySource::File,
    )
    .await
    .unwrap();
    s.import_feed_path(&sys, &samples().join("nvd/nvdcve-2.0-sample.json"))
        .await
        .unwrap();
    s.import_feed_path(&sys, &samples().join("jvn"))
        .await
        .unwrap();
    s.rematch_vulnerabilities(&sys).await.unwrap();

    let auditor = token(&app, "auditor").await;
    let se = token(&app, "se").await;
    let c = app.anonymous();

    // Feeds: NVD imported (but old), OSV never: both stale; the refused JVN file is listed with its reason.
    let r = c.api("GET", "/api/v1/feeds", &auditor, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["feeds"].as_array().unwrap().len(), 4);
    assert!(
        j["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["stale"] == true)
    );
    assert!(j["imports"].as_array().unwrap().iter().any(|i| {
        i["status"] == "refused"
            && i["message"]
                .as_str()
                .unwrap()
                .contains("XML として読めません")
    }));

    let r = c
        .api(
            "GET",
            "/api/v1/vulnerabilities?feed=nvd&per_page=5",
            &auditor,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["total"], 20);
    let r = c
        .api(
            "GET",
            "/api/v1/vulnerabilities/JVNDB-2021-002774",
            &auditor,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json()["record"]["title_ja"]
            .as_str()
            .unwrap()
            .contains("ServerProtect")
    );
    let r = c
        .api(
            "GET",
            "/api/v1/vulnerabilities/CVE-1999-0000",
            &auditor,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Before the mapping is confirmed only the OS build is matched: 4355 < 4412 (CVE-2024-30051).
    let r = c
        .api(
            "GET",
            &format!("/api/v1/findings?terminal_id={t}"),
            &auditor,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["total"], 1, "{j}");
    assert_eq!(j["items"][0]["vulnerability_id"], "CVE-2024-30051");
    assert_eq!(j["items"][0]["status"], "open");
    let r = c
        .api("GET", "/api/v1/findings?subject=unyo", &auditor, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["subject"] == "unyo")
    );
    let r = c
        .api("GET", "/api/v1/findings?terminal_id=abc", &auditor, None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The mapping table: the auditor cannot confirm, a bad CPE is refused by field, the SE confirms.
    let r = c
        .api(
            "GET",
            "/api/v1/cpe-mappings?status=suggested",
            &auditor,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sample_name"], "7-Zip 24.06 (x64)");
    let id = items[0]["id"].as_i64().unwrap();
    let r = c
        .api(
            "POST",
            &format!("/api/v1/cpe-mappings/{id}/confirm"),
            &auditor,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .api(
            "POST",
            &format!("/api/v1/cpe-mappings/{id}/correct"),
            &se,
            Some(json!({"cpes": ["7zip"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "CPE");
    let r = c
        .api(
            "POST",
            &format!("/api/v1/cpe-mappings/{id}/correct"),
            &se,
            Some(json!({"cpes": "cpe:2.3:a:7-zip:7-zip"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = c
        .api(
            "POST",
            &format!("/api/v1/cpe-mappings/{id}/confirm"),
            &se,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "confirmed");
    assert_eq!(r.json()["confirmed_by"], "se");

    // Matching again finds 7-Zip 24.06 (CVE-2024-11477 < 24.07 and CVE-2025-0411 < 24.09).
    s.rematch_vulnerabilities(&sys).await.unwrap();
    let r = c
        .api(
            "GET",
            "/api/v1/findings?cve=CVE-2025-0411&status=open",
            &auditor,
            None,
        )
        .await;
    let j = r.json();
    assert_eq!(j["total"], 1, "{j}");
    assert_eq!(j["items"][0]["fixed_version"], "24.09");
    assert_eq!(j["items"][0]["hostname"], "jk-kencho-biz01");
    let fid = j["items"][0]["id"].as_i64().unwrap();
    let r = c
        .api("GET", &format!("/api/v1/findings/{fid}"), &auditor, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["events"][0]["to_status"], "open");

    // Every new path is in the OpenAPI document.
    let doc = c
        .api("GET", "/api/v1/openapi.json", &auditor, None)
        .await
        .json();
    for p in [
        "/feeds",
        "/vulnerabilities",
        "/vulnerabilities/{id}",
        "/findings",
        "/findings/{id}",
        "/cpe-mappings",
        "/cpe-mappings/{id}/confirm",
        "/cpe-mappings/{id}/correct",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
}

#[tokio::test]
async fn vulnerability_pages() {
    let app = TestApp::new().await;
    let se = app.login("se").await;
    let staff = app.login("staff").await;

    // Nothing imported yet: every feed is said to be stale, never "no vulnerabilities".
    let r = se.get("/vulnerabilities").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"stale-feeds\""), "{html}");
    assert!(html.contains("href=\"/vulnerabilities\" aria-current=\"page\""));

    // The staff cannot upload feeds; the SE can, and the malformed JVN file is refused with its reason.
    let nvd = std::fs::read(samples().join("nvd/nvdcve-2.0-sample.json")).unwrap();
    let r = staff
        .post_multipart(
            "/vulnerabilities/feeds",
            &[],
            ("file", "nvdcve-2.0-sample.json", &nvd),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = se
        .post_multipart(
            "/vulnerabilities/feeds",
            &[],
            ("file", "nvdcve-2.0-sample.json", &nvd),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("NVD 20 件（追加 20"), "{}", r.text());
    assert!(r.text().contains("id=\"matched\""));
    let bad = std::fs::read(samples().join("jvn/dataFeed_jvndb_rss_hnd.xml")).unwrap();
    let r = se
        .post_multipart(
            "/vulnerabilities/feeds",
            &[],
            ("file", "dataFeed_jvndb_rss_hnd.xml", &bad),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .contains("dataFeed_jvndb_rss_hnd.xml: XML として読めません"),
        "{}",
        r.text()
    );

    // One vulnerability, in Japanese where a JVN record names it.
    let jvn =
        std::fs::read(samples().join("jvn/getVulnDetailInfo_hnd_JVNDB-2021-002774.xml")).unwrap();
    se.post_multipart("/vulnerabilities/feeds", &[], ("file", "jvn.xml", &jvn))
        .await;
    let r = se.get("/vulnerabilities/records/CVE-2024-0519").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Google Chrome"));
    let r = se.get("/vulnerabilities/records/JVNDB-2021-002774").await;
    assert!(
        r.text()
            .contains("トレンドマイクロ製 ServerProtect における認証回避の脆弱性")
    );
    let r = se.get("/vulnerabilities/records/CVE-1999-0001").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The mapping table: a row set by hand, then corrected through the form (a bad CPE is refused by name).
    let m = app
        .store()
        .set_cpe_mapping(
            &Actor::system("test"),
            "7-Zip 24.06 (x64)",
            "Igor Pavlov",
            &["cpe:2.3:a:7-zip:7-zip".into()],
        )
        .await
        .unwrap();
    let r = se.get("/vulnerabilities/mappings").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("7-Zip 24.06 (x64)"));
    let path = format!("/vulnerabilities/mappings/{}", m.id);
    let r = se
        .post_form(&path, &[("cpes", "7zip"), ("action", "correct")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("CPE 2.3 の形式"), "{}", r.text());
    let r = se
        .post_form(
            &path,
            &[
                ("cpes", "cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*"),
                ("action", "correct"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = staff.post_form(&path, &[("action", "confirm")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Exports: CSV with BOM and Japanese header; XLSX.
    let r = se.get("/vulnerabilities/findings.csv?status=all").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"\xEF\xBB\xBFID,"));
    assert!(String::from_utf8_lossy(&r.body).contains("脆弱性ID"));
    let r = se.get("/vulnerabilities/findings.xlsx").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"PK"));
    let r = se.get("/vulnerabilities/feeds").await;
    assert!(r.text().contains("id=\"imports-table\""));
}
