//! One's own account (TOTP enrolment, password, API tokens) and account administration, through the
//! real router.

mod common;

use common::{Client, Resp, TestApp};
use unyo_store::users::LoginOutcome;
use unyo_web::totp::{base32_decode, code_at};

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let len = text[from..].find(end).expect("end marker");
    &text[from..from + len]
}

fn unix_now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// A code that is wrong now and one step either side.
fn wrong_code(key: &[u8]) -> String {
    let now = unix_now();
    let taken: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|&t| code_at(key, t))
        .collect();
    (0..1000)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !taken.contains(c))
        .expect("some code is wrong")
}

/// The session cookie a response sets (`unyo_session=...`).
fn session_cookie(r: &Resp) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("unyo_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string()
}

/// Logs in through the form (as a browser does) and returns the client of the pending second-factor
/// step, with that session's CSRF token.
async fn password_step(app: &TestApp, username: &str, password: &str) -> Client {
    let mut c = app.anonymous();
    c.cookie = format!("unyo_login_csrf={}", "b".repeat(64));
    c.csrf = "b".repeat(64);
    let r = c
        .post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().starts_with("/login/totp"), "{}", r.location());
    let mut pending = app.anonymous();
    pending.cookie = session_cookie(&r);
    let page = pending.get("/login/totp").await;
    assert_eq!(page.status, 200);
    pending.csrf = between(&page.text(), "name=\"_csrf\" value=\"", "\"").to_string();
    // The pending session is not a login yet.
    assert_eq!(pending.get("/account").await.status, 303);
    pending
}

#[tokio::test]
async fn totp_enrolment_login_and_recovery_codes() {
    let app = TestApp::new().await;
    let c = app.login("staff").await;

    let account = c.get("/account").await;
    assert_eq!(account.status, 200);
    let html = account.text();
    assert!(html.contains("staff さん") && html.contains("県職員"));
    assert!(html.contains("/account/totp/start"));
    assert!(!html.contains("style="));

    // Start: a secret, a URI and a QR code, pending until confirmed.
    let r = c.post_form("/account/totp/start", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    let grouped = between(&html, "id=\"totp-secret\">", "</code>").to_string();
    assert!(
        grouped.split(' ').all(|g| g.len() == 4) && grouped.split(' ').count() == 8,
        "{grouped}"
    );
    let secret = grouped.replace(' ', "");
    assert!(html.contains(&format!("otpauth://totp/unyo:staff?secret={secret}&")));
    assert!(html.contains("issuer=unyo"));
    assert!(html.contains("<svg") && html.contains("role=\"img\"") && html.contains("aria-label="));
    assert!(!html.contains("style="), "no inline styles (CSP)");
    let key = base32_decode(&secret).expect("base32");
    assert_eq!(key.len(), 20);
    assert_eq!(
        app.store()
            .totp_secret(
                app.store()
                    .user_by_name("staff")
                    .await
                    .expect("q")
                    .expect("u")
                    .id
            )
            .await
            .expect("q")
            .as_deref(),
        Some(secret.as_str())
    );

    // A wrong code keeps it pending.
    let r = c
        .post_form("/account/totp/confirm", &[("code", &wrong_code(&key))])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("確認コードが正しくありません"));
    assert!(r.text().contains(&grouped), "same secret shown again");
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    assert!(!staff.totp_enabled);
    assert!(c.get("/account").await.text().contains("設定途中"));

    // The right code turns it on and shows ten recovery codes once. (Each code below is of a later
    // time step than the one before: a step is used up once accepted.)
    let r = c
        .post_form(
            "/account/totp/confirm",
            &[("code", &code_at(&key, unix_now() - 30))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    let list = between(&html, "id=\"recovery-codes\"", "</ol>");
    let codes: Vec<String> = list
        .split("<code class=\"secret\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{list}");
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 12 && c.matches('-').count() == 2)
    );
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    assert!(staff.totp_enabled);
    let account = c.get("/account").await.text();
    assert!(account.contains("/account/totp/disable"));
    assert!(!account.contains(&codes[0]), "codes are not shown again");
    // Starting again while on would switch it off without a code: refused.
    let r = c.post_form("/account/totp/start", &[]).await;
    assert_eq!(r.status, 303);
    assert!(
        app.store()
            .user_by_name("staff")
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );

    // A real login now needs the second factor.
    let pending = password_step(&app, "staff", "staff-password").await;
    let bad = pending
        .post_form("/login/totp?next=%2F", &[("code", &wrong_code(&key))])
        .await;
    assert_eq!(bad.status, 401);
    let ok = pending
        .post_form(
            "/login/totp?next=%2F",
            &[("code", &code_at(&key, unix_now()))],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    assert_eq!(ok.location(), "/");
    let mut logged = app.anonymous();
    logged.cookie = session_cookie(&ok);
    assert_eq!(logged.get("/account").await.status, 200);

    // A recovery code works once.
    let pending = password_step(&app, "staff", "staff-password").await;
    let ok = pending
        .post_form(
            "/login/totp?next=%2F",
            &[("code", &codes[3].to_uppercase())],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let pending = password_step(&app, "staff", "staff-password").await;
    let again = pending
        .post_form("/login/totp?next=%2F", &[("code", &codes[3])])
        .await;
    assert_eq!(again.status, 401, "a used recovery code is refused");

    // Turning it off needs the current code.
    let r = c
        .post_form("/account/totp/disable", &[("code", &wrong_code(&key))])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        app.store()
            .user_by_name("staff")
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );
    let r = c
        .post_form(
            "/account/totp/disable",
            &[("code", &code_at(&key, unix_now() + 30))],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/account?ok=totp_off");
    assert!(
        !app.store()
            .user_by_name("staff")
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );
    assert!(
        c.get("/account?ok=totp_off")
            .await
            .text()
            .contains("二要素認証を無効にしました")
    );
}

#[tokio::test]
async fn password_change() {
    let app = TestApp::new().await;
    let c = app.login("se").await;
    let r = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "se-password"),
                ("new_password", "a-new-password-1"),
                ("new_password2", "a-new-password-2"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("新しいパスワードが一致しません"));

    let r = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "se-password"),
                ("new_password", "short"),
                ("new_password2", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("10文字以上"), "{}", r.text());

    let r = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "not-my-password"),
                ("new_password", "a-new-password-1"),
                ("new_password2", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("現在のパスワードが正しくありません"));

    let r = c
        .post_form(
            "/account/password",
            &[
                ("current_password", "se-password"),
                ("new_password", "a-new-password-1"),
                ("new_password2", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    // This browser's session was rotated: the old cookie is over, the new one works.
    assert_eq!(c.get("/account").await.status, 303);
    let mut rotated = c.clone();
    rotated.cookie = session_cookie(&r);
    let page = rotated.get(&r.location()).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("パスワードを変更しました"));
    let out = app
        .store()
        .check_password("se", "a-new-password-1", "test")
        .await
        .expect("check");
    assert!(matches!(out, LoginOutcome::Success(_)));
}

/// Changing one's password ends the account's other sessions and keeps this one (rotated); an
/// administrator's reset ends them all. Tokens keep working and are listed to be kept or revoked.
#[tokio::test]
async fn a_new_password_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let here = app.login("se").await;
    let elsewhere = app.login("se").await;
    let other_user = app.login("staff").await;
    let se = app.store().user_by_name("se").await.expect("q").expect("u");
    let token = app
        .store()
        .create_api_token(&se.actor("test"), se.id, "監視")
        .await
        .expect("token");
    let r = here
        .post_form(
            "/account/password",
            &[
                ("current_password", "se-password"),
                ("new_password", "a-new-password-1"),
                ("new_password2", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        elsewhere.get("/account").await.status,
        303,
        "the other session ended"
    );
    assert_eq!(
        here.get("/account").await.status,
        303,
        "the old id is not reused"
    );
    assert_eq!(
        other_user.get("/account").await.status,
        200,
        "others are untouched"
    );
    let mut rotated = here.clone();
    rotated.cookie = session_cookie(&r);
    let page = rotated.get(&r.location()).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("他の端末やブラウザーでのログインはすべて終了しました"),
        "{html}"
    );
    assert!(
        html.contains("id=\"token-list\"") && html.contains("監視"),
        "tokens listed"
    );
    assert!(
        app.store()
            .user_for_token(&token)
            .await
            .expect("q")
            .is_some()
    );

    // An administrator's reset ends every session, the rotated one too.
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            &format!("/users/{}/password", se.id),
            &[("password", "reset-by-admin-1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/users?ok=password_reset");
    assert_eq!(rotated.get("/account").await.status, 303);
    assert!(matches!(
        app.store()
            .check_password("se", "reset-by-admin-1", "test")
            .await
            .expect("check"),
        LoginOutcome::Success(_)
    ));
    let r = admin
        .post_form(
            &format!("/users/{}/password", se.id),
            &[("password", "short")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("10文字以上"));
    let log = app
        .store()
        .audit_log(&unyo_store::audit::AuditQuery {
            action: Some("user.password".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 2);
    assert!(
        log.items
            .iter()
            .any(|e| e.details.contains("\"by\":\"admin\""))
    );
    // Not for others than administrators.
    let staff = app.login("staff").await;
    let r = staff
        .post_form(
            &format!("/users/{}/password", se.id),
            &[("password", "staff-chose-1")],
        )
        .await;
    assert_eq!(r.status, 403);
}

/// Tokens are listed with name, dates and state, can be given an expiry, and are revoked by their owner
/// (account page) or an administrator (利用者管理); a revoked or expired token gets 401.
#[tokio::test]
async fn tokens_are_listed_expire_and_are_revoked() {
    let app = TestApp::new().await;
    let c = app.login("staff").await;
    assert!(
        c.get("/account")
            .await
            .text()
            .contains("発行済みのトークンはありません")
    );
    let r = c
        .post_form(
            "/account/tokens",
            &[("name", "期限つき"), ("expires_on", "2020-01-01")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("有効期限は今日以降の日付にしてください"));
    assert!(
        r.text().contains("value=\"期限つき\""),
        "what was typed stays"
    );
    let r = c
        .post_form("/account/tokens", &[("name", "x"), ("expires_on", "明日")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("有効期限は日付"));

    let today = unyo_store::support::jst_today();
    let r = c
        .post_form(
            "/account/tokens",
            &[("name", "期限つき"), ("expires_on", &today.to_string())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let dated = between(&r.text(), "id=\"api-token\">", "</code>").to_string();
    assert!(r.text().contains("令和"), "the expiry in 和暦");
    let r = c.post_form("/account/tokens", &[("name", "常用")]).await;
    let plain = between(&r.text(), "id=\"api-token\">", "</code>").to_string();

    // Used once: the last use is noted.
    let api = app.anonymous();
    assert_eq!(api.api("GET", "/api/v1/me", &plain, None).await.status, 200);
    assert_eq!(api.api("GET", "/api/v1/me", &dated, None).await.status, 200);
    let html = c.get("/account").await.text();
    let list = between(&html, "id=\"token-list\"", "</table>");
    assert!(list.contains("期限つき") && list.contains("常用"));
    assert!(!list.contains("未使用"), "both were used: {list}");
    assert!(list.contains("なし（失効させるまで）"));
    assert!(
        !html.contains(&plain) && !html.contains(&dated),
        "secrets are not shown again"
    );

    // The owner revokes one.
    let tokens = app
        .store()
        .api_tokens_of(
            &unyo_store::Actor::system("test"),
            app.store()
                .user_by_name("staff")
                .await
                .expect("q")
                .expect("u")
                .id,
        )
        .await
        .expect("list");
    let plain_id = tokens.iter().find(|t| t.name == "常用").expect("listed").id;
    let dated_id = tokens
        .iter()
        .find(|t| t.name == "期限つき")
        .expect("listed")
        .id;
    let r = c
        .post_form(&format!("/account/tokens/{plain_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/account?ok=token_revoked");
    assert_eq!(api.api("GET", "/api/v1/me", &plain, None).await.status, 401);
    let html = c.get("/account?ok=token_revoked").await.text();
    assert!(html.contains("APIトークンを失効させました"));
    assert!(between(&html, &format!("id=\"token-{plain_id}\""), "</tr>").contains("失効"));
    // Without the CSRF token: refused.
    let mut forged = c.clone();
    forged.csrf = "0".repeat(64);
    assert_eq!(
        forged
            .post_form(&format!("/account/tokens/{dated_id}/revoke"), &[])
            .await
            .status,
        403
    );
    // Someone else's token is not found from one's own account page.
    let se = app.login("se").await;
    assert_eq!(
        se.post_form(&format!("/account/tokens/{dated_id}/revoke"), &[])
            .await
            .status,
        404
    );
    assert_eq!(api.api("GET", "/api/v1/me", &dated, None).await.status, 200);

    // The administrator sees every account's tokens and revokes one.
    let admin = app.login("admin").await;
    let html = admin.get("/users").await.text();
    let list = between(&html, "id=\"token-list\"", "</table>");
    assert!(list.contains("staff") && list.contains("期限つき") && list.contains("常用"));
    let r = admin
        .post_form(&format!("/users/tokens/{dated_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(api.api("GET", "/api/v1/me", &dated, None).await.status, 401);
    assert_eq!(
        se.post_form(&format!("/users/tokens/{dated_id}/revoke"), &[])
            .await
            .status,
        403
    );
    let log = app
        .store()
        .audit_log(&unyo_store::audit::AuditQuery {
            action: Some("token.revoke".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 2, "each revocation audited once");
    assert!(log.items.iter().any(|e| e.actor == "admin"));
    assert!(log.items.iter().any(|e| e.actor == "staff"));

    // An expired token gets 401.
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    let soon =
        unyo_domain::time::to_storage(chrono::Utc::now() + chrono::Duration::milliseconds(1200));
    let (_, short) = app
        .store()
        .issue_api_token(&staff.actor("test"), staff.id, "短命", Some(&soon))
        .await
        .expect("token");
    assert_eq!(api.api("GET", "/api/v1/me", &short, None).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(api.api("GET", "/api/v1/me", &short, None).await.status, 401);
    let html = c.get("/account").await.text();
    assert!(html.contains("期限切れ"));
}

#[tokio::test]
async fn api_token_is_shown_once_and_works() {
    let app = TestApp::new().await;
    let c = app.login("staff").await;
    let r = c.post_form("/account/tokens", &[("name", "  ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("用途を入力してください"));
    let r = c
        .post_form(
            "/account/tokens",
            &[("name", "個人番号 123456789018 の照会")],
        )
        .await;
    assert_eq!(r.status, 422, "personal numbers are refused (R17)");

    let r = c
        .post_form("/account/tokens", &[("name", "監視スクリプト")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("一度だけ表示されます"));
    let token = between(&html, "id=\"api-token\">", "</code>").to_string();
    assert!(token.starts_with("unyo_"), "{token}");
    let user = app
        .store()
        .user_for_token(&token)
        .await
        .expect("q")
        .expect("token accepted");
    assert_eq!(user.username, "staff");
    assert!(!c.get("/account").await.text().contains(&token));
}

#[tokio::test]
async fn admin_manages_users() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = admin.get("/users").await;
    assert_eq!(r.status, 200);
    let html = r.text();
    for name in ["admin", "staff", "se", "auditor"] {
        assert!(html.contains(&format!("{name} さん")), "{name}");
    }
    assert!(html.contains("無効にすることを確認しました"));
    assert!(!html.contains("style="));

    // Add a user.
    let r = admin
        .post_form(
            "/users",
            &[
                ("username", "tanaka"),
                ("display_name", "田中 花子"),
                ("role", "se"),
                ("password", "tanaka-password"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.location(), "/users?ok=created");
    let tanaka = app
        .store()
        .user_by_name("tanaka")
        .await
        .expect("q")
        .expect("created");
    assert_eq!(tanaka.role, "se");
    assert!(
        admin
            .get("/users?ok=created")
            .await
            .text()
            .contains("田中 花子")
    );

    // Refusals on the form, in Japanese, 422, keeping what was typed (but not the password).
    let r = admin
        .post_form(
            "/users",
            &[
                ("username", "tanaka"),
                ("display_name", "田中 二郎"),
                ("role", "staff"),
                ("password", "another-password"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("既に使われています"), "{html}");
    assert!(html.contains("value=\"田中 二郎\"") && !html.contains("another-password"));
    assert!(html.contains("<option value=\"staff\" selected>"));

    let r = admin
        .post_form(
            "/users",
            &[
                ("username", "suzuki"),
                ("display_name", "鈴木"),
                ("role", "staff"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("10文字以上"));

    let r = admin
        .post_form(
            "/users",
            &[
                ("username", "suzuki"),
                ("display_name", "鈴木 123456789018"),
                ("role", "staff"),
                ("password", "suzuki-password"),
            ],
        )
        .await;
    assert_eq!(
        r.status, 422,
        "a personal number in the name is refused (R17)"
    );
    assert!(r.text().contains("個人番号"), "{}", r.text());

    let r = admin
        .post_form(
            "/users",
            &[
                ("username", "sato"),
                ("display_name", "佐藤"),
                ("role", "root"),
                ("password", "sato-password"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("役割を選択してください"));
    assert!(
        app.store()
            .user_by_name("suzuki")
            .await
            .expect("q")
            .is_none()
    );

    // Lock tanaka out, then unlock.
    for _ in 0..5 {
        app.store()
            .check_password("tanaka", "wrong", "test")
            .await
            .expect("check");
    }
    let html = admin.get("/users").await.text();
    assert!(html.contains("ロック中") && html.contains("まで"));
    let r = admin
        .post_form(&format!("/users/{}/unlock", tanaka.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let t = app.store().user(tanaka.id).await.expect("q").expect("u");
    assert!(t.locked_until.is_none());
    assert!(matches!(
        app.store()
            .check_password("tanaka", "tanaka-password", "test")
            .await
            .expect("check"),
        LoginOutcome::Success(_)
    ));

    // Disabling needs the confirmation, and ends the person's sessions at once.
    let tanaka_client = app.login("tanaka").await;
    assert_eq!(tanaka_client.get("/account").await.status, 200);
    let r = admin
        .post_form(&format!("/users/{}/disable", tanaka.id), &[])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("チェックを入れて"));
    assert!(
        app.store()
            .user(tanaka.id)
            .await
            .expect("q")
            .expect("u")
            .disabled_at
            .is_none()
    );
    let r = admin
        .post_form(
            &format!("/users/{}/disable", tanaka.id),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        app.store()
            .user(tanaka.id)
            .await
            .expect("q")
            .expect("u")
            .disabled_at
            .is_some()
    );
    assert_eq!(tanaka_client.get("/account").await.status, 303);
    assert!(
        admin
            .get("/users?ok=disabled")
            .await
            .text()
            .contains("アカウントを無効にしました")
    );

    // Not oneself.
    let me = app
        .store()
        .user_by_name("admin")
        .await
        .expect("q")
        .expect("u");
    let r = admin
        .post_form(&format!("/users/{}/disable", me.id), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("自分自身"));

    // No such account.
    assert_eq!(
        admin.post_form("/users/99999/unlock", &[]).await.status,
        404
    );
}

/// A code typed on the account page uses up its time step as a login code does: the code that
/// confirmed TOTP cannot then complete a login, and the code of the last login cannot turn TOTP off.
#[tokio::test]
async fn totp_codes_typed_on_the_account_page_are_used_once() {
    let app = TestApp::new().await;
    let c = app.login("staff").await;
    assert_eq!(c.post_form("/account/totp/start", &[]).await.status, 200);
    let id = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u")
        .id;
    let secret = app
        .store()
        .totp_secret(id)
        .await
        .expect("q")
        .expect("pending secret");
    let key = base32_decode(&secret).expect("base32");
    let enabled = || async {
        app.store()
            .user(id)
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    };

    let code = code_at(&key, unix_now());
    let r = c
        .post_form("/account/totp/confirm", &[("code", &code)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(enabled().await);

    // The confirming code again, at the login: refused.
    let pending = password_step(&app, "staff", "staff-password").await;
    let replay = pending
        .post_form("/login/totp?next=%2F", &[("code", &code)])
        .await;
    assert_eq!(replay.status, 401, "the confirming code is used up");

    // A login with the next step's code; that code cannot then turn TOTP off.
    let next = code_at(&key, unix_now() + 30);
    let pending = password_step(&app, "staff", "staff-password").await;
    let ok = pending
        .post_form("/login/totp?next=%2F", &[("code", &next)])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let r = c
        .post_form("/account/totp/disable", &[("code", &next)])
        .await;
    assert_eq!(r.status, 422, "the login's code is used up");
    assert!(enabled().await, "still on");
    assert!(
        r.text().contains("確認コードが正しくありません"),
        "told as a wrong code"
    );
}

#[tokio::test]
async fn admin_resets_a_lost_second_factor() {
    let app = TestApp::new().await;
    let sys = unyo_store::Actor::system("test");
    let se = app.store().user_by_name("se").await.expect("q").expect("u");
    app.store()
        .set_pending_totp(&sys, se.id, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        .await
        .expect("pending");
    app.store()
        .enable_totp(&sys, se.id, &["abcd-efgh-jk".into()])
        .await
        .expect("enable");
    let admin = app.login("admin").await;
    assert!(
        admin
            .get("/users")
            .await
            .text()
            .contains(&format!("/users/{}/reset-totp", se.id))
    );
    let r = admin
        .post_form(&format!("/users/{}/reset-totp", se.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let se = app.store().user(se.id).await.expect("q").expect("u");
    assert!(!se.totp_enabled);
    assert!(app.store().totp_secret(se.id).await.expect("q").is_none());
}

#[tokio::test]
async fn only_admins_manage_users() {
    let app = TestApp::new().await;
    let staff = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");
    for name in ["staff", "se", "auditor"] {
        let c = app.login(name).await;
        assert_eq!(c.get("/users").await.status, 403, "{name}");
        let r = c
            .post_form(
                "/users",
                &[
                    ("username", "intruder"),
                    ("display_name", "x"),
                    ("role", "admin"),
                    ("password", "intruder-password"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{name}");
        let r = c
            .post_form(
                &format!("/users/{}/disable", staff.id),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status, 403, "{name}");
        assert_eq!(
            c.post_form(&format!("/users/{}/reset-totp", staff.id), &[])
                .await
                .status,
            403
        );
    }
    assert!(
        app.store()
            .user_by_name("intruder")
            .await
            .expect("q")
            .is_none()
    );
}
