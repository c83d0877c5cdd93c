//! Login hardening through the real router: where `next` may lead, one answer for every refused
//! password, failure limits per source and per account, a flood audited in O(1) rows, TOTP codes
//! accepted once.

mod common;

use common::{Client, Resp, TestApp};
use std::time::Duration;
use unyo_store::audit::AuditQuery;
use unyo_store::users::password_verifications_on_this_thread;
use unyo_web::auth::{BURST_ACTION, LoginLimits, safe_next};
use unyo_web::throttle::Clock;
use unyo_web::totp::{base32_decode, code_at};
use unyo_web::{WebConfig, router};

const CSRF: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/// A browser on the login form (its pre-login CSRF cookie set).
fn login_client(app: &TestApp) -> Client {
    let mut c = app.anonymous();
    c.cookie = format!("unyo_login_csrf={CSRF}");
    c.csrf = CSRF.into();
    c
}

/// The same app with its own login limits and a clock the test moves.
fn with_limits(app: &TestApp, limits: LoginLimits) -> Client {
    let mut c = login_client(app);
    c.router = router(
        app.store().clone(),
        WebConfig {
            login_limits: limits,
            ..Default::default()
        },
    );
    c
}

async fn login(c: &Client, username: &str, password: &str, next: &str) -> Resp {
    c.post_form(
        "/login",
        &[
            ("username", username),
            ("password", password),
            ("next", next),
        ],
    )
    .await
}

fn session_cookie(r: &Resp) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("unyo_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.store()
        .audit_log(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .expect("audit log")
        .total
}

#[test]
fn next_is_a_same_origin_path_or_home() {
    for (next, want) in [
        ("/terminals?q=a&page=2", "/terminals?q=a&page=2"),
        ("/requests/5", "/requests/5"),
        ("/a/../b", "/b"),
        ("", "/"),
        // Off-site however a browser would read it.
        ("/\t/127.0.0.1:8080/x", "/"),
        ("/\n/evil.example/x", "/"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/.//evil.example", "/"),
        ("http://evil.example/", "/"),
        ("https:evil.example", "/"),
        (" //evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("JaVaScRiPt:alert(1)", "/"),
        ("data:text/html,x", "/"),
        // Control characters make it bad; encoded ones stay encoded in a local path.
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("/x\u{0}", "/"),
        ("/%0d%0aSet-Cookie:%20a=b", "/%0d%0aSet-Cookie:%20a=b"),
    ] {
        let got = safe_next(next);
        assert_eq!(got, want, "{next:?}");
        assert!(!got.contains(['\r', '\n']));
    }
}

#[tokio::test]
async fn a_bad_next_is_ignored_never_an_error() {
    let app = TestApp::new().await;
    let c = login_client(&app);
    for next in [
        "/\t/127.0.0.1:8080/x",
        "//evil.example/",
        "/\\evil.example",
        "http://evil.example/",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
        "/x\nLocation: //evil.example",
    ] {
        let r = login(&c, "staff", "staff-password", next).await;
        assert_eq!(r.status, 303, "{next:?}: {}", r.text());
        assert_eq!(r.location(), "/", "{next:?}");
        assert!(session_cookie(&r).is_some());
        // The login page keeps only a safe value in its form.
        let page = c
            .get(&format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.text().contains("name=\"next\" value=\"/\""),
            "{next:?}"
        );
    }
    let r = login(&c, "staff", "staff-password", "/%0d%0aX:%20y").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/%0d%0aX:%20y");
    let r = login(&c, "staff", "staff-password", "/requests?status=open").await;
    assert_eq!(r.location(), "/requests?status=open");
}

/// Unknown, wrong password, locked and disabled: byte-for-byte the same answer, each after exactly one
/// password verification (a dummy one for the unknown name).
#[tokio::test]
async fn refused_logins_are_indistinguishable() {
    let app = TestApp::new().await;
    let c = login_client(&app);
    let sys = unyo_store::Actor::system("test");

    let attempt = |password: &'static str| {
        let c = c.clone();
        async move {
            let before = password_verifications_on_this_thread();
            let r = login(&c, "tanaka", password, "/requests").await;
            let verified = password_verifications_on_this_thread() - before;
            (r, verified)
        }
    };

    let (unknown, n) = attempt("tanaka-password").await;
    assert_eq!(n, 1, "an unknown name is verified against the dummy hash");
    assert_eq!(unknown.status, 401);
    assert!(
        unknown
            .text()
            .contains("利用者IDまたはパスワードが正しくありません"),
        "{}",
        unknown.text()
    );

    let tanaka = app
        .store()
        .create_user(
            &sys,
            "tanaka",
            "田中",
            unyo_domain::Role::Se,
            "tanaka-password",
        )
        .await
        .expect("user");
    let mut wrong = Vec::new();
    for _ in 0..5 {
        let (r, n) = attempt("wrong-password").await;
        assert_eq!(n, 1);
        wrong.push(r);
    }
    // The fifth failure locked the account; the right password is refused the same way.
    let (locked, n) = attempt("tanaka-password").await;
    assert_eq!(n, 1, "a locked account is verified too");
    app.store()
        .unlock_user(&sys, tanaka.id)
        .await
        .expect("unlock");
    app.store()
        .disable_user(&sys, tanaka.id)
        .await
        .expect("disable");
    let (disabled, n) = attempt("tanaka-password").await;
    assert_eq!(n, 1, "a disabled account is verified too");

    let all: Vec<(&str, &Resp)> = [
        ("unknown", &unknown),
        ("locked", &locked),
        ("disabled", &disabled),
    ]
    .into_iter()
    .chain(wrong.iter().map(|r| ("wrong password", r)))
    .collect();
    for (what, r) in &all {
        assert_eq!(r.status, unknown.status, "{what}");
        assert_eq!(r.headers, unknown.headers, "{what}");
        assert_eq!(r.body, unknown.body, "{what}: the same bytes");
    }
    // The states are still told apart in the audit log, which only administrators and auditors read.
    assert!(audit_count(&app, "login.lockout").await >= 1);
}

#[tokio::test]
async fn failures_are_limited_per_account_and_per_source() {
    let app = TestApp::new().await;
    let clock = Clock::system();
    let c = with_limits(
        &app,
        LoginLimits {
            clock: clock.clone(),
            ..Default::default()
        },
    );
    // Per account name, existing or not: ten failures, then 429 before any password is checked.
    for name in ["nobody", "auditor"] {
        for i in 0..10 {
            let r = login(&c, name, "wrong-password", "/").await;
            assert_eq!(r.status, 401, "{name} #{i}");
        }
        let before = password_verifications_on_this_thread();
        let r = login(&c, name, "wrong-password", "/").await;
        assert_eq!(r.status, 429, "{name}");
        assert_eq!(password_verifications_on_this_thread(), before, "no check");
        let retry: u64 = r.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(retry > 14 * 60 && retry <= 15 * 60, "{retry}");
        assert!(
            r.text().contains("しばらくログインを受け付けません"),
            "{}",
            r.text()
        );
    }
    // Another account from the same source is still let in.
    let r = login(&c, "staff", "staff-password", "/").await;
    assert_eq!(r.status, 303);
    // Per source: thirty failures in all, then every name is refused, the right password too.
    for i in 0..10 {
        let r = login(&c, &format!("guess{i}"), "x", "/").await;
        assert_eq!(r.status, 401, "#{i}");
    }
    let r = login(&c, "admin", "admin-password", "/").await;
    assert_eq!(r.status, 429);
    assert!(session_cookie(&r).is_none());
    // The window ends.
    clock.advance(Duration::from_secs(15 * 60));
    let r = login(&c, "admin", "admin-password", "/").await;
    assert_eq!(r.status, 303);
    let r = login(&c, "nobody", "x", "/").await;
    assert_eq!(r.status, 401);
}

/// A thousand failures from one address: the first and the lockout are written, the rest counted into
/// one entry once the window has closed.
#[tokio::test]
async fn a_flood_of_failures_makes_o1_audit_rows() {
    let app = TestApp::new().await;
    let clock = Clock::system();
    let c = with_limits(
        &app,
        LoginLimits {
            clock: clock.clone(),
            ..Default::default()
        },
    );
    let before = audit_count(&app, "login").await;
    for i in 0..1000 {
        let r = login(&c, "se", "wrong-password", "/").await;
        assert!(r.status == 401 || r.status == 429, "#{i}: {}", r.status);
    }
    assert_eq!(
        audit_count(&app, "login").await - before,
        2,
        "login.failure once and login.lockout"
    );
    assert_eq!(audit_count(&app, "login.failure").await, 1);
    assert_eq!(
        audit_count(&app, BURST_ACTION).await,
        0,
        "the window is open"
    );

    clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(c.get("/login").await.status, 200);
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some(BURST_ACTION.into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 1);
    let d: serde_json::Value = serde_json::from_str(&log.items[0].details).expect("json");
    assert_eq!(d["failures"], 999);
    assert_eq!(
        d["refused"], 990,
        "all but the first ten were refused unchecked"
    );
    assert_eq!(d["accounts"], serde_json::json!(["se"]));
    assert_eq!(log.items[0].source, "unknown");
    // Nothing more is written for that burst.
    assert_eq!(c.get("/login").await.status, 200);
    assert_eq!(audit_count(&app, BURST_ACTION).await, 1);
    assert_eq!(audit_count(&app, "login").await - before, 3);
}

/// Logs in with the password and returns the pending second-factor client.
async fn password_step(app: &TestApp, username: &str, password: &str) -> Client {
    let c = login_client(app);
    let r = login(&c, username, password, "/").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().starts_with("/login/totp"), "{}", r.location());
    let mut pending = app.anonymous();
    pending.cookie = session_cookie(&r).expect("pending session");
    let page = pending.get("/login/totp").await.text();
    let from = page.find("name=\"_csrf\" value=\"").expect("csrf") + 20;
    pending.csrf = page[from..from + 64].to_string();
    pending
}

#[tokio::test]
async fn a_totp_code_completes_one_login_only() {
    let app = TestApp::new().await;
    let sys = unyo_store::Actor::system("test");
    let se = app.store().user_by_name("se").await.expect("q").expect("u");
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    app.store()
        .set_pending_totp(&sys, se.id, secret)
        .await
        .expect("pending");
    app.store()
        .enable_totp(&sys, se.id, &["abcd-efgh-jk".into()])
        .await
        .expect("enable");
    let key = base32_decode(secret).expect("b32");
    let now = chrono::Utc::now().timestamp() as u64;
    let code = code_at(&key, now);

    let first = password_step(&app, "se", "se-password").await;
    let ok = first
        .post_form("/login/totp?next=%2F", &[("code", &code)])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());

    // The same code again, within its window: refused.
    let second = password_step(&app, "se", "se-password").await;
    let replay = second
        .post_form("/login/totp?next=%2F", &[("code", &code)])
        .await;
    assert_eq!(replay.status, 401, "a replayed code is refused");
    assert!(replay.text().contains("確認コードが正しくありません"));
    // An older step's code, still inside the drift allowance: refused too.
    let older = second
        .post_form(
            "/login/totp?next=%2F",
            &[("code", &code_at(&key, now - 30))],
        )
        .await;
    assert_eq!(older.status, 401);
    // The store refuses the step itself, whoever asks.
    let step = i64::try_from(now / 30).expect("step");
    assert!(!app.store().accept_totp_step(se.id, step).await.expect("q"));
    assert!(
        app.store()
            .accept_totp_step(se.id, step + 1)
            .await
            .expect("q")
    );
    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("login.success".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 1, "one login");
}
