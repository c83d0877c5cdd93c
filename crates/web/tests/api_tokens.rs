//! `GET /api/v1/tokens` and `DELETE /api/v1/tokens/{id}`: one's own tokens (an administrator's: anyone's),
//! never a secret, revocation audited, revoked and expired tokens refused with 401.

mod common;

use common::TestApp;
use unyo_store::audit::AuditQuery;

async fn token(app: &TestApp, username: &str, name: &str) -> (i64, String) {
    let user = app
        .store()
        .user_by_name(username)
        .await
        .expect("query")
        .expect("user exists");
    let (row, secret) = app
        .store()
        .issue_api_token(&user.actor("test"), user.id, name, None)
        .await
        .expect("token");
    (row.id, secret)
}

#[tokio::test]
async fn tokens_are_listed_and_revoked_through_the_api() {
    let app = TestApp::new().await;
    let c = app.anonymous();
    let (admin_id, admin) = token(&app, "admin", "管理スクリプト").await;
    let (se_id, se) = token(&app, "se", "監視").await;
    let (se2_id, se2) = token(&app, "se", "集計").await;
    let (_, staff) = token(&app, "staff", "台帳連携").await;
    let se_user = app.store().user_by_name("se").await.expect("q").expect("u");
    let staff_user = app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("u");

    // One's own, newest first, without secrets or hashes.
    let r = c.api("GET", "/api/v1/tokens", &se, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let items = v["items"].as_array().expect("items");
    assert_eq!(
        items.iter().map(|t| t["id"].as_i64()).collect::<Vec<_>>(),
        [Some(se2_id), Some(se_id)]
    );
    assert_eq!(items[1]["name"], "監視");
    assert_eq!(items[1]["username"], "se");
    assert_eq!(items[1]["state"], "active");
    assert!(items[1]["created_at"].is_string());
    assert!(items[1]["expires_at"].is_null());
    assert!(items[0]["last_used_at"].is_null() || items[0]["last_used_at"].is_string());
    assert!(items[1]["last_used_at"].is_string(), "this call used it");
    let text = r.text();
    assert!(!text.contains(&se) && !text.contains(&se2) && !text.contains("hash"));

    // Another account's list: 403 unless an administrator.
    let r = c
        .api(
            "GET",
            &format!("/api/v1/tokens?user_id={}", staff_user.id),
            &se,
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .api(
            "GET",
            &format!("/api/v1/tokens?user_id={}", se_user.id),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(2));

    // Revoking: someone else's is 404 for a non-administrator, as is an unknown id.
    let r = c
        .api("DELETE", &format!("/api/v1/tokens/{admin_id}"), &se, None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    assert_eq!(
        c.api("DELETE", "/api/v1/tokens/99999", &se, None)
            .await
            .status,
        404
    );
    assert_eq!(c.api("GET", "/api/v1/me", &admin, None).await.status, 200);
    // One's own: 204, then the token is refused.
    let r = c
        .api("DELETE", &format!("/api/v1/tokens/{se2_id}"), &se, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(c.api("GET", "/api/v1/me", &se2, None).await.status, 401);
    let v = c.api("GET", "/api/v1/tokens", &se, None).await.json();
    assert_eq!(v["items"][0]["state"], "revoked");
    assert!(v["items"][0]["revoked_at"].is_string());
    // Again: still 204, nothing more written.
    assert_eq!(
        c.api("DELETE", &format!("/api/v1/tokens/{se2_id}"), &se, None)
            .await
            .status,
        204
    );
    // An administrator revokes anyone's.
    let r = c
        .api("DELETE", &format!("/api/v1/tokens/{se_id}"), &admin, None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(c.api("GET", "/api/v1/me", &se, None).await.status, 401);
    assert_eq!(c.api("GET", "/api/v1/me", &staff, None).await.status, 200);

    let log = app
        .store()
        .audit_log(&AuditQuery {
            action: Some("token.revoke".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 2);
    assert_eq!(
        log.items
            .iter()
            .map(|e| e.actor.as_str())
            .collect::<Vec<_>>(),
        ["admin", "se"],
        "newest first"
    );
    assert!(log.items.iter().all(|e| e.entity == "api_token"));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::new().await;
    let c = app.anonymous();
    let u = app
        .store()
        .user_by_name("auditor")
        .await
        .expect("q")
        .expect("u");
    let soon =
        unyo_domain::time::to_storage(chrono::Utc::now() + chrono::Duration::milliseconds(1000));
    let (row, secret) = app
        .store()
        .issue_api_token(&u.actor("test"), u.id, "短命", Some(&soon))
        .await
        .expect("token");
    assert_eq!(row.expires_at.as_deref(), Some(soon.as_str()));
    let r = c.api("GET", "/api/v1/tokens", &secret, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"][0]["expires_at"], soon.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c.api("GET", "/api/v1/me", &secret, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    // A past expiry is refused when issuing.
    let past = unyo_domain::time::to_storage(chrono::Utc::now() - chrono::Duration::minutes(1));
    assert!(
        app.store()
            .issue_api_token(&u.actor("test"), u.id, "過去", Some(&past))
            .await
            .is_err()
    );
}
