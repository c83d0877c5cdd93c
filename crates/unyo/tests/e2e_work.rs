//! End-to-end test of the work pages in a real browser against `unyo demo`: an administrator registers
//! the fiscal year's contract with the SE as staff, the SE logs work, an overlapping entry is refused in
//! Japanese, and the list, calendar and workload chart show the work. Screenshots are saved as artefacts.

mod support;

use fantoccini::Locator;
use support::{Browser, Server, e2e_enabled};

/// The contract this test registers (a number the demo data does not use).
const CONTRACT_NUMBER: &str = "E2E-R8-001";
/// A Saturday in 令和8年度, so that no demo work of the SE is likely to collide with ours.
const WORK_DATE: &str = "令和8年11月28日";

/// Clicks a submit button and waits until the browser has loaded the next document (a marker set on
/// the old page disappears), so assertions never read the page being left.
async fn submit(b: &Browser, css: &str) {
    b.execute("window.__unyoOld = true;", vec![])
        .await
        .expect("mark page");
    b.click(css).await;
    let started = std::time::Instant::now();
    loop {
        let v = b
            .execute(
                "return (window.__unyoOld === undefined && document.readyState === 'complete');",
                vec![],
            )
            .await
            .unwrap_or(serde_json::Value::Bool(false));
        if v == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "no new page after clicking {css}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn login(b: &Browser, server: &Server, user: &str, password: &str) {
    b.open(&server.url("/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", password).await;
    submit(b, "form[action='/login'] button[type=submit]").await;
}

async fn body_text(b: &Browser) -> String {
    b.text("body").await
}

/// Clicks the element found by `xpath`.
async fn click_xpath(b: &Browser, xpath: &str) {
    b.find(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("no element at {xpath}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {xpath}: {e}"));
}

/// Ticks the checkbox whose label contains `text` (unless it is ticked already).
async fn tick(b: &Browser, text: &str) {
    let label = b
        .find(Locator::XPath(&format!("//label[contains(., '{text}')]")))
        .await
        .unwrap_or_else(|e| panic!("no label with {text}: {e}"));
    let id = label
        .attr("for")
        .await
        .expect("label attribute")
        .expect("label for");
    let checked = b
        .element(&format!("#{id}"))
        .await
        .is_selected()
        .await
        .expect("checked state");
    if !checked {
        label.click().await.expect("tick");
    }
}

/// Sets an `<input type="time">` (typing into it depends on the browser's locale).
async fn set_time(b: &Browser, id: &str, value: &str) {
    b.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .expect("set time");
}

/// Fills the work form for the SE at 県庁 on [`WORK_DATE`].
async fn fill_work(b: &Browser, start: &str, end: &str, description: &str) {
    click_xpath(
        b,
        &format!("//select[@id='contract_id']/option[contains(., '{CONTRACT_NUMBER}')]"),
    )
    .await;
    b.fill("#work_date", WORK_DATE).await;
    set_time(b, "start_time", start).await;
    set_time(b, "end_time", end).await;
    tick(b, "保守 技郎").await;
    b.click("#mode-onsite").await;
    click_xpath(b, "//select[@id='site_id']/option[starts-with(., '県庁')]").await;
    tick(b, "jk-kencho-rep01").await;
    b.element("#category")
        .await
        .select_by_value("app_install")
        .await
        .expect("category");
    b.fill("#description", description).await;
    b.fill("#result", "正常終了。再起動後に動作確認済み。")
        .await;
}

#[tokio::test]
async fn contract_work_overlap_calendar_and_workload_in_a_browser() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;

    // The administrator registers the contract with the SE as staff.
    login(&b, &server, "admin", "admin-demo-2026").await;
    b.open(&server.url("/contracts")).await;
    assert!(body_text(&b).await.contains("契約"));
    b.open(&server.url("/contracts/new")).await;
    b.fill(
        "#name",
        "住民基本台帳ネットワークシステム運用支援SE業務委託",
    )
    .await;
    b.fill("#number", CONTRACT_NUMBER).await;
    b.fill("#term_start", "2026-04-01").await;
    b.fill("#term_end", "2027-03-31").await;
    b.fill("#contractor", "株式会社サンプル情報システム").await;
    b.fill("#manager", "保守 太郎").await;
    tick(&b, "保守 技郎").await;
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("保存しました"), "{text}");
    assert!(text.contains("令和8年4月1日～令和9年3月31日"), "{text}");
    assert!(text.contains("保守 技郎"), "{text}");
    b.screenshot("work-01-contract").await;
    submit(&b, "form[action='/logout'] button[type=submit]").await;

    // The SE logs a piece of work.
    login(&b, &server, "se", "se-demo-2026").await;
    b.open(&server.url("/work/new")).await;
    fill_work(
        &b,
        "18:00",
        "19:30",
        "業務アプリケーション更新版（v2.4）のインストール",
    )
    .await;
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("保存しました"), "{text}");
    assert!(text.contains("1.5時間"), "{text}");
    assert!(text.contains("令和8年11月28日（土）"), "{text}");
    assert!(text.contains("①代表端末に係る運用支援"), "{text}");
    let detail_url = b.url().await.replace("?ok=saved", "");
    b.screenshot("work-02-detail").await;

    // An overlapping entry for the same worker is refused, in Japanese, with the values kept.
    b.open(&server.url("/work/new")).await;
    fill_work(&b, "19:00", "20:00", "重なる作業（保存されないこと）").await;
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("入力内容に誤りがあります"), "{text}");
    assert!(text.contains("時間が重なっています"), "{text}");
    assert!(
        b.elements("#err-start_time").await.len() == 1,
        "the error is next to the start time"
    );
    let kept = b
        .element("#description")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert_eq!(kept, "重なる作業（保存されないこと）");
    b.screenshot("work-03-form-overlap-error").await;
    b.execute(
        "document.getElementById('worker_ids').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    b.screenshot("work-03b-form-workers-terminals").await;
    // The summary links to the field.
    b.click("#error-summary a[href='#start_time']").await;

    // The list shows one entry that day, with its hours.
    b.open(&server.url("/work?from=2026-11-28&to=2026-11-28"))
        .await;
    let text = body_text(&b).await;
    assert!(text.contains("全1件中"), "{text}");
    assert!(text.contains("業務アプリケーション更新版"), "{text}");
    assert!(!text.contains("重なる作業"), "{text}");
    assert!(text.contains("1.5時間"), "{text}");
    b.open(&server.url("/work")).await;
    b.execute(
        "document.getElementById('list-summary').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    b.screenshot("work-04-list").await;

    // The calendar shows it on its day.
    b.open(&server.url("/calendar?month=2026-11")).await;
    assert_eq!(b.text("caption").await, "令和8年11月");
    let cell = b.text("#d-2026-11-28").await;
    assert!(cell.contains("実績"), "{cell}");
    assert!(cell.contains("18:00") && cell.contains("19:30"), "{cell}");
    assert!(cell.contains("保守 技郎"), "{cell}");
    b.screenshot("work-05-calendar").await;
    submit(&b, "#d-2026-11-28 a[href^='/work/']").await;
    assert_eq!(b.url().await, detail_url);

    // The workload summary shows the hours and the chart.
    b.open(&server.url("/workload?fy=2026")).await;
    let text = body_text(&b).await;
    assert!(text.contains("令和8年度"), "{text}");
    assert_eq!(b.elements("svg[role=img]").await.len(), 1);
    let label = b
        .element("svg[role=img]")
        .await
        .attr("aria-label")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(label.contains("11月"), "{label}");
    b.execute("document.getElementById('chart').scrollIntoView();", vec![])
        .await
        .expect("scroll");
    b.screenshot("work-06-workload-chart").await;
    b.close().await;
}
