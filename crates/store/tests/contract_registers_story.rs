//! The registers story (R9, R10, R12): subcontracting approvals and the work-entry rule for a
//! subcontractor's staff, provided materials from receipt through copies to the acknowledged return, and
//! the staff roster that decides whether an account may work — login refused without a pledge, a session
//! open when the assignment ends refused on its next request, tokens stopped, all audited. On SQLite by
//! default and on PostgreSQL when `TEST_DATABASE_URL` names one.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sqlx::Connection;
use unyo_domain::contract_registers::{
    CopyRequestInput, DecisionInput, MaterialInput, ReturnMaterialInput, StaffInput,
    SubcontractInput,
};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_domain::{DomainError, Role};
use unyo_store::audit::{AuditEntry, AuditQuery};
use unyo_store::support::{Contract, jst_today};
use unyo_store::testing::{TestDb, test_store};
use unyo_store::users::{LoginOutcome, User};
use unyo_store::{Actor, StoreError};

const PASSWORD: &str = "correct-horse-battery";
const PDF: &[u8] = b"%PDF-1.4\n% pledge\n";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn a(u: &User) -> Actor {
    u.actor("127.0.0.1")
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

struct World {
    db: TestDb,
    admin: User,
    staff: User,
    se: User,
    sub: User,
    contract: Contract,
    biz_terminal: i64,
    site: i64,
}

async fn world() -> World {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let admin = s
        .create_user(&sys, "admin", "県管理者", Role::Admin, PASSWORD)
        .await
        .expect("user");
    let staff = s
        .create_user(&sys, "staff", "県職員花子", Role::Staff, PASSWORD)
        .await
        .expect("user");
    let se = s
        .create_user(&sys, "se", "保守太郎", Role::Se, PASSWORD)
        .await
        .expect("user");
    let sub = s
        .create_user(&sys, "sub", "唐津次郎", Role::Se, PASSWORD)
        .await
        .expect("user");
    let site = s
        .create_site(
            &sys,
            &SiteInput {
                code: "KENCHO".into(),
                name: "県庁".into(),
                kind: "honcho".into(),
                ..Default::default()
            },
        )
        .await
        .expect("site");
    let biz = s
        .create_terminal(
            &sys,
            &TerminalInput {
                site_id: Some(site.id),
                hostname: "kencho-biz1".into(),
                kind: "business".into(),
                ip_address: "10.0.0.2".into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal");
    let contract = s
        .create_contract(
            &a(&admin),
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "令和8年4月1日".into(),
                term_end: "令和9年3月31日".into(),
                contractor: "株式会社佐賀システム".into(),
                manager: "保守太郎".into(),
                staff_ids: vec![se.id],
            },
        )
        .await
        .expect("contract");
    World {
        db,
        admin,
        staff,
        se,
        sub,
        contract,
        biz_terminal: biz.id,
        site: site.id,
    }
}

fn subcontract_input() -> SubcontractInput {
    SubcontractInput {
        subcontractor: "有限会社唐津ネット".into(),
        work_part: "業務端末のリモート更新".into(),
        clauses: vec!["2".into()],
        categories: vec!["connectivity_check".into()],
        approval_number: "佐情第123号".into(),
        approved_on: "令和8年5月20日".into(),
        period_start: "令和8年6月1日".into(),
        period_end: "令和8年9月30日".into(),
        note: String::new(),
    }
}

fn staff_input(name: &str, user_id: Option<i64>, start: NaiveDate) -> StaffInput {
    StaffInput {
        name: name.into(),
        employer: "株式会社佐賀システム".into(),
        role_on_contract: "SE".into(),
        user_id,
        start_on: iso(start),
        pledge_on: iso(start - Duration::days(1)),
        training_dates: iso(start),
        ..Default::default()
    }
}

fn work(w: &World, date: &str, category: &str, workers: Vec<i64>) -> WorkInput {
    WorkInput {
        contract_id: Some(w.contract.id),
        work_date: date.into(),
        start_time: "10:00".into(),
        end_time: "11:00".into(),
        worker_ids: workers,
        mode: "remote".into(),
        site_id: Some(w.site),
        terminal_ids: vec![w.biz_terminal],
        category: category.into(),
        description: "リモートで更新".into(),
        result: "完了".into(),
        ..Default::default()
    }
}

async fn audits(w: &World, action: &str) -> Vec<AuditEntry> {
    w.db.store
        .audit_log(&AuditQuery {
            action: Some(action.into()),
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .expect("audit")
        .items
}

fn refusal(e: StoreError) -> String {
    match e {
        StoreError::Domain(DomainError::Validation(errors)) => errors
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join(" / "),
        StoreError::Domain(DomainError::Conflict(m)) => m,
        other => panic!("unexpected error: {other:?}"),
    }
}

#[tokio::test]
async fn subcontracting_approvals_bound_the_work_of_a_subcontractors_staff() {
    let w = world().await;
    let s = &w.db.store;
    let admin = a(&w.admin);
    // Only the prefecture's administrator records an approval.
    let forbidden = s
        .create_subcontract(&a(&w.se), w.contract.id, &subcontract_input())
        .await;
    assert!(matches!(
        forbidden,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let sc = s
        .create_subcontract(&admin, w.contract.id, &subcontract_input())
        .await
        .expect("approval");
    assert_eq!(sc.scope_label(), "② / 疎通確認支援");
    let sc = s
        .attach_subcontract_approval(&admin, sc.id, "承認書.pdf", PDF)
        .await
        .expect("document");
    assert!(sc.approval_attachment_id.is_some());
    let mut changed = subcontract_input();
    changed.period_end = "令和8年10月31日".into();
    let sc = s
        .update_subcontract(&admin, sc.id, &changed)
        .await
        .expect("update");
    assert_eq!(sc.period_end, "2026-10-31");
    let history = s.history("subcontract", sc.id).await.expect("history");
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert!(actions.contains(&"subcontract.create"), "{actions:?}");
    assert!(actions.contains(&"subcontract.update"), "{actions:?}");
    assert!(
        actions.contains(&"subcontract.approval_document"),
        "{actions:?}"
    );

    // The subcontractor's engineer on the roster, under the approval, pledge on file.
    let mut entry = staff_input("唐津次郎", Some(w.sub.id), d(2026, 4, 1));
    entry.employer = "有限会社唐津ネット".into();
    entry.subcontract_id = Some(sc.id);
    let e = s
        .create_staff_on(&admin, w.contract.id, &entry, d(2026, 6, 1))
        .await
        .expect("roster");
    s.attach_pledge_on(&admin, e.id, "誓約書.pdf", PDF, d(2026, 6, 1))
        .await
        .expect("pledge");
    let contract = s.contract(w.contract.id).await.expect("contract");
    assert!(
        contract.staff_ids().contains(&w.sub.id),
        "an active roster entry puts the account on the contract's staff"
    );

    // Inside scope and period: accepted (② business terminal, remote update; ③ connectivity check).
    s.create_work_entry(
        &admin,
        &work(&w, "令和8年7月1日", "remote_update", vec![w.sub.id]),
    )
    .await
    .expect("in scope");
    s.create_work_entry(
        &admin,
        &work(&w, "令和8年7月2日", "connectivity_check", vec![w.sub.id]),
    )
    .await
    .expect("work kind in scope");
    // Outside the period, outside the scope: refused naming the person and the reason.
    let late = s
        .create_work_entry(
            &admin,
            &work(&w, "令和8年11月2日", "remote_update", vec![w.sub.id]),
        )
        .await
        .expect_err("after the period");
    let late = refusal(late);
    assert!(
        late.contains("worker_ids: 唐津次郎さんは再委託先の従事者です。令和8年11月2日は承認された再委託の期間外です。"),
        "{late}"
    );
    let scope = s
        .create_work_entry(
            &admin,
            &work(&w, "令和8年7月3日", "incident_response", vec![w.sub.id]),
        )
        .await
        .expect_err("outside the scope");
    assert!(refusal(scope).contains("範囲外"));
    // Together with the contractor's own engineer, the rule still holds for the subcontractor's.
    let mixed = s
        .create_work_entry(
            &admin,
            &work(
                &w,
                "令和8年7月3日",
                "incident_response",
                vec![w.se.id, w.sub.id],
            ),
        )
        .await
        .expect_err("mixed");
    assert!(refusal(mixed).contains("唐津次郎"));
    // The contractor's own engineer is not bound by it.
    s.create_work_entry(
        &admin,
        &work(&w, "令和8年11月2日", "incident_response", vec![w.se.id]),
    )
    .await
    .expect("own staff");
}

#[tokio::test]
async fn provided_materials_from_receipt_to_acknowledged_return() {
    let w = world().await;
    let s = &w.db.store;
    let se = a(&w.se);
    let staff = a(&w.staff);
    let input = MaterialInput {
        name: "住基ネット端末設定手順書".into(),
        kind: "document".into(),
        provided_by: "市町村課".into(),
        received_on: "令和8年4月1日".into(),
        medium: "paper".into(),
        classification: "c2".into(),
        storage: "県庁分室 施錠キャビネットA".into(),
        quantity: "1冊（42頁）".into(),
        note: String::new(),
    };
    assert!(matches!(
        s.create_material(&staff, w.contract.id, &input).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let m = s
        .create_material(&se, w.contract.id, &input)
        .await
        .expect("material");
    assert_eq!(m.status_label(), "保管中");
    let open = s.open_material_items(w.contract.id).await.expect("open");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].what, "未返却");

    // A copy asked for, decided by the prefecture (not by the contractor).
    let m = s
        .request_material_copy(
            &se,
            m.id,
            &CopyRequestInput {
                requested_on: "令和8年4月10日".into(),
                copies: 1,
                purpose: "作業用の控え".into(),
            },
        )
        .await
        .expect("copy request");
    let copy_id = m.copies[0].id;
    let ret = ReturnMaterialInput {
        disposition: "returned".into(),
        done_on: "令和9年3月25日".into(),
        method: "手渡しで返却（複製1部は裁断）".into(),
    };
    let pending = s
        .return_material(&se, m.id, &ret)
        .await
        .expect_err("pending copy");
    assert!(refusal(pending).contains("複製申請"));
    assert_eq!(
        s.open_material_items(w.contract.id)
            .await
            .expect("open")
            .len(),
        2,
        "the pending copy is an open item too"
    );
    let decision = DecisionInput {
        granted: true,
        decided_on: "令和8年4月11日".into(),
        decided_by: "市町村課 佐賀".into(),
        note: "作業終了後に裁断".into(),
    };
    assert!(matches!(
        s.decide_material_copy(&se, copy_id, &decision).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let m = s
        .decide_material_copy(&staff, copy_id, &decision)
        .await
        .expect("decision");
    assert_eq!(m.copies[0].status_label(), "許可");
    let again = s
        .decide_material_copy(&staff, copy_id, &decision)
        .await
        .expect_err("decided once");
    assert!(refusal(again).contains("既に判断"));

    // The return, then the prefecture's acknowledgement closes the entry.
    let ack = DecisionInput {
        granted: true,
        decided_on: "令和9年3月25日".into(),
        decided_by: "市町村課 佐賀".into(),
        note: String::new(),
    };
    let early = s
        .acknowledge_material_return(&staff, m.id, &ack)
        .await
        .expect_err("nothing returned yet");
    assert!(refusal(early).contains("まだ記録されていません"));
    let m = s.return_material(&se, m.id, &ret).await.expect("return");
    assert_eq!(m.status_label(), "返却済（県の確認待ち）");
    assert_eq!(
        s.open_material_items(w.contract.id).await.expect("open")[0].what,
        "返却済（県の確認待ち）"
    );
    let m = s
        .acknowledge_material_return(&staff, m.id, &ack)
        .await
        .expect("ack");
    assert_eq!(m.status_label(), "返却確認済");
    assert!(
        s.open_material_items(w.contract.id)
            .await
            .expect("open")
            .is_empty()
    );
    let frozen = s
        .update_material(&se, m.id, &input)
        .await
        .expect_err("closed");
    assert!(refusal(frozen).contains("変更できません"));

    // Reads of an entry and exports are audited, by person.
    s.material(&a(&w.admin), m.id).await.expect("read");
    s.audit_register_export(&staff, "material", Some(w.contract.id), "csv", 1)
        .await
        .expect("export");
    let reads = audits(&w, "material.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor, "admin");
    let exports = audits(&w, "register.export").await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].actor, "staff");
    let history = s.history("material", m.id).await.expect("history");
    assert!(history.len() >= 6, "{history:?}");
}

/// Sets columns of a stored row directly (the calendar moving on, without waiting for it).
async fn sql(w: &World, statement: &str, binds: &[&str]) {
    macro_rules! run {
        ($conn:expr) => {{
            let mut c = $conn;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()));
            for b in binds {
                q = q.bind(b.to_string());
            }
            q.execute(&mut c).await.expect("tamper");
        }};
    }
    if w.db.url.starts_with("postgres") {
        run!(sqlx::PgConnection::connect(&w.db.url).await.expect("conn"));
    } else {
        run!(
            sqlx::SqliteConnection::connect(&w.db.url)
                .await
                .expect("conn")
        );
    }
}

#[tokio::test]
async fn the_roster_decides_access_and_its_end_cuts_it() {
    let w = world().await;
    let s = &w.db.store;
    let admin = a(&w.admin);
    let today = jst_today();

    // On the roster without a pledge on file: the password is right, the login refused and audited.
    let mut entry = staff_input("保守太郎", Some(w.se.id), today - Duration::days(30));
    entry.pledge_on = String::new();
    let e = s
        .create_staff(&admin, w.contract.id, &entry)
        .await
        .expect("roster");
    assert!(matches!(
        s.check_password("se", PASSWORD, "127.0.0.1")
            .await
            .expect("login"),
        LoginOutcome::Disabled
    ));
    let failures = audits(&w, "login.failure").await;
    assert!(failures[0].details.contains("not_assigned"), "{failures:?}");
    // A pledge date alone is not a pledge on file; the document makes it.
    let mut with_date = entry.clone();
    with_date.pledge_on = iso(today - Duration::days(31));
    s.update_staff(&admin, e.id, &with_date)
        .await
        .expect("pledge date");
    assert!(!s.roster_allows(w.se.id, today).await.expect("gate"));
    s.attach_pledge(&admin, e.id, "誓約書.pdf", PDF)
        .await
        .expect("pledge");
    assert!(s.roster_allows(w.se.id, today).await.expect("gate"));
    assert!(matches!(
        s.check_password("se", PASSWORD, "127.0.0.1")
            .await
            .expect("login"),
        LoginOutcome::Success(_)
    ));

    // The assignment ends today. A session opened before midnight and still in use just after it is
    // refused on its next request; the account's token and contract staff go with it.
    let mut ending = with_date.clone();
    ending.end_on = iso(today);
    s.update_staff(&admin, e.id, &ending)
        .await
        .expect("end date");
    let session = s.create_session(w.se.id, false).await.expect("session");
    let token = s
        .create_api_token(&a(&w.se), w.se.id, "cli")
        .await
        .expect("token");
    let midnight = Utc
        .from_local_datetime(&(today + Duration::days(1)).and_hms_opt(0, 0, 0).expect("t"))
        .single()
        .expect("utc")
        - Duration::hours(9);
    let before = unyo_domain::time::to_storage(midnight - Duration::minutes(10));
    sql(
        &w,
        "UPDATE sessions SET created_at = $1, last_seen_at = $1",
        &[&before],
    )
    .await;
    assert!(
        s.session(&session.token, midnight - Duration::minutes(5))
            .await
            .expect("session")
            .is_some(),
        "still assigned five minutes before midnight"
    );
    assert!(
        s.session(&session.token, midnight + Duration::minutes(1))
            .await
            .expect("session")
            .is_none(),
        "refused on the first request after the assignment ended"
    );
    let ended: Vec<AuditEntry> = audits(&w, "staff.access_ended")
        .await
        .into_iter()
        .filter(|e| e.details.contains("assignment_ended"))
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        ended[0].details.contains("\"tokens_revoked\":1"),
        "{}",
        ended[0].details
    );
    assert_eq!(ended[0].entity_id, w.se.id.to_string());
    assert!(s.user_for_token(&token).await.expect("token").is_none());
    let contract = s.contract(w.contract.id).await.expect("contract");
    assert!(
        !contract.staff_ids().contains(&w.se.id),
        "a person moved off the contract keeps nothing"
    );
    assert!(
        s.staff_entry(e.id)
            .await
            .expect("entry")
            .access_ended_at
            .is_some()
    );

    // A token of another engineer stops when the calendar passes the end of the assignment.
    let sub_entry = s
        .create_staff(
            &admin,
            w.contract.id,
            &staff_input("唐津次郎", Some(w.sub.id), today - Duration::days(10)),
        )
        .await
        .expect("roster");
    s.attach_pledge(&admin, sub_entry.id, "誓約書.pdf", PDF)
        .await
        .expect("pledge");
    let sub_token = s
        .create_api_token(&a(&w.sub), w.sub.id, "cli")
        .await
        .expect("token");
    assert!(s.user_for_token(&sub_token).await.expect("token").is_some());
    let yesterday = iso(today - Duration::days(1));
    sql(
        &w,
        "UPDATE staff_roster SET end_on = $1 WHERE name = '唐津次郎'",
        &[&yesterday],
    )
    .await;
    assert!(s.user_for_token(&sub_token).await.expect("token").is_none());
    let ended = audits(&w, "staff.access_ended").await;
    assert!(ended[0].details.contains("assignment_ended"));
    assert_eq!(ended[0].entity_id, w.sub.id.to_string());
    assert!(matches!(
        s.check_password("sub", PASSWORD, "127.0.0.1")
            .await
            .expect("login"),
        LoginOutcome::Disabled
    ));

    // Ending an assignment through the roster ends access at once (no request needed).
    let staff_entry = s
        .create_staff(
            &admin,
            w.contract.id,
            &staff_input("県職員花子", Some(w.staff.id), today - Duration::days(3)),
        )
        .await
        .expect("roster");
    s.attach_pledge(&admin, staff_entry.id, "誓約書.pdf", PDF)
        .await
        .expect("pledge");
    let staff_session = s.create_session(w.staff.id, false).await.expect("session");
    let mut off = staff_input("県職員花子", Some(w.staff.id), today - Duration::days(3));
    off.end_on = iso(today - Duration::days(1));
    s.update_staff(&admin, staff_entry.id, &off)
        .await
        .expect("moved off");
    let ended = audits(&w, "staff.access_ended").await;
    assert_eq!(ended[0].entity_id, w.staff.id.to_string());
    assert!(
        ended[0].details.contains("roster_change"),
        "{}",
        ended[0].details
    );
    assert!(ended[0].details.contains("\"sessions_ended\":1"));
    assert!(
        s.session(&staff_session.token, Utc::now())
            .await
            .expect("session")
            .is_none()
    );
    // Accounts not on any roster are not affected.
    assert!(s.roster_allows(w.admin.id, today).await.expect("gate"));
    let roster = s.roster(Some(w.contract.id)).await.expect("roster");
    assert_eq!(roster.len(), 3);
    assert!(
        roster
            .iter()
            .all(|r| !r.active_on(today + Duration::days(1)))
    );
}
