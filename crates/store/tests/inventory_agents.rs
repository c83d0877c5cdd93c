//! GLPI Agent intake in the store: a partial inventory (`"partial": true`, software only) is stored merged
//! into the full one before it, and diffed against it as a whole; the agents seen reporting are recorded
//! per device id with their software, version, GLPI-Agent-ID and protocol, new agents and changes audited —
//! on SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` names one.

use std::path::PathBuf;
use unyo_domain::inventory::InventorySnapshot;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_store::audit::AuditQuery;
use unyo_store::inventory::{
    AgentContact, InventorySource, MatchedBy, PROTOCOL_GLPI_JSON, PROTOCOL_OCS_XML, Submitter,
    body_digest,
};
use unyo_store::testing::test_store;
use unyo_store::{Actor, Store};

fn sample(name: &str) -> (InventorySnapshot, String, i64) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../inventory/tests/samples")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let snap = unyo_inventory::parse_any(&bytes).expect("sample parses");
    let (sha, size) = body_digest(&bytes);
    (snap, sha, size)
}

async fn setup(s: &Store) -> i64 {
    let sys = Actor::system("test");
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
    s.create_terminal(
        &sys,
        &TerminalInput {
            site_id: Some(site),
            hostname: "glpixps".into(),
            kind: "business".into(),
            ..Default::default()
        },
    )
    .await
    .expect("terminal")
    .id
}

#[tokio::test]
async fn a_partial_inventory_is_merged_into_the_last_full_one() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let terminal = setup(s).await;
    let cred = s
        .create_agent_credential(&Actor::system("test"), "県庁")
        .await
        .unwrap();
    let agent = s
        .verify_agent_credential(&cred.username, &cred.password)
        .await
        .unwrap()
        .expect("credential");
    let by = Submitter::Agent {
        credential: agent,
        source: "127.0.0.1".into(),
    };

    let (full, sha, size) = sample("glpi-computer_1.json");
    let first = s
        .store_inventory(&by, &full, &sha, size, InventorySource::Agent)
        .await
        .unwrap();
    assert_eq!(first.terminal_id, Some(terminal));
    assert_eq!(first.matched_by, MatchedBy::Hostname);

    // Software only, with a package changed: the OS, antivirus and addresses of the full one stay.
    let (mut part, sha, size) = sample("glpi-computer_1_partial_softs.json");
    assert!(part.partial);
    part.os = Default::default();
    part.ip_addresses.clear();
    part.mac_addresses.clear();
    let renamed = part.software[0].name.clone();
    part.software[0].version = Some("99.0-unyo-test".into());
    let second = s
        .store_inventory(&by, &part, &sha, size, InventorySource::Agent)
        .await
        .unwrap();
    assert_eq!(second.terminal_id, Some(terminal));
    assert!(!second.queued);

    let latest = s.latest_inventory(terminal).await.unwrap().expect("latest");
    assert_eq!(latest.id, second.inventory_id);
    let merged = &latest.snapshot;
    assert!(!merged.partial, "stored whole");
    assert_eq!(merged.os, full.os, "the OS of the full inventory is kept");
    assert_eq!(merged.ip_addresses, full.ip_addresses);
    assert_eq!(merged.software.len(), part.software.len());
    assert_eq!(merged.hostname.as_deref(), Some("glpixps"));

    // The diff against the full one names the changed package and removes nothing else wholesale.
    let history = s.inventory_history(terminal, 10).await.unwrap();
    assert_eq!(history.len(), 2);
    let d = history[0].changes.as_ref().expect("diff");
    assert!(d.os_changes.is_empty(), "{:?}", d.os_changes);
    assert!(
        d.software_upgraded
            .iter()
            .chain(&d.software_downgraded)
            .chain(&d.software_changed)
            .any(|c| c.name == renamed),
        "{d:?}"
    );

    let audit = s
        .audit_log(&AuditQuery {
            action: Some("inventory.receive".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&audit.items[0].details).unwrap();
    assert_eq!(details["partial"], true);
    assert_eq!(details["merged_from"], first.inventory_id);

    // A partial inventory of a machine never seen before is stored as it came.
    let (mut alone, sha, size) = sample("glpi-computer_1_partial_softs.json");
    alone.device_id = Some("other-2026-01-01-00-00-00".into());
    alone.uuid = None;
    alone.serial = None;
    alone.hostname = Some("unknown-pc".into());
    let out = s
        .store_inventory(&by, &alone, &sha, size, InventorySource::Agent)
        .await
        .unwrap();
    assert!(out.queued);
    assert!(
        s.inventory(out.inventory_id)
            .await
            .unwrap()
            .snapshot
            .partial
    );
}

#[tokio::test]
async fn agents_are_recorded_per_device_with_their_protocol() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let cred = s
        .create_agent_credential(&Actor::system("test"), "県庁")
        .await
        .unwrap();
    let agent = s
        .verify_agent_credential(&cred.username, &cred.password)
        .await
        .unwrap()
        .expect("credential");
    let fusion = AgentContact {
        device_id: "pc-2026-01-01-00-00-00",
        kind: "fusioninventory",
        version: Some("2.6-3"),
        glpi_agent_id: None,
        protocol: PROTOCOL_OCS_XML,
        message: "prolog",
    };
    s.record_agent_contact(&agent, &fusion, "127.0.0.1")
        .await
        .unwrap();
    s.record_agent_contact(
        &agent,
        &AgentContact {
            message: "inventory",
            ..fusion.clone()
        },
        "127.0.0.2",
    )
    .await
    .unwrap();
    let agents = s.inventory_agents().await.unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].kind, "fusioninventory");
    assert_eq!(agents[0].last_message, "inventory");
    assert_eq!(agents[0].last_contact_from, "127.0.0.2");
    assert_eq!(agents[0].credential_name, "県庁");

    // The same machine now runs the GLPI Agent.
    s.record_agent_contact(
        &agent,
        &AgentContact {
            kind: "glpi",
            version: Some("1.12"),
            glpi_agent_id: Some("89b95ba2-f20b-11f1-93ed-a5cfba3cbc5e"),
            protocol: PROTOCOL_GLPI_JSON,
            message: "contact",
            ..fusion
        },
        "127.0.0.1",
    )
    .await
    .unwrap();
    let agents = s.inventory_agents().await.unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].kind, "glpi");
    assert_eq!(agents[0].protocol, PROTOCOL_GLPI_JSON);
    assert_eq!(
        agents[0].glpi_agent_id.as_deref(),
        Some("89b95ba2-f20b-11f1-93ed-a5cfba3cbc5e")
    );

    let count = |action: &'static str| async move {
        s.audit_log(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len()
    };
    assert_eq!(count("agent.register").await, 1);
    assert_eq!(
        count("agent.change").await,
        1,
        "the repeat contact is not audited"
    );
    let creds = s.agent_credentials().await.unwrap();
    assert!(creds[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_verified_agent_credential_is_remembered_until_revoked() {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let cred = s.create_agent_credential(&sys, "県庁").await.unwrap();
    let verify = |password: &str| {
        let password = password.to_string();
        let username = cred.username.clone();
        async move {
            s.verify_agent_credential(&username, &password)
                .await
                .unwrap()
        }
    };

    // The first post of a run is checked with Argon2; the next ones are remembered.
    let before = s.agent_password_checks();
    assert_eq!(verify(&cred.password).await.expect("valid").id, cred.id);
    assert_eq!(s.agent_password_checks(), before + 1);
    for _ in 0..5 {
        assert!(verify(&cred.password).await.is_some());
    }
    assert_eq!(s.agent_password_checks(), before + 1, "remembered");
    // A clone of the store (another request's handle) shares the memo.
    assert!(
        s.clone()
            .verify_agent_credential(&cred.username, &cred.password)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.agent_password_checks(), before + 1);

    // A wrong password is never remembered: each try costs a check and fails.
    assert!(verify("wrong").await.is_none());
    assert!(verify("wrong").await.is_none());
    assert_eq!(s.agent_password_checks(), before + 3);

    // Revocation takes effect at once, memo or not.
    s.revoke_agent_credential(&sys, cred.id).await.unwrap();
    assert!(verify(&cred.password).await.is_none());
}
