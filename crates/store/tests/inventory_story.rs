//! The inventory story: inventories matched to terminals by UUID, serial number and host name, ambiguous
//! and unknown ones waiting for review, a person linking (after which the UUID matches) or registering a
//! terminal, every snapshot kept with the change between two, agent credentials — on SQLite by default
//! and on PostgreSQL when `TEST_DATABASE_URL` names one.

use std::path::PathBuf;
use unyo_domain::inventory::{InventorySnapshot, OsField};
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::{DomainError, Role};
use unyo_store::audit::{AuditQuery, ChainReport};
use unyo_store::inventory::{
    DEFAULT_STALE_DAYS, InventoryQuery, InventorySource, MatchedBy, Submitter, body_digest,
};
use unyo_store::testing::test_store;
use unyo_store::{Actor, Store, StoreError};

fn sample_bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../inventory/tests/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sample(name: &str) -> (InventorySnapshot, String, i64) {
    let bytes = sample_bytes(name);
    let snap = unyo_inventory::parse_any(&bytes).expect("sample parses");
    let (sha, size) = body_digest(&bytes);
    (snap, sha, size)
}

async fn import(store: &Store, actor: &Actor, name: &str) -> unyo_store::inventory::StoreOutcome {
    let (snap, sha, size) = sample(name);
    store
        .store_inventory(
            &Submitter::Person(actor.clone()),
            &snap,
            &sha,
            size,
            InventorySource::File,
        )
        .await
        .expect("stored")
}

async fn terminal(store: &Store, site: i64, hostname: &str, serial: &str) -> i64 {
    store
        .create_terminal(
            &Actor::system("test"),
            &TerminalInput {
                site_id: Some(site),
                hostname: hostname.into(),
                kind: "business".into(),
                serial_number: serial.into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal")
        .id
}

#[tokio::test]
async fn inventories_are_matched_kept_reviewed_and_diffed() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let se = s
        .create_user(&sys, "se", "保守太郎", Role::Se, "correct-horse-battery")
        .await
        .expect("se")
        .actor("127.0.0.1");
    let staff = s
        .create_user(
            &sys,
            "staff",
            "県職員",
            Role::Staff,
            "correct-horse-battery",
        )
        .await
        .expect("staff")
        .actor("127.0.0.1");
    let auditor = s
        .create_user(
            &sys,
            "audit",
            "監査",
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
        .expect("site")
        .id;

    // Nothing yet.
    assert!(s.latest_inventories().await.unwrap().is_empty());

    // 1. Host name: the Windows 8.1 machine reports `pc-arg-23`; the registry has it in capitals.
    let win = terminal(s, site, "PC-ARG-23", "").await;
    let out = import(s, &se, "fusioninventory-2.xml").await;
    assert_eq!(out.terminal_id, Some(win));
    assert_eq!(out.matched_by, MatchedBy::Hostname);
    assert!(!out.queued);
    let latest = s.latest_inventory(win).await.unwrap().expect("latest");
    assert_eq!(latest.id, out.inventory_id);
    assert_eq!(latest.source, "file");
    assert_eq!(latest.snapshot.os.build.as_deref(), Some("6.3.9600"));
    assert_eq!(latest.snapshot.software.len(), 8);
    assert_eq!(latest.snapshot.antivirus.len(), 2);
    let summary = s.inventory_summary(out.inventory_id).await.unwrap();
    assert_eq!(summary.software_count, 8);
    assert_eq!(summary.terminal_hostname.as_deref(), Some("PC-ARG-23"));
    assert_eq!(summary.antivirus[0].name, "Windows Defender");
    assert_eq!(
        summary.uuid.as_deref(),
        Some("33E737A8-F827-11DF-9297-47C0A301005A")
    );
    assert_eq!(summary.received_by, "se");
    assert_eq!(
        summary.body_size,
        sample_bytes("fusioninventory-2.xml").len() as i64
    );

    // 2. Serial number: LF014 is registered under another name with its serial in lower case.
    let lf = terminal(s, site, "kencho-lf", "8c554721f").await;
    let old = import(s, &se, "glpi-computer_3.json").await;
    assert_eq!(
        (old.terminal_id, old.matched_by),
        (Some(lf), MatchedBy::Serial)
    );
    // Every snapshot is kept: the updated inventory of the same machine is a second row.
    let new = import(s, &se, "glpi-computer_3_updated.json").await;
    assert_eq!(new.terminal_id, Some(lf));
    assert_ne!(new.inventory_id, old.inventory_id);
    let page = s
        .inventories(&InventoryQuery {
            hostname: Some("lf014.glpi-project.infra".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].id, new.inventory_id, "newest first");
    assert_eq!(page.items[0].software_count, 3184);
    assert_eq!(page.items[1].software_count, 3033);

    // The history shows what changed from the first snapshot to the second.
    let history = s.inventory_history(lf, 50).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].summary.id, new.inventory_id);
    assert!(history[1].changes.is_none(), "nothing before the first");
    let d = history[0].changes.as_ref().expect("diff");
    let removed: Vec<&str> = d.software_removed.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        removed,
        [
            "libebitdo",
            "pyrpkg",
            "python-idna",
            "python-pycurl",
            "python-pygments"
        ]
    );
    assert_eq!(d.software_added.len(), 156);
    let kernels: Vec<(&str, &str)> = d
        .software_upgraded
        .iter()
        .filter(|c| c.name == "kernel")
        .map(|c| {
            (
                c.old_version.as_deref().unwrap(),
                c.new_version.as_deref().unwrap(),
            )
        })
        .collect();
    assert!(
        kernels.contains(&("4.9.9-200.fc25", "4.11.3-200.fc25")),
        "{kernels:?}"
    );
    let build = d
        .os_changes
        .iter()
        .find(|c| c.field == OsField::Build)
        .expect("build changed");
    assert_eq!(build.change.old.as_deref(), Some("4.9.9-200.fc25.x86_64"));
    assert_eq!(build.change.new.as_deref(), Some("4.11.3-200.fc25.x86_64"));
    let latest = s.latest_inventory(lf).await.unwrap().unwrap();
    assert_eq!(latest.id, new.inventory_id);

    // 3. Ambiguity: two terminals share the short name of the Mac → review queue with both.
    let mac_a = terminal(s, site, "macbook-de-teclib", "").await;
    let mac_b = terminal(s, site, "MacBook-de-teclib.branch", "").await;
    let mac = import(s, &se, "fusioninventory-3.xml").await;
    assert_eq!(mac.terminal_id, None);
    assert!(mac.queued);
    assert_eq!(mac.review_reason.as_deref(), Some("ambiguous"));
    let queue = s.review_queue().await.unwrap();
    assert_eq!(queue.len(), 1);
    let mut cands: Vec<i64> = queue[0].candidates.iter().map(|c| c.terminal_id).collect();
    cands.sort();
    assert_eq!(cands, vec![mac_a, mac_b]);
    assert!(queue[0].candidates.iter().all(|c| c.rule == "hostname"));

    // 4. Unknown: nothing is called glpixps.
    let xps = import(s, &se, "glpi-computer_1.json").await;
    assert_eq!(xps.matched_by, MatchedBy::None);
    assert_eq!(xps.review_reason.as_deref(), Some("unknown"));
    // A newer inventory of the same machine replaces the older one in the queue; both are kept.
    let xps2 = import(s, &se, "glpi-computer_1.json").await;
    let queue = s.review_queue().await.unwrap();
    let ids: Vec<i64> = queue.iter().map(|q| q.inventory.id).collect();
    assert_eq!(ids, vec![mac.inventory_id, xps2.inventory_id]);
    assert_eq!(s.review_count().await.unwrap(), 2);

    // Only reviewers may resolve.
    let refused = s.link_inventory(&auditor, mac.inventory_id, mac_a).await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let refused = s.link_inventory(&staff, mac.inventory_id, mac_a).await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));

    // 5. A person links the Mac to terminal A: the UUID and device id are stored on it…
    let linked = s
        .link_inventory(&se, mac.inventory_id, mac_a)
        .await
        .unwrap();
    assert_eq!(linked, vec![mac.inventory_id]);
    assert_eq!(
        s.inventory_summary(mac.inventory_id)
            .await
            .unwrap()
            .matched_by,
        "linked"
    );
    // …so the next inventory of the Mac matches by UUID, despite the two names.
    let again = import(s, &se, "fusioninventory-3.xml").await;
    assert_eq!(
        (again.terminal_id, again.matched_by),
        (Some(mac_a), MatchedBy::Uuid)
    );
    // Linking twice is refused.
    assert!(
        s.link_inventory(&se, mac.inventory_id, mac_b)
            .await
            .is_err()
    );
    // Another machine with the Mac's name but another UUID does not take over terminal A (bound to the
    // Mac's UUID): B is the only host-name candidate left.
    let (mut other, sha, size) = sample("fusioninventory-3.xml");
    other.uuid = Some("11111111-2222-3333-4444-555555555555".into());
    other.device_id = Some("other-2026-01-01-00-00-00".into());
    other.serial = None;
    let o = s
        .store_inventory(
            &Submitter::Person(se.clone()),
            &other,
            &sha,
            size,
            InventorySource::Upload,
        )
        .await
        .unwrap();
    assert_eq!(
        (o.terminal_id, o.matched_by),
        (Some(mac_b), MatchedBy::Hostname)
    );

    // 6. Register a terminal from the unknown inventory: both glpixps inventories join it.
    let refused = s
        .register_terminal_from_inventory(&staff, xps2.inventory_id, site, "business")
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let xps_terminal = s
        .register_terminal_from_inventory(&se, xps2.inventory_id, site, "business")
        .await
        .unwrap();
    let t = s.terminal(xps_terminal).await.unwrap();
    assert_eq!(t.hostname, "glpixps");
    assert_eq!(t.serial_number, "640HP72");
    assert_eq!(t.os_name, "Fedora 31 (Workstation Edition)");
    let hist = s.inventory_history(xps_terminal, 10).await.unwrap();
    let ids: Vec<i64> = hist.iter().map(|h| h.summary.id).collect();
    assert_eq!(ids, vec![xps2.inventory_id, xps.inventory_id]);
    assert!(
        hist[0].changes.as_ref().unwrap().is_empty(),
        "same file twice"
    );
    assert!(s.review_queue().await.unwrap().is_empty());
    // Its next inventory matches by UUID.
    let xps3 = import(s, &se, "glpi-computer_1.json").await;
    assert_eq!(xps3.matched_by, MatchedBy::Uuid);

    // Retired terminals are not matched.
    s.retire_terminal(&sys, win, "更新のため撤去")
        .await
        .unwrap();
    let gone = import(s, &se, "fusioninventory-2.xml").await;
    assert_eq!(gone.terminal_id, None);
    assert_eq!(gone.review_reason.as_deref(), Some("unknown"));

    // Latest per linked terminal, the overview of active terminals.
    let latest = s.latest_inventories().await.unwrap();
    let mut per: Vec<(Option<i64>, i64)> = latest.iter().map(|l| (l.terminal_id, l.id)).collect();
    per.sort();
    let mut want = vec![
        (Some(win), out.inventory_id),
        (Some(lf), new.inventory_id),
        (Some(mac_a), again.inventory_id),
        (Some(mac_b), o.inventory_id),
        (Some(xps_terminal), xps3.inventory_id),
    ];
    want.sort();
    assert_eq!(per, want);
    let overview = s.inventory_overview(DEFAULT_STALE_DAYS).await.unwrap();
    assert_eq!(overview.len(), 4, "active terminals only");
    assert!(overview.iter().all(|r| r.latest.is_some() && !r.stale));
    assert!(
        s.inventory_overview(-1)
            .await
            .unwrap()
            .iter()
            .all(|r| r.stale),
        "with a limit in the past every inventory is stale"
    );

    // Staff may not import.
    let (snap, sha, size) = sample("fusioninventory-1.xml");
    let refused = s
        .store_inventory(
            &Submitter::Person(staff.clone()),
            &snap,
            &sha,
            size,
            InventorySource::Upload,
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));

    // Every inventory was audited.
    let receive = s
        .audit_log(&AuditQuery {
            action: Some("inventory.receive".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(receive.total, 10);
    assert!(matches!(
        s.verify_audit_chain().await.unwrap(),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn agent_credentials_authenticate_and_are_audited() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let se = s
        .create_user(&sys, "se", "保守太郎", Role::Se, "correct-horse-battery")
        .await
        .expect("se")
        .actor("127.0.0.1");
    assert!(matches!(
        s.create_agent_credential(&se, "県庁").await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    assert!(s.create_agent_credential(&sys, "  ").await.is_err());
    let cred = s.create_agent_credential(&sys, "県庁の端末").await.unwrap();
    assert!(cred.username.starts_with("agent-"));
    assert_eq!(cred.password.len(), 32);
    let listed = s.agent_credentials().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "県庁の端末");
    assert!(listed[0].last_used_at.is_none());

    let ok = s
        .verify_agent_credential(&cred.username, &cred.password)
        .await
        .unwrap()
        .expect("valid");
    assert_eq!(ok.id, cred.id);
    assert!(
        s.verify_agent_credential(&cred.username, "wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_agent_credential("agent-nobody", &cred.password)
            .await
            .unwrap()
            .is_none()
    );

    // An agent's inventory is recorded as the agent's.
    let (snap, sha, size) = sample("fusioninventory-1.xml");
    let out = s
        .store_inventory(
            &Submitter::Agent {
                credential: ok.clone(),
                source: "10.41.0.11".into(),
            },
            &snap,
            &sha,
            size,
            InventorySource::Agent,
        )
        .await
        .unwrap();
    let summary = s.inventory_summary(out.inventory_id).await.unwrap();
    assert_eq!(summary.source, "agent");
    assert_eq!(summary.received_by, format!("agent:{}", cred.username));
    assert!(
        s.agent_credentials().await.unwrap()[0]
            .last_used_at
            .is_some()
    );
    // The source must fit the submitter.
    assert!(
        s.store_inventory(
            &Submitter::Agent {
                credential: ok.clone(),
                source: "x".into()
            },
            &snap,
            &sha,
            size,
            InventorySource::File
        )
        .await
        .is_err()
    );

    s.record_agent_auth_failure("agent-nobody", "10.0.0.9", "unknown_or_wrong_password")
        .await
        .unwrap();
    let failures = s
        .audit_log(&AuditQuery {
            action: Some("agent.auth_failure".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failures.total, 1);
    assert_eq!(failures.items[0].actor, "agent:agent-nobody");
    assert_eq!(failures.items[0].source, "10.0.0.9");

    // A revoked credential is refused.
    s.revoke_agent_credential(&sys, cred.id).await.unwrap();
    assert!(
        s.verify_agent_credential(&cred.username, &cred.password)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.revoke_agent_credential(&sys, cred.id).await.is_err());
}
