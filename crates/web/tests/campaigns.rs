//! Rollout campaigns (展開) and the compliance view (準拠状況) through the real router: the list with
//! progress, the form and its Japanese errors, the campaign page (inventories verify targets on view,
//! 「エージェント確認」 and 「SE申告」 never confused, stages, closing), the compliance grid with the reason
//! of a lagging cell one click away, its audited CSV/XLSX exports, and the API.

mod common;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use common::{Client, TestApp};
use serde_json::json;
use std::io::Cursor;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_store::audit::AuditQuery;
use unyo_store::inventory::{InventorySource, Submitter, body_digest};
use unyo_store::support::jst_today;
use unyo_store::{Actor, Store};

const BOM: &[u8] = b"\xEF\xBB\xBF";

struct World {
    kencho: i64,
    rep: i64,
    biz: i64,
    far: i64,
    work_biz: i64,
    work_rep: i64,
}

async fn world(app: &TestApp) -> World {
    let sys = Actor::system("test");
    let s = app.store();
    let se = s.user_by_name("se").await.expect("q").expect("se").id;
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = s
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site")
        .id;
    let tosu = s
        .create_site(&sys, &site("TOSU", "鳥栖保健福祉事務所", "hofuku"))
        .await
        .expect("site")
        .id;
    let terminal = |site_id: i64, host: &str, kind: &str| TerminalInput {
        site_id: Some(site_id),
        hostname: host.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let rep = s
        .create_terminal(&sys, &terminal(kencho, "jk-kencho-rep01", "representative"))
        .await
        .expect("t")
        .id;
    let biz = s
        .create_terminal(&sys, &terminal(kencho, "jk-kencho-biz01", "business"))
        .await
        .expect("t")
        .id;
    let far = s
        .create_terminal(&sys, &terminal(tosu, "jk-tosu-biz01", "business"))
        .await
        .expect("t")
        .id;
    let contract = s
        .create_contract(
            &sys,
            &ContractInput {
                name: "運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "2020-04-01".into(),
                term_end: "2099-03-31".into(),
                contractor: "株式会社サンプル".into(),
                manager: String::new(),
                staff_ids: vec![se],
            },
        )
        .await
        .expect("contract")
        .id;
    let work = |terminal: i64, start: &str, end: &str| WorkInput {
        contract_id: Some(contract),
        work_date: jst_today().format("%Y-%m-%d").to_string(),
        start_time: start.into(),
        end_time: end.into(),
        worker_ids: vec![se],
        mode: "onsite".into(),
        site_id: Some(kencho),
        terminal_ids: vec![terminal],
        category: "antivirus_update".into(),
        description: "定義更新".into(),
        result: "正常終了".into(),
        ..Default::default()
    };
    let work_biz = s
        .create_work_entry(&sys, &work(biz, "09:00", "09:30"))
        .await
        .expect("work")
        .id;
    let work_rep = s
        .create_work_entry(&sys, &work(rep, "10:00", "10:30"))
        .await
        .expect("work")
        .id;
    World {
        kencho,
        rep,
        biz,
        far,
        work_biz,
        work_rep,
    }
}

/// The FusionInventory sample reported by `host` (its own UUID unless `machine` is 0).
async fn report(s: &Store, host: &str, machine: u32) {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../inventory/tests/samples/fusioninventory-2.xml"),
    )
    .expect("sample");
    let mut snap = unyo_inventory::parse_any(&bytes).expect("parses");
    snap.hostname = Some(host.into());
    if machine > 0 {
        snap.uuid = Some(format!("33E737A8-F827-11DF-9297-47C0A30100{machine:02}"));
        snap.serial = Some(format!("CZC04797{machine:02}"));
        snap.device_id = Some(format!("{host}-2017-04-18-09-26-44"));
    }
    let (sha, size) = body_digest(&bytes);
    let out = s
        .store_inventory(
            &Submitter::Person(Actor::system("test")),
            &snap,
            &sha,
            size,
            InventorySource::File,
        )
        .await
        .expect("stored");
    assert!(out.terminal_id.is_some(), "{host} matched");
}

/// Writes a page to `$UNYO_SCREENS_DIR/{name}.html` (stylesheet made local) when that variable is set,
/// so that the screens can be looked at (e.g. `chromium --headless --screenshot`).
fn dump(name: &str, html: &str) {
    if let Ok(dir) = std::env::var("UNYO_SCREENS_DIR") {
        let css = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/unyo.css");
        let html = html.replace("/static/unyo.css", &format!("file://{}", css.display()));
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("{name}.html")),
            html,
        );
    }
}

/// The `<tr>` of terminal `tid` on a campaign page.
fn row(page: &str, tid: i64) -> String {
    let start = page
        .find(&format!("<tr id=\"t-{tid}\""))
        .unwrap_or_else(|| panic!("row of {tid}"));
    let rest = &page[start..];
    rest[..rest.find("</tr>").expect("end of row")].to_string()
}

fn campaign_id(location: &str) -> i64 {
    location
        .trim_start_matches("/campaigns/")
        .split('?')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("campaign location {location}"))
}

async fn create_av(se: &Client) -> i64 {
    let r = se
        .post_form(
            "/campaigns",
            &[
                ("title", "Windows Defender 定義の更新"),
                ("goal_type", "antivirus"),
                ("product_pattern", "Windows Defender"),
                ("target", "all"),
                ("staged", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    campaign_id(&r.location())
}

#[tokio::test]
async fn campaign_pages_verify_from_inventories_and_never_confuse_evidence() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    let staff = app.login("staff").await;
    let auditor = app.login("auditor").await;

    // The form: for those who manage campaigns only.
    let r = se.get("/campaigns/new").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(
        t.contains("展開の登録") && t.contains("jk-kencho-rep01"),
        "{t}"
    );
    assert_eq!(staff.get("/campaigns/new").await.status, 403);
    assert_eq!(
        auditor
            .post_form("/campaigns", &[("title", "x"), ("goal_type", "free_task")])
            .await
            .status,
        403
    );
    // Japanese errors, the form kept as typed.
    let r = se
        .post_form(
            "/campaigns",
            &[
                ("title", "アプリ更新"),
                ("goal_type", "app"),
                ("name_pattern", "住基アプリ"),
                ("target", "sites"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    dump("campaign_form_errors", &t);
    assert!(
        t.contains("目標バージョンを入力してください（例: 3.2.1）。"),
        "{t}"
    );
    assert!(t.contains("href=\"#app_min_version\""), "{t}");
    assert!(t.contains("拠点を1つ以上選択してください。"), "{t}");
    assert!(t.contains("value=\"住基アプリ\""));

    let id = create_av(&se).await;
    let r = se.get(&format!("/campaigns/{id}?ok=saved")).await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("保存しました。"));
    assert!(t.contains("第1段階（代表端末）") && t.contains("第2段階（業務端末）"));
    assert!(t.contains("0/3 実施済"), "{t}");
    assert!(t.contains("インベントリなし"));

    // The representative terminal reports: viewing the page verifies it from the inventory alone.
    report(app.store(), "jk-kencho-rep01", 0).await;
    let r = auditor.get(&format!("/campaigns/{id}")).await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("インベントリで 1 台の実施を確認しました"), "{t}");
    let rep = row(&t, w.rep);
    assert!(
        rep.contains("実施済") && rep.contains("エージェント確認"),
        "{rep}"
    );
    assert!(!rep.contains("SE申告"), "{rep}");
    assert!(rep.contains(&format!("/inventory/terminals/{}", w.rep)));
    assert!(
        rep.contains("Windows Defender（定義は最新と報告）"),
        "{rep}"
    );
    assert!(t.contains("1/3 実施済"));

    // The SE attests the business terminal with its work entry: 「SE申告」, never 「エージェント確認」.
    let r = se
        .post_form(
            &format!("/campaigns/{id}/attest"),
            &[
                ("terminal_id", &w.biz.to_string()),
                ("status", "done"),
                ("work_entry_id", &w.work_biz.to_string()),
                ("witness", "県職員 花子"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&format!("/campaigns/{id}")).await.text();
    dump("campaign_detail", &t);
    let biz = row(&t, w.biz);
    assert!(biz.contains("実施済") && biz.contains("SE申告"), "{biz}");
    assert!(!biz.contains("エージェント確認"), "{biz}");
    assert!(
        biz.contains(&format!("href=\"/work/{}\"", w.work_biz)),
        "{biz}"
    );
    assert!(biz.contains("県職員 花子"));
    // Staff may confirm the witness; the button is theirs.
    assert!(!biz.contains("立会いを確認"));
    let st = staff.get(&format!("/campaigns/{id}")).await.text();
    assert!(row(&st, w.biz).contains("立会いを確認"));
    let r = staff
        .post_form(
            &format!("/campaigns/{id}/witness"),
            &[("terminal_id", &w.biz.to_string())],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(row(&se.get(&format!("/campaigns/{id}")).await.text(), w.biz).contains("確認済"));
    // Staff cannot attest.
    let r = staff
        .post_form(
            &format!("/campaigns/{id}/attest"),
            &[("terminal_id", &w.far.to_string()), ("status", "failed")],
        )
        .await;
    assert_eq!(r.status, 403);

    // Missing work entry: 422 with the field named.
    let r = se
        .post_form(
            &format!("/campaigns/{id}/attest"),
            &[("terminal_id", &w.far.to_string()), ("status", "done")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("作業記録の番号を入力してください"));

    // Closing is refused while a terminal is pending: 409 with the reason.
    let r = se.post_form(&format!("/campaigns/{id}/close"), &[]).await;
    assert_eq!(r.status, 409);
    assert!(r.text().contains("完了にできません"), "{}", r.text());
    let r = se
        .post_form(
            &format!("/campaigns/{id}/exclude"),
            &[("terminal_id", &w.far.to_string()), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("対象外の理由を入力してください。"));
    let r = se
        .post_form(
            &format!("/campaigns/{id}/exclude"),
            &[
                ("terminal_id", &w.far.to_string()),
                ("reason", "移設作業中のため"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    // Closing asks first, saying what it does; nothing changes until confirmed.
    let r = se.post_form(&format!("/campaigns/{id}/close"), &[]).await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("id=\"confirm-form\""), "{t}");
    assert!(t.contains("この展開を完了にします。"), "{t}");
    assert!(t.contains("name=\"confirmed\" value=\"1\""), "{t}");
    assert!(
        !se.get(&format!("/campaigns/{id}"))
            .await
            .text()
            .contains("この展開は完了しています。"),
        "not closed before the confirmation"
    );
    let r = se
        .post_form(&format!("/campaigns/{id}/close"), &[("confirmed", "1")])
        .await;
    assert_eq!(r.status, 303);
    let t = se.get(&format!("/campaigns/{id}")).await.text();
    assert!(t.contains("この展開は完了しています。"));
    assert!(t.contains("2/2 実施済（対象外 1台）"), "{t}");
    assert!(
        !t.contains("action=\"/campaigns/"),
        "no forms on a closed campaign"
    );

    // The list.
    let t = auditor.get("/campaigns").await.text();
    dump("campaign_list", &t);
    assert!(t.contains("Windows Defender 定義の更新"));
    assert!(t.contains("2/2 実施済（対象外 1台）"));
    assert!(t.contains("■■■■■■■■■■"));
    assert!(t.contains("aria-current=\"page\">展開</a>"), "nav entry");
}

#[tokio::test]
async fn stages_hold_back_business_terminals_on_the_page() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    let id = create_av(&se).await;
    let r = se
        .post_form(
            &format!("/campaigns/{id}/attest"),
            &[
                ("terminal_id", &w.biz.to_string()),
                ("status", "done"),
                ("work_entry_id", &w.work_biz.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(
        r.text().contains(
            "代表端末（jk-kencho-rep01）の実施済が確認されるまで、業務端末は実施済にできません。"
        ),
        "{}",
        r.text()
    );
    assert!(r.text().contains("第1段階の代表端末がすべて実施済"));
    let r = se
        .post_form(
            &format!("/campaigns/{id}/attest"),
            &[
                ("terminal_id", &w.rep.to_string()),
                ("status", "done"),
                ("work_entry_id", &w.work_rep.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let t = se.get(&format!("/campaigns/{id}")).await.text();
    assert!(!t.contains("第1段階の代表端末がすべて実施済"));
}

#[tokio::test]
async fn compliance_grid_shows_lagging_cells_with_their_reason_and_exports() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    let staff = app.login("staff").await;
    let r = se
        .post_form(
            "/campaigns",
            &[
                ("title", "Windows 10 22H2"),
                ("goal_type", "os_build"),
                ("min_build", "10.0.19045"),
                ("target", "all"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    report(app.store(), "jk-kencho-rep01", 0).await;
    report(app.store(), "jk-tosu-biz01", 3).await;

    let r = staff.get("/compliance").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    dump("compliance", &t);
    assert!(t.contains("aria-current=\"page\">準拠状況</a>"));
    let cell = {
        let start = t
            .find(&format!("id=\"c-{}-0\"", w.rep))
            .expect("rep's OS cell");
        let rest = &t[start..];
        rest[..rest.find("</td>").expect("end")].to_string()
    };
    assert!(cell.contains("cell-lagging"), "{cell}");
    assert!(cell.contains("⚠") && cell.contains("遅れ"), "{cell}");
    assert!(cell.contains("<details>"), "{cell}");
    assert!(
        cell.contains("OSビルド 6.3.9600 は目標 10.0.19045 未満です"),
        "{cell}"
    );
    let unknown = {
        let start = t
            .find(&format!("id=\"c-{}-0\"", w.biz))
            .expect("biz's OS cell");
        let rest = &t[start..];
        rest[..rest.find("</td>").expect("end")].to_string()
    };
    assert!(unknown.contains("不明") && unknown.contains("インベントリがありません"));
    assert!(
        !t.contains("os_build_baseline"),
        "staff cannot set the baseline"
    );

    // Filters.
    let t = staff
        .get(&format!(
            "/compliance?site_id={}&kind=representative",
            w.kencho
        ))
        .await
        .text();
    assert!(t.contains("jk-kencho-rep01") && !t.contains("jk-tosu-biz01"));

    // Baseline.
    assert!(
        se.get("/compliance")
            .await
            .text()
            .contains("os_build_baseline")
    );
    let r = se
        .post_form("/compliance/baseline", &[("os_build_baseline", "最新")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("基準OSビルドの形式が正しくありません"));
    let r = se
        .post_form(
            "/compliance/baseline",
            &[("os_build_baseline", "10.0.22631")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        staff
            .post_form("/compliance/baseline", &[("os_build_baseline", "1")])
            .await
            .status,
        403
    );

    // Exports: audited.
    let r = staff.get("/compliance/export.csv").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert!(r.body.starts_with(BOM));
    let text = String::from_utf8(r.body[3..].to_vec()).expect("utf-8");
    assert!(text.starts_with("ホスト名,拠点,種別,項目,期待値,実測値,判定,理由"));
    assert!(
        text.contains(
            "jk-kencho-rep01,県庁,代表端末,OSビルド,≥ 10.0.22631,6.3.9600,遅れ,OSビルド 6.3.9600 は目標 10.0.22631 未満です"
        ),
        "{text}"
    );
    let r = staff
        .get(&format!("/compliance/export.xlsx?site_id={}", w.kencho))
        .await;
    assert_eq!(r.status, 200);
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.body)).expect("xlsx");
    let range = wb.worksheet_range("準拠状況").expect("sheet");
    assert_eq!(
        range.get_size().0,
        3,
        "header and the two terminals at 県庁"
    );
    assert_eq!(
        range.get((1, 4)),
        Some(&Data::String("遅れ: 6.3.9600".into()))
    );
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.compliance".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(log.total, 2);
    assert!(log.items.iter().all(|e| e.actor == "staff"));
}

#[tokio::test]
async fn campaigns_through_the_api() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let c = app.anonymous();
    let token = |name: &'static str| {
        let app = &app;
        async move {
            let user = app
                .store()
                .user_by_name(name)
                .await
                .expect("q")
                .expect("user");
            app.store()
                .create_api_token(&user.actor("test"), user.id, "test")
                .await
                .expect("token")
        }
    };
    let se = token("se").await;
    let staff = token("staff").await;

    let body = json!({
        "title": "Windows Defender 定義",
        "goal_type": "antivirus",
        "product_pattern": "Windows Defender",
        "target": "terminals",
        "terminal_ids": [w.rep, w.biz],
        "staged": true,
    });
    assert_eq!(
        c.api("POST", "/api/v1/campaigns", &staff, Some(body.clone()))
            .await
            .status,
        403
    );
    let r = c.api("POST", "/api/v1/campaigns", &se, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let id = v["id"].as_i64().expect("id");
    assert_eq!(r.location(), format!("/api/v1/campaigns/{id}"));
    assert_eq!(v["goal"]["type"], "antivirus");
    assert_eq!(v["progress"]["total"], 2);

    let r = c
        .api(
            "POST",
            "/api/v1/campaigns",
            &se,
            Some(json!({"title": "", "goal_type": "os_build", "target": "all", "nope": 1})),
        )
        .await;
    assert_eq!(r.status, 422);

    report(app.store(), "jk-kencho-rep01", 0).await;
    let r = c
        .api("GET", &format!("/api/v1/campaigns/{id}"), &staff, None)
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let rep = v["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["terminal_id"] == w.rep)
        .expect("rep")
        .clone();
    assert_eq!(rep["status"], "done");
    assert_eq!(rep["evidence_kind"], "agent");
    assert!(rep["inventory_id"].is_i64());

    let r = c
        .api(
            "POST",
            &format!("/api/v1/campaigns/{id}/targets/{}/attest", w.biz),
            &se,
            Some(json!({"status": "done", "work_entry_id": w.work_biz})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["evidence_kind"], "attested");
    assert!(v["inventory_id"].is_null());

    let r = c
        .api("GET", "/api/v1/campaigns?status=open", &staff, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"][0]["progress"]["done"], 2);
    assert_eq!(
        c.api("GET", "/api/v1/campaigns?status=nope", &staff, None)
            .await
            .status,
        400
    );
    let r = c
        .api("POST", &format!("/api/v1/campaigns/{id}/close"), &se, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "closed");
    let r = c
        .api("POST", &format!("/api/v1/campaigns/{id}/close"), &se, None)
        .await;
    assert_eq!(r.status, 409);

    let r = c
        .api("GET", "/api/v1/compliance?kind=business", &staff, None)
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["rows"].as_array().expect("rows").len(), 2);
    assert_eq!(v["items"][0]["label"], "OSビルド");
}
