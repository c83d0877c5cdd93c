//! The home page answers "what needs me now?" for each role, each count linking to where it is done.

mod common;

use chrono::{Datelike, Duration};
use common::TestApp;
use unyo_domain::support::{ContractInput, RequestInput, TransitionInput};
use unyo_store::Actor;
use unyo_store::support::jst_today;

async fn actor(app: &TestApp, name: &str) -> Actor {
    app.store()
        .user_by_name(name)
        .await
        .expect("q")
        .expect("user")
        .actor("127.0.0.1")
}

/// The line of the waiting list that holds `label`, as text.
fn line<'a>(html: &'a str, label: &str) -> &'a str {
    let start = html
        .find(label)
        .unwrap_or_else(|| panic!("{label} missing in {html}"));
    let end = html[start..]
        .find("</li>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[tokio::test]
async fn each_role_sees_what_waits_for_it() {
    let app = TestApp::new().await;
    let store = app.store();
    let today = jst_today();
    let se = actor(&app, "se").await;
    let staff = actor(&app, "staff").await;
    // A contract in force since last fiscal year, so last month's record is due.
    let se_id = se.user_id.expect("id");
    store
        .create_contract(
            &Actor::system("test"),
            &ContractInput {
                name: "住基ネット運用支援業務".into(),
                number: "R8-001".into(),
                term_start: format!("{}-04-01", today.year() - 1),
                term_end: format!("{}-03-31", today.year() + 1),
                contractor: "株式会社サンプル".into(),
                manager: "保守 太郎".into(),
                staff_ids: vec![se_id],
            },
        )
        .await
        .expect("contract");
    // Two requests filed; one accepted for today by the SE.
    let file = |title: &str| RequestInput {
        title: title.into(),
        category: "technical_support".into(),
        wished_date: (today + Duration::days(14)).to_string(),
        description: "確認をお願いします。".into(),
        ..Default::default()
    };
    let a = store
        .create_request(&staff, &file("一件目"))
        .await
        .expect("file");
    store
        .create_request(&staff, &file("二件目"))
        .await
        .expect("file");
    store
        .transition_request(
            &se,
            a.id,
            &TransitionInput {
                action: "accept".into(),
                comment: String::new(),
                planned_date: today.to_string(),
            },
        )
        .await
        .expect("accept");

    // The SE: one to accept, one assigned, one planned today, last month's record to submit.
    let html = app.login("se").await.get("/").await.text();
    assert!(html.contains("対応が必要なこと"), "{html}");
    let accept = line(&html, "受付待ちの支援要請");
    assert!(accept.contains("<span class=\"n\">1</span>"), "{accept}");
    assert!(
        html.contains("href=\"/requests?status=requested\""),
        "linked to the list: {html}"
    );
    assert!(line(&html, "担当中の支援要請").contains(">1<"), "{html}");
    assert!(line(&html, "本日予定の作業").contains(">1<"), "{html}");
    assert!(line(&html, "差戻しの支援要請").contains(">なし<"), "{html}");
    let record = line(&html, "未提出の業務実績簿");
    assert!(record.contains("提出期限"), "{record}");
    assert!(record.contains(">1<"), "{record}");
    assert!(!html.contains("システムの状態"), "upkeep is the admin's");

    // 県職員: nothing to confirm yet.
    let html = app.login("staff").await.get("/").await.text();
    assert!(
        line(&html, "確認待ちの支援要請").contains(">なし<"),
        "{html}"
    );
    assert!(line(&html, "立会い待ちの障害").contains(">なし<"), "{html}");
    assert!(
        !html.contains("受付待ちの支援要請"),
        "the SE's items are not shown"
    );
    assert!(!html.contains("あなた"), "no 「あなた」");

    // The administrator: the SE's counts and the system's upkeep; verifying the chain is remembered.
    let admin = app.login("admin").await;
    let html = admin.get("/").await.text();
    assert!(html.contains("ロック中のアカウント"), "{html}");
    assert!(html.contains("監査ログの最終検証"), "{html}");
    assert!(html.contains("未検証"), "{html}");
    assert!(html.contains("データベースの大きさ"), "{html}");
    assert_eq!(admin.get("/audit?verify=1").await.status, 200);
    let html = admin.get("/").await.text();
    assert!(html.contains("改ざんなし"), "{html}");

    // The auditor: recent exports and failed logins.
    let html = app.login("auditor").await.get("/").await.text();
    assert!(html.contains("最近30日のデータ出力・証跡取得"), "{html}");
    assert!(html.contains("最近30日のログイン失敗"), "{html}");
}

#[tokio::test]
async fn the_menu_groups_pages_by_area_and_marks_the_current_one() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let html = admin.get("/work").await.text();
    let areas = &html[html.find("<ul class=\"areas\">").expect("areas")..];
    let areas = &areas[..areas.find("</ul>").expect("end")];
    for area in [
        "ホーム",
        "依頼と作業",
        "障害",
        "端末と展開",
        "疎通確認",
        "帳票",
        "台帳",
        "管理",
    ] {
        assert!(areas.contains(area), "{area} missing in {areas}");
    }
    assert!(
        areas.contains(
            "<a href=\"/requests\" class=\"current\" aria-current=\"true\">依頼と作業</a>"
        ),
        "{areas}"
    );
    // The current area's pages, the current page marked.
    let pages = &html[html.find("<ul class=\"pages\"").expect("pages")..];
    let pages = &pages[..pages.find("</ul>").expect("end")];
    assert!(
        pages.contains("<a href=\"/work\" aria-current=\"page\">作業記録</a>"),
        "{pages}"
    );
    assert!(
        pages.contains("協議記録") && !pages.contains("拠点"),
        "{pages}"
    );
    // The phone menu is one disclosure with every page, grouped.
    assert!(
        html.contains("<details>\n    <summary>メニュー</summary>"),
        "{html}"
    );
    // 県職員 have no 管理 area and no import.
    let html = app.login("staff").await.get("/").await.text();
    assert!(!html.contains(">管理<"), "{html}");
    assert!(!html.contains("href=\"/import\""), "{html}");
    assert!(!html.contains("href=\"/users\""), "{html}");
}
