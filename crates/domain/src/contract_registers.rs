//! The registers a contract keeps beside its work (R9, R10, R12): subcontracting approvals (再委託), the
//! materials and data the prefecture provided (提供資料), and the contractor's staff roster (従事者名簿)
//! with confidentiality pledges (誓約書) and assignment periods.
//!
//! Two rules live here as pure functions so that the store applies them inside its transactions and the
//! tests can walk them by table: [`check_subcontracted_work`] (a subcontractor's staff may log work only
//! inside an approved scope and period) and [`assignment_active`] (an account tied to a roster entry works
//! only inside its assignment and with its pledge on file).

use crate::error::{DomainError, FieldError};
use crate::support::{Category, Clause, date_field};
use crate::text::{self, Line, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

coded_enum!(
    /// What kind of thing the prefecture provided.
    MaterialKind {
        /// 紙の文書.
        Document = "document", "文書", "Document";
        /// 電子媒体 (USB memory, optical disc) as a thing.
        Media = "media", "電子媒体", "Media";
        /// A data set (files, extracts).
        Dataset = "dataset", "データ", "Data set";
        /// Anything else (keys, equipment).
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// How it was handed over.
    Medium {
        /// Paper.
        Paper = "paper", "紙", "Paper";
        /// USB memory.
        Usb = "usb", "USBメモリ", "USB memory";
        /// CD / DVD.
        Optical = "optical", "光ディスク", "Optical disc";
        /// Over the network (file share, mail).
        Network = "network", "ネットワーク", "Network";
        /// Anything else.
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// The prefecture's information classification (機密性).
    Classification {
        /// 機密性3: the most sensitive.
        C3 = "c3", "機密性3", "Confidentiality 3";
        /// 機密性2.
        C2 = "c2", "機密性2", "Confidentiality 2";
        /// 機密性1: may be made public.
        C1 = "c1", "機密性1", "Confidentiality 1";
    }
);

coded_enum!(
    /// How a provided material left the contractor at the end.
    Disposition {
        /// 返却: handed back.
        Returned = "returned", "返却", "Returned";
        /// 消去: erased irrecoverably (data, media).
        Erased = "erased", "消去", "Erased";
    }
);

/// Collects the clauses and categories of a scope from their codes, refusing unknown ones.
fn scope_parts(
    errors: &mut Vec<FieldError>,
    clauses: &[String],
    categories: &[String],
) -> (Vec<Clause>, Vec<Category>) {
    let mut cs = Vec::new();
    for c in clauses {
        match Clause::parse(c) {
            Some(c) if !cs.contains(&c) => cs.push(c),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "clauses",
                "業務の区分（①～⑤）が正しくありません。",
            )),
        }
    }
    let mut ks = Vec::new();
    for k in categories {
        match Category::parse(k) {
            Some(k) if !ks.contains(&k) => ks.push(k),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "categories",
                "作業の種類が正しくありません。",
            )),
        }
    }
    cs.sort_by_key(|c| c.code());
    if cs.is_empty() && ks.is_empty() {
        errors.push(FieldError::new(
            "clauses",
            "再委託する範囲（業務の区分①～⑤または作業の種類）を1つ以上選択してください。",
        ));
    }
    (cs, ks)
}

/// A start and an optional end, the end not before the start.
fn period(
    errors: &mut Vec<FieldError>,
    (start_field, start_label, start_raw): (&str, &str, &str),
    (end_field, end_label, end_raw): (&str, &str, &str),
    end_required: bool,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let start = date_field(errors, start_field, start_label, start_raw, true);
    let end = date_field(errors, end_field, end_label, end_raw, end_required);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        errors.push(FieldError::new(
            end_field,
            format!("{end_label}は{start_label}以降にしてください。"),
        ));
    }
    (start, end)
}

fn done<T>(errors: Vec<FieldError>, value: Option<T>) -> Result<T, DomainError> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ if errors.is_empty() => Err(DomainError::invalid("form", "入力内容に誤りがあります。")),
        _ => Err(DomainError::Validation(errors)),
    }
}

// ------------------------------------------------------------------------------------ subcontracts (R9)

/// Raw input of a subcontracting approval (再委託承認).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SubcontractInput {
    /// 再委託先 (the subcontractor).
    pub subcontractor: String,
    /// 再委託する業務の内容 (which part of the work, in words).
    pub work_part: String,
    /// The clauses ①–⑤ the approval covers (codes `1`…`5`).
    pub clauses: Vec<String>,
    /// The work kinds the approval covers (category codes).
    pub categories: Vec<String>,
    /// 承認番号 (the number of the prefecture's written approval).
    pub approval_number: String,
    /// 承認日.
    pub approved_on: String,
    /// First day of the approved period.
    pub period_start: String,
    /// Last day of the approved period.
    pub period_end: String,
    /// 備考.
    pub note: String,
}

/// A validated subcontracting approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubcontractDraft {
    pub subcontractor: Line<200>,
    pub work_part: Text<2000>,
    pub clauses: Vec<Clause>,
    pub categories: Vec<Category>,
    pub approval_number: Line<64>,
    pub approved_on: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub note: Text<2000>,
}

impl SubcontractInput {
    /// Validates into an approval. The approval date may not be after the period's start (work cannot
    /// be subcontracted before the written approval exists).
    pub fn validate(&self) -> Result<SubcontractDraft, DomainError> {
        let mut errors = Vec::new();
        let subcontractor = text::line(
            &mut errors,
            "subcontractor",
            "再委託先",
            &self.subcontractor,
            true,
        );
        let work_part = text::text(
            &mut errors,
            "work_part",
            "再委託する業務の内容",
            &self.work_part,
            true,
        );
        let (clauses, categories) = scope_parts(&mut errors, &self.clauses, &self.categories);
        let approval_number = text::line(
            &mut errors,
            "approval_number",
            "承認番号",
            &self.approval_number,
            true,
        );
        let approved_on = date_field(
            &mut errors,
            "approved_on",
            "承認日",
            &self.approved_on,
            true,
        );
        let (start, end) = period(
            &mut errors,
            ("period_start", "再委託期間の開始日", &self.period_start),
            ("period_end", "再委託期間の終了日", &self.period_end),
            true,
        );
        if let (Some(a), Some(s)) = (approved_on, start)
            && a > s
        {
            errors.push(FieldError::new(
                "approved_on",
                "承認日は再委託期間の開始日以前にしてください（承認前の再委託はできません）。",
            ));
        }
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        let value = match (approved_on, start, end) {
            (Some(approved_on), Some(period_start), Some(period_end)) => Some(SubcontractDraft {
                subcontractor,
                work_part,
                clauses,
                categories,
                approval_number,
                approved_on,
                period_start,
                period_end,
                note,
            }),
            _ => None,
        };
        done(errors, value)
    }
}

/// What one approval allows: its scope and period (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedScope {
    /// Clauses covered.
    pub clauses: Vec<Clause>,
    /// Work kinds covered.
    pub categories: Vec<Category>,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl ApprovedScope {
    /// Whether this approval covers work of `category` under `clause` on `date`: the date inside the
    /// period and the clause or the work kind in the scope.
    pub fn covers(&self, date: NaiveDate, clause: Clause, category: Category) -> bool {
        date >= self.start
            && date <= self.end
            && (self.clauses.contains(&clause) || self.categories.contains(&category))
    }
}

/// The rule of R9 for one worker who is a subcontractor's staff: the work must be covered by one of the
/// approvals of their subcontractor. Refused naming the worker and what is missing.
pub fn check_subcontracted_work(
    worker: &str,
    scopes: &[ApprovedScope],
    date: NaiveDate,
    clause: Clause,
    category: Category,
) -> Result<(), FieldError> {
    if scopes.iter().any(|s| s.covers(date, clause, category)) {
        return Ok(());
    }
    let in_period = scopes.iter().any(|s| date >= s.start && date <= s.end);
    let why = if scopes.is_empty() {
        "再委託の承認が登録されていません".to_string()
    } else if in_period {
        format!(
            "{}（{}）は承認された再委託の範囲外です",
            clause.label_ja(),
            category.label_ja()
        )
    } else {
        format!(
            "{}は承認された再委託の期間外です",
            crate::wareki::format_long(date)
        )
    };
    Err(FieldError::new(
        "worker_ids",
        format!("{worker}さんは再委託先の従事者です。{why}。"),
    ))
}

// ------------------------------------------------------------------------------- provided materials (R10)

/// Raw input of a provided material (提供資料).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MaterialInput {
    /// 資料名.
    pub name: String,
    /// Kind code ([`MaterialKind`]).
    pub kind: String,
    /// 提供元 (the prefecture's division or person).
    pub provided_by: String,
    /// 受領日.
    pub received_on: String,
    /// Medium code ([`Medium`]).
    pub medium: String,
    /// Classification code ([`Classification`]).
    pub classification: String,
    /// 保管場所.
    pub storage: String,
    /// 数量・内容 (e.g. 「1冊（42頁）」).
    pub quantity: String,
    /// 備考.
    pub note: String,
}

/// A validated provided material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialDraft {
    pub name: Line<200>,
    pub kind: MaterialKind,
    pub provided_by: Line<200>,
    pub received_on: NaiveDate,
    pub medium: Medium,
    pub classification: Classification,
    pub storage: Line<200>,
    pub quantity: Line<100>,
    pub note: Text<2000>,
}

impl MaterialInput {
    /// Validates into a register entry.
    pub fn validate(&self) -> Result<MaterialDraft, DomainError> {
        let mut errors = Vec::new();
        let name = text::line(&mut errors, "name", "資料名", &self.name, true);
        let kind = MaterialKind::parse(&self.kind);
        if kind.is_none() {
            errors.push(FieldError::new("kind", "資料の種類を選択してください。"));
        }
        let provided_by = text::line(
            &mut errors,
            "provided_by",
            "提供元",
            &self.provided_by,
            true,
        );
        let received_on = date_field(
            &mut errors,
            "received_on",
            "受領日",
            &self.received_on,
            true,
        );
        let medium = Medium::parse(&self.medium);
        if medium.is_none() {
            errors.push(FieldError::new("medium", "媒体を選択してください。"));
        }
        let classification = Classification::parse(&self.classification);
        if classification.is_none() {
            errors.push(FieldError::new(
                "classification",
                "機密性の区分を選択してください。",
            ));
        }
        let storage = text::line(&mut errors, "storage", "保管場所", &self.storage, true);
        let quantity = text::line(&mut errors, "quantity", "数量・内容", &self.quantity, false);
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        let value = match (kind, received_on, medium, classification) {
            (Some(kind), Some(received_on), Some(medium), Some(classification)) => {
                Some(MaterialDraft {
                    name,
                    kind,
                    provided_by,
                    received_on,
                    medium,
                    classification,
                    storage,
                    quantity,
                    note,
                })
            }
            _ => None,
        };
        done(errors, value)
    }
}

/// Raw input of a request to copy a provided material (複製の申請).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CopyRequestInput {
    /// 申請日.
    pub requested_on: String,
    /// 部数.
    pub copies: u32,
    /// 目的.
    pub purpose: String,
}

/// A validated copy request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyRequestDraft {
    pub requested_on: NaiveDate,
    pub copies: u32,
    pub purpose: Text<1000>,
}

impl CopyRequestInput {
    /// Validates a copy request: at least one copy, a purpose.
    pub fn validate(&self) -> Result<CopyRequestDraft, DomainError> {
        let mut errors = Vec::new();
        let requested_on = date_field(
            &mut errors,
            "requested_on",
            "申請日",
            &self.requested_on,
            true,
        );
        if self.copies == 0 || self.copies > 100 {
            errors.push(FieldError::new(
                "copies",
                "部数は1～100で入力してください。",
            ));
        }
        let purpose = text::text(&mut errors, "purpose", "複製の目的", &self.purpose, true);
        let value = requested_on.map(|requested_on| CopyRequestDraft {
            requested_on,
            copies: self.copies,
            purpose,
        });
        done(errors, value)
    }
}

/// Raw input of the prefecture's decision on a copy request, or of its acknowledgement of a return.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DecisionInput {
    /// Permitted (true) or refused (false); for an acknowledgement always true.
    pub granted: bool,
    /// 日付.
    pub decided_on: String,
    /// 県の確認者 (name as written on the document).
    pub decided_by: String,
    /// 備考.
    pub note: String,
}

/// A validated decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionDraft {
    pub granted: bool,
    pub decided_on: NaiveDate,
    pub decided_by: Line<100>,
    pub note: Text<1000>,
}

impl DecisionInput {
    /// Validates a decision: a date and the prefecture's person.
    pub fn validate(&self) -> Result<DecisionDraft, DomainError> {
        let mut errors = Vec::new();
        let decided_on = date_field(&mut errors, "decided_on", "確認日", &self.decided_on, true);
        let decided_by = text::line(
            &mut errors,
            "decided_by",
            "県の確認者",
            &self.decided_by,
            true,
        );
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        let value = decided_on.map(|decided_on| DecisionDraft {
            granted: self.granted,
            decided_on,
            decided_by,
            note,
        });
        done(errors, value)
    }
}

/// Raw input of the return (or erasure) of a provided material at the end.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReturnMaterialInput {
    /// Disposition code ([`Disposition`]).
    pub disposition: String,
    /// 返却・消去日.
    pub done_on: String,
    /// 方法 (e.g. 「手渡し」「消去ソフトによる上書き3回」), copies included.
    pub method: String,
}

/// A validated return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnMaterialDraft {
    pub disposition: Disposition,
    pub done_on: NaiveDate,
    pub method: Text<1000>,
}

impl ReturnMaterialInput {
    /// Validates a return or erasure.
    pub fn validate(&self) -> Result<ReturnMaterialDraft, DomainError> {
        let mut errors = Vec::new();
        let disposition = Disposition::parse(&self.disposition);
        if disposition.is_none() {
            errors.push(FieldError::new(
                "disposition",
                "返却か消去かを選択してください。",
            ));
        }
        let done_on = date_field(&mut errors, "done_on", "返却・消去日", &self.done_on, true);
        let method = text::text(
            &mut errors,
            "method",
            "返却・消去の方法",
            &self.method,
            true,
        );
        let value = match (disposition, done_on) {
            (Some(disposition), Some(done_on)) => Some(ReturnMaterialDraft {
                disposition,
                done_on,
                method,
            }),
            _ => None,
        };
        done(errors, value)
    }
}

// ------------------------------------------------------------------------------------ staff roster (R12)

/// Raw input of a roster entry (従事者名簿).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StaffInput {
    /// 氏名.
    pub name: String,
    /// 所属 (the contractor or a subcontractor).
    pub employer: String,
    /// 契約上の役割 (作業責任者, SE, …).
    pub role_on_contract: String,
    /// The account this person logs in with, if any: its access follows the assignment.
    pub user_id: Option<i64>,
    /// The approval this person works under, when employed by a subcontractor.
    pub subcontract_id: Option<i64>,
    /// 従事開始日.
    pub start_on: String,
    /// 従事終了日 (empty: until further notice).
    pub end_on: String,
    /// 誓約書の日付.
    pub pledge_on: String,
    /// セキュリティ研修の受講日 (comma- or line-separated dates).
    pub training_dates: String,
    /// 備考.
    pub note: String,
}

/// A validated roster entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffDraft {
    pub name: Line<100>,
    pub employer: Line<200>,
    pub role_on_contract: Line<100>,
    pub user_id: Option<i64>,
    pub subcontract_id: Option<i64>,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
    pub pledge_on: Option<NaiveDate>,
    pub training_dates: Vec<NaiveDate>,
    pub note: Text<2000>,
}

impl StaffInput {
    /// Validates into a roster entry.
    pub fn validate(&self) -> Result<StaffDraft, DomainError> {
        let mut errors = Vec::new();
        let name = text::line(&mut errors, "name", "氏名", &self.name, true);
        let employer = text::line(&mut errors, "employer", "所属", &self.employer, true);
        let role_on_contract = text::line(
            &mut errors,
            "role_on_contract",
            "契約上の役割",
            &self.role_on_contract,
            true,
        );
        let (start, end_on) = period(
            &mut errors,
            ("start_on", "従事開始日", &self.start_on),
            ("end_on", "従事終了日", &self.end_on),
            false,
        );
        let pledge_on = date_field(
            &mut errors,
            "pledge_on",
            "誓約書の日付",
            &self.pledge_on,
            false,
        );
        let mut training_dates = Vec::new();
        for part in self
            .training_dates
            .split([',', '、', '\n', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(d) = date_field(&mut errors, "training_dates", "研修受講日", part, true)
            {
                training_dates.push(d);
            }
        }
        training_dates.sort_unstable();
        training_dates.dedup();
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        let value = start.map(|start_on| StaffDraft {
            name,
            employer,
            role_on_contract,
            user_id: self.user_id,
            subcontract_id: self.subcontract_id,
            start_on,
            end_on,
            pledge_on,
            training_dates,
            note,
        });
        done(errors, value)
    }
}

/// Whether an account tied to a roster entry may work on `today` (JST): inside its assignment (the end
/// day included) and with its pledge on file (the pledge's date on or before today and its document
/// attached). The store's session and token checks ask the same in SQL.
pub fn assignment_active(
    start_on: NaiveDate,
    end_on: Option<NaiveDate>,
    pledge_on: Option<NaiveDate>,
    pledge_attached: bool,
    today: NaiveDate,
) -> bool {
    start_on <= today
        && end_on.is_none_or(|e| today <= e)
        && pledge_attached
        && pledge_on.is_some_and(|p| p <= today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn scope() -> ApprovedScope {
        ApprovedScope {
            clauses: vec![Clause::Business],
            categories: vec![Category::ConnectivityCheck],
            start: d(2026, 6, 1),
            end: d(2026, 9, 30),
        }
    }

    #[test]
    fn subcontracted_work_table() {
        use Category::*;
        use Clause::*;
        // (date, clause, category, allowed)
        let table = [
            (d(2026, 6, 1), Business, RemoteUpdate, true),
            (d(2026, 9, 30), Business, AppInstall, true),
            (d(2026, 7, 1), General, ConnectivityCheck, true),
            (d(2026, 7, 1), General, TechnicalSupport, false),
            (d(2026, 7, 1), Representative, AppInstall, false),
            (d(2026, 7, 1), Emergency, IncidentResponse, false),
            (d(2026, 5, 31), Business, RemoteUpdate, false),
            (d(2026, 10, 1), Business, RemoteUpdate, false),
            (d(2026, 10, 1), General, ConnectivityCheck, false),
        ];
        for (date, clause, category, allowed) in table {
            assert_eq!(
                check_subcontracted_work("再委託花子", &[scope()], date, clause, category).is_ok(),
                allowed,
                "{date} {clause:?} {category:?}"
            );
        }
    }

    #[test]
    fn subcontracted_work_messages_say_why() {
        let none = check_subcontracted_work(
            "甲",
            &[],
            d(2026, 7, 1),
            Clause::Business,
            Category::RemoteUpdate,
        )
        .expect_err("no approval");
        assert!(
            none.message.contains("承認が登録されていません"),
            "{}",
            none.message
        );
        let scope_miss = check_subcontracted_work(
            "甲",
            &[scope()],
            d(2026, 7, 1),
            Clause::Emergency,
            Category::IncidentResponse,
        )
        .expect_err("scope");
        assert!(
            scope_miss.message.contains("範囲外"),
            "{}",
            scope_miss.message
        );
        let period_miss = check_subcontracted_work(
            "甲",
            &[scope()],
            d(2026, 10, 1),
            Clause::Business,
            Category::RemoteUpdate,
        )
        .expect_err("period");
        assert!(
            period_miss
                .message
                .contains("令和8年10月1日は承認された再委託の期間外"),
            "{}",
            period_miss.message
        );
        assert_eq!(period_miss.field, "worker_ids");
    }

    #[test]
    fn second_approval_extends_the_rule() {
        let later = ApprovedScope {
            clauses: vec![Clause::Emergency],
            categories: vec![],
            start: d(2026, 10, 1),
            end: d(2027, 3, 31),
        };
        let scopes = [scope(), later];
        assert!(
            check_subcontracted_work(
                "甲",
                &scopes,
                d(2026, 11, 2),
                Clause::Emergency,
                Category::IncidentResponse
            )
            .is_ok()
        );
        assert!(
            check_subcontracted_work(
                "甲",
                &scopes,
                d(2026, 11, 2),
                Clause::Business,
                Category::RemoteUpdate
            )
            .is_err()
        );
    }

    #[test]
    fn assignment_table() {
        let start = d(2026, 4, 1);
        let end = Some(d(2026, 9, 30));
        let pledge = Some(d(2026, 3, 25));
        // (end, pledge, attached, today, active)
        let table = [
            (end, pledge, true, d(2026, 4, 1), true),
            (end, pledge, true, d(2026, 9, 30), true),
            (end, pledge, true, d(2026, 10, 1), false),
            (end, pledge, true, d(2026, 3, 31), false),
            (None, pledge, true, d(2030, 1, 1), true),
            (end, None, true, d(2026, 5, 1), false),
            (end, pledge, false, d(2026, 5, 1), false),
            (end, Some(d(2026, 5, 2)), true, d(2026, 5, 1), false),
            (end, Some(d(2026, 5, 2)), true, d(2026, 5, 2), true),
        ];
        for (end, pledge, attached, today, active) in table {
            assert_eq!(
                assignment_active(start, end, pledge, attached, today),
                active,
                "{end:?} {pledge:?} {attached} {today}"
            );
        }
    }

    #[test]
    fn subcontract_validation() {
        let ok = SubcontractInput {
            subcontractor: "有限会社唐津ネット".into(),
            work_part: "業務端末のリモート更新".into(),
            clauses: vec!["2".into()],
            categories: vec![],
            approval_number: "佐情第123号".into(),
            approved_on: "令和8年5月20日".into(),
            period_start: "令和8年6月1日".into(),
            period_end: "令和8年9月30日".into(),
            note: String::new(),
        };
        let draft = ok.validate().expect("valid");
        assert_eq!(draft.clauses, vec![Clause::Business]);
        let mut late = ok.clone();
        late.approved_on = "令和8年6月2日".into();
        let Err(DomainError::Validation(e)) = late.validate() else {
            panic!("late approval")
        };
        assert_eq!(e[0].field, "approved_on");
        let mut empty = ok.clone();
        empty.clauses.clear();
        let Err(DomainError::Validation(e)) = empty.validate() else {
            panic!("no scope")
        };
        assert_eq!(e[0].field, "clauses");
        let mut bad = ok;
        bad.period_end = "令和8年2月30日".into();
        let Err(DomainError::Validation(e)) = bad.validate() else {
            panic!("bad date")
        };
        assert!(
            e[0].message.starts_with("再委託期間の終了日: "),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn staff_training_dates_are_parsed_each() {
        let input = StaffInput {
            name: "保守太郎".into(),
            employer: "株式会社佐賀システム".into(),
            role_on_contract: "SE".into(),
            start_on: "R8.4.1".into(),
            training_dates: "令和8年4月3日、2026-10-02".into(),
            ..Default::default()
        };
        let d1 = input.validate().expect("valid");
        assert_eq!(d1.training_dates, vec![d(2026, 4, 3), d(2026, 10, 2)]);
        let mut bad = input;
        bad.training_dates = "令和8年4月31日".into();
        let Err(DomainError::Validation(e)) = bad.validate() else {
            panic!("bad")
        };
        assert_eq!(e[0].field, "training_dates");
        assert!(e[0].message.starts_with("研修受講日: "), "{}", e[0].message);
    }
}
