//! Accounts beyond the basics: a new password ends the sessions, a TOTP step is accepted once, API tokens
//! are listed, revoked (owner or administrator) and expire, and a failed login can be counted by the
//! caller instead of audited. Runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use unyo_domain::{DomainError, Role};
use unyo_store::audit::AuditQuery;
use unyo_store::testing::test_store;
use unyo_store::users::LoginOutcome;
use unyo_store::{Actor, Store, StoreError};

async fn count(s: &Store, action: &str) -> i64 {
    s.audit_log(&AuditQuery {
        action: Some(action.into()),
        ..Default::default()
    })
    .await
    .expect("log")
    .total
}

#[tokio::test]
async fn a_new_password_ends_every_session_of_the_account() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let a = s
        .create_user(&sys, "se1", "SE 一郎", Role::Se, "long-password-1")
        .await
        .expect("user");
    let b = s
        .create_user(&sys, "se2", "SE 二郎", Role::Se, "long-password-2")
        .await
        .expect("user");
    let a1 = s.create_session(a.id, false).await.expect("session");
    let a2 = s.create_session(a.id, true).await.expect("session");
    let b1 = s.create_session(b.id, false).await.expect("session");
    let token = s
        .create_api_token(&a.actor("t"), a.id, "cli")
        .await
        .expect("token");
    let now = chrono::Utc::now();
    assert_eq!(
        s.set_password(&a.actor("t"), a.id, "long-password-3")
            .await
            .expect("set"),
        2
    );
    assert!(s.session(&a1.token, now).await.expect("q").is_none());
    assert!(s.session(&a2.token, now).await.expect("q").is_none());
    assert!(s.session(&b1.token, now).await.expect("q").is_some());
    assert!(
        s.user_for_token(&token).await.expect("q").is_some(),
        "tokens stay"
    );
    // Someone else's password: only an administrator.
    assert!(matches!(
        s.set_password(&b.actor("t"), a.id, "long-password-4").await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    assert_eq!(
        s.set_password(&sys, b.id, "long-password-5")
            .await
            .expect("admin"),
        1
    );
    assert!(s.session(&b1.token, now).await.expect("q").is_none());
    assert!(matches!(
        s.set_password(&sys, 99_999, "long-password-6").await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    assert_eq!(count(s, "user.password").await, 2);
}

#[tokio::test]
async fn a_totp_step_is_accepted_once() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let u = s
        .create_user(&sys, "se1", "SE", Role::Se, "long-password-1")
        .await
        .expect("user");
    let step = 59_000_000;
    assert!(s.complete_totp_login(&u, step, "t").await.expect("q"));
    assert!(
        !s.complete_totp_login(&u, step, "t").await.expect("q"),
        "replay"
    );
    assert!(
        !s.accept_totp_step(u.id, step - 1).await.expect("q"),
        "older"
    );
    assert!(s.accept_totp_step(u.id, step + 1).await.expect("q"));
    assert_eq!(count(s, "login.success").await, 1);
    // Two requests with the same code at once: one wins.
    let (x, y) = tokio::join!(
        s.complete_totp_login(&u, step + 2, "t"),
        s.complete_totp_login(&u, step + 2, "t")
    );
    assert_eq!(
        [x.expect("q"), y.expect("q")]
            .iter()
            .filter(|&&ok| ok)
            .count(),
        1
    );
}

#[tokio::test]
async fn tokens_are_listed_revoked_and_expire() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let a = s
        .create_user(&sys, "se1", "SE", Role::Se, "long-password-1")
        .await
        .expect("user");
    let b = s
        .create_user(&sys, "st1", "職員", Role::Staff, "long-password-2")
        .await
        .expect("user");
    let (t1, secret1) = s
        .issue_api_token(&a.actor("t"), a.id, "監視", None)
        .await
        .expect("token");
    let (t2, _) = s
        .issue_api_token(&b.actor("t"), b.id, "台帳", None)
        .await
        .expect("token");
    assert_eq!(t1.last_used_at, None);
    assert_eq!(t1.state("2000-01-01T00:00:00.000000Z"), "active");
    // Noted on use.
    assert!(s.user_for_token(&secret1).await.expect("q").is_some());
    let mine = s.api_tokens_of(&a.actor("t"), a.id).await.expect("own");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].last_used_at.is_some());
    assert!(matches!(
        s.api_tokens_of(&a.actor("t"), b.id).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    assert!(s.all_api_tokens(&a.actor("t")).await.is_err());
    assert_eq!(s.all_api_tokens(&sys).await.expect("admin").len(), 2);
    // Someone else's token is "not found"; one's own is revoked once.
    assert!(matches!(
        s.revoke_api_token(&a.actor("t"), t2.id).await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    let revoked = s.revoke_api_token(&a.actor("t"), t1.id).await.expect("own");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.state("2000-01-01T00:00:00.000000Z"), "revoked");
    s.revoke_api_token(&a.actor("t"), t1.id)
        .await
        .expect("again");
    assert!(s.user_for_token(&secret1).await.expect("q").is_none());
    s.revoke_api_token(&sys, t2.id).await.expect("admin");
    assert_eq!(count(s, "token.revoke").await, 2);

    // Expiry.
    let later = unyo_domain::time::to_storage(chrono::Utc::now() + chrono::Duration::hours(1));
    let (t3, secret3) = s
        .issue_api_token(&a.actor("t"), a.id, "期限", Some(&later))
        .await
        .expect("token");
    assert_eq!(t3.expires_at.as_deref(), Some(later.as_str()));
    assert_eq!(t3.state(&later), "expired");
    assert!(s.user_for_token(&secret3).await.expect("q").is_some());
    let past = unyo_domain::time::to_storage(chrono::Utc::now() - chrono::Duration::seconds(1));
    assert!(matches!(
        s.issue_api_token(&a.actor("t"), a.id, "過去", Some(&past))
            .await,
        Err(StoreError::Domain(DomainError::Validation(_)))
    ));
}

#[tokio::test]
async fn a_failed_login_may_be_counted_instead_of_audited() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let u = s
        .create_user(&sys, "se1", "SE", Role::Se, "long-password-1")
        .await
        .expect("user");
    for _ in 0..4 {
        assert!(matches!(
            s.check_login("se1", "wrong", "t", false).await.expect("q"),
            LoginOutcome::Failed
        ));
    }
    assert!(matches!(
        s.check_login("nobody", "wrong", "t", false)
            .await
            .expect("q"),
        LoginOutcome::Failed
    ));
    assert_eq!(count(s, "login.failure").await, 0);
    // The lock still counts and is always audited.
    assert!(matches!(
        s.check_login("se1", "wrong", "t", false).await.expect("q"),
        LoginOutcome::Locked(_)
    ));
    assert_eq!(count(s, "login.lockout").await, 1);
    s.unlock_user(&sys, u.id).await.expect("unlock");
    assert!(matches!(
        s.check_login("se1", "wrong", "t", true).await.expect("q"),
        LoginOutcome::Failed
    ));
    assert_eq!(count(s, "login.failure").await, 1);
}
