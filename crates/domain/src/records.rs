//! The monthly work record (業務実績簿, R8) as a submission: the workflow, the month it covers, and how a
//! frozen submission is compared with the data it was made from.
//!
//! # Workflow
//!
//! ```text
//! 作成（下書き、いつでも再作成） ──提出──► 提出済 ──確認（確認欄ごと: 担当→係長→課長）──► 確認済（以後変更不可）
//!                                          │
//!                                          └──差戻し（どの確認欄でも、理由必須）──► 差戻し ──提出（新しい版）──► 提出済 …
//! ```
//!
//! A draft is not stored: it is generated from the data whenever someone looks at it. 提出 stores the PDF
//! and the XLSX of that moment with their SHA-256 as a new version (第1版, 第2版 …); the bytes of a version
//! never change afterwards. The SE side submits ([`Action::PrepareRecords`]); the prefecture confirms or
//! sends back ([`Action::ConfirmRecords`]); everyone may read ([`Action::ViewRecords`]).
//!
//! The prefecture confirms along its contract's route ([`RouteStep`]s, e.g. 担当・係長・課長; one column
//! 確認者（県） when the contract names none): each step is one person's confirmation with name and date,
//! and freezes the document again as the next version with that column filled
//! ([`version_label`]: 「第3版（係長確認済）」). The record stays 提出済 until the last step
//! ([`status_after_step`]); a send-back at any step returns it to the SE.
//!
//! # What changed since submission
//!
//! With each version the source rows it was made from are kept as [`SourceRow`]s (kind, id, a label and the
//! fields the document shows, with a digest over them). [`compare_sources`] tells, field by field, which
//! rows were added, removed or changed since.

use crate::error::DomainError;
use crate::role::{Action, Role};
use crate::text::{Line, Text};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

coded_enum!(
    /// Where a submitted monthly record stands. A month without a record is 作成中 (draft only).
    RecordStatus {
        /// 提出済: submitted, awaiting the prefecture.
        Submitted = "submitted", "提出済", "Submitted";
        /// 確認済: confirmed by the prefecture; final.
        Confirmed = "confirmed", "確認済", "Confirmed";
        /// 差戻し: sent back with a reason; a new version is to be submitted.
        Returned = "returned", "差戻し", "Returned";
    }
);

coded_enum!(
    /// What someone does to a monthly record.
    RecordAction {
        /// Submit a version (the SE side).
        Submit = "submit", "提出", "Submit";
        /// Confirm the submitted version (the prefecture).
        Confirm = "confirm", "確認", "Confirm";
        /// Send the submitted version back with a reason (the prefecture).
        Return = "return", "差戻し", "Send back";
    }
);

/// The label of a month's state: 作成中 when nothing was submitted yet.
pub fn status_label_ja(status: Option<RecordStatus>) -> &'static str {
    status.map_or("作成中", RecordStatus::label_ja)
}

/// Refusal of anything after confirmation.
pub const CONFIRMED_MESSAGE: &str = "確認済みの業務実績簿は変更できません。";
/// Refusal of a second submission while one awaits the prefecture.
pub const AWAITING_MESSAGE: &str =
    "提出済みの業務実績簿は県の確認待ちです。差戻しを受けた後に新しい版を提出してください。";
/// Refusal of confirm/return when nothing awaits.
pub const NOT_SUBMITTED_MESSAGE: &str = "確認待ちの業務実績簿ではありません。";
/// Refusal of confirming or returning one's own submission.
pub const OWN_SUBMISSION_MESSAGE: &str =
    "自分が提出した業務実績簿を確認・差戻しすることはできません。";

impl RecordAction {
    /// The permission the action needs.
    pub fn permission(self) -> Action {
        match self {
            RecordAction::Submit => Action::PrepareRecords,
            RecordAction::Confirm | RecordAction::Return => Action::ConfirmRecords,
        }
    }

    /// Whether `role` may perform the action at all.
    pub fn allowed_for(self, role: Role) -> bool {
        role.allows(self.permission())
    }
}

/// The state after `action` on a month whose record is in `from` (`None`: nothing submitted yet).
pub fn next_status(
    from: Option<RecordStatus>,
    action: RecordAction,
) -> Result<RecordStatus, DomainError> {
    use RecordAction as A;
    use RecordStatus as S;
    match (from, action) {
        (None | Some(S::Returned), A::Submit) => Ok(S::Submitted),
        (Some(S::Submitted), A::Confirm) => Ok(S::Confirmed),
        (Some(S::Submitted), A::Return) => Ok(S::Returned),
        (Some(S::Confirmed), _) => Err(DomainError::Conflict(CONFIRMED_MESSAGE.into())),
        (Some(S::Submitted), A::Submit) => Err(DomainError::Conflict(AWAITING_MESSAGE.into())),
        (None | Some(S::Returned), A::Confirm | A::Return) => {
            Err(DomainError::Conflict(NOT_SUBMITTED_MESSAGE.into()))
        }
    }
}

/// The actions `role` can take on a month in `from`, in display order.
pub fn available_actions(from: Option<RecordStatus>, role: Role) -> Vec<RecordAction> {
    RecordAction::ALL
        .iter()
        .copied()
        .filter(|a| a.allowed_for(role) && next_status(from, *a).is_ok())
        .collect()
}

/// A calendar month (the period of one record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// A month, if `month` is 1..=12 and the year within chrono's range.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Parses `2026-05`, `2026/5`, `202605` or `令和8年5月`.
    pub fn parse(text: &str) -> Option<Month> {
        let t = text.trim();
        if let Some(rest) = t.strip_suffix('月')
            && let Some((era_year, m)) = rest.rsplit_once('年')
        {
            let first = crate::wareki::parse_wareki(&format!("{era_year}年{m}月1日")).ok()?;
            return Month::new(first.year(), first.month());
        }
        let (y, m) = if let Some((y, m)) = t.split_once(['-', '/']) {
            (y, m)
        } else if t.len() == 6 && t.is_ascii() {
            t.split_at(4)
        } else {
            return None;
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// The first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    /// The following month.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year.saturating_add(1),
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The preceding month.
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year.saturating_sub(1),
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// `2026-05`, the form used in URLs and the command line.
    pub fn code(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `令和8年5月`.
    pub fn label(self) -> String {
        crate::wareki::format_year_month(self.year, self.month)
    }

    /// When the record is due: the 10th of the following month (仕様書 1(6)⑥ 「毎月」, due about the 10th).
    pub fn due_date(self) -> NaiveDate {
        let n = self.next();
        NaiveDate::from_ymd_opt(n.year, n.month, 10).unwrap_or(NaiveDate::MAX)
    }
}

/// Raw input of a return (差戻し).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReturnInput {
    /// Why it is sent back.
    pub reason: String,
}

impl ReturnInput {
    /// The reason, trimmed: required, at most 2,000 characters, no personal identifiers.
    pub fn validate(&self) -> Result<Text<2000>, DomainError> {
        Text::required("reason", "差戻しの理由", &self.reason)
            .map_err(|e| DomainError::Validation(vec![e]))
    }
}

/// The label of the prefecture's single 確認欄 column when a contract names no route.
pub const DEFAULT_STEP_LABEL: &str = "確認者（県）";
/// The most columns a route may have (they share one line of the document).
pub const MAX_ROUTE_STEPS: usize = 6;
/// Refusal of a step held by someone else.
pub const NOT_STEP_HOLDER_MESSAGE: &str =
    "この確認欄は別の方が担当するよう指定されています。指定された方が確認・差戻ししてください。";
/// Refusal of a second column filled by the same person.
pub const SAME_PERSON_MESSAGE: &str = "同じ方が同じ版の複数の確認欄を確認することはできません。";

/// One step of the prefecture's approval route (a 確認欄 column such as 担当, 係長 or 課長): its label and,
/// optionally, the account that holds it (`None`: any prefecture account may take it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStep {
    /// The column's heading (e.g. 「係長」).
    pub label: String,
    /// The account that holds the step, if only one may.
    #[serde(default)]
    pub user_id: Option<i64>,
}

impl RouteStep {
    /// A step anyone of the prefecture may take.
    pub fn new(label: impl Into<String>) -> RouteStep {
        RouteStep {
            label: label.into(),
            user_id: None,
        }
    }

    /// Whether the account `user_id` may confirm or send back at this step.
    pub fn held_by(&self, user_id: Option<i64>) -> bool {
        self.user_id.is_none() || self.user_id == user_id
    }
}

/// The route of a contract that names none: one column, 確認者（県）.
pub fn default_route() -> Vec<RouteStep> {
    vec![RouteStep::new(DEFAULT_STEP_LABEL)]
}

/// A route, validated: 1 to [`MAX_ROUTE_STEPS`] steps, each label one line of at most 20 characters,
/// labels distinct, no personal identifiers.
pub fn validate_route(steps: &[RouteStep]) -> Result<Vec<RouteStep>, DomainError> {
    if steps.is_empty() || steps.len() > MAX_ROUTE_STEPS {
        return Err(DomainError::invalid(
            "route",
            "確認欄は1～6列で指定してください。",
        ));
    }
    let mut out: Vec<RouteStep> = Vec::with_capacity(steps.len());
    for s in steps {
        if s.label.trim().is_empty() || s.label.trim().chars().count() > 20 {
            return Err(DomainError::invalid(
                "route",
                "確認欄の名称は1行・20文字以内で入力してください。",
            ));
        }
        let label = Line::<20>::required("route", "確認欄の名称", &s.label)
            .map_err(|e| DomainError::Validation(vec![e]))?
            .into_string();
        if out.iter().any(|o| o.label == label) {
            return Err(DomainError::invalid(
                "route",
                "確認欄の名称が重複しています。",
            ));
        }
        out.push(RouteStep {
            label,
            user_id: s.user_id,
        });
    }
    Ok(out)
}

/// The state after the prefecture confirms step `step` (1-based) of a route of `steps` steps: 確認済 after
/// the last, still 提出済 (awaiting the next step) before.
pub fn status_after_step(step: usize, steps: usize) -> RecordStatus {
    if step >= steps {
        RecordStatus::Confirmed
    } else {
        RecordStatus::Submitted
    }
}

/// What a frozen version shows, for labels and file names: `stage` steps of `route` confirmed in it.
/// 「第1版（提出）」, 「第3版（係長確認済）」 (an intermediate step), 「第4版（確認済）」 (every step).
pub fn version_label(version: i64, stage: usize, route: &[RouteStep]) -> String {
    format!("第{version}版（{}）", stage_label(stage, route))
}

/// The parenthesised part of [`version_label`]: 提出, 「係長確認済」 or 確認済.
pub fn stage_label(stage: usize, route: &[RouteStep]) -> String {
    if stage == 0 {
        "提出".to_string()
    } else if stage >= route.len() {
        "確認済".to_string()
    } else {
        format!("{}確認済", route[stage - 1].label)
    }
}

/// The addressee printed on the record (e.g. 「佐賀県知事　様」), validated: required, one line, at most 60
/// characters, no personal identifiers.
pub fn validate_addressee(text: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.chars().count() > 60 || t.contains(['\n', '\r']) {
        return Err(DomainError::invalid(
            "addressee",
            "宛先は1行・60文字以内で入力してください。",
        ));
    }
    Line::<60>::required("addressee", "宛先", text)
        .map(Line::into_string)
        .map_err(|e| DomainError::Validation(vec![e]))
}

coded_enum!(
    /// The kind of record a document was made from.
    SourceKind {
        Contract = "contract", "契約", "Contract";
        Work = "work", "作業記録", "Work entry";
        Request = "request", "支援要請", "Support request";
        Incident = "incident", "障害", "Incident";
        Consultation = "consultation", "協議記録", "Consultation";
        Campaign = "campaign", "展開", "Campaign";
        Connectivity = "connectivity", "疎通確認", "Connectivity";
    }
);

/// One row a document was made from, with the fields the document shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRow {
    /// [`SourceKind`] code.
    pub kind: String,
    pub id: i64,
    /// How people recognise it (e.g. 「5月12日 定期点検（県庁）」).
    pub label: String,
    /// When the row was last changed, as stored (informational).
    #[serde(default)]
    pub updated_at: String,
    /// A digest over `fields` (hex SHA-256, filled by whoever builds the row).
    #[serde(default)]
    pub digest: String,
    /// (field label, value as shown), in document order.
    pub fields: Vec<(String, String)>,
}

impl SourceRow {
    fn key(&self) -> (&str, i64) {
        (self.kind.as_str(), self.id)
    }

    /// The kind's Japanese label.
    pub fn kind_label(&self) -> &str {
        match SourceKind::parse(&self.kind) {
            Some(k) => k.label_ja(),
            None => &self.kind,
        }
    }
}

coded_enum!(
    /// How a source row differs from the submission.
    ChangeKind {
        Added = "added", "追加", "Added";
        Removed = "removed", "削除・対象外", "Removed";
        Changed = "changed", "変更", "Changed";
    }
);

/// One field whose value differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A source row that differs from the submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceChange {
    pub change: ChangeKind,
    /// [`SourceKind`] code.
    pub kind: String,
    pub id: i64,
    /// The current label (the submitted one for removed rows).
    pub label: String,
    /// For [`ChangeKind::Changed`], the fields that differ (for added/removed rows: every field, with
    /// the missing side empty).
    pub fields: Vec<FieldChange>,
}

impl SourceChange {
    /// The kind's Japanese label.
    pub fn kind_label(&self) -> &str {
        match SourceKind::parse(&self.kind) {
            Some(k) => k.label_ja(),
            None => &self.kind,
        }
    }
}

/// Rows added, removed or changed between what a submission was made from (`frozen`) and the data now
/// (`current`), in the order of `current` (removed rows after, in their frozen order). Rows are matched by
/// (kind, id); a row whose digest and fields are equal is unchanged.
pub fn compare_sources(frozen: &[SourceRow], current: &[SourceRow]) -> Vec<SourceChange> {
    use std::collections::HashMap;
    let before: HashMap<(&str, i64), &SourceRow> = frozen.iter().map(|r| (r.key(), r)).collect();
    let now: HashMap<(&str, i64), &SourceRow> = current.iter().map(|r| (r.key(), r)).collect();
    let mut out = Vec::new();
    for row in current {
        match before.get(&row.key()) {
            None => out.push(SourceChange {
                change: ChangeKind::Added,
                kind: row.kind.clone(),
                id: row.id,
                label: row.label.clone(),
                fields: row
                    .fields
                    .iter()
                    .map(|(f, v)| FieldChange {
                        field: f.clone(),
                        before: String::new(),
                        after: v.clone(),
                    })
                    .collect(),
            }),
            Some(old) if old.digest != row.digest || old.fields != row.fields => {
                let mut fields = Vec::new();
                for (f, v) in &row.fields {
                    let was = old
                        .fields
                        .iter()
                        .find(|(g, _)| g == f)
                        .map(|(_, w)| w.as_str())
                        .unwrap_or("");
                    if was != v {
                        fields.push(FieldChange {
                            field: f.clone(),
                            before: was.to_string(),
                            after: v.clone(),
                        });
                    }
                }
                for (f, w) in &old.fields {
                    if !row.fields.iter().any(|(g, _)| g == f) {
                        fields.push(FieldChange {
                            field: f.clone(),
                            before: w.clone(),
                            after: String::new(),
                        });
                    }
                }
                // Equal fields with a different digest: the digest covers something not shown.
                if fields.is_empty() {
                    fields.push(FieldChange {
                        field: "digest".into(),
                        before: old.digest.clone(),
                        after: row.digest.clone(),
                    });
                }
                out.push(SourceChange {
                    change: ChangeKind::Changed,
                    kind: row.kind.clone(),
                    id: row.id,
                    label: row.label.clone(),
                    fields,
                });
            }
            Some(_) => {}
        }
    }
    for row in frozen {
        if !now.contains_key(&row.key()) {
            out.push(SourceChange {
                change: ChangeKind::Removed,
                kind: row.kind.clone(),
                id: row.id,
                label: row.label.clone(),
                fields: row
                    .fields
                    .iter()
                    .map(|(f, v)| FieldChange {
                        field: f.clone(),
                        before: v.clone(),
                        after: String::new(),
                    })
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_follows_the_specification() {
        use RecordAction as A;
        use RecordStatus as S;
        assert_eq!(next_status(None, A::Submit), Ok(S::Submitted));
        assert_eq!(
            next_status(Some(S::Submitted), A::Confirm),
            Ok(S::Confirmed)
        );
        assert_eq!(next_status(Some(S::Submitted), A::Return), Ok(S::Returned));
        assert_eq!(next_status(Some(S::Returned), A::Submit), Ok(S::Submitted));
        for a in RecordAction::ALL {
            assert!(next_status(Some(S::Confirmed), *a).is_err());
        }
        assert!(next_status(Some(S::Submitted), A::Submit).is_err());
        assert!(next_status(None, A::Confirm).is_err());
        assert!(next_status(Some(S::Returned), A::Return).is_err());
    }

    #[test]
    fn who_may_do_what() {
        assert_eq!(
            available_actions(None, Role::Se),
            vec![RecordAction::Submit]
        );
        assert_eq!(available_actions(None, Role::Staff), vec![]);
        assert_eq!(
            available_actions(Some(RecordStatus::Submitted), Role::Staff),
            vec![RecordAction::Confirm, RecordAction::Return]
        );
        assert_eq!(
            available_actions(Some(RecordStatus::Submitted), Role::Se),
            vec![]
        );
        for s in [
            None,
            Some(RecordStatus::Submitted),
            Some(RecordStatus::Returned),
        ] {
            assert!(available_actions(s, Role::Auditor).is_empty());
        }
        assert_eq!(status_label_ja(None), "作成中");
    }

    #[test]
    fn months_parse_and_bound() {
        let may = Month::new(2026, 5).unwrap();
        for text in [
            "2026-05",
            "2026-5",
            "2026/05",
            "202605",
            "令和8年5月",
            " 2026-05 ",
        ] {
            assert_eq!(Month::parse(text), Some(may), "{text}");
        }
        for text in ["2026-13", "2026", "26-05", "", "令和8年13月", "2026-05-01"] {
            assert_eq!(Month::parse(text), None, "{text}");
        }
        assert_eq!(may.first_day().to_string(), "2026-05-01");
        assert_eq!(may.last_day().to_string(), "2026-05-31");
        assert_eq!(
            Month::new(2027, 2).unwrap().last_day().to_string(),
            "2027-02-28"
        );
        assert_eq!(
            Month::new(2026, 12).unwrap().next(),
            Month::new(2027, 1).unwrap()
        );
        assert_eq!(
            Month::new(2027, 1).unwrap().prev(),
            Month::new(2026, 12).unwrap()
        );
        assert_eq!(may.code(), "2026-05");
        assert_eq!(may.label(), "令和8年5月");
        assert_eq!(may.due_date().to_string(), "2026-06-10");
    }

    #[test]
    fn reasons_are_required_and_guarded() {
        assert!(ReturnInput::default().validate().is_err());
        assert_eq!(
            ReturnInput {
                reason: " 5月12日の作業時間が誤っています。 ".into()
            }
            .validate()
            .unwrap(),
            "5月12日の作業時間が誤っています。"
        );
        // A 個人番号 with a valid check digit is refused.
        assert!(
            ReturnInput {
                reason: "123456789018".into()
            }
            .validate()
            .is_err()
        );
        assert!(validate_addressee("佐賀県知事　様").is_ok());
        assert!(validate_addressee("").is_err());
        assert!(validate_addressee("一\n二").is_err());
    }

    #[test]
    fn routes_and_their_labels() {
        assert_eq!(default_route(), vec![RouteStep::new("確認者（県）")]);
        let route = validate_route(&[
            RouteStep::new(" 担当 "),
            RouteStep {
                label: "係長".into(),
                user_id: Some(7),
            },
            RouteStep::new("課長"),
        ])
        .unwrap();
        assert_eq!(route[0].label, "担当");
        assert!(route[1].held_by(Some(7)));
        assert!(!route[1].held_by(Some(8)));
        assert!(route[0].held_by(Some(8)));
        assert!(validate_route(&[]).is_err());
        assert!(validate_route(&[RouteStep::new("担当"), RouteStep::new("担当")]).is_err());
        assert!(validate_route(&[RouteStep::new("")]).is_err());
        assert!(validate_route(&vec![RouteStep::new("x"); 7]).is_err());
        assert_eq!(status_after_step(1, 3), RecordStatus::Submitted);
        assert_eq!(status_after_step(3, 3), RecordStatus::Confirmed);
        assert_eq!(status_after_step(1, 1), RecordStatus::Confirmed);
        assert_eq!(version_label(1, 0, &route), "第1版（提出）");
        assert_eq!(version_label(2, 1, &route), "第2版（担当確認済）");
        assert_eq!(version_label(3, 2, &route), "第3版（係長確認済）");
        assert_eq!(version_label(4, 3, &route), "第4版（確認済）");
        assert_eq!(version_label(2, 1, &default_route()), "第2版（確認済）");
    }

    fn row(kind: SourceKind, id: i64, fields: &[(&str, &str)]) -> SourceRow {
        SourceRow {
            kind: kind.code().into(),
            id,
            label: format!("{} {id}", kind.label_ja()),
            updated_at: String::new(),
            digest: fields.iter().map(|(_, v)| *v).collect::<Vec<_>>().join("|"),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn changes_are_found_field_by_field() {
        let frozen = vec![
            row(
                SourceKind::Work,
                1,
                &[("内容", "定期点検"), ("時間数", "1.5")],
            ),
            row(SourceKind::Work, 2, &[("内容", "更新"), ("時間数", "1")]),
            row(SourceKind::Consultation, 1, &[("協議事項", "日程")]),
        ];
        let current = vec![
            row(
                SourceKind::Work,
                1,
                &[("内容", "定期点検"), ("時間数", "2")],
            ),
            row(
                SourceKind::Work,
                3,
                &[("内容", "追加作業"), ("時間数", "1")],
            ),
            row(SourceKind::Consultation, 1, &[("協議事項", "日程")]),
        ];
        let changes = compare_sources(&frozen, &current);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].change, ChangeKind::Changed);
        assert_eq!(
            changes[0].fields,
            vec![FieldChange {
                field: "時間数".into(),
                before: "1.5".into(),
                after: "2".into()
            }]
        );
        assert_eq!((changes[1].change, changes[1].id), (ChangeKind::Added, 3));
        assert_eq!((changes[2].change, changes[2].id), (ChangeKind::Removed, 2));
        assert!(compare_sources(&frozen, &frozen).is_empty());
    }
}
