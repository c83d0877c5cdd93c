//! `unyo feed import` imports every readable feed file, names the refused one with its reason and exits 1,
//! keeping the others; `unyo sbom` prints unyo's own CycloneDX SBOM.

mod support;

use std::path::PathBuf;
use support::unyo_command;

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vuln/tests/data"))
}

#[test]
fn feed_import_keeps_the_good_files_and_names_the_refused_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = unyo_command()
        .args(["feed", "import"])
        .arg(samples().join("nvd/nvdcve-2.0-sample.json"))
        .arg(samples().join("jvn"))
        .arg(samples().join("rustsec"))
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run unyo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "nvdcve-2.0-sample.json: NVD 20 件（追加 20・更新 0・変更なし 0）最新 2026-06-17"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("getVulnDetailInfo_hnd_JVNDB-2021-002774.xml: JVN iPedia 1 件"),
        "{stdout}"
    );
    assert!(
        stdout.contains("crates/tokio/RUSTSEC-2025-0023.md: RustSec 1 件"),
        "{stdout}"
    );
    assert!(stdout.contains("照合 / matched"), "{stdout}");
    assert!(
        stderr
            .contains("取り込めません / refused: dataFeed_jvndb_rss_hnd.xml: XML として読めません"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 44 file(s) refused"), "{stderr}");

    // Importing the same file again changes nothing and succeeds.
    let again = unyo_command()
        .args(["feed", "import"])
        .arg(samples().join("nvd/nvdcve-2.0-sample.json"))
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run unyo");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("（追加 0・更新 0・変更なし 20）"));
}

#[test]
fn sbom_prints_cyclonedx() {
    let out = unyo_command().arg("sbom").output().expect("run unyo");
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["component"]["name"], "unyo");
    let comps = doc["components"].as_array().expect("components");
    assert!(comps.iter().any(|c| {
        c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:cargo/tokio@"))
    }));
}
