//! The monthly work record's submissions in the store, on whichever backend `TEST_DATABASE_URL` names:
//! submitting freezes the bytes and their SHA-256 (the database itself refuses any later change), the
//! prefecture confirms or sends back, a returned month takes a new version while the old one stays, a
//! change to the month's data after submission is visible against the kept source rows, and who may do
//! what. The documents themselves are made and checked in `unyo-documents`.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use sqlx::Connection;
use unyo_domain::records::{
    ChangeKind, Month, RecordStatus, ReturnInput, SourceKind, SourceRow, compare_sources,
};
use unyo_domain::registry::SiteInput;
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_domain::{DomainError, Role};
use unyo_store::records::{MonthlyRecord, RecordFile, StepConfirmation, Submission};
use unyo_store::support::{Contract, WorkQuery, WorkRow};
use unyo_store::testing::{TestDb, test_store};
use unyo_store::users::User;
use unyo_store::{Actor, StoreError};

struct World {
    db: TestDb,
    admin: User,
    staff: User,
    se: User,
    outsider: User,
    auditor: User,
    contract: Contract,
    site: i64,
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).expect("date")
}

fn a(u: &User) -> Actor {
    u.actor("127.0.0.1")
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Confirms the step that awaits, freezing stand-in files for it (the documents crate renders real ones).
async fn confirm(
    s: &unyo_store::Store,
    who: &User,
    id: i64,
    on: NaiveDate,
) -> Result<MonthlyRecord, StoreError> {
    let r = s.monthly_record(id).await?;
    let step = r.next_step().map_or(1, |(n, _)| n as i64);
    let pdf = pdf(&format!("v{} step {step}", r.current_version + 1));
    let xlsx = xlsx(&format!("v{} step {step}", r.current_version + 1));
    s.confirm_monthly_record_step(
        &a(who),
        &StepConfirmation {
            record_id: id,
            step,
            version: r.current_version + 1,
            on,
            pdf: &pdf,
            xlsx: &xlsx,
            model: "{}",
        },
    )
    .await
}

fn may() -> Month {
    Month::new(2026, 5).expect("month")
}

async fn world() -> World {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let mut users = Vec::new();
    for (name, display, role) in [
        ("admin", "県管理者", Role::Admin),
        ("staff", "県職員花子", Role::Staff),
        ("se", "保守太郎", Role::Se),
        ("outsider", "他契約の技術者", Role::Se),
        ("audit", "監査人", Role::Auditor),
    ] {
        users.push(
            s.create_user(&sys, name, display, role, "correct-horse-battery")
                .await
                .expect("user"),
        );
    }
    let [admin, staff, se, outsider, auditor]: [User; 5] = users.try_into().expect("five");
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
        .expect("site")
        .id;
    let contract = s
        .create_contract(
            &sys,
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "2026-04-01".into(),
                term_end: "2027-03-31".into(),
                contractor: "株式会社サンプル".into(),
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
        outsider,
        auditor,
        contract,
        site,
    }
}

/// Source rows as a document would keep them: one per work entry with the fields it shows.
fn sources(work: &[WorkRow]) -> Vec<SourceRow> {
    work.iter()
        .map(|w| {
            let fields = vec![
                ("日付".to_string(), w.work_date.clone()),
                (
                    "時間".to_string(),
                    format!("{}～{}", w.start_time, w.end_time),
                ),
                ("内容".to_string(), w.description.clone()),
            ];
            SourceRow {
                kind: SourceKind::Work.code().into(),
                id: w.id,
                label: w.description.clone(),
                updated_at: w.updated_at.clone(),
                digest: sha(format!("{fields:?}").as_bytes()),
                fields,
            }
        })
        .collect()
}

async fn may_work(w: &World) -> Vec<WorkRow> {
    w.db.store
        .work_entries_all(&WorkQuery {
            contract_id: Some(w.contract.id),
            from: Some("2026-05-01".into()),
            to: Some("2026-05-31".into()),
            ..Default::default()
        })
        .await
        .expect("work")
}

fn entry(w: &World, date: &str, start: &str, end: &str, what: &str) -> WorkInput {
    WorkInput {
        contract_id: Some(w.contract.id),
        work_date: date.into(),
        start_time: start.into(),
        end_time: end.into(),
        worker_ids: vec![w.se.id],
        mode: "onsite".into(),
        site_id: Some(w.site),
        category: "technical_support".into(),
        description: what.into(),
        result: "完了".into(),
        ..Default::default()
    }
}

fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% unyo test {tag}\n%%EOF\n").into_bytes()
}

fn xlsx(tag: &str) -> Vec<u8> {
    format!("PK\u{3}\u{4} unyo test {tag}").into_bytes()
}

fn forbidden(e: &StoreError) -> bool {
    matches!(e, StoreError::Domain(DomainError::Forbidden))
}

fn conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Domain(DomainError::Conflict(_)))
}

#[tokio::test]
async fn submission_freezes_and_the_prefecture_decides() {
    let w = world().await;
    let s = &w.db.store;
    s.create_work_entry(
        &a(&w.se),
        &entry(&w, "2026-05-12", "09:00", "10:30", "定期点検"),
    )
    .await
    .expect("work");
    s.create_work_entry(
        &a(&w.se),
        &entry(&w, "2026-05-20", "13:00", "14:00", "端末設定の確認"),
    )
    .await
    .expect("work");
    let work = may_work(&w).await;
    let rows = sources(&work);
    let (p1, x1) = (pdf("v1"), xlsx("v1"));
    let sub =
        |version: i64, p: &'static [u8], x: &'static [u8], rows: &'static [SourceRow]| Submission {
            contract_id: w.contract.id,
            month: may(),
            version,
            submitted_on: d(6, 10),
            pdf: p,
            xlsx: x,
            sources: rows,
            model: "",
        };
    let p1: &'static [u8] = Box::leak(p1.into_boxed_slice());
    let x1: &'static [u8] = Box::leak(x1.into_boxed_slice());
    let rows: &'static [SourceRow] = Box::leak(rows.into_boxed_slice());

    // Who may submit: the SE on the contract's staff (and the administrator); nobody else.
    for who in [&w.staff, &w.auditor, &w.outsider] {
        let e = s
            .submit_monthly_record(&a(who), &sub(1, p1, x1, rows))
            .await
            .expect_err("refused");
        assert!(forbidden(&e), "{}: {e}", who.username);
    }
    // The version must be the month's next one.
    let e = s
        .submit_monthly_record(&a(&w.se), &sub(2, p1, x1, rows))
        .await
        .expect_err("stale");
    assert!(conflict(&e), "{e}");
    assert_eq!(
        s.next_record_version(w.contract.id, may()).await.unwrap(),
        1
    );

    let rec = s
        .submit_monthly_record(&a(&w.se), &sub(1, p1, x1, rows))
        .await
        .expect("submit");
    assert_eq!(rec.status(), RecordStatus::Submitted);
    assert_eq!((rec.year, rec.month, rec.current_version), (2026, 5, 1));
    let v1 = rec.latest().expect("v1").clone();
    assert_eq!(v1.pdf_sha256, sha(p1));
    assert_eq!(v1.xlsx_sha256, sha(x1));
    assert_eq!(v1.pdf_size, p1.len() as i64);
    assert_eq!(v1.submitted_by_name, "保守太郎");
    assert_eq!(v1.submitted_on, "2026-06-10");
    assert_eq!(v1.outcome, "submitted");
    assert_eq!(
        s.monthly_record_of(w.contract.id, may())
            .await
            .unwrap()
            .map(|r| r.id),
        Some(rec.id)
    );
    // Awaiting the prefecture: no second submission.
    let e = s
        .submit_monthly_record(&a(&w.se), &sub(2, p1, x1, rows))
        .await
        .expect_err("awaiting");
    assert!(conflict(&e), "{e}");

    // The frozen files come back byte for byte, for every role, audited.
    for who in [&w.se, &w.staff, &w.auditor, &w.admin] {
        let (meta, bytes) = s
            .record_file(&a(who), rec.id, 1, RecordFile::Pdf)
            .await
            .expect("pdf");
        assert_eq!(bytes, p1);
        assert_eq!(meta.pdf_sha256, sha(&bytes));
    }
    let (_, bytes) = s
        .record_file(&a(&w.auditor), rec.id, 1, RecordFile::Xlsx)
        .await
        .expect("xlsx");
    assert_eq!(bytes, x1);
    assert_eq!(s.record_sources(rec.id, 1).await.unwrap(), rows);

    // A May entry changes after submission: the kept rows tell what, the files stay as they were.
    let first = &work[0];
    let mut changed = entry(
        &w,
        "2026-05-12",
        "09:00",
        "11:00",
        "定期点検（ログ確認を追加）",
    );
    changed.result = "完了".into();
    s.update_work_entry(&a(&w.se), first.id, &changed)
        .await
        .expect("edit");
    let now = sources(&may_work(&w).await);
    let changes = compare_sources(&s.record_sources(rec.id, 1).await.unwrap(), &now);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].change, ChangeKind::Changed);
    assert_eq!(changes[0].id, first.id);
    let fields: Vec<&str> = changes[0].fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["時間", "内容"]);
    assert_eq!(changes[0].fields[0].before, "09:00～10:30");
    assert_eq!(changes[0].fields[0].after, "09:00～11:00");
    let (_, bytes) = s
        .record_file(&a(&w.staff), rec.id, 1, RecordFile::Pdf)
        .await
        .unwrap();
    assert_eq!(bytes, p1, "the frozen file never changes");

    // 差戻し: the prefecture only, with a reason.
    let reason = ReturnInput {
        reason: "5月12日の作業時間を確認してください。".into(),
    };
    for who in [&w.se, &w.auditor] {
        let e = s
            .return_monthly_record(&a(who), rec.id, &reason, d(6, 12))
            .await
            .expect_err("refused");
        assert!(forbidden(&e), "{e}");
    }
    assert!(
        s.return_monthly_record(&a(&w.staff), rec.id, &ReturnInput::default(), d(6, 12))
            .await
            .is_err()
    );
    let returned = s
        .return_monthly_record(&a(&w.staff), rec.id, &reason, d(6, 12))
        .await
        .expect("return");
    assert_eq!(returned.status(), RecordStatus::Returned);
    let v = &returned.versions[0];
    assert_eq!(v.outcome, "returned");
    assert_eq!(v.reason, reason.reason);
    assert_eq!(v.decided_on.as_deref(), Some("2026-06-12"));
    assert_eq!(v.decided_by_name.as_deref(), Some("県職員花子"));
    assert!(
        confirm(s, &w.staff, rec.id, d(6, 12)).await.is_err(),
        "nothing awaits"
    );

    // 第2版.
    let rows2: &'static [SourceRow] = Box::leak(now.into_boxed_slice());
    let p2: &'static [u8] = Box::leak(pdf("v2").into_boxed_slice());
    let x2: &'static [u8] = Box::leak(xlsx("v2").into_boxed_slice());
    assert_eq!(
        s.next_record_version(w.contract.id, may()).await.unwrap(),
        2
    );
    let rec2 = s
        .submit_monthly_record(&a(&w.se), &sub(2, p2, x2, rows2))
        .await
        .expect("v2");
    assert_eq!(rec2.id, rec.id);
    assert_eq!(rec2.status(), RecordStatus::Submitted);
    assert_eq!(rec2.versions.len(), 2);
    assert_eq!(rec2.versions[1].pdf_sha256, sha(p2));
    let (_, old) = s
        .record_file(&a(&w.staff), rec.id, 1, RecordFile::Pdf)
        .await
        .unwrap();
    assert_eq!(old, p1, "version 1 is kept");
    assert!(compare_sources(&s.record_sources(rec.id, 2).await.unwrap(), rows2).is_empty());

    // 確認: the prefecture only; final afterwards.
    let e = confirm(s, &w.se, rec.id, d(6, 16))
        .await
        .expect_err("refused");
    assert!(forbidden(&e));
    let done = confirm(s, &w.staff, rec.id, d(6, 16))
        .await
        .expect("confirm");
    assert_eq!(done.status(), RecordStatus::Confirmed);
    let c = done.confirmed().expect("confirmed version");
    // The confirmation froze 第3版 (the one-column route's column filled); 第2版 stays as submitted.
    assert_eq!(c.version, 3);
    assert_eq!(done.version_label(c), "第3版（確認済）");
    assert_eq!(c.stage, 1);
    assert_eq!(c.submitted_on, "2026-06-10");
    assert_eq!(done.versions[1].outcome, "confirmed");
    assert_eq!(done.confirmations().len(), 1);
    assert_eq!(done.confirmations()[0].label, "確認者（県）");
    assert_eq!(c.decided_on.as_deref(), Some("2026-06-16"));
    assert_eq!(c.decided_by.as_deref(), Some("staff"));
    for e in [
        confirm(s, &w.staff, rec.id, d(6, 17))
            .await
            .expect_err("final"),
        s.return_monthly_record(&a(&w.staff), rec.id, &reason, d(6, 17))
            .await
            .expect_err("final"),
        s.submit_monthly_record(&a(&w.se), &sub(3, p2, x2, rows2))
            .await
            .expect_err("final"),
    ] {
        assert!(conflict(&e), "{e}");
    }
    let listed = s
        .monthly_records(
            Some(w.contract.id),
            Some(unyo_domain::wareki::FiscalYear(2026)),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].versions.len(), 3);
    assert!(
        s.monthly_records(None, Some(unyo_domain::wareki::FiscalYear(2025)))
            .await
            .unwrap()
            .is_empty()
    );

    // The audit log has it all, with the digests.
    let log = s
        .audit_export(&unyo_store::audit::AuditQuery {
            entity: Some("monthly_record".into()),
            entity_id: Some(rec.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "record.submit").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "record.return").count(), 1);
    assert_eq!(
        actions.iter().filter(|a| **a == "record.confirm").count(),
        1
    );
    assert!(actions.iter().filter(|a| **a == "record.download").count() >= 7);
    assert!(log[0].details.contains(&sha(p1)));
    assert!(matches!(
        s.verify_audit_chain().await.unwrap(),
        unyo_store::audit::ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn the_database_refuses_to_change_a_submission() {
    let w = world().await;
    let s = &w.db.store;
    let p = pdf("frozen");
    let x = xlsx("frozen");
    let rec = s
        .submit_monthly_record(
            &a(&w.se),
            &Submission {
                contract_id: w.contract.id,
                month: may(),
                version: 1,
                submitted_on: d(6, 10),
                pdf: &p,
                xlsx: &x,
                sources: &[],
                model: "",
            },
        )
        .await
        .expect("submit");
    let tamper = [
        "UPDATE monthly_record_versions SET pdf_sha256 = 'x'",
        "UPDATE monthly_record_versions SET sources = '[]', sources_sha256 = 'x'",
        "UPDATE monthly_record_versions SET submitted_on = '2026-06-01'",
        "DELETE FROM monthly_record_versions",
        "DELETE FROM monthly_records",
    ];
    let run = |sql: &'static str| {
        let url = w.db.url.clone();
        async move {
            if url.starts_with("postgres") {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                sqlx::query(sql).execute(&mut c).await.map(|_| ())
            } else {
                let mut c = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query(sql).execute(&mut c).await.map(|_| ())
            }
        }
    };
    for sql in tamper {
        assert!(run(sql).await.is_err(), "the database allowed: {sql}");
    }
    // Tampering with the bytes themselves is refused too.
    assert!(
        run("UPDATE monthly_record_versions SET pdf = xlsx")
            .await
            .is_err()
    );
    let (_, bytes) = s
        .record_file(&a(&w.staff), rec.id, 1, RecordFile::Pdf)
        .await
        .expect("still there");
    assert_eq!(bytes, p);
    // A decision is written once.
    confirm(s, &w.staff, rec.id, d(6, 11))
        .await
        .expect("confirm");
    for sql in [
        "UPDATE monthly_record_versions SET reason = 'later'",
        "UPDATE monthly_record_versions SET stage = 5",
        "UPDATE monthly_record_versions SET model = '{}'",
        "UPDATE monthly_record_approvals SET reason = 'later'",
        "DELETE FROM monthly_record_approvals",
    ] {
        assert!(run(sql).await.is_err(), "the database allowed: {sql}");
    }
}

#[tokio::test]
async fn rules_around_a_submission() {
    let w = world().await;
    let s = &w.db.store;
    let p = pdf("x");
    let x = xlsx("x");
    let sub = |month: Month| Submission {
        contract_id: w.contract.id,
        month,
        version: 1,
        submitted_on: d(6, 10),
        pdf: &p,
        xlsx: &x,
        sources: &[],
        model: "",
    };
    // Outside the contract's term.
    let e = s
        .submit_monthly_record(&a(&w.se), &sub(Month::new(2026, 3).unwrap()))
        .await
        .expect_err("outside");
    assert!(
        matches!(e, StoreError::Domain(DomainError::Validation(_))),
        "{e}"
    );
    // Nobody decides on their own submission (the administrator may do both, but not on one record).
    let rec = s
        .submit_monthly_record(&a(&w.admin), &sub(Month::new(2026, 4).unwrap()))
        .await
        .expect("admin submits");
    let e = confirm(s, &w.admin, rec.id, d(5, 11))
        .await
        .expect_err("own");
    assert!(conflict(&e), "{e}");
    confirm(s, &w.staff, rec.id, d(5, 11))
        .await
        .expect("staff confirms");
    // Unknown records.
    assert!(matches!(
        s.monthly_record(999).await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    assert!(
        s.record_file(&a(&w.se), rec.id, 9, RecordFile::Pdf)
            .await
            .is_err()
    );

    // The addressee: a default, changed by the administrator only, audited.
    assert_eq!(
        s.record_addressee().await.unwrap(),
        unyo_store::records::DEFAULT_ADDRESSEE
    );
    assert!(forbidden(
        &s.set_record_addressee(&a(&w.se), "佐賀県 地域交流部 市町村課長　様")
            .await
            .expect_err("se")
    ));
    assert!(s.set_record_addressee(&a(&w.admin), "").await.is_err());
    s.set_record_addressee(&a(&w.admin), "佐賀県 地域交流部 市町村課長　様")
        .await
        .expect("admin");
    assert_eq!(
        s.record_addressee().await.unwrap(),
        "佐賀県 地域交流部 市町村課長　様"
    );
}

#[tokio::test]
async fn figures_for_the_documents() {
    let w = world().await;
    let s = &w.db.store;
    for (date, start, end) in [
        ("2026-05-12", "09:00", "10:30"),
        ("2026-05-13", "09:00", "09:45"),
        ("2026-06-01", "13:00", "14:00"),
    ] {
        s.create_work_entry(&a(&w.se), &entry(&w, date, start, end, "点検"))
            .await
            .expect("work");
    }
    let fy = unyo_domain::wareki::FiscalYear(2026);
    let figures = s
        .work_figures(Some(w.contract.id), fy.start(), fy.end())
        .await
        .unwrap();
    let may: Vec<_> = figures.iter().filter(|f| f.month == 5).collect();
    assert_eq!(may.len(), 1);
    assert_eq!(
        (may[0].count, may[0].minutes, may[0].clause.as_str()),
        (2, 135, "3")
    );
    assert_eq!(figures.iter().map(|f| f.count).sum::<i64>(), 3);

    // Security events by JST month: a login now counts in this JST month.
    s.record_login(&w.staff, "127.0.0.1", "password")
        .await
        .expect("login");
    let today = unyo_store::support::jst_today();
    let events = s
        .audit_figures(today, today, &["login.success"], &["user."])
        .await
        .unwrap();
    let logins: i64 = events
        .iter()
        .filter(|e| e.action == "login.success")
        .map(|e| e.count)
        .sum();
    assert_eq!(logins, 1);
    assert!(
        events
            .iter()
            .any(|e| e.action == "user.create" && e.count == 5)
    );
    assert!(events.iter().all(|e| {
        (e.year, e.month)
            == (
                chrono::Datelike::year(&today),
                chrono::Datelike::month(&today),
            )
    }));
    assert!(
        s.campaign_activity(fy.start(), fy.end())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Confirms step `step` of the record as `who`, with stand-in files for version `version`.
async fn confirm_step(
    s: &unyo_store::Store,
    who: &User,
    id: i64,
    step: i64,
    version: i64,
    on: NaiveDate,
) -> Result<MonthlyRecord, StoreError> {
    let pdf = pdf(&format!("v{version}"));
    let xlsx = xlsx(&format!("v{version}"));
    s.confirm_monthly_record_step(
        &a(who),
        &StepConfirmation {
            record_id: id,
            step,
            version,
            on,
            pdf: &pdf,
            xlsx: &xlsx,
            model: "{\"title\":\"業務実績簿\"}",
        },
    )
    .await
}

#[tokio::test]
async fn confirmation_along_the_contracts_route() {
    use unyo_domain::records::RouteStep;
    let w = world().await;
    let s = &w.db.store;
    let sys = Actor::system("test");
    let kakaricho = s
        .create_user(
            &sys,
            "kakaricho",
            "係長 佐賀",
            Role::Staff,
            "correct-horse-battery",
        )
        .await
        .expect("user");
    let kacho = s
        .create_user(
            &sys,
            "kacho",
            "課長 唐津",
            Role::Staff,
            "correct-horse-battery",
        )
        .await
        .expect("user");
    // The default route: one column.
    assert_eq!(
        s.approval_route(w.contract.id).await.unwrap(),
        vec![RouteStep::new("確認者（県）")]
    );
    let route = [
        RouteStep::new("担当"),
        RouteStep {
            label: "係長".into(),
            user_id: Some(kakaricho.id),
        },
        RouteStep::new("課長"),
    ];
    // Only the administrator sets it; a holder must be someone who may confirm.
    for who in [&w.staff, &w.se] {
        assert!(forbidden(
            &s.set_approval_route(&a(who), w.contract.id, &route)
                .await
                .expect_err("not theirs")
        ));
    }
    let bad = [RouteStep {
        label: "担当".into(),
        user_id: Some(w.se.id),
    }];
    assert!(matches!(
        s.set_approval_route(&a(&w.admin), w.contract.id, &bad)
            .await,
        Err(StoreError::Domain(DomainError::Validation(_)))
    ));
    s.set_approval_route(&a(&w.admin), w.contract.id, &route)
        .await
        .expect("route");
    assert_eq!(s.approval_route(w.contract.id).await.unwrap(), route);

    let p = pdf("v1");
    let x = xlsx("v1");
    let model = "{\"title\":\"業務実績簿\"}";
    let sub = |version: i64| Submission {
        contract_id: w.contract.id,
        month: may(),
        version,
        submitted_on: d(6, 10),
        pdf: &p,
        xlsx: &x,
        sources: &[],
        model,
    };
    let rec = s
        .submit_monthly_record(&a(&w.se), &sub(1))
        .await
        .expect("submit");
    assert_eq!(rec.route, route);
    assert_eq!(
        rec.next_step().map(|(n, st)| (n, st.label.as_str())),
        Some((1, "担当"))
    );
    assert_eq!(s.record_model(rec.id, 1).await.unwrap(), model);

    // Step 1 by the 担当: 第2版, still awaiting.
    let stale = confirm_step(s, &w.staff, rec.id, 2, 2, d(6, 11))
        .await
        .expect_err("not the step that awaits");
    assert!(conflict(&stale), "{stale}");
    let r = confirm_step(s, &w.staff, rec.id, 1, 2, d(6, 11))
        .await
        .expect("担当");
    assert_eq!(r.status(), RecordStatus::Submitted);
    assert_eq!(r.current_version, 2);
    let v2 = r.latest().unwrap();
    assert_eq!((v2.stage, v2.outcome.as_str()), (1, "submitted"));
    assert_eq!(r.version_label(v2), "第2版（担当確認済）");
    assert_eq!(v2.pdf_sha256, sha(&pdf("v2")));
    assert_eq!(
        v2.submitted_by_name, "保守太郎",
        "the submission's columns are kept"
    );
    assert_eq!(
        s.record_sources(rec.id, 2).await.unwrap(),
        s.record_sources(rec.id, 1).await.unwrap()
    );
    let (_, bytes) = s
        .record_file(&a(&w.auditor), rec.id, 1, RecordFile::Pdf)
        .await
        .unwrap();
    assert_eq!(bytes, p, "第1版 stays as submitted");

    // Step 2 is held by the 係長: not the 担当 again, not the 課長, not the SE.
    for who in [&w.staff, &kacho] {
        let e = confirm_step(s, who, rec.id, 2, 3, d(6, 12))
            .await
            .expect_err("not theirs");
        assert!(conflict(&e), "{e}");
    }
    assert!(forbidden(
        &confirm_step(s, &w.se, rec.id, 2, 3, d(6, 12))
            .await
            .expect_err("se")
    ));
    let r = confirm_step(s, &kakaricho, rec.id, 2, 3, d(6, 12))
        .await
        .expect("係長");
    assert_eq!(r.version_label(r.latest().unwrap()), "第3版（係長確認済）");
    let names: Vec<(&str, &str, &str)> = r
        .confirmations()
        .iter()
        .map(|a| {
            (
                a.label.as_str(),
                a.decided_by_name.as_str(),
                a.decided_on.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("担当", "県職員花子", "2026-06-11"),
            ("係長", "係長 佐賀", "2026-06-12")
        ]
    );

    // The 担当 may not fill the 課長's column too; the 課長 sends back at step 3 with a reason.
    let e = confirm_step(s, &w.staff, rec.id, 3, 4, d(6, 13))
        .await
        .expect_err("same person");
    assert!(conflict(&e), "{e}");
    let reason = ReturnInput {
        reason: "協議記録の日付を確認してください。".into(),
    };
    assert!(
        s.return_monthly_record_step(&a(&kacho), rec.id, 2, &reason, d(6, 13))
            .await
            .is_err(),
        "not the step that awaits"
    );
    let r = s
        .return_monthly_record_step(&a(&kacho), rec.id, 3, &reason, d(6, 13))
        .await
        .expect("send back");
    assert_eq!(r.status(), RecordStatus::Returned);
    assert_eq!(r.current_version, 3);
    let last = r.approvals.last().unwrap();
    assert_eq!(
        (
            last.step,
            last.label.as_str(),
            last.outcome.as_str(),
            last.reason.as_str()
        ),
        (3, "課長", "returned", reason.reason.as_str())
    );
    assert_eq!(r.latest().unwrap().outcome, "returned");
    assert!(
        confirm_step(s, &kacho, rec.id, 3, 4, d(6, 13))
            .await
            .is_err()
    );

    // Back to the SE: 第4版, and the route starts over; three steps to 第7版（確認済）.
    assert_eq!(
        s.next_record_version(w.contract.id, may()).await.unwrap(),
        4
    );
    let r = s
        .submit_monthly_record(&a(&w.se), &sub(4))
        .await
        .expect("resubmit");
    assert!(r.confirmations().is_empty());
    assert_eq!(r.next_step().map(|(n, _)| n), Some(1));
    confirm_step(s, &w.staff, rec.id, 1, 5, d(6, 15))
        .await
        .expect("1");
    confirm_step(s, &kakaricho, rec.id, 2, 6, d(6, 15))
        .await
        .expect("2");
    let done = confirm_step(s, &kacho, rec.id, 3, 7, d(6, 16))
        .await
        .expect("3");
    assert_eq!(done.status(), RecordStatus::Confirmed);
    let c = done.confirmed().unwrap();
    assert_eq!((c.version, c.stage), (7, 3));
    assert_eq!(done.version_label(c), "第7版（確認済）");
    assert_eq!(c.decided_by_name.as_deref(), Some("課長 唐津"));
    assert_eq!(done.confirmations().len(), 3);
    // Final: nothing more.
    assert!(conflict(
        &confirm_step(s, &kacho, rec.id, 4, 8, d(6, 17))
            .await
            .expect_err("final")
    ));
    assert!(conflict(
        &s.submit_monthly_record(&a(&w.se), &sub(8))
            .await
            .expect_err("final")
    ));
    // Changing the route later does not change a kept submission's.
    s.set_approval_route(&a(&w.admin), w.contract.id, &[RouteStep::new("課長")])
        .await
        .expect("route");
    assert_eq!(s.monthly_record(rec.id).await.unwrap().route, route);

    let log = s
        .audit_export(&unyo_store::audit::AuditQuery {
            entity: Some("monthly_record".into()),
            entity_id: Some(rec.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let confirms: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "record.confirm")
        .map(|e| e.details.as_str())
        .collect();
    assert_eq!(confirms.len(), 5);
    assert!(confirms[1].contains("係長") && confirms[1].contains(&sha(&pdf("v3"))));
    assert!(matches!(
        s.verify_audit_chain().await.unwrap(),
        unyo_store::audit::ChainReport::Intact { .. }
    ));
}
