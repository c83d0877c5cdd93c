//! The monthly work record (業務実績簿) of a contract and month: the data it is made from, the document, the
//! source rows kept with a submission, the submission itself, and each step of the prefecture's approval
//! route, which freezes the submitted document again with that step's 確認欄 column filled.

use crate::text::{duration, hours, jst_short_opt, month_day_weekday, stored_date, term, wareki};
use crate::{DocumentError, Format, Result, render_blocking};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use unyo_domain::Action;
use unyo_domain::incident::{IncidentStage, Severity};
use unyo_domain::records::{
    Month, RecordStatus, RouteStep, SourceChange, SourceKind, SourceRow, compare_sources,
    version_label,
};
use unyo_domain::support::{Category, Clause, WorkMode};
use unyo_domain::time::{jst, to_storage};
use unyo_domain::wareki::format_long;
use unyo_report::{Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::campaigns::{Campaign, CampaignQuery};
use unyo_store::connectivity::SiteMonth;
use unyo_store::incidents::{IncidentQuery, IncidentRow};
use unyo_store::records::{CampaignActivity, MonthlyRecord, StepConfirmation, Submission};
use unyo_store::support::{Consultation, Contract, RequestQuery, RequestRow, WorkQuery, WorkRow};
use unyo_store::{Actor, Store, StoreError};

/// Which edition of the record a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// A preview generated from the data (not submitted).
    Draft,
    /// The `n`-th submitted version (第n版).
    Version(i64),
}

impl Edition {
    fn label(self) -> String {
        match self {
            Edition::Draft => "下書き（未提出）".to_string(),
            Edition::Version(n) => format!("第{n}版"),
        }
    }
}

/// Everything a month's record is made from, read once.
#[derive(Debug, Clone)]
pub struct MonthlyData {
    pub contract: Contract,
    pub month: Month,
    /// 宛先 (a setting; 「佐賀県知事　様」 by default).
    pub addressee: String,
    /// Work entries of the month, in date and time order.
    pub work: Vec<WorkRow>,
    /// Requests filed in the month or answered by its work, by number.
    pub requests: Vec<RequestRow>,
    /// Incidents active in the month (occurred before its end, not closed before its start), by number.
    pub incidents: Vec<IncidentRow>,
    /// Campaigns running in the month, with what was done in it.
    pub campaigns: Vec<(Campaign, CampaignActivity)>,
    /// Consultations held in the month, oldest first.
    pub consultations: Vec<Consultation>,
    /// The connectivity checks' availability of the month per site (code, name, figures); empty while
    /// nothing is monitored.
    pub connectivity: Vec<(String, String, SiteMonth)>,
    /// The prefecture's 確認欄 columns (the contract's approval route), blank in a draft or a submission.
    pub route: Vec<RouteStep>,
}

/// The UTC instant of 00:00 JST on `d`.
fn jst_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(jst()).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

/// Reads a contract's month. Refuses a month outside the contract's term.
pub async fn monthly_data(store: &Store, contract_id: i64, month: Month) -> Result<MonthlyData> {
    let contract = store.contract(contract_id).await?;
    let first = month.first_day();
    let last = month.last_day();
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    if iso(last) < contract.term_start || iso(first) > contract.term_end {
        return Err(DocumentError::Store(
            unyo_domain::DomainError::invalid("month", "対象月が契約期間の外です。").into(),
        ));
    }
    let addressee = store.record_addressee().await?;
    let work = store
        .work_entries_all(&WorkQuery {
            contract_id: Some(contract_id),
            from: Some(iso(first)),
            to: Some(iso(last)),
            ..Default::default()
        })
        .await?;

    // Requests: filed in the month, or answered by the month's work (filed earlier in the term).
    let referenced: BTreeSet<i64> = work.iter().filter_map(|w| w.request_id).collect();
    let mut requests: Vec<RequestRow> = Vec::new();
    let mut page = 1;
    loop {
        let p = store
            .requests(
                &RequestQuery {
                    from: Some(contract.term_start.clone()),
                    to: Some(iso(last)),
                    page: Some(page),
                    per_page: Some(500),
                    ..Default::default()
                },
                last,
            )
            .await?;
        let pages = p.pages();
        requests.extend(p.items.into_iter().filter(|r| {
            referenced.contains(&r.id)
                || stored_date(&r.filed_on).is_some_and(|d| d >= first && d <= last)
        }));
        if page >= pages {
            break;
        }
        page += 1;
    }
    for id in &referenced {
        if !requests.iter().any(|r| r.id == *id) {
            requests.push(store.request(*id, last).await?.request);
        }
    }
    requests.sort_by(|a, b| (a.fiscal_year, &a.number).cmp(&(b.fiscal_year, &b.number)));
    requests.dedup_by_key(|r| r.id);

    // Incidents active in the month: still open, or closed on or after its first day.
    let start = to_storage(jst_midnight(first));
    let end_instant = jst_midnight(last.succ_opt().unwrap_or(last));
    let mut incidents: BTreeMap<i64, IncidentRow> = BTreeMap::new();
    for open_only in [true, false] {
        let mut page = 1;
        loop {
            let p = store
                .incidents(
                    &IncidentQuery {
                        open_only: Some(open_only),
                        from: (!open_only).then(|| iso(first - chrono::Duration::days(730))),
                        to: Some(iso(last)),
                        page: Some(page),
                        per_page: Some(500),
                        ..Default::default()
                    },
                    end_instant,
                )
                .await?;
            let pages = p.pages();
            for i in p.items {
                if i.closed_at.as_deref().is_none_or(|c| c >= start.as_str()) {
                    incidents.insert(i.id, i);
                }
            }
            if page >= pages {
                break;
            }
            page += 1;
        }
    }
    let mut incidents: Vec<IncidentRow> = incidents.into_values().collect();
    incidents.sort_by(|a, b| (&a.occurred_at, a.id).cmp(&(&b.occurred_at, b.id)));

    // Campaigns running in the month (started before its end, not closed before its start), or with a
    // target settled in it.
    let activity = store.campaign_activity(first, last).await?;
    let end = to_storage(end_instant);
    let mut campaigns = Vec::new();
    let mut page = 1;
    loop {
        let p = store
            .campaigns(&CampaignQuery {
                page: Some(page),
                per_page: Some(500),
                ..Default::default()
            })
            .await?;
        let pages = p.pages();
        for c in p.items {
            let a = activity
                .iter()
                .find(|a| a.campaign_id == c.id)
                .cloned()
                .unwrap_or(CampaignActivity {
                    campaign_id: c.id,
                    ..Default::default()
                });
            let running = c.started_at.as_str() < end.as_str()
                && c.closed_at.as_deref().is_none_or(|x| x >= start.as_str());
            if running || a.done + a.failed + a.excluded > 0 {
                campaigns.push((c, a));
            }
        }
        if page >= pages {
            break;
        }
        page += 1;
    }
    campaigns.sort_by(|a, b| (a.0.fiscal_year, &a.0.number).cmp(&(b.0.fiscal_year, &b.0.number)));

    let mut consultations = store
        .consultations(Some(contract_id), Some(first), Some(last))
        .await?;
    consultations.reverse();

    // Connectivity (R5): the checks' daily roll-ups of the month, per site.
    let sites = store.all_sites().await?;
    let mut connectivity: Vec<(String, String, SiteMonth)> = store
        .site_availability(
            crate::day_number(first),
            crate::day_number(last) + 1,
            chrono::Utc::now(),
        )
        .await?
        .into_iter()
        .filter(|m| m.month == month.code())
        .map(|m| {
            let (code, name) = sites.iter().find(|s| s.id == m.site_id).map_or_else(
                || (String::new(), format!("拠点 {}", m.site_id)),
                |s| (s.code.clone(), s.name.clone()),
            );
            (code, name, m)
        })
        .collect();
    connectivity.sort_by(|a, b| (&a.0, a.2.site_id).cmp(&(&b.0, b.2.site_id)));
    let route = store.approval_route(contract_id).await?;
    Ok(MonthlyData {
        route,
        contract,
        month,
        addressee,
        work,
        requests,
        incidents,
        campaigns,
        consultations,
        connectivity,
    })
}

/// The draft record of a contract's month, issued on `issued_on` (the 提出日 printed).
pub async fn monthly_record(
    store: &Store,
    contract_id: i64,
    year: i32,
    month: u32,
    issued_on: NaiveDate,
) -> Result<Document> {
    let month = Month::new(year, month).ok_or_else(|| {
        DocumentError::Store(
            unyo_domain::DomainError::invalid("month", "対象月が正しくありません。").into(),
        )
    })?;
    Ok(monthly_data(store, contract_id, month)
        .await?
        .document(Edition::Draft, issued_on))
}

/// Submits the month's record as its next version, submitted on `today`: the document is made from the
/// data of this moment, rendered as PDF and XLSX, and stored with its SHA-256 and its source rows. The
/// permission is checked before anything is rendered (and again by the store).
pub async fn submit_monthly(
    store: &Store,
    actor: &Actor,
    contract_id: i64,
    month: Month,
    today: NaiveDate,
) -> Result<MonthlyRecord> {
    actor.require(Action::PrepareRecords)?;
    let version = store.next_record_version(contract_id, month).await?;
    let data = monthly_data(store, contract_id, month).await?;
    let doc = data.document(Edition::Version(version), today);
    let model = model_json(&doc)?;
    let pdf = render_blocking(doc.clone(), Format::Pdf).await?;
    let xlsx = render_blocking(doc, Format::Xlsx).await?;
    let sources = data.sources();
    Ok(store
        .submit_monthly_record(
            actor,
            &Submission {
                contract_id,
                month,
                version,
                submitted_on: today,
                pdf: &pdf,
                xlsx: &xlsx,
                sources: &sources,
                model: &model,
            },
        )
        .await?)
}

fn model_json(doc: &Document) -> Result<String> {
    serde_json::to_string(doc)
        .map_err(|e| DocumentError::Store(StoreError::Internal(e.to_string())))
}

fn stale(message: &str) -> DocumentError {
    DocumentError::Store(unyo_domain::DomainError::Conflict(message.to_string()).into())
}

/// The document of a record's latest frozen version, as its files show it: the kept model, or for a
/// version submitted before models were kept, the document made again from the data — only while the data
/// is what was submitted (else `None`).
pub async fn frozen_document(store: &Store, record: &MonthlyRecord) -> Result<Option<Document>> {
    let model = store
        .record_model(record.id, record.current_version)
        .await?;
    if !model.is_empty() {
        let doc: Document = serde_json::from_str(&model)
            .map_err(|e| DocumentError::Store(StoreError::Internal(e.to_string())))?;
        return Ok(Some(doc));
    }
    if !changes_since_submission(store, record).await?.is_empty() {
        return Ok(None);
    }
    let Some(latest) = record.latest() else {
        return Ok(None);
    };
    let submitted_on =
        stored_date(&latest.submitted_on).unwrap_or_else(|| record.month().due_date());
    let mut data = monthly_data(store, record.contract_id, record.month()).await?;
    data.route = record.route.clone();
    let mut doc = data.document(Edition::Version(latest.version), submitted_on);
    relabel(&mut doc, &record.version_label(latest));
    fill_columns(&mut doc, record, None);
    Ok(Some(doc))
}

/// Sets the edition label (「版」 and the footer) of a frozen document.
fn relabel(doc: &mut Document, label: &str) {
    let old = doc
        .meta
        .iter()
        .find(|(k, _)| k == "版")
        .map(|(_, v)| v.clone());
    if let Some(old) = old {
        for (k, v) in &mut doc.meta {
            if k == "版" {
                v.clone_from(&label.to_string());
            }
        }
        if let Some(f) = &mut doc.footer_note {
            *f = f.replacen(&old, label, 1);
        }
    }
}

/// Fills the prefecture's columns of a frozen document: every step the record's latest submission has
/// confirmed, and `next` (name and date) for the step being confirmed now.
fn fill_columns(doc: &mut Document, record: &MonthlyRecord, next: Option<(&str, NaiveDate)>) {
    let Some(approval) = &mut doc.approval else {
        return;
    };
    // Column 0 is the contractor's (作成者); the route's columns follow in order.
    let mut filled: Vec<(String, NaiveDate)> = record
        .confirmations()
        .iter()
        .map(|a| {
            (
                a.decided_by_name.clone(),
                stored_date(&a.decided_on).unwrap_or_default(),
            )
        })
        .collect();
    if let Some((name, on)) = next {
        filled.push((name.to_string(), on));
    }
    for (i, s) in record.route.iter().enumerate() {
        let (name, date) = filled
            .get(i)
            .map_or((None, None), |(n, d)| (Some(n.clone()), Some(*d)));
        let column = ApprovalColumn {
            role: s.label.clone(),
            name,
            date,
        };
        match approval.columns.get_mut(i + 1) {
            Some(c) => *c = column,
            None => approval.columns.push(column),
        }
    }
}

/// Confirms the route's next step of a submitted record on `today` as `actor`: the latest frozen document
/// is rendered again with that step's 確認欄 column filled (the person's display name and the date) and
/// stored as the next version (「第3版（係長確認済）」), with its SHA-256. The last step makes the record
/// 確認済. The permission is checked before anything is rendered (and again, with the route's rules, by
/// the store).
pub async fn confirm_monthly(
    store: &Store,
    actor: &Actor,
    record_id: i64,
    today: NaiveDate,
) -> Result<MonthlyRecord> {
    actor.require(Action::ConfirmRecords)?;
    let record = store.monthly_record(record_id).await?;
    let Some((step, _)) = record.next_step() else {
        // Let the store say why (confirmed, returned or nothing submitted).
        unyo_domain::records::next_status(
            Some(record.status()),
            unyo_domain::records::RecordAction::Confirm,
        )
        .map_err(|e| DocumentError::Store(e.into()))?;
        return Err(stale(unyo_store::records::RECORD_STALE_MESSAGE));
    };
    let Some(mut doc) = frozen_document(store, &record).await? else {
        return Err(stale(
            "この版は提出後に元のデータが変更されたため、確認欄を記入した版を作成できません。差し戻して新しい版を提出してもらってください。",
        ));
    };
    let name = match actor.user_id {
        Some(id) => store
            .user(id)
            .await?
            .map_or_else(|| actor.username.clone(), |u| u.display_name),
        None => actor.username.clone(),
    };
    let version = record.current_version + 1;
    let label = version_label(version, step, &record.route);
    relabel(&mut doc, &label);
    fill_columns(&mut doc, &record, Some((&name, today)));
    let model = model_json(&doc)?;
    let pdf = render_blocking(doc.clone(), Format::Pdf).await?;
    let xlsx = render_blocking(doc, Format::Xlsx).await?;
    Ok(store
        .confirm_monthly_record_step(
            actor,
            &StepConfirmation {
                record_id,
                step: i64::try_from(step).unwrap_or(i64::MAX),
                version,
                on: today,
                pdf: &pdf,
                xlsx: &xlsx,
                model: &model,
            },
        )
        .await?)
}

/// Whether a month's record is frozen (submitted, being confirmed, or confirmed): what its page shows and
/// downloads is then the latest frozen version, not a draft.
pub fn is_frozen(record: Option<&MonthlyRecord>) -> bool {
    record.is_some_and(|r| r.status() != RecordStatus::Returned)
}

/// What changed in the data since the record's latest version was submitted (empty: nothing).
pub async fn changes_since_submission(
    store: &Store,
    record: &MonthlyRecord,
) -> Result<Vec<SourceChange>> {
    let frozen = store
        .record_sources(record.id, record.current_version)
        .await?;
    let now = monthly_data(store, record.contract_id, record.month())
        .await?
        .sources();
    Ok(compare_sources(&frozen, &now))
}

// ------------------------------------------------------------------------------------------------ cells

fn clause_mark(code: &str) -> &'static str {
    Clause::parse(code).map_or("", Clause::mark)
}

fn category_label(code: &str) -> String {
    Category::parse(code).map_or_else(|| code.to_string(), |c| c.label_ja().to_string())
}

fn work_place(w: &WorkRow) -> String {
    let mut parts = Vec::new();
    parts.push(
        w.site_name
            .clone()
            .unwrap_or_else(|| "（拠点指定なし）".into()),
    );
    if !w.terminals.is_empty() {
        parts.push(w.terminals.clone());
    }
    if let Some(m) = WorkMode::parse(&w.mode) {
        parts.push(format!("（{}）", m.label_ja()));
    }
    parts.join("\n")
}

fn work_content(w: &WorkRow) -> String {
    match &w.request_number {
        Some(n) => format!("{}\n［支援要請 {n}］", w.description),
        None => w.description.clone(),
    }
}

fn work_result(w: &WorkRow) -> String {
    if w.follow_up.trim().is_empty() {
        w.result.clone()
    } else {
        format!("{}\n今後の対応: {}", w.result, w.follow_up)
    }
}

fn work_date(w: &WorkRow) -> String {
    stored_date(&w.work_date).map_or_else(|| w.work_date.clone(), month_day_weekday)
}

fn work_time(w: &WorkRow) -> String {
    format!("{}～{}", w.start_time, w.end_time)
}

fn severity_label(code: &str) -> String {
    Severity::parse(code).map_or_else(|| code.to_string(), |s| s.label_ja().to_string())
}

fn stage_label(code: &str) -> String {
    IncidentStage::parse(code).map_or_else(|| code.to_string(), |s| s.label_ja().to_string())
}

fn campaign_status(c: &Campaign) -> &'static str {
    if c.is_open() { "実施中" } else { "完了" }
}

fn digest(kind: SourceKind, id: i64, fields: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(kind.code().as_bytes());
    h.update([0x1f]);
    h.update(id.to_string().as_bytes());
    for (k, v) in fields {
        h.update([0x1e]);
        h.update(k.as_bytes());
        h.update([0x1f]);
        h.update(v.as_bytes());
    }
    hex::encode(h.finalize())
}

fn source(
    kind: SourceKind,
    id: i64,
    label: String,
    updated_at: &str,
    fields: Vec<(&str, String)>,
) -> SourceRow {
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    SourceRow {
        kind: kind.code().to_string(),
        id,
        label,
        updated_at: updated_at.to_string(),
        digest: digest(kind, id, &fields),
        fields,
    }
}

/// Landscape A4 text width is 267 mm; the work table's columns add up to 266 mm.
const WORK_COLUMNS: [(&str, f64); 9] = [
    ("No.", 9.0),
    ("日付", 24.0),
    ("時間", 30.0),
    ("時間数", 14.0),
    ("場所・端末", 38.0),
    ("区分", 10.0),
    ("内容", 67.0),
    ("結果", 50.0),
    ("作業者", 24.0),
];

impl MonthlyData {
    /// Total minutes of the month's work.
    pub fn total_minutes(&self) -> i64 {
        self.work.iter().map(|w| w.minutes).sum()
    }

    fn work_fields(w: &WorkRow) -> Vec<(&'static str, String)> {
        vec![
            ("日付", work_date(w)),
            ("時間", work_time(w)),
            ("時間数", unyo_report::format_number(hours(w.minutes), 2)),
            ("場所・端末", work_place(w)),
            ("区分", clause_mark(&w.clause).to_string()),
            ("内容", work_content(w)),
            ("結果", work_result(w)),
            ("作業者", w.workers.clone()),
        ]
    }

    fn request_work(&self, id: i64) -> (usize, i64) {
        let mine: Vec<&WorkRow> = self
            .work
            .iter()
            .filter(|w| w.request_id == Some(id))
            .collect();
        (mine.len(), mine.iter().map(|w| w.minutes).sum())
    }

    fn request_fields(&self, r: &RequestRow) -> Vec<(&'static str, String)> {
        let (n, minutes) = self.request_work(r.id);
        vec![
            ("要請番号", r.number.clone()),
            ("要請日", wareki(&r.filed_on)),
            ("件名", r.title.clone()),
            ("作業種別", category_label(&r.category)),
            ("当月の作業件数", n.to_string()),
            (
                "当月の作業時間",
                unyo_report::format_number(hours(minutes), 2),
            ),
        ]
    }

    fn incident_fields(i: &IncidentRow) -> Vec<(&'static str, String)> {
        vec![
            ("障害番号", i.number.clone()),
            ("件名", i.title.clone()),
            ("重大度", severity_label(&i.severity)),
            ("拠点", i.sites.clone()),
            ("発生", jst_short_opt(&Some(i.occurred_at.clone()))),
            ("認知", jst_short_opt(&Some(i.noticed_at.clone()))),
            ("初動", jst_short_opt(&i.first_response_at)),
            ("復旧", jst_short_opt(&i.recovered_at)),
            ("完了", jst_short_opt(&i.closed_at)),
            ("段階", stage_label(&i.stage)),
            ("立会い", if i.witnessed() { "済" } else { "―" }.to_string()),
            ("復旧時間", duration(i.mttr_minutes)),
        ]
    }

    fn campaign_fields(c: &Campaign, a: &CampaignActivity) -> Vec<(&'static str, String)> {
        vec![
            ("番号", c.number.clone()),
            ("件名", c.title.clone()),
            ("目標", c.goal_summary.clone()),
            ("対象台数", c.progress.total.to_string()),
            ("当月実施済", a.done.to_string()),
            ("当月失敗", a.failed.to_string()),
            ("当月対象外", a.excluded.to_string()),
            (
                "累計実施済",
                format!("{}/{}", c.progress.done, c.progress.total),
            ),
            ("状態", campaign_status(c).to_string()),
        ]
    }

    fn connectivity_fields(name: &str, m: &SiteMonth) -> Vec<(&'static str, String)> {
        vec![
            ("拠点", name.to_string()),
            ("正常", m.up.to_string()),
            ("低下", m.degraded.to_string()),
            ("停止", m.down.to_string()),
            ("保守中", m.maintenance.to_string()),
            (
                "停止時間",
                crate::text::duration(m.availability.map(|_| m.down_minutes)),
            ),
            (
                "稼働率",
                m.availability.map_or_else(
                    || "―".to_string(),
                    |a| format!("{}%", unyo_report::format_number(a, 2)),
                ),
            ),
        ]
    }

    fn consultation_fields(k: &Consultation) -> Vec<(&'static str, String)> {
        vec![
            ("協議日", wareki(&k.held_on)),
            ("出席者", k.participants.clone()),
            ("協議事項", k.topic.clone()),
            ("協議結果", k.agreed.clone()),
            (
                "関連する支援要請",
                k.requests
                    .iter()
                    .map(|r| r.number.clone())
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
        ]
    }

    fn contract_fields(&self) -> Vec<(&'static str, String)> {
        let c = &self.contract;
        vec![
            ("業務名", c.name.clone()),
            ("契約番号", c.number.clone()),
            ("契約期間", term(&c.term_start, &c.term_end)),
            ("受託者", c.contractor.clone()),
            ("作業責任者", c.manager.clone()),
        ]
    }

    /// The rows the document is made from, with the fields it shows (kept with a submission).
    pub fn sources(&self) -> Vec<SourceRow> {
        let mut out = Vec::new();
        let c = &self.contract;
        out.push(source(
            SourceKind::Contract,
            c.id,
            format!("{}（{}）", c.name, c.number),
            &c.updated_at,
            self.contract_fields(),
        ));
        for w in &self.work {
            out.push(source(
                SourceKind::Work,
                w.id,
                format!(
                    "{} {} {}",
                    work_date(w),
                    work_time(w),
                    w.description.lines().next().unwrap_or("")
                ),
                &w.updated_at,
                Self::work_fields(w),
            ));
        }
        for r in &self.requests {
            out.push(source(
                SourceKind::Request,
                r.id,
                format!("{} {}", r.number, r.title),
                &r.updated_at,
                self.request_fields(r),
            ));
        }
        for i in &self.incidents {
            out.push(source(
                SourceKind::Incident,
                i.id,
                format!("{} {}", i.number, i.title),
                &i.updated_at,
                Self::incident_fields(i),
            ));
        }
        for (c, a) in &self.campaigns {
            out.push(source(
                SourceKind::Campaign,
                c.id,
                format!("{} {}", c.number, c.title),
                &c.updated_at,
                Self::campaign_fields(c, a),
            ));
        }
        for (_, name, m) in &self.connectivity {
            out.push(source(
                SourceKind::Connectivity,
                m.site_id,
                format!("{name} {}", self.month.label()),
                "",
                Self::connectivity_fields(name, m),
            ));
        }
        for k in &self.consultations {
            out.push(source(
                SourceKind::Consultation,
                k.id,
                format!("{} {}", wareki(&k.held_on), k.topic),
                &k.created_at,
                Self::consultation_fields(k),
            ));
        }
        out
    }

    /// The document: A4 landscape, the header block, seven sections and the approval columns.
    pub fn document(&self, edition: Edition, issued_on: NaiveDate) -> Document {
        let c = &self.contract;
        let month_label = self.month.label();
        let mut doc = Document::new("業務実績簿");
        doc.subtitle = Some(format!("{month_label}分"));
        doc.addressee = vec![self.addressee.clone()];
        doc.org_lines = vec![
            format!("受託者　{}", c.contractor),
            format!("作業責任者　{}", c.manager),
        ];
        doc.issued_on = Some(issued_on);
        doc.issued_label = "提出日".into();
        doc.meta = vec![
            ("業務名".into(), c.name.clone()),
            ("契約番号".into(), c.number.clone()),
            ("契約期間".into(), term(&c.term_start, &c.term_end)),
            (
                "対象月".into(),
                format!(
                    "{month_label}（{}～{}）",
                    format_long(self.month.first_day()),
                    format_long(self.month.last_day())
                ),
            ),
            ("提出日".into(), format_long(issued_on)),
            ("版".into(), edition.label()),
        ];
        doc.author = Some(c.contractor.clone());
        doc.landscape = true;
        doc.footer_note = Some(format!(
            "業務実績簿 {month_label}分 {}　契約番号 {}",
            edition.label(),
            c.number
        ));
        doc.sections = vec![
            self.work_section(),
            self.totals_section(),
            self.requests_section(),
            self.incidents_section(),
            self.campaigns_section(),
            self.connectivity_section(),
            self.consultations_section(),
        ];
        doc.approval = Some(Approval {
            title: Some("確認欄".into()),
            columns: std::iter::once(ApprovalColumn::signed(
                "作成者（受託者）",
                c.manager.clone(),
                issued_on,
            ))
            .chain(
                self.route
                    .iter()
                    .map(|s| ApprovalColumn::new(s.label.clone())),
            )
            .collect(),
            seal_boxes: true,
        });
        doc
    }

    fn work_section(&self) -> Section {
        let mut t = Table::new(
            WORK_COLUMNS
                .iter()
                .map(|(label, w)| match *label {
                    "No." | "時間数" => Column::right(*label, *w),
                    "区分" => Column::center(*label, *w),
                    _ => Column::left(*label, *w),
                })
                .collect(),
        );
        for (i, w) in self.work.iter().enumerate() {
            t.rows.push(vec![
                Cell::from(i + 1),
                Cell::text(work_date(w)),
                Cell::text(work_time(w)),
                Cell::Number(hours(w.minutes), 2),
                Cell::text(work_place(w)),
                Cell::text(clause_mark(&w.clause)),
                Cell::text(work_content(w)),
                Cell::text(work_result(w)),
                Cell::text(w.workers.clone()),
            ]);
        }
        t.totals = Some(vec![
            Cell::Empty,
            Cell::text("合計"),
            Cell::text(format!("{}件", self.work.len())),
            Cell::Number(hours(self.total_minutes()), 2),
        ]);
        t.empty_text = Some("当月の作業はありません。".into());
        Section::new("1. 作業実績")
            .sheet("作業実績")
            .push(Block::Paragraph(format!(
                "{}に実施した作業は次のとおりです。区分は仕様書1(6)の①～⑤（①代表端末に係る運用支援、②業務端末に係る運用支援、③その他の運用支援、④審議会に係る支援、⑤障害発生時の緊急対応）によります。時間数の単位は時間です。",
                self.month.label()
            )))
            .push(Block::Table(t))
    }

    fn totals_section(&self) -> Section {
        let mut by_clause = Table::new(vec![
            Column::left("区分", 70.0),
            Column::right("件数", 20.0),
            Column::right("時間数", 24.0),
        ])
        .caption("区分別（仕様書1(6)①～⑤）");
        for clause in Clause::ALL {
            let mine: Vec<&WorkRow> = self
                .work
                .iter()
                .filter(|w| w.clause == clause.code())
                .collect();
            by_clause.rows.push(vec![
                Cell::text(clause.label_ja()),
                Cell::from(mine.len()),
                Cell::Number(hours(mine.iter().map(|w| w.minutes).sum()), 2),
            ]);
        }
        by_clause.totals = Some(vec![
            Cell::text("合計"),
            Cell::from(self.work.len()),
            Cell::Number(hours(self.total_minutes()), 2),
        ]);

        let mut by_category = Table::new(vec![
            Column::left("作業種別", 70.0),
            Column::right("件数", 20.0),
            Column::right("時間数", 24.0),
        ])
        .caption("作業種別");
        for cat in Category::ALL {
            let mine: Vec<&WorkRow> = self
                .work
                .iter()
                .filter(|w| w.category == cat.code())
                .collect();
            if mine.is_empty() {
                continue;
            }
            by_category.rows.push(vec![
                Cell::text(cat.label_ja()),
                Cell::from(mine.len()),
                Cell::Number(hours(mine.iter().map(|w| w.minutes).sum()), 2),
            ]);
        }
        by_category.totals = by_clause.totals.clone();

        // Per worker: an entry done by two people counts for each.
        let mut workers: BTreeMap<String, (usize, i64)> = BTreeMap::new();
        for w in &self.work {
            for name in w.workers.split('、').filter(|n| !n.is_empty()) {
                let e = workers.entry(name.to_string()).or_default();
                e.0 += 1;
                e.1 += w.minutes;
            }
        }
        let mut by_worker = Table::new(vec![
            Column::left("作業者", 70.0),
            Column::right("件数", 20.0),
            Column::right("時間数", 24.0),
        ])
        .caption("作業者別（複数名で行った作業は各作業者に計上）");
        for (name, (n, minutes)) in &workers {
            by_worker.rows.push(vec![
                Cell::text(name.clone()),
                Cell::from(*n),
                Cell::Number(hours(*minutes), 2),
            ]);
        }
        let mut by_mode = Table::new(vec![
            Column::left("作業形態", 70.0),
            Column::right("件数", 20.0),
            Column::right("時間数", 24.0),
        ])
        .caption("作業形態別");
        for mode in WorkMode::ALL {
            let mine: Vec<&WorkRow> = self.work.iter().filter(|w| w.mode == mode.code()).collect();
            by_mode.rows.push(vec![
                Cell::text(mode.label_ja()),
                Cell::from(mine.len()),
                Cell::Number(hours(mine.iter().map(|w| w.minutes).sum()), 2),
            ]);
        }
        Section::new("2. 区分別集計")
            .sheet("区分別集計")
            .push(Block::Table(by_clause))
            .push(Block::Table(by_category))
            .push(Block::Table(by_mode))
            .push(Block::Table(by_worker))
    }

    fn requests_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("要請番号", 24.0),
            Column::left("要請日", 34.0),
            Column::left("件名", 100.0),
            Column::left("区分", 52.0),
            Column::right("当月作業件数", 27.0),
            Column::right("当月作業時間", 27.0),
        ]);
        for r in &self.requests {
            let (n, minutes) = self.request_work(r.id);
            t.rows.push(vec![
                Cell::text(r.number.clone()),
                Cell::text(wareki(&r.filed_on)),
                Cell::text(r.title.clone()),
                Cell::text(category_label(&r.category)),
                Cell::from(n),
                Cell::Number(hours(minutes), 2),
            ]);
        }
        Section::new("3. 支援要請への対応")
            .sheet("支援要請")
            .push(Block::Paragraph(
                "当月に県から受けた支援要請と、当月の作業で対応した支援要請です。".into(),
            ))
            .push(Block::Table(t))
    }

    fn incidents_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("障害番号", 25.0),
            Column::left("件名", 44.0),
            Column::center("重大度", 15.0),
            Column::left("拠点", 28.0),
            Column::left("発生", 21.0),
            Column::left("認知", 21.0),
            Column::left("初動", 21.0),
            Column::left("復旧", 21.0),
            Column::left("完了", 21.0),
            Column::center("段階", 16.0),
            Column::center("立会い", 15.0),
            Column::right("復旧時間", 19.0),
        ]);
        for i in &self.incidents {
            t.rows.push(
                Self::incident_fields(i)
                    .into_iter()
                    .map(|(_, v)| Cell::Text(v))
                    .collect(),
            );
        }
        t.empty_text = Some("該当なし（当月に対応した障害はありません）".into());
        Section::new("4. 障害対応（仕様書1(6)⑤）")
            .sheet("障害対応")
            .push(Block::Paragraph(
                "当月に発生した障害、及び前月以前に発生し当月も対応中であった障害です。段階は作成時点のもの、時刻は日本時間です。復旧時間は発生から復旧までの時間です。".into(),
            ))
            .push(Block::Table(t))
    }

    fn campaigns_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("番号", 22.0),
            Column::left("件名", 62.0),
            Column::left("目標", 54.0),
            Column::right("対象台数", 18.0),
            Column::right("当月実施済", 22.0),
            Column::right("当月失敗", 18.0),
            Column::right("当月対象外", 22.0),
            Column::right("累計実施済", 22.0),
            Column::center("状態", 16.0),
        ]);
        for (c, a) in &self.campaigns {
            t.rows.push(vec![
                Cell::text(c.number.clone()),
                Cell::text(c.title.clone()),
                Cell::text(c.goal_summary.clone()),
                Cell::Integer(c.progress.total),
                Cell::Integer(a.done),
                Cell::Integer(a.failed),
                Cell::Integer(a.excluded),
                Cell::text(format!("{}/{}", c.progress.done, c.progress.total)),
                Cell::text(campaign_status(c)),
            ]);
        }
        t.empty_text = Some("該当なし（当月に実施した展開はありません）".into());
        Section::new("5. 更新作業の展開状況")
            .sheet("展開")
            .push(Block::Paragraph(
                "ウイルス対策ソフト・業務アプリケーション・OS更新の展開（端末ごとの実施状況）です。累計は作成時点のものです。".into(),
            ))
            .push(Block::Table(t))
    }

    fn connectivity_section(&self) -> Section {
        let checks = self
            .work
            .iter()
            .filter(|w| w.category == Category::ConnectivityCheck.code())
            .count();
        let mut t = Table::new(vec![
            Column::left("拠点", 66.0),
            Column::right("正常（回）", 27.0),
            Column::right("低下（回）", 27.0),
            Column::right("停止（回）", 27.0),
            Column::right("保守中（回）", 29.0),
            Column::right("停止時間", 32.0),
            Column::right("稼働率", 28.0),
        ]);
        for (_, name, m) in &self.connectivity {
            t.rows.push(vec![
                Cell::text(name.clone()),
                Cell::Integer(m.up),
                Cell::Integer(m.degraded),
                Cell::Integer(m.down),
                Cell::Integer(m.maintenance),
                Cell::text(crate::text::duration(
                    m.availability.map(|_| m.down_minutes),
                )),
                m.availability
                    .map_or_else(|| Cell::text("―"), |a| Cell::Percent(a / 100.0, 2)),
            ]);
        }
        t.empty_text = Some("該当なし（疎通監視は未導入）".into());
        let text = if self.connectivity.is_empty() {
            format!(
                "疎通確認の自動監視の記録がないため、監視結果の集計は該当なしです。当月に実施した疎通確認支援の作業は{checks}件で、「1. 作業実績」に記載しています。"
            )
        } else {
            format!(
                "疎通確認の自動監視による拠点別の確認結果です。回数は当月の確認の結果を状態別に数えたものです。停止時間は拠点のいずれかの確認が保守時間帯の外で停止していた時間の合計、稼働率は監視時間のうち停止していなかった時間の割合で、疎通確認の画面および年次の審議会資料と同じ算定です。当月に実施した疎通確認支援の作業は{checks}件で、「1. 作業実績」に記載しています。"
            )
        };
        Section::new("6. 疎通確認の結果")
            .sheet("疎通確認")
            .push(Block::Paragraph(text))
            .push(Block::Table(t))
    }

    fn consultations_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("協議日", 30.0),
            Column::left("出席者", 50.0),
            Column::left("協議事項", 55.0),
            Column::left("協議結果", 102.0),
            Column::left("関連する支援要請", 26.0),
        ]);
        for k in &self.consultations {
            t.rows.push(
                Self::consultation_fields(k)
                    .into_iter()
                    .map(|(_, v)| Cell::Text(v))
                    .collect(),
            );
        }
        t.empty_text = Some("該当なし（当月の協議はありません）".into());
        Section::new("7. 協議記録")
            .sheet("協議記録")
            .push(Block::Table(t))
    }
}
