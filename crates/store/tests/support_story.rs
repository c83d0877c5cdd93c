//! The support story: contracts, support requests through their lifecycle, work entries and their rules,
//! workload views, consultations and evidence attachments — on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` names one.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{
    ConsultationInput, ContractInput, RequestInput, TransitionInput, WorkInput,
};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{DomainError, Role};
use unyo_store::attachments::UNSUPPORTED_TYPE_MESSAGE;
use unyo_store::audit::{AuditQuery, ChainReport};
use unyo_store::registry::{Site, Terminal};
use unyo_store::support::{Contract, MonthMinutes, RequestQuery, STALE_MESSAGE, WorkQuery};
use unyo_store::testing::{TestDb, test_store};
use unyo_store::users::User;
use unyo_store::{Actor, StoreError};

struct World {
    db: TestDb,
    admin: User,
    staff: User,
    staff2: User,
    se: User,
    se2: User,
    auditor: User,
    kencho: Site,
    doboku: Site,
    rep: Terminal,
    biz: Terminal,
    far: Terminal,
    contract: Contract,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn a(u: &User) -> Actor {
    u.actor("127.0.0.1")
}

async fn world() -> World {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let user = |name: &'static str, display: &'static str, role: Role| {
        let sys = sys.clone();
        async move {
            s.create_user(&sys, name, display, role, "correct-horse-battery")
                .await
                .expect("user")
        }
    };
    let admin = user("admin", "県管理者", Role::Admin).await;
    let staff = user("staff", "県職員花子", Role::Staff).await;
    let staff2 = user("staff2", "県職員次郎", Role::Staff).await;
    let se = user("se", "保守太郎", Role::Se).await;
    let se2 = user("se2", "応援三郎", Role::Se).await;
    let auditor = user("audit", "監査人", Role::Auditor).await;
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = s
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site");
    let doboku = s
        .create_site(&sys, &site("DOBOKU-SAGA", "佐賀土木事務所", "doboku"))
        .await
        .expect("site");
    let terminal = |site_id: i64, host: &str, kind: &str, ip: &str| TerminalInput {
        site_id: Some(site_id),
        hostname: host.into(),
        kind: kind.into(),
        ip_address: ip.into(),
        os_name: "Windows 11".into(),
        ..Default::default()
    };
    let rep = s
        .create_terminal(
            &sys,
            &terminal(kencho.id, "kencho-rep", "representative", "10.0.0.1"),
        )
        .await
        .expect("terminal");
    let biz = s
        .create_terminal(
            &sys,
            &terminal(kencho.id, "kencho-biz1", "business", "10.0.0.2"),
        )
        .await
        .expect("terminal");
    let far = s
        .create_terminal(
            &sys,
            &terminal(doboku.id, "doboku-saga", "business", "10.0.1.1"),
        )
        .await
        .expect("terminal");
    let contract = s
        .create_contract(&a(&admin), &contract_input("R8-情-001", vec![se.id]))
        .await
        .expect("contract");
    World {
        db,
        admin,
        staff,
        staff2,
        se,
        se2,
        auditor,
        kencho,
        doboku,
        rep,
        biz,
        far,
        contract,
    }
}

fn contract_input(number: &str, staff_ids: Vec<i64>) -> ContractInput {
    ContractInput {
        name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
        number: number.into(),
        term_start: "令和8年4月1日".into(),
        term_end: "令和9年3月31日".into(),
        contractor: "株式会社サンプル".into(),
        manager: "保守太郎".into(),
        staff_ids,
    }
}

fn request(title: &str, site_ids: Vec<i64>, terminal_ids: Vec<i64>) -> RequestInput {
    RequestInput {
        title: title.into(),
        category: "app_install".into(),
        site_ids,
        terminal_ids,
        wished_date: "2026-09-30".into(),
        description: "業務アプリケーション更新版のインストールをお願いします。".into(),
    }
}

fn tr(action: &str, comment: &str, planned: &str) -> TransitionInput {
    TransitionInput {
        action: action.into(),
        comment: comment.into(),
        planned_date: planned.into(),
    }
}

fn work(w: &World, date: &str, start: &str, end: &str) -> WorkInput {
    WorkInput {
        contract_id: Some(w.contract.id),
        work_date: date.into(),
        start_time: start.into(),
        end_time: end.into(),
        worker_ids: vec![w.se.id],
        mode: "onsite".into(),
        site_id: Some(w.kencho.id),
        terminal_ids: vec![w.rep.id],
        category: "app_install".into(),
        description: "業務アプリケーション更新版のインストール".into(),
        result: "正常終了".into(),
        ..Default::default()
    }
}

fn messages(e: &StoreError) -> String {
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => fields
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn is_forbidden(r: &Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(r, Err(StoreError::Domain(DomainError::Forbidden)))
}

#[tokio::test]
async fn request_lifecycle_numbering_and_roles() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se) = (a(&w.staff), a(&w.se));

    // Numbering per fiscal year.
    let r1 = s
        .create_request_on(
            &staff,
            &request("アプリ導入", vec![w.kencho.id], vec![w.rep.id]),
            d(2026, 5, 1),
        )
        .await
        .expect("file");
    assert_eq!(r1.number, "R8-0001");
    assert_eq!(r1.fiscal_year, 2026);
    assert_eq!(r1.status, "requested");
    assert_eq!(r1.requester_id, Some(w.staff.id));
    assert_eq!(r1.requester_name, "県職員花子");
    assert_eq!(r1.sites, "県庁");
    // A wished date before the day of filing is refused, naming the field.
    let err = s
        .create_request_on(
            &staff,
            &request("遅い希望日", vec![], vec![]),
            d(2026, 10, 1),
        )
        .await
        .expect_err("past wished date");
    assert!(
        messages(&err)
            .contains("希望日: 令和8年9月30日は過去の日付です。受付日（令和8年10月1日）以降"),
        "{err:?}"
    );
    let no_date = |title: &str| {
        let mut r = request(title, vec![], vec![]);
        r.wished_date = String::new();
        r
    };
    let r2 = s
        .create_request_on(&staff, &no_date("二件目"), d(2027, 3, 31))
        .await
        .expect("file");
    assert_eq!(r2.number, "R8-0002");
    let r3 = s
        .create_request_on(&staff, &no_date("翌年度"), d(2027, 4, 1))
        .await
        .expect("file");
    assert_eq!(r3.number, "R9-0001");
    assert!(is_forbidden(
        &s.create_request(&se, &request("SEは要請しない", vec![], vec![]))
            .await
    ));

    // Staff cannot accept; an illegal move is refused and changes nothing.
    assert!(is_forbidden(
        &s.transition_request(&staff, r1.id, &tr("accept", "", "2026-05-12"))
            .await
    ));
    let illegal = s
        .transition_request(&se, r1.id, &tr("complete", "済", ""))
        .await
        .expect_err("illegal");
    assert!(
        matches!(illegal, StoreError::Domain(DomainError::Conflict(ref m)) if m.contains("できません")),
        "{illegal:?}"
    );
    let detail = s.request(r1.id, d(2026, 5, 1)).await.expect("detail");
    assert_eq!(detail.request.status, "requested");
    assert_eq!(detail.events.len(), 1);
    let no_date = s
        .transition_request(&se, r1.id, &tr("accept", "", ""))
        .await
        .expect_err("planned date required");
    assert!(messages(&no_date).contains("対応予定日"));

    // 要請 → 受付 → 対応中 → 完了 → 確認済.
    let r = s
        .transition_request(&se, r1.id, &tr("accept", "", "令和8年5月12日"))
        .await
        .expect("accept");
    assert_eq!(r.status, "accepted");
    assert_eq!(r.assignee_id, Some(w.se.id));
    assert_eq!(r.assignee_name.as_deref(), Some("保守太郎"));
    assert_eq!(r.planned_date.as_deref(), Some("2026-05-12"));
    assert!(r.accepted_at.is_some());
    let r = s
        .transition_request(&se, r1.id, &tr("start", "", ""))
        .await
        .expect("start");
    assert_eq!(r.status, "in_progress");
    let r = s
        .transition_request(
            &se,
            r1.id,
            &tr("complete", "インストール完了、動作確認済み", ""),
        )
        .await
        .expect("complete");
    assert_eq!(r.status, "completed");
    assert_eq!(r.result, "インストール完了、動作確認済み");
    assert!(r.completed_at.is_some());
    assert!(is_forbidden(
        &s.transition_request(&se, r1.id, &tr("confirm", "", ""))
            .await
    ));
    let r = s
        .transition_request(&staff, r1.id, &tr("confirm", "確認しました", ""))
        .await
        .expect("confirm");
    assert_eq!(r.status, "confirmed");
    assert!(r.confirmed_at.is_some() && r.closed_at.is_some());
    assert!(!r.overdue);

    // The timeline and the audit log.
    let detail = s.request(r1.id, d(2026, 6, 1)).await.expect("detail");
    let steps: Vec<(&str, Option<&str>, &str)> = detail
        .events
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.from_status.as_deref(),
                e.to_status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("file", None, "requested"),
            ("accept", Some("requested"), "accepted"),
            ("start", Some("accepted"), "in_progress"),
            ("complete", Some("in_progress"), "completed"),
            ("confirm", Some("completed"), "confirmed"),
        ]
    );
    assert_eq!(detail.events[1].planned_date.as_deref(), Some("2026-05-12"));
    assert_eq!(detail.events[4].actor_name, "県職員花子");
    assert_eq!(detail.events[4].comment, "確認しました");
    assert_eq!(detail.sites.len(), 1);
    assert_eq!(detail.terminals[0].hostname, "kencho-rep");
    let history = s.history("request", r1.id).await.expect("history");
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].action, "request.transition");
    assert!(
        history[0].details.contains("\"to\":\"confirmed\""),
        "{}",
        history[0].details
    );
    assert_eq!(history[4].action, "request.create");

    // Nothing moves a confirmed request.
    let after = s
        .transition_request(&staff, r1.id, &tr("return", "やり直し", ""))
        .await
        .expect_err("closed");
    assert!(matches!(
        after,
        StoreError::Domain(DomainError::Conflict(_))
    ));
    assert!(!STALE_MESSAGE.is_empty());
}

#[tokio::test]
async fn returned_then_resumed_and_withdrawn() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, staff2, se) = (a(&w.staff), a(&w.staff2), a(&w.se));
    let r = s
        .create_request_on(
            &staff,
            &request("定義更新", vec![], vec![w.biz.id]),
            d(2026, 6, 1),
        )
        .await
        .expect("file");
    for t in [
        tr("accept", "", "2026-06-03"),
        tr("start", "", ""),
        tr("complete", "更新しました", ""),
    ] {
        s.transition_request(&se, r.id, &t).await.expect("step");
    }
    let no_reason = s
        .transition_request(&staff2, r.id, &tr("return", " ", ""))
        .await
        .expect_err("reason required");
    assert!(messages(&no_reason).contains("差戻しの理由"));
    let back = s
        .transition_request(&staff2, r.id, &tr("return", "端末2台目が未更新です", ""))
        .await
        .expect("return");
    assert_eq!(back.status, "returned");
    assert!(back.completed_at.is_none());
    let resumed = s
        .transition_request(&se, r.id, &tr("start", "", ""))
        .await
        .expect("resume");
    assert_eq!(resumed.status, "in_progress");
    s.transition_request(&se, r.id, &tr("complete", "2台目も更新しました", ""))
        .await
        .expect("complete");
    let done = s
        .transition_request(&staff, r.id, &tr("confirm", "", ""))
        .await
        .expect("confirm");
    assert_eq!(done.status, "confirmed");
    assert_eq!(done.result, "2台目も更新しました");
    let actions: Vec<String> = s
        .request(r.id, d(2026, 6, 30))
        .await
        .expect("detail")
        .events
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "file", "accept", "start", "complete", "return", "start", "complete", "confirm"
        ]
    );

    // Withdrawal: only the requester or an administrator.
    let mine = s
        .create_request_on(
            &staff,
            &request("取下げ予定", vec![], vec![]),
            d(2026, 6, 2),
        )
        .await
        .expect("file");
    assert!(is_forbidden(
        &s.transition_request(&staff2, mine.id, &tr("withdraw", "", ""))
            .await
    ));
    assert!(is_forbidden(
        &s.transition_request(&se, mine.id, &tr("withdraw", "", ""))
            .await
    ));
    let gone = s
        .transition_request(&staff, mine.id, &tr("withdraw", "不要になりました", ""))
        .await
        .expect("withdraw");
    assert_eq!(gone.status, "withdrawn");
    let other = s
        .create_request_on(
            &staff2,
            &request("管理者が取下げ", vec![], vec![]),
            d(2026, 6, 2),
        )
        .await
        .expect("file");
    s.transition_request(&a(&w.admin), other.id, &tr("withdraw", "重複", ""))
        .await
        .expect("admin withdraws");
}

#[tokio::test]
async fn request_targets_are_checked() {
    let w = world().await;
    let s = &w.db.store;
    let staff = a(&w.staff);
    let today = d(2026, 5, 1);
    let elsewhere = s
        .create_request_on(
            &staff,
            &request("不整合", vec![w.kencho.id], vec![w.far.id]),
            today,
        )
        .await
        .expect_err("terminal at another site");
    assert!(messages(&elsewhere).contains("doboku-saga は選択した拠点に設置されていません"));
    let unknown = s
        .create_request_on(&staff, &request("不明端末", vec![], vec![9999]), today)
        .await
        .expect_err("unknown terminal");
    assert!(messages(&unknown).contains("端末が見つかりません"));
    assert_eq!(
        s.requests(&RequestQuery::default(), today)
            .await
            .expect("list")
            .total,
        0,
        "nothing saved"
    );
    // No sites chosen: the terminals' sites are added.
    let r = s
        .create_request_on(
            &staff,
            &request("自動", vec![], vec![w.far.id, w.rep.id]),
            today,
        )
        .await
        .expect("file");
    assert_eq!(r.number, "R8-0001", "refused requests used no number");
    let detail = s.request(r.id, today).await.expect("detail");
    let mut sites: Vec<i64> = detail.sites.iter().map(|s| s.id).collect();
    sites.sort_unstable();
    assert_eq!(sites, [w.kencho.id, w.doboku.id]);
    // A retired terminal cannot be named.
    let spare = s
        .create_terminal(
            &Actor::system("t"),
            &TerminalInput {
                site_id: Some(w.kencho.id),
                hostname: "kencho-old".into(),
                kind: "business".into(),
                ip_address: "10.0.0.9".into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal");
    s.retire_terminal(&Actor::system("t"), spare.id, "撤去")
        .await
        .expect("retire");
    let retired = s
        .create_request_on(&staff, &request("廃止端末", vec![], vec![spare.id]), today)
        .await
        .expect_err("retired");
    assert!(messages(&retired).contains("廃止されています"));
}

#[tokio::test]
async fn work_entries_and_their_rules() {
    let w = world().await;
    let s = &w.db.store;
    let se = a(&w.se);

    let e1 = s
        .create_work_entry(&se, &work(&w, "2026-05-12", "09:00", "10:30"))
        .await
        .expect("work");
    assert_eq!(e1.minutes, 90);
    assert_eq!(e1.hours, "1.5");
    assert_eq!(e1.clause, "1", "the representative terminal makes it ①");
    assert_eq!(e1.workers, "保守太郎");
    assert_eq!(e1.worker_ids, [w.se.id]);
    assert_eq!(e1.terminals, "kencho-rep");
    assert_eq!(e1.site_name.as_deref(), Some("県庁"));
    assert_eq!(e1.contract_number, "R8-情-001");
    // Touching ends are fine; business terminals only make it ②.
    let mut next = work(&w, "2026-05-12", "10:30", "11:00");
    next.terminal_ids = vec![w.biz.id];
    let e2 = s.create_work_entry(&se, &next).await.expect("touching");
    assert_eq!(e2.clause, "2");
    assert_eq!(e2.hours, "0.5");

    let count = || async {
        s.work_entries(&WorkQuery::default())
            .await
            .expect("list")
            .total
    };
    // Overlap refused, nothing saved.
    let overlap = s
        .create_work_entry(&se, &work(&w, "2026-05-12", "10:00", "11:00"))
        .await
        .expect_err("overlap");
    let m = messages(&overlap);
    assert!(
        m.contains("保守太郎さんの作業記録") && m.contains("時間が重なっています"),
        "{m}"
    );
    assert_eq!(count().await, 2);
    // Outside the contract term.
    let outside = s
        .create_work_entry(&se, &work(&w, "2027-04-01", "09:00", "10:00"))
        .await
        .expect_err("outside term");
    assert!(
        messages(&outside).contains("契約期間"),
        "{}",
        messages(&outside)
    );
    // A terminal at another site.
    let mut far = work(&w, "2026-05-13", "09:00", "10:00");
    far.terminal_ids = vec![w.far.id];
    let far = s
        .create_work_entry(&se, &far)
        .await
        .expect_err("other site");
    assert!(messages(&far).contains("doboku-saga は選択した拠点に設置されていません"));
    // A worker not assigned to the contract, and an SE not assigned logging work.
    let mut helper = work(&w, "2026-05-13", "09:00", "10:00");
    helper.worker_ids = vec![w.se.id, w.se2.id];
    let helper = s
        .create_work_entry(&se, &helper)
        .await
        .expect_err("not assigned");
    assert!(
        messages(&helper).contains("応援三郎さんはこの契約の担当者に登録されていない"),
        "{}",
        messages(&helper)
    );
    let by_outsider = s
        .create_work_entry(&a(&w.se2), &work(&w, "2026-05-13", "09:00", "10:00"))
        .await
        .expect_err("actor not assigned");
    assert!(messages(&by_outsider).contains("この契約の担当者に登録されていないため"));
    assert!(is_forbidden(
        &s.create_work_entry(&a(&w.staff), &work(&w, "2026-05-13", "09:00", "10:00"))
            .await
    ));
    let mut ghost = work(&w, "2026-05-13", "09:00", "10:00");
    ghost.request_id = Some(9999);
    let ghost = s
        .create_work_entry(&se, &ghost)
        .await
        .expect_err("no request");
    assert!(messages(&ghost).contains("支援要請が見つかりません"));
    assert_eq!(count().await, 2, "nothing saved");

    // Editing: its own old slot does not count; another entry's does.
    let shorter = s
        .update_work_entry(&se, e1.id, &work(&w, "2026-05-12", "09:00", "10:00"))
        .await
        .expect("edit");
    assert_eq!(shorter.minutes, 60);
    let clash = s
        .update_work_entry(&se, e1.id, &work(&w, "2026-05-12", "09:30", "10:45"))
        .await
        .expect_err("overlaps e2");
    assert!(messages(&clash).contains("時間が重なっています"));
    assert_eq!(s.work_entry(e1.id).await.expect("e1").end_time, "10:00");
    let history = s.history("work", e1.id).await.expect("history");
    assert_eq!(history[0].action, "work.update");
    assert!(
        history[0].details.contains("end_time"),
        "{}",
        history[0].details
    );
    assert!(!history[0].details.contains("description"), "only changes");

    // Assigning the helper to the contract lets him work (R12: access by assignment).
    s.update_contract(
        &a(&w.admin),
        w.contract.id,
        &contract_input("R8-情-001", vec![w.se.id, w.se2.id]),
    )
    .await
    .expect("assign");
    let mut both = work(&w, "2026-05-13", "13:00", "15:00");
    both.worker_ids = vec![w.se.id, w.se2.id];
    let both = s.create_work_entry(&a(&w.se2), &both).await.expect("both");
    assert_eq!(both.worker_ids.len(), 2);
    let mine = s
        .work_entries(&WorkQuery {
            worker_id: Some(w.se2.id),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(mine.total, 1);

    // Linked to a request.
    let r = s
        .create_request_on(
            &a(&w.staff),
            &request("紐付け", vec![], vec![w.rep.id]),
            d(2026, 5, 1),
        )
        .await
        .expect("file");
    let mut linked = work(&w, "2026-05-14", "09:00", "09:45");
    linked.request_id = Some(r.id);
    let linked = s.create_work_entry(&se, &linked).await.expect("linked");
    assert_eq!(linked.request_number.as_deref(), Some("R8-0001"));
    let detail = s.request(r.id, d(2026, 5, 1)).await.expect("detail");
    assert_eq!(detail.work.len(), 1);
    assert_eq!(detail.work[0].id, linked.id);
}

#[tokio::test]
async fn lists_workload_calendar_and_consultations() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se) = (a(&w.staff), a(&w.se));

    // Work in May and June of FY2026.
    s.create_work_entry(&se, &work(&w, "2026-05-12", "09:00", "10:30"))
        .await
        .expect("work");
    let mut remote = work(&w, "2026-05-20", "13:00", "14:00");
    remote.category = "remote_update".into();
    remote.mode = "remote".into();
    remote.terminal_ids = vec![w.biz.id];
    s.create_work_entry(&se, &remote).await.expect("work");
    s.create_work_entry(&se, &work(&w, "2026-06-01", "09:00", "09:30"))
        .await
        .expect("work");
    let by_category = s
        .hours_by_category_month(Some(w.contract.id), FiscalYear(2026))
        .await
        .expect("hours");
    let mm = |key: &str, year, month, minutes| MonthMinutes {
        key: key.into(),
        year,
        month,
        minutes,
    };
    assert_eq!(
        by_category,
        [
            mm("app_install", 2026, 5, 90),
            mm("remote_update", 2026, 5, 60),
            mm("app_install", 2026, 6, 30),
        ]
    );
    let by_clause = s
        .hours_by_clause_month(None, FiscalYear(2026))
        .await
        .expect("hours");
    assert_eq!(
        by_clause,
        [
            mm("1", 2026, 5, 90),
            mm("2", 2026, 5, 60),
            mm("1", 2026, 6, 30)
        ]
    );
    assert!(
        s.hours_by_category_month(None, FiscalYear(2025))
            .await
            .expect("hours")
            .is_empty()
    );
    let may = s
        .work_entries_all(&WorkQuery {
            from: Some("令和8年5月1日".into()),
            to: Some("2026-05-31".into()),
            ..Default::default()
        })
        .await
        .expect("all");
    assert_eq!(may.len(), 2);
    assert_eq!(may[0].work_date, "2026-05-12", "date order");
    let paged = s
        .work_entries(&WorkQuery {
            per_page: Some(2),
            page: Some(2),
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!((paged.total, paged.items.len(), paged.pages()), (3, 1, 2));
    assert_eq!(paged.items[0].work_date, "2026-05-12", "newest first");
    let per_terminal = s
        .work_entries_all(&WorkQuery {
            terminal_id: Some(w.biz.id),
            ..Default::default()
        })
        .await
        .expect("terminal");
    assert_eq!(per_terminal.len(), 1);

    // Requests: filters, counts by status, overdue.
    let open = s
        .create_request_on(
            &staff,
            &request("予定あり", vec![w.kencho.id], vec![]),
            d(2026, 5, 1),
        )
        .await
        .expect("file");
    s.transition_request(&se, open.id, &tr("accept", "", "2026-05-20"))
        .await
        .expect("accept");
    let mut late = request("希望日超過", vec![w.doboku.id], vec![]);
    late.wished_date = "2026-05-10".into();
    late.category = "technical_support".into();
    let late = s
        .create_request_on(&staff, &late, d(2026, 5, 2))
        .await
        .expect("file");
    let closed = s
        .create_request_on(&staff, &request("取下げ", vec![], vec![]), d(2026, 5, 3))
        .await
        .expect("file");
    s.transition_request(&staff, closed.id, &tr("withdraw", "", ""))
        .await
        .expect("withdraw");
    let today = d(2026, 5, 15);
    let all = s
        .requests(&RequestQuery::default(), today)
        .await
        .expect("list");
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].id, closed.id, "newest first");
    let flags: Vec<(i64, bool)> = all.items.iter().map(|r| (r.id, r.overdue)).collect();
    assert_eq!(
        flags,
        [(closed.id, false), (late.id, true), (open.id, false)]
    );
    let overdue = s
        .requests(
            &RequestQuery {
                overdue_only: Some(true),
                ..Default::default()
            },
            d(2026, 5, 21),
        )
        .await
        .expect("overdue");
    assert_eq!(
        overdue.total, 2,
        "planned 05-20 and wished 05-10 are both past on 05-21"
    );
    let q = RequestQuery {
        open_only: Some(true),
        ..Default::default()
    };
    assert_eq!(s.requests(&q, today).await.expect("open").total, 2);
    let counts = s.request_counts(&q, today).await.expect("counts");
    let count = |st: &str| counts.iter().find(|(c, _)| c == st).map(|(_, n)| *n);
    assert_eq!(counts.len(), 7);
    assert_eq!(count("requested"), Some(1));
    assert_eq!(count("accepted"), Some(1));
    assert_eq!(count("withdrawn"), Some(1));
    assert_eq!(count("confirmed"), Some(0));
    let by_site = s
        .requests(
            &RequestQuery {
                site_id: Some(w.doboku.id),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("site");
    assert_eq!(by_site.total, 1);
    assert_eq!(by_site.items[0].sites, "佐賀土木事務所");
    let search = s
        .requests(
            &RequestQuery {
                q: Some("超過".into()),
                category: Some("technical_support".into()),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("search");
    assert_eq!(search.total, 1);
    let ranged = s
        .requests(
            &RequestQuery {
                from: Some("2026-05-02".into()),
                to: Some("2026-05-03".into()),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("range");
    assert_eq!(ranged.total, 2);
    let mine = s.my_open_requests(w.se.id, today).await.expect("mine");
    assert_eq!(mine.iter().map(|r| r.id).collect::<Vec<_>>(), [open.id]);
    let filed = s.my_open_requests(w.staff.id, today).await.expect("mine");
    assert_eq!(filed.len(), 2);

    // The calendar: planned work and done work.
    let cal = s
        .work_calendar(d(2026, 5, 1), d(2026, 5, 31))
        .await
        .expect("calendar");
    let items: Vec<(&str, &str, &str)> = cal
        .iter()
        .map(|c| (c.date.as_str(), c.kind.as_str(), c.link_kind.as_str()))
        .collect();
    assert_eq!(
        items,
        [
            ("2026-05-12", "done", "work"),
            ("2026-05-20", "planned", "request"),
            ("2026-05-20", "done", "work"),
        ]
    );
    assert_eq!(cal[1].worker, "保守太郎");
    assert_eq!(cal[1].site, "県庁");
    assert!(cal[1].title.starts_with("R8-0001 "));

    // Consultations linked to requests (R18).
    let input = ConsultationInput {
        contract_id: Some(w.contract.id),
        held_on: "令和8年5月18日".into(),
        participants: "県 情報課 花子、受託者 保守".into(),
        topic: "希望日の調整".into(),
        agreed: "5月22日に実施する。".into(),
        request_ids: vec![late.id],
    };
    assert!(is_forbidden(
        &s.create_consultation(&a(&w.auditor), &input).await
    ));
    let mut bad = input.clone();
    bad.request_ids = vec![9999];
    assert!(
        messages(
            &s.create_consultation(&staff, &bad)
                .await
                .expect_err("no request")
        )
        .contains("見つかりません")
    );
    let c = s
        .create_consultation(&staff, &input)
        .await
        .expect("consult");
    assert_eq!(c.held_on, "2026-05-18");
    assert_eq!(c.requests[0].number, late.number);
    let listed = s
        .consultations(
            Some(w.contract.id),
            Some(d(2026, 5, 1)),
            Some(d(2026, 5, 31)),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(
        s.consultations(None, Some(d(2026, 6, 1)), None)
            .await
            .expect("list")
            .is_empty()
    );
    let detail = s.request(late.id, today).await.expect("detail");
    assert_eq!(detail.consultations.len(), 1);
    assert_eq!(detail.consultations[0].id, c.id);
}

#[tokio::test]
async fn contracts_and_their_rules() {
    let w = world().await;
    let s = &w.db.store;
    let admin = a(&w.admin);
    assert_eq!(w.contract.staff_ids(), [w.se.id]);
    assert_eq!(w.contract.term_start, "2026-04-01");
    assert_eq!(w.contract.staff[0].display_name, "保守太郎");
    let dup = s
        .create_contract(&admin, &contract_input("R8-情-001", vec![]))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(dup, StoreError::Domain(DomainError::Conflict(ref m)) if m.contains("契約番号「R8-情-001」は既に登録されています")),
        "{dup:?}"
    );
    assert!(is_forbidden(
        &s.create_contract(&a(&w.se), &contract_input("X-1", vec![]))
            .await
    ));
    let ghost = s
        .create_contract(&admin, &contract_input("X-2", vec![9999]))
        .await
        .expect_err("unknown staff");
    assert!(messages(&ghost).contains("利用者が見つからない"));
    assert_eq!(s.contracts().await.expect("list").len(), 1);
    assert_eq!(
        s.contract_on(d(2026, 10, 1))
            .await
            .expect("on")
            .map(|c| c.id),
        Some(w.contract.id)
    );
    assert!(s.contract_on(d(2027, 4, 1)).await.expect("on").is_none());

    // A term that would leave work outside it is refused.
    s.create_work_entry(&a(&w.se), &work(&w, "2026-04-10", "09:00", "10:00"))
        .await
        .expect("work");
    let mut shorter = contract_input("R8-情-001", vec![w.se.id]);
    shorter.term_start = "2026-05-01".into();
    let refused = s
        .update_contract(&admin, w.contract.id, &shorter)
        .await
        .expect_err("work outside");
    assert!(
        matches!(refused, StoreError::Domain(DomainError::Conflict(ref m)) if m.contains("1件"))
    );
    let mut renamed = contract_input("R8-情-001", vec![w.se.id]);
    renamed.manager = "応援三郎".into();
    let c = s
        .update_contract(&admin, w.contract.id, &renamed)
        .await
        .expect("update");
    assert_eq!(c.manager, "応援三郎");
    let history = s.history("contract", c.id).await.expect("history");
    assert_eq!(history[0].action, "contract.update");
    assert!(history[0].details.contains("manager") && !history[0].details.contains("contractor"));
}

#[tokio::test]
async fn attachments_are_sniffed_hashed_and_audited() {
    let w = world().await;
    let s = &w.db.store;
    let staff = a(&w.staff);
    let r = s
        .create_request_on(&staff, &request("証跡", vec![], vec![]), d(2026, 5, 1))
        .await
        .expect("file");

    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    let meta = s
        .add_attachment(&staff, "request", r.id, "画面写し.png", &png)
        .await
        .expect("png");
    assert_eq!(meta.content_type, "image/png");
    assert_eq!(meta.filename, "画面写し.png");
    assert_eq!(meta.size, png.len() as i64);
    assert_eq!(meta.sha256, hex::encode(Sha256::digest(&png)));
    assert_eq!(meta.uploaded_by, "staff");

    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    let refused = s
        .add_attachment(&staff, "request", r.id, "report.pdf", &exe)
        .await
        .expect_err("exe");
    assert_eq!(messages(&refused), UNSUPPORTED_TYPE_MESSAGE);
    assert_eq!(
        UNSUPPORTED_TYPE_MESSAGE,
        "このファイル形式は添付できません（PNG・JPEG・GIF・PDF・テキストのみ）。"
    );

    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let disguised = s
        .add_attachment(&staff, "request", r.id, "evidence.png", &pdf)
        .await
        .expect("pdf");
    assert_eq!(
        disguised.content_type, "application/pdf",
        "the bytes decide"
    );

    // CP932 log with a path in its name.
    let log = b"2026/05/12 09:00 \x90\xb3\x8f\xed\x8fI\x97\xb9\r\n".to_vec();
    let text = s
        .add_attachment(&a(&w.se), "request", r.id, "..\\..\\作業ログ.txt", &log)
        .await
        .expect("text");
    assert_eq!(text.content_type, "text/plain");
    assert_eq!(text.filename, "作業ログ.txt");

    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let too_big = s
        .add_attachment(&staff, "request", r.id, "big.txt", &big)
        .await
        .expect_err("too big");
    assert!(messages(&too_big).contains("10MB"));
    assert!(is_forbidden(
        &s.add_attachment(&a(&w.auditor), "request", r.id, "a.png", &png)
            .await
    ));
    assert!(matches!(
        s.add_attachment(&staff, "request", 9999, "a.png", &png)
            .await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    assert!(
        s.add_attachment(&staff, "incident", r.id, "a.png", &png)
            .await
            .is_err()
    );

    // Work entries take evidence too.
    let e = s
        .create_work_entry(&a(&w.se), &work(&w, "2026-05-12", "09:00", "10:00"))
        .await
        .expect("work");
    s.add_attachment(&a(&w.se), "work", e.id, "完了画面.png", &png)
        .await
        .expect("work png");
    assert_eq!(s.attachments_of("work", e.id).await.expect("list").len(), 1);
    let listed = s.attachments_of("request", r.id).await.expect("list");
    assert_eq!(listed.len(), 3);
    assert_eq!(
        s.request(r.id, d(2026, 5, 1))
            .await
            .expect("detail")
            .attachments
            .len(),
        3
    );

    // Downloads are audited (R12), also for the auditor.
    let (m, bytes) = s
        .attachment(&a(&w.auditor), meta.id)
        .await
        .expect("download");
    assert_eq!(bytes, png);
    assert_eq!(m.id, meta.id);
    let log = s
        .audit_log(&AuditQuery {
            action: Some("attachment.download".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].actor, "audit");
    assert_eq!(log.items[0].entity_id, meta.id.to_string());
    assert!(log.items[0].details.contains(&meta.sha256));
    let adds = s
        .audit_log(&AuditQuery {
            action: Some("attachment.add".into()),
            ..Default::default()
        })
        .await
        .expect("log");
    assert_eq!(adds.total, 4);
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_cannot_both_win() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se) = (a(&w.staff), a(&w.se));
    s.update_contract(
        &a(&w.admin),
        w.contract.id,
        &contract_input("R8-情-001", vec![w.se.id, w.se2.id]),
    )
    .await
    .expect("assign");
    let se2 = a(&w.se2);

    for round in 0..5 {
        // Two overlapping entries for the same worker at once: exactly one is saved.
        let date = format!("2026-07-{:02}", round + 1);
        let first = work(&w, &date, "09:00", "10:00");
        let mut second = work(&w, &date, "09:30", "10:30");
        second.terminal_ids = vec![w.biz.id];
        let (x, y) = tokio::join!(
            s.create_work_entry(&se, &first),
            s.create_work_entry(&se2, &second)
        );
        assert_eq!(
            usize::from(x.is_ok()) + usize::from(y.is_ok()),
            1,
            "round {round}: {x:?} {y:?}"
        );
        let loser = x.err().or(y.err()).expect("one refused");
        assert!(messages(&loser).contains("時間が重なっています"));

        // Two SEs accepting one request at once: exactly one becomes the assignee.
        let r = s
            .create_request_on(&staff, &request("同時受付", vec![], vec![]), d(2026, 7, 1))
            .await
            .expect("file");
        let (t1, t2) = (
            tr("accept", "", "2026-07-10"),
            tr("accept", "", "2026-07-11"),
        );
        let (x, y) = tokio::join!(
            s.transition_request(&se, r.id, &t1),
            s.transition_request(&se2, r.id, &t2)
        );
        assert_eq!(
            usize::from(x.is_ok()) + usize::from(y.is_ok()),
            1,
            "round {round}: {x:?} {y:?}"
        );
        let loser = x.as_ref().err().or(y.as_ref().err()).expect("one refused");
        assert!(
            matches!(loser, StoreError::Domain(DomainError::Conflict(_))),
            "{loser:?}"
        );
        let events = s.request(r.id, d(2026, 7, 1)).await.expect("detail").events;
        assert_eq!(events.len(), 2, "one timeline row for the winner");
    }
    assert_eq!(
        s.work_entries(&WorkQuery::default())
            .await
            .expect("list")
            .total,
        5
    );

    // Requests filed at once get distinct consecutive numbers.
    let files = (0..6).map(|i| {
        let staff = staff.clone();
        async move {
            s.create_request_on(
                &staff,
                &request(&format!("同時{i}"), vec![], vec![]),
                d(2026, 8, 1),
            )
            .await
            .expect("file")
            .number
        }
    });
    let mut numbers = futures_join_all(files).await;
    numbers.sort();
    let expected: Vec<String> = (6..12).map(|n| format!("R8-{n:04}")).collect();
    assert_eq!(numbers, expected);
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}

/// Runs the futures concurrently (spawned on the runtime would need `'static`; joining in place is enough to
/// interleave their database round trips).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn a_clause_set_by_the_se_is_kept_and_a_suggested_one_follows_the_edit() {
    let w = world().await;
    let s = &w.db.store;
    let se = a(&w.se);

    // Suggested: an install on the representative terminal is ①.
    let mut input = work(&w, "2026-05-13", "09:00", "10:00");
    let e = s.create_work_entry(&se, &input).await.expect("work");
    assert_eq!((e.clause.as_str(), e.clause_set), ("1", false));
    // Edited to a business terminal: suggested again, now ②.
    input.terminal_ids = vec![w.biz.id];
    let e = s.update_work_entry(&se, e.id, &input).await.expect("edit");
    assert_eq!((e.clause.as_str(), e.clause_set), ("2", false));
    // Set by the SE to ③: kept whatever the terminals say.
    input.clause = "3".into();
    input.terminal_ids = vec![w.rep.id];
    let e = s.update_work_entry(&se, e.id, &input).await.expect("set");
    assert_eq!((e.clause.as_str(), e.clause_set), ("3", true));
    // A clause outside ①–⑤ is refused naming the field, and nothing changes.
    input.clause = "6".into();
    let err = s
        .update_work_entry(&se, e.id, &input)
        .await
        .expect_err("refused");
    assert!(
        messages(&err).contains("区分は①～⑤から選択してください"),
        "{err:?}"
    );
    let kept = s.work_entry(e.id).await.expect("entry");
    assert_eq!((kept.clause.as_str(), kept.clause_set), ("3", true));
    // The audit trail says what changed.
    let history = s.history("work", e.id).await.expect("history");
    assert_eq!(history.len(), 3, "create and two edits: {history:?}");
}
