//! `unyo export`, `unyo import-export` and `unyo erase` on a small demo-like data directory: the export
//! imports into a new data directory with the same content; erase refuses without a current export,
//! then overwrites and removes every file (database, WAL, attachments, a backup, a temporary file),
//! leaves nothing behind, and writes the 消去証明書 outside the directory.

mod support;

use std::path::Path;
use std::process::Output;
use support::unyo_command;
use unyo_store::{Actor, Store};

fn unyo(args: &[&str]) -> Output {
    unyo_command()
        .args(args)
        .env("UNYO_LOG", "error")
        .output()
        .expect("run unyo")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A data directory with the demo fleet, an attachment, a backup and a temporary file.
async fn demo_like(data: &Path) {
    let store = Store::open_data_dir(data).await.expect("open");
    unyo_demo::load_fleet(&store).await.expect("fleet");
    let sys = Actor::system("test");
    let se = store.user_by_name("se").await.expect("q").expect("se");
    let contract = store
        .create_contract(
            &sys,
            &unyo_domain::support::ContractInput {
                name: "運用支援業務".into(),
                number: "R8-001".into(),
                term_start: "2026-04-01".into(),
                term_end: "2027-03-31".into(),
                contractor: "受託者".into(),
                manager: "運用 太郎".into(),
                staff_ids: vec![se.id],
            },
        )
        .await
        .expect("contract");
    let _ = contract;
    store
        .backup_to(&data.join("backup-20260325.db"))
        .await
        .expect("backup");
    store.close().await;
    std::fs::create_dir_all(data.join("tmp")).expect("tmp");
    std::fs::write(data.join("tmp/upload.part"), b"partial upload").expect("tmp file");
}

#[tokio::test]
async fn export_import_and_erase_a_data_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    demo_like(&data).await;

    let export = dir.path().join("export");
    let out = ok(&unyo(&[
        "export",
        "--data-dir",
        s(&data),
        "--to",
        s(&export),
    ]));
    assert!(out.contains("audit chain intact"), "{out}");
    let sums = out
        .lines()
        .find_map(|l| l.strip_prefix("SHA-256 of SHA256SUMS (record it at hand-over): "))
        .expect("hash printed")
        .to_string();

    let copy = dir.path().join("copy");
    let out = ok(&unyo(&[
        "import-export",
        "--data-dir",
        s(&copy),
        s(&export),
    ]));
    assert!(out.contains(&sums), "{out}");
    assert!(out.contains("audit chain intact"), "{out}");

    // A write after the export: erasing now would lose it, so erase refuses and touches nothing.
    let store = Store::open_data_dir(&data).await.expect("open");
    store.set_meta("note", "after").await.expect("meta");
    store
        .audit(unyo_store::audit::NewAuditEntry::new(
            &Actor::system("test"),
            "meta.set",
            "meta",
            "note",
        ))
        .await
        .expect("audit");
    store.close().await;
    let cert = dir.path().join("消去証明書.pdf");
    let refused = unyo(&[
        "erase",
        "--data-dir",
        s(&data),
        "--export",
        s(&export),
        "--certificate",
        s(&cert),
        "--yes",
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("changed after the export"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(data.join("unyo.db").exists());
    assert!(!cert.exists());

    // Export again, then erase.
    let export2 = dir.path().join("export2");
    ok(&unyo(&[
        "export",
        "--data-dir",
        s(&data),
        "--to",
        s(&export2),
    ]));
    let files_before = walk(&data);
    assert!(
        files_before
            .iter()
            .any(|f| f.ends_with("backup-20260325.db"))
    );
    let out = ok(&unyo(&[
        "erase",
        "--data-dir",
        s(&data),
        "--export",
        s(&export2),
        "--certificate",
        s(&cert),
        "--operator",
        "運用 太郎",
        "--witness",
        "県 花子",
        "--yes",
    ]));
    assert!(out.contains("verification passed"), "{out}");
    assert!(!data.exists(), "the data directory is gone");
    let pdf = std::fs::read(&cert).expect("certificate");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(cert.with_extension("xlsx").exists());
    if let Some(text) = pdf_text(&cert) {
        for want in [
            "消去証明書",
            "Clear",
            "backup-20260325.db",
            "unyo.db",
            "合格",
            "県花子",
        ] {
            assert!(text.contains(want), "{want} in the certificate:\n{text}");
        }
    }
    // The export and the imported copy are untouched.
    assert!(export2.join("SHA256SUMS").exists());
    assert!(copy.join("unyo.db").exists());
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// The PDF's text without white space, or `None` when `pdftotext` is not installed.
fn pdf_text(path: &Path) -> Option<String> {
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    })
}
