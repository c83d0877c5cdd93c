//! The registry pages through the real router: lists, forms, retiring, history, the network map, import
//! and export, permissions, CSRF and escaping.

mod common;

use common::{Client, TestApp};
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;
use unyo_store::registry::{ListQuery, Status};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A node, a site connected through it, and a site without an uplink. Returns (site id, node id).
async fn seed(app: &TestApp) -> (i64, i64) {
    let sys = Actor::system("test");
    let root = app
        .store()
        .create_node(
            &sys,
            &NodeInput {
                name: "県サーバ".into(),
                kind: "server".into(),
                ip_address: "10.40.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .expect("root node");
    let fw = app
        .store()
        .create_node(
            &sys,
            &NodeInput {
                name: "FW-県庁".into(),
                kind: "firewall".into(),
                upstream_id: Some(root.id),
                ..Default::default()
            },
        )
        .await
        .expect("fw");
    let site = app
        .store()
        .create_site(
            &sys,
            &SiteInput {
                code: "KENCHO".into(),
                name: "県庁".into(),
                kind: "honcho".into(),
                uplink_node_id: Some(fw.id),
                ..Default::default()
            },
        )
        .await
        .expect("site");
    app.store()
        .create_site(
            &sys,
            &SiteInput {
                code: "TOSU".into(),
                name: "鳥栖保健福祉事務所".into(),
                kind: "hofuku".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site 2");
    (site.id, fw.id)
}

async fn add_terminal(app: &TestApp, site: i64, hostname: &str, kind: &str) -> i64 {
    app.store()
        .create_terminal(
            &Actor::system("test"),
            &TerminalInput {
                site_id: Some(site),
                hostname: hostname.into(),
                kind: kind.into(),
                os_name: "Windows 11 Enterprise".into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal")
        .id
}

async fn terminal_count(app: &TestApp) -> i64 {
    app.store()
        .terminals(&ListQuery {
            status: Some(Status::All),
            ..Default::default()
        })
        .await
        .expect("list")
        .total
}

fn terminal_form<'a>(site: &'a str, hostname: &'a str, ip: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("site_id", site),
        ("hostname", hostname),
        ("kind", "business"),
        ("ip_address", ip),
        ("os_name", "Windows 11 Enterprise"),
        ("os_version", "23H2"),
        ("serial_number", ""),
        ("asset_number", ""),
        ("note", ""),
    ]
}

fn header(r: &common::Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn lists_search_sort_and_page() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    for i in 1..=25 {
        let kind = if i == 1 { "representative" } else { "business" };
        add_terminal(&app, site, &format!("host-{i:02}"), kind).await;
    }
    let c = app.login("staff").await;

    let r = c.get("/terminals?per_page=20").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("全25件中 1–20件"), "{t}");
    assert!(t.contains("host-01") && t.contains("host-20") && !t.contains("host-21"));
    assert!(t.contains(r#"aria-label="ページ送り""#));
    assert!(t.contains("page=2"), "next link keeps going: {t}");
    assert!(t.contains(r#"<span class="badge badge-rep">代表端末</span>"#));
    assert!(t.contains(r#"<span class="badge badge-active">稼働中</span>"#));
    assert!(
        t.contains(r#"aria-sort="ascending""#),
        "default sort is shown"
    );
    // Staff may not create: no 新規登録 link.
    assert!(!t.contains(r#"href="/terminals/new""#));

    let r = c.get("/terminals?per_page=20&page=2").await;
    let t = r.text();
    assert!(t.contains("全25件中 21–25件"), "{t}");
    assert!(t.contains("host-21") && !t.contains("host-20"));
    assert!(t.contains("前へ") && t.contains("次へ"));

    // Search.
    let t = c.get("/terminals?q=HOST-07").await.text();
    assert!(t.contains("全1件中 1–1件"), "{t}");
    assert!(t.contains("host-07") && !t.contains("host-08"));

    // Sort descending by hostname; the header link then offers ascending and keeps the filter.
    let t = c
        .get("/terminals?q=host&sort=hostname&dir=desc&per_page=20")
        .await
        .text();
    let a = t.find("host-25").expect("25 on page 1");
    let b = t.find("host-24").expect("24 on page 1");
    assert!(a < b, "descending");
    assert!(t.contains(r#"aria-sort="descending""#));
    assert!(t.contains("▼"));
    assert!(t.contains("q=host&#38;sort=hostname&#38;dir=asc"), "{t}");
    // The export links keep the filter but not the page.
    assert!(t.contains("/terminals/export.csv?q=host&#38;sort=hostname&#38;dir=desc\""));

    // Kind filter and status filter.
    let t = c.get("/terminals?kind=representative").await.text();
    assert!(t.contains("全1件中"), "{t}");
    let t = c.get("/terminals?status=retired").await.text();
    assert!(t.contains("全0件") && t.contains("該当するデータはありません"));

    // Site and node lists; site filter with an empty value is fine.
    let t = c.get("/sites?q=&kind=&status=all").await.text();
    assert!(t.contains("KENCHO") && t.contains("TOSU"));
    let t = c
        .get(&format!("/terminals?site_id={site}&per_page=100"))
        .await
        .text();
    assert!(t.contains("全25件中"));
    let t = c.get("/nodes?sort=name").await.text();
    assert!(t.contains("FW-県庁") && t.contains("県サーバ"));
    // Junk in the query does not break the page.
    let r = c
        .get("/terminals?page=abc&per_page=-3&sort=nope&site_id=x")
        .await;
    assert_eq!(r.status, 200);

    // Editors see the new link.
    let se = app.login("se").await;
    assert!(
        se.get("/terminals")
            .await
            .text()
            .contains(r#"href="/terminals/new""#)
    );
}

#[tokio::test]
async fn create_terminal_then_detail_and_history() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    let se = app.login("se").await;
    let form = se.get("/terminals/new").await;
    assert_eq!(form.status, 200);
    let t = form.text();
    assert!(t.contains(r#"<label for="hostname">"#) && t.contains("（必須）"));
    assert!(t.contains(r#"name="_csrf""#));
    assert!(t.contains("県庁（KENCHO）"));

    let site_s = site.to_string();
    let r = se
        .post_form(
            "/terminals",
            &terminal_form(&site_s, "saga-kencho-02", "10.41.0.12"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.location();
    assert!(
        loc.starts_with("/terminals/") && loc.ends_with("?ok=saved"),
        "{loc}"
    );
    let d = se.get(&loc).await;
    assert_eq!(d.status, 200);
    let t = d.text();
    assert!(t.contains("保存しました。"));
    assert!(t.contains("saga-kencho-02") && t.contains("10.41.0.12"));
    assert!(t.contains("令和"), "dates in 和暦: {t}");
    assert!(t.contains("変更履歴") && t.contains("登録"));
    assert!(t.contains("ホスト名: saga-kencho-02"), "{t}");
    assert!(t.contains("拠点: 県庁（KENCHO）"), "{t}");
    // The path into the network via the site's uplink.
    assert!(t.contains("FW-県庁") && t.contains("県サーバ"));

    // Edit: the history shows old → new.
    let id = loc
        .trim_start_matches("/terminals/")
        .trim_end_matches("?ok=saved")
        .to_string();
    let edit = se.get(&format!("/terminals/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.text().contains(r#"value="saga-kencho-02""#));
    let mut f = terminal_form(&site_s, "saga-kencho-02", "10.41.0.12");
    f[5] = ("os_version", "24H2");
    let r = se.post_form(&format!("/terminals/{id}"), &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&format!("/terminals/{id}")).await.text();
    assert!(t.contains("OSバージョン: 23H2 → 24H2"), "{t}");
    assert!(t.contains("変更"));

    // English labels.
    let mut en = se.clone();
    en.cookie = format!("{}; unyo_lang=en", se.cookie);
    let t = en.get(&format!("/terminals/{id}")).await.text();
    assert!(t.contains("OS version: 23H2 → 24H2"), "{t}");
    assert!(t.contains("Business terminal"));
}

#[tokio::test]
async fn invalid_terminal_is_refused_with_messages_and_nothing_saved() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    let se = app.login("se").await;
    let site_s = site.to_string();
    let r = se
        .post_form(
            "/terminals",
            &terminal_form(&site_s, "-bad_host", "10.0.0.999"),
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains(r#"role="alert""#));
    assert!(
        t.contains("IPアドレス「10.0.0.999」の形式が正しくありません"),
        "{t}"
    );
    assert!(t.contains("ホスト名は半角英数字とハイフン"), "{t}");
    assert!(t.contains(r##"href="#hostname""##) && t.contains(r##"href="#ip_address""##));
    assert!(t.contains(r#"id="err-hostname""#) && t.contains(r#"id="err-ip_address""#));
    assert!(t.contains(r#"aria-invalid="true""#));
    assert!(t.contains(r#"aria-describedby="hint-hostname err-hostname""#));
    // Values are kept.
    assert!(t.contains(r#"value="-bad_host""#) && t.contains(r#"value="10.0.0.999""#));
    assert_eq!(terminal_count(&app).await, 0);

    // Missing site and kind.
    let r = se
        .post_form(
            "/terminals",
            &[("hostname", "ok-host"), ("site_id", ""), ("kind", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("設置拠点を選択してください。"));
    assert_eq!(terminal_count(&app).await, 0);
}

#[tokio::test]
async fn duplicate_hostname_is_shown_on_the_form() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    add_terminal(&app, site, "dup-01", "business").await;
    let se = app.login("se").await;
    let site_s = site.to_string();
    let r = se
        .post_form("/terminals", &terminal_form(&site_s, "DUP-01", ""))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(t.contains("は既に登録されています。"), "{t}");
    assert!(t.contains(r##"href="#hostname""##));
    assert_eq!(terminal_count(&app).await, 1);

    // Sites and nodes the same.
    let r = se
        .post_form(
            "/sites",
            &[("code", "KENCHO"), ("name", "二つ目"), ("kind", "other")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text()
            .contains("拠点コード「KENCHO」は既に登録されています。")
    );
    let r = se
        .post_form("/nodes", &[("name", "FW-県庁"), ("kind", "firewall")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text()
            .contains("機器名「FW-県庁」は既に登録されています。")
    );
}

#[tokio::test]
async fn retire_needs_a_reason() {
    let app = TestApp::new().await;
    let (site, node) = seed(&app).await;
    let id = add_terminal(&app, site, "old-pc", "business").await;
    let se = app.login("se").await;
    let d = se.get(&format!("/terminals/{id}")).await.text();
    assert!(d.contains(&format!(r#"action="/terminals/{id}/retire""#)));

    let r = se
        .post_form(&format!("/terminals/{id}/retire"), &[("reason", "  ")])
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("廃止の理由を入力してください。"), "{t}");
    assert!(t.contains(r#"id="err-reason""#) && t.contains(r#"aria-invalid="true""#));
    assert!(
        app.store()
            .terminal(id)
            .await
            .expect("t")
            .retired_at
            .is_none()
    );

    // A site with terminals cannot be retired; the reason is shown.
    let r = se
        .post_form(
            &format!("/sites/{site}/retire"),
            &[("reason", "統合"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("稼働中の端末が1台あります"));
    // A node that others go through neither.
    let r = se
        .post_form(
            &format!("/nodes/{node}/retire"),
            &[("reason", "更改"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("経由している拠点・機器"));

    // Retiring asks first: a page says what will happen and changes nothing (#16).
    let r = se
        .post_form(
            &format!("/terminals/{id}/retire"),
            &[("reason", "機器更新のため")],
        )
        .await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(
        t.contains("id=\"confirm-step\"") && t.contains("端末 old-pcを廃止します"),
        "{t}"
    );
    assert!(t.contains("name=\"confirmed\" value=\"1\""), "{t}");
    assert!(t.contains("value=\"機器更新のため\""), "{t}");
    assert!(
        app.store()
            .terminal(id)
            .await
            .expect("t")
            .retired_at
            .is_none()
    );
    let r = se
        .post_form(
            &format!("/terminals/{id}/retire"),
            &[("reason", "機器更新のため"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), format!("/terminals/{id}?ok=retired"));
    let t = se.get(&r.location()).await.text();
    assert!(t.contains("廃止しました。"));
    assert!(t.contains(r#"<span class="badge badge-retired">廃止</span>"#));
    assert!(t.contains("廃止日時"));
    assert!(t.contains("廃止の理由: 機器更新のため"), "{t}");
    assert!(!t.contains(&format!(r#"href="/terminals/{id}/edit""#)));
    // Retired rows show in the list only when asked for.
    assert!(!se.get("/terminals").await.text().contains("old-pc"));
    assert!(
        se.get("/terminals?status=retired")
            .await
            .text()
            .contains("old-pc")
    );
}

#[tokio::test]
async fn staff_may_view_and_export_but_not_change_or_import() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    let id = add_terminal(&app, site, "pc-01", "business").await;
    for role in ["staff", "auditor"] {
        let c = app.login(role).await;
        assert_eq!(c.get("/terminals/new").await.status, 403, "{role}");
        assert_eq!(c.get("/sites/new").await.status, 403, "{role}");
        assert_eq!(c.get(&format!("/terminals/{id}/edit")).await.status, 403);
        let site_s = site.to_string();
        let r = c
            .post_form("/terminals", &terminal_form(&site_s, "pc-02", ""))
            .await;
        assert_eq!(r.status, 403, "{role}");
        let r = c
            .post_form(&format!("/terminals/{id}/retire"), &[("reason", "x")])
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(c.get("/import").await.status, 403, "{role}");
        let r = c
            .post_multipart(
                "/import",
                &[("kind", "terminals")],
                (
                    "file",
                    "t.csv",
                    b"hostname,site_code,kind\r\npc-03,KENCHO,business\r\n",
                ),
            )
            .await;
        assert_eq!(r.status, 403, "{role}");
        // Viewing and exporting are allowed.
        assert_eq!(c.get("/terminals").await.status, 200);
        let d = c.get(&format!("/terminals/{id}")).await;
        assert_eq!(d.status, 200);
        assert!(!d.text().contains("/retire"), "no retire form for {role}");
        assert_eq!(c.get("/network").await.status, 200);
        assert_eq!(c.get("/terminals/export.csv").await.status, 200);
    }
    assert_eq!(terminal_count(&app).await, 1);
    let admin = app.login("admin").await;
    assert_eq!(admin.get("/import").await.status, 200);
}

#[tokio::test]
async fn import_utf8_bom_and_cp932() {
    let app = TestApp::new().await;
    seed(&app).await;
    let se = app.login("se").await;
    let page = se.get("/import").await;
    assert_eq!(page.status, 200);
    let t = page.text();
    assert!(t.contains(r#"enctype="multipart/form-data""#) && t.contains(r#"name="_csrf""#));

    let mut csv = BOM.to_vec();
    csv.extend_from_slice(
        "ホスト名,拠点コード,種別,IPアドレス\r\nimp-01,KENCHO,代表端末,10.41.0.21\r\nimp-02,KENCHO,業務端末,\r\n"
            .as_bytes(),
    );
    let r = se
        .post_multipart("/import", &[("kind", "terminals")], ("file", "t.csv", &csv))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(t.contains("取込が完了しました。"));
    assert!(t.contains("<dt>新規</dt><dd>2 件</dd>"), "{t}");
    assert_eq!(terminal_count(&app).await, 2);

    // Shift_JIS (CP932) as Excel writes it, with vendor characters; imp-01 unchanged, imp-03 new.
    let text = "ホスト名,拠点コード,種別,IPアドレス,備考\r\nimp-01,KENCHO,代表端末,10.41.0.21,\r\nimp-03,KENCHO,業務端末,,髙橋①担当\r\n";
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!had_errors);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "terminals")],
            ("file", "t.csv", &bytes),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(t.contains("<dt>新規</dt><dd>1 件</dd>"), "{t}");
    assert!(t.contains("<dt>変更なし</dt><dd>1 件</dd>"), "{t}");
    let all = app
        .store()
        .terminals(&ListQuery {
            q: Some("imp-03".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(all.items[0].note, "髙橋①担当");

    // Sites and nodes import too.
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "nodes")],
            (
                "file",
                "n.csv",
                "機器名,種別,上位機器\nRT-鳥栖,ルータ,県サーバ\n".as_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "sites")],
            (
                "file",
                "s.csv",
                "拠点コード,拠点名,種別,接続機器\nTOSU,鳥栖保健福祉事務所,保健福祉事務所,RT-鳥栖\n"
                    .as_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<dt>更新</dt><dd>1 件</dd>"));
}

#[tokio::test]
async fn failing_import_reports_line_and_column_and_writes_nothing() {
    let app = TestApp::new().await;
    seed(&app).await;
    let se = app.login("se").await;
    let csv = "hostname,site_code,kind,ip_address\r\ngood-01,KENCHO,business,10.0.0.1\r\nbad-02,KENCHO,business,10.0.0.999\r\nbad-03,NOWHERE,business,\r\n";
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "terminals")],
            ("file", "t.csv", csv.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("何も登録されていません"), "{t}");
    assert!(
        t.contains(r#"<td class="num">3</td><td>IPアドレス <span class="muted mono">ip_address</span></td>"#),
        "{t}"
    );
    assert!(t.contains(r#"<td class="num">4</td><td>拠点コード"#), "{t}");
    assert!(t.contains("拠点コード「NOWHERE」は登録されていません。"));
    assert_eq!(terminal_count(&app).await, 0);

    // A header problem is reported on line 1.
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "terminals")],
            (
                "file",
                "t.csv",
                "ホスト名,種別\r\nx,business\r\n".as_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains(r#"<td class="num">1</td><td>拠点コード"#), "{t}");

    // Not text at all, and no file.
    let r = se
        .post_multipart(
            "/import",
            &[("kind", "terminals")],
            ("file", "t.csv", b"abc\x82\xFF"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("文字コードを判別できません"));
    let r = se
        .post_multipart("/import", &[("kind", "terminals")], ("file", "", b""))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("取り込むファイルを選択してください。"));
    assert_eq!(terminal_count(&app).await, 0);
}

async fn export(c: &Client, path: &str) -> common::Resp {
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r
}

#[tokio::test]
async fn exports_are_files_and_audited() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    for i in 1..=3 {
        add_terminal(&app, site, &format!("exp-{i:02}"), "business").await;
    }
    let c = app.login("staff").await;

    let r = export(&c, "/terminals/export.csv?q=exp-0&per_page=20&page=1").await;
    assert_eq!(header(&r, "content-type"), "text/csv; charset=utf-8");
    let cd = header(&r, "content-disposition");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename=\"terminals_"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E7%AB%AF%E6%9C%AB%E5%8F%B0%E5%B8%B3_"),
        "端末台帳: {cd}"
    );
    assert!(r.body.starts_with(BOM));
    let text = String::from_utf8(r.body[3..].to_vec()).expect("utf-8");
    assert!(text.starts_with("ID,ホスト名,拠点コード"), "{text}");
    assert_eq!(text.lines().count(), 4, "header + every matching row");

    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.terminals".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "staff");
    let details: serde_json::Value = serde_json::from_str(&log.items[0].details).expect("json");
    assert_eq!(details["format"], "csv");
    assert_eq!(details["rows"], 3);
    assert_eq!(details["filter"]["q"], "exp-0");

    let r = export(&c, "/terminals/export.xlsx").await;
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(r.body.starts_with(b"PK"));
    {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> =
            Xlsx::new(std::io::Cursor::new(r.body.clone())).expect("valid workbook");
        let range = wb.worksheet_range("端末台帳").expect("sheet");
        assert_eq!(range.height(), 4);
    }

    for path in [
        "/sites/export.csv",
        "/sites/export.xlsx",
        "/nodes/export.csv",
        "/nodes/export.xlsx",
    ] {
        let r = export(&c, path).await;
        assert!(header(&r, "content-disposition").contains("filename*=UTF-8''"));
    }
    let r = export(&c, "/nodes/export.csv").await;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(text.contains("機器名") && text.contains("FW-県庁"));
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.total, 7);
}

#[tokio::test]
async fn post_without_csrf_is_refused() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    let se = app.login("se").await;
    let site_s = site.to_string();
    let mut f = terminal_form(&site_s, "no-csrf", "");
    f.push(("_csrf", ""));
    let r = se.post_form("/terminals", &f).await;
    assert_eq!(r.status, 403);
    let mut forged = se.clone();
    forged.csrf = "f".repeat(64);
    let r = forged
        .post_multipart(
            "/import",
            &[("kind", "terminals")],
            (
                "file",
                "t.csv",
                b"hostname,site_code,kind\r\nx,KENCHO,business\r\n",
            ),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(terminal_count(&app).await, 0);
}

#[tokio::test]
async fn notes_are_escaped() {
    let app = TestApp::new().await;
    let (site, _) = seed(&app).await;
    let se = app.login("se").await;
    let site_s = site.to_string();
    let mut f = terminal_form(&site_s, "xss-01", "");
    f[8] = ("note", "<script>alert('x')</script>\"><img src=x>");
    let r = se.post_form("/terminals", &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&r.location()).await.text();
    assert!(t.contains("&#60;script&#62;alert"), "{t}");
    assert!(!t.contains("<script>alert"));
    assert!(!t.contains("<img src=x>"));
    // Also in a re-rendered form and in search terms.
    let mut bad = terminal_form(&site_s, "<b>x</b>", "");
    bad[8] = ("note", "<script>1</script>");
    let t = se.post_form("/terminals", &bad).await.text();
    assert!(!t.contains("<script>1") && !t.contains("<b>x</b>"));
    let t = se.get("/terminals?q=%3Cscript%3E").await.text();
    assert!(!t.contains("<script>"));
    // No inline style or script anywhere on the registry pages.
    for path in [
        "/terminals",
        "/sites",
        "/nodes",
        "/network",
        "/import",
        "/terminals/new",
    ] {
        let t = se.get(path).await.text();
        assert!(!t.contains("style="), "{path}");
        assert!(!t.contains("<script"), "{path}");
    }
}

#[tokio::test]
async fn network_map_site_and_node_pages() {
    let app = TestApp::new().await;
    let (site, node) = seed(&app).await;
    add_terminal(&app, site, "kencho-01", "representative").await;
    let c = app.login("auditor").await;

    let t = c.get("/network").await.text();
    assert!(t.contains(r#"<ul class="tree""#), "{t}");
    let root = t.find("県サーバ").expect("root");
    let fw = t.find("FW-県庁").expect("fw");
    let kencho = t.find(">県庁<").expect("site");
    assert!(root < fw && fw < kencho, "nested in order");
    assert!(t.contains("端末数 1 台"), "{t}");
    assert!(t.contains("接続機器が未設定の拠点") && t.contains("鳥栖保健福祉事務所"));
    assert_eq!(t.matches("<ul").count(), t.matches("</ul>").count());
    assert_eq!(
        t.matches("<li>").count() + t.matches("<li ").count(),
        t.matches("</li>").count()
    );

    let t = c.get(&format!("/sites/{site}")).await.text();
    assert!(t.contains("この拠点から集約ネットワークへの経路"));
    assert!(t.contains("FW-県庁") && t.contains("県サーバ") && t.contains("kencho-01"));
    assert!(t.contains(r#"<span class="badge badge-rep">代表端末</span>"#));

    let t = c.get(&format!("/nodes/{node}")).await.text();
    assert!(
        t.contains("この機器を経由する拠点") && t.contains("KENCHO"),
        "{t}"
    );
    assert!(t.contains("集約ネットワークへの経路"));

    // Unknown and malformed ids are 404, and static routes are not captured by `{id}`.
    assert_eq!(c.get("/terminals/999999").await.status, 404);
    assert_eq!(c.get("/terminals/abc").await.status, 404);
    assert_eq!(c.get("/sites/export.csv").await.status, 200);

    // Editing sites and nodes through the forms.
    let se = app.login("se").await;
    let node_s = node.to_string();
    let r = se
        .post_form(
            "/sites",
            &[
                ("code", "KARATSU"),
                ("name", "唐津土木事務所"),
                ("kind", "doboku"),
                ("phone", "0955-73-0000"),
                ("uplink_node_id", &node_s),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&r.location()).await.text();
    assert!(
        t.contains("唐津土木事務所") && t.contains("接続機器: FW-県庁"),
        "{t}"
    );
    let r = se
        .post_form(
            "/nodes",
            &[
                ("name", "SW-唐津"),
                ("kind", "switch"),
                ("upstream_id", &node_s),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let new_node = r
        .location()
        .trim_start_matches("/nodes/")
        .trim_end_matches("?ok=saved")
        .to_string();
    // A node cannot be its own upstream.
    let r = se
        .post_form(
            &format!("/nodes/{new_node}"),
            &[
                ("name", "SW-唐津"),
                ("kind", "switch"),
                ("upstream_id", &new_node),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("上位機器に自分自身は指定できません。"));
    // A cycle is refused.
    let r = se
        .post_form(
            &format!("/nodes/{node}"),
            &[
                ("name", "FW-県庁"),
                ("kind", "firewall"),
                ("upstream_id", &new_node),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("循環"));
}

/// A large fleet gets a 拠点コード field instead of a drop-down of every site; an unknown code says so
/// and lists nothing.
#[tokio::test]
async fn many_sites_filter_by_site_code() {
    let app = TestApp::new().await;
    let (kencho, _) = seed(&app).await;
    add_terminal(&app, kencho, "kencho-pc01", "business").await;
    let sys = Actor::system("test");
    for i in 0..200 {
        let s = app
            .store()
            .create_site(
                &sys,
                &SiteInput {
                    code: format!("S{i:05}"),
                    name: format!("出先機関{i:03}"),
                    kind: "other".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("site");
        if i == 42 {
            add_terminal(&app, s.id, "dept042-pc01", "business").await;
        }
    }
    let c = app.login("staff").await;
    let t = c.get("/terminals").await.text();
    assert!(t.contains("name=\"site_code\""), "{t}");
    assert!(
        !t.contains("<select id=\"f-site\""),
        "no drop-down of 202 sites"
    );
    assert!(t.contains("全2件中"), "{t}");

    let t = c.get("/terminals?site_code=S00042").await.text();
    assert!(t.contains("全1件中"), "{t}");
    assert!(t.contains("dept042-pc01"), "{t}");
    assert!(
        t.contains("value=\"S00042\""),
        "the code stays in the field"
    );

    let t = c.get("/terminals?site_code=NOPE").await.text();
    assert!(
        t.contains("拠点コード「NOPE」は登録されていません。"),
        "{t}"
    );
    assert!(t.contains("全0件中"), "{t}");

    // A link by id (as from a site's page) shows that site's code in the field.
    let t = c.get(&format!("/terminals?site_id={kencho}")).await.text();
    assert!(t.contains("value=\"KENCHO\""), "{t}");
    assert!(t.contains("kencho-pc01"), "{t}");
}

/// In a large fleet the terminal and node forms take the site by its 拠点コード: a labelled text field instead
/// of a drop-down of every site, filled in on edit and after a failed submit. An unknown, retired or missing
/// code is an error on that field (with the other fields' errors) and nothing is saved. Small fleets keep
/// the drop-down.
#[tokio::test]
async fn many_sites_forms_take_the_site_code() {
    let app = TestApp::new().await;
    let (kencho, _) = seed(&app).await;
    let se = app.login("se").await;
    let t = se.get("/terminals/new").await.text();
    assert!(t.contains(r#"<select id="site_id" name="site_id""#), "{t}");
    assert!(!t.contains(r#"name="site_code""#), "{t}");

    let sys = Actor::system("test");
    let mut s42 = 0;
    for i in 0..200 {
        let s = app
            .store()
            .create_site(
                &sys,
                &SiteInput {
                    code: format!("S{i:05}"),
                    name: format!("出先機関{i:03}"),
                    kind: "other".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("site");
        match i {
            42 => s42 = s.id,
            7 => {
                app.store()
                    .retire_site(&sys, s.id, "統合のため")
                    .await
                    .expect("retire");
            }
            _ => {}
        }
    }
    // 201 sites in service.
    let t = se.get("/terminals/new").await.text();
    assert!(
        t.contains(
            r#"<label for="site_code">拠点（拠点コード） <span class="req">（必須）</span></label>"#
        ),
        "{t}"
    );
    assert!(t.contains(r#"<input type="text" id="site_code" name="site_code" value="""#));
    assert!(t.contains(r#"aria-describedby="hint-site_code""#), "{t}");
    assert!(t.contains("拠点コードで入力します"));
    assert!(
        !t.contains(r#"name="site_id""#),
        "no drop-down of 201 sites"
    );

    let form = |code: &'static str, ip: &'static str| {
        vec![
            ("site_code", code),
            ("hostname", "dept042-pc01"),
            ("kind", "business"),
            ("ip_address", ip),
            ("os_name", "Windows 11 Enterprise"),
        ]
    };
    for (code, message) in [
        ("NOPE", "拠点コード「NOPE」は登録されていません。"),
        (
            "S00007",
            "拠点コード「S00007」の拠点（出先機関007）は廃止されています。",
        ),
        ("  ", "拠点コードを入力してください。"),
    ] {
        let r = se.post_form("/terminals", &form(code, "10.41.42.1")).await;
        assert_eq!(r.status, 422, "{code}");
        let t = r.text();
        assert!(t.contains(message), "{t}");
        assert!(t.contains(r##"<a href="#site_code">"##), "{t}");
        assert!(
            t.contains(r#"aria-invalid="true" aria-describedby="hint-site_code err-site_code""#),
            "{t}"
        );
        assert!(t.contains(r#"<p class="field-error" id="err-site_code">"#));
        assert!(
            t.contains(&format!(r#"value="{}""#, code.trim())),
            "the code stays in the field"
        );
        assert!(t.contains(r#"value="dept042-pc01""#));
    }
    // Every mistake of one submit at once.
    let r = se
        .post_form("/terminals", &form("NOPE", "10.0.0.999"))
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(
        t.contains("拠点コード「NOPE」は登録されていません。"),
        "{t}"
    );
    assert!(
        t.contains("IPアドレス「10.0.0.999」の形式が正しくありません"),
        "{t}"
    );
    assert_eq!(terminal_count(&app).await, 0, "nothing saved");

    // A known code (spaces around it do not matter).
    let r = se
        .post_form("/terminals", &form(" S00042 ", "10.41.42.1"))
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id: i64 = r
        .location()
        .trim_start_matches("/terminals/")
        .trim_end_matches("?ok=saved")
        .parse()
        .expect("id");
    assert_eq!(app.store().terminal(id).await.expect("t").site_id, s42);
    let t = se.get(&format!("/terminals/{id}/edit")).await.text();
    assert!(
        t.contains(r#"id="site_code" name="site_code" value="S00042""#),
        "{t}"
    );
    let r = se
        .post_form(&format!("/terminals/{id}"), &form("KENCHO", "10.41.42.1"))
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(app.store().terminal(id).await.expect("t").site_id, kencho);
    let r = se
        .post_form(&format!("/terminals/{id}"), &form("S00007", "10.41.42.1"))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(app.store().terminal(id).await.expect("t").site_id, kencho);

    // The node form: the code is optional (empty: no site).
    let t = se.get("/nodes/new").await.text();
    assert!(
        t.contains(r#"<label for="site_code">設置拠点（拠点コード）</label>"#),
        "{t}"
    );
    assert!(!t.contains(r#"name="site_id""#));
    let node = |name: &'static str, code: &'static str| {
        vec![("name", name), ("kind", "switch"), ("site_code", code)]
    };
    let r = se.post_form("/nodes", &node("SW-042", "S00042")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let sw: i64 = r
        .location()
        .trim_start_matches("/nodes/")
        .trim_end_matches("?ok=saved")
        .parse()
        .expect("id");
    assert_eq!(app.store().node(sw).await.expect("n").site_id, Some(s42));
    let t = se.get(&format!("/nodes/{sw}/edit")).await.text();
    assert!(t.contains(r#"value="S00042""#), "{t}");
    let r = se.post_form("/nodes", &node("SW-x", "NOPE")).await;
    assert_eq!(r.status, 422);
    assert!(
        r.text()
            .contains("拠点コード「NOPE」は登録されていません。")
    );
    let r = se.post_form("/nodes", &node("SW-none", "")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let none: i64 = r
        .location()
        .trim_start_matches("/nodes/")
        .trim_end_matches("?ok=saved")
        .parse()
        .expect("id");
    assert_eq!(app.store().node(none).await.expect("n").site_id, None);
}
