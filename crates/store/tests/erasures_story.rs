//! The erasure register: recorded by the SE, read by everyone, the certificate frozen once with its
//! SHA-256, every step audited, and a record with a frozen certificate unchangeable in the database.

use chrono::{TimeZone, Utc};
use sqlx::Connection;
use unyo_domain::Role;
use unyo_domain::erasure::ErasureInput;
use unyo_store::erasures::CertificateFile;
use unyo_store::testing::test_store;
use unyo_store::{Actor, StoreError};

fn actor(name: &str, role: Role) -> Actor {
    Actor {
        user_id: None,
        username: name.into(),
        role,
        source: "test".into(),
    }
}

fn input() -> ErasureInput {
    ErasureInput {
        contract_id: None,
        scope: "temporary_copy".into(),
        medium: "USBメモリ".into(),
        identifier: "SN-4471".into(),
        capacity: "32GB".into(),
        target: "障害調査のために持ち出したログの複製".into(),
        method: "purge".into(),
        tool: "暗号化ボリュームの鍵破棄".into(),
        tool_version: "1.2".into(),
        performed_at: "2026-03-25T10:00".into(),
        operator: "運用 太郎".into(),
        witness: "県 花子".into(),
        verification_method: "ボリュームを開けないことの確認".into(),
        verified: true,
        verification_result: "鍵がなく開けない".into(),
        note: String::new(),
    }
}

#[tokio::test]
async fn an_erasure_is_recorded_certified_once_and_kept() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let now = Utc
        .with_ymd_and_hms(2026, 3, 26, 0, 0, 0)
        .single()
        .expect("t");
    let draft = input().validate(now).expect("valid");

    let auditor = actor("audit", Role::Auditor);
    assert!(matches!(
        s.create_erasure(&auditor, &draft).await,
        Err(StoreError::Domain(unyo_domain::DomainError::Forbidden))
    ));
    let se = actor("se", Role::Se);
    let e = s.create_erasure(&se, &draft).await.expect("create");
    assert_eq!(e.method, "purge");
    assert!(e.certificate_pdf_sha256.is_none());
    assert_eq!(s.erasures(&auditor).await.expect("list").len(), 1);

    let staff = actor("staff", Role::Staff);
    assert!(
        s.erasure_certificate(&staff, e.id, CertificateFile::Pdf)
            .await
            .expect("read")
            .is_none()
    );
    let frozen = s
        .freeze_erasure_certificate(&staff, e.id, b"%PDF-first", b"PK-first")
        .await
        .expect("freeze");
    let again = s
        .freeze_erasure_certificate(&staff, e.id, b"%PDF-second", b"PK-second")
        .await
        .expect("freeze again");
    assert_eq!(frozen.certificate_pdf_sha256, again.certificate_pdf_sha256);
    let pdf = s
        .erasure_certificate(&staff, e.id, CertificateFile::Pdf)
        .await
        .expect("read")
        .expect("frozen");
    assert_eq!(pdf, b"%PDF-first");

    let report = s.verify_audit_chain().await.expect("verify");
    assert!(matches!(
        report,
        unyo_store::audit::ChainReport::Intact { entries: 3, .. }
    ));

    // The database itself refuses to change or remove a certified record.
    let update = "UPDATE erasures SET witness = 'someone else' WHERE id = $1";
    let delete = "DELETE FROM erasure_certificates WHERE erasure_id = $1";
    if db.url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("conn");
        for sql in [update, delete] {
            assert!(
                sqlx::query(sql).bind(e.id).execute(&mut c).await.is_err(),
                "{sql}"
            );
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("conn");
        for sql in [update, delete] {
            assert!(
                sqlx::query(sql).bind(e.id).execute(&mut c).await.is_err(),
                "{sql}"
            );
        }
    }
}

#[tokio::test]
async fn a_contract_closes_only_when_every_item_is_done_or_waived() {
    use unyo_domain::erasure::CloseItemInput;
    use unyo_domain::support::ContractInput;
    let db = test_store().await.expect("store");
    let s = &db.store;
    let admin = Actor::system("test");
    let contract = s
        .create_contract(
            &admin,
            &ContractInput {
                name: "運用支援業務".into(),
                number: "R8-001".into(),
                term_start: "2026-04-01".into(),
                term_end: "2027-03-31".into(),
                contractor: "受託者".into(),
                manager: "運用 太郎".into(),
                staff_ids: vec![],
            },
        )
        .await
        .expect("contract");
    let staff = actor("staff", Role::Staff);
    let list = s
        .contract_checklist(&staff, contract.id)
        .await
        .expect("list");
    assert!(!list.complete());
    assert!(s.close_contract(&staff, contract.id).await.is_err());

    // An export hash this database never made is refused; the real one is accepted.
    let wrong = CloseItemInput {
        item: "export_handed_over".into(),
        state: "done".into(),
        manifest_sha256: "0".repeat(64),
        evidence: "県へ手渡し".into(),
        ..Default::default()
    };
    assert!(
        s.record_close_item(&staff, contract.id, &wrong.validate().expect("valid"))
            .await
            .is_err()
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let export = s
        .export_all(&admin, &tmp.path().join("x"))
        .await
        .expect("export");
    let right = CloseItemInput {
        manifest_sha256: export.manifest_sha256.clone(),
        ..wrong
    };
    s.record_close_item(&staff, contract.id, &right.validate().expect("valid"))
        .await
        .expect("export handed over");

    // An erasure without a certificate is no evidence; a waiver with a reason is enough.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 26, 0, 0, 0)
        .single()
        .expect("t");
    let e = s
        .create_erasure(
            &actor("se", Role::Se),
            &input().validate(now).expect("valid"),
        )
        .await
        .expect("erasure");
    let erased = CloseItemInput {
        item: "erasure_done".into(),
        state: "done".into(),
        erasure_id: Some(e.id),
        ..Default::default()
    };
    assert!(
        s.record_close_item(&staff, contract.id, &erased.validate().expect("valid"))
            .await
            .is_err()
    );
    s.freeze_erasure_certificate(&staff, e.id, b"%PDF-x", b"PK-x")
        .await
        .expect("freeze");
    s.record_close_item(&staff, contract.id, &erased.validate().expect("valid"))
        .await
        .expect("erasure done");
    let se = actor("se", Role::Se);
    assert!(
        s.close_contract(&se, contract.id).await.is_err(),
        "the SE cannot close"
    );
    let closed = s.close_contract(&staff, contract.id).await.expect("close");
    assert!(closed.closed.is_some());
    assert!(
        s.close_contract(&staff, contract.id).await.is_err(),
        "closed once"
    );
}
