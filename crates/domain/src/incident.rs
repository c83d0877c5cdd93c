//! Incidents (障害対応, R7): the emergency response of the specification's 1(6)⑤ — cause investigation
//! (原因調査), workaround design and guidance (回避策の検討及び指導), recovery work (障害復旧作業) and the
//! witnessed recovery (障害復旧時の立会い) — and the known-error library (既知の障害).
//!
//! # Stages
//!
//! ```text
//! 受付 ──原因調査開始──► 原因調査 ──回避策実施──► 回避策 ──復旧作業開始──► 復旧作業 ──復旧報告──► 復旧確認 ──完了──► 完了
//!                          │                                   ▲         ▲                      │  (立会い必須)   │
//!                          └────────────復旧作業開始────────────┘         └───復旧作業に戻す──────┘                 │
//!                          ▲                                                                                       │
//!                          └───────────────────────────────────────再開（理由必須）───────────────────────────────┘
//! ```
//!
//! 回避策 may be skipped (not every incident has one); nothing else may. 完了 is refused until a witness
//! record (立会者の氏名・所属・日時・所見, all four) has been entered in 復旧確認 ([`WITNESS_REQUIRED_MESSAGE`]).
//! 再開 goes back to 原因調査 and clears the recovery, the witness and the close.
//!
//! # Who does what
//!
//! The SE works the incident ([`Action::WorkIncident`]: investigate, workaround, recovery); the prefecture
//! side witnesses and signs off the recovery ([`Action::WitnessRecovery`]: 県管理者 and 県職員, not the SE).
//! The specification lists 「障害復旧時の立会い」 among the SE's duties: the SE is present at the recovery, and
//! that presence is evidenced by the SE's own 復旧作業 entries and the linked work-log hours. The witness
//! record that unlocks 完了, however, is the confirmation of the other party, so it must be entered from a
//! prefecture account — the same separation of duties as a support request, which the prefecture confirms.
//! Either side may then close ([`IncidentAction::permissions`]); anyone who may report may reopen.
//!
//! # Times and figures
//!
//! 発生 (occurred) ≤ 認知 (noticed) ≤ 初動 (first response) ≤ 復旧 (recovered) ≤ 完了 (closed); 回避
//! (workaround) lies between 初動 and 復旧 when present; none lies in the future ([`IncidentTimes::check`]).
//! As Japanese operations reports commonly do, **MTTA** is 認知→初動 (how long until someone acted) and
//! **MTTR** is 発生→復旧 (how long the service was out). Incidents count in the month (JST) and fiscal year
//! of their 発生; MTTR averages only recovered incidents, MTTA only acknowledged ones ([`figures`]).
//!
//! Times typed into forms are JST wall-clock times as `<input type="datetime-local">` sends them
//! (`2026-05-12T09:30`); [`parse_datetime`] also accepts `2026-05-12 09:30` and 和暦 dates
//! (`令和8年5月12日 9:30`). No function here reads the clock: `now` is passed in.

use crate::error::{DomainError, FieldError};
use crate::role::{Action, Role};
use crate::text::{self, Line, Text};
use crate::time::{jst, to_jst};
use crate::wareki::{FiscalYear, WarekiError};
use chrono::{DateTime, Datelike, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Refusal of 完了 while no witness has been recorded.
pub const WITNESS_REQUIRED_MESSAGE: &str =
    "復旧の立会い（立会者の氏名・所属・日時・所見）が記録されていないため完了できません。";

/// Refusal of a witness record outside 復旧確認.
pub const WITNESS_STAGE_MESSAGE: &str =
    "立会いは「復旧確認」の段階（復旧報告の後、完了の前）でのみ記録できます。";

coded_enum!(
    /// How bad it is.
    Severity {
        /// 重大: the network or many sites are down, or residents' services stop.
        Critical = "critical", "重大", "Critical";
        /// 高: a site or the representative terminal cannot work.
        High = "high", "高", "High";
        /// 中: degraded, a workaround exists.
        Medium = "medium", "中", "Medium";
        /// 低: minor.
        Low = "low", "低", "Low";
    }
);

coded_enum!(
    /// How the incident came to our knowledge.
    DetectionSource {
        /// 電話連絡.
        Phone = "phone", "電話連絡", "Phone call";
        /// 支援要請.
        Request = "request", "支援要請", "Support request";
        /// 疎通監視 (automatic, from the connectivity checks).
        Monitoring = "monitoring", "疎通監視", "Connectivity monitoring";
        /// 巡回・点検.
        Inspection = "inspection", "巡回・点検", "Inspection";
        /// その他.
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// Where an incident stands.
    IncidentStage {
        /// 受付: reported, nobody has acted yet.
        Reported = "reported", "受付", "Reported";
        /// 原因調査: cause investigation.
        Investigating = "investigating", "原因調査", "Investigating";
        /// 回避策: a workaround is in place and the people concerned were instructed (指導).
        Workaround = "workaround", "回避策", "Workaround";
        /// 復旧作業: recovery work.
        Recovering = "recovering", "復旧作業", "Recovering";
        /// 復旧確認: recovered, awaiting the witness.
        Recovered = "recovered", "復旧確認", "Recovered (awaiting witness)";
        /// 完了: closed after a witnessed recovery.
        Closed = "closed", "完了", "Closed";
    }
);

impl IncidentStage {
    /// Whether the incident is still open.
    pub fn is_open(self) -> bool {
        self != IncidentStage::Closed
    }
}

coded_enum!(
    /// What someone does to an incident.
    IncidentAction {
        /// 受付 → 原因調査. Sets 初動 (first response) the first time.
        Investigate = "investigate", "原因調査開始", "Start investigation";
        /// 原因調査 → 回避策. Needs the workaround and the guidance (to whom, what). Sets 回避.
        Workaround = "workaround", "回避策実施", "Workaround in place";
        /// 原因調査 or 回避策 → 復旧作業.
        StartRecovery = "start_recovery", "復旧作業開始", "Start recovery";
        /// 復旧作業 → 復旧確認. Needs what was done. Sets 復旧.
        Recover = "recover", "復旧報告", "Report recovery";
        /// 復旧確認 → 復旧作業 (the check showed it is not recovered). Needs a reason.
        ResumeRecovery = "resume_recovery", "復旧作業に戻す", "Back to recovery";
        /// 復旧確認 → 完了. Only after a witness record. Sets 完了.
        Close = "close", "完了", "Close";
        /// 完了 → 原因調査. Needs a reason; audited.
        Reopen = "reopen", "再開", "Reopen";
    }
);

impl IncidentAction {
    /// The permissions of which any one allows the action ([`Role::allows`]).
    pub fn permissions(self) -> &'static [Action] {
        match self {
            IncidentAction::Close => &[Action::WorkIncident, Action::WitnessRecovery],
            IncidentAction::Reopen => &[Action::ReportIncident],
            _ => &[Action::WorkIncident],
        }
    }

    /// The timeline entry a transition writes.
    pub fn entry_kind(self) -> EntryKind {
        match self {
            IncidentAction::Workaround => EntryKind::Workaround,
            IncidentAction::Recover => EntryKind::Recovery,
            IncidentAction::Reopen => EntryKind::Reopen,
            _ => EntryKind::Stage,
        }
    }
}

/// Whether `role` may perform `action` on an incident at all.
pub fn incident_action_allowed(role: Role, action: IncidentAction) -> bool {
    action.permissions().iter().any(|p| role.allows(*p))
}

/// The stage after `action`, or why it is not allowed now. `witnessed` says whether a witness record exists
/// for the current recovery; 完了 without one is refused with [`WITNESS_REQUIRED_MESSAGE`].
pub fn next_stage(
    from: IncidentStage,
    action: IncidentAction,
    witnessed: bool,
) -> Result<IncidentStage, DomainError> {
    use IncidentAction as A;
    use IncidentStage as S;
    let to = match (from, action) {
        (S::Reported, A::Investigate) => S::Investigating,
        (S::Investigating, A::Workaround) => S::Workaround,
        (S::Investigating | S::Workaround, A::StartRecovery) => S::Recovering,
        (S::Recovering, A::Recover) => S::Recovered,
        (S::Recovered, A::ResumeRecovery) => S::Recovering,
        (S::Recovered, A::Close) if witnessed => S::Closed,
        (S::Recovered, A::Close) => {
            return Err(DomainError::Conflict(WITNESS_REQUIRED_MESSAGE.into()));
        }
        (S::Closed, A::Reopen) => S::Investigating,
        _ => {
            return Err(DomainError::Conflict(format!(
                "「{}」の障害に「{}」はできません。",
                from.label_ja(),
                action.label_ja()
            )));
        }
    };
    Ok(to)
}

/// The actions a page offers `role` at `from`. 完了 is offered at 復旧確認 even before the witness is
/// recorded: trying it explains what is missing.
pub fn available_actions(from: IncidentStage, role: Role) -> Vec<IncidentAction> {
    IncidentAction::ALL
        .iter()
        .copied()
        .filter(|a| incident_action_allowed(role, *a) && next_stage(from, *a, true).is_ok())
        .collect()
}

coded_enum!(
    /// The kind of a timeline entry.
    EntryKind {
        /// 受付: the report itself (written by the system).
        Report = "report", "受付", "Report";
        /// 段階変更: a stage change without its own kind (written by the system).
        Stage = "stage", "段階変更", "Stage change";
        /// 調査所見: what the investigation found.
        Finding = "finding", "調査所見", "Finding";
        /// 仮説: a hypothesis being checked.
        Hypothesis = "hypothesis", "仮説", "Hypothesis";
        /// 原因: the cause, once determined.
        Cause = "cause", "原因", "Cause";
        /// 再発防止策: what was changed so that it does not happen again (the council pack quotes it).
        Prevention = "prevention", "再発防止策", "Prevention of recurrence";
        /// 回避策: the workaround and the guidance given (指導: to whom, what).
        Workaround = "workaround", "回避策・指導", "Workaround and guidance";
        /// 復旧作業: recovery work, linked to work-log entries.
        Recovery = "recovery", "復旧作業", "Recovery work";
        /// 立会い: the witness of the recovery.
        Witness = "witness", "立会い", "Witness";
        /// 再開: reopened, with the reason.
        Reopen = "reopen", "再開", "Reopened";
        /// 既知の障害: linked to or resolved by a known error (written by the system).
        KnownError = "known_error", "既知の障害", "Known error";
        /// コメント.
        Comment = "comment", "コメント", "Comment";
    }
);

impl EntryKind {
    /// Kinds a person adds directly with [`EntryInput`] (the others come from transitions, the witness
    /// form or the system).
    pub const USER_KINDS: [EntryKind; 7] = [
        EntryKind::Finding,
        EntryKind::Hypothesis,
        EntryKind::Cause,
        EntryKind::Prevention,
        EntryKind::Workaround,
        EntryKind::Recovery,
        EntryKind::Comment,
    ];

    /// The permission needed to add an entry of this kind.
    pub fn permission(self) -> Action {
        match self {
            EntryKind::Finding
            | EntryKind::Hypothesis
            | EntryKind::Cause
            | EntryKind::Prevention
            | EntryKind::Workaround
            | EntryKind::Recovery
            | EntryKind::KnownError => Action::WorkIncident,
            EntryKind::Witness => Action::WitnessRecovery,
            EntryKind::Report | EntryKind::Stage | EntryKind::Reopen | EntryKind::Comment => {
                Action::ReportIncident
            }
        }
    }

    /// Whether work-log entries may be linked to an entry of this kind (SE work: investigation,
    /// workaround, recovery).
    pub fn takes_work(self) -> bool {
        matches!(
            self,
            EntryKind::Finding
                | EntryKind::Hypothesis
                | EntryKind::Cause
                | EntryKind::Workaround
                | EntryKind::Recovery
        )
    }
}

/// Whether a person may add an entry of `kind` while the incident is at `stage`.
pub fn check_entry_stage(kind: EntryKind, stage: IncidentStage) -> Result<(), DomainError> {
    use EntryKind as K;
    use IncidentStage as S;
    let refuse = |m: &str| Err(DomainError::Conflict(m.to_string()));
    match kind {
        K::Comment => Ok(()),
        _ if stage == S::Closed => {
            refuse("完了した障害には記録できません（コメントを除く）。必要なら再開してください。")
        }
        K::Finding | K::Hypothesis | K::Cause | K::Prevention if stage == S::Reported => {
            refuse("原因調査を開始してから記録してください。")
        }
        K::Finding | K::Hypothesis | K::Cause | K::Prevention => Ok(()),
        K::Workaround if stage == S::Workaround => Ok(()),
        K::Workaround => refuse("回避策・指導は「回避策」の段階で記録してください。"),
        K::Recovery if matches!(stage, S::Recovering | S::Recovered) => Ok(()),
        K::Recovery => refuse("復旧作業は「復旧作業開始」の後に記録してください。"),
        K::Witness if stage == S::Recovered => Ok(()),
        K::Witness => refuse(WITNESS_STAGE_MESSAGE),
        K::Report | K::Stage | K::Reopen | K::KnownError => {
            refuse("この種類の記録は直接追加できません。")
        }
    }
}

// ------------------------------------------------------------------------------------------------ times

/// A JST wall-clock time as typed (`2026-05-12T09:30` from `<input type="datetime-local">`, also
/// `2026-05-12 09:30`, `2026/5/12 9:30`, `令和8年5月12日 9:30`, `R8.5.12 09:30`, seconds optional), as a UTC
/// instant.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let t: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '：' => ':',
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    if t.is_empty() {
        return None;
    }
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&t, f).ok())
        .or_else(|| {
            let (date, time) = t.rsplit_once(' ')?;
            let date = crate::wareki::parse_wareki(date.trim()).ok()?;
            let time = time.trim();
            let time = NaiveTime::parse_from_str(time, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
                .ok()?;
            Some(date.and_time(time))
        })?;
    naive
        .and_local_timezone(jst())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Why a date-time does not parse, when its date part says more than the format (「2026年2月30日は存在し
/// ない日付です。」, 「13月という月はありません…」, a day outside its era); `None` otherwise.
pub fn datetime_date_problem(text: &str) -> Option<String> {
    let t = text.trim();
    let date = t
        .split_once('T')
        .or_else(|| t.rsplit_once(' '))
        .map_or(t, |(date, _)| date)
        .trim();
    match crate::wareki::parse_wareki(date) {
        Ok(_) | Err(WarekiError::Empty | WarekiError::InvalidFormat) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// The form value for `<input type="datetime-local">`: JST, `2026-05-12T09:30`.
pub fn datetime_local(at: DateTime<Utc>) -> String {
    to_jst(at).format("%Y-%m-%dT%H:%M").to_string()
}

/// Minutes as reports print them: `45分`, `2時間05分`, `26時間10分`.
pub fn duration_label(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.abs();
    if m < 60 {
        format!("{sign}{m}分")
    } else {
        format!("{sign}{}時間{:02}分", m / 60, m % 60)
    }
}

/// The (year, month) of an instant in JST.
pub fn jst_month(at: DateTime<Utc>) -> (i32, u32) {
    let d = to_jst(at).date();
    (d.year(), d.month())
}

/// The fiscal year of an instant in JST.
pub fn jst_fiscal_year(at: DateTime<Utc>) -> FiscalYear {
    FiscalYear::containing(to_jst(at).date())
}

/// The times that matter for one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IncidentTimes {
    /// 発生.
    pub occurred_at: DateTime<Utc>,
    /// 認知.
    pub noticed_at: DateTime<Utc>,
    /// 初動.
    pub first_response_at: Option<DateTime<Utc>>,
    /// 回避.
    pub workaround_at: Option<DateTime<Utc>>,
    /// 復旧.
    pub recovered_at: Option<DateTime<Utc>>,
    /// 完了.
    pub closed_at: Option<DateTime<Utc>>,
}

fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_minutes()
}

impl IncidentTimes {
    /// Times with only 発生 and 認知.
    pub fn new(occurred_at: DateTime<Utc>, noticed_at: DateTime<Utc>) -> Self {
        IncidentTimes {
            occurred_at,
            noticed_at,
            first_response_at: None,
            workaround_at: None,
            recovered_at: None,
            closed_at: None,
        }
    }

    /// MTTA of this incident: minutes from 認知 to 初動.
    pub fn mtta_minutes(&self) -> Option<i64> {
        self.first_response_at
            .map(|t| minutes_between(self.noticed_at, t))
    }

    /// MTTR of this incident: minutes from 発生 to 復旧.
    pub fn mttr_minutes(&self) -> Option<i64> {
        self.recovered_at
            .map(|t| minutes_between(self.occurred_at, t))
    }

    /// Checks the order (発生 ≤ 認知 ≤ 初動 ≤ 復旧 ≤ 完了, 回避 between 初動 and 復旧) and that none lies
    /// after `now`. All problems at once, each on its field.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let chain: [(&str, &str, Option<DateTime<Utc>>); 5] = [
            ("occurred_at", "発生日時", Some(self.occurred_at)),
            ("noticed_at", "認知日時", Some(self.noticed_at)),
            ("first_response_at", "初動日時", self.first_response_at),
            ("recovered_at", "復旧日時", self.recovered_at),
            ("closed_at", "完了日時", self.closed_at),
        ];
        let mut errors = Vec::new();
        let mut latest: Option<(&str, DateTime<Utc>)> = None;
        for (field, label, at) in chain {
            let Some(at) = at else { continue };
            if at > now {
                errors.push(FieldError::new(
                    field,
                    format!("{label}が未来の日時になっています。"),
                ));
            }
            if let Some((prev, prev_at)) = latest
                && at < prev_at
            {
                errors.push(FieldError::new(
                    field,
                    format!("{label}は{prev}以降の日時にしてください。"),
                ));
            }
            if latest.is_none_or(|(_, p)| at >= p) {
                latest = Some((label, at));
            }
        }
        if let Some(w) = self.workaround_at {
            if w > now {
                errors.push(FieldError::new(
                    "workaround_at",
                    "回避日時が未来の日時になっています。",
                ));
            }
            let floor = self
                .first_response_at
                .map_or(("認知日時", self.noticed_at), |t| ("初動日時", t));
            if w < floor.1 {
                errors.push(FieldError::new(
                    "workaround_at",
                    format!("回避日時は{}以降の日時にしてください。", floor.0),
                ));
            }
            if let Some(r) = self.recovered_at
                && w > r
            {
                errors.push(FieldError::new(
                    "workaround_at",
                    "回避日時は復旧日時以前の日時にしてください。",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

// ------------------------------------------------------------------------------------------------ figures

/// What the figures need of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: i64,
    pub severity: Severity,
    /// Affected sites (empty: none named).
    pub site_ids: Vec<i64>,
    pub times: IncidentTimes,
    /// Not yet 完了.
    pub open: bool,
}

/// Counts and mean times of a group of incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Incidents in the group.
    pub count: i64,
    /// Of them, not yet closed.
    pub open: i64,
    /// Of them, recovered (復旧 recorded), closed or not: the MTTR sample.
    pub recovered: i64,
    /// Of them, 完了 (closed after the witness). With `awaiting_close` and `unrecovered` it partitions
    /// `count`: see [`Figures::by_progress`].
    pub closed: i64,
    /// Of them, recovered but not yet closed (復旧済・確認待ち).
    pub awaiting_close: i64,
    /// Of them, not yet recovered (対応中).
    pub unrecovered: i64,
    /// Incidents with 初動 (the MTTA sample).
    pub acknowledged: i64,
    /// Mean 認知→初動 in minutes (rounded), over the acknowledged.
    pub mtta_minutes: Option<i64>,
    /// Mean 発生→復旧 in minutes (rounded), over the recovered.
    pub mttr_minutes: Option<i64>,
    /// Sum of 発生→復旧 minutes (the outage total).
    pub total_outage_minutes: i64,
    /// Longest 発生→復旧 in minutes.
    pub max_mttr_minutes: Option<i64>,
}

fn mean(sum: i64, n: i64) -> Option<i64> {
    if n == 0 {
        None
    } else {
        // Round half up; sums are non-negative for checked times.
        Some((2 * sum + n) / (2 * n))
    }
}

/// Labels of [`Figures::by_progress`], in its order.
pub const PROGRESS_LABELS: [&str; 3] = ["完了", "復旧済（確認待ち）", "対応中"];

impl Figures {
    /// Where the group's incidents stand, in three parts that add up to `count` (every incident is in
    /// exactly one): 完了, 復旧済（確認待ち）, 対応中 — the labels of [`PROGRESS_LABELS`]. Documents quote
    /// these, never `open` beside `recovered` (which overlap).
    pub fn by_progress(&self) -> [(&'static str, i64); 3] {
        [
            (PROGRESS_LABELS[0], self.closed),
            (PROGRESS_LABELS[1], self.awaiting_close),
            (PROGRESS_LABELS[2], self.unrecovered),
        ]
    }
}

/// Counts, MTTA and MTTR of a group of incidents.
pub fn figures<'a>(items: impl IntoIterator<Item = &'a IncidentFacts>) -> Figures {
    let mut f = Figures::default();
    let mut mtta_sum = 0;
    for i in items {
        f.count += 1;
        if i.open {
            f.open += 1;
        }
        match (i.open, i.times.recovered_at.is_some()) {
            (false, _) => f.closed += 1,
            (true, true) => f.awaiting_close += 1,
            (true, false) => f.unrecovered += 1,
        }
        if let Some(m) = i.times.mtta_minutes() {
            f.acknowledged += 1;
            mtta_sum += m;
        }
        if let Some(m) = i.times.mttr_minutes() {
            f.recovered += 1;
            f.total_outage_minutes += m;
            f.max_mttr_minutes = Some(f.max_mttr_minutes.map_or(m, |x| x.max(m)));
        }
    }
    f.mtta_minutes = mean(mtta_sum, f.acknowledged);
    f.mttr_minutes = mean(f.total_outage_minutes, f.recovered);
    f
}

/// Figures of one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    pub year: i32,
    pub month: u32,
    pub figures: Figures,
}

/// Figures of one site (`None`: incidents that name no site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SiteFigures {
    pub site_id: Option<i64>,
    pub figures: Figures,
}

/// The incidents of `fy` (by JST month of 発生).
pub fn in_fiscal_year(items: &[IncidentFacts], fy: FiscalYear) -> Vec<&IncidentFacts> {
    items
        .iter()
        .filter(|i| jst_fiscal_year(i.times.occurred_at) == fy)
        .collect()
}

/// Figures of the whole fiscal year.
pub fn figures_for_fiscal_year(items: &[IncidentFacts], fy: FiscalYear) -> Figures {
    figures(in_fiscal_year(items, fy))
}

/// Figures per month of the fiscal year, April to March (all twelve, empty months included).
pub fn figures_by_month(items: &[IncidentFacts], fy: FiscalYear) -> Vec<MonthFigures> {
    let mine = in_fiscal_year(items, fy);
    fy.months()
        .map(|(year, month)| MonthFigures {
            year,
            month,
            figures: figures(
                mine.iter()
                    .copied()
                    .filter(|i| jst_month(i.times.occurred_at) == (year, month)),
            ),
        })
        .collect()
}

/// Figures per affected site in the fiscal year, by site id, incidents naming no site last (`None`). An
/// incident affecting several sites counts for each of them.
pub fn figures_by_site(items: &[IncidentFacts], fy: FiscalYear) -> Vec<SiteFigures> {
    let mut groups: BTreeMap<(bool, i64), Vec<&IncidentFacts>> = BTreeMap::new();
    for i in in_fiscal_year(items, fy) {
        if i.site_ids.is_empty() {
            groups.entry((true, 0)).or_default().push(i);
        }
        let mut sites = i.site_ids.clone();
        sites.sort_unstable();
        sites.dedup();
        for s in sites {
            groups.entry((false, s)).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|((none, id), list)| SiteFigures {
            site_id: (!none).then_some(id),
            figures: figures(list),
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------ inputs

/// A typed time: empty gives `default`; otherwise it must parse and not lie after `now`.
fn typed_time(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    value: &str,
    default: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if value.trim().is_empty() {
        return default;
    }
    match parse_datetime(value) {
        Some(at) if at > now => {
            errors.push(FieldError::new(
                field,
                format!("{label}が未来の日時になっています。"),
            ));
            at
        }
        Some(at) => at,
        None => {
            errors.push(FieldError::new(
                field,
                match datetime_date_problem(value) {
                    Some(reason) => format!("{label}: {reason}"),
                    None => format!(
                        "{label}を「2026-05-12T09:30」の形式で入力してください（日本時間）。"
                    ),
                },
            ));
            default
        }
    }
}

fn ids(v: &[i64]) -> Vec<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

fn finish<T>(errors: Vec<FieldError>, value: T) -> Result<T, DomainError> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// What an automatic incident's probable-cause key names: `node:12:unreachable` is the network node 12
/// cut off, `terminal:7:unreachable` the terminal 7 (the keys the connectivity engine writes). Any other
/// key is `None`: shown as it was typed.
pub fn unreachable_target(key: &str) -> Option<(crate::connectivity::TargetKind, i64)> {
    let mut parts = key.trim().split(':');
    let kind = crate::connectivity::TargetKind::parse(parts.next()?)?;
    let id = parts.next()?.parse().ok()?;
    (parts.next() == Some("unreachable") && parts.next().is_none()).then_some((kind, id))
}

/// The probable-cause key (for de-duplicating automatic incidents): ASCII letters, digits and `-_.:/@`, at
/// most 200 characters, e.g. `node:12:unreachable`. Empty is `None`.
fn cause_key(errors: &mut Vec<FieldError>, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.len() > 200
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c))
    {
        errors.push(FieldError::new(
            "probable_cause",
            "推定原因キーは半角英数字と「-_.:/@」の200文字以内で入力してください（例: node:12:unreachable）。",
        ));
        return None;
    }
    let before = errors.len();
    text::guard(errors, "probable_cause", "推定原因キー", v);
    (errors.len() == before).then(|| v.to_string())
}

/// Raw input of a new incident, as a form or the API sends it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct IncidentInput {
    /// 件名.
    pub title: String,
    /// [`Severity`] code or Japanese label.
    pub severity: String,
    /// [`DetectionSource`] code or Japanese label.
    pub source: String,
    /// 発生日時, JST (`2026-05-12T09:30`); empty: the same as 認知.
    pub occurred_at: String,
    /// 認知日時, JST; empty: now.
    pub noticed_at: String,
    /// Affected sites.
    pub site_ids: Vec<i64>,
    /// Affected terminals.
    pub terminal_ids: Vec<i64>,
    /// Affected network nodes.
    pub node_ids: Vec<i64>,
    /// 状況 (what happened, who reported it).
    pub description: String,
    /// Probable-cause key; at most one open incident per key. Required for 疎通監視.
    pub probable_cause: String,
    /// A known error this looks like.
    pub known_error_id: Option<i64>,
}

/// A validated incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentDraft {
    pub title: Line<200>,
    pub severity: Severity,
    pub source: DetectionSource,
    pub occurred_at: DateTime<Utc>,
    pub noticed_at: DateTime<Utc>,
    pub site_ids: Vec<i64>,
    pub terminal_ids: Vec<i64>,
    pub node_ids: Vec<i64>,
    pub description: Text<4000>,
    pub probable_cause: Option<String>,
    pub known_error_id: Option<i64>,
}

impl IncidentInput {
    /// Validates into an incident; `now` is the present instant (times may not lie after it).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<IncidentDraft, DomainError> {
        let mut errors = Vec::new();
        let title = text::line(&mut errors, "title", "件名", &self.title, true);
        let description = text::text(&mut errors, "description", "状況", &self.description, true);
        let severity = Severity::parse(&self.severity);
        if severity.is_none() {
            errors.push(FieldError::new("severity", "重大度を選択してください。"));
        }
        let source = DetectionSource::parse(&self.source);
        if source.is_none() {
            errors.push(FieldError::new("source", "検知経路を選択してください。"));
        }
        let noticed_at = typed_time(
            &mut errors,
            "noticed_at",
            "認知日時",
            &self.noticed_at,
            now,
            now,
        );
        let occurred_at = typed_time(
            &mut errors,
            "occurred_at",
            "発生日時",
            &self.occurred_at,
            noticed_at,
            now,
        );
        if errors.is_empty() && occurred_at > noticed_at {
            errors.push(FieldError::new(
                "noticed_at",
                "認知日時は発生日時以降の日時にしてください。",
            ));
        }
        let probable_cause = cause_key(&mut errors, &self.probable_cause);
        if source == Some(DetectionSource::Monitoring) && self.probable_cause.trim().is_empty() {
            errors.push(FieldError::new(
                "probable_cause",
                "疎通監視による障害には推定原因キーが必要です（同じ原因の障害をまとめるため）。",
            ));
        }
        let (Some(severity), Some(source)) = (severity, source) else {
            return Err(DomainError::Validation(errors));
        };
        finish(
            errors,
            IncidentDraft {
                title,
                severity,
                source,
                occurred_at,
                noticed_at,
                site_ids: ids(&self.site_ids),
                terminal_ids: ids(&self.terminal_ids),
                node_ids: ids(&self.node_ids),
                description,
                probable_cause,
                known_error_id: self.known_error_id,
            },
        )
    }
}

/// What the connectivity engine reports when a check fails: the seam for automatic incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoIncidentInput {
    /// The key that identifies the probable cause (e.g. `node:12:unreachable`); one open incident per key.
    pub probable_cause: String,
    /// 件名 (e.g. 「佐賀土木事務所 疎通不可」).
    pub title: String,
    pub severity: Severity,
    /// When the failure was observed (発生 and 認知 of a new incident).
    pub observed_at: DateTime<Utc>,
    pub site_ids: Vec<i64>,
    pub terminal_ids: Vec<i64>,
    pub node_ids: Vec<i64>,
    /// What failed (the check, its result); the description of a new incident, the comment on an open one.
    pub detail: String,
}

impl AutoIncidentInput {
    /// Validates into an incident with source 疎通監視.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<IncidentDraft, DomainError> {
        let mut errors = Vec::new();
        let title: Line<200> = text::line(&mut errors, "title", "件名", &self.title, true);
        let detail: Text<4000> = text::text(&mut errors, "detail", "検知内容", &self.detail, false);
        let probable_cause = cause_key(&mut errors, &self.probable_cause);
        if probable_cause.is_none() && self.probable_cause.trim().is_empty() {
            errors.push(FieldError::new(
                "probable_cause",
                "疎通監視による障害には推定原因キーが必要です（同じ原因の障害をまとめるため）。",
            ));
        }
        if self.observed_at > now {
            errors.push(FieldError::new(
                "observed_at",
                "検知日時が未来の日時になっています。",
            ));
        }
        let description = if detail.is_empty() {
            // A line is valid text; the title has been checked above.
            Text::new("title", "件名", &title).unwrap_or_default()
        } else {
            detail
        };
        finish(
            errors,
            IncidentDraft {
                title,
                severity: self.severity,
                source: DetectionSource::Monitoring,
                occurred_at: self.observed_at,
                noticed_at: self.observed_at,
                site_ids: ids(&self.site_ids),
                terminal_ids: ids(&self.terminal_ids),
                node_ids: ids(&self.node_ids),
                description,
                probable_cause,
                known_error_id: None,
            },
        )
    }
}

/// Raw input of a stage change.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct IncidentTransitionInput {
    /// [`IncidentAction`] code.
    pub action: String,
    /// When it happened, JST (`2026-05-12T09:30`); empty: now. Becomes 初動 / 回避 / 復旧 / 完了.
    pub at: String,
    /// The timeline text: the workaround (回避策実施), what was done (復旧報告), the reason (復旧作業に戻す,
    /// 再開); optional otherwise.
    pub comment: String,
    /// 指導先: to whom guidance was given (回避策実施).
    pub guidance_to: String,
    /// 指導内容: what they were told (回避策実施).
    pub guidance: String,
    /// Work-log entries of this work (回避策実施, 復旧報告).
    pub work_entry_ids: Vec<i64>,
}

/// A validated stage change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentTransition {
    pub action: IncidentAction,
    pub at: DateTime<Utc>,
    pub comment: Text<4000>,
    pub guidance_to: Line<200>,
    pub guidance: Text<4000>,
    pub work_entry_ids: Vec<i64>,
}

/// Validates a stage change's input: what each action needs, and the time.
pub fn check_incident_transition(
    input: &IncidentTransitionInput,
    now: DateTime<Utc>,
) -> Result<IncidentTransition, DomainError> {
    use IncidentAction as A;
    let Some(action) = IncidentAction::parse(&input.action) else {
        return Err(DomainError::invalid("action", "操作が正しくありません。"));
    };
    let mut errors = Vec::new();
    let (comment_label, comment_required) = match action {
        A::Workaround => ("回避策の内容", true),
        A::Recover => ("復旧の内容", true),
        A::ResumeRecovery => ("復旧作業に戻す理由", true),
        A::Reopen => ("再開の理由", true),
        _ => ("コメント", false),
    };
    let comment = text::text(
        &mut errors,
        "comment",
        comment_label,
        &input.comment,
        comment_required,
    );
    let is_workaround = action == A::Workaround;
    let guidance_to = text::line(
        &mut errors,
        "guidance_to",
        "指導先（誰に指導したか）",
        &input.guidance_to,
        is_workaround,
    );
    let guidance = text::text(
        &mut errors,
        "guidance",
        "指導内容",
        &input.guidance,
        is_workaround,
    );
    let guided = !input.guidance_to.trim().is_empty() || !input.guidance.trim().is_empty();
    if !is_workaround && guided {
        errors.push(FieldError::new(
            "guidance",
            "指導は「回避策実施」で記録してください。",
        ));
    }
    let work_entry_ids = ids(&input.work_entry_ids);
    if !work_entry_ids.is_empty() && !matches!(action, A::Workaround | A::Recover) {
        errors.push(FieldError::new(
            "work_entry_ids",
            "作業記録は「回避策実施」「復旧報告」または調査・復旧作業の記録に紐付けてください。",
        ));
    }
    let at = typed_time(&mut errors, "at", "日時", &input.at, now, now);
    finish(
        errors,
        IncidentTransition {
            action,
            at,
            comment,
            guidance_to,
            guidance,
            work_entry_ids,
        },
    )
}

/// Raw input of a timeline entry a person adds.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EntryInput {
    /// [`EntryKind`] code: one of [`EntryKind::USER_KINDS`].
    pub kind: String,
    /// When, JST; empty: now.
    pub at: String,
    /// The text.
    pub text: String,
    /// 指導先 (回避策・指導 only).
    pub guidance_to: String,
    /// 指導内容 (回避策・指導 only).
    pub guidance: String,
    /// Work-log entries of this work (investigation, workaround, recovery kinds).
    pub work_entry_ids: Vec<i64>,
}

/// A validated timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryDraft {
    pub kind: EntryKind,
    pub at: DateTime<Utc>,
    pub text: Text<4000>,
    pub guidance_to: Line<200>,
    pub guidance: Text<4000>,
    pub work_entry_ids: Vec<i64>,
}

impl EntryInput {
    /// Validates the entry (the stage rule is [`check_entry_stage`]).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<EntryDraft, DomainError> {
        let kind = EntryKind::parse(&self.kind).filter(|k| EntryKind::USER_KINDS.contains(k));
        let Some(kind) = kind else {
            return Err(DomainError::invalid(
                "kind",
                "記録の種類を選択してください。",
            ));
        };
        let mut errors = Vec::new();
        let text = text::text(&mut errors, "text", "内容", &self.text, true);
        let guidance_to = text::line(
            &mut errors,
            "guidance_to",
            "指導先",
            &self.guidance_to,
            false,
        );
        let guidance = text::text(&mut errors, "guidance", "指導内容", &self.guidance, false);
        let (to_given, guidance_given) = (
            !self.guidance_to.trim().is_empty(),
            !self.guidance.trim().is_empty(),
        );
        if kind == EntryKind::Workaround {
            if to_given != guidance_given {
                errors.push(FieldError::new(
                    "guidance",
                    "指導を記録する場合は指導先と指導内容の両方を入力してください。",
                ));
            }
        } else if to_given || guidance_given {
            errors.push(FieldError::new(
                "guidance",
                "指導は「回避策・指導」の記録で入力してください。",
            ));
        }
        let work_entry_ids = ids(&self.work_entry_ids);
        if !work_entry_ids.is_empty() && !kind.takes_work() {
            errors.push(FieldError::new(
                "work_entry_ids",
                format!("「{}」には作業記録を紐付けできません。", kind.label_ja()),
            ));
        }
        let at = typed_time(&mut errors, "at", "日時", &self.at, now, now);
        finish(
            errors,
            EntryDraft {
                kind,
                at,
                text,
                guidance_to,
                guidance,
                work_entry_ids,
            },
        )
    }
}

/// Checks that an entry's time is not before the incident was noticed.
pub fn check_entry_time(at: DateTime<Utc>, times: &IncidentTimes) -> Result<(), DomainError> {
    if at < times.noticed_at {
        Err(DomainError::invalid(
            "at",
            "記録の日時は認知日時以降にしてください。",
        ))
    } else {
        Ok(())
    }
}

/// Raw input of the witness record (立会い).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WitnessInput {
    /// 立会者の氏名.
    pub witness_name: String,
    /// 立会者の所属.
    pub witness_org: String,
    /// 立会日時, JST.
    pub witnessed_at: String,
    /// 所見.
    pub remark: String,
}

/// A validated witness record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessDraft {
    pub witness_name: Line<100>,
    pub witness_org: Line<200>,
    pub witnessed_at: DateTime<Utc>,
    pub remark: Text<4000>,
}

impl WitnessInput {
    /// Validates: name, organisation, time and remark are all required; the time may not lie after `now`.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<WitnessDraft, DomainError> {
        let mut errors = Vec::new();
        let witness_name = text::line(
            &mut errors,
            "witness_name",
            "立会者の氏名",
            &self.witness_name,
            true,
        );
        let witness_org = text::line(
            &mut errors,
            "witness_org",
            "立会者の所属",
            &self.witness_org,
            true,
        );
        let remark = text::text(&mut errors, "remark", "所見", &self.remark, true);
        let witnessed_at = if self.witnessed_at.trim().is_empty() {
            errors.push(FieldError::new(
                "witnessed_at",
                "立会日時を入力してください。",
            ));
            now
        } else {
            typed_time(
                &mut errors,
                "witnessed_at",
                "立会日時",
                &self.witnessed_at,
                now,
                now,
            )
        };
        finish(
            errors,
            WitnessDraft {
                witness_name,
                witness_org,
                witnessed_at,
                remark,
            },
        )
    }
}

impl WitnessDraft {
    /// The witness confirms a recovery: the time may not lie before 復旧.
    pub fn check_against(&self, times: &IncidentTimes) -> Result<(), DomainError> {
        match times.recovered_at {
            Some(r) if self.witnessed_at < r => Err(DomainError::invalid(
                "witnessed_at",
                "立会日時は復旧日時以降にしてください。",
            )),
            _ => Ok(()),
        }
    }
}

/// Raw input of a known error (既知の障害).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct KnownErrorInput {
    /// 件名.
    pub title: String,
    /// 症状 (what people see; what to search for).
    pub symptoms: String,
    /// 原因.
    pub cause: String,
    /// 回避策・対処.
    pub workaround: String,
    /// Incidents it explains.
    pub incident_ids: Vec<i64>,
}

/// A validated known error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownErrorDraft {
    pub title: Line<200>,
    pub symptoms: Text<4000>,
    pub cause: Text<4000>,
    pub workaround: Text<4000>,
    pub incident_ids: Vec<i64>,
}

impl KnownErrorInput {
    /// Validates: title and symptoms required, and at least one of cause and workaround.
    pub fn validate(&self) -> Result<KnownErrorDraft, DomainError> {
        let mut errors = Vec::new();
        let title = text::line(&mut errors, "title", "件名", &self.title, true);
        let symptoms = text::text(&mut errors, "symptoms", "症状", &self.symptoms, true);
        let cause = text::text(&mut errors, "cause", "原因", &self.cause, false);
        let workaround = text::text(
            &mut errors,
            "workaround",
            "回避策・対処",
            &self.workaround,
            false,
        );
        if self.cause.trim().is_empty() && self.workaround.trim().is_empty() {
            errors.push(FieldError::new(
                "cause",
                "原因と回避策・対処の少なくとも一方を入力してください。",
            ));
        }
        finish(
            errors,
            KnownErrorDraft {
                title,
                symptoms,
                cause,
                workaround,
                incident_ids: ids(&self.incident_ids),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A JST wall-clock time as a UTC instant.
    fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        jst()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        t(2026, 6, 30, 12, 0)
    }

    fn messages(e: &DomainError) -> String {
        match e {
            DomainError::Validation(f) => f
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" / "),
            other => other.to_string(),
        }
    }

    /// Finding 12 of issue 13: a time whose date does not exist says so, naming the field.
    #[test]
    fn a_nonexistent_date_in_a_time_is_told() {
        let input = IncidentInput {
            title: "疎通不可".into(),
            severity: "high".into(),
            source: "phone".into(),
            noticed_at: "2026-02-30T09:00".into(),
            occurred_at: "平成31年5月1日 09:00".into(),
            description: "状況".into(),
            ..Default::default()
        };
        let e = messages(&input.validate(now()).unwrap_err());
        assert!(
            e.contains("noticed_at: 認知日時: 2026年2月30日は存在しない日付です。"),
            "{e}"
        );
        assert!(
            e.contains("occurred_at: 発生日時: 平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで。"),
            "{e}"
        );
        assert_eq!(datetime_date_problem("2026-05-12T09:30"), None);
        assert_eq!(datetime_date_problem("あした"), None);
    }

    #[test]
    fn every_legal_and_illegal_move() {
        use IncidentAction as A;
        use IncidentStage as S;
        let legal = [
            (S::Reported, A::Investigate, S::Investigating),
            (S::Investigating, A::Workaround, S::Workaround),
            (S::Investigating, A::StartRecovery, S::Recovering),
            (S::Workaround, A::StartRecovery, S::Recovering),
            (S::Recovering, A::Recover, S::Recovered),
            (S::Recovered, A::ResumeRecovery, S::Recovering),
            (S::Recovered, A::Close, S::Closed),
            (S::Closed, A::Reopen, S::Investigating),
        ];
        for from in IncidentStage::ALL {
            for action in IncidentAction::ALL {
                let want = legal
                    .iter()
                    .find(|(f, a, _)| f == from && a == action)
                    .map(|(_, _, to)| *to);
                match (next_stage(*from, *action, true), want) {
                    (Ok(to), Some(w)) => assert_eq!(to, w, "{from:?} {action:?}"),
                    (Err(e), None) => {
                        assert!(
                            e.to_string().contains("できません"),
                            "{from:?} {action:?}: {e}"
                        );
                        assert!(
                            e.to_string().contains(from.label_ja())
                                && e.to_string().contains(action.label_ja()),
                            "{e}"
                        );
                    }
                    (got, want) => panic!("{from:?} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(legal.len(), 8);
    }

    #[test]
    fn closing_needs_a_witness() {
        let e = next_stage(IncidentStage::Recovered, IncidentAction::Close, false)
            .expect_err("no witness");
        assert_eq!(e, DomainError::Conflict(WITNESS_REQUIRED_MESSAGE.into()));
        assert_eq!(
            next_stage(IncidentStage::Recovered, IncidentAction::Close, true),
            Ok(IncidentStage::Closed)
        );
        // Without a witness the other moves are unaffected.
        assert_eq!(
            next_stage(IncidentStage::Reported, IncidentAction::Investigate, false),
            Ok(IncidentStage::Investigating)
        );
    }

    #[test]
    fn the_full_path_and_the_short_one() {
        use IncidentAction as A;
        let mut s = IncidentStage::Reported;
        for a in [
            A::Investigate,
            A::Workaround,
            A::StartRecovery,
            A::Recover,
            A::Close,
        ] {
            s = next_stage(s, a, true).expect("legal");
        }
        assert_eq!(s, IncidentStage::Closed);
        let mut s = IncidentStage::Reported;
        for a in [A::Investigate, A::StartRecovery, A::Recover, A::Close] {
            s = next_stage(s, a, true).expect("workaround skipped");
        }
        assert_eq!(s, IncidentStage::Closed);
        assert!(!s.is_open());
        assert!(IncidentStage::Recovered.is_open());
    }

    #[test]
    fn who_may_do_what() {
        use IncidentAction as A;
        use IncidentStage as S;
        assert_eq!(
            available_actions(S::Reported, Role::Se),
            vec![A::Investigate]
        );
        assert!(available_actions(S::Reported, Role::Staff).is_empty());
        assert_eq!(
            available_actions(S::Investigating, Role::Se),
            vec![A::Workaround, A::StartRecovery]
        );
        assert_eq!(
            available_actions(S::Recovered, Role::Se),
            vec![A::ResumeRecovery, A::Close]
        );
        assert_eq!(available_actions(S::Recovered, Role::Staff), vec![A::Close]);
        assert_eq!(available_actions(S::Closed, Role::Staff), vec![A::Reopen]);
        assert_eq!(available_actions(S::Closed, Role::Se), vec![A::Reopen]);
        for s in IncidentStage::ALL {
            assert!(available_actions(*s, Role::Auditor).is_empty());
            assert_eq!(
                available_actions(*s, Role::Admin),
                IncidentAction::ALL
                    .iter()
                    .copied()
                    .filter(|a| next_stage(*s, *a, true).is_ok())
                    .collect::<Vec<_>>()
            );
        }
        assert!(!incident_action_allowed(Role::Staff, A::Investigate));
        assert!(!incident_action_allowed(Role::Staff, A::Recover));
        assert!(incident_action_allowed(Role::Staff, A::Close));
        assert!(!Role::Se.allows(Action::WitnessRecovery));
        assert!(Role::Staff.allows(Action::WitnessRecovery));
    }

    #[test]
    fn entries_by_stage() {
        use EntryKind as K;
        use IncidentStage as S;
        let ok = |k, s| check_entry_stage(k, s).is_ok();
        for s in IncidentStage::ALL {
            assert!(ok(K::Comment, *s), "comments always");
            for k in [K::Report, K::Stage, K::Reopen, K::KnownError] {
                assert!(!ok(k, *s), "{k:?} is written by the system");
            }
        }
        assert!(!ok(K::Finding, S::Reported));
        assert!(ok(K::Finding, S::Investigating));
        assert!(ok(K::Cause, S::Recovering));
        assert!(!ok(K::Cause, S::Closed));
        assert!(ok(K::Workaround, S::Workaround));
        assert!(!ok(K::Workaround, S::Investigating));
        assert!(!ok(K::Workaround, S::Recovering));
        assert!(ok(K::Recovery, S::Recovering));
        assert!(ok(K::Recovery, S::Recovered));
        assert!(!ok(K::Recovery, S::Investigating));
        assert!(ok(K::Witness, S::Recovered));
        let e = check_entry_stage(K::Witness, S::Recovering).expect_err("too early");
        assert_eq!(e.to_string(), WITNESS_STAGE_MESSAGE);
        assert_eq!(K::Witness.permission(), Action::WitnessRecovery);
        assert_eq!(K::Recovery.permission(), Action::WorkIncident);
        assert_eq!(K::Comment.permission(), Action::ReportIncident);
    }

    #[test]
    fn datetimes_as_typed() {
        let want = t(2026, 5, 12, 9, 30);
        for s in [
            "2026-05-12T09:30",
            "2026-05-12T09:30:00",
            "2026-05-12 09:30",
            "2026/5/12 9:30",
            "令和8年5月12日 9:30",
            "令和8年5月12日　９：３０",
            "R8.5.12 09:30",
            " 2026-05-12T09:30 ",
        ] {
            assert_eq!(parse_datetime(s), Some(want), "{s}");
        }
        for s in ["", "2026-05-12", "09:30", "2026-13-01T00:00", "明日の朝"] {
            assert_eq!(parse_datetime(s), None, "{s}");
        }
        assert_eq!(want.to_rfc3339(), "2026-05-12T00:30:00+00:00");
        assert_eq!(datetime_local(want), "2026-05-12T09:30");
        assert_eq!(
            unreachable_target("node:12:unreachable"),
            Some((crate::connectivity::TargetKind::Node, 12))
        );
        assert_eq!(
            unreachable_target("terminal:7:unreachable"),
            Some((crate::connectivity::TargetKind::Terminal, 7))
        );
        assert_eq!(unreachable_target("node:12:unreachable:x"), None);
        assert_eq!(unreachable_target("node:x:unreachable"), None);
        assert_eq!(unreachable_target("dns-outage"), None);
        assert_eq!(duration_label(45), "45分");
        assert_eq!(duration_label(125), "2時間05分");
        assert_eq!(duration_label(26 * 60 + 10), "26時間10分");
        // Month and fiscal year in JST: 2027-03-31 23:30 JST is still 令和8年度.
        let late = t(2027, 3, 31, 23, 30);
        assert_eq!(jst_month(late), (2027, 3));
        assert_eq!(jst_fiscal_year(late), FiscalYear(2026));
        assert_eq!(jst_fiscal_year(t(2027, 4, 1, 0, 0)), FiscalYear(2027));
    }

    fn times() -> IncidentTimes {
        IncidentTimes {
            occurred_at: t(2026, 5, 12, 9, 0),
            noticed_at: t(2026, 5, 12, 9, 10),
            first_response_at: Some(t(2026, 5, 12, 9, 25)),
            workaround_at: Some(t(2026, 5, 12, 10, 0)),
            recovered_at: Some(t(2026, 5, 12, 11, 30)),
            closed_at: Some(t(2026, 5, 12, 12, 0)),
        }
    }

    #[test]
    fn time_order_and_future() {
        assert_eq!(times().check(now()), Ok(()));
        assert_eq!(times().mtta_minutes(), Some(15));
        assert_eq!(times().mttr_minutes(), Some(150));
        let bad = |f: &dyn Fn(&mut IncidentTimes)| {
            let mut x = times();
            f(&mut x);
            messages(&x.check(now()).expect_err("refused"))
        };
        let m = bad(&|x| x.noticed_at = t(2026, 5, 12, 8, 0));
        assert!(m.contains("noticed_at: 認知日時は発生日時以降"), "{m}");
        let m = bad(&|x| x.first_response_at = Some(t(2026, 5, 12, 9, 5)));
        assert!(
            m.contains("first_response_at: 初動日時は認知日時以降"),
            "{m}"
        );
        let m = bad(&|x| x.recovered_at = Some(t(2026, 5, 12, 9, 20)));
        assert!(m.contains("recovered_at: 復旧日時は初動日時以降"), "{m}");
        assert!(m.contains("workaround_at: 回避日時は復旧日時以前"), "{m}");
        let m = bad(&|x| x.closed_at = Some(t(2026, 5, 12, 11, 0)));
        assert!(m.contains("closed_at: 完了日時は復旧日時以降"), "{m}");
        let m = bad(&|x| x.workaround_at = Some(t(2026, 5, 12, 9, 20)));
        assert!(m.contains("workaround_at: 回避日時は初動日時以降"), "{m}");
        let m = bad(&|x| x.closed_at = Some(t(2026, 7, 1, 0, 0)));
        assert!(m.contains("closed_at: 完了日時が未来"), "{m}");
        // Missing times are skipped: 初動 missing, 復旧 compared with 認知.
        let mut x = times();
        x.first_response_at = None;
        x.workaround_at = None;
        assert_eq!(x.check(now()), Ok(()));
        assert_eq!(x.mtta_minutes(), None);
        // Equal times are fine.
        let same = t(2026, 5, 12, 9, 0);
        let mut x = IncidentTimes::new(same, same);
        x.first_response_at = Some(same);
        x.recovered_at = Some(same);
        x.closed_at = Some(same);
        assert_eq!(x.check(now()), Ok(()));
    }

    fn facts(
        id: i64,
        sites: &[i64],
        occurred: DateTime<Utc>,
        mtta: i64,
        mttr: Option<i64>,
    ) -> IncidentFacts {
        let mut times = IncidentTimes::new(occurred, occurred + chrono::Duration::minutes(5));
        times.first_response_at = Some(times.noticed_at + chrono::Duration::minutes(mtta));
        times.recovered_at = mttr.map(|m| occurred + chrono::Duration::minutes(m));
        IncidentFacts {
            id,
            severity: Severity::High,
            site_ids: sites.to_vec(),
            times,
            open: mttr.is_none(),
        }
    }

    #[test]
    fn figures_per_month_year_and_site() {
        let items = vec![
            facts(1, &[1], t(2026, 4, 10, 9, 0), 10, Some(60)),
            facts(2, &[1, 2], t(2026, 4, 20, 9, 0), 20, Some(121)),
            facts(3, &[2], t(2026, 5, 1, 9, 0), 30, None),
            facts(4, &[], t(2027, 3, 31, 23, 0), 5, Some(30)),
            // Previous fiscal year: ignored.
            facts(5, &[1], t(2026, 3, 31, 23, 59), 1, Some(1)),
        ];
        let fy = FiscalYear(2026);
        let year = figures_for_fiscal_year(&items, fy);
        assert_eq!(year.count, 4);
        assert_eq!(year.open, 1);
        assert_eq!(year.recovered, 3);
        assert_eq!(year.acknowledged, 4);
        assert_eq!(year.mtta_minutes, Some(16)); // (10+20+30+5)/4 = 16.25
        assert_eq!(year.mttr_minutes, Some(70)); // (60+121+30)/3 = 70.33
        assert_eq!(year.total_outage_minutes, 211);
        assert_eq!(year.max_mttr_minutes, Some(121));

        let months = figures_by_month(&items, fy);
        assert_eq!(months.len(), 12);
        assert_eq!((months[0].year, months[0].month), (2026, 4));
        assert_eq!(months[0].figures.count, 2);
        assert_eq!(months[0].figures.mtta_minutes, Some(15));
        assert_eq!(months[0].figures.mttr_minutes, Some(91)); // 90.5 rounds up
        assert_eq!(months[1].figures.count, 1);
        assert_eq!(months[1].figures.mttr_minutes, None);
        assert_eq!(months[2].figures, Figures::default());
        assert_eq!((months[11].year, months[11].month), (2027, 3));
        assert_eq!(months[11].figures.count, 1);

        let sites = figures_by_site(&items, fy);
        let ids: Vec<Option<i64>> = sites.iter().map(|s| s.site_id).collect();
        assert_eq!(ids, [Some(1), Some(2), None]);
        assert_eq!(sites[0].figures.count, 2);
        assert_eq!(sites[0].figures.mttr_minutes, Some(91));
        assert_eq!(sites[1].figures.count, 2);
        assert_eq!(sites[1].figures.mttr_minutes, Some(121));
        assert_eq!(sites[2].figures.count, 1);
        assert_eq!(figures(&[]).mttr_minutes, None);
    }

    /// Every mixture of closed, recovered-but-open and unrecovered incidents over the year's months and
    /// sites: the three progress parts add up to the count (the pack once printed 「障害 6件 – 復旧 3件・
    /// 未完了 4件」), and the months add up to the year.
    #[test]
    fn progress_partitions_every_group() {
        let fy = FiscalYear(2026);
        // A small deterministic generator (no I/O, no clock): 2,000 mixtures of up to 12 incidents.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2_000 {
            let items: Vec<IncidentFacts> = (0..next(13))
                .map(|id| {
                    let month = 1 + next(12) as u32;
                    let year = if month >= 4 { 2026 } else { 2027 };
                    let recovered = next(2) == 1;
                    let mut f = facts(
                        id as i64,
                        &[1 + next(3) as i64],
                        t(year, month, 1 + next(28) as u32, 9, 0),
                        next(60) as i64,
                        recovered.then(|| next(600) as i64),
                    );
                    // Only a recovered incident can be closed (the witness needs the recovery).
                    f.open = !recovered || next(2) == 1;
                    f
                })
                .collect();
            let year = figures_for_fiscal_year(&items, fy);
            let parts: i64 = year.by_progress().iter().map(|(_, n)| n).sum();
            assert_eq!(parts, year.count, "{year:?}");
            assert_eq!(year.closed, year.count - year.open);
            assert_eq!(year.awaiting_close + year.closed, year.recovered);
            let months = figures_by_month(&items, fy);
            let picks: [fn(&Figures) -> i64; 5] = [
                |f: &Figures| f.count,
                |f: &Figures| f.closed,
                |f: &Figures| f.awaiting_close,
                |f: &Figures| f.unrecovered,
                |f: &Figures| f.total_outage_minutes,
            ];
            for pick in picks {
                assert_eq!(
                    months.iter().map(|m| pick(&m.figures)).sum::<i64>(),
                    pick(&year)
                );
            }
            for site in figures_by_site(&items, fy) {
                let f = site.figures;
                assert_eq!(f.by_progress().iter().map(|(_, n)| n).sum::<i64>(), f.count);
            }
        }
    }

    fn incident() -> IncidentInput {
        IncidentInput {
            title: "佐賀土木事務所 業務端末が集約ネットワークに接続できない".into(),
            severity: "high".into(),
            source: "電話連絡".into(),
            occurred_at: "2026-05-12T09:00".into(),
            noticed_at: "2026-05-12T09:10".into(),
            site_ids: vec![3, 2, 3],
            description: "佐賀土木事務所の担当者から電話。朝から業務端末で照会ができない。".into(),
            ..Default::default()
        }
    }

    #[test]
    fn incident_input() {
        let d = incident().validate(now()).expect("valid");
        assert_eq!(d.severity, Severity::High);
        assert_eq!(d.source, DetectionSource::Phone);
        assert_eq!(d.site_ids, vec![2, 3]);
        assert_eq!(d.occurred_at, t(2026, 5, 12, 9, 0));
        assert_eq!(d.probable_cause, None);
        // Defaults: noticed now, occurred = noticed.
        let mut x = incident();
        x.occurred_at = String::new();
        x.noticed_at = String::new();
        let d = x.validate(now()).expect("valid");
        assert_eq!((d.occurred_at, d.noticed_at), (now(), now()));

        let check = |f: &dyn Fn(&mut IncidentInput), want: &str| {
            let mut x = incident();
            f(&mut x);
            let m = messages(&x.validate(now()).expect_err(want));
            assert!(m.contains(want), "{m}");
        };
        check(&|x| x.title = " ".into(), "件名を入力してください");
        check(
            &|x| x.severity = "urgent".into(),
            "重大度を選択してください",
        );
        check(&|x| x.source = String::new(), "検知経路を選択してください");
        check(
            &|x| x.noticed_at = "2026-05-12T08:00".into(),
            "認知日時は発生日時以降",
        );
        check(
            &|x| x.occurred_at = "2026-07-01T00:00".into(),
            "発生日時が未来",
        );
        check(
            &|x| x.noticed_at = "昨日".into(),
            "認知日時を「2026-05-12T09:30」の形式",
        );
        check(
            &|x| x.description = "個人番号 123456789018 の方の照会".into(),
            "個人番号",
        );
        check(
            &|x| {
                x.source = "monitoring".into();
            },
            "推定原因キーが必要",
        );
        check(
            &|x| x.probable_cause = "ノード12".into(),
            "推定原因キーは半角英数字",
        );
        let mut x = incident();
        x.source = "疎通監視".into();
        x.probable_cause = " node:12:unreachable ".into();
        assert_eq!(
            x.validate(now()).expect("valid").probable_cause.as_deref(),
            Some("node:12:unreachable")
        );
    }

    #[test]
    fn automatic_input() {
        let a = AutoIncidentInput {
            probable_cause: "node:7:unreachable".into(),
            title: "唐津土木事務所 疎通不可".into(),
            severity: Severity::Critical,
            observed_at: t(2026, 6, 1, 3, 0),
            site_ids: vec![5],
            terminal_ids: vec![],
            node_ids: vec![7],
            detail: String::new(),
        };
        let d = a.validate(now()).expect("valid");
        assert_eq!(d.source, DetectionSource::Monitoring);
        assert_eq!(d.description, "唐津土木事務所 疎通不可");
        assert_eq!(d.noticed_at, d.occurred_at);
        let mut bad = a.clone();
        bad.probable_cause = String::new();
        assert!(messages(&bad.validate(now()).expect_err("key")).contains("推定原因キー"));
    }

    fn tr(action: &str, comment: &str, to: &str, guidance: &str) -> IncidentTransitionInput {
        IncidentTransitionInput {
            action: action.into(),
            at: "2026-05-12T10:00".into(),
            comment: comment.into(),
            guidance_to: to.into(),
            guidance: guidance.into(),
            work_entry_ids: vec![],
        }
    }

    #[test]
    fn transitions_need_their_inputs() {
        let ok = |i: IncidentTransitionInput| check_incident_transition(&i, now());
        let err = |i: IncidentTransitionInput| messages(&ok(i).expect_err("refused"));
        assert!(err(tr("fly", "", "", "")).contains("操作が正しくありません"));
        let x = ok(tr("investigate", "", "", "")).expect("no comment needed");
        assert_eq!(x.at, t(2026, 5, 12, 10, 0));
        let m = err(tr("workaround", "", "", ""));
        assert!(m.contains("回避策の内容を入力"), "{m}");
        assert!(m.contains("指導先（誰に指導したか）を入力"), "{m}");
        assert!(m.contains("指導内容を入力"), "{m}");
        ok(tr(
            "workaround",
            "予備回線に切替",
            "佐賀土木事務所 総務担当",
            "再起動手順と照会の代替手順を説明",
        ))
        .expect("workaround");
        assert!(err(tr("recover", " ", "", "")).contains("復旧の内容を入力"));
        assert!(err(tr("reopen", "", "", "")).contains("再開の理由を入力"));
        assert!(err(tr("resume_recovery", "", "", "")).contains("復旧作業に戻す理由"));
        assert!(err(tr("close", "", "担当", "")).contains("指導は「回避策実施」で"));
        let mut i = tr("close", "", "", "");
        i.work_entry_ids = vec![1];
        assert!(err(i).contains("作業記録は"));
        let mut i = tr("recover", "ルータ再起動で復旧", "", "");
        i.work_entry_ids = vec![4, 3, 4];
        assert_eq!(ok(i).expect("ok").work_entry_ids, vec![3, 4]);
        let mut i = tr("close", "", "", "");
        i.at = "2026-07-01T00:00".into();
        assert!(err(i).contains("日時が未来"));
        let mut i = tr("close", "", "", "");
        i.at = String::new();
        assert_eq!(ok(i).expect("now").at, now());
        assert!(err(tr("reopen", "個人番号 123456789018 の件", "", "")).contains("個人番号"));
    }

    #[test]
    fn entry_and_witness_inputs() {
        let e = EntryInput {
            kind: "finding".into(),
            text: "ルータのWAN側リンクダウンを確認".into(),
            work_entry_ids: vec![9],
            ..Default::default()
        };
        let d = e.validate(now()).expect("valid");
        assert_eq!((d.kind, d.at), (EntryKind::Finding, now()));
        for (kind, ok) in [
            ("witness", false),
            ("stage", false),
            ("report", false),
            ("comment", true),
        ] {
            let x = EntryInput {
                kind: kind.into(),
                text: "x".into(),
                ..Default::default()
            };
            assert_eq!(x.validate(now()).is_ok(), ok, "{kind}");
        }
        let c = EntryInput {
            kind: "comment".into(),
            text: "県に報告済み".into(),
            work_entry_ids: vec![1],
            ..Default::default()
        };
        assert!(
            messages(&c.validate(now()).expect_err("no work"))
                .contains("作業記録を紐付けできません")
        );
        let g = EntryInput {
            kind: "workaround".into(),
            text: "代替端末で照会".into(),
            guidance_to: "県庁 市町村課".into(),
            ..Default::default()
        };
        assert!(messages(&g.validate(now()).expect_err("both")).contains("指導先と指導内容の両方"));
        let times = times();
        assert!(check_entry_time(t(2026, 5, 12, 9, 10), &times).is_ok());
        assert!(check_entry_time(t(2026, 5, 12, 9, 9), &times).is_err());

        let w = WitnessInput {
            witness_name: "佐賀 花子".into(),
            witness_org: "佐賀県 市町村課".into(),
            witnessed_at: "2026-05-12T11:45".into(),
            remark: "照会・更新とも正常に動作することを確認した。".into(),
        };
        let d = w.validate(now()).expect("valid");
        assert!(d.check_against(&times).is_ok());
        let empty = WitnessInput::default();
        let m = messages(&empty.validate(now()).expect_err("all four"));
        for want in ["立会者の氏名", "立会者の所属", "立会日時", "所見"] {
            assert!(m.contains(want), "{want}: {m}");
        }
        let early = WitnessInput {
            witnessed_at: "2026-05-12T11:00".into(),
            ..w.clone()
        };
        let d = early.validate(now()).expect("valid alone");
        assert!(
            messages(&d.check_against(&times).expect_err("before recovery"))
                .contains("復旧日時以降")
        );
    }

    #[test]
    fn known_error_input() {
        let k = KnownErrorInput {
            title: "ルータ再起動後にVPNが再確立しない".into(),
            symptoms: "業務端末から照会できない。".into(),
            cause: String::new(),
            workaround: "VPN装置の再起動".into(),
            incident_ids: vec![2, 1, 2],
        };
        assert_eq!(k.validate().expect("valid").incident_ids, vec![1, 2]);
        let bad = KnownErrorInput {
            workaround: String::new(),
            ..k.clone()
        };
        assert!(messages(&bad.validate().expect_err("one of")).contains("少なくとも一方"));
        let bad = KnownErrorInput {
            symptoms: String::new(),
            ..k
        };
        assert!(messages(&bad.validate().expect_err("symptoms")).contains("症状を入力"));
    }
}
