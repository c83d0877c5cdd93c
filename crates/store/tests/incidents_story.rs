//! The incident story: an incident walked through every stage to a witnessed close, the refusal to close
//! without a witness, reopening, automatic incidents de-duplicated on their probable cause, MTTA/MTTR
//! figures for a known set of times, the known-error library and the permissions — on SQLite by default and
//! on PostgreSQL when `TEST_DATABASE_URL` names one.

use chrono::{DateTime, TimeZone, Utc};
use unyo_domain::incident::{
    AutoIncidentInput, EntryInput, IncidentInput, IncidentTransitionInput, KnownErrorInput,
    Severity, WITNESS_REQUIRED_MESSAGE, WITNESS_STAGE_MESSAGE, WitnessInput, datetime_local,
};
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_domain::support::{ContractInput, WorkInput};
use unyo_domain::time::{jst, to_storage};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{DomainError, Role};
use unyo_store::audit::{AuditQuery, ChainReport};
use unyo_store::incidents::{
    IncidentQuery, IncidentRow, KNOWN_ERROR_NEEDS_CLOSED_MESSAGE, KnownErrorQuery,
};
use unyo_store::registry::{NetworkNode, Site, Terminal};
use unyo_store::support::Contract;
use unyo_store::testing::{TestDb, test_store};
use unyo_store::users::User;
use unyo_store::{Actor, StoreError};

struct World {
    db: TestDb,
    admin: User,
    staff: User,
    se: User,
    auditor: User,
    kencho: Site,
    doboku: Site,
    far: Terminal,
    router: NetworkNode,
    contract: Contract,
}

fn a(u: &User) -> Actor {
    u.actor("127.0.0.1")
}

/// A JST wall-clock time as a UTC instant.
fn jt(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    jst()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc)
}

async fn world() -> World {
    let db = test_store().await.expect("store");
    let s = &db.store;
    let sys = Actor::system("test");
    let user = |name: &'static str, display: &'static str, role: Role| {
        let sys = sys.clone();
        async move {
            s.create_user(&sys, name, display, role, "correct-horse-battery")
                .await
                .expect("user")
        }
    };
    let admin = user("admin", "県管理者", Role::Admin).await;
    let staff = user("staff", "県職員花子", Role::Staff).await;
    let se = user("se", "保守太郎", Role::Se).await;
    let auditor = user("audit", "監査人", Role::Auditor).await;
    let site = |code: &str, name: &str, kind: &str| SiteInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        ..Default::default()
    };
    let kencho = s
        .create_site(&sys, &site("KENCHO", "県庁", "honcho"))
        .await
        .expect("site");
    let doboku = s
        .create_site(&sys, &site("DOBOKU-SAGA", "佐賀土木事務所", "doboku"))
        .await
        .expect("site");
    let far = s
        .create_terminal(
            &sys,
            &TerminalInput {
                site_id: Some(doboku.id),
                hostname: "doboku-saga".into(),
                kind: "business".into(),
                ip_address: "10.0.1.1".into(),
                os_name: "Windows 11".into(),
                ..Default::default()
            },
        )
        .await
        .expect("terminal");
    let router = s
        .create_node(
            &sys,
            &NodeInput {
                name: "佐賀土木ルータ".into(),
                kind: "router".into(),
                site_id: Some(doboku.id),
                ..Default::default()
            },
        )
        .await
        .expect("node");
    let contract = s
        .create_contract(
            &a(&admin),
            &ContractInput {
                name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
                number: "R8-情-001".into(),
                term_start: "令和8年4月1日".into(),
                term_end: "令和9年3月31日".into(),
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
        auditor,
        kencho,
        doboku,
        far,
        router,
        contract,
    }
}

fn report(title: &str, occurred: &str, noticed: &str, site_ids: Vec<i64>) -> IncidentInput {
    IncidentInput {
        title: title.into(),
        severity: "high".into(),
        source: "phone".into(),
        occurred_at: occurred.into(),
        noticed_at: noticed.into(),
        site_ids,
        description: "担当者から電話連絡。業務端末で本人確認情報の照会ができない。".into(),
        ..Default::default()
    }
}

fn step(action: &str, at: &str, comment: &str) -> IncidentTransitionInput {
    IncidentTransitionInput {
        action: action.into(),
        at: at.into(),
        comment: comment.into(),
        ..Default::default()
    }
}

fn witness(at: &str) -> WitnessInput {
    WitnessInput {
        witness_name: "佐賀 花子".into(),
        witness_org: "佐賀県 市町村課".into(),
        witnessed_at: at.into(),
        remark: "照会・更新とも正常に動作することを確認した。".into(),
    }
}

fn entry(kind: &str, at: &str, text: &str) -> EntryInput {
    EntryInput {
        kind: kind.into(),
        at: at.into(),
        text: text.into(),
        ..Default::default()
    }
}

fn messages(e: &StoreError) -> String {
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join(" / "),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn conflict_message(e: &StoreError) -> String {
    match e {
        StoreError::Domain(DomainError::Conflict(m)) => m.clone(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn is_forbidden<T: std::fmt::Debug>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Domain(DomainError::Forbidden)))
}

async fn audit_count(w: &World) -> i64 {
    w.db.store
        .audit_log(&AuditQuery::default())
        .await
        .expect("audit")
        .total
}

/// Walks an incident from 受付 to 完了 (skipping 回避策) with the given JST times (`HH:MM` on 2026-05-20).
async fn walk_to_close(w: &World, id: i64) -> IncidentRow {
    let s = &w.db.store;
    let (se, staff) = (a(&w.se), a(&w.staff));
    s.advance_incident(&se, id, &step("investigate", "2026-05-20T09:30", ""))
        .await
        .expect("investigate");
    s.advance_incident(&se, id, &step("start_recovery", "2026-05-20T09:40", ""))
        .await
        .expect("start recovery");
    s.advance_incident(&se, id, &step("recover", "2026-05-20T10:00", "機器再起動"))
        .await
        .expect("recover");
    s.record_witness(&staff, id, &witness("2026-05-20T10:10"))
        .await
        .expect("witness");
    s.advance_incident(&staff, id, &step("close", "2026-05-20T10:20", ""))
        .await
        .expect("close")
}

#[tokio::test]
async fn full_walk_to_a_witnessed_close() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se, auditor, admin) = (a(&w.staff), a(&w.se), a(&w.auditor), a(&w.admin));
    let now = Utc::now();

    // 受付: reported by the prefecture (a phone call from the site).
    let mut input = report(
        "佐賀土木事務所 業務端末で照会不可",
        "2026-05-12T09:00",
        "2026-05-12T09:10",
        vec![w.doboku.id],
    );
    input.terminal_ids = vec![w.far.id];
    input.node_ids = vec![w.router.id];
    assert!(is_forbidden(&s.report_incident(&auditor, &input).await));
    let inc = s.report_incident(&staff, &input).await.expect("report");
    assert_eq!(inc.number, "INC-R8-0001");
    assert_eq!(inc.fiscal_year, 2026);
    assert_eq!(inc.stage, "reported");
    assert_eq!(inc.severity, "high");
    assert_eq!(inc.source, "phone");
    assert_eq!(inc.created_by_name, "県職員花子");
    assert_eq!(inc.sites, "佐賀土木事務所");
    assert_eq!(inc.occurred_at, to_storage(jt(2026, 5, 12, 9, 0)));
    assert_eq!(inc.noticed_at, to_storage(jt(2026, 5, 12, 9, 10)));
    assert!(inc.first_response_at.is_none());
    let id = inc.id;

    // The prefecture may not work the incident; findings need 原因調査 first.
    assert!(is_forbidden(
        &s.advance_incident(&staff, id, &step("investigate", "", ""))
            .await
    ));
    let early = s
        .add_incident_entry(&se, id, &entry("finding", "", "まだ調査していない"))
        .await
        .expect_err("too early");
    assert!(conflict_message(&early).contains("原因調査を開始してから"));
    let illegal = s
        .advance_incident(&se, id, &step("recover", "", "復旧"))
        .await
        .expect_err("illegal");
    assert!(conflict_message(&illegal).contains("「受付」の障害に「復旧報告」はできません"));
    let before_noticed = s
        .advance_incident(&se, id, &step("investigate", "2026-05-12T09:05", ""))
        .await
        .expect_err("before 認知");
    assert!(
        messages(&before_noticed).contains("at: 初動日時は認知日時以降"),
        "{}",
        messages(&before_noticed)
    );

    // 原因調査.
    let r = s
        .advance_incident(
            &se,
            id,
            &step("investigate", "2026-05-12T09:25", "現地確認に向かう"),
        )
        .await
        .expect("investigate");
    assert_eq!(r.stage, "investigating");
    assert_eq!(
        r.first_response_at,
        Some(to_storage(jt(2026, 5, 12, 9, 25)))
    );
    assert_eq!(r.mtta_minutes, Some(15));
    s.add_incident_entry(
        &se,
        id,
        &entry("hypothesis", "2026-05-12T09:40", "ルータ障害の可能性"),
    )
    .await
    .expect("hypothesis");
    s.add_incident_entry(
        &se,
        id,
        &entry(
            "finding",
            "2026-05-12T09:50",
            "ルータのWAN側リンクダウンを確認",
        ),
    )
    .await
    .expect("finding");
    s.add_incident_entry(
        &se,
        id,
        &entry("cause", "2026-05-12T09:55", "ルータ電源アダプタの故障"),
    )
    .await
    .expect("cause");
    assert!(is_forbidden(
        &s.add_incident_entry(&staff, id, &entry("finding", "", "県の所見"))
            .await
    ));
    let comment = s
        .add_incident_entry(&staff, id, &entry("comment", "", "市町村課へ連絡済み"))
        .await
        .expect("staff may comment");
    assert_eq!(comment.kind, "comment");
    assert_eq!(comment.author_name, "県職員花子");
    assert!(is_forbidden(
        &s.add_incident_entry(&auditor, id, &entry("comment", "", "監査"))
            .await
    ));
    let pii = s
        .add_incident_entry(
            &se,
            id,
            &entry("comment", "", "個人番号 123456789018 の照会時"),
        )
        .await
        .expect_err("pii");
    assert!(messages(&pii).contains("個人番号"));

    // 回避策: the workaround and the guidance (指導) given.
    let no_guidance = s
        .advance_incident(
            &se,
            id,
            &step("workaround", "2026-05-12T10:00", "予備端末で照会"),
        )
        .await
        .expect_err("guidance required");
    assert!(messages(&no_guidance).contains("指導先"));
    let r = s
        .advance_incident(
            &se,
            id,
            &IncidentTransitionInput {
                action: "workaround".into(),
                at: "2026-05-12T10:00".into(),
                comment: "県庁の予備端末で照会を代行".into(),
                guidance_to: "佐賀土木事務所 総務担当".into(),
                guidance: "照会依頼の連絡手順を説明".into(),
                work_entry_ids: vec![],
            },
        )
        .await
        .expect("workaround");
    assert_eq!(r.stage, "workaround");
    assert_eq!(r.workaround_at, Some(to_storage(jt(2026, 5, 12, 10, 0))));

    // 復旧作業, with the work-log entry of the recovery.
    let work = s
        .create_work_entry(
            &se,
            &WorkInput {
                contract_id: Some(w.contract.id),
                work_date: "2026-05-12".into(),
                start_time: "10:30".into(),
                end_time: "11:30".into(),
                worker_ids: vec![w.se.id],
                mode: "onsite".into(),
                site_id: Some(w.doboku.id),
                terminal_ids: vec![w.far.id],
                category: "incident_response".into(),
                description: "ルータ電源アダプタの交換".into(),
                result: "正常終了".into(),
                ..Default::default()
            },
        )
        .await
        .expect("work");
    assert_eq!(work.clause, "5");
    let r = s
        .advance_incident(&se, id, &step("start_recovery", "2026-05-12T10:30", ""))
        .await
        .expect("start recovery");
    assert_eq!(r.stage, "recovering");
    let too_early = s
        .record_witness(&staff, id, &witness("2026-05-12T10:40"))
        .await
        .expect_err("not yet recovered");
    assert_eq!(conflict_message(&too_early), WITNESS_STAGE_MESSAGE);
    let r = s
        .advance_incident(
            &se,
            id,
            &IncidentTransitionInput {
                action: "recover".into(),
                at: "2026-05-12T11:30".into(),
                comment: "電源アダプタを交換し、疎通を確認".into(),
                work_entry_ids: vec![work.id],
                ..Default::default()
            },
        )
        .await
        .expect("recover");
    assert_eq!(r.stage, "recovered");
    assert_eq!(r.mttr_minutes, Some(150));
    assert!(!r.witnessed());

    // 完了 without a witness: refused with the message, nothing changed.
    let before = s.incident(id, now).await.expect("detail");
    let audits = audit_count(&w).await;
    for actor in [&se, &staff] {
        let e = s
            .close_incident(actor, id, "")
            .await
            .expect_err("no witness");
        assert_eq!(conflict_message(&e), WITNESS_REQUIRED_MESSAGE);
    }
    let e = s
        .advance_incident(&se, id, &step("close", "2026-05-12T12:00", ""))
        .await
        .expect_err("no witness");
    assert_eq!(
        e.to_string(),
        "復旧の立会い（立会者の氏名・所属・日時・所見）が記録されていないため完了できません。"
    );
    let after = s.incident(id, now).await.expect("detail");
    assert_eq!(after.incident.stage, "recovered");
    assert_eq!(after.incident.closed_at, None);
    assert_eq!(after.incident.updated_at, before.incident.updated_at);
    assert_eq!(after.entries.len(), before.entries.len());
    assert_eq!(audit_count(&w).await, audits);

    // 立会い: the prefecture side, all four fields, not before the recovery.
    assert!(is_forbidden(
        &s.record_witness(&se, id, &witness("2026-05-12T11:45"))
            .await
    ));
    let missing = s
        .record_witness(
            &staff,
            id,
            &WitnessInput {
                remark: " ".into(),
                witness_org: String::new(),
                ..witness("2026-05-12T11:45")
            },
        )
        .await
        .expect_err("all four");
    let m = messages(&missing);
    assert!(
        m.contains("所見を入力") && m.contains("立会者の所属を入力"),
        "{m}"
    );
    let before_recovery = s
        .record_witness(&staff, id, &witness("2026-05-12T11:00"))
        .await
        .expect_err("before recovery");
    assert!(messages(&before_recovery).contains("復旧日時以降"));
    let wit = s
        .record_witness(&staff, id, &witness("2026-05-12T11:45"))
        .await
        .expect("witness");
    assert_eq!(wit.kind, "witness");
    assert_eq!(wit.witness_name.as_deref(), Some("佐賀 花子"));
    assert_eq!(wit.witness_org.as_deref(), Some("佐賀県 市町村課"));
    assert_eq!(wit.witnessed_at, Some(to_storage(jt(2026, 5, 12, 11, 45))));

    // 完了, not before the witness.
    let e = s
        .advance_incident(&se, id, &step("close", "2026-05-12T11:40", ""))
        .await
        .expect_err("before the witness");
    assert!(messages(&e).contains("立会日時以降"));
    let r = s
        .advance_incident(
            &se,
            id,
            &step("close", "2026-05-12T12:00", "障害報告書を提出"),
        )
        .await
        .expect("close");
    assert_eq!(r.stage, "closed");
    assert_eq!(r.closed_at, Some(to_storage(jt(2026, 5, 12, 12, 0))));
    assert_eq!(r.age_minutes, 170);
    let again = s
        .advance_incident(&admin, id, &step("close", "", ""))
        .await
        .expect_err("already closed");
    assert!(conflict_message(&again).contains("できません"));

    // The detail: affected records, timeline in order, linked work with its minutes, the witness.
    let d = s.incident(id, now).await.expect("detail");
    assert_eq!(d.sites.len(), 1);
    assert_eq!(d.terminals[0].hostname, "doboku-saga");
    assert_eq!(d.nodes[0].name, "佐賀土木ルータ");
    let kinds: Vec<(&str, Option<&str>)> = d
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.action.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("report", None),
            ("stage", Some("investigate")),
            ("hypothesis", None),
            ("finding", None),
            ("cause", None),
            ("workaround", Some("workaround")),
            ("stage", Some("start_recovery")),
            ("recovery", Some("recover")),
            ("witness", None),
            ("stage", Some("close")),
            // The staff's comment was written without a time, so it is dated when it was written.
            ("comment", None),
        ]
    );
    let workaround = d
        .entries
        .iter()
        .find(|e| e.kind == "workaround")
        .expect("workaround entry");
    assert_eq!(workaround.guidance_to, "佐賀土木事務所 総務担当");
    assert_eq!(workaround.guidance, "照会依頼の連絡手順を説明");
    assert_eq!(workaround.from_stage.as_deref(), Some("investigating"));
    assert_eq!(workaround.to_stage.as_deref(), Some("workaround"));
    let recovery = d
        .entries
        .iter()
        .find(|e| e.kind == "recovery")
        .expect("recovery entry");
    assert_eq!(recovery.work_ids, vec![work.id]);
    assert_eq!(d.work.len(), 1);
    assert_eq!(d.work_minutes, 60);
    assert_eq!(d.witness.as_ref().map(|e| e.id), Some(wit.id));
    let times = d.incident.times().expect("times");
    assert_eq!(times.mtta_minutes(), Some(15));
    assert_eq!(times.mttr_minutes(), Some(150));

    // The audit log holds every step, and the chain is intact.
    let history = s.history("incident", id).await.expect("history");
    let actions: Vec<&str> = history.iter().rev().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "incident.report",
            "incident.transition",
            "incident.entry",
            "incident.entry",
            "incident.entry",
            "incident.entry",
            "incident.transition",
            "incident.transition",
            "incident.transition",
            "incident.witness",
            "incident.transition",
        ]
    );
    assert!(history[0].details.contains("\"to\":\"closed\""));
    assert!(matches!(
        s.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn reopen_is_audited_and_needs_a_new_witness() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se, auditor) = (a(&w.staff), a(&w.se), a(&w.auditor));
    let inc = s
        .report_incident(
            &staff,
            &report(
                "県庁 代表端末の停止",
                "2026-05-20T09:00",
                "2026-05-20T09:05",
                vec![w.kencho.id],
            ),
        )
        .await
        .expect("report");
    let closed = walk_to_close(&w, inc.id).await;
    assert_eq!(closed.stage, "closed");
    assert_eq!(closed.mttr_minutes, Some(60));

    let no_reason = s
        .reopen_incident(&staff, inc.id, " ")
        .await
        .expect_err("reason");
    assert!(messages(&no_reason).contains("再開の理由"));
    assert!(is_forbidden(
        &s.reopen_incident(&auditor, inc.id, "再発").await
    ));
    let early = s
        .advance_incident(&staff, inc.id, &step("reopen", "2026-05-20T10:15", "再発"))
        .await
        .expect_err("before close");
    assert!(messages(&early).contains("再開日時は完了日時以降"));
    let r = s
        .reopen_incident(&staff, inc.id, "同じ症状が再発した")
        .await
        .expect("reopen");
    assert_eq!(r.stage, "investigating");
    assert_eq!(r.reopen_count, 1);
    assert!(r.recovered_at.is_none() && r.closed_at.is_none());
    assert!(!r.witnessed());
    assert_eq!(
        r.first_response_at.as_deref(),
        Some(to_storage(jt(2026, 5, 20, 9, 30)).as_str()),
        "the first response stays"
    );
    let history = s.history("incident", inc.id).await.expect("history");
    assert_eq!(history[0].action, "incident.reopen");
    assert_eq!(history[0].actor, "staff");
    assert!(history[0].details.contains("同じ症状が再発した"));
    assert!(history[0].details.contains("\"from\":\"closed\""));
    let d = s.incident(inc.id, Utc::now()).await.expect("detail");
    let last = d.entries.last().expect("entry");
    assert_eq!(last.kind, "reopen");
    assert_eq!(last.text, "同じ症状が再発した");

    // The old witness does not count for the new recovery; 復旧作業に戻す clears a witness too.
    s.advance_incident(&se, inc.id, &step("start_recovery", &ago(10), ""))
        .await
        .expect("start");
    s.advance_incident(&se, inc.id, &step("recover", &ago(8), "再設定"))
        .await
        .expect("recover");
    let e = s
        .close_incident(&se, inc.id, "")
        .await
        .expect_err("no new witness");
    assert_eq!(conflict_message(&e), WITNESS_REQUIRED_MESSAGE);
    let no_time = s
        .record_witness(&staff, inc.id, &witness(""))
        .await
        .expect_err("time required");
    assert!(messages(&no_time).contains("立会日時を入力"));
    s.record_witness(&staff, inc.id, &witness(&ago(6)))
        .await
        .expect("witness");
    let back = s
        .advance_incident(
            &se,
            inc.id,
            &step("resume_recovery", &ago(5), "立会いで一部不具合を確認"),
        )
        .await
        .expect("back to recovery");
    assert_eq!(back.stage, "recovering");
    assert!(!back.witnessed() && back.recovered_at.is_none());
    s.advance_incident(&se, inc.id, &step("recover", &ago(3), "再々設定"))
        .await
        .expect("recover");
    assert_eq!(
        conflict_message(
            &s.close_incident(&staff, inc.id, "")
                .await
                .expect_err("witness")
        ),
        WITNESS_REQUIRED_MESSAGE
    );
    s.record_witness(&staff, inc.id, &witness(&ago(1)))
        .await
        .expect("witness");
    let done = s.close_incident(&staff, inc.id, "").await.expect("close");
    assert_eq!(done.stage, "closed");
    assert_eq!(done.reopen_count, 1);
}

/// `minutes` ago as typed into a form (JST, to the minute).
fn ago(minutes: i64) -> String {
    datetime_local(Utc::now() - chrono::Duration::minutes(minutes))
}

fn auto(key: &str, site: i64, at: DateTime<Utc>) -> AutoIncidentInput {
    AutoIncidentInput {
        probable_cause: key.into(),
        title: "佐賀土木事務所 疎通不可".into(),
        severity: Severity::Critical,
        observed_at: at,
        site_ids: vec![site],
        terminal_ids: vec![],
        node_ids: vec![],
        detail: "ICMP 応答なし（3回連続）".into(),
    }
}

#[tokio::test]
async fn automatic_incidents_de_duplicate_on_probable_cause() {
    let w = world().await;
    let s = &w.db.store;
    let engine = Actor::system("monitor");
    let key = "node:router:unreachable";

    let first = s
        .open_automatic_incident(&engine, &auto(key, w.doboku.id, jt(2026, 5, 20, 3, 0)))
        .await
        .expect("open");
    assert!(first.created);
    assert_eq!(first.incident.source, "monitoring");
    assert_eq!(first.incident.severity, "critical");
    assert_eq!(first.incident.probable_cause.as_deref(), Some(key));
    assert_eq!(first.incident.created_by, "system");
    let second = s
        .open_automatic_incident(&engine, &auto(key, w.kencho.id, jt(2026, 5, 20, 3, 5)))
        .await
        .expect("repeat");
    assert!(!second.created);
    assert_eq!(second.incident.id, first.incident.id);
    assert_eq!(second.incident.number, first.incident.number);
    let d = s
        .incident(first.incident.id, Utc::now())
        .await
        .expect("detail");
    assert_eq!(d.entries.len(), 2, "one incident, two timeline entries");
    assert_eq!(d.entries[0].kind, "report");
    assert_eq!(d.entries[1].kind, "comment");
    assert!(
        d.entries[1].text.contains("再検知"),
        "{}",
        d.entries[1].text
    );
    assert_eq!(d.sites.len(), 2, "the newly affected site is added");
    let page = s
        .incidents(&IncidentQuery::default(), Utc::now())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    let history = s
        .history("incident", first.incident.id)
        .await
        .expect("history");
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["incident.auto_repeat", "incident.auto_open"]);

    // Another cause is another incident; a person cannot open a second one for the same cause.
    let other = s
        .open_automatic_incident(
            &engine,
            &auto(
                "node:other:unreachable",
                w.kencho.id,
                jt(2026, 5, 20, 3, 10),
            ),
        )
        .await
        .expect("other");
    assert!(other.created);
    assert_ne!(other.incident.id, first.incident.id);
    let mut manual = report("手動", "2026-05-20T03:00", "2026-05-20T03:20", vec![]);
    manual.source = "monitoring".into();
    manual.probable_cause = key.into();
    let dup = s
        .report_incident(&a(&w.staff), &manual)
        .await
        .expect_err("duplicate cause");
    assert!(
        conflict_message(&dup).contains(&first.incident.number),
        "{}",
        conflict_message(&dup)
    );
    let auditor_try = s
        .open_automatic_incident(
            &a(&w.auditor),
            &auto(key, w.kencho.id, jt(2026, 5, 20, 3, 5)),
        )
        .await;
    assert!(is_forbidden(&auditor_try));

    // Once closed, the next failure opens a new incident.
    walk_to_close(&w, first.incident.id).await;
    let third = s
        .open_automatic_incident(&engine, &auto(key, w.doboku.id, jt(2026, 5, 21, 4, 0)))
        .await
        .expect("new");
    assert!(third.created);
    assert_ne!(third.incident.id, first.incident.id);
    assert_eq!(
        s.incident(third.incident.id, Utc::now())
            .await
            .expect("detail")
            .entries
            .len(),
        1
    );
    // The closed one cannot be reopened while the new one is open for the same cause.
    let e = s
        .reopen_incident(&a(&w.staff), first.incident.id, "再発")
        .await
        .expect_err("cause taken");
    assert!(conflict_message(&e).contains("再開できません"));
    let still = s
        .incident_row(first.incident.id, Utc::now())
        .await
        .expect("row");
    assert_eq!(still.stage, "closed");
    assert_eq!(still.reopen_count, 0);
}

/// Reports an incident with exact times and walks it as far as `until` allows.
#[allow(clippy::too_many_arguments)]
async fn timed(
    w: &World,
    title: &str,
    sites: Vec<i64>,
    occurred: &str,
    noticed: &str,
    first: &str,
    recovered: Option<&str>,
    close: Option<(&str, &str)>,
) -> IncidentRow {
    let s = &w.db.store;
    let (se, staff) = (a(&w.se), a(&w.staff));
    let inc = s
        .report_incident(&staff, &report(title, occurred, noticed, sites))
        .await
        .expect("report");
    s.advance_incident(&se, inc.id, &step("investigate", first, ""))
        .await
        .expect("investigate");
    if let Some(r) = recovered {
        s.advance_incident(&se, inc.id, &step("start_recovery", r, ""))
            .await
            .expect("start");
        s.advance_incident(&se, inc.id, &step("recover", r, "復旧"))
            .await
            .expect("recover");
    }
    if let Some((witnessed, closed)) = close {
        s.record_witness(&staff, inc.id, &witness(witnessed))
            .await
            .expect("witness");
        s.advance_incident(&staff, inc.id, &step("close", closed, ""))
            .await
            .expect("close");
    }
    s.incident_row(inc.id, Utc::now()).await.expect("row")
}

#[tokio::test]
async fn mtta_mttr_and_the_list() {
    let w = world().await;
    let s = &w.db.store;
    let (k, d) = (w.kencho.id, w.doboku.id);
    // A: April, 県庁, MTTA 10, MTTR 120, closed.
    let ia = timed(
        &w,
        "A 県庁",
        vec![k],
        "2026-04-10T09:00",
        "2026-04-10T09:10",
        "2026-04-10T09:20",
        Some("2026-04-10T11:00"),
        Some(("2026-04-10T11:10", "2026-04-10T11:30")),
    )
    .await;
    // B: April, 県庁 and 土木, MTTA 30, MTTR 61, recovered (awaiting witness).
    let ib = timed(
        &w,
        "B 県庁・土木",
        vec![k, d],
        "2026-04-20T13:00",
        "2026-04-20T13:00",
        "2026-04-20T13:30",
        Some("2026-04-20T14:01"),
        None,
    )
    .await;
    // C: May, 土木, MTTA 5, not recovered.
    let ic = timed(
        &w,
        "C 土木",
        vec![d],
        "2026-05-01T08:00",
        "2026-05-01T08:30",
        "2026-05-01T08:35",
        None,
        None,
    )
    .await;
    // D: October, no site, MTTA 45, MTTR 120, closed.
    let id_ = timed(
        &w,
        "D 拠点なし",
        vec![],
        "2026-10-01T10:00",
        "2026-10-01T10:00",
        "2026-10-01T10:45",
        Some("2026-10-01T12:00"),
        Some(("2026-10-01T12:05", "2026-10-01T12:10")),
    )
    .await;
    // E: occurred in 令和7年度 (March 31, JST), noticed in 令和8年度: numbered R8, counted in R7.
    let ie = s
        .report_incident(
            &a(&w.staff),
            &report(
                "E 年度またぎ",
                "2026-03-31T23:50",
                "2026-04-01T00:10",
                vec![k],
            ),
        )
        .await
        .expect("report");
    assert_eq!(ie.number, "INC-R8-0005");
    assert_eq!(ia.number, "INC-R8-0001");
    assert_eq!((ia.mtta_minutes, ia.mttr_minutes), (Some(10), Some(120)));
    assert_eq!((ib.mtta_minutes, ib.mttr_minutes), (Some(30), Some(61)));
    assert_eq!((ic.mtta_minutes, ic.mttr_minutes), (Some(5), None));
    assert_eq!((id_.mtta_minutes, id_.mttr_minutes), (Some(45), Some(120)));
    assert_eq!(ia.age_minutes, 140, "closed: 認知 to 完了");

    let stats = s.incident_stats(FiscalYear(2026)).await.expect("stats");
    assert_eq!(stats.label, "令和8年度");
    assert_eq!(stats.year.count, 4);
    assert_eq!(stats.year.open, 2);
    assert_eq!(stats.year.recovered, 3);
    assert_eq!(stats.year.mtta_minutes, Some(23)); // (10+30+5+45)/4 = 22.5
    assert_eq!(stats.year.mttr_minutes, Some(100)); // (120+61+120)/3 = 100.3
    assert_eq!(stats.year.total_outage_minutes, 301);
    assert_eq!(stats.months.len(), 12);
    let april = stats.months[0];
    assert_eq!((april.year, april.month), (2026, 4));
    assert_eq!(april.figures.count, 2);
    assert_eq!(april.figures.mtta_minutes, Some(20));
    assert_eq!(april.figures.mttr_minutes, Some(91)); // 90.5
    let may = stats.months[1];
    assert_eq!((may.figures.count, may.figures.open), (1, 1));
    assert_eq!(may.figures.mttr_minutes, None);
    assert_eq!(stats.months[6].figures.count, 1); // October
    assert_eq!(stats.months[6].figures.mttr_minutes, Some(120));
    let names: Vec<&str> = stats.sites.iter().map(|s| s.site_name.as_str()).collect();
    assert_eq!(names, ["佐賀土木事務所", "県庁", "拠点指定なし"]); // by site code
    let doboku = &stats.sites[0];
    assert_eq!(doboku.site_id, Some(d));
    assert_eq!((doboku.year.count, doboku.year.mttr_minutes), (2, Some(61)));
    let kencho = &stats.sites[1];
    assert_eq!((kencho.year.count, kencho.year.mttr_minutes), (2, Some(91)));
    assert_eq!(kencho.months[0].figures.count, 2);
    assert_eq!(stats.sites[2].year.count, 1);
    assert_eq!(
        stats.severities,
        vec![
            ("critical".to_string(), 0),
            ("high".to_string(), 4),
            ("medium".to_string(), 0),
            ("low".to_string(), 0)
        ]
    );
    let last_year = s.incident_stats(FiscalYear(2025)).await.expect("stats");
    assert_eq!(last_year.year.count, 1);
    assert_eq!(last_year.months[11].figures.count, 1);

    // The list: open first, newest (認知) first within each group.
    let now = Utc::now();
    let all = s
        .incidents(&IncidentQuery::default(), now)
        .await
        .expect("list");
    let order: Vec<&str> = all.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        order,
        [
            "C 土木",
            "B 県庁・土木",
            "E 年度またぎ",
            "D 拠点なし",
            "A 県庁"
        ]
    );
    let open = &all.items[0];
    assert_eq!(open.stage, "investigating");
    assert!(open.age_minutes >= (now - jt(2026, 5, 1, 8, 30)).num_minutes() - 1);
    let q = |f: &dyn Fn(&mut IncidentQuery)| {
        let mut q = IncidentQuery::default();
        f(&mut q);
        q
    };
    let count = |page: unyo_store::Page<IncidentRow>| page.total;
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.open_only = Some(true)), now)
                .await
                .expect("l")
        ),
        3
    );
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.site_id = Some(d)), now)
                .await
                .expect("l")
        ),
        2
    );
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.stage = Some("recovered".into())), now)
                .await
                .expect("l")
        ),
        1
    );
    assert_eq!(
        count(
            s.incidents(
                &q(&|q| {
                    q.from = Some("令和8年4月1日".into());
                    q.to = Some("2026-04-30".into());
                }),
                now
            )
            .await
            .expect("l")
        ),
        2,
        "A and B occurred in April (E on March 31 JST)"
    );
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.q = Some("拠点なし".into())), now)
                .await
                .expect("l")
        ),
        1
    );
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.q = Some("inc-r8-0002".into())), now)
                .await
                .expect("l")
        ),
        1
    );
    assert_eq!(
        count(
            s.incidents(&q(&|q| q.severity = Some("low".into())), now)
                .await
                .expect("l")
        ),
        0
    );
    let paged = s
        .incidents(
            &q(&|q| {
                q.per_page = Some(2);
                q.page = Some(3);
            }),
            now,
        )
        .await
        .expect("l");
    assert_eq!((paged.items.len(), paged.pages()), (1, 3));
    let counts = s
        .incident_stage_counts(&IncidentQuery::default())
        .await
        .expect("counts");
    assert_eq!(
        counts,
        [
            ("reported", 1),
            ("investigating", 1),
            ("workaround", 0),
            ("recovering", 0),
            ("recovered", 1),
            ("closed", 2)
        ]
        .map(|(s, n)| (s.to_string(), n))
    );
}

#[tokio::test]
async fn known_errors_from_closed_incidents_and_searchable() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se, admin) = (a(&w.staff), a(&w.se), a(&w.admin));
    let inc = s
        .report_incident(
            &staff,
            &report(
                "ルータ再起動後に照会不可",
                "2026-05-20T09:00",
                "2026-05-20T09:05",
                vec![w.doboku.id],
            ),
        )
        .await
        .expect("report");
    s.advance_incident(&se, inc.id, &step("investigate", "2026-05-20T09:10", ""))
        .await
        .expect("investigate");
    s.add_incident_entry(
        &se,
        inc.id,
        &entry(
            "cause",
            "2026-05-20T09:15",
            "VPN装置のセッションが再確立しない",
        ),
    )
    .await
    .expect("cause");
    assert!(matches!(
        s.create_known_error_from_incident(&se, inc.id).await,
        Err(StoreError::Domain(DomainError::Conflict(ref m))) if m == KNOWN_ERROR_NEEDS_CLOSED_MESSAGE
    ));
    s.advance_incident(
        &se,
        inc.id,
        &IncidentTransitionInput {
            action: "workaround".into(),
            at: "2026-05-20T09:20".into(),
            comment: "VPN装置を再起動する".into(),
            guidance_to: "佐賀土木事務所 総務担当".into(),
            guidance: "再起動の手順を電話で説明".into(),
            work_entry_ids: vec![],
        },
    )
    .await
    .expect("workaround");
    s.advance_incident(&se, inc.id, &step("start_recovery", "2026-05-20T09:30", ""))
        .await
        .expect("start");
    s.advance_incident(
        &se,
        inc.id,
        &step("recover", "2026-05-20T09:40", "VPN装置再起動"),
    )
    .await
    .expect("recover");
    s.record_witness(&staff, inc.id, &witness("2026-05-20T09:50"))
        .await
        .expect("witness");
    s.close_incident(&se, inc.id, "").await.expect("close");

    assert!(is_forbidden(
        &s.create_known_error_from_incident(&staff, inc.id).await
    ));
    let draft = s
        .known_error_draft_from_incident(inc.id)
        .await
        .expect("draft");
    assert_eq!(draft.cause, "VPN装置のセッションが再確立しない");
    let ke = s
        .create_known_error_from_incident(&se, inc.id)
        .await
        .expect("known error");
    assert_eq!(ke.number, "KE-0001");
    assert_eq!(ke.title, "ルータ再起動後に照会不可");
    assert!(ke.symptoms.contains("照会ができない"));
    assert_eq!(ke.cause, "VPN装置のセッションが再確立しない");
    assert_eq!(ke.workaround, "VPN装置を再起動する");
    assert_eq!(ke.created_from_incident_id, Some(inc.id));
    assert_eq!(ke.created_from_number.as_deref(), Some(inc.number.as_str()));
    assert_eq!(ke.incidents.len(), 1);
    assert_eq!(ke.incidents[0].id, inc.id);
    let d = s.incident(inc.id, Utc::now()).await.expect("detail");
    assert_eq!(d.incident.known_error_number.as_deref(), Some("KE-0001"));
    assert_eq!(d.known_error.as_ref().map(|k| k.id), Some(ke.id));
    assert!(!d.incident.resolved_by_known_error);
    assert_eq!(
        d.entries.last().map(|e| e.kind.as_str()),
        Some("known_error")
    );

    // A second one by hand; search across title, symptoms, cause and workaround.
    let manual = s
        .create_known_error(
            &admin,
            &KnownErrorInput {
                title: "ウイルス定義の更新失敗".into(),
                symptoms: "定義ファイルの更新でエラー 0x8024".into(),
                cause: "プロキシ設定の誤り".into(),
                workaround: String::new(),
                incident_ids: vec![],
            },
        )
        .await
        .expect("manual");
    assert_eq!(manual.number, "KE-0002");
    let search = |text: &str| KnownErrorQuery {
        q: Some(text.into()),
        ..Default::default()
    };
    for (text, want) in [
        ("vpn", vec!["KE-0001"]),
        ("照会不可", vec!["KE-0001"]),
        ("再起動する", vec!["KE-0001"]),
        ("プロキシ", vec!["KE-0002"]),
        ("0x8024", vec!["KE-0002"]),
        ("ke-000", vec!["KE-0002", "KE-0001"]),
        ("該当なし", vec![]),
        ("100%", vec![]),
    ] {
        let page = s.known_errors(&search(text)).await.expect("search");
        let got: Vec<&str> = page.items.iter().map(|k| k.number.as_str()).collect();
        assert_eq!(got, want, "{text}");
    }
    assert_eq!(
        s.known_errors(&KnownErrorQuery::default())
            .await
            .expect("all")
            .total,
        2
    );
    let bad = s
        .create_known_error(&se, &KnownErrorInput::default())
        .await
        .expect_err("empty");
    assert!(messages(&bad).contains("件名を入力"));
    assert!(is_forbidden(
        &s.create_known_error(&staff, &KnownErrorInput::default())
            .await
    ));

    // A new incident resolved by the known error; another reported as looking like it.
    let next = s
        .report_incident(
            &staff,
            &report(
                "再び照会不可",
                "2026-06-01T09:00",
                "2026-06-01T09:05",
                vec![w.doboku.id],
            ),
        )
        .await
        .expect("report");
    assert!(is_forbidden(
        &s.resolve_by_known_error(&staff, next.id, ke.id).await
    ));
    let resolved = s
        .resolve_by_known_error(&se, next.id, ke.id)
        .await
        .expect("resolve");
    assert!(resolved.resolved_by_known_error);
    assert_eq!(resolved.known_error_id, Some(ke.id));
    assert_eq!(
        resolved.stage, "reported",
        "the stages still run their course"
    );
    let missing = s
        .resolve_by_known_error(&se, next.id, 9999)
        .await
        .expect_err("missing");
    assert!(messages(&missing).contains("既知の障害が見つかりません"));
    let mut looks_like = report("三度目", "2026-06-02T09:00", "2026-06-02T09:05", vec![]);
    looks_like.known_error_id = Some(ke.id);
    let third = s
        .report_incident(&staff, &looks_like)
        .await
        .expect("report");
    assert_eq!(third.known_error_number.as_deref(), Some("KE-0001"));
    let ke = s.known_error(ke.id).await.expect("ke");
    let linked: Vec<i64> = ke.incidents.iter().map(|i| i.id).collect();
    assert_eq!(linked, vec![inc.id, next.id, third.id]);

    // Editing the text and linking more incidents.
    let updated = s
        .update_known_error(
            &se,
            manual.id,
            &KnownErrorInput {
                title: "ウイルス定義の更新失敗".into(),
                symptoms: "定義ファイルの更新でエラー 0x8024".into(),
                cause: "プロキシ設定の誤り".into(),
                workaround: "プロキシ除外設定を追加".into(),
                incident_ids: vec![inc.id],
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.workaround, "プロキシ除外設定を追加");
    assert_eq!(updated.incidents.len(), 1);
    let history = s.history("known_error", manual.id).await.expect("history");
    assert_eq!(history[0].action, "known_error.update");
    assert!(history[0].details.contains("workaround"));
    assert!(!history[0].details.contains("symptoms"));
    let inc_row = s.incident_row(inc.id, Utc::now()).await.expect("row");
    assert_eq!(
        inc_row.known_error_id,
        Some(ke.id),
        "the first attribution stays"
    );
}

#[tokio::test]
async fn permissions_by_role() {
    let w = world().await;
    let s = &w.db.store;
    let (staff, se, auditor, admin) = (a(&w.staff), a(&w.se), a(&w.auditor), a(&w.admin));
    let input = report("権限確認", "2026-05-20T09:00", "2026-05-20T09:05", vec![]);
    assert!(is_forbidden(&s.report_incident(&auditor, &input).await));
    let by_se = s.report_incident(&se, &input).await.expect("se may report");
    let by_admin = s
        .report_incident(&admin, &input)
        .await
        .expect("admin may report");
    assert_eq!(by_admin.number, "INC-R8-0002");
    for action in [
        "investigate",
        "workaround",
        "start_recovery",
        "recover",
        "resume_recovery",
    ] {
        assert!(
            is_forbidden(
                &s.advance_incident(&staff, by_se.id, &step(action, "", "x"))
                    .await
            ),
            "{action}"
        );
        assert!(
            is_forbidden(
                &s.advance_incident(&auditor, by_se.id, &step(action, "", "x"))
                    .await
            ),
            "{action}"
        );
    }
    assert!(is_forbidden(
        &s.close_incident(&auditor, by_se.id, "").await
    ));
    assert!(is_forbidden(
        &s.reopen_incident(&auditor, by_se.id, "x").await
    ));
    // The admin may do the SE's work.
    let r = s
        .advance_incident(&admin, by_se.id, &step("investigate", "", ""))
        .await
        .expect("admin works");
    assert_eq!(r.stage, "investigating");
    // Nothing moved for the refused attempts: one transition entry after the report.
    let d = s.incident(by_se.id, Utc::now()).await.expect("detail");
    assert_eq!(d.entries.len(), 2);
    // Bad input is refused before anything is read.
    let bad = s
        .advance_incident(&se, by_se.id, &step("fly", "", ""))
        .await
        .expect_err("bad action");
    assert!(messages(&bad).contains("操作が正しくありません"));
    let missing = s
        .advance_incident(&se, 9999, &step("investigate", "", ""))
        .await
        .expect_err("missing");
    assert!(matches!(
        missing,
        StoreError::Domain(DomainError::NotFound(_))
    ));
    let bad_site = s
        .report_incident(&staff, &report("存在しない拠点", "", "", vec![9999]))
        .await
        .expect_err("site");
    assert!(messages(&bad_site).contains("拠点が見つかりません"));
}
