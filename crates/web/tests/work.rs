//! The work pages through the real router: the work log (list, forms, validation from the store, detail
//! with hours, history and attachments), contracts, exports, the calendar and the workload summary, with
//! the permissions of every role.

mod common;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use common::{Client, TestApp};
use std::io::Cursor;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, RequestInput, TransitionInput};
use unyo_store::audit::AuditQuery;
use unyo_store::support::WorkQuery;
use unyo_store::{Actor, Store};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the tests work with.
struct World {
    contract: i64,
    site: i64,
    other_site: i64,
    rep: i64,
    biz: i64,
    far: i64,
    se: i64,
}

async fn user_id(store: &Store, name: &str) -> i64 {
    store.user_by_name(name).await.expect("q").expect("user").id
}

/// A contract for 令和8年度 with the SE as staff, two sites and three terminals.
async fn world(app: &TestApp) -> World {
    let sys = Actor::system("test");
    let store = app.store();
    let se = user_id(store, "se").await;
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
        .expect("contract");
    let site = |code: &str, name: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: "honcho".into(),
        ..Default::default()
    };
    let kencho = store
        .create_site(&sys, &site("KENCHO", "県庁"))
        .await
        .expect("site");
    let tosu = store
        .create_site(
            &sys,
            &SiteInput {
                kind: "hofuku".into(),
                ..site("TOSU", "鳥栖保健福祉事務所")
            },
        )
        .await
        .expect("site 2");
    let terminal = |site: i64, host: &str, kind: &str| TerminalInput {
        site_id: Some(site),
        hostname: host.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let rep = store
        .create_terminal(
            &sys,
            &terminal(kencho.id, "jk-kencho-rep01", "representative"),
        )
        .await
        .expect("rep");
    let biz = store
        .create_terminal(&sys, &terminal(kencho.id, "jk-kencho-biz01", "business"))
        .await
        .expect("biz");
    let far = store
        .create_terminal(&sys, &terminal(tosu.id, "jk-tosu-biz01", "business"))
        .await
        .expect("far");
    World {
        contract: contract.id,
        site: kencho.id,
        other_site: tosu.id,
        rep: rep.id,
        biz: biz.id,
        far: far.id,
        se,
    }
}

/// A work form for the SE on 2026-05-12 at 県庁.
fn form(w: &World, start: &str, end: &str) -> Vec<(String, String)> {
    [
        ("contract_id", w.contract.to_string()),
        ("work_date", "2026-05-12".into()),
        ("start_time", start.into()),
        ("end_time", end.into()),
        ("worker_ids", w.se.to_string()),
        ("mode", "onsite".into()),
        ("site_id", w.site.to_string()),
        ("terminal_ids", w.rep.to_string()),
        ("terminal_ids", w.biz.to_string()),
        ("category", "app_install".into()),
        ("description", "業務アプリ更新版のインストール".into()),
        ("result", "正常終了".into()),
        ("follow_up", "".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn post(c: &Client, path: &str, fields: &[(String, String)]) -> common::Resp {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form(path, &pairs).await
}

fn set(fields: &mut [(String, String)], key: &str, value: &str) {
    for (k, v) in fields.iter_mut() {
        if k == key {
            *v = value.to_string();
        }
    }
}

async fn count(app: &TestApp) -> usize {
    app.store()
        .work_entries_all(&WorkQuery::default())
        .await
        .expect("q")
        .len()
}

/// Logs the standard entry as the SE and returns its id.
async fn log_one(app: &TestApp, w: &World) -> i64 {
    let se = app.login("se").await;
    let r = post(&se, "/work", &form(w, "09:00", "10:30")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.location();
    assert!(loc.ends_with("?ok=saved"), "{loc}");
    loc.trim_start_matches("/work/")
        .trim_end_matches("?ok=saved")
        .parse()
        .expect("id in location")
}

#[tokio::test]
async fn se_logs_work_and_the_detail_shows_hours_clause_and_history() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    // The new form offers the current contract, the SE as worker, and terminals by site.
    let r = se.get("/work/new").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("R8-情-001"), "{t}");
    assert!(t.contains("令和8年4月1日～令和9年3月31日"), "{t}");
    assert!(t.contains(&format!("name=\"worker_ids\" value=\"{}\"", w.se)));
    assert!(t.contains("type=\"time\""));
    assert!(t.contains("jk-tosu-biz01"));
    assert!(t.contains("鳥栖保健福祉事務所"));

    let id = log_one(&app, &w).await;
    let r = se.get(&format!("/work/{id}?ok=saved")).await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("保存しました"), "{t}");
    assert!(t.contains("<span id=\"hours\">1.5時間</span>"), "{t}");
    assert!(t.contains("令和8年5月12日（火）"), "{t}");
    assert!(t.contains("09:00–10:30"));
    assert!(t.contains("se さん"), "worker's display name: {t}");
    // A representative terminal makes an install clause ①.
    assert!(t.contains("①（①代表端末に係る運用支援）"), "{t}");
    assert!(t.contains("jk-kencho-biz01, jk-kencho-rep01"), "{t}");
    assert!(t.contains("変更履歴"));
    assert!(t.contains("登録"));

    // The list shows the row and the total.
    let r = se.get("/work").await;
    let t = r.text();
    assert!(t.contains("令和8年5月12日（火）"), "{t}");
    assert!(t.contains("① 業務アプリケーションのインストール"), "{t}");
    assert!(t.contains("<span id=\"total-hours\">1.5時間</span>"), "{t}");

    // Edit: the change shows up in the history, in words.
    let mut f = form(&w, "09:00", "11:00");
    set(&mut f, "mode", "remote");
    let r = post(&se, &format!("/work/{id}"), &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&format!("/work/{id}")).await.text();
    assert!(t.contains("<span id=\"hours\">2時間</span>"), "{t}");
    assert!(t.contains("終了時刻: 10:30 → 11:00"), "{t}");
    assert!(t.contains("現地/リモート: 現地 → リモート"), "{t}");
    // The edit form comes back filled in.
    let t = se.get(&format!("/work/{id}/edit")).await.text();
    assert!(t.contains("value=\"11:00\""), "{t}");
    assert!(t.contains(&format!(
        "id=\"terminal-{}\" name=\"terminal_ids\" value=\"{}\" checked",
        w.rep, w.rep
    )));
}

#[tokio::test]
async fn an_overlapping_entry_is_refused_with_the_japanese_message_and_nothing_saved() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    log_one(&app, &w).await;
    let se = app.login("se").await;
    let mut f = form(&w, "10:00", "11:00");
    set(&mut f, "description", "重なる作業の説明");
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("時間が重なっています"), "{t}");
    assert!(t.contains("error-summary"));
    assert!(
        t.contains("href=\"#start_time\""),
        "summary links to the field: {t}"
    );
    assert!(
        t.contains("id=\"err-start_time\""),
        "error next to the field: {t}"
    );
    // Values kept.
    assert!(t.contains("重なる作業の説明"));
    assert!(t.contains("value=\"10:00\""));
    assert_eq!(count(&app).await, 1, "nothing saved");
    // Touching ends are fine.
    let r = post(&se, "/work", &form(&w, "10:30", "11:00")).await;
    assert_eq!(r.status, 303, "{}", r.text());
}

#[tokio::test]
async fn other_validation_errors_come_back_next_to_their_fields() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    // Outside the contract term.
    let mut f = form(&w, "09:00", "10:00");
    set(&mut f, "work_date", "令和9年4月1日");
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(
        t.contains("契約期間（令和8年4月1日～令和9年3月31日）の外です"),
        "{t}"
    );
    assert!(t.contains("id=\"err-work_date\""));
    // End before start.
    let r = post(&se, "/work", &form(&w, "10:00", "09:00")).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("終了時刻は開始時刻より後にしてください"));
    // A terminal at another site.
    let mut f = form(&w, "09:00", "10:00");
    f.push(("terminal_ids".into(), w.far.to_string()));
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(
        t.contains("端末 jk-tosu-biz01 は選択した拠点に設置されていません"),
        "{t}"
    );
    assert!(t.contains("id=\"err-terminal_ids\""));
    // A worker not assigned to the contract.
    let admin_id = user_id(app.store(), "admin").await;
    let mut f = form(&w, "09:00", "10:00");
    f.push(("worker_ids".into(), admin_id.to_string()));
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("担当者に登録されていないため"));
    // Required fields missing.
    let r = post(&se, "/work", &[]).await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("契約を選択してください"), "{t}");
    assert!(t.contains("作業者を1人以上選択してください"));
    assert_eq!(count(&app).await, 0, "nothing saved");
}

#[tokio::test]
async fn only_se_and_admin_log_work() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for who in ["staff", "auditor"] {
        let c = app.login(who).await;
        let r = post(&c, "/work", &form(&w, "09:00", "10:00")).await;
        assert_eq!(r.status, 403, "{who}");
        assert_eq!(c.get("/work/new").await.status, 403, "{who}");
        // Reading is allowed.
        assert_eq!(c.get("/work").await.status, 200, "{who}");
        assert!(
            !c.get("/work").await.text().contains("href=\"/work/new\""),
            "{who}"
        );
    }
    assert_eq!(count(&app).await, 0);
    let id = log_one(&app, &w).await;
    for who in ["staff", "auditor"] {
        let c = app.login(who).await;
        assert_eq!(c.get(&format!("/work/{id}")).await.status, 200, "{who}");
        assert_eq!(
            c.get(&format!("/work/{id}/edit")).await.status,
            403,
            "{who}"
        );
        let r = post(&c, &format!("/work/{id}"), &form(&w, "09:00", "10:00")).await;
        assert_eq!(r.status, 403, "{who}");
    }
    // Not logged in: to the login page.
    let r = app.anonymous().get("/work").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    // Unknown ids are 404.
    let se = app.login("se").await;
    assert_eq!(se.get("/work/9999").await.status, 404);
    assert_eq!(se.get("/work/abc").await.status, 404);
}

#[tokio::test]
async fn admin_manages_contracts_and_others_only_read_them() {
    let app = TestApp::new().await;
    let se_id = user_id(app.store(), "se").await;
    let admin = app.login("admin").await;
    let r = admin.get("/contracts/new").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains(&format!("id=\"staff-{se_id}\"")), "{t}");
    assert!(!t.contains("auditor さん"), "auditors are not staff");
    let fields: Vec<(String, String)> = [
        ("name", "住民基本台帳ネットワークシステム運用支援SE業務委託"),
        ("number", "R8-情-100"),
        ("term_start", "令和8年4月1日"),
        ("term_end", "2027-03-31"),
        ("contractor", "株式会社サンプル"),
        ("manager", "保守 太郎"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([("staff_ids".to_string(), se_id.to_string())])
    .collect();
    let r = post(&admin, "/contracts", &fields).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.location();
    let t = admin.get(&loc).await.text();
    assert!(t.contains("保存しました"));
    assert!(t.contains("令和8年4月1日～令和9年3月31日"), "{t}");
    assert!(t.contains("se さん"));
    assert!(t.contains("契約期間中"));
    // The list.
    let t = admin.get("/contracts").await.text();
    assert!(t.contains("R8-情-100"));
    // Duplicate number: 422 next to the number.
    let r = post(&admin, "/contracts", &fields).await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("既に登録されています"), "{t}");
    assert!(t.contains("id=\"err-number\""), "{t}");
    // End before start.
    let mut bad = fields.clone();
    set(&mut bad, "number", "R8-情-101");
    set(&mut bad, "term_end", "令和8年3月31日");
    let r = post(&admin, "/contracts", &bad).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("終了日は開始日以降"));
    // Edit: the form shows the term in 和暦 and the history records the change.
    let id = loc
        .trim_start_matches("/contracts/")
        .trim_end_matches("?ok=saved");
    let t = admin.get(&format!("/contracts/{id}/edit")).await.text();
    assert!(t.contains("value=\"令和9年3月31日\""), "{t}");
    let mut changed = fields.clone();
    set(&mut changed, "manager", "運用 次郎");
    let r = post(&admin, &format!("/contracts/{id}"), &changed).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = admin.get(&format!("/contracts/{id}")).await.text();
    assert!(t.contains("作業責任者: 保守 太郎 → 運用 次郎"), "{t}");

    // Everyone else reads, nobody else writes.
    for who in ["se", "staff", "auditor"] {
        let c = app.login(who).await;
        assert_eq!(c.get("/contracts").await.status, 200, "{who}");
        assert_eq!(
            c.get(&format!("/contracts/{id}")).await.status,
            200,
            "{who}"
        );
        assert_eq!(c.get("/contracts/new").await.status, 403, "{who}");
        let mut f = fields.clone();
        set(&mut f, "number", &format!("R8-{who}"));
        assert_eq!(post(&c, "/contracts", &f).await.status, 403, "{who}");
        assert_eq!(
            post(&c, &format!("/contracts/{id}"), &f).await.status,
            403,
            "{who}"
        );
    }
    assert_eq!(app.store().contracts().await.expect("q").len(), 1);
}

#[tokio::test]
async fn csv_export_has_bom_japanese_header_the_row_and_is_audited() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = log_one(&app, &w).await;
    let auditor = app.login("auditor").await;
    let r = auditor
        .get(
            "/work/export.csv?from=2026-05-01&to=%E4%BB%A4%E5%92%8C8%E5%B9%B45%E6%9C%8831%E6%97%A5",
        )
        .await;
    assert_eq!(r.status, 200);
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let cd = r
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E4%BD%9C%E6%A5%AD%E8%A8%98%E9%8C%B2_"),
        "{cd}"
    );
    assert!(r.body.starts_with(BOM));
    let text = String::from_utf8(r.body[3..].to_vec()).expect("utf-8");
    assert!(
        text.starts_with("記録番号,契約番号,作業日,作業日（和暦）,曜日"),
        "{text}"
    );
    assert!(text.contains("\r\n"));
    assert!(
        text.contains(&format!(
            "{id},R8-情-001,2026-05-12,令和8年5月12日,火,09:00,10:30,1.5,se さん,現地,県庁,"
        )),
        "{text}"
    );
    assert!(text.contains("業務アプリ更新版のインストール"));
    // A period without work exports only the header.
    let r = auditor.get("/work/export.csv?from=2026-06-01").await;
    let text = String::from_utf8(r.body[3..].to_vec()).expect("utf-8");
    assert_eq!(text.matches("\r\n").count(), 1, "{text}");
    // Both exports are in the audit log, with the filter.
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.work".into()),
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(log.total, 2);
    let details = log
        .items
        .iter()
        .map(|e| e.details.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(details.contains("\"rows\":1"), "{details}");
    assert!(details.contains("2026-05-01"), "{details}");
    assert!(log.items.iter().all(|e| e.actor == "auditor"));
}

#[tokio::test]
async fn xlsx_export_is_a_valid_workbook() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    log_one(&app, &w).await;
    let staff = app.login("staff").await;
    let r = staff.get("/work/export.xlsx").await;
    assert_eq!(r.status, 200);
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.body)).expect("valid xlsx");
    let range = wb.worksheet_range("作業記録").expect("sheet");
    assert_eq!(range.get((0, 0)), Some(&Data::String("記録番号".into())));
    assert_eq!(
        range.get((1, 3)),
        Some(&Data::String("令和8年5月12日".into()))
    );
    assert_eq!(range.get((1, 7)), Some(&Data::Float(1.5)));
    assert_eq!(range.get((2, 0)), Some(&Data::String("合計".into())));
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("export.work".into()),
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(log.total, 1);
    assert!(log.items[0].details.contains("xlsx"));
}

#[tokio::test]
async fn list_filters_and_paging() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    // Three entries on three days.
    for (day, start) in [
        ("2026-05-11", "09:00"),
        ("2026-05-12", "09:00"),
        ("2026-06-01", "13:00"),
    ] {
        let mut f = form(&w, start, "");
        set(&mut f, "work_date", day);
        let end = if start == "09:00" { "10:00" } else { "14:30" };
        set(&mut f, "end_time", end);
        assert_eq!(post(&se, "/work", &f).await.status, 303);
    }
    let t = se.get("/work").await.text();
    assert!(t.contains("全3件中 1–3件"), "{t}");
    assert!(t.contains("<span id=\"total-hours\">3.5時間</span>"), "{t}");
    let t = se
        .get("/work?from=2026-05-12&to=%E4%BB%A4%E5%92%8C8%E5%B9%B46%E6%9C%8830%E6%97%A5")
        .await
        .text();
    assert!(t.contains("全2件中"), "{t}");
    assert!(t.contains("<span id=\"total-hours\">2.5時間</span>"), "{t}");
    // The export links carry the filter (askama escapes `&`).
    assert!(
        t.contains("/work/export.csv?from=2026-05-12&#38;to="),
        "{t}"
    );
    let t = se
        .get(&format!("/work?site_id={}", w.other_site))
        .await
        .text();
    assert!(t.contains("該当するデータはありません"), "{t}");
    let t = se.get("/work?request=R8-9999").await.text();
    assert!(t.contains("該当するデータはありません"), "{t}");
    let t = se.get("/work?q=%E6%9B%B4%E6%96%B0%E7%89%88").await.text();
    assert!(t.contains("全3件中"), "search in descriptions: {t}");
    let t = se.get("/work?from=bad-date").await.text();
    assert!(t.contains("日付の形式が正しくありません"), "{t}");
    let t = se.get("/work?per_page=20&page=2").await.text();
    assert!(
        t.contains("2 / 1 ページ") || t.contains("該当するデータはありません"),
        "{t}"
    );
}

#[tokio::test]
async fn the_form_can_start_from_a_request_and_link_to_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    let req = app
        .store()
        .create_request_on(
            &staff.actor("test"),
            &RequestInput {
                title: "ウイルス定義の更新".into(),
                category: "antivirus_update".into(),
                site_ids: vec![w.site],
                terminal_ids: vec![w.biz],
                description: "定義ファイル更新".into(),
                ..Default::default()
            },
            chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("d"),
        )
        .await
        .expect("request");
    let se = app.login("se").await;
    let t = se
        .get(&format!("/work/new?request_id={}", req.id))
        .await
        .text();
    assert!(t.contains("支援要請の内容"), "{t}");
    assert!(
        t.contains(&format!(
            "<option value=\"{}\" selected>{} ウイルス定義の更新",
            req.id, req.number
        )),
        "{t}"
    );
    assert!(
        t.contains("<option value=\"antivirus_update\" selected>"),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "id=\"terminal-{}\" name=\"terminal_ids\" value=\"{}\" checked",
            w.biz, w.biz
        )),
        "{t}"
    );
    let mut f = form(&w, "09:00", "10:00");
    f.retain(|(k, _)| k != "terminal_ids");
    f.push(("terminal_ids".into(), w.biz.to_string()));
    set(&mut f, "category", "antivirus_update");
    f.push(("request_id".into(), req.id.to_string()));
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&r.location()).await.text();
    assert!(
        t.contains(&format!("href=\"/requests/{}\">{}</a>", req.id, req.number)),
        "{t}"
    );
    assert!(
        t.contains("②（②業務端末に係る運用支援）"),
        "business terminal only: {t}"
    );
    // Filter the list by the request number.
    let t = se
        .get(&format!("/work?request={}", req.number))
        .await
        .text();
    assert!(t.contains("全1件中"), "{t}");
}

#[tokio::test]
async fn calendar_shows_planned_and_done_work_on_their_days() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = log_one(&app, &w).await;
    // A request accepted for 2026-05-20.
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    let se = app.store().user_by_name("se").await.expect("q").expect("u");
    let req = app
        .store()
        .create_request_on(
            &staff.actor("test"),
            &RequestInput {
                title: "疎通確認".into(),
                category: "connectivity_check".into(),
                site_ids: vec![w.site],
                description: "確認".into(),
                ..Default::default()
            },
            chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("d"),
        )
        .await
        .expect("request");
    app.store()
        .transition_request(
            &se.actor("test"),
            req.id,
            &TransitionInput {
                action: "accept".into(),
                planned_date: "2026-05-20".into(),
                ..Default::default()
            },
        )
        .await
        .expect("accept");
    let c = app.login("staff").await;
    let r = c.get("/calendar?month=2026-05").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("<caption>令和8年5月</caption>"), "{t}");
    for d in ["日", "月", "火", "水", "木", "金", "土"] {
        assert!(t.contains(&format!("<th scope=\"col\">{d}</th>")), "{d}");
    }
    let day = |iso: &str| {
        let start = t.find(&format!("id=\"d-{iso}\"")).expect("day cell");
        let end = t[start..].find("</td>").expect("cell end") + start;
        t[start..end].to_string()
    };
    let cell = day("2026-05-12");
    assert!(cell.contains(&format!("href=\"/work/{id}\"")), "{cell}");
    assert!(cell.contains("実績"), "{cell}");
    assert!(cell.contains("09:00–10:30"), "{cell}");
    assert!(cell.contains("se さん・県庁"), "{cell}");
    let cell = day("2026-05-20");
    assert!(
        cell.contains(&format!("href=\"/requests/{}\"", req.id)),
        "{cell}"
    );
    assert!(cell.contains("予定"), "{cell}");
    assert!(!day("2026-05-13").contains("<li>"));
    assert!(
        t.contains("href=\"/calendar?month=2026-04\""),
        "previous month: {t}"
    );
    assert!(t.contains("href=\"/calendar?month=2026-06\""), "next month");
    // Filters by worker and site.
    let t = c
        .get(&format!("/calendar?month=2026-05&site_id={}", w.other_site))
        .await
        .text();
    assert!(!t.contains(&format!("href=\"/work/{id}\"")), "{t}");
    let t = c
        .get(&format!("/calendar?month=2026-05&worker_id={}", w.se))
        .await
        .text();
    assert!(t.contains(&format!("href=\"/work/{id}\"")));
    assert!(
        t.contains(&format!("href=\"/requests/{}\"", req.id)),
        "the SE is the assignee"
    );
    let admin_id = user_id(app.store(), "admin").await;
    let t = c
        .get(&format!("/calendar?month=2026-05&worker_id={admin_id}"))
        .await
        .text();
    assert!(!t.contains(&format!("href=\"/work/{id}\"")));
}

#[tokio::test]
async fn workload_shows_hours_by_category_and_clause_with_a_chart() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    log_one(&app, &w).await;
    let c = app.login("auditor").await;
    let r = c.get("/workload?fy=2026").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("令和8年度"), "{t}");
    assert!(t.contains("<svg"), "{t}");
    assert!(t.contains("role=\"img\""));
    assert!(
        t.contains("<title>令和8年度 月別作業時間（区分別）</title>"),
        "{t}"
    );
    assert!(!t.contains("style="), "CSP: no style attributes");
    assert!(t.contains(">4月<") && t.contains(">3月<"));
    assert!(t.contains("①代表端末に係る運用支援"));
    // Tables: May has 1.5 hours of installs, under ①.
    let table = |id: &str| {
        let start = t.find(&format!("id=\"{id}\"")).expect("table");
        let end = t[start..].find("</table>").expect("end") + start;
        t[start..end].to_string()
    };
    let cat = table("by-category");
    let row_start = cat
        .find("業務アプリケーションのインストール</th>")
        .expect("row");
    let row = &cat[row_start..row_start + cat[row_start..].find("</tr>").expect("tr")];
    assert!(
        row.contains("<td class=\"num\">0</td><td class=\"num\">1.5</td>"),
        "{row}"
    );
    assert!(row.contains("<strong>1.5</strong>"), "{row}");
    let clause = table("by-clause");
    assert!(clause.contains("①代表端末に係る運用支援</th>"), "{clause}");
    // Another fiscal year is empty.
    let t = c.get("/workload?fy=2025").await.text();
    assert!(t.contains("令和7年度"));
    assert!(t.contains("この年度の作業記録はありません"));
    // A wrong year falls back to this one rather than failing.
    assert_eq!(c.get("/workload?fy=abc").await.status, 200);
}

#[tokio::test]
async fn evidence_can_be_attached_to_a_work_entry() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = log_one(&app, &w).await;
    let se = app.login("se").await;
    let r = se
        .post_multipart(
            &format!("/work/{id}/attachments"),
            &[],
            (
                "file",
                "作業ログ.txt",
                "インストール 正常終了\r\n".as_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().ends_with("?ok=uploaded"));
    let t = se.get(&r.location()).await.text();
    assert!(t.contains("証跡ファイルを添付しました"), "{t}");
    assert!(t.contains("作業ログ.txt"), "{t}");
    assert!(t.contains("text/plain"));
    let list = app.store().attachments_of("work", id).await.expect("q");
    assert_eq!(list.len(), 1);
    assert!(t.contains(&format!("href=\"/attachments/{}\"", list[0].id)));
    // A program is refused, with the reason next to the file field.
    let r = se
        .post_multipart(
            &format!("/work/{id}/attachments"),
            &[],
            ("file", "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(t.contains("このファイル形式は添付できません"), "{t}");
    assert!(t.contains("id=\"err-file\""));
    // The auditor cannot upload.
    let auditor = app.login("auditor").await;
    let r = auditor
        .post_multipart(
            &format!("/work/{id}/attachments"),
            &[],
            ("file", "a.txt", b"text"),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        !auditor
            .get(&format!("/work/{id}"))
            .await
            .text()
            .contains("enctype=\"multipart/form-data\"")
    );
    assert_eq!(
        app.store()
            .attachments_of("work", id)
            .await
            .expect("q")
            .len(),
        1
    );
}

#[tokio::test]
async fn work_pages_are_in_english_too() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = log_one(&app, &w).await;
    let mut se = app.login("se").await;
    se.cookie.push_str("; unyo_lang=en");
    let t = se.get(&format!("/work/{id}")).await.text();
    assert!(t.contains("2026-05-12 (Tue)"), "{t}");
    assert!(t.contains("1.5 h"));
    let t = se.get("/calendar?month=2026-05").await.text();
    assert!(t.contains("<caption>May 2026</caption>"), "{t}");
    let t = se.get("/workload?fy=2026").await.text();
    assert!(t.contains("FY2026"));
    assert!(t.contains(">Apr<"));
}

/// Finding 12 of issue 13: a work date that does not exist says why, naming the field as the form labels
/// it (not a generic 「作業日を入力してください」), and nothing is saved.
#[tokio::test]
async fn a_wrong_work_date_says_what_is_wrong() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    for (typed, says) in [
        ("2026-02-30", "作業日: 2026年2月30日は存在しない日付です。"),
        (
            "令和8年13月",
            "作業日: 13月という月はありません（1月～12月で入力してください）。",
        ),
        (
            "平成31年5月1日",
            "作業日: 平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで。2019年5月1日は令和元年5月1日です）。",
        ),
        (
            "あした",
            "作業日: 日付の形式が正しくありません（例: 令和8年5月1日、R8.5.1、2026-05-01）。",
        ),
        ("", "作業日を入力してください"),
    ] {
        let mut f = form(&w, "09:00", "10:00");
        set(&mut f, "work_date", typed);
        let r = post(&se, "/work", &f).await;
        assert_eq!(r.status, 422, "{typed}");
        let t = r.text();
        assert!(t.contains(says), "{typed}: {t}");
        assert!(t.contains("id=\"err-work_date\""), "{typed}");
    }
    assert_eq!(count(&app).await, 0, "nothing saved");
}

#[tokio::test]
async fn the_se_sets_the_clause_and_the_edit_form_keeps_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let se = app.login("se").await;
    // The form offers the clause with 「自動」 first.
    let t = se.get("/work/new").await.text();
    assert!(
        t.contains("<option value=\"\">自動（作業種別と端末から）</option>"),
        "{t}"
    );
    // The representative terminal's inspection, filed by the SE under ③ instead of the suggested ①.
    let mut f = form(&w, "09:00", "10:00");
    set(&mut f, "category", "technical_support");
    f.push(("clause".into(), "3".into()));
    let r = post(&se, "/work", &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id: i64 = r
        .location()
        .trim_start_matches("/work/")
        .trim_end_matches("?ok=saved")
        .parse()
        .expect("id");
    let t = se.get(&format!("/work/{id}")).await.text();
    assert!(t.contains("③（③その他の運用支援）（SEが指定）"), "{t}");
    let t = se.get(&format!("/work/{id}/edit")).await.text();
    assert!(t.contains("<option value=\"3\" selected>"), "{t}");
    // Back to 自動: the representative terminal makes it ①.
    set(&mut f, "clause", "");
    let r = post(&se, &format!("/work/{id}"), &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = se.get(&format!("/work/{id}")).await.text();
    assert!(
        t.contains("①（①代表端末に係る運用支援）（作業種別と端末から自動）"),
        "{t}"
    );
    // A clause outside ①–⑤ is refused next to its field, and nothing changes.
    set(&mut f, "clause", "7");
    let r = post(&se, &format!("/work/{id}"), &f).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let t = r.text();
    assert!(t.contains("id=\"err-clause\""), "{t}");
    assert!(t.contains("区分は①～⑤から選択してください"), "{t}");
    let entry = app.store().work_entry(id).await.expect("entry");
    assert_eq!((entry.clause.as_str(), entry.clause_set), ("1", false));
}
