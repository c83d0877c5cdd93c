//! Incidents and known errors through the JSON API: report, stage changes, closing refused without a
//! witness (409 with the domain's message, nothing changed), the witness (by its own endpoint and as the
//! `witness` action), close, reopen, known errors, figures, and the 403s — with the same bearer tokens and
//! audit trail as the rest. (The de-duplication of automatic incidents is a store matter, tested there.)
//! Runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Client, Resp, TestApp};
use serde_json::{Value, json};
use unyo_domain::incident::{WITNESS_REQUIRED_MESSAGE, datetime_local, jst_fiscal_year};
use unyo_domain::registry::SiteInput;
use unyo_store::Actor;
use unyo_store::audit::AuditQuery;

struct Api {
    app: TestApp,
    c: Client,
    staff: String,
    se: String,
    admin: String,
    auditor: String,
    site: i64,
    t0: DateTime<Utc>,
}

impl Api {
    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.c.api(method, path, token, body).await
    }

    /// A JST time `minutes` after the incident's 発生.
    fn at(&self, minutes: i64) -> String {
        datetime_local(self.t0 + Duration::minutes(minutes))
    }

    async fn act(&self, id: i64, token: &str, body: Value) -> Resp {
        self.call(
            "POST",
            &format!("/api/v1/incidents/{id}/transitions"),
            token,
            Some(body),
        )
        .await
    }
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
    let site = app
        .store()
        .create_site(
            &Actor::system("test"),
            &SiteInput {
                code: "ZEI-KARATSU".into(),
                name: "唐津県税事務所".into(),
                kind: "kenzei".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site")
        .id;
    Api {
        c: app.anonymous(),
        staff: token(&app, "staff").await,
        se: token(&app, "se").await,
        admin: token(&app, "admin").await,
        auditor: token(&app, "auditor").await,
        site,
        t0: Utc::now() - Duration::hours(5),
        app,
    }
}

fn fields(r: &Resp) -> Vec<String> {
    r.json()["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn report(api: &Api, token: &str, title: &str) -> Resp {
    api.call(
        "POST",
        "/api/v1/incidents",
        token,
        Some(json!({
            "title": title,
            "severity": "重大",
            "source": "phone",
            "occurred_at": api.at(0),
            "noticed_at": api.at(10),
            "site_ids": [api.site],
            "description": "唐津県税事務所から電話。業務アプリの起動時に証明書エラーが表示される。",
        })),
    )
    .await
}

#[tokio::test]
async fn an_incident_walks_to_a_witnessed_close_over_the_api() {
    let api = setup().await;

    // Reporting: the auditor may not; wrong input is 422 per field; a report is 201 with its Location.
    assert_eq!(report(&api, &api.auditor, "x").await.status, 403);
    let r = api
        .call(
            "POST",
            "/api/v1/incidents",
            &api.staff,
            Some(json!({"title": "", "severity": "urgent", "source": "phone", "sevirity": 1})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r), ["sevirity"], "unknown fields are named first");
    let r = api
        .call(
            "POST",
            "/api/v1/incidents",
            &api.staff,
            Some(json!({"title": "", "severity": "urgent", "source": "phone"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let f = fields(&r);
    assert!(
        f.contains(&"title".to_string()) && f.contains(&"severity".to_string()),
        "{f:?}"
    );
    let r = report(
        &api,
        &api.staff,
        "唐津県税事務所 業務アプリ起動時に証明書エラー",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let inc = r.json();
    let id = inc["id"].as_i64().expect("id");
    assert_eq!(
        r.headers["location"].to_str().expect("loc"),
        format!("/api/v1/incidents/{id}")
    );
    assert_eq!(inc["stage"], "reported");
    assert_eq!(inc["severity"], "critical");
    assert!(inc["number"].as_str().expect("number").starts_with("INC-R"));

    // The list with counts per stage; a wrong code is 400.
    let r = api
        .call("GET", "/api/v1/incidents", &api.auditor, None)
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["counts"]["reported"], 1);
    assert_eq!(v["counts"]["closed"], 0);
    let r = api
        .call("GET", "/api/v1/incidents?stage=done", &api.staff, None)
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .call(
            "GET",
            "/api/v1/incidents?stage=受付&open_only=true",
            &api.staff,
            None,
        )
        .await;
    assert_eq!(r.json()["total"], 1);

    // Stage changes: staff may not investigate; the SE walks it on.
    let r = api
        .act(id, &api.staff, json!({"action": "investigate"}))
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .act(
            id,
            &api.se,
            json!({"action": "investigate", "at": api.at(20)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stage"], "investigating");
    assert_eq!(r.json()["mtta_minutes"], 10);
    let r = api
        .act(
            id,
            &api.se,
            json!({"action": "workaround", "at": api.at(40)}),
        )
        .await;
    assert_eq!(r.status, 422);
    let f = fields(&r);
    for want in ["comment", "guidance_to", "guidance"] {
        assert!(f.contains(&want.to_string()), "{want}: {f:?}");
    }
    let r = api
        .act(
            id,
            &api.se,
            json!({
                "action": "workaround", "at": api.at(40),
                "comment": "県庁の代表端末で代行照会する。",
                "guidance_to": "唐津県税事務所 総務課",
                "guidance": "照会は電話で県庁へ依頼するよう案内。",
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // An illegal move is 409 with the domain's message.
    let r = api
        .act(id, &api.se, json!({"action": "recover", "comment": "x"}))
        .await;
    assert_eq!(r.status, 409);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("「回避策」の障害に「復旧報告」はできません。")
    );
    for (action, minutes, comment) in [
        ("start_recovery", 60, ""),
        (
            "recover",
            120,
            "端末の時刻を同期し、証明書エラーが出ないことを確認。",
        ),
    ] {
        let r = api
            .act(
                id,
                &api.se,
                json!({"action": action, "at": api.at(minutes), "comment": comment}),
            )
            .await;
        assert_eq!(r.status, 200, "{action}: {}", r.text());
    }

    // Closing without a witness: 409, the message, nothing changed.
    let audits = api
        .app
        .store()
        .audit_log(&AuditQuery::default())
        .await
        .expect("audit")
        .total;
    let r = api.act(id, &api.se, json!({"action": "close"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["code"], "conflict");
    assert_eq!(r.json()["error"]["message"], WITNESS_REQUIRED_MESSAGE);
    let d = api
        .call("GET", &format!("/api/v1/incidents/{id}"), &api.se, None)
        .await
        .json();
    assert_eq!(d["incident"]["stage"], "recovered");
    assert_eq!(d["incident"]["closed_at"], Value::Null);
    assert_eq!(d["witness"], Value::Null);
    assert_eq!(
        api.app
            .store()
            .audit_log(&AuditQuery::default())
            .await
            .expect("audit")
            .total,
        audits
    );

    // The witness: not by the SE, all four fields, witness fields only with the witness action.
    let witness = json!({
        "witness_name": "唐津 太郎",
        "witness_org": "唐津県税事務所 総務課",
        "witnessed_at": api.at(130),
        "remark": "業務アプリが正常に起動し、照会できることを確認した。",
    });
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/witness"),
            &api.se,
            Some(witness.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/witness"),
            &api.staff,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 422);
    let mut f = fields(&r);
    f.sort();
    assert_eq!(f, ["remark", "witness_name", "witness_org", "witnessed_at"]);
    let r = api
        .act(
            id,
            &api.staff,
            json!({"action": "close", "witness_name": "唐津 太郎"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r), ["witness_name"]);
    let mut body = witness.clone();
    body["action"] = json!("witness");
    let r = api.act(id, &api.se, body.clone()).await;
    assert_eq!(r.status, 403, "the SE may not witness through transitions");
    let r = api.act(id, &api.staff, body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["witness_entry_id"].is_i64());

    // 完了.
    let r = api
        .act(
            id,
            &api.staff,
            json!({"action": "close", "at": api.at(140)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stage"], "closed");
    assert_eq!(v["mttr_minutes"], 120);
    let d = api
        .call(
            "GET",
            &format!("/api/v1/incidents/{id}"),
            &api.auditor,
            None,
        )
        .await
        .json();
    assert_eq!(d["witness"]["witness_name"], "唐津 太郎");
    let kinds: Vec<&str> = d["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "report",
            "stage",
            "workaround",
            "stage",
            "recovery",
            "witness",
            "stage"
        ]
    );
    assert_eq!(d["entries"][2]["guidance_to"], "唐津県税事務所 総務課");

    // A known error from the closed incident; the figures count it.
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/known-error"),
            &api.staff,
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/known-error"),
            &api.se,
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let k = r.json();
    assert_eq!(k["number"], "KE-0001");
    assert_eq!(k["created_from_incident_id"], id);
    assert_eq!(k["incidents"][0]["id"], id);
    let fy = jst_fiscal_year(api.t0).0;
    let r = api
        .call(
            "GET",
            &format!("/api/v1/incidents/stats?fiscal_year={fy}"),
            &api.auditor,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let s = r.json();
    assert_eq!(s["year"]["count"], 1);
    assert_eq!(s["year"]["mttr_minutes"], 120);
    assert_eq!(s["months"].as_array().map(Vec::len), Some(12));
    assert_eq!(s["sites"][0]["site_name"], "唐津県税事務所");
    let r = api
        .call(
            "GET",
            "/api/v1/incidents/stats?fiscal_year=99999",
            &api.staff,
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    // Reopen needs a reason.
    let r = api.act(id, &api.staff, json!({"action": "reopen"})).await;
    assert_eq!(r.status, 422);
    let r = api
        .act(
            id,
            &api.staff,
            json!({"action": "reopen", "comment": "再発した。"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["stage"], "investigating");
    assert_eq!(r.json()["reopen_count"], 1);
}

#[tokio::test]
async fn known_errors_entries_and_refusals_over_the_api() {
    let api = setup().await;
    // Known errors by hand: se and admin may, staff and the auditor may not.
    let ke = json!({
        "title": "集約ネットワーク機器の再起動後に疎通が回復しない",
        "symptoms": "ルータの再起動後、配下の拠点から都道府県サーバに疎通できない。",
        "workaround": "ルータのVPNセッションを手動で再確立する。",
    });
    for t in [&api.staff, &api.auditor] {
        let r = api
            .call("POST", "/api/v1/known-errors", t, Some(ke.clone()))
            .await;
        assert_eq!(r.status, 403);
    }
    let r = api
        .call(
            "POST",
            "/api/v1/known-errors",
            &api.se,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = api
        .call("POST", "/api/v1/known-errors", &api.se, Some(ke))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let kid = r.json()["id"].as_i64().expect("id");
    assert_eq!(
        r.headers["location"].to_str().expect("loc"),
        format!("/api/v1/known-errors/{kid}")
    );
    let r = api
        .call("GET", "/api/v1/known-errors?q=VPN", &api.auditor, None)
        .await;
    assert_eq!(r.json()["total"], 1);
    let r = api
        .call(
            "GET",
            &format!("/api/v1/known-errors/{kid}"),
            &api.auditor,
            None,
        )
        .await;
    assert_eq!(r.json()["number"], "KE-0001");
    assert_eq!(
        api.call("GET", "/api/v1/known-errors/9999", &api.auditor, None)
            .await
            .status,
        404
    );

    // A timeline entry: a comment by staff, a finding not before 原因調査, nothing by the auditor.
    let id = report(&api, &api.staff, "証明書エラー").await.json()["id"]
        .as_i64()
        .expect("id");
    let path = format!("/api/v1/incidents/{id}/entries");
    let r = api
        .call(
            "POST",
            &path,
            &api.staff,
            Some(json!({"kind": "comment", "text": "県から拠点に連絡済み。"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["kind"], "comment");
    let r = api
        .call(
            "POST",
            &path,
            &api.se,
            Some(json!({"kind": "finding", "text": "証明書の有効期限は正常。"})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("原因調査を開始してから")
    );
    let r = api
        .call(
            "POST",
            &path,
            &api.auditor,
            Some(json!({"kind": "comment", "text": "x"})),
        )
        .await;
    assert_eq!(r.status, 403);

    // Resolved by the known error; the witness is refused before 復旧確認.
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/resolve"),
            &api.admin,
            Some(json!({"known_error_id": kid})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["resolved_by_known_error"], true);
    assert_eq!(r.json()["known_error_id"], kid);
    let r = api
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/witness"),
            &api.staff,
            Some(json!({
                "witness_name": "唐津 太郎", "witness_org": "唐津県税事務所",
                "witnessed_at": api.at(30), "remark": "確認",
            })),
        )
        .await;
    assert_eq!(r.status, 409);
    // The auditor reads everything but changes nothing.
    for (m, p) in [
        ("GET", format!("/api/v1/incidents/{id}")),
        ("GET", "/api/v1/incidents/stats".to_string()),
        ("GET", "/api/v1/known-errors".to_string()),
    ] {
        assert_eq!(api.call(m, &p, &api.auditor, None).await.status, 200, "{p}");
    }
    let r = api
        .act(id, &api.auditor, json!({"action": "investigate"}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        api.call("GET", "/api/v1/incidents/424242", &api.staff, None)
            .await
            .status,
        404
    );
    // Without a token: 401.
    let r = api.c.get("/api/v1/incidents").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn openapi_describes_the_incident_endpoints() {
    let api = setup().await;
    let doc = api.c.get("/api/v1/openapi.json").await.json();
    for schema in [
        "Incident",
        "IncidentPage",
        "IncidentDetail",
        "IncidentEntry",
        "IncidentInput",
        "IncidentTransitionInput",
        "WitnessInput",
        "EntryInput",
        "KnownError",
        "KnownErrorInput",
        "IncidentStats",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    for (path, method) in [
        ("/incidents", "get"),
        ("/incidents", "post"),
        ("/incidents/{id}", "get"),
        ("/incidents/{id}/transitions", "post"),
        ("/incidents/{id}/witness", "post"),
        ("/incidents/stats", "get"),
        ("/known-errors", "get"),
        ("/known-errors", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let actions =
        &doc["components"]["schemas"]["IncidentTransitionInput"]["properties"]["action"]["enum"];
    assert!(
        actions
            .as_array()
            .expect("enum")
            .iter()
            .any(|a| a == "witness")
    );
    assert!(doc["paths"]["/incidents/{id}/transitions"]["post"]["responses"]["409"].is_object());
}
