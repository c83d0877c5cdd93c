//! A contract's registers (再委託の承認, 提供資料, 従事者名簿) as Excel-friendly CSV and print-ready XLSX,
//! with the same columns and the same writers (BOM, CRLF, formula guard; A4 landscape, repeated header)
//! as the registry exports. Dates are written in 和暦, as the registers are read on paper.

use crate::ExchangeError;
use crate::columns::{Cell, Column};
use unyo_domain::wareki::format_long;
use unyo_store::contract_registers::{Material, StaffEntry, Subcontract};

fn date(stored: &str) -> String {
    chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d")
        .map(format_long)
        .unwrap_or_else(|_| stored.to_string())
}

fn opt_date(stored: Option<&str>) -> String {
    stored.map(date).unwrap_or_default()
}

const fn c(label: &'static str, free_text: bool, width: f64) -> Column {
    Column::export(label, free_text, width)
}

const SUBCONTRACT_COLUMNS: &[Column] = &[
    c("ID", false, 6.0),
    c("再委託先", true, 24.0),
    c("再委託する業務の内容", true, 36.0),
    c("範囲（業務の区分・作業の種類）", true, 28.0),
    c("承認番号", true, 16.0),
    c("承認日", false, 16.0),
    c("再委託期間の開始日", false, 16.0),
    c("再委託期間の終了日", false, 16.0),
    c("承認書", false, 8.0),
    c("備考", true, 24.0),
];

fn subcontract_rows(rows: &[Subcontract]) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|s| {
            vec![
                Cell::Int(s.id),
                Cell::Text(s.subcontractor.clone()),
                Cell::Text(s.work_part.clone()),
                Cell::Text(s.scope_label()),
                Cell::Text(s.approval_number.clone()),
                Cell::Text(date(&s.approved_on)),
                Cell::Text(date(&s.period_start)),
                Cell::Text(date(&s.period_end)),
                Cell::Text(
                    if s.approval_attachment_id.is_some() {
                        "添付あり"
                    } else {
                        "未添付"
                    }
                    .into(),
                ),
                Cell::Text(s.note.clone()),
            ]
        })
        .collect()
}

const MATERIAL_COLUMNS: &[Column] = &[
    c("ID", false, 6.0),
    c("資料名", true, 28.0),
    c("種類", false, 10.0),
    c("提供元", true, 16.0),
    c("受領日", false, 16.0),
    c("媒体", false, 12.0),
    c("機密性", false, 10.0),
    c("保管場所", true, 22.0),
    c("数量・内容", true, 14.0),
    c("複製（申請・許可）", true, 28.0),
    c("状態", false, 18.0),
    c("返却・消去日", false, 16.0),
    c("返却・消去の方法", true, 24.0),
    c("県の確認日", false, 16.0),
    c("県の確認者", true, 14.0),
];

fn material_rows(rows: &[Material]) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|m| {
            let copies = m
                .copies
                .iter()
                .map(|c| {
                    format!(
                        "{} {}部 {}（{}）",
                        date(&c.requested_on),
                        c.copies,
                        c.purpose,
                        c.status_label()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            vec![
                Cell::Int(m.id),
                Cell::Text(m.name.clone()),
                Cell::Text(m.kind_label().into()),
                Cell::Text(m.provided_by.clone()),
                Cell::Text(date(&m.received_on)),
                Cell::Text(m.medium_label().into()),
                Cell::Text(m.classification_label().into()),
                Cell::Text(m.storage.clone()),
                Cell::Text(m.quantity.clone()),
                Cell::Text(copies),
                Cell::Text(m.status_label().into()),
                Cell::Text(opt_date(m.disposed_on.as_deref())),
                Cell::Text(m.disposal_method.clone()),
                Cell::Text(opt_date(m.ack_on.as_deref())),
                Cell::Text(m.ack_by.clone()),
            ]
        })
        .collect()
}

const ROSTER_COLUMNS: &[Column] = &[
    c("ID", false, 6.0),
    c("氏名", true, 16.0),
    c("所属", true, 24.0),
    c("契約上の役割", true, 14.0),
    c("アカウント", false, 12.0),
    c("従事開始日", false, 16.0),
    c("従事終了日", false, 16.0),
    c("誓約書の日付", false, 16.0),
    c("誓約書", false, 8.0),
    c("研修受講日", false, 24.0),
    c("備考", true, 24.0),
];

fn roster_rows(rows: &[StaffEntry]) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|s| {
            vec![
                Cell::Int(s.id),
                Cell::Text(s.name.clone()),
                Cell::Text(s.employer.clone()),
                Cell::Text(s.role_on_contract.clone()),
                Cell::Text(s.username.clone().unwrap_or_default()),
                Cell::Text(date(&s.start_on)),
                Cell::Text(opt_date(s.end_on.as_deref())),
                Cell::Text(opt_date(s.pledge_on.as_deref())),
                Cell::Text(
                    if s.pledge_attachment_id.is_some() {
                        "提出済"
                    } else {
                        "未提出"
                    }
                    .into(),
                ),
                Cell::Text(
                    s.training_list()
                        .into_iter()
                        .map(format_long)
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::Text(s.note.clone()),
            ]
        })
        .collect()
}

/// The subcontracting approvals as CSV.
pub fn subcontracts_csv(rows: &[Subcontract]) -> Vec<u8> {
    crate::csv_export::to_csv(SUBCONTRACT_COLUMNS, &subcontract_rows(rows))
}

/// The subcontracting approvals as XLSX (sheet 再委託承認).
pub fn subcontracts_xlsx(rows: &[Subcontract]) -> Result<Vec<u8>, ExchangeError> {
    crate::xlsx::to_xlsx("再委託承認", SUBCONTRACT_COLUMNS, &subcontract_rows(rows))
}

/// The provided materials as CSV (copies in one cell, one per line).
pub fn materials_csv(rows: &[Material]) -> Vec<u8> {
    crate::csv_export::to_csv(MATERIAL_COLUMNS, &material_rows(rows))
}

/// The provided materials as XLSX (sheet 提供資料).
pub fn materials_xlsx(rows: &[Material]) -> Result<Vec<u8>, ExchangeError> {
    crate::xlsx::to_xlsx("提供資料", MATERIAL_COLUMNS, &material_rows(rows))
}

/// The staff roster as CSV.
pub fn roster_csv(rows: &[StaffEntry]) -> Vec<u8> {
    crate::csv_export::to_csv(ROSTER_COLUMNS, &roster_rows(rows))
}

/// The staff roster as XLSX (sheet 従事者名簿).
pub fn roster_xlsx(rows: &[StaffEntry]) -> Result<Vec<u8>, ExchangeError> {
    crate::xlsx::to_xlsx("従事者名簿", ROSTER_COLUMNS, &roster_rows(rows))
}
