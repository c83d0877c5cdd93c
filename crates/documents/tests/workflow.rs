//! The submission workflow end to end on the demo data (both backends: set `TEST_DATABASE_URL`):
//! 作成 → 提出 (frozen PDF/XLSX with SHA-256) → a May work entry changes → the record says what changed and
//! the frozen files stay byte-identical → 差戻し → 第2版 → 確認; and who may do what.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use unyo_documents::{changes_since_submission, confirm_monthly, submit_monthly};
use unyo_domain::records::{ChangeKind, Month, RecordStatus, ReturnInput, RouteStep};
use unyo_domain::support::WorkInput;
use unyo_domain::{DomainError, Role};
use unyo_store::records::RecordFile;
use unyo_store::support::WorkQuery;
use unyo_store::{Actor, Store, StoreError};

async fn actor(store: &Store, name: &str) -> Actor {
    store
        .user_by_name(name)
        .await
        .expect("q")
        .expect("user")
        .actor("test")
}

fn day(m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, m, d).expect("date")
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn submit_change_return_resubmit_confirm() {
    let (db, year) = demo().await;
    let store = &db.store;
    let se = actor(store, "se").await;
    let staff = actor(store, "staff").await;
    let auditor = actor(store, "auditor").await;
    assert_eq!(auditor.role, Role::Auditor);
    let may = Month::new(2026, 5).expect("month");
    let cid = year.contract_id;

    // Neither the auditor nor the prefecture staff submits.
    for who in [&auditor, &staff] {
        let err = submit_monthly(store, who, cid, may, day(6, 10))
            .await
            .expect_err("not theirs to submit");
        assert!(matches!(
            err,
            unyo_documents::DocumentError::Store(StoreError::Domain(DomainError::Forbidden))
        ));
    }

    // 提出: version 1, frozen.
    let rec = submit_monthly(store, &se, cid, may, day(6, 10))
        .await
        .expect("submit");
    assert_eq!(rec.status(), RecordStatus::Submitted);
    assert_eq!(rec.current_version, 1);
    let v1 = rec.latest().expect("v1").clone();
    assert_eq!(v1.submitted_on, "2026-06-10");
    assert_eq!(v1.submitted_by_name, "保守 技郎");
    let (meta, pdf1) = store
        .record_file(&auditor, rec.id, 1, RecordFile::Pdf)
        .await
        .expect("the auditor may read the frozen PDF");
    assert_eq!(sha(&pdf1), meta.pdf_sha256);
    assert_eq!(sha(&pdf1), v1.pdf_sha256);
    let (_, xlsx1) = store
        .record_file(&staff, rec.id, 1, RecordFile::Xlsx)
        .await
        .expect("xlsx");
    assert_eq!(sha(&xlsx1), v1.xlsx_sha256);
    let v1_pdf = keep("workflow-v1.pdf", &pdf1);
    if have("pdftotext") {
        let text = squash(&pdf_pages(&v1_pdf).join("\n"));
        assert!(text.contains("第1版"));
        assert!(text.contains("提出日令和8年6月10日"));
        assert!(!text.contains("下書き"));
    }
    assert!(
        changes_since_submission(store, &rec)
            .await
            .expect("changes")
            .is_empty()
    );

    // A second submission while the first awaits the prefecture is refused.
    let err = submit_monthly(store, &se, cid, may, day(6, 11))
        .await
        .expect_err("awaiting");
    assert!(err.to_string().contains("確認待ち"), "{err}");

    // A May work entry changes after submission.
    let entry = store
        .work_entries_all(&WorkQuery {
            contract_id: Some(cid),
            from: Some("2026-05-11".into()),
            to: Some("2026-05-11".into()),
            ..Default::default()
        })
        .await
        .expect("work")
        .into_iter()
        .find(|w| w.clause == "1")
        .expect("the ① entry of May 11");
    let input = WorkInput {
        contract_id: Some(entry.contract_id),
        work_date: entry.work_date.clone(),
        start_time: entry.start_time.clone(),
        end_time: "10:15".into(),
        worker_ids: entry.worker_ids.clone(),
        mode: entry.mode.clone(),
        site_id: entry.site_id,
        terminal_ids: entry.terminal_ids.clone(),
        category: entry.category.clone(),
        clause: String::new(),
        description: entry.description.clone(),
        result: "定義ファイルを最新版に更新。フルスキャンで検出なし（再確認済み）。".into(),
        follow_up: entry.follow_up.clone(),
        request_id: entry.request_id,
    };
    store
        .update_work_entry(&se, entry.id, &input)
        .await
        .expect("edit");
    let changes = changes_since_submission(store, &rec)
        .await
        .expect("changes");
    // The entry itself, and the hours of the request it answers (shown in section 3).
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let r = &changes[1];
    assert_eq!(
        (r.change, r.kind.as_str()),
        (ChangeKind::Changed, "request")
    );
    assert_eq!(r.fields.len(), 1);
    assert_eq!(
        (
            r.fields[0].field.as_str(),
            r.fields[0].before.as_str(),
            r.fields[0].after.as_str()
        ),
        ("当月の作業時間", "1.75", "2.00")
    );
    let c = &changes[0];
    assert_eq!(
        (c.change, c.kind.as_str(), c.id),
        (ChangeKind::Changed, "work", entry.id)
    );
    let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["時間", "時間数", "結果"]);
    assert_eq!(c.fields[1].before, "0.75");
    assert_eq!(c.fields[1].after, "1.00");
    // The frozen files never change.
    let (_, again) = store
        .record_file(&se, rec.id, 1, RecordFile::Pdf)
        .await
        .expect("pdf");
    assert_eq!(again, pdf1);

    // 差戻し: not by the SE, with a reason, then 第2版.
    let reason = ReturnInput {
        reason: "5月11日の作業時間と結果を修正して再提出してください。".into(),
    };
    assert!(
        store
            .return_monthly_record(&se, rec.id, &reason, day(6, 12))
            .await
            .is_err()
    );
    assert!(
        store
            .return_monthly_record(&staff, rec.id, &ReturnInput::default(), day(6, 12))
            .await
            .is_err()
    );
    let returned = store
        .return_monthly_record(&staff, rec.id, &reason, day(6, 12))
        .await
        .expect("return");
    assert_eq!(returned.status(), RecordStatus::Returned);
    assert_eq!(returned.versions[0].outcome, "returned");
    assert_eq!(returned.versions[0].reason, reason.reason);
    assert_eq!(
        returned.versions[0].decided_by_name.as_deref(),
        Some("市民 課男")
    );
    let rec2 = submit_monthly(store, &se, cid, may, day(6, 15))
        .await
        .expect("resubmit");
    assert_eq!(rec2.id, rec.id);
    assert_eq!(rec2.current_version, 2);
    assert_eq!(rec2.versions.len(), 2);
    let v2 = &rec2.versions[1];
    assert_ne!(v2.pdf_sha256, v1.pdf_sha256);
    assert!(
        changes_since_submission(store, &rec2)
            .await
            .expect("changes")
            .is_empty()
    );
    let (_, pdf2) = store
        .record_file(&staff, rec.id, 2, RecordFile::Pdf)
        .await
        .expect("v2");
    let v2_pdf = keep("workflow-v2.pdf", &pdf2);
    if have("pdftotext") {
        let text = squash(&pdf_raw_text(&v2_pdf));
        assert!(text.contains("第2版"));
        assert!(text.contains("（再確認済み）"));
        assert!(text.contains("合計26件21.25"), "the new total");
    }
    // Version 1 is still there, byte for byte.
    let (_, still) = store
        .record_file(&staff, rec.id, 1, RecordFile::Pdf)
        .await
        .expect("v1");
    assert_eq!(still, pdf1);

    // 確認: not by the SE; by the prefecture, which freezes 第3版 with its column filled; then final.
    assert!(
        confirm_monthly(store, &se, rec.id, day(6, 16))
            .await
            .is_err()
    );
    let confirmed = confirm_monthly(store, &staff, rec.id, day(6, 16))
        .await
        .expect("confirm");
    assert_eq!(confirmed.status(), RecordStatus::Confirmed);
    let c = confirmed.confirmed().expect("confirmed version");
    assert_eq!(c.version, 3);
    assert_eq!(confirmed.version_label(c), "第3版（確認済）");
    assert_eq!(c.decided_on.as_deref(), Some("2026-06-16"));
    assert_eq!(c.decided_by_name.as_deref(), Some("市民 課男"));
    assert_eq!(c.submitted_on, "2026-06-15", "the submission's date stays");
    let (_, pdf3) = store
        .record_file(&staff, rec.id, 3, RecordFile::Pdf)
        .await
        .expect("v3");
    assert_eq!(sha(&pdf3), c.pdf_sha256);
    let v3_pdf = keep("workflow-v3.pdf", &pdf3);
    if have("pdftotext") {
        let text = squash(&pdf_raw_text(&v3_pdf));
        assert!(text.contains("第3版（確認済）"), "{text}");
        assert!(text.contains("確認者（県）"));
        assert!(text.contains("市民課男"), "the confirming person's name");
        assert!(text.contains("令和8年6月16日"), "the confirmation date");
        assert!(text.contains("合計26件21.25"), "the submitted content");
    }
    assert!(
        confirm_monthly(store, &staff, rec.id, day(6, 17))
            .await
            .is_err()
    );
    let err = submit_monthly(store, &se, cid, may, day(6, 18))
        .await
        .expect_err("confirmed is final");
    assert!(err.to_string().contains("確認済み"), "{err}");

    // Everything is in the audit log.
    let log = store
        .audit_export(&unyo_store::audit::AuditQuery {
            entity: Some("monthly_record".into()),
            entity_id: Some(rec.id.to_string()),
            ..Default::default()
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "record.submit").count(), 2);
    assert!(actions.contains(&"record.return"));
    assert!(actions.contains(&"record.confirm"));
    assert!(actions.iter().filter(|a| **a == "record.download").count() >= 5);
    let submit = log.iter().find(|e| e.action == "record.submit").unwrap();
    assert!(submit.details.contains(&v1.pdf_sha256));
    assert!(matches!(
        store.verify_audit_chain().await.expect("verify"),
        unyo_store::audit::ChainReport::Intact { .. }
    ));
}

async fn user_actor(store: &Store, name: &str, display: &str, role: Role) -> Actor {
    store
        .create_user(
            &Actor::system("test"),
            name,
            display,
            role,
            "correct-horse-battery",
        )
        .await
        .expect("user")
        .actor("test")
}

#[tokio::test]
async fn a_route_of_three_columns_fills_the_document_step_by_step() {
    let (db, year) = demo().await;
    let store = &db.store;
    let se = actor(store, "se").await;
    let admin = actor(store, "admin").await;
    let tanto = actor(store, "staff").await;
    let kakaricho = user_actor(store, "kakaricho", "係長 佐賀", Role::Staff).await;
    let kacho = user_actor(store, "kacho", "課長 唐津", Role::Staff).await;
    let cid = year.contract_id;
    let may = Month::new(2026, 5).expect("month");
    store
        .set_approval_route(
            &admin,
            cid,
            &[
                RouteStep::new("担当"),
                RouteStep {
                    label: "係長".into(),
                    user_id: kakaricho.user_id,
                },
                RouteStep::new("課長"),
            ],
        )
        .await
        .expect("route");

    // 第1版: three blank columns after the contractor's.
    let rec = submit_monthly(store, &se, cid, may, day(6, 10))
        .await
        .expect("submit");
    let (_, pdf1) = store
        .record_file(&se, rec.id, 1, RecordFile::Pdf)
        .await
        .expect("v1");
    if have("pdftotext") {
        let text = squash(&pdf_raw_text(&keep("route-v1.pdf", &pdf1)));
        assert!(text.contains("第1版"));
        for label in ["担当", "係長", "課長"] {
            assert!(text.contains(label), "{label}");
        }
        assert!(!text.contains("係長佐賀"));
    }

    // 担当 confirms: 第2版（担当確認済）, still awaiting.
    let r = confirm_monthly(store, &tanto, rec.id, day(6, 11))
        .await
        .expect("担当");
    assert_eq!(r.status(), RecordStatus::Submitted);
    assert_eq!(r.current_version, 2);
    assert_eq!(
        r.version_label(r.latest().expect("v2")),
        "第2版（担当確認済）"
    );
    // The 係長 step is held by one account: neither the 担当 again nor the 課長 may take it.
    for who in [&tanto, &kacho] {
        let e = confirm_monthly(store, who, rec.id, day(6, 12))
            .await
            .expect_err("not theirs");
        assert!(
            matches!(
                e,
                unyo_documents::DocumentError::Store(StoreError::Domain(DomainError::Conflict(_)))
            ),
            "{e}"
        );
    }
    let r = confirm_monthly(store, &kakaricho, rec.id, day(6, 12))
        .await
        .expect("係長");
    let v3 = r.latest().expect("v3");
    assert_eq!(r.version_label(v3), "第3版（係長確認済）");
    let (_, pdf3) = store
        .record_file(&se, rec.id, 3, RecordFile::Pdf)
        .await
        .expect("v3");
    assert_eq!(sha(&pdf3), v3.pdf_sha256);
    if have("pdftotext") {
        let text = squash(&pdf_raw_text(&keep("route-v3.pdf", &pdf3)));
        assert!(text.contains("第3版（係長確認済）"), "{text}");
        assert!(text.contains("市民課男") && text.contains("令和8年6月11日"));
        assert!(text.contains("係長佐賀") && text.contains("令和8年6月12日"));
        assert!(!text.contains("課長唐津"));
    }
    let (_, xlsx3) = store
        .record_file(&se, rec.id, 3, RecordFile::Xlsx)
        .await
        .expect("v3 xlsx");
    let cells: Vec<String> = {
        use calamine::Reader;
        let mut wb = workbook(&xlsx3);
        let names = wb.sheet_names().to_vec();
        names
            .iter()
            .filter_map(|n| wb.worksheet_range(n).ok())
            .flat_map(|r| r.cells().map(|(_, _, c)| c.to_string()).collect::<Vec<_>>())
            .collect()
    };
    for want in ["担当", "係長", "課長", "市民 課男", "係長 佐賀"] {
        assert!(cells.iter().any(|c| c == want), "{want} in the XLSX");
    }
    assert!(!cells.iter().any(|c| c == "課長 唐津"));

    // The 課長 sends back at step 3: the reason is kept and the record returns to the SE.
    let reason = ReturnInput {
        reason: "協議記録の日付を確認してください。".into(),
    };
    let r = store
        .return_monthly_record_step(&kacho, rec.id, 3, &reason, day(6, 13))
        .await
        .expect("send back");
    assert_eq!(r.status(), RecordStatus::Returned);
    let last = r.approvals.last().expect("decision");
    assert_eq!(
        (last.step, last.label.as_str(), last.outcome.as_str()),
        (3, "課長", "returned")
    );
    assert_eq!(last.reason, reason.reason);

    // 第4版, then three steps to 第7版（確認済）.
    let r = submit_monthly(store, &se, cid, may, day(6, 14))
        .await
        .expect("resubmit");
    assert_eq!(r.current_version, 4);
    assert!(r.confirmations().is_empty(), "a new submission starts over");
    for who in [&tanto, &kakaricho, &kacho] {
        confirm_monthly(store, who, rec.id, day(6, 15))
            .await
            .expect("step");
    }
    let r = store.monthly_record(rec.id).await.expect("record");
    assert_eq!(r.status(), RecordStatus::Confirmed);
    assert_eq!(r.current_version, 7);
    let last = r.confirmed().expect("confirmed");
    assert_eq!(r.version_label(last), "第7版（確認済）");
    let (_, pdf7) = store
        .record_file(&se, rec.id, 7, RecordFile::Pdf)
        .await
        .expect("v7");
    if have("pdftotext") {
        let text = squash(&pdf_raw_text(&keep("route-v7.pdf", &pdf7)));
        assert!(text.contains("第7版（確認済）"));
        for name in ["市民課男", "係長佐賀", "課長唐津"] {
            assert!(text.contains(name), "{name}");
        }
    }
}
