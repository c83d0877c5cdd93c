//! End-to-end tests in a real browser (Debian chromium + chromedriver over WebDriver) against a real
//! `unyo demo` process on loopback. Screenshots of the main pages are saved as test artefacts.

mod support;

use fantoccini::Locator;
use support::{Browser, Server, e2e_enabled};

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

#[tokio::test]
async fn registry_walkthrough_in_a_browser() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;

    // A failed login shows the Japanese message and no session.
    login(&b, &server, "se", "wrong-password").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("利用者IDまたはパスワードが正しくありません"),
        "{text}"
    );
    b.screenshot("01-login-failed").await;

    // A good login lands on the home page with the fleet's numbers.
    login(&b, &server, "se", "se-demo-2026").await;
    let text = body_text(&b).await;
    assert!(text.contains("保守 技郎"), "{text}");
    assert!(text.contains("17"), "17 terminals on the home page: {text}");
    b.screenshot("02-home").await;

    // Search terminals.
    b.open(&server.url("/terminals")).await;
    assert_eq!(b.elements("tbody tr").await.len(), 17);
    b.screenshot("03-terminals").await;
    b.fill("input[name=q]", "kencho").await;
    submit(&b, "form.filters button[type=submit]").await;
    let rows = b.elements("tbody tr").await;
    assert_eq!(rows.len(), 3, "three terminals at 県庁");
    assert!(body_text(&b).await.contains("代表端末"));
    b.screenshot("04-terminals-search").await;

    // A bad terminal shows the Japanese validation errors, and nothing is saved.
    b.open(&server.url("/terminals/new")).await;
    b.fill("#hostname", "bad host!").await;
    b.fill("#ip_address", "10.0.0.999").await;
    b.element("#site_id")
        .await
        .select_by_value("1")
        .await
        .expect("select site");
    b.element("#kind")
        .await
        .select_by_value("business")
        .await
        .expect("select kind");
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("ホスト名は半角英数字"), "{text}");
    assert!(
        text.contains("IPアドレス「10.0.0.999」の形式が正しくありません"),
        "{text}"
    );
    b.screenshot("05-terminal-invalid").await;

    // Correct it and save.
    b.fill("#hostname", "jk-kencho-biz03").await;
    b.fill("#ip_address", "10.41.1.23").await;
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("保存しました"), "{text}");
    assert!(text.contains("jk-kencho-biz03"), "{text}");
    assert!(text.contains("変更履歴"), "{text}");
    b.screenshot("06-terminal-created").await;

    // A POST without the CSRF token is refused: remove the hidden field and submit the form.
    b.open(&server.url("/terminals/new")).await;
    b.fill("#hostname", "csrf-test-01").await;
    b.element("#site_id")
        .await
        .select_by_value("1")
        .await
        .expect("select site");
    b.execute(
        "document.querySelectorAll('input[name=_csrf]').forEach(e => e.remove());",
        vec![],
    )
    .await
    .expect("remove token");
    submit(&b, "form.record button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("不正な送信"), "{text}");
    b.open(&server.url("/terminals?q=csrf-test")).await;
    assert!(
        b.elements("tbody tr").await.is_empty(),
        "nothing was created without the token"
    );

    // Import a CSV (UTF-8 with BOM, Japanese headers).
    let dir = tempfile::tempdir().expect("tmp");
    let csv_path = dir.path().join("terminals.csv");
    std::fs::write(
        &csv_path,
        "\u{feff}ホスト名,拠点コード,種別,IPアドレス,OS\r\njk-tosu-biz02,HOFUKU-TOSU,業務端末,10.41.51.22,Windows 11 Enterprise\r\n",
    )
    .expect("write csv");
    b.open(&server.url("/import")).await;
    b.element("select[name=kind]")
        .await
        .select_by_value("terminals")
        .await
        .expect("kind");
    b.element("input[type=file]")
        .await
        .send_keys(&csv_path.to_string_lossy())
        .await
        .expect("file");
    submit(&b, "form[action='/import'] button[type=submit]").await;
    let text = body_text(&b).await;
    assert!(text.contains("取込が完了しました"), "{text}");
    b.screenshot("07-import-done").await;
    b.open(&server.url("/terminals?q=jk-tosu-biz02")).await;
    assert_eq!(b.elements("tbody tr").await.len(), 1);

    // Other main pages render.
    for (path, name) in [
        ("/sites", "08-sites"),
        ("/network", "09-network"),
        ("/nodes", "10-nodes"),
        ("/sites/1", "11-site-detail"),
        ("/connectivity", "14-connectivity-board"),
        ("/connectivity/maintenance", "15-connectivity-maintenance"),
        ("/connectivity/channels", "16-connectivity-channels"),
    ] {
        b.open(&server.url(path)).await;
        assert!(b.find(Locator::Css("h1")).await.is_ok(), "{path}");
        b.screenshot(name).await;
    }
    b.close().await;
}

#[tokio::test]
async fn auditor_reads_the_audit_log() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;
    login(&b, &server, "auditor", "auditor-demo-2026").await;
    b.open(&server.url("/audit")).await;
    let text = body_text(&b).await;
    assert!(
        text.contains("login.success") || text.contains("ログイン"),
        "{text}"
    );
    assert!(text.contains("正常"), "chain status shown: {text}");
    b.screenshot("12-audit").await;
    b.open(&server.url("/account")).await;
    b.screenshot("13-account").await;
    b.close().await;
}

/// On a 390 × 844 phone the main lists fit: the page itself never scrolls sideways (a wide table scrolls
/// in its own box or becomes one card per row), no cell is squeezed to a character or two per line, and
/// the menu is one disclosure. Screenshots of each are kept.
#[tokio::test]
async fn the_main_lists_fit_a_phone() {
    if !e2e_enabled() {
        return;
    }
    let server = Server::demo();
    let b = Browser::start().await;
    login(&b, &server, "se", "se-demo-2026").await;
    b.set_window_size(390, 844).await.expect("phone size");
    let check = r#"
        const root = document.documentElement;
        const width = root.clientWidth;
        const squeezed = [...document.querySelectorAll('td, th')].filter(c => {
            const r = c.getBoundingClientRect();
            const text = c.innerText.trim();
            const em = parseFloat(getComputedStyle(c).fontSize) || 16;
            // A cell with a word of three or more characters narrower than two characters.
            return r.width > 0 && text.length >= 3 && r.width < 2 * em;
        }).map(c => c.innerText.trim().slice(0, 24));
        const menu = document.querySelector('nav.phone-nav details');
        const shown = !!menu && menu.getBoundingClientRect().height > 0;
        return { width, scroll: root.scrollWidth, squeezed: squeezed.slice(0, 5), menu: shown };
    "#;
    for (path, name) in [
        ("/", "phone-01-home"),
        ("/requests", "phone-02-requests"),
        ("/work", "phone-03-work"),
        ("/incidents", "phone-04-incidents"),
        ("/terminals", "phone-05-terminals"),
        ("/connectivity", "phone-06-connectivity"),
        ("/campaigns", "phone-07-campaigns"),
        ("/records", "phone-08-records"),
    ] {
        b.open(&server.url(path)).await;
        let v = b.execute(check, vec![]).await.expect("measure");
        b.screenshot(name).await;
        let width = v["width"].as_i64().unwrap_or(0);
        assert!(width > 300 && width <= 400, "{path}: viewport {v}");
        assert!(
            v["scroll"].as_i64().unwrap_or(i64::MAX) <= width + 1,
            "{path}: the page scrolls sideways on a phone: {v}"
        );
        assert_eq!(
            v["squeezed"].as_array().map(Vec::len),
            Some(0),
            "{path}: cells squeezed to a character per line: {v}"
        );
        assert!(v["menu"].as_bool().unwrap_or(false), "{path}: {v}");
    }
    b.close().await;
}
