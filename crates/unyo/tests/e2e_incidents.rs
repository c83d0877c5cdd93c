//! End-to-end: incidents (障害対応) in a real browser against `unyo demo`. The SE reports an incident and
//! walks it through 原因調査 → 回避策 (with the guidance given) → 復旧作業 → 復旧確認; trying to close it then
//! shows the witness-required message and changes nothing; staff record the witness and close it (完了).
//! Screenshots of the list, the form, the refusal, the detail page's timeline and the figures page.

mod support;

use support::{Browser, Server, e2e_enabled};

/// The domain's refusal of 完了 without a witness.
const WITNESS_REQUIRED: &str =
    "復旧の立会い（立会者の氏名・所属・日時・所見）が記録されていないため完了できません。";

const TITLE: &str = "E2E 唐津土木事務所 業務端末が集約ネットワークに接続できない";

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

async fn logout(b: &Browser) {
    submit(b, "form[action='/logout'] button[type=submit]").await;
}

async fn scroll_to(b: &Browser, id: &str) {
    b.execute(
        "document.getElementById(arguments[0]).scrollIntoView();",
        vec![id.into()],
    )
    .await
    .unwrap_or_else(|e| panic!("scroll to #{id}: {e}"));
}

async fn body_text(b: &Browser) -> String {
    b.text("body").await
}

async fn summary_text(b: &Browser) -> String {
    b.text("#summary").await
}

/// Submits the stage-change form of `action` on the open incident page, with its fields filled.
async fn act(b: &Browser, action: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        b.fill(&format!("#{name}-{action}"), value).await;
    }
    submit(b, &format!("form.transition-{action} button[type=submit]")).await;
}

#[tokio::test]
async fn an_incident_walks_to_a_witnessed_close_in_a_browser() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;

    // The SE looks at the list (the demo's incidents, open ones first) and reports one.
    login(&b, &server, "se", "se-demo-2026").await;
    b.open(&server.url("/incidents")).await;
    let text = body_text(&b).await;
    assert!(text.contains("障害対応"), "{text}");
    assert!(text.contains("経過"), "ages shown: {text}");
    b.screenshot("incidents-01-list").await;
    scroll_to(&b, "incidents-table").await;
    b.screenshot("incidents-01b-list-table").await;

    b.open(&server.url("/incidents/new")).await;
    b.fill("#title", TITLE).await;
    b.element("#severity")
        .await
        .select_by_value("high")
        .await
        .expect("severity");
    b.element("#source")
        .await
        .select_by_value("phone")
        .await
        .expect("source");
    b.click("input[name=site_ids]").await;
    b.click("input[name=terminal_ids]").await;
    b.fill(
        "#description",
        "唐津土木事務所の拠点担当者から電話連絡。業務端末で照会ができない。",
    )
    .await;
    b.screenshot("incidents-02-new-form").await;
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("保存しました"), "{text}");
    assert!(summary_text(&b).await.contains("受付"));
    let url = b.url().await;
    let path = url
        .split_once("/incidents/")
        .map(|(_, rest)| format!("/incidents/{}", rest.split(['?', '#']).next().unwrap_or("")))
        .expect("on the incident page");

    // 原因調査, a finding, 回避策 with the guidance, 復旧作業, 復旧確認.
    act(&b, "investigate", &[]).await;
    assert!(summary_text(&b).await.contains("原因調査"));
    b.element("#entry-kind")
        .await
        .select_by_value("finding")
        .await
        .expect("kind");
    b.fill(
        "#entry-text",
        "端末→RT-唐津は応答なし、RT-唐津→県庁は正常。拠点内の障害と切り分け。",
    )
    .await;
    submit(&b, "#entry-form button[type=submit]").await;
    assert!(b.text("#timeline").await.contains("拠点内の障害と切り分け"));
    // The workaround needs the guidance: refused with the fields named, then done properly.
    act(
        &b,
        "workaround",
        &[("comment", "県庁の代表端末で代行照会する。")],
    )
    .await;
    let text = body_text(&b).await;
    assert!(
        text.contains("指導先（誰に指導したか）を入力してください"),
        "{text}"
    );
    assert!(summary_text(&b).await.contains("原因調査"));
    act(
        &b,
        "workaround",
        &[
            ("comment", "県庁の代表端末で代行照会する。"),
            ("guidance_to", "唐津土木事務所 総務課（拠点担当者）"),
            (
                "guidance",
                "至急の照会は県庁 市町村課に電話で依頼するよう案内。",
            ),
        ],
    )
    .await;
    assert!(summary_text(&b).await.contains("回避策"));
    act(&b, "start_recovery", &[]).await;
    assert!(summary_text(&b).await.contains("復旧作業"));
    act(
        &b,
        "recover",
        &[(
            "comment",
            "拠点内スイッチの予備ポートへ接続を変更して復旧。",
        )],
    )
    .await;
    assert!(summary_text(&b).await.contains("復旧確認"));
    assert!(
        b.text("#witness-missing")
            .await
            .contains("立会いが記録されていません")
    );

    // Closing without the witness is refused with the domain's message; nothing changes.
    act(&b, "close", &[]).await;
    assert!(b.text("#refusal").await.contains(WITNESS_REQUIRED));
    assert!(summary_text(&b).await.contains("復旧確認"));
    b.screenshot("incidents-03-close-refused").await;
    b.open(&server.url(&path)).await;
    assert!(!summary_text(&b).await.contains("完了"), "still open");
    logout(&b).await;

    // Staff record the witness and close it.
    login(&b, &server, "staff", "staff-demo-2026").await;
    b.open(&server.url(&path)).await;
    scroll_to(&b, "witness-heading").await;
    b.screenshot("incidents-04-witness-form").await;
    b.fill("#witness_name", "松浦 由美").await;
    b.fill("#witness_org", "唐津土木事務所 総務課").await;
    b.fill(
        "#remark",
        "業務端末で照会・更新が正常に行えることを確認した。",
    )
    .await;
    submit(&b, "#witness-form button[type=submit]").await;
    // 立会い is final: the next page says what will be recorded.
    let t = body_text(&b).await;
    assert!(t.contains("この内容で復旧の立会いを記録します。"), "{t}");
    b.screenshot("incidents-04b-witness-confirm").await;
    submit(&b, "#confirm-form button[type=submit]").await;
    assert!(body_text(&b).await.contains("保存しました"));
    assert!(b.text("#witness").await.contains("松浦 由美"));
    act(&b, "close", &[]).await;
    let s = summary_text(&b).await;
    assert!(s.contains("完了"), "{s}");
    let t = b.text("#timeline").await;
    for want in [
        "受付 → 原因調査",
        "原因調査 → 回避策",
        "回避策 → 復旧作業",
        "復旧作業 → 復旧確認",
        "復旧確認 → 完了",
        "唐津土木事務所 総務課（拠点担当者）",
        "松浦 由美",
    ] {
        assert!(t.contains(want), "{want} missing in {t}");
    }
    b.screenshot("incidents-05-detail").await;
    scroll_to(&b, "timeline-heading").await;
    b.screenshot("incidents-06-detail-timeline").await;
    scroll_to(&b, "witness-heading").await;
    b.screenshot("incidents-07-detail-witness").await;

    // The list shows it as 完了; the figures page draws its chart.
    b.open(&server.url("/incidents?stage=closed")).await;
    assert!(body_text(&b).await.contains(TITLE));
    b.open(&server.url("/incidents/stats")).await;
    assert!(!b.elements("figure svg[role=img]").await.is_empty());
    b.screenshot("incidents-08-stats").await;
    scroll_to(&b, "chart").await;
    b.screenshot("incidents-09-stats-chart").await;
    b.open(&server.url("/known-errors")).await;
    assert!(
        body_text(&b)
            .await
            .contains("定義ファイル更新後に端末が再起動を繰り返す")
    );
    b.screenshot("incidents-10-known-errors").await;
    // The demo's August incident: closed with the witness, its work entries linked with their hours.
    b.open(&server.url("/incidents?q=%E4%BC%8A%E4%B8%87%E9%87%8C"))
        .await;
    submit(&b, "#incidents-table tbody a").await;
    let t = b.text("#timeline").await;
    for want in ["作業記録", "有田 健一", "回避策実施", "指導先"] {
        assert!(t.contains(want), "{want} missing in {t}");
    }
    assert!(!b.elements("#timeline a[href^='/work/']").await.is_empty());
    scroll_to(&b, "timeline-heading").await;
    b.screenshot("incidents-11-demo-timeline-with-work").await;
    b.close().await;
}
