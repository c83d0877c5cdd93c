//! The JSON API under `/api/v1` through the real router: bearer tokens, the registry's endpoints,
//! JSON errors, permissions, the audit trail and the OpenAPI document. Runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use common::{Client, Resp, TestApp};
use serde_json::{Value, json};
use std::net::SocketAddr;
use unyo_store::audit::{AuditEntry, AuditQuery};

/// An app, a client without cookies, and one API token per role.
struct Api {
    app: TestApp,
    c: Client,
    admin: String,
    staff: String,
    se: String,
    auditor: String,
}

async fn token(app: &TestApp, username: &str) -> String {
    let user = app
        .store()
        .user_by_name(username)
        .await
        .expect("query")
        .expect("user exists");
    app.store()
        .create_api_token(&user.actor("test"), user.id, "test token")
        .await
        .expect("token")
}

async fn setup() -> Api {
    let app = TestApp::new().await;
    let c = app.anonymous();
    Api {
        admin: token(&app, "admin").await,
        staff: token(&app, "staff").await,
        se: token(&app, "se").await,
        auditor: token(&app, "auditor").await,
        app,
        c,
    }
}

impl Api {
    async fn get(&self, path: &str, token: &str) -> Resp {
        self.c.api("GET", path, token, None).await
    }
    async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.c.api("POST", path, token, Some(body)).await
    }
    async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.c.api("PUT", path, token, Some(body)).await
    }

    /// Creates a record as admin and returns it, checking 201 and `Location`.
    async fn create(&self, what: &str, body: Value) -> Value {
        let r = self
            .post(&format!("/api/v1/{what}"), &self.admin, body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        assert_eq!(r.location(), format!("/api/v1/{what}/{}", v["id"]));
        v
    }

    async fn audit(&self, action: &str) -> Vec<AuditEntry> {
        self.app
            .store()
            .audit_log(&AuditQuery {
                action: Some(action.into()),
                per_page: Some(1000),
                ..Default::default()
            })
            .await
            .expect("audit log")
            .items
    }

    async fn audit_total(&self) -> i64 {
        self.app
            .store()
            .audit_log(&AuditQuery::default())
            .await
            .expect("audit log")
            .total
    }
}

/// A request from a given peer address (as the server sees it with connect info).
fn from_peer(
    method: &str,
    path: &str,
    auth: &str,
    body: Option<Value>,
    peer: &str,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, auth);
    if body.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = b
        .body(body.map(|v| Body::from(v.to_string())).unwrap_or_default())
        .expect("request");
    let addr: SocketAddr = peer.parse().expect("address");
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// The error code of a JSON error response.
fn code(r: &Resp) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_string()
}

/// The `(field, message)` pairs of a JSON error response.
fn fields(r: &Resp) -> Vec<(String, String)> {
    r.json()["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or("").to_string(),
                        f["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn hostnames(r: &Resp) -> Vec<String> {
    r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["hostname"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A node, two sites and three terminals, created by admin.
struct Fixture {
    fw: Value,
    router: Value,
    kencho: Value,
    karatsu: Value,
    terminals: Vec<Value>,
}

async fn fixture(api: &Api) -> Fixture {
    let fw = api
        .create(
            "nodes",
            json!({"name": "FW-県庁", "kind": "firewall", "ip_address": "10.41.0.1"}),
        )
        .await;
    let router = api
        .create(
            "nodes",
            json!({"name": "RT-唐津", "kind": "ルータ", "ip_address": "10.41.8.1", "upstream_id": fw["id"]}),
        )
        .await;
    let kencho = api
        .create(
            "sites",
            json!({"code": "KENCHO", "name": "県庁", "kind": "honcho", "phone": "0952-25-7000", "uplink_node_id": fw["id"]}),
        )
        .await;
    let karatsu = api
        .create(
            "sites",
            json!({"code": "KARATSU-ZEI", "name": "唐津県税事務所", "kind": "県税事務所", "uplink_node_id": router["id"]}),
        )
        .await;
    let mut terminals = Vec::new();
    for (site, host, kind, ip) in [
        (&kencho, "saga-kencho-01", "representative", "10.41.0.11"),
        (&kencho, "saga-kencho-02", "business", "10.41.0.12"),
        (&karatsu, "karatsu-zei-01", "業務端末", "10.41.8.11"),
    ] {
        terminals.push(
            api.create(
                "terminals",
                json!({"site_id": site["id"], "hostname": host, "kind": kind, "ip_address": ip,
                       "os_name": "Windows 11 Enterprise", "os_version": "23H2"}),
            )
            .await,
        );
    }
    Fixture {
        fw,
        router,
        kencho,
        karatsu,
        terminals,
    }
}

#[tokio::test]
async fn missing_and_refused_tokens_get_401_and_refusals_are_audited() {
    let api = setup().await;

    // No header at all: 401 with the challenge, JSON in Japanese, nothing audited.
    let r = api.c.get("/api/v1/sites").await;
    assert_eq!(r.status, 401);
    let challenge = r.headers[header::WWW_AUTHENTICATE].to_str().expect("ascii");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(code(&r), "unauthorized");
    assert!(is_japanese(
        r.json()["error"]["message"].as_str().expect("message")
    ));
    assert!(api.audit("api.auth").await.is_empty());

    // A wrong token: 401, `invalid_token`, and an audit entry without the token in it.
    let r = api.get("/api/v1/sites", "unyo_not-a-real-token").await;
    assert_eq!(r.status, 401);
    assert!(
        r.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .expect("ascii")
            .contains("invalid_token")
    );
    let failures = api.audit("api.auth").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].actor, "anonymous");
    assert_eq!(failures[0].source, "unknown");
    assert!(failures[0].details.contains("/api/v1/sites"));
    assert!(!failures[0].details.contains("not-a-real-token"));

    // The client address comes from the connection when the server provides it.
    let r = api
        .c
        .send(from_peer(
            "GET",
            "/api/v1/terminals",
            "Bearer wrong",
            None,
            "192.0.2.7:50123",
        ))
        .await;
    assert_eq!(r.status, 401);
    let failures = api.audit("api.auth").await;
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].source, "192.0.2.7");

    // Another scheme is a refused attempt too.
    let r = api
        .c
        .send(from_peer(
            "GET",
            "/api/v1/me",
            "Basic YWRtaW46YWRtaW4tcGFzc3dvcmQ=",
            None,
            "192.0.2.8:1",
        ))
        .await;
    assert_eq!(r.status, 401);
    let failures = api.audit("api.auth").await;
    assert_eq!(failures.len(), 3);
    assert!(failures[0].details.contains("malformed_header"));

    // The token is checked before the body: a refused token with a broken body is 401, not 400.
    let r = api
        .c
        .send(from_peer(
            "POST",
            "/api/v1/sites",
            "Bearer wrong",
            Some(json!("not an object")),
            "192.0.2.9:1",
        ))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(api.audit("api.auth").await.len(), 4);

    // A session cookie is not an API credential.
    let browser = api.app.login("admin").await;
    let r = browser.get("/api/v1/me").await;
    assert_eq!(r.status, 401);

    // A disabled user's tokens stop working at once.
    let staff = api
        .app
        .store()
        .user_by_name("staff")
        .await
        .expect("q")
        .expect("staff");
    assert_eq!(api.get("/api/v1/me", &api.staff).await.status, 200);
    let admin = api
        .app
        .store()
        .user_by_name("admin")
        .await
        .expect("q")
        .expect("admin");
    api.app
        .store()
        .disable_user(&admin.actor("test"), staff.id)
        .await
        .expect("disable");
    assert_eq!(api.get("/api/v1/me", &api.staff).await.status, 401);
}

#[tokio::test]
async fn me_names_the_token_owner() {
    let api = setup().await;
    let me = api.get("/api/v1/me", &api.se).await;
    assert_eq!(me.status, 200);
    let v = me.json();
    assert_eq!(v["username"], "se");
    assert_eq!(v["display_name"], "se さん");
    assert_eq!(v["role"], "se");
    assert_eq!(v["role_label"], "SE");
    let perms = v["permissions"].as_array().expect("permissions");
    assert!(perms.contains(&json!("edit_registry")));
    assert!(!perms.contains(&json!("view_audit")));
}

#[tokio::test]
async fn admin_creates_reads_lists_updates_and_retires() {
    let api = setup().await;
    let f = fixture(&api).await;

    // Created records read back as created.
    for (what, rec) in [
        ("nodes", &f.fw),
        ("nodes", &f.router),
        ("sites", &f.kencho),
        ("terminals", &f.terminals[2]),
    ] {
        let r = api
            .get(&format!("/api/v1/{what}/{}", rec["id"]), &api.staff)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let mut got = r.json();
        let mut want = rec.clone();
        // The site was created before its terminals; the count is live.
        for v in [&mut got, &mut want] {
            v.as_object_mut().expect("object").remove("terminal_count");
        }
        assert_eq!(got, want);
    }
    assert_eq!(f.kencho["terminal_count"], 0);
    assert_eq!(f.karatsu["kind"], "kenzei");
    assert_eq!(f.karatsu["uplink_node_name"], "RT-唐津");
    assert_eq!(f.router["kind"], "router");
    assert_eq!(f.router["upstream_name"], "FW-県庁");
    assert_eq!(f.terminals[2]["kind"], "business");
    assert_eq!(f.terminals[2]["site_code"], "KARATSU-ZEI");

    // Lists: search, filter, sort, paging.
    let r = api.get("/api/v1/terminals", &api.auditor).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["total"], 3);
    assert_eq!(
        (v["page"].clone(), v["per_page"].clone(), v["pages"].clone()),
        (json!(1), json!(50), json!(1))
    );
    assert_eq!(
        hostnames(&r),
        ["karatsu-zei-01", "saga-kencho-01", "saga-kencho-02"]
    );
    let r = api
        .get(
            "/api/v1/terminals?q=KENCHO&sort=hostname&dir=desc",
            &api.admin,
        )
        .await;
    assert_eq!(hostnames(&r), ["saga-kencho-02", "saga-kencho-01"]);
    let r = api
        .get("/api/v1/terminals?kind=representative", &api.admin)
        .await;
    assert_eq!(hostnames(&r), ["saga-kencho-01"]);
    let r = api
        .get(
            &format!("/api/v1/terminals?site_id={}", f.karatsu["id"]),
            &api.admin,
        )
        .await;
    assert_eq!(hostnames(&r), ["karatsu-zei-01"]);
    // The search also covers the site's name.
    let r = api
        .get("/api/v1/terminals?q=%E5%94%90%E6%B4%A5", &api.admin) // 唐津
        .await;
    assert_eq!(hostnames(&r), ["karatsu-zei-01"]);
    let r = api
        .get(
            "/api/v1/terminals?sort=hostname&page=2&per_page=2",
            &api.admin,
        )
        .await;
    let v = r.json();
    assert_eq!(
        (
            v["total"].clone(),
            v["page"].clone(),
            v["per_page"].clone(),
            v["pages"].clone()
        ),
        (json!(3), json!(2), json!(2), json!(2))
    );
    assert_eq!(hostnames(&r), ["saga-kencho-02"]);
    // Empty parameters are refused (the document says `minLength: 1`): omit a parameter instead.
    let r = api
        .get("/api/v1/terminals?q=&site_id=&kind=&status=", &api.admin)
        .await;
    assert_eq!(r.status, 400);
    let names: Vec<String> = fields(&r).into_iter().map(|(f, _)| f).collect();
    assert_eq!(names, ["q", "site_id", "kind", "status"]);
    let r = api
        .get("/api/v1/sites?sort=terminals&dir=desc", &api.admin)
        .await;
    let v = r.json();
    assert_eq!(v["items"][0]["code"], "KENCHO");
    assert_eq!(v["items"][0]["terminal_count"], 2);
    let r = api.get("/api/v1/nodes?kind=router", &api.admin).await;
    assert_eq!(r.json()["items"][0]["name"], "RT-唐津");
    assert_eq!(r.json()["total"], 1);

    // Update: what was read can be sent back with changes (read-only fields are ignored).
    let id = f.terminals[1]["id"].clone();
    let mut t = api
        .get(&format!("/api/v1/terminals/{id}"), &api.admin)
        .await
        .json();
    t["os_version"] = json!("24H2");
    t["site_id"] = f.karatsu["id"].clone();
    let r = api
        .put(&format!("/api/v1/terminals/{id}"), &api.admin, t)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["os_version"], "24H2");
    assert_eq!(v["site_code"], "KARATSU-ZEI");
    assert_eq!(v["hostname"], "saga-kencho-02");

    // History, newest first.
    let r = api
        .get(&format!("/api/v1/terminals/{id}/history"), &api.staff)
        .await;
    assert_eq!(r.status, 200);
    let h = r.json();
    assert_eq!(h["total"], 2);
    assert_eq!(h["items"][0]["action"], "terminal.update");
    assert_eq!(h["items"][1]["action"], "terminal.create");
    assert!(
        h["items"][0]["details"]
            .as_str()
            .expect("details")
            .contains("24H2")
    );

    // Retire, then it leaves the default list and shows under retired/all.
    let r = api
        .post(
            &format!("/api/v1/terminals/{id}/retire"),
            &api.admin,
            json!({"reason": "機器更新のため"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["retired_at"].is_string());
    let r = api.get("/api/v1/terminals", &api.admin).await;
    assert_eq!(r.json()["total"], 2);
    let r = api
        .get("/api/v1/terminals?status=retired", &api.admin)
        .await;
    assert_eq!(hostnames(&r), ["saga-kencho-02"]);
    let r = api.get("/api/v1/terminals?status=all", &api.admin).await;
    assert_eq!(r.json()["total"], 3);

    // A retired record cannot be changed or retired again.
    let r = api
        .put(
            &format!("/api/v1/terminals/{id}"),
            &api.admin,
            json!({"site_id": f.kencho["id"], "hostname": "saga-kencho-02", "kind": "business"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(code(&r), "conflict");
    let r = api
        .post(
            &format!("/api/v1/terminals/{id}/retire"),
            &api.admin,
            json!({"reason": "再度"}),
        )
        .await;
    assert_eq!(r.status, 409);

    // A site with terminals in service cannot be retired.
    let r = api
        .post(
            &format!("/api/v1/sites/{}/retire", f.kencho["id"]),
            &api.admin,
            json!({"reason": "統合"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("m")
            .contains("端末")
    );

    // Sites and nodes update too.
    let r = api
        .put(
            &format!("/api/v1/sites/{}", f.kencho["id"]),
            &api.se,
            json!({"code": "KENCHO", "name": "佐賀県庁", "kind": "honcho", "uplink_node_id": f.fw["id"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "佐賀県庁");
    assert_eq!(r.json()["phone"], "", "PUT replaces every field");

    // The path to the root, and a cycle refused.
    let r = api
        .get(
            &format!("/api/v1/nodes/{}/path", f.router["id"]),
            &api.staff,
        )
        .await;
    assert_eq!(r.status, 200);
    let names: Vec<_> = r
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|n| n["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, ["RT-唐津", "FW-県庁"]);
    let r = api
        .put(
            &format!("/api/v1/nodes/{}", f.fw["id"]),
            &api.admin,
            json!({"name": "FW-県庁", "kind": "firewall", "upstream_id": f.router["id"]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "upstream_id");

    // A node still in use cannot be retired; an unused one can.
    let r = api
        .post(
            &format!("/api/v1/nodes/{}/retire", f.fw["id"]),
            &api.admin,
            json!({"reason": "撤去"}),
        )
        .await;
    assert_eq!(r.status, 409);
    let spare = api
        .create("nodes", json!({"name": "SW-予備", "kind": "switch"}))
        .await;
    let retire_spare = format!("/api/v1/nodes/{}/retire", spare["id"]);
    let r = api.post(&retire_spare, &api.admin, json!({})).await;
    assert_eq!(r.status, 422, "the reason is required");
    assert_eq!(fields(&r)[0].0, "reason");
    assert!(is_japanese(&fields(&r)[0].1));
    let r = api
        .post(&retire_spare, &api.admin, json!({"reason": "撤去"}))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["retired_at"].is_string());

    // Unknown records are 404 in JSON.
    for path in [
        "/api/v1/sites/999999",
        "/api/v1/terminals/999999",
        "/api/v1/nodes/999999",
        "/api/v1/sites/abc",
        "/api/v1/sites/999999/history",
        "/api/v1/nodes/999999/path",
    ] {
        let r = api.get(path, &api.admin).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(code(&r), "not_found", "{path}");
    }
    let r = api
        .post(
            "/api/v1/terminals/999999/retire",
            &api.admin,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn invalid_input_is_422_in_japanese_and_writes_nothing() {
    let api = setup().await;
    let _records = fixture(&api).await;
    let before = api.audit_total().await;

    let r = api
        .post(
            "/api/v1/terminals",
            &api.admin,
            json!({"hostname": "-bad_host", "kind": "laptop", "ip_address": "10.0.0.999"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(code(&r), "validation");
    assert!(is_japanese(
        r.json()["error"]["message"].as_str().expect("m")
    ));
    let fs = fields(&r);
    let names: Vec<_> = fs.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["site_id", "hostname", "kind", "ip_address"]);
    assert!(fs.iter().all(|(_, m)| is_japanese(m)), "{fs:?}");
    assert!(fs[3].1.contains("IPアドレス"));

    // Wrong JSON types and unknown keys are named too.
    let r = api
        .post(
            "/api/v1/terminals",
            &api.admin,
            json!({"site_id": "one", "hostname": 7, "hostnme": "typo", "kind": "business"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let mut names: Vec<_> = fields(&r).into_iter().map(|(f, _)| f).collect();
    names.sort();
    assert_eq!(names, ["hostname", "hostnme", "site_id"]);
    assert!(fields(&r).iter().all(|(_, m)| is_japanese(m)));

    // A retired or unknown site is a field error.
    let r = api
        .post(
            "/api/v1/terminals",
            &api.admin,
            json!({"site_id": 999999, "hostname": "pc-x", "kind": "business"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "site_id");

    // Not JSON, not an object, not JSON at all.
    let r = api
        .c
        .send(
            Request::post("/api/v1/sites")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"code\": "))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "bad_request");
    let r = api.post("/api/v1/sites", &api.admin, json!([1, 2])).await;
    assert_eq!(r.status, 400);
    let r = api
        .c
        .send(
            Request::post("/api/v1/sites")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("code=X&name=Y&kind=other"))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, 415);
    let big = "あ".repeat(30_000);
    let r = api
        .post(
            "/api/v1/sites",
            &api.admin,
            json!({"code": "BIG", "name": "大", "kind": "other", "note": big}),
        )
        .await;
    assert_eq!(r.status, 413);

    // Bad query parameters are 400 and named.
    let r = api
        .get("/api/v1/sites?status=bogus&page=abc", &api.admin)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "bad_request");
    let mut names: Vec<_> = fields(&r).into_iter().map(|(f, _)| f).collect();
    names.sort();
    assert_eq!(names, ["page", "status"]);

    // Nothing was written by any of these.
    assert_eq!(api.audit_total().await, before);
    let r = api.get("/api/v1/terminals?status=all", &api.admin).await;
    assert_eq!(r.json()["total"], 3);
    let r = api.get("/api/v1/sites?status=all", &api.admin).await;
    assert_eq!(r.json()["total"], 2);
}

#[tokio::test]
async fn personal_identifiers_are_refused() {
    let api = setup().await;
    let f = fixture(&api).await;
    let before = api.audit_total().await;

    let r = api
        .post(
            "/api/v1/sites",
            &api.admin,
            json!({"code": "PII", "name": "テスト", "kind": "other", "note": "123456789018"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let fs = fields(&r);
    assert_eq!(fs[0].0, "note");
    assert!(fs[0].1.contains("個人番号"), "{fs:?}");
    // The number is not echoed back.
    assert!(!r.text().contains("123456789018"));

    let id = &f.terminals[0]["id"];
    let r = api
        .put(
            &format!("/api/v1/terminals/{id}"),
            &api.admin,
            json!({"site_id": f.kencho["id"], "hostname": "saga-kencho-01", "kind": "representative",
                   "note": "住民 1234 5678 9018 の件"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "note");
    let r = api
        .post(
            &format!("/api/v1/terminals/{id}/retire"),
            &api.admin,
            json!({"reason": "123456789018 の申出"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "reason");

    // Nothing was written but one audit entry per refused request (R17): the token's owner, the path,
    // the kind — never the number.
    assert_eq!(api.audit_total().await, before + 3);
    let refused = api
        .app
        .store()
        .audit_log(&AuditQuery {
            action: Some("pii.refused".into()),
            ..Default::default()
        })
        .await
        .expect("audit log")
        .items;
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused.iter().all(|e| e.actor == "admin"
        && e.details.contains("\"my_number\":1")
        && !e.details.contains("9018")));
    assert!(
        refused
            .iter()
            .any(|e| e.details.contains("\"path\":\"/api/v1/sites\""))
    );
    let r = api
        .get(&format!("/api/v1/terminals/{id}"), &api.admin)
        .await;
    assert!(r.json()["retired_at"].is_null());
    assert_eq!(r.json()["note"], "");
}

#[tokio::test]
async fn duplicates_are_409() {
    let api = setup().await;
    let f = fixture(&api).await;
    let r = api
        .post(
            "/api/v1/terminals",
            &api.admin,
            json!({"site_id": f.kencho["id"], "hostname": "SAGA-KENCHO-01", "kind": "business"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(code(&r), "conflict");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("m")
            .contains("ホスト名")
    );
    let r = api
        .post(
            "/api/v1/sites",
            &api.admin,
            json!({"code": "KENCHO", "name": "二重", "kind": "other"}),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = api
        .post(
            "/api/v1/nodes",
            &api.admin,
            json!({"name": "FW-県庁", "kind": "firewall"}),
        )
        .await;
    assert_eq!(r.status, 409);
    // Renaming onto an existing hostname conflicts too.
    let r = api
        .put(
            &format!("/api/v1/terminals/{}", f.terminals[1]["id"]),
            &api.admin,
            json!({"site_id": f.kencho["id"], "hostname": "saga-kencho-01", "kind": "business"}),
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn roles_decide_what_a_token_may_do() {
    let api = setup().await;
    let f = fixture(&api).await;
    let before = api.audit_total().await;
    let site = json!({"code": "ROLE", "name": "権限確認", "kind": "other"});

    for token in [&api.staff, &api.auditor] {
        let r = api.post("/api/v1/sites", token, site.clone()).await;
        assert_eq!(r.status, 403);
        assert_eq!(code(&r), "forbidden");
        assert!(is_japanese(
            r.json()["error"]["message"].as_str().expect("m")
        ));
        let r = api
            .put(
                &format!("/api/v1/sites/{}", f.kencho["id"]),
                token,
                json!({"code": "KENCHO", "name": "変更", "kind": "honcho"}),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = api
            .post(
                &format!("/api/v1/terminals/{}/retire", f.terminals[0]["id"]),
                token,
                json!({"reason": "権限なし"}),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = api
            .post(
                "/api/v1/nodes",
                token,
                json!({"name": "X", "kind": "other"}),
            )
            .await;
        assert_eq!(r.status, 403);
        // Reading is allowed to every role.
        assert_eq!(api.get("/api/v1/sites", token).await.status, 200);
        assert_eq!(
            api.get(&format!("/api/v1/nodes/{}/history", f.fw["id"]), token)
                .await
                .status,
            200
        );
    }
    assert_eq!(
        api.audit_total().await,
        before,
        "refused writes write nothing"
    );

    // SE maintains the registry.
    let r = api.post("/api/v1/sites", &api.se, site).await;
    assert_eq!(r.status, 201);

    // The audit log: admin and auditor yes, staff and SE no.
    for (token, status) in [
        (&api.auditor, 200),
        (&api.admin, 200),
        (&api.staff, 403),
        (&api.se, 403),
    ] {
        assert_eq!(api.get("/api/v1/audit", token).await.status, status);
        assert_eq!(api.get("/api/v1/audit/verify", token).await.status, status);
    }
    let r = api.get("/api/v1/audit/verify", &api.auditor).await;
    let v = r.json();
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["entries"].as_i64().expect("entries") > 0);
    assert_eq!(v["head"].as_str().expect("head").len(), 64);

    let r = api
        .get("/api/v1/audit?action=site.create&per_page=1", &api.auditor)
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["total"], 3);
    assert_eq!(v["pages"], 3);
    assert_eq!(v["items"][0]["actor"], "se");
}

#[tokio::test]
async fn every_api_write_is_audited_with_the_token_user() {
    let api = setup().await;
    let se = format!("Bearer {}", api.se);

    let r = api
        .c
        .send(from_peer(
            "POST",
            "/api/v1/nodes",
            &se,
            Some(json!({"name": "RT-本庁", "kind": "router"})),
            "198.51.100.4:40000",
        ))
        .await;
    assert_eq!(r.status, 201);
    let node = r.json();
    let r = api
        .c
        .send(from_peer(
            "POST",
            "/api/v1/sites",
            &se,
            Some(json!({"code": "HON", "name": "本庁", "kind": "honcho", "uplink_node_id": node["id"]})),
            "198.51.100.4:40000",
        ))
        .await;
    assert_eq!(r.status, 201);
    let site = r.json();
    let r = api
        .post(
            "/api/v1/terminals",
            &api.se,
            json!({"site_id": site["id"], "hostname": "hon-01", "kind": "business"}),
        )
        .await;
    let term = r.json();
    let tid = &term["id"];
    api.put(
        &format!("/api/v1/terminals/{tid}"),
        &api.se,
        json!({"site_id": site["id"], "hostname": "hon-01", "kind": "business", "os_name": "Windows 11"}),
    )
    .await;
    api.post(
        &format!("/api/v1/terminals/{tid}/retire"),
        &api.se,
        json!({"reason": "撤去"}),
    )
    .await;
    api.put(
        &format!("/api/v1/sites/{}", site["id"]),
        &api.se,
        json!({"code": "HON", "name": "本庁舎", "kind": "honcho"}),
    )
    .await;
    api.post(
        &format!("/api/v1/sites/{}/retire", site["id"]),
        &api.se,
        json!({"reason": "移転"}),
    )
    .await;
    api.put(
        &format!("/api/v1/nodes/{}", node["id"]),
        &api.se,
        json!({"name": "RT-本庁", "kind": "router", "ip_address": "10.1.1.1"}),
    )
    .await;
    api.post(
        &format!("/api/v1/nodes/{}/retire", node["id"]),
        &api.se,
        json!({"reason": "撤去"}),
    )
    .await;

    for (action, id, source) in [
        ("node.create", &node["id"], "198.51.100.4"),
        ("site.create", &site["id"], "198.51.100.4"),
        ("terminal.create", tid, "unknown"),
        ("terminal.update", tid, "unknown"),
        ("terminal.retire", tid, "unknown"),
        ("site.update", &site["id"], "unknown"),
        ("site.retire", &site["id"], "unknown"),
        ("node.update", &node["id"], "unknown"),
        ("node.retire", &node["id"], "unknown"),
    ] {
        let entries = api.audit(action).await;
        assert_eq!(entries.len(), 1, "{action}");
        let e = &entries[0];
        assert_eq!(e.actor, "se", "{action}");
        assert_eq!(e.entity_id, id.to_string(), "{action}");
        assert_eq!(e.source, source, "{action}");
    }

    // The auditor sees the same through the API (plus the creation of se's own token).
    let r = api.get("/api/v1/audit?actor=se", &api.auditor).await;
    let v = r.json();
    assert_eq!(v["total"], 10);
    assert_eq!(v["items"][0]["action"], "node.retire");
    assert_eq!(v["items"][9]["action"], "token.create");
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    let api = setup().await;

    // Public: no token needed.
    let r = api.c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ct")
            .starts_with("application/json")
    );
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    for schema in [
        "Site",
        "Terminal",
        "NetworkNode",
        "AuditEntry",
        "SitePage",
        "TerminalPage",
        "NetworkNodePage",
        "AuditEntryPage",
        "Error",
        "SiteInput",
        "TerminalInput",
        "NodeInput",
        "RetireInput",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }

    // Every served route is described, and nothing else is.
    let endpoints = unyo_web::api::endpoints();
    assert!(endpoints.len() >= 23);
    for (method, path) in &endpoints {
        let m = method.as_str().to_lowercase();
        let op = &doc["paths"][path][&m];
        assert!(op.is_object(), "{method} {path} missing from openapi.json");
        assert!(op["responses"].is_object(), "{method} {path}");
    }
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for m in item.as_object().expect("path item").keys() {
            if m == "parameters" {
                continue;
            }
            assert!(
                endpoints
                    .iter()
                    .any(|(em, ep)| ep == path && em.as_str().eq_ignore_ascii_case(m)),
                "{m} {path} documented but not served"
            );
        }
    }

    // Every `$ref` resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    // And the table is really what the router serves: no route answers "no such path" or 405.
    for (method, path) in &endpoints {
        let url = format!("/api/v1{}", path.replace("{id}", "1"));
        let body = matches!(method.as_str(), "POST" | "PUT").then(|| json!({}));
        let r = api.c.api(method.as_str(), &url, &api.admin, body).await;
        assert_ne!(r.status, 405, "{method} {url}");
        if r.status == 404 {
            assert!(
                !r.json()["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("パスは存在しません"),
                "{method} {url} not routed"
            );
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let api = setup().await;
    let r = api.get("/api/v1/nothing-here", &api.admin).await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "not_found");
    let r = api
        .c
        .api("DELETE", "/api/v1/sites/1", &api.admin, None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(code(&r), "method_not_allowed");
    // Security headers apply to the API too.
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
}
