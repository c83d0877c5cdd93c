//! The rollout-campaign story (issue 4): a 「Windows Defender の定義」 campaign over the fleet moves a
//! terminal to 実施済 from a real agent inventory alone (the FusionInventory sample, its host name set to a
//! registered terminal), attested statuses stay attested, stages hold back business terminals, closing
//! waits for every terminal, and the compliance grid shows who lags and why — on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` names one.

use chrono::{Duration, Utc};
use unyo_domain::campaign::{
    AttestInput, CampaignGoal, CampaignInput, CellState, Evidence, ExcludeInput, TargetStatus,
};
use unyo_domain::inventory::InventorySnapshot;
use unyo_domain::registry::{SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{DomainError, Role};
use unyo_store::audit::{AuditQuery, ChainReport};
use unyo_store::campaigns::{
    CampaignDetail, CampaignQuery, CampaignTarget, ComplianceQuery, campaign_number,
    inventory_actor,
};
use unyo_store::inventory::{InventorySource, Submitter, body_digest};
use unyo_store::registry::Terminal;
use unyo_store::support::jst_today;
use unyo_store::testing::{TestDb, test_store};
use unyo_store::users::User;
use unyo_store::{Actor, Store, StoreError};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../inventory/tests/samples/fusioninventory-2.xml"
);

struct World {
    db: TestDb,
    admin: User,
    staff: User,
    se: User,
    auditor: User,
    kencho: i64,
    tosu: i64,
    rep: Terminal,
    biz: Terminal,
    far: Terminal,
    spare: Terminal,
    contract: i64,
}

fn a(u: &User) -> Actor {
    u.actor("127.0.0.1")
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
        ("audit", "監査人", Role::Auditor),
    ] {
        users.push(
            s.create_user(&sys, name, display, role, "correct-horse-battery")
                .await
                .expect("user"),
        );
    }
    let [admin, staff, se, auditor] = <[User; 4]>::try_from(users).expect("four users");
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = s
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site")
        .id;
    let tosu = s
        .create_site(&sys, &site("TOSU", "鳥栖保健福祉事務所", "hofuku"))
        .await
        .expect("site")
        .id;
    let terminal = |site_id: i64, host: &str, kind: &str| TerminalInput {
        site_id: Some(site_id),
        hostname: host.into(),
        kind: kind.into(),
        os_name: "Windows".into(),
        ..Default::default()
    };
    let mut made = Vec::new();
    for (site_id, host, kind) in [
        (kencho, "jk-kencho-rep01", "representative"),
        (kencho, "jk-kencho-biz01", "business"),
        (tosu, "jk-tosu-biz01", "business"),
        (tosu, "jk-tosu-biz02", "business"),
    ] {
        made.push(
            s.create_terminal(&sys, &terminal(site_id, host, kind))
                .await
                .expect("terminal"),
        );
    }
    // A retired terminal is never a target.
    let old = s
        .create_terminal(&sys, &terminal(tosu, "jk-tosu-old01", "business"))
        .await
        .expect("terminal");
    s.retire_terminal(&sys, old.id, "更新により撤去")
        .await
        .expect("retire");
    let [rep, biz, far, spare] = <[Terminal; 4]>::try_from(made).expect("four terminals");
    let contract = s
        .create_contract(
            &a(&admin),
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "2020-04-01".into(),
                term_end: "2099-03-31".into(),
                contractor: "株式会社サンプル".into(),
                manager: "保守太郎".into(),
                staff_ids: vec![se.id],
            },
        )
        .await
        .expect("contract")
        .id;
    World {
        db,
        admin,
        staff,
        se,
        auditor,
        kencho,
        tosu,
        rep,
        biz,
        far,
        spare,
        contract,
    }
}

/// The real FusionInventory sample (Windows 8.1, Windows Defender and Kaspersky reporting their
/// definitions up to date, no definition version) as reported by the machine `host`. Machines other than
/// the sample's own (`machine > 0`) get their own UUID, serial and device id.
fn sample(host: &str, machine: u32) -> (InventorySnapshot, String, i64) {
    let bytes = std::fs::read(SAMPLE).expect("sample file");
    let mut snap = unyo_inventory::parse_any(&bytes).expect("the sample parses");
    snap.hostname = Some(host.into());
    if machine > 0 {
        snap.uuid = Some(format!("33E737A8-F827-11DF-9297-47C0A30100{machine:02}"));
        snap.serial = Some(format!("CZC04797{machine:02}"));
        snap.device_id = Some(format!("{host}-2017-04-18-09-26-{machine:02}"));
    }
    let (sha, size) = body_digest(&bytes);
    (snap, sha, size)
}

/// Stores the sample as reported by `t` and checks it was matched to `t`; returns the inventory id.
async fn report(s: &Store, t: &Terminal, machine: u32) -> i64 {
    let (snap, sha, size) = sample(&t.hostname, machine);
    let out = s
        .store_inventory(
            &Submitter::Person(Actor::system("test")),
            &snap,
            &sha,
            size,
            InventorySource::File,
        )
        .await
        .expect("stored");
    assert_eq!(out.terminal_id, Some(t.id), "matched to {}", t.hostname);
    out.inventory_id
}

fn target(d: &CampaignDetail, t: &Terminal) -> CampaignTarget {
    d.targets
        .iter()
        .find(|x| x.terminal_id == t.id)
        .cloned()
        .unwrap_or_else(|| panic!("{} is a target", t.hostname))
}

fn av_up_to_date(title: &str) -> CampaignInput {
    CampaignInput {
        title: title.into(),
        goal_type: "antivirus".into(),
        product_pattern: "Windows Defender".into(),
        target: "all".into(),
        staged: true,
        ..Default::default()
    }
}

async fn work_entry(w: &World, terminals: Vec<i64>, site: i64, start: &str) -> i64 {
    w.db.store
        .create_work_entry(
            &a(&w.se),
            &WorkInput {
                contract_id: Some(w.contract),
                work_date: jst_today().format("%Y-%m-%d").to_string(),
                start_time: start.into(),
                end_time: format!("{}:30", &start[..2]),
                worker_ids: vec![w.se.id],
                mode: "onsite".into(),
                site_id: Some(site),
                terminal_ids: terminals,
                category: "antivirus_update".into(),
                description: "ウイルス定義の手動更新".into(),
                result: "正常終了".into(),
                ..Default::default()
            },
        )
        .await
        .expect("work entry")
        .id
}

fn attest(status: &str, work: Option<i64>, witness: &str, note: &str) -> AttestInput {
    AttestInput {
        status: status.into(),
        work_entry_id: work,
        witness: witness.into(),
        note: note.into(),
    }
}

fn conflict(e: StoreError) -> String {
    match e {
        StoreError::Domain(DomainError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn invalid(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Domain(DomainError::Validation(f)) => {
            f.into_iter().map(|f| (f.field, f.message)).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_inventory_alone_moves_a_terminal_to_done() {
    let w = world().await;
    let s = &w.db.store;

    // The far terminal reported before the campaign: that inventory proves nothing for it.
    let early = report(s, &w.far, 3).await;

    // Who may create.
    let e = s
        .create_campaign(&a(&w.auditor), &av_up_to_date("x"))
        .await
        .expect_err("auditor");
    assert!(matches!(e, StoreError::Domain(DomainError::Forbidden)));
    assert!(matches!(
        s.create_campaign(&a(&w.staff), &av_up_to_date("x")).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));

    let c = s
        .create_campaign(&a(&w.se), &av_up_to_date("Windows Defender 定義更新"))
        .await
        .expect("created");
    assert_eq!(
        c.number,
        campaign_number(FiscalYear::containing(jst_today()), 1)
    );
    assert!(c.number.starts_with("展-R"), "{}", c.number);
    assert_eq!(
        c.goal,
        CampaignGoal::AvDefinitionsAtLeast {
            product_pattern: "Windows Defender".into(),
            min_version: None,
            min_date: None,
        }
    );
    assert_eq!(c.progress.total, 4, "the retired terminal is not a target");
    assert_eq!(c.progress.pending, 4);

    let d = s.campaign(c.id).await.expect("detail");
    assert_eq!(target(&d, &w.rep).stage, 1);
    assert_eq!(target(&d, &w.biz).stage, 2);
    let far = target(&d, &w.far);
    let latest = far.latest.as_ref().expect("far has an inventory");
    assert_eq!(latest.inventory_id, early);
    assert!(latest.check.met, "the sample reports Defender up to date");
    assert!(!latest.after_start, "received before the campaign started");
    assert!(
        s.refresh_campaign_from_inventories(&inventory_actor(), c.id)
            .await
            .expect("refresh")
            .is_empty(),
        "an inventory received before the start is not evidence"
    );

    // Stage 2 waits for the representative terminal, even with a proving inventory.
    let biz_inv = report(s, &w.biz, 2).await;
    assert!(
        s.refresh_campaign_from_inventories(&inventory_actor(), c.id)
            .await
            .expect("refresh")
            .is_empty()
    );
    let d = s.campaign(c.id).await.expect("detail");
    assert_eq!(target(&d, &w.biz).status(), TargetStatus::Pending);
    assert!(
        target(&d, &w.biz)
            .latest
            .as_ref()
            .expect("latest")
            .after_start
    );

    // The representative terminal reports (the sample itself, host name set to the terminal): the seam
    // the inventory receiver calls verifies it, and the business terminal with it in the same pass.
    let rep_inv = report(s, &w.rep, 0).await;
    let verified = s
        .refresh_campaigns_for_terminal(&inventory_actor(), w.rep.id)
        .await
        .expect("refresh");
    let mut hosts: Vec<&str> = verified.iter().map(|v| v.hostname.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["jk-kencho-biz01", "jk-kencho-rep01"]);

    let d = s.campaign(c.id).await.expect("detail");
    let rep = target(&d, &w.rep);
    assert_eq!(rep.status(), TargetStatus::Done);
    assert_eq!(rep.evidence(), Some(Evidence::Agent));
    assert!(rep.agent_verified());
    assert_eq!(rep.inventory_id, Some(rep_inv));
    assert_eq!(rep.work_entry_id, None);
    assert_eq!(rep.observed, "Windows Defender（定義は最新と報告）");
    assert_eq!(rep.reason, "Windows Defender は定義が最新と報告しています");
    assert_eq!(rep.updated_by, "system");
    let biz = target(&d, &w.biz);
    assert_eq!(biz.status(), TargetStatus::Done);
    assert_eq!(biz.inventory_id, Some(biz_inv));
    assert_eq!(d.progress.done_agent, 2);
    assert_eq!(d.progress.label_ja(), "2/4 実施済");

    // Refreshing again changes nothing and writes nothing.
    let before = s.audit_len().await.expect("len");
    assert!(
        s.refresh_campaign_from_inventories(&inventory_actor(), c.id)
            .await
            .expect("refresh")
            .is_empty()
    );
    assert_eq!(s.audit_len().await.expect("len"), before);

    // Closing is refused while terminals are pending.
    let m = conflict(
        s.close_campaign(&a(&w.se), c.id)
            .await
            .expect_err("not yet"),
    );
    assert_eq!(
        m,
        "完了にできません。すべての端末を実施済、または理由を付けて対象外にしてください（未実施 2台）。"
    );

    // The far terminal: the SE attests with a work entry. Attested, never agent-verified.
    let wrong = work_entry(&w, vec![w.rep.id], w.kencho, "09:00").await;
    let e = s
        .attest_target(
            &a(&w.se),
            c.id,
            w.far.id,
            &attest("done", Some(wrong), "", ""),
        )
        .await
        .expect_err("the entry is about another terminal");
    assert_eq!(
        invalid(e),
        [(
            "work_entry_id".to_string(),
            format!("作業記録 {wrong} には端末 jk-tosu-biz01 が含まれていません。")
        )]
    );
    let e = s
        .attest_target(&a(&w.se), c.id, w.far.id, &attest("done", None, "", ""))
        .await
        .expect_err("no entry");
    assert_eq!(invalid(e)[0].0, "work_entry_id");
    assert!(matches!(
        s.attest_target(
            &a(&w.staff),
            c.id,
            w.far.id,
            &attest("done", Some(wrong), "", "")
        )
        .await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let entry = work_entry(&w, vec![w.far.id], w.tosu, "10:00").await;
    let t = s
        .attest_target(
            &a(&w.se),
            c.id,
            w.far.id,
            &attest("done", Some(entry), "県職員花子", "定義を手動で更新"),
        )
        .await
        .expect("attested");
    assert_eq!(t.status(), TargetStatus::Done);
    assert_eq!(t.evidence(), Some(Evidence::Attested));
    assert!(
        !t.agent_verified(),
        "an attestation is never agent-verified"
    );
    assert_eq!(t.inventory_id, None);
    assert_eq!(t.work_entry_id, Some(entry));
    assert_eq!(t.witness, "県職員花子");
    // A later refresh never turns an attestation into agent evidence.
    s.refresh_campaign_from_inventories(&inventory_actor(), c.id)
        .await
        .expect("refresh");
    assert_eq!(
        target(&s.campaign(c.id).await.expect("d"), &w.far).evidence(),
        Some(Evidence::Attested)
    );

    // The spare terminal has no inventory: excluded, with a reason.
    let e = s
        .exclude_target(
            &a(&w.se),
            c.id,
            w.spare.id,
            &ExcludeInput { reason: " ".into() },
        )
        .await
        .expect_err("reason required");
    assert_eq!(invalid(e)[0].1, "対象外の理由を入力してください。");
    s.exclude_target(
        &a(&w.se),
        c.id,
        w.spare.id,
        &ExcludeInput {
            reason: "予備機のため今回は対象外".into(),
        },
    )
    .await
    .expect("excluded");

    let closed = s.close_campaign(&a(&w.se), c.id).await.expect("closed");
    assert!(!closed.is_open());
    assert_eq!(closed.progress.label_ja(), "3/3 実施済（対象外 1台）");
    assert_eq!(
        conflict(
            s.attest_target(
                &a(&w.se),
                c.id,
                w.spare.id,
                &attest("pending", None, "", "")
            )
            .await
            .expect_err("closed")
        ),
        "完了した展開は変更できません。"
    );
    assert_eq!(
        conflict(s.close_campaign(&a(&w.se), c.id).await.expect_err("twice")),
        "この展開は既に完了しています。"
    );

    // Everything is in the audit log, in one intact chain.
    let log = s
        .audit_log(&AuditQuery {
            action: Some("campaign.".into()),
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .expect("audit");
    let actions: Vec<(&str, &str)> = log
        .items
        .iter()
        .rev()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("campaign.create", "se"),
            ("campaign.auto_verify", "system"),
            ("campaign.auto_verify", "system"),
            ("campaign.attest", "se"),
            ("campaign.exclude", "se"),
            ("campaign.close", "se"),
        ]
    );
    assert!(log.items.iter().any(|e| e.action == "campaign.auto_verify"
        && e.details.contains(&format!("\"inventory_id\":{rep_inv}"))));
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
    let list = s
        .campaigns(&CampaignQuery {
            status: Some("closed".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].progress.done_attested, 1);
}

#[tokio::test]
async fn a_definition_version_the_agent_does_not_report_is_not_proven() {
    let w = world().await;
    let s = &w.db.store;
    let c = s
        .create_campaign(
            &a(&w.admin),
            &CampaignInput {
                title: "Windows Defender 定義 1.403".into(),
                goal_type: "antivirus".into(),
                product_pattern: "Windows Defender".into(),
                min_version: "1.403.0.0".into(),
                target: "terminals".into(),
                terminal_ids: vec![w.rep.id],
                ..Default::default()
            },
        )
        .await
        .expect("created");
    report(s, &w.rep, 0).await;
    assert!(
        s.refresh_campaign_from_inventories(&inventory_actor(), c.id)
            .await
            .expect("refresh")
            .is_empty()
    );
    let d = s.campaign(c.id).await.expect("detail");
    let rep = target(&d, &w.rep);
    assert_eq!(rep.status(), TargetStatus::Pending);
    let check = &rep.latest.as_ref().expect("latest").check;
    assert!(!check.met && !check.known);
    assert_eq!(
        check.reason,
        "Windows Defender の定義バージョンが報告されていません"
    );

    // 失敗 needs a note; back to 未実施 is possible.
    let e = s
        .attest_target(&a(&w.se), c.id, w.rep.id, &attest("failed", None, "", ""))
        .await
        .expect_err("note");
    assert_eq!(invalid(e)[0].0, "note");
    let t = s
        .attest_target(
            &a(&w.se),
            c.id,
            w.rep.id,
            &attest("failed", None, "", "定義の更新がタイムアウト"),
        )
        .await
        .expect("failed");
    assert_eq!(t.status(), TargetStatus::Failed);
    assert_eq!(t.evidence(), Some(Evidence::Attested));
    let t = s
        .attest_target(&a(&w.se), c.id, w.rep.id, &attest("pending", None, "", ""))
        .await
        .expect("reset");
    assert_eq!(t.status(), TargetStatus::Pending);
    assert_eq!(t.evidence(), None);

    // An OS-build campaign the sample (6.3.9600) does satisfy, and an application one.
    for (goal, field, value) in [
        ("os_build", "min_build", "6.3.9600"),
        ("app", "min_version", "5.0"),
    ] {
        let mut input = CampaignInput {
            title: format!("{goal} 確認"),
            goal_type: goal.into(),
            target: "kind".into(),
            kind: "representative".into(),
            name_pattern: "ccleaner".into(),
            ..Default::default()
        };
        match field {
            "min_build" => input.min_build = value.into(),
            _ => input.min_version = value.into(),
        }
        let c = s.create_campaign(&a(&w.se), &input).await.expect("created");
        assert_eq!(c.progress.total, 1);
        report(s, &w.rep, 0).await;
        let v = s
            .refresh_campaign_from_inventories(&inventory_actor(), c.id)
            .await
            .expect("refresh");
        assert_eq!(v.len(), 1, "{goal}");
        let rep = target(&s.campaign(c.id).await.expect("d"), &w.rep);
        assert!(rep.agent_verified(), "{goal}");
        assert_eq!(
            rep.observed,
            if goal == "app" {
                "CCleaner 5.09"
            } else {
                "6.3.9600"
            }
        );
    }
}

#[tokio::test]
async fn stages_witnesses_and_the_compliance_grid() {
    let w = world().await;
    let s = &w.db.store;
    let c = s
        .create_campaign(
            &a(&w.se),
            &CampaignInput {
                title: "Windows 10 22H2 への更新".into(),
                goal_type: "os_build".into(),
                min_build: "10.0.19045".into(),
                target: "sites".into(),
                site_ids: vec![w.kencho],
                staged: true,
                witness_required: true,
                ..Default::default()
            },
        )
        .await
        .expect("created");
    assert_eq!(c.progress.total, 2, "the terminals at 県庁");
    let entry_biz = work_entry(&w, vec![w.biz.id], w.kencho, "09:00").await;
    let entry_rep = work_entry(&w, vec![w.rep.id], w.kencho, "10:00").await;

    // Business before representative: refused, whatever the evidence.
    let m = conflict(
        s.attest_target(
            &a(&w.se),
            c.id,
            w.biz.id,
            &attest("done", Some(entry_biz), "県職員花子", ""),
        )
        .await
        .expect_err("stage 2 waits"),
    );
    assert_eq!(
        m,
        "代表端末（jk-kencho-rep01）の実施済が確認されるまで、業務端末は実施済にできません。"
    );
    // A witness is wanted.
    let e = s
        .attest_target(
            &a(&w.se),
            c.id,
            w.rep.id,
            &attest("done", Some(entry_rep), "", ""),
        )
        .await
        .expect_err("witness");
    assert_eq!(invalid(e)[0].0, "witness");
    s.attest_target(
        &a(&w.se),
        c.id,
        w.rep.id,
        &attest("done", Some(entry_rep), "県職員花子", ""),
    )
    .await
    .expect("rep");
    s.attest_target(
        &a(&w.se),
        c.id,
        w.biz.id,
        &attest("done", Some(entry_biz), "県職員花子", ""),
    )
    .await
    .expect("biz after rep");
    // The prefecture confirms the witness; the SE cannot.
    assert!(matches!(
        s.confirm_witness(&a(&w.se), c.id, w.rep.id).await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    let t = s
        .confirm_witness(&a(&w.staff), c.id, w.rep.id)
        .await
        .expect("witnessed");
    assert_eq!(t.witness_confirmed_by.as_deref(), Some("staff"));

    // A second, open campaign for the compliance grid: an antivirus definition version.
    s.create_campaign(
        &a(&w.se),
        &CampaignInput {
            title: "定義 1.403".into(),
            goal_type: "antivirus".into(),
            product_pattern: "Windows Defender".into(),
            min_version: "1.403.0.0".into(),
            target: "all".into(),
            ..Default::default()
        },
    )
    .await
    .expect("created");
    report(s, &w.rep, 0).await;
    report(s, &w.far, 3).await;

    let grid = s
        .compliance_grid(&ComplianceQuery::default())
        .await
        .expect("grid");
    let labels: Vec<&str> = grid.items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["OSビルド", "Windows Defender 定義"]);
    assert_eq!(grid.items[0].expected(), "≥ 10.0.19045");
    assert_eq!(grid.rows.len(), 4, "terminals in service");
    let row = |host: &str| {
        grid.rows
            .iter()
            .find(|r| r.hostname == host)
            .unwrap_or_else(|| panic!("{host}"))
    };
    let rep = row("jk-kencho-rep01");
    assert_eq!(rep.cells[0].state, CellState::Lagging);
    assert_eq!(rep.cells[0].observed, "6.3.9600");
    assert_eq!(
        rep.cells[0].reason,
        "OSビルド 6.3.9600 は目標 10.0.19045 未満です"
    );
    assert_eq!(rep.cells[1].state, CellState::Unknown);
    let biz = row("jk-kencho-biz01");
    assert_eq!(biz.cells[0].state, CellState::Unknown);
    assert_eq!(biz.cells[0].reason, "インベントリがありません");
    // Representative first within a site.
    assert_eq!(grid.rows[0].hostname, "jk-kencho-rep01");

    // Filters.
    let tosu = s
        .compliance_grid(&ComplianceQuery {
            site_id: Some(w.tosu),
            kind: None,
        })
        .await
        .expect("grid");
    assert_eq!(tosu.rows.len(), 2);
    let reps = s
        .compliance_grid(&ComplianceQuery {
            site_id: None,
            kind: Some("representative".into()),
        })
        .await
        .expect("grid");
    assert_eq!(reps.rows.len(), 1);

    // A month later every inventory is stale: 不明, with the stale value still shown.
    let later = s
        .compliance_grid_at(&ComplianceQuery::default(), Utc::now() + Duration::days(30))
        .await
        .expect("grid");
    let rep = later
        .rows
        .iter()
        .find(|r| r.hostname == "jk-kencho-rep01")
        .expect("rep");
    assert!(rep.stale);
    assert_eq!(rep.cells[0].state, CellState::Unknown);
    assert_eq!(rep.cells[0].observed, "6.3.9600");
    assert!(rep.cells[0].reason.contains("古いため判定できません"));

    // The baseline: validated, permission-checked, audited; the higher expectation counts.
    assert!(matches!(
        s.set_compliance_baseline(&a(&w.staff), "10.0.22631").await,
        Err(StoreError::Domain(DomainError::Forbidden))
    ));
    assert_eq!(
        invalid(
            s.set_compliance_baseline(&a(&w.se), "latest")
                .await
                .expect_err("invalid")
        )[0]
        .0,
        "os_build_baseline"
    );
    s.set_compliance_baseline(&a(&w.se), "10.0.22631")
        .await
        .expect("baseline");
    let grid = s
        .compliance_grid(&ComplianceQuery::default())
        .await
        .expect("grid");
    assert_eq!(grid.baseline.as_deref(), Some("10.0.22631"));
    assert_eq!(grid.items[0].expected(), "≥ 10.0.22631");
    assert_eq!(grid.items[0].sources[0], "基準値");

    s.close_campaign(&a(&w.admin), c.id).await.expect("closed");
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}
