//! Support requests (支援要請), work entries (作業記録), contracts and consultations (協議記録): the
//! record the monthly work record (業務実績簿) is generated from (R3–R8, R18).

use crate::error::{DomainError, FieldError};
use crate::role::{Action, Role};
use crate::text::{self, Line, Text};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

coded_enum!(
    /// What kind of support is asked for or was given.
    Category {
        /// 業務アプリケーションのインストール.
        AppInstall = "app_install", "業務アプリケーションのインストール", "Application install";
        /// ウイルス対策ソフトの更新.
        AntivirusUpdate = "antivirus_update", "ウイルス対策ソフトの更新", "Antivirus update";
        /// リモートによるアップデート支援.
        RemoteUpdate = "remote_update", "リモートによるアップデート支援", "Remote update support";
        /// 疎通確認支援.
        ConnectivityCheck = "connectivity_check", "疎通確認支援", "Connectivity check";
        /// 技術支援.
        TechnicalSupport = "technical_support", "技術支援", "Technical support";
        /// 審議会支援.
        CouncilSupport = "council_support", "審議会支援", "Council support";
        /// 障害対応.
        IncidentResponse = "incident_response", "障害時の緊急対応", "Incident response";
        /// その他.
        Other = "other", "その他の運用支援", "Other";
    }
);

coded_enum!(
    /// The clause of the specification's 1(6) a piece of work falls under (①–⑤).
    Clause {
        /// ① 代表端末に係る運用支援.
        Representative = "1", "①代表端末に係る運用支援", "(1) Representative terminal";
        /// ② 業務端末に係る運用支援.
        Business = "2", "②業務端末に係る運用支援", "(2) Business terminals";
        /// ③ その他の運用支援.
        General = "3", "③その他の運用支援", "(3) Other operational support";
        /// ④ 審議会に係る支援.
        Council = "4", "④審議会に係る支援", "(4) Council support";
        /// ⑤ 障害発生時の緊急対応.
        Emergency = "5", "⑤障害発生時の緊急対応", "(5) Emergency response";
    }
);

impl Clause {
    /// The circled numeral alone (①…⑤), as the 業務実績簿 prints it.
    pub fn mark(self) -> &'static str {
        match self {
            Clause::Representative => "①",
            Clause::Business => "②",
            Clause::General => "③",
            Clause::Council => "④",
            Clause::Emergency => "⑤",
        }
    }
}

impl Category {
    /// The clause suggested for a piece of work of this category (the SE may set another). Installs,
    /// antivirus updates and technical support are ① when the work touched the representative terminal
    /// (1(6)① is that terminal's own support, its monthly inspection included) and otherwise ② for
    /// installs and updates, ③ for support; connectivity checks are always ③ (1(6)③ names them).
    pub fn clause(self, touches_representative: bool) -> Clause {
        match self {
            Category::AppInstall
            | Category::AntivirusUpdate
            | Category::TechnicalSupport
            | Category::Other
                if touches_representative =>
            {
                Clause::Representative
            }
            Category::AppInstall | Category::AntivirusUpdate | Category::RemoteUpdate => {
                Clause::Business
            }
            Category::ConnectivityCheck | Category::TechnicalSupport | Category::Other => {
                Clause::General
            }
            Category::CouncilSupport => Clause::Council,
            Category::IncidentResponse => Clause::Emergency,
        }
    }
}

coded_enum!(
    /// Where a support request stands.
    RequestStatus {
        /// 要請: filed by the prefecture.
        Requested = "requested", "要請", "Requested";
        /// 受付: accepted by an SE with a planned date.
        Accepted = "accepted", "受付", "Accepted";
        /// 対応中: work under way.
        InProgress = "in_progress", "対応中", "In progress";
        /// 完了: the SE reported the result.
        Completed = "completed", "完了", "Completed";
        /// 確認済: the prefecture confirmed the result.
        Confirmed = "confirmed", "確認済", "Confirmed";
        /// 差戻し: the prefecture sent it back with a reason.
        Returned = "returned", "差戻し", "Returned";
        /// 取下げ: withdrawn by the requester.
        Withdrawn = "withdrawn", "取下げ", "Withdrawn";
    }
);

impl RequestStatus {
    /// Whether the request is still open (someone has something to do).
    pub fn is_open(self) -> bool {
        !matches!(self, RequestStatus::Confirmed | RequestStatus::Withdrawn)
    }
}

coded_enum!(
    /// What someone does to a request.
    RequestAction {
        /// Accept (SE): needs a planned date.
        Accept = "accept", "受付", "Accept";
        /// Start work (SE).
        Start = "start", "対応開始", "Start";
        /// Report completion (SE): needs a result.
        Complete = "complete", "完了報告", "Report completion";
        /// Confirm (prefecture).
        Confirm = "confirm", "確認", "Confirm";
        /// Send back (prefecture): needs a reason.
        Return = "return", "差戻し", "Send back";
        /// Withdraw (requester).
        Withdraw = "withdraw", "取下げ", "Withdraw";
    }
);

impl RequestAction {
    /// The permission of `role.rs` this action needs: the SE side accepts, starts and completes
    /// ([`Action::HandleRequest`]), the prefecture side confirms, sends back and withdraws
    /// ([`Action::SettleRequest`]). The permission table is the only place that says which role does which.
    pub fn permission(self) -> Action {
        match self {
            RequestAction::Accept | RequestAction::Start | RequestAction::Complete => {
                Action::HandleRequest
            }
            RequestAction::Confirm | RequestAction::Return | RequestAction::Withdraw => {
                Action::SettleRequest
            }
        }
    }
}

/// Whether `role` may perform `action` on a request at all, looked up in the permission table
/// ([`Role::allows`] of [`RequestAction::permission`]).
pub fn request_action_allowed(role: Role, action: RequestAction) -> bool {
    role.allows(action.permission())
}

/// The status after `action`, or why it is not allowed now. The UI offers only legal actions, but the rule
/// lives here so that the API and any other caller are refused the same way.
pub fn next_status(
    from: RequestStatus,
    action: RequestAction,
) -> Result<RequestStatus, DomainError> {
    use RequestAction as A;
    use RequestStatus as S;
    let to = match (from, action) {
        (S::Requested, A::Accept) => S::Accepted,
        (S::Accepted, A::Start) | (S::Returned, A::Start) => S::InProgress,
        (S::InProgress, A::Complete) => S::Completed,
        (S::Completed, A::Confirm) => S::Confirmed,
        (S::Completed, A::Return) => S::Returned,
        (S::Requested, A::Withdraw) | (S::Accepted, A::Withdraw) => S::Withdrawn,
        _ => {
            return Err(DomainError::Conflict(format!(
                "「{}」の要請に「{}」はできません。",
                from.label_ja(),
                action.label_ja()
            )));
        }
    };
    Ok(to)
}

/// The actions possible from a status for a role (what the page offers).
pub fn available_actions(from: RequestStatus, role: Role) -> Vec<RequestAction> {
    RequestAction::ALL
        .iter()
        .copied()
        .filter(|a| request_action_allowed(role, *a) && next_status(from, *a).is_ok())
        .collect()
}

/// What a transition needs besides the action: checked by [`check_transition_input`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TransitionInput {
    /// The action code.
    pub action: String,
    /// Comment shown on the timeline (reason for 差戻し, result for 完了).
    pub comment: String,
    /// Planned date for 受付 (`YYYY-MM-DD` or 和暦).
    pub planned_date: String,
}

/// A validated transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The action.
    pub action: RequestAction,
    /// The comment (may be empty except where required).
    pub comment: Text<4000>,
    /// The planned date, for 受付.
    pub planned_date: Option<NaiveDate>,
}

/// Validates a transition's input: 受付 needs a planned date, 完了 a result, 差戻し a reason.
pub fn check_transition_input(input: &TransitionInput) -> Result<Transition, DomainError> {
    let Some(action) = RequestAction::parse(&input.action) else {
        return Err(DomainError::invalid("action", "操作が正しくありません。"));
    };
    let mut errors = Vec::new();
    let comment = text::text(&mut errors, "comment", "コメント", &input.comment, false);
    let given = !input.comment.trim().is_empty();
    match action {
        RequestAction::Complete if !given => errors.push(FieldError::new(
            "comment",
            "完了報告には対応結果を入力してください。",
        )),
        RequestAction::Return if !given => errors.push(FieldError::new(
            "comment",
            "差戻しの理由を入力してください。",
        )),
        _ => {}
    }
    let planned_date = if action == RequestAction::Accept {
        if input.planned_date.trim().is_empty() {
            errors.push(FieldError::new(
                "planned_date",
                "受付には対応予定日を入力してください（例: 2026-05-12 または 令和8年5月12日）。",
            ));
            None
        } else {
            date_field(
                &mut errors,
                "planned_date",
                "対応予定日",
                &input.planned_date,
                true,
            )
        }
    } else {
        None
    };
    if errors.is_empty() {
        Ok(Transition {
            action,
            comment,
            planned_date,
        })
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// A date typed as ISO (`2026-05-12`) or 和暦 (`令和8年5月12日`, `R8.5.12`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    crate::wareki::parse_wareki(t).ok()
}

/// A date field of a form, ISO or 和暦: empty is `None` (refused as 「{label}を入力してください」 when
/// `required`); a date that does not parse is refused with the parser's reason, named by the field's
/// label (「作業日: 2026年2月30日は存在しない日付です。」).
pub fn date_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    required: bool,
) -> Option<NaiveDate> {
    match crate::wareki::parse_wareki(raw) {
        Ok(d) => Some(d),
        Err(crate::wareki::WarekiError::Empty) => {
            if required {
                errors.push(FieldError::new(
                    field,
                    format!("{label}を入力してください（例: 2026-05-12 または 令和8年5月12日）。"),
                ));
            }
            None
        }
        Err(e) => {
            errors.push(FieldError::new(field, format!("{label}: {e}")));
            None
        }
    }
}

/// Raw input of a new support request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RequestInput {
    /// Short title.
    pub title: String,
    /// Category code.
    pub category: String,
    /// Target sites.
    pub site_ids: Vec<i64>,
    /// Target terminals.
    pub terminal_ids: Vec<i64>,
    /// Wished date.
    pub wished_date: String,
    /// What is needed.
    pub description: String,
}

/// A validated support request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestDraft {
    pub title: Line<200>,
    pub category: Category,
    pub site_ids: Vec<i64>,
    pub terminal_ids: Vec<i64>,
    pub wished_date: Option<NaiveDate>,
    pub description: Text<4000>,
}

/// A new request's 希望日 may not lie before the day it is filed (it would be 期限超過 the moment it is
/// filed); an existing request keeps the date it was filed with.
pub fn check_wished_date(
    wished: Option<NaiveDate>,
    filed_on: NaiveDate,
) -> Result<(), DomainError> {
    match wished {
        Some(w) if w < filed_on => Err(DomainError::invalid(
            "wished_date",
            format!(
                "希望日: {}は過去の日付です。受付日（{}）以降の日付にしてください。",
                crate::wareki::format_long(w),
                crate::wareki::format_long(filed_on)
            ),
        )),
        _ => Ok(()),
    }
}

impl RequestInput {
    /// Validates into a request.
    pub fn validate(&self) -> Result<RequestDraft, DomainError> {
        let mut errors = Vec::new();
        let title = text::line(&mut errors, "title", "件名", &self.title, true);
        let description = text::text(&mut errors, "description", "内容", &self.description, true);
        let category = Category::parse(&self.category);
        if category.is_none() {
            errors.push(FieldError::new("category", "作業種別を選択してください。"));
        }
        let wished_date = date_field(
            &mut errors,
            "wished_date",
            "希望日",
            &self.wished_date,
            false,
        );
        if errors.is_empty() {
            let mut site_ids = self.site_ids.clone();
            site_ids.sort_unstable();
            site_ids.dedup();
            let mut terminal_ids = self.terminal_ids.clone();
            terminal_ids.sort_unstable();
            terminal_ids.dedup();
            Ok(RequestDraft {
                title,
                category: category.unwrap_or(Category::Other),
                site_ids,
                terminal_ids,
                wished_date,
                description,
            })
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

coded_enum!(
    /// Where the work was done.
    WorkMode {
        /// 現地.
        OnSite = "onsite", "現地", "On site";
        /// リモート.
        Remote = "remote", "リモート", "Remote";
    }
);

/// Raw input of a work entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WorkInput {
    /// The contract the work is done under.
    pub contract_id: Option<i64>,
    /// Work date (JST).
    pub work_date: String,
    /// Start time `HH:MM` (JST).
    pub start_time: String,
    /// End time `HH:MM` (JST), same day.
    pub end_time: String,
    /// The people who did it (user ids).
    pub worker_ids: Vec<i64>,
    /// onsite / remote.
    pub mode: String,
    /// Where.
    pub site_id: Option<i64>,
    /// Which terminals (must be at the site).
    pub terminal_ids: Vec<i64>,
    /// Category code.
    pub category: String,
    /// The clause of 1(6) (`1`…`5`) when the SE sets it; empty means the one [`Category::clause`] suggests
    /// from the category and the terminals.
    pub clause: String,
    /// What was done.
    pub description: String,
    /// The result.
    pub result: String,
    /// Follow-up needed.
    pub follow_up: String,
    /// The request it answers.
    pub request_id: Option<i64>,
}

/// A validated work entry (the checks that need stored data — overlap, contract term, terminal sites — are
/// done by [`check_work_against`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkDraft {
    pub contract_id: i64,
    pub work_date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub worker_ids: Vec<i64>,
    pub mode: WorkMode,
    pub site_id: Option<i64>,
    pub terminal_ids: Vec<i64>,
    pub category: Category,
    /// The clause the SE set; `None` takes the suggested one ([`WorkDraft::clause`]).
    pub clause: Option<Clause>,
    pub description: Text<4000>,
    pub result: Text<2000>,
    pub follow_up: Text<2000>,
    pub request_id: Option<i64>,
}

impl WorkDraft {
    /// The clause the work is recorded under: the SE's choice, else the one suggested from its category
    /// and whether it touched a representative terminal.
    pub fn clause(&self, touches_representative: bool) -> Clause {
        self.clause
            .unwrap_or_else(|| self.category.clause(touches_representative))
    }

    /// Minutes worked.
    pub fn minutes(&self) -> i64 {
        (self.end_time - self.start_time).num_minutes()
    }
}

/// Hours as shown on the work record: `1.5` for 90 minutes.
pub fn hours_label(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    if (h * 100.0).round() % 100.0 == 0.0 {
        format!("{h:.0}")
    } else {
        format!("{:.2}", h).trim_end_matches('0').to_string()
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim().replace('：', ":");
    NaiveTime::parse_from_str(&t, "%H:%M")
        .ok()
        .or_else(|| NaiveTime::parse_from_str(&t, "%H:%M:%S").ok())
}

impl WorkInput {
    /// Validates what can be checked without stored data.
    pub fn validate(&self) -> Result<WorkDraft, DomainError> {
        let mut errors = Vec::new();
        if self.contract_id.is_none() {
            errors.push(FieldError::new("contract_id", "契約を選択してください。"));
        }
        let work_date = date_field(&mut errors, "work_date", "作業日", &self.work_date, true);
        let start = parse_time(&self.start_time);
        let end = parse_time(&self.end_time);
        if start.is_none() {
            errors.push(FieldError::new(
                "start_time",
                "開始時刻を「09:00」の形式で入力してください。",
            ));
        }
        if end.is_none() {
            errors.push(FieldError::new(
                "end_time",
                "終了時刻を「17:30」の形式で入力してください。",
            ));
        }
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            errors.push(FieldError::new(
                "end_time",
                "終了時刻は開始時刻より後にしてください。",
            ));
        }
        let mut worker_ids = self.worker_ids.clone();
        worker_ids.sort_unstable();
        worker_ids.dedup();
        if worker_ids.is_empty() {
            errors.push(FieldError::new(
                "worker_ids",
                "作業者を1人以上選択してください。",
            ));
        }
        let mode = WorkMode::parse(&self.mode);
        if mode.is_none() {
            errors.push(FieldError::new(
                "mode",
                "現地・リモートの別を選択してください。",
            ));
        }
        let category = Category::parse(&self.category);
        if category.is_none() {
            errors.push(FieldError::new("category", "作業種別を選択してください。"));
        }
        let clause = match self.clause.trim() {
            "" => None,
            code => {
                let c = Clause::parse(code);
                if c.is_none() {
                    errors.push(FieldError::new(
                        "clause",
                        "区分は①～⑤から選択してください（「自動」なら作業種別と端末から決まります）。",
                    ));
                }
                c
            }
        };
        let mut terminal_ids = self.terminal_ids.clone();
        terminal_ids.sort_unstable();
        terminal_ids.dedup();
        if !terminal_ids.is_empty() && self.site_id.is_none() {
            errors.push(FieldError::new(
                "site_id",
                "端末を指定する場合は拠点も選択してください。",
            ));
        }
        let description = text::text(
            &mut errors,
            "description",
            "作業内容",
            &self.description,
            true,
        );
        let result = text::text(&mut errors, "result", "結果", &self.result, true);
        let follow_up = text::text(
            &mut errors,
            "follow_up",
            "今後の対応",
            &self.follow_up,
            false,
        );
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        let (
            Some(contract_id),
            Some(work_date),
            Some(start_time),
            Some(end_time),
            Some(mode),
            Some(category),
        ) = (self.contract_id, work_date, start, end, mode, category)
        else {
            return Err(DomainError::invalid(
                "work_date",
                "入力内容に誤りがあります。",
            ));
        };
        Ok(WorkDraft {
            contract_id,
            work_date,
            start_time,
            end_time,
            worker_ids,
            mode,
            site_id: self.site_id,
            terminal_ids,
            category,
            clause,
            description,
            result,
            follow_up,
            request_id: self.request_id,
        })
    }
}

/// An existing entry of one worker on one day, for the overlap rule.
#[derive(Debug, Clone)]
pub struct BookedSlot {
    /// The entry.
    pub entry_id: i64,
    /// The worker's display name (for the message).
    pub worker: String,
    /// Worker id.
    pub worker_id: i64,
    /// Start.
    pub start_time: NaiveTime,
    /// End.
    pub end_time: NaiveTime,
}

/// The facts a work entry is checked against.
pub struct WorkContext<'a> {
    /// The contract's term (inclusive).
    pub contract_term: Option<(NaiveDate, NaiveDate)>,
    /// The sites of the chosen terminals: (terminal id, site id, hostname).
    pub terminal_sites: &'a [(i64, i64, String)],
    /// Other entries of the same workers on the same day (the entry being edited excluded).
    pub booked: &'a [BookedSlot],
}

/// Checks a work entry against stored facts: inside the contract term, terminals at the chosen site, and no
/// overlap with another entry of the same worker (touching ends are fine: 09:00–10:00 then 10:00–11:00).
pub fn check_work_against(draft: &WorkDraft, ctx: &WorkContext<'_>) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    match ctx.contract_term {
        None => errors.push(FieldError::new(
            "contract_id",
            "選択された契約が見つかりません。",
        )),
        Some((from, to)) if draft.work_date < from || draft.work_date > to => {
            errors.push(FieldError::new(
                "work_date",
                format!(
                    "作業日が契約期間（{}～{}）の外です。",
                    crate::wareki::format_long(from),
                    crate::wareki::format_long(to)
                ),
            ))
        }
        Some(_) => {}
    }
    for tid in &draft.terminal_ids {
        match ctx.terminal_sites.iter().find(|(id, _, _)| id == tid) {
            None => errors.push(FieldError::new(
                "terminal_ids",
                "選択された端末が見つかりません。",
            )),
            Some((_, site, host)) if Some(*site) != draft.site_id => errors.push(FieldError::new(
                "terminal_ids",
                format!("端末 {host} は選択した拠点に設置されていません。"),
            )),
            Some(_) => {}
        }
    }
    for b in ctx.booked {
        if draft.worker_ids.contains(&b.worker_id)
            && draft.start_time < b.end_time
            && b.start_time < draft.end_time
        {
            errors.push(FieldError::new(
                "start_time",
                format!(
                    "{}さんの作業記録（{}～{}、記録番号{}）と時間が重なっています。",
                    b.worker,
                    b.start_time.format("%H:%M"),
                    b.end_time.format("%H:%M"),
                    b.entry_id
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// Raw input of a contract.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ContractInput {
    /// 業務名.
    pub name: String,
    /// 契約番号.
    pub number: String,
    /// First day of the term.
    pub term_start: String,
    /// Last day of the term.
    pub term_end: String,
    /// 受託者.
    pub contractor: String,
    /// 作業責任者 (the contractor's person in charge).
    pub manager: String,
    /// Staff assigned (user ids).
    pub staff_ids: Vec<i64>,
}

/// A validated contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractDraft {
    pub name: Line<200>,
    pub number: Line<64>,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    pub contractor: Line<200>,
    pub manager: Line<100>,
    pub staff_ids: Vec<i64>,
}

impl ContractInput {
    /// Validates into a contract.
    pub fn validate(&self) -> Result<ContractDraft, DomainError> {
        let mut errors = Vec::new();
        let name = text::line(&mut errors, "name", "業務名", &self.name, true);
        let number = text::line(&mut errors, "number", "契約番号", &self.number, true);
        let contractor = text::line(&mut errors, "contractor", "受託者", &self.contractor, true);
        let manager = text::line(&mut errors, "manager", "作業責任者", &self.manager, false);
        let start = date_field(
            &mut errors,
            "term_start",
            "契約期間の開始日",
            &self.term_start,
            true,
        );
        let end = date_field(
            &mut errors,
            "term_end",
            "契約期間の終了日",
            &self.term_end,
            true,
        );
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            errors.push(FieldError::new(
                "term_end",
                "契約期間の終了日は開始日以降にしてください。",
            ));
        }
        let mut staff_ids = self.staff_ids.clone();
        staff_ids.sort_unstable();
        staff_ids.dedup();
        match (start, end) {
            (Some(term_start), Some(term_end)) if errors.is_empty() => Ok(ContractDraft {
                name,
                number,
                term_start,
                term_end,
                contractor,
                manager,
                staff_ids,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Raw input of a consultation record (協議記録, R18).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ConsultationInput {
    /// The contract.
    pub contract_id: Option<i64>,
    /// When it took place.
    pub held_on: String,
    /// Who took part (names and organisations, free text).
    pub participants: String,
    /// The subject.
    pub topic: String,
    /// What was agreed.
    pub agreed: String,
    /// Linked requests.
    pub request_ids: Vec<i64>,
}

/// A validated consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsultationDraft {
    pub contract_id: i64,
    pub held_on: NaiveDate,
    pub participants: Text<1000>,
    pub topic: Text<500>,
    pub agreed: Text<4000>,
    pub request_ids: Vec<i64>,
}

impl ConsultationInput {
    /// Validates into a consultation.
    pub fn validate(&self) -> Result<ConsultationDraft, DomainError> {
        let mut errors = Vec::new();
        if self.contract_id.is_none() {
            errors.push(FieldError::new("contract_id", "契約を選択してください。"));
        }
        let held_on = date_field(&mut errors, "held_on", "協議日", &self.held_on, true);
        let participants = text::text(
            &mut errors,
            "participants",
            "出席者",
            &self.participants,
            true,
        );
        let topic = text::text(&mut errors, "topic", "協議事項", &self.topic, true);
        let agreed = text::text(&mut errors, "agreed", "協議結果", &self.agreed, true);
        let mut request_ids = self.request_ids.clone();
        request_ids.sort_unstable();
        request_ids.dedup();
        match (self.contract_id, held_on) {
            (Some(contract_id), Some(held_on)) if errors.is_empty() => Ok(ConsultationDraft {
                contract_id,
                held_on,
                participants,
                topic,
                agreed,
                request_ids,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request actions each role may take, written out by hand: the SE side accepts, starts and
    /// completes, the prefecture side confirms, sends back and withdraws, the administrator does both and
    /// the auditor none. Decided by `role.rs` alone (there is no second table here).
    #[test]
    fn request_actions_per_role_come_from_the_permission_table() {
        use RequestAction::*;
        for role in Role::ALL {
            let expect: Vec<RequestAction> = match role {
                Role::Admin => RequestAction::ALL.to_vec(),
                Role::Staff => vec![Confirm, Return, Withdraw],
                Role::Se => vec![Accept, Start, Complete],
                Role::Auditor => vec![],
            };
            for a in RequestAction::ALL {
                assert_eq!(
                    request_action_allowed(role, *a),
                    expect.contains(a),
                    "{role:?} / {a:?}"
                );
                assert_eq!(
                    request_action_allowed(role, *a),
                    role.allows(a.permission())
                );
            }
        }
    }

    #[test]
    fn request_lifecycle_and_illegal_moves() {
        use RequestAction as A;
        use RequestStatus as S;
        let path = [
            (A::Accept, S::Accepted),
            (A::Start, S::InProgress),
            (A::Complete, S::Completed),
            (A::Confirm, S::Confirmed),
        ];
        let mut s = S::Requested;
        for (a, want) in path {
            s = next_status(s, a).expect("legal");
            assert_eq!(s, want);
        }
        // Sent back, resumed, completed again.
        assert_eq!(next_status(S::Completed, A::Return), Ok(S::Returned));
        assert_eq!(next_status(S::Returned, A::Start), Ok(S::InProgress));
        // Illegal.
        for (from, a) in [
            (S::Requested, A::Confirm),
            (S::Requested, A::Complete),
            (S::Confirmed, A::Return),
            (S::InProgress, A::Withdraw),
            (S::Withdrawn, A::Accept),
            (S::Completed, A::Accept),
        ] {
            let e = next_status(from, a).expect_err("illegal");
            assert!(e.to_string().contains("できません"), "{e}");
        }
    }

    #[test]
    fn roles_and_actions() {
        assert_eq!(
            available_actions(RequestStatus::Requested, Role::Se),
            vec![RequestAction::Accept]
        );
        assert_eq!(
            available_actions(RequestStatus::Requested, Role::Staff),
            vec![RequestAction::Withdraw]
        );
        assert_eq!(
            available_actions(RequestStatus::Completed, Role::Staff),
            vec![RequestAction::Confirm, RequestAction::Return]
        );
        assert!(available_actions(RequestStatus::Completed, Role::Auditor).is_empty());
        assert!(available_actions(RequestStatus::Completed, Role::Se).is_empty());
    }

    #[test]
    fn transitions_need_their_inputs() {
        let t = |a: &str, c: &str, d: &str| {
            check_transition_input(&TransitionInput {
                action: a.into(),
                comment: c.into(),
                planned_date: d.into(),
            })
        };
        assert!(t("accept", "", "").is_err());
        assert_eq!(
            t("accept", "", "令和8年5月12日").expect("ok").planned_date,
            NaiveDate::from_ymd_opt(2026, 5, 12)
        );
        assert!(t("return", "", "").is_err());
        assert!(t("complete", " ", "").is_err());
        assert!(t("complete", "インストール完了", "").is_ok());
        assert!(t("fly", "", "").is_err());
        assert!(
            t("complete", "個人番号 123456789018", "").is_err(),
            "PII refused"
        );
    }

    #[test]
    fn clauses() {
        assert_eq!(Category::AppInstall.clause(true), Clause::Representative);
        assert_eq!(Category::AntivirusUpdate.clause(false), Clause::Business);
        assert_eq!(Category::RemoteUpdate.clause(true), Clause::Business);
        assert_eq!(Category::ConnectivityCheck.clause(false), Clause::General);
        assert_eq!(Category::ConnectivityCheck.clause(true), Clause::General);
        assert_eq!(
            Category::TechnicalSupport.clause(true),
            Clause::Representative,
            "the representative terminal's inspection is its own support"
        );
        assert_eq!(Category::TechnicalSupport.clause(false), Clause::General);
        assert_eq!(Category::CouncilSupport.clause(false).mark(), "④");
        assert_eq!(Category::IncidentResponse.clause(false).mark(), "⑤");
    }

    #[test]
    fn the_se_may_set_the_clause() {
        let mut w = work();
        w.category = "technical_support".into();
        let d = w.validate().expect("suggested");
        assert_eq!(d.clause, None);
        assert_eq!(d.clause(true), Clause::Representative);
        w.clause = "3".into();
        let d = w.validate().expect("set");
        assert_eq!(d.clause(true), Clause::General, "the SE's choice wins");
        w.clause = "9".into();
        match w.validate() {
            Err(DomainError::Validation(errors)) => {
                assert!(errors.iter().any(|e| e.field == "clause"), "{errors:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    fn work() -> WorkInput {
        WorkInput {
            contract_id: Some(1),
            work_date: "2026-05-12".into(),
            start_time: "09:00".into(),
            end_time: "10:30".into(),
            worker_ids: vec![3],
            mode: "onsite".into(),
            site_id: Some(1),
            terminal_ids: vec![10],
            category: "app_install".into(),
            description: "業務アプリ更新版のインストール".into(),
            result: "正常終了".into(),
            ..Default::default()
        }
    }

    #[test]
    fn work_validation_and_hours() {
        let d = work().validate().expect("valid");
        assert_eq!(d.minutes(), 90);
        assert_eq!(hours_label(90), "1.5");
        assert_eq!(hours_label(120), "2");
        assert_eq!(hours_label(100), "1.67");
        let mut bad = work();
        bad.end_time = "08:00".into();
        let Err(DomainError::Validation(e)) = bad.validate() else {
            panic!("must fail")
        };
        assert!(e[0].message.contains("終了時刻は開始時刻より後"));
    }

    #[test]
    fn work_overlap_term_and_sites() {
        let d = work().validate().expect("valid");
        let term = Some((
            NaiveDate::from_ymd_opt(2026, 4, 1).expect("d"),
            NaiveDate::from_ymd_opt(2027, 3, 31).expect("d"),
        ));
        let sites = vec![(10, 1, "pc1".to_string())];
        let slot = |s: &str, e: &str| BookedSlot {
            entry_id: 7,
            worker: "保守".into(),
            worker_id: 3,
            start_time: NaiveTime::parse_from_str(s, "%H:%M").expect("t"),
            end_time: NaiveTime::parse_from_str(e, "%H:%M").expect("t"),
        };
        let ok = [slot("10:30", "11:00"), slot("08:00", "09:00")];
        assert!(
            check_work_against(
                &d,
                &WorkContext {
                    contract_term: term,
                    terminal_sites: &sites,
                    booked: &ok
                }
            )
            .is_ok()
        );
        let clash = [slot("10:00", "11:00")];
        let Err(DomainError::Validation(e)) = check_work_against(
            &d,
            &WorkContext {
                contract_term: term,
                terminal_sites: &sites,
                booked: &clash,
            },
        ) else {
            panic!("overlap")
        };
        assert!(
            e[0].message.contains("時間が重なっています"),
            "{}",
            e[0].message
        );
        let outside = Some((
            NaiveDate::from_ymd_opt(2025, 4, 1).expect("d"),
            NaiveDate::from_ymd_opt(2026, 3, 31).expect("d"),
        ));
        assert!(
            check_work_against(
                &d,
                &WorkContext {
                    contract_term: outside,
                    terminal_sites: &sites,
                    booked: &[]
                }
            )
            .is_err()
        );
        let elsewhere = vec![(10, 2, "pc1".to_string())];
        let Err(DomainError::Validation(e)) = check_work_against(
            &d,
            &WorkContext {
                contract_term: term,
                terminal_sites: &elsewhere,
                booked: &[],
            },
        ) else {
            panic!("site")
        };
        assert!(e[0].message.contains("設置されていません"));
    }

    #[test]
    fn contract_term() {
        let c = ContractInput {
            name: "住民基本台帳ネットワークシステム運用支援SE業務委託".into(),
            number: "R8-情-001".into(),
            term_start: "令和8年4月1日".into(),
            term_end: "令和9年3月31日".into(),
            contractor: "株式会社サンプル".into(),
            ..Default::default()
        };
        let d = c.validate().expect("valid");
        assert_eq!(
            d.term_start,
            NaiveDate::from_ymd_opt(2026, 4, 1).expect("d")
        );
        let mut bad = c.clone();
        bad.term_end = "令和8年3月31日".into();
        assert!(bad.validate().is_err());
    }
}
