//! Inventories through the real router: uploading the sample files, the overview and per-terminal pages
//! with the samples' real values, the history's changes, the review queue (link and register), agent
//! credentials, the `/ocsinventory` agent endpoint (challenge, refusal and audit, PROLOG and INVENTORY in
//! the agent's encodings, malformed bodies) and the API.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Client, TestApp};
use std::path::PathBuf;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_inventory::BodyEncoding;
use unyo_inventory::protocol::{
    ServerReply, decode_server_reply, encode_inventory_request, encode_prolog_request,
};
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;
use unyo_store::inventory::InventoryQuery;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../inventory/tests/samples")
            .join(name),
    )
    .expect("sample")
}

/// A site; returns its id.
async fn site(app: &TestApp) -> i64 {
    app.store()
        .create_site(
            &Actor::system("test"),
            &SiteInput {
                code: "KENCHO".into(),
                name: "県庁".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site")
        .id
}

async fn terminal(app: &TestApp, site: i64, hostname: &str, serial: &str) -> i64 {
    app.store()
        .create_terminal(
            &Actor::system("test"),
            &TerminalInput {
                site_id: Some(site),
                hostname: hostname.into(),
                kind: "business".into(),
                serial_number: serial.into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal")
        .id
}

async fn upload(c: &Client, name: &str) -> common::Resp {
    c.post_multipart("/inventory/upload", &[], ("file", name, &sample(name)))
        .await
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.store()
        .audit_log(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .expect("audit")
        .total
}

#[tokio::test]
async fn uploaded_samples_show_their_real_values() {
    let app = TestApp::new().await;
    let site = site(&app).await;
    let win = terminal(&app, site, "pc-arg-23", "").await;
    let lf = terminal(&app, site, "kencho-lf014", "8C554721F").await;
    let se = app.login("se").await;

    let r = upload(&se, "fusioninventory-2.xml").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("端末に紐付けました"), "{}", r.text());
    assert!(r.text().contains(&format!("/inventory/terminals/{win}")));

    // The overview, for any role: OS, build, antivirus in words, software count.
    let staff = app.login("staff").await;
    let page = staff.get("/inventory").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for want in [
        "pc-arg-23",
        "Microsoft Windows 8.1 Professionnel",
        "6.3.9600",
        "Windows Defender",
        "Kaspersky Endpoint Security 10 for Windows",
        "リアルタイム保護 有効",
        "定義の状態 最新",
        "<td class=\"num\">8</td>",
        "未受信",
        "ホスト名",
    ] {
        assert!(html.contains(want), "overview lacks {want}");
    }
    assert!(!html.contains("badge-warn\">古い"), "nothing is stale yet");
    assert!(
        html.contains("href=\"/inventory\" aria-current=\"page\""),
        "nav entry"
    );

    // The terminal's page.
    let page = staff.get(&format!("/inventory/terminals/{win}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for want in [
        "Microsoft Windows 8.1 Professionnel",
        "<dd class=\"mono\">6.3.9600</dd>",
        "64-bit",
        "<span id=\"software-count\">8</span>",
        "CCleaner",
        "5.09",
        "Piriform",
        "FusionInventory Agent 2.3.19 (x64 edition)",
        "Kaspersky Endpoint Security 10 for Windows",
        "<td>有効</td><td>最新</td>",
        "33E737A8-F827-11DF-9297-47C0A301005A",
        "CZC0479792",
        "10.253.6.55",
        "2017-05-15 18:38:07",
        "ホスト名",
        "最初の受信",
    ] {
        assert!(html.contains(want), "terminal page lacks {want}");
    }
    // The software filter.
    let html = staff
        .get(&format!("/inventory/terminals/{win}?q=ccleaner"))
        .await
        .text();
    assert!(html.contains("CCleaner") && !html.contains("Piriform Recuva"));

    // Two snapshots of LF014 (matched by serial): the history shows what changed.
    assert_eq!(
        upload(&se, "glpi-computer_3.json").await.status,
        StatusCode::OK
    );
    assert_eq!(
        upload(&se, "glpi-computer_3_updated.json").await.status,
        StatusCode::OK
    );
    let html = staff
        .get(&format!("/inventory/terminals/{lf}"))
        .await
        .text();
    for want in [
        "<span id=\"software-count\">3184</span>",
        "Fedora release 25 (Twenty Five)",
        "OSビルド: 4.9.9-200.fc25.x86_64 → 4.11.3-200.fc25.x86_64",
        "kernel 4.9.9-200.fc25 → 4.11.3-200.fc25",
        "ソフトウェア 削除 (5)",
        "pyrpkg 1.48-2.fc25",
        "ソフトウェア 追加 (156)",
        "filezilla 3.24.1-1.fc25",
        "製造番号",
    ] {
        assert!(html.contains(want), "history lacks {want}");
    }

    // A file that is not an inventory is refused and nothing is stored.
    let before = app
        .store()
        .inventories(&InventoryQuery::default())
        .await
        .unwrap()
        .total;
    let r = se
        .post_multipart(
            "/inventory/upload",
            &[],
            (
                "file",
                "evil.xml",
                b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><REQUEST/>",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("取り込めません"));
    let after = app
        .store()
        .inventories(&InventoryQuery::default())
        .await
        .unwrap()
        .total;
    assert_eq!(before, after);

    // Permissions and CSRF.
    assert_eq!(
        staff.get("/inventory/upload").await.status,
        StatusCode::FORBIDDEN
    );
    let auditor = app.login("auditor").await;
    assert_eq!(auditor.get("/inventory").await.status, StatusCode::OK);
    let mut forged = se.clone();
    forged.csrf = "wrong".into();
    assert_eq!(
        upload(&forged, "fusioninventory-2.xml").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.anonymous().get("/inventory").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn review_queue_links_and_registers() {
    let app = TestApp::new().await;
    let site = site(&app).await;
    let mac_a = terminal(&app, site, "macbook-de-teclib", "").await;
    let _mac_b = terminal(&app, site, "macbook-de-teclib.branch", "").await;
    let se = app.login("se").await;

    let r = upload(&se, "fusioninventory-3.xml").await;
    assert!(r.text().contains("複数の端末が該当する"), "{}", r.text());
    let r = upload(&se, "glpi-computer_1.json").await;
    assert!(r.text().contains("該当する端末がない"), "{}", r.text());

    let queue = app.store().review_queue().await.unwrap();
    assert_eq!(queue.len(), 2);
    let (mac_inv, xps_inv) = (queue[0].inventory.id, queue[1].inventory.id);

    let html = se.get("/inventory/review").await.text();
    for want in [
        "MacBook-de-teclib",
        "glpixps",
        "複数の端末が該当します",
        "該当する端末がありません",
        "macbook-de-teclib.branch（県庁）",
        "端末との照合のしかた",
        "UUID：",
        "製造番号：",
        "ホスト名：",
        "この端末に紐付け",
        "この内容で端末を登録",
    ] {
        assert!(html.contains(want), "review page lacks {want}");
    }

    // Staff may look but not link.
    let staff = app.login("staff").await;
    let html = staff.get("/inventory/review").await.text();
    assert!(!html.contains("この端末に紐付け"));
    let r = staff
        .post_form(
            &format!("/inventory/review/{mac_inv}/link"),
            &[("terminal_id", &mac_a.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // No terminal chosen: the page says so.
    let r = se
        .post_form(
            &format!("/inventory/review/{mac_inv}/link"),
            &[("terminal_id", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("紐付ける端末を選択してください"));

    let r = se
        .post_form(
            &format!("/inventory/review/{mac_inv}/link"),
            &[("terminal_id", &mac_a.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        format!("/inventory/terminals/{mac_a}?ok=linked")
    );
    let html = se.get(&r.location()).await.text();
    assert!(html.contains("インベントリを端末に紐付けました"));
    assert!(
        html.contains("00000000-0000-1000-8000-0017F2D11432"),
        "UUID recorded"
    );
    assert!(html.contains("手動で紐付け"));

    // Register glpixps at the site.
    let r = se
        .post_form(
            &format!("/inventory/review/{xps_inv}/register"),
            &[("site_id", &site.to_string()), ("kind", "business")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = se.get(&r.location()).await.text();
    assert!(html.contains("glpixps"));
    assert!(html.contains("Fedora 31 (Workstation Edition)"));
    assert!(
        se.get("/inventory/review")
            .await
            .text()
            .contains("照合待ちのインベントリはありません")
    );
    // Registering twice is refused on the page.
    let r = se
        .post_form(
            &format!("/inventory/review/{xps_inv}/register"),
            &[("site_id", &site.to_string()), ("kind", "business")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("既に端末に紐付いています"));
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

async fn agent_post(
    c: &Client,
    path: &str,
    auth: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> common::Resp {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, content_type);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    c.send(b.body(Body::from(body)).expect("req")).await
}

/// The inner XML of `<CONTENT>` of a sample (what the agent puts into its INVENTORY).
fn content_of(name: &str) -> String {
    let text = String::from_utf8(sample(name)).expect("utf-8");
    let start = text.find("<CONTENT>").expect("CONTENT") + "<CONTENT>".len();
    let end = text.find("</CONTENT>").expect("/CONTENT");
    text[start..end].to_string()
}

#[tokio::test]
async fn agents_report_with_their_credentials() {
    let app = TestApp::new().await;
    let site = site(&app).await;
    let win = terminal(&app, site, "pc-arg-23", "").await;

    // The admin creates a credential; the password is shown once.
    let admin = app.login("admin").await;
    let se = app.login("se").await;
    assert_eq!(
        se.get("/inventory/agents").await.status,
        StatusCode::FORBIDDEN
    );
    let r = admin
        .post_form("/inventory/agents", &[("name", "県庁の端末")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    let grab = |id: &str| -> String {
        let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
        html[start..].split('<').next().unwrap().to_string()
    };
    let (user, pass) = (grab("new-user"), grab("new-password"));
    assert!(
        user.starts_with("agent-") && pass.len() == 32,
        "{user} {pass}"
    );
    assert!(html.contains("fusioninventory-agent --server http://"));
    // Listed without the password afterwards.
    let listed = admin.get("/inventory/agents").await.text();
    assert!(listed.contains(&user) && !listed.contains(&pass));

    let agent = app.anonymous();
    let (ct, prolog) = encode_prolog_request("pc-arg-23-2017-04-18-09-26-44", BodyEncoding::Zlib);
    let failures = audit_count(&app, "agent.auth_failure").await;

    // 1. No credentials: the Basic challenge, not audited.
    let r = agent_post(&agent, "/ocsinventory", None, ct, prolog.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Basic realm=\"unyo\""
    );
    assert_eq!(audit_count(&app, "agent.auth_failure").await, failures);

    // 2. A wrong password or an unknown user: refused and audited.
    let r = agent_post(
        &agent,
        "/ocsinventory",
        Some(&basic(&user, "wrong")),
        ct,
        prolog.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get(header::WWW_AUTHENTICATE).is_some());
    let r = agent_post(
        &agent,
        "/ocsinventory",
        Some(&basic("nobody", &pass)),
        ct,
        prolog.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = agent_post(
        &agent,
        "/ocsinventory",
        Some("Basic !!"),
        ct,
        prolog.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The first refusal from a source has its own entry; the next ones in its window are counted
    // into one entry written when the window closes.
    assert_eq!(audit_count(&app, "agent.auth_failure").await, failures + 1);
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("agent.auth_failure".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(log.items.iter().any(|e| e.actor == format!("agent:{user}")));

    // 3. PROLOG with the right credentials: SEND, zlib like the request.
    let auth = basic(&user, &pass);
    let r = agent_post(&agent, "/ocsinventory", Some(&auth), ct, prolog.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(&r.body[..2], &[0x78, 0x9c]);
    assert_eq!(
        decode_server_reply(&r.body).unwrap(),
        ServerReply::Send {
            prolog_freq_hours: 24
        }
    );

    // 4. INVENTORY (to the trailing-slash path): stored, matched by host name.
    let (ct, inv) = encode_inventory_request(
        "pc-arg-23-2017-04-18-09-26-44",
        &content_of("fusioninventory-2.xml"),
        BodyEncoding::Zlib,
    );
    let r = agent_post(&agent, "/ocsinventory/", Some(&auth), ct, inv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        decode_server_reply(&r.body).unwrap(),
        ServerReply::InventoryAccepted
    );
    let latest = app
        .store()
        .latest_inventory(win)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(latest.source, "agent");
    assert_eq!(latest.snapshot.software.len(), 8);
    assert_eq!(
        latest.snapshot.device_id.as_deref(),
        Some("pc-arg-23-2017-04-18-09-26-44")
    );
    let summary = app.store().inventory_summary(latest.id).await.unwrap();
    assert_eq!(summary.received_by, format!("agent:{user}"));
    assert_eq!(summary.matched_by, "hostname");

    // A plain (uncompressed) agent gets a plain reply.
    let (ct, plain) = encode_prolog_request("pc-arg-23-x", BodyEncoding::Plain);
    let r = agent_post(&agent, "/ocsinventory", Some(&auth), ct, plain).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<RESPONSE>SEND</RESPONSE>"));

    // 5. Malformed or hostile bodies: 400 with a reason, nothing stored.
    let count = || async {
        app.store()
            .inventories(&InventoryQuery::default())
            .await
            .unwrap()
            .total
    };
    let before = count().await;
    for (ct, body) in [
        ("application/x-compress-zlib", vec![0x78, 0x9c, 0xff, 0xff]),
        (
            "application/xml",
            b"<REQUEST><QUERY>INVENTORY</QUERY>".to_vec(),
        ),
        (
            "application/xml",
            b"<!DOCTYPE r [<!ENTITY a \"aaaaaaaa\">]><REQUEST><QUERY>PROLOG</QUERY></REQUEST>"
                .to_vec(),
        ),
        ("application/json", br#"{"action":"inventory"}"#.to_vec()),
        ("application/xml", Vec::new()),
    ] {
        let r = agent_post(&agent, "/ocsinventory", Some(&auth), ct, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{ct}: {}", r.text());
        assert!(!r.text().trim().is_empty());
    }
    assert_eq!(count().await, before);

    // 6. A revoked credential is refused.
    let cred = app.store().agent_credentials().await.unwrap()[0].id;
    let r = admin
        .post_form(&format!("/inventory/agents/{cred}/revoke"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (ct, prolog) = encode_prolog_request("pc-arg-23-x", BodyEncoding::Zlib);
    let r = agent_post(&agent, "/ocsinventory", Some(&auth), ct, prolog).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Only POST.
    assert_eq!(
        agent.get("/ocsinventory").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_is_limited_and_audited_once() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let html = admin
        .post_form("/inventory/agents", &[("name", "県庁の端末")])
        .await
        .text();
    let grab = |id: &str| -> String {
        let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
        html[start..].split('<').next().unwrap().to_string()
    };
    let (user, pass) = (grab("new-user"), grab("new-password"));
    let agent = app.anonymous();
    let (ct, prolog) = encode_prolog_request("pc-flood", BodyEncoding::Plain);

    // The agent reports once, so it is known.
    let good = basic(&user, &pass);
    let r = agent_post(&agent, "/ocsinventory", Some(&good), ct, prolog.clone()).await;
    assert_eq!(r.status, StatusCode::OK);

    let before = audit_count(&app, "agent.auth_failure").await;
    let checks = app.store().agent_password_checks();
    let mut statuses = Vec::new();
    for i in 0..40 {
        let wrong = basic(&user, &format!("wrong-{i}"));
        let r = agent_post(&agent, "/ocsinventory", Some(&wrong), ct, prolog.clone()).await;
        statuses.push(r.status.as_u16());
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry > 0 && retry <= 15 * 60, "{retry}");
            assert!(r.text().contains("認証の失敗が続いたため"), "{}", r.text());
        }
    }
    // The account's limit (10) stops the guessing: the rest are refused without a password check.
    let limit = unyo_web::agent::MAX_FAILURES_PER_ACCOUNT as usize;
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(app.store().agent_password_checks(), checks + limit as u64);
    // Forty refusals make one audit entry while their window is open, not forty.
    assert_eq!(audit_count(&app, "agent.auth_failure").await, before + 1);

    // The known agent still gets in from the same source.
    let r = agent_post(&agent, "/ocsinventory", Some(&good), ct, prolog).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn api_lists_and_shows_inventories() {
    let app = TestApp::new().await;
    let site = site(&app).await;
    let win = terminal(&app, site, "pc-arg-23", "").await;
    let se = app.login("se").await;
    upload(&se, "fusioninventory-2.xml").await;
    upload(&se, "glpi-computer_1.json").await;
    let user = app.store().user_by_name("auditor").await.unwrap().unwrap();
    let token = app
        .store()
        .create_api_token(&user.actor("test"), user.id, "t")
        .await
        .unwrap();
    let c = app.anonymous();

    let r = c
        .api(
            "GET",
            "/api/v1/inventories?hostname=PC-ARG-23.cedre.local",
            &token,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["total"], 1);
    let item = &j["items"][0];
    assert_eq!(item["terminal_id"], win);
    assert_eq!(item["os_build"], "6.3.9600");
    assert_eq!(item["software_count"], 8);
    assert_eq!(
        item["antivirus"][1]["name"],
        "Kaspersky Endpoint Security 10 for Windows"
    );
    assert_eq!(item["antivirus"][0]["up_to_date"], true);
    assert!(item.get("snapshot").is_none(), "summaries only");
    let id = item["id"].as_i64().unwrap();

    let r = c
        .api("GET", &format!("/api/v1/inventories/{id}"), &token, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["snapshot"]["software"].as_array().unwrap().len(), 8);
    assert_eq!(j["snapshot"]["software"][0]["name"], "CCleaner");
    assert_eq!(
        j["snapshot"]["os"]["full_name"],
        "Microsoft Windows 8.1 Professionnel"
    );

    let r = c
        .api(
            "GET",
            &format!("/api/v1/inventories?terminal_id={win}"),
            &token,
            None,
        )
        .await;
    assert_eq!(r.json()["total"], 1);
    let r = c.api("GET", "/api/v1/inventories", &token, None).await;
    assert_eq!(r.json()["total"], 2);
    let r = c
        .api("GET", "/api/v1/inventories?terminal_id=abc", &token, None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .api("GET", "/api/v1/inventories/99999", &token, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.api("GET", "/api/v1/inventories", "unyo_bad", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let doc = c.get("/api/v1/openapi.json").await.json();
    assert!(doc["paths"]["/inventories"]["get"].is_object());
    assert!(doc["paths"]["/inventories/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["InventorySummaryPage"].is_object());
}
