//! The vulnerability-monitoring story (issue 18): the sample feeds are imported (the malformed JVN file is
//! refused with its reason, the rest imported), the OS is matched by its full build, software once its CPE
//! mapping is confirmed, unyo itself by its SBOM; a later inventory with the fixed version resolves a finding, a
//! Rejected record withdraws one and keeps the record's history — on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` names one.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use unyo_domain::inventory::{InventoryFormat, InventorySnapshot, OsInfo, Software};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::{DomainError, Role};
use unyo_store::audit::ChainReport;
use unyo_store::inventory::{InventorySource, Submitter};
use unyo_store::testing::test_store;
use unyo_store::vulns::{FindingQuery, VulnQuery};
use unyo_store::{Actor, Store, StoreError};

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../vuln/tests/data"))
}

fn sw(name: &str, version: &str, publisher: &str) -> Software {
    Software {
        name: name.into(),
        version: Some(version.into()),
        publisher: Some(publisher.into()),
        install_date: None,
        arch: None,
    }
}

async fn report(s: &Store, host: &str, build: &str, software: Vec<Software>) -> i64 {
    let mut snap = InventorySnapshot::empty(InventoryFormat::Fusion);
    snap.hostname = Some(host.into());
    snap.os = OsInfo {
        name: Some("Windows".into()),
        full_name: Some("Microsoft Windows 10 Enterprise LTSC".into()),
        build: Some(build.into()),
        ..OsInfo::default()
    };
    snap.software = software;
    let out = s
        .store_inventory(
            &Submitter::Person(Actor::system("test")),
            &snap,
            &format!("{:064}", software_len(&snap)),
            1,
            InventorySource::File,
        )
        .await
        .expect("stored");
    assert!(out.terminal_id.is_some(), "{host} matched");
    out.inventory_id
}

fn software_len(s: &InventorySnapshot) -> usize {
    s.software.len()
}

#[tokio::test]
async fn vulnerability_story() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let se = s
        .create_user(&sys, "se", "保守太郎", Role::Se, "correct-horse-battery")
        .await
        .expect("se")
        .actor("127.0.0.1");
    let auditor = s
        .create_user(
            &sys,
            "audit",
            "監査人",
            Role::Auditor,
            "correct-horse-battery",
        )
        .await
        .expect("auditor")
        .actor("127.0.0.1");
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
    let mut terminals = Vec::new();
    for host in ["jk-kencho-biz01", "jk-kencho-biz02"] {
        terminals.push(
            s.create_terminal(
                &sys,
                &TerminalInput {
                    site_id: Some(site.id),
                    hostname: host.into(),
                    kind: "business".into(),
                    os_name: "Windows".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("terminal"),
        );
    }
    let (a, b) = (&terminals[0], &terminals[1]);
    report(
        s,
        &a.hostname,
        "10.0.19044.2728",
        vec![
            sw("7-Zip 24.08 (x64)", "24.08", "Igor Pavlov"),
            sw("Google Chrome", "120.0.6099.217", "Google LLC"),
            sw("Notepad++ (64-bit x64)", "8.5.6", "Notepad++ Team"),
            sw("Sakura Editor", "2.4.2.6048", "Sakura Editor Project"),
        ],
    )
    .await;
    report(
        s,
        &b.hostname,
        "10.0.19044.4412",
        vec![sw("7-Zip 24.09 (x64)", "24.09", "Igor Pavlov")],
    )
    .await;

    // The auditor reads but never imports.
    let err = s
        .import_feed_path(&auditor, &samples())
        .await
        .expect_err("auditor refused");
    assert!(matches!(err, StoreError::Domain(DomainError::Forbidden)));

    // Every sample file imports, but the malformed JVN file, refused naming it.
    let outcomes = s.import_feed_path(&se, &samples()).await.expect("import");
    let refused: Vec<_> = outcomes.iter().filter(|o| !o.ok).collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .message
            .starts_with("jvn/dataFeed_jvndb_rss_hnd.xml: XML として読めません"),
        "{}",
        refused[0].message
    );
    assert!(outcomes.iter().filter(|o| o.ok).count() >= 70);
    assert!(outcomes.iter().all(|o| o.ok == o.feed.is_some() || !o.ok));
    // The envelope and the single records are the same versions: the second reading changes nothing.
    let nvd_records: u64 = outcomes
        .iter()
        .filter(|o| o.feed == Some(unyo_vuln::FeedKind::Nvd))
        .map(|o| o.added)
        .sum();
    assert_eq!(nvd_records, 20);
    let imports = s.feed_imports(500).await.expect("imports");
    assert_eq!(imports.len(), outcomes.len());
    assert!(
        imports.iter().all(|i| i.file_sha256.len() == 64),
        "every file's digest"
    );
    let env = imports
        .iter()
        .find(|i| i.file_name == "nvd/nvdcve-2.0-sample.json")
        .expect("envelope import");
    assert_eq!(
        env.newest_record_at.as_deref(),
        Some("2026-06-17T00:43:50.523000Z")
    );

    // Freshness: stale long after the newest record, fresh just after it.
    let late = s
        .feed_status(Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap(), 14)
        .await
        .expect("status");
    assert!(late.iter().all(|f| f.stale));
    let soon = s
        .feed_status(Utc.with_ymd_and_hms(2026, 6, 20, 0, 0, 0).unwrap(), 14)
        .await
        .expect("status");
    assert!(
        !soon
            .iter()
            .find(|f| f.feed == unyo_vuln::FeedKind::Nvd)
            .unwrap()
            .stale
    );

    // Japanese text of a JVN record is found from its CVE.
    let d = s.vulnerability("JVNDB-2021-002774").await.expect("jvn");
    assert!(
        d.record
            .title_ja
            .as_deref()
            .unwrap()
            .contains("ServerProtect")
    );

    // Before any mapping is confirmed: the OS (by its full build) and unyo itself.
    let m = s.rematch_vulnerabilities(&se).await.expect("match");
    assert!(m.opened >= 3, "{m:?}");
    let of_a = s
        .findings(&FindingQuery {
            terminal_id: Some(a.id),
            ..Default::default()
        })
        .await
        .expect("findings");
    let ids: Vec<&str> = of_a
        .items
        .iter()
        .map(|f| f.vulnerability_id.as_str())
        .collect();
    for cve in ["CVE-2023-28252", "CVE-2024-21412", "CVE-2024-30051"] {
        assert!(ids.contains(&cve), "{cve} in {ids:?}");
    }
    assert_eq!(of_a.total, 3, "{ids:?}");
    let of_b = s
        .findings(&FindingQuery {
            terminal_id: Some(b.id),
            ..Default::default()
        })
        .await
        .expect("findings");
    assert_eq!(of_b.total, 0, "build 4412 is past every Windows sample");
    let unyo = s
        .findings(&FindingQuery {
            subject: Some("unyo".into()),
            ..Default::default()
        })
        .await
        .expect("findings");
    assert!(
        unyo.items
            .iter()
            .all(|f| f.product_key.starts_with("crates.io:"))
    );

    // Suggestions wait for the SE; 7-Zip is suggested from its name and publisher.
    let suggested = s.cpe_mappings(Some("suggested")).await.expect("mappings");
    assert_eq!(suggested.len(), 4);
    let seven = suggested
        .iter()
        .find(|m| m.name_key == "7-zip")
        .expect("7-zip");
    assert_eq!(
        seven.cpes,
        vec!["cpe:2.3:a:7-zip:7-zip:*:*:*:*:*:*:*:*".to_string()]
    );
    assert_eq!(seven.terminals, 2);
    assert!(matches!(
        s.confirm_cpe_mapping(&auditor, seven.id, None).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    for m in &suggested {
        if m.name_key == "sakura editor" {
            // Corrected: not tracked.
            s.confirm_cpe_mapping(&se, m.id, Some(&[]))
                .await
                .expect("correct");
        } else {
            let c = s
                .confirm_cpe_mapping(&se, m.id, None)
                .await
                .expect("confirm");
            assert_eq!(c.status, "confirmed");
            assert_eq!(c.confirmed_by.as_deref(), Some("se"));
        }
    }
    let bad = s
        .confirm_cpe_mapping(&se, seven.id, Some(&["7zip".to_string()]))
        .await
        .expect_err("not a CPE");
    assert!(
        bad.to_string().contains("入力内容")
            || matches!(bad, StoreError::Domain(DomainError::Validation(_)))
    );

    let m = s.rematch_vulnerabilities(&se).await.expect("match");
    assert_eq!(m.opened, 3, "{m:?}");
    let of_a = s
        .findings(&FindingQuery {
            terminal_id: Some(a.id),
            status: Some("open".into()),
            ..Default::default()
        })
        .await
        .expect("findings");
    let mut ids: Vec<&str> = of_a
        .items
        .iter()
        .map(|f| f.vulnerability_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "CVE-2023-28252",
            "CVE-2023-40031",
            "CVE-2024-0519",
            "CVE-2024-21412",
            "CVE-2024-30051",
            "CVE-2025-0411"
        ]
    );
    let seven_finding = of_a
        .items
        .iter()
        .find(|f| f.vulnerability_id == "CVE-2025-0411")
        .expect("7-zip finding");
    assert_eq!(seven_finding.software, "7-Zip 24.08 (x64)");
    assert_eq!(seven_finding.fixed_version.as_deref(), Some("24.09"));
    assert_eq!(seven_finding.severity, "high");
    assert!(seven_finding.due_date.is_some());
    let by_cve = s
        .findings(&FindingQuery {
            cve: Some("cve-2024-0519".into()),
            ..Default::default()
        })
        .await
        .expect("by cve");
    assert_eq!(by_cve.total, 1);

    // A later inventory shows 7-Zip 24.09: the finding is resolved by it.
    let later = report(
        s,
        &a.hostname,
        "10.0.19044.2728",
        vec![
            sw("7-Zip 24.09 (x64)", "24.09", "Igor Pavlov"),
            sw("Google Chrome", "120.0.6099.217", "Google LLC"),
            sw("Notepad++ (64-bit x64)", "8.5.6", "Notepad++ Team"),
        ],
    )
    .await;
    let m = s.rematch_vulnerabilities(&se).await.expect("match");
    assert_eq!(m.resolved, 1, "{m:?}");
    let f = s.finding(seven_finding.id).await.expect("finding");
    assert_eq!(f.status, "resolved");
    assert_eq!(f.resolution.as_deref(), Some("inventory"));
    assert_eq!(f.inventory_id, Some(later));
    assert_eq!(f.version, "24.09");
    let ev = s.finding_events(f.id).await.expect("events");
    assert_eq!(
        ev.iter().map(|e| e.to_status.as_str()).collect::<Vec<_>>(),
        vec!["open", "resolved"]
    );

    // A Rejected version of CVE-2024-0519 replaces the record (the old one kept) and withdraws its finding.
    let rejected = br#"{"resultsPerPage":1,"vulnerabilities":[{"cve":{"id":"CVE-2024-0519","sourceIdentifier":"x",
        "published":"2024-01-16T22:15:37.817","lastModified":"2026-07-01T00:00:00.000","vulnStatus":"Rejected",
        "descriptions":[{"lang":"en","value":"Rejected reason: test."}]}}]}"#;
    let o = s
        .import_feed_reader(
            &se,
            "rejected.json",
            std::io::Cursor::new(rejected.to_vec()),
        )
        .await
        .expect("import");
    assert!(o.ok, "{}", o.message);
    assert_eq!(o.updated, 1);
    let d = s.vulnerability("CVE-2024-0519").await.expect("record");
    assert!(d.row.rejected);
    assert_eq!(d.history.len(), 1);
    let m = s.rematch_vulnerabilities(&se).await.expect("match");
    assert_eq!(m.withdrawn, 1, "{m:?}");
    let chrome = s
        .findings(&FindingQuery {
            cve: Some("CVE-2024-0519".into()),
            ..Default::default()
        })
        .await
        .expect("findings");
    assert_eq!(chrome.items[0].status, "withdrawn");

    // Lists and filters.
    let v = s
        .vulnerabilities(&VulnQuery {
            q: Some("7-zip".into()),
            feed: Some("nvd".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(v.total >= 3, "{}", v.total);
    let with = s
        .vulnerabilities(&VulnQuery {
            with_findings: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(with.items.iter().all(|r| r.active_findings > 0));

    // A garbage file is refused and recorded.
    let o = s
        .import_feed_reader(&se, "notes.txt", std::io::Cursor::new(b"hello".to_vec()))
        .await
        .expect("import");
    assert!(!o.ok);
    assert!(
        o.message
            .starts_with("notes.txt: 脆弱性情報のファイルとして認識できません"),
        "{}",
        o.message
    );

    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}
