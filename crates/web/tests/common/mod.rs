//! Shared helpers for HTTP tests: an app on a fresh store (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set), users of each role, and a client that carries the session cookie and
//! CSRF token like a browser would.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use unyo_domain::Role;
use unyo_store::testing::{TestDb, test_store};
use unyo_store::{Actor, Store};
use unyo_web::{WebConfig, router};

/// An app and its database.
pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
}

impl TestApp {
    /// A fresh app with one account per role: `admin`, `staff`, `se`, `auditor` (password `{name}-password`).
    pub async fn new() -> TestApp {
        TestApp::with_config(WebConfig::default()).await
    }

    /// The same app with other settings (e.g. `secure_cookies`, as `serve` sets under TLS).
    pub async fn with_config(config: WebConfig) -> TestApp {
        let db = test_store().await.expect("test store");
        let sys = Actor::system("test");
        for role in Role::ALL {
            let name = role.as_str();
            db.store
                .create_user(
                    &sys,
                    name,
                    &format!("{name} さん"),
                    role,
                    &format!("{name}-password"),
                )
                .await
                .expect("user");
        }
        let router = router(db.store.clone(), config);
        TestApp { db, router }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.db.store
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    /// A client logged in as `username` (session created directly in the store).
    pub async fn login(&self, username: &str) -> Client {
        let user = self
            .store()
            .user_by_name(username)
            .await
            .expect("q")
            .expect("user exists");
        let s = self
            .store()
            .create_session(user.id, false)
            .await
            .expect("session");
        Client {
            router: self.router.clone(),
            cookie: format!("unyo_session={}", s.token),
            csrf: s.csrf_token,
        }
    }
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Location` header of a redirect.
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Parses the body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// A browser-like client.
#[derive(Clone)]
pub struct Client {
    pub router: Router,
    pub cookie: String,
    pub csrf: String,
}

impl Client {
    /// Sends a request.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())
            .expect("req");
        self.send(req).await
    }

    /// `POST path` with a form; the CSRF token is added unless `fields` already has `_csrf`.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        if !fields.iter().any(|(k, _)| *k == "_csrf") {
            ser.append_pair("_csrf", &self.csrf);
        }
        for (k, v) in fields {
            ser.append_pair(k, v);
        }
        let req = Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(ser.finish()))
            .expect("req");
        self.send(req).await
    }

    /// `POST path` as multipart with text fields and one file; the CSRF token is added.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Resp {
        let boundary = "----unyotestboundary";
        let mut body = Vec::new();
        let mut part = |name: &str, filename: Option<&str>, data: &[u8]| {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match filename {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        };
        part("_csrf", None, self.csrf.as_bytes());
        for (k, v) in fields {
            part(k, None, v.as_bytes());
        }
        part(file.0, Some(file.1), file.2);
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("req");
        self.send(req).await
    }

    /// An API call with a bearer token.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        json: Option<serde_json::Value>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match json {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).expect("req")).await
    }
}
