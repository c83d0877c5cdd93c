//! Login, second factor, lockout, CSRF and headers through the real router.

mod common;

use common::TestApp;

#[tokio::test]
async fn login_logout_and_csrf() {
    let app = TestApp::new().await;
    let anon = app.anonymous();

    // Pages need a login.
    let r = anon.get("/?x=1").await;
    assert_eq!(r.status, 303);
    assert!(
        r.location().starts_with("/login?next=%2F%3Fx%3D1"),
        "{}",
        r.location()
    );

    // The login page sets the pre-login CSRF cookie; a POST without it is refused.
    let page = anon.get("/login").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("ログイン"));
    let cookie = page
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = cookie
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();

    let no_csrf = anon
        .post_form(
            "/login",
            &[
                ("_csrf", ""),
                ("username", "admin"),
                ("password", "admin-password"),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, 403);

    let mut c = anon.clone();
    c.cookie = format!("unyo_login_csrf={token}");
    c.csrf = token.clone();
    let bad = c
        .post_form("/login", &[("username", "admin"), ("password", "nope")])
        .await;
    assert_eq!(bad.status, 401);
    assert!(
        bad.text()
            .contains("利用者IDまたはパスワードが正しくありません")
    );

    let ok = c
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", "admin-password"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let set = ok
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(set.starts_with("unyo_session="), "{set}");

    // Security headers on pages.
    let logged = app.login("staff").await;
    let home = logged.get("/").await;
    assert_eq!(home.status, 200);
    let csp = home
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        home.headers.get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );
    assert_eq!(
        home.headers
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );

    // A logged-in POST with a wrong token is refused.
    let mut forged = logged.clone();
    forged.csrf = "0".repeat(64);
    assert_eq!(forged.post_form("/logout", &[]).await.status, 403);
    // Logout ends the session.
    let out = logged.post_form("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(logged.get("/").await.status, 303);
}

#[tokio::test]
async fn lockout_after_five_failures() {
    let app = TestApp::new().await;
    let mut c = app.anonymous();
    c.cookie = format!("unyo_login_csrf={}", "a".repeat(64));
    c.csrf = "a".repeat(64);
    for _ in 0..4 {
        let r = c
            .post_form("/login", &[("username", "se"), ("password", "wrong")])
            .await;
        assert_eq!(r.status, 401);
    }
    let r = c
        .post_form("/login", &[("username", "se"), ("password", "wrong")])
        .await;
    assert!(r.text().contains("ロック"), "{}", r.text());
    let r = c
        .post_form("/login", &[("username", "se"), ("password", "se-password")])
        .await;
    assert_eq!(r.status, 401, "locked even with the right password");
}

/// The style sheet's Japanese font is served by unyo itself, to anyone (the login page needs it too), and
/// nothing else is served from its folder.
#[tokio::test]
async fn the_font_is_served_without_a_login() {
    let app = TestApp::new().await;
    let anon = app.anonymous();
    for name in ["BIZUDPGothic-Regular.ttf", "BIZUDPGothic-Bold.ttf"] {
        let r = anon.get(&format!("/static/fonts/{name}")).await;
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.headers.get("content-type").unwrap(), "font/ttf");
        // A TrueType file starts with the sfnt version 1.0.
        assert_eq!(&r.body[..4], &[0, 1, 0, 0], "{name}");
    }
    assert_eq!(anon.get("/static/fonts/OFL.txt").await.status, 404);
    assert_eq!(anon.get("/static/fonts/..%2Funyo.css").await.status, 404);
    let css = anon.get("/static/unyo.css").await;
    assert!(
        css.text()
            .contains("/static/fonts/BIZUDPGothic-Regular.ttf")
    );
}

/// The `Set-Cookie` values of a response.
fn set_cookies(r: &common::Resp) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// Served over TLS or behind a TLS proxy (`serve` sets `secure_cookies` for `--tls-cert` and
/// `--behind-tls-proxy`), every cookie is `Secure` (the pre-login CSRF cookie, the session, the
/// cleared one at logout) and every answer carries HSTS; over plain HTTP (demo, loopback) neither.
#[tokio::test]
async fn cookies_are_secure_and_hsts_is_sent_when_served_over_tls() {
    for secure in [true, false] {
        let app = TestApp::with_config(unyo_web::WebConfig {
            secure_cookies: secure,
            ..Default::default()
        })
        .await;
        let anon = app.anonymous();
        let page = anon.get("/login").await;
        assert_eq!(page.status, 200);
        let hsts = |r: &common::Resp| {
            r.headers
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let want_hsts = secure.then(|| "max-age=31536000".to_string());
        assert_eq!(hsts(&page), want_hsts, "login page, secure={secure}");
        let login_cookies = set_cookies(&page);
        assert!(!login_cookies.is_empty());
        let token = login_cookies[0]
            .split(';')
            .next()
            .and_then(|c| c.split_once('='))
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();

        let mut c = anon.clone();
        c.cookie = format!("unyo_login_csrf={token}");
        c.csrf = token;
        let ok = c
            .post_form(
                "/login",
                &[
                    ("username", "admin"),
                    ("password", "admin-password"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text());
        assert_eq!(hsts(&ok), want_hsts);
        let login_answer = set_cookies(&ok);
        assert!(login_answer.iter().any(|c| c.starts_with("unyo_session=")));

        let logged = app.login("staff").await;
        let home = logged.get("/").await;
        assert_eq!(hsts(&home), want_hsts, "pages, secure={secure}");
        let out = logged.post_form("/logout", &[]).await;
        assert_eq!(out.status, 303);
        let all: Vec<String> = [login_cookies, login_answer, set_cookies(&out)].concat();
        assert!(all.len() >= 3, "{all:?}");
        for cookie in &all {
            let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
            assert_eq!(
                attrs.contains(&"Secure"),
                secure,
                "{cookie} (secure={secure})"
            );
            assert!(attrs.contains(&"HttpOnly"), "{cookie}");
        }
    }
}

/// The password login starts a new session: a session cookie the browser brought to the login form no
/// longer opens a page afterwards (IPA 4-(iv)-a), and the new one does.
#[tokio::test]
async fn the_password_login_starts_a_new_session() {
    let app = TestApp::new().await;
    let before = app.login("staff").await;
    assert_eq!(before.get("/").await.status, 200);
    // The browser still holds its session (and the form its CSRF token) when it logs in again.
    let ok = before
        .post_form(
            "/login",
            &[
                ("username", "staff"),
                ("password", "staff-password"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let new_cookie = set_cookies(&ok)
        .into_iter()
        .find(|c| c.starts_with("unyo_session="))
        .and_then(|c| c.split(';').next().map(str::to_string))
        .expect("a new session cookie");
    assert_ne!(new_cookie, before.cookie, "a new id");
    assert_eq!(before.get("/").await.status, 303, "the old session is over");
    let mut after = app.anonymous();
    after.cookie = new_cookie;
    assert_eq!(after.get("/").await.status, 200);
}
