//! End-to-end: support requests in a real browser against `unyo demo`. Staff file a request, the SE accepts
//! it with a planned date, starts, attaches evidence and reports completion, staff confirm it (確認済); a
//! second request is sent back (差戻し) with a reason; a forged transition is refused with the domain's
//! Japanese message. Screenshots of the list, the form and the request page are saved.

mod support;

use support::{Browser, Server, e2e_enabled};

/// A real 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xe0\xf6\xef\x02\x00\x01\x4d\x00\xe5\x2a\xab\x49\x37\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

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

/// Sets a date input's value (typing into `<input type=date>` depends on the browser's locale).
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.element(css).await;
    b.execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![css.into(), value.into()],
    )
    .await
    .unwrap_or_else(|e| panic!("set {css}: {e}"));
}

/// Files a request on the form and returns its page's path.
async fn file_request(b: &Browser, server: &Server, title: &str, category: &str) -> String {
    b.open(&server.url("/requests/new")).await;
    b.fill("#title", title).await;
    b.element("#category")
        .await
        .select_by_value(category)
        .await
        .expect("category");
    b.click("input[name=site_ids]").await;
    b.click("input[name=terminal_ids]").await;
    // A month from today (a date before the day of filing is refused).
    let wished = (unyo_store::support::jst_today() + chrono::Duration::days(30)).to_string();
    set_value(b, "#wished_date", &wished).await;
    b.fill(
        "#description",
        "代表端末に業務アプリケーションの更新版をインストールしてください。",
    )
    .await;
    submit(b, "form.record button[type=submit]").await;
    let text = body_text(b).await;
    assert!(text.contains("保存しました"), "{text}");
    assert!(text.contains(title), "{text}");
    let url = b.url().await;
    let path = url
        .split_once("/requests/")
        .map(|(_, rest)| format!("/requests/{}", rest.split(['?', '#']).next().unwrap_or("")))
        .expect("on the request page");
    assert!(path.len() > "/requests/".len(), "{url}");
    path
}

/// Submits the transition form of `action` on the open request page, with a comment.
async fn act(b: &Browser, action: &str, comment: &str) {
    if !comment.is_empty() {
        b.fill(&format!("#comment-{action}"), comment).await;
    }
    submit(b, &format!("form.transition-{action} button[type=submit]")).await;
}

async fn summary_text(b: &Browser) -> String {
    b.text("#summary").await
}

#[tokio::test]
async fn a_request_walks_from_filing_to_confirmation_in_a_browser() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;

    // Staff file two requests.
    login(&b, &server, "staff", "staff-demo-2026").await;
    b.open(&server.url("/requests/new")).await;
    assert!(body_text(&b).await.contains("代表端末"));
    b.screenshot("requests-01-new-form").await;
    scroll_to(&b, "terminal-ids").await;
    b.screenshot("requests-01b-new-form-terminals").await;
    // Submitting the empty form shows the Japanese errors.
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("件名を入力してください"), "{text}");
    assert!(text.contains("作業種別を選択してください"), "{text}");

    let first = file_request(
        &b,
        &server,
        "E2E 業務アプリ更新版のインストール",
        "app_install",
    )
    .await;
    let second = file_request(&b, &server, "E2E ウイルス定義の更新", "antivirus_update").await;

    // A forged transition: the withdraw form's action changed to "confirm" while the request is 要請.
    b.open(&server.url(&second)).await;
    b.execute(
        "document.querySelector('form.transition-withdraw input[name=action]').value = 'confirm';",
        vec![],
    )
    .await
    .expect("alter the action");
    submit(&b, "form.transition-withdraw button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("「要請」の要請に「確認」はできません。"),
        "refused in Japanese: {text}"
    );
    assert!(summary_text(&b).await.contains("要請"));
    b.screenshot("requests-02-refused-transition").await;
    b.open(&server.url(&second)).await;
    assert!(!body_text(&b).await.contains("確認済"), "nothing changed");
    logout(&b).await;

    // The SE accepts with a planned date, starts, attaches evidence and reports the result.
    login(&b, &server, "se", "se-demo-2026").await;
    for path in [&first, &second] {
        b.open(&server.url(path)).await;
        set_value(&b, "#planned-accept", "2027-01-14").await;
        act(&b, "accept", "1月14日に伺います。").await;
        let s = summary_text(&b).await;
        assert!(s.contains("受付"), "{s}");
        assert!(s.contains("令和9年1月14日"), "planned date in 和暦: {s}");
        act(&b, "start", "").await;
        assert!(summary_text(&b).await.contains("対応中"));
    }
    b.open(&server.url(&first)).await;
    scroll_to(&b, "actions").await;
    b.screenshot("requests-03b-se-actions").await;
    let dir = tempfile::tempdir().expect("tmp");
    let png = dir.path().join("作業結果.png");
    std::fs::write(&png, PNG).expect("write png");
    b.element("#file")
        .await
        .send_keys(&png.to_string_lossy())
        .await
        .expect("choose file");
    submit(&b, "form#upload button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("作業結果.png"), "{text}");
    assert!(text.contains("image/png"), "{text}");
    let href = b
        .element("#attachments a[href^='/attachments/']")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("link");
    assert!(href.starts_with("/attachments/"));
    // An executable is refused in Japanese.
    let exe = dir.path().join("tool.png");
    std::fs::write(&exe, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00").expect("write exe");
    b.element("#file")
        .await
        .send_keys(&exe.to_string_lossy())
        .await
        .expect("choose file");
    submit(&b, "form#upload button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("このファイル形式は添付できません"), "{text}");
    scroll_to(&b, "attachments-heading").await;
    b.screenshot("requests-03c-upload-refused").await;
    act(
        &b,
        "complete",
        "更新版を導入し、起動と業務画面の表示を確認しました。",
    )
    .await;
    assert!(summary_text(&b).await.contains("完了"));
    b.open(&server.url(&second)).await;
    act(&b, "complete", "定義ファイルを更新しました。").await;
    b.open(&server.url("/requests/mine")).await;
    b.screenshot("requests-03-mine").await;
    logout(&b).await;

    // Staff confirm the first and send the second back with a reason.
    login(&b, &server, "staff", "staff-demo-2026").await;
    b.open(&server.url(&first)).await;
    act(&b, "confirm", "確認しました。").await;
    let s = summary_text(&b).await;
    assert!(s.contains("確認済"), "{s}");
    let t = b.text("#timeline").await;
    for want in [
        "要請 → 受付",
        "受付 → 対応中",
        "対応中 → 完了",
        "完了 → 確認済",
    ] {
        assert!(t.contains(want), "{want} missing in {t}");
    }
    b.screenshot("requests-04-detail").await;
    scroll_to(&b, "timeline-heading").await;
    b.screenshot("requests-05-detail-timeline").await;

    b.open(&server.url(&second)).await;
    // A reason is required.
    act(&b, "return", "").await;
    assert!(
        body_text(&b)
            .await
            .contains("差戻しの理由を入力してください")
    );
    act(&b, "return", "更新後の定義バージョンが記載されていません。").await;
    let s = summary_text(&b).await;
    assert!(s.contains("差戻し"), "{s}");
    assert!(
        b.text("#timeline")
            .await
            .contains("更新後の定義バージョンが記載されていません。")
    );

    b.open(&server.url("/requests")).await;
    assert!(
        body_text(&b)
            .await
            .contains("E2E 業務アプリ更新版のインストール")
    );
    b.screenshot("requests-06-list").await;
    b.open(&server.url("/requests?status=returned")).await;
    let text = body_text(&b).await;
    assert!(text.contains("E2E ウイルス定義の更新"), "{text}");
    assert!(
        !text.contains("E2E 業務アプリ更新版のインストール"),
        "{text}"
    );
    b.open(&server.url("/consultations")).await;
    b.screenshot("requests-07-consultations").await;
    // The request page links to a consultation form with the request ticked.
    b.open(&server.url(&first)).await;
    submit(&b, "a[href^='/consultations/new?request_id=']").await;
    let id = first.trim_start_matches("/requests/");
    let ticked = b
        .element(&format!("#request-{id}"))
        .await
        .prop("checked")
        .await
        .expect("checked");
    assert_eq!(ticked.as_deref(), Some("true"));
    b.screenshot("requests-08-consultation-form").await;
    b.close().await;
}
