//! A contract's registers through the pages and the API (R9, R10, R12): forms by role, exports audited,
//! a provided material's read audited, and the staff roster cutting access — a session open when the
//! assignment ends is refused on its next request, a token stops, a login needs the pledge. Runs on
//! SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use chrono::Duration;
use common::{Client, TestApp};
use serde_json::json;
use unyo_domain::support::ContractInput;
use unyo_store::audit::{AuditEntry, AuditQuery};
use unyo_store::support::jst_today;

const PDF: &[u8] = b"%PDF-1.4\n% pledge\n";

struct World {
    app: TestApp,
    contract_id: i64,
    se_id: i64,
}

async fn setup() -> World {
    let app = TestApp::new().await;
    let s = app.store();
    let admin = s.user_by_name("admin").await.expect("q").expect("admin");
    let se = s.user_by_name("se").await.expect("q").expect("se");
    let c = s
        .create_contract(
            &admin.actor("test"),
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-001".into(),
                term_start: "令和8年4月1日".into(),
                term_end: "令和9年3月31日".into(),
                contractor: "九州システムサポート株式会社".into(),
                manager: "保守 技郎".into(),
                staff_ids: vec![se.id],
            },
        )
        .await
        .expect("contract");
    World {
        app,
        contract_id: c.id,
        se_id: se.id,
    }
}

async fn audits(app: &TestApp, action: &str) -> Vec<AuditEntry> {
    app.store()
        .audit_log(&AuditQuery {
            action: Some(action.into()),
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .expect("audit")
        .items
}

async fn token(app: &TestApp, username: &str) -> String {
    let u = app
        .store()
        .user_by_name(username)
        .await
        .expect("q")
        .expect("user");
    app.store()
        .create_api_token(&u.actor("test"), u.id, "test")
        .await
        .expect("token")
}

fn iso(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn subcontract_and_material_pages_by_role_with_audited_reads_and_exports() {
    let w = setup().await;
    let admin = w.app.login("admin").await;
    let se = w.app.login("se").await;
    let staff = w.app.login("staff").await;
    let base = format!("/contracts/{}", w.contract_id);

    // The contract page links its registers and lists the open items.
    let page = admin.get(&base).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(&format!("{base}/subcontracts")), "{html}");
    assert!(html.contains("未完了事項（提供資料）"));

    // 再委託: the administrator records an approval; a refused form names the field.
    let list = admin.get(&format!("{base}/subcontracts")).await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("再委託の承認を登録"));
    assert!(
        !se.get(&format!("{base}/subcontracts"))
            .await
            .text()
            .contains("再委託の承認を登録"),
        "an SE sees the register without the form"
    );
    let fields = [
        ("subcontractor", "有限会社唐津ネットサービス"),
        ("work_part", "業務端末のリモート更新の補助"),
        ("clauses", "2"),
        ("categories", "remote_update"),
        ("approval_number", "佐情第R8-0456号"),
        ("approved_on", "令和8年5月20日"),
        ("period_start", "令和8年6月1日"),
        ("period_end", "令和8年2月30日"),
    ];
    let refused = admin
        .post_form(&format!("{base}/subcontracts"), &fields)
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("再委託期間の終了日: 令和8年2月30日は存在しない日付です。"),
        "{}",
        refused.text()
    );
    let mut ok = fields;
    ok[7] = ("period_end", "令和9年3月31日");
    let created = admin.post_form(&format!("{base}/subcontracts"), &ok).await;
    assert_eq!(created.status, 303, "{}", created.text());
    let detail = admin.get(&created.location()).await;
    assert!(detail.text().contains("佐情第R8-0456号"));
    assert!(detail.text().contains("②"));
    let forbidden = se.post_form(&format!("{base}/subcontracts"), &ok).await;
    assert_eq!(forbidden.status, 403);

    // 提供資料: the SE registers, the prefecture decides; the entry's read is audited.
    let m = se
        .post_form(
            &format!("{base}/materials"),
            &[
                ("name", "住基ネット端末 設定手順書"),
                ("kind", "document"),
                ("provided_by", "市町村課"),
                ("received_on", "令和8年4月1日"),
                ("medium", "paper"),
                ("classification", "c2"),
                ("storage", "市町村課分室 施錠書庫A"),
            ],
        )
        .await;
    assert_eq!(m.status, 303, "{}", m.text());
    let material_href = m.location().replace("?ok=saved", "");
    let reads_before = audits(&w.app, "material.read").await.len();
    let page = staff.get(&material_href).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("住基ネット端末 設定手順書"));
    let reads = audits(&w.app, "material.read").await;
    assert_eq!(reads.len(), reads_before + 1);
    assert_eq!(reads[0].actor, "staff");
    // The contract page lists it as open until returned and acknowledged.
    assert!(
        admin
            .get(&base)
            .await
            .text()
            .contains("住基ネット端末 設定手順書")
    );

    // Exports: UTF-8 with BOM, and audited.
    let csv = staff.get(&format!("{base}/materials/export.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
    assert!(csv.text().contains("住基ネット端末 設定手順書"));
    let xlsx = w
        .app
        .login("auditor")
        .await
        .get(&format!("{base}/staff/export.xlsx"))
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with(b"PK"));
    let exports = audits(&w.app, "register.export").await;
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0].actor, "auditor");
    assert_eq!(exports[1].actor, "staff");
}

#[tokio::test]
async fn the_roster_page_and_api_cut_access_at_the_end_of_the_assignment() {
    let w = setup().await;
    let admin = w.app.login("admin").await;
    let base = format!("/contracts/{}", w.contract_id);
    let today = jst_today();
    let se_token = token(&w.app, "se").await;
    let admin_token = token(&w.app, "admin").await;

    // The SE on the roster, no pledge yet: the account stops (it was on the contract's staff).
    let se_before: Client = w.app.login("se").await;
    let created = admin
        .post_form(
            &format!("{base}/staff"),
            &[
                ("name", "保守 技郎"),
                ("employer", "九州システムサポート株式会社"),
                ("role_on_contract", "SE"),
                ("user_id", &w.se_id.to_string()),
                ("start_on", &iso(today - Duration::days(30))),
                ("pledge_on", &iso(today - Duration::days(31))),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text());
    let staff_href = created.location().replace("?ok=saved", "");
    let refused = se_before.get("/work").await;
    assert_eq!(refused.status, 303);
    assert!(refused.location().starts_with("/login"));
    assert_eq!(
        w.app
            .anonymous()
            .api("GET", "/api/v1/me", &se_token, None)
            .await
            .status,
        401
    );

    // The pledge uploaded: the SE may log in and work again.
    let up = admin
        .post_multipart(
            &format!("{staff_href}/pledge"),
            &[],
            ("file", "誓約書.pdf", PDF),
        )
        .await;
    assert_eq!(up.status, 303, "{}", up.text());
    let roster = admin.get(&format!("{base}/staff")).await.text();
    assert!(roster.contains("従事中"), "{roster}");
    let se = w.app.login("se").await;
    assert_eq!(se.get("/work").await.status, 200);
    let se_token = token(&w.app, "se").await;
    let listed = se
        .api(
            "GET",
            &format!("/api/v1/staff?contract_id={}", w.contract_id),
            &se_token,
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["items"][0]["name"], "保守 技郎");

    // Moved off the contract (end yesterday) through the API: the open session is refused on its next
    // request and the token stops, audited.
    let staff_id: i64 = staff_href
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let put = admin
        .api(
            "PUT",
            &format!("/api/v1/staff/{staff_id}"),
            &admin_token,
            Some(json!({
                "name": "保守 技郎", "employer": "九州システムサポート株式会社", "role_on_contract": "SE",
                "user_id": w.se_id, "start_on": iso(today - Duration::days(30)),
                "end_on": iso(today - Duration::days(1)), "pledge_on": iso(today - Duration::days(31)),
            })),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let next = se.get("/work").await;
    assert_eq!(next.status, 303);
    assert!(next.location().starts_with("/login"));
    assert_eq!(
        se.api("GET", "/api/v1/me", &se_token, None).await.status,
        401
    );
    let ended = audits(&w.app, "staff.access_ended").await;
    assert!(
        ended[0].details.contains("\"sessions_ended\":1"),
        "{ended:?}"
    );
    assert!(ended[0].details.contains("\"tokens_revoked\":1"));

    // API: role-checked writes, OpenAPI entries.
    let sub = admin
        .api(
            "POST",
            "/api/v1/subcontracts",
            &se_token,
            Some(json!({"contract_id": w.contract_id})),
        )
        .await;
    assert_eq!(sub.status, 401, "the SE's token is over");
    let staff_token = token(&w.app, "staff").await;
    let forbidden = admin
        .api(
            "POST",
            "/api/v1/subcontracts",
            &staff_token,
            Some(json!({
                "contract_id": w.contract_id, "subcontractor": "有限会社唐津ネットサービス",
                "work_part": "補助", "clauses": ["2"], "approval_number": "A-1",
                "approved_on": "2026-05-20", "period_start": "2026-06-01", "period_end": "2026-09-30",
            })),
        )
        .await;
    assert_eq!(forbidden.status, 403);
    let made = admin
        .api(
            "POST",
            "/api/v1/materials",
            &admin_token,
            Some(json!({
                "contract_id": w.contract_id, "name": "集約ネットワーク構成図", "kind": "dataset",
                "provided_by": "情報政策課", "received_on": "令和8年5月1日", "medium": "optical",
                "classification": "c3", "storage": "分室 金庫",
            })),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let id = made.json()["id"].as_i64().expect("id");
    let shown = admin
        .api(
            "GET",
            &format!("/api/v1/materials/{id}"),
            &staff_token,
            None,
        )
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(audits(&w.app, "material.read").await[0].actor, "staff");
    let doc = admin
        .api("GET", "/api/v1/openapi.json", &staff_token, None)
        .await
        .json();
    for path in ["/subcontracts", "/materials/{id}", "/staff/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}
