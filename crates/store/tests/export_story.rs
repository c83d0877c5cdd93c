//! The full export and its import: a demo database exported, imported into a new database and exported
//! again gives the same tables, the same rows and the same content hashes, with an intact audit chain.
//! Runs on whichever backend `TEST_DATABASE_URL` names.

use std::collections::BTreeMap;
use std::path::Path;
use unyo_store::Actor;
use unyo_store::audit::ChainReport;
use unyo_store::export::{import_export, read_manifest, verify_export_dir};
use unyo_store::testing::test_store;

async fn demo_with_attachment() -> unyo_store::testing::TestDb {
    let db = test_store().await.expect("store");
    unyo_demo::load(&db.store, &unyo_demo::NoRecords)
        .await
        .expect("demo");
    // The demo files its requests first, so request 1 exists.
    let request = 1;
    db.store
        .add_attachment(
            &Actor::system("test"),
            "request",
            request,
            "画面.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR marker-attachment",
        )
        .await
        .expect("attachment");
    db
}

fn hashes(dir: &Path) -> BTreeMap<String, (u64, String)> {
    read_manifest(dir)
        .expect("manifest")
        .tables
        .into_iter()
        .map(|t| (t.name, (t.rows, t.content_sha256)))
        .collect()
}

#[tokio::test]
async fn an_export_imports_into_an_empty_database_with_the_same_content() {
    let a = demo_with_attachment().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let first = tmp.path().join("first");
    let summary = a
        .store
        .export_all(&Actor::system("test"), &first)
        .await
        .expect("export");
    assert!(summary.manifest.audit_chain.intact);
    assert!(summary.manifest.audit_chain.entries > 100);
    assert!(summary.manifest.files >= 1, "the attachment is a file");
    assert_eq!(
        verify_export_dir(&first).expect("sums"),
        summary.manifest_sha256
    );
    let readme = std::fs::read_to_string(first.join("README.txt")).expect("readme");
    for t in &summary.manifest.tables {
        assert!(readme.contains(&format!("● {}（", t.name)), "{}", t.name);
        assert!(
            first
                .join("schema")
                .join(format!("{}.schema.json", t.name))
                .exists()
        );
    }
    assert!(
        !summary
            .manifest
            .tables
            .iter()
            .any(|t| t.name.starts_with("_sqlx"))
    );
    let csv = std::fs::read(first.join("tables/terminals.csv")).expect("csv");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "CSV has a BOM");

    let b = test_store().await.expect("store b");
    let imported = import_export(&b.store, &first).await.expect("import");
    assert_eq!(imported.manifest_sha256, summary.manifest_sha256);
    match imported.audit {
        ChainReport::Intact { entries, head } => {
            assert_eq!(entries, summary.manifest.audit_chain.entries);
            assert_eq!(Some(head), summary.manifest.audit_chain.head);
        }
        ChainReport::Broken { id, reason } => panic!("broken at {id}: {reason}"),
    }

    let second = tmp.path().join("second");
    b.store
        .export_all(&Actor::system("test"), &second)
        .await
        .expect("export again");
    assert_eq!(hashes(&first), hashes(&second));

    // The imported database works on: a new audited write continues the chain and the ids.
    let added = b
        .store
        .add_attachment(
            &Actor::system("test"),
            "request",
            1,
            "メモ.txt",
            b"after import",
        )
        .await
        .expect("a write after the import");
    assert!(added.id > 1);
    let again = b.store.verify_audit_chain().await.expect("verify");
    assert!(matches!(again, ChainReport::Intact { .. }));

    // A database with data in it is refused.
    let err = import_export(&a.store, &first)
        .await
        .expect_err("not empty");
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[tokio::test]
async fn a_changed_file_or_a_used_directory_is_refused() {
    let a = test_store().await.expect("store");
    unyo_demo::load_fleet(&a.store).await.expect("fleet");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("x");
    a.store
        .export_all(&Actor::system("test"), &dir)
        .await
        .expect("export");
    let err = a
        .store
        .export_all(&Actor::system("test"), &dir)
        .await
        .expect_err("not empty");
    assert!(err.to_string().contains("not empty"), "{err}");

    let path = dir.join("tables/sites.jsonl");
    let mut text = std::fs::read_to_string(&path).expect("read");
    text = text.replacen("\"id\":1", "\"id\":9", 1);
    std::fs::write(&path, text).expect("write");
    let b = test_store().await.expect("store b");
    let err = import_export(&b.store, &dir).await.expect_err("tampered");
    assert!(err.to_string().contains("SHA-256"), "{err}");

    let staff = Actor {
        user_id: None,
        username: "staff".into(),
        role: unyo_domain::Role::Staff,
        source: "test".into(),
    };
    assert!(
        a.store
            .export_all(&staff, &tmp.path().join("y"))
            .await
            .is_err()
    );
}
