//! The registers of the demo contract (R9, R10, R12): one subcontracting approval with its document, the
//! provided materials of a year (one returned and acknowledged, one with a permitted copy, one with a copy
//! request waiting for the prefecture, the rest held), and the staff roster — `se` and `se2` assigned for
//! the whole year with their pledges on file (so the demo logins work), the contractor's manager without an
//! account, a predecessor whose assignment ended in the spring, and the subcontractor's engineer.
//!
//! Built through the ordinary store calls by the right account (the administrator records approvals and
//! the roster, the SE records materials, the prefecture's staff decides and acknowledges); dates depend only
//! on the fiscal year and `today` (nothing dated after `today` is recorded), so the same day gives the same
//! data.

use chrono::{Duration, NaiveDate};
use unyo_domain::contract_registers::{
    CopyRequestInput, DecisionInput, MaterialInput, ReturnMaterialInput, StaffInput,
    SubcontractInput,
};
use unyo_domain::wareki::{FiscalYear, format_long};
use unyo_store::users::User;
use unyo_store::{Result, Store};

/// A small PDF standing in for a scanned document (the type is decided by its bytes).
const SCANNED: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The subcontractor of the demo.
pub const SUBCONTRACTOR: &str = "有限会社唐津ネットサービス";

/// What [`load`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistersSummary {
    /// Subcontracting approvals.
    pub subcontracts: usize,
    /// Provided materials.
    pub materials: usize,
    /// Roster entries.
    pub staff: usize,
}

fn d(date: NaiveDate) -> String {
    format_long(date)
}

/// Loads the registers of `contract_id` for the fiscal year containing `today`.
pub(crate) async fn load(
    store: &Store,
    contract_id: i64,
    admin: &User,
    staff: &User,
    se: &User,
    se2: &User,
    today: NaiveDate,
) -> Result<RegistersSummary> {
    let fy = FiscalYear::containing(today);
    let start = fy.start();
    let day = |n: i64| start + Duration::days(n);
    let admin_a = admin.actor("demo");
    let staff_a = staff.actor("demo");
    let se_a = se.actor("demo");
    let era = fy.label_short().trim_end_matches("年度").to_string();

    // The roster first: the SEs must stay assigned, with their pledges, for the demo's work and logins.
    let mut staff_count = 0;
    let roster = [
        (
            "保守 技郎",
            "作業責任者・SE",
            Some(se.id),
            None::<NaiveDate>,
            day(-7),
            "県の情報セキュリティポリシー研修を受講済み。",
        ),
        ("運用 花子", "SE", Some(se2.id), None, day(-7), ""),
        (
            "九州 一郎",
            "業務責任者",
            None,
            None,
            day(-10),
            "受託者側の責任者。システムのアカウントなし。",
        ),
        (
            "前任 誠",
            "SE（前任）",
            None,
            Some(day(29)),
            day(-20),
            "5月1日付で異動。引継ぎ済み。",
        ),
    ];
    for (name, role, user_id, end, pledge, note) in roster {
        let entry = store
            .create_staff_on(
                &admin_a,
                contract_id,
                &StaffInput {
                    name: name.into(),
                    employer: crate::CONTRACTOR.into(),
                    role_on_contract: role.into(),
                    user_id,
                    start_on: d(start),
                    end_on: end.map(d).unwrap_or_default(),
                    pledge_on: d(pledge),
                    training_dates: [day(2), day(185)]
                        .into_iter()
                        .filter(|t| *t <= today)
                        .map(d)
                        .collect::<Vec<_>>()
                        .join("、"),
                    note: note.into(),
                    ..Default::default()
                },
                today,
            )
            .await?;
        store
            .attach_pledge_on(
                &admin_a,
                entry.id,
                &format!("誓約書_{name}.pdf"),
                SCANNED,
                today,
            )
            .await?;
        staff_count += 1;
    }

    // A subcontracting approval from mid-May, and its engineer on the roster (no account).
    let mut subcontracts = 0;
    if day(40) <= today {
        let sc = store
            .create_subcontract(
                &admin_a,
                contract_id,
                &SubcontractInput {
                    subcontractor: SUBCONTRACTOR.into(),
                    work_part: "唐津・伊万里地区の業務端末に係るリモートアップデート作業の補助"
                        .into(),
                    clauses: vec!["2".into()],
                    categories: vec!["remote_update".into()],
                    approval_number: format!("佐情第{era}-0456号"),
                    approved_on: d(day(40)),
                    period_start: d(day(45)),
                    period_end: d(fy.end()),
                    note: "再委託先の従事者は1名。作業は受託者の作業責任者の監督下で行う。".into(),
                },
            )
            .await?;
        store
            .attach_subcontract_approval(&admin_a, sc.id, "再委託承認書.pdf", SCANNED)
            .await?;
        subcontracts += 1;
        let entry = store
            .create_staff_on(
                &admin_a,
                contract_id,
                &StaffInput {
                    name: "唐津 健".into(),
                    employer: SUBCONTRACTOR.into(),
                    role_on_contract: "作業補助（再委託）".into(),
                    subcontract_id: Some(sc.id),
                    start_on: d(day(45)),
                    pledge_on: d(day(42)),
                    training_dates: d(day(44)),
                    ..Default::default()
                },
                today,
            )
            .await?;
        store
            .attach_pledge_on(&admin_a, entry.id, "誓約書_唐津健.pdf", SCANNED, today)
            .await?;
        staff_count += 1;
    }

    // Provided materials.
    let mut materials = 0;
    let items = [
        (
            0,
            "住基ネット端末 設定手順書（第5版）",
            "document",
            "paper",
            "c2",
            "市町村課",
            "県庁新館4階 市町村課分室 施錠書庫A",
            "1冊（86頁）",
        ),
        (
            0,
            "前年度 障害対応記録（写し）",
            "document",
            "paper",
            "c2",
            "市町村課",
            "県庁新館4階 市町村課分室 施錠書庫A",
            "1冊",
        ),
        (
            2,
            "業務端末一覧（IPアドレス・設置場所）",
            "dataset",
            "usb",
            "c3",
            "市町村課 住基ネット担当",
            "暗号化USBメモリ／市町村課分室 金庫",
            "1本（Excel 1ファイル）",
        ),
        (
            30,
            "集約ネットワーク構成図",
            "dataset",
            "optical",
            "c3",
            "情報政策課",
            "市町村課分室 金庫",
            "CD-R 1枚",
        ),
        (
            60,
            "ウイルス対策ソフト 管理サーバ操作手順",
            "document",
            "paper",
            "c2",
            "情報政策課",
            "県庁新館4階 市町村課分室 施錠書庫A",
            "1部（24頁）",
        ),
    ];
    for (i, (offset, name, kind, medium, class, from, storage, quantity)) in
        items.into_iter().enumerate()
    {
        let received = day(offset);
        if received > today {
            continue;
        }
        let m = store
            .create_material(
                &se_a,
                contract_id,
                &MaterialInput {
                    name: name.into(),
                    kind: kind.into(),
                    provided_by: from.into(),
                    received_on: d(received),
                    medium: medium.into(),
                    classification: class.into(),
                    storage: storage.into(),
                    quantity: quantity.into(),
                    note: String::new(),
                },
            )
            .await?;
        materials += 1;
        match i {
            // The manual: one working copy, permitted.
            0 if day(6) <= today => {
                let m = store
                    .request_material_copy(
                        &se_a,
                        m.id,
                        &CopyRequestInput {
                            requested_on: d(day(5)),
                            copies: 1,
                            purpose: "業務端末での作業時に携行する作業用の控え".into(),
                        },
                    )
                    .await?;
                store
                    .decide_material_copy(
                        &staff_a,
                        m.copies[0].id,
                        &DecisionInput {
                            granted: true,
                            decided_on: d(day(6)),
                            decided_by: "市町村課 住基ネット担当 係長".into(),
                            note: "契約終了時に原本とあわせて返却すること。".into(),
                        },
                    )
                    .await?;
            }
            // Last year's records: read in April, returned and acknowledged in June.
            1 if day(70) <= today => {
                store
                    .return_material(
                        &se_a,
                        m.id,
                        &ReturnMaterialInput {
                            disposition: "returned".into(),
                            done_on: d(day(68)),
                            method: "市町村課分室にて手渡しで返却".into(),
                        },
                    )
                    .await?;
                store
                    .acknowledge_material_return(
                        &staff_a,
                        m.id,
                        &DecisionInput {
                            granted: true,
                            decided_on: d(day(70)),
                            decided_by: "市町村課 住基ネット担当 係長".into(),
                            note: String::new(),
                        },
                    )
                    .await?;
            }
            // The network diagram: a copy asked for, not decided yet.
            3 => {
                store
                    .request_material_copy(
                        &se_a,
                        m.id,
                        &CopyRequestInput {
                            requested_on: d(received.max(today - Duration::days(3)).min(today)),
                            copies: 1,
                            purpose: "障害対応時の経路確認用（分室の金庫で保管）".into(),
                        },
                    )
                    .await?;
            }
            _ => {}
        }
    }
    Ok(RegistersSummary {
        subcontracts,
        materials,
        staff: staff_count,
    })
}
