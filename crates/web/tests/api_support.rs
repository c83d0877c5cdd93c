//! Support work through the JSON API (issue 3): support requests and their lifecycle, work entries with
//! their checks, contracts, consultations and the workload — with the same bearer tokens, roles and
//! audit trail as the registry endpoints. Runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is
//! set.

mod common;

use common::{Client, Resp, TestApp};
use serde_json::{Value, json};
use unyo_domain::Role;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_store::Actor;
use unyo_store::audit::{AuditEntry, AuditQuery};

/// An app with a small fleet, a second SE, a contract for 令和8年度 staffed by both SEs, and one token
/// per role.
struct Api {
    app: TestApp,
    c: Client,
    admin: String,
    staff: String,
    se: String,
    se2: String,
    auditor: String,
    /// User ids.
    se_id: i64,
    se2_id: i64,
    staff_id: i64,
    contract_id: i64,
    kencho: i64,
    karatsu: i64,
    /// jk-rep01 (representative), jk-biz01 at 県庁; jk-karatsu01 at 唐津.
    rep: i64,
    biz: i64,
    karatsu_pc: i64,
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

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.store()
        .user_by_name(username)
        .await
        .expect("query")
        .expect("user")
        .id
}

async fn setup() -> Api {
    let app = TestApp::new().await;
    let store = app.store();
    let sys = Actor::system("test");
    store
        .create_user(&sys, "se2", "運用 花子", Role::Se, "se2-password")
        .await
        .expect("se2");
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = store
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site")
        .id;
    let karatsu = store
        .create_site(&sys, &site("ZEI-KARATSU", "唐津県税事務所", "kenzei"))
        .await
        .expect("site")
        .id;
    let terminal = |site_id: i64, host: &str, kind: &str| TerminalInput {
        site_id: Some(site_id),
        hostname: host.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let rep = store
        .create_terminal(&sys, &terminal(kencho, "jk-rep01", "representative"))
        .await
        .expect("terminal")
        .id;
    let biz = store
        .create_terminal(&sys, &terminal(kencho, "jk-biz01", "business"))
        .await
        .expect("terminal")
        .id;
    let karatsu_pc = store
        .create_terminal(&sys, &terminal(karatsu, "jk-karatsu01", "business"))
        .await
        .expect("terminal")
        .id;
    let se_id = user_id(&app, "se").await;
    let se2_id = user_id(&app, "se2").await;
    let staff_id = user_id(&app, "staff").await;
    let contract_id = store
        .create_contract(
            &sys,
            &unyo_domain::support::ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "佐情第R8-0123号".into(),
                term_start: "令和8年4月1日".into(),
                term_end: "令和9年3月31日".into(),
                contractor: "九州システムサポート株式会社".into(),
                manager: "保守 技郎".into(),
                staff_ids: vec![se_id, se2_id],
            },
        )
        .await
        .expect("contract")
        .id;
    let c = app.anonymous();
    Api {
        admin: token(&app, "admin").await,
        staff: token(&app, "staff").await,
        se: token(&app, "se").await,
        se2: token(&app, "se2").await,
        auditor: token(&app, "auditor").await,
        se_id,
        se2_id,
        staff_id,
        contract_id,
        kencho,
        karatsu,
        rep,
        biz,
        karatsu_pc,
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

    /// Files a request as staff; checks 201 and `Location`.
    async fn file(&self, title: &str) -> Value {
        let r = self
            .post(
                "/api/v1/requests",
                &self.staff,
                json!({
                    "title": title,
                    "category": "app_install",
                    "terminal_ids": [self.rep],
                    // A month from today: a date before the day of filing is refused.
                    "wished_date": (unyo_store::support::jst_today() + chrono::Duration::days(30)).to_string(),
                    "description": "業務アプリケーション更新版（R8.05版）を代表端末にインストールしてください。",
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        assert_eq!(r.location(), format!("/api/v1/requests/{}", v["id"]));
        v
    }

    async fn transition(&self, id: &Value, token: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/requests/{id}/transitions"), token, body)
            .await
    }

    async fn status_of(&self, id: &Value) -> String {
        let r = self
            .get(&format!("/api/v1/requests/{id}"), &self.auditor)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["request"]["status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// A work entry body at 県庁 on the representative terminal.
    fn work(&self, date: &str, start: &str, end: &str, workers: &[i64]) -> Value {
        json!({
            "contract_id": self.contract_id,
            "work_date": date,
            "start_time": start,
            "end_time": end,
            "worker_ids": workers,
            "mode": "onsite",
            "site_id": self.kencho,
            "terminal_ids": [self.rep],
            "category": "app_install",
            "description": "業務アプリケーション更新版のインストール",
            "result": "正常終了。起動と業務画面の表示を確認。",
        })
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

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn code(r: &Resp) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_string()
}

fn message(r: &Resp) -> String {
    r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
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

#[tokio::test]
async fn a_request_walks_from_requested_to_confirmed() {
    let api = setup().await;
    let req = api.file("業務アプリ更新版のインストール（代表端末）").await;
    let id = &req["id"];
    assert_eq!(req["status"], "requested");
    assert_eq!(req["requester"], "staff");
    assert!(
        req["number"].as_str().expect("number").ends_with("-0001"),
        "{req}"
    );
    assert_eq!(req["sites"], "県庁", "the terminal's site is added");

    let r = api
        .transition(
            id,
            &api.se,
            json!({"action": "accept", "planned_date": "2026-05-12", "comment": ""}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["assignee_id"], api.se_id);
    assert_eq!(v["planned_date"], "2026-05-12");

    let r = api
        .transition(id, &api.se, json!({"action": "start"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "in_progress");

    // Work is logged against the request.
    let mut w = api.work("2026-05-12", "09:00", "10:30", &[api.se_id]);
    w["request_id"] = req["id"].clone();
    let r = api.post("/api/v1/work-entries", &api.se, w).await;
    assert_eq!(r.status, 201, "{}", r.text());

    let r = api
        .transition(
            id,
            &api.se,
            json!({"action": "complete", "comment": "インストール完了。起動を確認しました。"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "completed");
    assert_eq!(r.json()["result"], "インストール完了。起動を確認しました。");

    let r = api
        .transition(
            id,
            &api.staff,
            json!({"action": "confirm", "comment": "確認しました。"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "confirmed");
    assert!(v["closed_at"].is_string());

    // The detail shows the timeline, the terminals, the work.
    let r = api.get(&format!("/api/v1/requests/{id}"), &api.staff).await;
    assert_eq!(r.status, 200);
    let d = r.json();
    let steps: Vec<(&str, &str)> = d["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("file", "staff"),
            ("accept", "se"),
            ("start", "se"),
            ("complete", "se"),
            ("confirm", "staff"),
        ]
    );
    assert_eq!(d["events"][4]["comment"], "確認しました。");
    assert_eq!(d["terminals"][0]["hostname"], "jk-rep01");
    assert_eq!(d["sites"][0]["code"], "KENCHO");
    assert_eq!(d["work"].as_array().expect("work").len(), 1);
    assert_eq!(d["work"][0]["clause"], "1", "representative terminal: ①");
    assert!(d["attachments"].as_array().expect("attachments").is_empty());
    assert!(d["consultations"].is_array());

    // The list, with counts per status.
    api.file("ウイルス定義ファイルの更新（全端末）").await;
    let r = api.get("/api/v1/requests?status=confirmed", &api.se).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], *id);
    assert_eq!(v["counts"]["confirmed"], 1);
    assert_eq!(v["counts"]["requested"], 1);
    assert_eq!(v["counts"]["returned"], 0);
    assert_eq!(v["pages"], 1);
    // Japanese labels work as filters too; unknown codes are refused.
    let r = api
        .get(&format!("/api/v1/requests?status={}", enc("要請")), &api.se)
        .await;
    assert_eq!(r.json()["total"], 1, "要請");
    let r = api.get("/api/v1/requests?status=done", &api.se).await;
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r)[0].0, "status");
    let r = api
        .get(
            &format!(
                "/api/v1/requests?requester_id={}&open_only=true",
                api.staff_id
            ),
            &api.auditor,
        )
        .await;
    assert_eq!(r.json()["total"], 1);
}

#[tokio::test]
async fn returned_requests_are_resumed() {
    let api = setup().await;
    let req = api.file("Windows月例更新のリモート適用").await;
    let id = &req["id"];
    for (token, body) in [
        (
            &api.se2,
            json!({"action": "accept", "planned_date": "令和8年5月20日"}),
        ),
        (&api.se2, json!({"action": "start"})),
        (
            &api.se2,
            json!({"action": "complete", "comment": "適用完了"}),
        ),
    ] {
        let r = api.transition(id, token, body).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Sending back needs a reason.
    let r = api
        .transition(id, &api.staff, json!({"action": "return"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "comment");
    let r = api
        .transition(
            id,
            &api.staff,
            json!({"action": "return", "comment": "再起動待ちの端末があります。"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "returned");
    let r = api
        .transition(id, &api.se2, json!({"action": "start"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "in_progress");
}

#[tokio::test]
async fn illegal_transitions_are_409_and_change_nothing() {
    let api = setup().await;
    let req = api.file("集約ネットワーク疎通確認の支援").await;
    let id = &req["id"];
    let before = api.audit_total().await;

    // 要請 cannot be confirmed or completed.
    let r = api
        .transition(id, &api.staff, json!({"action": "confirm"}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(code(&r), "conflict");
    assert_eq!(message(&r), "「要請」の要請に「確認」はできません。");
    let r = api
        .transition(id, &api.se, json!({"action": "complete", "comment": "済"}))
        .await;
    assert_eq!(r.status, 409);
    assert!(message(&r).contains("できません"));
    assert_eq!(api.status_of(id).await, "requested");
    assert_eq!(api.audit_total().await, before, "nothing written");

    // Accept needs a planned date; an unknown action is refused by field.
    let r = api
        .transition(id, &api.se, json!({"action": "accept"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(code(&r), "validation");
    assert_eq!(fields(&r)[0].0, "planned_date");
    assert!(fields(&r)[0].1.contains("対応予定日"));
    let r = api.transition(id, &api.se, json!({"action": "fly"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "action");
    let r = api
        .transition(id, &api.se, json!({"action": "accept", "planned": "x"}))
        .await;
    assert_eq!(r.status, 422, "unknown field");
    assert_eq!(fields(&r)[0].0, "planned");

    // Roles: the SE side cannot confirm, the prefecture side cannot accept, the auditor nothing.
    let r = api
        .transition(
            id,
            &api.se,
            json!({"action": "accept", "planned_date": "2026-06-01"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .transition(id, &api.se, json!({"action": "start"}))
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .transition(
            id,
            &api.se,
            json!({"action": "complete", "comment": "正常"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let before = api.audit_total().await;
    let r = api
        .transition(id, &api.se, json!({"action": "confirm"}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(code(&r), "forbidden");
    let r = api
        .transition(
            id,
            &api.staff,
            json!({"action": "accept", "planned_date": "2026-06-01"}),
        )
        .await;
    assert_eq!(r.status, 403);
    for body in [
        json!({"action": "confirm"}),
        json!({"action": "return", "comment": "x"}),
        json!({}),
    ] {
        let r = api.transition(id, &api.auditor, body).await;
        assert_eq!(r.status, 403);
    }
    assert_eq!(api.status_of(id).await, "completed");
    assert_eq!(api.audit_total().await, before, "refusals write nothing");

    // Withdrawal only by the requester (or admin), and only before work starts.
    let r = api
        .transition(id, &api.staff, json!({"action": "withdraw"}))
        .await;
    assert_eq!(r.status, 409);
    let r = api
        .transition(&json!(99_999), &api.staff, json!({"action": "withdraw"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "not_found");
}

#[tokio::test]
async fn roles_decide_who_may_write_and_everyone_may_read() {
    let api = setup().await;
    let before = api.audit_total().await;
    let request = json!({"title": "x", "category": "other", "description": "y"});
    let contract = json!({
        "name": "別契約", "number": "佐情第R8-0999号", "term_start": "2026-04-01",
        "term_end": "2027-03-31", "contractor": "九州システムサポート株式会社",
    });
    let consultation = json!({
        "contract_id": api.contract_id, "held_on": "2026-06-10", "participants": "市民 課男",
        "topic": "日程", "agreed": "了承",
    });
    // The auditor writes nothing.
    for (path, body) in [
        ("/api/v1/requests", &request),
        ("/api/v1/contracts", &contract),
        ("/api/v1/consultations", &consultation),
    ] {
        let r = api.post(path, &api.auditor, body.clone()).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(code(&r), "forbidden");
    }
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.auditor,
            api.work("2026-05-12", "09:00", "10:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 403);
    // SE does not file requests; staff do not log work; only admin manages contracts.
    let r = api.post("/api/v1/requests", &api.se, request.clone()).await;
    assert_eq!(r.status, 403);
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.staff,
            api.work("2026-05-12", "09:00", "10:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 403);
    for token in [&api.se, &api.staff] {
        let r = api.post("/api/v1/contracts", token, contract.clone()).await;
        assert_eq!(r.status, 403);
        let r = api
            .put(
                &format!("/api/v1/contracts/{}", api.contract_id),
                token,
                contract.clone(),
            )
            .await;
        assert_eq!(r.status, 403);
    }
    assert_eq!(
        api.audit_total().await,
        before,
        "refused writes write nothing"
    );

    // Every role reads.
    for token in [&api.admin, &api.staff, &api.se, &api.auditor] {
        for path in [
            "/api/v1/requests".to_string(),
            "/api/v1/work-entries".to_string(),
            "/api/v1/contracts".to_string(),
            format!("/api/v1/contracts/{}", api.contract_id),
            "/api/v1/consultations".to_string(),
            "/api/v1/workload?fiscal_year=2026".to_string(),
        ] {
            let r = api.get(&path, token).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text());
        }
    }
    // Without a token: 401.
    let r = api.c.get("/api/v1/requests").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn work_entries_are_checked_and_overlaps_refused_in_japanese() {
    let api = setup().await;
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se,
            api.work("2026-05-12", "09:00", "10:30", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let w = r.json();
    assert_eq!(r.location(), format!("/api/v1/work-entries/{}", w["id"]));
    assert_eq!(w["minutes"], 90);
    assert_eq!(w["hours"], "1.5");
    assert_eq!(w["clause"], "1");
    assert_eq!(w["workers"], "se さん");
    assert_eq!(w["terminals"], "jk-rep01");
    assert_eq!(w["created_by"], "se");
    let first = w["id"].clone();
    let before = api.audit_total().await;

    // The same worker, overlapping: refused with the other entry named.
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se2,
            api.work("2026-05-12", "10:00", "11:00", &[api.se_id, api.se2_id]),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(code(&r), "validation");
    let f = fields(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "start_time");
    assert_eq!(
        f[0].1,
        format!("se さんさんの作業記録（09:00～10:30、記録番号{first}）と時間が重なっています。")
    );
    // Touching ends are fine, and another worker at the same time is fine.
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se,
            api.work("2026-05-12", "10:30", "11:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut other = api.work("2026-05-12", "09:30", "10:00", &[api.se2_id]);
    other["terminal_ids"] = json!([api.biz]);
    let r = api.post("/api/v1/work-entries", &api.se2, other).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["clause"], "2", "install on a business terminal: ②");

    // Outside the contract term, a terminal of another site, end before start, missing fields.
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se,
            api.work("2026-03-31", "09:00", "10:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "work_date");
    assert!(fields(&r)[0].1.contains("契約期間"), "{:?}", fields(&r));
    let mut elsewhere = api.work("2026-05-13", "09:00", "10:00", &[api.se_id]);
    elsewhere["terminal_ids"] = json!([api.karatsu_pc]);
    let r = api.post("/api/v1/work-entries", &api.se, elsewhere).await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "terminal_ids");
    assert!(fields(&r)[0].1.contains("jk-karatsu01"));
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se,
            api.work("2026-05-13", "11:00", "10:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(fields(&r).iter().any(|(f, _)| f == "end_time"));
    let r = api
        .post("/api/v1/work-entries", &api.se, json!({"worker_ids": "se"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "worker_ids");
    assert!(fields(&r)[0].1.contains("配列"));
    assert_eq!(
        api.audit_total().await,
        before + 2,
        "refusals write nothing"
    );

    // Editing: moving onto the neighbour's time is refused; its own old time does not count.
    let url = format!("/api/v1/work-entries/{first}");
    let mut edit = api.get(&url, &api.se).await.json();
    edit["end_time"] = json!("10:45");
    let r = api.put(&url, &api.se, edit.clone()).await;
    assert_eq!(r.status, 422);
    assert!(fields(&r)[0].1.contains("時間が重なっています"));
    edit["start_time"] = json!("08:45");
    edit["end_time"] = json!("10:30");
    edit["mode"] = json!("remote");
    let r = api.put(&url, &api.se, edit).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["minutes"], 105);
    assert_eq!(r.json()["mode"], "remote");

    // The list, with the total of every matching entry.
    let r = api
        .get(
            &format!(
                "/api/v1/work-entries?worker_id={}&from={}&to=2026-05-31&per_page=1",
                api.se_id,
                enc("令和8年5月1日")
            ),
            &api.staff,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["total"], 2);
    assert_eq!(v["pages"], 2);
    assert_eq!(v["items"].as_array().expect("items").len(), 1);
    assert_eq!(v["total_minutes"], 105 + 30);
    assert_eq!(v["total_hours"], "2.25");
    let r = api
        .get("/api/v1/work-entries?from=not-a-date", &api.staff)
        .await;
    assert_eq!(r.status, 400);
    let r = api.get("/api/v1/work-entries/99999", &api.staff).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn contracts_are_managed_by_the_admin() {
    let api = setup().await;
    let body = json!({
        "name": "住民基本台帳ネットワークシステム運用支援SE業務委託",
        "number": "佐情第R9-0045号",
        "term_start": "令和9年4月1日",
        "term_end": "令和10年3月31日",
        "contractor": "九州システムサポート株式会社",
        "manager": "保守 技郎",
        "staff_ids": [api.se_id],
    });
    let r = api
        .post("/api/v1/contracts", &api.admin, body.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let c = r.json();
    assert_eq!(r.location(), format!("/api/v1/contracts/{}", c["id"]));
    assert_eq!(c["term_start"], "2027-04-01");
    assert_eq!(c["staff"][0]["username"], "se");
    let r = api.post("/api/v1/contracts", &api.se, body.clone()).await;
    assert_eq!(r.status, 403);
    // The same number twice: 409.
    let r = api
        .post("/api/v1/contracts", &api.admin, body.clone())
        .await;
    assert_eq!(r.status, 409);
    assert!(message(&r).contains("佐情第R9-0045号"));
    // Term reversed: 422.
    let mut bad = body.clone();
    bad["number"] = json!("佐情第R9-0046号");
    bad["term_end"] = json!("令和9年3月31日");
    let r = api.post("/api/v1/contracts", &api.admin, bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(fields(&r)[0].0, "term_end");

    // Update (the returned record can be sent back as it is).
    let url = format!("/api/v1/contracts/{}", c["id"]);
    let mut edit = api.get(&url, &api.se).await.json();
    edit["staff_ids"] = json!([api.se_id, api.se2_id]);
    edit["manager"] = json!("運用 花子");
    let r = api.put(&url, &api.admin, edit).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["staff"].as_array().expect("staff").len(), 2);
    assert_eq!(r.json()["manager"], "運用 花子");

    // A term that would leave recorded work outside: 409.
    let r = api
        .post(
            "/api/v1/work-entries",
            &api.se,
            api.work("2026-05-12", "09:00", "10:00", &[api.se_id]),
        )
        .await;
    assert_eq!(r.status, 201);
    let url = format!("/api/v1/contracts/{}", api.contract_id);
    let mut edit = api.get(&url, &api.admin).await.json();
    edit["term_start"] = json!("2026-06-01");
    let r = api.put(&url, &api.admin, edit).await;
    assert_eq!(r.status, 409, "{}", r.text());

    let r = api.get("/api/v1/contracts", &api.auditor).await;
    let v = r.json();
    assert_eq!(v["total"], 2);
    assert_eq!(
        v["items"][0]["number"], "佐情第R9-0045号",
        "newest term first"
    );
}

#[tokio::test]
async fn consultations_are_recorded_and_linked() {
    let api = setup().await;
    let req = api.file("審議会資料作成の支援").await;
    let r = api
        .post(
            "/api/v1/consultations",
            &api.staff,
            json!({
                "contract_id": api.contract_id,
                "held_on": "令和8年6月10日",
                "participants": "佐賀県 市町村課 市民 課男、九州システムサポート株式会社 保守 技郎",
                "topic": "本人確認情報保護審議会資料の作成支援の進め方",
                "agreed": "統計資料の範囲を前年度と同じとし、6月26日までに案を提出する。",
                "request_ids": [req["id"]],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let k = r.json();
    assert_eq!(r.location(), format!("/api/v1/consultations/{}", k["id"]));
    assert_eq!(k["held_on"], "2026-06-10");
    assert_eq!(k["requests"][0]["id"], req["id"]);
    assert_eq!(k["recorded_by"], "staff");
    let r = api
        .get(&format!("/api/v1/consultations/{}", k["id"]), &api.se)
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .get(
            &format!("/api/v1/consultations?request_id={}", req["id"]),
            &api.auditor,
        )
        .await;
    assert_eq!(r.json()["total"], 1);
    let r = api
        .get("/api/v1/consultations?from=2026-07-01", &api.auditor)
        .await;
    assert_eq!(r.json()["total"], 0);
    // It shows on the request.
    let r = api
        .get(&format!("/api/v1/requests/{}", req["id"]), &api.se)
        .await;
    assert_eq!(r.json()["consultations"][0]["id"], k["id"]);
    // Missing fields: 422, per field.
    let r = api
        .post("/api/v1/consultations", &api.se, json!({"topic": "x"}))
        .await;
    assert_eq!(r.status, 422);
    let names: Vec<String> = fields(&r).into_iter().map(|(f, _)| f).collect();
    assert!(names.contains(&"contract_id".to_string()), "{names:?}");
    assert!(names.contains(&"agreed".to_string()), "{names:?}");
}

#[tokio::test]
async fn every_api_write_is_audited_with_the_token_user() {
    let api = setup().await;
    let req = api.file("業務アプリ更新版のインストール（代表端末）").await;
    let rid = req["id"].to_string();
    api.transition(
        &req["id"],
        &api.se,
        json!({"action": "accept", "planned_date": "2026-05-12"}),
    )
    .await;
    let w = api
        .post(
            "/api/v1/work-entries",
            &api.se2,
            api.work("2026-05-12", "13:00", "15:00", &[api.se2_id]),
        )
        .await
        .json();
    let wid = w["id"].to_string();
    let mut edit = w.clone();
    edit["result"] = json!("正常終了（再確認済み）");
    assert_eq!(
        api.put(&format!("/api/v1/work-entries/{wid}"), &api.se2, edit)
            .await
            .status,
        200
    );
    let c = api
        .post(
            "/api/v1/contracts",
            &api.admin,
            json!({"name": "別契約", "number": "佐情第R8-0456号", "term_start": "2026-04-01",
                   "term_end": "2027-03-31", "contractor": "九州システムサポート株式会社"}),
        )
        .await
        .json();
    let cid = c["id"].to_string();
    let mut edit = c.clone();
    edit["manager"] = json!("保守 技郎");
    assert_eq!(
        api.put(&format!("/api/v1/contracts/{cid}"), &api.admin, edit)
            .await
            .status,
        200
    );
    let k = api
        .post(
            "/api/v1/consultations",
            &api.se,
            json!({"contract_id": api.contract_id, "held_on": "2026-05-11", "participants": "市民 課男、保守 技郎",
                   "topic": "インストール日程", "agreed": "5月12日午前に実施する。", "request_ids": [req["id"]]}),
        )
        .await
        .json();
    let kid = k["id"].to_string();

    for (action, id, actor) in [
        ("request.create", &rid, "staff"),
        ("request.transition", &rid, "se"),
        ("work.create", &wid, "se2"),
        ("work.update", &wid, "se2"),
        ("contract.create", &cid, "admin"),
        ("contract.update", &cid, "admin"),
        ("consultation.create", &kid, "se"),
    ] {
        let entries = api.audit(action).await;
        let mine: Vec<_> = entries.iter().filter(|e| &e.entity_id == id).collect();
        assert_eq!(mine.len(), 1, "{action}");
        assert_eq!(mine[0].actor, actor, "{action}");
        assert_eq!(mine[0].source, "unknown", "{action}: the client address");
    }
    let t = &api.audit("request.transition").await[0];
    let details: Value = serde_json::from_str(&t.details).expect("json");
    assert_eq!(details["action"], "accept");
    assert_eq!(details["planned_date"], "2026-05-12");
    let u = &api.audit("work.update").await[0];
    assert!(u.details.contains("再確認済み"), "the change is recorded");
    // The chain is intact.
    let r = api.get("/api/v1/audit/verify", &api.auditor).await;
    assert_eq!(r.json()["intact"], true);
}

#[tokio::test]
async fn workload_numbers_add_up() {
    let api = setup().await;
    let entries = [
        // (date, start, end, category, site/terminal, worker)
        (
            "2026-04-10",
            "09:00",
            "11:00",
            "app_install",
            true,
            api.se_id,
        ),
        (
            "2026-04-10",
            "13:00",
            "13:45",
            "antivirus_update",
            false,
            api.se_id,
        ),
        (
            "2026-05-20",
            "09:00",
            "10:30",
            "remote_update",
            false,
            api.se2_id,
        ),
        (
            "2026-07-16",
            "13:30",
            "16:00",
            "council_support",
            false,
            api.se_id,
        ),
        (
            "2026-08-05",
            "10:00",
            "12:00",
            "incident_response",
            false,
            api.se2_id,
        ),
        (
            "2027-03-10",
            "09:00",
            "09:30",
            "connectivity_check",
            false,
            api.se_id,
        ),
    ];
    for (date, start, end, category, rep, worker) in entries {
        let body = json!({
            "contract_id": api.contract_id, "work_date": date, "start_time": start, "end_time": end,
            "worker_ids": [worker], "mode": "remote",
            "site_id": if rep { Some(api.kencho) } else { Some(api.karatsu) },
            "terminal_ids": if rep { vec![api.rep] } else { vec![api.karatsu_pc] },
            "category": category, "description": "作業", "result": "正常",
        });
        let r = api.post("/api/v1/work-entries", &api.se, body).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    // Out of the fiscal year (previous contract would be needed): not counted anyway.
    let r = api
        .get(
            &format!(
                "/api/v1/workload?fiscal_year=2026&contract_id={}",
                api.contract_id
            ),
            &api.staff,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["fiscal_year"], 2026);
    assert_eq!(v["label"], "令和8年度");
    assert_eq!(v["months"][0]["label"], "令和8年4月");
    assert_eq!(v["months"][11]["label"], "令和9年3月");
    let total = 120 + 45 + 90 + 150 + 120 + 30;
    assert_eq!(v["total_minutes"], total);
    let row_sum = |rows: &Value| -> i64 {
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                let months: i64 = r["minutes"]
                    .as_array()
                    .expect("minutes")
                    .iter()
                    .map(|m| m.as_i64().expect("int"))
                    .sum();
                assert_eq!(r["total_minutes"].as_i64(), Some(months));
                months
            })
            .sum()
    };
    assert_eq!(row_sum(&v["by_category"]), total);
    assert_eq!(row_sum(&v["by_clause"]), total);
    let months: i64 = v["month_totals"]
        .as_array()
        .expect("totals")
        .iter()
        .map(|m| m.as_i64().expect("int"))
        .sum();
    assert_eq!(months, total);
    assert_eq!(v["by_category"].as_array().expect("c").len(), 8);
    assert_eq!(v["by_clause"].as_array().expect("c").len(), 5);
    // April: app install on the representative terminal is ①, antivirus on a business terminal ②.
    assert_eq!(v["month_totals"][0], 165);
    assert_eq!(v["by_clause"][0]["mark"], "①");
    assert_eq!(v["by_clause"][0]["minutes"][0], 120);
    assert_eq!(v["by_clause"][1]["minutes"][0], 45);
    assert_eq!(
        v["by_clause"][1]["minutes"][1], 90,
        "remote update in May: ②"
    );
    assert_eq!(v["by_clause"][3]["total_minutes"], 150, "council: ④");
    assert_eq!(v["by_clause"][4]["total_minutes"], 120, "incident: ⑤");
    assert_eq!(v["month_totals"][11], 30, "March of the next calendar year");
    // The same as the work-entry list's total for the fiscal year.
    let r = api
        .get(
            "/api/v1/work-entries?from=2026-04-01&to=2027-03-31&per_page=2",
            &api.staff,
        )
        .await;
    assert_eq!(r.json()["total_minutes"], total);
    // Another fiscal year is empty; a nonsense year or unknown contract is refused.
    let r = api
        .get("/api/v1/workload?fiscal_year=2025", &api.staff)
        .await;
    assert_eq!(r.json()["total_minutes"], 0);
    let r = api
        .get("/api/v1/workload?fiscal_year=abc", &api.staff)
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .get("/api/v1/workload?fiscal_year=20260", &api.staff)
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .get("/api/v1/workload?contract_id=9999", &api.staff)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn openapi_describes_the_support_endpoints() {
    let api = setup().await;
    let doc = api.c.get("/api/v1/openapi.json").await.json();
    for schema in [
        "Request",
        "RequestDetail",
        "RequestEvent",
        "RequestPage",
        "RequestInput",
        "TransitionInput",
        "WorkEntry",
        "WorkEntryPage",
        "WorkInput",
        "Contract",
        "ContractInput",
        "Consultation",
        "ConsultationInput",
        "Workload",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    for (path, method) in [
        ("/requests", "get"),
        ("/requests", "post"),
        ("/requests/{id}", "get"),
        ("/requests/{id}/transitions", "post"),
        ("/work-entries", "get"),
        ("/work-entries", "post"),
        ("/work-entries/{id}", "get"),
        ("/work-entries/{id}", "put"),
        ("/contracts", "get"),
        ("/contracts", "post"),
        ("/contracts/{id}", "get"),
        ("/contracts/{id}", "put"),
        ("/consultations", "get"),
        ("/consultations", "post"),
        ("/workload", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    // The documented status codes are those in the domain.
    let statuses = &doc["components"]["schemas"]["Request"]["properties"]["status"]["enum"];
    assert_eq!(statuses.as_array().expect("enum").len(), 7);
    assert!(doc["paths"]["/requests/{id}/transitions"]["post"]["responses"]["409"].is_object());
}
