//! Items of the IPA checklist (`docs/security/ipa-checklist.md`) that had a mechanism but no test: classic
//! SQL injection payloads through search, filter and sort parameters (1-(i)); the CSRF guard's `Origin`
//! check (6-(i)); pages declared as UTF-8 HTML (5-(viii)); `TRACE` refused without an echo (5-(ix)).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use unyo_domain::registry::SiteInput;
use unyo_store::Actor;
use unyo_store::registry::ListQuery;

const PAYLOADS: [&str; 6] = [
    "' OR '1'='1",
    "'; DROP TABLE sites; --",
    "1 UNION SELECT password_hash FROM users --",
    "\") OR 1=1 --",
    "%' OR 1=1 OR '%'='",
    "name; DELETE FROM audit_log",
];

fn encoded(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[tokio::test]
async fn injection_payloads_are_only_values() {
    let app = TestApp::new().await;
    app.store()
        .create_site(
            &Actor::system("test"),
            &SiteInput {
                code: "KENCHO".into(),
                name: "県庁".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site");
    let users = app.store().users().await.unwrap().len();
    let audit = app
        .store()
        .audit_log(&Default::default())
        .await
        .unwrap()
        .total;
    let admin = app.login("admin").await;
    for payload in PAYLOADS {
        let p = encoded(payload);
        for path in [
            format!("/sites?q={p}"),
            format!("/terminals?q={p}"),
            format!("/nodes?q={p}"),
            format!("/sites?sort={p}&dir={p}"),
            format!("/terminals?kind={p}&sort={p}"),
            format!("/audit?action={p}&actor={p}"),
        ] {
            let r = admin.get(&path).await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
                "{path}: {}",
                r.status
            );
            let html = r.text();
            assert!(!html.contains("$argon2"), "{path} leaked a password hash");
        }
        // The search finds nothing: the payload was searched for as text.
        let found = app
            .store()
            .sites(&ListQuery {
                q: Some(payload.into()),
                ..Default::default()
            })
            .await
            .expect("search");
        assert_eq!(found.total, 0, "{payload}");
    }
    // Nothing was dropped or deleted.
    assert_eq!(app.store().all_sites().await.unwrap().len(), 1);
    assert_eq!(app.store().users().await.unwrap().len(), users);
    assert!(
        app.store()
            .audit_log(&Default::default())
            .await
            .unwrap()
            .total
            >= audit
    );
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_the_token() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let post = |origin: Option<&str>| {
        let body = format!(
            "_csrf={}&code=SAGA&name=%E4%BD%90%E8%B3%80&kind=kenzei",
            admin.csrf
        );
        let mut b = Request::post("/sites")
            .header(header::HOST, "unyo.example")
            .header(header::COOKIE, &admin.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(body)).expect("req")
    };
    for origin in [
        "http://evil.example",
        "null",
        "http://unyo.example.evil.example",
    ] {
        let r = admin.send(post(Some(origin))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin}");
    }
    assert!(app.store().all_sites().await.unwrap().is_empty());
    // The same request from this site (or without Origin) goes through.
    let r = admin.send(post(Some("http://unyo.example"))).await;
    assert!(
        r.status.is_redirection() || r.status == StatusCode::OK,
        "{} {}",
        r.status,
        r.text()
    );
    assert_eq!(app.store().all_sites().await.unwrap().len(), 1);
}

#[tokio::test]
async fn pages_are_utf8_html_and_trace_is_refused() {
    let app = TestApp::new().await;
    let staff = app.login("staff").await;
    for path in ["/", "/sites", "/login"] {
        let r = staff.get(path).await;
        let ct = r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            ct.to_ascii_lowercase(),
            "text/html; charset=utf-8",
            "{path}"
        );
    }
    let r = staff
        .send(
            Request::builder()
                .method(Method::TRACE)
                .uri("/sites")
                .header(header::COOKIE, &staff.cookie)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    // Refused (by the CSRF guard, before routing, as any state-changing method without a token), and
    // the request, with its cookie, is never echoed back as TRACE would.
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        r.status
    );
    assert!(!r.text().contains("unyo_session"));
}
